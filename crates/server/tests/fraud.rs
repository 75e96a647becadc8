//! Victims' fraud reports, campaigns and the public check, end to end over HTTP on SQLite and
//! PostgreSQL: submit → code → status; resubmissions stored once; impossible indicators refused
//! naming the field; hostile text; card numbers never stored; acceptance → a fraud incident in
//! the victim's mahalla and a verdict in the index; campaigns linked by a phone and a domain,
//! their exports and their scope; the hash-prefix check; and the check page's JavaScript run
//! under node against the Rust normalisers. Every test ends by verifying the audit chain.
mod common;

use std::sync::Arc;

use common::{Client, Resp, TestDb, TestServer};
use cyber::{Detail, IndicatorKind, PLATFORM_DOMAINS, indicator_hash};
use domain::{District, DistrictId, Mahalla, MahallaId, Names, Role, Scope};
use serde_json::{Value, json};
use server::demo::{DISTRICT, MAHALLA_A, MAHALLA_B, REGION};
use server::reports::ReportLimits;
use server::threat::Threats;
use store::Store;

const PASSWORD: &str = "correct horse battery staple";
/// A second district of Tashkent city, with one mahalla, for scope tests.
const OTHER_DISTRICT: DistrictId = DistrictId(1726299);
const MAHALLA_X: MahallaId = MahallaId(1726299001);
/// A valid (Luhn) Visa test number and an Uzcard one.
const CARD: &str = "4111 1111 1111 1111";
const CARD_DIGITS: &str = "4111111111111111";
const UZCARD: &str = "8600 3104 7319 4314";

struct Fx {
    srv: TestServer,
    store: Store,
    threats: Arc<Threats>,
    db_url: String,
}

impl Fx {
    async fn login(&self, username: &str) -> Client {
        let mut c = self.srv.client();
        c.login(username, PASSWORD).await.expect(200);
        c
    }
    fn public(&self) -> Client {
        self.srv.client()
    }
}

fn names(s: &str) -> Names {
    Names {
        uz_latn: s.into(),
        uz_cyrl: None,
        ru: None,
        en: None,
    }
}

fn generous() -> ReportLimits {
    ReportLimits {
        per_address: 1000,
        global: 1000,
        lookups_per_address: 1000,
        ..ReportLimits::default()
    }
}

async fn setup_with(db: &TestDb, limits: ReportLimits) -> Fx {
    let store = db.store.clone();
    server::demo::seed_geography(&store).await.unwrap();
    store
        .import_geography(
            &[],
            &[District {
                id: OTHER_DISTRICT,
                region: REGION,
                names: names("Boshqa tuman"),
                geometry: None,
            }],
            &[Mahalla {
                id: MAHALLA_X,
                district: OTHER_DISTRICT,
                names: names("X mahallasi"),
                population: None,
                geometry: None,
                synthetic: true,
            }],
        )
        .await
        .unwrap();
    common::create_users(
        &store,
        PASSWORD,
        &[
            ("admin", Role::Admin, Scope::National),
            ("operator", Role::Operator, Scope::District(DISTRICT)),
            ("analyst", Role::Analyst, Scope::Region(REGION)),
            ("inspector_a", Role::Inspector, Scope::Mahalla(MAHALLA_A)),
            (
                "inspector_other",
                Role::Inspector,
                Scope::District(OTHER_DISTRICT),
            ),
            ("auditor", Role::Auditor, Scope::National),
        ],
    )
    .await;
    let config = server::Config {
        report_limits: limits,
        ..server::Config::default()
    };
    let state = server::AppState::new(store.clone(), &config).unwrap();
    let threats = state.threats.clone();
    let srv = TestServer::start_with(state).await;
    Fx {
        srv,
        store,
        threats,
        db_url: db.url.clone(),
    }
}

async fn setup(db: &TestDb) -> Fx {
    setup_with(db, generous()).await
}

async fn verify_audit(fx: &Fx) {
    fx.store
        .audit_verify(None)
        .await
        .expect("audit chain holds");
}

fn occurred() -> String {
    domain::Timestamp::now()
        .saturating_add_micros(-3_600_000_000)
        .to_string()
}

fn report(mahalla: MahallaId, narrative: &str, indicators: Value) -> Value {
    json!({
        "occurred_at": occurred(),
        "amount_lost": 150_000_000,
        "channel": "call",
        "narrative": narrative,
        "mahalla": mahalla,
        "indicators": indicators,
    })
}

async fn submit(c: &Client, body: &Value) -> Resp {
    c.post("/public/fraud-reports", body).await
}

/// Submits and returns (code, report id as the moderators' list shows it).
async fn submit_ok(fx: &Fx, body: &Value) -> (String, i64) {
    let r = submit(&fx.public(), body).await.expect(201).json();
    let code = r["code"].as_str().unwrap().to_owned();
    let found = fx
        .store
        .get_fraud_report_by_code(&domain::ReportCode::parse(&code).unwrap())
        .await
        .unwrap()
        .unwrap();
    (code, found.id.0)
}

async fn accept(c: &Client, id: i64) -> Value {
    c.post(
        &format!("/api/fraud-reports/{id}/moderate"),
        &json!({"decision": "accept"}),
    )
    .await
    .expect(200)
    .json()
}

fn phone_hash(e164: &str) -> [u8; 32] {
    indicator_hash(IndicatorKind::Phone, e164)
}

async fn submit_status_and_pages(db: &TestDb) {
    let fx = setup(db).await;
    let c = fx.public();
    let body = report(
        MAHALLA_A,
        "A man said he was from my bank and asked for the SMS code. He called from +998 90 123 45 67.",
        json!([{"kind": "card", "value": CARD}]),
    );
    let r = submit(&c, &body).await.expect(201).json();
    let code = r["code"].as_str().unwrap();
    assert!(code.starts_with("R-") && code.len() == 13, "{code}");
    assert_eq!(r["status"], "received");
    assert_eq!(r["already_received"], false);
    let kinds: Vec<(&str, &str)> = r["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["kind"].as_str().unwrap(), i["found_in"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("card", "field")), "{kinds:?}");
    assert!(kinds.contains(&("phone", "text")), "{kinds:?}");
    assert!(
        r["indicators"].to_string().contains("411111…1111"),
        "the card is shown masked: {r}"
    );
    // status by code, typed sloppily
    let s = c
        .get(&format!(
            "/public/fraud-reports/{}",
            code.to_lowercase().replace('-', "")
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(s["status"], "received");
    assert_eq!(s["code"], code);
    // a citizen report's status endpoint does not know it, and an unknown code is 404
    c.get(&format!("/public/reports/{code}"))
        .await
        .expect_error(404);
    c.get("/public/fraud-reports/R-00000-00000")
        .await
        .expect_error(404);
    c.get("/public/fraud-reports/nonsense")
        .await
        .expect_error(400);
    // the status page
    let page = c
        .get(&format!("/fraud/status?lang=en&code={code}"))
        .await
        .expect(200)
        .text();
    assert!(
        page.contains(code) && page.contains("Received; waiting"),
        "{page}"
    );

    // The form, without JavaScript: step 1 picks the district, step 2 is the form.
    let step1 = c.get("/fraud?lang=en").await.expect(200).text();
    assert!(step1.contains("action=\"/fraud\""), "{step1}");
    assert!(!step1.contains("<script"), "no scripts on /fraud");
    let step2 = c
        .get(&format!("/fraud?lang=en&district={DISTRICT}"))
        .await
        .expect(200);
    assert!(
        step2
            .header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    let step2 = step2.text();
    assert!(step2.contains(&format!("value=\"{MAHALLA_A}\"")), "{step2}");
    let key = step2
        .split("name=\"idempotency_key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the form carries an idempotency key")
        .to_owned();
    let mahalla = MAHALLA_B.to_string();
    let fields = [
        ("lang", "en"),
        ("district", &DISTRICT.to_string()),
        ("idempotency_key", key.as_str()),
        ("mahalla", mahalla.as_str()),
        ("occurred_at", "2024-05-01T09:30"),
        ("amount", "1 500 000"),
        ("channel", "marketplace"),
        (
            "narrative",
            "A buyer on OLX sent a link\r\nto receive the payment.",
        ),
        (
            "link",
            "https://olx-pay.example-secure.uz/receive?utm_source=x",
        ),
        ("phone", ""),
    ];
    let done = c
        .post_form("/public/fraud-reports", &fields)
        .await
        .expect(201);
    let page = done.text();
    let form_code = page
        .split("class=\"code\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    assert!(page.contains("example-secure.uz"), "{page}");
    // the same form sent again (a double click, a reload) is stored once
    let again = c
        .post_form("/public/fraud-reports", &fields)
        .await
        .expect(200);
    assert!(again.text().contains(&form_code));
    let stored = fx
        .store
        .get_fraud_report_by_code(&domain::ReportCode::parse(&form_code).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.amount_lost, 150_000_000);
    assert_eq!(stored.mahalla, MAHALLA_B);
    assert_eq!(stored.channel, domain::Channel::Marketplace);
    assert_eq!(
        stored.narrative, "A buyer on OLX sent a link\nto receive the payment.",
        "a browser's CRLF is kept as one line break"
    );
    verify_audit(&fx).await;
}

async fn resubmission_stored_once(db: &TestDb) {
    let fx = setup(db).await;
    let c = fx.public();
    let body = report(MAHALLA_A, "They called from +998 90 111 22 33", json!([]));
    let first = submit(&c, &body).await.expect(201).json();
    let second = submit(&c, &body).await.expect(200).json();
    assert_eq!(first["code"], second["code"]);
    assert_eq!(second["already_received"], true);
    // the same content with the indicators typed in another order is the same report
    let a = report(
        MAHALLA_A,
        "two of them",
        json!([{"kind": "phone", "value": "+998901112234"}, {"kind": "handle", "value": "@fake_support"}]),
    );
    let mut b = a.clone();
    b["indicators"] = json!([{"kind": "handle", "value": "fake_support"}, {"kind": "phone", "value": "90 111 22 34"}]);
    let ca = submit(&c, &a).await.expect(201).json()["code"].clone();
    let cb = submit(&c, &b).await.expect(200).json()["code"].clone();
    assert_eq!(ca, cb);
    // the same idempotency key with other content answers the first report
    let mut k1 = report(MAHALLA_A, "first words", json!([]));
    k1["idempotency_key"] = json!("client-42");
    let mut k2 = report(MAHALLA_A, "second words, retried", json!([]));
    k2["idempotency_key"] = json!("client-42");
    let c1 = submit(&c, &k1).await.expect(201).json()["code"].clone();
    let c2 = submit(&c, &k2).await.expect(200).json()["code"].clone();
    assert_eq!(c1, c2);
    // and through the header
    let b3 = report(MAHALLA_A, "header keyed", json!([])).to_string();
    let h = [
        ("Content-Type", "application/json"),
        ("Idempotency-Key", "hdr-1"),
    ];
    let r1 = c
        .raw("POST", "/public/fraud-reports", &h, Some(b3.as_bytes()))
        .await
        .expect(201)
        .json();
    let b4 = report(MAHALLA_A, "header keyed, edited", json!([])).to_string();
    let r2 = c
        .raw("POST", "/public/fraud-reports", &h, Some(b4.as_bytes()))
        .await
        .expect(200)
        .json();
    assert_eq!(r1["code"], r2["code"]);
    // different content is a different report
    submit(&c, &report(MAHALLA_A, "something else", json!([])))
        .await
        .expect(201);
    let all = fx
        .store
        .list_fraud_reports(&Scope::National, store::ReportFilter::All, None, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 5, "one row per distinct report");
    let submits = fx
        .store
        .audit_entries(None, 500)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.entry.action == "fraud.submit")
        .count();
    assert_eq!(submits, 5);
    verify_audit(&fx).await;
}

async fn bad_indicators_are_named(db: &TestDb) {
    let fx = setup(db).await;
    let c = fx.public();
    let cases = [
        (
            json!([{"kind": "phone", "value": "+998 90 123 45 67"}, {"kind": "card", "value": "4111 1111 1111 1112"}]),
            "indicators[1]",
            "Luhn",
        ),
        (
            json!([{"kind": "iban", "value": "GB82 WEST 1234 5698 7654 33"}]),
            "indicators[0]",
            "mod 97",
        ),
        (
            json!([{"kind": "phone", "value": "+998 12 345 67 89"}]),
            "indicators[0]",
            "12",
        ),
        (
            json!([{"kind": "phone", "value": "90 123 45 6x"}]),
            "indicators[0]",
            "phone number",
        ),
        (
            json!([{"kind": "password", "value": "x"}]),
            "indicators[0]",
            "unknown kind",
        ),
    ];
    for (inds, field, word) in cases {
        let v = submit(&c, &report(MAHALLA_A, "they lied", inds.clone()))
            .await
            .expect_error(400);
        assert_eq!(v["field"], field, "{v}");
        assert!(
            v["error"].as_str().unwrap().contains(word),
            "{word} in {v} for {inds}"
        );
    }
    // other fields are named too
    let mut r = report(MAHALLA_A, "x", json!([]));
    r["mahalla"] = json!(999_999_999);
    assert_eq!(submit(&c, &r).await.expect_error(400)["field"], "mahalla");
    let mut r = report(MAHALLA_A, "x", json!([]));
    r["contact"] = json!("call me maybe");
    assert_eq!(submit(&c, &r).await.expect_error(400)["field"], "contact");
    let mut r = report(MAHALLA_A, "x", json!([]));
    r["amount_lost"] = json!(-5);
    assert_eq!(
        submit(&c, &r).await.expect_error(400)["field"],
        "amount_lost"
    );
    let mut r = report(MAHALLA_A, "x", json!([]));
    r["channel"] = json!("pigeon");
    let v = submit(&c, &r).await.expect_error(400);
    assert!(v["error"].as_str().unwrap().contains("fake_site"), "{v}");
    // the form marks the field and keeps what was typed
    let page = c
        .post_form(
            "/public/fraud-reports",
            &[
                ("lang", "en"),
                ("district", &DISTRICT.to_string()),
                ("mahalla", &MAHALLA_A.to_string()),
                ("occurred_at", "2024-05-01T09:30"),
                ("amount", "100"),
                ("channel", "sms"),
                ("narrative", "an SMS with a link"),
                ("card", "8600 3104 7319 4319"),
            ],
        )
        .await
        .expect(400)
        .text();
    assert!(page.contains("Luhn"), "{page}");
    assert!(
        page.contains("name=\"card\" value=\"8600 3104 7319 4319\" autocomplete=\"off\" spellcheck=\"false\" aria-invalid=\"true\""),
        "{page}"
    );
    assert!(page.contains("an SMS with a link"));
    // nothing was stored
    let all = fx
        .store
        .list_fraud_reports(&Scope::National, store::ReportFilter::All, None, 100)
        .await
        .unwrap();
    assert!(all.is_empty(), "{all:?}");
    verify_audit(&fx).await;
}

async fn hostile_text_is_handled(db: &TestDb) {
    let fx = setup(db).await;
    let c = fx.public();
    // 1 MB: refused before it is read
    let huge = report(MAHALLA_A, &"9".repeat(1 << 20), json!([]));
    let v = submit(&c, &huge).await.expect_error(413);
    assert!(v["error"].as_str().unwrap().contains("larger"), "{v}");
    // NUL bytes
    let v = submit(&c, &report(MAHALLA_A, "abc\u{0}def", json!([])))
        .await
        .expect_error(400);
    assert_eq!(v["field"], "narrative");
    // longer than the narrative limit, within the body limit
    let v = submit(&c, &report(MAHALLA_A, &"x".repeat(8_001), json!([])))
        .await
        .expect_error(400);
    assert_eq!(v["field"], "narrative");
    // a text naming 60 numbers would join unrelated campaigns: refused with the reason
    let many: String = (0..60)
        .map(|i| format!("+998 90 555 {:02} {:02}\n", i / 10, i % 10 + 10))
        .collect();
    let v = submit(&c, &report(MAHALLA_A, &many, json!([])))
        .await
        .expect_error(400);
    assert!(v["error"].as_str().unwrap().contains("at most 50"), "{v}");
    // right-to-left marks, zero-width characters and a homoglyph domain are taken, flagged
    let tricky = "Pay at http://\u{0430}\u{0440}\u{0440}\u{04CF}\u{0435}.com/login or \u{202E}moc.live\u{202C} \
                  and call +998\u{200B}90 777 66 55";
    let r = submit(&c, &report(MAHALLA_A, tricky, json!([])))
        .await
        .expect(201)
        .json();
    let code = r["code"].as_str().unwrap();
    let stored = fx
        .store
        .get_fraud_report_by_code(&domain::ReportCode::parse(code).unwrap())
        .await
        .unwrap()
        .unwrap();
    let link = stored
        .indicators
        .iter()
        .find(|i| i.kind == "link")
        .expect("the homoglyph link");
    assert!(link.value.contains("xn--"), "{link:?}");
    assert!(
        link.suspicious
            .contains(&"whole_script_confusable".to_owned()),
        "{link:?}"
    );
    let phone = stored
        .indicators
        .iter()
        .find(|i| i.kind == "phone")
        .unwrap();
    assert_eq!(phone.value, "+998907776655");
    assert!(phone.suspicious.contains(&"invisible_character".to_owned()));
    assert_eq!(
        stored.narrative, tricky,
        "the victim's words are kept as sent"
    );
    // the index is intact: accepting it indexes exactly its hashes and answers for the phone
    let admin = fx.login("admin").await;
    accept(&admin, stored.id.0).await;
    let v = fx
        .threats
        .read()
        .verdict(&phone_hash("+998907776655"))
        .expect("indexed");
    assert_eq!((v.reports, v.total_loss), (1, 150_000_000));
    let h = server::fraud::index_hashes(&stored);
    assert_eq!(
        fx.threats.read().prefix_index().len(),
        h.link.len() + h.check_only.len()
    );
    verify_audit(&fx).await;
}

/// Every place a stored card number could hide: the SQLite files themselves, and on both
/// backends the text of every fraud report, indicator, incident and audit entry.
async fn card_numbers_never_stored(db: &TestDb) {
    let fx = setup(db).await;
    let narrative = format!(
        "I paid to {UZCARD} and then to {CARD} (they said 4111-1111-1111-1111), then tried 8600 3104 7319 4318."
    );
    let (_, id) = submit_ok(
        &fx,
        &report(
            MAHALLA_A,
            &narrative,
            json!([{"kind": "card", "value": "4111-1111-1111-1111"}]),
        ),
    )
    .await;
    let admin = fx.login("admin").await;
    let done = accept(&admin, id).await;
    let incident = done["incident"]["narrative"].as_str().unwrap().to_owned();
    let stored = fx
        .store
        .get_fraud_report(domain::FraudReportId(id))
        .await
        .unwrap()
        .unwrap();
    let cards: Vec<&str> = stored
        .indicators
        .iter()
        .filter(|i| i.kind == "card")
        .map(|i| i.value.as_str())
        .collect();
    assert!(
        cards.contains(&"411111…1111") && cards.contains(&"860031…4314"),
        "{cards:?}"
    );
    let forbidden = [
        CARD_DIGITS,
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "8600310473194314",
        "8600 3104 7319 4314",
        "8600 3104 7319 4318",
    ];
    for t in [&stored.narrative, &incident] {
        assert!(
            domain::fraud::longest_digit_run(&t.replace([' ', '-'], "")) < 13,
            "a card-length run of digits in {t}"
        );
    }
    let mut texts = vec![stored.narrative.clone(), incident];
    texts.extend(stored.indicators.iter().map(|i| format!("{i:?}")));
    for e in fx.store.audit_entries(None, 1000).await.unwrap() {
        texts.push(e.entry.details.to_string());
    }
    for t in &texts {
        for f in forbidden {
            assert!(!t.contains(f), "{f} stored in {t}");
        }
    }
    assert!(
        stored.narrative.contains("860031…4314"),
        "{}",
        stored.narrative
    );
    assert!(
        stored.narrative.contains("860031…4318"),
        "the mistyped one is masked too"
    );
    if let Some(path) = fx.db_url.strip_prefix("sqlite:") {
        // the WAL holds recent pages; check it and the main file, byte by byte
        for file in [path.to_owned(), format!("{path}-wal")] {
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            for f in forbidden {
                assert!(
                    !bytes.windows(f.len()).any(|w| w == f.as_bytes()),
                    "{f} found in {file}"
                );
            }
        }
    }
    verify_audit(&fx).await;
}

async fn acceptance_makes_a_fraud_incident_and_a_verdict(db: &TestDb) {
    let fx = setup(db).await;
    let (_, id) = submit_ok(
        &fx,
        &report(
            MAHALLA_A,
            "They called from +998 93 444 55 66 and I lost money",
            json!([]),
        ),
    )
    .await;
    let hash = phone_hash("+998934445566");
    assert!(
        fx.threats.read().verdict(&hash).is_none(),
        "not indexed before a moderator accepts it"
    );
    let check = fx
        .public()
        .get(&format!("/public/check/{}", &hex::encode(hash)[..5]))
        .await
        .expect(200)
        .json();
    assert!(!check.to_string().contains(&hex::encode(hash)));
    // roles and scope: an inspector does not moderate fraud; another district's users do not
    // see the report
    let insp = fx.login("inspector_a").await;
    insp.post(
        &format!("/api/fraud-reports/{id}/moderate"),
        &json!({"decision": "accept"}),
    )
    .await
    .expect_error(403);
    let mut far = fx.srv.client();
    far.login("inspector_other", PASSWORD).await.expect(200);
    far.get("/api/fraud-reports").await.expect_error(403);
    let operator = fx.login("operator").await;
    let list = operator.get("/api/fraud-reports").await.expect(200).json();
    assert_eq!(list["reports"].as_array().unwrap().len(), 1);
    assert_eq!(list["reports"][0]["has_contact"], false);
    // a category other than fraud or cybercrime is refused
    operator
        .post(
            &format!("/api/fraud-reports/{id}/moderate"),
            &json!({"decision": "accept", "category": "theft"}),
        )
        .await
        .expect_error(400);
    let done = accept(&operator, id).await;
    let inc = &done["incident"];
    assert_eq!(inc["category"], "fraud");
    assert_eq!(inc["source"], "public");
    assert_eq!(inc["mahalla"], json!(MAHALLA_A));
    assert!(
        inc["narrative"]
            .as_str()
            .unwrap()
            .contains("1 500 000 so'm")
    );
    assert_eq!(done["report"]["status"], "accepted");
    // the incident counts like any other, in the victim's mahalla
    let seen = insp.get("/api/incidents").await.expect(200).json();
    assert_eq!(seen["incidents"][0]["id"], inc["id"]);
    // a second decision is refused
    operator
        .post(
            &format!("/api/fraud-reports/{id}/moderate"),
            &json!({"decision": "reject", "reason": "duplicate"}),
        )
        .await
        .expect_error(409);
    // the verdict, as the payee check reads it
    let v = fx.threats.read().verdict(&hash).expect("indexed");
    assert_eq!(
        (v.reports, v.campaign_reports, v.total_loss),
        (1, 1, 150_000_000)
    );
    // the status the victim sees
    let code = done["report"]["code"].as_str().unwrap();
    let s = fx
        .public()
        .get(&format!("/public/fraud-reports/{code}"))
        .await
        .expect(200)
        .json();
    assert_eq!(s["status"], "accepted");
    // a restart loads it again from the store, with the same verdict
    let fresh = Threats::new(cyber::CardKey::random().unwrap());
    assert_eq!(
        server::fraud::load_threats(&fx.store, &fresh)
            .await
            .unwrap(),
        1
    );
    assert_eq!(fresh.read().verdict(&hash), Some(v));
    verify_audit(&fx).await;
}

/// Three accepted reports: the first two share a phone, the third shares a domain with the
/// second; the third's victim lives in another district.
async fn campaign_fixture(fx: &Fx) -> (i64, i64, i64, i64) {
    let (_, r1) = submit_ok(
        fx,
        &report(
            MAHALLA_A,
            "A 'bank' called from +998 91 234 56 78",
            json!([]),
        ),
    )
    .await;
    let (_, r2) = submit_ok(
        fx,
        &report(
            MAHALLA_B,
            "SMS with a link https://pay.evil-shop.uz/card?utm_source=sms, then a call",
            json!([{"kind": "phone", "value": "91 234 56 78"}]),
        ),
    )
    .await;
    let mut third = report(
        MAHALLA_X,
        "A marketplace buyer sent http://evil-shop.uz/receive",
        json!([]),
    );
    third["amount_lost"] = json!(20_000_000);
    third["channel"] = json!("marketplace");
    let (_, r3) = submit_ok(fx, &third).await;
    let (_, lone) = submit_ok(
        fx,
        &report(
            MAHALLA_A,
            "Unrelated: @lonely_scammer wrote to me",
            json!([]),
        ),
    )
    .await;
    let admin = fx.login("admin").await;
    for id in [r1, r2, lone] {
        accept(&admin, id).await;
    }
    // after two: one campaign of two (linked by the phone)
    let c = admin.get("/api/campaigns").await.expect(200).json();
    assert_eq!(c["campaigns"].as_array().unwrap().len(), 1, "{c}");
    assert_eq!(c["campaigns"][0]["id"], json!(r1));
    assert_eq!(c["campaigns"][0]["reports"], 2);
    accept(&admin, r3).await;
    (r1, r2, r3, lone)
}

async fn campaigns_link_and_export(db: &TestDb) {
    let fx = setup(db).await;
    let (r1, r2, r3, lone) = campaign_fixture(&fx).await;
    let analyst = fx.login("analyst").await;
    let c = analyst.get("/api/campaigns").await.expect(200).json();
    let list = c["campaigns"].as_array().unwrap();
    assert_eq!(list.len(), 1, "the lone report is no campaign of two: {c}");
    let camp = &list[0];
    assert_eq!(camp["id"], json!(r1), "named by its smallest report id");
    assert_eq!(camp["reports"], 3, "the third joined through the domain");
    assert_eq!(camp["total_loss_tiyin"], 150_000_000 * 2 + 20_000_000);
    assert_eq!(camp["channels"]["marketplace"], 1);
    let all = analyst
        .get("/api/campaigns?min_reports=1")
        .await
        .expect(200)
        .json();
    assert_eq!(all["campaigns"].as_array().unwrap().len(), 2);
    analyst
        .get("/api/campaigns?min_reports=zero")
        .await
        .expect_error(400);

    let d = analyst
        .get(&format!("/api/campaigns/{r1}"))
        .await
        .expect(200)
        .json();
    let ids: Vec<i64> = d["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![r1, r2, r3],
        "the analyst's region covers all three"
    );
    let inds = d["indicators"].to_string();
    for want in [
        "+998912345678",
        "evil-shop.uz",
        "https://pay.evil-shop.uz/card",
    ] {
        assert!(inds.contains(want), "{want} in {inds}");
    }
    assert!(!inds.contains("utm_source"), "tracking parameters dropped");
    assert_eq!(
        d["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["reports"].as_i64().unwrap())
            .sum::<i64>(),
        3
    );
    // a report's id names its campaign too
    let via = analyst
        .get(&format!("/api/campaigns/{r3}"))
        .await
        .expect(200)
        .json();
    assert_eq!(via["campaign"]["id"], json!(r1));
    analyst
        .get(&format!("/api/campaigns/{}", lone + 1000))
        .await
        .expect_error(404);

    // takedown CSV
    let csv = analyst
        .get(&format!("/api/campaigns/{r1}/takedown.csv"))
        .await
        .expect(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv.text();
    assert!(text.starts_with(server::campaigns::TAKEDOWN_HEADER));
    assert!(text.contains("phone,'+998912345678,,2,"), "{text}");
    assert!(text.contains("domain,evil-shop.uz"), "{text}");
    // STIX 2.1
    let stix = analyst
        .get(&format!("/api/campaigns/{r1}/stix.json"))
        .await
        .expect(200)
        .json();
    assert_eq!(stix["type"], "bundle");
    let objects = stix["objects"].as_array().unwrap();
    assert!(objects.iter().any(|o| o["type"] == "campaign"));
    let patterns: Vec<&str> = objects
        .iter()
        .filter(|o| o["type"] == "indicator")
        .map(|o| o["pattern"].as_str().unwrap())
        .collect();
    assert!(
        patterns.contains(&"[domain-name:value = 'evil-shop.uz']"),
        "{patterns:?}"
    );
    assert!(patterns.contains(&"[x-posbon-phone:value = '+998912345678']"));
    assert!(
        objects
            .iter()
            .filter(|o| o["type"] == "relationship")
            .all(|o| o["relationship_type"] == "indicates")
    );
    let exports: Vec<Value> = fx
        .store
        .audit_entries(None, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entry.action == "campaign.export")
        .map(|e| e.entry.details)
        .collect();
    assert_eq!(exports.len(), 2);
    assert_eq!(exports[1]["format"], "stix");

    // the console
    let page = analyst.get("/console/campaigns").await.expect(200).text();
    assert!(page.contains(&format!("/console/campaigns/{r1}")), "{page}");
    assert!(page.contains("href=\"/console/campaigns\""), "in the nav");
    let page = analyst
        .get(&format!("/console/campaigns/{r1}"))
        .await
        .expect(200)
        .text();
    assert!(page.contains("<svg class=\"timeline\""), "{page}");
    assert!(page.contains("evil-shop.uz"));
    assert!(page.contains(&format!("/api/campaigns/{r1}/stix.json")));
    verify_audit(&fx).await;
}

async fn campaign_scope(db: &TestDb) {
    let fx = setup(db).await;
    let (r1, _r2, r3, _) = campaign_fixture(&fx).await;
    // the inspector of mahalla A sees the campaign through its one victim there
    let insp = fx.login("inspector_a").await;
    let mine = insp.get("/api/campaigns").await.expect(200).json();
    assert_eq!(mine["campaigns"][0]["reports_in_scope"], 1);
    // the other district's inspector sees the campaign through its one victim there, and
    // only that victim's report
    let other = fx.login("inspector_other").await;
    let c = other.get("/api/campaigns").await.expect(200).json();
    assert_eq!(c["campaigns"][0]["reports"], 3);
    assert_eq!(c["campaigns"][0]["reports_in_scope"], 1);
    assert_eq!(c["campaigns"][0]["reports_outside_scope"], 2);
    let d = other
        .get(&format!("/api/campaigns/{r1}"))
        .await
        .expect(200)
        .json();
    let listed: Vec<i64> = d["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, vec![r3]);
    assert!(!d.to_string().contains("A 'bank' called"), "{d}");
    assert_eq!(d["mahallas"].as_array().unwrap().len(), 1);
    // a report of the first district does not name the campaign to it
    other
        .get(&format!("/api/campaigns/{}", r1 + 1))
        .await
        .expect_error(404);
    // a campaign with no victim in a district is invisible there: the first two alone
    let (_, s1) = submit_ok(
        &fx,
        &report(MAHALLA_A, "call from +998 99 800 70 60", json!([])),
    )
    .await;
    let (_, s2) = submit_ok(
        &fx,
        &report(MAHALLA_B, "+998 99 800 70 60 again", json!([])),
    )
    .await;
    let admin = fx.login("admin").await;
    accept(&admin, s1).await;
    accept(&admin, s2).await;
    let c = other.get("/api/campaigns").await.expect(200).json();
    assert_eq!(c["campaigns"].as_array().unwrap().len(), 1, "{c}");
    other
        .get(&format!("/api/campaigns/{s1}"))
        .await
        .expect_error(404);
    other
        .get(&format!("/api/campaigns/{s1}/takedown.csv"))
        .await
        .expect_error(404);
    other
        .get(&format!("/console/campaigns/{s1}"))
        .await
        .expect(404);
    // roles: an auditor reads no campaign
    let auditor = fx.login("auditor").await;
    auditor.get("/api/campaigns").await.expect_error(403);
    verify_audit(&fx).await;
}

async fn public_check(db: &TestDb) {
    let fx = setup(db).await;
    let (_, id) = submit_ok(
        &fx,
        &report(
            MAHALLA_A,
            "paid to the card, then they blocked me",
            json!([{"kind": "card", "value": UZCARD}, {"kind": "handle", "value": "@Fake_Support_Bot"}]),
        ),
    )
    .await;
    let admin = fx.login("admin").await;
    accept(&admin, id).await;
    let c = fx.public();
    for (kind, value, digits) in [
        (IndicatorKind::Card, "860031…4314", 3),
        (IndicatorKind::Handle, "fake_support_bot", 5),
    ] {
        let h = hex::encode(indicator_hash(kind, value));
        let r = c
            .get(&format!("/public/check/{}", &h[..digits]))
            .await
            .expect(200);
        assert_eq!(r.header("cache-control"), Some("public, max-age=300"));
        let v = r.json();
        let hit = v["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["hash"] == h)
            .unwrap_or_else(|| panic!("{value} under its prefix: {v}"));
        assert_eq!(hit["kind"], kind.as_str());
        assert_eq!(hit["channels"], json!(["call"]));
        assert!(
            v["hashes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["hash"].as_str().unwrap().starts_with(&h[..digits]))
        );
    }
    for bad in ["ab", "123456789", "zzzzz", "12%20"] {
        c.get(&format!("/public/check/{bad}"))
            .await
            .expect_error(400);
    }
    // the page: the script is served from here, the input has no name (nothing typed is
    // sent without the script), advice in the chosen language
    let page = c.get("/check?lang=en").await.expect(200);
    let csp = page.header("content-security-policy").unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"));
    let html = page.text();
    assert!(html.contains("<script src=\"/public/check.js\"></script>"));
    assert!(html.contains("id=\"check-value\" autocomplete=\"off\""));
    assert!(!html.contains("name=\"value\""));
    assert!(html.contains("id=\"advice-card\"") && html.contains("id=\"advice-marketplace\""));
    assert!(html.contains("href=\"/fraud?lang=en\""));
    let uz = c.get("/check").await.expect(200).text();
    assert!(uz.contains("lang=\"uz\"") && uz.contains("Tekshirish"));
    let js = c.get("/public/check.js").await.expect(200);
    assert!(
        js.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    verify_audit(&fx).await;
}

async fn check_is_rate_limited(db: &TestDb) {
    let fx = setup_with(
        db,
        ReportLimits {
            lookups_per_address: 2,
            ..generous()
        },
    )
    .await;
    let c = fx.public();
    c.get("/public/check/abcde").await.expect(200);
    c.get("/public/check/abcde").await.expect(200);
    let r = c.get("/public/check/abcde").await;
    assert_eq!(r.header("retry-after"), Some("60"));
    r.expect_error(429);
}

async fn moderation_console(db: &TestDb) {
    let fx = setup(db).await;
    let (code, id) = submit_ok(
        &fx,
        &report(MAHALLA_A, "a call from +998 90 321 00 11", json!([])),
    )
    .await;
    let operator = fx.login("operator").await;
    let page = operator
        .get("/console/fraud-reports")
        .await
        .expect(200)
        .text();
    assert!(page.contains(&code), "{page}");
    let token = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let r = operator
        .raw(
            "POST",
            &format!("/console/fraud-reports/{id}/moderate"),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(
                common::form_encode(&[
                    ("_csrf", &token),
                    ("decision", "accept"),
                    ("category", "cybercrime"),
                ])
                .as_bytes(),
            ),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let stored = fx
        .store
        .get_fraud_report(domain::FraudReportId(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, domain::ReportStatus::Accepted);
    let inc = fx
        .store
        .get_incident(stored.incident.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(inc.category, domain::Category::Cybercrime);
    assert!(
        fx.threats
            .read()
            .verdict(&phone_hash("+998903210011"))
            .is_some()
    );
    verify_audit(&fx).await;
}

on_both_databases!(
    submit_status_and_pages,
    resubmission_stored_once,
    bad_indicators_are_named,
    hostile_text_is_handled,
    card_numbers_never_stored,
    acceptance_makes_a_fraud_incident_and_a_verdict,
    campaigns_link_and_export,
    campaign_scope,
    public_check,
    check_is_rate_limited,
    moderation_console,
);

/// What the Rust code hashes for what a person types into the check page: the normal form of
/// cyber's field parsers (a card's check-only BIN…last4, a link's registrable domain, a t.me
/// link's handle), or nothing where there is nothing to check.
fn rust_check_form(
    ex: &cyber::Extractor,
    kind: &str,
    input: &str,
) -> Option<(IndicatorKind, String)> {
    match kind {
        "phone" => cyber::parse_phone(input)
            .ok()
            .map(|p| (IndicatorKind::Phone, p.e164)),
        "card" => cyber::parse_card(input, ex.card_key())
            .ok()
            .map(|t| (IndicatorKind::Card, t.masked())),
        "handle" => cyber::parse_handle(input)
            .ok()
            .map(|h| (IndicatorKind::Handle, h)),
        "link" => {
            let i = ex.field(IndicatorKind::Link, input).ok()?;
            if i.kind == IndicatorKind::Handle {
                return Some((IndicatorKind::Handle, i.value));
            }
            let reg = match &i.detail {
                Detail::Link {
                    registrable_domain, ..
                }
                | Detail::Domain { registrable_domain } => registrable_domain.clone()?,
                _ => return None,
            };
            (!PLATFORM_DOMAINS.contains(&reg.as_str())).then_some((IndicatorKind::Domain, reg))
        }
        _ => None,
    }
}

#[test]
fn check_page_script_hashes_as_the_rust_code_does() {
    let cases: Vec<(&str, &str)> = vec![
        ("phone", "+998 90 123 45 67"),
        ("phone", "998901234567"),
        ("phone", "8-90-123-45-67"),
        ("phone", "8 (90) 123-45-67"),
        ("phone", "(90) 123-45-67"),
        ("phone", "90 1234567"),
        ("phone", "901234567"),
        ("phone", "00998901234567"),
        ("phone", "+998.90.123.45.67"),
        ("phone", "＋９９８ ９０ １２３ ４５ ６７"),
        ("phone", "\u{202E}+998 90 123 45 67"),
        ("phone", "+998\u{200B}93 444 55 66"),
        ("phone", "٩٠١٢٣٤٥٦٧"),
        ("phone", "+998 71 200 00 00"),
        ("phone", "+998 12 345 67 89"),
        ("phone", "8 912 345 67 89"),
        ("phone", "+7 (912) 345-67-89"),
        ("phone", "+44 20 7946 0958"),
        ("phone", "+1 055 123 4567"),
        ("phone", "90 123 45 6x"),
        ("phone", ""),
        ("card", "4111 1111 1111 1111"),
        ("card", "4111-1111-1111-1111"),
        ("card", "8600 3104 7319 4314"),
        ("card", "8600 3104 7319 4318"),
        ("card", "４１１１ １１１１ １１１１ １１１１"),
        ("card", "4111 1111 1111 1112"),
        ("card", "1234 5678 9012 3452"),
        ("card", "4111 1111 111"),
        ("card", "4111.1111.1111.1111"),
        ("link", "https://login.evil-bank.uz/a?utm_source=x"),
        ("link", "WWW.Evil-Bank.UZ"),
        ("link", "hxxps://phish[.]com/login"),
        (
            "link",
            "http://\u{0430}\u{0440}\u{0440}\u{04CF}\u{0435}.com/",
        ),
        ("link", "shop.com.uz"),
        ("link", "https://t.me/fake_support_bot"),
        ("link", "t.me/s/Some_Channel"),
        ("link", "https://t.me/joinchat/AAAA"),
        ("link", "https://instagram.com/someone"),
        ("link", "ftp://files.evil.uz/x"),
        ("link", "http://3.3.3.3/login"),
        ("handle", "@Fake_Support"),
        ("handle", "fake_support"),
        ("handle", "t.me/s/Some_Channel"),
        ("handle", "https://telegram.me/abcde"),
        ("handle", "@abc"),
        ("handle", "@1abcde"),
        ("handle", "@abcde_"),
    ];
    let ex = cyber::Extractor::new(cyber::CardKey::random().unwrap());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/src/public_assets/check.js");
    let runner = r#"
const c = require(process.argv[1]);
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
(async () => {
  const out = [];
  for (const [k, v] of cases) {
    const n = c.normalise(k, v);
    out.push(n.ok ? { kind: n.kind, value: n.value, hash: await c.hashHex(n.kind, n.value),
                      prefix: c.prefixLength(n.kind) } : null);
  }
  process.stdout.write(JSON.stringify(out));
})();
"#;
    let mut child = std::process::Command::new("node")
        .arg("-e")
        .arg(runner)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("node is needed to test the check page's script ({e}); install Debian's nodejs")
        });
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json!(cases).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "node failed");
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answers.len(), cases.len());
    let mut checked = 0;
    for ((kind, input), js) in cases.iter().zip(&answers) {
        let rust = rust_check_form(&ex, kind, input);
        match (&rust, js) {
            (None, Value::Null) => {}
            (Some((k, v)), js) if !js.is_null() => {
                assert_eq!(js["kind"], k.as_str(), "{kind} {input:?}");
                assert_eq!(js["value"], v.as_str(), "{kind} {input:?}");
                assert_eq!(
                    js["hash"],
                    hex::encode(indicator_hash(*k, v)),
                    "{kind} {input:?}"
                );
                let digits = if *k == IndicatorKind::Card { 3 } else { 5 };
                assert_eq!(js["prefix"], digits);
                checked += 1;
            }
            _ => panic!("{kind} {input:?}: Rust gives {rust:?}, the page's script {js}"),
        }
    }
    assert!(checked >= 25, "only {checked} inputs were accepted by both");
}
