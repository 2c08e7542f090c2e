//! Access tokens: a key's secret is exchanged for a short-lived token
//! with the same scopes, app and mode. Only a secret may be exchanged (a token cannot
//! renew itself), a token dies with the secret it came from (rotation, disable,
//! revoke, expiry), a key holds a bounded number of live tokens, and every exchange is
//! audited. Also `whoami`: the calling credential, read from the key alone.

use gatehouse_model::{AccessToken, CredentialKind, EventType, WhoAmI};

use super::format;
use crate::actor::Actor;
use crate::audit::AuditRecord;
use crate::error::DomainError;
use crate::{Gatehouse, time};

/// How long an access token from `POST /v1/auth/token` works at most.
pub const ACCESS_TOKEN_TTL_SECONDS: i64 = 15 * 60;

/// Most unexpired access tokens one key may hold at once.
pub const MAX_LIVE_TOKENS_PER_KEY: i64 = 20;

impl Gatehouse {
    /// `POST /v1/auth/token`: a token that acts as the key and ends no later than the
    /// presented secret (and at most [`ACCESS_TOKEN_TTL_SECONDS`] from now). The token
    /// is returned once; only its digest is stored.
    pub async fn issue_access_token(&self, actor: &Actor) -> Result<AccessToken, DomainError> {
        let Some((key, credential)) = actor.key_credential() else {
            return Err(DomainError::CredentialNotAllowed(
                "Access tokens are exchanged for an API key's secret only.",
            ));
        };
        if credential.kind != CredentialKind::Secret {
            return Err(DomainError::CredentialNotAllowed(
                "An access token cannot be exchanged for another: use the API key's secret.",
            ));
        }
        actor.require_platform()?;
        let token = format::generate_access_token(key.mode);
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        let expires_at = credential
            .ends_at_ms
            .map_or(now + ACCESS_TOKEN_TTL_SECONDS * 1000, |ends| {
                ends.min(now + ACCESS_TOKEN_TTL_SECONDS * 1000)
            });
        // Takes the key's row lock first, so concurrent exchanges count one at a time.
        sqlx::query("UPDATE api_keys SET updated_at = updated_at WHERE id = $1")
            .bind(key.key_id.as_str())
            .execute(change.connection())
            .await?;
        let (live_tokens,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM access_tokens WHERE key_id = $1 AND expires_at > $2",
        )
        .bind(key.key_id.as_str())
        .bind(now)
        .fetch_one(change.connection())
        .await?;
        if live_tokens >= MAX_LIVE_TOKENS_PER_KEY {
            return Err(DomainError::LimitReached(format!(
                "This key already holds {MAX_LIVE_TOKENS_PER_KEY} live access tokens; reuse one until it expires."
            )));
        }
        sqlx::query(
            "INSERT INTO access_tokens (digest, key_id, secret_digest, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(format::digest(&token))
        .bind(key.key_id.as_str())
        .bind(&credential.digest)
        .bind(now)
        .bind(expires_at)
        .execute(change.connection())
        .await?;
        let record = AuditRecord {
            after: Some(serde_json::json!({
                "key_id": key.key_id, "mode": key.mode, "scopes": key.scopes,
                "expires_at": time::from_ms(expires_at),
            })),
            ..AuditRecord::by(
                actor,
                EventType::AccessTokenIssued,
                format!("Access token issued for {}", key.masked_key),
            )
        }
        .in_app(&key.app_id, key.mode)
        .related("key_id", &key.key_id);
        change.audit(record).await?;
        change.commit().await?;
        Ok(AccessToken {
            access_token: token,
            token_type: "Bearer".to_owned(),
            expires_in: (expires_at - now) / 1000,
            expires_at: time::from_ms(expires_at),
            scopes: key.scopes.clone(),
        })
    }

    /// `GET /v1/whoami`: the calling key and credential; reads nothing but the key.
    pub fn whoami(&self, actor: &Actor) -> Result<WhoAmI, DomainError> {
        let Some((key, credential)) = actor.key_credential() else {
            return Err(DomainError::CredentialNotAllowed(
                "whoami answers for API keys and access tokens.",
            ));
        };
        actor.require_platform()?;
        Ok(WhoAmI {
            key_id: key.key_id.clone(),
            tenant_id: key.tenant_id.clone(),
            app_id: key.app_id.clone(),
            mode: key.mode,
            scopes: key.scopes.clone(),
            credential: credential.kind,
            expires_at: credential.ends_at_ms.map(time::from_ms),
        })
    }
}
