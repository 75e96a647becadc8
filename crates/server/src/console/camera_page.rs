//! One camera's page (`/console/cameras/{id}`; admin, operator, inspector, analyst; the camera's
//! mahalla in scope, else 404 as for a missing camera): its health, its settings and its zones
//! and rules (the pipeline's TOML).
//!
//! Admins and operators get the settings form and the zone editor: the camera's redacted
//! snapshot with an SVG overlay on which `zones.js` draws the zones and lines of the TOML and
//! lets them click new ones, written into the form's textarea as TOML. The textarea is the
//! editor without the script, and the only one when the camera has delivered no picture yet.
//! Saving goes through the API's own handlers (`PUT /api/cameras/{id}` with the fields that
//! changed, then `POST /api/cameras/{id}/enabled` if the switch changed), so the checks (the
//! pipeline's TOML validation, the URL, the scope of a new mahalla) and the audit entries are the
//! API's; a refused form comes back with the API's error and the text as typed. Other roles see
//! the same facts read-only. See docs/design/016-zone-editor.md.
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::{CameraUpdate, GeoPoint};
use serde::Deserialize;
use serde_json::Value;

use super::cameras::{CameraForm, request, settings_fields};
use super::html::Html;
use super::show as s;
use super::{PageResult, Places, Viewer, error_banner, html_response, layout, redirect};
use crate::AppState;
use crate::cameras::{CAMERA_READERS, CAMERA_WRITERS, EnabledRequest};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::html;

const ZONES_JS: &str = include_str!("assets/zones.js");

/// `GET /console/assets/zones.js`: the zone editor's script.
pub async fn zones_js() -> Response {
    super::asset("text/javascript; charset=utf-8", ZONES_JS)
}

#[derive(Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /console/cameras/{id}`
pub async fn page_get(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    Query(q): Query<Saved>,
) -> PageResult {
    v.require(CAMERA_READERS)?;
    let cam = camera(&state, &v, &raw).await?;
    let mut banner = Html::new();
    if q.saved.is_some() {
        banner.raw("<p class=\"banner ok\" role=\"status\" id=\"saved\">Saved. The camera's pipeline runs with these settings.</p>");
    }
    render(&state, &v, &cam, banner, &form_of(&cam), StatusCode::OK).await
}

/// `POST /console/cameras/{id}`
pub async fn save(
    State(state): State<AppState>,
    v: Viewer,
    Path(raw): Path<String>,
    form: Result<Form<CameraForm>, FormRejection>,
) -> PageResult {
    v.require(CAMERA_WRITERS)?;
    let Form(mut f) = form?;
    v.check_csrf(&f.csrf)?;
    let cam = camera(&state, &v, &raw).await?;
    // Browsers send a textarea's line breaks as CRLF; the TOML is stored as typed, with LF.
    f.config_toml = f.config_toml.replace("\r\n", "\n");
    match apply(&state, &v, &raw, &cam, &f).await {
        Ok(()) => Ok(redirect(&format!(
            "/console/cameras/{}?saved=1",
            s(&cam["id"])
        ))),
        Err(e) => {
            // The camera as it is now (a refused change stored nothing), the form as typed.
            let cam = camera(&state, &v, &raw).await?;
            render(&state, &v, &cam, error_banner(&e), &f, e.status).await
        }
    }
}

/// The camera as `GET /api/cameras/{id}` shows it (404 outside the viewer's scope).
async fn camera(state: &AppState, v: &Viewer, raw: &str) -> Result<Value, ApiError> {
    Ok(
        crate::cameras::get_camera(State(state.clone()), v.me.clone(), Path(raw.to_owned()))
            .await?
            .0,
    )
}

/// The form filled in from the camera (its URL as the API shows it, password `***`).
fn form_of(cam: &Value) -> CameraForm {
    let text = |k: &str| cam[k].as_str().unwrap_or_default().to_owned();
    let coord = |k: &str| {
        cam["position"][k]
            .as_f64()
            .map(|x| x.to_string())
            .unwrap_or_default()
    };
    CameraForm {
        name: text("name"),
        url: text("url"),
        mahalla: s(&cam["mahalla"]),
        lon: coord("lon"),
        lat: coord("lat"),
        config_toml: text("config_toml"),
        enabled: (cam["enabled"].as_bool() != Some(false)).then(|| "on".to_owned()),
        ..CameraForm::default()
    }
}

/// Sends what the form changed through the API's handlers: the settings (only the fields that
/// differ, so the audit entry names what changed), then the switch.
async fn apply(
    state: &AppState,
    v: &Viewer,
    raw: &str,
    cam: &Value,
    f: &CameraForm,
) -> Result<(), ApiError> {
    let wanted = request(f)?;
    let position: Option<GeoPoint> = serde_json::from_value(cam["position"].clone())
        .map_err(|e| ApiError::internal("read the camera's position", &e))?;
    let changed = |k: &str, new: &str| cam[k].as_str() != Some(new);
    let u = CameraUpdate {
        name: changed("name", &wanted.name).then(|| wanted.name.clone()),
        url: changed("url", &wanted.url).then(|| wanted.url.clone()),
        mahalla: (cam["mahalla"].as_i64() != Some(wanted.mahalla.0)).then_some(wanted.mahalla),
        config_toml: changed("config_toml", &wanted.config_toml)
            .then(|| wanted.config_toml.clone()),
        position: (position != wanted.position).then_some(wanted.position),
    };
    // The answers (the camera as it now is) are not needed: the page is shown again afresh.
    if !u.fields().is_empty() {
        let _ = crate::cameras::update_camera(
            State(state.clone()),
            v.me.clone(),
            Path(raw.to_owned()),
            ApiJson(u),
        )
        .await?;
    }
    let enabled = f.enabled.is_some();
    if cam["enabled"].as_bool() != Some(enabled) {
        let _ = crate::cameras::set_enabled(
            State(state.clone()),
            v.me.clone(),
            Path(raw.to_owned()),
            ApiJson(EnabledRequest { enabled }),
        )
        .await?;
    }
    Ok(())
}

async fn render(
    state: &AppState,
    v: &Viewer,
    cam: &Value,
    banner: Html,
    form: &CameraForm,
    status: StatusCode,
) -> PageResult {
    let mut body = Html::new();
    body.push(&banner);
    body.raw("<p><a href=\"/console/cameras\">← All cameras</a></p>");
    body.push(&health(&cam["health"]));
    if v.may(CAMERA_WRITERS) {
        body.push(&editor(cam));
        body.push(&settings_form(v, cam, form));
        body.raw("<script src=\"/console/assets/zones.js\" defer></script>");
    } else {
        body.push(&read_only(state, cam).await?);
    }
    let title = format!("Camera #{} · {}", s(&cam["id"]), s(&cam["name"]));
    Ok(html_response(
        status,
        layout(Some(v), "/console/cameras", &title, &body),
    ))
}

fn health(h: &Value) -> Html {
    let state_word = h["state"].as_str().unwrap_or("unknown");
    let fps = h["fps"]
        .as_f64()
        .map_or_else(|| "–".to_owned(), |f| format!("{f:.1}"));
    let mut out = Html::new();
    html!(out; "<section class=\"card\" id=\"health\"><h2>Health <span class=\"uz\">Holati</span></h2><dl>"
        "<dt>State</dt><dd><span class=\"state state-" {state_word} "\" id=\"health-state\">" {state_word} "</span></dd>"
        "<dt>Frames/s</dt><dd id=\"health-fps\">" {fps} "</dd>"
        "<dt>Frames analysed</dt><dd id=\"health-frames\">" {s(&h["frames"])} "</dd>"
        "<dt>Last frame</dt><dd id=\"health-last-frame\">" {s(&h["last_frame_at"])} "</dd>"
        "<dt>Last error</dt><dd id=\"health-last-error\">" {s(&h["last_error"])} "</dd>"
        "<dt>Reported</dt><dd>" {s(&h["updated_at"])} "</dd></dl>");
    if h.is_null() {
        out.raw("<p class=\"muted\">No health reported yet: no worker has run this camera.</p>");
    }
    out.raw("</section>");
    out
}

/// The snapshot with the drawing overlay and tools (made visible by zones.js), or why there is
/// no picture.
fn editor(cam: &Value) -> Html {
    let id = s(&cam["id"]);
    let mut h = Html::new();
    h.raw("<section class=\"card zone-card\" id=\"zones\"><h2>Zones and lines <span class=\"uz\">Hududlar va chiziqlar</span></h2>");
    if cam["health"]["last_frame_at"].is_null() {
        html!(h; "<p class=\"banner error\" id=\"no-snapshot\">No picture yet: camera #" {id}
            " has not delivered a frame (state: " {cam["health"]["state"].as_str().unwrap_or("unknown")}
            "), so there is nothing to draw on. Write zones and lines in the TOML below (coordinates 0..1 of the picture's width and height, x from the left, y from the top); the editor appears here once the camera is online.</p></section>");
        return h;
    }
    html!(h;
        "<p class=\"muted\">Click on the picture to place the corners of a zone (close it on its first corner or with Close polygon) or the two ends of a line; the arrow shows the line's direction and side A lies on its left. What you draw is added to the TOML below as normalised coordinates; Save applies it. The picture is the camera's current view, redacted (faces and heads blurred); each view is audited.</p>"
        "<div class=\"zone-stage\" id=\"zone-stage\"><img id=\"snapshot\" src=\"/api/cameras/" {id} "/snapshot.jpg\" alt=\"camera " {id} "'s current view, redacted (no picture: the camera has delivered no frame)\">"
        "<svg id=\"zone-overlay\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"zones and lines drawn over the picture\"></svg></div>"
        "<p class=\"banner error\" id=\"no-snapshot\" hidden>The camera gave no picture: it has delivered no frame since the server started, or it is offline. Write zones and lines in the TOML below (coordinates 0..1 of the picture's width and height).</p>"
        "<div class=\"zone-tools\" id=\"zone-tools\" hidden>"
        "<label>Draw <select id=\"zone-shape\"><option value=\"zone\">a zone (polygon)</option><option value=\"line\">a line (2 points, directed)</option></select></label>"
        "<label>Name <input id=\"zone-name\" maxlength=\"100\" autocomplete=\"off\"></label>"
        "<label>Rule <select id=\"zone-kind\">"
        "<option value=\"zone_enter\">intrusion: enters the zone</option>"
        "<option value=\"loitering\">loitering: stays in the zone</option>"
        "<option value=\"crowding\">crowding: many in the zone</option>"
        "<option value=\"object_left\">object left behind</option>"
        "<option value=\"line_cross\">line crossing</option>"
        "<option value=\"none\">none (the shape only)</option></select></label>"
        "<label data-kinds=\"zone_enter loitering crowding object_left line_cross\">Classes <input id=\"zone-classes\" autocomplete=\"off\"></label>"
        "<label data-kinds=\"line_cross\">Direction <select id=\"zone-direction\"><option value=\"A-&gt;B\">A to B</option><option value=\"B-&gt;A\">B to A</option><option value=\"any\">either way</option></select></label>"
        "<label data-kinds=\"zone_enter loitering crowding object_left\">Seconds <input id=\"zone-seconds\" inputmode=\"decimal\"></label>"
        "<label data-kinds=\"crowding\">How many make a crowd <input id=\"zone-count\" inputmode=\"numeric\"></label>"
        "<button type=\"button\" id=\"zone-finish\" disabled>Close polygon</button>"
        "<button type=\"button\" class=\"secondary\" id=\"zone-undo\">Undo point</button>"
        "<button type=\"button\" class=\"secondary\" id=\"zone-clear\">Start again</button>"
        "<p class=\"muted\" id=\"zone-status\" aria-live=\"polite\"></p></div></section>");
    h
}

fn settings_form(v: &Viewer, cam: &Value, form: &CameraForm) -> Html {
    let mut h = Html::new();
    html!(h; "<form method=\"post\" action=\"/console/cameras/" {s(&cam["id"])} "\" id=\"camera-settings\" class=\"card\">" [v.csrf_field()]
        "<h2>Settings <span class=\"uz\">Sozlamalar</span></h2><div class=\"grid-form\">" [settings_fields(form)]
        "<label class=\"check\"><span><input type=\"checkbox\" name=\"enabled\" value=\"on\"");
    if form.enabled.is_some() {
        h.raw(" checked");
    }
    // The newline after <textarea> is dropped by the browser, so a TOML that starts with one
    // keeps it.
    html!(h; "> Enabled (its pipeline runs)</span></label></div>"
        "<label class=\"toml\">Zones and rules (the pipeline's TOML; coordinates 0..1 of the picture's width and height; see config/demo-camera.toml)"
        "<textarea name=\"config_toml\" id=\"config_toml\" rows=\"20\" cols=\"90\" spellcheck=\"false\">\n" {form.config_toml} "</textarea></label>"
        "<p><button type=\"submit\" id=\"camera-save\">Save</button></p>"
        "<p class=\"muted\">The stream and the TOML are checked by the pipeline before anything is stored; the camera restarts with the new settings. Each change is audited.</p></form>");
    h
}

async fn read_only(state: &AppState, cam: &Value) -> Result<Html, super::PageError> {
    let mahalla = match cam["mahalla"].as_i64() {
        Some(m) => Places::default().name(state, domain::MahallaId(m)).await?,
        None => "–".to_owned(),
    };
    let p = &cam["position"];
    let position = if p.is_null() {
        "–".to_owned()
    } else {
        format!("{}, {}", s(&p["lon"]), s(&p["lat"]))
    };
    let mut h = Html::new();
    html!(h; "<section class=\"card\" id=\"settings\"><h2>Settings <span class=\"uz\">Sozlamalar</span></h2><dl>"
        "<dt>Name</dt><dd>" {s(&cam["name"])} "</dd>"
        "<dt>Stream</dt><dd><code>" {s(&cam["url"])} "</code></dd>"
        "<dt>Mahalla</dt><dd>" {mahalla} " (" {s(&cam["mahalla"])} ")</dd>"
        "<dt>Position</dt><dd>" {position} "</dd>"
        "<dt>Enabled</dt><dd>" {if cam["enabled"].as_bool() == Some(false) { "no" } else { "yes" }} "</dd></dl>"
        "<h2>Zones and rules</h2><pre class=\"toml\" id=\"config-toml\">" {s(&cam["config_toml"])} "</pre>"
        "<p class=\"muted\">Only admins and operators may change a camera.</p></section>");
    Ok(h)
}
