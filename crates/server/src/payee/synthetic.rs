//! Synthetic reported payees, for the payee check's benchmarks (in process and over HTTP,
//! `posbon serve --synthetic-threats N`). Deterministic: payee `i` is the same everywhere, so a
//! load generator knows which values were reported (`i < n`) and which were not (`i >= n`)
//! without asking the server. Nothing here is stored; the reports exist only in memory.
use cyber::IndicatorKind;

use crate::threat::Threats;

/// Report ids of synthetic reports start here, far above any stored report's id.
pub const FIRST_ID: u64 = 1 << 40;

const CODES: [u8; 7] = [90, 91, 93, 94, 95, 97, 99];

/// The `i`-th synthetic payee as a bank would send it: (kind, value), cycling through phone,
/// card and IBAN. Distinct for every `i` below 2×10^8.
pub fn payee(i: u64) -> (&'static str, String) {
    let j = i / 3;
    match i % 3 {
        0 => ("phone", phone(j)),
        1 => ("card", card(j)),
        _ => ("iban", iban(j)),
    }
}

/// `+998 9X NNN NN NN`.
fn phone(j: u64) -> String {
    let code = CODES[((j / 10_000_000) % CODES.len() as u64) as usize];
    let n = j % 10_000_000;
    format!(
        "+998 {code} {:03} {:02} {:02}",
        n / 10_000,
        (n / 100) % 100,
        n % 100
    )
}

/// A 16-digit UzCard number (`8600…`) with a valid Luhn digit, in groups of four.
fn card(j: u64) -> String {
    let payload = format!("8600{:011}", j % 100_000_000_000);
    let mut sum = 0u32;
    for (k, d) in payload.bytes().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if k % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    let full = format!("{payload}{}", (10 - sum % 10) % 10);
    format!(
        "{} {} {} {}",
        &full[..4],
        &full[4..8],
        &full[8..12],
        &full[12..]
    )
}

/// A Kazakh IBAN (`KZkk` and 16 digits) with valid check digits, in groups of four.
fn iban(j: u64) -> String {
    let bban = format!("{j:016}");
    // ISO 7064 mod 97 over BBAN + "KZ00", letters as two digits (K = 20, Z = 35).
    let rem = format!("{bban}203500")
        .bytes()
        .fold(0u32, |r, d| (r * 10 + u32::from(d - b'0')) % 97);
    let full = format!("KZ{:02}{bban}", 98 - rem);
    full.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

/// xorshift64*: deterministic, dependency-free (also drives the benchmarks' query mixes).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// The payee of the `k`-th query of a benchmark over `load(.., n, ..)`: even queries a reported
/// payee, odd ones a payee never reported (from `n` to `2n`), the kind cycling so that hits and
/// misses both cover phones, cards and IBANs. A payee is reported exactly when it is below `n`.
pub fn query(rng: &mut Rng, n: u64, k: usize) -> u64 {
    let base = if k.is_multiple_of(2) { 0 } else { n };
    (base + rng.below(n)) / 3 * 3 + (k as u64 / 2) % 3
}

/// What [`load`] added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub reports: u64,
    pub payees: u64,
}

/// Adds payees `0..n` to `threats` as reports of one to three payees each, one report in four
/// also naming an earlier payee (so campaigns form and merge as they do), dated up to 400 days
/// before `now_unix`, each with a loss of 1,000 to 101,000 so'm.
pub fn load(threats: &Threats, n: u64, now_unix: i64) -> Loaded {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let ex = threats.extractor();
    let indicator = |i: u64| {
        let (kind, value) = payee(i);
        let kind = IndicatorKind::parse(kind).expect("a kind word");
        ex.field(kind, &value)
            .unwrap_or_else(|e| panic!("synthetic payee {i} ({value}) does not parse: {e}"))
    };
    let mut next = 0u64;
    let mut reports = 0u64;
    let mut inds = Vec::with_capacity(4);
    while next < n {
        inds.clear();
        for _ in 0..1 + rng.below(3) {
            if next < n {
                inds.push(indicator(next));
                next += 1;
            }
        }
        if next > 10 && rng.below(4) == 0 {
            inds.push(indicator(rng.below(next)));
        }
        let time = now_unix - rng.below(400 * 86_400) as i64;
        let loss = 100_000 + rng.below(10_000_000);
        threats.add_report(FIRST_ID + reports, time, loss, &inds);
        reports += 1;
    }
    Loaded { reports, payees: n }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn payees_are_valid_and_distinct() {
        let key = cyber::CardKey::random().unwrap();
        let ex = cyber::Extractor::new(key);
        let mut seen = HashSet::new();
        for i in (0..3000).chain(599_999_000..600_000_000) {
            let (kind, value) = payee(i);
            let ind = ex
                .field(IndicatorKind::parse(kind).unwrap(), &value)
                .unwrap_or_else(|e| panic!("{i}: {value}: {e}"));
            assert!(seen.insert(ind.key()), "payee {i} repeats");
        }
        assert_eq!(payee(1).1, card(0));
        assert!(cyber::mod97_valid(
            iban(123_456).replace(' ', "").as_bytes()
        ));
    }

    #[test]
    fn loaded_payees_are_reported_and_others_are_not() {
        let t = Threats::new(cyber::CardKey::random().unwrap());
        let l = load(&t, 300, 1_800_000_000);
        assert_eq!(l.payees, 300);
        assert!(l.reports >= 100 && l.reports <= 300, "{l:?}");
        let now = domain::Timestamp::from_unix_micros(1_800_000_000_000_000).unwrap();
        for i in [0, 1, 2, 150, 299] {
            let (k, v) = payee(i);
            let a = crate::payee::answer(&t, k, &v, now).unwrap();
            assert_eq!(a.verdict, "reported", "payee {i}");
            assert!(a.days_since.unwrap() <= 400);
        }
        for i in [300, 301, 302, 10_000] {
            let (k, v) = payee(i);
            let a = crate::payee::answer(&t, k, &v, now).unwrap();
            assert_eq!(a.verdict, "not_reported", "payee {i}");
        }
    }
}
