//! Who is acting, in which tenant, and the checks behind every operation: a role's
//! permissions for dashboard users, a key's scopes, own app and own mode for API keys
//! (the rules themselves are in `access`).

use gatehouse_model::{
    ActorType, ApiKeyId, AppId, CredentialKind, KeyMode, Role, TenantId, UserId,
};

use crate::access::{Access, role_grants, scopes_grant};
use crate::error::DomainError;

#[derive(Debug, Clone)]
pub enum ActorKind {
    /// A dashboard user, through a session.
    User {
        user_id: UserId,
        email: String,
        role: Role,
    },
    /// A client program, through an API key's secret or an access token exchanged for
    /// one. A key acts only within its own app and mode. The principal is shared, since
    /// every call hands it from the key check to the handler and the usage counters.
    ApiKey {
        key: std::sync::Arc<KeyPrincipal>,
        credential: KeyCredential,
    },
    /// The SaaS's backend through an operator token (`/operator/v1`), acting in a
    /// tenant it provisions.
    Operator {
        token_id: gatehouse_model::OperatorTokenId,
        name: String,
    },
    /// Gatehouse itself (bootstrap, housekeeping, the operator's CLI).
    System,
}

/// The credential a key actor presented: which kind, and until when it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCredential {
    pub kind: CredentialKind,
    /// The SHA-256 digest of what was presented (tokens are bound to their secret's).
    pub digest: String,
    /// When this credential stops working: the earliest of the key's expiry, a
    /// rotated-out secret's retirement and a token's expiry; `None` for never. No
    /// credential can hand out one that outlives it.
    pub ends_at_ms: Option<i64>,
}

/// A key that authenticated: whose it is and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrincipal {
    pub key_id: ApiKeyId,
    pub tenant_id: TenantId,
    pub app_id: AppId,
    pub mode: KeyMode,
    /// `None` is full access.
    pub scopes: Option<Vec<String>>,
    /// The key's masked prefix, e.g. `rk_live_AbCd…`, as the audit trail names it.
    pub masked_key: String,
    /// Its app's allowed browser origins, so the origin check reads no table.
    pub app_allowed_origins: Vec<String>,
    /// The key's own rate limit.
    pub rate_limit: Option<gatehouse_model::KeyRateLimit>,
}

impl KeyPrincipal {
    /// Whether this key's scopes grant `scope`.
    pub fn grants(&self, scope: &str) -> bool {
        scopes_grant(self.scopes.as_deref(), scope)
    }

    /// Whether the key's app allows browser calls from `origin` (exact match).
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.app_allowed_origins
            .iter()
            .any(|allowed| allowed == origin)
    }

    /// Whether this key holds everything `scopes` would grant (`None`: full access), so
    /// that a key can never hand out, rotate or widen a key stronger than itself.
    pub fn covers(&self, scopes: Option<&[String]>) -> bool {
        match (self.scopes.as_deref(), scopes) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(held), Some(wanted)) => {
                wanted.iter().all(|scope| scopes_grant(Some(held), scope))
            }
        }
    }
}

/// What the tenant's plan and subscription allow right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantStanding {
    /// The plan includes `platform.api`.
    pub platform_api_enabled: bool,
    /// The subscription is trialing or active (not past due or canceled).
    pub subscription_active: bool,
    /// Suspended by the operator or by a canceled subscription: keys are refused and
    /// people may read but change nothing.
    pub suspended: bool,
    /// The day of the month the tenant's billing window starts.
    pub billing_anchor_day: u32,
}

/// The one who acts, resolved from a session or an API key.
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant_id: TenantId,
    pub kind: ActorKind,
    pub standing: TenantStanding,
}

impl Actor {
    /// Gatehouse itself acting in a tenant (the operator's commands, housekeeping).
    pub fn system(tenant_id: TenantId) -> Self {
        Self::beyond_the_tenant(tenant_id, ActorKind::System)
    }

    /// One who acts from outside the tenant (Gatehouse, the operator), whom the
    /// tenant's plan and subscription do not hold back.
    pub(crate) fn beyond_the_tenant(tenant_id: TenantId, kind: ActorKind) -> Self {
        Self {
            tenant_id,
            kind,
            standing: TenantStanding {
                platform_api_enabled: true,
                subscription_active: true,
                suspended: false,
                billing_anchor_day: 1,
            },
        }
    }

    /// Refuses unless the tenant's standing lets this actor in (see
    /// [`Self::require_platform`]) and the actor holds what `access` asks: the role
    /// permission for a user, the scope for a key.
    pub fn require(&self, access: Access) -> Result<(), DomainError> {
        match &self.kind {
            ActorKind::User { role, .. } if !role_grants(*role, access.permission) => {
                return Err(DomainError::PermissionDenied(access.permission));
            }
            ActorKind::User { .. } if self.standing.suspended && access.changes_something() => {
                return Err(DomainError::TenantSuspended);
            }
            ActorKind::ApiKey { key, .. } if !key.grants(access.scope) => {
                return Err(DomainError::InsufficientScope(access.scope));
            }
            _ => {}
        }
        self.require_platform()
    }

    /// Refuses unless the tenant has `platform.api`; API keys also need an active
    /// subscription (people can still open the workspace to see why keys stopped).
    pub fn require_platform(&self) -> Result<(), DomainError> {
        if !self.standing.platform_api_enabled {
            return Err(DomainError::ModuleNotEnabled);
        }
        if self.api_key().is_some() && self.standing.suspended {
            return Err(DomainError::TenantSuspended);
        }
        if self.api_key().is_some() && !self.standing.subscription_active {
            return Err(DomainError::SubscriptionInactive);
        }
        Ok(())
    }

    pub fn user_id(&self) -> Option<&UserId> {
        match &self.kind {
            ActorKind::User { user_id, .. } => Some(user_id),
            ActorKind::ApiKey { .. } | ActorKind::Operator { .. } | ActorKind::System => None,
        }
    }

    /// The key this actor is, when it is one.
    pub fn api_key(&self) -> Option<&KeyPrincipal> {
        match &self.kind {
            ActorKind::ApiKey { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The key this actor is and the credential it presented, when it is a key.
    pub fn key_credential(&self) -> Option<(&KeyPrincipal, &KeyCredential)> {
        match &self.kind {
            ActorKind::ApiKey { key, credential } => Some((key, credential)),
            _ => None,
        }
    }

    /// The key this actor is, shared (cheap to keep past the actor).
    pub fn api_key_shared(&self) -> Option<std::sync::Arc<KeyPrincipal>> {
        match &self.kind {
            ActorKind::ApiKey { key, .. } => Some(std::sync::Arc::clone(key)),
            _ => None,
        }
    }

    /// What this actor may reach in its tenant (see [`Reach`]).
    pub fn reach(&self) -> Reach<'_> {
        match &self.kind {
            ActorKind::ApiKey { key, .. } => Reach::OwnApp {
                app_id: &key.app_id,
                mode: key.mode,
            },
            ActorKind::User { .. } | ActorKind::Operator { .. } | ActorKind::System => {
                Reach::Tenant
            }
        }
    }

    /// The app an operation is about: the one asked for, else the key actor's own. A
    /// person must name it.
    pub fn app_or_own(&self, asked: Option<&AppId>) -> Result<AppId, DomainError> {
        match (asked, self.api_key()) {
            (Some(app_id), _) => Ok(app_id.clone()),
            (None, Some(own)) => Ok(own.app_id.clone()),
            (None, None) => Err(DomainError::field("app_id", "Choose the app.")),
        }
    }

    /// Refuses a key actor that would create or manage a credential with more access, a
    /// longer life or a looser rate limit than its own: `scopes` (`None`:
    /// full access) must be covered by the key's, `expires_at_ms` (`None`: never) must
    /// not outlive the presented credential, and a rate-limited key only handles keys
    /// limited at least as tightly (`rate_limit`, `None`: unlimited).
    pub fn require_no_escalation(
        &self,
        scopes: Option<&[String]>,
        expires_at_ms: Option<i64>,
        rate_limit: Option<gatehouse_model::KeyRateLimit>,
    ) -> Result<(), DomainError> {
        let Some((key, credential)) = self.key_credential() else {
            return Ok(());
        };
        if !key.covers(scopes) {
            return Err(DomainError::KeyOutranked);
        }
        if let Some(own) = key.rate_limit
            && rate_limit.is_none_or(|wanted| wanted.requests_per_hour() > own.requests_per_hour())
        {
            return Err(DomainError::KeyOutpaced(own));
        }
        if let Some(ends_at_ms) = credential.ends_at_ms
            && expires_at_ms.is_none_or(|expires| expires > ends_at_ms)
        {
            return Err(DomainError::KeyOutlived { ends_at_ms });
        }
        Ok(())
    }

    /// `(actor_type, actor_id, label)` as the audit trail records them.
    pub fn audit_identity(&self) -> (ActorType, Option<String>, String) {
        match &self.kind {
            ActorKind::User { user_id, email, .. } => {
                (ActorType::User, Some(user_id.to_string()), email.clone())
            }
            ActorKind::ApiKey { key, .. } => (
                ActorType::ApiKey,
                Some(key.key_id.to_string()),
                key.masked_key.clone(),
            ),
            ActorKind::Operator { token_id, name } => (
                ActorType::Operator,
                Some(token_id.to_string()),
                format!("operator:{name}"),
            ),
            ActorKind::System => (ActorType::System, None, "Gatehouse".to_owned()),
        }
    }
}

/// What an actor may reach in its tenant. A key acts only within its own app and its
/// own mode (a test key sees test data only, a live key live data only); people and
/// Gatehouse reach the whole tenant. Every operation on keys, endpoints, events, logs,
/// usage and audit confines itself through this one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach<'a> {
    Tenant,
    OwnApp { app_id: &'a AppId, mode: KeyMode },
}

impl<'a> Reach<'a> {
    /// Whether something of `app_id` and `mode` is within reach.
    pub fn sees(self, app_id: &AppId, mode: KeyMode) -> bool {
        match self {
            Self::Tenant => true,
            Self::OwnApp {
                app_id: own,
                mode: own_mode,
            } => own == app_id && own_mode == mode,
        }
    }

    /// Refuses an app out of reach as "not found", so that a key learns nothing of
    /// the tenant's other apps.
    pub fn require_app(self, app_id: &AppId) -> Result<(), DomainError> {
        match self {
            Self::OwnApp { app_id: own, .. } if own != app_id => Err(DomainError::NotFound("app")),
            _ => Ok(()),
        }
    }

    /// The mode an operation works in: a key's own (asking for the other one is a
    /// field error naming `what` the operation handles); people choose, live when
    /// they do not.
    pub fn mode(self, asked: Option<KeyMode>, what: &str) -> Result<KeyMode, DomainError> {
        match self {
            Self::Tenant => Ok(asked.unwrap_or(KeyMode::Live)),
            Self::OwnApp { mode, .. } if asked.is_none_or(|asked| asked == mode) => Ok(mode),
            Self::OwnApp { mode, .. } => Err(DomainError::field(
                "mode",
                format!("A {0} key works with {0} {what} only.", mode.as_str()),
            )),
        }
    }

    /// The key's own app and mode; `None` for the whole tenant.
    pub fn own(self) -> Option<(&'a AppId, KeyMode)> {
        match self {
            Self::Tenant => None,
            Self::OwnApp { app_id, mode } => Some((app_id, mode)),
        }
    }

    /// The app a query is confined to, as bound in SQL: empty for the whole tenant.
    pub fn app_bind(self) -> &'a str {
        self.own().map_or("", |(app_id, _)| app_id.as_str())
    }

    /// The mode a query is confined to, as bound in SQL: empty for the whole tenant.
    pub fn mode_bind(self) -> &'static str {
        self.own().map_or("", |(_, mode)| mode.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_covers_only_what_it_holds() {
        let key = |scopes: Option<Vec<&str>>| KeyPrincipal {
            key_id: ApiKeyId::from_body("k"),
            tenant_id: TenantId::from_body("t"),
            app_id: AppId::from_body("a"),
            mode: KeyMode::Live,
            scopes: scopes.map(|list| list.into_iter().map(str::to_owned).collect()),
            masked_key: "rk_live_AbCd…".to_owned(),
            app_allowed_origins: Vec::new(),
            rate_limit: None,
        };
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let restricted = key(Some(vec!["api_keys:write", "imports:read"]));
        assert!(restricted.covers(Some(&strings(&["api_keys:read", "imports:read"]))));
        assert!(!restricted.covers(Some(&strings(&["imports:write"]))));
        assert!(
            !restricted.covers(None),
            "a restricted key cannot mint full access"
        );
        assert!(key(None).covers(None));
    }
}
