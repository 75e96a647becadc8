//! Photo redaction with the real face model on a real picture: a still of vtest.avi written as
//! a JPEG by FFmpeg (as a phone or a camera's snapshot would be) comes back with every face
//! the model finds blurred and the rest of the picture as it was.
mod still;

use still::vtest_still;
use vision::frame::Image;
use workers::photo::{decode, redact_photo};
use workers::{Engine, OnnxEngine};

/// Mean absolute difference of two same-size images inside `b` (x1, y1, x2, y2).
fn diff(a: &Image, b: &Image, r: (u32, u32, u32, u32)) -> f64 {
    let (x1, y1, x2, y2) = r;
    let mut s = 0.0;
    let mut n: f64 = 0.0;
    for y in y1..y2.min(a.height) {
        for x in x1..x2.min(a.width) {
            let i = ((y * a.width + x) * 3) as usize;
            for c in 0..3 {
                s += f64::from(a.data[i + c].abs_diff(b.data[i + c]));
                n += 1.0;
            }
        }
    }
    s / n.max(1.0)
}

#[test]
fn faces_in_a_still_are_blurred_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let engine = OnnxEngine::new(dir.path(), infer::InferConfig::default().with_threads(2));
    let mut faces = engine.faces().unwrap();
    let jpeg = vtest_still();
    let before = decode(&jpeg).unwrap();
    let found = faces.faces(before.as_ref(), 2.0).unwrap();
    assert!(found.len() >= 2, "the still shows faces: {found:?}");

    let r = redact_photo(&jpeg, faces.as_mut()).unwrap();
    assert_eq!((r.width, r.height), (before.width, before.height));
    assert_eq!(
        r.faces,
        found.len(),
        "the same search as the camera evidence"
    );
    let after = decode(&r.jpeg).unwrap();
    for f in &found {
        let b = (
            f.x1 as u32,
            f.y1 as u32,
            f.x2.ceil() as u32,
            f.y2.ceil() as u32,
        );
        let d = diff(&before, &after, b);
        assert!(d > 6.0, "face {f:?} left as it was (mean change {d:.1})");
    }
    // Away from the faces (and their margins) only JPEG's own loss changes the picture.
    let near_face = |x: u32, y: u32| {
        found.iter().any(|f| {
            let (mx, my) = (f.width(), f.height());
            (x as f32) > f.x1 - mx
                && (x as f32) < f.x2 + mx
                && (y as f32) > f.y1 - my
                && (y as f32) < f.y2 + my
        })
    };
    let (mut s, mut n) = (0.0, 0.0);
    for y in 0..before.height {
        for x in (0..before.width).filter(|&x| !near_face(x, y)) {
            let i = ((y * before.width + x) * 3) as usize;
            s += f64::from(before.data[i].abs_diff(after.data[i]));
            n += 1.0;
        }
    }
    let away = s / n;
    assert!(away < 3.0, "the picture away from faces changed: {away:.2}");
    assert!(r.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
}
