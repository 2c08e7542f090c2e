//! Usage alerts: 80 % and 100 % of a tenant's monthly limit of live calls, each once per
//! billing window, checked for the tenants whose usage moved.

use std::collections::HashSet;

use gatehouse_model::{AlertKind, EventType, TenantId};

use super::NewAlert;
use crate::Gatehouse;
use crate::actor::Actor;
use crate::audit::AuditRecord;
use crate::error::DomainError;

impl Gatehouse {
    /// Records the usage alerts due: for each tenant whose live usage moved since the
    /// last check (every tenant, the first time), 80 % and 100 % of the monthly limit,
    /// each once per billing window. Answers how many were recorded.
    pub async fn check_usage_alerts(&self) -> Result<usize, DomainError> {
        let moved = self
            .alerts
            .usage_moved
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .replace(HashSet::new());
        let tenants: Vec<TenantId> = match moved {
            Some(moved) => moved.into_iter().collect(),
            None => {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT id FROM tenants WHERE id IN (SELECT tenant_id FROM memberships)",
                )
                .fetch_all(self.db().pool())
                .await?;
                rows.into_iter()
                    .filter_map(|(id,)| TenantId::parse(&id).ok())
                    .collect()
            }
        };
        let mut recorded = 0;
        for tenant_id in tenants {
            match self.check_tenant_usage(&tenant_id).await {
                Ok(count) => recorded += count,
                Err(error) => {
                    // Looked at again on the next move.
                    self.usage_moved([&tenant_id]);
                    return Err(error);
                }
            }
        }
        Ok(recorded)
    }

    async fn check_tenant_usage(&self, tenant_id: &TenantId) -> Result<usize, DomainError> {
        let tenant = self.tenant(tenant_id).await?;
        if tenant.monthly_call_limit <= 0 {
            return Ok(0);
        }
        let used = self.monthly_calls_used(&tenant).await?;
        let limit = tenant.monthly_call_limit;
        let window = crate::overview::usage_day(tenant.billing_window_start_ms);
        let mut due = Vec::new();
        if used * 10 >= limit * 8 {
            due.push((
                AlertKind::UsageWarning,
                format!("{} has used 80 % of its monthly API calls", tenant.name),
                format!(
                    "{used} of {limit} live platform calls are used in the billing window that started on {window}. At the limit, live calls are refused with usage_exceeded until the window resets or the plan is raised."
                ),
            ));
        }
        if used >= limit {
            due.push((
                AlertKind::UsageExhausted,
                format!("{} reached its monthly API call limit", tenant.name),
                format!(
                    "{used} of {limit} live platform calls are used in the billing window that started on {window}. Live calls are refused with usage_exceeded until the window resets or the plan is raised; test calls go on."
                ),
            ));
        }
        let mut recorded = 0;
        for (kind, title, message) in due {
            let mut change = self.begin_change().await?;
            let new = change
                .alert(NewAlert {
                    tenant_id: tenant_id.clone(),
                    kind,
                    dedupe_key: window.clone(),
                    title: title.clone(),
                    message,
                    link: "/settings/developers/usage",
                })
                .await?;
            if !new {
                // Alerted in this window already: the change is dropped, nothing written.
                continue;
            }
            let system = Actor::system(tenant_id.clone());
            change
                .audit(AuditRecord::by(
                    &system,
                    EventType::UsageThresholdReached,
                    title,
                ))
                .await?;
            change.commit().await?;
            recorded += 1;
        }
        Ok(recorded)
    }
}
