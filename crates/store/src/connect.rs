//! Opening a database and bringing its schema up to date.
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use domain::Clock;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::{Error, Result, db};
use crate::{Db, Store};

/// The schema, embedded in the binary so that it needs no files beside it. A migration, once
/// released, is never edited: sqlx refuses a database whose applied migration's checksum differs.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "sessions",
        include_str!("../migrations/sqlite/0002_sessions.sql"),
    ),
    (
        3,
        "cameras",
        include_str!("../migrations/sqlite/0003_cameras.sql"),
    ),
    (
        4,
        "reports_and_access",
        include_str!("../migrations/sqlite/0004_reports_and_access.sql"),
    ),
    (
        5,
        "mahalla_names",
        include_str!("../migrations/sqlite/0005_mahalla_names.sql"),
    ),
    (
        6,
        "incident_attachments",
        include_str!("../migrations/sqlite/0006_incident_attachments.sql"),
    ),
    (
        7,
        "patrols_and_roadmaps",
        include_str!("../migrations/sqlite/0007_patrols_and_roadmaps.sql"),
    ),
    (
        8,
        "fraud_reports",
        include_str!("../migrations/sqlite/0008_fraud_reports.sql"),
    ),
    (
        9,
        "bank_keys",
        include_str!("../migrations/sqlite/0009_bank_keys.sql"),
    ),
    (
        10,
        "photo_redaction",
        include_str!("../migrations/sqlite/0010_photo_redaction.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "sessions",
        include_str!("../migrations/postgres/0002_sessions.sql"),
    ),
    (
        3,
        "cameras",
        include_str!("../migrations/postgres/0003_cameras.sql"),
    ),
    (
        4,
        "reports_and_access",
        include_str!("../migrations/postgres/0004_reports_and_access.sql"),
    ),
    (
        5,
        "mahalla_names",
        include_str!("../migrations/postgres/0005_mahalla_names.sql"),
    ),
    (
        6,
        "incident_attachments",
        include_str!("../migrations/postgres/0006_incident_attachments.sql"),
    ),
    (
        7,
        "patrols_and_roadmaps",
        include_str!("../migrations/postgres/0007_patrols_and_roadmaps.sql"),
    ),
    (
        8,
        "fraud_reports",
        include_str!("../migrations/postgres/0008_fraud_reports.sql"),
    ),
    (
        9,
        "bank_keys",
        include_str!("../migrations/postgres/0009_bank_keys.sql"),
    ),
    (
        10,
        "photo_redaction",
        include_str!("../migrations/postgres/0010_photo_redaction.sql"),
    ),
];

/// How to open a database.
#[derive(Clone)]
pub struct Options {
    /// Create an SQLite file that does not exist yet (PostgreSQL databases are never created).
    pub create_if_missing: bool,
    /// Apply pending migrations. Off for read-only tools such as `audit verify`, which then
    /// refuse a database without posbon's schema.
    pub migrate: bool,
    pub max_connections: u32,
    /// How long a write waits for SQLite's lock, or anyone for a pooled connection.
    pub busy_timeout: Duration,
    /// Where "now" comes from for every time the store stamps.
    pub clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            create_if_missing: true,
            migrate: true,
            max_connections: 8,
            busy_timeout: Duration::from_secs(30),
            clock: crate::system_clock(),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("create_if_missing", &self.create_if_missing)
            .field("migrate", &self.migrate)
            .field("max_connections", &self.max_connections)
            .field("busy_timeout", &self.busy_timeout)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// For tools that only read: the database must exist and have posbon's schema.
    pub fn existing() -> Options {
        Options {
            create_if_missing: false,
            migrate: false,
            ..Options::default()
        }
    }
}

impl Store {
    pub async fn connect_with(url: &str, opts: Options) -> Result<Store> {
        let shown = redact_url(url);
        let db = if url.starts_with("sqlite:") {
            Db::Sqlite(open_sqlite(url, &shown, &opts).await?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Db::Postgres(open_postgres(url, &shown, &opts).await?)
        } else {
            return Err(Error::UnsupportedUrl(shown));
        };
        let store = Store {
            db,
            clock: opts.clock.clone(),
            url: shown,
        };
        if opts.migrate {
            store.migrate().await?;
        } else {
            store.check_schema().await?;
        }
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let applied = match &self.db {
            Db::Sqlite(p) => migrator(SQLITE_MIGRATIONS).await?.run(p).await,
            Db::Postgres(p) => migrator(POSTGRES_MIGRATIONS).await?.run(p).await,
        };
        applied.map_err(|cause| Error::Migrate {
            url: self.url.clone(),
            cause,
        })?;
        tracing::debug!(backend = %self.backend(), url = %self.url, "schema is current");
        Ok(())
    }

    async fn check_schema(&self) -> Result<()> {
        let found: Result<Option<i64>> = with_pool!(self, |pool, _pg| {
            sqlx::query_scalar("SELECT seq FROM audit_log ORDER BY seq LIMIT 1")
                .fetch_optional(pool)
                .await
                .map_err(db("read the audit log"))
        });
        match found {
            Ok(_) => Ok(()),
            Err(Error::Db {
                cause: sqlx::Error::Database(_),
                ..
            }) => Err(Error::NoSchema {
                url: self.url.clone(),
            }),
            Err(e) => Err(e),
        }
    }
}

async fn open_sqlite(url: &str, shown: &str, opts: &Options) -> Result<sqlx::SqlitePool> {
    let connect_err = |cause| Error::Connect {
        url: shown.to_owned(),
        cause,
    };
    let options = SqliteConnectOptions::from_str(url)
        .map_err(connect_err)?
        .create_if_missing(opts.create_if_missing)
        // WAL lets readers work beside the one writer; FULL syncs the WAL at every commit, so a
        // commit that returned survives a kill -9 or a power cut.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(opts.busy_timeout);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool = if in_memory {
        // Each connection to :memory: is a database of its own: keep exactly one, forever.
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        SqlitePoolOptions::new().max_connections(opts.max_connections.max(1))
    };
    pool.acquire_timeout(opts.busy_timeout)
        .connect_with(options)
        .await
        .map_err(connect_err)
}

async fn open_postgres(url: &str, shown: &str, opts: &Options) -> Result<sqlx::PgPool> {
    let connect_err = |cause| Error::Connect {
        url: shown.to_owned(),
        cause,
    };
    let options = PgConnectOptions::from_str(url).map_err(connect_err)?;
    PgPoolOptions::new()
        .max_connections(opts.max_connections.max(1))
        .acquire_timeout(opts.busy_timeout)
        .connect_with(options)
        .await
        .map_err(connect_err)
}

async fn migrator(list: &'static [(i64, &'static str, &'static str)]) -> Result<Migrator> {
    Migrator::new(Embedded(list))
        .await
        .map_err(|cause| Error::Migrate {
            url: "(the migrations built into posbon)".into(),
            cause,
        })
}

/// Migrations compiled into the binary.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// `url` with the password, if any, replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://posbon:s3cret@db:5432/posbon"),
            "postgres://posbon:***@db:5432/posbon"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1:5432/x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(redact_url("sqlite:/tmp/a.db"), "sqlite:/tmp/a.db");
    }
}
