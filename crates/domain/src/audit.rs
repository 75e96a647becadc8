//! The audit log: an append-only chain of entries in which each row's hash covers the row before
//! it, so that altering, deleting, inserting or reordering rows in the database is detected by
//! walking the chain.
//!
//! Row `n` stores `prev_hash` (row `n-1`'s hash; 32 zero bytes for row 1) and
//! `hash = SHA-256(prev_hash || canonical(entry))`, where `canonical(entry)` is the UTF-8 JSON
//! object `{"action","actor","at","details","seq","target"}` written with object keys sorted by
//! their bytes at every level, no whitespace, strings escaped as `serde_json` escapes them, and
//! `at` in the fixed-width form `YYYY-MM-DDTHH:MM:SS.ffffffZ`. `seq` counts from 1 with no gaps.
//! Anyone can recompute the chain from an export with these few lines (see the known-answer test
//! below); docs/design/004-store.md says more.
//!
//! What the chain does not prove on its own: that rows were not removed from its end, or that the
//! whole chain was not rewritten by someone able to recompute every hash. Both are caught by
//! checking the chain against a [`ChainHead`] recorded outside the database.
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::time::Timestamp;
use crate::{DomainError, check_text};

/// A SHA-256 digest, shown as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The `prev_hash` of the first row.
    pub const GENESIS: Hash = Hash([0; 32]);
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl FromStr for Hash {
    type Err = DomainError;
    /// Exactly 64 lowercase hex digits, the only form the chain writes.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DomainError::invalid("hash", format!("{s:?} is not 64 lowercase hex digits"));
        if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| bad())?;
        Ok(Hash(out))
    }
}

impl Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One thing that happened: who (`actor`, e.g. `user:12`) did what (`action`, e.g.
/// `evidence.view`) to what (`target`, e.g. `event:5`), with details as a JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: Value,
}

/// Bounds one entry's details; they describe an action, they do not carry evidence.
pub const MAX_DETAILS_BYTES: usize = 64 << 10;

impl AuditEntry {
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.seq < 1 {
            return Err(DomainError::invalid(
                "audit entry",
                format!("seq {} is not positive", self.seq),
            ));
        }
        check_text("audit actor", &self.actor, 256, false)?;
        check_text("audit action", &self.action, 256, false)?;
        check_text("audit target", &self.target, 256, true)?;
        if !self.details.is_object() {
            return Err(DomainError::invalid(
                "audit details",
                "are not a JSON object",
            ));
        }
        let n = canonical_json(&self.details).len();
        if n > MAX_DETAILS_BYTES {
            return Err(DomainError::invalid(
                "audit details",
                format!("are {n} bytes; at most {MAX_DETAILS_BYTES} are allowed"),
            ));
        }
        Ok(())
    }

    /// The bytes that are hashed (see the module's documentation).
    pub fn canonical(&self) -> String {
        let mut m = serde_json::Map::new();
        m.insert("action".into(), Value::from(self.action.as_str()));
        m.insert("actor".into(), Value::from(self.actor.as_str()));
        m.insert("at".into(), Value::from(self.at.to_string()));
        m.insert("details".into(), self.details.clone());
        m.insert("seq".into(), Value::from(self.seq));
        m.insert("target".into(), Value::from(self.target.as_str()));
        canonical_json(&Value::Object(m))
    }

    /// `SHA-256(prev || canonical(self))`.
    pub fn hash(&self, prev: &Hash) -> Hash {
        let mut h = Sha256::new();
        h.update(prev.0);
        h.update(self.canonical().as_bytes());
        Hash(h.finalize().into())
    }
}

/// JSON with object keys sorted by their bytes at every level and no whitespace. It does not
/// depend on the order keys were inserted in, nor on whether `serde_json`'s `preserve_order`
/// feature is on somewhere in the build.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(k.as_str()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// An entry as stored, with its link to the row before and its own hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    #[serde(flatten)]
    pub entry: AuditEntry,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl AuditRecord {
    /// Chains `entry` after a row whose hash is `prev_hash`.
    pub fn seal(entry: AuditEntry, prev_hash: Hash) -> AuditRecord {
        let hash = entry.hash(&prev_hash);
        AuditRecord {
            entry,
            prev_hash,
            hash,
        }
    }
}

/// The last row of a chain: worth recording outside the database (printed by
/// `posbon audit verify`), because checking against it later also catches rows removed from the
/// end and a chain rewritten whole. Written `SEQ:HASH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: Hash,
}

impl fmt::Display for ChainHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl FromStr for ChainHead {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DomainError::invalid("chain head", format!("{s:?} is not SEQ:HASH"));
        let (seq, hash) = s.split_once(':').ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        if seq < 1 {
            return Err(bad());
        }
        Ok(ChainHead {
            seq,
            hash: hash.parse()?,
        })
    }
}

/// What a successful walk saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainSummary {
    pub count: u64,
    /// The last row; `None` for an empty log.
    pub head: Option<ChainHead>,
}

/// The first row at which the chain does not hold, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at seq {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: BreakReason,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BreakReason {
    /// A column of the row could not be read as what the chain stores (malformed time, hash or
    /// details): the row was edited outside posbon.
    #[error("the row cannot be read ({0}); it was edited outside posbon")]
    Unreadable(String),
    /// The row's seq is not the one after the previous row's.
    #[error(
        "expected seq {expected} here; {}",
        if *.expected == 1 { "the chain must start at 1: its first rows were deleted or renumbered" }
        else { "rows were deleted, inserted or renumbered" }
    )]
    SeqGap { expected: i64 },
    /// The row's hash is not the hash of its content: the row was altered, or moved to another
    /// seq (seq is part of what is hashed).
    #[error("the row's content does not match its hash: it was altered or moved")]
    ContentMismatch,
    /// The row's `prev_hash` is not the previous row's hash: a row before it was removed,
    /// inserted, moved, or altered and re-hashed.
    #[error(
        "its prev_hash does not match the hash of the row before it: that row was altered and \
         re-hashed, or rows were inserted, deleted or moved"
    )]
    LinkMismatch,
    /// The row named by the anchor has another hash: the chain was rewritten up to there.
    #[error(
        "the anchor {expected} does not match this row (hash {found}): the chain was rewritten"
    )]
    AnchorMismatch { expected: ChainHead, found: Hash },
    /// The chain ends before the anchor's row: rows were removed from its end.
    #[error(
        "the chain ends at {} but the anchor names seq {anchor}: rows were removed from its end",
        match .last { Some(s) => format!("seq {s}"), None => "nothing (it is empty)".into() }
    )]
    EndsBeforeAnchor { anchor: i64, last: Option<i64> },
}

/// Walks a chain one row at a time, in seq order, so that a long log is checked without holding
/// it in memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev: Hash,
    count: u64,
    anchor: Option<ChainHead>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier::new(None)
    }
}

impl ChainVerifier {
    /// A verifier for a chain from seq 1; with an `anchor`, the row at its seq must have its hash
    /// and the chain must reach it.
    pub fn new(anchor: Option<ChainHead>) -> ChainVerifier {
        ChainVerifier {
            expected_seq: 1,
            prev: Hash::GENESIS,
            count: 0,
            anchor,
        }
    }

    /// Checks the next row.
    pub fn push(&mut self, rec: &AuditRecord) -> Result<(), ChainBreak> {
        let seq = rec.entry.seq;
        let fail = |reason| Err(ChainBreak { seq, reason });
        if seq != self.expected_seq {
            return fail(BreakReason::SeqGap {
                expected: self.expected_seq,
            });
        }
        if rec.entry.hash(&rec.prev_hash) != rec.hash {
            return fail(BreakReason::ContentMismatch);
        }
        if rec.prev_hash != self.prev {
            return fail(BreakReason::LinkMismatch);
        }
        if let Some(a) = self.anchor
            && a.seq == seq
            && a.hash != rec.hash
        {
            return fail(BreakReason::AnchorMismatch {
                expected: a,
                found: rec.hash,
            });
        }
        self.prev = rec.hash;
        self.expected_seq += 1;
        self.count += 1;
        Ok(())
    }

    /// The summary, once every row has been pushed.
    pub fn finish(self) -> Result<ChainSummary, ChainBreak> {
        let last = (self.count > 0).then_some(self.expected_seq - 1);
        if let Some(a) = self.anchor
            && last.is_none_or(|l| l < a.seq)
        {
            return Err(ChainBreak {
                seq: a.seq,
                reason: BreakReason::EndsBeforeAnchor {
                    anchor: a.seq,
                    last,
                },
            });
        }
        Ok(ChainSummary {
            count: self.count,
            head: last.map(|seq| ChainHead {
                seq,
                hash: self.prev,
            }),
        })
    }
}

/// Checks a whole chain, given in the order it is stored (ascending seq): `Ok` with its length and
/// head, or the first row at which it breaks.
pub fn verify_chain<'a>(
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> Result<ChainSummary, ChainBreak> {
    let mut v = ChainVerifier::new(None);
    for r in records {
        v.push(r)?;
    }
    v.finish()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(seq: i64) -> AuditEntry {
        AuditEntry {
            seq,
            at: Timestamp::from_unix_micros(1_714_555_800_000_000 + seq * 1_000_001).unwrap(),
            actor: format!("user:{}", seq % 3 + 1),
            action: "incident.update".into(),
            target: format!("incident:{seq}"),
            details: json!({"to": "assigned", "n": seq, "nested": {"b": [1, 2.5, null], "a": "ё"}}),
        }
    }

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = Hash::GENESIS;
        (1..=n)
            .map(|seq| {
                let r = AuditRecord::seal(entry(seq), prev);
                prev = r.hash;
                r
            })
            .collect()
    }

    fn break_of(rows: &[AuditRecord]) -> ChainBreak {
        verify_chain(rows).expect_err("the chain should be broken")
    }

    #[test]
    fn an_intact_chain_verifies() {
        let rows = chain(6);
        let s = verify_chain(&rows).unwrap();
        assert_eq!(s.count, 6);
        assert_eq!(
            s.head,
            Some(ChainHead {
                seq: 6,
                hash: rows[5].hash
            })
        );
        assert_eq!(
            verify_chain(&[]).unwrap(),
            ChainSummary {
                count: 0,
                head: None
            }
        );
    }

    /// Pins the format: an auditor's own script must get the same digest. The expected value was
    /// computed independently (Python: hashlib.sha256(bytes(32) + canonical.encode())).
    #[test]
    fn known_answer() {
        let e = AuditEntry {
            seq: 1,
            at: "2024-05-01T09:30:00Z".parse().unwrap(),
            actor: "user:1".into(),
            action: "evidence.view".into(),
            target: "event:5".into(),
            details: json!({"z": 1, "a": {"y": true, "b": "Toshkent \"sh.\""}}),
        };
        assert_eq!(
            e.canonical(),
            r#"{"action":"evidence.view","actor":"user:1","at":"2024-05-01T09:30:00.000000Z","details":{"a":{"b":"Toshkent \"sh.\"","y":true},"z":1},"seq":1,"target":"event:5"}"#
        );
        assert_eq!(
            e.hash(&Hash::GENESIS).to_string(),
            "a991102e173d4a12c9421be553f0e0d82a44852fd5b5c307227a6a662bc939b2"
        );
    }

    #[test]
    fn canonical_form_ignores_key_insertion_order() {
        let mut a = serde_json::Map::new();
        a.insert("b".into(), json!(1));
        a.insert("a".into(), json!({"d": 1, "c": 2}));
        let mut b = serde_json::Map::new();
        b.insert("a".into(), json!({"c": 2, "d": 1}));
        b.insert("b".into(), json!(1));
        assert_eq!(
            canonical_json(&Value::Object(a)),
            canonical_json(&Value::Object(b))
        );
        assert_eq!(
            canonical_json(&json!({"b":1,"a":[3,{"y":0,"x":0}]})),
            r#"{"a":[3,{"x":0,"y":0}],"b":1}"#
        );
    }

    #[test]
    fn an_altered_row_is_named() {
        let mut rows = chain(6);
        rows[2].entry.details = json!({"to": "closed"});
        let b = break_of(&rows);
        assert_eq!((b.seq, b.reason), (3, BreakReason::ContentMismatch));

        let mut rows = chain(6);
        rows[4].entry.actor = "user:99".into();
        assert_eq!(break_of(&rows).seq, 5);
    }

    #[test]
    fn an_altered_and_rehashed_row_breaks_the_next_link() {
        let mut rows = chain(6);
        rows[2].entry.details = json!({"to": "closed"});
        rows[2].hash = rows[2].entry.hash(&rows[2].prev_hash);
        let b = break_of(&rows);
        assert_eq!((b.seq, b.reason), (4, BreakReason::LinkMismatch));
    }

    #[test]
    fn a_deleted_row_is_named_by_the_row_after_it() {
        let mut rows = chain(6);
        rows.remove(2);
        let b = break_of(&rows);
        assert_eq!((b.seq, b.reason), (4, BreakReason::SeqGap { expected: 3 }));

        let mut rows = chain(6);
        rows.remove(0);
        let b = break_of(&rows);
        assert_eq!((b.seq, b.reason), (2, BreakReason::SeqGap { expected: 1 }));
    }

    #[test]
    fn a_deleted_row_with_renumbering_is_named() {
        let mut rows = chain(6);
        rows.remove(2);
        for r in &mut rows[2..] {
            r.entry.seq -= 1;
        }
        let b = break_of(&rows);
        assert_eq!((b.seq, b.reason), (3, BreakReason::ContentMismatch));
    }

    #[test]
    fn an_inserted_row_is_named() {
        // Inserted with a correct hash over the row before it, the rows after renumbered.
        let mut rows = chain(6);
        let mut forged = entry(3);
        forged.details = json!({"forged": true});
        rows.insert(2, AuditRecord::seal(forged, rows[1].hash));
        for r in &mut rows[3..] {
            r.entry.seq += 1;
        }
        let b = break_of(&rows);
        assert_eq!((b.seq, b.reason), (4, BreakReason::ContentMismatch));

        // Inserted without renumbering: two rows claim seq 3.
        let mut rows = chain(6);
        rows.insert(3, AuditRecord::seal(entry(3), rows[2].hash));
        let b = break_of(&rows);
        assert_eq!((b.seq, b.reason), (3, BreakReason::SeqGap { expected: 4 }));
    }

    #[test]
    fn reordered_rows_are_named() {
        // Two rows' seq swapped in the database: read back in seq order.
        let mut rows = chain(6);
        rows[1].entry.seq = 4;
        rows[3].entry.seq = 2;
        rows.sort_by_key(|r| r.entry.seq);
        let b = break_of(&rows);
        assert_eq!((b.seq, b.reason), (2, BreakReason::ContentMismatch));

        // Rows handed over out of order.
        let mut rows = chain(6);
        rows.swap(1, 3);
        let b = break_of(&rows);
        assert_eq!((b.seq, b.reason), (4, BreakReason::SeqGap { expected: 2 }));
    }

    #[test]
    fn an_anchor_catches_truncation_and_rewriting() {
        let rows = chain(6);
        let anchor = ChainHead {
            seq: 6,
            hash: rows[5].hash,
        };
        assert_eq!(anchor.to_string().parse::<ChainHead>().unwrap(), anchor);

        let mut v = ChainVerifier::new(Some(anchor));
        rows.iter().try_for_each(|r| v.push(r)).unwrap();
        assert_eq!(v.finish().unwrap().count, 6);

        // Last two rows removed: a valid chain by itself, but short of the anchor.
        assert!(verify_chain(&rows[..4]).is_ok());
        let mut v = ChainVerifier::new(Some(anchor));
        rows[..4].iter().try_for_each(|r| v.push(r)).unwrap();
        let b = v.finish().unwrap_err();
        assert_eq!(
            (b.seq, b.reason),
            (
                6,
                BreakReason::EndsBeforeAnchor {
                    anchor: 6,
                    last: Some(4)
                }
            )
        );

        // The whole chain rewritten consistently: only the anchor tells.
        let mut rewritten = Vec::new();
        let mut prev = Hash::GENESIS;
        for r in &rows {
            let mut e = r.entry.clone();
            e.details = json!({"rewritten": true});
            let s = AuditRecord::seal(e, prev);
            prev = s.hash;
            rewritten.push(s);
        }
        assert!(verify_chain(&rewritten).is_ok());
        let mut v = ChainVerifier::new(Some(anchor));
        let b = rewritten.iter().try_for_each(|r| v.push(r)).unwrap_err();
        assert_eq!(b.seq, 6);
        assert!(matches!(b.reason, BreakReason::AnchorMismatch { .. }));
    }

    #[test]
    fn messages_say_what_happened() {
        let b = ChainBreak {
            seq: 4,
            reason: BreakReason::SeqGap { expected: 3 },
        };
        assert_eq!(
            b.to_string(),
            "audit chain broken at seq 4: expected seq 3 here; rows were deleted, inserted or renumbered"
        );
    }

    #[test]
    fn hashes_parse_only_in_the_written_form() {
        let h = chain(1)[0].hash;
        assert_eq!(h.to_string().parse::<Hash>().unwrap(), h);
        assert!(h.to_string().to_uppercase().parse::<Hash>().is_err());
        assert!("abc".parse::<Hash>().is_err());
    }

    #[test]
    fn entries_are_validated() {
        entry(1).validate().unwrap();
        let mut e = entry(1);
        e.details = json!([1]);
        assert!(e.validate().is_err());
        let mut e = entry(0);
        assert!(e.validate().is_err());
        e.seq = 1;
        e.action = String::new();
        assert!(e.validate().is_err());
    }
}
