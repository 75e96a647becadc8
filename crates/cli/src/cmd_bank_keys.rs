//! `posbon bank-keys`: API keys of the banks that call the payee check, for first setup on the
//! server's machine (afterwards the console's Bank API keys page does the same). Each issue and
//! revocation is audited as `system:cli`. See docs/design/021-payee-check.md.
use std::path::PathBuf;

use anyhow::{Context, Result};
use domain::Actor;

use crate::cmd_serve::{DEFAULT_DATABASE, open, runtime};

#[derive(clap::Subcommand, Debug)]
pub enum BankKeysCmd {
    /// Issue a key for a bank. The key is printed once (or written to --key-file) and stored
    /// only as its SHA-256.
    Create(CreateArgs),
    /// List every key (never the keys themselves): id, bank, prefix, rate, state.
    List(DbArgs),
    /// Revoke a key. A running server stops accepting it within 30 seconds (at once when
    /// revoked through that server's API or console).
    Revoke(RevokeArgs),
}

#[derive(clap::Args, Debug)]
pub struct DbArgs {
    /// sqlite:PATH or postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, value_name = "URL", default_value = DEFAULT_DATABASE)]
    database: String,
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The bank's name, as the list and the audit log show it.
    #[arg(long)]
    bank: String,
    /// Checks a second the key may make (one second's worth may come at once).
    #[arg(long, value_name = "N", default_value_t = server::bank_keys::DEFAULT_RATE)]
    rate: u32,
    /// Write the key to FILE (created, mode 0600) instead of printing it.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct RevokeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The key's id (from `posbon bank-keys list`).
    #[arg(long)]
    id: i64,
}

fn cli_actor() -> Result<Actor> {
    Ok(Actor::system("cli")?)
}

/// Creates FILE (mode 0600; it must not exist yet), before the key is issued, so that a key is
/// never issued into a file that cannot be written.
fn create_private(path: &PathBuf) -> Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path).with_context(|| {
        format!(
            "cannot create the key file {} (it must not exist yet)",
            path.display()
        )
    })
}

pub fn run(cmd: &BankKeysCmd) -> Result<()> {
    runtime()?.block_on(async {
        match cmd {
            BankKeysCmd::Create(a) => {
                let mut file = match &a.key_file {
                    Some(p) => Some((p, create_private(p)?)),
                    None => None,
                };
                let store = open(&a.db.database).await?;
                let issued = server::bank_keys::issue(&store, &a.bank, a.rate, &cli_actor()?).await;
                store.close().await;
                let (k, fresh) = match issued {
                    Ok(x) => x,
                    Err(e) => {
                        if let Some((p, _)) = &file {
                            let _ = std::fs::remove_file(p);
                        }
                        anyhow::bail!("{}; {}", e.error, e.fix);
                    }
                };
                match &mut file {
                    Some((p, f)) => {
                        use std::io::Write;
                        f.write_all(fresh.key.as_bytes())
                            .and_then(|()| f.sync_all())
                            .with_context(|| {
                                format!("cannot write the key file {}", p.display())
                            })?;
                        println!(
                            "issued bank key {} for {} ({} checks a second); the key is in {}",
                            k.id,
                            k.bank,
                            k.rate_per_second,
                            p.display()
                        );
                    }
                    None => println!(
                        "issued bank key {} for {} ({} checks a second)\nkey (shown once): {}",
                        k.id, k.bank, k.rate_per_second, fresh.key
                    ),
                }
            }
            BankKeysCmd::List(a) => {
                let store = open(&a.database).await?;
                let keys = store.list_bank_keys().await?;
                store.close().await;
                println!(
                    "{:>4}  {:<14} {:>8}  {:<8} bank",
                    "id", "prefix", "rate/s", "state"
                );
                for k in keys {
                    println!(
                        "{:>4}  {:<14} {:>8}  {:<8} {}",
                        k.id,
                        format!("{}…", k.prefix),
                        k.rate_per_second,
                        if k.revoked() { "revoked" } else { "active" },
                        k.bank
                    );
                }
            }
            BankKeysCmd::Revoke(a) => {
                let store = open(&a.db.database).await?;
                let k = store.revoke_bank_key(a.id, &cli_actor()?).await?;
                store.close().await;
                println!("revoked bank key {} ({}, {}…)", k.id, k.bank, k.prefix);
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_list_revoke_and_the_key_only_in_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("posbon.db").display());
        let key_file = dir.path().join("bank.key");
        let db = DbArgs {
            database: url.clone(),
        };
        run(&BankKeysCmd::Create(CreateArgs {
            db: DbArgs {
                database: url.clone(),
            },
            bank: "Test Bank".into(),
            rate: 50,
            key_file: Some(key_file.clone()),
        }))
        .unwrap();
        let key = std::fs::read_to_string(&key_file).unwrap();
        assert!(server::bank_keys::looks_like_key(&key), "{key}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the key file is private");
        }
        // a second create refuses to overwrite the file
        assert!(
            run(&BankKeysCmd::Create(CreateArgs {
                db: DbArgs {
                    database: url.clone()
                },
                bank: "Other".into(),
                rate: 5,
                key_file: Some(key_file.clone()),
            }))
            .is_err()
        );
        run(&BankKeysCmd::List(db)).unwrap();
        run(&BankKeysCmd::Revoke(RevokeArgs {
            db: DbArgs {
                database: url.clone(),
            },
            id: 1,
        }))
        .unwrap();
        let again = run(&BankKeysCmd::Revoke(RevokeArgs {
            db: DbArgs {
                database: url.clone(),
            },
            id: 1,
        }))
        .unwrap_err()
        .to_string();
        assert!(again.contains("already revoked"), "{again}");
        let rt = runtime().unwrap();
        rt.block_on(async {
            let s = store::Store::connect(&url).await.unwrap();
            let keys = s.list_bank_keys().await.unwrap();
            assert_eq!(keys.len(), 1, "a refused key file issues no key");
            assert!(keys[0].revoked() && keys[0].revoked_by.as_deref() == Some("system:cli"));
            assert_eq!(
                keys[0].key_hash,
                hex::encode(server::bank_keys::key_hash(&key))
            );
            s.audit_verify(None).await.unwrap();
            s.close().await;
        });
        let bytes = std::fs::read(dir.path().join("posbon.db")).unwrap();
        let wal = std::fs::read(dir.path().join("posbon.db-wal")).unwrap_or_default();
        for b in [bytes, wal] {
            assert!(
                !b.windows(key.len()).any(|w| w == key.as_bytes()),
                "the key is stored in clear"
            );
        }
    }
}
