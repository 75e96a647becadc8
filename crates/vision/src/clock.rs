//! Time as the pipeline sees it. Rules never read a wall clock: every frame carries its
//! [`Timestamp`], and a [`Clock`] maps a frame's presentation time to the time events are stamped
//! with. A 60-second loitering rule is therefore tested by handing in frames 60 s apart.
use serde::{Deserialize, Serialize};

/// Microseconds since the Unix epoch (UTC).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_secs_f64(s: f64) -> Self {
        Timestamp((s * 1e6).round() as i64)
    }
    pub fn as_secs_f64(&self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// Seconds from `earlier` to `self` (negative if `earlier` is later).
    pub fn secs_since(&self, earlier: Timestamp) -> f64 {
        (self.0 - earlier.0) as f64 / 1e6
    }
    pub fn add_secs(&self, s: f64) -> Self {
        Timestamp(self.0 + (s * 1e6).round() as i64)
    }
}

/// Maps a frame's presentation time (seconds from the start of its stream) to an absolute time.
pub trait Clock: Send {
    fn stamp(&mut self, pts_secs: f64) -> Timestamp;
}

/// A file's frames happened at `start + pts`; tests use a fixed `start`.
#[derive(Debug, Clone, Copy)]
pub struct FixedStart(pub Timestamp);

impl Clock for FixedStart {
    fn stamp(&mut self, pts_secs: f64) -> Timestamp {
        self.0.add_secs(pts_secs)
    }
}
