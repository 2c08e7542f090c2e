//! First start: on an empty database, a demo tenant (plan `pro`, module
//! `platform.api`, with its shadow test tenant) and its owner.

use gatehouse_model::{Plan, Role};

use crate::error::DomainError;
use crate::operator::Operator;
use crate::tenants::{NewTenant, PLATFORM_API_MODULE};
use crate::users::CreatedUser;

pub const DEMO_TENANT_NAME: &str = "Demo Company";
pub const DEMO_OWNER_EMAIL: &str = "owner@demo.gatehouse.test";

impl Operator<'_> {
    /// Creates the demo tenant and owner when no tenant exists yet; returns the
    /// owner's sign-in then, and `None` on every later start.
    pub async fn bootstrap_demo(
        &self,
        password: Option<String>,
    ) -> Result<Option<CreatedUser>, DomainError> {
        if self.gatehouse.tenant_count().await? > 0 {
            return Ok(None);
        }
        let tenant_id = self
            .create_tenant(NewTenant::new(
                DEMO_TENANT_NAME,
                Plan::Pro,
                &[PLATFORM_API_MODULE],
            ))
            .await?;
        let owner = self
            .create_user(&tenant_id, DEMO_OWNER_EMAIL, Role::Owner, password)
            .await?;
        Ok(Some(owner))
    }
}
