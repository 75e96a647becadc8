//! Load for posbon's HTTP API from a process of its own: `clients` concurrent keep-alive
//! connections for a bounded time, each looping over a weighted mix of operations (reads,
//! incident writes, and requests that must be refused: malformed JSON, an oversized body, no
//! session, no CSRF token). Every answer's status is checked against what that operation may
//! get; a 5xx, an unexpected status or a transport error is counted and reported.
//!
//! With an acknowledgement log, the id of every incident the server acknowledged (201) is
//! written to it, one per line, as soon as the answer arrives: the kill -9 test compares that
//! list with what the database holds after the server is killed.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde_json::json;

pub mod http;
pub mod timed;

use http::{Conn, Request};

/// One account the clients log in as (each account logs in once; its session is shared).
#[derive(Debug, Clone)]
pub struct Account {
    pub username: String,
    pub password: String,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub clients: usize,
    pub duration: Duration,
    pub accounts: Vec<Account>,
    /// Mahallas within the accounts' scope, for the incidents written.
    pub mahallas: Vec<i64>,
    /// Only write incidents (the kill -9 test), instead of the mix.
    pub writes_only: bool,
    pub ack_log: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    ListIncidents,
    GetIncident,
    CreateIncident,
    PendingEvents,
    ExportCsv,
    Healthz,
    Metrics,
    MalformedJson,
    Oversized,
    NoSession,
    NoCsrf,
}

impl Op {
    /// The statuses this operation may get from a correct server.
    fn expected(self) -> &'static [u16] {
        match self {
            Op::ListIncidents | Op::ExportCsv | Op::Healthz | Op::Metrics => &[200],
            // any id may have been written by another client in another's scope
            Op::GetIncident => &[200, 404],
            Op::CreateIncident => &[201],
            // an account whose role may not review gets 403
            Op::PendingEvents => &[200, 403],
            Op::MalformedJson => &[400],
            Op::Oversized => &[413],
            Op::NoSession => &[401],
            Op::NoCsrf => &[403],
        }
    }
}

/// The mix: (operation, weight).
const MIX: &[(Op, u32)] = &[
    (Op::ListIncidents, 25),
    (Op::GetIncident, 15),
    (Op::CreateIncident, 20),
    (Op::PendingEvents, 10),
    (Op::ExportCsv, 1),
    (Op::Healthz, 5),
    (Op::Metrics, 2),
    (Op::MalformedJson, 8),
    (Op::Oversized, 2),
    (Op::NoSession, 7),
    (Op::NoCsrf, 5),
];

/// Bytes of the oversized body: over the server's 1 MiB limit.
const OVERSIZED: usize = (1 << 20) + 4096;

#[derive(Debug, Default, Clone, Serialize)]
pub struct OpSummary {
    pub requests: u64,
    pub statuses: BTreeMap<u16, u64>,
    pub unexpected: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub clients: usize,
    pub seconds: f64,
    pub requests: u64,
    pub per_second: f64,
    pub server_errors: u64,
    pub unexpected: u64,
    pub transport_errors: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub incidents_acknowledged: u64,
    pub by_op: BTreeMap<Op, OpSummary>,
    /// Up to ten examples of what went wrong, for the report.
    pub examples: Vec<String>,
}

impl Summary {
    /// No 5xx, no status outside what each operation may get, no transport error.
    pub fn clean(&self) -> bool {
        self.server_errors == 0 && self.unexpected == 0 && self.transport_errors == 0
    }
}

#[derive(Default)]
struct Record {
    op_lat: BTreeMap<Op, Vec<f64>>,
    op_status: BTreeMap<Op, BTreeMap<u16, u64>>,
    op_unexpected: BTreeMap<Op, u64>,
    op_errors: BTreeMap<Op, u64>,
    acked: u64,
    examples: Vec<String>,
}

impl Record {
    fn example(&mut self, s: String) {
        if self.examples.len() < 10 {
            self.examples.push(s);
        }
    }
}

#[derive(Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

/// xorshift64*: a reproducible mix per client without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

async fn login(addr: SocketAddr, a: &Account) -> Result<Session> {
    let body = serde_json::to_vec(&json!({ "username": a.username, "password": a.password }))?;
    let mut c = Conn::new(addr);
    let r = c
        .send(&Request {
            method: "POST",
            path: "/api/login",
            headers: &[],
            body: Some(("application/json", &body)),
        })
        .await?;
    if r.status != 200 {
        bail!(
            "login as {} answered {}: {}",
            a.username,
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    let cookie = r
        .set_cookie
        .iter()
        .find_map(|c| {
            c.split(';')
                .next()
                .filter(|kv| kv.starts_with("posbon_session="))
        })
        .context("the login answer set no posbon_session cookie")?
        .to_owned();
    let csrf = r.json()?["csrf_token"]
        .as_str()
        .context("the login answer has no csrf_token")?
        .to_owned();
    Ok(Session { cookie, csrf })
}

fn pick(rng: &mut Rng, writes_only: bool) -> Op {
    if writes_only {
        return Op::CreateIncident;
    }
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    let mut r = rng.below(u64::from(total)) as u32;
    for (op, w) in MIX {
        if r < *w {
            return *op;
        }
        r -= w;
    }
    unreachable!("weights sum to total")
}

struct Shared {
    cfg: Config,
    sessions: Vec<Session>,
    record: Mutex<Record>,
    ack: Option<Mutex<std::fs::File>>,
    /// Ids acknowledged so far, for GetIncident.
    known: Mutex<Vec<i64>>,
}

async fn client(shared: Arc<Shared>, index: usize, deadline: Instant) {
    let cfg = &shared.cfg;
    let session = &shared.sessions[index % shared.sessions.len()];
    let mut rng =
        Rng(0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
    let mut conn = Conn::new(cfg.addr);
    let oversized = vec![b' '; OVERSIZED];
    let mut seq = 0u64;
    while Instant::now() < deadline {
        seq += 1;
        let op = pick(&mut rng, cfg.writes_only);
        let cookie = session.cookie.as_str();
        let csrf = session.csrf.as_str();
        let mahalla = cfg.mahallas[rng.below(cfg.mahallas.len() as u64) as usize];
        let incident = serde_json::to_vec(&json!({
            "category": "theft",
            "source": "patrol",
            "occurred_at": "2026-11-01T10:00:00Z",
            "mahalla": mahalla,
            "affected": { "minor": false, "youth": rng.below(4) == 0, "woman": false },
            "narrative": format!("load test client {index} request {seq}"),
        }))
        .expect("json");
        let known_id = {
            let k = shared.known.lock().expect("lock");
            if k.is_empty() {
                1
            } else {
                k[rng.below(k.len() as u64) as usize]
            }
        };
        let get_path = format!("/api/incidents/{known_id}");
        let auth: &[(&str, &str)] = &[("Cookie", cookie), ("X-CSRF-Token", csrf)];
        let cookie_only: &[(&str, &str)] = &[("Cookie", cookie)];
        let req = match op {
            Op::ListIncidents => Request {
                method: "GET",
                path: "/api/incidents?limit=20",
                headers: cookie_only,
                body: None,
            },
            Op::GetIncident => Request {
                method: "GET",
                path: &get_path,
                headers: cookie_only,
                body: None,
            },
            Op::CreateIncident => Request {
                method: "POST",
                path: "/api/incidents",
                headers: auth,
                body: Some(("application/json", &incident)),
            },
            Op::PendingEvents => Request {
                method: "GET",
                path: "/api/events/pending?limit=20",
                headers: cookie_only,
                body: None,
            },
            Op::ExportCsv => Request {
                method: "GET",
                path: "/api/incidents.csv",
                headers: cookie_only,
                body: None,
            },
            Op::Healthz => Request {
                method: "GET",
                path: "/healthz",
                headers: &[],
                body: None,
            },
            Op::Metrics => Request {
                method: "GET",
                path: "/metrics",
                headers: &[],
                body: None,
            },
            Op::MalformedJson => Request {
                method: "POST",
                path: "/api/incidents",
                headers: auth,
                body: Some((
                    "application/json",
                    b"{\"category\": \"theft\", \"mahalla\": ",
                )),
            },
            Op::Oversized => Request {
                method: "POST",
                path: "/api/incidents",
                headers: auth,
                body: Some(("application/json", &oversized)),
            },
            Op::NoSession => Request {
                method: "GET",
                path: "/api/incidents",
                headers: &[],
                body: None,
            },
            Op::NoCsrf => Request {
                method: "POST",
                path: "/api/incidents",
                headers: cookie_only,
                body: Some(("application/json", &incident)),
            },
        };
        let t = Instant::now();
        let result = conn.send(&req).await;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let mut acked_id = None;
        let failed = {
            let mut rec = shared.record.lock().expect("lock");
            rec.op_lat.entry(op).or_default().push(ms);
            match result {
                Ok(r) => {
                    *rec.op_status
                        .entry(op)
                        .or_default()
                        .entry(r.status)
                        .or_default() += 1;
                    if !op.expected().contains(&r.status) {
                        *rec.op_unexpected.entry(op).or_default() += 1;
                        let body =
                            String::from_utf8_lossy(&r.body[..r.body.len().min(300)]).into_owned();
                        rec.example(format!("{op:?} got {}: {body}", r.status));
                    }
                    if op == Op::CreateIncident && r.status == 201 {
                        match r.json().ok().and_then(|v| v["id"].as_i64()) {
                            Some(id) => {
                                rec.acked += 1;
                                acked_id = Some(id);
                            }
                            None => rec.example("a 201 without an incident id".into()),
                        }
                    }
                    false
                }
                Err(e) => {
                    *rec.op_errors.entry(op).or_default() += 1;
                    rec.example(format!("{op:?}: {e:#}"));
                    true
                }
            }
        };
        if failed {
            // don't spin on a server that is gone
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        if let Some(id) = acked_id {
            if let Some(f) = &shared.ack {
                let mut f = f.lock().expect("lock");
                // written as soon as acknowledged: the test reads it after killing the server
                let _ = writeln!(f, "{id}").and_then(|_| f.flush());
            }
            shared.known.lock().expect("lock").push(id);
        }
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

/// Logs in, runs the clients until the duration is over, and summarises.
pub async fn run(cfg: Config) -> Result<Summary> {
    if cfg.accounts.is_empty() || cfg.mahallas.is_empty() || cfg.clients == 0 {
        bail!("a load test needs at least one account, one mahalla and one client");
    }
    let mut sessions = Vec::new();
    for a in &cfg.accounts {
        sessions.push(login(cfg.addr, a).await?);
    }
    let ack = match &cfg.ack_log {
        Some(p) => Some(Mutex::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };
    let shared = Arc::new(Shared {
        cfg: cfg.clone(),
        sessions,
        record: Mutex::default(),
        ack,
        known: Mutex::default(),
    });
    let started = Instant::now();
    let deadline = started + cfg.duration;
    let tasks: Vec<_> = (0..cfg.clients)
        .map(|i| tokio::spawn(client(shared.clone(), i, deadline)))
        .collect();
    for t in tasks {
        t.await.context("a client task panicked")?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let rec = std::mem::take(&mut *shared.record.lock().expect("lock"));
    let mut all: Vec<f64> = rec.op_lat.values().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    let mut by_op = BTreeMap::new();
    let (mut server_errors, mut unexpected, mut transport) = (0, 0, 0);
    for (op, lat) in &rec.op_lat {
        let mut lat = lat.clone();
        lat.sort_by(f64::total_cmp);
        let statuses = rec.op_status.get(op).cloned().unwrap_or_default();
        server_errors += statuses
            .iter()
            .filter(|(s, _)| **s >= 500)
            .map(|(_, n)| n)
            .sum::<u64>();
        let s = OpSummary {
            requests: lat.len() as u64,
            unexpected: rec.op_unexpected.get(op).copied().unwrap_or(0),
            errors: rec.op_errors.get(op).copied().unwrap_or(0),
            statuses,
            p50_ms: percentile(&lat, 0.5),
            p99_ms: percentile(&lat, 0.99),
            max_ms: lat.last().copied().unwrap_or(0.0),
        };
        unexpected += s.unexpected;
        transport += s.errors;
        by_op.insert(*op, s);
    }
    Ok(Summary {
        clients: cfg.clients,
        seconds,
        requests: all.len() as u64,
        per_second: all.len() as f64 / seconds,
        server_errors,
        unexpected,
        transport_errors: transport,
        p50_ms: percentile(&all, 0.5),
        p90_ms: percentile(&all, 0.9),
        p99_ms: percentile(&all, 0.99),
        max_ms: all.last().copied().unwrap_or(0.0),
        incidents_acknowledged: rec.acked,
        by_op,
        examples: rec.examples,
    })
}
