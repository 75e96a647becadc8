//! `posbon audit`: checks on the hash-chained audit log (see docs/design/004-store.md).

use anyhow::{Context, Result};
use domain::{ChainHead, ChainSummary};
use store::{Options, Store};

#[derive(clap::Subcommand, Debug)]
pub enum AuditCmd {
    /// Walk the audit log's hash chain from its first row. Prints OK with the number of entries
    /// and the chain's head (SEQ:HASH, worth keeping outside the database), or fails naming the
    /// first row that was altered, deleted, inserted or moved.
    Verify(VerifyArgs),
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The database: sqlite:PATH or postgres://USER@HOST:PORT/DATABASE. It is only read: nothing
    /// is created or migrated.
    #[arg(long, value_name = "URL")]
    database: String,
    /// A head printed by an earlier run: also fail if the chain no longer reaches that row or
    /// differs there (rows removed from the end, or the chain rewritten).
    #[arg(long, value_name = "SEQ:HASH")]
    expect_head: Option<ChainHead>,
}

pub fn run(cmd: &AuditCmd) -> Result<()> {
    match cmd {
        AuditCmd::Verify(a) => {
            let summary = verify(&a.database, a.expect_head)?;
            match summary.head {
                Some(head) => println!(
                    "OK: {} audit entries, chain intact; head {head}",
                    summary.count
                ),
                None => println!("OK: 0 audit entries (the log is empty)"),
            }
            Ok(())
        }
    }
}

/// The chain's summary, or an error that names the first broken row.
fn verify(database: &str, expect_head: Option<ChainHead>) -> Result<ChainSummary> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let store = Store::connect_with(database, Options::existing()).await?;
        let result = store.audit_verify(expect_head).await;
        store.close().await;
        Ok(result?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_a_chain_and_refuses_a_missing_database() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("posbon.db").display());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let head = rt.block_on(async {
            let s = Store::connect(&url).await.unwrap();
            for i in 0..3 {
                s.audit_append(
                    "user:1",
                    "evidence.view",
                    &format!("event:{i}"),
                    &serde_json::json!({}),
                )
                .await
                .unwrap();
            }
            let head = s.audit_head().await.unwrap();
            s.close().await;
            head
        });
        let summary = verify(&url, None).unwrap();
        assert_eq!(summary.count, 3);
        assert_eq!(summary.head, head);
        let mut ahead = summary.head.unwrap();
        ahead.seq = 9;
        let e = verify(&url, Some(ahead)).unwrap_err().to_string();
        assert!(e.contains("broken at seq 9"), "{e}");

        let missing = format!("sqlite:{}", dir.path().join("typo.db").display());
        assert!(verify(&missing, None).is_err());
        assert!(!dir.path().join("typo.db").exists());
    }
}
