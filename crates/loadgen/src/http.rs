//! A small HTTP/1.1 client over one keep-alive connection: enough for posbon's API (bodies with
//! Content-Length or chunked), with no dependency beyond tokio. It reconnects when the server
//! closes the connection.
use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One response: status, the headers that matter here, the body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub set_cookie: Vec<String>,
    pub body: Vec<u8>,
    close: bool,
}

impl Response {
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "the body is not JSON: {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(200)])
            )
        })
    }
}

/// A request to send.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Option<(&'a str, &'a [u8])>,
}

pub struct Conn {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Conn {
        Conn { addr, stream: None }
    }

    /// Sends the request and reads the whole response. A connection the server closed before
    /// answering is reopened once (keep-alive connections may be closed while idle).
    pub async fn send(&mut self, req: &Request<'_>) -> Result<Response> {
        let reused = self.stream.is_some();
        match self.try_send(req).await {
            Ok(r) => Ok(r),
            Err(e) if reused => {
                self.stream = None;
                self.try_send(req)
                    .await
                    .with_context(|| format!("after a closed keep-alive connection ({e})"))
            }
            Err(e) => Err(e),
        }
    }

    async fn try_send(&mut self, req: &Request<'_>) -> Result<Response> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr)
                .await
                .with_context(|| format!("cannot connect to {}", self.addr))?;
            s.set_nodelay(true)?;
            self.stream = Some(BufReader::new(s));
        }
        let stream = self.stream.as_mut().expect("connected above");
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: keep-alive\r\n",
            req.method, req.path, self.addr
        );
        for (k, v) in req.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let body: &[u8] = match req.body {
            Some((ct, b)) => {
                head.push_str(&format!(
                    "Content-Type: {ct}\r\nContent-Length: {}\r\n",
                    b.len()
                ));
                b
            }
            None => b"",
        };
        head.push_str("\r\n");
        let w = stream.get_mut();
        w.write_all(head.as_bytes()).await?;
        if !body.is_empty() {
            // A server may answer (413) and close before reading a big body: not an error here.
            if let Err(e) = w.write_all(body).await
                && e.kind() != std::io::ErrorKind::BrokenPipe
                && e.kind() != std::io::ErrorKind::ConnectionReset
            {
                return Err(e.into());
            }
        }
        let resp = read_response(stream).await;
        match resp {
            Ok(r) => {
                if r.close {
                    self.stream = None;
                }
                Ok(r)
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
    }
}

async fn read_line(s: &mut BufReader<TcpStream>) -> Result<String> {
    let mut line = String::new();
    let n = s.read_line(&mut line).await?;
    if n == 0 {
        bail!("the server closed the connection");
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn read_response(s: &mut BufReader<TcpStream>) -> Result<Response> {
    let status_line = read_line(s).await?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .with_context(|| format!("not an HTTP status line: {status_line:?}"))?;
    let mut length = None;
    let mut chunked = false;
    let mut close = false;
    let mut set_cookie = Vec::new();
    loop {
        let line = read_line(s).await?;
        if line.is_empty() {
            break;
        }
        let Some((k, v)) = line.split_once(':') else {
            bail!("malformed header line {line:?}");
        };
        let v = v.trim();
        match k.to_ascii_lowercase().as_str() {
            "content-length" => length = Some(v.parse::<usize>().context("bad Content-Length")?),
            "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
            "connection" => close = v.eq_ignore_ascii_case("close"),
            "set-cookie" => set_cookie.push(v.to_owned()),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let size_line = read_line(s).await?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .with_context(|| format!("bad chunk size {size_line:?}"))?;
            if size == 0 {
                // trailers, then the empty line
                while !read_line(s).await?.is_empty() {}
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            s.read_exact(&mut body[start..]).await?;
            read_line(s).await?;
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        s.read_exact(&mut body).await?;
    } else {
        s.read_to_end(&mut body).await?;
        close = true;
    }
    Ok(Response {
        status,
        set_cookie,
        body,
        close,
    })
}
