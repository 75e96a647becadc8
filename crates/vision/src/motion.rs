//! Motion gate: decide, cheaply, where in a frame something moved, so the detector runs only
//! there (or not at all).
//!
//! The gate works on a small grid of cells (by default 96 cells across, about 1/8 of a 768x576
//! frame). Each cell's colour is the mean R, G, B of `samples x samples` pixels read straight
//! from the RGB frame at fixed points inside the cell: no full-size grey image is built, so a
//! frame costs a few tens of thousands of pixel reads whatever its resolution. Colour rather than
//! luma, because a red coat on grey pavement can have the pavement's luma.
//!
//! A cell has *changed* when any of its channels differs from a running-average background by
//! more than `threshold` levels, after subtracting that channel's frame-wide median difference
//! (so a cloud, an auto-exposure or white-balance step, or dusk does not light up the whole grid).
//! The background follows unchanged cells with rate `alpha`, so slow changes fade into it;
//! changed cells update at `alpha_moving` (default 0, so a passer-by leaves no ghost trail), and
//! a cell that has stayed changed for `absorb_after` frames in a row is taken into the background
//! at once (a car that parks is reported for that long, then the gate goes quiet). Changed
//! cells inside a `masks` polygon are ignored. Changed cells are dilated, grouped into connected
//! components, blobs smaller than `min_area` are dropped, and the survivors' boxes are padded and
//! merged until they no longer touch and there are at most `max_regions` of them.
//!
//! The first `warmup_frames` frames report motion everywhere (nothing is known yet); so does the
//! first frame after the frame size changes (the gate restarts itself for the new size), and a
//! frame in which more than `rebase_above` of the cells changed (a moving camera, a cut): that
//! frame becomes the new background, so the gate recovers at the next frame.
//!
//! **Stationary objects.** A person who stands still is absorbed by the background after
//! `absorb_after` frames and the gate goes quiet. Rules such as loitering need the detector to look
//! again now and then: set `refresh_every = N` and every N-th frame reports the whole frame as
//! one region (its `changed_fraction` is still the measured one). The pipeline may equally do
//! this itself; absent detector calls mean "no new information", not "nothing there".
use crate::frame::ImageRef;
use crate::geom::BBox;
use serde::{Deserialize, Serialize};

/// How the motion gate decides. Every field has a default; a TOML table may set any subset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MotionConfig {
    /// Grid cells across the frame; the grid's height follows the frame's aspect ratio.
    /// Capped at the frame's width.
    pub grid_width: u32,
    /// Pixels read per cell along each axis (`samples * samples` per cell), 1..=8.
    pub samples: u32,
    /// A cell has changed when a channel differs from the background by more than this (0..255).
    pub threshold: f32,
    /// Smallest blob kept, as a fraction of the frame's area (`0.0005` is ~220 px of 768x576).
    pub min_area: f32,
    /// Background update rate per frame for unchanged cells, in (0, 1]: `bg += alpha * (frame - bg)`.
    pub alpha: f32,
    /// Background update rate for changed cells, in [0, 1]. 0 keeps moving objects out of the
    /// background entirely (no ghost trails).
    pub alpha_moving: f32,
    /// A cell changed this many frames in a row is absorbed into the background (0: never).
    pub absorb_after: u32,
    /// When more than this fraction of the unmasked cells changed at once, the scene changed
    /// wholesale (the camera moved, a cut, lights switched on): the frame is reported as motion
    /// everywhere and becomes the new background. In (0, 1]; 1 never rebases.
    pub rebase_above: f32,
    /// Subtract the frame-wide median difference before thresholding (global light changes).
    pub compensate_global: bool,
    /// Dilation radius in cells applied to changed cells before grouping them.
    pub dilate: u32,
    /// Padding in cells added on every side of each region.
    pub pad: u32,
    /// At most this many regions; nearby ones are merged until the count fits. At least 1.
    pub max_regions: u32,
    /// The first N frames report motion everywhere while the background is built (at least 1).
    pub warmup_frames: u32,
    /// If > 0, every N-th frame reports the whole frame as moving (see the module docs).
    pub refresh_every: u32,
    /// Polygons, `[x, y]` points in normalised 0..1 image coordinates, where motion is ignored
    /// (a tree in the wind, a clock, a road outside the area of interest).
    pub masks: Vec<Vec<[f32; 2]>>,
}

impl Default for MotionConfig {
    fn default() -> Self {
        Self {
            grid_width: 96,
            samples: 2,
            threshold: 14.0,
            min_area: 0.0005,
            alpha: 0.05,
            alpha_moving: 0.0,
            absorb_after: 50,
            rebase_above: 0.5,
            compensate_global: true,
            dilate: 1,
            pad: 1,
            max_regions: 6,
            warmup_frames: 1,
            refresh_every: 0,
            masks: Vec::new(),
        }
    }
}

/// A motion setting that cannot work, with what to write instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MotionConfigError {
    #[error("motion.{field} = {value} is invalid: {expected}")]
    Field {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "motion.masks[{index}]: {problem}; a mask is a polygon of at least 3 [x, y] points in \
         normalised 0..1 image coordinates, e.g. [[0.1, 0.1], [0.3, 0.1], [0.3, 0.4]]"
    )]
    Mask { index: usize, problem: String },
}

impl MotionConfig {
    /// Check every field; call this where the configuration is loaded so the error can name
    /// the file it came from.
    pub fn validate(&self) -> Result<(), MotionConfigError> {
        fn bad(
            field: &'static str,
            value: impl ToString,
            expected: &'static str,
        ) -> Result<(), MotionConfigError> {
            Err(MotionConfigError::Field {
                field,
                value: value.to_string(),
                expected,
            })
        }
        if self.grid_width == 0 {
            return bad(
                "grid_width",
                0,
                "use a grid of at least 1 cell across; 96 is typical",
            );
        }
        if !(1..=8).contains(&self.samples) {
            return bad(
                "samples",
                self.samples,
                "use 1 to 8 samples per cell side; 2 is typical",
            );
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0 && self.threshold < 255.0) {
            return bad(
                "threshold",
                self.threshold,
                "use a colour difference in (0, 255); 14 is typical",
            );
        }
        if !(self.min_area.is_finite() && (0.0..1.0).contains(&self.min_area)) {
            return bad(
                "min_area",
                self.min_area,
                "use a fraction of the frame in [0, 1); 0.0005 is typical",
            );
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0 && self.alpha <= 1.0) {
            return bad(
                "alpha",
                self.alpha,
                "use a background update rate in (0, 1]; 0.05 is typical",
            );
        }
        if !(self.alpha_moving.is_finite() && (0.0..=1.0).contains(&self.alpha_moving)) {
            return bad(
                "alpha_moving",
                self.alpha_moving,
                "use an update rate for changed cells in [0, 1]; 0 is typical",
            );
        }
        if self.alpha_moving == 0.0 && self.absorb_after == 0 {
            return bad(
                "absorb_after",
                0,
                "with alpha_moving = 0 an object that stops would count as motion forever; set absorb_after (50 is typical) or alpha_moving > 0",
            );
        }
        if self.absorb_after > u16::MAX as u32 {
            return bad(
                "absorb_after",
                self.absorb_after,
                "use at most 65535 frames",
            );
        }
        if !(self.rebase_above.is_finite() && self.rebase_above > 0.0 && self.rebase_above <= 1.0) {
            return bad(
                "rebase_above",
                self.rebase_above,
                "use a fraction of the frame in (0, 1]; 0.5 is typical",
            );
        }
        if self.max_regions == 0 {
            return bad("max_regions", 0, "allow at least 1 region; 6 is typical");
        }
        if self.warmup_frames == 0 {
            return bad("warmup_frames", 0, "use at least 1 warm-up frame");
        }
        for (index, poly) in self.masks.iter().enumerate() {
            if poly.len() < 3 {
                return Err(MotionConfigError::Mask {
                    index,
                    problem: format!("has {} point(s)", poly.len()),
                });
            }
            if let Some((k, p)) = poly
                .iter()
                .enumerate()
                .find(|(_, p)| !p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)))
            {
                return Err(MotionConfigError::Mask {
                    index,
                    problem: format!("point {k} is [{}, {}], outside 0..1", p[0], p[1]),
                });
            }
        }
        Ok(())
    }
}

/// What the gate saw in one frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MotionResult {
    /// Pixel boxes in the full frame (merged, padded, clamped to the frame) where something
    /// moved. Empty: nothing moved, the detector can be skipped for this frame.
    pub regions: Vec<BBox>,
    /// Fraction of the unmasked grid cells that changed, 0..=1 (1 during warm-up).
    pub changed_fraction: f32,
}

/// Frame-differencing motion gate with a running-average background. One per camera.
#[derive(Debug, Clone)]
pub struct MotionGate {
    cfg: MotionConfig,
    frame_w: u32,
    frame_h: u32,
    gw: usize,
    gh: usize,
    /// Byte offset within a row of each sample column, `gw * samples` entries.
    xs: Vec<usize>,
    /// Row index of each sample row, `gh * samples` entries.
    ys: Vec<usize>,
    masked: Vec<bool>,
    unmasked: usize,
    min_cells: usize,
    bg: Vec<[f32; 3]>,
    cur: Vec<[f32; 3]>,
    changed: Vec<bool>,
    /// Frames in a row each cell has been changed.
    stuck: Vec<u16>,
    hist: Vec<u32>,
    scratch_b: Vec<bool>,
    labels: Vec<u32>,
    stack: Vec<usize>,
    frames: u64,
}

/// A box on the grid, cells `x1..x2` by `y1..y2` (exclusive ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cells {
    x1: usize,
    y1: usize,
    x2: usize,
    y2: usize,
}

impl Cells {
    fn union(&self, o: &Cells) -> Cells {
        Cells {
            x1: self.x1.min(o.x1),
            y1: self.y1.min(o.y1),
            x2: self.x2.max(o.x2),
            y2: self.y2.max(o.y2),
        }
    }
    fn grow(&self, g: usize, gw: usize, gh: usize) -> Cells {
        Cells {
            x1: self.x1.saturating_sub(g),
            y1: self.y1.saturating_sub(g),
            x2: (self.x2 + g).min(gw),
            y2: (self.y2 + g).min(gh),
        }
    }
}

impl MotionGate {
    /// A gate for frames of `frame_w` x `frame_h`.
    ///
    /// # Panics
    /// If `cfg` is invalid; load configurations through [`MotionConfig::validate`] or use
    /// [`MotionGate::try_new`].
    pub fn new(cfg: MotionConfig, frame_w: u32, frame_h: u32) -> Self {
        match Self::try_new(cfg, frame_w, frame_h) {
            Ok(g) => g,
            Err(e) => panic!("{e}"),
        }
    }

    /// A gate for frames of `frame_w` x `frame_h`, or what is wrong with `cfg`.
    pub fn try_new(
        cfg: MotionConfig,
        frame_w: u32,
        frame_h: u32,
    ) -> Result<Self, MotionConfigError> {
        cfg.validate()?;
        let mut g = MotionGate {
            cfg,
            frame_w: 0,
            frame_h: 0,
            gw: 0,
            gh: 0,
            xs: Vec::new(),
            ys: Vec::new(),
            masked: Vec::new(),
            unmasked: 0,
            min_cells: 0,
            bg: Vec::new(),
            cur: Vec::new(),
            changed: Vec::new(),
            stuck: Vec::new(),
            hist: Vec::new(),
            scratch_b: Vec::new(),
            labels: Vec::new(),
            stack: Vec::new(),
            frames: 0,
        };
        g.resize(frame_w, frame_h);
        Ok(g)
    }

    pub fn config(&self) -> &MotionConfig {
        &self.cfg
    }

    /// The grid the gate works on, `(columns, rows)`.
    pub fn grid_size(&self) -> (usize, usize) {
        (self.gw, self.gh)
    }

    /// Frames seen since the start (or since the last frame size change).
    pub fn frames_seen(&self) -> u64 {
        self.frames
    }

    /// Forget the background: the next frames are warm-up frames again (after a reconnect or
    /// a camera move).
    pub fn reset(&mut self) {
        self.frames = 0;
        self.stuck.iter_mut().for_each(|s| *s = 0);
    }

    fn resize(&mut self, w: u32, h: u32) {
        self.frame_w = w;
        self.frame_h = h;
        self.frames = 0;
        let (gw, gh) = if w == 0 || h == 0 {
            (0, 0)
        } else {
            let gw = self.cfg.grid_width.min(w) as usize;
            let gh = ((gw as f64 * h as f64 / w as f64).round() as usize).clamp(1, h as usize);
            (gw, gh)
        };
        self.gw = gw;
        self.gh = gh;
        let s = self.cfg.samples as usize;
        let pos = |n: usize, cells: usize, px: u32| -> Vec<usize> {
            (0..n * s)
                .map(|k| {
                    let (c, i) = (k / s, k % s);
                    let v = (c as f64 + (i as f64 + 0.5) / s as f64) * px as f64 / cells as f64;
                    (v.floor() as usize).min(px as usize - 1)
                })
                .collect()
        };
        if gw > 0 {
            self.xs = pos(gw, gw, w).into_iter().map(|x| x * 3).collect();
            self.ys = pos(gh, gh, h);
        } else {
            self.xs.clear();
            self.ys.clear();
        }
        let n = gw * gh;
        self.masked = vec![false; n];
        for gy in 0..gh {
            for gx in 0..gw {
                let p = [(gx as f32 + 0.5) / gw as f32, (gy as f32 + 0.5) / gh as f32];
                self.masked[gy * gw + gx] =
                    self.cfg.masks.iter().any(|poly| point_in_polygon(p, poly));
            }
        }
        self.unmasked = self.masked.iter().filter(|m| !**m).count();
        self.min_cells = ((self.cfg.min_area as f64 * n as f64).ceil() as usize).max(1);
        self.bg = vec![[0.0; 3]; n];
        self.cur = vec![[0.0; 3]; n];
        self.changed = vec![false; n];
        self.stuck = vec![0; n];
        self.hist = vec![0; 3 * 511];
        self.scratch_b = vec![false; n];
        self.labels = vec![0; n];
    }

    fn full_frame(&self) -> Vec<BBox> {
        if self.frame_w == 0 || self.frame_h == 0 {
            return Vec::new();
        }
        vec![BBox::new(
            0.0,
            0.0,
            self.frame_w as f32,
            self.frame_h as f32,
        )]
    }

    /// Feed the next frame of this camera; returns where it moved since the background.
    ///
    /// A frame of another size restarts the gate for that size (warm-up again). A frame whose
    /// `data` is shorter than `width * height * 3` cannot be judged and is reported as motion
    /// everywhere, so the detector still sees it (fail open).
    pub fn update(&mut self, img: ImageRef<'_>) -> MotionResult {
        if img.width != self.frame_w || img.height != self.frame_h {
            self.resize(img.width, img.height);
        }
        if self.gw == 0 {
            return MotionResult::default();
        }
        let stride = self.frame_w as usize * 3;
        if img.data.len() < stride * self.frame_h as usize {
            return MotionResult {
                regions: self.full_frame(),
                changed_fraction: 1.0,
            };
        }
        self.sample(img.data, stride);
        self.frames += 1;
        let warm = self.cfg.warmup_frames as u64;
        if self.frames <= warm {
            // cumulative mean over the warm-up frames
            let a = 1.0 / self.frames as f32;
            for (b, c) in self.bg.iter_mut().zip(&self.cur) {
                for k in 0..3 {
                    b[k] += a * (c[k] - b[k]);
                }
            }
            return MotionResult {
                regions: self.full_frame(),
                changed_fraction: 1.0,
            };
        }

        let offset = if self.cfg.compensate_global {
            self.median_offset()
        } else {
            [0.0; 3]
        };
        let thr = self.cfg.threshold;
        let (alpha, alpha_moving) = (self.cfg.alpha, self.cfg.alpha_moving);
        let absorb = self.cfg.absorb_after as u16;
        let mut n_changed = 0usize;
        for i in 0..self.bg.len() {
            let (c, b) = (self.cur[i], &mut self.bg[i]);
            let d = [c[0] - b[0], c[1] - b[1], c[2] - b[2]];
            let ch = !self.masked[i] && (0..3).any(|k| (d[k] - offset[k]).abs() > thr);
            self.changed[i] = ch;
            n_changed += ch as usize;
            let stuck = if ch {
                self.stuck[i].saturating_add(1)
            } else {
                0
            };
            if absorb > 0 && stuck >= absorb {
                *b = c;
                self.stuck[i] = 0;
            } else {
                let a = if ch { alpha_moving } else { alpha };
                for k in 0..3 {
                    b[k] += a * d[k];
                }
                self.stuck[i] = stuck;
            }
        }
        let changed_fraction = if self.unmasked == 0 {
            0.0
        } else {
            n_changed as f32 / self.unmasked as f32
        };

        let refresh = self.cfg.refresh_every as u64;
        let regions = if changed_fraction > self.cfg.rebase_above {
            self.bg.copy_from_slice(&self.cur);
            self.stuck.iter_mut().for_each(|s| *s = 0);
            self.full_frame()
        } else if refresh > 0 && self.frames.is_multiple_of(refresh) {
            self.full_frame()
        } else if n_changed == 0 {
            Vec::new()
        } else {
            self.regions()
        };
        MotionResult {
            regions,
            changed_fraction,
        }
    }

    /// Mean colour per cell into `self.cur`.
    fn sample(&mut self, data: &[u8], stride: usize) {
        let s = self.cfg.samples as usize;
        let gw = self.gw;
        let norm = 1.0 / (s * s) as f32;
        let mut acc = vec![[0u32; 3]; gw];
        for gy in 0..self.gh {
            acc.iter_mut().for_each(|a| *a = [0; 3]);
            for &y in &self.ys[gy * s..gy * s + s] {
                let row = &data[y * stride..(y + 1) * stride];
                for (gx, a) in acc.iter_mut().enumerate() {
                    for &o in &self.xs[gx * s..gx * s + s] {
                        a[0] += row[o] as u32;
                        a[1] += row[o + 1] as u32;
                        a[2] += row[o + 2] as u32;
                    }
                }
            }
            for (c, a) in self.cur[gy * gw..(gy + 1) * gw].iter_mut().zip(&acc) {
                *c = a.map(|v| v as f32 * norm);
            }
        }
    }

    /// Per channel, the median of `cur - bg` over unmasked cells (to the nearest level): the
    /// part of the change the whole frame shares. Histograms, so one pass and no sort.
    fn median_offset(&mut self) -> [f32; 3] {
        const BINS: usize = 511;
        self.hist.iter_mut().for_each(|h| *h = 0);
        let mut n = 0u32;
        for ((c, b), _) in self
            .cur
            .iter()
            .zip(&self.bg)
            .zip(&self.masked)
            .filter(|(_, m)| !**m)
        {
            for k in 0..3 {
                // d in -255..=255 shifted to 0..=510, rounded half up
                let bin = (c[k] - b[k] + 255.5).clamp(0.0, (BINS - 1) as f32) as usize;
                self.hist[k * BINS + bin] += 1;
            }
            n += 1;
        }
        let mut out = [0.0; 3];
        if n == 0 {
            return out;
        }
        for (k, o) in out.iter_mut().enumerate() {
            let mut seen = 0;
            for (bin, &h) in self.hist[k * BINS..(k + 1) * BINS].iter().enumerate() {
                seen += h;
                if seen > n / 2 {
                    *o = bin as f32 - 255.0;
                    break;
                }
            }
        }
        out
    }

    /// Changed cells to merged, padded pixel boxes.
    fn regions(&mut self) -> Vec<BBox> {
        let (gw, gh) = (self.gw, self.gh);
        // dilate: horizontal then vertical max over radius r
        let r = self.cfg.dilate as usize;
        let mut dil = std::mem::take(&mut self.scratch_b);
        if r == 0 {
            dil.copy_from_slice(&self.changed);
        } else {
            let mut tmp = vec![false; gw * gh];
            for y in 0..gh {
                for x in 0..gw {
                    if self.changed[y * gw + x] {
                        for t in
                            &mut tmp[y * gw + x.saturating_sub(r)..y * gw + (x + r + 1).min(gw)]
                        {
                            *t = true;
                        }
                    }
                }
            }
            dil.iter_mut().for_each(|d| *d = false);
            for y in 0..gh {
                for x in 0..gw {
                    if tmp[y * gw + x] {
                        for yy in y.saturating_sub(r)..(y + r + 1).min(gh) {
                            dil[yy * gw + x] = true;
                        }
                    }
                }
            }
        }
        // connected components of the dilated mask; keep blobs with enough raw changed cells
        let n = label(&dil, gw, gh, &mut self.labels, &mut self.stack);
        let mut boxes: Vec<Option<Cells>> = vec![None; n];
        let mut counts = vec![0usize; n];
        for y in 0..gh {
            for x in 0..gw {
                let l = self.labels[y * gw + x];
                if l == 0 {
                    continue;
                }
                let k = (l - 1) as usize;
                counts[k] += self.changed[y * gw + x] as usize;
                let c = Cells {
                    x1: x,
                    y1: y,
                    x2: x + 1,
                    y2: y + 1,
                };
                boxes[k] = Some(boxes[k].map_or(c, |b| b.union(&c)));
            }
        }
        self.scratch_b = dil;
        let pad = self.cfg.pad as usize;
        let mut cells: Vec<Cells> = boxes
            .into_iter()
            .zip(counts)
            .filter(|(_, c)| *c >= self.min_cells)
            .filter_map(|(b, _)| b)
            .map(|b| b.grow(pad, gw, gh))
            .collect();
        // merge touching boxes; while too many, let them reach further and merge again
        let max = self.cfg.max_regions as usize;
        let mut reach = 0;
        loop {
            cells = self.merge_touching(cells, reach);
            if cells.len() <= max {
                break;
            }
            reach += 1;
        }
        let sx = self.frame_w as f32 / gw as f32;
        let sy = self.frame_h as f32 / gh as f32;
        cells
            .iter()
            .map(|c| {
                BBox::new(
                    c.x1 as f32 * sx,
                    c.y1 as f32 * sy,
                    c.x2 as f32 * sx,
                    c.y2 as f32 * sy,
                )
                .clamp(self.frame_w as f32, self.frame_h as f32)
            })
            .collect()
    }

    /// Group boxes whose cells, each grown by `reach`, touch (8-connected); each group becomes
    /// the union of its (ungrown) boxes. Repeats until no two boxes touch.
    fn merge_touching(&mut self, mut cells: Vec<Cells>, reach: usize) -> Vec<Cells> {
        let (gw, gh) = (self.gw, self.gh);
        let mut occ = vec![false; gw * gh];
        loop {
            if cells.len() <= 1 {
                return cells;
            }
            occ.iter_mut().for_each(|o| *o = false);
            for c in &cells {
                let g = c.grow(reach, gw, gh);
                for y in g.y1..g.y2 {
                    for o in &mut occ[y * gw + g.x1..y * gw + g.x2] {
                        *o = true;
                    }
                }
            }
            let n = label(&occ, gw, gh, &mut self.labels, &mut self.stack);
            if n == cells.len() {
                return cells;
            }
            let mut groups: Vec<Option<Cells>> = vec![None; n];
            for c in &cells {
                let k = (self.labels[c.y1 * gw + c.x1] - 1) as usize;
                groups[k] = Some(groups[k].map_or(*c, |g| g.union(c)));
            }
            cells = groups.into_iter().flatten().collect();
        }
    }
}

/// 8-connected components of `on`; `labels` gets 0 for off cells and 1..=n for the rest.
fn label(on: &[bool], gw: usize, gh: usize, labels: &mut [u32], stack: &mut Vec<usize>) -> usize {
    labels.iter_mut().for_each(|l| *l = 0);
    let mut n = 0u32;
    for start in 0..gw * gh {
        if !on[start] || labels[start] != 0 {
            continue;
        }
        n += 1;
        labels[start] = n;
        stack.clear();
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % gw, i / gw);
            for yy in y.saturating_sub(1)..(y + 2).min(gh) {
                for xx in x.saturating_sub(1)..(x + 2).min(gw) {
                    let j = yy * gw + xx;
                    if on[j] && labels[j] == 0 {
                        labels[j] = n;
                        stack.push(j);
                    }
                }
            }
        }
    }
    n as usize
}

/// Even-odd rule; `p` and the polygon in the same (normalised) coordinates.
fn point_in_polygon(p: [f32; 2], poly: &[[f32; 2]]) -> bool {
    let mut inside = false;
    let mut j = poly.len().wrapping_sub(1);
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[j]);
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_membership() {
        let sq = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]];
        assert!(point_in_polygon([0.4, 0.4], &sq));
        assert!(!point_in_polygon([0.1, 0.4], &sq));
        assert!(!point_in_polygon([0.4, 0.7], &sq));
        let tri = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
        assert!(point_in_polygon([0.2, 0.2], &tri));
        assert!(!point_in_polygon([0.6, 0.6], &tri));
    }

    #[test]
    fn labels_count_8_connected_components() {
        #[rustfmt::skip]
        let on = [
            true,  false, false, true,
            false, true,  false, false,
            false, false, false, true,
        ];
        let mut labels = vec![0; 12];
        let mut stack = Vec::new();
        assert_eq!(label(&on, 4, 3, &mut labels, &mut stack), 3);
        assert_eq!(labels[0], labels[5]);
        assert_ne!(labels[3], labels[11]);
    }

    #[test]
    fn config_errors_name_the_field() {
        let cfg = MotionConfig {
            alpha: 0.0,
            ..Default::default()
        };
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains("motion.alpha") && e.contains("0.05"), "{e}");
        let cfg = MotionConfig {
            masks: vec![vec![[0.1, 0.1], [0.2, 0.2]]],
            ..Default::default()
        };
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains("masks[0]") && e.contains("2 point"), "{e}");
        let cfg = MotionConfig {
            masks: vec![vec![[0.1, 0.1], [1.2, 0.2], [0.3, 0.3]]],
            ..Default::default()
        };
        assert!(cfg.validate().unwrap_err().to_string().contains("point 1"));
        let toml_err = toml::from_str::<MotionConfig>("treshold = 3")
            .unwrap_err()
            .to_string();
        assert!(toml_err.contains("treshold"), "{toml_err}");
        let ok: MotionConfig =
            toml::from_str("threshold = 20\nmasks = [[[0,0],[0.5,0],[0.5,0.5]]]").unwrap();
        assert_eq!(ok.threshold, 20.0);
        ok.validate().unwrap();
    }
}
