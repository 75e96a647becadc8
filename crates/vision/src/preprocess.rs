//! Frame to model input: bilinear resize (stretch or letterbox), channel order, layout and
//! normalisation in one pass, written straight into the caller's `f32` buffer so a batch fills one
//! tensor with no intermediate copies.
//!
//! A [`Resizer`] is built once per (source size, model input) pair: it precomputes, for every
//! output column and row, the two source indices and the interpolation weight, and the per-channel
//! affine normalisation. Running it is then a tight loop of four taps per output sample.
use crate::frame::ImageRef;
use crate::geom::BBox;
use crate::model::{ChannelOrder, InputSpec, Layout, ResizeMode};

/// How a model-input pixel maps back to the source image: `src = (model - pad) / scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transform {
    pub scale_x: f32,
    pub scale_y: f32,
    pub pad_x: f32,
    pub pad_y: f32,
    /// Source image size, to clamp boxes into.
    pub src_width: u32,
    pub src_height: u32,
}

impl Transform {
    /// A box in model-input pixels to a box in source pixels, clamped into the source image.
    pub fn to_source(&self, b: BBox) -> BBox {
        BBox::new(
            (b.x1 - self.pad_x) / self.scale_x,
            (b.y1 - self.pad_y) / self.scale_y,
            (b.x2 - self.pad_x) / self.scale_x,
            (b.y2 - self.pad_y) / self.scale_y,
        )
        .clamp(self.src_width as f32, self.src_height as f32)
    }
}

/// One output axis sample: source indices `i0`, `i1` (already multiplied by the source stride in
/// bytes along that axis) and the weight of `i1`.
#[derive(Debug, Clone, Copy)]
struct Tap {
    i0: u32,
    i1: u32,
    w1: f32,
}

/// Half-pixel-centre bilinear taps (the same sampling as OpenCV's `INTER_LINEAR`) for `dst` output
/// samples covering `src` input samples, each index multiplied by `stride`.
fn taps(src: u32, dst: u32, stride: u32) -> Vec<Tap> {
    let ratio = src as f64 / dst as f64;
    (0..dst)
        .map(|d| {
            let s = ((d as f64 + 0.5) * ratio - 0.5).max(0.0);
            let i0 = (s.floor() as u32).min(src - 1);
            let i1 = (i0 + 1).min(src - 1);
            let w1 = if i1 == i0 {
                0.0
            } else {
                (s - i0 as f64) as f32
            };
            Tap {
                i0: i0 * stride,
                i1: i1 * stride,
                w1,
            }
        })
        .collect()
}

/// Precomputed resize + normalise from one source size to one model input.
#[derive(Debug, Clone)]
pub struct Resizer {
    src_width: u32,
    src_height: u32,
    dst_width: u32,
    dst_height: u32,
    /// Where the picture lands inside the model input (letterbox leaves borders).
    content: (u32, u32, u32, u32),
    xt: Vec<Tap>,
    yt: Vec<Tap>,
    layout: Layout,
    /// For model channel `c`, the source byte offset (0..3) it reads.
    src_channel: [usize; 3],
    /// Per model channel: `out = pixel * mul + add`.
    mul: [f32; 3],
    add: [f32; 3],
    /// The normalised pad value per model channel.
    pad: [f32; 3],
    transform: Transform,
}

impl Resizer {
    /// Plan the resize of `src_width` x `src_height` images into `input`.
    ///
    /// # Panics
    /// If either size is zero (a model description with a zero input size is rejected when it is
    /// parsed, and a frame is never empty).
    pub fn new(src_width: u32, src_height: u32, input: &InputSpec) -> Self {
        assert!(src_width > 0 && src_height > 0, "empty source image");
        let (dw, dh) = (input.width, input.height);
        assert!(dw > 0 && dh > 0, "empty model input");
        let (cw, ch, ox, oy) = match input.resize {
            ResizeMode::Stretch => (dw, dh, 0, 0),
            ResizeMode::Letterbox => {
                let r = (dw as f64 / src_width as f64).min(dh as f64 / src_height as f64);
                let cw = ((src_width as f64 * r).round() as u32).clamp(1, dw);
                let ch = ((src_height as f64 * r).round() as u32).clamp(1, dh);
                (cw, ch, (dw - cw) / 2, (dh - ch) / 2)
            }
        };
        let src_channel = match input.channels {
            ChannelOrder::Rgb => [0, 1, 2],
            ChannelOrder::Bgr => [2, 1, 0],
        };
        let mut mul = [0.0; 3];
        let mut add = [0.0; 3];
        let mut pad = [0.0; 3];
        for c in 0..3 {
            // (pixel * scale - mean) / std
            mul[c] = input.scale / input.std[c];
            add[c] = -input.mean[c] / input.std[c];
            pad[c] = input.pad_value * mul[c] + add[c];
        }
        Self {
            src_width,
            src_height,
            dst_width: dw,
            dst_height: dh,
            content: (ox, oy, cw, ch),
            xt: taps(src_width, cw, 3),
            yt: taps(src_height, ch, src_width * 3),
            layout: input.layout,
            src_channel,
            mul,
            add,
            pad,
            transform: Transform {
                scale_x: cw as f32 / src_width as f32,
                scale_y: ch as f32 / src_height as f32,
                pad_x: ox as f32,
                pad_y: oy as f32,
                src_width,
                src_height,
            },
        }
    }

    /// Plan the resize of `src_width` x `src_height` images to exactly `content_w` x `content_h`,
    /// placed at the top-left of a `dst_width` x `dst_height` model input whose remainder is
    /// padding (how a motion region is fed to a model that takes sizes in multiples of 32).
    /// Normalisation, channel order and layout come from `input`; its size and resize mode are
    /// ignored.
    ///
    /// # Panics
    /// If a size is zero or the content does not fit.
    pub fn with_content(
        src_width: u32,
        src_height: u32,
        input: &InputSpec,
        (dst_width, dst_height): (u32, u32),
        (content_w, content_h): (u32, u32),
    ) -> Self {
        assert!(
            content_w > 0 && content_h > 0 && content_w <= dst_width && content_h <= dst_height,
            "content {content_w}x{content_h} does not fit {dst_width}x{dst_height}"
        );
        let spec = InputSpec {
            width: dst_width,
            height: dst_height,
            resize: ResizeMode::Stretch,
            ..input.clone()
        };
        let mut r = Self::new(src_width, src_height, &spec);
        r.content = (0, 0, content_w, content_h);
        r.xt = taps(src_width, content_w, 3);
        r.yt = taps(src_height, content_h, src_width * 3);
        r.transform.scale_x = content_w as f32 / src_width as f32;
        r.transform.scale_y = content_h as f32 / src_height as f32;
        r
    }

    /// The source size this plan was made for.
    pub fn source_size(&self) -> (u32, u32) {
        (self.src_width, self.src_height)
    }

    /// Number of `f32`s one image occupies in the model input.
    pub fn output_len(&self) -> usize {
        3 * self.dst_width as usize * self.dst_height as usize
    }

    /// How to map boxes found in the model input back to the source image.
    pub fn transform(&self) -> Transform {
        self.transform
    }

    /// Resize and normalise `img` into `out` (exactly [`Self::output_len`] values, this image's
    /// slot of the batch tensor).
    ///
    /// # Panics
    /// If `img` is not the size this plan was made for or `out` has the wrong length; both are
    /// programming errors in the caller.
    pub fn run(&self, img: ImageRef<'_>, out: &mut [f32]) {
        assert_eq!(
            (img.width, img.height),
            (self.src_width, self.src_height),
            "Resizer planned for another image size"
        );
        let need = 3 * img.width as usize * img.height as usize;
        assert!(
            img.data.len() >= need,
            "image data shorter than width*height*3"
        );
        assert_eq!(
            out.len(),
            self.output_len(),
            "output slot has the wrong length"
        );
        let (ox, oy, cw, ch) = self.content;
        let (dw, dh) = (self.dst_width as usize, self.dst_height as usize);
        let letterboxed = cw as usize != dw || ch as usize != dh;
        if letterboxed {
            self.fill_pad(out);
        }
        let src = &img.data[..need];
        let [c0, c1, c2] = self.src_channel;
        let (m, a) = (self.mul, self.add);
        match self.layout {
            Layout::Nchw => {
                let plane = dw * dh;
                let (p0, rest) = out.split_at_mut(plane);
                let (p1, p2) = rest.split_at_mut(plane);
                for (y, ty) in self.yt.iter().enumerate() {
                    let row0 = &src[ty.i0 as usize..];
                    let row1 = &src[ty.i1 as usize..];
                    let wy1 = ty.w1;
                    let wy0 = 1.0 - wy1;
                    let base = (oy as usize + y) * dw + ox as usize;
                    let o0 = &mut p0[base..base + cw as usize];
                    let o1 = &mut p1[base..base + cw as usize];
                    let o2 = &mut p2[base..base + cw as usize];
                    for (x, tx) in self.xt.iter().enumerate() {
                        let (i0, i1) = (tx.i0 as usize, tx.i1 as usize);
                        let wx1 = tx.w1;
                        let wx0 = 1.0 - wx1;
                        let w00 = wy0 * wx0;
                        let w01 = wy0 * wx1;
                        let w10 = wy1 * wx0;
                        let w11 = wy1 * wx1;
                        let s = |c: usize| {
                            row0[i0 + c] as f32 * w00
                                + row0[i1 + c] as f32 * w01
                                + row1[i0 + c] as f32 * w10
                                + row1[i1 + c] as f32 * w11
                        };
                        o0[x] = s(c0) * m[0] + a[0];
                        o1[x] = s(c1) * m[1] + a[1];
                        o2[x] = s(c2) * m[2] + a[2];
                    }
                }
            }
            Layout::Nhwc => {
                for (y, ty) in self.yt.iter().enumerate() {
                    let row0 = &src[ty.i0 as usize..];
                    let row1 = &src[ty.i1 as usize..];
                    let wy1 = ty.w1;
                    let wy0 = 1.0 - wy1;
                    let base = ((oy as usize + y) * dw + ox as usize) * 3;
                    let o = &mut out[base..base + cw as usize * 3];
                    for (px, tx) in o.chunks_exact_mut(3).zip(&self.xt) {
                        let (i0, i1) = (tx.i0 as usize, tx.i1 as usize);
                        let wx1 = tx.w1;
                        let wx0 = 1.0 - wx1;
                        for (k, &c) in self.src_channel.iter().enumerate() {
                            let v = (row0[i0 + c] as f32 * wx0 + row0[i1 + c] as f32 * wx1) * wy0
                                + (row1[i0 + c] as f32 * wx0 + row1[i1 + c] as f32 * wx1) * wy1;
                            px[k] = v * m[k] + a[k];
                        }
                    }
                }
            }
        }
    }

    fn fill_pad(&self, out: &mut [f32]) {
        let plane = self.dst_width as usize * self.dst_height as usize;
        match self.layout {
            Layout::Nchw => {
                for (c, p) in out.chunks_exact_mut(plane).enumerate() {
                    p.fill(self.pad[c]);
                }
            }
            Layout::Nhwc => {
                for px in out.chunks_exact_mut(3) {
                    px.copy_from_slice(&self.pad);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BatchSize;

    fn spec(w: u32, h: u32, resize: ResizeMode, layout: Layout) -> InputSpec {
        InputSpec {
            name: "input".into(),
            width: w,
            height: h,
            layout,
            channels: ChannelOrder::Rgb,
            resize,
            scale: 1.0,
            mean: [0.0; 3],
            std: [1.0; 3],
            pad_value: 114.0,
            batch: BatchSize::Dynamic,
            size_multiple: None,
        }
    }

    fn gradient(w: u32, h: u32) -> Vec<u8> {
        let mut v = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                v.extend_from_slice(&[
                    (x * 7 % 256) as u8,
                    (y * 5 % 256) as u8,
                    ((x + y) % 256) as u8,
                ]);
            }
        }
        v
    }

    #[test]
    fn same_size_stretch_is_identity_and_planar() {
        let data = gradient(8, 6);
        let r = Resizer::new(8, 6, &spec(8, 6, ResizeMode::Stretch, Layout::Nchw));
        let mut out = vec![0.0; r.output_len()];
        r.run(
            ImageRef {
                width: 8,
                height: 6,
                data: &data,
            },
            &mut out,
        );
        for y in 0..6 {
            for x in 0..8 {
                for c in 0..3 {
                    let want = data[(y * 8 + x) * 3 + c] as f32;
                    assert_eq!(out[c * 48 + y * 8 + x], want, "x{x} y{y} c{c}");
                }
            }
        }
    }

    #[test]
    fn upscale_2x_interpolates_between_neighbours() {
        // 2x1 image: left black, right white. Upscaled to 4x1, half-pixel centres give
        // 0, 0.25, 0.75, 1 of the way (clamped at the borders: 0, 64, 191, 255).
        let data = [0, 0, 0, 255, 255, 255];
        let r = Resizer::new(2, 1, &spec(4, 1, ResizeMode::Stretch, Layout::Nhwc));
        let mut out = vec![0.0; r.output_len()];
        r.run(
            ImageRef {
                width: 2,
                height: 1,
                data: &data,
            },
            &mut out,
        );
        let row: Vec<f32> = out.chunks(3).map(|p| p[0]).collect();
        assert_eq!(row, vec![0.0, 63.75, 191.25, 255.0]);
    }

    #[test]
    fn letterbox_pads_and_maps_back() {
        let data = gradient(20, 10);
        let mut s = spec(10, 10, ResizeMode::Letterbox, Layout::Nchw);
        s.scale = 1.0 / 255.0;
        let r = Resizer::new(20, 10, &s);
        let mut out = vec![-1.0; r.output_len()];
        r.run(
            ImageRef {
                width: 20,
                height: 10,
                data: &data,
            },
            &mut out,
        );
        let t = r.transform();
        assert_eq!(
            (t.scale_x, t.scale_y, t.pad_x, t.pad_y),
            (0.5, 0.5, 0.0, 2.0)
        );
        // Rows 0..2 and 7..10 are padding at 114/255.
        for c in 0..3 {
            for x in 0..10 {
                assert!((out[c * 100 + x] - 114.0 / 255.0).abs() < 1e-6);
                assert!((out[c * 100 + 90 + x] - 114.0 / 255.0).abs() < 1e-6);
            }
        }
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
        let b = t.to_source(BBox::new(1.0, 2.0, 5.0, 7.0));
        assert_eq!(b, BBox::new(2.0, 0.0, 10.0, 10.0));
    }

    #[test]
    fn bgr_and_normalisation() {
        let data = [10u8, 20, 30];
        let mut s = spec(1, 1, ResizeMode::Stretch, Layout::Nhwc);
        s.channels = ChannelOrder::Bgr;
        s.mean = [1.0, 2.0, 3.0];
        s.std = [2.0, 2.0, 2.0];
        let r = Resizer::new(1, 1, &s);
        let mut out = vec![0.0; 3];
        r.run(
            ImageRef {
                width: 1,
                height: 1,
                data: &data,
            },
            &mut out,
        );
        assert_eq!(
            out,
            vec![(30.0 - 1.0) / 2.0, (20.0 - 2.0) / 2.0, (10.0 - 3.0) / 2.0]
        );
    }
}
