//! Period reports: for a mahalla, district or region and a month, quarter or half year, one
//! report in three formats from one [`PeriodReportData`]:
//!
//! * [`Format::Html`]: a self-contained, printable page (inline CSS, inline SVG charts and map;
//!   no script, nothing fetched);
//! * [`Format::Pdf`]: the same sections as a PDF with vector charts and map (see [`text`] for
//!   the base-14 font and its fallback for characters outside WinAnsi);
//! * [`Format::Csv`]: every number as a tidy row (see [`csv`]).
//!
//! Pure and deterministic: no I/O, no clock, no randomness, nothing ordered by a hash map. The
//! same data give the same bytes, so the SHA-256 the server writes to the audit log identifies
//! the report. The numbers are computed by the caller (the server, from the store and the
//! `analytics` crate); see docs/design/019-period-reports.md.
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod csv;
pub mod data;
mod document;
mod figure;
mod html;
mod metrics;
mod pdf;
pub mod text;

pub use data::*;

/// The three formats of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Html,
    Pdf,
    Csv,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Html, Format::Pdf, Format::Csv];

    /// `html`, `pdf`, `csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Csv => "csv",
        }
    }

    /// The word as [`Format::as_str`] writes it.
    pub fn parse(word: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == word)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Pdf => "application/pdf",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// A file name for the report: `period-report-district-1726262-2026-Q3.pdf`.
pub fn file_name(d: &PeriodReportData, format: Format) -> String {
    let safe: String = d
        .period
        .label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        "period-report-{}-{}-{safe}.{}",
        d.area.level.as_str(),
        d.area.id,
        format.as_str()
    )
}

fn title(d: &PeriodReportData) -> String {
    format!("{}: period report {}", d.area.name, d.period.label)
}

/// The report in `format`.
pub fn render(d: &PeriodReportData, format: Format) -> Vec<u8> {
    match format {
        Format::Html => html::render(&document::build(d), &title(d)).into_bytes(),
        Format::Pdf => pdf::render(
            &document::build(d),
            &title(d),
            &format!(
                "posbon period report · {} · {}",
                d.area.key(),
                d.period.label
            ),
        ),
        Format::Csv => csv::render(d).into_bytes(),
    }
}
