//! Cameras (admin, operator, inspector, analyst; in scope): each camera with its health (state,
//! frames per second, last frame, last error) as the workers report it, and, for the roles that
//! may read it, the precision of its rules over the last 12 weeks (confirmed / reviewed with a
//! 95% Wilson interval), so operators see which rules need tuning. Cameras are registered and
//! edited through `POST/PUT /api/cameras` (docs/design/010-cameras-and-workers.md).
use std::collections::HashMap;

use axum::extract::{Query, State};
use serde_json::Value;

use super::html::Html;
use super::show as s;
use super::{PageResult, Viewer, page};
use crate::AppState;
use crate::cameras::CAMERA_READERS;
use crate::html;
use crate::stats::PRECISION_READERS;

fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "–".to_owned(), |x| format!("{:.0}%", x * 100.0))
}

/// `GET /console/cameras`
pub async fn page_get(State(state): State<AppState>, v: Viewer) -> PageResult {
    v.require(CAMERA_READERS)?;
    let cams = crate::cameras::list_cameras(State(state.clone()), v.me.clone())
        .await?
        .0;
    let mut body = Html::new();
    body.raw("<table class=\"list\" id=\"cameras\"><thead><tr><th>#</th><th>Name</th><th>Mahalla</th><th>Stream</th><th>Enabled</th><th>State</th><th>Frames/s</th><th>Frames</th><th>Last frame</th><th>Last error</th></tr></thead><tbody>");
    let empty = Vec::new();
    let list = cams["cameras"].as_array().unwrap_or(&empty);
    for c in list {
        let h = &c["health"];
        let state_word = h["state"].as_str().unwrap_or("unknown");
        let fps = h["fps"]
            .as_f64()
            .map_or_else(|| "–".to_owned(), |f| format!("{f:.1}"));
        html!(body; "<tr id=\"camera-" {s(&c["id"])} "\"><td>" {s(&c["id"])} "</td><td>" {s(&c["name"])}
            "</td><td>" {s(&c["mahalla"])} "</td><td><code>" {s(&c["url"])} "</code></td><td>"
            {if c["enabled"].as_bool() == Some(false) { "no" } else { "yes" }}
            "</td><td><span class=\"state state-" {state_word} "\">" {state_word} "</span></td><td>" {fps}
            "</td><td>" {s(&h["frames"])} "</td><td>" {s(&h["last_frame_at"])} "</td><td>" {s(&h["last_error"])} "</td></tr>");
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
    Ok(page(&v, "/console/cameras", "Cameras", &body))
}
