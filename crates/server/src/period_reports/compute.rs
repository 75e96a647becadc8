//! From the store's rows to a report's numbers: trends, crime-free, Gi* hot spots and their
//! forecast check (`analytics`), and the aggregates (affected, cyber share), as
//! [`reporting::PeriodReportData`]. See docs/design/019-period-reports.md for the choices.
use std::collections::{BTreeMap, HashMap};

use analytics::crimefree::{CrimeFreeQuery, RateUnit, crime_free};
use analytics::data::{IncidentRecord, MahallaRecord, Period};
use analytics::forecast::{HitRate, hot_spot_flags, score_flags};
use analytics::trends::{Change, TrendQuery, count_series, trends};
use analytics::{Contiguity, GiStarConfig, HotSpotClass, MultiPolygon};
use domain::{Area, Category, MahallaId, Scope, Source};
use reporting::PeriodReportData;
use serde_json::Value;
use store::{IncidentFact, MahallaInRegion, Store};

use super::{ReportPeriod, ResolvedArea};
use crate::error::{ApiError, ApiResult};

/// Gi* permutations (esda's default) and their fixed seed: the same data give the same classes.
const PERMUTATIONS: usize = 999;
const SEED: u64 = 2026;
/// The Gi* confidence whose hot spots the forecast check flags.
const FORECAST_CONFIDENCE: f64 = 0.95;
/// How many months the monthly chart shows, ending with the period's last month.
const CHART_MONTHS: u32 = 12;

/// What the store holds for a report, before any computing.
pub(super) struct Gathered {
    info: reporting::AreaInfo,
    area: Area,
    rp: ReportPeriod,
    /// The mahallas the reference rates and Gi* use (see [`reference_place`]).
    reference: Vec<MahallaInRegion>,
    incidents: Vec<IncidentFact>,
    /// Roadmaps and measures of the area (its own and those of the places under it).
    roadmaps: Vec<store::Roadmap>,
    measures: Vec<store::Measure>,
}

/// The area as a scope: what lies under it.
fn scope_of(area: &Area) -> Scope {
    match *area {
        Area::Region { region } => Scope::Region(region),
        Area::District { district, .. } => Scope::District(district),
        Area::Mahalla { mahalla, .. } => Scope::Mahalla(mahalla),
    }
}

/// The mahallas whose rates a report compares with: a mahalla's or district's report uses the
/// district's mahallas, a region's the region's.
fn reference_place(area: &Area) -> Scope {
    match *area {
        Area::Region { region } => Scope::Region(region),
        Area::District { district, .. } | Area::Mahalla { district, .. } => {
            Scope::District(district)
        }
    }
}

pub(super) async fn gather(
    store: &Store,
    r: &ResolvedArea,
    rp: ReportPeriod,
) -> ApiResult<Gathered> {
    let place = reference_place(&r.area);
    let reference = store.list_mahallas_in_scope(&place).await?;
    // From the year before's start (the earliest of the comparisons and the chart's months) to
    // the period's end.
    let from = rp.year_before().period().start;
    let incidents = store
        .incident_facts(&place, from, rp.period().end, u32::MAX)
        .await?;
    let own = scope_of(&r.area);
    Ok(Gathered {
        info: r.info.clone(),
        area: r.area,
        rp,
        reference,
        incidents,
        roadmaps: store.list_roadmaps(&own).await?,
        measures: store.list_measures(&own).await?,
    })
}

fn comparison(c: &Change) -> reporting::Comparison {
    reporting::Comparison {
        count: c.count,
        rate_ratio: c.rate_ratio,
        ci_low: c.ci_low,
        ci_high: c.ci_high,
        q: c.q,
        direction: match c.direction {
            analytics::trends::Direction::Up => reporting::Direction::Up,
            analytics::trends::Direction::Down => reporting::Direction::Down,
            analytics::trends::Direction::NoClearChange => reporting::Direction::NoClearChange,
        },
    }
}

fn hot_class(c: HotSpotClass) -> reporting::HotClass {
    use reporting::HotClass as H;
    match c {
        HotSpotClass::Hot99 => H::Hot99,
        HotSpotClass::Hot95 => H::Hot95,
        HotSpotClass::Hot90 => H::Hot90,
        HotSpotClass::Cold99 => H::Cold99,
        HotSpotClass::Cold95 => H::Cold95,
        HotSpotClass::Cold90 => H::Cold90,
        HotSpotClass::NotSignificant => H::NotSignificant,
    }
}

fn analysis_error(e: analytics::Error) -> ApiError {
    ApiError::internal("compute the report's statistics", &e)
}

/// A mahalla's geometry: its polygons for Gi* and the map, or a point for the map only.
fn shapes(m: &domain::Mahalla) -> (Option<MultiPolygon>, Option<reporting::Geometry>) {
    let Some(v) = m
        .geometry
        .as_deref()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
    else {
        return (None, None);
    };
    if let Ok(mp) = analytics::geojson::parse_geometry(0, &v) {
        let rings = mp.rings().map(<[[f64; 2]]>::to_vec).collect();
        return (Some(mp), Some(reporting::Geometry::Rings(rings)));
    }
    let point = (v.get("type").and_then(Value::as_str) == Some("Point"))
        .then(|| v.get("coordinates")?.as_array().cloned())
        .flatten()
        .and_then(|c| Some([c.first()?.as_f64()?, c.get(1)?.as_f64()?]));
    (None, point.map(reporting::Geometry::Point))
}

/// Gi* of the polygon mahallas' counts: one class per mahalla of `reference` (`None` for those
/// without a polygon), or why it could not run.
struct HotSpotRun {
    classes: Vec<Option<HotSpotClass>>,
    /// Indices into `reference` of the mahallas with polygons, and their areas.
    places: Vec<usize>,
    areas: Vec<f64>,
    weights: analytics::Weights,
}

fn hot_spot_places(polys: &[Option<MultiPolygon>]) -> Result<HotSpotRun, String> {
    let places: Vec<usize> = (0..polys.len()).filter(|&i| polys[i].is_some()).collect();
    if places.len() < 3 {
        return Err(format!(
            "Gi* needs at least 3 mahallas with outlines; {} of the {} compared have one.",
            places.len(),
            polys.len()
        ));
    }
    let mp: Vec<MultiPolygon> = places.iter().filter_map(|&i| polys[i].clone()).collect();
    let weights = analytics::contiguity(&mp, Contiguity::Queen, analytics::default_tolerance(&mp))
        .map_err(|e| e.to_string())?;
    let areas: Vec<f64> = mp.iter().map(|m| m.area().max(f64::MIN_POSITIVE)).collect();
    Ok(HotSpotRun {
        classes: vec![None; polys.len()],
        places,
        areas,
        weights,
    })
}

fn gi_star(run: &HotSpotRun, y: &[f64]) -> Result<analytics::GiStar, analytics::Error> {
    analytics::gi_star(
        y,
        &run.weights,
        &GiStarConfig {
            permutations: PERMUTATIONS,
            seed: SEED,
            fdr: true,
        },
    )
}

fn score(h: &HitRate) -> reporting::Score {
    reporting::Score {
        pai: h.pai,
        pei_star: h.pei_star,
        captured: h.captured,
        total: h.total,
    }
}

/// Gi* of the report's period over the reference mahallas with outlines (one class per
/// reference mahalla, `None` where it could not run), the forecast check of the previous
/// period's hot spots on this one, and a note on what could not be done. Patrol finds are left
/// out: they follow where patrols already go.
fn hot_spots(
    g: &Gathered,
    polys: &[Option<MultiPolygon>],
    index: &HashMap<MahallaId, usize>,
) -> ApiResult<(
    Vec<Option<HotSpotClass>>,
    Option<reporting::Forecast>,
    String,
)> {
    let rp = g.rp;
    let (current, previous) = (rp.period(), rp.previous().period());
    let harm = |p: &Period| -> Vec<f64> {
        let mut y = vec![0.0; polys.len()];
        for i in &g.incidents {
            if i.source != Source::Patrol
                && p.contains(i.occurred_at)
                && let Some(&k) = index.get(&i.mahalla)
            {
                y[k] += 1.0;
            }
        }
        y
    };
    let mut note = String::new();
    let mut forecast = None;
    let mut classes: Vec<Option<HotSpotClass>> = vec![None; polys.len()];
    match hot_spot_places(polys) {
        Err(why) => note = why,
        Ok(mut run) => {
            let pick = |y: Vec<f64>| -> Vec<f64> { run.places.iter().map(|&i| y[i]).collect() };
            let held_out = pick(harm(&current));
            let training = pick(harm(&previous));
            if held_out.iter().sum::<f64>() > 0.0 {
                let gi = gi_star(&run, &held_out).map_err(analysis_error)?;
                for (k, &i) in run.places.iter().enumerate() {
                    run.classes[i] = Some(gi.class[k]);
                }
            } else {
                note = "No incident to test for hot spots in this period.".into();
            }
            if training.iter().sum::<f64>() > 0.0 && held_out.iter().sum::<f64>() > 0.0 {
                let gi = gi_star(&run, &training).map_err(analysis_error)?;
                let flags = hot_spot_flags(&gi, FORECAST_CONFIDENCE);
                let s = score_flags(&flags, &training, &run.areas, &held_out)
                    .map_err(analysis_error)?;
                if flags.iter().all(|f| *f == 0.0) {
                    note = format!(
                        "No mahalla was a hot spot at 95% in {}, so the forecast check had no \
                         flagged area to score.",
                        rp.previous().label()
                    );
                }
                forecast = Some(reporting::Forecast {
                    training: rp.previous().label(),
                    held_out: rp.label(),
                    area_share: s.method.area_share,
                    flagged: flags.iter().filter(|f| **f > 0.0).count() as u64,
                    method: score(&s.method),
                    baseline: score(&s.baseline),
                    method_preferred: s.preferred == analytics::forecast::Preferred::Method,
                });
            } else if note.is_empty() {
                note = format!(
                    "No forecast check: {} has no incident (other than patrol finds) to draw hot spots from.",
                    rp.previous().label()
                );
            }
            classes = run.classes;
        }
    }
    Ok((classes, forecast, note))
}

/// Does the statistics and builds the report's data. Pure over what was gathered (runs in a
/// blocking task).
pub(super) fn compute(g: Gathered) -> ApiResult<PeriodReportData> {
    let rp = g.rp;
    let current = rp.period();
    let previous = rp.previous().period();
    let year_before = rp.year_before().period();
    let records: Vec<MahallaRecord> = g
        .reference
        .iter()
        .map(|r| MahallaRecord {
            id: r.mahalla.id,
            district: r.mahalla.district,
            region: r.region,
            // A population of 0 is no population (the analytics refuse 0 as an exposure).
            population: r.mahalla.population.filter(|p| *p > 0),
        })
        .collect();
    let incidents: Vec<IncidentRecord> = g
        .incidents
        .iter()
        .map(|i| IncidentRecord {
            at: i.occurred_at,
            mahalla: i.mahalla,
            category: i.category,
            source: i.source,
            point: i.point.map(|p| [p.lon, p.lat]),
        })
        .collect();
    let area = g.area;
    let in_area: Vec<bool> = records
        .iter()
        .map(|m| analytics::data::in_area(Some(&area), m))
        .collect();
    let area_ids: HashMap<MahallaId, usize> =
        records.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
    let of_area_in = |i: &IncidentFact, p: &Period| {
        p.contains(i.occurred_at) && area_ids.get(&i.mahalla).is_some_and(|&k| in_area[k])
    };
    let now: Vec<&IncidentFact> = g
        .incidents
        .iter()
        .filter(|i| of_area_in(i, &current))
        .collect();

    // Trends per source, with explicit comparison periods.
    let mut tq = TrendQuery::new(current);
    tq.previous = Some(previous);
    tq.year_before = Some(year_before);
    tq.area = Some(area);
    let tr = trends(&records, &incidents, &tq).map_err(analysis_error)?;
    let sources: Vec<reporting::SourceCounts> = Source::ALL
        .iter()
        .filter_map(|s| tr.by_source.get(s).map(|t| (s, t)))
        .map(|(s, t)| reporting::SourceCounts {
            key: s.as_str().into(),
            current: t.all_categories.current.count,
            rate: t.all_categories.current.rate,
            previous: comparison(&t.all_categories.previous),
            year_before: comparison(&t.all_categories.year_before),
        })
        .collect();
    let mut trend_rows = Vec::new();
    for s in Source::ALL {
        if let Some(t) = tr.by_source.get(s) {
            for (c, t) in &t.by_category {
                trend_rows.push(reporting::TrendRow {
                    source: s.as_str().into(),
                    category: c.as_str().into(),
                    current: t.current.count,
                    previous: comparison(&t.previous),
                    year_before: comparison(&t.year_before),
                });
            }
        }
    }
    let mut by_category: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    for i in &now {
        let ci = Category::ALL
            .iter()
            .position(|c| *c == i.category)
            .unwrap_or(0);
        let si = Source::ALL.iter().position(|s| *s == i.source).unwrap_or(0);
        by_category
            .entry(ci)
            .or_insert_with(|| vec![0; Source::ALL.len()])[si] += 1;
    }
    let categories = by_category
        .into_iter()
        .map(|(ci, by_source)| reporting::CategoryCounts {
            key: Category::ALL[ci].as_str().into(),
            by_source,
        })
        .collect();

    // Months for the chart: the CHART_MONTHS months ending with the period's last.
    let bins = rp.last_months(CHART_MONTHS);
    let periods: Vec<Period> = bins.iter().map(|b| b.1).collect();
    let series =
        count_series(&records, &incidents, Some(&area), &periods).map_err(analysis_error)?;
    let monthly = reporting::Monthly {
        months: bins.into_iter().map(|b| b.0).collect(),
        by_source: Source::ALL
            .iter()
            .filter_map(|s| {
                series
                    .by_source
                    .get(s)
                    .map(|v| (s.as_str().to_owned(), v.all_categories.clone()))
            })
            .collect(),
    };

    // Crime-free: every source counts; rates from the reference mahallas.
    let mut cq = CrimeFreeQuery::new(current);
    cq.area = Some(area);
    let cf = crime_free(&records, &incidents, &cq).map_err(analysis_error)?;
    let cf_rows: HashMap<MahallaId, &analytics::crimefree::MahallaRow> =
        cf.rows.iter().map(|r| (r.mahalla, r)).collect();
    let red_rank: HashMap<MahallaId, u32> = cf
        .red
        .mahallas
        .iter()
        .zip(1..)
        .map(|(m, rank)| (*m, rank))
        .collect();

    // Hot spots on counts without patrol finds (they follow where patrols go).
    let (polys, geometries): (Vec<_>, Vec<_>) =
        g.reference.iter().map(|r| shapes(&r.mahalla)).unzip();
    let (classes, forecast, note) = hot_spots(&g, &polys, &area_ids)?;
    let hot = reporting::HotSpots {
        method: format!(
            "Getis-Ord Gi* over the {} mahallas {} (queen contiguity of their outlines), \
             counting incidents reported by the public, cameras and inspectors; patrol \
             finds are left out, since they follow where patrols already go. {PERMUTATIONS} \
             conditional permutations, Benjamini-Hochberg false-discovery correction. The \
             forecast check draws hot spots (95%) from {} and scores them on {} by PAI and PEI*, \
             beside the baseline of {}'s counts flagging the same area.",
            g.reference.len(),
            if matches!(area, Area::Region { .. }) {
                "of the region"
            } else {
                "of the district"
            },
            rp.previous().label(),
            rp.label(),
            rp.previous().label(),
        ),
        forecast,
        note,
    };

    let mahallas: Vec<reporting::MahallaInfo> = g
        .reference
        .iter()
        .enumerate()
        .filter(|(i, _)| in_area[*i])
        .map(|(i, r)| {
            let row = cf_rows.get(&r.mahalla.id);
            reporting::MahallaInfo {
                id: r.mahalla.id.0,
                name: r.mahalla.names.uz_latn.clone(),
                population: r.mahalla.population,
                count: row.map_or(0, |x| x.count),
                crime_free: row.is_some_and(|x| x.crime_free),
                surprising_zero: row.is_some_and(|x| x.surprising_zero),
                p_zero: row.and_then(|x| x.expected).map(|mu| (-mu).exp()),
                rate: row.map_or(0.0, |x| x.rate),
                eb_rate: row.map_or(0.0, |x| x.eb_rate),
                q_high: row.map_or(1.0, |x| x.q_high),
                red_rank: red_rank.get(&r.mahalla.id).copied(),
                hot: classes[i].map_or(reporting::HotClass::NotComputed, hot_class),
                geometry: geometries[i].clone(),
            }
        })
        .collect();

    let mut affected = reporting::Affected {
        incidents: now.len() as u64,
        ..Default::default()
    };
    let mut cyber = reporting::Cyber {
        all: now.len() as u64,
        ..Default::default()
    };
    for i in &now {
        affected.minor += u64::from(i.affected.minor);
        affected.youth += u64::from(i.affected.youth);
        affected.woman += u64::from(i.affected.woman);
        cyber.fraud += u64::from(i.category == Category::Fraud);
        cyber.cybercrime += u64::from(i.category == Category::Cybercrime);
    }
    let (first_day, last_day) = rp.days();
    let roadmap = roadmap_at_end(&g, &mahallas, &last_day)?;
    Ok(PeriodReportData {
        area: g.info,
        period: reporting::PeriodInfo {
            label: rp.label(),
            first_day,
            last_day,
            previous_label: rp.previous().label(),
            year_before_label: rp.year_before().label(),
        },
        rate_unit: match tr.rate_unit {
            RateUnit::Per1000Residents => "per 1,000 residents".into(),
            RateUnit::PerMahalla => "per mahalla".into(),
        },
        sources,
        categories,
        trends: trend_rows,
        monthly,
        crime_free: reporting::CrimeFree {
            mahallas: cf.mahallas as u64,
            count: cf.crime_free.count as u64,
            expected: cf.crime_free.expected,
            expected_sd: cf.crime_free.expected_sd,
            surprising: cf.crime_free.surprising as u64,
            overall_rate: cf.red.overall_rate,
            red_qualifying: cf.red.qualifying as u64,
        },
        hot_spots: hot,
        roadmap,
        affected,
        cyber,
        mahallas,
    })
}

/// The area's roadmap as it stood when the period ended. Measures keep only their current
/// state, so the past one is read from their times: a measure counts if it was created by
/// then; it was done if it was marked done by then (and counts as done once a second person
/// has checked the evidence); it was cancelled if it is cancelled and was last changed by then
/// (one cancelled later was still open). `None` when no roadmap existed by the period's end.
fn roadmap_at_end(
    g: &Gathered,
    mahallas: &[reporting::MahallaInfo],
    as_of: &str,
) -> ApiResult<Option<reporting::RoadmapSection>> {
    use analytics::roadmap::{self as ar, MeasureStatus};
    let end = g.rp.period().end;
    if !g.roadmaps.iter().any(|r| r.created_at < end) {
        return Ok(None);
    }
    let mut awaiting = 0;
    let mut measures = Vec::new();
    for m in g.measures.iter().filter(|m| m.created_at < end) {
        let mut a = crate::roadmaps::to_analytics(m)?;
        a.status = match a.status {
            MeasureStatus::Done if m.completed_at.is_some_and(|c| c < end) => {
                if a.evidence.is_empty() {
                    awaiting += 1;
                }
                MeasureStatus::Done
            }
            MeasureStatus::Done => {
                a.evidence.clear();
                a.completed_at = None;
                MeasureStatus::InProgress
            }
            MeasureStatus::Cancelled if m.updated_at >= end => MeasureStatus::InProgress,
            s => s,
        };
        measures.push(a);
    }
    let rolled = ar::roll_up(&measures, None, end)
        .map_err(|e| ApiError::internal("roll up the roadmaps", &e))?;
    let by_kind = rolled
        .by_kind
        .iter()
        .map(|(k, p)| reporting::RoadmapKind {
            kind: serde_json::to_value(k)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            total: u64::from(p.total),
            done: u64::from(p.done),
            cancelled: u64::from(p.cancelled),
            overdue: u64::from(p.overdue),
        })
        .collect();
    let with_own: std::collections::HashSet<MahallaId> = measures
        .iter()
        .filter_map(|m| match m.area {
            Area::Mahalla { mahalla, .. } => Some(mahalla),
            _ => None,
        })
        .collect();
    Ok(Some(reporting::RoadmapSection {
        as_of: as_of.to_owned(),
        by_kind,
        mahallas: mahallas.len() as u64,
        mahallas_without_measures: mahallas
            .iter()
            .filter(|m| !with_own.contains(&MahallaId(m.id)))
            .count() as u64,
        awaiting_verification: awaiting,
    }))
}
