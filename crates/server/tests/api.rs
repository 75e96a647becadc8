//! The HTTP API end to end: the real server on 127.0.0.1:0 over a fresh database, SQLite and
//! PostgreSQL, driven over TCP. Every test ends by checking the audit chain.
mod common;

use common::{Client, TestDb, TestServer};
use domain::{CameraId, GeoPoint, NewCamera, Scope};
use serde_json::{Value, json};
use server::demo::MAHALLA_A;

const PASSWORD: &str = "correct horse battery staple";

struct Fixture {
    server: TestServer,
    camera: CameraId,
}

/// Demo geography (two mahallas in one district), one camera in mahalla A with three events,
/// and users: admin, operator (district), inspector_a, inspector_b, analyst (region), auditor.
async fn setup(db: &TestDb) -> Fixture {
    server::demo::seed_geography(&db.store).await.unwrap();
    common::create_users(&db.store, PASSWORD, &common::DEMO_USERS).await;
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
    server::demo::add_events(&db.store, cam.id, 3)
        .await
        .unwrap();
    Fixture {
        server: TestServer::start(&db.store).await,
        camera: cam.id,
    }
}

async fn logged_in(f: &Fixture, username: &str) -> Client {
    let mut c = f.server.client();
    c.login(username, PASSWORD).await.expect(200);
    c
}

/// The audit chain is whole, and the log holds `action` at least `n` times.
async fn check_audit(db: &TestDb, action: &str, n: usize) {
    db.store
        .audit_verify(None)
        .await
        .expect("audit chain verifies");
    let all = db.store.audit_entries(None, 10_000).await.unwrap();
    let found = all.iter().filter(|r| r.entry.action == action).count();
    assert!(found >= n, "{found} {action} entries, wanted {n}: {all:#?}");
}

fn incident_body(mahalla: i64) -> Value {
    json!({
        "category": "theft",
        "source": "inspector",
        "occurred_at": "2024-05-01T09:30:00.000000Z",
        "mahalla": mahalla,
        "affected": { "woman": true },
        "narrative": "bicycle taken from the courtyard"
    })
}

async fn login_sessions_and_csrf(db: &TestDb) {
    let f = setup(db).await;
    let mut c = f.server.client();
    // Wrong password and unknown user: the same 401, both audited.
    let e1 = c.login("inspector_a", "wrong").await.expect_error(401);
    let e2 = c.login("nobody", "wrong").await.expect_error(401);
    assert_eq!(e1, e2, "failures must not say whether the user exists");
    c.get("/api/me").await.expect_error(401);

    let r = c.login("inspector_a", PASSWORD).await.expect(200);
    let cookie = r.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let body = r.json();
    assert_eq!(body["user"]["username"], "inspector_a");
    assert!(body["user"].get("password_hash").is_none(), "{body}");
    assert_eq!(body["csrf_token"].as_str().unwrap().len(), 64);
    assert_eq!(
        c.get("/api/me").await.expect(200).json()["role"],
        "inspector"
    );

    // State changes need the CSRF token: missing or wrong is 403, and nothing is written.
    let csrf = c.csrf.take();
    c.post("/api/incidents", &incident_body(MAHALLA_A.0))
        .await
        .expect_error(403);
    c.csrf = Some("0".repeat(64));
    c.post("/api/incidents", &incident_body(MAHALLA_A.0))
        .await
        .expect_error(403);
    c.post("/api/logout", &json!({})).await.expect_error(403);
    assert!(
        db.store
            .list_incidents(&Scope::National, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    c.csrf = csrf;
    c.post("/api/incidents", &incident_body(MAHALLA_A.0))
        .await
        .expect(201);
    c.post("/api/logout", &json!({})).await.expect(200);
    c.get("/api/me").await.expect_error(401);
    // A made-up session token is not a session.
    c.cookie = Some("ab".repeat(32));
    c.get("/api/me").await.expect_error(401);

    check_audit(db, "auth.login_failed", 2).await;
    check_audit(db, "auth.login", 1).await;
    check_audit(db, "auth.logout", 1).await;
    // Passwords never reach the audit log.
    let all = db.store.audit_entries(None, 10_000).await.unwrap();
    assert!(!format!("{all:?}").contains(PASSWORD));
    assert!(!format!("{all:?}").contains("\"wrong\""));
}

async fn login_rate_limit(db: &TestDb) {
    let f = setup(db).await;
    let mut c = f.server.client();
    for _ in 0..server::auth::LOGIN_LIMIT {
        c.login("operator", "guess").await.expect_error(401);
    }
    // Past the limit even the right password is refused, without being checked.
    c.login("operator", PASSWORD).await.expect_error(429);
    // Another username from the same address is not affected.
    c.login("analyst", PASSWORD).await.expect(200);
    check_audit(db, "auth.login_limited", 1).await;
}

async fn scope_and_roles(db: &TestDb) {
    let f = setup(db).await;
    let a = logged_in(&f, "inspector_a").await;
    let b = logged_in(&f, "inspector_b").await;
    let inc = a
        .post("/api/incidents", &incident_body(MAHALLA_A.0))
        .await
        .expect(201)
        .json();
    let id = inc["id"].as_i64().unwrap();
    assert_eq!(inc["status"], "new");
    assert_eq!(inc["mahalla"], MAHALLA_A.0);

    // A's own view.
    let got = a
        .get(&format!("/api/incidents/{id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(got["incident"]["id"], id);
    assert_eq!(got["history"].as_array().unwrap().len(), 1);

    // B, an inspector of another mahalla, cannot tell that it exists.
    let e = b
        .get(&format!("/api/incidents/{id}"))
        .await
        .expect_error(404);
    let missing = b.get("/api/incidents/999999").await.expect_error(404);
    assert_eq!(
        e["fix"], missing["fix"],
        "outside the scope must read like missing"
    );
    let list = b.get("/api/incidents").await.expect(200).json();
    assert!(list["incidents"].as_array().unwrap().is_empty(), "{list}");
    b.post(
        &format!("/api/incidents/{id}/status"),
        &json!({ "to": "closed", "note": "not mine" }),
    )
    .await
    .expect_error(404);
    let csv = b.get("/api/incidents.csv").await.expect(200).text();
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");
    let gj = b.get("/api/incidents.geojson").await.expect(200).json();
    assert!(gj["features"].as_array().unwrap().is_empty());
    // B cannot record incidents in A's mahalla.
    b.post("/api/incidents", &incident_body(MAHALLA_A.0))
        .await
        .expect_error(403);

    // Wider scopes see it.
    for who in ["operator", "analyst", "admin"] {
        let c = logged_in(&f, who).await;
        let list = c.get("/api/incidents").await.expect(200).json();
        assert_eq!(list["incidents"][0]["id"], id, "{who}: {list}");
    }
    // Roles: the analyst reads but does not write; the auditor reads no incidents; inspectors
    // do not review events nor read the audit log.
    let analyst = logged_in(&f, "analyst").await;
    analyst
        .post("/api/incidents", &incident_body(MAHALLA_A.0))
        .await
        .expect_error(403);
    let auditor = logged_in(&f, "auditor").await;
    auditor.get("/api/incidents").await.expect_error(403);
    auditor.get("/api/audit").await.expect(200);
    a.get("/api/events/pending").await.expect_error(403);
    a.get("/api/audit").await.expect_error(403);

    // Status changes with history: assign to A, then an illegal jump is a 400 that says why.
    let r = a
        .post(
            &format!("/api/incidents/{id}/status"),
            &json!({ "to": "assigned", "assignee": inc["created_by"].as_str().unwrap().trim_start_matches("user:").parse::<i64>().unwrap(), "note": "mine" }),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(r["incident"]["status"], "assigned");
    assert_eq!(r["history"].as_array().unwrap().len(), 2);
    let e = a
        .post(
            &format!("/api/incidents/{id}/status"),
            &json!({ "to": "new_status" }),
        )
        .await
        .expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("new_status"), "{e}");
    // B cannot be made the assignee of A's incident (B's scope does not cover it).
    let b_id = b.get("/api/me").await.expect(200).json()["id"]
        .as_i64()
        .unwrap();
    a.post(
        &format!("/api/incidents/{id}/status"),
        &json!({ "to": "in_progress", "assignee": b_id }),
    )
    .await
    .expect_error(400);
    let e = a
        .post(
            &format!("/api/incidents/{id}/status"),
            &json!({ "to": "assigned" }),
        )
        .await
        .expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("assigned"), "{e}");
    check_audit(db, "incident.status", 1).await;
}

async fn review_queue(db: &TestDb) {
    let f = setup(db).await;
    let op = logged_in(&f, "operator").await;
    let pending = op.get("/api/events/pending").await.expect(200).json();
    let events = pending["events"].as_array().unwrap();
    assert_eq!(events.len(), 3, "{pending}");
    assert!(events.iter().all(|e| e["camera"] == f.camera.0));
    let (e1, e2, e3) = (
        events[0]["id"].as_i64().unwrap(),
        events[1]["id"].as_i64().unwrap(),
        events[2]["id"].as_i64().unwrap(),
    );

    // Confirm: an incident draft appears, from the camera, naming the event.
    let r = op
        .post(
            &format!("/api/events/{e1}/review"),
            &json!({ "verdict": "confirm", "category": "public_order", "note": "fight at the gate" }),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(r["review"]["verdict"]["verdict"], "confirm");
    let inc = &r["incident"];
    assert_eq!(inc["source"], "camera");
    assert_eq!(inc["status"], "new");
    assert_eq!(inc["event"], e1);
    assert_eq!(inc["mahalla"], MAHALLA_A.0);
    let list = op.get("/api/incidents").await.expect(200).json();
    assert_eq!(list["incidents"][0]["id"], inc["id"], "{list}");
    // The mahalla's inspector sees it too.
    let a = logged_in(&f, "inspector_a").await;
    a.get(&format!("/api/incidents/{}", inc["id"]))
        .await
        .expect(200);

    // Dismiss needs a reason from the list.
    let e = op
        .post(
            &format!("/api/events/{e2}/review"),
            &json!({ "verdict": "dismiss" }),
        )
        .await
        .expect_error(400);
    assert!(e["fix"].as_str().unwrap().contains("shadow"), "{e}");
    op.post(
        &format!("/api/events/{e2}/review"),
        &json!({ "verdict": "dismiss", "reason": "ghost" }),
    )
    .await
    .expect_error(400);
    let r = op
        .post(
            &format!("/api/events/{e2}/review"),
            &json!({ "verdict": "dismiss", "reason": "shadow" }),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(r["review"]["verdict"]["reason"], "shadow");
    assert!(r["incident"].is_null());
    // One verdict per event.
    op.post(
        &format!("/api/events/{e2}/review"),
        &json!({ "verdict": "confirm" }),
    )
    .await
    .expect_error(409);
    let pending = op.get("/api/events/pending").await.expect(200).json();
    assert_eq!(pending["events"].as_array().unwrap().len(), 1);
    assert_eq!(pending["events"][0]["id"], e3);

    // Camera incidents are not recorded directly.
    let mut body = incident_body(MAHALLA_A.0);
    body["source"] = json!("camera");
    op.post("/api/incidents", &body).await.expect_error(400);
    // Unknown events are 404.
    op.post(
        "/api/events/999999/review",
        &json!({ "verdict": "confirm" }),
    )
    .await
    .expect_error(404);
    check_audit(db, "event.review", 2).await;
    check_audit(db, "incident.create", 1).await;
}

async fn bad_input(db: &TestDb) {
    let f = setup(db).await;
    let a = logged_in(&f, "inspector_a").await;
    let csrf = a.csrf.clone().unwrap();
    let h = [
        ("Content-Type", "application/json"),
        ("X-CSRF-Token", csrf.as_str()),
    ];
    // Malformed JSON: 400 naming the problem.
    let e = a
        .raw("POST", "/api/incidents", &h, Some(b"{\"category\": "))
        .await
        .expect_error(400);
    assert!(
        e["error"].as_str().unwrap().to_lowercase().contains("json"),
        "{e}"
    );
    // A missing field is named.
    let e = a
        .post("/api/incidents", &json!({ "category": "theft" }))
        .await
        .expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("source"), "{e}");
    // An unknown category is named, with the list.
    let mut body = incident_body(MAHALLA_A.0);
    body["category"] = json!("murder");
    let e = a.post("/api/incidents", &body).await.expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("drug_offence"), "{e}");
    // Unknown fields are refused rather than ignored.
    let mut body = incident_body(MAHALLA_A.0);
    body["victim_name"] = json!("x");
    a.post("/api/incidents", &body).await.expect_error(400);
    // Not JSON at all.
    a.raw(
        "POST",
        "/api/incidents",
        &[("X-CSRF-Token", csrf.as_str())],
        Some(b"category=theft"),
    )
    .await
    .expect_error(415);
    // Oversized: 413, and the server still answers.
    let big = format!(
        "{{\"narrative\": \"{}\"}}",
        "x".repeat(server::MAX_BODY_BYTES + 10)
    );
    a.raw("POST", "/api/incidents", &h, Some(big.as_bytes()))
        .await
        .expect_error(413);
    // Out-of-range values from the domain's rules.
    let mut body = incident_body(MAHALLA_A.0);
    body["point"] = json!({ "lon": 500.0, "lat": 41.0 });
    a.post("/api/incidents", &body).await.expect_error(400);
    // Bad ids and query parameters.
    a.get("/api/incidents/abc").await.expect_error(404);
    a.get("/api/incidents/-1").await.expect_error(404);
    a.get("/api/incidents?limit=lots").await.expect_error(400);
    a.get("/api/incidents?limit=0").await.expect_error(400);
    // Unknown routes and methods.
    a.get("/api/nothing-here").await.expect_error(404);
    a.raw("DELETE", "/api/incidents", &[], None)
        .await
        .expect_error(405);
    a.get("/healthz").await.expect(200);
    // Nothing was written by any of it.
    assert!(
        db.store
            .list_incidents(&Scope::National, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    db.store.audit_verify(None).await.unwrap();
}

async fn exports_metrics_openapi(db: &TestDb) {
    let f = setup(db).await;
    let a = logged_in(&f, "inspector_a").await;
    let mut body = incident_body(MAHALLA_A.0);
    body["narrative"] = json!("=HYPERLINK(\"x\"), said \"hi\"\nsecond line");
    body["point"] = json!({ "lon": 69.25, "lat": 41.3 });
    a.post("/api/incidents", &body).await.expect(201);
    a.post("/api/incidents", &incident_body(MAHALLA_A.0))
        .await
        .expect(201);

    let r = a.get("/api/incidents.csv").await.expect(200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let csv = r.text();
    assert!(csv.starts_with(server::api::CSV_HEADER), "{csv}");
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"x\"\"), said \"\"hi\"\"\nsecond line\""),
        "{csv}"
    );
    let gj = a.get("/api/incidents.geojson").await.expect(200).json();
    assert_eq!(gj["type"], "FeatureCollection");
    let feats = gj["features"].as_array().unwrap();
    assert_eq!(feats.len(), 2);
    assert!(
        feats
            .iter()
            .any(|f| f["geometry"]["coordinates"] == json!([69.25, 41.3]))
    );
    check_audit(db, "incidents.export", 2).await;

    // The audit log through the API, for a national auditor.
    let auditor = logged_in(&f, "auditor").await;
    let log = auditor.get("/api/audit?limit=500").await.expect(200).json();
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"incidents.export"), "{actions:?}");
    assert!(actions.contains(&"auth.login"), "{actions:?}");

    // Metrics count requests by route pattern and status.
    let m = a.get("/metrics").await.expect(200).text();
    assert!(
        m.contains("posbon_http_requests_total{method=\"GET\",route=\"/api/incidents.csv\",status=\"200\"} 1"),
        "{m}"
    );
    assert!(m.contains("posbon_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/login\",le=\"+Inf\"}"), "{m}");
    assert!(m.contains("# TYPE posbon_http_request_duration_seconds histogram"));
    a.get("/no/such/path").await.expect_error(404);
    let m = a.get("/metrics").await.expect(200).text();
    assert!(
        m.contains(
            "posbon_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"
        ),
        "{m}"
    );
    assert!(!m.contains("/no/such/path"));

    let doc = a.get("/openapi.json").await.expect(200).json();
    assert_eq!(doc["openapi"], "3.1.0");
    for (method, path) in server::registered_routes() {
        assert!(
            doc["paths"][path][method.to_lowercase()].is_object(),
            "{method} {path} missing from /openapi.json"
        );
    }
    let h = a.get("/healthz").await.expect(200).json();
    assert_eq!(h["status"], "ok");
    db.store.audit_verify(None).await.unwrap();
}

on_both_databases!(
    login_sessions_and_csrf,
    login_rate_limit,
    scope_and_roles,
    review_queue,
    bad_input,
    exports_metrics_openapi,
);

/// The document lists exactly the registered routes: none missing, none extra.
#[test]
fn openapi_lists_exactly_the_registered_routes() {
    let doc = server::openapi::document();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    let mut registered: Vec<(String, String)> = server::registered_routes()
        .into_iter()
        .map(|(m, p)| (m.to_owned(), p.to_owned()))
        .collect();
    documented.sort();
    registered.sort();
    assert_eq!(documented, registered);
}
