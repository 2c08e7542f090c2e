//! Gatehouse's business rules and all of its SQL. The dashboard's server functions
//! and the `/v1` HTTP handlers are thin doors into [`Gatehouse`]; nothing else
//! talks to the database, so every rule here is tested without a browser or HTTP.

pub mod access;
pub mod actor;
pub mod admission;
pub mod alerts;
pub mod api_keys;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod catalog;
pub mod change;
pub mod clock;
pub mod db;
pub mod error;
pub mod housekeeping;
pub mod ids;
pub mod limits;
pub mod metrics;
pub mod operator;
pub mod origin_index;
pub mod overview;
mod paging;
pub mod request_log;
pub mod setup_guide;
mod storable;
mod stored;
pub mod tenants;
pub mod text;
pub mod time;
pub mod usage;
pub mod usage_report;
pub mod users;
pub mod webhooks;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64};

pub use access::{Access, Permission};
pub use actor::{Actor, ActorKind, KeyCredential, KeyPrincipal};
pub use clock::Clock;
pub use db::{Db, DbOptions, Engine};
pub use error::DomainError;
pub use gatehouse_model as model;
pub use usage::CallOutcome;

/// The product's operations over one database. Cheap to clone: clones share the
/// database, the caches and the counters.
#[derive(Clone)]
pub struct Gatehouse {
    db: Db,
    clock: Clock,
    scope_catalog: Arc<model::ScopeCatalog>,
    usage: Arc<usage::UsageCounters>,
    key_cache: Arc<api_keys::cache::KeyCache>,
    origin_index: Arc<origin_index::OriginIndex>,
    /// Names this instance (its PostgreSQL listener's `application_name`).
    instance_id: Arc<str>,
    feed_reconnects: Arc<AtomicU64>,
    webhooks: Arc<webhooks::WebhookRuntime>,
    quota: Arc<limits::quota::QuotaLedger>,
    rate_windows: Arc<limits::rate::RateWindows>,
    /// The highest tenant revision this instance has applied (see `tenants`).
    tenant_revision: Arc<AtomicI64>,
    metrics: Arc<metrics::Metrics>,
    request_logs: Arc<request_log::RequestLogBuffer>,
    alerts: Arc<alerts::AlertRuntime>,
    /// Sign-in's password checks, a bounded number at a time.
    password_checks: auth::password::PasswordChecks,
    /// When this instance started (Unix ms).
    started_ms: i64,
}

impl Gatehouse {
    /// The product over `db`, with the built-in scope catalog and the system clock.
    pub fn new(db: Db) -> Self {
        Self {
            clock: Clock::system(),
            scope_catalog: Arc::new(catalog::built_in()),
            usage: Default::default(),
            // SQLite is one process: the cache is exact from the start. On PostgreSQL it
            // waits for `follow_key_changes` to connect (see `api_keys::cache`).
            key_cache: Arc::new(api_keys::cache::KeyCache::new(
                db.engine() == Engine::Sqlite,
            )),
            origin_index: Default::default(),
            instance_id: ids::random_hex(6).into(),
            feed_reconnects: Default::default(),
            webhooks: Default::default(),
            quota: Default::default(),
            rate_windows: Default::default(),
            tenant_revision: Default::default(),
            metrics: Default::default(),
            request_logs: Default::default(),
            alerts: Default::default(),
            password_checks: Default::default(),
            started_ms: Clock::system().now_ms(),
            db,
        }
    }

    /// Replaces the scope catalog with the operator's own.
    pub fn with_scope_catalog(mut self, scope_catalog: model::ScopeCatalog) -> Self {
        self.scope_catalog = Arc::new(scope_catalog);
        self
    }

    /// Replaces the clock (tests drive a manual one across time boundaries).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the request log's buffer size and how many days entries are kept (0: no
    /// request log).
    pub fn with_request_log(mut self, capacity: usize, retention_days: u32) -> Self {
        self.request_logs = Arc::new(request_log::RequestLogBuffer::new(capacity, retention_days));
        self
    }

    /// Sets the webhooks' master keys, destination rules and delivery pacing.
    pub fn with_webhooks(mut self, settings: webhooks::WebhookSettings) -> Self {
        self.webhooks = Arc::new(webhooks::WebhookRuntime::new(settings));
        self
    }

    /// Now, by this instance's clock, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Whether authentication may use the key cache right now (see `api_keys::cache`).
    pub fn key_cache_active(&self) -> bool {
        self.key_cache.is_enabled()
    }

    pub fn scope_catalog(&self) -> &model::ScopeCatalog {
        &self.scope_catalog
    }
}
