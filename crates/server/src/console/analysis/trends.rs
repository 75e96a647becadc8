//! `GET /console/analytics/trends`: per source, the period against the previous one and a year
//! before, with a chart of the last periods. Public reports and patrol finds are separate
//! tables and charts; no figure adds them.
use analytics::crimefree::RateUnit;
use analytics::trends::{Change, Direction, SourceTrends, Trend};
use axum::extract::{Query, State};
use domain::Source;

use super::{bar_chart, fixed, form_start, period_text, pval, respond};
use crate::AppState;
use crate::analysis::trends::{Trends, compute};
use crate::analysis::{ANALYTICS_READERS, Params, clean};
use crate::console::html::Html;
use crate::console::{PageResult, Viewer, label};
use crate::html;

pub const PATH: &str = "/console/analytics/trends";
const TITLE: &str = "Trends";

const EXPLAIN: &str = "Each way an incident becomes known has its own table and chart: reports by the public, finds by patrols, confirmed camera events and inspectors' records are never added together. Patrol finds follow where patrols already go: more patrols in a place find more there, which sends more patrols, and a total that mixed them with public reports would hide that loop. Each count is compared with the period before and with the same dates a year earlier, with an exact test for counts; an arrow appears only where the change is larger than chance would explain after correcting for the number of comparisons on this page. A change without an arrow may be real, but these numbers cannot tell it from chance.";

fn source_title(s: Source) -> &'static str {
    match s {
        Source::Public => "Reported by the public",
        Source::Patrol => "Found by patrols",
        Source::Camera => "Confirmed camera events",
        Source::Inspector => "Recorded by inspectors",
    }
}

fn source_colour(s: Source) -> &'static str {
    match s {
        Source::Public => "#0b5d7a",
        Source::Patrol => "#8a4b08",
        Source::Camera => "#5b4b8a",
        Source::Inspector => "#1e6b3a",
    }
}

/// `GET /console/analytics/trends?from=&to=&area=`
pub async fn page_get(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<Params>,
) -> PageResult {
    v.require(ANALYTICS_READERS)?;
    let q = clean(q);
    let mut form = form_start(&state, &v, &q, PATH, EXPLAIN).await?;
    form.raw("<button type=\"submit\">Show</button></form>");
    let result = compute(&state, &v.me, &q).await.map(|t| render(&t, &q));
    respond(&v, PATH, TITLE, form, result)
}

fn arrow(c: &Change) -> Html {
    let mut h = Html::new();
    match c.direction {
        Direction::Up => h.raw("<span class=\"arrow up\" title=\"a clear rise\">▲ up</span>"),
        Direction::Down => h.raw("<span class=\"arrow down\" title=\"a clear fall\">▼ down</span>"),
        Direction::NoClearChange => h.raw("<span class=\"muted\">no clear change</span>"),
    };
    h
}

fn change_cells(h: &mut Html, c: &Change) {
    let ratio = match (c.rate_ratio, c.ci_high) {
        (Some(r), Some(hi)) => format!("×{r:.2} ({:.2}–{hi:.2})", c.ci_low),
        (Some(r), None) => format!("×{r:.2} ({:.2}–∞)", c.ci_low),
        (None, _) => "–".to_owned(),
    };
    html!(h; "<td class=\"count\">" {c.count} "</td><td>" {ratio} "</td><td>" {pval(c.q)} "</td><td>" [arrow(c)] "</td>");
}

fn trend_row(h: &mut Html, category: &str, t: &Trend) {
    html!(h; "<tr><td>" {label(category)} "</td><td class=\"count\">" {t.current.count} "</td><td>" {fixed(t.current.rate, 2)} "</td>");
    change_cells(h, &t.previous);
    change_cells(h, &t.year_before);
    h.raw("</tr>");
}

fn render(t: &Trends, q: &Params) -> Html {
    let r = &t.report;
    let unit = match r.rate_unit {
        RateUnit::Per1000Residents => "per 1,000 residents",
        RateUnit::PerMahalla => "per mahalla",
    };
    let mut h = Html::new();
    html!(h; "<p class=\"muted\" id=\"trend-periods\">This period: <strong>" {period_text(&r.current)} "</strong> · previous: " {period_text(&r.previous)}
        " · a year before: " {period_text(&r.year_before)} " · area " {t.place.scope} " (" {r.mahallas} " mahallas, "
        {format!("{:.0}", r.population)} " residents" {if r.population_imputed > 0 { ", some estimated" } else { "" }} ") · rates " {unit}
        " · " {r.tests} " comparisons tested together</p>");
    h.push(&super::exports("/api/analytics/trends", &["csv"], q));
    h.raw("<div class=\"trend-grid\">");
    for s in Source::ALL {
        let Some(st) = r.by_source.get(s) else {
            continue;
        };
        source_card(&mut h, t, *s, st);
    }
    h.raw("</div>");
    h
}

fn source_card(h: &mut Html, t: &Trends, s: Source, st: &SourceTrends) {
    html!(h; "<section class=\"card trend\" id=\"trend-" {s} "\"><h2>" {source_title(s)} "</h2>");
    if let Some(series) = t.series.by_source.get(&s) {
        h.push(&bar_chart(
            &format!("chart-{s}"),
            &series.all_categories,
            &t.series.bins,
            source_colour(s),
        ));
    }
    html!(h; "<table class=\"list\"><thead><tr><th rowspan=\"2\">Category</th><th colspan=\"2\">This period</th><th colspan=\"4\">Against the previous period</th><th colspan=\"4\">Against a year before</th></tr>"
        "<tr><th>Count</th><th>Rate</th><th>Then</th><th>Rate ratio (95%)</th><th>q</th><th></th><th>Then</th><th>Rate ratio (95%)</th><th>q</th><th></th></tr></thead><tbody>");
    trend_row(h, "all categories", &st.all_categories);
    for (c, tr) in &st.by_category {
        trend_row(h, c.as_str(), tr);
    }
    h.raw("</tbody></table></section>");
}
