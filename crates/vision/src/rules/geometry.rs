//! Polygon membership and line sides in normalised image coordinates (x right, y down).
use crate::geom::Point;

fn cross(ax: f32, ay: f32, bx: f32, by: f32) -> f32 {
    ax * by - ay * bx
}

/// A closed polygon with its bounding box for a quick reject.
#[derive(Debug, Clone)]
pub(crate) struct Polygon {
    pts: Vec<Point>,
    min: Point,
    max: Point,
}

impl Polygon {
    pub(crate) fn new(corners: &[[f32; 2]]) -> Self {
        let pts: Vec<Point> = corners.iter().map(|c| Point::new(c[0], c[1])).collect();
        let mut min = Point::new(f32::INFINITY, f32::INFINITY);
        let mut max = Point::new(f32::NEG_INFINITY, f32::NEG_INFINITY);
        for p in &pts {
            min.x = min.x.min(p.x);
            min.y = min.y.min(p.y);
            max.x = max.x.max(p.x);
            max.y = max.y.max(p.y);
        }
        Self { pts, min, max }
    }

    /// Even-odd rule (ray casting). Points exactly on an edge may fall either way.
    pub(crate) fn contains(&self, p: Point) -> bool {
        if !(p.x >= self.min.x && p.x <= self.max.x && p.y >= self.min.y && p.y <= self.max.y) {
            return false;
        }
        let n = self.pts.len();
        let mut inside = false;
        let mut j = n.wrapping_sub(1);
        for i in 0..n {
            let (a, b) = (self.pts[i], self.pts[j]);
            if (a.y > p.y) != (b.y > p.y) {
                let x = (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x;
                if p.x < x {
                    inside = !inside;
                }
            }
            j = i;
        }
        inside
    }
}

/// Which side of a directed line a point is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    A,
    B,
}

/// A directed segment `from -> to`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment {
    from: Point,
    dx: f32,
    dy: f32,
    len: f32,
}

impl Segment {
    pub(crate) fn new(from: [f32; 2], to: [f32; 2]) -> Self {
        let (dx, dy) = (to[0] - from[0], to[1] - from[1]);
        Self {
            from: Point::new(from[0], from[1]),
            dx,
            dy,
            len: (dx * dx + dy * dy).sqrt(),
        }
    }

    /// Signed distance of `p` from the (infinite) line: positive on side A, the left of
    /// `from -> to` as drawn on a y-down image (turn the arrow 90° counter-clockwise on screen).
    /// In y-down coordinates that is where `cross(p - from, to - from) > 0`.
    pub(crate) fn signed_distance(&self, p: Point) -> f32 {
        cross(p.x - self.from.x, p.y - self.from.y, self.dx, self.dy) / self.len
    }

    /// Side of `p`, or `None` within `margin` of the line.
    pub(crate) fn side(&self, p: Point, margin: f32) -> Option<Side> {
        let d = self.signed_distance(p);
        if d > margin {
            Some(Side::A)
        } else if d < -margin {
            Some(Side::B)
        } else {
            None
        }
    }

    /// Whether the path `a -> b` passes through this segment (ends included). `a` and `b` must
    /// be on strictly opposite sides of the line.
    pub(crate) fn crossed_by(&self, a: Point, b: Point) -> bool {
        let (rx, ry) = (b.x - a.x, b.y - a.y);
        let denom = cross(rx, ry, self.dx, self.dy);
        if denom == 0.0 || !denom.is_finite() {
            return false;
        }
        // position along this segment where the path meets the line, 0 at `from`, 1 at `to`
        let u = cross(self.from.x - a.x, self.from.y - a.y, rx, ry) / denom;
        (0.0..=1.0).contains(&u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_membership() {
        let sq = Polygon::new(&[[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]);
        assert!(sq.contains(Point::new(0.5, 0.7)));
        assert!(!sq.contains(Point::new(0.5, 0.4)));
        assert!(!sq.contains(Point::new(0.05, 0.7)));
        assert!(!sq.contains(Point::new(f32::NAN, 0.7)));
        // concave "L": the notch is outside
        let l = Polygon::new(&[
            [0.0, 0.0],
            [1.0, 0.0],
            [1.0, 0.5],
            [0.5, 0.5],
            [0.5, 1.0],
            [0.0, 1.0],
        ]);
        assert!(l.contains(Point::new(0.25, 0.75)));
        assert!(l.contains(Point::new(0.75, 0.25)));
        assert!(!l.contains(Point::new(0.75, 0.75)));
    }

    #[test]
    fn side_a_is_left_of_the_arrow_on_a_y_down_image() {
        // drawn top to bottom: A is on the viewer's right
        let down = Segment::new([0.5, 0.3], [0.5, 0.9]);
        assert_eq!(down.side(Point::new(0.7, 0.5), 0.0), Some(Side::A));
        assert_eq!(down.side(Point::new(0.3, 0.5), 0.0), Some(Side::B));
        // drawn left to right: A is above
        let right = Segment::new([0.1, 0.5], [0.9, 0.5]);
        assert_eq!(right.side(Point::new(0.5, 0.2), 0.0), Some(Side::A));
        assert_eq!(right.side(Point::new(0.5, 0.8), 0.0), Some(Side::B));
        assert_eq!(right.side(Point::new(0.5, 0.505), 0.01), None);
        assert!((right.signed_distance(Point::new(0.3, 0.4)) - 0.1).abs() < 1e-6);
    }

    #[test]
    fn crossing_must_pass_through_the_segment() {
        let s = Segment::new([0.5, 0.3], [0.5, 0.9]);
        assert!(s.crossed_by(Point::new(0.4, 0.5), Point::new(0.6, 0.6)));
        // passes the infinite line above the segment's top end
        assert!(!s.crossed_by(Point::new(0.4, 0.1), Point::new(0.6, 0.2)));
        // below the bottom end
        assert!(!s.crossed_by(Point::new(0.4, 0.95), Point::new(0.6, 0.95)));
    }
}
