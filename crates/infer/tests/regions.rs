//! Detecting only where the motion gate saw movement finds what a whole-frame run finds there,
//! for a fraction of the arithmetic: 60 frames of vtest.avi through the real gate and YOLOv4-tiny.
#![cfg(feature = "ort")]
mod common;

use common::{vtest_frames, yolo_description};
use infer::{Backend, InferConfig, OnnxDetector};
use vision::detect::Detector;
use vision::motion::{MotionConfig, MotionGate};

#[test]
fn region_detection_agrees_with_whole_frame_detection_where_it_looks() {
    let frames = vtest_frames(100, 60);
    let cfg = InferConfig::default()
        .with_backend(Backend::Ort)
        .with_threads(2);
    let mut det = OnnxDetector::load(&yolo_description(), &cfg).unwrap();
    let person = det
        .class_names()
        .iter()
        .position(|n| n == "person")
        .unwrap() as u32;
    let mut gate = MotionGate::new(MotionConfig::default(), 768, 576);
    let (mut want, mut found, mut extra) = (0usize, 0usize, 0usize);
    let (mut cost, mut full_cost, mut tiled) = (0u64, 0u64, 0usize);
    for (i, f) in frames.iter().enumerate() {
        let regions = gate.update(f.image()).regions;
        if i < 10 || regions.is_empty() {
            continue; // let the background settle
        }
        let Some(reg) = det.detect_regions(f.image(), &regions).unwrap() else {
            continue; // regions too large: the pipeline runs the whole frame
        };
        tiled += 1;
        cost += reg.cost;
        full_cost += reg.full_cost;
        let whole = det.detect(&[f.image()]).unwrap().remove(0);
        let inside = |b: &vision::geom::BBox| {
            reg.looked
                .iter()
                .any(|l| l.intersection(b) >= 0.9 * b.area())
        };
        for w in whole
            .iter()
            .filter(|d| d.class_id == person && d.score >= 0.5)
        {
            if !inside(&w.bbox) {
                continue;
            }
            want += 1;
            if reg
                .detections
                .iter()
                .any(|r| r.class_id == person && r.bbox.iou(&w.bbox) >= 0.5)
            {
                found += 1;
            }
        }
        for r in reg
            .detections
            .iter()
            .filter(|d| d.class_id == person && d.score >= 0.5)
        {
            if !whole
                .iter()
                .any(|w| w.class_id == person && w.bbox.iou(&r.bbox) >= 0.5)
            {
                extra += 1;
            }
        }
        // Every region box lies inside what it looked at, in frame pixels.
        for r in &reg.detections {
            assert!(r.bbox.x2 <= 768.0 && r.bbox.y2 <= 576.0 && r.bbox.area() > 0.0);
        }
    }
    let recall = found as f64 / want.max(1) as f64;
    let share = cost as f64 / full_cost.max(1) as f64;
    eprintln!(
        "{tiled} frames tiled; persons (score >= .5) inside the tiles: {want}, found again {found} \
         (recall {recall:.3}), {extra} not in the whole-frame run; tiles cost {:.0}% of whole frames",
        share * 100.0
    );
    assert!(
        tiled >= 25,
        "the gate should let most frames be tiled, got {tiled}"
    );
    assert!(want >= 50, "too few persons to judge: {want}");
    assert!(
        recall >= 0.9,
        "region detection missed too much: recall {recall:.3}"
    );
    assert!(extra as f64 <= 0.1 * want as f64, "{extra} extra persons");
    assert!(
        share < 0.7,
        "tiles should cost well under a whole frame: {share:.2}"
    );
}
