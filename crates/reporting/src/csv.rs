//! The report as tidy CSV: one row per number, `section,metric,breakdown,value`.
//!
//! * `section`: `report` (what the file is about), `counts` (per source, with the comparisons),
//!   `categories`, `trends`, `monthly`, `crime_free`, `red`, `hot_spots`, `mahallas`, `roadmap`,
//!   `affected`, `cyber`.
//! * `metric`: what the value is (`incidents`, `rate`, `incidents_previous`,
//!   `rate_ratio_previous`, `q_previous`, `direction_previous`, ..., `pai`, `pei_star`).
//! * `breakdown`: `key=value` pairs joined by `;` (`source=public;category=theft`), `all` for
//!   a total, empty where the metric needs none.
//! * `value`: a number (a dot for decimals, up to 6 places; empty when there is none, e.g. a
//!   rate ratio against a zero) or a word (`up`, `hot_95`, `true`).
//!
//! The `counts,incidents,source=...` rows add up to `counts,incidents,all`, and so do the
//! `categories,incidents,category=...;source=...` rows; `affected` groups may overlap (one
//! incident may carry several flags) and `cyber` names two categories beside `all`. Text fields are quoted where needed and a leading `= + - @` is
//! disarmed with `'` (spreadsheets would run it as a formula).
use std::fmt::Write;

use crate::data::{Comparison, PeriodReportData, Score};
use crate::text::csv_number;

pub const HEADER: &str = "section,metric,breakdown,value";

fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

struct Rows(String);

impl Rows {
    fn push(&mut self, section: &str, metric: &str, breakdown: &str, value: &str) {
        let _ = writeln!(
            self.0,
            "{section},{metric},{},{}",
            field(breakdown),
            field(value)
        );
    }

    fn num(&mut self, section: &str, metric: &str, breakdown: &str, v: f64) {
        self.push(section, metric, breakdown, &csv_number(Some(v)));
    }

    fn opt(&mut self, section: &str, metric: &str, breakdown: &str, v: Option<f64>) {
        self.push(section, metric, breakdown, &csv_number(v));
    }

    fn int(&mut self, section: &str, metric: &str, breakdown: &str, v: u64) {
        self.push(section, metric, breakdown, &v.to_string());
    }

    fn comparison(&mut self, section: &str, which: &str, breakdown: &str, c: &Comparison) {
        self.int(section, &format!("incidents_{which}"), breakdown, c.count);
        self.opt(
            section,
            &format!("rate_ratio_{which}"),
            breakdown,
            c.rate_ratio,
        );
        self.num(section, &format!("ci_low_{which}"), breakdown, c.ci_low);
        self.opt(section, &format!("ci_high_{which}"), breakdown, c.ci_high);
        self.num(section, &format!("q_{which}"), breakdown, c.q);
        self.push(
            section,
            &format!("direction_{which}"),
            breakdown,
            c.direction.as_str(),
        );
    }

    fn score(&mut self, map: &str, s: &Score) {
        let b = format!("map={map}");
        self.opt("hot_spots", "pai", &b, s.pai);
        self.opt("hot_spots", "pei_star", &b, s.pei_star);
        self.num("hot_spots", "captured", &b, s.captured);
        self.num("hot_spots", "held_out_incidents", &b, s.total);
    }
}

/// The CSV text, header first.
pub fn render(d: &PeriodReportData) -> String {
    let mut r = Rows(format!("{HEADER}\n"));
    let p = &d.period;
    r.push("report", "area", "", &d.area.key());
    r.push("report", "area_name", "", &d.area.name);
    r.push("report", "period", "", &p.label);
    r.push("report", "first_day", "", &p.first_day);
    r.push("report", "last_day", "", &p.last_day);
    r.push("report", "previous_period", "", &p.previous_label);
    r.push("report", "year_before_period", "", &p.year_before_label);
    r.push("report", "rate_unit", "", &d.rate_unit);

    r.int("counts", "incidents", "all", d.total());
    for s in &d.sources {
        let b = format!("source={}", s.key);
        r.int("counts", "incidents", &b, s.current);
        r.opt("counts", "rate", &b, s.rate);
        r.comparison("counts", "previous", &b, &s.previous);
        r.comparison("counts", "year_before", &b, &s.year_before);
    }
    for c in &d.categories {
        for (s, n) in d.sources.iter().zip(&c.by_source) {
            r.int(
                "categories",
                "incidents",
                &format!("category={};source={}", c.key, s.key),
                *n,
            );
        }
    }
    for t in &d.trends {
        let b = format!("source={};category={}", t.source, t.category);
        r.int("trends", "incidents", &b, t.current);
        r.comparison("trends", "previous", &b, &t.previous);
        r.comparison("trends", "year_before", &b, &t.year_before);
    }
    for (source, values) in &d.monthly.by_source {
        for (m, v) in d.monthly.months.iter().zip(values) {
            r.int(
                "monthly",
                "incidents",
                &format!("month={m};source={source}"),
                *v,
            );
        }
    }

    let c = &d.crime_free;
    r.int("crime_free", "mahallas", "all", c.mahallas);
    r.int("crime_free", "crime_free", "all", c.count);
    r.num("crime_free", "expected_by_chance", "all", c.expected);
    r.num("crime_free", "expected_by_chance_sd", "all", c.expected_sd);
    r.int("crime_free", "surprising_zeros", "all", c.surprising);
    r.num("red", "overall_rate", "all", c.overall_rate);
    r.int("red", "qualifying", "all", c.red_qualifying);

    match &d.hot_spots.forecast {
        Some(f) => {
            r.push("hot_spots", "training_period", "", &f.training);
            r.push("hot_spots", "held_out_period", "", &f.held_out);
            r.num("hot_spots", "area_share_flagged", "", f.area_share);
            r.int("hot_spots", "mahallas_flagged", "", f.flagged);
            r.score("gistar", &f.method);
            r.score("baseline", &f.baseline);
            r.push(
                "hot_spots",
                "preferred",
                "",
                if f.method_preferred {
                    "gistar"
                } else {
                    "baseline"
                },
            );
        }
        None => r.push("hot_spots", "forecast", "", "not_available"),
    }

    for m in &d.mahallas {
        let b = format!("mahalla={}", m.id);
        r.push("mahallas", "name", &b, &m.name);
        r.opt("mahallas", "population", &b, m.population.map(f64::from));
        r.int("mahallas", "incidents", &b, m.count);
        r.push("mahallas", "crime_free", &b, &m.crime_free.to_string());
        r.push(
            "mahallas",
            "surprising_zero",
            &b,
            &m.surprising_zero.to_string(),
        );
        r.opt("mahallas", "p_zero", &b, m.p_zero);
        r.push("mahallas", "gistar_class", &b, m.hot.as_str());
        r.num("mahallas", "rate", &b, m.rate);
        r.num("mahallas", "adjusted_rate", &b, m.eb_rate);
        r.num("mahallas", "q_high", &b, m.q_high);
        if let Some(rank) = m.red_rank {
            r.int("mahallas", "red_rank", &b, u64::from(rank));
        }
    }

    match &d.roadmap {
        None => r.push("roadmap", "status", "", "not_recorded"),
        Some(rm) => {
            r.push("roadmap", "as_of", "", &rm.as_of);
            r.int("roadmap", "mahallas", "all", rm.mahallas);
            r.int(
                "roadmap",
                "mahallas_without_measures",
                "all",
                rm.mahallas_without_measures,
            );
            r.int(
                "roadmap",
                "awaiting_verification",
                "all",
                rm.awaiting_verification,
            );
            for k in rm.by_kind.iter().chain(std::iter::once(&rm.overall())) {
                let b = if k.kind == "all" {
                    "all".to_owned()
                } else {
                    format!("kind={}", k.kind)
                };
                r.int("roadmap", "measures", &b, k.total);
                r.int("roadmap", "done", &b, k.done);
                r.int("roadmap", "cancelled", &b, k.cancelled);
                r.int("roadmap", "overdue", &b, k.overdue);
                r.opt("roadmap", "progress", &b, k.progress());
            }
        }
    }

    let a = &d.affected;
    r.int("affected", "incidents", "all", a.incidents);
    for (g, n) in [("minor", a.minor), ("youth", a.youth), ("woman", a.woman)] {
        let b = format!("group={g}");
        r.int("affected", "incidents", &b, n);
        r.opt(
            "affected",
            "share",
            &b,
            (a.incidents > 0).then(|| n as f64 / a.incidents as f64),
        );
    }

    let cy = &d.cyber;
    r.int("cyber", "incidents", "all", cy.all);
    r.int("cyber", "incidents", "category=fraud", cy.fraud);
    r.int("cyber", "incidents", "category=cybercrime", cy.cybercrime);
    r.opt("cyber", "share", "", cy.share());
    r.0
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_formulas_disarmed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
