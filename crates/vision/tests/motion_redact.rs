//! Redaction (`vision::redact`): blurred regions lose their detail for good, everything else is
//! left exactly as it was, and no box can make it panic.
use proptest::prelude::*;
use std::io::Read;
use std::process::{Command, Stdio};
use vision::frame::Image;
use vision::geom::BBox;
use vision::redact::{DEFAULT_STRENGTH, blur_regions, head_region, redaction_regions};

fn noise_image(w: u32, h: u32, seed: u64) -> Image {
    let mut s = seed | 1;
    let data = (0..w * h * 3)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect();
    Image {
        width: w,
        height: h,
        data,
    }
}

/// One vtest.avi frame, decoded by Debian's ffmpeg.
fn vtest_frame(index: u32) -> Image {
    let path = assets::require("footage/vtest.avi").unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args([
            "-vf",
            &format!("select=eq(n\\,{index})"),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `ffmpeg` ({e}): install Debian's ffmpeg package"));
    let mut data = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut data).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        data.len(),
        768 * 576 * 3,
        "frame {index} of {}",
        path.display()
    );
    Image {
        width: 768,
        height: 576,
        data,
    }
}

/// Luma of each pixel inside `(x1, y1, x2, y2)`.
fn luma(img: &Image, (x1, y1, x2, y2): (usize, usize, usize, usize)) -> Vec<Vec<f64>> {
    (y1..y2)
        .map(|y| {
            (x1..x2)
                .map(|x| {
                    let o = (y * img.width as usize + x) * 3;
                    0.299 * img.data[o] as f64
                        + 0.587 * img.data[o + 1] as f64
                        + 0.114 * img.data[o + 2] as f64
                })
                .collect()
        })
        .collect()
}

/// Laplacian response (high-pass) at each interior pixel.
fn laplacian(l: &[Vec<f64>]) -> Vec<f64> {
    let mut out = Vec::new();
    for y in 1..l.len() - 1 {
        for x in 1..l[0].len() - 1 {
            out.push(4.0 * l[y][x] - l[y - 1][x] - l[y + 1][x] - l[y][x - 1] - l[y][x + 1]);
        }
    }
    out
}

fn energy(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>() / v.len() as f64
}

fn variance(l: &[Vec<f64>]) -> f64 {
    let all: Vec<f64> = l.iter().flatten().copied().collect();
    let m = all.iter().sum::<f64>() / all.len() as f64;
    all.iter().map(|v| (v - m).powi(2)).sum::<f64>() / all.len() as f64
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (
        a.iter().sum::<f64>() / a.len() as f64,
        b.iter().sum::<f64>() / b.len() as f64,
    );
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    if va == 0.0 || vb == 0.0 {
        0.0
    } else {
        cov / (va * vb).sqrt()
    }
}

/// Every pixel outside `rects` is identical in `a` and `b`.
fn assert_outside_untouched(a: &Image, b: &Image, rects: &[(usize, usize, usize, usize)]) {
    let w = a.width as usize;
    for (i, (pa, pb)) in a
        .data
        .chunks_exact(3)
        .zip(b.data.chunks_exact(3))
        .enumerate()
    {
        let (x, y) = (i % w, i / w);
        let inside = rects
            .iter()
            .any(|&(x1, y1, x2, y2)| x >= x1 && x < x2 && y >= y1 && y < y2);
        if !inside {
            assert_eq!(pa, pb, "pixel ({x}, {y}) outside the regions changed");
        }
    }
}

#[test]
fn blur_destroys_detail_inside_and_leaves_outside_exactly() {
    let orig = noise_image(200, 150, 7);
    let mut img = orig.clone();
    let r = (40usize, 30usize, 120usize, 110usize);
    blur_regions(
        &mut img,
        &[BBox::new(40.0, 30.0, 120.0, 110.0)],
        DEFAULT_STRENGTH,
    );
    assert_outside_untouched(&orig, &img, &[r]);
    let (lo, lb) = (luma(&orig, r), luma(&img, r));
    let (ho, hb) = (laplacian(&lo), laplacian(&lb));
    let (e_ratio, v_ratio) = (energy(&hb) / energy(&ho), variance(&lb) / variance(&lo));
    assert!(
        e_ratio < 0.001,
        "high-frequency energy only fell to {e_ratio:.5} of the original"
    );
    assert!(
        v_ratio < 0.05,
        "variance only fell to {v_ratio:.4} of the original"
    );
    // sharpening the result (unsharp mask, strong) does not bring the original detail back
    let sharpened: Vec<Vec<f64>> = {
        let hp = laplacian(&lb);
        let iw = lb[0].len() - 2;
        (0..lb.len() - 2)
            .map(|y| {
                (0..iw)
                    .map(|x| lb[y + 1][x + 1] + 4.0 * hp[y * iw + x])
                    .collect()
            })
            .collect()
    };
    let c = correlation(
        &laplacian(&sharpened),
        &laplacian(
            &lo[1..lo.len() - 1]
                .iter()
                .map(|r| r[1..r.len() - 1].to_vec())
                .collect::<Vec<_>>(),
        ),
    );
    assert!(
        c.abs() < 0.1,
        "sharpened blur still correlates with the original detail: {c:.3}"
    );
}

#[test]
fn blur_on_real_footage_heads() {
    let orig = vtest_frame(200);
    let mut img = orig.clone();
    // a head-sized box and a whole-person-sized one, in the middle of the square
    let regions = [
        BBox::new(300.0, 200.0, 340.0, 240.0),
        BBox::new(500.0, 300.0, 580.0, 480.0),
    ];
    blur_regions(&mut img, &regions, DEFAULT_STRENGTH);
    let rects = [(300, 200, 340, 240), (500, 300, 580, 480)];
    assert_outside_untouched(&orig, &img, &rects);
    for r in rects {
        let (lo, lb) = (luma(&orig, r), luma(&img, r));
        let ratio = energy(&laplacian(&lb)) / energy(&laplacian(&lo));
        assert!(
            ratio < 0.02,
            "region {r:?}: high-frequency energy fell only to {ratio:.4}"
        );
        // the region is still the right average colour (a blur, not a black box)
        let (mo, mb) = (
            lo.iter().flatten().sum::<f64>(),
            lb.iter().flatten().sum::<f64>(),
        );
        assert!(
            (mo - mb).abs() / mo < 0.02,
            "region {r:?}: mean luma moved from {mo} to {mb}"
        );
    }
}

#[test]
fn partially_outside_boxes_are_clipped() {
    let orig = noise_image(64, 48, 3);
    let mut img = orig.clone();
    blur_regions(
        &mut img,
        &[
            BBox::new(-30.0, 40.0, 20.0, 90.0),
            BBox::new(50.0, -10.0, 1e9, 8.5),
        ],
        0.5,
    );
    assert_outside_untouched(&orig, &img, &[(0, 40, 20, 48), (50, 0, 64, 9)]);
    assert_ne!(orig, img);
    // wholly outside or empty: nothing changes
    let mut img2 = orig.clone();
    blur_regions(
        &mut img2,
        &[
            BBox::new(70.0, 0.0, 90.0, 10.0),
            BBox::new(10.0, 10.0, 10.0, 30.0),
        ],
        0.5,
    );
    assert_eq!(orig, img2);
}

#[test]
fn redaction_regions_cover_the_head_of_a_person() {
    let person = BBox::new(200.0, 100.0, 240.0, 200.0);
    let head = head_region(&person);
    // a head is roughly the top eighth of a standing person, centred
    let true_head = BBox::new(212.0, 100.0, 228.0, 113.0);
    assert_eq!(head.intersection(&true_head), true_head.area());
    assert!(
        head.y2 < 125.0,
        "head region reaches down to {}: that blurs the body",
        head.y2
    );
    let regions = redaction_regions(&[person], &[BBox::new(10.0, 10.0, 20.0, 22.0)]);
    assert_eq!(regions[0], head);
    let face = regions[1];
    assert!(face.x1 < 10.0 && face.x2 > 20.0 && face.y1 < 10.0 && face.y2 > 22.0);
    assert!(
        (face.width() - 16.0).abs() < 1e-4,
        "faces get 30% each side: {face:?}"
    );
}

fn coord() -> impl Strategy<Value = f32> {
    prop_oneof![
        -100.0f32..200.0,
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        Just(f32::MAX),
        Just(f32::MIN),
        Just(-0.0f32),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn blur_never_panics_and_never_writes_outside(
        w in 0u32..40, h in 0u32..40, seed in any::<u64>(),
        boxes in prop::collection::vec((coord(), coord(), coord(), coord()), 0..4),
        strength in prop_oneof![-1.0f32..3.0, Just(f32::NAN), Just(0.0f32)],
    ) {
        let orig = noise_image(w, h, seed);
        let mut img = orig.clone();
        let regions: Vec<BBox> = boxes.iter().map(|&(a, b, c, d)| BBox::new(a, b, c, d)).collect();
        blur_regions(&mut img, &regions, strength);
        prop_assert_eq!(img.data.len(), orig.data.len());
        // the widest a box can reach: floor(x1)..ceil(x2), non-finite = image edge
        let rects: Vec<_> = regions.iter().map(|r| {
            let lo = |v: f32, m: u32| if v.is_finite() { v.floor().clamp(0.0, m as f32) as usize } else { 0 };
            let hi = |v: f32, m: u32| if v.is_finite() { v.ceil().clamp(0.0, m as f32) as usize } else { m as usize };
            (lo(r.x1, w), lo(r.y1, h), hi(r.x2, w), hi(r.y2, h))
        }).collect();
        assert_outside_untouched(&orig, &img, &rects);
        // a truncated buffer does not panic either
        let mut short = Image { width: w, height: h + 2, data: orig.data.clone() };
        blur_regions(&mut short, &regions, strength);
        let _ = redaction_regions(&regions, &regions);
    }
}
