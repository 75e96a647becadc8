//! A fresh database per test on either backend (copied from the store's tests, trimmed), a
//! server started in-process on 127.0.0.1:0 over it, and a minimal HTTP/1.1 client.
//!
//! PostgreSQL: a uniquely named database on `$POSBON_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432`, trust auth), dropped after the test even when it fails.
//! An unreachable server fails the test: run `scripts/start-services.sh`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
use sqlx::{Connection, PgConnection};
use store::{Backend, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";

pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<DropDatabase>,
}

fn postgres_base() -> String {
    std::env::var("POSBON_TEST_POSTGRES")
        .unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

fn postgres_admin_url() -> String {
    format!("{}/postgres", postgres_base())
}

/// `posbon_srvtest_<pid>_<n>_<nanos>`: only `[a-z0-9_]`, since it is spliced into DDL.
fn unique_name() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!(
        "posbon_srvtest_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        nanos
    );
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    );
    name
}

async fn admin_connection() -> PgConnection {
    let admin = postgres_admin_url();
    match PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => panic!(
            "PostgreSQL is not reachable at {admin}: {e}\n\
             The server's tests run against PostgreSQL as well as SQLite and do not skip it.\n\
             Start it with `scripts/start-services.sh` (CI's .ci/run does), or point \
             POSBON_TEST_POSTGRES at another server (postgres://USER@HOST:PORT, trust auth)."
        ),
    }
}

impl TestDb {
    /// Another pool on the same database whose times come from a manual clock set to `at`.
    pub async fn with_clock(
        &self,
        at: domain::Timestamp,
    ) -> (Store, std::sync::Arc<domain::ManualClock>) {
        let clock = std::sync::Arc::new(domain::ManualClock::new(at));
        let store = Store::connect_with(
            &self.url,
            store::Options {
                clock: clock.clone(),
                ..store::Options::default()
            },
        )
        .await
        .unwrap();
        (store, clock)
    }

    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite:{}", dir.path().join("posbon.db").display());
        let store = Store::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        TestDb {
            store,
            url,
            backend: Backend::Sqlite,
            _dir: Some(dir),
            _pg: None,
        }
    }

    pub async fn postgres() -> TestDb {
        let name = unique_name();
        let mut admin = admin_connection().await;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        admin.close().await.ok();
        let guard = DropDatabase(name.clone());
        let url = format!("{}/{name}", postgres_base());
        let store = Store::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        TestDb {
            store,
            url,
            backend: Backend::Postgres,
            _dir: None,
            _pg: Some(guard),
        }
    }
}

struct DropDatabase(String);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.0);
        let result = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let mut admin = PgConnection::connect(&postgres_admin_url()).await?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if let Ok(Err(e)) = result {
            eprintln!("warning: could not drop a test database: {e}");
        }
    }
}

/// Declares each `async fn NAME(db: &TestDb)` as `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::TestDb::postgres().await;
                    super::$name(&db).await;
                }
            )*
        }
    };
}

/// The real server on 127.0.0.1:0, stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(store: &Store) -> TestServer {
        let state = server::AppState::new(store.clone(), &server::Config::default()).unwrap();
        TestServer::start_with(state).await
    }

    /// The server with a configuration of the test's own (e.g. a data folder in a temporary
    /// directory).
    pub async fn start_with_config(store: &Store, config: &server::Config) -> TestServer {
        TestServer::start_with(server::AppState::new(store.clone(), config).unwrap()).await
    }

    /// The server over a state made by the test (cameras plugged in, another data folder).
    pub async fn start_with(state: server::AppState) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            server::serve(listener, state, async {
                rx.await.ok();
            })
            .await
            .expect("server");
        });
        TestServer {
            addr,
            stop: Some(tx),
        }
    }

    pub fn client(&self) -> Client {
        Client {
            addr: self.addr,
            cookie: None,
            csrf: None,
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(self.status, status, "body: {}", self.text());
        self
    }
    /// Asserts an error response of the API's shape with this status.
    #[track_caller]
    pub fn expect_error(self, status: u16) -> Value {
        let r = self.expect(status);
        let v = r.json();
        assert!(
            v["error"].as_str().is_some_and(|s| !s.is_empty())
                && v["fix"].as_str().is_some_and(|s| !s.is_empty()),
            "not an {{error, fix}} body: {v}"
        );
        v
    }
}

/// An HTTP/1.1 client, one connection per request, keeping the session cookie and CSRF token.
pub struct Client {
    pub addr: SocketAddr,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl Client {
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        let stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let (mut rd, mut wr) = stream.into_split();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if let Some(c) = &self.cookie {
            head.push_str(&format!("Cookie: {}={c}\r\n", server::auth::SESSION_COOKIE));
        }
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = body.unwrap_or_default().to_vec();
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        // Write while reading: the server may answer (413) before it has read the whole body.
        let writer = tokio::spawn(async move {
            let _ = wr.write_all(head.as_bytes()).await;
            let _ = wr.write_all(&body).await;
            let _ = wr.flush().await;
            wr
        });
        let mut buf = Vec::new();
        let _ = rd.read_to_end(&mut buf).await;
        let _ = writer.await;
        parse(&buf)
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.raw("GET", path, &[], None).await
    }

    /// A JSON POST with the session's CSRF token, if any.
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        let b = body.to_string();
        let mut h = vec![("Content-Type", "application/json")];
        if let Some(t) = &self.csrf {
            h.push(("X-CSRF-Token", t.as_str()));
        }
        self.raw("POST", path, &h, Some(b.as_bytes())).await
    }

    /// A JSON PUT with the session's CSRF token, if any.
    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        let b = body.to_string();
        let mut h = vec![("Content-Type", "application/json")];
        if let Some(t) = &self.csrf {
            h.push(("X-CSRF-Token", t.as_str()));
        }
        self.raw("PUT", path, &h, Some(b.as_bytes())).await
    }

    /// An HTML form POST (`application/x-www-form-urlencoded`).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = form_encode(fields);
        self.raw(
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(body.as_bytes()),
        )
        .await
    }

    /// Logs in; on success keeps the cookie and CSRF token.
    pub async fn login(&mut self, username: &str, password: &str) -> Resp {
        let r = self
            .post(
                "/api/login",
                &serde_json::json!({ "username": username, "password": password }),
            )
            .await;
        if r.status == 200 {
            let set = r.header("set-cookie").expect("a session cookie").to_owned();
            let token = set
                .split(';')
                .next()
                .and_then(|kv| kv.split_once('='))
                .map(|(_, v)| v.to_owned())
                .unwrap();
            self.cookie = Some(token);
            self.csrf = Some(r.json()["csrf_token"].as_str().unwrap().to_owned());
        }
        r
    }
}

/// `k=v&k=v`, percent-encoded as browsers encode forms.
pub fn form_encode(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn parse(buf: &[u8]) -> Resp {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP response: {:?}", String::from_utf8_lossy(buf)));
    let head = std::str::from_utf8(&buf[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = buf[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16)
                .unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + size]);
            rest = &rest[nl + 2 + size + 2..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body,
    }
}

/// A user of every role over the demo geography (`server::demo::seed_geography`): admin,
/// operator (the district), inspector_a and inspector_b (a mahalla each), analyst (the region),
/// auditor.
pub const DEMO_USERS: [(&str, domain::Role, domain::Scope); 6] = {
    use domain::{Role, Scope};
    use server::demo::{DISTRICT, MAHALLA_A, MAHALLA_B, REGION};
    [
        ("admin", Role::Admin, Scope::National),
        ("operator", Role::Operator, Scope::District(DISTRICT)),
        ("inspector_a", Role::Inspector, Scope::Mahalla(MAHALLA_A)),
        ("inspector_b", Role::Inspector, Scope::Mahalla(MAHALLA_B)),
        ("analyst", Role::Analyst, Scope::Region(REGION)),
        ("auditor", Role::Auditor, Scope::National),
    ]
};

/// Creates each `(username, role, scope)` with `password` (hashed once); the display name is
/// the username.
pub async fn create_users(
    store: &Store,
    password: &str,
    users: &[(&str, domain::Role, domain::Scope)],
) {
    let hash = server::auth::hash_password(password).unwrap();
    for (username, role, scope) in users {
        store
            .create_user(&domain::NewUser {
                username: (*username).into(),
                display_name: (*username).into(),
                password_hash: hash.clone(),
                role: *role,
                scope: *scope,
            })
            .await
            .unwrap();
    }
}

const BOUNDARY: &str = "posbon-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body: text parts, then the file part (if any).
pub fn multipart(texts: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, value) in texts {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((filename, bytes)) = file {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}
