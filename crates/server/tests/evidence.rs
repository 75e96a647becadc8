//! `GET /api/events/{id}/evidence/{n}` over HTTP, on SQLite and PostgreSQL: who may see a
//! redacted image and when, that each view is audited, and that nothing but a redacted image
//! inside the camera's evidence folder is ever served.
mod common;
mod scene;

use common::{Client, TestDb, TestServer};
use domain::{CameraId, EventId, GeoPoint, NewCamera, NewEvent, Role, Scope};
use serde_json::{Value, json};
use server::demo::{DISTRICT, MAHALLA_A, MAHALLA_B, REGION};

const PASSWORD: &str = "correct horse battery staple";

struct Fixture {
    server: TestServer,
    _data: tempfile::TempDir,
    camera: CameraId,
    event: EventId,
    /// An event whose payload is the pipeline's own `vision::Event` shape (`evidence`).
    pipeline_event: EventId,
    jpeg: Vec<u8>,
}

async fn setup(db: &TestDb) -> Fixture {
    server::demo::seed_geography(&db.store).await.unwrap();
    common::create_users(
        &db.store,
        PASSWORD,
        &[
            ("admin", Role::Admin, Scope::National),
            ("operator", Role::Operator, Scope::District(DISTRICT)),
            ("operator_b", Role::Operator, Scope::Mahalla(MAHALLA_B)),
            ("inspector_a", Role::Inspector, Scope::Mahalla(MAHALLA_A)),
            ("inspector_b", Role::Inspector, Scope::Mahalla(MAHALLA_B)),
            ("analyst", Role::Analyst, Scope::Region(REGION)),
            ("auditor", Role::Auditor, Scope::National),
        ],
    )
    .await;
    let cam = db
        .store
        .create_camera(&NewCamera {
            name: "gate".into(),
            url: "file:vtest.avi".into(),
            mahalla: MAHALLA_A,
            config_toml: String::new(),
            position: Some(GeoPoint {
                lon: 69.24,
                lat: 41.31,
            }),
        })
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let dir = server::evidence_dir(data.path(), cam.id);
    std::fs::create_dir_all(dir.join("evidence/originals")).unwrap();
    let jpeg = scene::jpeg();
    std::fs::write(dir.join("evidence/gate-f000120.jpg"), &jpeg).unwrap();
    std::fs::write(
        dir.join("evidence/gate-f000240.jpg"),
        &jpeg[..jpeg.len() / 2],
    )
    .unwrap();
    std::fs::write(
        dir.join("evidence/originals/gate-f000120.jpg.sealed"),
        b"SEALED ORIGINAL",
    )
    .unwrap();
    std::fs::write(data.path().join("outside.jpg"), b"NOT EVIDENCE").unwrap();
    std::fs::write(
        dir.join("evidence/originals/plain.jpg"),
        b"AN UNSEALED ORIGINAL",
    )
    .unwrap();
    let at = db.store.now();
    let event = db
        .store
        .insert_event(&NewEvent {
            camera: cam.id,
            rule: "loitering".into(),
            at,
            payload: json!({
                "kind": "loitering", "details": {"zone": "gate"},
                "images": [
                    "evidence/gate-f000120.jpg",
                    "../../outside.jpg",
                    "evidence/originals/gate-f000120.jpg.sealed",
                    "evidence/gone.jpg",
                    "/etc/hostname.jpg",
                    "evidence/originals/plain.jpg",
                ],
                "originals": ["evidence/originals/gate-f000120.jpg.sealed"],
            }),
        })
        .await
        .unwrap();
    let pipeline_event = db
        .store
        .insert_event(&NewEvent {
            camera: cam.id,
            rule: "gate_zone".into(),
            at,
            payload: json!({
                "rule": "gate_zone", "kind": "zone_enter", "camera": "gate", "frame": 240,
                "evidence": ["evidence/gate-f000240.jpg"],
            }),
        })
        .await
        .unwrap();
    let config = server::Config {
        data_dir: data.path().to_owned(),
        ..server::Config::default()
    };
    Fixture {
        server: TestServer::start_with_config(&db.store, &config).await,
        _data: data,
        camera: cam.id,
        event: event.id,
        pipeline_event: pipeline_event.id,
        jpeg,
    }
}

async fn logged_in(f: &Fixture, username: &str) -> Client {
    let mut c = f.server.client();
    c.login(username, PASSWORD).await.expect(200);
    c
}

async fn views(db: &TestDb) -> Vec<Value> {
    db.store
        .audit_entries(None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.entry.action == "evidence.view")
        .map(|r| json!({"actor": r.entry.actor, "target": r.entry.target, "details": r.entry.details}))
        .collect()
}

async fn who_may_see_evidence_and_each_view_is_audited(db: &TestDb) {
    let f = setup(db).await;
    let url = format!("/api/events/{}/evidence/0", f.event);

    // Not logged in.
    f.server.client().get(&url).await.expect_error(401);

    // The operator whose district holds the camera sees the image, byte for byte.
    let op = logged_in(&f, "operator").await;
    let r = op.get(&url).await.expect(200);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    assert_eq!(r.body, f.jpeg);
    assert!(r.body.starts_with(&[0xFF, 0xD8]), "a JPEG");
    let operator_id = op.get("/api/me").await.expect(200).json()["id"].clone();
    let v = views(db).await;
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0]["actor"], format!("user:{operator_id}"));
    assert_eq!(v[0]["target"], format!("event:{}", f.event));
    assert_eq!(v[0]["details"]["image"], 0);
    assert_eq!(v[0]["details"]["camera"], f.camera.0);

    // The pipeline's own payload shape (`evidence`) is read too.
    let r = op
        .get(&format!("/api/events/{}/evidence/0", f.pipeline_event))
        .await
        .expect(200);
    assert_eq!(r.body, &f.jpeg[..f.jpeg.len() / 2]);

    // An admin sees it; an operator of another mahalla gets the answer of a missing event.
    logged_in(&f, "admin").await.get(&url).await.expect(200);
    let other = logged_in(&f, "operator_b").await;
    let e_scope = other.get(&url).await.expect_error(404);
    let e_missing = other
        .get("/api/events/999999/evidence/0")
        .await
        .expect_error(404);
    assert_eq!(
        e_scope["fix"], e_missing["fix"],
        "outside the scope reads as missing"
    );

    // Inspectors and analysts see nothing while the event is not an incident.
    for u in ["inspector_a", "inspector_b", "analyst"] {
        logged_in(&f, u).await.get(&url).await.expect_error(404);
    }
    // Auditors never see evidence.
    logged_in(&f, "auditor")
        .await
        .get(&url)
        .await
        .expect_error(403);
    assert_eq!(views(db).await.len(), 3, "refusals are not views");

    // Once confirmed into an incident in mahalla A, its inspector and the region's analyst may
    // look; mahalla B's inspector still may not.
    op.post(
        &format!("/api/events/{}/review", f.event),
        &json!({"verdict": "confirm", "category": "theft"}),
    )
    .await
    .expect(200);
    logged_in(&f, "inspector_a")
        .await
        .get(&url)
        .await
        .expect(200);
    logged_in(&f, "analyst").await.get(&url).await.expect(200);
    logged_in(&f, "inspector_b")
        .await
        .get(&url)
        .await
        .expect_error(404);
    // The unconfirmed event stays hidden from them.
    logged_in(&f, "inspector_a")
        .await
        .get(&format!("/api/events/{}/evidence/0", f.pipeline_event))
        .await
        .expect_error(404);
    assert_eq!(views(db).await.len(), 5);
    db.store
        .audit_verify(None)
        .await
        .expect("audit chain verifies");
}

async fn only_redacted_images_inside_the_folder_are_served(db: &TestDb) {
    let f = setup(db).await;
    let op = logged_in(&f, "operator").await;
    // 1: climbs out with `..`; 2: a sealed original; 3: deleted; 4: absolute; 5: under
    // originals/; 6: past the end; then ids and indexes that are not numbers.
    for n in ["1", "2", "3", "4", "5", "6", "-1", "x"] {
        let r = op
            .get(&format!("/api/events/{}/evidence/{n}", f.event))
            .await;
        let body = r.text();
        assert!(
            !body.contains("NOT EVIDENCE") && !body.contains("ORIGINAL"),
            "image {n} leaked: {body}"
        );
        r.expect_error(404);
    }
    op.get("/api/events/abc/evidence/0").await.expect_error(404);
    assert!(
        views(db).await.is_empty(),
        "nothing was shown, so nothing is logged as seen"
    );
    db.store
        .audit_verify(None)
        .await
        .expect("audit chain verifies");
}

on_both_databases!(
    who_may_see_evidence_and_each_view_is_audited,
    only_redacted_images_inside_the_folder_are_served,
);
