//! `GET /api/analytics/hotspots` (and `.csv`, `.geojson`): tested hot spots of an area in a
//! period, and the map's forecast score on a later, held-out period beside the baseline's.
//!
//! Methods (`method=`):
//! * `gistar-mahalla`: Getis-Ord Gi* on the counts per mahalla, queen contiguity built from the
//!   mahallas' polygons (mahallas known only by a point are left out and counted in `notes`);
//! * `gistar-grid`: Gi* on counts per square cell of `cell_m` metres over the incidents' points,
//!   queen contiguity among cells;
//! * `kde`: quartic kernel density (`bandwidth_m`) on the same grid.
//!
//! Gi* runs `permutations` conditional permutations (0: the analytical p-value) and classes each
//! place hot or cold at 90/95/99% after a Benjamini-Hochberg correction. The map a Gi* method
//! flags is its hot places at 95% or more; KDE flags the densest `flag_pct` percent of the
//! cells. With `test_from`/`test_to` the flagged map is scored on the incidents of that later
//! period (PAI, PEI*) beside the baseline: the same places ranked by their counts in
//! `[from, to)` (the data the method saw), flagging the same area. The method is preferred only
//! if its PAI is higher. The work runs on the blocking pool.
use analytics::data::{IncidentRecord, Period, SourceSet};
use analytics::forecast::{ForecastScore, hot_spot_flags, score_flags, score_ranking};
use analytics::{Contiguity, GiStar, GiStarConfig, GridSpec, LocalProjection, MultiPolygon};
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use domain::{Category, MahallaId, Source};
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    ANALYTICS_READERS, Mahallas, Params, Place, analytics_error, area_param, audited, blocking,
    categories_param, clean, csv_line, csv_response, geojson_response, load_incidents,
    load_mahallas, num, period_pair, period_param, sources_param,
};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::query_i64;

/// The most conditional permutations per place.
pub const MAX_PERMUTATIONS: usize = 9_999;
/// The fewest permutations a default gives (esda's default).
pub const MIN_DEFAULT_PERMUTATIONS: usize = 999;
/// The most cells a grid may have.
pub const MAX_CELLS: usize = 20_000;
/// Places times permutations at most (each permutation of each place draws its neighbours).
pub const MAX_WORK: usize = 60_000_000;
pub const DEFAULT_CELL_M: f64 = 250.0;
/// Gi* maps flag their hot places at this confidence or more.
pub const FLAG_CONFIDENCE: f64 = 0.95;
pub const DEFAULT_FLAG_PCT: f64 = 5.0;
/// The seed of the permutations: the same data and parameters give the same map.
pub const SEED: u64 = 12_345;

/// Sources counted by default: everything but patrol finds, which follow where patrols already
/// go and would make the map chase its own patrols.
pub const DEFAULT_SOURCES: &[Source] = &[Source::Public, Source::Camera, Source::Inspector];

/// How the map is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Method {
    #[serde(rename = "gistar-mahalla")]
    GiStarMahalla,
    #[serde(rename = "gistar-grid")]
    GiStarGrid,
    #[serde(rename = "kde")]
    Kde,
}

impl Method {
    pub const ALL: &'static [Method] = &[Method::GiStarMahalla, Method::GiStarGrid, Method::Kde];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::GiStarMahalla => "gistar-mahalla",
            Method::GiStarGrid => "gistar-grid",
            Method::Kde => "kde",
        }
    }

    fn parse(raw: &str) -> ApiResult<Method> {
        Method::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == raw)
            .ok_or_else(|| {
                ApiError::bad_request(
                    format!("method={raw:?} is not a hot-spot method posbon knows"),
                    "send method=gistar-mahalla (Gi* on mahalla polygons), gistar-grid (Gi* on a grid of cells) or kde (kernel density)",
                )
            })
    }
}

/// One place of the map: a mahalla or a grid cell.
#[derive(Debug, Clone, Serialize)]
pub struct HotPlace {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mahalla: Option<MahallaId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The cell's index (row by row from the south-west).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<usize>,
    /// The cell's corners as `[lon, lat]`, counter-clockwise from the south-west.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ring: Option<[[f64; 2]; 4]>,
    pub area_km2: f64,
    /// Selected incidents in `[from, to)`.
    pub count: u64,
    /// Selected incidents in the held-out period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_out: Option<u64>,
    /// Kernel density, incidents per km^2 (KDE only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub density_per_km2: Option<f64>,
    /// Gi* z-score, permutation p-value (one-sided, as esda's p_sim), the two-sided p-value after
    /// Benjamini-Hochberg, and the class (`hot_99` ... `cold_90`, `not_significant`).
    pub z: Option<f64>,
    pub p_sim: Option<f64>,
    pub p_fdr: Option<f64>,
    pub class: Option<&'static str>,
    /// The part of the place the map flags (0 to 1; a tie at KDE's cut is flagged in part).
    pub flagged: f64,
}

/// The grid of the grid methods.
#[derive(Debug, Clone, Serialize)]
pub struct GridInfo {
    pub cell_m: f64,
    pub nx: usize,
    pub ny: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_m: Option<f64>,
}

/// The map scored on the held-out period.
#[derive(Debug, Clone, Serialize)]
pub struct Score {
    pub held_out: Period,
    /// What the map flags, in words.
    pub flagged: String,
    /// What the baseline is, in words.
    pub baseline: String,
    /// PAI, PEI* and hit rates of the method and of the baseline, and which to prefer.
    pub forecast: ForecastScore,
    /// Held-out incidents with a position outside the grid (not counted in the score).
    pub held_out_outside_grid: u64,
}

/// A hot-spot map with its score.
pub struct HotSpots {
    pub place: Place,
    pub method: Method,
    pub period: Period,
    pub held_out: Option<Period>,
    pub sources: SourceSet,
    pub categories: Option<Vec<Category>>,
    pub permutations: usize,
    pub flag_pct: f64,
    pub grid: Option<GridInfo>,
    pub places: Vec<HotPlace>,
    pub score: Option<Score>,
    pub notes: Vec<String>,
    pub mahallas: Mahallas,
}

impl super::Exported for HotSpots {
    const KIND: &'static str = "hotspots";
    fn place(&self) -> &Place {
        &self.place
    }
    fn period(&self) -> Period {
        self.period
    }
    fn rows(&self) -> usize {
        self.places.len()
    }
}

impl HotSpots {
    /// Places per class, in the order hot 99, 95, 90, cold 99, 95, 90, not significant.
    pub fn class_counts(&self) -> Vec<(&'static str, usize)> {
        let classes = [
            "hot_99",
            "hot_95",
            "hot_90",
            "cold_99",
            "cold_95",
            "cold_90",
            "not_significant",
        ];
        classes
            .iter()
            .map(|c| {
                (
                    *c,
                    self.places.iter().filter(|p| p.class == Some(*c)).count(),
                )
            })
            .collect()
    }
}

/// A decimal query parameter within `[min, max]`.
fn float_param(q: &Params, name: &str, min: f64, max: f64) -> ApiResult<Option<f64>> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(x) if x.is_finite() && (min..=max).contains(&x) => Ok(Some(x)),
            _ => Err(ApiError::bad_request(
                format!("query parameter {name}={v:?} is not a number from {min} to {max}"),
                format!("send {name} as a number from {min} to {max}, or leave it out"),
            )),
        },
    }
}

/// What the blocking part needs.
struct Input {
    method: Method,
    /// `None`: as many as the work limit allows (see [`permutations_for`]).
    permutations: Option<usize>,
    cell_m: f64,
    bandwidth_m: f64,
    flag_share: f64,
    train: Vec<IncidentRecord>,
    test: Option<Vec<IncidentRecord>>,
    /// Per mahalla of the area: its polygons, where it has them.
    polygons: Vec<Option<MultiPolygon>>,
    ids: Vec<MahallaId>,
}

struct Output {
    permutations: usize,
    grid: Option<GridInfo>,
    places: Vec<HotPlace>,
    forecast: Option<(ForecastScore, u64)>,
    notes: Vec<String>,
}

/// Role, parameters, the store's rows, the map and its score; the API and the console share it.
pub(crate) async fn compute(state: &AppState, me: &CurrentUser, q: &Params) -> ApiResult<HotSpots> {
    me.require(ANALYTICS_READERS)?;
    let method = q
        .get("method")
        .map_or(Ok(Method::GiStarMahalla), |m| Method::parse(m))?;
    let period = period_param(q, state.store_now())?;
    let held_out = period_pair(q, "test_from", "test_to")?;
    if let Some(h) = held_out
        && h.start < period.end
    {
        return Err(ApiError::bad_request(
            format!(
                "the held-out period starts ({}) before the map's period ends ({})",
                h.start, period.end
            ),
            "send a test_from at or after to: a map is scored on incidents it has not seen",
        ));
    }
    let permutations =
        query_i64(q, "permutations", 0, MAX_PERMUTATIONS as i64)?.map(|n| n as usize);
    let cell_m = float_param(q, "cell_m", 25.0, 10_000.0)?.unwrap_or(DEFAULT_CELL_M);
    let bandwidth_m = float_param(q, "bandwidth_m", 25.0, 50_000.0)?.unwrap_or(2.0 * cell_m);
    let flag_pct = float_param(q, "flag_pct", 0.1, 100.0)?.unwrap_or(DEFAULT_FLAG_PCT);
    let sources = sources_param(q, SourceSet::of(DEFAULT_SOURCES))?;
    let categories = categories_param(q)?;
    let place = area_param(state, me, q).await?;
    let mahallas = load_mahallas(state, &place.scope).await?;
    let keep = |v: Vec<IncidentRecord>| -> Vec<IncidentRecord> {
        v.into_iter()
            .filter(|i| {
                sources.contains(i.source)
                    && categories.as_ref().is_none_or(|c| c.contains(&i.category))
            })
            .collect()
    };
    let train = keep(load_incidents(state, &place.scope, period).await?);
    let test = match held_out {
        Some(h) => Some(keep(load_incidents(state, &place.scope, h).await?)),
        None => None,
    };
    let polygons = mahallas
        .list
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let v: Value = serde_json::from_str(m.mahalla.geometry.as_deref()?).ok()?;
            analytics::geojson::parse_geometry(i, &v).ok()
        })
        .collect();
    let input = Input {
        method,
        permutations,
        cell_m,
        bandwidth_m,
        flag_share: flag_pct / 100.0,
        train,
        test,
        polygons,
        ids: mahallas.list.iter().map(|m| m.mahalla.id).collect(),
    };
    let out = blocking(move || run(input)).await?;
    let mut places = out.places;
    for p in &mut places {
        if let Some(m) = p.mahalla {
            p.name = Some(mahallas.name(m));
        }
    }
    let mut notes = out.notes;
    if sources.mixes_public_and_patrol() {
        notes.push("The counts add reports by the public and finds by patrols: patrol finds follow where patrols already go, so a map of both tends to send patrols where they already are.".into());
    }
    let score = match (held_out, out.forecast) {
        (Some(h), Some((forecast, outside))) => Some(Score {
            held_out: h,
            flagged: match method {
                Method::Kde => format!("the densest {flag_pct}% of the grid's area"),
                _ => "the places classed hot at 95% or more (after the false-discovery-rate correction)".into(),
            },
            baseline: "the same places ranked by their counts in the map's own period, flagging the same area".into(),
            forecast,
            held_out_outside_grid: outside,
        }),
        _ => None,
    };
    Ok(HotSpots {
        place,
        method,
        period,
        held_out,
        sources,
        categories,
        permutations: out.permutations,
        flag_pct,
        grid: out.grid,
        places,
        score,
        notes,
        mahallas,
    })
}

fn gi_config(permutations: usize) -> GiStarConfig {
    GiStarConfig {
        permutations,
        seed: SEED,
        fdr: true,
    }
}

/// The permutations for `places` places: as asked (if within the work limit), else as many as
/// the limit allows between 999 and 9,999. With `n` places the false-discovery-rate correction
/// asks for p-values near `0.05 k / n`, and 999 permutations cannot give a p below 0.001: on a
/// few dozen mahallas even a clear cluster would stay "not significant".
fn permutations_for(asked: Option<usize>, places: usize) -> ApiResult<usize> {
    let Some(permutations) = asked else {
        return Ok((MAX_WORK / places.max(1)).clamp(MIN_DEFAULT_PERMUTATIONS, MAX_PERMUTATIONS));
    };
    if places.saturating_mul(permutations.max(1)) > MAX_WORK {
        return Err(ApiError::bad_request(
            format!(
                "{places} places times {permutations} permutations is more work than one request may ask ({MAX_WORK})"
            ),
            "ask for fewer permutations, larger cells or a smaller area",
        ));
    }
    Ok(permutations)
}

fn run(input: Input) -> ApiResult<Output> {
    match input.method {
        Method::GiStarMahalla => mahalla_map(input),
        Method::GiStarGrid | Method::Kde => grid_map(input),
    }
}

/// z, permutation p, corrected p and class of one place.
type GiFields = (Option<f64>, Option<f64>, Option<f64>, Option<&'static str>);

/// The fields of a place where every count is the same: nothing to test.
const FLAT: GiFields = (None, None, None, Some("not_significant"));

/// The fields of place `i` of a Gi* run.
fn gi_fields(g: &GiStar, i: usize) -> GiFields {
    (
        Some(g.z[i]).filter(|z| z.is_finite()),
        g.p_sim.as_ref().map(|p| p[i]),
        Some(g.p_fdr[i]),
        Some(g.class[i].as_str()),
    )
}

/// Gi* on `y`, or `None` (with a note) when every place has the same count: there is nothing to
/// test, and no place is hot or cold.
fn gi_or_flat(
    y: &[f64],
    w: &analytics::Weights,
    permutations: usize,
    notes: &mut Vec<String>,
) -> ApiResult<Option<GiStar>> {
    if let Some(first) = y.first()
        && y.iter().all(|v| v == first)
    {
        notes.push(format!(
            "Every place has the same count ({first}) in this period: there is nothing for Gi* to find, and no place is hot or cold."
        ));
        return Ok(None);
    }
    analytics::gi_star(y, w, &gi_config(permutations))
        .map(Some)
        .map_err(analytics_error)
}

/// The places a Gi* map flags (hot at [`FLAG_CONFIDENCE`] or more); none without a run.
fn gi_flags(g: Option<&GiStar>, n: usize) -> Vec<f64> {
    g.map_or_else(|| vec![0.0; n], |g| hot_spot_flags(g, FLAG_CONFIDENCE))
}

fn mahalla_map(input: Input) -> ApiResult<Output> {
    let mut notes = Vec::new();
    let kept: Vec<usize> = (0..input.ids.len())
        .filter(|&i| input.polygons[i].is_some())
        .collect();
    let left_out = input.ids.len() - kept.len();
    if left_out > 0 {
        notes.push(format!("{left_out} mahalla(s) have no boundary polygon (only a point, or nothing) and are left out of the Gi* map and its score."));
    }
    if kept.len() < 3 {
        return Err(ApiError::bad_request(
            format!(
                "Gi* on mahallas needs at least 3 mahallas with boundary polygons in the area; it has {}",
                kept.len()
            ),
            "choose a larger area, or method=gistar-grid or kde, which use the incidents' points",
        ));
    }
    let permutations = permutations_for(input.permutations, kept.len())?;
    let slot: std::collections::HashMap<MahallaId, usize> = kept
        .iter()
        .enumerate()
        .map(|(k, &i)| (input.ids[i], k))
        .collect();
    let counts = |rows: &[IncidentRecord]| {
        let mut c = vec![0.0; kept.len()];
        for r in rows {
            if let Some(&k) = slot.get(&r.mahalla) {
                c[k] += 1.0;
            }
        }
        c
    };
    let y = counts(&input.train);
    let polys: Vec<MultiPolygon> = kept
        .iter()
        .filter_map(|&i| input.polygons[i].clone())
        .collect();
    let w = analytics::contiguity(
        &polys,
        Contiguity::Queen,
        analytics::default_tolerance(&polys),
    )
    .map_err(analytics_error)?;
    let islands = w.islands().len();
    if islands > 0 {
        notes.push(format!(
            "{islands} mahalla(s) touch no other and can never be hot or cold."
        ));
    }
    let g = gi_or_flat(&y, &w, permutations, &mut notes)?;
    let area = polygon_areas_km2(&polys);
    let flags = gi_flags(g.as_ref(), y.len());
    let held: Option<Vec<f64>> = input.test.as_deref().map(counts);
    let forecast = match &held {
        Some(h) => Some((
            score_flags(&flags, &y, &area, h).map_err(analytics_error)?,
            0,
        )),
        None => None,
    };
    let places = kept
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let (z, p_sim, p_fdr, class) = g.as_ref().map_or(FLAT, |g| gi_fields(g, k));
            HotPlace {
                mahalla: Some(input.ids[i]),
                name: None,
                cell: None,
                ring: None,
                area_km2: area[k],
                count: y[k] as u64,
                held_out: held.as_ref().map(|h| h[k] as u64),
                density_per_km2: None,
                z,
                p_sim,
                p_fdr,
                class,
                flagged: flags[k],
            }
        })
        .collect();
    Ok(Output {
        permutations,
        grid: None,
        places,
        forecast,
        notes,
    })
}

/// Each polygon's area in km^2, projected around the middle of them all.
fn polygon_areas_km2(polys: &[MultiPolygon]) -> Vec<f64> {
    let (mut sx, mut sy, mut n) = (0.0f64, 0.0f64, 0.0f64);
    for p in polys.iter().flat_map(|m| m.rings()).flatten() {
        sx += p[0];
        sy += p[1];
        n += 1.0;
    }
    let proj = LocalProjection::new(sx / n.max(1.0), sy / n.max(1.0));
    let scale = proj.m_per_deg_lon * proj.m_per_deg_lat / 1e6;
    polys.iter().map(|m| (m.area() * scale).max(1e-9)).collect()
}

fn points(rows: &[IncidentRecord]) -> Vec<[f64; 2]> {
    rows.iter().filter_map(|r| r.point).collect()
}

fn grid_map(input: Input) -> ApiResult<Output> {
    let mut notes = Vec::new();
    let train_pts = points(&input.train);
    let unplaced = input.train.len() - train_pts.len();
    if unplaced > 0 {
        notes.push(format!(
            "{unplaced} incident(s) of the period have no position and are not on the grid."
        ));
    }
    if train_pts.is_empty() {
        return Err(ApiError::bad_request(
            "no selected incident of the period has a position, and the grid methods work on positions",
            "choose a longer period or more sources, or method=gistar-mahalla, which counts incidents per mahalla",
        ));
    }
    // The grid covers the area's mahallas and the period's points, never the held-out points:
    // its extent must not depend on what it is scored on.
    let mut extent = train_pts.clone();
    for p in input.polygons.iter().flatten() {
        extent.extend(p.rings().flatten().copied());
    }
    let spec = GridSpec::covering(&extent, input.cell_m, 0.0).map_err(analytics_error)?;
    if spec.len() > MAX_CELLS {
        return Err(ApiError::bad_request(
            format!(
                "a grid of {} m cells over this area has {} cells; at most {MAX_CELLS} are allowed",
                input.cell_m,
                spec.len()
            ),
            "send a larger cell_m or choose a smaller area",
        ));
    }
    let (counts, _) = analytics::count_points(&train_pts, &spec).map_err(analytics_error)?;
    let cell_km2 = input.cell_m * input.cell_m / 1e6;
    let area = vec![cell_km2; spec.len()];
    let (held, outside) = match &input.test {
        Some(t) => {
            let (h, out) = analytics::count_points(&points(t), &spec).map_err(analytics_error)?;
            (Some(h), out as u64)
        }
        None => (None, 0),
    };
    if outside > 0 {
        notes.push(format!(
            "{outside} held-out incident(s) lie outside the grid and are not counted in the score."
        ));
    }
    let permutations = match input.method {
        Method::Kde => 0,
        _ => permutations_for(input.permutations, spec.len())?,
    };
    let (gi, density, flags, forecast): (Option<Option<GiStar>>, _, _, _) = match input.method {
        Method::Kde => {
            let d = analytics::kernel_density(&train_pts, None, input.bandwidth_m, &spec)
                .map_err(analytics_error)?;
            let flags = analytics::forecast::flag_by_rank(&d, &area, input.flag_share)
                .map_err(analytics_error)?;
            let forecast = match &held {
                Some(h) => Some(
                    score_ranking(&d, &counts, &area, h, input.flag_share)
                        .map_err(analytics_error)?,
                ),
                None => None,
            };
            (None, Some(d), flags, forecast)
        }
        _ => {
            let g = gi_or_flat(&counts, &spec.queen_weights(), permutations, &mut notes)?;
            let flags = gi_flags(g.as_ref(), counts.len());
            let forecast = match &held {
                Some(h) => Some(score_flags(&flags, &counts, &area, h).map_err(analytics_error)?),
                None => None,
            };
            (Some(g), None, flags, forecast)
        }
    };
    let places = (0..spec.len())
        .map(|i| {
            let (z, p_sim, p_fdr, class) = match &gi {
                Some(Some(g)) => gi_fields(g, i),
                Some(None) => FLAT,
                None => (None, None, None, None),
            };
            HotPlace {
                mahalla: None,
                name: None,
                cell: Some(i),
                ring: Some(spec.cell_ring_lonlat(i)),
                area_km2: cell_km2,
                count: counts[i] as u64,
                held_out: held.as_ref().map(|h| h[i] as u64),
                density_per_km2: density.as_ref().map(|d| d[i]),
                z,
                p_sim,
                p_fdr,
                class,
                flagged: flags[i],
            }
        })
        .collect();
    Ok(Output {
        permutations,
        grid: Some(GridInfo {
            cell_m: input.cell_m,
            nx: spec.nx,
            ny: spec.ny,
            bandwidth_m: (input.method == Method::Kde).then_some(input.bandwidth_m),
        }),
        places,
        forecast: forecast.map(|f| (f, outside)),
        notes,
    })
}

pub const METHOD_TEXT: &str = "Gi* (Getis-Ord, the place itself included, binary queen contiguity) compares each place's neighbourhood with the whole area; conditional permutations give each place a pseudo p-value, Benjamini-Hochberg corrects them for the number of places, and a place is hot or cold at 90, 95 or 99% on the corrected value. Kernel density (quartic kernel) is a smoothed picture with no test. A map is scored on a later, held-out period: PAI = (share of held-out incidents in the flagged places) / (share of the area flagged); PEI* = PAI / the best PAI any map flagging the same area could have had. The baseline ranks places by their counts in the map's own period and flags the same area; a method is preferred only when its PAI beats the baseline's.";

/// `GET /api/analytics/hotspots?from=&to=&area=&method=&cell_m=&bandwidth_m=&permutations=&test_from=&test_to=&flag_pct=&sources=&categories=`
pub async fn json(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Params>,
) -> ApiResult<Json<Value>> {
    let h = compute(&state, &me, &clean(q)).await?;
    let summary: serde_json::Map<String, Value> = h
        .class_counts()
        .into_iter()
        .map(|(c, n)| (c.to_owned(), json!(n)))
        .collect();
    Ok(Json(json!({
        "area": h.place.scope.to_string(),
        "method": h.method,
        "method_text": METHOD_TEXT,
        "period": h.period,
        "held_out": h.held_out,
        "sources": h.sources,
        "mixes_public_and_patrol": h.sources.mixes_public_and_patrol(),
        "categories": h.categories,
        "permutations": h.permutations,
        "flag_confidence": FLAG_CONFIDENCE,
        "flag_pct": (h.method == Method::Kde).then_some(h.flag_pct),
        "grid": h.grid,
        "classes": summary,
        "places": h.places,
        "score": h.score,
        "notes": h.notes,
    })))
}

pub const CSV_HEADER: &str = "mahalla_id,name,cell,lon,lat,area_km2,count,held_out,density_per_km2,z,p_sim,p_fdr,class,flagged";

/// `GET /api/analytics/hotspots.csv` (audited): one row per place (cells give their centre).
pub async fn csv(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Params>,
) -> ApiResult<Response> {
    let h = audited(&state, &me, compute(&state, &me, &clean(q)).await?, "csv").await?;
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for p in &h.places {
        let centre = p
            .ring
            .map(|r| [(r[0][0] + r[2][0]) / 2.0, (r[0][1] + r[2][1]) / 2.0]);
        csv_line(
            &mut out,
            &[
                p.mahalla.map_or_else(String::new, |m| m.to_string()),
                p.name.clone().unwrap_or_default(),
                p.cell.map_or_else(String::new, |c| c.to_string()),
                num(centre.map(|c| c[0])),
                num(centre.map(|c| c[1])),
                num(Some(p.area_km2)),
                p.count.to_string(),
                p.held_out.map_or_else(String::new, |n| n.to_string()),
                num(p.density_per_km2),
                num(p.z),
                num(p.p_sim),
                num(p.p_fdr),
                p.class.unwrap_or_default().to_owned(),
                num(Some(p.flagged)),
            ],
        );
    }
    Ok(csv_response("attachment; filename=\"hotspots.csv\"", out))
}

/// `GET /api/analytics/hotspots.geojson` (audited): mahalla polygons or grid cells with their
/// statistics, for a map layer.
pub async fn geojson(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<Params>,
) -> ApiResult<Response> {
    let h = audited(
        &state,
        &me,
        compute(&state, &me, &clean(q)).await?,
        "geojson",
    )
    .await?;
    let features = h
        .places
        .iter()
        .map(|p| {
            let geometry = match (p.mahalla, p.ring) {
                (Some(m), _) => crate::geography::geometry_value(
                    h.mahallas
                        .get(m)
                        .and_then(|m| m.mahalla.geometry.as_deref()),
                ),
                (None, Some(r)) => {
                    json!({ "type": "Polygon", "coordinates": [[r[0], r[1], r[2], r[3], r[0]]] })
                }
                _ => Value::Null,
            };
            let mut props = serde_json::to_value(p).unwrap_or(Value::Null);
            if let Some(o) = props.as_object_mut() {
                o.remove("ring");
            }
            json!({ "type": "Feature", "geometry": geometry, "properties": props })
        })
        .collect();
    Ok(geojson_response(features))
}
