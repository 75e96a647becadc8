//! One camera's pipeline, assembled from the pure parts in `vision` and the sources in `media`.
//!
//! ```text
//! FrameSource ─▶ MotionGate ─▶ Detector (batched) ─▶ Tracker ─▶ RuleEngine ─▶ evidence (redacted) ─▶ events.jsonl
//! ```
//! The detector and the face finder are traits, so tests drive the pipeline with scripted ones
//! and the binary plugs in ONNX Runtime or tract.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod evidence;
mod output;
mod prefetch;
/// Sealing moved to its own crate so that the server can open originals without the pipeline;
/// `pipeline::sealed` stays as its old name.
pub use seal as sealed;
mod stats;

pub use evidence::{EvidenceWriter, FaceFinder};
pub use output::EventLog;
pub use prefetch::Prefetch;
pub use stats::Stats;

use media::{FrameSource, SourceItem};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use vision::config::CameraConfig;
use vision::detect::{Detection, Detector, TrackedObject};
use vision::event::Event;
use vision::frame::Frame;
use vision::motion::MotionGate;
use vision::rules::RuleEngine;
use vision::tracker::Tracker;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("camera {camera}: {source}")]
    Source {
        camera: String,
        source: media::MediaError,
    },
    #[error("camera {camera}, frame {frame}: detector failed: {msg}")]
    Detector {
        camera: String,
        frame: u64,
        msg: String,
    },
    #[error("camera {camera}: the rules do not fit this camera: {msg}")]
    Rules { camera: String, msg: String },
    #[error("camera {camera}: {msg}")]
    Config { camera: String, msg: String },
    #[error(
        "writing results to {path}: {source}; check that the folder is writable and the disk is not full"
    )]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("camera {camera}, frame {frame}: evidence: {msg}")]
    Evidence {
        camera: String,
        frame: u64,
        msg: String,
    },
}

/// What a frame needs from the detector.
#[derive(Debug, Clone, PartialEq)]
enum Plan {
    /// Nothing moved: the previous frame's detections still describe the scene.
    Reuse,
    /// Run the detector on the whole frame.
    Detect,
    /// Only these regions moved: the detector looks there, detections elsewhere are carried
    /// over from the previous frame.
    Regions(Vec<vision::geom::BBox>),
}

/// Carried detections overlapping a new one by more than this are the same object.
const CARRY_NMS_IOU: f32 = 0.5;

/// Motion regions covering at least this share of the frame are detected as a whole frame.
const WHOLE_FRAME_SHARE: f32 = 0.9;

/// Motion regions grown to hold whole every object they touch: a moving object often changes
/// only at its edges (its middle looks like the background where it stood a frame ago), yet the
/// detector must see all of it to find it. Objects seen last frame are where it should look.
fn grow_to_objects(
    mut regions: Vec<vision::geom::BBox>,
    prev: &[Detection],
    w: u32,
    h: u32,
) -> Vec<vision::geom::BBox> {
    for r in &mut regions {
        for p in prev {
            if r.intersection(&p.bbox) > 0.0 {
                let b = p.bbox;
                let (dx, dy) = (0.1 * b.width(), 0.1 * b.height());
                *r = vision::geom::BBox::new(
                    r.x1.min(b.x1 - dx),
                    r.y1.min(b.y1 - dy),
                    r.x2.max(b.x2 + dx),
                    r.y2.max(b.y2 + dy),
                )
                .clamp(w as f32, h as f32);
            }
        }
    }
    regions
}

/// A camera's pipeline. Create one per source; feed it with [`Pipeline::run`].
pub struct Pipeline<D: Detector, F: FaceFinder> {
    cfg: CameraConfig,
    detector: D,
    evidence: EvidenceWriter<F>,
    events: EventLog,
    /// Detector class ids kept for tracking (by `[detector] classes`), as a lookup table.
    keep: Vec<bool>,
    person_class: Option<u32>,
    state: Option<FrameState>,
    prev_dets: Vec<Detection>,
    stats: Stats,
    on_event: Option<EventSink>,
    snapshot: Option<(Arc<AtomicBool>, SnapshotSink)>,
}

/// Receives each event once it is in `events.jsonl` (see [`Pipeline::on_event`]).
pub type EventSink = Box<dyn FnMut(&Event) + Send>;
/// Receives a redacted JPEG of a frame and the frame's time (see [`Pipeline::on_snapshot`]).
pub type SnapshotSink = Box<dyn FnMut(Vec<u8>, vision::clock::Timestamp) + Send>;

/// Built on the first frame, when the frame size is known.
struct FrameState {
    width: u32,
    height: u32,
    gate: Option<MotionGate>,
    tracker: Tracker,
    rules: RuleEngine,
}

impl<D: Detector, F: FaceFinder> Pipeline<D, F> {
    /// `out` receives `events.jsonl` and `evidence/`. Fails if the config names a class the
    /// detector does not know, or the folder cannot be written.
    pub fn new(
        cfg: CameraConfig,
        detector: D,
        faces: F,
        out: &Path,
    ) -> Result<Self, PipelineError> {
        let camera = cfg.camera.id.clone();
        let names = detector.class_names().to_vec();
        let keep_ids = cfg
            .class_filter(&names)
            .map_err(|msg| PipelineError::Config {
                camera: camera.clone(),
                msg,
            })?;
        let mut keep = vec![false; names.len()];
        for id in keep_ids {
            keep[id as usize] = true;
        }
        cfg.rules_config()
            .validate(&names)
            .map_err(|e| PipelineError::Rules {
                camera: camera.clone(),
                msg: e.to_string(),
            })?;
        let sealer = match &cfg.evidence.original_key {
            None => None,
            Some(path) => Some(
                sealed::SealKey::load(path).map_err(|e| PipelineError::Config {
                    camera: camera.clone(),
                    msg: format!("[evidence] original_key: {e}"),
                })?,
            ),
        };
        let events = EventLog::open(out)?;
        let evidence = EvidenceWriter::new(out, &camera, cfg.evidence.clone(), faces, sealer)?;
        Ok(Self {
            person_class: names.iter().position(|n| n == "person").map(|i| i as u32),
            cfg,
            detector,
            evidence,
            events,
            keep,
            state: None,
            prev_dets: Vec::new(),
            stats: Stats::default(),
            on_event: None,
            snapshot: None,
        })
    }

    /// Also hand every event (camera health included) to `sink`, after it has been appended to
    /// `events.jsonl` with its evidence written: how a server puts events into its database.
    pub fn on_event(&mut self, sink: EventSink) {
        self.on_event = Some(sink);
    }

    /// Whenever `wanted` is set, the next analysed frame is redacted exactly as evidence is and
    /// handed to `sink` as a JPEG (never written to disk), and `wanted` is cleared. An
    /// unredacted picture never leaves the pipeline this way.
    pub fn on_snapshot(&mut self, wanted: Arc<AtomicBool>, sink: SnapshotSink) {
        self.snapshot = Some((wanted, sink));
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn class_names(&self) -> &[String] {
        self.detector.class_names()
    }

    /// Read `source` to its end, writing events and evidence as they happen. `on_progress` is
    /// called after every batch. On an error, everything already processed stays written and
    /// the statistics so far remain available through [`Pipeline::stats`].
    pub fn run(
        &mut self,
        source: &mut dyn FrameSource,
        on_progress: &mut dyn FnMut(&Stats),
    ) -> Result<(), PipelineError> {
        let started = Instant::now();
        let live = source.info().live;
        // A live camera is analysed as frames arrive; a file can be read ahead to fill batches.
        let batch_size = if live { 1 } else { self.cfg.detector.batch };
        let mut batch: Vec<Frame> = Vec::with_capacity(batch_size);
        let result = loop {
            let t = Instant::now();
            let item = source.next_item();
            self.stats.decode_s += t.elapsed().as_secs_f64();
            match item {
                Ok(Some(SourceItem::Frame(f))) => {
                    batch.push(f);
                    if batch.len() < batch_size {
                        continue;
                    }
                }
                Ok(Some(SourceItem::Offline { at, reason })) => {
                    if let Err(e) = self.process_batch(&mut batch) {
                        break Err(e);
                    }
                    let mut ev = self.health_event("camera_offline", at);
                    ev.details.insert("reason".into(), reason.into());
                    if let Err(e) = self.emit(ev) {
                        break Err(e);
                    }
                    continue;
                }
                Ok(Some(SourceItem::Online { at })) => {
                    // The scene may have changed while we were away: rebuild the background.
                    if let Some(g) = self.state.as_mut().and_then(|s| s.gate.as_mut()) {
                        g.reset();
                    }
                    if let Err(e) = self.emit(self.health_event("camera_online", at)) {
                        break Err(e);
                    }
                    continue;
                }
                Ok(None) => break self.process_batch(&mut batch),
                Err(source_err) => {
                    // Keep what was decoded before the error.
                    let _ = self.process_batch(&mut batch);
                    break Err(PipelineError::Source {
                        camera: self.cfg.camera.id.clone(),
                        source: source_err,
                    });
                }
            }
            if let Err(e) = self.process_batch(&mut batch) {
                break Err(e);
            }
            self.stats.wall_s = started.elapsed().as_secs_f64();
            on_progress(&self.stats);
        };
        self.stats.wall_s = started.elapsed().as_secs_f64();
        on_progress(&self.stats);
        result
    }

    fn health_event(&self, kind: &str, at: vision::clock::Timestamp) -> Event {
        Event {
            rule: kind.to_string(),
            kind: kind.to_string(),
            camera: self.cfg.camera.id.clone(),
            time: at,
            frame: self.stats.frames,
            track_ids: Vec::new(),
            class: None,
            boxes: Vec::new(),
            details: Default::default(),
            evidence: Vec::new(),
            originals: Vec::new(),
        }
    }

    fn emit(&mut self, ev: Event) -> Result<(), PipelineError> {
        *self
            .stats
            .events_by_rule
            .entry(ev.rule.clone())
            .or_default() += 1;
        self.events.append(&ev)?;
        if let Some(sink) = self.on_event.as_mut() {
            sink(&ev);
        }
        Ok(())
    }

    fn ensure_state(&mut self, f: &Frame) -> Result<(), PipelineError> {
        if let Some(s) = &self.state {
            if (s.width, s.height) == (f.width, f.height) {
                return Ok(());
            }
            tracing::warn!(camera = %self.cfg.camera.id, from = ?(s.width, s.height), to = ?(f.width, f.height),
                "frame size changed; restarting motion gate, tracker and rules");
        }
        let camera = self.cfg.camera.id.clone();
        let gate = if self.cfg.detector.motion_gate {
            Some(
                MotionGate::try_new(self.cfg.motion.clone(), f.width, f.height).map_err(|e| {
                    PipelineError::Config {
                        camera: camera.clone(),
                        msg: format!("[motion] {e}"),
                    }
                })?,
            )
        } else {
            None
        };
        let rules = RuleEngine::new(
            &self.cfg.rules_config(),
            self.detector.class_names(),
            &camera,
            f.width,
            f.height,
        )
        .map_err(|e| PipelineError::Rules {
            camera,
            msg: e.to_string(),
        })?;
        self.state = Some(FrameState {
            width: f.width,
            height: f.height,
            gate,
            tracker: Tracker::new(self.cfg.tracker.clone()),
            rules,
        });
        self.prev_dets.clear();
        Ok(())
    }

    /// Gate, detect (one batched call), then track, apply rules and write evidence frame by frame.
    fn process_batch(&mut self, batch: &mut Vec<Frame>) -> Result<(), PipelineError> {
        if batch.is_empty() {
            return Ok(());
        }
        let frames = std::mem::take(batch);
        let t = Instant::now();
        let mut plans = Vec::with_capacity(frames.len());
        let regions_ok = self.detector.supports_regions();
        for f in &frames {
            self.ensure_state(f)?;
            let state = self.state.as_mut().expect("state set above");
            let frame_area = f.width as f32 * f.height as f32;
            let plan = match state.gate.as_mut().map(|g| g.update(f.image()).regions) {
                None => Plan::Detect,
                Some(r) if r.is_empty() => Plan::Reuse,
                Some(r)
                    if r.iter().map(|b| b.area()).sum::<f32>()
                        >= WHOLE_FRAME_SHARE * frame_area =>
                {
                    Plan::Detect
                }
                Some(r) if regions_ok => Plan::Regions(r),
                Some(_) => Plan::Detect,
            };
            plans.push(plan);
        }
        self.stats.gate_s += t.elapsed().as_secs_f64();

        // Whole frames share one batched call; region frames are detected in order below, since
        // each one builds on the detections of the frame before it.
        let t = Instant::now();
        let inputs: Vec<_> = frames
            .iter()
            .zip(&plans)
            .filter(|(_, p)| **p == Plan::Detect)
            .map(|(f, _)| f.image())
            .collect();
        let mut detected = self.detect_whole(&inputs, frames[0].index)?.into_iter();
        self.stats.detect_s += t.elapsed().as_secs_f64();

        for (f, plan) in frames.iter().zip(plans) {
            let (dets, moved) = match plan {
                Plan::Reuse => {
                    self.stats.frames_gated += 1;
                    (self.prev_dets.clone(), Some(Vec::new()))
                }
                Plan::Detect => {
                    let d = self.kept(detected.next().unwrap_or_default());
                    self.prev_dets = d.clone();
                    (d, None)
                }
                Plan::Regions(regions) => {
                    let t = Instant::now();
                    let d = self.detect_moved(f, &regions)?;
                    self.stats.detect_s += t.elapsed().as_secs_f64();
                    (d, Some(regions))
                }
            };
            self.after_detection(f, &dets, moved.as_deref())?;
        }
        Ok(())
    }

    /// One batched whole-frame call (nothing when `inputs` is empty).
    fn detect_whole(
        &mut self,
        inputs: &[vision::frame::ImageRef<'_>],
        first: u64,
    ) -> Result<Vec<Vec<Detection>>, PipelineError> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        self.stats.detector_calls += 1;
        self.stats.detector_frames += inputs.len() as u64;
        self.stats.detector_work += inputs.len() as f64;
        let err = |msg: String| PipelineError::Detector {
            camera: self.cfg.camera.id.clone(),
            frame: first,
            msg,
        };
        let out = self
            .detector
            .detect(inputs)
            .map_err(|e| err(e.to_string()))?;
        if out.len() != inputs.len() {
            return Err(err(format!(
                "returned {} results for {} frames",
                out.len(),
                inputs.len()
            )));
        }
        Ok(out)
    }

    /// The detections of the classes this camera tracks.
    fn kept(&self, d: Vec<Detection>) -> Vec<Detection> {
        d.into_iter()
            .filter(|d| self.keep.get(d.class_id as usize).copied().unwrap_or(false))
            .collect()
    }

    /// Detect where the frame moved; what the detector did not look at is as it was, so the
    /// previous frame's detections there are carried over.
    fn detect_moved(
        &mut self,
        f: &Frame,
        regions: &[vision::geom::BBox],
    ) -> Result<Vec<Detection>, PipelineError> {
        let grown = grow_to_objects(regions.to_vec(), &self.prev_dets, f.width, f.height);
        let found = self
            .detector
            .detect_regions(f.image(), &grown)
            .map_err(|e| PipelineError::Detector {
                camera: self.cfg.camera.id.clone(),
                frame: f.index,
                msg: e.to_string(),
            })?;
        let d = match found {
            None => {
                // The detector cannot, or the regions are too large: the whole frame.
                let d = self.detect_whole(&[f.image()], f.index)?.remove(0);
                self.kept(d)
            }
            Some(found) => {
                self.stats.frames_regions += 1;
                self.stats.detector_work += found.cost as f64 / found.full_cost.max(1) as f64;
                let mut d = self.kept(found.detections);
                d.extend(self.prev_dets.iter().filter(|p| {
                    let a = p.bbox.area();
                    !found
                        .looked
                        .iter()
                        .any(|l| p.bbox.intersection(l) >= 0.5 * a)
                }));
                vision::nms::nms(d, CARRY_NMS_IOU)
            }
        };
        self.prev_dets = d.clone();
        Ok(d)
    }

    /// `moved`: where the gate saw motion in this frame; `None` when it does not know.
    fn after_detection(
        &mut self,
        f: &Frame,
        dets: &[Detection],
        moved: Option<&[vision::geom::BBox]>,
    ) -> Result<(), PipelineError> {
        let t = Instant::now();
        let state = self
            .state
            .as_mut()
            .expect("state is built before detection");
        let tracked: Vec<TrackedObject> = state.tracker.update(dets);
        let mut events = state.rules.update(f.index, f.time, &tracked);
        self.stats.frames += 1;
        self.stats.detections += dets.len() as u64;
        for o in &tracked {
            self.stats.see_track(
                o.id,
                self.detector
                    .class_names()
                    .get(o.class_id as usize)
                    .map_or("?", |s| s),
            );
        }
        self.stats.track_rules_s += t.elapsed().as_secs_f64();
        let snapshot_wanted = self
            .snapshot
            .as_ref()
            .is_some_and(|(w, _)| w.load(Ordering::Acquire));
        if events.is_empty() && !snapshot_wanted {
            return Ok(());
        }
        let t = Instant::now();
        // Every person the detector saw, tracked or not, gets its head blurred.
        let persons: Vec<_> = dets
            .iter()
            .filter(|d| Some(d.class_id) == self.person_class)
            .map(|d| d.bbox)
            .chain(
                tracked
                    .iter()
                    .filter(|o| Some(o.class_id) == self.person_class)
                    .map(|o| o.bbox),
            )
            .collect();
        if snapshot_wanted {
            let jpeg = self
                .evidence
                .redacted_jpeg(f, &persons, moved)
                .map_err(|msg| PipelineError::Evidence {
                    camera: self.cfg.camera.id.clone(),
                    frame: f.index,
                    msg,
                })?;
            if let Some((wanted, sink)) = self.snapshot.as_mut() {
                wanted.store(false, Ordering::Release);
                sink(jpeg, f.time);
            }
        }
        if events.is_empty() {
            return Ok(());
        }
        self.evidence
            .attach(f, &persons, moved, &mut events)
            .map_err(|msg| PipelineError::Evidence {
                camera: self.cfg.camera.id.clone(),
                frame: f.index,
                msg,
            })?;
        self.stats.evidence_s += t.elapsed().as_secs_f64();
        self.stats.evidence_images = self.evidence.written;
        for ev in events {
            self.emit(ev)?;
        }
        Ok(())
    }
}
