//! Precision of the machine's alerts: of the events a person reviewed, the share confirmed, with
//! a 95% Wilson score interval so that a rule with 2 reviews is not shown as "100%" beside one
//! with 200. Dismissals are broken down by reason, which says what to tune (shadows, animals,
//! reflections ...).
use std::collections::BTreeMap;

use serde::Serialize;

use crate::review::{DismissReason, Verdict};
use crate::{DomainError, word_enum};

word_enum! {
    /// How statistics over time are bucketed.
    pub enum Period("period") {
        /// Calendar days (UTC).
        Day = "day",
        /// ISO weeks, Monday to Sunday (UTC), named by their Monday.
        Week = "week",
    }
}

impl Period {
    /// The first day of the period holding `day` (`YYYY-MM-DD`), in the same form.
    pub fn start_of(self, day: &str) -> Result<String, DomainError> {
        let fmt = ::time::macros::format_description!("[year]-[month]-[day]");
        let d = ::time::Date::parse(day, &fmt)
            .map_err(|e| DomainError::invalid("day", format!("{day:?}: {e}")))?;
        let start = match self {
            Period::Day => d,
            Period::Week => {
                d - ::time::Duration::days(i64::from(d.weekday().number_days_from_monday()))
            }
        };
        start
            .format(&fmt)
            .map_err(|e| DomainError::invalid("day", e.to_string()))
    }
}

/// The standard normal quantile for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for `successes` out of `n` trials at quantile `z`; `None` when
/// `n` is 0 (nothing is known). Unlike the normal approximation it stays within 0..=1 and is
/// honest for small counts: 3 of 3 gives about 0.44..1, not 1..1.
pub fn wilson(successes: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 || successes > n {
        return None;
    }
    let (k, n) = (successes as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Verdicts counted for one rule, camera or period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    pub confirmed: u64,
    pub dismissed: u64,
    /// Dismissals by reason; reasons with no dismissal are left out.
    pub dismiss_reasons: BTreeMap<DismissReason, u64>,
}

impl Tally {
    /// Counts `n` verdicts.
    pub fn add(&mut self, verdict: Verdict, n: u64) {
        match verdict {
            Verdict::Confirm => self.confirmed += n,
            Verdict::Dismiss(r) => {
                self.dismissed += n;
                *self.dismiss_reasons.entry(r).or_default() += n;
            }
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        self.confirmed += other.confirmed;
        self.dismissed += other.dismissed;
        for (r, n) in &other.dismiss_reasons {
            *self.dismiss_reasons.entry(*r).or_default() += n;
        }
    }

    pub fn reviewed(&self) -> u64 {
        self.confirmed + self.dismissed
    }

    /// Confirmed / reviewed; `None` with nothing reviewed.
    pub fn precision(&self) -> Option<f64> {
        let n = self.reviewed();
        (n > 0).then(|| self.confirmed as f64 / n as f64)
    }

    /// The 95% Wilson interval of [`Tally::precision`].
    pub fn interval95(&self) -> Option<(f64, f64)> {
        wilson(self.confirmed, self.reviewed(), Z95)
    }

    /// As the API shows it: the counts, `precision`, `low`, `high` (null with nothing
    /// reviewed) and `dismiss_reasons`.
    pub fn to_json(&self) -> serde_json::Value {
        let (low, high) = match self.interval95() {
            Some((l, h)) => (Some(l), Some(h)),
            None => (None, None),
        };
        serde_json::json!({
            "confirmed": self.confirmed,
            "dismissed": self.dismissed,
            "reviewed": self.reviewed(),
            "precision": self.precision(),
            "low": low,
            "high": high,
            "dismiss_reasons": self.dismiss_reasons,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values computed independently with the textbook formula in Python (math.sqrt), z =
    /// 1.959963984540054; 8/10 also matches statsmodels' proportion_confint(method="wilson").
    #[test]
    fn wilson_known_answers() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        for (k, n, lo, hi) in [
            (8, 10, 0.4901624715366418, 0.9433178485456248),
            (0, 3, 0.0, 0.5614970317550455),
            (3, 3, 0.43850296824495455, 1.0),
            (50, 100, 0.4038315303659956, 0.5961684696340044),
            (1, 1, 0.20654931437723745, 1.0),
        ] {
            let (l, h) = wilson(k, n, Z95).unwrap();
            assert!(close(l, lo) && close(h, hi), "{k}/{n}: {l} {h}");
        }
        assert_eq!(wilson(0, 0, Z95), None);
        assert_eq!(wilson(4, 3, Z95), None);
    }

    #[test]
    fn periods_start_on_the_day_or_the_monday() {
        // 2024-05-01 was a Wednesday.
        assert_eq!(Period::Day.start_of("2024-05-01").unwrap(), "2024-05-01");
        assert_eq!(Period::Week.start_of("2024-05-01").unwrap(), "2024-04-29");
        assert_eq!(Period::Week.start_of("2024-04-29").unwrap(), "2024-04-29");
        assert_eq!(Period::Week.start_of("2024-05-05").unwrap(), "2024-04-29");
        assert_eq!(Period::Week.start_of("2024-05-06").unwrap(), "2024-05-06");
        assert_eq!(Period::Week.start_of("2025-01-01").unwrap(), "2024-12-30");
        assert!(Period::Week.start_of("2024-13-01").is_err());
        assert!("month".parse::<Period>().is_err());
    }

    #[test]
    fn small_counts_are_wide_and_large_ones_narrow() {
        let w = |k, n| {
            let (l, h) = wilson(k, n, Z95).unwrap();
            h - l
        };
        assert!(w(2, 2) > 0.6);
        assert!(w(200, 200) < 0.02);
        assert!(w(9, 10) > w(90, 100));
    }

    #[test]
    fn a_tally_counts_and_breaks_down_dismissals() {
        let mut t = Tally::default();
        t.add(Verdict::Confirm, 3);
        t.add(Verdict::Dismiss(DismissReason::Shadow), 2);
        t.add(Verdict::Dismiss(DismissReason::Animal), 1);
        let mut u = Tally::default();
        u.add(Verdict::Dismiss(DismissReason::Shadow), 1);
        t.merge(&u);
        assert_eq!((t.confirmed, t.dismissed, t.reviewed()), (3, 4, 7));
        assert_eq!(t.dismiss_reasons[&DismissReason::Shadow], 3);
        assert!((t.precision().unwrap() - 3.0 / 7.0).abs() < 1e-12);
        let j = t.to_json();
        assert_eq!(j["dismiss_reasons"]["shadow"], 3);
        assert_eq!(j["reviewed"], 7);
        let empty = Tally::default().to_json();
        assert!(empty["precision"].is_null() && empty["low"].is_null());
    }
}
