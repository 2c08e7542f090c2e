//! The operator's entry point: what the person who runs the server does from the
//! command line (create tenants and users, find a tenant by name, the first start's
//! demo tenant). These act outside any tenant's session, as Gatehouse itself, so they
//! are kept apart from the actor operations that people and keys call.

use crate::Gatehouse;

/// The operator's operations over a [`Gatehouse`] (see `Gatehouse::operator`).
pub struct Operator<'g> {
    pub(crate) gatehouse: &'g Gatehouse,
}

impl Gatehouse {
    /// The operator's operations: tenants, users, bootstrap.
    pub fn operator(&self) -> Operator<'_> {
        Operator { gatehouse: self }
    }
}
