//! The tracker on real MOT data: fed the boxes of TUD-Campus and TUD-Stadtmitte `test.txt` (one
//! tracker's output, ids dropped), its tracks must score better than that tracker's own on both
//! MOTA and IDF1 against `gt.txt`, as motmetrics (the reference implementation, through
//! `tools/mot_eval.py`) computes them in this same run. Default settings, the same for both.
use std::path::{Path, PathBuf};
use std::process::Command;
use vision::tracker::TrackerConfig;
use vision::tracker::offline::{OfflineConfig, track_rows};

use assets::asset_root;

fn asset(seq: &str, file: &str) -> PathBuf {
    let p = asset_root().join("motmetrics").join(seq).join(file);
    assert!(
        p.is_file(),
        "{} is missing: run `posbon assets fetch` (it comes from PyPI motmetrics==1.4.0)",
        p.display()
    );
    p
}

fn require_motmetrics() {
    let ok = Command::new("python3")
        .args(["-c", "import motmetrics"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "`python3 -c \"import motmetrics\"` failed: this test scores tracks with motmetrics; \
         run `pip install motmetrics==1.4.0 'numpy<2'`"
    );
}

#[derive(Debug)]
struct Score {
    mota: f64,
    idf1: f64,
    switches: i64,
}

/// Score each track file against `gt` with tools/mot_eval.py.
fn evaluate(gt: &Path, tracks: &[&Path]) -> Vec<Score> {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/mot_eval.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&tool).arg("--gt").arg(gt).arg("--json");
    for t in tracks {
        cmd.arg("--tracks").arg(t);
    }
    let out = cmd.output().expect("running python3 tools/mot_eval.py");
    assert!(
        out.status.success(),
        "mot_eval.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("mot_eval.py --json output");
    v["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| Score {
            mota: r["mota"].as_f64().expect("mota"),
            idf1: r["idf1"].as_f64().expect("idf1"),
            switches: r["num_switches"].as_i64().expect("num_switches"),
        })
        .collect()
}

fn run_sequence(seq: &str) -> (Score, Score) {
    let gt = asset(seq, "gt.txt");
    let test = asset(seq, "test.txt");
    let dets = vision::mot::read(&test).unwrap();
    assert!(
        dets.len() > 100,
        "{seq}/test.txt has only {} boxes",
        dets.len()
    );
    let tracks = track_rows(&dets, &TrackerConfig::default(), &OfflineConfig::default());

    // basic sanity, independent of motmetrics: ids from 1, one box per id per frame
    assert!(tracks.iter().all(|r| r.id >= 1));
    let mut seen = std::collections::BTreeSet::new();
    for r in &tracks {
        assert!(
            seen.insert((r.frame, r.id)),
            "{seq}: id {} twice in frame {}",
            r.id,
            r.frame
        );
    }
    let ids: std::collections::BTreeSet<i64> = tracks.iter().map(|r| r.id).collect();
    assert_eq!(ids.iter().next(), Some(&1), "{seq}: first id is 1");

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tracker_tud");
    std::fs::create_dir_all(&dir).unwrap();
    let ours = dir.join(format!("{seq}.tracks.txt"));
    vision::mot::write(&ours, &tracks).unwrap();

    let mut s = evaluate(&gt, &[&test, &ours]).into_iter();
    let (theirs, ours_s) = (s.next().unwrap(), s.next().unwrap());
    eprintln!(
        "{seq}: test.txt MOTA {:.1} IDF1 {:.1} IDSW {} | ours MOTA {:.1} IDF1 {:.1} IDSW {} ({} tracks, {} boxes; {})",
        100.0 * theirs.mota,
        100.0 * theirs.idf1,
        theirs.switches,
        100.0 * ours_s.mota,
        100.0 * ours_s.idf1,
        ours_s.switches,
        ids.len(),
        tracks.len(),
        ours.display()
    );
    (theirs, ours_s)
}

fn assert_beats(seq: &str) {
    require_motmetrics();
    let (theirs, ours) = run_sequence(seq);
    assert!(
        ours.mota > theirs.mota,
        "{seq}: MOTA {:.3} does not beat test.txt's own {:.3}",
        ours.mota,
        theirs.mota
    );
    assert!(
        ours.idf1 > theirs.idf1,
        "{seq}: IDF1 {:.3} does not beat test.txt's own {:.3}",
        ours.idf1,
        theirs.idf1
    );
}

#[test]
fn tud_campus_beats_the_original_tracker_on_mota_and_idf1() {
    assert_beats("TUD-Campus");
}

#[test]
fn tud_stadtmitte_beats_the_original_tracker_on_mota_and_idf1() {
    assert_beats("TUD-Stadtmitte");
}
