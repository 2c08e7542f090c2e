//! Test databases on both engines: a fresh SQLite file, or a fresh PostgreSQL schema
//! in `GATEHOUSE_TEST_POSTGRES_URL` (default: the local `test` database).

#![allow(dead_code)]

pub mod receiver;
pub mod smtp;

use gatehouse_domain::tenants::{NewTenant, PLATFORM_API_MODULE};
use gatehouse_domain::{Actor, Db, DbOptions, Engine, Gatehouse, webhooks};
use gatehouse_model::{
    ApiKeyInput, AppId, AppInput, CreatedApiKey, KeyMode, KeyType, Plan, Role, TenantId,
};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A migrated database that is removed when the test ends.
pub struct TestDb {
    pub gatehouse: Gatehouse,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    PostgresSchema { url: String, schema: String },
}

impl TestDb {
    pub async fn new(engine: Engine) -> Self {
        let name = format!("gh_test_{}", gatehouse_domain::ids::random_hex(8));
        let (db, cleanup) = match engine {
            Engine::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let url = format!("sqlite://{}", path.display());
                (
                    Db::connect(&url, DbOptions::default())
                        .await
                        .expect("open SQLite"),
                    Cleanup::SqliteFile(path),
                )
            }
            Engine::Postgres => {
                let url = std::env::var("GATEHOUSE_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
                run_as_admin(&url, &format!("CREATE SCHEMA {name}")).await;
                let options = DbOptions {
                    max_connections: 5,
                    postgres_schema: Some(name.clone()),
                };
                let db = Db::connect(&url, options).await.expect("open PostgreSQL");
                (db, Cleanup::PostgresSchema { url, schema: name })
            }
        };
        db.migrate().await.expect("migrate");
        Self {
            gatehouse: Gatehouse::new(db).with_webhooks(webhook_settings()),
            cleanup,
        }
    }

    /// A second Gatehouse on the same database, as another instance of the server.
    pub async fn another_instance(&self) -> Gatehouse {
        let (url, options) = match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                (format!("sqlite://{}", path.display()), DbOptions::default())
            }
            Cleanup::PostgresSchema { url, schema } => (
                url.clone(),
                DbOptions {
                    max_connections: 5,
                    postgres_schema: Some(schema.clone()),
                },
            ),
        };
        Gatehouse::new(Db::connect(&url, options).await.expect("open again"))
            .with_webhooks(webhook_settings())
    }

    pub async fn finish(self) {
        self.gatehouse.db().close().await;
        match self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::PostgresSchema { url, schema } => {
                run_as_admin(&url, &format!("DROP SCHEMA {schema} CASCADE")).await;
            }
        }
    }
}

/// Runs one statement on PostgreSQL outside any test schema (creating and dropping them).
async fn run_as_admin(url: &str, statement: &str) {
    let admin = Db::connect(
        url,
        DbOptions {
            max_connections: 1,
            postgres_schema: None,
        },
    )
    .await
    .expect("PostgreSQL must be reachable for the PostgreSQL half of the suite");
    sqlx::query(statement)
        .execute(admin.pool_for_tests())
        .await
        .unwrap();
    admin.close().await;
}

/// Runs one async test body against each engine, as two tests named `…_sqlite` and `…_postgres`.
#[macro_export]
macro_rules! on_both_engines {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::common::TestDb::new(gatehouse_domain::Engine::Sqlite).await;
                ($body)(db.gatehouse.clone()).await;
                db.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = $crate::common::TestDb::new(gatehouse_domain::Engine::Postgres).await;
                ($body)(db.gatehouse.clone()).await;
                db.finish().await;
            }
        }
    };
}

/// The master key every test instance shares (instances of one database must).
pub static MASTER_KEY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(webhooks::MasterKeys::generate_setting);

/// Webhook settings for tests: a master key, and only 127.0.0.1 allowed among the
/// internal addresses (so SSRF tests use 127.0.0.2 and [::1], never a real network).
pub fn webhook_settings() -> webhooks::WebhookSettings {
    webhooks::WebhookSettings {
        master_keys: Some(webhooks::MasterKeys::parse(&MASTER_KEY).unwrap()),
        destinations: webhooks::Destinations {
            policy: std::sync::Arc::new(webhooks::NetworkPolicy::parse("127.0.0.1/32").unwrap()),
            lookup: std::sync::Arc::new(webhooks::StaticLookup::default()),
        },
        delivery: Default::default(),
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

/// A tenant with (or without) `platform.api`, and a signed-in user of the given role.
pub async fn tenant_with_user(
    gatehouse: &Gatehouse,
    email: &str,
    role: Role,
    platform_api: bool,
) -> (TenantId, Actor) {
    let modules: &[&str] = if platform_api {
        &[PLATFORM_API_MODULE]
    } else {
        &[]
    };
    let tenant_id = gatehouse
        .operator()
        .create_tenant(NewTenant::new(
            &format!("Tenant of {email}"),
            Plan::Pro,
            modules,
        ))
        .await
        .unwrap();
    gatehouse
        .operator()
        .create_user(&tenant_id, email, role, Some(PASSWORD.to_owned()))
        .await
        .unwrap();
    let session = gatehouse.sign_in(email, PASSWORD).await.unwrap();
    let signed_in = gatehouse.session(&session.token).await.unwrap();
    (tenant_id, signed_in.actor)
}

/// An app named `name` in the actor's tenant.
pub async fn app_named(gatehouse: &Gatehouse, actor: &Actor, name: &str) -> AppId {
    let input = AppInput {
        name: name.into(),
        ..AppInput::default()
    };
    gatehouse.create_app(actor, &input).await.unwrap().id
}

/// A key named "Integration": secret with `None`, else restricted to `scopes`.
pub fn key_input(app_id: &AppId, mode: KeyMode, scopes: Option<&[&str]>) -> ApiKeyInput {
    ApiKeyInput {
        app_id: Some(app_id.clone()),
        name: "Integration".into(),
        description: String::new(),
        mode,
        key_type: if scopes.is_some() {
            KeyType::Restricted
        } else {
            KeyType::Secret
        },
        scopes: scopes
            .unwrap_or_default()
            .iter()
            .map(|scope| (*scope).to_owned())
            .collect(),
        expires_at: None,
        expiry_days: None,
        rate_limit: None,
    }
}

/// A live restricted key named "Production integration".
pub fn restricted(app_id: &AppId, scopes: &[&str]) -> ApiKeyInput {
    ApiKeyInput {
        name: "Production integration".into(),
        ..key_input(app_id, KeyMode::Live, Some(scopes))
    }
}

/// Creates a key of `key_input`'s shape, answering it with its plaintext.
pub async fn create_key(
    gatehouse: &Gatehouse,
    actor: &Actor,
    app_id: &AppId,
    mode: KeyMode,
    scopes: Option<&[&str]>,
) -> CreatedApiKey {
    gatehouse
        .create_api_key(actor, &key_input(app_id, mode, scopes))
        .await
        .unwrap()
}

/// The actor a presented key or token is.
pub async fn actor_for(gatehouse: &Gatehouse, plaintext: &str) -> Actor {
    gatehouse.api_key_actor(Some(plaintext)).await.unwrap()
}

/// A Pro tenant with its signed-in owner (`owner@acme.test`) and an app "Checkout".
pub async fn owner_with_app(gatehouse: &Gatehouse) -> (TenantId, Actor, AppId) {
    let (tenant_id, owner) =
        tenant_with_user(gatehouse, "owner@acme.test", Role::Owner, true).await;
    let app = app_named(gatehouse, &owner, "Checkout").await;
    (tenant_id, owner, app)
}
