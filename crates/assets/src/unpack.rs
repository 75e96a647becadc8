//! Taking files out of a downloaded package, hashing them while they are written.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::error::{AssetError, tail};
use crate::manifest::{FileEntry, Package};

/// A file written into the temporary directory, with what it really is.
#[derive(Debug)]
pub(crate) struct Extracted {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
}

/// Extract `wanted` from the package at `package_path` into `out_dir/<to>`; keyed by `to`.
pub(crate) fn extract(
    pkg: &Package,
    package_path: &Path,
    wanted: &[&FileEntry],
    out_dir: &Path,
) -> Result<HashMap<String, Extracted>, AssetError> {
    let name = package_path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bad = |message: String| AssetError::BadPackage {
        package: pkg.label(),
        file: package_path.to_path_buf(),
        message,
    };
    if package_path.is_dir() {
        let mut out = HashMap::new();
        for f in wanted {
            let src = package_path.join(normalise(&f.from));
            match File::open(&src) {
                Ok(mut r) if src.is_file() => {
                    out.insert(f.to.clone(), write_hashed(&mut r, &out_dir.join(&f.to))?);
                }
                Ok(_) => return Err(missing(pkg, f, &[])),
                Err(e) if e.kind() == ErrorKind::NotFound => return Err(missing(pkg, f, &[])),
                Err(e) => return Err(AssetError::io("cannot read", src, e)),
            }
        }
        Ok(out)
    } else if name.ends_with(".whl") || name.ends_with(".zip") {
        let file =
            File::open(package_path).map_err(|e| AssetError::io("cannot open", package_path, e))?;
        let mut zip =
            zip::ZipArchive::new(file).map_err(|e| bad(format!("not a valid zip file: {e}")))?;
        let names: Vec<String> = zip
            .file_names()
            .filter_map(Result::ok)
            .map(|n| n.into_owned())
            .collect();
        let mut out = HashMap::new();
        for f in wanted {
            let mut entry = match zip.by_name(normalise(&f.from)) {
                Ok(e) if e.is_file() => e,
                Ok(_) | Err(zip::result::ZipError::FileNotFound) => {
                    return Err(missing(pkg, f, &names));
                }
                Err(e) => return Err(bad(format!("cannot read {}: {e}", f.from))),
            };
            out.insert(
                f.to.clone(),
                write_hashed(&mut entry, &out_dir.join(&f.to))?,
            );
        }
        Ok(out)
    } else if name.ends_with(".tgz") || name.ends_with(".tar.gz") {
        let file =
            File::open(package_path).map_err(|e| AssetError::io("cannot open", package_path, e))?;
        from_tar(pkg, flate2::read::GzDecoder::new(file), wanted, out_dir).map_err(|e| match e {
            TarError::Asset(a) => *a,
            TarError::Read(m) => bad(m),
        })
    } else if name.ends_with(".tar") {
        let file =
            File::open(package_path).map_err(|e| AssetError::io("cannot open", package_path, e))?;
        from_tar(pkg, file, wanted, out_dir).map_err(|e| match e {
            TarError::Asset(a) => *a,
            TarError::Read(m) => bad(m),
        })
    } else if name.ends_with(".deb") {
        from_deb(pkg, package_path, wanted, out_dir)
    } else {
        Err(bad(
            "unknown package format (expected .whl, .zip, .tgz, .tar.gz, .tar or .deb)".into(),
        ))
    }
}

enum TarError {
    Asset(Box<AssetError>),
    Read(String),
}

fn from_tar<R: Read>(
    pkg: &Package,
    reader: R,
    wanted: &[&FileEntry],
    out_dir: &Path,
) -> Result<HashMap<String, Extracted>, TarError> {
    let mut archive = tar::Archive::new(reader);
    let mut out = HashMap::new();
    let mut names = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| TarError::Read(format!("not a valid tar stream: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| TarError::Read(format!("broken tar entry: {e}")))?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = normalise(&path).to_string();
        if entry.header().entry_type().is_file() {
            for f in wanted.iter().filter(|f| normalise(&f.from) == path) {
                let x = write_hashed(&mut entry, &out_dir.join(&f.to))
                    .map_err(|e| TarError::Asset(Box::new(e)))?;
                out.insert(f.to.clone(), x);
            }
        }
        names.push(path);
    }
    if let Some(f) = wanted.iter().find(|f| !out.contains_key(&f.to)) {
        return Err(TarError::Asset(Box::new(missing(pkg, f, &names))));
    }
    Ok(out)
}

fn from_deb(
    pkg: &Package,
    deb: &Path,
    wanted: &[&FileEntry],
    out_dir: &Path,
) -> Result<HashMap<String, Extracted>, AssetError> {
    let mut child = match Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(AssetError::ClientMissing {
                client: "dpkg-deb".into(),
                package: pkg.label(),
                install: "dpkg (Debian: `apt-get install dpkg`)".into(),
            });
        }
        Err(e) => return Err(AssetError::io("cannot run dpkg-deb on", deb, e)),
    };
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let result = from_tar(pkg, &mut stdout, wanted, out_dir);
    let _ = io::copy(&mut stdout, &mut io::sink());
    drop(stdout);
    let status = child
        .wait()
        .map_err(|e| AssetError::io("cannot wait for dpkg-deb on", deb, e))?;
    let err_text = err_reader.join().unwrap_or_default();
    let bad = |message: String| AssetError::BadPackage {
        package: pkg.label(),
        file: deb.to_path_buf(),
        message,
    };
    if !status.success() {
        return Err(bad(format!(
            "`dpkg-deb --fsys-tarfile` failed ({status}):\n{}",
            tail(&err_text, 8)
        )));
    }
    result.map_err(|e| match e {
        TarError::Asset(a) => *a,
        TarError::Read(m) => bad(m),
    })
}

/// `./usr/share/x` and `/usr/share/x` name the same file as `usr/share/x`.
fn normalise(path: &str) -> &str {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            return p;
        }
    }
}

fn missing(pkg: &Package, f: &FileEntry, names: &[String]) -> AssetError {
    let base = f.from.rsplit('/').next().unwrap_or(&f.from);
    let similar: Vec<&str> = names
        .iter()
        .filter(|n| n.rsplit('/').next() == Some(base) && !n.ends_with('/'))
        .map(String::as_str)
        .take(5)
        .collect();
    let similar = if similar.is_empty() {
        String::new()
    } else {
        format!(" (it has {})", similar.join(", "))
    };
    AssetError::MissingInPackage {
        package: pkg.label(),
        path: f.from.clone(),
        similar,
    }
}

/// Copy `reader` into a new file at `dest`, hashing on the way, and flush it to disk.
pub(crate) fn write_hashed(reader: &mut dyn Read, dest: &Path) -> Result<Extracted, AssetError> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| AssetError::io("cannot create", parent, e))?;
    }
    let mut file = File::create(dest).map_err(|e| AssetError::io("cannot create", dest, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(AssetError::io("cannot read the package data for", dest, e)),
        };
        hasher.update(&buf[..n]);
        file.write_all(&buf[..n])
            .map_err(|e| AssetError::io("cannot write", dest, e))?;
        size += n as u64;
    }
    file.sync_all()
        .map_err(|e| AssetError::io("cannot flush", dest, e))?;
    Ok(Extracted {
        path: dest.to_path_buf(),
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// sha256 and size of a file.
pub(crate) fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}
