//! Prevention roadmaps: measures per region, district and mahalla, their progress rolled up
//! from mahalla to district to region, and overdue measures flagged.
//!
//! A measure is done only with evidence of completion (a document, a photo, a record: a
//! reference the caller stores): "done" without evidence is counted apart, as
//! `done_without_evidence`, and still counts as open for the overdue check. Progress is the
//! share of done measures among those not cancelled. A measure is overdue when its deadline has
//! passed and it is not done (with evidence) or cancelled. `now` is given by the caller.
use std::collections::{BTreeMap, HashMap};

use domain::{Area, DistrictId, MahallaId, RegionId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::data::{DAY_US, MahallaRecord};

/// What kind of prevention a measure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    /// Cameras, monitoring of public places, digital records.
    DigitalMonitoring,
    /// Outreach and education (meetings, schools, leaflets).
    OutreachEducation,
    /// Social services for families and people at risk.
    SocialServices,
    /// Staffing of prevention inspectors.
    InspectorStaffing,
    /// Staffing of social workers.
    SocialWorkerStaffing,
    /// Youth prevention (leisure, employment, mentoring).
    YouthPrevention,
    /// Drug prevention.
    DrugPrevention,
}

/// Where a measure stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureStatus {
    Planned,
    InProgress,
    Done,
    Cancelled,
}

/// One measure of a roadmap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    pub id: i64,
    /// The region, district or mahalla whose roadmap it belongs to.
    pub area: Area,
    pub kind: MeasureKind,
    pub title: String,
    /// Who answers for it (an office or a post, e.g. "district khokimiyat, youth affairs").
    pub owner: String,
    pub deadline: Timestamp,
    pub status: MeasureStatus,
    /// References to the evidence of completion.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// When it was done, if done.
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
}

impl Measure {
    /// Done with at least one piece of evidence.
    pub fn verified_done(&self) -> bool {
        self.status == MeasureStatus::Done && self.evidence.iter().any(|e| !e.trim().is_empty())
    }

    /// Past its deadline at `now` and neither done with evidence nor cancelled.
    pub fn overdue(&self, now: Timestamp) -> bool {
        self.deadline < now && !self.verified_done() && self.status != MeasureStatus::Cancelled
    }
}

/// Counts of measures by state, and the share done.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub total: u32,
    pub planned: u32,
    pub in_progress: u32,
    /// Done with evidence.
    pub done: u32,
    /// Marked done without any evidence: not counted as done.
    pub done_without_evidence: u32,
    pub cancelled: u32,
    pub overdue: u32,
    /// Done (with evidence) after the deadline.
    pub done_late: u32,
    /// `done / (total - cancelled)`; `None` when nothing is left to do.
    pub share_done: Option<f64>,
}

impl Progress {
    fn add_measure(&mut self, m: &Measure, now: Timestamp) {
        self.total += 1;
        match m.status {
            MeasureStatus::Planned => self.planned += 1,
            MeasureStatus::InProgress => self.in_progress += 1,
            MeasureStatus::Cancelled => self.cancelled += 1,
            MeasureStatus::Done if m.verified_done() => {
                self.done += 1;
                if m.completed_at.is_some_and(|c| c > m.deadline) {
                    self.done_late += 1;
                }
            }
            MeasureStatus::Done => self.done_without_evidence += 1,
        }
        if m.overdue(now) {
            self.overdue += 1;
        }
        self.finish();
    }

    fn add(&mut self, o: &Progress) {
        self.total += o.total;
        self.planned += o.planned;
        self.in_progress += o.in_progress;
        self.done += o.done;
        self.done_without_evidence += o.done_without_evidence;
        self.cancelled += o.cancelled;
        self.overdue += o.overdue;
        self.done_late += o.done_late;
        self.finish();
    }

    fn finish(&mut self) {
        let open = self.total - self.cancelled;
        self.share_done = (open > 0).then(|| f64::from(self.done) / f64::from(open));
    }
}

/// A mahalla's own measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MahallaNode {
    pub mahalla: MahallaId,
    pub own: Progress,
}

/// A district: its own measures, and with its mahallas'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistrictNode {
    pub district: DistrictId,
    pub own: Progress,
    pub total: Progress,
    pub mahallas: Vec<MahallaNode>,
    /// Mahallas of the district (from the geography given) without a single measure of their
    /// own; `None` when no geography was given.
    pub mahallas_without_measures: Option<u32>,
}

/// A region: its own measures, and with everything below.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionNode {
    pub region: RegionId,
    pub own: Progress,
    pub total: Progress,
    pub districts: Vec<DistrictNode>,
}

/// An overdue measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueMeasure {
    pub id: i64,
    pub area: Area,
    pub kind: MeasureKind,
    pub owner: String,
    pub deadline: Timestamp,
    pub status: MeasureStatus,
    pub days_overdue: f64,
}

/// The roll-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadmapReport {
    pub now: Timestamp,
    pub total: Progress,
    pub by_kind: BTreeMap<MeasureKind, Progress>,
    /// Regions, districts and mahallas in id order.
    pub regions: Vec<RegionNode>,
    /// Most overdue first.
    pub overdue: Vec<OverdueMeasure>,
}

/// Roll measures up from mahalla to district to region at `now`. With `geography`, every
/// region, district and mahalla in it appears (so missing roadmaps show) and each measure's
/// area must agree with it; without, only the areas measures name.
pub fn roll_up(
    measures: &[Measure],
    geography: Option<&[MahallaRecord]>,
    now: Timestamp,
) -> Result<RoadmapReport, Error> {
    // region -> (own, district -> (own, mahalla -> own)).
    type Tree = BTreeMap<
        RegionId,
        (
            Progress,
            BTreeMap<DistrictId, (Progress, BTreeMap<MahallaId, Progress>)>,
        ),
    >;
    let mut tree: Tree = BTreeMap::new();
    let mut known: HashMap<MahallaId, (DistrictId, RegionId)> = HashMap::new();
    let mut district_region: HashMap<DistrictId, RegionId> = HashMap::new();
    if let Some(g) = geography {
        for m in g {
            known.insert(m.id, (m.district, m.region));
            district_region.insert(m.district, m.region);
            tree.entry(m.region)
                .or_default()
                .1
                .entry(m.district)
                .or_default()
                .1
                .entry(m.id)
                .or_default();
        }
    }
    let mut ids = std::collections::HashSet::new();
    let mut total = Progress::default();
    let mut by_kind: BTreeMap<MeasureKind, Progress> = BTreeMap::new();
    let mut overdue = Vec::new();
    for m in measures {
        if !ids.insert(m.id) {
            return Err(Error::InvalidInput(format!(
                "measure {} is listed twice",
                m.id
            )));
        }
        if m.title.trim().is_empty() || m.owner.trim().is_empty() {
            return Err(Error::InvalidInput(format!(
                "measure {} needs a title and an owner (who answers for it)",
                m.id
            )));
        }
        if geography.is_some() {
            let ok = match m.area {
                Area::Mahalla {
                    region,
                    district,
                    mahalla,
                } => known.get(&mahalla) == Some(&(district, region)),
                Area::District { region, district } => {
                    district_region.get(&district) == Some(&region)
                }
                Area::Region { region } => tree.contains_key(&region),
            };
            if !ok {
                return Err(Error::InvalidInput(format!(
                    "measure {} is for {:?}, which is not in the geography given (or not under \
                     the district and region named); correct the measure's area",
                    m.id, m.area
                )));
            }
        }
        let r = tree.entry(m.area.region()).or_default();
        match m.area {
            Area::Region { .. } => r.0.add_measure(m, now),
            Area::District { district, .. } => {
                r.1.entry(district).or_default().0.add_measure(m, now)
            }
            Area::Mahalla {
                district, mahalla, ..
            } => {
                r.1.entry(district)
                    .or_default()
                    .1
                    .entry(mahalla)
                    .or_default()
                    .add_measure(m, now)
            }
        }
        total.add_measure(m, now);
        by_kind.entry(m.kind).or_default().add_measure(m, now);
        if m.overdue(now) {
            overdue.push(OverdueMeasure {
                id: m.id,
                area: m.area,
                kind: m.kind,
                owner: m.owner.clone(),
                deadline: m.deadline,
                status: m.status,
                days_overdue: (now.unix_micros() - m.deadline.unix_micros()) as f64 / DAY_US as f64,
            });
        }
    }
    overdue.sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.id.cmp(&b.id)));
    let regions = tree
        .into_iter()
        .map(|(region, (own, districts))| {
            let mut rtotal = own.clone();
            let districts: Vec<DistrictNode> = districts
                .into_iter()
                .map(|(district, (down, mahallas))| {
                    let mut dtotal = down.clone();
                    let mut without = 0u32;
                    let mahallas: Vec<MahallaNode> = mahallas
                        .into_iter()
                        .map(|(mahalla, p)| {
                            dtotal.add(&p);
                            if p.total == 0 {
                                without += 1;
                            }
                            MahallaNode { mahalla, own: p }
                        })
                        .collect();
                    rtotal.add(&dtotal);
                    DistrictNode {
                        district,
                        own: down,
                        total: dtotal,
                        mahallas,
                        mahallas_without_measures: geography.map(|_| without),
                    }
                })
                .collect();
            RegionNode {
                region,
                own,
                total: rtotal,
                districts,
            }
        })
        .collect();
    total.finish();
    Ok(RoadmapReport {
        now,
        total,
        by_kind,
        regions,
        overdue,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: i64) -> Timestamp {
        Timestamp::from_unix_micros(1_704_067_200_000_000 + d * DAY_US).unwrap()
    }

    fn measure(
        id: i64,
        area: Area,
        status: MeasureStatus,
        deadline: i64,
        evidence: bool,
    ) -> Measure {
        Measure {
            id,
            area,
            kind: if id % 2 == 0 {
                MeasureKind::YouthPrevention
            } else {
                MeasureKind::DrugPrevention
            },
            title: format!("measure {id}"),
            owner: "district khokimiyat".into(),
            deadline: day(deadline),
            status,
            evidence: if evidence {
                vec!["doc-1".into()]
            } else {
                vec![]
            },
            completed_at: (status == MeasureStatus::Done).then(|| day(deadline - 1)),
        }
    }

    fn mahalla(m: i64, d: i64) -> Area {
        Area::Mahalla {
            region: RegionId(1),
            district: DistrictId(d),
            mahalla: MahallaId(m),
        }
    }

    #[test]
    fn rolls_up_and_flags_overdue() {
        use MeasureStatus::*;
        let mut ms = vec![
            measure(1, mahalla(11, 1), Done, 10, true), // done a day early
            measure(2, mahalla(11, 1), Planned, 5, false), // overdue by 15 days at day 20
            measure(3, mahalla(12, 1), Done, 30, false), // done without evidence, not overdue
            measure(4, mahalla(12, 1), InProgress, 40, false),
            measure(
                5,
                Area::District {
                    region: RegionId(1),
                    district: DistrictId(1),
                },
                Done,
                15,
                false,
            ), // no evidence, overdue
            measure(
                6,
                Area::District {
                    region: RegionId(1),
                    district: DistrictId(1),
                },
                Cancelled,
                1,
                false,
            ),
            measure(
                7,
                Area::Region {
                    region: RegionId(1),
                },
                Done,
                2,
                true,
            ), // done late (day 3)
            measure(8, mahalla(21, 2), Planned, 25, false),
        ];
        ms[6].completed_at = Some(day(3));
        let r = roll_up(&ms, None, day(20)).unwrap();
        assert_eq!(r.regions.len(), 1);
        let reg = &r.regions[0];
        let d1 = &reg.districts[0];
        assert_eq!(d1.mahallas[0].own.total, 2);
        assert_eq!(d1.mahallas[0].own.done, 1);
        assert_eq!(d1.mahallas[0].own.overdue, 1);
        assert_eq!(d1.mahallas[0].own.share_done, Some(0.5));
        assert_eq!(d1.mahallas[1].own.done_without_evidence, 1);
        assert_eq!(d1.mahallas[1].own.share_done, Some(0.0));
        // District 1: own 5 (overdue, no evidence) and 6 (cancelled), plus mahallas 11 and 12.
        assert_eq!(d1.own.total, 2);
        assert_eq!(d1.total.total, 6);
        assert_eq!(d1.total.done, 1);
        assert_eq!(d1.total.cancelled, 1);
        assert_eq!(d1.total.overdue, 2);
        assert_eq!(d1.total.share_done, Some(0.2));
        // Region: own 7 (done late), districts 1 and 2.
        assert_eq!(reg.total.total, 8);
        assert_eq!(reg.total.done, 2);
        assert_eq!(reg.total.done_late, 1);
        assert_eq!(reg.total.share_done, Some(2.0 / 7.0));
        assert_eq!(r.total, reg.total);
        // Overdue: 2 (deadline day 5, 15 days) then 5 (day 15).
        let ids: Vec<i64> = r.overdue.iter().map(|o| o.id).collect();
        assert_eq!(ids, vec![2, 5]);
        assert_eq!(r.overdue[0].days_overdue, 15.0);
        assert_eq!(r.by_kind[&MeasureKind::DrugPrevention].total, 4);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["overdue"][0]["area"]["level"], "mahalla");
        assert_eq!(json["by_kind"]["youth_prevention"]["total"], 4);
    }

    #[test]
    fn geography_shows_gaps_and_checks_areas() {
        let geo: Vec<MahallaRecord> = [(11, 1), (12, 1), (13, 1), (21, 2)]
            .iter()
            .map(|&(m, d)| MahallaRecord {
                id: MahallaId(m),
                district: DistrictId(d),
                region: RegionId(1),
                population: None,
            })
            .collect();
        let ms = vec![measure(
            1,
            mahalla(11, 1),
            MeasureStatus::Planned,
            50,
            false,
        )];
        let r = roll_up(&ms, Some(&geo), day(0)).unwrap();
        assert_eq!(r.regions[0].districts.len(), 2);
        assert_eq!(r.regions[0].districts[0].mahallas_without_measures, Some(2));
        assert_eq!(r.regions[0].districts[1].mahallas_without_measures, Some(1));
        // A measure whose mahalla is filed under the wrong district.
        let bad = vec![measure(
            1,
            mahalla(11, 2),
            MeasureStatus::Planned,
            50,
            false,
        )];
        assert!(roll_up(&bad, Some(&geo), day(0)).is_err());
        let dup = vec![ms[0].clone(), ms[0].clone()];
        assert!(roll_up(&dup, None, day(0)).is_err());
    }
}
