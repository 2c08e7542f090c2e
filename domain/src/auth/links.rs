//! One-time sign-in links: the SaaS's backend asks for one for a person (email, name,
//! role, the page to land on); opening it within its lifetime adds or updates the
//! person, starts a session and lands on the page. A link carries 32 base62
//! characters (about 190 bits), only their digest is stored, and one statement spends
//! it, so concurrent openings give exactly one session.

use gatehouse_model::{EventType, OperatorScope, SignInLinkInput, TenantId};
use sha2::{Digest, Sha256};

use super::{NewSession, SESSION_TTL_MS};
use crate::actor::Actor;
use crate::audit::AuditRecord;
use crate::error::DomainError;
use crate::operator::Operator;
use crate::operator::people::{Person, upsert_person};
use crate::stored;
use crate::{Gatehouse, ids, time};

/// Where a link is opened: this prefix, then the link's token.
pub const LINK_PATH: &str = "/sign-in/";
/// Characters of a link's token.
pub const LINK_TOKEN_LEN: usize = 32;
/// How long a link waits to be opened when the SaaS does not say.
pub const DEFAULT_LINK_TTL_SECONDS: i64 = 60;
/// The longest a link may wait.
pub const MAX_LINK_TTL_SECONDS: i64 = 600;
/// The workspace, where links land by default; a link's page must be inside it.
pub const WORKSPACE_PATH: &str = "/settings/developers";

fn link_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The page a link lands on: a workspace path (`/settings/developers/api-keys`, with an
/// optional plain query) or a tab's name (`api-keys`). Anything else, an address
/// elsewhere above all, is refused, so a link never redirects off the workspace.
pub fn landing_path(asked: Option<&str>) -> Result<String, DomainError> {
    let refused = || {
        DomainError::field(
            "path",
            format!(
                "Use a page of the workspace, e.g. {WORKSPACE_PATH}/api-keys, or a tab's name."
            ),
        )
    };
    let asked = asked.map(str::trim).unwrap_or_default();
    if asked.is_empty() {
        return Ok(WORKSPACE_PATH.to_owned());
    }
    if asked.len() > 200 {
        return Err(refused());
    }
    let path = if asked.starts_with('/') {
        asked.to_owned()
    } else {
        format!("{WORKSPACE_PATH}/{asked}")
    };
    let (route, query) = match path.split_once('?') {
        Some((route, query)) => (route, Some(query)),
        None => (path.as_str(), None),
    };
    let rest = route.strip_prefix(WORKSPACE_PATH).ok_or_else(refused)?;
    let route_ok = (rest.is_empty() || rest.starts_with('/'))
        && !rest.contains("//")
        && rest.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"/-_".contains(&byte)
        });
    let query_ok = query.is_none_or(|query| {
        query
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"=&-_.%".contains(&byte))
    });
    if route_ok && query_ok {
        Ok(path)
    } else {
        Err(refused())
    }
}

fn link_lifetime(ttl_seconds: Option<i64>) -> Result<i64, DomainError> {
    let ttl = ttl_seconds.unwrap_or(DEFAULT_LINK_TTL_SECONDS);
    if !(1..=MAX_LINK_TTL_SECONDS).contains(&ttl) {
        return Err(DomainError::field(
            "ttl_seconds",
            format!("Use 1 to {MAX_LINK_TTL_SECONDS} seconds."),
        ));
    }
    Ok(ttl * 1000)
}

/// A link just made: the path of the URL to hand over (with its token) and when it
/// stops working.
#[derive(Debug)]
pub struct NewSignInLink {
    /// `/sign-in/<token>`: the server puts its public address in front.
    pub path: String,
    pub expires_at_ms: i64,
}

/// A session that a link opened, and the page to land on.
#[derive(Debug)]
pub struct OpenedLink {
    pub session: NewSession,
    pub landing_path: String,
}

impl Operator<'_> {
    /// Makes a one-time sign-in link into `tenant_id` for a person of the SaaS.
    pub async fn create_sign_in_link(
        &self,
        tenant_id: &TenantId,
        input: &SignInLinkInput,
    ) -> Result<NewSignInLink, DomainError> {
        self.require(OperatorScope::SignInLinksCreate)?;
        let person = Person::checked(&input.email, input.name.as_deref(), input.role)?;
        let path = landing_path(input.path.as_deref())?;
        let lifetime_ms = link_lifetime(input.ttl_seconds)?;
        let tenant = self.gatehouse.tenant(tenant_id).await?;
        let token = ids::random_base62(LINK_TOKEN_LEN);
        let mut change = self.gatehouse.begin_change().await?;
        let expires_at_ms = change.now_ms + lifetime_ms;
        sqlx::query(
            "INSERT INTO sign_in_links (token_digest, tenant_id, email, name, role, path,
                created_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(link_digest(&token))
        .bind(tenant.id.as_str())
        .bind(&person.email)
        .bind(person.name.clone())
        .bind(person.role.as_str())
        .bind(&path)
        .bind(
            self.token_id()
                .map_or_else(|| "cli".to_owned(), ToString::to_string),
        )
        .bind(change.now_ms)
        .bind(expires_at_ms)
        .execute(change.connection())
        .await?;
        let record = AuditRecord {
            after: Some(serde_json::json!({
                "email": person.email,
                "role": person.role.as_str(),
                "path": path,
                "expires_at": time::from_ms(expires_at_ms),
            })),
            ..AuditRecord::by(
                &self.actor_in(&tenant.id),
                EventType::SignInLinkCreated,
                format!("Sign-in link made for {}", person.email),
            )
        };
        change.audit(record).await?;
        change.commit().await?;
        Ok(NewSignInLink {
            path: format!("{LINK_PATH}{token}"),
            expires_at_ms,
        })
    }
}

impl Gatehouse {
    /// Spends a sign-in link: once, within its lifetime, into the tenant it was made
    /// for. Adds or updates the person, starts a session (one that lives inside the
    /// SaaS: no sign-out of its own) and answers the page to land on. An unknown,
    /// used or expired link is `not_found`, whichever it is.
    pub async fn open_sign_in_link(&self, token: &str) -> Result<OpenedLink, DomainError> {
        let gone = DomainError::NotFound("sign-in link");
        if token.len() != LINK_TOKEN_LEN || !token.bytes().all(|byte| byte.is_ascii_alphanumeric())
        {
            return Err(gone);
        }
        let mut change = self.begin_change().await?;
        let now = change.now_ms;
        let spent: Option<(String, String, Option<String>, String, String)> = sqlx::query_as(
            "UPDATE sign_in_links SET used_at = $1
             WHERE token_digest = $2 AND used_at IS NULL AND expires_at > $1
             RETURNING tenant_id, email, name, role, path",
        )
        .bind(now)
        .bind(link_digest(token))
        .fetch_optional(change.connection())
        .await?;
        let Some((tenant_id, email, name, role, path)) = spent else {
            return Err(gone);
        };
        let tenant_id = stored::parsed("sign-in link", "tenant_id", &tenant_id, |id| {
            TenantId::parse(id).ok()
        })?;
        let role = stored::parsed("sign-in link", "role", &role, gatehouse_model::Role::parse)?;
        // The tenant may have gone since the link was made.
        let tenant = self.tenant_in(&mut change, &tenant_id).await?;
        let person = Person { email, name, role };
        let (person, _) = upsert_person(
            &mut change,
            &Actor::system(tenant.id.clone()),
            &tenant.id,
            &person,
        )
        .await?;
        let session_token = ids::random_hex(32);
        let expires_at_ms = now + SESSION_TTL_MS;
        sqlx::query(
            "INSERT INTO sessions (token_digest, user_id, tenant_id, created_at, expires_at, from_link)
             VALUES ($1, $2, $3, $4, $5, 1)",
        )
        .bind(super::token_digest(&session_token))
        .bind(person.id.as_str())
        .bind(tenant.id.as_str())
        .bind(now)
        .bind(expires_at_ms)
        .execute(change.connection())
        .await?;
        let record = AuditRecord::by(
            &super::acting_person(&tenant.id, &person.id, &person.email),
            EventType::UserSignedIn,
            format!("{} signed in with a sign-in link", person.email),
        )
        .related("user_id", &person.id);
        change.audit(record).await?;
        change.commit().await?;
        let signed_in = self.signed_in(&person.id, &tenant.id, true).await?;
        Ok(OpenedLink {
            session: NewSession {
                token: session_token,
                expires_at_ms,
                viewer: signed_in.viewer,
            },
            landing_path: path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_land_inside_the_workspace_only() {
        assert_eq!(landing_path(None).unwrap(), "/settings/developers");
        assert_eq!(
            landing_path(Some("api-keys")).unwrap(),
            "/settings/developers/api-keys"
        );
        assert_eq!(
            landing_path(Some("/settings/developers/api-keys?key=key_1")).unwrap(),
            "/settings/developers/api-keys?key=key_1"
        );
        for hostile in [
            "https://evil.example",
            "//evil.example/settings/developers",
            "/\\evil.example",
            "/settings/developers//evil.example",
            "/settings/developers/../../login",
            "/settings/developersx",
            "/login",
            "javascript:alert(1)",
            "/settings/developers/<script>",
            "/settings/developers?next=https://evil.example",
            "api-keys\r\nLocation: https://evil.example",
        ] {
            assert!(landing_path(Some(hostile)).is_err(), "{hostile}");
        }
    }
}
