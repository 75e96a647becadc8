//! The analytics over HTTP, on SQLite and PostgreSQL: crime-free and red mahallas equal to the
//! `analytics` crate called directly on the same rows, scope (an inspector sees only their own
//! area), trends that keep public reports and patrol finds apart, hot-spot maps scored on a
//! held-out period beside the baseline, 400s that name the bad parameter, CSV twins that parse,
//! exports in the audit log, and the console's pages.
mod common;

use analytics::crimefree::{CrimeFreeQuery, crime_free};
use analytics::data::{IncidentRecord, MahallaRecord, Period};
use common::{Client, TestDb, TestServer};
use domain::{
    Actor, Affected, Area, Category, District, DistrictId, GeoPoint, Mahalla, MahallaId, Names,
    NewIncident, Role, Scope, Source, Timestamp,
};
use serde_json::{Value, json};
use server::demo::{DISTRICT, MAHALLA_A, MAHALLA_B, REGION};

const PASSWORD: &str = "correct horse battery staple";
/// A second district of the same region, with three mahallas of its own.
const OTHER: DistrictId = DistrictId(1_726_999);
const MARCH: &str = "from=2025-03-01&to=2025-04-01";

/// The `k`-th (from 0) demo mahalla: a grid 8 wide, mahalla A at 0 and B at 1.
fn demo(k: usize) -> MahallaId {
    registry::demo::mahalla_id(DISTRICT, k + 1)
}

/// The busy corner: rows 0-2, columns 0-2 of the demo grid.
const CLUSTER: [usize; 9] = [0, 1, 2, 8, 9, 10, 16, 17, 18];

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

struct Fixture {
    server: TestServer,
    /// Every incident stored, as the analytics read them.
    incidents: Vec<IncidentRecord>,
}

/// A stored point, or the middle of a stored polygon's first ring.
fn centre(m: &Mahalla) -> GeoPoint {
    let g: Value = serde_json::from_str(m.geometry.as_deref().unwrap()).unwrap();
    if g["type"] == "Point" {
        let c = &g["coordinates"];
        return GeoPoint {
            lon: c[0].as_f64().unwrap(),
            lat: c[1].as_f64().unwrap(),
        };
    }
    let ring = g["coordinates"][0].as_array().unwrap();
    let pts: Vec<(f64, f64)> = ring[..ring.len() - 1]
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    let n = pts.len() as f64;
    GeoPoint {
        lon: pts.iter().map(|p| p.0).sum::<f64>() / n,
        lat: pts.iter().map(|p| p.1).sum::<f64>() / n,
    }
}

/// Incidents of one month (`2025-MM`) in the demo district and the other one: the busy corner
/// has six public reports and two patrol finds per mahalla, every third other mahalla one
/// public report, every fifth an inspector's record; the other district two reports each.
fn month_of_incidents(month: u32, mahallas: &[Mahalla]) -> Vec<NewIncident> {
    let mut out = Vec::new();
    let mut add = |m: &Mahalla, source: Source, n: usize, category: Category| {
        let c = centre(m);
        for j in 0..n {
            let day = 1 + (j * 4) % 27;
            out.push(NewIncident {
                category,
                source,
                occurred_at: ts(&format!("2025-{month:02}-{day:02}T10:{j:02}:00+05:00")),
                mahalla: m.id,
                point: Some(GeoPoint {
                    lon: c.lon + 0.0004 * (j as f64 - 2.5),
                    lat: c.lat + 0.0003 * ((j % 3) as f64 - 1.0),
                }),
                affected: Affected::default(),
                narrative: "test incident".into(),
                event: None,
            });
        }
    };
    for m in mahallas {
        if m.district == OTHER {
            add(m, Source::Public, 2, Category::Fraud);
            continue;
        }
        let k = (m.id.0 - demo(0).0) as usize;
        if CLUSTER.contains(&k) {
            add(m, Source::Public, 6, Category::Theft);
            add(m, Source::Patrol, 2, Category::DrugOffence);
        } else if k.is_multiple_of(3) {
            add(m, Source::Public, 1, Category::Violence);
        }
        if k.is_multiple_of(5) {
            add(m, Source::Inspector, 1, Category::PublicOrder);
        }
    }
    out
}

fn record(n: &NewIncident) -> IncidentRecord {
    IncidentRecord {
        at: n.occurred_at,
        mahalla: n.mahalla,
        category: n.category,
        source: n.source,
        point: n.point.map(|p| [p.lon, p.lat]),
    }
}

async fn setup(db: &TestDb) -> Fixture {
    server::demo::seed_geography(&db.store).await.unwrap();
    let other_mahallas: Vec<Mahalla> = (1..=3)
        .map(|k| Mahalla {
            id: MahallaId(OTHER.0 * 1000 + k),
            district: OTHER,
            names: Names::uz(format!("Boshqa {k}")),
            population: Some(3_000),
            geometry: Some(format!(
                r#"{{"type":"Point","coordinates":[69.30{k},41.31]}}"#
            )),
            synthetic: true,
        })
        .collect();
    db.store
        .import_geography(
            &[],
            &[District {
                id: OTHER,
                region: REGION,
                names: Names::uz("Boshqa tuman"),
                geometry: None,
            }],
            &other_mahallas,
        )
        .await
        .unwrap();
    common::create_users(
        &db.store,
        PASSWORD,
        &[
            ("admin", Role::Admin, Scope::National),
            ("analyst", Role::Analyst, Scope::Region(REGION)),
            ("inspector_d", Role::Inspector, Scope::District(DISTRICT)),
            ("inspector_a", Role::Inspector, Scope::Mahalla(MAHALLA_A)),
            ("auditor", Role::Auditor, Scope::National),
        ],
    )
    .await;
    let all: Vec<Mahalla> = db
        .store
        .list_mahallas_in_scope(&Scope::Region(REGION))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.mahalla)
        .collect();
    let mut rows = Vec::new();
    for month in 1..=4 {
        rows.extend(month_of_incidents(month, &all));
    }
    db.store
        .import_incidents(&Actor::System("test".into()), &json!({"test": true}), &rows)
        .await
        .unwrap();
    let mut incidents: Vec<IncidentRecord> = rows.iter().map(record).collect();
    let server = TestServer::start(&db.store).await;
    // Two incidents through the API, as an inspector records them.
    let admin = logged_in(&server, "admin").await;
    for day in ["05", "06"] {
        let body = json!({
            "category": "theft", "source": "inspector",
            "occurred_at": format!("2025-03-{day}T09:00:00+05:00"),
            "mahalla": MAHALLA_B.0,
        });
        let made = admin.post("/api/incidents", &body).await.expect(201).json();
        incidents.push(IncidentRecord {
            at: made["occurred_at"].as_str().unwrap().parse().unwrap(),
            mahalla: MAHALLA_B,
            category: Category::Theft,
            source: Source::Inspector,
            point: None,
        });
    }
    Fixture { server, incidents }
}

async fn logged_in(server: &TestServer, username: &str) -> Client {
    let mut c = server.client();
    c.login(username, PASSWORD).await.expect(200);
    c
}

fn march() -> Period {
    Period::new(
        ts("2025-03-01T00:00:00+05:00"),
        ts("2025-04-01T00:00:00+05:00"),
    )
    .unwrap()
}

/// A small CSV reader: quoted fields with doubled quotes, no line breaks inside fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            let mut fields = Vec::new();
            let (mut cur, mut quoted, mut chars) = (String::new(), false, line.chars().peekable());
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        cur.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => fields.push(std::mem::take(&mut cur)),
                    _ => cur.push(c),
                }
            }
            fields.push(cur);
            fields
        })
        .collect()
}

/// Every row has the header's number of fields; returns the rows as maps.
fn csv_rows(text: &str, header: &str) -> Vec<std::collections::HashMap<String, String>> {
    let rows = parse_csv(text);
    assert_eq!(rows[0].join(","), header);
    rows[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), rows[0].len(), "{r:?}");
            rows[0].iter().cloned().zip(r.iter().cloned()).collect()
        })
        .collect()
}

async fn crime_free_matches_the_analytics_crate(db: &TestDb) {
    let f = setup(db).await;
    let analyst = logged_in(&f.server, "analyst").await;
    let area = format!("district:{}", DISTRICT.0);
    let got = analyst
        .get(&format!("/api/analytics/crime-free?{MARCH}&area={area}"))
        .await
        .expect(200)
        .json();
    // The same computation on the same rows, by hand: the reference set is the region.
    let mahallas: Vec<MahallaRecord> = db
        .store
        .list_mahallas_in_scope(&Scope::Region(REGION))
        .await
        .unwrap()
        .iter()
        .map(|m| MahallaRecord {
            id: m.mahalla.id,
            district: m.mahalla.district,
            region: m.region,
            population: m.mahalla.population,
        })
        .collect();
    let want = crime_free(
        &mahallas,
        &f.incidents,
        &CrimeFreeQuery {
            area: Some(Area::District {
                region: REGION,
                district: DISTRICT,
            }),
            ..CrimeFreeQuery::new(march())
        },
    )
    .unwrap();
    let r = &got["report"];
    assert_eq!(got["area"], area);
    assert_eq!(got["reference_area"], format!("region:{}", REGION.0));
    assert_eq!(r["mahallas"], json!(registry::demo::DEMO_COUNT));
    assert_eq!(r["crime_free"]["count"], json!(want.crime_free.count));
    assert!(
        want.crime_free.count > 10,
        "the fixture leaves mahallas quiet"
    );
    assert_eq!(r["crime_free"]["mahallas"], json!(want.crime_free.mahallas));
    assert_eq!(
        r["crime_free"]["surprising"],
        json!(want.crime_free.surprising)
    );
    assert_eq!(r["red"]["mahallas"], json!(want.red.mahallas));
    assert!(!want.red.mahallas.is_empty(), "the busy corner is red");
    assert_eq!(r["incidents"], json!(want.incidents));
    let close = |a: &Value, b: f64| (a.as_f64().unwrap() - b).abs() <= 1e-9 * b.abs().max(1.0);
    assert!(close(
        &r["crime_free"]["expected"],
        want.crime_free.expected
    ));
    for (row, w) in r["rows"].as_array().unwrap().iter().zip(&want.rows) {
        assert_eq!(row["mahalla"], json!(w.mahalla));
        assert_eq!(row["count"], json!(w.count));
        assert!(close(&row["p_low"], w.p_low), "{row}");
        assert!(row["name"].as_str().unwrap().ends_with("(synthetic)"));
        assert!(row["population"].as_u64().is_some() && row["exposure"].as_f64().is_some());
    }
    // Mahalla B: six public reports, two patrol finds, and the two recorded through the API.
    let b = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["mahalla"] == json!(MAHALLA_B))
        .unwrap();
    assert_eq!(
        b["by_source"],
        json!({"public": 6, "patrol": 2, "inspector": 2, "camera": 0})
    );

    // The CSV twin holds the same rows, and the export is audited.
    let text = analyst
        .get(&format!(
            "/api/analytics/crime-free.csv?{MARCH}&area={area}"
        ))
        .await
        .expect(200)
        .text();
    let rows = csv_rows(&text, server::analysis::crimefree::CSV_HEADER);
    assert_eq!(rows.len(), want.rows.len());
    for (row, w) in rows.iter().zip(&want.rows) {
        assert_eq!(row["mahalla_id"], w.mahalla.to_string());
        assert_eq!(row["count"], w.count.to_string());
        assert_eq!(row["crime_free"], w.crime_free.to_string());
    }
    let geo = analyst
        .get(&format!(
            "/api/analytics/crime-free.geojson?{MARCH}&area={area}"
        ))
        .await
        .expect(200)
        .json();
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), want.rows.len());
    assert_eq!(features[0]["geometry"]["type"], "Polygon");
    let audit = db.store.audit_entries(None, 10_000).await.unwrap();
    let exports: Vec<_> = audit
        .iter()
        .filter(|e| e.entry.action == "analytics.export")
        .collect();
    assert_eq!(exports.len(), 2, "the CSV and the GeoJSON, not the JSON");
    assert_eq!(exports[0].entry.details["area"], area);
    db.store.audit_verify(None).await.unwrap();
}

async fn scope_and_roles_are_enforced(db: &TestDb) {
    let f = setup(db).await;
    let inspector = logged_in(&f.server, "inspector_d").await;
    // Own district: fine (the default area is the scope).
    let own = inspector
        .get(&format!("/api/analytics/crime-free?{MARCH}"))
        .await
        .expect(200)
        .json();
    assert_eq!(own["area"], format!("district:{}", DISTRICT.0));
    // Another district, the region above, the country, a mahalla elsewhere: refused.
    for area in [
        format!("district:{}", OTHER.0),
        format!("region:{}", REGION.0),
        "national".to_owned(),
        format!("mahalla:{}", OTHER.0 * 1000 + 1),
        "district:424242".to_owned(),
    ] {
        for path in ["crime-free", "trends", "hotspots", "crime-free.csv"] {
            let e = inspector
                .get(&format!("/api/analytics/{path}?{MARCH}&area={area}"))
                .await
                .expect_error(403);
            assert!(
                e["error"]
                    .as_str()
                    .unwrap()
                    .contains("not within your scope"),
                "{e}"
            );
        }
    }
    // A mahalla's inspector sees only that mahalla.
    let a = logged_in(&f.server, "inspector_a").await;
    let mine = a
        .get(&format!("/api/analytics/crime-free?{MARCH}"))
        .await
        .expect(200)
        .json();
    assert_eq!(mine["report"]["rows"].as_array().unwrap().len(), 1);
    a.get(&format!(
        "/api/analytics/crime-free?{MARCH}&area=mahalla:{}",
        MAHALLA_B.0
    ))
    .await
    .expect_error(403);
    // A national admin asking for a place that does not exist: 404.
    let admin = logged_in(&f.server, "admin").await;
    admin
        .get(&format!(
            "/api/analytics/trends?{MARCH}&area=district:424242"
        ))
        .await
        .expect_error(404);
    // Auditors audit; they do not read the analytics. Nobody logged in: 401.
    let auditor = logged_in(&f.server, "auditor").await;
    auditor
        .get("/api/analytics/crime-free")
        .await
        .expect_error(403);
    f.server
        .client()
        .get("/api/analytics/hotspots")
        .await
        .expect_error(401);
    // Nothing was exported.
    let audit = db.store.audit_entries(None, 10_000).await.unwrap();
    assert!(!audit.iter().any(|e| e.entry.action == "analytics.export"));
}

async fn trends_keep_public_and_patrol_apart(db: &TestDb) {
    let f = setup(db).await;
    let analyst = logged_in(&f.server, "analyst").await;
    let area = format!("district:{}", DISTRICT.0);
    let got = analyst
        .get(&format!("/api/analytics/trends?{MARCH}&area={area}"))
        .await
        .expect(200)
        .json();
    let r = &got["report"];
    let by = r["by_source"].as_object().unwrap();
    let mut keys: Vec<&str> = by.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["camera", "inspector", "patrol", "public"],
        "one series per source, no sum"
    );
    let count_of = |source: Source, month: Period| {
        f.incidents
            .iter()
            .filter(|i| {
                i.source == source && month.contains(i.at) && i.mahalla.0 / 1000 == DISTRICT.0
            })
            .count() as u64
    };
    let feb = Period::new(ts("2025-02-01T00:00:00+05:00"), march().start).unwrap();
    for (name, s) in [("public", Source::Public), ("patrol", Source::Patrol)] {
        let t = &by[name]["all_categories"];
        assert_eq!(t["current"]["count"], json!(count_of(s, march())), "{name}");
        assert_eq!(t["previous"]["count"], json!(count_of(s, feb)), "{name}");
        assert_eq!(t["year_before"]["count"], json!(0), "{name}");
    }
    assert_ne!(
        by["public"]["all_categories"]["current"]["count"],
        by["patrol"]["all_categories"]["current"]["count"]
    );
    assert!(by["patrol"]["by_category"].get("drug_offence").is_some());
    assert!(by["public"]["by_category"].get("drug_offence").is_none());
    assert_eq!(r["previous"]["start"], json!(feb.start));
    // The chart series: twelve months, per source, the last one March.
    let series = &got["series"];
    assert_eq!(series["bins"].as_array().unwrap().len(), 12);
    let public: Vec<u64> = series["by_source"]["public"]["all_categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(public[11], count_of(Source::Public, march()));
    assert_eq!(public[..9].iter().sum::<u64>(), 0, "nothing before January");
    // The CSV twin: one row per source and category, public and patrol on their own rows.
    let text = analyst
        .get(&format!("/api/analytics/trends.csv?{MARCH}&area={area}"))
        .await
        .expect(200)
        .text();
    let rows = csv_rows(&text, server::analysis::trends::CSV_HEADER);
    let all = |s: &str| {
        rows.iter()
            .find(|r| r["source"] == s && r["category"] == "all")
            .unwrap()["current_count"]
            .clone()
    };
    assert_eq!(all("public"), count_of(Source::Public, march()).to_string());
    assert_eq!(all("patrol"), count_of(Source::Patrol, march()).to_string());
    assert!(
        !rows
            .iter()
            .any(|r| r["source"].contains(',') || r["source"] == "all")
    );
}

async fn hotspots_are_scored_against_the_baseline(db: &TestDb) {
    let f = setup(db).await;
    let analyst = logged_in(&f.server, "analyst").await;
    let area = format!("district:{}", DISTRICT.0);
    let base = format!(
        "/api/analytics/hotspots?from=2025-01-01&to=2025-04-01&test_from=2025-04-01&test_to=2025-05-01&area={area}"
    );
    // Cells of about a mahalla's size, so that the busy corner is a cluster of cells.
    for method in ["gistar-mahalla", "gistar-grid", "kde"] {
        let got = analyst
            .get(&format!(
                "{base}&method={method}&cell_m=700&permutations=9999"
            ))
            .await
            .expect(200)
            .json();
        assert_eq!(got["method"], method);
        let score = &got["score"];
        let fc = &score["forecast"];
        for who in ["method", "baseline"] {
            let pai = fc[who]["pai"].as_f64();
            assert!(pai.is_some_and(|p| p > 0.0), "{method} {who}: {score}");
            let pei = fc[who]["pei_star"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&pei), "{method} {who}: {pei}");
        }
        assert!(
            ["method", "baseline"].contains(&fc["preferred"].as_str().unwrap()),
            "{fc}"
        );
        // Scored on April's incidents of the counted sources (public, camera, inspector).
        let april = Period::new(
            ts("2025-04-01T00:00:00+05:00"),
            ts("2025-05-01T00:00:00+05:00"),
        )
        .unwrap();
        let held = f
            .incidents
            .iter()
            .filter(|i| {
                april.contains(i.at)
                    && i.source != Source::Patrol
                    && i.mahalla.0 / 1000 == DISTRICT.0
            })
            .count() as f64;
        assert_eq!(fc["method"]["total"].as_f64().unwrap(), held, "{method}");
        let places = got["places"].as_array().unwrap();
        if method == "gistar-mahalla" {
            assert_eq!(places.len(), registry::demo::DEMO_COUNT);
            let hot: Vec<i64> = places
                .iter()
                .filter(|p| p["class"].as_str().unwrap().starts_with("hot"))
                .map(|p| p["mahalla"].as_i64().unwrap())
                .collect();
            assert!(
                hot.contains(&demo(9).0),
                "the corner's middle is hot: {hot:?}"
            );
            assert!(
                hot.iter().all(|m| CLUSTER.iter().any(|k| demo(*k).0 == *m)),
                "{hot:?}"
            );
        } else {
            assert!(
                places
                    .iter()
                    .all(|p| p["ring"].as_array().is_some_and(|r| r.len() == 4))
            );
            assert!(got["grid"]["nx"].as_u64().unwrap() > 1);
        }
    }
    // Without a held-out period there is no score; the CSV and GeoJSON twins parse.
    let plain = analyst
        .get(&format!(
            "/api/analytics/hotspots?from=2025-01-01&to=2025-04-01&area={area}&permutations=0"
        ))
        .await
        .expect(200)
        .json();
    assert!(plain["score"].is_null());
    let text = analyst
        .get(&format!("/api/analytics/hotspots.csv?from=2025-01-01&to=2025-04-01&area={area}&method=gistar-grid&cell_m=700&permutations=9999"))
        .await
        .expect(200)
        .text();
    let rows = csv_rows(&text, server::analysis::hotspots::CSV_HEADER);
    assert!(
        rows.iter()
            .any(|r| r["class"].starts_with("hot") && r["z"].parse::<f64>().unwrap() > 0.0)
    );
    assert!(
        rows.iter().any(|r| r["z"].starts_with('-')),
        "negative z stays a number"
    );
    let geo = analyst
        .get(&format!(
            "/api/analytics/hotspots.geojson?from=2025-01-01&to=2025-04-01&area={area}"
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(
        geo["features"].as_array().unwrap().len(),
        registry::demo::DEMO_COUNT
    );
}

async fn bad_parameters_are_named(db: &TestDb) {
    let f = setup(db).await;
    let admin = logged_in(&f.server, "admin").await;
    for (query, word) in [
        ("crime-free?from=2025-02-30&to=2025-03-01", "from="),
        ("crime-free?from=2025-03-01&to=2025-03-01", "is not before"),
        ("trends?from=2025-04-01&to=2025-03-01", "is not before"),
        ("crime-free?from=2025-03-01", "only one of from and to"),
        ("crime-free?from=march&to=april", "not a date"),
        ("crime-free?area=district:abc", "area="),
        ("crime-free?area=county:5", "area="),
        ("crime-free?sources=public,police", "sources="),
        ("hotspots?permutations=10000", "permutations"),
        ("hotspots?permutations=-1", "permutations"),
        ("hotspots?method=magic", "method="),
        ("hotspots?cell_m=0", "cell_m"),
        (
            "hotspots?from=2025-01-01&to=2025-04-01&test_from=2025-03-01&test_to=2025-05-01",
            "held-out",
        ),
        (
            "hotspots?from=2025-01-01&to=2025-04-01&test_from=2025-04-01",
            "test_to",
        ),
        (
            "hotspots?method=gistar-grid&cell_m=25&area=national&from=2025-01-01&to=2025-04-01",
            "cells",
        ),
        (
            "hotspots?method=gistar-mahalla&area=district:1726999&from=2025-01-01&to=2025-04-01",
            "boundary",
        ),
    ] {
        let e = admin
            .get(&format!("/api/analytics/{query}"))
            .await
            .expect_error(400);
        assert!(e["error"].as_str().unwrap().contains(word), "{query}: {e}");
    }
}

async fn console_pages_show_the_numbers(db: &TestDb) {
    let f = setup(db).await;
    let analyst = logged_in(&f.server, "analyst").await;
    let area = format!("district:{}", DISTRICT.0);
    // Crime-free: the count, the expected count and the tables.
    let api = analyst
        .get(&format!("/api/analytics/crime-free?{MARCH}&area={area}"))
        .await
        .expect(200)
        .json();
    let page = analyst
        .get(&format!(
            "/console/analytics/crime-free?{MARCH}&area={area}"
        ))
        .await
        .expect(200)
        .text();
    let cf = &api["report"]["crime_free"];
    assert!(
        page.contains(&format!("id=\"crime-free-count\">{}<", cf["count"])),
        "count"
    );
    assert!(page.contains(&format!(
        "id=\"crime-free-expected\">{:.1}<",
        cf["expected"].as_f64().unwrap()
    )));
    assert!(page.contains("id=\"crime-free-table\"") && page.contains("id=\"red-table\""));
    assert!(page.contains("<svg id=\"map\""), "the map");
    assert!(page.contains("surprising"), "the explanation");
    for nav in [
        "/console/analytics/crime-free",
        "/console/analytics/trends",
        "/console/analytics/hotspots",
    ] {
        assert!(
            page.contains(&format!("href=\"{nav}\"")),
            "{nav} in the navigation"
        );
    }
    // Trends: public and patrol in their own tables and charts.
    let trends = analyst
        .get(&format!("/api/analytics/trends?{MARCH}&area={area}"))
        .await
        .expect(200)
        .json();
    let page = analyst
        .get(&format!("/console/analytics/trends?{MARCH}&area={area}"))
        .await
        .expect(200)
        .text();
    for s in ["public", "patrol"] {
        assert!(
            page.contains(&format!("id=\"trend-{s}\""))
                && page.contains(&format!("id=\"chart-{s}\""))
        );
        let n = &trends["report"]["by_source"][s]["all_categories"]["current"]["count"];
        assert!(
            page.contains(&format!("<td class=\"count\">{n}</td>")),
            "{s}: {n}"
        );
    }
    assert!(page.contains("patrols already go"), "the explanation");
    // Hot spots: the map and the score box with the API's numbers.
    let q = "from=2025-01-01&to=2025-04-01&test_from=2025-04-01&test_to=2025-05-01&method=gistar-mahalla";
    let hs = analyst
        .get(&format!("/api/analytics/hotspots?{q}&area={area}"))
        .await
        .expect(200)
        .json();
    let page = analyst
        .get(&format!("/console/analytics/hotspots?{q}&area={area}"))
        .await
        .expect(200)
        .text();
    let fc = &hs["score"]["forecast"];
    for (id, v) in [
        ("pai-method", &fc["method"]["pai"]),
        ("pai-baseline", &fc["baseline"]["pai"]),
    ] {
        assert!(
            page.contains(&format!("id=\"{id}\">{:.2}<", v.as_f64().unwrap())),
            "{id} {v}"
        );
    }
    assert!(page.contains("id=\"preferred\"") && page.contains("id=\"hotspot-table\""));
    assert!(page.contains("PAI is the share"), "the explanation");
    // The first visit has defaults and renders; a bad parameter shows the form and the message.
    analyst.get("/console/analytics/hotspots").await.expect(200);
    let bad = analyst
        .get("/console/analytics/hotspots?method=magic")
        .await
        .expect(400)
        .text();
    assert!(bad.contains("is not a hot-spot method") && bad.contains("<form"));
    // Scope and role, as in the API.
    let a = logged_in(&f.server, "inspector_a").await;
    a.get(&format!("/console/analytics/trends?area={area}"))
        .await
        .expect(403);
    let auditor = logged_in(&f.server, "auditor").await;
    auditor
        .get("/console/analytics/crime-free")
        .await
        .expect(403);
}

on_both_databases!(
    crime_free_matches_the_analytics_crate,
    scope_and_roles_are_enforced,
    trends_keep_public_and_patrol_apart,
    hotspots_are_scored_against_the_baseline,
    bad_parameters_are_named,
    console_pages_show_the_numbers,
);
