//! The camera endpoints with the real camera workers plugged in (as `posbon serve` does), on
//! SQLite and PostgreSQL: registration with its checks (a bad TOML answers 400 naming the line),
//! scope (another district's operator gets 404), roles, edits, switching off, the redacted
//! snapshot, events reaching the review queue, health, metrics and the audit log.
#[path = "../../server/tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Client, TestDb, TestServer};
use domain::{Camera, CameraId, CameraStatus, Role, Scope};
use serde_json::{Value, json};
use server::cameras::{CameraControl, Snapshot};
use server::demo::{DISTRICT, MAHALLA_A, MAHALLA_B};

const PASSWORD: &str = "correct horse battery staple";
const DEMO_TOML: &str = include_str!("../../../config/demo-camera.toml");

on_both_databases!(cameras_over_http);

/// The supervisor as the server's control, as the binary plugs it in (crates/cli/src/cameras.rs).
struct Workers(workers::Supervisor);

impl CameraControl for Workers {
    fn validate_config(&self, toml: &str) -> Result<(), String> {
        self.0.validate_config(toml)
    }
    fn validate_url(&self, url: &str) -> Result<(), String> {
        self.0.validate_url(url)
    }
    fn apply(&self, camera: &Camera) {
        self.0.apply(camera)
    }
    fn remove(&self, id: CameraId) {
        self.0.remove(id)
    }
    fn health(&self) -> Vec<CameraStatus> {
        self.0.health()
    }
    fn snapshot(&self, id: CameraId, wait: Duration) -> Option<Snapshot> {
        self.0.snapshot(id, wait).map(|s| Snapshot {
            jpeg: s.jpeg,
            at: s.at,
        })
    }
    fn metrics(&self) -> String {
        self.0.metrics_text()
    }
}

async fn client(server: &TestServer, username: &str) -> Client {
    let mut c = server.client();
    c.login(username, PASSWORD).await.expect(200);
    c
}

async fn wait_for(secs: u64, what: &str, mut f: impl AsyncFnMut() -> Option<Value>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn cameras_over_http(db: &TestDb) {
    server::demo::seed_geography(&db.store).await.unwrap();
    common::create_users(
        &db.store,
        PASSWORD,
        &[
            ("admin", Role::Admin, Scope::National),
            ("operator_a", Role::Operator, Scope::Mahalla(MAHALLA_A)),
            ("operator_b", Role::Operator, Scope::Mahalla(MAHALLA_B)),
            ("analyst", Role::Analyst, Scope::District(DISTRICT)),
            ("inspector_a", Role::Inspector, Scope::Mahalla(MAHALLA_A)),
        ],
    )
    .await;
    let data = tempfile::tempdir().unwrap();
    let mut opts = workers::Options::new(data.path());
    opts.status_every = Duration::from_millis(300);
    opts.realtime_files = false;
    opts.max_frames = Some(60);
    let sup = workers::Supervisor::new(
        db.store.clone(),
        Arc::new(workers::OnnxEngine::new(
            data.path(),
            infer::InferConfig::default().with_threads(2),
        )),
        opts,
        tokio::runtime::Handle::current(),
    );
    let config = server::Config {
        data_dir: data.path().to_path_buf(),
        ..server::Config::default()
    };
    let state = server::AppState::new(db.store.clone(), &config)
        .unwrap()
        .with_cameras(Arc::new(Workers(sup.clone())));
    let server = TestServer::start_with(state).await;
    let op = client(&server, "operator_a").await;
    let video = assets::require("footage/vtest.avi").unwrap();
    let url = format!("file:{}", video.display());
    let body = |toml: &str| {
        json!({
            "name": "square", "url": url, "mahalla": MAHALLA_A.0, "config_toml": toml,
            "position": { "lon": 69.2405, "lat": 41.3102 },
        })
    };

    // Refused registrations write nothing.
    let e = op
        .post(
            "/api/cameras",
            &body("[detector]\nmin_confidence = = 0.3\n"),
        )
        .await
        .expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("line 2"), "{e}");
    let e = op
        .post(
            "/api/cameras",
            &body("[detector]\nclasses = [\"unicorn\"]\n"),
        )
        .await
        .expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("unicorn"), "{e}");
    let mut nofile = body(DEMO_TOML);
    nofile["url"] = json!("file:/no/such/video.avi");
    let e = op.post("/api/cameras", &nofile).await.expect_error(400);
    assert!(
        e["error"].as_str().unwrap().contains("/no/such/video.avi"),
        "{e}"
    );
    let mut elsewhere = body(DEMO_TOML);
    elsewhere["mahalla"] = json!(MAHALLA_B.0);
    op.post("/api/cameras", &elsewhere).await.expect_error(403);
    let mut unknown = body(DEMO_TOML);
    unknown["colour"] = json!("red");
    op.post("/api/cameras", &unknown).await.expect_error(400);
    client(&server, "analyst")
        .await
        .post("/api/cameras", &body(DEMO_TOML))
        .await
        .expect_error(403);
    let mut no_csrf = client(&server, "operator_a").await;
    no_csrf.csrf = None;
    no_csrf
        .post("/api/cameras", &body(DEMO_TOML))
        .await
        .expect_error(403);
    assert!(
        db.store
            .list_cameras(&Scope::National)
            .await
            .unwrap()
            .is_empty()
    );

    // Registered: it starts at once.
    let cam = op
        .post("/api/cameras", &body(DEMO_TOML))
        .await
        .expect(201)
        .json();
    let id = cam["id"].as_i64().unwrap();
    assert_eq!(cam["enabled"], true);
    assert_eq!(cam["mahalla"], MAHALLA_A.0);
    assert_eq!(cam["position"], json!({ "lon": 69.2405, "lat": 41.3102 }));
    assert_eq!(cam["config_toml"], DEMO_TOML);

    // Health: the 60-frame run finishes and the camera stops at the end of its (shortened) file.
    let one = wait_for(600, "the camera's run to finish", async || {
        let v = op
            .get(&format!("/api/cameras/{id}"))
            .await
            .expect(200)
            .json();
        (v["health"]["state"] == "stopped" && v["health"]["frames"] == 60).then_some(v)
    })
    .await;
    assert!(one["health"]["last_frame_at"].is_string());
    assert!(one["health"]["last_error"].is_null());
    let list = op.get("/api/cameras").await.expect(200).json();
    assert_eq!(list["cameras"].as_array().unwrap().len(), 1);
    assert_eq!(list["cameras"][0]["health"]["frames"], 60);

    // Its events wait in the review queue, with images under the camera's evidence folder.
    let pending = op.get("/api/events/pending").await.expect(200).json();
    let evs = pending["events"].as_array().unwrap();
    assert!(!evs.is_empty(), "no events from 60 frames of vtest.avi");
    let root = server::evidence_dir(data.path(), CameraId(id));
    for e in evs {
        assert_eq!(e["camera"], id);
        for p in e["payload"]["images"].as_array().unwrap() {
            assert!(root.join(p.as_str().unwrap()).is_file(), "{p}");
        }
    }

    // Another mahalla's operator cannot tell it exists; roles come first.
    let b = client(&server, "operator_b").await;
    let e = b.get(&format!("/api/cameras/{id}")).await.expect_error(404);
    let m = b.get("/api/cameras/999999").await.expect_error(404);
    assert_eq!(e["fix"], m["fix"]);
    assert!(
        b.get("/api/cameras").await.expect(200).json()["cameras"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    b.get(&format!("/api/cameras/{id}/snapshot.jpg"))
        .await
        .expect_error(404);
    b.put(&format!("/api/cameras/{id}"), &json!({ "name": "mine" }))
        .await
        .expect_error(404);
    b.post(
        &format!("/api/cameras/{id}/enabled"),
        &json!({ "enabled": false }),
    )
    .await
    .expect_error(404);
    let inspector = client(&server, "inspector_a").await;
    inspector.get("/api/cameras").await.expect(200);
    inspector
        .get(&format!("/api/cameras/{id}/snapshot.jpg"))
        .await
        .expect_error(403);

    // The snapshot: a redacted JPEG of the view, not cached by the browser, audited.
    let snap = op
        .get(&format!("/api/cameras/{id}/snapshot.jpg"))
        .await
        .expect(200);
    assert_eq!(snap.header("content-type"), Some("image/jpeg"));
    assert_eq!(snap.header("cache-control"), Some("no-store"));
    assert!(snap.header("x-frame-time").is_some());
    let mut d = jpeg_decoder::Decoder::new(&snap.body[..]);
    let px = d.decode().unwrap();
    let info = d.info().unwrap();
    assert_eq!((info.width, info.height), (768, 576));
    let mut faces =
        infer::FaceDetector::load_default(&infer::InferConfig::default().with_threads(2)).unwrap();
    let found = faces
        .detect_faces(
            vision::frame::ImageRef {
                width: 768,
                height: 576,
                data: &px,
            },
            2.0,
        )
        .unwrap();
    assert!(found.is_empty(), "a face in the snapshot: {found:?}");

    // Edits: a bad TOML changes nothing; a good edit does; the mahalla must stay in scope.
    let e = op
        .put(
            &format!("/api/cameras/{id}"),
            &json!({ "name": "north square", "config_toml": "[[rules]]\nname = 3\n" }),
        )
        .await
        .expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("line 2"), "{e}");
    assert_eq!(
        db.store
            .get_camera(CameraId(id))
            .await
            .unwrap()
            .unwrap()
            .name,
        "square"
    );
    op.put(
        &format!("/api/cameras/{id}"),
        &json!({ "mahalla": MAHALLA_B.0 }),
    )
    .await
    .expect_error(403);
    let edited = op
        .put(
            &format!("/api/cameras/{id}"),
            &json!({ "name": "north square", "position": null, "url": url }),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(edited["name"], "north square");
    assert!(edited["position"].is_null());
    // Renaming does not replay the file that already ended.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(edited["health"]["state"], "stopped");
    let again = op
        .get(&format!("/api/cameras/{id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(
        (&again["health"]["state"], &again["health"]["frames"]),
        (&json!("stopped"), &json!(60))
    );

    // A URL with a password is shown without it; sent back as shown, the stored one stays.
    let rtsp = "rtsp://viewer:s3cret@127.0.0.1:9/cam";
    let shown = op
        .put(&format!("/api/cameras/{id}"), &json!({ "url": rtsp }))
        .await
        .expect(200)
        .json();
    assert_eq!(shown["url"], "rtsp://viewer:***@127.0.0.1:9/cam");
    op.put(
        &format!("/api/cameras/{id}"),
        &json!({ "url": "rtsp://viewer:***@127.0.0.1:9/cam", "name": "renamed" }),
    )
    .await
    .expect(200);
    assert_eq!(
        db.store
            .get_camera(CameraId(id))
            .await
            .unwrap()
            .unwrap()
            .url,
        rtsp
    );
    op.put(
        &format!("/api/cameras/{id}"),
        &json!({ "url": "rtsp://other:***@127.0.0.1:9/cam" }),
    )
    .await
    .expect_error(400);
    // Nothing listens on port 9: the camera goes offline, with one alert.
    wait_for(60, "the camera offline", async || {
        let v = op
            .get(&format!("/api/cameras/{id}"))
            .await
            .expect(200)
            .json();
        (v["health"]["state"] == "offline").then_some(v)
    })
    .await;
    wait_for(
        30,
        "the camera_offline alert in the review queue",
        async || {
            let v = op
                .get("/api/events/pending?limit=500")
                .await
                .expect(200)
                .json();
            v["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["rule"] == "camera_offline")
                .then_some(v)
        },
    )
    .await;

    // Switched off: stopped, and the list says so.
    let off = op
        .post(
            &format!("/api/cameras/{id}/enabled"),
            &json!({ "enabled": false }),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(off["enabled"], false);
    wait_for(30, "the stopped state", async || {
        let v = op.get("/api/cameras").await.expect(200).json();
        (v["cameras"][0]["health"]["state"] == "stopped").then_some(v)
    })
    .await;
    let offline: Vec<Value> = op
        .get("/api/events/pending?limit=500")
        .await
        .expect(200)
        .json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["rule"] == "camera_offline")
        .cloned()
        .collect();
    assert_eq!(offline.len(), 1, "{offline:?}");
    assert!(!offline[0].to_string().contains("s3cret"));

    // Metrics and the audit log.
    let metrics = server.client().get("/metrics").await.expect(200).text();
    assert!(
        metrics.contains(&format!("posbon_camera_frames_total{{camera=\"{id}\"}}")),
        "{metrics}"
    );
    db.store.audit_verify(None).await.unwrap();
    let log = db.store.audit_entries(None, 10_000).await.unwrap();
    let count = |a: &str| log.iter().filter(|r| r.entry.action == a).count();
    assert_eq!(count("camera.create"), 1);
    assert_eq!(count("camera.update"), 3);
    assert_eq!(count("camera.disable"), 1);
    assert_eq!(count("camera.snapshot"), 1);
    assert!(!format!("{log:?}").contains("s3cret"));
    sup.shutdown().await;
}
