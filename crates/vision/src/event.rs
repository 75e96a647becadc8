//! What the pipeline emits.
use crate::clock::Timestamp;
use crate::geom::BBox;
use serde::{Deserialize, Serialize};

/// One thing that happened, as written to `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The rule's name from the camera config, or `camera_offline` / `camera_online`.
    pub rule: String,
    /// What kind of rule fired: `zone_enter`, `zone_exit`, `line_cross`, `loitering`, `crowding`,
    /// `object_left`, `wrong_way`, `camera_offline`, `camera_online`.
    pub kind: String,
    pub camera: String,
    pub time: Timestamp,
    /// Index of the frame that completed the event.
    pub frame: u64,
    /// The track that caused it; several for crowding, none for camera health.
    #[serde(default)]
    pub track_ids: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Boxes of the tracks involved, in frame pixels.
    #[serde(default)]
    pub boxes: Vec<BBox>,
    /// Free-form details: the crossing direction (`A->B`), dwell seconds, object count, ...
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
    /// Paths of redacted evidence images, relative to the output folder.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Paths of the sealed (encrypted) unredacted originals, relative to the output folder;
    /// present only when the camera's config names a key (`[evidence] original_key`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub originals: Vec<String>,
}
