//! Roadmaps: progress rolled up region > district > mahalla with bars, overdue measures in red,
//! the roadmaps within the viewer's scope and a form to start one; each roadmap's page lists its
//! measures with forms to add one, change a status with evidence of completion, and verify
//! another person's evidence. Every change goes through the API's own functions (and so is
//! checked and audited the same way).
use std::collections::HashMap;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::{Actor, Area, Scope, Timestamp};
use serde::Deserialize;

use super::html::Html;
use super::patrols::{local, parse_local};
use super::{
    PageError, PageResult, Viewer, error_banner, html_response, label, layout, redirect,
    select_words,
};
use crate::AppState;
use crate::error::ApiError;
use crate::html;
use crate::patrols::area_param;
use crate::roadmaps::{
    KINDS, MeasureRequest, ROADMAP_READERS, ROADMAP_WRITERS, RULE_TEXT, RoadmapRequest, STATUSES,
    StatusRequest, VerifyRequest, add_measure, change_status, make_roadmap, progress_report,
    roadmap_in_scope, to_analytics, verify,
};

const PATH: &str = "/console/roadmaps";
const DAY_US: i64 = 86_400_000_000;

/// The day a deadline falls due (its last day), in Tashkent time.
fn due(t: Timestamp) -> String {
    local(t.saturating_add_micros(-1))
        .get(..10)
        .unwrap_or_default()
        .to_owned()
}

/// The percentage a progress bar shows.
fn bar(share: Option<f64>) -> Html {
    let mut h = Html::new();
    match share {
        Some(s) => {
            html!(h; "<progress max=\"1\" value=\"" {format!("{s:.3}")} "\"></progress> " {format!("{:.0}%", s * 100.0)});
        }
        None => {
            h.raw("<span class=\"muted\">nothing to do</span>");
        }
    }
    h
}

/// One row of the progress tree.
fn tree_row(body: &mut Html, level: &'static str, name: &str, p: &analytics::roadmap::Progress) {
    html!(body; "<tr class=\"lvl-" {level} "\"><td class=\"place\">" {name} "</td><td>");
    if p.total == 0 {
        body.raw("<span class=\"muted\">no measures</span>");
    } else {
        body.push(&bar(p.share_done));
    }
    html!(body; "</td><td class=\"count\">" {p.done} " / " {p.total - p.cancelled} "</td><td class=\"count\">" {p.done_without_evidence} "</td><td class=\"count");
    if p.overdue > 0 {
        body.raw(" overdue");
    }
    html!(body; "\">" {p.overdue} "</td></tr>");
}

#[derive(Deserialize, Default)]
pub struct AreaQuery {
    #[serde(default)]
    area: String,
}

/// The roadmap form, kept as typed.
#[derive(Deserialize, Default, Clone)]
pub struct RoadmapForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    period: String,
}

/// Every place within the viewer's scope a roadmap may be made for: (`level:id`, label).
async fn places(state: &AppState, v: &Viewer) -> Result<Vec<(String, String)>, PageError> {
    let s = &state.store;
    let scope = v.me.user.scope;
    let mut out = Vec::new();
    let regions = match scope {
        Scope::National => s.list_regions().await?,
        Scope::Region(r) => s.get_region(r).await?.into_iter().collect(),
        _ => Vec::new(),
    };
    for r in &regions {
        out.push((
            format!("region:{}", r.id),
            format!("Region: {}", r.names.uz_latn),
        ));
    }
    if !matches!(scope, Scope::Mahalla(_)) {
        for d in s.list_all_districts().await? {
            let area = Area::District {
                region: d.region,
                district: d.id,
            };
            if scope.covers(&area) {
                out.push((
                    format!("district:{}", d.id),
                    format!("District: {}", d.names.uz_latn),
                ));
            }
        }
    }
    for m in s.list_mahallas_in_scope(&scope).await? {
        let m = m.mahalla;
        out.push((
            format!("mahalla:{}", m.id),
            format!("Mahalla: {}", m.names.uz_latn),
        ));
    }
    Ok(out)
}

/// `GET /console/roadmaps?area=`
pub async fn page_get(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<AreaQuery>,
) -> PageResult {
    v.require(ROADMAP_READERS)?;
    render(
        &state,
        &v,
        Html::new(),
        &q,
        &RoadmapForm::default(),
        StatusCode::OK,
    )
    .await
}

async fn render(
    state: &AppState,
    v: &Viewer,
    banner: Html,
    q: &AreaQuery,
    form: &RoadmapForm,
    status: StatusCode,
) -> PageResult {
    let mut params = HashMap::new();
    if !q.area.trim().is_empty() {
        params.insert("area".to_owned(), q.area.clone());
    }
    let area = area_param(state, &v.me, &params).await?;
    let now = state.store_now();
    let (report, _) = progress_report(&state.store, &area, now).await?;
    let names = crate::roadmaps::names(&state.store, &report).await?;
    let name = |kind: &'static str, id: i64| {
        names
            .get(kind)
            .and_then(|m| m.get(&id))
            .cloned()
            .unwrap_or_else(|| format!("{} {id}", kind.trim_end_matches('s')))
    };
    let area_name = |a: &Area| match *a {
        Area::Region { region } => name("regions", region.0),
        Area::District { district, .. } => name("districts", district.0),
        Area::Mahalla { mahalla, .. } => name("mahallas", mahalla.0),
    };
    let measures = state.store.list_measures(&area).await?;
    let roadmap_of: HashMap<i64, i64> = measures.iter().map(|m| (m.id, m.roadmap)).collect();
    let mut body = Html::new();
    body.push(&banner);
    html!(body; "<section class=\"card explain\"><p>A roadmap lists a place's prevention measures: digital monitoring, outreach and education, social services, staffing of inspectors and social workers, youth and drug prevention, each with who answers for it and a deadline. Progress rolls up from each mahalla to its district and region. A measure counts as done only with evidence of completion that a second person has verified; until then it is shown as awaiting verification and still falls overdue.</p><p class=\"muted\">"
        {RULE_TEXT} ". As of " {local(now)} " (Tashkent time); " {area} ".</p></section>");
    html!(body; "<section class=\"card\"><h2>Progress <span class=\"uz\">Bajarilishi</span></h2>"
        "<table class=\"list tree\" id=\"progress-tree\"><thead><tr><th>Place</th><th>Done</th><th>Done / to do</th><th>Awaiting verification</th><th>Overdue</th></tr></thead><tbody>");
    for r in &report.regions {
        tree_row(&mut body, "region", &name("regions", r.region.0), &r.total);
        for d in &r.districts {
            tree_row(
                &mut body,
                "district",
                &name("districts", d.district.0),
                &d.total,
            );
            for m in &d.mahallas {
                tree_row(&mut body, "mahalla", &name("mahallas", m.mahalla.0), &m.own);
            }
        }
    }
    body.raw("</tbody></table></section>");
    html!(body; "<section class=\"card\"><h2>Overdue measures <span class=\"uz\">Muddati o'tgan</span></h2>");
    if report.overdue.is_empty() {
        body.raw("<p class=\"muted\" id=\"overdue-none\">No measure is overdue.</p>");
    } else {
        body.raw("<table class=\"list\" id=\"overdue\"><thead><tr><th>Measure</th><th>Place</th><th>Kind</th><th>Owner</th><th>Due</th><th>Days overdue</th><th>Status</th></tr></thead><tbody>");
        for o in &report.overdue {
            let rm = roadmap_of.get(&o.id).copied().unwrap_or_default();
            let kind = serde_json::to_value(o.kind).ok();
            let status = serde_json::to_value(o.status).ok();
            html!(body; "<tr class=\"overdue\" data-measure=\"" {o.id} "\"><td><a href=\"/console/roadmaps/" {rm} "#measure-" {o.id} "\">#" {o.id} "</a></td><td>"
                {area_name(&o.area)} "</td><td>" {label(kind.as_ref().and_then(|k| k.as_str()).unwrap_or(""))} "</td><td>" {o.owner}
                "</td><td>" {due(o.deadline)} "</td><td class=\"count\">" {format!("{:.0}", o.days_overdue.floor())} "</td><td>"
                {label(status.as_ref().and_then(|k| k.as_str()).unwrap_or(""))} "</td></tr>");
        }
        body.raw("</tbody></table>");
    }
    body.raw("</section>");
    let roadmaps = state.store.list_roadmaps(&area).await?;
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for m in &measures {
        *counts.entry(m.roadmap).or_default() += 1;
    }
    html!(body; "<section class=\"card\"><h2>Roadmaps <span class=\"uz\">Yo'l xaritalari</span></h2>");
    if roadmaps.is_empty() {
        body.raw("<p class=\"muted\">No roadmap yet within this area.</p>");
    } else {
        body.raw("<table class=\"list\" id=\"roadmaps\"><thead><tr><th>#</th><th>Place</th><th>Title</th><th>Period</th><th>Measures</th><th></th></tr></thead><tbody>");
        for r in &roadmaps {
            html!(body; "<tr><td><a href=\"/console/roadmaps/" {r.id} "\">" {r.id} "</a></td><td>" {area_name(&r.area)} "</td><td><a href=\"/console/roadmaps/" {r.id} "\">"
                {r.title} "</a></td><td>" {r.period} "</td><td class=\"count\">" {counts.get(&r.id).copied().unwrap_or(0)} "</td><td>");
            if r.synthetic {
                body.raw("<span class=\"tag\">synthetic</span>");
            }
            body.raw("</td></tr>");
        }
        body.raw("</tbody></table>");
    }
    body.raw("</section>");
    if v.may(ROADMAP_WRITERS) {
        html!(body; "<section class=\"card\"><h2>Start a roadmap <span class=\"uz\">Yangi yo'l xaritasi</span></h2>"
            "<form method=\"post\" action=\"/console/roadmaps\" class=\"grid-form\" id=\"roadmap-form\">" [v.csrf_field()]
            "<label>Place <select name=\"area\" required>");
        for (value, text) in places(state, v).await? {
            body.raw("<option value=\"").text(&value).raw("\"");
            if form.area == value {
                body.raw(" selected");
            }
            html!(body; ">" {text} "</option>");
        }
        html!(body; "</select></label>"
            "<label>Title <input name=\"title\" required maxlength=\"200\" value=\"" {form.title} "\"></label>"
            "<label>Period <input name=\"period\" maxlength=\"40\" placeholder=\"2025\" value=\"" {form.period} "\"></label>"
            "<button type=\"submit\">Start</button></form></section>");
    }
    Ok(html_response(
        status,
        layout(Some(v), PATH, "Roadmaps", &body),
    ))
}

/// `POST /console/roadmaps`
pub async fn create(
    State(state): State<AppState>,
    v: Viewer,
    form: Result<Form<RoadmapForm>, FormRejection>,
) -> PageResult {
    v.require(ROADMAP_WRITERS)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    let req = RoadmapRequest {
        area: f.area.clone(),
        title: f.title.clone(),
        period: f.period.clone(),
    };
    match make_roadmap(&state, &v.me, req).await {
        Ok(r) => Ok(redirect(&format!("/console/roadmaps/{}", r.id))),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            render(
                &state,
                &v,
                error_banner(&e),
                &AreaQuery::default(),
                &f,
                e.status,
            )
            .await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Deserialize, Default)]
pub struct Saved {
    saved: Option<String>,
}

/// `GET /console/roadmaps/{id}`
pub async fn detail(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    Query(q): Query<Saved>,
) -> PageResult {
    v.require(ROADMAP_READERS)?;
    let mut banner = Html::new();
    if q.saved.is_some() {
        banner.raw("<p class=\"banner ok\" role=\"status\">Saved.</p>");
    }
    render_detail(&state, &v, &raw, banner, StatusCode::OK).await
}

async fn render_detail(
    state: &AppState,
    v: &Viewer,
    raw: &str,
    banner: Html,
    status: StatusCode,
) -> PageResult {
    let r = roadmap_in_scope(state, &v.me, raw).await?;
    let measures = state.store.roadmap_measures(r.id).await?;
    let now = state.store_now();
    let place = match r.area {
        Area::Region { region } => state
            .store
            .get_region(region)
            .await?
            .map(|x| x.names.uz_latn),
        Area::District { district, .. } => state
            .store
            .get_district(district)
            .await?
            .map(|x| x.names.uz_latn),
        Area::Mahalla { mahalla, .. } => state
            .store
            .get_mahalla(mahalla)
            .await?
            .map(|x| x.names.uz_latn),
    }
    .unwrap_or_default();
    let list: Vec<analytics::roadmap::Measure> = measures
        .iter()
        .map(to_analytics)
        .collect::<Result<_, ApiError>>()?;
    let progress = analytics::roadmap::roll_up(&list, None, now)
        .map_err(|e| PageError(ApiError::internal("roll up measures", &e)))?
        .total;
    let mut body = Html::new();
    body.push(&banner);
    html!(body; "<section class=\"card\"><dl class=\"facts\" id=\"roadmap-facts\"><dt>Place</dt><dd>" {place} " (" {r.area.mahalla().map_or_else(|| if r.area.district().is_some() { "district" } else { "region" }, |_| "mahalla")} ")</dd>"
        "<dt>Period</dt><dd>" {r.period} "</dd><dt>Progress</dt><dd id=\"roadmap-progress\">" [bar(progress.share_done)] " (" {progress.done} " of " {progress.total - progress.cancelled} " verified done; " {progress.overdue} " overdue)</dd></dl>");
    if r.synthetic {
        body.raw("<p><span class=\"tag\">synthetic</span> Made up for the demo.</p>");
    }
    body.raw("</section><section class=\"card\"><h2>Measures <span class=\"uz\">Chora-tadbirlar</span></h2>");
    if measures.is_empty() {
        body.raw("<p class=\"muted\">No measures yet.</p>");
    }
    let me = Actor::User(v.me.user.id);
    for (m, a) in measures.iter().zip(&list) {
        let overdue = a.overdue(now);
        html!(body; "<article class=\"measure" {if overdue { " overdue" } else { "" }} "\" id=\"measure-" {m.id} "\"><h3>#" {m.id} " · " {label(&m.kind)}
            " <span class=\"status s-" {m.status} "\">" {label(&m.status)} "</span>");
        if overdue {
            body.raw(" <span class=\"flag overdue\">overdue</span>");
        }
        html!(body; "</h3><p>" {m.description} "</p><dl><dt>Owner</dt><dd>" {m.owner} "</dd><dt>Due</dt><dd>" {due(m.deadline)} "</dd>");
        if !m.evidence_text.is_empty() {
            html!(body; "<dt>Evidence</dt><dd class=\"evidence-text\">" {m.evidence_text});
            if let Some(l) = &m.evidence_link {
                html!(body; " · <a href=\"" {l} "\" rel=\"noopener noreferrer\">" {l} "</a>");
            }
            body.raw("</dd>");
        }
        if m.status == "done" {
            html!(body; "<dt>Verified</dt><dd>" {match (m.verified_by, m.verified_at) {
                (Some(u), Some(t)) => format!("by user {u}, {}", local(t)),
                _ => "not yet: does not count as done until a second person verifies the evidence".to_owned(),
            }} "</dd>");
        }
        body.raw("</dl>");
        if v.may(ROADMAP_WRITERS) {
            html!(body; "<form method=\"post\" action=\"/console/roadmaps/measures/" {m.id} "/status\" class=\"status-form\">" [v.csrf_field()]
                "<label>Status " [select_words("to", STATUSES, Some(m.status.as_str()), None)] "</label>"
                "<label>Evidence of completion <input name=\"evidence_text\" maxlength=\"2000\" placeholder=\"document, record or photo reference\"></label>"
                "<label>Link (optional) <input name=\"evidence_link\" maxlength=\"500\" placeholder=\"https://...\"></label>"
                "<label>Note <input name=\"note\" maxlength=\"2000\"></label><button type=\"submit\">Save</button></form>");
            if m.status == "done" && m.verified_by.is_none() && m.done_by.as_ref() != Some(&me) {
                html!(body; "<form method=\"post\" action=\"/console/roadmaps/measures/" {m.id} "/verify\" class=\"inline\">" [v.csrf_field()]
                    "<button type=\"submit\" class=\"confirm\">I checked the evidence: verify</button></form>");
            }
        }
        body.raw("</article>");
    }
    body.raw("</section>");
    if v.may(ROADMAP_WRITERS) {
        html!(body; "<section class=\"card\"><h2>Add a measure <span class=\"uz\">Chora-tadbir qo'shish</span></h2>"
            "<form method=\"post\" action=\"/console/roadmaps/" {r.id} "/measures\" class=\"grid-form\" id=\"measure-form\">" [v.csrf_field()]
            "<label>Kind " [select_words("kind", KINDS, None, None)] "</label>"
            "<label>Description <input name=\"description\" required maxlength=\"2000\"></label>"
            "<label>Owner (an office or post) <input name=\"owner\" required maxlength=\"200\" placeholder=\"district khokimiyat, youth affairs\"></label>"
            "<label>Due by (last day) <input type=\"date\" name=\"deadline\" required></label>"
            "<button type=\"submit\">Add</button></form></section>");
    }
    let title = format!("Roadmap #{}: {}", r.id, r.title);
    Ok(html_response(status, layout(Some(v), PATH, &title, &body)))
}

/// The measure form.
#[derive(Deserialize, Default)]
pub struct MeasureForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    deadline: String,
}

/// After a change: the roadmap's page, or the page again with what was wrong.
async fn after(
    state: &AppState,
    v: &Viewer,
    roadmap: &str,
    result: Result<(), ApiError>,
) -> PageResult {
    match result {
        Ok(()) => Ok(redirect(&format!("/console/roadmaps/{roadmap}?saved=1"))),
        Err(e) if matches!(e.status, StatusCode::BAD_REQUEST | StatusCode::CONFLICT) => {
            render_detail(state, v, roadmap, error_banner(&e), e.status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

/// `POST /console/roadmaps/{id}/measures`
pub async fn create_measure(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    form: Result<Form<MeasureForm>, FormRejection>,
) -> PageResult {
    v.require(ROADMAP_WRITERS)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    let result = async {
        // Due by the end of the day chosen: overdue from the next local midnight.
        let deadline = parse_local("deadline", &f.deadline)?.saturating_add_micros(DAY_US);
        let req = MeasureRequest {
            kind: f.kind.clone(),
            description: f.description.clone(),
            owner: f.owner.clone(),
            deadline,
        };
        add_measure(&state, &v.me, &raw, req).await.map(|_| ())
    }
    .await;
    after(&state, &v, &raw, result).await
}

#[derive(Deserialize, Default)]
pub struct StatusForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    evidence_text: String,
    #[serde(default)]
    evidence_link: String,
    #[serde(default)]
    note: String,
}

/// The roadmap of measure `raw`, for coming back to its page (404 outside scope).
async fn roadmap_of(state: &AppState, v: &Viewer, raw: &str) -> Result<String, PageError> {
    Ok(crate::roadmaps::measure_in_scope(state, &v.me, raw)
        .await?
        .roadmap
        .to_string())
}

/// `POST /console/roadmaps/measures/{id}/status`
pub async fn set_status(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    form: Result<Form<StatusForm>, FormRejection>,
) -> PageResult {
    v.require(ROADMAP_WRITERS)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    let roadmap = roadmap_of(&state, &v, &raw).await?;
    let req = StatusRequest {
        to: f.to,
        evidence_text: f.evidence_text,
        evidence_link: Some(f.evidence_link).filter(|l| !l.trim().is_empty()),
        note: f.note,
    };
    let result = change_status(&state, &v.me, &raw, req).await.map(|_| ());
    after(&state, &v, &roadmap, result).await
}

#[derive(Deserialize, Default)]
pub struct VerifyForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// `POST /console/roadmaps/measures/{id}/verify`
pub async fn verify_measure(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    form: Result<Form<VerifyForm>, FormRejection>,
) -> PageResult {
    v.require(ROADMAP_WRITERS)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    let roadmap = roadmap_of(&state, &v, &raw).await?;
    let result = verify(&state, &v.me, &raw, VerifyRequest::default())
        .await
        .map(|_| ());
    after(&state, &v, &roadmap, result).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_falls_due_on_its_last_day() {
        // The end of 30 June in Tashkent is 1 July 00:00 +05:00.
        let t: Timestamp = "2025-06-30T19:00:00Z".parse().unwrap();
        assert_eq!(due(t), "2025-06-30");
    }
}
