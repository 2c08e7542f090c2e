//! `Idempotency-Key` on the operator's creates: the first request with a key claims
//! it in the change that creates, and its answer is kept for 24 hours; the same key
//! with the same request answers that again, with another request it is refused. A
//! concurrent second request waits on the claim and then finds the answer.

use sha2::{Digest, Sha256};

use crate::change::Change;
use crate::error::DomainError;
use crate::webhooks::events::{IDEMPOTENCY_WINDOW_MS, validate_idempotency_key};

/// What a claimed key holds.
pub(crate) enum Claim {
    /// The key is new (or its last use expired): go on, then [`remember`].
    Fresh,
    /// The first request's answer, as it was kept.
    Answered(String),
}

/// A digest of what was asked, to tell a retry from another request with the key.
pub(crate) fn request_digest(operation: &str, request: &impl serde::Serialize) -> String {
    let mut hasher = Sha256::new();
    hasher.update(operation.as_bytes());
    hasher.update([0]);
    hasher.update(serde_json::to_vec(request).unwrap_or_default());
    hex::encode(hasher.finalize())
}

/// Claims `key` for `operation` in `change`, or answers what the first request did.
pub(crate) async fn claim(
    change: &mut Change<'_>,
    operation: &str,
    key: &str,
    request_digest: &str,
) -> Result<Claim, DomainError> {
    validate_idempotency_key(key)?;
    let now = change.now_ms;
    let claimed: Option<(String,)> = sqlx::query_as(
        "INSERT INTO operator_idempotency
            (operation, idempotency_key, request_digest, response, created_at, expires_at)
         VALUES ($1, $2, $3, '', $4, $5)
         ON CONFLICT (operation, idempotency_key) DO UPDATE
            SET request_digest = excluded.request_digest, response = '',
                created_at = excluded.created_at, expires_at = excluded.expires_at
            WHERE operator_idempotency.expires_at <= $4
         RETURNING operation",
    )
    .bind(operation)
    .bind(key)
    .bind(request_digest)
    .bind(now)
    .bind(now + IDEMPOTENCY_WINDOW_MS)
    .fetch_optional(change.connection())
    .await?;
    if claimed.is_some() {
        return Ok(Claim::Fresh);
    }
    let (first_digest, response): (String, String) = sqlx::query_as(
        "SELECT request_digest, response FROM operator_idempotency
         WHERE operation = $1 AND idempotency_key = $2",
    )
    .bind(operation)
    .bind(key)
    .fetch_one(change.connection())
    .await?;
    if first_digest != request_digest {
        return Err(DomainError::IdempotencyKeyReused);
    }
    if response.is_empty() {
        return Err(DomainError::Conflict(
            "A request with this Idempotency-Key is still running; retry in a moment.".to_owned(),
        ));
    }
    Ok(Claim::Answered(response))
}

/// Keeps the answer of a fresh claim, in the same change.
pub(crate) async fn remember(
    change: &mut Change<'_>,
    operation: &str,
    key: &str,
    answer: &impl serde::Serialize,
) -> Result<(), DomainError> {
    let response =
        serde_json::to_string(answer).map_err(|error| DomainError::Internal(error.to_string()))?;
    sqlx::query(
        "UPDATE operator_idempotency SET response = $1
         WHERE operation = $2 AND idempotency_key = $3",
    )
    .bind(response)
    .bind(operation)
    .bind(key)
    .execute(change.connection())
    .await?;
    Ok(())
}
