//! A simulated country for benchmarks and demonstrations: mahalla polygons with realistic
//! contiguity, districts and regions, populations, and years of incidents with spatial
//! clustering. Everything is drawn from a seed; nothing here describes a real place, and every
//! record it makes is synthetic.
//!
//! * **Polygons.** A hexagonal tiling (pointy-top, circumradius `hex_m` metres) around
//!   Tashkent's coordinates, each shared corner and each edge's midpoint jittered once, so
//!   neighbouring mahallas share their border exactly (12 vertices per polygon, 6 neighbours
//!   inside the tiling, fewer on its edge), as in a clean boundary file.
//! * **Districts and regions.** Blocks of 10 x 5 mahallas form a district; districts are grouped
//!   into 14 regions.
//! * **Population.** Log-normal (median about 2,500) raised towards three city centres, clipped
//!   to 200..40,000; a share of mahallas (3%) has no known population.
//! * **Incidents.** Each mahalla's yearly rate is proportional to its population, times a
//!   district effect and a field of small hot spots (Gaussian bumps about 1.5 km wide), scaled so
//!   that the total is the configured number; a mild trend and a seasonal cycle. A third of a
//!   mahalla's incidents fall at one of three fixed places in it (a market, a bus stop), the
//!   rest uniformly around its centre. Sources: public reports, patrol finds (more where it is
//!   hot, as patrols go there), confirmed camera events and inspectors' records.
use domain::{Category, DistrictId, MahallaId, RegionId, Source, Timestamp};

use crate::data::{DAY_US, IncidentRecord, MahallaRecord, UZ_OFFSET_S, local_midnight};
use crate::geometry::{MultiPolygon, Polygon};
use crate::grid::LocalProjection;
use crate::rng::Rng;

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct NationalConfig {
    /// Mahallas per row and rows (100 x 100 = 10,000 mahallas).
    pub cols: usize,
    pub rows: usize,
    /// Hexagon circumradius in metres (600 m: about 0.94 km^2 per mahalla).
    pub hex_m: f64,
    /// Incidents over all years (about).
    pub incidents: usize,
    /// Years of incidents, from 1 January of `first_year` (local time).
    pub years: u32,
    pub first_year: i64,
    pub seed: u64,
}

impl Default for NationalConfig {
    fn default() -> Self {
        NationalConfig {
            cols: 100,
            rows: 100,
            hex_m: 600.0,
            incidents: 700_000,
            years: 5,
            first_year: 2021,
            seed: 2024,
        }
    }
}

/// The simulated country.
#[derive(Debug, Clone)]
pub struct National {
    /// One polygon per mahalla (lon/lat), in the order of `mahallas`.
    pub polygons: Vec<MultiPolygon>,
    pub mahallas: Vec<MahallaRecord>,
    /// Polygon areas in km^2.
    pub areas_km2: Vec<f64>,
    /// Incidents in time order.
    pub incidents: Vec<IncidentRecord>,
    /// 1 January of the first year and of the year after the last, local time.
    pub start: Timestamp,
    pub end: Timestamp,
    /// A 20 km x 20 km box around the largest city, `[min_lon, min_lat, max_lon, max_lat]`.
    pub city_bbox: [f64; 4],
}

const CATEGORIES: [(Category, f64); 9] = [
    (Category::Theft, 0.30),
    (Category::PublicOrder, 0.15),
    (Category::Violence, 0.10),
    (Category::Fraud, 0.10),
    (Category::Traffic, 0.10),
    (Category::Cybercrime, 0.08),
    (Category::Domestic, 0.08),
    (Category::DrugOffence, 0.05),
    (Category::Other, 0.04),
];

fn pick<T: Copy>(rng: &mut Rng, table: &[(T, f64)]) -> T {
    let total: f64 = table.iter().map(|t| t.1).sum();
    let mut u = rng.next_f64() * total;
    for &(v, w) in table {
        if u < w {
            return v;
        }
        u -= w;
    }
    table[table.len() - 1].0
}

fn normal(rng: &mut Rng) -> f64 {
    // Box-Muller.
    let u1 = rng.next_f64().max(1e-300);
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A Poisson draw (Knuth's method, in pieces of mean <= 30 so large means cost O(mean) without
/// underflow).
pub fn poisson(rng: &mut Rng, lambda: f64) -> u64 {
    let mut left = lambda.max(0.0);
    let mut total = 0;
    while left > 0.0 {
        let l = left.min(30.0);
        left -= l;
        let limit = (-l).exp();
        let mut p = 1.0;
        loop {
            p *= rng.next_f64();
            if p <= limit {
                break;
            }
            total += 1;
        }
    }
    total
}

/// A jitter for a lattice key, the same wherever the key is met.
fn keyed(seed: u64, kx: i64, ky: i64, salt: u64) -> (f64, f64) {
    let h = seed
        ^ (kx as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (ky as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ salt.wrapping_mul(0x1656_67B1_9E37_79F9);
    let mut r = Rng::seed_from_u64(h);
    (r.next_f64() - 0.5, r.next_f64() - 0.5)
}

/// Simulate a country (see the module notes).
pub fn simulate_national(cfg: &NationalConfig) -> National {
    let (cols, rows, s) = (cfg.cols, cfg.rows, cfg.hex_m);
    let n = cols * rows;
    let ux = 3f64.sqrt() / 2.0 * s; // metres per lattice unit in x
    let uy = s / 2.0; // in y
    let width = (2 * cols + 1) as f64 * ux;
    let height = (3 * rows) as f64 * uy;
    let proj = LocalProjection::new(69.25, 41.30);
    let (x0, y0) = (-width / 2.0, -height / 2.0);
    let corner = |kx: i64, ky: i64| -> [f64; 2] {
        let (jx, jy) = keyed(cfg.seed, kx, ky, 1);
        [
            x0 + kx as f64 * ux + jx * 0.3 * s,
            y0 + ky as f64 * uy + jy * 0.3 * s,
        ]
    };
    let mid = |a: (i64, i64), b: (i64, i64), pa: [f64; 2], pb: [f64; 2]| -> [f64; 2] {
        let (jx, jy) = keyed(cfg.seed, a.0 + b.0, a.1 + b.1, 2);
        [
            (pa[0] + pb[0]) / 2.0 + jx * 0.16 * s,
            (pa[1] + pb[1]) / 2.0 + jy * 0.16 * s,
        ]
    };
    let mut polygons = Vec::with_capacity(n);
    let mut areas_km2 = Vec::with_capacity(n);
    let mut centres = Vec::with_capacity(n);
    for r in 0..rows {
        for c in 0..cols {
            let cx = 2 * c as i64 + (r as i64 & 1) + 1;
            let cy = 3 * r as i64 + 2;
            let keys = [
                (cx + 1, cy + 1),
                (cx, cy + 2),
                (cx - 1, cy + 1),
                (cx - 1, cy - 1),
                (cx, cy - 2),
                (cx + 1, cy - 1),
            ];
            let pts: Vec<[f64; 2]> = keys.iter().map(|&(kx, ky)| corner(kx, ky)).collect();
            let mut ring = Vec::with_capacity(12);
            for k in 0..6 {
                let k2 = (k + 1) % 6;
                ring.push(pts[k]);
                // The midpoint key is symmetric in the two corners, so both hexagons sharing
                // the edge compute the same point.
                let (a, b) = if keys[k] < keys[k2] {
                    ((keys[k], pts[k]), (keys[k2], pts[k2]))
                } else {
                    ((keys[k2], pts[k2]), (keys[k], pts[k]))
                };
                ring.push(mid(a.0, b.0, a.1, b.1));
            }
            let poly_m = Polygon::new(ring.clone());
            areas_km2.push(poly_m.area().abs() / 1e6);
            centres.push([x0 + cx as f64 * ux, y0 + cy as f64 * uy]);
            let ll: Vec<[f64; 2]> = ring.iter().map(|&q| proj.inverse(q)).collect();
            polygons.push(MultiPolygon(vec![Polygon::new(ll)]));
        }
    }

    let mut rng = Rng::seed_from_u64(cfg.seed);
    // Cities: (x, y, sigma metres, weight); the first is the largest.
    let cities = [
        (0.05 * width, 0.08 * height, 0.09 * width.min(height), 1.0),
        (-0.28 * width, -0.22 * height, 0.06 * width.min(height), 0.6),
        (0.30 * width, -0.30 * height, 0.05 * width.min(height), 0.45),
    ];
    let urban = |q: [f64; 2]| -> f64 {
        cities
            .iter()
            .map(|&(x, y, sg, w)| {
                w * (-((q[0] - x).powi(2) + (q[1] - y).powi(2)) / (2.0 * sg * sg)).exp()
            })
            .sum::<f64>()
            .min(1.0)
    };
    // Small hot spots, more of them in cities.
    let mut bumps = Vec::new();
    while bumps.len() < 80 {
        let q = [
            (rng.next_f64() - 0.5) * width,
            (rng.next_f64() - 0.5) * height,
        ];
        if rng.next_f64() < 0.15 + 0.85 * urban(q) {
            bumps.push((
                q,
                700.0 + 1500.0 * rng.next_f64(),
                1.0 + 5.0 * rng.next_f64(),
            ));
        }
    }
    let hot = |q: [f64; 2]| -> f64 {
        bumps
            .iter()
            .map(|&(b, sg, a): &([f64; 2], f64, f64)| {
                a * (-((q[0] - b[0]).powi(2) + (q[1] - b[1]).powi(2)) / (2.0 * sg * sg)).exp()
            })
            .sum()
    };
    let dcols = cols.div_ceil(10);
    let drows = rows.div_ceil(5);
    let district_effect: Vec<f64> = (0..dcols * drows)
        .map(|_| (0.35 * normal(&mut rng)).exp())
        .collect();
    let mut mahallas = Vec::with_capacity(n);
    let mut lambda = Vec::with_capacity(n);
    let mut hotness = Vec::with_capacity(n);
    for r in 0..rows {
        for c in 0..cols {
            let i = r * cols + c;
            let (dc, dr) = (c / 10, r / 5);
            let d = dr * dcols + dc;
            let region = (dc * 2 / dcols) + 2 * (dr * 7 / drows);
            let q = centres[i];
            let u = urban(q);
            let pop =
                (2500.0 * (0.5 * normal(&mut rng)).exp() * (1.0 + 4.0 * u)).clamp(200.0, 40_000.0);
            let known = rng.next_f64() >= 0.03;
            let h = hot(q);
            hotness.push((h / 3.0).min(1.0));
            lambda.push(pop / 1000.0 * district_effect[d] * (1.0 + 2.0 * u) * (1.0 + h));
            mahallas.push(MahallaRecord {
                id: MahallaId(i as i64 + 1),
                district: DistrictId(1000 + d as i64),
                region: RegionId(region as i64 + 1),
                population: known.then_some(pop.round() as u32),
            });
        }
    }
    let trend = |y: u32| 1.0 + 0.04 * (f64::from(y) - 2.0);
    let total_lambda: f64 = lambda.iter().sum::<f64>() * (0..cfg.years).map(trend).sum::<f64>();
    let scale = cfg.incidents as f64 / total_lambda;
    let start = local_midnight(cfg.first_year, 1, 1, UZ_OFFSET_S);
    let end = local_midnight(cfg.first_year + i64::from(cfg.years), 1, 1, UZ_OFFSET_S);
    let mut incidents = Vec::with_capacity(cfg.incidents + cfg.incidents / 20);
    for (i, m) in mahallas.iter().enumerate() {
        let c = centres[i];
        let places: Vec<[f64; 2]> = (0..3)
            .map(|_| {
                let (a, rr) = (
                    rng.next_f64() * std::f64::consts::TAU,
                    0.5 * s * rng.next_f64(),
                );
                [c[0] + rr * a.cos(), c[1] + rr * a.sin()]
            })
            .collect();
        let p_patrol = 0.15 + 0.25 * hotness[i];
        let sources = [
            (Source::Public, 0.55),
            (Source::Patrol, p_patrol),
            (Source::Camera, 0.12),
            (Source::Inspector, 0.08),
        ];
        for y in 0..cfg.years {
            let ys = local_midnight(cfg.first_year + i64::from(y), 1, 1, UZ_OFFSET_S);
            let ye = local_midnight(cfg.first_year + i64::from(y) + 1, 1, 1, UZ_OFFSET_S);
            let year_us = ye.unix_micros() - ys.unix_micros();
            let k = poisson(&mut rng, lambda[i] * scale * trend(y));
            for _ in 0..k {
                // Seasonal: more in summer (peak mid-July), accept-reject.
                let t = loop {
                    let f = rng.next_f64();
                    let season = 1.0 + 0.25 * (std::f64::consts::TAU * (f - 0.29)).sin();
                    if rng.next_f64() * 1.25 < season {
                        break f;
                    }
                };
                let at = ys.unix_micros() + (t * year_us as f64) as i64;
                let q = if rng.next_f64() < 1.0 / 3.0 {
                    let p = places[rng.below(3) as usize];
                    [
                        p[0] + 30.0 * normal(&mut rng),
                        p[1] + 30.0 * normal(&mut rng),
                    ]
                } else {
                    let (a, rr) = (
                        rng.next_f64() * std::f64::consts::TAU,
                        0.6 * s * rng.next_f64().sqrt(),
                    );
                    [c[0] + rr * a.cos(), c[1] + rr * a.sin()]
                };
                incidents.push(IncidentRecord {
                    at: Timestamp::from_unix_micros(at).unwrap_or(ys),
                    mahalla: m.id,
                    category: pick(&mut rng, &CATEGORIES),
                    source: pick(&mut rng, &sources),
                    point: Some(proj.inverse(q)),
                });
            }
        }
    }
    incidents.sort_by_key(|inc| inc.at);
    let (cx, cy, _, _) = cities[0];
    let lo = proj.inverse([cx - 10_000.0, cy - 10_000.0]);
    let hi = proj.inverse([cx + 10_000.0, cy + 10_000.0]);
    debug_assert!(end.unix_micros() - start.unix_micros() >= 365 * DAY_US);
    National {
        polygons,
        mahallas,
        areas_km2,
        incidents,
        start,
        end,
        city_bbox: [lo[0], lo[1], hi[0], hi[1]],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::{Contiguity, contiguity, default_tolerance};

    #[test]
    fn small_country_is_consistent() {
        let cfg = NationalConfig {
            cols: 20,
            rows: 10,
            incidents: 20_000,
            years: 2,
            ..Default::default()
        };
        let a = simulate_national(&cfg);
        let b = simulate_national(&cfg);
        assert_eq!(a.incidents, b.incidents, "same seed, same country");
        assert_eq!(a.polygons.len(), 200);
        // Contiguity: shared borders found exactly; inside the tiling 6 neighbours each.
        let w = contiguity(
            &a.polygons,
            Contiguity::Rook,
            default_tolerance(&a.polygons),
        )
        .unwrap();
        assert!(w.is_symmetric());
        assert!(w.islands().is_empty());
        assert_eq!(w.max_cardinality(), 6);
        // Interior mahalla (row 5, column 10) has 6.
        assert_eq!(w.cardinality(5 * 20 + 10), 6);
        let mean = w.nnz() as f64 / 200.0;
        assert!((5.0..6.0).contains(&mean), "{mean}");
        // About the number of incidents asked for, all inside the period, in time order.
        let k = a.incidents.len() as f64;
        assert!((k - 20_000.0).abs() < 1_000.0, "{k}");
        assert!(a.incidents.windows(2).all(|p| p[0].at <= p[1].at));
        assert!(a.incidents.iter().all(|i| a.start <= i.at && i.at < a.end));
        // Areas about 0.94 km^2.
        let area: f64 = a.areas_km2.iter().sum::<f64>() / 200.0;
        assert!((area - 0.935).abs() < 0.05, "{area}");
        // Clustered: the busiest tenth of mahallas hold well over a tenth of incidents.
        let mut per = vec![0u64; 200];
        for i in &a.incidents {
            per[(i.mahalla.0 - 1) as usize] += 1;
        }
        per.sort_unstable_by(|x, y| y.cmp(x));
        let top: u64 = per[..20].iter().sum();
        assert!(top as f64 > 0.2 * k, "{top} of {k}");
        // Some populations unknown, most known.
        let unknown = a.mahallas.iter().filter(|m| m.population.is_none()).count();
        assert!(unknown < 20);
    }

    #[test]
    fn poisson_draws_have_the_right_mean() {
        let mut r = Rng::seed_from_u64(1);
        for lambda in [0.5, 7.0, 120.0] {
            let m: f64 = (0..20_000)
                .map(|_| poisson(&mut r, lambda) as f64)
                .sum::<f64>()
                / 20_000.0;
            assert!(
                (m - lambda).abs() < 4.0 * (lambda / 20_000.0).sqrt() + 1e-9,
                "{lambda}: {m}"
            );
        }
    }
}
