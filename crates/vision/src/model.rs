//! Model descriptions: a small TOML file that says how to feed an ONNX detector and how to read
//! its output, so any detector a user brings (YOLOv4 from Darknet, YOLOv5/7 style with objectness,
//! YOLOv8 style without, end-to-end models that emit final boxes) works without code changes.
//!
//! ```toml
//! name = "yolov4-tiny-416"
//! file = "{assets}/yolov4-tiny/yolov4-tiny-416.onnx"   # relative to this TOML, or under {assets}
//! classes = "{assets}/yolov4-tiny/coco.names"          # a file (one name a line) or an inline list
//! nms_iou = 0.45
//! score_threshold = 0.25
//!
//! [input]
//! name = "input"
//! width = 416
//! height = 416
//! layout = "NCHW"          # or "NHWC"
//! channels = "RGB"         # or "BGR"
//! resize = "stretch"       # or "letterbox" (pad_value, default 114, fills the borders)
//! scale = 0.00392156862    # pixel * scale, then (v - mean) / std per channel
//! mean = [0, 0, 0]
//! std = [1, 1, 1]
//! batch = "dynamic"        # or a fixed batch size such as 1
//!
//! [output]
//! name = "detections"
//! decode = "yolo_cxcywh_obj"   # [N,K,5+C]: cx,cy,w,h,objectness,class probabilities
//!                              # "yolo_cxcywh": [N,K,4+C] (or [N,4+C,K] with transposed = true)
//!                              # "xyxy_score_class": [N,K,6]: x1,y1,x2,y2,score,class
//! normalized = false           # true when boxes are 0..1 fractions of the input size
//! ```
//!
//! The decode functions here are pure: a model's raw output for one image in, [`Detection`]s in
//! the original frame's pixels out (letterbox or stretch undone, score threshold, per-class NMS).
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::detect::Detection;
use crate::geom::BBox;
use crate::nms::nms_limited;
use crate::preprocess::Transform;

/// The placeholder that `file` and `classes` may start with, replaced by the asset cache root.
pub const ASSETS_PLACEHOLDER: &str = "{assets}";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// A short name for logs and reports.
    pub name: String,
    /// The ONNX file: relative to the TOML's directory, absolute, or starting with `{assets}`.
    pub file: String,
    pub input: InputSpec,
    pub output: OutputSpec,
    pub classes: ClassList,
    /// Boxes of one class overlapping more than this IoU are merged (greedy NMS).
    #[serde(default = "default_nms_iou")]
    pub nms_iou: f32,
    /// Detections scoring below this are dropped before NMS.
    #[serde(default = "default_score_threshold")]
    pub score_threshold: f32,
    /// Suppress overlapping boxes across classes too (a van found as car and truck gives one box).
    #[serde(default)]
    pub class_agnostic_nms: bool,
    /// At most this many detections per image, best first.
    #[serde(default = "default_max_detections")]
    pub max_detections: usize,
}

fn default_nms_iou() -> f32 {
    0.45
}
fn default_score_threshold() -> f32 {
    0.25
}
fn default_max_detections() -> usize {
    300
}
fn default_scale() -> f32 {
    1.0 / 255.0
}
fn default_std() -> [f32; 3] {
    [1.0; 3]
}
fn default_pad() -> f32 {
    114.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub name: String,
    pub width: u32,
    pub height: u32,
    #[serde(default)]
    pub layout: Layout,
    #[serde(default)]
    pub channels: ChannelOrder,
    #[serde(default)]
    pub resize: ResizeMode,
    /// Pixel values (0..255) are multiplied by this first.
    #[serde(default = "default_scale")]
    pub scale: f32,
    #[serde(default)]
    pub mean: [f32; 3],
    #[serde(default = "default_std")]
    pub std: [f32; 3],
    /// Letterbox border colour in 0..255 pixel units (normalised like any pixel).
    #[serde(default = "default_pad")]
    pub pad_value: f32,
    #[serde(default)]
    pub batch: BatchSize,
    /// The network also takes any width and height that are multiples of this (a fully
    /// convolutional model exported with symbolic H and W, e.g. by tools/darknet2onnx.py). The
    /// pipeline then runs it on the motion regions of a frame, at the scale the whole frame would
    /// be run at, instead of on the whole frame. Absent: the model takes only width x height.
    #[serde(default)]
    pub size_multiple: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Layout {
    #[default]
    #[serde(rename = "NCHW")]
    Nchw,
    #[serde(rename = "NHWC")]
    Nhwc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ChannelOrder {
    #[default]
    #[serde(rename = "RGB")]
    Rgb,
    #[serde(rename = "BGR")]
    Bgr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResizeMode {
    /// Scale each axis to the input size, ignoring aspect ratio.
    #[default]
    Stretch,
    /// Keep the aspect ratio, centre, pad the rest with `pad_value`.
    Letterbox,
}

/// The batch dimension the model accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "BatchRepr", into = "BatchRepr")]
pub enum BatchSize {
    /// Any batch size: the whole batch runs in one call.
    #[default]
    Dynamic,
    /// Exactly this many images per call (inputs are run in chunks, the last one padded).
    Fixed(u32),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum BatchRepr {
    Fixed(i64),
    Word(String),
}

impl TryFrom<BatchRepr> for BatchSize {
    type Error = String;
    fn try_from(r: BatchRepr) -> Result<Self, String> {
        match r {
            BatchRepr::Word(w) if w == "dynamic" => Ok(BatchSize::Dynamic),
            BatchRepr::Fixed(n) if (1..=4096).contains(&n) => Ok(BatchSize::Fixed(n as u32)),
            BatchRepr::Word(w) => Err(format!(
                "batch = \"{w}\": expected \"dynamic\" or a positive integer such as 1"
            )),
            BatchRepr::Fixed(n) => Err(format!("batch = {n}: a fixed batch must be 1..=4096")),
        }
    }
}

impl From<BatchSize> for BatchRepr {
    fn from(b: BatchSize) -> Self {
        match b {
            BatchSize::Dynamic => BatchRepr::Word("dynamic".into()),
            BatchSize::Fixed(n) => BatchRepr::Fixed(n as i64),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub name: String,
    pub decode: Decode,
    /// The output is `[N, attributes, K]` instead of `[N, K, attributes]` (YOLOv8 exports).
    #[serde(default)]
    pub transposed: bool,
    /// Box coordinates are fractions (0..1) of the input size instead of input pixels.
    #[serde(default)]
    pub normalized: bool,
}

/// How to read one image's output rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decode {
    /// `cx, cy, w, h, objectness, p(class 0) .. p(class C-1)`; score = objectness x class prob.
    YoloCxcywhObj,
    /// `cx, cy, w, h, p(class 0) .. p(class C-1)`; score = class probability (YOLOv8 style).
    YoloCxcywh,
    /// `x1, y1, x2, y2, score, class id`: final boxes from an end-to-end model.
    XyxyScoreClass,
}

/// Class names: a file (one name a line, relative like `file`) or an inline list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClassList {
    File(String),
    Inline(Vec<String>),
}

/// Why a model description could not be used. Each message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "cannot read model description {path}: {source}. Check the path (model descriptions live in models/*.toml)"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{path}: `{field}`: {message}")]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error(
        "{path}: cannot read the class names file {classes} named by `classes`: {source}. Fix the path, or run `posbon assets fetch` if it is an asset"
    )]
    Classes {
        path: PathBuf,
        classes: PathBuf,
        source: std::io::Error,
    },
}

/// A parsed, validated model description with its paths resolved and its class names read.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub spec: ModelSpec,
    /// The TOML file it came from (for error messages).
    pub description: PathBuf,
    /// The resolved ONNX file.
    pub file: PathBuf,
    pub class_names: Vec<String>,
}

/// The output dims of one image, as stored: `rows x cols` of a row-major `[rows, cols]` slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputDims {
    pub rows: usize,
    pub cols: usize,
}

/// Why a raw output could not be decoded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

fn resolve(raw: &str, toml_dir: &Path, assets: &Path) -> PathBuf {
    if let Some(rest) = raw.strip_prefix(ASSETS_PLACEHOLDER) {
        assets.join(rest.trim_start_matches(['/', '\\']))
    } else {
        toml_dir.join(raw)
    }
}

/// Dims for messages, symbolic ones as `?`.
fn fmt_dims(dims: &[i64]) -> String {
    let d: Vec<String> = dims
        .iter()
        .map(|&d| if d < 0 { "?".into() } else { d.to_string() })
        .collect();
    format!("[{}]", d.join(", "))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl ModelSpec {
    /// Parse and validate a description. `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<ModelSpec, ModelError> {
        let spec: ModelSpec = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
            ModelError::Syntax {
                path: origin.to_path_buf(),
                line,
                col,
                message: e.message().trim().to_string(),
            }
        })?;
        spec.validate(origin)?;
        Ok(spec)
    }

    fn validate(&self, origin: &Path) -> Result<(), ModelError> {
        let bad = |field: &str, message: String| {
            Err(ModelError::Invalid {
                path: origin.to_path_buf(),
                field: field.into(),
                message,
            })
        };
        let i = &self.input;
        if self.name.trim().is_empty() {
            return bad("name", "must not be empty".into());
        }
        if self.file.trim().is_empty() {
            return bad("file", "must name the .onnx file".into());
        }
        if i.name.is_empty() {
            return bad("input.name", "must name the model's input tensor".into());
        }
        if !(1..=8192).contains(&i.width) || !(1..=8192).contains(&i.height) {
            return bad(
                "input.width/height",
                format!(
                    "{}x{} is not a usable input size (1..=8192)",
                    i.width, i.height
                ),
            );
        }
        if !(i.scale.is_finite() && i.scale > 0.0) {
            return bad(
                "input.scale",
                format!(
                    "{} must be a positive number (1/255 for 0..1 input)",
                    i.scale
                ),
            );
        }
        if i.std.iter().any(|s| !s.is_finite() || *s == 0.0)
            || i.mean.iter().any(|m| !m.is_finite())
        {
            return bad(
                "input.mean/std",
                format!("mean {:?} / std {:?}: std must be non-zero", i.mean, i.std),
            );
        }
        if let Some(m) = i.size_multiple {
            if m == 0 || !i.width.is_multiple_of(m) || !i.height.is_multiple_of(m) {
                return bad(
                    "input.size_multiple",
                    format!(
                        "{m} must be at least 1 and divide the input size {}x{} (32 for YOLO models)",
                        i.width, i.height
                    ),
                );
            }
            if self.output.normalized {
                return bad(
                    "input.size_multiple",
                    "needs boxes in input pixels (output.normalized = false): normalised boxes \
                     of a region would be fractions of the region, not of the frame"
                        .into(),
                );
            }
        }
        if self.output.name.is_empty() {
            return bad("output.name", "must name the model's output tensor".into());
        }
        if self.output.transposed && self.output.decode == Decode::XyxyScoreClass {
            return bad(
                "output.transposed",
                "only the yolo_* decoders read transposed outputs".into(),
            );
        }
        if !(self.nms_iou > 0.0 && self.nms_iou <= 1.0) {
            return bad("nms_iou", format!("{} must be in (0, 1]", self.nms_iou));
        }
        if !(0.0..=1.0).contains(&self.score_threshold) {
            return bad(
                "score_threshold",
                format!("{} must be in [0, 1]", self.score_threshold),
            );
        }
        if self.max_detections == 0 {
            return bad("max_detections", "must be at least 1".into());
        }
        if let ClassList::Inline(v) = &self.classes
            && v.is_empty()
        {
            return bad("classes", "the inline list is empty".into());
        }
        Ok(())
    }
}

impl Model {
    /// Read, parse and validate `path`, resolve `file` and `classes` (relative to the TOML, or
    /// under `assets` where they start with `{assets}`) and read the class names. The ONNX file
    /// itself is not opened here: the backend checks it against this description when it loads.
    pub fn load(path: &Path, assets: &Path) -> Result<Model, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let spec = ModelSpec::parse(&text, path)?;
        let class_names = match &spec.classes {
            ClassList::Inline(v) => v.clone(),
            ClassList::File(f) => {
                let cp = resolve(f, dir, assets);
                let text = std::fs::read_to_string(&cp).map_err(|source| ModelError::Classes {
                    path: path.to_path_buf(),
                    classes: cp.clone(),
                    source,
                })?;
                let names: Vec<String> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect();
                if names.is_empty() {
                    return Err(ModelError::Invalid {
                        path: path.to_path_buf(),
                        field: "classes".into(),
                        message: format!(
                            "{} holds no class names (one a line expected)",
                            cp.display()
                        ),
                    });
                }
                names
            }
        };
        Ok(Model {
            file: resolve(&spec.file, dir, assets),
            description: path.to_path_buf(),
            spec,
            class_names,
        })
    }

    /// Build from an already parsed spec (tests, built-in descriptions).
    pub fn from_spec(
        spec: ModelSpec,
        description: PathBuf,
        file: PathBuf,
        class_names: Vec<String>,
    ) -> Model {
        Model {
            spec,
            description,
            file,
            class_names,
        }
    }

    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Values per row the decoder expects.
    pub fn attributes(&self) -> usize {
        match self.spec.output.decode {
            Decode::YoloCxcywhObj => 5 + self.num_classes(),
            Decode::YoloCxcywh => 4 + self.num_classes(),
            Decode::XyxyScoreClass => 6,
        }
    }

    /// The output shape this description expects, for messages: e.g. `[N, K, 85]`.
    pub fn expected_output(&self) -> String {
        if self.spec.output.transposed {
            format!("[N, {}, K]", self.attributes())
        } else {
            format!("[N, K, {}]", self.attributes())
        }
    }

    /// Check a model's declared or actual output shape (symbolic dims as negative numbers)
    /// against this description. The error text says what was expected and what was found.
    pub fn check_output_shape(&self, dims: &[i64]) -> Result<(), String> {
        let want = self.attributes() as i64;
        let (attr_dim, what) = if self.spec.output.transposed {
            (1, "second")
        } else {
            (2, "last")
        };
        if dims.len() != 3 {
            return Err(format!(
                "output `{}` has {} dims {}; decode = \"{}\" expects 3: {}",
                self.spec.output.name,
                dims.len(),
                fmt_dims(dims),
                self.decode_name(),
                self.expected_output()
            ));
        }
        let got = dims[attr_dim];
        if got >= 0 && got != want {
            let hint = match self.spec.output.decode {
                Decode::YoloCxcywhObj | Decode::YoloCxcywh => format!(
                    " ({} classes listed; a {} dim of {} means {} classes for this decoder)",
                    self.num_classes(),
                    what,
                    got,
                    got - (want - self.num_classes() as i64)
                ),
                Decode::XyxyScoreClass => String::new(),
            };
            return Err(format!(
                "output `{}` is {}, but decode = \"{}\" with this class list expects {}{}",
                self.spec.output.name,
                fmt_dims(dims),
                self.decode_name(),
                self.expected_output(),
                hint
            ));
        }
        Ok(())
    }

    fn decode_name(&self) -> &'static str {
        match self.spec.output.decode {
            Decode::YoloCxcywhObj => "yolo_cxcywh_obj",
            Decode::YoloCxcywh => "yolo_cxcywh",
            Decode::XyxyScoreClass => "xyxy_score_class",
        }
    }

    /// Decode one image's raw output (`dims` as stored, row-major) into detections in the source
    /// image's pixels, after the score threshold and NMS.
    pub fn decode(
        &self,
        out: &[f32],
        dims: OutputDims,
        tf: &Transform,
    ) -> Result<Vec<Detection>, DecodeError> {
        let raw = decode_raw(
            out,
            dims,
            self.spec.output.decode,
            self.spec.output.transposed,
            self.num_classes(),
            self.spec.score_threshold,
        )?;
        let (sx, sy) = if self.spec.output.normalized {
            (self.spec.input.width as f32, self.spec.input.height as f32)
        } else {
            (1.0, 1.0)
        };
        let mapped: Vec<Detection> = raw
            .into_iter()
            .filter_map(|mut d| {
                d.bbox = tf.to_source(d.bbox.scale(sx, sy));
                (d.bbox.area() > 0.0).then_some(d)
            })
            .collect();
        Ok(nms_limited(
            mapped,
            self.spec.nms_iou,
            self.spec.max_detections,
            self.spec.class_agnostic_nms,
        ))
    }
}

/// Decode rows into detections in model-input units (before NMS and before undoing the resize).
/// One detection per row: its best class, kept when the score reaches `threshold`.
pub fn decode_raw(
    out: &[f32],
    dims: OutputDims,
    decode: Decode,
    transposed: bool,
    num_classes: usize,
    threshold: f32,
) -> Result<Vec<Detection>, DecodeError> {
    let OutputDims { rows, cols } = dims;
    if out.len() != rows * cols {
        return Err(DecodeError(format!(
            "output holds {} values, but its dims {rows}x{cols} need {}",
            out.len(),
            rows * cols
        )));
    }
    // K boxes of A attributes; `at(k, a)` reads attribute `a` of box `k`.
    let (k_boxes, attrs) = if transposed {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let at = |k: usize, a: usize| {
        if transposed {
            out[a * cols + k]
        } else {
            out[k * cols + a]
        }
    };
    let need = match decode {
        Decode::YoloCxcywhObj => 5 + num_classes,
        Decode::YoloCxcywh => 4 + num_classes,
        Decode::XyxyScoreClass => 6,
    };
    if attrs != need {
        return Err(DecodeError(format!(
            "each box has {attrs} values but the decoder expects {need} ({num_classes} classes)"
        )));
    }
    let mut dets = Vec::new();
    for k in 0..k_boxes {
        match decode {
            Decode::YoloCxcywhObj | Decode::YoloCxcywh => {
                let (obj, first) = if decode == Decode::YoloCxcywhObj {
                    (at(k, 4), 5)
                } else {
                    (1.0, 4)
                };
                // Class probabilities are <= 1, so a low objectness rules the row out early.
                // (written so that a NaN objectness is skipped too)
                if obj.partial_cmp(&threshold).is_none_or(|o| o.is_lt()) {
                    continue;
                }
                let (mut best, mut best_p) = (0usize, f32::NEG_INFINITY);
                if transposed {
                    for c in 0..num_classes {
                        let p = at(k, first + c);
                        if p > best_p {
                            (best, best_p) = (c, p);
                        }
                    }
                } else {
                    let row = &out[k * cols + first..k * cols + first + num_classes];
                    for (c, &p) in row.iter().enumerate() {
                        if p > best_p {
                            (best, best_p) = (c, p);
                        }
                    }
                }
                let score = obj * best_p;
                if score >= threshold {
                    dets.push(Detection {
                        bbox: BBox::from_cxcywh(at(k, 0), at(k, 1), at(k, 2), at(k, 3)),
                        score,
                        class_id: best as u32,
                    });
                }
            }
            Decode::XyxyScoreClass => {
                let score = at(k, 4);
                let class = at(k, 5);
                if score >= threshold && class >= 0.0 && (class as usize) < num_classes {
                    dets.push(Detection {
                        bbox: BBox::new(at(k, 0), at(k, 1), at(k, 2), at(k, 3)),
                        score,
                        class_id: class as u32,
                    });
                }
            }
        }
    }
    Ok(dets)
}

#[cfg(test)]
mod tests {
    use super::*;

    const YOLO: &str = r#"
name = "yolov4-tiny-416"
file = "{assets}/yolov4-tiny/yolov4-tiny-416.onnx"
classes = ["person", "bicycle", "car"]
nms_iou = 0.45

[input]
name = "input"
width = 416
height = 416
layout = "NCHW"
channels = "RGB"
resize = "stretch"
scale = 0.00392156862
batch = "dynamic"

[output]
name = "detections"
decode = "yolo_cxcywh_obj"
"#;

    fn model(text: &str) -> Model {
        let spec = ModelSpec::parse(text, Path::new("m.toml")).unwrap();
        let names = match &spec.classes {
            ClassList::Inline(v) => v.clone(),
            ClassList::File(_) => unreachable!(),
        };
        Model::from_spec(spec, "m.toml".into(), "m.onnx".into(), names)
    }

    #[test]
    fn parses_and_resolves_assets_placeholder() {
        let dir = std::env::temp_dir().join(format!("posbon-model-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("m.toml");
        std::fs::write(&p, YOLO).unwrap();
        let m = Model::load(&p, Path::new("/cache/assets")).unwrap();
        assert_eq!(
            m.file,
            Path::new("/cache/assets/yolov4-tiny/yolov4-tiny-416.onnx")
        );
        assert_eq!(m.spec.input.batch, BatchSize::Dynamic);
        assert_eq!(m.spec.score_threshold, 0.25);
        assert_eq!(m.expected_output(), "[N, K, 8]");
        std::fs::write(&p, YOLO.replace("{assets}/yolov4-tiny/", "")).unwrap();
        assert_eq!(
            Model::load(&p, Path::new("/x")).unwrap().file,
            dir.join("yolov4-tiny-416.onnx")
        );
        std::fs::write(
            &p,
            YOLO.replace(r#"["person", "bicycle", "car"]"#, r#""missing.names""#),
        )
        .unwrap();
        let e = Model::load(&p, Path::new("/x")).unwrap_err().to_string();
        assert!(e.contains("missing.names") && e.contains("m.toml"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn errors_carry_line_and_column() {
        let e = ModelSpec::parse(
            &YOLO.replace("layout = \"NCHW\"", "layout = \"CHW\""),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("m.toml:11:10:"), "{e}");
        assert!(e.contains("NCHW"), "{e}");
        let e = ModelSpec::parse(&YOLO.replace("nms_iou", "nms_iuo"), Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.toml:5:1:") && e.contains("nms_iuo"), "{e}");
        let e = ModelSpec::parse(&YOLO.replace("\"dynamic\"", "\"any\""), Path::new("m.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("m.toml:15:") && e.contains("\"dynamic\""), "{e}");
        let e = ModelSpec::parse(
            &YOLO.replace("nms_iou = 0.45", "nms_iou = 1.5"),
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("nms_iou") && e.contains("(0, 1]"), "{e}");
        assert!(
            ModelSpec::parse(
                &YOLO.replace("batch = \"dynamic\"", "batch = 1"),
                Path::new("m")
            )
            .is_ok()
        );
    }

    #[test]
    fn checks_output_shapes() {
        let m = model(YOLO);
        assert!(m.check_output_shape(&[-1, 2535, 8]).is_ok());
        let e = m.check_output_shape(&[-1, 2535, 85]).unwrap_err();
        assert!(e.contains("[N, K, 8]") && e.contains("80 classes"), "{e}");
        assert!(m.check_output_shape(&[2535, 85]).is_err());
    }

    #[test]
    fn decodes_with_objectness_undoes_stretch_and_suppresses() {
        let m = model(YOLO);
        // 3 rows of cx,cy,w,h,obj,p0,p1,p2 in 416x416 input pixels.
        let out = [
            208.0, 208.0, 104.0, 208.0, 0.9, 0.1, 0.2, 0.95, // car .855
            210.0, 208.0, 104.0, 208.0, 0.8, 0.1, 0.2, 0.9, // overlaps the first: suppressed
            100.0, 100.0, 20.0, 40.0, 0.2, 0.99, 0.0, 0.0, // objectness under threshold
        ];
        // Source 832x624 stretched into 416x416.
        let tf = Transform {
            scale_x: 0.5,
            scale_y: 416.0 / 624.0,
            pad_x: 0.0,
            pad_y: 0.0,
            src_width: 832,
            src_height: 624,
        };
        let d = m
            .decode(&out, OutputDims { rows: 3, cols: 8 }, &tf)
            .unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].class_id, 2);
        assert!((d[0].score - 0.855).abs() < 1e-6);
        let b = d[0].bbox;
        assert!(
            (b.x1 - 312.0).abs() < 1e-3 && (b.x2 - 520.0).abs() < 1e-3,
            "{b:?}"
        );
        assert!(
            (b.y1 - 156.0).abs() < 1e-3 && (b.y2 - 468.0).abs() < 1e-3,
            "{b:?}"
        );
        assert!(
            m.decode(&out[..23], OutputDims { rows: 3, cols: 8 }, &tf)
                .is_err()
        );
    }

    #[test]
    fn decodes_transposed_v8_and_end_to_end() {
        let v8 = YOLO.replace(
            "yolo_cxcywh_obj\"",
            "yolo_cxcywh\"\ntransposed = true\nnormalized = true",
        );
        let m = model(&v8);
        // [4+3, K=2] transposed: attributes by row.
        let out = [
            0.5, 0.1, // cx
            0.5, 0.1, // cy
            0.25, 0.1, // w
            0.5, 0.1, // h
            0.9, 0.0, // p0
            0.0, 0.1, // p1
            0.0, 0.2, // p2
        ];
        let tf = Transform {
            scale_x: 1.0,
            scale_y: 1.0,
            pad_x: 0.0,
            pad_y: 0.0,
            src_width: 416,
            src_height: 416,
        };
        let d = m
            .decode(&out, OutputDims { rows: 7, cols: 2 }, &tf)
            .unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].class_id, d[0].bbox),
            (0, BBox::new(156.0, 104.0, 260.0, 312.0))
        );
        let e2e = YOLO.replace("yolo_cxcywh_obj", "xyxy_score_class");
        let m = model(&e2e);
        let out = [
            10.0, 20.0, 30.0, 40.0, 0.7, 1.0, 0.0, 0.0, 5.0, 5.0, 0.1, 0.0,
        ];
        let d = m
            .decode(&out, OutputDims { rows: 2, cols: 6 }, &tf)
            .unwrap();
        assert_eq!(
            d,
            vec![Detection {
                bbox: BBox::new(10.0, 20.0, 30.0, 40.0),
                score: 0.7,
                class_id: 1
            }]
        );
    }
}
