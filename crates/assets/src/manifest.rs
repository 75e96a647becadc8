//! The asset manifest: which registry packages to fetch and which files to take from each.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;

use crate::error::AssetError;

/// The manifest shipped in the repo (`crates/assets/manifest.toml`).
pub const BUILTIN_MANIFEST: &str = include_str!("../manifest.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registry {
    Pypi,
    Debian,
    Npm,
}

impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Registry::Pypi => "PyPI",
            Registry::Debian => "Debian",
            Registry::Npm => "npm",
        })
    }
}

/// One file taken from a package.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Path inside the package (`./` prefixes of Debian packages are ignored).
    pub from: String,
    /// Path in the cache, relative to the asset root.
    pub to: String,
    pub size: u64,
    pub sha256: String,
}

/// One package of one registry, at one exact version.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// Short name for `--only`.
    pub id: String,
    pub registry: Registry,
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub licence: Option<String>,
    /// pip `--python-version` (wheels with native code are per Python version).
    #[serde(default)]
    pub python_version: Option<String>,
    /// pip `--platform`.
    #[serde(default)]
    pub platform: Option<String>,
    /// `false` lets pip take an sdist (default: wheels only).
    #[serde(default = "yes")]
    pub binary: bool,
    /// The package file's own name, size and sha256, where the registry serves it unchanged.
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub sha256: Option<String>,
    pub files: Vec<FileEntry>,
}

fn yes() -> bool {
    true
}

impl Package {
    /// `PyPI onnxruntime==1.31.1`, `Debian opencv-doc=4.6.0+dfsg-12`, `npm datamaps@0.5.10`.
    pub fn label(&self) -> String {
        let sep = match self.registry {
            Registry::Pypi => "==",
            Registry::Debian => "=",
            Registry::Npm => "@",
        };
        format!(
            "{} package {}{}{}",
            self.registry, self.name, sep, self.version
        )
    }
}

/// A file made by a script in the repo from other cached files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derived {
    pub id: String,
    /// Output path in the cache.
    pub to: String,
    /// Script path relative to the repo root.
    pub script: String,
    /// Cache paths the output is made from (files of packages, or earlier derived files).
    pub inputs: Vec<String>,
    /// Arguments after the script; `{cache}` is the asset root, `{out}` the output path.
    pub args: Vec<String>,
    /// Program that runs the script (`python3` by default; env POSBON_PYTHON overrides `python3`).
    #[serde(default = "python3")]
    pub interpreter: String,
    /// pip requirements the script needs; installed with `pip install` when missing.
    #[serde(default)]
    pub python_packages: Vec<String>,
    /// Optional expected sha256 of the output (only where the output is known to be reproducible).
    #[serde(default)]
    pub sha256: Option<String>,
}

fn python3() -> String {
    "python3".to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default, rename = "package")]
    pub packages: Vec<Package>,
    #[serde(default)]
    pub derived: Vec<Derived>,
}

/// Where an asset comes from, for listing.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Package(&'a Package, &'a FileEntry),
    Derived(&'a Derived),
}

impl Manifest {
    /// The manifest compiled into the binary.
    pub fn builtin() -> Result<Manifest, AssetError> {
        Manifest::parse(BUILTIN_MANIFEST, "crates/assets/manifest.toml (built in)")
    }

    /// Parse and check a manifest; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Manifest, AssetError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start].matches('\n').count() + 1;
                    let col = s.start - text[..s.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!(" at line {line}:{col}")
                })
                .unwrap_or_default();
            AssetError::Manifest {
                origin: origin.to_string(),
                message: format!("{}{at}", e.message()),
            }
        })?;
        manifest.validate(origin)?;
        Ok(manifest)
    }

    fn validate(&self, origin: &str) -> Result<(), AssetError> {
        let bad = |message: String| AssetError::Manifest {
            origin: origin.to_string(),
            message,
        };
        let mut ids = HashSet::new();
        let mut outputs = HashSet::new();
        for p in &self.packages {
            if !ids.insert(p.id.as_str()) {
                return Err(bad(format!("id {:?} is used twice", p.id)));
            }
            if p.name.is_empty() || p.version.is_empty() {
                return Err(bad(format!(
                    "package {:?} needs a name and an exact version",
                    p.id
                )));
            }
            if let Some(s) = &p.sha256 {
                check_sha(s).map_err(|m| bad(format!("package {:?}: sha256 {m}", p.id)))?;
            }
            if p.files.is_empty() {
                return Err(bad(format!("package {:?} takes no files", p.id)));
            }
            for f in &p.files {
                check_rel(&f.to)
                    .map_err(|m| bad(format!("package {:?}: to = {:?}: {m}", p.id, f.to)))?;
                check_sha(&f.sha256)
                    .map_err(|m| bad(format!("package {:?}, file {:?}: sha256 {m}", p.id, f.to)))?;
                if f.from.is_empty() {
                    return Err(bad(format!(
                        "package {:?}: a file has an empty `from`",
                        p.id
                    )));
                }
                if !outputs.insert(f.to.as_str()) {
                    return Err(bad(format!("cache path {:?} is produced twice", f.to)));
                }
            }
        }
        for d in &self.derived {
            if !ids.insert(d.id.as_str()) {
                return Err(bad(format!("id {:?} is used twice", d.id)));
            }
            check_rel(&d.to)
                .map_err(|m| bad(format!("derived {:?}: to = {:?}: {m}", d.id, d.to)))?;
            if let Some(s) = &d.sha256 {
                check_sha(s).map_err(|m| bad(format!("derived {:?}: sha256 {m}", d.id)))?;
            }
            for input in &d.inputs {
                if !outputs.contains(input.as_str()) {
                    return Err(bad(format!(
                        "derived {:?}: input {input:?} is not produced by a package or an earlier derived entry",
                        d.id
                    )));
                }
            }
            if !d.args.iter().any(|a| a.contains("{out}")) {
                return Err(bad(format!(
                    "derived {:?}: no argument names the output {{out}}",
                    d.id
                )));
            }
            if !outputs.insert(d.to.as_str()) {
                return Err(bad(format!("cache path {:?} is produced twice", d.to)));
            }
        }
        Ok(())
    }

    /// Every cache path with its source, in manifest order.
    pub fn assets(&self) -> Vec<(&str, Source<'_>)> {
        let mut out = Vec::new();
        for p in &self.packages {
            for f in &p.files {
                out.push((f.to.as_str(), Source::Package(p, f)));
            }
        }
        for d in &self.derived {
            out.push((d.to.as_str(), Source::Derived(d)));
        }
        out
    }

    /// The entry that produces cache path `rel`.
    pub fn source_of(&self, rel: &str) -> Option<Source<'_>> {
        self.assets()
            .into_iter()
            .find(|(r, _)| *r == rel)
            .map(|(_, s)| s)
    }

    /// Resolve `--only` names (package id or name, derived id, cache path, or its top folder) to
    /// the cache paths they select, plus the inputs those need. Empty `names` selects everything.
    pub fn select(&self, names: &[String]) -> Result<HashSet<String>, AssetError> {
        let all = self.assets();
        if names.is_empty() {
            return Ok(all.iter().map(|(r, _)| r.to_string()).collect());
        }
        let mut chosen = HashSet::new();
        for name in names {
            let mut hit = false;
            for (rel, src) in &all {
                let top = rel.split('/').next().unwrap_or(rel);
                let id_match = match src {
                    Source::Package(p, _) => p.id == *name || p.name == *name,
                    Source::Derived(d) => d.id == *name,
                };
                if id_match || rel == name || top == name {
                    chosen.insert(rel.to_string());
                    hit = true;
                }
            }
            if !hit {
                let mut known: Vec<&str> = self.packages.iter().map(|p| p.id.as_str()).collect();
                known.extend(self.derived.iter().map(|d| d.id.as_str()));
                return Err(AssetError::UnknownName {
                    name: name.clone(),
                    known: known.join(", "),
                });
            }
        }
        // A derived file needs its inputs (which may themselves be derived).
        loop {
            let mut added = false;
            for d in &self.derived {
                if chosen.contains(&d.to) {
                    for i in &d.inputs {
                        added |= chosen.insert(i.clone());
                    }
                }
            }
            if !added {
                break;
            }
        }
        Ok(chosen)
    }
}

fn check_sha(s: &str) -> Result<(), String> {
    if s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(format!("{s:?} is not 64 lower-case hex digits"))
    }
}

fn check_rel(rel: &str) -> Result<(), String> {
    if rel.is_empty() || rel.starts_with('/') || rel.ends_with('/') {
        return Err("must be a relative file path".into());
    }
    if rel
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == ".." || c.starts_with(".tmp"))
    {
        return Err("must not contain empty, `.` or `..` parts".into());
    }
    Ok(())
}
