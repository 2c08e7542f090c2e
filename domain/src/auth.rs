//! Dashboard sign-in (SPEC T-3): argon2id passwords, throttled attempts, and
//! server-side sessions whose cookie token is stored only as a SHA-256 digest.
//!
//! Throttling is counted before the password is checked, in one atomic statement, so
//! concurrent guesses cannot all slip past the limit: at most [`MAX_FAILURES`] attempts
//! per email are checked in a window, then the email is locked. Failures for emails
//! that belong to no user are counted per window like any other, but write no audit
//! row (they belong to no tenant, and anyone can send them).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use gatehouse_model::{EventType, Role, TenantId, UserId, Viewer};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::actor::{Actor, ActorKind, TenantStanding, role_opens_developers};
use crate::audit::AuditRecord;
use crate::error::DomainError;
use crate::tenants::PLATFORM_API_MODULE;
use crate::users::normalize_email;
use crate::{Gatehouse, ids};

/// Sign-in attempts checked on one email within [`FAILURE_WINDOW_MS`] before it is
/// locked (a success starts afresh).
pub const MAX_FAILURES: i64 = 5;
/// The window in which failures are counted, and how long a lock lasts.
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// How long a dashboard session lasts.
pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;
/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// OWASP's argon2id parameters: m=19456 KiB, t=2, p=1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn validate_new_password(password: &str) -> Result<(), DomainError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(DomainError::field(
            "password",
            format!("Use at least {MIN_PASSWORD_LEN} characters."),
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id off the async threads.
pub async fn hash_password(password: &str) -> Result<String, DomainError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| DomainError::Internal(format!("password hashing failed: {error}")))
    })
    .await
    .map_err(|error| DomainError::Internal(error.to_string()))?
}

/// Checks a password against a stored hash, off the async threads. With no hash (an
/// unknown email) it still does the same work, so timing does not reveal accounts.
async fn verify_password(password: &str, stored_hash: Option<String>) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let hash_text = stored_hash
            .clone()
            .unwrap_or_else(|| DUMMY_HASH.with(Clone::clone));
        let Ok(parsed) = PasswordHash::new(&hash_text) else {
            return false;
        };
        let matches = argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        matches && stored_hash.is_some()
    })
    .await
    .unwrap_or(false)
}

thread_local! {
    /// A real hash of a random password, made once per blocking thread.
    static DUMMY_HASH: String = {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(ids::random_hex(16).as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    };
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
    /// Signs a user in. Wrong email and wrong password give the same error; after
    /// [`MAX_FAILURES`] attempts in the window the email is locked for a while.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<NewSession, DomainError> {
        let signed_in = self.check_sign_in(email, password).await;
        let code = match &signed_in {
            Ok(_) => "ok",
            Err(error) => error.code().as_str(),
        };
        self.metrics
            .count_authentication(crate::metrics::AuthMethod::SignIn, code);
        signed_in
    }

    async fn check_sign_in(&self, email: &str, password: &str) -> Result<NewSession, DomainError> {
        let Ok(email) = normalize_email(email) else {
            verify_password(password, None).await;
            return Err(DomainError::InvalidCredentials);
        };
        self.count_sign_in_attempt(&email).await?;
        let user = sqlx::query(
            "SELECT u.id, u.password_hash, m.tenant_id FROM users u
             JOIN memberships m ON m.user_id = u.id
             WHERE u.email = $1 ORDER BY m.created_at LIMIT 1",
        )
        .bind(&email)
        .fetch_optional(self.db().pool())
        .await?;
        let (user_id, stored_hash, tenant_id) = match &user {
            Some(row) => (
                Some(parse_stored(UserId::parse(
                    &row.try_get::<String, _>("id")?,
                ))?),
                Some(row.try_get::<String, _>("password_hash")?),
                Some(parse_stored(TenantId::parse(
                    &row.try_get::<String, _>("tenant_id")?,
                ))?),
            ),
            None => (None, None, None),
        };
        let password_matches = verify_password(password, stored_hash).await;
        let (Some(user_id), Some(tenant_id)) = (user_id, tenant_id) else {
            return Err(DomainError::InvalidCredentials);
        };
        let signed_in_as = Actor {
            tenant_id: tenant_id.clone(),
            kind: ActorKind::User {
                user_id: user_id.clone(),
                email: email.clone(),
                role: Role::Member,
            },
            standing: TenantStanding {
                platform_api_enabled: false,
                subscription_active: false,
            },
        };
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
        sqlx::query("DELETE FROM sign_in_failures WHERE email = $1")
            .bind(&email)
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

        let signed_in = self.signed_in(&user_id, &tenant_id).await?;
        Ok(NewSession {
            token,
            expires_at_ms,
            viewer: signed_in.viewer,
        })
    }

    /// Counts one sign-in attempt on `email` before its password is checked, in one
    /// atomic statement; refuses it once the window's attempts are used up. The
    /// attempt that reaches [`MAX_FAILURES`] sets the lock, which a success lifts.
    async fn count_sign_in_attempt(&self, email: &str) -> Result<(), DomainError> {
        let now = self.now_ms();
        let (attempts, locked_until): (i64, i64) = sqlx::query_as(
            "INSERT INTO sign_in_failures (email, failures, window_started_at, locked_until)
             VALUES ($1, 1, $2, 0)
             ON CONFLICT (email) DO UPDATE SET
                failures = CASE
                    WHEN sign_in_failures.locked_until > $2
                      OR sign_in_failures.window_started_at > $2 - $3
                    THEN sign_in_failures.failures + 1 ELSE 1 END,
                window_started_at = CASE
                    WHEN sign_in_failures.locked_until > $2
                      OR sign_in_failures.window_started_at > $2 - $3
                    THEN sign_in_failures.window_started_at ELSE $2 END,
                locked_until = CASE
                    WHEN sign_in_failures.locked_until > $2 THEN sign_in_failures.locked_until
                    WHEN sign_in_failures.window_started_at > $2 - $3
                      AND sign_in_failures.failures + 1 >= $4 THEN $2 + $3
                    ELSE 0 END
             RETURNING failures, locked_until",
        )
        .bind(email)
        .bind(now)
        .bind(FAILURE_WINDOW_MS)
        .bind(MAX_FAILURES)
        .fetch_one(self.db().pool())
        .await?;
        if attempts > MAX_FAILURES {
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
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT user_id, tenant_id, expires_at FROM sessions WHERE token_digest = $1",
        )
        .bind(token_digest(token))
        .fetch_optional(self.db().pool())
        .await?;
        let Some((user_id, tenant_id, expires_at)) = row else {
            return Err(DomainError::Unauthenticated);
        };
        if expires_at <= self.now_ms() {
            return Err(DomainError::Unauthenticated);
        }
        let user_id = parse_stored(UserId::parse(&user_id))?;
        let tenant_id = parse_stored(TenantId::parse(&tenant_id))?;
        self.signed_in(&user_id, &tenant_id).await
    }

    /// Ends a session on the server.
    pub async fn sign_out(&self, token: &str) -> Result<(), DomainError> {
        sqlx::query("DELETE FROM sessions WHERE token_digest = $1")
            .bind(token_digest(token))
            .execute(self.db().pool())
            .await?;
        Ok(())
    }

    async fn signed_in(
        &self,
        user_id: &UserId,
        tenant_id: &TenantId,
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
        let role = Role::parse(&role).ok_or_else(|| {
            DomainError::Internal("stored membership has an invalid role".to_owned())
        })?;
        let tenant = self.tenant(tenant_id).await?;
        let platform_api_enabled = tenant.has_module(PLATFORM_API_MODULE);
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
            },
        })
    }
}

fn parse_stored<T>(parsed: Result<T, gatehouse_model::ids::InvalidId>) -> Result<T, DomainError> {
    parsed.map_err(|error| DomainError::Internal(format!("stored id is invalid: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse battery", Some(hash.clone())).await);
        assert!(!verify_password("wrong horse battery", Some(hash)).await);
        assert!(!verify_password("anything at all", None).await);
    }
}
