use super::*;

fn det(l: f32, t: f32, w: f32, h: f32, score: f32) -> Detection {
    Detection {
        bbox: BBox::from_ltwh(l, t, w, h),
        score,
        class_id: 0,
    }
}

fn cfg(min_hits: u32, max_lost: u32) -> TrackerConfig {
    TrackerConfig {
        min_hits,
        max_lost_frames: max_lost,
        confirm_first_frame: false,
        ..TrackerConfig::default()
    }
}

#[test]
fn birth_needs_min_hits_consecutive_frames() {
    let mut tr = Tracker::new(cfg(3, 30));
    // frame 1 and 2: seen, still tentative, nothing reported, no id used
    assert!(tr.update(&[det(100.0, 100.0, 40.0, 100.0, 0.9)]).is_empty());
    assert!(tr.update(&[det(102.0, 100.0, 40.0, 100.0, 0.9)]).is_empty());
    assert!(tr.active().is_empty());
    // frame 3: third hit confirms it as id 1
    let out = tr.update(&[det(104.0, 100.0, 40.0, 100.0, 0.9)]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].id, 1);
    assert!(out[0].bbox.iou(&BBox::from_ltwh(104.0, 100.0, 40.0, 100.0)) > 0.9);
}

#[test]
fn a_blip_that_misses_a_frame_never_becomes_a_track_and_uses_no_id() {
    let mut tr = Tracker::new(cfg(2, 30));
    assert!(tr.update(&[det(300.0, 50.0, 30.0, 60.0, 0.9)]).is_empty());
    assert!(tr.update(&[]).is_empty()); // missed: the tentative track dies
    assert!(tr.update(&[det(300.0, 50.0, 30.0, 60.0, 0.9)]).is_empty()); // a new tentative one
    let out = tr.update(&[det(300.0, 50.0, 30.0, 60.0, 0.9)]);
    assert_eq!(
        out.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![1],
        "the first confirmed id is 1"
    );
}

#[test]
fn first_frame_tracks_are_confirmed_at_once_only_when_asked() {
    let d = [
        det(10.0, 10.0, 20.0, 50.0, 0.9),
        det(200.0, 10.0, 20.0, 50.0, 0.9),
    ];
    let mut on = Tracker::new(TrackerConfig {
        confirm_first_frame: true,
        ..cfg(3, 30)
    });
    assert_eq!(
        on.update(&d).iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let mut off = Tracker::new(cfg(3, 30));
    assert!(off.update(&d).is_empty());
    // and only the first frame: a newcomer in frame 2 still waits
    let d2 = [d[0], d[1], det(400.0, 10.0, 20.0, 50.0, 0.9)];
    assert_eq!(
        on.update(&d2).iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![1, 2]
    );
}

#[test]
fn new_tracks_need_new_track_thresh_and_low_detections_never_start_one() {
    let mut tr = Tracker::new(cfg(1, 30));
    // 0.55 is high (>= 0.5) but under new_track_thresh 0.6; 0.3 is low
    for _ in 0..5 {
        assert!(
            tr.update(&[
                det(0.0, 0.0, 20.0, 40.0, 0.55),
                det(100.0, 0.0, 20.0, 40.0, 0.3)
            ])
            .is_empty()
        );
    }
    assert_eq!(tr.update(&[det(0.0, 0.0, 20.0, 40.0, 0.65)]).len(), 1);
}

#[test]
fn low_score_detections_keep_a_tracked_object_alive() {
    let mut tr = Tracker::new(cfg(1, 30));
    tr.update(&[det(50.0, 50.0, 40.0, 100.0, 0.9)]);
    // occluded: the detector is unsure, but the box is where the track predicts
    for i in 1..=5 {
        let out = tr.update(&[det(50.0 + i as f32, 50.0, 40.0, 100.0, 0.2)]);
        assert_eq!(out.len(), 1, "frame {i}");
        assert_eq!(out[0].id, 1);
        assert!((out[0].score - 0.2).abs() < 1e-6);
    }
    // under low_thresh it is ignored and the track is lost (not reported, still active)
    assert!(tr.update(&[det(56.0, 50.0, 40.0, 100.0, 0.05)]).is_empty());
    let act = tr.active();
    assert_eq!(act.len(), 1);
    assert_eq!((act[0].state, act[0].frames_unseen), (TrackState::Lost, 1));
}

#[test]
fn death_after_max_lost_frames_and_ids_are_never_reused() {
    let max_lost = 4;
    let mut tr = Tracker::new(cfg(1, max_lost));
    let d = det(100.0, 100.0, 40.0, 100.0, 0.9);
    assert_eq!(tr.update(&[d])[0].id, 1);
    for k in 1..=max_lost {
        assert!(tr.update(&[]).is_empty());
        let act = tr.active();
        assert_eq!(act.len(), 1, "still alive after {k} unseen frames");
        assert_eq!(act[0].frames_unseen, k);
        assert_eq!(act[0].state, TrackState::Lost);
    }
    assert!(tr.update(&[]).is_empty());
    assert!(
        tr.active().is_empty(),
        "gone after {} unseen frames",
        max_lost + 1
    );
    // the same place again: a new object, a new id
    assert_eq!(tr.update(&[d])[0].id, 2);
}

#[test]
fn a_lost_track_is_recovered_within_max_lost() {
    let mut tr = Tracker::new(cfg(1, 10));
    // walking right at 5 px/frame
    for f in 0..10 {
        tr.update(&[det(100.0 + 5.0 * f as f32, 100.0, 40.0, 100.0, 0.9)]);
    }
    for _ in 10..16 {
        tr.update(&[]); // hidden for 6 frames
    }
    // the prediction kept moving, so the reappearance far from the last seen box still matches
    let out = tr.update(&[det(100.0 + 5.0 * 16.0, 100.0, 40.0, 100.0, 0.9)]);
    assert_eq!(out.iter().map(|o| o.id).collect::<Vec<_>>(), vec![1]);
    assert_eq!(tr.active()[0].state, TrackState::Tracked);
    assert!((tr.active()[0].velocity.x - 5.0).abs() < 1.0);
}

#[test]
fn crossing_objects_keep_their_ids() {
    let mut tr = Tracker::new(cfg(2, 30));
    let mut ids_a = vec![];
    for f in 0..40 {
        let x = f as f32 * 8.0;
        // a walks right, b walks left; they overlap around frame 20
        let a = det(x, 100.0, 40.0, 100.0, 0.9);
        let b = det(320.0 - x, 104.0, 40.0, 100.0, 0.9);
        let out = tr.update(&[a, b]);
        if let Some(o) = out
            .iter()
            .find(|o| o.bbox.iou(&a.bbox) > o.bbox.iou(&b.bbox) && o.bbox.iou(&a.bbox) > 0.5)
        {
            ids_a.push(o.id);
        }
    }
    ids_a.dedup();
    assert_eq!(ids_a, vec![1], "object a changed id while crossing b");
}

#[test]
fn classes_are_never_associated_with_each_other() {
    let mut tr = Tracker::new(cfg(1, 30));
    let person = Detection {
        bbox: BBox::from_ltwh(0.0, 0.0, 40.0, 100.0),
        score: 0.9,
        class_id: 0,
    };
    let car = Detection {
        class_id: 2,
        ..person
    };
    assert_eq!(tr.update(&[person])[0].id, 1);
    // same box, other class: a new track, and the person's track is lost
    let out = tr.update(&[car]);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].id, out[0].class_id), (2, 2));
    assert_eq!(tr.active().len(), 2);
}

#[test]
fn deterministic() {
    let frames: Vec<Vec<Detection>> = (0..30)
        .map(|f| {
            (0..6)
                .filter(|k| (f + k) % 5 != 0)
                .map(|k| {
                    det(
                        k as f32 * 60.0 + f as f32 * 2.0,
                        100.0 + (k * f % 7) as f32,
                        40.0,
                        100.0,
                        0.4 + 0.1 * k as f32,
                    )
                })
                .collect()
        })
        .collect();
    let run = || {
        let mut tr = Tracker::new(TrackerConfig::default());
        frames.iter().map(|d| tr.update(d)).collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn config_defaults_validate_and_bad_values_are_named() {
    TrackerConfig::default().validate().unwrap();
    let c: TrackerConfig = toml::from_str("min_hits = 3").unwrap();
    assert_eq!(c.min_hits, 3);
    assert_eq!(c.max_lost_frames, TrackerConfig::default().max_lost_frames);
    assert!(
        toml::from_str::<TrackerConfig>("min_hit = 3").is_err(),
        "unknown keys are rejected"
    );
    let e = TrackerConfig {
        match_iou: 1.5,
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(e.field, "match_iou");
    assert!(e.to_string().contains("between 0 and 1"));
    let e = TrackerConfig {
        low_thresh: 0.7,
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(e.field, "low_thresh");
}
