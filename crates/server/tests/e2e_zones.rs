//! The zone editor in a real browser (headless Chromium through chromedriver, as in
//! `e2e_chromium.rs`): an operator opens a camera from the cameras list, sees its redacted
//! snapshot with the zones and lines of its TOML drawn over it, clicks four corners of a new
//! zone, closes it as a loitering zone, draws a directed line (A on its left, the crossing arrow
//! pointing B to A), saves, and the camera's stored TOML, checked by the pipeline's own
//! validation, holds both at the normalised coordinates clicked. Screenshots:
//! `$CARGO_TARGET_TMPDIR/e2e-zones/`.
//!
//! Without Chromium or chromedriver this test FAILS, saying to run `scripts/install-deps.sh`.
mod cameras_fake;
mod common;
mod scene;
#[path = "common/webdriver.rs"]
mod webdriver;

use std::sync::Arc;

use cameras_fake::{FakeCameras, pipeline_check};
use common::{TestDb, TestServer};
use domain::{NewCamera, NewUser, Role, Scope};
use webdriver::{Browser, Driver, require_browser, screenshot_dir};

const PASSWORD: &str = "correct horse battery staple";

const RULES: &str = "[detector]\nmodel = \"yolov4-tiny-416\"\n\n\
    [[zones]]\nname = \"gate\"\npolygon = [[0.05, 0.05], [0.3, 0.05], [0.3, 0.3], [0.05, 0.3]]\n\n\
    [[lines]]\nname = \"door\"\nfrom = [0.6, 0.1]\nto = [0.6, 0.5]\n\n\
    [[rules]]\nname = \"gate-intrusion\"\nkind = \"zone_enter\"\nzone = \"gate\"\nclasses = [\"person\"]\n\n\
    [[rules]]\nname = \"door-west\"\nkind = \"line_cross\"\nline = \"door\"\ndirection = \"A->B\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_draws_a_zone_and_a_line_over_the_snapshot_and_saves_them() {
    let (chromium, chromedriver) = require_browser();
    let shots = screenshot_dir("e2e-zones");

    let db = TestDb::sqlite().await;
    server::demo::seed_geography(&db.store).await.unwrap();
    db.store
        .create_user(&NewUser {
            username: "operator".into(),
            display_name: "Operator".into(),
            password_hash: server::auth::hash_password(PASSWORD).unwrap(),
            role: Role::Operator,
            scope: Scope::District(server::demo::DISTRICT),
        })
        .await
        .unwrap();
    let cam = db
        .store
        .create_camera(&NewCamera {
            name: "gate".into(),
            url: "rtsp://cam:secret@127.0.0.1:8554/gate".into(),
            mahalla: server::demo::MAHALLA_A,
            config_toml: RULES.into(),
            position: None,
        })
        .await
        .unwrap();
    let fake = Arc::new(FakeCameras::new(&[cam.id], true));
    let state = server::AppState::new(db.store.clone(), &server::Config::default())
        .unwrap()
        .with_cameras(fake.clone());
    let srv = TestServer::start_with(state).await;

    let driver = Driver::start(&chromedriver).await;
    let b = Browser::open(&driver, &chromium, format!("http://{}", srv.addr), shots).await;

    // 1. From the cameras list to the camera's page.
    b.log_in("operator", PASSWORD).await;
    b.wait_url("/console/review").await;
    b.go("/console/cameras").await;
    b.click(&format!("#camera-{} a[href]", cam.id.0)).await;
    let page = format!("/console/cameras/{}", cam.id.0);
    b.wait_url(&page).await;

    // 2. The snapshot loads at its natural size and the editor draws the TOML's zone and line
    //    (with the arrow across it for its A->B rule).
    b.wait_for(
        "the snapshot and the editor",
        &format!(
            "var i = document.getElementById('snapshot'); return !!i && i.complete && i.naturalWidth === {} \
             && !document.getElementById('zone-tools').hidden;",
            scene::W
        ),
    )
    .await;
    assert_eq!(b.count("#zone-overlay polygon.zone.saved").await, 1);
    assert_eq!(b.count("#zone-overlay line.line.saved").await, 1);
    assert_eq!(b.count("#zone-overlay line.crossing").await, 1);
    assert_eq!(b.count("#zone-overlay polygon.crossing-head").await, 1);
    b.js("document.getElementById('snapshot').scrollIntoView({block: 'center'}); return null;")
        .await;
    b.screenshot("01-camera-page").await;

    // 3. Four corners of a loitering zone, clicked on the picture, and closed.
    b.type_in("#zone-name", "bench").await;
    b.click("#zone-kind option[value=loitering]").await;
    b.type_in("#zone-seconds", "15").await;
    let (_, _, w, h) = b.rect("#zone-overlay").await;
    let corners = [(0.40, 0.55), (0.75, 0.55), (0.80, 0.85), (0.35, 0.90)];
    let mut expected = Vec::new();
    for (nx, ny) in corners {
        let dx = ((nx - 0.5) * w).round() as i64;
        let dy = ((ny - 0.5) * h).round() as i64;
        b.click_at("#zone-overlay", dx, dy).await;
        expected.push([0.5 + dx as f64 / w, 0.5 + dy as f64 / h]);
    }
    assert!(b.text("#zone-status").await.starts_with("4 points"));
    assert_eq!(b.count("#zone-overlay polygon.zone.draft").await, 1);
    assert_eq!(b.count("#zone-overlay circle.vertex").await, 4);
    b.screenshot("02-four-corners").await;
    b.click("#zone-finish").await;
    let toml = b
        .js("return document.getElementById('config_toml').value;")
        .await;
    let toml = toml.as_str().unwrap();
    assert!(
        toml.contains("[[zones]]\nname = \"bench\"\npolygon = [["),
        "{toml}"
    );
    assert_eq!(
        b.count("#zone-overlay polygon.zone.saved").await,
        2,
        "the new zone is drawn from the TOML"
    );

    // 4. A line drawn left to right: A above it; crossing B to A points up, into A.
    b.click("#zone-shape option[value=line]").await;
    assert_eq!(
        b.js("return document.getElementById('zone-kind').value;")
            .await,
        "line_cross"
    );
    b.type_in("#zone-name", "kerb").await;
    b.click("#zone-direction option[value=\"B->A\"]").await;
    let (lx0, lx1, ly) = (0.15, 0.85, 0.7);
    for nx in [lx0, lx1] {
        b.click_at(
            "#zone-overlay",
            ((nx - 0.5) * w).round() as i64,
            ((ly - 0.5) * h).round() as i64,
        )
        .await;
    }
    let geometry = b
        .js("var s = document.querySelectorAll('#zone-overlay text.side-label'); \
             var a = s[s.length - 2], bb = s[s.length - 1]; \
             var heads = document.querySelectorAll('#zone-overlay polygon.crossing-head'); \
             var tip = heads[heads.length - 1].getAttribute('points').split(' ')[0].split(','); \
             var line = document.querySelectorAll('#zone-overlay line.line.draft')[0]; \
             return [a.textContent, bb.textContent, +a.getAttribute('y'), +bb.getAttribute('y'), +tip[1], +line.getAttribute('y1')];")
        .await;
    let g = geometry.as_array().unwrap();
    assert_eq!((g[0].as_str(), g[1].as_str()), (Some("A"), Some("B")));
    let y = |i: usize| g[i].as_f64().unwrap();
    assert!(y(2) < y(5) && y(3) > y(5), "A above, B below: {geometry}");
    assert!(y(4) < y(5), "the B->A arrow points up, into A: {geometry}");
    b.screenshot("03-line").await;
    b.click("#zone-finish").await;

    // 5. Save: the page comes back saved, drawing both new shapes.
    b.click("#camera-save").await;
    b.wait_url(&format!("{page}?saved=1")).await;
    assert!(b.text("#saved").await.contains("Saved"));
    b.wait_for(
        "the editor after saving",
        "return !document.getElementById('zone-tools').hidden;",
    )
    .await;
    assert_eq!(b.count("#zone-overlay polygon.zone.saved").await, 2);
    assert_eq!(b.count("#zone-overlay line.line.saved").await, 2);
    b.screenshot("04-saved").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "the browser reported: {errors:?}");

    // 6. The stored TOML passes the pipeline's checks and holds what was drawn, normalised.
    let stored = db.store.get_camera(cam.id).await.unwrap().unwrap();
    let cfg = pipeline_check(&stored.config_toml)
        .unwrap_or_else(|e| panic!("{e}\n{}", stored.config_toml));
    let names: Vec<&str> = cfg.zones.iter().map(|z| z.name.as_str()).collect();
    assert_eq!(names, ["gate", "bench"]);
    let bench = &cfg.zones[1];
    assert_eq!(bench.polygon.len(), 4);
    for (got, want) in bench.polygon.iter().zip(&expected) {
        for k in 0..2 {
            assert!(
                (f64::from(got[k]) - want[k]).abs() < 0.01,
                "corner {got:?}, clicked at {want:?}"
            );
        }
    }
    let rule = cfg
        .rules
        .iter()
        .find(|r| r.name == "bench-loitering")
        .unwrap();
    assert_eq!(rule.kind.as_str(), "loitering");
    assert_eq!(rule.zone.as_deref(), Some("bench"));
    assert_eq!(rule.classes, ["person"]);
    assert_eq!(rule.min_duration_s, Some(15.0));
    let kerb = cfg.lines.iter().find(|l| l.name == "kerb").unwrap();
    assert!(
        (f64::from(kerb.from[0]) - lx0).abs() < 0.01 && (f64::from(kerb.to[0]) - lx1).abs() < 0.01
    );
    assert!((f64::from(kerb.from[1]) - ly).abs() < 0.01, "{kerb:?}");
    let crossing = cfg
        .rules
        .iter()
        .find(|r| r.line.as_deref() == Some("kerb"))
        .unwrap();
    assert_eq!(crossing.direction.map(|d| d.as_str()), Some("B->A"));
    // Saved through the API: audited, and the workers were handed the new configuration.
    let audit = db.store.audit_entries(None, 1000).await.unwrap();
    assert!(
        audit.iter().any(|e| e.entry.action == "camera.update"
            && e.entry.details["fields"] == serde_json::json!(["config_toml"])),
        "not audited"
    );
    assert_eq!(
        fake.applied
            .lock()
            .unwrap()
            .last()
            .map(|c| c.config_toml.clone()),
        Some(stored.config_toml)
    );
    db.store.audit_verify(None).await.unwrap();
}
