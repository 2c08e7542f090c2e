//! The Overview's setup guide: which of its steps the workspace has taken, read from
//! what the workspace holds (never from what the dashboard remembers), and a person's
//! dismissal of the guide once every step is done.

use gatehouse_model::{SetupGuide, SetupStep};

use crate::Gatehouse;
use crate::access::Access;
use crate::actor::Actor;
use crate::error::DomainError;

impl Gatehouse {
    /// The setup guide of the actor's tenant, as the actor sees it.
    pub async fn setup_guide(&self, actor: &Actor) -> Result<SetupGuide, DomainError> {
        actor.require(Access::APPS_READ)?;
        let tenant = actor.tenant_id.as_str();
        let (apps, keys, used_keys, endpoints, answered_endpoints): (i64, i64, i64, i64, i64) =
            sqlx::query_as(
                "SELECT
                    (SELECT COUNT(*) FROM apps WHERE tenant_id = $1),
                    (SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1),
                    (SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1 AND last_used_at IS NOT NULL),
                    (SELECT COUNT(*) FROM webhook_endpoints WHERE tenant_id = $1),
                    (SELECT COUNT(*) FROM webhook_endpoints WHERE tenant_id = $1 AND last_success_at IS NOT NULL)",
            )
            .bind(tenant)
            .fetch_one(self.db().pool())
            .await?;
        let done = [
            (SetupStep::CreateApp, apps),
            (SetupStep::CreateKey, keys),
            (SetupStep::FirstCall, used_keys),
            (SetupStep::AddEndpoint, endpoints),
            (SetupStep::FirstDelivery, answered_endpoints),
        ]
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(step, _)| step)
        .collect();
        let dismissed = match actor.user_id() {
            Some(user_id) => sqlx::query_as::<_, (i64,)>(
                "SELECT dismissed_at FROM setup_guide_dismissals WHERE user_id = $1 AND tenant_id = $2",
            )
            .bind(user_id.as_str())
            .bind(tenant)
            .fetch_optional(self.db().pool())
            .await?
            .is_some(),
            None => false,
        };
        Ok(SetupGuide { done, dismissed })
    }

    /// Hides the setup guide for the person, once every step is done.
    pub async fn dismiss_setup_guide(&self, actor: &Actor) -> Result<SetupGuide, DomainError> {
        let guide = self.setup_guide(actor).await?;
        let user_id = actor.user_id().ok_or(DomainError::NotFound("user"))?;
        if !guide.is_complete() {
            return Err(DomainError::field(
                "setup_guide",
                "Finish every step of the setup guide before you dismiss it.",
            ));
        }
        sqlx::query(
            "INSERT INTO setup_guide_dismissals (user_id, tenant_id, dismissed_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, tenant_id) DO NOTHING",
        )
        .bind(user_id.as_str())
        .bind(actor.tenant_id.as_str())
        .bind(self.now_ms())
        .execute(self.db().writer())
        .await?;
        Ok(SetupGuide {
            dismissed: true,
            ..guide
        })
    }
}
