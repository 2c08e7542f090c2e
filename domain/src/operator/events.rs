//! Events the SaaS's backend posts for a tenant without holding that tenant's key:
//! the same rules, idempotency and fan-out as `POST /v1/events`, for the app and mode
//! named in the request.

use gatehouse_model::{EventInput, KeyMode, OperatorEventInput, OperatorScope, TenantId};

use super::Operator;
use crate::error::DomainError;
use crate::webhooks::events::{EventOrigin, SentOutcome};

impl Operator<'_> {
    /// Sends an event of one of `tenant_id`'s apps, live unless the input says test.
    pub async fn send_event(
        &self,
        tenant_id: &TenantId,
        input: &OperatorEventInput,
        idempotency_key: Option<&str>,
    ) -> Result<SentOutcome, DomainError> {
        self.require(OperatorScope::EventsWrite)?;
        let tenant = self.gatehouse.tenant(tenant_id).await?;
        let app: Option<(String,)> =
            sqlx::query_as("SELECT id FROM apps WHERE id = $1 AND tenant_id = $2")
                .bind(input.app_id.as_str())
                .bind(tenant.id.as_str())
                .fetch_optional(self.gatehouse.db().pool())
                .await?;
        if app.is_none() {
            return Err(DomainError::NotFound("app"));
        }
        let origin = EventOrigin {
            tenant_id: &tenant.id,
            app_id: &input.app_id,
            mode: input.mode.unwrap_or(KeyMode::Live),
        };
        let event = EventInput {
            event_type: input.event_type.clone(),
            data: input.data.clone(),
        };
        self.gatehouse
            .send_event_from(&self.actor_in(&tenant.id), origin, &event, idempotency_key)
            .await
    }
}
