//! [`RawHttp`]: a minimal HTTP/1.1 client over one kept-alive TCP connection, for bodies
//! and answers the regular client will not carry. influxd 1.x echoes a refused line in
//! its `X-Influxdb-Error` header raw, NULs and all, which `reqwest` rightly refuses to
//! parse; this client reads headers as bytes and keeps only the status and the body.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Bound on one exchange.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to `127.0.0.1:port`, opened on first use and again when the server
/// closed it.
#[derive(Debug)]
pub struct RawHttp {
    /// The server's port on 127.0.0.1.
    port: u16,
    /// The open connection, if any.
    conn: Option<BufReader<TcpStream>>,
}

/// A response: status and body (lossily decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Body.
    pub body: String,
}

impl RawHttp {
    /// A client for `127.0.0.1:port`.
    pub fn new(port: u16) -> Self {
        Self { port, conn: None }
    }

    /// `POST path` (with its query string) with `body`; tries once more on a new
    /// connection if a kept-alive one turns out closed.
    ///
    /// # Errors
    /// When no complete response arrives (the server died, timed out, answered garbage).
    pub fn post(&mut self, path: &str, body: &[u8]) -> std::io::Result<RawResponse> {
        let reused = self.conn.is_some();
        match self.try_exchange(path, body) {
            Ok(response) => Ok(response),
            Err(e) => {
                self.conn = None;
                if !reused {
                    return Err(e);
                }
                self.try_exchange(path, body)
                    .inspect_err(|_| self.conn = None)
            }
        }
    }

    fn try_exchange(&mut self, path: &str, body: &[u8]) -> std::io::Result<RawResponse> {
        if self.conn.is_none() {
            let stream = TcpStream::connect(("127.0.0.1", self.port))?;
            stream.set_read_timeout(Some(TIMEOUT))?;
            stream.set_write_timeout(Some(TIMEOUT))?;
            stream.set_nodelay(true)?;
            self.conn = Some(BufReader::new(stream));
        }
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| std::io::Error::other("no connection"))?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\r\n",
            self.port,
            body.len()
        );
        let stream = conn.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        stream.flush()?;
        let response = read_response(conn)?;
        if response.1 {
            self.conn = None;
        }
        Ok(response.0)
    }
}

/// Reads one response; also says whether the server will close the connection.
fn read_response(conn: &mut BufReader<TcpStream>) -> std::io::Result<(RawResponse, bool)> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut line = Vec::new();
    conn.read_until(b'\n', &mut line)?;
    let status_line = String::from_utf8_lossy(&line).into_owned();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(&format!("bad status line {status_line:?}")))?;
    let (mut length, mut chunked, mut close) = (0usize, false, false);
    loop {
        line.clear();
        if conn.read_until(b'\n', &mut line)? == 0 {
            return Err(bad("connection closed in the headers"));
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        let text = String::from_utf8_lossy(&line).to_ascii_lowercase();
        if let Some(v) = text.strip_prefix("content-length:") {
            length = v.trim().parse().map_err(|_| bad("bad content-length"))?;
        } else if text.starts_with("transfer-encoding:") && text.contains("chunked") {
            chunked = true;
        } else if text.starts_with("connection:") && text.contains("close") {
            close = true;
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            conn.read_until(b'\n', &mut line)?;
            let size = usize::from_str_radix(String::from_utf8_lossy(&line).trim(), 16)
                .map_err(|_| bad("bad chunk size"))?;
            let mut chunk = vec![0; size + 2];
            conn.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        conn.read_exact(&mut body)?;
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    Ok((RawResponse { status, body }, close))
}
