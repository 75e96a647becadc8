//! Citizen reports: the public endpoints (no login) and moderation.
//!
//! - `POST /public/reports` takes JSON or an HTML form, answers a reference code; the same
//!   report sent again within [`DEDUP_WINDOW_MICROS`] is stored once and answers the same code.
//! - `GET /public/reports/{code}` tells its status and nothing internal.
//! - Both are limited per client address, in memory ([`PublicLimiter`]), and submissions also by
//!   a global cap; the address is used for nothing else and never stored.
//! - Moderators (admin, operator, inspector) see the reports within their scope, review, accept
//!   (which records an incident, source `public`) or reject them with a public reason. The
//!   contact is shown only on one report's page, and each showing is audited.
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{
    Affected, Category, GeoPoint, MahallaId, Moderation, NewReport, RejectReason, Report,
    ReportCode, ReportId, ReportStatus, Role, Scope, Timestamp,
};
use serde::Deserialize;
use serde_json::{Value, json};
use store::ReportFilter;

use crate::AppState;
use crate::api::covers;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, parse_id, query_i64};
use crate::public_pages;

/// Who moderates citizen reports.
pub const REPORT_MODERATORS: &[Role] = &[Role::Admin, Role::Operator, Role::Inspector];
/// The largest report body accepted (the narrative's 4,000 characters are at most 16 KB).
pub const MAX_REPORT_BYTES: usize = 32 << 10;
/// The same report sent again within this time is stored once.
pub const DEDUP_WINDOW_MICROS: i64 = 10 * 60 * 1_000_000;
/// Uzbekistan's time (UTC+5, no daylight saving): how a form's local date and time are read.
pub const FORM_UTC_OFFSET_SECONDS: i32 = 5 * 3600;

/// The public endpoints' limits, per client address and overall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLimits {
    /// Reports one address may send per `submit_window`.
    pub per_address: usize,
    /// Reports everyone together may send per `submit_window`.
    pub global: usize,
    pub submit_window: Duration,
    /// Status look-ups one address may make per `lookup_window`.
    pub lookups_per_address: usize,
    pub lookup_window: Duration,
}

impl Default for ReportLimits {
    /// 10 reports per address and 600 overall per 10 minutes; 60 look-ups per address a minute.
    /// Whole neighbourhoods share one address behind a mobile carrier's NAT, so the per-address
    /// limit is not tight; the global cap is what protects the moderators' queue.
    fn default() -> Self {
        ReportLimits {
            per_address: 10,
            global: 600,
            submit_window: Duration::from_secs(600),
            lookups_per_address: 60,
            lookup_window: Duration::from_secs(60),
        }
    }
}

/// Why a public request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Address,
    Everyone,
}

/// Sliding-window counters in memory. IPv6 addresses count per /64 (one subscriber's usual
/// allocation), IPv4 per address. A restart forgets them, as it does the login limiter.
pub struct PublicLimiter {
    limits: ReportLimits,
    submits: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
    lookups: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
    global: Mutex<VecDeque<Instant>>,
}

fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Records an attempt at `now` unless `max` were made within `window`.
fn take(q: &mut VecDeque<Instant>, now: Instant, window: Duration, max: usize) -> bool {
    while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
        q.pop_front();
    }
    if q.len() >= max {
        return false;
    }
    q.push_back(now);
    true
}

fn take_keyed(
    map: &Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
    ip: IpAddr,
    window: Duration,
    max: usize,
) -> bool {
    let now = Instant::now();
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() > 10_000 {
        map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
    }
    take(map.entry(limit_key(ip)).or_default(), now, window, max)
}

impl PublicLimiter {
    pub fn new(limits: ReportLimits) -> PublicLimiter {
        PublicLimiter {
            limits,
            submits: Mutex::default(),
            lookups: Mutex::default(),
            global: Mutex::default(),
        }
    }

    pub fn limits(&self) -> &ReportLimits {
        &self.limits
    }

    /// Counts a submission from `ip`; refused past either limit.
    pub fn allow_submit(&self, ip: IpAddr) -> Result<(), Limited> {
        let l = &self.limits;
        if !take_keyed(&self.submits, ip, l.submit_window, l.per_address) {
            return Err(Limited::Address);
        }
        let mut g = self.global.lock().unwrap_or_else(|p| p.into_inner());
        if !take(&mut g, Instant::now(), l.submit_window, l.global) {
            return Err(Limited::Everyone);
        }
        Ok(())
    }

    /// Counts a status look-up from `ip`.
    pub fn allow_lookup(&self, ip: IpAddr) -> bool {
        let l = &self.limits;
        take_keyed(&self.lookups, ip, l.lookup_window, l.lookups_per_address)
    }
}

pub(crate) fn too_many(why: Limited, limits: &ReportLimits) -> ApiError {
    let minutes = limits.submit_window.as_secs().div_ceil(60);
    match why {
        Limited::Address => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many reports from your network address: at most {} in {minutes} minutes",
                limits.per_address
            ),
            format!(
                "wait {minutes} minutes and send it again; in an emergency call 102 (police) or 112"
            ),
        ),
        Limited::Everyone => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "the report service is receiving more reports than it can take just now",
            "try again in a few minutes; in an emergency call 102 (police) or 112",
        ),
    }
}

pub(crate) fn with_retry_after(mut r: Response, secs: u64) -> Response {
    if let Ok(v) = secs.to_string().parse() {
        r.headers_mut().insert(RETRY_AFTER, v);
    }
    r
}

/// A report as JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportJson {
    pub category: Category,
    pub narrative: String,
    pub occurred_at: Timestamp,
    #[serde(default)]
    pub mahalla: Option<MahallaId>,
    #[serde(default)]
    pub point: Option<GeoPoint>,
    #[serde(default)]
    pub affected: Affected,
    #[serde(default)]
    pub anonymous: bool,
    #[serde(default)]
    pub contact: Option<String>,
}

/// A report as the HTML form sends it: every field text, checkboxes present or absent.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ReportForm {
    pub lang: Option<String>,
    pub district: Option<String>,
    pub category: Option<String>,
    pub narrative: Option<String>,
    /// `YYYY-MM-DDTHH:MM` in Uzbekistan's time (what `<input type=datetime-local>` sends), or
    /// RFC 3339.
    pub occurred_at: Option<String>,
    pub mahalla: Option<String>,
    pub lon: Option<String>,
    pub lat: Option<String>,
    pub affected_minor: Option<String>,
    pub affected_youth: Option<String>,
    pub affected_woman: Option<String>,
    pub anonymous: Option<String>,
    pub contact: Option<String>,
}

fn bad(error: impl Into<String>, fix: impl Into<String>) -> ApiError {
    ApiError::bad_request(error, fix)
}

/// Reads a form's local date and time (`YYYY-MM-DDTHH:MM[:SS]`) as Uzbekistan's time, or an
/// RFC 3339 timestamp as it is.
pub fn parse_form_time(s: &str) -> Result<Timestamp, ApiError> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let with_seconds = if s.len() == 16 {
        format!("{s}:00")
    } else {
        s.to_owned()
    };
    let offset = FORM_UTC_OFFSET_SECONDS / 3600;
    format!("{with_seconds}+{offset:02}:00")
        .parse::<Timestamp>()
        .map_err(|_| {
            bad(
                format!("when it happened: {s:?} is not a date and time"),
                "give the date and time as YYYY-MM-DDTHH:MM, e.g. 2024-05-01T09:30",
            )
        })
}

fn non_empty(o: &Option<String>) -> Option<&str> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ReportForm {
    /// The same report as JSON would carry it, or what is wrong with the form.
    pub fn to_json(&self) -> Result<ReportJson, ApiError> {
        let category = non_empty(&self.category)
            .ok_or_else(|| {
                bad(
                    "the kind of incident is missing",
                    "choose one from the list",
                )
            })?
            .parse::<Category>()
            .map_err(|e| bad(e.to_string(), "choose one from the list"))?;
        // Browsers send a textarea's line breaks as CRLF (HTML's form encoding); the report
        // keeps LF, as the JSON API does.
        let narrative = self
            .narrative
            .as_deref()
            .unwrap_or_default()
            .replace("\r\n", "\n")
            .replace('\r', "\n");
        let occurred_at = parse_form_time(non_empty(&self.occurred_at).ok_or_else(|| {
            bad(
                "when it happened is missing",
                "give the date and time, even roughly",
            )
        })?)?;
        let mahalla = match non_empty(&self.mahalla) {
            None => None,
            Some(m) => Some(MahallaId(m.parse().map_err(|_| {
                bad(
                    format!("mahalla {m:?} is not an id"),
                    "choose the mahalla from the list",
                )
            })?)),
        };
        let coord = |what: &str, v: &str| {
            v.replace(',', ".").parse::<f64>().map_err(|_| {
                bad(
                    format!("{what} {v:?} is not a number"),
                    "give coordinates in degrees, e.g. 69.2401 and 41.2995, or leave both empty",
                )
            })
        };
        let point = match (non_empty(&self.lon), non_empty(&self.lat)) {
            (None, None) => None,
            (Some(lon), Some(lat)) => Some(GeoPoint {
                lon: coord("longitude", lon)?,
                lat: coord("latitude", lat)?,
            }),
            _ => {
                return Err(bad(
                    "only one of the two coordinates was given",
                    "give both longitude and latitude, or neither",
                ));
            }
        };
        let checked = |o: &Option<String>| o.is_some();
        Ok(ReportJson {
            category,
            narrative,
            occurred_at,
            mahalla,
            point,
            affected: Affected {
                minor: checked(&self.affected_minor),
                youth: checked(&self.affected_youth),
                woman: checked(&self.affected_woman),
            },
            anonymous: checked(&self.anonymous),
            contact: non_empty(&self.contact).map(str::to_owned),
        })
    }
}

/// Turns what was sent into a [`NewReport`]: the contact normalised, the mahalla checked.
async fn new_report(state: &AppState, j: ReportJson) -> ApiResult<NewReport> {
    let contact = match j
        .contact
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(_) if j.anonymous => {
            return Err(bad(
                "the report is marked anonymous but gives a contact",
                "an anonymous report keeps no contact: remove the contact, or do not mark it anonymous",
            ));
        }
        Some(c) => Some(domain::report::normalize_contact(c).map_err(|e| {
            bad(
                e.to_string(),
                "give a phone number or an e-mail address, or leave it empty",
            )
        })?),
    };
    if let Some(m) = j.mahalla
        && state.store.get_mahalla(m).await?.is_none()
    {
        return Err(bad(
            format!("mahalla {m} does not exist"),
            "choose the mahalla from the list on the /report page",
        ));
    }
    let r = NewReport {
        category: j.category,
        narrative: j.narrative,
        occurred_at: j.occurred_at,
        mahalla: j.mahalla,
        point: j.point,
        affected: j.affected,
        anonymous: j.anonymous,
        contact,
    };
    r.validate(state.store_now())
        .map_err(|e| bad(e.to_string(), "correct it and send the report again"))?;
    Ok(r)
}

/// 50 random bits as a code.
pub(crate) fn random_code() -> ReportCode {
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b).expect("the operating system's random number generator failed");
    ReportCode::from_bits(u64::from_le_bytes(b) & ((1 << 50) - 1))
}

/// Stores the report under a fresh code (drawing again in the unlikely case it is taken).
async fn store_report(state: &AppState, r: &NewReport) -> ApiResult<store::Submitted> {
    let mut tries = 0;
    loop {
        match state
            .store
            .submit_report(r, &random_code(), DEDUP_WINDOW_MICROS)
            .await
        {
            Err(store::Error::Conflict { .. }) if tries < 4 => tries += 1,
            other => return Ok(other?),
        }
    }
}

pub(crate) enum Format {
    Json,
    Form,
}

pub(crate) fn body_format(headers: &HeaderMap) -> Option<Format> {
    let ct = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let mime = ct.split(';').next()?.trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/json" => Some(Format::Json),
        "application/x-www-form-urlencoded" => Some(Format::Form),
        _ => None,
    }
}

/// `POST /public/reports`: no login. JSON in, JSON out; a form in, an HTML page out.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let format = body_format(&headers);
    let form_lang = |f: &ReportForm| public_pages::Lang::pick(f.lang.as_deref());
    if let Err(why) = state.report_limiter.allow_submit(peer.ip()) {
        tracing::warn!(limit = ?why, "citizen report refused by the rate limit");
        let e = too_many(why, state.report_limiter.limits());
        let secs = state.report_limiter.limits().submit_window.as_secs();
        let r = match format {
            Some(Format::Form) => public_pages::error_page(public_pages::Lang::default(), &e),
            _ => e.into_response(),
        };
        return with_retry_after(r, secs);
    }
    let body = match body {
        Ok(b) => b,
        Err(rej) => {
            let e = ApiError::new(
                rej.status(),
                format!(
                    "the report could not be read: {}",
                    if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        format!("it is larger than {MAX_REPORT_BYTES} bytes")
                    } else {
                        rej.body_text()
                    }
                ),
                "shorten what happened to at most 4,000 characters and send it again",
            );
            return match format {
                Some(Format::Form) => public_pages::error_page(public_pages::Lang::default(), &e),
                _ => e.into_response(),
            };
        }
    };
    match format {
        None => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "a report is sent as JSON or as an HTML form",
            "send Content-Type: application/json (or application/x-www-form-urlencoded from the form at /report)",
        )
        .into_response(),
        Some(Format::Json) => {
            let result = async {
                let j: ReportJson = serde_json::from_slice(&body).map_err(|e| {
                    bad(
                        format!("the report is not valid JSON of the expected shape: {e}"),
                        "send the fields the OpenAPI document (/openapi.json) lists for POST /public/reports",
                    )
                })?;
                let r = new_report(&state, j).await?;
                store_report(&state, &r).await
            }
            .await;
            match result {
                Ok(s) => {
                    let status = if s.created {
                        StatusCode::CREATED
                    } else {
                        StatusCode::OK
                    };
                    (status, Json(public_receipt(&s))).into_response()
                }
                Err(e) => e.into_response(),
            }
        }
        Some(Format::Form) => {
            let form: ReportForm = match serde_urlencoded::from_bytes(&body) {
                Ok(f) => f,
                Err(e) => {
                    return public_pages::error_page(
                        public_pages::Lang::default(),
                        &bad(format!("the form could not be read: {e}"), "use the form at /report"),
                    );
                }
            };
            let lang = form_lang(&form);
            let result = async {
                let j = form.to_json()?;
                let r = new_report(&state, j).await?;
                store_report(&state, &r).await
            }
            .await;
            match result {
                Ok(s) => public_pages::receipt_page(lang, &s.report.code, s.created),
                Err(e) if e.status.is_server_error() => public_pages::error_page(lang, &e),
                Err(e) => public_pages::form_again(&state, lang, &form, &e).await,
            }
        }
    }
}

fn public_receipt(s: &store::Submitted) -> Value {
    json!({
        "code": s.report.code,
        "status": s.report.status,
        "status_url": format!("/public/reports/{}", s.report.code),
        "already_received": !s.created,
    })
}

/// What the public may know of a report: its status and, if not accepted, the public reason.
pub fn public_status(r: &Report) -> Value {
    status_json(&r.code, r.status, r.reject_reason, r.submitted_at)
}

/// The public status of any report with a code (citizen or fraud).
pub(crate) fn status_json(
    code: &ReportCode,
    status: ReportStatus,
    reason: Option<RejectReason>,
    submitted_at: Timestamp,
) -> Value {
    json!({
        "code": code,
        "status": status,
        "status_text": status.public_text(),
        "reason": reason,
        "reason_text": reason.map(|x| x.public_text()),
        "submitted_on": &submitted_at.to_string()[..10],
    })
}

/// Looks a code up for the public, counting the look-up against the address's limit.
pub async fn lookup(state: &AppState, ip: IpAddr, raw: &str) -> ApiResult<Report> {
    let code = checked_code(state, ip, raw)?;
    state.store.get_report_by_code(&code).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no report has the code {code}"),
            "check the code as it was given when the report was sent",
        )
    })
}

/// A code typed by the public, read forgivingly, after counting the look-up against the
/// address's limit (429 past it).
pub(crate) fn checked_code(state: &AppState, ip: IpAddr, raw: &str) -> ApiResult<ReportCode> {
    if !state.report_limiter.allow_lookup(ip) {
        let l = state.report_limiter.limits();
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many status look-ups from your network address: at most {} a minute",
                l.lookups_per_address
            ),
            "wait a minute and try again",
        ));
    }
    ReportCode::parse(raw).map_err(|e| {
        bad(
            e.to_string(),
            "type the code as it was given when the report was sent, e.g. R-7KQ4M-2XD9P",
        )
    })
}

/// `GET /public/reports/{code}`: no login.
pub async fn status(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(raw): Path<String>,
) -> Response {
    match lookup(&state, peer.ip(), &raw).await {
        Ok(r) => Json(public_status(&r)).into_response(),
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
            with_retry_after(e.into_response(), 60)
        }
        Err(e) => e.into_response(),
    }
}

/// Whether the moderator's scope covers the report: its mahalla's, or for a report without one,
/// only the national scope.
async fn report_in_scope(state: &AppState, me: &CurrentUser, raw: &str) -> ApiResult<Report> {
    let id = ReportId(parse_id("report", raw)?);
    let r = state.store.get_report(id).await?;
    let visible = match &r {
        None => false,
        Some(r) => match r.mahalla {
            Some(m) => covers(state, me, m).await?,
            None => me.user.scope == Scope::National,
        },
    };
    match r {
        Some(r) if visible => Ok(r),
        _ => Err(ApiError::not_found("report", id)),
    }
}

/// A report for moderators: everything but the contact, and whether there is one.
fn moderator_view(r: &Report) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("has_contact".into(), json!(r.contact.is_some()));
    }
    v
}

/// `GET /api/reports?status=pending&after=ID&limit=N`: the moderation queue, oldest first.
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    me.require(REPORT_MODERATORS)?;
    let lq = list_query(&q)?;
    let reports = state
        .store
        .list_reports(&me.user.scope, lq.filter, lq.after.map(ReportId), lq.limit)
        .await?;
    Ok(page_of(&reports, lq.limit, |r| r.id.0, moderator_view))
}

/// What a moderation list asks for: `status` (pending by default), `after` an id, `limit`.
pub(crate) struct ListQuery {
    pub filter: ReportFilter,
    pub after: Option<i64>,
    pub limit: u32,
}

pub(crate) fn list_query(q: &HashMap<String, String>) -> ApiResult<ListQuery> {
    let filter = match q.get("status").map(String::as_str) {
        None | Some("pending") => ReportFilter::Pending,
        Some("all") => ReportFilter::All,
        Some(s) => ReportFilter::Only(s.parse::<ReportStatus>().map_err(|_| {
            bad(
                format!("query parameter status={s:?} is not a report status"),
                "use status=pending (the default), received, under_review, accepted, rejected or all",
            )
        })?),
    };
    Ok(ListQuery {
        filter,
        after: query_i64(q, "after", 0, i64::MAX)?,
        limit: query_i64(q, "limit", 1, 500)?.unwrap_or(50) as u32,
    })
}

/// A page of a moderation list: each row's view, and the id to go on after when it is full.
pub(crate) fn page_of<T>(
    rows: &[T],
    limit: u32,
    id: impl Fn(&T) -> i64,
    view: impl Fn(&T) -> Value,
) -> Json<Value> {
    let next_after = if rows.len() == limit as usize {
        rows.last().map(&id)
    } else {
        None
    };
    let rows: Vec<Value> = rows.iter().map(view).collect();
    Json(json!({ "reports": rows, "next_after": next_after }))
}

/// `GET /api/reports/{id}`: one report with its contact, if any; showing a contact is audited.
pub async fn get(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    me.require(REPORT_MODERATORS)?;
    let r = report_in_scope(&state, &me, &raw).await?;
    let mut v = moderator_view(&r);
    let target = format!("report:{}", r.id);
    show_contact(
        &state,
        &me,
        &mut v,
        r.contact.as_deref(),
        ("report.contact_view", &target),
        &r.code,
    )
    .await?;
    Ok(Json(json!({ "report": v })))
}

/// Puts a report's contact, if any, into a moderator's view of it, after auditing the showing
/// (`action` on `target`, with the report's code).
pub(crate) async fn show_contact(
    state: &AppState,
    me: &CurrentUser,
    view: &mut Value,
    contact: Option<&str>,
    (action, target): (&str, &str),
    code: &ReportCode,
) -> ApiResult<()> {
    let Some(c) = contact else {
        return Ok(());
    };
    state
        .store
        .audit_append(&me.actor(), action, target, &json!({ "code": code }))
        .await?;
    if let Some(o) = view.as_object_mut() {
        o.insert("contact".into(), json!(c));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerateRequest {
    /// `review`, `accept` or `reject`.
    pub decision: String,
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(default)]
    pub mahalla: Option<MahallaId>,
    #[serde(default)]
    pub reason: Option<RejectReason>,
    /// Internal: kept with the report and in the audit log, never shown to the public.
    #[serde(default)]
    pub note: String,
}

/// `POST /api/reports/{id}/moderate`.
pub async fn moderate(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
    ApiJson(req): ApiJson<ModerateRequest>,
) -> ApiResult<Json<Value>> {
    me.require(REPORT_MODERATORS)?;
    let report = report_in_scope(&state, &me, &raw).await?;
    let m = moderation_of(&state, &me, &req).await?;
    let done = state
        .store
        .moderate_report(report.id, &m, &req.note, me.user.id)
        .await?;
    Ok(Json(json!({
        "report": moderator_view(&done.report),
        "incident": done.incident,
    })))
}

/// The decision a moderation request asks for, checked: an accepting moderator's mahalla must
/// be in scope (403), and each decision takes only its own fields (400).
pub(crate) async fn moderation_of(
    state: &AppState,
    me: &CurrentUser,
    req: &ModerateRequest,
) -> ApiResult<Moderation> {
    let reasons = RejectReason::ALL
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let m = match req.decision.as_str() {
        "accept" => {
            if req.reason.is_some() {
                return Err(bad(
                    "an acceptance has no reject reason",
                    "leave out reason when accepting",
                ));
            }
            if let Some(mh) = req.mahalla
                && !covers(state, me, mh).await?
            {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    format!("mahalla {mh} is not within your scope ({})", me.user.scope),
                    "accept reports only into mahallas within your scope",
                ));
            }
            Moderation::Accept {
                category: req.category,
                mahalla: req.mahalla,
            }
        }
        "reject" | "review" if req.category.is_some() || req.mahalla.is_some() => {
            return Err(bad(
                "only an acceptance records an incident, so only it takes a category or a mahalla",
                "leave out category and mahalla",
            ));
        }
        "reject" => Moderation::Reject(req.reason.ok_or_else(|| {
            bad(
                "a rejection needs a public reason",
                format!("send reason, one of: {reasons}"),
            )
        })?),
        "review" if req.reason.is_some() => {
            return Err(bad("only a rejection takes a reason", "leave out reason"));
        }
        "review" => Moderation::Review,
        other => {
            return Err(bad(
                format!("unknown decision {other:?}"),
                "send decision review, accept or reject",
            ));
        }
    };
    Ok(m)
}
