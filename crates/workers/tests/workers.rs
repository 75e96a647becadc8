//! The camera workers against a real SQLite store, real models and real footage: vtest.avi's
//! events reach the review queue with redacted evidence, an unreachable camera raises one alert
//! however often it is retried, a camera whose pipeline cannot start raises one too, and
//! switching a camera off stops its worker.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{
    Actor, Camera, CameraState, District, DistrictId, Event, Mahalla, MahallaId, Names, NewCamera,
    Region, RegionId, Scope,
};
use store::Store;
use workers::{OnnxEngine, Options, Supervisor};

const MAHALLA: MahallaId = MahallaId(7);
const DEMO_TOML: &str = include_str!("../../../config/demo-camera.toml");

struct Env {
    store: Store,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("posbon.db").display());
    let store = Store::connect(&url).await.unwrap();
    store
        .import_geography(
            &[Region {
                id: RegionId(1),
                names: Names::uz("region"),
                geometry: None,
            }],
            &[District {
                id: DistrictId(2),
                region: RegionId(1),
                names: Names::uz("district"),
                geometry: None,
            }],
            &[Mahalla {
                id: MAHALLA,
                district: DistrictId(2),
                names: Names::uz("mahalla"),
                population: None,
                geometry: None,
                synthetic: true,
            }],
        )
        .await
        .unwrap();
    let data = dir.path().join("data");
    Env {
        store,
        data,
        _dir: dir,
    }
}

fn vtest() -> PathBuf {
    assets::require("footage/vtest.avi").unwrap_or_else(|e| panic!("{e}"))
}

fn engine(data: &Path) -> Arc<OnnxEngine> {
    Arc::new(OnnxEngine::new(
        data,
        infer::InferConfig::default().with_threads(2),
    ))
}

fn fast_options(data: &Path) -> Options {
    let mut o = Options::new(data);
    o.status_every = Duration::from_millis(300);
    o.restart = media::Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_millis(400),
        factor: 2.0,
    };
    o
}

async fn camera(s: &Store, url: &str, toml: &str) -> Camera {
    s.register_camera(
        &NewCamera {
            name: "test camera".into(),
            url: url.into(),
            mahalla: MAHALLA,
            config_toml: toml.into(),
            position: None,
        },
        &Actor::system("test").unwrap(),
    )
    .await
    .unwrap()
}

/// Polls `f` every 100 ms until it returns `Some`, for at most `secs`.
async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn events(s: &Store) -> Vec<Event> {
    s.list_pending_events(&Scope::National, 500).await.unwrap()
}

fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut d = jpeg_decoder::Decoder::new(&bytes[..]);
    let px = d.decode().unwrap();
    let info = d.info().unwrap();
    (info.width.into(), info.height.into(), px)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vtest_events_reach_the_review_queue_with_redacted_evidence() {
    let env = env().await;
    let cam = camera(
        &env.store,
        &format!("file:{}", vtest().display()),
        DEMO_TOML,
    )
    .await;
    let mut opts = fast_options(&env.data);
    // Debug builds are slow: a short stretch of the file, as fast as it decodes.
    opts.realtime_files = false;
    opts.max_frames = Some(150);
    let sup = Supervisor::new(
        env.store.clone(),
        engine(&env.data),
        opts,
        tokio::runtime::Handle::current(),
    );
    assert_eq!(sup.start_all().await.unwrap(), 1);

    // The run ends at the frame limit and the camera stops; its status says so.
    let status = wait_for(600, "the camera to finish its 150 frames", || async {
        env.store
            .get_camera_status(cam.id)
            .await
            .unwrap()
            .filter(|s| s.state == CameraState::Stopped && s.frames == 150)
    })
    .await;
    assert!(status.last_frame_at.is_some());
    assert_eq!(status.last_error, None);

    let evs = events(&env.store).await;
    assert!(!evs.is_empty(), "no events from 150 frames of vtest.avi");
    let rules: Vec<&str> = [
        "enter-path",
        "walk-west",
        "walk-east",
        "loitering",
        "crowd-on-path",
    ]
    .to_vec();
    let root = workers::evidence_dir(&env.data, cam.id);
    let mut images = 0;
    for e in &evs {
        assert_eq!(e.camera, cam.id);
        assert!(
            rules.contains(&e.rule.as_str()),
            "unexpected rule {}",
            e.rule
        );
        assert_eq!(e.payload["rule"], e.rule.as_str());
        assert_eq!(e.payload["camera"], format!("camera-{}", cam.id.0));
        assert!(
            e.payload.get("evidence").is_none(),
            "images are under `images`"
        );
        assert_eq!(e.payload["originals"], serde_json::json!([]));
        let imgs = e.payload["images"].as_array().unwrap();
        assert!(!imgs.is_empty(), "event {} has no evidence", e.id);
        for p in imgs {
            let rel = p.as_str().unwrap();
            assert!(rel.starts_with("run-") && !rel.contains(".."), "{rel}");
            let path = root.join(rel);
            let (w, h, _) = decode(&path);
            assert!(w > 0 && h > 0);
            images += 1;
        }
    }
    // The pipeline's own log of the run is there too, with the same number of events.
    let runs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let logged = std::fs::read_to_string(runs[0].join("events.jsonl")).unwrap();
    assert_eq!(logged.lines().count(), evs.len());

    // Redacted: CenterFace, enlarging 2x as redaction itself does, finds no face in any stored
    // full frame, nor in the snapshot kept for the zone editor.
    let mut faces =
        infer::FaceDetector::load_default(&infer::InferConfig::default().with_threads(2)).unwrap();
    let mut checked = 0;
    for e in &evs {
        let rel = e.payload["images"][0].as_str().unwrap();
        let (w, h, px) = decode(&root.join(rel));
        let img = vision::frame::ImageRef {
            width: w,
            height: h,
            data: &px,
        };
        let found = faces.detect_faces(img, 2.0).unwrap();
        assert!(found.is_empty(), "a face in {rel}: {found:?}");
        checked += 1;
    }
    assert!(checked > 0 && images >= checked);
    let snap = sup
        .snapshot(cam.id, Duration::from_secs(1))
        .expect("a snapshot of the first frame");
    let (w, h, px) = {
        let mut d = jpeg_decoder::Decoder::new(&snap.jpeg[..]);
        let px = d.decode().unwrap();
        let i = d.info().unwrap();
        (u32::from(i.width), u32::from(i.height), px)
    };
    assert_eq!((w, h), (768, 576));
    let found = faces
        .detect_faces(
            vision::frame::ImageRef {
                width: w,
                height: h,
                data: &px,
            },
            2.0,
        )
        .unwrap();
    assert!(found.is_empty(), "a face in the snapshot: {found:?}");
    // The check can fail: the snapshot is of the first frame, in which, unredacted, CenterFace
    // does find faces.
    let mut src = media::open(&vtest().to_string_lossy(), media::OpenOptions::default()).unwrap();
    let first = loop {
        if let Some(media::SourceItem::Frame(f)) = src.next_item().unwrap() {
            break f;
        }
    };
    assert_eq!(first.index, 0);
    let unredacted = faces.detect_faces(first.image(), 2.0).unwrap();
    assert!(
        !unredacted.is_empty(),
        "no face in vtest.avi's first frame to redact"
    );

    let m = sup.metrics_text();
    assert!(
        m.contains(&format!(
            "posbon_camera_frames_total{{camera=\"{}\"}} 150",
            cam.id.0
        )),
        "{m}"
    );
    assert!(m.contains(&format!(
        "posbon_camera_events_stored_total{{camera=\"{}\"}} {}",
        cam.id.0,
        evs.len()
    )));
    sup.shutdown().await;
}

/// A loopback port with nothing listening on it.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_camera_is_offline_with_one_alert_and_stops_when_disabled() {
    let env = env().await;
    let port = dead_port();
    let url = format!("rtsp://viewer:s3cret@127.0.0.1:{port}/cam");
    let cam = camera(&env.store, &url, "").await;
    let sup = Supervisor::new(
        env.store.clone(),
        engine(&env.data),
        fast_options(&env.data),
        tokio::runtime::Handle::current(),
    );
    sup.start_all().await.unwrap();

    let status = wait_for(30, "the camera to be recorded offline", || async {
        env.store
            .get_camera_status(cam.id)
            .await
            .unwrap()
            .filter(|s| s.state == CameraState::Offline)
    })
    .await;
    let err = status.last_error.expect("the reason is kept");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.contains("s3cret"), "the password leaked: {err}");

    // Let it retry a few times (back-off 100 ms .. 400 ms).
    wait_for(30, "several retries", || async {
        let m = sup.metrics_text();
        let line = m
            .lines()
            .find(|l| l.starts_with("posbon_camera_restarts_total"))
            .unwrap()
            .to_owned();
        let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        (n >= 4.0).then_some(())
    })
    .await;
    let evs = events(&env.store).await;
    let offline: Vec<&Event> = evs.iter().filter(|e| e.rule == "camera_offline").collect();
    assert_eq!(
        offline.len(),
        1,
        "one alert per outage, not per retry: {evs:#?}"
    );
    assert_eq!(evs.len(), 1);
    let reason = offline[0].payload["details"]["reason"].as_str().unwrap();
    assert!(reason.contains(&format!("127.0.0.1:{port}")) && !reason.contains("s3cret"));
    assert_eq!(offline[0].payload["kind"], "camera_offline");
    let h = sup.health();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].state, CameraState::Offline);
    assert!(sup.metrics_text().contains(&format!(
        "posbon_camera_offline_alerts_total{{camera=\"{}\"}} 1",
        cam.id.0
    )));
    assert!(sup.snapshot(cam.id, Duration::from_millis(200)).is_none());

    // Switched off: the worker stops, the status says so, and no alert follows.
    let off = env
        .store
        .set_camera_enabled(cam.id, false, &Actor::system("test").unwrap())
        .await
        .unwrap();
    sup.apply(&off);
    wait_for(10, "the stopped status", || async {
        env.store
            .get_camera_status(cam.id)
            .await
            .unwrap()
            .filter(|s| s.state == CameraState::Stopped)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(events(&env.store).await.len(), 1);
    assert_eq!(sup.health()[0].state, CameraState::Stopped);
    sup.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_that_cannot_start_raises_one_alert_and_an_edit_recovers_it() {
    let env = env().await;
    // Valid TOML, but a class the model does not know: only building the pipeline finds out
    // (registration would have refused it; this one was stored by another path).
    let bad = "[detector]\nclasses = [\"unicorn\"]\n";
    let cam = camera(&env.store, &format!("file:{}", vtest().display()), bad).await;
    let mut opts = fast_options(&env.data);
    opts.realtime_files = false;
    opts.max_frames = Some(5);
    let eng = engine(&env.data);
    let sup = Supervisor::new(
        env.store.clone(),
        eng.clone(),
        opts,
        tokio::runtime::Handle::current(),
    );
    assert!(sup.validate_config(bad).unwrap_err().contains("unicorn"));
    sup.start_all().await.unwrap();
    let status = wait_for(60, "the error state", || async {
        env.store
            .get_camera_status(cam.id)
            .await
            .unwrap()
            .filter(|s| s.state == CameraState::Error)
    })
    .await;
    assert!(status.last_error.unwrap().contains("unicorn"));
    let alerts = wait_for(30, "the alert", || async {
        let evs = events(&env.store).await;
        (!evs.is_empty()).then_some(evs)
    })
    .await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule, "camera_offline");

    // Fixing the configuration restarts the worker; its first frame records camera_online.
    let fixed = env
        .store
        .update_camera(
            cam.id,
            &domain::CameraUpdate {
                config_toml: Some("[detector]\nclasses = [\"person\"]\n".into()),
                ..Default::default()
            },
            &Actor::system("test").unwrap(),
        )
        .await
        .unwrap();
    sup.apply(&fixed);
    let evs = wait_for(120, "camera_online", || async {
        let evs = events(&env.store).await;
        evs.iter().any(|e| e.rule == "camera_online").then_some(evs)
    })
    .await;
    let rules: Vec<&str> = evs.iter().map(|e| e.rule.as_str()).collect();
    assert_eq!(rules, ["camera_offline", "camera_online"]);
    wait_for(60, "the file run to finish", || async {
        env.store
            .get_camera_status(cam.id)
            .await
            .unwrap()
            .filter(|s| s.state == CameraState::Stopped && s.frames == 5)
    })
    .await;
    sup.shutdown().await;
}

#[test]
fn configurations_are_checked_with_lines_named() {
    let dir = tempfile::tempdir().unwrap();
    let eng = OnnxEngine::new(dir.path(), infer::InferConfig::default());
    // The demo camera's TOML is valid, with or without [camera] (whose id is replaced).
    let cfg = workers::check_config(&eng, DEMO_TOML, dir.path()).unwrap();
    assert_eq!(cfg.camera.id, "camera-0");
    let no_camera: String = DEMO_TOML
        .lines()
        .filter(|l| {
            !(l.starts_with("[camera]")
                || l.starts_with("id = ")
                || l.starts_with("name = \"Pedestrian"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!no_camera.contains("[camera]"));
    assert_ne!(no_camera, DEMO_TOML);
    workers::check_config(&eng, &no_camera, dir.path()).unwrap();
    assert_eq!(
        workers::parse_config(&no_camera, domain::CameraId(9), dir.path())
            .unwrap()
            .camera
            .id,
        "camera-9"
    );
    // Syntax: the line is named.
    let e = workers::check_config(&eng, "[detector]\nmin_confidence = = 0.3\n", dir.path())
        .unwrap_err();
    assert!(e.contains("line 2"), "{e}");
    // An unknown field, an unknown zone in a rule, an unknown model: named.
    let e = workers::check_config(&eng, "[detector]\nspeed = 3\n", dir.path()).unwrap_err();
    assert!(e.contains("speed") && e.contains("line 2"), "{e}");
    let e = workers::check_config(
        &eng,
        "[[rules]]\nname = \"r\"\nkind = \"zone_enter\"\nzone = \"nowhere\"\n",
        dir.path(),
    )
    .unwrap_err();
    assert!(e.contains("nowhere"), "{e}");
    let e = workers::check_config(&eng, "[detector]\nmodel = \"no-such-model\"\n", dir.path())
        .unwrap_err();
    assert!(e.contains("no-such-model"), "{e}");
    let e = workers::check_config(
        &eng,
        "[evidence]\noriginal_key = \"keys/missing.key\"\n",
        dir.path(),
    )
    .unwrap_err();
    assert!(e.contains("original_key"), "{e}");
    // URLs.
    workers::check_url("rtsp://u:p@10.0.0.5/stream").unwrap();
    workers::check_url(&format!("file:{}", vtest().display())).unwrap();
    assert!(
        workers::check_url("file:/no/such/video.avi")
            .unwrap_err()
            .contains("/no/such/video.avi")
    );
    assert!(
        workers::check_url("http://u:pw@cam/x.mjpg")
            .unwrap_err()
            .contains("u:***@")
    );
}
