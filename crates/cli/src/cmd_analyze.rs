//! `posbon analyze INPUT --config CAMERA.toml --out DIR`
use crate::detector::{EngineArgs, load_detector, load_faces};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use pipeline::{Pipeline, Stats};
use std::path::{Path, PathBuf};
use std::time::Duration;
use vision::clock::{FixedStart, Timestamp};
use vision::config::CameraConfig;

#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// A video file, or a camera URL (rtsp://user:pass@host:554/stream).
    pub input: String,
    /// The camera's configuration (TOML): detector, zones, lines, rules.
    #[arg(long)]
    pub config: PathBuf,
    /// Output folder: events.jsonl (appended) and evidence/.
    #[arg(long)]
    pub out: PathBuf,
    /// For files: the wall-clock time the recording started (RFC 3339 is not parsed; give Unix
    /// seconds). Event times are this plus the frame's position. Default: 0 (1970-01-01), so runs
    /// are reproducible.
    #[arg(long, default_value_t = 0)]
    pub start_unix: i64,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn read_config(path: &Path) -> Result<CameraConfig> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading camera config {}: check the path given to --config",
            path.display()
        )
    })?;
    let mut cfg = CameraConfig::from_toml_str(&text, &path.display().to_string())?;
    // Paths in the config are relative to the config file.
    if let Some(k) = &cfg.evidence.original_key
        && k.is_relative()
    {
        cfg.evidence.original_key = Some(path.parent().unwrap_or(Path::new(".")).join(k));
    }
    Ok(cfg)
}

pub fn open_source(input: &str, start_unix: i64) -> Result<Box<dyn media::FrameSource>> {
    let mut opts = media::OpenOptions::default();
    if !media::is_live_uri(input) {
        opts.clock = Box::new(FixedStart(Timestamp(start_unix * 1_000_000)));
    }
    let src = media::open(input, opts)
        .with_context(|| format!("opening {}", media::redact_uri(input)))?;
    Ok(Box::new(pipeline::Prefetch::new(src, 8)))
}

pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let cfg = read_config(&args.config)?;
    let config_dir = args.config.parent().unwrap_or(Path::new("."));
    let detector = load_detector(&cfg, config_dir, &args.engine)?;
    let faces = load_faces(&args.engine)?;
    let mut source = open_source(&args.input, args.start_unix)?;
    let info = source.info().clone();
    let camera = cfg.camera.id.clone();
    let mut pipe = Pipeline::new(cfg, detector, faces, &args.out)?;

    let bar = match info.frame_count {
        Some(n) if !info.live => ProgressBar::new(n),
        _ => ProgressBar::new_spinner(),
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} frames {msg}",
        )
        .expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let result = pipe.run(source.as_mut(), &mut |s: &Stats| {
        bar.set_position(s.frames);
        bar.set_message(format!("{:.1} fps, {} events", s.fps(), s.events()));
    });
    bar.finish_and_clear();

    let stats = pipe.stats().clone();
    write_summary(&args.out, &camera, &args.input, &stats)?;
    print_summary(&camera, &args.out, &stats);
    result.with_context(|| {
        format!(
            "analysis of {} stopped early; the {} events and evidence written so far are kept in {}",
            media::redact_uri(&args.input),
            stats.events(),
            args.out.display()
        )
    })
}

fn write_summary(out: &Path, camera: &str, input: &str, stats: &Stats) -> Result<()> {
    let path = out.join("summary.json");
    let json =
        serde_json::json!({ "camera": camera, "input": media::redact_uri(input), "stats": stats });
    std::fs::write(&path, serde_json::to_vec_pretty(&json)?)
        .with_context(|| format!("writing {}", path.display()))
}

#[allow(clippy::print_stdout)]
fn print_summary(camera: &str, out: &Path, s: &Stats) {
    println!(
        "camera {camera}: {} frames in {:.1} s ({:.1} frames/s)",
        s.frames,
        s.wall_s,
        s.fps()
    );
    println!(
        "detector: {} whole frames in {} batched calls, {} frames on moving regions only, {} frames skipped (nothing moved)",
        s.detector_frames, s.detector_calls, s.frames_regions, s.frames_gated,
    );
    println!(
        "motion gate: the detector did {:.0}% of the work of running on every whole frame (saved {:.0}%)",
        100.0 * (1.0 - s.detector_saved()),
        100.0 * s.detector_saved()
    );
    println!("objects tracked, by class:");
    for (class, n) in &s.tracks_by_class {
        println!("  {class:<12} {n}");
    }
    println!("events, by rule:");
    if s.events_by_rule.is_empty() {
        println!("  (none)");
    }
    for (rule, n) in &s.events_by_rule {
        println!("  {rule:<24} {n}");
    }
    println!(
        "time per stage (s): decode {:.1}, motion gate {:.1}, detector {:.1}, tracking+rules {:.2}, evidence {:.1}",
        s.decode_s, s.gate_s, s.detect_s, s.track_rules_s, s.evidence_s
    );
    println!(
        "results: {}/events.jsonl, {} redacted evidence images in {}/evidence/",
        out.display(),
        s.evidence_images,
        out.display()
    );
}
