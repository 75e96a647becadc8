//! The store's behaviour, the same tests on SQLite and on PostgreSQL.
mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{T0, TestDb};
use domain::{
    Actor, Affected, Area, BreakReason, Category, ChainBreak, DismissReason, District, DistrictId,
    Event, EventId, GeoPoint, IncidentId, Mahalla, MahallaId, Names, NewCamera, NewEvent,
    NewIncident, NewReview, NewUser, Region, RegionId, Role, Scope, Source, Status, Timestamp,
    User, UserId, Verdict,
};
use serde_json::json;
use store::{Backend, Error, Options, StatusUpdate, Store};

on_both_databases!(
    schema_is_migrated_once_and_reopens,
    read_only_open_refuses_a_database_without_the_schema,
    geography_upserts_and_areas,
    a_geography_import_is_all_or_nothing,
    users_are_created_and_read_back,
    sessions_expire_and_end,
    incident_life_cycle_keeps_history_and_audit,
    incidents_are_listed_within_scope_only,
    review_queue_and_camera_incidents,
    retention_deletes_only_expired_unattached_events_and_logs_it,
    audit_entries_round_trip_and_verify,
    audit_log_refuses_plain_update_and_delete,
    audit_verify_names_an_updated_row,
    audit_verify_names_the_row_after_a_deleted_one,
    audit_verify_names_swapped_rows,
    audit_verify_names_an_unreadable_row,
    audit_anchor_catches_a_truncated_tail,
    concurrent_appends_form_one_chain,
    acknowledged_writes_survive_kill_9,
);

// ---------------------------------------------------------------------------------------------
// fixtures

const TASHKENT: RegionId = RegionId(1726);
const ANDIJAN: RegionId = RegionId(1703);
const CHILONZOR: DistrictId = DistrictId(1726262);
const YUNUSOBOD: DistrictId = DistrictId(1726264);
const ANDIJAN_D: DistrictId = DistrictId(1703202);
/// Mahallas 1 and 2 in Chilonzor, 3 in Yunusobod (Tashkent), 4 in Andijan.
const M1: MahallaId = MahallaId(1);
const M2: MahallaId = MahallaId(2);
const M3: MahallaId = MahallaId(3);
const M4: MahallaId = MahallaId(4);

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn names(uz: &str, cyrl: &str, ru: &str, en: &str) -> Names {
    Names {
        uz_latn: uz.into(),
        uz_cyrl: Some(cyrl.into()),
        ru: Some(ru.into()),
        en: Some(en.into()),
    }
}

fn mahalla(id: MahallaId, district: DistrictId, name: &str) -> Mahalla {
    Mahalla {
        id,
        district,
        names: Names::uz(name),
        population: Some(2_400),
        geometry: Some(r#"{"type":"Point","coordinates":[69.2,41.28]}"#.into()),
        synthetic: true,
    }
}

async fn seed_geography(s: &Store) {
    let regions = [
        Region {
            id: TASHKENT,
            names: names("Toshkent shahri", "Тошкент шаҳри", "город Ташкент", "Tashkent city"),
            geometry: Some(
                r#"{"type":"Polygon","coordinates":[[[69.1,41.2],[69.4,41.2],[69.4,41.4],[69.1,41.2]]]}"#
                    .into(),
            ),
        },
        Region {
            id: ANDIJAN,
            names: names("Andijon viloyati", "Андижон вилояти", "Андижанская область", "Andijan region"),
            geometry: None,
        },
    ];
    let districts = [
        District {
            id: CHILONZOR,
            region: TASHKENT,
            names: names(
                "Chilonzor tumani",
                "Чилонзор тумани",
                "Чиланзарский район",
                "Chilanzar district",
            ),
            geometry: None,
        },
        District {
            id: YUNUSOBOD,
            region: TASHKENT,
            names: Names::uz("Yunusobod tumani"),
            geometry: None,
        },
        District {
            id: ANDIJAN_D,
            region: ANDIJAN,
            names: Names::uz("Andijon tumani"),
            geometry: None,
        },
    ];
    let mahallas = [
        mahalla(M1, CHILONZOR, "Qatortol"),
        mahalla(M2, CHILONZOR, "Lutfiy"),
        mahalla(M3, YUNUSOBOD, "Bodomzor"),
        mahalla(M4, ANDIJAN_D, "Navbahor"),
    ];
    let n = s
        .import_geography(&regions, &districts, &mahallas)
        .await
        .unwrap();
    assert_eq!((n.regions, n.districts, n.mahallas), (2, 3, 4));
}

async fn user(s: &Store, username: &str, role: Role, scope: Scope) -> User {
    s.create_user(&NewUser {
        username: username.into(),
        display_name: username.to_uppercase(),
        password_hash: HASH.into(),
        role,
        scope,
    })
    .await
    .unwrap()
}

fn report(mahalla: MahallaId, category: Category, narrative: &str) -> NewIncident {
    NewIncident {
        category,
        source: Source::Public,
        occurred_at: T0.saturating_add_micros(-3_600_000_000),
        mahalla,
        point: Some(GeoPoint {
            lon: 69.2041,
            lat: 41.2856,
        }),
        affected: Affected {
            minor: false,
            youth: true,
            woman: true,
        },
        narrative: narrative.into(),
        event: None,
    }
}

async fn camera_in(s: &Store, mahalla: MahallaId) -> domain::Camera {
    s.create_camera(&NewCamera {
        name: format!("camera at mahalla {mahalla}"),
        url: "rtsp://127.0.0.1:8554/cam".into(),
        mahalla,
        config_toml: "[[zones]]\nname = \"yard\"\n".into(),
        position: Some(GeoPoint {
            lon: 69.2,
            lat: 41.3,
        }),
    })
    .await
    .unwrap()
}

async fn event_at(s: &Store, camera: domain::CameraId, at: Timestamp) -> Event {
    s.insert_event(&NewEvent {
        camera,
        rule: "yard_at_night".into(),
        at,
        payload: json!({
            "kind": "zone_enter", "frame": 1234, "track_ids": [7],
            "boxes": [[10.5, 20.0, 50.0, 120.25]],
            "evidence": ["evidence/000001.jpg"],
        }),
    })
    .await
    .unwrap()
}

fn days(n: i64) -> i64 {
    n * 86_400_000_000
}

async fn append_n(s: &Store, n: usize) {
    for i in 0..n {
        s.audit_append(
            &format!("user:{}", i % 3 + 1),
            "evidence.view",
            &format!("event:{i}"),
            &json!({"case": format!("2024/{i}"), "reason": "Qatortol MFY, ko‘cha №5", "ratio": 0.1 + i as f64}),
        )
        .await
        .unwrap();
    }
}

fn chain_break(r: store::Result<domain::ChainSummary>) -> ChainBreak {
    match r {
        Err(Error::ChainBroken(b)) => b,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// schema

async fn schema_is_migrated_once_and_reopens(db: &TestDb) {
    assert!(db.store.list_regions().await.unwrap().is_empty());
    seed_geography(&db.store).await;
    // A second pool (a restarted server) finds the schema current and the data there.
    let again = db.reopen().await;
    assert_eq!(again.list_regions().await.unwrap().len(), 2);
    // One row per migration file (each backend has the same number).
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count() as i64;
    assert!(files >= 3);
    assert_eq!(
        db.raw_i64("SELECT COUNT(*) FROM _sqlx_migrations").await,
        files,
        "one row per migration"
    );
    // A read-only open of an existing database works and migrates nothing.
    let ro = Store::connect_with(&db.url, Options::existing())
        .await
        .unwrap();
    assert_eq!(ro.audit_verify(None).await.unwrap().count, 0);
}

async fn read_only_open_refuses_a_database_without_the_schema(db: &TestDb) {
    let empty = match db.backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let missing = format!("sqlite:{}", dir.path().join("nope.db").display());
            let r = Store::connect_with(&missing, Options::existing()).await;
            assert!(matches!(r, Err(Error::Connect { .. })), "{r:?}");
            assert!(
                !dir.path().join("nope.db").exists(),
                "a read-only open must not create the file"
            );
            // A database file that exists but has no schema.
            let empty = format!("sqlite:{}", dir.path().join("empty.db").display());
            let no_migrations = Options {
                migrate: false,
                ..Options::default()
            };
            assert!(matches!(
                Store::connect_with(&empty, no_migrations).await,
                Err(Error::NoSchema { .. })
            ));
            Store::connect_with(&empty, Options::existing()).await
        }
        // The maintenance database has no posbon schema.
        Backend::Postgres => {
            Store::connect_with(&common::postgres_admin_url(), Options::existing()).await
        }
    };
    assert!(matches!(empty, Err(Error::NoSchema { .. })), "{empty:?}");
    let r = Store::connect("mysql://localhost/x").await;
    assert!(matches!(r, Err(Error::UnsupportedUrl(_))), "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// geography and users

async fn geography_upserts_and_areas(db: &TestDb) {
    let s = &db.store;
    seed_geography(s).await;
    let r = s.get_region(TASHKENT).await.unwrap().unwrap();
    assert_eq!(r.names.get(domain::Lang::Ru), "город Ташкент");
    assert!(r.geometry.unwrap().contains("Polygon"));
    assert_eq!(
        s.list_districts(TASHKENT)
            .await
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect::<Vec<_>>(),
        [CHILONZOR, YUNUSOBOD]
    );
    let mut m = s.get_mahalla(M1).await.unwrap().unwrap();
    assert_eq!(m, mahalla(M1, CHILONZOR, "Qatortol"));

    // An upsert updates in place.
    m.names.uz_cyrl = Some("Қатортол".into());
    m.population = None;
    m.synthetic = false;
    s.upsert_mahalla(&m).await.unwrap();
    assert_eq!(s.get_mahalla(M1).await.unwrap().unwrap(), m);
    assert_eq!(s.list_mahallas(CHILONZOR).await.unwrap().len(), 2);

    assert_eq!(
        s.mahalla_area(M3).await.unwrap(),
        Some(Area::Mahalla {
            region: TASHKENT,
            district: YUNUSOBOD,
            mahalla: M3
        })
    );
    assert_eq!(s.mahalla_area(MahallaId(999)).await.unwrap(), None);
    assert_eq!(s.get_district(DistrictId(5)).await.unwrap(), None);

    // A mahalla in a district that does not exist is refused.
    let r = s
        .upsert_mahalla(&mahalla(MahallaId(9), DistrictId(1), "Yo'q"))
        .await;
    assert!(matches!(r, Err(Error::MissingReference { .. })), "{r:?}");
}

async fn a_geography_import_is_all_or_nothing(db: &TestDb) {
    let s = &db.store;
    seed_geography(s).await;
    let batch = [
        mahalla(MahallaId(10), CHILONZOR, "Birinchi"),
        mahalla(MahallaId(11), CHILONZOR, "Ikkinchi"),
        mahalla(MahallaId(12), DistrictId(4242), "Uchinchi"),
    ];
    match s.import_geography(&[], &[], &batch).await {
        Err(Error::Row {
            what: "mahalla",
            index: 2,
            error,
        }) => assert!(matches!(*error, Error::MissingReference { .. }), "{error}"),
        other => panic!("expected row 2 to be refused, got {other:?}"),
    }
    assert_eq!(s.get_mahalla(MahallaId(10)).await.unwrap(), None);

    // Checked before anything is written: a bad geometry.
    let mut bad = mahalla(MahallaId(13), CHILONZOR, "To'rtinchi");
    bad.geometry = Some(r#"{"type":"Feature"}"#.into());
    let r = s
        .import_geography(
            &[],
            &[],
            &[mahalla(MahallaId(10), CHILONZOR, "Birinchi"), bad],
        )
        .await;
    assert!(matches!(r, Err(Error::Row { index: 1, .. })), "{r:?}");
    assert_eq!(s.list_mahallas(CHILONZOR).await.unwrap().len(), 2);
}

async fn sessions_expire_and_end(db: &TestDb) {
    let s = &db.store;
    seed_geography(s).await;
    let u = user(s, "operator", Role::Operator, Scope::District(CHILONZOR)).await;
    let (tok, csrf) = ("a".repeat(64), "b".repeat(64));
    let until = T0.saturating_add_micros(3_600_000_000);
    let made = s.create_session(&tok, u.id, &csrf, until).await.unwrap();
    assert_eq!(made.created_at, T0);
    assert_eq!(s.get_session(&tok).await.unwrap(), Some(made.clone()));
    assert_eq!(s.get_session(&"c".repeat(64)).await.unwrap(), None);
    // The same token twice is a conflict, and a hash of the wrong length is refused.
    assert!(matches!(
        s.create_session(&tok, u.id, &csrf, until).await,
        Err(store::Error::Conflict { .. })
    ));
    assert!(s.create_session("short", u.id, &csrf, until).await.is_err());
    // At its expiry it is gone, and the sweep deletes it.
    db.clock.set(until);
    assert_eq!(s.get_session(&tok).await.unwrap(), None);
    assert_eq!(s.delete_expired_sessions().await.unwrap(), 1);
    // Logout deletes it at once.
    let tok2 = "d".repeat(64);
    s.create_session(&tok2, u.id, &csrf, until.saturating_add_micros(1_000_000))
        .await
        .unwrap();
    assert!(s.delete_session(&tok2).await.unwrap());
    assert!(!s.delete_session(&tok2).await.unwrap());
    assert_eq!(s.get_session(&tok2).await.unwrap(), None);
}

async fn users_are_created_and_read_back(db: &TestDb) {
    let s = &db.store;
    seed_geography(s).await;
    let u = user(s, "inspector.qatortol", Role::Inspector, Scope::Mahalla(M1)).await;
    assert_eq!(u.created_at, T0);
    assert_eq!(s.get_user(u.id).await.unwrap().unwrap(), u);
    assert_eq!(
        s.get_user_by_username("inspector.qatortol")
            .await
            .unwrap()
            .unwrap(),
        u
    );
    assert_eq!(s.get_user(UserId(9_999)).await.unwrap(), None);
    assert!(!format!("{u:?}").contains("argon2id"));
    for (name, role, scope) in [
        ("admin", Role::Admin, Scope::National),
        ("analyst", Role::Analyst, Scope::Region(TASHKENT)),
        ("operator", Role::Operator, Scope::District(CHILONZOR)),
    ] {
        let u = user(s, name, role, scope).await;
        assert_eq!(s.get_user(u.id).await.unwrap().unwrap().scope, scope);
    }

    let dup = s
        .create_user(&NewUser {
            username: "inspector.qatortol".into(),
            display_name: "Someone else".into(),
            password_hash: HASH.into(),
            role: Role::Operator,
            scope: Scope::National,
        })
        .await;
    assert!(matches!(dup, Err(Error::Conflict { .. })), "{dup:?}");

    let nowhere = s
        .create_user(&NewUser {
            username: "lost".into(),
            display_name: "Lost".into(),
            password_hash: HASH.into(),
            role: Role::Inspector,
            scope: Scope::Mahalla(MahallaId(777)),
        })
        .await;
    assert!(
        matches!(nowhere, Err(Error::MissingReference { .. })),
        "{nowhere:?}"
    );

    let plain = s
        .create_user(&NewUser {
            username: "plain".into(),
            display_name: "Plain".into(),
            password_hash: "hunter2".into(),
            role: Role::Admin,
            scope: Scope::National,
        })
        .await;
    assert!(matches!(plain, Err(Error::Invalid(_))), "{plain:?}");
}

// ---------------------------------------------------------------------------------------------
// incidents

async fn incident_life_cycle_keeps_history_and_audit(db: &TestDb) {
    let s = &db.store;
    seed_geography(s).await;
    let inspector = user(s, "inspector", Role::Inspector, Scope::Mahalla(M1)).await;
    let other = user(s, "other", Role::Inspector, Scope::Mahalla(M1)).await;
    let by = Actor::User(inspector.id);

    let new = report(
        M1,
        Category::Fraud,
        "Bank kartasi ma'lumotlari telefonda so‘ralgan.",
    );
    let created = s.create_incident(&new, &Actor::Public).await.unwrap();
    assert_eq!(created.status, Status::New);
    assert_eq!(created.reported_at, T0);
    assert_eq!(s.get_incident(created.id).await.unwrap().unwrap(), created);

    // No one to work it: refused.
    let r = s
        .update_incident_status(
            created.id,
            &StatusUpdate {
                to: Status::Assigned,
                assignee: None,
                note: String::new(),
            },
            &by,
        )
        .await;
    assert!(matches!(r, Err(Error::Invalid(_))), "{r:?}");

    let steps = [
        (Status::Assigned, Some(inspector.id), "taken"),
        (Status::InProgress, None, "visited the family"),
        (Status::Assigned, Some(other.id), "handed over"),
        (Status::InProgress, None, ""),
        (Status::Closed, None, "resolved"),
    ];
    for (i, (to, assignee, note)) in steps.iter().enumerate() {
        db.clock.advance_micros(1_000_000);
        let inc = s
            .update_incident_status(
                created.id,
                &StatusUpdate {
                    to: *to,
                    assignee: *assignee,
                    note: (*note).into(),
                },
                &by,
            )
            .await
            .unwrap_or_else(|e| panic!("step {i}: {e}"));
        assert_eq!(inc.status, *to);
        assert_eq!(inc.updated_at, db.clock_now());
    }
    let closed = s.get_incident(created.id).await.unwrap().unwrap();
    assert_eq!(
        closed.assignee,
        Some(other.id),
        "a closed incident keeps its assignee"
    );

    // Not allowed by the life cycle: refused, and nothing recorded.
    let r = s
        .update_incident_status(
            created.id,
            &StatusUpdate {
                to: Status::New,
                assignee: None,
                note: String::new(),
            },
            &by,
        )
        .await;
    assert!(
        matches!(
            r,
            Err(Error::Invalid(domain::DomainError::Transition { .. }))
        ),
        "{r:?}"
    );
    let r = s
        .update_incident_status(
            IncidentId(4_040),
            &StatusUpdate {
                to: Status::Assigned,
                assignee: Some(other.id),
                note: String::new(),
            },
            &by,
        )
        .await;
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");

    let history = s.incident_history(created.id).await.unwrap();
    let moves: Vec<(Option<Status>, Status)> = history.iter().map(|h| (h.from, h.to)).collect();
    assert_eq!(
        moves,
        [
            (None, Status::New),
            (Some(Status::New), Status::Assigned),
            (Some(Status::Assigned), Status::InProgress),
            (Some(Status::InProgress), Status::Assigned),
            (Some(Status::Assigned), Status::InProgress),
            (Some(Status::InProgress), Status::Closed),
        ]
    );
    assert_eq!(history[0].actor, Actor::Public);
    assert_eq!(history[2].note, "visited the family");
    assert_eq!(history[3].assignee, Some(other.id));
    assert!(history.windows(2).all(|w| w[0].at < w[1].at));

    let audit = s.audit_entries(None, 100).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|r| r.entry.action.as_str()).collect();
    assert_eq!(actions[0], "incident.create");
    assert_eq!(actions.len(), 6);
    assert!(actions[1..].iter().all(|a| *a == "incident.status"));
    assert_eq!(audit[5].entry.target, format!("incident:{}", created.id));
    assert_eq!(audit[5].entry.details["to"], "closed");
    assert_eq!(s.audit_verify(None).await.unwrap().count, 6);

    // A camera incident needs a confirmed event.
    let mut cam = report(M1, Category::PublicOrder, "");
    cam.source = Source::Camera;
    let r = s.create_incident(&cam, &by).await;
    assert!(matches!(r, Err(Error::Invalid(_))), "{r:?}");
}

async fn incidents_are_listed_within_scope_only(db: &TestDb) {
    let s = &db.store;
    seed_geography(s).await;
    let mut ids = Vec::new();
    for (m, c) in [
        (M1, Category::Theft),
        (M2, Category::DrugOffence),
        (M3, Category::Violence),
        (M4, Category::Traffic),
        (M1, Category::Domestic),
    ] {
        ids.push(
            s.create_incident(&report(m, c, "x"), &Actor::Public)
                .await
                .unwrap()
                .id,
        );
    }
    let seen = |v: Vec<domain::Incident>| v.iter().map(|i| i.id).collect::<Vec<_>>();
    let list = |scope: Scope| {
        let s = s.clone();
        async move { seen(s.list_incidents(&scope, None, 100).await.unwrap()) }
    };
    // Newest first.
    assert_eq!(
        list(Scope::National).await,
        [ids[4], ids[3], ids[2], ids[1], ids[0]]
    );
    assert_eq!(
        list(Scope::Region(TASHKENT)).await,
        [ids[4], ids[2], ids[1], ids[0]]
    );
    assert_eq!(list(Scope::Region(ANDIJAN)).await, [ids[3]]);
    assert_eq!(
        list(Scope::District(CHILONZOR)).await,
        [ids[4], ids[1], ids[0]]
    );
    assert_eq!(list(Scope::Mahalla(M1)).await, [ids[4], ids[0]]);
    assert_eq!(list(Scope::Mahalla(M2)).await, [ids[1]]);
    assert!(list(Scope::Mahalla(MahallaId(999))).await.is_empty());

    // Every incident a scope lists is one the scope covers, by the domain's own rule.
    for scope in [
        Scope::Region(TASHKENT),
        Scope::District(YUNUSOBOD),
        Scope::Mahalla(M4),
    ] {
        for inc in s.list_incidents(&scope, None, 100).await.unwrap() {
            let area = s.mahalla_area(inc.mahalla).await.unwrap().unwrap();
            assert!(scope.covers(&area));
        }
    }

    // Paging.
    let page1 = seen(s.list_incidents(&Scope::National, None, 2).await.unwrap());
    assert_eq!(page1, [ids[4], ids[3]]);
    let page2 = seen(
        s.list_incidents(&Scope::National, Some(page1[1]), 2)
            .await
            .unwrap(),
    );
    assert_eq!(page2, [ids[2], ids[1]]);
}

// ---------------------------------------------------------------------------------------------
// events, reviews, retention

async fn review_queue_and_camera_incidents(db: &TestDb) {
    let s = &db.store;
    seed_geography(s).await;
    let operator = user(s, "operator", Role::Operator, Scope::District(CHILONZOR)).await;
    let cam1 = camera_in(s, M1).await;
    let cam3 = camera_in(s, M3).await;
    assert_eq!(s.get_camera(cam1.id).await.unwrap().unwrap(), cam1);

    let e_late = event_at(s, cam1.id, T0.saturating_add_micros(-1_000)).await;
    let e_early = event_at(s, cam1.id, T0.saturating_add_micros(-5_000)).await;
    let e_mid = event_at(s, cam1.id, T0.saturating_add_micros(-3_000)).await;
    let e_other = event_at(s, cam3.id, T0).await;
    assert_eq!(s.get_event(e_mid.id).await.unwrap().unwrap(), e_mid);

    let ids = |v: Vec<Event>| v.iter().map(|e| e.id).collect::<Vec<_>>();
    // Oldest first, within scope.
    assert_eq!(
        ids(s
            .list_pending_events(&Scope::Mahalla(M1), 10)
            .await
            .unwrap()),
        [e_early.id, e_mid.id, e_late.id]
    );
    assert_eq!(
        ids(s
            .list_pending_events(&Scope::District(YUNUSOBOD), 10)
            .await
            .unwrap()),
        [e_other.id]
    );
    assert_eq!(
        s.list_pending_events(&Scope::Region(TASHKENT), 10)
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        s.list_pending_events(&Scope::National, 2)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        s.list_pending_events(&Scope::Region(ANDIJAN), 10)
            .await
            .unwrap()
            .is_empty()
    );

    let dismissed = s
        .review_event(&NewReview {
            event: e_early.id,
            verdict: Verdict::Dismiss(DismissReason::Shadow),
            note: String::new(),
            reviewer: operator.id,
        })
        .await
        .unwrap();
    assert_eq!(s.get_review(e_early.id).await.unwrap().unwrap(), dismissed);
    assert_eq!(
        ids(s
            .list_pending_events(&Scope::Mahalla(M1), 10)
            .await
            .unwrap()),
        [e_mid.id, e_late.id]
    );
    let again = s
        .review_event(&NewReview {
            event: e_early.id,
            verdict: Verdict::Confirm,
            note: String::new(),
            reviewer: operator.id,
        })
        .await;
    assert!(matches!(again, Err(Error::Conflict { .. })), "{again:?}");
    let missing = s
        .review_event(&NewReview {
            event: EventId(31_337),
            verdict: Verdict::Confirm,
            note: String::new(),
            reviewer: operator.id,
        })
        .await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );

    // A machine's alert alone never becomes an incident: unreviewed or dismissed, refused.
    for ev in [e_mid.id, e_early.id] {
        let mut n = report(M1, Category::PublicOrder, "");
        n.source = Source::Camera;
        n.event = Some(ev);
        let r = s.create_incident(&n, &Actor::User(operator.id)).await;
        assert!(matches!(r, Err(Error::Invalid(_))), "{r:?}");
    }
    s.review_event(&NewReview {
        event: e_mid.id,
        verdict: Verdict::Confirm,
        note: "two people climbing the fence".into(),
        reviewer: operator.id,
    })
    .await
    .unwrap();
    let mut n = report(M1, Category::Theft, "Confirmed from camera");
    n.source = Source::Camera;
    n.event = Some(e_mid.id);
    let inc = s
        .create_incident(&n, &Actor::User(operator.id))
        .await
        .unwrap();
    assert_eq!(inc.event, Some(e_mid.id));
    // One incident per event.
    let r = s.create_incident(&n, &Actor::User(operator.id)).await;
    assert!(matches!(r, Err(Error::Conflict { .. })), "{r:?}");

    let actions: Vec<String> = s
        .audit_entries(None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry.action)
        .collect();
    assert_eq!(actions, ["event.review", "event.review", "incident.create"]);
}

async fn retention_deletes_only_expired_unattached_events_and_logs_it(db: &TestDb) {
    let s = &db.store;
    seed_geography(s).await;
    let operator = user(s, "operator", Role::Operator, Scope::National).await;
    let cam = camera_in(s, M1).await;
    let old_dismissed = event_at(s, cam.id, T0.saturating_add_micros(-days(40))).await;
    let old_unreviewed = event_at(s, cam.id, T0.saturating_add_micros(-days(31))).await;
    let old_attached = event_at(s, cam.id, T0.saturating_add_micros(-days(45))).await;
    let recent = event_at(s, cam.id, T0.saturating_add_micros(-days(29))).await;
    s.review_event(&NewReview {
        event: old_dismissed.id,
        verdict: Verdict::Dismiss(DismissReason::Vegetation),
        note: String::new(),
        reviewer: operator.id,
    })
    .await
    .unwrap();
    s.review_event(&NewReview {
        event: old_attached.id,
        verdict: Verdict::Confirm,
        note: String::new(),
        reviewer: operator.id,
    })
    .await
    .unwrap();
    let mut n = report(M1, Category::Theft, "");
    n.source = Source::Camera;
    n.event = Some(old_attached.id);
    s.create_incident(&n, &Actor::User(operator.id))
        .await
        .unwrap();

    let retention = Actor::system("retention").unwrap();
    // Batches: one at a time, oldest id first.
    let first = s.delete_expired_events(30, 1, &retention).await.unwrap();
    assert_eq!(first, std::slice::from_ref(&old_dismissed));
    let rest = s.delete_expired_events(30, 100, &retention).await.unwrap();
    assert_eq!(rest, std::slice::from_ref(&old_unreviewed));
    assert!(
        s.delete_expired_events(30, 100, &retention)
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(s.get_event(old_dismissed.id).await.unwrap(), None);
    assert_eq!(s.get_event(old_unreviewed.id).await.unwrap(), None);
    assert!(s.get_event(old_attached.id).await.unwrap().is_some());
    assert!(s.get_event(recent.id).await.unwrap().is_some());
    // The verdict outlives its event, for precision statistics.
    assert_eq!(
        db.raw_i64("SELECT COUNT(*) FROM reviews WHERE event_id IS NULL AND reason = 'vegetation'")
            .await,
        1
    );

    let log = s.audit_entries(None, 100).await.unwrap();
    let deletions: Vec<_> = log
        .iter()
        .filter(|r| r.entry.action == "retention.delete_events")
        .collect();
    assert_eq!(
        deletions.len(),
        2,
        "one entry per batch that deleted something"
    );
    assert_eq!(deletions[0].entry.actor, "system:retention");
    assert_eq!(
        deletions[0].entry.details["event_ids"],
        json!([old_dismissed.id.0])
    );
    assert_eq!(
        deletions[1].entry.details["event_ids"],
        json!([old_unreviewed.id.0])
    );
    s.audit_verify(None).await.unwrap();

    // The attached event's incident keeps it from deletion even when asked directly.
    let r = db
        .raw_with_id("DELETE FROM events WHERE id = $1", old_attached.id.0)
        .await;
    assert!(r.is_err(), "an incident's event cannot be deleted");
}

// ---------------------------------------------------------------------------------------------
// audit

async fn audit_entries_round_trip_and_verify(db: &TestDb) {
    let s = &db.store;
    let empty = s.audit_verify(None).await.unwrap();
    assert_eq!((empty.count, empty.head), (0, None));
    assert_eq!(s.audit_head().await.unwrap(), None);

    let mut written = Vec::new();
    for i in 0..5i64 {
        db.clock.advance_micros(1_234_567);
        written.push(
            s.audit_append(
                "user:1",
                "export.csv",
                &format!("incidents:{i}"),
                &json!({"rows": i, "filter": {"mahalla": 1, "категория": "фирибгарлик"}, "f": 1.5e-7, "big": u64::MAX}),
            )
            .await
            .unwrap(),
        );
    }
    assert_eq!(written[0].entry.seq, 1);
    assert_eq!(written[0].prev_hash, domain::Hash::GENESIS);
    // Read back exactly as written: times to the microsecond, details, hashes.
    assert_eq!(s.audit_entries(None, 100).await.unwrap(), written);
    assert_eq!(s.audit_entries(Some(3), 100).await.unwrap(), written[3..]);
    let summary = s.audit_verify(None).await.unwrap();
    assert_eq!(summary.count, 5);
    assert_eq!(summary.head, s.audit_head().await.unwrap());
    assert_eq!(summary.head.unwrap().hash, written[4].hash);
    s.audit_verify(summary.head).await.unwrap();

    let r = s.audit_append("user:1", "", "x", &json!({})).await;
    assert!(matches!(r, Err(Error::Invalid(_))), "{r:?}");
    let r = s.audit_append("user:1", "a", "x", &json!([1])).await;
    assert!(matches!(r, Err(Error::Invalid(_))), "{r:?}");
    assert_eq!(
        s.audit_verify(None).await.unwrap().count,
        5,
        "refused appends leave no gap"
    );
}

async fn audit_log_refuses_plain_update_and_delete(db: &TestDb) {
    append_n(&db.store, 3).await;
    for sql in [
        "UPDATE audit_log SET details = '{}' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
    ] {
        let r = db.raw(sql).await;
        let msg = r.expect_err(sql).to_string();
        assert!(msg.contains("append-only"), "{sql}: {msg}");
    }
    if db.backend == Backend::Postgres {
        assert!(db.raw("TRUNCATE audit_log").await.is_err());
    }
    assert_eq!(db.store.audit_verify(None).await.unwrap().count, 3);
}

async fn audit_verify_names_an_updated_row(db: &TestDb) {
    append_n(&db.store, 6).await;
    db.drop_audit_guards().await;
    db.raw(r#"UPDATE audit_log SET details = '{"case":"2024/2","reason":"nothing to see"}' WHERE seq = 3"#)
        .await
        .unwrap();
    let b = chain_break(db.store.audit_verify(None).await);
    assert_eq!(
        (b.seq, &b.reason),
        (3, &BreakReason::ContentMismatch),
        "{b}"
    );
    assert!(b.to_string().contains("seq 3"), "{b}");

    // The same from a fresh connection, as `posbon audit verify` would see it.
    let ro = Store::connect_with(&db.url, Options::existing())
        .await
        .unwrap();
    assert_eq!(chain_break(ro.audit_verify(None).await).seq, 3);
}

async fn audit_verify_names_the_row_after_a_deleted_one(db: &TestDb) {
    append_n(&db.store, 6).await;
    db.drop_audit_guards().await;
    db.raw("DELETE FROM audit_log WHERE seq = 4").await.unwrap();
    let b = chain_break(db.store.audit_verify(None).await);
    assert_eq!((b.seq, b.reason), (5, BreakReason::SeqGap { expected: 4 }));

    // Deleting the first row is caught at the new first row.
    db.raw("DELETE FROM audit_log WHERE seq = 1").await.unwrap();
    let b = chain_break(db.store.audit_verify(None).await);
    assert_eq!((b.seq, b.reason), (2, BreakReason::SeqGap { expected: 1 }));
}

async fn audit_verify_names_swapped_rows(db: &TestDb) {
    append_n(&db.store, 6).await;
    db.drop_audit_guards().await;
    db.raw(
        "UPDATE audit_log SET seq = -1 WHERE seq = 2; \
         UPDATE audit_log SET seq = 2 WHERE seq = 5; \
         UPDATE audit_log SET seq = 5 WHERE seq = -1;",
    )
    .await
    .unwrap();
    let b = chain_break(db.store.audit_verify(None).await);
    assert_eq!((b.seq, b.reason), (2, BreakReason::ContentMismatch));
}

async fn audit_verify_names_an_unreadable_row(db: &TestDb) {
    append_n(&db.store, 4).await;
    db.drop_audit_guards().await;
    db.raw("UPDATE audit_log SET hash = 'not a hash' WHERE seq = 2")
        .await
        .unwrap();
    let b = chain_break(db.store.audit_verify(None).await);
    assert_eq!(b.seq, 2);
    assert!(matches!(b.reason, BreakReason::Unreadable(_)), "{b}");
    // Appending after a damaged row still works: the damage is in the middle, not the end.
    db.store
        .audit_append("user:1", "login", "user:1", &json!({}))
        .await
        .unwrap();

    db.raw("UPDATE audit_log SET details = '{broken' WHERE seq = 1")
        .await
        .unwrap();
    let b = chain_break(db.store.audit_verify(None).await);
    assert_eq!(b.seq, 1);
    assert!(matches!(b.reason, BreakReason::Unreadable(_)), "{b}");
}

async fn audit_anchor_catches_a_truncated_tail(db: &TestDb) {
    append_n(&db.store, 5).await;
    let head = db.store.audit_head().await.unwrap().unwrap();
    assert_eq!(head.seq, 5);
    db.drop_audit_guards().await;
    db.raw("DELETE FROM audit_log WHERE seq >= 4")
        .await
        .unwrap();
    // By itself the shortened chain is valid: that is what the anchor is for.
    assert_eq!(db.store.audit_verify(None).await.unwrap().count, 3);
    let b = chain_break(db.store.audit_verify(Some(head)).await);
    assert_eq!(
        (b.seq, b.reason),
        (
            5,
            BreakReason::EndsBeforeAnchor {
                anchor: 5,
                last: Some(3)
            }
        )
    );
}

async fn concurrent_appends_form_one_chain(db: &TestDb) {
    seed_geography(&db.store).await;
    const TASKS: usize = 8;
    const EACH: usize = 50;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let s = db.store.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..EACH {
                s.audit_append(
                    &format!("user:{t}"),
                    "evidence.view",
                    &format!("event:{i}"),
                    &json!({"task": t, "i": i}),
                )
                .await
                .unwrap();
            }
        }));
    }
    // Incident changes append in their own transactions, concurrently with the above.
    for _ in 0..2 {
        let s = db.store.clone();
        handles.push(tokio::spawn(async move {
            for _ in 0..10 {
                s.create_incident(&report(M2, Category::Theft, ""), &Actor::Public)
                    .await
                    .unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let summary = db.store.audit_verify(None).await.unwrap();
    assert_eq!(summary.count as usize, TASKS * EACH + 20);
    let seqs: BTreeSet<i64> = db
        .store
        .audit_entries(None, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|r| r.entry.seq)
        .collect();
    assert_eq!(seqs, (1..=(TASKS * EACH + 20) as i64).collect());
}

// ---------------------------------------------------------------------------------------------
// durability

/// A writer in another process is killed with SIGKILL in the middle of its writes. Reopened, the
/// database holds every incident whose creation the writer saw acknowledged, and its audit chain
/// verifies.
async fn acknowledged_writes_survive_kill_9(db: &TestDb) {
    seed_geography(&db.store).await;
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", "kill9_child_writer", "--ignored", "--nocapture"])
        .env("POSBON_KILL9_DB", &db.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("ACK ") {
            acked.push(IncidentId(id.trim().parse().unwrap()));
            if acked.len() == 60 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(acked.len(), 60, "the writer stopped before it was killed");

    let reopened = db.reopen().await;
    for id in &acked {
        assert!(
            reopened.get_incident(*id).await.unwrap().is_some(),
            "incident {id} was acknowledged but is gone"
        );
    }
    let summary = reopened.audit_verify(None).await.unwrap();
    assert!(summary.count as usize >= acked.len());
    // Writing goes on after the crash.
    reopened
        .create_incident(&report(M1, Category::Other, ""), &Actor::Public)
        .await
        .unwrap();
    reopened.audit_verify(None).await.unwrap();
}

/// The writer for [`acknowledged_writes_survive_kill_9`]: run only as its child process.
#[tokio::test]
#[ignore = "run by acknowledged_writes_survive_kill_9 as a child process"]
async fn kill9_child_writer() {
    let Ok(url) = std::env::var("POSBON_KILL9_DB") else {
        return;
    };
    let s = Store::connect(&url).await.unwrap();
    let actor = Actor::system("kill9-test").unwrap();
    loop {
        let inc = s
            .create_incident(
                &report(M1, Category::Theft, "written before the crash"),
                &actor,
            )
            .await
            .unwrap();
        println!("ACK {}", inc.id);
    }
}

impl TestDb {
    fn clock_now(&self) -> Timestamp {
        use domain::Clock;
        self.clock.now()
    }
}

#[test]
fn t0_is_the_documented_instant() {
    assert_eq!(T0.to_string(), "2024-05-01T09:30:00.000000Z");
}
