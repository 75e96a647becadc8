//! The banks' payee check and bank API keys end to end, on SQLite and PostgreSQL: the real
//! server on 127.0.0.1:0, keys issued through the API and the console, reports added to the
//! server's own index (`state.threats`), and every refusal: no key, unknown and revoked keys,
//! over the rate, malformed and impossible values, oversized bodies, sessions and keys used for
//! each other's endpoints. The key must never reach the logs (all of this process's are
//! captured) or the database in clear.
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{Client, Resp, TestDb, TestServer};
use cyber::IndicatorKind;
use domain::{Role, Scope};
use serde_json::{Value, json};
use server::demo::REGION;

const PASSWORD: &str = "correct horse battery staple";
const CARD: &str = "8600 3129 1234 5671";
const PHONE: &str = "+998 90 123 45 67";

/// Every log line of this test process.
fn logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    LOGS.get_or_init(|| Mutex::new(Vec::new()))
}

struct Capture;

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        logs().lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(|| Capture)
            .with_ansi(false)
            .init();
    });
}

fn logged() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

struct Fixture {
    server: TestServer,
    state: server::AppState,
}

/// Demo geography; users admin (national), admin_region (an admin of one region) and analyst;
/// the server over a state the test keeps, so it can add reports to the server's index.
async fn setup(db: &TestDb) -> Fixture {
    capture_logs();
    server::demo::seed_geography(&db.store).await.unwrap();
    common::create_users(
        &db.store,
        PASSWORD,
        &[
            ("admin", Role::Admin, Scope::National),
            ("admin_region", Role::Admin, Scope::Region(REGION)),
            ("analyst", Role::Analyst, Scope::National),
        ],
    )
    .await;
    let state = server::AppState::new(db.store.clone(), &server::Config::default()).unwrap();
    Fixture {
        server: TestServer::start_with(state.clone()).await,
        state,
    }
}

async fn logged_in(f: &Fixture, username: &str) -> Client {
    let mut c = f.server.client();
    c.login(username, PASSWORD).await.expect(200);
    c
}

/// Issues a key through the API as `admin`: (id, key).
async fn issue(admin: &Client, bank: &str, rate: u32) -> (i64, String) {
    let r = admin
        .post(
            "/api/bank-keys",
            &json!({ "bank": bank, "rate_per_second": rate }),
        )
        .await
        .expect(201);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = r.json();
    let key = v["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with(v["bank_key"]["prefix"].as_str().unwrap()));
    (v["bank_key"]["id"].as_i64().unwrap(), key)
}

/// A payee check with `key` (no session).
async fn check(f: &Fixture, key: &str, kind: &str, value: &str) -> Resp {
    let auth = format!("Bearer {key}");
    let body = json!({ "kind": kind, "value": value }).to_string();
    f.server
        .client()
        .raw(
            "POST",
            "/api/payee-check",
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/json"),
            ],
            Some(body.as_bytes()),
        )
        .await
}

/// Reports `values` (kind, value) as one victim's report in the server's index.
fn report(f: &Fixture, id: u64, days_ago: i64, loss: u64, values: &[(IndicatorKind, &str)]) {
    let t = &f.state.threats;
    let inds: Vec<_> = values
        .iter()
        .map(|(k, v)| t.extractor().field(*k, v).unwrap())
        .collect();
    let now = f.state.store_now().unix_micros() / 1_000_000;
    t.add_report(id, now - days_ago * 86_400 - 60, loss, &inds);
}

/// The key is in neither the SQLite file (nor its WAL) nor, on either backend, any stored
/// bank key or audit entry; and not in this process's logs.
async fn key_is_nowhere(db: &TestDb, key: &str) {
    if let Some(path) = db.url.strip_prefix("sqlite:") {
        for p in [path.to_owned(), format!("{path}-wal")] {
            let bytes = std::fs::read(&p).unwrap_or_default();
            assert!(
                !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
                "the key is in clear in {p}"
            );
        }
        assert!(std::fs::metadata(path).unwrap().len() > 0);
    }
    let secret = &key[server::bank_keys::PREFIX_CHARS..];
    for k in db.store.list_bank_keys().await.unwrap() {
        assert!(!format!("{k:?}").contains(secret));
    }
    for e in db.store.audit_entries(None, 10_000).await.unwrap() {
        assert!(!format!("{e:?}").contains(secret), "{e:?}");
    }
    let logs = logged();
    assert!(logs.contains("bank key issued"), "the logs are captured");
    assert!(!logs.contains(secret), "the key is in the logs");
}

async fn issue_check_revoke(db: &TestDb) {
    let f = setup(db).await;
    let admin = logged_in(&f, "admin").await;
    let (id, key) = issue(&admin, "Xalq banki", 1000).await;

    // Nothing reported yet.
    let v = check(&f, &key, "card", CARD).await.expect(200).json();
    assert_eq!(v["verdict"], "not_reported");
    assert_eq!(v["checked"], "860031…5671");
    assert_eq!(
        (v["reports"].clone(), v["days_since"].clone()),
        (json!(0), Value::Null)
    );

    // Two reports linked by the phone: one campaign of two, 1,500,000 tiyin lost.
    report(
        &f,
        1,
        10,
        500_000,
        &[(IndicatorKind::Card, CARD), (IndicatorKind::Phone, PHONE)],
    );
    report(
        &f,
        2,
        3,
        1_000_000,
        &[(IndicatorKind::Phone, "90 123 45 67")],
    );
    let r = check(&f, &key, "card", "8600-3129-1234-5671")
        .await
        .expect(200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let v = r.json();
    assert_eq!(v["verdict"], "reported", "{v}");
    assert_eq!(v["reports"], 1);
    assert_eq!(v["days_since"], 10);
    assert_eq!(v["campaign_reports"], 2);
    assert_eq!(v["campaign_loss_tiyin"], 1_500_000);
    assert!(
        v["advice"].as_str().unwrap().contains("hold the payment"),
        "{v}"
    );
    assert!(v["last_reported"].as_str().unwrap().ends_with('Z'));
    let v = check(&f, &key, "phone", "8 (90) 123-45-67")
        .await
        .expect(200)
        .json();
    assert_eq!(
        (v["reports"].clone(), v["days_since"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(v["checked"], "+998901234567");
    let v = check(&f, &key, "iban", "GB82 WEST 1234 5698 7654 32")
        .await
        .expect(200)
        .json();
    assert_eq!(v["verdict"], "not_reported");

    // The list shows the key's use, never the key.
    let list = admin.get("/api/bank-keys").await.expect(200);
    assert!(!list.text().contains(&key[4..]));
    let k = &list.json()["bank_keys"][0];
    assert_eq!(
        (k["id"].as_i64(), k["status"].as_str()),
        (Some(id), Some("active"))
    );
    assert_eq!(k["checks_since_start"], 4);
    assert_eq!(k["bank"], "Xalq banki");

    // Metrics count verdicts and keys, never values.
    let m = admin.get("/metrics").await.expect(200).text();
    assert!(
        m.contains("posbon_payee_checks_total{verdict=\"reported\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("posbon_payee_checks_total{verdict=\"not_reported\"} 2"),
        "{m}"
    );
    assert!(
        m.contains(&format!(
            "posbon_payee_key_requests_total{{key_id=\"{id}\",outcome=\"admitted\"}} 4"
        )),
        "{m}"
    );
    assert!(!m.contains("998901234567") && !m.contains("860031"), "{m}");

    // Revoked: refused at once, with the same answer as a key that never existed.
    let r = admin
        .post(&format!("/api/bank-keys/{id}/revoke"), &json!({}))
        .await
        .expect(200);
    assert_eq!(r.json()["bank_key"]["status"], "revoked");
    let revoked = check(&f, &key, "card", CARD).await;
    assert_eq!(revoked.header("www-authenticate"), Some("Bearer"));
    let revoked = revoked.expect_error(401);
    let other = server::bank_keys::generate_key().unwrap().key;
    let unknown = check(&f, &other, "card", CARD).await.expect_error(401);
    assert_eq!(revoked, unknown);
    admin
        .post(&format!("/api/bank-keys/{id}/revoke"), &json!({}))
        .await
        .expect_error(409);
    admin
        .post("/api/bank-keys/999/revoke", &json!({}))
        .await
        .expect_error(404);

    // Audited, and the chain holds.
    db.store.audit_verify(None).await.unwrap();
    let entries = db.store.audit_entries(None, 10_000).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.entry.action.as_str()).collect();
    assert!(actions.contains(&"bank_key.create") && actions.contains(&"bank_key.revoke"));
    key_is_nowhere(db, &key).await;
}

async fn refusals(db: &TestDb) {
    let f = setup(db).await;
    let admin = logged_in(&f, "admin").await;
    let (_, key) = issue(&admin, "Kapitalbank", 1000).await;

    // Impossible values: 400 naming the field and what is wrong.
    for (kind, value, says) in [
        ("card", "8600 3129 1234 5670", "Luhn"),
        ("card", "8600 3129 1234", "13 to 19 digits"),
        ("card", "8600 31x9 1234 5671", "card number"),
        ("iban", "GB82 WEST 1234 5698 7654 33", "mod 97"),
        ("iban", "XX82 1234", "IBAN"),
        ("phone", "+998 12 345 67 89", "phone number"),
        ("phone", "12345", "phone number"),
        (
            "phone",
            "+998 90 123 45 67; DROP TABLE bank_keys",
            "phone number",
        ),
        ("card", "", "empty"),
        ("link", "https://evil.example", "kind"),
        ("CARD", CARD, "kind"),
    ] {
        let v = check(&f, &key, kind, value).await.expect_error(400);
        let e = v["error"].as_str().unwrap();
        assert!(
            e.contains(says) && (e.contains("value") || e.contains("kind")),
            "{kind} {value:?}: {v}"
        );
    }
    let auth = format!("Bearer {key}");
    let with_key = |ct: &'static str| {
        vec![
            ("Authorization", auth.clone()),
            ("Content-Type", ct.to_owned()),
        ]
    };
    let send = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let c = f.server.client();
        async move {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.raw("POST", "/api/payee-check", &h, Some(&body)).await
        }
    };
    // Malformed JSON, a missing or unknown field: 400.
    for body in [
        "{\"kind\":\"card\",".to_owned(),
        json!({ "kind": "card" }).to_string(),
        json!({ "kind": "card", "value": CARD, "amount": 5 }).to_string(),
        json!({ "kind": 3, "value": CARD }).to_string(),
    ] {
        send(with_key("application/json"), body.into_bytes())
            .await
            .expect_error(400);
    }
    // Not JSON: 415. Over 4 KiB: 413 (a 5 KiB value and a 1 MB body).
    send(with_key("text/plain"), b"card".to_vec())
        .await
        .expect_error(415);
    let padded =
        json!({ "kind": "card", "value": format!("{CARD}{}", " ".repeat(5000)) }).to_string();
    send(with_key("application/json"), padded.into_bytes())
        .await
        .expect_error(413);
    send(with_key("application/json"), vec![b'{'; 1 << 20])
        .await
        .expect_error(413);

    // No key, another scheme, a malformed key: 401 with WWW-Authenticate.
    let no_key = send(
        vec![("Content-Type", "application/json".into())],
        json!({ "kind": "card", "value": CARD })
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(no_key.header("www-authenticate"), Some("Bearer"));
    assert!(
        no_key.expect_error(401)["error"]
            .as_str()
            .unwrap()
            .contains("needs a bank API key")
    );
    for auth in [
        "Basic YWRtaW46YWRtaW4=".to_owned(),
        "Bearer ".to_owned(),
        format!("Bearer {}x", &key),
        format!("Bearer {}", key.to_uppercase()),
    ] {
        send(
            vec![
                ("Authorization", auth),
                ("Content-Type", "application/json".into()),
            ],
            json!({ "kind": "card", "value": CARD })
                .to_string()
                .into_bytes(),
        )
        .await
        .expect_error(401);
    }

    // Over the key's rate: 429 with Retry-After, then it recovers.
    let (_, slow) = issue(&admin, "Slow bank", 1).await;
    check(&f, &slow, "phone", PHONE).await.expect(200);
    let r = check(&f, &slow, "phone", PHONE).await;
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(
        r.expect_error(429)["error"]
            .as_str()
            .unwrap()
            .contains("1 checks a second")
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    check(&f, &slow, "phone", PHONE).await.expect(200);
    // the first key's bucket is its own
    check(&f, &key, "phone", PHONE).await.expect(200);

    let m = admin.get("/metrics").await.expect(200).text();
    assert!(
        m.contains("posbon_payee_refused_total{reason=\"rate_limited\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("posbon_payee_checks_total{verdict=\"invalid\"} 18"),
        "{m}"
    );
    key_is_nowhere(db, &key).await;
    key_is_nowhere(db, &slow).await;
}

async fn sessions_and_keys_do_not_mix(db: &TestDb) {
    let f = setup(db).await;
    let admin = logged_in(&f, "admin").await;
    let analyst = logged_in(&f, "analyst").await;
    let (_, key) = issue(&admin, "Ipoteka bank", 1000).await;

    // A session (with its CSRF token) is no bank key.
    for c in [&admin, &analyst] {
        c.post(
            "/api/payee-check",
            &json!({ "kind": "card", "value": CARD }),
        )
        .await
        .expect_error(401);
    }
    // A bank key is no session.
    let auth = format!("Bearer {key}");
    let bank = f.server.client();
    for (method, path) in [
        ("GET", "/api/incidents"),
        ("GET", "/api/bank-keys"),
        ("POST", "/api/bank-keys"),
        ("GET", "/api/me"),
    ] {
        bank.raw(
            method,
            path,
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/json"),
            ],
            Some(b"{\"bank\":\"x\"}"),
        )
        .await
        .expect_error(401);
    }
    // Keys are managed by national admins only.
    analyst.get("/api/bank-keys").await.expect_error(403);
    analyst
        .post("/api/bank-keys", &json!({ "bank": "Analyst bank" }))
        .await
        .expect_error(403);
    let regional = logged_in(&f, "admin_region").await;
    regional.get("/api/bank-keys").await.expect_error(403);
    regional
        .post("/api/bank-keys/1/revoke", &json!({}))
        .await
        .expect_error(403);
    // CSRF is checked for the admin's changes.
    let mut no_csrf = logged_in(&f, "admin").await;
    no_csrf.csrf = None;
    no_csrf
        .post("/api/bank-keys", &json!({ "bank": "No CSRF" }))
        .await
        .expect_error(403);
    // Bad values are named; nothing is written.
    for body in [
        json!({ "bank": "" }),
        json!({ "bank": "   " }),
        json!({ "bank": "x".repeat(201) }),
        json!({ "bank": "Bell\u{7}bank" }),
        json!({ "bank": "A", "rate_per_second": 0 }),
        json!({ "bank": "A", "rate_per_second": 100_001 }),
        json!({ "bank": "A", "rate_per_second": -1 }),
        json!({ "bank": "A", "key": "pbk_mine" }),
    ] {
        admin.post("/api/bank-keys", &body).await.expect_error(400);
    }
    assert_eq!(db.store.list_bank_keys().await.unwrap().len(), 1);
    // The default rate is 100 a second.
    let v = admin
        .post("/api/bank-keys", &json!({ "bank": "Default rate" }))
        .await
        .expect(201)
        .json();
    assert_eq!(v["bank_key"]["rate_per_second"], 100);
    db.store.audit_verify(None).await.unwrap();
}

/// A key issued or revoked by another process (the CLI, another server) reaches this server's
/// memory: an unknown key makes it read the keys again (at most once a second).
async fn keys_from_another_process(db: &TestDb) {
    let f = setup(db).await;
    let admin = logged_in(&f, "admin").await;
    let (_, key) = issue(&admin, "Asaka bank", 1000).await;
    check(&f, &key, "phone", PHONE).await.expect(200);
    let cli = domain::Actor::system("cli").unwrap();
    let (stored, fresh) = server::bank_keys::issue(&db.store, "Hamkorbank", 10, &cli)
        .await
        .unwrap();
    // at most one refusal while the last reload is under a second old
    let first = check(&f, &fresh.key, "phone", PHONE).await.status;
    if first != 200 {
        assert_eq!(first, 401);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        check(&f, &fresh.key, "phone", PHONE).await.expect(200);
    }
    let known = f.state.payee.keys.counts();
    assert!(known.iter().any(|c| c.0 == stored.id), "{known:?}");
    db.store.revoke_bank_key(stored.id, &cli).await.unwrap();
    // revoked elsewhere: this server learns it at its next refresh (REFRESH_EVERY); after an
    // invalidation (as a restart would) the key is refused
    f.state.payee.keys.invalidate();
    check(&f, &fresh.key, "phone", PHONE)
        .await
        .expect_error(401);
    check(&f, &key, "phone", PHONE).await.expect(200);
}

async fn console_issue_and_revoke(db: &TestDb) {
    let f = setup(db).await;
    let admin = logged_in(&f, "admin").await;
    let csrf = admin.csrf.clone().unwrap();
    let page = admin.get("/console/bank-keys").await.expect(200).text();
    assert!(page.contains("Bank API keys") && page.contains("id=\"new-bank-key\""));
    // the navigation offers it to admins, not to analysts
    assert!(
        admin
            .get("/console/incidents")
            .await
            .text()
            .contains("href=\"/console/bank-keys\"")
    );
    let analyst = logged_in(&f, "analyst").await;
    assert!(
        !analyst
            .get("/console/incidents")
            .await
            .text()
            .contains("/console/bank-keys")
    );
    assert_eq!(analyst.get("/console/bank-keys").await.status, 403);
    assert_eq!(
        logged_in(&f, "admin_region")
            .await
            .get("/console/bank-keys")
            .await
            .status,
        403
    );

    // Without the form's CSRF token nothing is issued.
    let r = admin
        .post_form("/console/bank-keys", &[("_csrf", "0"), ("bank", "Forged")])
        .await;
    assert_eq!(r.status, 403);
    // A bad rate is named on the page.
    let r = admin
        .post_form(
            "/console/bank-keys",
            &[
                ("_csrf", &csrf),
                ("bank", "Aloqabank"),
                ("rate_per_second", "fast"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("not a whole number"));
    assert!(db.store.list_bank_keys().await.unwrap().is_empty());

    // Issued: the key is on this page once, escaped like all text.
    let r = admin
        .post_form(
            "/console/bank-keys",
            &[
                ("_csrf", &csrf),
                ("bank", "Aloqa <bank>"),
                ("rate_per_second", "50"),
            ],
        )
        .await
        .expect(200);
    let page = r.text();
    assert!(page.contains("Aloqa &lt;bank&gt;") && !page.contains("Aloqa <bank>"));
    let start = page.find("id=\"new-key\">").expect("the key is shown") + "id=\"new-key\">".len();
    let key = page[start..start + 68].to_owned();
    assert!(server::bank_keys::looks_like_key(&key), "{key}");
    check(&f, &key, "phone", PHONE).await.expect(200);
    // and never again
    let again = admin.get("/console/bank-keys").await.expect(200).text();
    assert!(!again.contains(&key[4..]));
    assert!(again.contains(&key[..server::bank_keys::PREFIX_CHARS]));

    // Revoked from the console: refused at once.
    let id = db.store.list_bank_keys().await.unwrap()[0].id;
    let path = format!("/console/bank-keys/{id}/revoke");
    assert_eq!(admin.post_form(&path, &[("_csrf", "0")]).await.status, 403);
    check(&f, &key, "phone", PHONE).await.expect(200);
    let r = admin.post_form(&path, &[("_csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    check(&f, &key, "phone", PHONE).await.expect_error(401);
    assert!(
        admin
            .get("/console/bank-keys")
            .await
            .text()
            .contains("revoked")
    );
    db.store.audit_verify(None).await.unwrap();
    key_is_nowhere(db, &key).await;
}

/// Many concurrent checks from several keys: every one answered, counters exact.
async fn concurrent_checks(db: &TestDb) {
    let f = Arc::new(setup(db).await);
    let admin = logged_in(&f, "admin").await;
    let (_, a) = issue(&admin, "Bank A", 10_000).await;
    let (_, b) = issue(&admin, "Bank B", 10_000).await;
    report(&f, 7, 1, 1, &[(IndicatorKind::Phone, PHONE)]);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let f = f.clone();
        let key = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let (kind, value) = if i % 4 < 2 {
                ("phone", PHONE)
            } else {
                ("card", CARD)
            };
            check(&f, &key, kind, value).await.expect(200).json()["verdict"]
                .as_str()
                .unwrap()
                .to_owned()
        }));
    }
    let mut reported = 0;
    for t in tasks {
        reported += usize::from(t.await.unwrap() == "reported");
    }
    assert_eq!(reported, 20);
    let counts = f.state.payee.keys.counts();
    assert_eq!(counts.iter().map(|c| c.1).sum::<u64>(), 40, "{counts:?}");
}

on_both_databases!(
    issue_check_revoke,
    refusals,
    sessions_and_keys_do_not_mix,
    keys_from_another_process,
    console_issue_and_revoke,
    concurrent_checks,
);
