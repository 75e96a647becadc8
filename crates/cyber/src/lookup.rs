//! The checks.
//!
//! - [`indicator_hash`]: SHA-256 of `"posbon-indicator-v1\n" + kind + "\n" + normal form`. A
//!   browser computes the same with WebCrypto from the same normal form.
//! - The public check ([`PrefixIndex`]): the client sends the first 5 hex digits (20 bits) of
//!   the hash; the server answers with every reported hash under that prefix; the client looks
//!   for its own among them. The server sees 20 bits of a hash, not the indicator.
//! - The payee check ([`ThreatIndex::verdict`]): the bank's server sends the indicator, posbon
//!   hashes it and answers reports, recency, campaign size and loss with one hash-map probe
//!   and a short union-find walk.

use crate::campaign::{CampaignId, CampaignLinker, Linked};
use crate::{Detail, Indicator, IndicatorKind};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// The domain-separation tag of indicator hashes.
pub const HASH_DOMAIN: &str = "posbon-indicator-v1";

/// SHA-256 of the domain-separated indicator: `posbon-indicator-v1\n<kind>\n<normalised>`.
pub fn indicator_hash(kind: IndicatorKind, normalised: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(HASH_DOMAIN.as_bytes());
    h.update(b"\n");
    h.update(kind.as_str().as_bytes());
    h.update(b"\n");
    h.update(normalised.as_bytes());
    h.finalize().into()
}

/// The first `bits` bits (1..=32) of a hash, as an integer.
pub fn prefix(hash: &[u8; 32], bits: u32) -> u32 {
    let bits = bits.clamp(1, 32);
    let head = u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]]);
    head >> (32 - bits)
}

/// The first `chars` hex digits (1..=64) of a hash, lower case.
pub fn prefix_hex(hash: &[u8; 32], chars: usize) -> String {
    let mut s = hex::encode(hash);
    s.truncate(chars.clamp(1, 64));
    s
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrefixError {
    /// Prefixes are 3 to 8 hex digits (12 to 32 bits).
    Length(usize),
    NotHex,
}

impl fmt::Display for PrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrefixError::Length(n) => write!(
                f,
                "a hash prefix has {MIN_PREFIX_HEX} to 8 hex digits (5 recommended), not {n}"
            ),
            PrefixError::NotHex => write!(f, "a hash prefix is hexadecimal (0-9, a-f)"),
        }
    }
}

impl std::error::Error for PrefixError {}

/// Shortest prefix answered: 3 hex digits (12 bits), about n/4096 hashes per answer.
pub const MIN_PREFIX_HEX: usize = 3;

/// Parse a hex prefix: (value, bits).
pub fn parse_prefix_hex(s: &str) -> Result<(u32, u32), PrefixError> {
    let n = s.len();
    if !(MIN_PREFIX_HEX..=8).contains(&n) {
        return Err(PrefixError::Length(s.chars().count()));
    }
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PrefixError::NotHex);
    }
    let v = u32::from_str_radix(s, 16).map_err(|_| PrefixError::NotHex)?;
    Ok((v, (n * 4) as u32))
}

/// Reported hashes, answerable by prefix.
#[derive(Clone, Debug, Default)]
pub struct PrefixIndex {
    set: BTreeSet<[u8; 32]>,
}

impl PrefixIndex {
    pub fn new() -> Self {
        Self::default()
    }
    /// True if the hash was not there before.
    pub fn insert(&mut self, h: [u8; 32]) -> bool {
        self.set.insert(h)
    }
    pub fn remove(&mut self, h: &[u8; 32]) -> bool {
        self.set.remove(h)
    }
    pub fn contains(&self, h: &[u8; 32]) -> bool {
        self.set.contains(h)
    }
    pub fn len(&self) -> usize {
        self.set.len()
    }
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Every hash whose first `bits` bits equal `value`, ascending.
    pub fn range(&self, value: u32, bits: u32) -> impl Iterator<Item = &[u8; 32]> + '_ {
        let bits = bits.clamp(1, 32);
        let shift = 32 - bits;
        let lo_head = (u64::from(value) << shift) as u32;
        let hi_head = ((u64::from(value) + 1) << shift).wrapping_sub(1) as u32;
        let mut lo = [0u8; 32];
        lo[..4].copy_from_slice(&lo_head.to_be_bytes());
        let mut hi = [0xffu8; 32];
        hi[..4].copy_from_slice(&hi_head.to_be_bytes());
        self.set.range(lo..=hi)
    }

    /// Every hash under a hex prefix (`"a1b2c"`), ascending.
    pub fn range_hex(&self, prefix: &str) -> Result<Vec<[u8; 32]>, PrefixError> {
        let (v, bits) = parse_prefix_hex(prefix)?;
        Ok(self.range(v, bits).copied().collect())
    }
}

/// What the payee check answers about one indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// Reports that named this indicator.
    pub reports: u32,
    /// Time of the latest of them (seconds since the Unix epoch, as the caller gave it).
    pub last_seen: i64,
    /// The campaign the indicator belongs to.
    pub campaign: CampaignId,
    /// Reports in that campaign.
    pub campaign_reports: u32,
    /// Money lost across that campaign (minor units, as the caller gave it).
    pub total_loss: u64,
}

/// One report as the index takes it.
#[derive(Clone, Copy, Debug)]
pub struct ReportEntry<'a> {
    pub id: u64,
    /// Seconds since the Unix epoch.
    pub time: i64,
    /// Money lost, in minor units (tiyin).
    pub loss: u64,
    /// Hashes that link reports into campaigns and are checkable.
    pub link: &'a [[u8; 32]],
    /// Hashes that are checkable but link nothing (a card's `BIN…last4` form).
    pub check_only: &'a [[u8; 32]],
}

#[derive(Clone, Copy, Debug)]
struct Stat {
    reports: u32,
    last_seen: i64,
    /// The linker node whose campaign this hash reports: its own, or for a check-only hash
    /// that of a linking hash of the same report.
    node: u32,
    /// Whether this hash links reports (else check-only).
    links: bool,
}

const NO_NODE: u32 = u32::MAX;

/// Reports, campaigns and both checks in one in-memory index.
#[derive(Debug, Default)]
pub struct ThreatIndex {
    linker: CampaignLinker<u64, [u8; 32]>,
    stats: HashMap<[u8; 32], Stat>,
    seen: HashMap<u64, Vec<[u8; 32]>>,
    prefix: PrefixIndex,
}

impl ThreatIndex {
    pub fn new() -> Self {
        ThreatIndex {
            linker: CampaignLinker::new(),
            ..Default::default()
        }
    }

    /// Add a report by its hashes. Idempotent per report id: a resubmission adds only hashes
    /// it did not have, and its loss is not counted again.
    pub fn add(&mut self, e: &ReportEntry) -> Linked {
        let prior = self.seen.entry(e.id).or_default();
        let mut fresh_link = Vec::new();
        let mut fresh_check = Vec::new();
        for (h, link) in e
            .link
            .iter()
            .map(|h| (h, true))
            .chain(e.check_only.iter().map(|h| (h, false)))
        {
            if prior.contains(h) {
                continue;
            }
            prior.push(*h);
            if link {
                fresh_link.push(*h);
            } else {
                fresh_check.push(*h);
            }
        }
        let linked = self
            .linker
            .add_report(e.id, fresh_link.iter().copied(), e.loss);
        // the node whose campaign check-only hashes report: any linking hash of this report
        let alias = fresh_link
            .first()
            .or_else(|| {
                prior
                    .iter()
                    .find(|h| self.stats.get(*h).is_some_and(|s| s.links))
            })
            .and_then(|h| self.linker.key_node(h))
            .unwrap_or(NO_NODE);
        for (h, links) in fresh_link
            .iter()
            .map(|h| (h, true))
            .chain(fresh_check.iter().map(|h| (h, false)))
        {
            let node = if links {
                self.linker.key_node(h).unwrap_or(NO_NODE)
            } else {
                alias
            };
            let s = self.stats.entry(*h).or_insert(Stat {
                reports: 0,
                last_seen: e.time,
                node,
                links,
            });
            s.reports = s.reports.saturating_add(1);
            s.last_seen = s.last_seen.max(e.time);
            if links {
                s.links = true;
                s.node = node;
            } else if !s.links {
                s.node = alias;
            }
            self.prefix.insert(*h);
        }
        linked
    }

    /// Add a report from extracted indicators: each indicator's [`Indicator::link_keys`] link,
    /// a card's `BIN…last4` hash is check-only.
    pub fn add_indicators(&mut self, id: u64, time: i64, loss: u64, inds: &[Indicator]) -> Linked {
        let mut link = Vec::new();
        let mut check_only = Vec::new();
        for i in inds {
            for k in i.link_keys() {
                link.push(k.hash());
            }
            if let Detail::Card(t) = &i.detail {
                check_only.push(indicator_hash(IndicatorKind::Card, &t.masked()));
            }
        }
        self.add(&ReportEntry {
            id,
            time,
            loss,
            link: &link,
            check_only: &check_only,
        })
    }

    /// The verdict on one hash, if it was ever reported.
    pub fn verdict(&self, h: &[u8; 32]) -> Option<Verdict> {
        let s = self.stats.get(h)?;
        let (campaign, campaign_reports, total_loss) = if s.node == NO_NODE {
            (CampaignId(u64::MAX), 0, 0)
        } else {
            self.linker
                .node_stats(s.node)
                .unwrap_or((CampaignId(u64::MAX), 0, 0))
        };
        Some(Verdict {
            reports: s.reports,
            last_seen: s.last_seen,
            campaign,
            campaign_reports,
            total_loss,
        })
    }

    pub fn prefix_index(&self) -> &PrefixIndex {
        &self.prefix
    }

    pub fn linker(&self) -> &CampaignLinker<u64, [u8; 32]> {
        &self.linker
    }

    /// Distinct hashes indexed.
    pub fn len(&self) -> usize {
        self.stats.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stats.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_domain_separated_and_stable() {
        let h = indicator_hash(IndicatorKind::Phone, "+998901234567");
        let mut s = Sha256::new();
        s.update(b"posbon-indicator-v1\nphone\n+998901234567");
        assert_eq!(h, <[u8; 32]>::from(s.finalize()));
        assert_ne!(h, indicator_hash(IndicatorKind::Handle, "+998901234567"));
    }

    #[test]
    fn prefixes() {
        let mut h = [0u8; 32];
        h[0] = 0xa1;
        h[1] = 0xb2;
        h[2] = 0xc3;
        assert_eq!(prefix(&h, 20), 0xa1b2c);
        assert_eq!(prefix(&h, 8), 0xa1);
        assert_eq!(prefix_hex(&h, 5), "a1b2c");
        assert_eq!(parse_prefix_hex("A1B2C"), Ok((0xa1b2c, 20)));
        assert_eq!(parse_prefix_hex("a1"), Err(PrefixError::Length(2)));
        assert_eq!(parse_prefix_hex("a1b2z"), Err(PrefixError::NotHex));
    }

    #[test]
    fn range_returns_exactly_the_prefix() {
        let mut idx = PrefixIndex::new();
        let hashes: Vec<[u8; 32]> = (0..5000u32)
            .map(|i| indicator_hash(IndicatorKind::Phone, &i.to_string()))
            .collect();
        for h in &hashes {
            idx.insert(*h);
        }
        for h in hashes.iter().take(50) {
            let p = prefix_hex(h, 5);
            let got = idx.range_hex(&p).unwrap();
            assert!(got.contains(h));
            assert!(got.iter().all(|g| prefix_hex(g, 5) == p));
            let expected = hashes.iter().filter(|g| prefix_hex(g, 5) == p).count();
            assert_eq!(got.len(), expected);
        }
        // extremes
        let max = [0xffu8; 32];
        idx.insert(max);
        assert_eq!(idx.range_hex("fffff").unwrap().last(), Some(&max));
        assert_eq!(idx.range(u32::MAX, 32).count(), 1);
        assert_eq!(idx.range(0, 1).count() + idx.range(1, 1).count(), idx.len());
    }

    #[test]
    fn verdicts_follow_campaigns() {
        let mut t = ThreatIndex::new();
        let p = indicator_hash(IndicatorKind::Phone, "+998901234567");
        let c = indicator_hash(IndicatorKind::Card, "hmac-sha256:00");
        let m = indicator_hash(IndicatorKind::Card, "860012…9012");
        t.add(&ReportEntry {
            id: 1,
            time: 100,
            loss: 500,
            link: &[p],
            check_only: &[],
        });
        t.add(&ReportEntry {
            id: 2,
            time: 200,
            loss: 700,
            link: &[c],
            check_only: &[m],
        });
        let v = t.verdict(&p).unwrap();
        assert_eq!((v.reports, v.campaign_reports, v.total_loss), (1, 1, 500));
        // a bridge
        t.add(&ReportEntry {
            id: 3,
            time: 300,
            loss: 1,
            link: &[p, c],
            check_only: &[],
        });
        // and a resubmission
        t.add(&ReportEntry {
            id: 3,
            time: 300,
            loss: 1,
            link: &[p, c],
            check_only: &[],
        });
        let v = t.verdict(&c).unwrap();
        assert_eq!(v.reports, 2);
        assert_eq!(v.last_seen, 300);
        assert_eq!((v.campaign_reports, v.total_loss), (3, 1201));
        let vm = t.verdict(&m).unwrap();
        assert_eq!((vm.reports, vm.campaign_reports), (1, 3));
        assert!(t.verdict(&[0u8; 32]).is_none());
        assert_eq!(t.prefix_index().len(), 3);
    }
}
