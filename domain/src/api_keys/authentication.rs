//! Authenticating a presented key secret or access token: the shape and
//! checksum first (no I/O), then the cache, else one look-up by digest. Disabled,
//! revoked and expired credentials fail from the very next request.

use std::sync::Arc;

use gatehouse_model::{CredentialKind, KeyStatus, SubscriptionState, TenantId};

use super::cache::{CachedCredential, CachedKey};
use super::format::{self, PresentedKind};
use super::{KeyPrincipal, KeyRefusal, key_columns, stored_key_from_row};
use crate::Gatehouse;
use crate::actor::{Actor, ActorKind, KeyCredential, TenantStanding};
use crate::error::DomainError;
use crate::stored::Stored;
use crate::tenants::PLATFORM_API_MODULE;

/// A credential that authenticated: its key, the tenant's standing, and the credential.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated {
    pub principal: Arc<KeyPrincipal>,
    pub standing: TenantStanding,
    pub credential: KeyCredential,
}

/// A credential that did not authenticate: why, and the key it belongs to when it is
/// one Gatehouse knows (a disabled, revoked or expired key), for the request log.
#[derive(Debug, Clone)]
pub(crate) struct RefusedKey {
    pub refusal: KeyRefusal,
    pub key: Option<Arc<KeyPrincipal>>,
}

impl RefusedKey {
    fn unnamed(refusal: KeyRefusal) -> Self {
        Self { refusal, key: None }
    }
}

/// Whether a credential of `key` lets a call in at `now_ms`, and as whom.
fn judge(
    digest: String,
    credential: &CachedCredential,
    key: &CachedKey,
    now_ms: i64,
) -> Result<Authenticated, RefusedKey> {
    let view = &key.view;
    let refused = |refusal| RefusedKey {
        refusal,
        key: Some(Arc::clone(&key.principal)),
    };
    match view.status {
        KeyStatus::Revoked => return Err(refused(KeyRefusal::Revoked)),
        KeyStatus::Disabled => return Err(refused(KeyRefusal::Disabled)),
        _ => {}
    }
    let key_ends = view.expires_at.map(|at| at.timestamp_millis());
    let ends_at_ms = match (key_ends, credential.expires_at_ms) {
        (Some(key), Some(credential)) => Some(key.min(credential)),
        (key, credential) => key.or(credential),
    };
    if ends_at_ms.is_some_and(|at| at <= now_ms) {
        return Err(refused(KeyRefusal::Expired));
    }
    Ok(Authenticated {
        principal: Arc::clone(&key.principal),
        standing: key.standing,
        credential: KeyCredential {
            kind: credential.kind,
            digest,
            ends_at_ms,
        },
    })
}

impl Gatehouse {
    /// Authenticates a presented key or access token, answering who it is.
    pub async fn authenticate_api_key(
        &self,
        presented: &str,
    ) -> Result<Result<KeyPrincipal, KeyRefusal>, DomainError> {
        Ok(self
            .authenticate(presented)
            .await?
            .map(|authenticated| (*authenticated.principal).clone())
            .map_err(|refused| refused.refusal))
    }

    /// The credential (a key's secret or an access token) by its digest, from the cache
    /// or one database look-up, with its key, app origins and tenant standing.
    pub(crate) async fn authenticate(
        &self,
        presented: &str,
    ) -> Result<Result<Authenticated, RefusedKey>, DomainError> {
        let well_formed = match format::check(presented) {
            Ok(well_formed) => well_formed,
            Err(malformed) => {
                return Ok(Err(RefusedKey::unnamed(KeyRefusal::Malformed(malformed))));
            }
        };
        let digest = format::digest(presented);
        let now = self.now_ms();
        if let Some((credential, key)) = self.key_cache.credential(&digest, now) {
            self.metrics.count_key_cache(true);
            return Ok(judge(digest, &credential, &key, now));
        }
        self.metrics.count_key_cache(false);
        let generation = self.key_cache.generation();
        let (kind, source) = match well_formed.kind {
            PresentedKind::ApiKey(_) => (
                CredentialKind::Secret,
                "api_key_secrets c JOIN api_keys k ON k.id = c.key_id",
            ),
            // A token lives no longer than the secret it was exchanged from.
            PresentedKind::AccessToken => (
                CredentialKind::AccessToken,
                "access_tokens c JOIN api_key_secrets s ON s.digest = c.secret_digest
                 JOIN api_keys k ON k.id = c.key_id",
            ),
        };
        let credential_end = match kind {
            CredentialKind::Secret => "c.retires_at",
            CredentialKind::AccessToken => {
                "CASE WHEN s.retires_at IS NOT NULL AND s.retires_at < c.expires_at
                      THEN s.retires_at ELSE c.expires_at END"
            }
        };
        let row = sqlx::query(&format!(
            "SELECT {}, k.tenant_id, {credential_end} AS credential_expires_at, t.modules,
                    t.subscription_state, t.suspended, t.billing_anchor_day, a.allowed_origins
             FROM {source} JOIN tenants t ON t.id = k.tenant_id JOIN apps a ON a.id = k.app_id
             WHERE c.digest = $1",
            key_columns("k")
        ))
        .bind(&digest)
        .fetch_optional(self.db().pool())
        .await?;
        let Some(row) = row else {
            return Ok(Err(RefusedKey::unnamed(KeyRefusal::Unknown)));
        };
        let view = stored_key_from_row(&row)?;
        let stored = Stored::new(&row, "API key");
        let tenant_id = stored.parsed("tenant_id", |id| TenantId::parse(id).ok())?;
        let modules: String = stored.get("modules")?;
        let subscription = stored.parsed("subscription_state", SubscriptionState::parse)?;
        let standing = TenantStanding {
            platform_api_enabled: modules
                .split_whitespace()
                .any(|module| module == PLATFORM_API_MODULE),
            subscription_active: subscription.is_active(),
            suspended: crate::tenants::is_suspended(stored.get("suspended")?, subscription),
            billing_anchor_day: u32::try_from(stored.get::<i64>("billing_anchor_day")?)
                .unwrap_or(1),
        };
        let app_allowed_origins: Vec<String> = stored.json("allowed_origins")?;
        let credential = CachedCredential {
            key_id: view.id.clone(),
            kind,
            expires_at_ms: stored.get("credential_expires_at")?,
        };
        let key = CachedKey::new(view, tenant_id, standing, app_allowed_origins, now);
        let verdict = judge(digest.clone(), &credential, &key, now);
        self.key_cache.store(generation, digest, credential, key);
        Ok(verdict)
    }

    /// The actor for a presented credential (`None`: none was sent), or why it is refused.
    pub async fn api_key_actor(&self, presented: Option<&str>) -> Result<Actor, DomainError> {
        self.api_key_caller(presented)
            .await
            .map_err(|(error, _)| error)
    }

    /// [`Self::api_key_actor`], naming on a refusal the key it was when Gatehouse knows
    /// it (a disabled, revoked or expired key's call is logged under that key).
    pub async fn api_key_caller(
        &self,
        presented: Option<&str>,
    ) -> Result<Actor, (DomainError, Option<Arc<KeyPrincipal>>)> {
        let presented = presented.ok_or((DomainError::KeyRefused(KeyRefusal::Missing), None))?;
        let authenticated = match self.authenticate(presented).await {
            Ok(Ok(authenticated)) => authenticated,
            Ok(Err(refused)) => {
                return Err((DomainError::KeyRefused(refused.refusal), refused.key));
            }
            Err(error) => return Err((error, None)),
        };
        Ok(Actor {
            tenant_id: authenticated.principal.tenant_id.clone(),
            standing: authenticated.standing,
            kind: ActorKind::ApiKey {
                key: authenticated.principal,
                credential: authenticated.credential,
            },
        })
    }
}
