//! Shared test helpers: assets (fail with a clear message when missing) and a real footage frame.
#![allow(dead_code)]
use std::path::PathBuf;
use std::process::Command;

use infer::asset_root;

/// An asset under the cache root; panics saying how to get it when it is missing.
pub fn asset(rel: &str) -> PathBuf {
    let p = asset_root().join(rel);
    assert!(
        p.is_file(),
        "missing asset {}: run `posbon assets fetch` (or set POSBON_ASSETS to the cache that holds it)",
        p.display()
    );
    p
}

/// The repository's model description for the shipped detector.
pub fn yolo_description() -> PathBuf {
    asset("yolov4-tiny/yolov4-tiny-416.onnx");
    asset("yolov4-tiny/coco.names");
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/yolov4-tiny-416.toml")
}

/// One decoded RGB24 frame.
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl Rgb {
    pub fn image(&self) -> vision::frame::ImageRef<'_> {
        vision::frame::ImageRef {
            width: self.width,
            height: self.height,
            data: &self.data,
        }
    }
}

/// Frame `index` (0-based) of `vtest.avi` (768x576), decoded by Debian's `ffmpeg` binary into
/// memory: footage frames are never written into the repository.
pub fn vtest_frame(index: u32) -> Rgb {
    let src = asset("footage/vtest.avi");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(&src)
        .args([
            "-vf",
            &format!("select=eq(n\\,{index})"),
            "-vframes",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .expect("cannot run `ffmpeg`: install Debian's ffmpeg package (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "ffmpeg failed on {}: {}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let (width, height) = (768, 576);
    assert_eq!(
        out.stdout.len(),
        (width * height * 3) as usize,
        "vtest.avi frame {index}: unexpected size"
    );
    Rgb {
        width,
        height,
        data: out.stdout,
    }
}

/// `count` consecutive frames of `vtest.avi` from `start`, decoded by `ffmpeg` in one call.
pub fn vtest_frames(start: u32, count: u32) -> Vec<Rgb> {
    let src = asset("footage/vtest.avi");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(&src)
        .args([
            "-vf",
            &format!("select=between(n\\,{start}\\,{})", start + count - 1),
            "-vsync",
            "0",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .expect("cannot run `ffmpeg`: install Debian's ffmpeg package (apt-get install ffmpeg)");
    assert!(out.status.success(), "ffmpeg failed on {}", src.display());
    let (width, height) = (768u32, 576u32);
    let size = (width * height * 3) as usize;
    assert_eq!(out.stdout.len(), size * count as usize, "vtest.avi frames");
    out.stdout
        .chunks_exact(size)
        .map(|c| Rgb {
            width,
            height,
            data: c.to_vec(),
        })
        .collect()
}
