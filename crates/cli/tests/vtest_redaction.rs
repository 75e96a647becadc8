//! The whole pipeline on real footage: `posbon analyze vtest.avi` with the demo camera, then the
//! face detector (CenterFace at 2x) over every stored image must find no face, while on the same
//! frames unredacted it does find faces (so this check can fail).
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn asset(rel: &str) -> PathBuf {
    assets::require(rel).unwrap_or_else(|e| panic!("{e}"))
}

fn decode_jpeg(path: &Path) -> (u32, u32, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let mut d = jpeg_decoder::Decoder::new(&bytes[..]);
    let px = d
        .decode()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let info = d.info().unwrap();
    assert_eq!(
        info.pixel_format,
        jpeg_decoder::PixelFormat::RGB24,
        "{}",
        path.display()
    );
    (info.width as u32, info.height as u32, px)
}

#[test]
fn no_face_can_be_found_in_any_stored_image_of_the_vtest_run() {
    let video = asset("footage/vtest.avi");
    let out = tempfile::tempdir().unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/demo-camera.toml");
    let status = Command::new(env!("CARGO_BIN_EXE_posbon"))
        .args([
            "analyze",
            video.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--out",
        ])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success(), "posbon analyze failed: {status}");

    let events: Vec<serde_json::Value> = std::fs::read_to_string(out.path().join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events.len() >= 10,
        "expected events on vtest.avi, got {}",
        events.len()
    );
    let mut kinds = BTreeSet::new();
    for e in &events {
        kinds.insert(e["kind"].as_str().unwrap().to_string());
        for p in e["evidence"].as_array().unwrap() {
            assert!(
                out.path().join(p.as_str().unwrap()).is_file(),
                "event names missing evidence {p}"
            );
        }
    }
    assert!(
        kinds.contains("line_cross") && kinds.contains("zone_enter"),
        "{kinds:?}"
    );

    let cfg = infer::InferConfig::default().with_threads(2);
    let mut faces = infer::FaceDetector::load_default(&cfg).unwrap();
    let mut stored = 0;
    let mut frames_with_evidence = BTreeSet::new();
    for entry in std::fs::read_dir(out.path().join("evidence")).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            path.extension().and_then(|e| e.to_str()),
            Some("jpg"),
            "unexpected file {}",
            path.display()
        );
        let (w, h, px) = decode_jpeg(&path);
        let found = faces
            .detect_faces(
                vision::frame::ImageRef {
                    width: w,
                    height: h,
                    data: &px,
                },
                2.0,
            )
            .unwrap();
        assert!(
            found.is_empty(),
            "a face is visible in {}: {found:?}",
            path.display()
        );
        stored += 1;
        let name = path.file_name().unwrap().to_str().unwrap();
        if let Some(i) = name
            .split("-f")
            .nth(1)
            .and_then(|s| s.get(..6))
            .and_then(|s| s.parse::<u64>().ok())
        {
            frames_with_evidence.insert(i);
        }
    }
    assert!(stored >= 10, "only {stored} evidence images");

    // The same frames, unredacted: the detector does find faces there.
    let mut src = media::open(video.to_str().unwrap(), media::OpenOptions::default()).unwrap();
    let mut faces_in_originals = 0;
    while let Some(item) = src.next_item().unwrap() {
        if let media::SourceItem::Frame(f) = item
            && frames_with_evidence.contains(&f.index)
        {
            faces_in_originals += faces.detect_faces(f.image(), 2.0).unwrap().len();
        }
    }
    assert!(
        faces_in_originals > 0,
        "the face detector found no face even in the unredacted frames: the check proves nothing"
    );
}
