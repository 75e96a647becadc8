//! The report as a PDF: A4 pages, the base-14 fonts Helvetica and Helvetica-Bold with
//! WinAnsiEncoding (nothing embedded; see [`crate::text`] for characters outside WinAnsi),
//! charts and the map as vector paths. Written with `pdf-writer`; no compression, no dates and
//! no random document id, so the same data always give the same bytes.
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::document::{Block, Table};
use crate::figure::{Anchor, Figure, GREY, GRID, INK, Mark, Rgb};
use crate::text::{to_winansi, width};

const PAGE_W: f64 = 595.0;
const PAGE_H: f64 = 842.0;
const MARGIN: f64 = 48.0;
const CONTENT_W: f64 = PAGE_W - 2.0 * MARGIN;
/// The lowest a line may sit; the footer goes below.
const BOTTOM: f64 = MARGIN + 14.0;
const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");
/// Kappa: control-point distance of a cubic Bezier quarter circle.
const KAPPA: f64 = 0.552_284_749_8;

struct Writer {
    pages: Vec<Content>,
    /// The current baseline position from the bottom of the page.
    y: f64,
}

impl Writer {
    fn new() -> Writer {
        Writer {
            pages: vec![Content::new()],
            y: PAGE_H - MARGIN,
        }
    }

    fn page(&mut self) -> &mut Content {
        self.pages.last_mut().expect("a page")
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = PAGE_H - MARGIN;
    }

    /// Starts a new page unless `h` points fit on this one.
    fn room(&mut self, h: f64) {
        if self.y - h < BOTTOM {
            self.new_page();
        }
    }

    fn text(&mut self, x: f64, y: f64, s: &str, size: f64, bold: bool, colour: Rgb) {
        let bytes = to_winansi(s);
        let [r, g, b] = colour.unit();
        let c = self.page();
        c.set_fill_rgb(r, g, b);
        c.begin_text();
        c.set_font(if bold { BOLD } else { REGULAR }, size as f32);
        c.next_line(x as f32, y as f32);
        c.show(Str(&bytes));
        c.end_text();
    }

    /// `s` wrapped to the content width, line by line.
    fn para(&mut self, s: &str, size: f64, bold: bool, colour: Rgb) {
        let lead = size * 1.4;
        for line in wrap(s, size, bold, CONTENT_W) {
            self.room(lead);
            self.y -= lead;
            let y = self.y;
            self.text(MARGIN, y, &line, size, bold, colour);
        }
    }

    fn rule(&mut self, x0: f64, x1: f64, y: f64, colour: Rgb, w: f64) {
        let [r, g, b] = colour.unit();
        let c = self.page();
        c.set_stroke_rgb(r, g, b);
        c.set_line_width(w as f32);
        c.move_to(x0 as f32, y as f32);
        c.line_to(x1 as f32, y as f32);
        c.stroke();
    }

    fn fill_rect(&mut self, x: f64, y: f64, w: f64, h: f64, colour: Rgb) {
        let [r, g, b] = colour.unit();
        let c = self.page();
        c.set_fill_rgb(r, g, b);
        c.rect(x as f32, y as f32, w as f32, h as f32);
        c.fill_nonzero();
    }

    fn block(&mut self, b: &Block) {
        match b {
            Block::Title { title, subtitle } => {
                self.para(title, 17.0, true, INK);
                self.para(subtitle, 9.5, false, GREY);
                self.y -= 6.0;
            }
            Block::Heading(t) => {
                self.y -= 10.0;
                self.para(t, 13.0, true, INK);
                self.rule(MARGIN, PAGE_W - MARGIN, self.y - 4.0, GRID, 0.8);
                self.y -= 6.0;
            }
            Block::Para(t) => {
                self.para(t, 9.5, false, INK);
                self.y -= 4.0;
            }
            Block::Note(t) => {
                self.para(t, 8.0, false, GREY);
                self.y -= 4.0;
            }
            Block::Figures(items) => self.key_figures(items),
            Block::Table(t) => self.table(t),
            Block::Figure(f) => self.figure(f),
        }
    }

    /// Key figures in a row of boxes: the value large, the label small beneath.
    fn key_figures(&mut self, items: &[(String, String)]) {
        let h = 40.0;
        self.room(h + 8.0);
        let w = CONTENT_W / items.len().max(1) as f64;
        let top = self.y - 4.0;
        for (i, (label, value)) in items.iter().enumerate() {
            let x = MARGIN + i as f64 * w;
            self.fill_rect(x + 2.0, top - h, w - 4.0, h, Rgb(245, 245, 245));
            let vsize = fit_size(value, 15.0, true, w - 12.0);
            self.text(x + 8.0, top - 19.0, value, vsize, true, INK);
            let lsize = fit_size(label, 8.0, false, w - 12.0);
            self.text(x + 8.0, top - 32.0, label, lsize, false, GREY);
        }
        self.y = top - h - 8.0;
    }

    fn table(&mut self, t: &Table) {
        let pad = 4.0;
        let mut size: f64 = 8.0;
        let natural = |size: f64| -> Vec<f64> {
            (0..t.columns.len())
                .map(|i| {
                    let head = width(&to_winansi(&t.columns[i].title), size, true);
                    t.rows
                        .iter()
                        .filter_map(|r| r.get(i))
                        .map(|c| width(&to_winansi(c), size, false))
                        .fold(head, f64::max)
                        + 2.0 * pad
                })
                .collect()
        };
        let mut widths = natural(size);
        let total: f64 = widths.iter().sum();
        if total > CONTENT_W {
            size = (size * CONTENT_W / total).max(5.0);
            widths = natural(size);
        }
        let row_h = size * 1.8;
        let header = |w: &mut Writer| {
            w.room(row_h * 2.0);
            w.fill_rect(
                MARGIN,
                w.y - row_h,
                widths.iter().sum(),
                row_h,
                Rgb(238, 238, 238),
            );
            w.cells(t, None, &widths, size, pad, row_h);
        };
        header(self);
        for row in &t.rows {
            if self.y - row_h < BOTTOM {
                self.new_page();
                header(self);
            }
            self.cells(t, Some(row.as_slice()), &widths, size, pad, row_h);
        }
        self.y -= 8.0;
    }

    /// One row of `t` (its header when `row` is `None`), and a rule beneath.
    fn cells(
        &mut self,
        t: &Table,
        row: Option<&[String]>,
        widths: &[f64],
        size: f64,
        pad: f64,
        row_h: f64,
    ) {
        let base = self.y - row_h + size * 0.55;
        let mut x = MARGIN;
        for (i, col) in t.columns.iter().enumerate() {
            let (cell, bold) = match row {
                None => (col.title.as_str(), true),
                Some(r) => (r.get(i).map_or("", String::as_str), false),
            };
            let w = width(&to_winansi(cell), size, bold);
            let cx = if col.numeric {
                x + widths[i] - pad - w
            } else {
                x + pad
            };
            self.text(cx, base, cell, size, bold, INK);
            x += widths[i];
        }
        self.y -= row_h;
        let y = self.y;
        self.rule(MARGIN, x, y, GRID, 0.5);
    }

    fn figure(&mut self, f: &Figure) {
        let scale = figure_scale(f);
        let h = f.height * scale;
        let legend_h = if f.legend.is_empty() { 0.0 } else { 14.0 };
        self.room(h + legend_h + 24.0);
        let top = self.y - 4.0;
        let x0 = MARGIN;
        let at = |x: f64, y: f64| ((x0 + x * scale) as f32, (top - y * scale) as f32);
        for m in &f.marks {
            match m {
                Mark::Rect { x, y, w, h, fill } => {
                    let (px, py) = at(*x, *y + *h);
                    self.fill_rect(f64::from(px), f64::from(py), w * scale, h * scale, *fill);
                }
                Mark::Path {
                    rings,
                    fill,
                    stroke,
                } => {
                    let c = self.page();
                    if let Some(fc) = fill {
                        let [r, g, b] = fc.unit();
                        c.set_fill_rgb(r, g, b);
                    }
                    if let Some((sc, sw)) = stroke {
                        let [r, g, b] = sc.unit();
                        c.set_stroke_rgb(r, g, b);
                        c.set_line_width((sw * scale) as f32);
                    }
                    for ring in rings {
                        for (i, (x, y)) in ring.iter().enumerate() {
                            let (px, py) = at(*x, *y);
                            if i == 0 {
                                c.move_to(px, py);
                            } else {
                                c.line_to(px, py);
                            }
                        }
                        if fill.is_some() {
                            c.close_path();
                        }
                    }
                    match (fill, stroke) {
                        (Some(_), Some(_)) => c.fill_even_odd_and_stroke(),
                        (Some(_), None) => c.fill_even_odd(),
                        (None, Some(_)) => c.stroke(),
                        (None, None) => c.end_path(),
                    };
                }
                Mark::Circle {
                    cx,
                    cy,
                    r,
                    fill,
                    stroke,
                } => {
                    let (px, py) = at(*cx, *cy);
                    let rr = (r * scale) as f32;
                    let k = (KAPPA * r * scale) as f32;
                    let c = self.page();
                    let [fr, fg, fb] = fill.unit();
                    c.set_fill_rgb(fr, fg, fb);
                    if let Some((sc, sw)) = stroke {
                        let [r, g, b] = sc.unit();
                        c.set_stroke_rgb(r, g, b);
                        c.set_line_width((sw * scale) as f32);
                    }
                    c.move_to(px + rr, py);
                    c.cubic_to(px + rr, py + k, px + k, py + rr, px, py + rr);
                    c.cubic_to(px - k, py + rr, px - rr, py + k, px - rr, py);
                    c.cubic_to(px - rr, py - k, px - k, py - rr, px, py - rr);
                    c.cubic_to(px + k, py - rr, px + rr, py - k, px + rr, py);
                    c.close_path();
                    if stroke.is_some() {
                        c.fill_nonzero_and_stroke();
                    } else {
                        c.fill_nonzero();
                    }
                }
                Mark::Text {
                    x,
                    y,
                    text,
                    size,
                    anchor,
                    fill,
                } => {
                    let size = size * scale;
                    let w = width(&to_winansi(text), size, false);
                    let (px, py) = at(*x, *y);
                    let px = f64::from(px)
                        - match anchor {
                            Anchor::Start => 0.0,
                            Anchor::Middle => w / 2.0,
                            Anchor::End => w,
                        };
                    self.text(px, f64::from(py), text, size, false, *fill);
                }
            }
        }
        self.y = top - h - 4.0;
        if !f.legend.is_empty() {
            let mut x = MARGIN;
            let y = self.y - 10.0;
            for (c, l) in &f.legend {
                let w = width(&to_winansi(l), 8.0, false);
                if x + 14.0 + w > PAGE_W - MARGIN {
                    break;
                }
                self.fill_rect(x, y - 1.0, 8.0, 8.0, *c);
                self.text(x + 11.0, y, l, 8.0, false, INK);
                x += 11.0 + w + 12.0;
            }
            self.y = y - 4.0;
        }
        self.para(&f.caption, 8.0, false, GREY);
        self.y -= 6.0;
    }
}

/// Points per figure unit: the content's width, at most 360 points high.
fn figure_scale(f: &Figure) -> f64 {
    (CONTENT_W / f.width).min(360.0 / f.height)
}

/// About how much of `b` must follow its heading on the same page: a whole figure, a table's
/// first rows, a paragraph's first lines.
fn start_height(b: &Block) -> f64 {
    match b {
        Block::Figure(f) => f.height * figure_scale(f) + 40.0,
        Block::Table(_) => 60.0,
        _ => 40.0,
    }
}

/// The largest size up to `size` at which `s` fits in `w` points.
fn fit_size(s: &str, size: f64, bold: bool, w: f64) -> f64 {
    let full = width(&to_winansi(s), size, bold);
    if full <= w {
        size
    } else {
        (size * w / full).max(5.0)
    }
}

/// `s` broken into lines no wider than `w` points (a word longer than a line stands alone).
fn wrap(s: &str, size: f64, bold: bool, w: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && width(&to_winansi(&candidate), size, bold) > w {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The PDF of `blocks`; `title` goes into the document information, `footer` at the foot of
/// every page with its number.
pub fn render(blocks: &[Block], title: &str, footer: &str) -> Vec<u8> {
    let mut w = Writer::new();
    for (i, b) in blocks.iter().enumerate() {
        if let Block::Heading(_) = b {
            // A heading starts a page rather than stand alone at the foot of one.
            w.room(40.0 + blocks.get(i + 1).map_or(0.0, start_height));
        }
        w.block(b);
    }
    let n = w.pages.len();
    for (i, page) in w.pages.iter_mut().enumerate() {
        let text = format!("{footer} · page {} of {n}", i + 1);
        let bytes = to_winansi(&text);
        let [r, g, b] = GREY.unit();
        page.set_fill_rgb(r, g, b);
        page.begin_text();
        page.set_font(REGULAR, 7.5);
        page.next_line(MARGIN as f32, (MARGIN - 6.0) as f32);
        page.show(Str(&bytes));
        page.end_text();
    }

    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first = 6;
    let page_ref = |i: usize| Ref::new((first + 2 * i) as i32);
    let content_ref = |i: usize| Ref::new((first + 2 * i + 1) as i32);

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids((0..n).map(page_ref)).count(n as i32);
    for (id, base) in [
        (regular, Name(b"Helvetica")),
        (bold, Name(b"Helvetica-Bold")),
    ] {
        pdf.type1_font(id)
            .base_font(base)
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr("posbon"));
    for (i, content) in w.pages.into_iter().enumerate() {
        let mut page = pdf.page(page_ref(i));
        page.media_box(Rect::new(0.0, 0.0, PAGE_W as f32, PAGE_H as f32))
            .parent(tree)
            .contents(content_ref(i));
        page.resources()
            .fonts()
            .pair(REGULAR, regular)
            .pair(BOLD, bold);
        page.finish();
        pdf.stream(content_ref(i), &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_and_the_width() {
        let s = "one two three four five six seven eight nine ten eleven twelve thirteen";
        let lines = wrap(s, 10.0, false, 80.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" "), s);
        for l in &lines {
            assert!(width(&to_winansi(l), 10.0, false) <= 80.0 || !l.contains(' '));
        }
    }

    #[test]
    fn a_minimal_document_is_a_pdf() {
        let bytes = render(&[Block::Para("hello".into())], "t", "f");
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.ends_with(b"%%EOF") || bytes.ends_with(b"%%EOF\n"));
    }
}
