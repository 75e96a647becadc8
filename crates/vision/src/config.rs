//! One camera's configuration, as written in its TOML file.
//!
//! ```toml
//! [camera]
//! id = "square-1"
//! [detector]
//! model = "yolov4-tiny-416"      # a model description name (models/NAME.toml) or a path to one
//! min_confidence = 0.3
//! classes = ["person", "car"]     # what is tracked; empty = every class the model knows
//! [motion]                        # see motion::MotionConfig
//! [tracker]                       # see tracker::TrackerConfig
//! [evidence]
//! jpeg_quality = 85
//! [[zones]] / [[lines]] / [[rules]]   # see rules
//! ```
//! Parse errors carry the line and column (from `toml`); semantic errors name the section and
//! the fix.
use crate::motion::MotionConfig;
use crate::rules::{LineConfig, RuleConfig, RulesConfig, ZoneConfig};
use crate::tracker::TrackerConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraConfig {
    pub camera: CameraSection,
    #[serde(default)]
    pub detector: DetectorSection,
    #[serde(default)]
    pub motion: MotionConfig,
    #[serde(default)]
    pub tracker: TrackerConfig,
    #[serde(default)]
    pub evidence: EvidenceSection,
    #[serde(default)]
    pub zones: Vec<ZoneConfig>,
    #[serde(default)]
    pub lines: Vec<LineConfig>,
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraSection {
    /// Short stable id, used in events and file names: letters, digits, `-`, `_`.
    pub id: String,
    /// What a person calls it.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorSection {
    /// A model description: a bare name is looked up as `models/NAME.toml`, anything with a `/` or
    /// ending in `.toml` is a path.
    pub model: String,
    /// Detections below this score are dropped before tracking.
    pub min_confidence: f32,
    /// Class names to keep; empty keeps all.
    pub classes: Vec<String>,
    /// Frames per detector call when several are ready (files, or many cameras).
    pub batch: usize,
    /// Run the detector on every frame, even where nothing moves (for measuring the gate).
    pub motion_gate: bool,
}

impl Default for DetectorSection {
    fn default() -> Self {
        Self {
            model: "yolov4-tiny-416".into(),
            min_confidence: 0.25,
            classes: Vec::new(),
            batch: 4,
            motion_gate: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceSection {
    pub jpeg_quality: u8,
    /// The face detector runs on the frame enlarged by this factor (CCTV faces are 8-10 px).
    pub face_upscale: f32,
    /// Also store a crop around the objects of each event.
    pub crops: bool,
    /// A key file (64 hex digits; `posbon evidence keygen`). When set, the unredacted frame of
    /// each event is also stored, encrypted with this key, under `evidence/originals/`. Without
    /// it nothing unredacted is ever written. A relative path is relative to the config file.
    pub original_key: Option<std::path::PathBuf>,
}

impl Default for EvidenceSection {
    fn default() -> Self {
        Self {
            jpeg_quality: 85,
            face_upscale: 2.0,
            crops: true,
            original_key: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("camera config {source_name}: {err}")]
    Parse {
        source_name: String,
        err: toml::de::Error,
    },
    #[error("camera config {source_name}: {msg}")]
    Invalid { source_name: String, msg: String },
}

impl CameraConfig {
    /// Parse a camera config; `source_name` (usually the file path) is named in every error.
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<Self, ConfigError> {
        let cfg: CameraConfig = toml::from_str(text).map_err(|err| ConfigError::Parse {
            source_name: source_name.to_string(),
            err,
        })?;
        cfg.check_basic(source_name)?;
        Ok(cfg)
    }

    fn check_basic(&self, source_name: &str) -> Result<(), ConfigError> {
        let invalid = |msg: String| ConfigError::Invalid {
            source_name: source_name.to_string(),
            msg,
        };
        let id = &self.camera.id;
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(format!(
                "[camera] id = {id:?} must be non-empty and use only letters, digits, '-' and '_'"
            )));
        }
        let d = &self.detector;
        if !(0.0..=1.0).contains(&d.min_confidence) {
            return Err(invalid(format!(
                "[detector] min_confidence = {} must be between 0 and 1",
                d.min_confidence
            )));
        }
        if d.batch == 0 || d.batch > 64 {
            return Err(invalid(format!(
                "[detector] batch = {} must be between 1 and 64",
                d.batch
            )));
        }
        if !(1..=100).contains(&self.evidence.jpeg_quality) {
            return Err(invalid(format!(
                "[evidence] jpeg_quality = {} must be between 1 and 100",
                self.evidence.jpeg_quality
            )));
        }
        if !(1.0..=4.0).contains(&self.evidence.face_upscale) {
            return Err(invalid(format!(
                "[evidence] face_upscale = {} must be between 1 and 4 (2 finds CCTV-size faces)",
                self.evidence.face_upscale
            )));
        }
        self.motion
            .validate()
            .map_err(|e| invalid(format!("[motion] {e}")))?;
        Ok(())
    }

    /// The zones, lines and rules as the rule engine takes them.
    pub fn rules_config(&self) -> RulesConfig {
        RulesConfig {
            zones: self.zones.clone(),
            lines: self.lines.clone(),
            rules: self.rules.clone(),
        }
    }

    /// Resolve `[detector] classes` against the model's class names: the ids to keep (all if
    /// empty), or an error naming the unknown class and listing some known ones.
    pub fn class_filter(&self, class_names: &[String]) -> Result<Vec<u32>, String> {
        if self.detector.classes.is_empty() {
            return Ok((0..class_names.len() as u32).collect());
        }
        self.detector
            .classes
            .iter()
            .map(|c| {
                class_names
                    .iter()
                    .position(|n| n == c)
                    .map(|i| i as u32)
                    .ok_or_else(|| {
                        let some: Vec<&str> =
                            class_names.iter().take(12).map(String::as_str).collect();
                        format!(
                            "[detector] classes: the model has no class {c:?}; it knows e.g. {}",
                            some.join(", ")
                        )
                    })
            })
            .collect()
    }
}
