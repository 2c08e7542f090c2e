//! Dashboard sign-in: argon2id passwords (checked by a bounded pool, see `password`),
//! throttled attempts, and server-side sessions whose cookie token is stored only as a
//! SHA-256 digest.
//!
//! Throttling is counted before the password is checked, each count one atomic
//! statement, so concurrent guesses cannot slip past a limit:
//! - a client address may make [`MAX_ATTEMPTS_PER_ADDRESS`] attempts in a window, on any
//!   accounts, before any password it sends is checked;
//! - an account is locked after [`MAX_FAILURES`] failures in a window *from one
//!   address*, so a flood from one address locks that address out of the account, while
//!   the account's owner signing in from elsewhere is not locked.
//!
//! Failures for emails that belong to no user are counted like any other, but write no
//! audit row (they belong to no tenant, and anyone can send them).

pub mod links;
pub mod password;

use std::net::IpAddr;

use gatehouse_model::{EventType, Role, TenantId, UserId, Viewer};
use sha2::{Digest, Sha256};

use crate::access::role_opens_developers;
use crate::actor::{Actor, ActorKind, TenantStanding};
use crate::audit::AuditRecord;
use crate::error::DomainError;
use crate::stored::{self, Stored};
use crate::tenants::PLATFORM_API_MODULE;
use crate::text::normalize_email;
use crate::{Gatehouse, ids};

pub use password::{MIN_PASSWORD_LEN, hash_password, validate_new_password};

/// Failed sign-ins on one account from one address within [`FAILURE_WINDOW_MS`] before
/// that address is locked out of it (a success starts afresh).
pub const MAX_FAILURES: i64 = 5;
/// Sign-in attempts (on any accounts, right or wrong) one address may make within
/// [`FAILURE_WINDOW_MS`].
pub const MAX_ATTEMPTS_PER_ADDRESS: i64 = 50;
/// The window in which attempts are counted, and how long a lock lasts.
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// How long a dashboard session lasts.
pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;

/// Who a sign-in throttle counts: the client's network (IPv6 by its /64, which one
/// subscriber usually holds whole), or "unknown" when the caller has no address.
fn client_network(client: Option<IpAddr>) -> String {
    match client {
        Some(IpAddr::V4(address)) => address.to_string(),
        Some(IpAddr::V6(address)) => match address.to_ipv4_mapped() {
            Some(mapped) => mapped.to_string(),
            None => {
                let segments = address.segments();
                format!(
                    "{:x}:{:x}:{:x}:{:x}::/64",
                    segments[0], segments[1], segments[2], segments[3]
                )
            }
        },
        None => "unknown".to_owned(),
    }
}

/// The throttle row of every attempt from a network.
fn address_subject(network: &str) -> String {
    format!("address:{network}")
}

/// The throttle row of the failures on one account from one network.
fn account_subject(network: &str, email: &str) -> String {
    format!("account:{network}:{email}")
}

/// SHA-256 of a session token, as stored.
fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh session: the token goes into the cookie, only its digest into the database.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub expires_at_ms: i64,
    pub viewer: Viewer,
}

/// A session resolved from its cookie.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub actor: Actor,
    pub viewer: Viewer,
}

impl Gatehouse {
    /// Signs a user in from `client` (the caller's address, when known). Wrong email
    /// and wrong password give the same error; too many attempts from the address, or
    /// [`MAX_FAILURES`] failures on the account from it, lock it out for a while.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<NewSession, DomainError> {
        let signed_in = self.check_sign_in(email, password, client).await;
        let code = match &signed_in {
            Ok(_) => "ok",
            Err(error) => error.code().as_str(),
        };
        self.metrics
            .count_authentication(crate::metrics::AuthMethod::SignIn, code);
        signed_in
    }

    async fn check_sign_in(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<NewSession, DomainError> {
        let network = client_network(client);
        self.count_attempt(&address_subject(&network), MAX_ATTEMPTS_PER_ADDRESS)
            .await?;
        let Ok(email) = normalize_email(email) else {
            self.password_checks.verify(password, None).await?;
            return Err(DomainError::InvalidCredentials);
        };
        let account = account_subject(&network, &email);
        self.count_attempt(&account, MAX_FAILURES).await?;
        let user = sqlx::query(
            "SELECT u.id, u.password_hash, m.tenant_id FROM users u
             JOIN memberships m ON m.user_id = u.id
             WHERE u.email = $1 ORDER BY m.created_at LIMIT 1",
        )
        .bind(&email)
        .fetch_optional(self.db().pool())
        .await?;
        let (user_id, stored_hash, tenant_id) = match &user {
            Some(row) => {
                let stored = Stored::new(row, "user");
                (
                    Some(stored.parsed("id", |id| UserId::parse(id).ok())?),
                    Some(stored.get::<String>("password_hash")?),
                    Some(stored.parsed("tenant_id", |id| TenantId::parse(id).ok())?),
                )
            }
            None => (None, None, None),
        };
        let password_matches = self.password_checks.verify(password, stored_hash).await?;
        let (Some(user_id), Some(tenant_id)) = (user_id, tenant_id) else {
            return Err(DomainError::InvalidCredentials);
        };
        let signed_in_as = acting_person(&tenant_id, &user_id, &email);
        let mut change = self.begin_change().await?;
        if !password_matches {
            let record = AuditRecord::by(
                &signed_in_as,
                EventType::UserSignInFailed,
                format!("Failed sign-in for {email}"),
            )
            .related("user_id", &user_id);
            change.audit(record).await?;
            change.commit().await?;
            return Err(DomainError::InvalidCredentials);
        }
        let token = ids::random_hex(32);
        let expires_at_ms = change.now_ms + SESSION_TTL_MS;
        sqlx::query("DELETE FROM sign_in_throttle WHERE subject = $1")
            .bind(&account)
            .execute(change.connection())
            .await?;
        let now = change.now_ms;
        sqlx::query(
            "INSERT INTO sessions (token_digest, user_id, tenant_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_digest(&token))
        .bind(user_id.as_str())
        .bind(tenant_id.as_str())
        .bind(now)
        .bind(expires_at_ms)
        .execute(change.connection())
        .await?;
        let record = AuditRecord::by(
            &signed_in_as,
            EventType::UserSignedIn,
            format!("{email} signed in"),
        )
        .related("user_id", &user_id);
        change.audit(record).await?;
        change.commit().await?;

        let signed_in = self.signed_in(&user_id, &tenant_id, false).await?;
        Ok(NewSession {
            token,
            expires_at_ms,
            viewer: signed_in.viewer,
        })
    }

    /// Counts one sign-in attempt on a throttle row before any password is checked, in
    /// one atomic statement; refuses it once the window's `limit` is used up. The
    /// attempt that reaches the limit sets the lock, which lasts a window (a success
    /// lifts an account's).
    async fn count_attempt(&self, subject: &str, limit: i64) -> Result<(), DomainError> {
        let now = self.now_ms();
        let (attempts, locked_until): (i64, i64) = sqlx::query_as(
            "INSERT INTO sign_in_throttle (subject, attempts, window_started_at, locked_until)
             VALUES ($1, 1, $2, 0)
             ON CONFLICT (subject) DO UPDATE SET
                attempts = CASE
                    WHEN sign_in_throttle.locked_until > $2
                      OR sign_in_throttle.window_started_at > $2 - $3
                    THEN sign_in_throttle.attempts + 1 ELSE 1 END,
                window_started_at = CASE
                    WHEN sign_in_throttle.locked_until > $2
                      OR sign_in_throttle.window_started_at > $2 - $3
                    THEN sign_in_throttle.window_started_at ELSE $2 END,
                locked_until = CASE
                    WHEN sign_in_throttle.locked_until > $2 THEN sign_in_throttle.locked_until
                    WHEN sign_in_throttle.window_started_at > $2 - $3
                      AND sign_in_throttle.attempts + 1 >= $4 THEN $2 + $3
                    ELSE 0 END
             RETURNING attempts, locked_until",
        )
        .bind(subject)
        .bind(now)
        .bind(FAILURE_WINDOW_MS)
        .bind(limit)
        .fetch_one(self.db().writer())
        .await?;
        if attempts > limit {
            let retry_after_seconds =
                u64::try_from((locked_until - now).max(0) / 1000 + 1).unwrap_or(1);
            return Err(DomainError::SignInThrottled {
                retry_after_seconds,
            });
        }
        Ok(())
    }

    /// Resolves a session cookie's token; expired or unknown tokens are unauthenticated.
    pub async fn session(&self, token: &str) -> Result<SignedIn, DomainError> {
        if token.len() != 64 || !token.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(DomainError::Unauthenticated);
        }
        let row: Option<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT user_id, tenant_id, expires_at, from_link FROM sessions WHERE token_digest = $1",
        )
        .bind(token_digest(token))
        .fetch_optional(self.db().pool())
        .await?;
        let Some((user_id, tenant_id, expires_at, from_link)) = row else {
            return Err(DomainError::Unauthenticated);
        };
        if expires_at <= self.now_ms() {
            return Err(DomainError::Unauthenticated);
        }
        let user_id = stored::parsed("session", "user_id", &user_id, |id| UserId::parse(id).ok())?;
        let tenant_id = stored::parsed("session", "tenant_id", &tenant_id, |id| {
            TenantId::parse(id).ok()
        })?;
        self.signed_in(&user_id, &tenant_id, from_link != 0).await
    }

    /// Ends a session on the server.
    pub async fn sign_out(&self, token: &str) -> Result<(), DomainError> {
        let digest = token_digest(token);
        let session: Option<(String, String, String)> = sqlx::query_as(
            "SELECT s.user_id, s.tenant_id, u.email FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_digest = $1",
        )
        .bind(&digest)
        .fetch_optional(self.db().pool())
        .await?;
        // A session already ended has nothing left to end or record.
        let Some((user_id, tenant_id, email)) = session else {
            return Ok(());
        };
        let user_id = stored::parsed("session", "user_id", &user_id, |id| UserId::parse(id).ok())?;
        let tenant_id = stored::parsed("session", "tenant_id", &tenant_id, |id| {
            TenantId::parse(id).ok()
        })?;
        let mut change = self.begin_change().await?;
        let ended = sqlx::query("DELETE FROM sessions WHERE token_digest = $1")
            .bind(&digest)
            .execute(change.connection())
            .await?;
        if ended.rows_affected() == 0 {
            // Another sign-out of the same session ended it first and recorded it.
            return Ok(());
        }
        let record = AuditRecord::by(
            &acting_person(&tenant_id, &user_id, &email),
            EventType::UserSignedOut,
            format!("{email} signed out"),
        )
        .related("user_id", &user_id);
        change.audit(record).await?;
        change.commit().await
    }

    async fn signed_in(
        &self,
        user_id: &UserId,
        tenant_id: &TenantId,
        embedded: bool,
    ) -> Result<SignedIn, DomainError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT u.email, m.role FROM users u JOIN memberships m ON m.user_id = u.id
             WHERE u.id = $1 AND m.tenant_id = $2",
        )
        .bind(user_id.as_str())
        .bind(tenant_id.as_str())
        .fetch_optional(self.db().pool())
        .await?;
        let (email, role) = row.ok_or(DomainError::Unauthenticated)?;
        let role = stored::parsed("membership", "role", &role, Role::parse)?;
        let tenant = self.tenant(tenant_id).await?;
        let platform_api_enabled = tenant.has_module(PLATFORM_API_MODULE);
        let suspended = tenant.is_suspended();
        Ok(SignedIn {
            actor: Actor {
                tenant_id: tenant.id.clone(),
                kind: ActorKind::User {
                    user_id: user_id.clone(),
                    email: email.clone(),
                    role,
                },
                standing: TenantStanding {
                    platform_api_enabled,
                    subscription_active: tenant.subscription_state.is_active(),
                    suspended,
                    billing_anchor_day: tenant.billing_anchor_day,
                },
            },
            viewer: Viewer {
                user_id: user_id.clone(),
                email,
                tenant_id: tenant.id,
                tenant_name: tenant.name,
                role,
                can_open_developers: role_opens_developers(role),
                platform_api_enabled,
                embedded,
                frame_origins: Vec::new(),
                suspended,
            },
        })
    }
}

/// A person as the audit trail names them when they sign in or out: who, in which
/// tenant (their role and the tenant's standing play no part in it).
fn acting_person(tenant_id: &TenantId, user_id: &UserId, email: &str) -> Actor {
    Actor {
        tenant_id: tenant_id.clone(),
        kind: ActorKind::User {
            user_id: user_id.clone(),
            email: email.to_owned(),
            role: Role::Member,
        },
        standing: TenantStanding {
            platform_api_enabled: false,
            subscription_active: false,
            suspended: false,
            billing_anchor_day: 1,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_count_a_network_and_an_account_from_it() {
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        let v6: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_network(Some(v4)), "203.0.113.7");
        assert_eq!(client_network(Some(mapped)), "203.0.113.7");
        assert_eq!(client_network(Some(v6)), "2001:db8:1:2::/64");
        assert_eq!(client_network(Some(v6)), client_network(Some(same_64)));
        assert_eq!(client_network(None), "unknown");
        assert_ne!(
            account_subject("203.0.113.7", "owner@acme.test"),
            account_subject("198.51.100.1", "owner@acme.test")
        );
    }
}
