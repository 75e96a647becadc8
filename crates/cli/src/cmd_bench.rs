//! `posbon bench`: the whole pipeline on a video, with and without the motion gate, the detector
//! alone per backend, and the Python peer (OpenCV decode + onnxruntime, same model, same NMS)
//! measured in the same run on the same file.
use crate::cmd_analyze::{open_source, read_config};
use crate::detector::{EngineArgs, load_detector, load_faces};
use anyhow::{Context, Result, bail};
use infer::Backend;
use pipeline::{Pipeline, Stats};
use std::path::{Path, PathBuf};
use std::time::Instant;
use vision::detect::Detector;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// The video to run on (e.g. `posbon assets path footage/vtest.avi`).
    #[arg(long)]
    pub video: String,
    /// The camera config (zones, rules) used for the pipeline runs.
    #[arg(long, default_value = "config/demo-camera.toml")]
    pub config: PathBuf,
    /// Stop after this many frames (0 = the whole video).
    #[arg(long, default_value_t = 0)]
    pub frames: u64,
    /// Inference threads. 1 measures "per core".
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Detector latency samples per backend and batch size.
    #[arg(long, default_value_t = 20)]
    pub samples: usize,
    /// Skip the Python peer (needs `python3` with bench/requirements.txt).
    #[arg(long)]
    pub no_python: bool,
    /// Where to write the JSON report.
    #[arg(long, default_value = "out/bench/report.json")]
    pub report: PathBuf,
}

/// A source that stops after `limit` frames.
struct Limited {
    inner: Box<dyn media::FrameSource>,
    left: u64,
}

impl media::FrameSource for Limited {
    fn next_item(&mut self) -> Result<Option<media::SourceItem>, media::MediaError> {
        if self.left == 0 {
            return Ok(None);
        }
        let item = self.inner.next_item()?;
        if let Some(media::SourceItem::Frame(_)) = item {
            self.left -= 1;
        }
        Ok(item)
    }
    fn info(&self) -> &media::SourceInfo {
        self.inner.info()
    }
}

/// CPU seconds (user + system) used so far by this process (`who = RUSAGE_SELF`, all threads)
/// or by its waited-for children (`RUSAGE_CHILDREN`).
fn cpu_seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we own; no other invariant is involved.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn pipeline_run(args: &BenchArgs, gate: bool, out: &Path) -> Result<(Stats, f64)> {
    let mut cfg = read_config(&args.config)?;
    cfg.detector.motion_gate = gate;
    let engine = EngineArgs {
        backend: Backend::Ort,
        threads: args.threads,
    };
    let dir = args.config.parent().unwrap_or(Path::new("."));
    let detector = load_detector(&cfg, dir, &engine)?;
    let faces = load_faces(&engine)?;
    let _ = std::fs::remove_dir_all(out);
    let mut pipe = Pipeline::new(cfg, detector, faces, out)?;
    let limit = if args.frames == 0 {
        u64::MAX
    } else {
        args.frames
    };
    let mut src = Limited {
        inner: open_source(&args.video, 0)?,
        left: limit,
    };
    let cpu0 = cpu_seconds(libc::RUSAGE_SELF);
    pipe.run(&mut src, &mut |_| {})?;
    let cpu = cpu_seconds(libc::RUSAGE_SELF) - cpu0;
    Ok((pipe.stats().clone(), cpu))
}

/// Median milliseconds per frame of the detector alone on real frames of the video.
fn detector_latency(args: &BenchArgs, backend: Backend, batch: usize) -> Result<f64> {
    let cfg = read_config(&args.config)?;
    let engine = EngineArgs {
        backend,
        threads: args.threads,
    };
    let dir = args.config.parent().unwrap_or(Path::new("."));
    let mut det = load_detector(&cfg, dir, &engine)?;
    let mut src = open_source(&args.video, 0)?;
    let mut frames = Vec::new();
    while frames.len() < batch {
        match src.next_item()? {
            Some(media::SourceItem::Frame(f)) => frames.push(f),
            Some(_) => continue,
            None => bail!("{} has fewer than {batch} frames", args.video),
        }
    }
    let images: Vec<_> = frames.iter().map(|f| f.image()).collect();
    det.detect(&images)?; // warm-up
    let mut ms: Vec<f64> = (0..args.samples.max(1))
        .map(|_| {
            let t = Instant::now();
            det.detect(&images)
                .map(|_| t.elapsed().as_secs_f64() * 1e3 / batch as f64)
        })
        .collect::<Result<_, _>>()?;
    Ok(median(&mut ms))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn python_peer(args: &BenchArgs) -> Result<serde_json::Value> {
    let model = infer::asset_root().join("yolov4-tiny/yolov4-tiny-416.onnx");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/python_pipeline.py");
    let mut cmd =
        std::process::Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()));
    cmd.arg(&script)
        .arg("--video")
        .arg(&args.video)
        .arg("--model")
        .arg(&model)
        .arg("--threads")
        .arg(args.threads.to_string());
    if args.frames > 0 {
        cmd.arg("--max-frames").arg(args.frames.to_string());
    }
    let cpu0 = cpu_seconds(libc::RUSAGE_CHILDREN);
    let out = cmd
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    let cpu = cpu_seconds(libc::RUSAGE_CHILDREN) - cpu0;
    if !out.status.success() {
        bail!(
            "the Python peer failed ({}): {}\ninstall its packages with `python3 -m pip install -r bench/requirements.txt`",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let json = text.find('{').map_or("", |i| &text[i..]);
    let mut v: serde_json::Value = serde_json::from_str(json)
        .with_context(|| format!("the Python peer printed no JSON result: {text}"))?;
    if let Some(m) = v.as_object_mut() {
        m.insert("cpu_s".into(), cpu.into());
    }
    Ok(v)
}

#[allow(clippy::print_stdout)]
pub fn run(args: &BenchArgs) -> Result<()> {
    let mut report = serde_json::Map::new();
    let cores = args.threads;
    println!(
        "posbon bench: {} with {} inference thread(s)",
        args.video, cores
    );

    let mut backends = vec![Backend::Ort];
    if cfg!(feature = "tract") {
        backends.push(Backend::Tract);
    }
    for b in &backends {
        for batch in [1usize, 4] {
            let ms = detector_latency(args, *b, batch)?;
            println!(
                "detector {b} batch {batch}: {ms:.1} ms/frame (median of {}), {:.1} cameras/core at 5 detections/s",
                args.samples,
                1000.0 / ms / 5.0 / cores as f64
            );
            report.insert(format!("detector_{b}_b{batch}_ms"), ms.into());
        }
    }

    let tmp = std::env::temp_dir().join(format!("posbon-bench-{}", std::process::id()));
    for gate in [true, false] {
        let (s, cpu) = pipeline_run(args, gate, &tmp)?;
        let label = if gate {
            "with motion gate"
        } else {
            "without motion gate"
        };
        println!(
            "posbon pipeline {label}: {} frames in {:.1} s wall = {:.1} frames/s, {:.1} CPU s = {:.2} frames per CPU-second; \
             detector: {} whole frames, {} on moving regions, {} skipped, work {:.0}% of whole frames; \
             stages s: decode {:.1} gate {:.2} detect {:.1} track+rules {:.2} evidence {:.1}; {} events, {} images",
            s.frames,
            s.wall_s,
            s.fps(),
            cpu,
            s.frames as f64 / cpu,
            s.detector_frames,
            s.frames_regions,
            s.frames_gated,
            100.0 * (1.0 - s.detector_saved()),
            s.decode_s,
            s.gate_s,
            s.detect_s,
            s.track_rules_s,
            s.evidence_s,
            s.events(),
            s.evidence_images,
        );
        report.insert(format!("pipeline_gate_{gate}"), serde_json::to_value(&s)?);
        report.insert(format!("pipeline_gate_{gate}_fps"), s.fps().into());
        report.insert(format!("pipeline_gate_{gate}_cpu_s"), cpu.into());
        report.insert(
            format!("pipeline_gate_{gate}_fps_per_cpu"),
            (s.frames as f64 / cpu).into(),
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);

    if !args.no_python {
        let py = python_peer(args)?;
        let py_fps = py.get("fps").and_then(|v| v.as_f64()).unwrap_or(0.0);
        let py_frames = py.get("frames").and_then(|v| v.as_f64()).unwrap_or(0.0);
        let py_cpu = py.get("cpu_s").and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
        let py_per_cpu = py_frames / py_cpu;
        println!(
            "python peer (OpenCV decode + onnxruntime, same model and NMS): {py_fps:.1} frames/s wall, \
             {py_cpu:.1} CPU s = {py_per_cpu:.2} frames per CPU-second"
        );
        for gate in [true, false] {
            let get = |k: &str| {
                report
                    .get(&format!("pipeline_gate_{gate}_{k}"))
                    .and_then(|v| v.as_f64())
            };
            if let (Some(f), Some(c)) = (get("fps"), get("fps_per_cpu")) {
                println!(
                    "ratio posbon {} / python: {:.2}x by wall clock, {:.2}x per CPU-second",
                    if gate { "with gate" } else { "without gate" },
                    f / py_fps,
                    c / py_per_cpu
                );
            }
        }
        report.insert("python".into(), py);
    }
    if let Some(dir) = args.report.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.report, serde_json::to_vec_pretty(&report)?)?;
    println!("report: {}", args.report.display());
    Ok(())
}
