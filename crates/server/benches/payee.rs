//! In-process latency of the whole payee check, as `POST /api/payee-check` runs it minus HTTP:
//! parse and normalise the value as the bank sent it, hash it (a card: HMAC under the card key,
//! then SHA-256), probe the index of reported payees, word the answer. Issue 5 asks p99 < 1 ms.
//!
//! `cargo bench -p server --bench payee` (1,000,000 reported payees; POSBON_BENCH_N=100000 for
//! a quicker run). Half the queries were reported, half not; phones, cards and IBANs in turn,
//! written as people write them. `Instant` around each call (its own ~20-40 ns included).
use std::hint::black_box;
use std::time::{Duration, Instant};

use server::payee::answer;
use server::payee::synthetic::{self, Rng};
use server::threat::Threats;

fn pct(sorted: &[u64], p: f64) -> u64 {
    sorted[(((sorted.len() - 1) as f64) * p).round() as usize]
}

/// Prints the percentiles of `ns` and returns the p99.
fn report(name: &str, mut ns: Vec<u64>) -> u64 {
    ns.sort_unstable();
    let p99 = pct(&ns, 0.99);
    println!(
        "{name:<46} n={:>7}  p50={:>6} ns  p99={:>6} ns  p99.9={:>7} ns  max={:>9} ns",
        ns.len(),
        pct(&ns, 0.5),
        p99,
        pct(&ns, 0.999),
        ns[ns.len() - 1]
    );
    p99
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then run small
    let quick = !std::env::args().any(|a| a == "--bench");
    let n: u64 = std::env::var("POSBON_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 3_000 } else { 1_000_000 });
    let now = domain::Timestamp::now();
    let now_unix = now.unix_micros() / 1_000_000;
    let threats = Threats::new(cyber::CardKey::random().expect("randomness"));
    let t = Instant::now();
    let loaded = synthetic::load(&threats, n, now_unix);
    println!(
        "indexed {} reported payees ({} distinct hashes with the cards' BIN…last4 forms) from {} reports in {:.2?}",
        loaded.payees,
        threats.read().len(),
        loaded.reports,
        t.elapsed()
    );

    let q = (n as usize).min(300_000);
    let mut rng = Rng(0x51_7CC1_B727_220A);
    let queries: Vec<(bool, &'static str, String)> = (0..q)
        .map(|k| {
            let i = synthetic::query(&mut rng, n, k);
            let (kind, value) = synthetic::payee(i);
            (i < n, kind, value)
        })
        .collect();
    for (_, kind, value) in queries.iter().take(10_000) {
        black_box(answer(&threats, kind, value, now).ok());
    }

    let mut all = Vec::with_capacity(q);
    let mut by_kind: [Vec<u64>; 3] = Default::default();
    let mut wrong = 0usize;
    for (hit, kind, value) in &queries {
        let t = Instant::now();
        let a = black_box(answer(&threats, black_box(kind), black_box(value), now));
        let ns = t.elapsed().as_nanos() as u64;
        all.push(ns);
        by_kind[match *kind {
            "phone" => 0,
            "card" => 1,
            _ => 2,
        }]
        .push(ns);
        if a.map(|a| a.reports > 0).ok() != Some(*hit) {
            wrong += 1;
        }
    }
    let p99 = report("answer(): parse + normalise + hash + verdict", all);
    for (name, ns) in ["  phone", "  card (HMAC + SHA-256)", "  IBAN"]
        .iter()
        .zip(by_kind)
    {
        report(name, ns);
    }
    assert_eq!(wrong, 0, "every reported payee is found and no other");

    let mut ns = Vec::with_capacity(q);
    for (_, kind, value) in &queries {
        let t = Instant::now();
        let body = answer(&threats, kind, value, now).map(|a| serde_json::to_vec(&a));
        black_box(body).ok();
        ns.push(t.elapsed().as_nanos() as u64);
    }
    report("answer() + the JSON body", ns);

    let limit = Duration::from_millis(1).as_nanos() as u64;
    println!(
        "p99 {p99} ns: {} the 1 ms budget",
        if p99 < limit { "within" } else { "OVER" }
    );
    if p99 >= limit {
        std::process::exit(1);
    }
}
