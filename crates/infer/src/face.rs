//! [`FaceDetector`]: CenterFace, used only to find faces to blur (redaction), never to recognise.
use std::path::{Path, PathBuf};

use vision::detect::Detection;
use vision::frame::ImageRef;
use vision::geom::BBox;
use vision::model::{BatchSize, ChannelOrder, InputSpec, Layout, ResizeMode};
use vision::nms::nms;
use vision::preprocess::Resizer;

use crate::config::{InferConfig, asset_root};
use crate::engine::{Engine, Output};
use crate::error::InferError;

/// Where `posbon assets fetch` puts the fixed CenterFace model (made by tools/centerface_fix.py).
pub const CENTERFACE_REL: &str = "centerface/centerface-dyn.onnx";
const INPUT: &str = "input.1";
const OUTPUTS: [&str; 3] = ["heatmap", "scale", "offset"];

/// CenterFace run at a chosen upscale so that CCTV-size faces (8-10 px) are found.
pub struct FaceDetector {
    engine: Engine,
    path: PathBuf,
    /// Heatmap peak needed to report a face.
    pub threshold: f32,
    /// Overlapping faces above this IoU are merged.
    pub nms_iou: f32,
    resizers: Vec<Resizer>,
    input: Vec<f32>,
}

impl std::fmt::Debug for FaceDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceDetector")
            .field("file", &self.path)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

/// Round up to a multiple of 32 (CenterFace's total stride), at least 32.
fn round32(v: f32) -> u32 {
    let v = v.max(1.0).round() as u32;
    v.div_ceil(32).max(1) * 32
}

impl FaceDetector {
    /// Load `<asset root>/centerface/centerface-dyn.onnx`.
    pub fn load_default(cfg: &InferConfig) -> Result<Self, InferError> {
        Self::load(&asset_root().join(CENTERFACE_REL), cfg)
    }

    /// Load a CenterFace ONNX with symbolic input dims (see tools/centerface_fix.py).
    pub fn load(path: &Path, cfg: &InferConfig) -> Result<Self, InferError> {
        let engine = Engine::load(path, cfg, "face detector")?;
        let mismatch = |problem: String| {
            InferError::ModelFile {
            path: path.to_path_buf(),
            problem,
            fix: "use the CenterFace model made by `python3 tools/centerface_fix.py centerface.onnx centerface-dyn.onnx` (`posbon assets fetch` does this)".into(),
        }
        };
        let inp = engine
            .inputs()
            .iter()
            .find(|p| p.name == INPUT)
            .ok_or_else(|| {
                mismatch(format!(
                    "expected CenterFace's input `{INPUT}`, found {}",
                    engine
                        .inputs()
                        .iter()
                        .map(|p| p.describe())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        if inp.dims.len() != 4 || inp.dims[2] >= 0 || inp.dims[3] >= 0 {
            return Err(mismatch(format!(
                "input {} has fixed height/width; the face detector needs symbolic H and W",
                inp.describe()
            )));
        }
        for o in OUTPUTS {
            if !engine.outputs().iter().any(|p| p.name == o) {
                return Err(mismatch(format!(
                    "no output `{o}`; found {}",
                    engine
                        .outputs()
                        .iter()
                        .map(|p| p.describe())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Ok(FaceDetector {
            engine,
            path: path.to_path_buf(),
            threshold: 0.5,
            nms_iou: 0.3,
            resizers: Vec::new(),
            input: Vec::new(),
        })
    }

    /// The model input size used for a `w` x `h` image at `upscale`.
    pub fn input_size(w: u32, h: u32, upscale: f32) -> (u32, u32) {
        (round32(w as f32 * upscale), round32(h as f32 * upscale))
    }

    /// Faces in `img`, boxes in `img`'s pixels, best first. The image is resized by `upscale`
    /// (2.0 for CCTV frames where faces are 8-10 px), rounded up to multiples of 32.
    pub fn detect_faces(
        &mut self,
        img: ImageRef<'_>,
        upscale: f32,
    ) -> Result<Vec<BBox>, InferError> {
        Ok(self
            .detect_faces_scored(img, upscale)?
            .into_iter()
            .map(|d| d.bbox)
            .collect())
    }

    /// Like [`Self::detect_faces`], with each face's heatmap score (class id 0).
    pub fn detect_faces_scored(
        &mut self,
        img: ImageRef<'_>,
        upscale: f32,
    ) -> Result<Vec<Detection>, InferError> {
        if img.width == 0
            || img.height == 0
            || img.data.len() < img.width as usize * img.height as usize * 3
        {
            return Err(InferError::Output {
                path: self.path.clone(),
                message: format!(
                    "image is {}x{} with {} bytes: not a packed RGB24 picture",
                    img.width,
                    img.height,
                    img.data.len()
                ),
            });
        }
        if !(upscale.is_finite() && upscale > 0.0 && upscale <= 8.0) {
            return Err(InferError::Output {
                path: self.path.clone(),
                message: format!("upscale {upscale} must be in (0, 8]"),
            });
        }
        let (iw, ih) = Self::input_size(img.width, img.height, upscale);
        let pos = self.resizers.iter().position(|r| {
            let t = r.transform();
            r.source_size() == (img.width, img.height)
                && (t.scale_x * img.width as f32).round() as u32 == iw
                && (t.scale_y * img.height as f32).round() as u32 == ih
        });
        let r = match pos {
            Some(i) => i,
            None => {
                if self.resizers.len() >= 8 {
                    self.resizers.remove(0);
                }
                let spec = InputSpec {
                    name: INPUT.into(),
                    width: iw,
                    height: ih,
                    layout: Layout::Nchw,
                    channels: ChannelOrder::Rgb,
                    resize: ResizeMode::Stretch,
                    scale: 1.0,
                    mean: [0.0; 3],
                    std: [1.0; 3],
                    pad_value: 0.0,
                    batch: BatchSize::Fixed(1),
                    size_multiple: None,
                };
                self.resizers
                    .push(Resizer::new(img.width, img.height, &spec));
                self.resizers.len() - 1
            }
        };
        let mut buf = std::mem::take(&mut self.input);
        buf.resize(self.resizers[r].output_len(), 0.0);
        self.resizers[r].run(img, &mut buf);
        let tf = self.resizers[r].transform();
        let res = self
            .engine
            .run(INPUT, &[1, 3, ih as usize, iw as usize], &buf, &OUTPUTS);
        self.input = buf;
        let outs = res?;
        let faces =
            decode_centerface(&outs[0], &outs[1], &outs[2], self.threshold).map_err(|message| {
                InferError::Output {
                    path: self.path.clone(),
                    message,
                }
            })?;
        let mapped = faces
            .into_iter()
            .map(|mut d| {
                d.bbox = tf.to_source(d.bbox);
                d
            })
            .filter(|d| d.bbox.area() > 0.0)
            .collect();
        Ok(nms(mapped, self.nms_iou))
    }
}

/// CenterFace decoding: every heatmap cell above `threshold` is a face centred at
/// `(cell + offset + 0.5) * 4` with size `exp(scale) * 4`, in model-input pixels.
pub fn decode_centerface(
    heat: &Output,
    scale: &Output,
    offset: &Output,
    threshold: f32,
) -> Result<Vec<Detection>, String> {
    let d = &heat.dims;
    if d.len() != 4 || d[0] != 1 || d[1] != 1 {
        return Err(format!("heatmap has dims {d:?}, expected [1, 1, H/4, W/4]"));
    }
    let (h, w) = (d[2], d[3]);
    let plane = h * w;
    for (name, o) in [("scale", scale), ("offset", offset)] {
        if o.dims != [1, 2, h, w] || o.data.len() != 2 * plane {
            return Err(format!(
                "{name} has dims {:?}, expected [1, 2, {h}, {w}]",
                o.dims
            ));
        }
    }
    let (in_w, in_h) = ((w * 4) as f32, (h * 4) as f32);
    let mut out = Vec::new();
    for (i, &s) in heat.data.iter().enumerate() {
        if s.partial_cmp(&threshold).is_none_or(|o| o.is_le()) {
            continue;
        }
        let (cy, cx) = ((i / w) as f32, (i % w) as f32);
        let sh = scale.data[i].exp() * 4.0;
        let sw = scale.data[plane + i].exp() * 4.0;
        let oy = offset.data[i];
        let ox = offset.data[plane + i];
        let x1 = ((cx + ox + 0.5) * 4.0 - sw / 2.0).clamp(0.0, in_w);
        let y1 = ((cy + oy + 0.5) * 4.0 - sh / 2.0).clamp(0.0, in_h);
        let b = BBox::new(x1, y1, (x1 + sw).min(in_w), (y1 + sh).min(in_h));
        out.push(Detection {
            bbox: b,
            score: s,
            class_id: 0,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_one_peak() {
        // 2x3 grid, one peak at row 1, col 2.
        let mut heat = vec![0.1; 6];
        heat[5] = 0.9;
        let mut scale = vec![0.0; 12];
        scale[5] = (2.0f32).ln(); // height 8 px
        scale[6 + 5] = (3.0f32).ln(); // width 12 px
        let mut offset = vec![0.0; 12];
        offset[5] = 0.25;
        let o = |data: Vec<f32>, c: usize| Output {
            dims: vec![1, c, 2, 3],
            data,
        };
        let d = decode_centerface(&o(heat, 1), &o(scale, 2), &o(offset, 2), 0.5).unwrap();
        assert_eq!(d.len(), 1);
        let b = d[0].bbox;
        // centre x = (2 + 0 + .5) * 4 = 10, y = (1 + .25 + .5) * 4 = 7; 12 x 8 box, clamped to 12 x 8 input.
        assert!(
            (b.x1 - 4.0).abs() < 1e-4 && (b.x2 - 12.0).abs() < 1e-4,
            "{b:?}"
        );
        assert!(
            (b.y1 - 3.0).abs() < 1e-4 && (b.y2 - 8.0).abs() < 1e-4,
            "{b:?}"
        );
        assert!(
            decode_centerface(
                &o(vec![0.0; 6], 1),
                &o(vec![0.0; 6], 2),
                &o(vec![0.0; 12], 2),
                0.5
            )
            .is_err()
        );
    }

    #[test]
    fn input_size_rounds_up_to_32() {
        assert_eq!(FaceDetector::input_size(768, 576, 2.0), (1536, 1152));
        assert_eq!(FaceDetector::input_size(640, 272, 2.0), (1280, 544));
        assert_eq!(FaceDetector::input_size(10, 10, 1.0), (32, 32));
    }
}
