//! Evidence images: every one redacted before it is encoded; nothing unredacted is written.
use crate::PipelineError;
use std::path::{Path, PathBuf};
use vision::config::EvidenceSection;
use vision::event::Event;
use vision::frame::{Frame, Image, ImageRef};
use vision::geom::BBox;
use vision::redact;

use crate::sealed::SealKey;

/// Sub-folder of `evidence/` for sealed originals.
pub const ORIGINALS: &str = "originals";

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
    /// Seals the unredacted original of each event frame; `None`: no original is written.
    sealer: Option<SealKey>,
    /// The last frame written, so several events of one frame share one image (and original).
    last: Option<(u64, String, Option<String>)>,
    pub(crate) written: u64,
}

impl<F: FaceFinder> EvidenceWriter<F> {
    pub fn new(
        out: &Path,
        camera: &str,
        cfg: EvidenceSection,
        faces: F,
        sealer: Option<SealKey>,
    ) -> Result<Self, PipelineError> {
        let dir = out.join("evidence");
        std::fs::create_dir_all(&dir).map_err(|source| PipelineError::Output {
            path: dir.clone(),
            source,
        })?;
        if sealer.is_some() {
            let originals = dir.join(ORIGINALS);
            std::fs::create_dir_all(&originals).map_err(|source| PipelineError::Output {
                path: originals,
                source,
            })?;
        }
        Ok(Self {
            root: out.to_path_buf(),
            dir,
            camera: camera.to_string(),
            cfg,
            faces,
            sealer,
            last: None,
            written: 0,
        })
    }

    /// Write the redacted frame (once per frame) and, if configured, a crop per event, and put
    /// their paths (relative to the output folder) into each event. `persons` are all person
    /// boxes in the frame: their heads are blurred whatever the face detector finds. `moved` is
    /// where the motion gate saw movement (`None`: unknown, so the whole frame is searched at
    /// the enlarged scale).
    pub fn attach(
        &mut self,
        frame: &Frame,
        persons: &[BBox],
        moved: Option<&[BBox]>,
        events: &mut [Event],
    ) -> Result<(), String> {
        let mut redacted: Option<Image> = None;
        let (full, original) = match &self.last {
            Some((idx, path, orig)) if *idx == frame.index => (path.clone(), orig.clone()),
            _ => {
                let img = self.redact(frame, persons, moved)?;
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
                let original = self.seal_original(frame, &name)?;
                self.last = Some((frame.index, rel.clone(), original.clone()));
                (rel, original)
            }
        };
        for (i, ev) in events.iter_mut().enumerate() {
            ev.evidence.push(full.clone());
            if let Some(o) = &original {
                ev.originals.push(o.clone());
            }
            if !self.cfg.crops || ev.boxes.is_empty() {
                continue;
            }
            let img = match &redacted {
                Some(img) => img,
                None => {
                    redacted = Some(self.redact(frame, persons, moved)?);
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
            let crop = crop(img.as_ref(), &pad(&union, 0.25, 24.0));
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

    /// Faces in the frame, searched with the frame enlarged by `face_upscale` (CCTV faces are
    /// 8-10 px; CenterFace needs about twice that). When the gate knows where things moved, only
    /// the people's heads and the moving regions are enlarged and the rest of the frame (where
    /// nothing moved and no person was found) is searched at its own scale; that costs about
    /// half of enlarging the whole frame on vtest.avi.
    fn find_faces(
        &mut self,
        frame: &Frame,
        persons: &[BBox],
        moved: Option<&[BBox]>,
    ) -> Result<Vec<BBox>, String> {
        let up = self.cfg.face_upscale;
        let Some(moved) = moved.filter(|_| up > 1.0) else {
            return self.faces.faces(frame.image(), up);
        };
        let mut faces = self.faces.faces(frame.image(), 1.0)?;
        {
            for r in redact::face_search_regions(persons, moved, frame.width, frame.height) {
                let c = crop(frame.image(), &r);
                let (ox, oy) = (r.x1.floor().max(0.0), r.y1.floor().max(0.0));
                faces.extend(
                    self.faces
                        .faces(c.as_ref(), up)?
                        .into_iter()
                        .map(|f| BBox::new(f.x1 + ox, f.y1 + oy, f.x2 + ox, f.y2 + oy)),
                );
            }
        }
        Ok(faces)
    }

    fn redact(
        &mut self,
        frame: &Frame,
        persons: &[BBox],
        moved: Option<&[BBox]>,
    ) -> Result<Image, String> {
        let faces = self.find_faces(frame, persons, moved)?;
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

    /// The frame redacted exactly as evidence is (faces found by the face finder and the head of
    /// every person box blurred), encoded as JPEG; nothing is written to disk. For previews
    /// such as the zone editor's snapshot.
    pub fn redacted_jpeg(
        &mut self,
        frame: &Frame,
        persons: &[BBox],
        moved: Option<&[BBox]>,
    ) -> Result<Vec<u8>, String> {
        let img = self.redact(frame, persons, moved)?;
        media::jpeg::encode_rgb(img.as_ref(), self.cfg.jpeg_quality).map_err(|e| e.to_string())
    }

    /// The unredacted frame, sealed with the configured key, as `evidence/originals/NAME.sealed`;
    /// nothing when no key is configured.
    fn seal_original(&mut self, frame: &Frame, name: &str) -> Result<Option<String>, String> {
        let Some(key) = &self.sealer else {
            return Ok(None);
        };
        let jpeg = media::jpeg::encode_rgb(frame.image(), self.cfg.jpeg_quality)
            .map_err(|e| e.to_string())?;
        let sealed_name = format!("{name}.sealed");
        let bytes = key.seal(&sealed_name, &jpeg).map_err(|e| e.to_string())?;
        write_atomic(&self.dir.join(ORIGINALS), &sealed_name, &bytes)?;
        Ok(Some(format!("evidence/{ORIGINALS}/{sealed_name}")))
    }

    fn write_jpeg(&mut self, name: &str, img: &Image) -> Result<(), String> {
        let bytes = media::jpeg::encode_rgb(img.as_ref(), self.cfg.jpeg_quality)
            .map_err(|e| e.to_string())?;
        write_atomic(&self.dir, name, &bytes)?;
        self.written += 1;
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Write `dir/name` atomically: to a temporary name, then renamed, so an event line never points
/// at a half-written file.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("writing {}: {e}", path.display()))
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
fn crop(img: ImageRef<'_>, b: &BBox) -> Image {
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
        let c = crop(img.as_ref(), &BBox::new(-5.0, 1.0, 2.0, 10.0));
        assert_eq!((c.width, c.height), (2, 2));
        assert_eq!(&c.data[..6], &[12, 13, 14, 15, 16, 17]);
    }
}
