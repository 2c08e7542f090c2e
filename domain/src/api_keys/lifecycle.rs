//! A key's life: create (the plaintext returned once), read and
//! list, edit, disable and enable, revoke for good, rotate with an overlap, duplicate.
//! Every change ends in [`Gatehouse::finish_key_change`], through the one commit path.

use std::collections::HashMap;

use gatehouse_model::{
    AlertKind, ApiKeyId, ApiKeyInput, ApiKeyListItem, ApiKeyUpdate, ApiKeyView, ApiKeysPage, AppId,
    CreatedApiKey, CredentialKind, EventType, ExpiringKey, KeyStatus, KeyType, Page, PageRequest,
    RotationOverlap, TenantId,
};
use serde_json::json;

use super::{audit_state, format, key_columns, key_from_row, status_rank, validate_key_input};
use crate::access::Access;
use crate::actor::Actor;
use crate::alerts::NewAlert;
use crate::audit::AuditRecord;
use crate::change::Change;
use crate::error::DomainError;
use crate::paging::Keyset;
use crate::stored::Stored;
use crate::webhooks::events::NewEvent;
use crate::{Gatehouse, ids, time};

impl Gatehouse {
    /// The last step of every key change: reads the key back inside the change's
    /// transaction, records the audit event with before and after, emits the event
    /// when webhooks deliver its type, marks the key changed (so every instance forgets
    /// its cached state) and commits.
    async fn finish_key_change(
        &self,
        mut change: Change<'_>,
        actor: &Actor,
        key_id: &ApiKeyId,
        event_type: EventType,
        message: impl FnOnce(&ApiKeyView) -> String,
        before: Option<&ApiKeyView>,
    ) -> Result<ApiKeyView, DomainError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM api_keys WHERE id = $1",
            key_columns("")
        ))
        .bind(key_id.as_str())
        .fetch_one(change.connection())
        .await?;
        let after = key_from_row(&row, change.now_ms)?;
        let record = AuditRecord {
            before: before.map(audit_state),
            after: Some(audit_state(&after)),
            ..AuditRecord::by(actor, event_type, message(&after))
        }
        .in_app(&after.app_id, after.mode)
        .related("key_id", key_id);
        change.audit(record).await?;
        if event_type.is_delivered() {
            change
                .emit(NewEvent {
                    tenant_id: actor.tenant_id.clone(),
                    mode: after.mode,
                    app_id: after.app_id.clone(),
                    event_type,
                    data: audit_state(&after),
                })
                .await?;
        }
        change.key_changed(key_id);
        change.commit().await?;
        Ok(after)
    }

    /// Creates a key bound to one of the tenant's apps; the plaintext is in the answer
    /// and nowhere else.
    pub async fn create_api_key(
        &self,
        actor: &Actor,
        input: &ApiKeyInput,
    ) -> Result<CreatedApiKey, DomainError> {
        actor.require(Access::API_KEYS_WRITE)?;
        let input = validate_key_input(input, self.scope_catalog(), self.now_ms())?;
        let app_id = actor.app_or_own(input.app_id.as_ref())?;
        actor.reach().require_app(&app_id)?;
        actor.reach().mode(Some(input.mode), "keys")?;
        let scopes = match input.key_type {
            KeyType::Secret => None,
            KeyType::Restricted => Some(input.scopes.as_slice()),
        };
        actor.require_no_escalation(
            scopes,
            input.expires_at.map(|at| at.timestamp_millis()),
            input.rate_limit,
        )?;
        self.find_app(&actor.tenant_id, &app_id).await?;
        let plaintext = format::generate(input.key_type, input.mode);
        let id = ApiKeyId::from_body(&ids::fresh_body());
        // Keys show who created and changed them by name (email or masked key); the
        // audit trail keeps the actor's id.
        let (_, _, by) = actor.audit_identity();
        let scopes = scopes.map(|scopes| json!(scopes).to_string());
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        sqlx::query(
            "INSERT INTO api_keys (id, tenant_id, app_id, mode, key_type, name, description, scopes,
                display_prefix, status, expires_at, expiry_days, created_at, created_by, updated_at, updated_by,
                rate_limit_requests, rate_limit_period)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'enabled', $10, $11, $12, $13, $12, $13, $14, $15)",
        )
        .bind(id.as_str())
        .bind(actor.tenant_id.as_str())
        .bind(app_id.as_str())
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
        .bind(input.rate_limit.map(|limit| limit.requests))
        .bind(input.rate_limit.map(|limit| limit.per.as_str()))
        .execute(change.connection())
        .await?;
        sqlx::query("INSERT INTO api_key_secrets (digest, key_id, created_at, retires_at) VALUES ($1, $2, $3, NULL)")
            .bind(format::digest(&plaintext))
            .bind(id.as_str())
            .bind(now)
            .execute(change.connection())
            .await?;
        let key = self
            .finish_key_change(
                change,
                actor,
                &id,
                EventType::ApiKeyCreated,
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
    pub(crate) async fn visible_key(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
    ) -> Result<ApiKeyView, DomainError> {
        let now = self.now_ms();
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
        if !actor.reach().sees(&key.app_id, key.mode) {
            return Err(DomainError::NotFound("API key"));
        }
        Ok(key)
    }

    /// The key a change is about: write access, visible, not revoked, not the key of
    /// the access token acting, and (for a key actor) no stronger or longer-lived than
    /// the actor.
    async fn key_to_change(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
        refusal_when_revoked: &str,
    ) -> Result<ApiKeyView, DomainError> {
        actor.require(Access::API_KEYS_WRITE)?;
        let key = self.visible_key(actor, key_id).await?;
        if let Some((own, credential)) = actor.key_credential()
            && credential.kind == CredentialKind::AccessToken
            && &own.key_id == key_id
        {
            return Err(DomainError::CredentialNotAllowed(
                "An access token cannot manage the key it was issued for: use the key itself.",
            ));
        }
        if key.status == KeyStatus::Revoked {
            return Err(DomainError::Conflict(refusal_when_revoked.to_owned()));
        }
        actor.require_no_escalation(
            key.scopes.as_deref(),
            key.expires_at.map(|at| at.timestamp_millis()),
            key.rate_limit,
        )?;
        Ok(key)
    }

    /// An app's keys, newest first, a page at a time, each with its calls in the last
    /// 24 hours. A key actor lists only its own app's keys of its own mode.
    pub async fn list_api_keys(
        &self,
        actor: &Actor,
        app_id: &AppId,
        page: &PageRequest,
    ) -> Result<Page<ApiKeyListItem>, DomainError> {
        actor.require(Access::API_KEYS_READ)?;
        let keyset = Keyset::from_request(page, |cursor| ApiKeyId::parse(cursor).is_ok())?;
        actor.reach().require_app(app_id)?;
        self.find_app(&actor.tenant_id, app_id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {} FROM api_keys
             WHERE tenant_id = $1 AND app_id = $2 AND ($3 = '' OR mode = $3)
               AND ($4 = '' OR id < $4)
             ORDER BY id DESC LIMIT $5",
            key_columns("")
        ))
        .bind(actor.tenant_id.as_str())
        .bind(app_id.as_str())
        .bind(actor.reach().mode_bind())
        .bind(keyset.after.clone().unwrap_or_default())
        .bind(keyset.rows_to_read())
        .fetch_all(self.db().pool())
        .await?;
        let now = self.now_ms();
        let keys = rows
            .iter()
            .map(|row| key_from_row(row, now))
            .collect::<Result<Vec<_>, _>>()?;
        debug_assert!(
            keys.iter()
                .all(|key| actor.reach().sees(&key.app_id, key.mode))
        );
        let counts = self
            .key_call_counts(&actor.tenant_id, app_id, now - 24 * 3_600_000)
            .await?;
        let overlaps = self
            .previous_secrets_until(&actor.tenant_id, app_id, now)
            .await?;
        let now = time::from_ms(now);
        let items = keys
            .into_iter()
            .map(|key| {
                let (successes_24h, failures_24h) =
                    counts.get(key.id.as_str()).copied().unwrap_or_default();
                ApiKeyListItem {
                    expiring_soon: key.expires_within_a_week(now),
                    previous_secret_until: overlaps
                        .get(key.id.as_str())
                        .copied()
                        .map(time::from_ms),
                    key,
                    successes_24h,
                    failures_24h,
                }
            })
            .collect();
        Ok(keyset.page(items, |item| item.key.id.to_string()))
    }

    /// For each key of the app rotated with an overlap that has not ended: when its
    /// previous secret stops working.
    async fn previous_secrets_until(
        &self,
        tenant_id: &TenantId,
        app_id: &AppId,
        now_ms: i64,
    ) -> Result<HashMap<String, i64>, DomainError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT s.key_id, MAX(s.retires_at) FROM api_key_secrets s
             JOIN api_keys k ON k.id = s.key_id
             WHERE k.tenant_id = $1 AND k.app_id = $2 AND s.retires_at > $3
             GROUP BY s.key_id",
        )
        .bind(tenant_id.as_str())
        .bind(app_id.as_str())
        .bind(now_ms)
        .fetch_all(self.db().pool())
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// The API keys tab: the user's selected app, its keys, and the scope catalog.
    pub async fn api_keys_page(&self, actor: &Actor) -> Result<ApiKeysPage, DomainError> {
        actor.require(Access::API_KEYS_READ)?;
        let app = match self.selected_app_id(actor).await? {
            Some(app_id) => Some(self.find_app(&actor.tenant_id, &app_id).await?),
            None => None,
        };
        // The tab shows the newest page, sorted by status then newest.
        let mut keys = match &app {
            Some(app) => {
                self.list_api_keys(actor, &app.id, &PageRequest::default())
                    .await?
                    .data
            }
            None => Vec::new(),
        };
        keys.sort_by_key(|item| status_rank(item.key.status));
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

    /// The tenant's keys that expire within 7 days, soonest first.
    pub(crate) async fn expiring_keys(
        &self,
        tenant_id: &TenantId,
    ) -> Result<Vec<ExpiringKey>, DomainError> {
        let now = self.now_ms();
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
                let stored = Stored::new(row, "API key");
                let display_prefix: String = stored.get("display_prefix")?;
                Ok(ExpiringKey {
                    id: stored.parsed("id", |id| ApiKeyId::parse(id).ok())?,
                    name: stored.get("name")?,
                    masked_key: format!("{display_prefix}…"),
                    app_name: stored.get("app_name")?,
                    expires_at: stored.time("expires_at")?,
                })
            })
            .collect()
    }

    /// Sends `api_key.expiring` once per key, 7 days before it expires, from the periodic
    /// job. Each key is claimed by one statement, so two instances never announce the
    /// same key twice. Returns how many were announced.
    pub async fn announce_expiring_keys(&self) -> Result<usize, DomainError> {
        let now = self.now_ms();
        let due: Vec<(String, String, String, String, i64, String)> = sqlx::query_as(
            "SELECT k.id, k.tenant_id, k.name, k.display_prefix, k.expires_at, a.name
             FROM api_keys k JOIN apps a ON a.id = k.app_id
             WHERE k.expiry_announced_at IS NULL AND k.status <> 'revoked'
               AND k.expires_at > $1 AND k.expires_at <= $2
             ORDER BY k.expires_at LIMIT 500",
        )
        .bind(now)
        .bind(now + gatehouse_model::EXPIRY_WARNING_DAYS * 86_400_000)
        .fetch_all(self.db().pool())
        .await?;
        let mut announced = 0;
        for (key_id, tenant_id, name, display_prefix, expires_at, app_name) in due {
            let (Ok(key_id), Ok(tenant_id)) =
                (ApiKeyId::parse(&key_id), TenantId::parse(&tenant_id))
            else {
                continue;
            };
            let system = Actor::system(tenant_id);
            let mut change = self.begin_change().await?;
            let claimed = sqlx::query(
                "UPDATE api_keys SET expiry_announced_at = $1 WHERE id = $2 AND expiry_announced_at IS NULL",
            )
            .bind(change.now_ms)
            .bind(key_id.as_str())
            .execute(change.connection())
            .await?;
            if claimed.rows_affected() == 0 {
                continue;
            }
            let expires = time::from_ms(expires_at).format("%Y-%m-%d %H:%M UTC");
            change
                .alert(NewAlert {
                    tenant_id: system.tenant_id.clone(),
                    kind: AlertKind::KeyExpiring,
                    dedupe_key: key_id.to_string(),
                    title: format!("An API key expires on {expires}"),
                    message: crate::alerts::alert_message(
                        &format!(
                            "An API key ({display_prefix}…, id {key_id}) expires on {expires}. From then on every call with it is refused with api_key_expired. Rotate it or create a new key and move its clients over before then."
                        ),
                        &[("Key name", &name), ("App", &app_name)],
                    ),
                    link: "/settings/developers/api-keys",
                })
                .await?;
            self.finish_key_change(
                change,
                &system,
                &key_id,
                EventType::ApiKeyExpiring,
                |key| {
                    format!(
                        "API key {} expires on {}",
                        key.name,
                        key.expires_at
                            .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
                            .unwrap_or_default()
                    )
                },
                None,
            )
            .await?;
            announced += 1;
        }
        Ok(announced)
    }

    /// Disables (`enabled = false`) or re-enables a key; a revoked key stays revoked.
    pub async fn set_api_key_enabled(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
        enabled: bool,
    ) -> Result<ApiKeyView, DomainError> {
        let (status, event_type) = if enabled {
            (KeyStatus::Enabled, EventType::ApiKeyEnabled)
        } else {
            (KeyStatus::Disabled, EventType::ApiKeyDisabled)
        };
        self.change_key_status(actor, key_id, status, event_type)
            .await
    }

    /// Revokes a key for good: there is no unrevoke.
    pub async fn revoke_api_key(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
    ) -> Result<ApiKeyView, DomainError> {
        self.change_key_status(actor, key_id, KeyStatus::Revoked, EventType::ApiKeyRevoked)
            .await
    }

    async fn change_key_status(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
        status: KeyStatus,
        event_type: EventType,
    ) -> Result<ApiKeyView, DomainError> {
        let before = self
            .key_to_change(
                actor,
                key_id,
                "This key is revoked; revocation is permanent.",
            )
            .await?;
        let (_, _, changed_by) = actor.audit_identity();
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        sqlx::query(
            "UPDATE api_keys SET status = $1, updated_at = $2, updated_by = $3,
                revoked_at = CASE WHEN $1 = 'revoked' THEN $2 ELSE revoked_at END
             WHERE id = $4 AND tenant_id = $5 AND status <> 'revoked'",
        )
        .bind(status.as_str())
        .bind(now)
        .bind(&changed_by)
        .bind(key_id.as_str())
        .bind(actor.tenant_id.as_str())
        .execute(change.connection())
        .await?;
        self.finish_key_change(
            change,
            actor,
            key_id,
            event_type,
            |after| format!("API key {} {}", after.name, status.as_str()),
            Some(&before),
        )
        .await
    }

    /// Edits a key's name, description, (restricted keys only) scopes and rate limit,
    /// audited with before and after. Fields left out keep their value.
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
            app_id: Some(before.app_id.clone()),
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
            rate_limit: update.rate_limit.unwrap_or(before.rate_limit),
        };
        let valid = validate_key_input(&probe, self.scope_catalog(), self.now_ms())?;
        let new_scopes = match before.key_type {
            KeyType::Secret => None,
            KeyType::Restricted => Some(valid.scopes.as_slice()),
        };
        actor.require_no_escalation(
            new_scopes,
            before.expires_at.map(|at| at.timestamp_millis()),
            valid.rate_limit,
        )?;
        let scopes = new_scopes.map(|scopes| json!(scopes).to_string());
        let (_, _, changed_by) = actor.audit_identity();
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        sqlx::query(
            "UPDATE api_keys SET name = $1, description = $2, scopes = $3, updated_at = $4, updated_by = $5,
                rate_limit_requests = $8, rate_limit_period = $9
             WHERE id = $6 AND tenant_id = $7",
        )
        .bind(&valid.name)
        .bind(&valid.description)
        .bind(scopes)
        .bind(now)
        .bind(&changed_by)
        .bind(key_id.as_str())
        .bind(actor.tenant_id.as_str())
        .bind(valid.rate_limit.map(|limit| limit.requests))
        .bind(valid.rate_limit.map(|limit| limit.per.as_str()))
        .execute(change.connection())
        .await?;
        self.finish_key_change(
            change,
            actor,
            key_id,
            EventType::ApiKeyUpdated,
            |after| format!("API key {} updated", after.name),
            Some(&before),
        )
        .await
    }

    /// Issues a new secret for the same key; the current one keeps working for the
    /// chosen overlap, then stops, and so do the access tokens exchanged from it. The
    /// new plaintext is returned once.
    pub async fn rotate_api_key(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
        overlap: RotationOverlap,
    ) -> Result<CreatedApiKey, DomainError> {
        let key = self
            .key_to_change(actor, key_id, "A revoked key cannot be rotated.")
            .await?;
        let plaintext = format::generate(key.key_type, key.mode);
        let (_, _, changed_by) = actor.audit_identity();
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        let retires_at = now + overlap.seconds() * 1000;
        sqlx::query("UPDATE api_key_secrets SET retires_at = $1 WHERE key_id = $2 AND (retires_at IS NULL OR retires_at > $1)")
            .bind(retires_at)
            .bind(key_id.as_str())
            .execute(change.connection())
            .await?;
        sqlx::query("INSERT INTO api_key_secrets (digest, key_id, created_at, retires_at) VALUES ($1, $2, $3, NULL)")
            .bind(format::digest(&plaintext))
            .bind(key_id.as_str())
            .bind(now)
            .execute(change.connection())
            .await?;
        sqlx::query("UPDATE api_keys SET display_prefix = $1, updated_at = $2, updated_by = $3 WHERE id = $4")
            .bind(&plaintext[..12])
            .bind(now)
            .bind(&changed_by)
            .bind(key_id.as_str())
            .execute(change.connection())
            .await?;
        let after = self
            .finish_key_change(
                change,
                actor,
                key_id,
                EventType::ApiKeyRotated,
                |after| format!("API key {} rotated. {}", after.name, overlap.consequence()),
                Some(&key),
            )
            .await?;
        Ok(CreatedApiKey {
            key: after,
            plaintext,
        })
    }

    /// A new key with the same presets (app, mode, type, scopes, expiry length) and its
    /// own new secret.
    pub async fn duplicate_api_key(
        &self,
        actor: &Actor,
        key_id: &ApiKeyId,
    ) -> Result<CreatedApiKey, DomainError> {
        actor.require(Access::API_KEYS_WRITE)?;
        let original = self.visible_key(actor, key_id).await?;
        let input = ApiKeyInput {
            app_id: Some(original.app_id.clone()),
            name: format!("{} (copy)", original.name)
                .chars()
                .take(super::validation::MAX_NAME_CHARS)
                .collect(),
            description: original.description.clone(),
            mode: original.mode,
            key_type: original.key_type,
            scopes: original.scopes.clone().unwrap_or_default(),
            expires_at: None,
            expiry_days: original.expiry_days,
            rate_limit: original.rate_limit,
        };
        self.create_api_key(actor, &input).await
    }
}
