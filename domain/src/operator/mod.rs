//! The operator's entry point: what the SaaS that runs Gatehouse does, from the command
//! line on the server's machine (the CLI) or from its backend with an operator token
//! (`/operator/v1`): tenants, people, one-time sign-in links, events for a tenant, and
//! the tokens themselves (CLI only). These act outside any tenant's session, so they
//! are kept apart from the actor operations that people and keys call.

pub mod events;
pub mod idempotency;
pub mod people;
pub mod purge;
pub mod tenants;
pub mod tokens;

use gatehouse_model::{OperatorScope, OperatorTokenId, TenantId};

use crate::Gatehouse;
use crate::actor::{Actor, ActorKind};
use crate::error::DomainError;

/// An operator token that authenticated: who it is and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorPrincipal {
    pub token_id: OperatorTokenId,
    pub name: String,
    pub scopes: Vec<OperatorScope>,
}

/// Who asks for an operator operation.
#[derive(Debug, Clone)]
pub enum OperatorCaller {
    /// The CLI on the server's own machine: holds every scope, and is audited as
    /// Gatehouse.
    Cli,
    /// The SaaS's backend, with a token's scopes, audited as `operator:<name>`.
    Token(OperatorPrincipal),
}

/// The operator's operations over a [`Gatehouse`] (see `Gatehouse::operator`).
pub struct Operator<'g> {
    pub(crate) gatehouse: &'g Gatehouse,
    pub(crate) caller: OperatorCaller,
}

impl Gatehouse {
    /// The operator's operations as the CLI runs them: every scope.
    pub fn operator(&self) -> Operator<'_> {
        Operator {
            gatehouse: self,
            caller: OperatorCaller::Cli,
        }
    }

    /// The operator's operations as a token may run them: its scopes only.
    pub fn operator_with(&self, principal: OperatorPrincipal) -> Operator<'_> {
        Operator {
            gatehouse: self,
            caller: OperatorCaller::Token(principal),
        }
    }
}

impl Operator<'_> {
    /// Refuses a token without `scope` (the CLI holds them all).
    pub(crate) fn require(&self, scope: OperatorScope) -> Result<(), DomainError> {
        match &self.caller {
            OperatorCaller::Cli => Ok(()),
            OperatorCaller::Token(principal) if principal.scopes.contains(&scope) => Ok(()),
            OperatorCaller::Token(_) => Err(DomainError::InsufficientScope(scope.as_str())),
        }
    }

    /// Refuses anything but the CLI: operator tokens are made and revoked on the
    /// server's machine only, never by another token.
    pub(crate) fn require_cli(&self) -> Result<(), DomainError> {
        match &self.caller {
            OperatorCaller::Cli => Ok(()),
            OperatorCaller::Token(_) => Err(DomainError::CredentialNotAllowed(
                "Operator tokens are managed with the gatehouse command on the server.",
            )),
        }
    }

    /// The actor the audit trail of `tenant_id` names for this operator.
    pub(crate) fn actor_in(&self, tenant_id: &TenantId) -> Actor {
        match &self.caller {
            OperatorCaller::Cli => Actor::system(tenant_id.clone()),
            OperatorCaller::Token(principal) => Actor::beyond_the_tenant(
                tenant_id.clone(),
                ActorKind::Operator {
                    token_id: principal.token_id.clone(),
                    name: principal.name.clone(),
                },
            ),
        }
    }

    /// The token that asks, when one does (the CLI is none).
    pub(crate) fn token_id(&self) -> Option<&OperatorTokenId> {
        match &self.caller {
            OperatorCaller::Cli => None,
            OperatorCaller::Token(principal) => Some(&principal.token_id),
        }
    }
}
