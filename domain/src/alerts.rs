//! Alerts to a tenant's owners and managers: an API key expires within 7 days, a webhook
//! endpoint was disabled after failing, live usage passed 80 % and reached 100 % of the
//! monthly limit.
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

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gatehouse_model::{
    AlertId, AlertKind, AlertPreference, AlertView, AlertsPanel, EventType, Role, TenantId,
};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::Row;

use crate::actor::{Access, Actor};
use crate::audit::AuditRecord;
use crate::change::Change;
use crate::error::DomainError;
use crate::{Gatehouse, ids, time};

/// Attempts of one message before it is given up (about a day of backoff).
pub const MAX_MAIL_ATTEMPTS: i64 = 8;
/// How long a claimed message is the claimer's before another worker may send it.
const LEASE_MS: i64 = 5 * 60_000;
/// Messages one pass of the worker sends at most.
const MESSAGES_PER_PASS: i64 = 50;
/// Notices the Overview shows at most.
const NOTICES_SHOWN: i64 = 20;
/// Alert emails one tenant's people are sent in an hour at most; the rest wait for
/// the next hour (their notices show at once).
pub const MAX_MAILS_PER_TENANT_PER_HOUR: i64 = 20;
const HOUR_MS: i64 = 3_600_000;

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

/// The wait before attempt `attempts + 1`: 1 minute, doubling, at most 6 hours.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let minutes = 1_i64 << attempts.clamp(0, 9);
    (minutes * 60_000).min(6 * 3_600_000)
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

/// The operator's SMTP server and sender, and the dashboard's public address for links.
#[derive(Clone)]
pub struct AlertMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: String,
}

impl std::fmt::Debug for AlertMailer {
    // The transport holds the SMTP credentials: never printed.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AlertMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl AlertMailer {
    /// A mailer for `smtp_url` (`smtp://host:port` plain or `?tls=required` for
    /// STARTTLS, `smtps://host` for TLS; `user:password@` for authentication), sending as
    /// `from`. Errors never repeat the URL (it may hold a password).
    pub fn new(smtp_url: &str, from: &str, public_url: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|_| {
                "GATEHOUSE_SMTP_URL is not an SMTP URL (smtp://host:port, smtps://host, optionally user:password@)"
                    .to_owned()
            })?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|_| format!("GATEHOUSE_SMTP_FROM is not an email address: {from}"))?;
        Ok(Self {
            transport,
            from,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let to = to
            .parse::<Mailbox>()
            .map_err(|_| "the recipient's address does not parse".to_owned())?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body)
            .map_err(|error| format!("the message could not be built: {error}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|error| format!("the SMTP server did not take it: {error}"))
    }
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
                let bad = || DomainError::Internal("stored alert is invalid".to_owned());
                let id: String = row.try_get("id")?;
                let kind: String = row.try_get("kind")?;
                Ok(AlertView {
                    id: AlertId::parse(&id).map_err(|_| bad())?,
                    kind: AlertKind::parse(&kind).ok_or_else(bad)?,
                    title: row.try_get("title")?,
                    message: row.try_get("message")?,
                    link: row.try_get("link")?,
                    created_at: time::from_ms(row.try_get("created_at")?),
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
        .execute(self.db().pool())
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
        sqlx::query(
            "INSERT INTO alert_preferences (user_id, tenant_id, kind, enabled) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, tenant_id, kind) DO UPDATE SET enabled = excluded.enabled",
        )
        .bind(user_id.as_str())
        .bind(actor.tenant_id.as_str())
        .bind(preference.kind.as_str())
        .bind(i64::from(preference.enabled))
        .execute(self.db().pool())
        .await?;
        Ok(preference)
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

    /// One pass of the mail worker: claims the messages due, sends each, and marks it
    /// sent, or to be retried, or given up after [`MAX_MAIL_ATTEMPTS`]. Answers how
    /// many were sent.
    pub async fn send_due_alerts(&self) -> Result<usize, DomainError> {
        let Some(mailer) = self.alerts.mailer.clone() else {
            return Ok(0);
        };
        let now = self.now_ms();
        let due = sqlx::query(&format!(
            "SELECT r.alert_id, r.user_id, r.email, r.attempts, r.next_attempt_at, a.title,
                    a.message, a.link, a.tenant_id, t.name AS tenant_name
             FROM alert_recipients r JOIN alerts a ON a.id = r.alert_id
             JOIN tenants t ON t.id = a.tenant_id
             WHERE r.mail_state = 'pending' AND r.next_attempt_at <= $1
             ORDER BY r.next_attempt_at LIMIT {MESSAGES_PER_PASS}"
        ))
        .bind(now)
        .fetch_all(self.db().pool())
        .await?;
        let mut sent = 0;
        // Mails each tenant was sent in the last hour, read once per pass.
        let mut sent_this_hour: std::collections::HashMap<String, i64> = Default::default();
        for row in due {
            let alert_id: String = row.try_get("alert_id")?;
            let user_id: String = row.try_get("user_id")?;
            let attempts: i64 = row.try_get("attempts")?;
            let claimed_at: i64 = row.try_get("next_attempt_at")?;
            let tenant_id: String = row.try_get("tenant_id")?;
            let tenant_sent = match sent_this_hour.get_mut(&tenant_id) {
                Some(count) => count,
                None => {
                    let (count,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM alert_recipients r JOIN alerts a ON a.id = r.alert_id
                         WHERE a.tenant_id = $1 AND r.mail_state = 'sent' AND r.sent_at > $2",
                    )
                    .bind(&tenant_id)
                    .bind(now - HOUR_MS)
                    .fetch_one(self.db().pool())
                    .await?;
                    sent_this_hour.entry(tenant_id.clone()).or_insert(count)
                }
            };
            if *tenant_sent >= MAX_MAILS_PER_TENANT_PER_HOUR {
                // Over the tenant's hourly mails: it waits, without spending an attempt.
                sqlx::query(
                    "UPDATE alert_recipients SET next_attempt_at = $1
                     WHERE alert_id = $2 AND user_id = $3 AND mail_state = 'pending' AND next_attempt_at = $4",
                )
                .bind(now + HOUR_MS / 6)
                .bind(&alert_id)
                .bind(&user_id)
                .bind(claimed_at)
                .execute(self.db().pool())
                .await?;
                continue;
            }
            *tenant_sent += 1;
            // The claim: this worker's for the lease, unless another claimed it first.
            let claim = sqlx::query(
                "UPDATE alert_recipients SET next_attempt_at = $1, attempts = attempts + 1
                 WHERE alert_id = $2 AND user_id = $3 AND mail_state = 'pending' AND next_attempt_at = $4",
            )
            .bind(now + LEASE_MS)
            .bind(&alert_id)
            .bind(&user_id)
            .bind(claimed_at)
            .execute(self.db().pool())
            .await?;
            if claim.rows_affected() == 0 {
                continue;
            }
            let email: String = row.try_get("email")?;
            let title: String = row.try_get("title")?;
            let body = alert_mail_body(
                &row.try_get::<String, _>("message")?,
                &row.try_get::<String, _>("tenant_name")?,
                &format!("{}{}", mailer.public_url, row.try_get::<String, _>("link")?),
                &format!("{}/settings/developers/overview", mailer.public_url),
            );
            let outcome = mailer.send(&email, &title, body).await;
            let done = self.now_ms();
            let (state, next, error) = match &outcome {
                Ok(()) => ("sent", done, None),
                Err(_) if attempts + 1 >= MAX_MAIL_ATTEMPTS => ("failed", done, outcome.err()),
                Err(_) => (
                    "pending",
                    done + retry_delay_ms(attempts),
                    outcome.clone().err(),
                ),
            };
            if state == "sent" {
                sent += 1;
            } else {
                tracing::warn!(alert_id, attempt = attempts + 1, error = ?error, "alert email not sent");
            }
            sqlx::query(
                "UPDATE alert_recipients SET mail_state = $1, next_attempt_at = $2, last_error = $3,
                        sent_at = CASE WHEN $1 = 'sent' THEN $2 ELSE sent_at END
                 WHERE alert_id = $4 AND user_id = $5",
            )
            .bind(state)
            .bind(next)
            .bind(error)
            .bind(&alert_id)
            .bind(&user_id)
            .execute(self.db().pool())
            .await?;
        }
        Ok(sent)
    }
}

/// An alert's email: what happened, where to act, and why the person gets it.
fn alert_mail_body(message: &str, tenant_name: &str, link: &str, preferences: &str) -> String {
    format!(
        "{message}\n\nOpen it in the dashboard: {link}\n\n--\nYou receive this because you are an owner or manager of the workspace \"{tenant_name}\" in Gatehouse. To stop this kind of alert, turn it off under Alerts on the Overview: {preferences}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_six_hours() {
        assert_eq!(retry_delay_ms(0), 60_000);
        assert_eq!(retry_delay_ms(1), 120_000);
        assert_eq!(retry_delay_ms(3), 480_000);
        assert_eq!(retry_delay_ms(20), 6 * 3_600_000);
    }

    #[test]
    fn a_mailer_refuses_a_bad_url_without_repeating_it() {
        let error =
            AlertMailer::new("http://user:hunter2@mail", "a@b.test", "http://x").unwrap_err();
        assert!(!error.contains("hunter2"), "{error}");
        assert!(AlertMailer::new("smtp://127.0.0.1:2525", "not an address", "http://x").is_err());
    }
}
