//! The worker's bounds in this instance, decided in memory without I/O: each endpoint's
//! attempts outstanding (claimed and not yet recorded) within its cap, each tenant's
//! within the tenant's, the turns of an endpoint's optional rate limit, and the fair
//! order deliveries are taken in (round robin between tenants, and between each
//! tenant's endpoints), so that no tenant's backlog holds up another's deliveries.
//!
//! A delivery whose endpoint's next turn is further off than [`TURN_HORIZON`] is not
//! claimed at all: it stays in the queue, and the scan takes it when the turn comes. One
//! claimed within the horizon waits for its turn before it takes a slot of the worker.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use gatehouse_model::{DeliveryId, TenantId, WebhookEndpointId};

use super::Claimed;
use crate::webhooks::WebhookRuntime;
use crate::webhooks::events::QueuedDelivery;

/// How far off an endpoint's rate-limit turn may be for a delivery to it to be claimed.
const TURN_HORIZON: Duration = Duration::from_millis(200);
/// The shortest wait before a scan woken for endpoints' turns (turns that fall close
/// together are taken by one scan).
const MIN_WAIT_FOR_TURNS: Duration = Duration::from_millis(100);
/// Endpoints, and tenants, named in a scan's exclusion lists at most.
const MAX_EXCLUDED: usize = 500;

/// The caps admission keeps to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Caps {
    /// Attempts outstanding to one endpoint at most.
    pub per_endpoint: usize,
    /// Attempts outstanding for one tenant at most.
    pub per_tenant: usize,
}

/// One endpoint's state in this instance.
#[derive(Debug)]
struct EndpointGate {
    tenant_id: TenantId,
    outstanding: usize,
    /// When its rate limit lets it send next.
    next_turn: Instant,
    /// Whether deliveries to it were held back for its turn (the scan looks again then).
    waiting: bool,
}

impl EndpointGate {
    fn new(tenant_id: TenantId, now: Instant) -> Self {
        Self {
            tenant_id,
            outstanding: 0,
            next_turn: now,
            waiting: false,
        }
    }
}

/// The gates of every endpoint this instance sends to, and each tenant's outstanding
/// attempts.
#[derive(Debug, Default)]
pub(crate) struct Gates {
    endpoints: HashMap<WebhookEndpointId, EndpointGate>,
    tenants: HashMap<TenantId, usize>,
    /// When a scan last ranked the queue fairly.
    last_fair_ranking: Option<Instant>,
}

/// A delivery admitted for a claim and counted as outstanding, and the turn it waits
/// for before it is sent (`None`: at once).
#[derive(Debug)]
pub(super) struct Admitted {
    pub delivery: QueuedDelivery,
    pub send_at: Option<Instant>,
}

/// What admission made of a list of candidates.
#[derive(Debug, Default)]
pub(super) struct Admission {
    pub admitted: Vec<Admitted>,
    /// Beyond a cap or the batch: taken when recorded attempts free room.
    pub deferred: Vec<QueuedDelivery>,
    /// Held back for their endpoint's turn: the scan takes them when it comes.
    pub held: Vec<QueuedDelivery>,
    /// Whether some tenant reached its cap (its rest waits in the queue).
    pub filled_a_tenant: bool,
}

/// What a scan of the queue leaves out: endpoints at their cap or whose turn is
/// further off than the horizon, and tenants at their cap.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Blocked {
    pub endpoints: Vec<WebhookEndpointId>,
    pub tenants: Vec<TenantId>,
}

impl Gates {
    fn gate(
        &mut self,
        tenant_id: &TenantId,
        endpoint_id: &WebhookEndpointId,
        now: Instant,
    ) -> &mut EndpointGate {
        // Looked up before it is inserted: no id is copied for a gate that exists.
        if !self.endpoints.contains_key(endpoint_id) {
            let gate = EndpointGate::new(tenant_id.clone(), now);
            self.endpoints.insert(endpoint_id.clone(), gate);
        }
        self.endpoints
            .get_mut(endpoint_id)
            .expect("the gate was just inserted")
    }

    /// Counts one attempt as outstanding.
    fn count(&mut self, tenant_id: &TenantId, endpoint_id: &WebhookEndpointId, now: Instant) {
        self.gate(tenant_id, endpoint_id, now).outstanding += 1;
        match self.tenants.get_mut(tenant_id) {
            Some(outstanding) => *outstanding += 1,
            None => {
                self.tenants.insert(tenant_id.clone(), 1);
            }
        }
    }

    /// An attempt is no longer outstanding (recorded, or not claimed after all).
    fn release(&mut self, tenant_id: &TenantId, endpoint_id: &WebhookEndpointId) {
        if let Some(gate) = self.endpoints.get_mut(endpoint_id) {
            gate.outstanding = gate.outstanding.saturating_sub(1);
        }
        if let Some(outstanding) = self.tenants.get_mut(tenant_id) {
            *outstanding = outstanding.saturating_sub(1);
            if *outstanding == 0 {
                self.tenants.remove(tenant_id);
            }
        }
    }

    /// Admits up to `limit` deliveries from `queue`, taking them in its fair order:
    /// none beyond its endpoint's or its tenant's cap, none before its endpoint's turn is
    /// within the horizon (those leave the queue as `held`: the scan takes them at the
    /// turn). What cannot be admitted now stays in the queue, in its place. The admitted
    /// are counted as outstanding and their endpoints' turns taken. The work is what is
    /// admitted and the lines passed over, never the whole queue.
    fn admit(
        &mut self,
        queue: &mut FairQueue,
        limit: usize,
        caps: Caps,
        now: Instant,
    ) -> Admission {
        let mut admission = Admission::default();
        // Tenants that can take nothing now: out of this round, back in their place after.
        let mut passed_over = Vec::new();
        while admission.admitted.len() < limit {
            let Some(tenant_id) = queue.turns.pop_front() else {
                break;
            };
            let tenant_outstanding = self.tenants.get(&tenant_id).copied().unwrap_or(0);
            if tenant_outstanding >= caps.per_tenant {
                passed_over.push(tenant_id);
                continue;
            }
            let line = queue
                .tenants
                .get_mut(&tenant_id)
                .expect("a tenant in turn has a line");
            let taken = self.take_from(line, &mut queue.len, &mut admission.held, caps, now);
            let line_is_empty = line.turns.is_empty();
            if let Some(admitted) = taken {
                self.count(&tenant_id, &admitted.delivery.endpoint_id, now);
                if tenant_outstanding + 1 >= caps.per_tenant {
                    admission.filled_a_tenant = true;
                }
                admission.admitted.push(admitted);
                if !line_is_empty {
                    queue.turns.push_back(tenant_id);
                    continue;
                }
            } else if !line_is_empty {
                passed_over.push(tenant_id);
                continue;
            }
            queue.tenants.remove(&tenant_id);
        }
        for tenant_id in passed_over.into_iter().rev() {
            queue.turns.push_front(tenant_id);
        }
        admission
    }

    /// The next delivery of the first of the tenant's endpoints in turn that may send
    /// now, that endpoint going to the back of the tenant's line; endpoints at their cap
    /// keep their deliveries, endpoints whose turn is beyond the horizon give theirs up
    /// to `held`.
    fn take_from(
        &mut self,
        line: &mut TenantLine,
        queued: &mut usize,
        held: &mut Vec<QueuedDelivery>,
        caps: Caps,
        now: Instant,
    ) -> Option<Admitted> {
        for _ in 0..line.turns.len() {
            let endpoint_id = line.turns.pop_front()?;
            let deliveries = line
                .endpoints
                .get_mut(&endpoint_id)
                .expect("an endpoint in turn has deliveries");
            let first = deliveries
                .front()
                .expect("an endpoint's line is never empty");
            let gate = self.gate(&first.tenant_id, &endpoint_id, now);
            if gate.outstanding >= caps.per_endpoint {
                line.turns.push_back(endpoint_id);
                continue;
            }
            let send_at = match first.rate_limit_per_second {
                Some(_) if gate.next_turn > now + TURN_HORIZON => {
                    gate.waiting = true;
                    let given_up = line
                        .endpoints
                        .remove(&endpoint_id)
                        .expect("the endpoint's line is there");
                    *queued -= given_up.len();
                    held.extend(given_up);
                    continue;
                }
                Some(per_second) => {
                    let turn = gate.next_turn.max(now);
                    gate.next_turn = turn + spacing(per_second);
                    (turn > now).then_some(turn)
                }
                None => None,
            };
            let delivery = deliveries.pop_front().expect("checked above");
            *queued -= 1;
            if deliveries.is_empty() {
                line.endpoints.remove(&endpoint_id);
            } else {
                line.turns.push_back(endpoint_id);
            }
            return Some(Admitted { delivery, send_at });
        }
        None
    }

    /// What a scan at `now` leaves out.
    fn blocked(&self, caps: Caps, now: Instant) -> Blocked {
        let mut endpoints: Vec<WebhookEndpointId> = self
            .endpoints
            .iter()
            .filter(|(_, gate)| {
                gate.outstanding >= caps.per_endpoint || gate.next_turn > now + TURN_HORIZON
            })
            .map(|(id, _)| id.clone())
            .take(MAX_EXCLUDED)
            .collect();
        let mut tenants: Vec<TenantId> = self
            .tenants
            .iter()
            .filter(|(_, outstanding)| **outstanding >= caps.per_tenant)
            .map(|(id, _)| id.clone())
            .take(MAX_EXCLUDED)
            .collect();
        endpoints.sort();
        tenants.sort();
        Blocked { endpoints, tenants }
    }

    /// Before a scan's candidates are admitted: every endpoint the scan did not leave
    /// out has no deliveries held for its turn any more but those the scan holds again.
    fn forget_waiting_unless(&mut self, blocked: &Blocked) {
        let endpoints: HashSet<&WebhookEndpointId> = blocked.endpoints.iter().collect();
        let tenants: HashSet<&TenantId> = blocked.tenants.iter().collect();
        for (endpoint_id, gate) in &mut self.endpoints {
            if !endpoints.contains(endpoint_id) && !tenants.contains(&gate.tenant_id) {
                gate.waiting = false;
            }
        }
    }

    /// When the scan should look again for deliveries held for their endpoint's turn
    /// (not sooner than a short wait from `now`), or `None` when none are held.
    fn next_turn_to_scan(&self, now: Instant) -> Option<Instant> {
        self.endpoints
            .values()
            .filter(|gate| gate.waiting)
            .map(|gate| gate.next_turn.checked_sub(TURN_HORIZON).unwrap_or(now))
            .min()
            .map(|turn| turn.max(now + MIN_WAIT_FOR_TURNS))
    }

    /// Whether a scan at `now` should rank the queue fairly (none did for `every`);
    /// answering yes counts as the ranking.
    fn fair_ranking_due(&mut self, every: Duration, now: Instant) -> bool {
        let due = self
            .last_fair_ranking
            .is_none_or(|last| now.saturating_duration_since(last) >= every);
        if due {
            self.last_fair_ranking = Some(now);
        }
        due
    }

    /// Forgets an endpoint's gate unless attempts of it are outstanding.
    fn forget(&mut self, endpoint_id: &WebhookEndpointId) {
        if self
            .endpoints
            .get(endpoint_id)
            .is_some_and(|gate| gate.outstanding == 0)
        {
            self.endpoints.remove(endpoint_id);
        }
    }
}

/// The time between two turns at `per_second`.
fn spacing(per_second: u32) -> Duration {
    Duration::from_secs(1) / per_second.max(1)
}

/// Deliveries waiting to be admitted, kept in fair order as they come: tenants take
/// turns in the order each first came, and within a tenant its endpoints take turns;
/// each endpoint's deliveries keep their order. A tenant or an endpoint goes to the
/// back of its line after its turn and leaves it when it has nothing left.
#[derive(Debug, Default)]
pub(crate) struct FairQueue {
    /// Tenants in the order of their next turn.
    turns: VecDeque<TenantId>,
    tenants: HashMap<TenantId, TenantLine>,
    len: usize,
}

/// One tenant's endpoints in the order of their next turn, each with its deliveries
/// (never an empty list).
#[derive(Debug, Default)]
struct TenantLine {
    turns: VecDeque<WebhookEndpointId>,
    endpoints: HashMap<WebhookEndpointId, VecDeque<QueuedDelivery>>,
}

impl FairQueue {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a delivery at the back of its endpoint's line.
    pub fn push(&mut self, delivery: QueuedDelivery) {
        // Looked up before inserted: no id is copied for a line that exists.
        if !self.tenants.contains_key(&delivery.tenant_id) {
            self.turns.push_back(delivery.tenant_id.clone());
            self.tenants
                .insert(delivery.tenant_id.clone(), TenantLine::default());
        }
        let line = self
            .tenants
            .get_mut(&delivery.tenant_id)
            .expect("the line was just added");
        match line.endpoints.get_mut(&delivery.endpoint_id) {
            Some(deliveries) => deliveries.push_back(delivery),
            None => {
                line.turns.push_back(delivery.endpoint_id.clone());
                line.endpoints
                    .insert(delivery.endpoint_id.clone(), VecDeque::from([delivery]));
            }
        }
        self.len += 1;
    }

    /// The deliveries in the lines, counted one by one (what `len` must say).
    #[cfg(test)]
    fn counted(&self) -> usize {
        self.tenants
            .values()
            .flat_map(|line| line.endpoints.values())
            .map(VecDeque::len)
            .sum()
    }

    /// Takes everything out, in fair order.
    pub fn drain(&mut self) -> Vec<QueuedDelivery> {
        let mut ordered = Vec::with_capacity(self.len);
        while let Some(tenant_id) = self.turns.pop_front() {
            let line = self
                .tenants
                .get_mut(&tenant_id)
                .expect("a tenant in turn has a line");
            if let Some(endpoint_id) = line.turns.pop_front() {
                let deliveries = line
                    .endpoints
                    .get_mut(&endpoint_id)
                    .expect("an endpoint in turn has deliveries");
                ordered.extend(deliveries.pop_front());
                if deliveries.is_empty() {
                    line.endpoints.remove(&endpoint_id);
                } else {
                    line.turns.push_back(endpoint_id);
                }
            }
            if line.turns.is_empty() {
                self.tenants.remove(&tenant_id);
            } else {
                self.turns.push_back(tenant_id);
            }
        }
        self.len = 0;
        ordered
    }
}

impl FromIterator<QueuedDelivery> for FairQueue {
    fn from_iter<I: IntoIterator<Item = QueuedDelivery>>(deliveries: I) -> Self {
        let mut queue = Self::default();
        for delivery in deliveries {
            queue.push(delivery);
        }
        queue
    }
}

impl WebhookRuntime {
    fn caps(&self) -> Caps {
        let settings = &self.settings.delivery;
        Caps {
            per_endpoint: settings.max_in_flight_per_endpoint,
            per_tenant: settings.max_in_flight_per_tenant,
        }
    }

    fn gates(&self) -> std::sync::MutexGuard<'_, Gates> {
        self.gates.lock().expect("gate map lock")
    }

    /// Counts an attempt claimed without admission (the test event) as outstanding.
    pub(super) fn count_outstanding(&self, tenant_id: &TenantId, endpoint_id: &WebhookEndpointId) {
        self.gates().count(tenant_id, endpoint_id, Instant::now());
    }

    /// An attempt is no longer outstanding here.
    pub(super) fn release(&self, tenant_id: &TenantId, endpoint_id: &WebhookEndpointId) {
        self.gates().release(tenant_id, endpoint_id);
    }

    /// Admits up to `limit` of the deliveries a scan found, `blocked` being what it left
    /// out (see [`Gates::admit`]); what is not admitted is `deferred` (the rows stay in
    /// the queue). Both claimers of the worker count against the same caps, and a claim
    /// releases what it could not lease.
    pub(super) fn admit_scanned(
        &self,
        candidates: Vec<QueuedDelivery>,
        limit: usize,
        blocked: &Blocked,
    ) -> Admission {
        let mut queue: FairQueue = candidates.into_iter().collect();
        let mut gates = self.gates();
        gates.forget_waiting_unless(blocked);
        let mut admission = gates.admit(&mut queue, limit, self.caps(), Instant::now());
        admission.deferred = queue.drain();
        admission
    }

    /// Admits up to `limit` of the deliveries handed over by this instance's changes;
    /// what is not admitted stays in the handoff, in its place.
    pub(super) fn admit_handed(&self, limit: usize) -> Admission {
        let mut handoff = self.handoff.lock().expect("handoff lock");
        if handoff.is_empty() {
            return Admission::default();
        }
        self.gates()
            .admit(&mut handoff, limit, self.caps(), Instant::now())
    }

    /// Whether a scan should rank the queue fairly now (see [`Gates::fair_ranking_due`]).
    pub(super) fn fair_ranking_due(&self, every: Duration) -> bool {
        self.gates().fair_ranking_due(every, Instant::now())
    }

    /// What a scan now leaves out.
    pub(super) fn blocked(&self) -> Blocked {
        self.gates().blocked(self.caps(), Instant::now())
    }

    /// When the scan should look again for deliveries held for their endpoint's turn.
    pub(super) fn next_turn_to_scan(&self) -> Option<Instant> {
        self.gates().next_turn_to_scan(Instant::now())
    }

    /// Releases the admitted deliveries that were not leased.
    pub(super) fn release_unclaimed(&self, admitted: &[Admitted], claimed: &[Claimed]) {
        let leased: HashSet<&DeliveryId> = claimed.iter().map(|job| &job.delivery_id).collect();
        let mut gates = self.gates();
        for Admitted { delivery, .. } in admitted {
            if !leased.contains(&delivery.delivery_id) {
                gates.release(&delivery.tenant_id, &delivery.endpoint_id);
            }
        }
    }

    /// Forgets an endpoint's gate (its rate may have changed, or it is gone).
    pub(crate) fn forget_gate(&self, endpoint_id: &WebhookEndpointId) {
        self.gates().forget(endpoint_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPS: Caps = Caps {
        per_endpoint: 2,
        per_tenant: 3,
    };

    fn tenant(n: u8) -> TenantId {
        TenantId::from_body(&format!("{n:0>26}"))
    }

    fn endpoint(n: u8) -> WebhookEndpointId {
        WebhookEndpointId::from_body(&format!("{n:0>26}"))
    }

    /// A delivery of tenant `t` to endpoint `e`, numbered `n`.
    fn delivery(t: u8, e: u8, n: u8) -> QueuedDelivery {
        QueuedDelivery {
            delivery_id: DeliveryId::from_body(&format!("{t}{e:0>3}{n:0>22}")),
            tenant_id: tenant(t),
            endpoint_id: endpoint(e),
            rate_limit_per_second: None,
            body: None,
        }
    }

    fn names(deliveries: &[QueuedDelivery]) -> Vec<(u8, u8)> {
        deliveries
            .iter()
            .map(|delivery| {
                let body = &delivery.delivery_id.as_str()[4..];
                (body[..1].parse().unwrap(), body[1..4].parse().unwrap())
            })
            .collect()
    }

    /// Admits from a queue of `candidates`; what is left is `deferred`.
    fn admit(
        gates: &mut Gates,
        candidates: Vec<QueuedDelivery>,
        limit: usize,
        caps: Caps,
        now: Instant,
    ) -> Admission {
        let mut queue: FairQueue = candidates.into_iter().collect();
        let mut admission = gates.admit(&mut queue, limit, caps, now);
        assert_eq!(queue.len(), queue.counted());
        admission.deferred = queue.drain();
        admission
    }

    fn admitted(admission: &Admission) -> Vec<(u8, u8)> {
        let deliveries: Vec<QueuedDelivery> = admission
            .admitted
            .iter()
            .map(|admitted| admitted.delivery.clone())
            .collect();
        names(&deliveries)
    }

    #[test]
    fn a_fair_ranking_is_due_at_most_once_a_period() {
        let mut gates = Gates::default();
        let now = Instant::now();
        let every = Duration::from_millis(250);
        assert!(gates.fair_ranking_due(every, now));
        assert!(!gates.fair_ranking_due(every, now + Duration::from_millis(100)));
        assert!(gates.fair_ranking_due(every, now + every));
    }

    #[test]
    fn the_fair_order_takes_tenants_in_turn_and_each_tenants_endpoints_in_turn() {
        // Tenant 1 queued first, a backlog on two endpoints; tenant 2 came last.
        let mut candidates = Vec::new();
        for n in 0..3 {
            candidates.push(delivery(1, 10, n));
            candidates.push(delivery(1, 11, n));
        }
        candidates.push(delivery(2, 20, 0));
        candidates.push(delivery(2, 20, 1));
        let order = names(&candidates.into_iter().collect::<FairQueue>().drain());
        assert_eq!(
            order,
            [
                (1, 10),
                (2, 20),
                (1, 11),
                (2, 20),
                (1, 10),
                (1, 11),
                (1, 10),
                (1, 11)
            ]
        );
        assert!(FairQueue::default().drain().is_empty());
    }

    #[test]
    fn admission_keeps_endpoints_and_tenants_within_their_caps_and_the_batch_within_its_limit() {
        let mut gates = Gates::default();
        let now = Instant::now();
        let candidates: Vec<_> = (0..4)
            .flat_map(|n| [delivery(1, 10, n), delivery(1, 11, n), delivery(2, 20, n)])
            .collect();
        let admission = admit(&mut gates, candidates.clone(), 100, CAPS, now);
        // Tenant 1 reaches its cap of 3; endpoint 20 its cap of 2.
        assert_eq!(
            admitted(&admission),
            [(1, 10), (2, 20), (1, 11), (2, 20), (1, 10)]
        );
        assert!(admission.filled_a_tenant);
        assert_eq!(admission.deferred.len(), 7);
        assert_eq!(
            gates.blocked(CAPS, now),
            Blocked {
                endpoints: vec![endpoint(10), endpoint(20)],
                tenants: vec![tenant(1)],
            }
        );
        // Released, they make room again; a batch limit stops admission.
        gates.release(&tenant(1), &endpoint(10));
        gates.release(&tenant(2), &endpoint(20));
        let admission = admit(&mut gates, candidates, 1, CAPS, now);
        assert_eq!(admitted(&admission), [(1, 10)]);
    }

    #[test]
    fn an_endpoints_rate_spaces_its_turns_and_holds_back_what_is_beyond_the_horizon() {
        let mut gates = Gates::default();
        let now = Instant::now();
        let caps = Caps {
            per_endpoint: 16,
            per_tenant: 16,
        };
        let candidates: Vec<_> = (0..5)
            .map(|n| QueuedDelivery {
                rate_limit_per_second: Some(10),
                ..delivery(1, 10, n)
            })
            .collect();
        let admission = admit(&mut gates, candidates, 100, caps, now);
        // At 10 per second: now, +100 ms and +200 ms are within the horizon.
        let turns: Vec<Option<Duration>> = admission
            .admitted
            .iter()
            .map(|admitted| admitted.send_at.map(|at| at - now))
            .collect();
        assert_eq!(
            turns,
            [
                None,
                Some(Duration::from_millis(100)),
                Some(Duration::from_millis(200))
            ]
        );
        assert_eq!(admission.held.len(), 2);
        // The scan leaves the endpoint out until its turn is near, then looks again.
        assert_eq!(gates.blocked(caps, now).endpoints, [endpoint(10)]);
        assert_eq!(
            gates.next_turn_to_scan(now),
            Some(now + Duration::from_millis(300) - TURN_HORIZON)
        );
        let later = now + Duration::from_millis(150);
        assert!(gates.blocked(caps, later).endpoints.is_empty());
        // A scan that finds nothing more for it forgets that it waited.
        gates.forget_waiting_unless(&gates.blocked(caps, later));
        assert_eq!(gates.next_turn_to_scan(later), None);
    }

    #[test]
    fn what_cannot_be_admitted_keeps_its_place_in_the_queue() {
        let mut gates = Gates::default();
        let now = Instant::now();
        let mut queue: FairQueue = (0..200).map(|n| delivery(1, 10, n)).collect();
        // Tenant 1 fills its cap; the rest of its backlog stays queued.
        let first = gates.admit(&mut queue, 100, CAPS, now);
        assert_eq!(admitted(&first), [(1, 10), (1, 10)]);
        assert_eq!((queue.len(), queue.counted()), (198, 198));
        // Another tenant's delivery, queued behind the backlog, goes out at once.
        queue.push(delivery(2, 20, 0));
        let second = gates.admit(&mut queue, 100, CAPS, now);
        assert_eq!(admitted(&second), [(2, 20)]);
        assert_eq!((queue.len(), queue.counted()), (198, 198));
        // Room freed, tenant 1's backlog goes on in order.
        gates.release(&tenant(1), &endpoint(10));
        let third = gates.admit(&mut queue, 100, CAPS, now);
        assert_eq!(admitted(&third), [(1, 10)]);
        let next = &third.admitted[0].delivery.delivery_id;
        assert_eq!(next, &delivery(1, 10, 2).delivery_id);
        assert_eq!(queue.len(), 197);
    }
}
