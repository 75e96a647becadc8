//! `posbon loadtest`: load on a running server from this process (see crates/loadgen).
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

#[derive(clap::Args, Debug)]
pub struct LoadtestArgs {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Concurrent clients (each one keep-alive connection).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// A file of accounts to log in as, one `USERNAME PASSWORD` a line (kept off the command
    /// line so passwords do not show in the process list). Their scope must cover --mahalla.
    #[arg(long, value_name = "FILE")]
    accounts: PathBuf,
    /// Mahalla ids to record incidents in (repeat the flag for more).
    #[arg(long = "mahalla", value_name = "ID", required = true)]
    mahallas: Vec<i64>,
    /// Only record incidents instead of the mix of reads, writes and bad requests.
    #[arg(long)]
    writes_only: bool,
    /// Write the id of every incident the server acknowledged to FILE, one a line, as it arrives.
    #[arg(long, value_name = "FILE")]
    ack_log: Option<PathBuf>,
    /// Exit 0 even when requests failed at the transport level (the server was killed on purpose).
    #[arg(long)]
    allow_transport_errors: bool,
}

fn read_accounts(path: &PathBuf) -> Result<Vec<loadgen::Account>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the accounts file {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((u, p)) = line.split_once(char::is_whitespace) else {
            bail!(
                "{} line {}: expected `USERNAME PASSWORD`",
                path.display(),
                i + 1
            );
        };
        out.push(loadgen::Account {
            username: u.to_owned(),
            password: p.trim().to_owned(),
        });
    }
    if out.is_empty() {
        bail!("{} names no account", path.display());
    }
    Ok(out)
}

pub fn run(a: &LoadtestArgs) -> Result<()> {
    if !(a.seconds > 0.0 && a.seconds <= 3600.0) {
        bail!("--seconds must be in (0, 3600]");
    }
    let cfg = loadgen::Config {
        addr: a.addr,
        clients: a.clients,
        duration: Duration::from_secs_f64(a.seconds),
        accounts: read_accounts(&a.accounts)?,
        mahallas: a.mahallas.clone(),
        writes_only: a.writes_only,
        ack_log: a.ack_log.clone(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let s = rt.block_on(loadgen::run(cfg))?;
    println!("{}", serde_json::to_string(&s)?);
    eprintln!(
        "{} requests in {:.1} s from {} clients: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms; 5xx {}, unexpected {}, transport errors {}, incidents acknowledged {}",
        s.requests,
        s.seconds,
        s.clients,
        s.per_second,
        s.p50_ms,
        s.p99_ms,
        s.server_errors,
        s.unexpected,
        s.transport_errors,
        s.incidents_acknowledged
    );
    for e in &s.examples {
        eprintln!("  {e}");
    }
    if s.server_errors > 0 || s.unexpected > 0 {
        bail!("the server answered with 5xx or unexpected statuses (above)");
    }
    if s.transport_errors > 0 && !a.allow_transport_errors {
        bail!(
            "{} requests failed at the transport level",
            s.transport_errors
        );
    }
    Ok(())
}
