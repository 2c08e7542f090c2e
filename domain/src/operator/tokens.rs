//! Operator tokens: `op_`, 32 base62 characters (about 190 bits) and a checksum, like
//! a key; only the SHA-256 digest is stored. Made, listed and revoked by the CLI only;
//! looked up on every call, so a revoked token fails from the next request on every
//! instance.

use gatehouse_model::{OperatorScope, OperatorTokenId, OperatorTokenView};

use super::{Operator, OperatorPrincipal};
use crate::api_keys::format;
use crate::error::DomainError;
use crate::stored::Stored;
use crate::text::TextRule;
use crate::{Gatehouse, ids, time};

/// What every operator token starts with.
pub const TOKEN_PREFIX: &str = "op_";
/// How often a token's `last_used_at` is written at most.
const LAST_USED_PRECISION_MS: i64 = 60_000;

/// A token just made: `token` is shown once and never again.
#[derive(Debug)]
pub struct CreatedOperatorToken {
    pub token: String,
    pub view: OperatorTokenView,
}

fn scopes_from_stored(stored: &str) -> Vec<OperatorScope> {
    stored
        .split_whitespace()
        .filter_map(OperatorScope::parse)
        .collect()
}

fn token_from_row(row: &sqlx::any::AnyRow) -> Result<OperatorTokenView, DomainError> {
    let stored = Stored::new(row, "operator token");
    Ok(OperatorTokenView {
        id: stored.parsed("id", |id| OperatorTokenId::parse(id).ok())?,
        name: stored.get("name")?,
        scopes: scopes_from_stored(&stored.get::<String>("scopes")?),
        created_at: stored.time("created_at")?,
        last_used_at: stored.time_optional("last_used_at")?,
        revoked_at: stored.time_optional("revoked_at")?,
    })
}

impl Operator<'_> {
    /// Makes a token named `name` with `scopes` (the default set when empty); answers
    /// the token, to be shown once.
    pub async fn create_operator_token(
        &self,
        name: &str,
        scopes: &[OperatorScope],
    ) -> Result<CreatedOperatorToken, DomainError> {
        self.require_cli()?;
        let name = TextRule::name("token", 80)
            .check(name)
            .map_err(|message| DomainError::field("name", message))?;
        let mut scopes = if scopes.is_empty() {
            OperatorScope::default_set()
        } else {
            scopes.to_vec()
        };
        scopes.sort();
        scopes.dedup();
        let token = format::generate_prefixed(TOKEN_PREFIX);
        let id = OperatorTokenId::from_body(&ids::fresh_body());
        let now = self.gatehouse.now_ms();
        let stored_scopes = scopes
            .iter()
            .map(|scope| scope.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        sqlx::query(
            "INSERT INTO operator_tokens (id, name, token_digest, scopes, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.as_str())
        .bind(&name)
        .bind(format::digest(&token))
        .bind(stored_scopes)
        .bind(now)
        .execute(self.gatehouse.db().writer())
        .await?;
        Ok(CreatedOperatorToken {
            token,
            view: OperatorTokenView {
                id,
                name,
                scopes,
                created_at: time::from_ms(now),
                last_used_at: None,
                revoked_at: None,
            },
        })
    }

    /// Every token, oldest first, revoked ones too.
    pub async fn list_operator_tokens(&self) -> Result<Vec<OperatorTokenView>, DomainError> {
        self.require_cli()?;
        let rows = sqlx::query(
            "SELECT id, name, scopes, created_at, last_used_at, revoked_at
             FROM operator_tokens ORDER BY id",
        )
        .fetch_all(self.gatehouse.db().pool())
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token for good; it fails from the next request.
    pub async fn revoke_operator_token(
        &self,
        id: &OperatorTokenId,
    ) -> Result<OperatorTokenView, DomainError> {
        self.require_cli()?;
        sqlx::query(
            "UPDATE operator_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(self.gatehouse.now_ms())
        .bind(id.as_str())
        .execute(self.gatehouse.db().writer())
        .await?;
        let row = sqlx::query(
            "SELECT id, name, scopes, created_at, last_used_at, revoked_at
             FROM operator_tokens WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(self.gatehouse.db().pool())
        .await?
        .ok_or(DomainError::NotFound("operator token"))?;
        token_from_row(&row)
    }
}

impl Gatehouse {
    /// The operator token presented to `/operator/v1`, checked on every call: missing,
    /// malformed (refused without a look-up), unknown and revoked tokens are refused.
    /// A tenant's API key is never one.
    pub async fn authenticate_operator(
        &self,
        presented: Option<&str>,
    ) -> Result<OperatorPrincipal, DomainError> {
        let presented = presented.ok_or(DomainError::OperatorTokenMissing)?;
        if !format::is_well_formed_after(TOKEN_PREFIX, presented) {
            return Err(DomainError::OperatorTokenInvalid);
        }
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT id, name, scopes FROM operator_tokens
             WHERE token_digest = $1 AND revoked_at IS NULL",
        )
        .bind(format::digest(presented))
        .fetch_optional(self.db().pool())
        .await?;
        let (id, name, scopes) = row.ok_or(DomainError::OperatorTokenInvalid)?;
        let token_id = crate::stored::parsed("operator token", "id", &id, |id| {
            OperatorTokenId::parse(id).ok()
        })?;
        let now = self.now_ms();
        sqlx::query(
            "UPDATE operator_tokens SET last_used_at = $1
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now)
        .bind(token_id.as_str())
        .bind(now - LAST_USED_PRECISION_MS)
        .execute(self.db().writer())
        .await?;
        Ok(OperatorPrincipal {
            token_id,
            name,
            scopes: scopes_from_stored(&scopes),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_well_formed_and_typos_are_caught() {
        let token = format::generate_prefixed(TOKEN_PREFIX);
        assert!(token.starts_with("op_"), "{token}");
        assert_eq!(token.len(), 41);
        assert!(format::is_well_formed_after(TOKEN_PREFIX, &token));
        let mut typo = token.clone().into_bytes();
        typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
        assert!(!format::is_well_formed_after(
            TOKEN_PREFIX,
            &String::from_utf8(typo).unwrap()
        ));
        assert!(!format::is_well_formed_after(TOKEN_PREFIX, &token[..40]));
        let key = format::generate(
            gatehouse_model::KeyType::Secret,
            gatehouse_model::KeyMode::Live,
        );
        assert!(!format::is_well_formed_after(TOKEN_PREFIX, &key));
    }
}
