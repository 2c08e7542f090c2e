//! API keys (SPEC K-1..K-9, X-1..X-4): create (the plaintext returned once), list,
//! get, edit, disable, enable, revoke, rotate and duplicate; authenticating a
//! presented key or access token by its digest; and trading a key for an access token.
//!
//! The same rules hold for every actor. A key acting through the API is further
//! confined: it sees only its own app's keys of its own mode (test keys see test
//! data only), and it can never create, widen or take over a key stronger than itself.

use gatehouse_model::{
    AccessToken, ApiKeyId, ApiKeyInput, ApiKeyListItem, ApiKeyUpdate, ApiKeyView, ApiKeysPage,
    AppId, CreatedApiKey, ErrorCode, ExpiringKey, FieldError, KeyMode, KeyStatus, KeyType,
    RotationOverlap, ScopeCatalog, TenantId, VerifyKeyRequest, VerifyKeyResponse,
};
use std::sync::Arc;

use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::actor::{Access, Actor};
pub use crate::actor::{KeyPrincipal, scopes_grant};
use crate::api_key_format::{self, CredentialKind, MalformedKey};
use crate::audit::{self, AuditRecord};
use crate::error::DomainError;
use crate::key_cache::{CachedCredential, CachedKey, KEY_CHANGES_CHANNEL};
use crate::{Gatehouse, ids, time};

/// How long an access token from `POST /v1/auth/token` works (SPEC X-4).
pub const ACCESS_TOKEN_TTL_SECONDS: i64 = 15 * 60;

/// Why a presented key does not authenticate; each has its own stable code (SPEC X-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    Missing,
    Malformed(MalformedKey),
    Unknown,
    Disabled,
    Revoked,
    Expired,
}

impl KeyRefusal {
    pub fn code(self) -> ErrorCode {
        match self {
            Self::Missing => ErrorCode::ApiKeyMissing,
            Self::Malformed(_) => ErrorCode::ApiKeyMalformed,
            Self::Unknown => ErrorCode::ApiKeyUnknown,
            Self::Disabled => ErrorCode::ApiKeyDisabled,
            Self::Revoked => ErrorCode::ApiKeyRevoked,
            Self::Expired => ErrorCode::ApiKeyExpired,
        }
    }

    /// What the client is told; never echoes the key.
    pub fn message(self) -> &'static str {
        match self {
            Self::Missing => {
                "Send an API key: `Authorization: Bearer <key>` or the `x-api-key` header."
            }
            Self::Malformed(_) => {
                "This is not a valid API key: check that it was copied whole, without typos."
            }
            Self::Unknown => "No such API key.",
            Self::Disabled => "This API key is disabled.",
            Self::Revoked => "This API key has been revoked.",
            Self::Expired => "This API key (or access token) has expired.",
        }
    }
}

/// Whether a scope is shaped `area:read`, `area:write` or `area:manage`.
pub fn is_scope(scope: &str) -> bool {
    scope.split_once(':').is_some_and(|(area, access)| {
        !area.is_empty()
            && area
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte == b'_')
            && matches!(access, "read" | "write" | "manage")
    })
}

/// Whether `actor` may see `key`: users see all of the tenant's keys; a key sees only
/// its own app's keys of its own mode.
fn key_visible_to(actor: &Actor, key: &ApiKeyView) -> bool {
    actor
        .api_key()
        .is_none_or(|own| own.app_id == key.app_id && own.mode == key.mode)
}

/// Refuses a key actor that would hand out or touch more access than it holds.
fn require_covers(actor: &Actor, scopes: Option<&[String]>) -> Result<(), DomainError> {
    match actor.api_key() {
        Some(own) if !own.covers(scopes) => Err(DomainError::KeyOutranked),
        _ => Ok(()),
    }
}

/// Validates a new key's settings, every problem against its field.
pub fn validate_key_input(
    input: &ApiKeyInput,
    catalog: &ScopeCatalog,
    now_ms: i64,
) -> Result<ApiKeyInput, DomainError> {
    let mut problems = Vec::new();
    let mut field = |name: &str, message: String| {
        problems.push(FieldError {
            field: name.to_owned(),
            message,
        })
    };
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 80 {
        field(
            "name",
            "Give the key a name of 1 to 80 characters.".to_owned(),
        );
    }
    let description = input.description.trim().to_owned();
    if description.chars().count() > 500 {
        field("description", "Use at most 500 characters.".to_owned());
    }
    let mut scopes: Vec<String> = Vec::new();
    for scope in input
        .scopes
        .iter()
        .map(|scope| scope.trim())
        .filter(|scope| !scope.is_empty())
    {
        if !is_scope(scope) {
            field(
                "scopes",
                format!("`{scope}` is not a scope: use area:read or area:write."),
            );
        } else if !catalog.contains(scope) {
            field("scopes", format!("`{scope}` is not in the scope catalog."));
        } else if !scopes.iter().any(|known| known == scope) {
            scopes.push(scope.to_owned());
        }
    }
    match input.key_type {
        KeyType::Restricted
            if scopes.is_empty() && input.scopes.iter().all(|s| s.trim().is_empty()) =>
        {
            field(
                "scopes",
                "A restricted key needs at least one scope.".to_owned(),
            )
        }
        KeyType::Secret if !scopes.is_empty() => field(
            "scopes",
            "A secret key has full access; choose restricted to limit its scopes.".to_owned(),
        ),
        _ => {}
    }
    if input
        .expires_at
        .is_some_and(|at| at.timestamp_millis() <= now_ms)
    {
        field("expires_at", "The expiry must be in the future.".to_owned());
    }
    if input
        .expiry_days
        .is_some_and(|days| !(1..=3650).contains(&days))
    {
        field("expiry_days", "Choose from 1 to 3650 days.".to_owned());
    }
    if !problems.is_empty() {
        return Err(DomainError::Validation(problems));
    }
    Ok(ApiKeyInput {
        name,
        description,
        scopes,
        ..input.clone()
    })
}

/// Whether a credential of `key` lets a call in at `now_ms`, and as whom.
fn judge(
    credential: &CachedCredential,
    key: &CachedKey,
    now_ms: i64,
) -> Result<(Arc<KeyPrincipal>, bool), KeyRefusal> {
    let view = &key.view;
    match view.status {
        KeyStatus::Revoked => return Err(KeyRefusal::Revoked),
        KeyStatus::Disabled => return Err(KeyRefusal::Disabled),
        _ => {}
    }
    let key_expired = view
        .expires_at
        .is_some_and(|at| at.timestamp_millis() <= now_ms);
    if key_expired || credential.expires_at_ms.is_some_and(|at| at <= now_ms) {
        return Err(KeyRefusal::Expired);
    }
    Ok((Arc::clone(&key.principal), key.platform_api_enabled))
}

/// The columns a key is read from, each prefixed with `alias.` when one is given.
fn key_columns(alias: &str) -> String {
    const NAMES: [&str; 16] = [
        "id",
        "app_id",
        "name",
        "description",
        "mode",
        "key_type",
        "scopes",
        "display_prefix",
        "status",
        "expires_at",
        "expiry_days",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "last_used_at",
    ];
    NAMES
        .iter()
        .map(|name| {
            if alias.is_empty() {
                (*name).to_owned()
            } else {
                format!("{alias}.{name}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A key's status at `now_ms`: the stored one, or `expired` once `expires_at` passed
/// (a revoked key stays revoked).
pub(crate) fn derive_status(
    stored: KeyStatus,
    expires_at_ms: Option<i64>,
    now_ms: i64,
) -> KeyStatus {
    match stored {
        KeyStatus::Revoked => KeyStatus::Revoked,
        _ if expires_at_ms.is_some_and(|at| at <= now_ms) => KeyStatus::Expired,
        other => other,
    }
}

fn key_from_row(row: &AnyRow, now_ms: i64) -> Result<ApiKeyView, DomainError> {
    let mut key = stored_key_from_row(row)?;
    key.status = derive_status(
        key.status,
        key.expires_at.map(|at| at.timestamp_millis()),
        now_ms,
    );
    Ok(key)
}

/// A key as stored: its status is `enabled`, `disabled` or `revoked`, never derived.
fn stored_key_from_row(row: &AnyRow) -> Result<ApiKeyView, DomainError> {
    let corrupt =
        |what: &str| DomainError::Internal(format!("stored API key has an invalid {what}"));
    let id: String = row.try_get("id")?;
    let app_id: String = row.try_get("app_id")?;
    let mode: String = row.try_get("mode")?;
    let key_type: String = row.try_get("key_type")?;
    let scopes: Option<String> = row.try_get("scopes")?;
    let status: String = row.try_get("status")?;
    let expires_at: Option<i64> = row.try_get("expires_at")?;
    let display_prefix: String = row.try_get("display_prefix")?;
    let status = match status.as_str() {
        "revoked" => KeyStatus::Revoked,
        "disabled" => KeyStatus::Disabled,
        "enabled" => KeyStatus::Enabled,
        _ => return Err(corrupt("status")),
    };
    Ok(ApiKeyView {
        id: ApiKeyId::parse(&id).map_err(|_| corrupt("id"))?,
        app_id: AppId::parse(&app_id).map_err(|_| corrupt("app id"))?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        mode: KeyMode::parse(&mode).ok_or_else(|| corrupt("mode"))?,
        key_type: KeyType::parse(&key_type).ok_or_else(|| corrupt("type"))?,
        scopes: match scopes {
            Some(text) => Some(serde_json::from_str(&text).map_err(|_| corrupt("scope list"))?),
            None => None,
        },
        masked_key: format!("{display_prefix}…"),
        status,
        expires_at: expires_at.map(time::from_ms),
        expiry_days: row.try_get("expiry_days")?,
        created_at: time::from_ms(row.try_get("created_at")?),
        created_by: row.try_get("created_by")?,
        updated_at: time::from_ms(row.try_get("updated_at")?),
        updated_by: row.try_get("updated_by")?,
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(time::from_ms),
    })
}

impl Gatehouse {
    /// The last step of every key change: reads the key back inside the change's
    /// transaction, records the audit event with before and after, tells other
    /// instances (PostgreSQL), commits, and forgets the key's cached state before the
    /// change is answered.
    #[allow(clippy::too_many_arguments)]
    async fn commit_key_change(
        &self,
        mut transaction: sqlx::Transaction<'_, sqlx::Any>,
        actor: &Actor,
        key_id: &ApiKeyId,
        now: i64,
        event_type: &'static str,
        describe: impl FnOnce(&ApiKeyView) -> String,
        before: Option<&ApiKeyView>,
    ) -> Result<ApiKeyView, DomainError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM api_keys WHERE id = $1",
            key_columns("")
        ))
        .bind(key_id.as_str())
        .fetch_one(&mut *transaction)
        .await?;
        let after = key_from_row(&row, now)?;
        let mut record = AuditRecord::by(actor, event_type, describe(&after));
        record.app_id = Some(after.app_id.clone());
        record
            .related_ids
            .insert("key_id".to_owned(), key_id.to_string().into());
        record.before = before.map(audit_state);
        record.after = Some(audit_state(&after));
        audit::record(&mut *transaction, record).await?;
        if self.db().engine() == crate::Engine::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(KEY_CHANGES_CHANNEL)
                .bind(key_id.as_str())
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        self.key_cache.forget(key_id);
        Ok(after)
    }
}

/// Lists sort by status (enabled, disabled, expired, revoked), then newest first (SPEC K-5).
fn status_rank(status: KeyStatus) -> u8 {
    match status {
        KeyStatus::Enabled => 0,
        KeyStatus::Disabled => 1,
        KeyStatus::Expired => 2,
        KeyStatus::Revoked => 3,
    }
}

fn audit_state(key: &ApiKeyView) -> serde_json::Value {
    json!({
        "name": key.name, "description": key.description, "scopes": key.scopes,
        "status": key.status.as_str(), "expires_at": key.expires_at,
    })
}

impl Gatehouse {
    /// Creates a key bound to one of the tenant's apps; the plaintext is in the answer
    /// and nowhere else.
    pub async fn create_api_key(
        &self,
        actor: &Actor,
        input: &ApiKeyInput,
    ) -> Result<CreatedApiKey, DomainError> {
        actor.require(Access::API_KEYS_WRITE)?;
        let now = time::now_ms();
        let input = validate_key_input(input, self.scope_catalog(), now)?;
        if let Some(own) = actor.api_key() {
            if own.app_id != input.app_id {
                return Err(DomainError::NotFound("app"));
            }
            if own.mode != input.mode {
                return Err(DomainError::field(
                    "mode",
                    format!(
                        "A {} key can only create {} keys.",
                        own.mode.as_str(),
                        own.mode.as_str()
                    ),
                ));
            }
        }
        let scopes = match input.key_type {
            KeyType::Secret => None,
            KeyType::Restricted => Some(input.scopes.as_slice()),
        };
        require_covers(actor, scopes)?;
        self.find_app(&actor.tenant_id, &input.app_id).await?;
        let plaintext = api_key_format::generate(input.key_type, input.mode);
        let id = ApiKeyId::from_body(&ids::fresh_body());
        // Keys show who created and changed them by name (email or masked key); the
        // audit trail keeps the actor's id.
        let (_, _, by) = actor.audit_identity();
        let scopes = match input.key_type {
            KeyType::Secret => None,
            KeyType::Restricted => Some(json!(input.scopes).to_string()),
        };
        let mut transaction = self.db().pool().begin().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, app_id, mode, key_type, name, description, scopes,
                display_prefix, status, expires_at, expiry_days, created_at, created_by, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'enabled', $10, $11, $12, $13, $12, $13)",
        )
        .bind(id.as_str())
        .bind(actor.tenant_id.as_str())
        .bind(input.app_id.as_str())
        .bind(input.mode.as_str())
        .bind(input.key_type.as_str())
        .bind(&input.name)
        .bind(&input.description)
        .bind(scopes)
        .bind(&plaintext[..12])
        .bind(input.expires_at.map(|at| at.timestamp_millis()))
        .bind(input.expiry_days)
        .bind(now)
        .bind(&by)
        .execute(&mut *transaction)
        .await?;
        sqlx::query("INSERT INTO api_key_secrets (digest, key_id, created_at, retires_at) VALUES ($1, $2, $3, NULL)")
            .bind(api_key_format::digest(&plaintext))
            .bind(id.as_str())
            .bind(now)
            .execute(&mut *transaction)
            .await?;
        let key = self
            .commit_key_change(
                transaction,
                actor,
                &id,
                now,
                "api_key.created",
                |key| format!("API key {} created", key.name),
                None,
            )
            .await?;
        Ok(CreatedApiKey { key, plaintext })
    }

    /// One key of the actor's tenant; another tenant's id is "not found".
    pub async fn api_key(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
    ) -> Result<ApiKeyView, DomainError> {
        actor.require(Access::API_KEYS_READ)?;
        self.visible_key(actor, key_id).await
    }

    /// A key `actor` may see, or "not found" (another tenant's, app's or mode's).
    async fn visible_key(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
    ) -> Result<ApiKeyView, DomainError> {
        let now = time::now_ms();
        let key = match self.key_cache.key(key_id, now) {
            Some(cached) if cached.tenant_id == actor.tenant_id => cached.view_at(now),
            Some(_) => return Err(DomainError::NotFound("API key")),
            None => {
                let row = sqlx::query(&format!(
                    "SELECT {} FROM api_keys WHERE id = $1 AND tenant_id = $2",
                    key_columns("")
                ))
                .bind(key_id.as_str())
                .bind(actor.tenant_id.as_str())
                .fetch_optional(self.db().pool())
                .await?
                .ok_or(DomainError::NotFound("API key"))?;
                key_from_row(&row, now)?
            }
        };
        if !key_visible_to(actor, &key) {
            return Err(DomainError::NotFound("API key"));
        }
        Ok(key)
    }

    /// The key a change is about: write access, visible, not revoked, and (for a key
    /// actor) no stronger than the actor.
    async fn key_to_change(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
        refusal_when_revoked: &str,
    ) -> Result<ApiKeyView, DomainError> {
        actor.require(Access::API_KEYS_WRITE)?;
        let key = self.visible_key(actor, key_id).await?;
        if key.status == KeyStatus::Revoked {
            return Err(DomainError::Conflict(refusal_when_revoked.to_owned()));
        }
        require_covers(actor, key.scopes.as_deref())?;
        Ok(key)
    }

    /// An app's keys, by status then newest first, each with its calls in the last
    /// 24 hours (SPEC K-5). A key actor lists only its own app's keys of its own mode.
    pub async fn list_api_keys(
        &self,
        actor: &Actor,
        app_id: &AppId,
    ) -> Result<Vec<ApiKeyListItem>, DomainError> {
        actor.require(Access::API_KEYS_READ)?;
        if actor.api_key().is_some_and(|own| &own.app_id != app_id) {
            return Err(DomainError::NotFound("app"));
        }
        self.find_app(&actor.tenant_id, app_id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {} FROM api_keys WHERE tenant_id = $1 AND app_id = $2 ORDER BY created_at DESC, id DESC",
            key_columns("")
        ))
        .bind(actor.tenant_id.as_str())
        .bind(app_id.as_str())
        .fetch_all(self.db().pool())
        .await?;
        let now = time::now_ms();
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            let key = key_from_row(row, now)?;
            if key_visible_to(actor, &key) {
                keys.push(key);
            }
        }
        keys.sort_by_key(|key| status_rank(key.status));
        let counts = self
            .key_call_counts(&actor.tenant_id, app_id, now - 24 * 3_600_000)
            .await?;
        let now = time::from_ms(now);
        Ok(keys
            .into_iter()
            .map(|key| {
                let (successes_24h, failures_24h) =
                    counts.get(key.id.as_str()).copied().unwrap_or_default();
                ApiKeyListItem {
                    expiring_soon: key.expires_within_a_week(now),
                    key,
                    successes_24h,
                    failures_24h,
                }
            })
            .collect())
    }

    /// The API keys tab: the user's selected app, its keys, and the scope catalog.
    pub async fn api_keys_page(&self, actor: &Actor) -> Result<ApiKeysPage, DomainError> {
        actor.require(Access::API_KEYS_READ)?;
        let app = match self.selected_app_id(actor).await? {
            Some(app_id) => Some(self.find_app(&actor.tenant_id, &app_id).await?),
            None => None,
        };
        let keys = match &app {
            Some(app) => self.list_api_keys(actor, &app.id).await?,
            None => Vec::new(),
        };
        Ok(ApiKeysPage {
            app,
            keys,
            catalog: self.scope_catalog().clone(),
        })
    }

    /// How many of the tenant's keys are not revoked (the Overview's count).
    pub(crate) async fn api_key_count(&self, tenant_id: &TenantId) -> Result<i64, DomainError> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1 AND status <> 'revoked'",
        )
        .bind(tenant_id.as_str())
        .fetch_one(self.db().pool())
        .await?;
        Ok(count)
    }

    /// The tenant's keys that expire within 7 days, soonest first (SPEC K-10).
    pub(crate) async fn expiring_keys(
        &self,
        tenant_id: &TenantId,
    ) -> Result<Vec<ExpiringKey>, DomainError> {
        let now = time::now_ms();
        let rows = sqlx::query(
            "SELECT k.id, k.name, k.display_prefix, k.expires_at, a.name AS app_name
             FROM api_keys k JOIN apps a ON a.id = k.app_id
             WHERE k.tenant_id = $1 AND k.status <> 'revoked'
               AND k.expires_at > $2 AND k.expires_at <= $3
             ORDER BY k.expires_at, k.id",
        )
        .bind(tenant_id.as_str())
        .bind(now)
        .bind(now + gatehouse_model::EXPIRY_WARNING_DAYS * 86_400_000)
        .fetch_all(self.db().pool())
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let display_prefix: String = row.try_get("display_prefix")?;
                Ok(ExpiringKey {
                    id: ApiKeyId::parse(&id).map_err(|_| {
                        DomainError::Internal("stored API key is invalid".to_owned())
                    })?,
                    name: row.try_get("name")?,
                    masked_key: format!("{display_prefix}…"),
                    app_name: row.try_get("app_name")?,
                    expires_at: time::from_ms(row.try_get("expires_at")?),
                })
            })
            .collect()
    }

    /// Disables (`enabled = false`) or re-enables a key; a revoked key stays revoked.
    pub async fn set_api_key_enabled(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
        enabled: bool,
    ) -> Result<ApiKeyView, DomainError> {
        let (status, event_type, verb) = if enabled {
            ("enabled", "api_key.enabled", "enabled")
        } else {
            ("disabled", "api_key.disabled", "disabled")
        };
        self.change_key_status(actor, key_id, status, event_type, verb)
            .await
    }

    /// Revokes a key for good: there is no unrevoke (SPEC K-6).
    pub async fn revoke_api_key(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
    ) -> Result<ApiKeyView, DomainError> {
        self.change_key_status(actor, key_id, "revoked", "api_key.revoked", "revoked")
            .await
    }

    async fn change_key_status(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
        status: &'static str,
        event_type: &'static str,
        verb: &str,
    ) -> Result<ApiKeyView, DomainError> {
        let before = self
            .key_to_change(
                actor,
                key_id,
                "This key is revoked; revocation is permanent.",
            )
            .await?;
        let now = time::now_ms();
        let (_, _, changed_by) = actor.audit_identity();
        let mut transaction = self.db().pool().begin().await?;
        sqlx::query(
            "UPDATE api_keys SET status = $1, updated_at = $2, updated_by = $3,
                revoked_at = CASE WHEN $1 = 'revoked' THEN $2 ELSE revoked_at END
             WHERE id = $4 AND tenant_id = $5 AND status <> 'revoked'",
        )
        .bind(status)
        .bind(now)
        .bind(&changed_by)
        .bind(key_id.as_str())
        .bind(actor.tenant_id.as_str())
        .execute(&mut *transaction)
        .await?;
        let after = self
            .commit_key_change(
                transaction,
                actor,
                key_id,
                now,
                event_type,
                |after| format!("API key {} {verb}", after.name),
                Some(&before),
            )
            .await?;
        Ok(after)
    }

    /// Edits a key's name, description and (restricted keys only) scopes, audited with
    /// before and after (SPEC K-7).
    pub async fn update_api_key(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
        update: &ApiKeyUpdate,
    ) -> Result<ApiKeyView, DomainError> {
        let before = self
            .key_to_change(actor, key_id, "A revoked key cannot be edited.")
            .await?;
        if before.key_type == KeyType::Secret
            && update
                .scopes
                .as_ref()
                .is_some_and(|scopes| !scopes.is_empty())
        {
            return Err(DomainError::field(
                "scopes",
                "A secret key has full access; duplicate it as a restricted key to limit scopes.",
            ));
        }
        let probe = ApiKeyInput {
            app_id: before.app_id.clone(),
            name: update.name.clone().unwrap_or_else(|| before.name.clone()),
            description: update
                .description
                .clone()
                .unwrap_or_else(|| before.description.clone()),
            mode: before.mode,
            key_type: before.key_type,
            scopes: update
                .scopes
                .clone()
                .or_else(|| before.scopes.clone())
                .unwrap_or_default(),
            expires_at: None,
            expiry_days: None,
        };
        let valid = validate_key_input(&probe, self.scope_catalog(), time::now_ms())?;
        if before.key_type == KeyType::Restricted {
            require_covers(actor, Some(&valid.scopes))?;
        }
        let scopes = match before.key_type {
            KeyType::Secret => None,
            KeyType::Restricted => Some(json!(valid.scopes).to_string()),
        };
        let now = time::now_ms();
        let (_, _, changed_by) = actor.audit_identity();
        let mut transaction = self.db().pool().begin().await?;
        sqlx::query(
            "UPDATE api_keys SET name = $1, description = $2, scopes = $3, updated_at = $4, updated_by = $5
             WHERE id = $6 AND tenant_id = $7",
        )
        .bind(&valid.name)
        .bind(&valid.description)
        .bind(scopes)
        .bind(now)
        .bind(&changed_by)
        .bind(key_id.as_str())
        .bind(actor.tenant_id.as_str())
        .execute(&mut *transaction)
        .await?;
        let after = self
            .commit_key_change(
                transaction,
                actor,
                key_id,
                now,
                "api_key.updated",
                |after| format!("API key {} updated", after.name),
                Some(&before),
            )
            .await?;
        Ok(after)
    }

    /// Issues a new secret for the same key; the current one keeps working for the
    /// chosen overlap, then stops (SPEC K-8). The new plaintext is returned once.
    pub async fn rotate_api_key(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
        overlap: RotationOverlap,
    ) -> Result<CreatedApiKey, DomainError> {
        let key = self
            .key_to_change(actor, key_id, "A revoked key cannot be rotated.")
            .await?;
        let plaintext = api_key_format::generate(key.key_type, key.mode);
        let now = time::now_ms();
        let retires_at = now + overlap.seconds() * 1000;
        let (_, _, changed_by) = actor.audit_identity();
        let mut transaction = self.db().pool().begin().await?;
        sqlx::query("UPDATE api_key_secrets SET retires_at = $1 WHERE key_id = $2 AND (retires_at IS NULL OR retires_at > $1)")
            .bind(retires_at)
            .bind(key_id.as_str())
            .execute(&mut *transaction)
            .await?;
        sqlx::query("INSERT INTO api_key_secrets (digest, key_id, created_at, retires_at) VALUES ($1, $2, $3, NULL)")
            .bind(api_key_format::digest(&plaintext))
            .bind(key_id.as_str())
            .bind(now)
            .execute(&mut *transaction)
            .await?;
        sqlx::query("UPDATE api_keys SET display_prefix = $1, updated_at = $2, updated_by = $3 WHERE id = $4")
            .bind(&plaintext[..12])
            .bind(now)
            .bind(&changed_by)
            .bind(key_id.as_str())
            .execute(&mut *transaction)
            .await?;
        let after = self
            .commit_key_change(
                transaction,
                actor,
                key_id,
                now,
                "api_key.rotated",
                |after| {
                    format!(
                        "API key {} rotated; the old secret works for {} more seconds",
                        after.name,
                        overlap.seconds()
                    )
                },
                Some(&key),
            )
            .await?;
        Ok(CreatedApiKey {
            key: after,
            plaintext,
        })
    }

    /// A new key with the same presets (app, mode, type, scopes, expiry length) and its
    /// own new secret (SPEC K-9).
    pub async fn duplicate_api_key(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
    ) -> Result<CreatedApiKey, DomainError> {
        actor.require(Access::API_KEYS_WRITE)?;
        let original = self.visible_key(actor, key_id).await?;
        let expires_at = original
            .expiry_days
            .map(|days| chrono::Utc::now() + chrono::Duration::days(days));
        let input = ApiKeyInput {
            app_id: original.app_id.clone(),
            name: format!("{} (copy)", original.name)
                .chars()
                .take(80)
                .collect(),
            description: original.description.clone(),
            mode: original.mode,
            key_type: original.key_type,
            scopes: original.scopes.clone().unwrap_or_default(),
            expires_at,
            expiry_days: original.expiry_days,
        };
        self.create_api_key(actor, &input).await
    }

    /// `POST /v1/keys/verify` (SPEC X-3): the verdict on a customer's key for the
    /// SaaS's own services, with the quota left on success.
    pub async fn verify_api_key(
        &self,
        request: &VerifyKeyRequest,
    ) -> Result<VerifyKeyResponse, DomainError> {
        let verdict = |code: &str| VerifyKeyResponse {
            valid: false,
            code: code.to_owned(),
            key_id: None,
            tenant_id: None,
            app_id: None,
            mode: None,
            scopes: None,
            remaining_quota: None,
        };
        let principal = match self.authenticate(request.key.trim()).await? {
            Ok((principal, _)) => principal,
            Err(KeyRefusal::Missing | KeyRefusal::Malformed(_) | KeyRefusal::Unknown) => {
                return Ok(verdict("NOT_FOUND"));
            }
            Err(KeyRefusal::Disabled) => return Ok(verdict("DISABLED")),
            Err(KeyRefusal::Revoked) => return Ok(verdict("REVOKED")),
            Err(KeyRefusal::Expired) => return Ok(verdict("EXPIRED")),
        };
        let remaining = match principal.mode {
            KeyMode::Live => {
                let tenant = self.tenant(&principal.tenant_id).await?;
                Some((tenant.monthly_call_limit - self.monthly_calls_used(&tenant).await?).max(0))
            }
            // Test calls do not count against the limit (SPEC T-2).
            KeyMode::Test => None,
        };
        let mut response = VerifyKeyResponse {
            valid: true,
            code: "VALID".to_owned(),
            key_id: Some(principal.key_id.clone()),
            tenant_id: Some(principal.tenant_id.clone()),
            app_id: Some(principal.app_id.clone()),
            mode: Some(principal.mode),
            scopes: principal.scopes.clone(),
            remaining_quota: remaining,
        };
        if let Some(needed) = request.scope.as_deref().filter(|scope| !scope.is_empty())
            && !scopes_grant(principal.scopes.as_deref(), needed)
        {
            response.valid = false;
            response.code = "INSUFFICIENT_SCOPE".to_owned();
            self.record_call(&principal, false);
            return Ok(response);
        }
        if remaining == Some(0) {
            response.valid = false;
            response.code = "USAGE_EXCEEDED".to_owned();
        }
        // A verification counts as a platform call of the verified key (SPEC X-3).
        self.record_call(&principal, response.valid);
        Ok(response)
    }

    /// Authenticates a presented key or access token: the shape and checksum first
    /// (no I/O), then one look-up by digest. Disabled, revoked and expired keys fail
    /// from the very next request: nothing about a key's state is cached.
    pub async fn authenticate_api_key(
        &self,
        presented: &str,
    ) -> Result<Result<KeyPrincipal, KeyRefusal>, DomainError> {
        Ok(self
            .authenticate(presented)
            .await?
            .map(|(principal, _)| (*principal).clone()))
    }

    /// The key (by its digest or its access token's) with its tenant's modules, from
    /// the cache or one database look-up. Answers the principal and whether the tenant
    /// has `platform.api`.
    async fn authenticate(
        &self,
        presented: &str,
    ) -> Result<Result<(Arc<KeyPrincipal>, bool), KeyRefusal>, DomainError> {
        let well_formed = match api_key_format::check(presented) {
            Ok(well_formed) => well_formed,
            Err(malformed) => return Ok(Err(KeyRefusal::Malformed(malformed))),
        };
        let digest = api_key_format::digest(presented);
        let now = time::now_ms();
        if let Some((credential, key)) = self.key_cache.credential(&digest, now) {
            return Ok(judge(&credential, &key, now));
        }
        let generation = self.key_cache.generation();
        let (credential_table, credential_expiry) = match well_formed.kind {
            CredentialKind::ApiKey(_) => ("api_key_secrets", "retires_at"),
            CredentialKind::AccessToken => ("access_tokens", "expires_at"),
        };
        let row = sqlx::query(&format!(
            "SELECT {}, k.tenant_id, c.{credential_expiry} AS credential_expires_at, t.modules
             FROM {credential_table} c JOIN api_keys k ON k.id = c.key_id
             JOIN tenants t ON t.id = k.tenant_id WHERE c.digest = $1",
            key_columns("k")
        ))
        .bind(&digest)
        .fetch_optional(self.db().pool())
        .await?;
        let Some(row) = row else {
            return Ok(Err(KeyRefusal::Unknown));
        };
        let view = stored_key_from_row(&row)?;
        let tenant_id: String = row.try_get("tenant_id")?;
        let tenant_id = gatehouse_model::TenantId::parse(&tenant_id)
            .map_err(|_| DomainError::Internal("stored API key is invalid".to_owned()))?;
        let modules: String = row.try_get("modules")?;
        let platform_api_enabled = modules
            .split_whitespace()
            .any(|module| module == crate::tenants::PLATFORM_API_MODULE);
        let credential = CachedCredential {
            key_id: view.id.clone(),
            expires_at_ms: row.try_get("credential_expires_at")?,
        };
        let key = CachedKey::new(view, tenant_id, platform_api_enabled, now);
        let verdict = judge(&credential, &key, now);
        self.key_cache.store(generation, digest, credential, key);
        Ok(verdict)
    }

    /// The actor for a presented credential (`None`: none was sent), or why it is refused.
    pub async fn api_key_actor(&self, presented: Option<&str>) -> Result<Actor, DomainError> {
        let presented = presented.ok_or(DomainError::KeyRefused(KeyRefusal::Missing))?;
        let (principal, platform_api_enabled) = self
            .authenticate(presented)
            .await?
            .map_err(DomainError::KeyRefused)?;
        Ok(Actor {
            tenant_id: principal.tenant_id.clone(),
            platform_api_enabled,
            kind: crate::ActorKind::ApiKey(principal),
        })
    }

    /// `POST /v1/auth/token` (SPEC X-4): a short-lived access token that acts as the key
    /// (same scopes, app and mode) and stops with it. The token is returned once.
    pub async fn issue_access_token(&self, actor: &Actor) -> Result<AccessToken, DomainError> {
        let key = actor.api_key().ok_or_else(|| {
            DomainError::field("key", "Access tokens are issued for API keys only.")
        })?;
        let token = api_key_format::generate_access_token(key.mode);
        let now = time::now_ms();
        let expires_at = now + ACCESS_TOKEN_TTL_SECONDS * 1000;
        sqlx::query("DELETE FROM access_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(self.db().pool())
            .await?;
        sqlx::query(
            "INSERT INTO access_tokens (digest, key_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(api_key_format::digest(&token))
        .bind(key.key_id.as_str())
        .bind(now)
        .bind(expires_at)
        .execute(self.db().pool())
        .await?;
        Ok(AccessToken {
            access_token: token,
            token_type: "Bearer".to_owned(),
            expires_in: ACCESS_TOKEN_TTL_SECONDS,
            expires_at: time::from_ms(expires_at),
            scopes: key.scopes.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_area_and_access() {
        for good in ["payment_intents:read", "imports:write", "api_keys:manage"] {
            assert!(is_scope(good), "{good}");
        }
        for bad in [
            "payment_intents",
            "Payments:read",
            ":read",
            "imports:delete",
            "a b:read",
        ] {
            assert!(!is_scope(bad), "{bad}");
        }
    }
}
