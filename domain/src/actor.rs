//! Who is acting, in which tenant, and the checks behind every operation: roles'
//! permissions for dashboard users, scopes for API keys.

use gatehouse_model::{
    ActorType, ApiKeyId, AppId, CredentialKind, KeyMode, Role, TenantId, UserId,
};

use crate::error::DomainError;

/// The permissions that roles grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ApiKeysManage,
    WebhooksManage,
    AppsManage,
    TenantManage,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKeysManage => "api_keys_manage",
            Self::WebhooksManage => "webhooks_manage",
            Self::AppsManage => "apps_manage",
            Self::TenantManage => "tenant_manage",
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// What an operation needs: the role permission a user must hold, or the scope a key
/// must hold. Every domain operation names one of these constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub permission: Permission,
    pub scope: &'static str,
}

impl Access {
    pub const APPS_READ: Self = Self::new(Permission::AppsManage, "apps:read");
    pub const APPS_WRITE: Self = Self::new(Permission::AppsManage, "apps:write");
    pub const API_KEYS_READ: Self = Self::new(Permission::ApiKeysManage, "api_keys:read");
    pub const API_KEYS_WRITE: Self = Self::new(Permission::ApiKeysManage, "api_keys:write");
    pub const AUDIT_READ: Self = Self::new(Permission::AppsManage, "audit_events:read");
    pub const USAGE_READ: Self = Self::new(Permission::AppsManage, "usage:read");
    pub const REQUEST_LOGS_READ: Self = Self::new(Permission::AppsManage, "request_logs:read");
    pub const WEBHOOKS_READ: Self = Self::new(Permission::WebhooksManage, "webhook_endpoints:read");
    pub const WEBHOOKS_WRITE: Self =
        Self::new(Permission::WebhooksManage, "webhook_endpoints:write");
    pub const EVENTS_READ: Self = Self::new(Permission::WebhooksManage, "events:read");
    pub const EVENTS_WRITE: Self = Self::new(Permission::WebhooksManage, "events:write");

    const fn new(permission: Permission, scope: &'static str) -> Self {
        Self { permission, scope }
    }
}

/// Whether a role grants a permission: owners everything, managers all but tenant
/// management, members nothing in the Developers workspace.
pub fn role_grants(role: Role, permission: Permission) -> bool {
    match role {
        Role::Owner => true,
        Role::Manager => permission != Permission::TenantManage,
        Role::Member => false,
    }
}

/// Whether a role may open Settings > Developers at all (owners and managers).
pub fn role_opens_developers(role: Role) -> bool {
    role_grants(role, Permission::AppsManage)
}

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
    /// Gatehouse itself (bootstrap, housekeeping).
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

/// Whether a key's scopes grant `needed`; `None` is full access, and `area:write`
/// (or `area:manage`) also grants `area:read`.
pub fn scopes_grant(scopes: Option<&[String]>, needed: &str) -> bool {
    let Some(scopes) = scopes else { return true };
    scopes.iter().any(|held| {
        held == needed
            || needed.strip_suffix(":read").is_some_and(|area| {
                held.strip_prefix(area)
                    .is_some_and(|access| access == ":write" || access == ":manage")
            })
    })
}

/// What the tenant's plan and subscription allow right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantStanding {
    /// The plan includes `platform.api`.
    pub platform_api_enabled: bool,
    /// The subscription is trialing or active (not past due or canceled).
    pub subscription_active: bool,
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
        Self {
            tenant_id,
            kind: ActorKind::System,
            standing: TenantStanding {
                platform_api_enabled: true,
                subscription_active: true,
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
        if self.api_key().is_some() && !self.standing.subscription_active {
            return Err(DomainError::SubscriptionInactive);
        }
        Ok(())
    }

    pub fn user_id(&self) -> Option<&UserId> {
        match &self.kind {
            ActorKind::User { user_id, .. } => Some(user_id),
            ActorKind::ApiKey { .. } | ActorKind::System => None,
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
            ActorKind::System => (ActorType::System, None, "Gatehouse".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_as_the_spec_says() {
        let check = |role, permission, expected| {
            assert_eq!(
                role_grants(role, permission),
                expected,
                "{role:?} {permission:?}"
            );
        };
        check(Role::Owner, Permission::TenantManage, true);
        check(Role::Owner, Permission::ApiKeysManage, true);
        check(Role::Manager, Permission::ApiKeysManage, true);
        check(Role::Manager, Permission::WebhooksManage, true);
        check(Role::Manager, Permission::AppsManage, true);
        check(Role::Manager, Permission::TenantManage, false);
        check(Role::Member, Permission::AppsManage, false);
        check(Role::Member, Permission::ApiKeysManage, false);
    }

    #[test]
    fn write_grants_read_and_full_access_grants_all() {
        let held = vec!["imports:write".to_owned(), "exports:read".to_owned()];
        assert!(scopes_grant(Some(&held), "imports:read"));
        assert!(scopes_grant(Some(&held), "imports:write"));
        assert!(scopes_grant(Some(&held), "exports:read"));
        assert!(!scopes_grant(Some(&held), "exports:write"));
        assert!(!scopes_grant(Some(&held), "invoices:read"));
        assert!(scopes_grant(None, "anything:write"));
    }

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
