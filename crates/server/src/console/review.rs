//! The review queue: each event waiting for a person, with its redacted images (through the
//! audited evidence endpoint), rule, zone, camera and time, and two forms: confirm with a
//! category (which opens an incident draft) or dismiss with a reason. The verdict goes through
//! `api::review`, the API's own code.
use std::collections::HashMap;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::{Camera, CameraId, Category, DismissReason, Event};
use serde::Deserialize;
use serde_json::Value;

use super::html::Html;
use super::{
    PageError, PageResult, Places, Viewer, error_banner, html_response, label, layout, redirect,
    select_words, when,
};
use crate::AppState;
use crate::api::{REVIEWERS, ReviewRequest};
use crate::evidence::redacted_images;
use crate::html;

/// Events shown at once, oldest first.
const QUEUE_PAGE: u32 = 20;

/// What the page says after a verdict (from the redirect's query: numbers only).
#[derive(Deserialize, Default)]
pub struct Done {
    confirmed: Option<String>,
    incident: Option<String>,
    dismissed: Option<String>,
}

/// A number from the redirect's query; anything else is ignored.
fn num(v: &Option<String>) -> Option<i64> {
    v.as_deref().and_then(|s| s.parse().ok())
}

/// The zone (or line) the event happened in, from the pipeline's payload.
fn zone_of(payload: &Value) -> Option<String> {
    let d = payload.get("details");
    [
        d.and_then(|d| d.get("zone")),
        payload.get("zone"),
        d.and_then(|d| d.get("line")),
    ]
    .into_iter()
    .flatten()
    .find_map(|v| v.as_str().map(str::to_owned))
}

async fn render(state: &AppState, v: &Viewer, banner: Html, status: StatusCode) -> PageResult {
    let events = state
        .store
        .list_pending_events(&v.me.user.scope, QUEUE_PAGE)
        .await?;
    let mut cameras: HashMap<CameraId, Option<Camera>> = HashMap::new();
    let mut places = Places::default();
    let mut body = Html::new();
    body.push(&banner);
    if events.is_empty() {
        body.raw("<p class=\"empty\" id=\"queue-empty\">No events are waiting for review within your scope.</p>");
    } else {
        html!(body; "<p class=\"muted\">The oldest " {events.len()} " event(s) waiting, oldest first. Each was raised by a machine: confirm it only if the images show it happened. Every image you see here is recorded in the audit log.</p>");
    }
    for e in &events {
        if let std::collections::hash_map::Entry::Vacant(slot) = cameras.entry(e.camera) {
            slot.insert(state.store.get_camera(e.camera).await?);
        }
        let camera = cameras.get(&e.camera).and_then(Option::as_ref);
        let place = match camera {
            Some(c) => places.name(state, c.mahalla).await?,
            None => String::new(),
        };
        body.push(&event_card(v, e, camera, &place));
    }
    Ok(html_response(
        status,
        layout(Some(v), "/console/review", "Review queue", &body),
    ))
}

fn event_card(v: &Viewer, e: &Event, camera: Option<&Camera>, place: &str) -> Html {
    let mut h = Html::new();
    let kind = e.payload.get("kind").and_then(Value::as_str).unwrap_or("");
    let zone = zone_of(&e.payload).unwrap_or_else(|| "—".into());
    html!(h; "<article class=\"event card\" id=\"event-" {e.id} "\"><header><h2>Event " {e.id} ": " {label(&e.rule)} "</h2>"
        "<span class=\"muted\">" {when(e.at)} "</span></header><div class=\"event-body\"><div class=\"evidence\">");
    let images = redacted_images(&e.payload);
    if images.is_empty() {
        h.raw("<p class=\"muted\">No evidence image was stored for this event.</p>");
    }
    for n in 0..images.len() {
        html!(h; "<img class=\"evidence-img\" src=\"/api/events/" {e.id} "/evidence/" {n}
            "\" alt=\"Redacted evidence image " {n + 1} " of event " {e.id} "\" width=\"480\">");
    }
    html!(h; "</div><div class=\"facts\"><dl>"
        "<dt>Rule</dt><dd>" {e.rule} "</dd>");
    if !kind.is_empty() {
        html!(h; "<dt>Kind</dt><dd>" {label(kind)} "</dd>");
    }
    html!(h; "<dt>Zone</dt><dd>" {zone} "</dd>");
    match camera {
        Some(c) => {
            html!(h; "<dt>Camera</dt><dd>" {c.name} " (#" {c.id} ")</dd><dt>Mahalla</dt><dd>" {place} "</dd>");
        }
        None => {
            html!(h; "<dt>Camera</dt><dd>#" {e.camera} "</dd>");
        }
    }
    html!(h; "<dt>Time</dt><dd>" {when(e.at)} "</dd></dl>");
    let cats: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let reasons: Vec<&str> = DismissReason::ALL.iter().map(|r| r.as_str()).collect();
    html!(h;
        "<form method=\"post\" action=\"/console/review/" {e.id} "\" class=\"verdict confirm\">" [v.csrf_field()]
        "<input type=\"hidden\" name=\"verdict\" value=\"confirm\">"
        "<label>Category <span class=\"uz\">Toifa</span> " [select_words("category", &cats, Some("other"), None)] "</label>"
        "<label>Note <input name=\"note\" maxlength=\"2000\" placeholder=\"what the images show\"></label>"
        "<button type=\"submit\" class=\"confirm\">Confirm: open an incident</button></form>"
        "<form method=\"post\" action=\"/console/review/" {e.id} "\" class=\"verdict dismiss\">" [v.csrf_field()]
        "<input type=\"hidden\" name=\"verdict\" value=\"dismiss\">"
        "<label>Reason <span class=\"uz\">Sabab</span> " [select_words("reason", &reasons, None, None)] "</label>"
        "<label>Note <input name=\"note\" maxlength=\"2000\" placeholder=\"needed for reason other\"></label>"
        "<button type=\"submit\" class=\"dismiss\">Dismiss: false alarm</button></form>"
        "</div></div></article>");
    h
}

/// `GET /console/review`
pub async fn page_get(
    State(state): State<AppState>,
    v: Viewer,
    Query(done): Query<Done>,
) -> PageResult {
    v.require(REVIEWERS)?;
    let mut banner = Html::new();
    match (
        num(&done.confirmed),
        num(&done.incident),
        num(&done.dismissed),
    ) {
        (Some(e), Some(i), _) => {
            html!(banner; "<p class=\"banner ok\" role=\"status\" id=\"done\">Event " {e} " confirmed: "
                "<a href=\"/console/incidents/" {i} "\">incident #" {i} "</a> opened.</p>");
        }
        (_, _, Some(e)) => {
            html!(banner; "<p class=\"banner ok\" role=\"status\" id=\"done\">Event " {e} " dismissed.</p>");
        }
        _ => {}
    }
    render(&state, &v, banner, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct VerdictForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    note: String,
}

fn parse_word<T: std::str::FromStr<Err = domain::DomainError>>(
    v: Option<String>,
) -> Result<Option<T>, PageError> {
    match v.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse::<T>().map(Some).map_err(|e| {
            PageError(crate::error::ApiError::bad_request(
                e.to_string(),
                "pick one of the listed values",
            ))
        }),
    }
}

/// `POST /console/review/{id}`: the verdict; then back to the queue, which says what happened.
/// A refused verdict (a missing reason, a second verdict, ...) shows the queue with the reason.
pub async fn submit(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    form: Result<Form<VerdictForm>, FormRejection>,
) -> Result<Response, PageError> {
    v.require(REVIEWERS)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    let confirm = f.verdict == "confirm";
    let req = ReviewRequest {
        verdict: f.verdict,
        category: if confirm {
            parse_word(f.category)?
        } else {
            None
        },
        reason: if confirm { None } else { parse_word(f.reason)? },
        note: f.note,
    };
    match crate::api::review(&state, &v.me, &raw, req).await {
        Ok((review, Some(incident))) => Ok(redirect(&format!(
            "/console/review?confirmed={}&incident={}",
            review.event.map_or(0, |e| e.0),
            incident.id
        ))),
        Ok((review, None)) => Ok(redirect(&format!(
            "/console/review?dismissed={}",
            review.event.map_or(0, |e| e.0)
        ))),
        Err(e) if e.status.is_client_error() && e.status != StatusCode::FORBIDDEN => {
            render(&state, &v, error_banner(&e), e.status).await
        }
        Err(e) => Err(PageError(e)),
    }
}
