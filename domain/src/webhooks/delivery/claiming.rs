//! Claiming: leases due deliveries for this instance (`lease_until`, `leased_by`),
//! from a scan of the queue or by id (deliveries this instance queued), within the
//! endpoints' caps.

use gatehouse_model::{DeliveryId, EventId, TenantId, WebhookEndpointId};
use sqlx::Row;

use super::Claimed;
use super::gates::Reserved;
use crate::db::Placeholders;
use crate::error::DomainError;
use crate::stored::Stored;
use crate::{Engine, Gatehouse};

/// "The row is pending", for statements that name their rows by id. Written so that
/// PostgreSQL cannot match it to the partial index of pending rows: with statistics
/// that lag a burst (a table that grew by thousands of rows in seconds), the planner
/// took that index for small and walked every pending row and its dead entries, 10 to
/// 30 ms a statement, instead of looking the ids up by the primary key. `state` is NOT
/// NULL, so this is `state = 'pending'`.
pub(super) const PENDING_BY_ID: &str = "COALESCE(state = 'pending', FALSE)";
/// The columns a lease statement returns, read by [`Gatehouse::claimed_from_rows`].
const CLAIMED_COLUMNS: &str = "id, tenant_id, endpoint_id, event_id, event_type, attempts";

impl Gatehouse {
    /// Leases up to `limit` due deliveries of enabled endpoints, at most
    /// `max_in_flight_per_endpoint` per endpoint, leaving out endpoints that already
    /// have that many outstanding here.
    pub(super) async fn claim_due(&self, limit: usize) -> Result<Vec<Claimed>, DomainError> {
        let now = self.now_ms();
        let engine = self.db().engine();
        // 1. Due rows in due order, straight from the partial index, leaving out
        //    endpoints that have all they may have in flight here; a few times what is
        //    asked, so the per-endpoint cap below still leaves enough.
        let full = self.webhooks.full_endpoints();
        let mut placeholders = Placeholders::new(engine);
        let (now_at, lease_free_at) = (placeholders.next(), placeholders.next());
        let excluded = if full.is_empty() {
            String::new()
        } else {
            format!(
                "AND d.endpoint_id NOT IN ({})",
                placeholders.list(full.len())
            )
        };
        let limit_at = placeholders.next();
        let sql = format!(
            "SELECT d.id, d.endpoint_id FROM webhook_deliveries d
             JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.status = 'enabled'
             WHERE d.state = 'pending' AND d.next_attempt_at <= {now_at}
               AND (d.lease_until IS NULL OR d.lease_until <= {lease_free_at}) {excluded}
             ORDER BY d.next_attempt_at LIMIT {limit_at}"
        );
        let query = sqlx::query(&sql).bind(now).bind(now);
        let query = full
            .iter()
            .fold(query, |query, endpoint| query.bind(endpoint.as_str()));
        let rows = query
            .bind((limit * 4) as i64)
            .fetch_all(self.db().pool())
            .await?;
        let candidate_count = rows.len();
        let mut candidates: Vec<Reserved> = Vec::with_capacity(rows.len());
        for row in &rows {
            let stored = Stored::new(row, "webhook delivery");
            candidates.push((
                stored.parsed("id", |id| DeliveryId::parse(id).ok())?,
                stored.parsed("endpoint_id", |id| WebhookEndpointId::parse(id).ok())?,
            ));
        }
        // 2. At most `max_in_flight_per_endpoint` per endpoint, counting what is
        //    outstanding here already.
        let (chosen, _) = self
            .webhooks
            .within_caps(candidates, limit, |(_, endpoint_id)| endpoint_id);
        self.webhooks.more_due.store(
            candidate_count > chosen.len() || candidate_count == limit * 4,
            std::sync::atomic::Ordering::Release,
        );
        if chosen.is_empty() {
            return Ok(Vec::new());
        }
        // 3. Lease them. The lease is checked again on the row itself; on PostgreSQL a
        //    row another instance is leasing right now is skipped, not waited for.
        let lock = match engine {
            Engine::Postgres => "FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        let mut placeholders = Placeholders::new(engine);
        let (lease_until_at, instance_at) = (placeholders.next(), placeholders.next());
        let now_at = placeholders.next();
        let ids = placeholders.list(chosen.len());
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_until = {lease_until_at}, leased_by = {instance_at}
             WHERE id IN (
                SELECT id FROM webhook_deliveries
                WHERE (lease_until IS NULL OR lease_until <= {now_at}) AND state = 'pending'
                  AND id IN ({ids})
                {lock}
             )
             RETURNING {CLAIMED_COLUMNS}"
        );
        self.lease_reserved(&sql, now, 1, &chosen).await
    }

    /// Leases the given deliveries by id (those still pending and free, of endpoints
    /// still enabled: a handed delivery may wait while its endpoint is disabled).
    pub(super) async fn claim_ids(&self, ids: &[Reserved]) -> Result<Vec<Claimed>, DomainError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now_ms();
        let mut placeholders = Placeholders::new(self.db().engine());
        let (lease_until_at, instance_at) = (placeholders.next(), placeholders.next());
        let (due_at, lease_free_at) = (placeholders.next(), placeholders.next());
        let id_list = placeholders.list(ids.len());
        // By id: see PENDING_BY_ID.
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_until = {lease_until_at}, leased_by = {instance_at}
             WHERE next_attempt_at <= {due_at} AND (lease_until IS NULL OR lease_until <= {lease_free_at})
               AND id IN ({id_list}) AND {PENDING_BY_ID}
               AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE status = 'enabled')
             RETURNING {CLAIMED_COLUMNS}"
        );
        self.lease_reserved(&sql, now, 2, ids).await
    }

    /// Runs a lease statement over reserved rows, its placeholders in this order: the
    /// lease's end, the instance, `now` (`now_placeholders` times), then the ids; and
    /// releases the reservations of rows it did not lease.
    async fn lease_reserved(
        &self,
        sql: &str,
        now: i64,
        now_placeholders: usize,
        chosen: &[Reserved],
    ) -> Result<Vec<Claimed>, DomainError> {
        let mut query = sqlx::query(sql)
            .bind(now + self.webhooks.settings.delivery.lease.as_millis() as i64)
            .bind(self.instance_id.as_ref());
        for _ in 0..now_placeholders {
            query = query.bind(now);
        }
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
    pub(super) fn claimed_from_rows(
        &self,
        rows: Vec<sqlx::any::AnyRow>,
        count: bool,
    ) -> Result<Vec<Claimed>, DomainError> {
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let stored = Stored::new(&row, "webhook delivery");
            let endpoint_id: WebhookEndpointId =
                stored.parsed("endpoint_id", |id| WebhookEndpointId::parse(id).ok())?;
            if count {
                self.webhooks.add_outstanding(&endpoint_id, 1);
            }
            claimed.push(Claimed {
                delivery_id: stored.parsed("id", |id| DeliveryId::parse(id).ok())?,
                tenant_id: stored.parsed("tenant_id", |id| TenantId::parse(id).ok())?,
                endpoint_id,
                event_id: stored.parsed("event_id", |id| EventId::parse(id).ok())?,
                event_type: row.try_get("event_type")?,
                attempts: row.try_get("attempts")?,
                body: None,
            });
        }
        Ok(claimed)
    }
}
