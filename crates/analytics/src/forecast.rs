//! Scoring hot-spot maps on a later, held-out period: the Predictive Accuracy Index, PEI*, and
//! an honest baseline every method must beat.
//!
//! * **PAI** (Chainey, Tompson and Uhlig 2008) = `(n / N) / (a / A)`: the share of the held-out
//!   period's incidents that fell in the flagged places over the share of the area flagged. A
//!   map that flags 5% of the area and catches 25% of the incidents has PAI 5; flagging at
//!   random gives about 1.
//! * **PEI\*** = PAI / PAI*, where PAI* is the largest PAI any map could have reached with the
//!   same flagged area, knowing the held-out incidents (the efficiency index NIJ's Real-Time
//!   Crime Forecasting Challenge scored as PEI*; docs/design/013 says where the published
//!   definition may differ): the places densest in held-out incidents are
//!   flagged first until the same area is used. It is `n / n*`, between 0 and 1; 1 is a
//!   perfect map for that area. With places of unequal area the best map is a knapsack
//!   problem; PAI* here is its fractional relaxation (flag the densest places, the last one
//!   in part), an upper bound that is exact for equal cells, so PEI* stays within [0, 1].
//! * **Baseline**: last period's counts, ranked the same way and flagging the same area. A
//!   method is preferred only when its PAI beats the baseline's on the same held-out period.
//!
//! Flags are fractions in [0, 1] per place, so that a ranking whose cut falls inside a group of
//! tied places flags each of them in the same part (the expected result of breaking the tie at
//! random) instead of an arbitrary subset: without that, a baseline of counts with many ties
//! (zeros) would win or lose by the order places happen to be listed in.
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::gistar::GiStar;

/// How much of the held-out period's incidents one flagged area captured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HitRate {
    /// Area flagged and area of the whole map (any unit, e.g. km^2; only shares matter).
    pub flagged_area: f64,
    pub total_area: f64,
    /// `a / A`.
    pub area_share: f64,
    /// Held-out incidents in the flagged area (`n`, fractional where places are flagged in
    /// part) and in all (`N`).
    pub captured: f64,
    pub total: f64,
    /// `n / N` (the hit rate); `None` without held-out incidents.
    pub captured_share: Option<f64>,
    /// `(n / N) / (a / A)`; `None` without incidents or without flagged area.
    pub pai: Option<f64>,
    /// The most incidents any map flagging the same area could have captured (`n*`).
    pub best_captured: f64,
    /// `(n* / N) / (a / A)`.
    pub pai_max: Option<f64>,
    /// `PAI / PAI* = n / n*`, in [0, 1].
    pub pei_star: Option<f64>,
}

/// Which map to prefer after scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preferred {
    /// The method's PAI is higher than the baseline's.
    Method,
    /// The baseline (last period's counts) did as well or better: use it.
    Baseline,
}

/// A method scored beside the baseline on the same held-out period and flagged area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastScore {
    pub method: HitRate,
    pub baseline: HitRate,
    /// `method.pai / baseline.pai`, where both exist.
    pub pai_ratio: Option<f64>,
    pub preferred: Preferred,
}

fn check(what: &str, v: &[f64], n: usize, positive: bool) -> Result<(), Error> {
    if v.len() != n {
        return Err(Error::InvalidInput(format!(
            "{} {what} for {n} places; give one per place, in the same order",
            v.len()
        )));
    }
    if let Some(i) = v
        .iter()
        .position(|x| !x.is_finite() || *x < 0.0 || (positive && *x == 0.0))
    {
        return Err(Error::InvalidInput(format!(
            "place {i} (0-based) has {what} {}; {what} must be finite and {}",
            v[i],
            if positive { "positive" } else { ">= 0" }
        )));
    }
    Ok(())
}

/// Rank places by `score / area` (highest first) and flag them until `area_share` of the total
/// area is flagged; a group of tied places at the cut is flagged in equal part. Returns the
/// fraction of each place flagged. `scores` are what the map predicts per place (counts, or a
/// density times the place's area); `area` must be positive.
pub fn flag_by_rank(scores: &[f64], area: &[f64], area_share: f64) -> Result<Vec<f64>, Error> {
    let n = scores.len();
    check("area", area, n, true)?;
    if let Some(i) = scores.iter().position(|x| !x.is_finite()) {
        return Err(Error::InvalidInput(format!(
            "place {i} (0-based) has score {}; scores must be finite numbers",
            scores[i]
        )));
    }
    if !(area_share > 0.0 && area_share <= 1.0) {
        return Err(Error::InvalidInput(format!(
            "the share of area to flag must be in (0, 1], e.g. 0.05 for 5%; got {area_share}"
        )));
    }
    Ok(fill_by_density(scores, area, area_share))
}

/// Flag places in decreasing `value / area` until `share` of the area is used; ties share.
fn fill_by_density(value: &[f64], area: &[f64], share: f64) -> Vec<f64> {
    let n = value.len();
    let total: f64 = area.iter().sum();
    let mut budget = share * total;
    let density: Vec<f64> = (0..n).map(|i| value[i] / area[i]).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| density[b].total_cmp(&density[a]).then(a.cmp(&b)));
    let mut flags = vec![0.0; n];
    let mut k = 0;
    while k < n && budget > 0.0 {
        let mut end = k + 1;
        while end < n && density[order[end]] == density[order[k]] {
            end += 1;
        }
        let group_area: f64 = order[k..end].iter().map(|&i| area[i]).sum();
        let f = if group_area <= budget {
            1.0
        } else {
            budget / group_area
        };
        for &i in &order[k..end] {
            flags[i] = f;
        }
        budget -= group_area * f;
        if f < 1.0 {
            break;
        }
        k = end;
    }
    flags
}

/// Score flagged places (`flags[i]` in [0, 1]: the part of place `i` flagged) on the held-out
/// counts.
pub fn hit_rate(flags: &[f64], area: &[f64], held_out: &[f64]) -> Result<HitRate, Error> {
    let n = flags.len();
    check("area", area, n, true)?;
    check("held-out counts", held_out, n, false)?;
    if let Some(i) = flags.iter().position(|f| !(0.0..=1.0).contains(f)) {
        return Err(Error::InvalidInput(format!(
            "place {i} (0-based) has flag {}; flags are the part of the place flagged, 0 to 1",
            flags[i]
        )));
    }
    let total_area: f64 = area.iter().sum();
    let total: f64 = held_out.iter().sum();
    let flagged_area: f64 = (0..n).map(|i| flags[i] * area[i]).sum();
    let captured: f64 = (0..n).map(|i| flags[i] * held_out[i]).sum();
    let area_share = flagged_area / total_area;
    // The best any map could do with the same area: densest held-out places first.
    let best_flags = if flagged_area > 0.0 {
        fill_by_density(held_out, area, area_share.min(1.0))
    } else {
        vec![0.0; n]
    };
    let best_captured: f64 = (0..n).map(|i| best_flags[i] * held_out[i]).sum();
    let ok = total > 0.0 && flagged_area > 0.0;
    let pai = ok.then(|| (captured / total) / area_share);
    let pai_max = ok.then(|| (best_captured / total) / area_share);
    let pei_star = (ok && best_captured > 0.0).then(|| (captured / best_captured).min(1.0));
    Ok(HitRate {
        flagged_area,
        total_area,
        area_share,
        captured,
        total,
        captured_share: (total > 0.0).then(|| captured / total),
        pai,
        best_captured,
        pai_max,
        pei_star,
    })
}

fn versus(method: HitRate, baseline: HitRate) -> ForecastScore {
    let pai_ratio = match (method.pai, baseline.pai) {
        (Some(m), Some(b)) if b > 0.0 => Some(m / b),
        _ => None,
    };
    let preferred = match (method.pai, baseline.pai) {
        (Some(m), Some(b)) if m > b => Preferred::Method,
        _ => Preferred::Baseline,
    };
    ForecastScore {
        method,
        baseline,
        pai_ratio,
        preferred,
    }
}

/// Score a map given as flags (e.g. the hot spots of a Gi* run, see [`hot_spot_flags`]) beside
/// the baseline: last period's counts flagging the same share of the area.
pub fn score_flags(
    flags: &[f64],
    last_period: &[f64],
    area: &[f64],
    held_out: &[f64],
) -> Result<ForecastScore, Error> {
    let method = hit_rate(flags, area, held_out)?;
    check("last-period counts", last_period, flags.len(), false)?;
    let baseline = if method.area_share > 0.0 {
        hit_rate(
            &fill_by_density(last_period, area, method.area_share.min(1.0)),
            area,
            held_out,
        )?
    } else {
        hit_rate(&vec![0.0; flags.len()], area, held_out)?
    };
    Ok(versus(method, baseline))
}

/// Score a map given as predicted values per place (ranked by value per area, flagging
/// `area_share` of the area) beside the baseline ranked and flagged the same way.
pub fn score_ranking(
    scores: &[f64],
    last_period: &[f64],
    area: &[f64],
    held_out: &[f64],
    area_share: f64,
) -> Result<ForecastScore, Error> {
    check("last-period counts", last_period, scores.len(), false)?;
    let method = hit_rate(&flag_by_rank(scores, area, area_share)?, area, held_out)?;
    let baseline = hit_rate(
        &flag_by_rank(last_period, area, area_share)?,
        area,
        held_out,
    )?;
    Ok(versus(method, baseline))
}

/// Flags (1 or 0) for the places a Gi* run classed hot at `confidence` (0.90, 0.95 or 0.99)
/// or above.
pub fn hot_spot_flags(g: &GiStar, confidence: f64) -> Vec<f64> {
    let alpha = 1.0 - confidence + 1e-12;
    g.class
        .iter()
        .zip(&g.p_fdr)
        .map(|(c, &p)| if c.is_hot() && p < alpha { 1.0 } else { 0.0 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn pai_and_pei_star_by_hand() {
        // Ten equal cells; held-out counts below (N = 20).
        let area = vec![1.0; 10];
        let held = [8.0, 0.0, 5.0, 3.0, 2.0, 1.0, 1.0, 0.0, 0.0, 0.0];
        // Flag cells 1 and 2: captures 5 of 20 with 2 of 10 of the area.
        let mut flags = vec![0.0; 10];
        flags[1] = 1.0;
        flags[2] = 1.0;
        let h = hit_rate(&flags, &area, &held).unwrap();
        assert!(close(h.pai.unwrap(), (5.0 / 20.0) / 0.2)); // 1.25
        // Best two cells: 8 + 5 = 13 -> PAI* = (13/20)/0.2 = 3.25; PEI* = 5/13.
        assert!(close(h.best_captured, 13.0));
        assert!(close(h.pai_max.unwrap(), 3.25));
        assert!(close(h.pei_star.unwrap(), 5.0 / 13.0));
        // A perfect map has PEI* 1.
        let mut best = vec![0.0; 10];
        best[0] = 1.0;
        best[2] = 1.0;
        assert!(close(
            hit_rate(&best, &area, &held).unwrap().pei_star.unwrap(),
            1.0
        ));
    }

    #[test]
    fn ties_at_the_cut_are_shared() {
        // Last period: one cell with 3, four tied at 1, five at 0. Flag 30% = 3 cells: the
        // 3-cell and half of each tied one (2 cells' worth among 4).
        let area = vec![1.0; 10];
        let last = [3.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let f = flag_by_rank(&last, &area, 0.3).unwrap();
        assert_eq!(f, vec![1.0, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]);
        // Reordering the places does not change the score.
        let held = [2.0, 4.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let h1 = hit_rate(&f, &area, &held).unwrap();
        let perm = [4usize, 3, 2, 1, 0, 9, 8, 7, 6, 5];
        let lp: Vec<f64> = perm.iter().map(|&i| last[i]).collect();
        let hp: Vec<f64> = perm.iter().map(|&i| held[i]).collect();
        let h2 = hit_rate(&flag_by_rank(&lp, &area, 0.3).unwrap(), &area, &hp).unwrap();
        assert!(close(h1.captured, 4.0)); // 2 + 0.5 * 4
        assert!(close(h2.captured, h1.captured));
    }

    #[test]
    fn unequal_areas_rank_by_density() {
        // A big place with many incidents but a low density, and a small dense one.
        let area = [10.0, 1.0, 9.0];
        let scores = [20.0, 5.0, 0.0];
        let f = flag_by_rank(&scores, &area, 0.05).unwrap(); // 1 of 20 units
        assert_eq!(f, vec![0.0, 1.0, 0.0]);
        let held = [10.0, 4.0, 6.0];
        let h = hit_rate(&f, &area, &held).unwrap();
        assert!(close(h.pai.unwrap(), (4.0 / 20.0) / 0.05)); // 4
        assert!(close(h.pei_star.unwrap(), 1.0));
    }

    #[test]
    fn a_method_must_beat_the_baseline() {
        let area = vec![1.0; 6];
        let last = [5.0, 4.0, 0.0, 0.0, 1.0, 0.0];
        let held = [6.0, 3.0, 1.0, 0.0, 0.0, 0.0];
        // A method that flags the same cells as the baseline is not preferred (a tie).
        let s = score_ranking(&last, &last, &area, &held, 2.0 / 6.0).unwrap();
        assert_eq!(s.preferred, Preferred::Baseline);
        assert!(close(s.pai_ratio.unwrap(), 1.0));
        // A worse method loses.
        let worse = [0.0, 0.0, 0.0, 1.0, 2.0, 0.0];
        let s = score_ranking(&worse, &last, &area, &held, 2.0 / 6.0).unwrap();
        assert_eq!(s.preferred, Preferred::Baseline);
        assert_eq!(s.method.pai, Some(0.0));
        // Flags: the baseline flags the same area share as the method's flags.
        let flags = [1.0, 0.0, 1.0, 0.0, 0.0, 0.0];
        let s = score_flags(&flags, &last, &area, &held).unwrap();
        assert!(close(s.baseline.area_share, s.method.area_share));
        assert!(close(s.method.captured, 7.0));
        assert!(close(s.baseline.captured, 9.0));
        assert_eq!(s.preferred, Preferred::Baseline);
    }

    #[test]
    fn bad_input_is_named() {
        assert!(hit_rate(&[0.5], &[0.0], &[1.0]).is_err());
        assert!(hit_rate(&[1.5], &[1.0], &[1.0]).is_err());
        assert!(hit_rate(&[1.0, 0.0], &[1.0], &[1.0]).is_err());
        assert!(flag_by_rank(&[1.0], &[1.0], 0.0).is_err());
        assert!(flag_by_rank(&[f64::NAN], &[1.0], 0.5).is_err());
        // No held-out incidents: no PAI.
        let h = hit_rate(&[1.0, 0.0], &[1.0, 1.0], &[0.0, 0.0]).unwrap();
        assert_eq!(h.pai, None);
    }
}
