//! Cameras and the events the video pipeline reports from them.
use serde::{Deserialize, Serialize};

use crate::geo::{GeoPoint, MahallaId};
use crate::time::Timestamp;
use crate::{DomainError, check_text, id_type, word_enum};

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
    /// Whether the server runs its pipeline. A disabled camera keeps its events and settings.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl Camera {
    /// SHA-256 of the configuration text, in hex: what the audit log keeps of it.
    pub fn config_sha256(&self) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(self.config_toml.as_bytes()))
    }
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

/// A change to a registered camera: each field given replaces the stored one, each left out
/// keeps it. `position: Some(None)` (JSON `"position": null`) removes the position.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mahalla: Option<MahallaId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_toml: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub position: Option<Option<GeoPoint>>,
}

/// A field that is present, even as `null`, is `Some`; only an absent one is `None`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl CameraUpdate {
    /// The same checks as [`NewCamera::validate`], on the fields given.
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(n) = &self.name {
            check_text("camera name", n, 200, false)?;
        }
        if let Some(u) = &self.url {
            check_text("camera url", u, 2048, false)?;
        }
        if let Some(c) = &self.config_toml {
            check_text("camera config", c, 1 << 20, true)?;
        }
        match &self.position {
            Some(Some(p)) => p.validate(),
            _ => Ok(()),
        }
    }

    /// The names of the fields this update sets, for the audit log.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.name.is_some() {
            f.push("name");
        }
        if self.url.is_some() {
            f.push("url");
        }
        if self.mahalla.is_some() {
            f.push("mahalla");
        }
        if self.config_toml.is_some() {
            f.push("config_toml");
        }
        if self.position.is_some() {
            f.push("position");
        }
        f
    }

    /// `camera` with this update applied.
    pub fn apply_to(&self, camera: &Camera) -> Camera {
        let mut c = camera.clone();
        if let Some(v) = &self.name {
            c.name = v.clone();
        }
        if let Some(v) = &self.url {
            c.url = v.clone();
        }
        if let Some(v) = self.mahalla {
            c.mahalla = v;
        }
        if let Some(v) = &self.config_toml {
            c.config_toml = v.clone();
        }
        if let Some(v) = self.position {
            c.position = v;
        }
        c
    }
}

word_enum! {
    /// What a camera's worker is doing.
    pub enum CameraState("camera state") {
        /// Opening the stream or loading the models.
        Starting = "starting",
        /// Frames are arriving and being analysed.
        Online = "online",
        /// The stream dropped or cannot be reached; the worker keeps retrying.
        Offline = "offline",
        /// Not running: the camera is disabled, its file ended, or the server stops.
        Stopped = "stopped",
        /// The pipeline failed (a bad configuration, a model that does not load); retried with
        /// back-off.
        Error = "error",
    }
}

/// A camera's health as its worker last reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraStatus {
    pub camera: CameraId,
    pub state: CameraState,
    /// Frames analysed per second over the last few seconds.
    pub fps: f64,
    /// Frames analysed since the worker (re)started.
    pub frames: u64,
    pub last_frame_at: Option<Timestamp>,
    /// The last failure (passwords in URLs removed), kept after recovery until the next one.
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
}

/// `scheme://user:password@host/...` with the password replaced by `***`: what the API shows and
/// the audit log keeps of a camera's URL.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{}{}{}", &url[..scheme_end + 3], masked, &rest[at..])
        }
        None => url.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_tells_absent_from_null() {
        let u: CameraUpdate = serde_json::from_str(r#"{"name":"gate"}"#).unwrap();
        assert_eq!(u.position, None);
        assert_eq!(u.fields(), vec!["name"]);
        let u: CameraUpdate = serde_json::from_str(r#"{"position":null}"#).unwrap();
        assert_eq!(u.position, Some(None));
        let u: CameraUpdate =
            serde_json::from_str(r#"{"position":{"lon":69.2,"lat":41.3}}"#).unwrap();
        assert_eq!(
            u.position,
            Some(Some(GeoPoint {
                lon: 69.2,
                lat: 41.3
            }))
        );
        assert!(serde_json::from_str::<CameraUpdate>(r#"{"colour":"red"}"#).is_err());
        let bad = CameraUpdate {
            name: Some("  ".into()),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn urls_lose_only_their_password() {
        assert_eq!(
            redact_url("rtsp://admin:s3cret@10.0.0.5:554/h264"),
            "rtsp://admin:***@10.0.0.5:554/h264"
        );
        assert_eq!(
            redact_url("rtsp://admin@10.0.0.5/x"),
            "rtsp://admin@10.0.0.5/x"
        );
        assert_eq!(redact_url("rtsp://10.0.0.5/a@b"), "rtsp://10.0.0.5/a@b");
        assert_eq!(redact_url("file:/data/a:b@c.avi"), "file:/data/a:b@c.avi");
    }

    #[test]
    fn states_are_words() {
        for s in CameraState::ALL {
            assert_eq!(s.as_str().parse::<CameraState>().unwrap(), *s);
        }
        assert!("sleeping".parse::<CameraState>().is_err());
    }
}
