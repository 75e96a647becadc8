//! Decode throughput, one decoder thread, RGB24 out:
//! `cargo run --release -p media --example decode_bench -- FILE [FILE ...]`
//! Prints, per file, frames, seconds and frames/s (best of 3 passes), or the error met.
use std::time::Instant;

use media::{OpenOptions, SourceItem, open};
use vision::clock::{FixedStart, Timestamp};

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: decode_bench FILE [FILE ...]");
        std::process::exit(2);
    }
    for path in paths {
        let mut best: Option<(u64, f64)> = None;
        let mut summary = String::new();
        for _ in 0..3 {
            let opts = OpenOptions {
                clock: Box::new(FixedStart(Timestamp(0))),
                ..Default::default()
            };
            let t = Instant::now();
            let mut src = match open(&path, opts) {
                Ok(s) => s,
                Err(e) => {
                    summary = format!("error: {e}");
                    break;
                }
            };
            let mut n = 0u64;
            let mut checksum = 0u64;
            let mut ended = String::new();
            loop {
                match src.next_item() {
                    Ok(Some(SourceItem::Frame(f))) => {
                        n += 1;
                        checksum = checksum.wrapping_add(f.data[f.data.len() / 2] as u64);
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        ended = format!(" | ended with: {e}");
                        break;
                    }
                }
            }
            let secs = t.elapsed().as_secs_f64();
            if best.is_none_or(|(_, s)| secs < s) {
                best = Some((n, secs));
                let (info, stats) = (src.info(), src.stats());
                summary = format!(
                    "{}x{} {} | {n} frames in {secs:.3} s = {:.1} frames/s (truncated: {}, decode errors: {}, checksum {checksum}){ended}",
                    info.width,
                    info.height,
                    info.codec,
                    n as f64 / secs,
                    stats.truncated,
                    stats.decode_errors
                );
            }
        }
        println!("{path}: {summary}");
    }
}
