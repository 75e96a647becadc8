//! A minimal W3C WebDriver client for the console's browser tests: chromedriver started on a
//! free port, a headless Chromium session, and the dozen calls the tests need (plain HTTP +
//! JSON; no WebDriver crate). Shared by `e2e_chromium.rs` and `e2e_zones.rs`
//! (`#[path = "common/webdriver.rs"] mod webdriver;`).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// Finds a program on PATH (or where the environment variable says).
pub fn program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(var) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

pub fn require_browser() -> (PathBuf, PathBuf) {
    let chromium = program("POSBON_CHROMIUM", &["chromium", "chromium-browser"]);
    let driver = program("POSBON_CHROMEDRIVER", &["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => (c, d),
        (c, d) => panic!(
            "the console's browser test needs Chromium and chromedriver (found chromium: {c:?}, chromedriver: {d:?}).\n\
             Install them with `scripts/install-deps.sh` (Debian packages chromium and chromium-driver), \
             or point POSBON_CHROMIUM and POSBON_CHROMEDRIVER at them."
        ),
    }
}

/// chromedriver on a free port, killed when dropped.
pub struct Driver {
    child: Child,
    addr: SocketAddr,
}

/// One HTTP/1.1 exchange with chromedriver. It answers `Connection: close` but leaves the
/// socket open, so the body is read by its `Content-Length`, not to the end of the stream.
async fn exchange(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("chromedriver accepts connections");
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let status: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .expect("a status line");
            let len: usize = head
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.trim().parse().ok())
                .expect("a Content-Length");
            if buf.len() >= end + 4 + len {
                let v = serde_json::from_slice(&buf[end + 4..end + 4 + len])
                    .unwrap_or_else(|e| panic!("chromedriver answered non-JSON ({e})"));
                return (status, v);
            }
        }
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "chromedriver closed the connection mid-answer");
        buf.extend_from_slice(&chunk[..n]);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    pub async fn start(path: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e}; run scripts/install-deps.sh",
                    path.display()
                )
            });
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let d = Driver { child, addr };
        let start = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                let (status, v) = exchange(addr, "GET", "/status", None).await;
                if status == 200 && v["value"]["ready"] == true {
                    return d;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not become ready on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let b = body.map(|v| v.to_string());
        let (status, v) = exchange(self.addr, method, path, b.as_deref()).await;
        assert_eq!(status, 200, "WebDriver {method} {path}: {v}");
        v["value"].clone()
    }
}

/// One browser session.
pub struct Browser<'a> {
    d: &'a Driver,
    id: String,
    base: String,
    shots: PathBuf,
}

pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Ends the session even when the test fails half-way: chromedriver then closes Chromium (which
/// would outlive a killed chromedriver). Blocking, best effort, at most a few seconds.
impl Drop for Browser<'_> {
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect_timeout(&self.d.addr, Duration::from_secs(2))
        else {
            return;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let req = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            self.id, self.d.addr
        );
        if s.write_all(req.as_bytes()).is_ok() {
            // The answer comes once the browser has quit.
            let _ = s.read(&mut [0u8; 1024]);
        }
    }
}

impl Browser<'_> {
    fn p(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.id)
    }

    pub async fn go(&self, path: &str) {
        self.d
            .call(
                "POST",
                &self.p("/url"),
                Some(json!({ "url": format!("{}{path}", self.base) })),
            )
            .await;
    }

    pub async fn url(&self) -> String {
        let u = self.d.call("GET", &self.p("/url"), None).await;
        u.as_str()
            .unwrap()
            .trim_start_matches(&self.base)
            .to_owned()
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self
            .d
            .call(
                "POST",
                &self.p("/element"),
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    pub async fn count(&self, css: &str) -> usize {
        let v = self
            .d
            .call(
                "POST",
                &self.p("/elements"),
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v.as_array().map_or(0, Vec::len)
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.d
            .call(
                "POST",
                &self.p(&format!("/element/{e}/click")),
                Some(json!({})),
            )
            .await;
    }

    pub async fn type_in(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.d
            .call(
                "POST",
                &self.p(&format!("/element/{e}/clear")),
                Some(json!({})),
            )
            .await;
        self.d
            .call(
                "POST",
                &self.p(&format!("/element/{e}/value")),
                Some(json!({ "text": text })),
            )
            .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.d
            .call("GET", &self.p(&format!("/element/{e}/text")), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let e = self.find(css).await;
        self.d
            .call(
                "GET",
                &self.p(&format!("/element/{e}/attribute/{name}")),
                None,
            )
            .await
            .as_str()
            .map(str::to_owned)
    }

    pub async fn js(&self, script: &str) -> Value {
        self.d
            .call(
                "POST",
                &self.p("/execute/sync"),
                Some(json!({ "script": script, "args": [] })),
            )
            .await
    }

    /// Waits until the browser is at `path` (a form's answer may still be on its way).
    pub async fn wait_url(&self, path: &str) {
        let start = Instant::now();
        loop {
            let now = self.url().await;
            if now == path {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "at {now}, expected {path}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `script` returns true.
    pub async fn wait_for(&self, what: &str, script: &str) {
        let start = Instant::now();
        while self.js(script).await != Value::Bool(true) {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn screenshot(&self, name: &str) {
        let b64 = self.d.call("GET", &self.p("/screenshot"), None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
    }

    pub async fn log_in(&self, username: &str, password: &str) {
        self.go("/login").await;
        self.type_in("#username", username).await;
        self.type_in("#password", password).await;
        self.click("#login-submit").await;
    }

    /// Console errors the page reported (a blocked resource, a CSP violation, a script error).
    pub async fn console_errors(&self) -> Vec<String> {
        let v = self
            .d
            .call(
                "POST",
                &self.p("/se/log"),
                Some(json!({ "type": "browser" })),
            )
            .await;
        v.as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

impl<'a> Browser<'a> {
    /// A new headless Chromium session (1366 x 1000, the browser's log kept) on `base`
    /// (`http://HOST:PORT`), writing screenshots under `shots`.
    pub async fn open(d: &'a Driver, chromium: &Path, base: String, shots: PathBuf) -> Browser<'a> {
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1366,1000", "--no-first-run", "--no-default-browser-check",
                         "--disable-extensions", "--disable-background-networking"]
            }
        } } });
        let session = d.call("POST", "/session", Some(caps)).await;
        Browser {
            d,
            id: session["sessionId"]
                .as_str()
                .expect("a WebDriver session")
                .to_owned(),
            base,
            shots,
        }
    }

    /// The element's position and size in CSS pixels: `(x, y, width, height)`.
    pub async fn rect(&self, css: &str) -> (f64, f64, f64, f64) {
        let e = self.find(css).await;
        let r = self
            .d
            .call("GET", &self.p(&format!("/element/{e}/rect")), None)
            .await;
        let n = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("no {k} in {r}"));
        (n("x"), n("y"), n("width"), n("height"))
    }

    /// A real pointer click (mouse move, press, release) at `(dx, dy)` CSS pixels from the
    /// centre of the element.
    pub async fn click_at(&self, css: &str, dx: i64, dy: i64) {
        let e = self.find(css).await;
        let origin = json!({ ELEMENT: e });
        self.d
            .call(
                "POST",
                &self.p("/actions"),
                Some(json!({ "actions": [{ "type": "pointer", "id": "mouse",
                    "parameters": { "pointerType": "mouse" },
                    "actions": [
                        { "type": "pointerMove", "origin": origin, "x": dx, "y": dy, "duration": 0 },
                        { "type": "pointerDown", "button": 0 },
                        { "type": "pointerUp", "button": 0 }
                    ] }] })),
            )
            .await;
        self.d.call("DELETE", &self.p("/actions"), None).await;
    }
}

/// `$CARGO_TARGET_TMPDIR/NAME`, emptied, for a test's screenshots.
pub fn screenshot_dir(name: &str) -> PathBuf {
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    shots
}
