//! `posbon cyber extract`: indicators of fraud in a text, one JSON object a line.
//!
//! Reads the whole of standard input (UTF-8, at most `--max-bytes`), extracts phone numbers,
//! payment cards, IBANs, links, domains, Telegram handles and crypto wallets (see the `cyber`
//! crate and docs/design/007-cyber-indicators.md), and prints each as
//! `{"kind", "value", "start", "end", ...}` where `start..end` is the byte range in the input.
//! Cards are printed as `BIN…last4` with `hash` = HMAC-SHA256(card key, card number): the full
//! number is never printed. Candidates that failed a check (a mistyped card, a bad checksum)
//! are noted on standard error.
//!
//! The card key comes from `--card-key-file` (hex text, or at least 16 raw bytes), else from
//! the environment variable `POSBON_CARD_KEY` (hex, at least 32 hex digits). Without either, a
//! random key is made for this run only, and a note on standard error says so: hashes made
//! under it match nothing outside the run.
use anyhow::{Context, bail};
use cyber::{CardKey, Detail, Extractor, Indicator};
use serde::Serialize;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The environment variable that holds the card key (hex).
pub const CARD_KEY_ENV: &str = "POSBON_CARD_KEY";

#[derive(clap::Subcommand, Debug)]
pub enum CyberCmd {
    /// Read text on standard input; print each fraud indicator found as one JSON object a
    /// line: kind, normalised value, start and end byte offsets in the input.
    Extract(ExtractArgs),
}

#[derive(clap::Args, Debug)]
pub struct ExtractArgs {
    /// File with the card hashing key: hex text, or raw bytes (at least 16). Overrides the
    /// POSBON_CARD_KEY environment variable (hex).
    #[arg(long, value_name = "PATH")]
    pub card_key_file: Option<PathBuf>,
    /// Refuse inputs longer than this many bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024, value_name = "BYTES")]
    pub max_bytes: usize,
}

#[derive(Serialize)]
struct Line<'a> {
    kind: &'static str,
    value: &'a str,
    start: usize,
    end: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    registrable_domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chain: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suspicious: Vec<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    defanged: bool,
}

fn line(i: &Indicator) -> Line<'_> {
    let mut l = Line {
        kind: i.kind.as_str(),
        value: &i.value,
        start: i.span.start,
        end: i.span.end,
        hash: None,
        network: None,
        country_code: None,
        country: None,
        registrable_domain: None,
        chain: None,
        suspicious: i.suspicious.iter().map(|s| s.as_str()).collect(),
        defanged: i.defanged,
    };
    match &i.detail {
        Detail::Card(t) => {
            l.hash = Some(t.keyed_hash_hex());
            l.network = Some(t.network().as_str());
        }
        Detail::Phone { country_code, .. } => l.country_code = Some(*country_code),
        Detail::Iban { country } => l.country = Some(country),
        Detail::Link {
            registrable_domain, ..
        }
        | Detail::Domain { registrable_domain } => {
            l.registrable_domain = registrable_domain.as_deref();
        }
        Detail::Wallet { chain } => l.chain = Some(chain.as_str()),
        Detail::Handle { .. } => {}
    }
    l
}

fn key_from_file(path: &Path) -> anyhow::Result<CardKey> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read --card-key-file {}", path.display()))?;
    let as_hex = std::str::from_utf8(&bytes)
        .ok()
        .map(str::trim)
        .filter(|s| s.len() >= 32 && s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    let key = match as_hex {
        Some(h) => CardKey::from_hex(h),
        None => CardKey::from_bytes(&bytes),
    };
    key.with_context(|| format!("--card-key-file {}", path.display()))
}

fn card_key(args: &ExtractArgs) -> anyhow::Result<CardKey> {
    if let Some(path) = &args.card_key_file {
        return key_from_file(path);
    }
    match std::env::var(CARD_KEY_ENV) {
        Ok(v) => CardKey::from_hex(&v)
            .with_context(|| format!("{CARD_KEY_ENV} must be hexadecimal, at least 32 digits")),
        Err(std::env::VarError::NotUnicode(_)) => {
            bail!("{CARD_KEY_ENV} must be hexadecimal, at least 32 digits")
        }
        Err(std::env::VarError::NotPresent) => {
            eprintln!(
                "note: no card key given ({CARD_KEY_ENV} or --card-key-file): card hashes use a \
                 random key made for this run and match no hash made elsewhere"
            );
            Ok(CardKey::random()?)
        }
    }
}

fn read_input(max: usize) -> anyhow::Result<String> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(max as u64 + 1)
        .read_to_end(&mut buf)
        .context("cannot read standard input")?;
    if buf.len() > max {
        bail!("input is longer than --max-bytes {max}");
    }
    String::from_utf8(buf).map_err(|e| {
        anyhow::anyhow!(
            "input is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

pub fn run(cmd: &CyberCmd) -> anyhow::Result<()> {
    match cmd {
        CyberCmd::Extract(args) => extract(args),
    }
}

fn extract(args: &ExtractArgs) -> anyhow::Result<()> {
    let key = card_key(args)?;
    let text = read_input(args.max_bytes)?;
    let extractor = Extractor::new(key);
    let found = extractor.extract(&text);
    for r in &found.rejected {
        eprintln!(
            "note: bytes {}..{} look like a {} but are not taken: {}",
            r.span.start, r.span.end, r.kind, r.reason
        );
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for i in &found.indicators {
        serde_json::to_writer(&mut out, &line(i))?;
        out.write_all(b"\n")?;
    }
    out.flush().context("cannot write to standard output")?;
    Ok(())
}
