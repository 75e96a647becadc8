//! Geography over HTTP, on SQLite and PostgreSQL: regions, mahallas as GeoJSON within the
//! caller's scope, and the admins' all-or-nothing import of a mahalla list.
mod common;

use common::{Client, TestDb, TestServer};
use domain::{Role, Scope};
use serde_json::{Value, json};
use server::demo::{DISTRICT, MAHALLA_A, MAHALLA_B, REGION};

const PASSWORD: &str = "correct horse battery staple";

on_both_databases!(
    regions_list_districts_for_any_role,
    mahallas_geojson_holds_only_the_callers_scope,
    an_admin_imports_a_csv_list,
    a_bad_row_in_the_middle_is_400_and_nothing_is_written,
    a_geojson_list_imports_and_bad_features_are_named,
    only_admins_import_and_only_with_csrf_and_a_known_format,
);

async fn setup(db: &TestDb) -> TestServer {
    server::demo::seed_geography(&db.store).await.unwrap();
    common::create_users(
        &db.store,
        PASSWORD,
        &[
            ("admin", Role::Admin, Scope::National),
            ("district_admin", Role::Admin, Scope::District(DISTRICT)),
            ("operator", Role::Operator, Scope::District(DISTRICT)),
            ("inspector_a", Role::Inspector, Scope::Mahalla(MAHALLA_A)),
            ("analyst", Role::Analyst, Scope::Region(REGION)),
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

async fn upload(c: &Client, content_type: &str, body: &str) -> common::Resp {
    let mut h = vec![("Content-Type", content_type)];
    if let Some(t) = &c.csrf {
        h.push(("X-CSRF-Token", t.as_str()));
    }
    c.raw(
        "POST",
        "/api/geography/mahallas/import",
        &h,
        Some(body.as_bytes()),
    )
    .await
}

async fn mahalla_count(db: &TestDb) -> usize {
    db.store
        .list_mahallas_in_scope(&Scope::National)
        .await
        .unwrap()
        .len()
}

fn feature_ids(v: &Value) -> Vec<i64> {
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_i64().unwrap())
        .collect()
}

async fn regions_list_districts_for_any_role(db: &TestDb) {
    let s = setup(db).await;
    for who in ["inspector_a", "auditor", "analyst"] {
        let c = logged_in(&s, who).await;
        let v = c.get("/api/geography/regions").await.expect(200).json();
        let regions = v["regions"].as_array().unwrap();
        assert_eq!(regions.len(), 1);
        assert_eq!(regions[0]["id"], REGION.0);
        assert_eq!(regions[0]["names"]["uz_cyrl"], "Тошкент шаҳри");
        assert_eq!(regions[0]["districts"][0]["id"], DISTRICT.0);
        assert_eq!(
            regions[0]["districts"][0]["names"]["uz_latn"],
            "Chilonzor tumani"
        );
        assert!(regions[0].get("geometry").is_none());
    }
    let c = logged_in(&s, "auditor").await;
    let v = c
        .get("/api/geography/regions?geometry=true")
        .await
        .expect(200)
        .json();
    assert!(
        v["regions"][0]["geometry"].is_null(),
        "the minimal demo has no outline"
    );
    c.get("/api/geography/regions?geometry=yes")
        .await
        .expect_error(400);
    s.client()
        .get("/api/geography/regions")
        .await
        .expect_error(401);
}

async fn mahallas_geojson_holds_only_the_callers_scope(db: &TestDb) {
    let s = setup(db).await;
    let inspector = logged_in(&s, "inspector_a").await;
    let r = inspector
        .get("/api/geography/mahallas.geojson")
        .await
        .expect(200);
    assert_eq!(r.header("content-type"), Some("application/geo+json"));
    let v = r.json();
    assert_eq!(v["type"], "FeatureCollection");
    assert_eq!(
        feature_ids(&v),
        [MAHALLA_A.0],
        "an inspector of A sees only A"
    );
    let f = &v["features"][0];
    assert_eq!(f["id"], MAHALLA_A.0);
    assert_eq!(f["geometry"]["type"], "Polygon");
    let p = &f["properties"];
    assert_eq!(p["synthetic"], true);
    assert!(p["name"].as_str().unwrap().ends_with("(synthetic)"), "{p}");
    assert_eq!(p["names"]["en"], p["name"]);
    assert_eq!(p["district"], DISTRICT.0);
    assert_eq!(p["region"], REGION.0);
    assert!(p["population"].as_u64().unwrap() >= 800);

    let n = registry::demo::DEMO_COUNT;
    for who in ["operator", "analyst", "admin", "auditor"] {
        let c = logged_in(&s, who).await;
        let ids = feature_ids(
            &c.get("/api/geography/mahallas.geojson")
                .await
                .expect(200)
                .json(),
        );
        assert_eq!(ids.len(), n, "{who}");
        assert!(ids.contains(&MAHALLA_B.0));
    }
    // A mahalla in another district is outside the operator's scope.
    let admin = logged_in(&s, "admin").await;
    db.store
        .upsert_district(&domain::District {
            id: domain::DistrictId(1_726_266),
            region: REGION,
            names: domain::Names::uz("Yunusobod tumani"),
            geometry: None,
        })
        .await
        .unwrap();
    upload(&admin, "text/csv", "name,district\nBodomzor,Yunusobod\n")
        .await
        .expect(200);
    let op = logged_in(&s, "operator").await;
    assert_eq!(
        feature_ids(
            &op.get("/api/geography/mahallas.geojson")
                .await
                .expect(200)
                .json()
        )
        .len(),
        n
    );
    let all = feature_ids(
        &admin
            .get("/api/geography/mahallas.geojson")
            .await
            .expect(200)
            .json(),
    );
    assert_eq!(all.len(), n + 1);
    s.client()
        .get("/api/geography/mahallas.geojson")
        .await
        .expect_error(401);
}

const GOOD_CSV: &str = "name,name_ru,district,population,geometry\n\
Qatortol,Катартал,Chilonzor,5100,\"POLYGON ((69.20 41.29, 69.21 41.29, 69.21 41.30, 69.20 41.30, 69.20 41.29))\"\n\
Lutfiy,,1726294,,POINT (69.205 41.285)\n\
Bodomzor,,chilonzor tumani,2 400,\n";

async fn an_admin_imports_a_csv_list(db: &TestDb) {
    let s = setup(db).await;
    let before = mahalla_count(db).await;
    let admin = logged_in(&s, "admin").await;
    let v = upload(&admin, "text/csv; charset=utf-8", GOOD_CSV)
        .await
        .expect(200)
        .json();
    assert_eq!(
        (
            v["rows"].as_u64(),
            v["inserted"].as_u64(),
            v["updated"].as_u64()
        ),
        (Some(3), Some(3), Some(0))
    );
    assert_eq!(mahalla_count(db).await, before + 3);
    let ids: Vec<i64> = v["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    let q = db
        .store
        .get_mahalla(domain::MahallaId(ids[0]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(q.names.ru.as_deref(), Some("Катартал"));
    assert_eq!(q.population, Some(5100));
    assert!(!q.synthetic);
    let b = db
        .store
        .get_mahalla(domain::MahallaId(ids[2]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.population, Some(2400));
    assert_eq!(b.geometry, None);
    // The same file again updates the same three.
    let v = upload(&admin, "text/csv", GOOD_CSV)
        .await
        .expect(200)
        .json();
    assert_eq!(
        (v["inserted"].as_u64(), v["updated"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(mahalla_count(db).await, before + 3);
    // Audited, with the file's hash.
    let log = db.store.audit_entries(None, 1000).await.unwrap();
    let imports: Vec<_> = log
        .iter()
        .filter(|r| r.entry.action == "geography.import_mahallas")
        .collect();
    assert_eq!(imports.len(), 2);
    assert!(imports[0].entry.actor.starts_with("user:"));
    let sha = imports[0].entry.details["source"]["sha256"]
        .as_str()
        .unwrap();
    assert_eq!(sha.len(), 64);
    assert_eq!(imports[0].entry.details["source"]["format"], "csv");
    db.store.audit_verify(None).await.unwrap();
}

async fn a_bad_row_in_the_middle_is_400_and_nothing_is_written(db: &TestDb) {
    let s = setup(db).await;
    let before = mahalla_count(db).await;
    let admin = logged_in(&s, "admin").await;
    // After the login, which is audited itself.
    let audit_before = db.store.audit_entries(None, 1000).await.unwrap().len();
    let csv = "name,district,population,lon,lat\n\
               Qatortol,Chilonzor,5100,69.20,41.29\n\
               Yangi,Yunusbod,abc,69.2,41.3\n\
               ,Chilonzor,10,2.35,48.85\n\
               Lutfiy,Chilonzor,3000,69.21,41.28\n";
    let v = upload(&admin, "text/csv", csv).await.expect_error(400);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("nothing was imported"),
        "{v}"
    );
    let rows = v["rows"].as_array().unwrap();
    let got: Vec<(u64, &str)> = rows
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["error"].as_str().unwrap()))
        .collect();
    assert_eq!(got.len(), 4, "{v:#}");
    assert!(
        got[0].0 == 3 && got[0].1.contains("unknown district \"Yunusbod\""),
        "{got:?}"
    );
    assert!(
        got[1].0 == 3 && got[1].1.contains("bad population"),
        "{got:?}"
    );
    assert!(
        got[2].0 == 4 && got[2].1.contains("missing name"),
        "{got:?}"
    );
    assert!(
        got[3].0 == 4 && got[3].1.contains("outside Uzbekistan"),
        "{got:?}"
    );
    assert!(
        rows.iter()
            .all(|r| r["unit"] == "row" && !r["fix"].as_str().unwrap().is_empty())
    );
    assert_eq!(mahalla_count(db).await, before, "nothing written");
    assert_eq!(
        db.store.audit_entries(None, 1000).await.unwrap().len(),
        audit_before
    );

    // A district admin may import only within the district.
    let da = logged_in(&s, "district_admin").await;
    db.store
        .upsert_district(&domain::District {
            id: domain::DistrictId(1_726_266),
            region: REGION,
            names: domain::Names::uz("Yunusobod tumani"),
            geometry: None,
        })
        .await
        .unwrap();
    let v = upload(&da, "text/csv", "name,district\nA,Chilonzor\nB,Yunusobod\n")
        .await
        .expect_error(400);
    assert_eq!(v["rows"][0]["row"], 3);
    assert!(
        v["rows"][0]["error"]
            .as_str()
            .unwrap()
            .contains("outside your scope"),
        "{v}"
    );
    assert_eq!(mahalla_count(db).await, before);
    upload(&da, "text/csv", "name,district\nA,Chilonzor\n")
        .await
        .expect(200);
}

async fn a_geojson_list_imports_and_bad_features_are_named(db: &TestDb) {
    let s = setup(db).await;
    let before = mahalla_count(db).await;
    let admin = logged_in(&s, "admin").await;
    let feature = |name: Value, district: Value, geometry: Value| json!({ "type": "Feature", "properties": { "name": name, "district": district, "population": 1200 }, "geometry": geometry });
    let square = json!({ "type": "Polygon", "coordinates": [[[69.2, 41.3], [69.21, 41.3], [69.21, 41.31], [69.2, 41.31], [69.2, 41.3]]] });
    let open = json!({ "type": "Polygon", "coordinates": [[[69.2, 41.3], [69.21, 41.3], [69.21, 41.31], [69.2, 41.31]]] });
    let bad = json!({ "type": "FeatureCollection", "features": [
        feature(json!("Olmazor"), json!(DISTRICT.0), square.clone()),
        feature(json!("Chinor"), json!(DISTRICT.0), open),
        feature(json!("Olmazor"), json!("Chilonzor"), Value::Null),
    ]});
    let v = upload(&admin, "application/geo+json", &bad.to_string())
        .await
        .expect_error(400);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{v:#}");
    assert_eq!(
        (rows[0]["unit"].as_str(), rows[0]["row"].as_u64()),
        (Some("feature"), Some(2))
    );
    assert!(
        rows[0]["error"].as_str().unwrap().contains("not closed"),
        "{v}"
    );
    assert_eq!(rows[1]["row"], 3);
    assert!(
        rows[1]["error"].as_str().unwrap().contains("duplicate"),
        "{v}"
    );
    assert_eq!(mahalla_count(db).await, before);

    let good = json!({ "type": "FeatureCollection", "features": [
        feature(json!("Olmazor"), json!(DISTRICT.0), square),
        feature(json!("Chinor"), json!("Chilonzor tumani"), json!({ "type": "Point", "coordinates": [69.2, 41.3] })),
    ]});
    let v = upload(&admin, "application/geo+json", &good.to_string())
        .await
        .expect(200)
        .json();
    assert_eq!(v["inserted"], 2);
    assert_eq!(mahalla_count(db).await, before + 2);
}

async fn only_admins_import_and_only_with_csrf_and_a_known_format(db: &TestDb) {
    let s = setup(db).await;
    let before = mahalla_count(db).await;
    for who in ["operator", "inspector_a", "analyst", "auditor"] {
        let c = logged_in(&s, who).await;
        upload(&c, "text/csv", GOOD_CSV).await.expect_error(403);
    }
    let mut admin = logged_in(&s, "admin").await;
    upload(&admin, "text/plain", GOOD_CSV)
        .await
        .expect_error(415);
    upload(&admin, "text/csv", "").await.expect_error(400);
    upload(
        &admin,
        "text/csv",
        "name,district,colour\nA,Chilonzor,red\n",
    )
    .await
    .expect_error(400);
    let big = format!(
        "name,district\n{}",
        "Katta,Chilonzor\n".repeat(server::MAX_BODY_BYTES / 16 + 10)
    );
    upload(&admin, "text/csv", &big).await.expect_error(413);
    let csrf = admin.csrf.take();
    upload(&admin, "text/csv", GOOD_CSV).await.expect_error(403);
    admin.csrf = csrf;
    s.client()
        .raw(
            "POST",
            "/api/geography/mahallas/import",
            &[("Content-Type", "text/csv")],
            Some(GOOD_CSV.as_bytes()),
        )
        .await
        .expect_error(401);
    assert_eq!(mahalla_count(db).await, before);
    upload(&admin, "text/csv", GOOD_CSV).await.expect(200);
}
