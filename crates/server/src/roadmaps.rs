//! Prevention roadmaps (issue 4 item 6; docs/design/018): a roadmap per region, district or
//! mahalla, its measures (kind, description, owner, deadline, status, evidence of completion
//! and who verified it), and progress rolled up from mahalla to district to region with overdue
//! measures flagged ([`analytics::roadmap::roll_up`], at the store's clock).
//!
//! A measure is done only with evidence, and its evidence counts only once a second person has
//! verified it: until then the roll-up counts it as `done_without_evidence` (not done, and still
//! overdue past its deadline). Writers: admin, operator, inspector within their scope; readers
//! also analyst. Every change is audited by the store.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use analytics::data::MahallaRecord;
use analytics::roadmap::{self as ar, MeasureKind, MeasureStatus, RoadmapReport};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{Actor, Area, Role, Scope, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};
use store::Store;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, parse_id};
use crate::patrols::{area_param, place_in_scope};

/// Who may make roadmaps and change measures (within their scope).
pub const ROADMAP_WRITERS: &[Role] = &[Role::Admin, Role::Operator, Role::Inspector];
/// Who may read roadmaps and their progress.
pub const ROADMAP_READERS: &[Role] = &[Role::Admin, Role::Operator, Role::Inspector, Role::Analyst];

/// The kinds of measure, as the analytics crate names them.
pub const KINDS: &[&str] = &[
    "digital_monitoring",
    "outreach_education",
    "social_services",
    "inspector_staffing",
    "social_worker_staffing",
    "youth_prevention",
    "drug_prevention",
];
/// The statuses of a measure.
pub const STATUSES: &[&str] = &["planned", "in_progress", "done", "cancelled"];

pub const RULE_TEXT: &str = "progress = verified done / (all - cancelled); a measure counts as done only when it is marked done with evidence of completion and a second person has verified that evidence; overdue = past its deadline and not (verified done or cancelled)";

fn bad(error: impl Into<String>, fix: impl Into<String>) -> ApiError {
    ApiError::bad_request(error, fix)
}

fn word<T: serde::de::DeserializeOwned>(what: &str, w: &str, all: &[&str]) -> ApiResult<T> {
    serde_json::from_value(Value::String(w.to_owned())).map_err(|_| {
        bad(
            format!("unknown {what} {w:?}"),
            format!("send one of: {}", all.join(", ")),
        )
    })
}

pub fn parse_kind(w: &str) -> ApiResult<MeasureKind> {
    word("measure kind", w, KINDS)
}

pub fn parse_status(w: &str) -> ApiResult<MeasureStatus> {
    word("measure status", w, STATUSES)
}

/// `s` trimmed, 1 to `max` characters (0 allowed with `optional`).
fn text(field: &str, s: &str, max: usize, optional: bool) -> ApiResult<String> {
    let t = s.trim();
    if (!optional && t.is_empty()) || t.chars().count() > max {
        return Err(bad(
            format!(
                "{field} must be {} to {max} characters",
                u8::from(!optional)
            ),
            format!("send {field} as text of at most {max} characters"),
        ));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(bad(
            format!("{field} holds a control character"),
            format!("send {field} as plain text"),
        ));
    }
    Ok(t.to_owned())
}

fn link(l: Option<&str>) -> ApiResult<Option<String>> {
    let Some(l) = l.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    let ok = (l.starts_with("https://") || l.starts_with("http://"))
        && l.len() <= 500
        && !l
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
    if !ok {
        return Err(bad(
            format!("evidence_link {l:?} is not a web address of at most 500 characters"),
            "send an http(s) address of the document, or leave evidence_link out",
        ));
    }
    Ok(Some(l.to_owned()))
}

/// The place a request names: `region:ID`, `district:ID` or `mahalla:ID`.
fn place(raw: &str) -> ApiResult<Scope> {
    let p: Scope = raw.trim().parse().map_err(|e: domain::DomainError| {
        bad(
            format!("area {raw:?}: {e}"),
            "send area as region:ID, district:ID or mahalla:ID",
        )
    })?;
    if p == Scope::National {
        return Err(bad(
            "a roadmap belongs to a region, district or mahalla, not to the whole country",
            "send area as region:ID, district:ID or mahalla:ID",
        ));
    }
    Ok(p)
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RoadmapRequest {
    /// `region:ID`, `district:ID` or `mahalla:ID`.
    pub area: String,
    pub title: String,
    #[serde(default)]
    pub period: String,
}

/// A new roadmap (role, scope, values). The API and the console share it.
pub(crate) async fn make_roadmap(
    state: &AppState,
    me: &CurrentUser,
    req: RoadmapRequest,
) -> ApiResult<store::Roadmap> {
    me.require(ROADMAP_WRITERS)?;
    let p = place(&req.area)?;
    place_in_scope(state, me, &p).await?;
    let n = store::NewRoadmap {
        place: p,
        title: text("title", &req.title, 200, false)?,
        period: text("period", &req.period, 40, true)?,
        synthetic: false,
    };
    Ok(state
        .store
        .create_roadmap(&n, &Actor::User(me.user.id))
        .await?)
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct MeasureRequest {
    pub kind: String,
    pub description: String,
    /// An office or post (e.g. "district khokimiyat, youth affairs"), never a person's name.
    pub owner: String,
    pub deadline: Timestamp,
}

fn fields(req: &MeasureRequest) -> ApiResult<store::MeasureFields> {
    parse_kind(&req.kind)?;
    Ok(store::MeasureFields {
        kind: req.kind.clone(),
        description: text("description", &req.description, 2000, false)?,
        owner: text("owner", &req.owner, 200, false)?,
        deadline: req.deadline,
    })
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    pub to: String,
    #[serde(default)]
    pub evidence_text: String,
    #[serde(default)]
    pub evidence_link: Option<String>,
    #[serde(default)]
    pub note: String,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    #[serde(default)]
    pub note: String,
}

/// `found` if it lies within the caller's scope; otherwise 404, as if it did not exist.
fn visible<T>(
    me: &CurrentUser,
    what: &str,
    id: i64,
    found: Option<T>,
    area: impl Fn(&T) -> Area,
) -> ApiResult<T> {
    found
        .filter(|x| me.user.scope.covers(&area(x)))
        .ok_or_else(|| ApiError::not_found(what, id))
}

/// The roadmap `raw`, if it exists within the caller's scope.
pub(crate) async fn roadmap_in_scope(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
) -> ApiResult<store::Roadmap> {
    let id = parse_id("roadmap", raw)?;
    visible(me, "roadmap", id, state.store.get_roadmap(id).await?, |r| {
        r.area
    })
}

/// The measure `raw`, if it exists within the caller's scope.
pub(crate) async fn measure_in_scope(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
) -> ApiResult<store::Measure> {
    let id = parse_id("measure", raw)?;
    visible(me, "measure", id, state.store.get_measure(id).await?, |m| {
        m.area
    })
}

/// Adds a measure to roadmap `raw`. The API and the console share it.
pub(crate) async fn add_measure(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
    req: MeasureRequest,
) -> ApiResult<store::Measure> {
    me.require(ROADMAP_WRITERS)?;
    let r = roadmap_in_scope(state, me, raw).await?;
    let f = fields(&req)?;
    Ok(state
        .store
        .add_measure(r.id, &f, &Actor::User(me.user.id))
        .await?)
}

/// Moves measure `raw` to another status. The API and the console share it.
pub(crate) async fn change_status(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
    req: StatusRequest,
) -> ApiResult<store::Measure> {
    me.require(ROADMAP_WRITERS)?;
    let m = measure_in_scope(state, me, raw).await?;
    parse_status(&req.to)?;
    let c = store::MeasureStatusChange {
        to: req.to.clone(),
        evidence_text: text("evidence_text", &req.evidence_text, 2000, true)?,
        evidence_link: link(req.evidence_link.as_deref())?,
        note: text("note", &req.note, 2000, true)?,
    };
    if c.to == "done" && c.evidence_text.is_empty() && m.evidence_text.trim().is_empty() {
        return Err(bad(
            "a measure is done only with evidence of completion",
            "describe the evidence (a document, a record, a photo reference) in evidence_text, with its address in evidence_link if it has one",
        ));
    }
    Ok(state
        .store
        .set_measure_status(m.id, &c, &Actor::User(me.user.id))
        .await?)
}

/// Records that the caller checked measure `raw`'s evidence. The API and the console share it.
pub(crate) async fn verify(
    state: &AppState,
    me: &CurrentUser,
    raw: &str,
    req: VerifyRequest,
) -> ApiResult<store::Measure> {
    me.require(ROADMAP_WRITERS)?;
    let m = measure_in_scope(state, me, raw).await?;
    let note = text("note", &req.note, 2000, true)?;
    Ok(state.store.verify_measure(m.id, me.user.id, &note).await?)
}

/// The measure as the analytics read it: evidence only once verified.
pub fn to_analytics(m: &store::Measure) -> ApiResult<ar::Measure> {
    let corrupt = |e: ApiError| ApiError::internal("read a stored measure", &e.error);
    let evidence = if m.verified_by.is_some() {
        std::iter::once(m.evidence_text.clone())
            .chain(m.evidence_link.clone())
            .filter(|e| !e.trim().is_empty())
            .collect()
    } else {
        Vec::new()
    };
    Ok(ar::Measure {
        id: m.id,
        area: m.area,
        kind: parse_kind(&m.kind).map_err(corrupt)?,
        title: m.description.clone(),
        owner: m.owner.clone(),
        deadline: m.deadline,
        status: parse_status(&m.status).map_err(corrupt)?,
        evidence,
        completed_at: m.completed_at,
    })
}

pub(crate) fn area_json(a: &Area) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}

pub(crate) fn measure_json(m: &store::Measure, now: Timestamp) -> Value {
    let counted = to_analytics(m).ok();
    json!({
        "id": m.id, "roadmap": m.roadmap, "area": area_json(&m.area), "kind": m.kind,
        "description": m.description, "owner": m.owner, "deadline": m.deadline, "status": m.status,
        "evidence": { "text": m.evidence_text, "link": m.evidence_link },
        "completed_at": m.completed_at, "done_by": m.done_by,
        "verified_by": m.verified_by, "verified_at": m.verified_at,
        "verified_done": counted.as_ref().is_some_and(|a| a.verified_done()),
        "overdue": counted.as_ref().is_some_and(|a| a.overdue(now)),
        "created_by": m.created_by, "created_at": m.created_at, "updated_at": m.updated_at,
    })
}

pub(crate) fn roadmap_json(r: &store::Roadmap) -> Value {
    json!({
        "id": r.id, "area": area_json(&r.area), "title": r.title, "period": r.period,
        "synthetic": r.synthetic, "created_by": r.created_by, "created_at": r.created_at,
    })
}

/// `POST /api/roadmaps`
pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(req): ApiJson<RoadmapRequest>,
) -> ApiResult<Response> {
    let r = make_roadmap(&state, &me, req).await?;
    Ok((StatusCode::CREATED, Json(roadmap_json(&r))).into_response())
}

/// `GET /api/roadmaps?area=`: the roadmaps of the area and every place inside it.
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    me.require(ROADMAP_READERS)?;
    let area = area_param(&state, &me, &q).await?;
    let roadmaps = state.store.list_roadmaps(&area).await?;
    let measures = state.store.list_measures(&area).await?;
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for m in &measures {
        *counts.entry(m.roadmap).or_default() += 1;
    }
    let rows: Vec<Value> = roadmaps
        .iter()
        .map(|r| {
            let mut v = roadmap_json(r);
            v["measures"] = json!(counts.get(&r.id).copied().unwrap_or(0));
            v
        })
        .collect();
    Ok(Json(json!({ "area": area.to_string(), "roadmaps": rows })))
}

/// `GET /api/roadmaps/{id}`: the roadmap with its measures and their own progress.
pub async fn get(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    me.require(ROADMAP_READERS)?;
    let r = roadmap_in_scope(&state, &me, &raw).await?;
    let measures = state.store.roadmap_measures(r.id).await?;
    let now = state.store_now();
    let list: Vec<ar::Measure> = measures
        .iter()
        .map(to_analytics)
        .collect::<ApiResult<_>>()?;
    let report =
        ar::roll_up(&list, None, now).map_err(|e| ApiError::internal("roll up measures", &e))?;
    Ok(Json(json!({
        "roadmap": roadmap_json(&r),
        "measures": measures.iter().map(|m| measure_json(m, now)).collect::<Vec<_>>(),
        "progress": report.total,
        "now": now,
        "rule": RULE_TEXT,
    })))
}

/// `POST /api/roadmaps/{id}/measures`
pub async fn create_measure(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
    ApiJson(req): ApiJson<MeasureRequest>,
) -> ApiResult<Response> {
    let m = add_measure(&state, &me, &raw, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(measure_json(&m, state.store_now())),
    )
        .into_response())
}

/// `PUT /api/roadmaps/measures/{id}`: new kind, description, owner and deadline.
pub async fn edit_measure(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
    ApiJson(req): ApiJson<MeasureRequest>,
) -> ApiResult<Json<Value>> {
    me.require(ROADMAP_WRITERS)?;
    let m = measure_in_scope(&state, &me, &raw).await?;
    let f = fields(&req)?;
    let m = state
        .store
        .edit_measure(m.id, &f, &Actor::User(me.user.id))
        .await?;
    Ok(Json(measure_json(&m, state.store_now())))
}

/// `POST /api/roadmaps/measures/{id}/status`
pub async fn set_status(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
    ApiJson(req): ApiJson<StatusRequest>,
) -> ApiResult<Json<Value>> {
    let m = change_status(&state, &me, &raw, req).await?;
    Ok(Json(measure_json(&m, state.store_now())))
}

/// `POST /api/roadmaps/measures/{id}/verify`
pub async fn verify_measure(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> ApiResult<Json<Value>> {
    let m = verify(&state, &me, &raw, req).await?;
    Ok(Json(measure_json(&m, state.store_now())))
}

/// The roll-up of `area` at `now`, with whether every area of it was in the geography given to
/// the analytics (a district without any mahalla in the register cannot be).
pub async fn progress_report(
    store: &Store,
    area: &Scope,
    now: Timestamp,
) -> ApiResult<(RoadmapReport, bool)> {
    let measures: Vec<ar::Measure> = store
        .list_measures(area)
        .await?
        .iter()
        .map(to_analytics)
        .collect::<ApiResult<_>>()?;
    let geo: Vec<MahallaRecord> = store
        .list_mahallas_in_scope(area)
        .await?
        .into_iter()
        .map(|m| MahallaRecord {
            id: m.mahalla.id,
            district: m.mahalla.district,
            region: m.region,
            population: m.mahalla.population.filter(|p| *p > 0),
        })
        .collect();
    let regions: BTreeSet<_> = geo.iter().map(|m| m.region).collect();
    let districts: BTreeSet<_> = geo.iter().map(|m| m.district).collect();
    let complete = measures.iter().all(|m| match m.area {
        Area::Region { region } => regions.contains(&region),
        Area::District { district, .. } => districts.contains(&district),
        Area::Mahalla { .. } => true,
    });
    let report = ar::roll_up(&measures, complete.then_some(geo.as_slice()), now)
        .map_err(|e| ApiError::internal("roll up the roadmaps", &e))?;
    Ok((report, complete))
}

/// Names of the regions, districts and mahallas a report mentions, for showing it.
pub(crate) async fn names(
    store: &Store,
    report: &RoadmapReport,
) -> ApiResult<BTreeMap<&'static str, BTreeMap<i64, String>>> {
    let mut out: BTreeMap<&'static str, BTreeMap<i64, String>> = BTreeMap::new();
    for r in &report.regions {
        if let Some(reg) = store.get_region(r.region).await? {
            out.entry("regions")
                .or_default()
                .insert(r.region.0, reg.names.uz_latn);
        }
        for d in &r.districts {
            if let Some(dis) = store.get_district(d.district).await? {
                out.entry("districts")
                    .or_default()
                    .insert(d.district.0, dis.names.uz_latn);
            }
            for m in store.list_mahallas(d.district).await? {
                out.entry("mahallas")
                    .or_default()
                    .insert(m.id.0, m.names.uz_latn);
            }
        }
    }
    Ok(out)
}

/// `GET /api/roadmaps/progress?area=`
pub async fn progress(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    me.require(ROADMAP_READERS)?;
    let area = area_param(&state, &me, &q).await?;
    let now = state.store_now();
    let (report, complete) = progress_report(&state.store, &area, now).await?;
    let names = names(&state.store, &report).await?;
    Ok(Json(json!({
        "area": area.to_string(),
        "now": now,
        "rule": RULE_TEXT,
        "geography_complete": complete,
        "report": report,
        "names": names,
    })))
}

/// The OpenAPI description of the roadmap endpoints.
pub fn openapi_paths() -> Vec<(&'static str, Value)> {
    use crate::openapi::{authed, body, err, id_param, ok_json, op, secured};
    let obj = json!({ "type": "object" });
    let area = json!({ "name": "area", "in": "query", "required": false, "description": "region:ID, district:ID or mahalla:ID within the caller's scope; default the caller's scope", "schema": { "type": "string" } });
    let w = "Roles: admin, operator, inspector, within their scope.";
    let r = "Roles: admin, operator, inspector, analyst; 404 outside the caller's scope.";
    vec![
        (
            "/api/roadmaps",
            json!({
                "get": secured(op("Roadmaps", &format!("The roadmaps of the area and every place inside it, each with its number of measures: {{area, roadmaps}}. {r}"),
                    authed(json!({ "200": ok_json("{area, roadmaps}", obj.clone()), "400": err("bad query parameter") }), false)), vec![area.clone()], None),
                "post": secured(op("Make a roadmap", &format!("A prevention roadmap of a region, district or mahalla within the caller's scope. {w} Audited (roadmap.create)."),
                    authed(json!({ "201": ok_json("the roadmap", obj.clone()), "400": err("malformed body or bad values") }), true)), vec![], Some(body("RoadmapRequest"))),
            }),
        ),
        (
            "/api/roadmaps/progress",
            json!({
                "get": secured(op("Roadmap progress, rolled up", &format!("Measures of the area rolled up mahalla > district > region (own and total progress, by kind), every mahalla of the area listed (so those without measures show), overdue measures most overdue first, at the server's clock. {RULE_TEXT}. {r}"),
                    authed(json!({ "200": ok_json("{area, now, rule, geography_complete, report: {now, total, by_kind, regions, overdue}, names}", obj.clone()), "400": err("bad query parameter") }), false)), vec![area], None),
            }),
        ),
        (
            "/api/roadmaps/{id}",
            json!({
                "get": secured(op("One roadmap with its measures", &format!("Each measure with its evidence, who verified it, and whether it is overdue now; progress of the roadmap's own measures. {r}"),
                    authed(json!({ "200": ok_json("{roadmap, measures, progress, now, rule}", obj.clone()), "404": err("no such roadmap within the caller's scope") }), false)), vec![id_param("roadmap")], None),
            }),
        ),
        (
            "/api/roadmaps/{id}/measures",
            json!({
                "post": secured(op("Add a measure to a roadmap", &format!("Planned, with kind, description, owner (an office or post, never a person's name) and deadline. {w} Audited (measure.create)."),
                    authed(json!({ "201": ok_json("the measure", obj.clone()), "400": err("malformed body or bad values"), "404": err("no such roadmap within the caller's scope") }), true)),
                    vec![id_param("roadmap")], Some(body("MeasureRequest"))),
            }),
        ),
        (
            "/api/roadmaps/measures/{id}",
            json!({
                "put": secured(op("Edit a measure", &format!("Replaces kind, description, owner and deadline. {w} Audited (measure.update, with the values before)."),
                    authed(json!({ "200": ok_json("the measure", obj.clone()), "400": err("malformed body or bad values"), "404": err("no such measure within the caller's scope") }), true)),
                    vec![id_param("measure")], Some(body("MeasureRequest"))),
            }),
        ),
        (
            "/api/roadmaps/measures/{id}/status",
            json!({
                "post": secured(op("Change a measure's status", &format!("to: planned, in_progress, done or cancelled. done needs evidence_text (and optionally evidence_link, an http(s) address); new evidence needs a new verification. {w} Audited (measure.status)."),
                    authed(json!({ "200": ok_json("the measure", obj.clone()), "400": err("malformed body, bad values, or done without evidence"), "404": err("no such measure within the caller's scope") }), true)),
                    vec![id_param("measure")], Some(body("MeasureStatusRequest"))),
            }),
        ),
        (
            "/api/roadmaps/measures/{id}/verify",
            json!({
                "post": secured(op("Verify a done measure's evidence", &format!("By a second person: not the one who marked it done. Only then does the measure count as done. {w} Audited (measure.verify)."),
                    authed(json!({ "200": ok_json("the measure", obj.clone()), "400": err("the caller marked it done"), "404": err("no such measure within the caller's scope"), "409": err("not done, or already verified") }), true)),
                    vec![id_param("measure")], Some(body("VerifyRequest"))),
            }),
        ),
    ]
}

/// The request bodies' schemas.
pub fn openapi_schemas() -> Value {
    json!({
        "RoadmapRequest": { "type": "object", "required": ["area", "title"], "additionalProperties": false, "properties": {
            "area": { "type": "string", "description": "region:ID, district:ID or mahalla:ID", "example": "mahalla:1726294001" },
            "title": { "type": "string", "maxLength": 200 },
            "period": { "type": "string", "maxLength": 40, "description": "e.g. 2025" } } },
        "MeasureRequest": { "type": "object", "required": ["kind", "description", "owner", "deadline"], "additionalProperties": false, "properties": {
            "kind": { "enum": KINDS },
            "description": { "type": "string", "maxLength": 2000 },
            "owner": { "type": "string", "maxLength": 200, "description": "an office or post, never a person's name" },
            "deadline": { "type": "string", "format": "date-time" } } },
        "MeasureStatusRequest": { "type": "object", "required": ["to"], "additionalProperties": false, "properties": {
            "to": { "enum": STATUSES },
            "evidence_text": { "type": "string", "maxLength": 2000, "description": "needed for done (unless already stored)" },
            "evidence_link": { "type": "string", "maxLength": 500, "description": "http(s) address of the evidence" },
            "note": { "type": "string", "maxLength": 2000 } } },
        "VerifyRequest": { "type": "object", "additionalProperties": false, "properties": { "note": { "type": "string", "maxLength": 2000 } } },
    })
}

/// Demo data (`posbon serve --demo`): a roadmap for `district` and one for each of its
/// mahallas, with a few measures each (one overdue; some done with evidence, verified by
/// `verifier` where given), all marked synthetic. Does nothing if the district has roadmaps.
pub async fn seed_demo(
    store: &Store,
    district: domain::DistrictId,
    verifier: Option<domain::UserId>,
) -> anyhow::Result<()> {
    if !store
        .list_roadmaps(&Scope::District(district))
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let actor = Actor::system("demo")?;
    let now = store.now();
    let days = |d: i64| now.saturating_add_micros(d * 86_400_000_000);
    let fields = |kind: &str, description: &str, owner: &str, due: i64| store::MeasureFields {
        kind: kind.into(),
        description: description.into(),
        owner: owner.into(),
        deadline: days(due),
    };
    let change = |to: &str, evidence: &str| store::MeasureStatusChange {
        to: to.into(),
        evidence_text: evidence.into(),
        evidence_link: None,
        note: String::new(),
    };
    let roadmap = |place: Scope, title: String| store::NewRoadmap {
        place,
        title,
        period: "2025 (synthetic)".into(),
        synthetic: true,
    };
    let d = store
        .create_roadmap(
            &roadmap(
                Scope::District(district),
                "District prevention roadmap (synthetic)".into(),
            ),
            &actor,
        )
        .await?;
    let owner = "district khokimiyat, prevention department";
    let m1 = store
        .add_measure(
            d.id,
            &fields(
                "digital_monitoring",
                "Cameras at the entrances of every school, connected to posbon",
                owner,
                60,
            ),
            &actor,
        )
        .await?;
    store
        .add_measure(
            d.id,
            &fields(
                "inspector_staffing",
                "Fill the two vacant posts of prevention inspectors",
                "district internal affairs department, personnel",
                -20,
            ),
            &actor,
        )
        .await?;
    let m3 = store
        .add_measure(
            d.id,
            &fields(
                "social_worker_staffing",
                "A social worker for every ten mahallas",
                "district social protection department",
                -5,
            ),
            &actor,
        )
        .await?;
    store
        .set_measure_status(m1.id, &change("in_progress", ""), &actor)
        .await?;
    store
        .set_measure_status(
            m3.id,
            &change(
                "done",
                "Order No. 14 (synthetic): four social workers appointed",
            ),
            &actor,
        )
        .await?;
    if let Some(u) = verifier {
        store.verify_measure(m3.id, u, "demo").await?;
    }
    for (k, m) in store.list_mahallas(district).await?.iter().enumerate() {
        let r = store
            .create_roadmap(
                &roadmap(
                    Scope::Mahalla(m.id),
                    format!("{} prevention roadmap", m.names.uz_latn),
                ),
                &actor,
            )
            .await?;
        let office = "mahalla chairman's office";
        let a = store
            .add_measure(
                r.id,
                &fields(
                    "outreach_education",
                    "Monthly meeting with parents on online fraud and drugs",
                    office,
                    30 + k as i64,
                ),
                &actor,
            )
            .await?;
        let b = store
            .add_measure(
                r.id,
                &fields(
                    "youth_prevention",
                    "Evening sports club for teenagers",
                    "mahalla youth leader",
                    90,
                ),
                &actor,
            )
            .await?;
        if k % 3 == 0 {
            store
                .set_measure_status(
                    a.id,
                    &change(
                        "done",
                        "Minutes of the meeting (synthetic), 40 parents attended",
                    ),
                    &actor,
                )
                .await?;
            if let Some(u) = verifier.filter(|_| k % 2 == 0) {
                store.verify_measure(a.id, u, "demo").await?;
            }
        }
        if k % 4 == 1 {
            store
                .set_measure_status(b.id, &change("in_progress", ""), &actor)
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_the_analytics_crates() {
        for k in KINDS {
            assert_eq!(serde_json::to_value(parse_kind(k).unwrap()).unwrap(), *k);
        }
        for s in STATUSES {
            assert_eq!(serde_json::to_value(parse_status(s).unwrap()).unwrap(), *s);
        }
        assert!(parse_kind("football").is_err());
    }
}
