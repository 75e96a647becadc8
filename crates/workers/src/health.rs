//! A camera's health as its worker sees it, and when a change of it is an alert.
//!
//! An outage raises one `camera_offline` alert however many times the worker retries, and the
//! first frame after it records one `camera_online`: the alert is latched until the camera
//! delivers again.
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use domain::{CameraId, CameraState, CameraStatus, Timestamp};

/// Frames arriving within this window make the frame rate.
const FPS_WINDOW: Duration = Duration::from_secs(5);

/// What the worker must record when health changes.
#[derive(Debug, Clone, PartialEq)]
pub enum Alert {
    /// The camera failed or went offline: record a `camera_offline` event with this reason.
    Offline { reason: String },
    /// Frames arrive again after an alert: record `camera_online`.
    Online,
}

#[derive(Debug)]
pub struct Health {
    pub camera: CameraId,
    pub state: CameraState,
    /// Frames analysed since the camera's worker was first started by this server.
    pub frames: u64,
    pub last_frame_at: Option<Timestamp>,
    pub last_frame: Option<Instant>,
    pub last_error: Option<String>,
    /// A `camera_offline` was recorded and no frame has come since.
    pub alerted: bool,
    /// Counters for metrics.
    pub offline_alerts: u64,
    pub events_stored: u64,
    pub events_failed: u64,
    pub restarts: u64,
    recent: VecDeque<Instant>,
    since: Instant,
}

impl Health {
    pub fn new(camera: CameraId) -> Health {
        Health {
            camera,
            state: CameraState::Starting,
            frames: 0,
            last_frame_at: None,
            last_frame: None,
            last_error: None,
            alerted: false,
            offline_alerts: 0,
            events_stored: 0,
            events_failed: 0,
            restarts: 0,
            recent: VecDeque::new(),
            since: Instant::now(),
        }
    }

    /// A frame arrived (at wall time `at`).
    pub fn frame(&mut self, now: Instant, at: Timestamp) -> Option<Alert> {
        self.frames += 1;
        self.last_frame = Some(now);
        self.last_frame_at = Some(at);
        self.recent.push_back(now);
        self.prune(now);
        self.state = CameraState::Online;
        if self.alerted {
            self.alerted = false;
            Some(Alert::Online)
        } else {
            None
        }
    }

    /// The stream dropped or cannot be reached.
    pub fn offline(&mut self, reason: &str) -> Option<Alert> {
        self.fail(CameraState::Offline, reason)
    }

    /// The pipeline failed (configuration, models, a crash).
    pub fn error(&mut self, reason: &str) -> Option<Alert> {
        self.fail(CameraState::Error, reason)
    }

    fn fail(&mut self, state: CameraState, reason: &str) -> Option<Alert> {
        self.state = state;
        self.last_error = Some(reason.to_string());
        self.recent.clear();
        if self.alerted {
            None
        } else {
            self.alerted = true;
            self.offline_alerts += 1;
            Some(Alert::Offline {
                reason: reason.to_string(),
            })
        }
    }

    /// The worker is (re)starting its pipeline.
    pub fn starting(&mut self) {
        if !self.alerted {
            self.state = CameraState::Starting;
        }
        self.since = Instant::now();
    }

    /// The worker ended on purpose (disabled, edited, the file ended, shutdown). An alert still
    /// latched is dropped: a camera switched off is not an outage.
    pub fn stopped(&mut self) {
        self.state = CameraState::Stopped;
        self.alerted = false;
        self.recent.clear();
    }

    fn prune(&mut self, now: Instant) {
        while let Some(t) = self.recent.front() {
            if now.duration_since(*t) > FPS_WINDOW {
                self.recent.pop_front();
            } else {
                break;
            }
        }
    }

    /// Frames per second over the last few seconds (0 when none arrived lately).
    pub fn fps(&mut self, now: Instant) -> f64 {
        self.prune(now);
        if self.state != CameraState::Online || self.recent.is_empty() {
            return 0.0;
        }
        let span = now
            .duration_since(self.since)
            .min(FPS_WINDOW)
            .as_secs_f64()
            .max(0.5);
        self.recent.len() as f64 / span
    }

    /// Seconds since the last frame, while online.
    pub fn silent_for(&self, now: Instant) -> Option<Duration> {
        if self.state != CameraState::Online {
            return None;
        }
        self.last_frame.map(|t| now.duration_since(t))
    }

    pub fn status(&mut self, now: Instant, updated_at: Timestamp) -> CameraStatus {
        CameraStatus {
            camera: self.camera,
            state: self.state,
            fps: self.fps(now),
            frames: self.frames,
            last_frame_at: self.last_frame_at,
            last_error: self.last_error.clone(),
            updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_alert_per_outage_and_one_return() {
        let mut h = Health::new(CameraId(1));
        let t = Instant::now();
        assert_eq!(h.state, CameraState::Starting);
        assert_eq!(
            h.offline("connection refused"),
            Some(Alert::Offline {
                reason: "connection refused".into()
            })
        );
        // Retries fail again: no further alert, the latest reason is kept.
        h.starting();
        assert_eq!(h.state, CameraState::Offline);
        assert_eq!(h.offline("timed out"), None);
        assert_eq!(h.error("the detector failed"), None);
        assert_eq!(h.last_error.as_deref(), Some("the detector failed"));
        assert_eq!(h.offline_alerts, 1);
        // The first frame after it ends the outage, once.
        assert_eq!(h.frame(t, Timestamp::UNIX_EPOCH), Some(Alert::Online));
        assert_eq!(h.frame(t, Timestamp::UNIX_EPOCH), None);
        assert_eq!(h.state, CameraState::Online);
        assert_eq!(h.last_error.as_deref(), Some("the detector failed"));
        // A second outage is a second alert.
        assert!(h.offline("reset").is_some());
        assert_eq!(h.offline_alerts, 2);
        // Switching off drops the latch without an online record.
        h.stopped();
        assert_eq!(h.state, CameraState::Stopped);
        assert!(h.offline("again").is_some());
    }

    #[test]
    fn fps_counts_recent_frames_only() {
        let mut h = Health::new(CameraId(1));
        let t0 = Instant::now();
        for i in 0..50 {
            h.frame(t0 + Duration::from_millis(100 * i), Timestamp::UNIX_EPOCH);
        }
        let now = t0 + Duration::from_millis(4_950);
        let fps = h.fps(now);
        assert!((9.0..=11.0).contains(&fps), "{fps}");
        assert_eq!(
            h.silent_for(now + Duration::from_secs(30))
                .map(|d| d.as_secs()),
            Some(30)
        );
        // Long silence: nothing in the window.
        assert_eq!(h.fps(now + Duration::from_secs(60)), 0.0);
        h.offline("gone");
        assert_eq!(h.fps(now), 0.0);
        assert_eq!(h.silent_for(now), None);
    }
}
