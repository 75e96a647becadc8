//! The map: an SVG drawn on the server from the mahallas within the caller's scope (their
//! GeoJSON polygons, or a disc where only a point is known), each filled by its number of
//! incidents, with incidents that have a position as dots. No tile server and no request
//! leaves the site: hovering shows a mahalla's name and count (SVG `<title>`), clicking fills
//! the panel beside the map (console.js), and a table lists the same numbers.
//!
//! The geometry comes from the store (the `mahallas` table's GeoJSON text), the incidents from
//! the API's scoped list, so the map shows exactly what the caller may see.
use std::collections::HashMap;
use std::fmt::Write;

use axum::extract::{Query, State};
use domain::{Incident, MahallaId, Source};
use serde::Deserialize;
use serde_json::Value;

use super::html::Html;
use super::{
    PageError, PageResult, Viewer, label, mahalla_name, mahallas_in_scope, page, select_words, when,
};
use crate::AppState;
use crate::api::INCIDENT_READERS;
use crate::html;

pub(crate) const WIDTH: f64 = 900.0;
pub(crate) const HEIGHT: f64 = 600.0;
const PAD: f64 = 30.0;
/// The radius (pixels) of a mahalla known only by its point.
const POINT_RADIUS: f64 = 26.0;
/// The count the darkest fill stands for, at the least.
const MIN_TOP: usize = 5;
/// Name labels are drawn only when there are at most this many mahallas.
const MAX_LABELS: usize = 60;

/// A mahalla's shape in lon/lat: rings of polygons (outer and holes, even-odd), or a point.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Rings(Vec<Vec<(f64, f64)>>),
    Point(f64, f64),
}

fn coord(v: &Value) -> Option<(f64, f64)> {
    let a = v.as_array()?;
    let lon = a.first()?.as_f64()?;
    let lat = a.get(1)?.as_f64()?;
    (lon.is_finite() && lat.is_finite()).then_some((lon, lat))
}

fn ring(v: &Value) -> Option<Vec<(f64, f64)>> {
    let pts: Option<Vec<_>> = v.as_array()?.iter().map(coord).collect();
    pts.filter(|p| p.len() >= 3)
}

/// The shape of a GeoJSON geometry (or Feature) text: Polygon, MultiPolygon or Point; `None`
/// for anything else or anything unreadable.
pub fn shape(geojson: &str) -> Option<Shape> {
    let v: Value = serde_json::from_str(geojson).ok()?;
    let g = if v.get("type").and_then(Value::as_str) == Some("Feature") {
        v.get("geometry")?
    } else {
        &v
    };
    let coords = g.get("coordinates")?;
    match g.get("type")?.as_str()? {
        "Point" => coord(coords).map(|(x, y)| Shape::Point(x, y)),
        "Polygon" => {
            let rings: Option<Vec<_>> = coords.as_array()?.iter().map(ring).collect();
            rings.filter(|r| !r.is_empty()).map(Shape::Rings)
        }
        "MultiPolygon" => {
            let mut all = Vec::new();
            for poly in coords.as_array()? {
                for r in poly.as_array()? {
                    all.push(ring(r)?);
                }
            }
            (!all.is_empty()).then_some(Shape::Rings(all))
        }
        _ => None,
    }
}

/// Longitude/latitude to the picture's pixels: an equirectangular projection around the middle
/// latitude (fine at a district's or a region's size), fitted into the picture.
pub(crate) struct Projection {
    lon0: f64,
    lat1: f64,
    k: f64,
    coslat: f64,
    dx: f64,
    dy: f64,
}

impl Projection {
    pub(crate) fn fit(points: impl Iterator<Item = (f64, f64)>) -> Option<Projection> {
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (x, y) in points {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if x0 > x1 {
            return None;
        }
        let coslat = ((y0 + y1) / 2.0).to_radians().cos().max(0.05);
        // A single point (or a line) still gets a sensible scale: about 2 km across.
        let w = ((x1 - x0) * coslat).max(0.02);
        let h = (y1 - y0).max(0.02);
        let k = ((WIDTH - 2.0 * PAD) / w).min((HEIGHT - 2.0 * PAD) / h);
        let dx = (WIDTH - (x1 - x0) * coslat * k) / 2.0;
        let dy = (HEIGHT - (y1 - y0) * k) / 2.0;
        Some(Projection {
            lon0: x0,
            lat1: y1,
            k,
            coslat,
            dx,
            dy,
        })
    }

    pub(crate) fn xy(&self, (lon, lat): (f64, f64)) -> (f64, f64) {
        (
            self.dx + (lon - self.lon0) * self.coslat * self.k,
            self.dy + (self.lat1 - lat) * self.k,
        )
    }
}

/// The SVG path data (`d`) of `rings` (outer rings and holes, drawn even-odd) in the picture.
pub(crate) fn rings_path(p: &Projection, rings: &[Vec<(f64, f64)>]) -> String {
    let mut d = String::new();
    for r in rings {
        for (j, pt) in r.iter().enumerate() {
            let (x, y) = p.xy(*pt);
            let _ = write!(d, "{}{x:.1} {y:.1}", if j == 0 { "M" } else { " L" });
        }
        d.push_str(" Z ");
    }
    d
}

/// The fill of a mahalla with `n` incidents when the most in one is `max`: pale green for none,
/// then from light orange to dark red.
pub fn fill(n: usize, max: usize) -> String {
    if n == 0 || max == 0 {
        return "#e3ece1".into();
    }
    let t = if max <= 1 {
        1.0
    } else {
        (n - 1) as f64 / (max - 1) as f64
    };
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        lerp(253.0, 165.0),
        lerp(204.0, 15.0),
        lerp(138.0, 21.0)
    )
}

#[derive(Deserialize, Default)]
pub struct MapQuery {
    #[serde(default)]
    source: String,
}

/// Every incident within the caller's scope (the API's export query), optionally of one source.
async fn incidents(
    state: &AppState,
    v: &Viewer,
    source: Option<Source>,
) -> Result<Vec<Incident>, PageError> {
    let all = crate::api::all_in_scope(state, &v.me).await?;
    Ok(all
        .into_iter()
        .filter(|i| source.is_none_or(|s| i.source == s))
        .collect())
}

/// `GET /console/map?source=`
pub async fn page_get(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<MapQuery>,
) -> PageResult {
    v.require(INCIDENT_READERS)?;
    let source: Option<Source> = if q.source.is_empty() {
        None
    } else {
        Some(q.source.parse().map_err(|e: domain::DomainError| {
            PageError(crate::error::ApiError::bad_request(
                e.to_string(),
                "pick a source from the list",
            ))
        })?)
    };
    let mahallas = mahallas_in_scope(&state, &v.me.user.scope).await?;
    let incidents = incidents(&state, &v, source).await?;
    let mut counts: HashMap<MahallaId, usize> = HashMap::new();
    for i in &incidents {
        *counts.entry(i.mahalla).or_default() += 1;
    }
    // The darkest colour stands for at least MIN_TOP incidents, so that one incident in a quiet
    // district is not painted like a hot spot.
    let max = counts.values().copied().max().unwrap_or(0).max(MIN_TOP);
    let shapes: Vec<(usize, Shape)> = mahallas
        .iter()
        .enumerate()
        .filter_map(|(k, m)| m.geometry.as_deref().and_then(shape).map(|s| (k, s)))
        .collect();
    let proj = Projection::fit(
        shapes
            .iter()
            .flat_map(|(_, s)| match s {
                Shape::Rings(r) => r.iter().flatten().copied().collect::<Vec<_>>(),
                Shape::Point(x, y) => vec![(*x, *y)],
            })
            .chain(
                incidents
                    .iter()
                    .filter_map(|i| i.point.map(|p| (p.lon, p.lat))),
            ),
    );

    let mut body = Html::new();
    let sources: Vec<&str> = Source::ALL.iter().map(|s| s.as_str()).collect();
    html!(body; "<form method=\"get\" action=\"/console/map\" class=\"filters\"><label>Source "
        [select_words("source", &sources, source.map(|s| s.as_str()), Some("all sources"))]
        "</label><button type=\"submit\">Show</button><span class=\"muted\">Incidents found by patrols follow where patrols already go: compare sources before reading a pattern into the map.</span></form>");
    html!(body; "<div class=\"map-wrap\"><div class=\"map\">");
    match &proj {
        None => {
            body.raw("<p class=\"empty\" id=\"map-empty\">No mahalla within your scope has a boundary or a point to draw.</p>");
        }
        Some(p) => {
            html!(body; "<svg id=\"map\" viewBox=\"0 0 " {WIDTH} " " {HEIGHT} "\" role=\"img\" aria-label=\"Map of mahallas coloured by incidents\" xmlns=\"http://www.w3.org/2000/svg\">"
                "<rect class=\"sea\" x=\"0\" y=\"0\" width=\"" {WIDTH} "\" height=\"" {HEIGHT} "\"></rect>");
            let labels = shapes.len() <= MAX_LABELS;
            for (k, s) in &shapes {
                let m = &mahallas[*k];
                let n = counts.get(&m.id).copied().unwrap_or(0);
                let name = mahalla_name(m);
                html!(body; "<g class=\"mahalla\" tabindex=\"0\" id=\"mahalla-" {m.id} "\" data-id=\"" {m.id}
                    "\" data-name=\"" {name} "\" data-count=\"" {n} "\" data-synthetic=\"" {m.synthetic}
                    "\"><title>" {name} ": " {n} " incident(s)</title>");
                let (cx, cy) = match s {
                    Shape::Rings(rings) => {
                        html!(body; "<path fill-rule=\"evenodd\" fill=\"" {fill(n, max)} "\" d=\"" {rings_path(p, rings)} "\"></path>");
                        // Where the label goes: the mean of the outer ring's vertices.
                        let outer = &rings[0];
                        let (sx, sy) = outer.iter().fold((0.0, 0.0), |(a, b), pt| {
                            let (x, y) = p.xy(*pt);
                            (a + x, b + y)
                        });
                        (sx / outer.len() as f64, sy / outer.len() as f64)
                    }
                    Shape::Point(x, y) => {
                        let (cx, cy) = p.xy((*x, *y));
                        html!(body; "<circle class=\"place\" fill=\"" {fill(n, max)} "\" cx=\"" {format!("{cx:.1}")}
                            "\" cy=\"" {format!("{cy:.1}")} "\" r=\"" {POINT_RADIUS} "\"></circle>");
                        // The label goes under the disc, clear of the incidents on it.
                        (cx, cy + POINT_RADIUS + 16.0)
                    }
                };
                if labels {
                    html!(body; "<text class=\"label\" x=\"" {format!("{cx:.1}")} "\" y=\"" {format!("{cy:.1}")}
                        "\" text-anchor=\"middle\">" {name} " (" {n} ")</text>");
                }
                body.raw("</g>");
            }
            for i in incidents.iter() {
                let Some(pt) = i.point else { continue };
                let (x, y) = p.xy((pt.lon, pt.lat));
                html!(body; "<a href=\"/console/incidents/" {i.id} "\" class=\"incident-dot\" id=\"dot-" {i.id} "\">"
                    "<circle cx=\"" {format!("{x:.1}")} "\" cy=\"" {format!("{y:.1}")} "\" r=\"5\"></circle>"
                    "<title>Incident #" {i.id} ": " {label(i.category.as_str())} ", " {label(i.status.as_str())} ", "
                    {when(i.occurred_at)} "</title></a>");
            }
            body.raw("</svg>");
        }
    }
    html!(body; "</div><aside class=\"map-side\"><div class=\"card\" id=\"map-info\" aria-live=\"polite\">"
        "<p class=\"muted\">Hover over a mahalla for its name and count; click it to show them here.</p></div>"
        "<div class=\"card legend\"><h2>Incidents per mahalla</h2><svg viewBox=\"0 0 200 24\" class=\"legend-bar\" aria-hidden=\"true\">");
    // One swatch per count from 1 to the top (at most 10 swatches).
    let k = max.min(10);
    let w = 200.0 / k as f64;
    for j in 0..k {
        let n = 1 + j * (max - 1) / (k - 1);
        html!(body; "<rect x=\"" {format!("{:.1}", j as f64 * w)} "\" y=\"0\" width=\"" {format!("{w:.1}")}
            "\" height=\"24\" fill=\"" {fill(n, max)} "\"><title>" {n} "</title></rect>");
    }
    let most = counts.values().copied().max().unwrap_or(0);
    let scale = format!(
        "Light orange: 1 incident; dark red: {max}{}; pale green: none. The most in one mahalla: {most}.",
        if most < MIN_TOP { " or more" } else { "" }
    );
    html!(body; "</svg><p class=\"muted\">" {scale} " Dots: incidents with a position (" {incidents.iter().filter(|i| i.point.is_some()).count()} " of " {incidents.len()} ").</p></div></aside></div>");

    // The same numbers as a table, most incidents first.
    let mut rows: Vec<_> = mahallas
        .iter()
        .map(|m| (counts.get(&m.id).copied().unwrap_or(0), m))
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    let mut districts: HashMap<domain::DistrictId, String> = HashMap::new();
    for m in &mahallas {
        if let std::collections::hash_map::Entry::Vacant(slot) = districts.entry(m.district) {
            let name = state
                .store
                .get_district(m.district)
                .await?
                .map_or_else(|| m.district.to_string(), |d| d.names.uz_latn);
            slot.insert(name);
        }
    }
    body.raw("<h2>Mahallas</h2><table class=\"list\" id=\"mahalla-table\"><thead><tr><th>Mahalla</th><th>District</th><th>Population</th><th>Incidents</th><th></th></tr></thead><tbody>");
    for (n, m) in rows {
        html!(body; "<tr data-mahalla=\"" {m.id} "\"><td>" {mahalla_name(m)} "</td><td>" {districts.get(&m.district).cloned().unwrap_or_default()} "</td><td>"
            {m.population.map_or_else(|| "unknown".to_owned(), |p| p.to_string())} "</td><td class=\"count\">" {n} "</td><td>");
        if m.synthetic {
            body.raw("<span class=\"tag\">synthetic</span> ");
        }
        if m.geometry.as_deref().and_then(shape).is_none() {
            body.raw("<span class=\"tag\">not drawn: no boundary</span>");
        }
        body.raw("</td></tr>");
    }
    body.raw("</tbody></table>");
    Ok(page(&v, "/console/map", "Map", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometries_are_read_or_refused() {
        assert_eq!(
            shape(r#"{"type":"Point","coordinates":[69.2,41.3]}"#),
            Some(Shape::Point(69.2, 41.3))
        );
        let poly = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#;
        assert_eq!(
            shape(poly),
            Some(Shape::Rings(vec![vec![
                (0.0, 0.0),
                (1.0, 0.0),
                (1.0, 1.0),
                (0.0, 0.0)
            ]]))
        );
        let multi = r#"{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[2,2],[3,2],[3,3],[2,2]]]]}}"#;
        assert!(matches!(shape(multi), Some(Shape::Rings(r)) if r.len() == 2));
        for bad in [
            "",
            "{",
            r#"{"type":"LineString","coordinates":[[0,0],[1,1]]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0]]]}"#,
            r#"{"type":"Point","coordinates":["a",1]}"#,
        ] {
            assert_eq!(shape(bad), None, "{bad}");
        }
    }

    #[test]
    fn fills_go_from_pale_to_dark_with_the_count() {
        assert_eq!(fill(0, 5), "#e3ece1");
        assert_eq!(fill(1, 1), "#a50f15");
        assert_eq!(fill(1, 5), "#fdcc8a");
        assert_eq!(fill(5, 5), "#a50f15");
        assert_ne!(fill(2, 5), fill(4, 5));
    }

    #[test]
    fn projection_keeps_north_up_and_fits_the_picture() {
        let p = Projection::fit([(69.0, 41.0), (69.1, 41.1)].into_iter()).unwrap();
        let (x0, y0) = p.xy((69.0, 41.0));
        let (x1, y1) = p.xy((69.1, 41.1));
        assert!(x1 > x0 && y1 < y0, "east is right and north is up");
        for (x, y) in [(x0, y0), (x1, y1)] {
            assert!((PAD - 0.01..=WIDTH - PAD + 0.01).contains(&x), "{x}");
            assert!((PAD - 0.01..=HEIGHT - PAD + 0.01).contains(&y), "{y}");
        }
        assert!(Projection::fit(std::iter::empty()).is_none());
    }
}
