//! tract and ONNX Runtime agree on the same inputs (build with `--features tract`).
#![cfg(all(feature = "tract", feature = "ort"))]
mod common;

use common::{asset, vtest_frame, yolo_description};
use infer::{Backend, FaceDetector, InferConfig, OnnxDetector};

fn cfg(backend: Backend) -> InferConfig {
    InferConfig::default().with_backend(backend).with_threads(2)
}

#[test]
fn yolo_raw_outputs_and_detections_agree() {
    let a = vtest_frame(200);
    let b = vtest_frame(420);
    let imgs = [a.image(), b.image()];
    let mut ort = OnnxDetector::load(&yolo_description(), &cfg(Backend::Ort)).unwrap();
    let mut tract = OnnxDetector::load(&yolo_description(), &cfg(Backend::Tract)).unwrap();
    let ro = ort.raw_outputs(&imgs).unwrap();
    let rt = tract.raw_outputs(&imgs).unwrap();
    assert_eq!(ro.len(), 2);
    let (mut box_diff, mut prob_diff) = (0.0f32, 0.0f32);
    for ((d1, o), (d2, t)) in ro.iter().zip(&rt) {
        assert_eq!(d1, d2);
        assert_eq!((d1.rows, d1.cols), (2535, 85));
        for (r1, r2) in o.chunks(85).zip(t.chunks(85)) {
            for k in 0..4 {
                box_diff = box_diff.max((r1[k] - r2[k]).abs());
            }
            for k in 4..85 {
                prob_diff = prob_diff.max((r1[k] - r2[k]).abs());
            }
        }
    }
    eprintln!("ort vs tract: max |diff| box {box_diff:.2e} px, probabilities {prob_diff:.2e}");
    assert!(box_diff < 0.05, "box coordinates differ by {box_diff} px");
    assert!(prob_diff < 1e-3, "probabilities differ by {prob_diff}");
    let d1 = ort.try_detect(&imgs).unwrap();
    let d2 = tract.try_detect(&imgs).unwrap();
    for (x, y) in d1.iter().zip(&d2) {
        assert_eq!(x.len(), y.len());
        for (p, q) in x.iter().zip(y) {
            assert_eq!(p.class_id, q.class_id);
            assert!(
                (p.score - q.score).abs() < 1e-3 && p.bbox.iou(&q.bbox) > 0.99,
                "{p:?} vs {q:?}"
            );
        }
    }
}

#[test]
fn centerface_agrees() {
    let frame = vtest_frame(200);
    let path = asset("centerface/centerface-dyn.onnx");
    let mut o = FaceDetector::load(&path, &cfg(Backend::Ort)).unwrap();
    let mut t = FaceDetector::load(&path, &cfg(Backend::Tract)).unwrap();
    let fo = o.detect_faces_scored(frame.image(), 2.0).unwrap();
    let ft = t.detect_faces_scored(frame.image(), 2.0).unwrap();
    assert!(fo.len() >= 2);
    assert_eq!(fo.len(), ft.len(), "{fo:?}\n{ft:?}");
    for (p, q) in fo.iter().zip(&ft) {
        assert!(
            (p.score - q.score).abs() < 1e-3 && p.bbox.iou(&q.bbox) > 0.98,
            "{p:?} vs {q:?}"
        );
    }
}
