//! API keys of the banks that call the payee check. The store keeps the SHA-256 of each key
//! (hex), never the key; issuing and revoking are audited in the same transaction as the change
//! (`bank_key.create`, `bank_key.revoke`). See docs/design/021-payee-check.md.
use domain::{Actor, DomainError, Timestamp};
use serde_json::json;

use crate::Store;
use crate::audit::AuditConn;
use crate::codec::{DbTs, RowExt};
use crate::error::{Error, Result, db};

/// The most checks per second a key may be given.
pub const MAX_BANK_KEY_RATE: u32 = 100_000;
/// The longest bank name, in characters.
pub const MAX_BANK_CHARS: usize = 200;

/// A key as stored: who it is for, how fast it may be used, and whether it was revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankKey {
    pub id: i64,
    pub bank: String,
    /// The key's first characters, to tell keys apart on screen (not enough to use it).
    pub prefix: String,
    /// SHA-256 of the key, hex.
    pub key_hash: String,
    pub rate_per_second: u32,
    /// `user:ID` or `system:cli`.
    pub created_by: String,
    pub created_at: Timestamp,
    pub revoked_by: Option<String>,
    pub revoked_at: Option<Timestamp>,
}

impl BankKey {
    pub fn revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// A key to record: its hash and its display prefix, never the key itself.
#[derive(Debug, Clone)]
pub struct NewBankKey {
    pub bank: String,
    pub prefix: String,
    /// SHA-256 of the key, hex (64 characters).
    pub key_hash: String,
    pub rate_per_second: u32,
}

impl NewBankKey {
    /// The bank's name (trimmed) is 1 to 200 characters with no control characters; the rate
    /// 1 to [`MAX_BANK_KEY_RATE`]; the hash 64 hex digits.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &'static str, reason: String| {
            Err(Error::Invalid(DomainError::Invalid { what, reason }))
        };
        let n = self.bank.chars().count();
        if self.bank.trim() != self.bank || n == 0 || n > MAX_BANK_CHARS {
            return bad(
                "bank name",
                format!(
                    "give 1 to {MAX_BANK_CHARS} characters without leading or trailing spaces (got {n})"
                ),
            );
        }
        if self.bank.chars().any(char::is_control) {
            return bad("bank name", "control characters are not allowed".into());
        }
        if !(1..=MAX_BANK_KEY_RATE).contains(&self.rate_per_second) {
            return bad(
                "rate_per_second",
                format!(
                    "{} is not from 1 to {MAX_BANK_KEY_RATE}",
                    self.rate_per_second
                ),
            );
        }
        if self.key_hash.len() != 64 || !self.key_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return bad("key hash", "is not 64 hex digits".into());
        }
        if self.prefix.is_empty() || self.prefix.len() > 16 {
            return bad("key prefix", "is not 1 to 16 characters".into());
        }
        Ok(())
    }
}

/// `SELECT <every bank key column> FROM bank_keys <rest>`, as one literal.
macro_rules! select_keys {
    ($rest:literal) => {
        concat!(
            "SELECT id, bank, key_prefix, key_hash, rate_per_second, created_by, created_at, ",
            "revoked_by, revoked_at FROM bank_keys ",
            $rest
        )
    };
}

fn key_from_row(r: &impl RowExt) -> Result<BankKey> {
    let rate = r.i64("rate_per_second")?;
    Ok(BankKey {
        id: r.i64("id")?,
        bank: r.text("bank")?,
        prefix: r.text("key_prefix")?,
        key_hash: r.text("key_hash")?,
        rate_per_second: u32::try_from(rate).map_err(|_| Error::Corrupt {
            what: "bank key rate",
            reason: format!("{rate} is out of range"),
        })?,
        created_by: r.text("created_by")?,
        created_at: r.ts("created_at")?,
        revoked_by: r.opt_text("revoked_by")?,
        revoked_at: r.opt_ts("revoked_at")?,
    })
}

impl Store {
    /// Records a new key for a bank and audits it (`bank_key.create`, with the bank, the prefix
    /// and the rate; never the key or its hash).
    pub async fn create_bank_key(&self, k: &NewBankKey, actor: &Actor) -> Result<BankKey> {
        k.validate()?;
        let now = self.now();
        let actor = actor.to_string();
        let id: i64 = write_tx!(self, audit = true, |tx, _pg| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO bank_keys (bank, key_prefix, key_hash, rate_per_second, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(&k.bank)
            .bind(&k.prefix)
            .bind(&k.key_hash)
            .bind(i64::from(k.rate_per_second))
            .bind(&actor)
            .bind(DbTs(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(db("record the bank key"))?;
            tx.append_audit(
                now,
                &actor,
                "bank_key.create",
                &format!("bank_key:{id}"),
                &json!({ "bank": k.bank, "prefix": k.prefix, "rate_per_second": k.rate_per_second }),
            )
            .await?;
            id
        });
        Ok(BankKey {
            id,
            bank: k.bank.clone(),
            prefix: k.prefix.clone(),
            key_hash: k.key_hash.clone(),
            rate_per_second: k.rate_per_second,
            created_by: actor,
            created_at: now,
            revoked_by: None,
            revoked_at: None,
        })
    }

    /// Every key, revoked ones included, by id.
    pub async fn list_bank_keys(&self) -> Result<Vec<BankKey>> {
        with_pool!(self, |pool, _pg| {
            let rows = sqlx::query(select_keys!("ORDER BY id"))
                .fetch_all(pool)
                .await
                .map_err(db("list the bank keys"))?;
            rows.iter().map(key_from_row).collect()
        })
    }

    /// The keys that may be used (not revoked), by id.
    pub async fn active_bank_keys(&self) -> Result<Vec<BankKey>> {
        with_pool!(self, |pool, _pg| {
            let rows = sqlx::query(select_keys!("WHERE revoked_at IS NULL ORDER BY id"))
                .fetch_all(pool)
                .await
                .map_err(db("read the active bank keys"))?;
            rows.iter().map(key_from_row).collect()
        })
    }

    /// Revokes key `id` and audits it (`bank_key.revoke`). NotFound for an unknown id, Conflict
    /// for a key already revoked (nothing is written then).
    pub async fn revoke_bank_key(&self, id: i64, actor: &Actor) -> Result<BankKey> {
        let now = self.now();
        let actor = actor.to_string();
        write_tx!(self, audit = true, |tx, _pg| {
            let row = sqlx::query(select_keys!("WHERE id = $1"))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("read the bank key"))?
                .ok_or(Error::NotFound {
                    what: "bank key",
                    id,
                })?;
            let mut key = key_from_row(&row)?;
            if let Some(at) = key.revoked_at {
                return Err(Error::Conflict {
                    op: "revoke the bank key",
                    message: format!("bank key {id} was already revoked at {at}"),
                });
            }
            sqlx::query("UPDATE bank_keys SET revoked_by = $1, revoked_at = $2 WHERE id = $3")
                .bind(&actor)
                .bind(DbTs(now))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db("revoke the bank key"))?;
            tx.append_audit(
                now,
                &actor,
                "bank_key.revoke",
                &format!("bank_key:{id}"),
                &json!({ "bank": key.bank, "prefix": key.prefix }),
            )
            .await?;
            key.revoked_by = Some(actor.clone());
            key.revoked_at = Some(now);
            Ok(key)
        })
    }
}
