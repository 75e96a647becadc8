//! Photos attached to incidents, redacted like camera evidence before anyone sees them: decoded
//! (JPEG or PNG), every face the face finder sees blurred with the same margin and blur as
//! camera evidence, written back as a JPEG. Writing it anew also drops what the file carried
//! besides its pixels (EXIF: the phone, the owner's name, often the place the photo was taken).
//!
//! A JPEG's EXIF orientation (how a phone held upright tags a picture stored sideways) is
//! applied to the pixels first, since the tag does not survive: the stored photo stands as the
//! sender saw it.
//!
//! Faces are searched at a scale that suits the picture: small pictures (CCTV stills, up to
//! [`SMALL_SIDE`] px on their longer side) are enlarged two times, as camera frames are, so
//! faces of 8-10 px are found; large photos are searched at most [`SEARCH_SIDE`] px on their
//! longer side, where faces that matter are large.
use pipeline::FaceFinder;
use vision::frame::Image;
use vision::redact::{DEFAULT_STRENGTH, blur_regions, redaction_regions};

/// Longer side up to which a picture is searched enlarged two times.
pub const SMALL_SIDE: u32 = 1000;
/// The longest side a large photo is searched at.
pub const SEARCH_SIDE: u32 = 1600;
/// The most pixels a photo may have (a small file can claim a huge picture).
pub const MAX_PIXELS: u64 = 50_000_000;
/// JPEG quality of the redacted photo: camera evidence's default (4:2:0 chroma, as phones write).
const QUALITY: u8 = 85;

/// A photo with its faces blurred.
#[derive(Debug, Clone)]
pub struct RedactedPhoto {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Faces found and blurred.
    pub faces: usize,
}

/// Why a photo could not be redacted: the file is not a picture that can be read (the sender's
/// to fix), or the face finder failed (the server's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoError {
    Unreadable(String),
    Redaction(String),
}

impl std::fmt::Display for PhotoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PhotoError::Unreadable(m) => write!(f, "the picture cannot be read: {m}"),
            PhotoError::Redaction(m) => write!(f, "faces could not be searched: {m}"),
        }
    }
}

impl std::error::Error for PhotoError {}

fn unreadable(m: impl std::fmt::Display) -> PhotoError {
    PhotoError::Unreadable(m.to_string())
}

/// The scale the face finder searches a `w` x `h` picture at.
pub fn search_scale(w: u32, h: u32) -> f32 {
    let long = w.max(h).max(1);
    if long <= SMALL_SIDE {
        2.0
    } else {
        (SEARCH_SIDE as f32 / long as f32).min(1.0)
    }
}

/// Decodes `bytes` (JPEG or PNG, told from their first bytes) into packed RGB.
pub fn decode(bytes: &[u8]) -> Result<Image, PhotoError> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        decode_jpeg(bytes)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        decode_png(bytes)
    } else {
        Err(unreadable("it is neither a JPEG nor a PNG"))
    }
}

fn check_size(w: u32, h: u32) -> Result<(), PhotoError> {
    if w == 0 || h == 0 {
        return Err(unreadable(format!("it is {w}x{h} pixels")));
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(unreadable(format!(
            "it is {w}x{h} pixels, more than the {MAX_PIXELS} accepted; scale it down first"
        )));
    }
    Ok(())
}

/// The EXIF orientation (1 to 8) a JPEG's APP1 segment gives, if any.
pub fn exif_orientation(jpeg: &[u8]) -> Option<u16> {
    let mut i = 2; // after SOI
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let marker = jpeg[i + 1];
        if marker == 0xDA || marker == 0xD9 {
            return None; // image data: no more metadata
        }
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        let seg = jpeg.get(i + 4..i + 2 + len)?;
        if marker == 0xE1 && seg.starts_with(b"Exif\0\0") {
            return tiff_orientation(&seg[6..]);
        }
        i += 2 + len;
    }
    None
}

/// Tag 0x0112 of IFD0 of a TIFF header.
fn tiff_orientation(t: &[u8]) -> Option<u16> {
    let be = match t.get(..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |o: usize| -> Option<u16> {
        let b = [*t.get(o)?, *t.get(o + 1)?];
        Some(if be {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |o: usize| -> Option<u32> {
        let b = [*t.get(o)?, *t.get(o + 1)?, *t.get(o + 2)?, *t.get(o + 3)?];
        Some(if be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    if u16_at(2)? != 42 {
        return None;
    }
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let n = usize::from(u16_at(ifd)?);
    (0..n)
        .map(|k| ifd + 2 + 12 * k)
        .find(|&e| u16_at(e) == Some(0x0112))
        .and_then(|e| u16_at(e + 8))
        .filter(|o| (1..=8).contains(o))
}

/// `img` as a viewer shows it under EXIF orientation `o` (1: as stored).
pub fn orient(img: Image, o: u16) -> Image {
    if !(2..=8).contains(&o) {
        return img;
    }
    let (w, h) = (img.width as usize, img.height as usize);
    let (ow, oh) = if o >= 5 { (h, w) } else { (w, h) };
    let mut data = vec![0u8; w * h * 3];
    for y in 0..oh {
        for x in 0..ow {
            // The stored pixel that lands at (x, y).
            let (sx, sy) = match o {
                2 => (w - 1 - x, y),
                3 => (w - 1 - x, h - 1 - y),
                4 => (x, h - 1 - y),
                5 => (y, x),
                6 => (y, h - 1 - x),
                7 => (w - 1 - y, h - 1 - x),
                _ => (w - 1 - y, x),
            };
            let (d, s) = ((y * ow + x) * 3, (sy * w + sx) * 3);
            data[d..d + 3].copy_from_slice(&img.data[s..s + 3]);
        }
    }
    Image {
        width: ow as u32,
        height: oh as u32,
        data,
    }
}

fn decode_jpeg(bytes: &[u8]) -> Result<Image, PhotoError> {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    d.read_info().map_err(unreadable)?;
    let info = d.info().ok_or_else(|| unreadable("no JPEG header"))?;
    check_size(u32::from(info.width), u32::from(info.height))?;
    let px = d.decode().map_err(unreadable)?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let n = w as usize * h as usize;
    let data = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => px,
        jpeg_decoder::PixelFormat::L8 => px.iter().flat_map(|&v| [v, v, v]).collect(),
        jpeg_decoder::PixelFormat::L16 => px
            .chunks_exact(2)
            .flat_map(|c| [c[0], c[0], c[0]])
            .collect(),
        jpeg_decoder::PixelFormat::CMYK32 => px
            .chunks_exact(4)
            .flat_map(|c| {
                // Adobe CMYK JPEGs are stored inverted: the decoder gives 255 - ink.
                let k = u16::from(c[3]);
                [0, 1, 2].map(|i| (u16::from(c[i]) * k / 255) as u8)
            })
            .collect(),
    };
    if data.len() != n * 3 {
        return Err(unreadable("the JPEG's pixel data is incomplete"));
    }
    let img = Image {
        width: w,
        height: h,
        data,
    };
    Ok(orient(img, exif_orientation(bytes).unwrap_or(1)))
}

fn decode_png(bytes: &[u8]) -> Result<Image, PhotoError> {
    let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
    // Palettes and bit depths under 8 expanded, 16 bits cut to 8.
    d.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = d.read_info().map_err(unreadable)?;
    {
        let i = reader.info();
        check_size(i.width, i.height)?;
    }
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).map_err(unreadable)?;
    let (w, h) = (frame.width, frame.height);
    let px = &buf[..frame.buffer_size()];
    // Transparent pixels are put on white, as a viewer shows them.
    let over_white =
        |v: u8, a: u8| ((u16::from(v) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
    let data: Vec<u8> = match frame.color_type {
        png::ColorType::Rgb => px.to_vec(),
        png::ColorType::Rgba => px
            .chunks_exact(4)
            .flat_map(|c| [0, 1, 2].map(|i| over_white(c[i], c[3])))
            .collect(),
        png::ColorType::Grayscale => px.iter().flat_map(|&v| [v, v, v]).collect(),
        png::ColorType::GrayscaleAlpha => px
            .chunks_exact(2)
            .flat_map(|c| {
                let v = over_white(c[0], c[1]);
                [v, v, v]
            })
            .collect(),
        png::ColorType::Indexed => {
            return Err(unreadable("an indexed PNG was not expanded"));
        }
    };
    if data.len() != w as usize * h as usize * 3 {
        return Err(unreadable("the PNG's pixel data is incomplete"));
    }
    Ok(Image {
        width: w,
        height: h,
        data,
    })
}

/// Decodes `bytes`, blurs every face `faces` finds, and encodes the result as a JPEG.
pub fn redact_photo(bytes: &[u8], faces: &mut dyn FaceFinder) -> Result<RedactedPhoto, PhotoError> {
    let mut img = decode(bytes)?;
    let found = faces
        .faces(img.as_ref(), search_scale(img.width, img.height))
        .map_err(PhotoError::Redaction)?;
    blur_regions(&mut img, &redaction_regions(&[], &found), DEFAULT_STRENGTH);
    let jpeg = media::jpeg::encode_rgb(img.as_ref(), QUALITY)
        .map_err(|e| PhotoError::Redaction(format!("encoding the redacted photo: {e}")))?;
    Ok(RedactedPhoto {
        jpeg,
        width: img.width,
        height: img.height,
        faces: found.len(),
    })
}

/// One face finder shared by the server's request threads: one search at a time (a photo takes
/// a fraction of a second; uploads are rare next to camera frames).
pub struct Photos(std::sync::Mutex<Box<dyn FaceFinder>>);

impl Photos {
    pub fn new(faces: Box<dyn FaceFinder>) -> Photos {
        Photos(std::sync::Mutex::new(faces))
    }

    /// [`redact_photo`] with the shared face finder.
    pub fn redact(&self, bytes: &[u8]) -> Result<RedactedPhoto, PhotoError> {
        let mut f = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        redact_photo(bytes, f.as_mut())
    }
}

#[cfg(test)]
mod tests {
    use vision::frame::ImageRef;
    use vision::geom::BBox;

    use super::*;

    /// Finds one face where it is told, and remembers the scale it was asked at.
    struct OneFace(BBox, Option<f32>);

    impl FaceFinder for OneFace {
        fn faces(&mut self, _: ImageRef<'_>, upscale: f32) -> Result<Vec<BBox>, String> {
            self.1 = Some(upscale);
            Ok(vec![self.0])
        }
    }

    fn checkerboard(w: u32, h: u32) -> Image {
        let data = (0..h)
            .flat_map(|y| (0..w).map(move |x| if (x / 2 + y / 2) % 2 == 0 { 250 } else { 5 }))
            .flat_map(|v| [v, v, v])
            .collect();
        Image {
            width: w,
            height: h,
            data,
        }
    }

    fn png_of(img: &Image, color: png::ColorType) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut e = png::Encoder::new(&mut out, img.width, img.height);
            e.set_color(color);
            e.set_depth(png::BitDepth::Eight);
            let mut w = e.write_header().unwrap();
            let data: Vec<u8> = match color {
                png::ColorType::Rgba => img
                    .data
                    .chunks_exact(3)
                    .flat_map(|c| [c[0], c[1], c[2], 255])
                    .collect(),
                png::ColorType::Grayscale => img.data.chunks_exact(3).map(|c| c[0]).collect(),
                _ => img.data.clone(),
            };
            w.write_image_data(&data).unwrap();
        }
        out
    }

    /// Mean absolute difference between neighbours in a box: detail, which a blur removes.
    fn detail(img: &Image, b: (u32, u32, u32, u32)) -> f64 {
        let (x1, y1, x2, y2) = b;
        let mut sum = 0.0;
        let mut n = 0.0;
        for y in y1..y2 {
            for x in x1..x2 - 1 {
                let i = ((y * img.width + x) * 3) as usize;
                sum += f64::from(img.data[i].abs_diff(img.data[i + 3]));
                n += 1.0;
            }
        }
        sum / n
    }

    #[test]
    fn a_face_is_blurred_and_the_rest_kept() {
        let img = checkerboard(320, 240);
        for (what, bytes) in [
            ("jpeg", media::jpeg::encode_rgb(img.as_ref(), 95).unwrap()),
            ("png rgb", png_of(&img, png::ColorType::Rgb)),
            ("png rgba", png_of(&img, png::ColorType::Rgba)),
            ("png gray", png_of(&img, png::ColorType::Grayscale)),
        ] {
            let mut f = OneFace(BBox::new(100.0, 60.0, 160.0, 140.0), None);
            let r = redact_photo(&bytes, &mut f).unwrap();
            assert_eq!((r.width, r.height, r.faces), (320, 240, 1), "{what}");
            assert_eq!(
                f.1,
                Some(2.0),
                "{what}: a small picture is searched enlarged"
            );
            let out = decode(&r.jpeg).unwrap();
            let face = detail(&out, (110, 70, 150, 130));
            let away = detail(&out, (10, 10, 60, 60));
            assert!(face < 20.0, "{what}: the face keeps its detail ({face})");
            assert!(away > 80.0, "{what}: the rest lost its detail ({away})");
        }
    }

    /// A JPEG of `img` carrying EXIF orientation `o` (big- or little-endian TIFF).
    fn jpeg_with_orientation(img: &Image, o: u16, big_endian: bool) -> Vec<u8> {
        let mut exif = b"Exif\0\0".to_vec();
        type Put16 = fn(u16) -> [u8; 2];
        type Put32 = fn(u32) -> [u8; 4];
        let (w16, w32): (Put16, Put32) = if big_endian {
            exif.extend_from_slice(b"MM");
            (u16::to_be_bytes, u32::to_be_bytes)
        } else {
            exif.extend_from_slice(b"II");
            (u16::to_le_bytes, u32::to_le_bytes)
        };
        exif.extend_from_slice(&w16(42));
        exif.extend_from_slice(&w32(8));
        exif.extend_from_slice(&w16(2)); // two entries: another tag first
        for (tag, value) in [(0x010F_u16, 0_u16), (0x0112, o)] {
            exif.extend_from_slice(&w16(tag));
            exif.extend_from_slice(&w16(3)); // SHORT
            exif.extend_from_slice(&w32(1));
            exif.extend_from_slice(&w16(value));
            exif.extend_from_slice(&[0, 0]);
        }
        exif.extend_from_slice(&w32(0));
        let mut out = Vec::new();
        let mut e = jpeg_encoder::Encoder::new(&mut out, 95);
        e.add_app_segment(1, &exif).unwrap();
        e.encode(
            &img.data,
            img.width as u16,
            img.height as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
        out
    }

    #[test]
    fn exif_orientation_is_applied() {
        // 40 x 20, white with a black 10 x 10 block in the top-left corner.
        let (w, h) = (40u32, 20u32);
        let data = (0..h)
            .flat_map(|y| (0..w).map(move |x| if x < 10 && y < 10 { 0 } else { 255 }))
            .flat_map(|v| [v, v, v])
            .collect();
        let img = Image {
            width: w,
            height: h,
            data,
        };
        let dark = |i: &Image, x: u32, y: u32| i.data[((y * i.width + x) * 3) as usize] < 60;
        // Where the block's centre lands under each orientation, and the size.
        for (o, size, at) in [
            (1, (40, 20), (5, 5)),
            (2, (40, 20), (34, 5)),
            (3, (40, 20), (34, 14)),
            (4, (40, 20), (5, 14)),
            (5, (20, 40), (5, 5)),
            (6, (20, 40), (14, 5)),
            (7, (20, 40), (14, 34)),
            (8, (20, 40), (5, 34)),
        ] {
            for be in [true, false] {
                let jpeg = jpeg_with_orientation(&img, o, be);
                assert_eq!(exif_orientation(&jpeg), Some(o));
                let d = decode(&jpeg).unwrap();
                assert_eq!((d.width, d.height), size, "orientation {o}");
                assert!(dark(&d, at.0, at.1), "orientation {o}: block not at {at:?}");
                let n = (0..d.height)
                    .flat_map(|y| (0..d.width).map(move |x| (x, y)))
                    .filter(|&(x, y)| dark(&d, x, y))
                    .count();
                assert!((80..=120).contains(&n), "orientation {o}: {n} dark pixels");
            }
        }
        let plain = media::jpeg::encode_rgb(img.as_ref(), 90).unwrap();
        assert_eq!(exif_orientation(&plain), None);
        assert_eq!(exif_orientation(b"\xFF\xD8\xFF\xE1\x00"), None, "truncated");
    }

    #[test]
    fn large_photos_are_searched_at_a_bounded_size() {
        assert_eq!(search_scale(640, 480), 2.0);
        assert_eq!(search_scale(1000, 800), 2.0);
        assert_eq!(search_scale(1600, 1200), 1.0);
        assert!((search_scale(4000, 3000) - 0.4).abs() < 1e-6);
        assert!((search_scale(3000, 4000) - 0.4).abs() < 1e-6);
    }

    #[test]
    fn what_is_not_a_picture_is_named() {
        let mut f = OneFace(BBox::new(0.0, 0.0, 1.0, 1.0), None);
        let e = redact_photo(b"%PDF-1.7 not a photo", &mut f).unwrap_err();
        assert_eq!(
            e,
            PhotoError::Unreadable("it is neither a JPEG nor a PNG".into())
        );
        let img = checkerboard(64, 48);
        let jpeg = media::jpeg::encode_rgb(img.as_ref(), 90).unwrap();
        let e = redact_photo(&jpeg[..jpeg.len() / 3], &mut f).unwrap_err();
        assert!(matches!(e, PhotoError::Unreadable(_)), "{e:?}");
        let png = png_of(&img, png::ColorType::Rgb);
        let e = redact_photo(&png[..png.len() / 2], &mut f).unwrap_err();
        assert!(matches!(e, PhotoError::Unreadable(_)), "{e:?}");
        assert!(f.1.is_none(), "nothing was searched");
    }

    #[test]
    fn a_failing_face_finder_is_not_taken_for_no_faces() {
        struct Broken;
        impl FaceFinder for Broken {
            fn faces(&mut self, _: ImageRef<'_>, _: f32) -> Result<Vec<BBox>, String> {
                Err("model not loaded".into())
            }
        }
        let img = checkerboard(64, 48);
        let jpeg = media::jpeg::encode_rgb(img.as_ref(), 90).unwrap();
        assert_eq!(
            redact_photo(&jpeg, &mut Broken).unwrap_err(),
            PhotoError::Redaction("model not loaded".into())
        );
    }
}
