//! JPEG encoding of evidence images (RGB24 in, baseline JPEG out).
use crate::MediaError;
use vision::frame::ImageRef;

/// Encodes a packed RGB24 image as JPEG. `quality` is 1..=100 (85 is a good evidence default).
pub fn encode_rgb(img: ImageRef<'_>, quality: u8) -> Result<Vec<u8>, MediaError> {
    if !(1..=100).contains(&quality) {
        return Err(MediaError::Jpeg(format!(
            "quality {quality} is out of range; use 1..=100"
        )));
    }
    if img.width == 0
        || img.height == 0
        || img.width > u16::MAX as u32
        || img.height > u16::MAX as u32
    {
        return Err(MediaError::Jpeg(format!(
            "image size {}x{} cannot be encoded; width and height must be 1..=65535",
            img.width, img.height
        )));
    }
    let expected = img.width as usize * img.height as usize * 3;
    if img.data.len() != expected {
        return Err(MediaError::Jpeg(format!(
            "image {}x{} has {} bytes, expected {expected} (packed RGB24, 3 bytes a pixel)",
            img.width,
            img.height,
            img.data.len()
        )));
    }
    let mut out = Vec::with_capacity(expected / 8 + 1024);
    let encoder = jpeg_encoder::Encoder::new(&mut out, quality);
    encoder
        .encode(
            img.data,
            img.width as u16,
            img.height as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|e| {
            MediaError::Jpeg(format!(
                "encoding a {}x{} image failed: {e}",
                img.width, img.height
            ))
        })?;
    Ok(out)
}
