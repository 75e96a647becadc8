//! `posbon report` through the binary on an SQLite file: the same bytes as the server's code
//! path, audited as `system:cli` with their SHA-256; a bad period writes no file and no entry.
use std::path::Path;
use std::process::{Command, Output};

use domain::{
    Actor, Affected, Category, District, DistrictId, Mahalla, MahallaId, Names, NewIncident,
    Region, RegionId, Scope, Source,
};
use sha2::{Digest, Sha256};
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

/// A district of three mahallas with four incidents in 2025-Q3 and one in 2025-Q2.
fn database(dir: &Path) -> String {
    let url = format!("sqlite:{}", dir.join("posbon.db").display());
    rt().block_on(async {
        let s = Store::connect(&url).await.unwrap();
        let mahallas: Vec<Mahalla> = (0..3)
            .map(|i| Mahalla {
                id: MahallaId(10 + i),
                district: DistrictId(5),
                names: Names::uz(format!("Mahalla {i}")),
                population: Some(2000),
                geometry: None,
                synthetic: false,
            })
            .collect();
        s.import_geography(
            &[Region {
                id: RegionId(1),
                names: Names::uz("Viloyat"),
                geometry: None,
            }],
            &[District {
                id: DistrictId(5),
                region: RegionId(1),
                names: Names::uz("Tuman"),
                geometry: None,
            }],
            &mahallas,
        )
        .await
        .unwrap();
        for (at, m) in [
            ("2025-07-03T10:00:00+05:00", 10),
            ("2025-08-03T10:00:00+05:00", 10),
            ("2025-09-03T10:00:00+05:00", 11),
            ("2025-09-04T10:00:00+05:00", 11),
            ("2025-05-04T10:00:00+05:00", 12),
        ] {
            s.create_incident(
                &NewIncident {
                    category: Category::Theft,
                    source: Source::Public,
                    occurred_at: at.parse().unwrap(),
                    mahalla: MahallaId(m),
                    point: None,
                    affected: Affected::default(),
                    narrative: String::new(),
                    event: None,
                },
                &Actor::System("test".into()),
            )
            .await
            .unwrap();
        }
        s.close().await;
    });
    url
}

/// The `period_report.export` entries: (actor, sha256).
fn exports(url: &str) -> Vec<(String, String)> {
    rt().block_on(async {
        let s = Store::connect(url).await.unwrap();
        s.audit_verify(None).await.expect("the chain verifies");
        let v = s
            .audit_entries(None, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.entry.action == "period_report.export")
            .map(|r| {
                let sha = r.entry.details["sha256"].as_str().unwrap().to_owned();
                (r.entry.actor, sha)
            })
            .collect();
        s.close().await;
        v
    })
}

#[test]
fn the_report_is_written_audited_and_equal_to_the_servers() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    let out = dir.path().join("report.csv");
    let o = posbon(&[
        "report",
        "--database",
        &url,
        "--area",
        "district:5",
        "--period",
        "2025-Q3",
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&out).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains("\ncounts,incidents,all,4\n"), "{text}");
    assert!(
        text.contains("\ncounts,incidents_previous,source=public,1\n"),
        "{text}"
    );
    let sha = hex::encode(Sha256::digest(&bytes));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&sha));
    assert_eq!(exports(&url), vec![("system:cli".to_owned(), sha.clone())]);

    let server = rt().block_on(async {
        let s = Store::connect(&url).await.unwrap();
        let r = server::period_reports::produce(
            &s,
            &Scope::National,
            "district:5",
            "2025-Q3",
            "csv",
            s.now(),
        )
        .await
        .unwrap();
        s.close().await;
        r
    });
    assert_eq!(
        server.sha256, sha,
        "the CLI and the server make the same bytes"
    );
}

#[test]
fn a_bad_period_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    let out = dir.path().join("report.pdf");
    for (period, says) in [("2025-Q9", "is not a month"), ("2999-01", "in the future")] {
        let o = posbon(&[
            "report",
            "--database",
            &url,
            "--area",
            "district:5",
            "--period",
            period,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{err}");
        assert!(!out.exists());
    }
    assert!(exports(&url).is_empty());
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("report"))
        .collect();
    assert!(left.is_empty(), "no partial file left: {left:?}");
}
