//! What a period report is made from: plain numbers and names the caller has already computed
//! (the server takes them from the store and the `analytics` crate). Nothing here is computed
//! from raw incidents; the renderers only lay the numbers out, so the same data gives the same
//! bytes in every format, every time.
//!
//! Words (`key`s) are the API's (`public`, `drug_offence`, ...); the renderers turn them into
//! labels. Lists keep the order they are given in.

/// The level of the report's area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Mahalla,
    District,
    Region,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Mahalla => "mahalla",
            Level::District => "district",
            Level::Region => "region",
        }
    }
}

/// The place the report is about.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaInfo {
    pub level: Level,
    pub id: i64,
    /// Its name (Uzbek Latin).
    pub name: String,
    /// The places above it, outermost first (`["Toshkent shahri", "Chilonzor tumani"]`).
    pub within: Vec<String>,
}

impl AreaInfo {
    /// `district:1726262`, as the API names areas.
    pub fn key(&self) -> String {
        format!("{}:{}", self.level.as_str(), self.id)
    }
}

/// The period and the two it is compared with; days are local calendar dates (UTC+5).
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodInfo {
    /// `2026-10`, `2026-Q3`, `2026-H1`.
    pub label: String,
    /// First and last day, inclusive (`2026-07-01`, `2026-09-30`).
    pub first_day: String,
    pub last_day: String,
    pub previous_label: String,
    pub year_before_label: String,
}

/// What a trend test says about one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    NoClearChange,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::NoClearChange => "no_clear_change",
        }
    }
}

/// The period's count against an earlier period's (exact conditional test, corrected for the
/// number of comparisons: see docs/design/013).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// The earlier period's count.
    pub count: u64,
    /// Rate now over rate then (lengths allowed for); `None` when the earlier count is 0.
    pub rate_ratio: Option<f64>,
    /// Exact interval of the rate ratio; `ci_high` `None` when unbounded.
    pub ci_low: f64,
    pub ci_high: Option<f64>,
    /// The p-value after the false-discovery-rate correction.
    pub q: f64,
    pub direction: Direction,
}

/// One source's incidents: never added to another source's in a trend.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceCounts {
    /// `public`, `patrol`, `camera`, `inspector`.
    pub key: String,
    pub current: u64,
    /// Per [`PeriodReportData::rate_unit`]; `None` without exposure.
    pub rate: Option<f64>,
    pub previous: Comparison,
    pub year_before: Comparison,
}

/// One category's incidents in the period, per source (in the order of
/// [`PeriodReportData::sources`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryCounts {
    pub key: String,
    pub by_source: Vec<u64>,
}

impl CategoryCounts {
    pub fn total(&self) -> u64 {
        self.by_source.iter().sum()
    }
}

/// A trend of one category within one source.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendRow {
    pub source: String,
    pub category: String,
    pub current: u64,
    pub previous: Comparison,
    pub year_before: Comparison,
}

/// Counts per month for the chart: `months` labels (`2026-01`) and one series per source.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Monthly {
    pub months: Vec<String>,
    /// `(source key, one count per month)`.
    pub by_source: Vec<(String, Vec<u64>)>,
}

/// Crime-free mahallas of the area: how many, and how many chance alone would give.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrimeFree {
    /// Mahallas in the area.
    pub mahallas: u64,
    /// Mahallas without any incident in the period.
    pub count: u64,
    /// Expected number of zeros if every mahalla had its district's rate (sum of P(0)), and its
    /// standard deviation.
    pub expected: f64,
    pub expected_sd: f64,
    /// Crime-free mahallas whose zero is surprising (q < alpha).
    pub surprising: u64,
    /// The area's overall rate (in the report's rate unit), which "red" is measured against.
    pub overall_rate: f64,
    /// Mahallas significantly above the overall rate (q < alpha, population known); the worst
    /// of them are listed by [`MahallaInfo::red_rank`].
    pub red_qualifying: u64,
}

/// A mahalla's Getis-Ord Gi* class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HotClass {
    Hot99,
    Hot95,
    Hot90,
    Cold99,
    Cold95,
    Cold90,
    NotSignificant,
    /// No class: Gi* could not be run (no polygons, too few mahallas).
    NotComputed,
}

impl HotClass {
    pub fn as_str(self) -> &'static str {
        match self {
            HotClass::Hot99 => "hot_99",
            HotClass::Hot95 => "hot_95",
            HotClass::Hot90 => "hot_90",
            HotClass::Cold99 => "cold_99",
            HotClass::Cold95 => "cold_95",
            HotClass::Cold90 => "cold_90",
            HotClass::NotSignificant => "not_significant",
            HotClass::NotComputed => "not_computed",
        }
    }

    /// `Hot spot, 99%`, `not significant`, ...
    pub fn label(self) -> &'static str {
        match self {
            HotClass::Hot99 => "Hot spot, 99%",
            HotClass::Hot95 => "Hot spot, 95%",
            HotClass::Hot90 => "Hot spot, 90%",
            HotClass::Cold99 => "Cold spot, 99%",
            HotClass::Cold95 => "Cold spot, 95%",
            HotClass::Cold90 => "Cold spot, 90%",
            HotClass::NotSignificant => "not significant",
            HotClass::NotComputed => "not computed",
        }
    }

    pub fn is_hot(self) -> bool {
        matches!(self, HotClass::Hot99 | HotClass::Hot95 | HotClass::Hot90)
    }

    pub fn is_cold(self) -> bool {
        matches!(self, HotClass::Cold99 | HotClass::Cold95 | HotClass::Cold90)
    }
}

/// How much of the held-out period's incidents one map's flagged area caught.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// PAI = (n/N) / (a/A); `None` without incidents or flagged area.
    pub pai: Option<f64>,
    /// PAI over the best PAI any map of the same area could reach, in [0, 1].
    pub pei_star: Option<f64>,
    /// Held-out incidents caught (fractional where a tie was flagged in part) and in all.
    pub captured: f64,
    pub total: f64,
}

/// The hot-spot map drawn from the training period, scored on the held-out one beside the
/// baseline (the training period's counts, flagging the same share of the area).
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub training: String,
    pub held_out: String,
    /// Share of the area flagged (0..1).
    pub area_share: f64,
    /// Mahallas flagged by the method.
    pub flagged: u64,
    pub method: Score,
    pub baseline: Score,
    /// True when the method's PAI is strictly higher than the baseline's.
    pub method_preferred: bool,
}

/// Hot spots of the period and how well last period's hot spots forecast this one.
#[derive(Debug, Clone, PartialEq)]
pub struct HotSpots {
    /// One line on the method (weights, permutations, correction).
    pub method: String,
    /// `None` with the reason in `note`.
    pub forecast: Option<Forecast>,
    /// Why something is missing or what to keep in mind; empty when nothing.
    pub note: String,
}

/// One kind of prevention measure in the area's roadmap.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadmapKind {
    pub kind: String,
    pub total: u64,
    pub done: u64,
    pub cancelled: u64,
    pub overdue: u64,
}

impl RoadmapKind {
    /// done / (total - cancelled); `None` when nothing is left to do.
    pub fn progress(&self) -> Option<f64> {
        let open = self.total.saturating_sub(self.cancelled);
        (open > 0).then(|| self.done as f64 / open as f64)
    }
}

/// The roadmap's progress in the area (where roadmaps are recorded), as it stood at the end of
/// the period.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoadmapSection {
    /// The day the counts stand at (the period's last day).
    pub as_of: String,
    pub by_kind: Vec<RoadmapKind>,
    /// Mahallas of the area, and how many of them had no measure of their own by then.
    pub mahallas: u64,
    pub mahallas_without_measures: u64,
    /// Measures marked done whose evidence no second person had checked: not counted as done.
    pub awaiting_verification: u64,
}

impl RoadmapSection {
    /// All kinds together.
    pub fn overall(&self) -> RoadmapKind {
        let mut t = RoadmapKind {
            kind: "all".into(),
            total: 0,
            done: 0,
            cancelled: 0,
            overdue: 0,
        };
        for k in &self.by_kind {
            t.total += k.total;
            t.done += k.done;
            t.cancelled += k.cancelled;
            t.overdue += k.overdue;
        }
        t
    }
}

/// Incidents of the period in which a minor, a young person or a woman was affected: aggregate
/// counts only; nobody is named anywhere in a report.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Affected {
    pub incidents: u64,
    pub minor: u64,
    pub youth: u64,
    pub woman: u64,
}

/// Fraud and cybercrime among all incidents of the period.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cyber {
    pub fraud: u64,
    pub cybercrime: u64,
    pub all: u64,
}

impl Cyber {
    /// (fraud + cybercrime) / all; `None` without incidents.
    pub fn share(&self) -> Option<f64> {
        (self.all > 0).then(|| (self.fraud + self.cybercrime) as f64 / self.all as f64)
    }
}

/// A mahalla's outline for the map, in lon/lat degrees.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// Rings of its polygons (outer rings and holes, filled even-odd).
    Rings(Vec<Vec<[f64; 2]>>),
    /// Only a point is known.
    Point([f64; 2]),
}

/// One mahalla of the area.
#[derive(Debug, Clone, PartialEq)]
pub struct MahallaInfo {
    pub id: i64,
    pub name: String,
    pub population: Option<u32>,
    /// Incidents in the period (all sources).
    pub count: u64,
    pub crime_free: bool,
    /// Crime-free, and the zero is unlikely by chance given its district's rate.
    pub surprising_zero: bool,
    /// P(0) given its district's rate (leaving it out); `None` where no reference rate exists.
    pub p_zero: Option<f64>,
    /// Its rate (in the report's rate unit) and the same pulled towards the overall rate by how
    /// little its population tells (empirical Bayes: what "red" ranks on).
    pub rate: f64,
    pub eb_rate: f64,
    /// `P(X >= count)` at the overall rate, after Benjamini-Hochberg over the area's mahallas.
    pub q_high: f64,
    /// Its place on the red list (1 = worst), if on it.
    pub red_rank: Option<u32>,
    pub hot: HotClass,
    pub geometry: Option<Geometry>,
}

/// Everything a period report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodReportData {
    pub area: AreaInfo,
    pub period: PeriodInfo,
    /// `per 1,000 residents` or `per mahalla` (when no population is known).
    pub rate_unit: String,
    /// Every source, in a fixed order; [`CategoryCounts::by_source`] follows it.
    pub sources: Vec<SourceCounts>,
    /// Categories with at least one incident in the period.
    pub categories: Vec<CategoryCounts>,
    /// Per source and category, where any of the three periods has an incident.
    pub trends: Vec<TrendRow>,
    pub monthly: Monthly,
    pub crime_free: CrimeFree,
    pub hot_spots: HotSpots,
    /// `None`: no roadmap is recorded for the area (shown as "not recorded").
    pub roadmap: Option<RoadmapSection>,
    pub affected: Affected,
    pub cyber: Cyber,
    /// The mahallas of the area, in the order to list them.
    pub mahallas: Vec<MahallaInfo>,
}

impl PeriodReportData {
    /// Incidents of the period in the area, all sources.
    pub fn total(&self) -> u64 {
        self.sources.iter().map(|s| s.current).sum()
    }
}
