//! Incident attachments over HTTP on SQLite and PostgreSQL: upload, list and download with the
//! bytes and SHA-256 intact; 413, 415, 400 and 409 with nothing stored; scope (another mahalla's
//! incident is 404) and roles; the audit entries of an upload and of each download; retention
//! leaves attachments alone; and the console's upload form and its form to record an incident by
//! hand. Photos go through a stand-in for the face model (the real one is tested with these
//! endpoints in crates/cli/tests/photo_attachments.rs): what is stored and served is its output,
//! the original is sealed only with an evidence key, videos and unreadable photos are refused,
//! and a server without a redactor refuses photos.
mod common;
mod scene;

use std::path::Path;
use std::sync::Arc;

use common::{Client, Resp, TestDb, TestServer, multipart, multipart_type};
use domain::{IncidentId, NewCamera, NewEvent, Scope, Source, Timestamp};
use serde_json::{Value, json};
use server::attachments::MAX_ATTACHMENT_BYTES;
use server::demo::{MAHALLA_A, MAHALLA_B};
use sha2::{Digest, Sha256};
use store::Store;

on_both_databases!(
    photos_keep_only_a_sealed_original_and_need_a_redactor,
    upload_list_and_download_round_trip_with_audit,
    refused_uploads_store_nothing,
    another_mahallas_attachments_are_out_of_reach,
    retention_leaves_attachments,
    console_attaches_files_to_an_incident,
    console_form_records_an_incident_and_reshows_errors,
);

const PASSWORD: &str = "correct horse battery staple";
const HOSTILE: &str = "<script>alert(\"x\")</script> & 'quoted'";

struct Fixture {
    server: TestServer,
    store: Store,
    data: tempfile::TempDir,
}

async fn users(store: &Store) {
    server::demo::seed_geography(store).await.unwrap();
    common::create_users(store, PASSWORD, &common::DEMO_USERS).await;
}

/// Stands in for the face model: takes JPEG and PNG only, and answers with a JPEG that says
/// which photo it came from, with two faces blurred.
struct StandIn;

/// What [`StandIn`] makes of `photo`.
fn stand_in(photo: &[u8]) -> Vec<u8> {
    let mut out = b"\xFF\xD8\xFF\xE0 blurred ".to_vec();
    out.extend_from_slice(sha256(photo).as_bytes());
    out.extend_from_slice(b"\xFF\xD9");
    out
}

impl server::attachments::PhotoRedactor for StandIn {
    fn redact(
        &self,
        photo: &[u8],
    ) -> Result<server::attachments::RedactedPhoto, server::attachments::PhotoRedactionError> {
        if photo.ends_with(b"not a picture") {
            return Err(server::attachments::PhotoRedactionError::Unreadable(
                "a JPEG header without a picture".into(),
            ));
        }
        if photo.ends_with(b"model fails") {
            return Err(server::attachments::PhotoRedactionError::Failed(
                "the face model failed".into(),
            ));
        }
        Ok(server::attachments::RedactedPhoto {
            jpeg: stand_in(photo),
            faces: 2,
        })
    }
}

async fn start_with(store: Store, photos: bool, evidence_key: bool) -> Fixture {
    users(&store).await;
    let data = tempfile::tempdir().unwrap();
    let key = data.path().join("evidence.key");
    if evidence_key {
        seal::SealKey::generate().unwrap().save(&key).unwrap();
    }
    let config = server::Config {
        data_dir: data.path().to_owned(),
        evidence_key: evidence_key.then_some(key),
        ..server::Config::default()
    };
    let mut state = server::AppState::new(store.clone(), &config).unwrap();
    if photos {
        state = state.with_photos(Arc::new(StandIn));
    }
    Fixture {
        server: TestServer::start_with(state).await,
        store,
        data,
    }
}

async fn start(store: Store) -> Fixture {
    start_with(store, true, false).await
}

async fn setup(db: &TestDb) -> Fixture {
    start(db.store.clone()).await
}

async fn logged_in(f: &Fixture, username: &str) -> Client {
    let mut c = f.server.client();
    c.login(username, PASSWORD).await.expect(200);
    c
}

/// `POST /api/incidents/{id}/attachments` with the file, as the API takes it.
async fn upload(c: &Client, incident: i64, filename: &str, bytes: &[u8]) -> Resp {
    let body = multipart(&[], Some((filename, bytes)));
    let ct = multipart_type();
    let mut h = vec![("Content-Type", ct.as_str())];
    let csrf = c.csrf.clone().unwrap_or_default();
    h.push(("X-CSRF-Token", csrf.as_str()));
    c.raw(
        "POST",
        &format!("/api/incidents/{incident}/attachments"),
        &h,
        Some(&body),
    )
    .await
}

async fn incident(c: &Client, mahalla: i64) -> i64 {
    let r = c
        .post(
            "/api/incidents",
            &json!({
                "category": "theft",
                "source": "inspector",
                "occurred_at": "2024-05-01T09:30:00.000000Z",
                "mahalla": mahalla,
                "narrative": "bicycle taken from the courtyard"
            }),
        )
        .await
        .expect(201);
    r.json()["id"].as_i64().unwrap()
}

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// Files under the data folder's `attachments/`, relative to it.
fn stored_files(data: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(&data.join("attachments"), data, &mut out);
    out.sort();
    out
}

async fn audit_of(store: &Store, action: &str) -> Vec<Value> {
    store
        .audit_verify(None)
        .await
        .expect("audit chain verifies");
    store
        .audit_entries(None, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.entry.action == action)
        .map(|r| json!({ "actor": r.entry.actor, "target": r.entry.target, "details": r.entry.details }))
        .collect()
}

async fn upload_list_and_download_round_trip_with_audit(db: &TestDb) {
    let f = setup(db).await;
    let a = logged_in(&f, "inspector_a").await;
    let id = incident(&a, MAHALLA_A.0).await;
    let other = incident(&a, MAHALLA_A.0).await;
    let jpeg = scene::jpeg();
    let text = "Patrol note: two men at the gate at 21:40.\nO'zbekcha: darvoza oldida.\n";
    let files: [(&str, &[u8], &str); 3] = [
        ("gate photo.jpg", &jpeg, "image/jpeg"),
        ("../scans/statement ж.pdf", &pdf(), "application/pdf"),
        ("note.txt", text.as_bytes(), "text/plain"),
    ];
    // What is stored: the photo as the redactor made it, the rest as sent.
    let blurred = stand_in(&jpeg);
    let stored: [&[u8]; 3] = [&blurred, files[1].1, files[2].1];
    let mut ids = Vec::new();
    for ((name, bytes, kind), kept) in files.iter().zip(stored) {
        let r = upload(&a, id, name, bytes).await.expect(201).json();
        assert_eq!(r["media_type"], *kind, "{r}");
        assert_eq!(r["size"], kept.len(), "{r}");
        assert_eq!(r["sha256"], sha256(kept), "{r}");
        if *kind == "image/jpeg" {
            assert_eq!(
                r["redaction"],
                json!({ "faces_blurred": 2, "original_sha256": sha256(bytes), "original_sealed": false }),
                "{r}"
            );
        } else {
            assert!(r["redaction"].is_null(), "{r}");
        }
        assert_eq!(r["incident"], id);
        assert!(
            r.get("stored_path").is_none(),
            "internal path not shown: {r}"
        );
        ids.push(r["id"].as_i64().unwrap());
    }
    // The same content again is refused, and stored once.
    upload(&a, id, "again.jpg", &jpeg).await.expect_error(409);
    // An empty file is refused.
    let e = upload(&a, id, "empty.txt", b"").await.expect_error(400);
    assert!(e["error"].as_str().unwrap().contains("empty"), "{e}");

    let list = a
        .get(&format!("/api/incidents/{id}/attachments"))
        .await
        .expect(200)
        .json();
    let list = list["attachments"].as_array().unwrap().clone();
    assert_eq!(list.len(), 3);
    assert_eq!(list[1]["file_name"], "statement ж.pdf", "path removed");
    // Every file comes back byte for byte as stored, as what it is, as a download.
    for (entry, ((_, _, kind), bytes)) in list.iter().zip(files.iter().zip(stored)) {
        let url = entry["url"].as_str().unwrap();
        let r = a.get(url).await.expect(200);
        assert_eq!(r.body, *bytes);
        assert_eq!(sha256(&r.body), entry["sha256"].as_str().unwrap());
        assert!(r.header("content-type").unwrap().starts_with(kind));
        let cd = r.header("content-disposition").unwrap();
        assert!(cd.starts_with("attachment; filename="), "{cd}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert!(
            r.header("content-security-policy")
                .unwrap()
                .contains("sandbox")
        );
    }
    let r = a.get(list[1]["url"].as_str().unwrap()).await;
    assert!(
        r.header("content-disposition")
            .unwrap()
            .ends_with("filename*=UTF-8''statement%20%D0%B6.pdf"),
        "{:?}",
        r.header("content-disposition")
    );
    // Stored under the data folder by SHA-256, and nothing else (no temporary files).
    let mut want: Vec<String> = stored
        .iter()
        .map(|b| format!("attachments/incident-{id}/{}", sha256(b)))
        .collect();
    want.sort();
    assert_eq!(stored_files(f.data.path()), want);

    // The incident's JSON lists them; the exports count them.
    let one = a
        .get(&format!("/api/incidents/{id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(one["attachments"].as_array().unwrap().len(), 3, "{one}");
    let csv = a.get("/api/incidents.csv").await.expect(200).text();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",narrative,attachment_count")
    );
    let counts: Vec<(String, String)> = lines
        .map(|l| {
            (
                l.split(',').next().unwrap().to_owned(),
                l.rsplit(',').next().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(counts.contains(&(id.to_string(), "3".to_owned())), "{csv}");
    assert!(
        counts.contains(&(other.to_string(), "0".to_owned())),
        "{csv}"
    );
    let gj = a.get("/api/incidents.geojson").await.expect(200).json();
    for feat in gj["features"].as_array().unwrap() {
        let want = if feat["id"] == id { 3 } else { 0 };
        assert_eq!(feat["properties"]["attachment_count"], want, "{feat}");
    }

    // Readers in scope may read; the auditor's role may not.
    let analyst = logged_in(&f, "analyst").await;
    let r = analyst
        .get(list[0]["url"].as_str().unwrap())
        .await
        .expect(200);
    assert_eq!(r.body, blurred);
    let auditor = logged_in(&f, "auditor").await;
    auditor
        .get(&format!("/api/incidents/{id}/attachments"))
        .await
        .expect_error(403);
    auditor
        .get(list[0]["url"].as_str().unwrap())
        .await
        .expect_error(403);
    // An attachment is found only under its own incident.
    a.get(&format!("/api/incidents/{other}/attachments/{}", ids[0]))
        .await
        .expect_error(404);
    a.get(&format!("/api/incidents/{id}/attachments/999999"))
        .await
        .expect_error(404);

    // The audit log holds each upload (with size and SHA-256) and each download.
    let adds = audit_of(&f.store, "incident.attachment_add").await;
    assert_eq!(adds.len(), 3, "{adds:#?}");
    for (entry, ((_, _, kind), bytes)) in adds.iter().zip(files.iter().zip(stored)) {
        assert_eq!(entry["target"], format!("incident:{id}"));
        assert_eq!(entry["details"]["sha256"], sha256(bytes));
        assert_eq!(entry["details"]["size"], bytes.len());
        assert_eq!(entry["details"]["media_type"], *kind);
        assert!(entry["actor"].as_str().unwrap().starts_with("user:"));
    }
    let views = audit_of(&f.store, "attachment.view").await;
    // 3 + the PDF again + the analyst's; none for refusals.
    assert_eq!(views.len(), 5, "{views:#?}");
    assert_eq!(views[0]["details"]["sha256"], sha256(&blurred));
    assert_eq!(views[0]["details"]["bytes"], blurred.len());
    assert_eq!(
        adds[0]["details"]["redaction"]["original_sha256"],
        sha256(&jpeg)
    );
    assert_eq!(views[4]["details"]["attachment"], ids[0]);
}

/// With an evidence key the original photo is kept sealed beside the redacted one, and opens
/// with that key alone; a PNG becomes a JPEG; a server without a redactor refuses photos and
/// stores nothing, while documents are still taken.
async fn photos_keep_only_a_sealed_original_and_need_a_redactor(db: &TestDb) {
    let f = start_with(db.store.clone(), true, true).await;
    let a = logged_in(&f, "inspector_a").await;
    let id = incident(&a, MAHALLA_A.0).await;
    let jpeg = scene::jpeg();
    let r = upload(&a, id, "gate.jpg", &jpeg).await.expect(201).json();
    let kept = stand_in(&jpeg);
    assert_eq!(r["sha256"], sha256(&kept), "{r}");
    assert_eq!(r["redaction"]["original_sealed"], true, "{r}");
    let rel = format!("attachments/incident-{id}/{}", sha256(&kept));
    assert_eq!(
        stored_files(f.data.path()),
        vec![rel.clone(), format!("{rel}.original")]
    );
    let sealed = std::fs::read(f.data.path().join(format!("{rel}.original"))).unwrap();
    assert!(
        !sealed
            .windows(jpeg.len().min(64))
            .any(|w| w == &jpeg[..jpeg.len().min(64)]),
        "the original is not stored in the clear"
    );
    let key = seal::SealKey::load(&f.data.path().join("evidence.key")).unwrap();
    let opened = key
        .open_file(&f.data.path().join(format!("{rel}.original")))
        .unwrap();
    assert_eq!(opened, jpeg, "the sealed original is the photo as sent");
    // Served: the redacted photo only.
    let served = a
        .get(&format!("/api/incidents/{id}/attachments/{}", r["id"]))
        .await
        .expect(200);
    assert_eq!(served.body, kept);

    // A PNG comes back a JPEG, under a JPEG's name.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    let r = upload(&a, id, "scan.PNG", &png).await.expect(201).json();
    assert_eq!(r["media_type"], "image/jpeg", "{r}");
    assert_eq!(r["file_name"], "scan.jpg", "{r}");

    // No redactor: photos refused (503), nothing stored; a document is still taken.
    let data = tempfile::tempdir().unwrap();
    let config = server::Config {
        data_dir: data.path().to_owned(),
        ..server::Config::default()
    };
    let g = TestServer::start_with(server::AppState::new(db.store.clone(), &config).unwrap()).await;
    let mut a = g.client();
    a.login("inspector_a", PASSWORD).await.expect(200);
    let other = incident(&a, MAHALLA_A.0).await;
    let e = upload(&a, other, "gate.jpg", &jpeg).await.expect_error(503);
    assert!(e["fix"].as_str().unwrap().contains("posbon serve"), "{e}");
    upload(&a, other, "gate.png", &png).await.expect_error(503);
    assert!(stored_files(data.path()).is_empty());
    upload(&a, other, "scan.pdf", &pdf()).await.expect(201);
    assert_eq!(
        f.store
            .list_attachments(IncidentId(other))
            .await
            .unwrap()
            .len(),
        1
    );

    // A photo stored before photos were redacted (no redaction recorded) is never served.
    let legacy = scene::jpeg();
    let sha = sha256(&legacy);
    let rel = format!("attachments/incident-{other}/{sha}");
    std::fs::create_dir_all(data.path().join(format!("attachments/incident-{other}"))).unwrap();
    std::fs::write(data.path().join(&rel), &legacy).unwrap();
    let old = f
        .store
        .add_attachment(&domain::NewAttachment {
            incident: IncidentId(other),
            file_name: "old.jpg".into(),
            media_type: domain::MediaType::Jpeg,
            size: legacy.len() as i64,
            sha256: sha,
            stored_path: rel,
            uploaded_by: domain::UserId(1),
            redaction: None,
        })
        .await
        .unwrap();
    let e = a
        .get(&format!("/api/incidents/{other}/attachments/{}", old.id))
        .await
        .expect_error(403);
    assert!(
        e["fix"]
            .as_str()
            .unwrap()
            .contains("attach the photo again"),
        "{e}"
    );
}

async fn refused_uploads_store_nothing(db: &TestDb) {
    let f = setup(db).await;
    let a = logged_in(&f, "inspector_a").await;
    let id = incident(&a, MAHALLA_A.0).await;

    // One byte over the limit: 413 naming it. And a body over the endpoint's limit.
    let mut big = scene::jpeg();
    big.resize(MAX_ATTACHMENT_BYTES + 1, 0);
    let e = upload(&a, id, "big.jpg", &big).await.expect_error(413);
    assert!(
        e["error"].as_str().unwrap().contains("20 MiB"),
        "names the limit: {e}"
    );
    big.resize(server::attachments::MAX_UPLOAD_BODY_BYTES + 10, 0);
    upload(&a, id, "bigger.jpg", &big).await.expect_error(413);
    // Exactly at the limit is accepted.
    big.truncate(MAX_ATTACHMENT_BYTES);
    upload(&a, id, "just.jpg", &big).await.expect(201);
    let at_limit = stored_files(f.data.path());
    assert_eq!(at_limit.len(), 1);

    // Executables and markup: 415 naming the kinds that are taken.
    let elf = b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3E\0".to_vec();
    let html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>".to_vec();
    for (name, bytes) in [("photo.jpg", &elf), ("note.txt", &html)] {
        let e = upload(&a, id, name, bytes).await.expect_error(415);
        let fix = e["fix"].as_str().unwrap();
        assert!(
            fix.contains("image/jpeg")
                && fix.contains("application/pdf")
                && fix.contains("text/plain"),
            "{e}"
        );
    }
    // Videos: 415, since their faces cannot be blurred yet.
    let mut mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    mp4.extend_from_slice(&[0; 64]);
    let e = upload(&a, id, "clip.mp4", &mp4).await.expect_error(415);
    assert!(e["error"].as_str().unwrap().contains("videos"), "{e}");
    assert!(e["fix"].as_str().unwrap().contains("still photos"), "{e}");
    // A photo the redactor cannot read: 400 naming why.
    let mut broken = scene::jpeg();
    broken.extend_from_slice(b"not a picture");
    let e = upload(&a, id, "broken.jpg", &broken)
        .await
        .expect_error(400);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("a JPEG header without a picture"),
        "{e}"
    );
    // The face search failing: 500, and the photo is not stored (never taken for "no faces").
    let mut failing = scene::jpeg();
    failing.extend_from_slice(b"model fails");
    let e = upload(&a, id, "dark.jpg", &failing).await.expect_error(500);
    assert!(
        e["error"].as_str().unwrap().contains("blur the faces"),
        "{e}"
    );
    // Not multipart: 415; multipart without the file part: 400.
    let csrf = a.csrf.clone().unwrap();
    let path = format!("/api/incidents/{id}/attachments");
    a.raw(
        "POST",
        &path,
        &[
            ("Content-Type", "application/octet-stream"),
            ("X-CSRF-Token", &csrf),
        ],
        Some(&pdf()),
    )
    .await
    .expect_error(415);
    let ct = multipart_type();
    let e = a
        .raw(
            "POST",
            &path,
            &[("Content-Type", &ct), ("X-CSRF-Token", &csrf)],
            Some(&multipart(&[("name", "x")], None)),
        )
        .await
        .expect_error(400);
    assert!(e["fix"].as_str().unwrap().contains("file"), "{e}");
    // Without the CSRF header: 403 before anything is read.
    a.raw(
        "POST",
        &path,
        &[("Content-Type", &ct)],
        Some(&multipart(&[], Some(("a.pdf", &pdf())))),
    )
    .await
    .expect_error(403);
    // A role that only reads: 403.
    let analyst = logged_in(&f, "analyst").await;
    upload(&analyst, id, "a.pdf", &pdf())
        .await
        .expect_error(403);

    assert_eq!(stored_files(f.data.path()), at_limit, "nothing else stored");
    let list = f.store.list_attachments(IncidentId(id)).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(audit_of(&f.store, "incident.attachment_add").await.len(), 1);
}

async fn another_mahallas_attachments_are_out_of_reach(db: &TestDb) {
    let f = setup(db).await;
    let a = logged_in(&f, "inspector_a").await;
    let b = logged_in(&f, "inspector_b").await;
    let in_b = incident(&b, MAHALLA_B.0).await;
    let att = upload(&b, in_b, "b.pdf", &pdf()).await.expect(201).json();
    let url = att["url"].as_str().unwrap().to_owned();

    // To inspector A, B's incident does not exist: the same 404 as a missing one.
    let missing = a
        .get("/api/incidents/999999/attachments")
        .await
        .expect_error(404);
    let listed = a
        .get(&format!("/api/incidents/{in_b}/attachments"))
        .await
        .expect_error(404);
    assert_eq!(
        listed["fix"], missing["fix"],
        "indistinguishable from a missing incident"
    );
    a.get(&url).await.expect_error(404);
    upload(&a, in_b, "a.jpg", &scene::jpeg())
        .await
        .expect_error(404);
    // The district's operator and B's inspector see it.
    let op = logged_in(&f, "operator").await;
    assert_eq!(op.get(&url).await.expect(200).body, pdf());
    assert_eq!(b.get(&url).await.expect(200).body, pdf());

    assert_eq!(stored_files(f.data.path()).len(), 1, "A stored nothing");
    assert_eq!(audit_of(&f.store, "attachment.view").await.len(), 2);
}

async fn retention_leaves_attachments(db: &TestDb) {
    let now = Timestamp::from_unix_micros(1_750_000_000_000_000).unwrap();
    let (store, clock) = db.with_clock(now).await;
    let f = start(store).await;
    let a = logged_in(&f, "inspector_a").await;
    let id = incident(&a, MAHALLA_A.0).await;
    let att = upload(&a, id, "scan.pdf", &pdf()).await.expect(201).json();
    // An old event that no incident names, with its evidence file: retention's to delete.
    let cam = f
        .store
        .create_camera(&NewCamera {
            name: "gate".into(),
            url: "file:vtest.avi".into(),
            mahalla: MAHALLA_A,
            config_toml: String::new(),
            position: None,
        })
        .await
        .unwrap();
    let folder = server::evidence_dir(f.data.path(), cam.id);
    std::fs::create_dir_all(folder.join("evidence")).unwrap();
    std::fs::write(folder.join("evidence/old.jpg"), scene::jpeg()).unwrap();
    f.store
        .insert_event(&NewEvent {
            camera: cam.id,
            rule: "yard".into(),
            at: now.saturating_add_micros(-86_400_000_000),
            payload: json!({ "kind": "zone_enter", "images": ["evidence/old.jpg"] }),
        })
        .await
        .unwrap();
    // A year later, with retention at one day.
    clock.advance_micros(365 * 86_400_000_000);
    let report = server::retention::run(
        &f.store,
        f.data.path(),
        1,
        &domain::Actor::System("retention".into()),
    )
    .await
    .unwrap();
    assert_eq!(report.events.len(), 1, "{report:?}");
    assert_eq!(report.deleted.len(), 1, "{report:?}");
    assert!(!folder.join("evidence/old.jpg").exists());
    // The attachment, its row and its file, are all still there.
    assert_eq!(
        stored_files(f.data.path()),
        vec![format!("attachments/incident-{id}/{}", sha256(&pdf()))]
    );
    assert_eq!(
        f.store
            .list_attachments(IncidentId(id))
            .await
            .unwrap()
            .len(),
        1
    );
    // (The session expired with the year; log in again.)
    let a = logged_in(&f, "inspector_a").await;
    let r = a.get(att["url"].as_str().unwrap()).await.expect(200);
    assert_eq!(r.body, pdf());
}

/// The console's upload form, as a browser posts it.
async fn console_upload(
    c: &Client,
    incident: i64,
    texts: &[(&str, &str)],
    filename: &str,
    bytes: &[u8],
) -> Resp {
    let body = multipart(texts, Some((filename, bytes)));
    c.raw(
        "POST",
        &format!("/console/incidents/{incident}/attachments"),
        &[("Content-Type", multipart_type().as_str())],
        Some(&body),
    )
    .await
}

fn location(r: &Resp) -> String {
    r.header("location").unwrap_or_default().to_owned()
}

/// A console page: HTML with the console's policy and nothing unescaped.
#[track_caller]
fn page(r: Resp, status: u16) -> String {
    let r = r.expect(status);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(
        r.header("content-security-policy")
            .unwrap_or_default()
            .contains("default-src 'none'")
    );
    let body = r.text();
    assert!(!body.contains("<script>alert"), "unescaped: {body}");
    body
}

async fn console_attaches_files_to_an_incident(db: &TestDb) {
    let f = setup(db).await;
    let a = logged_in(&f, "inspector_a").await;
    let id = incident(&a, MAHALLA_A.0).await;
    let csrf = a.csrf.clone().unwrap();
    let path = format!("/console/incidents/{id}");
    let body = page(a.get(&path).await, 200);
    assert!(body.contains("id=\"no-attachments\""), "{body}");
    assert!(
        body.contains(&format!(
            "action=\"/console/incidents/{id}/attachments\" enctype=\"multipart/form-data\""
        )),
        "{body}"
    );
    assert!(body.contains("name=\"_csrf\""));
    // An analyst reads the list but gets no form.
    let analyst = logged_in(&f, "analyst").await;
    let body = page(analyst.get(&path).await, 200);
    assert!(!body.contains("id=\"attach-form\""), "{body}");

    // Without the form's CSRF token: 403, nothing stored.
    page(console_upload(&a, id, &[], "scan.pdf", &pdf()).await, 403);
    assert!(stored_files(f.data.path()).is_empty());
    // A hostile name, attached and shown escaped.
    // (A "/" would end the name: only the last path component is kept.)
    let name = "<img src=x onerror=alert(1)> & 'q'.pdf";
    let r = console_upload(&a, id, &[("_csrf", &csrf)], name, &pdf())
        .await
        .expect(303);
    let to = location(&r);
    assert!(
        to.starts_with(&format!("/console/incidents/{id}?attached=")),
        "{to}"
    );
    let to = to.split('#').next().unwrap();
    let body = page(a.get(to).await, 200);
    assert!(body.contains("id=\"attached\""), "{body}");
    let list = f.store.list_attachments(IncidentId(id)).await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(
        body.contains(&format!(
            "href=\"/api/incidents/{id}/attachments/{}\"",
            list[0].id
        )),
        "{body}"
    );
    assert!(
        body.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &#39;q&#39;.pdf"),
        "{body}"
    );
    assert!(!body.contains("<img src=x"), "{body}");
    // A refused kind: the incident's page again, with the API's message.
    let r = console_upload(&a, id, &[("_csrf", &csrf)], "x.html", b"<html></html>").await;
    let body = page(r, 415);
    assert!(
        body.contains("banner error") && body.contains("image/jpeg"),
        "{body}"
    );
    assert_eq!(stored_files(f.data.path()).len(), 1);
    // Inspector B cannot reach A's incident through the console either.
    let b = logged_in(&f, "inspector_b").await;
    let b_csrf = b.csrf.clone().unwrap();
    let r = console_upload(&b, id, &[("_csrf", &b_csrf)], "b.pdf", b"%PDF-1.4 other").await;
    page(r, 404);
    assert_eq!(stored_files(f.data.path()).len(), 1);
}

async fn console_form_records_an_incident_and_reshows_errors(db: &TestDb) {
    let f = setup(db).await;
    let a = logged_in(&f, "inspector_a").await;
    let csrf = a.csrf.clone().unwrap();
    // Linked from the list for those who record incidents; not for analysts.
    let list = page(a.get("/console/incidents").await, 200);
    assert!(list.contains("href=\"/console/incidents/new\""), "{list}");
    let analyst = logged_in(&f, "analyst").await;
    let list = page(analyst.get("/console/incidents").await, 200);
    assert!(!list.contains("href=\"/console/incidents/new\""));
    page(analyst.get("/console/incidents/new").await, 403);

    let form = page(a.get("/console/incidents/new").await, 200);
    assert!(form.contains("id=\"new-incident\""), "{form}");
    // Inspector A's only mahalla is offered, chosen; B's is not; camera is no source to pick.
    assert!(
        form.contains(&format!("<option value=\"{}\" selected>", MAHALLA_A.0)),
        "{form}"
    );
    assert!(!form.contains(&format!("<option value=\"{}\"", MAHALLA_B.0)));
    assert!(!form.contains("<option value=\"camera\""));

    // Errors: each named, every value kept, nothing written.
    let before = f
        .store
        .list_incidents(&Scope::National, None, 100)
        .await
        .unwrap()
        .len();
    let a_id = MAHALLA_A.0.to_string();
    let b_id = MAHALLA_B.0.to_string();
    let bad = [
        ("_csrf", csrf.as_str()),
        ("category", ""),
        ("source", "patrol"),
        ("occurred_at", "last tuesday"),
        ("mahalla", a_id.as_str()),
        ("lat", "41.3"),
        ("lon", ""),
        ("affected_woman", "on"),
        ("narrative", HOSTILE),
    ];
    let body = page(a.post_form("/console/incidents/new", &bad).await, 400);
    assert_eq!(body.matches("banner error").count(), 3, "{body}");
    assert!(body.contains("no category was chosen"), "{body}");
    assert!(body.contains("last tuesday"), "{body}");
    assert!(body.contains("only one coordinate"), "{body}");
    assert!(
        body.contains("<option value=\"patrol\" selected>"),
        "{body}"
    );
    assert!(
        body.contains(
            "name=\"lat\" id=\"lat\" inputmode=\"decimal\" placeholder=\"41.3111\" value=\"41.3\""
        ),
        "{body}"
    );
    assert!(
        body.contains("id=\"affected_woman\" value=\"on\" checked"),
        "{body}"
    );
    assert!(
        body.contains(
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;</textarea>"
        ),
        "{body}"
    );
    // Another mahalla: the API's 403, on the form.
    let mut other = bad;
    other[1] = ("category", "theft");
    other[3] = ("occurred_at", "2024-05-01T09:30");
    other[4] = ("mahalla", &b_id);
    other[6] = ("lon", "69.25");
    let body = page(a.post_form("/console/incidents/new", &other).await, 403);
    assert!(body.contains("not within your scope"), "{body}");
    assert!(body.contains("id=\"new-incident\""), "the form again");
    // Without the CSRF token: refused.
    let mut no_csrf = other;
    no_csrf[0] = ("_csrf", "");
    no_csrf[4] = ("mahalla", "");
    page(a.post_form("/console/incidents/new", &no_csrf).await, 403);
    assert_eq!(
        f.store
            .list_incidents(&Scope::National, None, 100)
            .await
            .unwrap()
            .len(),
        before,
        "nothing written"
    );

    // A good form: recorded through the API's path, shown on its page.
    let mut good = other;
    good[4] = ("mahalla", &a_id);
    let r = a
        .post_form("/console/incidents/new", &good)
        .await
        .expect(303);
    let to = location(&r);
    let id: i64 = to
        .strip_prefix("/console/incidents/")
        .and_then(|s| s.strip_suffix("?created=1"))
        .unwrap_or_else(|| panic!("{to}"))
        .parse()
        .unwrap();
    let i = f.store.get_incident(IncidentId(id)).await.unwrap().unwrap();
    assert_eq!(i.category, domain::Category::Theft);
    assert_eq!(i.source, Source::Patrol);
    assert_eq!(i.mahalla, MAHALLA_A);
    assert_eq!(i.occurred_at.to_string(), "2024-05-01T04:30:00.000000Z");
    assert_eq!(
        i.point,
        Some(domain::GeoPoint {
            lat: 41.3,
            lon: 69.25
        })
    );
    assert!(i.affected.woman && !i.affected.minor && !i.affected.youth);
    assert_eq!(i.narrative, HOSTILE);
    let creates = audit_of(&f.store, "incident.create").await;
    assert_eq!(creates.last().unwrap()["target"], format!("incident:{id}"));
    let body = page(a.get(&to).await, 200);
    assert!(body.contains("id=\"recorded\""), "{body}");
}
