//! The pipeline with a scripted detector, face finder and source: exact, fast, no model needed.
use media::{FrameSource, MediaError, SourceInfo, SourceItem};
use pipeline::{FaceFinder, Pipeline};
use std::collections::VecDeque;
use vision::clock::Timestamp;
use vision::config::CameraConfig;
use vision::detect::{DetectError, Detection, Detector};
use vision::event::Event;
use vision::frame::{Frame, ImageRef};
use vision::geom::BBox;

const W: u32 = 320;
const H: u32 = 240;

/// A person walking down the picture, one step per frame; frames are plain grey except for a
/// bright square where the person is (so the motion gate sees it move).
fn frames(n: u64, fps: f64) -> Vec<Frame> {
    (0..n)
        .map(|i| {
            let mut data = vec![90u8; (W * H * 3) as usize];
            let b = person_box(i);
            for y in b.y1 as u32..b.y2 as u32 {
                for x in b.x1 as u32..b.x2 as u32 {
                    let k = ((y * W + x) * 3) as usize;
                    // the top rows carry fine detail (a "face"): a checkerboard of 255 / 205
                    let v = if y < b.y1 as u32 + 10 && (x + y) % 2 == 0 {
                        255
                    } else {
                        205
                    };
                    data[k..k + 3].copy_from_slice(&[v, v, v]);
                }
            }
            Frame {
                index: i,
                pts: i as f64 / fps,
                time: Timestamp((i as f64 / fps * 1e6) as i64),
                width: W,
                height: H,
                data,
            }
        })
        .collect()
}

fn person_box(i: u64) -> BBox {
    let y = 10.0 + 4.0 * i as f32;
    BBox::new(150.0, y, 170.0, (y + 50.0).min(H as f32 - 1.0))
}

struct Script {
    items: VecDeque<SourceItem>,
    info: SourceInfo,
    fail_at_end: bool,
}

impl FrameSource for Script {
    fn next_item(&mut self) -> Result<Option<SourceItem>, MediaError> {
        match self.items.pop_front() {
            Some(i) => Ok(Some(i)),
            None if self.fail_at_end => Err(MediaError::InvalidOption(
                "scripted failure: the file is truncated".into(),
            )),
            None => Ok(None),
        }
    }
    fn info(&self) -> &SourceInfo {
        &self.info
    }
}

fn source(items: Vec<SourceItem>, live: bool) -> Script {
    Script {
        items: items.into(),
        info: SourceInfo {
            uri: "script".into(),
            width: W,
            height: H,
            fps: Some(10.0),
            codec: "raw".into(),
            live,
            frame_count: None,
        },
        fail_at_end: false,
    }
}

/// Finds the "person" by looking for bright pixels, so it is honest about what the frame holds.
struct BrightDetector {
    names: Vec<String>,
    calls: usize,
    frames: usize,
}

impl Detector for BrightDetector {
    fn detect(&mut self, images: &[ImageRef<'_>]) -> Result<Vec<Vec<Detection>>, DetectError> {
        self.calls += 1;
        self.frames += images.len();
        Ok(images
            .iter()
            .map(|img| {
                let (mut x1, mut y1, mut x2, mut y2) = (u32::MAX, u32::MAX, 0, 0);
                for y in 0..img.height {
                    for x in 0..img.width {
                        if img.data[((y * img.width + x) * 3) as usize] > 200 {
                            x1 = x1.min(x);
                            y1 = y1.min(y);
                            x2 = x2.max(x + 1);
                            y2 = y2.max(y + 1);
                        }
                    }
                }
                if x2 == 0 {
                    vec![]
                } else {
                    vec![Detection {
                        bbox: BBox::new(x1 as f32, y1 as f32, x2 as f32, y2 as f32),
                        score: 0.9,
                        class_id: 0,
                    }]
                }
            })
            .collect())
    }
    fn class_names(&self) -> &[String] {
        &self.names
    }
}

/// Reports a face at a fixed place so the test can check it is blurred.
struct FixedFace;
impl FaceFinder for FixedFace {
    fn faces(&mut self, _img: ImageRef<'_>, _upscale: f32) -> Result<Vec<BBox>, String> {
        Ok(vec![BBox::new(20.0, 20.0, 40.0, 40.0)])
    }
}

const CONFIG: &str = r#"
[camera]
id = "test-cam"
[detector]
min_confidence = 0.1
batch = 3
[[lines]]
name = "middle"
from = [0.0, 0.5]
to = [1.0, 0.5]
[[rules]]
name = "down"
kind = "line_cross"
line = "middle"
direction = "A->B"
classes = ["person"]
"#;

fn detector() -> BrightDetector {
    BrightDetector {
        names: vec!["person".into(), "car".into()],
        calls: 0,
        frames: 0,
    }
}

fn read_events(dir: &std::path::Path) -> Vec<Event> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_walk_across_the_line_gives_one_event_with_redacted_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = CameraConfig::from_toml_str(CONFIG, "test").unwrap();
    let mut p = Pipeline::new(cfg, detector(), FixedFace, dir.path()).unwrap();
    let mut src = source(
        frames(45, 10.0)
            .into_iter()
            .map(SourceItem::Frame)
            .collect(),
        false,
    );
    p.run(&mut src, &mut |_| {}).unwrap();
    let events = read_events(dir.path());
    assert_eq!(events.len(), 1, "{events:?}");
    let ev = &events[0];
    assert_eq!(
        (ev.rule.as_str(), ev.kind.as_str(), ev.camera.as_str()),
        ("down", "line_cross", "test-cam")
    );
    assert_eq!(ev.class.as_deref(), Some("person"));
    // the foot point crosses y = 120 when 10 + 4i + 50 > 120, i.e. at frame 16
    assert!(
        (15..=18).contains(&ev.frame),
        "crossed at frame {}",
        ev.frame
    );
    assert_eq!(ev.evidence.len(), 2, "full frame and crop");
    for rel in &ev.evidence {
        let bytes = std::fs::read(dir.path().join(rel)).unwrap();
        let mut dec = jpeg_decoder::Decoder::new(&bytes[..]);
        let px = dec.decode().unwrap();
        assert!(!px.is_empty());
    }
    // the head of the person box is blurred: the checkerboard detail there is gone, while the
    // same detail in the un-redacted source frame is strong
    let detail = |px: &[u8], b: &BBox| -> f64 {
        let mut sum = 0.0;
        let mut n = 0.0;
        for y in b.y1 as u32 + 3..b.y1 as u32 + 8 {
            for x in b.x1 as u32 + 4..b.x2 as u32 - 4 {
                let i = ((y * W + x) * 3) as usize;
                sum += (px[i] as f64 - px[i + 3] as f64).abs();
                n += 1.0;
            }
        }
        sum / n
    };
    let b = person_box(ev.frame);
    let original = frames(ev.frame + 1, 10.0).pop().unwrap().data;
    let bytes = std::fs::read(dir.path().join(&ev.evidence[0])).unwrap();
    let px = jpeg_decoder::Decoder::new(&bytes[..]).decode().unwrap();
    let (before, after) = (detail(&original, &b), detail(&px, &b));
    assert!(
        before > 40.0 && after < before / 5.0,
        "head detail {before:.1} before, {after:.1} after redaction"
    );
    let s = p.stats();
    assert_eq!(s.frames, 45);
    assert_eq!(s.tracks_by_class.get("person"), Some(&1));
}

#[test]
fn the_motion_gate_skips_frames_where_nothing_moves_and_keeps_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = CameraConfig::from_toml_str(CONFIG, "test").unwrap();
    let mut p = Pipeline::new(cfg, detector(), FixedFace, dir.path()).unwrap();
    // 10 moving frames, then the person stands still for 110 frames (the gate's background
    // takes a few seconds to absorb an object that stopped)
    let mut fs = frames(10, 10.0);
    let still = fs[9].clone();
    for i in 10..120 {
        let mut f = still.clone();
        f.index = i;
        f.time = Timestamp(i as i64 * 100_000);
        fs.push(f);
    }
    let mut src = source(fs.into_iter().map(SourceItem::Frame).collect(), false);
    p.run(&mut src, &mut |_| {}).unwrap();
    let s = p.stats().clone();
    assert!(
        s.frames_gated >= 50,
        "gate skipped only {} of 110 still frames",
        s.frames_gated
    );
    assert_eq!(s.detector_frames + s.frames_gated, 120);
    assert!(s.detector_calls < s.detector_frames, "frames were batched");
    // the standing person is one track throughout
    assert_eq!(s.tracks_by_class.get("person"), Some(&1));
}

#[test]
fn a_camera_drop_becomes_an_offline_online_pair_and_a_source_error_keeps_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = CameraConfig::from_toml_str(CONFIG, "test").unwrap();
    let mut p = Pipeline::new(cfg, detector(), FixedFace, dir.path()).unwrap();
    let fs = frames(45, 10.0);
    let mut items: Vec<SourceItem> = fs[..5].iter().cloned().map(SourceItem::Frame).collect();
    items.push(SourceItem::Offline {
        at: Timestamp(600_000),
        reason: "connection reset".into(),
    });
    items.push(SourceItem::Online {
        at: Timestamp(900_000),
    });
    items.extend(fs[5..].iter().cloned().map(SourceItem::Frame));
    let mut src = source(items, true);
    src.fail_at_end = true;
    let err = p.run(&mut src, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    let kinds: Vec<String> = read_events(dir.path())
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, vec!["camera_offline", "camera_online", "line_cross"]);
}

#[test]
fn a_config_naming_an_unknown_class_is_refused_with_the_class_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = CameraConfig::from_toml_str(
        &CONFIG.replace("classes = [\"person\"]", "classes = [\"persn\"]"),
        "test",
    )
    .unwrap();
    let err = Pipeline::new(cfg, detector(), FixedFace, dir.path())
        .err()
        .expect("must fail");
    assert!(err.to_string().contains("persn"), "{err}");
}

#[test]
fn malformed_camera_config_names_line_and_column() {
    let err = CameraConfig::from_toml_str(
        "[camera]\nid = \"x\"\n[detector]\nbatch = \"four\"\n",
        "cam.toml",
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("cam.toml") && msg.contains("line 4"), "{msg}");
}

/// All files under `dir`, recursively.
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn originals_are_stored_only_sealed_and_only_when_a_key_is_configured() {
    use pipeline::sealed::SealKey;
    let run = |cfg_text: &str| {
        let dir = tempfile::tempdir().unwrap();
        let cfg = CameraConfig::from_toml_str(cfg_text, "test").unwrap();
        let mut p = Pipeline::new(cfg, detector(), FixedFace, dir.path()).unwrap();
        let mut src = source(
            frames(45, 10.0)
                .into_iter()
                .map(SourceItem::Frame)
                .collect(),
            false,
        );
        p.run(&mut src, &mut |_| {}).unwrap();
        dir
    };
    // Without a key: no original anywhere; every stored image is the redacted one.
    let plain = run(CONFIG);
    let ev = read_events(plain.path()).remove(0);
    assert!(ev.originals.is_empty());
    assert!(!plain.path().join("evidence/originals").exists());
    assert!(
        files(plain.path())
            .iter()
            .all(|p| !p.to_string_lossy().contains("sealed"))
    );

    // With a key: one sealed original per event frame, which opens to the unredacted frame.
    let keys = tempfile::tempdir().unwrap();
    let key_path = keys.path().join("cam.key");
    let key = SealKey::generate().unwrap();
    key.save(&key_path).unwrap();
    let with_key = format!(
        "{CONFIG}\n[evidence]\noriginal_key = \"{}\"\n",
        key_path.display()
    );
    let sealed_dir = run(&with_key);
    let ev = read_events(sealed_dir.path()).remove(0);
    assert_eq!(ev.originals.len(), 1, "{ev:?}");
    let path = sealed_dir.path().join(&ev.originals[0]);
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !bytes.starts_with(&[0xff, 0xd8]),
        "an original was written in the clear"
    );
    let jpeg = key.open_file(&path).unwrap();
    let px = jpeg_decoder::Decoder::new(&jpeg[..]).decode().unwrap();
    // The head detail the redacted image loses is there in the original.
    let original = frames(ev.frame + 1, 10.0).pop().unwrap().data;
    let b = person_box(ev.frame);
    let (x, y) = (b.x1 as u32 + 6, b.y1 as u32 + 4);
    let i = ((y * W + x) * 3) as usize;
    let contrast = |d: &[u8]| (d[i] as i32 - d[i + 3] as i32).abs();
    assert!(
        contrast(&original) >= 40 && contrast(&px) >= 20,
        "original lost its detail"
    );
    // Every other stored image is a plain redacted JPEG; nothing else holds the original.
    for f in files(sealed_dir.path()) {
        let name = f.to_string_lossy();
        if name.ends_with(".jpg") {
            assert!(!name.contains("originals"), "{name}");
        }
    }
    // A wrong key, or a config naming a missing key, is an error that says how to fix it.
    let other = SealKey::from_bytes([1; 32]);
    assert!(other.open_file(&path).is_err());
    let missing = format!("{CONFIG}\n[evidence]\noriginal_key = \"/nonexistent/cam.key\"\n");
    let cfg = CameraConfig::from_toml_str(&missing, "test").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = Pipeline::new(cfg, detector(), FixedFace, dir.path())
        .err()
        .expect("a missing key must be refused")
        .to_string();
    assert!(
        err.contains("original_key") && err.contains("posbon evidence keygen"),
        "{err}"
    );
}

/// The bright-pixel detector plus a parked car it can always see; on regions it looks only
/// inside them (a crop), like a fully convolutional model run on motion regions.
struct RegionAware {
    inner: BrightDetector,
    region_calls: usize,
}

const CAR: BBox = BBox {
    x1: 20.0,
    y1: 180.0,
    x2: 80.0,
    y2: 220.0,
};

impl Detector for RegionAware {
    fn detect(&mut self, images: &[ImageRef<'_>]) -> Result<Vec<Vec<Detection>>, DetectError> {
        let mut out = self.inner.detect(images)?;
        for d in &mut out {
            d.push(Detection {
                bbox: CAR,
                score: 0.8,
                class_id: 1,
            });
        }
        Ok(out)
    }
    fn class_names(&self) -> &[String] {
        self.inner.class_names()
    }
    fn detect_regions(
        &mut self,
        image: ImageRef<'_>,
        regions: &[BBox],
    ) -> Result<Option<vision::detect::RegionDetections>, DetectError> {
        self.region_calls += 1;
        let all = self.detect(&[image])?.remove(0);
        // Like the real tiles: each region with some context around it.
        let regions: Vec<BBox> = regions
            .iter()
            .map(|r| BBox::new(r.x1 - 16.0, r.y1 - 16.0, r.x2 + 16.0, r.y2 + 16.0))
            .collect();
        let seen = |b: &BBox| regions.iter().any(|r| r.intersection(b) >= 0.9 * b.area());
        Ok(Some(vision::detect::RegionDetections {
            detections: all.into_iter().filter(|d| seen(&d.bbox)).collect(),
            looked: regions.clone(),
            cost: regions.iter().map(|r| r.area() as u64).sum(),
            full_cost: (W * H) as u64,
        }))
    }
    fn supports_regions(&self) -> bool {
        true
    }
}

#[test]
fn on_motion_regions_the_detector_sees_the_mover_and_what_stands_still_is_carried() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = CameraConfig::from_toml_str(CONFIG, "test").unwrap();
    let det = RegionAware {
        inner: detector(),
        region_calls: 0,
    };
    let mut p = Pipeline::new(cfg, det, FixedFace, dir.path()).unwrap();
    let mut src = source(
        frames(45, 10.0)
            .into_iter()
            .map(SourceItem::Frame)
            .collect(),
        false,
    );
    p.run(&mut src, &mut |_| {}).unwrap();
    let s = p.stats().clone();
    // After the first frame (warm-up: the whole frame) only the walker's region moves.
    assert!(s.frames_regions >= 40, "{s:?}");
    assert!(s.detector_saved() > 0.5, "saved {:.2}", s.detector_saved());
    // The car, never inside a motion region after the first frame, stays one track throughout,
    // and the walker still crosses the line once.
    assert_eq!(s.tracks_by_class.get("car"), Some(&1), "{s:?}");
    assert_eq!(s.tracks_by_class.get("person"), Some(&1), "{s:?}");
    assert_eq!(read_events(dir.path()).len(), 1);
    // 45 frames with the car in each: the car's track was fed on every frame.
    assert!(s.detections >= 2 * 44, "detections {}", s.detections);
}

#[test]
fn the_event_sink_sees_every_logged_event_and_snapshots_are_redacted() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let cfg = CameraConfig::from_toml_str(CONFIG, "test").unwrap();
    let mut p = Pipeline::new(cfg, detector(), FixedFace, dir.path()).unwrap();
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = seen.clone();
    p.on_event(Box::new(move |e| sink.lock().unwrap().push(e.clone())));
    let wanted = Arc::new(AtomicBool::new(true));
    type Shots = Arc<Mutex<Vec<(Vec<u8>, Timestamp)>>>;
    let shots: Shots = Arc::default();
    let into = shots.clone();
    p.on_snapshot(
        wanted.clone(),
        Box::new(move |jpeg, at| into.lock().unwrap().push((jpeg, at))),
    );
    let mut items: Vec<SourceItem> = frames(45, 10.0)
        .into_iter()
        .map(SourceItem::Frame)
        .collect();
    items.insert(
        5,
        SourceItem::Offline {
            at: Timestamp(450_000),
            reason: "scripted drop".into(),
        },
    );
    items.insert(
        6,
        SourceItem::Online {
            at: Timestamp(460_000),
        },
    );
    let mut src = source(items, true);
    p.run(&mut src, &mut |_| {}).unwrap();

    // The sink got exactly what events.jsonl holds, health events included, in order.
    let logged = read_events(dir.path());
    assert_eq!(*seen.lock().unwrap(), logged);
    let kinds: Vec<&str> = logged.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["camera_offline", "camera_online", "line_cross"]);

    // One snapshot, of the first frame, taken because it was asked for; the flag is cleared.
    assert!(!wanted.load(Ordering::Acquire));
    let shots = shots.lock().unwrap();
    assert_eq!(shots.len(), 1);
    assert_eq!(shots[0].1, Timestamp(0));
    let px = jpeg_decoder::Decoder::new(&shots[0].0[..])
        .decode()
        .unwrap();
    assert_eq!(px.len(), (W * H * 3) as usize);
    // The "face" the face finder reports (20..40) is blurred like evidence: the frame there is
    // flat grey anyway, so check the person's head instead, whose checkerboard must be gone.
    let b = person_box(0);
    let original = frames(1, 10.0).pop().unwrap().data;
    let detail = |px: &[u8]| -> f64 {
        let mut sum = 0.0;
        let mut n = 0.0;
        for y in b.y1 as u32 + 3..b.y1 as u32 + 8 {
            for x in b.x1 as u32 + 4..b.x2 as u32 - 4 {
                let i = ((y * W + x) * 3) as usize;
                sum += (px[i] as f64 - px[i + 3] as f64).abs();
                n += 1.0;
            }
        }
        sum / n
    };
    let (before, after) = (detail(&original), detail(&px));
    assert!(
        before > 40.0 && after < before / 5.0,
        "head detail {before:.1} in the frame, {after:.1} in the snapshot"
    );
    // Nothing but events.jsonl and the event's evidence was written: snapshots stay in memory.
    let written: Vec<String> = std::fs::read_dir(dir.path().join("evidence"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        written
            .iter()
            .all(|n| n.contains(&format!("f{:06}", logged[2].frame))),
        "{written:?}"
    );
}
