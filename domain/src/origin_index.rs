//! Every app's allowed browser origins, in memory: CORS preflights carry no
//! key, so they are answered for origins that some app allows, and that answer must
//! cost no database work (anyone can send a preflight). Reloaded whole after every app
//! change (on this instance at commit, on others by the change feed), when the feed
//! reconnects, and every half minute as a backstop.

use std::collections::HashSet;
use std::sync::RwLock;

use crate::Gatehouse;
use crate::error::DomainError;
use crate::stored;

#[derive(Debug, Default)]
pub(crate) struct OriginIndex {
    /// `None` until first loaded.
    origins: RwLock<Option<HashSet<String>>>,
    /// Held across a reload's read and swap, so a reload that read older data can never
    /// overwrite a newer one.
    reloading: tokio::sync::Mutex<()>,
}

impl OriginIndex {
    fn check(&self, origin: &str) -> Option<bool> {
        let origins = self
            .origins
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        origins.as_ref().map(|origins| origins.contains(origin))
    }
}

impl Gatehouse {
    /// Reads every app's origins into the index.
    pub async fn reload_origin_index(&self) -> Result<(), DomainError> {
        let _reloading = self.origin_index.reloading.lock().await;
        let rows: Vec<(String,)> = sqlx::query_as("SELECT allowed_origins FROM apps")
            .fetch_all(self.db().pool())
            .await?;
        let mut origins = HashSet::new();
        for (list,) in rows {
            let list: Vec<String> = stored::json("app", "allowed_origins", &list)?;
            origins.extend(list);
        }
        *self
            .origin_index
            .origins
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(origins);
        Ok(())
    }

    /// Reloads the index, logging (not answering) a failure: the old index stays.
    pub(crate) async fn reload_origin_index_logged(&self) {
        if let Err(error) = self.reload_origin_index().await {
            tracing::warn!(%error, "could not reload the allowed origins");
        }
    }

    /// Whether any app allows `origin`: from memory once loaded (the first call loads).
    pub async fn some_app_allows_origin(&self, origin: &str) -> Result<bool, DomainError> {
        if let Some(allowed) = self.origin_index.check(origin) {
            return Ok(allowed);
        }
        self.reload_origin_index().await?;
        Ok(self.origin_index.check(origin).unwrap_or(false))
    }
}
