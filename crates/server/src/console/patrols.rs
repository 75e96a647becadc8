//! Patrols: plan a shift (the API's own planning: tested hot spots, Koper visits), each plan as a
//! timetable per unit with a Gantt-like chart, a form to log patrol time, and patrol time against
//! harm per mahalla as a table and a bar chart with over- and under-policing flagged and
//! explained. Times in forms and tables are Tashkent time (UTC+5, no daylight saving).
use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::{DistrictId, MahallaId, Scope, Timestamp};
use serde::Deserialize;

use super::html::Html;
use super::{
    PageError, PageResult, Viewer, error_banner, html_response, layout, mahalla_name,
    mahallas_in_scope, redirect,
};
use crate::AppState;
use crate::error::ApiError;
use crate::html;
use crate::patrols::{
    HARM_TEXT, LogRequest, PATROL_READERS, PATROL_WRITERS, PlanRequest, add_log, area_param,
    balance_report, make_plan, period_params, plan_in_scope,
};

const PATH: &str = "/console/patrols";
/// Tashkent's offset from UTC, in microseconds.
const UZ_OFFSET_US: i64 = analytics::data::UZ_OFFSET_S as i64 * 1_000_000;
const DAY_US: i64 = 86_400_000_000;
/// Colours of the chart's mahallas, repeated.
const PALETTE: [&str; 8] = [
    "#0b5d7a", "#b35806", "#1e6b3a", "#6a3d9a", "#a50f15", "#2c7fb8", "#8c6d31", "#4d4d4d",
];

/// `2024-05-01 14:30` in Tashkent time.
pub(crate) fn local(t: Timestamp) -> String {
    let s = t.saturating_add_micros(UZ_OFFSET_US).to_string();
    match (s.get(..10), s.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm}"),
        _ => s,
    }
}

/// `HH:MM` in Tashkent time.
fn clock(t: Timestamp) -> String {
    local(t).get(11..).unwrap_or_default().to_owned()
}

/// A form's local date and time (`2024-05-01T14:30`, as `<input type="datetime-local">` sends
/// it, or with a space) as an instant.
pub(crate) fn parse_local(field: &str, raw: &str) -> Result<Timestamp, ApiError> {
    let r = raw.trim().replace(' ', "T");
    let text = match r.len() {
        16 => format!("{r}:00+05:00"),
        19 => format!("{r}+05:00"),
        10 => format!("{r}T00:00:00+05:00"),
        _ => String::new(),
    };
    text.parse().map_err(|_| {
        ApiError::bad_request(
            format!("{field} {raw:?} is not a date and time"),
            format!("write {field} as 2024-05-01 14:30 (Tashkent time)"),
        )
    })
}

fn number<T: std::str::FromStr>(field: &str, raw: &str) -> Result<Option<T>, ApiError> {
    let r = raw.trim();
    if r.is_empty() {
        return Ok(None);
    }
    r.parse().map(Some).map_err(|_| {
        ApiError::bad_request(
            format!("{field} {raw:?} is not a number"),
            format!("write {field} as a number, or leave it empty"),
        )
    })
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The plan form, kept as typed.
#[derive(Deserialize, Default, Clone)]
pub struct PlanForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    shift_start: String,
    #[serde(default)]
    shift_end: String,
    #[serde(default)]
    units: String,
    #[serde(default)]
    weeks: String,
    #[serde(default)]
    confidence: String,
    #[serde(default)]
    visits_per_unit: String,
    #[serde(default)]
    seed: String,
}

fn plan_request(f: &PlanForm) -> Result<PlanRequest, ApiError> {
    let district = number::<i64>("district", &f.district)?.ok_or_else(|| {
        ApiError::bad_request("no district was chosen", "pick the district to plan")
    })?;
    Ok(PlanRequest {
        district: DistrictId(district),
        shift_start: parse_local("shift start", &f.shift_start)?,
        shift_end: parse_local("shift end", &f.shift_end)?,
        units: f
            .units
            .split([',', '\n'])
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect(),
        weeks: number("weeks", &f.weeks)?,
        confidence: number("confidence", &f.confidence)?,
        visits_per_unit: number("visits per unit", &f.visits_per_unit)?,
        floor_visits: None,
        permutations: None,
        seed: number("seed", &f.seed)?,
    })
}

/// The log form, kept as typed.
#[derive(Deserialize, Default, Clone)]
pub struct LogForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    mahalla: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    visit: String,
}

fn log_request(f: &LogForm) -> Result<LogRequest, ApiError> {
    let mahalla = number::<i64>("mahalla", &f.mahalla)?
        .ok_or_else(|| ApiError::bad_request("no mahalla was chosen", "pick the mahalla"))?;
    let minutes = number::<u32>("minutes", &f.minutes)?.ok_or_else(|| {
        ApiError::bad_request(
            "no minutes were given",
            "write how many minutes the unit was there",
        )
    })?;
    Ok(LogRequest {
        unit: f.unit.clone(),
        mahalla: MahallaId(mahalla),
        start: parse_local("start", &f.start)?,
        end: None,
        minutes: Some(minutes),
        visit: number("planned visit", &f.visit)?,
    })
}

/// The balance view's query, and the banner a redirect asks for.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    area: String,
    #[serde(default)]
    logged: Option<String>,
}

/// `GET /console/patrols`
pub async fn page_get(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<PageQuery>,
) -> PageResult {
    v.require(PATROL_READERS)?;
    let mut banner = Html::new();
    if q.logged.is_some() {
        banner.raw("<p class=\"banner ok\" role=\"status\">Patrol time recorded.</p>");
    }
    render(
        &state,
        &v,
        banner,
        &q,
        &PlanForm::default(),
        &LogForm::default(),
        StatusCode::OK,
    )
    .await
}

/// The districts within the viewer's scope that have mahallas, by id, with their names.
async fn districts(
    state: &AppState,
    v: &Viewer,
) -> Result<BTreeMap<DistrictId, String>, PageError> {
    let mut out = BTreeMap::new();
    for m in mahallas_in_scope(state, &v.me.user.scope).await? {
        if let std::collections::btree_map::Entry::Vacant(e) = out.entry(m.district) {
            let name = state
                .store
                .get_district(m.district)
                .await?
                .map_or_else(|| m.district.to_string(), |d| d.names.uz_latn);
            e.insert(name);
        }
    }
    Ok(out)
}

async fn render(
    state: &AppState,
    v: &Viewer,
    banner: Html,
    q: &PageQuery,
    plan: &PlanForm,
    log: &LogForm,
    status: StatusCode,
) -> PageResult {
    let mut body = Html::new();
    body.push(&banner);
    body.raw("<section class=\"card explain\"><p>A patrol plan sends each unit on short visits to the district's <strong>tested hot spots</strong>: mahallas where Getis-Ord Gi* finds significantly more harm than chance would place there. Each visit lasts 10 to 15 minutes, because a stop deters best for about that long (Koper, 1995); visits are spread over the whole shift at unpredictable times, and two units are never sent to one place at once. Harm counts reports by the public and confirmed camera events, not patrol finds.</p></section>");
    let dists = districts(state, v).await?;
    let mahallas = mahallas_in_scope(state, &v.me.user.scope).await?;
    if v.may(PATROL_WRITERS) && !dists.is_empty() && !matches!(v.me.user.scope, Scope::Mahalla(_)) {
        html!(body; "<section class=\"card\"><h2>Plan a shift <span class=\"uz\">Navbatchilik rejasi</span></h2>"
            "<form method=\"post\" action=\"/console/patrols/plans\" class=\"grid-form\" id=\"plan-form\">" [v.csrf_field()]
            "<label>District <select name=\"district\" required>");
        for (id, name) in &dists {
            body.raw("<option value=\"").text(id).raw("\"");
            if plan.district == id.to_string() {
                body.raw(" selected");
            }
            html!(body; ">" {name} "</option>");
        }
        html!(body; "</select></label>"
            "<label>Shift starts (Tashkent time) <input type=\"datetime-local\" name=\"shift_start\" required value=\"" {plan.shift_start} "\"></label>"
            "<label>Shift ends <input type=\"datetime-local\" name=\"shift_end\" required value=\"" {plan.shift_end} "\"></label>"
            "<label>Units (call signs, one a line or comma-separated; never names) <textarea name=\"units\" rows=\"3\" required placeholder=\"P-1, P-2\">" {plan.units} "</textarea></label>"
            "<label>Weeks of incidents tested <input name=\"weeks\" inputmode=\"numeric\" placeholder=\"8\" value=\"" {plan.weeks} "\"></label>"
            "<label>Hot at confidence <select name=\"confidence\">");
        for c in ["0.95", "0.99", "0.90"] {
            body.raw("<option value=\"").text(c).raw("\"");
            if plan.confidence == c {
                body.raw(" selected");
            }
            html!(body; ">" {c} "</option>");
        }
        html!(body; "</select></label>"
            "<label>Visits per unit <input name=\"visits_per_unit\" inputmode=\"numeric\" placeholder=\"6\" value=\"" {plan.visits_per_unit} "\"></label>"
            "<label>Seed (optional: same seed, same plan) <input name=\"seed\" inputmode=\"numeric\" value=\"" {plan.seed} "\"></label>"
            "<button type=\"submit\">Make the plan</button></form></section>");
    }
    let plans = state.store.list_patrol_plans(&v.me.user.scope, 20).await?;
    body.raw("<section class=\"card\"><h2>Plans <span class=\"uz\">Rejalar</span></h2>");
    if plans.is_empty() {
        body.raw("<p class=\"muted\">No plan yet within your scope.</p>");
    } else {
        body.raw("<table class=\"list\" id=\"plans\"><thead><tr><th>#</th><th>District</th><th>Shift (Tashkent time)</th><th>Units</th><th></th></tr></thead><tbody>");
        for p in &plans {
            let d = dists
                .get(&p.district)
                .cloned()
                .unwrap_or_else(|| p.district.to_string());
            html!(body; "<tr><td><a href=\"/console/patrols/plans/" {p.id} "\">" {p.id} "</a></td><td>" {d} "</td><td>"
                {local(p.shift_start)} " – " {local(p.shift_end)} "</td><td>" {p.units.join(", ")} "</td><td>");
            if p.synthetic {
                body.raw("<span class=\"tag\">synthetic</span>");
            }
            body.raw("</td></tr>");
        }
        body.raw("</tbody></table>");
    }
    body.raw("</section>");
    if v.may(PATROL_WRITERS) && !mahallas.is_empty() {
        html!(body; "<section class=\"card\"><h2>Log patrol time <span class=\"uz\">Patrul vaqtini kiritish</span></h2>"
            "<form method=\"post\" action=\"/console/patrols/logs\" class=\"grid-form\" id=\"log-form\">" [v.csrf_field()]
            "<label>Unit (call sign) <input name=\"unit\" required maxlength=\"40\" placeholder=\"P-1\" value=\"" {log.unit} "\"></label>"
            "<label>Mahalla <select name=\"mahalla\" required>");
        for m in &mahallas {
            body.raw("<option value=\"").text(m.id).raw("\"");
            if log.mahalla == m.id.to_string() {
                body.raw(" selected");
            }
            html!(body; ">" {mahalla_name(m)} "</option>");
        }
        html!(body; "</select></label>"
            "<label>Arrived (Tashkent time) <input type=\"datetime-local\" name=\"start\" required value=\"" {log.start} "\"></label>"
            "<label>Minutes there <input name=\"minutes\" inputmode=\"numeric\" required value=\"" {log.minutes} "\"></label>"
            "<label>Planned visit # (optional) <input name=\"visit\" inputmode=\"numeric\" value=\"" {log.visit} "\"></label>"
            "<button type=\"submit\">Record</button></form></section>");
    }
    balance_section(state, v, q, &mut body).await?;
    Ok(html_response(
        status,
        layout(Some(v), PATH, "Patrols", &body),
    ))
}

/// Patrol time against harm: the form, the explanation, the bar chart and the table.
async fn balance_section(
    state: &AppState,
    v: &Viewer,
    q: &PageQuery,
    body: &mut Html,
) -> Result<(), PageError> {
    let mut params: HashMap<String, String> = HashMap::new();
    if !q.from.trim().is_empty() {
        params.insert("from".into(), parse_local("from", &q.from)?.to_string());
    }
    if !q.to.trim().is_empty() {
        // The last day is included: the period ends at the next local midnight.
        let to = parse_local("to", &q.to)?.saturating_add_micros(DAY_US);
        params.insert("to".into(), to.to_string());
    }
    if !q.area.trim().is_empty() {
        params.insert("area".into(), q.area.clone());
    }
    let area = area_param(state, &v.me, &params).await?;
    let period = period_params(&params, state.store_now(), 28)?;
    let report = balance_report(&state.store, &area, &period, 2.0, 0.5).await?;
    let names: HashMap<i64, String> = state
        .store
        .list_mahallas_in_scope(&area)
        .await?
        .into_iter()
        .map(|m| (m.mahalla.id.0, mahalla_name(&m.mahalla)))
        .collect();
    let last_day = local(period.end.saturating_add_micros(-1));
    html!(body; "<section class=\"card\" id=\"balance\"><h2>Patrol time against harm <span class=\"uz\">Patrul vaqti va zarar</span></h2>"
        "<form method=\"get\" action=\"/console/patrols\" class=\"filters\">"
        "<label>From <input type=\"date\" name=\"from\" value=\"" {local(period.start).get(..10).unwrap_or_default()} "\"></label>"
        "<label>To (included) <input type=\"date\" name=\"to\" value=\"" {last_day.get(..10).unwrap_or_default()} "\"></label>"
        "<label>Area <input name=\"area\" placeholder=\"district:ID or mahalla:ID\" value=\"" {q.area} "\"></label>"
        "<button type=\"submit\">Show</button></form>"
        "<p class=\"explain\" id=\"balance-explain\"><strong>Why this matters.</strong> Patrols that spend much more time where little harm is reported stop, question and search more people there, and find more minor offences there, which then look like crime and draw still more patrols, while the places where people are actually harmed get less protection. This view compares each mahalla's share of the logged patrol time with its share of harm: a ratio above 2 reads <em>over-policed</em>, below 0.5 <em>under-policed</em>. "
        {HARM_TEXT} ".</p>");
    html!(body; "<p class=\"muted\">" {format!("{:.0}", report.total_minutes)} " patrol minutes and " {report.total_harm} " harm incidents, "
        {local(period.start)} " to " {local(period.end)} " (Tashkent time), " {area} ". Over-policed: " {report.over_policed}
        "; under-policed: " {report.under_policed} ".</p>");
    if report.rows.is_empty() {
        body.raw("<p class=\"empty\">No patrol time and no harm recorded in this period and area.</p></section>");
        return Ok(());
    }
    // Bar chart: patrol share and harm share side by side, one row per mahalla.
    let rows = &report.rows;
    let top = rows
        .iter()
        .map(|r| r.patrol_share.max(r.harm_share))
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let (w, name_w, row_h) = (760.0, 170.0, 30.0);
    let bar_w = w - name_w - 150.0;
    let h = row_h * rows.len() as f64 + 30.0;
    html!(body; "<svg id=\"balance-chart\" class=\"chart\" viewBox=\"0 0 " {w} " " {h} "\" role=\"img\" aria-label=\"Share of patrol time and share of harm per mahalla\" xmlns=\"http://www.w3.org/2000/svg\">"
        "<rect x=\"" {name_w} "\" y=\"4\" width=\"12\" height=\"10\" fill=\"#0b5d7a\"></rect><text x=\"" {name_w + 16.0} "\" y=\"13\" class=\"axis\">patrol time</text>"
        "<rect x=\"" {name_w + 110.0} "\" y=\"4\" width=\"12\" height=\"10\" fill=\"#e08214\"></rect><text x=\"" {name_w + 126.0} "\" y=\"13\" class=\"axis\">harm</text>");
    for (k, r) in rows.iter().enumerate() {
        let y = 24.0 + row_h * k as f64;
        let name = names
            .get(&r.place)
            .cloned()
            .unwrap_or_else(|| format!("mahalla {}", r.place));
        let flag = reading_flag(r.reading);
        html!(body; "<g class=\"row " {flag.0} "\"><title>" {name} ": " {pct(r.patrol_share)} " of patrol time, " {pct(r.harm_share)} " of harm</title>"
            "<text x=\"" {name_w - 6.0} "\" y=\"" {y + 16.0} "\" text-anchor=\"end\" class=\"name\">" {name} "</text>"
            "<rect x=\"" {name_w} "\" y=\"" {y + 3.0} "\" height=\"10\" width=\"" {format!("{:.1}", bar_w * r.patrol_share / top)} "\" fill=\"#0b5d7a\"></rect>"
            "<rect x=\"" {name_w} "\" y=\"" {y + 14.0} "\" height=\"10\" width=\"" {format!("{:.1}", bar_w * r.harm_share / top)} "\" fill=\"#e08214\"></rect>"
            "<text x=\"" {name_w + bar_w + 8.0} "\" y=\"" {y + 16.0} "\" class=\"flag\">" {flag.1} "</text></g>");
    }
    body.raw("</svg>");
    body.raw("<table class=\"list\" id=\"balance-table\"><thead><tr><th>Mahalla</th><th>Patrol minutes</th><th>Share of patrol time</th><th>Harm</th><th>Share of harm</th><th>Ratio</th><th>Reading</th></tr></thead><tbody>");
    for r in rows {
        let name = names
            .get(&r.place)
            .cloned()
            .unwrap_or_else(|| format!("mahalla {}", r.place));
        let flag = reading_flag(r.reading);
        html!(body; "<tr class=\"" {flag.0} "\" data-mahalla=\"" {r.place} "\"><td>" {name} "</td><td class=\"count\">" {format!("{:.0}", r.patrol_minutes)}
            "</td><td>" {pct(r.patrol_share)} "</td><td class=\"count\">" {r.harm} "</td><td>" {pct(r.harm_share)} "</td><td>"
            {r.ratio.map_or_else(|| "–".to_owned(), |x| format!("{x:.2}"))} "</td><td><span class=\"flag " {flag.0} "\">" {flag.1} "</span></td></tr>");
    }
    body.raw("</tbody></table></section>");
    Ok(())
}

/// A reading's CSS class and words.
fn reading_flag(r: analytics::patrol::PatrolReading) -> (&'static str, &'static str) {
    use analytics::patrol::PatrolReading as R;
    match r {
        R::OverPoliced => ("over", "over-policed"),
        R::PatrolWithoutHarm => ("over", "patrol without harm"),
        R::UnderPoliced => ("under", "under-policed"),
        R::InLine => ("in-line", "in line"),
        R::Neither => ("in-line", "neither"),
    }
}

/// `POST /console/patrols/plans`
pub async fn create_plan(
    State(state): State<AppState>,
    v: Viewer,
    form: Result<Form<PlanForm>, FormRejection>,
) -> PageResult {
    v.require(PATROL_WRITERS)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    let made = match plan_request(&f) {
        Ok(req) => make_plan(&state, &v.me, req).await,
        Err(e) => Err(e),
    };
    let to = made.map(|p| format!("/console/patrols/plans/{}", p.head.id));
    answer(&state, &v, to, &f, &LogForm::default()).await
}

/// After a form: on to `to`, or the page again with what was wrong and the forms as typed.
async fn answer(
    state: &AppState,
    v: &Viewer,
    to: Result<String, ApiError>,
    plan: &PlanForm,
    log: &LogForm,
) -> PageResult {
    match to {
        Ok(to) => Ok(redirect(&to)),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            let q = PageQuery::default();
            render(state, v, error_banner(&e), &q, plan, log, e.status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

/// `POST /console/patrols/logs`
pub async fn create_log(
    State(state): State<AppState>,
    v: Viewer,
    form: Result<Form<LogForm>, FormRejection>,
) -> PageResult {
    v.require(PATROL_WRITERS)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    let made = match log_request(&f) {
        Ok(req) => add_log(&state, &v.me, req).await,
        Err(e) => Err(e),
    };
    let to = made.map(|_| "/console/patrols?logged=1".to_owned());
    answer(&state, &v, to, &PlanForm::default(), &f).await
}

/// `GET /console/patrols/plans/{id}`: the timetable per unit, as a chart and a table.
pub async fn plan_page(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
) -> PageResult {
    v.require(PATROL_READERS)?;
    let plan = plan_in_scope(&state, &v.me, &raw).await?;
    let h = &plan.head;
    let names = crate::patrols::district_names(&state.store, h.district).await?;
    let district = state
        .store
        .get_district(h.district)
        .await?
        .map_or_else(|| h.district.to_string(), |d| d.names.uz_latn);
    let name = |m: MahallaId| {
        names
            .get(&m)
            .cloned()
            .unwrap_or_else(|| format!("mahalla {m}"))
    };
    let mut body = Html::new();
    html!(body; "<section class=\"card\"><dl class=\"facts\" id=\"plan-facts\">"
        "<dt>District</dt><dd>" {district} "</dd>"
        "<dt>Shift (Tashkent time)</dt><dd>" {local(h.shift_start)} " – " {local(h.shift_end)} "</dd>"
        "<dt>Units</dt><dd>" {h.units.join(", ")} "</dd>"
        "<dt>Visits per unit</dt><dd>" {h.visits_per_unit} " (slots of " {h.basis["slot_minutes"].as_f64().map_or_else(|| "–".to_owned(), |m| format!("{m:.0}"))} " minutes)</dd>"
        "<dt>Idle unit-slots</dt><dd>" {h.idle_unit_slots} " (more units than places: never two units on one place)</dd>"
        "<dt>Places from</dt><dd>" {h.basis["description"].as_str().unwrap_or("–")}
        " · weeks " {super::show(&h.basis["weeks"])} " · confidence " {super::show(&h.basis["confidence"])} "</dd>"
        "<dt>Seed</dt><dd>" {h.seed} "</dd></dl>");
    if h.synthetic {
        body.raw("<p><span class=\"tag\">synthetic</span> Made up for the demo.</p>");
    }
    html!(body; "<p class=\"exports\"><a href=\"/api/patrols/plans/" {h.id} ".csv\" id=\"plan-csv\">Download the visits as CSV</a> (recorded in the audit log)</p></section>");
    // Gantt-like chart: one row per unit across the shift.
    let units = &h.units;
    let (w, left, row_h) = (900.0, 90.0, 34.0);
    let span = (h.shift_end.unix_micros() - h.shift_start.unix_micros()).max(1) as f64;
    let x = |t: Timestamp| {
        left + (w - left - 10.0) * (t.unix_micros() - h.shift_start.unix_micros()) as f64 / span
    };
    let height = row_h * units.len() as f64 + 30.0;
    let colour: HashMap<MahallaId, &str> = {
        let mut ids: Vec<MahallaId> = plan.visits.iter().map(|v| v.mahalla).collect();
        ids.sort();
        ids.dedup();
        ids.iter()
            .enumerate()
            .map(|(k, m)| (*m, PALETTE[k % PALETTE.len()]))
            .collect()
    };
    html!(body; "<section class=\"card\"><h2>Timetable <span class=\"uz\">Jadval</span></h2>"
        "<svg id=\"gantt\" class=\"chart\" viewBox=\"0 0 " {w} " " {height} "\" role=\"img\" aria-label=\"Visits of each unit over the shift\" xmlns=\"http://www.w3.org/2000/svg\">");
    let hours = (span / 3.6e9).ceil() as i64;
    let step = if hours > 12 { 2 } else { 1 };
    for k in (0..=hours).step_by(step) {
        let t = h.shift_start.saturating_add_micros(k * 3_600_000_000);
        if t > h.shift_end {
            break;
        }
        let tx = x(t);
        html!(body; "<line x1=\"" {format!("{tx:.1}")} "\" x2=\"" {format!("{tx:.1}")} "\" y1=\"18\" y2=\"" {height} "\" class=\"tick\" stroke=\"#d5dbe1\"></line>"
            "<text x=\"" {format!("{tx:.1}")} "\" y=\"12\" text-anchor=\"middle\" class=\"axis\">" {clock(t)} "</text>");
    }
    for (k, u) in units.iter().enumerate() {
        let y = 22.0 + row_h * k as f64;
        html!(body; "<text x=\"" {left - 8.0} "\" y=\"" {y + 19.0} "\" text-anchor=\"end\" class=\"name\">" {u} "</text>");
        for vis in plan.visits.iter().filter(|vis| &vis.unit == u) {
            let (x0, x1) = (x(vis.start), x(vis.end));
            html!(body; "<rect class=\"visit\" x=\"" {format!("{x0:.1}")} "\" y=\"" {y + 4.0} "\" width=\"" {format!("{:.1}", (x1 - x0).max(2.0))}
                "\" height=\"" {row_h - 8.0} "\" fill=\"" {colour.get(&vis.mahalla).copied().unwrap_or("#4d4d4d")} "\"><title>" {u} ": "
                {name(vis.mahalla)} ", " {clock(vis.start)} "–" {clock(vis.end)} " (" {vis.minutes} " min), visit #" {vis.id} "</title></rect>");
        }
    }
    body.raw("</svg><p class=\"muted\">Each block is a visit of 10 to 15 minutes; hover for the place. Between visits units travel and do their ordinary duty.</p>");
    body.raw("<table class=\"list\" id=\"timetable\"><thead><tr><th>Unit</th><th>Visit #</th><th>From</th><th>To</th><th>Minutes</th><th>Mahalla</th></tr></thead><tbody>");
    for u in units {
        for vis in plan.visits.iter().filter(|vis| &vis.unit == u) {
            html!(body; "<tr><td>" {u} "</td><td>" {vis.id} "</td><td>" {local(vis.start)} "</td><td>" {clock(vis.end)}
                "</td><td class=\"count\">" {vis.minutes} "</td><td>" {name(vis.mahalla)} "</td></tr>");
        }
    }
    body.raw("</tbody></table></section>");
    // How the visits were shared among the hot spots.
    body.raw("<section class=\"card\"><h2>Places <span class=\"uz\">Joylar</span></h2><table class=\"list\" id=\"allocation\"><thead><tr><th>Mahalla</th><th>Harm (weight)</th><th>Share of harm</th><th>Visits</th><th>Share of visits</th><th>Minutes</th></tr></thead><tbody>");
    let empty = Vec::new();
    for a in h.basis["allocation"].as_array().unwrap_or(&empty) {
        let m = MahallaId(a["place"].as_i64().unwrap_or_default());
        html!(body; "<tr><td>" {name(m)} "</td><td class=\"count\">" {super::show(&a["weight"])} "</td><td>" {pct(a["weight_share"].as_f64().unwrap_or(0.0))}
            "</td><td class=\"count\">" {super::show(&a["visits"])} "</td><td>" {pct(a["visit_share"].as_f64().unwrap_or(0.0))}
            "</td><td class=\"count\">" {super::show(&a["minutes"])} "</td></tr>");
    }
    body.raw("</tbody></table></section>");
    let title = format!("Patrol plan #{}", h.id);
    Ok(html_response(
        StatusCode::OK,
        layout(Some(&v), PATH, &title, &body),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_are_tashkent_time() {
        let t: Timestamp = "2024-05-01T09:30:00Z".parse().unwrap();
        assert_eq!(local(t), "2024-05-01 14:30");
        assert_eq!(parse_local("x", "2024-05-01T14:30").unwrap(), t);
        assert_eq!(parse_local("x", "2024-05-01 14:30").unwrap(), t);
        assert!(parse_local("x", "yesterday").is_err());
    }
}
