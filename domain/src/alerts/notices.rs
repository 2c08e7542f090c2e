//! The Overview's side of alerts: a person's notices not yet dismissed, dismissing one,
//! and each person's choice of which kinds of alert they get.

use gatehouse_model::{AlertId, AlertKind, AlertPreference, AlertView, AlertsPanel, EventType};

use crate::Gatehouse;
use crate::access::Access;
use crate::actor::Actor;
use crate::audit::AuditRecord;
use crate::error::DomainError;
use crate::stored::Stored;

/// Notices the Overview shows at most.
const NOTICES_SHOWN: i64 = 20;

impl Gatehouse {
    /// The person's notices not yet dismissed, newest first, and their choices.
    pub async fn alerts_panel(&self, actor: &Actor) -> Result<AlertsPanel, DomainError> {
        actor.require(Access::APPS_READ)?;
        let user_id = actor
            .user_id()
            .ok_or(DomainError::PermissionDenied(Access::APPS_READ.permission))?;
        let rows = sqlx::query(&format!(
            "SELECT a.id, a.kind, a.title, a.message, a.link, a.created_at
             FROM alert_recipients r JOIN alerts a ON a.id = r.alert_id
             WHERE r.user_id = $1 AND a.tenant_id = $2 AND r.dismissed_at IS NULL
             ORDER BY a.created_at DESC, a.id DESC LIMIT {NOTICES_SHOWN}"
        ))
        .bind(user_id.as_str())
        .bind(actor.tenant_id.as_str())
        .fetch_all(self.db().pool())
        .await?;
        let notices = rows
            .iter()
            .map(|row| {
                let stored = Stored::new(row, "alert");
                Ok(AlertView {
                    id: stored.parsed("id", |id| AlertId::parse(id).ok())?,
                    kind: stored.parsed("kind", AlertKind::parse)?,
                    title: stored.get("title")?,
                    message: stored.get("message")?,
                    link: stored.get("link")?,
                    created_at: stored.time("created_at")?,
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        let off: Vec<(String,)> = sqlx::query_as(
            "SELECT kind FROM alert_preferences WHERE user_id = $1 AND tenant_id = $2 AND enabled = 0",
        )
        .bind(user_id.as_str())
        .bind(actor.tenant_id.as_str())
        .fetch_all(self.db().pool())
        .await?;
        let preferences = AlertKind::ALL
            .iter()
            .map(|&kind| AlertPreference {
                kind,
                enabled: !off.iter().any(|(stored,)| stored == kind.as_str()),
            })
            .collect();
        Ok(AlertsPanel {
            notices,
            preferences,
            email_configured: self.alert_mail_configured(),
        })
    }

    /// Hides a notice for the person (for them only; others still see theirs).
    pub async fn dismiss_alert(
        &self,
        actor: &Actor,
        alert_id: &AlertId,
    ) -> Result<(), DomainError> {
        actor.require(Access::APPS_READ)?;
        let user_id = actor.user_id().ok_or(DomainError::NotFound("alert"))?;
        let dismissed = sqlx::query(
            "UPDATE alert_recipients SET dismissed_at = $1
             WHERE alert_id = $2 AND user_id = $3 AND dismissed_at IS NULL
               AND alert_id IN (SELECT id FROM alerts WHERE tenant_id = $4)",
        )
        .bind(self.now_ms())
        .bind(alert_id.as_str())
        .bind(user_id.as_str())
        .bind(actor.tenant_id.as_str())
        .execute(self.db().writer())
        .await?;
        if dismissed.rows_affected() == 0 {
            return Err(DomainError::NotFound("alert"));
        }
        Ok(())
    }

    /// Turns one kind of alert on or off for the person (email and notice), from the
    /// next alert on.
    pub async fn set_alert_preference(
        &self,
        actor: &Actor,
        preference: AlertPreference,
    ) -> Result<AlertPreference, DomainError> {
        actor.require(Access::APPS_READ)?;
        let user_id = actor.user_id().ok_or(DomainError::NotFound("user"))?;
        let mut change = self.begin_change().await?;
        sqlx::query(
            "INSERT INTO alert_preferences (user_id, tenant_id, kind, enabled) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, tenant_id, kind) DO UPDATE SET enabled = excluded.enabled",
        )
        .bind(user_id.as_str())
        .bind(actor.tenant_id.as_str())
        .bind(preference.kind.as_str())
        .bind(i64::from(preference.enabled))
        .execute(change.connection())
        .await?;
        let mut record = AuditRecord::by(
            actor,
            EventType::AlertPreferenceUpdated,
            format!(
                "Alerts \"{}\" turned {}",
                preference.kind.label(),
                if preference.enabled { "on" } else { "off" }
            ),
        )
        .related("user_id", user_id);
        record.after = Some(serde_json::json!({
            "kind": preference.kind, "enabled": preference.enabled,
        }));
        change.audit(record).await?;
        change.commit().await?;
        Ok(preference)
    }
}
