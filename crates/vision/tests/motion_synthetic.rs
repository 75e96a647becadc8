//! Motion gate on synthetic frames: a textured, noisy static scene with things that move, light
//! that drifts and masks that hide part of it.
use vision::frame::Image;
use vision::geom::BBox;
use vision::motion::{MotionConfig, MotionGate, MotionResult};

const W: u32 = 768;
const H: u32 = 576;

/// xorshift64*: deterministic noise without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform integer in -a..=a.
    fn pm(&mut self, a: i32) -> i32 {
        (self.next() % (2 * a as u64 + 1)) as i32 - a
    }
}

/// A static scene: gradients plus fixed texture, values kept within 40..=180 so that drifts and
/// noise never clip.
fn background() -> Vec<i32> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut v = Vec::with_capacity((W * H * 3) as usize);
    for y in 0..H as i32 {
        for x in 0..W as i32 {
            let base = 60 + (x * 60 / W as i32) + (y * 40 / H as i32);
            let tex = rng.pm(20);
            for c in 0..3 {
                v.push((base + tex + c * 5).clamp(40, 180));
            }
        }
    }
    v
}

struct Scene {
    bg: Vec<i32>,
    rng: Rng,
}

impl Scene {
    fn new() -> Self {
        Scene {
            bg: background(),
            rng: Rng(42),
        }
    }
    /// One frame: the scene, `light` added everywhere, per-pixel sensor noise of +-6, and
    /// solid squares `(x, y, side, rgb)` painted on top.
    fn frame(&mut self, light: i32, squares: &[(u32, u32, u32, [u8; 3])]) -> Image {
        let mut data: Vec<u8> = self
            .bg
            .iter()
            .map(|&v| (v + light + self.rng.pm(6)).clamp(0, 255) as u8)
            .collect();
        for &(sx, sy, side, rgb) in squares {
            for y in sy..(sy + side).min(H) {
                for x in sx..(sx + side).min(W) {
                    let o = ((y * W + x) * 3) as usize;
                    data[o..o + 3].copy_from_slice(&rgb);
                }
            }
        }
        Image {
            width: W,
            height: H,
            data,
        }
    }
}

fn contains(outer: &BBox, inner: &BBox) -> bool {
    outer.x1 <= inner.x1 && outer.y1 <= inner.y1 && outer.x2 >= inner.x2 && outer.y2 >= inner.y2
}

fn warm(gate: &mut MotionGate, scene: &mut Scene) {
    let first = gate.update(scene.frame(0, &[]).as_ref());
    assert_eq!(
        first.regions,
        vec![BBox::new(0.0, 0.0, W as f32, H as f32)],
        "first frame: motion everywhere"
    );
    assert_eq!(first.changed_fraction, 1.0);
}

#[test]
fn moving_square_is_inside_a_region_and_regions_stay_small() {
    let mut scene = Scene::new();
    let mut gate = MotionGate::new(MotionConfig::default(), W, H);
    warm(&mut gate, &mut scene);
    for _ in 0..5 {
        scene.frame(0, &[]);
        assert!(gate.update(scene.frame(0, &[]).as_ref()).regions.is_empty());
    }
    let side = 48;
    for k in 0..60u32 {
        let (x, y) = (100 + 9 * k, 200 + 2 * k);
        let res = gate.update(scene.frame(0, &[(x, y, side, [250, 20, 20])]).as_ref());
        let sq = BBox::new(x as f32, y as f32, (x + side) as f32, (y + side) as f32);
        assert!(
            res.regions.iter().any(|r| contains(r, &sq)),
            "frame {k}: square {sq:?} not inside any region {:?}",
            res.regions
        );
        let area: f32 = res.regions.iter().map(BBox::area).sum();
        // the square plus dilation and padding; no ghost trail behind it
        assert!(
            area < 4.0 * sq.area(),
            "frame {k}: regions {:?} cover {area} px",
            res.regions
        );
        assert!(
            res.changed_fraction > 0.0 && res.changed_fraction < 0.05,
            "{}",
            res.changed_fraction
        );
    }
}

#[test]
fn static_noisy_scene_has_no_regions_after_warm_up() {
    let mut scene = Scene::new();
    let mut gate = MotionGate::new(MotionConfig::default(), W, H);
    warm(&mut gate, &mut scene);
    for k in 0..80 {
        let res = gate.update(scene.frame(0, &[]).as_ref());
        assert!(res.regions.is_empty(), "static frame {k}: {res:?}");
        assert!(
            res.changed_fraction < 0.005,
            "static frame {k}: {}",
            res.changed_fraction
        );
    }
}

#[test]
fn global_brightness_drift_has_no_regions_but_would_without_compensation() {
    // +1.5 levels a frame for 50 frames: the background lags ~30 levels behind, far above the
    // threshold, so only the global compensation keeps the gate quiet.
    let run = |compensate: bool| -> Vec<MotionResult> {
        let mut scene = Scene::new();
        // rebasing off too: it would otherwise catch the drift once half the frame had changed
        let rebase_above = if compensate { 0.5 } else { 1.0 };
        let cfg = MotionConfig {
            compensate_global: compensate,
            rebase_above,
            ..Default::default()
        };
        let mut gate = MotionGate::new(cfg, W, H);
        warm(&mut gate, &mut scene);
        (1..=50)
            .map(|k| gate.update(scene.frame((k as f32 * 1.5) as i32, &[]).as_ref()))
            .collect()
    };
    for (k, r) in run(true).iter().enumerate() {
        assert!(r.regions.is_empty(), "drift frame {k}: {r:?}");
    }
    let off = run(false);
    assert!(
        off.iter()
            .skip(20)
            .all(|r| !r.regions.is_empty() && r.changed_fraction > 0.5),
        "without compensation the drift should light up the frame; the test scene is too easy"
    );
    // a sudden exposure step is handled the same way
    let mut scene = Scene::new();
    let mut gate = MotionGate::new(MotionConfig::default(), W, H);
    warm(&mut gate, &mut scene);
    gate.update(scene.frame(0, &[]).as_ref());
    let step = gate.update(scene.frame(35, &[]).as_ref());
    assert!(step.regions.is_empty(), "exposure step: {step:?}");
}

#[test]
fn mask_over_the_square_hides_it_and_only_it() {
    let side = 48;
    let path = |k: u32| (300 + 4 * k, 250);
    // the square's whole path, in normalised coordinates, with a margin
    let mask = vec![
        [280.0 / 768.0, 230.0 / 576.0],
        [560.0 / 768.0, 230.0 / 576.0],
        [560.0 / 768.0, 320.0 / 576.0],
        [280.0 / 768.0, 320.0 / 576.0],
    ];
    let cfg = MotionConfig {
        masks: vec![mask],
        ..Default::default()
    };
    let mut scene = Scene::new();
    let mut gate = MotionGate::new(cfg, W, H);
    warm(&mut gate, &mut scene);
    for k in 0..40 {
        let (x, y) = path(k);
        let res = gate.update(scene.frame(0, &[(x, y, side, [20, 250, 20])]).as_ref());
        assert!(res.regions.is_empty(), "masked square, frame {k}: {res:?}");
        assert_eq!(res.changed_fraction, 0.0);
    }
    // a second square outside the mask is still seen
    let res = gate.update(
        scene
            .frame(
                0,
                &[
                    (300, 250, side, [20, 250, 20]),
                    (50, 50, side, [250, 250, 250]),
                ],
            )
            .as_ref(),
    );
    assert_eq!(res.regions.len(), 1, "{res:?}");
    assert!(
        contains(&res.regions[0], &BBox::new(50.0, 50.0, 98.0, 98.0)),
        "{res:?}"
    );
}

#[test]
fn many_movers_are_merged_into_at_most_max_regions_covering_all() {
    let cfg = MotionConfig {
        max_regions: 3,
        ..Default::default()
    };
    let mut scene = Scene::new();
    let mut gate = MotionGate::new(cfg, W, H);
    warm(&mut gate, &mut scene);
    gate.update(scene.frame(0, &[]).as_ref());
    let squares: Vec<(u32, u32, u32, [u8; 3])> = (0..8)
        .map(|i| (40 + 90 * i, 60 + 55 * i, 30, [255, 255, 0]))
        .collect();
    let res = gate.update(scene.frame(0, &squares).as_ref());
    assert!(!res.regions.is_empty() && res.regions.len() <= 3, "{res:?}");
    for &(x, y, s, _) in &squares {
        let sq = BBox::new(x as f32, y as f32, (x + s) as f32, (y + s) as f32);
        assert!(
            res.regions.iter().any(|r| contains(r, &sq)),
            "{sq:?} not covered by {:?}",
            res.regions
        );
    }
    // merged regions do not overlap
    for (i, a) in res.regions.iter().enumerate() {
        for b in &res.regions[i + 1..] {
            assert_eq!(a.intersection(b), 0.0, "{a:?} overlaps {b:?}");
        }
    }
}

#[test]
fn small_blobs_are_ignored_and_refresh_forces_the_whole_frame() {
    let cfg = MotionConfig {
        refresh_every: 10,
        ..Default::default()
    };
    let mut scene = Scene::new();
    let mut gate = MotionGate::new(cfg, W, H);
    warm(&mut gate, &mut scene);
    let mut forced = Vec::new();
    for k in 0..30 {
        // a 6x6 px flicker: below min_area (0.0005 of the frame, ~220 px)
        let sq = if k % 2 == 0 {
            vec![(400, 300, 6, [255, 255, 255])]
        } else {
            vec![]
        };
        let res = gate.update(scene.frame(0, &sq).as_ref());
        if !res.regions.is_empty() {
            assert_eq!(
                res.regions,
                vec![BBox::new(0.0, 0.0, W as f32, H as f32)],
                "frame {k}"
            );
            forced.push(gate.frames_seen());
        }
    }
    assert_eq!(forced, vec![10, 20, 30]);
}

#[test]
fn size_change_restarts_and_short_data_fails_open() {
    let mut gate = MotionGate::new(MotionConfig::default(), W, H);
    let mut scene = Scene::new();
    warm(&mut gate, &mut scene);
    assert!(gate.update(scene.frame(0, &[]).as_ref()).regions.is_empty());
    let small = Image {
        width: 320,
        height: 240,
        data: vec![90; 320 * 240 * 3],
    };
    let res = gate.update(small.as_ref());
    assert_eq!(
        res.regions,
        vec![BBox::new(0.0, 0.0, 320.0, 240.0)],
        "new size: warm-up again"
    );
    assert_eq!(gate.grid_size(), (96, 72));
    assert!(gate.update(small.as_ref()).regions.is_empty());
    let truncated = Image {
        width: 320,
        height: 240,
        data: vec![90; 1000],
    };
    assert_eq!(
        gate.update(truncated.as_ref()).regions.len(),
        1,
        "unreadable frame: detector must see it"
    );
    let empty = Image {
        width: 0,
        height: 0,
        data: vec![],
    };
    assert_eq!(gate.update(empty.as_ref()), MotionResult::default());
    let tiny = Image {
        width: 3,
        height: 2,
        data: vec![0; 18],
    };
    gate.update(tiny.as_ref());
    assert_eq!(gate.grid_size(), (3, 2));
}

#[test]
fn an_object_that_stops_is_absorbed_after_absorb_after_frames() {
    let mut scene = Scene::new();
    let mut gate = MotionGate::new(
        MotionConfig {
            absorb_after: 30,
            ..Default::default()
        },
        W,
        H,
    );
    warm(&mut gate, &mut scene);
    // a box is put down and stays
    let parked = [(500, 400, 64, [30, 30, 200])];
    let seen: Vec<bool> = (0..60)
        .map(|_| {
            !gate
                .update(scene.frame(0, &parked).as_ref())
                .regions
                .is_empty()
        })
        .collect();
    assert!(
        seen[..29].iter().all(|s| *s),
        "reported while new: {seen:?}"
    );
    assert!(
        seen[31..].iter().all(|s| !*s),
        "absorbed after 30 frames: {seen:?}"
    );
    // taken away again: the empty spot is a change, absorbed the same way
    let res = gate.update(scene.frame(0, &[]).as_ref());
    assert!(
        res.regions
            .iter()
            .any(|r| contains(r, &BBox::new(500.0, 400.0, 564.0, 464.0))),
        "{res:?}"
    );
}
