//! [`OnnxDetector`]: any ONNX object detector described by a model description TOML.
use std::path::Path;

use vision::detect::{DetectError, Detection, Detector, RegionDetections};
use vision::frame::ImageRef;
use vision::geom::BBox;
use vision::model::{BatchSize, Layout, Model, OutputDims};
use vision::nms::nms_limited;
use vision::preprocess::{Resizer, Transform};
use vision::tiles::{self, TileSpec};

/// Regions are detected as crops only while the crops cost at most this share of a whole-frame
/// run; beyond it the whole frame is run (one call, and it can share a batch).
const MAX_TILE_FRACTION: f32 = 0.7;

use crate::config::{Backend, InferConfig, asset_root};
use crate::engine::{Engine, Output, Port};
use crate::error::InferError;

/// Source sizes whose resize plans are kept (one per camera resolution in practice).
const RESIZER_CACHE: usize = 16;

/// An ONNX detector run by ONNX Runtime or tract, fed and decoded as its description says.
pub struct OnnxDetector {
    model: Model,
    engine: Engine,
    backend: Backend,
    resizers: Vec<Resizer>,
    input: Vec<f32>,
}

impl std::fmt::Debug for OnnxDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxDetector")
            .field("model", &self.model.spec.name)
            .field("file", &self.model.file)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

fn find<'a>(ports: &'a [Port], name: &str) -> Option<&'a Port> {
    ports.iter().find(|p| p.name == name)
}

fn list(ports: &[Port]) -> String {
    ports
        .iter()
        .map(Port::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Check the model's declared inputs and outputs against its description.
fn check(model: &Model, engine: &Engine) -> Result<(), InferError> {
    let spec = &model.spec;
    let mismatch = |problem: String, fix: String| InferError::Mismatch {
        path: model.file.clone(),
        description: model.description.clone(),
        problem,
        fix,
    };
    let Some(inp) = find(engine.inputs(), &spec.input.name) else {
        let first = engine
            .inputs()
            .first()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        return Err(mismatch(
            format!(
                "expected an input named `{}`, found {}",
                spec.input.name,
                list(engine.inputs())
            ),
            format!(
                "set input.name = \"{first}\" in the description, or use the model it was written for"
            ),
        ));
    };
    let (c, h, w) = match spec.input.layout {
        Layout::Nchw => (1, 2, 3),
        Layout::Nhwc => (3, 1, 2),
    };
    let d = &inp.dims;
    let want = |i: usize, v: u32| d[i] < 0 || d[i] == v as i64;
    if d.len() != 4 || !want(c, 3) || !want(h, spec.input.height) || !want(w, spec.input.width) {
        let layout = match spec.input.layout {
            Layout::Nchw => format!("[N, 3, {}, {}] (NCHW)", spec.input.height, spec.input.width),
            Layout::Nhwc => format!("[N, {}, {}, 3] (NHWC)", spec.input.height, spec.input.width),
        };
        return Err(mismatch(
            format!("input {} but the description says {layout}", inp.describe()),
            "set input.width/height/layout to the model's input, or export the model at the described size".into(),
        ));
    }
    if let Some(m) = spec.input.size_multiple
        && (d[h] >= 0 || d[w] >= 0)
    {
        return Err(mismatch(
            format!(
                "input {} has a fixed size, but the description says any multiple of {m} \
                 (input.size_multiple)",
                inp.describe()
            ),
            "remove input.size_multiple from the description, or export the model with symbolic \
             height and width (tools/darknet2onnx.py does)"
                .into(),
        ));
    }
    match spec.input.batch {
        BatchSize::Dynamic if d[0] >= 0 => {
            return Err(mismatch(
                format!(
                    "input {} has a fixed batch of {}, the description says batch = \"dynamic\"",
                    inp.describe(),
                    d[0]
                ),
                format!(
                    "set input.batch = {} in the description (or export with a dynamic batch)",
                    d[0]
                ),
            ));
        }
        BatchSize::Fixed(n) if d[0] >= 0 && d[0] != n as i64 => {
            return Err(mismatch(
                format!(
                    "input {} has batch {}, the description says batch = {n}",
                    inp.describe(),
                    d[0]
                ),
                format!("set input.batch = {}", d[0]),
            ));
        }
        _ => {}
    }
    let Some(out) = find(engine.outputs(), &spec.output.name) else {
        let first = engine
            .outputs()
            .first()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        return Err(mismatch(
            format!(
                "expected an output named `{}`, found {}",
                spec.output.name,
                list(engine.outputs())
            ),
            format!(
                "set output.name = \"{first}\" in the description, or use the model it was written for"
            ),
        ));
    };
    if out.dims.is_empty() {
        // The backend does not know the output's rank before a run: checked on the first run.
        return Ok(());
    }
    model.check_output_shape(&out.dims).map_err(|p| {
        mismatch(
            p,
            "check output.decode / output.transposed and the class list against how the model was exported".into(),
        )
    })
}

impl OnnxDetector {
    /// Load a model description (`models/*.toml`) and its ONNX file, and check they agree.
    pub fn load(description: &Path, cfg: &InferConfig) -> Result<Self, InferError> {
        let model = Model::load(description, &asset_root())?;
        Self::from_model(model, cfg)
    }

    /// Load the ONNX file of an already parsed description.
    pub fn from_model(model: Model, cfg: &InferConfig) -> Result<Self, InferError> {
        let engine = Engine::load(&model.file, cfg, "detector")?;
        check(&model, &engine)?;
        tracing::info!(
            model = %model.spec.name, file = %model.file.display(), backend = %cfg.backend,
            threads = cfg.threads, "detector loaded"
        );
        Ok(OnnxDetector {
            model,
            engine,
            backend: cfg.backend,
            resizers: Vec::new(),
            input: Vec::new(),
        })
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn resizer(&mut self, w: u32, h: u32) -> usize {
        if let Some(i) = self.resizers.iter().position(|r| r.source_size() == (w, h)) {
            return i;
        }
        if self.resizers.len() >= RESIZER_CACHE {
            self.resizers.remove(0);
        }
        self.resizers
            .push(Resizer::new(w, h, &self.model.spec.input));
        self.resizers.len() - 1
    }

    /// Run the model on `images` (in chunks of the model's fixed batch, or all at once when it is
    /// dynamic) and hand each image's raw output, with its resize transform, to `each`.
    fn run_batches(
        &mut self,
        images: &[ImageRef<'_>],
        mut each: impl FnMut(&Model, &[f32], OutputDims, usize) -> Result<(), InferError>,
    ) -> Result<(), InferError> {
        if images.is_empty() {
            return Ok(());
        }
        for (i, im) in images.iter().enumerate() {
            if im.width == 0
                || im.height == 0
                || im.data.len() < im.width as usize * im.height as usize * 3
            {
                return Err(InferError::Output {
                    path: self.model.file.clone(),
                    message: format!(
                        "image {i} of the batch is {}x{} with {} bytes: not a packed RGB24 picture",
                        im.width,
                        im.height,
                        im.data.len()
                    ),
                });
            }
        }
        let spec = &self.model.spec.input;
        let (w, h, layout, batch) = (
            spec.width as usize,
            spec.height as usize,
            spec.layout,
            spec.batch,
        );
        let input_name = spec.name.clone();
        let per = 3 * w * h;
        let chunk = match (batch, self.backend) {
            // tract 0.23 runs a batch slower per image than single images (measured: 320 against
            // 175 ms a frame for YOLOv4-tiny at batch 4), so it gets one image a call.
            (BatchSize::Dynamic, Backend::Tract) => 1,
            (BatchSize::Dynamic, _) => images.len(),
            (BatchSize::Fixed(n), _) => n as usize,
        };
        let shape_of = |n: usize| match layout {
            Layout::Nchw => vec![n, 3, h, w],
            Layout::Nhwc => vec![n, h, w, 3],
        };
        let output_name = self.model.spec.output.name.clone();
        let mut done = 0;
        for group in images.chunks(chunk) {
            let n = chunk.max(group.len());
            let shape = shape_of(n);
            let mut buf = std::mem::take(&mut self.input);
            buf.resize(n * per, 0.0);
            for (k, im) in group.iter().enumerate() {
                let r = self.resizer(im.width, im.height);
                self.resizers[r].run(*im, &mut buf[k * per..(k + 1) * per]);
            }
            // A fixed-batch model gets its last chunk padded with zeros.
            buf[group.len() * per..].fill(0.0);
            let res = self.engine.run(&input_name, &shape, &buf, &[&output_name]);
            self.input = buf;
            let out: Output = res?.pop().expect("one output requested");
            let dims = self.per_image_dims(&out, n)?;
            let stride = dims.rows * dims.cols;
            for k in 0..group.len() {
                each(
                    &self.model,
                    &out.data[k * stride..(k + 1) * stride],
                    dims,
                    done + k,
                )?;
            }
            done += group.len();
        }
        Ok(())
    }

    fn per_image_dims(&self, out: &Output, n: usize) -> Result<OutputDims, InferError> {
        let d: Vec<i64> = out.dims.iter().map(|&x| x as i64).collect();
        let err = |message: String| InferError::Mismatch {
            path: self.model.file.clone(),
            description: self.model.description.clone(),
            problem: message,
            fix: "check output.decode / output.transposed and the class list".into(),
        };
        self.model.check_output_shape(&d).map_err(&err)?;
        if out.dims[0] != n || out.data.len() != out.dims.iter().product::<usize>() {
            return Err(err(format!(
                "output `{}` is {:?} for a batch of {n}",
                self.model.spec.output.name, out.dims
            )));
        }
        Ok(OutputDims {
            rows: out.dims[1],
            cols: out.dims[2],
        })
    }

    /// Detect objects only in `regions` of `image` (see [`Detector::detect_regions`]).
    pub fn try_detect_regions(
        &mut self,
        image: ImageRef<'_>,
        regions: &[BBox],
    ) -> Result<Option<RegionDetections>, InferError> {
        let spec = self.model.spec.input.clone();
        let Some(multiple) = spec.size_multiple else {
            return Ok(None);
        };
        if !self.supports_regions() {
            return Ok(None);
        }
        if matches!(spec.batch, BatchSize::Fixed(n) if n != 1) {
            return Ok(None);
        }
        let (fw, fh) = (image.width, image.height);
        if fw == 0 || fh == 0 || image.data.len() < fw as usize * fh as usize * 3 {
            return Ok(None);
        }
        let r = self.resizer(fw, fh);
        let full = self.resizers[r].transform();
        let plan_spec = TileSpec {
            frame_w: fw,
            frame_h: fh,
            scale_x: full.scale_x,
            scale_y: full.scale_y,
            multiple,
            full_cost: spec.width as u64 * spec.height as u64,
        };
        let Some(plan) = tiles::plan(&plan_spec, regions, MAX_TILE_FRACTION) else {
            return Ok(None);
        };
        let output_name = self.model.spec.output.name.clone();
        let mut crop = Vec::new();
        let mut found = Vec::new();
        for t in &plan {
            // Copy the crop out (a few hundred kB) so the resizer reads a packed picture.
            crop.clear();
            let row = fw as usize * 3;
            for y in t.y..t.y + t.h {
                let start = y as usize * row + t.x as usize * 3;
                crop.extend_from_slice(&image.data[start..start + t.w as usize * 3]);
            }
            let resizer = Resizer::with_content(
                t.w,
                t.h,
                &spec,
                (t.width, t.height),
                (t.content_w, t.content_h),
            );
            let mut buf = std::mem::take(&mut self.input);
            buf.resize(resizer.output_len(), 0.0);
            resizer.run(
                ImageRef {
                    width: t.w,
                    height: t.h,
                    data: &crop,
                },
                &mut buf,
            );
            let (th, tw) = (t.height as usize, t.width as usize);
            let shape = match spec.layout {
                Layout::Nchw => vec![1, 3, th, tw],
                Layout::Nhwc => vec![1, th, tw, 3],
            };
            let res = self.engine.run(&spec.name, &shape, &buf, &[&output_name]);
            self.input = buf;
            let out = res?.pop().expect("one output requested");
            let dims = self.per_image_dims(&out, 1)?;
            let local = resizer.transform();
            // Crop pixels to frame pixels: src = (model - pad) / scale, with the crop's offset.
            let tf = Transform {
                pad_x: -(t.x as f32) * local.scale_x,
                pad_y: -(t.y as f32) * local.scale_y,
                src_width: fw,
                src_height: fh,
                ..local
            };
            let dets = self
                .model
                .decode(&out.data, dims, &tf)
                .map_err(|e| InferError::Output {
                    path: self.model.file.clone(),
                    message: e.0,
                })?;
            found.extend(dets);
        }
        let m = &self.model.spec;
        let detections = if plan.len() > 1 {
            nms_limited(found, m.nms_iou, m.max_detections, m.class_agnostic_nms)
        } else {
            found
        };
        Ok(Some(RegionDetections {
            detections,
            looked: plan.iter().map(|t| t.bbox()).collect(),
            cost: plan.iter().map(|t| t.cost()).sum(),
            full_cost: plan_spec.full_cost,
        }))
    }

    /// The raw output rows of each image (for comparing backends and debugging a description).
    pub fn raw_outputs(
        &mut self,
        images: &[ImageRef<'_>],
    ) -> Result<Vec<(OutputDims, Vec<f32>)>, InferError> {
        let mut all = Vec::with_capacity(images.len());
        self.run_batches(images, |_, data, dims, _| {
            all.push((dims, data.to_vec()));
            Ok(())
        })?;
        Ok(all)
    }

    /// Detect objects in each image, boxes in that image's pixels.
    pub fn try_detect(
        &mut self,
        images: &[ImageRef<'_>],
    ) -> Result<Vec<Vec<Detection>>, InferError> {
        let transforms: Vec<_> = images
            .iter()
            .map(|im| {
                let r = self.resizer(im.width.max(1), im.height.max(1));
                self.resizers[r].transform()
            })
            .collect();
        let mut all = Vec::with_capacity(images.len());
        self.run_batches(images, |model, data, dims, i| {
            let dets =
                model
                    .decode(data, dims, &transforms[i])
                    .map_err(|e| InferError::Output {
                        path: model.file.clone(),
                        message: e.0,
                    })?;
            all.push(dets);
            Ok(())
        })?;
        Ok(all)
    }
}

impl Detector for OnnxDetector {
    fn detect(&mut self, images: &[ImageRef<'_>]) -> Result<Vec<Vec<Detection>>, DetectError> {
        Ok(self.try_detect(images)?)
    }

    fn class_names(&self) -> &[String] {
        &self.model.class_names
    }

    fn detect_regions(
        &mut self,
        image: ImageRef<'_>,
        regions: &[BBox],
    ) -> Result<Option<RegionDetections>, DetectError> {
        Ok(self.try_detect_regions(image, regions)?)
    }

    fn supports_regions(&self) -> bool {
        // tract optimises a plan per input shape (hundreds of ms each) and region tiles come in
        // many shapes, so tract runs whole frames.
        self.model.spec.input.size_multiple.is_some()
            && self.backend != Backend::Tract
            && !matches!(self.model.spec.input.batch, BatchSize::Fixed(n) if n != 1)
    }
}
