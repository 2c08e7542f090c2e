//! The alert mail worker: each recipient's row is claimed for a lease, sent through
//! the operator's SMTP server and marked sent; a failure is retried with backoff, and a
//! tenant's people get at most so many mails an hour.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::Row;

use crate::Gatehouse;
use crate::error::DomainError;

/// Attempts of one message before it is given up (about a day of backoff).
pub const MAX_MAIL_ATTEMPTS: i64 = 8;
/// How long a claimed message is the claimer's before another worker may send it.
const LEASE_MS: i64 = 5 * 60_000;
/// Messages one pass of the worker sends at most.
const MESSAGES_PER_PASS: i64 = 50;
/// Alert emails one tenant's people are sent in an hour at most; the rest wait for
/// the next hour (their notices show at once).
pub const MAX_MAILS_PER_TENANT_PER_HOUR: i64 = 20;
const HOUR_MS: i64 = 3_600_000;

/// The wait before attempt `attempts + 1`: 1 minute, doubling, at most 6 hours.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let minutes = 1_i64 << attempts.clamp(0, 9);
    (minutes * 60_000).min(6 * 3_600_000)
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

impl Gatehouse {
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
                .execute(self.db().writer())
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
            .execute(self.db().writer())
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
            .execute(self.db().writer())
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
