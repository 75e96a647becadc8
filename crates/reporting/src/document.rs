//! The report's sections as blocks (headings, paragraphs, key figures, tables, figures), built
//! once from the data; the HTML and PDF renderers each lay the same blocks out.
use crate::data::{Comparison, Direction, PeriodReportData, Score};
use crate::figure::{self, Figure, PERIOD_COLOURS, Rgb, source_colour};
use crate::text::{count, fixed, label, percent};

/// One table column: its title and whether its cells are numbers (right-aligned).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub title: String,
    pub numeric: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Title {
        title: String,
        subtitle: String,
    },
    Heading(String),
    Para(String),
    /// Small print: methods and caveats.
    Note(String),
    /// Key figures: `(label, value)`.
    Figures(Vec<(String, String)>),
    Table(Table),
    Figure(Figure),
}

fn cols(spec: &[(&str, bool)]) -> Vec<Column> {
    spec.iter()
        .map(|(t, n)| Column {
            title: (*t).to_owned(),
            numeric: *n,
        })
        .collect()
}

fn table(spec: &[(&str, bool)], rows: Vec<Vec<String>>) -> Block {
    Block::Table(Table {
        columns: cols(spec),
        rows,
    })
}

/// `x1.25 (0.80-1.96), up` or `no clear change`: the change a comparison found.
pub fn change(c: &Comparison) -> String {
    let ratio = match c.rate_ratio {
        Some(r) => format!(
            "x{} ({}-{})",
            fixed(Some(r), 2),
            fixed(Some(c.ci_low), 2),
            c.ci_high
                .map_or_else(|| "inf".into(), |h| fixed(Some(h), 2))
        ),
        None => "new".into(),
    };
    match c.direction {
        Direction::Up => format!("{ratio}, up"),
        Direction::Down => format!("{ratio}, down"),
        Direction::NoClearChange if c.count == 0 && c.rate_ratio.is_none() => {
            "no clear change".into()
        }
        Direction::NoClearChange => format!("{ratio}, no clear change"),
    }
}

/// The report's blocks, in order.
pub fn build(d: &PeriodReportData) -> Vec<Block> {
    let p = &d.period;
    let mut b = Vec::new();
    let within = if d.area.within.is_empty() {
        String::new()
    } else {
        format!(" · {}", d.area.within.join(" / "))
    };
    b.push(Block::Title {
        title: format!("{}: period report {}", d.area.name, p.label),
        subtitle: format!(
            "{} {}{} · {} to {} · compared with {} and {}",
            label(d.area.level.as_str()),
            d.area.id,
            within,
            p.first_day,
            p.last_day,
            p.previous_label,
            p.year_before_label
        ),
    });
    let hot = d.mahallas.iter().filter(|m| m.hot.is_hot()).count();
    let roadmap = d.roadmap.as_ref().map_or_else(
        || "not recorded".into(),
        |r| percent(r.overall().progress()),
    );
    b.push(Block::Figures(vec![
        ("Incidents".into(), count(d.total())),
        (
            "Crime-free mahallas".into(),
            format!(
                "{} of {}",
                count(d.crime_free.count),
                count(d.crime_free.mahallas)
            ),
        ),
        ("Hot-spot mahallas".into(), count(hot as u64)),
        ("Fraud and cybercrime".into(), percent(d.cyber.share())),
        ("Roadmap progress".into(), roadmap),
    ]));

    sources(d, &mut b);
    categories(d, &mut b);
    trends(d, &mut b);
    crime_free(d, &mut b);
    red(d, &mut b);
    hot_spots(d, &mut b);
    mahallas(d, &mut b);
    roadmap_section(d, &mut b);
    affected(d, &mut b);
    cyber(d, &mut b);
    b.push(Block::Heading("Method".into()));
    b.push(Block::Note(format!(
        "Counts are incidents recorded in posbon whose time falls in the period (local time, \
         UTC+5), by how they became known. Rates are {} over the period. A change is called up \
         or down only when the exact conditional test for two Poisson counts, corrected for the \
         number of comparisons (Benjamini-Hochberg, 5%), says so; the ratio's interval is an \
         exact 95% interval. Crime-free: no incident from any source; P(0) is the Poisson \
         probability of a zero at the district's rate without the mahalla. The report is \
         generated from the data alone: the same data give the same file, whose SHA-256 is \
         written to the audit log.",
        d.rate_unit
    )));
    b
}

fn sources(d: &PeriodReportData, b: &mut Vec<Block>) {
    let p = &d.period;
    b.push(Block::Heading("Incidents by source".into()));
    b.push(Block::Para(
        "Reports by the public, finds by patrols, confirmed camera events and inspectors' records \
         are counted apart and never added up in a trend: what patrols find follows where \
         patrols already go."
            .into(),
    ));
    let prev = format!("{} ({})", p.previous_label, "previous");
    let yb = format!("{} ({})", p.year_before_label, "a year before");
    let rate = format!("Rate {}", d.rate_unit);
    let rows = d
        .sources
        .iter()
        .map(|s| {
            vec![
                label(&s.key),
                count(s.current),
                fixed(s.rate, 2),
                count(s.previous.count),
                change(&s.previous),
                count(s.year_before.count),
                change(&s.year_before),
            ]
        })
        .collect();
    b.push(table(
        &[
            ("Source", false),
            (p.label.as_str(), true),
            (rate.as_str(), true),
            (prev.as_str(), true),
            ("Change", false),
            (yb.as_str(), true),
            ("Change", false),
        ],
        rows,
    ));
    let groups: Vec<(String, Vec<u64>)> = d
        .sources
        .iter()
        .map(|s| {
            (
                label(&s.key),
                vec![s.current, s.previous.count, s.year_before.count],
            )
        })
        .collect();
    b.push(Block::Figure(figure::grouped_bars(
        &format!(
            "Incidents by source: {}, {} and {}",
            p.label, p.previous_label, p.year_before_label
        ),
        &groups,
        &[
            (p.label.clone(), PERIOD_COLOURS[0]),
            (p.previous_label.clone(), PERIOD_COLOURS[1]),
            (p.year_before_label.clone(), PERIOD_COLOURS[2]),
        ],
    )));
}

fn categories(d: &PeriodReportData, b: &mut Vec<Block>) {
    b.push(Block::Heading("Incidents by category".into()));
    if d.categories.is_empty() {
        b.push(Block::Para(
            "No incident was recorded in the period.".into(),
        ));
        return;
    }
    let mut spec: Vec<(String, bool)> = vec![("Category".into(), false)];
    spec.extend(d.sources.iter().map(|s| (label(&s.key), true)));
    spec.push(("All sources".into(), true));
    let mut rows: Vec<Vec<String>> = d
        .categories
        .iter()
        .map(|c| {
            let mut r = vec![label(&c.key)];
            r.extend(c.by_source.iter().map(|n| count(*n)));
            r.push(count(c.total()));
            r
        })
        .collect();
    let mut all = vec!["All categories".to_owned()];
    all.extend(d.sources.iter().map(|s| count(s.current)));
    all.push(count(d.total()));
    rows.push(all);
    b.push(Block::Table(Table {
        columns: spec
            .into_iter()
            .map(|(title, numeric)| Column { title, numeric })
            .collect(),
        rows,
    }));
    let bars: Vec<(String, u64)> = d
        .categories
        .iter()
        .map(|c| (label(&c.key), c.total()))
        .collect();
    b.push(Block::Figure(figure::bars(
        &format!("Incidents by category in {}, all sources", d.period.label),
        &bars,
        PERIOD_COLOURS[0],
    )));
}

fn trends(d: &PeriodReportData, b: &mut Vec<Block>) {
    let p = &d.period;
    b.push(Block::Heading("Trends by source and category".into()));
    if !d.monthly.months.is_empty() {
        let series: Vec<(String, Rgb, Vec<u64>)> = d
            .monthly
            .by_source
            .iter()
            .map(|(k, v)| (label(k), source_colour(k), v.clone()))
            .collect();
        let first = d.monthly.months.first().cloned().unwrap_or_default();
        let last = d.monthly.months.last().cloned().unwrap_or_default();
        b.push(Block::Figure(figure::lines(
            &format!("Incidents per month by source, {first} to {last}"),
            &d.monthly.months,
            &series,
        )));
    }
    if d.trends.is_empty() {
        b.push(Block::Para(
            "No incident in this period, the previous one or the year before.".into(),
        ));
        return;
    }
    let rows = d
        .trends
        .iter()
        .map(|t| {
            vec![
                label(&t.source),
                label(&t.category),
                count(t.current),
                count(t.previous.count),
                change(&t.previous),
                count(t.year_before.count),
                change(&t.year_before),
            ]
        })
        .collect();
    b.push(table(
        &[
            ("Source", false),
            ("Category", false),
            (p.label.as_str(), true),
            (p.previous_label.as_str(), true),
            ("Change", false),
            (p.year_before_label.as_str(), true),
            ("Change", false),
        ],
        rows,
    ));
}

fn crime_free(d: &PeriodReportData, b: &mut Vec<Block>) {
    let c = &d.crime_free;
    b.push(Block::Heading("Crime-free mahallas".into()));
    b.push(Block::Para(format!(
        "{} of {} mahallas had no incident known from any source in {}. If every mahalla had its \
         district's rate, {} ± {} would be crime-free by chance alone. {} of the zeros {} \
         unlikely by chance: worth a look, not a medal, since a zero can mean real safety or \
         that nobody reports.",
        count(c.count),
        count(c.mahallas),
        d.period.label,
        fixed(Some(c.expected), 1),
        fixed(Some(c.expected_sd), 1),
        count(c.surprising),
        if c.surprising == 1 { "is" } else { "are" },
    )));
    let rows: Vec<Vec<String>> = d
        .mahallas
        .iter()
        .enumerate()
        .filter(|(_, m)| m.crime_free)
        .map(|(i, m)| {
            vec![
                (i + 1).to_string(),
                m.name.clone(),
                m.population
                    .map_or_else(|| "unknown".into(), |p| count(u64::from(p))),
                fixed(m.p_zero, 3),
                if m.surprising_zero { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        b.push(table(
            &[
                ("No.", true),
                ("Mahalla", false),
                ("Population", true),
                ("P(0)", true),
                ("Surprising", false),
            ],
            rows,
        ));
    }
}

/// The worst mahallas by rate, listed only where the excess is significant.
fn red(d: &PeriodReportData, b: &mut Vec<Block>) {
    let c = &d.crime_free;
    b.push(Block::Heading("Mahallas with the highest rates".into()));
    let mut listed: Vec<(u32, usize, &crate::data::MahallaInfo)> = d
        .mahallas
        .iter()
        .enumerate()
        .filter_map(|(i, m)| m.red_rank.map(|r| (r, i, m)))
        .collect();
    listed.sort_by_key(|x| x.0);
    b.push(Block::Para(format!(
        "The area's rate was {} {}. {} {} significantly above it (Poisson test at the          area's rate without the mahalla, Benjamini-Hochberg 5%; only mahallas whose          population is known). {}",
        fixed(Some(c.overall_rate), 2),
        d.rate_unit,
        count(c.red_qualifying),
        if c.red_qualifying == 1 {
            "mahalla was"
        } else {
            "mahallas were"
        },
        if listed.is_empty() {
            "None is listed: a high count in a small mahalla is not by itself a sign."
        } else {
            "They are ranked by a rate pulled towards the area's by how little each              population tells, so that a few incidents among a few hundred people do not top              the list by chance."
        }
    )));
    if listed.is_empty() {
        return;
    }
    let rows = listed
        .into_iter()
        .map(|(r, i, m)| {
            vec![
                r.to_string(),
                (i + 1).to_string(),
                m.name.clone(),
                m.population
                    .map_or_else(|| "unknown".into(), |p| count(u64::from(p))),
                count(m.count),
                fixed(Some(m.rate), 2),
                fixed(Some(m.eb_rate), 2),
                fixed(Some(m.q_high), 3),
            ]
        })
        .collect();
    b.push(table(
        &[
            ("Rank", true),
            ("No.", true),
            ("Mahalla", false),
            ("Population", true),
            ("Incidents", true),
            ("Rate", true),
            ("Adjusted rate", true),
            ("q", true),
        ],
        rows,
    ));
}

fn score_row(name: &str, s: &Score) -> Vec<String> {
    vec![
        name.to_owned(),
        fixed(s.pai, 2),
        fixed(s.pei_star, 2),
        format!(
            "{} of {}",
            fixed(Some(s.captured), 1),
            fixed(Some(s.total), 0)
        ),
    ]
}

fn hot_spots(d: &PeriodReportData, b: &mut Vec<Block>) {
    let h = &d.hot_spots;
    b.push(Block::Heading("Hot spots".into()));
    b.push(Block::Para(h.method.clone()));
    let rows: Vec<Vec<String>> = d
        .mahallas
        .iter()
        .enumerate()
        .filter(|(_, m)| m.hot.is_hot() || m.hot.is_cold())
        .map(|(i, m)| {
            vec![
                (i + 1).to_string(),
                m.name.clone(),
                count(m.count),
                m.hot.label().to_owned(),
            ]
        })
        .collect();
    if rows.is_empty() {
        b.push(Block::Para(
            "No mahalla is a significant hot or cold spot in this period.".into(),
        ));
    } else {
        b.push(table(
            &[
                ("No.", true),
                ("Mahalla", false),
                ("Incidents", true),
                ("Gi* class", false),
            ],
            rows,
        ));
    }
    match &h.forecast {
        Some(f) => {
            b.push(Block::Para(format!(
                "Forecast check: the hot spots of {} flagged {} ({} of the area) and \
                 caught {} of the {} incidents of {} (PAI {}, PEI* {}). The baseline, the \
                 mahallas with the most incidents in {} flagging the same area, reached PAI {}. \
                 {}",
                f.training,
                if f.flagged == 1 {
                    "1 mahalla".to_owned()
                } else {
                    format!("{} mahallas", count(f.flagged))
                },
                percent(Some(f.area_share)),
                fixed(Some(f.method.captured), 1),
                fixed(Some(f.method.total), 0),
                f.held_out,
                fixed(f.method.pai, 2),
                fixed(f.method.pei_star, 2),
                f.training,
                fixed(f.baseline.pai, 2),
                if f.method_preferred {
                    "The hot-spot map beat the baseline."
                } else {
                    "The hot-spot map did not beat the baseline: prefer last period's counts."
                }
            )));
            b.push(table(
                &[
                    ("Map", false),
                    ("PAI", true),
                    ("PEI*", true),
                    ("Incidents caught", true),
                ],
                vec![
                    score_row(&format!("Gi* hot spots of {}", f.training), &f.method),
                    score_row(&format!("Baseline: counts of {}", f.training), &f.baseline),
                ],
            ));
        }
        None => b.push(Block::Para("Forecast check: not available.".into())),
    }
    if !h.note.is_empty() {
        b.push(Block::Note(h.note.clone()));
    }
}

fn mahallas(d: &PeriodReportData, b: &mut Vec<Block>) {
    b.push(Block::Heading("Mahallas".into()));
    if let Some(f) = figure::map(
        &format!(
            "{} in {}: mahallas by crime-free and hot-spot status (numbers are rows of the table)",
            d.area.name, d.period.label
        ),
        &d.mahallas,
    ) {
        b.push(Block::Figure(f));
    } else {
        b.push(Block::Note(
            "No map: no mahalla of the area has an outline or a point recorded.".into(),
        ));
    }
    let rows = d
        .mahallas
        .iter()
        .enumerate()
        .map(|(i, m)| {
            vec![
                (i + 1).to_string(),
                m.name.clone(),
                m.population
                    .map_or_else(|| "unknown".into(), |p| count(u64::from(p))),
                count(m.count),
                if m.crime_free { "yes" } else { "no" }.into(),
                m.hot.label().to_owned(),
            ]
        })
        .collect();
    b.push(table(
        &[
            ("No.", true),
            ("Mahalla", false),
            ("Population", true),
            ("Incidents", true),
            ("Crime-free", false),
            ("Gi* class", false),
        ],
        rows,
    ));
}

fn roadmap_section(d: &PeriodReportData, b: &mut Vec<Block>) {
    b.push(Block::Heading("Prevention roadmap".into()));
    let Some(r) = &d.roadmap else {
        b.push(Block::Para(
            "Not recorded: no prevention roadmap is stored for this area.".into(),
        ));
        return;
    };
    b.push(Block::Para(format!(
        "As the measures stood on {}: a measure counts as done only with evidence of \
         completion checked by a second person, marked done by that day; one cancelled later \
         counts as open. {} of {} {} no measure of {} own. {}",
        r.as_of,
        count(r.mahallas_without_measures),
        count(r.mahallas),
        if r.mahallas == 1 {
            "mahalla had"
        } else {
            "mahallas had"
        },
        if r.mahallas == 1 { "its" } else { "their" },
        match r.awaiting_verification {
            0 => String::new(),
            1 => "1 measure marked done awaits a second person's check of its evidence.".into(),
            n => format!(
                "{} measures marked done await a second person's check of their evidence.",
                count(n)
            ),
        }
    )));
    let row = |k: &crate::data::RoadmapKind| {
        vec![
            label(&k.kind),
            count(k.total),
            count(k.done),
            count(k.cancelled),
            count(k.overdue),
            percent(k.progress()),
        ]
    };
    let mut rows: Vec<Vec<String>> = r.by_kind.iter().map(row).collect();
    rows.push(row(&r.overall()));
    b.push(table(
        &[
            ("Measure", false),
            ("Measures", true),
            ("Done", true),
            ("Cancelled", true),
            ("Overdue", true),
            ("Progress", true),
        ],
        rows,
    ));
}

fn affected(d: &PeriodReportData, b: &mut Vec<Block>) {
    let a = &d.affected;
    b.push(Block::Heading("Minors, youth and women affected".into()));
    b.push(Block::Para(
        "Incidents are flagged in aggregate only (an incident may carry several flags); no \
         person is named or counted individually."
            .into(),
    ));
    let share = |n: u64| percent((a.incidents > 0).then(|| n as f64 / a.incidents as f64));
    b.push(table(
        &[("Affected", false), ("Incidents", true), ("Share", true)],
        vec![
            vec!["Minor (under 18)".into(), count(a.minor), share(a.minor)],
            vec!["Youth (18 to 30)".into(), count(a.youth), share(a.youth)],
            vec!["Woman".into(), count(a.woman), share(a.woman)],
            vec![
                "All incidents".into(),
                count(a.incidents),
                share(a.incidents),
            ],
        ],
    ));
}

fn cyber(d: &PeriodReportData, b: &mut Vec<Block>) {
    let c = &d.cyber;
    b.push(Block::Heading("Fraud and cybercrime".into()));
    b.push(Block::Para(format!(
        "{} fraud and {} cybercrime incidents among {}: a cyber share of {}.",
        count(c.fraud),
        count(c.cybercrime),
        count(c.all),
        percent(c.share())
    )));
}
