//! Cameras (admin, operator, inspector, analyst; in scope): each camera with its health (state,
//! frames per second, last frame, last error) as the workers report it, and, for the roles that
//! may read it, the precision of its rules over the last 12 weeks (confirmed / reviewed with a
//! 95% Wilson interval), so operators see which rules need tuning. Admins and operators register
//! a camera here (name, stream URL, mahalla, position, the pipeline's TOML) through the API's own
//! handler, so the checks (URL, TOML with the line of any error, scope) and the audit entry are
//! the API's. Each camera's name links to its own page (`camera_page.rs`): settings, rules and
//! the zone editor.
use std::collections::HashMap;

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use domain::{GeoPoint, MahallaId};
use serde::Deserialize;
use serde_json::Value;

use super::html::Html;
use super::show as s;
use super::{PageResult, Viewer, error_banner, html_response, layout, redirect};
use crate::AppState;
use crate::cameras::{CAMERA_READERS, CAMERA_WRITERS, CreateCamera};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::html;
use crate::stats::PRECISION_READERS;

fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "–".to_owned(), |x| format!("{:.0}%", x * 100.0))
}

/// `GET /console/cameras`
pub async fn page_get(State(state): State<AppState>, v: Viewer) -> PageResult {
    v.require(CAMERA_READERS)?;
    render(
        &state,
        &v,
        Html::new(),
        &CameraForm::default(),
        StatusCode::OK,
    )
    .await
}

async fn render(
    state: &AppState,
    v: &Viewer,
    banner: Html,
    form: &CameraForm,
    status: StatusCode,
) -> PageResult {
    let state = state.clone();
    let mut body = Html::new();
    body.push(&banner);
    let cams = crate::cameras::list_cameras(State(state.clone()), v.me.clone())
        .await?
        .0;
    body.raw("<table class=\"list\" id=\"cameras\"><thead><tr><th>#</th><th>Name</th><th>Mahalla</th><th>Stream</th><th>Enabled</th><th>State</th><th>Frames/s</th><th>Frames</th><th>Last frame</th><th>Last error</th><th></th></tr></thead><tbody>");
    let empty = Vec::new();
    let list = cams["cameras"].as_array().unwrap_or(&empty);
    for c in list {
        let h = &c["health"];
        let state_word = h["state"].as_str().unwrap_or("unknown");
        let fps = h["fps"]
            .as_f64()
            .map_or_else(|| "–".to_owned(), |f| format!("{f:.1}"));
        html!(body; "<tr id=\"camera-" {s(&c["id"])} "\"><td>" {s(&c["id"])} "</td><td><a href=\"/console/cameras/" {s(&c["id"])} "\">" {s(&c["name"])}
            "</a></td><td>" {s(&c["mahalla"])} "</td><td><code>" {s(&c["url"])} "</code></td><td>"
            {if c["enabled"].as_bool() == Some(false) { "no" } else { "yes" }}
            "</td><td><span class=\"state state-" {state_word} "\">" {state_word} "</span></td><td>" {fps}
            "</td><td>" {s(&h["frames"])} "</td><td>" {s(&h["last_frame_at"])} "</td><td>" {s(&h["last_error"])} "</td><td>");
        if v.may(CAMERA_WRITERS) {
            // the redacted view, for drawing zones; each look is audited (camera.snapshot)
            html!(body; "<a href=\"/api/cameras/" {s(&c["id"])} "/snapshot.jpg\">snapshot</a>");
        }
        body.raw("</td></tr>");
    }
    body.raw("</tbody></table>");
    if list.is_empty() {
        body.raw(
            "<p class=\"muted\">No cameras in your scope. Register one with POST /api/cameras.</p>",
        );
    }
    if v.may(PRECISION_READERS) {
        let p = crate::stats::precision(State(state), v.me.clone(), Query(HashMap::new()))
            .await?
            .0;
        html!(body; "<section class=\"card\"><h2>Precision of alerts <span class=\"uz\">Ogohlantirishlar aniqligi</span></h2>"
            "<p class=\"muted\">" {s(&p["from"])} " to " {s(&p["to"])} ": confirmed among reviewed, with a 95% Wilson interval. A low value with a narrow interval is a rule to tune; a wide interval means too few verdicts to say.</p>"
            "<table class=\"list\" id=\"precision\"><thead><tr><th>Camera</th><th>Rule</th><th>Reviewed</th><th>Confirmed</th><th>Precision</th><th>95% interval</th></tr></thead><tbody>");
        for r in p["by_camera_rule"].as_array().unwrap_or(&empty) {
            html!(body; "<tr><td>" {s(&r["camera"])} "</td><td>" {s(&r["rule"])} "</td><td>" {s(&r["reviewed"])}
                "</td><td>" {s(&r["confirmed"])} "</td><td>" {pct(&r["precision"])} "</td><td>"
                {pct(&r["low"])} " – " {pct(&r["high"])} "</td></tr>");
        }
        body.raw("</tbody></table></section>");
    }
    if v.may(CAMERA_WRITERS) {
        html!(body; "<section class=\"card\"><h2>Register a camera <span class=\"uz\">Kamera qo'shish</span></h2>"
            "<form method=\"post\" action=\"/console/cameras\" class=\"grid-form\" id=\"new-camera\">" [v.csrf_field()]
            [settings_fields(form)]
            "<label>Zones and rules (the pipeline's TOML; see config/demo-camera.toml) <textarea name=\"config_toml\" rows=\"12\" cols=\"80\">" {form.config_toml} "</textarea></label>"
            "<button type=\"submit\">Register</button></form>"
            "<p class=\"muted\">The stream and the TOML are checked before anything is stored; the camera starts at once.</p></section>");
    }
    Ok(html_response(
        status,
        layout(Some(v), "/console/cameras", "Cameras", &body),
    ))
}

/// The inputs for a camera's name, stream, mahalla and position, filled in from `form`; shared
/// by the registration form and the camera's own page.
pub(super) fn settings_fields(form: &CameraForm) -> Html {
    let mut h = Html::new();
    html!(h;
        "<label>Name <input name=\"name\" required maxlength=\"200\" value=\"" {form.name} "\"></label>"
        "<label>Stream <input name=\"url\" required placeholder=\"rtsp://USER:PASSWORD@HOST:554/PATH or file:/PATH\" value=\"" {form.url} "\"></label>"
        "<label>Mahalla id <input name=\"mahalla\" required inputmode=\"numeric\" value=\"" {form.mahalla} "\"></label>"
        "<label>Longitude <input name=\"lon\" inputmode=\"decimal\" value=\"" {form.lon} "\"></label>"
        "<label>Latitude <input name=\"lat\" inputmode=\"decimal\" value=\"" {form.lat} "\"></label>");
    h
}

/// The registration form (and the camera page's settings form), kept as typed so a refused
/// form comes back filled in.
#[derive(Deserialize, Default)]
pub struct CameraForm {
    #[serde(default, rename = "_csrf")]
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) url: String,
    #[serde(default)]
    pub(super) mahalla: String,
    #[serde(default)]
    pub(super) lon: String,
    #[serde(default)]
    pub(super) lat: String,
    #[serde(default)]
    pub(super) config_toml: String,
    /// The camera page's "enabled" checkbox (absent when unticked; registration ignores it).
    #[serde(default)]
    pub(super) enabled: Option<String>,
}

pub(super) fn request(f: &CameraForm) -> Result<CreateCamera, ApiError> {
    let mahalla = f.mahalla.trim().parse::<i64>().map_err(|_| {
        ApiError::bad_request(
            format!("mahalla {:?} is not a mahalla id", f.mahalla),
            "write the mahalla's number (the map and GET /api/geography/mahallas.geojson list them)",
        )
    })?;
    let coord = |name: &str, v: &str| {
        v.trim().parse::<f64>().map_err(|_| {
            ApiError::bad_request(
                format!("{name} {v:?} is not a number"),
                "write decimal degrees (e.g. 69.2401), or leave both coordinates empty",
            )
        })
    };
    let position = match (f.lon.trim().is_empty(), f.lat.trim().is_empty()) {
        (true, true) => None,
        (false, false) => Some(GeoPoint {
            lon: coord("longitude", &f.lon)?,
            lat: coord("latitude", &f.lat)?,
        }),
        _ => {
            return Err(ApiError::bad_request(
                "only one coordinate was given",
                "give both longitude and latitude, or neither",
            ));
        }
    };
    Ok(CreateCamera {
        name: f.name.trim().to_owned(),
        url: f.url.trim().to_owned(),
        mahalla: MahallaId(mahalla),
        config_toml: f.config_toml.clone(),
        position,
    })
}

/// `POST /console/cameras`
pub async fn create(
    State(state): State<AppState>,
    v: Viewer,
    form: Result<Form<CameraForm>, FormRejection>,
) -> PageResult {
    v.require(CAMERA_WRITERS)?;
    let Form(f) = form?;
    v.check_csrf(&f.csrf)?;
    let result = match request(&f) {
        Ok(req) => crate::cameras::create_camera(State(state.clone()), v.me.clone(), ApiJson(req))
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(redirect("/console/cameras")),
        Err(e) => render(&state, &v, error_banner(&e), &f, e.status).await,
    }
}
