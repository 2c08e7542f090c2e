//! What each operation needs and what grants it: the permissions a role grants
//! dashboard users, and the scopes that grant an API key access (`area:write` also
//! grants `area:read`). Pure rules, used by `actor`'s checks.

use gatehouse_model::Role;

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

    /// Whether the operation changes something (its scope is an area's `write`): what a
    /// suspended tenant's people may not do.
    pub fn changes_something(&self) -> bool {
        self.scope.ends_with(":write")
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

/// Whether a role may open Settings > Developers at all: owners and managers.
pub fn role_opens_developers(role: Role) -> bool {
    role_grants(role, Permission::AppsManage)
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
}
