//! Property tests of the safety analytics: crime-free and red mahallas, trends, forecast scores,
//! patrol plans and roadmaps keep their invariants on random input.
use std::collections::BTreeMap;

use analytics::crimefree::{CrimeFreeQuery, crime_free};
use analytics::data::{DAY_US, IncidentRecord, MahallaRecord, Period, SourceSet};
use analytics::forecast::{flag_by_rank, hit_rate, score_ranking};
use analytics::patrol::{PatrolConfig, PatrolPlace, Shift, plan_patrols};
use analytics::roadmap::{Measure, MeasureKind, MeasureStatus, roll_up};
use analytics::trends::{TrendQuery, trends};
use domain::{Area, Category, DistrictId, MahallaId, RegionId, Source, Timestamp};
use proptest::prelude::*;

fn ts(us: i64) -> Timestamp {
    Timestamp::from_unix_micros(1_700_000_000_000_000 + us).unwrap()
}

fn mahallas(pops: &[Option<u32>]) -> Vec<MahallaRecord> {
    pops.iter()
        .enumerate()
        .map(|(i, &p)| MahallaRecord {
            id: MahallaId(i as i64 + 1),
            district: DistrictId(1 + (i as i64) % 4),
            region: RegionId(1 + (i as i64) % 2),
            population: p,
        })
        .collect()
}

/// Incidents from (mahalla index, day, source index, category index) tuples.
fn incidents(n: usize, raw: &[(usize, i64, usize, usize)]) -> Vec<IncidentRecord> {
    raw.iter()
        .map(|&(m, d, s, c)| IncidentRecord {
            at: ts(d * DAY_US / 4),
            mahalla: MahallaId((m % n) as i64 + 1),
            category: Category::ALL[c % Category::ALL.len()],
            source: Source::ALL[s % Source::ALL.len()],
            point: None,
        })
        .collect()
}

fn pops() -> impl Strategy<Value = Vec<Option<u32>>> {
    prop::collection::vec(prop::option::weighted(0.85, 30u32..40_000), 3..40)
}

fn raw_incidents() -> impl Strategy<Value = Vec<(usize, i64, usize, usize)>> {
    prop::collection::vec((0usize..40, 0i64..240, 0usize..4, 0usize..9), 0..400)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn crime_free_invariants(pops in pops(), raw in raw_incidents()) {
        let ms = mahallas(&pops);
        let incs = incidents(ms.len(), &raw);
        let period = Period::new(ts(0), ts(30 * DAY_US)).unwrap();
        let q = CrimeFreeQuery::new(period);
        let r = crime_free(&ms, &incs, &q).unwrap();
        prop_assert_eq!(r.rows.len(), ms.len());
        let zeros = r.rows.iter().filter(|x| x.count == 0).count();
        prop_assert_eq!(r.crime_free.count, zeros);
        prop_assert_eq!(r.crime_free.mahallas.len(), zeros);
        prop_assert!(r.crime_free.expected >= 0.0 && r.crime_free.expected <= ms.len() as f64 + 1e-9);
        for row in &r.rows {
            for p in [row.p_low, row.q_low, row.p_high, row.q_high] {
                prop_assert!((0.0..=1.0 + 1e-12).contains(&p), "{:?}", row);
            }
            prop_assert!(row.q_low >= row.p_low - 1e-15 && row.q_high >= row.p_high - 1e-15);
            prop_assert_eq!(row.by_source.values().sum::<u64>(), row.count);
            prop_assert!(!row.surprising_zero || row.crime_free);
            prop_assert!(!row.red || !row.exposure_basis.imputed());
        }
        // The list is ordered by p_low.
        let p_of = |id: MahallaId| r.rows.iter().find(|x| x.mahalla == id).unwrap().p_low;
        for w in r.crime_free.mahallas.windows(2) {
            prop_assert!(p_of(w[0]) <= p_of(w[1]));
        }
        prop_assert!(r.red.mahallas.len() <= q.red_limit);
    }

    /// A mahalla's own count never enters its own reference rate.
    #[test]
    fn own_count_is_left_out(pops in pops(), raw in raw_incidents(), extra in 1usize..30) {
        let ms = mahallas(&pops);
        let mut incs = incidents(ms.len(), &raw);
        let period = Period::new(ts(0), ts(60 * DAY_US)).unwrap();
        let q = CrimeFreeQuery::new(period);
        let before = crime_free(&ms, &incs, &q).unwrap();
        for _ in 0..extra {
            incs.push(IncidentRecord {
                at: ts(DAY_US),
                mahalla: MahallaId(1),
                category: Category::Theft,
                source: Source::Public,
                point: None,
            });
        }
        let after = crime_free(&ms, &incs, &q).unwrap();
        prop_assert_eq!(after.rows[0].count, before.rows[0].count + extra as u64);
        let (a, b) = (after.rows[0].expected.unwrap(), before.rows[0].expected.unwrap());
        prop_assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{} vs {}", a, b);
    }

    /// Patrol finds never move a public-only query or the public series of a trend report.
    #[test]
    fn patrol_finds_never_leak_into_public(pops in pops(), raw in raw_incidents(),
                                           patrol in prop::collection::vec((0usize..40, 0i64..240), 0..200)) {
        let ms = mahallas(&pops);
        let incs = incidents(ms.len(), &raw);
        let mut more = incs.clone();
        more.extend(patrol.iter().map(|&(m, d)| IncidentRecord {
            at: ts(d * DAY_US / 4),
            mahalla: MahallaId((m % ms.len()) as i64 + 1),
            category: Category::DrugOffence,
            source: Source::Patrol,
            point: None,
        }));
        let period = Period::new(ts(30 * DAY_US), ts(60 * DAY_US)).unwrap();
        let mut q = CrimeFreeQuery::new(period);
        q.sources = SourceSet::of(&[Source::Public]);
        prop_assert_eq!(crime_free(&ms, &incs, &q).unwrap(), crime_free(&ms, &more, &q).unwrap());
        let mut tq = TrendQuery::new(period);
        tq.year_before = Some(Period::new(ts(0), ts(10 * DAY_US)).unwrap());
        let a = trends(&ms, &incs, &tq).unwrap();
        let b = trends(&ms, &more, &tq).unwrap();
        // Counts, rates, ratios and p-values of the public series are identical (q-values may
        // move: the correction is over every comparison in the report).
        let pa = &a.by_source[&Source::Public];
        let pb = &b.by_source[&Source::Public];
        prop_assert_eq!(&pa.all_categories.current, &pb.all_categories.current);
        prop_assert_eq!(pa.all_categories.previous.count, pb.all_categories.previous.count);
        prop_assert_eq!(pa.all_categories.previous.p, pb.all_categories.previous.p);
        prop_assert_eq!(pa.all_categories.year_before.rate_ratio, pb.all_categories.year_before.rate_ratio);
        prop_assert_eq!(pa.by_category.len(), pb.by_category.len());
        for t in [&a, &b] {
            for st in t.by_source.values() {
                for c in [&st.all_categories.previous, &st.all_categories.year_before] {
                    prop_assert!((0.0..=1.0).contains(&c.p) && c.q >= c.p - 1e-15);
                    if let (Some(r), Some(hi)) = (c.rate_ratio, c.ci_high) {
                        prop_assert!(c.ci_low <= r * (1.0 + 1e-9) && r <= hi * (1.0 + 1e-9));
                    }
                }
            }
        }
    }

    #[test]
    fn forecast_scores_are_bounded(
        cells in prop::collection::vec((0.0f64..20.0, 0u32..15, 0u32..15, 0.2f64..3.0), 2..120),
        share in 0.01f64..1.0,
    ) {
        let scores: Vec<f64> = cells.iter().map(|c| c.0.floor()).collect();
        let last: Vec<f64> = cells.iter().map(|c| f64::from(c.1)).collect();
        let held: Vec<f64> = cells.iter().map(|c| f64::from(c.2)).collect();
        let area: Vec<f64> = cells.iter().map(|c| c.3).collect();
        let flags = flag_by_rank(&scores, &area, share).unwrap();
        let total_area: f64 = area.iter().sum();
        let flagged: f64 = flags.iter().zip(&area).map(|(f, a)| f * a).sum();
        prop_assert!((flagged - share * total_area).abs() <= 1e-9 * total_area);
        let h = hit_rate(&flags, &area, &held).unwrap();
        if let (Some(pai), Some(max), Some(pei)) = (h.pai, h.pai_max, h.pei_star) {
            prop_assert!(pai <= max * (1.0 + 1e-9) + 1e-12);
            prop_assert!((0.0..=1.0).contains(&pei));
        }
        prop_assert!(h.captured <= h.best_captured + 1e-9);
        let s = score_ranking(&scores, &last, &area, &held, share).unwrap();
        prop_assert!((s.method.area_share - s.baseline.area_share).abs() < 1e-9);
        // Scoring the baseline as the method ties with itself and is not preferred.
        let t = score_ranking(&last, &last, &area, &held, share).unwrap();
        prop_assert_eq!(t.method.captured, t.baseline.captured);
        prop_assert_eq!(t.preferred, analytics::forecast::Preferred::Baseline);
    }

    #[test]
    fn patrol_plans_keep_their_promises(
        weights in prop::collection::vec(0.0f64..50.0, 1..25),
        units in 1usize..9,
        visits in 1u32..9,
        hours in 4i64..13,
        seed in any::<u64>(),
    ) {
        let places: Vec<PatrolPlace> = weights.iter().enumerate()
            .map(|(i, &w)| PatrolPlace { place: i as i64 * 7, weight: w }).collect();
        let shift = Shift {
            start: ts(0),
            end: ts(hours * 3_600_000_000),
            units: (0..units).map(|u| format!("u{u}")).collect(),
        };
        let floor = u32::from(places.len() <= visits as usize * units.min(places.len()));
        let cfg = PatrolConfig { visits_per_unit: visits, floor_visits: floor, seed };
        let plan = plan_patrols(&places, std::slice::from_ref(&shift), &cfg);
        let fits = hours * 60 / i64::from(visits) >= 15;
        prop_assert_eq!(plan.is_ok(), fits, "{:?}", plan.as_ref().err());
        let Ok(plan) = plan else { return Ok(()); };
        let sp = &plan.shifts[0];
        prop_assert_eq!(sp.visits.len(), visits as usize * units.min(places.len()));
        for v in &sp.visits {
            prop_assert!((10..=15).contains(&v.minutes));
            prop_assert!(v.start >= shift.start && v.end <= shift.end);
        }
        for (i, a) in sp.visits.iter().enumerate() {
            for b in &sp.visits[i + 1..] {
                let overlap = a.start < b.end && b.start < a.end;
                prop_assert!(!(overlap && a.place == b.place), "two units at one place: {:?} {:?}", a, b);
                prop_assert!(!(overlap && a.unit == b.unit), "one unit in two places: {:?} {:?}", a, b);
            }
        }
        for p in &plan.places {
            prop_assert!(p.visits >= floor && p.visits <= visits);
        }
        prop_assert_eq!(&plan, &plan_patrols(&places, std::slice::from_ref(&shift), &cfg).unwrap());
    }

    #[test]
    fn roadmap_totals_add_up(
        raw in prop::collection::vec((0u8..3, 0i64..6, 0u8..4, -30i64..30, any::<bool>()), 0..60),
    ) {
        let now = ts(0);
        let measures: Vec<Measure> = raw.iter().enumerate().map(|(i, &(level, place, status, deadline, ev))| {
            let (region, district, mahalla) = (RegionId(1 + place % 2), DistrictId(10 + place % 3), MahallaId(100 + place));
            let area = match level {
                0 => Area::Region { region },
                1 => Area::District { region, district },
                _ => Area::Mahalla { region, district, mahalla },
            };
            Measure {
                id: i as i64,
                area,
                kind: MeasureKind::OutreachEducation,
                title: "t".into(),
                owner: "o".into(),
                deadline: ts(deadline * DAY_US),
                status: [MeasureStatus::Planned, MeasureStatus::InProgress, MeasureStatus::Done, MeasureStatus::Cancelled][status as usize],
                evidence: if ev { vec!["e".into()] } else { vec![] },
                completed_at: None,
            }
        }).collect();
        let r = roll_up(&measures, None, now).unwrap();
        let total: u32 = r.regions.iter().map(|x| x.total.total).sum();
        prop_assert_eq!(total as usize, measures.len());
        prop_assert_eq!(r.total.total as usize, measures.len());
        let overdue = measures.iter().filter(|m| m.overdue(now)).count();
        prop_assert_eq!(r.overdue.len(), overdue);
        prop_assert_eq!(r.regions.iter().map(|x| x.total.overdue).sum::<u32>() as usize, overdue);
        let mut by_state = BTreeMap::new();
        for m in &measures {
            *by_state.entry(m.verified_done()).or_insert(0u32) += 1;
        }
        prop_assert_eq!(r.total.done, by_state.get(&true).copied().unwrap_or(0));
        for reg in &r.regions {
            let sum: u32 = reg.own.total + reg.districts.iter().map(|d| d.total.total).sum::<u32>();
            prop_assert_eq!(sum, reg.total.total);
            for d in &reg.districts {
                let s: u32 = d.own.total + d.mahallas.iter().map(|m| m.own.total).sum::<u32>();
                prop_assert_eq!(s, d.total.total);
            }
        }
    }
}
