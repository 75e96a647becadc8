//! Errors that say what was wrong and what to do.
use std::path::PathBuf;

use crate::config::Backend;

#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error(transparent)]
    Description(#[from] vision::model::ModelError),

    #[error("model file {path}: {problem}. Fix: {fix}")]
    ModelFile {
        path: PathBuf,
        problem: String,
        fix: String,
    },

    #[error(
        "model file {path} does not match its description {description}: {problem}. Fix: {fix}"
    )]
    Mismatch {
        path: PathBuf,
        description: PathBuf,
        problem: String,
        fix: String,
    },

    #[error(
        "cannot load ONNX Runtime from {path}: {message}. Fix: run `posbon assets fetch`, or set POSBON_ORT_LIB to a libonnxruntime.so (1.23 to 1.32)"
    )]
    Runtime { path: PathBuf, message: String },

    #[error(
        "the `{0}` backend is not compiled into this build: rebuild with `--features {0}` or choose another backend"
    )]
    BackendUnavailable(Backend),

    #[error("running {path} on input {shape:?} failed: {message}")]
    Run {
        path: PathBuf,
        shape: Vec<usize>,
        message: String,
    },

    #[error("{path}: {message}")]
    Output { path: PathBuf, message: String },
}

impl From<InferError> for vision::detect::DetectError {
    fn from(e: InferError) -> Self {
        vision::detect::DetectError(e.to_string())
    }
}
