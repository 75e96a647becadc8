//! The report as one self-contained HTML page: inline CSS (print styles included), inline SVG
//! charts and map, no script and nothing fetched from anywhere.
use std::fmt::Write;

use crate::document::{Block, Table};
use crate::figure::{Anchor, Figure, Mark, Rgb};
use crate::text::escape;

const CSS: &str = "\
body{font:14px/1.45 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#212121;margin:0;background:#fafafa}\
main{max-width:60rem;margin:0 auto;padding:1.5rem 2rem;background:#fff}\
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.2rem;margin:2rem 0 .5rem;border-bottom:1px solid #e0e0e0;padding-bottom:.2rem}\
.sub{color:#616161;margin:0 0 1rem}.note{color:#616161;font-size:.85rem}\
.figures{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}.figures div{border:1px solid #e0e0e0;border-radius:4px;padding:.5rem .75rem;min-width:9rem}\
.figures b{display:block;font-size:1.4rem}.figures span{color:#616161;font-size:.85rem}\
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}\
th{background:#f5f5f5}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:1rem 0}svg.chart{width:100%;height:auto;max-width:640px;display:block}figcaption{color:#616161;font-size:.85rem}\
.legend{list-style:none;padding:0;margin:.25rem 0;display:flex;flex-wrap:wrap;gap:.25rem 1rem;font-size:.85rem}\
.legend svg{vertical-align:-1px}\
@media print{body{background:#fff}main{max-width:none;padding:0}h2{break-after:avoid}figure,table{break-inside:avoid}}";

/// The page.
pub fn render(blocks: &[Block], title: &str) -> String {
    let mut h = String::with_capacity(64 << 10);
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{CSS}</style></head><body><main>\n",
        escape(title)
    );
    for b in blocks {
        block(&mut h, b);
        h.push('\n');
    }
    h.push_str("</main></body></html>\n");
    h
}

fn block(h: &mut String, b: &Block) {
    match b {
        Block::Title { title, subtitle } => {
            let _ = write!(
                h,
                "<h1>{}</h1><p class=\"sub\">{}</p>",
                escape(title),
                escape(subtitle)
            );
        }
        Block::Heading(t) => {
            let _ = write!(h, "<h2>{}</h2>", escape(t));
        }
        Block::Para(t) => {
            let _ = write!(h, "<p>{}</p>", escape(t));
        }
        Block::Note(t) => {
            let _ = write!(h, "<p class=\"note\">{}</p>", escape(t));
        }
        Block::Figures(items) => {
            h.push_str("<div class=\"figures\">");
            for (l, v) in items {
                let _ = write!(
                    h,
                    "<div><b>{}</b><span>{}</span></div>",
                    escape(v),
                    escape(l)
                );
            }
            h.push_str("</div>");
        }
        Block::Table(t) => table(h, t),
        Block::Figure(f) => figure(h, f),
    }
}

fn table(h: &mut String, t: &Table) {
    h.push_str("<table><thead><tr>");
    for c in &t.columns {
        let class = if c.numeric { " class=\"n\"" } else { "" };
        let _ = write!(h, "<th{class}>{}</th>", escape(&c.title));
    }
    h.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        h.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let numeric = t.columns.get(i).is_some_and(|c| c.numeric);
            let class = if numeric { " class=\"n\"" } else { "" };
            let _ = write!(h, "<td{class}>{}</td>", escape(cell));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
}

fn n(v: f64) -> String {
    format!("{v:.1}")
}

fn stroke_attrs(stroke: Option<(Rgb, f64)>) -> String {
    match stroke {
        Some((c, w)) => format!(" stroke=\"{}\" stroke-width=\"{}\"", c.hex(), n(w)),
        None => String::new(),
    }
}

/// The figure as inline SVG, with its caption and legend.
pub fn svg(f: &Figure) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\" \
         font-family=\"Helvetica,Arial,sans-serif\">",
        n(f.width),
        n(f.height),
        escape(&f.caption)
    );
    for m in &f.marks {
        match m {
            Mark::Rect { x, y, w, h, fill } => {
                let _ = write!(
                    s,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                    n(*x),
                    n(*y),
                    n(*w),
                    n(*h),
                    fill.hex()
                );
            }
            Mark::Path {
                rings,
                fill,
                stroke,
            } => {
                let mut d = String::new();
                for r in rings {
                    for (i, (x, y)) in r.iter().enumerate() {
                        let _ = write!(d, "{}{} {}", if i == 0 { "M" } else { "L" }, n(*x), n(*y));
                    }
                    if fill.is_some() {
                        d.push('Z');
                    }
                }
                let fill = fill.map_or_else(|| "none".into(), |c| c.hex());
                let _ = write!(
                    s,
                    "<path d=\"{d}\" fill=\"{fill}\" fill-rule=\"evenodd\"{}/>",
                    stroke_attrs(*stroke)
                );
            }
            Mark::Circle {
                cx,
                cy,
                r,
                fill,
                stroke,
            } => {
                let _ = write!(
                    s,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"{}/>",
                    n(*cx),
                    n(*cy),
                    n(*r),
                    fill.hex(),
                    stroke_attrs(*stroke)
                );
            }
            Mark::Text {
                x,
                y,
                text,
                size,
                anchor,
                fill,
            } => {
                let anchor = match anchor {
                    Anchor::Start => "start",
                    Anchor::Middle => "middle",
                    Anchor::End => "end",
                };
                let _ = write!(
                    s,
                    "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{anchor}\" fill=\"{}\">{}</text>",
                    n(*x),
                    n(*y),
                    n(*size),
                    fill.hex(),
                    escape(text)
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

fn figure(h: &mut String, f: &Figure) {
    h.push_str("<figure>");
    h.push_str(&svg(f));
    if !f.legend.is_empty() {
        h.push_str("<ul class=\"legend\">");
        for (c, l) in &f.legend {
            // The swatch's colour is an SVG, not a style attribute, so the page needs no inline
            // style beyond its one <style> element.
            let _ = write!(
                h,
                "<li><svg width=\"12\" height=\"12\" viewBox=\"0 0 12 12\" aria-hidden=\"true\"><rect width=\"12\" height=\"12\" fill=\"{}\"/></svg> {}</li>",
                c.hex(),
                escape(l)
            );
        }
        h.push_str("</ul>");
    }
    let _ = write!(
        h,
        "<figcaption>{}</figcaption></figure>",
        escape(&f.caption)
    );
}
