//! Cameras and the events the video pipeline reports from them.
use serde::{Deserialize, Serialize};

use crate::geo::{GeoPoint, MahallaId};
use crate::time::Timestamp;
use crate::{DomainError, check_text, id_type};

id_type!(CameraId);
id_type!(EventId);

/// A registered camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    pub id: CameraId,
    pub name: String,
    /// The stream (`rtsp://...`) or file the pipeline reads.
    pub url: String,
    pub mahalla: MahallaId,
    /// The pipeline's camera configuration (zones and rules), as TOML text.
    pub config_toml: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<GeoPoint>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCamera {
    pub name: String,
    pub url: String,
    pub mahalla: MahallaId,
    pub config_toml: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<GeoPoint>,
}

impl NewCamera {
    /// Checks the fields this crate can judge; the TOML's meaning is the pipeline's to check.
    pub fn validate(&self) -> Result<(), DomainError> {
        check_text("camera name", &self.name, 200, false)?;
        check_text("camera url", &self.url, 2048, false)?;
        check_text("camera config", &self.config_toml, 1 << 20, true)?;
        self.position.as_ref().map_or(Ok(()), GeoPoint::validate)
    }
}

/// What the pipeline reported, as stored: the rule that fired, when, and the pipeline's event
/// JSON (kind, tracks, boxes, details, redacted evidence paths).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub camera: CameraId,
    pub rule: String,
    pub at: Timestamp,
    pub payload: serde_json::Value,
    pub received_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub camera: CameraId,
    pub rule: String,
    pub at: Timestamp,
    pub payload: serde_json::Value,
}

/// An event's JSON is bounded: it holds boxes and paths, never images.
pub const MAX_EVENT_PAYLOAD_BYTES: usize = 256 << 10;

impl NewEvent {
    pub fn validate(&self) -> Result<(), DomainError> {
        check_text("rule", &self.rule, 200, false)?;
        if !self.payload.is_object() {
            return Err(DomainError::invalid(
                "event payload",
                "is not a JSON object",
            ));
        }
        let n = self.payload.to_string().len();
        if n > MAX_EVENT_PAYLOAD_BYTES {
            return Err(DomainError::invalid(
                "event payload",
                format!("is {n} bytes; at most {MAX_EVENT_PAYLOAD_BYTES} are allowed"),
            ));
        }
        Ok(())
    }
}
