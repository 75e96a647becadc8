//! Shared helpers for the media integration tests.
#![allow(dead_code)]
use std::path::PathBuf;

use media::{FrameSource, SourceItem};
use vision::frame::Frame;

pub use assets::asset_root;

/// A cached footage file; fails the test if it is missing.
pub fn footage(name: &str) -> PathBuf {
    let p = asset_root().join("footage").join(name);
    assert!(
        p.is_file(),
        "test footage {} is missing; run `posbon assets fetch`",
        p.display()
    );
    p
}

/// Reads a file source to its end; returns the frames and the error that ended it, if any.
pub fn read_all(src: &mut dyn FrameSource) -> (Vec<Frame>, Option<media::MediaError>) {
    let mut frames = Vec::new();
    loop {
        match src.next_item() {
            Ok(Some(SourceItem::Frame(f))) => frames.push(f),
            Ok(Some(other)) => panic!("a file source yielded {other:?}"),
            Ok(None) => return (frames, None),
            Err(e) => return (frames, Some(e)),
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift64*).
pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        out.extend_from_slice(&seed.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn mean(data: &[u8]) -> f64 {
    data.iter().map(|&b| b as f64).sum::<f64>() / data.len().max(1) as f64
}
