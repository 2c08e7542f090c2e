//! API keys, a module per concern: the key `format` (no I/O), input `validation`, the
//! `lifecycle` (create, list, edit, disable, enable, revoke, rotate, duplicate),
//! `authentication` of a presented secret or token, `verification` for the SaaS's
//! services, access `tokens`, and the `cache` behind the hot path. This file holds what
//! they share: row reading and statuses (the refusals are in `error`).
//!
//! The same rules hold for every actor. A key acting through the API is further
//! confined: it sees only its own app's keys of its own mode (test keys see test data
//! only), and it can never create, widen, outlive or take over a key stronger than
//! itself (`Actor::require_no_escalation`).

pub mod authentication;
pub mod cache;
pub mod format;
pub mod lifecycle;
pub mod tokens;
pub mod validation;
pub mod verification;

use gatehouse_model::{
    ApiKeyId, ApiKeyView, AppId, KeyMode, KeyRateLimit, KeyStatus, KeyType, RatePeriod,
};
use serde_json::json;
use sqlx::any::AnyRow;

pub use crate::access::scopes_grant;
pub use crate::actor::KeyPrincipal;
use crate::error::DomainError;
pub use crate::error::{KeyRefusal, MalformedKey};
use crate::stored::Stored;
pub use validation::{is_scope, validate_key_input};

/// The columns a key is read from, each prefixed with `alias.` when one is given.
fn key_columns(alias: &str) -> String {
    const NAMES: [&str; 18] = [
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
        "rate_limit_requests",
        "rate_limit_period",
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
    let stored = Stored::new(row, "API key");
    let display_prefix: String = stored.get("display_prefix")?;
    let rate_limit_per = stored.parsed_optional("rate_limit_period", RatePeriod::parse)?;
    Ok(ApiKeyView {
        id: stored.parsed("id", |id| ApiKeyId::parse(id).ok())?,
        app_id: stored.parsed("app_id", |id| AppId::parse(id).ok())?,
        name: stored.get("name")?,
        description: stored.get("description")?,
        mode: stored.parsed("mode", KeyMode::parse)?,
        key_type: stored.parsed("key_type", KeyType::parse)?,
        scopes: stored.parsed_optional("scopes", |text| serde_json::from_str(text).ok())?,
        masked_key: format!("{display_prefix}…"),
        // Stored: enabled, disabled or revoked; `expired` is derived (`derive_status`).
        status: stored.parsed("status", |status| {
            KeyStatus::parse(status).filter(|status| *status != KeyStatus::Expired)
        })?,
        expires_at: stored.time_optional("expires_at")?,
        expiry_days: stored.get("expiry_days")?,
        created_at: stored.time("created_at")?,
        created_by: stored.get("created_by")?,
        updated_at: stored.time("updated_at")?,
        updated_by: stored.get("updated_by")?,
        last_used_at: stored.time_optional("last_used_at")?,
        rate_limit: match (
            stored.get::<Option<i64>>("rate_limit_requests")?,
            rate_limit_per,
        ) {
            (Some(requests), Some(per)) => Some(KeyRateLimit { requests, per }),
            _ => None,
        },
    })
}

/// Lists sort by status (enabled, disabled, expired, revoked), then newest first.
fn status_rank(status: KeyStatus) -> u8 {
    match status {
        KeyStatus::Enabled => 0,
        KeyStatus::Disabled => 1,
        KeyStatus::Expired => 2,
        KeyStatus::Revoked => 3,
    }
}

/// A key as the audit trail and emitted events record it: never a secret.
fn audit_state(key: &ApiKeyView) -> serde_json::Value {
    json!({
        "id": key.id, "app_id": key.app_id, "name": key.name, "description": key.description,
        "mode": key.mode, "key_type": key.key_type, "scopes": key.scopes,
        "status": key.status.as_str(), "expires_at": key.expires_at, "rate_limit": key.rate_limit,
    })
}
