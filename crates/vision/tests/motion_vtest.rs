//! Motion gate on real footage: vtest.avi (768x576, 795 frames, pedestrians crossing a square),
//! decoded by the Debian `ffmpeg` binary into raw RGB over a pipe.
use std::io::Read;
use std::process::{Command, Stdio};
use vision::geom::BBox;
use vision::motion::{MotionConfig, MotionGate};

use assets::asset_root;

/// Every frame of `rel` (under the asset root) as packed RGB24.
fn decode(rel: &str, w: usize, h: usize) -> Vec<Vec<u8>> {
    let path = asset_root().join(rel);
    assert!(
        path.is_file(),
        "{} is missing: run `posbon assets fetch`",
        path.display()
    );
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
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
            Err(e) => panic!("reading ffmpeg output for {}: {e}", path.display()),
        }
    }
    let status = child.wait().expect("wait for ffmpeg");
    assert!(
        status.success(),
        "ffmpeg failed on {}: {status}",
        path.display()
    );
    frames
}

struct Stats {
    frames: usize,
    with_motion: usize,
    area_fraction_sum: f64,
    regions: usize,
    max_regions: usize,
}

fn run(frames: &[Vec<u8>], w: u32, h: u32, cfg: MotionConfig, warm: usize) -> Stats {
    let mut gate = MotionGate::new(cfg, w, h);
    let mut s = Stats {
        frames: 0,
        with_motion: 0,
        area_fraction_sum: 0.0,
        regions: 0,
        max_regions: 0,
    };
    let frame_area = (w * h) as f64;
    for (i, f) in frames.iter().enumerate() {
        let res = gate.update(vision::frame::ImageRef {
            width: w,
            height: h,
            data: f,
        });
        if i < warm {
            continue;
        }
        s.frames += 1;
        // regions never overlap, so the sum of their areas is the area of their union
        let area: f64 = res.regions.iter().map(|r| r.area() as f64).sum();
        assert!(
            area <= frame_area * 1.0001,
            "frame {i}: regions {:?} overlap",
            res.regions
        );
        s.with_motion += !res.regions.is_empty() as usize;
        s.area_fraction_sum += area / frame_area;
        s.regions += res.regions.len();
        s.max_regions = s.max_regions.max(res.regions.len());
    }
    s
}

#[test]
fn vtest_gate_lets_through_moving_people_and_little_else() {
    let (w, h) = (768u32, 576u32);
    let frames = decode("footage/vtest.avi", w as usize, h as usize);
    assert_eq!(frames.len(), 795, "vtest.avi should decode to 795 frames");

    let cfg = MotionConfig::default();
    let max = cfg.max_regions as usize;
    let s = run(&frames, w, h, cfg, 1);
    let frac_frames = s.with_motion as f64 / s.frames as f64;
    let mean_area = s.area_fraction_sum / s.frames as f64;
    eprintln!(
        "vtest.avi, default gate: {} frames after warm-up, {:.1}% with motion, mean region area \
         {:.1}% of the frame, {:.2} regions/frame (max {})",
        s.frames,
        100.0 * frac_frames,
        100.0 * mean_area,
        s.regions as f64 / s.frames as f64,
        s.max_regions
    );
    // people walk through the square in every part of the clip
    assert!(
        frac_frames > 0.95,
        "only {:.1}% of frames had motion",
        100.0 * frac_frames
    );
    // ...but they cover a small part of it: the gate must not hand back the whole frame
    assert!(
        mean_area > 0.02 && mean_area < 0.5,
        "mean region area {:.3} of the frame",
        mean_area
    );
    assert!(s.max_regions <= max);

    // A frame held still: the gate goes quiet once the background has caught up (people who
    // just left leave a fading ghost for a few 1/alpha frames).
    let mut gate = MotionGate::new(MotionConfig::default(), w, h);
    for f in &frames[..300] {
        gate.update(vision::frame::ImageRef {
            width: w,
            height: h,
            data: f,
        });
    }
    let held = &frames[300];
    let quiet_after = (1..=200)
        .find(|_| {
            gate.update(vision::frame::ImageRef {
                width: w,
                height: h,
                data: held,
            })
            .regions
            .is_empty()
        })
        .expect("a frozen real frame still showed motion after 200 frames");
    eprintln!("vtest.avi frame 300 held still: no regions after {quiet_after} frames");
    for k in 0..20 {
        let r = gate.update(vision::frame::ImageRef {
            width: w,
            height: h,
            data: held,
        });
        assert!(
            r.regions.is_empty(),
            "held frame, {k} frames after it went quiet: {r:?}"
        );
    }

    // a mask over the whole frame silences it completely
    let all = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
    let s = run(
        &frames[..200],
        w,
        h,
        MotionConfig {
            masks: vec![all],
            ..Default::default()
        },
        1,
    );
    assert_eq!(s.with_motion, 0);
}

#[test]
fn vtest_regions_follow_the_moving_pixels() {
    // Ground truth from the footage itself, computed independently of the gate at full
    // resolution: pixels whose luma changed by more than 40 levels since 5 frames earlier, in
    // 16x16 blocks where more than a quarter of the pixels changed. Most such blocks must lie
    // inside the gate's regions.
    let (w, h) = (768usize, 576usize);
    let frames = decode("footage/vtest.avi", w, h);
    let luma = |f: &[u8], x: usize, y: usize| {
        let o = (y * w + x) * 3;
        (77 * f[o] as i32 + 150 * f[o + 1] as i32 + 29 * f[o + 2] as i32) >> 8
    };
    let mut gate = MotionGate::new(MotionConfig::default(), w as u32, h as u32);
    let (mut blocks, mut covered) = (0usize, 0usize);
    for (i, f) in frames.iter().enumerate() {
        let res = gate.update(vision::frame::ImageRef {
            width: w as u32,
            height: h as u32,
            data: f,
        });
        if i < 20 || i % 10 != 0 {
            continue;
        }
        let prev = &frames[i - 5];
        for by in (0..h).step_by(16) {
            for bx in (0..w).step_by(16) {
                let mut n = 0;
                for y in by..by + 16 {
                    for x in bx..bx + 16 {
                        n += ((luma(f, x, y) - luma(prev, x, y)).abs() > 40) as usize;
                    }
                }
                if n > 64 {
                    blocks += 1;
                    let b = BBox::new(bx as f32, by as f32, (bx + 16) as f32, (by + 16) as f32);
                    covered += res
                        .regions
                        .iter()
                        .any(|r| r.intersection(&b) >= 0.5 * b.area())
                        as usize;
                }
            }
        }
    }
    let recall = covered as f64 / blocks as f64;
    eprintln!(
        "vtest.avi: {covered} of {blocks} strongly changed 16x16 blocks inside regions ({:.1}%)",
        100.0 * recall
    );
    assert!(
        blocks > 500,
        "too few changed blocks ({blocks}) for the check to mean anything"
    );
    assert!(
        recall > 0.95,
        "gate regions cover only {:.1}% of the moving blocks",
        100.0 * recall
    );
}

#[test]
fn bikes_moving_camera_and_cuts_fail_open() {
    // bikes.mp4 is not CCTV: a hand-held montage with cuts and pans. The gate must let it
    // through (run the detector) rather than hide what it cannot judge.
    let (w, h) = (640u32, 272u32);
    let frames = decode("footage/bikes.mp4", w as usize, h as usize);
    assert_eq!(frames.len(), 250, "bikes.mp4 should decode to 250 frames");
    let s = run(&frames, w, h, MotionConfig::default(), 1);
    let frac_frames = s.with_motion as f64 / s.frames as f64;
    let mean_area = s.area_fraction_sum / s.frames as f64;
    eprintln!(
        "bikes.mp4 (moving camera), default gate: {:.1}% of frames with motion, mean region area {:.1}% of the frame",
        100.0 * frac_frames,
        100.0 * mean_area
    );
    assert!(
        frac_frames > 0.9,
        "moving camera: only {:.1}% of frames passed",
        100.0 * frac_frames
    );
    assert!(
        mean_area > 0.4,
        "moving camera: regions cover only {:.1}%",
        100.0 * mean_area
    );
}
