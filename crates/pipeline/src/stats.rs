//! Counters for the summary, the progress bar and the benchmark.
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Frames that went through tracking and rules.
    pub frames: u64,
    /// Frames the motion gate let skip the detector.
    pub frames_gated: u64,
    /// Frames on which the detector looked only at the regions that moved.
    pub frames_regions: u64,
    /// The detector's work in whole-frame runs: a frame detected whole counts 1, a frame
    /// detected on regions counts their share of a whole frame's model pixels, a skipped frame 0.
    pub detector_work: f64,
    /// Batched detector invocations, and the frames they covered.
    pub detector_calls: u64,
    pub detector_frames: u64,
    pub detections: u64,
    /// Distinct confirmed tracks seen, by class name.
    pub tracks_by_class: BTreeMap<String, u64>,
    pub events_by_rule: BTreeMap<String, u64>,
    pub evidence_images: u64,
    /// Seconds spent per stage (wall clock, this thread).
    pub decode_s: f64,
    pub gate_s: f64,
    pub detect_s: f64,
    pub track_rules_s: f64,
    pub evidence_s: f64,
    pub wall_s: f64,
    #[serde(skip)]
    seen: HashSet<u64>,
}

impl Stats {
    pub(crate) fn see_track(&mut self, id: u64, class: &str) {
        if self.seen.insert(id) {
            *self.tracks_by_class.entry(class.to_string()).or_default() += 1;
        }
    }

    pub fn events(&self) -> u64 {
        self.events_by_rule.values().sum()
    }

    /// Share of the whole-frame detector work the motion gate saved, 0..=1.
    pub fn detector_saved(&self) -> f64 {
        if self.frames == 0 {
            0.0
        } else {
            1.0 - self.detector_work / self.frames as f64
        }
    }

    pub fn fps(&self) -> f64 {
        if self.wall_s > 0.0 {
            self.frames as f64 / self.wall_s
        } else {
            0.0
        }
    }
}
