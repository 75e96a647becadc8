//! One camera's worker: a thread that runs the camera's pipeline, restarts it with back-off when
//! it fails, and reports health and events.
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use domain::{Camera, CameraId, NewEvent};
use pipeline::{Pipeline, PipelineError, Prefetch};
use serde_json::Value;
use store::Store;
use tokio::runtime::Handle;

use crate::Options;
use crate::engine::{
    DynDetector, DynFaces, Engine, check_parsed, file_path, parse_config, pipeline_camera_id,
};
use crate::health::{Alert, Health};
use crate::source::{Limit, Observed, Paced, Seen};

/// A redacted picture of a camera's view, held in memory only.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub jpeg: Vec<u8>,
    /// The frame's time.
    pub at: domain::Timestamp,
    pub taken: Instant,
}

/// What the supervisor and a camera's worker thread share.
pub(crate) struct Shared {
    pub camera: Mutex<Camera>,
    pub health: Mutex<Health>,
    pub stop: Arc<AtomicBool>,
    pub snap_wanted: Arc<AtomicBool>,
    pub snap: Mutex<Option<Snapshot>>,
    pub snap_ready: Condvar,
}

/// What every worker uses.
pub(crate) struct Ctx {
    pub store: Store,
    pub engine: Arc<dyn Engine>,
    pub opts: Options,
    pub rt: Handle,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn new(camera: Camera, health: Health, snapshot: Option<Snapshot>) -> Shared {
        Shared {
            camera: Mutex::new(camera),
            health: Mutex::new(health),
            stop: Arc::new(AtomicBool::new(false)),
            // A first snapshot as soon as frames flow, so the zone editor has one at once.
            snap_wanted: Arc::new(AtomicBool::new(true)),
            snap: Mutex::new(snapshot),
            snap_ready: Condvar::new(),
        }
    }

    pub fn id(&self) -> CameraId {
        lock(&self.camera).id
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }
}

/// The folder camera `id`'s pipeline writes to: `<data_dir>/evidence/camera-<id>/`, the same
/// as `server::evidence_dir` (kept in step by hand: this crate does not depend on the server).
pub fn evidence_dir(data_dir: &std::path::Path, id: CameraId) -> PathBuf {
    data_dir.join("evidence").join(format!("camera-{}", id.0))
}

/// The health event (`camera_offline` / `camera_online`) an alert records, shaped like the
/// pipeline's own health events.
pub(crate) fn alert_event(
    camera: CameraId,
    alert: &Alert,
    at: domain::Timestamp,
    frames: u64,
) -> NewEvent {
    let (kind, details) = match alert {
        Alert::Offline { reason } => ("camera_offline", serde_json::json!({ "reason": reason })),
        Alert::Online => ("camera_online", serde_json::json!({})),
    };
    NewEvent {
        camera,
        rule: kind.into(),
        at,
        payload: serde_json::json!({
            "rule": kind, "kind": kind, "camera": pipeline_camera_id(camera),
            "time": at.unix_micros(), "frame": frames, "track_ids": [], "boxes": [],
            "details": details, "images": [], "originals": [],
        }),
    }
}

/// Stores an alert's event and the camera's status now. Failures are logged: the alert is also
/// in the worker's health, which the API shows.
pub(crate) async fn record_alert(ctx: &Ctx, shared: &Shared, alert: Alert) {
    let id = shared.id();
    let at = ctx.store.now();
    let (event, status) = {
        let mut h = lock(&shared.health);
        (
            alert_event(id, &alert, at, h.frames),
            h.status(Instant::now(), at),
        )
    };
    match &alert {
        Alert::Offline { reason } => {
            tracing::warn!(target: "posbon::camera", camera = id.0, %reason, "camera offline")
        }
        Alert::Online => {
            tracing::info!(target: "posbon::camera", camera = id.0, "camera back online")
        }
    }
    let stored = ctx.store.insert_event(&event).await;
    {
        let mut h = lock(&shared.health);
        match &stored {
            Ok(_) => h.events_stored += 1,
            Err(e) => {
                h.events_failed += 1;
                tracing::error!(camera = id.0, error = %e, "could not store the camera's health event");
            }
        }
    }
    if let Err(e) = ctx.store.put_camera_status(&status).await {
        tracing::warn!(camera = id.0, error = %e, "could not record the camera's health");
    }
}

/// How one run of the pipeline ended.
enum Ended {
    /// Asked to stop.
    Stopped,
    /// A file camera reached the end of its file.
    FileEnded,
}

enum Failed {
    Offline(String),
    Error(String),
}

/// The worker thread's body: runs the pipeline until asked to stop, restarting it with back-off.
pub(crate) fn run(shared: Arc<Shared>, ctx: Arc<Ctx>) {
    let id = shared.id();
    let mut attempt: u32 = 0;
    loop {
        if shared.stopping() {
            break;
        }
        lock(&shared.health).starting();
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| run_once(&shared, &ctx)));
        if shared.stopping() {
            break;
        }
        let alert = match outcome {
            Ok(Ok(Ended::Stopped)) => break,
            Ok(Ok(Ended::FileEnded)) => {
                tracing::info!(target: "posbon::camera", camera = id.0, "the camera's video file ended; the camera stops (switch it off and on to play it again)");
                let mut h = lock(&shared.health);
                h.stopped();
                h.last_error = None;
                break;
            }
            Ok(Err(Failed::Offline(reason))) => lock(&shared.health).offline(&reason),
            Ok(Err(Failed::Error(reason))) => lock(&shared.health).error(&reason),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown cause".into());
                lock(&shared.health).error(&format!("the camera's worker crashed: {msg}"))
            }
        };
        {
            let h = lock(&shared.health);
            tracing::debug!(camera = id.0, error = ?h.last_error, attempt, "camera pipeline ended; restarting after back-off");
        }
        if let Some(a) = alert {
            ctx.rt.block_on(record_alert(&ctx, &shared, a));
        }
        // A run that went well for a while starts the back-off afresh.
        if started.elapsed() > ctx.opts.restart.max {
            attempt = 0;
        }
        let wait = ctx.opts.restart.delay(attempt);
        attempt = attempt.saturating_add(1);
        lock(&shared.health).restarts += 1;
        let until = Instant::now() + wait;
        while Instant::now() < until {
            if shared.stopping() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    lock(&shared.health).stopped();
}

/// Moves a path relative to one run's folder to one relative to the camera's evidence folder.
fn rebase(v: Option<Value>, run: &str) -> Value {
    match v {
        Some(Value::Array(items)) => Value::Array(
            items
                .into_iter()
                .map(|p| match p {
                    Value::String(s) => Value::String(format!("{run}/{s}")),
                    other => other,
                })
                .collect(),
        ),
        _ => Value::Array(Vec::new()),
    }
}

/// The store's event for one of the pipeline's: the pipeline's JSON, with its redacted images
/// under `images` and sealed originals under `originals`, both relative to the camera's
/// evidence folder.
pub(crate) fn pipeline_event(
    camera: CameraId,
    run: &str,
    ev: &vision::event::Event,
    fallback_at: domain::Timestamp,
) -> NewEvent {
    let mut payload = serde_json::to_value(ev).unwrap_or_else(|_| serde_json::json!({}));
    if let Some(o) = payload.as_object_mut() {
        let images = rebase(o.remove("evidence"), run);
        let originals = rebase(o.remove("originals"), run);
        o.insert("images".into(), images);
        o.insert("originals".into(), originals);
    }
    NewEvent {
        camera,
        rule: ev.rule.clone(),
        at: domain::Timestamp::from_unix_micros(ev.time.0).unwrap_or(fallback_at),
        payload,
    }
}

fn run_once(shared: &Arc<Shared>, ctx: &Arc<Ctx>) -> Result<Ended, Failed> {
    let camera = lock(&shared.camera).clone();
    let id = camera.id;
    let opts = &ctx.opts;
    let cfg = parse_config(&camera.config_toml, id, &opts.data_dir).map_err(Failed::Error)?;
    // What can be found out without opening the camera or loading a network, first.
    check_parsed(ctx.engine.as_ref(), &cfg).map_err(Failed::Error)?;

    let live = media::is_live_uri(&camera.url);
    let target = if live {
        camera.url.clone()
    } else {
        file_path(&camera.url).to_string_lossy().into_owned()
    };
    let open = media::OpenOptions {
        rtsp_backoff: opts.reconnect,
        io_timeout: opts.io_timeout,
        stop: Some(shared.stop.clone()),
        ..Default::default()
    };
    let source = media::open(&target, open).map_err(|e| {
        let msg = format!("cannot open {}: {e}", domain::redact_url(&camera.url));
        if live {
            Failed::Offline(msg)
        } else {
            Failed::Error(msg)
        }
    })?;
    if shared.stopping() {
        return Ok(Ended::Stopped);
    }
    let detector = ctx.engine.detector(&cfg).map_err(Failed::Error)?;
    let faces = ctx.engine.faces().map_err(Failed::Error)?;

    // Each run writes to a folder of its own: frame numbers start again at every run, and
    // evidence named after them must not overwrite an earlier run's.
    let root = evidence_dir(&opts.data_dir, id);
    let run = format!("run-{}", ctx.store.now().unix_micros());
    let out = root.join(&run);
    let mut pipe = Pipeline::new(cfg, DynDetector(detector), DynFaces(faces), &out)
        .map_err(|e| Failed::Error(e.to_string()))?;

    {
        let (shared, ctx, run) = (shared.clone(), ctx.clone(), run.clone());
        pipe.on_event(Box::new(move |ev| {
            // The pipeline's own health events are the observer's to record (once per outage).
            if ev.kind == "camera_offline" || ev.kind == "camera_online" {
                return;
            }
            let ne = pipeline_event(id, &run, ev, ctx.store.now());
            let mut result = Ok(());
            for attempt in 0..3 {
                match ctx.rt.block_on(ctx.store.insert_event(&ne)) {
                    Ok(_) => {
                        result = Ok(());
                        break;
                    }
                    Err(e) => {
                        result = Err(e);
                        if attempt < 2 {
                            std::thread::sleep(Duration::from_millis(500));
                        }
                    }
                }
            }
            let mut h = lock(&shared.health);
            match result {
                Ok(()) => h.events_stored += 1,
                Err(e) => {
                    h.events_failed += 1;
                    h.last_error = Some(format!(
                        "could not store an event (it is kept in {run}/events.jsonl): {e}"
                    ));
                    tracing::error!(camera = id.0, error = %e, "could not store an event");
                }
            }
        }));
    }
    {
        let shared = shared.clone();
        pipe.on_snapshot(
            shared.snap_wanted.clone(),
            Box::new(move |jpeg, at| {
                let at = domain::Timestamp::from_unix_micros(at.0)
                    .unwrap_or(domain::Timestamp::UNIX_EPOCH);
                *lock(&shared.snap) = Some(Snapshot {
                    jpeg,
                    at,
                    taken: Instant::now(),
                });
                shared.snap_ready.notify_all();
            }),
        );
    }

    let mut src: Box<dyn media::FrameSource> = Box::new(Prefetch::new(source, 8));
    if !live && opts.realtime_files {
        src = Box::new(Paced::new(src, shared.stop.clone()));
    }
    if let Some(n) = opts.max_frames {
        src = Box::new(Limit::new(src, n));
    }
    let observer = {
        let (shared, ctx) = (shared.clone(), ctx.clone());
        move |seen: Seen<'_>| {
            let alert = {
                let mut h = lock(&shared.health);
                match seen {
                    Seen::Frame => h.frame(Instant::now(), ctx.store.now()),
                    Seen::Offline(reason) => h.offline(reason),
                }
            };
            if let Some(a) = alert
                && !shared.stopping()
            {
                ctx.rt.block_on(record_alert(&ctx, &shared, a));
            }
        }
    };
    let mut src = Observed::new(src, observer);
    let result = pipe.run(&mut src, &mut |_| {});
    drop(src);
    if shared.stopping() {
        return Ok(Ended::Stopped);
    }
    match result {
        Ok(()) if live => Ok(Ended::Stopped),
        Ok(()) => Ok(Ended::FileEnded),
        Err(e @ PipelineError::Source { .. }) if live => Err(Failed::Offline(e.to_string())),
        Err(e) => Err(Failed::Error(e.to_string())),
    }
}
