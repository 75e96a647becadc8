//! The payee check over HTTP on loopback under concurrent load, beside a peer doing the same
//! look-ups in the same run: Redis holding the same payees (key: the hex of the payee's hash,
//! value: the JSON verdict posbon would answer) queried with GET.
//!
//! Run by `bench/payee.sh`, which builds the release binaries, starts
//! `posbon serve --synthetic-threats N` on a temporary SQLite database with a bank key, and calls
//! this with:
//!
//! ```text
//! payee_http --addr 127.0.0.1:PORT --key-file FILE --card-key-file DATA/keys/card-hash.key \
//!            --n 1000000 --clients 64 --seconds 20 --runs 3 --redis 127.0.0.1:6379
//! ```
//!
//! Each run: posbon (the load generator's keep-alive HTTP clients, `loadgen::timed::replay`,
//! sending `{"kind","value"}` as a bank would with its Bearer key), then Redis (as many
//! connections, each GET timed the same way by `loadgen::timed::drive`). Half the queries were
//! reported, half not; phones, cards and IBANs in turn. The peer does less: it is handed the
//! hash (a bank could not compute a card's, which needs posbon's card key) and does no parsing,
//! normalising or key check. Without arguments (as `cargo test --benches` runs it) it prints
//! this usage and exits.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use cyber::IndicatorKind;
use loadgen::http::{Conn, Request};
use loadgen::timed::{ClientLog, Prepared, TimedSummary, drive, replay};
use server::payee::answer;
use server::payee::synthetic::{self, Rng};
use server::threat::{Threats, load_card_key};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Args {
    addr: SocketAddr,
    key_file: PathBuf,
    card_key_file: PathBuf,
    n: u64,
    clients: usize,
    seconds: f64,
    runs: usize,
    queries: usize,
    redis: SocketAddr,
}

fn parse_args() -> Result<Option<Args>> {
    let mut m: HashMap<String, String> = HashMap::new();
    let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
    while let Some(k) = it.next() {
        let Some(name) = k.strip_prefix("--") else {
            bail!("unexpected argument {k:?}");
        };
        let v = it
            .next()
            .with_context(|| format!("--{name} needs a value"))?;
        m.insert(name.to_owned(), v);
    }
    if m.is_empty() {
        return Ok(None);
    }
    let get = |k: &str| m.get(k).with_context(|| format!("--{k} is required"));
    let num = |k: &str, d: &str| -> Result<String> {
        Ok(m.get(k).cloned().unwrap_or_else(|| d.to_owned()))
    };
    Ok(Some(Args {
        addr: get("addr")?.parse().context("--addr")?,
        key_file: get("key-file")?.into(),
        card_key_file: get("card-key-file")?.into(),
        n: num("n", "1000000")?.parse().context("--n")?,
        clients: num("clients", "64")?.parse().context("--clients")?,
        seconds: num("seconds", "20")?.parse().context("--seconds")?,
        runs: num("runs", "3")?.parse().context("--runs")?,
        queries: num("queries", "200000")?.parse().context("--queries")?,
        redis: num("redis", "127.0.0.1:6379")?.parse().context("--redis")?,
    }))
}

/// One payee looked up by both: the body posbon gets, the key Redis gets, and whether it was
/// reported.
struct Query {
    body: Vec<u8>,
    redis_key: Vec<u8>,
    reported: bool,
}

/// A minimal RESP client over one connection (commands out, one reply in).
struct Redis {
    s: BufReader<TcpStream>,
    out: Vec<u8>,
}

#[derive(Debug, PartialEq)]
enum Reply {
    Simple(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
}

impl Redis {
    async fn connect(addr: SocketAddr) -> Result<Redis> {
        let s = TcpStream::connect(addr)
            .await
            .with_context(|| format!("no Redis at {addr}"))?;
        s.set_nodelay(true)?;
        Ok(Redis {
            s: BufReader::new(s),
            out: Vec::with_capacity(256),
        })
    }

    fn queue(&mut self, args: &[&[u8]]) {
        self.out
            .extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            self.out
                .extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            self.out.extend_from_slice(a);
            self.out.extend_from_slice(b"\r\n");
        }
    }

    async fn flush(&mut self) -> Result<()> {
        self.s.get_mut().write_all(&self.out).await?;
        self.out.clear();
        Ok(())
    }

    async fn line(&mut self) -> Result<String> {
        let mut l = String::new();
        if self.s.read_line(&mut l).await? == 0 {
            bail!("Redis closed the connection");
        }
        Ok(l.trim_end().to_owned())
    }

    async fn reply(&mut self) -> Result<Reply> {
        let l = self.line().await?;
        let (t, rest) = l.split_at(1.min(l.len()));
        Ok(match t {
            "+" => Reply::Simple(rest.to_owned()),
            "-" => bail!("Redis: {rest}"),
            ":" => Reply::Int(rest.parse()?),
            "$" => {
                let n: i64 = rest.parse()?;
                if n < 0 {
                    Reply::Bulk(None)
                } else {
                    let mut b = vec![0u8; n as usize + 2];
                    self.s.read_exact(&mut b).await?;
                    b.truncate(n as usize);
                    Reply::Bulk(Some(b))
                }
            }
            _ => bail!("unexpected Redis reply {l:?}"),
        })
    }

    async fn cmd(&mut self, args: &[&[u8]]) -> Result<Reply> {
        self.queue(args);
        self.flush().await?;
        self.reply().await
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> Result<()> {
    let Some(a) = parse_args()? else {
        println!(
            "payee_http: run by bench/payee.sh (needs --addr, --key-file, --card-key-file; see the source)"
        );
        return Ok(());
    };
    ensure!(a.n >= 3 && a.clients > 0 && a.seconds > 0.0 && a.runs > 0);
    let key = std::fs::read_to_string(&a.key_file)
        .with_context(|| format!("cannot read {}", a.key_file.display()))?
        .trim()
        .to_owned();
    let card_key = load_card_key(&a.card_key_file)?;
    let now = domain::Timestamp::now();

    // The same payees as the server (same generator, same card key), for Redis's values.
    let t = Instant::now();
    let threats = Threats::new(card_key);
    synthetic::load(&threats, a.n, now.unix_micros() / 1_000_000);
    let prefix = format!("posbon-bench-{}:", std::process::id());
    let redis_key = |kind: &str, value: &str| -> Vec<u8> {
        let k = IndicatorKind::parse(kind).expect("kind");
        let h = threats
            .extractor()
            .field(k, value)
            .expect("valid")
            .key()
            .hash();
        format!("{prefix}{}", hex::encode(h)).into_bytes()
    };
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let queries: Vec<Query> = (0..a.queries)
        .map(|k| {
            let i = synthetic::query(&mut rng, a.n, k);
            let (kind, value) = synthetic::payee(i);
            Query {
                body: serde_json::to_vec(&serde_json::json!({ "kind": kind, "value": value }))
                    .expect("json"),
                redis_key: redis_key(kind, &value),
                reported: i < a.n,
            }
        })
        .collect();

    // Redis: every reported payee's hash -> the JSON verdict, pipelined.
    let mut r = Redis::connect(a.redis).await?;
    let mut pending = 0usize;
    for i in 0..a.n {
        let (kind, value) = synthetic::payee(i);
        let verdict = answer(&threats, kind, &value, now).map_err(|e| anyhow::anyhow!(e.error))?;
        let v = serde_json::to_vec(&verdict)?;
        let k = redis_key(kind, &value);
        r.queue(&[b"SET", &k, &v]);
        pending += 1;
        if pending == 1000 || i + 1 == a.n {
            r.flush().await?;
            for _ in 0..pending {
                ensure!(r.reply().await? == Reply::Simple("OK".into()), "SET failed");
            }
            pending = 0;
        }
    }
    eprintln!(
        "prepared {} queries and loaded {} payees into Redis in {:.1?}",
        queries.len(),
        a.n,
        t.elapsed()
    );

    // Both answer right before anything is timed.
    let auth = format!("Bearer {key}");
    let mut conn = Conn::new(a.addr);
    for q in queries.iter().take(2000) {
        let resp = conn
            .send(&Request {
                method: "POST",
                path: "/api/payee-check",
                headers: &[("Authorization", auth.as_str())],
                body: Some(("application/json", &q.body)),
            })
            .await?;
        ensure!(
            resp.status == 200,
            "posbon answered {}: {}",
            resp.status,
            String::from_utf8_lossy(&resp.body)
        );
        let v = resp.json()?;
        ensure!(
            (v["verdict"] == "reported") == q.reported,
            "posbon's verdict is wrong for {}",
            String::from_utf8_lossy(&q.body)
        );
        let got = r.cmd(&[b"GET", &q.redis_key]).await?;
        ensure!(
            matches!(got, Reply::Bulk(Some(_))) == q.reported,
            "Redis's answer is wrong"
        );
    }

    let queries = Arc::new(queries);
    let requests: Arc<Vec<Prepared>> = Arc::new(
        queries
            .iter()
            .map(|q| Prepared {
                method: "POST".into(),
                path: "/api/payee-check".into(),
                headers: vec![("Authorization".into(), auth.clone())],
                body: Some(("application/json".into(), q.body.clone())),
            })
            .collect(),
    );
    let duration = Duration::from_secs_f64(a.seconds);
    let mut rows: Vec<(TimedSummary, TimedSummary)> = Vec::new();
    println!(
        "| run | posbon checks/s | p50 ms | p99 ms | Redis GETs/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|---|"
    );
    for run in 1..=a.runs {
        let p = replay(a.addr, a.clients, duration, requests.clone(), &[200]).await?;
        let q = queries.clone();
        let redis_addr = a.redis;
        let clients = a.clients;
        let g = drive(clients, duration, move |index, deadline| {
            let q = q.clone();
            async move {
                let mut log = ClientLog::default();
                let mut r = match Redis::connect(redis_addr).await {
                    Ok(r) => r,
                    Err(e) => {
                        log.errors += 1;
                        log.example(format!("{e:#}"));
                        return log;
                    }
                };
                let mut next = index * q.len() / clients;
                while Instant::now() < deadline {
                    let query = &q[next % q.len()];
                    next += 1;
                    let t = Instant::now();
                    match r.cmd(&[b"GET", &query.redis_key]).await {
                        Ok(Reply::Bulk(b)) => {
                            log.latencies_ms.push(t.elapsed().as_secs_f64() * 1e3);
                            if b.is_some() != query.reported {
                                log.unexpected += 1;
                            }
                        }
                        Ok(other) => {
                            log.unexpected += 1;
                            log.example(format!("GET answered {other:?}"));
                        }
                        Err(e) => {
                            log.errors += 1;
                            log.example(format!("{e:#}"));
                            return log;
                        }
                    }
                }
                log
            }
        })
        .await?;
        for (who, s) in [("posbon", &p), ("Redis", &g)] {
            ensure!(
                s.unexpected == 0 && s.errors == 0,
                "{who}: {} unexpected answers, {} errors: {:?}",
                s.unexpected,
                s.errors,
                s.examples
            );
        }
        println!(
            "| {run} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} |",
            p.per_second, p.p50_ms, p.p99_ms, g.per_second, g.p50_ms, g.p99_ms
        );
        rows.push((p, g));
    }
    let med =
        |f: &dyn Fn(&(TimedSummary, TimedSummary)) -> f64| median(rows.iter().map(f).collect());
    let (pt, pp50, pp99) = (
        med(&|r| r.0.per_second),
        med(&|r| r.0.p50_ms),
        med(&|r| r.0.p99_ms),
    );
    let (gt, gp50, gp99) = (
        med(&|r| r.1.per_second),
        med(&|r| r.1.p50_ms),
        med(&|r| r.1.p99_ms),
    );
    println!(
        "| median of {} | {pt:.0} | {pp50:.2} | {pp99:.2} | {gt:.0} | {gp50:.2} | {gp99:.2} |",
        a.runs
    );
    println!(
        "posbon / Redis: throughput {:.2}x, p50 {:.2}x, p99 {:.2}x ({} clients, {} s each, {} reported payees, {} distinct queries)",
        pt / gt,
        pp50 / gp50,
        pp99 / gp99,
        a.clients,
        a.seconds,
        a.n,
        queries.len()
    );

    // Leave Redis as it was.
    let mut pending = 0usize;
    let mut removed = 0i64;
    for i in 0..a.n {
        let (kind, value) = synthetic::payee(i);
        let k = redis_key(kind, &value);
        r.queue(&[b"UNLINK", &k]);
        pending += 1;
        if pending == 1000 || i + 1 == a.n {
            r.flush().await?;
            for _ in 0..pending {
                if let Reply::Int(d) = r.reply().await? {
                    removed += d;
                }
            }
            pending = 0;
        }
    }
    eprintln!("removed the {removed} keys this run wrote to Redis");
    Ok(())
}
