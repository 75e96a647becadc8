//! `posbon hotspots`: Getis-Ord Gi* hot and cold spots on any polygon file.
//!
//! Reads a GeoJSON FeatureCollection of Polygon/MultiPolygon places and one numeric property,
//! builds contiguity weights from the geometry, runs Gi* (the place itself included, binary
//! weights; z and p as PySAL esda computes them) with conditional-permutation inference and a
//! Benjamini-Hochberg false-discovery-rate correction, and writes one CSV row per polygon. See
//! docs/design/005-hotspots.md.
use analytics::{Contiguity, GiStarConfig};
use anyhow::Context;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct HotspotsArgs {
    /// Polygons (GeoJSON FeatureCollection of Polygon or MultiPolygon features).
    #[arg(long, value_name = "IN.geojson")]
    pub geojson: PathBuf,
    /// The numeric property to analyse (a count or rate per place, >= 0).
    #[arg(long, value_name = "NAME")]
    pub field: String,
    /// Where to write the CSV (replaced if it exists): id, value, gi_z, p_value (analytical,
    /// one-sided as esda's p_norm), p_sim (permutation, one-sided as esda's), p_fdr (two-sided,
    /// Benjamini-Hochberg adjusted; the class is decided on it), class.
    #[arg(long, value_name = "OUT.csv")]
    pub out: PathBuf,
    /// Conditional permutations per place; 0 classifies on the analytical p-value instead.
    #[arg(long, default_value_t = 999)]
    pub permutations: usize,
    /// Seed of the permutations (same seed and data, same result).
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
    /// Which contact makes two polygons neighbours: a shared point (queen) or a shared stretch of
    /// border (rook).
    #[arg(long, value_enum, default_value_t = WeightsArg::Queen)]
    pub weights: WeightsArg,
    /// Vertices closer than this (in the file's coordinate units) are the same point
    /// [default: 1e-8 of the largest coordinate; 0 matches exactly].
    #[arg(long, value_name = "TOL")]
    pub snap: Option<f64>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightsArg {
    /// neighbours share at least one boundary point
    Queen,
    /// neighbours share a stretch of border
    Rook,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn run(args: &HotspotsArgs) -> anyhow::Result<()> {
    let path = &args.geojson;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --geojson {}", path.display()))?;
    let features = analytics::parse_feature_collection(&text).with_context(|| {
        format!(
            "{} is not a polygon GeoJSON file posbon can read",
            path.display()
        )
    })?;
    let values = analytics::numeric_field(&features, &args.field)
        .with_context(|| format!("reading --field {:?} from {}", args.field, path.display()))?;
    let geoms: Vec<_> = features.iter().map(|f| f.geometry.clone()).collect();
    let tol = match args.snap {
        Some(t) => t,
        None => analytics::default_tolerance(&geoms),
    };
    let kind = match args.weights {
        WeightsArg::Queen => Contiguity::Queen,
        WeightsArg::Rook => Contiguity::Rook,
    };
    let w = analytics::contiguity(&geoms, kind, tol).context("building contiguity weights")?;
    let cfg = GiStarConfig {
        permutations: args.permutations,
        seed: args.seed,
        fdr: true,
    };
    let g = analytics::gi_star(&values, &w, &cfg)
        .with_context(|| format!("Gi* on {:?} of {}", args.field, path.display()))?;

    let mut csv = String::from("id,value,gi_z,p_value,p_sim,p_fdr,class\n");
    for (i, f) in features.iter().enumerate() {
        let p_sim = g
            .p_sim
            .as_ref()
            .map(|p| p[i].to_string())
            .unwrap_or_default();
        writeln!(
            csv,
            "{},{},{},{},{},{},{}",
            csv_field(&f.id_or_index(i)),
            values[i],
            g.z[i],
            g.p_norm[i],
            p_sim,
            g.p_fdr[i],
            g.class[i].as_str()
        )?;
    }
    write_atomically(&args.out, csv.as_bytes()).with_context(|| {
        format!(
            "writing --out {} (does its folder exist?)",
            args.out.display()
        )
    })?;

    let n = features.len();
    if !g.islands.is_empty() {
        let ids: Vec<String> = g
            .islands
            .iter()
            .take(10)
            .map(|&i| features[i].id_or_index(i))
            .collect();
        tracing::warn!(
            "{} of {n} polygons have no neighbour ({}{}); they are never hot or cold. If they \
             should touch others, check the boundaries or raise --snap",
            g.islands.len(),
            ids.join(", "),
            if g.islands.len() > 10 { ", ..." } else { "" }
        );
    }
    if args.permutations > 0 {
        let floor = 2.0 / (args.permutations as f64 + 1.0);
        let needed = (floor * n as f64 / 0.05).ceil() as usize;
        if needed > 1 {
            tracing::info!(
                "with {} permutations the smallest two-sided p is {floor:.4}; after the FDR correction \
                 over {n} places, a place reaches 95% only if at least {needed} places are that extreme \
                 (more --permutations lowers this)",
                args.permutations
            );
        }
    }
    let count =
        |pred: fn(analytics::HotSpotClass) -> bool| g.class.iter().filter(|&&c| pred(c)).count();
    tracing::info!(
        "{n} polygons, {} {} links: {} hot, {} cold (FDR-adjusted, 90% or more); wrote {}",
        w.nnz() / 2,
        match kind {
            Contiguity::Queen => "queen",
            Contiguity::Rook => "rook",
        },
        count(|c| c.is_hot()),
        count(|c| c.is_cold()),
        args.out.display()
    );
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
