//! Backend choice, threads, and where the shared library and assets live.
use std::path::PathBuf;

/// Which inference engine runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// ONNX Runtime through `ort`, loading `libonnxruntime.so` at run time.
    #[default]
    Ort,
    /// `tract-onnx`, pure Rust (build with `--features tract`).
    Tract,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Ort => "ort",
            Backend::Tract => "tract",
        })
    }
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ort" | "onnxruntime" => Ok(Backend::Ort),
            "tract" => Ok(Backend::Tract),
            _ => Err(format!(
                "unknown inference backend `{s}`: use `ort` or `tract`"
            )),
        }
    }
}

/// The ONNX Runtime library file name inside the asset cache.
pub const ORT_LIB_REL: &str = "onnxruntime/libonnxruntime.so.1.31.1";

#[derive(Debug, Clone, PartialEq)]
pub struct InferConfig {
    pub backend: Backend,
    /// Threads one inference may use (ONNX Runtime intra-op threads; tract's matmul pool).
    pub threads: usize,
    /// ONNX Runtime's shared library. `None`: env `POSBON_ORT_LIB`, else
    /// `<asset root>/onnxruntime/libonnxruntime.so.1.31.1`.
    pub ort_lib: Option<PathBuf>,
}

impl Default for InferConfig {
    fn default() -> Self {
        InferConfig {
            backend: Backend::Ort,
            threads: 1,
            ort_lib: None,
        }
    }
}

impl InferConfig {
    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The ONNX Runtime library this config loads.
    pub fn ort_lib_path(&self) -> PathBuf {
        if let Some(p) = &self.ort_lib {
            return p.clone();
        }
        if let Some(p) = std::env::var_os("POSBON_ORT_LIB").filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
        asset_root().join(ORT_LIB_REL)
    }
}

/// The asset cache root, as the fetcher that fills it defines it (one definition, so the two can
/// never look in different places).
pub use assets::asset_root;
