//! Trends: counts and rates in a period against the previous period and the same period a year
//! before, per source and per category, every change tested exactly.
//!
//! **Sources are never added together.** Every series is one source: reports by the public,
//! finds by patrols, confirmed camera events and inspectors' records each have their own.
//! Patrol finds follow where patrols already go; a series that mixed them with public reports
//! would feed the loop (more patrols, more finds, more patrols). The report's shape makes the
//! mix impossible: `by_source -> {all_categories, by_category}`, with no total over sources.
//!
//! **The test.** For counts `x1` in a period of length `t1` and `x2` in one of length `t2` (the
//! same area, so the same population), under "the rate did not change" `x1` given `n = x1 + x2`
//! is Binomial(`n`, `t1 / (t1 + t2)`): the conditional binomial test for two Poisson counts
//! (Przyborowski and Wilenski 1940), exact for any counts, small ones included. The two-sided
//! p-value is the "minlike" one of R's `poisson.test` / `binom.test` and scipy's `binomtest`;
//! the rate ratio `(x1/t1) / (x2/t2)` has an exact interval from the Clopper-Pearson interval
//! `[pl, pu]` for the binomial proportion: `pl / (1 - pl) * t2 / t1` to `pu / (1 - pu) * t2 / t1`.
//! The p-values of every series and comparison in a report are corrected together
//! (Benjamini-Hochberg); a change is called "up" or "down" only when `q < alpha`.
use std::collections::{BTreeMap, HashMap};

use domain::{Area, Category, Source};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::crimefree::{N_SOURCES, RateUnit};
use crate::data::{Geography, IncidentRecord, MahallaRecord, Period, UZ_OFFSET_S, in_area};
use crate::gistar::benjamini_hochberg;
use crate::special::{binom_test_two_sided, clopper_pearson};

const N_CATEGORIES: usize = Category::ALL.len();

fn default_alpha() -> f64 {
    0.05
}
fn default_confidence() -> f64 {
    0.95
}

/// What to compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendQuery {
    pub current: Period,
    /// Default: for a period of whole calendar months (local time), the same number of months
    /// just before (February before March; lengths may differ, the test allows for it);
    /// otherwise the period of the same length just before.
    #[serde(default)]
    pub previous: Option<Period>,
    /// Default: `current` one calendar year earlier in Uzbekistan's time (UTC+5).
    #[serde(default)]
    pub year_before: Option<Period>,
    /// `None`: every mahalla given.
    #[serde(default)]
    pub area: Option<Area>,
    /// False-discovery rate for calling a change (default 0.05).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Confidence of the rate-ratio intervals (default 0.95).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
}

impl TrendQuery {
    pub fn new(current: Period) -> TrendQuery {
        TrendQuery {
            current,
            previous: None,
            year_before: None,
            area: None,
            alpha: default_alpha(),
            confidence: default_confidence(),
        }
    }
}

/// What a comparison says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
    /// Not significant after the false-discovery correction (or nothing to compare).
    NoClearChange,
}

/// One period's count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodCount {
    pub count: u64,
    /// Per 1,000 residents of the area over the period (per mahalla when no population is
    /// known); `None` when the area has no exposure.
    pub rate: Option<f64>,
}

/// The current period against one earlier period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub count: u64,
    pub rate: Option<f64>,
    /// `(current / its length) / (earlier / its length)`; `None` when the earlier count is 0.
    pub rate_ratio: Option<f64>,
    /// Exact interval for the rate ratio; `ci_high` is `None` when unbounded (current = 0 gives
    /// `ci_low` 0; earlier = 0 gives no upper bound).
    pub ci_low: f64,
    pub ci_high: Option<f64>,
    /// Exact two-sided p-value (conditional binomial test).
    pub p: f64,
    /// `p` after Benjamini-Hochberg over every comparison in the report.
    pub q: f64,
    pub direction: Direction,
}

/// One series (a source, and all or one category).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub current: PeriodCount,
    pub previous: Change,
    pub year_before: Change,
}

/// Every series of one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceTrends {
    pub all_categories: Trend,
    /// Categories with at least one incident in one of the three periods.
    pub by_category: BTreeMap<Category, Trend>,
}

/// The trend report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendReport {
    pub current: Period,
    pub previous: Period,
    pub year_before: Period,
    pub area: Option<Area>,
    pub mahallas: usize,
    /// The area's residents (imputed where unknown: see `population_imputed`).
    pub population: f64,
    /// Mahallas of the area whose population was imputed.
    pub population_imputed: usize,
    pub rate_unit: RateUnit,
    pub alpha: f64,
    pub confidence: f64,
    /// How many comparisons were tested (and corrected for together).
    pub tests: usize,
    /// One entry per source, always all four; never a sum over sources.
    pub by_source: BTreeMap<Source, SourceTrends>,
    /// Incidents whose mahalla is not among those given.
    pub unplaced_incidents: u64,
}

/// Compare `x1` in a period of length `t1` with `x2` in one of length `t2`.
fn compare(x1: u64, t1: f64, x2: u64, t2: f64, confidence: f64) -> Change {
    let n = x1 + x2;
    let (p, ci_low, ci_high) = if n == 0 {
        (1.0, 0.0, None)
    } else {
        let p0 = t1 / (t1 + t2);
        let p = binom_test_two_sided(x1, n, p0);
        let (pl, pu) = clopper_pearson(x1, n, confidence);
        let to_rr = |pp: f64| pp / (1.0 - pp) * t2 / t1;
        let hi = if pu >= 1.0 { None } else { Some(to_rr(pu)) };
        (p, to_rr(pl), hi)
    };
    let rate_ratio = if x2 == 0 {
        None
    } else {
        Some((x1 as f64 / t1) / (x2 as f64 / t2))
    };
    Change {
        count: x2,
        rate: None,
        rate_ratio,
        ci_low,
        ci_high,
        p,
        q: p,
        direction: Direction::NoClearChange,
    }
}

/// Trends for `q` from the mahallas and incidents given.
pub fn trends(
    mahallas: &[MahallaRecord],
    incidents: &[IncidentRecord],
    q: &TrendQuery,
) -> Result<TrendReport, Error> {
    let in_unit = |v: f64| v > 0.0 && v < 1.0;
    if !in_unit(q.alpha) || !in_unit(q.confidence) {
        return Err(Error::InvalidInput(format!(
            "alpha ({}) and confidence ({}) must be between 0 and 1",
            q.alpha, q.confidence
        )));
    }
    let geo = Geography::new(mahallas)?;
    let previous = q
        .previous
        .or_else(|| q.current.previous_calendar(UZ_OFFSET_S))
        .unwrap_or_else(|| q.current.previous());
    let year_before = q
        .year_before
        .unwrap_or_else(|| q.current.year_before(UZ_OFFSET_S));
    for (name, p) in [("previous", previous), ("year_before", year_before)] {
        if p.end <= p.start {
            return Err(Error::InvalidInput(format!(
                "the {name} period ends at or before it starts; give an end after the start"
            )));
        }
    }
    let periods = [q.current, previous, year_before];
    let in_area_flags: Vec<bool> = geo
        .mahallas
        .iter()
        .map(|m| in_area(q.area.as_ref(), m))
        .collect();
    let members = in_area_flags.iter().filter(|&&b| b).count();
    let population: f64 = (0..geo.mahallas.len())
        .filter(|&i| in_area_flags[i])
        .map(|i| geo.exposure[i])
        .sum();
    let population_imputed = (0..geo.mahallas.len())
        .filter(|&i| in_area_flags[i] && geo.basis[i].imputed())
        .count();
    let (unit, scale) = if geo.per_mahalla() {
        (RateUnit::PerMahalla, 1.0)
    } else {
        (RateUnit::Per1000Residents, 1000.0)
    };
    let rate = |c: u64| (population > 0.0).then(|| c as f64 / population * scale);

    // counts[source][category][period]
    let mut counts = [[[0u64; 3]; N_CATEGORIES]; N_SOURCES];
    let src_idx: HashMap<Source, usize> = Source::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, i))
        .collect();
    let cat_idx: HashMap<Category, usize> = Category::ALL
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i))
        .collect();
    let mut unplaced = 0u64;
    for inc in incidents {
        // Each period is counted on its own: periods given explicitly may overlap (a
        // 13-month period's "previous" and "year before" do).
        let inside = periods.map(|p| p.contains(inc.at));
        if !inside.iter().any(|&b| b) {
            continue;
        }
        match geo.index.get(&inc.mahalla) {
            Some(&i) if in_area_flags[i] => {
                let cell = &mut counts[src_idx[&inc.source]][cat_idx[&inc.category]];
                for (c, b) in cell.iter_mut().zip(inside) {
                    *c += u64::from(b);
                }
            }
            Some(_) => {}
            None => unplaced += 1,
        }
    }
    let lens: Vec<f64> = periods.iter().map(|p| p.micros() as f64).collect();
    let trend = |c: [u64; 3]| Trend {
        current: PeriodCount {
            count: c[0],
            rate: rate(c[0]),
        },
        previous: Change {
            rate: rate(c[1]),
            ..compare(c[0], lens[0], c[1], lens[1], q.confidence)
        },
        year_before: Change {
            rate: rate(c[2]),
            ..compare(c[0], lens[0], c[2], lens[2], q.confidence)
        },
    };
    let mut by_source = BTreeMap::new();
    for (si, s) in Source::ALL.iter().enumerate() {
        let mut all = [0u64; 3];
        let mut by_category = BTreeMap::new();
        for (ci, c) in Category::ALL.iter().enumerate() {
            let v = counts[si][ci];
            for (a, x) in all.iter_mut().zip(v) {
                *a += x;
            }
            if v.iter().any(|&x| x > 0) {
                by_category.insert(*c, trend(v));
            }
        }
        by_source.insert(
            *s,
            SourceTrends {
                all_categories: trend(all),
                by_category,
            },
        );
    }
    // Benjamini-Hochberg over every comparison.
    let mut changes: Vec<&mut Change> = Vec::new();
    for st in by_source.values_mut() {
        changes.push(&mut st.all_categories.previous);
        changes.push(&mut st.all_categories.year_before);
        for t in st.by_category.values_mut() {
            changes.push(&mut t.previous);
            changes.push(&mut t.year_before);
        }
    }
    let p: Vec<f64> = changes.iter().map(|c| c.p).collect();
    let qv = benjamini_hochberg(&p);
    let tests = changes.len();
    for (c, qq) in changes.into_iter().zip(qv) {
        c.q = qq;
        c.direction = if qq < q.alpha {
            // Significant: the direction of the observed rate change.
            match c.rate_ratio {
                Some(r) if r < 1.0 => Direction::Down,
                _ => Direction::Up,
            }
        } else {
            Direction::NoClearChange
        };
    }
    Ok(TrendReport {
        current: q.current,
        previous,
        year_before,
        area: q.area,
        mahallas: members,
        population,
        population_imputed,
        rate_unit: unit,
        alpha: q.alpha,
        confidence: q.confidence,
        tests,
        by_source,
        unplaced_incidents: unplaced,
    })
}

/// Counts per period bin for charts: one series per source (and per category within it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub bins: Vec<Period>,
    pub by_source: BTreeMap<Source, SourceSeries>,
}

/// One source's counts per bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceSeries {
    pub all_categories: Vec<u64>,
    pub by_category: BTreeMap<Category, Vec<u64>>,
}

/// Incidents of the area per bin (`bins` sorted and not overlapping, e.g. consecutive months),
/// one series per source.
pub fn count_series(
    mahallas: &[MahallaRecord],
    incidents: &[IncidentRecord],
    area: Option<&Area>,
    bins: &[Period],
) -> Result<Series, Error> {
    for w in bins.windows(2) {
        if w[1].start < w[0].end {
            return Err(Error::InvalidInput(format!(
                "bins must be in time order and must not overlap: one ends at {} after the next \
                 starts at {}",
                w[0].end, w[1].start
            )));
        }
    }
    let geo = Geography::new(mahallas)?;
    let nb = bins.len();
    let mut counts = vec![[[0u64; N_CATEGORIES]; N_SOURCES]; nb];
    for inc in incidents {
        let Some(&i) = geo.index.get(&inc.mahalla) else {
            continue;
        };
        if !in_area(area, &geo.mahallas[i]) {
            continue;
        }
        // First bin whose end is after the time; it holds the time if it started before it.
        let b = bins.partition_point(|p| p.end <= inc.at);
        if b < nb && bins[b].contains(inc.at) {
            let si = Source::ALL
                .iter()
                .position(|s| *s == inc.source)
                .unwrap_or(0);
            let ci = Category::ALL
                .iter()
                .position(|c| *c == inc.category)
                .unwrap_or(0);
            counts[b][si][ci] += 1;
        }
    }
    let mut by_source = BTreeMap::new();
    for (si, s) in Source::ALL.iter().enumerate() {
        let all = (0..nb).map(|b| counts[b][si].iter().sum()).collect();
        let mut by_category = BTreeMap::new();
        for (ci, c) in Category::ALL.iter().enumerate() {
            let v: Vec<u64> = (0..nb).map(|b| counts[b][si][ci]).collect();
            if v.iter().any(|&x| x > 0) {
                by_category.insert(*c, v);
            }
        }
        by_source.insert(
            *s,
            SourceSeries {
                all_categories: all,
                by_category,
            },
        );
    }
    Ok(Series {
        bins: bins.to_vec(),
        by_source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{DAY_US, month};
    use domain::{DistrictId, MahallaId, RegionId, Timestamp};

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn compare_by_hand() {
        // 10 against 2 in equal periods: p = 2 * 79 / 4096, rate ratio 5.
        let c = compare(10, 1.0, 2, 1.0, 0.95);
        assert!(close(c.p, 158.0 / 4096.0, 1e-12), "{}", c.p);
        assert_eq!(c.rate_ratio, Some(5.0));
        // Interval: Clopper-Pearson for 10 of 12, mapped through p / (1 - p).
        let (pl, pu) = clopper_pearson(10, 12, 0.95);
        assert!(close(c.ci_low, pl / (1.0 - pl), 1e-12));
        assert!(close(c.ci_high.unwrap(), pu / (1.0 - pu), 1e-12));
        assert!(c.ci_low < 5.0 && 5.0 < c.ci_high.unwrap());
        // Unequal lengths: 31 days against 28 with 31 and 28 incidents is no change at all.
        let c = compare(31, 31.0, 28, 28.0, 0.95);
        assert_eq!(c.p, 1.0);
        assert!(close(c.rate_ratio.unwrap(), 1.0, 1e-15));
        // Nothing before: no ratio, no upper bound.
        let c = compare(4, 1.0, 0, 1.0, 0.95);
        assert_eq!(c.rate_ratio, None);
        assert_eq!(c.ci_high, None);
        assert!(close(c.p, 2.0 / 16.0, 1e-12)); // 4 of 4 at 1/2: 2 * (1/2)^4
        // Nothing at all.
        let c = compare(0, 1.0, 0, 1.0, 0.95);
        assert_eq!((c.p, c.rate_ratio, c.ci_high), (1.0, None, None));
    }

    fn mahallas() -> Vec<MahallaRecord> {
        (1..=4)
            .map(|i| MahallaRecord {
                id: MahallaId(i),
                district: DistrictId(1 + i / 3),
                region: RegionId(1),
                population: Some(2500),
            })
            .collect()
    }

    fn inc(at: Timestamp, m: i64, s: Source, c: Category) -> IncidentRecord {
        IncidentRecord {
            at,
            mahalla: MahallaId(m),
            category: c,
            source: s,
            point: None,
        }
    }

    #[test]
    fn sources_are_kept_apart_and_changes_called() {
        let cur = month(2024, 3, UZ_OFFSET_S);
        let prev = month(2024, 2, UZ_OFFSET_S);
        let yb = month(2023, 3, UZ_OFFSET_S);
        let mut incs = Vec::new();
        let at = |p: Period, k: i64| p.start.saturating_add_micros(k * DAY_US / 3);
        // Public thefts: 40 now, 10 a month before, 12 a year before.
        for k in 0..40 {
            incs.push(inc(at(cur, k), 1 + k % 4, Source::Public, Category::Theft));
        }
        for k in 0..10 {
            incs.push(inc(at(prev, k), 1, Source::Public, Category::Theft));
        }
        for k in 0..12 {
            incs.push(inc(at(yb, k), 2, Source::Public, Category::Theft));
        }
        // Patrol drug finds: 5 now, 6 before.
        for k in 0..5 {
            incs.push(inc(at(cur, k), 3, Source::Patrol, Category::DrugOffence));
        }
        for k in 0..6 {
            incs.push(inc(at(prev, k), 3, Source::Patrol, Category::DrugOffence));
        }
        let mut q = TrendQuery::new(cur);
        let r = trends(&mahallas(), &incs, &q).unwrap();
        // A calendar month is compared with the calendar month before and a year before.
        assert_eq!(r.previous, prev);
        assert_eq!(r.year_before, yb);
        assert_eq!(r.population, 10_000.0);
        let public = &r.by_source[&Source::Public];
        assert_eq!(public.all_categories.current.count, 40);
        assert_eq!(public.all_categories.previous.count, 10);
        assert_eq!(public.all_categories.year_before.count, 12);
        assert_eq!(public.all_categories.current.rate, Some(4.0));
        assert_eq!(public.all_categories.previous.direction, Direction::Up);
        // 40 in 31 days against 10 in 29: p0 = 31/60.
        let want = binom_test_two_sided(40, 50, 31.0 / 60.0);
        assert!(close(public.all_categories.previous.p, want, 1e-14));
        let patrol = &r.by_source[&Source::Patrol];
        assert_eq!(patrol.all_categories.current.count, 5);
        assert_eq!(
            patrol.all_categories.previous.direction,
            Direction::NoClearChange
        );
        assert!(!patrol.by_category.contains_key(&Category::Theft));
        assert_eq!(r.by_source.len(), Source::ALL.len());
        // Tests: public (all + theft) and patrol (all + drugs), camera and inspector (all): 6
        // series, 2 comparisons each.
        assert_eq!(r.tests, 12);
        // Explicit periods may overlap: each is counted on its own.
        let mut q2 = q.clone();
        q2.year_before = Some(prev);
        let r2 = trends(&mahallas(), &incs, &q2).unwrap();
        let p2 = &r2.by_source[&Source::Public].all_categories;
        assert_eq!((p2.previous.count, p2.year_before.count), (10, 10));
        // Area: district 2 only (mahallas 3 and 4).
        q.area = Some(Area::District {
            region: RegionId(1),
            district: DistrictId(2),
        });
        let r = trends(&mahallas(), &incs, &q).unwrap();
        assert_eq!(
            r.by_source[&Source::Public].all_categories.current.count,
            20
        );
        assert_eq!(
            r.by_source[&Source::Public]
                .all_categories
                .year_before
                .count,
            0
        );
        assert_eq!(r.mahallas, 2);
    }

    #[test]
    fn series_per_bin() {
        let bins: Vec<Period> = (1..=3).map(|m| month(2024, m, UZ_OFFSET_S)).collect();
        let incs = vec![
            inc(bins[0].start, 1, Source::Public, Category::Theft),
            inc(bins[2].start, 1, Source::Public, Category::Fraud),
            inc(bins[2].end, 1, Source::Public, Category::Fraud), // after the last bin
            inc(bins[1].start, 2, Source::Patrol, Category::Theft),
        ];
        let s = count_series(&mahallas(), &incs, None, &bins).unwrap();
        assert_eq!(s.by_source[&Source::Public].all_categories, vec![1, 0, 1]);
        assert_eq!(s.by_source[&Source::Patrol].all_categories, vec![0, 1, 0]);
        assert_eq!(
            s.by_source[&Source::Public].by_category[&Category::Fraud],
            vec![0, 0, 1]
        );
        let mut rev = bins.clone();
        rev.reverse();
        assert!(count_series(&mahallas(), &incs, None, &rev).is_err());
    }
}
