//! Loading the configured detector and face finder.
use anyhow::{Context, Result, bail};
use infer::{Backend, FaceDetector, InferConfig, OnnxDetector};
use std::path::{Path, PathBuf};
use vision::config::CameraConfig;
use vision::frame::ImageRef;
use vision::geom::BBox;

/// Where built-in model descriptions (`models/NAME.toml`) are: env `POSBON_MODELS`, else the
/// `models/` folder of the source tree this binary was built from.
fn models_dir() -> PathBuf {
    std::env::var_os("POSBON_MODELS")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// `[detector] model`: a bare name is a built-in description; a path is taken relative to the
/// camera config's folder.
pub fn model_path(model: &str, config_dir: &Path) -> PathBuf {
    if model.contains('/') || model.ends_with(".toml") {
        config_dir.join(model)
    } else {
        models_dir().join(format!("{model}.toml"))
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct EngineArgs {
    /// Inference backend: `ort` (ONNX Runtime) or `tract` (pure Rust; needs a build with `--features tract`).
    #[arg(long, default_value = "ort")]
    pub backend: Backend,
    /// Threads per inference.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

impl EngineArgs {
    pub fn infer_config(&self) -> InferConfig {
        InferConfig::default()
            .with_backend(self.backend)
            .with_threads(self.threads)
    }
}

pub fn load_detector(
    cfg: &CameraConfig,
    config_dir: &Path,
    engine: &EngineArgs,
) -> Result<OnnxDetector> {
    let path = model_path(&cfg.detector.model, config_dir);
    if !path.exists() {
        bail!(
            "model description {} not found: set [detector] model to a built-in name (e.g. \"yolov4-tiny-416\") or a path to a model TOML",
            path.display()
        );
    }
    let mut model = vision::model::Model::load(&path, &infer::asset_root())
        .with_context(|| format!("loading model description {}", path.display()))?;
    model.spec.score_threshold = cfg.detector.min_confidence;
    OnnxDetector::from_model(model, &engine.infer_config())
        .with_context(|| format!("loading detector {}", path.display()))
}

/// CenterFace as the pipeline's face finder.
pub struct Faces(pub FaceDetector);

impl pipeline::FaceFinder for Faces {
    fn faces(&mut self, img: ImageRef<'_>, upscale: f32) -> Result<Vec<BBox>, String> {
        self.0.detect_faces(img, upscale).map_err(|e| e.to_string())
    }
}

pub fn load_faces(engine: &EngineArgs) -> Result<Faces> {
    Ok(Faces(
        FaceDetector::load_default(&engine.infer_config())
            .context("loading the face detector (CenterFace) used for redaction")?,
    ))
}
