//! What a worker needs to build a pipeline: the camera's configuration, checked, and the models
//! it names.
use std::path::{Path, PathBuf};

use domain::CameraId;
use pipeline::FaceFinder;
use vision::config::CameraConfig;
use vision::detect::{DetectError, Detection, Detector, RegionDetections};
use vision::frame::ImageRef;
use vision::geom::BBox;

/// Loads detectors and face finders. [`OnnxEngine`] is the real one; tests may bring their own.
pub trait Engine: Send + Sync + 'static {
    /// The class names of the detector `cfg` names, read from its model description without
    /// loading the network: enough to check the camera's classes and rules.
    fn class_names(&self, cfg: &CameraConfig) -> Result<Vec<String>, String>;
    fn detector(&self, cfg: &CameraConfig) -> Result<Box<dyn Detector>, String>;
    fn faces(&self) -> Result<Box<dyn FaceFinder>, String>;
}

/// ONNX Runtime (or tract) through `infer`, with the built-in model descriptions.
pub struct OnnxEngine {
    /// Where built-in model descriptions (`NAME.toml`) are.
    pub models_dir: PathBuf,
    /// Relative paths in a camera's configuration (`[detector] model`, `[evidence]
    /// original_key`) are relative to this folder: the server's data folder.
    pub base_dir: PathBuf,
    pub infer: infer::InferConfig,
}

impl OnnxEngine {
    pub fn new(base_dir: &Path, infer: infer::InferConfig) -> OnnxEngine {
        OnnxEngine {
            models_dir: default_models_dir(),
            base_dir: base_dir.to_path_buf(),
            infer,
        }
    }

    fn model_path(&self, model: &str) -> PathBuf {
        if model.contains('/') || model.ends_with(".toml") {
            self.base_dir.join(model)
        } else {
            self.models_dir.join(format!("{model}.toml"))
        }
    }

    fn model(&self, cfg: &CameraConfig) -> Result<vision::model::Model, String> {
        let path = self.model_path(&cfg.detector.model);
        if !path.is_file() {
            return Err(format!(
                "[detector] model = {:?}: no model description at {}; use a built-in name (e.g. \"yolov4-tiny-416\") or a path to a model TOML",
                cfg.detector.model,
                path.display()
            ));
        }
        let mut model = vision::model::Model::load(&path, &infer::asset_root())
            .map_err(|e| format!("[detector] model: {e}"))?;
        model.spec.score_threshold = cfg.detector.min_confidence;
        Ok(model)
    }
}

/// Env `POSBON_MODELS`, else the `models/` folder of the source tree this was built from (as
/// `posbon analyze` finds them).
pub fn default_models_dir() -> PathBuf {
    std::env::var_os("POSBON_MODELS")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

impl Engine for OnnxEngine {
    fn class_names(&self, cfg: &CameraConfig) -> Result<Vec<String>, String> {
        Ok(self.model(cfg)?.class_names)
    }

    fn detector(&self, cfg: &CameraConfig) -> Result<Box<dyn Detector>, String> {
        let model = self.model(cfg)?;
        let d = infer::OnnxDetector::from_model(model, &self.infer)
            .map_err(|e| format!("loading the detector: {e}"))?;
        Ok(Box::new(d))
    }

    fn faces(&self) -> Result<Box<dyn FaceFinder>, String> {
        let f = infer::FaceDetector::load_default(&self.infer)
            .map_err(|e| format!("loading the face detector used for redaction: {e}"))?;
        Ok(Box::new(Faces(f)))
    }
}

struct Faces(infer::FaceDetector);

impl FaceFinder for Faces {
    fn faces(&mut self, img: ImageRef<'_>, upscale: f32) -> Result<Vec<BBox>, String> {
        self.0.detect_faces(img, upscale).map_err(|e| e.to_string())
    }
}

/// A boxed detector as the pipeline's generic parameter.
pub(crate) struct DynDetector(pub Box<dyn Detector>);

impl Detector for DynDetector {
    fn detect(&mut self, images: &[ImageRef<'_>]) -> Result<Vec<Vec<Detection>>, DetectError> {
        self.0.detect(images)
    }
    fn class_names(&self) -> &[String] {
        self.0.class_names()
    }
    fn detect_regions(
        &mut self,
        image: ImageRef<'_>,
        regions: &[BBox],
    ) -> Result<Option<RegionDetections>, DetectError> {
        self.0.detect_regions(image, regions)
    }
    fn supports_regions(&self) -> bool {
        self.0.supports_regions()
    }
}

/// A boxed face finder as the pipeline's generic parameter.
pub(crate) struct DynFaces(pub Box<dyn FaceFinder>);

impl FaceFinder for DynFaces {
    fn faces(&mut self, img: ImageRef<'_>, upscale: f32) -> Result<Vec<BBox>, String> {
        self.0.faces(img, upscale)
    }
}

/// The name the pipeline gives camera `id` in events and evidence file names.
pub fn pipeline_camera_id(id: CameraId) -> String {
    format!("camera-{}", id.0)
}

/// Parses a camera's TOML as stored with it. `[camera]` may be left out (the camera's id is
/// the store's; any `[camera] id` given is replaced), relative paths are taken against
/// `base_dir`. Errors name the line and column (syntax) or the section (meaning).
pub fn parse_config(text: &str, camera: CameraId, base_dir: &Path) -> Result<CameraConfig, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("config_toml: {e}"))?;
    let pid = pipeline_camera_id(camera);
    // Appending keeps the line numbers of what the user wrote.
    let text = if table.contains_key("camera") {
        text.to_string()
    } else {
        format!("{text}\n[camera]\nid = \"{pid}\"\n")
    };
    let mut cfg = CameraConfig::from_toml_str(&text, "config_toml").map_err(|e| e.to_string())?;
    cfg.camera.id = pid;
    if let Some(k) = &cfg.evidence.original_key
        && k.is_relative()
    {
        cfg.evidence.original_key = Some(base_dir.join(k));
    }
    Ok(cfg)
}

/// Everything that can be checked without a camera: the TOML, the model description it names,
/// its classes and its rules (zones and lines they name, classes the model knows).
pub fn check_config(
    engine: &dyn Engine,
    text: &str,
    base_dir: &Path,
) -> Result<CameraConfig, String> {
    let cfg = parse_config(text, CameraId(0), base_dir)?;
    check_parsed(engine, &cfg)?;
    Ok(cfg)
}

/// [`check_config`] on a parsed configuration.
pub(crate) fn check_parsed(engine: &dyn Engine, cfg: &CameraConfig) -> Result<(), String> {
    let names = engine.class_names(cfg)?;
    cfg.class_filter(&names)
        .map_err(|e| format!("config_toml: {e}"))?;
    cfg.rules_config()
        .validate(&names)
        .map_err(|e| format!("config_toml: the rules do not fit: {e}"))?;
    if let Some(k) = &cfg.evidence.original_key
        && !k.is_file()
    {
        return Err(format!(
            "config_toml: [evidence] original_key {} is not a file; make one with `posbon evidence keygen` (a relative path is taken from the server's data folder)",
            k.display()
        ));
    }
    Ok(())
}

/// Where a camera's stream is: `rtsp://...` and the other live schemes `media` reads, or a video
/// file (`file:PATH`, `file://PATH` or a plain path), which must exist.
pub fn check_url(url: &str) -> Result<(), String> {
    if media::is_live_uri(url) {
        return Ok(());
    }
    if url.contains("://") && !url.starts_with("file://") {
        return Err(format!(
            "url {:?}: unsupported scheme; use rtsp://, rtsps://, rtmp://, udp://, srt:// or a video file (file:PATH)",
            domain::redact_url(url)
        ));
    }
    let path = file_path(url);
    if !path.is_file() {
        return Err(format!(
            "url {url:?}: no video file at {}; give an absolute path (a relative one is taken from the server's working folder)",
            path.display()
        ));
    }
    Ok(())
}

/// The path of a file camera's URL.
pub(crate) fn file_path(url: &str) -> PathBuf {
    let p = url
        .strip_prefix("file://")
        .or_else(|| url.strip_prefix("file:"))
        .unwrap_or(url);
    PathBuf::from(p)
}
