//! Evidence images: every one redacted before it is encoded; nothing unredacted is written.
use crate::PipelineError;
use std::path::{Path, PathBuf};
use vision::config::EvidenceSection;
use vision::event::Event;
use vision::frame::{Frame, Image, ImageRef};
use vision::geom::BBox;
use vision::redact;

/// Finds faces so they can be blurred. The binary plugs in CenterFace; tests plug in fakes.
pub trait FaceFinder: Send {
    /// Face boxes in `img`'s pixels; the image is enlarged by `upscale` first so small faces are found.
    fn faces(&mut self, img: ImageRef<'_>, upscale: f32) -> Result<Vec<BBox>, String>;
}

pub struct EvidenceWriter<F: FaceFinder> {
    root: PathBuf,
    dir: PathBuf,
    camera: String,
    cfg: EvidenceSection,
    faces: F,
    /// The last frame written, so several events of one frame share one image.
    last: Option<(u64, String)>,
    pub(crate) written: u64,
}

impl<F: FaceFinder> EvidenceWriter<F> {
    pub fn new(
        out: &Path,
        camera: &str,
        cfg: EvidenceSection,
        faces: F,
    ) -> Result<Self, PipelineError> {
        let dir = out.join("evidence");
        std::fs::create_dir_all(&dir).map_err(|source| PipelineError::Output {
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            root: out.to_path_buf(),
            dir,
            camera: camera.to_string(),
            cfg,
            faces,
            last: None,
            written: 0,
        })
    }

    /// Write the redacted frame (once per frame) and, if configured, a crop per event, and put
    /// their paths (relative to the output folder) into each event. `persons` are all person
    /// boxes in the frame: their heads are blurred whatever the face detector finds.
    pub fn attach(
        &mut self,
        frame: &Frame,
        persons: &[BBox],
        events: &mut [Event],
    ) -> Result<(), String> {
        let mut redacted: Option<Image> = None;
        let full = match &self.last {
            Some((idx, path)) if *idx == frame.index => path.clone(),
            _ => {
                let img = self.redact(frame, persons)?;
                let name = format!("{}-f{:06}.jpg", self.camera, frame.index);
                let mut boxed = img.clone();
                for ev in events.iter() {
                    for b in &ev.boxes {
                        draw_rect(&mut boxed, b, [255, 200, 0]);
                    }
                }
                self.write_jpeg(&name, &boxed)?;
                redacted = Some(img);
                let rel = format!("evidence/{name}");
                self.last = Some((frame.index, rel.clone()));
                rel
            }
        };
        for (i, ev) in events.iter_mut().enumerate() {
            ev.evidence.push(full.clone());
            if !self.cfg.crops || ev.boxes.is_empty() {
                continue;
            }
            let img = match &redacted {
                Some(img) => img,
                None => {
                    redacted = Some(self.redact(frame, persons)?);
                    redacted.as_ref().expect("just set")
                }
            };
            let union = ev.boxes.iter().skip(1).fold(ev.boxes[0], |u, b| {
                BBox::new(
                    u.x1.min(b.x1),
                    u.y1.min(b.y1),
                    u.x2.max(b.x2),
                    u.y2.max(b.y2),
                )
            });
            let crop = crop(img, &pad(&union, 0.25, 24.0));
            let name = format!(
                "{}-f{:06}-{}-{}.jpg",
                self.camera,
                frame.index,
                i,
                sanitize(&ev.rule)
            );
            self.write_jpeg(&name, &crop)?;
            ev.evidence.push(format!("evidence/{name}"));
        }
        Ok(())
    }

    fn redact(&mut self, frame: &Frame, persons: &[BBox]) -> Result<Image, String> {
        let faces = self.faces.faces(frame.image(), self.cfg.face_upscale)?;
        let mut img = Image {
            width: frame.width,
            height: frame.height,
            data: frame.data.clone(),
        };
        redact::blur_regions(
            &mut img,
            &redact::redaction_regions(persons, &faces),
            redact::DEFAULT_STRENGTH,
        );
        Ok(img)
    }

    /// Atomic: written to a temporary name, then renamed, so an event line never points at a
    /// half-written image.
    fn write_jpeg(&mut self, name: &str, img: &Image) -> Result<(), String> {
        let bytes = media::jpeg::encode_rgb(img.as_ref(), self.cfg.jpeg_quality)
            .map_err(|e| e.to_string())?;
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, &bytes)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        self.written += 1;
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn pad(b: &BBox, frac: f32, min_px: f32) -> BBox {
    let dx = (b.width() * frac).max(min_px);
    let dy = (b.height() * frac).max(min_px);
    BBox::new(b.x1 - dx, b.y1 - dy, b.x2 + dx, b.y2 + dy)
}

/// Copy the part of `img` inside `b` (clipped; at least 1x1).
fn crop(img: &Image, b: &BBox) -> Image {
    let c = b.clamp(img.width as f32, img.height as f32);
    let x1 = (c.x1.floor() as u32).min(img.width - 1);
    let y1 = (c.y1.floor() as u32).min(img.height - 1);
    let x2 = (c.x2.ceil() as u32).clamp(x1 + 1, img.width);
    let y2 = (c.y2.ceil() as u32).clamp(y1 + 1, img.height);
    let (w, h) = (x2 - x1, y2 - y1);
    let mut data = Vec::with_capacity((w * h * 3) as usize);
    for y in y1..y2 {
        let start = ((y * img.width + x1) * 3) as usize;
        data.extend_from_slice(&img.data[start..start + (w * 3) as usize]);
    }
    Image {
        width: w,
        height: h,
        data,
    }
}

/// A 2-pixel outline, so a reviewer sees which object the event is about.
fn draw_rect(img: &mut Image, b: &BBox, rgb: [u8; 3]) {
    let (w, h) = (img.width as i64, img.height as i64);
    let c = b.clamp(w as f32 - 1.0, h as f32 - 1.0);
    let (x1, y1, x2, y2) = (c.x1 as i64, c.y1 as i64, c.x2 as i64, c.y2 as i64);
    let mut put = |x: i64, y: i64| {
        if (0..w).contains(&x) && (0..h).contains(&y) {
            let i = ((y * w + x) * 3) as usize;
            img.data[i..i + 3].copy_from_slice(&rgb);
        }
    };
    for t in 0..2 {
        for x in x1..=x2 {
            put(x, y1 + t);
            put(x, y2 - t);
        }
        for y in y1..=y2 {
            put(x1 + t, y);
            put(x2 - t, y);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_is_clipped_to_the_image() {
        let img = Image {
            width: 4,
            height: 3,
            data: (0..36).collect(),
        };
        let c = crop(&img, &BBox::new(-5.0, 1.0, 2.0, 10.0));
        assert_eq!((c.width, c.height), (2, 2));
        assert_eq!(&c.data[..6], &[12, 13, 14, 15, 16, 17]);
    }
}
