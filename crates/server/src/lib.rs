//! posbon's HTTP API: axum over [`store::Store`].
//!
//! Every endpoint is registered once, in [`router`], through [`Routes::add`], which also
//! records its method and path; [`openapi::document`] describes exactly those, and a test holds
//! the two together. See docs/design/008-server.md for sessions, CSRF, scope checks and the error
//! shape.
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post, put};
use serde_json::json;
use store::Store;
use tokio::net::TcpListener;

pub mod analysis;
pub mod api;
pub mod attachments;
pub mod auth;
pub mod bank_keys;
pub mod cameras;
pub mod campaigns;
pub mod console;
pub mod demo;
pub mod error;
pub mod evidence;
pub mod evidence_access;
pub mod extract;
pub mod fraud;
pub mod fraud_pages;
pub mod geography;
pub mod metrics;
pub mod openapi;
mod openapi_fraud;
mod openapi_payee;
mod openapi_reports;
pub mod patrols;
pub mod payee;
pub mod period_reports;
pub mod public_pages;
pub mod reports;
pub mod retention;
pub mod roadmaps;
pub mod stats;
pub mod threat;

use error::ApiError;

/// Request bodies above this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// How the server behaves, apart from its database.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a session lasts after login.
    pub session_ttl: Duration,
    /// Mark the session cookie `Secure` (only over HTTPS). Off by default: the server speaks
    /// plain HTTP and is meant to sit behind a TLS-terminating proxy, which should turn it on.
    pub secure_cookies: bool,
    /// Where the server keeps files: evidence lies under `evidence/camera-{id}/`, the folder the
    /// pipeline of camera `id` writes to (an event's `images` and `originals` are relative to it).
    pub data_dir: PathBuf,
    /// Events not attached to an incident, and their evidence files, are deleted after this many
    /// days (see [`retention`]); 0 turns retention off.
    pub retention_days: u32,
    /// The key of sealed originals (`posbon evidence keygen`), read at start; without one,
    /// approved access requests cannot open originals (503).
    pub evidence_key: Option<PathBuf>,
    /// Rate limits of the public report endpoints.
    pub report_limits: reports::ReportLimits,
    /// The file of the key that card numbers are hashed under (hex), created with a random key
    /// if missing (see [`threat::load_card_key`]); `posbon serve` uses
    /// `<data-dir>/keys/card-hash.key`. `None`: a random key for this process only (tests).
    pub card_key: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            session_ttl: Duration::from_secs(8 * 3600),
            secure_cookies: false,
            data_dir: PathBuf::from("posbon-data"),
            retention_days: 30,
            evidence_key: None,
            report_limits: reports::ReportLimits::default(),
            card_key: None,
        }
    }
}

/// The folder camera `camera`'s pipeline writes its evidence to, under the data folder.
pub fn evidence_dir(data_dir: &Path, camera: domain::CameraId) -> PathBuf {
    data_dir
        .join("evidence")
        .join(format!("camera-{}", camera.0))
}

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub metrics: Arc<metrics::Metrics>,
    pub login_limiter: Arc<auth::LoginLimiter>,
    /// An Argon2id hash of a random password: what failed logins for unknown users verify
    /// against, so they take as long as a wrong password.
    pub dummy_hash: Arc<String>,
    pub session_ttl: Duration,
    pub secure_cookies: bool,
    /// See [`Config::data_dir`].
    pub data_dir: Arc<PathBuf>,
    /// Limits of the public report endpoints, per client address and overall.
    pub report_limiter: Arc<reports::PublicLimiter>,
    /// See [`Config::evidence_key`].
    pub evidence_key: Option<Arc<seal::SealKey>>,
    /// What runs the cameras' pipelines (`posbon serve` plugs in the workers); `None`: cameras
    /// can be read but not registered or changed.
    pub cameras: Option<Arc<dyn cameras::CameraControl>>,
    /// Reported fraud indicators, for the public check and the payee check.
    pub threats: Arc<threat::Threats>,
    /// The banks' payee check: its keys in memory and its counters.
    pub payee: Arc<payee::Payee>,
    /// Blurs faces in photos before they are attached (`posbon serve` plugs in the face
    /// model); `None`: photos are refused.
    pub photos: Option<Arc<dyn attachments::PhotoRedactor>>,
}

impl AppState {
    pub fn new(store: Store, config: &Config) -> anyhow::Result<AppState> {
        Ok(AppState {
            store,
            metrics: Arc::default(),
            login_limiter: Arc::default(),
            dummy_hash: Arc::new(auth::hash_password(&auth::random_hex(16))?),
            session_ttl: config.session_ttl,
            secure_cookies: config.secure_cookies,
            data_dir: Arc::new(config.data_dir.clone()),
            report_limiter: Arc::new(reports::PublicLimiter::new(config.report_limits.clone())),
            evidence_key: match &config.evidence_key {
                None => None,
                Some(p) => Some(Arc::new(seal::SealKey::load(p)?)),
            },
            cameras: None,
            threats: Arc::new(threat::Threats::new(match &config.card_key {
                Some(p) => threat::load_card_key(p)?,
                None => cyber::CardKey::random().map_err(|e| anyhow::anyhow!("{e}"))?,
            })),
            payee: Arc::default(),
            photos: None,
        })
    }

    /// The same state with `r` blurring faces in attached photos.
    pub fn with_photos(mut self, r: Arc<dyn attachments::PhotoRedactor>) -> AppState {
        self.photos = Some(r);
        self
    }

    /// The same state with `control` running the cameras.
    pub fn with_cameras(mut self, control: Arc<dyn cameras::CameraControl>) -> AppState {
        self.cameras = Some(control);
        self
    }

    pub fn store_now(&self) -> domain::Timestamp {
        self.store.now()
    }
}

/// The router under construction, with the (method, path) of every route added so far.
pub struct Routes {
    router: Router<AppState>,
    registered: Vec<(&'static str, &'static str)>,
}

impl Routes {
    fn add(mut self, method: &'static str, path: &'static str, mr: MethodRouter<AppState>) -> Self {
        self.registered.push((method, path));
        self.router = self.router.route(path, mr);
        self
    }
}

/// Every route: `(method, path)` as registered with the router.
pub fn registered_routes() -> Vec<(&'static str, &'static str)> {
    routes().registered
}

fn routes() -> Routes {
    Routes {
        router: Router::new(),
        registered: Vec::new(),
    }
    .add("GET", "/healthz", get(healthz))
    .add("GET", "/metrics", get(metrics_text))
    .add("GET", "/openapi.json", get(openapi_json))
    .add("POST", "/api/login", post(auth::login))
    .add("POST", "/api/logout", post(auth::logout))
    .add("GET", "/api/me", get(auth::me))
    .add("GET", "/api/events/pending", get(api::pending_events))
    .add("POST", "/api/events/{id}/review", post(api::review_event))
    .add("GET", "/api/incidents", get(api::list_incidents))
    .add("POST", "/api/incidents", post(api::create_incident))
    .add("GET", "/api/incidents/{id}", get(api::get_incident))
    .add(
        "POST",
        "/api/incidents/{id}/status",
        post(api::change_status),
    )
    .add("GET", "/api/incidents.csv", get(api::export_csv))
    .add("GET", "/api/incidents.geojson", get(api::export_geojson))
    .add("GET", "/api/audit", get(api::audit_log))
    .add("GET", "/api/geography/regions", get(geography::regions))
    .add(
        "GET",
        "/api/geography/mahallas.geojson",
        get(geography::mahallas_geojson),
    )
    .add(
        "POST",
        "/api/geography/mahallas/import",
        post(geography::import_mahallas),
    )
    .add(
        "POST",
        "/public/reports",
        post(reports::submit).layer(DefaultBodyLimit::max(reports::MAX_REPORT_BYTES)),
    )
    .add("GET", "/public/reports/{code}", get(reports::status))
    .add("GET", "/report", get(public_pages::report_page))
    .add("GET", "/report/status", get(public_pages::status_page))
    .add("GET", "/api/reports", get(reports::list))
    .add("GET", "/api/reports/{id}", get(reports::get))
    .add(
        "POST",
        "/api/reports/{id}/moderate",
        post(reports::moderate),
    )
    .add("GET", "/api/access-requests", get(evidence_access::list))
    .add(
        "POST",
        "/api/access-requests",
        post(evidence_access::create),
    )
    .add(
        "POST",
        "/api/access-requests/{id}/decision",
        post(evidence_access::decide),
    )
    .add(
        "GET",
        "/api/access-requests/{id}/original/{n}",
        get(evidence_access::original),
    )
    .add("GET", "/api/cameras", get(cameras::list_cameras))
    .add("POST", "/api/cameras", post(cameras::create_camera))
    .add("GET", "/api/cameras/{id}", get(cameras::get_camera))
    .add("PUT", "/api/cameras/{id}", put(cameras::update_camera))
    .add(
        "POST",
        "/api/cameras/{id}/enabled",
        post(cameras::set_enabled),
    )
    .add(
        "GET",
        "/api/cameras/{id}/snapshot.jpg",
        get(cameras::snapshot),
    )
    .add("GET", "/api/stats/precision", get(stats::precision))
    .add("GET", "/api/events/{id}/evidence/{n}", get(evidence::image))
    .add(
        "GET",
        "/api/incidents/{id}/attachments",
        get(attachments::list),
    )
    .add(
        "POST",
        "/api/incidents/{id}/attachments",
        post(attachments::upload).layer(DefaultBodyLimit::max(attachments::MAX_UPLOAD_BODY_BYTES)),
    )
    .add(
        "GET",
        "/api/incidents/{id}/attachments/{aid}",
        get(attachments::download),
    )
    .add(
        "POST",
        "/public/fraud-reports",
        post(fraud::submit).layer(DefaultBodyLimit::max(fraud::MAX_FRAUD_BYTES)),
    )
    .add("GET", "/public/fraud-reports/{code}", get(fraud::status))
    .add("GET", "/public/check/{prefix}", get(fraud::check))
    .add("GET", "/public/check.js", get(fraud_pages::check_js))
    .add("GET", "/fraud", get(fraud_pages::fraud_page))
    .add("GET", "/fraud/status", get(fraud_pages::status_page))
    .add("GET", "/check", get(fraud_pages::check_page))
    .add("GET", "/api/fraud-reports", get(fraud::list))
    .add("GET", "/api/fraud-reports/{id}", get(fraud::get))
    .add(
        "POST",
        "/api/fraud-reports/{id}/moderate",
        post(fraud::moderate),
    )
    .add("GET", "/api/campaigns", get(campaigns::list))
    .add("GET", "/api/campaigns/{id}", get(campaigns::get))
    .add(
        "GET",
        "/api/campaigns/{id}/takedown.csv",
        get(campaigns::takedown_csv),
    )
    .add("GET", "/api/campaigns/{id}/stix.json", get(campaigns::stix))
    .add("GET", "/api/period-reports", get(period_reports::get))
    .add_analytics()
    .add("GET", "/api/patrols/plans", get(patrols::list_plans))
    .add("POST", "/api/patrols/plans", post(patrols::create_plan))
    .add("GET", "/api/patrols/plans/{id}", get(patrols::get_plan))
    .add("GET", "/api/patrols/logs", get(patrols::list_logs))
    .add("POST", "/api/patrols/logs", post(patrols::create_log))
    .add("GET", "/api/patrols/balance", get(patrols::balance))
    .add("GET", "/api/roadmaps", get(roadmaps::list))
    .add("POST", "/api/roadmaps", post(roadmaps::create))
    .add("GET", "/api/roadmaps/progress", get(roadmaps::progress))
    .add("GET", "/api/roadmaps/{id}", get(roadmaps::get))
    .add(
        "POST",
        "/api/roadmaps/{id}/measures",
        post(roadmaps::create_measure),
    )
    .add(
        "PUT",
        "/api/roadmaps/measures/{id}",
        put(roadmaps::edit_measure),
    )
    .add(
        "POST",
        "/api/roadmaps/measures/{id}/status",
        post(roadmaps::set_status),
    )
    .add(
        "POST",
        "/api/roadmaps/measures/{id}/verify",
        post(roadmaps::verify_measure),
    )
    .add(
        "POST",
        "/api/payee-check",
        post(payee::check).layer(DefaultBodyLimit::max(payee::MAX_PAYEE_BODY_BYTES)),
    )
    .add("GET", "/api/bank-keys", get(bank_keys::list))
    .add("POST", "/api/bank-keys", post(bank_keys::create))
    .add(
        "POST",
        "/api/bank-keys/{id}/revoke",
        post(bank_keys::revoke),
    )
    .add_console()
}

impl Routes {
    /// The safety analytics (see [`analysis`]).
    fn add_analytics(self) -> Self {
        use analysis::{crimefree, hotspots, trends};
        self.add("GET", "/api/analytics/crime-free", get(crimefree::json))
            .add("GET", "/api/analytics/crime-free.csv", get(crimefree::csv))
            .add(
                "GET",
                "/api/analytics/crime-free.geojson",
                get(crimefree::geojson),
            )
            .add("GET", "/api/analytics/trends", get(trends::json))
            .add("GET", "/api/analytics/trends.csv", get(trends::csv))
            .add("GET", "/api/analytics/hotspots", get(hotspots::json))
            .add("GET", "/api/analytics/hotspots.csv", get(hotspots::csv))
            .add(
                "GET",
                "/api/analytics/hotspots.geojson",
                get(hotspots::geojson),
            )
    }
}

impl Routes {
    /// The console's pages (see [`console::endpoints`]).
    fn add_console(mut self) -> Self {
        for e in console::endpoints() {
            self = self.add(e.method, e.path, e.router);
        }
        self
    }
}

/// The application: every route, the body limit, metrics and request logs, and JSON 404/405.
pub fn router(state: AppState) -> Router {
    routes()
        .router
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn not_found(
    State(state): State<AppState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> ApiError {
    // Counted under one label: raw unknown paths would make unbounded series.
    state.metrics.record(method.as_str(), "unmatched", 404, 0.0);
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no such endpoint: {}", uri.path()),
        "GET /openapi.json lists every endpoint",
    )
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not take {method}", uri.path()),
        "GET /openapi.json lists each endpoint's methods",
    )
}

async fn healthz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    state.store.audit_head().await?;
    Ok(axum::Json(
        json!({ "status": "ok", "database": state.store.backend().to_string() }),
    ))
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    if let Some(c) = &state.cameras {
        text.push_str(&c.metrics());
    }
    text.push_str(&state.payee.metrics());
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
}

async fn openapi_json() -> impl IntoResponse {
    axum::Json(openapi::document())
}

/// Serves on `listener` until `shutdown` completes (then finishes the requests in flight).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Periodically deletes expired sessions.
pub fn spawn_session_sweeper(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            match store.delete_expired_sessions().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(count = n, "expired sessions deleted"),
                Err(e) => tracing::warn!(error = %e, "could not delete expired sessions"),
            }
        }
    })
}
