//! A camera control for the tests of a camera's console page: configurations are checked by the
//! pipeline's own parser and rule validation (`vision`, as the workers do, with the demo model's
//! classes standing in for the model file), the cameras applied are remembered, and the cameras
//! named are online with a redacted snapshot (the test scene), or have delivered no frame.
#![allow(dead_code)]

use std::sync::Mutex;
use std::time::Duration;

use domain::{Camera, CameraId, CameraState, CameraStatus, Timestamp};
use server::cameras::{CameraControl, Snapshot};

/// The classes of config/demo-camera.toml's detector section.
pub const CLASSES: &[&str] = &[
    "person", "bicycle", "car", "truck", "backpack", "handbag", "suitcase",
];

pub struct FakeCameras {
    /// The cameras reported on.
    cameras: Vec<CameraId>,
    /// Whether they have delivered frames (online with a snapshot) or none yet.
    frames: bool,
    /// Every record applied, in order.
    pub applied: Mutex<Vec<Camera>>,
}

impl FakeCameras {
    pub fn new(cameras: &[CameraId], frames: bool) -> FakeCameras {
        FakeCameras {
            cameras: cameras.to_vec(),
            frames,
            applied: Mutex::new(Vec::new()),
        }
    }
}

/// The pipeline's checks of a camera's TOML, in the order the workers run them: syntax and
/// sections (`[camera]` may be left out), the detector's classes, then zones, lines and rules.
pub fn pipeline_check(text: &str) -> Result<vision::config::CameraConfig, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("config_toml: {e}"))?;
    let text = if table.contains_key("camera") {
        text.to_owned()
    } else {
        format!("{text}\n[camera]\nid = \"camera-0\"\n")
    };
    let cfg = vision::config::CameraConfig::from_toml_str(&text, "config_toml")
        .map_err(|e| e.to_string())?;
    let names: Vec<String> = CLASSES.iter().map(|c| (*c).to_owned()).collect();
    cfg.class_filter(&names)
        .map_err(|e| format!("config_toml: {e}"))?;
    cfg.rules_config()
        .validate(&names)
        .map_err(|e| format!("config_toml: the rules do not fit: {e}"))?;
    Ok(cfg)
}

impl CameraControl for FakeCameras {
    fn validate_config(&self, toml: &str) -> Result<(), String> {
        pipeline_check(toml).map(|_| ())
    }
    fn validate_url(&self, url: &str) -> Result<(), String> {
        if url.starts_with("rtsp://") || url.starts_with("file:") {
            Ok(())
        } else {
            Err(format!("{url:?} is neither rtsp:// nor file:"))
        }
    }
    fn apply(&self, camera: &Camera) {
        self.applied.lock().unwrap().push(camera.clone());
    }
    fn remove(&self, _id: CameraId) {}
    fn health(&self) -> Vec<CameraStatus> {
        let now = Timestamp::now();
        self.cameras
            .iter()
            .map(|&camera| CameraStatus {
                camera,
                state: if self.frames {
                    CameraState::Online
                } else {
                    CameraState::Offline
                },
                fps: if self.frames { 9.87 } else { 0.0 },
                frames: if self.frames { 4321 } else { 0 },
                last_frame_at: self.frames.then_some(now),
                last_error: (!self.frames)
                    .then(|| "rtsp://cam:***@127.0.0.1:8554/gate: connection refused".to_owned()),
                updated_at: now,
            })
            .collect()
    }
    fn snapshot(&self, id: CameraId, _wait: Duration) -> Option<Snapshot> {
        (self.frames && self.cameras.contains(&id)).then(|| Snapshot {
            jpeg: crate::scene::jpeg(),
            at: Timestamp::now(),
        })
    }
}
