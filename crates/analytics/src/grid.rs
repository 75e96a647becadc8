//! Square cells over incident points: counts per cell (for Gi* on a grid, with queen contiguity
//! among cells) and quartic kernel density.
//!
//! Points are lon/lat degrees (WGS 84). They are projected to a local equirectangular plane in
//! metres around a reference point: `x = R (lon - lon0) cos(lat0)`, `y = R (lat - lat0)` (angles
//! in radians, `R` = 6,371,008.8 m, the mean Earth radius). Over a city (tens of km) the scale
//! error is far below a cell; over a whole country use one grid per city or region.
use crate::Error;
use crate::gistar::{GiStar, GiStarConfig, gi_star};
use crate::weights::Weights;

/// Mean Earth radius in metres (IUGG).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Most cells a grid may have (a 10 km x 10 km city at 1 m cells, or 100 million cells).
pub const MAX_CELLS: usize = 100_000_000;

/// Local equirectangular projection around `(lon0, lat0)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocalProjection {
    pub lon0: f64,
    pub lat0: f64,
    /// Metres per degree of longitude at `lat0`.
    pub m_per_deg_lon: f64,
    /// Metres per degree of latitude.
    pub m_per_deg_lat: f64,
}

impl LocalProjection {
    /// Projection centred on `(lon0, lat0)`.
    pub fn new(lon0: f64, lat0: f64) -> Self {
        let m_per_deg_lat = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        LocalProjection {
            lon0,
            lat0,
            m_per_deg_lon: m_per_deg_lat * lat0.to_radians().cos(),
            m_per_deg_lat,
        }
    }

    /// `[lon, lat]` to `[x, y]` metres.
    #[inline]
    pub fn forward(&self, p: [f64; 2]) -> [f64; 2] {
        [
            (p[0] - self.lon0) * self.m_per_deg_lon,
            (p[1] - self.lat0) * self.m_per_deg_lat,
        ]
    }

    /// `[x, y]` metres to `[lon, lat]`.
    #[inline]
    pub fn inverse(&self, q: [f64; 2]) -> [f64; 2] {
        [
            self.lon0 + q[0] / self.m_per_deg_lon,
            self.lat0 + q[1] / self.m_per_deg_lat,
        ]
    }
}

fn check_lonlat(points: &[[f64; 2]]) -> Result<(), Error> {
    for (i, p) in points.iter().enumerate() {
        let ok = p[0].is_finite()
            && p[1].is_finite()
            && (-180.0..=180.0).contains(&p[0])
            && (-90.0..=90.0).contains(&p[1]);
        if !ok {
            return Err(Error::InvalidInput(format!(
                "point {i} is ({}, {}), not a (longitude, latitude) pair in degrees; \
                 points are [lon, lat] (x first): are the two swapped or projected?",
                p[0], p[1]
            )));
        }
    }
    Ok(())
}

/// A grid of `nx` by `ny` square cells of `cell_m` metres, lower-left corner at `(x0, y0)` in
/// the projection's plane. Cells are numbered row by row from the south-west:
/// `index = row * nx + col`.
#[derive(Clone, Debug, PartialEq)]
pub struct GridSpec {
    pub projection: LocalProjection,
    pub x0: f64,
    pub y0: f64,
    pub cell_m: f64,
    pub nx: usize,
    pub ny: usize,
}

impl GridSpec {
    /// A grid with the given corner and size; errors on a non-positive cell or too many cells.
    pub fn new(
        projection: LocalProjection,
        x0: f64,
        y0: f64,
        cell_m: f64,
        nx: usize,
        ny: usize,
    ) -> Result<Self, Error> {
        if !(cell_m.is_finite() && cell_m > 0.0) {
            return Err(Error::InvalidInput(format!(
                "cell size must be a positive number of metres, got {cell_m}"
            )));
        }
        if nx == 0 || ny == 0 || nx.saturating_mul(ny) > MAX_CELLS {
            return Err(Error::InvalidInput(format!(
                "a grid of {nx} x {ny} cells is outside 1..={MAX_CELLS} cells; use larger cells or a smaller area"
            )));
        }
        Ok(GridSpec {
            projection,
            x0,
            y0,
            cell_m,
            nx,
            ny,
        })
    }

    /// The smallest grid of `cell_m` cells covering every point plus `margin_m` on each side,
    /// projected around the centre of the points' bounding box.
    pub fn covering(points: &[[f64; 2]], cell_m: f64, margin_m: f64) -> Result<Self, Error> {
        check_lonlat(points)?;
        if points.is_empty() {
            return Err(Error::InvalidInput(
                "no points to build a grid around".into(),
            ));
        }
        if !(margin_m.is_finite() && margin_m >= 0.0) {
            return Err(Error::InvalidInput(format!(
                "margin must be >= 0 metres, got {margin_m}"
            )));
        }
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in points {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        let proj = LocalProjection::new((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0);
        let a = proj.forward(lo);
        let b = proj.forward(hi);
        let (x0, y0) = (a[0] - margin_m, a[1] - margin_m);
        let cells = |span: f64| ((span + 2.0 * margin_m) / cell_m).floor() as usize + 1;
        if !(cell_m.is_finite() && cell_m > 0.0) {
            return Err(Error::InvalidInput(format!(
                "cell size must be a positive number of metres, got {cell_m}"
            )));
        }
        GridSpec::new(proj, x0, y0, cell_m, cells(b[0] - a[0]), cells(b[1] - a[1]))
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.nx * self.ny
    }

    /// Always false (a grid has at least one cell).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell holding plane point `q`, if inside the grid.
    #[inline]
    pub fn cell_of_xy(&self, q: [f64; 2]) -> Option<usize> {
        let c = ((q[0] - self.x0) / self.cell_m).floor();
        let r = ((q[1] - self.y0) / self.cell_m).floor();
        if c >= 0.0 && r >= 0.0 && (c as usize) < self.nx && (r as usize) < self.ny {
            Some(r as usize * self.nx + c as usize)
        } else {
            None
        }
    }

    /// The cell holding `[lon, lat]`, if inside the grid.
    pub fn cell_of_lonlat(&self, p: [f64; 2]) -> Option<usize> {
        self.cell_of_xy(self.projection.forward(p))
    }

    /// Centre of cell `i` in the plane.
    pub fn cell_center_xy(&self, i: usize) -> [f64; 2] {
        let (r, c) = (i / self.nx, i % self.nx);
        [
            self.x0 + (c as f64 + 0.5) * self.cell_m,
            self.y0 + (r as f64 + 0.5) * self.cell_m,
        ]
    }

    /// Centre of cell `i` as `[lon, lat]`.
    pub fn cell_center_lonlat(&self, i: usize) -> [f64; 2] {
        self.projection.inverse(self.cell_center_xy(i))
    }

    /// The four corners of cell `i` as `[lon, lat]`, counter-clockwise from the south-west (for
    /// drawing the cell as a GeoJSON polygon, close the ring by repeating the first).
    pub fn cell_ring_lonlat(&self, i: usize) -> [[f64; 2]; 4] {
        let [cx, cy] = self.cell_center_xy(i);
        let h = self.cell_m / 2.0;
        [
            [cx - h, cy - h],
            [cx + h, cy - h],
            [cx + h, cy + h],
            [cx - h, cy + h],
        ]
        .map(|q| self.projection.inverse(q))
    }

    /// Queen contiguity among the cells.
    pub fn queen_weights(&self) -> Weights {
        Weights::grid_queen(self.nx, self.ny)
    }
}

/// Incidents per cell. Returns the counts (one per cell, as `f64` for Gi*) and how many points
/// fell outside the grid.
pub fn count_points(points: &[[f64; 2]], spec: &GridSpec) -> Result<(Vec<f64>, usize), Error> {
    check_lonlat(points)?;
    let mut counts = vec![0.0; spec.len()];
    let mut outside = 0;
    for &p in points {
        match spec.cell_of_lonlat(p) {
            Some(i) => counts[i] += 1.0,
            None => outside += 1,
        }
    }
    Ok((counts, outside))
}

/// Gi* on the grid: counts per cell, queen contiguity among cells, then [`gi_star`]. Points
/// outside the grid are an error (build the grid with [`GridSpec::covering`]).
pub fn grid_gi_star(
    points: &[[f64; 2]],
    spec: &GridSpec,
    cfg: &GiStarConfig,
) -> Result<(Vec<f64>, GiStar), Error> {
    let (counts, outside) = count_points(points, spec)?;
    if outside > 0 {
        return Err(Error::InvalidInput(format!(
            "{outside} of {} points fall outside the grid; build it with GridSpec::covering",
            points.len()
        )));
    }
    let g = gi_star(&counts, &spec.queen_weights(), cfg)?;
    Ok((counts, g))
}

/// Quartic (biweight) kernel density at every cell centre, in points per square kilometre:
/// `sum_i w_i * 3 / (pi h^2) * (1 - d_i^2 / h^2)^2` over points within `h` = `bandwidth_m` metres
/// of the centre (the kernel integrates to 1, so the grid sums to about the number of points
/// times `cell_m^2 / 1e6` when the grid covers them with a margin of `h`). `weights` (one per
/// point, >= 0) defaults to 1 each.
pub fn kernel_density(
    points: &[[f64; 2]],
    weights: Option<&[f64]>,
    bandwidth_m: f64,
    spec: &GridSpec,
) -> Result<Vec<f64>, Error> {
    check_lonlat(points)?;
    if !(bandwidth_m.is_finite() && bandwidth_m > 0.0) {
        return Err(Error::InvalidInput(format!(
            "bandwidth must be a positive number of metres, got {bandwidth_m}"
        )));
    }
    if let Some(w) = weights {
        if w.len() != points.len() {
            return Err(Error::InvalidInput(format!(
                "{} weights for {} points",
                w.len(),
                points.len()
            )));
        }
        if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(Error::InvalidInput(format!(
                "weight {i} is {}; weights must be finite and >= 0",
                w[i]
            )));
        }
    }
    let h = bandwidth_m;
    let h2 = h * h;
    let norm = 3.0 / (std::f64::consts::PI * h2) * 1e6; // per km^2
    let mut dens = vec![0.0; spec.len()];
    let cell = spec.cell_m;
    for (k, &p) in points.iter().enumerate() {
        let wk = weights.map_or(1.0, |w| w[k]);
        if wk == 0.0 {
            continue;
        }
        let [x, y] = spec.projection.forward(p);
        // Cells whose centre lies within h: centre = x0 + (c + 0.5) cell.
        let c_lo = ((x - h - spec.x0) / cell - 0.5).ceil().max(0.0);
        let c_hi = ((x + h - spec.x0) / cell - 0.5).floor();
        let r_lo = ((y - h - spec.y0) / cell - 0.5).ceil().max(0.0);
        let r_hi = ((y + h - spec.y0) / cell - 0.5).floor();
        if c_hi < 0.0 || r_hi < 0.0 || c_lo > c_hi || r_lo > r_hi {
            continue;
        }
        let c_hi = (c_hi as usize).min(spec.nx - 1);
        let r_hi = (r_hi as usize).min(spec.ny - 1);
        for r in r_lo as usize..=r_hi {
            let dy = spec.y0 + (r as f64 + 0.5) * cell - y;
            let row = &mut dens[r * spec.nx..(r + 1) * spec.nx];
            for (c, d) in row
                .iter_mut()
                .enumerate()
                .take(c_hi + 1)
                .skip(c_lo as usize)
            {
                let dx = spec.x0 + (c as f64 + 0.5) * cell - x;
                let d2 = dx * dx + dy * dy;
                if d2 < h2 {
                    let t = 1.0 - d2 / h2;
                    *d += wk * norm * t * t;
                }
            }
        }
    }
    Ok(dens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_round_trip_and_scale() {
        let p = LocalProjection::new(69.24, 41.31); // Tashkent
        let q = p.forward([69.25, 41.32]);
        let back = p.inverse(q);
        assert!((back[0] - 69.25).abs() < 1e-12 && (back[1] - 41.32).abs() < 1e-12);
        // 0.01 degree of latitude is ~1112 m; of longitude at 41.3 N ~835 m.
        assert!((q[1] - 1111.95).abs() < 0.1, "{q:?}");
        assert!((q[0] - 835.5).abs() < 1.0, "{q:?}");
    }

    #[test]
    fn counts_and_grid_cover_points() {
        let pts = [[69.24, 41.31], [69.2401, 41.3101], [69.30, 41.35]];
        let g = GridSpec::covering(&pts, 100.0, 0.0).unwrap();
        let (c, outside) = count_points(&pts, &g).unwrap();
        assert_eq!(outside, 0);
        assert_eq!(c.iter().sum::<f64>(), 3.0);
        assert_eq!(c[g.cell_of_lonlat(pts[0]).unwrap()], 2.0);
        assert!(count_points(&[[41.31, 269.0]], &g).is_err());
    }

    #[test]
    fn kde_integrates_to_the_number_of_points() {
        let pts = [[69.24, 41.31], [69.245, 41.312], [69.25, 41.30]];
        let g = GridSpec::covering(&pts, 10.0, 600.0).unwrap();
        let d = kernel_density(&pts, None, 500.0, &g).unwrap();
        let total: f64 = d.iter().sum::<f64>() * 10.0 * 10.0 / 1e6;
        assert!((total - 3.0).abs() < 0.01, "{total}");
        // Peak near a point, zero far away.
        let at = g.cell_of_lonlat(pts[0]).unwrap();
        assert!(d[at] > 0.0 && d[0] == 0.0);
        let w = kernel_density(&pts, Some(&[2.0, 0.0, 1.0]), 500.0, &g).unwrap();
        let total_w: f64 = w.iter().sum::<f64>() * 100.0 / 1e6;
        assert!((total_w - 3.0).abs() < 0.01, "{total_w}");
    }

    #[test]
    fn grid_gi_star_finds_a_planted_cluster() {
        // Background points spread over a 2 km square, plus a dense cluster.
        let mut rng = crate::rng::Rng::seed_from_u64(3);
        let mut pts = Vec::new();
        for _ in 0..400 {
            pts.push([69.2 + 0.024 * rng.next_f64(), 41.3 + 0.018 * rng.next_f64()]);
        }
        // A cluster about 600 m across (3 x 3 cells): conditional permutation holds a cell's own
        // count fixed and asks whether its neighbours are high, so a one-cell spike is not a
        // hot spot but a cluster is.
        for _ in 0..300 {
            pts.push([
                69.209 + 0.007 * rng.next_f64(),
                41.306 + 0.0054 * rng.next_f64(),
            ]);
        }
        let spec = GridSpec::covering(&pts, 200.0, 0.0).unwrap();
        // ~100 cells: with 999 permutations the smallest two-sided p (0.002) needs several
        // cells at that level to pass the FDR correction (k * 0.05 / 100), so use more.
        let cfg = GiStarConfig {
            permutations: 9999,
            ..GiStarConfig::default()
        };
        let (_, g) = grid_gi_star(&pts, &spec, &cfg).unwrap();
        let centre = spec.cell_of_lonlat([69.2125, 41.3087]).unwrap();
        assert!(g.class[centre].is_hot(), "{:?}", g.class[centre]);
        let hot = g.class.iter().filter(|c| c.is_hot()).count();
        assert!(hot < spec.len() / 4, "{hot} of {}", spec.len());
    }
}
