//! Incidents: a filtered list (newest first, paged), one incident with its evidence and status
//! history, and the status/assignment form. Reading goes through the API's scoped store query
//! and `api::incident_in_scope`; the change through `api::set_status`.
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::{Actor, Category, Incident, IncidentId, Source, Status, UserId};
use serde::Deserialize;

use super::html::Html;
use super::{
    PageError, PageResult, Places, Viewer, error_banner, html_response, label, layout,
    mahalla_name, mahallas_in_scope, redirect, select_words, when,
};
use crate::AppState;
use crate::api::{INCIDENT_READERS, INCIDENT_WRITERS, StatusRequest};
use crate::error::ApiError;
use crate::evidence::redacted_images;
use crate::html;

const PAGE: usize = 50;
/// Rows read from the store per step while filtering.
const SCAN: u32 = 500;

#[derive(Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    status: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    mahalla: String,
    #[serde(default)]
    before: String,
}

fn parse_opt<T: std::str::FromStr>(name: &str, raw: &str) -> Result<Option<T>, PageError>
where
    T::Err: std::fmt::Display,
{
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<T>().map(Some).map_err(|e| {
        PageError(ApiError::bad_request(
            format!("filter {name}={raw:?}: {e}"),
            format!("pick {name} from the list, or leave it empty"),
        ))
    })
}

/// `GET /console/incidents?status=&category=&source=&mahalla=&before=`
pub async fn list(State(state): State<AppState>, v: Viewer, Query(f): Query<Filter>) -> PageResult {
    v.require(INCIDENT_READERS)?;
    let status: Option<Status> = parse_opt("status", &f.status)?;
    let category: Option<Category> = parse_opt("category", &f.category)?;
    let source: Option<Source> = parse_opt("source", &f.source)?;
    let mahalla: Option<i64> = parse_opt("mahalla", &f.mahalla)?;
    let before: Option<i64> = parse_opt("before", &f.before)?;
    let keep = |i: &Incident| {
        status.is_none_or(|s| i.status == s)
            && category.is_none_or(|c| i.category == c)
            && source.is_none_or(|s| i.source == s)
            && mahalla.is_none_or(|m| i.mahalla.0 == m)
    };
    // The store lists the caller's scope newest first; filter while paging through it.
    let mut rows: Vec<Incident> = Vec::new();
    let mut cursor = before.map(IncidentId);
    let mut more = false;
    'scan: loop {
        let page = state
            .store
            .list_incidents(&v.me.user.scope, cursor, SCAN)
            .await?;
        let done = page.len() < SCAN as usize;
        cursor = page.last().map(|i| i.id);
        for i in page {
            if keep(&i) {
                if rows.len() == PAGE {
                    more = true;
                    break 'scan;
                }
                rows.push(i);
            }
        }
        if done {
            break;
        }
    }
    let mut places = Places::default();
    let mut body = Html::new();
    // Filters.
    let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    let cats: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let sources: Vec<&str> = Source::ALL.iter().map(|s| s.as_str()).collect();
    let nonempty = |s: &str| (!s.is_empty()).then_some(s.to_owned());
    html!(body; "<form method=\"get\" action=\"/console/incidents\" class=\"filters\">"
        "<label>Status " [select_words("status", &statuses, nonempty(&f.status).as_deref(), Some("any"))] "</label>"
        "<label>Category " [select_words("category", &cats, nonempty(&f.category).as_deref(), Some("any"))] "</label>"
        "<label>Source " [select_words("source", &sources, nonempty(&f.source).as_deref(), Some("any"))] "</label>"
        "<label>Mahalla <select name=\"mahalla\"><option value=\"\">any</option>");
    for m in mahallas_in_scope(&state, &v.me.user.scope).await? {
        body.raw("<option value=\"").text(m.id).raw("\"");
        if mahalla == Some(m.id.0) {
            body.raw(" selected");
        }
        html!(body; ">" {mahalla_name(&m)} "</option>");
    }
    html!(body; "</select></label><button type=\"submit\">Filter</button> <a href=\"/console/incidents\">clear</a></form>"
        "<p class=\"exports\">Export every incident within your scope (recorded in the audit log): "
        "<a href=\"/api/incidents.csv\" id=\"export-csv\">CSV</a> · <a href=\"/api/incidents.geojson\" id=\"export-geojson\">GeoJSON</a></p>");
    if v.may(INCIDENT_WRITERS) {
        body.raw("<p><a href=\"/console/incidents/new\" id=\"record-incident\">Record an incident by hand</a> (a patrol's, an inspector's or one reported in person)</p>");
    }
    if rows.is_empty() {
        body.raw("<p class=\"empty\">No incidents match.</p>");
    } else {
        body.raw("<table class=\"list\" id=\"incidents\"><thead><tr><th>#</th><th>Occurred</th><th>Category</th><th>Source</th><th>Status</th><th>Mahalla</th><th>Narrative</th></tr></thead><tbody>");
        for i in &rows {
            let place = places.name(&state, i.mahalla).await?;
            let excerpt: String = i.narrative.chars().take(80).collect();
            let ellipsis = if i.narrative.chars().count() > 80 {
                "…"
            } else {
                ""
            };
            html!(body; "<tr><td><a href=\"/console/incidents/" {i.id} "\">" {i.id} "</a></td><td>" {when(i.occurred_at)}
                "</td><td>" {label(i.category.as_str())} "</td><td>" {label(i.source.as_str())}
                "</td><td><span class=\"status s-" {i.status} "\">" {label(i.status.as_str())} "</span></td><td>" {place}
                "</td><td class=\"narrative-cell\">" {excerpt} {ellipsis} "</td></tr>");
        }
        body.raw("</tbody></table>");
    }
    if more {
        let last = rows.last().map_or(0, |i| i.id.0);
        html!(body; "<p class=\"pager\"><a href=\"/console/incidents?status=" {f.status} "&amp;category=" {f.category}
            "&amp;source=" {f.source} "&amp;mahalla=" {f.mahalla} "&amp;before=" {last} "\">Older incidents →</a></p>");
    }
    Ok(html_response(
        StatusCode::OK,
        layout(Some(&v), "/console/incidents", "Incidents", &body),
    ))
}

#[derive(Deserialize, Default)]
pub struct Changed {
    changed: Option<String>,
    /// Set after a file was attached.
    attached: Option<String>,
    /// Set after the incident was recorded with the form.
    created: Option<String>,
}

pub(super) async fn render_detail(
    state: &AppState,
    v: &Viewer,
    raw: &str,
    banner: Html,
    status: StatusCode,
) -> PageResult {
    let i = crate::api::incident_in_scope(state, &v.me, raw).await?;
    let history = state.store.incident_history(i.id).await?;
    let mut places = Places::default();
    let place = places.name(state, i.mahalla).await?;
    let synthetic = places
        .get(state, i.mahalla)
        .await?
        .is_some_and(|m| m.synthetic);
    let users = state.store.list_users().await?;
    let user_name = |id: UserId| {
        users.iter().find(|u| u.id == id).map_or_else(
            || format!("user {id}"),
            |u| format!("{} ({})", u.display_name, u.username),
        )
    };
    let actor_name = |a: &Actor| match a {
        Actor::User(id) => user_name(*id),
        other => other.to_string(),
    };
    let mut body = Html::new();
    body.push(&banner);
    body.raw(if i.event.is_some() {
        "<div class=\"detail\"><section class=\"card\">"
    } else {
        "<div class=\"detail\"><section class=\"card wide\">"
    });
    html!(body; "<dl class=\"facts\" id=\"incident-facts\">"
        "<dt>Status</dt><dd><span class=\"status s-" {i.status} "\" id=\"incident-status\">" {label(i.status.as_str())} "</span></dd>"
        "<dt>Category</dt><dd>" {label(i.category.as_str())} "</dd>"
        "<dt>Source</dt><dd>" {label(i.source.as_str())} "</dd>"
        "<dt>Occurred</dt><dd>" {when(i.occurred_at)} "</dd>"
        "<dt>Reported</dt><dd>" {when(i.reported_at)} "</dd>"
        "<dt>Mahalla</dt><dd>" {place});
    if synthetic {
        body.raw(" <span class=\"tag\">synthetic</span>");
    }
    body.raw("</dd>");
    if let Some(p) = i.point {
        html!(body; "<dt>Position</dt><dd>" {format!("{:.5}, {:.5}", p.lat, p.lon)} "</dd>");
    }
    let affected: Vec<&str> = [
        (i.affected.minor, "a minor"),
        (i.affected.youth, "a young person"),
        (i.affected.woman, "a woman"),
    ]
    .into_iter()
    .filter_map(|(b, s)| b.then_some(s))
    .collect();
    if !affected.is_empty() {
        html!(body; "<dt>Affected</dt><dd>" {affected.join(", ")} "</dd>");
    }
    html!(body; "<dt>Assignee</dt><dd>" {i.assignee.map_or_else(|| "nobody yet".to_owned(), user_name)} "</dd>"
        "<dt>Recorded by</dt><dd>" {actor_name(&i.created_by)} "</dd></dl>"
        "<h2>Narrative</h2><div class=\"narrative\" id=\"narrative\">" {i.narrative} "</div></section>");
    if let Some(ev) = i.event {
        html!(body; "<section class=\"card\"><h2>Evidence (redacted) from event " {ev} "</h2>");
        match state.store.get_event(ev).await? {
            Some(e) => {
                let images = redacted_images(&e.payload);
                if images.is_empty() {
                    body.raw("<p class=\"muted\">No image was stored for this event.</p>");
                }
                for n in 0..images.len() {
                    html!(body; "<img class=\"evidence-img\" src=\"/api/events/" {ev} "/evidence/" {n}
                        "\" alt=\"Redacted evidence image " {n + 1} " of event " {ev} "\" width=\"480\">");
                }
                html!(body; "<p class=\"muted\">Rule " {e.rule} ", " {when(e.at)} ". Each view is recorded in the audit log.</p>");
            }
            None => {
                body.raw("<p class=\"muted\">The event is no longer stored.</p>");
            }
        };
        body.raw("</section>");
    }
    body.push(&super::attachments::section(state, v, &i, &user_name).await?);
    body.raw("<section class=\"card wide\"><h2>History</h2><table class=\"list\" id=\"history\"><thead><tr><th>When</th><th>From</th><th>To</th><th>Assignee</th><th>By</th><th>Note</th></tr></thead><tbody>");
    for h in &history {
        html!(body; "<tr><td>" {when(h.at)} "</td><td>" {h.from.map_or_else(|| "—".to_owned(), |s| label(s.as_str()))}
            "</td><td>" {label(h.to.as_str())} "</td><td>" {h.assignee.map_or_else(|| "—".to_owned(), user_name)}
            "</td><td>" {actor_name(&h.actor)} "</td><td>" {h.note} "</td></tr>");
    }
    body.raw("</tbody></table></section>");
    if v.may(INCIDENT_WRITERS) && !i.status.next().is_empty() {
        let next: Vec<&str> = i.status.next().iter().map(|s| s.as_str()).collect();
        let area = state.store.mahalla_area(i.mahalla).await?;
        html!(body; "<section class=\"card wide\"><h2>Change status</h2><form method=\"post\" action=\"/console/incidents/" {i.id}
            "/status\" class=\"status-form\">" [v.csrf_field()]
            "<label>To " [select_words("to", &next, None, None)] "</label>"
            "<label>Assignee <select name=\"assignee\"><option value=\"\">keep</option>");
        for u in users
            .iter()
            .filter(|u| !u.disabled && area.is_some_and(|a| u.scope.covers(&a)))
        {
            body.raw("<option value=\"").text(u.id).raw("\"");
            if i.assignee == Some(u.id) {
                body.raw(" selected");
            }
            html!(body; ">" {u.display_name} " (" {u.username} ", " {u.role} ")</option>");
        }
        body.raw("</select></label><label>Note <input name=\"note\" maxlength=\"2000\"></label><button type=\"submit\">Save</button></form></section>");
    }
    body.raw("</div>");
    let title = format!("Incident #{}", i.id);
    Ok(html_response(
        status,
        layout(Some(v), "/console/incidents", &title, &body),
    ))
}

/// `GET /console/incidents/{id}`
pub async fn detail(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    Query(q): Query<Changed>,
) -> PageResult {
    v.require(INCIDENT_READERS)?;
    let mut banner = Html::new();
    if q.changed.is_some() {
        banner.raw("<p class=\"banner ok\" role=\"status\">Status saved.</p>");
    }
    if q.attached.is_some() {
        banner.raw("<p class=\"banner ok\" role=\"status\" id=\"attached\">File attached.</p>");
    }
    if q.created.is_some() {
        banner.raw("<p class=\"banner ok\" role=\"status\" id=\"recorded\">Incident recorded.</p>");
    }
    render_detail(&state, &v, &raw, banner, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    note: String,
}

/// `POST /console/incidents/{id}/status`
pub async fn change_status(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    form: Result<Form<StatusForm>, FormRejection>,
) -> PageResult {
    v.require(INCIDENT_WRITERS)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    let to: Option<Status> = parse_opt("to", &f.to)?;
    let Some(to) = to else {
        return Err(PageError(ApiError::bad_request(
            "no status was chosen",
            "pick the new status",
        )));
    };
    let assignee: Option<i64> = parse_opt("assignee", &f.assignee)?;
    let req = StatusRequest {
        to,
        assignee: assignee.map(UserId),
        note: f.note,
    };
    match crate::api::set_status(&state, &v.me, &raw, req).await {
        Ok(i) => Ok(redirect(&format!("/console/incidents/{}?changed=1", i.id))),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            render_detail(&state, &v, &raw, error_banner(&e), e.status).await
        }
        Err(e) => Err(PageError(e)),
    }
}
