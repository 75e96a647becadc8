//! `GET /console/analytics/hotspots`: a tested hot-spot map (Gi* on mahallas or on a grid, or
//! kernel density) with its forecast score beside it: PAI and PEI* on a held-out period, the
//! baseline's PAI, and which to prefer.
use analytics::forecast::{HitRate, Preferred};
use axum::extract::{Query, State};

use super::{
    MapCell, MapMahalla, exports, fixed, form_start, legend, period_text, pval, respond, select,
    svg_map,
};
use crate::AppState;
use crate::analysis::hotspots::{HotPlace, HotSpots, Method, Score, compute};
use crate::analysis::{ANALYTICS_READERS, Params, clean, last_whole_month, local_date, month_of};
use crate::console::html::Html;
use crate::console::map::shape;
use crate::console::{PageResult, Viewer, label};
use crate::html;

pub const PATH: &str = "/console/analytics/hotspots";
const TITLE: &str = "Hot spots";
/// The console's map period by default: this many whole months before the held-out month (a year: fewer leave Gi* little to find on a few dozen mahallas).
const DEFAULT_MONTHS: u32 = 12;

const EXPLAIN: &str = "A hot spot here is tested, not eyeballed. Gi* asks whether a place and its neighbours together hold more incidents than chance would give, by shuffling the counts of the other places thousands of times; the result is corrected for the number of places looked at, so that among many places a few do not light up by luck. Hot and cold are shown at 90, 95 and 99% confidence. Kernel density is a smoothed picture of where incidents were, with no test. Every map is then scored on a later period it has not seen. PAI is the share of that period's incidents that fell in the flagged places divided by the share of the area flagged: 5 means the map caught five times what flagging at random would. PEI* compares it with the best any map of the same size could have done (1 is perfect). The baseline simply flags the places with the most incidents in the map's own period; a method is worth using only where it beats the baseline.";

fn class_fill(class: Option<&str>) -> &'static str {
    match class {
        Some("hot_99") => "#a50f15",
        Some("hot_95") => "#de2d26",
        Some("hot_90") => "#fc9272",
        Some("cold_99") => "#08519c",
        Some("cold_95") => "#3182bd",
        Some("cold_90") => "#9ecae1",
        _ => "#f3f4f6",
    }
}

/// White to dark purple with the density's share of the highest.
fn density_fill(d: f64, top: f64) -> String {
    let t = if top > 0.0 {
        (d / top).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        lerp(242.0, 84.0),
        lerp(240.0, 39.0),
        lerp(247.0, 143.0)
    )
}

/// The first visit's parameters: the map from the twelve whole months before the last whole month,
/// scored on that month.
fn defaults(state: &AppState, q: &mut Params) {
    if !q.is_empty() {
        return;
    }
    let test = last_whole_month(state.store_now());
    let (y, m) = month_of(test.start);
    let k = y * 12 + i64::from(m) - 1 - i64::from(DEFAULT_MONTHS);
    let start = analytics::data::local_midnight(
        k.div_euclid(12),
        (k.rem_euclid(12) + 1) as u32,
        1,
        analytics::data::UZ_OFFSET_S,
    );
    for (name, t) in [
        ("from", start),
        ("to", test.start),
        ("test_from", test.start),
        ("test_to", test.end),
    ] {
        q.insert(name.to_owned(), local_date(t));
    }
}

/// `GET /console/analytics/hotspots?from=&to=&area=&method=&cell_m=&permutations=&test_from=&test_to=&flag_pct=&sources=`
pub async fn page_get(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<Params>,
) -> PageResult {
    v.require(ANALYTICS_READERS)?;
    let mut q = clean(q);
    defaults(&state, &mut q);
    let mut form = form_start(&state, &v, &q, PATH, EXPLAIN).await?;
    let methods = [
        ("gistar-mahalla", "Gi* on mahallas"),
        ("gistar-grid", "Gi* on a grid"),
        ("kde", "kernel density"),
    ];
    let sources = [
        (
            "public,camera,inspector",
            "public, camera, inspector (not patrol)",
        ),
        ("public", "reported by the public"),
        ("patrol", "found by patrols"),
        ("camera", "confirmed camera events"),
        ("inspector", "recorded by inspectors"),
    ];
    let field = |name: &'static str| q.get(name).cloned().unwrap_or_default();
    html!(form; "<label>Method " [select("method", &methods, &q, "gistar-mahalla")] "</label>"
        "<label>Counting " [select("sources", &sources, &q, "public,camera,inspector")] "</label>"
        "<label>Cell (m) <input type=\"number\" name=\"cell_m\" id=\"cell_m\" min=\"25\" max=\"10000\" placeholder=\"250\" value=\"" {field("cell_m")} "\"></label>"
        "<label>Permutations <input type=\"number\" name=\"permutations\" id=\"permutations\" min=\"0\" max=\"9999\" placeholder=\"auto\" value=\"" {field("permutations")} "\"></label>"
        "<label>KDE: flag % of area <input type=\"number\" name=\"flag_pct\" id=\"flag_pct\" min=\"0.1\" max=\"100\" step=\"0.1\" placeholder=\"5\" value=\"" {field("flag_pct")} "\"></label>"
        [super::date_field("test_from", "Held out from", &q, None)]
        [super::date_field("test_to", "Held out to (not included)", &q, None)]
        "<button type=\"submit\">Show</button></form>");
    let result = compute(&state, &v.me, &q).await.map(|h| render(&h, &q));
    respond(&v, PATH, TITLE, form, result)
}

fn render(hs: &HotSpots, q: &Params) -> Html {
    let mut h = Html::new();
    let how = match hs.method {
        Method::GiStarMahalla => format!("Gi* on mahallas, {} permutations", hs.permutations),
        Method::GiStarGrid => format!(
            "Gi* on {} m cells, {} permutations",
            hs.grid.as_ref().map_or(0.0, |g| g.cell_m),
            hs.permutations
        ),
        Method::Kde => format!(
            "kernel density on {} m cells, bandwidth {} m",
            hs.grid.as_ref().map_or(0.0, |g| g.cell_m),
            hs.grid.as_ref().and_then(|g| g.bandwidth_m).unwrap_or(0.0)
        ),
    };
    let counted: Vec<String> = hs.sources.to_vec().iter().map(|s| s.to_string()).collect();
    html!(h; "<p class=\"muted\" id=\"hotspot-method\">" {period_text(&hs.period)} " · area " {hs.place.scope} " · " {how} " · counting " {counted.join(", ")} "</p>");
    for n in &hs.notes {
        html!(h; "<p class=\"muted note\">" {n} "</p>");
    }

    let (mahallas, cells) = map_layers(hs);
    h.raw("<div class=\"map-wrap\"><div class=\"map\">");
    match svg_map("Hot-spot map", &mahallas, &cells) {
        Some(svg) => h.push(&svg),
        None => h.raw(
            "<p class=\"empty\">Nothing of this area has a boundary or a position to draw.</p>",
        ),
    };
    h.raw("</div><aside class=\"map-side\">");
    score_box(&mut h, hs.score.as_ref());
    h.raw("<div class=\"card legend\"><h2>Legend</h2>");
    if hs.method == Method::Kde {
        let top = top_density(hs);
        h.push(&legend(&[
            (
                &density_fill(top, top),
                format!("densest ({top:.1} per km²)"),
            ),
            (&density_fill(top / 2.0, top), "half of that".into()),
            (&density_fill(0.0, top), "none".into()),
        ]));
        h.raw("<p class=\"muted\">Cells with a dark outline are the ones the map flags.</p>");
    } else {
        let entries: Vec<(&str, String)> = hs
            .class_counts()
            .into_iter()
            .map(|(c, n)| (class_fill(Some(c)), format!("{} ({n})", label(c))))
            .collect();
        h.push(&legend(&entries));
    }
    h.raw("</div></aside></div>");
    h.push(&exports("/api/analytics/hotspots", &["csv", "geojson"], q));
    places_table(&mut h, hs);
    h
}

fn top_density(hs: &HotSpots) -> f64 {
    hs.places
        .iter()
        .filter_map(|p| p.density_per_km2)
        .fold(0.0, f64::max)
}

fn place_title(p: &HotPlace) -> String {
    let what = p
        .name
        .clone()
        .unwrap_or_else(|| format!("cell {}", p.cell.unwrap_or(0)));
    match (p.class, p.density_per_km2) {
        (Some(c), _) => format!(
            "{what}: {} incident(s), {}, z {}",
            p.count,
            label(c),
            fixed(p.z, 2)
        ),
        (None, Some(d)) => format!("{what}: {} incident(s), {d:.1} per km²", p.count),
        _ => format!("{what}: {} incident(s)", p.count),
    }
}

/// The mahallas (filled by class, or outlines over a grid) and the grid's cells.
fn map_layers(hs: &HotSpots) -> (Vec<MapMahalla>, Vec<MapCell>) {
    let by_mahalla: std::collections::HashMap<_, _> = hs
        .places
        .iter()
        .filter_map(|p| p.mahalla.map(|m| (m, p)))
        .collect();
    let mahallas = hs
        .mahallas
        .list
        .iter()
        .filter_map(|m| {
            let shape = m.mahalla.geometry.as_deref().and_then(shape)?;
            let place = by_mahalla.get(&m.mahalla.id);
            let name = m.mahalla.names.uz_latn.clone();
            Some(MapMahalla {
                id: m.mahalla.id,
                title: place.map_or_else(|| name.clone(), |p| place_title(p)),
                name,
                synthetic: m.mahalla.synthetic,
                count: place.map_or(0, |p| p.count),
                shape,
                fill: (hs.method == Method::GiStarMahalla)
                    .then(|| class_fill(place.and_then(|p| p.class)).to_owned()),
            })
        })
        .collect();
    let top = top_density(hs);
    let cells = hs
        .places
        .iter()
        .filter_map(|p| {
            let ring = p.ring?;
            let fill = match p.density_per_km2 {
                Some(d) if d > 0.0 => density_fill(d, top),
                Some(_) => return None,
                None if p.class == Some("not_significant") && p.count == 0 => return None,
                None => class_fill(p.class).to_owned(),
            };
            Some(MapCell {
                ring: ring.iter().map(|c| (c[0], c[1])).collect(),
                fill,
                title: place_title(p),
                flagged: p.flagged > 0.0 && hs.method == Method::Kde,
            })
        })
        .collect();
    (mahallas, cells)
}

fn rate_cells(h: &mut Html, id: &str, f: impl Fn(&HitRate) -> String, s: &Score) {
    html!(h; "<td id=\"" {id} "-method\">" {f(&s.forecast.method)} "</td><td id=\"" {id} "-baseline\">" {f(&s.forecast.baseline)} "</td>");
}

fn score_box(h: &mut Html, score: Option<&Score>) {
    h.raw("<div class=\"card score\" id=\"score\"><h2>Forecast score</h2>");
    let Some(s) = score else {
        h.raw("<p class=\"muted\">Give a held-out period after the map's period to score this map on incidents it has not seen.</p></div>");
        return;
    };
    let f = &s.forecast;
    html!(h; "<p>Scored on <strong id=\"held-out\">" {period_text(&s.held_out)} "</strong>: " {format!("{:.0}", f.method.total)} " incident(s).</p>"
        "<table class=\"list\"><thead><tr><th></th><th>This map</th><th>Baseline</th></tr></thead><tbody><tr><th>PAI</th>");
    rate_cells(h, "pai", |r| fixed(r.pai, 2), s);
    h.raw("</tr><tr><th>PEI*</th>");
    rate_cells(h, "pei", |r| fixed(r.pei_star, 2), s);
    h.raw("</tr><tr><th>Incidents caught</th>");
    rate_cells(
        h,
        "caught",
        |r| {
            format!(
                "{:.1} ({})",
                r.captured,
                fixed(r.captured_share.map(|x| x * 100.0), 0) + "%"
            )
        },
        s,
    );
    h.raw("</tr><tr><th>Area flagged</th>");
    rate_cells(h, "area", |r| format!("{:.1}%", r.area_share * 100.0), s);
    let preferred = match f.preferred {
        Preferred::Method => "this map: it beats the baseline",
        Preferred::Baseline => "the baseline: this map does not beat last period's counts",
    };
    html!(h; "</tr></tbody></table><p class=\"preferred\" id=\"preferred\">Preferred: <strong>" {preferred} "</strong></p>"
        "<p class=\"muted\">The map flags " {s.flagged} "; the baseline is " {s.baseline} ".</p>");
    if f.method.flagged_area == 0.0 {
        h.raw("<p class=\"muted\">This map flags nothing, so it cannot be scored; the baseline then flags nothing either.</p>");
    }
    h.raw("</div>");
}

fn places_table(h: &mut Html, hs: &HotSpots) {
    let mut rows: Vec<&HotPlace> = match hs.method {
        Method::Kde => hs.places.iter().filter(|p| p.flagged > 0.0).collect(),
        _ => hs
            .places
            .iter()
            .filter(|p| p.class.is_some_and(|c| c != "not_significant"))
            .collect(),
    };
    let key = |p: &HotPlace| p.density_per_km2.or(p.z).unwrap_or(0.0);
    rows.sort_by(|a, b| key(b).total_cmp(&key(a)));
    rows.truncate(50);
    let caption = match hs.method {
        Method::Kde => "Flagged cells",
        _ => "Hot and cold places",
    };
    html!(h; "<h2>" {caption} " (" {rows.len()} ")</h2>");
    if rows.is_empty() {
        h.raw("<p class=\"empty\">No place is hot or cold at 90% or more after the correction: the incidents of this period are not clustered more than chance explains.</p>");
        return;
    }
    h.raw("<table class=\"list\" id=\"hotspot-table\"><thead><tr><th>Place</th><th>Incidents</th><th>Held out</th><th>Class</th><th>z</th><th>p (permutations)</th><th>After correction</th><th>Density per km²</th></tr></thead><tbody>");
    for p in rows {
        let what = p
            .name
            .clone()
            .unwrap_or_else(|| format!("cell {}", p.cell.unwrap_or(0)));
        html!(h; "<tr><td>" {what} "</td><td class=\"count\">" {p.count} "</td><td>" {p.held_out.map_or_else(|| "–".to_owned(), |n| n.to_string())}
            "</td><td>" {p.class.map_or_else(|| "–".to_owned(), label)} "</td><td>" {fixed(p.z, 2)} "</td><td>" {p.p_sim.map_or_else(|| "–".to_owned(), pval)}
            "</td><td>" {p.p_fdr.map_or_else(|| "–".to_owned(), pval)} "</td><td>" {fixed(p.density_per_km2, 1)} "</td></tr>");
    }
    h.raw("</tbody></table>");
}
