//! The in-process cache behind key authentication (on every call's hot path): credentials
//! by digest and keys by id, so an authenticated call needs no database round trip.
//!
//! How it stays exact:
//! - Every key or app change commits through `change::Change`, which forgets the key
//!   (or every key of the app) after its commit and before the change is answered: on
//!   this instance the very next request sees it.
//! - A generation counter closes the race with a concurrent look-up: a load that began
//!   before a change cannot store what it read once the change has forgotten the key.
//! - Expiry (of keys, rotated-out secrets and access tokens) is judged at each request
//!   from the cached times, so it is never late.
//! - Other instances: on PostgreSQL every change also sends `NOTIFY` on
//!   [`CHANGES_CHANNEL`] in its transaction, and each instance follows it
//!   (`Gatehouse::follow_key_changes`); the cache is used only while that listener is
//!   connected, and is emptied whenever it drops or reconnects (notifications sent in
//!   the gap are lost). SQLite is one process by nature.
//! - Backstop: an entry is trusted for [`ENTRY_TTL_MS`] at most, then read again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use gatehouse_model::{ApiKeyId, ApiKeyView, AppId, CredentialKind, TenantId};

use crate::actor::{KeyPrincipal, TenantStanding};
pub use crate::change::CHANGES_CHANNEL;

/// How long an entry is trusted before it is read from the database again.
pub const ENTRY_TTL_MS: i64 = 30_000;

/// Most credentials kept; past it the cache starts over (a flood of distinct keys).
const MAX_CREDENTIALS: usize = 100_000;

/// A key as authentication and `GET /v1/api-keys/{id}` need it.
#[derive(Debug, Clone)]
pub(crate) struct CachedKey {
    /// Its status is the stored one (enabled, disabled, revoked); `status_at` derives
    /// `expired`.
    pub view: ApiKeyView,
    pub tenant_id: TenantId,
    pub standing: TenantStanding,
    /// Who the key is when it acts, built once per load.
    pub principal: Arc<KeyPrincipal>,
    loaded_at_ms: i64,
}

impl CachedKey {
    pub fn new(
        view: ApiKeyView,
        tenant_id: TenantId,
        standing: TenantStanding,
        app_allowed_origins: Vec<String>,
        now_ms: i64,
    ) -> Self {
        let principal = Arc::new(KeyPrincipal {
            key_id: view.id.clone(),
            tenant_id: tenant_id.clone(),
            app_id: view.app_id.clone(),
            mode: view.mode,
            scopes: view.scopes.clone(),
            masked_key: view.masked_key.clone(),
            app_allowed_origins,
            rate_limit: view.rate_limit,
        });
        Self {
            view,
            tenant_id,
            standing,
            principal,
            loaded_at_ms: now_ms,
        }
    }

    /// The key as a reader sees it at `now_ms` (expired once `expires_at` passed).
    pub fn view_at(&self, now_ms: i64) -> ApiKeyView {
        let mut view = self.view.clone();
        view.status = super::derive_status(
            self.view.status,
            self.view.expires_at.map(|at| at.timestamp_millis()),
            now_ms,
        );
        view
    }

    fn fresh(&self, now_ms: i64) -> bool {
        now_ms - self.loaded_at_ms < ENTRY_TTL_MS
    }
}

/// One presented secret or access token: its key and when it stops working.
#[derive(Debug, Clone)]
pub(crate) struct CachedCredential {
    pub key_id: ApiKeyId,
    pub kind: CredentialKind,
    /// A rotated-out secret's retirement, or a token's end (the earlier of its own
    /// expiry and its secret's retirement).
    pub expires_at_ms: Option<i64>,
}

/// The hot path's maps hash with foldhash (randomly seeded, several times faster
/// than SipHash on a 64-character digest); only looked-up keys are ever inserted.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Debug, Default)]
struct Entries {
    credentials: FastMap<String, Arc<CachedCredential>>,
    keys: FastMap<ApiKeyId, Arc<CachedKey>>,
}

#[derive(Debug)]
pub(crate) struct KeyCache {
    entries: RwLock<Entries>,
    generation: AtomicU64,
    enabled: AtomicBool,
}

impl KeyCache {
    pub fn new(enabled: bool) -> Self {
        Self {
            entries: RwLock::default(),
            generation: AtomicU64::new(0),
            enabled: AtomicBool::new(enabled),
        }
    }

    /// The credential with digest `digest` and its key, if both are cached and fresh.
    pub fn credential(
        &self,
        digest: &str,
        now_ms: i64,
    ) -> Option<(Arc<CachedCredential>, Arc<CachedKey>)> {
        if !self.enabled.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.read();
        let credential = entries.credentials.get(digest)?;
        let key = entries.keys.get(&credential.key_id)?;
        key.fresh(now_ms)
            .then(|| (Arc::clone(credential), Arc::clone(key)))
    }

    /// A cached, fresh key by id.
    pub fn key(&self, key_id: &ApiKeyId, now_ms: i64) -> Option<Arc<CachedKey>> {
        if !self.enabled.load(Ordering::Acquire) {
            return None;
        }
        self.read()
            .keys
            .get(key_id)
            .filter(|key| key.fresh(now_ms))
            .cloned()
    }

    /// Taken before a database read whose result may be stored with [`Self::store`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores what a look-up read, unless a change forgot anything since `generation`.
    pub fn store(
        &self,
        generation: u64,
        digest: String,
        credential: CachedCredential,
        key: CachedKey,
    ) {
        if !self.enabled.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self.write();
        // Checked under the lock that `forget` takes too, so no change slips between.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.credentials.len() >= MAX_CREDENTIALS {
            *entries = Entries::default();
        }
        entries
            .keys
            .insert(credential.key_id.clone(), Arc::new(key));
        entries.credentials.insert(digest, Arc::new(credential));
    }

    /// Forgets a key and every credential of it (after a change to it).
    pub fn forget(&self, key_id: &ApiKeyId) {
        let mut entries = self.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.keys.remove(key_id);
        entries
            .credentials
            .retain(|_, credential| &credential.key_id != key_id);
    }

    /// Forgets every key of an app (its origins changed) and their credentials.
    pub fn forget_app(&self, app_id: &AppId) {
        let mut entries = self.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.keys.retain(|_, key| &key.view.app_id != app_id);
        let Entries { credentials, keys } = &mut *entries;
        credentials.retain(|_, credential| keys.contains_key(&credential.key_id));
    }

    /// Forgets every key of a tenant (its standing changed) and their credentials.
    pub fn forget_tenant(&self, tenant_id: &TenantId) {
        let mut entries = self.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.keys.retain(|_, key| &key.tenant_id != tenant_id);
        let Entries { credentials, keys } = &mut *entries;
        credentials.retain(|_, credential| keys.contains_key(&credential.key_id));
    }

    /// Forgets everything (the change feed dropped, or an operator asked).
    pub fn clear(&self) {
        let mut entries = self.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        *entries = Entries::default();
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// Turns the cache on or off; off also empties it.
    pub fn set_enabled(&self, enabled: bool) {
        if !enabled {
            self.enabled.store(false, Ordering::Release);
            self.clear();
        } else {
            self.clear();
            self.enabled.store(true, Ordering::Release);
        }
    }

    /// Keeps a cached key's last-used time in step with the usage flush.
    pub fn note_last_used(&self, key_id: &ApiKeyId, at: chrono::DateTime<chrono::Utc>) {
        let mut entries = self.write();
        if let Some(key) = entries.keys.get_mut(key_id) {
            let mut updated = (**key).clone();
            if updated.view.last_used_at.is_none_or(|last| last < at) {
                updated.view.last_used_at = Some(at);
                *key = Arc::new(updated);
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl crate::Gatehouse {
    /// Empties the key cache: for an operator (or a test) that changed keys in the
    /// database by hand, bypassing Gatehouse.
    pub fn forget_cached_keys(&self) {
        self.key_cache.clear();
    }

    /// Follows other instances' changes on PostgreSQL (`LISTEN`), forgetting each
    /// changed key (or every key of a changed app); the cache is used only while this
    /// runs connected. A dropped connection is noticed (sqlx reconnects by itself, and
    /// the notifications sent in the gap are lost), so the cache is emptied then.
    /// Returns when `stop` fires; on SQLite (one process) it returns at once.
    pub async fn follow_key_changes(&self, stop: tokio_util::sync::CancellationToken) {
        if self.db().engine() != crate::Engine::Postgres {
            return;
        }
        let url = listener_url(self.db().url(), &self.listener_name());
        while !stop.is_cancelled() {
            let connected = tokio::select! {
                () = stop.cancelled() => return,
                connected = sqlx::postgres::PgListener::connect(&url) => connected,
            };
            let mut listener = match connected {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for key changes; the key cache stays off");
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                    }
                    continue;
                }
            };
            let channels = [CHANGES_CHANNEL, crate::change::DELIVERIES_CHANNEL];
            if listener.listen_all(channels).await.is_ok() {
                // Listening from here on: what is cached from now is kept exact.
                self.key_cache.set_enabled(true);
                self.reload_origin_index_logged().await;
                self.follow(&mut listener, &stop).await;
            }
            // Off (and empty) until listening again, so nothing read in the gap is kept.
            self.key_cache.set_enabled(false);
            if !stop.is_cancelled() {
                tracing::warn!("lost the change feed; the key cache is off until it is back");
            }
        }
    }

    /// Applies notifications until the connection drops or `stop` fires.
    async fn follow(
        &self,
        listener: &mut sqlx::postgres::PgListener,
        stop: &tokio_util::sync::CancellationToken,
    ) {
        loop {
            let received = tokio::select! {
                () = stop.cancelled() => return,
                received = listener.try_recv() => received,
            };
            match received {
                Ok(Some(notification))
                    if notification.channel() == crate::change::DELIVERIES_CHANNEL =>
                {
                    // Another instance queued deliveries (this one's own are handed to
                    // its worker directly): look for them now.
                    if notification.payload() != self.instance_id.as_ref() {
                        self.webhooks.request_scan();
                    }
                }
                Ok(Some(notification)) => {
                    let (payload, from) = notification
                        .payload()
                        .split_once(' ')
                        .unwrap_or((notification.payload(), ""));
                    if from == self.instance_id.as_ref() {
                        // This instance's own change: forgotten at its commit already.
                        continue;
                    }
                    if let Ok(key_id) = ApiKeyId::parse(payload) {
                        self.key_cache.forget(&key_id);
                    } else if let Ok(app_id) = AppId::parse(payload) {
                        self.key_cache.forget_app(&app_id);
                        self.reload_origin_index_logged().await;
                    } else if let Ok(tenant_id) = TenantId::parse(payload) {
                        if let Err(error) = self.forget_tenant(&tenant_id).await {
                            tracing::warn!(%error, "a changed tenant's quota was not given back");
                        }
                    } else {
                        self.key_cache.clear();
                    }
                }
                // The connection dropped: whatever is sent until we listen again is
                // lost, so the caller turns the cache off and connects afresh.
                Ok(None) => {
                    self.feed_reconnects.fetch_add(1, Ordering::AcqRel);
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "the change feed failed");
                    return;
                }
            }
        }
    }

    /// The PostgreSQL `application_name` of this instance's change listener (operators
    /// see it in `pg_stat_activity`; tests use it to cut the connection).
    pub fn listener_name(&self) -> String {
        format!("gatehouse-listener-{}", self.instance_id)
    }

    /// How many times the change feed dropped and came back since start.
    pub fn change_feed_reconnects(&self) -> u64 {
        self.feed_reconnects.load(Ordering::Acquire)
    }
}

/// The database URL with the listener's `application_name` set.
fn listener_url(url: &str, name: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}application_name={name}")
}
