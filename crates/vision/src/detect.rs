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
    /// Detect objects only inside `regions` (frame pixels) of `image`, at the scale a whole-frame
    /// run would use, boxes in the image's pixels after NMS. `Ok(None)` when this detector cannot
    /// (a model of one fixed input size) or when the regions are so large that the whole frame
    /// is cheaper: the caller then runs [`Detector::detect`] on the whole frame.
    fn detect_regions(
        &mut self,
        image: ImageRef<'_>,
        regions: &[BBox],
    ) -> Result<Option<RegionDetections>, DetectError> {
        let _ = (image, regions);
        Ok(None)
    }
    /// Whether [`Detector::detect_regions`] can ever answer; when not, frames with motion are
    /// batched for whole-frame runs instead.
    fn supports_regions(&self) -> bool {
        false
    }
}

/// What [`Detector::detect_regions`] found and where it looked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RegionDetections {
    pub detections: Vec<Detection>,
    /// The crops the detector saw (frame pixels): detections outside them are not new information.
    pub looked: Vec<BBox>,
    /// Model-input pixels processed, against `full_cost` for a whole-frame run.
    pub cost: u64,
    pub full_cost: u64,
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
