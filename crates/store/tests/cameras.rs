//! Cameras (registration, scoped lists, edits, switching on and off, health) and the verdict
//! counts behind precision statistics, the same tests on SQLite and on PostgreSQL.
mod common;

use std::collections::BTreeMap;

use common::{T0, TestDb};
use domain::{
    Actor, Area, CameraId, CameraState, CameraStatus, CameraUpdate, DismissReason, District,
    DistrictId, GeoPoint, Mahalla, MahallaId, Names, NewCamera, NewEvent, NewReview, NewUser,
    Region, RegionId, Role, Scope, Timestamp, UserId, Verdict,
};
use serde_json::json;
use store::{Error, Store};

on_both_databases!(
    cameras_are_registered_listed_edited_and_switched_with_audit,
    a_bad_camera_change_writes_nothing,
    camera_status_is_replaced_and_listed_within_scope,
    precision_counts_verdicts_per_camera_rule_and_day,
);

const R1: RegionId = RegionId(10);
const R2: RegionId = RegionId(20);
const D1: DistrictId = DistrictId(101);
const D2: DistrictId = DistrictId(102);
const D3: DistrictId = DistrictId(201);
/// M1, M2 in D1; M3 in D2 (both R1); M4 in D3 (R2).
const M1: MahallaId = MahallaId(1001);
const M2: MahallaId = MahallaId(1002);
const M3: MahallaId = MahallaId(1003);
const M4: MahallaId = MahallaId(2001);

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

async fn seed(s: &Store) {
    let regions = [R1, R2].map(|id| Region {
        id,
        names: Names::uz(format!("region {id}")),
        geometry: None,
    });
    let districts = [(D1, R1), (D2, R1), (D3, R2)].map(|(id, region)| District {
        id,
        region,
        names: Names::uz(format!("district {id}")),
        geometry: None,
    });
    let mahallas = [(M1, D1), (M2, D1), (M3, D2), (M4, D3)].map(|(id, district)| Mahalla {
        id,
        district,
        names: Names::uz(format!("mahalla {id}")),
        population: None,
        geometry: None,
        synthetic: true,
    });
    s.import_geography(&regions, &districts, &mahallas)
        .await
        .unwrap();
}

fn new_camera(name: &str, mahalla: MahallaId) -> NewCamera {
    NewCamera {
        name: name.into(),
        url: "rtsp://viewer:s3cret@127.0.0.1:8554/cam".into(),
        mahalla,
        config_toml: "[camera]\nid = \"x\"\n".into(),
        position: Some(GeoPoint {
            lon: 69.25,
            lat: 41.3,
        }),
    }
}

async fn reviewer(s: &Store) -> UserId {
    s.create_user(&NewUser {
        username: "reviewer".into(),
        display_name: "Reviewer".into(),
        password_hash: HASH.into(),
        role: Role::Operator,
        scope: Scope::National,
    })
    .await
    .unwrap()
    .id
}

fn admin() -> Actor {
    Actor::User(UserId(1))
}

async fn actions(s: &Store) -> Vec<(String, String, serde_json::Value)> {
    s.audit_verify(None)
        .await
        .expect("the audit chain verifies");
    s.audit_entries(None, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.entry.action, r.entry.target, r.entry.details))
        .collect()
}

async fn cameras_are_registered_listed_edited_and_switched_with_audit(db: &TestDb) {
    let s = &db.store;
    seed(s).await;
    let a = s
        .register_camera(&new_camera("gate", M1), &admin())
        .await
        .unwrap();
    let b = s
        .register_camera(&new_camera("bazaar", M3), &admin())
        .await
        .unwrap();
    let c = s
        .register_camera(&new_camera("far", M4), &admin())
        .await
        .unwrap();
    assert!(a.enabled && b.enabled && c.enabled);
    assert_eq!(a.created_at, T0);
    assert_eq!(s.get_camera(a.id).await.unwrap().unwrap(), a);

    // Each scope lists exactly the cameras Scope::covers says it should.
    let all = [a.clone(), b.clone(), c.clone()];
    for scope in [
        Scope::National,
        Scope::Region(R1),
        Scope::Region(R2),
        Scope::District(D1),
        Scope::District(D2),
        Scope::Mahalla(M1),
        Scope::Mahalla(M2),
    ] {
        let mut want = Vec::new();
        for cam in &all {
            let area = s.mahalla_area(cam.mahalla).await.unwrap().unwrap();
            if scope.covers(&area) {
                want.push(cam.id);
            }
        }
        let got: Vec<CameraId> = s
            .list_cameras(&scope)
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(got, want, "scope {scope}");
    }
    assert_eq!(
        s.list_cameras(&Scope::District(D1)).await.unwrap(),
        vec![a.clone()]
    );

    // An edit changes only the fields given; null removes the position.
    db.clock.advance_micros(1_000_000);
    let u: CameraUpdate = serde_json::from_value(json!({
        "name": "north gate", "config_toml": "[camera]\nid = \"y\"\n", "position": null,
    }))
    .unwrap();
    let edited = s.update_camera(a.id, &u, &admin()).await.unwrap();
    assert_eq!(edited.name, "north gate");
    assert_eq!(edited.url, a.url);
    assert_eq!(edited.position, None);
    assert_eq!(edited.config_toml, "[camera]\nid = \"y\"\n");
    assert_eq!(s.get_camera(a.id).await.unwrap().unwrap(), edited);

    // Moving it to another district moves it between scoped lists.
    let moved = s
        .update_camera(
            a.id,
            &CameraUpdate {
                mahalla: Some(M3),
                ..Default::default()
            },
            &admin(),
        )
        .await
        .unwrap();
    assert_eq!(moved.mahalla, M3);
    assert!(
        s.list_cameras(&Scope::District(D1))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.list_cameras(&Scope::District(D2)).await.unwrap().len(), 2);

    // Switching off and on; the same state twice is not logged twice.
    let off = s.set_camera_enabled(b.id, false, &admin()).await.unwrap();
    assert!(!off.enabled);
    s.set_camera_enabled(b.id, false, &admin()).await.unwrap();
    assert!(!s.get_camera(b.id).await.unwrap().unwrap().enabled);
    let enabled: Vec<CameraId> = s
        .list_enabled_cameras()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(enabled, vec![a.id, c.id]);
    s.set_camera_enabled(b.id, true, &admin()).await.unwrap();
    assert_eq!(s.list_enabled_cameras().await.unwrap().len(), 3);

    // A camera that does not exist.
    let missing = CameraId(a.id.0 + 1000);
    assert!(matches!(
        s.set_camera_enabled(missing, false, &admin()).await,
        Err(Error::NotFound { what: "camera", .. })
    ));
    assert!(matches!(
        s.update_camera(missing, &u, &admin()).await,
        Err(Error::NotFound { what: "camera", .. })
    ));

    let log = actions(s).await;
    let names: Vec<&str> = log.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        names,
        [
            "camera.create",
            "camera.create",
            "camera.create",
            "camera.update",
            "camera.update",
            "camera.disable",
            "camera.enable"
        ]
    );
    let (_, target, details) = &log[3];
    assert_eq!(target, &format!("camera:{}", a.id));
    assert_eq!(
        details["fields"],
        json!(["name", "config_toml", "position"])
    );
    // The password never reaches the audit log.
    assert_eq!(
        details["before"]["url"],
        "rtsp://viewer:***@127.0.0.1:8554/cam"
    );
    assert!(!log.iter().any(|(_, _, d)| d.to_string().contains("s3cret")));
    assert_ne!(
        details["before"]["config_sha256"],
        details["after"]["config_sha256"]
    );
}

async fn a_bad_camera_change_writes_nothing(db: &TestDb) {
    let s = &db.store;
    seed(s).await;
    let a = s
        .register_camera(&new_camera("gate", M1), &admin())
        .await
        .unwrap();
    let before = actions(s).await.len();
    // An empty name is refused by the domain's rules; a mahalla that does not exist by the
    // database; a camera in a mahalla that does not exist cannot be registered either.
    let blank = CameraUpdate {
        name: Some(" ".into()),
        ..Default::default()
    };
    assert!(matches!(
        s.update_camera(a.id, &blank, &admin()).await,
        Err(Error::Invalid(_))
    ));
    let nowhere = CameraUpdate {
        mahalla: Some(MahallaId(999_999)),
        ..Default::default()
    };
    assert!(matches!(
        s.update_camera(a.id, &nowhere, &admin()).await,
        Err(Error::MissingReference { .. })
    ));
    assert!(matches!(
        s.register_camera(&new_camera("lost", MahallaId(999_999)), &admin())
            .await,
        Err(Error::MissingReference { .. })
    ));
    assert_eq!(s.get_camera(a.id).await.unwrap().unwrap(), a);
    assert_eq!(s.list_cameras(&Scope::National).await.unwrap().len(), 1);
    assert_eq!(actions(s).await.len(), before, "nothing was audited");
}

async fn camera_status_is_replaced_and_listed_within_scope(db: &TestDb) {
    let s = &db.store;
    seed(s).await;
    let a = s
        .register_camera(&new_camera("gate", M1), &admin())
        .await
        .unwrap();
    let b = s
        .register_camera(&new_camera("far", M4), &admin())
        .await
        .unwrap();
    assert_eq!(s.get_camera_status(a.id).await.unwrap(), None);

    let first = CameraStatus {
        camera: a.id,
        state: CameraState::Starting,
        fps: 0.0,
        frames: 0,
        last_frame_at: None,
        last_error: None,
        updated_at: T0,
    };
    s.put_camera_status(&first).await.unwrap();
    assert_eq!(s.get_camera_status(a.id).await.unwrap().unwrap(), first);

    let t1 = T0.saturating_add_micros(5_123_456);
    let second = CameraStatus {
        camera: a.id,
        state: CameraState::Offline,
        fps: 9.75,
        frames: 1234,
        last_frame_at: Some(T0.saturating_add_micros(4_000_001)),
        last_error: Some("connection refused (rtsp://viewer:***@127.0.0.1:8554/cam)".into()),
        updated_at: t1,
    };
    s.put_camera_status(&second).await.unwrap();
    assert_eq!(s.get_camera_status(a.id).await.unwrap().unwrap(), second);

    let other = CameraStatus {
        camera: b.id,
        state: CameraState::Online,
        fps: 25.0,
        frames: 10,
        last_frame_at: Some(t1),
        last_error: None,
        updated_at: t1,
    };
    s.put_camera_status(&other).await.unwrap();
    assert_eq!(
        s.list_camera_statuses(&Scope::National).await.unwrap(),
        vec![second.clone(), other.clone()]
    );
    assert_eq!(
        s.list_camera_statuses(&Scope::District(D1)).await.unwrap(),
        vec![second.clone()]
    );
    assert_eq!(
        s.list_camera_statuses(&Scope::Region(R2)).await.unwrap(),
        vec![other]
    );
    assert!(
        s.list_camera_statuses(&Scope::Mahalla(M2))
            .await
            .unwrap()
            .is_empty()
    );

    // A status for a camera that does not exist, or with a nonsense rate, is refused.
    let mut ghost = second.clone();
    ghost.camera = CameraId(999_999);
    assert!(matches!(
        s.put_camera_status(&ghost).await,
        Err(Error::MissingReference { .. })
    ));
    let mut nan = second.clone();
    nan.fps = f64::NAN;
    assert!(matches!(
        s.put_camera_status(&nan).await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(s.get_camera_status(a.id).await.unwrap().unwrap(), second);
}

fn at(day: u32, hour: u32) -> Timestamp {
    // Days of May 2024 (UTC); 2024-05-01 is a Wednesday.
    format!("2024-05-{day:02}T{hour:02}:30:00Z")
        .parse()
        .unwrap()
}

async fn verdict(
    s: &Store,
    camera: CameraId,
    rule: &str,
    when: Timestamp,
    v: Verdict,
    who: UserId,
) {
    let e = s
        .insert_event(&NewEvent {
            camera,
            rule: rule.into(),
            at: when,
            payload: json!({ "kind": "zone_enter" }),
        })
        .await
        .unwrap();
    s.review_event(&NewReview {
        event: e.id,
        verdict: v,
        note: String::new(),
        reviewer: who,
    })
    .await
    .unwrap();
}

/// (camera, rule, day, verdict, reason)
type Key = (CameraId, String, String, &'static str, Option<&'static str>);

fn key(camera: CameraId, rule: &str, day: &str, v: Verdict) -> Key {
    (
        camera,
        rule.to_string(),
        day.to_string(),
        v.as_str(),
        v.reason().map(|r| r.as_str()),
    )
}

async fn precision_counts_verdicts_per_camera_rule_and_day(db: &TestDb) {
    let s = &db.store;
    seed(s).await;
    let who = reviewer(s).await;
    let a = s
        .register_camera(&new_camera("gate", M1), &admin())
        .await
        .unwrap();
    let b = s
        .register_camera(&new_camera("far", M4), &admin())
        .await
        .unwrap();
    let shadow = Verdict::Dismiss(DismissReason::Shadow);
    let animal = Verdict::Dismiss(DismissReason::Animal);
    // What was done, as (camera, rule, day, verdict): the expected counts are computed from this
    // list, not written out by hand.
    let plan = [
        (a.id, "enter-path", 1, 8, Verdict::Confirm),
        (a.id, "enter-path", 1, 9, Verdict::Confirm),
        (a.id, "enter-path", 1, 23, shadow),
        (a.id, "enter-path", 2, 0, shadow),
        (a.id, "loitering", 2, 12, animal),
        (a.id, "loitering", 6, 12, Verdict::Confirm),
        (b.id, "enter-path", 1, 10, Verdict::Confirm),
        (b.id, "enter-path", 3, 10, shadow),
        // Outside the window asked for below.
        (a.id, "enter-path", 20, 10, Verdict::Confirm),
    ];
    for (cam, rule, day, hour, v) in plan {
        verdict(s, cam, rule, at(day, hour), v, who).await;
    }
    // An event without a verdict is not counted.
    s.insert_event(&NewEvent {
        camera: a.id,
        rule: "enter-path".into(),
        at: at(1, 12),
        payload: json!({}),
    })
    .await
    .unwrap();

    let from = at(1, 0).saturating_add_micros(-30 * 60 * 1_000_000); // 2024-05-01T00:00Z
    let to = at(10, 0);
    let expected = |scope: &Scope, areas: &BTreeMap<CameraId, Area>| {
        let mut m: BTreeMap<Key, u64> = BTreeMap::new();
        for (cam, rule, day, hour, v) in plan {
            let t = at(day, hour);
            if t >= from && t < to && scope.covers(&areas[&cam]) {
                *m.entry(key(cam, rule, &format!("2024-05-{day:02}"), v))
                    .or_default() += 1;
            }
        }
        m
    };
    let mut areas = BTreeMap::new();
    for c in [&a, &b] {
        areas.insert(c.id, s.mahalla_area(c.mahalla).await.unwrap().unwrap());
    }
    for scope in [
        Scope::National,
        Scope::Region(R1),
        Scope::District(D3),
        Scope::Mahalla(M2),
    ] {
        let got: BTreeMap<Key, u64> = s
            .precision_counts(&scope, from, to)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (key(c.camera, &c.rule, &c.day, c.verdict), c.count))
            .collect();
        assert_eq!(got, expected(&scope, &areas), "scope {scope}");
    }
    // Spot check, so the comparison above cannot pass on two empty maps.
    let national = s
        .precision_counts(&Scope::National, from, to)
        .await
        .unwrap();
    assert_eq!(national.iter().map(|c| c.count).sum::<u64>(), 8);
    assert!(national.iter().any(|c| c.camera == a.id
        && c.rule == "enter-path"
        && c.day == "2024-05-01"
        && c.verdict == Verdict::Confirm
        && c.count == 2));
    // `to` is exclusive, `from` inclusive.
    let day1 = s
        .precision_counts(&Scope::National, at(1, 8), at(1, 9))
        .await
        .unwrap();
    assert_eq!(day1.len(), 1);
    assert_eq!(day1[0].count, 1);
}
