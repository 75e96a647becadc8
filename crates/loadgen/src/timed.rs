//! Fixed requests at full speed: `clients` concurrent keep-alive connections for a bounded
//! time, each cycling through a list of prepared requests (the payee-check benchmark replays
//! bank look-ups with a Bearer key). The timing and the statistics are shared with any other
//! client loop ([`drive`]), so a peer measured beside posbon (a Redis GET loop) is timed the
//! same way.
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::http::{Conn, Request};

/// What one client saw: each request's latency in milliseconds, its status counts, and what
/// went wrong.
#[derive(Debug, Default)]
pub struct ClientLog {
    pub latencies_ms: Vec<f64>,
    pub statuses: BTreeMap<u16, u64>,
    /// Answers that were not what was expected.
    pub unexpected: u64,
    /// Requests that got no answer.
    pub errors: u64,
    pub examples: Vec<String>,
}

impl ClientLog {
    pub fn example(&mut self, s: String) {
        if self.examples.len() < 5 {
            self.examples.push(s);
        }
    }
}

/// All clients together.
#[derive(Debug, Clone, Serialize)]
pub struct TimedSummary {
    pub clients: usize,
    pub seconds: f64,
    pub requests: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub statuses: BTreeMap<u16, u64>,
    pub unexpected: u64,
    pub errors: u64,
    pub examples: Vec<String>,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Runs `client(index, deadline)` for `clients` indices at once and summarises their logs.
pub async fn drive<F, Fut>(clients: usize, duration: Duration, client: F) -> Result<TimedSummary>
where
    F: Fn(usize, Instant) -> Fut,
    Fut: Future<Output = ClientLog> + Send + 'static,
{
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|i| tokio::spawn(client(i, deadline)))
        .collect();
    let mut all = ClientLog::default();
    for t in tasks {
        let log = t.await.context("a client task panicked")?;
        all.latencies_ms.extend(log.latencies_ms);
        for (s, n) in log.statuses {
            *all.statuses.entry(s).or_default() += n;
        }
        all.unexpected += log.unexpected;
        all.errors += log.errors;
        for e in log.examples {
            all.example(e);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut lat = all.latencies_ms;
    lat.sort_by(f64::total_cmp);
    Ok(TimedSummary {
        clients,
        seconds,
        requests: lat.len() as u64,
        per_second: lat.len() as f64 / seconds,
        p50_ms: percentile(&lat, 0.5),
        p90_ms: percentile(&lat, 0.9),
        p99_ms: percentile(&lat, 0.99),
        p999_ms: percentile(&lat, 0.999),
        max_ms: lat.last().copied().unwrap_or(0.0),
        statuses: all.statuses,
        unexpected: all.unexpected,
        errors: all.errors,
        examples: all.examples,
    })
}

/// A prepared request that owns its parts.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// (content type, body)
    pub body: Option<(String, Vec<u8>)>,
}

/// `clients` keep-alive connections to `addr` for `duration`, client `i` starting at request
/// `i * len / clients` and cycling through `requests`; an answer whose status is not in
/// `expect` is counted as unexpected.
pub async fn replay(
    addr: SocketAddr,
    clients: usize,
    duration: Duration,
    requests: Arc<Vec<Prepared>>,
    expect: &'static [u16],
) -> Result<TimedSummary> {
    anyhow::ensure!(
        !requests.is_empty() && clients > 0,
        "a replay needs requests and clients"
    );
    drive(clients, duration, move |index, deadline| {
        let requests = requests.clone();
        async move {
            let mut log = ClientLog::default();
            let mut conn = Conn::new(addr);
            let mut next = index * requests.len() / clients;
            while Instant::now() < deadline {
                let p = &requests[next % requests.len()];
                next += 1;
                let headers: Vec<(&str, &str)> = p
                    .headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let req = Request {
                    method: &p.method,
                    path: &p.path,
                    headers: &headers,
                    body: p.body.as_ref().map(|(ct, b)| (ct.as_str(), b.as_slice())),
                };
                let t = Instant::now();
                match conn.send(&req).await {
                    Ok(r) => {
                        log.latencies_ms.push(t.elapsed().as_secs_f64() * 1e3);
                        *log.statuses.entry(r.status).or_default() += 1;
                        if !expect.contains(&r.status) {
                            log.unexpected += 1;
                            let body = String::from_utf8_lossy(&r.body[..r.body.len().min(200)])
                                .into_owned();
                            log.example(format!(
                                "{} {} got {}: {body}",
                                p.method, p.path, r.status
                            ));
                        }
                    }
                    Err(e) => {
                        log.errors += 1;
                        log.example(format!("{} {}: {e:#}", p.method, p.path));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            log
        }
    })
    .await
}
