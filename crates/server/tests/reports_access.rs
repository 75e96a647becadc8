//! Citizen reports and evidence access requests, end to end over HTTP on SQLite and PostgreSQL.
//! The server runs over a store whose clock the test moves, with a real data folder holding a
//! real sealed original (made with the seal crate) and the key to open it. Every test ends by
//! checking the audit chain.
mod common;

use std::sync::Arc;

use common::{Client, Resp, TestDb};
use domain::{
    CameraId, EventId, GeoPoint, ManualClock, NewCamera, NewEvent, Role, Scope, Timestamp,
};
use seal::SealKey;
use serde_json::{Value, json};
use server::demo::{DISTRICT, MAHALLA_A, MAHALLA_B, REGION};
use server::reports::ReportLimits;
use store::Store;

const PASSWORD: &str = "correct horse battery staple";
const ORIGINAL: &str = "evidence/originals/gate-f000042.jpg.sealed";
const TAMPERED: &str = "evidence/originals/gate-f000043.jpg.sealed";

/// The server on 127.0.0.1:0 with a given configuration, stopped when dropped.
struct Srv {
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Srv {
    async fn start(store: &Store, config: server::Config) -> Srv {
        let state = server::AppState::new(store.clone(), &config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            server::serve(listener, state, async {
                rx.await.ok();
            })
            .await
            .expect("server");
        });
        Srv {
            addr,
            stop: Some(tx),
        }
    }

    fn client(&self) -> Client {
        Client {
            addr: self.addr,
            cookie: None,
            csrf: None,
        }
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

struct Fx {
    srv: Srv,
    store: Store,
    clock: Arc<ManualClock>,
    event: EventId,
    /// An event from the same camera with no sealed original.
    plain_event: EventId,
    jpeg: Vec<u8>,
    data: tempfile::TempDir,
    camera: CameraId,
}

impl Fx {
    async fn login(&self, username: &str) -> Client {
        let mut c = self.srv.client();
        c.login(username, PASSWORD).await.expect(200);
        c
    }

    fn config(&self, limits: ReportLimits) -> server::Config {
        server::Config {
            data_dir: self.data.path().to_path_buf(),
            evidence_key: Some(self.data.path().join("evidence.key")),
            report_limits: limits,
            ..server::Config::default()
        }
    }
}

/// Demo geography, users (admin, admin2, operator (district), inspector_a, inspector_b,
/// analyst (region), auditor (national), auditor_b (mahalla B)), a camera in mahalla A whose
/// evidence folder holds one sealed original and one altered one, and the server over a store
/// with a manual clock.
async fn setup(db: &TestDb, limits: ReportLimits) -> Fx {
    let (store, clock) = db.with_clock(Timestamp::now()).await;
    server::demo::seed_geography(&store).await.unwrap();
    common::create_users(
        &store,
        PASSWORD,
        &[
            ("admin", Role::Admin, Scope::National),
            ("admin2", Role::Admin, Scope::National),
            ("operator", Role::Operator, Scope::District(DISTRICT)),
            ("inspector_a", Role::Inspector, Scope::Mahalla(MAHALLA_A)),
            ("inspector_b", Role::Inspector, Scope::Mahalla(MAHALLA_B)),
            ("analyst", Role::Analyst, Scope::Region(REGION)),
            ("auditor", Role::Auditor, Scope::National),
            ("auditor_b", Role::Auditor, Scope::Mahalla(MAHALLA_B)),
        ],
    )
    .await;
    let cam = store
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

    // A real key and real sealed files where the pipeline of this camera puts them.
    let data = tempfile::tempdir().unwrap();
    let key = SealKey::generate().unwrap();
    key.save(&data.path().join("evidence.key")).unwrap();
    let folder = server::evidence_dir(data.path(), cam.id);
    std::fs::create_dir_all(folder.join("evidence/originals")).unwrap();
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.extend((0..4096u32).map(|i| (i * 7 % 251) as u8));
    jpeg.extend([0xFF, 0xD9]);
    let name = |p: &str| p.rsplit('/').next().unwrap().to_owned();
    std::fs::write(
        folder.join(ORIGINAL),
        key.seal(&name(ORIGINAL), &jpeg).unwrap(),
    )
    .unwrap();
    let mut altered = key.seal(&name(TAMPERED), &jpeg).unwrap();
    let last = altered.len() - 1;
    altered[last] ^= 0x55;
    std::fs::write(folder.join(TAMPERED), altered).unwrap();

    let event = store
        .insert_event(&NewEvent {
            camera: cam.id,
            rule: "loitering".into(),
            at: store.now().saturating_add_micros(-60_000_000),
            payload: json!({
                "kind": "loitering",
                "images": ["evidence/gate-f000042.jpg"],
                "originals": [ORIGINAL, TAMPERED],
            }),
        })
        .await
        .unwrap();
    let plain = store
        .insert_event(&NewEvent {
            camera: cam.id,
            rule: "loitering".into(),
            at: store.now(),
            payload: json!({ "kind": "loitering", "images": [] }),
        })
        .await
        .unwrap();
    let mut fx = Fx {
        srv: Srv {
            addr: "127.0.0.1:1".parse().unwrap(),
            stop: None,
        },
        store,
        clock,
        event: event.id,
        plain_event: plain.id,
        jpeg,
        data,
        camera: cam.id,
    };
    fx.srv = Srv::start(&fx.store, fx.config(limits)).await;
    fx
}

/// The audit chain is whole, and the log holds `action` at least `n` times.
async fn check_audit(store: &Store, action: &str, n: usize) -> Vec<domain::AuditRecord> {
    store
        .audit_verify(None)
        .await
        .expect("audit chain verifies");
    let all = store.audit_entries(None, 100_000).await.unwrap();
    let found: Vec<_> = all
        .iter()
        .filter(|r| r.entry.action == action)
        .cloned()
        .collect();
    assert!(
        found.len() >= n,
        "{} {action} entries, wanted {n}",
        found.len()
    );
    found
}

fn report_body(narrative: &str) -> Value {
    json!({
        "category": "theft",
        "narrative": narrative,
        "occurred_at": "2024-05-01T09:30:00+05:00",
        "mahalla": MAHALLA_A.0,
        "affected": { "youth": true },
    })
}

/// `R-XXXXX-XXXXX` in Crockford's alphabet.
fn assert_code(code: &str) {
    assert_eq!(code.len(), 13, "{code}");
    let b = code.as_bytes();
    assert!(code.starts_with("R-") && b[7] == b'-', "{code}");
    assert!(
        code[2..7]
            .chars()
            .chain(code[8..].chars())
            .all(|c| "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c)),
        "{code}"
    );
}

async fn post_form(c: &Client, path: &str, form: &[(&str, &str)]) -> Resp {
    let body = serde_urlencoded::to_string(form).unwrap();
    c.raw(
        "POST",
        path,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(body.as_bytes()),
    )
    .await
}

/// A number from raw SQL, past the store.
async fn count(db: &TestDb, sql: &str) -> i64 {
    match db.backend {
        store::Backend::Sqlite => {
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
        store::Backend::Postgres => {
            let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
    }
}

/// Runs raw SQL past the store; the database's answer.
async fn execute(db: &TestDb, sql: &str) -> Result<u64, sqlx::Error> {
    match db.backend {
        store::Backend::Sqlite => {
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .map(|r| r.rows_affected())
        }
        store::Backend::Postgres => {
            let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
                .await
                .unwrap();
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .map(|r| r.rows_affected())
        }
    }
}

async fn report_without_login_code_and_status(db: &TestDb) {
    let f = setup(
        db,
        ReportLimits {
            per_address: 100,
            ..ReportLimits::default()
        },
    )
    .await;
    let public = f.srv.client();

    // JSON: 201 with a code; the status says received and nothing internal.
    let r = public
        .post("/public/reports", &report_body("my bicycle was taken"))
        .await
        .expect(201)
        .json();
    let code = r["code"].as_str().unwrap().to_owned();
    assert_code(&code);
    assert_eq!(r["status"], "received");
    assert_eq!(r["status_url"], format!("/public/reports/{code}"));
    let s = public
        .get(&format!("/public/reports/{code}"))
        .await
        .expect(200)
        .json();
    let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "code",
            "reason",
            "reason_text",
            "status",
            "status_text",
            "submitted_on"
        ],
        "{s}"
    );
    assert_eq!(s["status"], "received");
    assert_eq!(s["code"], code.as_str());
    assert!(s["reason"].is_null());
    // Typed sloppily, it is still found.
    let sloppy = code.to_lowercase().replace('-', " ").replace('0', "o");
    let s2 = public
        .get(&format!("/public/reports/{}", sloppy.replace(' ', "%20")))
        .await
        .expect(200)
        .json();
    assert_eq!(s2["code"], code.as_str());
    public
        .get("/public/reports/R-00000-00000")
        .await
        .expect_error(404);
    public
        .get("/public/reports/R-UUUUU-UUUUU")
        .await
        .expect_error(400);

    // The form page works without scripts and loads nothing from elsewhere; with one district
    // in the database it goes straight to the form.
    let page = public.get("/report").await.expect(200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = page.text();
    assert!(html.contains("action=\"/public/reports\""), "{html}");
    assert!(
        html.contains("Bog&#39;ishamol"),
        "mahalla names are listed: {html}"
    );
    assert!(html.contains(&format!("value=\"{}\"", MAHALLA_A.0)));
    for bad in ["<script", "src=", "href=\"http", "@import", "url("] {
        assert!(!html.contains(bad), "{bad} in the page");
    }
    let ru = public.get("/report?lang=ru").await.expect(200).text();
    assert!(ru.contains("Сообщить о происшествии"), "{ru}");

    // The form: an HTML page with the code.
    let mahalla = MAHALLA_B.0.to_string();
    let r = post_form(
        &public,
        "/public/reports",
        &[
            ("lang", "en"),
            ("district", &DISTRICT.0.to_string()),
            ("mahalla", &mahalla),
            ("category", "drug_offence"),
            // a browser sends a textarea's line breaks as CRLF
            (
                "narrative",
                "stencilled adverts <b>on</b>\r\nthe school wall",
            ),
            ("occurred_at", "2024-05-02T18:45"),
            ("affected_minor", "1"),
            ("contact", "+998 (90) 123-45-67"),
        ],
    )
    .await
    .expect(201);
    let html = r.text();
    let at = html.find("R-").expect("a code in the page");
    let form_code = html[at..at + 13].to_owned();
    assert_code(&form_code);
    let stored = f
        .store
        .get_report_by_code(&domain::ReportCode::parse(&form_code).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.mahalla, Some(MAHALLA_B));
    assert_eq!(
        stored.occurred_at,
        "2024-05-02T13:45:00Z".parse::<Timestamp>().unwrap(),
        "a form's time is Uzbekistan's (UTC+5)"
    );
    assert!(stored.affected.minor && !stored.affected.youth);
    assert_eq!(stored.contact.as_deref(), Some("+998901234567"));
    assert_eq!(
        stored.narrative,
        "stencilled adverts <b>on</b>\nthe school wall"
    );
    let status_html = public
        .get(&format!("/report/status?lang=en&code={form_code}"))
        .await
        .expect(200)
        .text();
    assert!(
        status_html.contains("Received; waiting for a moderator."),
        "{status_html}"
    );
    // A refused form comes back filled in, with the reason, and escaped.
    let r = post_form(
        &public,
        "/public/reports",
        &[
            ("lang", "en"),
            ("district", &DISTRICT.0.to_string()),
            ("mahalla", &mahalla),
            ("category", "theft"),
            ("narrative", "<script>alert(1)</script>"),
            ("occurred_at", "yesterday"),
        ],
    )
    .await
    .expect(400);
    let html = r.text();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>"));
    assert!(html.contains("YYYY-MM-DDTHH:MM"), "{html}");

    // Bad JSON of every kind is a 400/415 with the API's error shape, and nothing is stored.
    let before = count(db, "SELECT COUNT(*) FROM citizen_reports").await;
    let mut b = report_body("x");
    b["category"] = json!("murder");
    public.post("/public/reports", &b).await.expect_error(400);
    let mut b = report_body("x");
    b["extra"] = json!(1);
    public.post("/public/reports", &b).await.expect_error(400);
    let mut b = report_body("x");
    b["mahalla"] = json!(424242);
    let e = public.post("/public/reports", &b).await.expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("424242"), "{e}");
    let mut b = report_body("   ");
    b["mahalla"] = json!(MAHALLA_A.0);
    public.post("/public/reports", &b).await.expect_error(400);
    let mut b = report_body("no place");
    b.as_object_mut().unwrap().remove("mahalla");
    public.post("/public/reports", &b).await.expect_error(400);
    let mut b = report_body("future");
    b["occurred_at"] = json!("2999-01-01T00:00:00Z");
    public.post("/public/reports", &b).await.expect_error(400);
    public
        .raw(
            "POST",
            "/public/reports",
            &[("Content-Type", "text/plain")],
            Some(b"hello"),
        )
        .await
        .expect_error(415);
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM citizen_reports").await,
        before
    );
    check_audit(&f.store, "report.submit", 2).await;
}

async fn anonymous_reports_keep_no_contact(db: &TestDb) {
    let f = setup(db, ReportLimits::default()).await;
    let public = f.srv.client();
    // Anonymous with a contact is refused rather than silently dropped.
    let mut b = report_body("they sell pills at the bus stop");
    b["anonymous"] = json!(true);
    b["contact"] = json!("+998901234567");
    let e = public.post("/public/reports", &b).await.expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("anonymous"), "{e}");
    b.as_object_mut().unwrap().remove("contact");
    let anon = public.post("/public/reports", &b).await.expect(201).json();
    let anon_code = domain::ReportCode::parse(anon["code"].as_str().unwrap()).unwrap();
    let stored = f
        .store
        .get_report_by_code(&anon_code)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.anonymous && stored.contact.is_none());

    // A named report keeps its contact, normalised.
    let mut b = report_body("a named report");
    b["contact"] = json!("Aziz@Example.UZ");
    let named = public.post("/public/reports", &b).await.expect(201).json();
    let named_code = domain::ReportCode::parse(named["code"].as_str().unwrap()).unwrap();
    let named = f
        .store
        .get_report_by_code(&named_code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(named.contact.as_deref(), Some("aziz@example.uz"));
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM citizen_reports WHERE contact IS NOT NULL"
        )
        .await,
        1
    );

    // No client address anywhere: not in the reports, not in the audit log.
    let audit = f.store.audit_entries(None, 10_000).await.unwrap();
    let reports = f
        .store
        .list_reports(&Scope::National, store::ReportFilter::All, None, 100)
        .await
        .unwrap();
    let everything = format!("{audit:?}{reports:?}");
    assert!(!everything.contains("127.0.0.1"), "an address was stored");
    assert!(
        !format!("{audit:?}").contains("aziz@example.uz"),
        "the contact reached the audit log"
    );

    // Moderators see whether there is a contact in the list; the contact itself only on the
    // report's own page, and that showing is audited.
    let a = f.login("inspector_a").await;
    let list = a.get("/api/reports").await.expect(200).json();
    let rows = list["reports"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{list}");
    assert!(!list.to_string().contains("aziz@example.uz"), "{list}");
    let row = rows.iter().find(|r| r["id"] == named.id.0).unwrap();
    assert_eq!(row["has_contact"], true);
    assert!(row.get("contact").is_none());
    let one = a
        .get(&format!("/api/reports/{}", named.id))
        .await
        .expect(200)
        .json();
    assert_eq!(one["report"]["contact"], "aziz@example.uz");
    let one = a
        .get(&format!("/api/reports/{}", stored.id))
        .await
        .expect(200)
        .json();
    assert!(one["report"].get("contact").is_none());
    assert_eq!(one["report"]["anonymous"], true);
    let views = check_audit(&f.store, "report.contact_view", 1).await;
    assert_eq!(views.len(), 1, "only the showing of a contact is audited");
    assert_eq!(views[0].entry.target, format!("report:{}", named.id));
    // Contacts never leave in exports: accepted, the report's incident carries no contact.
    a.post(
        &format!("/api/reports/{}/moderate", named.id),
        &json!({ "decision": "accept" }),
    )
    .await
    .expect(200);
    let csv = a.get("/api/incidents.csv").await.expect(200).text();
    let gj = a.get("/api/incidents.geojson").await.expect(200).text();
    assert!(csv.contains("a named report"), "{csv}");
    assert!(!csv.contains("aziz") && !gj.contains("aziz"));
    // An inspector of another mahalla sees neither report.
    let b = f.login("inspector_b").await;
    b.get(&format!("/api/reports/{}", named.id))
        .await
        .expect_error(404);
    let list = b.get("/api/reports?status=all").await.expect(200).json();
    assert!(list["reports"].as_array().unwrap().is_empty(), "{list}");
}

async fn rate_limits_and_sizes(db: &TestDb) {
    let f = setup(db, ReportLimits::default()).await;
    let public = f.srv.client();
    let per_address = ReportLimits::default().per_address;
    for i in 0..per_address {
        public
            .post("/public/reports", &report_body(&format!("report {i}")))
            .await
            .expect(201);
    }
    let r = public
        .post("/public/reports", &report_body("one too many"))
        .await;
    assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
    let e = r.expect_error(429);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("your network address"),
        "{e}"
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM citizen_reports").await,
        per_address as i64
    );
    // A form gets the refusal as a page.
    let r = post_form(&public, "/public/reports", &[("category", "theft")])
        .await
        .expect(429);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));

    // Status look-ups have their own limit.
    let lookups = ReportLimits::default().lookups_per_address;
    for _ in 0..lookups {
        public
            .get("/public/reports/R-00000-00000")
            .await
            .expect_error(404);
    }
    public
        .get("/public/reports/R-00000-00000")
        .await
        .expect_error(429);

    // The global cap, on a server whose per-address limit is out of the way.
    let srv = Srv::start(
        &f.store,
        f.config(ReportLimits {
            per_address: 100,
            global: 3,
            ..ReportLimits::default()
        }),
    )
    .await;
    let c = srv.client();
    for i in 0..3 {
        c.post("/public/reports", &report_body(&format!("global {i}")))
            .await
            .expect(201);
    }
    let e = c
        .post("/public/reports", &report_body("global 3"))
        .await
        .expect_error(429);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("more reports than it can take"),
        "{e}"
    );

    // Oversized bodies are refused before they are parsed.
    let srv = Srv::start(&f.store, f.config(ReportLimits::default())).await;
    let big = report_body(&"x".repeat(server::reports::MAX_REPORT_BYTES + 1));
    srv.client()
        .post("/public/reports", &big)
        .await
        .expect_error(413);
    // Within the body limit but over the narrative's.
    let long = report_body(&"y".repeat(domain::report::MAX_REPORT_NARRATIVE_CHARS + 1));
    srv.client()
        .post("/public/reports", &long)
        .await
        .expect_error(400);
    check_audit(&f.store, "report.submit", per_address + 3).await;
}

async fn duplicates_are_stored_once(db: &TestDb) {
    let f = setup(
        db,
        ReportLimits {
            per_address: 100,
            ..ReportLimits::default()
        },
    )
    .await;
    let public = f.srv.client();
    let body = report_body("a double click");
    let first = public
        .post("/public/reports", &body)
        .await
        .expect(201)
        .json();
    let again = public
        .post("/public/reports", &body)
        .await
        .expect(200)
        .json();
    assert_eq!(first["code"], again["code"]);
    assert_eq!(again["already_received"], true);
    assert_eq!(first["already_received"], false);
    assert_eq!(count(db, "SELECT COUNT(*) FROM citizen_reports").await, 1);
    // Any difference is another report.
    let mut other = body.clone();
    other["affected"] = json!({ "youth": true, "woman": true });
    let third = public
        .post("/public/reports", &other)
        .await
        .expect(201)
        .json();
    assert_ne!(third["code"], first["code"]);
    // Past the window, the same words are a new report.
    f.clock
        .advance_micros(server::reports::DEDUP_WINDOW_MICROS + 1_000_000);
    let later = public
        .post("/public/reports", &body)
        .await
        .expect(201)
        .json();
    assert_ne!(later["code"], first["code"]);
    assert_eq!(count(db, "SELECT COUNT(*) FROM citizen_reports").await, 3);
    // Eight identical reports at once are still one.
    let burst = report_body("sent from eight tabs at once");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = f.srv.client();
            let b = burst.clone();
            tokio::spawn(async move { c.post("/public/reports", &b).await })
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert!(r.status == 201 || r.status == 200, "{}", r.text());
        codes.push(r.json()["code"].as_str().unwrap().to_owned());
    }
    codes.dedup();
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(count(db, "SELECT COUNT(*) FROM citizen_reports").await, 4);
    let submits = check_audit(&f.store, "report.submit", 4).await;
    assert_eq!(submits.len(), 4, "a duplicate writes nothing");
}

async fn moderation_makes_public_incidents_in_scope(db: &TestDb) {
    let f = setup(db, ReportLimits::default()).await;
    let public = f.srv.client();
    let code_of = |v: Value| v["code"].as_str().unwrap().to_owned();
    let accepted = code_of(
        public
            .post(
                "/public/reports",
                &report_body("phone snatched at the market"),
            )
            .await
            .expect(201)
            .json(),
    );
    let rejected = code_of(
        public
            .post("/public/reports", &report_body("noisy neighbours"))
            .await
            .expect(201)
            .json(),
    );
    let mut b = report_body("somewhere near the canal");
    b.as_object_mut().unwrap().remove("mahalla");
    b["point"] = json!({ "lon": 69.25, "lat": 41.315 });
    let placeless = code_of(public.post("/public/reports", &b).await.expect(201).json());
    let id_of = |code: &str| {
        let store = f.store.clone();
        let code = domain::ReportCode::parse(code).unwrap();
        async move { store.get_report_by_code(&code).await.unwrap().unwrap().id.0 }
    };
    let (acc_id, rej_id, pl_id) = (
        id_of(&accepted).await,
        id_of(&rejected).await,
        id_of(&placeless).await,
    );

    let a = f.login("inspector_a").await;
    let b = f.login("inspector_b").await;
    // Roles: an analyst does not moderate.
    let analyst = f.login("analyst").await;
    analyst.get("/api/reports").await.expect_error(403);
    // Scope: B sees nothing of mahalla A, and moderating it reads as missing.
    let q = b.get("/api/reports").await.expect(200).json();
    assert!(q["reports"].as_array().unwrap().is_empty(), "{q}");
    b.post(
        &format!("/api/reports/{acc_id}/moderate"),
        &json!({ "decision": "accept" }),
    )
    .await
    .expect_error(404);
    // A's queue: both of A's reports, oldest first; the one without a mahalla only nationally.
    let q = a
        .get("/api/reports?status=pending")
        .await
        .expect(200)
        .json();
    let ids: Vec<i64> = q["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [acc_id, rej_id], "{q}");
    a.get(&format!("/api/reports/{pl_id}"))
        .await
        .expect_error(404);

    // Review, then accept: a public-source incident in A, reported when the citizen sent it.
    a.post(
        &format!("/api/reports/{acc_id}/moderate"),
        &json!({ "decision": "review" }),
    )
    .await
    .expect(200);
    let s = public
        .get(&format!("/public/reports/{accepted}"))
        .await
        .expect(200)
        .json();
    assert_eq!(s["status"], "under_review");
    f.clock.advance_micros(3_600_000_000);
    let r = a
        .post(
            &format!("/api/reports/{acc_id}/moderate"),
            &json!({ "decision": "accept", "category": "theft", "note": "victim called back" }),
        )
        .await
        .expect(200)
        .json();
    let inc = &r["incident"];
    assert_eq!(inc["source"], "public");
    assert_eq!(inc["status"], "new");
    assert_eq!(inc["mahalla"], MAHALLA_A.0);
    assert_eq!(inc["category"], "theft");
    assert_eq!(inc["affected"]["youth"], true);
    assert_eq!(inc["narrative"], "phone snatched at the market");
    let report = f
        .store
        .get_report(domain::ReportId(acc_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        inc["reported_at"],
        json!(report.submitted_at),
        "reported when it was sent, not when it was accepted"
    );
    assert_eq!(r["report"]["status"], "accepted");
    assert_eq!(r["report"]["incident"], inc["id"]);
    let inc_id = inc["id"].as_i64().unwrap();
    // A sees the incident; B does not.
    a.get(&format!("/api/incidents/{inc_id}")).await.expect(200);
    let la = a.get("/api/incidents").await.expect(200).json();
    assert_eq!(la["incidents"].as_array().unwrap().len(), 1, "{la}");
    b.get(&format!("/api/incidents/{inc_id}"))
        .await
        .expect_error(404);
    let lb = b.get("/api/incidents").await.expect(200).json();
    assert!(lb["incidents"].as_array().unwrap().is_empty(), "{lb}");
    // Decided once.
    a.post(
        &format!("/api/reports/{acc_id}/moderate"),
        &json!({ "decision": "accept" }),
    )
    .await
    .expect_error(409);
    // The public sees "accepted", and nothing of the incident or the moderator.
    let s = public
        .get(&format!("/public/reports/{accepted}"))
        .await
        .expect(200)
        .json();
    assert_eq!(s["status"], "accepted");
    let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "code",
            "reason",
            "reason_text",
            "status",
            "status_text",
            "submitted_on"
        ]
    );
    assert!(!s.to_string().contains("victim called back"), "{s}");

    // Reject: the reason is required and from the list; the public sees its fixed sentence.
    a.post(
        &format!("/api/reports/{rej_id}/moderate"),
        &json!({ "decision": "reject" }),
    )
    .await
    .expect_error(400);
    a.post(
        &format!("/api/reports/{rej_id}/moderate"),
        &json!({ "decision": "reject", "reason": "because I said so" }),
    )
    .await
    .expect_error(400);
    a.post(
        &format!("/api/reports/{rej_id}/moderate"),
        &json!({ "decision": "reject", "reason": "not_a_safety_matter", "note": "internal: neighbour dispute, flat 4" }),
    )
    .await
    .expect(200);
    let s = public
        .get(&format!("/public/reports/{rejected}"))
        .await
        .expect(200)
        .json();
    assert_eq!(s["status"], "rejected");
    assert_eq!(s["reason"], "not_a_safety_matter");
    assert_eq!(
        s["reason_text"],
        domain::RejectReason::NotASafetyMatter.public_text()
    );
    assert!(!s.to_string().contains("flat 4"));
    let page = public
        .get(&format!("/report/status?code={rejected}"))
        .await
        .expect(200)
        .text();
    assert!(page.contains("Qabul qilinmadi."), "{page}");

    // A report without a mahalla: the national admin places it.
    let admin = f.login("admin").await;
    admin
        .post(
            &format!("/api/reports/{pl_id}/moderate"),
            &json!({ "decision": "accept" }),
        )
        .await
        .expect_error(400);
    let r = admin
        .post(
            &format!("/api/reports/{pl_id}/moderate"),
            &json!({ "decision": "accept", "mahalla": MAHALLA_B.0 }),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(r["incident"]["mahalla"], MAHALLA_B.0);
    assert_eq!(
        r["incident"]["point"],
        json!({ "lon": 69.25, "lat": 41.315 })
    );
    // An inspector cannot accept into a mahalla outside their scope.
    let mut other = report_body("another one");
    other["narrative"] = json!("graffiti");
    let oid = id_of(&code_of(
        public
            .post("/public/reports", &other)
            .await
            .expect(201)
            .json(),
    ))
    .await;
    a.post(
        &format!("/api/reports/{oid}/moderate"),
        &json!({ "decision": "accept", "mahalla": MAHALLA_B.0 }),
    )
    .await
    .expect_error(403);

    // Only accepted reports count: public incidents are exactly the accepted reports.
    let public_incidents =
        count(db, "SELECT COUNT(*) FROM incidents WHERE source = 'public'").await;
    let accepted_reports = count(
        db,
        "SELECT COUNT(*) FROM citizen_reports WHERE status = 'accepted'",
    )
    .await;
    assert_eq!((public_incidents, accepted_reports), (2, 2));
    let moderations = check_audit(&f.store, "report.moderate", 4).await;
    assert!(
        moderations
            .iter()
            .any(|m| m.entry.details["decision"] == "accept"
                && m.entry.details["incident"] == inc_id)
    );
    check_audit(&f.store, "incident.create", 2).await;
}

async fn access_requests_open_originals_only_while_approved(db: &TestDb) {
    let f = setup(db, ReportLimits::default()).await;
    let ev = f.event.0;
    let a = f.login("inspector_a").await;
    let b = f.login("inspector_b").await;
    let auditor = f.login("auditor").await;
    let auditor_b = f.login("auditor_b").await;
    let admin = f.login("admin").await;
    let body = |case: &str| json!({ "event": ev, "case_ref": case, "reason": "theft at the gate, identify the vehicle" });

    // Who may ask: not an auditor; not for an event outside one's scope; only with a case
    // reference; only for an event with an original.
    auditor
        .post("/api/access-requests", &body("2024/17"))
        .await
        .expect_error(403);
    b.post("/api/access-requests", &body("2024/17"))
        .await
        .expect_error(404);
    a.post("/api/access-requests", &body(""))
        .await
        .expect_error(400);
    a.post("/api/access-requests", &body("x; DROP TABLE"))
        .await
        .expect_error(400);
    a.post(
        "/api/access-requests",
        &json!({ "event": f.plain_event.0, "case_ref": "2024/17", "reason": "r" }),
    )
    .await
    .expect_error(400);
    let req = a
        .post("/api/access-requests", &body("2024/17-ЖК"))
        .await
        .expect(201)
        .json();
    let id = req["id"].as_i64().unwrap();
    assert_eq!(req["status"], "requested");
    assert_eq!(req["originals"], 2);
    assert_eq!(req["can_open"], false);

    // Not yet approved: nothing opens.
    let e = a
        .get(&format!("/api/access-requests/{id}/original/0"))
        .await
        .expect_error(403);
    assert!(
        e["error"].as_str().unwrap().contains("not been approved"),
        "{e}"
    );
    // An inspector cannot approve (and an approver outside the scope cannot see it).
    a.post(
        &format!("/api/access-requests/{id}/decision"),
        &json!({ "decision": "approve" }),
    )
    .await
    .expect_error(403);
    auditor_b
        .post(
            &format!("/api/access-requests/{id}/decision"),
            &json!({ "decision": "approve" }),
        )
        .await
        .expect_error(404);
    let l = auditor_b
        .get("/api/access-requests")
        .await
        .expect(200)
        .json();
    assert!(l["pending"].as_array().unwrap().is_empty(), "{l}");
    // The national auditor sees it pending and may decide it; hours are bounded.
    let l = auditor.get("/api/access-requests").await.expect(200).json();
    assert_eq!(l["pending"][0]["id"], id, "{l}");
    assert_eq!(l["pending"][0]["can_decide"], true);
    assert_eq!(l["pending"][0]["requester"]["username"], "inspector_a");
    assert!(l["mine"].as_array().unwrap().is_empty());
    auditor
        .post(
            &format!("/api/access-requests/{id}/decision"),
            &json!({ "decision": "approve", "hours": 73 }),
        )
        .await
        .expect_error(400);
    let approved_at = f.store.now();
    let d = auditor
        .post(
            &format!("/api/access-requests/{id}/decision"),
            &json!({ "decision": "approve", "hours": 1 }),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(d["status"], "approved");
    assert_eq!(d["approver"]["username"], "auditor");
    assert_eq!(
        d["expires_at"],
        json!(approved_at.saturating_add_micros(3_600_000_000))
    );
    auditor
        .post(
            &format!("/api/access-requests/{id}/decision"),
            &json!({ "decision": "deny" }),
        )
        .await
        .expect_error(409);

    // The requester opens the original: the bytes sealed by the seal crate, not cached.
    let r = a
        .get(&format!("/api/access-requests/{id}/original/0"))
        .await
        .expect(200);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    assert!(r.header("cache-control").unwrap().contains("no-store"));
    assert_eq!(
        r.body, f.jpeg,
        "the original opens to the bytes that were sealed"
    );
    // Nobody else opens it: the approver is told so, others cannot see the request at all.
    auditor
        .get(&format!("/api/access-requests/{id}/original/0"))
        .await
        .expect_error(403);
    let op = f.login("operator").await;
    op.get(&format!("/api/access-requests/{id}/original/0"))
        .await
        .expect_error(404);
    b.get(&format!("/api/access-requests/{id}/original/0"))
        .await
        .expect_error(404);
    // Indexes outside the list, and an altered file, do not open.
    a.get(&format!("/api/access-requests/{id}/original/2"))
        .await
        .expect_error(404);
    a.get(&format!("/api/access-requests/{id}/original/x"))
        .await
        .expect_error(404);
    let e = a
        .get(&format!("/api/access-requests/{id}/original/1"))
        .await
        .expect_error(500);
    assert!(e["error"].as_str().unwrap().contains("altered"), "{e}");
    check_audit(&f.store, "evidence.original_unreadable", 1).await;

    // An hour later the approval has expired: 410, and it says so.
    f.clock.advance_micros(3_600_000_000);
    let e = a
        .get(&format!("/api/access-requests/{id}/original/0"))
        .await
        .expect_error(410);
    assert!(e["error"].as_str().unwrap().contains("expired"), "{e}");
    let mine = a.get("/api/access-requests").await.expect(200).json();
    assert_eq!(mine["mine"][0]["shown_status"], "expired", "{mine}");
    assert_eq!(mine["mine"][0]["can_open"], false);
    assert!(mine["pending"].as_array().unwrap().is_empty());

    // A denied request never opens.
    let denied = a
        .post("/api/access-requests", &body("2024/18"))
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();
    admin
        .post(
            &format!("/api/access-requests/{denied}/decision"),
            &json!({ "decision": "deny" }),
        )
        .await
        .expect(200);
    a.get(&format!("/api/access-requests/{denied}/original/0"))
        .await
        .expect_error(403);
    admin
        .post(
            &format!("/api/access-requests/{denied}/decision"),
            &json!({ "decision": "approve" }),
        )
        .await
        .expect_error(409);

    // Nobody approves their own request, not even an admin; a second admin may.
    let own = admin
        .post("/api/access-requests", &body("2024/19"))
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();
    let e = admin
        .post(
            &format!("/api/access-requests/{own}/decision"),
            &json!({ "decision": "approve" }),
        )
        .await
        .expect_error(403);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("you made this request"),
        "{e}"
    );
    let l = admin.get("/api/access-requests").await.expect(200).json();
    let row = l["pending"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == own)
        .unwrap();
    assert_eq!(row["can_decide"], false);
    let admin2 = f.login("admin2").await;
    admin2
        .post(
            &format!("/api/access-requests/{own}/decision"),
            &json!({ "decision": "approve" }),
        )
        .await
        .expect(200);
    let r = admin
        .get(&format!("/api/access-requests/{own}/original/0"))
        .await
        .expect(200);
    assert_eq!(r.body, f.jpeg);
    // The requester may end the approval early; then it no longer opens.
    admin
        .post(
            &format!("/api/access-requests/{own}/decision"),
            &json!({ "decision": "revoke" }),
        )
        .await
        .expect(200);
    admin
        .get(&format!("/api/access-requests/{own}/original/0"))
        .await
        .expect_error(403);
    // The store refuses a self-approval whatever the server checked, and so does the database.
    let fresh = a
        .post("/api/access-requests", &body("2024/20"))
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();
    let requester = f
        .store
        .get_access_request(domain::AccessRequestId(fresh))
        .await
        .unwrap()
        .unwrap()
        .requester;
    let e = f
        .store
        .decide_access_request(
            domain::AccessRequestId(fresh),
            domain::AccessDecision::Approve { hours: 1 },
            requester,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("second person"), "{e}");
    let raw = execute(
        db,
        &format!(
            "UPDATE access_requests SET status = 'approved', approver_id = requester_id, \
             decided_at = requested_at, expires_at = requested_at WHERE id = {fresh}"
        ),
    )
    .await;
    assert!(raw.is_err(), "the database accepted a self-approval");

    // Every step is in the chain, which verifies.
    let asks = check_audit(&f.store, "evidence.access_request", 4).await;
    assert_eq!(asks[0].entry.details["case_ref"], "2024/17-ЖК");
    assert_eq!(asks[0].entry.target, format!("event:{ev}"));
    let decisions = check_audit(&f.store, "evidence.access_decision", 4).await;
    assert!(
        decisions
            .iter()
            .any(|d| d.entry.details["decision"] == "revoke")
    );
    let views = check_audit(&f.store, "evidence.original_view", 2).await;
    assert_eq!(views.len(), 2, "exactly the two openings are recorded");
    assert_eq!(views[0].entry.details["request"], id);
    assert_eq!(views[0].entry.details["file"], ORIGINAL);
    assert_eq!(
        count(
            db,
            &format!(
                "SELECT COUNT(*) FROM access_requests WHERE camera_id = {}",
                f.camera.0
            )
        )
        .await,
        4
    );
}

async fn no_key_no_original(db: &TestDb) {
    let f = setup(db, ReportLimits::default()).await;
    let srv = Srv::start(
        &f.store,
        server::Config {
            data_dir: f.data.path().to_path_buf(),
            ..server::Config::default()
        },
    )
    .await;
    let mut a = srv.client();
    a.login("inspector_a", PASSWORD).await.expect(200);
    let id = a
        .post(
            "/api/access-requests",
            &json!({ "event": f.event.0, "case_ref": "K-1", "reason": "r" }),
        )
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();
    let mut au = srv.client();
    au.login("auditor", PASSWORD).await.expect(200);
    au.post(
        &format!("/api/access-requests/{id}/decision"),
        &json!({ "decision": "approve" }),
    )
    .await
    .expect(200);
    let e = a
        .get(&format!("/api/access-requests/{id}/original/0"))
        .await
        .expect_error(503);
    assert!(e["fix"].as_str().unwrap().contains("--evidence-key"), "{e}");
    // A key file that is not a key stops the server from starting, saying how to make one.
    std::fs::write(f.data.path().join("bad.key"), "not a key").unwrap();
    let e = server::AppState::new(
        f.store.clone(),
        &server::Config {
            evidence_key: Some(f.data.path().join("bad.key")),
            ..server::Config::default()
        },
    )
    .err()
    .expect("a bad key is refused");
    assert!(e.to_string().contains("posbon evidence keygen"), "{e}");
    f.store.audit_verify(None).await.unwrap();
}

on_both_databases!(
    report_without_login_code_and_status,
    anonymous_reports_keep_no_contact,
    rate_limits_and_sizes,
    duplicates_are_stored_once,
    moderation_makes_public_incidents_in_scope,
    access_requests_open_originals_only_while_approved,
    no_key_no_original,
);
