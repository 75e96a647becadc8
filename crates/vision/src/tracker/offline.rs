//! Running the tracker over a whole MOT detection file, as `posbon track` and the TUD benchmark
//! test do. Offline, a gap in a track (frames where the detector missed an object that was later
//! found again) can be filled after the fact; that is the only use of the future made here.
use super::{Tracker, TrackerConfig};
use crate::geom::BBox;
use crate::mot::{self, MotRow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How to fill the frames in which a track was not seen but which it survived (it was matched
/// again later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GapFill {
    /// Leave gaps empty.
    None,
    /// The Kalman prediction made in each missed frame.
    Kalman,
    /// Straight-line interpolation between the boxes either side of the gap (ByteTrack's
    /// offline post-processing).
    #[default]
    Linear,
}

/// Settings of [`track_rows`] beyond the tracker's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfflineConfig {
    pub gap_fill: GapFill,
    /// Longest gap, in frames, that is filled.
    pub max_gap: u32,
}

impl Default for OfflineConfig {
    fn default() -> Self {
        Self {
            gap_fill: GapFill::Linear,
            max_gap: 20,
        }
    }
}

/// Track MOT detection rows (their ids are ignored; all are class 0; a confidence of `-1`
/// counts as 1). Every frame from 1 to the last one present goes through the tracker, empty or
/// not. Returns the tracks as MOT rows (id = track id, conf = the matched detection's score, or
/// `-1` for filled-in frames), sorted by frame, then id.
pub fn track_rows(rows: &[MotRow], cfg: &TrackerConfig, off: &OfflineConfig) -> Vec<MotRow> {
    let mut tracker = Tracker::new(cfg.clone());
    let mut out: Vec<MotRow> = Vec::new();
    // per track: (frame, predicted box) of the frames it has been unseen since its last match
    let mut pending: BTreeMap<u64, Vec<(u32, BBox)>> = BTreeMap::new();
    // per track: its last output row
    let mut last: BTreeMap<u64, MotRow> = BTreeMap::new();
    for (frame, frows) in mot::by_frame(rows) {
        let dets: Vec<_> = frows.iter().map(|r| r.detection(0)).collect();
        for o in tracker.update(&dets) {
            let row = MotRow::from_tracked(frame, &o);
            if let (Some(prev), Some(gap)) = (last.get(&o.id), pending.remove(&o.id)) {
                let n = gap.len() as u32;
                if n > 0 && n <= off.max_gap {
                    for (k, (f, pred)) in gap.into_iter().enumerate() {
                        let bbox = match off.gap_fill {
                            GapFill::None => continue,
                            GapFill::Kalman => pred,
                            GapFill::Linear => {
                                lerp(&prev.bbox, &row.bbox, (k + 1) as f32 / (n + 1) as f32)
                            }
                        };
                        out.push(MotRow::new(f, o.id as i64, bbox, -1.0));
                    }
                }
            }
            last.insert(o.id, row);
            out.push(row);
        }
        for a in tracker.active() {
            if a.frames_unseen > 0 {
                pending
                    .entry(a.object.id)
                    .or_default()
                    .push((frame, a.object.bbox));
            }
        }
    }
    out.sort_by_key(|r| (r.frame, r.id));
    out
}

fn lerp(a: &BBox, b: &BBox, t: f32) -> BBox {
    let l = |x: f32, y: f32| x + (y - x) * t;
    BBox::new(l(a.x1, b.x1), l(a.y1, b.y1), l(a.x2, b.x2), l(a.y2, b.y2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<MotRow> {
        mot::parse(text, "test").unwrap()
    }

    #[test]
    fn fills_a_gap_it_survived_and_not_one_it_did_not() {
        // one box walking right 10 px/frame, missing in frames 4-5
        let mut text = String::new();
        for f in [1, 2, 3, 6, 7] {
            text += &format!("{f},9,{},100,40,100,-1\n", 100 + 10 * (f - 1));
        }
        let cfg = TrackerConfig::default();
        let none = track_rows(
            &rows(&text),
            &cfg,
            &OfflineConfig {
                gap_fill: GapFill::None,
                max_gap: 20,
            },
        );
        assert_eq!(
            none.iter().map(|r| r.frame).collect::<Vec<_>>(),
            vec![1, 2, 3, 6, 7]
        );
        assert!(
            none.iter().all(|r| r.id == 1),
            "input ids are ignored: {none:?}"
        );
        for fill in [GapFill::Linear, GapFill::Kalman] {
            let out = track_rows(
                &rows(&text),
                &cfg,
                &OfflineConfig {
                    gap_fill: fill,
                    max_gap: 20,
                },
            );
            assert_eq!(
                out.iter().map(|r| r.frame).collect::<Vec<_>>(),
                vec![1, 2, 3, 4, 5, 6, 7],
                "{fill:?}"
            );
            let f4 = out[3];
            assert_eq!((f4.id, f4.conf), (1, -1.0));
            let truth = BBox::from_ltwh(130.0, 100.0, 40.0, 100.0);
            // the filter has seen only three frames, so its velocity (and the filtered ends that
            // linear interpolation joins) still lag the true 10 px/frame
            let need = if fill == GapFill::Linear { 0.85 } else { 0.6 };
            assert!(f4.bbox.iou(&truth) > need, "{fill:?}: {:?}", f4.bbox);
        }
        // a gap longer than max_gap stays empty
        let short = track_rows(
            &rows(&text),
            &cfg,
            &OfflineConfig {
                gap_fill: GapFill::Linear,
                max_gap: 1,
            },
        );
        assert_eq!(short.len(), 5);
        // a track that never comes back gets nothing after its last frame
        let gone = track_rows(
            &rows("1,1,0,0,40,100\n2,1,2,0,40,100\n5,1,600,0,40,100\n"),
            &cfg,
            &OfflineConfig::default(),
        );
        assert_eq!(
            gone.iter().map(|r| (r.frame, r.id)).collect::<Vec<_>>(),
            vec![(1, 1), (2, 1)]
        );
    }
}
