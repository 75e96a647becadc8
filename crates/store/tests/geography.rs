//! Geography imports (all rows or none, audited) and mahallas within a scope, on SQLite and
//! PostgreSQL.
mod common;

use common::TestDb;
use domain::{Actor, District, DistrictId, Names, NewMahalla, Region, RegionId, Scope};
use serde_json::json;
use store::{Error, Store};

on_both_databases!(
    a_mahalla_import_with_a_bad_row_in_the_middle_writes_nothing,
    a_mahalla_import_updates_by_district_and_name_and_is_audited,
    a_registry_import_is_audited_with_its_source,
    mahallas_are_listed_within_scope,
);

const TASHKENT: RegionId = RegionId(1726);
const ANDIJAN: RegionId = RegionId(1703);
const CHILONZOR: DistrictId = DistrictId(1_726_294);
const YUNUSOBOD: DistrictId = DistrictId(1_726_266);
const ANDIJAN_D: DistrictId = DistrictId(1_703_202);

async fn seed(s: &Store) {
    let region = |id, n: &str| Region {
        id,
        names: Names::uz(n),
        geometry: None,
    };
    let district = |id, region, n: &str| District {
        id,
        region,
        names: Names::uz(n),
        geometry: None,
    };
    s.import_geography(
        &[
            region(TASHKENT, "Toshkent shahri"),
            region(ANDIJAN, "Andijon viloyati"),
        ],
        &[
            district(CHILONZOR, TASHKENT, "Chilonzor tumani"),
            district(YUNUSOBOD, TASHKENT, "Yunusobod tumani"),
            district(ANDIJAN_D, ANDIJAN, "Oltinko'l tumani"),
        ],
        &[],
    )
    .await
    .unwrap();
}

fn m(district: DistrictId, name: &str, population: u32) -> NewMahalla {
    NewMahalla {
        district,
        names: Names::uz(name),
        population: Some(population),
        geometry: Some(r#"{"type":"Point","coordinates":[69.2,41.28]}"#.into()),
        synthetic: false,
    }
}

fn source(sha: &str) -> serde_json::Value {
    json!({ "file": "mahallas.csv", "sha256": sha })
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    db.raw_i64(sql).await
}

async fn a_mahalla_import_with_a_bad_row_in_the_middle_writes_nothing(db: &TestDb) {
    let s = &db.store;
    seed(s).await;
    let admin = Actor::System("cli".into());
    let audit_before = s.audit_entries(None, 1000).await.unwrap().len();
    // Row 1 of 3 names a district that does not exist: only the database can tell.
    let rows = [
        m(CHILONZOR, "Navbahor", 4200),
        m(DistrictId(1_726_999), "Yo'q", 100),
        m(YUNUSOBOD, "Bodomzor", 3100),
    ];
    match s.import_mahallas(&admin, &source("aa"), &rows).await {
        Err(Error::Row {
            index: 1, error, ..
        }) => {
            assert!(matches!(*error, Error::MissingReference { .. }), "{error}")
        }
        other => panic!("expected row 1 refused, got {other:?}"),
    }
    assert_eq!(count(db, "SELECT COUNT(*) FROM mahallas").await, 0);
    assert_eq!(
        s.audit_entries(None, 1000).await.unwrap().len(),
        audit_before
    );

    // Two rows of one district and name: refused, and again nothing stays.
    let rows = [
        m(CHILONZOR, "Navbahor", 4200),
        m(YUNUSOBOD, "Bodomzor", 1),
        m(CHILONZOR, "Navbahor", 1),
    ];
    match s.import_mahallas(&admin, &source("bb"), &rows).await {
        Err(Error::Row { index: 2, .. }) => {}
        other => panic!("expected row 2 refused, got {other:?}"),
    }
    // An invalid name is refused before the transaction.
    let rows = [m(CHILONZOR, "Navbahor", 4200), m(CHILONZOR, "  ", 1)];
    assert!(matches!(
        s.import_mahallas(&admin, &source("cc"), &rows).await,
        Err(Error::Row { index: 1, .. })
    ));
    assert_eq!(count(db, "SELECT COUNT(*) FROM mahallas").await, 0);
    assert_eq!(
        s.audit_entries(None, 1000).await.unwrap().len(),
        audit_before
    );
    s.audit_verify(None).await.unwrap();
}

async fn a_mahalla_import_updates_by_district_and_name_and_is_audited(db: &TestDb) {
    let s = &db.store;
    seed(s).await;
    let admin = Actor::System("cli".into());
    let rows = [
        m(CHILONZOR, "Navbahor", 4200),
        m(CHILONZOR, "Lutfiy", 3000),
        m(YUNUSOBOD, "Navbahor", 5100),
    ];
    let first = s
        .import_mahallas(&admin, &source("11"), &rows)
        .await
        .unwrap();
    assert_eq!((first.inserted, first.updated), (3, 0));
    assert_eq!(first.ids.len(), 3);
    // Again, with one changed and one new: the same ids for the same places.
    let mut again = rows.to_vec();
    again[1].population = Some(3333);
    again.push(m(ANDIJAN_D, "Markaz", 900));
    let second = s
        .import_mahallas(&admin, &source("22"), &again)
        .await
        .unwrap();
    assert_eq!((second.inserted, second.updated), (1, 3));
    assert_eq!(&second.ids[..3], &first.ids[..]);
    let lutfiy = s.get_mahalla(first.ids[1]).await.unwrap().unwrap();
    assert_eq!(lutfiy.population, Some(3333));
    assert_eq!(lutfiy.district, CHILONZOR);
    assert_eq!(count(db, "SELECT COUNT(*) FROM mahallas").await, 4);

    let log = s.audit_entries(None, 100).await.unwrap();
    let imports: Vec<_> = log
        .iter()
        .filter(|r| r.entry.action == "geography.import_mahallas")
        .collect();
    assert_eq!(imports.len(), 2);
    assert_eq!(imports[1].entry.actor, "system:cli");
    let d = &imports[1].entry.details;
    assert_eq!(d["source"]["sha256"], "22");
    assert_eq!(
        (
            d["rows"].as_i64(),
            d["inserted"].as_i64(),
            d["updated"].as_i64()
        ),
        (Some(4), Some(1), Some(3))
    );
    s.audit_verify(None).await.unwrap();
}

async fn a_registry_import_is_audited_with_its_source(db: &TestDb) {
    let s = &db.store;
    let regions = [Region {
        id: TASHKENT,
        names: Names::uz("Toshkent shahri"),
        geometry: Some(r#"{"type":"Polygon","coordinates":[[[69.1,41.2],[69.4,41.2],[69.4,41.4],[69.1,41.2]]]}"#.into()),
    }];
    let districts = [District {
        id: CHILONZOR,
        region: TASHKENT,
        names: Names::uz("Chilonzor tumani"),
        geometry: None,
    }];
    let src = json!({ "packages": ["PyPI package uzbekistan==2.9.0"], "sha256": { "regions.yaml": "ab" } });
    let counts = s
        .import_registry(&Actor::System("cli".into()), &src, &regions, &districts)
        .await
        .unwrap();
    assert_eq!((counts.regions, counts.districts), (1, 1));
    assert_eq!(s.list_all_districts().await.unwrap(), districts);
    // A district of a region that does not exist: nothing of the batch, and no audit entry.
    let orphan = District {
        id: DistrictId(1_703_202),
        region: ANDIJAN,
        names: Names::uz("Oltinko'l tumani"),
        geometry: None,
    };
    let renamed = Region {
        names: Names::uz("Tashkent"),
        ..regions[0].clone()
    };
    assert!(
        s.import_registry(&Actor::System("cli".into()), &src, &[renamed], &[orphan])
            .await
            .is_err()
    );
    assert_eq!(
        s.get_region(TASHKENT).await.unwrap().unwrap().names.uz_latn,
        "Toshkent shahri"
    );
    let log = s.audit_entries(None, 100).await.unwrap();
    let imports: Vec<_> = log
        .iter()
        .filter(|r| r.entry.action == "geography.import_registry")
        .collect();
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].entry.details["source"], src);
    assert_eq!(imports[0].entry.details["districts"], 1);
    s.audit_verify(None).await.unwrap();
}

async fn mahallas_are_listed_within_scope(db: &TestDb) {
    let s = &db.store;
    seed(s).await;
    let done = s
        .import_mahallas(
            &Actor::System("cli".into()),
            &source("x"),
            &[
                m(CHILONZOR, "Navbahor", 1),
                m(CHILONZOR, "Lutfiy", 2),
                m(YUNUSOBOD, "Bodomzor", 3),
                m(ANDIJAN_D, "Markaz", 4),
            ],
        )
        .await
        .unwrap();
    let ids = |scope: Scope| {
        let s = s.clone();
        async move {
            s.list_mahallas_in_scope(&scope)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.mahalla.id, r.region))
                .collect::<Vec<_>>()
        }
    };
    let [a, b, c, d] = [done.ids[0], done.ids[1], done.ids[2], done.ids[3]];
    assert_eq!(
        ids(Scope::National).await,
        [(a, TASHKENT), (b, TASHKENT), (c, TASHKENT), (d, ANDIJAN)]
    );
    assert_eq!(
        ids(Scope::Region(TASHKENT)).await,
        [(a, TASHKENT), (b, TASHKENT), (c, TASHKENT)]
    );
    assert_eq!(
        ids(Scope::District(CHILONZOR)).await,
        [(a, TASHKENT), (b, TASHKENT)]
    );
    assert_eq!(ids(Scope::Mahalla(c)).await, [(c, TASHKENT)]);
    assert!(ids(Scope::District(DistrictId(5))).await.is_empty());
    let one = &s.list_mahallas_in_scope(&Scope::Mahalla(d)).await.unwrap()[0].mahalla;
    assert_eq!(one.names.uz_latn, "Markaz");
    assert_eq!(one.population, Some(4));
}
