//! The engine on real pedestrian trajectories: the ground-truth tracks of TUD-Campus and
//! TUD-Stadtmitte (640x480, 25 frames/s; from the `motmetrics` package, see ASSETS.md). The
//! expected events are counted here by a separate, plain computation on pixel coordinates, so
//! the test checks the engine's normalisation, side convention, hysteresis and debounce on data
//! it was not written for.
use std::collections::BTreeMap;
use std::time::Instant;
use vision::clock::Timestamp;
use vision::detect::TrackedObject;
use vision::geom::BBox;
use vision::rules::{RuleEngine, RulesConfig};

const W: u32 = 640;
const H: u32 = 480;
const FPS: f64 = 25.0;

use assets::asset_root;

/// Frames (1-based MOT frame number) -> objects, all class 0 (person).
fn load_gt(seq: &str) -> BTreeMap<u64, Vec<TrackedObject>> {
    let path = asset_root().join("motmetrics").join(seq).join("gt.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `posbon assets fetch`", path.display()));
    let mut frames: BTreeMap<u64, Vec<TrackedObject>> = BTreeMap::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let f: Vec<f32> = line
            .split(',')
            .map(|v| {
                v.trim()
                    .parse()
                    .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1))
            })
            .collect();
        frames.entry(f[0] as u64).or_default().push(TrackedObject {
            id: f[1] as u64,
            bbox: BBox::from_ltwh(f[2], f[3], f[4], f[5]),
            score: 1.0,
            class_id: 0,
        });
    }
    frames
}

fn start() -> Timestamp {
    Timestamp(1_700_000_000_000_000)
}

fn run(cfg: &str, seq: &str) -> (Vec<vision::event::Event>, BTreeMap<u64, Vec<TrackedObject>>) {
    let cfg = RulesConfig::from_toml_str(cfg).unwrap();
    let names = vec!["person".to_string()];
    let mut e = RuleEngine::new(&cfg, &names, seq, W, H).unwrap();
    let gt = load_gt(seq);
    let mut events = Vec::new();
    for (&f, objs) in &gt {
        events.extend(e.update(f, start().add_secs((f - 1) as f64 / FPS), objs));
    }
    (events, gt)
}

/// Per track, its foot points in frame order (pixels).
fn feet(gt: &BTreeMap<u64, Vec<TrackedObject>>) -> BTreeMap<u64, Vec<(u64, f32, f32)>> {
    let mut tracks: BTreeMap<u64, Vec<(u64, f32, f32)>> = BTreeMap::new();
    for (&f, objs) in gt {
        for o in objs {
            tracks
                .entry(o.id)
                .or_default()
                .push((f, (o.bbox.x1 + o.bbox.x2) / 2.0, o.bbox.y2));
        }
    }
    tracks
}

#[test]
fn line_crossings_match_a_plain_count_on_real_tracks() {
    // a full-height vertical line in the middle, drawn top to bottom: side A is x > 320 px
    let cfg = r#"
[[lines]]
name = "middle"
from = [0.5, 0.0]
to = [0.5, 1.0]
margin = 0.01
[[rules]]
name = "cross"
kind = "line_cross"
line = "middle"
"#;
    let mut total = 0;
    for seq in ["TUD-Campus", "TUD-Stadtmitte"] {
        let (events, gt) = run(cfg, seq);
        // plain count: right of 320 + 6.4 px is A, left of 320 - 6.4 px is B, between is neither
        let mut expected: Vec<(u64, u64, &str)> = Vec::new();
        for (id, pts) in feet(&gt) {
            let mut side: Option<bool> = None;
            for (f, x, _) in pts {
                let now = if x > 326.4 {
                    Some(true)
                } else if x < 313.6 {
                    Some(false)
                } else {
                    None
                };
                if let (Some(prev), Some(cur)) = (side, now)
                    && prev != cur
                {
                    expected.push((f, id, if prev { "A->B" } else { "B->A" }));
                }
                side = now.or(side);
            }
        }
        expected.sort();
        let mut got: Vec<(u64, u64, &str)> = events
            .iter()
            .map(|e| {
                (
                    e.frame,
                    e.track_ids[0],
                    e.details["direction"].as_str().unwrap(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, expected, "{seq}");
        total += got.len();
    }
    assert!(
        total >= 3,
        "the sequences should contain crossings, found {total}"
    );
}

#[test]
fn zone_entries_match_a_plain_count_on_real_tracks() {
    // the left half of the picture, below a third of its height; no debounce
    let cfg = r#"
[[zones]]
name = "left"
polygon = [[0.0, 0.333], [0.503, 0.333], [0.503, 1.0], [0.0, 1.0]]
[[rules]]
name = "in"
kind = "zone_enter"
zone = "left"
[[rules]]
name = "out"
kind = "zone_exit"
zone = "left"
"#;
    let mut total = 0;
    for seq in ["TUD-Campus", "TUD-Stadtmitte"] {
        let (events, gt) = run(cfg, seq);
        let mut expected: Vec<(u64, u64, &str)> = Vec::new();
        for (id, pts) in feet(&gt) {
            let mut prev: Option<bool> = None;
            for (f, x, y) in pts {
                let inside = x < 0.503 * W as f32 && y > 0.333 * H as f32 && y < H as f32;
                match (prev, inside) {
                    (None | Some(false), true) => expected.push((f, id, "in")),
                    (Some(true), false) => expected.push((f, id, "out")),
                    _ => {}
                }
                prev = Some(inside);
            }
        }
        expected.sort();
        let mut got: Vec<(u64, u64, &str)> = events
            .iter()
            .map(|e| (e.frame, e.track_ids[0], e.rule.as_str()))
            .collect();
        got.sort();
        assert_eq!(got, expected, "{seq}");
        total += got.len();
    }
    assert!(
        total >= 4,
        "the sequences should contain zone entries, found {total}"
    );
}

#[test]
fn every_kind_on_real_tracks_and_its_cost_per_frame() {
    let cfg = r#"
[[zones]]
name = "left"
polygon = [[0.0, 0.3], [0.5, 0.3], [0.5, 1.0], [0.0, 1.0]]
[[lines]]
name = "middle"
from = [0.5, 0.0]
to = [0.5, 1.0]
[[rules]]
name = "in"
kind = "zone_enter"
zone = "left"
min_duration_s = 0.5
[[rules]]
name = "out"
kind = "zone_exit"
zone = "left"
min_duration_s = 0.5
[[rules]]
name = "cross"
kind = "line_cross"
line = "middle"
[[rules]]
name = "linger"
kind = "loitering"
zone = "left"
min_duration_s = 2
[[rules]]
name = "crowd"
kind = "crowding"
zone = "left"
min_count = 3
min_duration_s = 1
[[rules]]
name = "westward"
kind = "wrong_way"
expected = [1.0, 0.0]
min_duration_s = 1
"#;
    let (events, gt) = run(cfg, "TUD-Stadtmitte");
    assert!(events.windows(2).all(|w| w[0].time <= w[1].time));
    let kinds: std::collections::BTreeSet<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    // eprintln so `--nocapture` shows what the real sequence produced
    eprintln!("TUD-Stadtmitte: {} events, kinds {:?}", events.len(), kinds);

    // cost: the whole sequence, 50 times over with fresh track ids each pass
    let cfg = RulesConfig::from_toml_str(cfg).unwrap();
    let names = vec!["person".to_string()];
    let mut e = RuleEngine::new(&cfg, &names, "bench", W, H).unwrap();
    let passes = 50u64;
    let mut n_frames = 0u64;
    let mut n_objects = 0usize;
    let mut n_events = 0usize;
    let t0 = Instant::now();
    for pass in 0..passes {
        for (&f, objs) in &gt {
            let shifted: Vec<TrackedObject> = objs
                .iter()
                .map(|o| TrackedObject {
                    id: o.id + pass * 1000,
                    ..*o
                })
                .collect();
            let time = start().add_secs(pass as f64 * 10.0 + (f - 1) as f64 / FPS);
            n_events += e.update(n_frames, time, &shifted).len();
            n_frames += 1;
            n_objects += shifted.len();
        }
    }
    let per_frame = t0.elapsed().as_secs_f64() / n_frames as f64;
    eprintln!(
        "{} rules, {n_frames} frames, {:.1} objects/frame, {n_events} events: {:.2} µs/frame",
        cfg.rules.len(),
        n_objects as f64 / n_frames as f64,
        per_frame * 1e6
    );
    assert_eq!(
        n_events,
        events.len() * passes as usize,
        "each pass of the same tracks gives the same events"
    );
    assert!(
        per_frame < 1e-3,
        "rules should cost far less than a millisecond a frame, took {per_frame} s"
    );
}
