//! Synthetic incidents for `posbon serve --demo`, so that the analytics pages have something to
//! show: two years over the synthetic mahallas, with two persistent clusters and a busy
//! market, a slow rise of public reports with the seasons, patrol finds drawn towards the hot
//! places (patrols go where it is busy), and two quiet mahallas. Every one is marked synthetic
//! in its narrative and recorded by `system:demo-synthetic`. Deterministic: the same `now`
//! gives the same incidents.
use analytics::rng::Rng;
use domain::{Affected, Category, GeoPoint, Mahalla, NewIncident, Source, Timestamp};

/// The narrative of every synthetic incident.
pub const NARRATIVE: &str =
    "Synthetic demo incident: made up by posbon serve --demo, not a real event.";
/// Months of incidents, ending now.
pub const MONTHS: usize = 24;
const DAY_US: i64 = 86_400_000_000;
const MONTH_US: i64 = 30 * DAY_US + DAY_US / 2;

/// Categories and their weights.
const CATEGORIES: [(Category, u32); 9] = [
    (Category::Theft, 30),
    (Category::PublicOrder, 15),
    (Category::Violence, 10),
    (Category::Traffic, 10),
    (Category::Fraud, 8),
    (Category::Domestic, 8),
    (Category::DrugOffence, 7),
    (Category::Cybercrime, 4),
    (Category::Other, 8),
];

fn category(rng: &mut Rng) -> Category {
    let total: u32 = CATEGORIES.iter().map(|c| c.1).sum();
    let mut k = rng.below(u64::from(total)) as u32;
    for (c, w) in CATEGORIES {
        if k < w {
            return c;
        }
        k -= w;
    }
    Category::Other
}

/// A Poisson draw (Knuth's method; the means here are small).
fn poisson(rng: &mut Rng, mean: f64) -> u32 {
    let limit = (-mean).exp();
    let (mut k, mut p) = (0, 1.0);
    loop {
        p *= rng.next_f64();
        if p <= limit {
            return k;
        }
        k += 1;
    }
}

/// A mahalla's four corners (SW, SE, NE, NW) from its stored polygon.
fn corners(m: &Mahalla) -> Option<[[f64; 2]; 4]> {
    let shape = registry::geom::Shape::parse_text(m.geometry.as_deref()?).ok()?;
    let p: Vec<[f64; 2]> = shape.positions().take(4).collect();
    (p.len() == 4).then(|| [p[0], p[1], p[2], p[3]])
}

/// The point at `(u, v)` in the quadrilateral (bilinear: 0,0 is the south-west corner).
fn inside(c: &[[f64; 2]; 4], u: f64, v: f64) -> GeoPoint {
    let lerp =
        |a: [f64; 2], b: [f64; 2], t: f64| [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
    let south = lerp(c[0], c[1], u);
    let north = lerp(c[3], c[2], u);
    let p = lerp(south, north, v);
    GeoPoint {
        lon: (p[0] * 1e6).round() / 1e6,
        lat: (p[1] * 1e6).round() / 1e6,
    }
}

/// How much busier than usual each mahalla (in generator order, a grid 8 wide) is: a 3x3
/// cluster (its middle 8 times, the ring around it 4 times), a 2x2 one (4 times), a busy market
/// (4 times, alone), and two quiet places away from them.
fn heat(count: usize) -> Vec<f64> {
    let cols = ((count as f64 * 1.5).sqrt().ceil() as usize).max(1);
    let mut h = vec![1.0; count];
    let (r0, c0) = (1usize, 1usize);
    for (i, x) in h.iter_mut().enumerate() {
        let (r, c) = (i / cols, i % cols);
        if r.abs_diff(r0).max(c.abs_diff(c0)) <= 1 {
            *x = if (r, c) == (r0, c0) { 8.0 } else { 4.0 };
        }
        if (3..=4).contains(&r) && (5..=6).contains(&c) {
            *x = 4.0;
        }
    }
    for (k, f) in [(6usize, 4.0), (4, 0.08), (32, 0.08)] {
        if let Some(x) = h.get_mut(k) {
            *x = f;
        }
    }
    h
}

/// The synthetic incidents of the `MONTHS` months before `now` over `mahallas` (the demo's
/// synthetic ones, in generator order).
pub fn synthetic_incidents(mahallas: &[Mahalla], now: Timestamp) -> Vec<NewIncident> {
    let mut rng = Rng::seed_from_u64(2024);
    let heat = heat(mahallas.len());
    let busy_point = (0.5, 0.5);
    let mut out = Vec::new();
    for (i, m) in mahallas.iter().enumerate() {
        let Some(c) = corners(m) else { continue };
        // Bigger mahallas report more, but less than in proportion: place matters more here.
        let size = (f64::from(m.population.unwrap_or(4_000)) / 4_000.0).sqrt();
        for month in 0..MONTHS {
            let start = now.unix_micros() - (MONTHS - month) as i64 * MONTH_US;
            let years = month as f64 / 12.0;
            let season = 1.0 + 0.25 * (std::f64::consts::TAU * month as f64 / 12.0).sin();
            let means = [
                (
                    Source::Public,
                    0.9 * size * heat[i] * season * (1.0 + 0.2 * years),
                ),
                (Source::Patrol, 0.45 * heat[i].powf(1.3)),
                (Source::Inspector, 0.2 * size * heat[i].sqrt()),
            ];
            for (source, mean) in means {
                for _ in 0..poisson(&mut rng, mean) {
                    let at = start + (rng.next_f64() * MONTH_US as f64) as i64;
                    // A third of a hot place's incidents happen at one spot (a market, a stop).
                    let (u, v) = if heat[i] > 2.0 && rng.next_f64() < 0.33 {
                        (
                            busy_point.0 + 0.04 * (rng.next_f64() - 0.5),
                            busy_point.1 + 0.04 * (rng.next_f64() - 0.5),
                        )
                    } else {
                        (0.1 + 0.8 * rng.next_f64(), 0.1 + 0.8 * rng.next_f64())
                    };
                    out.push(NewIncident {
                        category: category(&mut rng),
                        source,
                        occurred_at: Timestamp::from_unix_micros(at).unwrap_or(now),
                        mahalla: m.id,
                        point: Some(inside(&c, u, v)),
                        affected: Affected::default(),
                        narrative: NARRATIVE.to_owned(),
                        event: None,
                    });
                }
            }
        }
    }
    out.sort_by_key(|n| n.occurred_at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_years_with_hot_places_and_quiet_ones() {
        let ms = registry::demo::synthetic_mahallas(&registry::demo::demo_spec());
        let now: Timestamp = "2026-01-15T00:00:00Z".parse().unwrap();
        let a = synthetic_incidents(&ms, now);
        assert_eq!(a, synthetic_incidents(&ms, now), "deterministic");
        assert!((1_000..6_000).contains(&a.len()), "{} incidents", a.len());
        assert!(
            a.iter()
                .all(|n| n.occurred_at < now && n.source != Source::Camera)
        );
        let first = now.unix_micros() - MONTHS as i64 * MONTH_US;
        assert!(a.iter().all(|n| n.occurred_at.unix_micros() >= first));
        let per = |k: usize| a.iter().filter(|n| n.mahalla == ms[k].id).count() as f64;
        let h = heat(ms.len());
        let plain: Vec<usize> = (0..ms.len()).filter(|&k| h[k] == 1.0).collect();
        let plain = plain.iter().map(|&k| per(k)).sum::<f64>() / plain.len() as f64;
        let hot = (per(9) + per(29) + per(6)) / 3.0;
        assert!(hot > 3.0 * plain, "hot {hot} vs plain {plain}");
        assert!(per(4) + per(32) < plain / 2.0, "quiet vs plain {plain}");
        assert!(a.iter().all(|n| n.validate().is_ok()));
    }
}
