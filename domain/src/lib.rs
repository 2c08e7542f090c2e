//! Gatehouse's business rules and all of its SQL. The dashboard's server functions
//! and the `/v1` HTTP handlers are thin doors into [`Gatehouse`]; nothing else
//! talks to the database, so every rule here is tested without a browser or HTTP.

pub mod actor;
pub mod api_key_format;
pub mod api_keys;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod db;
pub mod error;
pub mod ids;
pub mod overview;
pub mod tenants;
pub mod time;
pub mod users;

pub use actor::{Actor, ActorKind, Permission};
pub use db::{Db, DbOptions, Engine};
pub use error::DomainError;
pub use gatehouse_model as model;

/// The product's operations over one database.
#[derive(Clone)]
pub struct Gatehouse {
    db: Db,
}

impl Gatehouse {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }
}
