//! The fraud indicators reported so far, held in memory for the two checks that must be fast:
//! the public hash-prefix check and the banks' payee check (see `cyber`'s lookup module).
//!
//! One [`Threats`] lives in [`crate::AppState`]. Accepted victims' reports are added to it as
//! they arrive and, at start, from the store; the checks only read it. Card numbers are hashed
//! under a key ([`cyber::CardKey`]) that must stay the same across restarts, so that a card
//! reported last month matches the same card today: [`load_card_key`] keeps it in a file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard};

use anyhow::Context;
use cyber::ThreatIndex;
use cyber::{CardKey, Extractor, Indicator, IndicatorKind, ReportEntry};

/// The extractor (with the card key) and the index of reported indicators.
pub struct Threats {
    extractor: Extractor,
    index: RwLock<ThreatIndex>,
    /// What the public check says of a hash besides its presence (see [`CheckInfo`]).
    info: RwLock<HashMap<[u8; 32], CheckInfo>>,
}

/// What the public check answers about a reported hash: its kind of indicator and the
/// channels of the reports that named it (bits of `domain::Channel`), so the page can give
/// advice for that kind of scam. Hashes added through [`Threats::add_report`] have none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckInfo {
    pub kind: IndicatorKind,
    pub channels: u16,
}

impl std::fmt::Debug for Threats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("Threats")
            .field("indicators", &self.read().len())
            .finish_non_exhaustive()
    }
}

impl Threats {
    pub fn new(card_key: CardKey) -> Threats {
        Threats {
            extractor: Extractor::new(card_key),
            index: RwLock::new(ThreatIndex::new()),
            info: RwLock::default(),
        }
    }

    /// Normalises indicators from report fields and free text (cards hashed under the key).
    pub fn extractor(&self) -> &Extractor {
        &self.extractor
    }

    /// The index, for reading (checks). Many readers at once; a writer waits for them.
    pub fn read(&self) -> RwLockReadGuard<'_, ThreatIndex> {
        // A panic while holding the lock cannot leave the index half-updated in a way that
        // matters to a reader (additions are per-hash), so a poisoned lock is read through.
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds one report (idempotent per `id`): `time` in Unix seconds, `loss` in tiyin.
    pub fn add_report(
        &self,
        id: u64,
        time: i64,
        loss: u64,
        indicators: &[Indicator],
    ) -> cyber::Linked {
        let mut w = self.index.write().unwrap_or_else(|p| p.into_inner());
        w.add_indicators(id, time, loss, indicators)
    }

    /// Adds one report from its hashes (idempotent per `e.id`), as stored reports are loaded:
    /// `kinds` names the kind of each hash for the public check, `channels` the report's
    /// channel bits.
    pub fn add_entry(
        &self,
        e: &ReportEntry<'_>,
        kinds: &[([u8; 32], IndicatorKind)],
        channels: u16,
    ) -> cyber::Linked {
        let linked = {
            let mut w = self.index.write().unwrap_or_else(|p| p.into_inner());
            w.add(e)
        };
        let mut info = self.info.write().unwrap_or_else(|p| p.into_inner());
        for (h, kind) in kinds {
            info.entry(*h)
                .and_modify(|i| i.channels |= channels)
                .or_insert(CheckInfo {
                    kind: *kind,
                    channels,
                });
        }
        linked
    }

    /// What the public check says of a reported hash, if it was added with [`Threats::add_entry`].
    pub fn check_info(&self, hash: &[u8; 32]) -> Option<CheckInfo> {
        let info = self.info.read().unwrap_or_else(|p| p.into_inner());
        info.get(hash).copied()
    }
}

/// Where `posbon serve` keeps the card-hash key under its data folder.
pub fn default_card_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("card-hash.key")
}

/// The card-hash key read from `path` (hex); a missing file is created with a fresh random key
/// (mode 0600). Losing the file means new card hashes no longer match the stored ones.
pub fn load_card_key(path: &Path) -> anyhow::Result<CardKey> {
    if !path.exists() {
        let key = random_hex_key()?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the key folder {}", dir.display()))?;
        }
        write_private(path, &key)
            .with_context(|| format!("cannot write a new card-hash key to {}", path.display()))?;
        tracing::info!(path = %path.display(), "created a new card-hash key");
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the card-hash key {}", path.display()))?;
    CardKey::from_hex(&text).map_err(|e| {
        anyhow::anyhow!(
            "the card-hash key {} is not usable: {e}; it holds at least 16 random bytes as hex",
            path.display()
        )
    })
}

fn random_hex_key() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).context("no randomness from the operating system")?;
    Ok(hex::encode(bytes))
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let p = default_card_key_path(dir.path());
        let a = load_card_key(&p).unwrap();
        let b = load_card_key(&p).unwrap();
        let ea = Extractor::new(a);
        let eb = Extractor::new(b);
        let card = "4111 1111 1111 1111";
        let ka = ea.field(cyber::IndicatorKind::Card, card).unwrap().key();
        let kb = eb.field(cyber::IndicatorKind::Card, card).unwrap().key();
        assert_eq!(ka, kb, "the same key file gives the same card hash");
    }

    #[test]
    fn a_bad_key_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, "not hex").unwrap();
        let e = load_card_key(&p).unwrap_err().to_string();
        assert!(
            e.contains(&p.display().to_string()) && e.contains("hex"),
            "{e}"
        );
    }

    #[test]
    fn reports_reach_the_verdict() {
        let t = Threats::new(CardKey::random().unwrap());
        let ind = t
            .extractor()
            .field(cyber::IndicatorKind::Phone, "+998 90 123 45 67")
            .unwrap();
        t.add_report(1, 1_700_000_000, 500_000, std::slice::from_ref(&ind));
        let v = t.read().verdict(&ind.key().hash()).expect("reported");
        assert_eq!((v.reports, v.total_loss), (1, 500_000));
    }
}
