//! Detector and face detector latency on a real frame (vtest.avi frame 200, 768x576).
//!
//!     cargo run --release -p infer --example latency -- [ort|tract] [threads] [iterations]
//!     cargo run --release -p infer --features tract --example latency -- tract 2 10
//!
//! Prints the median per-frame latency of YOLOv4-tiny-416 at batch 1 and batch 4, of
//! CenterFace at 2x (1536x1152 input), and of the resize into the model input alone.
//! tract's thread pool is per process: run once per thread count.
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use infer::{Backend, FaceDetector, InferConfig, OnnxDetector, asset_root};
use vision::frame::ImageRef;
use vision::preprocess::Resizer;

fn median_ms(mut f: impl FnMut(), iters: usize) -> f64 {
    f();
    f();
    let mut t: Vec<f64> = (0..iters)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let backend: Backend = args.first().map_or(Ok(Backend::Ort), |s| s.parse())?;
    let threads: usize = args.get(1).map_or(Ok(1), |s| s.parse())?;
    let iters: usize = args.get(2).map_or(Ok(10), |s| s.parse())?;
    let cfg = InferConfig::default()
        .with_backend(backend)
        .with_threads(threads);

    let video = asset_root().join("footage/vtest.avi");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(&video)
        .args([
            "-vf",
            "select=eq(n\\,200)",
            "-vframes",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()?;
    if !out.status.success() || out.stdout.len() != 768 * 576 * 3 {
        return Err(format!(
            "could not decode frame 200 of {} (run `posbon assets fetch`)",
            video.display()
        )
        .into());
    }
    let img = ImageRef {
        width: 768,
        height: 576,
        data: &out.stdout,
    };

    let desc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/yolov4-tiny-416.toml");
    let mut det = OnnxDetector::load(&desc, &cfg)?;
    let b1 = median_ms(|| drop(det.try_detect(&[img]).unwrap()), iters);
    let b4 = median_ms(
        || drop(det.try_detect(&[img; 4]).unwrap()),
        iters.div_ceil(2).max(3),
    ) / 4.0;
    let n = det.try_detect(&[img])?[0].len();

    let resizer = Resizer::new(768, 576, &det.model().spec.input);
    let mut buf = vec![0.0f32; resizer.output_len()];
    let pre = median_ms(|| resizer.run(img, &mut buf), 50);

    let mut faces = FaceDetector::load_default(&cfg)?;
    let f2 = median_ms(
        || drop(faces.detect_faces(img, 2.0).unwrap()),
        iters.div_ceil(2).max(3),
    );
    let nf = faces.detect_faces(img, 2.0)?.len();

    println!("backend {backend}, {threads} thread(s), median of {iters}");
    println!("yolov4-tiny-416 batch 1: {b1:.1} ms/frame ({n} detections)");
    println!("yolov4-tiny-416 batch 4: {b4:.1} ms/frame");
    println!("resize 768x576 -> 416x416 (in the above): {pre:.2} ms");
    println!("centerface 2x (1536x1152): {f2:.1} ms ({nf} faces)");
    Ok(())
}
