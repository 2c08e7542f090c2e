//! Helpers for the server's unit tests.

use axum::http::HeaderMap;

/// A header map from `(name, value)` pairs.
pub fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, value.parse().unwrap());
    }
    map
}

/// The server's state over a fresh SQLite database in a temporary folder (removed
/// when the returned guard drops), for tests that build the real router.
pub async fn state() -> (crate::state::AppState, TempDir) {
    let folder = std::env::temp_dir().join(format!(
        "gatehouse-unit-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&folder).unwrap();
    let url = format!("sqlite://{}/gatehouse.db", folder.display());
    let db = gatehouse_domain::Db::connect(&url, Default::default())
        .await
        .unwrap();
    let state = crate::state::AppState(std::sync::Arc::new(crate::state::SharedState {
        leptos_options: leptos::config::LeptosOptions::builder()
            .output_name("gatehouse")
            .build(),
        gatehouse: gatehouse_domain::Gatehouse::new(db),
        https: false,
        metrics_token: None,
        trusted_proxies: Default::default(),
        dashboard_url: "http://127.0.0.1:3000".to_owned(),
        embed_origins: Vec::new(),
        return_url: None,
        brand_css: None,
        mcp_sessions: Default::default(),
        shutdown: Default::default(),
    }));
    (state, TempDir(folder))
}

/// A folder removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
