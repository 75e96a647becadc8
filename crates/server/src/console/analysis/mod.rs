//! The analytics' pages: crime-free and red mahallas, trends per source, tested hot spots with
//! their forecast score. Each page calls the API's own `compute` (so roles, scope, parameters
//! and numbers are the API's), draws its map as inline SVG the way the map page does (polygons
//! from the store's GeoJSON, no tiles), and says in plain words what the numbers mean. A bad
//! parameter shows the form again with the API's message above it.
use analytics::data::Period;
use axum::http::StatusCode;
use domain::{MahallaId, Scope};

use super::html::Html;
use super::map::{HEIGHT, Projection, Shape, WIDTH, rings_path};
use super::{PageError, Viewer, error_banner, html_response, layout};
use crate::AppState;
use crate::analysis::{Params, last_whole_month, local_date};
use crate::error::ApiError;
use crate::html;

pub(crate) mod crimefree;
pub(crate) mod hotspots;
pub(crate) mod trends;

/// The areas a user may pick: the scope, the level below it, and the mahallas of a region or
/// district (a region's only when there are not too many to list).
async fn area_options(state: &AppState, scope: &Scope) -> Result<Vec<(String, String)>, PageError> {
    let s = &state.store;
    let mut out = Vec::new();
    match *scope {
        Scope::National => {
            out.push(("national".to_owned(), "the whole country".to_owned()));
            let districts = s.list_all_districts().await?;
            for r in s.list_regions().await? {
                out.push((format!("region:{}", r.id), r.names.uz_latn.clone()));
                for d in districts.iter().filter(|d| d.region == r.id) {
                    out.push((
                        format!("district:{}", d.id),
                        format!("— {}", d.names.uz_latn),
                    ));
                }
            }
        }
        Scope::Region(r) => {
            let name = s
                .get_region(r)
                .await?
                .map_or_else(|| r.to_string(), |r| r.names.uz_latn);
            out.push((scope.to_string(), name));
            let mahallas = s.list_mahallas_in_scope(scope).await?;
            let few = mahallas.len() <= 300;
            for d in s.list_districts(r).await? {
                out.push((
                    format!("district:{}", d.id),
                    format!("— {}", d.names.uz_latn),
                ));
                for m in mahallas
                    .iter()
                    .filter(|m| few && m.mahalla.district == d.id)
                {
                    out.push((
                        format!("mahalla:{}", m.mahalla.id),
                        format!("—— {}", m.mahalla.names.uz_latn),
                    ));
                }
            }
        }
        Scope::District(d) => {
            let name = s
                .get_district(d)
                .await?
                .map_or_else(|| d.to_string(), |d| d.names.uz_latn);
            out.push((scope.to_string(), name));
            for m in s.list_mahallas(d).await? {
                out.push((
                    format!("mahalla:{}", m.id),
                    format!("— {}", m.names.uz_latn),
                ));
            }
        }
        Scope::Mahalla(m) => {
            let name = s
                .get_mahalla(m)
                .await?
                .map_or_else(|| m.to_string(), |m| m.names.uz_latn);
            out.push((scope.to_string(), name));
        }
    }
    Ok(out)
}

/// A date field showing `q[name]`, else `default`.
fn date_field(
    name: &'static str,
    caption: &'static str,
    q: &Params,
    default: Option<String>,
) -> Html {
    let value = q.get(name).cloned().or(default).unwrap_or_default();
    let mut h = Html::new();
    html!(h; "<label>" {caption} " <input type=\"date\" name=\"" {name} "\" id=\"" {name} "\" value=\"" {value} "\"></label>");
    h
}

/// The top of an analytics page: the plain-language explanation, then the GET form with the
/// period (dates, `to` not included; the last whole month by default) and the area (the user's
/// scope by default). The page adds its own fields and closes the form.
async fn form_start(
    state: &AppState,
    v: &Viewer,
    q: &Params,
    path: &'static str,
    explain: &'static str,
) -> Result<Html, PageError> {
    let mut h = Html::new();
    html!(h; "<p class=\"muted explain\">" {explain} "</p><form method=\"get\" action=\"" {path} "\" class=\"filters\">");
    let default = last_whole_month(state.store_now());
    h.push(&date_field(
        "from",
        "From",
        q,
        Some(local_date(default.start)),
    ));
    h.push(&date_field(
        "to",
        "To (not included)",
        q,
        Some(local_date(default.end)),
    ));
    let chosen = q
        .get("area")
        .cloned()
        .unwrap_or_else(|| v.me.user.scope.to_string());
    h.raw("<label>Area <select name=\"area\" id=\"area\">");
    for (value, caption) in area_options(state, &v.me.user.scope).await? {
        h.raw("<option value=\"").text(&value).raw("\"");
        if value == chosen {
            h.raw(" selected");
        }
        html!(h; ">" {caption} "</option>");
    }
    h.raw("</select></label>");
    Ok(h)
}

/// A `<select>` of `(value, caption)` with `q[name]` (else `default`) chosen.
fn select(name: &'static str, options: &[(&str, &str)], q: &Params, default: &str) -> Html {
    let chosen = q.get(name).map_or(default, String::as_str);
    let mut h = Html::new();
    html!(h; "<select name=\"" {name} "\" id=\"" {name} "\">");
    for (value, caption) in options {
        h.raw("<option value=\"").text(value).raw("\"");
        if *value == chosen {
            h.raw(" selected");
        }
        html!(h; ">" {caption} "</option>");
    }
    h.raw("</select>");
    h
}

/// `q` as a query string (for the export links).
fn query_string(q: &Params) -> String {
    let mut pairs: Vec<(&String, &String)> = q.iter().collect();
    pairs.sort();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// The export links of a page (each export is audited).
fn exports(path: &str, formats: &[&'static str], q: &Params) -> Html {
    let qs = query_string(q);
    let mut h = Html::new();
    h.raw("<p class=\"exports\">Export (recorded in the audit log): ");
    for (k, f) in formats.iter().enumerate() {
        if k > 0 {
            h.raw(" · ");
        }
        html!(h; "<a href=\"" {format!("{path}.{f}?{qs}")} "\" id=\"export-" {f} "\">" {f.to_uppercase()} "</a>");
    }
    h.raw("</p>");
    h
}

/// A page of the analytics: the body, or the form with the API's error above it (a client
/// error keeps its status; a server error is the error page).
fn respond(
    v: &Viewer,
    path: &str,
    title: &str,
    form: Html,
    result: Result<Html, ApiError>,
) -> Result<axum::response::Response, PageError> {
    let mut body = form;
    let status = match result {
        Ok(content) => {
            body.push(&content);
            StatusCode::OK
        }
        Err(e) if e.status.is_client_error() => {
            body.push(&error_banner(&e));
            e.status
        }
        Err(e) => return Err(PageError(e)),
    };
    Ok(html_response(status, layout(Some(v), path, title, &body)))
}

/// A number with `digits` decimals; a dash when absent.
pub(crate) fn fixed(x: Option<f64>, digits: usize) -> String {
    match x {
        Some(x) if x.is_finite() => format!("{x:.digits$}"),
        _ => "–".to_owned(),
    }
}

/// A p-value as people read it: `<0.001` for the smallest.
pub(crate) fn pval(p: f64) -> String {
    if p < 0.001 {
        "<0.001".to_owned()
    } else {
        format!("{p:.3}")
    }
}

/// A period as local dates, the end included: `2024-03-01 – 2024-03-31`.
pub(crate) fn period_text(p: &Period) -> String {
    let last = p.end.saturating_add_micros(-1);
    format!("{} – {}", local_date(p.start), local_date(last))
}

/// A mahalla drawn on an analytics map.
pub(crate) struct MapMahalla {
    pub id: MahallaId,
    pub name: String,
    pub synthetic: bool,
    /// What the click panel shows as the count.
    pub count: u64,
    pub shape: Shape,
    /// `None`: outline only (a grid is drawn under it).
    pub fill: Option<String>,
    pub title: String,
}

/// A grid cell drawn on an analytics map.
pub(crate) struct MapCell {
    pub ring: Vec<(f64, f64)>,
    pub fill: String,
    pub title: String,
    /// Outlined: the cells a map flags.
    pub flagged: bool,
}

/// The picture: cells first, mahallas over them; `None` when nothing has a position.
pub(crate) fn svg_map(aria: &str, mahallas: &[MapMahalla], cells: &[MapCell]) -> Option<Html> {
    let proj = Projection::fit(
        mahallas
            .iter()
            .flat_map(|m| match &m.shape {
                Shape::Rings(r) => r.iter().flatten().copied().collect::<Vec<_>>(),
                Shape::Point(x, y) => vec![(*x, *y)],
            })
            .chain(cells.iter().flat_map(|c| c.ring.iter().copied())),
    )?;
    let mut h = Html::new();
    html!(h; "<svg id=\"map\" viewBox=\"0 0 " {WIDTH} " " {HEIGHT} "\" role=\"img\" aria-label=\"" {aria} "\" xmlns=\"http://www.w3.org/2000/svg\">"
        "<rect class=\"sea\" x=\"0\" y=\"0\" width=\"" {WIDTH} "\" height=\"" {HEIGHT} "\"></rect>");
    for c in cells {
        let class = if c.flagged { "cell flagged" } else { "cell" };
        html!(h; "<path class=\"" {class} "\" fill=\"" {c.fill} "\" d=\"" {rings_path(&proj, std::slice::from_ref(&c.ring))} "\"><title>" {c.title} "</title></path>");
    }
    for m in mahallas {
        let (class, fill) = match &m.fill {
            Some(f) => ("mahalla", f.as_str()),
            None => ("mahalla outline", "none"),
        };
        html!(h; "<g class=\"" {class} "\" tabindex=\"0\" id=\"mahalla-" {m.id} "\" data-id=\"" {m.id}
            "\" data-name=\"" {m.name} "\" data-count=\"" {m.count} "\" data-synthetic=\"" {m.synthetic}
            "\"><title>" {m.title} "</title>");
        match &m.shape {
            Shape::Rings(rings) => {
                html!(h; "<path fill-rule=\"evenodd\" fill=\"" {fill} "\" d=\"" {rings_path(&proj, rings)} "\"></path>");
            }
            Shape::Point(x, y) => {
                let (cx, cy) = proj.xy((*x, *y));
                html!(h; "<circle class=\"place\" fill=\"" {fill} "\" cx=\"" {format!("{cx:.1}")} "\" cy=\"" {format!("{cy:.1}")} "\" r=\"8\"></circle>");
            }
        }
        h.raw("</g>");
    }
    h.raw("</svg>");
    Some(h)
}

/// A legend: a swatch and a caption per entry.
pub(crate) fn legend(entries: &[(&str, String)]) -> Html {
    let mut h = Html::new();
    h.raw("<ul class=\"legend-list\">");
    for (fill, caption) in entries {
        html!(h; "<li><svg class=\"swatch\" viewBox=\"0 0 12 12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" fill=\"" {fill} "\"></rect></svg> " {caption} "</li>");
    }
    h.raw("</ul>");
    h
}

/// A small bar chart of counts (one bar per period), with the first and last period named.
pub(crate) fn bar_chart(id: &str, counts: &[u64], bins: &[Period], fill: &str) -> Html {
    const W: f64 = 360.0;
    const H: f64 = 110.0;
    const BASE: f64 = 90.0;
    let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = counts.len().max(1) as f64;
    let slot = W / n;
    let mut h = Html::new();
    html!(h; "<svg class=\"chart\" id=\"" {id} "\" viewBox=\"0 0 " {W} " " {H} "\" role=\"img\" aria-label=\"Incidents per period\" xmlns=\"http://www.w3.org/2000/svg\">"
        "<line class=\"axis\" x1=\"0\" y1=\"" {BASE} "\" x2=\"" {W} "\" y2=\"" {BASE} "\"></line>");
    for (k, c) in counts.iter().enumerate() {
        let bh = (*c as f64 / top) * (BASE - 14.0);
        let x = k as f64 * slot + slot * 0.15;
        let when = bins.get(k).map(period_text).unwrap_or_default();
        html!(h; "<rect class=\"bar\" fill=\"" {fill} "\" x=\"" {format!("{x:.1}")} "\" y=\"" {format!("{:.1}", BASE - bh)}
            "\" width=\"" {format!("{:.1}", slot * 0.7)} "\" height=\"" {format!("{bh:.1}")} "\"><title>" {when} ": " {c} "</title></rect>"
            "<text class=\"bar-count\" x=\"" {format!("{:.1}", x + slot * 0.35)} "\" y=\"" {format!("{:.1}", BASE - bh - 3.0)} "\" text-anchor=\"middle\">" {c} "</text>");
    }
    if let (Some(first), Some(last)) = (bins.first(), bins.last()) {
        html!(h; "<text x=\"0\" y=\"" {H - 2.0} "\" class=\"tick\">" {local_date(first.start)} "</text>"
            "<text x=\"" {W} "\" y=\"" {H - 2.0} "\" text-anchor=\"end\" class=\"tick\">" {local_date(last.start)} "</text>");
    }
    h.raw("</svg>");
    h
}
