//! A missing ONNX Runtime library gives an error that says how to get it. Its own test binary:
//! the library can be loaded only once per process.
#![cfg(feature = "ort")]
mod common;

use infer::{Backend, InferConfig, OnnxDetector};

#[test]
fn missing_runtime_library() {
    let cfg = InferConfig {
        backend: Backend::Ort,
        threads: 1,
        ort_lib: Some("/nonexistent/libonnxruntime.so.1.31.1".into()),
    };
    let e = OnnxDetector::load(&common::yolo_description(), &cfg)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/nonexistent/libonnxruntime.so.1.31.1")
            && e.contains("posbon assets fetch")
            && e.contains("POSBON_ORT_LIB"),
        "{e}"
    );
    // With the right library the same process then loads fine.
    let ok = InferConfig {
        ort_lib: None,
        ..cfg
    };
    OnnxDetector::load(&common::yolo_description(), &ok).unwrap();
}
