//! The three formats from the same data: deterministic bytes, the numbers present, the PDF
//! readable by a real parser (poppler's `pdftotext`), the CSV adding up.
use std::process::Command;

use proptest::prelude::*;
use reporting::*;
use sha2::{Digest, Sha256};

fn cmp(count: u64, direction: Direction) -> Comparison {
    Comparison {
        count,
        rate_ratio: (count > 0).then_some(1.5),
        ci_low: 0.7,
        ci_high: Some(3.1),
        q: 0.2,
        direction,
    }
}

fn square(x: f64, y: f64) -> Geometry {
    Geometry::Rings(vec![vec![
        [x, y],
        [x + 0.01, y],
        [x + 0.01, y + 0.01],
        [x, y + 0.01],
        [x, y],
    ]])
}

const SOURCES: [&str; 4] = ["public", "patrol", "camera", "inspector"];

/// A district of `counts.len()` mahallas with `counts[i]` incidents each, all from the public
/// except one patrol find per mahalla with more than three.
fn sample(counts: &[u64], names: &[String]) -> PeriodReportData {
    let patrol: u64 = counts.iter().filter(|&&c| c > 3).count() as u64;
    let total: u64 = counts.iter().sum();
    let public = total - patrol;
    let mahallas: Vec<MahallaInfo> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| MahallaInfo {
            id: 100 + i as i64,
            name: names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("Mahalla {i}")),
            population: (i % 3 != 2).then_some(1000 + 100 * i as u32),
            count: c,
            crime_free: c == 0,
            surprising_zero: c == 0 && i % 2 == 0,
            p_zero: Some(0.25),
            rate: c as f64,
            eb_rate: c as f64 * 0.8,
            q_high: if c > 3 { 0.01 } else { 0.9 },
            // The first mahalla with more than three incidents is on the red list.
            red_rank: (c > 3 && counts.iter().position(|&x| x > 3) == Some(i)).then_some(1),
            hot: match i % 4 {
                0 => HotClass::Hot95,
                1 => HotClass::NotSignificant,
                2 => HotClass::Cold90,
                _ => HotClass::NotComputed,
            },
            geometry: if i % 5 == 4 {
                Some(Geometry::Point([69.2 + 0.01 * i as f64, 41.3]))
            } else {
                Some(square(
                    69.2 + 0.01 * (i % 6) as f64,
                    41.3 + 0.01 * (i / 6) as f64,
                ))
            },
        })
        .collect();
    let sources = SOURCES
        .iter()
        .map(|k| {
            let current = match *k {
                "public" => public,
                "patrol" => patrol,
                _ => 0,
            };
            SourceCounts {
                key: (*k).into(),
                current,
                rate: Some(current as f64 / 4.2),
                previous: cmp(current / 2, Direction::Up),
                year_before: cmp(current, Direction::NoClearChange),
            }
        })
        .collect();
    PeriodReportData {
        area: AreaInfo {
            level: Level::District,
            id: 1_726_262,
            name: "Chilonzor tumani".into(),
            within: vec!["Toshkent shahri".into()],
        },
        period: PeriodInfo {
            label: "2026-Q3".into(),
            first_day: "2026-07-01".into(),
            last_day: "2026-09-30".into(),
            previous_label: "2026-Q2".into(),
            year_before_label: "2025-Q3".into(),
        },
        rate_unit: "per 1,000 residents".into(),
        sources,
        categories: vec![
            CategoryCounts {
                key: "theft".into(),
                by_source: vec![public, 0, 0, 0],
            },
            CategoryCounts {
                key: "drug_offence".into(),
                by_source: vec![0, patrol, 0, 0],
            },
        ],
        trends: vec![TrendRow {
            source: "public".into(),
            category: "theft".into(),
            current: public,
            previous: cmp(public / 2, Direction::Up),
            year_before: cmp(public, Direction::NoClearChange),
        }],
        monthly: Monthly {
            months: (1..=12).map(|m| format!("2026-{m:02}")).collect(),
            by_source: SOURCES
                .iter()
                .map(|k| ((*k).to_string(), (0..12).map(|m| m as u64 % 4).collect()))
                .collect(),
        },
        crime_free: CrimeFree {
            mahallas: counts.len() as u64,
            count: counts.iter().filter(|&&c| c == 0).count() as u64,
            expected: 1.25,
            expected_sd: 0.75,
            surprising: 1,
            overall_rate: 1.5,
            red_qualifying: u64::from(counts.iter().any(|&c| c > 3)),
        },
        hot_spots: HotSpots {
            method: "Getis-Ord Gi* on queen contiguity.".into(),
            forecast: Some(Forecast {
                training: "2026-Q2".into(),
                held_out: "2026-Q3".into(),
                area_share: 0.2,
                flagged: 1,
                method: Score {
                    pai: Some(2.75),
                    pei_star: Some(0.5),
                    captured: 5.0,
                    total: 10.0,
                },
                baseline: Score {
                    pai: Some(3.5),
                    pei_star: Some(0.75),
                    captured: 7.0,
                    total: 10.0,
                },
                method_preferred: false,
            }),
            note: String::new(),
        },
        roadmap: None,
        affected: Affected {
            incidents: total,
            minor: total / 3,
            youth: total / 4,
            woman: total / 5,
        },
        cyber: Cyber {
            fraud: 2,
            cybercrime: 1,
            all: total,
        },
        mahallas,
    }
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn default_names() -> Vec<String> {
    vec![
        "Oʻzbekiston".into(),
        "Чилонзор-9".into(),
        "Gʻalaba".into(),
        "Qatortol".into(),
        "Bunyodkor".into(),
    ]
}

/// `pdftotext -layout` of the PDF. Fails (never skips) without poppler-utils, which
/// scripts/install-deps.sh installs.
fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run pdftotext ({e}): install poppler-utils (scripts/install-deps.sh)")
        });
    assert!(
        out.status.success(),
        "pdftotext refused the PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_same_data_give_the_same_bytes() {
    let d = sample(&[0, 3, 7, 1, 12], &default_names());
    for f in Format::ALL {
        let a = render(&d, f);
        let b = render(&d.clone(), f);
        assert_eq!(sha(&a), sha(&b), "{f:?}");
    }
    let mut other = d.clone();
    other.mahallas[1].count += 1;
    assert_ne!(
        sha(&render(&d, Format::Pdf)),
        sha(&render(&other, Format::Pdf))
    );
}

#[test]
fn html_is_self_contained_and_shows_the_numbers() {
    let d = sample(&[0, 3, 7, 1, 12], &default_names());
    let html = String::from_utf8(render(&d, Format::Html)).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    for banned in ["<script", "src=", "href=", "url(", "@import", "<link"] {
        assert!(!html.contains(banned), "{banned} in the page");
    }
    // The only URL is SVG's namespace.
    assert_eq!(
        html.matches("http").count(),
        html.matches("http://www.w3.org/2000/svg").count()
    );
    assert!(html.contains("<svg"), "charts and map are inline SVG");
    assert!(html.contains("Chilonzor tumani: period report 2026-Q3"));
    assert!(html.contains("<b>23</b><span>Incidents</span>"));
    assert!(html.contains("Oʻzbekiston") && html.contains("Чилонзор-9"));
    assert!(html.contains("Not recorded: no prevention roadmap"));
    assert!(
        html.contains("<td class=\"n\">2.75</td>"),
        "the method's PAI"
    );
    assert!(
        html.contains("<td class=\"n\">3.50</td>"),
        "the baseline's PAI"
    );
}

#[test]
fn pdf_parses_and_holds_the_numbers() {
    let d = sample(&[0, 3, 7, 1, 12], &default_names());
    let pdf = render(&d, Format::Pdf);
    assert!(pdf.starts_with(b"%PDF-1.7"));
    let text = pdftotext(&pdf);
    assert!(
        text.contains("Chilonzor tumani: period report 2026-Q3"),
        "{text}"
    );
    // Uzbek Latin's ʻ is shown as ‘, Cyrillic in Uzbek Latin.
    assert!(text.contains("O‘zbekiston"), "{text}");
    assert!(text.contains("Chilonzor-9"), "{text}");
    assert!(
        text.contains("Not recorded: no prevention roadmap"),
        "{text}"
    );
    let summary = text.lines().find(|l| l.contains("23")).unwrap_or_default();
    assert!(!summary.is_empty(), "the total (23) is on a page: {text}");
    for needle in ["2.75", "3.50", "Public", "Patrol", "page 1 of"] {
        assert!(text.contains(needle), "{needle} missing: {text}");
    }
}

/// The CSV as (section, metric, breakdown, value) rows.
fn rows(csv: &str) -> Vec<[String; 4]> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(csv::HEADER));
    lines
        .map(|l| {
            // Fields here hold no commas except quoted names, which sit in the value column.
            let mut parts = l.splitn(4, ',');
            let mut next = || parts.next().unwrap_or_default().to_owned();
            [next(), next(), next(), next()]
        })
        .collect()
}

fn sum(rows: &[[String; 4]], section: &str, metric: &str) -> u64 {
    rows.iter()
        .filter(|r| r[0] == section && r[1] == metric && r[2] != "all")
        .map(|r| r[3].parse::<u64>().unwrap())
        .sum()
}

fn value<'a>(rows: &'a [[String; 4]], section: &str, metric: &str, breakdown: &str) -> &'a str {
    &rows
        .iter()
        .find(|r| r[0] == section && r[1] == metric && r[2] == breakdown)
        .unwrap_or_else(|| panic!("no row {section},{metric},{breakdown}"))[3]
}

#[test]
fn csv_is_tidy_and_adds_up() {
    let d = sample(&[0, 3, 7, 1, 12], &default_names());
    let csv = String::from_utf8(render(&d, Format::Csv)).unwrap();
    let r = rows(&csv);
    assert_eq!(value(&r, "counts", "incidents", "all"), "23");
    assert_eq!(sum(&r, "counts", "incidents"), 23);
    assert_eq!(sum(&r, "categories", "incidents"), 23);
    assert_eq!(value(&r, "report", "area", ""), "district:1726262");
    assert_eq!(value(&r, "roadmap", "status", ""), "not_recorded");
    assert_eq!(
        value(&r, "mahallas", "gistar_class", "mahalla=100"),
        "hot_95"
    );
    assert_eq!(value(&r, "hot_spots", "pai", "map=gistar"), "2.75");
    assert_eq!(value(&r, "hot_spots", "preferred", ""), "baseline");
    assert_eq!(
        value(&r, "counts", "direction_previous", "source=public"),
        "up"
    );
}

#[test]
fn a_roadmap_is_shown_when_recorded() {
    let mut d = sample(&[1, 2], &default_names());
    d.roadmap = Some(RoadmapSection {
        as_of: "2026-09-30".into(),
        mahallas: 2,
        mahallas_without_measures: 1,
        awaiting_verification: 3,
        by_kind: vec![RoadmapKind {
            kind: "youth_prevention".into(),
            total: 4,
            done: 1,
            cancelled: 2,
            overdue: 1,
        }],
    });
    let html = String::from_utf8(render(&d, Format::Html)).unwrap();
    assert!(html.contains("Youth prevention") && html.contains("50.0%"));
    assert!(
        html.contains("As the measures stood on 2026-09-30"),
        "{html}"
    );
    assert!(html.contains("1 of 2 mahallas had no measure of their own"));
    assert!(html.contains("3 measures marked done await a second person"));
    let csv = String::from_utf8(render(&d, Format::Csv)).unwrap();
    assert_eq!(
        value(&rows(&csv), "roadmap", "progress", "kind=youth_prevention"),
        "0.5"
    );
    assert_eq!(
        value(&rows(&csv), "roadmap", "mahallas_without_measures", "all"),
        "1"
    );
    assert!(pdftotext(&render(&d, Format::Pdf)).contains("Youth prevention"));
}

#[test]
fn the_red_list_names_only_significant_excess() {
    let d = sample(&[0, 1, 9, 2], &default_names());
    let html = String::from_utf8(render(&d, Format::Html)).unwrap();
    assert!(html.contains("Mahallas with the highest rates"));
    assert!(
        html.contains("1 mahalla was significantly above it"),
        "{html}"
    );
    assert!(
        html.contains("<th class=\"n\">Adjusted rate</th>"),
        "{html}"
    );
    let csv = String::from_utf8(render(&d, Format::Csv)).unwrap();
    let r = rows(&csv);
    assert_eq!(value(&r, "mahallas", "red_rank", "mahalla=102"), "1");
    assert_eq!(value(&r, "red", "qualifying", "all"), "1");
    assert!(
        !r.iter()
            .any(|x| x[1] == "red_rank" && x[2] != "mahalla=102"),
        "only the ranked mahalla has a rank"
    );

    let calm = sample(&[0, 1, 2, 3], &default_names());
    let html = String::from_utf8(render(&calm, Format::Html)).unwrap();
    assert!(html.contains("None is listed"), "{html}");
    assert!(pdftotext(&render(&calm, Format::Pdf)).contains("None is listed"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any counts and any names: every format renders, deterministically; the CSV adds up; the
    /// PDF is complete; HTML escapes every name.
    #[test]
    fn any_data_renders(
        counts in proptest::collection::vec(0u64..40, 1..30),
        names in proptest::collection::vec("\\PC{0,24}", 0..30),
    ) {
        let d = sample(&counts, &names);
        let total: u64 = counts.iter().sum();
        let csv = String::from_utf8(render(&d, Format::Csv)).unwrap();
        let csv2 = String::from_utf8(render(&d, Format::Csv)).unwrap();
        prop_assert_eq!(&csv, &csv2);
        let r: Vec<&str> = csv.lines().filter(|l| l.starts_with("counts,incidents,source=")).collect();
        let s: u64 = r.iter().map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap()).sum();
        prop_assert_eq!(s, total);
        let pdf = render(&d, Format::Pdf);
        prop_assert!(pdf.starts_with(b"%PDF-"));
        prop_assert!(String::from_utf8_lossy(&pdf).trim_end().ends_with("%%EOF"));
        prop_assert_eq!(sha(&pdf), sha(&render(&d, Format::Pdf)));
        let html = String::from_utf8(render(&d, Format::Html)).unwrap();
        prop_assert!(!html.contains("<script"));
        prop_assert_eq!(html.matches("<table>").count(), html.matches("</table>").count());
        for n in names.iter().take(counts.len()) {
            prop_assert!(html.contains(&reporting::text::escape(n)), "a name is missing");
        }
    }
}
