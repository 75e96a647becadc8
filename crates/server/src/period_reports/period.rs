//! The parameters of a period report: the area (`district:ID`) and the period (`2026-10`,
//! `2026-Q3`, `2026-H1`), in Tashkent time.
use analytics::data::{
    DAY_US, Period, UZ_OFFSET_S, civil_from_days, days_from_civil, local_midnight, month,
};
use domain::Timestamp;

/// A month (`2026-10`), quarter (`2026-Q3`) or half year (`2026-H1`), in local time (UTC+5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPeriod {
    year: i64,
    /// 1..=12.
    first_month: u32,
    /// 1, 3 or 6.
    months: u32,
}

impl ReportPeriod {
    /// Parses `2026-10`, `2026-Q3` or `2026-H1` (years 2000 to 9998).
    pub fn parse(raw: &str) -> Result<ReportPeriod, String> {
        let bad = || {
            format!(
                "period {raw:?} is not a month (2026-10), a quarter (2026-Q3) or a half year \
                 (2026-H1)"
            )
        };
        let (y, rest) = raw.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i64 = y.parse().map_err(|_| bad())?;
        if !(2000..=9998).contains(&year) {
            return Err(format!(
                "period {raw:?}: the year must be between 2000 and 9998"
            ));
        }
        let (first_month, months) = match rest.as_bytes() {
            [b'Q' | b'q', n @ b'1'..=b'4'] => (u32::from(n - b'1') * 3 + 1, 3),
            [b'H' | b'h', n @ b'1'..=b'2'] => (u32::from(n - b'1') * 6 + 1, 6),
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                let m = u32::from(a - b'0') * 10 + u32::from(b - b'0');
                if !(1..=12).contains(&m) {
                    return Err(bad());
                }
                (m, 1)
            }
            _ => return Err(bad()),
        };
        Ok(ReportPeriod {
            year,
            first_month,
            months,
        })
    }

    /// `2026-10`, `2026-Q3`, `2026-H1`.
    pub fn label(&self) -> String {
        match self.months {
            3 => format!("{}-Q{}", self.year, (self.first_month - 1) / 3 + 1),
            6 => format!("{}-H{}", self.year, (self.first_month - 1) / 6 + 1),
            _ => format!("{}-{:02}", self.year, self.first_month),
        }
    }

    /// The month `k` months after this period's first (negative: before), as (year, month).
    fn month_at(&self, k: i64) -> (i64, u32) {
        let i = self.year * 12 + i64::from(self.first_month) - 1 + k;
        (i.div_euclid(12), (i.rem_euclid(12) + 1) as u32)
    }

    fn shifted(&self, months: i64) -> ReportPeriod {
        let (year, first_month) = self.month_at(months);
        ReportPeriod {
            year,
            first_month,
            months: self.months,
        }
    }

    /// The `n` months ending with this period's last: each one's label (`2026-07`) and span.
    pub(crate) fn last_months(&self, n: u32) -> Vec<(String, Period)> {
        (0..i64::from(n))
            .rev()
            .map(|back| {
                let (y, m) = self.month_at(i64::from(self.months) - 1 - back);
                (format!("{y}-{m:02}"), month(y, m, UZ_OFFSET_S))
            })
            .collect()
    }

    /// The period of the same kind just before (2026-Q2 before 2026-Q3, 2025-12 before 2026-01).
    pub fn previous(&self) -> ReportPeriod {
        self.shifted(-i64::from(self.months))
    }

    /// The period of the same kind just after.
    pub fn next(&self) -> ReportPeriod {
        self.shifted(i64::from(self.months))
    }

    /// The same period a year earlier.
    pub fn year_before(&self) -> ReportPeriod {
        self.shifted(-12)
    }

    /// `[start, end)` in Uzbekistan's time.
    pub fn period(&self) -> Period {
        let (ey, em) = self.month_at(i64::from(self.months));
        Period {
            start: local_midnight(self.year, self.first_month, 1, UZ_OFFSET_S),
            end: local_midnight(ey, em, 1, UZ_OFFSET_S),
        }
    }

    /// First and last day (inclusive), `YYYY-MM-DD`.
    pub fn days(&self) -> (String, String) {
        let (ey, em) = self.month_at(i64::from(self.months));
        let (ly, lm, ld) = civil_from_days(days_from_civil(ey, em, 1) - 1);
        (
            format!("{}-{:02}-01", self.year, self.first_month),
            format!("{ly}-{lm:02}-{ld:02}"),
        )
    }
}

/// `mahalla:ID`, `district:ID` or `region:ID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaRef {
    Mahalla(i64),
    District(i64),
    Region(i64),
}

impl AreaRef {
    pub fn parse(raw: &str) -> Result<AreaRef, String> {
        let bad = || {
            format!(
                "area {raw:?} is not mahalla:ID, district:ID or region:ID (e.g. district:1726262)"
            )
        };
        let (level, id) = raw.split_once(':').ok_or_else(bad)?;
        let id: i64 = id.parse().ok().filter(|i| *i > 0).ok_or_else(bad)?;
        match level {
            "mahalla" => Ok(AreaRef::Mahalla(id)),
            "district" => Ok(AreaRef::District(id)),
            "region" => Ok(AreaRef::Region(id)),
            _ => Err(bad()),
        }
    }

    pub(crate) fn key(&self) -> String {
        match self {
            AreaRef::Mahalla(id) => format!("mahalla:{id}"),
            AreaRef::District(id) => format!("district:{id}"),
            AreaRef::Region(id) => format!("region:{id}"),
        }
    }
}

/// The `n` latest periods of `months` months (1, 3 or 6) that have ended by `now`, newest
/// first: what the console offers.
pub fn recent(now: Timestamp, months: u32, n: usize) -> Vec<ReportPeriod> {
    let local = now.unix_micros() + i64::from(UZ_OFFSET_S) * 1_000_000;
    let (y, m, _) = civil_from_days(local.div_euclid(DAY_US));
    let months = months.clamp(1, 12);
    let running = ReportPeriod {
        year: y,
        first_month: (m - 1) / months * months + 1,
        months,
    };
    std::iter::successors(Some(running.previous()), |p| Some(p.previous()))
        .take(n)
        .collect()
}

/// `2026-10-01` for local midnight on that day.
pub(crate) fn days_label(t: Timestamp) -> String {
    let local = t.unix_micros() + i64::from(UZ_OFFSET_S) * 1_000_000;
    let (y, m, d) = civil_from_days(local.div_euclid(DAY_US));
    format!("{y}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_step() {
        let q = ReportPeriod::parse("2026-Q3").unwrap();
        assert_eq!(q.label(), "2026-Q3");
        assert_eq!(q.previous().label(), "2026-Q2");
        assert_eq!(q.year_before().label(), "2025-Q3");
        assert_eq!(q.days(), ("2026-07-01".into(), "2026-09-30".into()));
        let m = ReportPeriod::parse("2026-01").unwrap();
        assert_eq!(m.previous().label(), "2025-12");
        assert_eq!(m.days().1, "2026-01-31");
        let h = ReportPeriod::parse("2026-h1").unwrap();
        assert_eq!(h.label(), "2026-H1");
        assert_eq!(h.previous().label(), "2025-H2");
        assert_eq!(
            ReportPeriod::parse("2024-02").unwrap().days().1,
            "2024-02-29"
        );
        let p = q.period();
        assert_eq!(p.start, "2026-07-01T00:00:00+05:00".parse().unwrap());
        assert_eq!(p.end, "2026-10-01T00:00:00+05:00".parse().unwrap());
        assert_eq!(days_label(p.end), "2026-10-01");
        let now: Timestamp = "2026-11-29T06:00:00Z".parse().unwrap();
        let labels = |m, n| {
            recent(now, m, n)
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
        };
        assert_eq!(labels(1, 2), ["2026-10", "2026-09"]);
        assert_eq!(labels(3, 2), ["2026-Q3", "2026-Q2"]);
        assert_eq!(labels(6, 2), ["2026-H1", "2025-H2"]);
        for bad in [
            "2026", "2026-13", "2026-00", "2026-Q5", "2026-H3", "26-10", "2026-1", "x-Q1",
            "1999-Q1",
        ] {
            assert!(ReportPeriod::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn areas_parse() {
        assert_eq!(AreaRef::parse("district:12"), Ok(AreaRef::District(12)));
        assert_eq!(AreaRef::parse("mahalla:1"), Ok(AreaRef::Mahalla(1)));
        for bad in ["district", "district:", "district:-1", "city:3", "region:x"] {
            assert!(AreaRef::parse(bad).is_err(), "{bad}");
        }
    }
}
