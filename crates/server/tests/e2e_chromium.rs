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

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use common::{TestDb, TestServer};
use domain::{NewEvent, Role};
use serde_json::{Value, json};

/// Finds a program on PATH (or where the environment variable says).
fn program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(var) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

fn require_browser() -> (PathBuf, PathBuf) {
    let chromium = program("POSBON_CHROMIUM", &["chromium", "chromium-browser"]);
    let driver = program("POSBON_CHROMEDRIVER", &["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => (c, d),
        (c, d) => panic!(
            "the console's browser test needs Chromium and chromedriver (found chromium: {c:?}, chromedriver: {d:?}).\n\
             Install them with `scripts/install-deps.sh` (Debian packages chromium and chromium-driver), \
             or point POSBON_CHROMIUM and POSBON_CHROMEDRIVER at them."
        ),
    }
}

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    addr: SocketAddr,
}

/// One HTTP/1.1 exchange with chromedriver. It answers `Connection: close` but leaves the
/// socket open, so the body is read by its `Content-Length`, not to the end of the stream.
async fn exchange(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("chromedriver accepts connections");
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let status: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .expect("a status line");
            let len: usize = head
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse().ok())
                .expect("a Content-Length");
            if buf.len() >= end + 4 + len {
                let v = serde_json::from_slice(&buf[end + 4..end + 4 + len])
                    .unwrap_or_else(|e| panic!("chromedriver answered non-JSON ({e})"));
                return (status, v);
            }
        }
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "chromedriver closed the connection mid-answer");
        buf.extend_from_slice(&chunk[..n]);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(path: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e}; run scripts/install-deps.sh",
                    path.display()
                )
            });
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let d = Driver { child, addr };
        let start = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                let (status, v) = exchange(addr, "GET", "/status", None).await;
                if status == 200 && v["value"]["ready"] == true {
                    return d;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not become ready on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let b = body.map(|v| v.to_string());
        let (status, v) = exchange(self.addr, method, path, b.as_deref()).await;
        assert_eq!(status, 200, "WebDriver {method} {path}: {v}");
        v["value"].clone()
    }
}

/// One browser session.
struct Browser<'a> {
    d: &'a Driver,
    id: String,
    base: String,
    shots: PathBuf,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Ends the session even when the test fails half-way: chromedriver then closes Chromium (which
/// would outlive a killed chromedriver). Blocking, best effort, at most a few seconds.
impl Drop for Browser<'_> {
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect_timeout(&self.d.addr, Duration::from_secs(2))
        else {
            return;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let req = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            self.id, self.d.addr
        );
        if s.write_all(req.as_bytes()).is_ok() {
            // The answer comes once the browser has quit.
            let _ = s.read(&mut [0u8; 1024]);
        }
    }
}

impl Browser<'_> {
    fn p(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.id)
    }

    async fn go(&self, path: &str) {
        self.d
            .call(
                "POST",
                &self.p("/url"),
                Some(json!({ "url": format!("{}{path}", self.base) })),
            )
            .await;
    }

    async fn url(&self) -> String {
        let u = self.d.call("GET", &self.p("/url"), None).await;
        u.as_str()
            .unwrap()
            .trim_start_matches(&self.base)
            .to_owned()
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .d
            .call(
                "POST",
                &self.p("/element"),
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    async fn count(&self, css: &str) -> usize {
        let v = self
            .d
            .call(
                "POST",
                &self.p("/elements"),
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v.as_array().map_or(0, Vec::len)
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.d
            .call(
                "POST",
                &self.p(&format!("/element/{e}/click")),
                Some(json!({})),
            )
            .await;
    }

    async fn type_in(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.d
            .call(
                "POST",
                &self.p(&format!("/element/{e}/clear")),
                Some(json!({})),
            )
            .await;
        self.d
            .call(
                "POST",
                &self.p(&format!("/element/{e}/value")),
                Some(json!({ "text": text })),
            )
            .await;
    }

    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.d
            .call("GET", &self.p(&format!("/element/{e}/text")), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let e = self.find(css).await;
        self.d
            .call(
                "GET",
                &self.p(&format!("/element/{e}/attribute/{name}")),
                None,
            )
            .await
            .as_str()
            .map(str::to_owned)
    }

    async fn js(&self, script: &str) -> Value {
        self.d
            .call(
                "POST",
                &self.p("/execute/sync"),
                Some(json!({ "script": script, "args": [] })),
            )
            .await
    }

    /// Waits until the browser is at `path` (a form's answer may still be on its way).
    async fn wait_url(&self, path: &str) {
        let start = Instant::now();
        loop {
            let now = self.url().await;
            if now == path {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "at {now}, expected {path}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `script` returns true.
    async fn wait_for(&self, what: &str, script: &str) {
        let start = Instant::now();
        while self.js(script).await != Value::Bool(true) {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let b64 = self.d.call("GET", &self.p("/screenshot"), None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
    }

    async fn log_in(&self, username: &str, password: &str) {
        self.go("/login").await;
        self.type_in("#username", username).await;
        self.type_in("#password", password).await;
        self.click("#login-submit").await;
    }

    /// Console errors the page reported (a blocked resource, a CSP violation, a script error).
    async fn console_errors(&self) -> Vec<String> {
        let v = self
            .d
            .call(
                "POST",
                &self.p("/se/log"),
                Some(json!({ "type": "browser" })),
            )
            .await;
        v.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_confirms_an_event_finds_it_on_the_map_and_the_auditor_sees_the_view() {
    let (chromium, chromedriver) = require_browser();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();

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
    let caps = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": {
            "binary": chromium.to_string_lossy(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1366,1000", "--no-first-run", "--no-default-browser-check",
                     "--disable-extensions", "--disable-background-networking"]
        }
    } } });
    let session = driver.call("POST", "/session", Some(caps)).await;
    let b = Browser {
        d: &driver,
        id: session["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .to_owned(),
        base: format!("http://{}", srv.addr),
        shots,
    };

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
