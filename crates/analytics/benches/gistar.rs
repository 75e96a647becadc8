//! Gi* on 10,000 polygons with 999 permutations: a synthetic 100 x 100 mesh of jittered
//! quadrilaterals (each edge split in three, shared corners and edge points shared exactly, as in
//! a topologically clean boundary file), with counts drawn from three planted hot regions.
//!
//!   cargo bench -p analytics --bench gistar -- [--side 100] [--permutations 999] [--runs 5]
//!       [--write-geojson /tmp/grid.geojson]
//!
//! `--write-geojson` writes the polygons with their `count` and posbon's `posbon_z`, so that
//! `tools/esda_bench.py` times esda on the very same data (and checks the z-scores agree).
use analytics::geometry::{MultiPolygon, Polygon};
use analytics::rng::Rng;
use analytics::{
    Contiguity, GiStarConfig, contiguity, default_tolerance, gi_star, parse_feature_collection,
};
use std::time::Instant;

struct Args {
    side: usize,
    permutations: usize,
    runs: usize,
    write: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        side: 100,
        permutations: 999,
        runs: 5,
        write: None,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < v.len() {
        let next = |i: usize| v.get(i + 1).cloned().expect("flag needs a value");
        match v[i].as_str() {
            "--side" => a.side = next(i).parse().expect("--side N"),
            "--permutations" => a.permutations = next(i).parse().expect("--permutations N"),
            "--runs" => a.runs = next(i).parse().expect("--runs N"),
            "--write-geojson" => a.write = Some(next(i)),
            _ => {
                i += 1; // `--bench` and other harness flags
                continue;
            }
        }
        i += 2;
    }
    a
}

fn poisson(rng: &mut Rng, lambda: f64) -> f64 {
    // Knuth's method; fine for the small means used here.
    let l = (-lambda).exp();
    let (mut k, mut p) = (0.0, 1.0);
    loop {
        p *= rng.next_f64();
        if p <= l {
            return k;
        }
        k += 1.0;
    }
}

/// The mesh (lon/lat around Tashkent, cells ~0.01 degree) and its counts.
fn synthetic(side: usize) -> (Vec<MultiPolygon>, Vec<f64>) {
    let mut rng = Rng::seed_from_u64(2024);
    let step = 0.01;
    let (lon0, lat0) = (69.0, 41.0);
    // Jittered lattice corners, shared by the four cells around each.
    let corners: Vec<[f64; 2]> = (0..=side)
        .flat_map(|r| (0..=side).map(move |c| (r, c)))
        .map(|(r, c)| {
            let j = |rng: &mut Rng| (rng.next_f64() - 0.5) * 0.4 * step;
            let (jx, jy) = (j(&mut rng), j(&mut rng));
            [lon0 + c as f64 * step + jx, lat0 + r as f64 * step + jy]
        })
        .collect();
    let at = |r: usize, c: usize| corners[r * (side + 1) + c];
    // Points one and two thirds along an edge (computed from the edge's endpoints in a fixed
    // order, so both cells sharing it get bit-identical coordinates).
    let split = |a: [f64; 2], b: [f64; 2]| -> [[f64; 2]; 2] {
        let f = |t: f64| [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
        [f(1.0 / 3.0), f(2.0 / 3.0)]
    };
    let mut polys = Vec::with_capacity(side * side);
    let mut y = Vec::with_capacity(side * side);
    let hot = [(0.25, 0.3, 0.08), (0.7, 0.65, 0.12), (0.4, 0.8, 0.05)];
    for r in 0..side {
        for c in 0..side {
            let (sw, se, ne, nw) = (at(r, c), at(r, c + 1), at(r + 1, c + 1), at(r + 1, c));
            let south = split(sw, se);
            let east = split(se, ne);
            let north = split(nw, ne); // west to east, walked backwards below
            let west = split(sw, nw);
            let ring = vec![
                sw, south[0], south[1], se, east[0], east[1], ne, north[1], north[0], nw, west[1],
                west[0],
            ];
            polys.push(MultiPolygon(vec![Polygon::new(ring)]));
            let (u, v) = (c as f64 / side as f64, r as f64 / side as f64);
            let lambda = 1.0
                + hot
                    .iter()
                    .map(|&(hu, hv, s): &(f64, f64, f64)| {
                        8.0 * (-((u - hu).powi(2) + (v - hv).powi(2)) / (2.0 * s * s)).exp()
                    })
                    .sum::<f64>();
            y.push(poisson(&mut rng, lambda));
        }
    }
    (polys, y)
}

fn to_geojson(polys: &[MultiPolygon], y: &[f64], z: &[f64]) -> String {
    let feats: Vec<serde_json::Value> = polys
        .iter()
        .zip(y.iter().zip(z))
        .enumerate()
        .map(|(i, (p, (y, z)))| {
            let mut ring: Vec<[f64; 2]> = p.0[0].exterior.clone();
            ring.push(ring[0]);
            serde_json::json!({
                "type": "Feature",
                "id": i,
                "properties": {"count": y, "posbon_z": z},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            })
        })
        .collect();
    serde_json::json!({"type": "FeatureCollection", "features": feats}).to_string()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    let a = args();
    let (polys, y) = synthetic(a.side);
    let n = polys.len();
    let tol = default_tolerance(&polys);
    let cfg = GiStarConfig {
        permutations: a.permutations,
        seed: 12345,
        fdr: true,
    };
    let (mut t_w, mut t_g) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..a.runs.max(1) {
        let t = Instant::now();
        let w = contiguity(&polys, Contiguity::Queen, tol).unwrap();
        t_w.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let g = gi_star(&y, &w, &cfg).unwrap();
        t_g.push(t.elapsed().as_secs_f64());
        last = Some((w, g));
    }
    let (w, g) = last.unwrap();
    let text = to_geojson(&polys, &y, &g.z);
    let t = Instant::now();
    let parsed = parse_feature_collection(&text).unwrap();
    let t_parse = t.elapsed().as_secs_f64();
    assert_eq!(parsed.len(), n);
    let hot = g.class.iter().filter(|c| c.is_hot()).count();
    let cold = g.class.iter().filter(|c| c.is_cold()).count();
    println!(
        "posbon Gi*: {n} polygons, {} queen links (max {} neighbours), {} permutations, parallel feature {}",
        w.nnz(),
        w.max_cardinality(),
        a.permutations,
        cfg!(feature = "parallel")
    );
    println!(
        "  queen weights from geometry: median {:.4} s (min {:.4}) over {} runs",
        median(t_w.clone()),
        t_w.iter().cloned().fold(f64::INFINITY, f64::min),
        t_w.len()
    );
    println!(
        "  Gi* + {} permutations + FDR: median {:.4} s (min {:.4}) over {} runs",
        a.permutations,
        median(t_g.clone()),
        t_g.iter().cloned().fold(f64::INFINITY, f64::min),
        t_g.len()
    );
    println!(
        "  GeoJSON parse ({} MB): {:.3} s",
        text.len() / 1_000_000,
        t_parse
    );
    println!("  classes after FDR: {hot} hot, {cold} cold");
    if let Some(path) = a.write {
        std::fs::write(&path, &text).unwrap();
        println!("  wrote {path}");
    }
}
