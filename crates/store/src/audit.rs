//! The audit log: appending to the hash chain, and walking it.
use domain::audit::{ChainVerifier, canonical_json};
use domain::{
    AuditEntry, AuditRecord, BreakReason, ChainBreak, ChainHead, ChainSummary, Hash, Timestamp,
};
use serde_json::Value;
use sqlx::{PgConnection, SqliteConnection};

use crate::Store;
use crate::codec::{DbTs, RowExt};
use crate::error::{Error, Result, db};

/// Rows read per query while walking the chain.
const VERIFY_PAGE: i64 = 1_000;

/// `SELECT <every audit column> FROM audit_log <rest>`, as one literal.
macro_rules! select_audit {
    ($rest:literal) => {
        concat!(
            "SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit_log ",
            $rest
        )
    };
}

/// Appending inside a transaction the caller holds. It must be a write transaction opened with
/// `write_tx!(.., audit = true, ..)`, which holds the lock that makes "read the last row, insert
/// the next" safe against concurrent appends.
pub(crate) trait AuditConn {
    async fn append_audit(
        &mut self,
        at: Timestamp,
        actor: &str,
        action: &str,
        target: &str,
        details: &Value,
    ) -> Result<AuditRecord>;
}

macro_rules! impl_audit_conn {
    ($conn:ty) => {
        impl AuditConn for $conn {
            async fn append_audit(
                &mut self,
                at: Timestamp,
                actor: &str,
                action: &str,
                target: &str,
                details: &Value,
            ) -> Result<AuditRecord> {
                let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *self)
                    .await
                    .map_err(db("read the audit log's last row"))?;
                let (seq, prev_hash) = match last {
                    None => (1, Hash::GENESIS),
                    Some(row) => {
                        let prev: Hash = row.text("hash")?.parse().map_err(|e| Error::Corrupt {
                            what: "audit log's last hash",
                            reason: format!("{e}; run `posbon audit verify`"),
                        })?;
                        (row.i64("seq")? + 1, prev)
                    }
                };
                let entry = AuditEntry {
                    seq,
                    at,
                    actor: actor.to_owned(),
                    action: action.to_owned(),
                    target: target.to_owned(),
                    details: details.clone(),
                };
                entry.validate()?;
                let rec = AuditRecord::seal(entry, prev_hash);
                sqlx::query(
                    "INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(rec.entry.seq)
                .bind(DbTs(rec.entry.at))
                .bind(&rec.entry.actor)
                .bind(&rec.entry.action)
                .bind(&rec.entry.target)
                .bind(canonical_json(&rec.entry.details))
                .bind(rec.prev_hash.to_string())
                .bind(rec.hash.to_string())
                .execute(&mut *self)
                .await
                .map_err(db("append to the audit log"))?;
                Ok(rec)
            }
        }
    };
}

impl_audit_conn!(SqliteConnection);
impl_audit_conn!(PgConnection);

impl Store {
    /// Appends one entry to the audit log: who (`actor`, e.g. `user:12`) did what (`action`, e.g.
    /// `evidence.view`) to what (`target`, e.g. `event:5`), with `details` (a JSON object). The
    /// entry is chained to the last one in a transaction that excludes every other appender, so
    /// concurrent appends from any number of tasks or processes form one valid chain.
    pub async fn audit_append(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        details: &Value,
    ) -> Result<AuditRecord> {
        let at = self.now();
        Ok(write_tx!(self, audit = true, |tx, _pg| {
            tx.append_audit(at, actor, action, target, details).await?
        }))
    }

    /// Walks the whole chain in seq order and checks every row (see [`domain::audit`]): `Ok` with
    /// its length and head, or [`Error::ChainBroken`] naming the first row at which it does not
    /// hold. With an `anchor` (a head recorded earlier, outside the database), rows removed from
    /// the end and a chain rewritten whole are caught too.
    pub async fn audit_verify(&self, anchor: Option<ChainHead>) -> Result<ChainSummary> {
        let mut verifier = ChainVerifier::new(anchor);
        let mut after = i64::MIN;
        loop {
            let page: Vec<std::result::Result<AuditRecord, ChainBreak>> =
                with_pool!(self, |pool, _pg| {
                    sqlx::query(select_audit!("WHERE seq > $1 ORDER BY seq LIMIT $2"))
                        .bind(after)
                        .bind(VERIFY_PAGE)
                        .fetch_all(pool)
                        .await
                        .map_err(db("read the audit log"))?
                        .iter()
                        .map(record_for_verify)
                        .collect::<Result<_>>()?
                });
            let Some(last) = page.last() else { break };
            after = match last {
                Ok(r) => r.entry.seq,
                Err(b) => b.seq,
            };
            for r in page {
                verifier.push(&r?)?;
            }
        }
        Ok(verifier.finish()?)
    }

    /// The last row's seq and hash: worth recording outside the database, to check the chain
    /// against later. `None` while the log is empty.
    pub async fn audit_head(&self) -> Result<Option<ChainHead>> {
        with_pool!(self, |pool, _pg| {
            let row = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(pool)
                .await
                .map_err(db("read the audit log"))?;
            row.map(|r| {
                Ok(ChainHead {
                    seq: r.i64("seq")?,
                    hash: r
                        .text("hash")?
                        .parse()
                        .map_err(crate::error::corrupt("audit hash"))?,
                })
            })
            .transpose()
        })
    }

    /// Up to `limit` entries with seq greater than `after` (all from the start with `None`), in
    /// seq order: for showing the log. Does not check the chain; [`Store::audit_verify`] does.
    pub async fn audit_entries(&self, after: Option<i64>, limit: u32) -> Result<Vec<AuditRecord>> {
        with_pool!(self, |pool, _pg| {
            sqlx::query(select_audit!("WHERE seq > $1 ORDER BY seq LIMIT $2"))
                .bind(after.unwrap_or(i64::MIN))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(db("read the audit log"))?
                .iter()
                .map(|r| match record_for_verify(r)? {
                    Ok(rec) => Ok(rec),
                    Err(b) => Err(Error::Corrupt {
                        what: "audit row",
                        reason: b.to_string(),
                    }),
                })
                .collect()
        })
    }
}

/// Reads a row for the verifier. A column that cannot be read as what the chain wrote (someone
/// put text where a time or a hash belongs, or broke the details' JSON) is a break at that row,
/// not a failure of the walk. Only an unreadable seq is an error: there is no row to name.
fn record_for_verify(r: &impl RowExt) -> Result<std::result::Result<AuditRecord, ChainBreak>> {
    let seq = r.i64("seq")?;
    let unreadable = |what: &str, e: &dyn std::fmt::Display| ChainBreak {
        seq,
        reason: BreakReason::Unreadable(format!("{what}: {e}")),
    };
    macro_rules! read {
        ($what:literal, $e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => return Ok(Err(unreadable($what, &e))),
            }
        };
    }
    let at = read!("at", r.ts("at"));
    let actor = read!("actor", r.text("actor"));
    let action = read!("action", r.text("action"));
    let target = read!("target", r.text("target"));
    let details_text = read!("details", r.text("details"));
    let details: Value = read!("details", serde_json::from_str(&details_text));
    let prev_hash: Hash = read!(
        "prev_hash",
        r.text("prev_hash")
            .and_then(|h| { h.parse().map_err(crate::error::corrupt("prev_hash")) })
    );
    let hash: Hash = read!(
        "hash",
        r.text("hash")
            .and_then(|h| { h.parse().map_err(crate::error::corrupt("hash")) })
    );
    Ok(Ok(AuditRecord {
        entry: AuditEntry {
            seq,
            at,
            actor,
            action,
            target,
            details,
        },
        prev_hash,
        hash,
    }))
}
