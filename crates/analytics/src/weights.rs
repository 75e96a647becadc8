//! Binary spatial weights stored as a CSR neighbour list, and contiguity built from polygons.
//!
//! Contiguity is found from vertices, as libpysal does (`Queen`/`Rook.from_dataframe`), but with
//! two differences that make it robust on real boundary files:
//! * vertices closer than a tolerance are the same point ("snapping"), found through a hash grid
//!   of cell size `tolerance` searched over the 3x3 neighbouring cells, so float noise never
//!   splits a shared corner (plain rounding would split points that straddle a cell edge);
//! * rook contiguity (a shared stretch of border, not just a point) is found where two polygons
//!   leave a shared vertex along the same line in the same direction. That includes the exactly
//!   shared edge libpysal looks for, and also borders where one side has extra vertices the other
//!   lacks (T-junctions), which exact edge matching misses.
//!
//! Every ring counts, holes included: a mahalla lying in a hole of another (an enclave) touches
//! it along the hole's ring, and libpysal counts that contact too.
//!
//! Cost is about linear in the number of vertices: each vertex is hashed once and compared with
//! the few vertices in its neighbouring cells; polygons are never compared pairwise.
use crate::Error;
use crate::geometry::MultiPolygon;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Binary, unweighted neighbour lists in CSR form: the neighbours of `i` are
/// `neighbors[offsets[i]..offsets[i + 1]]`, sorted ascending, never including `i` itself (Gi*
/// adds the cell itself where the statistic needs it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weights {
    offsets: Vec<usize>,
    neighbors: Vec<u32>,
}

impl Weights {
    /// Symmetric weights from undirected pairs; pairs `(i, i)` and duplicates are dropped.
    /// Panics if an index is `>= n`.
    pub fn from_pairs(n: usize, pairs: &[(u32, u32)]) -> Weights {
        let mut directed: Vec<(u32, u32)> = Vec::with_capacity(pairs.len() * 2);
        for &(a, b) in pairs {
            assert!(
                (a as usize) < n && (b as usize) < n,
                "pair ({a}, {b}) out of 0..{n}"
            );
            if a != b {
                directed.push((a, b));
                directed.push((b, a));
            }
        }
        directed.sort_unstable();
        directed.dedup();
        let mut offsets = vec![0usize; n + 1];
        for &(a, _) in &directed {
            offsets[a as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let neighbors = directed.into_iter().map(|(_, b)| b).collect();
        Weights { offsets, neighbors }
    }

    /// Weights exactly as listed (they may be asymmetric, as k-nearest-neighbour weights are).
    /// Lists are sorted and de-duplicated; an index out of range or a place listed as its own
    /// neighbour is an error.
    pub fn from_neighbor_lists(lists: &[Vec<usize>]) -> Result<Weights, Error> {
        let n = lists.len();
        if n > u32::MAX as usize {
            return Err(Error::InvalidInput(format!(
                "{n} places is more than supported"
            )));
        }
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        let mut neighbors = Vec::new();
        for (i, l) in lists.iter().enumerate() {
            let mut l: Vec<u32> = l
                .iter()
                .map(|&j| {
                    if j >= n {
                        Err(Error::InvalidInput(format!(
                            "place {i} lists neighbour {j}, but there are only {n} places"
                        )))
                    } else if j == i {
                        Err(Error::InvalidInput(format!(
                            "place {i} lists itself as a neighbour; Gi* adds the place itself, leave it out"
                        )))
                    } else {
                        Ok(j as u32)
                    }
                })
                .collect::<Result<_, _>>()?;
            l.sort_unstable();
            l.dedup();
            neighbors.extend_from_slice(&l);
            offsets.push(neighbors.len());
        }
        Ok(Weights { offsets, neighbors })
    }

    /// Queen contiguity among the cells of an `nx` by `ny` grid numbered row by row
    /// (`index = row * nx + col`): each cell's up to 8 surrounding cells.
    pub fn grid_queen(nx: usize, ny: usize) -> Weights {
        let n = nx * ny;
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        let mut neighbors = Vec::with_capacity(n * 8);
        for r in 0..ny {
            for c in 0..nx {
                for dr in [-1i64, 0, 1] {
                    for dc in [-1i64, 0, 1] {
                        let (rr, cc) = (r as i64 + dr, c as i64 + dc);
                        if (dr, dc) != (0, 0)
                            && rr >= 0
                            && cc >= 0
                            && (rr as usize) < ny
                            && (cc as usize) < nx
                        {
                            neighbors.push((rr as usize * nx + cc as usize) as u32);
                        }
                    }
                }
                offsets.push(neighbors.len());
            }
        }
        Weights { offsets, neighbors }
    }

    /// Number of places.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when there are no places.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Neighbours of place `i`, ascending.
    #[inline]
    pub fn neighbors(&self, i: usize) -> &[u32] {
        &self.neighbors[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Number of neighbours of `i` (not counting `i`).
    #[inline]
    pub fn cardinality(&self, i: usize) -> usize {
        self.offsets[i + 1] - self.offsets[i]
    }

    /// The largest number of neighbours any place has.
    pub fn max_cardinality(&self) -> usize {
        (0..self.len())
            .map(|i| self.cardinality(i))
            .max()
            .unwrap_or(0)
    }

    /// Total number of (directed) neighbour links.
    pub fn nnz(&self) -> usize {
        self.neighbors.len()
    }

    /// Places with no neighbour at all.
    pub fn islands(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.cardinality(i) == 0)
            .collect()
    }

    /// True when `j` is a neighbour of `i` exactly when `i` is one of `j`.
    pub fn is_symmetric(&self) -> bool {
        (0..self.len()).all(|i| {
            self.neighbors(i).iter().all(|&j| {
                self.neighbors(j as usize)
                    .binary_search(&(i as u32))
                    .is_ok()
            })
        })
    }

    /// The neighbour lists as plain vectors.
    pub fn to_lists(&self) -> Vec<Vec<usize>> {
        (0..self.len())
            .map(|i| self.neighbors(i).iter().map(|&j| j as usize).collect())
            .collect()
    }

    /// The raw CSR arrays `(offsets, neighbors)`.
    pub fn csr(&self) -> (&[usize], &[u32]) {
        (&self.offsets, &self.neighbors)
    }
}

/// Which contact makes two polygons neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contiguity {
    /// Sharing at least one boundary point (a vertex).
    Queen,
    /// Sharing a stretch of border of positive length.
    Rook,
}

/// The default snapping tolerance for `polys`: `1e-8` of the largest coordinate magnitude or
/// extent. For lon/lat across Uzbekistan (|lon| up to ~73) that is ~7e-7 degrees, under 10 cm:
/// well above float noise from reprojection or re-serialisation and far below the distance
/// between distinct boundary vertices.
pub fn default_tolerance(polys: &[MultiPolygon]) -> f64 {
    let mut scale = 0.0f64;
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in polys.iter().flat_map(|m| m.rings()).flatten() {
        scale = scale.max(p[0].abs()).max(p[1].abs());
        for k in 0..2 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    if lo[0].is_finite() {
        scale = scale.max(hi[0] - lo[0]).max(hi[1] - lo[1]);
    }
    if scale > 0.0 { scale * 1e-8 } else { 1e-12 }
}

#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(b as u64);
        }
    }
    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize];
        x = p;
    }
    x
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        // Keep the smaller index as root so results do not depend on visiting order.
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[hi as usize] = lo;
    }
}

/// Contiguity weights among `polys` (one entry per place, in order). Vertices within
/// `tolerance` of each other (in coordinate units) are one point; `0.0` matches coordinates
/// exactly, as libpysal does. See [`default_tolerance`].
pub fn contiguity(
    polys: &[MultiPolygon],
    kind: Contiguity,
    tolerance: f64,
) -> Result<Weights, Error> {
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(Error::InvalidInput(format!(
            "snapping tolerance must be a finite number >= 0, got {tolerance}"
        )));
    }
    if polys.len() > u32::MAX as usize {
        return Err(Error::InvalidInput("too many polygons".into()));
    }
    // Flatten every ring of every place.
    let mut xy: Vec<[f64; 2]> = Vec::new();
    let mut vpoly: Vec<u32> = Vec::new();
    let mut vring: Vec<u32> = Vec::new();
    let mut rings: Vec<(u32, u32)> = Vec::new();
    for (pi, mp) in polys.iter().enumerate() {
        for ring in mp.rings() {
            if ring.is_empty() {
                continue;
            }
            let start = xy.len();
            for p in ring {
                if !(p[0].is_finite() && p[1].is_finite()) {
                    return Err(Error::InvalidInput(format!(
                        "polygon {pi} has a non-finite coordinate {p:?}"
                    )));
                }
                xy.push([p[0] + 0.0, p[1] + 0.0]); // + 0.0 turns -0.0 into 0.0
                vpoly.push(pi as u32);
                vring.push(rings.len() as u32);
            }
            rings.push((start as u32, ring.len() as u32));
        }
    }
    let nv = xy.len();
    if nv > u32::MAX as usize {
        return Err(Error::InvalidInput("too many vertices".into()));
    }
    // A tolerance so small against the coordinates that x / tol overflows is exact matching.
    let scale = xy
        .iter()
        .fold(0.0f64, |m, p| m.max(p[0].abs()).max(p[1].abs()));
    // One so large that it merges distinct corners is a mistake (and would put most vertices in
    // a few hash cells, making the search quadratic).
    let extent = polys
        .iter()
        .filter_map(MultiPolygon::bbox)
        .fold(None, |acc: Option<[f64; 4]>, b| {
            Some(match acc {
                None => b,
                Some(a) => [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ],
            })
        })
        .map_or(0.0, |b| (b[2] - b[0]).max(b[3] - b[1]));
    if tolerance > 1e-3 * extent && tolerance > 0.0 && extent > 0.0 {
        return Err(Error::InvalidInput(format!(
            "snapping tolerance {tolerance} is more than 1/1000 of the map's extent ({extent}); \
             it would merge distinct corners. It is in the file's coordinate units (degrees for \
             lon/lat); leave it out for the default ({:e})",
            default_tolerance(polys)
        )));
    }
    let exact = tolerance == 0.0 || scale / tolerance > 1e15;
    let key = |p: &[f64; 2]| -> (i64, i64) {
        if exact {
            (p[0].to_bits() as i64, p[1].to_bits() as i64)
        } else {
            (
                (p[0] / tolerance).floor() as i64,
                (p[1] / tolerance).floor() as i64,
            )
        }
    };
    let keys: Vec<(i64, i64)> = xy.iter().map(key).collect();
    let mut order: Vec<u32> = (0..nv as u32).collect();
    order.sort_unstable_by_key(|&v| keys[v as usize]);
    let mut cells: FxMap<(i64, i64), (u32, u32)> = FxMap::default();
    cells.reserve(nv);
    let mut s = 0;
    while s < nv {
        let k = keys[order[s] as usize];
        let mut e = s + 1;
        while e < nv && keys[order[e] as usize] == k {
            e += 1;
        }
        cells.insert(k, (s as u32, e as u32));
        s = e;
    }
    // Union vertices within tolerance: own cell, then the four "forward" neighbour cells (the
    // other four are visited from the other side).
    let tol2 = tolerance * tolerance;
    let close = |a: u32, b: u32| {
        let (p, q) = (xy[a as usize], xy[b as usize]);
        if exact {
            p == q
        } else {
            let (dx, dy) = (p[0] - q[0], p[1] - q[1]);
            dx * dx + dy * dy <= tol2
        }
    };
    let mut parent: Vec<u32> = (0..nv as u32).collect();
    for (&(kx, ky), &(s, e)) in &cells {
        let own = &order[s as usize..e as usize];
        for a in 0..own.len() {
            for b in a + 1..own.len() {
                if close(own[a], own[b]) {
                    union(&mut parent, own[a], own[b]);
                }
            }
        }
        if exact {
            continue;
        }
        for (dx, dy) in [(1i64, -1i64), (1, 0), (1, 1), (0, 1)] {
            if let Some(&(s2, e2)) = cells.get(&(kx + dx, ky + dy)) {
                for &a in own {
                    for &b in &order[s2 as usize..e2 as usize] {
                        if close(a, b) {
                            union(&mut parent, a, b);
                        }
                    }
                }
            }
        }
    }
    let node: Vec<u32> = (0..nv as u32).map(|v| find(&mut parent, v)).collect();
    // Group vertices by node.
    let mut by_node: Vec<u32> = (0..nv as u32).collect();
    by_node.sort_unstable_by_key(|&v| (node[v as usize], vpoly[v as usize]));

    // Direction from vertex v to the next (step = 1) or previous (step = -1) vertex of its ring
    // that is a different point.
    let direction = |v: u32, forward: bool| -> Option<[f64; 2]> {
        let (start, len) = rings[vring[v as usize] as usize];
        let j = v - start;
        for k in 1..len {
            let u = if forward {
                start + (j + k) % len
            } else {
                start + (j + len - k) % len
            };
            if node[u as usize] != node[v as usize] {
                let (p, q) = (xy[v as usize], xy[u as usize]);
                return Some([q[0] - p[0], q[1] - p[1]]);
            }
        }
        None
    };
    let slack = 2.0 * tolerance;
    let same_line = |a: [f64; 2], b: [f64; 2]| -> bool {
        let dot = a[0] * b[0] + a[1] * b[1];
        if dot <= 0.0 {
            return false;
        }
        let (la, lb) = (a[0].hypot(a[1]), b[0].hypot(b[1]));
        let cross = (a[0] * b[1] - a[1] * b[0]).abs();
        // Distance of the shorter edge's far end from the longer edge's line.
        cross / la.max(lb) <= slack + 1e-9 * la.min(lb)
    };

    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut polys_here: Vec<u32> = Vec::new();
    let mut s = 0;
    while s < nv {
        let nd = node[by_node[s] as usize];
        let mut e = s + 1;
        while e < nv && node[by_node[e] as usize] == nd {
            e += 1;
        }
        let group = &by_node[s..e];
        polys_here.clear();
        polys_here.extend(group.iter().map(|&v| vpoly[v as usize]));
        polys_here.dedup(); // group is sorted by polygon
        if polys_here.len() >= 2 {
            match kind {
                Contiguity::Queen => {
                    for a in 0..polys_here.len() {
                        for b in a + 1..polys_here.len() {
                            pairs.push((polys_here[a], polys_here[b]));
                        }
                    }
                }
                Contiguity::Rook => {
                    for a in 0..group.len() {
                        let (va, pa) = (group[a], vpoly[group[a] as usize]);
                        let da = [direction(va, true), direction(va, false)];
                        for &vb in &group[a + 1..] {
                            let pb = vpoly[vb as usize];
                            if pb == pa {
                                continue;
                            }
                            let db = [direction(vb, true), direction(vb, false)];
                            let shared = da
                                .iter()
                                .flatten()
                                .any(|&x| db.iter().flatten().any(|&y| same_line(x, y)));
                            if shared {
                                pairs.push((pa.min(pb), pa.max(pb)));
                            }
                        }
                    }
                }
            }
        }
        s = e;
    }
    Ok(Weights::from_pairs(polys.len(), &pairs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Polygon;

    fn square(x: f64, y: f64, s: f64) -> MultiPolygon {
        MultiPolygon(vec![Polygon::new(vec![
            [x, y],
            [x + s, y],
            [x + s, y + s],
            [x, y + s],
        ])])
    }

    /// 3x3 unit squares, row by row.
    fn grid3() -> Vec<MultiPolygon> {
        let mut v = Vec::new();
        for r in 0..3 {
            for c in 0..3 {
                v.push(square(c as f64, r as f64, 1.0));
            }
        }
        v
    }

    #[test]
    fn queen_and_rook_on_a_grid_match_the_grid_builder() {
        let g = grid3();
        let q = contiguity(&g, Contiguity::Queen, 1e-9).unwrap();
        assert_eq!(q, Weights::grid_queen(3, 3));
        assert_eq!(q.neighbors(4).len(), 8);
        let r = contiguity(&g, Contiguity::Rook, 1e-9).unwrap();
        assert_eq!(r.to_lists()[4], vec![1, 3, 5, 7]);
        assert_eq!(r.to_lists()[0], vec![1, 3]);
        let exact = contiguity(&g, Contiguity::Rook, 0.0).unwrap();
        assert_eq!(exact, r);
    }

    #[test]
    fn snapping_absorbs_float_noise() {
        let mut g = grid3();
        // Nudge one shared corner of the centre cell by 1e-12 (a noise-sized disagreement).
        g[4].0[0].exterior[0][0] += 1e-12;
        let exact = contiguity(&g, Contiguity::Queen, 0.0).unwrap();
        assert!(exact.neighbors(4).len() < 8);
        let snapped = contiguity(&g, Contiguity::Queen, 1e-9).unwrap();
        assert_eq!(snapped, Weights::grid_queen(3, 3));
        // A point straddling a snapping cell boundary still matches (3x3 cell search).
        let t = 1e-3;
        let a = square(0.0, 0.0, 1.0 - 1e-9);
        let b = square(1.0 + 1e-9, 0.0, 1.0);
        let w = contiguity(&[a, b], Contiguity::Rook, t).unwrap();
        assert_eq!(w.to_lists(), vec![vec![1], vec![0]]);
    }

    #[test]
    fn rook_sees_t_junctions_and_queen_only_corners() {
        // Left: one tall cell; right: two cells, so the left cell's east edge has no vertex at
        // (1, 1) where the right cells meet (a T-junction).
        let left = MultiPolygon(vec![Polygon::new(vec![
            [0.0, 0.0],
            [1.0, 0.0],
            [1.0, 2.0],
            [0.0, 2.0],
        ])]);
        let rb = square(1.0, 0.0, 1.0);
        let rt = square(1.0, 1.0, 1.0);
        let corner = square(2.0, 2.0, 1.0); // touches rt at (2, 2) only
        let polys = [left, rb, rt, corner];
        let r = contiguity(&polys, Contiguity::Rook, 1e-9).unwrap();
        assert_eq!(
            r.to_lists(),
            vec![vec![1, 2], vec![0, 2], vec![0, 1], vec![]]
        );
        let q = contiguity(&polys, Contiguity::Queen, 1e-9).unwrap();
        assert_eq!(q.to_lists()[3], vec![2]);
        assert_eq!(r.islands(), vec![3]);
    }

    #[test]
    fn enclave_in_a_hole_is_a_neighbour() {
        let outer = MultiPolygon(vec![Polygon {
            exterior: vec![[0.0, 0.0], [3.0, 0.0], [3.0, 3.0], [0.0, 3.0]],
            holes: vec![vec![[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 1.0]]],
        }]);
        let inner = square(1.0, 1.0, 1.0);
        let w = contiguity(&[outer, inner], Contiguity::Rook, 1e-9).unwrap();
        assert_eq!(w.to_lists(), vec![vec![1], vec![0]]);
    }

    #[test]
    fn rejects_a_tolerance_that_merges_corners() {
        let e = contiguity(&grid3(), Contiguity::Queen, 0.1).unwrap_err();
        assert!(e.to_string().contains("1/1000"), "{e}");
        assert!(contiguity(&grid3(), Contiguity::Queen, f64::NAN).is_err());
    }

    #[test]
    fn from_lists_validates() {
        assert!(Weights::from_neighbor_lists(&[vec![1], vec![5]]).is_err());
        assert!(Weights::from_neighbor_lists(&[vec![0], vec![]]).is_err());
        let w = Weights::from_neighbor_lists(&[vec![1, 1], vec![]]).unwrap();
        assert_eq!(w.to_lists(), vec![vec![1], vec![]]);
        assert!(!w.is_symmetric());
    }
}
