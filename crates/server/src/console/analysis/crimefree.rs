//! `GET /console/analytics/crime-free`: the crime-free mahallas of an area in a period, how
//! surprising each zero is, the red list, and a map coloured by them.
use analytics::crimefree::{MahallaRow, RateUnit};
use axum::extract::{Query, State};
use domain::Source;

use super::{
    MapMahalla, exports, fixed, form_start, legend, period_text, pval, respond, select, svg_map,
};
use crate::AppState;
use crate::analysis::crimefree::{CrimeFree, compute, status};
use crate::analysis::{ANALYTICS_READERS, Params, clean};
use crate::console::html::Html;
use crate::console::map::shape;
use crate::console::{PageResult, Viewer, label};
use crate::html;

pub const PATH: &str = "/console/analytics/crime-free";
const TITLE: &str = "Crime-free mahallas";

const SURPRISING: &str = "#1b7837";
const CRIME_FREE: &str = "#a6dba0";
const RED: &str = "#d7301f";
const OTHER: &str = "#eef1f4";

fn fill(r: &MahallaRow) -> &'static str {
    match status(r) {
        "surprising_zero" => SURPRISING,
        "crime_free" => CRIME_FREE,
        "red" => RED,
        _ => OTHER,
    }
}

const EXPLAIN: &str = "A mahalla is crime-free when nothing of the chosen sources was recorded there in the period. Whether that means much depends on its size: a mahalla of 300 people often has a quiet month by chance, one of 30,000 almost never does. So each zero is compared with what its district's rate (without the mahalla itself) would lead us to expect for its population: P(0) is the chance of seeing no incident at all at that rate. A zero is marked surprising only when P(0) stays small after correcting for the number of mahallas looked at. A surprising zero is worth a visit, not a medal: it can be real safety, or people who no longer report. Where a population is not known, the district's average is used and the row says so. The red list holds mahallas whose count is clearly above the region's rate, ranked by a rate pulled towards the average the less there is to go on, so that two incidents among thirty people do not top it.";

/// `GET /console/analytics/crime-free?from=&to=&area=&sources=`
pub async fn page_get(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<Params>,
) -> PageResult {
    v.require(ANALYTICS_READERS)?;
    let q = clean(q);
    let mut form = form_start(&state, &v, &q, PATH, EXPLAIN).await?;
    let sources = [
        ("all", "all sources (nothing known from anyone)"),
        ("public", "reported by the public"),
        ("patrol", "found by patrols"),
        ("camera", "confirmed camera events"),
        ("inspector", "recorded by inspectors"),
    ];
    html!(form; "<label>Counting " [select("sources", &sources, &q, "all")] "</label><button type=\"submit\">Show</button></form>");
    let result = compute(&state, &v.me, &q).await.map(|cf| render(&cf, &q));
    respond(&v, PATH, TITLE, form, result)
}

fn render(cf: &CrimeFree, q: &Params) -> Html {
    let r = &cf.report;
    let unit = match r.rate_unit {
        RateUnit::Per1000Residents => "per 1,000 residents",
        RateUnit::PerMahalla => "per mahalla (no population is known)",
    };
    let mut h = Html::new();
    html!(h; "<p class=\"muted\">" {period_text(&r.period)} " · " {format!("{:.0}", r.period_days)} " days · area " {cf.place.scope}
        " · reference rates from " {cf.reference} " · rates " {unit} "</p>");
    if r.mixes_public_and_patrol {
        h.raw("<p class=\"muted\">The counts add reports by the public and finds by patrols. A patrol finds things where it goes, so for a fair comparison between mahallas pick one source.</p>");
    }
    html!(h; "<div class=\"stats\" id=\"crime-free-summary\">"
        "<div class=\"card stat\"><p class=\"big\" id=\"crime-free-count\">" {r.crime_free.count} "</p><p>crime-free of " {r.mahallas} " mahallas</p></div>"
        "<div class=\"card stat\"><p class=\"big\" id=\"crime-free-expected\">" {format!("{:.1}", r.crime_free.expected)} "</p><p>expected by chance alone (± " {format!("{:.1}", r.crime_free.expected_sd)} ")</p></div>"
        "<div class=\"card stat\"><p class=\"big\" id=\"crime-free-surprising\">" {r.crime_free.surprising} "</p><p>surprising zeros</p></div>"
        "<div class=\"card stat\"><p class=\"big\" id=\"incident-count\">" {r.incidents} "</p><p>incidents in the area</p></div>"
        "<div class=\"card stat\"><p class=\"big\" id=\"red-count\">" {r.red.mahallas.len()} "</p><p>red (of " {r.red.qualifying} " clearly above the region's rate of " {format!("{:.2}", r.red.overall_rate)} ")</p></div></div>");
    if r.exposure_imputed > 0 {
        html!(h; "<p class=\"muted\">" {r.exposure_imputed} " mahalla(s) have no registered population: their district's average is used, and they are kept off the red list.</p>");
    }

    // The map.
    let drawn: Vec<MapMahalla> = r
        .rows
        .iter()
        .filter_map(|row| {
            let m = cf.mahallas.get(row.mahalla)?;
            let shape = m.mahalla.geometry.as_deref().and_then(shape)?;
            let name = m.mahalla.names.uz_latn.clone();
            let title = format!("{name}: {} incident(s); {}", row.count, label(status(row)));
            Some(MapMahalla {
                id: row.mahalla,
                name,
                synthetic: m.mahalla.synthetic,
                count: row.count,
                shape,
                fill: Some(fill(row).to_owned()),
                title,
            })
        })
        .collect();
    h.raw("<div class=\"map-wrap\"><div class=\"map\">");
    match svg_map("Mahallas coloured as crime-free or red", &drawn, &[]) {
        Some(svg) => h.push(&svg),
        None => h.raw(
            "<p class=\"empty\">No mahalla of this area has a boundary or a point to draw.</p>",
        ),
    };
    h.raw("</div><aside class=\"map-side\"><div class=\"card\" id=\"map-info\" aria-live=\"polite\"><p class=\"muted\">Click a mahalla to show its name and count here.</p></div><div class=\"card legend\"><h2>Legend</h2>");
    h.push(&legend(&[
        (SURPRISING, "crime-free, and a surprising zero".into()),
        (CRIME_FREE, "crime-free (a zero chance explains)".into()),
        (RED, "red: clearly above the region's rate".into()),
        (OTHER, "neither".into()),
    ]));
    h.raw("</div></aside></div>");
    h.push(&exports(
        "/api/analytics/crime-free",
        &["csv", "geojson"],
        q,
    ));

    // The crime-free list, most surprising first.
    html!(h; "<h2>Crime-free mahallas (" {r.crime_free.count} ")</h2>");
    if r.crime_free.mahallas.is_empty() {
        h.raw("<p class=\"empty\">No mahalla of the area was crime-free in this period.</p>");
    } else {
        h.raw("<table class=\"list\" id=\"crime-free-table\"><thead><tr><th>Mahalla</th><th>Population</th><th>Exposure</th><th>Expected at the district's rate</th><th>P(0)</th><th>After correction</th><th>Surprising?</th></tr></thead><tbody>");
        for id in &r.crime_free.mahallas {
            let Some(row) = r.rows.iter().find(|x| x.mahalla == *id) else {
                continue;
            };
            html!(h; "<tr data-mahalla=\"" {id} "\"><td>" {cf.mahallas.name(*id)});
            synthetic_tag(&mut h, cf, row);
            html!(h; "</td><td>" {row.population.map_or_else(|| "unknown".to_owned(), |p| p.to_string())}
                "</td><td>" {format!("{:.0}", row.exposure)} " <span class=\"muted\">" {label(&basis(row))} "</span></td><td>" {fixed(row.expected, 2)}
                "</td><td>" {pval(row.p_low)} "</td><td>" {pval(row.q_low)} "</td><td>"
                {if row.surprising_zero { "yes" } else { "no" }} "</td></tr>");
        }
        h.raw("</tbody></table>");
    }

    // The red list.
    html!(h; "<h2>Red mahallas (" {r.red.mahallas.len()} ")</h2>");
    if r.red.mahallas.is_empty() {
        h.raw("<p class=\"empty\">No mahalla of the area is clearly above the region's rate.</p>");
    } else {
        h.raw("<table class=\"list\" id=\"red-table\"><thead><tr><th>#</th><th>Mahalla</th><th>Incidents</th><th>By source</th><th>Population</th><th>Rate</th><th>Rate after shrinking</th><th>Expected at the region's rate</th><th>After correction</th></tr></thead><tbody>");
        for (k, id) in r.red.mahallas.iter().enumerate() {
            let Some(row) = r.rows.iter().find(|x| x.mahalla == *id) else {
                continue;
            };
            let by: Vec<String> = Source::ALL
                .iter()
                .filter_map(|s| row.by_source.get(s).map(|n| format!("{s} {n}")))
                .collect();
            html!(h; "<tr data-mahalla=\"" {id} "\"><td>" {k + 1} "</td><td>" {cf.mahallas.name(*id)});
            synthetic_tag(&mut h, cf, row);
            html!(h; "</td><td class=\"count\">" {row.count} "</td><td>" {by.join(", ")} "</td><td>"
                {row.population.map_or_else(|| "unknown".to_owned(), |p| p.to_string())} "</td><td>" {format!("{:.2}", row.rate)}
                "</td><td>" {format!("{:.2}", row.eb_rate)} "</td><td>" {fixed(row.expected_overall, 1)} "</td><td>" {pval(row.q_high)} "</td></tr>");
        }
        h.raw("</tbody></table>");
    }
    h
}

fn basis(row: &MahallaRow) -> String {
    serde_json::to_value(row.exposure_basis)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn synthetic_tag(h: &mut Html, cf: &CrimeFree, row: &MahallaRow) {
    if cf
        .mahallas
        .get(row.mahalla)
        .is_some_and(|m| m.mahalla.synthetic)
    {
        h.raw(" <span class=\"tag\">synthetic</span>");
    }
}
