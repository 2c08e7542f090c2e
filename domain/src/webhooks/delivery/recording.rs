//! Recording: a batch of outcomes written together, in one transaction — the attempt
//! rows for the log, each delivery's next state (retry, succeeded, failed) and each
//! endpoint's health; then endpoints that answered 410 Gone or failed for 5 days are
//! disabled through the one commit path.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use gatehouse_model::{AttemptId, DisabledReason, EndpointStatus, TenantId, WebhookEndpointId};
use rand::Rng;

use super::Outcome;
use crate::actor::Actor;
use crate::db::Placeholders;
use crate::error::DomainError;
use crate::webhooks::DeliverySettings;
use crate::{Engine, Gatehouse, ids};

/// Outcomes one statement writes at most.
const OUTCOMES_PER_STATEMENT: usize = 100;

impl Gatehouse {
    /// Writes a batch of outcomes in one transaction (see [`Self::write_outcomes`]);
    /// should the database refuse the batch, writes its outcomes one by one, so that
    /// one it cannot store never keeps the others from being written. Then disables
    /// endpoints that answered 410 or failed for 5 days.
    pub(crate) async fn record(&self, outcomes: Vec<Outcome>) -> Result<(), DomainError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let settings = &self.webhooks.settings.delivery;
        let now = self.now_ms();
        // Each outcome's next attempt, drawn once (with its jitter) for both rows.
        let nexts: Vec<Option<i64>> = outcomes
            .iter()
            .map(|outcome| next_attempt(outcome, settings, now))
            .collect();
        match self.write_outcomes(&outcomes, &nexts, now).await {
            Ok(()) => {}
            Err(error) if error.is_refused_value() && outcomes.len() > 1 => {
                tracing::warn!(%error, outcomes = outcomes.len(), "a batch of delivery outcomes was refused; writing them one by one");
                for (outcome, next) in outcomes.iter().zip(&nexts) {
                    let written = self
                        .write_outcomes(std::slice::from_ref(outcome), &[*next], now)
                        .await;
                    if let Err(error) = written {
                        let delivery_id = &outcome.claimed.delivery_id;
                        tracing::error!(%error, %delivery_id, "a delivery outcome was not recorded; its lease will run out and it is sent again");
                        if !error.is_refused_value() {
                            return Err(error);
                        }
                    }
                }
            }
            Err(error) => return Err(error),
        }
        let mut gone: HashSet<(TenantId, WebhookEndpointId)> = HashSet::new();
        let mut any_failed = false;
        for outcome in outcomes.iter().filter(|outcome| !outcome.succeeded()) {
            any_failed = true;
            if outcome.http_status == Some(410) {
                gone.insert((
                    outcome.claimed.tenant_id.clone(),
                    outcome.claimed.endpoint_id.clone(),
                ));
            }
        }
        for (tenant_id, endpoint_id) in gone {
            self.disable_endpoint_by_system(&tenant_id, &endpoint_id, DisabledReason::Gone)
                .await?;
        }
        // Judged when an attempt fails: a batch of successes cannot make anything fail.
        if !any_failed {
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
            if let (Ok(tenant_id), Ok(endpoint_id)) = (
                TenantId::parse(&tenant_id),
                WebhookEndpointId::parse(&endpoint_id),
            ) {
                self.disable_endpoint_by_system(&tenant_id, &endpoint_id, DisabledReason::Failing)
                    .await?;
            }
        }
        Ok(())
    }

    /// Writes outcomes in one transaction: the attempts, each delivery's next state
    /// (only while this instance still holds its lease; `nexts` holds each one's next
    /// attempt), and each endpoint's health.
    async fn write_outcomes(
        &self,
        outcomes: &[Outcome],
        nexts: &[Option<i64>],
        now: i64,
    ) -> Result<(), DomainError> {
        // Endpoints are updated in id order (ordered maps): instances that record
        // outcomes for the same endpoints at once take their row locks in one order, so
        // they never deadlock.
        let mut succeeded_at: BTreeMap<WebhookEndpointId, i64> = BTreeMap::new();
        let mut failed: BTreeSet<WebhookEndpointId> = BTreeSet::new();
        let mut transaction = self.db().writer().begin().await?;
        crate::db::look_up_by_id(&mut transaction).await?;
        let engine = self.db().engine();
        for (chunk, chunk_nexts) in outcomes
            .chunks(OUTCOMES_PER_STATEMENT)
            .zip(nexts.chunks(OUTCOMES_PER_STATEMENT))
        {
            let sql = format!(
                "INSERT INTO webhook_attempts (id, tenant_id, delivery_id, endpoint_id, event_id,
                    event_type, attempted_at, succeeded, http_status, latency_ms, response_excerpt,
                    error, next_retry_at, signature_excerpt) VALUES {}",
                Placeholders::new(engine).rows(chunk.len(), 14)
            );
            let mut query = sqlx::query(&sql);
            for (outcome, next) in chunk.iter().zip(chunk_nexts) {
                query = query
                    .bind(AttemptId::from_body(&ids::fresh_body()).to_string())
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
                    .bind(*next)
                    .bind(outcome.signature_excerpt.as_deref());
            }
            query.execute(&mut *transaction).await?;
        }
        // Each delivery's next state, a chunk per statement; only while this instance
        // still holds the row's lease.
        for (chunk, chunk_nexts) in outcomes
            .chunks(OUTCOMES_PER_STATEMENT)
            .zip(nexts.chunks(OUTCOMES_PER_STATEMENT))
        {
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
        for outcome in outcomes {
            let endpoint_id = outcome.claimed.endpoint_id.clone();
            if outcome.succeeded() {
                let at = succeeded_at.entry(endpoint_id).or_insert(0);
                *at = (*at).max(outcome.attempted_at_ms);
            } else {
                failed.insert(endpoint_id);
            }
        }
        self.record_endpoint_health(&mut transaction, &succeeded_at, &failed, now)
            .await?;
        transaction.commit().await?;
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
        for chunk in health
            .into_iter()
            .collect::<Vec<_>>()
            .chunks(OUTCOMES_PER_STATEMENT)
        {
            if engine == Engine::Postgres {
                let sql = format!(
                    "SELECT id FROM webhook_endpoints WHERE id IN ({}) ORDER BY id FOR UPDATE",
                    Placeholders::new(engine).list(chunk.len())
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
        tenant_id: &TenantId,
        endpoint_id: &WebhookEndpointId,
        reason: DisabledReason,
    ) -> Result<(), DomainError> {
        let endpoint = match self.find_endpoint(tenant_id, endpoint_id).await {
            Ok(endpoint) => endpoint,
            Err(DomainError::NotFound(_)) => return Ok(()),
            Err(error) => return Err(error),
        };
        if endpoint.status == EndpointStatus::Disabled {
            return Ok(());
        }
        tracing::warn!(%endpoint_id, reason = reason.as_str(), "webhook endpoint disabled");
        self.set_endpoint_status(&Actor::system(tenant_id.clone()), &endpoint, Some(reason))
            .await
            .map(|_| ())
    }
}

/// When a failed attempt is tried again, or `None` when it succeeded, the receiver
/// answered 410 Gone, or the schedule is spent. A jitter of up to a tenth of the wait
/// spreads retries; `Retry-After` may push it out (never beyond the bound).
fn next_attempt(outcome: &Outcome, settings: &DeliverySettings, now_ms: i64) -> Option<i64> {
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
