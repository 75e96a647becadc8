//! Patrol plans and patrol time against harm (issue 4 item 5; docs/design/018).
//!
//! - `POST /api/patrols/plans`: a plan for one shift of a district within the caller's scope.
//!   Its places are the district's tested hot spots: Getis-Ord Gi* (queen contiguity from the
//!   mahallas' boundaries, conditional permutations, Benjamini-Hochberg) over the harm of the
//!   last `weeks` weeks, hot at `confidence`, each weighted by its harm
//!   ([`analytics::patrol::hot_spot_places`]). Harm is incidents reported by the public or
//!   confirmed from camera events ([`HARM_SOURCES`]); patrol finds are left out, since they
//!   follow patrols. Visits of 10 to 15 minutes spread over the shift, never two units on one
//!   place at once ([`analytics::patrol::plan_patrols`]); the plan and its visits are stored.
//! - `GET /api/patrols/plans`, `GET /api/patrols/plans/{id}` (and `{id}.csv`).
//! - `POST /api/patrols/logs`, `GET /api/patrols/logs`: patrol time actually spent per mahalla.
//! - `GET /api/patrols/balance`: each mahalla's share of logged patrol time against its share of
//!   harm ([`analytics::patrol::patrol_vs_harm`]), so over-policing shows.
//!
//! Units are labels (call signs) that must contain a number, so that people's names are not
//! stored. Writers: admin, operator, inspector; readers also analyst. Every write is audited.
use std::collections::{BTreeMap, HashMap};

use analytics::data::{IncidentRecord, Period, SourceSet};
use analytics::patrol::{
    self as ap, PatrolConfig, PatrolHarmReport, PatrolPlace, Shift, VISIT_MAX_MINUTES,
};
use analytics::{Contiguity, GiStarConfig, MultiPolygon};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use domain::{Actor, Area, DistrictId, MahallaId, Role, Scope, Source, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};
use store::Store;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, parse_id, query_i64};

/// Who may make plans and log patrol time (within their scope).
pub const PATROL_WRITERS: &[Role] = &[Role::Admin, Role::Operator, Role::Inspector];
/// Who may read plans, logs and the balance.
pub const PATROL_READERS: &[Role] = &[Role::Admin, Role::Operator, Role::Inspector, Role::Analyst];
/// What counts as harm: reports by the public and confirmed camera events, never patrol finds
/// (they follow where patrols already go) nor inspectors' records.
pub const HARM_SOURCES: &[Source] = &[Source::Public, Source::Camera];

const DEFAULT_WEEKS: u32 = 8;
const MAX_WEEKS: u32 = 104;
const DEFAULT_CONFIDENCE: f64 = 0.95;
const DEFAULT_PERMUTATIONS: u32 = 999;
const MAX_PERMUTATIONS: u32 = 9_999;
const MAX_UNITS: usize = 50;
const MAX_SHIFT_HOURS: i64 = 24;
/// The longest single log entry.
const MAX_LOG_MINUTES: i64 = 12 * 60;
/// Patrol time is logged once spent: an end this far past the server's clock is refused.
const FUTURE_SLACK_MINUTES: i64 = 5;
/// Seeds stay exact in JSON numbers (2^53 - 1).
const MAX_SEED: u64 = (1 << 53) - 1;
const MAX_BALANCE_LOGS: u32 = 100_000;
const DEFAULT_DAYS: u32 = 28;
const MAX_DAYS: i64 = 731;
const MINUTE_US: i64 = 60_000_000;

pub const HARM_TEXT: &str = "harm = incidents reported by the public or confirmed from camera events, each counted once; patrol finds and inspectors' records are left out, because finds follow where patrols already go and would hide exactly the over-policing this view is for";

fn bad(error: impl Into<String>, fix: impl Into<String>) -> ApiError {
    ApiError::bad_request(error, fix)
}

fn analytics_error(e: analytics::Error, fix: &str) -> ApiError {
    bad(e.to_string(), fix)
}

/// A unit's label: 1 to 40 characters of letters, digits, space and `- / # .`, with at least one
/// digit (a call sign such as `P-12` or `Patrol 3`, so that people's names are not stored).
pub fn check_unit(label: &str) -> ApiResult<String> {
    let l = label.trim();
    let fix = "name units by their call sign with a number (P-12, Patrol 3, 7/B), never by a person's name";
    if l.is_empty() || l.chars().count() > 40 {
        return Err(bad(
            format!("unit label {label:?} must be 1 to 40 characters"),
            fix,
        ));
    }
    if !l
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '/' | '#' | '.'))
    {
        return Err(bad(
            format!(
                "unit label {label:?} holds a character other than letters, digits, space, - / # ."
            ),
            fix,
        ));
    }
    if !l.chars().any(|c| c.is_ascii_digit()) {
        return Err(bad(
            format!(
                "unit label {label:?} has no number; units are stored by call sign, not by name"
            ),
            fix,
        ));
    }
    Ok(l.to_owned())
}

/// The area of `place` if the caller's scope covers it. The national scope covers only the
/// national scope; a place outside the caller's scope is refused with 403 whether or not it
/// exists, so that its existence does not leak; a place that does not exist is a 400 for a
/// national user.
pub(crate) async fn place_in_scope(
    state: &AppState,
    me: &CurrentUser,
    place: &Scope,
) -> ApiResult<Option<Area>> {
    let outside = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            format!("{place} is not within your scope ({})", me.user.scope),
            "ask only about places within your scope",
        )
    };
    if *place == Scope::National {
        return if me.user.scope == Scope::National {
            Ok(None)
        } else {
            Err(outside())
        };
    }
    match state.store.area_of(place).await? {
        Some(a) if me.user.scope.covers(&a) => Ok(Some(a)),
        None if me.user.scope == Scope::National => Err(bad(
            format!(
                "there is no {} with id {}",
                place.level(),
                place.place_id().unwrap_or_default()
            ),
            "pick a place from GET /api/geography/regions or /api/geography/mahallas.geojson",
        )),
        _ => Err(outside()),
    }
}

/// The `area` query parameter (`region:ID`, `district:ID`, `mahalla:ID` or `national`),
/// checked against the caller's scope; the caller's own scope when absent.
pub(crate) async fn area_param(
    state: &AppState,
    me: &CurrentUser,
    q: &HashMap<String, String>,
) -> ApiResult<Scope> {
    let Some(raw) = q.get("area").filter(|s| !s.trim().is_empty()) else {
        return Ok(me.user.scope);
    };
    let place: Scope = raw.trim().parse().map_err(|e: domain::DomainError| {
        bad(
            format!("area={raw:?}: {e}"),
            "send area as region:ID, district:ID or mahalla:ID (or leave it out for your whole scope)",
        )
    })?;
    place_in_scope(state, me, &place).await?;
    Ok(place)
}

/// `from` and `to` (a UTC day or an RFC 3339 time; `to` exclusive), by default the `default_days`
/// days up to now; at most [`MAX_DAYS`] apart.
pub(crate) fn period_params(
    q: &HashMap<String, String>,
    now: Timestamp,
    default_days: u32,
) -> ApiResult<Period> {
    let to = crate::stats::time_param(q, "to")?.unwrap_or(now);
    let from = crate::stats::time_param(q, "from")?.unwrap_or_else(|| to.minus_days(default_days));
    if from >= to {
        return Err(bad(
            format!("from ({from}) is not before to ({to})"),
            "send a from earlier than to",
        ));
    }
    let days = (to.unix_micros() - from.unix_micros()) / 86_400_000_000;
    if days > MAX_DAYS {
        return Err(bad(
            format!("the period is {days} days; at most {MAX_DAYS} are allowed"),
            "ask for a shorter period",
        ));
    }
    Period::new(from, to).map_err(|e| analytics_error(e, "send a from earlier than to"))
}

/// Incidents as the analytics read them (no point: patrols and harm are per mahalla).
fn records(facts: &[store::IncidentFact]) -> Vec<IncidentRecord> {
    facts
        .iter()
        .map(|f| IncidentRecord {
            at: f.occurred_at,
            mahalla: f.mahalla,
            category: f.category,
            source: f.source,
            point: None,
        })
        .collect()
}

/// Harm per mahalla in `period` within `area`: [`HARM_SOURCES`] incidents, each counted once.
pub async fn harm(store: &Store, area: &Scope, period: &Period) -> ApiResult<BTreeMap<i64, f64>> {
    let facts = store
        .incident_facts(area, period.start, period.end, u32::MAX)
        .await?;
    Ok(ap::harm_by_mahalla(
        &records(&facts),
        period,
        SourceSet::of(HARM_SOURCES),
        |_| 1.0,
    )
    .into_iter()
    .map(|(m, h)| (m.0, h))
    .collect())
}

/// How to choose a plan's places.
#[derive(Debug, Clone)]
pub struct HotSpotSpec {
    pub weeks: u32,
    pub confidence: f64,
    pub permutations: u32,
    pub seed: u64,
}

/// The tested hot spots of `district` over the `weeks` weeks before `now`, weighted by harm, and
/// a JSON record of how they were found. 400 when the district cannot be tested or has none.
pub async fn hot_spots(
    store: &Store,
    district: DistrictId,
    now: Timestamp,
    spec: &HotSpotSpec,
) -> ApiResult<(Vec<PatrolPlace>, Value)> {
    let mahallas = store.list_mahallas(district).await?;
    let mut ids = Vec::new();
    let mut polys: Vec<MultiPolygon> = Vec::new();
    let mut untested = Vec::new();
    for m in &mahallas {
        let shape = m
            .geometry
            .as_deref()
            .and_then(|g| serde_json::from_str::<Value>(g).ok())
            .and_then(|g| analytics::geojson::parse_geometry(ids.len(), &g).ok());
        match shape {
            Some(p) => {
                ids.push(m.id.0);
                polys.push(p);
            }
            None => untested.push(m.id.0),
        }
    }
    if ids.len() < 3 {
        return Err(bad(
            format!(
                "district {district} has {} mahallas with boundaries; testing hot spots (Gi*) needs at least 3",
                ids.len()
            ),
            "import the district's mahalla boundaries (POST /api/geography/mahallas/import with polygons)",
        ));
    }
    let from = now.minus_days(spec.weeks * 7);
    let period =
        Period::new(from, now).map_err(|e| analytics_error(e, "check the server's clock"))?;
    let harm_by = harm(store, &Scope::District(district), &period).await?;
    let y: Vec<f64> = ids
        .iter()
        .map(|i| harm_by.get(i).copied().unwrap_or(0.0))
        .collect();
    let incidents: f64 = y.iter().sum();
    let (weeks, confidence, permutations, seed) =
        (spec.weeks, spec.confidence, spec.permutations, spec.seed);
    let ids_c = ids.clone();
    let y_c = y.clone();
    let tested = tokio::task::spawn_blocking(move || {
        let w = analytics::contiguity(
            &polys,
            Contiguity::Queen,
            analytics::default_tolerance(&polys),
        )?;
        let cfg = GiStarConfig {
            permutations: permutations as usize,
            seed,
            fdr: true,
        };
        let g = analytics::gi_star(&y_c, &w, &cfg)?;
        let places = ap::hot_spot_places(&ids_c, &g, &y_c, confidence)?;
        let classes: Vec<&'static str> = g.class.iter().map(|c| c.as_str()).collect();
        Ok::<_, analytics::Error>((places, classes))
    })
    .await
    .map_err(|e| ApiError::internal("test for hot spots", &e))?;
    let (places, classes) = tested.map_err(|e| {
        bad(
            format!(
                "hot spots cannot be tested in district {district} over the last {weeks} weeks: {e}"
            ),
            "widen weeks, or record the incidents reported by the public first",
        )
    })?;
    if places.is_empty() {
        return Err(bad(
            format!(
                "no mahalla of district {district} is a hot spot at {:.0}% confidence: Gi* over {} mahallas with {incidents} incidents (public and confirmed camera) in the last {weeks} weeks, {permutations} permutations, false-discovery-rate corrected",
                confidence * 100.0,
                ids.len()
            ),
            "widen weeks, or lower confidence to 0.90; a plan is made only for tested hot spots",
        ));
    }
    let basis = json!({
        "method": "gi_star",
        "description": "places: mahallas that Getis-Ord Gi* (queen contiguity, conditional permutations, Benjamini-Hochberg) classes hot at the confidence, each weighted by its harm",
        "harm": HARM_TEXT,
        "sources": HARM_SOURCES.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "weeks": weeks,
        "from": from,
        "to": now,
        "confidence": confidence,
        "permutations": permutations,
        "tested": ids.len(),
        "incidents": incidents,
        "untested_mahallas": untested,
        "classes": ids.iter().zip(&classes).zip(&y).map(|((id, c), h)| json!({"mahalla": id, "class": c, "harm": h})).collect::<Vec<_>>(),
    });
    Ok((places, basis))
}

/// A shift, its units and how to visit.
#[derive(Debug, Clone)]
pub struct ShiftSpec {
    pub district: DistrictId,
    pub start: Timestamp,
    pub end: Timestamp,
    pub units: Vec<String>,
    pub visits_per_unit: u32,
    pub floor_visits: Option<u32>,
    pub seed: u64,
}

/// Plans `shift` over `places` and stores the plan with its visits (audited).
pub async fn store_plan(
    store: &Store,
    shift: &ShiftSpec,
    places: &[PatrolPlace],
    mut basis: Value,
    synthetic: bool,
    actor: &Actor,
) -> ApiResult<store::PatrolPlan> {
    let lanes = shift.units.len().min(places.len()) as u32;
    // One visit for every place unless there are more places than visits.
    let floor = shift.floor_visits.unwrap_or(u32::from(
        places.len() as u64 <= u64::from(lanes) * u64::from(shift.visits_per_unit),
    ));
    let cfg = PatrolConfig {
        visits_per_unit: shift.visits_per_unit,
        floor_visits: floor,
        seed: shift.seed,
    };
    let plan = ap::plan_patrols(
        places,
        &[Shift {
            start: shift.start,
            end: shift.end,
            units: shift.units.clone(),
        }],
        &cfg,
    )
    .map_err(|e| {
        analytics_error(
            e,
            "change the shift, the units, visits_per_unit or floor_visits",
        )
    })?;
    let Some(sp) = plan.shifts.first() else {
        return Err(ApiError::internal("plan the shift", &"no shift planned"));
    };
    if let Some(o) = basis.as_object_mut() {
        o.insert("allocation".into(), json!(plan.places));
        o.insert("slot_minutes".into(), json!(sp.slot_minutes));
    }
    let new = store::NewPatrolPlan {
        district: shift.district,
        shift_start: shift.start,
        shift_end: shift.end,
        units: shift.units.clone(),
        seed: shift.seed as i64,
        visits_per_unit: shift.visits_per_unit,
        floor_visits: floor,
        idle_unit_slots: sp.idle_unit_slots,
        basis,
        synthetic,
        visits: sp
            .visits
            .iter()
            .map(|v| store::NewPatrolVisit {
                unit: v.unit.clone(),
                mahalla: MahallaId(v.place),
                slot: v.slot,
                start: v.start,
                end: v.end,
                minutes: v.minutes,
            })
            .collect(),
    };
    Ok(store.create_patrol_plan(&new, actor).await?)
}

/// `POST /api/patrols/plans`
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    pub district: DistrictId,
    pub shift_start: Timestamp,
    pub shift_end: Timestamp,
    pub units: Vec<String>,
    #[serde(default)]
    pub weeks: Option<u32>,
    #[serde(default)]
    pub confidence: Option<f64>,
    #[serde(default)]
    pub visits_per_unit: Option<u32>,
    #[serde(default)]
    pub floor_visits: Option<u32>,
    #[serde(default)]
    pub permutations: Option<u32>,
    #[serde(default)]
    pub seed: Option<u64>,
}

/// Checks a plan request (role, scope, values), finds the hot spots and stores the plan. The
/// API and the console share it.
pub(crate) async fn make_plan(
    state: &AppState,
    me: &CurrentUser,
    req: PlanRequest,
) -> ApiResult<store::PatrolPlan> {
    me.require(PATROL_WRITERS)?;
    place_in_scope(state, me, &Scope::District(req.district)).await?;
    let mut units = Vec::with_capacity(req.units.len());
    for u in &req.units {
        let u = check_unit(u)?;
        if units.contains(&u) {
            return Err(bad(
                format!("unit {u:?} is listed twice"),
                "list each unit once",
            ));
        }
        units.push(u);
    }
    if units.is_empty() || units.len() > MAX_UNITS {
        return Err(bad(
            format!("{} units given; a plan needs 1 to {MAX_UNITS}", units.len()),
            "list the units on the shift by call sign",
        ));
    }
    if req.shift_end <= req.shift_start {
        return Err(bad(
            format!(
                "the shift ends ({}) at or before it starts ({})",
                req.shift_end, req.shift_start
            ),
            "send a shift_end after shift_start",
        ));
    }
    let hours = (req.shift_end.unix_micros() - req.shift_start.unix_micros()) as f64 / 3.6e9;
    if hours > MAX_SHIFT_HOURS as f64 {
        return Err(bad(
            format!(
                "the shift lasts {hours:.1} hours; at most {MAX_SHIFT_HOURS} are planned at once"
            ),
            "plan each shift on its own",
        ));
    }
    let weeks = req.weeks.unwrap_or(DEFAULT_WEEKS);
    if !(1..=MAX_WEEKS).contains(&weeks) {
        return Err(bad(
            format!("weeks = {weeks}; hot spots are tested over 1 to {MAX_WEEKS} weeks"),
            format!("send weeks from 1 to {MAX_WEEKS} (default {DEFAULT_WEEKS})"),
        ));
    }
    let confidence = req.confidence.unwrap_or(DEFAULT_CONFIDENCE);
    if ![0.90, 0.95, 0.99]
        .iter()
        .any(|c| (c - confidence).abs() < 1e-9)
    {
        return Err(bad(
            format!("confidence = {confidence}; hot spots are classed at 0.90, 0.95 or 0.99"),
            "send confidence 0.90, 0.95 or 0.99 (default 0.95)",
        ));
    }
    let permutations = req.permutations.unwrap_or(DEFAULT_PERMUTATIONS);
    if permutations > MAX_PERMUTATIONS {
        return Err(bad(
            format!("permutations = {permutations}; at most {MAX_PERMUTATIONS}"),
            format!(
                "send permutations from 0 (analytical p-values) to {MAX_PERMUTATIONS} (default {DEFAULT_PERMUTATIONS})"
            ),
        ));
    }
    let visits_per_unit = req
        .visits_per_unit
        .unwrap_or(PatrolConfig::default().visits_per_unit);
    if visits_per_unit == 0 || visits_per_unit > 48 {
        return Err(bad(
            format!("visits_per_unit = {visits_per_unit}; each unit makes 1 to 48 visits a shift"),
            format!(
                "send visits_per_unit from 1 to 48; each needs a slot of at least {VISIT_MAX_MINUTES} minutes"
            ),
        ));
    }
    let now = state.store_now();
    let seed = req
        .seed
        .unwrap_or(now.unix_micros().unsigned_abs() & MAX_SEED);
    if seed > MAX_SEED {
        return Err(bad(
            format!("seed = {seed} is above {MAX_SEED}"),
            "send a smaller seed, or leave it out for a new one",
        ));
    }
    let spec = HotSpotSpec {
        weeks,
        confidence,
        permutations,
        seed,
    };
    let (places, basis) = hot_spots(&state.store, req.district, now, &spec).await?;
    let shift = ShiftSpec {
        district: req.district,
        start: req.shift_start,
        end: req.shift_end,
        units,
        visits_per_unit,
        floor_visits: req.floor_visits,
        seed,
    };
    store_plan(
        &state.store,
        &shift,
        &places,
        basis,
        false,
        &Actor::User(me.user.id),
    )
    .await
}

/// A plan as the API answers it, with each visit's mahalla name.
pub(crate) fn plan_json(p: &store::PatrolPlan, names: &HashMap<MahallaId, String>) -> Value {
    let h = &p.head;
    let visits: Vec<Value> = p
        .visits
        .iter()
        .map(|v| {
            json!({
                "id": v.id, "unit": v.unit, "mahalla": v.mahalla, "mahalla_name": names.get(&v.mahalla),
                "slot": v.slot, "start": v.start, "end": v.end, "minutes": v.minutes,
            })
        })
        .collect();
    let mut out = head_json(h);
    out["visits"] = Value::Array(visits);
    out["basis"] = h.basis.clone();
    out
}

fn head_json(h: &store::PatrolPlanHead) -> Value {
    json!({
        "id": h.id, "district": h.district, "shift_start": h.shift_start, "shift_end": h.shift_end,
        "units": h.units, "seed": h.seed, "visits_per_unit": h.visits_per_unit,
        "floor_visits": h.floor_visits, "idle_unit_slots": h.idle_unit_slots,
        "synthetic": h.synthetic, "created_by": h.created_by, "created_at": h.created_at,
    })
}

/// Names of the mahallas of a district.
pub(crate) async fn district_names(
    store: &Store,
    district: DistrictId,
) -> ApiResult<HashMap<MahallaId, String>> {
    Ok(store
        .list_mahallas(district)
        .await?
        .into_iter()
        .map(|m| (m.id, m.names.uz_latn))
        .collect())
}

/// `POST /api/patrols/plans`
pub async fn create_plan(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(req): ApiJson<PlanRequest>,
) -> ApiResult<Response> {
    let plan = make_plan(&state, &me, req).await?;
    let names = district_names(&state.store, plan.head.district).await?;
    Ok((StatusCode::CREATED, Json(plan_json(&plan, &names))).into_response())
}

/// `GET /api/patrols/plans?limit=N`: the newest plans of districts within the caller's scope.
pub async fn list_plans(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    me.require(PATROL_READERS)?;
    let limit = query_i64(&q, "limit", 1, 500)?.unwrap_or(50);
    let plans = state
        .store
        .list_patrol_plans(&me.user.scope, limit as u32)
        .await?;
    Ok(Json(
        json!({ "plans": plans.iter().map(head_json).collect::<Vec<_>>() }),
    ))
}

/// The plan `raw` if it exists and its district lies within the caller's scope.
pub(crate) async fn plan_in_scope(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
) -> ApiResult<store::PatrolPlan> {
    let id = parse_id("patrol plan", raw)?;
    let plan = state.store.get_patrol_plan(id).await?;
    if let Some(p) = plan {
        let area = state
            .store
            .area_of(&Scope::District(p.head.district))
            .await?;
        if area.is_some_and(|a| me.user.scope.covers(&a)) {
            return Ok(p);
        }
    }
    Err(ApiError::not_found("patrol plan", id))
}

pub const PLAN_CSV_HEADER: &str = "visit_id,unit,mahalla_id,mahalla,slot,start,end,minutes";

/// `GET /api/patrols/plans/{id}` and `GET /api/patrols/plans/{id}.csv` (the visits as CSV,
/// audited: a timetable says where patrols will be).
pub async fn get_plan(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    me.require(PATROL_READERS)?;
    let (raw_id, csv) = match raw.strip_suffix(".csv") {
        Some(id) => (id, true),
        None => (raw.as_str(), false),
    };
    let plan = plan_in_scope(&state, &me, raw_id).await?;
    let names = district_names(&state.store, plan.head.district).await?;
    if !csv {
        return Ok(Json(plan_json(&plan, &names)).into_response());
    }
    state
        .store
        .audit_append(
            &me.actor(),
            "patrol_plan.export",
            &format!("patrol_plan:{}", plan.head.id),
            &json!({ "format": "csv", "visits": plan.visits.len() }),
        )
        .await?;
    let mut out = String::from(PLAN_CSV_HEADER);
    out.push('\n');
    for v in &plan.visits {
        let name = names.get(&v.mahalla).map_or("", String::as_str);
        let fields = [
            v.id.to_string(),
            crate::api::csv_field(&v.unit),
            v.mahalla.to_string(),
            crate::api::csv_field(name),
            v.slot.to_string(),
            v.start.to_string(),
            v.end.to_string(),
            v.minutes.to_string(),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    let disposition = format!("attachment; filename=\"patrol-plan-{}.csv\"", plan.head.id);
    let mut resp = ([(CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// `POST /api/patrols/logs`
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct LogRequest {
    pub unit: String,
    pub mahalla: MahallaId,
    pub start: Timestamp,
    #[serde(default)]
    pub end: Option<Timestamp>,
    #[serde(default)]
    pub minutes: Option<u32>,
    /// The planned visit this carried out.
    #[serde(default)]
    pub visit: Option<i64>,
}

/// Checks a log entry (role, scope, values, the planned visit) and stores it. The API, the
/// console and the demo share it.
pub(crate) async fn add_log(
    state: &AppState,
    me: &CurrentUser,
    req: LogRequest,
) -> ApiResult<store::PatrolLog> {
    me.require(PATROL_WRITERS)?;
    let unit = check_unit(&req.unit)?;
    place_in_scope(state, me, &Scope::Mahalla(req.mahalla)).await?;
    let end = match (req.end, req.minutes) {
        (Some(e), None) => e,
        (None, Some(m)) => req.start.saturating_add_micros(i64::from(m) * MINUTE_US),
        _ => {
            return Err(bad(
                "give either end or minutes (how long the unit was there), not both or neither",
                "send {\"end\": TIME} or {\"minutes\": N}",
            ));
        }
    };
    let minutes = (end.unix_micros() - req.start.unix_micros()) / MINUTE_US;
    if end <= req.start || minutes > MAX_LOG_MINUTES {
        return Err(bad(
            format!(
                "the patrol time from {} to {end} is not 1 minute to {} hours",
                req.start,
                MAX_LOG_MINUTES / 60
            ),
            "log each stay at a place on its own, with its real start and end",
        ));
    }
    if end
        > state
            .store_now()
            .saturating_add_micros(FUTURE_SLACK_MINUTES * MINUTE_US)
    {
        return Err(bad(
            format!("the patrol time ends at {end}, in the future"),
            "log patrol time once it has been spent",
        ));
    }
    if let Some(vid) = req.visit {
        let found = state.store.get_patrol_visit(vid).await?;
        let ok = match &found {
            Some((v, d)) => {
                let area = state.store.area_of(&Scope::District(*d)).await?;
                area.is_some_and(|a| me.user.scope.covers(&a))
                    && v.mahalla == req.mahalla
                    && v.unit == unit
            }
            None => false,
        };
        if !ok {
            return Err(bad(
                format!(
                    "planned visit {vid} is not a visit of unit {unit:?} to mahalla {} within your scope",
                    req.mahalla
                ),
                "give the id of the plan's visit this time carried out (same unit and mahalla), or leave visit out",
            ));
        }
    }
    let log = store::NewPatrolLog {
        unit,
        mahalla: req.mahalla,
        start: req.start,
        end,
        visit: req.visit,
        synthetic: false,
    };
    Ok(state
        .store
        .create_patrol_log(&log, &Actor::User(me.user.id))
        .await?)
}

pub(crate) fn log_json(l: &store::PatrolLog) -> Value {
    json!({
        "id": l.id, "unit": l.unit, "mahalla": l.mahalla, "start": l.start, "end": l.end,
        "minutes": (l.end.unix_micros() - l.start.unix_micros()) as f64 / MINUTE_US as f64,
        "visit": l.visit, "synthetic": l.synthetic, "entered_by": l.entered_by, "entered_at": l.entered_at,
    })
}

/// `POST /api/patrols/logs`
pub async fn create_log(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(req): ApiJson<LogRequest>,
) -> ApiResult<Response> {
    let log = add_log(&state, &me, req).await?;
    Ok((StatusCode::CREATED, Json(log_json(&log))).into_response())
}

/// `GET /api/patrols/logs?from=&to=&area=&limit=`
pub async fn list_logs(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    me.require(PATROL_READERS)?;
    let area = area_param(&state, &me, &q).await?;
    let period = period_params(&q, state.store_now(), DEFAULT_DAYS)?;
    let limit = query_i64(&q, "limit", 1, 1000)?.unwrap_or(200);
    let logs = state
        .store
        .list_patrol_logs(&area, period.start, period.end, limit as u32)
        .await?;
    Ok(Json(json!({
        "from": period.start, "to": period.end, "area": area.to_string(),
        "logs": logs.iter().map(log_json).collect::<Vec<_>>(),
    })))
}

fn threshold(q: &HashMap<String, String>, name: &str, default: f64) -> ApiResult<f64> {
    match q.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| {
                bad(
                    format!("{name}={v:?} is not a number"),
                    "send over above 1 (default 2) and under between 0 and 1 (default 0.5)",
                )
            }),
    }
}

/// Patrol time against harm in `area` over `period`: the analytics' report.
pub async fn balance_report(
    store: &Store,
    area: &Scope,
    period: &Period,
    over: f64,
    under: f64,
) -> ApiResult<PatrolHarmReport> {
    let logs = store
        .list_patrol_logs(area, period.start, period.end, MAX_BALANCE_LOGS + 1)
        .await?;
    if logs.len() > MAX_BALANCE_LOGS as usize {
        return Err(bad(
            format!("more than {MAX_BALANCE_LOGS} patrol log entries in the period"),
            "ask for a shorter period or a smaller area",
        ));
    }
    let logs: Vec<ap::PatrolLog> = logs
        .into_iter()
        .map(|l| ap::PatrolLog {
            unit: l.unit,
            place: l.mahalla.0,
            start: l.start,
            end: l.end,
        })
        .collect();
    let minutes = ap::patrol_minutes(&logs, period)
        .map_err(|e| ApiError::internal("add up patrol time", &e))?;
    let harm = harm(store, area, period).await?;
    ap::patrol_vs_harm(&minutes, &harm, over, under)
        .map_err(|e| analytics_error(e, "send 0 < under < 1 < over, e.g. under=0.5&over=2"))
}

/// `GET /api/patrols/balance?from=&to=&area=&over=&under=`
pub async fn balance(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    me.require(PATROL_READERS)?;
    let area = area_param(&state, &me, &q).await?;
    let period = period_params(&q, state.store_now(), DEFAULT_DAYS)?;
    let over = threshold(&q, "over", 2.0)?;
    let under = threshold(&q, "under", 0.5)?;
    let report = balance_report(&state.store, &area, &period, over, under).await?;
    let names: HashMap<i64, String> = state
        .store
        .list_mahallas_in_scope(&area)
        .await?
        .into_iter()
        .map(|m| (m.mahalla.id.0, m.mahalla.names.uz_latn))
        .collect();
    let mut body = json!({
        "from": period.start, "to": period.end, "area": area.to_string(),
        "sources": HARM_SOURCES.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "harm": HARM_TEXT,
        "method": "patrol share = a mahalla's minutes / all minutes (one unit's overlapping entries at one place counted once, clipped to the period); harm share likewise; ratio = patrol share / harm share: over_policed above over, under_policed below under, patrol_without_harm where patrol time meets no recorded harm",
        "report": report,
    });
    if let Some(rows) = body["report"]["rows"].as_array_mut() {
        for r in rows {
            let name = r["place"].as_i64().and_then(|p| names.get(&p).cloned());
            r["mahalla_name"] = json!(name);
        }
    }
    Ok(Json(body))
}

/// The OpenAPI description of the patrol endpoints.
pub fn openapi_paths() -> Vec<(&'static str, Value)> {
    use crate::openapi::{authed, body, err, id_param, ok_json, op, query_int, secured};
    let obj = json!({ "type": "object" });
    let q = |name: &str, desc: &str| json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": { "type": "string" } });
    let period = || {
        vec![
            q(
                "from",
                "UTC day (2024-05-01) or RFC 3339 time; default 28 days before to",
            ),
            q("to", "exclusive; UTC day or RFC 3339 time; default now"),
            q(
                "area",
                "region:ID, district:ID or mahalla:ID within the caller's scope; default the caller's scope",
            ),
        ]
    };
    let mut balance_params = period();
    balance_params.push(q(
        "over",
        "a ratio above this reads over-policed (default 2)",
    ));
    balance_params.push(q(
        "under",
        "a ratio below this reads under-policed (default 0.5)",
    ));
    let mut log_params = period();
    log_params.push(query_int(
        "limit",
        "at most this many (1..1000, default 200)",
    ));
    vec![
        (
            "/api/patrols/plans",
            json!({
                "get": secured(op("Patrol plans", "The newest plans of districts within the caller's scope: {plans: [...]} (without visits). Roles: admin, operator, inspector, analyst.",
                    authed(json!({ "200": ok_json("{plans}", obj.clone()), "400": err("bad query parameter") }), false)),
                    vec![query_int("limit", "at most this many (1..500, default 50)")], None),
                "post": secured(op("Plan a shift's patrols", "For a district within the caller's scope: the district's tested hot spots (Gi* over the harm of the last weeks: public reports and confirmed camera events, never patrol finds), each weighted by its harm; every unit makes visits_per_unit visits of 10 to 15 minutes spread over the shift (Koper), never two units at one place at once. Stored with its visits. Roles: admin, operator, inspector. Audited (patrol_plan.create).",
                    authed(json!({ "201": ok_json("the plan: {id, district, shift_start, shift_end, units, seed, visits: [{id, unit, mahalla, mahalla_name, slot, start, end, minutes}], basis}", obj.clone()),
                        "400": err("malformed body, bad values, a district that cannot be tested or has no hot spot") }), true)),
                    vec![], Some(body("PatrolPlanRequest"))),
            }),
        ),
        (
            "/api/patrols/plans/{id}",
            json!({
                "get": secured(op("One patrol plan", "With its visits in time order. {id}.csv (e.g. /api/patrols/plans/7.csv) gives the visits as CSV (visit_id,unit,mahalla_id,mahalla,slot,start,end,minutes), audited (patrol_plan.export). 404 outside the caller's scope. Roles: admin, operator, inspector, analyst.",
                    authed(json!({ "200": ok_json("the plan", obj.clone()), "404": err("no such plan within the caller's scope") }), false)),
                    vec![id_param("patrol plan")], None),
            }),
        ),
        (
            "/api/patrols/logs",
            json!({
                "get": secured(op("Patrol time logged", "Entries at mahallas within the area that overlap [from, to), latest first: {from, to, area, logs}. Roles: admin, operator, inspector, analyst.",
                    authed(json!({ "200": ok_json("{logs}", obj.clone()), "400": err("bad query parameter") }), false)),
                    log_params, None),
                "post": secured(op("Log patrol time at a mahalla", "unit (a call sign with a number, never a name), mahalla within the caller's scope, start, and end or minutes (up to 12 hours, not in the future); visit: the planned visit it carried out (same unit and mahalla). Roles: admin, operator, inspector. Audited (patrol_log.create).",
                    authed(json!({ "201": ok_json("the entry", obj.clone()), "400": err("malformed body or bad values") }), true)),
                    vec![], Some(body("PatrolLogRequest"))),
            }),
        ),
        (
            "/api/patrols/balance",
            json!({
                "get": secured(op("Patrol time against harm", "Each mahalla's share of logged patrol minutes against its share of harm (public reports and confirmed camera events; patrol finds left out), their ratio and reading (over_policed, under_policed, in_line, patrol_without_harm), most over-policed first: {from, to, area, sources, harm, method, report: {total_minutes, total_harm, over, under, over_policed, under_policed, rows}}. Roles: admin, operator, inspector, analyst.",
                    authed(json!({ "200": ok_json("the report", obj.clone()), "400": err("bad query parameter") }), false)),
                    balance_params, None),
            }),
        ),
    ]
}

/// The request bodies' schemas.
pub fn openapi_schemas() -> Value {
    json!({
        "PatrolPlanRequest": { "type": "object", "required": ["district", "shift_start", "shift_end", "units"], "additionalProperties": false, "properties": {
            "district": { "type": "integer" },
            "shift_start": { "type": "string", "format": "date-time" },
            "shift_end": { "type": "string", "format": "date-time", "description": "after shift_start, at most 24 hours later" },
            "units": { "type": "array", "items": { "type": "string", "maxLength": 40 }, "description": "1 to 50 call signs, each with a number (P-1, Patrol 3); never names" },
            "weeks": { "type": "integer", "minimum": 1, "maximum": MAX_WEEKS, "description": "weeks of incidents the hot spots are tested on (default 8)" },
            "confidence": { "enum": [0.90, 0.95, 0.99], "description": "hot at this confidence or above (default 0.95)" },
            "visits_per_unit": { "type": "integer", "minimum": 1, "maximum": 48, "description": "default 6; each slot lasts at least 15 minutes" },
            "floor_visits": { "type": "integer", "minimum": 0, "description": "visits every hot spot gets before the rest is shared by harm (default 1, or 0 when there are more hot spots than visits)" },
            "permutations": { "type": "integer", "minimum": 0, "maximum": MAX_PERMUTATIONS, "description": "Gi* permutations (default 999; 0: analytical p-values)" },
            "seed": { "type": "integer", "minimum": 0, "maximum": MAX_SEED, "description": "same seed and data, same plan (default: from the clock)" } } },
        "PatrolLogRequest": { "type": "object", "required": ["unit", "mahalla", "start"], "additionalProperties": false, "properties": {
            "unit": { "type": "string", "maxLength": 40 },
            "mahalla": { "type": "integer" },
            "start": { "type": "string", "format": "date-time" },
            "end": { "type": "string", "format": "date-time", "description": "or minutes" },
            "minutes": { "type": "integer", "minimum": 1, "maximum": MAX_LOG_MINUTES },
            "visit": { "type": "integer", "description": "the planned visit's id" } } },
    })
}

/// Demo data (`posbon serve --demo`): yesterday's day shift in `district` planned for three
/// units, and patrol time logged, all marked synthetic. The places are the district's tested
/// hot spots when the demo's incidents give some; otherwise (no incidents yet) the district's
/// first eight mahallas with equal weight, and the plan's basis says so. Does nothing if the
/// district already has a plan.
pub async fn seed_demo(store: &Store, district: DistrictId) -> anyhow::Result<()> {
    if !store
        .list_patrol_plans(&Scope::District(district), 1)
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let actor = Actor::system("demo")?;
    let now = store.now();
    let day = 86_400_000_000_i64;
    let offset = i64::from(analytics::data::UZ_OFFSET_S) * 1_000_000;
    let midnight = (now.unix_micros() + offset).div_euclid(day) * day - offset;
    let start = Timestamp::from_unix_micros(midnight - day + 8 * 3_600_000_000)
        .ok_or_else(|| anyhow::anyhow!("the clock is out of range"))?;
    let end = start.saturating_add_micros(8 * 3_600_000_000);
    let seed = 2024;
    let spec = HotSpotSpec {
        weeks: DEFAULT_WEEKS,
        confidence: DEFAULT_CONFIDENCE,
        permutations: DEFAULT_PERMUTATIONS,
        seed,
    };
    let (places, basis) = match hot_spots(store, district, now, &spec).await {
        Ok(found) => found,
        Err(e) if e.status != StatusCode::BAD_REQUEST => {
            anyhow::bail!("{}: {}", e.error, e.fix)
        }
        Err(e) => {
            let places: Vec<PatrolPlace> = store
                .list_mahallas(district)
                .await?
                .iter()
                .take(8)
                .map(|m| PatrolPlace {
                    place: m.id.0,
                    weight: 1.0,
                })
                .collect();
            let basis = json!({
                "method": "demo_equal_weights",
                "description": "demo only: no tested hot spots yet, so eight synthetic mahallas are weighted equally",
                "why": e.error,
            });
            (places, basis)
        }
    };
    if places.is_empty() {
        return Ok(());
    }
    let shift = ShiftSpec {
        district,
        start,
        end,
        units: vec!["P-1".into(), "P-2".into(), "P-3".into()],
        visits_per_unit: 6,
        floor_visits: None,
        seed,
    };
    let plan = store_plan(store, &shift, &places, basis, true, &actor)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", e.error, e.fix))?;
    // Most planned visits carried out as planned, and a long stay every hour at the first place:
    // the kind of habit the balance view is there to show.
    let mut logs: Vec<store::NewPatrolLog> = plan
        .visits
        .iter()
        .filter(|v| v.id % 4 != 0)
        .map(|v| store::NewPatrolLog {
            unit: v.unit.clone(),
            mahalla: v.mahalla,
            start: v.start,
            end: v.end,
            visit: Some(v.id),
            synthetic: true,
        })
        .collect();
    let habit = MahallaId(places[0].place);
    for h in 0..4 {
        let s = start.saturating_add_micros(h * 2 * 3_600_000_000 + 20 * MINUTE_US);
        logs.push(store::NewPatrolLog {
            unit: "P-4".into(),
            mahalla: habit,
            start: s,
            end: s.saturating_add_micros(50 * MINUTE_US),
            visit: None,
            synthetic: true,
        });
    }
    for l in &logs {
        store.create_patrol_log(l, &actor).await?;
    }
    Ok(())
}
