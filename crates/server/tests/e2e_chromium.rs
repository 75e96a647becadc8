//! The console end to end in a real browser: headless Chromium (Debian's `chromium`) driven
//! through `chromedriver` over the W3C WebDriver protocol (plain HTTP + JSON, spoken by the
//! tests' own small client: no WebDriver crate).
//!
//! On a fresh SQLite server seeded by `server::demo`, with real JPEGs as redacted evidence in
//! the data folder: the operator logs in, sees the evidence image load in the review queue,
//! confirms an event as a theft, finds the new incident on the map (its mahalla counts 1 and
//! a dot marks it), opens it; the auditor logs in and finds the `evidence.view` entries in the
//! audit log page; an admin creates an account through the users form. A screenshot of each step
//! is written to `$CARGO_TARGET_TMPDIR/e2e/`.
//!
//! Without Chromium or chromedriver this test FAILS, saying to run `scripts/install-deps.sh`.
mod common;
mod scene;
#[path = "common/webdriver.rs"]
mod webdriver;

use common::{TestDb, TestServer};
use domain::{NewEvent, Role};
use serde_json::json;
use webdriver::{Browser, Driver, require_browser, screenshot_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_confirms_an_event_finds_it_on_the_map_and_the_auditor_sees_the_view() {
    let (chromium, chromedriver) = require_browser();
    let shots = screenshot_dir("e2e");

    // A fresh server seeded by the demo, with two events whose evidence is a real JPEG.
    let db = TestDb::sqlite().await;
    let users = server::demo::seed(&db.store, None).await.unwrap();
    let password = |role: Role| {
        users
            .iter()
            .find(|u| u.role == role)
            .unwrap()
            .password
            .clone()
    };
    let camera = db
        .store
        .list_pending_events(&domain::Scope::National, 1)
        .await
        .unwrap()[0]
        .camera;
    let data = tempfile::tempdir().unwrap();
    let dir = server::evidence_dir(data.path(), camera);
    std::fs::create_dir_all(dir.join("evidence")).unwrap();
    std::fs::write(dir.join("evidence/demo-f000120.jpg"), scene::jpeg()).unwrap();
    let mut with_images = Vec::new();
    for k in 0..2 {
        let e = db
            .store
            .insert_event(&NewEvent {
                camera,
                rule: "gate_loitering".into(),
                // Older than the demo's own events, so first in the queue.
                at: db.store.now().saturating_add_micros(-(10 - k) * 60_000_000),
                payload: json!({"kind": "loitering", "details": {"zone": "gate", "dwell_s": 42},
                    "images": ["evidence/demo-f000120.jpg"]}),
            })
            .await
            .unwrap();
        with_images.push(e.id);
    }
    let config = server::Config {
        data_dir: data.path().to_owned(),
        ..server::Config::default()
    };
    // A third mahalla drawn from a polygon (the demo's are points), with a citizen's report.
    let polygon = domain::MahallaId(9_010_003);
    db.store
        .upsert_mahalla(&domain::Mahalla {
            id: polygon,
            district: server::demo::DISTRICT,
            names: domain::Names::uz("Yangi hayot (synthetic)"),
            population: Some(5400),
            geometry: Some(
                json!({"type": "Polygon", "coordinates": [[[69.245, 41.296], [69.268, 41.298],
                    [69.272, 41.307], [69.256, 41.312], [69.243, 41.305], [69.245, 41.296]]]})
                .to_string(),
            ),
            synthetic: true,
        })
        .await
        .unwrap();
    db.store
        .create_incident(
            &domain::NewIncident {
                category: domain::Category::Fraud,
                source: domain::Source::Public,
                occurred_at: db.store.now(),
                mahalla: polygon,
                point: Some(domain::GeoPoint {
                    lon: 69.258,
                    lat: 41.303,
                }),
                affected: domain::Affected::default(),
                narrative: "a card payment was requested by messenger".into(),
                event: None,
            },
            &domain::Actor::Public,
        )
        .await
        .unwrap();
    let srv = TestServer::start_with_config(&db.store, &config).await;

    let driver = Driver::start(&chromedriver).await;
    let b = Browser::open(&driver, &chromium, format!("http://{}", srv.addr), shots).await;

    // 1. Logged out, the console sends the browser to the login form.
    b.go("/console/review").await;
    assert_eq!(b.url().await, "/login?next=/console/review");
    b.type_in("#username", "operator").await;
    b.type_in("#password", "wrong password").await;
    b.click("#login-submit").await;
    b.wait_for(
        "the login error",
        "return !!document.getElementById('login-error');",
    )
    .await;
    assert!(
        b.text("#login-error")
            .await
            .contains("wrong username or password")
    );
    b.screenshot("01-login-error").await;
    // The refused login is answered 401, which the browser logs; nothing else may be.
    let errors = b.console_errors().await;
    assert!(
        errors
            .iter()
            .all(|e| e.contains("/login") && e.contains("401")),
        "{errors:?}"
    );
    b.type_in("#username", "operator").await;
    b.type_in("#password", &password(Role::Operator)).await;
    b.click("#login-submit").await;
    b.wait_url("/console/review").await;

    // 2. The review queue shows the redacted evidence image, loaded.
    let first = with_images[0];
    let img = format!("#event-{first} img.evidence-img");
    b.wait_for(
        "the evidence image to load",
        &format!("var i = document.querySelector('{img}'); return !!i && i.complete && i.naturalWidth === {};", scene::W),
    )
    .await;
    assert_eq!(
        b.count("article.event").await,
        5,
        "two events with images and the demo's three"
    );
    assert!(b.text(&format!("#event-{first}")).await.contains("gate"));
    b.screenshot("02-review-queue").await;

    // 3. Confirm it as a theft.
    b.click(&format!(
        "#event-{first} form.confirm select[name=category] option[value=theft]"
    ))
    .await;
    b.type_in(
        &format!("#event-{first} form.confirm input[name=note]"),
        "person waited at the gate for 42 s",
    )
    .await;
    b.click(&format!("#event-{first} form.confirm button[type=submit]"))
        .await;
    b.wait_for(
        "the queue to confirm",
        "return !!document.getElementById('done');",
    )
    .await;
    let done = b.text("#done").await;
    assert!(done.contains(&format!("Event {first} confirmed")), "{done}");
    let href = b.attr("#done a", "href").await.unwrap();
    let incident: i64 = href.rsplit('/').next().unwrap().parse().unwrap();
    let stored = db
        .store
        .get_incident(domain::IncidentId(incident))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.category, domain::Category::Theft);
    assert_eq!(stored.event, Some(first));
    assert_eq!(
        b.count(&format!("#event-{first}")).await,
        0,
        "no longer waiting"
    );
    b.screenshot("03-confirmed").await;

    // 4. The map: the demo mahalla of the camera counts 1 and a dot marks the incident; a
    //    click (console.js, under the CSP) shows its name and count.
    b.go("/console/map").await;
    let m = format!("#mahalla-{}", server::demo::MAHALLA_A.0);
    assert_eq!(b.attr(&m, "data-count").await.as_deref(), Some("1"));
    assert_eq!(b.count(&format!("#dot-{incident}")).await, 1);
    assert_eq!(
        b.attr(
            &format!("#mahalla-{}", server::demo::MAHALLA_B.0),
            "data-count"
        )
        .await
        .as_deref(),
        Some("0")
    );
    // dispatched on the shape itself: with 40 small demo mahallas, the incident's dot may lie
    // over the point a pointer click would use
    b.js(&format!(
        "document.querySelector('{m} path, {m} circle').dispatchEvent(new MouseEvent('click', {{bubbles: true}})); return null;"
    ))
    .await;
    let info = b.text("#map-info").await;
    assert!(
        info.contains("Navbahor") && info.contains("1 incident"),
        "{info}"
    );
    assert_eq!(
        b.attr(&format!("#mahalla-{} path", polygon.0), "fill")
            .await
            .as_deref(),
        Some("#fdcc8a"),
        "the polygon is drawn, in the lightest colour of one incident"
    );
    b.screenshot("04-map").await;

    // 5. The incident, from its dot, with its evidence.
    b.go(&format!("/console/incidents/{incident}")).await;
    b.wait_for(
        "the incident's evidence image",
        "var i = document.querySelector('img.evidence-img'); return !!i && i.complete && i.naturalWidth > 0;",
    )
    .await;
    assert!(b.text("#narrative").await.contains("42 s"));
    b.screenshot("05-incident").await;
    b.go("/console/incidents").await;
    assert_eq!(
        b.count("#incidents tbody tr").await,
        2,
        "the camera's and the citizen's"
    );
    b.screenshot("05b-incidents").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "the browser reported: {errors:?}");

    // 6. Log out; the auditor sees the views of the evidence in the audit log.
    b.click("header .who button").await;
    b.wait_url("/login").await;
    b.log_in("auditor", &password(Role::Auditor)).await;
    b.wait_url("/console/audit").await;
    assert!(
        b.text("#chain-status")
            .await
            .contains("Hash chain verified")
    );
    let target = format!("event:{first}");
    let rows = b
        .js(&format!(
            "return Array.from(document.querySelectorAll('#audit tbody tr')).filter(function (r) {{ \
               return r.cells[3].textContent === 'evidence.view' && r.cells[4].textContent === '{target}'; }}).length;"
        ))
        .await;
    assert!(
        rows.as_u64().unwrap() >= 2,
        "the queue's and the incident's views: {rows}"
    );
    b.screenshot("06-audit-log").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "the browser reported: {errors:?}");

    // 7. An admin creates an inspector through the form; the password is shown once.
    b.click("header .who button").await;
    b.wait_url("/login").await;
    b.log_in("admin", &password(Role::Admin)).await;
    b.wait_url("/console/review").await;
    b.go("/console/users").await;
    b.type_in("#new-user input[name=username]", "inspector.navbahor")
        .await;
    b.type_in("#new-user input[name=display_name]", "Navbahor inspector")
        .await;
    b.type_in(
        "#new-user input[name=scope]",
        &format!("mahalla:{}", server::demo::MAHALLA_B.0),
    )
    .await;
    b.click("#new-user button[type=submit]").await;
    b.wait_for(
        "the new password",
        "return !!document.getElementById('new-password');",
    )
    .await;
    let shown = b.text("#new-password").await;
    assert_eq!(shown.len(), 20, "{shown}");
    let u = db
        .store
        .get_user_by_username("inspector.navbahor")
        .await
        .unwrap()
        .expect("the user was created");
    assert_eq!(u.role, Role::Inspector);
    assert!(server::auth::verify_password(&shown, &u.password_hash));
    b.screenshot("07-users").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "the browser reported: {errors:?}");

    db.store.audit_verify(None).await.unwrap();
}
