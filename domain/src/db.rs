//! The database handle: one pool over SQLite (embedded, the default) or PostgreSQL,
//! chosen by the URL, with each engine's own embedded migrations.
//!
//! Queries are written once, in the SQL both engines accept (`$1` placeholders,
//! BIGINT milliseconds for time, TEXT for ids and JSON).
//!
//! Writes go through [`Db::writer`]. On SQLite that is one connection of its own, so
//! writers queue in this process (in order, without sleeping) instead of meeting at
//! SQLite's file lock, whose busy handler sleeps 1, 2, 5, 10… ms between tries: under
//! load most of a write's time went in those sleeps. Reads use the other connections,
//! which WAL lets read beside the writer (in debug builds they refuse to write, so a
//! write sent to them fails in the tests). On PostgreSQL both are the one pool.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::error::DomainError;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn from_url(url: &str) -> Result<Self, DomainError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(DomainError::Internal(
                "the database URL must start with sqlite: or postgres://".to_owned(),
            ))
        }
    }

    /// The engine a connection of the pool talks to.
    pub(crate) fn of(connection: &sqlx::AnyConnection) -> Self {
        if connection.backend_name().eq_ignore_ascii_case("sqlite") {
            Self::Sqlite
        } else {
            Self::Postgres
        }
    }
}

/// How to open the pool.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    /// PostgreSQL only: a schema to work in (tests use one fresh schema each).
    pub postgres_schema: Option<String>,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            postgres_schema: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    /// Reads (on PostgreSQL, everything).
    pool: AnyPool,
    /// Writes: on SQLite a pool of one connection, on PostgreSQL `pool` itself.
    writer: AnyPool,
    engine: Engine,
    url: SecretUrl,
    /// How it was opened, to open it again (tests of several instances).
    #[cfg(feature = "test-support")]
    options: DbOptions,
}

/// The connection URL, kept for connections outside the pool (PostgreSQL's LISTEN);
/// it may hold a password, so it never prints.
#[derive(Clone)]
struct SecretUrl(std::sync::Arc<str>);

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("<redacted>")
    }
}

impl Db {
    /// Opens the database; a SQLite file (and its folder) is created if missing,
    /// and switched to WAL mode.
    pub async fn connect(url: &str, options: DbOptions) -> Result<Self, DomainError> {
        install_default_drivers();
        let engine = Engine::from_url(url)?;
        let mut connect_url = url.to_owned();
        if engine == Engine::Sqlite {
            ensure_sqlite_folder(url)?;
            if !url.contains("mode=") && !url.contains(":memory:") {
                connect_url.push_str(if url.contains('?') {
                    "&mode=rwc"
                } else {
                    "?mode=rwc"
                });
            }
        }
        #[cfg(feature = "test-support")]
        let reopen_options = options.clone();
        let schema = options.postgres_schema.clone();
        let schema_is_safe = |name: &String| {
            name.bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
        };
        if schema.as_ref().is_some_and(|name| !schema_is_safe(name)) {
            return Err(DomainError::Internal("invalid schema name".to_owned()));
        }
        let connect = |max_connections: u32, role: ConnectionRole| {
            let schema = schema.clone();
            AnyPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(5))
                .after_connect(move |connection, _meta| {
                    let schema = schema.clone();
                    Box::pin(async move {
                        match engine {
                            Engine::Sqlite => {
                                connection.execute("PRAGMA synchronous = NORMAL").await?;
                                if role == ConnectionRole::Reader && cfg!(debug_assertions) {
                                    connection.execute("PRAGMA query_only = ON").await?;
                                }
                            }
                            Engine::Postgres => {
                                if let Some(schema) = schema {
                                    connection
                                        .execute(format!("SET search_path TO {schema}").as_str())
                                        .await?;
                                }
                            }
                        }
                        Ok(())
                    })
                })
        };
        let (pool, writer) = match engine {
            Engine::Postgres => {
                let pool = connect(options.max_connections, ConnectionRole::Writer)
                    .connect(&connect_url)
                    .await?;
                (pool.clone(), pool)
            }
            // An in-memory database is one per connection: one connection does all.
            Engine::Sqlite if sqlite_file(url).is_none() => {
                let pool = connect(1, ConnectionRole::Writer)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect(&connect_url)
                    .await?;
                (pool.clone(), pool)
            }
            Engine::Sqlite => {
                // The writer first: it creates the file and turns WAL on before any
                // reader opens it.
                let writer = connect(1, ConnectionRole::Writer)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect(&connect_url)
                    .await?;
                sqlx::query("PRAGMA journal_mode = WAL")
                    .execute(&writer)
                    .await?;
                let readers = connect(options.max_connections, ConnectionRole::Reader)
                    .connect(&connect_url)
                    .await?;
                (readers, writer)
            }
        };
        Ok(Self {
            pool,
            writer,
            engine,
            url: SecretUrl(url.into()),
            #[cfg(feature = "test-support")]
            options: reopen_options,
        })
    }

    /// The same database through a pool of its own, as another instance of the
    /// server opens it (tests of several instances).
    #[cfg(feature = "test-support")]
    pub async fn reopen_for_tests(&self) -> Result<Self, DomainError> {
        Self::connect(self.url(), self.options.clone()).await
    }

    /// The URL the database was opened with (secret: may hold a password).
    pub fn url(&self) -> &str {
        &self.url.0
    }

    /// Applies the engine's pending migrations.
    pub async fn migrate(&self) -> Result<(), DomainError> {
        let migrator = match self.engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.writer).await?;
        Ok(())
    }

    /// The pool for reads: only the domain writes SQL, so it is not public.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool for writes (and for transactions, which may write): on SQLite its one
    /// connection, taken in turn.
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// The pool, for tests that inspect or damage the database on purpose (feature
    /// `test-support`, enabled by the test suites only; release builds lack it).
    #[cfg(feature = "test-support")]
    pub fn pool_for_tests(&self) -> &AnyPool {
        &self.writer
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// SQLite's journal mode (`wal` once connected), or `None` on PostgreSQL.
    pub async fn sqlite_journal_mode(&self) -> Result<Option<String>, DomainError> {
        if self.engine != Engine::Sqlite {
            return Ok(None);
        }
        let row: (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(row.0))
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// Makes PostgreSQL look rows up by their ids for the rest of `transaction`: the
/// delivery path's statements name their rows by id, and during a burst (a table grown
/// by thousands of rows since its statistics were taken) the planner took the table for
/// small and read all of it, or every row of an endpoint, 8 to 25 ms a statement,
/// instead of a primary-key look-up per id. Nothing on SQLite.
pub(crate) async fn look_up_by_id(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<(), DomainError> {
    if Engine::of(transaction) == Engine::Postgres {
        // With sequential scans priced out, a plan's cost crosses `jit_above_cost`, and
        // compiling it took 170 ms: no JIT for these short statements either.
        sqlx::query(
            "SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)",
        )
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

/// What a connection of the pool is for (see the module's note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnectionRole {
    Reader,
    Writer,
}

/// A statement's placeholders, written in the order they appear and bound in that same
/// order: `?` on SQLite, `$1`, `$2`, … on PostgreSQL. For the statements whose number of
/// values grows with a batch: sqlx binds SQLite's `$n` by its name, which SQLite finds by
/// walking the statement's list of names, so binding a statement costs the square of its
/// values (at 140 values, a twentieth of the server's CPU under load); `?` is bound by
/// position.
pub(crate) struct Placeholders {
    engine: Engine,
    written: usize,
}

impl Placeholders {
    pub fn new(engine: Engine) -> Self {
        Self { engine, written: 0 }
    }

    /// The next placeholder.
    pub fn next(&mut self) -> String {
        self.written += 1;
        match self.engine {
            Engine::Sqlite => "?".to_owned(),
            Engine::Postgres => format!("${}", self.written),
        }
    }

    /// `count` placeholders, comma separated, as `IN (…)` takes them.
    pub fn list(&mut self, count: usize) -> String {
        let mut out = String::with_capacity(count * 5);
        for index in 0..count {
            if index > 0 {
                out.push_str(", ");
            }
            out.push_str(&self.next());
        }
        out
    }

    /// `rows` parenthesised lists of `columns` placeholders each, comma separated, as a
    /// multi-row `VALUES` takes them.
    pub fn rows(&mut self, rows: usize, columns: usize) -> String {
        let mut out = String::with_capacity(rows * columns * 5);
        for row in 0..rows {
            out.push_str(if row == 0 { "(" } else { ", (" });
            out.push_str(&self.list(columns));
            out.push(')');
        }
        out
    }
}

/// The file a `sqlite:` URL names (`sqlite://data/gatehouse.db?mode=rwc` →
/// `data/gatehouse.db`); `None` for an in-memory database.
pub fn sqlite_file(url: &str) -> Option<&Path> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| Path::new(path))
}

/// The folder of a `sqlite:` URL's file (`.` for a bare file name or no file): where
/// Gatehouse keeps what lives beside the database.
pub fn sqlite_folder(url: &str) -> PathBuf {
    sqlite_file(url)
        .and_then(Path::parent)
        .filter(|parent| !parent.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Creates the folder of a `sqlite:` file URL so that the first start just works.
fn ensure_sqlite_folder(url: &str) -> Result<(), DomainError> {
    if sqlite_file(url).is_none() {
        return Ok(());
    }
    let folder = sqlite_folder(url);
    std::fs::create_dir_all(&folder).map_err(|error| {
        DomainError::Internal(format!("cannot create {}: {error}", folder.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::{Engine, PathBuf, Placeholders, sqlite_file, sqlite_folder};

    #[test]
    fn the_sqlite_folder_is_the_file_s_folder() {
        assert_eq!(
            sqlite_folder("sqlite://data/gatehouse.db"),
            PathBuf::from("data")
        );
        assert_eq!(
            sqlite_folder("sqlite:///tmp/x/g.db?mode=rwc"),
            PathBuf::from("/tmp/x")
        );
        assert_eq!(sqlite_folder("sqlite://g.db"), PathBuf::from("."));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }

    #[test]
    fn placeholders_number_in_order_on_postgres_and_are_positional_on_sqlite() {
        let mut postgres = Placeholders::new(Engine::Postgres);
        assert_eq!(postgres.next(), "$1");
        assert_eq!(postgres.rows(2, 3), "($2, $3, $4), ($5, $6, $7)");
        assert_eq!(postgres.next(), "$8");
        assert_eq!(postgres.list(2), "$9, $10");
        let mut sqlite = Placeholders::new(Engine::Sqlite);
        assert_eq!(sqlite.rows(2, 2), "(?, ?), (?, ?)");
        assert_eq!(sqlite.list(3), "?, ?, ?");
        assert_eq!(sqlite.next(), "?");
    }

    /// Both engines' migrations move in step: the same files, in the same order.
    #[test]
    fn both_engines_have_the_same_migration_files() {
        let names = |engine: &str| {
            let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(engine);
            let mut names: Vec<String> = std::fs::read_dir(folder)
                .unwrap()
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let sqlite = names("sqlite");
        assert!(sqlite.len() >= 4, "{sqlite:?}");
        assert_eq!(sqlite, names("postgres"));
    }
}
