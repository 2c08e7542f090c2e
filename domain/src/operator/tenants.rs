//! Tenants through the operator's API: created for one of the SaaS's accounts
//! (`external_id`), idempotently; read by id or `external_id`; listed a page at a time;
//! changed a field at a time. The rules themselves are in `crate::tenants`.

use gatehouse_model::{
    OperatorScope, OperatorTenantInput, OperatorTenantQuery, OperatorTenantUpdate,
    OperatorTenantView, Page, PageRequest, Plan, SubscriptionState, TenantId,
};

use super::Operator;
use super::idempotency::{self, Claim};
use crate::error::DomainError;
use crate::paging::Keyset;
use crate::tenants::{
    NewTenant, PLATFORM_API_MODULE, Tenant, TenantCaps, TenantUpdate, default_monthly_limit,
    validate_external_id,
};
use crate::time;

/// The operation name idempotency keys of tenant creates are kept under.
const CREATE_TENANT: &str = "tenants.create";

/// A tenant as the operator's API shows it.
pub fn operator_view(tenant: &Tenant) -> OperatorTenantView {
    OperatorTenantView {
        id: tenant.id.clone(),
        external_id: tenant.external_id.clone(),
        name: tenant.name.clone(),
        plan: tenant.plan,
        modules: tenant.modules.clone(),
        subscription_state: tenant.subscription_state,
        monthly_call_limit: tenant.monthly_call_limit,
        suspended: tenant.is_suspended(),
        billing_anchor_day: tenant.billing_anchor_day,
        billing_window_start: time::from_ms(tenant.billing_window_start_ms),
        billing_window_end: time::from_ms(tenant.billing_window_end_ms),
        test_tenant_id: tenant.test_tenant_id.clone(),
    }
}

/// The tenant the API's input asks for, with the defaults filled in.
fn new_tenant(input: &OperatorTenantInput) -> NewTenant {
    let plan = input.plan.unwrap_or(Plan::Pro);
    NewTenant {
        name: input.name.clone(),
        billing_anchor_day: input.billing_anchor_day.unwrap_or(1),
        external_id: Some(input.external_id.clone()),
        plan,
        modules: input
            .modules
            .clone()
            .unwrap_or_else(|| vec![PLATFORM_API_MODULE.to_owned()]),
        subscription_state: input
            .subscription_state
            .unwrap_or(SubscriptionState::Active),
        monthly_call_limit: input
            .monthly_call_limit
            .unwrap_or_else(|| default_monthly_limit(plan)),
        caps: TenantCaps::default(),
    }
}

/// A tenant made, or the answer of the first request with the same idempotency key.
#[derive(Debug, Clone)]
pub struct CreatedTenant {
    pub tenant: OperatorTenantView,
    pub replayed: bool,
}

impl Operator<'_> {
    /// Creates a tenant for one of the SaaS's accounts. With an idempotency key, the
    /// same key and input within 24 hours answer the first tenant again; the same key
    /// with another input is refused.
    pub async fn create_tenant_for_account(
        &self,
        input: &OperatorTenantInput,
        idempotency_key: Option<&str>,
    ) -> Result<CreatedTenant, DomainError> {
        self.require(OperatorScope::TenantsWrite)?;
        let mut change = self.gatehouse.begin_change().await?;
        if let Some(key) = idempotency_key {
            let digest = idempotency::request_digest(CREATE_TENANT, input);
            if let Claim::Answered(answer) =
                idempotency::claim(&mut change, CREATE_TENANT, key, &digest).await?
            {
                let tenant = serde_json::from_str(&answer)
                    .map_err(|error| DomainError::Internal(error.to_string()))?;
                return Ok(CreatedTenant {
                    tenant,
                    replayed: true,
                });
            }
        }
        let tenant_id = self
            .create_tenant_in(&mut change, &new_tenant(input))
            .await?;
        // Answered as written, read back inside the change that wrote it.
        let tenant = operator_view(&self.gatehouse.tenant_in(&mut change, &tenant_id).await?);
        if let Some(key) = idempotency_key {
            idempotency::remember(&mut change, CREATE_TENANT, key, &tenant).await?;
        }
        change.commit().await?;
        Ok(CreatedTenant {
            tenant,
            replayed: false,
        })
    }

    /// A live tenant by id (a shadow test tenant's id is not one).
    pub async fn tenant(&self, tenant_id: &TenantId) -> Result<OperatorTenantView, DomainError> {
        self.require(OperatorScope::TenantsRead)?;
        Ok(operator_view(&self.gatehouse.tenant(tenant_id).await?))
    }

    /// Live tenants in creation order, a page at a time; with `external_id`, the one
    /// tenant of that account (or none).
    pub async fn list_tenants(
        &self,
        query: &OperatorTenantQuery,
    ) -> Result<Page<OperatorTenantView>, DomainError> {
        self.require(OperatorScope::TenantsRead)?;
        let keyset = Keyset::from_request(
            &PageRequest {
                limit: query.limit,
                cursor: query.cursor.clone(),
            },
            |cursor| TenantId::parse(cursor).is_ok(),
        )?;
        if let Some(external_id) = &query.external_id {
            validate_external_id(external_id)?;
        }
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM tenants
             WHERE live_tenant_id IS NULL AND id > $1 AND ($2 = '' OR external_id = $2)
               AND id NOT IN (SELECT tenant_id FROM tenant_purges)
             ORDER BY id LIMIT $3",
        )
        .bind(keyset.after.clone().unwrap_or_default())
        .bind(query.external_id.clone().unwrap_or_default())
        .bind(keyset.rows_to_read())
        .fetch_all(self.gatehouse.db().pool())
        .await?;
        let mut tenants = Vec::with_capacity(ids.len());
        for (id,) in ids {
            let id = crate::stored::parsed("tenant", "id", &id, |id| TenantId::parse(id).ok())?;
            tenants.push(operator_view(&self.gatehouse.tenant(&id).await?));
        }
        Ok(keyset.page(tenants, |tenant| tenant.id.to_string()))
    }

    /// Changes only the fields sent; running instances honour it within a second.
    pub async fn change_tenant(
        &self,
        tenant_id: &TenantId,
        update: &OperatorTenantUpdate,
    ) -> Result<OperatorTenantView, DomainError> {
        let changed = self
            .update_tenant(
                tenant_id,
                &TenantUpdate {
                    name: update.name.clone(),
                    plan: update.plan,
                    modules: update.modules.clone(),
                    subscription_state: update.subscription_state,
                    monthly_call_limit: update.monthly_call_limit,
                    suspended: update.suspended,
                    billing_anchor_day: update.billing_anchor_day,
                    ..TenantUpdate::default()
                },
            )
            .await?;
        Ok(operator_view(&changed))
    }
}
