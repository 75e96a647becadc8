//! Each rule kind fires when it should and stays quiet when it should not.
//!
//! Frames are 1000 x 800 pixels; objects are placed by their foot point in normalised
//! coordinates, so `obj(1, PERSON, 0.7, 0.6)` stands at pixel (700, 480). Time is frame time in
//! microseconds: a 60-second rule is tested with frames 60 s apart.
use vision::clock::Timestamp;
use vision::detect::TrackedObject;
use vision::event::Event;
use vision::geom::BBox;
use vision::rules::{FORGET_AFTER_S, RuleEngine, RulesConfig};

const W: u32 = 1000;
const H: u32 = 800;
const PERSON: u32 = 0;
const CAR: u32 = 2;
const SUITCASE: u32 = 5;

fn class_names() -> Vec<String> {
    [
        "person", "bicycle", "car", "backpack", "handbag", "suitcase",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn engine(toml: &str) -> RuleEngine {
    let cfg = RulesConfig::from_toml_str(toml).unwrap_or_else(|e| panic!("{e}"));
    RuleEngine::new(&cfg, &class_names(), "cam-1", W, H).unwrap_or_else(|e| panic!("{e}"))
}

fn t(secs: f64) -> Timestamp {
    Timestamp(1_700_000_000_000_000).add_secs(secs)
}

/// An object whose box foot point (bottom centre) is at normalised `(x, y)`.
fn obj(id: u64, class_id: u32, x: f32, y: f32) -> TrackedObject {
    let (fx, fy) = (x * W as f32, y * H as f32);
    TrackedObject {
        id,
        bbox: BBox::new(fx - 20.0, fy - 80.0, fx + 20.0, fy),
        score: 0.9,
        class_id,
    }
}

/// Run `frames` of (time in seconds, objects) and collect every event.
fn run(e: &mut RuleEngine, frames: &[(f64, Vec<TrackedObject>)]) -> Vec<Event> {
    let mut out = Vec::new();
    for (i, (s, objs)) in frames.iter().enumerate() {
        out.extend(e.update(i as u64, t(*s), objs));
    }
    out
}

/// A straight walk from `a` to `b` in `n` steps at 10 frames/s, starting at `t0`.
fn walk(
    id: u64,
    class: u32,
    a: (f32, f32),
    b: (f32, f32),
    n: usize,
    t0: f64,
) -> Vec<(f64, Vec<TrackedObject>)> {
    (0..=n)
        .map(|i| {
            let f = i as f32 / n as f32;
            (
                t0 + i as f64 * 0.1,
                vec![obj(id, class, a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)],
            )
        })
        .collect()
}

fn names(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.rule.as_str()).collect()
}

const LINE_RULES: &str = r#"
[[lines]]
name = "crossing"
from = [0.5, 0.3]
to   = [0.5, 0.9]

[[rules]]
name = "a2b"
kind = "line_cross"
line = "crossing"
direction = "A->B"

[[rules]]
name = "b2a"
kind = "line_cross"
line = "crossing"
direction = "B->A"

[[rules]]
name = "any"
kind = "line_cross"
line = "crossing"
"#;

#[test]
fn line_side_a_is_the_viewers_right_of_a_top_to_bottom_line() {
    // walking right to left across a line drawn top to bottom goes from A to B
    let mut e = engine(LINE_RULES);
    let ev = run(&mut e, &walk(1, PERSON, (0.7, 0.6), (0.3, 0.6), 20, 0.0));
    assert_eq!(names(&ev), ["a2b", "any"]);
    assert_eq!(ev[0].details["direction"], "A->B");
    assert_eq!(ev[0].details["line"], "crossing");
    assert_eq!(ev[0].kind, "line_cross");
    assert_eq!(ev[0].track_ids, [1]);
    assert_eq!(ev[0].class.as_deref(), Some("person"));
    assert_eq!(ev[0].camera, "cam-1");
    assert!(ev[0].evidence.is_empty());
    // the event is stamped with the frame where the foot is first beyond the margin on side B
    let first_b = (0..=20)
        .find(|&i| 0.7 - 0.4 * i as f32 / 20.0 < 0.49)
        .unwrap() as u64;
    assert_eq!(ev[0].frame, first_b);
    assert_eq!(ev[0].time, t(first_b as f64 * 0.1));
    // pixel box of the track in that frame
    let x = (0.7 - 0.4 * first_b as f32 / 20.0) * W as f32;
    assert!(
        (ev[0].boxes[0].x1 - (x - 20.0)).abs() < 1e-2 && (ev[0].boxes[0].y2 - 480.0).abs() < 1e-2
    );

    let mut e = engine(LINE_RULES);
    let ev = run(&mut e, &walk(2, PERSON, (0.3, 0.6), (0.7, 0.6), 20, 0.0));
    assert_eq!(names(&ev), ["b2a", "any"]);
    assert_eq!(ev[1].details["direction"], "B->A");
}

#[test]
fn line_side_a_is_above_a_left_to_right_line() {
    let toml = LINE_RULES.replace(
        "from = [0.5, 0.3]\nto   = [0.5, 0.9]",
        "from = [0.1, 0.5]\nto   = [0.9, 0.5]",
    );
    let mut e = engine(&toml);
    let ev = run(&mut e, &walk(1, PERSON, (0.5, 0.2), (0.5, 0.8), 20, 0.0)); // top to bottom
    assert_eq!(names(&ev), ["a2b", "any"]);
    let ev = run(&mut e, &walk(2, PERSON, (0.4, 0.8), (0.4, 0.2), 20, 10.0));
    assert_eq!(names(&ev), ["b2a", "any"]);
}

#[test]
fn passing_beyond_the_end_of_the_line_is_not_a_crossing() {
    let mut e = engine(LINE_RULES);
    // above the segment's top end (y 0.3) and below its bottom end (y 0.9)
    assert!(run(&mut e, &walk(1, PERSON, (0.7, 0.2), (0.3, 0.2), 20, 0.0)).is_empty());
    assert!(run(&mut e, &walk(2, PERSON, (0.7, 0.95), (0.3, 0.95), 20, 5.0)).is_empty());
    // a track that first appears on side B and stays there fires nothing
    assert!(run(&mut e, &walk(3, PERSON, (0.3, 0.4), (0.3, 0.8), 20, 10.0)).is_empty());
}

/// A person comes from side A, dithers on the line for 5 s (foot x jittering 0.495..0.505 while
/// walking along it), then leaves to side B.
fn dither_on_line() -> Vec<(f64, Vec<TrackedObject>)> {
    let mut frames = walk(1, PERSON, (0.7, 0.4), (0.5, 0.4), 10, 0.0);
    for i in 1..=50 {
        let jitter = if i % 2 == 0 { 0.005 } else { -0.005 };
        frames.push((
            1.0 + i as f64 * 0.1,
            vec![obj(1, PERSON, 0.5 + jitter, 0.4 + 0.008 * i as f32)],
        ));
    }
    frames.extend(walk(1, PERSON, (0.5, 0.8), (0.3, 0.8), 10, 6.1));
    frames
}

#[test]
fn jitter_on_the_line_fires_once() {
    let mut e = engine(LINE_RULES);
    let ev = run(&mut e, &dither_on_line());
    assert_eq!(names(&ev), ["a2b", "any"]);
    assert!(
        ev[0].time > t(6.0),
        "fired only when the person left the line, at {:?}",
        ev[0].time
    );
}

#[test]
fn without_the_margin_the_same_jitter_fires_repeatedly() {
    // the control for the test above: proves the margin is what stops the double firing
    let toml = LINE_RULES.replace("to   = [0.5, 0.9]", "to   = [0.5, 0.9]\nmargin = 0.0");
    let mut e = engine(&toml);
    let ev = run(&mut e, &dither_on_line());
    let any = ev.iter().filter(|e| e.rule == "any").count();
    assert!(
        any > 10,
        "expected many crossings without hysteresis, got {any}"
    );
}

const ZONE_RULES: &str = r#"
[[zones]]
name = "square"
polygon = [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]

[[rules]]
name = "enter"
kind = "zone_enter"
zone = "square"
min_duration_s = 1.0

[[rules]]
name = "exit"
kind = "zone_exit"
zone = "square"
min_duration_s = 1.0
"#;

#[test]
fn zone_enter_fires_after_the_debounce_and_exit_after_leaving() {
    let mut e = engine(ZONE_RULES);
    let mut frames = Vec::new();
    // outside (y 0.3) for 1 s, then inside from t = 1.0 to 4.0, then outside again to 6.0
    for i in 0..=60 {
        let s = i as f64 * 0.1;
        let y = if (1.0..4.0).contains(&(s + 1e-9)) {
            0.7
        } else {
            0.3
        };
        frames.push((s, vec![obj(7, PERSON, 0.5, y)]));
    }
    let ev = run(&mut e, &frames);
    assert_eq!(names(&ev), ["enter", "exit"]);
    assert_eq!(
        ev[0].time,
        t(2.0),
        "inside continuously for 1 s from t = 1.0"
    );
    assert_eq!(ev[0].details["zone"], "square");
    assert_eq!(ev[1].time, t(5.0));
    assert_eq!(ev[1].details["dwell_s"], 3.0);
}

#[test]
fn zone_flicker_shorter_than_the_debounce_fires_nothing() {
    let mut e = engine(ZONE_RULES);
    // in for 0.5 s, out for 0.2 s, in for 0.5 s, ...: never 1 s continuously
    let frames: Vec<_> = (0..100)
        .map(|i| {
            let y = if i % 7 < 5 { 0.7 } else { 0.3 };
            (i as f64 * 0.1, vec![obj(1, PERSON, 0.5, y)])
        })
        .collect();
    assert!(run(&mut e, &frames).is_empty());
}

#[test]
fn a_new_track_inside_counts_as_entering_but_vanishing_inside_is_no_exit() {
    let mut e = engine(ZONE_RULES);
    let mut frames: Vec<_> = (0..=20)
        .map(|i| (i as f64 * 0.1, vec![obj(3, PERSON, 0.5, 0.7)]))
        .collect();
    // then the track is gone (occluded, lost) for 10 s
    frames.extend((21..=120).map(|i| (i as f64 * 0.1, vec![])));
    let ev = run(&mut e, &frames);
    assert_eq!(names(&ev), ["enter"]);
    assert_eq!(ev[0].time, t(1.0));
    assert_eq!(e.tracked(), 0, "forgotten after {FORGET_AFTER_S} s unseen");
    // a track first seen outside does not "exit"
    let mut e = engine(ZONE_RULES);
    let frames: Vec<_> = (0..=30)
        .map(|i| (i as f64 * 0.1, vec![obj(4, PERSON, 0.5, 0.2)]))
        .collect();
    assert!(run(&mut e, &frames).is_empty());
}

const LOITER: &str = r#"
[[zones]]
name = "square"
polygon = [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]

[[rules]]
name = "loiter"
kind = "loitering"
zone = "square"
min_duration_s = 60
"#;

#[test]
fn loitering_fires_once_at_60_s_not_at_59() {
    let mut e = engine(LOITER);
    let p = || vec![obj(9, PERSON, 0.4, 0.8)];
    assert!(e.update(0, t(0.0), &p()).is_empty());
    assert!(e.update(1, t(59.0), &p()).is_empty(), "59 s is not yet 60");
    let ev = e.update(2, t(60.0), &p());
    assert_eq!(names(&ev), ["loiter"]);
    assert_eq!(ev[0].details["dwell_s"], 60.0);
    assert_eq!(ev[0].details["zone"], "square");
    assert!(e.update(3, t(61.0), &p()).is_empty());
    assert!(e.update(4, t(120.0), &p()).is_empty(), "once per stay");
    assert!(e.update(5, t(600.0), &p()).is_empty(), "once per stay");
}

#[test]
fn loitering_clock_restarts_after_leaving_and_survives_a_brief_step_out() {
    let mut e = engine(LOITER);
    let inside = |id| vec![obj(id, PERSON, 0.4, 0.8)];
    let outside = |id| vec![obj(id, PERSON, 0.4, 0.2)];
    assert!(e.update(0, t(0.0), &inside(1)).is_empty());
    assert!(e.update(1, t(30.0), &outside(1)).is_empty());
    assert!(e.update(2, t(30.5), &inside(1)).is_empty()); // back within the grace: same stay
    assert_eq!(names(&e.update(3, t(60.0), &inside(1))), ["loiter"]);
    // leaves for longer than the grace: the stay is over; a new one needs 60 s again
    assert!(e.update(4, t(70.0), &outside(1)).is_empty());
    assert!(e.update(5, t(75.0), &outside(1)).is_empty());
    assert!(e.update(6, t(80.0), &inside(1)).is_empty());
    assert!(e.update(7, t(139.0), &inside(1)).is_empty());
    assert_eq!(names(&e.update(8, t(140.0), &inside(1))), ["loiter"]);
    // with a cooldown, the second stay's event is suppressed
    let mut e = engine(&format!("{LOITER}cooldown_s = 300\n"));
    e.update(0, t(0.0), &inside(1));
    assert_eq!(e.update(1, t(60.0), &inside(1)).len(), 1);
    e.update(2, t(70.0), &outside(1));
    e.update(3, t(75.0), &outside(1));
    e.update(4, t(80.0), &inside(1));
    assert!(e.update(5, t(140.0), &inside(1)).is_empty());
}

const CROWD: &str = r#"
[[zones]]
name = "square"
polygon = [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]

[[rules]]
name = "crowd"
kind = "crowding"
zone = "square"
classes = ["person"]
min_count = 5
min_duration_s = 2.0
"#;

/// `inside` people in the zone plus `outside` people above it.
fn people(inside: usize, outside: usize) -> Vec<TrackedObject> {
    let mut v: Vec<_> = (0..inside)
        .map(|i| obj(i as u64, PERSON, 0.15 + 0.1 * i as f32, 0.7))
        .collect();
    v.extend((0..outside).map(|i| obj(100 + i as u64, PERSON, 0.15 + 0.1 * i as f32, 0.3)));
    v
}

#[test]
fn crowding_needs_min_count_in_the_zone_for_min_duration() {
    let mut e = engine(CROWD);
    let mut frames: Vec<_> = (0..=100).map(|i| (i as f64 * 0.1, people(4, 3))).collect(); // 4 in, 3 out
    frames.extend((101..=119).map(|i| (i as f64 * 0.1, people(5, 0)))); // 5 for 1.8 s
    frames.extend((120..=125).map(|i| (i as f64 * 0.1, people(2, 0))));
    assert!(run(&mut e, &frames).is_empty());

    let mut e = engine(CROWD);
    let frames: Vec<_> = (0..=50)
        .map(|i| (i as f64 * 0.1, people(if i < 10 { 4 } else { 5 }, 2)))
        .collect();
    let ev = run(&mut e, &frames);
    assert_eq!(names(&ev), ["crowd"], "once while the crowd lasts");
    assert_eq!(ev[0].time, t(3.0), "5 people from t = 1.0, for 2 s");
    assert_eq!(ev[0].details["count"], 5);
    assert_eq!(ev[0].track_ids, [0, 1, 2, 3, 4]);
    assert_eq!(ev[0].boxes.len(), 5);
    assert_eq!(ev[0].class.as_deref(), Some("person"));
}

#[test]
fn crowding_rearms_after_the_crowd_disperses() {
    let mut e = engine(CROWD);
    let mut frames: Vec<_> = (0..=30).map(|i| (i as f64 * 0.1, people(6, 0))).collect();
    frames.extend((31..=60).map(|i| (i as f64 * 0.1, people(2, 0)))); // dispersed for 3 s
    frames.extend((61..=90).map(|i| (i as f64 * 0.1, people(7, 0))));
    let ev = run(&mut e, &frames);
    assert_eq!(names(&ev), ["crowd", "crowd"]);
    assert_eq!(ev[1].details["count"], 7);
    // the same with a 60 s cooldown on the zone: one event
    let mut e = engine(&format!("{CROWD}cooldown_s = 60\n"));
    assert_eq!(run(&mut e, &frames).len(), 1);
}

const LEFT: &str = r#"
[[rules]]
name = "left"
kind = "object_left"
classes = ["suitcase", "backpack"]
min_duration_s = 10
"#;

/// A suitcase standing at (0.6, 0.7) with a pixel of box jitter, from t = 0 to `secs`, with a
/// person at distance `person_dist` until `person_leaves` (seconds).
fn suitcase_scene(
    secs: usize,
    person_dist: f32,
    person_leaves: f64,
) -> Vec<(f64, Vec<TrackedObject>)> {
    (0..=secs * 10)
        .map(|i| {
            let s = i as f64 * 0.1;
            let jitter = if i % 2 == 0 { 0.002 } else { -0.002 };
            let mut v = vec![obj(50, SUITCASE, 0.6 + jitter, 0.7)];
            if s < person_leaves {
                v.push(obj(51, PERSON, 0.6 + person_dist, 0.7));
            }
            (s, v)
        })
        .collect()
}

#[test]
fn object_left_alone_fires_once() {
    let mut e = engine(LEFT);
    let ev = run(&mut e, &suitcase_scene(30, 0.0, -1.0));
    assert_eq!(names(&ev), ["left"]);
    assert_eq!(ev[0].time, t(10.0));
    assert_eq!(ev[0].class.as_deref(), Some("suitcase"));
    assert_eq!(ev[0].track_ids, [50]);
}

#[test]
fn object_left_with_a_person_near_does_not_fire_until_they_go() {
    let mut e = engine(LEFT);
    assert!(
        run(&mut e, &suitcase_scene(30, 0.05, 1e9)).is_empty(),
        "owner stays 0.05 away"
    );
    // a person further than `near` (0.1) does not count as attending it
    let mut e = engine(LEFT);
    assert_eq!(run(&mut e, &suitcase_scene(30, 0.2, 1e9)).len(), 1);
    // the owner walks off at t = 5 s: unattended from the last frame they were near (4.9 s)
    let mut e = engine(LEFT);
    let ev = run(&mut e, &suitcase_scene(30, 0.05, 5.0));
    assert_eq!(names(&ev), ["left"]);
    assert_eq!(ev[0].time, t(14.9));
    assert_eq!(ev[0].details["stationary_s"], 14.9);
    assert_eq!(ev[0].details["unattended_s"], 10.0);
}

#[test]
fn a_carried_object_and_a_standing_person_are_not_left_objects() {
    let mut e = engine(LEFT);
    let mut frames = walk(60, SUITCASE, (0.1, 0.7), (0.9, 0.7), 300, 0.0); // moving for 30 s
    frames.extend(walk(61, PERSON, (0.5, 0.5), (0.5, 0.5), 300, 30.1)); // a person standing 30 s
    assert!(run(&mut e, &frames).is_empty());
}

const WRONG: &str = r#"
[[zones]]
name = "lane"
polygon = [[0.2, 0.1], [0.8, 0.1], [0.8, 0.99], [0.2, 0.99]]

[[rules]]
name = "wrong"
kind = "wrong_way"
zone = "lane"
expected = [0.0, 1.0]      # traffic goes down the picture
min_duration_s = 1.0
"#;

#[test]
fn wrong_way_fires_for_sustained_movement_against_expected() {
    // walking up the picture, 0.01 per frame at 10 frames/s
    let mut e = engine(WRONG);
    let ev = run(&mut e, &walk(1, CAR, (0.5, 0.9), (0.5, 0.3), 60, 0.0));
    assert_eq!(names(&ev), ["wrong"]);
    // moving since t = 0; direction is judged on steps of min_distance/4 (0.0125, two frames
    // here), so the run is measured from t = 0.1 and confirmed on a step: 1.0 to 1.3 s
    assert!(
        ev[0].time >= t(1.0) && ev[0].time <= t(1.3),
        "fired at {:?}",
        ev[0].time
    );
    assert!(ev[0].details["moving_s"].as_f64().unwrap() >= 1.0);
    assert_eq!(ev[0].details["cosine"], -1.0);
    assert_eq!(ev[0].details["zone"], "lane");
    // with the traffic, and across it: nothing
    let mut e = engine(WRONG);
    assert!(run(&mut e, &walk(2, CAR, (0.5, 0.2), (0.5, 0.9), 60, 0.0)).is_empty());
    assert!(run(&mut e, &walk(3, CAR, (0.25, 0.5), (0.75, 0.5), 60, 10.0)).is_empty());
    // against it but outside the zone: nothing
    assert!(run(&mut e, &walk(4, CAR, (0.1, 0.9), (0.1, 0.3), 60, 20.0)).is_empty());
}

#[test]
fn wrong_way_ignores_short_moves_and_a_single_box_jump() {
    let mut e = engine(WRONG);
    // 0.03 upwards over 3 s: under min_distance
    assert!(run(&mut e, &walk(1, PERSON, (0.5, 0.6), (0.5, 0.57), 30, 0.0)).is_empty());
    // standing still 10 s, then the box jumps 0.08 upwards in one frame and stays
    let mut frames: Vec<_> = (0..100)
        .map(|i| (i as f64 * 0.1, vec![obj(2, PERSON, 0.5, 0.6)]))
        .collect();
    frames.extend((100..130).map(|i| (i as f64 * 0.1, vec![obj(2, PERSON, 0.5, 0.52)])));
    let mut e = engine(WRONG);
    assert!(run(&mut e, &frames).is_empty());
}

#[test]
fn class_and_confidence_filters() {
    let toml = r#"
[[lines]]
name = "kerb"
from = [0.0, 0.5]
to = [1.0, 0.5]

[[rules]]
name = "cars"
kind = "line_cross"
line = "kerb"
classes = ["car"]
min_confidence = 0.5
"#;
    let mut e = engine(toml);
    assert!(
        run(&mut e, &walk(1, PERSON, (0.5, 0.2), (0.5, 0.8), 20, 0.0)).is_empty(),
        "person is not a car"
    );
    let mut weak = walk(2, CAR, (0.4, 0.2), (0.4, 0.8), 20, 5.0);
    for (_, objs) in &mut weak {
        objs[0].score = 0.3;
    }
    assert!(run(&mut e, &weak).is_empty(), "car below min_confidence");
    let ev = run(&mut e, &walk(3, CAR, (0.6, 0.2), (0.6, 0.8), 20, 10.0));
    assert_eq!(names(&ev), ["cars"]);
    assert_eq!(ev[0].class.as_deref(), Some("car"));
    assert_eq!(ev[0].details["direction"], "A->B");
}

#[test]
fn cooldown_suppresses_refiring_for_the_same_track() {
    let back_and_forth = || {
        let mut frames = Vec::new();
        for k in 0..8 {
            let (a, b) = if k % 2 == 0 { (0.7, 0.3) } else { (0.3, 0.7) };
            frames.extend(walk(1, PERSON, (a, 0.6), (b, 0.6), 50, k as f64 * 5.1)); // a crossing every ~5 s
        }
        frames
    };
    let mut e = engine(LINE_RULES);
    let all = run(&mut e, &back_and_forth())
        .into_iter()
        .filter(|e| e.rule == "any")
        .count();
    assert_eq!(all, 8, "control: eight crossings without a cooldown");

    let with_cooldown = LINE_RULES.replace("name = \"any\"", "name = \"any\"\ncooldown_s = 30");
    let mut e = engine(&with_cooldown);
    let ev: Vec<_> = run(&mut e, &back_and_forth())
        .into_iter()
        .filter(|e| e.rule == "any")
        .collect();
    assert_eq!(ev.len(), 2, "first crossing, then the first after 30 s");
    assert!(ev[1].time.secs_since(ev[0].time) >= 30.0);
    // the cooldown is per track: another person crossing meanwhile still fires
    let mut e = engine(&with_cooldown);
    let mut frames = walk(1, PERSON, (0.7, 0.6), (0.3, 0.6), 20, 0.0);
    frames.extend(walk(2, PERSON, (0.7, 0.5), (0.3, 0.5), 20, 2.1));
    assert_eq!(
        run(&mut e, &frames)
            .into_iter()
            .filter(|e| e.rule == "any")
            .count(),
        2
    );
}

#[test]
fn vanished_tracks_are_forgotten_and_memory_stays_bounded() {
    let mut e = engine(&format!("{LINE_RULES}{ZONE_RULES}"));
    for i in 0..10_000u64 {
        // a new track id every frame, each seen once
        e.update(i, t(i as f64 * 0.1), &[obj(i, PERSON, 0.5, 0.7)]);
    }
    assert!(
        e.tracked() <= 52,
        "only the last ~5 s of tracks are kept, have {}",
        e.tracked()
    );
    e.update(10_000, t(1_006.0), &[]);
    assert_eq!(e.tracked(), 0);
}

#[test]
fn time_that_runs_backwards_does_not_reorder_events() {
    let mut e = engine(LINE_RULES);
    let mut frames = walk(1, PERSON, (0.7, 0.6), (0.3, 0.6), 20, 100.0);
    frames.extend(walk(2, PERSON, (0.3, 0.6), (0.7, 0.6), 20, 50.0)); // a clock step back 50 s
    let ev = run(&mut e, &frames);
    assert_eq!(ev.len(), 4);
    assert!(ev.windows(2).all(|w| w[0].time <= w[1].time));
}
