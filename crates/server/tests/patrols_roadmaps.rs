//! Patrol plans, patrol logs, patrol time against harm, and prevention roadmaps, end to end over
//! HTTP on SQLite and PostgreSQL, with the store's clock held by the test. The demo's synthetic
//! mahallas (real polygons that tile the district) carry a cluster of incidents reported by the
//! public around mahalla A, and a far mahalla carries only patrol finds, which must never count
//! as harm.
mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use analytics::data::{IncidentRecord, Period, SourceSet};
use analytics::patrol as ap;
use common::{Client, Resp, TestDb, TestServer};
use domain::{
    Actor, Affected, Category, District, DistrictId, MahallaId, ManualClock, Names, NewIncident,
    Role, Scope, Source, Timestamp,
};
use serde_json::{Value, json};
use server::demo::{DISTRICT, MAHALLA_A, MAHALLA_B, REGION};
use store::Store;

const PASSWORD: &str = "correct horse battery staple";
/// Another district of Tashkent city, with no mahallas.
const OTHER_DISTRICT: DistrictId = DistrictId(1_726_280);
const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;

fn t0() -> Timestamp {
    "2025-03-10T07:00:00Z".parse().unwrap()
}

fn at(us: i64) -> Timestamp {
    t0().saturating_add_micros(us)
}

struct Fx {
    srv: TestServer,
    store: Store,
    clock: Arc<ManualClock>,
    /// Mahalla A and its neighbours: where the public reports harm.
    cluster: Vec<MahallaId>,
    /// A mahalla far from A with only patrol finds.
    far: MahallaId,
    /// Every incident the test recorded, as the analytics read them.
    incidents: Vec<IncidentRecord>,
}

impl Fx {
    async fn login(&self, username: &str) -> Client {
        let mut c = self.srv.client();
        c.login(username, PASSWORD).await.expect(200);
        c
    }
}

/// The district's mahallas (by id) and their queen contiguity, from the stored polygons.
async fn contiguity(store: &Store) -> (Vec<MahallaId>, analytics::Weights) {
    let ms = store.list_mahallas(DISTRICT).await.unwrap();
    let polys: Vec<analytics::MultiPolygon> = ms
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let g: Value = serde_json::from_str(m.geometry.as_deref().unwrap()).unwrap();
            analytics::geojson::parse_geometry(i, &g).unwrap()
        })
        .collect();
    let w = analytics::contiguity(
        &polys,
        analytics::Contiguity::Queen,
        analytics::default_tolerance(&polys),
    )
    .unwrap();
    (ms.iter().map(|m| m.id).collect(), w)
}

/// The places the analytics crate calls tested hot spots (Gi* at 95%, 999 permutations with
/// `seed`, FDR) on the test's own incidents: public and camera ones in the 8 weeks before t0.
async fn expected_hot_spots(f: &Fx, seed: u64) -> BTreeSet<i64> {
    let (ids, w) = contiguity(&f.store).await;
    let period = Period::new(at(-56 * DAY), t0()).unwrap();
    let harm = ap::harm_by_mahalla(
        &f.incidents,
        &period,
        SourceSet::of(&[Source::Public, Source::Camera]),
        |_| 1.0,
    );
    let y: Vec<f64> = ids
        .iter()
        .map(|m| harm.get(m).copied().unwrap_or(0.0))
        .collect();
    let cfg = analytics::GiStarConfig {
        permutations: 999,
        seed,
        fdr: true,
    };
    let g = analytics::gi_star(&y, &w, &cfg).unwrap();
    let raw: Vec<i64> = ids.iter().map(|m| m.0).collect();
    ap::hot_spot_places(&raw, &g, &y, 0.95)
        .unwrap()
        .into_iter()
        .map(|p| p.place)
        .collect()
}

async fn setup(db: &TestDb) -> Fx {
    let (store, clock) = db.with_clock(t0()).await;
    server::demo::seed_geography(&store).await.unwrap();
    store
        .import_geography(
            &[],
            &[District {
                id: OTHER_DISTRICT,
                region: REGION,
                names: Names::uz("Yunusobod tumani"),
                geometry: None,
            }],
            &[],
        )
        .await
        .unwrap();
    common::create_users(
        &store,
        PASSWORD,
        &[
            ("admin", Role::Admin, Scope::National),
            ("operator", Role::Operator, Scope::District(DISTRICT)),
            (
                "operator_other",
                Role::Operator,
                Scope::District(OTHER_DISTRICT),
            ),
            ("inspector_a", Role::Inspector, Scope::Mahalla(MAHALLA_A)),
            ("analyst", Role::Analyst, Scope::Region(REGION)),
            ("auditor", Role::Auditor, Scope::National),
        ],
    )
    .await;
    // The cluster: the mahalla with the most neighbours, and its neighbours.
    let (ids, w) = contiguity(&store).await;
    let centre = (0..ids.len())
        .max_by_key(|&i| (w.cardinality(i), std::cmp::Reverse(i)))
        .unwrap();
    let mut cluster = vec![ids[centre]];
    cluster.extend(w.neighbors(centre).iter().map(|&j| ids[j as usize]));
    let all = store.list_mahallas(DISTRICT).await.unwrap();
    let far = all
        .iter()
        .rev()
        .map(|m| m.id)
        .find(|m| !cluster.contains(m))
        .unwrap();
    let mut incidents = Vec::new();
    let mut record = |m: MahallaId, source: Source, days_ago: i64, category: Category| {
        incidents.push(IncidentRecord {
            at: at(-days_ago * DAY),
            mahalla: m,
            category,
            source,
            point: None,
        });
    };
    for (k, m) in cluster.iter().enumerate() {
        for j in 0..6 {
            record(
                *m,
                Source::Public,
                8 + ((k + j) % 30) as i64,
                Category::Theft,
            );
        }
    }
    // Patrol finds far away: if they counted as harm, the far mahalla would look hot.
    for j in 0..30 {
        record(far, Source::Patrol, 8 + j % 20, Category::DrugOffence);
    }
    // A little harm elsewhere, and an inspector's record (not harm either).
    let quiet: Vec<MahallaId> = all
        .iter()
        .map(|m| m.id)
        .filter(|m| !cluster.contains(m) && *m != far)
        .take(3)
        .collect();
    for m in &quiet {
        record(*m, Source::Public, 12, Category::PublicOrder);
    }
    record(quiet[0], Source::Inspector, 9, Category::Other);
    for i in &incidents {
        store
            .create_incident(
                &NewIncident {
                    category: i.category,
                    source: i.source,
                    occurred_at: i.at,
                    mahalla: i.mahalla,
                    point: None,
                    affected: Affected::default(),
                    narrative: "test".into(),
                    event: None,
                },
                &Actor::System("test".into()),
            )
            .await
            .unwrap();
    }
    let srv = TestServer::start(&store).await;
    Fx {
        srv,
        store,
        clock,
        cluster,
        far,
        incidents,
    }
}

fn plan_body(district: DistrictId, seed: u64) -> Value {
    json!({
        "district": district,
        "shift_start": at(DAY).to_string(),
        "shift_end": at(DAY + 8 * HOUR).to_string(),
        "units": ["P-1", "P-2", "P-3"],
        "visits_per_unit": 6,
        "seed": seed,
    })
}

fn ts(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

/// JSON equal but for the last bit of floats (serde_json's default float parsing may round
/// differently from the number's shortest form).
#[track_caller]
fn assert_close(got: &Value, want: &Value) {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!((a - b).abs() <= 1e-12 * a.abs().max(b.abs()), "{a} vs {b}");
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{got} vs {want}");
            a.iter().zip(b).for_each(|(x, y)| assert_close(x, y));
        }
        (Value::Object(a), Value::Object(b)) => {
            assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
            a.iter().for_each(|(k, x)| assert_close(x, &b[k]));
        }
        _ => assert_eq!(got, want),
    }
}

#[track_caller]
fn error_says(r: Resp, status: u16, words: &str) {
    let v = r.expect_error(status);
    assert!(
        v["error"].as_str().unwrap().contains(words),
        "{words:?} not in {v}"
    );
}

async fn plans_respect_units_visits_and_places(db: &TestDb) {
    let f = setup(db).await;
    let op = f.login("operator").await;
    let made = op
        .post("/api/patrols/plans", &plan_body(DISTRICT, 7))
        .await
        .expect(201)
        .json();
    let id = made["id"].as_i64().unwrap();
    // What is stored, not what was answered.
    let plan = f.store.get_patrol_plan(id).await.unwrap().unwrap();
    let hot = expected_hot_spots(&f, 7).await;
    assert!(hot.len() >= 3, "the cluster is hot: {hot:?}");
    assert!(!hot.contains(&f.far.0), "patrol finds made a hot spot");
    let allocated: BTreeSet<i64> = plan.head.basis["allocation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["place"].as_i64().unwrap())
        .collect();
    assert_eq!(
        allocated, hot,
        "the plan's places are the analytics' hot spots"
    );
    assert_eq!(plan.head.units, ["P-1", "P-2", "P-3"]);
    let (start, end) = (at(DAY), at(DAY + 8 * HOUR));
    let mut per_unit: BTreeMap<&str, Vec<&store::PatrolVisit>> = BTreeMap::new();
    for v in &plan.visits {
        assert!((10..=15).contains(&v.minutes), "{v:?}");
        assert_eq!(
            v.end.unix_micros() - v.start.unix_micros(),
            i64::from(v.minutes) * 60_000_000
        );
        assert!(v.start >= start && v.end <= end, "{v:?} leaves the shift");
        assert!(
            hot.contains(&v.mahalla.0),
            "{v:?} is not at a tested hot spot {hot:?}"
        );
        assert_ne!(v.mahalla, f.far, "patrol finds made a hot spot");
        per_unit.entry(v.unit.as_str()).or_default().push(v);
    }
    assert_eq!(
        plan.visits.len() as u32 + plan.head.idle_unit_slots,
        3 * 6,
        "every unit-slot is a visit or idle"
    );
    for (unit, vs) in &per_unit {
        assert!(vs.len() <= 6, "{unit}");
        let slots: BTreeSet<u32> = vs.iter().map(|v| v.slot).collect();
        assert_eq!(slots.len(), vs.len(), "{unit} has two visits in a slot");
        // Spread over the shift: its visits are in time order without overlap.
        for w in vs.windows(2) {
            assert!(w[0].end <= w[1].start, "{unit}: {:?}", w);
        }
    }
    // Never two units at one place at one time.
    for (i, a) in plan.visits.iter().enumerate() {
        for b in &plan.visits[i + 1..] {
            if a.mahalla == b.mahalla {
                assert!(
                    a.end <= b.start || b.end <= a.start,
                    "{a:?} and {b:?} overlap at one place"
                );
            }
        }
    }
    // Hot spots are in the stored basis, tested on public and camera incidents only.
    assert_eq!(plan.head.basis["sources"], json!(["public", "camera"]));
    assert_eq!(plan.head.basis["weeks"], 8);
    // The same seed gives the same plan.
    let again = op
        .post("/api/patrols/plans", &plan_body(DISTRICT, 7))
        .await
        .expect(201)
        .json();
    let key = |p: &Value| -> Vec<(String, i64, String)> {
        p["visits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["unit"].as_str().unwrap().to_owned(),
                    v["mahalla"].as_i64().unwrap(),
                    v["start"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(key(&made), key(&again));
    // Readers in scope see it; others do not; CSV is audited.
    let analyst = f.login("analyst").await;
    let got = analyst
        .get(&format!("/api/patrols/plans/{id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(key(&got), key(&made));
    f.login("inspector_a")
        .await
        .get(&format!("/api/patrols/plans/{id}"))
        .await
        .expect_error(404);
    f.login("operator_other")
        .await
        .get(&format!("/api/patrols/plans/{id}"))
        .await
        .expect_error(404);
    analyst
        .post("/api/patrols/plans", &plan_body(DISTRICT, 7))
        .await
        .expect_error(403);
    let csv = analyst
        .get(&format!("/api/patrols/plans/{id}.csv"))
        .await
        .expect(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], server::patrols::PLAN_CSV_HEADER);
    assert_eq!(lines.len(), plan.visits.len() + 1);
    let list = analyst.get("/api/patrols/plans").await.expect(200).json();
    assert_eq!(list["plans"].as_array().unwrap().len(), 2);
    let audit = audit_actions(&f).await;
    assert_eq!(
        audit.iter().filter(|a| *a == "patrol_plan.create").count(),
        2
    );
    assert!(audit.contains(&"patrol_plan.export".to_owned()));
    f.store.audit_verify(None).await.unwrap();
}

async fn audit_actions(f: &Fx) -> Vec<String> {
    f.store
        .audit_entries(None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry.action)
        .collect()
}

async fn out_of_scope_and_bad_input_are_refused(db: &TestDb) {
    let f = setup(db).await;
    let op = f.login("operator").await;
    let insp = f.login("inspector_a").await;
    // Out of scope: another district, or a district above a mahalla's inspector.
    error_says(
        op.post("/api/patrols/plans", &plan_body(OTHER_DISTRICT, 1))
            .await,
        403,
        "not within your scope",
    );
    insp.post("/api/patrols/plans", &plan_body(DISTRICT, 1))
        .await
        .expect_error(403);
    // A district whose mahallas have no boundaries cannot be tested.
    error_says(
        f.login("admin")
            .await
            .post("/api/patrols/plans", &plan_body(OTHER_DISTRICT, 1))
            .await,
        400,
        "at least 3",
    );
    let with = |k: &str, v: Value| {
        let mut b = plan_body(DISTRICT, 1);
        b[k] = v;
        b
    };
    for (body, words) in [
        (with("units", json!([])), "units given"),
        (with("units", json!(["Akmal Karimov"])), "no number"),
        (with("units", json!(["P-1", "P-1"])), "twice"),
        (with("shift_end", json!(at(DAY - HOUR).to_string())), "ends"),
        (
            with("shift_end", json!(at(3 * DAY).to_string())),
            "at most 24",
        ),
        (with("confidence", json!(0.8)), "confidence"),
        (with("weeks", json!(0)), "weeks"),
        (with("permutations", json!(100_000)), "permutations"),
        (with("visits_per_unit", json!(40)), "too short"),
        // No incidents in the last week: nothing to test.
        (with("weeks", json!(1)), "cannot be tested"),
        (with("colour", json!("red")), "unknown field"),
    ] {
        error_says(op.post("/api/patrols/plans", &body).await, 400, words);
    }
    let r = op
        .raw(
            "POST",
            "/api/patrols/plans",
            &[
                ("Content-Type", "application/json"),
                ("X-CSRF-Token", op.csrf.as_deref().unwrap()),
            ],
            Some(b"{\"district\": "),
        )
        .await;
    r.expect_error(400);
    // Without the CSRF token nothing is written.
    let mut no_csrf = f.login("operator").await;
    no_csrf.csrf = None;
    no_csrf
        .post("/api/patrols/plans", &plan_body(DISTRICT, 1))
        .await
        .expect_error(403);
    assert!(
        f.store
            .list_patrol_plans(&Scope::National, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Logs.
    let log = |unit: &str, m: MahallaId| json!({ "unit": unit, "mahalla": m, "start": at(-2 * HOUR).to_string(), "minutes": 30 });
    let mut both = log("P-1", MAHALLA_A);
    both["end"] = json!(at(-HOUR).to_string());
    let mut neither = log("P-1", MAHALLA_A);
    neither.as_object_mut().unwrap().remove("minutes");
    let mut zero = log("P-1", MAHALLA_A);
    zero["minutes"] = json!(0);
    let mut future = log("P-1", MAHALLA_A);
    future["start"] = json!(at(HOUR).to_string());
    let mut no_visit = log("P-1", MAHALLA_A);
    no_visit["visit"] = json!(999_999);
    for (body, words) in [
        (both, "either end or minutes"),
        (neither, "either end or minutes"),
        (zero, "not 1 minute"),
        (future, "future"),
        (log("Dilnoza", MAHALLA_A), "no number"),
        (log("P<1>", MAHALLA_A), "character"),
        (no_visit, "planned visit"),
    ] {
        error_says(op.post("/api/patrols/logs", &body).await, 400, words);
    }
    insp.post("/api/patrols/logs", &log("P-1", MAHALLA_B))
        .await
        .expect_error(403);
    // Query parameters.
    for (path, status) in [
        ("/api/patrols/balance?area=somewhere", 400),
        ("/api/patrols/balance?from=2025-03-01&to=2025-02-01", 400),
        ("/api/patrols/balance?from=yesterday", 400),
        ("/api/patrols/balance?over=0.5", 400),
        ("/api/patrols/logs?limit=0", 400),
        ("/api/roadmaps/progress?area=region:", 400),
    ] {
        op.get(path).await.expect_error(status);
    }
    insp.get(&format!("/api/patrols/balance?area=district:{DISTRICT}"))
        .await
        .expect_error(403);
    f.login("auditor")
        .await
        .get("/api/patrols/balance")
        .await
        .expect_error(403);

    // Roadmaps.
    error_says(
        op.post("/api/roadmaps", &json!({"area": "national", "title": "x"}))
            .await,
        400,
        "not to the whole country",
    );
    op.post(
        "/api/roadmaps",
        &json!({"area": format!("region:{REGION}"), "title": "x"}),
    )
    .await
    .expect_error(403);
    error_says(
        op.post(
            "/api/roadmaps",
            &json!({"area": format!("district:{DISTRICT}"), "title": "  "}),
        )
        .await,
        400,
        "title",
    );
    let r = op
        .post(
            "/api/roadmaps",
            &json!({"area": format!("district:{DISTRICT}"), "title": "Plan"}),
        )
        .await
        .expect(201)
        .json();
    let rid = r["id"].as_i64().unwrap();
    let measure = json!({"kind": "football", "description": "d", "owner": "o", "deadline": at(DAY).to_string()});
    error_says(
        op.post(&format!("/api/roadmaps/{rid}/measures"), &measure)
            .await,
        400,
        "unknown measure kind",
    );
    let mut good = measure.clone();
    good["kind"] = json!("youth_prevention");
    let m = op
        .post(&format!("/api/roadmaps/{rid}/measures"), &good)
        .await
        .expect(201)
        .json();
    let mid = m["id"].as_i64().unwrap();
    error_says(
        op.post(
            &format!("/api/roadmaps/measures/{mid}/status"),
            &json!({"to": "done"}),
        )
        .await,
        400,
        "evidence",
    );
    error_says(
        op.post(
            &format!("/api/roadmaps/measures/{mid}/status"),
            &json!({"to": "done", "evidence_text": "minutes", "evidence_link": "javascript:alert(1)"}),
        )
        .await,
        400,
        "evidence_link",
    );
    error_says(
        op.post(
            &format!("/api/roadmaps/measures/{mid}/status"),
            &json!({"to": "finished"}),
        )
        .await,
        400,
        "unknown measure status",
    );
    // Nothing of the refused changes was written.
    let stored = f.store.get_measure(mid).await.unwrap().unwrap();
    assert_eq!(stored.status, "planned");
    assert_eq!(stored.evidence_text, "");
    insp.get(&format!("/api/roadmaps/{rid}"))
        .await
        .expect_error(404);
    f.store.audit_verify(None).await.unwrap();
}

async fn logs_feed_the_balance_view(db: &TestDb) {
    let f = setup(db).await;
    let op = f.login("operator").await;
    let plan = op
        .post("/api/patrols/plans", &plan_body(DISTRICT, 3))
        .await
        .expect(201)
        .json();
    // A planned visit away from A, so that A's minutes below are the entries' alone.
    let visit = plan["visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["mahalla"] != MAHALLA_A.0)
        .unwrap();
    let b = *f.cluster.iter().find(|m| **m != MAHALLA_A).unwrap();
    // (unit, mahalla, start, minutes); P-1's two entries at A overlap by 20 minutes.
    let entries: Vec<(&str, MahallaId, Timestamp, i64)> = vec![
        ("P-1", MAHALLA_A, at(-5 * HOUR), 60),
        ("P-1", MAHALLA_A, at(-5 * HOUR + 40 * 60_000_000), 30),
        ("P-2", MAHALLA_A, at(-5 * HOUR), 15),
        ("P-2", b, at(-3 * HOUR), 20),
        ("P-3", f.far, at(-4 * HOUR), 100),
        ("Patrol 9", f.far, at(-70 * DAY), 45),
    ];
    for (unit, m, start, minutes) in &entries {
        op.post(
            "/api/patrols/logs",
            &json!({"unit": unit, "mahalla": m, "start": start.to_string(), "minutes": minutes}),
        )
        .await
        .expect(201);
    }
    // A planned visit carried out: same unit and place, or refused.
    let carried = json!({"unit": visit["unit"], "mahalla": visit["mahalla"], "start": at(-HOUR).to_string(),
        "end": at(-HOUR + 12 * 60_000_000).to_string(), "visit": visit["id"]});
    let logged = op
        .post("/api/patrols/logs", &carried)
        .await
        .expect(201)
        .json();
    assert_eq!(logged["visit"], visit["id"]);
    assert_eq!(logged["minutes"], 12.0);
    let mut wrong = carried.clone();
    wrong["unit"] = json!("P-77");
    op.post("/api/patrols/logs", &wrong).await.expect_error(400);

    let (from, to) = (at(-60 * DAY), at(0));
    let q = format!(
        "/api/patrols/balance?from={}&to={}&area=district:{DISTRICT}",
        from, to
    );
    let got = f.login("analyst").await.get(&q).await.expect(200).json();
    // The same numbers from the analytics crate, on what the test itself recorded.
    let period = Period::new(from, to).unwrap();
    let mut logs: Vec<ap::PatrolLog> = entries
        .iter()
        .map(|(u, m, s, min)| ap::PatrolLog {
            unit: (*u).into(),
            place: m.0,
            start: *s,
            end: s.saturating_add_micros(min * 60_000_000),
        })
        .collect();
    logs.push(ap::PatrolLog {
        unit: visit["unit"].as_str().unwrap().into(),
        place: visit["mahalla"].as_i64().unwrap(),
        start: at(-HOUR),
        end: at(-HOUR + 12 * 60_000_000),
    });
    let minutes = ap::patrol_minutes(&logs, &period).unwrap();
    let harm: BTreeMap<i64, f64> = ap::harm_by_mahalla(
        &f.incidents,
        &period,
        SourceSet::of(&[Source::Public, Source::Camera]),
        |_| 1.0,
    )
    .into_iter()
    .map(|(m, h)| (m.0, h))
    .collect();
    let want = ap::patrol_vs_harm(&minutes, &harm, 2.0, 0.5).unwrap();
    let mut report = got["report"].clone();
    for r in report["rows"].as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("mahalla_name");
    }
    assert_close(&report, &serde_json::to_value(&want).unwrap());
    // By hand: A has 70 minutes from P-1 (60 and 30 overlapping by 20) and 15 from P-2.
    assert_eq!(minutes[&MAHALLA_A.0], 85.0);
    let far_row = got["report"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["place"] == f.far.0)
        .unwrap()
        .clone();
    assert_eq!(
        far_row["reading"], "patrol_without_harm",
        "patrol finds are not harm"
    );
    assert_eq!(
        far_row["patrol_minutes"], 100.0,
        "the entry before from is left out"
    );
    assert_eq!(
        got["report"]["rows"][0]["place"], f.far.0,
        "most over-policed first"
    );
    assert!(got["report"]["rows"][0]["mahalla_name"].is_string());
    // The log list, in scope.
    let logs = op.get("/api/patrols/logs").await.expect(200).json();
    assert_eq!(
        logs["logs"].as_array().unwrap().len(),
        6,
        "28 days by default"
    );
    let mine = f
        .login("inspector_a")
        .await
        .get(&format!(
            "/api/patrols/logs?area=mahalla:{MAHALLA_A}&from={from}"
        ))
        .await
        .expect(200)
        .json();
    assert!(
        mine["logs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["mahalla"] == MAHALLA_A.0)
    );
    assert_eq!(mine["logs"].as_array().unwrap().len(), 3);
    assert_eq!(
        audit_actions(&f)
            .await
            .iter()
            .filter(|a| *a == "patrol_log.create")
            .count(),
        7
    );
}

async fn new_roadmap(c: &Client, area: String) -> i64 {
    let body = json!({"area": area, "title": "Prevention", "period": "2025"});
    c.post("/api/roadmaps", &body).await.expect(201).json()["id"]
        .as_i64()
        .unwrap()
}

async fn add(c: &Client, roadmap: i64, kind: &str, due_days: i64) -> i64 {
    let body = json!({"kind": kind, "description": format!("{kind} measure"),
        "owner": "district khokimiyat", "deadline": at(due_days * DAY).to_string()});
    c.post(&format!("/api/roadmaps/{roadmap}/measures"), &body)
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap()
}

async fn status(c: &Client, m: i64, body: Value) -> Resp {
    c.post(&format!("/api/roadmaps/measures/{m}/status"), &body)
        .await
}

async fn roadmaps_roll_up_flag_overdue_and_audit(db: &TestDb) {
    let f = setup(db).await;
    let admin = f.login("admin").await;
    let op = f.login("operator").await;
    let insp = f.login("inspector_a").await;
    let rd = new_roadmap(&op, format!("district:{DISTRICT}")).await;
    let ra = new_roadmap(&insp, format!("mahalla:{MAHALLA_A}")).await;
    let rb = new_roadmap(&op, format!("mahalla:{MAHALLA_B}")).await;
    let rr = new_roadmap(&admin, format!("region:{REGION}")).await;
    insp.post(
        "/api/roadmaps",
        &json!({"area": format!("mahalla:{MAHALLA_B}"), "title": "x"}),
    )
    .await
    .expect_error(403);
    let m1 = add(&op, rd, "digital_monitoring", 10).await;
    let m2 = add(&op, rd, "inspector_staffing", 2).await;
    let m3 = add(&insp, ra, "outreach_education", 5).await;
    let m4 = add(&insp, ra, "youth_prevention", 1).await;
    let m5 = add(&op, rb, "social_services", 3).await;
    let m6 = add(&op, rb, "drug_prevention", 2).await;
    let m7 = add(&admin, rr, "social_worker_staffing", 1).await;
    status(&op, m2, json!({"to": "in_progress"}))
        .await
        .expect(200);
    f.clock.set(at(4 * HOUR));
    let done = status(&insp, m3, json!({"to": "done", "evidence_text": "Minutes No. 3", "evidence_link": "https://example.org/minutes-3.pdf"}))
        .await
        .expect(200)
        .json();
    assert_eq!(
        done["verified_done"], false,
        "not counted before verification"
    );
    assert_eq!(ts(&done["completed_at"]), at(4 * HOUR));
    status(
        &op,
        m5,
        json!({"to": "cancelled", "note": "merged into m6"}),
    )
    .await
    .expect(200);
    status(
        &op,
        m6,
        json!({"to": "done", "evidence_text": "Leaflets printed"}),
    )
    .await
    .expect(200);
    // Verification: never by the one who marked it done; once.
    error_says(
        insp.post(&format!("/api/roadmaps/measures/{m3}/verify"), &json!({}))
            .await,
        400,
        "second person",
    );
    let v = op
        .post(
            &format!("/api/roadmaps/measures/{m3}/verify"),
            &json!({"note": "checked"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(v["verified_done"], true);
    op.post(&format!("/api/roadmaps/measures/{m3}/verify"), &json!({}))
        .await
        .expect_error(409);
    op.post(&format!("/api/roadmaps/measures/{m1}/verify"), &json!({}))
        .await
        .expect_error(409);
    // An edit moves m1's deadline.
    op.put(
        &format!("/api/roadmaps/measures/{m1}"),
        &json!({"kind": "digital_monitoring", "description": "Cameras at schools", "owner": "district khokimiyat", "deadline": at(12 * DAY).to_string()}),
    )
    .await
    .expect(200);

    // Four days on: m4 (due day 1), m2 (day 2) and m6 (day 2, done but unverified) are overdue;
    // m7 (day 1) is the region's, above the district.
    f.clock.set(at(4 * DAY));
    // Sessions last 8 hours on the store's clock.
    let op = f.login("operator").await;
    let insp = f.login("inspector_a").await;
    let p = op
        .get(&format!("/api/roadmaps/progress?area=district:{DISTRICT}"))
        .await
        .expect(200)
        .json();
    assert_eq!(ts(&p["now"]), at(4 * DAY));
    assert_eq!(p["geography_complete"], true);
    let overdue: Vec<i64> = p["report"]["overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(overdue, vec![m4, m2, m6], "most overdue first");
    assert_eq!(p["report"]["overdue"][0]["days_overdue"], 3.0);
    let district = &p["report"]["regions"][0]["districts"][0];
    assert_eq!(district["district"], DISTRICT.0);
    let t = &district["total"];
    assert_eq!(
        (
            t["total"].as_i64(),
            t["done"].as_i64(),
            t["cancelled"].as_i64()
        ),
        (Some(6), Some(1), Some(1))
    );
    assert_eq!(t["done_without_evidence"], 1);
    assert_eq!(t["overdue"], 3);
    assert_eq!(t["share_done"], 0.2);
    assert_eq!(district["own"]["total"], 2);
    assert_eq!(district["mahallas_without_measures"], 38);
    let a = district["mahallas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mahalla"] == MAHALLA_A.0)
        .unwrap();
    assert_eq!(a["own"]["share_done"], 0.5);
    assert!(p["names"]["mahallas"][MAHALLA_A.0.to_string()].is_string());
    // The same roll-up from the analytics crate, on the measures as the test made them.
    let area = |m: MahallaId| domain::Area::Mahalla {
        region: REGION,
        district: DISTRICT,
        mahalla: m,
    };
    let d_area = domain::Area::District {
        region: REGION,
        district: DISTRICT,
    };
    let measure =
        |id, area, kind, due, status, evidence: &[&str], completed| analytics::roadmap::Measure {
            id,
            area,
            kind,
            title: "x".into(),
            owner: "district khokimiyat".into(),
            deadline: at(due * DAY),
            status,
            evidence: evidence.iter().map(|e| (*e).to_owned()).collect(),
            completed_at: completed,
        };
    use analytics::roadmap::{MeasureKind as K, MeasureStatus as S};
    let direct = analytics::roadmap::roll_up(
        &[
            measure(m1, d_area, K::DigitalMonitoring, 12, S::Planned, &[], None),
            measure(
                m2,
                d_area,
                K::InspectorStaffing,
                2,
                S::InProgress,
                &[],
                None,
            ),
            measure(
                m3,
                area(MAHALLA_A),
                K::OutreachEducation,
                5,
                S::Done,
                &["Minutes No. 3", "https://example.org/minutes-3.pdf"],
                Some(at(4 * HOUR)),
            ),
            measure(
                m4,
                area(MAHALLA_A),
                K::YouthPrevention,
                1,
                S::Planned,
                &[],
                None,
            ),
            measure(
                m5,
                area(MAHALLA_B),
                K::SocialServices,
                3,
                S::Cancelled,
                &[],
                None,
            ),
            measure(
                m6,
                area(MAHALLA_B),
                K::DrugPrevention,
                2,
                S::Done,
                &[],
                Some(at(4 * HOUR)),
            ),
        ],
        None,
        at(4 * DAY),
    )
    .unwrap();
    assert_close(
        &p["report"]["total"],
        &serde_json::to_value(&direct.total).unwrap(),
    );
    assert_close(
        &p["report"]["overdue"],
        &serde_json::to_value(&direct.overdue).unwrap(),
    );
    assert_close(
        &p["report"]["by_kind"],
        &serde_json::to_value(&direct.by_kind).unwrap(),
    );
    // The region's analyst sees the region's own measure too; the inspector only mahalla A.
    let pr = f
        .login("analyst")
        .await
        .get("/api/roadmaps/progress")
        .await
        .expect(200)
        .json();
    assert_eq!(pr["report"]["regions"][0]["own"]["total"], 1);
    assert_eq!(pr["report"]["total"]["total"], 7);
    assert!(
        pr["report"]["overdue"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == m7)
    );
    let pi = insp.get("/api/roadmaps/progress").await.expect(200).json();
    assert_eq!(pi["report"]["total"]["total"], 2);
    insp.get(&format!("/api/roadmaps/progress?area=district:{DISTRICT}"))
        .await
        .expect_error(403);
    let one = insp
        .get(&format!("/api/roadmaps/{ra}"))
        .await
        .expect(200)
        .json();
    assert_eq!(one["measures"].as_array().unwrap().len(), 2);
    assert_eq!(one["measures"][1]["overdue"], true);
    insp.get(&format!("/api/roadmaps/{rb}"))
        .await
        .expect_error(404);
    insp.post(
        &format!("/api/roadmaps/measures/{m5}/status"),
        &json!({"to": "planned"}),
    )
    .await
    .expect_error(404);
    let listed = f
        .login("analyst")
        .await
        .get("/api/roadmaps")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["roadmaps"].as_array().unwrap().len(), 4);

    // Every change is in the audit log, in order, with what changed.
    let entries = f.store.audit_entries(None, 10_000).await.unwrap();
    let of = |target: String| -> Vec<(String, Value)> {
        entries
            .iter()
            .filter(|e| e.entry.target == target)
            .map(|e| (e.entry.action.clone(), e.entry.details.clone()))
            .collect()
    };
    let m3_log = of(format!("measure:{m3}"));
    let actions: Vec<&str> = m3_log.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        ["measure.create", "measure.status", "measure.verify"]
    );
    assert_eq!(m3_log[1].1["from"], "planned");
    assert_eq!(m3_log[1].1["to"], "done");
    assert_eq!(m3_log[1].1["evidence_text"], "Minutes No. 3");
    let m1_log = of(format!("measure:{m1}"));
    assert_eq!(m1_log[1].0, "measure.update");
    assert_eq!(ts(&m1_log[1].1["before"]["deadline"]), at(10 * DAY));
    assert_eq!(ts(&m1_log[1].1["after"]["deadline"]), at(12 * DAY));
    assert_eq!(of(format!("roadmap:{rd}"))[0].0, "roadmap.create");
    assert_eq!(of(format!("measure:{m5}"))[1].1["note"], "merged into m6");
    // Leaving done clears the verification; the evidence stays, and is audited.
    let back = status(
        &op,
        m3,
        json!({"to": "in_progress", "note": "the minutes were unsigned"}),
    )
    .await
    .expect(200)
    .json();
    assert!(back["verified_by"].is_null() && back["completed_at"].is_null());
    assert_eq!(back["evidence"]["text"], "Minutes No. 3");
    f.store.audit_verify(None).await.unwrap();
}

/// A console page under the console's policy.
#[track_caller]
fn page(r: Resp, status: u16) -> String {
    let r = r.expect(status);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(
        r.header("content-security-policy")
            .unwrap_or("")
            .contains("script-src 'self'")
    );
    let body = r.text();
    assert!(!body.contains(" style="), "no inline styles");
    assert!(!body.contains("<script>"), "no inline script");
    body
}

async fn console_pages_render_and_submit(db: &TestDb) {
    let f = setup(db).await;
    let op = f.login("operator").await;
    let plan = op
        .post("/api/patrols/plans", &plan_body(DISTRICT, 11))
        .await
        .expect(201)
        .json();
    op.post(
        "/api/patrols/logs",
        &json!({"unit": "P-1", "mahalla": f.far, "start": at(-3 * HOUR).to_string(), "minutes": 90}),
    )
    .await
    .expect(201);
    let rid = op
        .post(
            "/api/roadmaps",
            &json!({"area": format!("mahalla:{MAHALLA_A}"), "title": "Navbahor <roadmap>"}),
        )
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();
    op.post(
        &format!("/api/roadmaps/{rid}/measures"),
        &json!({"kind": "drug_prevention", "description": "Talks at school <b>7</b>", "owner": "mahalla office", "deadline": at(-DAY).to_string()}),
    )
    .await
    .expect(201);

    let body = page(op.get("/console/patrols").await, 200);
    for part in [
        "href=\"/console/patrols\"",
        "href=\"/console/roadmaps\"",
        "id=\"plan-form\"",
        "id=\"log-form\"",
        "id=\"balance-chart\"",
        "id=\"balance-table\"",
        "patrol without harm",
        "Why this matters",
        "Koper",
    ] {
        assert!(body.contains(part), "{part} missing from the patrols page");
    }
    let id = plan["id"].as_i64().unwrap();
    let body = page(op.get(&format!("/console/patrols/plans/{id}")).await, 200);
    assert!(body.contains("id=\"gantt\""));
    assert_eq!(
        body.matches("<rect class=\"visit\"").count(),
        plan["visits"].as_array().unwrap().len()
    );
    for u in ["P-1", "P-2", "P-3"] {
        assert!(body.contains(u));
    }
    let body = page(op.get("/console/roadmaps").await, 200);
    assert!(body.contains("id=\"progress-tree\"") && body.contains("<progress"));
    // A roadmap may be started for the operator's district and its mahallas, nothing above.
    assert!(body.contains(&format!("<option value=\"district:{DISTRICT}\"")));
    assert!(body.contains(&format!("<option value=\"mahalla:{MAHALLA_B}\"")));
    assert!(
        !body.contains("<option value=\"region:")
            && !body.contains(&format!("district:{OTHER_DISTRICT}"))
    );
    assert!(
        body.contains("<tr class=\"overdue\""),
        "the overdue measure is shown in red"
    );
    assert!(
        body.contains("Navbahor &lt;roadmap&gt;"),
        "titles are escaped"
    );
    let body = page(op.get(&format!("/console/roadmaps/{rid}")).await, 200);
    assert!(body.contains("Talks at school &lt;b&gt;7&lt;/b&gt;"));
    assert!(body.contains("class=\"measure overdue\""));

    // Analysts read; the forms are not theirs. Auditors do not see the pages.
    let analyst = f.login("analyst").await;
    let body = page(analyst.get("/console/patrols").await, 200);
    assert!(!body.contains("id=\"plan-form\"") && body.contains("id=\"balance-table\""));
    assert!(!page(analyst.get("/console/roadmaps").await, 200).contains("id=\"roadmap-form\""));
    let auditor = f.login("auditor").await;
    let nav = page(auditor.get("/console/audit").await, 200);
    assert!(!nav.contains("href=\"/console/patrols\""));
    auditor.get("/console/patrols").await.expect(403);
    analyst
        .post_form(
            "/console/patrols/logs",
            &[("_csrf", analyst.csrf.as_deref().unwrap())],
        )
        .await
        .expect(403);

    // Forms: the console's own token, then the API's checks.
    let csrf = op.csrf.clone().unwrap();
    let mut form_op = f.srv.client();
    form_op.cookie = op.cookie.clone();
    let added = form_op
        .post_form(
            &format!("/console/roadmaps/{rid}/measures"),
            &[
                ("_csrf", &csrf),
                ("kind", "youth_prevention"),
                ("description", "Football club"),
                ("owner", "mahalla youth leader"),
                ("deadline", "2025-04-30"),
            ],
        )
        .await
        .expect(303);
    assert_eq!(
        added.header("location"),
        Some(format!("/console/roadmaps/{rid}?saved=1").as_str())
    );
    let measures = f.store.roadmap_measures(rid).await.unwrap();
    assert_eq!(measures.len(), 2);
    // Due by the end of 30 April in Tashkent.
    assert_eq!(
        measures[1].deadline,
        "2025-04-30T19:00:00Z".parse::<Timestamp>().unwrap()
    );
    form_op
        .post_form(
            &format!("/console/roadmaps/{rid}/measures"),
            &[("_csrf", "wrong"), ("kind", "youth_prevention")],
        )
        .await
        .expect(403);
    let refused = form_op
        .post_form(
            &format!("/console/roadmaps/measures/{}/status", measures[1].id),
            &[("_csrf", &csrf), ("to", "done")],
        )
        .await;
    let body = page(refused, 400);
    assert!(body.contains("evidence of completion"), "{body}");
    let logged = form_op
        .post_form(
            "/console/patrols/logs",
            &[
                ("_csrf", &csrf),
                ("unit", "P-2"),
                ("mahalla", &MAHALLA_A.0.to_string()),
                ("start", "2025-03-10 10:00"),
                ("minutes", "25"),
            ],
        )
        .await
        .expect(303);
    assert_eq!(logged.header("location"), Some("/console/patrols?logged=1"));
    let bad = form_op
        .post_form(
            "/console/patrols/logs",
            &[
                ("_csrf", &csrf),
                ("unit", "Sardor"),
                ("mahalla", &MAHALLA_A.0.to_string()),
                ("start", "2025-03-10 10:00"),
                ("minutes", "25"),
            ],
        )
        .await;
    let body = page(bad, 400);
    assert!(
        body.contains("value=\"Sardor\""),
        "the form comes back as typed"
    );
    let made = form_op
        .post_form(
            "/console/patrols/plans",
            &[
                ("_csrf", &csrf),
                ("district", &DISTRICT.0.to_string()),
                ("shift_start", "2025-03-11T08:00"),
                ("shift_end", "2025-03-11T16:00"),
                ("units", "P-1\nP-2"),
                ("seed", "5"),
            ],
        )
        .await
        .expect(303);
    let loc = made.header("location").unwrap().to_owned();
    assert!(loc.starts_with("/console/patrols/plans/"), "{loc}");
    let new_id: i64 = loc.rsplit('/').next().unwrap().parse().unwrap();
    let stored = f.store.get_patrol_plan(new_id).await.unwrap().unwrap();
    assert_eq!(
        stored.head.shift_start,
        "2025-03-11T03:00:00Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(stored.head.units, ["P-1", "P-2"]);
}

async fn demo_seeds_synthetic_patrols_and_roadmaps(db: &TestDb) {
    let f = setup(db).await;
    let admin = f
        .store
        .get_user_by_username("admin")
        .await
        .unwrap()
        .unwrap();
    server::demo::seed_patrols_and_roadmaps(&f.store)
        .await
        .unwrap();
    server::demo::seed_patrols_and_roadmaps(&f.store)
        .await
        .unwrap(); // idempotent
    let plans = f
        .store
        .list_patrol_plans(&Scope::District(DISTRICT), 10)
        .await
        .unwrap();
    assert_eq!(plans.len(), 1);
    assert!(plans[0].synthetic);
    let roadmaps = f
        .store
        .list_roadmaps(&Scope::District(DISTRICT))
        .await
        .unwrap();
    assert_eq!(
        roadmaps.len(),
        41,
        "the district and each of its 40 mahallas"
    );
    assert!(roadmaps.iter().all(|r| r.synthetic));
    let (report, _) =
        server::roadmaps::progress_report(&f.store, &Scope::District(DISTRICT), f.store.now())
            .await
            .unwrap();
    assert_eq!(report.overdue.len(), 1, "{:?}", report.overdue);
    assert!(report.total.done > 0);
    let logs = f
        .store
        .list_patrol_logs(&Scope::District(DISTRICT), at(-3 * DAY), at(DAY), 1000)
        .await
        .unwrap();
    assert!(!logs.is_empty() && logs.iter().all(|l| l.synthetic));
    let measures = f
        .store
        .list_measures(&Scope::District(DISTRICT))
        .await
        .unwrap();
    assert!(measures.iter().any(|m| m.verified_by == Some(admin.id)));
    let mut by_roadmap: HashMap<i64, usize> = HashMap::new();
    for m in &measures {
        *by_roadmap.entry(m.roadmap).or_default() += 1;
    }
    assert!(by_roadmap.values().all(|n| *n >= 2));
}

on_both_databases!(
    plans_respect_units_visits_and_places,
    out_of_scope_and_bad_input_are_refused,
    logs_feed_the_balance_view,
    roadmaps_roll_up_flag_overdue_and_audit,
    console_pages_render_and_submit,
    demo_seeds_synthetic_patrols_and_roadmaps,
);
