//! A fresh database per test, on either backend, and raw access to it for tampering.
//!
//! SQLite: a file in a temporary directory. PostgreSQL: a uniquely named database on the server
//! at `$POSBON_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432`, trust auth), created
//! for the test and dropped after it, even when the test fails. An unreachable server fails the
//! test: CI starts one (scripts/start-services.sh), and a skipped test would hide a broken store.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use domain::{ManualClock, Timestamp};
use sqlx::{Connection, PgConnection, SqliteConnection};
use store::{Backend, Options, Store};

pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";

/// 2024-05-01T09:30:00Z: the tests' "now" until they move it.
pub const T0: Timestamp = match Timestamp::from_unix_micros(1_714_555_800_000_000) {
    Some(t) => t,
    None => panic!(),
};

pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub backend: Backend,
    pub clock: Arc<ManualClock>,
    // Dropped after `store`: first the pool, then its database.
    _dir: Option<tempfile::TempDir>,
    _pg: Option<DropDatabase>,
}

fn postgres_base() -> String {
    std::env::var("POSBON_TEST_POSTGRES")
        .unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// The maintenance database, from which test databases are created and dropped.
pub fn postgres_admin_url() -> String {
    format!("{}/postgres", postgres_base())
}

/// A database name no other test, run or process uses: `posbon_test_<pid>_<n>_<nanos>`.
fn unique_name() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!(
        "posbon_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        nanos
    );
    // CREATE/DROP DATABASE take an identifier, which cannot be a bind parameter: the name is
    // spliced into the statement, so it must be made only of characters that need no quoting.
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    );
    name
}

async fn admin_connection() -> PgConnection {
    let admin = postgres_admin_url();
    match PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => panic!(
            "PostgreSQL is not reachable at {admin}: {e}\n\
             The store's tests run against PostgreSQL as well as SQLite and do not skip it.\n\
             Start it with `scripts/start-services.sh` (CI's .ci/run does), or point \
             POSBON_TEST_POSTGRES at another server (postgres://USER@HOST:PORT, trust auth)."
        ),
    }
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite:{}", dir.path().join("posbon.db").display());
        let clock = Arc::new(ManualClock::new(T0));
        let store = open(&url, &clock).await;
        TestDb {
            store,
            url,
            backend: Backend::Sqlite,
            clock,
            _dir: Some(dir),
            _pg: None,
        }
    }

    pub async fn postgres() -> TestDb {
        let name = unique_name();
        let mut admin = admin_connection().await;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        admin.close().await.ok();
        // From here on the database is dropped whatever happens, a failed open included.
        let guard = DropDatabase(name.clone());
        let url = format!("{}/{name}", postgres_base());
        let clock = Arc::new(ManualClock::new(T0));
        let store = open(&url, &clock).await;
        TestDb {
            store,
            url,
            backend: Backend::Postgres,
            clock,
            _dir: None,
            _pg: Some(guard),
        }
    }

    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await,
        }
    }

    /// Another pool on the same database and clock, as a restarted server would open it.
    pub async fn reopen(&self) -> Store {
        open(&self.url, &self.clock).await
    }

    /// Runs SQL directly on the database, past the store, as someone with database access would.
    pub async fn raw(&self, sql: &str) -> Result<(), sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                let mut c = SqliteConnection::connect(&self.url).await?;
                sqlx::raw_sql(sql).execute(&mut c).await?;
                c.close().await
            }
            Backend::Postgres => {
                let mut c = PgConnection::connect(&self.url).await?;
                sqlx::raw_sql(sql).execute(&mut c).await?;
                c.close().await
            }
        }
    }

    /// Like [`TestDb::raw`], for one statement with one id bound as `$1`.
    pub async fn raw_with_id(&self, sql: &str, id: i64) -> Result<(), sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                let mut c = SqliteConnection::connect(&self.url).await?;
                sqlx::query(sql).bind(id).execute(&mut c).await?;
                c.close().await
            }
            Backend::Postgres => {
                let mut c = PgConnection::connect(&self.url).await?;
                sqlx::query(sql).bind(id).execute(&mut c).await?;
                c.close().await
            }
        }
    }

    /// A single integer from a query run directly on the database.
    pub async fn raw_i64(&self, sql: &str) -> i64 {
        match self.backend {
            Backend::Sqlite => {
                let mut c = SqliteConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
            }
            Backend::Postgres => {
                let mut c = PgConnection::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
            }
        }
    }

    /// Removes the triggers that make the audit log append-only, as an attacker with DDL rights
    /// would before tampering with it.
    pub async fn drop_audit_guards(&self) {
        let sql = match self.backend {
            Backend::Sqlite => {
                "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
            }
            Backend::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER USER",
        };
        self.raw(sql).await.expect("drop the audit log's guards");
    }
}

async fn open(url: &str, clock: &Arc<ManualClock>) -> Store {
    let opts = Options {
        clock: clock.clone(),
        ..Options::default()
    };
    Store::connect_with(url, opts)
        .await
        .unwrap_or_else(|e| panic!("cannot open {url}: {e}"))
}

/// Drops a test's PostgreSQL database when the test ends, passed or failed.
struct DropDatabase(String);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.0);
        // Drop runs inside the test's runtime, which cannot be blocked on: drop the database
        // from a thread with a runtime of its own. WITH (FORCE) ends the pool's connections.
        let result = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let mut admin = PgConnection::connect(&postgres_admin_url()).await?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if let Ok(Err(e)) = result {
            eprintln!("warning: could not drop a test database: {e}");
        }
    }
}

/// Declares each listed `async fn NAME(db: &TestDb)` as two tests, `sqlite::NAME` and
/// `postgres::NAME`, each on a fresh database.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::TestDb::postgres().await;
                    super::$name(&db).await;
                }
            )*
        }
    };
}
