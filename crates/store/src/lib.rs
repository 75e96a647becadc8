//! posbon's persistence behind one interface: an SQLite file (the embedded default) or a
//! PostgreSQL server, chosen by the URL given to [`Store::connect`]. Migrations for either run at
//! connect time.
//!
//! Every statement is a constant with bind parameters (`$1`, `$2`, ... on both backends); the
//! two backends share each statement where their SQL agrees and have their own where it does not.
//! Each method's body is compiled once per backend (see `with_pool!`), so there is no dynamic
//! dispatch over a lowest-common-denominator driver.
//!
//! Writes that must be serialised take the database's write lock up front: `BEGIN IMMEDIATE` on
//! SQLite, and on PostgreSQL `LOCK TABLE audit_log IN EXCLUSIVE MODE` for every transaction that
//! appends to the audit log. Changes to incidents, review verdicts and retention deletions write
//! their audit entry in the same transaction as the change, so neither exists without the other.
//!
//! See docs/design/004-store.md for the decisions behind this.
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;

use domain::{Clock, SystemClock};
use sqlx::{PgPool, SqlitePool};

/// Runs `$body` with `$pool` bound to the store's pool and `$pg` to whether it is PostgreSQL.
/// The body is compiled once per backend, so the same text serves both wherever the SQL and the
/// Rust types agree.
macro_rules! with_pool {
    ($store:expr, |$pool:ident, $pg:ident| $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite($pool) => {
                #[allow(unused_variables)]
                let $pg = false;
                $body
            }
            $crate::Db::Postgres($pool) => {
                #[allow(unused_variables)]
                let $pg = true;
                $body
            }
        }
    };
}

/// Runs `$body` in a write transaction bound to `$tx`, and commits it if the body did not return
/// early with an error (which rolls it back). SQLite: `BEGIN IMMEDIATE`, which takes the write
/// lock at once, so a read-then-write cannot fail on a lock upgrade. PostgreSQL with
/// `audit = true`: the transaction's first statement locks the audit log against other writers
/// (readers are not blocked), which serialises appends to the chain; taking it first everywhere
/// means two such transactions cannot deadlock over it.
macro_rules! write_tx {
    ($store:expr, audit = $audit:expr, |$tx:ident, $pg:ident| $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite(pool) => {
                let mut $tx = pool
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err($crate::error::db("begin a write transaction"))?;
                #[allow(unused_variables)]
                let $pg = false;
                let out = $body;
                $tx.commit()
                    .await
                    .map_err($crate::error::db("commit a write transaction"))?;
                out
            }
            $crate::Db::Postgres(pool) => {
                let mut $tx = pool
                    .begin()
                    .await
                    .map_err($crate::error::db("begin a write transaction"))?;
                if $audit {
                    sqlx::query("LOCK TABLE audit_log IN EXCLUSIVE MODE")
                        .execute(&mut *$tx)
                        .await
                        .map_err($crate::error::db("lock the audit log"))?;
                }
                #[allow(unused_variables)]
                let $pg = true;
                let out = $body;
                $tx.commit()
                    .await
                    .map_err($crate::error::db("commit a write transaction"))?;
                out
            }
        }
    };
}

mod access_requests;
mod accounts;
mod analysis;
mod attachments;
mod audit;
mod bank_keys;
mod cameras;
mod codec;
mod connect;
mod error;
mod events;
mod fraud;
mod geo;
mod geography;
mod incidents;
mod patrols;
mod reports;
mod retention;
mod roadmaps;
mod sessions;
mod users;

pub use analysis::IncidentFact;
pub use bank_keys::{BankKey, MAX_BANK_CHARS, MAX_BANK_KEY_RATE, NewBankKey};
pub use cameras::PrecisionCount;
pub use connect::Options;
pub use error::{Error, Result};
pub use fraud::{FraudModerated, FraudSubmitted, FraudSummary};
pub use geo::ImportCounts;
pub use geography::{MahallaImport, MahallaInRegion};
pub use incidents::StatusUpdate;
pub use patrols::{
    NewPatrolLog, NewPatrolPlan, NewPatrolVisit, PatrolLog, PatrolPlan, PatrolPlanHead, PatrolVisit,
};
pub use reports::{Moderated, ReportFilter, Submitted};
pub use roadmaps::{Measure, MeasureFields, MeasureStatusChange, NewRoadmap, Roadmap};
pub use sessions::Session;

/// Which database a [`Store`] is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

#[derive(Debug, Clone)]
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A connection pool to posbon's database. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Store {
    db: Db,
    clock: Arc<dyn Clock>,
    /// The URL with any password removed, for messages.
    url: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .field("url", &self.url)
            .finish()
    }
}

impl Store {
    /// Opens `url` (`sqlite:PATH`, created if missing, or `postgres://...`) and brings its schema
    /// up to date.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, Options::default()).await
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// The database's URL, without any password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits for the pool's connections to close. Writes already acknowledged are durable
    /// whether or not this is called.
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }

    /// The store's clock: the time it writes into records.
    pub fn now(&self) -> domain::Timestamp {
        self.clock.now()
    }
}

/// The store's clock, when none is given: the system's.
fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}
