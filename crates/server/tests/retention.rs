//! Retention with an injected clock, on SQLite and PostgreSQL: old events that no incident names
//! go with their evidence files; attached and young ones stay; the audit log lists what went; a
//! missing file is reported, not fatal; paths out of the camera's folder are refused.
mod common;

use std::path::Path;

use common::TestDb;
use domain::{
    Actor, Affected, Category, Event, GeoPoint, NewCamera, NewEvent, NewIncident, NewReview,
    NewUser, Role, Scope, Source, Timestamp, Verdict,
};
use serde_json::json;
use server::demo::MAHALLA_A;
use store::Store;

on_both_databases!(retention_deletes_old_unattached_events_and_their_files);

const DAY: i64 = 86_400_000_000;

async fn event(
    s: &Store,
    camera: domain::CameraId,
    at: Timestamp,
    images: &[&str],
    originals: &[&str],
) -> Event {
    s.insert_event(&NewEvent {
        camera,
        rule: "yard".into(),
        at,
        payload: json!({ "kind": "zone_enter", "images": images, "originals": originals }),
    })
    .await
    .unwrap()
}

fn touch(dir: &Path, rel: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, b"jpeg").unwrap();
}

async fn retention_deletes_old_unattached_events_and_their_files(db: &TestDb) {
    // The store as the server would open it, with a clock the test sets.
    let now = Timestamp::from_unix_micros(1_750_000_000_000_000).unwrap();
    let (s, clock) = db.with_clock(now).await;
    server::demo::seed_geography(&s).await.unwrap();
    let reviewer = s
        .create_user(&NewUser {
            username: "operator".into(),
            display_name: "operator".into(),
            password_hash: server::auth::hash_password("a long enough password").unwrap(),
            role: Role::Operator,
            scope: Scope::National,
        })
        .await
        .unwrap();
    let cam = s
        .create_camera(&NewCamera {
            name: "gate".into(),
            url: "file:vtest.avi".into(),
            mahalla: MAHALLA_A,
            config_toml: String::new(),
            position: Some(GeoPoint {
                lon: 69.2,
                lat: 41.28,
            }),
        })
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let folder = server::evidence_dir(data.path(), cam.id);
    let outside = data.path().join("secret.txt");
    std::fs::write(&outside, b"not evidence").unwrap();
    // A folder inside the camera's that is a link to one outside it.
    let elsewhere = data.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("x.jpg"), b"not evidence").unwrap();
    std::fs::create_dir_all(&folder).unwrap();
    std::os::unix::fs::symlink(&elsewhere, folder.join("linked")).unwrap();
    for f in [
        "old-1.jpg",
        "originals/old-1.sealed",
        "attached.jpg",
        "shared.jpg",
        "young.jpg",
    ] {
        touch(&folder, f);
    }

    let old = now.saturating_add_micros(-40 * DAY);
    // Old, dismissed: goes, with its image and sealed original.
    let gone = event(&s, cam.id, old, &["old-1.jpg"], &["originals/old-1.sealed"]).await;
    s.review_event(&NewReview {
        event: gone.id,
        verdict: Verdict::Dismiss(domain::DismissReason::Animal),
        note: String::new(),
        reviewer: reviewer.id,
    })
    .await
    .unwrap();
    // Old but confirmed into an incident: stays, files and all.
    let attached = event(
        &s,
        cam.id,
        old.saturating_add_micros(DAY),
        &["attached.jpg", "shared.jpg"],
        &[],
    )
    .await;
    s.review_event(&NewReview {
        event: attached.id,
        verdict: Verdict::Confirm,
        note: String::new(),
        reviewer: reviewer.id,
    })
    .await
    .unwrap();
    s.create_incident(
        &NewIncident {
            category: Category::Theft,
            source: Source::Camera,
            occurred_at: attached.at,
            mahalla: MAHALLA_A,
            point: None,
            affected: Affected::default(),
            narrative: String::new(),
            event: Some(attached.id),
        },
        &Actor::User(reviewer.id),
    )
    .await
    .unwrap();
    // Old, of the same frame as the attached one: goes, but the frame they share stays.
    let same_frame = event(&s, cam.id, attached.at, &["shared.jpg"], &[]).await;
    // Old, whose file is already gone, and one whose paths lead out of the folder.
    let no_file = event(&s, cam.id, old, &["never-written.jpg"], &[]).await;
    let escaping = event(
        &s,
        cam.id,
        old,
        &["../../secret.txt", "/etc/hostname", "linked/x.jpg"],
        &[],
    )
    .await;
    // Young: stays.
    let young = event(
        &s,
        cam.id,
        now.saturating_add_micros(-29 * DAY),
        &["young.jpg"],
        &[],
    )
    .await;

    let actor = Actor::System("retention".into());
    let report = server::retention::run(&s, data.path(), 30, &actor)
        .await
        .unwrap();

    let mut gone_ids = vec![gone.id.0, same_frame.id.0, no_file.id.0, escaping.id.0];
    gone_ids.sort();
    assert_eq!(report.events, gone_ids);
    for e in [&gone, &same_frame, &no_file, &escaping] {
        assert_eq!(s.get_event(e.id).await.unwrap(), None);
    }
    assert!(s.get_event(attached.id).await.unwrap().is_some());
    assert!(s.get_event(young.id).await.unwrap().is_some());

    let label = |f: &str| format!("camera-{}/{f}", cam.id.0);
    assert_eq!(
        report.deleted,
        [label("old-1.jpg"), label("originals/old-1.sealed")]
    );
    assert!(!folder.join("old-1.jpg").exists() && !folder.join("originals/old-1.sealed").exists());
    assert_eq!(report.kept_shared, [label("shared.jpg")]);
    for f in ["attached.jpg", "shared.jpg", "young.jpg"] {
        assert!(folder.join(f).exists(), "{f} must stay");
    }
    assert_eq!(report.missing, [label("never-written.jpg")]);
    assert_eq!(report.refused.len(), 3, "{:?}", report.refused);
    assert!(report.refused[0].contains("goes up") && report.refused[1].contains("absolute"));
    assert!(
        report.refused[2].contains("through a link"),
        "{:?}",
        report.refused
    );
    assert!(
        elsewhere.join("x.jpg").exists(),
        "a link out of the folder is never followed"
    );
    assert!(
        outside.exists(),
        "a path out of the folder is never followed"
    );
    assert!(report.failed.is_empty());

    // The verdicts outlive their events, for precision statistics.
    let sql = "SELECT COUNT(*) FROM reviews WHERE event_id IS NULL AND reason = 'animal'";
    let orphaned: i64 = match db.backend {
        store::Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
        }
        store::Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
        }
    };
    assert_eq!(orphaned, 1);

    // Audited: the store's entry for the rows, then this run's for the files.
    let log = s.audit_entries(None, 1000).await.unwrap();
    let rows: Vec<_> = log
        .iter()
        .filter(|r| r.entry.action == "retention.delete_events")
        .collect();
    let files: Vec<_> = log
        .iter()
        .filter(|r| r.entry.action == "retention.delete_evidence")
        .collect();
    assert_eq!((rows.len(), files.len()), (1, 1));
    assert!(rows[0].entry.seq < files[0].entry.seq);
    assert_eq!(rows[0].entry.details["event_ids"], json!(gone_ids));
    let d = &files[0].entry.details;
    assert_eq!(files[0].entry.actor, "system:retention");
    assert_eq!(d["event_ids"], json!(gone_ids));
    assert_eq!(
        d["deleted"],
        json!([label("old-1.jpg"), label("originals/old-1.sealed")])
    );
    assert_eq!(d["missing"], json!([label("never-written.jpg")]));
    assert_eq!(d["counts"]["refused"], 3);
    s.audit_verify(None).await.unwrap();

    // Nothing more to do now; ten days on, the young one has expired too.
    assert!(
        server::retention::run(&s, data.path(), 30, &actor)
            .await
            .unwrap()
            .events
            .is_empty()
    );
    clock.set(now.saturating_add_micros(10 * DAY));
    let later = server::retention::run(&s, data.path(), 30, &actor)
        .await
        .unwrap();
    assert_eq!(later.events, [young.id.0]);
    assert_eq!(later.deleted, [label("young.jpg")]);
    assert!(s.get_event(attached.id).await.unwrap().is_some());
    // 0 days is refused rather than deleting everything.
    assert!(
        server::retention::run(&s, data.path(), 0, &actor)
            .await
            .is_err()
    );
    let kept = db
        .store
        .list_pending_events(&Scope::National, 100)
        .await
        .unwrap();
    assert!(
        kept.is_empty(),
        "the attached event has a verdict; nothing else is left"
    );
    s.audit_verify(None).await.unwrap();
    s.close().await;
}
