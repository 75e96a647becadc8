//! A camera's console page (`/console/cameras/{id}`) over HTTP, on SQLite and PostgreSQL: health,
//! settings and rules shown; a save goes through the API (checked by the pipeline's own TOML
//! validation, audited, only the fields that changed); a refused TOML comes back with the
//! pipeline's error and the text as typed; readers see it read-only and cannot post; outside the
//! scope it does not exist; without a frame the page says so and keeps the textarea.
mod cameras_fake;
mod common;
mod scene;

use std::sync::Arc;

use cameras_fake::FakeCameras;
use common::{Client, Resp, TestDb, TestServer};
use domain::{CameraId, GeoPoint, NewCamera, NewUser, Role, Scope};
use server::demo::{DISTRICT, MAHALLA_A, MAHALLA_B, REGION};

const PASSWORD: &str = "correct horse battery staple";
const HOSTILE: &str = "<script>alert(\"x\")</script> & 'quoted' <img src=x onerror=alert(1)>";

/// The camera's rules as registered: a zone and an intrusion rule.
const RULES: &str = "[detector]\nmodel = \"yolov4-tiny-416\"\nclasses = [\"person\", \"car\"]\n\n\
    [[zones]]\nname = \"gate\"\npolygon = [[0.1, 0.5], [0.9, 0.5], [0.5, 0.95]]\n\n\
    [[rules]]\nname = \"gate-intrusion\"\nkind = \"zone_enter\"\nzone = \"gate\"\nclasses = [\"person\"]\n";

const URL: &str = "rtsp://cam:secret@127.0.0.1:8554/gate";

struct Fixture {
    server: TestServer,
    fake: Arc<FakeCameras>,
    camera: CameraId,
}

/// Users of every reading role, in and out of the camera's mahalla (A), and a camera whose
/// control reports it online with a snapshot (`frames`) or without a frame yet.
async fn setup(db: &TestDb, frames: bool) -> Fixture {
    server::demo::seed_geography(&db.store).await.unwrap();
    let hash = server::auth::hash_password(PASSWORD).unwrap();
    for (username, role, scope) in [
        ("operator", Role::Operator, Scope::District(DISTRICT)),
        ("operator_b", Role::Operator, Scope::Mahalla(MAHALLA_B)),
        ("inspector_a", Role::Inspector, Scope::Mahalla(MAHALLA_A)),
        ("inspector_b", Role::Inspector, Scope::Mahalla(MAHALLA_B)),
        ("analyst", Role::Analyst, Scope::Region(REGION)),
    ] {
        db.store
            .create_user(&NewUser {
                username: username.into(),
                display_name: format!("{username} {HOSTILE}"),
                password_hash: hash.clone(),
                role,
                scope,
            })
            .await
            .unwrap();
    }
    let cam = db
        .store
        .create_camera(&NewCamera {
            name: format!("gate {HOSTILE}"),
            url: URL.into(),
            mahalla: MAHALLA_A,
            config_toml: RULES.into(),
            position: Some(GeoPoint {
                lon: 69.2405,
                lat: 41.3102,
            }),
        })
        .await
        .unwrap();
    let fake = Arc::new(FakeCameras::new(&[cam.id], frames));
    let state = server::AppState::new(db.store.clone(), &server::Config::default())
        .unwrap()
        .with_cameras(fake.clone());
    Fixture {
        server: TestServer::start_with(state).await,
        fake,
        camera: cam.id,
    }
}

async fn logged_in(f: &Fixture, username: &str) -> Client {
    let mut c = f.server.client();
    c.login(username, PASSWORD).await.expect(200);
    c
}

/// A console page under the strict policy, whose only scripts are the console's own, with
/// nothing fetched from elsewhere and every piece of hostile text escaped.
#[track_caller]
fn page(r: Resp, status: u16) -> String {
    let r = r.expect(status);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = r.header("content-security-policy").unwrap_or("");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let body = r.text();
    let own = body
        .matches("<script src=\"/console/assets/console.js\" defer></script>")
        .count()
        + body
            .matches("<script src=\"/console/assets/zones.js\" defer></script>")
            .count();
    assert_eq!(body.matches("<script").count(), own, "{body}");
    assert!(
        !body.contains(" style=") && !body.contains("<style"),
        "{body}"
    );
    let external = body.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !external.contains("http://") && !external.contains("https://"),
        "no external resources: {body}"
    );
    assert!(!body.contains("<script>alert"), "unescaped script: {body}");
    assert!(!body.contains("<img src=x"), "unescaped markup: {body}");
    body
}

/// `text` as it appears inside the page (escaped).
fn escaped(text: &str) -> String {
    server::console::html::escape(text)
}

fn path(f: &Fixture) -> String {
    format!("/console/cameras/{}", f.camera.0)
}

/// The settings form as the page fills it in, with `changes` applied (and `enabled` left out
/// when unticked), posted by `c`.
async fn save(
    c: &Client,
    f: &Fixture,
    csrf: &str,
    changes: &[(&str, &str)],
    enabled: bool,
) -> Resp {
    let mahalla = MAHALLA_A.0.to_string();
    let name = format!("gate {HOSTILE}");
    let mut fields = vec![
        ("_csrf", csrf),
        ("name", name.as_str()),
        ("url", "rtsp://cam:***@127.0.0.1:8554/gate"),
        ("mahalla", mahalla.as_str()),
        ("lon", "69.2405"),
        ("lat", "41.3102"),
        ("config_toml", RULES),
    ];
    for (k, v) in changes {
        if let Some(slot) = fields.iter_mut().find(|(name, _)| name == k) {
            slot.1 = v;
        }
    }
    if enabled {
        fields.push(("enabled", "on"));
    }
    c.post_form(&path(f), &fields).await
}

async fn audit_actions(db: &TestDb) -> Vec<(String, serde_json::Value)> {
    db.store
        .audit_entries(None, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entry.action.starts_with("camera."))
        .map(|e| (e.entry.action.clone(), e.entry.details.clone()))
        .collect()
}

async fn page_shows_health_settings_rules_and_the_editor(db: &TestDb) {
    let f = setup(db, true).await;
    let op = logged_in(&f, "operator").await;
    // The list links each camera to its page.
    let list = page(op.get("/console/cameras").await, 200);
    assert!(
        list.contains(&format!("<a href=\"{}\">", path(&f))),
        "{list}"
    );
    let body = page(op.get(&path(&f)).await, 200);
    for part in [
        "id=\"health-state\">online<",
        "id=\"health-fps\">9.9<",
        "id=\"health-frames\">4321<",
    ] {
        assert!(body.contains(part), "{part} missing: {body}");
    }
    // the settings form, filled in; the stream's password hidden
    assert!(body.contains("id=\"camera-settings\""), "{body}");
    assert!(
        body.contains(&format!(
            "value=\"{}\"",
            escaped(&format!("gate {HOSTILE}"))
        )),
        "{body}"
    );
    assert!(
        body.contains("value=\"rtsp://cam:***@127.0.0.1:8554/gate\""),
        "{body}"
    );
    assert!(!body.contains("secret"), "the password is shown: {body}");
    assert!(
        body.contains("name=\"enabled\" value=\"on\" checked"),
        "{body}"
    );
    // the rules in the textarea, exactly (the browser drops the newline after the tag)
    assert!(
        body.contains(&format!(
            "<textarea name=\"config_toml\" id=\"config_toml\" rows=\"20\" cols=\"90\" spellcheck=\"false\">\n{}</textarea>",
            escaped(RULES)
        )),
        "{body}"
    );
    // the editor: the redacted snapshot under an overlay, and its script
    assert!(
        body.contains(&format!(
            "<img id=\"snapshot\" src=\"/api/cameras/{}/snapshot.jpg\"",
            f.camera.0
        )),
        "{body}"
    );
    assert!(body.contains("<svg id=\"zone-overlay\""), "{body}");
    assert!(
        body.contains("<script src=\"/console/assets/zones.js\" defer></script>"),
        "{body}"
    );
    assert!(body.contains("id=\"no-snapshot\" hidden"), "{body}");
    // the script is served like the console's own, and builds no markup from text
    let anon = f.server.client();
    let js = anon.get("/console/assets/zones.js").await.expect(200);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    let js = js.text();
    assert!(js.contains("naturalWidth") && !js.contains("innerHTML"));
    assert!(
        !js.replace("\"http://www.w3.org/2000/svg\"", "")
            .contains("http"),
        "the script fetches nothing from elsewhere"
    );
    let doc = anon.get("/openapi.json").await.expect(200).json();
    assert!(doc["paths"]["/console/cameras/{id}"]["post"]["responses"]["404"].is_object());
    assert!(doc["paths"]["/console/assets/zones.js"]["get"].is_object());
}

async fn readers_see_it_read_only_and_outsiders_not_at_all(db: &TestDb) {
    let f = setup(db, true).await;
    for reader in ["inspector_a", "analyst"] {
        let c = logged_in(&f, reader).await;
        let body = page(c.get(&path(&f)).await, 200);
        assert!(body.contains("id=\"health-state\">online<"), "{body}");
        assert!(
            body.contains(&format!(
                "<pre class=\"toml\" id=\"config-toml\">{}</pre>",
                escaped(RULES)
            )),
            "{body}"
        );
        assert!(body.contains("Navbahor"), "the mahalla's name: {body}");
        for absent in [
            "<form method=\"post\" action=\"/console/cameras/",
            "snapshot.jpg",
            "zones.js",
            "secret",
        ] {
            assert!(!body.contains(absent), "{reader} sees {absent}: {body}");
        }
        let t = c.csrf.clone().unwrap();
        page(
            save(&c, &f, &t, &[("name", "renamed by a reader")], true).await,
            403,
        );
    }
    // Outside the scope the camera does not exist, for readers and writers alike.
    for outsider in ["inspector_b", "operator_b"] {
        let c = logged_in(&f, outsider).await;
        let body = page(c.get(&path(&f)).await, 404);
        assert!(!body.contains("gate"), "{body}");
    }
    let c = logged_in(&f, "operator_b").await;
    let t = c.csrf.clone().unwrap();
    page(
        save(&c, &f, &t, &[("name", "renamed from afar")], true).await,
        404,
    );
    // An unknown camera reads the same.
    let op = logged_in(&f, "operator").await;
    page(op.get("/console/cameras/987654").await, 404);
    let cam = db.store.get_camera(f.camera).await.unwrap().unwrap();
    assert_eq!(cam.name, format!("gate {HOSTILE}"), "nothing was renamed");
    assert!(f.fake.applied.lock().unwrap().is_empty());
    assert!(audit_actions(db).await.is_empty(), "nothing audited");
}

async fn a_save_changes_what_changed_through_the_api_and_is_audited(db: &TestDb) {
    let f = setup(db, true).await;
    let op = logged_in(&f, "operator").await;
    let t = op.csrf.clone().unwrap();
    // A browser sends the textarea with CRLF line breaks.
    let added = format!(
        "{RULES}\n[[lines]]\nname = \"kerb\"\nfrom = [0.2, 0.8]\nto = [0.8, 0.8]\n\n\
         [[rules]]\nname = \"kerb-crossing\"\nkind = \"line_cross\"\nline = \"kerb\"\ndirection = \"A->B\"\nclasses = [\"person\"]\n"
    );
    let sent = added.replace('\n', "\r\n");
    // no CSRF token: refused, nothing stored
    page(
        save(&op, &f, "", &[("config_toml", &sent)], true).await,
        403,
    );
    let renamed = [("name", "north gate"), ("config_toml", sent.as_str())];
    let r = save(&op, &f, &t, &renamed, false).await.expect(303);
    assert_eq!(
        r.header("location"),
        Some(format!("{}?saved=1", path(&f)).as_str())
    );
    // The API shows the change; the stored URL kept its password (sent back as shown).
    let cam = op
        .get(&format!("/api/cameras/{}", f.camera.0))
        .await
        .expect(200)
        .json();
    assert_eq!(cam["name"], "north gate");
    assert_eq!(
        cam["config_toml"],
        added.as_str(),
        "stored with LF, as typed"
    );
    assert_eq!(cam["enabled"], false);
    assert_eq!(cam["mahalla"], MAHALLA_A.0);
    let stored = db.store.get_camera(f.camera).await.unwrap().unwrap();
    assert_eq!(stored.url, URL);
    // Audited by the API: one update naming the two fields changed, one switch off.
    let audit = audit_actions(db).await;
    let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["camera.update", "camera.disable"], "{audit:?}");
    assert_eq!(
        audit[0].1["fields"],
        serde_json::json!(["name", "config_toml"])
    );
    // The workers were given the new record, then the switched-off one.
    let applied = f.fake.applied.lock().unwrap().clone();
    assert_eq!(applied.len(), 2);
    assert_eq!(applied[0].config_toml, added);
    assert!(!applied[1].enabled);
    let body = page(op.get(&format!("{}?saved=1", path(&f))).await, 200);
    assert!(body.contains("id=\"saved\""), "{body}");
    assert!(!body.contains("name=\"enabled\" value=\"on\" checked"));
    // The same form again changes and logs nothing.
    save(&op, &f, &t, &renamed, false).await.expect(303);
    assert_eq!(audit_actions(db).await.len(), 2);
    // Switching it back on and clearing the position.
    save(
        &op,
        &f,
        &t,
        &[
            ("name", "north gate"),
            ("config_toml", &added),
            ("lon", ""),
            ("lat", ""),
        ],
        true,
    )
    .await
    .expect(303);
    let audit = audit_actions(db).await;
    assert_eq!(audit.len(), 4, "{audit:?}");
    assert_eq!(audit[2].1["fields"], serde_json::json!(["position"]));
    assert_eq!(audit[3].0, "camera.enable");
    let cam = db.store.get_camera(f.camera).await.unwrap().unwrap();
    assert!(cam.enabled && cam.position.is_none());
}

async fn a_toml_the_pipeline_refuses_comes_back_with_its_error(db: &TestDb) {
    let f = setup(db, true).await;
    let op = logged_in(&f, "operator").await;
    let t = op.csrf.clone().unwrap();
    let before = db.store.get_camera(f.camera).await.unwrap().unwrap();
    for (bad, says) in [
        (
            format!(
                "{RULES}\n[[rules]]\nname = \"lurk\"\nkind = \"loitering\"\nzone = \"nowhere\"\nmin_duration_s = 20.0\n"
            ),
            "refers to zone `nowhere`, which is not defined",
        ),
        (
            format!(
                "{RULES}\n[[zones]]\nname = \"pixels\"\npolygon = [[120, 300], [600, 300], [400, 500]]\n"
            ),
            "outside 0..1",
        ),
        (format!("{RULES}\n[[zones]\n"), "line 15"),
    ] {
        let body = page(
            save(
                &op,
                &f,
                &t,
                &[("name", "renamed"), ("config_toml", &bad)],
                true,
            )
            .await,
            400,
        );
        assert!(body.contains(&escaped(says)), "{says}: {body}");
        assert!(body.contains("class=\"banner error\""), "{body}");
        // the text as typed, and the other fields too
        assert!(
            body.contains(&format!(
                "spellcheck=\"false\">\n{}</textarea>",
                escaped(&bad)
            )),
            "{body}"
        );
        assert!(body.contains("value=\"renamed\""), "{body}");
    }
    assert_eq!(
        db.store.get_camera(f.camera).await.unwrap().unwrap(),
        before
    );
    assert!(f.fake.applied.lock().unwrap().is_empty());
    assert!(audit_actions(db).await.is_empty(), "nothing audited");
    // A bad mahalla is named too, and a mahalla outside the scope is refused.
    let body = page(save(&op, &f, &t, &[("mahalla", "north")], true).await, 400);
    assert!(body.contains("is not a mahalla id"), "{body}");
    let far = "424242";
    let r = save(&op, &f, &t, &[("mahalla", far)], true).await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        db.store.get_camera(f.camera).await.unwrap().unwrap(),
        before
    );
}

async fn without_a_frame_the_page_says_so_and_keeps_the_textarea(db: &TestDb) {
    let f = setup(db, false).await;
    let op = logged_in(&f, "operator").await;
    let body = page(op.get(&path(&f)).await, 200);
    assert!(
        body.contains("<p class=\"banner error\" id=\"no-snapshot\">No picture yet"),
        "{body}"
    );
    assert!(!body.contains("<img id=\"snapshot\""), "{body}");
    assert!(body.contains("id=\"health-state\">offline<"), "{body}");
    assert!(body.contains("connection refused"), "{body}");
    assert!(body.contains("id=\"config_toml\""), "{body}");
    // The snapshot itself answers 503 with the API's reason.
    op.get(&format!("/api/cameras/{}/snapshot.jpg", f.camera.0))
        .await
        .expect_error(503);
}

on_both_databases!(
    page_shows_health_settings_rules_and_the_editor,
    readers_see_it_read_only_and_outsiders_not_at_all,
    a_save_changes_what_changed_through_the_api_and_is_audited,
    a_toml_the_pipeline_refuses_comes_back_with_its_error,
    without_a_frame_the_page_says_so_and_keeps_the_textarea,
);
