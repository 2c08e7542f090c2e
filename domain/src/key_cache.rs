//! The in-process cache behind key authentication (SPEC X-1's hot path): credentials
//! by digest and keys by id, so an authenticated call needs no database round trip.
//!
//! How it stays exact:
//! - Every key change ends in `Gatehouse::commit_key_change`, which forgets the key
//!   after its commit and before the change is answered: on this instance the very
//!   next request sees it.
//! - A generation counter closes the race with a concurrent look-up: a load that began
//!   before a change cannot store what it read once the change has forgotten the key.
//! - Expiry (of keys, rotated-out secrets and access tokens) is judged at each request
//!   from the cached times, so it is never late.
//! - Other instances: on PostgreSQL every change also sends `NOTIFY` on
//!   [`KEY_CHANGES_CHANNEL`] in its transaction, and each instance follows it
//!   (`Gatehouse::follow_key_changes`); the cache is used only while that listener is
//!   connected and is emptied whenever it drops. SQLite is one process by nature.
//! - Backstop: an entry is trusted for [`ENTRY_TTL_MS`] at most, then read again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use gatehouse_model::{ApiKeyId, ApiKeyView, TenantId};

use crate::actor::KeyPrincipal;

/// The PostgreSQL channel that carries the id of every changed key.
pub const KEY_CHANGES_CHANNEL: &str = "gatehouse_key_changes";

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
    pub platform_api_enabled: bool,
    /// Who the key is when it acts, built once per load.
    pub principal: Arc<KeyPrincipal>,
    loaded_at_ms: i64,
}

impl CachedKey {
    pub fn new(
        view: ApiKeyView,
        tenant_id: TenantId,
        platform_api_enabled: bool,
        now_ms: i64,
    ) -> Self {
        let principal = Arc::new(KeyPrincipal {
            key_id: view.id.clone(),
            tenant_id: tenant_id.clone(),
            app_id: view.app_id.clone(),
            mode: view.mode,
            scopes: view.scopes.clone(),
            masked_key: view.masked_key.clone(),
        });
        Self {
            view,
            tenant_id,
            platform_api_enabled,
            principal,
            loaded_at_ms: now_ms,
        }
    }

    /// The key as a reader sees it at `now_ms` (expired once `expires_at` passed).
    pub fn view_at(&self, now_ms: i64) -> ApiKeyView {
        let mut view = self.view.clone();
        view.status = crate::api_keys::derive_status(
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
    pub expires_at_ms: Option<i64>,
}

#[derive(Debug, Default)]
struct Entries {
    credentials: HashMap<String, CachedCredential>,
    keys: HashMap<ApiKeyId, Arc<CachedKey>>,
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
    ) -> Option<(CachedCredential, Arc<CachedKey>)> {
        if !self.enabled.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.read();
        let credential = entries.credentials.get(digest)?;
        let key = entries.keys.get(&credential.key_id)?;
        key.fresh(now_ms)
            .then(|| (credential.clone(), Arc::clone(key)))
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
        entries.credentials.insert(digest, credential);
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

    /// Follows other instances' key changes on PostgreSQL (`LISTEN`), forgetting each
    /// changed key; the cache is used only while this runs connected. Returns never;
    /// on SQLite (one process) it returns at once and the cache stays on.
    pub async fn follow_key_changes(&self) {
        if self.db().engine() != crate::Engine::Postgres {
            return;
        }
        loop {
            match sqlx::postgres::PgListener::connect(self.db().url()).await {
                Ok(mut listener) => {
                    if listener.listen(KEY_CHANGES_CHANNEL).await.is_ok() {
                        self.key_cache.set_enabled(true);
                        while let Ok(notification) = listener.recv().await {
                            match ApiKeyId::parse(notification.payload()) {
                                Ok(key_id) => self.key_cache.forget(&key_id),
                                Err(_) => self.key_cache.clear(),
                            }
                        }
                    }
                    self.key_cache.set_enabled(false);
                    tracing::warn!(
                        "lost the key change feed; the key cache is off until it is back"
                    );
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for key changes; the key cache stays off");
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}
