//! Getis-Ord Gi*: the local statistic with the place itself included and binary weights, as
//! PySAL `esda.G_Local(y, w, transform='B', star=True)` (esda 2.9.0) computes it.
//!
//! For place `i` with `k_i` neighbours, `c_i = k_i + 1` (the place itself has weight 1), `n`
//! places, `S = sum(y)`:
//!
//! ```text
//! G_i   = (y_i + sum_{j in N(i)} y_j) / S
//! E[G_i] = c_i / n
//! V[G_i] = c_i (n - c_i) / (n - 1) / n^2 * s^2 / ybar^2     (s^2 = sum(y^2)/n - ybar^2)
//! z_i   = (G_i - E[G_i]) / sqrt(V[G_i])
//! p_norm = P(Z > |z_i|)                                     (one-sided, as esda)
//! ```
//!
//! Conditional permutation follows esda's `crand`: the place's own value stays, its `k_i`
//! neighbours' values are replaced by `k_i` values drawn without replacement from the other
//! `n - 1` places, and one table of draws (`permutations` rows of `max k` indices into "all
//! places but i") is shared by every place, as esda shares it. The pseudo p-value is esda's
//! "directed" one, `(min(#{sim >= obs}, #{sim <= obs}) + 1) / (permutations + 1)`; esda
//! counts `P - #{sim >= obs}` for the lower tail, which is the same when no simulated value
//! equals the observed one, but with ties (count data with many zeros) makes an all-zero
//! neighbourhood look like a certain cold spot. Ties count on both sides here.
use crate::Error;
use crate::normal::normal_sf;
use crate::rng::Rng;
use crate::weights::Weights;

/// How to run [`gi_star`].
#[derive(Clone, Debug)]
pub struct GiStarConfig {
    /// Conditional permutations per place; 0 skips them and classes come from the analytical
    /// p-value. esda's default is 999.
    pub permutations: usize,
    /// Seed of the permutation draws (same seed, same data: same p-values).
    pub seed: u64,
    /// Apply the Benjamini-Hochberg false-discovery-rate correction before classifying.
    pub fdr: bool,
}

impl Default for GiStarConfig {
    fn default() -> Self {
        GiStarConfig {
            permutations: 999,
            seed: 12345,
            fdr: true,
        }
    }
}

/// A place's hot-spot class: significantly high (hot) or low (cold) at a confidence level, or
/// not significant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HotSpotClass {
    Hot99,
    Hot95,
    Hot90,
    Cold99,
    Cold95,
    Cold90,
    NotSignificant,
}

impl HotSpotClass {
    /// `hot_99`, `hot_95`, `hot_90`, `cold_99`, `cold_95`, `cold_90` or `not_significant`.
    pub fn as_str(self) -> &'static str {
        match self {
            HotSpotClass::Hot99 => "hot_99",
            HotSpotClass::Hot95 => "hot_95",
            HotSpotClass::Hot90 => "hot_90",
            HotSpotClass::Cold99 => "cold_99",
            HotSpotClass::Cold95 => "cold_95",
            HotSpotClass::Cold90 => "cold_90",
            HotSpotClass::NotSignificant => "not_significant",
        }
    }

    /// The class for a two-sided p-value `p` (already FDR-adjusted if wanted) and the sign of
    /// z: 99% when `p < 0.01`, 95% when `p < 0.05`, 90% when `p < 0.10`.
    pub fn from_p(p: f64, z: f64) -> HotSpotClass {
        let hot = z > 0.0;
        match (p < 0.01, p < 0.05, p < 0.10, hot) {
            (true, _, _, true) => HotSpotClass::Hot99,
            (true, _, _, false) => HotSpotClass::Cold99,
            (_, true, _, true) => HotSpotClass::Hot95,
            (_, true, _, false) => HotSpotClass::Cold95,
            (_, _, true, true) => HotSpotClass::Hot90,
            (_, _, true, false) => HotSpotClass::Cold90,
            _ => HotSpotClass::NotSignificant,
        }
    }

    /// True for the hot classes.
    pub fn is_hot(self) -> bool {
        matches!(
            self,
            HotSpotClass::Hot99 | HotSpotClass::Hot95 | HotSpotClass::Hot90
        )
    }

    /// True for the cold classes.
    pub fn is_cold(self) -> bool {
        matches!(
            self,
            HotSpotClass::Cold99 | HotSpotClass::Cold95 | HotSpotClass::Cold90
        )
    }
}

/// Gi* for every place.
#[derive(Clone, Debug)]
pub struct GiStar {
    /// The statistic `G_i` (esda `Gs`).
    pub g: Vec<f64>,
    /// Its expectation under normality (esda `EGs`).
    pub expected: Vec<f64>,
    /// Its variance under normality (esda `VGs`).
    pub variance: Vec<f64>,
    /// The z-score (esda `Zs`).
    pub z: Vec<f64>,
    /// One-sided analytical p-value `P(Z > |z|)` (esda `p_norm`).
    pub p_norm: Vec<f64>,
    /// Pseudo p-value from conditional permutation, one-sided in the direction of the observed
    /// value (esda `p_sim`); `None` when no permutations were run. Places without neighbours
    /// get 1 (nothing can be permuted).
    pub p_sim: Option<Vec<f64>>,
    /// The two-sided p-value each class is decided on: `min(1, 2 p_sim)` after permutations,
    /// otherwise `min(1, 2 p_norm)`; 1 for places without neighbours.
    pub p_two_sided: Vec<f64>,
    /// `p_two_sided` after the Benjamini-Hochberg correction (equal to it when `fdr` is off).
    pub p_fdr: Vec<f64>,
    /// Hot or cold at 90/95/99% from `p_fdr` and the sign of `z`.
    pub class: Vec<HotSpotClass>,
    /// Places with no neighbour: their class is always not significant.
    pub islands: Vec<usize>,
}

/// The analytical part of Gi*: statistic, moments, z-score and one-sided p-value.
#[derive(Clone, Debug)]
pub struct GiStarAnalytical {
    pub g: Vec<f64>,
    pub expected: Vec<f64>,
    pub variance: Vec<f64>,
    pub z: Vec<f64>,
    pub p_norm: Vec<f64>,
}

fn validate(y: &[f64], w: &Weights) -> Result<(), Error> {
    let n = y.len();
    if n != w.len() {
        return Err(Error::InvalidInput(format!(
            "{n} values but the weights describe {} places",
            w.len()
        )));
    }
    if n < 3 {
        return Err(Error::InvalidInput(format!(
            "Gi* needs at least 3 places, got {n}"
        )));
    }
    if n > u32::MAX as usize {
        return Err(Error::InvalidInput(format!(
            "{n} places is more than supported"
        )));
    }
    for (i, &v) in y.iter().enumerate() {
        if !v.is_finite() {
            return Err(Error::InvalidInput(format!(
                "place {i} (0-based, in input order) has value {v}; every place needs a finite number"
            )));
        }
        if v < 0.0 {
            return Err(Error::InvalidInput(format!(
                "place {i} (0-based, in input order) has the negative value {v}; Gi* is for counts or rates (>= 0), \
                 where it compares each neighbourhood's share of the total"
            )));
        }
    }
    let first = y[0];
    if y.iter().all(|&v| v == first) {
        return Err(Error::InvalidInput(format!(
            "every place has the same value ({first}); there is no variation for Gi* to find"
        )));
    }
    Ok(())
}

/// Statistic, moments, z-scores and one-sided normal p-values, as esda's `G_Local.calc` with
/// `transform='B', star=True`.
pub fn gi_star_analytical(y: &[f64], w: &Weights) -> Result<GiStarAnalytical, Error> {
    validate(y, w)?;
    let n = y.len();
    let nf = n as f64;
    let sum: f64 = y.iter().sum();
    let mean = sum / nf;
    // Population variance, two-pass (esda: mean of squares minus squared mean; same value up to
    // rounding, without the cancellation).
    let var = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / nf;
    let ratio = var / (mean * mean);
    let mut out = GiStarAnalytical {
        g: Vec::with_capacity(n),
        expected: Vec::with_capacity(n),
        variance: Vec::with_capacity(n),
        z: Vec::with_capacity(n),
        p_norm: Vec::with_capacity(n),
    };
    for (i, &yi) in y.iter().enumerate() {
        let lag = yi + w.neighbors(i).iter().map(|&j| y[j as usize]).sum::<f64>();
        let c = (w.cardinality(i) + 1) as f64;
        let g = lag / sum;
        let eg = c / nf;
        let vg = c * (nf - c) / (nf - 1.0) / (nf * nf) * ratio;
        // A neighbourhood that is the whole study area (c = n) has G = E[G] and no variance:
        // esda gives NaN; here z = 0 (nothing to test), so p_norm = 0.5 and it is never a class.
        let z = if vg > 0.0 { (g - eg) / vg.sqrt() } else { 0.0 };
        out.g.push(g);
        out.expected.push(eg);
        out.variance.push(vg);
        out.z.push(z);
        out.p_norm.push(normal_sf(z.abs()));
    }
    Ok(out)
}

/// The shared draw table: `permutations` rows of `max_card` distinct indices in `0..n-1`.
fn draw_table(n: usize, max_card: usize, permutations: usize, seed: u64) -> Vec<u32> {
    let mut ids = vec![0u32; permutations * max_card];
    if max_card == 0 {
        return ids;
    }
    let mut rng = Rng::seed_from_u64(seed);
    let mut scratch = Vec::new();
    for row in ids.chunks_exact_mut(max_card) {
        rng.sample_distinct((n - 1) as u32, row, &mut scratch);
    }
    ids
}

/// Counts for place `i`: how many permuted neighbourhood sums are `>=` and `<=` the observed.
/// Comparing neighbour sums is the same as comparing G values (the place's own value and the
/// total are fixed under conditional permutation) and avoids rounding differences.
#[inline]
fn site_counts(i: usize, y: &[f64], w: &Weights, ids: &[u32], max_card: usize) -> (u32, u32) {
    let nb = w.neighbors(i);
    let k = nb.len();
    let obs: f64 = nb.iter().map(|&j| y[j as usize]).sum();
    let iu = i as u32;
    let (mut ge, mut le) = (0u32, 0u32);
    for row in ids.chunks_exact(max_card) {
        let mut s = 0.0;
        for &x in &row[..k] {
            // Index into "all places but i": skip over i itself.
            s += y[(x + (x >= iu) as u32) as usize];
        }
        ge += (s >= obs) as u32;
        le += (s <= obs) as u32;
    }
    (ge, le)
}

/// Pseudo p-values from conditional permutation (see the module notes), one per place; 1 for
/// places without neighbours. `permutations` must be positive.
pub fn permutation_p_values(
    y: &[f64],
    w: &Weights,
    permutations: usize,
    seed: u64,
) -> Result<Vec<f64>, Error> {
    validate(y, w)?;
    if permutations == 0 || permutations > u32::MAX as usize {
        return Err(Error::InvalidInput(format!(
            "permutations must be between 1 and {}, got {permutations}",
            u32::MAX
        )));
    }
    let n = y.len();
    let max_card = w.max_cardinality();
    if max_card == 0 {
        return Ok(vec![1.0; n]);
    }
    let ids = draw_table(n, max_card, permutations, seed);
    let pf = permutations as f64;
    let p_of = |i: usize| -> f64 {
        if w.cardinality(i) == 0 {
            return 1.0;
        }
        let (ge, le) = site_counts(i, y, w, &ids, max_card);
        (ge.min(le) as f64 + 1.0) / (pf + 1.0)
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        Ok((0..n).into_par_iter().with_min_len(64).map(p_of).collect())
    }
    #[cfg(not(feature = "parallel"))]
    {
        Ok((0..n).map(p_of).collect())
    }
}

/// Benjamini-Hochberg adjusted p-values ("q-values"): `q_(i) = min_{j >= i} min(1, n p_(j) / j)`
/// over the p-values sorted ascending. Rejecting `q < alpha` rejects the same hypotheses as
/// esda's `fdr(p, alpha)` threshold used as `p < fdr(p, alpha)`.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let n = p.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut q = vec![0.0; n];
    let mut running = 1.0f64;
    for rank in (0..n).rev() {
        let i = order[rank];
        let v = (p[i] * n as f64 / (rank + 1) as f64).min(1.0);
        running = running.min(v);
        q[i] = running;
    }
    q
}

/// Gi* with analytical and (if `cfg.permutations > 0`) permutation inference, FDR correction
/// and classes. See the module notes for the formulas.
pub fn gi_star(y: &[f64], w: &Weights, cfg: &GiStarConfig) -> Result<GiStar, Error> {
    let a = gi_star_analytical(y, w)?;
    let p_sim = if cfg.permutations > 0 {
        Some(permutation_p_values(y, w, cfg.permutations, cfg.seed)?)
    } else {
        None
    };
    let islands = w.islands();
    let one_sided = p_sim.as_ref().unwrap_or(&a.p_norm);
    let mut p_two_sided: Vec<f64> = one_sided.iter().map(|p| (2.0 * p).min(1.0)).collect();
    for &i in &islands {
        p_two_sided[i] = 1.0;
    }
    let p_fdr = if cfg.fdr {
        benjamini_hochberg(&p_two_sided)
    } else {
        p_two_sided.clone()
    };
    let class = p_fdr
        .iter()
        .zip(&a.z)
        .map(|(&p, &z)| HotSpotClass::from_p(p, z))
        .collect();
    Ok(GiStar {
        g: a.g,
        expected: a.expected,
        variance: a.variance,
        z: a.z,
        p_norm: a.p_norm,
        p_sim,
        p_two_sided,
        p_fdr,
        class,
        islands,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// esda's own docstring example: six points, DistanceBand(threshold=15), binary, star=True.
    /// Expected z from the esda 2.9.0 docstring.
    #[test]
    fn matches_the_esda_docstring_example() {
        let pts: [(f64, f64); 6] = [
            (10.0, 10.0),
            (20.0, 10.0),
            (40.0, 10.0),
            (15.0, 20.0),
            (30.0, 20.0),
            (30.0, 30.0),
        ];
        let mut lists = vec![Vec::new(); 6];
        for i in 0..6 {
            for j in 0..6 {
                let d = (pts[i].0 - pts[j].0).hypot(pts[i].1 - pts[j].1);
                if i != j && d <= 15.0 {
                    lists[i].push(j);
                }
            }
        }
        let w = Weights::from_neighbor_lists(&lists).unwrap();
        let y = [2.0, 3.0, 3.2, 5.0, 8.0, 7.0];
        let a = gi_star_analytical(&y, &w).unwrap();
        let want = [
            -1.39727626,
            -0.28917762,
            0.65064964,
            -0.28917762,
            1.23452088,
            2.02424331,
        ];
        for (z, w) in a.z.iter().zip(want) {
            assert!((z - w).abs() < 1e-8, "{z} vs {w}");
        }
    }

    #[test]
    fn bh_matches_hand_computation() {
        let p = [0.01, 0.04, 0.03, 0.005, 0.5];
        let q = benjamini_hochberg(&p);
        // sorted: 0.005 (1), 0.01 (2), 0.03 (3), 0.04 (4), 0.5 (5); n p / rank:
        // 0.025, 0.025, 0.05, 0.05, 0.5 -> running min from the top.
        let want = [0.025, 0.05, 0.05, 0.025, 0.5];
        for (a, b) in q.iter().zip(want) {
            assert!((a - b).abs() < 1e-15, "{q:?}");
        }
    }

    #[test]
    fn ties_do_not_make_zero_neighbourhoods_significant() {
        // A 10x10 grid with two busy cells: most neighbourhoods sum to zero, and so do most of
        // their permutations. esda's directed count would give those p = 1/1000.
        let w = Weights::grid_queen(10, 10);
        let mut y = vec![0.0; 100];
        y[0] = 5.0;
        y[99] = 3.0;
        let p = permutation_p_values(&y, &w, 999, 1).unwrap();
        assert!(p[55] > 0.5, "{}", p[55]);
    }

    #[test]
    fn rejects_bad_input() {
        let w = Weights::grid_queen(2, 2);
        assert!(gi_star(&[1.0, 1.0, 1.0, 1.0], &w, &GiStarConfig::default()).is_err());
        assert!(gi_star(&[1.0, -1.0, 1.0, 1.0], &w, &GiStarConfig::default()).is_err());
        assert!(gi_star(&[1.0, f64::NAN, 1.0, 1.0], &w, &GiStarConfig::default()).is_err());
        assert!(gi_star(&[1.0, 2.0, 3.0], &w, &GiStarConfig::default()).is_err());
    }
}
