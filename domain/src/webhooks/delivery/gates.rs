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

    /// Takes the candidates in fair order and admits up to `limit` of them: none beyond
    /// its endpoint's or its tenant's cap, none before its endpoint's turn is within the
    /// horizon. The admitted are counted as outstanding and their endpoints' turns taken.
    fn admit(
        &mut self,
        candidates: Vec<QueuedDelivery>,
        limit: usize,
        caps: Caps,
        now: Instant,
    ) -> Admission {
        let mut admission = Admission::default();
        for candidate in fair_order(candidates) {
            let tenant_outstanding = self.tenants.get(&candidate.tenant_id).copied().unwrap_or(0);
            if admission.admitted.len() >= limit || tenant_outstanding >= caps.per_tenant {
                admission.deferred.push(candidate);
                continue;
            }
            let gate = self.gate(&candidate.tenant_id, &candidate.endpoint_id, now);
            if gate.outstanding >= caps.per_endpoint {
                admission.deferred.push(candidate);
                continue;
            }
            let send_at = match candidate.rate_limit_per_second {
                Some(_) if gate.next_turn > now + TURN_HORIZON => {
                    gate.waiting = true;
                    admission.held.push(candidate);
                    continue;
                }
                Some(per_second) => {
                    let turn = gate.next_turn.max(now);
                    gate.next_turn = turn + spacing(per_second);
                    (turn > now).then_some(turn)
                }
                None => None,
            };
            self.count(&candidate.tenant_id, &candidate.endpoint_id, now);
            if tenant_outstanding + 1 >= caps.per_tenant {
                admission.filled_a_tenant = true;
            }
            admission.admitted.push(Admitted {
                delivery: candidate,
                send_at,
            });
        }
        admission
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

/// The candidates in fair order: round robin between tenants (in the order each first
/// appears), and within a tenant round robin between its endpoints; each endpoint's
/// deliveries keep their order.
pub(super) fn fair_order(candidates: Vec<QueuedDelivery>) -> Vec<QueuedDelivery> {
    /// A tenant's endpoints, each with its deliveries, in the order they appear.
    #[derive(Default)]
    struct TenantQueue {
        endpoints: VecDeque<VecDeque<QueuedDelivery>>,
        index: HashMap<WebhookEndpointId, usize>,
    }
    /// The position of `key` in `index`, added as `next` when new (the key is copied
    /// only then).
    fn position<K: Clone + Eq + std::hash::Hash>(
        index: &mut HashMap<K, usize>,
        key: &K,
        next: usize,
    ) -> usize {
        if let Some(position) = index.get(key) {
            return *position;
        }
        index.insert(key.clone(), next);
        next
    }
    let total = candidates.len();
    let mut tenant_index: HashMap<TenantId, usize> = HashMap::new();
    let mut tenants: Vec<TenantQueue> = Vec::new();
    for candidate in candidates {
        let tenant = position(&mut tenant_index, &candidate.tenant_id, tenants.len());
        if tenant == tenants.len() {
            tenants.push(TenantQueue::default());
        }
        let queue = &mut tenants[tenant];
        let endpoint = position(
            &mut queue.index,
            &candidate.endpoint_id,
            queue.endpoints.len(),
        );
        if endpoint == queue.endpoints.len() {
            queue.endpoints.push_back(VecDeque::new());
        }
        queue.endpoints[endpoint].push_back(candidate);
    }
    let mut tenants: VecDeque<VecDeque<VecDeque<QueuedDelivery>>> =
        tenants.into_iter().map(|queue| queue.endpoints).collect();
    let mut ordered = Vec::with_capacity(total);
    // Each turn takes a tenant's next endpoint's next delivery; an endpoint, and a
    // tenant, go to the back of the line after their turn, and leave it when done.
    while let Some(mut endpoints) = tenants.pop_front() {
        if let Some(mut deliveries) = endpoints.pop_front() {
            if let Some(delivery) = deliveries.pop_front() {
                ordered.push(delivery);
            }
            if !deliveries.is_empty() {
                endpoints.push_back(deliveries);
            }
        }
        if !endpoints.is_empty() {
            tenants.push_back(endpoints);
        }
    }
    ordered
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

    /// Admits up to `limit` of deliveries handed over or found by a scan (see
    /// [`Gates::admit`]); both claimers of the worker count against the same caps, and a
    /// claim releases what it could not lease. `scanned_past` is what the scan left
    /// out, when the candidates come from one.
    pub(super) fn admit(
        &self,
        candidates: Vec<QueuedDelivery>,
        limit: usize,
        scanned_past: Option<&Blocked>,
    ) -> Admission {
        let mut gates = self.gates();
        if let Some(blocked) = scanned_past {
            gates.forget_waiting_unless(blocked);
        }
        gates.admit(candidates, limit, self.caps(), Instant::now())
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
        let order = names(&fair_order(candidates));
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
        assert!(fair_order(Vec::new()).is_empty());
    }

    #[test]
    fn admission_keeps_endpoints_and_tenants_within_their_caps_and_the_batch_within_its_limit() {
        let mut gates = Gates::default();
        let now = Instant::now();
        let candidates: Vec<_> = (0..4)
            .flat_map(|n| [delivery(1, 10, n), delivery(1, 11, n), delivery(2, 20, n)])
            .collect();
        let admission = gates.admit(candidates.clone(), 100, CAPS, now);
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
        let admission = gates.admit(candidates, 1, CAPS, now);
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
        let admission = gates.admit(candidates, 100, caps, now);
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
}
