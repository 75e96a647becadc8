//! Redaction: blur faces and heads in every image that leaves the pipeline.
//!
//! CCTV faces are often too small for a face detector (8-10 px on a typical street view), so the
//! head of every person box is blurred whatever the face detector says ([`head_region`]), and
//! detected faces are blurred with a generous margin ([`redaction_regions`]).
//!
//! [`blur_regions`] first pixelates each region (every cell replaced by its mean: many inputs map
//! to one output, so no filter can bring the detail back), then smooths the mosaic with three box
//! blur passes so the cell edges do not hint at the shape underneath. Only pixels inside the
//! (clipped) regions change.
use crate::frame::Image;
use crate::geom::BBox;

/// Cell size as a fraction of a region's shorter side: 0.2 leaves about 5 cells across a face.
pub const DEFAULT_STRENGTH: f32 = 0.2;

/// Fraction of a person box's height, from its top, taken as the head.
pub const HEAD_FRACTION: f32 = 0.22;

/// Margin added on every side of a detected face, as a fraction of its width / height.
pub const FACE_PAD: f32 = 0.3;

/// Blur `regions` of `img` in place.
///
/// `strength` is the pixelation cell size as a fraction of each region's shorter side, clamped
/// to `0.05..=1.0` (a non-finite value means [`DEFAULT_STRENGTH`]); cells are at least 3 px.
/// Boxes are rounded outwards and clipped to the image; boxes outside it are ignored. A
/// non-finite coordinate is read as the image edge on that side (redact too much rather than
/// too little). Pixels outside every region are left exactly as they were.
pub fn blur_regions(img: &mut Image, regions: &[BBox], strength: f32) {
    let w = img.width as usize;
    // only whole rows that are actually present
    let h = if w == 0 {
        0
    } else {
        (img.height as usize).min(img.data.len() / (w * 3))
    };
    if w == 0 || h == 0 {
        return;
    }
    let strength = if strength.is_finite() {
        strength.clamp(0.05, 1.0)
    } else {
        DEFAULT_STRENGTH
    };
    for r in regions {
        let Some((x1, y1, x2, y2)) = clip(r, w, h) else {
            continue;
        };
        let short = (x2 - x1).min(y2 - y1);
        let cell = ((short as f32 * strength).ceil() as usize).max(3);
        pixelate(&mut img.data, w, (x1, y1, x2, y2), cell);
        let radius = (cell / 2).max(1);
        for _ in 0..3 {
            box_blur(&mut img.data, w, (x1, y1, x2, y2), radius);
        }
    }
}

/// Integer pixel bounds `x1..x2, y1..y2` of `r` inside a `w` x `h` image, rounded outwards;
/// `None` if nothing of it is inside.
fn clip(r: &BBox, w: usize, h: usize) -> Option<(usize, usize, usize, usize)> {
    let lo = |v: f32, max: usize| {
        if v.is_finite() {
            v.floor().clamp(0.0, max as f32) as usize
        } else {
            0
        }
    };
    let hi = |v: f32, max: usize| {
        if v.is_finite() {
            v.ceil().clamp(0.0, max as f32) as usize
        } else {
            max
        }
    };
    let (x1, x2) = (lo(r.x1, w), hi(r.x2, w));
    let (y1, y2) = (lo(r.y1, h), hi(r.y2, h));
    (x1 < x2 && y1 < y2).then_some((x1, y1, x2, y2))
}

type Rect = (usize, usize, usize, usize);

/// Replace each `cell` x `cell` block (aligned to the region's top-left) by its mean colour.
fn pixelate(data: &mut [u8], w: usize, (x1, y1, x2, y2): Rect, cell: usize) {
    let stride = w * 3;
    let mut by = y1;
    while by < y2 {
        let ey = (by + cell).min(y2);
        let mut bx = x1;
        while bx < x2 {
            let ex = (bx + cell).min(x2);
            let mut sum = [0u64; 3];
            for y in by..ey {
                for px in data[y * stride + bx * 3..y * stride + ex * 3].chunks_exact(3) {
                    sum[0] += px[0] as u64;
                    sum[1] += px[1] as u64;
                    sum[2] += px[2] as u64;
                }
            }
            let n = ((ey - by) * (ex - bx)) as u64;
            let mean = sum.map(|s| ((s + n / 2) / n) as u8);
            for y in by..ey {
                for px in data[y * stride + bx * 3..y * stride + ex * 3].chunks_exact_mut(3) {
                    px.copy_from_slice(&mean);
                }
            }
            bx = ex;
        }
        by = ey;
    }
}

/// One separable box blur pass of `radius` restricted to the region (edges clamp to the
/// region, so nothing outside is read or written).
fn box_blur(data: &mut [u8], w: usize, (x1, y1, x2, y2): Rect, radius: usize) {
    let stride = w * 3;
    let mut line: Vec<[u32; 3]> = Vec::with_capacity((x2 - x1).max(y2 - y1));
    // one line of the region, blurred with a sliding window, edges clamped
    let blur_line = |line: &[[u32; 3]], out: &mut dyn FnMut(usize, [u8; 3])| {
        let n = line.len();
        let win = (2 * radius + 1) as u32;
        let at = |i: isize| line[i.clamp(0, n as isize - 1) as usize];
        let mut acc = [0u32; 3];
        for i in -(radius as isize)..=(radius as isize) {
            let p = at(i);
            for c in 0..3 {
                acc[c] += p[c];
            }
        }
        for i in 0..n {
            out(i, acc.map(|a| ((a + win / 2) / win) as u8));
            let add = at(i as isize + radius as isize + 1);
            let sub = at(i as isize - radius as isize);
            for c in 0..3 {
                acc[c] = acc[c] + add[c] - sub[c];
            }
        }
    };
    for y in y1..y2 {
        line.clear();
        line.extend(
            data[y * stride + x1 * 3..y * stride + x2 * 3]
                .chunks_exact(3)
                .map(|p| [p[0] as u32, p[1] as u32, p[2] as u32]),
        );
        let row = &mut data[y * stride..(y + 1) * stride];
        blur_line(&line, &mut |i, v| {
            row[(x1 + i) * 3..(x1 + i) * 3 + 3].copy_from_slice(&v);
        });
    }
    for x in x1..x2 {
        line.clear();
        line.extend((y1..y2).map(|y| {
            let p = &data[y * stride + x * 3..y * stride + x * 3 + 3];
            [p[0] as u32, p[1] as u32, p[2] as u32]
        }));
        blur_line(&line, &mut |i, v| {
            let o = (y1 + i) * stride + x * 3;
            data[o..o + 3].copy_from_slice(&v);
        });
    }
}

/// The head of a person box: its top [`HEAD_FRACTION`] (starting a little above the box, whose
/// top edge often cuts the hair), widened by 10% of the width on each side, so the head is
/// covered even where the face detector finds nothing. Not clamped: [`blur_regions`] clips.
pub fn head_region(person: &BBox) -> BBox {
    let (w, h) = (person.width(), person.height());
    BBox::new(
        person.x1 - 0.1 * w,
        person.y1 - 0.03 * h,
        person.x2 + 0.1 * w,
        person.y1 + HEAD_FRACTION * h,
    )
}

/// Where to look for faces at the enlarged scale: the upper part of every person box with a
/// margin (a box that is a little off still holds its head), and every region where something
/// moved (a person the detector missed, half hidden behind a sign, still moves), clamped to the
/// `w` x `h` image and merged where they overlap, so one crop serves a group of people. The
/// rest of the frame, where nothing moved and no person was found, is searched at its own scale.
pub fn face_search_regions(persons: &[BBox], moved: &[BBox], w: u32, h: u32) -> Vec<BBox> {
    let mut out: Vec<BBox> = persons
        .iter()
        .filter(|p| p.area() > 0.0)
        .map(|p| {
            let (pw, ph) = (p.width(), p.height());
            BBox::new(
                p.x1 - 0.3 * pw,
                p.y1 - 0.15 * ph,
                p.x2 + 0.3 * pw,
                p.y1 + 0.6 * ph,
            )
            .clamp(w as f32, h as f32)
        })
        .chain(moved.iter().map(|m| m.clamp(w as f32, h as f32)))
        .filter(|b| b.area() > 0.0)
        .collect();
    loop {
        let mut merged = false;
        'pairs: for i in 0..out.len() {
            for j in i + 1..out.len() {
                if out[i].intersection(&out[j]) > 0.0 {
                    let (a, b) = (out[i], out[j]);
                    out[i] = BBox::new(
                        a.x1.min(b.x1),
                        a.y1.min(b.y1),
                        a.x2.max(b.x2),
                        a.y2.max(b.y2),
                    );
                    out.swap_remove(j);
                    merged = true;
                    break 'pairs;
                }
            }
        }
        if !merged {
            return out;
        }
    }
}

/// Everything to blur in one image: the head of every person box and every face box with
/// [`FACE_PAD`] added on each side.
pub fn redaction_regions(persons: &[BBox], faces: &[BBox]) -> Vec<BBox> {
    persons
        .iter()
        .map(head_region)
        .chain(faces.iter().map(|f| {
            let (dx, dy) = (FACE_PAD * f.width(), FACE_PAD * f.height());
            BBox::new(f.x1 - dx, f.y1 - dy, f.x2 + dx, f.y2 + dy)
        }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn face_search_covers_heads_and_merges_groups() {
        let a = BBox::new(100.0, 100.0, 140.0, 200.0);
        let b = BBox::new(135.0, 105.0, 175.0, 205.0);
        let far = BBox::new(600.0, 400.0, 640.0, 500.0);
        let r = face_search_regions(&[a, b, far], &[], 768, 576);
        assert_eq!(r.len(), 2, "{r:?}");
        for p in [a, b, far] {
            let head = head_region(&p).clamp(768.0, 576.0);
            assert!(
                r.iter()
                    .any(|s| s.intersection(&head) >= head.area() - 1e-3),
                "head of {p:?} not searched: {r:?}"
            );
        }
        // Clamped into the image.
        let edge = face_search_regions(&[BBox::new(0.0, 0.0, 30.0, 80.0)], &[], 768, 576);
        let moving = BBox::new(300.0, 300.0, 400.0, 420.0);
        assert!(face_search_regions(&[], &[moving], 768, 576).contains(&moving));
        assert!(edge[0].x1 >= 0.0 && edge[0].y1 >= 0.0);
    }

    #[test]
    fn clip_rounds_outwards_and_handles_non_finite() {
        assert_eq!(
            clip(&BBox::new(1.5, 2.5, 3.2, 4.0), 10, 10),
            Some((1, 2, 4, 4))
        );
        assert_eq!(
            clip(&BBox::new(-5.0, -5.0, 50.0, 50.0), 10, 8),
            Some((0, 0, 10, 8))
        );
        assert_eq!(
            clip(&BBox::new(f32::NAN, 2.0, f32::INFINITY, f32::NAN), 10, 8),
            Some((0, 2, 10, 8))
        );
        assert_eq!(clip(&BBox::new(12.0, 0.0, 20.0, 5.0), 10, 8), None);
        assert_eq!(clip(&BBox::new(5.0, 5.0, 5.0, 7.0), 10, 8), None);
    }

    #[test]
    fn head_region_is_top_of_person_and_faces_are_padded() {
        let p = BBox::new(100.0, 50.0, 140.0, 150.0);
        let head = head_region(&p);
        assert!(head.y1 < p.y1 && (head.y2 - (p.y1 + 22.0)).abs() < 1e-4);
        assert!(head.x1 < p.x1 && head.x2 > p.x2);
        let f = BBox::new(10.0, 10.0, 20.0, 30.0);
        let r = redaction_regions(&[p], &[f]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[1], BBox::new(7.0, 4.0, 23.0, 36.0));
    }
}
