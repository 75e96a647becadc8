//! Patrol plans for tested hot spots, and patrol time against harm.
//!
//! **The plan.** Koper (1995, "Just enough police presence") found that a patrol stop deters
//! best at about 10 to 15 minutes, after which the effect wears off; the hot-spots literature
//! turned that into short visits spread unpredictably over a shift. For each shift the plan
//! cuts the shift into `visits_per_unit` equal slots; in every slot each unit makes one visit of
//! 10 to 15 minutes at a random minute inside the slot. So every unit's visits are spread over
//! the whole shift, and because no place is given to two units in the same slot (and a visit
//! never leaves its slot), two units are never at one place at the same time.
//!
//! Visits go to places in proportion to their weight (a tested hot spot's harm, e.g. public
//! reports in its area), after a floor of `floor_visits` for every place listed and with at
//! most one visit per place per slot; the rounding is Hamilton's (largest remainder). Which
//! place falls in which slot, and which unit goes where, is drawn from `seed`: the same input
//! gives the same plan, a new seed a new one. Travel between places is not modelled: a slot is
//! longer than its visit, and the rest is travel and ordinary duty.
//!
//! **Patrol time against harm.** Logged patrol time per place (overlapping entries of one unit
//! at one place merged, clipped to the period) is compared with harm per place: a place with a
//! fifth of the patrol time and a twentieth of the harm has ratio 4, and shows as over-policed.
//! Take harm from public reports (and confirmed camera events), not from patrol finds: finds
//! follow patrols, and measuring harm with them would hide exactly the over-policing this view
//! is for.
use std::collections::{BTreeMap, HashMap, HashSet};

use domain::{Category, MahallaId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::data::{IncidentRecord, Period, SourceSet};
use crate::gistar::GiStar;
use crate::rng::Rng;

/// Shortest visit, minutes (Koper's curve).
pub const VISIT_MIN_MINUTES: u32 = 10;
/// Longest visit, minutes.
pub const VISIT_MAX_MINUTES: u32 = 15;
const MINUTE_US: i64 = 60_000_000;

/// A place patrols may be sent to, with its weight (>= 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolPlace {
    /// A mahalla id or a grid cell's index: whatever the caller's map uses.
    pub place: i64,
    pub weight: f64,
}

/// A shift and the units on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shift {
    pub start: Timestamp,
    pub end: Timestamp,
    pub units: Vec<String>,
}

fn default_visits() -> u32 {
    6
}
fn default_floor() -> u32 {
    1
}

/// How to plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolConfig {
    /// Hot-spot visits each unit makes per shift (default 6: one every 80 minutes of an 8-hour
    /// shift).
    #[serde(default = "default_visits")]
    pub visits_per_unit: u32,
    /// Visits every listed place gets per shift before the rest is shared by weight (default 1).
    #[serde(default = "default_floor")]
    pub floor_visits: u32,
    /// Seed of the draws (same seed and input: same plan).
    #[serde(default)]
    pub seed: u64,
}

impl Default for PatrolConfig {
    fn default() -> Self {
        PatrolConfig {
            visits_per_unit: default_visits(),
            floor_visits: default_floor(),
            seed: 0,
        }
    }
}

/// One visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub unit: String,
    pub place: i64,
    pub start: Timestamp,
    pub end: Timestamp,
    pub minutes: u32,
    /// Which slot of the shift (0-based, in time order).
    pub slot: u32,
}

/// The plan of one shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftPlan {
    pub start: Timestamp,
    pub end: Timestamp,
    pub slot_minutes: f64,
    /// Every visit, in time order.
    pub visits: Vec<Visit>,
    /// Unit-slots without a visit (more units than places: never two units on one place).
    pub idle_unit_slots: u32,
}

/// How the visits of a plan were shared among the places.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceAllocation {
    pub place: i64,
    pub weight: f64,
    pub weight_share: f64,
    pub visits: u32,
    pub visit_share: f64,
    pub minutes: u32,
}

/// The patrol plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolPlan {
    pub seed: u64,
    pub visits_per_unit: u32,
    pub floor_visits: u32,
    pub shifts: Vec<ShiftPlan>,
    /// Over all shifts, in the order the places were given.
    pub places: Vec<PlaceAllocation>,
}

/// Share `total` visits among places: `floor` each, the rest by weight (Hamilton), at most `cap`
/// each.
fn apportion(weights: &[f64], total: u64, floor: u64, cap: u64) -> Vec<u64> {
    let p = weights.len();
    let mut alloc = vec![floor; p];
    let mut rest = total - floor * p as u64;
    let mut open: Vec<usize> = (0..p).filter(|&i| alloc[i] < cap).collect();
    // Water-filling: give capped places their cap and share again among the others.
    loop {
        if rest == 0 || open.is_empty() {
            break;
        }
        let w_sum: f64 = open.iter().map(|&i| weights[i]).sum();
        let w = |i: usize| {
            if w_sum > 0.0 {
                weights[i] / w_sum
            } else {
                1.0 / open.len() as f64
            }
        };
        let quota: Vec<f64> = open.iter().map(|&i| rest as f64 * w(i)).collect();
        let over: Vec<usize> = open
            .iter()
            .zip(&quota)
            .filter(|&(&i, &qt)| alloc[i] as f64 + qt >= cap as f64)
            .map(|(&i, _)| i)
            .collect();
        if !over.is_empty() {
            for &i in &over {
                rest -= cap - alloc[i];
                alloc[i] = cap;
            }
            open.retain(|i| !over.contains(i));
            continue;
        }
        let mut given = 0u64;
        let mut rem: Vec<(f64, usize)> = Vec::with_capacity(open.len());
        for (&i, &qt) in open.iter().zip(&quota) {
            let whole = qt.floor() as u64;
            alloc[i] += whole;
            given += whole;
            rem.push((qt - whole as f64, i));
        }
        let mut left = rest - given;
        rem.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(weights[b.1].total_cmp(&weights[a.1]))
                .then(a.1.cmp(&b.1))
        });
        for &(_, i) in &rem {
            if left == 0 {
                break;
            }
            if alloc[i] < cap {
                alloc[i] += 1;
                left -= 1;
            }
        }
        rest = left;
        // Anything still left (every remaining place at its cap) cannot happen: the caller
        // makes sure places * cap >= total.
        open.retain(|&i| alloc[i] < cap);
    }
    alloc
}

/// Plan visits for each shift (see the module notes).
pub fn plan_patrols(
    places: &[PatrolPlace],
    shifts: &[Shift],
    cfg: &PatrolConfig,
) -> Result<PatrolPlan, Error> {
    if places.is_empty() {
        return Err(Error::InvalidInput(
            "no places to patrol; pass the tested hot spots (e.g. Gi* hot at 95%) with a weight each"
                .into(),
        ));
    }
    let mut seen = HashSet::new();
    for (i, p) in places.iter().enumerate() {
        if !seen.insert(p.place) {
            return Err(Error::InvalidInput(format!(
                "place {} is listed twice; list each place once",
                p.place
            )));
        }
        if !(p.weight.is_finite() && p.weight >= 0.0) {
            return Err(Error::InvalidInput(format!(
                "place {} (entry {i}) has weight {}; weights must be finite and >= 0",
                p.place, p.weight
            )));
        }
    }
    let v = cfg.visits_per_unit;
    if v == 0 {
        return Err(Error::InvalidInput(
            "visits_per_unit must be at least 1".into(),
        ));
    }
    let weights: Vec<f64> = places.iter().map(|p| p.weight).collect();
    let w_total: f64 = weights.iter().sum();
    let mut visits_total = vec![0u32; places.len()];
    let mut minutes_total = vec![0u32; places.len()];
    let mut plans = Vec::with_capacity(shifts.len());
    for (si, shift) in shifts.iter().enumerate() {
        let len_us = shift.end.unix_micros() - shift.start.unix_micros();
        let slot_us = len_us / i64::from(v);
        if slot_us < i64::from(VISIT_MAX_MINUTES) * MINUTE_US {
            return Err(Error::InvalidInput(format!(
                "shift {si} lasts {:.0} minutes: too short for {v} visits of up to \
                 {VISIT_MAX_MINUTES} minutes each; lower visits_per_unit",
                len_us as f64 / MINUTE_US as f64
            )));
        }
        let mut units = HashSet::new();
        for u in &shift.units {
            if !units.insert(u) {
                return Err(Error::InvalidInput(format!(
                    "unit {u:?} is listed twice on shift {si}"
                )));
            }
        }
        let u = shift.units.len();
        if u == 0 {
            plans.push(ShiftPlan {
                start: shift.start,
                end: shift.end,
                slot_minutes: slot_us as f64 / MINUTE_US as f64,
                visits: Vec::new(),
                idle_unit_slots: 0,
            });
            continue;
        }
        let lanes = u.min(places.len());
        let total = u64::from(v) * lanes as u64;
        let floor = u64::from(cfg.floor_visits);
        if floor * places.len() as u64 > total {
            return Err(Error::InvalidInput(format!(
                "{} places with a floor of {floor} visits each need {} visits, but shift {si} \
                 has {total} ({u} units x {v} visits); lower floor_visits, add units or list \
                 fewer places",
                places.len(),
                floor * places.len() as u64
            )));
        }
        if floor > u64::from(v) {
            return Err(Error::InvalidInput(format!(
                "floor_visits ({floor}) is more than visits_per_unit ({v}); a place can have at \
                 most one visit per slot"
            )));
        }
        let alloc = apportion(&weights, total, floor, u64::from(v));
        // Tokens: each place's visits consecutive, most visited first.
        let mut order: Vec<usize> = (0..places.len()).collect();
        order.sort_by(|&a, &b| alloc[b].cmp(&alloc[a]).then(a.cmp(&b)));
        let tokens: Vec<usize> = order
            .iter()
            .flat_map(|&i| std::iter::repeat_n(i, alloc[i] as usize))
            .collect();
        debug_assert_eq!(tokens.len() as u64, total);
        // grid[slot][lane] = place index; a place's <= v consecutive tokens land in distinct
        // slots, so no slot holds a place twice.
        let vs = v as usize;
        let mut grid = vec![vec![usize::MAX; lanes]; vs];
        for (idx, &t) in tokens.iter().enumerate() {
            grid[idx % vs][idx / vs] = t;
        }
        let mut rng =
            Rng::seed_from_u64(cfg.seed ^ (si as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        shuffle(&mut grid, &mut rng);
        // assign[slot][unit] = place index or none.
        let mut assign: Vec<Vec<Option<usize>>> = Vec::with_capacity(vs);
        for row in &grid {
            let mut cols: Vec<Option<usize>> = row.iter().map(|&p| Some(p)).collect();
            cols.resize(u, None);
            shuffle(&mut cols, &mut rng);
            assign.push(cols);
        }
        // Avoid sending a unit straight back to the place it has just left, where a swap with
        // another unit in the same slot allows it.
        for s in 1..vs {
            for a in 0..u {
                let repeat = assign[s][a].is_some() && assign[s][a] == assign[s - 1][a];
                let partner = || {
                    (0..u).find(|&b| {
                        b != a
                            && assign[s][b] != assign[s - 1][a]
                            && assign[s][a] != assign[s - 1][b]
                    })
                };
                if let Some(b) = repeat.then(partner).flatten() {
                    assign[s].swap(a, b);
                }
            }
        }
        let mut visits = Vec::with_capacity(total as usize);
        let mut idle = 0u32;
        for (s, row) in assign.iter().enumerate() {
            let slot_start = shift.start.unix_micros() + s as i64 * slot_us;
            for (ui, p) in row.iter().enumerate() {
                let Some(p) = *p else {
                    idle += 1;
                    continue;
                };
                let span = u64::from(VISIT_MAX_MINUTES - VISIT_MIN_MINUTES) + 1;
                let minutes = VISIT_MIN_MINUTES + rng.below(span) as u32;
                let dur = i64::from(minutes) * MINUTE_US;
                let free_minutes = ((slot_us - dur) / MINUTE_US) as u64;
                let offset = rng.below(free_minutes + 1) as i64 * MINUTE_US;
                let start = slot_start + offset;
                visits.push(Visit {
                    unit: shift.units[ui].clone(),
                    place: places[p].place,
                    start: Timestamp::from_unix_micros(start).unwrap_or(shift.start),
                    end: Timestamp::from_unix_micros(start + dur).unwrap_or(shift.end),
                    minutes,
                    slot: s as u32,
                });
                visits_total[p] += 1;
                minutes_total[p] += minutes;
            }
        }
        visits.sort_by(|a, b| a.start.cmp(&b.start).then(a.unit.cmp(&b.unit)));
        plans.push(ShiftPlan {
            start: shift.start,
            end: shift.end,
            slot_minutes: slot_us as f64 / MINUTE_US as f64,
            visits,
            idle_unit_slots: idle,
        });
    }
    let all_visits: u32 = visits_total.iter().sum();
    let places_out = places
        .iter()
        .enumerate()
        .map(|(i, p)| PlaceAllocation {
            place: p.place,
            weight: p.weight,
            weight_share: if w_total > 0.0 {
                p.weight / w_total
            } else {
                1.0 / places.len() as f64
            },
            visits: visits_total[i],
            visit_share: if all_visits > 0 {
                f64::from(visits_total[i]) / f64::from(all_visits)
            } else {
                0.0
            },
            minutes: minutes_total[i],
        })
        .collect();
    Ok(PatrolPlan {
        seed: cfg.seed,
        visits_per_unit: v,
        floor_visits: cfg.floor_visits,
        shifts: plans,
        places: places_out,
    })
}

fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// The places a Gi* run classed hot at `confidence` (0.90, 0.95 or 0.99) or above, weighted by
/// `harm` (one value per place of the run, e.g. last period's public reports), with the ids
/// `ids` (one per place).
pub fn hot_spot_places(
    ids: &[i64],
    g: &GiStar,
    harm: &[f64],
    confidence: f64,
) -> Result<Vec<PatrolPlace>, Error> {
    if ids.len() != g.class.len() || harm.len() != g.class.len() {
        return Err(Error::InvalidInput(format!(
            "{} ids and {} harm values for a Gi* run over {} places; give one per place",
            ids.len(),
            harm.len(),
            g.class.len()
        )));
    }
    let flags = crate::forecast::hot_spot_flags(g, confidence);
    Ok((0..ids.len())
        .filter(|&i| flags[i] > 0.0)
        .map(|i| PatrolPlace {
            place: ids[i],
            weight: harm[i].max(0.0),
        })
        .collect())
}

/// Patrol time logged at a place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatrolLog {
    pub unit: String,
    pub place: i64,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Minutes of patrol per place within `period`; overlapping entries of the same unit at the
/// same place count once.
pub fn patrol_minutes(logs: &[PatrolLog], period: &Period) -> Result<BTreeMap<i64, f64>, Error> {
    let mut by: HashMap<(&str, i64), Vec<(i64, i64)>> = HashMap::new();
    for (i, l) in logs.iter().enumerate() {
        if l.end < l.start {
            return Err(Error::InvalidInput(format!(
                "patrol log entry {i} ({} at place {}) ends before it starts",
                l.unit, l.place
            )));
        }
        let s = l.start.max(period.start).unix_micros();
        let e = l.end.min(period.end).unix_micros();
        if e > s {
            by.entry((l.unit.as_str(), l.place))
                .or_default()
                .push((s, e));
        }
    }
    let mut out: BTreeMap<i64, f64> = BTreeMap::new();
    for ((_, place), mut iv) in by {
        iv.sort_unstable();
        let mut total = 0i64;
        let (mut cs, mut ce) = iv[0];
        for &(s, e) in &iv[1..] {
            if s <= ce {
                ce = ce.max(e);
            } else {
                total += ce - cs;
                (cs, ce) = (s, e);
            }
        }
        total += ce - cs;
        *out.entry(place).or_default() += total as f64 / MINUTE_US as f64;
    }
    Ok(out)
}

/// Harm per mahalla from incidents in `period` from `sources`, each weighted by
/// `weight(category)` (1 for every category counts incidents; a harm index weighs them by
/// seriousness).
pub fn harm_by_mahalla(
    incidents: &[IncidentRecord],
    period: &Period,
    sources: SourceSet,
    weight: impl Fn(Category) -> f64,
) -> BTreeMap<MahallaId, f64> {
    let mut out = BTreeMap::new();
    for inc in incidents {
        if period.contains(inc.at) && sources.contains(inc.source) {
            *out.entry(inc.mahalla).or_default() += weight(inc.category);
        }
    }
    out
}

/// How a place's share of patrol time compares with its share of harm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatrolReading {
    /// Patrol share above `over` times the harm share.
    OverPoliced,
    /// Patrol share below `under` times the harm share.
    UnderPoliced,
    InLine,
    /// Patrolled, but no harm recorded.
    PatrolWithoutHarm,
    /// Neither patrol nor harm.
    Neither,
}

/// One place in the patrol-against-harm view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolHarmRow {
    pub place: i64,
    pub patrol_minutes: f64,
    pub patrol_share: f64,
    pub harm: f64,
    pub harm_share: f64,
    /// `patrol_share / harm_share`; `None` when the place has no harm.
    pub ratio: Option<f64>,
    pub reading: PatrolReading,
}

/// The patrol-against-harm view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolHarmReport {
    pub total_minutes: f64,
    pub total_harm: f64,
    pub over: f64,
    pub under: f64,
    pub over_policed: usize,
    pub under_policed: usize,
    /// Most over-policed first (highest ratio; patrol without harm at the top).
    pub rows: Vec<PatrolHarmRow>,
}

/// Compare each place's share of patrol minutes with its share of harm (places in either map);
/// a ratio above `over` (e.g. 2) reads over-policed, below `under` (e.g. 0.5) under-policed.
pub fn patrol_vs_harm(
    minutes: &BTreeMap<i64, f64>,
    harm: &BTreeMap<i64, f64>,
    over: f64,
    under: f64,
) -> Result<PatrolHarmReport, Error> {
    if !(under > 0.0 && under < 1.0 && over > 1.0 && over.is_finite()) {
        return Err(Error::InvalidInput(format!(
            "thresholds must satisfy 0 < under < 1 < over (e.g. 0.5 and 2); got under {under}, over {over}"
        )));
    }
    for (what, m) in [("patrol minutes", minutes), ("harm", harm)] {
        if let Some((p, v)) = m.iter().find(|(_, v)| !(v.is_finite() && **v >= 0.0)) {
            return Err(Error::InvalidInput(format!(
                "place {p} has {what} {v}; values must be finite and >= 0"
            )));
        }
    }
    let total_minutes: f64 = minutes.values().sum();
    let total_harm: f64 = harm.values().sum();
    let places: std::collections::BTreeSet<i64> =
        minutes.keys().chain(harm.keys()).copied().collect();
    let mut rows: Vec<PatrolHarmRow> = places
        .into_iter()
        .map(|p| {
            let pm = minutes.get(&p).copied().unwrap_or(0.0);
            let h = harm.get(&p).copied().unwrap_or(0.0);
            let ps = if total_minutes > 0.0 {
                pm / total_minutes
            } else {
                0.0
            };
            let hs = if total_harm > 0.0 {
                h / total_harm
            } else {
                0.0
            };
            let ratio = (hs > 0.0).then(|| ps / hs);
            let reading = match ratio {
                Some(r) if r > over => PatrolReading::OverPoliced,
                Some(r) if r < under => PatrolReading::UnderPoliced,
                Some(_) => PatrolReading::InLine,
                None if ps > 0.0 => PatrolReading::PatrolWithoutHarm,
                None => PatrolReading::Neither,
            };
            PatrolHarmRow {
                place: p,
                patrol_minutes: pm,
                patrol_share: ps,
                harm: h,
                harm_share: hs,
                ratio,
                reading,
            }
        })
        .collect();
    let key = |r: &PatrolHarmRow| match r.ratio {
        Some(x) => x,
        None if r.patrol_share > 0.0 => f64::INFINITY,
        None => f64::NEG_INFINITY,
    };
    rows.sort_by(|a, b| key(b).total_cmp(&key(a)).then(a.place.cmp(&b.place)));
    Ok(PatrolHarmReport {
        total_minutes,
        total_harm,
        over,
        under,
        over_policed: rows
            .iter()
            .filter(|r| {
                matches!(
                    r.reading,
                    PatrolReading::OverPoliced | PatrolReading::PatrolWithoutHarm
                )
            })
            .count(),
        under_policed: rows
            .iter()
            .filter(|r| r.reading == PatrolReading::UnderPoliced)
            .count(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> Timestamp {
        Timestamp::from_unix_micros(1_700_000_000_000_000 + min * MINUTE_US).unwrap()
    }

    #[test]
    fn apportion_by_hand() {
        // 12 visits, floor 1 each for 3 places, the other 9 by weights 6:3:1 with a cap of 6:
        // quotas 5.4, 2.7, 0.9; the first reaches its cap (1 + 5.4 >= 6) and takes 5, the 4
        // left are shared 3:1 -> 3 and 1.
        assert_eq!(apportion(&[6.0, 3.0, 1.0], 12, 1, 6), vec![6, 4, 2]);
        // Capped: weights 100:1:1, 12 visits, cap 6, floor 0 -> 6, then 6 shared 1:1.
        assert_eq!(apportion(&[100.0, 1.0, 1.0], 12, 0, 6), vec![6, 3, 3]);
        // All weights zero: equal shares.
        assert_eq!(apportion(&[0.0, 0.0, 0.0], 9, 0, 6), vec![3, 3, 3]);
    }

    #[test]
    fn plan_keeps_its_promises() {
        let places: Vec<PatrolPlace> = (0..7)
            .map(|i| PatrolPlace {
                place: 100 + i,
                weight: [10.0, 6.0, 3.0, 1.0, 1.0, 0.5, 0.0][i as usize],
            })
            .collect();
        let shift = Shift {
            start: t(0),
            end: t(8 * 60),
            units: vec!["A".into(), "B".into(), "C".into()],
        };
        let cfg = PatrolConfig::default();
        let plan = plan_patrols(&places, std::slice::from_ref(&shift), &cfg).unwrap();
        let sp = &plan.shifts[0];
        assert_eq!(sp.visits.len(), 18);
        assert_eq!(sp.slot_minutes, 80.0);
        for v in &sp.visits {
            assert!((10..=15).contains(&v.minutes));
            assert_eq!(
                v.end.unix_micros() - v.start.unix_micros(),
                i64::from(v.minutes) * MINUTE_US
            );
            // Inside its slot, inside the shift.
            let s0 = t(80 * i64::from(v.slot));
            assert!(v.start >= s0 && v.end <= t(80 * (i64::from(v.slot) + 1)));
        }
        // Every unit: one visit per slot.
        for u in ["A", "B", "C"] {
            let mut slots: Vec<u32> = sp
                .visits
                .iter()
                .filter(|v| v.unit == u)
                .map(|v| v.slot)
                .collect();
            slots.sort();
            assert_eq!(slots, (0..6).collect::<Vec<_>>());
        }
        // No two units at one place at the same time.
        for a in &sp.visits {
            for b in &sp.visits {
                if a != b && a.place == b.place {
                    assert!(a.end <= b.start || b.end <= a.start, "{a:?} {b:?}");
                }
            }
        }
        // Floor of 1 each, the other 11 by weight (21.5 in all).
        let visits: Vec<u32> = plan.places.iter().map(|p| p.visits).collect();
        assert_eq!(visits.iter().sum::<u32>(), 18);
        assert!(visits.iter().all(|&v| v >= 1));
        assert_eq!(
            visits,
            apportion(&[10.0, 6.0, 3.0, 1.0, 1.0, 0.5, 0.0], 18, 1, 6)
                .iter()
                .map(|&x| x as u32)
                .collect::<Vec<_>>()
        );
        // Deterministic with the seed, different with another.
        let again = plan_patrols(&places, std::slice::from_ref(&shift), &cfg).unwrap();
        assert_eq!(plan, again);
        let other = plan_patrols(
            &places,
            std::slice::from_ref(&shift),
            &PatrolConfig { seed: 7, ..cfg },
        )
        .unwrap();
        assert_ne!(plan.shifts[0].visits, other.shifts[0].visits);
    }

    #[test]
    fn more_units_than_places_never_share_a_place() {
        let places = vec![PatrolPlace {
            place: 1,
            weight: 1.0,
        }];
        let shift = Shift {
            start: t(0),
            end: t(120),
            units: vec!["A".into(), "B".into()],
        };
        let cfg = PatrolConfig {
            visits_per_unit: 4,
            floor_visits: 1,
            seed: 3,
        };
        let plan = plan_patrols(&places, &[shift], &cfg).unwrap();
        assert_eq!(plan.shifts[0].visits.len(), 4);
        assert_eq!(plan.shifts[0].idle_unit_slots, 4);
    }

    #[test]
    fn impossible_plans_say_why() {
        let places: Vec<PatrolPlace> = (0..10)
            .map(|i| PatrolPlace {
                place: i,
                weight: 1.0,
            })
            .collect();
        let shift = Shift {
            start: t(0),
            end: t(60),
            units: vec!["A".into()],
        };
        // 5 visits of up to 15 minutes do not fit in an hour.
        let cfg = PatrolConfig {
            visits_per_unit: 5,
            ..Default::default()
        };
        assert!(plan_patrols(&places, std::slice::from_ref(&shift), &cfg).is_err());
        // 10 places with a floor of 1 need 10 visits; one unit makes 4.
        let cfg = PatrolConfig {
            visits_per_unit: 4,
            ..Default::default()
        };
        let e = plan_patrols(&places, std::slice::from_ref(&shift), &cfg).unwrap_err();
        assert!(e.to_string().contains("floor"), "{e}");
        let dup = vec![places[0].clone(), places[0].clone()];
        assert!(plan_patrols(&dup, &[shift], &PatrolConfig::default()).is_err());
    }

    #[test]
    fn patrol_minutes_merge_and_clip() {
        let log = |u: &str, p, s, e| PatrolLog {
            unit: u.into(),
            place: p,
            start: t(s),
            end: t(e),
        };
        let logs = [
            log("A", 1, 0, 30),
            log("A", 1, 20, 40),  // overlaps: A at 1 from 0 to 40
            log("B", 1, 10, 20),  // another unit: counts
            log("A", 2, 50, 200), // clipped at 120
        ];
        let period = Period::new(t(0), t(120)).unwrap();
        let m = patrol_minutes(&logs, &period).unwrap();
        assert_eq!(m[&1], 50.0);
        assert_eq!(m[&2], 70.0);
        assert!(patrol_minutes(&[log("A", 1, 10, 5)], &period).is_err());
    }

    #[test]
    fn patrol_against_harm_by_hand() {
        let minutes = BTreeMap::from([(1, 600.0), (2, 300.0), (3, 100.0), (4, 0.0)]);
        let harm = BTreeMap::from([(1, 5.0), (2, 30.0), (4, 15.0)]);
        let r = patrol_vs_harm(&minutes, &harm, 2.0, 0.5).unwrap();
        let row = |p| r.rows.iter().find(|x| x.place == p).unwrap().clone();
        // Place 1: 60% of patrol, 10% of harm: ratio 6, over-policed.
        assert!((row(1).ratio.unwrap() - 6.0).abs() < 1e-12);
        assert_eq!(row(1).reading, PatrolReading::OverPoliced);
        // Place 2: 30% and 60%: ratio 0.5, in line (not below 0.5).
        assert_eq!(row(2).reading, PatrolReading::InLine);
        assert_eq!(row(3).reading, PatrolReading::PatrolWithoutHarm);
        assert_eq!(row(4).reading, PatrolReading::UnderPoliced);
        assert_eq!(r.rows[0].place, 3);
        assert_eq!((r.over_policed, r.under_policed), (2, 1));
    }
}
