//! What a detector produces and the trait every backend implements.
use crate::frame::ImageRef;
use crate::geom::BBox;
use serde::{Deserialize, Serialize};

/// One object found in one frame, in that frame's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub bbox: BBox,
    pub score: f32,
    pub class_id: u32,
}

/// An object detector. Backends (ONNX Runtime, tract) live in the `infer` crate; the pipeline
/// only sees this trait, so tests can hand in a scripted detector.
pub trait Detector: Send {
    /// Detect objects in each image. Implementations run the model on the whole batch at once
    /// where they can. The result has one `Vec` per input, boxes in that input's pixels, after NMS.
    fn detect(&mut self, images: &[ImageRef<'_>]) -> Result<Vec<Vec<Detection>>, DetectError>;
    /// Class names, indexed by `Detection::class_id`.
    fn class_names(&self) -> &[String];
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DetectError(pub String);

/// An object the tracker follows, as seen in the current frame. This is what rules consume.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackedObject {
    /// Unique within one pipeline run; never reused.
    pub id: u64,
    pub bbox: BBox,
    pub score: f32,
    pub class_id: u32,
}
