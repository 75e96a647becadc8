//! Multi-object tracking: a ByteTrack-class tracker.
//!
//! Each track carries a constant-velocity [`kalman`] filter over `cx, cy, aspect, height`. Every
//! frame, in order:
//! 1. all tracks are predicted one frame ahead;
//! 2. **high** detections (score ≥ `high_thresh`) are matched to every confirmed track, tracked
//!    or lost, by IoU of the predicted box, with an optimal ([`assign`]) assignment;
//! 3. **low** detections (`low_thresh` ≤ score < `high_thresh`) are matched to the tracked tracks
//!    still unmatched, so a partly hidden or blurred object keeps its track; tracked tracks left
//!    unmatched now become *lost*;
//! 4. tentative tracks (born recently, not yet confirmed) are matched to the high detections left;
//!    a tentative track that misses a frame is dropped;
//! 5. high detections still unmatched with score ≥ `new_track_thresh` start tentative tracks; a
//!    track is confirmed, and only then given an id, after `min_hits` consecutive matched frames;
//! 6. lost tracks unseen for more than `max_lost_frames` frames are deleted.
//!
//! Detections and tracks of different `class_id` are never associated. Ids start at 1 and are
//! never reused. The tracker is deterministic: the same detections give the same tracks.
//!
//! This module only follows boxes from frame to frame within one camera; it has no appearance
//! model and does not (and must not) re-identify anyone across cameras or sessions.
pub mod assign;
pub mod kalman;
pub mod offline;

use crate::detect::{Detection, TrackedObject};
use crate::geom::{BBox, Point};
use kalman::KalmanState;
use serde::{Deserialize, Serialize};

/// Tracker settings. Every field has a default (see [`TrackerConfig::default`]), so a TOML table
/// may set only what it changes; unknown keys are rejected.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerConfig {
    /// Detections scoring at least this are *high*: matched first, against all confirmed tracks
    /// (tracked and lost), and the only ones that can start a track.
    pub high_thresh: f32,
    /// Detections scoring below this are ignored. Those between `low_thresh` and `high_thresh`
    /// only keep already tracked objects alive.
    pub low_thresh: f32,
    /// An unmatched high detection starts a new (tentative) track only if it scores at least this.
    pub new_track_thresh: f32,
    /// Least IoU between a track's predicted box and a high detection for them to match.
    pub match_iou: f32,
    /// Least IoU between a tracked track's predicted box and a low detection for them to match.
    pub low_match_iou: f32,
    /// Least IoU between a tentative track and a high detection for them to match.
    pub tentative_match_iou: f32,
    /// Consecutive matched frames before a new track is confirmed, reported, and given an id.
    pub min_hits: u32,
    /// A confirmed track unmatched for more than this many consecutive frames is deleted.
    pub max_lost_frames: u32,
    /// Confirm the tracks born in the very first frame at once (as ByteTrack and SORT do): at a
    /// cold start there is no earlier frame for hysteresis to compare with.
    pub confirm_first_frame: bool,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            high_thresh: 0.5,
            low_thresh: 0.1,
            new_track_thresh: 0.6,
            match_iou: 0.2,
            low_match_iou: 0.5,
            tentative_match_iou: 0.3,
            min_hits: 2,
            max_lost_frames: 30,
            confirm_first_frame: true,
        }
    }
}

/// What [`TrackerConfig::validate`] rejects.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("tracker setting `{field}` = {value} is invalid: {reason}")]
pub struct TrackerConfigError {
    pub field: &'static str,
    pub value: String,
    pub reason: &'static str,
}

impl TrackerConfig {
    /// Check ranges and orderings; the error names the setting and what it must be.
    pub fn validate(&self) -> Result<(), TrackerConfigError> {
        let unit = |field: &'static str, v: f32| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(TrackerConfigError {
                    field,
                    value: v.to_string(),
                    reason: "must be between 0 and 1",
                })
            }
        };
        unit("high_thresh", self.high_thresh)?;
        unit("low_thresh", self.low_thresh)?;
        unit("new_track_thresh", self.new_track_thresh)?;
        unit("match_iou", self.match_iou)?;
        unit("low_match_iou", self.low_match_iou)?;
        unit("tentative_match_iou", self.tentative_match_iou)?;
        if self.low_thresh > self.high_thresh {
            return Err(TrackerConfigError {
                field: "low_thresh",
                value: self.low_thresh.to_string(),
                reason: "must not exceed high_thresh",
            });
        }
        if self.min_hits == 0 {
            return Err(TrackerConfigError {
                field: "min_hits",
                value: "0".into(),
                reason: "must be at least 1 (1 confirms a track on its first detection)",
            });
        }
        Ok(())
    }
}

/// Where a track is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackState {
    /// Born recently, not yet matched `min_hits` frames in a row; has no id and is not reported.
    Tentative,
    /// Confirmed and matched in its latest frame.
    Tracked,
    /// Confirmed, but unmatched for `frames_unseen` frames; its box is the motion prediction.
    Lost,
}

/// A live confirmed track, as [`Tracker::active`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ActiveTrack {
    /// The box is the filtered estimate if matched in the latest frame, else the prediction.
    pub object: TrackedObject,
    pub state: TrackState,
    /// 0 if matched in the latest frame.
    pub frames_unseen: u32,
    /// Frames in which the track was matched to a detection, in all.
    pub hits: u32,
    /// Estimated motion of the box centre, pixels per frame.
    pub velocity: Point,
}

#[derive(Debug, Clone)]
struct Track {
    /// Given on confirmation, so tentative tracks that die do not use up ids.
    id: Option<u64>,
    kf: KalmanState,
    state: TrackState,
    hits: u32,
    frames_unseen: u32,
    class_id: u32,
    score: f32,
}

impl Track {
    fn object(&self) -> Option<TrackedObject> {
        Some(TrackedObject {
            id: self.id?,
            bbox: self.kf.bbox(),
            score: self.score,
            class_id: self.class_id,
        })
    }
    fn hit(&mut self, d: &Detection) {
        self.kf.update(&d.bbox);
        self.hits += 1;
        self.frames_unseen = 0;
        self.score = d.score;
        if self.state == TrackState::Lost {
            self.state = TrackState::Tracked;
        }
    }
}

/// A ByteTrack-class multi-object tracker for one camera. See the module documentation.
#[derive(Debug, Clone)]
pub struct Tracker {
    cfg: TrackerConfig,
    tracks: Vec<Track>,
    frame: u64,
    next_id: u64,
}

impl Tracker {
    /// A tracker with these settings. Call [`TrackerConfig::validate`] first on settings that
    /// come from a user; out-of-range values here are not rejected, only behave oddly.
    pub fn new(cfg: TrackerConfig) -> Self {
        Self {
            cfg,
            tracks: Vec::new(),
            frame: 0,
            next_id: 1,
        }
    }

    pub fn config(&self) -> &TrackerConfig {
        &self.cfg
    }

    /// Frames processed so far.
    pub fn frames(&self) -> u64 {
        self.frame
    }

    /// Feed one frame's detections (call once per frame, in order, also for frames with none).
    /// Returns the confirmed tracks matched to a detection in this frame, by id, with their
    /// Kalman-filtered boxes.
    pub fn update(&mut self, dets: &[Detection]) -> Vec<TrackedObject> {
        self.frame += 1;
        for t in &mut self.tracks {
            if t.state != TrackState::Tracked {
                // as ByteTrack: a track out of sight does not keep growing or shrinking
                t.kf.mean[7] = 0.0;
            }
            t.kf.predict();
        }
        let cfg = &self.cfg;
        let high: Vec<usize> = (0..dets.len())
            .filter(|&i| dets[i].score >= cfg.high_thresh)
            .collect();
        let low: Vec<usize> = (0..dets.len())
            .filter(|&i| dets[i].score >= cfg.low_thresh && dets[i].score < cfg.high_thresh)
            .collect();
        let mut matched_now = vec![false; self.tracks.len()];

        // 1. high detections against every confirmed track
        let pool: Vec<usize> = (0..self.tracks.len())
            .filter(|&t| self.tracks[t].state != TrackState::Tentative)
            .collect();
        let a = associate(&self.tracks, &pool, dets, &high, cfg.match_iou);
        for &(t, d) in &a.matches {
            self.tracks[t].hit(&dets[d]);
            matched_now[t] = true;
        }
        let high_left = a.unmatched_dets;

        // 2. low detections against tracked tracks still unmatched
        let rest: Vec<usize> = a
            .unmatched_tracks
            .iter()
            .copied()
            .filter(|&t| self.tracks[t].state == TrackState::Tracked)
            .collect();
        let b = associate(&self.tracks, &rest, dets, &low, cfg.low_match_iou);
        for &(t, d) in &b.matches {
            self.tracks[t].hit(&dets[d]);
            matched_now[t] = true;
        }

        // 3. tentative tracks against the high detections left
        let tentative: Vec<usize> = (0..self.tracks.len())
            .filter(|&t| self.tracks[t].state == TrackState::Tentative)
            .collect();
        let c = associate(
            &self.tracks,
            &tentative,
            dets,
            &high_left,
            cfg.tentative_match_iou,
        );
        for &(t, d) in &c.matches {
            let tr = &mut self.tracks[t];
            tr.hit(&dets[d]);
            matched_now[t] = true;
            if tr.hits >= cfg.min_hits {
                tr.state = TrackState::Tracked;
                tr.id = Some(self.next_id);
                self.next_id += 1;
            }
        }

        // unmatched: confirmed tracks age (tracked → lost), tentative ones die
        let mut keep = vec![true; self.tracks.len()];
        for (t, tr) in self.tracks.iter_mut().enumerate() {
            if matched_now[t] {
                continue;
            }
            match tr.state {
                TrackState::Tentative => keep[t] = false,
                TrackState::Tracked | TrackState::Lost => {
                    tr.state = TrackState::Lost;
                    tr.frames_unseen += 1;
                    if tr.frames_unseen > cfg.max_lost_frames {
                        keep[t] = false;
                    }
                }
            }
        }

        // 4. births from the high detections nobody took
        let first = self.frame == 1 && cfg.confirm_first_frame;
        for &d in &c.unmatched_dets {
            let det = &dets[d];
            if det.score < cfg.new_track_thresh {
                continue;
            }
            let confirmed = cfg.min_hits <= 1 || first;
            let id = if confirmed {
                self.next_id += 1;
                Some(self.next_id - 1)
            } else {
                None
            };
            self.tracks.push(Track {
                id,
                kf: KalmanState::initiate(&det.bbox),
                state: if confirmed {
                    TrackState::Tracked
                } else {
                    TrackState::Tentative
                },
                hits: 1,
                frames_unseen: 0,
                class_id: det.class_id,
                score: det.score,
            });
            matched_now.push(true);
            keep.push(true);
        }

        let mut out: Vec<TrackedObject> = self
            .tracks
            .iter()
            .zip(&matched_now)
            .zip(&keep)
            .filter(|((_, m), k)| **m && **k)
            .filter_map(|((t, _), _)| t.object())
            .collect();
        out.sort_by_key(|o| o.id);
        let mut i = 0;
        self.tracks.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        out
    }

    /// Every live confirmed track after the latest [`Tracker::update`], including those unmatched
    /// in it (with their predicted boxes): for rules that need to know an object is still there
    /// though the detector missed it for a moment. Sorted by id.
    pub fn active(&self) -> Vec<ActiveTrack> {
        let mut v: Vec<ActiveTrack> = self
            .tracks
            .iter()
            .filter_map(|t| {
                Some(ActiveTrack {
                    object: t.object()?,
                    state: t.state,
                    frames_unseen: t.frames_unseen,
                    hits: t.hits,
                    velocity: Point::new(t.kf.mean[4] as f32, t.kf.mean[5] as f32),
                })
            })
            .collect();
        v.sort_by_key(|a| a.object.id);
        v
    }
}

struct Assoc {
    /// (track index, detection index)
    matches: Vec<(usize, usize)>,
    unmatched_tracks: Vec<usize>,
    unmatched_dets: Vec<usize>,
}

/// Optimal IoU matching of `tracks[ts]` (predicted boxes) to `dets[ds]`, pairs needing
/// `IoU >= min_iou` and the same class.
fn associate(
    tracks: &[Track],
    ts: &[usize],
    dets: &[Detection],
    ds: &[usize],
    min_iou: f32,
) -> Assoc {
    let boxes: Vec<BBox> = ts.iter().map(|&t| tracks[t].kf.bbox()).collect();
    let cost = |r: usize, c: usize| {
        let (t, d) = (&tracks[ts[r]], &dets[ds[c]]);
        if d.class_id == t.class_id {
            1.0 - f64::from(boxes[r].iou(&d.bbox))
        } else {
            f64::INFINITY
        }
    };
    let a = assign::assign_with_limit(ts.len(), ds.len(), cost, 1.0 - f64::from(min_iou));
    Assoc {
        matches: a.matches.iter().map(|&(r, c)| (ts[r], ds[c])).collect(),
        unmatched_tracks: a.unmatched_rows.iter().map(|&r| ts[r]).collect(),
        unmatched_dets: a.unmatched_cols.iter().map(|&c| ds[c]).collect(),
    }
}

#[cfg(test)]
mod tests;
