//! `posbon evidence`: keys for sealed originals, and opening one.
use anyhow::{Context, Result, bail};
use pipeline::sealed::SealKey;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum EvidenceCmd {
    /// Make a new key for sealing unredacted originals (name it in a camera config as
    /// `[evidence] original_key = "PATH"`). The file is created readable by its owner only and
    /// never overwritten.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Decrypt a sealed original (`evidence/originals/*.sealed`) to a JPEG. Opening originals is
    /// for an approved access request on a named case; keep the key where only that procedure
    /// can reach it.
    Open {
        /// The key file the camera's config names.
        #[arg(long)]
        key: PathBuf,
        /// The sealed file, under its original name (the name is part of the seal).
        #[arg(long = "in")]
        input: PathBuf,
        /// Where to write the JPEG (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
}

#[allow(clippy::print_stdout)]
pub fn run(cmd: &EvidenceCmd) -> Result<()> {
    match cmd {
        EvidenceCmd::Keygen { out } => {
            let k = SealKey::generate()?;
            k.save(out)?;
            println!("wrote key {} to {}", k.id_hex(), out.display());
        }
        EvidenceCmd::Open { key, input, out } => {
            let k = SealKey::load(key)?;
            let jpeg = k.open_file(input)?;
            if out.exists() {
                bail!(
                    "{} exists; choose a new file for the opened original",
                    out.display()
                );
            }
            std::fs::write(out, &jpeg).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "opened {} ({} bytes) to {}",
                input.display(),
                jpeg.len(),
                out.display()
            );
        }
    }
    Ok(())
}
