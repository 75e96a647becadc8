//! Place-based safety analytics for mahallas: pure functions over counts and geometries.
//!
//! * [`geojson`]: polygons (Polygon and MultiPolygon) and numeric fields read from GeoJSON text,
//!   with errors that name the feature and say what to fix.
//! * [`weights`]: contiguity weights (queen and rook) built from polygon geometry in about
//!   O(vertices), robust to float noise; binary, symmetric, stored as a CSR neighbour list.
//! * [`gistar`]: Getis-Ord Gi* (the cell itself included, binary weights) with the analytical
//!   z-score and p-value exactly as PySAL `esda.G_Local(y, w, transform='B', star=True)` computes
//!   them, conditional-permutation inference, a Benjamini-Hochberg false-discovery-rate
//!   correction, and hot/cold classes at 90/95/99%.
//! * [`grid`]: square cells from incident points (counts per cell and queen contiguity among
//!   cells, for Gi* on a grid) and quartic kernel density on the same kind of grid, with lon/lat
//!   projected to a local equirectangular plane in metres.
//!
//!
//! The safety analytics of issue 4 (docs/design/013-safety-analytics.md), over [`data`]'s
//! inputs (mahallas with district, region and population where known; incidents as time,
//! mahalla, category, source and point), every output serialisable for the API:
//! * [`crimefree`]: crime-free mahallas with how surprising each zero is (Poisson, against the
//!   district's rate without the mahalla), and the red list (exact excess test, ranked on an
//!   empirical-Bayes rate).
//! * [`trends`]: a period against the previous one and a year before, per source and category,
//!   exact conditional binomial tests; public reports and patrol finds never summed.
//! * [`forecast`]: PAI, PEI* and the last-period baseline on a held-out period.
//! * [`patrol`]: Koper-curve patrol plans and patrol time against harm.
//! * [`roadmap`]: prevention measures rolled up from mahalla to region, overdue flagged.
//! * [`simulate`]: a simulated country for the national benchmark.
//! * [`special`]: the exact tests (Poisson tails, binomial test, Clopper-Pearson).
//!
//! Nothing here reads files, opens sockets or reads the clock; callers hand data in. Place-based
//! only: the inputs are places and counts, never people.

pub mod crimefree;
pub mod data;
pub mod forecast;
pub mod geojson;
pub mod geometry;
pub mod gistar;
pub mod grid;
pub mod normal;
pub mod patrol;
pub mod rng;
pub mod roadmap;
pub mod simulate;
pub mod special;
pub mod trends;
pub mod weights;

pub use geojson::{Feature, numeric_field, parse_feature_collection};
pub use geometry::{MultiPolygon, Polygon};
pub use gistar::{
    GiStar, GiStarConfig, HotSpotClass, benjamini_hochberg, gi_star, gi_star_analytical,
    permutation_p_values,
};
pub use grid::{GridSpec, LocalProjection, count_points, kernel_density};
pub use weights::{Contiguity, Weights, contiguity, default_tolerance};

/// Everything that can go wrong in this crate. Each message says what was wrong and, where the
/// caller can do something about it, how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not JSON at all (truncated file, stray comma...).
    #[error(
        "not valid JSON at line {line}, column {column}: {message}; check that the file is complete \
         GeoJSON (for example with `python3 -m json.tool FILE`)"
    )]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// JSON, but not the GeoJSON this crate reads.
    #[error("{}{message}", feature_prefix(*.feature))]
    GeoJson {
        feature: Option<usize>,
        message: String,
    },
    /// A feature lacks the requested property.
    #[error(
        "feature {feature} has no property {field:?}; properties it has: {available}. \
         Pass one of these with --field, or add {field:?} to every feature"
    )]
    MissingField {
        field: String,
        feature: usize,
        available: String,
    },
    /// A feature's property is not a finite number.
    #[error(
        "feature {feature}: property {field:?} is {found}, not a number; every feature needs a \
         number there (use 0 for none, and write numbers without quotes)"
    )]
    NotNumeric {
        field: String,
        feature: usize,
        found: String,
    },
    /// The input values cannot be analysed as given.
    #[error("{0}")]
    InvalidInput(String),
}

fn feature_prefix(feature: Option<usize>) -> String {
    match feature {
        Some(i) => format!("feature {i}: "),
        None => String::new(),
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        let message = e.to_string();
        // serde_json appends " at line L column C"; the variant says it once.
        let message = match message.rfind(" at line ") {
            Some(pos) => message[..pos].to_string(),
            None => message,
        };
        Error::Json {
            line: e.line(),
            column: e.column(),
            message,
        }
    }
}
