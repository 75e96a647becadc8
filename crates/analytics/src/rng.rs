//! A small seeded PRNG (xoshiro256++ seeded through SplitMix64) so that permutation inference is
//! reproducible from a `u64` seed on every platform and across dependency upgrades.

/// xoshiro256++ (Blackman and Vigna). Not for cryptography.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut st = seed;
        let s = [
            splitmix64(&mut st),
            splitmix64(&mut st),
            splitmix64(&mut st),
            splitmix64(&mut st),
        ];
        Rng { s }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform integer in `0..n` without modulo bias (Lemire's method). `n` must be positive.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let mut m = (self.next_u64() as u128) * (n as u128);
        if (m as u64) < n {
            let t = n.wrapping_neg() % n;
            while (m as u64) < t {
                m = (self.next_u64() as u128) * (n as u128);
            }
        }
        (m >> 64) as u64
    }

    /// A uniform float in `[0, 1)`.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Fill `out` with `out.len()` distinct integers drawn uniformly from `0..m`, in random order
    /// (so every prefix is itself a uniform sample without replacement). `scratch` is reused
    /// between calls to avoid allocating. Requires `out.len() <= m`.
    pub fn sample_distinct(&mut self, m: u32, out: &mut [u32], scratch: &mut Vec<u32>) {
        let k = out.len();
        assert!(
            k as u64 <= m as u64,
            "cannot draw {k} distinct values from {m}"
        );
        if 2 * k as u64 <= m as u64 {
            // Rejection: cheap when k is small against m (the usual case: a few neighbours
            // against thousands of places). Expected draws < 2k.
            for j in 0..k {
                loop {
                    let x = self.below(m as u64) as u32;
                    if !out[..j].contains(&x) {
                        out[j] = x;
                        break;
                    }
                }
            }
        } else {
            // Partial Fisher-Yates over 0..m.
            scratch.clear();
            scratch.extend(0..m);
            for j in 0..k {
                let r = j + self.below((m as usize - j) as u64) as usize;
                scratch.swap(j, r);
                out[j] = scratch[j];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_and_roughly_uniform() {
        let mut a = Rng::seed_from_u64(7);
        let mut b = Rng::seed_from_u64(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[a.below(10) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn distinct_samples() {
        let mut r = Rng::seed_from_u64(1);
        let mut scratch = Vec::new();
        for (m, k) in [(10u32, 3usize), (10, 9), (10, 10), (1000, 20), (1, 1)] {
            let mut out = vec![0; k];
            for _ in 0..100 {
                r.sample_distinct(m, &mut out, &mut scratch);
                let mut s = out.clone();
                s.sort_unstable();
                s.dedup();
                assert_eq!(s.len(), k);
                assert!(s.iter().all(|&x| x < m));
            }
        }
        // The first element is uniform over 0..m in both code paths.
        for k in [2usize, 9] {
            let mut first = [0u32; 10];
            let mut out = vec![0; k];
            for _ in 0..50_000 {
                r.sample_distinct(10, &mut out, &mut scratch);
                first[out[0] as usize] += 1;
            }
            for c in first {
                assert!((4_500..5_500).contains(&c), "k={k}: {first:?}");
            }
        }
    }
}
