//! Alerts to a tenant's owners and managers:
//! an API key expires within 7 days, a webhook endpoint was disabled after failing,
//! live usage passed 80 % and reached 100 % of the monthly limit.
//!
//! An alert is recorded by the unit of work that detects it ([`Change::alert`]), once
//! per thing it is about (a unique dedupe key: the key, the endpoint's disabling, the
//! billing window), with a row per recipient who has its kind on. That row is both the
//! Overview's notice (until that person dismisses it) and the outbox of the mail
//! worker ([`Gatehouse::send_due_alerts`]): each is claimed for a lease, sent through
//! the operator's SMTP server, then marked sent; a failure is retried with backoff, a
//! crash mid-send is sent again when the lease ends. Nothing is lost on a restart; a
//! message is sent twice only if the process dies between the SMTP server's accepting
//! it and its row being marked.
//!
//! Here: what an alert is, its message, and its recording. [`notices`] is the Overview's
//! side (notices, dismissal, each person's choices), [`usage`] the usage checks, and
//! [`mail`] the mail worker.

mod mail;
mod notices;
mod usage;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use gatehouse_model::{AlertId, AlertKind, Role, TenantId};

pub use mail::{AlertMailer, MAX_MAIL_ATTEMPTS, MAX_MAILS_PER_TENANT_PER_HOUR, retry_delay_ms};

use crate::change::Change;
use crate::error::DomainError;
use crate::{Gatehouse, ids};

/// An alert's message: Gatehouse's own words, then the texts people typed (names,
/// URLs) as quoted data, one per line, each after its label. Such a text can then never
/// read as part of the message or be taken for a link Gatehouse sent: its `://` and
/// `www.` are written `[:]//` and `www[.]`, and it was checked to be one line when it
/// was saved.
pub(crate) fn alert_message(prose: &str, quoted: &[(&str, &str)]) -> String {
    let mut message = prose.to_owned();
    for (label, value) in quoted {
        let defanged = value.replace("://", "[:]//").replace("www.", "www[.]");
        message.push_str(&format!("\n{label}: \"{defanged}\""));
    }
    message
}

/// An alert a unit of work detected.
#[derive(Debug, Clone)]
pub(crate) struct NewAlert {
    pub tenant_id: TenantId,
    pub kind: AlertKind,
    /// What makes it this alert and no other (a key id, an endpoint's disabling, a
    /// billing window): a second alert with the same key changes nothing.
    pub dedupe_key: String,
    pub title: String,
    pub message: String,
    /// Where in the dashboard to act on it.
    pub link: &'static str,
}

/// What alerting holds at run time: the mailer, if any, and the tenants whose usage
/// moved since the last check.
#[derive(Debug, Default)]
pub struct AlertRuntime {
    mailer: Option<AlertMailer>,
    /// `None` until the first check, which looks at every tenant.
    usage_moved: Mutex<Option<HashSet<TenantId>>>,
}

impl Change<'_> {
    /// Records `alert` for the tenant's owners and managers who have its kind on, in
    /// this change's transaction; answers whether it is new (false: recorded before).
    pub(crate) async fn alert(&mut self, alert: NewAlert) -> Result<bool, DomainError> {
        let id = AlertId::from_body(&ids::fresh_body());
        let now = self.now_ms;
        let inserted = sqlx::query(
            "INSERT INTO alerts (id, tenant_id, kind, dedupe_key, title, message, link, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (tenant_id, kind, dedupe_key) DO NOTHING",
        )
        .bind(id.as_str())
        .bind(alert.tenant_id.as_str())
        .bind(alert.kind.as_str())
        .bind(&alert.dedupe_key)
        .bind(&alert.title)
        .bind(&alert.message)
        .bind(alert.link)
        .bind(now)
        .execute(self.connection())
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        let state = if self.gatehouse().alerts.mailer.is_some() {
            "pending"
        } else {
            "dashboard"
        };
        sqlx::query(
            "INSERT INTO alert_recipients (alert_id, user_id, email, mail_state, attempts, next_attempt_at)
             SELECT $1, u.id, u.email, $2, 0, $3
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.tenant_id = $4 AND m.role IN ($5, $6)
               AND NOT EXISTS (
                 SELECT 1 FROM alert_preferences p
                 WHERE p.user_id = m.user_id AND p.tenant_id = m.tenant_id
                   AND p.kind = $7 AND p.enabled = 0)",
        )
        .bind(id.as_str())
        .bind(state)
        .bind(now)
        .bind(alert.tenant_id.as_str())
        .bind(Role::Owner.as_str())
        .bind(Role::Manager.as_str())
        .bind(alert.kind.as_str())
        .execute(self.connection())
        .await?;
        Ok(true)
    }
}

impl Gatehouse {
    /// Sends alerts by email through `mailer` (without one, alerts are notices only).
    pub fn with_alert_mailer(mut self, mailer: Option<AlertMailer>) -> Self {
        self.alerts = Arc::new(AlertRuntime {
            mailer,
            usage_moved: Mutex::new(None),
        });
        self
    }

    /// Whether alerts are mailed.
    pub fn alert_mail_configured(&self) -> bool {
        self.alerts.mailer.is_some()
    }

    /// Notes the tenants whose live usage moved (the usage flush), so that the next
    /// check looks at them.
    pub(crate) fn usage_moved<'t>(&self, tenants: impl IntoIterator<Item = &'t TenantId>) {
        let mut moved = self
            .alerts
            .usage_moved
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(moved) = moved.as_mut() {
            moved.extend(tenants.into_iter().cloned());
        }
    }
}
