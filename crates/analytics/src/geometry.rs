//! Polygons as read from GeoJSON: rings of `[x, y]` positions (lon/lat or any planar units).

/// One polygon: an exterior ring and any number of holes. Rings are stored without the closing
/// position (GeoJSON repeats the first position at the end; it is dropped on reading).
#[derive(Clone, Debug, PartialEq)]
pub struct Polygon {
    pub exterior: Vec<[f64; 2]>,
    pub holes: Vec<Vec<[f64; 2]>>,
}

/// A MultiPolygon: one or more polygons that together are one place (a GeoJSON Polygon is read as
/// a MultiPolygon with one part).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MultiPolygon(pub Vec<Polygon>);

impl Polygon {
    /// A polygon without holes.
    pub fn new(exterior: Vec<[f64; 2]>) -> Self {
        Polygon {
            exterior,
            holes: Vec::new(),
        }
    }

    /// All rings, exterior first.
    pub fn rings(&self) -> impl Iterator<Item = &[[f64; 2]]> {
        std::iter::once(self.exterior.as_slice()).chain(self.holes.iter().map(|h| h.as_slice()))
    }

    /// Area of the exterior less the holes (shoelace formula, in squared coordinate units).
    pub fn area(&self) -> f64 {
        let a = ring_area(&self.exterior).abs();
        a - self.holes.iter().map(|h| ring_area(h).abs()).sum::<f64>()
    }
}

impl MultiPolygon {
    /// Every ring of every part.
    pub fn rings(&self) -> impl Iterator<Item = &[[f64; 2]]> {
        self.0.iter().flat_map(|p| p.rings())
    }

    /// `[min_x, min_y, max_x, max_y]`, or `None` without any position.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        let mut it = self.rings().flatten();
        let first = it.next()?;
        let mut b = [first[0], first[1], first[0], first[1]];
        for p in it {
            b[0] = b[0].min(p[0]);
            b[1] = b[1].min(p[1]);
            b[2] = b[2].max(p[0]);
            b[3] = b[3].max(p[1]);
        }
        Some(b)
    }

    /// Sum of the parts' areas.
    pub fn area(&self) -> f64 {
        self.0.iter().map(Polygon::area).sum()
    }
}

/// Signed area of a ring (positive when counter-clockwise).
pub fn ring_area(ring: &[[f64; 2]]) -> f64 {
    let n = ring.len();
    if n < 3 {
        return 0.0;
    }
    let mut s = 0.0;
    for i in 0..n {
        let a = ring[i];
        let b = ring[(i + 1) % n];
        s += a[0] * b[1] - b[0] * a[1];
    }
    s / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_of_square_with_hole() {
        let p = Polygon {
            exterior: vec![[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]],
            holes: vec![vec![[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 1.0]]],
        };
        assert_eq!(p.area(), 15.0);
        let m = MultiPolygon(vec![p]);
        assert_eq!(m.bbox(), Some([0.0, 0.0, 4.0, 4.0]));
    }
}
