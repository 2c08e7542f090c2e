//! Who is acting, in which tenant, and the permission checks behind roles (SPEC T-5).

use gatehouse_model::{Role, TenantId, UserId};

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

/// Whether a role grants a permission: owners everything, managers all but tenant
/// management, members nothing in the Developers workspace.
pub fn role_grants(role: Role, permission: Permission) -> bool {
    match role {
        Role::Owner => true,
        Role::Manager => permission != Permission::TenantManage,
        Role::Member => false,
    }
}

/// Whether a role may open Settings > Developers at all (SPEC T-4).
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
    /// Gatehouse itself (bootstrap, housekeeping).
    System,
}

/// The one who acts, resolved from a session (or, later, an API key).
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant_id: TenantId,
    pub kind: ActorKind,
    /// Whether the tenant's plan includes `platform.api`.
    pub platform_api_enabled: bool,
}

impl Actor {
    /// Refuses unless the tenant has `platform.api` and the actor holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), DomainError> {
        let granted = match &self.kind {
            ActorKind::User { role, .. } => role_grants(*role, permission),
            ActorKind::System => true,
        };
        if !granted {
            return Err(DomainError::PermissionDenied(permission));
        }
        if !self.platform_api_enabled {
            return Err(DomainError::ModuleNotEnabled);
        }
        Ok(())
    }

    pub fn user_id(&self) -> Option<&UserId> {
        match &self.kind {
            ActorKind::User { user_id, .. } => Some(user_id),
            ActorKind::System => None,
        }
    }

    /// `(actor_type, actor_id, label)` as the audit trail records them.
    pub fn audit_identity(&self) -> (&'static str, Option<String>, String) {
        match &self.kind {
            ActorKind::User { user_id, email, .. } => {
                ("user", Some(user_id.to_string()), email.clone())
            }
            ActorKind::System => ("system", None, "Gatehouse".to_owned()),
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
}
