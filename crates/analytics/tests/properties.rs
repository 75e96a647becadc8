//! Property tests: contiguity weights are symmetric and consistent, Gi* keeps its invariants.
use analytics::geometry::{MultiPolygon, Polygon};
use analytics::{
    Contiguity, GiStarConfig, Weights, benjamini_hochberg, contiguity, gi_star, gi_star_analytical,
    permutation_p_values,
};
use proptest::prelude::*;

/// A `nx` by `ny` mesh of quadrilaterals whose shared corners are jittered (every cell uses the
/// same jittered corner, then a tiny per-cell noise is added), with some cells removed.
fn mesh(
    nx: usize,
    ny: usize,
    jitter: &[f64],
    noise: &[f64],
    keep: &[bool],
) -> (Vec<MultiPolygon>, Vec<usize>) {
    let corner = |c: usize, r: usize| -> [f64; 2] {
        let k = r * (nx + 1) + c;
        [
            c as f64 + 0.3 * jitter[2 * k % jitter.len()],
            r as f64 + 0.3 * jitter[(2 * k + 1) % jitter.len()],
        ]
    };
    let mut polys = Vec::new();
    let mut cell = Vec::new();
    let mut t = 0;
    for r in 0..ny {
        for c in 0..nx {
            if !keep[(r * nx + c) % keep.len()] {
                continue;
            }
            let mut ring = vec![
                corner(c, r),
                corner(c + 1, r),
                corner(c + 1, r + 1),
                corner(c, r + 1),
            ];
            for p in &mut ring {
                p[0] += 1e-12 * noise[t % noise.len()];
                p[1] -= 1e-12 * noise[(t + 1) % noise.len()];
                t += 2;
            }
            polys.push(MultiPolygon(vec![Polygon::new(ring)]));
            cell.push(r * nx + c);
        }
    }
    (polys, cell)
}

fn mesh_strategy() -> impl Strategy<Value = (usize, usize, Vec<f64>, Vec<f64>, Vec<bool>)> {
    (
        2usize..9,
        2usize..9,
        prop::collection::vec(-1.0f64..1.0, 1..200),
        prop::collection::vec(-1.0f64..1.0, 1..50),
        prop::collection::vec(prop::bool::weighted(0.85), 1..100),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn contiguity_is_symmetric_and_matches_the_mesh((nx, ny, jit, noise, keep) in mesh_strategy()) {
        let (polys, cell) = mesh(nx, ny, &jit, &noise, &keep);
        prop_assume!(polys.len() >= 2);
        let q = contiguity(&polys, Contiguity::Queen, 1e-9).unwrap();
        let r = contiguity(&polys, Contiguity::Rook, 1e-9).unwrap();
        prop_assert!(q.is_symmetric());
        prop_assert!(r.is_symmetric());
        for i in 0..polys.len() {
            prop_assert!(!q.neighbors(i).contains(&(i as u32)));
            // Rook is a subset of queen.
            for j in r.neighbors(i) {
                prop_assert!(q.neighbors(i).contains(j));
            }
            // The mesh topology: queen = the 8 surrounding kept cells, rook = the 4 edge-sharing.
            let (ri, ci) = ((cell[i] / nx) as i64, (cell[i] % nx) as i64);
            for (j, &cj) in cell.iter().enumerate() {
                if i == j { continue; }
                let (rj, cjj) = ((cj / nx) as i64, (cj % nx) as i64);
                let (dr, dc) = ((ri - rj).abs(), (ci - cjj).abs());
                let want_q = dr <= 1 && dc <= 1;
                let want_r = dr + dc == 1;
                prop_assert_eq!(q.neighbors(i).contains(&(j as u32)), want_q, "queen {} {}", i, j);
                prop_assert_eq!(r.neighbors(i).contains(&(j as u32)), want_r, "rook {} {}", i, j);
            }
        }
    }

    #[test]
    fn contiguity_follows_relabelling((nx, ny, jit, noise, keep) in mesh_strategy(), seed in any::<u64>()) {
        let (polys, _) = mesh(nx, ny, &jit, &noise, &keep);
        prop_assume!(polys.len() >= 2);
        let n = polys.len();
        // A permutation of the places from the seed.
        let mut perm: Vec<usize> = (0..n).collect();
        let mut s = seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (s >> 33) as usize % (i + 1));
        }
        let shuffled: Vec<MultiPolygon> = perm.iter().map(|&k| polys[k].clone()).collect();
        let a = contiguity(&polys, Contiguity::Queen, 1e-9).unwrap();
        let b = contiguity(&shuffled, Contiguity::Queen, 1e-9).unwrap();
        for (new_i, &old_i) in perm.iter().enumerate() {
            let mut mapped: Vec<usize> = b.neighbors(new_i).iter().map(|&j| perm[j as usize]).collect();
            mapped.sort_unstable();
            let want: Vec<usize> = a.neighbors(old_i).iter().map(|&j| j as usize).collect();
            prop_assert_eq!(mapped, want);
        }
    }
}

fn values_strategy() -> impl Strategy<Value = (usize, usize, Vec<f64>)> {
    (3usize..9, 3usize..9).prop_flat_map(|(nx, ny)| {
        (
            Just(nx),
            Just(ny),
            prop::collection::vec(0.0f64..100.0, nx * ny),
        )
    })
}

/// Gi* z straight from the definition with a dense matrix (an independent implementation).
fn dense_z(y: &[f64], w: &Weights) -> Vec<f64> {
    let n = y.len();
    let nf = n as f64;
    let mut m = vec![vec![0.0; n]; n];
    for (i, row) in m.iter_mut().enumerate() {
        row[i] = 1.0;
        for &j in w.neighbors(i) {
            row[j as usize] = 1.0;
        }
    }
    let s1: f64 = y.iter().sum();
    let s2: f64 = y.iter().map(|v| v * v).sum();
    let mean = s1 / nf;
    let sd = (s2 / nf - mean * mean).sqrt();
    (0..n)
        .map(|i| {
            let wi: f64 = m[i].iter().sum();
            let lag: f64 = (0..n).map(|j| m[i][j] * y[j]).sum();
            if wi == nf {
                return 0.0; // the whole area: no variance, z defined as 0
            }
            // Getis & Ord (1995) Gi* z in its textbook form.
            (lag - mean * wi) / (sd * ((nf * wi - wi * wi) / (nf - 1.0)).sqrt())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn z_matches_the_textbook_formula((nx, ny, y) in values_strategy()) {
        let w = Weights::grid_queen(nx, ny);
        prop_assume!(y.iter().any(|&v| v != y[0]));
        let a = gi_star_analytical(&y, &w).unwrap();
        for (got, want) in a.z.iter().zip(dense_z(&y, &w)) {
            prop_assert!((got - want).abs() < 1e-8 * (1.0 + want.abs()), "{} vs {}", got, want);
        }
        for &p in &a.p_norm {
            prop_assert!(p > 0.0 && p <= 0.5 && p.is_finite());
        }
    }

    #[test]
    fn z_is_invariant_to_scale_and_shift((nx, ny, y) in values_strategy(), scale in 0.01f64..100.0, shift in 0.0f64..50.0) {
        let w = Weights::grid_queen(nx, ny);
        prop_assume!(y.iter().any(|&v| (v - y[0]).abs() > 1e-6));
        let a = gi_star_analytical(&y, &w).unwrap();
        let y2: Vec<f64> = y.iter().map(|v| v * scale + shift).collect();
        let b = gi_star_analytical(&y2, &w).unwrap();
        for (u, v) in a.z.iter().zip(&b.z) {
            prop_assert!((u - v).abs() < 1e-7 * (1.0 + u.abs()), "{} vs {}", u, v);
        }
    }

    #[test]
    fn permutation_p_values_are_valid_and_reproducible((nx, ny, y) in values_strategy(), seed in any::<u64>()) {
        let w = Weights::grid_queen(nx, ny);
        prop_assume!(y.iter().any(|&v| v != y[0]));
        let p = permutation_p_values(&y, &w, 199, seed).unwrap();
        let again = permutation_p_values(&y, &w, 199, seed).unwrap();
        prop_assert_eq!(&p, &again);
        for &v in &p {
            prop_assert!((1.0 / 200.0..=1.0).contains(&v));
        }
        // Scaling by a power of two changes no sum's rounding: identical p-values.
        let y4: Vec<f64> = y.iter().map(|v| v * 4.0).collect();
        prop_assert_eq!(p, permutation_p_values(&y4, &w, 199, seed).unwrap());
    }

    #[test]
    fn bh_adjusted_p_values_are_ordered_and_bounded(p in prop::collection::vec(0.0f64..=1.0, 1..200)) {
        let q = benjamini_hochberg(&p);
        for i in 0..p.len() {
            prop_assert!(q[i] >= p[i] - 1e-15 && q[i] <= 1.0);
            for j in 0..p.len() {
                if p[i] <= p[j] {
                    prop_assert!(q[i] <= q[j] + 1e-15);
                }
            }
        }
    }

    #[test]
    fn classes_follow_z_sign_and_fdr((nx, ny, y) in values_strategy()) {
        let w = Weights::grid_queen(nx, ny);
        prop_assume!(y.iter().any(|&v| v != y[0]));
        let g = gi_star(&y, &w, &GiStarConfig { permutations: 99, seed: 5, fdr: true }).unwrap();
        for i in 0..y.len() {
            let c = g.class[i];
            prop_assert!(!(c.is_hot() && g.z[i] <= 0.0));
            prop_assert!(!(c.is_cold() && g.z[i] > 0.0));
            prop_assert!(g.p_fdr[i] >= g.p_two_sided[i] - 1e-15);
            if g.p_fdr[i] >= 0.10 {
                prop_assert_eq!(c, analytics::HotSpotClass::NotSignificant);
            }
        }
    }
}
