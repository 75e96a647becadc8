//! Random tracks (including boxes off the frame, NaN boxes, repeated ids and clock steps back)
//! never panic the engine; events come out in time order, name real objects of their frame, and
//! memory is released once tracks are gone.
use proptest::prelude::*;
use std::collections::HashMap;
use vision::clock::Timestamp;
use vision::detect::TrackedObject;
use vision::geom::BBox;
use vision::rules::{FORGET_AFTER_S, RuleEngine, RulesConfig};

const CONFIG: &str = r#"
[[zones]]
name = "square"
polygon = [[0.1,0.5],[0.9,0.5],[0.9,0.95],[0.1,0.95]]
[[zones]]
name = "tri"
polygon = [[0.0,0.0],[1.0,0.0],[0.0,1.0]]
[[lines]]
name = "v"
from = [0.5, 0.0]
to = [0.5, 1.0]
margin = 0.0
[[lines]]
name = "short"
from = [0.2, 0.2]
to = [0.4, 0.3]

[[rules]]
name = "enter"
kind = "zone_enter"
zone = "square"
[[rules]]
name = "exit"
kind = "zone_exit"
zone = "tri"
min_duration_s = 0.5
[[rules]]
name = "cross"
kind = "line_cross"
line = "v"
[[rules]]
name = "cross-short"
kind = "line_cross"
line = "short"
direction = "B->A"
classes = ["car"]
cooldown_s = 2
[[rules]]
name = "loiter"
kind = "loitering"
zone = "square"
min_duration_s = 3
[[rules]]
name = "crowd"
kind = "crowding"
zone = "tri"
min_count = 2
min_duration_s = 0.3
[[rules]]
name = "left"
kind = "object_left"
classes = ["suitcase"]
min_duration_s = 1
[[rules]]
name = "wrong"
kind = "wrong_way"
expected = [1.0, 0.2]
min_distance = 0.02
min_confidence = 0.3
"#;

fn names() -> Vec<String> {
    ["person", "car", "suitcase"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn coord() -> impl Strategy<Value = f32> {
    prop_oneof![
        20 => -100.0f32..1100.0,
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(0.0f32),
    ]
}

fn object() -> impl Strategy<Value = TrackedObject> {
    (
        0u64..12,
        coord(),
        coord(),
        0.0f32..300.0,
        0.0f32..300.0,
        0.0f32..1.0,
        0u32..4,
    )
        .prop_map(|(id, x, y, w, h, score, class_id)| TrackedObject {
            id,
            bbox: BBox::from_ltwh(x, y, w, h),
            score,
            class_id, // 3 is beyond the class list
        })
}

/// (time step in seconds, may be negative; objects of the frame)
fn frames() -> impl Strategy<Value = Vec<(f64, Vec<TrackedObject>)>> {
    prop::collection::vec(
        (-0.5f64..2.0, prop::collection::vec(object(), 0..10)),
        1..120,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_tracks_never_panic_and_events_are_time_ordered(frames in frames()) {
        let cfg = RulesConfig::from_toml_str(CONFIG).unwrap();
        let kinds: HashMap<String, String> =
            cfg.rules.iter().map(|r| (r.name.clone(), r.kind.as_str().to_string())).collect();
        let mut e = RuleEngine::new(&cfg, &names(), "cam", 1000, 800).unwrap();
        let mut time = Timestamp(1_700_000_000_000_000);
        let mut last_event_time = Timestamp(i64::MIN);
        let mut latest = Timestamp(i64::MIN);
        for (i, (dt, objs)) in frames.iter().enumerate() {
            time = time.add_secs(*dt);
            latest = latest.max(time); // the engine never lets time run backwards
            for ev in e.update(i as u64, time, objs) {
                prop_assert!(ev.time >= last_event_time, "event at {:?} after one at {:?}", ev.time, last_event_time);
                prop_assert_eq!(ev.time, latest);
                last_event_time = ev.time;
                prop_assert_eq!(ev.frame, i as u64);
                prop_assert_eq!(&ev.camera, "cam");
                prop_assert_eq!(&kinds[&ev.rule], &ev.kind);
                prop_assert!(!ev.track_ids.is_empty());
                prop_assert_eq!(ev.track_ids.len(), ev.boxes.len());
                for (id, b) in ev.track_ids.iter().zip(&ev.boxes) {
                    prop_assert!(objs.iter().any(|o| o.id == *id && o.bbox == *b), "track {} not in frame {}", id, i);
                }
                prop_assert!(ev.evidence.is_empty());
            }
        }
        // every track is forgotten once frames keep coming without it
        e.update(frames.len() as u64, latest.add_secs(FORGET_AFTER_S + 0.1), &[]);
        prop_assert_eq!(e.tracked(), 0);
    }
}
