//! Charts and the map as a list of marks (rectangles, paths, circles, text) in the figure's own
//! units, y pointing down. The HTML renderer writes them as inline SVG and the PDF renderer as
//! vector drawing operators, so both formats show the same picture from one description.
use crate::data::{Geometry, HotClass, MahallaInfo};
use crate::text::count;

/// A colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Components in 0..1, as PDF operators take them.
    pub fn unit(self) -> [f32; 3] {
        [self.0, self.1, self.2].map(|c| f32::from(c) / 255.0)
    }
}

pub const INK: Rgb = Rgb(33, 33, 33);
pub const GREY: Rgb = Rgb(117, 117, 117);
pub const GRID: Rgb = Rgb(224, 224, 224);
const WHITE: Rgb = Rgb(255, 255, 255);

/// How text sits on its point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: Rgb,
    },
    /// Rings or a polyline; filled (even-odd) when `fill` is set, and closed when filled.
    Path {
        rings: Vec<Vec<(f64, f64)>>,
        fill: Option<Rgb>,
        stroke: Option<(Rgb, f64)>,
    },
    Circle {
        cx: f64,
        cy: f64,
        r: f64,
        fill: Rgb,
        stroke: Option<(Rgb, f64)>,
    },
    /// `y` is the baseline.
    Text {
        x: f64,
        y: f64,
        text: String,
        size: f64,
        anchor: Anchor,
        fill: Rgb,
    },
}

/// A picture with its caption and legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub width: f64,
    pub height: f64,
    pub caption: String,
    pub marks: Vec<Mark>,
    pub legend: Vec<(Rgb, String)>,
}

fn text(x: f64, y: f64, t: impl Into<String>, size: f64, anchor: Anchor, fill: Rgb) -> Mark {
    Mark::Text {
        x,
        y,
        text: t.into(),
        size,
        anchor,
        fill,
    }
}

fn line(a: (f64, f64), b: (f64, f64), stroke: Rgb, width: f64) -> Mark {
    Mark::Path {
        rings: vec![vec![a, b]],
        fill: None,
        stroke: Some((stroke, width)),
    }
}

/// The colour of each source's series.
pub fn source_colour(key: &str) -> Rgb {
    match key {
        "public" => Rgb(31, 119, 180),
        "patrol" => Rgb(255, 127, 14),
        "camera" => Rgb(44, 160, 44),
        "inspector" => Rgb(148, 103, 189),
        _ => GREY,
    }
}

/// The colours of this period, the previous one and the year before.
pub const PERIOD_COLOURS: [Rgb; 3] = [Rgb(55, 71, 79), Rgb(144, 164, 174), Rgb(207, 216, 220)];

/// A round top of the axis for values up to `max`, and its step: 1, 2 or 5 times a power of
/// ten, at most 5 steps.
fn axis(max: u64) -> (u64, u64) {
    let max = max.max(1);
    let mut unit = 1u64;
    loop {
        for m in [1, 2, 5] {
            let step = m * unit;
            if max.div_ceil(step) <= 5 {
                return (max.div_ceil(step) * step, step);
            }
        }
        unit *= 10;
    }
}

/// Chart frame: left margin for tick labels, plot area, gridlines with labels.
struct Plot {
    width: f64,
    height: f64,
    x0: f64,
    y0: f64,
    w: f64,
    h: f64,
    top: u64,
}

impl Plot {
    fn new(width: f64, height: f64, max: u64, marks: &mut Vec<Mark>) -> Plot {
        let (top, step) = axis(max);
        let p = Plot {
            width,
            height,
            x0: 44.0,
            y0: 14.0,
            w: width - 56.0,
            h: height - 48.0,
            top,
        };
        let mut v = 0;
        while v <= top {
            let y = p.y(v as f64);
            marks.push(line((p.x0, y), (p.x0 + p.w, y), GRID, 0.8));
            marks.push(text(p.x0 - 6.0, y + 3.5, count(v), 10.0, Anchor::End, GREY));
            v += step;
        }
        p
    }

    fn y(&self, v: f64) -> f64 {
        self.y0 + self.h - v / self.top as f64 * self.h
    }

    fn bottom(&self) -> f64 {
        self.y0 + self.h
    }

    /// The figure: `marks` over the plot's baseline.
    fn finish(&self, caption: &str, mut marks: Vec<Mark>, legend: Vec<(Rgb, String)>) -> Figure {
        let y = self.bottom();
        marks.push(line((self.x0, y), (self.x0 + self.w, y), GREY, 1.0));
        Figure {
            width: self.width,
            height: self.height,
            caption: caption.into(),
            marks,
            legend,
        }
    }
}

/// Bars grouped by `groups` (a label and one value per series), one colour per series.
pub fn grouped_bars(
    caption: &str,
    groups: &[(String, Vec<u64>)],
    series: &[(String, Rgb)],
) -> Figure {
    let (width, height) = (640.0, 250.0);
    let mut marks = Vec::new();
    let max = groups
        .iter()
        .flat_map(|g| g.1.iter().copied())
        .max()
        .unwrap_or(0);
    let p = Plot::new(width, height, max, &mut marks);
    let gw = p.w / groups.len().max(1) as f64;
    let n = series.len().max(1) as f64;
    let bw = (gw * 0.8 / n).min(40.0);
    for (gi, (label, values)) in groups.iter().enumerate() {
        let gx = p.x0 + gi as f64 * gw + (gw - bw * n) / 2.0;
        for (si, v) in values.iter().enumerate() {
            let colour = series.get(si).map_or(GREY, |s| s.1);
            let x = gx + si as f64 * bw;
            let y = p.y(*v as f64);
            marks.push(Mark::Rect {
                x: x + 1.0,
                y,
                w: bw - 2.0,
                h: p.bottom() - y,
                fill: colour,
            });
            marks.push(text(
                x + bw / 2.0,
                y - 3.0,
                count(*v),
                9.0,
                Anchor::Middle,
                INK,
            ));
        }
        marks.push(text(
            p.x0 + gi as f64 * gw + gw / 2.0,
            p.bottom() + 16.0,
            label.clone(),
            10.0,
            Anchor::Middle,
            INK,
        ));
    }
    let legend = series.iter().map(|(l, c)| (*c, l.clone())).collect();
    p.finish(caption, marks, legend)
}

/// One line per series over the `x` labels (months).
pub fn lines(caption: &str, x: &[String], series: &[(String, Rgb, Vec<u64>)]) -> Figure {
    let (width, height) = (640.0, 250.0);
    let mut marks = Vec::new();
    let max = series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .max()
        .unwrap_or(0);
    let p = Plot::new(width, height, max, &mut marks);
    let n = x.len().max(1);
    let dx = p.w / n as f64;
    let px = |i: usize| p.x0 + dx * (i as f64 + 0.5);
    // Label every month when they fit, else every other or every third.
    let every = n.div_ceil(12).max(1);
    for (i, l) in x.iter().enumerate() {
        if i % every == 0 {
            marks.push(text(
                px(i),
                p.bottom() + 16.0,
                l.clone(),
                9.0,
                Anchor::Middle,
                INK,
            ));
        }
    }
    for (_, colour, values) in series {
        let pts: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (px(i), p.y(*v as f64)))
            .collect();
        if pts.len() > 1 {
            marks.push(Mark::Path {
                rings: vec![pts.clone()],
                fill: None,
                stroke: Some((*colour, 2.0)),
            });
        }
        for (cx, cy) in pts {
            marks.push(Mark::Circle {
                cx,
                cy,
                r: 2.5,
                fill: *colour,
                stroke: None,
            });
        }
    }
    let legend = series.iter().map(|s| (s.1, s.0.clone())).collect();
    p.finish(caption, marks, legend)
}

/// Horizontal bars: a label and a value per row.
pub fn bars(caption: &str, rows: &[(String, u64)], colour: Rgb) -> Figure {
    let row_h = 20.0;
    let width = 640.0;
    let height = 10.0 + row_h * rows.len().max(1) as f64;
    let (x0, label_w) = (150.0, 60.0);
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let w = width - x0 - label_w;
    let mut marks = Vec::new();
    for (i, (l, v)) in rows.iter().enumerate() {
        let y = 5.0 + i as f64 * row_h;
        marks.push(text(x0 - 8.0, y + 14.0, l.clone(), 10.0, Anchor::End, INK));
        marks.push(Mark::Rect {
            x: x0,
            y: y + 3.0,
            w: (*v as f64 / max * w).max(if *v > 0 { 1.0 } else { 0.0 }),
            h: row_h - 6.0,
            fill: colour,
        });
        marks.push(text(
            x0 + *v as f64 / max * w + 6.0,
            y + 14.0,
            count(*v),
            10.0,
            Anchor::Start,
            INK,
        ));
    }
    Figure {
        width,
        height,
        caption: caption.into(),
        marks,
        legend: Vec::new(),
    }
}

/// The fill of a mahalla on the map: hot spots first (they matter most), then crime-free, then
/// cold spots, else neutral.
pub fn map_fill(m: &MahallaInfo) -> (Rgb, &'static str) {
    let fill = match m.hot {
        HotClass::Hot99 => Rgb(178, 24, 43),
        HotClass::Hot95 => Rgb(214, 96, 77),
        HotClass::Hot90 => Rgb(244, 165, 130),
        _ if m.crime_free => return (Rgb(90, 174, 97), CRIME_FREE),
        HotClass::Cold99 => Rgb(33, 102, 172),
        HotClass::Cold95 => Rgb(67, 147, 195),
        HotClass::Cold90 => Rgb(146, 197, 222),
        _ => return (Rgb(224, 224, 224), NEITHER),
    };
    (fill, m.hot.label())
}

const CRIME_FREE: &str = "Crime-free";
const NEITHER: &str = "Neither";

/// Lon/lat to the picture: equirectangular around the middle latitude, fitted in the frame.
struct Projection {
    lon0: f64,
    lat1: f64,
    k: f64,
    coslat: f64,
    dx: f64,
    dy: f64,
}

impl Projection {
    fn fit(points: &[[f64; 2]], width: f64, height: f64, pad: f64) -> Option<Projection> {
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in points
            .iter()
            .filter(|p| p[0].is_finite() && p[1].is_finite())
        {
            x0 = x0.min(p[0]);
            x1 = x1.max(p[0]);
            y0 = y0.min(p[1]);
            y1 = y1.max(p[1]);
        }
        if x0 > x1 {
            return None;
        }
        let coslat = ((y0 + y1) / 2.0).to_radians().cos().max(0.05);
        let w = ((x1 - x0) * coslat).max(0.01);
        let h = (y1 - y0).max(0.01);
        let k = ((width - 2.0 * pad) / w).min((height - 2.0 * pad) / h);
        Some(Projection {
            lon0: x0,
            lat1: y1,
            k,
            coslat,
            dx: (width - (x1 - x0) * coslat * k) / 2.0,
            dy: (height - (y1 - y0) * k) / 2.0,
        })
    }

    fn xy(&self, p: [f64; 2]) -> (f64, f64) {
        (
            self.dx + (p[0] - self.lon0) * self.coslat * self.k,
            self.dy + (self.lat1 - p[1]) * self.k,
        )
    }
}

/// The centre of a ring's bounding box.
fn middle(ring: &[(f64, f64)]) -> (f64, f64) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in ring {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
}

/// The mahallas drawn from their outlines (a disc where only a point is known), filled by
/// [`map_fill`], each labelled with its row number in the report's list of mahallas. `None`
/// when no mahalla has a geometry.
pub fn map(caption: &str, mahallas: &[MahallaInfo]) -> Option<Figure> {
    let (width, height) = (600.0, 420.0);
    let all: Vec<[f64; 2]> = mahallas
        .iter()
        .filter_map(|m| m.geometry.as_ref())
        .flat_map(|g| match g {
            Geometry::Rings(r) => r.iter().flatten().copied().collect::<Vec<_>>(),
            Geometry::Point(p) => vec![*p],
        })
        .collect();
    let proj = Projection::fit(&all, width, height, 24.0)?;
    let mut marks = Vec::new();
    let mut labels = Vec::new();
    let mut legend: Vec<(Rgb, String)> = Vec::new();
    for (i, m) in mahallas.iter().enumerate() {
        let Some(g) = &m.geometry else { continue };
        let (fill, name) = map_fill(m);
        if !legend.iter().any(|(_, n)| n == name) {
            legend.push((fill, name.to_owned()));
        }
        let at = match g {
            Geometry::Rings(rings) => {
                let rings: Vec<Vec<(f64, f64)>> = rings
                    .iter()
                    .map(|r| r.iter().map(|p| proj.xy(*p)).collect())
                    .collect();
                let at = rings
                    .iter()
                    .max_by(|a, b| a.len().cmp(&b.len()))
                    .map_or((0.0, 0.0), |r| middle(r));
                marks.push(Mark::Path {
                    rings,
                    fill: Some(fill),
                    stroke: Some((WHITE, 0.8)),
                });
                at
            }
            Geometry::Point(p) => {
                let (cx, cy) = proj.xy(*p);
                marks.push(Mark::Circle {
                    cx,
                    cy,
                    r: 9.0,
                    fill,
                    stroke: Some((WHITE, 0.8)),
                });
                (cx, cy)
            }
        };
        labels.push(text(
            at.0,
            at.1 + 3.0,
            (i + 1).to_string(),
            8.0,
            Anchor::Middle,
            INK,
        ));
    }
    marks.extend(labels);
    legend.sort_by_key(|(_, n)| legend_order(n));
    Some(Figure {
        width,
        height,
        caption: caption.into(),
        marks,
        legend,
    })
}

fn legend_order(name: &str) -> usize {
    [
        HotClass::Hot99.label(),
        HotClass::Hot95.label(),
        HotClass::Hot90.label(),
        CRIME_FREE,
        HotClass::Cold99.label(),
        HotClass::Cold95.label(),
        HotClass::Cold90.label(),
        NEITHER,
    ]
    .iter()
    .position(|n| *n == name)
    .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_round() {
        assert_eq!(axis(0), (1, 1));
        assert_eq!(axis(4), (4, 1));
        assert_eq!(axis(7), (8, 2));
        assert_eq!(axis(23), (25, 5));
        assert_eq!(axis(101), (150, 50));
        assert_eq!(axis(12_345), (15_000, 5_000));
    }

    #[test]
    fn bars_stay_inside_the_figure() {
        let f = grouped_bars(
            "x",
            &[("a".into(), vec![0, 3, 12]), ("b".into(), vec![7, 1, 0])],
            &[
                ("now".into(), INK),
                ("then".into(), GREY),
                ("before".into(), GRID),
            ],
        );
        for m in &f.marks {
            if let Mark::Rect { x, y, w, h, .. } = m {
                assert!(*x >= 0.0 && x + w <= f.width && *y >= 0.0 && y + h <= f.height + 1e-9);
            }
        }
    }
}
