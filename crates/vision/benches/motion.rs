//! Cost of the motion gate and of redaction on real footage (vtest.avi, 768x576).
//!
//!     cargo bench -p vision --bench motion
//!
//! Plain `main` (no harness): decodes the clip once with the `ffmpeg` binary, then times
//! `MotionGate::update` over every frame (median of 5 passes) and `blur_regions` on a head-sized
//! and a person-sized box. Prints one JSON object.
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Instant;
use vision::frame::{Image, ImageRef};
use vision::geom::BBox;
use vision::motion::{MotionConfig, MotionGate};
use vision::redact::{DEFAULT_STRENGTH, blur_regions};

use assets::asset_root;

fn decode(path: &std::path::Path, w: usize, h: usize) -> Vec<Vec<u8>> {
    assert!(
        path.is_file(),
        "{} is missing: run `posbon assets fetch`",
        path.display()
    );
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `ffmpeg` ({e}): install Debian's ffmpeg package"));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut frames = Vec::new();
    loop {
        let mut buf = vec![0u8; w * h * 3];
        match out.read_exact(&mut buf) {
            Ok(()) => frames.push(buf),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => panic!("reading ffmpeg output: {e}"),
        }
    }
    assert!(
        child.wait().expect("wait for ffmpeg").success(),
        "ffmpeg failed on {}",
        path.display()
    );
    frames
}

/// CPU time this thread has run, in seconds (Linux schedstat; wall time is meaningless on a
/// machine shared with other jobs). `None` elsewhere.
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let (w, h) = (768u32, 576u32);
    let frames = decode(
        &asset_root().join("footage/vtest.avi"),
        w as usize,
        h as usize,
    );
    let mut passes = Vec::new();
    let mut cpu = Vec::new();
    let mut with_motion = 0;
    for _ in 0..5 {
        let c0 = thread_cpu();
        let mut gate = MotionGate::new(MotionConfig::default(), w, h);
        with_motion = 0;
        let t = Instant::now();
        for f in &frames {
            let r = gate.update(ImageRef {
                width: w,
                height: h,
                data: f,
            });
            with_motion += !r.regions.is_empty() as usize;
        }
        passes.push(t.elapsed().as_secs_f64() / frames.len() as f64);
        if let (Some(a), Some(b)) = (c0, thread_cpu()) {
            cpu.push((b - a) / frames.len() as f64);
        }
    }
    let gate_us = median(passes) * 1e6;
    let gate_cpu_us = if cpu.is_empty() {
        f64::NAN
    } else {
        median(cpu) * 1e6
    };

    let mut img = Image {
        width: w,
        height: h,
        data: frames[200].clone(),
    };
    let mut blur = |b: BBox| {
        let mut t = Vec::new();
        for _ in 0..200 {
            let s = Instant::now();
            blur_regions(&mut img, &[b], DEFAULT_STRENGTH);
            t.push(s.elapsed().as_secs_f64());
        }
        median(t) * 1e6
    };
    let head_us = blur(BBox::new(300.0, 200.0, 332.0, 232.0));
    let person_us = blur(BBox::new(500.0, 300.0, 560.0, 460.0));
    println!(
        "{{\"bench\":\"vision motion+redact\",\"video\":\"vtest.avi 768x576\",\"frames\":{},\
         \"gate_us_per_frame\":{gate_us:.1},\"gate_cpu_us_per_frame\":{gate_cpu_us:.1},\"gate_frames_per_s\":{:.0},\"frames_with_motion\":{with_motion},\
         \"blur_32x32_us\":{head_us:.1},\"blur_60x160_us\":{person_us:.1}}}",
        frames.len(),
        1e6 / gate_us
    );
}
