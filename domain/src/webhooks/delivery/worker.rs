//! The worker: the loop that takes the deliveries this instance queued from the
//! handoff (leased by id), scans the queue beside it for the rest, sends each in its own
//! task within the instance's capacity and records outcomes as they come; and the
//! one-shot rounds that tests and the test event use.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_model::{EventId, WebhookEndpointId};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Claimed, Outcome};
use crate::Gatehouse;
use crate::error::DomainError;

/// Rows one claim leases at most.
const CLAIM_BATCH: usize = 256;
/// How often the worker looks for due deliveries when nothing woke it (retries that
/// came due, leases that ran out).
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Where the worker's claimers hand what they leased: the shared capacity, the send
/// tasks and the recorder's channel.
#[derive(Clone)]
struct Dispatcher {
    capacity: Arc<Semaphore>,
    sends: tokio_util::task::TaskTracker,
    outcomes: mpsc::UnboundedSender<Outcome>,
}

/// What a round of deliveries did (the tests and the benchmark read it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub attempted: usize,
    pub succeeded: usize,
    pub failed: usize,
}

impl Gatehouse {
    /// Claims every due delivery (in batches), sends them, waits for the answers and
    /// records them. The worker does the same continuously; tests call this with a
    /// driven clock so no test waits for a retry.
    pub async fn deliver_due_webhooks(&self) -> Result<DeliveryReport, DomainError> {
        let mut report = DeliveryReport::default();
        loop {
            let claimed = self.claim_due(CLAIM_BATCH).await?;
            if claimed.is_empty() {
                // Deliveries held for their endpoint's rate-limit turn are due too.
                match self.webhooks.next_turn_to_scan() {
                    Some(turn) => {
                        tokio::time::sleep_until(turn.into()).await;
                        continue;
                    }
                    None => return Ok(report),
                }
            }
            let prepared = self.prepare_or_release(claimed).await?;
            let mut sends = tokio::task::JoinSet::new();
            for job in prepared {
                let gatehouse = self.clone();
                sends.spawn(async move {
                    if let Some(turn) = job.claimed.send_at {
                        tokio::time::sleep_until(turn.into()).await;
                    }
                    gatehouse.send(job).await
                });
            }
            let mut outcomes = Vec::new();
            while let Some(outcome) = sends.join_next().await {
                outcomes.push(outcome.map_err(|error| DomainError::Internal(error.to_string()))?);
            }
            report.attempted += outcomes.len();
            report.succeeded += outcomes
                .iter()
                .filter(|outcome| outcome.succeeded())
                .count();
            report.failed += outcomes
                .iter()
                .filter(|outcome| !outcome.succeeded())
                .count();
            self.record(outcomes).await?;
        }
    }

    /// The worker: claims what is due whenever a change queues deliveries (in this
    /// instance, or on PostgreSQL any instance) and at least every half second, as the
    /// gates admit it (fairly between tenants and endpoints, within their caps, at each
    /// endpoint's rate-limit turn), sends each in its own task and records outcomes as
    /// they come. When `stop` fires it
    /// claims nothing more, lets the attempts in flight finish (each is bounded by the
    /// timeout) and records them before returning.
    pub async fn run_delivery_worker(&self, stop: CancellationToken) {
        let (outcomes_tx, outcomes_rx) = mpsc::unbounded_channel::<Outcome>();
        let recorder = tokio::spawn({
            let gatehouse = self.clone();
            async move { gatehouse.record_as_they_come(outcomes_rx).await }
        });
        let capacity = Arc::new(Semaphore::new(
            self.webhooks.settings.delivery.max_in_flight,
        ));
        let sends = tokio_util::task::TaskTracker::new();
        let dispatcher = Dispatcher {
            capacity,
            sends: sends.clone(),
            outcomes: outcomes_tx.clone(),
        };
        // The scan runs beside the handoff, so deliveries handed over never wait for a
        // scan of the queue (slow while PostgreSQL holds dead index entries).
        let scanner = tokio::spawn({
            let gatehouse = self.clone();
            let dispatcher = dispatcher.clone();
            let stop = stop.clone();
            async move { gatehouse.scan_queue(dispatcher, stop).await }
        });
        loop {
            let free = dispatcher.capacity.available_permits().min(CLAIM_BATCH);
            // Taken in fair order. Beyond a cap or this batch: left in the handoff, taken
            // when room is freed. Held for their endpoint's turn: the scan takes them then.
            let admission = if free > 0 {
                self.webhooks.admit_handed(free)
            } else {
                Default::default()
            };
            if !admission.admitted.is_empty() {
                match self.claim_ids(admission.admitted).await {
                    Ok(claimed) => self.dispatch(&dispatcher, claimed).await,
                    Err(error) => {
                        self.webhooks.request_scan();
                        tracing::warn!(%error, "claiming deliveries failed; the scan takes them");
                    }
                }
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = self.webhooks.wake.notified() => {}
            }
        }
        let _ = scanner.await;
        drop(dispatcher);
        sends.close();
        sends.wait().await;
        drop(outcomes_tx);
        let _ = recorder.await;
    }

    /// The worker's scan: leases due rows from the queue at the poll interval, and at
    /// once when asked (another instance's deliveries, handoffs beyond a cap, due rows
    /// left behind by the last scan).
    async fn scan_queue(&self, dispatcher: Dispatcher, stop: CancellationToken) {
        loop {
            let free = dispatcher.capacity.available_permits().min(CLAIM_BATCH);
            if free > 0 {
                self.webhooks.take_scan_request();
                match self.claim_due(free).await {
                    Ok(claimed) => {
                        // A full batch: more may be due. Not when handed deliveries are
                        // waiting: they are what the scan finds, and they are taken by id
                        // as room is freed (a scan under load costs far more).
                        if claimed.len() == free && !self.webhooks.handoff_waiting() {
                            self.webhooks.request_scan();
                        }
                        self.dispatch(&dispatcher, claimed).await;
                    }
                    Err(error) => tracing::warn!(%error, "claiming deliveries failed; retrying"),
                }
            }
            // Deliveries held for their endpoint's rate-limit turn are looked for again
            // when the first turn comes.
            let poll = Instant::now() + POLL_INTERVAL;
            let next_scan = self
                .webhooks
                .next_turn_to_scan()
                .map_or(poll, |turn| turn.min(poll));
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.webhooks.scan_wake.notified() => {}
                () = tokio::time::sleep_until(next_scan.into()) => {}
            }
        }
    }

    /// Prepares claimed deliveries and sends each in its own task, within the
    /// worker's capacity; the outcomes go to the recorder. A delivery waiting for its
    /// endpoint's rate-limit turn takes its slot only when the turn comes.
    async fn dispatch(&self, dispatcher: &Dispatcher, claimed: Vec<Claimed>) {
        if claimed.is_empty() {
            return;
        }
        match self.prepare_or_release(claimed).await {
            Ok(prepared) => {
                for job in prepared {
                    let gatehouse = self.clone();
                    let outcomes = dispatcher.outcomes.clone();
                    let capacity = Arc::clone(&dispatcher.capacity);
                    let take_slot = || async {
                        capacity
                            .acquire_owned()
                            .await
                            .expect("the capacity semaphore is never closed")
                    };
                    match job.claimed.send_at {
                        Some(turn) => {
                            dispatcher.sends.spawn(async move {
                                tokio::time::sleep_until(turn.into()).await;
                                let slot = take_slot().await;
                                let _ = outcomes.send(gatehouse.send(job).await);
                                drop(slot);
                            });
                        }
                        None => {
                            let slot = take_slot().await;
                            dispatcher.sends.spawn(async move {
                                let _ = outcomes.send(gatehouse.send(job).await);
                                drop(slot);
                            });
                        }
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "claimed deliveries could not be prepared; their leases will run out and they are taken again");
            }
        }
    }

    /// Records outcomes in batches: whatever has arrived is written together.
    async fn record_as_they_come(&self, mut outcomes: mpsc::UnboundedReceiver<Outcome>) {
        let mut batch = Vec::with_capacity(CLAIM_BATCH);
        while outcomes.recv_many(&mut batch, 1000).await > 0 {
            let taken = std::mem::take(&mut batch);
            if let Err(error) = self.record(taken).await {
                tracing::error!(%error, "delivery outcomes not recorded; their leases will run out and they are sent again");
            }
            // Room was freed: handed deliveries waiting are taken now; else, if the
            // last scan left due deliveries behind, it looks again now.
            if self.webhooks.handoff_waiting() {
                self.webhooks.wake.notify_one();
            } else if self
                .webhooks
                .more_due
                .load(std::sync::atomic::Ordering::Acquire)
            {
                self.webhooks.request_scan();
            }
        }
    }

    /// Delivers one endpoint's pending delivery of one event at once, whatever the
    /// endpoint's status and its rate limit's turn (the test event), and returns when
    /// its attempt is recorded.
    /// Should a worker have taken it first, waits for that worker's attempt.
    pub(crate) async fn deliver_now(
        &self,
        endpoint_id: &WebhookEndpointId,
        event_id: &EventId,
    ) -> Result<(), DomainError> {
        let now = self.now_ms();
        let rows = sqlx::query(
            "UPDATE webhook_deliveries SET lease_until = $1, leased_by = $2
             WHERE endpoint_id = $3 AND event_id = $4 AND state = 'pending'
               AND (lease_until IS NULL OR lease_until <= $5)
             RETURNING id, tenant_id, endpoint_id, event_id, event_type, attempts",
        )
        .bind(now + self.webhooks.settings.delivery.lease.as_millis() as i64)
        .bind(self.instance_id.as_ref())
        .bind(endpoint_id.as_str())
        .bind(event_id.as_str())
        .bind(now)
        .fetch_all(self.db().writer())
        .await?;
        let claimed = self.claimed_from_rows(rows, true)?;
        if !claimed.is_empty() {
            let mut outcomes = Vec::new();
            for job in self.prepare_or_release(claimed).await? {
                outcomes.push(self.send(job).await);
            }
            return self.record(outcomes).await;
        }
        let deadline =
            Instant::now() + self.webhooks.settings.delivery.timeout + Duration::from_secs(5);
        while Instant::now() < deadline {
            let (attempts,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM webhook_attempts WHERE endpoint_id = $1 AND event_id = $2",
            )
            .bind(endpoint_id.as_str())
            .bind(event_id.as_str())
            .fetch_one(self.db().pool())
            .await?;
            if attempts > 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(DomainError::Internal(
            "the test event's attempt was not recorded in time".to_owned(),
        ))
    }
}
