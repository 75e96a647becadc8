//! `posbon report --area district:ID --period 2026-Q3 --format pdf --out FILE`: a period report
//! made exactly as `GET /api/period-reports` makes it (the same bytes for the same data), with
//! the national scope, audited as `system:cli` with its SHA-256. See
//! docs/design/019-period-reports.md.
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use domain::{Actor, Scope};

use crate::cmd_serve::{DEFAULT_DATABASE, open, runtime};

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// sqlite:PATH or postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, value_name = "URL", default_value = DEFAULT_DATABASE)]
    database: String,
    /// mahalla:ID, district:ID or region:ID.
    #[arg(long, value_name = "LEVEL:ID")]
    area: String,
    /// A month (2026-10), quarter (2026-Q3) or half year (2026-H1) that has ended.
    #[arg(long, value_name = "PERIOD")]
    period: String,
    /// html, pdf or csv.
    #[arg(long, value_name = "FORMAT", default_value = "pdf")]
    format: String,
    /// Where to write the report (replaced whole, never left half-written).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(a: &ReportArgs) -> Result<()> {
    runtime()?.block_on(async {
        let store = open(&a.database).await?;
        let result = write(&store, a).await;
        store.close().await;
        let (bytes, sha256) = result?;
        println!(
            "{}: period report {} {} ({}, {bytes} bytes, sha256 {sha256}); audited",
            a.out.display(),
            a.area,
            a.period,
            a.format
        );
        Ok(())
    })
}

/// Makes the report, writes it beside `out`, audits it, then moves it into place: a report on
/// disk has always been audited.
async fn write(store: &store::Store, a: &ReportArgs) -> Result<(usize, String)> {
    let r = match server::period_reports::produce(
        store,
        &Scope::National,
        &a.area,
        &a.period,
        &a.format,
        store.now(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => bail!("{}; {}", e.error, e.fix),
    };
    let name = a
        .out
        .file_name()
        .with_context(|| format!("--out {} names no file", a.out.display()))?;
    let tmp = a
        .out
        .with_file_name(format!(".{}.partial", name.to_string_lossy()));
    std::fs::write(&tmp, &r.bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    let actor = Actor::System("cli".into()).to_string();
    if let Err(e) = server::period_reports::audit(store, &actor, &r).await {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).context("cannot write the audit entry; no report was written");
    }
    std::fs::rename(&tmp, &a.out)
        .with_context(|| format!("cannot move the report to {}", a.out.display()))?;
    Ok((r.bytes.len(), r.sha256))
}
