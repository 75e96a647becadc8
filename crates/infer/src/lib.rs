//! Detector backends: ONNX Runtime (through `ort`, loading `libonnxruntime.so` at run time) by
//! default, `tract` (pure Rust) behind the `tract` feature.
//!
//! - [`OnnxDetector`] runs any ONNX object detector described by a model description
//!   (`models/*.toml`, see [`vision::model`]) and implements [`vision::detect::Detector`].
//! - [`FaceDetector`] runs CenterFace to find faces to blur. posbon never recognises faces.
//!
//! Loading checks the ONNX file against its description (input name, shape and batch; output
//! name and shape) and says what differs and how to fix it.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod config;
pub mod detector;
pub mod engine;
pub mod error;
pub mod face;
#[cfg(feature = "ort")]
mod ort_backend;
#[cfg(feature = "tract")]
mod tract_backend;

pub use config::{Backend, InferConfig, asset_root};
pub use detector::OnnxDetector;
pub use error::InferError;
pub use face::FaceDetector;

/// The shipped default detector's description, relative to the repository root.
pub const DEFAULT_MODEL: &str = "models/yolov4-tiny-416.toml";
