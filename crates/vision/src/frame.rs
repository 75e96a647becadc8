//! A decoded frame, RGB24, as it enters the pipeline.
use crate::clock::Timestamp;

/// One decoded picture. `data` is packed RGB24, `width * height * 3` bytes, rows top to bottom.
#[derive(Debug, Clone)]
pub struct Frame {
    /// 0-based index of the frame within its source (after a reconnect the index keeps counting).
    pub index: u64,
    /// Presentation time in seconds from the start of the source.
    pub pts: f64,
    /// Absolute time, from the pipeline's [`crate::clock::Clock`].
    pub time: Timestamp,
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl Frame {
    pub fn image(&self) -> ImageRef<'_> {
        ImageRef {
            width: self.width,
            height: self.height,
            data: &self.data,
        }
    }
}

/// A borrowed packed RGB24 image.
#[derive(Debug, Clone, Copy)]
pub struct ImageRef<'a> {
    pub width: u32,
    pub height: u32,
    pub data: &'a [u8],
}

/// An owned packed RGB24 image (evidence, crops).
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl Image {
    pub fn as_ref(&self) -> ImageRef<'_> {
        ImageRef {
            width: self.width,
            height: self.height,
            data: &self.data,
        }
    }
}
