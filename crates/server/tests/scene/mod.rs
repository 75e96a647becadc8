//! A small real JPEG standing in for a redacted evidence frame: a street at dusk with one person
//! whose head region is pixelated and whose box is outlined, as the pipeline draws them. Made
//! here (jpeg-encoder) so the tests need no footage.
#![allow(dead_code)]

pub const W: usize = 480;
pub const H: usize = 270;

/// The scene as a baseline JPEG.
pub fn jpeg() -> Vec<u8> {
    let mut px = vec![0u8; W * H * 3];
    let mut set = |x: usize, y: usize, c: [u8; 3]| {
        if x < W && y < H {
            px[(y * W + x) * 3..(y * W + x) * 3 + 3].copy_from_slice(&c);
        }
    };
    for y in 0..H {
        for x in 0..W {
            let c = if y < 110 {
                // sky, lighter towards the horizon
                let t = y as f32 / 110.0;
                [
                    (70.0 + 90.0 * t) as u8,
                    (100.0 + 80.0 * t) as u8,
                    (150.0 + 60.0 * t) as u8,
                ]
            } else if y < 190 {
                // a wall with windows
                if (x / 40) % 2 == 1 && (y - 110) % 40 > 10 && (y - 110) % 40 < 30 && x % 40 > 8 {
                    [230, 200, 120]
                } else {
                    [150, 120, 95]
                }
            } else {
                // the street, with a kerb
                let g = if y < 196 {
                    190
                } else {
                    95 + ((x + y) % 7) as u8
                };
                [g, g, g]
            };
            set(x, y, c);
        }
    }
    // A person: body and legs, with the head region pixelated (8x8 blocks).
    let (bx, by, bw, bh) = (300usize, 130usize, 34usize, 110usize);
    for y in by + 26..by + bh {
        for x in bx..bx + bw {
            set(
                x,
                y,
                if y < by + 70 {
                    [40, 60, 110]
                } else {
                    [30, 30, 35]
                },
            );
        }
    }
    for y in by..by + 26 {
        for x in bx + 4..bx + bw - 4 {
            let block = ((x / 8) * 31 + (y / 8) * 17) % 5;
            let v = 120 + block as u8 * 12;
            set(x, y, [v, v - 20, v - 35]);
        }
    }
    // The track's box, in the pipeline's yellow.
    for x in bx - 3..bx + bw + 3 {
        for t in 0..2 {
            set(x, by - 3 + t, [255, 200, 0]);
            set(x, by + bh + 1 + t, [255, 200, 0]);
        }
    }
    for y in by - 3..by + bh + 3 {
        for t in 0..2 {
            set(bx - 3 + t, y, [255, 200, 0]);
            set(bx + bw + 1 + t, y, [255, 200, 0]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&px, W as u16, H as u16, jpeg_encoder::ColorType::Rgb)
        .expect("encode the test scene");
    out
}
