//! `posbon retention run`: deletes events older than N days that no incident names, and their
//! evidence files, logging what was deleted in the audit chain (see `server::retention`).
use anyhow::Result;
use domain::Actor;

use crate::cmd_serve::{DEFAULT_DATABASE, open, runtime};

#[derive(clap::Subcommand, Debug)]
pub enum RetentionCmd {
    /// Delete now what has passed the retention period.
    Run {
        /// Keep events this many days (at least 1).
        #[arg(long, value_name = "N")]
        days: u32,
        #[arg(long, value_name = "URL", default_value = DEFAULT_DATABASE)]
        database: String,
        /// The server's data folder (evidence/camera-ID/ per camera).
        #[arg(long, value_name = "DIR", default_value = "posbon-data")]
        data_dir: std::path::PathBuf,
    },
}

pub fn run(cmd: &RetentionCmd) -> Result<()> {
    let RetentionCmd::Run {
        days,
        database,
        data_dir,
    } = cmd;
    runtime()?.block_on(async {
        let store = open(database).await?;
        let report =
            server::retention::run(&store, data_dir, *days, &Actor::System("cli".into())).await;
        store.close().await;
        let report = report?;
        for line in report.refused.iter().chain(&report.failed) {
            eprintln!("warning: {line}");
        }
        for line in &report.missing {
            eprintln!("already missing: {line}");
        }
        println!("retention ({days} days): {}", report.summary());
        Ok(())
    })
}
