//! Crime-free mahallas and the worst ("red") ones for a period and area, with the care small
//! counts need.
//!
//! **Crime-free.** A mahalla is crime-free when none of the selected incidents fell in it in the
//! period. How surprising that zero is depends on its exposure: with `e_i` residents and its
//! district's rate `r`, the count is about Poisson with mean `mu_i = r e_i`, and
//! `P(0 | mu_i) = exp(-mu_i)`. A mahalla of 300 people in a district of 3 incidents per 1,000 has
//! `mu = 0.9` and a zero happens 41% of the time; one of 30,000 has `mu = 90` and a zero is
//! practically impossible by chance. The district's rate leaves the mahalla itself out
//! (`r_{-i} = (C_d - c_i) / (E_d - e_i)`): including its own zero would pull the reference
//! towards it, most for a large mahalla in a small district. A mahalla alone in its district
//! is compared with the rest of its region, and one alone in its region with everything else.
//! `p_low = P(X <= c_i | mu_i)` (for a zero, `exp(-mu_i)`) is corrected for the number of
//! mahallas in the area (Benjamini-Hochberg); a crime-free mahalla with `q_low < alpha` is a
//! "surprising zero". A surprising zero is worth a look, not a medal: it can mean real safety
//! or that nobody reports.
//!
//! **Red.** The worst mahallas by rate, ranked on an empirical-Bayes rate (Marshall 1991, the
//! global moment estimator: each raw rate is pulled towards the overall rate, the more the
//! smaller its exposure), among those whose count is significantly above the overall rate
//! (exact Poisson upper tail `P(X >= c_i | r_{-i} e_i)` with the overall rate leaving the
//! mahalla out, Benjamini-Hochberg over the area, `q_high < alpha`). Two incidents among 30
//! residents are a raw rate of 67 per 1,000 but neither significant nor high once shrunk; they
//! do not make the list. By default a mahalla whose population is unknown (its exposure
//! imputed) is not put on the red list: a rate with a guessed denominator is not a rate.
//!
//! Unknown populations: see [`crate::data::Geography`] (the district mean of known populations,
//! flagged in every row as `exposure_basis`).
use std::collections::{BTreeMap, HashMap};

use domain::{Area, Category, DistrictId, MahallaId, RegionId, Source};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::data::{
    ExposureBasis, Geography, IncidentRecord, MahallaRecord, Period, SourceSet, category_allowed,
    in_area,
};
use crate::gistar::benjamini_hochberg;
use crate::special::{poisson_cdf, poisson_sf_ge};

/// Number of incident sources (`domain::Source::ALL.len()`).
pub const N_SOURCES: usize = Source::ALL.len();

fn source_index(s: Source) -> usize {
    Source::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// Incident counts per mahalla (in [`Geography`] order), in total and per source.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    pub total: Vec<u64>,
    pub by_source: Vec<[u64; N_SOURCES]>,
    /// Selected incidents whose mahalla is not among those given (not counted anywhere).
    pub unplaced: u64,
}

/// Counts of the incidents in `period` from `sources` (and `categories`, if given) per mahalla.
pub fn count_incidents(
    geo: &Geography,
    incidents: &[IncidentRecord],
    period: &Period,
    sources: SourceSet,
    categories: Option<&[Category]>,
) -> Counts {
    let n = geo.mahallas.len();
    let mut c = Counts {
        total: vec![0; n],
        by_source: vec![[0; N_SOURCES]; n],
        unplaced: 0,
    };
    for inc in incidents {
        if !period.contains(inc.at)
            || !sources.contains(inc.source)
            || !category_allowed(categories, inc.category)
        {
            continue;
        }
        match geo.index.get(&inc.mahalla) {
            Some(&i) => {
                c.total[i] += 1;
                c.by_source[i][source_index(inc.source)] += 1;
            }
            None => c.unplaced += 1,
        }
    }
    c
}

fn default_alpha() -> f64 {
    0.05
}
fn default_red_limit() -> usize {
    20
}
fn default_true() -> bool {
    true
}
fn all_sources() -> SourceSet {
    SourceSet::all()
}

/// What to compute: the period, the area listed (the reference rates always use every mahalla
/// given), which incidents count, and the red list's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrimeFreeQuery {
    pub period: Period,
    /// The mahallas to list; `None`: all given.
    #[serde(default)]
    pub area: Option<Area>,
    /// Which sources count (default: all; crime-free then means nothing known from anyone).
    #[serde(default = "all_sources")]
    pub sources: SourceSet,
    /// Which categories count; `None`: all.
    #[serde(default)]
    pub categories: Option<Vec<Category>>,
    /// False-discovery rate for "surprising zero" and "red" (default 0.05).
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// How many red mahallas to list at most (default 20).
    #[serde(default = "default_red_limit")]
    pub red_limit: usize,
    /// Leave mahallas with an imputed population off the red list (default true).
    #[serde(default = "default_true")]
    pub red_needs_population: bool,
}

impl CrimeFreeQuery {
    /// Defaults for a period: all sources and categories, everywhere, alpha 0.05, 20 red.
    pub fn new(period: Period) -> CrimeFreeQuery {
        CrimeFreeQuery {
            period,
            area: None,
            sources: SourceSet::all(),
            categories: None,
            alpha: default_alpha(),
            red_limit: default_red_limit(),
            red_needs_population: true,
        }
    }
}

/// The unit rates are given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateUnit {
    /// Incidents per 1,000 residents over the period.
    #[serde(rename = "per_1000_residents")]
    Per1000Residents,
    /// No population is known anywhere: incidents per mahalla over the period.
    PerMahalla,
}

/// Which mahallas a mahalla's reference rate for "crime-free" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    /// The other mahallas of its district.
    District,
    /// It is alone in its district: the rest of its region.
    Region,
    /// Alone in its region too: every other mahalla.
    All,
    /// It is the only mahalla given: no reference (p = 1).
    None,
}

/// One mahalla of the area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MahallaRow {
    pub mahalla: MahallaId,
    pub district: DistrictId,
    pub region: RegionId,
    /// Selected incidents in the period.
    pub count: u64,
    /// The same per source (selected sources only): public reports and patrol finds apart.
    pub by_source: BTreeMap<Source, u64>,
    /// Registered residents, if known.
    pub population: Option<u32>,
    /// The population the rate is per: `population`, or the imputed value (see `exposure_basis`).
    pub exposure: f64,
    pub exposure_basis: ExposureBasis,
    /// Raw rate (`count / exposure`, in the report's `rate_unit`).
    pub rate: f64,
    /// Empirical-Bayes rate: the raw rate pulled towards the overall rate by how little the
    /// exposure tells (what "red" ranks on).
    pub eb_rate: f64,
    /// Where the crime-free reference rate came from.
    pub reference: Reference,
    /// Reference rate (the district's without this mahalla), in `rate_unit`; `None` when it
    /// is the only mahalla given.
    pub reference_rate: Option<f64>,
    /// Expected count at the reference rate.
    pub expected: Option<f64>,
    /// `P(X <= count)` at that expectation; for a crime-free mahalla `P(0) = exp(-expected)`.
    pub p_low: f64,
    /// `p_low` after Benjamini-Hochberg over the area's mahallas.
    pub q_low: f64,
    /// Expected count at the overall rate without this mahalla (for "red").
    pub expected_overall: Option<f64>,
    /// `P(X >= count)` at `expected_overall`.
    pub p_high: f64,
    /// `p_high` after Benjamini-Hochberg over the area's mahallas.
    pub q_high: f64,
    pub crime_free: bool,
    /// Crime-free and `q_low < alpha`: a zero unlikely by chance at the district's rate.
    pub surprising_zero: bool,
    pub red: bool,
}

/// The crime-free list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrimeFreeSummary {
    /// Crime-free mahallas in the area.
    pub count: usize,
    /// How many would be crime-free by chance if each had its reference rate:
    /// `sum exp(-expected)`, with its standard deviation.
    pub expected: f64,
    pub expected_sd: f64,
    /// Crime-free mahallas whose zero is surprising (`q_low < alpha`).
    pub surprising: usize,
    /// The crime-free mahallas, most surprising zero first (smallest `p_low`).
    pub mahallas: Vec<MahallaId>,
}

/// The red list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedSummary {
    /// The overall rate (all mahallas given), in `rate_unit`.
    pub overall_rate: f64,
    /// Mahallas that qualify (significantly above the overall rate, population known unless
    /// the query allowed imputed ones).
    pub qualifying: usize,
    /// The worst `red_limit` of them by empirical-Bayes rate, worst first.
    pub mahallas: Vec<MahallaId>,
}

/// Everything the console shows for one crime-free query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrimeFreeReport {
    pub period: Period,
    pub period_days: f64,
    pub sources: SourceSet,
    /// The counts add public reports and patrol finds (a warning to show: patrol finds follow
    /// where patrols already go).
    pub mixes_public_and_patrol: bool,
    pub categories: Option<Vec<Category>>,
    pub rate_unit: RateUnit,
    pub alpha: f64,
    /// Mahallas in the area.
    pub mahallas: usize,
    /// Selected incidents in the area's mahallas.
    pub incidents: u64,
    /// Selected incidents whose mahalla was not among those given.
    pub unplaced_incidents: u64,
    /// Mahallas of the area whose population was imputed.
    pub exposure_imputed: usize,
    pub crime_free: CrimeFreeSummary,
    pub red: RedSummary,
    /// Every mahalla of the area, in input order.
    pub rows: Vec<MahallaRow>,
}

/// Crime-free and red mahallas for `q` from the mahallas and incidents given.
pub fn crime_free(
    mahallas: &[MahallaRecord],
    incidents: &[IncidentRecord],
    q: &CrimeFreeQuery,
) -> Result<CrimeFreeReport, Error> {
    let geo = Geography::new(mahallas)?;
    let counts = count_incidents(
        &geo,
        incidents,
        &q.period,
        q.sources,
        q.categories.as_deref(),
    );
    crime_free_from_counts(&geo, &counts, q)
}

/// Leave-one-out reference rate: `(C - c) / (E - e)` when others exist.
fn loo(total: (f64, f64, usize), c: f64, e: f64) -> Option<f64> {
    let (tc, te, tn) = total;
    if tn <= 1 {
        return None;
    }
    let rest_e = te - e;
    if rest_e <= 0.0 {
        return None;
    }
    Some(((tc - c) / rest_e).max(0.0))
}

/// [`crime_free`] on counts already made (see [`count_incidents`]).
pub fn crime_free_from_counts(
    geo: &Geography,
    counts: &Counts,
    q: &CrimeFreeQuery,
) -> Result<CrimeFreeReport, Error> {
    let n = geo.mahallas.len();
    if counts.total.len() != n || counts.by_source.len() != n {
        return Err(Error::InvalidInput(format!(
            "{} counts for {n} mahallas; count with count_incidents on the same geography",
            counts.total.len()
        )));
    }
    if !(q.alpha > 0.0 && q.alpha < 1.0) {
        return Err(Error::InvalidInput(format!(
            "alpha must be between 0 and 1 (e.g. 0.05), got {}",
            q.alpha
        )));
    }
    if q.sources.is_empty() {
        return Err(Error::InvalidInput(
            "no sources selected; choose at least one of public, patrol, camera, inspector".into(),
        ));
    }
    let unit = if geo.per_mahalla() {
        RateUnit::PerMahalla
    } else {
        RateUnit::Per1000Residents
    };
    let scale = match unit {
        RateUnit::Per1000Residents => 1000.0,
        RateUnit::PerMahalla => 1.0,
    };
    // Totals per district, region and overall (count, exposure, mahallas).
    let mut by_d: HashMap<DistrictId, (f64, f64, usize)> = HashMap::new();
    let mut by_r: HashMap<RegionId, (f64, f64, usize)> = HashMap::new();
    let mut all = (0.0, 0.0, 0usize);
    for (i, m) in geo.mahallas.iter().enumerate() {
        let (c, e) = (counts.total[i] as f64, geo.exposure[i]);
        for t in [
            by_d.entry(m.district).or_default(),
            by_r.entry(m.region).or_default(),
            &mut all,
        ] {
            t.0 += c;
            t.1 += e;
            t.2 += 1;
        }
    }
    // Marshall's global empirical-Bayes estimator.
    let overall = if all.1 > 0.0 { all.0 / all.1 } else { 0.0 };
    let mean_e = all.1 / n.max(1) as f64;
    let s2 = if n > 0 && all.1 > 0.0 {
        let v = geo
            .mahallas
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let e = geo.exposure[i];
                let r = counts.total[i] as f64 / e;
                e * (r - overall) * (r - overall)
            })
            .sum::<f64>()
            / all.1
            - overall / mean_e;
        v.max(0.0)
    } else {
        0.0
    };

    let members: Vec<usize> = (0..n)
        .filter(|&i| in_area(q.area.as_ref(), &geo.mahallas[i]))
        .collect();
    let mut rows = Vec::with_capacity(members.len());
    for &i in &members {
        let m = &geo.mahallas[i];
        let (c, e) = (counts.total[i], geo.exposure[i]);
        let cf = c as f64;
        let (reference, ref_rate) = if let Some(r) = loo(by_d[&m.district], cf, e) {
            (Reference::District, Some(r))
        } else if let Some(r) = loo(by_r[&m.region], cf, e) {
            (Reference::Region, Some(r))
        } else if let Some(r) = loo(all, cf, e) {
            (Reference::All, Some(r))
        } else {
            (Reference::None, None)
        };
        let (expected, p_low) = match ref_rate {
            None => (None, 1.0),
            Some(r) => (Some(r * e), poisson_cdf(c, r * e)),
        };
        let overall_loo = loo(all, cf, e);
        let (expected_overall, p_high) = match overall_loo {
            Some(r) => (Some(r * e), poisson_sf_ge(c, r * e)),
            None => (None, 1.0),
        };
        let rate = cf / e;
        let w = if s2 > 0.0 {
            s2 / (s2 + overall / e)
        } else {
            0.0
        };
        let eb = overall + w * (rate - overall);
        let mut by_source = BTreeMap::new();
        for (k, s) in Source::ALL.iter().enumerate() {
            if q.sources.contains(*s) {
                by_source.insert(*s, counts.by_source[i][k]);
            }
        }
        rows.push(MahallaRow {
            mahalla: m.id,
            district: m.district,
            region: m.region,
            count: c,
            by_source,
            population: m.population,
            exposure: e,
            exposure_basis: geo.basis[i],
            rate: rate * scale,
            eb_rate: eb * scale,
            reference,
            reference_rate: ref_rate.map(|r| r * scale),
            expected,
            p_low,
            q_low: 1.0,
            expected_overall,
            p_high,
            q_high: 1.0,
            crime_free: c == 0,
            surprising_zero: false,
            red: false,
        });
    }
    let p_low: Vec<f64> = rows.iter().map(|r| r.p_low).collect();
    let p_high: Vec<f64> = rows.iter().map(|r| r.p_high).collect();
    for (r, (ql, qh)) in rows.iter_mut().zip(
        benjamini_hochberg(&p_low)
            .into_iter()
            .zip(benjamini_hochberg(&p_high)),
    ) {
        r.q_low = ql;
        r.q_high = qh;
        r.surprising_zero = r.crime_free && ql < q.alpha;
    }

    // Crime-free list, most surprising first.
    let mut cf_idx: Vec<usize> = (0..rows.len()).filter(|&k| rows[k].crime_free).collect();
    cf_idx.sort_by(|&a, &b| {
        rows[a]
            .p_low
            .total_cmp(&rows[b].p_low)
            .then(rows[a].mahalla.cmp(&rows[b].mahalla))
    });
    let (mut exp_cf, mut var_cf) = (0.0, 0.0);
    for r in &rows {
        if let Some(mu) = r.expected {
            let p0 = (-mu).exp();
            exp_cf += p0;
            var_cf += p0 * (1.0 - p0);
        }
    }
    // Red list: significant excess, ranked by empirical-Bayes rate.
    let mut red_idx: Vec<usize> = (0..rows.len())
        .filter(|&k| {
            let r = &rows[k];
            r.q_high < q.alpha && (!q.red_needs_population || !r.exposure_basis.imputed())
        })
        .collect();
    red_idx.sort_by(|&a, &b| {
        rows[b]
            .eb_rate
            .total_cmp(&rows[a].eb_rate)
            .then(rows[a].p_high.total_cmp(&rows[b].p_high))
            .then(rows[a].mahalla.cmp(&rows[b].mahalla))
    });
    let qualifying = red_idx.len();
    red_idx.truncate(q.red_limit);
    for &k in &red_idx {
        rows[k].red = true;
    }
    Ok(CrimeFreeReport {
        period: q.period,
        period_days: q.period.days(),
        sources: q.sources,
        mixes_public_and_patrol: q.sources.mixes_public_and_patrol(),
        categories: q.categories.clone(),
        rate_unit: unit,
        alpha: q.alpha,
        mahallas: rows.len(),
        incidents: members.iter().map(|&i| counts.total[i]).sum(),
        unplaced_incidents: counts.unplaced,
        exposure_imputed: rows.iter().filter(|r| r.exposure_basis.imputed()).count(),
        crime_free: CrimeFreeSummary {
            count: cf_idx.len(),
            expected: exp_cf,
            expected_sd: var_cf.sqrt(),
            surprising: rows.iter().filter(|r| r.surprising_zero).count(),
            mahallas: cf_idx.iter().map(|&k| rows[k].mahalla).collect(),
        },
        red: RedSummary {
            overall_rate: overall * scale,
            qualifying,
            mahallas: red_idx.iter().map(|&k| rows[k].mahalla).collect(),
        },
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Timestamp;

    fn m(id: i64, d: i64, r: i64, p: Option<u32>) -> MahallaRecord {
        MahallaRecord {
            id: MahallaId(id),
            district: DistrictId(d),
            region: RegionId(r),
            population: p,
        }
    }

    fn period() -> Period {
        Period::new(
            Timestamp::from_unix_micros(0).unwrap(),
            Timestamp::from_unix_micros(30 * crate::data::DAY_US).unwrap(),
        )
        .unwrap()
    }

    fn report(ms: &[MahallaRecord], counts: &[u64], q: &CrimeFreeQuery) -> CrimeFreeReport {
        let geo = Geography::new(ms).unwrap();
        let mut by_source = vec![[0; N_SOURCES]; counts.len()];
        for (b, c) in by_source.iter_mut().zip(counts) {
            b[0] = *c;
        }
        let c = Counts {
            total: counts.to_vec(),
            by_source,
            unplaced: 0,
        };
        crime_free_from_counts(&geo, &c, q).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
    }

    /// A district of three mahallas: 300, 30,000 and 700 residents with 0, 60 and 3 incidents,
    /// and a second district so that "overall" differs from "district".
    #[test]
    fn zero_in_300_is_not_a_zero_in_30000() {
        let ms = [
            m(1, 1, 1, Some(300)),
            m(2, 1, 1, Some(30_000)),
            m(3, 1, 1, Some(700)),
            m(4, 2, 1, Some(10_000)),
            m(5, 2, 1, Some(10_000)),
        ];
        let counts = [0, 60, 3, 0, 10];
        let r = report(&ms, &counts, &CrimeFreeQuery::new(period()));
        // Mahalla 1: district without it has 63 incidents among 30,700 residents.
        let mu1 = 63.0 / 30_700.0 * 300.0;
        assert!(close(r.rows[0].expected.unwrap(), mu1));
        assert!(close(r.rows[0].p_low, (-mu1).exp())); // 0.540
        assert!(close(
            r.rows[0].reference_rate.unwrap(),
            63.0 / 30_700.0 * 1000.0
        ));
        // Mahalla 4 (10,000 residents, zero): its district without it: 10 per 10,000.
        let mu4 = 10.0;
        assert!(close(r.rows[3].expected.unwrap(), mu4));
        assert!(close(r.rows[3].p_low, (-10.0f64).exp()));
        // Crime-free: 1 and 4, 4 first (more surprising).
        assert_eq!(r.crime_free.count, 2);
        assert_eq!(r.crime_free.mahallas, vec![MahallaId(4), MahallaId(1)]);
        // Expected number crime-free by chance: sum of exp(-mu) over all five.
        let mu2 = 3.0 / 1000.0 * 30_000.0; // district without 2: 3 in 1,000
        let mu3 = 60.0 / 30_300.0 * 700.0;
        let mu5 = 0.0; // district without 5 has 0 incidents
        let want: f64 = [mu1, mu2, mu3, mu4, mu5].iter().map(|m| (-m).exp()).sum();
        assert!(
            close(r.crime_free.expected, want),
            "{} {want}",
            r.crime_free.expected
        );
        // BH over five p_low values: 4's p = e^-10 = 4.54e-5, rank 1 -> q = 5 p.
        assert!(close(r.rows[3].q_low, 5.0 * (-10.0f64).exp()));
        assert!(r.rows[3].surprising_zero);
        assert!(!r.rows[0].surprising_zero);
        assert_eq!(r.crime_free.surprising, 1);
        // Area filter: only district 1 listed, references unchanged.
        let mut q = CrimeFreeQuery::new(period());
        q.area = Some(Area::District {
            region: RegionId(1),
            district: DistrictId(1),
        });
        let r1 = report(&ms, &counts, &q);
        assert_eq!(r1.mahallas, 3);
        assert!(close(r1.rows[0].expected.unwrap(), mu1));
    }

    #[test]
    fn empirical_bayes_and_red_by_hand() {
        // Three mahallas, 1,000 residents each: 0, 2, 10 incidents. Overall rate m = 4/1000.
        // Raw rates r = 0, 0.002, 0.01; ebar = 1000.
        // s2 = sum e (r - m)^2 / E - m / ebar
        //    = 1000 (16e-6 + 4e-6 + 36e-6) / 3000 - 4e-6 = 18.6667e-6 - 4e-6 = 14.6667e-6.
        // w = s2 / (s2 + m / 1000) = 14.6667 / 18.6667 = 0.785714...
        let ms = [
            m(1, 1, 1, Some(1000)),
            m(2, 1, 1, Some(1000)),
            m(3, 2, 1, Some(1000)),
        ];
        let r = report(&ms, &[0, 2, 10], &CrimeFreeQuery::new(period()));
        let s2: f64 = 1000.0 * (16e-6 + 4e-6 + 36e-6) / 3000.0 - 4e-6;
        let w = s2 / (s2 + 4e-6);
        assert!((w - 0.785_714_285_714).abs() < 1e-9);
        for (row, raw) in r.rows.iter().zip([0.0, 0.002, 0.01]) {
            let want = (0.004 + w * (raw - 0.004)) * 1000.0;
            assert!(close(row.eb_rate, want), "{} {want}", row.eb_rate);
        }
        // Mahalla 3: overall rate without it is 2 / 2000, expected 1; P(X >= 10 | 1).
        assert!(close(r.rows[2].expected_overall.unwrap(), 1.0));
        let p = 1.0
            - (0..10)
                .map(|k| (-1.0f64).exp() / libm::tgamma(k as f64 + 1.0))
                .sum::<f64>();
        assert!(
            (r.rows[2].p_high - p).abs() < 1e-15,
            "{} {p}",
            r.rows[2].p_high
        );
        assert_eq!(r.red.mahallas, vec![MahallaId(3)]);
        assert!(close(r.red.overall_rate, 4.0));
    }

    #[test]
    fn small_counts_do_not_make_red() {
        // 2 incidents among 30 residents: raw rate 67 per 1,000, twenty times the others, but
        // the count is too small to mean much.
        let mut ms = vec![m(0, 1, 1, Some(30))];
        let mut counts = vec![2u64];
        for i in 1..=50 {
            ms.push(m(i, 1 + i % 5, 1, Some(3000)));
            counts.push(10);
        }
        let r = report(&ms, &counts, &CrimeFreeQuery::new(period()));
        assert!(r.rows[0].rate > 60.0);
        assert!(r.rows[0].q_high > 0.05, "{}", r.rows[0].q_high);
        assert!(!r.rows[0].red);
        assert!(r.rows[0].eb_rate < 10.0, "{}", r.rows[0].eb_rate);
        // A big mahalla with a real excess does make it.
        ms.push(m(99, 1, 1, Some(5000)));
        counts.push(60);
        let r = report(&ms, &counts, &CrimeFreeQuery::new(period()));
        assert_eq!(r.red.mahallas, vec![MahallaId(99)]);
    }

    #[test]
    fn imputed_population_is_flagged_and_kept_off_red() {
        let ms = [
            m(1, 1, 1, Some(1000)),
            m(2, 1, 1, Some(3000)),
            m(3, 1, 1, None),
            m(4, 2, 1, Some(2000)),
        ];
        let r = report(&ms, &[1, 3, 80, 2], &CrimeFreeQuery::new(period()));
        assert_eq!(r.rows[2].exposure, 2000.0);
        assert_eq!(r.rows[2].exposure_basis, ExposureBasis::DistrictMean);
        assert_eq!(r.exposure_imputed, 1);
        assert!(r.rows[2].q_high < 0.05);
        assert!(r.red.mahallas.is_empty());
        let mut q = CrimeFreeQuery::new(period());
        q.red_needs_population = false;
        let r = report(&ms, &[1, 3, 80, 2], &q);
        assert_eq!(r.red.mahallas, vec![MahallaId(3)]);
    }

    #[test]
    fn a_lone_mahalla_has_no_reference() {
        let r = report(
            &[m(1, 1, 1, Some(500))],
            &[0],
            &CrimeFreeQuery::new(period()),
        );
        assert_eq!(r.rows[0].reference, Reference::None);
        assert_eq!((r.rows[0].expected, r.rows[0].p_low), (None, 1.0));
        assert!(!r.rows[0].surprising_zero && !r.rows[0].red);
        assert_eq!(r.crime_free.expected, 0.0);
        let text = serde_json::to_string(&r).unwrap();
        let back: CrimeFreeReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn counts_respect_period_sources_and_categories() {
        let ms = [m(1, 1, 1, Some(100)), m(2, 1, 1, Some(100))];
        let geo = Geography::new(&ms).unwrap();
        let t = |d: i64| Timestamp::from_unix_micros(d * crate::data::DAY_US).unwrap();
        let inc = |d, mh, s, c| IncidentRecord {
            at: t(d),
            mahalla: MahallaId(mh),
            category: c,
            source: s,
            point: None,
        };
        let incs = [
            inc(1, 1, Source::Public, Category::Theft),
            inc(2, 1, Source::Patrol, Category::Theft),
            inc(3, 2, Source::Public, Category::Violence),
            inc(30, 2, Source::Public, Category::Theft), // outside [0, 30)
            inc(4, 7, Source::Public, Category::Theft),  // unknown mahalla
        ];
        let c = count_incidents(&geo, &incs, &period(), SourceSet::all(), None);
        assert_eq!(c.total, vec![2, 1]);
        assert_eq!(c.by_source[0], [1, 1, 0, 0]);
        assert_eq!(c.unplaced, 1);
        let c = count_incidents(
            &geo,
            &incs,
            &period(),
            SourceSet::of(&[Source::Public]),
            None,
        );
        assert_eq!(c.total, vec![1, 1]);
        let c = count_incidents(
            &geo,
            &incs,
            &period(),
            SourceSet::all(),
            Some(&[Category::Violence]),
        );
        assert_eq!(c.total, vec![0, 1]);
        let mut q = CrimeFreeQuery::new(period());
        q.sources = SourceSet::of(&[Source::Public]);
        let r = crime_free(&ms, &incs, &q).unwrap();
        assert!(!r.mixes_public_and_patrol);
        assert_eq!(r.rows[0].by_source.len(), 1);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["rows"][0]["by_source"]["public"], 1);
        assert_eq!(json["rate_unit"], "per_1000_residents");
    }
}
