//! A photo attached to an incident over HTTP, with the real face model plugged in as
//! `posbon serve` plugs it (crates/cli/src/photos.rs): a still of vtest.avi goes in, the
//! served file has its faces blurred, the sealed original opens with the evidence key only,
//! the audit entry names both hashes, and a picture that cannot be read is refused with 400.
#[path = "../../server/tests/common/mod.rs"]
mod common;
#[path = "../src/photos.rs"]
mod photos;
#[path = "../../workers/tests/still/mod.rs"]
mod still;

use std::sync::Arc;

use common::{Client, TestDb, TestServer, multipart, multipart_type};
use domain::{NewUser, Role, Scope};
use serde_json::{Value, json};
use server::demo::MAHALLA_A;
use sha2::{Digest, Sha256};
use still::vtest_still;
use workers::Engine;

const PASSWORD: &str = "correct horse battery staple";

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

async fn upload(c: &Client, incident: i64, name: &str, bytes: &[u8]) -> common::Resp {
    let body = multipart(&[], Some((name, bytes)));
    let ct = multipart_type();
    let csrf = c.csrf.clone().unwrap_or_default();
    c.raw(
        "POST",
        &format!("/api/incidents/{incident}/attachments"),
        &[
            ("Content-Type", ct.as_str()),
            ("X-CSRF-Token", csrf.as_str()),
        ],
        Some(&body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_is_stored_with_its_faces_blurred() {
    let db = TestDb::sqlite().await;
    server::demo::seed_geography(&db.store).await.unwrap();
    db.store
        .create_user(&NewUser {
            username: "inspector_a".into(),
            display_name: "inspector_a".into(),
            password_hash: server::auth::hash_password(PASSWORD).unwrap(),
            role: Role::Inspector,
            scope: Scope::Mahalla(MAHALLA_A),
        })
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let key_path = data.path().join("evidence.key");
    seal::SealKey::generate().unwrap().save(&key_path).unwrap();
    let config = server::Config {
        data_dir: data.path().to_path_buf(),
        evidence_key: Some(key_path.clone()),
        ..server::Config::default()
    };
    let engine =
        workers::OnnxEngine::new(data.path(), infer::InferConfig::default().with_threads(2));
    let photos = photos::FacePhotos(workers::photo::Photos::new(engine.faces().unwrap()));
    let state = server::AppState::new(db.store.clone(), &config)
        .unwrap()
        .with_photos(Arc::new(photos));
    let server = TestServer::start_with(state).await;
    let mut c = server.client();
    c.login("inspector_a", PASSWORD).await.expect(200);
    let id = c
        .post(
            "/api/incidents",
            &json!({
                "category": "public_order", "source": "inspector",
                "occurred_at": "2026-11-20T18:30:00Z", "mahalla": MAHALLA_A.0,
                "narrative": "crowd at the square; photo from the inspector's phone",
            }),
        )
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap();

    let still = vtest_still();
    let r: Value = upload(&c, id, "square.jpg", &still)
        .await
        .expect(201)
        .json();
    let faces = r["redaction"]["faces_blurred"].as_u64().unwrap();
    assert!(faces >= 2, "the still shows at least two faces: {r}");
    assert_eq!(r["redaction"]["original_sha256"], sha256(&still));
    assert_eq!(r["redaction"]["original_sealed"], true);
    let served = c.get(r["url"].as_str().unwrap()).await.expect(200).body;
    assert_ne!(served, still, "the photo as sent is never served");
    assert_eq!(sha256(&served), r["sha256"].as_str().unwrap());
    let (a, b) = (
        workers::photo::decode(&still).unwrap(),
        workers::photo::decode(&served).unwrap(),
    );
    assert_eq!((a.width, a.height), (b.width, b.height));

    // The original opens with the key, and only from its own file name.
    let sealed = data.path().join(format!(
        "attachments/incident-{id}/{}.original",
        r["sha256"].as_str().unwrap()
    ));
    let key = seal::SealKey::load(&key_path).unwrap();
    assert_eq!(key.open_file(&sealed).unwrap(), still);
    assert!(
        key.open("other.original", &std::fs::read(&sealed).unwrap())
            .is_err()
    );

    // The audit entry names the redacted file and the original.
    let adds: Vec<Value> = db
        .store
        .audit_entries(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entry.action == "incident.attachment_add")
        .map(|e| e.entry.details)
        .collect();
    assert_eq!(adds.len(), 1);
    assert_eq!(adds[0]["sha256"], r["sha256"]);
    assert_eq!(adds[0]["redaction"]["original_sha256"], sha256(&still));

    // A JPEG header with nothing after it: 400, nothing stored.
    let e = upload(&c, id, "broken.jpg", &still[..200])
        .await
        .expect_error(400);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .starts_with("the photo cannot be read"),
        "{e}"
    );
    let list = db
        .store
        .list_attachments(domain::IncidentId(id))
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
}
