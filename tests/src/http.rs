//! A blocking HTTP client for the tests: [`Http`], a [`Request`] builder with the InfluxDB
//! write parameters, and the [`Response`] (status, lower-cased headers, body).

use flate2::Compression;
use flate2::write::GzEncoder;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

/// Bound on one request, so a hung server fails a test instead of hanging it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A blocking client that talks only to loopback servers (no proxy).
#[derive(Debug, Clone)]
pub struct Http {
    /// The reqwest client (cheap to clone).
    client: reqwest::blocking::Client,
}

impl Http {
    /// A client that opens a new connection per request, so a killed and restarted server
    /// never meets a stale pooled connection.
    ///
    /// # Panics
    /// If the HTTP client cannot be built.
    pub fn new() -> Self {
        Self::build(0)
    }

    /// A client that keeps connections alive, as Telegraf and most load tools do.
    ///
    /// # Panics
    /// If the HTTP client cannot be built.
    pub fn keep_alive() -> Self {
        Self::build(8)
    }

    fn build(idle_per_host: usize) -> Self {
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(idle_per_host)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_else(|e| panic!("building the HTTP client: {e}"));
        Http { client }
    }

    /// Starts a request; `url` is absolute, without a query string when `.param` is used.
    pub fn request(&self, method: &str, url: &str) -> Request {
        Request {
            http: self.clone(),
            method: method.to_owned(),
            url: url.to_owned(),
            params: Vec::new(),
            headers: Vec::new(),
            basic: None,
            body: Vec::new(),
            gzip: false,
            chunked: false,
        }
    }

    /// `GET url`.
    ///
    /// # Panics
    /// On a transport error (connection refused, timeout).
    pub fn get(&self, url: &str) -> Response {
        self.request("GET", url).send()
    }
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

/// One HTTP request being built.
#[derive(Debug)]
pub struct Request {
    /// The client that sends it.
    http: Http,
    /// `GET`, `POST`, `HEAD`…
    method: String,
    /// Absolute URL without the parameters below.
    url: String,
    /// Query parameters, encoded at send time.
    params: Vec<(String, String)>,
    /// Extra headers.
    headers: Vec<(String, String)>,
    /// HTTP Basic credentials.
    basic: Option<(String, String)>,
    /// The body as given (before gzip).
    body: Vec<u8>,
    /// Gzip the body and send `Content-Encoding: gzip`.
    gzip: bool,
    /// Send the body chunked, without `Content-Length`.
    chunked: bool,
}

impl Request {
    /// Adds a query parameter (percent-encoded at send time).
    pub fn param(mut self, key: &str, value: &str) -> Self {
        self.params.push((key.to_owned(), value.to_owned()));
        self
    }

    /// `db=` (InfluxDB 1.x).
    pub fn db(self, db: &str) -> Self {
        self.param("db", db)
    }

    /// `rp=` (InfluxDB 1.x).
    pub fn rp(self, rp: &str) -> Self {
        self.param("rp", rp)
    }

    /// `precision=`.
    pub fn precision(self, precision: &str) -> Self {
        self.param("precision", precision)
    }

    /// `org=` and `bucket=` (InfluxDB 2.x).
    pub fn bucket(self, org: &str, bucket: &str) -> Self {
        self.param("org", org).param("bucket", bucket)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `Authorization: Token <token>`.
    pub fn token(self, token: &str) -> Self {
        self.header("Authorization", &format!("Token {token}"))
    }

    /// `Authorization: Basic base64(user:password)`.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.basic = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Gzips the body and says so in `Content-Encoding`.
    pub fn gzip(mut self) -> Self {
        self.gzip = true;
        self
    }

    /// Sends the body with chunked transfer encoding (no `Content-Length`).
    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }

    /// The full URL, parameters included.
    pub fn full_url(&self) -> String {
        if self.params.is_empty() {
            return self.url.clone();
        }
        let query: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect();
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}{}", self.url, query.join("&"))
    }

    /// Sends the request; `Err` on a transport error (connection refused, reset, timeout).
    ///
    /// # Errors
    /// Whatever stopped the exchange before a complete response arrived.
    pub fn try_send(self) -> anyhow::Result<Response> {
        let method = reqwest::Method::from_bytes(self.method.as_bytes())?;
        let url = self.full_url();
        let mut builder = self.http.client.request(method, &url);
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        if let Some((user, password)) = &self.basic {
            builder = builder.basic_auth(user, Some(password));
        }
        let body = if self.gzip {
            builder = builder.header("Content-Encoding", "gzip");
            gzip(&self.body)
        } else {
            self.body
        };
        builder = if self.chunked {
            builder.body(reqwest::blocking::Body::new(std::io::Cursor::new(body)))
        } else {
            builder.body(body)
        };
        let response = builder.send()?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response.text()?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    /// Sends the request.
    ///
    /// # Panics
    /// On a transport error, with the URL.
    pub fn send(self) -> Response {
        let what = format!("{} {}", self.method, self.full_url());
        self.try_send()
            .unwrap_or_else(|e| panic!("{what}: no HTTP response: {e:#}"))
    }
}

/// A complete HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased (the last value wins for repeated names).
    pub headers: BTreeMap<String, String>,
    /// The body, lossily decoded.
    pub body: String,
}

impl Response {
    /// A header by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// If the body is not JSON, quoting it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {:?}",
                self.status,
                truncate(&self.body, 300)
            )
        })
    }

    /// `status body` with the body truncated, for assertion messages.
    pub fn describe(&self) -> String {
        format!("{} {:?}", self.status, truncate(&self.body, 300))
    }
}

/// Gzips `data` in memory.
///
/// # Panics
/// Never in practice (writing to a `Vec` does not fail).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .unwrap_or_else(|e| panic!("gzip in memory: {e}"))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_keeps_unreserved_only() {
        assert_eq!(url_encode("a b/c=d&é"), "a%20b%2Fc%3Dd%26%C3%A9");
        assert_eq!(url_encode("Az09-_.~"), "Az09-_.~");
    }

    #[test]
    fn parameters_are_appended() {
        let r = Http::new()
            .request("POST", "http://127.0.0.1:1/write")
            .db("my db")
            .precision("ms");
        assert_eq!(
            r.full_url(),
            "http://127.0.0.1:1/write?db=my%20db&precision=ms"
        );
    }

    #[test]
    fn gzip_has_the_gzip_magic() {
        assert_eq!(gzip(b"m v=1 1\n")[..2], [0x1f, 0x8b]);
    }
}
