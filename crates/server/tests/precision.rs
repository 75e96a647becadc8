//! `GET /api/stats/precision` and the camera endpoints of a server without camera workers, on
//! SQLite and PostgreSQL. (The camera endpoints with real workers are tested in
//! crates/cli/tests/cameras_api.rs.)
mod common;

use std::collections::BTreeMap;

use common::{TestDb, TestServer};
use domain::precision::{Z95, wilson};
use domain::{
    CameraId, DismissReason, NewCamera, NewEvent, NewReview, NewUser, Role, Scope, Timestamp,
    UserId, Verdict,
};
use serde_json::{Value, json};
use server::demo::{DISTRICT, MAHALLA_A, MAHALLA_B, REGION};

const PASSWORD: &str = "correct horse battery staple";

on_both_databases!(
    precision_per_rule_camera_and_period,
    cameras_without_workers
);

async fn users(db: &TestDb) -> UserId {
    server::demo::seed_geography(&db.store).await.unwrap();
    let hash = server::auth::hash_password(PASSWORD).unwrap();
    let mut reviewer = None;
    for (username, role, scope) in [
        ("admin", Role::Admin, Scope::National),
        ("operator", Role::Operator, Scope::District(DISTRICT)),
        ("operator_b", Role::Operator, Scope::Mahalla(MAHALLA_B)),
        ("analyst", Role::Analyst, Scope::Region(REGION)),
        ("inspector", Role::Inspector, Scope::Mahalla(MAHALLA_A)),
    ] {
        let u = db
            .store
            .create_user(&NewUser {
                username: username.into(),
                display_name: username.into(),
                password_hash: hash.clone(),
                role,
                scope,
            })
            .await
            .unwrap();
        if username == "admin" {
            reviewer = Some(u.id);
        }
    }
    reviewer.unwrap()
}

async fn camera(db: &TestDb, name: &str, mahalla: domain::MahallaId) -> CameraId {
    db.store
        .create_camera(&NewCamera {
            name: name.into(),
            url: "rtsp://viewer:s3cret@10.1.2.3/stream".into(),
            mahalla,
            config_toml: String::new(),
            position: None,
        })
        .await
        .unwrap()
        .id
}

async fn client(server: &TestServer, username: &str) -> common::Client {
    let mut c = server.client();
    c.login(username, PASSWORD).await.expect(200);
    c
}

/// (camera, rule, event time, verdict)
type Review = (CameraId, &'static str, Timestamp, Verdict);

fn day(d: u32) -> Timestamp {
    format!("2024-05-{d:02}T10:00:00Z").parse().unwrap()
}

/// The numbers the endpoint should give for `plan` within the mahalla set `seen`, worked out
/// here from the plan itself: per rule, confirmed and dismissed.
fn by_rule(plan: &[Review], seen: &[CameraId]) -> BTreeMap<String, (u64, u64)> {
    let mut m: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (cam, rule, at, v) in plan {
        if !seen.contains(cam) || *at >= day(20) {
            continue;
        }
        let e = m.entry(rule.to_string()).or_default();
        match v {
            Verdict::Confirm => e.0 += 1,
            Verdict::Dismiss(_) => e.1 += 1,
        }
    }
    m
}

async fn precision_per_rule_camera_and_period(db: &TestDb) {
    let admin = users(db).await;
    let a = camera(db, "gate", MAHALLA_A).await;
    let b = camera(db, "bazaar", MAHALLA_B).await;
    let shadow = Verdict::Dismiss(DismissReason::Shadow);
    let animal = Verdict::Dismiss(DismissReason::Animal);
    let plan: Vec<Review> = vec![
        (a, "enter-path", day(1), Verdict::Confirm),
        (a, "enter-path", day(1), Verdict::Confirm),
        (a, "enter-path", day(2), shadow),
        (a, "enter-path", day(6), Verdict::Confirm),
        (a, "loitering", day(2), animal),
        (a, "loitering", day(3), shadow),
        (b, "enter-path", day(1), Verdict::Confirm),
        (b, "enter-path", day(8), shadow),
        // After `to`: not counted.
        (a, "enter-path", day(21), shadow),
    ];
    for (cam, rule, at, v) in &plan {
        let e = db
            .store
            .insert_event(&NewEvent {
                camera: *cam,
                rule: rule.to_string(),
                at: *at,
                payload: json!({ "kind": "zone_enter" }),
            })
            .await
            .unwrap();
        db.store
            .review_event(&NewReview {
                event: e.id,
                verdict: *v,
                note: String::new(),
                reviewer: admin,
            })
            .await
            .unwrap();
    }
    let server = TestServer::start(&db.store).await;
    let q = "/api/stats/precision?from=2024-05-01&to=2024-05-20T00:00:00Z&period=week";

    // National: everything before day 20.
    let r = client(&server, "admin")
        .await
        .get(q)
        .await
        .expect(200)
        .json();
    assert_eq!(r["period"], "week");
    assert_eq!(r["from"], "2024-05-01T00:00:00.000000Z");
    assert_eq!(r["to"], "2024-05-20T00:00:00.000000Z");
    assert!(r["method"].as_str().unwrap().contains("Wilson"));
    let want = by_rule(&plan, &[a, b]);
    let got: BTreeMap<String, (u64, u64)> = r["by_rule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["rule"].as_str().unwrap().to_owned(),
                (
                    x["confirmed"].as_u64().unwrap(),
                    x["dismissed"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(got, want);
    // enter-path: 4 confirmed of 6 reviewed, with its Wilson interval.
    let ep = r["by_rule"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"] == "enter-path")
        .unwrap();
    let (lo, hi) = wilson(4, 6, Z95).unwrap();
    assert!((ep["precision"].as_f64().unwrap() - 4.0 / 6.0).abs() < 1e-12);
    assert!((ep["low"].as_f64().unwrap() - lo).abs() < 1e-12);
    assert!((ep["high"].as_f64().unwrap() - hi).abs() < 1e-12);
    assert_eq!(ep["dismiss_reasons"], json!({ "shadow": 2 }));
    assert_eq!(r["total"]["reviewed"], 8);
    assert_eq!(
        r["total"]["dismiss_reasons"],
        json!({ "shadow": 3, "animal": 1 })
    );
    // Per camera, with names.
    let cams: Vec<(i64, String, u64)> = r["by_camera"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["camera"].as_i64().unwrap(),
                x["name"].as_str().unwrap().to_owned(),
                x["reviewed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        cams,
        vec![(a.0, "gate".into(), 6), (b.0, "bazaar".into(), 2)]
    );
    // Weekly series: 2024-05-01..05 fall in the week of Monday 29 April, 6..12 in that of 6 May.
    let series: Vec<(String, i64, String, u64, u64)> = r["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["period_start"].as_str().unwrap().to_owned(),
                x["camera"].as_i64().unwrap(),
                x["rule"].as_str().unwrap().to_owned(),
                x["confirmed"].as_u64().unwrap(),
                x["dismissed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        series,
        vec![
            ("2024-04-29".into(), a.0, "enter-path".into(), 2, 1),
            ("2024-04-29".into(), a.0, "loitering".into(), 0, 2),
            ("2024-04-29".into(), b.0, "enter-path".into(), 1, 0),
            ("2024-05-06".into(), a.0, "enter-path".into(), 1, 0),
            ("2024-05-06".into(), b.0, "enter-path".into(), 0, 1),
        ]
    );
    // By day, camera a's enter-path on 1 May is its own bucket.
    let daily = client(&server, "admin")
        .await
        .get(&q.replace("week", "day"))
        .await
        .expect(200)
        .json();
    assert!(
        daily["series"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["period_start"] == "2024-05-01"
                && x["camera"] == a.0
                && x["rule"] == "enter-path"
                && x["confirmed"] == 2)
    );

    // Scope: the operator of mahalla B sees only camera b; the analyst (region) everything.
    let rb = client(&server, "operator_b")
        .await
        .get(q)
        .await
        .expect(200)
        .json();
    assert_eq!(
        by_rule(&plan, &[b]).len(),
        rb["by_rule"].as_array().unwrap().len()
    );
    assert_eq!(rb["total"]["reviewed"], 2);
    assert!(
        rb["by_camera"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["camera"] == b.0)
    );
    let ra = client(&server, "analyst")
        .await
        .get(q)
        .await
        .expect(200)
        .json();
    assert_eq!(ra["total"], r["total"]);

    // Roles and bad parameters.
    client(&server, "inspector")
        .await
        .get(q)
        .await
        .expect_error(403);
    let c = client(&server, "admin").await;
    let e = c
        .get("/api/stats/precision?period=month")
        .await
        .expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("month"), "{e}");
    let e = c
        .get("/api/stats/precision?from=2024-05-10&to=2024-05-01")
        .await
        .expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("not before"), "{e}");
    let e = c
        .get("/api/stats/precision?from=yesterday")
        .await
        .expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("from"), "{e}");
    c.get("/api/stats/precision?from=2020-01-01&to=2024-01-01")
        .await
        .expect_error(400);
    // Without parameters: the last 84 days to now, in which nothing above happened (2024).
    let recent = c.get("/api/stats/precision").await.expect(200).json();
    assert_eq!(recent["total"]["reviewed"], 0);
    assert!(recent["total"]["precision"].is_null());
}

async fn cameras_without_workers(db: &TestDb) {
    users(db).await;
    let a = camera(db, "gate", MAHALLA_A).await;
    let server = TestServer::start(&db.store).await;
    let op = client(&server, "operator").await;
    // Reading works; the URL's password is hidden; no health was ever recorded.
    let list = op.get("/api/cameras").await.expect(200).json();
    let cams = list["cameras"].as_array().unwrap();
    assert_eq!(cams.len(), 1);
    assert_eq!(cams[0]["id"], a.0);
    assert_eq!(cams[0]["url"], "rtsp://viewer:***@10.1.2.3/stream");
    assert!(cams[0]["health"].is_null());
    assert!(!list.to_string().contains("s3cret"));
    // Health recorded by workers elsewhere is shown.
    db.store
        .put_camera_status(&domain::CameraStatus {
            camera: a,
            state: domain::CameraState::Offline,
            fps: 0.0,
            frames: 12,
            last_frame_at: None,
            last_error: Some("cannot open rtsp://viewer:***@10.1.2.3/stream".into()),
            updated_at: db.store.now(),
        })
        .await
        .unwrap();
    let one = op
        .get(&format!("/api/cameras/{}", a.0))
        .await
        .expect(200)
        .json();
    assert_eq!(one["health"]["state"], "offline");
    assert_eq!(one["health"]["frames"], 12);
    // Changing anything needs workers to check and run it.
    op.post(
        "/api/cameras",
        &json!({ "name": "x", "url": "rtsp://10.0.0.1/s", "mahalla": MAHALLA_A.0, "config_toml": "" }),
    )
    .await
    .expect_error(503);
    op.post(
        &format!("/api/cameras/{}/enabled", a.0),
        &json!({ "enabled": false }),
    )
    .await
    .expect_error(503);
    op.get(&format!("/api/cameras/{}/snapshot.jpg", a.0))
        .await
        .expect_error(503);
    assert!(db.store.get_camera(a).await.unwrap().unwrap().enabled);
    // Outside the scope reads like missing; roles are checked first.
    let b = client(&server, "operator_b").await;
    let e = b
        .get(&format!("/api/cameras/{}", a.0))
        .await
        .expect_error(404);
    let m = b.get("/api/cameras/999999").await.expect_error(404);
    assert_eq!(e["fix"], m["fix"]);
    assert!(
        b.get("/api/cameras").await.expect(200).json()["cameras"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let v: Value = client(&server, "admin")
        .await
        .get("/api/cameras/abc")
        .await
        .expect_error(404);
    assert!(v["error"].as_str().unwrap().contains("camera"));
}
