//! Where to run a detector on a frame where only some regions moved.
//!
//! A fully convolutional detector (one that takes any width and height in multiples of `m`, see
//! `input.size_multiple` in a model description) costs in proportion to the pixels it is given. So
//! when the motion gate reports that only a few regions of a frame changed, the detector is run on
//! crops around those regions, each resized by the same factors as the whole frame would be (a
//! person looks to the network exactly as in a whole-frame run), instead of on the whole frame.
//!
//! Each region is widened by half a stride of context on every side, its model-scale size is
//! rounded up to a multiple of `m`, and the crop is grown back to fill that tile with real pixels
//! (centred on the region, shifted to stay inside the frame; padding only where the frame itself
//! is too small). Tiles that would cost less merged than apart are merged. When the tiles together
//! would cost more than `max_fraction` of a whole-frame run, [`plan`] says so and the caller runs
//! the whole frame instead.
use crate::geom::BBox;

/// One crop of the frame and the model input it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// The crop in frame pixels: left, top, width, height (inside the frame, non-empty).
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// The crop is resized to `content_w` x `content_h` ...
    pub content_w: u32,
    pub content_h: u32,
    /// ... and placed at the top-left of a `width` x `height` model input (multiples of `m`).
    pub width: u32,
    pub height: u32,
}

impl Tile {
    /// Model-input pixels, the measure of what a tile costs.
    pub fn cost(&self) -> u64 {
        self.width as u64 * self.height as u64
    }

    /// The crop as a box in frame pixels.
    pub fn bbox(&self) -> BBox {
        BBox::new(
            self.x as f32,
            self.y as f32,
            (self.x + self.w) as f32,
            (self.y + self.h) as f32,
        )
    }
}

/// The frame, the scale a whole-frame run uses, and the model's size rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileSpec {
    pub frame_w: u32,
    pub frame_h: u32,
    /// Model pixels per frame pixel in a whole-frame run (`input.width / frame_w` for a stretch).
    pub scale_x: f32,
    pub scale_y: f32,
    /// Tile sides are multiples of this (the network's largest stride).
    pub multiple: u32,
    /// What a whole-frame run costs, in model-input pixels.
    pub full_cost: u64,
}

/// Tiles covering `regions` (frame pixels), or `None` when running the whole frame is cheaper
/// than `max_fraction` of its cost would allow (or there is nothing to tile).
pub fn plan(spec: &TileSpec, regions: &[BBox], max_fraction: f32) -> Option<Vec<Tile>> {
    let (fw, fh) = (spec.frame_w as f32, spec.frame_h as f32);
    if regions.is_empty() || spec.frame_w == 0 || spec.frame_h == 0 || spec.multiple == 0 {
        return None;
    }
    if !(spec.scale_x > 0.0 && spec.scale_y > 0.0) {
        return None;
    }
    let half = spec.multiple as f32 / 2.0;
    let (mx, my) = (half / spec.scale_x, half / spec.scale_y);
    let mut boxes: Vec<BBox> = regions
        .iter()
        .filter(|r| r.area() > 0.0)
        .map(|r| BBox::new(r.x1 - mx, r.y1 - my, r.x2 + mx, r.y2 + my).clamp(fw, fh))
        .filter(|r| r.area() > 0.0)
        .collect();
    if boxes.is_empty() {
        return None;
    }
    // Merge while a merged tile costs no more than the two apart (at most a few regions).
    loop {
        let mut merged = false;
        'pairs: for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                let u = union(&boxes[i], &boxes[j]);
                if tile(spec, &u).cost()
                    <= tile(spec, &boxes[i]).cost() + tile(spec, &boxes[j]).cost()
                {
                    boxes[i] = u;
                    boxes.swap_remove(j);
                    merged = true;
                    break 'pairs;
                }
            }
        }
        if !merged {
            break;
        }
    }
    let tiles: Vec<Tile> = boxes.iter().map(|b| tile(spec, b)).collect();
    let cost: u64 = tiles.iter().map(Tile::cost).sum();
    if cost as f64 > spec.full_cost as f64 * max_fraction as f64 {
        return None;
    }
    Some(tiles)
}

fn union(a: &BBox, b: &BBox) -> BBox {
    BBox::new(
        a.x1.min(b.x1),
        a.y1.min(b.y1),
        a.x2.max(b.x2),
        a.y2.max(b.y2),
    )
}

/// One axis of a tile: (crop start, crop length, content length, tile length).
fn axis(lo: f32, hi: f32, frame: u32, scale: f32, m: u32) -> (u32, u32, u32, u32) {
    // The whole axis at model scale, rounded up: no tile needs more.
    let full_tile = ((frame as f32 * scale).ceil() as u32).div_ceil(m) * m;
    let want = ((hi - lo) * scale).ceil().max(1.0) as u32;
    let t = want.div_ceil(m).max(1) * m;
    let t = t.min(full_tile.max(m));
    // Fill the tile with real pixels where the frame allows.
    let crop = ((t as f32 / scale).floor() as u32).clamp(1, frame);
    let centre = (lo + hi) / 2.0;
    let start = (centre - crop as f32 / 2.0).round().max(0.0) as u32;
    let start = start.min(frame - crop);
    let content = ((crop as f32 * scale).round() as u32).clamp(1, t);
    (start, crop, content, t)
}

fn tile(spec: &TileSpec, b: &BBox) -> Tile {
    let (x, w, cw, tw) = axis(b.x1, b.x2, spec.frame_w, spec.scale_x, spec.multiple);
    let (y, h, ch, th) = axis(b.y1, b.y2, spec.frame_h, spec.scale_y, spec.multiple);
    Tile {
        x,
        y,
        w,
        h,
        content_w: cw,
        content_h: ch,
        width: tw,
        height: th,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// vtest.avi (768x576) into YOLOv4-tiny at 416x416, stretched.
    fn vtest() -> TileSpec {
        TileSpec {
            frame_w: 768,
            frame_h: 576,
            scale_x: 416.0 / 768.0,
            scale_y: 416.0 / 576.0,
            multiple: 32,
            full_cost: 416 * 416,
        }
    }

    #[test]
    fn small_region_gets_one_small_tile_at_frame_scale() {
        let s = vtest();
        let r = BBox::new(300.0, 200.0, 360.0, 330.0); // a pedestrian, 60x130 px
        let t = plan(&s, &[r], 0.8).expect("a small region is tiled");
        assert_eq!(t.len(), 1);
        let t = t[0];
        assert_eq!(t.width % 32, 0);
        assert_eq!(t.height % 32, 0);
        // The tile covers the region with context and is no bigger than needed plus one stride.
        assert!(t.bbox().intersection(&r) >= r.area() - 1e-3);
        assert!(t.width <= ((60.0 * s.scale_x + 32.0) as u32).div_ceil(32) * 32 + 32);
        // Same scale as a whole-frame run, within a pixel of rounding.
        assert!((t.content_w as f32 / t.w as f32 - s.scale_x).abs() < 0.01);
        assert!((t.content_h as f32 / t.h as f32 - s.scale_y).abs() < 0.01);
        assert!(t.cost() * 5 < s.full_cost);
    }

    #[test]
    fn near_regions_merge_and_big_motion_falls_back_to_the_whole_frame() {
        let s = vtest();
        let a = BBox::new(100.0, 100.0, 160.0, 230.0);
        let b = BBox::new(165.0, 110.0, 220.0, 240.0);
        let t = plan(&s, &[a, b], 0.8).unwrap();
        assert_eq!(t.len(), 1, "{t:?}");
        let big = BBox::new(0.0, 0.0, 700.0, 500.0);
        assert_eq!(plan(&s, &[big], 0.8), None);
        assert_eq!(plan(&s, &[], 0.8), None);
    }

    #[test]
    fn region_at_the_edge_stays_inside_the_frame() {
        let s = vtest();
        let t = plan(&s, &[BBox::new(740.0, 550.0, 768.0, 576.0)], 0.8).unwrap()[0];
        assert!(t.x + t.w <= 768 && t.y + t.h <= 576);
        assert!(
            t.bbox()
                .intersection(&BBox::new(740.0, 550.0, 768.0, 576.0))
                > 0.0
        );
    }

    proptest! {
        #[test]
        fn tiles_cover_their_regions_and_fit(
            fw in 64u32..2000, fh in 64u32..2000,
            rx in 0.0f32..1.0, ry in 0.0f32..1.0, rw in 0.01f32..0.5, rh in 0.01f32..0.5,
        ) {
            let s = TileSpec { frame_w: fw, frame_h: fh, scale_x: 416.0 / fw as f32,
                scale_y: 416.0 / fh as f32, multiple: 32, full_cost: 416 * 416 };
            let r = BBox::new(rx * fw as f32, ry * fh as f32,
                ((rx + rw) * fw as f32).min(fw as f32), ((ry + rh) * fh as f32).min(fh as f32));
            prop_assume!(r.area() > 1.0);
            if let Some(tiles) = plan(&s, &[r], 1.0) {
                let covered: f32 = tiles.iter().map(|t| t.bbox().intersection(&r)).sum();
                prop_assert!(covered >= r.area() * 0.999, "{tiles:?} {r:?}");
                for t in tiles {
                    prop_assert!(t.x + t.w <= fw && t.y + t.h <= fh && t.w > 0 && t.h > 0);
                    prop_assert!(t.width % 32 == 0 && t.height % 32 == 0);
                    prop_assert!(t.content_w <= t.width && t.content_h <= t.height);
                    prop_assert!(t.cost() <= s.full_cost);
                }
            }
        }
    }
}
