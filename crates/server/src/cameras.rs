//! Cameras over HTTP: register, list with health, read, edit (the pipeline's TOML included),
//! switch on and off, and a redacted snapshot of the view for drawing zones.
//!
//! The server does not run pipelines itself (it depends on no video crate): whoever starts it
//! plugs in a [`CameraControl`] (`posbon serve` plugs in the `workers` supervisor), which checks
//! configurations, runs the cameras and reports their health. Without one, cameras can be read
//! but not registered or changed, and health comes from what the store last recorded.
use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use domain::{
    Camera, CameraId, CameraStatus, CameraUpdate, GeoPoint, MahallaId, NewCamera, Role, Scope,
    redact_url,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::api::covers;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, parse_id};

/// Who may register, edit and switch cameras, and see their snapshots.
pub const CAMERA_WRITERS: &[Role] = &[Role::Admin, Role::Operator];
/// Who may list cameras and their health.
pub const CAMERA_READERS: &[Role] = &[Role::Admin, Role::Operator, Role::Inspector, Role::Analyst];

/// How long a snapshot request waits for the pipeline to redact a fresh frame.
pub const SNAPSHOT_WAIT: Duration = Duration::from_secs(5);

/// A redacted picture of a camera's view.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// A JPEG, redacted as evidence is (faces and every person's head blurred).
    pub jpeg: Vec<u8>,
    /// The frame's time.
    pub at: domain::Timestamp,
}

/// What runs the cameras' pipelines. Implemented outside the server (by the `workers` crate,
/// plugged in by the `cli`), so that the server depends on no video code.
pub trait CameraControl: Send + Sync + 'static {
    /// Checks a camera's configuration (the pipeline's TOML); the error names the line or
    /// section and what to change.
    fn validate_config(&self, toml: &str) -> Result<(), String>;
    /// Checks a camera's stream URL or file.
    fn validate_url(&self, url: &str) -> Result<(), String>;
    /// Starts, restarts or stops the camera's pipeline to match its record.
    fn apply(&self, camera: &Camera);
    /// Stops the camera's pipeline and forgets it.
    fn remove(&self, id: CameraId);
    /// The health of every camera this control runs.
    fn health(&self) -> Vec<CameraStatus>;
    /// A redacted picture of the camera's current view, waiting up to `wait` for one; never
    /// an unredacted frame. Blocks: call it off the async threads.
    fn snapshot(&self, id: CameraId, wait: Duration) -> Option<Snapshot>;
    /// Prometheus text lines for the cameras (appended to `/metrics`).
    fn metrics(&self) -> String {
        String::new()
    }
}

fn control(state: &AppState) -> ApiResult<&std::sync::Arc<dyn CameraControl>> {
    state.cameras.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "this server runs no camera workers, so it cannot check or run a camera",
            "start the server without --no-workers to register or change cameras",
        )
    })
}

fn out_of_scope(me: &CurrentUser, mahalla: MahallaId) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "mahalla {mahalla} is not within your scope ({})",
            me.user.scope
        ),
        "register and move cameras only within your scope",
    )
}

/// The camera, if it exists and lies within the user's scope; else 404 either way.
async fn camera_in_scope(state: &AppState, me: &CurrentUser, raw: &str) -> ApiResult<Camera> {
    let id = CameraId(parse_id("camera", raw)?);
    match state.store.get_camera(id).await? {
        Some(c) if covers(state, me, c.mahalla).await? => Ok(c),
        _ => Err(ApiError::not_found("camera", id)),
    }
}

/// A camera as the API shows it: its URL without password, and its health (live from the
/// workers when they run it, else as last recorded, else null).
fn camera_json(c: &Camera, health: Option<&CameraStatus>) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "url": redact_url(&c.url),
        "mahalla": c.mahalla,
        "position": c.position,
        "config_toml": c.config_toml,
        "enabled": c.enabled,
        "created_at": c.created_at,
        "health": health.map(health_json),
    })
}

fn health_json(h: &CameraStatus) -> Value {
    json!({
        "state": h.state,
        "fps": (h.fps * 100.0).round() / 100.0,
        "frames": h.frames,
        "last_frame_at": h.last_frame_at,
        "last_error": h.last_error.as_deref().map(redact_url),
        "updated_at": h.updated_at,
    })
}

/// Health by camera: the workers' (live) over the store's (last recorded).
async fn health_map(state: &AppState, scope: &Scope) -> ApiResult<HashMap<CameraId, CameraStatus>> {
    let mut m: HashMap<CameraId, CameraStatus> = state
        .store
        .list_camera_statuses(scope)
        .await?
        .into_iter()
        .map(|s| (s.camera, s))
        .collect();
    // Entries for cameras outside the scope are harmless: only cameras listed are looked up.
    if let Some(c) = &state.cameras {
        for h in c.health() {
            m.insert(h.camera, h);
        }
    }
    Ok(m)
}

async fn one_health(state: &AppState, id: CameraId) -> ApiResult<Option<CameraStatus>> {
    if let Some(c) = &state.cameras
        && let Some(h) = c.health().into_iter().find(|h| h.camera == id)
    {
        return Ok(Some(h));
    }
    Ok(state.store.get_camera_status(id).await?)
}

fn bad_config(e: String) -> ApiError {
    ApiError::bad_request(
        e,
        "correct config_toml (the pipeline's camera TOML: [detector], [[zones]], [[lines]], [[rules]]; see config/demo-camera.toml) and send it again",
    )
}

fn bad_url(e: String) -> ApiError {
    ApiError::bad_request(
        e,
        "give the camera's stream as rtsp://USER:PASSWORD@HOST:PORT/PATH, or a video file as file:/ABSOLUTE/PATH",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCamera {
    pub name: String,
    pub url: String,
    pub mahalla: MahallaId,
    #[serde(default)]
    pub config_toml: String,
    #[serde(default)]
    pub position: Option<GeoPoint>,
}

/// `POST /api/cameras`: registers a camera (enabled) in a mahalla within the caller's scope; the
/// URL and configuration are checked first and the camera starts at once.
pub async fn create_camera(
    State(state): State<AppState>,
    me: CurrentUser,
    ApiJson(req): ApiJson<CreateCamera>,
) -> ApiResult<Response> {
    me.require(CAMERA_WRITERS)?;
    let ctl = control(&state)?.clone();
    if !covers(&state, &me, req.mahalla).await? {
        return Err(out_of_scope(&me, req.mahalla));
    }
    let n = NewCamera {
        name: req.name,
        url: req.url,
        mahalla: req.mahalla,
        config_toml: req.config_toml,
        position: req.position,
    };
    n.validate()
        .map_err(|e| ApiError::bad_request(e.to_string(), "correct the value and send it again"))?;
    ctl.validate_url(&n.url).map_err(bad_url)?;
    ctl.validate_config(&n.config_toml).map_err(bad_config)?;
    let camera = state
        .store
        .register_camera(&n, &domain::Actor::User(me.user.id))
        .await?;
    ctl.apply(&camera);
    let health = one_health(&state, camera.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(camera_json(&camera, health.as_ref())),
    )
        .into_response())
}

/// `GET /api/cameras`: the cameras within the caller's scope, by id, each with its health.
pub async fn list_cameras(
    State(state): State<AppState>,
    me: CurrentUser,
) -> ApiResult<Json<Value>> {
    me.require(CAMERA_READERS)?;
    let cameras = state.store.list_cameras(&me.user.scope).await?;
    let health = health_map(&state, &me.user.scope).await?;
    let list: Vec<Value> = cameras
        .iter()
        .map(|c| camera_json(c, health.get(&c.id)))
        .collect();
    Ok(Json(json!({ "cameras": list })))
}

/// `GET /api/cameras/{id}`
pub async fn get_camera(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    me.require(CAMERA_READERS)?;
    let camera = camera_in_scope(&state, &me, &raw).await?;
    let health = one_health(&state, camera.id).await?;
    Ok(Json(camera_json(&camera, health.as_ref())))
}

/// `PUT /api/cameras/{id}`: changes the fields given (name, url, mahalla, config_toml,
/// position; `"position": null` removes it). A URL sent back as the API showed it (password
/// `***`) keeps the stored one. The camera's pipeline restarts with the new settings.
pub async fn update_camera(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
    ApiJson(mut req): ApiJson<CameraUpdate>,
) -> ApiResult<Json<Value>> {
    me.require(CAMERA_WRITERS)?;
    let ctl = control(&state)?.clone();
    let camera = camera_in_scope(&state, &me, &raw).await?;
    if let Some(u) = &req.url {
        if *u == redact_url(&camera.url) {
            req.url = None;
        } else if u.contains(":***@") {
            return Err(ApiError::bad_request(
                "the URL still has the *** that hides the stored password",
                "send the full URL with the password, or leave url out to keep the stored one",
            ));
        }
    }
    if let Some(m) = req.mahalla
        && !covers(&state, &me, m).await?
    {
        return Err(out_of_scope(&me, m));
    }
    req.validate()
        .map_err(|e| ApiError::bad_request(e.to_string(), "correct the value and send it again"))?;
    if let Some(u) = &req.url {
        ctl.validate_url(u).map_err(bad_url)?;
    }
    if let Some(t) = &req.config_toml {
        ctl.validate_config(t).map_err(bad_config)?;
    }
    let updated = state
        .store
        .update_camera(camera.id, &req, &domain::Actor::User(me.user.id))
        .await?;
    ctl.apply(&updated);
    let health = one_health(&state, updated.id).await?;
    Ok(Json(camera_json(&updated, health.as_ref())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnabledRequest {
    pub enabled: bool,
}

/// `POST /api/cameras/{id}/enabled` `{"enabled": bool}`: starts or stops the camera's pipeline;
/// its settings and events are kept.
pub async fn set_enabled(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
    ApiJson(req): ApiJson<EnabledRequest>,
) -> ApiResult<Json<Value>> {
    me.require(CAMERA_WRITERS)?;
    let ctl = control(&state)?.clone();
    let camera = camera_in_scope(&state, &me, &raw).await?;
    let updated = state
        .store
        .set_camera_enabled(camera.id, req.enabled, &domain::Actor::User(me.user.id))
        .await?;
    ctl.apply(&updated);
    let health = one_health(&state, updated.id).await?;
    Ok(Json(camera_json(&updated, health.as_ref())))
}

/// `GET /api/cameras/{id}/snapshot.jpg`: the camera's current view, redacted like evidence
/// (faces and every person's head blurred), for drawing zones and lines. Audited
/// (`camera.snapshot`); never stored.
pub async fn snapshot(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    me.require(CAMERA_WRITERS)?;
    let camera = camera_in_scope(&state, &me, &raw).await?;
    let ctl = control(&state)?.clone();
    let id = camera.id;
    let snap = tokio::task::spawn_blocking(move || ctl.snapshot(id, SNAPSHOT_WAIT))
        .await
        .map_err(|e| ApiError::internal("take a snapshot", &e))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("camera {id} has delivered no frame yet"),
                "wait until the camera is online (GET /api/cameras/{id} shows its health) and ask again",
            )
        })?;
    state
        .store
        .audit_append(
            &me.actor(),
            "camera.snapshot",
            &format!("camera:{id}"),
            &json!({ "frame_time": snap.at, "bytes": snap.jpeg.len() }),
        )
        .await?;
    Ok((
        [
            (CONTENT_TYPE, "image/jpeg".to_owned()),
            (CACHE_CONTROL, "no-store".to_owned()),
            (
                axum::http::HeaderName::from_static("x-frame-time"),
                snap.at.to_string(),
            ),
        ],
        snap.jpeg,
    )
        .into_response())
}
