//! An endpoint's life: create (its signing secret returned once),
//! read and list, edit, disable and enable, delete, rotate the secret with a 24-hour
//! overlap. Every change goes through the one commit path with its audit event.

use gatehouse_model::{
    ALL_EVENT_FAMILIES, AlertKind, AppId, CreatedEndpoint, DisabledReason, EndpointInput,
    EndpointListItem, EndpointStatus, EndpointUpdate, EndpointView, EventType, KeyMode, Page,
    PageRequest, ScopeCatalog, WebhookEndpointId, WebhooksPage,
};
use serde_json::json;

use super::secrets::SigningSecret;
use super::{ENDPOINT_COLUMNS, audit_state, endpoint_from_row};
use crate::access::Access;
use crate::actor::Actor;
use crate::alerts::NewAlert;
use crate::audit::AuditRecord;
use crate::change::Change;
use crate::error::DomainError;
use crate::paging::Keyset;
use crate::text::TextRule;
use crate::webhooks::events::NewEvent;
use crate::{Gatehouse, ids, time};

pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// An endpoint's description.
pub const DESCRIPTION: TextRule = TextRule::description(MAX_DESCRIPTION_CHARS);
pub const MAX_RATE_LIMIT_PER_SECOND: u32 = 10_000;
/// Endpoints one app may have.
pub const MAX_ENDPOINTS_PER_APP: i64 = 50;
/// How long a rotated-out secret keeps signing.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 60 * 60 * 1000;

/// Checks the families an endpoint subscribes to: catalog families (`api_key.*`) or
/// `*`; nothing (or `*` among them) is every family. Returns them sorted, once each.
pub fn validate_families(
    families: &[String],
    catalog: &ScopeCatalog,
) -> Result<Vec<String>, DomainError> {
    let mut chosen: Vec<String> = Vec::new();
    let mut unknown = Vec::new();
    for family in families.iter().map(|family| family.trim()) {
        if family == ALL_EVENT_FAMILIES {
            return Ok(vec![ALL_EVENT_FAMILIES.to_owned()]);
        }
        if catalog.event_families.iter().any(|known| known == family) {
            if !chosen.iter().any(|seen| seen == family) {
                chosen.push(family.to_owned());
            }
        } else {
            unknown.push(family.to_owned());
        }
    }
    if !unknown.is_empty() {
        return Err(DomainError::field(
            "event_families",
            format!(
                "Not an event family: {}. Choose from the list (e.g. api_key.*) or * for all.",
                crate::api_keys::validation::name_some(&unknown)
            ),
        ));
    }
    if chosen.is_empty() {
        return Ok(vec![ALL_EVENT_FAMILIES.to_owned()]);
    }
    chosen.sort();
    Ok(chosen)
}

/// The family rows fan-out matches on: `api_key.*` is stored as `api_key`.
fn family_keys(families: &[String]) -> Vec<&str> {
    families
        .iter()
        .map(|family| family.strip_suffix(".*").unwrap_or(family))
        .collect()
}

fn validate_description(description: &str) -> Result<String, DomainError> {
    DESCRIPTION
        .check(description)
        .map_err(|message| DomainError::field("description", message))
}

fn validate_rate(rate: Option<u32>) -> Result<Option<u32>, DomainError> {
    match rate {
        Some(rate) if rate == 0 || rate > MAX_RATE_LIMIT_PER_SECOND => Err(DomainError::field(
            "rate_limit_per_second",
            format!("Use 1 to {MAX_RATE_LIMIT_PER_SECOND} deliveries per second, or no limit."),
        )),
        other => Ok(other),
    }
}

/// Collects every field's problem at once, so the form shows them all.
struct Problems(Vec<gatehouse_model::FieldError>);

impl Problems {
    fn take<T>(&mut self, result: Result<T, DomainError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(DomainError::Validation(fields)) => {
                self.0.extend(fields);
                None
            }
            Err(_) => None,
        }
    }
}

impl Gatehouse {
    /// Checks a destination URL for an endpoint of `mode`.
    async fn checked_url(&self, url: &str, mode: KeyMode) -> Result<String, DomainError> {
        self.webhooks
            .settings
            .destinations
            .check_url(url, mode)
            .await
            .map_err(|message| DomainError::field("url", message))
    }

    /// Seals a secret with the current master key.
    fn seal(&self, secret: &SigningSecret) -> Result<String, DomainError> {
        let keys = self.webhooks.settings.master_keys.as_ref().ok_or_else(|| {
            DomainError::Internal("no master key is configured for webhook secrets".to_owned())
        })?;
        Ok(keys.seal(secret))
    }

    /// Creates an endpoint of one of the tenant's apps; the signing secret is in the
    /// answer and nowhere else (sealed at rest).
    pub async fn create_webhook_endpoint(
        &self,
        actor: &Actor,
        input: &EndpointInput,
    ) -> Result<CreatedEndpoint, DomainError> {
        actor.require(Access::WEBHOOKS_WRITE)?;
        let app_id = actor.app_or_own(input.app_id.as_ref())?;
        actor.reach().require_app(&app_id)?;
        actor.reach().mode(Some(input.mode), "endpoints")?;
        let mut problems = Problems(Vec::new());
        let url = problems.take(self.checked_url(&input.url, input.mode).await);
        let description = problems.take(validate_description(&input.description));
        let families = problems.take(validate_families(
            &input.event_families,
            self.scope_catalog(),
        ));
        let rate = problems.take(validate_rate(input.rate_limit_per_second));
        let (Some(url), Some(description), Some(families), Some(rate)) =
            (url, description, families, rate)
        else {
            return Err(DomainError::Validation(problems.0));
        };
        self.find_app(&actor.tenant_id, &app_id).await?;
        let max_endpoints = self
            .tenant(&actor.tenant_id)
            .await?
            .caps
            .max_webhook_endpoints;
        let secret = SigningSecret::generate();
        let sealed = self.seal(&secret)?;
        let id = WebhookEndpointId::from_body(&ids::fresh_body());
        let (_, _, by) = actor.audit_identity();
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        // Takes the tenant's row lock, then the app's, so concurrent creates count one at
        // a time.
        let in_tenant = change
            .lock_tenant_and_count(&actor.tenant_id, "webhook_endpoints")
            .await?;
        if in_tenant >= max_endpoints {
            return Err(DomainError::LimitReached(format!(
                "This workspace has at most {max_endpoints} webhook endpoints: delete one first, or ask for more."
            )));
        }
        sqlx::query("UPDATE apps SET updated_at = updated_at WHERE id = $1")
            .bind(app_id.as_str())
            .execute(change.connection())
            .await?;
        let (existing,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM webhook_endpoints WHERE app_id = $1")
                .bind(app_id.as_str())
                .fetch_one(change.connection())
                .await?;
        if existing >= MAX_ENDPOINTS_PER_APP {
            return Err(DomainError::LimitReached(format!(
                "An app has at most {MAX_ENDPOINTS_PER_APP} webhook endpoints: delete one first."
            )));
        }
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, tenant_id, app_id, mode, url, description,
                event_families, status, disabled_reason, rate_limit_per_second, masked_secret,
                last_success_at, failing_since, created_at, created_by, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'enabled', NULL, $8, $9, NULL, NULL, $10, $11, $10, $11)",
        )
        .bind(id.as_str())
        .bind(actor.tenant_id.as_str())
        .bind(app_id.as_str())
        .bind(input.mode.as_str())
        .bind(&url)
        .bind(&description)
        .bind(json!(families).to_string())
        .bind(rate.map(i64::from))
        .bind(secret.masked())
        .bind(now)
        .bind(&by)
        .execute(change.connection())
        .await?;
        write_families(&mut change, &id, actor, input.mode, &families).await?;
        insert_secret(&mut change, &id, &sealed).await?;
        let endpoint = self
            .finish_endpoint_change(
                change,
                actor,
                &id,
                EventType::WebhookEndpointCreated,
                |endpoint| format!("Webhook endpoint {} created", endpoint.url),
                None,
            )
            .await?;
        Ok(CreatedEndpoint {
            endpoint,
            secret: secret.expose().to_owned(),
        })
    }

    /// The last step of every endpoint change: reads it back in the transaction,
    /// records the audit event with before and after, emits `webhook_endpoint.disabled`
    /// when that is what happened, and commits.
    pub(crate) async fn finish_endpoint_change(
        &self,
        mut change: Change<'_>,
        actor: &Actor,
        id: &WebhookEndpointId,
        event_type: EventType,
        message: impl FnOnce(&EndpointView) -> String,
        before: Option<&EndpointView>,
    ) -> Result<EndpointView, DomainError> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_one(change.connection())
        .await?;
        let after = endpoint_from_row(&row)?;
        let record = AuditRecord {
            before: before.map(audit_state),
            after: Some(audit_state(&after)),
            ..AuditRecord::by(actor, event_type, message(&after))
        }
        .in_app(&after.app_id, after.mode)
        .related("endpoint_id", id);
        change.audit(record).await?;
        if event_type.is_delivered() {
            change
                .emit(NewEvent {
                    tenant_id: actor.tenant_id.clone(),
                    mode: after.mode,
                    app_id: after.app_id.clone(),
                    event_type,
                    data: audit_state(&after),
                })
                .await?;
        }
        change.commit().await?;
        Ok(after)
    }

    /// One endpoint the actor may see; another tenant's, app's or mode's is "not found".
    pub async fn webhook_endpoint(
        &self,
        actor: &Actor,
        id: &WebhookEndpointId,
    ) -> Result<EndpointView, DomainError> {
        actor.require(Access::WEBHOOKS_READ)?;
        let endpoint = self.find_endpoint(&actor.tenant_id, id).await?;
        if !actor.reach().sees(&endpoint.app_id, endpoint.mode) {
            return Err(DomainError::NotFound("webhook endpoint"));
        }
        Ok(endpoint)
    }

    pub(crate) async fn find_endpoint(
        &self,
        tenant_id: &gatehouse_model::TenantId,
        id: &WebhookEndpointId,
    ) -> Result<EndpointView, DomainError> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id.as_str())
        .bind(tenant_id.as_str())
        .fetch_optional(self.db().pool())
        .await?
        .ok_or(DomainError::NotFound("webhook endpoint"))?;
        endpoint_from_row(&row)
    }

    /// An app's endpoints, oldest first, a page at a time, each with its last day of
    /// deliveries; a key lists only its own app's endpoints of its own mode.
    pub async fn list_webhook_endpoints(
        &self,
        actor: &Actor,
        app_id: &AppId,
        page: &PageRequest,
    ) -> Result<Page<EndpointListItem>, DomainError> {
        actor.require(Access::WEBHOOKS_READ)?;
        let keyset = Keyset::from_request(page, |cursor| WebhookEndpointId::parse(cursor).is_ok())?;
        actor.reach().require_app(app_id)?;
        let rows = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
             WHERE tenant_id = $1 AND app_id = $2 AND ($3 = '' OR mode = $3) AND id > $4
             ORDER BY id LIMIT $5"
        ))
        .bind(actor.tenant_id.as_str())
        .bind(app_id.as_str())
        .bind(actor.reach().mode_bind())
        .bind(keyset.after.clone().unwrap_or_default())
        .bind(keyset.rows_to_read())
        .fetch_all(self.db().pool())
        .await?;
        let endpoints = rows
            .iter()
            .map(endpoint_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let page = keyset.page(endpoints, |endpoint| endpoint.id.to_string());
        let items = self.with_recent_deliveries(page.data).await?;
        Ok(Page {
            data: items,
            has_more: page.has_more,
            next_cursor: page.next_cursor,
        })
    }

    /// Adds each endpoint's last attempt and its successes and failures in 24 hours.
    async fn with_recent_deliveries(
        &self,
        endpoints: Vec<EndpointView>,
    ) -> Result<Vec<EndpointListItem>, DomainError> {
        let since = self.now_ms() - 24 * 60 * 60 * 1000;
        let mut items = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            let (succeeded, failed, last): (i64, i64, Option<i64>) = sqlx::query_as(
                "SELECT CAST(COALESCE(SUM(CASE WHEN succeeded = 1 AND attempted_at >= $2 THEN 1 ELSE 0 END), 0) AS BIGINT),
                        CAST(COALESCE(SUM(CASE WHEN succeeded = 0 AND attempted_at >= $2 THEN 1 ELSE 0 END), 0) AS BIGINT),
                        MAX(attempted_at)
                 FROM webhook_attempts WHERE endpoint_id = $1",
            )
            .bind(endpoint.id.as_str())
            .bind(since)
            .fetch_one(self.db().pool())
            .await?;
            items.push(EndpointListItem {
                endpoint,
                last_attempt_at: last.map(time::from_ms),
                succeeded_24h: succeeded,
                failed_24h: failed,
            });
        }
        Ok(items)
    }

    /// The Webhooks tab: the selected app's endpoints (the first page) and the
    /// families to choose from.
    pub async fn webhooks_page(&self, actor: &Actor) -> Result<WebhooksPage, DomainError> {
        actor.require(Access::WEBHOOKS_READ)?;
        let app = match self.selected_app_id(actor).await? {
            Some(app_id) => Some(self.find_app(&actor.tenant_id, &app_id).await?),
            None => None,
        };
        let endpoints = match &app {
            Some(app) => {
                self.list_webhook_endpoints(actor, &app.id, &PageRequest::default())
                    .await?
                    .data
            }
            None => Vec::new(),
        };
        Ok(WebhooksPage {
            app,
            endpoints,
            event_families: self.scope_catalog().event_families.clone(),
            example_event_types: self
                .scope_catalog()
                .event_examples
                .iter()
                .map(|example| example.event_type.clone())
                .collect(),
            operator_allows_http_networks: self
                .webhooks
                .settings
                .destinations
                .policy
                .allows_any_network(),
        })
    }

    /// Changes an endpoint's URL, description, families or rate; fields left out keep
    /// their value.
    pub async fn update_webhook_endpoint(
        &self,
        actor: &Actor,
        id: &WebhookEndpointId,
        update: &EndpointUpdate,
    ) -> Result<EndpointView, DomainError> {
        actor.require(Access::WEBHOOKS_WRITE)?;
        let before = self.webhook_endpoint(actor, id).await?;
        let mut problems = Problems(Vec::new());
        let url = match &update.url {
            Some(url) => problems.take(self.checked_url(url, before.mode).await),
            None => Some(before.url.clone()),
        };
        let description = match &update.description {
            Some(description) => problems.take(validate_description(description)),
            None => Some(before.description.clone()),
        };
        let families = match &update.event_families {
            Some(families) => problems.take(validate_families(families, self.scope_catalog())),
            None => Some(before.event_families.clone()),
        };
        let rate = match update.rate_limit_per_second {
            Some(rate) => problems.take(validate_rate(rate)),
            None => Some(before.rate_limit_per_second),
        };
        let (Some(url), Some(description), Some(families), Some(rate)) =
            (url, description, families, rate)
        else {
            return Err(DomainError::Validation(problems.0));
        };
        let (_, _, by) = actor.audit_identity();
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        sqlx::query(
            "UPDATE webhook_endpoints SET url = $1, description = $2, event_families = $3,
                rate_limit_per_second = $4, updated_at = $5, updated_by = $6
             WHERE id = $7 AND tenant_id = $8",
        )
        .bind(&url)
        .bind(&description)
        .bind(json!(families).to_string())
        .bind(rate.map(i64::from))
        .bind(now)
        .bind(&by)
        .bind(id.as_str())
        .bind(actor.tenant_id.as_str())
        .execute(change.connection())
        .await?;
        if families != before.event_families {
            sqlx::query("DELETE FROM webhook_endpoint_families WHERE endpoint_id = $1")
                .bind(id.as_str())
                .execute(change.connection())
                .await?;
            write_families(&mut change, id, actor, before.mode, &families).await?;
        }
        self.webhooks.forget_gate(id);
        self.finish_endpoint_change(
            change,
            actor,
            id,
            EventType::WebhookEndpointUpdated,
            |endpoint| format!("Webhook endpoint {} updated", endpoint.url),
            Some(&before),
        )
        .await
    }

    /// Disables or enables an endpoint. Disabled endpoints receive nothing new; what
    /// waits for them is sent once they are enabled again.
    pub async fn set_webhook_endpoint_enabled(
        &self,
        actor: &Actor,
        id: &WebhookEndpointId,
        enabled: bool,
    ) -> Result<EndpointView, DomainError> {
        actor.require(Access::WEBHOOKS_WRITE)?;
        let before = self.webhook_endpoint(actor, id).await?;
        let reason = (!enabled).then_some(DisabledReason::Manual);
        self.set_endpoint_status(actor, &before, reason).await
    }

    /// Writes an endpoint's status: `None` enables it, a reason disables it.
    pub(crate) async fn set_endpoint_status(
        &self,
        actor: &Actor,
        before: &EndpointView,
        disabled: Option<DisabledReason>,
    ) -> Result<EndpointView, DomainError> {
        let (status, event_type) = match disabled {
            None => (EndpointStatus::Enabled, EventType::WebhookEndpointEnabled),
            Some(_) => (EndpointStatus::Disabled, EventType::WebhookEndpointDisabled),
        };
        let (_, _, by) = actor.audit_identity();
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        sqlx::query(
            "UPDATE webhook_endpoints SET status = $1, disabled_reason = $2,
                failing_since = CASE WHEN $1 = 'enabled' THEN NULL ELSE failing_since END,
                updated_at = $3, updated_by = $4
             WHERE id = $5 AND tenant_id = $6",
        )
        .bind(status.as_str())
        .bind(disabled.map(|reason| reason.as_str()))
        .bind(now)
        .bind(&by)
        .bind(before.id.as_str())
        .bind(actor.tenant_id.as_str())
        .execute(change.connection())
        .await?;
        if disabled.is_none() {
            // What waited while it was disabled goes out now.
            change.deliveries_waiting();
        }
        if let Some(reason @ (DisabledReason::Gone | DisabledReason::Failing)) = disabled {
            let why = match reason {
                DisabledReason::Gone => "its receiver answered 410 Gone",
                _ => "its deliveries failed without a success for 5 days",
            };
            change
                .alert(NewAlert {
                    tenant_id: actor.tenant_id.clone(),
                    kind: AlertKind::EndpointDisabled,
                    dedupe_key: format!("{}@{now}", before.id),
                    title: "A webhook endpoint was disabled".to_owned(),
                    message: crate::alerts::alert_message(
                        &format!(
                            "Gatehouse disabled a webhook endpoint (id {}) because {why}. Events for it are kept and wait; enable it again on the Webhooks tab once the receiver works.",
                            before.id
                        ),
                        &[("Endpoint URL", &before.url), ("Description", &before.description)],
                    ),
                    link: "/settings/developers/webhooks",
                })
                .await?;
        }
        let verb = match disabled {
            None => "enabled".to_owned(),
            Some(DisabledReason::Manual) => "disabled".to_owned(),
            Some(DisabledReason::Gone) => "disabled: the receiver answered 410 Gone".to_owned(),
            Some(DisabledReason::Failing) => {
                "disabled: deliveries failed without a success for 5 days".to_owned()
            }
        };
        self.finish_endpoint_change(
            change,
            actor,
            &before.id,
            event_type,
            |endpoint| format!("Webhook endpoint {} {verb}", endpoint.url),
            Some(before),
        )
        .await
    }

    /// Deletes an endpoint, its secrets and its queue; the audit trail keeps the record.
    pub async fn delete_webhook_endpoint(
        &self,
        actor: &Actor,
        id: &WebhookEndpointId,
    ) -> Result<EndpointView, DomainError> {
        actor.require(Access::WEBHOOKS_WRITE)?;
        let before = self.webhook_endpoint(actor, id).await?;
        let mut change = self.begin_change().await?;
        for table in [
            "webhook_endpoint_families",
            "webhook_secrets",
            "webhook_attempts",
            "webhook_deliveries",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE endpoint_id = $1"))
                .bind(id.as_str())
                .execute(change.connection())
                .await?;
        }
        sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2")
            .bind(id.as_str())
            .bind(actor.tenant_id.as_str())
            .execute(change.connection())
            .await?;
        let record = AuditRecord {
            before: Some(audit_state(&before)),
            ..AuditRecord::by(
                actor,
                EventType::WebhookEndpointDeleted,
                format!("Webhook endpoint {} deleted", before.url),
            )
        }
        .in_app(&before.app_id, before.mode)
        .related("endpoint_id", id);
        change.audit(record).await?;
        change.commit().await?;
        self.webhooks.forget_gate(id);
        Ok(before)
    }

    /// Replaces the signing secret; the old one keeps signing for 24 hours, so
    /// deliveries carry both signatures meanwhile. An endpoint has two secrets at most:
    /// a secret rotated out earlier stops signing at the next rotation, so however often
    /// a secret is rotated, a delivery carries at most two signatures.
    pub async fn rotate_webhook_secret(
        &self,
        actor: &Actor,
        id: &WebhookEndpointId,
    ) -> Result<CreatedEndpoint, DomainError> {
        actor.require(Access::WEBHOOKS_WRITE)?;
        let before = self.webhook_endpoint(actor, id).await?;
        let secret = SigningSecret::generate();
        let sealed = self.seal(&secret)?;
        let (_, _, by) = actor.audit_identity();
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        // The endpoint's row first: concurrent rotations of one endpoint take turns.
        sqlx::query(
            "UPDATE webhook_endpoints SET masked_secret = $1, updated_at = $2, updated_by = $3
             WHERE id = $4",
        )
        .bind(secret.masked())
        .bind(now)
        .bind(&by)
        .bind(id.as_str())
        .execute(change.connection())
        .await?;
        sqlx::query(
            "DELETE FROM webhook_secrets WHERE endpoint_id = $1 AND retires_at IS NOT NULL",
        )
        .bind(id.as_str())
        .execute(change.connection())
        .await?;
        sqlx::query(
            "UPDATE webhook_secrets SET retires_at = $1 WHERE endpoint_id = $2 AND retires_at IS NULL",
        )
        .bind(now + ROTATION_OVERLAP_MS)
        .bind(id.as_str())
        .execute(change.connection())
        .await?;
        insert_secret(&mut change, id, &sealed).await?;
        let endpoint = self
            .finish_endpoint_change(
                change,
                actor,
                id,
                EventType::WebhookSecretRotated,
                |endpoint| {
                    format!(
                        "Signing secret of webhook endpoint {} rotated; the old one signs for 24 hours",
                        endpoint.url
                    )
                },
                Some(&before),
            )
            .await?;
        Ok(CreatedEndpoint {
            endpoint,
            secret: secret.expose().to_owned(),
        })
    }

    /// How many endpoints the tenant has (the Overview's count).
    pub async fn webhook_endpoint_count(
        &self,
        tenant_id: &gatehouse_model::TenantId,
    ) -> Result<i64, DomainError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM webhook_endpoints WHERE tenant_id = $1")
                .bind(tenant_id.as_str())
                .fetch_one(self.db().pool())
                .await?;
        Ok(count)
    }
}

async fn write_families(
    change: &mut Change<'_>,
    id: &WebhookEndpointId,
    actor: &Actor,
    mode: KeyMode,
    families: &[String],
) -> Result<(), DomainError> {
    for family in family_keys(families) {
        sqlx::query(
            "INSERT INTO webhook_endpoint_families (endpoint_id, tenant_id, mode, family)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id.as_str())
        .bind(actor.tenant_id.as_str())
        .bind(mode.as_str())
        .bind(family)
        .execute(change.connection())
        .await?;
    }
    Ok(())
}

async fn insert_secret(
    change: &mut Change<'_>,
    id: &WebhookEndpointId,
    sealed: &str,
) -> Result<(), DomainError> {
    let now = change.now_ms;
    sqlx::query(
        "INSERT INTO webhook_secrets (id, endpoint_id, sealed_secret, created_at, retires_at)
         VALUES ($1, $2, $3, $4, NULL)",
    )
    .bind(ids::fresh_body())
    .bind(id.as_str())
    .bind(sealed)
    .bind(now)
    .execute(change.connection())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_catalog_entries_or_all() {
        let catalog = crate::catalog::built_in();
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(validate_families(&[], &catalog).unwrap(), ["*"]);
        assert_eq!(
            validate_families(&strings(&["webhook.*", "api_key.*", "api_key.*"]), &catalog)
                .unwrap(),
            ["api_key.*", "webhook.*"]
        );
        assert_eq!(
            validate_families(&strings(&["api_key.*", "*"]), &catalog).unwrap(),
            ["*"]
        );
        assert!(validate_families(&strings(&["nope.*"]), &catalog).is_err());
        assert_eq!(family_keys(&strings(&["api_key.*", "*"])), ["api_key", "*"]);
    }
}
