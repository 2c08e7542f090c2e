//! Claiming: leases due deliveries for this instance (`lease_until`, `leased_by`), from
//! a scan of the queue or by id (deliveries this instance queued), as the gates admit
//! them. The scan reads the due rows round robin between tenants and between each
//! tenant's endpoints, leaving out endpoints and tenants at their caps and endpoints
//! whose rate-limit turn is not near, so that one tenant's backlog is never all it sees.

use std::collections::HashMap;

use gatehouse_model::{DeliveryId, EventId, TenantId, WebhookEndpointId};
use sqlx::Row;

use super::Claimed;
use super::gates::{Admitted, Blocked};
use crate::db::Placeholders;
use crate::error::DomainError;
use crate::stored::Stored;
use crate::tenants::SUSPENDED_TENANT_IDS;
use crate::webhooks::events::QueuedDelivery;
use crate::{Engine, Gatehouse};

/// "The row is pending", for statements that name their rows by id. Written so that
/// PostgreSQL cannot match it to the partial index of pending rows: with statistics
/// that lag a burst (a table that grew by thousands of rows in seconds), the planner
/// took that index for small and walked every pending row and its dead entries, 10 to
/// 30 ms a statement, instead of looking the ids up by the primary key. `state` is NOT
/// NULL, so this is `state = 'pending'`.
pub(super) const PENDING_BY_ID: &str = "COALESCE(state = 'pending', FALSE)";
/// "The row's endpoint is enabled", for statements that name their rows by id: a
/// value looked up per row, which the planner cannot turn into a join driven by the
/// endpoints (with statistics that lag a burst it read every row of each endpoint).
const ENDPOINT_ENABLED: &str = "COALESCE((SELECT e.status = 'enabled' FROM webhook_endpoints e
        WHERE e.id = webhook_deliveries.endpoint_id), FALSE)";
/// The columns a lease statement returns, read by [`Gatehouse::claimed_from_rows`].
const CLAIMED_COLUMNS: &str = "id, tenant_id, endpoint_id, event_id, event_type, attempts";
/// The oldest due rows a scan shares out at most: its cost stays bounded however long
/// the queue (on PostgreSQL, 4-6 ms over a queue of 50,000 due rows, against 1-1.5 ms
/// for the oldest rows alone). Tenants and endpoints at their caps are left out before
/// this bound, so a tenant's backlog fills it only while that tenant has room.
const SCAN_WINDOW: i64 = 2048;
/// How often at most a scan of a backlog ranks it fairly: the ranking costs several
/// times the plain read of the oldest rows, and a scan may run after every recorded
/// batch.
const FAIR_RANKING_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// Candidates a scan reads per delivery it may claim (some are held back by the gates).
const CANDIDATES_PER_CLAIM: usize = 4;

/// How a scan reads the due rows.
#[derive(Debug, Clone, Copy)]
enum Ranking {
    /// The oldest first: cheap, straight from the partial index of pending rows.
    Oldest,
    /// Of the oldest [`SCAN_WINDOW`], at most an endpoint's cap per endpoint and a
    /// tenant's cap per tenant, taken round robin: every tenant's first, then every
    /// tenant's second, each tenant's turns going round its endpoints.
    Fair,
}

impl Gatehouse {
    /// Leases up to `limit` due deliveries of enabled endpoints, as the gates admit
    /// them: in fair order, within the endpoints' and tenants' caps, each at its
    /// endpoint's rate-limit turn.
    pub(super) async fn claim_due(&self, limit: usize) -> Result<Vec<Claimed>, DomainError> {
        let blocked = self.webhooks.blocked();
        let (candidates, backlog) = self
            .due_candidates(limit * CANDIDATES_PER_CLAIM, &blocked)
            .await?;
        let admission = self.webhooks.admit_scanned(candidates, limit, &blocked);
        self.webhooks.more_due.store(
            backlog || !admission.deferred.is_empty() || admission.filled_a_tenant,
            std::sync::atomic::Ordering::Release,
        );
        if admission.admitted.is_empty() {
            return Ok(Vec::new());
        }
        // The lease is checked again on the row itself; on PostgreSQL a row another
        // instance is leasing right now is skipped, not waited for.
        let lock = match self.db().engine() {
            Engine::Postgres => "FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        let mut placeholders = Placeholders::new(self.db().engine());
        let (lease_until_at, instance_at) = (placeholders.next(), placeholders.next());
        let now_at = placeholders.next();
        let ids = placeholders.list(admission.admitted.len());
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_until = {lease_until_at}, leased_by = {instance_at}
             WHERE id IN (
                SELECT id FROM webhook_deliveries
                WHERE (lease_until IS NULL OR lease_until <= {now_at}) AND {PENDING_BY_ID}
                  AND id IN ({ids})
                {lock}
             )
             RETURNING {CLAIMED_COLUMNS}"
        );
        self.lease_admitted(&sql, 1, admission.admitted).await
    }

    /// Up to `limit` due, unleased deliveries of enabled endpoints not `blocked`, and
    /// whether more are due. When the oldest `limit` are all there are, they are the
    /// candidates (the gates put them in fair order). Else, at most every
    /// [`FAIR_RANKING_EVERY`], the scan shares out the oldest [`SCAN_WINDOW`] (see
    /// [`Ranking::Fair`]); between, the oldest are the candidates, tenants and endpoints
    /// at their caps left out.
    async fn due_candidates(
        &self,
        limit: usize,
        blocked: &Blocked,
    ) -> Result<(Vec<QueuedDelivery>, bool), DomainError> {
        let oldest = self.due_rows(limit, blocked, Ranking::Oldest).await?;
        if oldest.len() < limit {
            return Ok((oldest, false));
        }
        if !self.webhooks.fair_ranking_due(FAIR_RANKING_EVERY) {
            return Ok((oldest, true));
        }
        Ok((self.due_rows(limit, blocked, Ranking::Fair).await?, true))
    }

    /// Reads due rows as `ranking` says.
    async fn due_rows(
        &self,
        limit: usize,
        blocked: &Blocked,
        ranking: Ranking,
    ) -> Result<Vec<QueuedDelivery>, DomainError> {
        let now = self.now_ms();
        let settings = &self.webhooks.settings.delivery;
        let mut placeholders = Placeholders::new(self.db().engine());
        let (due_at, lease_free_at) = (placeholders.next(), placeholders.next());
        let mut exclusions = String::new();
        if !blocked.endpoints.is_empty() {
            let list = placeholders.list(blocked.endpoints.len());
            exclusions.push_str(&format!(" AND d.endpoint_id NOT IN ({list})"));
        }
        if !blocked.tenants.is_empty() {
            let list = placeholders.list(blocked.tenants.len());
            exclusions.push_str(&format!(" AND d.tenant_id NOT IN ({list})"));
        }
        let window_at = placeholders.next();
        let oldest_due = format!(
            "SELECT d.id, d.tenant_id, d.endpoint_id, e.rate_limit_per_second, d.next_attempt_at
             FROM webhook_deliveries d
             JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.status = 'enabled'
             WHERE d.state = 'pending' AND d.next_attempt_at <= {due_at}
               AND (d.lease_until IS NULL OR d.lease_until <= {lease_free_at}){exclusions}
               AND d.tenant_id NOT IN ({SUSPENDED_TENANT_IDS})
             ORDER BY d.next_attempt_at LIMIT {window_at}"
        );
        let sql = match ranking {
            Ranking::Oldest => oldest_due,
            Ranking::Fair => {
                let (per_endpoint_at, per_tenant_at) = (placeholders.next(), placeholders.next());
                let limit_at = placeholders.next();
                format!(
                    "SELECT id, tenant_id, endpoint_id, rate_limit_per_second FROM (
                        SELECT id, tenant_id, endpoint_id, rate_limit_per_second, next_attempt_at,
                            ROW_NUMBER() OVER (PARTITION BY tenant_id
                                ORDER BY endpoint_turn, next_attempt_at) AS tenant_turn
                        FROM (
                            SELECT id, tenant_id, endpoint_id, rate_limit_per_second,
                                next_attempt_at,
                                ROW_NUMBER() OVER (PARTITION BY endpoint_id
                                    ORDER BY next_attempt_at) AS endpoint_turn
                            FROM ({oldest_due}) oldest_due
                        ) by_endpoint
                        WHERE endpoint_turn <= {per_endpoint_at}
                     ) by_tenant
                     WHERE tenant_turn <= {per_tenant_at}
                     ORDER BY tenant_turn, next_attempt_at
                     LIMIT {limit_at}"
                )
            }
        };
        let query = sqlx::query(&sql).bind(now).bind(now);
        let query = blocked
            .endpoints
            .iter()
            .fold(query, |query, id| query.bind(id.as_str()));
        let query = blocked
            .tenants
            .iter()
            .fold(query, |query, id| query.bind(id.as_str()));
        let query = match ranking {
            Ranking::Oldest => query.bind(limit as i64),
            Ranking::Fair => query
                .bind(SCAN_WINDOW)
                .bind(settings.max_in_flight_per_endpoint as i64)
                .bind(settings.max_in_flight_per_tenant as i64)
                .bind(limit as i64),
        };
        let rows = query.fetch_all(self.db().pool()).await?;
        let mut candidates = Vec::with_capacity(rows.len());
        for row in &rows {
            let stored = Stored::new(row, "webhook delivery");
            let rate: Option<i64> = stored.get("rate_limit_per_second")?;
            candidates.push(QueuedDelivery {
                delivery_id: stored.parsed("id", |id| DeliveryId::parse(id).ok())?,
                tenant_id: stored.parsed("tenant_id", |id| TenantId::parse(id).ok())?,
                endpoint_id: stored
                    .parsed("endpoint_id", |id| WebhookEndpointId::parse(id).ok())?,
                rate_limit_per_second: rate.and_then(|rate| u32::try_from(rate).ok()),
                body: None,
            });
        }
        Ok(candidates)
    }

    /// Leases admitted deliveries by id (those still pending and free, of endpoints
    /// still enabled: a handed delivery may wait while its endpoint is disabled).
    pub(super) async fn claim_ids(
        &self,
        admitted: Vec<Admitted>,
    ) -> Result<Vec<Claimed>, DomainError> {
        if admitted.is_empty() {
            return Ok(Vec::new());
        }
        let mut placeholders = Placeholders::new(self.db().engine());
        let (lease_until_at, instance_at) = (placeholders.next(), placeholders.next());
        let (due_at, lease_free_at) = (placeholders.next(), placeholders.next());
        let id_list = placeholders.list(admitted.len());
        // By id: see PENDING_BY_ID.
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_until = {lease_until_at}, leased_by = {instance_at}
             WHERE next_attempt_at <= {due_at} AND (lease_until IS NULL OR lease_until <= {lease_free_at})
               AND id IN ({id_list}) AND {PENDING_BY_ID}
               AND {ENDPOINT_ENABLED}
               AND tenant_id NOT IN ({SUSPENDED_TENANT_IDS})
             RETURNING {CLAIMED_COLUMNS}"
        );
        self.lease_admitted(&sql, 2, admitted).await
    }

    /// Runs a lease statement over admitted deliveries, its placeholders in this order:
    /// the lease's end, the instance, now (`now_placeholders` times), then the ids. The
    /// leased keep their body and turn; the admitted that were not leased are released.
    async fn lease_admitted(
        &self,
        sql: &str,
        now_placeholders: usize,
        admitted: Vec<Admitted>,
    ) -> Result<Vec<Claimed>, DomainError> {
        let now = self.now_ms();
        let mut query = sqlx::query(sql)
            .bind(now + self.webhooks.settings.delivery.lease.as_millis() as i64)
            .bind(self.instance_id.as_ref());
        for _ in 0..now_placeholders {
            query = query.bind(now);
        }
        let query = admitted.iter().fold(query, |query, admitted| {
            query.bind(admitted.delivery.delivery_id.as_str())
        });
        let claimed = match self.lease(query).await {
            Ok(rows) => self.claimed_from_rows(rows, false),
            Err(error) => Err(error),
        };
        self.webhooks
            .release_unclaimed(&admitted, claimed.as_deref().unwrap_or_default());
        let mut claimed = claimed?;
        let mut admitted: HashMap<DeliveryId, Admitted> = admitted
            .into_iter()
            .map(|admitted| (admitted.delivery.delivery_id.clone(), admitted))
            .collect();
        for job in &mut claimed {
            if let Some(admitted) = admitted.remove(&job.delivery_id) {
                job.body = admitted.delivery.body;
                job.send_at = admitted.send_at;
            }
        }
        Ok(claimed)
    }

    /// Runs a lease statement; on PostgreSQL in a transaction of its own that looks
    /// rows up by id (on SQLite there is nothing to set, and a transaction would only add
    /// two turns of the writer).
    async fn lease<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<Vec<sqlx::any::AnyRow>, DomainError> {
        if self.db().engine() == Engine::Sqlite {
            return Ok(query.fetch_all(self.db().writer()).await?);
        }
        let mut transaction = self.db().writer().begin().await?;
        crate::db::look_up_by_id(&mut transaction).await?;
        let rows = query.fetch_all(&mut *transaction).await?;
        transaction.commit().await?;
        Ok(rows)
    }

    /// Reads leased rows; `count` adds them to the outstanding counts (rows that were
    /// not admitted beforehand).
    pub(super) fn claimed_from_rows(
        &self,
        rows: Vec<sqlx::any::AnyRow>,
        count: bool,
    ) -> Result<Vec<Claimed>, DomainError> {
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let stored = Stored::new(&row, "webhook delivery");
            let tenant_id: TenantId = stored.parsed("tenant_id", |id| TenantId::parse(id).ok())?;
            let endpoint_id: WebhookEndpointId =
                stored.parsed("endpoint_id", |id| WebhookEndpointId::parse(id).ok())?;
            if count {
                self.webhooks.count_outstanding(&tenant_id, &endpoint_id);
            }
            claimed.push(Claimed {
                delivery_id: stored.parsed("id", |id| DeliveryId::parse(id).ok())?,
                tenant_id,
                endpoint_id,
                event_id: stored.parsed("event_id", |id| EventId::parse(id).ok())?,
                event_type: row.try_get("event_type")?,
                attempts: row.try_get("attempts")?,
                body: None,
                send_at: None,
            });
        }
        Ok(claimed)
    }
}
