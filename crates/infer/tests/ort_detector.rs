//! The ONNX Runtime backend on real footage: YOLOv4-tiny on vtest.avi frame 200, batching, and
//! CenterFace at 2x.
#![cfg(feature = "ort")]
mod common;

use common::{asset, vtest_frame, yolo_description};
use infer::{Backend, FaceDetector, InferConfig, OnnxDetector};
use vision::detect::{Detection, Detector};

fn cfg() -> InferConfig {
    InferConfig::default()
        .with_backend(Backend::Ort)
        .with_threads(2)
}

fn count(dets: &[Detection], class: u32, min_score: f32) -> usize {
    dets.iter()
        .filter(|d| d.class_id == class && d.score >= min_score)
        .count()
}

#[test]
fn yolo_finds_the_people_and_the_car_in_frame_200() {
    let frame = vtest_frame(200);
    let mut det = OnnxDetector::load(&yolo_description(), &cfg()).unwrap();
    let names = det.class_names().to_vec();
    assert_eq!(names.len(), 80);
    let (person, car) = (
        names.iter().position(|n| n == "person").unwrap() as u32,
        names.iter().position(|n| n == "car").unwrap() as u32,
    );
    let out = det.detect(&[frame.image()]).unwrap();
    assert_eq!(out.len(), 1);
    let dets = &out[0];
    for d in dets {
        eprintln!(
            "{:>12} {:.2} {:?}",
            names[d.class_id as usize], d.score, d.bbox
        );
        let b = d.bbox;
        assert!(
            b.x1 >= 0.0 && b.y1 >= 0.0 && b.x2 <= 768.0 && b.y2 <= 576.0 && b.area() > 0.0,
            "{b:?}"
        );
        assert!(d.score >= 0.25 && d.score <= 1.0);
    }
    assert!(
        count(dets, person, 0.25) >= 5,
        "expected >= 5 persons, got {}",
        count(dets, person, 0.25)
    );
    assert!(count(dets, car, 0.8) >= 1, "expected the car at > .8");
    // Per-class NMS: no two boxes of one class overlap above the description's IoU.
    for (i, a) in dets.iter().enumerate() {
        for b in &dets[i + 1..] {
            assert!(
                a.class_id != b.class_id || a.bbox.iou(&b.bbox) <= 0.45,
                "{a:?} {b:?}"
            );
        }
    }
    // Sorted best first.
    assert!(dets.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn a_batch_of_four_equals_four_single_runs() {
    let frame = vtest_frame(200);
    let other = vtest_frame(420);
    let mut det = OnnxDetector::load(&yolo_description(), &cfg()).unwrap();
    let one = det.detect(&[frame.image()]).unwrap().remove(0);
    let two = det.detect(&[other.image()]).unwrap().remove(0);
    assert!(!one.is_empty() && one != two);
    let four = det
        .detect(&[frame.image(), other.image(), frame.image(), frame.image()])
        .unwrap();
    assert_eq!(four.len(), 4);
    let close = |a: &[Detection], b: &[Detection]| {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                x.class_id == y.class_id
                    && (x.score - y.score).abs() < 1e-4
                    && (x.bbox.x1 - y.bbox.x1).abs() < 1e-2
                    && (x.bbox.y2 - y.bbox.y2).abs() < 1e-2
            })
    };
    assert!(
        close(&four[0], &one),
        "batch item 0 differs from batch 1:\n{:?}\n{:?}",
        four[0],
        one
    );
    assert!(close(&four[1], &two));
    assert_eq!(four[0], four[2]);
    assert_eq!(four[0], four[3]);
    assert!(det.detect(&[]).unwrap().is_empty());
}

#[test]
fn centerface_finds_small_faces_only_when_upscaled() {
    let frame = vtest_frame(200);
    let mut faces = FaceDetector::load(&asset("centerface/centerface-dyn.onnx"), &cfg()).unwrap();
    let at1 = faces.detect_faces(frame.image(), 1.0).unwrap();
    let at2 = faces.detect_faces(frame.image(), 2.0).unwrap();
    eprintln!("faces at 1x: {at1:?}\nfaces at 2x: {at2:?}");
    assert!(at2.len() >= 2, "expected >= 2 faces at 2x, got {at2:?}");
    assert!(at2.len() > at1.len());
    let people: Vec<_> = OnnxDetector::load(&yolo_description(), &cfg())
        .unwrap()
        .detect(&[frame.image()])
        .unwrap()
        .remove(0)
        .into_iter()
        .filter(|d| d.class_id == 0)
        .collect();
    for f in &at2 {
        assert!(
            f.width() >= 4.0 && f.width() <= 40.0 && f.height() <= 40.0,
            "not a CCTV-size face: {f:?}"
        );
        let c = f.center();
        // Each face is in the upper part of some person box.
        assert!(
            people.iter().any(|p| {
                let b = p.bbox;
                c.x >= b.x1 && c.x <= b.x2 && c.y >= b.y1 && c.y <= b.y1 + b.height() * 0.4
            }),
            "face {f:?} is not in the head region of any person"
        );
    }
}
