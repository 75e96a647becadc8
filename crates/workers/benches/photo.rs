//! Photo redaction (decode, face search, blur, JPEG encode: `workers::photo::redact_photo`) on
//! the files given, timed per call. One JSON line per file: size, faces, median and p90 in ms.
//! `bench/photo.sh` runs it beside the Python peer (`bench/python_photo.py`) on the same files.
//!
//!     cargo bench -p workers --bench photo -- still.jpg phone.jpg
use std::time::Instant;

use workers::photo::{Photos, decode};
use workers::{Engine, OnnxEngine};

const WARMUP: usize = 2;
const RUNS: usize = 15;

fn main() {
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if files.is_empty() {
        eprintln!(
            "usage: cargo bench -p workers --bench photo -- PHOTO.jpg [...] (bench/photo.sh makes them)"
        );
        std::process::exit(2);
    }
    let threads = std::env::var("POSBON_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let dir = std::env::temp_dir();
    let engine = OnnxEngine::new(&dir, infer::InferConfig::default().with_threads(threads));
    let photos = Photos::new(engine.faces().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    }));
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{f}: {e}"));
        let img = decode(&bytes).unwrap_or_else(|e| panic!("{f}: {e}"));
        let mut faces = 0;
        for _ in 0..WARMUP {
            faces = photos.redact(&bytes).unwrap().faces;
        }
        let mut ms: Vec<f64> = (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let r = photos.redact(&bytes).unwrap();
                std::hint::black_box(r.jpeg.len());
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        // Where the time goes: decoding and encoding alone, the rest is the face search and blur.
        let median = |f: &mut dyn FnMut()| {
            let mut v: Vec<f64> = (0..RUNS)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed().as_secs_f64() * 1000.0
                })
                .collect();
            v.sort_by(f64::total_cmp);
            v[RUNS / 2]
        };
        let decode_ms = median(&mut || {
            std::hint::black_box(decode(&bytes).unwrap());
        });
        let encode_ms = median(&mut || {
            std::hint::black_box(media::jpeg::encode_rgb(img.as_ref(), 85).unwrap());
        });
        println!(
            "{{\"impl\":\"posbon\",\"file\":{:?},\"width\":{},\"height\":{},\"faces\":{},\"runs\":{},\"median_ms\":{:.2},\"p90_ms\":{:.2},\"decode_ms\":{:.2},\"encode_ms\":{:.2}}}",
            f,
            img.width,
            img.height,
            faces,
            RUNS,
            ms[RUNS / 2],
            ms[RUNS * 9 / 10],
            decode_ms,
            encode_ms
        );
    }
}
