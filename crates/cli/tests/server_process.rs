//! `posbon serve` as its own process under load from another process (`posbon loadtest`), and
//! killed with SIGKILL in the middle of writes: on SQLite and on PostgreSQL.
//!
//! Load: 48 clients for a bounded time, a mix of reads, writes and bad requests; every answer
//! must be the status its request deserves (malformed JSON 400, oversized 413, no session 401,
//! no CSRF token 403), never a 5xx.
//! Kill: clients record incidents as fast as they can; each acknowledged id is logged by the
//! load process the moment the 201 arrives; the server is killed -9 while they write. The
//! database must then open, pass `posbon audit verify`, and hold every acknowledged incident.
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::{Connection, PgConnection};

fn posbon() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_posbon"));
    c.env("POSBON_LOG", "warn");
    c
}

/// A server child with its address and the demo users' passwords (read off its stdout).
struct Server {
    child: Child,
    addr: String,
    passwords: Vec<(String, String)>,
}

impl Server {
    // The child is waited for in Server's Drop, or killed and waited for below when it never
    // says where it listens; clippy cannot follow the move into `Server`.
    #[allow(clippy::zombie_processes)]
    fn start(database: &str, data: &Path) -> Server {
        let mut child = posbon()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--demo",
                "--no-workers",
                "--database",
                database,
            ])
            .arg("--data-dir")
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut passwords = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server did not say where it listens within 120 s");
            };
            // demo user admin      role admin     scope national   password XXXX
            if let Some(rest) = line.strip_prefix("demo user ") {
                let words: Vec<&str> = rest.split_whitespace().collect();
                passwords.push((words[0].to_owned(), words.last().unwrap().to_string()));
            }
            if let Some(rest) = line.strip_prefix("posbon serving on http://") {
                // "ADDR: the console at ..." or "ADDR (...)"
                let addr = rest
                    .split(|c: char| c.is_whitespace() || c == '/')
                    .next()
                    .unwrap()
                    .trim_end_matches([':', ','])
                    .to_owned();
                return Server {
                    child,
                    addr,
                    passwords,
                };
            }
        }
    }

    fn accounts_file(&self, dir: &Path, users: &[&str]) -> std::path::PathBuf {
        let p = dir.join("accounts.txt");
        let mut f = std::fs::File::create(&p).unwrap();
        for u in users {
            let (_, pw) = self
                .passwords
                .iter()
                .find(|(n, _)| n == u)
                .unwrap_or_else(|| panic!("the demo printed no password for {u}"));
            writeln!(f, "{u} {pw}").unwrap();
        }
        p
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mahalla_args() -> Vec<String> {
    [server::demo::MAHALLA_A, server::demo::MAHALLA_B]
        .iter()
        .flat_map(|m| ["--mahalla".to_owned(), m.0.to_string()])
        .collect()
}

fn loadtest(addr: &str, accounts: &Path, extra: &[&str]) -> Child {
    posbon()
        .args(["loadtest", "--addr", addr, "--accounts"])
        .arg(accounts)
        .args(mahalla_args())
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn audit_verify(database: &str) {
    let out = posbon()
        .args(["audit", "verify", "--database", database])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "audit verify failed after the kill:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn under_load(database: &str) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(database, &dir.path().join("data"));
    // the admin (national) and the operator (the demo district) write in both demo mahallas
    let accounts = server.accounts_file(dir.path(), &["admin", "operator"]);
    let out = loadtest(
        &server.addr,
        &accounts,
        &["--clients", "48", "--seconds", "8"],
    )
    .wait_with_output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "load test failed: {stderr}");
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["server_errors"], 0, "{stderr}");
    assert_eq!(s["unexpected"], 0, "{stderr}");
    assert_eq!(s["transport_errors"], 0, "{stderr}");
    let by_op = &s["by_op"];
    for (op, status) in [
        ("malformed_json", "400"),
        ("oversized", "413"),
        ("no_session", "401"),
        ("no_csrf", "403"),
        ("create_incident", "201"),
        ("list_incidents", "200"),
    ] {
        assert!(
            by_op[op]["statuses"][status].as_u64().unwrap_or(0) > 0,
            "{op} never answered {status}: {s}"
        );
    }
    assert!(
        s["requests"].as_u64().unwrap() > 500,
        "too little load: {s}"
    );
    eprintln!("{stderr}");
    drop(server);
    audit_verify(database);
}

fn killed_mid_write(database: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(database, &dir.path().join("data"));
    let accounts = server.accounts_file(dir.path(), &["admin", "operator"]);
    let acks = dir.path().join("acks.txt");
    let load = loadtest(
        &server.addr,
        &accounts,
        &[
            "--clients",
            "32",
            "--seconds",
            "6",
            "--writes-only",
            "--allow-transport-errors",
            "--ack-log",
            acks.to_str().unwrap(),
        ],
    );
    // kill once writes are flowing
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&acks).map_or(0, |s| s.lines().count()) < 200 {
        assert!(Instant::now() < deadline, "no incidents acknowledged");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let out = load.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the load process failed: {stderr}");
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["server_errors"], 0, "{stderr}");
    assert!(
        s["transport_errors"].as_u64().unwrap() > 0,
        "the kill should have cut requests off: {stderr}"
    );
    let acked: Vec<i64> = std::fs::read_to_string(&acks)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(
        acked.len() as u64,
        s["incidents_acknowledged"].as_u64().unwrap()
    );

    audit_verify(database);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = store::Store::connect_with(database, store::Options::existing())
            .await
            .unwrap();
        let mut missing = Vec::new();
        for id in &acked {
            if store
                .get_incident(domain::IncidentId(*id))
                .await
                .unwrap()
                .is_none()
            {
                missing.push(*id);
            }
        }
        // `serve --demo` seeds geography, users and the sample-footage camera, no placeholder
        // events (with --no-workers the camera never runs, so nothing waits for review)
        assert!(
            store
                .list_pending_events(&domain::Scope::National, 10)
                .await
                .unwrap()
                .is_empty(),
            "the demo seeded events of its own"
        );
        assert!(
            missing.is_empty(),
            "{} of {} acknowledged incidents are gone: {missing:?}",
            missing.len(),
            acked.len()
        );
        store.close().await;
    });
    eprintln!(
        "killed with {} acknowledged incidents, all present",
        acked.len()
    );
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("posbon.db").display())
}

/// A fresh PostgreSQL database, dropped afterwards.
struct PgDb {
    name: String,
    base: String,
}

impl PgDb {
    fn new(tag: &str) -> PgDb {
        let base = std::env::var("POSBON_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
            .trim_end_matches('/')
            .to_owned();
        let name = format!("posbon_proctest_{tag}_{}", std::process::id());
        Self::admin(
            &base,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        Self::admin(&base, &format!("CREATE DATABASE {name}"));
        PgDb { name, base }
    }
    fn url(&self) -> String {
        format!("{}/{}", self.base, self.name)
    }
    fn admin(base: &str, sql: &str) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut c = PgConnection::connect(&format!("{base}/postgres"))
                .await
                .expect("PostgreSQL on 127.0.0.1:5432 (run scripts/start-services.sh)");
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
            c.close().await.unwrap();
        });
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        Self::admin(
            &self.base,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

#[test]
fn sqlite_under_load_answers_without_5xx() {
    let dir = tempfile::tempdir().unwrap();
    under_load(&sqlite_url(dir.path()));
}

#[test]
fn postgres_under_load_answers_without_5xx() {
    let db = PgDb::new("load");
    under_load(&db.url());
}

#[test]
fn sqlite_survives_kill_9_mid_write() {
    let dir = tempfile::tempdir().unwrap();
    killed_mid_write(&sqlite_url(dir.path()));
}

#[test]
fn postgres_survives_kill_9_mid_write() {
    let db = PgDb::new("kill");
    killed_mid_write(&db.url());
}
