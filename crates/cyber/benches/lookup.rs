//! In-process latency of the payee check and the public prefix check over 1,000,000 reported
//! indicators (issue 5 asks p99 < 1 ms in process).
//!
//! `cargo bench -p cyber --bench lookup` (POSBON_BENCH_N=100000 for a quicker run).
//!
//! Measured per call with `Instant` around each look-up (its own overhead, ~20-40 ns, is
//! included in every figure). Peer in the same run: a flat `HashMap<[u8; 32], Verdict>` with
//! verdicts precomputed, i.e. the same probe without the union-find walk to the campaign.
use cyber::{
    IndicatorKind, ReportEntry, ThreatIndex, Verdict, indicator_hash, parse_phone, prefix_hex,
};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn indicator(i: u64) -> (IndicatorKind, String) {
    match i % 5 {
        0..=2 => (
            IndicatorKind::Phone,
            format!(
                "+998{}{:07}",
                [90, 91, 93, 94, 97, 99][(i % 6) as usize],
                i % 10_000_000
            ),
        ),
        3 => (IndicatorKind::Link, format!("https://bonus-{i}.uz/login")),
        _ => (IndicatorKind::Card, format!("hmac-sha256:{i:064x}")),
    }
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut ns: Vec<u64>) -> u64 {
    ns.sort_unstable();
    let p99 = pct(&ns, 0.99);
    println!(
        "{name:<44} n={:>8}  p50={:>6} ns  p99={:>6} ns  p99.9={:>7} ns  max={:>9} ns",
        ns.len(),
        pct(&ns, 0.50),
        p99,
        pct(&ns, 0.999),
        ns[ns.len() - 1]
    );
    p99
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing extra: run small
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: u64 = std::env::var("POSBON_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 20_000 } else { 1_000_000 });
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    // Reports of 1-3 new indicators each; one in four also names an already reported one, so
    // campaigns form and merge as they would.
    let t = Instant::now();
    let hashes: Vec<[u8; 32]> = (0..n)
        .map(|i| {
            let (k, v) = indicator(i);
            indicator_hash(k, &v)
        })
        .collect();
    let hash_time = t.elapsed();
    let t = Instant::now();
    let mut idx = ThreatIndex::new();
    let mut next = 0usize;
    let mut id = 0u64;
    let mut link = Vec::with_capacity(4);
    while next < hashes.len() {
        link.clear();
        let k = 1 + rng.below(3) as usize;
        for _ in 0..k {
            if next < hashes.len() {
                link.push(hashes[next]);
                next += 1;
            }
        }
        if next > 10 && rng.below(4) == 0 {
            link.push(hashes[rng.below(next as u64) as usize]);
        }
        idx.add(&ReportEntry {
            id,
            time: 1_700_000_000 + id as i64,
            loss: 100_000 + rng.below(10_000_000),
            link: &link,
            check_only: &[],
        });
        id += 1;
    }
    let build = t.elapsed();
    let campaigns = idx.linker().campaigns().len();
    println!(
        "indexed {} indicators from {} reports into {} campaigns: hashing {:.2?}, index build {:.2?}",
        idx.len(),
        id,
        campaigns,
        hash_time,
        build
    );

    // Queries: half reported, half never reported.
    let q = n.min(1_000_000) as usize;
    let queries: Vec<[u8; 32]> = (0..q)
        .map(|i| {
            if i % 2 == 0 {
                hashes[rng.below(n) as usize]
            } else {
                indicator_hash(
                    IndicatorKind::Phone,
                    &format!("+99833{:07}", rng.below(10_000_000)),
                )
            }
        })
        .collect();
    // warm-up
    for h in queries.iter().take(10_000) {
        black_box(idx.verdict(h));
    }
    let mut ns = Vec::with_capacity(q);
    let mut hits = 0usize;
    for h in &queries {
        let t = Instant::now();
        let v = black_box(idx.verdict(black_box(h)));
        ns.push(t.elapsed().as_nanos() as u64);
        hits += usize::from(v.is_some());
    }
    let p99 = report("verdict(hash) [ThreatIndex]", ns);
    let t = Instant::now();
    for h in &queries {
        black_box(idx.verdict(black_box(h)));
    }
    let per = t.elapsed() / q as u32;
    println!("  {hits} hits of {q}; back-to-back {per:?} per look-up");

    // Peer: the same probe into a flat map of precomputed verdicts.
    let flat: HashMap<[u8; 32], Verdict> = hashes
        .iter()
        .filter_map(|h| idx.verdict(h).map(|v| (*h, v)))
        .collect();
    let mut ns = Vec::with_capacity(q);
    for h in &queries {
        let t = Instant::now();
        black_box(flat.get(black_box(h)));
        ns.push(t.elapsed().as_nanos() as u64);
    }
    report("peer: flat HashMap<[u8;32], Verdict>", ns);

    // The whole payee check on a phone as a bank sends it: normalise, hash, look up.
    let phones: Vec<String> = (0..q.min(200_000))
        .map(|i| {
            let (_, v) = indicator(rng.below(n / 5) * 5 + (i as u64 % 3));
            format!(
                "{} {} {} {} {}",
                &v[..4],
                &v[4..6],
                &v[6..9],
                &v[9..11],
                &v[11..]
            )
        })
        .collect();
    let mut ns = Vec::with_capacity(phones.len());
    for p in &phones {
        let t = Instant::now();
        let e164 = parse_phone(black_box(p)).map(|p| p.e164);
        let v = e164.map(|e| idx.verdict(&indicator_hash(IndicatorKind::Phone, &e)));
        black_box(v).ok();
        ns.push(t.elapsed().as_nanos() as u64);
    }
    let p99_e2e = report("parse_phone + hash + verdict", ns);

    // The public check: all hashes under a 5-hex-digit (20-bit) prefix.
    let mut ns = Vec::with_capacity(100_000);
    let mut answered = 0usize;
    for h in queries.iter().take(100_000) {
        let p = prefix_hex(h, 5);
        let t = Instant::now();
        let r = idx
            .prefix_index()
            .range_hex(black_box(&p))
            .unwrap_or_default();
        ns.push(t.elapsed().as_nanos() as u64);
        answered += r.len();
    }
    let k = ns.len();
    report("prefix range (5 hex digits)", ns);
    println!(
        "  {:.2} hashes per answer on average",
        answered as f64 / k as f64
    );

    let limit = Duration::from_millis(1).as_nanos() as u64;
    println!(
        "p99 verdict {p99} ns, end-to-end {p99_e2e} ns: {} the 1 ms budget",
        if p99 < limit && p99_e2e < limit {
            "within"
        } else {
            "OVER"
        }
    );
    if p99 >= limit || p99_e2e >= limit {
        std::process::exit(1);
    }
}
