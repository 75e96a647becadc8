//! The console's store queries on SQLite and PostgreSQL: listing accounts, disabling one
//! (audited in the same transaction, its sessions ended), and the incident made from an event.
mod common;

use common::{T0, TestDb};
use domain::{
    Actor, Affected, Category, District, DistrictId, EventId, GeoPoint, Mahalla, MahallaId, Names,
    NewCamera, NewEvent, NewIncident, NewReview, NewUser, Region, RegionId, Role, Scope, Source,
    UserId, Verdict,
};
use serde_json::json;
use store::{Error, Store};

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
const M: MahallaId = MahallaId(7);

async fn geography(s: &Store) {
    s.import_geography(
        &[Region {
            id: RegionId(1),
            names: Names::uz("Viloyat"),
            geometry: None,
        }],
        &[District {
            id: DistrictId(2),
            region: RegionId(1),
            names: Names::uz("Tuman"),
            geometry: None,
        }],
        &[Mahalla {
            id: M,
            district: DistrictId(2),
            names: Names::uz("Mahalla"),
            population: None,
            geometry: None,
            synthetic: true,
        }],
    )
    .await
    .unwrap();
}

async fn user(s: &Store, name: &str, role: Role, scope: Scope) -> domain::User {
    s.create_user(&NewUser {
        username: name.into(),
        display_name: name.into(),
        password_hash: HASH.into(),
        role,
        scope,
    })
    .await
    .unwrap()
}

async fn users_are_listed_and_disabled_with_an_audit_entry(db: &TestDb) {
    let s = &db.store;
    geography(s).await;
    assert!(s.list_users().await.unwrap().is_empty());
    let admin = user(s, "admin", Role::Admin, Scope::National).await;
    let insp = user(s, "insp", Role::Inspector, Scope::Mahalla(M)).await;
    let analyst = user(s, "analyst", Role::Analyst, Scope::Region(RegionId(1))).await;
    assert_eq!(
        s.list_users().await.unwrap(),
        vec![admin.clone(), insp.clone(), analyst.clone()]
    );
    let token = "a".repeat(64);
    s.create_session(
        &token,
        insp.id,
        &"b".repeat(64),
        T0.saturating_add_micros(3_600_000_000),
    )
    .await
    .unwrap();
    s.create_session(
        &"c".repeat(64),
        analyst.id,
        &"d".repeat(64),
        T0.saturating_add_micros(3_600_000_000),
    )
    .await
    .unwrap();

    let by = Actor::User(admin.id);
    let off = s.set_user_disabled(insp.id, true, &by).await.unwrap();
    assert!(off.disabled);
    assert_eq!(off.id, insp.id);
    assert!(s.get_user(insp.id).await.unwrap().unwrap().disabled);
    assert!(
        s.get_session(&token).await.unwrap().is_none(),
        "its session ended"
    );
    assert!(
        s.get_session(&"c".repeat(64)).await.unwrap().is_some(),
        "others' sessions stay"
    );
    let log = s.audit_entries(None, 100).await.unwrap();
    let last = &log.last().unwrap().entry;
    assert_eq!(last.action, "user.disable");
    assert_eq!(last.actor, format!("user:{}", admin.id));
    assert_eq!(last.target, format!("user:{}", insp.id));
    assert_eq!(last.details, json!({ "sessions_ended": 1 }));
    assert_eq!(last.at, T0);

    let on = s.set_user_disabled(insp.id, false, &by).await.unwrap();
    assert!(!on.disabled);
    let log = s.audit_entries(None, 100).await.unwrap();
    assert_eq!(log.last().unwrap().entry.action, "user.enable");
    let n = log.len();

    // No such user: nothing changes and nothing is logged.
    let missing = s.set_user_disabled(UserId(9_999), true, &by).await;
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
    assert_eq!(s.audit_entries(None, 100).await.unwrap().len(), n);
    s.audit_verify(None).await.unwrap();
}

async fn the_incident_made_from_an_event_is_found(db: &TestDb) {
    let s = &db.store;
    geography(s).await;
    let op = user(s, "op", Role::Operator, Scope::National).await;
    let cam = s
        .create_camera(&NewCamera {
            name: "gate".into(),
            url: "file:x".into(),
            mahalla: M,
            config_toml: String::new(),
            position: None,
        })
        .await
        .unwrap();
    let ev = s
        .insert_event(&NewEvent {
            camera: cam.id,
            rule: "loitering".into(),
            at: T0,
            payload: json!({}),
        })
        .await
        .unwrap();
    assert_eq!(s.incident_for_event(ev.id).await.unwrap(), None);
    assert_eq!(s.incident_for_event(EventId(9_999)).await.unwrap(), None);
    s.review_event(&NewReview {
        event: ev.id,
        verdict: Verdict::Confirm,
        note: String::new(),
        reviewer: op.id,
    })
    .await
    .unwrap();
    // A confirmed event with no incident yet still has none.
    assert_eq!(s.incident_for_event(ev.id).await.unwrap(), None);
    let inc = s
        .create_incident(
            &NewIncident {
                category: Category::Theft,
                source: Source::Camera,
                occurred_at: T0,
                mahalla: M,
                point: Some(GeoPoint {
                    lon: 69.2,
                    lat: 41.3,
                }),
                affected: Affected::default(),
                narrative: String::new(),
                event: Some(ev.id),
            },
            &Actor::User(op.id),
        )
        .await
        .unwrap();
    assert_eq!(s.incident_for_event(ev.id).await.unwrap(), Some(inc));
}

on_both_databases!(
    users_are_listed_and_disabled_with_an_audit_entry,
    the_incident_made_from_an_event_is_found,
);
