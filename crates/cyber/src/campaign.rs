//! Campaigns: reports linked by shared indicators, as connected components of the bipartite
//! graph report — indicator, maintained incrementally with union-find (union by size, path
//! compression), so adding a report costs near-constant time per indicator.
//!
//! A campaign is named by its earliest report ([`CampaignId`] = that report's arrival number),
//! so a campaign keeps its id when a later report bridges it with a younger one; the younger
//! one's id is reported as merged.

use std::collections::HashMap;
use std::hash::Hash;

/// A campaign's id: the arrival number (0, 1, 2, ...) of its earliest report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct CampaignId(pub u64);

/// The outcome of adding a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linked {
    /// The campaign the report is in now.
    pub campaign: CampaignId,
    /// Campaigns that existed before and were merged into `campaign` by this report.
    pub merged: Vec<CampaignId>,
    /// False when the report id had been added before (a resubmission): nothing is counted
    /// twice, only indicators it did not have before are linked.
    pub new_report: bool,
}

const NO_REPORT: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct RootData {
    /// Reports in the component.
    reports: u32,
    /// Earliest report's arrival number, or NO_REPORT.
    first: u32,
    /// Summed weight of the reports.
    weight: u64,
}

/// Incremental campaign linking over report ids `R` and indicator keys `K`.
///
/// Nodes are reports and indicators; per-component figures (reports, earliest report, summed
/// weight) live in a flat array read at the component's root, so a read is a parent walk and
/// one load.
#[derive(Clone, Debug)]
pub struct CampaignLinker<R, K> {
    parent: Vec<u32>,
    size: Vec<u32>,
    /// Per-component figures, valid at roots (one cache line holds four).
    at_root: Vec<RootData>,
    /// At roots with reports: their arrival numbers (merged small into large).
    members: HashMap<u32, Vec<u32>>,
    report_node: HashMap<R, u32>,
    /// report arrival number -> (node, id)
    reports: Vec<(u32, R)>,
    indicator_node: HashMap<K, u32>,
}

impl<R: Clone + Eq + Hash, K: Eq + Hash> Default for CampaignLinker<R, K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Clone + Eq + Hash, K: Eq + Hash> CampaignLinker<R, K> {
    pub fn new() -> Self {
        CampaignLinker {
            parent: Vec::new(),
            size: Vec::new(),
            at_root: Vec::new(),
            members: HashMap::new(),
            report_node: HashMap::new(),
            reports: Vec::new(),
            indicator_node: HashMap::new(),
        }
    }

    fn new_node(&mut self) -> u32 {
        let n = u32::try_from(self.parent.len()).expect("fewer than 2^32 nodes");
        self.parent.push(n);
        self.size.push(1);
        self.at_root.push(RootData {
            reports: 0,
            first: NO_REPORT,
            weight: 0,
        });
        n
    }

    fn find(&mut self, x: u32) -> u32 {
        let mut r = x;
        while self.parent[r as usize] != r {
            r = self.parent[r as usize];
        }
        let mut y = x;
        while self.parent[y as usize] != r {
            let next = self.parent[y as usize];
            self.parent[y as usize] = r;
            y = next;
        }
        r
    }

    /// Root without path compression (for readers holding `&self`); depth is O(log n) by
    /// union by size, and short in practice since writers compress.
    fn find_ro(&self, x: u32) -> u32 {
        let mut r = x;
        while self.parent[r as usize] != r {
            r = self.parent[r as usize];
        }
        r
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        let (bi, si) = (big as usize, small as usize);
        self.parent[si] = big;
        self.size[bi] += self.size[si];
        let sd = self.at_root[si];
        let bd = &mut self.at_root[bi];
        bd.reports += sd.reports;
        bd.first = bd.first.min(sd.first);
        bd.weight = bd.weight.saturating_add(sd.weight);
        if let Some(mut sm) = self.members.remove(&small) {
            let bm = self.members.entry(big).or_default();
            if bm.len() < sm.len() {
                std::mem::swap(bm, &mut sm);
            }
            bm.extend_from_slice(&sm);
        }
    }

    fn campaign_at(&self, root: u32) -> Option<CampaignId> {
        let f = self.at_root[root as usize].first;
        (f != NO_REPORT).then_some(CampaignId(u64::from(f)))
    }

    /// Add a report and its indicators (keys may repeat). `weight` is summed per campaign
    /// (e.g. money lost, in minor units); it counts once per report id.
    pub fn add_report(&mut self, id: R, keys: impl IntoIterator<Item = K>, weight: u64) -> Linked {
        let (node, new_report) = match self.report_node.get(&id) {
            Some(&n) => (n, false),
            None => {
                let n = self.new_node();
                let seq = u32::try_from(self.reports.len()).expect("fewer than 2^32 reports");
                self.report_node.insert(id.clone(), n);
                self.reports.push((n, id));
                self.at_root[n as usize] = RootData {
                    reports: 1,
                    first: seq,
                    weight,
                };
                self.members.insert(n, vec![seq]);
                (n, true)
            }
        };
        let mut before: Vec<CampaignId> = Vec::new();
        if !new_report {
            let r = self.find(node);
            before.extend(self.campaign_at(r));
        }
        for k in keys {
            let kn = match self.indicator_node.get(&k) {
                Some(&kn) => kn,
                None => {
                    let kn = self.new_node();
                    self.indicator_node.insert(k, kn);
                    kn
                }
            };
            let rk = self.find(kn);
            if rk != self.find(node) {
                // the campaign the indicator belonged to, if any report had it
                before.extend(self.campaign_at(rk));
                self.union(kn, node);
            }
        }
        let root = self.find(node);
        let campaign = self
            .campaign_at(root)
            .expect("a report's component has a report");
        before.retain(|c| *c != campaign);
        before.sort();
        before.dedup();
        Linked {
            campaign,
            merged: before,
            new_report,
        }
    }

    /// The campaign of a report.
    pub fn campaign_of(&self, id: &R) -> Option<CampaignId> {
        let n = *self.report_node.get(id)?;
        self.campaign_at(self.find_ro(n))
    }

    /// The campaign an indicator belongs to (if some report has it).
    pub fn campaign_of_key(&self, key: &K) -> Option<CampaignId> {
        let n = *self.indicator_node.get(key)?;
        self.campaign_at(self.find_ro(n))
    }

    /// The node of an indicator, for callers that keep it to skip a hash look-up.
    pub(crate) fn key_node(&self, key: &K) -> Option<u32> {
        self.indicator_node.get(key).copied()
    }

    /// (campaign, reports, weight) of the component a node is in.
    pub(crate) fn node_stats(&self, node: u32) -> Option<(CampaignId, u32, u64)> {
        let d = self.at_root[self.find_ro(node) as usize];
        (d.first != NO_REPORT).then_some((CampaignId(u64::from(d.first)), d.reports, d.weight))
    }

    fn root_of_campaign(&self, c: CampaignId) -> Option<u32> {
        let (node, _) = self.reports.get(usize::try_from(c.0).ok()?)?;
        let r = self.find_ro(*node);
        (u64::from(self.at_root[r as usize].first) == c.0).then_some(r)
    }

    /// Number of reports in a campaign (0 if `c` is no campaign's current id).
    pub fn campaign_size(&self, c: CampaignId) -> usize {
        self.root_of_campaign(c)
            .map_or(0, |r| self.at_root[r as usize].reports as usize)
    }

    /// Sum of the weights of a campaign's reports.
    pub fn campaign_weight(&self, c: CampaignId) -> u64 {
        self.root_of_campaign(c)
            .map_or(0, |r| self.at_root[r as usize].weight)
    }

    /// (campaign, reports, weight) of the campaign an indicator is in.
    pub fn key_campaign_stats(&self, key: &K) -> Option<(CampaignId, u32, u64)> {
        self.node_stats(*self.indicator_node.get(key)?)
    }

    /// The reports of a campaign, in arrival order.
    pub fn reports(&self, c: CampaignId) -> Vec<&R> {
        let Some(root) = self.root_of_campaign(c) else {
            return Vec::new();
        };
        let mut m = self.members.get(&root).cloned().unwrap_or_default();
        m.sort_unstable();
        m.iter().map(|&s| &self.reports[s as usize].1).collect()
    }

    /// Current campaign ids, ascending.
    pub fn campaigns(&self) -> Vec<CampaignId> {
        let mut v: Vec<CampaignId> = self
            .members
            .keys()
            .filter_map(|&r| self.campaign_at(r))
            .collect();
        v.sort();
        v
    }

    pub fn report_count(&self) -> usize {
        self.reports.len()
    }

    pub fn indicator_count(&self) -> usize {
        self.indicator_node.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridging_report_merges_and_keeps_oldest_id() {
        let mut l: CampaignLinker<&str, &str> = CampaignLinker::new();
        let a = l.add_report("r1", ["phone:1"], 100);
        assert_eq!(a.campaign, CampaignId(0));
        let b = l.add_report("r2", ["card:x"], 50);
        assert_eq!(b.campaign, CampaignId(1));
        let c = l.add_report("r3", ["phone:2"], 0);
        assert_eq!(c.campaign, CampaignId(2));
        // r4 shares the card with r2 and the phone with r1
        let d = l.add_report("r4", ["card:x", "phone:1"], 10);
        assert_eq!(d.campaign, CampaignId(0));
        assert_eq!(d.merged, vec![CampaignId(1)]);
        assert_eq!(l.campaign_of(&"r2"), Some(CampaignId(0)));
        assert_eq!(l.campaign_size(CampaignId(0)), 3);
        assert_eq!(l.campaign_weight(CampaignId(0)), 160);
        assert_eq!(l.reports(CampaignId(0)), vec![&"r1", &"r2", &"r4"]);
        assert_eq!(l.campaign_size(CampaignId(1)), 0);
        assert_eq!(l.campaigns(), vec![CampaignId(0), CampaignId(2)]);
        assert_eq!(l.campaign_of_key(&"phone:2"), Some(CampaignId(2)));
    }

    #[test]
    fn resubmission_counts_once() {
        let mut l: CampaignLinker<u64, u32> = CampaignLinker::new();
        l.add_report(7, [1, 2], 1000);
        l.add_report(8, [3], 5);
        let again = l.add_report(7, [1, 2, 3], 1000);
        assert!(!again.new_report);
        assert_eq!(again.campaign, CampaignId(0));
        assert_eq!(again.merged, vec![CampaignId(1)]);
        assert_eq!(l.campaign_size(CampaignId(0)), 2);
        assert_eq!(l.campaign_weight(CampaignId(0)), 1005);
        assert_eq!(l.report_count(), 2);
    }
}
