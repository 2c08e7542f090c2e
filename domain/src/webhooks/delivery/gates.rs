//! Each endpoint's bounds in this instance: its attempts outstanding (claimed and not
//! yet recorded) against its cap, attempts in flight, and the pace of an optional rate
//! limit. The choices are made in memory, without I/O.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_model::{DeliveryId, WebhookEndpointId};
use tokio::sync::Semaphore;

use super::Claimed;
use crate::webhooks::WebhookRuntime;

/// Endpoints named in the claim's exclusion list at most.
const MAX_EXCLUDED_ENDPOINTS: usize = 500;

/// One endpoint's bounds in this instance: attempts in flight, and the pace of an
/// optional rate limit.
pub(crate) struct EndpointGate {
    in_flight: Arc<Semaphore>,
    /// Claimed and not yet recorded, to leave a full endpoint out of the next claim.
    outstanding: usize,
    next_send: Arc<tokio::sync::Mutex<Instant>>,
}

impl EndpointGate {
    fn new(cap: usize) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(cap)),
            outstanding: 0,
            next_send: Arc::new(tokio::sync::Mutex::new(Instant::now())),
        }
    }
}

/// The gates of every endpoint this instance sends to.
#[derive(Default)]
pub(crate) struct Gates {
    endpoints: HashMap<WebhookEndpointId, EndpointGate>,
}

/// A delivery chosen for a claim and counted as outstanding.
pub(super) type Reserved = (DeliveryId, WebhookEndpointId);

impl Gates {
    fn gate(&mut self, endpoint_id: &WebhookEndpointId, cap: usize) -> &mut EndpointGate {
        self.endpoints
            .entry(endpoint_id.clone())
            .or_insert_with(|| EndpointGate::new(cap))
    }

    fn add_outstanding(&mut self, endpoint_id: &WebhookEndpointId, delta: isize, cap: usize) {
        if delta > 0 {
            let gate = self.gate(endpoint_id, cap);
            gate.outstanding = gate.outstanding.saturating_add_signed(delta);
        } else if let Some(gate) = self.endpoints.get_mut(endpoint_id) {
            gate.outstanding = gate.outstanding.saturating_add_signed(delta);
        }
    }

    /// Picks up to `limit` of the candidates (deliveries, each of the endpoint that
    /// `endpoint_of` names), no endpoint beyond `cap` attempts outstanding, and counts
    /// the chosen as outstanding; answers the chosen and the rest.
    fn admit<T>(
        &mut self,
        candidates: Vec<T>,
        limit: usize,
        cap: usize,
        endpoint_of: impl Fn(&T) -> &WebhookEndpointId,
    ) -> (Vec<T>, Vec<T>) {
        let mut chosen = Vec::new();
        let mut left = Vec::new();
        for candidate in candidates {
            if chosen.len() >= limit {
                left.push(candidate);
                continue;
            }
            let gate = self.gate(endpoint_of(&candidate), cap);
            if gate.outstanding < cap {
                gate.outstanding += 1;
                chosen.push(candidate);
            } else {
                left.push(candidate);
            }
        }
        (chosen, left)
    }

    /// Endpoints with as many attempts outstanding as they may have in flight.
    fn full_endpoints(&self, cap: usize) -> Vec<WebhookEndpointId> {
        self.endpoints
            .iter()
            .filter(|(_, gate)| gate.outstanding >= cap)
            .map(|(id, _)| id.clone())
            .take(MAX_EXCLUDED_ENDPOINTS)
            .collect()
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

impl WebhookRuntime {
    fn endpoint_cap(&self) -> usize {
        self.settings.delivery.max_in_flight_per_endpoint
    }

    /// The endpoint's attempts in flight, and when it may send next.
    fn gate(
        &self,
        endpoint_id: &WebhookEndpointId,
    ) -> (Arc<Semaphore>, Arc<tokio::sync::Mutex<Instant>>) {
        let mut gates = self.gates.lock().expect("gate map lock");
        let gate = gates.gate(endpoint_id, self.endpoint_cap());
        (Arc::clone(&gate.in_flight), Arc::clone(&gate.next_send))
    }

    pub(super) fn add_outstanding(&self, endpoint_id: &WebhookEndpointId, delta: isize) {
        let cap = self.endpoint_cap();
        self.gates
            .lock()
            .expect("gate map lock")
            .add_outstanding(endpoint_id, delta, cap);
    }

    /// Picks up to `limit` of the candidates, no endpoint beyond its cap of attempts
    /// outstanding here, and reserves them as outstanding (both claimers of the worker
    /// count against the same caps; the claim releases what it could not lease);
    /// answers the chosen and the rest.
    pub(super) fn within_caps<T>(
        &self,
        candidates: Vec<T>,
        limit: usize,
        endpoint_of: impl Fn(&T) -> &WebhookEndpointId,
    ) -> (Vec<T>, Vec<T>) {
        let cap = self.endpoint_cap();
        self.gates
            .lock()
            .expect("gate map lock")
            .admit(candidates, limit, cap, endpoint_of)
    }

    /// Releases the reservations of chosen rows that were not leased.
    pub(super) fn release_unclaimed(&self, chosen: &[Reserved], claimed: &[Claimed]) {
        let leased: HashSet<&DeliveryId> = claimed.iter().map(|job| &job.delivery_id).collect();
        for (delivery_id, endpoint_id) in chosen {
            if !leased.contains(delivery_id) {
                self.add_outstanding(endpoint_id, -1);
            }
        }
    }

    /// Endpoints with as many attempts outstanding as they may have in flight.
    pub(super) fn full_endpoints(&self) -> Vec<WebhookEndpointId> {
        let cap = self.endpoint_cap();
        self.gates
            .lock()
            .expect("gate map lock")
            .full_endpoints(cap)
    }

    /// Forgets an endpoint's gate (its rate may have changed, or it is gone).
    pub(crate) fn forget_gate(&self, endpoint_id: &WebhookEndpointId) {
        self.gates
            .lock()
            .expect("gate map lock")
            .forget(endpoint_id);
    }

    /// Waits for room among the endpoint's attempts in flight and for its rate limit's
    /// turn; sending may start when the answered permit is held.
    pub(super) async fn wait_for_turn(
        &self,
        endpoint_id: &WebhookEndpointId,
        rate_limit_per_second: Option<u32>,
    ) -> tokio::sync::OwnedSemaphorePermit {
        let (in_flight, next_send) = self.gate(endpoint_id);
        let permit = in_flight
            .acquire_owned()
            .await
            .expect("gates are never closed");
        if let Some(rate) = rate_limit_per_second {
            let spacing = Duration::from_secs(1) / rate.max(1);
            let wait_until = {
                let mut next = next_send.lock().await;
                let now = Instant::now();
                let slot = (*next).max(now);
                *next = slot + spacing;
                slot
            };
            tokio::time::sleep_until(wait_until.into()).await;
        }
        permit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(n: u8) -> WebhookEndpointId {
        WebhookEndpointId::from_body(&format!("{:0>26}", n))
    }

    #[test]
    fn admission_keeps_each_endpoint_within_its_cap_and_the_batch_within_its_limit() {
        let mut gates = Gates::default();
        let (a, b) = (endpoint(1), endpoint(2));
        let candidates = vec![a.clone(), a.clone(), a.clone(), b.clone(), b.clone()];
        let (chosen, left) = gates.admit(candidates, 3, 2, |id| id);
        assert_eq!(chosen, [a.clone(), a.clone(), b.clone()]);
        assert_eq!(left, [a.clone(), b.clone()]);
        assert_eq!(gates.full_endpoints(2), [a.clone()]);
        gates.add_outstanding(&a, -1, 2);
        assert!(gates.full_endpoints(2).is_empty());
    }
}
