//! Optimal assignment: the Hungarian method (Kuhn-Munkres with potentials, `O(n² m)`), plus the
//! thresholded form trackers use, where a row or column may also stay unmatched.

/// The result of [`assign_with_limit`]: matched `(row, col)` pairs in row order, and what is left.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assignment {
    pub matches: Vec<(usize, usize)>,
    pub unmatched_rows: Vec<usize>,
    pub unmatched_cols: Vec<usize>,
}

/// Minimum-cost assignment of a `n x m` matrix given as `cost(row, col)` (finite values). Every
/// row is matched if `n <= m`, else every column. Returns, per row, its column. Ties are broken
/// deterministically.
pub fn solve(n: usize, m: usize, cost: impl Fn(usize, usize) -> f64) -> Vec<Option<usize>> {
    if n == 0 || m == 0 {
        return vec![None; n];
    }
    if n <= m {
        hungarian(n, m, cost).into_iter().map(Some).collect()
    } else {
        let col_to_row = hungarian(m, n, |i, j| cost(j, i));
        let mut out = vec![None; n];
        for (c, r) in col_to_row.into_iter().enumerate() {
            out[r] = Some(c);
        }
        out
    }
}

/// Match the `n` rows to the `m` columns of `cost(row, col)` minimising the total cost, where leaving a row or a column unmatched
/// costs `limit / 2` each: a pair is matched only if its cost is at most `limit`, and only if
/// matching it is part of the cheapest overall choice. Non-finite costs (and costs above `limit`)
/// are never matched. This is `lapjv(..., extend_cost=True, cost_limit=limit)` as ByteTrack uses it.
pub fn assign_with_limit(
    n: usize,
    m: usize,
    cost: impl Fn(usize, usize) -> f64,
    limit: f64,
) -> Assignment {
    let ok = |c: f64| c.is_finite() && c <= limit;
    if n == 0 || m == 0 {
        return Assignment {
            matches: vec![],
            unmatched_rows: (0..n).collect(),
            unmatched_cols: (0..m).collect(),
        };
    }
    // Any pair dearer than `limit` is beaten by leaving both ends unmatched, so `limit + 1`
    // stands in for "impossible" without the numerical trouble of infinities.
    let forbid = limit + 1.0;
    let half = limit / 2.0;
    // (n+m) square: [cost | dummy-for-rows] over [dummy-for-cols | 0]
    let size = n + m;
    let ext = |i: usize, j: usize| -> f64 {
        match (i < n, j < m) {
            (true, true) => {
                let c = cost(i, j);
                if ok(c) { c } else { forbid }
            }
            (true, false) | (false, true) => half,
            (false, false) => 0.0,
        }
    };
    let row_to_col = hungarian(size, size, ext);
    let mut out = Assignment::default();
    let mut col_used = vec![false; m];
    for (i, &j) in row_to_col.iter().enumerate().take(n) {
        if j < m && ok(cost(i, j)) {
            out.matches.push((i, j));
            col_used[j] = true;
        } else {
            out.unmatched_rows.push(i);
        }
    }
    out.unmatched_cols = (0..m).filter(|&j| !col_used[j]).collect();
    out
}

/// Kuhn-Munkres with row/column potentials for `n <= m`; returns the column of each row.
fn hungarian(n: usize, m: usize, a: impl Fn(usize, usize) -> f64) -> Vec<usize> {
    debug_assert!(n <= m);
    // 1-based, with column 0 as the virtual start; p[j] = row matched to column j (0 = none)
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if !used[j] {
                    let cur = a(i0 - 1, j - 1) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut row_to_col = vec![0usize; n];
    for j in 1..=m {
        if p[j] != 0 {
            row_to_col[p[j] - 1] = j - 1;
        }
    }
    row_to_col
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (SplitMix64), so the test needs no dependency and
    /// always sees the same matrices.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn matrix(rng: &mut Rng, n: usize, m: usize, coarse: bool) -> Vec<Vec<f64>> {
        (0..n)
            .map(|_| {
                (0..m)
                    // coarse values (0, 0.25, ..) make many ties, which is where bugs hide
                    .map(|_| {
                        if coarse {
                            rng.below(5) as f64 / 4.0
                        } else {
                            rng.unit()
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Cheapest total over every injective map from the smaller side to the larger.
    fn brute_full(cost: &[Vec<f64>]) -> f64 {
        fn rec(cost: &[Vec<f64>], i: usize, used: &mut Vec<bool>, transposed: bool) -> f64 {
            let (n, m) = if transposed {
                (cost[0].len(), cost.len())
            } else {
                (cost.len(), cost[0].len())
            };
            if i == n {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for j in 0..m {
                if !used[j] {
                    used[j] = true;
                    let c = if transposed { cost[j][i] } else { cost[i][j] };
                    best = best.min(c + rec(cost, i + 1, used, transposed));
                    used[j] = false;
                }
            }
            best
        }
        let transposed = cost.len() > cost[0].len();
        let m = if transposed {
            cost.len()
        } else {
            cost[0].len()
        };
        rec(cost, 0, &mut vec![false; m], transposed)
    }

    /// Cheapest total over every partial matching, unmatched ends costing `limit / 2` each.
    fn brute_limited(cost: &[Vec<f64>], limit: f64) -> f64 {
        fn rec(cost: &[Vec<f64>], limit: f64, i: usize, used: &mut Vec<bool>) -> f64 {
            let m = cost[0].len();
            if i == cost.len() {
                return used.iter().filter(|u| !**u).count() as f64 * limit / 2.0;
            }
            let mut best = limit / 2.0 + rec(cost, limit, i + 1, used);
            for j in 0..m {
                if !used[j] && cost[i][j].is_finite() && cost[i][j] <= limit {
                    used[j] = true;
                    best = best.min(cost[i][j] + rec(cost, limit, i + 1, used));
                    used[j] = false;
                }
            }
            best
        }
        rec(cost, limit, 0, &mut vec![false; cost[0].len()])
    }

    #[test]
    fn solve_matches_brute_force_on_random_matrices() {
        let mut rng = Rng(7);
        for case in 0..600 {
            let n = 1 + rng.below(6);
            let m = 1 + rng.below(6);
            let cost = matrix(&mut rng, n, m, case % 2 == 0);
            let sol = solve(n, m, |i, j| cost[i][j]);
            assert_eq!(sol.len(), n);
            let cols: Vec<usize> = sol.iter().flatten().copied().collect();
            assert_eq!(cols.len(), n.min(m), "case {case}: {cost:?} -> {sol:?}");
            let mut dedup = cols.clone();
            dedup.sort_unstable();
            dedup.dedup();
            assert_eq!(dedup.len(), cols.len(), "a column used twice: {sol:?}");
            let total: f64 = sol
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.map(|c| cost[i][c]))
                .sum();
            let best = brute_full(&cost);
            assert!(
                (total - best).abs() < 1e-9,
                "case {case}: got {total}, optimum {best}, {cost:?}"
            );
        }
    }

    #[test]
    fn assign_with_limit_matches_brute_force_on_random_matrices() {
        let mut rng = Rng(11);
        for case in 0..600 {
            let n = rng.below(6);
            let m = 1 + rng.below(6);
            let mut cost = matrix(&mut rng, n, m, case % 2 == 0);
            // some forbidden pairs, as different classes give
            for row in cost.iter_mut() {
                for c in row.iter_mut() {
                    if rng.below(6) == 0 {
                        *c = f64::INFINITY;
                    }
                }
            }
            let limit = [0.3, 0.5, 0.8, 1.0][rng.below(4)];
            let a = assign_with_limit(n, m, |i, j| cost[i][j], limit);
            assert_eq!(a.matches.len() + a.unmatched_rows.len(), n);
            assert_eq!(a.matches.len() + a.unmatched_cols.len(), m);
            for &(r, c) in &a.matches {
                assert!(
                    cost[r][c] <= limit,
                    "case {case}: matched a pair over the limit"
                );
                assert!(!a.unmatched_cols.contains(&c) && !a.unmatched_rows.contains(&r));
            }
            let total: f64 = a.matches.iter().map(|&(r, c)| cost[r][c]).sum::<f64>()
                + (a.unmatched_rows.len() + a.unmatched_cols.len()) as f64 * limit / 2.0;
            if n > 0 {
                let best = brute_limited(&cost, limit);
                assert!(
                    (total - best).abs() < 1e-9,
                    "case {case}: got {total}, optimum {best}, limit {limit}, {cost:?}"
                );
            }
        }
    }

    #[test]
    fn greedy_is_not_optimal_but_this_is() {
        // greedy takes (0,0)=0.1 then must take (1,1)=0.9: 1.0; optimum is 0.2 + 0.3 = 0.5
        let cost = [[0.1, 0.2], [0.3, 0.9]];
        assert_eq!(solve(2, 2, |i, j| cost[i][j]), vec![Some(1), Some(0)]);
        let a = assign_with_limit(2, 2, |i, j| cost[i][j], 0.95);
        assert_eq!(a.matches, vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn empty_inputs() {
        let never = |_: usize, _: usize| -> f64 { unreachable!() };
        assert_eq!(solve(0, 3, never), Vec::<Option<usize>>::new());
        assert_eq!(solve(2, 0, never), vec![None, None]);
        let a = assign_with_limit(2, 0, never, 0.5);
        assert_eq!(a.unmatched_rows, vec![0, 1]);
        assert!(a.matches.is_empty() && a.unmatched_cols.is_empty());
        let a = assign_with_limit(0, 3, never, 0.5);
        assert_eq!(a.unmatched_cols, vec![0, 1, 2]);
        assert!(a.matches.is_empty() && a.unmatched_rows.is_empty());
    }
}
