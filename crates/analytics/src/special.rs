//! Exact tests for counts: Poisson tails, the binomial test and Clopper-Pearson intervals, built
//! on the regularised incomplete gamma and beta functions (continued fractions after Numerical
//! Recipes, 3rd ed., sections 6.2 and 6.4, with Lentz's method).
//!
//! Checked against `scipy.stats` (`poisson.cdf/sf`, `binomtest(...).pvalue` and
//! `.proportion_ci(method="exact")`) in `tests/scipy_stats.rs`.

/// `ln Gamma(x)` for `x > 0`.
fn ln_gamma(x: f64) -> f64 {
    libm::lgamma(x)
}

const EPS: f64 = 1e-16;
const TINY: f64 = 1e-300;
const MAX_ITER: usize = 1_000_000;

/// Regularised lower incomplete gamma `P(a, x) = gamma(a, x) / Gamma(a)`, `a > 0`, `x >= 0`.
pub fn gamma_p(a: f64, x: f64) -> f64 {
    debug_assert!(a > 0.0 && x >= 0.0);
    if x <= 0.0 {
        return 0.0;
    }
    if x < a + 1.0 {
        gamma_series(a, x)
    } else {
        1.0 - gamma_cf(a, x)
    }
}

/// Regularised upper incomplete gamma `Q(a, x) = 1 - P(a, x)`, computed without cancellation.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    debug_assert!(a > 0.0 && x >= 0.0);
    if x <= 0.0 {
        return 1.0;
    }
    if x < a + 1.0 {
        1.0 - gamma_series(a, x)
    } else {
        gamma_cf(a, x)
    }
}

/// `P(a, x)` by its series; converges fast for `x < a + 1`.
fn gamma_series(a: f64, x: f64) -> f64 {
    let mut ap = a;
    let mut del = 1.0 / a;
    let mut sum = del;
    for _ in 0..MAX_ITER {
        ap += 1.0;
        del *= x / ap;
        sum += del;
        if del.abs() < sum.abs() * EPS {
            break;
        }
    }
    sum * (-x + a * x.ln() - ln_gamma(a)).exp()
}

/// `Q(a, x)` by its continued fraction; converges fast for `x > a + 1`.
fn gamma_cf(a: f64, x: f64) -> f64 {
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..MAX_ITER {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    (-x + a * x.ln() - ln_gamma(a)).exp() * h
}

/// Regularised incomplete beta `I_x(a, b)`, `a, b > 0`, `0 <= x <= 1`.
pub fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    debug_assert!(a > 0.0 && b > 0.0);
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * libm::log1p(-x);
    let front = ln_front.exp();
    // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry
    // I_x(a, b) = 1 - I_{1-x}(b, a) on the other side.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    let qab = a + b;
    let qap = a + 1.0;
    let qam = a - 1.0;
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..MAX_ITER {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// The `q` quantile of the Beta(a, b) distribution: the `x` with `I_x(a, b) = q`, by bisection
/// (`I_x` is increasing in `x`), to about 1e-15 relative.
pub fn beta_quantile(a: f64, b: f64, q: f64) -> f64 {
    debug_assert!((0.0..=1.0).contains(&q));
    if q <= 0.0 {
        return 0.0;
    }
    if q >= 1.0 {
        return 1.0;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..2000 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if beta_inc(a, b, mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-15 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Poisson `P(X <= k)` for mean `mu >= 0`.
pub fn poisson_cdf(k: u64, mu: f64) -> f64 {
    if mu <= 0.0 {
        return 1.0;
    }
    gamma_q(k as f64 + 1.0, mu)
}

/// Poisson `P(X >= k)` for mean `mu >= 0` (the upper tail including `k`).
pub fn poisson_sf_ge(k: u64, mu: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if mu <= 0.0 {
        return 0.0;
    }
    gamma_p(k as f64, mu)
}

/// Binomial probability `P(X = k)` for `X ~ Bin(n, p)`.
pub fn binom_pmf(k: u64, n: u64, p: f64) -> f64 {
    if k > n {
        return 0.0;
    }
    if p <= 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    if p >= 1.0 {
        return if k == n { 1.0 } else { 0.0 };
    }
    let (kf, nf) = (k as f64, n as f64);
    (ln_gamma(nf + 1.0) - ln_gamma(kf + 1.0) - ln_gamma(nf - kf + 1.0)
        + kf * p.ln()
        + (nf - kf) * libm::log1p(-p))
    .exp()
}

/// Binomial `P(X <= k)`.
pub fn binom_cdf(k: i64, n: u64, p: f64) -> f64 {
    if k < 0 {
        return 0.0;
    }
    let k = k as u64;
    if k >= n {
        return 1.0;
    }
    beta_inc((n - k) as f64, k as f64 + 1.0, 1.0 - p)
}

/// Binomial `P(X > k)`.
pub fn binom_sf(k: i64, n: u64, p: f64) -> f64 {
    if k < 0 {
        return 1.0;
    }
    let k = k as u64;
    if k >= n {
        return 0.0;
    }
    beta_inc(k as f64 + 1.0, (n - k) as f64, p)
}

/// Largest `x` in `lo..=hi` with `a(x) <= d` for a nondecreasing `a` (scipy's
/// `_binary_search_for_binom_tst`, kept step for step so that p-values match scipy's).
fn binary_search(a: impl Fn(i64) -> f64, d: f64, mut lo: i64, mut hi: i64) -> i64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let v = a(mid);
        if v < d {
            lo = mid + 1;
        } else if v > d {
            hi = mid - 1;
        } else {
            return mid;
        }
    }
    if a(lo) <= d { lo } else { lo - 1 }
}

/// Exact two-sided binomial test of `k` successes in `n` trials against success probability
/// `p`: the probability, under `p`, of every outcome no more likely than the one observed (the
/// "minlike" rule of R's `binom.test` and `scipy.stats.binomtest`, with scipy's relative
/// tolerance of 1e-7 for ties).
pub fn binom_test_two_sided(k: u64, n: u64, p: f64) -> f64 {
    assert!(k <= n && (0.0..=1.0).contains(&p));
    if n == 0 {
        return 1.0;
    }
    let (ki, ni) = (k as i64, n as i64);
    let d = binom_pmf(k, n, p);
    let rerr = 1.0 + 1e-7;
    let pn = p * n as f64;
    let pval = if (k as f64) == pn {
        1.0
    } else if (k as f64) < pn {
        let ix = binary_search(
            |x| -binom_pmf(x as u64, n, p),
            -d * rerr,
            pn.ceil() as i64,
            ni,
        );
        let y = ni - ix + i64::from(d * rerr == binom_pmf(ix as u64, n, p));
        binom_cdf(ki, n, p) + binom_sf(ni - y, n, p)
    } else {
        let ix = binary_search(
            |x| binom_pmf(x as u64, n, p),
            d * rerr,
            0,
            pn.floor() as i64,
        );
        let y = ix + 1;
        binom_cdf(y - 1, n, p) + binom_sf(ki - 1, n, p)
    };
    pval.min(1.0)
}

/// Clopper-Pearson ("exact") confidence interval for a binomial proportion after `k` successes
/// in `n > 0` trials, at `confidence` (e.g. 0.95), as scipy's
/// `binomtest(k, n).proportion_ci(confidence, method="exact")`.
pub fn clopper_pearson(k: u64, n: u64, confidence: f64) -> (f64, f64) {
    assert!(n > 0 && k <= n && confidence > 0.0 && confidence < 1.0);
    let alpha = 1.0 - confidence;
    let (kf, nf) = (k as f64, n as f64);
    let lo = if k == 0 {
        0.0
    } else {
        beta_quantile(kf, nf - kf + 1.0, alpha / 2.0)
    };
    let hi = if k == n {
        1.0
    } else {
        beta_quantile(kf + 1.0, nf - kf, 1.0 - alpha / 2.0)
    };
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn poisson_tails_by_hand() {
        // P(X = 0 | 2) = e^-2; P(X <= 1 | 2) = 3 e^-2; P(X >= 2 | 2) = 1 - 3 e^-2.
        let e2 = (-2.0f64).exp();
        assert!(close(poisson_cdf(0, 2.0), e2, 1e-14));
        assert!(close(poisson_cdf(1, 2.0), 3.0 * e2, 1e-14));
        assert!(close(poisson_sf_ge(2, 2.0), 1.0 - 3.0 * e2, 1e-14));
        assert_eq!(poisson_sf_ge(0, 5.0), 1.0);
        // Deep upper tail keeps relative precision: P(X >= 30 | 5) = 5.8077e-13 (summed
        // directly: sum_{k>=30} e^-5 5^k / k!).
        let direct: f64 = (30..200)
            .map(|k| (-5.0 + k as f64 * 5.0f64.ln() - libm::lgamma(k as f64 + 1.0)).exp())
            .sum();
        assert!(close(poisson_sf_ge(30, 5.0), direct, 1e-10), "{direct}");
        // Large means (a district of 50,000 incidents).
        let (k, mu) = (50_000u64, 50_000.0);
        let lo = poisson_cdf(k, mu);
        let hi = poisson_sf_ge(k + 1, mu);
        assert!(close(lo + hi, 1.0, 1e-12), "{lo} + {hi}");
    }

    #[test]
    fn binomial_test_by_hand() {
        // 10 of 12 at p = 1/2: two-sided p = 2 (C(12,10) + C(12,11) + C(12,12)) / 2^12.
        let p = binom_test_two_sided(10, 12, 0.5);
        assert!(close(p, 2.0 * 79.0 / 4096.0, 1e-12), "{p}");
        // symmetric
        assert!(close(binom_test_two_sided(2, 12, 0.5), p, 1e-12));
        // observed at the expectation: 1
        assert_eq!(binom_test_two_sided(6, 12, 0.5), 1.0);
        // 0 of 5 at p = 0.5: 2 / 32
        assert!(close(binom_test_two_sided(0, 5, 0.5), 2.0 / 32.0, 1e-12));
    }

    #[test]
    fn clopper_pearson_by_hand() {
        // k = 0: upper bound solves (1 - u)^n = alpha / 2.
        let (lo, hi) = clopper_pearson(0, 10, 0.95);
        assert_eq!(lo, 0.0);
        assert!(close(hi, 1.0 - 0.025f64.powf(0.1), 1e-12), "{hi}");
        // k = n: lower bound solves l^n = alpha / 2.
        let (lo, hi) = clopper_pearson(10, 10, 0.95);
        assert!(close(lo, 0.025f64.powf(0.1), 1e-12), "{lo}");
        assert_eq!(hi, 1.0);
    }

    #[test]
    fn beta_inc_symmetry_and_known_values() {
        // I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(a, b) = 1 - I_{1-x}(b, a).
        assert!(close(beta_inc(1.0, 1.0, 0.3), 0.3, 1e-14));
        assert!(close(beta_inc(3.0, 1.0, 0.7), 0.343, 1e-14));
        let (a, b, x) = (7.5, 3.25, 0.62);
        assert!(close(
            beta_inc(a, b, x),
            1.0 - beta_inc(b, a, 1.0 - x),
            1e-13
        ));
        let q = beta_quantile(a, b, 0.3);
        assert!(close(beta_inc(a, b, q), 0.3, 1e-12));
    }
}
