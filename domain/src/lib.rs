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
pub mod catalog;
pub mod db;
pub mod error;
pub mod ids;
pub mod key_cache;
pub mod overview;
pub mod tenants;
pub mod time;
pub mod usage;
pub mod users;

pub use actor::{Access, Actor, ActorKind, KeyPrincipal, Permission};
pub use db::{Db, DbOptions, Engine};
pub use error::DomainError;
pub use gatehouse_model as model;

/// The product's operations over one database.
#[derive(Clone)]
pub struct Gatehouse {
    db: Db,
    scope_catalog: std::sync::Arc<model::ScopeCatalog>,
    usage: std::sync::Arc<usage::UsageCounters>,
    key_cache: std::sync::Arc<key_cache::KeyCache>,
}

impl Gatehouse {
    /// The product over `db`, with the built-in scope catalog.
    pub fn new(db: Db) -> Self {
        Self {
            scope_catalog: std::sync::Arc::new(catalog::built_in()),
            usage: Default::default(),
            // SQLite is one process: the cache is exact from the start. On PostgreSQL it
            // waits for `follow_key_changes` to connect (see `key_cache`).
            key_cache: std::sync::Arc::new(key_cache::KeyCache::new(db.engine() == Engine::Sqlite)),
            db,
        }
    }

    /// Replaces the scope catalog with the operator's own.
    pub fn with_scope_catalog(mut self, scope_catalog: model::ScopeCatalog) -> Self {
        self.scope_catalog = std::sync::Arc::new(scope_catalog);
        self
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Whether authentication may use the key cache right now (see `key_cache`).
    pub fn key_cache_active(&self) -> bool {
        self.key_cache.is_enabled()
    }

    pub fn scope_catalog(&self) -> &model::ScopeCatalog {
        &self.scope_catalog
    }
}
