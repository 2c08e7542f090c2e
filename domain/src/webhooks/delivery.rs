//! The delivery worker (SPEC W-3, W-5, W-9): claims due deliveries with a lease, sends
//! each as a signed Standard Webhooks request, and records the outcomes in batches.
//!
//! - Claiming: one statement leases a batch of due rows (`lease_until`), at most
//!   `max_in_flight_per_endpoint` per endpoint; on PostgreSQL `FOR UPDATE SKIP LOCKED`
//!   keeps two instances from taking the same row, and on SQLite this process's one
//!   claimer is alone. A lease that runs out (a crash, `kill -9`) is taken again, so
//!   nothing is lost; the lease outlasts the 15 s timeout, so nothing is sent twice
//!   while an attempt is still running.
//! - Sending: each attempt runs in its own task behind its endpoint's gate (attempts in
//!   flight and an optional rate), so a slow receiver holds up only itself.
//! - Recording: outcomes are written together (one transaction per batch): the attempt
//!   rows for the log, each delivery's next state, and each endpoint's health. 410 Gone
//!   and 5 days without a success disable the endpoint through the one commit path.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_model::{DisabledReason, EndpointStatus, TenantId, WebhookEndpointId};
use rand::Rng;
use sqlx::Row;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::secrets::SigningSecret;
use super::signing;
use crate::actor::Actor;
use crate::db::Placeholders;
use crate::error::DomainError;
use crate::{Engine, Gatehouse, ids};

/// The most of a receiver's answer that is read and kept (SPEC W-6).
pub const RESPONSE_EXCERPT_BYTES: usize = 1024;
/// Rows one claim leases at most.
const CLAIM_BATCH: usize = 256;
/// "The row is pending", for statements that name their rows by id. Written so that
/// PostgreSQL cannot match it to the partial index of pending rows: with statistics
/// that lag a burst (a table that grew by thousands of rows in seconds), the planner
/// took that index for small and walked every pending row and its dead entries, 10 to
/// 30 ms a statement, instead of looking the ids up by the primary key. `state` is NOT
/// NULL, so this is `state = 'pending'`.
const PENDING_BY_ID: &str = "COALESCE(state = 'pending', FALSE)";
/// How often the worker looks for due deliveries when nothing woke it (retries that
/// came due, leases that ran out).
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// One endpoint's bounds in this instance: attempts in flight, and the pace of an
/// optional rate limit.
pub(crate) struct EndpointGate {
    in_flight: Arc<Semaphore>,
    /// Claimed and not yet recorded, to leave a full endpoint out of the next claim.
    outstanding: usize,
    next_send: Arc<tokio::sync::Mutex<Instant>>,
}

impl super::WebhookRuntime {
    fn gate(
        &self,
        endpoint_id: &WebhookEndpointId,
    ) -> (Arc<Semaphore>, Arc<tokio::sync::Mutex<Instant>>) {
        let mut gates = self.gates.lock().expect("gate map lock");
        let gate = gates.entry(endpoint_id.clone()).or_insert_with(|| {
            EndpointGate::new(self.settings.delivery.max_in_flight_per_endpoint)
        });
        (Arc::clone(&gate.in_flight), Arc::clone(&gate.next_send))
    }

    fn add_outstanding(&self, endpoint_id: &WebhookEndpointId, delta: isize) {
        let mut gates = self.gates.lock().expect("gate map lock");
        if let Some(gate) = gates.get_mut(endpoint_id) {
            gate.outstanding = gate.outstanding.saturating_add_signed(delta);
        } else if delta > 0 {
            drop(gates);
            self.gate(endpoint_id);
            self.add_outstanding(endpoint_id, delta);
        }
    }

    /// Picks up to `limit` of the candidates (deliveries, each of the endpoint that
    /// `endpoint_of` names), no endpoint beyond its cap of attempts outstanding here,
    /// and reserves them as outstanding (both claimers of the worker count against the
    /// same caps; the claim releases what it could not lease); answers the chosen and
    /// the rest.
    fn within_caps<T>(
        &self,
        candidates: Vec<T>,
        limit: usize,
        endpoint_of: impl Fn(&T) -> &str,
    ) -> (Vec<(T, WebhookEndpointId)>, Vec<T>) {
        let cap = self.settings.delivery.max_in_flight_per_endpoint;
        let mut gates = self.gates.lock().expect("gate map lock");
        let mut chosen = Vec::new();
        let mut left = Vec::new();
        for candidate in candidates {
            let Ok(endpoint_id) = WebhookEndpointId::parse(endpoint_of(&candidate)) else {
                continue;
            };
            if chosen.len() >= limit {
                left.push(candidate);
                continue;
            }
            let gate = gates
                .entry(endpoint_id.clone())
                .or_insert_with(|| EndpointGate::new(cap));
            if gate.outstanding < cap {
                gate.outstanding += 1;
                chosen.push((candidate, endpoint_id));
            } else {
                left.push(candidate);
            }
        }
        (chosen, left)
    }

    /// Releases the reservations of chosen rows that were not leased.
    fn release_unclaimed(&self, chosen: &[Reserved], claimed: &[Claimed]) {
        let leased: HashSet<&str> = claimed.iter().map(|job| job.delivery_id.as_str()).collect();
        for (delivery_id, endpoint_id) in chosen {
            if !leased.contains(delivery_id.as_str()) {
                self.add_outstanding(endpoint_id, -1);
            }
        }
    }

    /// Endpoints with as many attempts outstanding as they may have in flight.
    fn full_endpoints(&self) -> Vec<String> {
        let limit = self.settings.delivery.max_in_flight_per_endpoint;
        let gates = self.gates.lock().expect("gate map lock");
        gates
            .iter()
            .filter(|(_, gate)| gate.outstanding >= limit)
            .map(|(id, _)| id.to_string())
            .take(500)
            .collect()
    }

    /// Forgets an endpoint's gate (its rate may have changed, or it is gone).
    pub(crate) fn forget_gate(&self, endpoint_id: &WebhookEndpointId) {
        let mut gates = self.gates.lock().expect("gate map lock");
        if gates
            .get(endpoint_id)
            .is_some_and(|gate| gate.outstanding == 0)
        {
            gates.remove(endpoint_id);
        }
    }
}

/// A delivery chosen for a claim and counted as outstanding: `(delivery, endpoint)`.
type Reserved = (String, WebhookEndpointId);

impl EndpointGate {
    fn new(cap: usize) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(cap)),
            outstanding: 0,
            next_send: Arc::new(tokio::sync::Mutex::new(Instant::now())),
        }
    }
}

/// An event's body as every attempt sends it, and when the event was accepted.
#[derive(Debug, Clone)]
pub(crate) struct EventBody {
    bytes: Arc<[u8]>,
    /// Unix ms, for the delivery latency metric.
    occurred_at_ms: i64,
}

impl EventBody {
    /// The body of an event of `event_type` with `data` (JSON text).
    pub fn new(event_type: &str, occurred_at_ms: i64, data: &str) -> Self {
        Self {
            bytes: payload_body(event_type, occurred_at_ms, data).into(),
            occurred_at_ms,
        }
    }
}

/// A leased delivery.
#[derive(Debug, Clone)]
struct Claimed {
    delivery_id: String,
    tenant_id: String,
    endpoint_id: WebhookEndpointId,
    event_id: String,
    event_type: String,
    /// Attempts made before this one.
    attempts: i64,
    /// The event's body when it was handed over with the delivery (else it is read).
    body: Option<EventBody>,
}

/// A leased delivery with what sending it needs.
struct Prepared {
    claimed: Claimed,
    url: String,
    secrets: Vec<SigningSecret>,
    body: EventBody,
    rate_limit_per_second: Option<u32>,
}

/// What one attempt came to.
#[derive(Debug)]
pub(crate) struct Outcome {
    claimed: Claimed,
    attempted_at_ms: i64,
    http_status: Option<u16>,
    latency_ms: i64,
    excerpt: String,
    error: Option<String>,
    retry_after: Option<Duration>,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        self.http_status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

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
                return Ok(report);
            }
            let prepared = self.prepare_or_release(claimed).await?;
            let mut sends = tokio::task::JoinSet::new();
            for job in prepared {
                let gatehouse = self.clone();
                sends.spawn(async move { gatehouse.send(job).await });
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
    /// instance, or on PostgreSQL any instance) and at least every half second, sends
    /// each in its own task and records outcomes as they come. When `stop` fires it
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
            let handed = if free > 0 {
                self.webhooks.take_handoff()
            } else {
                Vec::new()
            };
            if !handed.is_empty() {
                let (chosen, left) = self
                    .webhooks
                    .within_caps(handed, free, |queued| queued.endpoint_id.as_str());
                // Beyond an endpoint's cap or this batch: taken when room is freed.
                self.webhooks.give_back(left);
                let mut bodies = HashMap::with_capacity(chosen.len());
                let reserved: Vec<Reserved> = chosen
                    .into_iter()
                    .map(|(queued, endpoint_id)| {
                        if let Some(body) = queued.body {
                            bodies.insert(queued.delivery_id.clone(), body);
                        }
                        (queued.delivery_id, endpoint_id)
                    })
                    .collect();
                match self.claim_ids(&reserved).await {
                    Ok(mut claimed) => {
                        for job in &mut claimed {
                            job.body = bodies.remove(&job.delivery_id);
                        }
                        self.dispatch(&dispatcher, claimed).await
                    }
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
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.webhooks.scan_wake.notified() => {}
                () = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }

    /// Prepares claimed deliveries and sends each in its own task, within the
    /// worker's capacity; the outcomes go to the recorder.
    async fn dispatch(&self, dispatcher: &Dispatcher, claimed: Vec<Claimed>) {
        if claimed.is_empty() {
            return;
        }
        match self.prepare_or_release(claimed).await {
            Ok(prepared) => {
                for job in prepared {
                    let permit = Arc::clone(&dispatcher.capacity)
                        .acquire_owned()
                        .await
                        .expect("the capacity semaphore is never closed");
                    let gatehouse = self.clone();
                    let outcomes = dispatcher.outcomes.clone();
                    dispatcher.sends.spawn(async move {
                        let outcome = gatehouse.send(job).await;
                        let _ = outcomes.send(outcome);
                        drop(permit);
                    });
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

    /// Leases up to `limit` due deliveries of enabled endpoints, at most
    /// `max_in_flight_per_endpoint` per endpoint, leaving out endpoints that already
    /// have that many outstanding here.
    async fn claim_due(&self, limit: usize) -> Result<Vec<Claimed>, DomainError> {
        let now = self.now_ms();
        // 1. Due rows in due order, straight from the partial index, leaving out
        //    endpoints that have all they may have in flight here; a few times what is
        //    asked, so the per-endpoint cap below still leaves enough.
        let full = self.webhooks.full_endpoints();
        let excluded = if full.is_empty() {
            String::new()
        } else {
            format!(
                "AND d.endpoint_id NOT IN ({})",
                placeholders_from(full.len(), 3)
            )
        };
        let sql = format!(
            "SELECT d.id, d.endpoint_id FROM webhook_deliveries d
             JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.status = 'enabled'
             WHERE d.state = 'pending' AND d.next_attempt_at <= $1
               AND (d.lease_until IS NULL OR d.lease_until <= $1) {excluded}
             ORDER BY d.next_attempt_at LIMIT $2"
        );
        let query = sqlx::query_as::<_, (String, String)>(&sql)
            .bind(now)
            .bind((limit * 4) as i64);
        let query = full
            .iter()
            .fold(query, |query, endpoint| query.bind(endpoint.as_str()));
        let candidates = query.fetch_all(self.db().pool()).await?;
        let candidate_count = candidates.len();
        // 2. At most `max_in_flight_per_endpoint` per endpoint, counting what is
        //    outstanding here already.
        let (chosen, _) = self
            .webhooks
            .within_caps(candidates, limit, |(_, endpoint_id)| endpoint_id.as_str());
        let chosen: Vec<Reserved> = chosen
            .into_iter()
            .map(|((delivery_id, _), endpoint_id)| (delivery_id, endpoint_id))
            .collect();
        self.webhooks.more_due.store(
            candidate_count > chosen.len() || candidate_count == limit * 4,
            std::sync::atomic::Ordering::Release,
        );
        if chosen.is_empty() {
            return Ok(Vec::new());
        }
        // 3. Lease them. The lease is checked again on the row itself; on PostgreSQL a
        //    row another instance is leasing right now is skipped, not waited for.
        let lock = match self.db().engine() {
            Engine::Postgres => "FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_until = $1, leased_by = $2
             WHERE id IN (
                SELECT id FROM webhook_deliveries
                WHERE id IN ({}) AND state = 'pending' AND (lease_until IS NULL OR lease_until <= $3)
                {lock}
             )
             RETURNING id, tenant_id, endpoint_id, event_id, event_type, attempts",
            placeholders_from(chosen.len(), 4)
        );
        self.lease_reserved(&sql, now, &chosen).await
    }

    /// Runs a lease statement over reserved rows (`$1` lease end, `$2` instance, `$3`
    /// now, then the ids), releasing the reservations of rows it did not lease.
    async fn lease_reserved(
        &self,
        sql: &str,
        now: i64,
        chosen: &[Reserved],
    ) -> Result<Vec<Claimed>, DomainError> {
        let query = sqlx::query(sql)
            .bind(now + self.webhooks.settings.delivery.lease.as_millis() as i64)
            .bind(self.instance_id.as_ref())
            .bind(now);
        let query = chosen
            .iter()
            .fold(query, |query, (id, _)| query.bind(id.as_str()));
        let claimed = match query.fetch_all(self.db().pool()).await {
            Ok(rows) => self.claimed_from_rows(rows, false),
            Err(error) => Err(error.into()),
        };
        self.webhooks
            .release_unclaimed(chosen, claimed.as_deref().unwrap_or_default());
        claimed
    }

    /// Reads leased rows; `count` adds them to the outstanding counts (rows that were
    /// not reserved beforehand).
    fn claimed_from_rows(
        &self,
        rows: Vec<sqlx::any::AnyRow>,
        count: bool,
    ) -> Result<Vec<Claimed>, DomainError> {
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let endpoint_id: String = row.try_get("endpoint_id")?;
            let endpoint_id = WebhookEndpointId::parse(&endpoint_id)
                .map_err(|_| DomainError::Internal("stored endpoint id is invalid".to_owned()))?;
            if count {
                self.webhooks.add_outstanding(&endpoint_id, 1);
            }
            claimed.push(Claimed {
                delivery_id: row.try_get("id")?,
                tenant_id: row.try_get("tenant_id")?,
                endpoint_id,
                event_id: row.try_get("event_id")?,
                event_type: row.try_get("event_type")?,
                attempts: row.try_get("attempts")?,
                body: None,
            });
        }
        Ok(claimed)
    }

    /// Leases the given deliveries by id (those still pending and free, of endpoints
    /// still enabled: a handed delivery may wait while its endpoint is disabled).
    async fn claim_ids(&self, ids: &[Reserved]) -> Result<Vec<Claimed>, DomainError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now_ms();
        // By id: see PENDING_BY_ID.
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_until = $1, leased_by = $2
             WHERE id IN ({}) AND {PENDING_BY_ID} AND next_attempt_at <= $3
               AND (lease_until IS NULL OR lease_until <= $3)
               AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE status = 'enabled')
             RETURNING id, tenant_id, endpoint_id, event_id, event_type, attempts",
            placeholders_from(ids.len(), 4)
        );
        self.lease_reserved(&sql, now, ids).await
    }

    /// Delivers one endpoint's pending delivery of one event at once, whatever the
    /// endpoint's status (the test event), and returns when its attempt is recorded.
    /// Should a worker have taken it first, waits for that worker's attempt.
    pub(crate) async fn deliver_now(
        &self,
        endpoint_id: &WebhookEndpointId,
        event_id: &gatehouse_model::EventId,
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
        .fetch_all(self.db().pool())
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

    /// [`Self::prepare`], and when it fails, forgets the claimed rows as outstanding
    /// here (their leases run out and any worker takes them again).
    async fn prepare_or_release(
        &self,
        claimed: Vec<Claimed>,
    ) -> Result<Vec<Prepared>, DomainError> {
        let endpoints: Vec<WebhookEndpointId> =
            claimed.iter().map(|job| job.endpoint_id.clone()).collect();
        let prepared = self.prepare(claimed).await;
        if prepared.is_err() {
            for endpoint_id in &endpoints {
                self.webhooks.add_outstanding(endpoint_id, -1);
            }
        }
        prepared
    }

    /// Loads what the claimed deliveries need in two queries for the whole batch: the
    /// endpoints with their signing secrets (opened), and the bodies of the events that
    /// were not handed over with their deliveries.
    async fn prepare(&self, claimed: Vec<Claimed>) -> Result<Vec<Prepared>, DomainError> {
        let endpoint_ids: Vec<String> =
            unique(claimed.iter().map(|job| job.endpoint_id.to_string()));
        // Events handed over with their deliveries are not read back.
        let event_ids: Vec<String> = unique(
            claimed
                .iter()
                .filter(|job| job.body.is_none())
                .map(|job| job.event_id.clone()),
        );
        // Each endpoint with its live signing secrets (opened), newest first.
        let now = self.now_ms();
        let mut endpoints: HashMap<String, (String, Option<u32>)> = HashMap::new();
        let mut secrets: HashMap<String, Vec<SigningSecret>> = HashMap::new();
        let keys = self.webhooks.settings.master_keys.as_ref();
        for chunk in endpoint_ids.chunks(500) {
            let sql = format!(
                "SELECT e.id, e.url, e.rate_limit_per_second, s.sealed_secret
                 FROM webhook_endpoints e
                 LEFT JOIN webhook_secrets s ON s.endpoint_id = e.id
                    AND (s.retires_at IS NULL OR s.retires_at > $1)
                 WHERE e.id IN ({})
                 ORDER BY s.created_at DESC",
                placeholders_from(chunk.len(), 2)
            );
            let query = chunk.iter().fold(sqlx::query(&sql).bind(now), |query, id| {
                query.bind(id.as_str())
            });
            for row in query.fetch_all(self.db().pool()).await? {
                let endpoint_id: String = row.try_get("id")?;
                if !endpoints.contains_key(&endpoint_id) {
                    let rate: Option<i64> = row.try_get("rate_limit_per_second")?;
                    endpoints.insert(
                        endpoint_id.clone(),
                        (
                            row.try_get("url")?,
                            rate.and_then(|rate| u32::try_from(rate).ok()),
                        ),
                    );
                }
                let Some(sealed) = row.try_get::<Option<String>, _>("sealed_secret")? else {
                    continue;
                };
                match keys.map(|keys| keys.open(&sealed)) {
                    Some(Ok(secret)) => secrets.entry(endpoint_id).or_default().push(secret),
                    Some(Err(error)) => {
                        tracing::error!(%endpoint_id, %error, "a signing secret cannot be opened")
                    }
                    None => tracing::error!("no master key: webhook secrets cannot be opened"),
                }
            }
        }
        let mut bodies: HashMap<String, EventBody> = HashMap::new();
        for chunk in event_ids.chunks(500) {
            let sql = format!(
                "SELECT id, event_type, payload, occurred_at FROM outbox_events WHERE id IN ({})",
                placeholders(chunk.len())
            );
            let query = chunk
                .iter()
                .fold(sqlx::query(&sql), |query, id| query.bind(id.as_str()));
            for row in query.fetch_all(self.db().pool()).await? {
                let event_type: String = row.try_get("event_type")?;
                let payload: String = row.try_get("payload")?;
                let occurred_at: i64 = row.try_get("occurred_at")?;
                bodies.insert(
                    row.try_get("id")?,
                    EventBody::new(&event_type, occurred_at, &payload),
                );
            }
        }
        let mut prepared = Vec::with_capacity(claimed.len());
        for mut job in claimed {
            let endpoint = endpoints.get(job.endpoint_id.as_str());
            let body = job
                .body
                .take()
                .or_else(|| bodies.get(&job.event_id).cloned());
            let job_secrets = secrets.get(job.endpoint_id.as_str());
            match (endpoint, body, job_secrets) {
                (Some((url, rate)), Some(body), Some(job_secrets)) => prepared.push(Prepared {
                    url: url.clone(),
                    rate_limit_per_second: *rate,
                    secrets: job_secrets.clone(),
                    body,
                    claimed: job,
                }),
                _ => {
                    // Its endpoint or event is gone, or its secret cannot be opened: the
                    // lease runs out and a later claim tries again (or finds it gone).
                    self.webhooks.add_outstanding(&job.endpoint_id, -1);
                }
            }
        }
        Ok(prepared)
    }

    /// Sends one attempt through its endpoint's gate and reads at most 1 KiB back, and
    /// counts it in the metrics.
    async fn send(&self, job: Prepared) -> Outcome {
        let occurred_at_ms = job.body.occurred_at_ms;
        let outcome = self.send_uncounted(job).await;
        let kind = match outcome.http_status {
            Some(_) if outcome.succeeded() => crate::metrics::AttemptOutcome::Succeeded,
            Some(_) => crate::metrics::AttemptOutcome::Refused,
            None => crate::metrics::AttemptOutcome::Unreachable,
        };
        let since_event = Duration::from_millis(
            u64::try_from(self.now_ms() - occurred_at_ms).unwrap_or_default(),
        );
        let took = Duration::from_millis(u64::try_from(outcome.latency_ms).unwrap_or_default());
        self.metrics.count_attempt(kind, took, since_event);
        outcome
    }

    async fn send_uncounted(&self, job: Prepared) -> Outcome {
        let (in_flight, next_send) = self.webhooks.gate(&job.claimed.endpoint_id);
        let _permit = in_flight
            .acquire_owned()
            .await
            .expect("gates are never closed");
        if let Some(rate) = job.rate_limit_per_second {
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
        let attempted_at_ms = self.now_ms();
        let timestamp = attempted_at_ms.div_euclid(1000);
        let signature = signing::signature_header(
            &job.secrets,
            &job.claimed.event_id,
            timestamp,
            &job.body.bytes,
        );
        let started = Instant::now();
        if let Err(why) = self
            .webhooks
            .settings
            .destinations
            .check_literal_host(&job.url)
        {
            return Outcome {
                claimed: job.claimed,
                attempted_at_ms,
                http_status: None,
                latency_ms: 0,
                excerpt: String::new(),
                error: Some(format!("refused before connecting: {why}")),
                retry_after: None,
            };
        }
        let request = self
            .webhooks
            .client
            .post(&job.url)
            .header("content-type", "application/json")
            .header("webhook-id", &job.claimed.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(job.body.bytes.to_vec());
        let answer = tokio::time::timeout(self.webhooks.settings.delivery.timeout, async {
            let mut response = request.send().await?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(parse_retry_after);
            let mut excerpt = Vec::new();
            while excerpt.len() < RESPONSE_EXCERPT_BYTES {
                match response.chunk().await? {
                    Some(chunk) => excerpt.extend_from_slice(&chunk),
                    None => break,
                }
            }
            excerpt.truncate(RESPONSE_EXCERPT_BYTES);
            Ok::<_, reqwest::Error>((status, retry_after, excerpt))
        })
        .await;
        let latency_ms = started.elapsed().as_millis() as i64;
        let mut outcome = Outcome {
            claimed: job.claimed,
            attempted_at_ms,
            http_status: None,
            latency_ms,
            excerpt: String::new(),
            error: None,
            retry_after: None,
        };
        match answer {
            Ok(Ok((status, retry_after, excerpt))) => {
                outcome.http_status = Some(status);
                outcome.retry_after = retry_after;
                outcome.excerpt = String::from_utf8_lossy(&excerpt).into_owned();
                if !(200..300).contains(&status) {
                    outcome.error = Some(format!("the receiver answered HTTP {status}"));
                }
            }
            Ok(Err(error)) => outcome.error = Some(describe_send_error(&error)),
            Err(_) => {
                outcome.error = Some(format!(
                    "no answer within {} s",
                    self.webhooks.settings.delivery.timeout.as_secs()
                ))
            }
        }
        outcome
    }

    /// Writes a batch of outcomes in one transaction: the attempts, each delivery's next
    /// state (only while this instance still holds its lease), and each endpoint's
    /// health; then disables endpoints that answered 410 or failed for 5 days.
    pub(crate) async fn record(&self, outcomes: Vec<Outcome>) -> Result<(), DomainError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        // Not outstanding here any more, written or not: a row whose outcome is not
        // written stays leased until its lease runs out, then is taken again.
        for outcome in &outcomes {
            self.webhooks
                .add_outstanding(&outcome.claimed.endpoint_id, -1);
        }
        let settings = &self.webhooks.settings.delivery;
        let now = self.now_ms();
        let mut gone: HashSet<(String, WebhookEndpointId)> = HashSet::new();
        // Endpoints are updated in id order (ordered maps): instances that record
        // outcomes for the same endpoints at once take their row locks in one order, so
        // they never deadlock.
        let mut succeeded_at: BTreeMap<WebhookEndpointId, i64> = BTreeMap::new();
        let mut failed: BTreeSet<WebhookEndpointId> = BTreeSet::new();
        // Each outcome's next attempt, drawn once (with its jitter) for both rows.
        let nexts: Vec<Option<i64>> = outcomes
            .iter()
            .map(|outcome| next_attempt(outcome, settings, now))
            .collect();
        let mut transaction = self.db().pool().begin().await?;
        let engine = self.db().engine();
        for (chunk, chunk_nexts) in outcomes.chunks(100).zip(nexts.chunks(100)) {
            let sql = format!(
                "INSERT INTO webhook_attempts (id, tenant_id, delivery_id, endpoint_id, event_id,
                    event_type, attempted_at, succeeded, http_status, latency_ms, response_excerpt,
                    error, next_retry_at) VALUES {}",
                Placeholders::new(engine).rows(chunk.len(), 13)
            );
            let mut query = sqlx::query(&sql);
            for (outcome, next) in chunk.iter().zip(chunk_nexts) {
                query = query
                    .bind(gatehouse_model::AttemptId::from_body(&ids::fresh_body()).to_string())
                    .bind(outcome.claimed.tenant_id.as_str())
                    .bind(outcome.claimed.delivery_id.as_str())
                    .bind(outcome.claimed.endpoint_id.as_str())
                    .bind(outcome.claimed.event_id.as_str())
                    .bind(outcome.claimed.event_type.as_str())
                    .bind(outcome.attempted_at_ms)
                    .bind(i64::from(outcome.succeeded()))
                    .bind(outcome.http_status.map(i64::from))
                    .bind(outcome.latency_ms)
                    .bind(outcome.excerpt.as_str())
                    .bind(outcome.error.as_deref())
                    .bind(*next);
            }
            query.execute(&mut *transaction).await?;
        }
        // Each delivery's next state, a chunk per statement; only while this instance
        // still holds the row's lease.
        for (chunk, chunk_nexts) in outcomes.chunks(100).zip(nexts.chunks(100)) {
            // Placeholders in the order they appear: the rows, then now and the instance.
            // The pending check is PENDING_BY_ID's, on the updated table's column.
            let mut placeholders = Placeholders::new(engine);
            let rows = placeholders.rows(chunk.len(), 4);
            let (now_at, instance) = (placeholders.next(), placeholders.next());
            let sql = format!(
                "WITH outcome (id, state, next_attempt_at, last_status) AS (VALUES {rows})
                 UPDATE webhook_deliveries SET state = outcome.state, attempts = attempts + 1,
                    next_attempt_at = outcome.next_attempt_at, lease_until = NULL, leased_by = NULL,
                    last_status = outcome.last_status, updated_at = {now_at}
                 FROM outcome
                 WHERE webhook_deliveries.id = outcome.id AND webhook_deliveries.leased_by = {instance}
                   AND COALESCE(webhook_deliveries.state = 'pending', FALSE)"
            );
            let mut query = sqlx::query(&sql);
            for (outcome, next) in chunk.iter().zip(chunk_nexts.iter().copied()) {
                let state = if outcome.succeeded() {
                    "succeeded"
                } else if next.is_some() {
                    "pending"
                } else {
                    "failed"
                };
                query = query
                    .bind(outcome.claimed.delivery_id.as_str())
                    .bind(state)
                    .bind(next)
                    .bind(outcome.http_status.map(i64::from));
            }
            query
                .bind(now)
                .bind(self.instance_id.as_ref())
                .execute(&mut *transaction)
                .await?;
        }
        for outcome in &outcomes {
            let endpoint_id = outcome.claimed.endpoint_id.clone();
            if outcome.succeeded() {
                let at = succeeded_at.entry(endpoint_id).or_insert(0);
                *at = (*at).max(outcome.attempted_at_ms);
            } else {
                if outcome.http_status == Some(410) {
                    gone.insert((outcome.claimed.tenant_id.clone(), endpoint_id.clone()));
                }
                failed.insert(endpoint_id);
            }
        }
        self.record_endpoint_health(&mut transaction, &succeeded_at, &failed, now)
            .await?;
        transaction.commit().await?;
        for (tenant_id, endpoint_id) in gone {
            self.disable_endpoint_by_system(&tenant_id, &endpoint_id, DisabledReason::Gone)
                .await?;
        }
        // Judged when an attempt fails: a batch of successes cannot make anything fail.
        if failed.is_empty() {
            return Ok(());
        }
        let failing: Vec<(String, String)> = sqlx::query_as(
            "SELECT tenant_id, id FROM webhook_endpoints
             WHERE status = 'enabled' AND failing_since IS NOT NULL AND failing_since <= $1",
        )
        .bind(now - settings.disable_after_failing.as_millis() as i64)
        .fetch_all(self.db().pool())
        .await?;
        for (tenant_id, endpoint_id) in failing {
            if let Ok(endpoint_id) = WebhookEndpointId::parse(&endpoint_id) {
                self.disable_endpoint_by_system(&tenant_id, &endpoint_id, DisabledReason::Failing)
                    .await?;
            }
        }
        Ok(())
    }

    /// Writes the endpoints' health after a batch in one statement: an endpoint with a
    /// success gets its latest as `last_success_at` and is no longer failing; one with
    /// failures only is failing since its first (kept when it was failing already). On
    /// PostgreSQL the rows are locked in id order first, so that instances recording
    /// outcomes for the same endpoints at once never deadlock.
    async fn record_endpoint_health(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
        succeeded_at: &BTreeMap<WebhookEndpointId, i64>,
        failed: &BTreeSet<WebhookEndpointId>,
        now: i64,
    ) -> Result<(), DomainError> {
        let health: BTreeMap<&WebhookEndpointId, Option<i64>> = failed
            .iter()
            .map(|endpoint_id| (endpoint_id, None))
            .chain(
                succeeded_at
                    .iter()
                    .map(|(endpoint_id, at)| (endpoint_id, Some(*at))),
            )
            .collect();
        let engine = self.db().engine();
        for chunk in health.into_iter().collect::<Vec<_>>().chunks(100) {
            if engine == Engine::Postgres {
                let sql = format!(
                    "SELECT id FROM webhook_endpoints WHERE id IN ({}) ORDER BY id FOR UPDATE",
                    placeholders(chunk.len())
                );
                let query = chunk
                    .iter()
                    .fold(sqlx::query(&sql), |query, (id, _)| query.bind(id.as_str()));
                query.execute(&mut **transaction).await?;
            }
            let mut placeholders = Placeholders::new(engine);
            let rows = placeholders.rows(chunk.len(), 2);
            let now_at = placeholders.next();
            let sql = format!(
                "WITH health (id, succeeded_at) AS (VALUES {rows})
                 UPDATE webhook_endpoints SET
                    last_success_at = COALESCE(health.succeeded_at, webhook_endpoints.last_success_at),
                    failing_since = CASE WHEN health.succeeded_at IS NULL
                        THEN COALESCE(webhook_endpoints.failing_since, {now_at}) ELSE NULL END
                 FROM health WHERE webhook_endpoints.id = health.id"
            );
            let query = chunk.iter().fold(sqlx::query(&sql), |query, (id, at)| {
                query.bind(id.as_str()).bind(*at)
            });
            query.bind(now).execute(&mut **transaction).await?;
        }
        Ok(())
    }

    /// Gatehouse disables an endpoint (410 Gone, or failing for 5 days): audited and
    /// announced with a `webhook_endpoint.disabled` event like any change.
    async fn disable_endpoint_by_system(
        &self,
        tenant_id: &str,
        endpoint_id: &WebhookEndpointId,
        reason: DisabledReason,
    ) -> Result<(), DomainError> {
        let tenant_id = TenantId::parse(tenant_id)
            .map_err(|_| DomainError::Internal("stored tenant id is invalid".to_owned()))?;
        let endpoint = match self.find_endpoint(&tenant_id, endpoint_id).await {
            Ok(endpoint) => endpoint,
            Err(DomainError::NotFound(_)) => return Ok(()),
            Err(error) => return Err(error),
        };
        if endpoint.status == EndpointStatus::Disabled {
            return Ok(());
        }
        tracing::warn!(%endpoint_id, reason = reason.as_str(), "webhook endpoint disabled");
        self.set_endpoint_status(&Actor::system(tenant_id), &endpoint, Some(reason))
            .await
            .map(|_| ())
    }
}

/// When a failed attempt is tried again, or `None` when it succeeded, the receiver
/// answered 410 Gone, or the schedule is spent. A jitter of up to a tenth of the wait
/// spreads retries; `Retry-After` may push it out (never beyond the bound).
fn next_attempt(outcome: &Outcome, settings: &super::DeliverySettings, now_ms: i64) -> Option<i64> {
    if outcome.succeeded() || outcome.http_status == Some(410) {
        return None;
    }
    let made = usize::try_from(outcome.claimed.attempts).unwrap_or(usize::MAX) + 1;
    let wait = *settings.retry_schedule.get(made - 1)?;
    let jitter_ms = rand::thread_rng().gen_range(0..=wait.as_millis() as u64 / 10);
    let mut wait_ms = wait.as_millis() as i64 + jitter_ms as i64;
    if let Some(asked) = outcome.retry_after {
        let asked_ms = asked.min(settings.max_retry_after).as_millis() as i64;
        wait_ms = wait_ms.max(asked_ms);
    }
    Some(now_ms + wait_ms)
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    let seconds = (at.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(seconds as u64))
}

/// Why a request got no answer, without the URL (which may carry a token).
fn describe_send_error(error: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut cause = String::new();
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    let kind = if error.is_connect() {
        "could not connect"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_body() || error.is_decode() {
        "the answer could not be read"
    } else {
        "the request failed"
    };
    if cause.is_empty() {
        kind.to_owned()
    } else {
        let cause: String = cause.chars().take(200).collect();
        format!("{kind}: {cause}")
    }
}

/// The delivered body (Standard Webhooks' payload shape): the same bytes on every
/// attempt of an event.
pub(crate) fn payload_body(event_type: &str, occurred_at_ms: i64, data: &str) -> Vec<u8> {
    let timestamp =
        crate::time::from_ms(occurred_at_ms).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    format!(
        r#"{{"type":{},"timestamp":"{timestamp}","data":{data}}}"#,
        serde_json::Value::String(event_type.to_owned())
    )
    .into_bytes()
}

fn unique(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    values.filter(|value| seen.insert(value.clone())).collect()
}

fn placeholders(count: usize) -> String {
    placeholders_from(count, 1)
}

fn placeholders_from(count: usize, first: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn the_body_is_the_standard_payload_shape() {
        let body = payload_body("payment_intent.succeeded", 0, r#"{"amount":5}"#);
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["type"], "payment_intent.succeeded");
        assert_eq!(parsed["timestamp"], "1970-01-01T00:00:00.000Z");
        assert_eq!(parsed["data"]["amount"], 5);
    }
}
