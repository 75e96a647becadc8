//! `posbon track`: run the tracker over a MOT-format detection file and write its tracks, also in
//! MOT format. This is how the tracker is benchmarked (`tools/mot_eval.py` scores the output
//! against ground truth); it follows boxes only, with no appearance model and no re-identification.
use anyhow::Context;
use std::path::PathBuf;
use vision::tracker::TrackerConfig;
use vision::tracker::offline::{GapFill, OfflineConfig, track_rows};

#[derive(clap::Args, Debug)]
pub struct TrackArgs {
    /// Detections in MOT format, `frame,id,left,top,width,height,conf,...`, frames from 1. Ids
    /// are ignored; a conf of -1 (not given) counts as a sure detection.
    #[arg(long = "mot-detections", value_name = "IN")]
    pub mot_detections: PathBuf,
    /// Where to write the tracks (MOT format; replaced if it exists).
    #[arg(long, value_name = "OUT")]
    pub out: PathBuf,
    /// Detections scoring at least this are matched first and may start tracks [default: 0.5].
    #[arg(long)]
    pub high_thresh: Option<f32>,
    /// Detections scoring below this are ignored [default: 0.1].
    #[arg(long)]
    pub low_thresh: Option<f32>,
    /// Least score for an unmatched detection to start a new track [default: 0.6].
    #[arg(long)]
    pub new_track_thresh: Option<f32>,
    /// Least IoU between a track's predicted box and a detection to match them [default: 0.2].
    #[arg(long)]
    pub match_iou: Option<f32>,
    /// Consecutive matched frames before a new track is confirmed [default: 2].
    #[arg(long)]
    pub min_hits: Option<u32>,
    /// Frames a track may go unseen before it is deleted [default: 30].
    #[arg(long)]
    pub max_lost_frames: Option<u32>,
    /// How to fill frames a track missed but survived [default: linear].
    #[arg(long, value_enum)]
    pub gap_fill: Option<GapFillArg>,
    /// Longest gap, in frames, to fill [default: 20].
    #[arg(long)]
    pub max_gap: Option<u32>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapFillArg {
    /// leave gaps empty
    None,
    /// the motion model's prediction in each missed frame
    Kalman,
    /// straight-line interpolation between the boxes either side
    Linear,
}

impl TrackArgs {
    /// The tracker and offline settings these arguments give: defaults, overridden by each flag given.
    pub fn configs(&self) -> anyhow::Result<(TrackerConfig, OfflineConfig)> {
        let mut cfg = TrackerConfig::default();
        let set_f = |dst: &mut f32, v: Option<f32>| {
            if let Some(v) = v {
                *dst = v;
            }
        };
        set_f(&mut cfg.high_thresh, self.high_thresh);
        set_f(&mut cfg.low_thresh, self.low_thresh);
        set_f(&mut cfg.new_track_thresh, self.new_track_thresh);
        set_f(&mut cfg.match_iou, self.match_iou);
        if let Some(v) = self.min_hits {
            cfg.min_hits = v;
        }
        if let Some(v) = self.max_lost_frames {
            cfg.max_lost_frames = v;
        }
        cfg.validate().map_err(|e| {
            anyhow::anyhow!("{e}; fix the matching --{} flag", e.field.replace('_', "-"))
        })?;
        let mut off = OfflineConfig::default();
        if let Some(g) = self.gap_fill {
            off.gap_fill = match g {
                GapFillArg::None => GapFill::None,
                GapFillArg::Kalman => GapFill::Kalman,
                GapFillArg::Linear => GapFill::Linear,
            };
        }
        if let Some(v) = self.max_gap {
            off.max_gap = v;
        }
        Ok((cfg, off))
    }
}

pub fn run(args: &TrackArgs) -> anyhow::Result<()> {
    let (cfg, off) = args.configs()?;
    let rows = vision::mot::read(&args.mot_detections).context("reading --mot-detections")?;
    let frames = rows.iter().map(|r| r.frame).max().unwrap_or(0);
    let tracks = track_rows(&rows, &cfg, &off);
    vision::mot::write(&args.out, &tracks).context("writing --out (does its folder exist?)")?;
    let ids: std::collections::BTreeSet<i64> = tracks.iter().map(|r| r.id).collect();
    tracing::info!(
        detections = rows.len(),
        frames,
        tracks = ids.len(),
        boxes = tracks.len(),
        out = %args.out.display(),
        "tracked"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        track: TrackArgs,
    }

    #[test]
    fn flags_override_defaults_and_bad_values_name_the_flag() {
        let a = Cli::parse_from([
            "t",
            "--mot-detections",
            "in.txt",
            "--out",
            "o.txt",
            "--min-hits",
            "3",
            "--gap-fill",
            "none",
        ])
        .track;
        let (cfg, off) = a.configs().unwrap();
        assert_eq!(cfg.min_hits, 3);
        assert_eq!(cfg.match_iou, TrackerConfig::default().match_iou);
        assert_eq!(off.gap_fill, GapFill::None);
        let a = Cli::parse_from([
            "t",
            "--mot-detections",
            "in.txt",
            "--out",
            "o.txt",
            "--match-iou",
            "2",
        ])
        .track;
        let e = a.configs().unwrap_err().to_string();
        assert!(e.contains("match_iou") && e.contains("--match-iou"), "{e}");
    }

    #[test]
    fn tracks_a_small_file_end_to_end() {
        let dir = tempfile::tempdir().unwrap();
        let inp = dir.path().join("det.txt");
        // two people walking apart, ids in the input are nonsense and must be ignored
        let mut text = String::new();
        for f in 1..=10 {
            text += &format!("{f},77,{},50,40,100,0.9,-1,-1,-1\n", 100 + 5 * f);
            if f != 5 {
                text += &format!("{f},77,{},60,40,100,0.8,-1,-1,-1\n", 400 - 5 * f);
            }
        }
        std::fs::write(&inp, text).unwrap();
        let out = dir.path().join("tracks.txt");
        let args = Cli::parse_from([
            "t",
            "--mot-detections",
            inp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .track;
        run(&args).unwrap();
        let rows = vision::mot::read(&out).unwrap();
        assert_eq!(rows.len(), 20, "frame 5's missed box is filled in");
        let ids: std::collections::BTreeSet<i64> = rows.iter().map(|r| r.id).collect();
        assert_eq!(ids.into_iter().collect::<Vec<_>>(), vec![1, 2]);

        let bad = dir.path().join("bad.txt");
        std::fs::write(&bad, "1,1,10,10,5,5\n2,1,10,ten,5,5\n").unwrap();
        let args = Cli::parse_from([
            "t",
            "--mot-detections",
            bad.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .track;
        let e = format!("{:#}", run(&args).unwrap_err());
        assert!(e.contains("bad.txt:2: field 4 (top)"), "{e}");
    }
}
