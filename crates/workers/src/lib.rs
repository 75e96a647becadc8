//! Camera workers: the server runs the video pipeline of every enabled camera in-process, one OS
//! thread per camera (the pipeline is synchronous), supervised here.
//!
//! - Each pipeline event goes into the store as a [`domain::NewEvent`] (payload: the pipeline's
//!   event JSON with `images` and `originals` relative to the camera's evidence folder), so it
//!   waits in the review queue; evidence is written under `<data_dir>/evidence/camera-<id>/`.
//! - Health (state, frames per second, frames, last frame, last error) is kept in memory and
//!   written to `camera_status` every few seconds and at every alert.
//! - A camera that cannot be reached, drops, stops delivering frames or whose pipeline fails
//!   raises one `camera_offline` event into the review queue per outage, and `camera_online`
//!   when frames come back.
//! - A failed pipeline is restarted with exponential back-off; editing or disabling a camera
//!   stops its worker and starts a new one with the new settings.
//! - File cameras play at the file's own rate (like a live camera) and stop at its end.
//!
//! See docs/design/010-cameras-and-workers.md.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod engine;
mod health;
pub mod photo;
mod source;
mod worker;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use domain::{Camera, CameraId, CameraState, CameraStatus};
use store::Store;
use tokio::runtime::Handle;

pub use engine::{
    Engine, OnnxEngine, check_config, check_url, default_models_dir, parse_config,
    pipeline_camera_id,
};
pub use health::{Alert, Health};
pub use worker::{Snapshot, evidence_dir};

use worker::{Ctx, Shared, lock};

/// How the supervisor runs its workers.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server's data folder: evidence goes to `evidence/camera-<id>/` under it, and relative
    /// paths in cameras' configurations are taken from it.
    pub data_dir: PathBuf,
    /// How often every camera's health is written to the store.
    pub status_every: Duration,
    /// An online camera that delivers no frame for this long is declared offline (live streams
    /// usually report a drop sooner: `io_timeout`).
    pub stall_after: Duration,
    /// Play video files at their own frame rate (as a live camera would deliver them).
    pub realtime_files: bool,
    /// Stop each run after this many frames (tests, benchmarks).
    pub max_frames: Option<u64>,
    /// Waits between restarts of a failed pipeline (or an unreachable camera).
    pub restart: media::Backoff,
    /// Waits between reconnection attempts of a live stream that dropped.
    pub reconnect: media::Backoff,
    /// A live stream silent for this long has dropped.
    pub io_timeout: Duration,
    /// A snapshot younger than this is served without asking the pipeline for a new one.
    pub snapshot_max_age: Duration,
}

impl Options {
    pub fn new(data_dir: impl Into<PathBuf>) -> Options {
        Options {
            data_dir: data_dir.into(),
            status_every: Duration::from_secs(5),
            stall_after: Duration::from_secs(30),
            realtime_files: true,
            max_frames: None,
            restart: media::Backoff {
                initial: Duration::from_secs(1),
                max: Duration::from_secs(60),
                factor: 2.0,
            },
            reconnect: media::Backoff::default(),
            io_timeout: Duration::from_secs(5),
            snapshot_max_age: Duration::from_secs(2),
        }
    }
}

struct Worker {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    fn running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

struct Inner {
    ctx: Arc<Ctx>,
    workers: Mutex<BTreeMap<CameraId, Worker>>,
    /// Threads of workers that were replaced or stopped, joined at shutdown.
    retired: Mutex<Vec<std::thread::JoinHandle<()>>>,
    monitor: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// Runs one pipeline per enabled camera. Cheap to clone; clones share the workers.
#[derive(Clone)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

impl Supervisor {
    /// A supervisor with no cameras yet; its health task runs on `rt`. Call
    /// [`Supervisor::start_all`] to start the enabled cameras.
    pub fn new(store: Store, engine: Arc<dyn Engine>, opts: Options, rt: Handle) -> Supervisor {
        let inner = Arc::new(Inner {
            ctx: Arc::new(Ctx {
                store,
                engine,
                opts,
                rt: rt.clone(),
            }),
            workers: Mutex::default(),
            retired: Mutex::default(),
            monitor: Mutex::default(),
        });
        let weak = Arc::downgrade(&inner);
        let every = inner.ctx.opts.status_every;
        let task = rt.spawn(monitor(weak, every));
        *lock(&inner.monitor) = Some(task);
        Supervisor { inner }
    }

    /// Starts a worker for every enabled camera in the store; returns how many.
    pub async fn start_all(&self) -> store::Result<usize> {
        let cameras = self.inner.ctx.store.list_enabled_cameras().await?;
        for c in &cameras {
            self.apply(c);
        }
        Ok(cameras.len())
    }

    /// Checks a camera configuration (TOML) as registration does: syntax (with line and
    /// column), sections, the model it names, its classes and rules.
    pub fn validate_config(&self, toml: &str) -> Result<(), String> {
        check_config(
            self.inner.ctx.engine.as_ref(),
            toml,
            &self.inner.ctx.opts.data_dir,
        )
        .map(|_| ())
    }

    /// Checks a camera's URL (a live scheme, or a video file that exists).
    pub fn validate_url(&self, url: &str) -> Result<(), String> {
        check_url(url)
    }

    /// Brings camera `camera`'s worker in line with its record: starts it when it is switched
    /// on (or first seen enabled), restarts it when its URL or configuration changed, stops it
    /// when switched off; a change of name, mahalla or position only updates the record.
    pub fn apply(&self, camera: &Camera) {
        let mut workers = lock(&self.inner.workers);
        let mut carried: Option<(Health, Option<Snapshot>)> = None;
        if let Some(w) = workers.get_mut(&camera.id) {
            // Nothing the pipeline depends on changed: keep the worker as it is (running, or a
            // file camera that reached its end, which plays again only when switched off and on).
            let unchanged = {
                let cur = lock(&w.shared.camera);
                cur.url == camera.url
                    && cur.config_toml == camera.config_toml
                    && cur.enabled == camera.enabled
            };
            if camera.enabled && unchanged {
                *lock(&w.shared.camera) = camera.clone();
                return;
            }
            self.retire(w);
            let old = lock(&w.shared.health);
            let mut h = Health::new(camera.id);
            h.frames = old.frames;
            h.last_frame_at = old.last_frame_at;
            h.last_error = old.last_error.clone();
            h.offline_alerts = old.offline_alerts;
            h.events_stored = old.events_stored;
            h.events_failed = old.events_failed;
            h.restarts = old.restarts;
            // An outage alerted before the edit ends with the new worker's first frame.
            h.alerted = old.alerted;
            if old.alerted {
                h.state = old.state;
            }
            carried = Some((h, lock(&w.shared.snap).clone()));
        }
        let (mut health, snapshot) = carried.unwrap_or_else(|| (Health::new(camera.id), None));
        let shared = if camera.enabled {
            Arc::new(Shared::new(camera.clone(), health, snapshot))
        } else {
            health.stopped();
            Arc::new(Shared::new(camera.clone(), health, snapshot))
        };
        let thread = if camera.enabled {
            let (s, ctx) = (shared.clone(), self.inner.ctx.clone());
            match std::thread::Builder::new()
                .name(format!("camera-{}", camera.id.0))
                .spawn(move || worker::run(s, ctx))
            {
                Ok(t) => Some(t),
                Err(e) => {
                    lock(&shared.health).error(&format!("cannot start the camera's thread: {e}"));
                    None
                }
            }
        } else {
            None
        };
        if !camera.enabled {
            self.persist_soon(&shared);
        }
        workers.insert(camera.id, Worker { shared, thread });
    }

    /// Stops camera `id`'s worker and forgets it.
    pub fn remove(&self, id: CameraId) {
        if let Some(mut w) = lock(&self.inner.workers).remove(&id) {
            self.retire(&mut w);
        }
    }

    fn retire(&self, w: &mut Worker) {
        w.shared.stop.store(true, Ordering::Release);
        if let Some(t) = w.thread.take() {
            let mut retired = lock(&self.inner.retired);
            retired.retain(|t| !t.is_finished());
            retired.push(t);
        }
    }

    /// Writes a camera's status to the store soon (from the runtime).
    fn persist_soon(&self, shared: &Arc<Shared>) {
        let (s, ctx) = (shared.clone(), self.inner.ctx.clone());
        self.inner.ctx.rt.spawn(async move {
            let status = lock(&s.health).status(Instant::now(), ctx.store.now());
            if let Err(e) = ctx.store.put_camera_status(&status).await {
                tracing::warn!(camera = status.camera.0, error = %e, "could not record the camera's health");
            }
        });
    }

    /// Every known camera's health now.
    pub fn health(&self) -> Vec<CameraStatus> {
        let now = Instant::now();
        let at = self.inner.ctx.store.now();
        lock(&self.inner.workers)
            .values()
            .map(|w| lock(&w.shared.health).status(now, at))
            .collect()
    }

    /// A redacted picture of camera `id`'s current view: a recent one if there is one, else
    /// the pipeline is asked for one and waited for up to `wait`; failing that, the last one
    /// taken (`None` if the camera never delivered a frame in this server's life).
    pub fn snapshot(&self, id: CameraId, wait: Duration) -> Option<Snapshot> {
        let (shared, running) = {
            let workers = lock(&self.inner.workers);
            let w = workers.get(&id)?;
            (w.shared.clone(), w.running())
        };
        let max_age = self.inner.ctx.opts.snapshot_max_age;
        let asked = Instant::now();
        {
            let snap = lock(&shared.snap);
            if let Some(s) = snap.as_ref()
                && (s.taken.elapsed() <= max_age || !running)
            {
                return Some(s.clone());
            }
        }
        if !running {
            return None;
        }
        shared.snap_wanted.store(true, Ordering::Release);
        let mut snap = lock(&shared.snap);
        let deadline = asked + wait;
        loop {
            if snap.as_ref().is_some_and(|s| s.taken >= asked) {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            snap = shared
                .snap_ready
                .wait_timeout(snap, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        snap.clone()
    }

    /// Prometheus text for every camera: up, frames per second, frames, offline alerts, events
    /// stored and failed, restarts.
    pub fn metrics_text(&self) -> String {
        let now = Instant::now();
        let workers = lock(&self.inner.workers);
        let mut rows = Vec::new();
        for (id, w) in workers.iter() {
            let mut h = lock(&w.shared.health);
            rows.push((
                id.0,
                h.state,
                h.fps(now),
                h.frames,
                h.offline_alerts,
                h.events_stored,
                h.events_failed,
                h.restarts,
            ));
        }
        drop(workers);
        let mut out = String::new();
        let series: [(&str, &str, &str); 7] = [
            (
                "posbon_camera_up",
                "gauge",
                "1 while the camera delivers frames, else 0.",
            ),
            (
                "posbon_camera_fps",
                "gauge",
                "Frames analysed per second over the last few seconds.",
            ),
            ("posbon_camera_frames_total", "counter", "Frames analysed."),
            (
                "posbon_camera_offline_alerts_total",
                "counter",
                "Outages alerted (camera_offline events).",
            ),
            (
                "posbon_camera_events_stored_total",
                "counter",
                "Events put into the review queue.",
            ),
            (
                "posbon_camera_events_failed_total",
                "counter",
                "Events that could not be stored (kept in events.jsonl).",
            ),
            (
                "posbon_camera_restarts_total",
                "counter",
                "Restarts of the camera's pipeline after a failure.",
            ),
        ];
        for (k, (name, kind, help)) in series.iter().enumerate() {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for r in &rows {
                let v = match k {
                    0 => f64::from(u8::from(r.1 == CameraState::Online)),
                    1 => r.2,
                    2 => r.3 as f64,
                    3 => r.4 as f64,
                    4 => r.5 as f64,
                    5 => r.6 as f64,
                    _ => r.7 as f64,
                };
                let _ = writeln!(out, "{name}{{camera=\"{}\"}} {v}", r.0);
            }
        }
        out
    }

    /// Stops every worker, waits for them, and records their final status.
    pub async fn shutdown(&self) {
        if let Some(t) = lock(&self.inner.monitor).take() {
            t.abort();
        }
        let mut threads = Vec::new();
        let mut shared = Vec::new();
        {
            let mut workers = lock(&self.inner.workers);
            for w in workers.values_mut() {
                w.shared.stop.store(true, Ordering::Release);
                threads.extend(w.thread.take());
                shared.push(w.shared.clone());
            }
        }
        threads.append(&mut lock(&self.inner.retired));
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
        let store = &self.inner.ctx.store;
        for s in shared {
            let status = {
                let mut h = lock(&s.health);
                h.stopped();
                h.status(Instant::now(), store.now())
            };
            if let Err(e) = store.put_camera_status(&status).await {
                tracing::warn!(camera = status.camera.0, error = %e, "could not record the camera's final health");
            }
        }
    }
}

/// Every `every`: write each camera's health to the store, and declare offline an online camera
/// that has been silent for longer than `stall_after`.
async fn monitor(inner: Weak<Inner>, every: Duration) {
    let mut tick = tokio::time::interval(every.min(Duration::from_secs(1)));
    let mut last_persist = Instant::now();
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let ctx = inner.ctx.clone();
        let shared: Vec<Arc<Shared>> = lock(&inner.workers)
            .values()
            .map(|w| w.shared.clone())
            .collect();
        drop(inner);
        let now = Instant::now();
        for s in &shared {
            let alert = {
                let mut h = lock(&s.health);
                match h.silent_for(now) {
                    Some(d) if d > ctx.opts.stall_after => h.offline(&format!(
                        "no frame for {:.0} s (the camera's stream stalled)",
                        d.as_secs_f64()
                    )),
                    _ => None,
                }
            };
            if let Some(a) = alert
                && !s.stopping()
            {
                worker::record_alert(&ctx, s, a).await;
            }
        }
        if last_persist.elapsed() >= every {
            last_persist = Instant::now();
            for s in &shared {
                let status = lock(&s.health).status(Instant::now(), ctx.store.now());
                if let Err(e) = ctx.store.put_camera_status(&status).await {
                    tracing::warn!(camera = status.camera.0, error = %e, "could not record the camera's health");
                }
            }
        }
    }
}
