//! Victims' fraud reports (issue 5): the public endpoints, moderation, the public check, and
//! loading accepted reports into [`crate::threat::Threats`].
//!
//! - `POST /public/fraud-reports` (JSON, or the form at `/fraud`): what happened, when, the
//!   amount lost, the channel, the fraudster's identifiers typed into fields (each checked: a
//!   card's Luhn digit, an IBAN's mod 97, a phone number's code, and named in the 400 when wrong)
//!   and the narrative, whose indicators the extractor finds. Card numbers never reach the
//!   database: a card is kept as `BIN…last4` and its keyed hash, and card numbers in the
//!   narrative are replaced by their `BIN…last4` form before it is stored. A resubmission (the
//!   same client idempotency key, or the same content within a day) answers the first report's
//!   code and stores nothing.
//! - `GET /public/fraud-reports/{code}` tells its status, as citizen reports do.
//! - Moderators (admin, operator, analyst) accept a report in their scope: it becomes a fraud
//!   incident in the victim's mahalla and its indicators enter the in-memory index, where they
//!   link campaigns and answer the checks.
//! - `GET /public/check/{prefix}`: every reported hash under a 3-8 hex digit prefix, with the
//!   kind and channels that choose the advice; the client compares locally.
//!
//! Rate limits, codes and moderation reuse the citizen reports' ([`crate::reports`]).
use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cyber::{Detail, Indicator, IndicatorKind, ReportEntry, indicator_hash};
use domain::fraud::{FraudIndicator, MAX_FRAUD_NARRATIVE_CHARS};
use domain::{
    Channel, FoundIn, FraudReport, FraudReportId, MahallaId, NewFraudReport, ReportStatus, Role,
    Timestamp,
};
use serde::Deserialize;
use serde_json::{Value, json};
use store::{ReportFilter, Store};

use crate::AppState;
use crate::api::covers;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, parse_id};
use crate::fraud_pages;
use crate::reports::{
    Format, ModerateRequest, body_format, checked_code, list_query, page_of, random_code,
    show_contact, status_json, too_many, with_retry_after,
};
use crate::threat::Threats;

/// Who moderates fraud reports (fraud analysts know the scams; operators and admins as for
/// citizen reports).
pub const FRAUD_MODERATORS: &[Role] = &[Role::Admin, Role::Operator, Role::Analyst];
/// The largest fraud report body accepted (8,000 characters of narrative are at most 32 KB).
pub const MAX_FRAUD_BYTES: usize = 64 << 10;
/// The same content sent again within this time is stored once.
pub const FRAUD_DEDUP_WINDOW_MICROS: i64 = 24 * 3600 * 1_000_000;
/// The longest client idempotency key, in bytes.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 200;
/// The most hashes one public check answers (a 3-digit prefix of a million indicators holds
/// about 250).
const MAX_CHECK_ANSWERS: usize = 10_000;

/// A report as JSON.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FraudJson {
    pub occurred_at: Timestamp,
    /// In tiyin (1/100 so'm).
    pub amount_lost: i64,
    pub channel: Channel,
    pub narrative: String,
    /// The victim's mahalla.
    pub mahalla: MahallaId,
    #[serde(default)]
    pub contact: Option<String>,
    /// Identifiers typed into fields, each of a named kind.
    #[serde(default)]
    pub indicators: Vec<TypedIndicator>,
    /// Any string that identifies this submission to the client (also read from the
    /// `Idempotency-Key` header): sending it again stores nothing new.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// One identifier typed into a field meant for its kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedIndicator {
    pub kind: String,
    pub value: String,
}

/// A refusal that names the field at fault, so a form can mark it.
#[derive(Debug)]
pub struct Refusal {
    pub field: Option<String>,
    pub error: ApiError,
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Refusal { field: None, error }
    }
}

impl From<store::Error> for Refusal {
    fn from(e: store::Error) -> Self {
        Refusal::from(ApiError::from(e))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.error.error, "fix": self.error.fix });
        if let Some(f) = self.field {
            body["field"] = json!(f);
        }
        (self.error.status, Json(body)).into_response()
    }
}

fn refuse(field: impl Into<String>, error: impl Into<String>, fix: impl Into<String>) -> Refusal {
    Refusal {
        field: Some(field.into()),
        error: ApiError::bad_request(error, fix),
    }
}

/// Where a typed indicator came from: its JSON position or its form field's name.
pub struct Typed {
    pub field: String,
    pub kind: IndicatorKind,
    pub value: String,
}

impl FraudJson {
    /// The typed indicators with the names a JSON client knows them by (`indicators[2]`).
    fn typed(&self) -> Result<Vec<Typed>, Refusal> {
        let kinds = IndicatorKind::ALL.map(|k| k.as_str()).join(", ");
        self.indicators
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let field = format!("indicators[{i}]");
                let kind = IndicatorKind::parse(&t.kind).ok_or_else(|| {
                    refuse(
                        &field,
                        format!("{field}: unknown kind {:?}", t.kind),
                        format!("use one of: {kinds}"),
                    )
                })?;
                Ok(Typed {
                    field,
                    kind,
                    value: t.value.clone(),
                })
            })
            .collect()
    }
}

/// What a victim sent, before checking: the JSON's fields with the typed indicators named.
pub struct Submission {
    pub occurred_at: Timestamp,
    pub amount_lost: i64,
    pub channel: Channel,
    pub narrative: String,
    pub mahalla: MahallaId,
    pub contact: Option<String>,
    pub typed: Vec<Typed>,
    pub idempotency_key: Option<String>,
}

impl Submission {
    fn from_json(j: FraudJson, header_key: Option<String>) -> Result<Submission, Refusal> {
        let typed = j.typed()?;
        Ok(Submission {
            occurred_at: j.occurred_at,
            amount_lost: j.amount_lost,
            channel: j.channel,
            narrative: j.narrative,
            mahalla: j.mahalla,
            contact: j.contact,
            typed,
            idempotency_key: j.idempotency_key.or(header_key),
        })
    }
}

/// One indicator as stored, from cyber's.
pub fn stored_indicator(i: &Indicator, found_in: FoundIn) -> FraudIndicator {
    let key = i.key();
    let link_domain = i
        .link_keys()
        .into_iter()
        .find(|k| *k != key && k.kind == IndicatorKind::Domain)
        .map(|k| k.value);
    FraudIndicator {
        kind: i.kind.as_str().to_owned(),
        value: i.value.clone(),
        card_hash: match &i.detail {
            Detail::Card(t) => Some(t.keyed_hash_hex()),
            _ => None,
        },
        hash: hex::encode(key.hash()),
        link_domain,
        found_in,
        suspicious: i.suspicious.iter().map(|s| s.as_str().to_owned()).collect(),
        defanged: i.defanged,
    }
}

/// `first6…last4` of the digits in `s`, or `…` when there are too few to keep any.
fn mask_digits(s: &str) -> String {
    let d: Vec<char> = s.chars().filter(char::is_ascii_digit).collect();
    if d.len() < 12 {
        return "\u{2026}".to_owned();
    }
    let head: String = d[..6].iter().collect();
    let tail: String = d[d.len() - 4..].iter().collect();
    format!("{head}\u{2026}{tail}")
}

/// The narrative with every card number the extractor saw (valid or with a typo) replaced by
/// its `BIN…last4` form, so that no card number is stored.
fn mask_cards(text: &str, x: &cyber::Extraction) -> String {
    let mut spans: Vec<(std::ops::Range<usize>, String)> = x
        .indicators
        .iter()
        .filter_map(|i| match &i.detail {
            Detail::Card(t) => Some((i.span.clone(), t.masked())),
            _ => None,
        })
        .chain(
            x.rejected
                .iter()
                .filter(|r| r.kind == IndicatorKind::Card)
                .map(|r| (r.span.clone(), mask_digits(&text[r.span.clone()]))),
        )
        .collect();
    spans.sort_by_key(|(s, _)| s.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (span, masked) in spans {
        if span.start < at || span.end > text.len() {
            continue;
        }
        out.push_str(&text[at..span.start]);
        out.push_str(&masked);
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Checks a submission and turns it into what is stored: typed indicators normalised (a wrong
/// one refused, naming its field), the narrative's indicators extracted and its card numbers
/// masked, the contact normalised, the mahalla checked.
pub async fn check_submission(
    state: &AppState,
    mut s: Submission,
) -> Result<NewFraudReport, Refusal> {
    // Browsers send a textarea's line breaks as CRLF; one form of line break is kept.
    if s.narrative.contains('\r') {
        s.narrative = s.narrative.replace("\r\n", "\n").replace('\r', "\n");
    }
    if state.store.get_mahalla(s.mahalla).await?.is_none() {
        return Err(refuse(
            "mahalla",
            format!("mahalla {} does not exist", s.mahalla),
            "choose your mahalla from the list on the /fraud page",
        ));
    }
    let contact = match s
        .contact
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(c) => Some(domain::report::normalize_contact(c).map_err(|e| {
            refuse(
                "contact",
                e.to_string(),
                "give a phone number or an e-mail address, or leave it empty",
            )
        })?),
    };
    let idempotency_key = match s.idempotency_key.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(k) if k.len() > MAX_IDEMPOTENCY_KEY_BYTES => {
            return Err(refuse(
                "idempotency_key",
                format!("the idempotency key is longer than {MAX_IDEMPOTENCY_KEY_BYTES} bytes"),
                "send a shorter key, e.g. a UUID",
            ));
        }
        Some(k) => Some(crate::auth::sha256_hex(k)),
    };
    let ex = state.threats.extractor();
    let mut found: Vec<FraudIndicator> = Vec::new();
    let mut push = |i: FraudIndicator| {
        if !found.iter().any(|f| f.hash == i.hash) {
            found.push(i);
        }
    };
    for t in &s.typed {
        let i = ex.field(t.kind, &t.value).map_err(|e| {
            refuse(
                &t.field,
                format!("{}: {e}", t.field),
                format!(
                    "correct the {} (or leave the field empty) and send the report again",
                    t.kind
                ),
            )
        })?;
        push(stored_indicator(&i, FoundIn::Field));
    }
    let x = ex.extract(&s.narrative);
    for i in &x.indicators {
        push(stored_indicator(i, FoundIn::Text));
    }
    let report = NewFraudReport {
        occurred_at: s.occurred_at,
        amount_lost: s.amount_lost,
        channel: s.channel,
        narrative: mask_cards(&s.narrative, &x),
        mahalla: s.mahalla,
        contact,
        indicators: found,
        idempotency_key,
    };
    report.validate(state.store_now()).map_err(refusal_of)?;
    Ok(report)
}

/// A domain rule's refusal, naming the field it concerns and how to put it right.
fn refusal_of(e: domain::DomainError) -> Refusal {
    let what = match &e {
        domain::DomainError::Invalid { what, .. } => *what,
        _ => "",
    };
    let (field, fix) = match what {
        "what happened" => (
            "narrative",
            "say what happened in plain text (no control characters), shortening pasted messages to the parts that matter",
        ),
        "amount lost" => (
            "amount_lost",
            "give the amount in tiyin (so'm × 100) as a whole number, 0 if nothing was lost",
        ),
        "when it happened" => ("occurred_at", "give the date and time it happened"),
        "contact" => (
            "contact",
            "give a phone number or an e-mail address, or leave it empty",
        ),
        "report" => (
            "indicators",
            "keep the phone numbers, cards, links and accounts the fraudster used and send the report again",
        ),
        _ => ("report", "correct it and send the report again"),
    };
    refuse(field, e.to_string(), fix)
}

/// Stores the report under a fresh code (drawing again in the unlikely case it is taken).
pub async fn store_report(
    state: &AppState,
    r: &NewFraudReport,
) -> ApiResult<store::FraudSubmitted> {
    let mut tries = 0;
    loop {
        match state
            .store
            .submit_fraud_report(r, &random_code(), FRAUD_DEDUP_WINDOW_MICROS)
            .await
        {
            Err(store::Error::Conflict { .. }) if tries < 4 => tries += 1,
            other => return Ok(other?),
        }
    }
}

/// What the victim is told after sending: the code, and what was recognised (cards masked).
fn receipt(s: &store::FraudSubmitted) -> Value {
    json!({
        "code": s.report.code,
        "status": s.report.status,
        "status_url": format!("/public/fraud-reports/{}", s.report.code),
        "already_received": !s.created,
        "indicators": s.report.indicators.iter().map(|i| json!({
            "kind": i.kind, "value": i.value, "found_in": i.found_in,
        })).collect::<Vec<_>>(),
    })
}

fn header_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `POST /public/fraud-reports`: no login. JSON in, JSON out; the `/fraud` form in, a page out.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let format = body_format(&headers);
    let is_form = matches!(format, Some(Format::Form));
    if let Err(why) = state.report_limiter.allow_submit(peer.ip()) {
        tracing::warn!(limit = ?why, "fraud report refused by the rate limit");
        let e = too_many(why, state.report_limiter.limits());
        let secs = state.report_limiter.limits().submit_window.as_secs();
        let r = if is_form {
            fraud_pages::error_page(Default::default(), &e)
        } else {
            e.into_response()
        };
        return with_retry_after(r, secs);
    }
    let body = match body {
        Ok(b) => b,
        Err(rej) => {
            let e = ApiError::new(
                rej.status(),
                if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    format!("the report is larger than {MAX_FRAUD_BYTES} bytes")
                } else {
                    format!("the report could not be read: {}", rej.body_text())
                },
                format!(
                    "shorten what happened to at most {MAX_FRAUD_NARRATIVE_CHARS} characters and send it again"
                ),
            );
            return if is_form {
                fraud_pages::error_page(Default::default(), &e)
            } else {
                e.into_response()
            };
        }
    };
    match format {
        None => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "a fraud report is sent as JSON or as an HTML form",
            "send Content-Type: application/json (or application/x-www-form-urlencoded from the form at /fraud)",
        )
        .into_response(),
        Some(Format::Json) => {
            let result = async {
                let j: FraudJson = serde_json::from_slice(&body).map_err(|e| {
                    Refusal::from(ApiError::bad_request(
                        format!("the report is not valid JSON of the expected shape: {e}"),
                        "send the fields the OpenAPI document (/openapi.json) lists for POST /public/fraud-reports",
                    ))
                })?;
                let s = Submission::from_json(j, header_key(&headers))?;
                let r = check_submission(&state, s).await?;
                Ok::<_, Refusal>(store_report(&state, &r).await?)
            }
            .await;
            match result {
                Ok(s) => {
                    let status = if s.created {
                        StatusCode::CREATED
                    } else {
                        StatusCode::OK
                    };
                    (status, Json(receipt(&s))).into_response()
                }
                Err(e) => e.into_response(),
            }
        }
        Some(Format::Form) => fraud_pages::submit_form(&state, &body).await,
    }
}

/// Looks a fraud report's code up for the public (limited per address like citizen reports).
pub async fn lookup(state: &AppState, ip: std::net::IpAddr, raw: &str) -> ApiResult<FraudReport> {
    let code = checked_code(state, ip, raw)?;
    state
        .store
        .get_fraud_report_by_code(&code)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no fraud report has the code {code}"),
                "check the code as it was given when the report was sent (citizen reports' codes are checked at /report/status)",
            )
        })
}

/// `GET /public/fraud-reports/{code}`: no login.
pub async fn status(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(raw): Path<String>,
) -> Response {
    match lookup(&state, peer.ip(), &raw).await {
        Ok(r) => Json(status_json(
            &r.code,
            r.status,
            r.reject_reason,
            r.submitted_at,
        ))
        .into_response(),
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
            with_retry_after(e.into_response(), 60)
        }
        Err(e) => e.into_response(),
    }
}

/// The report, if it exists and its (victim's) mahalla is within the moderator's scope.
async fn report_in_scope(state: &AppState, me: &CurrentUser, raw: &str) -> ApiResult<FraudReport> {
    let id = FraudReportId(parse_id("fraud report", raw)?);
    match state.store.get_fraud_report(id).await? {
        Some(r) if covers(state, me, r.mahalla).await? => Ok(r),
        _ => Err(ApiError::not_found("fraud report", id)),
    }
}

/// A report for moderators: everything but the contact, and whether there is one.
pub fn moderator_view(r: &FraudReport) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("has_contact".into(), json!(r.contact.is_some()));
    }
    v
}

/// `GET /api/fraud-reports?status=pending&after=ID&limit=N`: oldest first.
pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    me.require(FRAUD_MODERATORS)?;
    let lq = list_query(&q)?;
    let reports = state
        .store
        .list_fraud_reports(
            &me.user.scope,
            lq.filter,
            lq.after.map(FraudReportId),
            lq.limit,
        )
        .await?;
    Ok(page_of(&reports, lq.limit, |r| r.id.0, moderator_view))
}

/// `GET /api/fraud-reports/{id}`: one report with its contact, if any (each showing audited).
pub async fn get(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    me.require(FRAUD_MODERATORS)?;
    let r = report_in_scope(&state, &me, &raw).await?;
    let mut v = moderator_view(&r);
    let target = format!("fraud_report:{}", r.id);
    show_contact(
        &state,
        &me,
        &mut v,
        r.contact.as_deref(),
        ("fraud.contact_view", &target),
        &r.code,
    )
    .await?;
    Ok(Json(json!({ "report": v })))
}

/// `POST /api/fraud-reports/{id}/moderate`: `review`, `accept` (optional `category` fraud or
/// cybercrime, optional `mahalla` in scope) or `reject` with a public `reason`. An accepted
/// report's indicators join the index at once.
pub async fn moderate(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
    ApiJson(req): ApiJson<ModerateRequest>,
) -> ApiResult<Json<Value>> {
    me.require(FRAUD_MODERATORS)?;
    let report = report_in_scope(&state, &me, &raw).await?;
    let m = crate::reports::moderation_of(&state, &me, &req).await?;
    let done = state
        .store
        .moderate_fraud_report(report.id, &m, &req.note, me.user.id)
        .await?;
    if done.report.status == ReportStatus::Accepted {
        add_to_threats(&state.threats, &done.report);
    }
    Ok(Json(json!({
        "report": moderator_view(&done.report),
        "incident": done.incident,
    })))
}

/// The hashes a stored report is indexed under.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct IndexHashes {
    /// Each indicator's exact key and, for links and domains, the registrable domain: these
    /// link reports into campaigns.
    pub link: Vec<[u8; 32]>,
    /// A card's `BIN…last4`: answered by the checks, links nothing.
    pub check_only: Vec<[u8; 32]>,
    /// The kind of every hash above, for the public check.
    pub kinds: Vec<([u8; 32], IndicatorKind)>,
}

/// What a stored report is indexed under: the same as [`cyber::ThreatIndex::add_indicators`]
/// gives for the indicators it was made from (a test holds the two together), computed from
/// what is stored, without the card key.
pub fn index_hashes(r: &FraudReport) -> IndexHashes {
    let mut out = IndexHashes::default();
    for i in &r.indicators {
        let Some(kind) = IndicatorKind::parse(&i.kind) else {
            tracing::warn!(report = %r.id, kind = %i.kind, "stored indicator of an unknown kind skipped");
            continue;
        };
        let h = indicator_hash(kind, &i.key_value());
        out.link.push(h);
        out.kinds.push((h, kind));
        if let Some(d) = &i.link_domain {
            let h = indicator_hash(IndicatorKind::Domain, d);
            out.link.push(h);
            out.kinds.push((h, IndicatorKind::Domain));
        }
        if kind == IndicatorKind::Card {
            let h = indicator_hash(IndicatorKind::Card, &i.value);
            out.check_only.push(h);
            out.kinds.push((h, IndicatorKind::Card));
        }
    }
    out
}

/// Adds an accepted report to the index (idempotent per report).
pub fn add_to_threats(threats: &Threats, r: &FraudReport) -> cyber::Linked {
    let h = index_hashes(r);
    threats.add_entry(
        &ReportEntry {
            id: r.id.0 as u64,
            time: r.occurred_at.unix_micros() / 1_000_000,
            loss: r.amount_lost.max(0) as u64,
            link: &h.link,
            check_only: &h.check_only,
        },
        &h.kinds,
        r.channel.bit(),
    )
}

/// Loads every accepted fraud report into `threats` (at start: `posbon serve` calls it before
/// serving). Returns how many were loaded.
pub async fn load_threats(store: &Store, threats: &Threats) -> anyhow::Result<usize> {
    let mut after = None;
    let mut n = 0;
    loop {
        let page = store
            .list_fraud_reports(
                &domain::Scope::National,
                ReportFilter::Only(ReportStatus::Accepted),
                after,
                1000,
            )
            .await?;
        for r in &page {
            add_to_threats(threats, r);
        }
        n += page.len();
        match page.last() {
            Some(r) if page.len() == 1000 => after = Some(r.id),
            _ => break,
        }
    }
    tracing::info!(
        reports = n,
        indicators = threats.read().len(),
        "fraud reports loaded into the threat index"
    );
    Ok(n)
}

/// `GET /public/check/{prefix}`: every reported hash that starts with `prefix` (3 to 8 hex
/// digits; the check page sends 5, or 3 for cards), with the kind and the channels of the
/// reports that named it. The server learns the prefix, not the indicator. Limited per address
/// like status look-ups; cacheable for 5 minutes.
pub async fn check(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(prefix): Path<String>,
) -> Response {
    if !state.report_limiter.allow_lookup(peer.ip()) {
        let l = state.report_limiter.limits();
        let e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many checks from your network address: at most {} a minute",
                l.lookups_per_address
            ),
            "wait a minute and check again",
        );
        return with_retry_after(e.into_response(), 60);
    }
    let (value, bits) = match cyber::parse_prefix_hex(&prefix) {
        Ok(p) => p,
        Err(e) => {
            return ApiError::bad_request(
                format!("{prefix:?}: {e}"),
                "send the first 5 hex digits of the indicator's SHA-256 (3 for a card), as the /check page does",
            )
            .into_response();
        }
    };
    let hashes: Vec<[u8; 32]> = state
        .threats
        .read()
        .prefix_index()
        .range(value, bits)
        .take(MAX_CHECK_ANSWERS)
        .copied()
        .collect();
    let answers: Vec<Value> = hashes
        .iter()
        .map(|h| {
            let info = state.threats.check_info(h);
            json!({
                "hash": hex::encode(h),
                "kind": info.map(|i| i.kind.as_str()),
                "channels": info.map(|i| Channel::from_bits(i.channels)).unwrap_or_default(),
            })
        })
        .collect();
    let mut r =
        Json(json!({ "prefix": prefix.to_ascii_lowercase(), "hashes": answers })).into_response();
    r.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extractor() -> cyber::Extractor {
        cyber::Extractor::new(cyber::CardKey::from_bytes(&[7u8; 32]).unwrap())
    }

    fn report_of(inds: &[Indicator]) -> FraudReport {
        FraudReport {
            id: FraudReportId(9),
            code: domain::ReportCode::from_bits(9),
            occurred_at: Timestamp::from_unix_micros(1_700_000_000_000_000).unwrap(),
            amount_lost: 100,
            channel: Channel::Sms,
            narrative: "x".into(),
            mahalla: MahallaId(1),
            contact: None,
            status: ReportStatus::Accepted,
            reject_reason: None,
            moderator: None,
            moderation_note: String::new(),
            incident: None,
            submitted_at: Timestamp::from_unix_micros(0).unwrap(),
            updated_at: Timestamp::from_unix_micros(0).unwrap(),
            indicators: inds
                .iter()
                .map(|i| stored_indicator(i, FoundIn::Text))
                .collect(),
        }
    }

    #[test]
    fn stored_indicators_index_as_cyber_does() {
        let ex = extractor();
        let x = ex.extract(
            "Call +998 90 123 45 67, pay to 4111 1111 1111 1111, see https://login.evil-bank.uz/a?utm_source=x \
             and t.me/fake_support_bot, IBAN GB82 WEST 1234 5698 7654 32, http://t.me/s/another_chan",
        );
        assert!(x.indicators.len() >= 5, "{:?}", x.indicators);
        let IndexHashes {
            link,
            check_only,
            kinds,
        } = index_hashes(&report_of(&x.indicators));
        let mut want_link = Vec::new();
        let mut want_check = Vec::new();
        for i in &x.indicators {
            want_link.extend(i.link_keys().iter().map(|k| k.hash()));
            want_check.extend(i.check_hashes().into_iter().skip(1));
        }
        assert_eq!(link, want_link);
        assert_eq!(check_only, want_check);
        assert_eq!(kinds.len(), link.len() + check_only.len());
        // and the index answers the same verdicts either way
        let a = Threats::new(cyber::CardKey::from_bytes(&[7u8; 32]).unwrap());
        let b = Threats::new(cyber::CardKey::from_bytes(&[7u8; 32]).unwrap());
        add_to_threats(&a, &report_of(&x.indicators));
        b.add_report(9, 1_700_000_000, 100, &x.indicators);
        for h in link.iter().chain(&check_only) {
            assert_eq!(a.read().verdict(h), b.read().verdict(h));
        }
        assert_eq!(a.read().len(), b.read().len());
    }

    #[test]
    fn card_numbers_are_masked_in_the_narrative() {
        let ex = extractor();
        let text = "I sent 1 500 000 so'm to 4111-1111-1111-1111, then to 4111 1111 1111 1112.";
        let x = ex.extract(text);
        let masked = mask_cards(text, &x);
        assert!(!masked.contains("4111-1111-1111-1111"), "{masked}");
        assert!(!masked.contains("4111 1111 1111 1112"), "{masked}");
        assert!(masked.contains("411111\u{2026}1111"), "{masked}");
        assert!(
            masked.starts_with("I sent 1 500 000 so'm to 411111"),
            "{masked}"
        );
        assert!(
            domain::fraud::longest_digit_run(&masked.replace([' ', '-'], "")) < 11,
            "{masked}"
        );
    }
}
