//! `GET /api/period-reports` end to end on both databases: seeded incidents come back as the
//! counts of the HTML, PDF (read back with poppler's pdftotext) and CSV; every download is
//! audited with the SHA-256 of exactly the bytes received; scope, role and bad parameters are
//! refused; the console's Reports page offers the three formats.
mod common;

use common::{Client, TestDb, TestServer};
use domain::{
    Actor, Affected, Category, District, DistrictId, Mahalla, MahallaId, Names, NewIncident,
    NewUser, Region, RegionId, Role, Scope, Source, Timestamp,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use store::{MeasureFields, MeasureStatusChange, NewRoadmap};

const PASSWORD: &str = "correct horse battery staple";
const REGION: RegionId = RegionId(1);
const DISTRICT: DistrictId = DistrictId(11);
const OTHER_DISTRICT: DistrictId = DistrictId(12);

fn square(x: f64, y: f64) -> String {
    let s = 0.01;
    format!(
        r#"{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]}}"#,
        x + s,
        x + s,
        y + s,
        y + s
    )
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn mahalla_id(i: usize) -> MahallaId {
    MahallaId(100 + i as i64)
}

/// One region, two districts: six mahallas (a 3 x 2 grid of squares, one named in Cyrillic,
/// one without a population) in the first, one in the second.
async fn seed_geography(db: &TestDb) {
    let names = [
        "Bogʻiston",
        "Чилонзор",
        "Qatortol",
        "Bunyodkor",
        "Navroʻz",
        "Olmazor",
    ];
    let mut mahallas: Vec<Mahalla> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Mahalla {
            id: mahalla_id(i),
            district: DISTRICT,
            names: Names::uz(*n),
            population: (i != 5).then_some(1000 + 500 * i as u32),
            geometry: Some(square(
                69.20 + 0.01 * (i % 3) as f64,
                41.30 + 0.01 * (i / 3) as f64,
            )),
            synthetic: false,
        })
        .collect();
    mahallas.push(Mahalla {
        id: MahallaId(200),
        district: OTHER_DISTRICT,
        names: Names::uz("Boshqa"),
        population: Some(3000),
        geometry: None,
        synthetic: false,
    });
    db.store
        .import_geography(
            &[Region {
                id: REGION,
                names: Names::uz("Sinov viloyati"),
                geometry: None,
            }],
            &[
                District {
                    id: DISTRICT,
                    region: REGION,
                    names: Names::uz("Sinov tumani"),
                    geometry: None,
                },
                District {
                    id: OTHER_DISTRICT,
                    region: REGION,
                    names: Names::uz("Boshqa tuman"),
                    geometry: None,
                },
            ],
            &mahallas,
        )
        .await
        .unwrap();
}

async fn incident(db: &TestDb, at: &str, m: MahallaId, c: Category, s: Source, a: Affected) {
    db.store
        .create_incident(
            &NewIncident {
                category: c,
                source: s,
                occurred_at: at.parse::<Timestamp>().unwrap(),
                mahalla: m,
                point: None,
                affected: a,
                narrative: "seeded for the period report test".into(),
                event: None,
            },
            &Actor::System("test".into()),
        )
        .await
        .unwrap();
}

/// In 2025-Q3 (Tashkent time) in the district: 7 public, 1 patrol, 1 inspector (9), in
/// mahallas 0, 1 and 2 only (3 to 5 crime-free); 2 minors, 1 woman; 2 fraud and 1 cybercrime.
/// Around it, incidents that must not count: the previous quarter, the year before, the
/// month after, the other district, and the quarter's edges just outside.
async fn seed_incidents(db: &TestDb) {
    let none = Affected::default();
    let minor = Affected {
        minor: true,
        ..Affected::default()
    };
    let woman = Affected {
        woman: true,
        ..Affected::default()
    };
    use Category::{Cybercrime, DrugOffence, Fraud, Theft, Violence};
    use Source::{Inspector, Patrol, Public};
    let (m0, m1, m2, m3, m4) = (
        mahalla_id(0),
        mahalla_id(1),
        mahalla_id(2),
        mahalla_id(3),
        mahalla_id(4),
    );
    let rows = [
        ("2025-08-01T10:00:00+05:00", m0, Theft, Public, none),
        ("2025-08-02T10:00:00+05:00", m0, Theft, Public, none),
        ("2025-08-03T10:00:00+05:00", m0, Theft, Public, none),
        ("2025-08-04T10:00:00+05:00", m0, Theft, Public, none),
        ("2025-08-05T10:00:00+05:00", m0, Theft, Public, none),
        ("2025-07-01T00:00:00+05:00", m0, DrugOffence, Patrol, none),
        ("2025-09-12T18:00:00+05:00", m1, Fraud, Public, minor),
        ("2025-09-30T23:59:59+05:00", m1, Fraud, Public, minor),
        (
            "2025-07-20T09:00:00+05:00",
            m2,
            Cybercrime,
            Inspector,
            woman,
        ),
        // Not in the report's counts for 2025-Q3:
        ("2025-06-30T23:59:59+05:00", m0, Theft, Public, none),
        ("2025-05-10T10:00:00+05:00", m3, Theft, Public, none),
        ("2024-08-10T10:00:00+05:00", m0, Theft, Public, none),
        ("2025-10-01T00:00:00+05:00", m4, Violence, Public, none),
        (
            "2025-08-10T10:00:00+05:00",
            MahallaId(200),
            Theft,
            Public,
            none,
        ),
    ];
    for (at, m, c, source, a) in rows {
        incident(db, at, m, c, source, a).await;
    }
}

async fn setup(db: &TestDb) -> TestServer {
    seed_geography(db).await;
    seed_incidents(db).await;
    common::create_users(
        &db.store,
        PASSWORD,
        &[
            ("analyst", Role::Analyst, Scope::National),
            (
                "inspector_m",
                Role::Inspector,
                Scope::Mahalla(mahalla_id(0)),
            ),
            (
                "operator_other",
                Role::Operator,
                Scope::District(OTHER_DISTRICT),
            ),
            ("auditor", Role::Auditor, Scope::National),
        ],
    )
    .await;
    TestServer::start(&db.store).await
}

async fn logged_in(s: &TestServer, username: &str) -> Client {
    let mut c = s.client();
    c.login(username, PASSWORD).await.expect(200);
    c
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn url(area: &str, period: &str, format: &str) -> String {
    format!("/api/period-reports?area={area}&period={period}&format={format}")
}

/// The period_report.export entries of the audit log, oldest first; the chain verifies.
async fn exports(db: &TestDb) -> Vec<(String, Value)> {
    db.store
        .audit_verify(None)
        .await
        .expect("audit chain verifies");
    db.store
        .audit_entries(None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.entry.action == "period_report.export")
        .map(|r| (r.entry.actor, r.entry.details))
        .collect()
}

/// `pdftotext -layout` of a PDF; fails (never skips) without poppler-utils.
fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils, installed by scripts/install-deps.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// CSV rows as (section, metric, breakdown, value).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("section,metric,breakdown,value"));
    lines
        .map(|l| l.splitn(4, ',').map(str::to_owned).collect())
        .collect()
}

fn csv_sum(rows: &[Vec<String>], section: &str, metric: &str) -> u64 {
    rows.iter()
        .filter(|r| r[0] == section && r[1] == metric && r[2] != "all")
        .map(|r| r[3].parse::<u64>().unwrap())
        .sum()
}

fn csv_value<'a>(rows: &'a [Vec<String>], section: &str, metric: &str, breakdown: &str) -> &'a str {
    &rows
        .iter()
        .find(|r| r[0] == section && r[1] == metric && r[2] == breakdown)
        .unwrap_or_else(|| panic!("no row {section},{metric},{breakdown}"))[3]
}

async fn formats_hold_the_counts_and_are_audited(db: &TestDb) {
    let s = setup(db).await;
    let c = logged_in(&s, "analyst").await;
    let area = format!("district:{DISTRICT}");

    let html = c.get(&url(&area, "2025-Q3", "html")).await.expect(200);
    assert!(
        html.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let page = html.text();
    assert!(page.contains("<b>9</b><span>Incidents</span>"), "{page}");
    assert!(
        page.contains("<b>3 of 6</b><span>Crime-free mahallas</span>"),
        "{page}"
    );
    assert!(page.contains("Чилонзор") && page.contains("Bogʻiston"));
    assert!(page.contains("Sinov tumani: period report 2025-Q3"));
    assert!(page.contains("Not recorded: no prevention roadmap"));
    assert!(
        !page.contains("Boshqa"),
        "another district's mahalla in the report"
    );
    assert_eq!(
        html.header("x-report-sha256"),
        Some(sha(&html.body).as_str())
    );

    let pdf = c.get(&url(&area, "2025-Q3", "pdf")).await.expect(200);
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert!(pdf.body.starts_with(b"%PDF-"));
    let text = pdftotext(&pdf.body);
    assert!(
        text.contains("Sinov tumani: period report 2025-Q3"),
        "{text}"
    );
    let row = |first: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.trim_start().starts_with(first))
            .unwrap_or_else(|| panic!("no line starting {first}: {text}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    // Sources table: this quarter's count right after the name; categories: the total last.
    assert_eq!(row("Public")[1], "7", "{text}");
    assert_eq!(row("Patrol")[1], "1", "{text}");
    assert_eq!(row("All categories").last().unwrap(), "9", "{text}");
    assert!(
        text.contains("Chilonzor"),
        "Cyrillic in Uzbek Latin: {text}"
    );

    let csv = c.get(&url(&area, "2025-Q3", "csv")).await.expect(200);
    let rows = csv_rows(&csv.text());
    assert_eq!(csv_sum(&rows, "counts", "incidents"), 9);
    assert_eq!(csv_sum(&rows, "categories", "incidents"), 9);
    for (section, metric, breakdown, value) in [
        ("counts", "incidents", "all", "9"),
        ("counts", "incidents_previous", "source=public", "2"),
        ("counts", "incidents_year_before", "source=public", "1"),
        ("crime_free", "crime_free", "all", "3"),
        ("affected", "incidents", "group=minor", "2"),
        ("affected", "incidents", "group=woman", "1"),
        ("cyber", "share", "", "0.333333"),
        ("mahallas", "incidents", "mahalla=100", "6"),
        ("roadmap", "status", "", "not_recorded"),
        ("hot_spots", "training_period", "", "2025-Q2"),
        ("hot_spots", "held_out_period", "", "2025-Q3"),
    ] {
        assert_eq!(
            csv_value(&rows, section, metric, breakdown),
            value,
            "{section},{metric},{breakdown}"
        );
    }

    // Gi* ran on the six outlines (the other district's mahalla is not listed).
    let classes: Vec<&str> = rows
        .iter()
        .filter(|r| r[0] == "mahallas" && r[1] == "gistar_class")
        .map(|r| r[3].as_str())
        .collect();
    assert_eq!(classes.len(), 6);
    assert!(!classes.contains(&"not_computed"), "{classes:?}");

    // Each download is audited with the SHA-256 of exactly the bytes received.
    let log = exports(db).await;
    assert_eq!(log.len(), 3, "{log:?}");
    for ((actor, details), (body, format)) in
        log.iter()
            .zip([(&html.body, "html"), (&pdf.body, "pdf"), (&csv.body, "csv")])
    {
        assert!(actor.starts_with("user:"), "{actor}");
        assert_eq!(details["sha256"], sha(body), "{format}");
        assert_eq!(details["format"], format);
        assert_eq!(details["area"], area);
        assert_eq!(details["period"], "2025-Q3");
        assert_eq!(details["bytes"], body.len());
    }

    // The same data give the same bytes, here and in the CLI's call.
    let again = c.get(&url(&area, "2025-Q3", "pdf")).await.expect(200);
    assert_eq!(sha(&again.body), sha(&pdf.body));
    let direct = server::period_reports::produce(
        &db.store,
        &Scope::National,
        &area,
        "2025-Q3",
        "pdf",
        db.store.now(),
    )
    .await
    .unwrap();
    assert_eq!(direct.sha256, sha(&pdf.body));
}

async fn a_mahalla_report_counts_its_own(db: &TestDb) {
    let s = setup(db).await;
    let c = logged_in(&s, "inspector_m").await;
    let csv = c
        .get(&url(
            &format!("mahalla:{}", mahalla_id(0)),
            "2025-Q3",
            "csv",
        ))
        .await
        .expect(200);
    let rows = csv_rows(&csv.text());
    assert_eq!(csv_value(&rows, "counts", "incidents", "all"), "6");
    assert_eq!(
        csv_value(&rows, "counts", "incidents", "source=patrol"),
        "1"
    );
    assert_eq!(csv_value(&rows, "crime_free", "mahallas", "all"), "1");
    // A month: July holds the patrol find (at midnight on the 1st) only.
    let july = c
        .get(&url(
            &format!("mahalla:{}", mahalla_id(0)),
            "2025-07",
            "csv",
        ))
        .await
        .expect(200);
    assert_eq!(
        csv_value(&csv_rows(&july.text()), "counts", "incidents", "all"),
        "1"
    );
    // The inspector's scope is the mahalla: its district is out of reach.
    c.get(&url(&format!("district:{DISTRICT}"), "2025-Q3", "html"))
        .await
        .expect_error(404);
}

async fn scope_role_and_bad_parameters_are_refused(db: &TestDb) {
    let s = setup(db).await;
    let other = logged_in(&s, "operator_other").await;
    for area in [
        format!("district:{DISTRICT}"),
        format!("mahalla:{}", mahalla_id(1)),
        format!("region:{REGION}"),
        "district:999".to_owned(),
    ] {
        let e = other
            .get(&url(&area, "2025-Q3", "pdf"))
            .await
            .expect_error(404);
        assert!(
            e["error"].as_str().unwrap().contains("does not exist"),
            "{e}"
        );
    }
    logged_in(&s, "auditor")
        .await
        .get(&url(&format!("district:{DISTRICT}"), "2025-Q3", "html"))
        .await
        .expect_error(403);
    s.client()
        .get(&url(&format!("district:{DISTRICT}"), "2025-Q3", "html"))
        .await
        .expect_error(401);

    let c = logged_in(&s, "analyst").await;
    let d = format!("district:{DISTRICT}");
    let cases = [
        (url(&d, "2025-Q5", "html"), "period"),
        (url(&d, "25-Q3", "html"), "period"),
        (url(&d, "2099-01", "html"), "future"),
        (url("district:999", "2025-Q3", "html"), "does not exist"),
        (url("county:11", "2025-Q3", "html"), "area"),
        (url(&d, "2025-Q3", "docx"), "format"),
        (format!("/api/period-reports?area={d}"), "period is missing"),
    ];
    for (u, needle) in cases {
        let e = c.get(&u).await.expect_error(400);
        assert!(e["error"].as_str().unwrap().contains(needle), "{u}: {e}");
    }
    // The quarter under way has not ended.
    let running = server::period_reports::recent(db.store.now(), 3, 1)[0]
        .next()
        .label();
    let e = c.get(&url(&d, &running, "csv")).await.expect_error(400);
    assert!(
        e["error"].as_str().unwrap().contains("has not ended"),
        "{e}"
    );
    assert!(
        exports(db).await.is_empty(),
        "refused requests are not audited as exports"
    );
}

async fn console_page_offers_the_three_formats(db: &TestDb) {
    let s = setup(db).await;
    let c = logged_in(&s, "analyst").await;
    let page = c.get("/console/period-reports").await.expect(200).text();
    assert!(
        page.contains("href=\"/console/period-reports\""),
        "in the navigation"
    );
    assert!(page.contains("value=\"district:11\"") && page.contains("value=\"region:1\""));
    let page = c
        .get("/console/period-reports?area=district:11&period=2025-Q3")
        .await
        .expect(200)
        .text();
    for f in ["html", "pdf", "csv"] {
        assert!(
            page.contains(&format!(
                "/api/period-reports?area=district:11&amp;period=2025-Q3&amp;format={f}"
            )),
            "{page}"
        );
    }
    let bad = c
        .get("/console/period-reports?area=district:11&period=2099-Q1")
        .await
        .expect(200)
        .text();
    assert!(
        bad.contains("banner error") && bad.contains("in the future"),
        "{bad}"
    );
    let auditor = logged_in(&s, "auditor").await;
    auditor.get("/console/period-reports").await.expect(403);
}

/// A 6 x 6 grid of mahallas (district 21) whose corner 3 x 3 holds every public report in
/// 2025-Q2 and 2025-Q3: Gi* finds the corner hot in both, and the forecast check scores the
/// Q2 hot spots on Q3 beside the baseline.
async fn hot_spots_are_tested_and_scored(db: &TestDb) {
    let s = setup(db).await;
    let grid: Vec<Mahalla> = (0..36)
        .map(|i| Mahalla {
            id: MahallaId(300 + i),
            district: DistrictId(21),
            names: Names::uz(format!("Katak {i}")),
            population: Some(2000),
            geometry: Some(square(
                70.0 + 0.01 * (i % 6) as f64,
                40.0 + 0.01 * (i / 6) as f64,
            )),
            synthetic: false,
        })
        .collect();
    db.store
        .import_geography(
            &[Region {
                id: RegionId(2),
                names: Names::uz("Ikkinchi viloyat"),
                geometry: None,
            }],
            &[District {
                id: DistrictId(21),
                region: RegionId(2),
                names: Names::uz("Panjara tumani"),
                geometry: None,
            }],
            &grid,
        )
        .await
        .unwrap();
    let corner: Vec<i64> = (0..3)
        .flat_map(|r| (0..3).map(move |c| 300 + r * 6 + c))
        .collect();
    for month in ["2025-05", "2025-08"] {
        for &m in &corner {
            for day in 1..=5 {
                let at = format!("{month}-{day:02}T12:00:00+05:00");
                incident(
                    db,
                    &at,
                    MahallaId(m),
                    Category::Theft,
                    Source::Public,
                    Affected::default(),
                )
                .await;
            }
        }
    }
    let c = logged_in(&s, "analyst").await;
    let csv = c
        .get(&url("district:21", "2025-Q3", "csv"))
        .await
        .expect(200);
    let rows = csv_rows(&csv.text());
    let class = |m: i64| csv_value(&rows, "mahallas", "gistar_class", &format!("mahalla={m}"));
    let classes: Vec<&str> = corner.iter().map(|&m| class(m)).collect();
    // The corner's centre, whose whole neighbourhood is the cluster, is hot at 95% or more.
    assert!(["hot_99", "hot_95"].contains(&class(307)), "{classes:?}");
    let hot = classes.iter().filter(|c| c.starts_with("hot_")).count();
    assert!(hot >= 4, "{classes:?}");
    assert!(
        !class(335).starts_with("hot_"),
        "the far corner: {}",
        class(335)
    );
    let flagged: u64 = csv_value(&rows, "hot_spots", "mahallas_flagged", "")
        .parse()
        .unwrap();
    assert!(flagged >= 1, "{flagged}");
    for map in ["gistar", "baseline"] {
        let pai: f64 = csv_value(&rows, "hot_spots", "pai", &format!("map={map}"))
            .parse()
            .unwrap();
        // Every Q3 incident lies in the corner: whatever covers it beats flagging at random.
        assert!(pai > 1.0, "{map}: PAI {pai}");
    }
    let html = c
        .get(&url("district:21", "2025-Q3", "html"))
        .await
        .expect(200)
        .text();
    assert!(
        html.contains("Forecast check: the hot spots of 2025-Q2 flagged"),
        "{html}"
    );
}

/// The roadmap section stands as the measures did when the period ended: measures added later
/// are left out, one marked done later was still open (and overdue), one cancelled later was
/// still open, and done counts only with evidence a second person checked.
async fn roadmaps_stand_as_at_the_period_end(db: &TestDb) {
    let s = setup(db).await;
    let (at, clock) = db.with_clock(ts("2025-07-01T08:00:00Z")).await;
    let verifier = at
        .create_user(&NewUser {
            username: "verifier".into(),
            display_name: "verifier".into(),
            password_hash: server::auth::hash_password(PASSWORD).unwrap(),
            role: Role::Admin,
            scope: Scope::National,
        })
        .await
        .unwrap()
        .id;
    let by = Actor::System("test".into());
    let roadmap = at
        .create_roadmap(
            &NewRoadmap {
                place: Scope::District(DISTRICT),
                title: "Sinov tumani 2025".into(),
                period: "2025".into(),
                synthetic: true,
            },
            &by,
        )
        .await
        .unwrap();
    let mahalla_roadmap = at
        .create_roadmap(
            &NewRoadmap {
                place: Scope::Mahalla(mahalla_id(0)),
                title: "Bogʻiston 2025".into(),
                period: "2025".into(),
                synthetic: true,
            },
            &by,
        )
        .await
        .unwrap();
    let measure = |kind: &str, deadline: &str| MeasureFields {
        kind: kind.into(),
        description: format!("{kind} measure"),
        owner: "district khokimiyat".into(),
        deadline: ts(deadline),
    };
    let add = |r: i64, f: MeasureFields| {
        let at = at.clone();
        let by = by.clone();
        async move { at.add_measure(r, &f, &by).await.unwrap().id }
    };
    let to = |status: &str| MeasureStatusChange {
        to: status.into(),
        evidence_text: if status == "done" {
            "minutes of the meeting, 12 pages".into()
        } else {
            String::new()
        },
        evidence_link: None,
        note: String::new(),
    };
    // Done in August with checked evidence: done.
    let done = add(
        mahalla_roadmap.id,
        measure("youth_prevention", "2025-09-01T00:00:00Z"),
    )
    .await;
    // Done in August, evidence never checked: awaiting, and overdue at the end.
    let unchecked = add(
        roadmap.id,
        measure("youth_prevention", "2025-09-10T00:00:00Z"),
    )
    .await;
    // Done only in October: open at the end of September, and overdue.
    let late = add(
        roadmap.id,
        measure("drug_prevention", "2025-09-15T00:00:00Z"),
    )
    .await;
    // Cancelled in September: cancelled.
    let cancelled = add(
        roadmap.id,
        measure("drug_prevention", "2025-12-01T00:00:00Z"),
    )
    .await;
    // Cancelled in October: still open at the end of September (not overdue yet).
    let cancelled_late = add(
        roadmap.id,
        measure("drug_prevention", "2025-12-01T00:00:00Z"),
    )
    .await;
    clock.set(ts("2025-08-10T09:00:00Z"));
    at.set_measure_status(done, &to("done"), &by).await.unwrap();
    at.verify_measure(done, verifier, "checked").await.unwrap();
    at.set_measure_status(unchecked, &to("done"), &by)
        .await
        .unwrap();
    clock.set(ts("2025-09-20T09:00:00Z"));
    at.set_measure_status(cancelled, &to("cancelled"), &by)
        .await
        .unwrap();
    clock.set(ts("2025-10-05T09:00:00Z"));
    at.set_measure_status(late, &to("done"), &by).await.unwrap();
    at.verify_measure(late, verifier, "checked").await.unwrap();
    at.set_measure_status(cancelled_late, &to("cancelled"), &by)
        .await
        .unwrap();
    // Added after the period: not in its report.
    add(
        roadmap.id,
        measure("social_services", "2025-11-01T00:00:00Z"),
    )
    .await;

    let c = logged_in(&s, "analyst").await;
    let area = format!("district:{DISTRICT}");
    let rows = csv_rows(
        &c.get(&url(&area, "2025-Q3", "csv"))
            .await
            .expect(200)
            .text(),
    );
    let v =
        |metric: &str, breakdown: &str| csv_value(&rows, "roadmap", metric, breakdown).to_owned();
    assert_eq!(v("as_of", ""), "2025-09-30");
    assert_eq!(v("measures", "all"), "5");
    assert_eq!(v("done", "all"), "1");
    assert_eq!(v("cancelled", "all"), "1");
    assert_eq!(v("overdue", "all"), "2", "the unchecked and the late one");
    assert_eq!(v("awaiting_verification", "all"), "1");
    assert_eq!(v("measures", "kind=drug_prevention"), "3");
    assert_eq!(v("progress", "kind=youth_prevention"), "0.5");
    assert_eq!(v("progress", "all"), "0.25");
    assert_eq!(v("mahallas", "all"), "6");
    assert_eq!(v("mahallas_without_measures", "all"), "5");
    let html = c
        .get(&url(&area, "2025-Q3", "html"))
        .await
        .expect(200)
        .text();
    assert!(
        html.contains("As the measures stood on 2025-09-30"),
        "{html}"
    );
    assert!(
        html.contains("<b>25.0%</b><span>Roadmap progress</span>"),
        "{html}"
    );
    assert!(html.contains("Mahallas with the highest rates"));
    // The next quarter sees the later changes.
    let rows = csv_rows(
        &c.get(&url(&area, "2025-Q4", "csv"))
            .await
            .expect(200)
            .text(),
    );
    assert_eq!(csv_value(&rows, "roadmap", "measures", "all"), "6");
    assert_eq!(csv_value(&rows, "roadmap", "cancelled", "all"), "2");
    // A quarter before any roadmap existed: not recorded.
    let rows = csv_rows(
        &c.get(&url(&area, "2025-Q2", "csv"))
            .await
            .expect(200)
            .text(),
    );
    assert_eq!(csv_value(&rows, "roadmap", "status", ""), "not_recorded");
}

on_both_databases!(
    roadmaps_stand_as_at_the_period_end,
    formats_hold_the_counts_and_are_audited,
    a_mahalla_report_counts_its_own,
    scope_role_and_bad_parameters_are_refused,
    console_page_offers_the_three_formats,
    hot_spots_are_tested_and_scored,
);
