//! [`TestInflux`]: a real InfluxDB 1.x (`influxd`) on free loopback ports with its own data
//! directory; stop and start it again on the same port and data to simulate an outage.

use crate::http::{Http, Response};
use crate::lines::Point;
use crate::ports::free_tcp_port;
use crate::process::Service;
use crate::series::{diff_summary, field_types, points_from_select};
use crate::wait::{LONG, wait_until};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;

/// How long `influxd` may take to answer `/ping` after a start.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a SIGTERM'd `influxd` may take to exit before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `influxd`, killed when dropped.
#[derive(Debug)]
pub struct TestInflux {
    /// The process (declared first: dropped, i.e. killed, before the directory goes).
    service: Service,
    /// HTTP port on 127.0.0.1.
    port: u16,
    /// Client for pings, queries and direct writes.
    http: Http,
    /// Config, meta, data, WAL and log.
    dir: TempDir,
}

impl TestInflux {
    /// Starts `influxd` and waits until `/ping` answers 204.
    ///
    /// # Panics
    /// If `influxd` is not installed or does not come up within 30 s (with its log).
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("e2e-influxd-")
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temp dir for influxd: {e}"));
        let port = free_tcp_port();
        let config = dir.path().join("influxdb.conf");
        let program = which("influxd").unwrap_or_else(|| {
            panic!("influxd is not installed (Debian: apt-get install influxdb); tests/run.sh installs it")
        });
        let config_arg = config.to_string_lossy().into_owned();
        let service = Service::new(
            &format!("influxd:{port}"),
            &program,
            &["-config", &config_arg],
            dir.path(),
            &dir.path().join("influxd.log"),
        );
        let mut influx = TestInflux {
            service,
            port,
            http: Http::new(),
            dir,
        };
        influx.launch();
        influx
    }

    fn launch(&mut self) {
        // A fresh RPC port at every start: the last one may have been taken by another
        // test since this influxd stopped (only the HTTP port must stay the same).
        let config = self.dir.path().join("influxdb.conf");
        std::fs::write(
            &config,
            influxd_config(self.dir.path(), self.port, free_tcp_port()),
        )
        .unwrap_or_else(|e| panic!("writing {}: {e}", config.display()));
        self.service.start();
        let ping = format!("{}/ping", self.url());
        let ready = wait_until(START_TIMEOUT, || {
            if let Some(status) = self.service.exited() {
                panic!(
                    "influxd exited at start-up ({status}):\n{}",
                    self.service.log_tail(40)
                );
            }
            let response = self.http.request("GET", &ping).try_send().ok()?;
            (response.status == 204).then_some(())
        });
        assert!(
            ready.is_some(),
            "influxd did not answer /ping within {START_TIMEOUT:?}"
        );
    }

    /// Stops it with SIGTERM (SIGKILL after 30 s); data and port are kept for
    /// [`TestInflux::restart`].
    pub fn stop(&mut self) {
        if self.service.is_running() && self.service.terminate(STOP_TIMEOUT).is_none() {
            self.service.kill9();
        }
    }

    /// Stops it if it runs, then starts it again on the same port and data and waits until it
    /// answers `/ping`.
    ///
    /// # Panics
    /// If it does not come back within 30 s.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The HTTP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its temporary directory (config, data, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        self.service.log()
    }

    /// `POST /query?q=…&db=…&epoch=ns`; `db` may be empty. Non-200 answers come back as
    /// `{"status": …, "body": …}`, transport errors as `{"error": …}`.
    pub fn query(&self, q: &str, db: &str) -> Value {
        let mut request = self
            .http
            .request("POST", &format!("{}/query", self.url()))
            .param("q", q)
            .param("epoch", "ns");
        if !db.is_empty() {
            request = request.param("db", db);
        }
        match request.try_send() {
            Ok(r) if r.status == 200 => serde_json::from_str(&r.body)
                .unwrap_or_else(|e| serde_json::json!({"error": format!("bad JSON: {e}")})),
            Ok(r) => serde_json::json!({"status": r.status, "body": r.body}),
            Err(e) => serde_json::json!({"error": format!("{e:#}")}),
        }
    }

    /// `CREATE DATABASE "db"`.
    ///
    /// # Panics
    /// If InfluxDB does not answer 200 without an error.
    pub fn create_db(&self, db: &str) {
        let result = self.query(&format!("CREATE DATABASE {}", ident(db)), "");
        assert!(
            result.pointer("/results/0/statement_id").is_some()
                && result.pointer("/results/0/error").is_none(),
            "CREATE DATABASE {db:?}: {result}"
        );
    }

    /// Writes line protocol straight to InfluxDB (`POST /write?db=…`).
    pub fn write(&self, db: &str, body: &str) -> Response {
        self.http
            .request("POST", &format!("{}/write", self.url()))
            .db(db)
            .body(body)
            .send()
    }

    /// `SHOW DATABASES`: the names, none when the query fails.
    pub fn databases(&self) -> Vec<String> {
        let r = self.query("SHOW DATABASES", "");
        r["results"][0]["series"][0]["values"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter_map(|row| row[0].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `SELECT count("field") FROM "measurement"`; 0 when there is none or the query fails.
    pub fn count(&self, db: &str, measurement: &str, field: &str) -> u64 {
        let q = format!("SELECT count({}) FROM {}", ident(field), ident(measurement));
        self.query(&q, db)
            .pointer("/results/0/series/0/values/0/1")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }

    /// Every point of `measurement`, sorted (tags, typed fields, ns time).
    ///
    /// # Errors
    /// A failed query, quoted.
    pub fn try_points(&self, db: &str, measurement: &str) -> Result<Vec<Point>, String> {
        let name = ident(measurement);
        // Points first, field keys after: a write landing between the two queries then
        // adds keys the points do not use, never points whose fields look like tags.
        let select = self.query(&format!("SELECT * FROM {name} GROUP BY *"), db);
        let keys = self.query(&format!("SHOW FIELD KEYS FROM {name}"), db);
        if keys.get("results").is_none() {
            return Err(format!("SHOW FIELD KEYS: {keys}"));
        }
        points_from_select(measurement, &select, &field_types(&keys))
    }

    /// Every point of `measurement`, sorted.
    ///
    /// # Panics
    /// If the query fails.
    pub fn points(&self, db: &str, measurement: &str) -> Vec<Point> {
        self.try_points(db, measurement)
            .unwrap_or_else(|e| panic!("points of {measurement:?} in {db:?}: {e}"))
    }

    /// Waits (up to [`LONG`]) until `measurement` holds exactly `expected`; returns them.
    ///
    /// # Panics
    /// With a diff of stored and expected points when time runs out.
    pub fn expect_points(&self, db: &str, measurement: &str, expected: &[Point]) -> Vec<Point> {
        let found = wait_until(LONG, || {
            let actual = self.try_points(db, measurement).ok()?;
            diff_summary(&actual, expected).is_none().then_some(actual)
        });
        found.unwrap_or_else(|| {
            let actual = self.try_points(db, measurement);
            let diff = match &actual {
                Ok(actual) => diff_summary(actual, expected).unwrap_or_default(),
                Err(e) => e.clone(),
            };
            panic!(
                "{measurement:?} in {db:?} did not get the expected points within {LONG:?}: {diff}"
            )
        })
    }

    /// Like [`TestInflux::expect_points`], but ignores timestamps (of `expected` too): for
    /// points the server timestamps. Returns the stored points, times included.
    ///
    /// # Panics
    /// With a diff when time runs out.
    pub fn expect_points_any_time(
        &self,
        db: &str,
        measurement: &str,
        expected: &[Point],
    ) -> Vec<Point> {
        let timeless =
            |points: &[Point]| -> Vec<Point> { points.iter().cloned().map(|p| p.at(0)).collect() };
        let expected = timeless(expected);
        let found = wait_until(LONG, || {
            let actual = self.try_points(db, measurement).ok()?;
            (actual.len() == expected.len()
                && diff_summary(&timeless(&actual), &expected).is_none())
            .then_some(actual)
        });
        found.unwrap_or_else(|| {
            let actual = self.try_points(db, measurement).unwrap_or_default();
            let diff = diff_summary(&timeless(&actual), &expected).unwrap_or_default();
            panic!("{measurement:?} in {db:?} did not get the expected points (any time) within {LONG:?}: {diff}")
        })
    }

    /// Waits (up to [`LONG`]) until `measurement` holds at least every point of `required`;
    /// returns everything stored then (possibly more, e.g. unacknowledged retries).
    ///
    /// # Panics
    /// Naming what is missing when time runs out.
    pub fn expect_contains(&self, db: &str, measurement: &str, required: &[Point]) -> Vec<Point> {
        let contains = |actual: &Vec<Point>| {
            let have: std::collections::BTreeSet<&Point> = actual.iter().collect();
            required.iter().filter(|p| !have.contains(p)).count()
        };
        let found = wait_until(LONG, || {
            let actual = self.try_points(db, measurement).ok()?;
            (contains(&actual) == 0).then_some(actual)
        });
        found.unwrap_or_else(|| {
            let actual = self.try_points(db, measurement).unwrap_or_default();
            let have: std::collections::BTreeSet<&Point> = actual.iter().collect();
            let missing: Vec<&Point> = required.iter().filter(|p| !have.contains(p)).collect();
            panic!(
                "{measurement:?} in {db:?}: {} of {} required points missing after {LONG:?} ({} stored), e.g. {:#?}",
                missing.len(),
                required.len(),
                actual.len(),
                &missing[..missing.len().min(3)]
            )
        })
    }
}

/// An InfluxQL double-quoted identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

fn influxd_config(dir: &Path, http_port: u16, rpc_port: u16) -> String {
    let d = dir.display();
    format!(
        r#"reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{d}/meta"

[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
  max-row-limit = 0

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false
"#
    )
}

/// The first executable named `program` on `PATH`.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        assert_eq!(ident(r#"a "b" \c"#), r#""a \"b\" \\c""#);
    }
}
