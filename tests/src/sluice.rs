//! [`TestSluice`]: `sluice run -c <config>` as a child process on a free loopback port, in its
//! own temporary directory; write to it, kill -9 it, SIGTERM it, start it again.

use crate::binary::sluice_bin;
use crate::http::{Http, Request, Response};
use crate::metrics::metric_sum;
use crate::ports::free_tcp_port;
use crate::process::Service;
use crate::wait::wait_until;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;
use tempfile::TempDir;

/// How long `sluice` may take to answer `/ping` after a start (it may be recovering a buffer).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a SIGTERM'd `sluice` may take to exit (the contract's bound).
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A configured, not yet started `sluice`.
#[derive(Debug)]
pub struct SluiceBuilder {
    /// Config text with `{port}` / `{dir}` placeholders.
    config: String,
    /// Extra environment for the process.
    env: Vec<(String, String)>,
}

impl SluiceBuilder {
    /// Sets an environment variable for the process (e.g. one the config names as `${VAR}`).
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Starts it and waits until `/ping` answers 204.
    ///
    /// # Panics
    /// If it exits or does not answer within 30 s (with its log).
    pub fn spawn(self) -> TestSluice {
        let mut sluice = self.spawn_unready();
        sluice.wait_ready();
        sluice
    }

    /// Starts it without waiting (for start-ups that are expected to fail).
    ///
    /// # Panics
    /// If the temp dir, config or process cannot be created.
    pub fn spawn_unready(self) -> TestSluice {
        let dir = tempfile::Builder::new()
            .prefix("e2e-sluice-")
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temp dir for sluice: {e}"));
        let port = free_tcp_port();
        let config_path = dir.path().join("sluice.toml");
        let program = sluice_bin();
        let config_arg = config_path.to_string_lossy().into_owned();
        let mut service = Service::new(
            &format!("sluice:{port}"),
            &program,
            &["run", "-c", &config_arg],
            dir.path(),
            &dir.path().join("sluice.log"),
        );
        for (key, value) in &self.env {
            service.set_env(key, value);
        }
        let mut sluice = TestSluice {
            service,
            port,
            config_path,
            http: Http::new(),
            dir,
        };
        sluice.set_config(&self.config);
        sluice.service.start();
        sluice
    }
}

/// A running `sluice`, killed when dropped; its log is printed if the test fails.
#[derive(Debug)]
pub struct TestSluice {
    /// The process (declared first: killed before the directory is removed).
    service: Service,
    /// HTTP port on 127.0.0.1 (`{port}` in the config).
    port: u16,
    /// The config file inside `dir`.
    config_path: PathBuf,
    /// Client for every request the harness makes.
    http: Http,
    /// Config, buffer (by convention `{dir}/buffer`), log.
    dir: TempDir,
}

impl TestSluice {
    /// A `sluice` to run with `config`, a TOML text in which `{port}` becomes its HTTP port and
    /// `{dir}` its temporary directory.
    pub fn with_config(config: impl Into<String>) -> SluiceBuilder {
        SluiceBuilder {
            config: config.into(),
            env: Vec::new(),
        }
    }

    /// A running `sluice` with one InfluxDB 1.x output, `central`, into `influx`: the
    /// set-up most end-to-end tests start from.
    pub fn relaying_to(influx: &crate::TestInflux) -> TestSluice {
        TestSluice::with_config(
            crate::SluiceConfig::new()
                .output_v1("central", &influx.url())
                .toml(),
        )
        .spawn()
    }

    fn wait_ready(&mut self) {
        let ping = format!("{}/ping", self.url());
        let ready = wait_until(START_TIMEOUT, || {
            if let Some(status) = self.service.exited() {
                panic!(
                    "sluice ({}) exited at start-up ({status}):\n{}",
                    sluice_bin().display(),
                    self.service.log_tail(40)
                );
            }
            let response = self.http.request("GET", &ping).try_send().ok()?;
            (response.status == 204).then_some(())
        });
        assert!(
            ready.is_some(),
            "sluice did not answer /ping within {START_TIMEOUT:?}"
        );
    }

    /// Rewrites the config file (placeholders filled in); takes effect at the next start.
    ///
    /// # Panics
    /// If the file cannot be written.
    pub fn set_config(&mut self, config: &str) {
        let text = config
            .replace("{port}", &self.port.to_string())
            .replace("{dir}", &self.dir.path().to_string_lossy());
        std::fs::write(&self.config_path, text)
            .unwrap_or_else(|e| panic!("writing {}: {e}", self.config_path.display()));
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The HTTP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its temporary directory (`{dir}`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The config file.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Its log (stdout and stderr of every start).
    pub fn log(&self) -> String {
        self.service.log()
    }

    /// The log of the latest start only (e.g. what recovery said after a restart).
    pub fn last_run_log(&self) -> String {
        self.service.last_run_log()
    }

    /// A request to `path` (e.g. `"/query"`), without parameters yet.
    pub fn request(&self, method: &str, path: &str) -> Request {
        self.http.request(method, &format!("{}{path}", self.url()))
    }

    /// `POST /query` with `q` (and `db`, when not empty) in a form body, as Telegraf and
    /// the client libraries send it.
    pub fn query_form(&self, q: &str, db: &str) -> Response {
        let mut body = format!("q={}", crate::http::url_encode(q));
        if !db.is_empty() {
            body.push_str(&format!("&db={}", crate::http::url_encode(db)));
        }
        self.request("POST", "/query")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    }

    /// `POST /write?db=<db>` builder (add precision, auth, gzip…).
    pub fn write_with(&self, db: &str) -> Request {
        self.request("POST", "/write").db(db)
    }

    /// `POST /write?db=<db>` with `body`.
    ///
    /// # Panics
    /// On a transport error.
    pub fn write(&self, db: &str, body: &str) -> Response {
        self.write_with(db).body(body).send()
    }

    /// `POST /api/v2/write?org=<org>&bucket=<bucket>` builder.
    pub fn write_v2(&self, org: &str, bucket: &str) -> Request {
        self.request("POST", "/api/v2/write").bucket(org, bucket)
    }

    /// `GET <path>`.
    ///
    /// # Panics
    /// On a transport error.
    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path).send()
    }

    /// `GET /health` as JSON.
    ///
    /// # Panics
    /// If it is not 200 with a JSON body.
    pub fn health(&self) -> Value {
        let response = self.get("/health");
        assert_eq!(response.status, 200, "/health: {}", response.describe());
        response.json()
    }

    /// `GET /metrics` text.
    ///
    /// # Panics
    /// If it is not 200.
    pub fn metrics(&self) -> String {
        let response = self.get("/metrics");
        assert_eq!(response.status, 200, "/metrics: {}", response.describe());
        response.body
    }

    /// The sum of every sample of metric `name` in `/metrics` (all label sets), `None` when
    /// absent.
    pub fn metric(&self, name: &str) -> Option<f64> {
        metric_sum(&self.metrics(), name, &[])
    }

    /// `sluice dlq ARGS… -c <its config>`, run in its directory (stop the gateway first
    /// for `replay`: it holds the buffer's lock).
    ///
    /// # Panics
    /// If the command cannot run or does not finish within 60 s.
    pub fn dlq(&self, args: &[&str]) -> crate::CommandOutput {
        let config = self.config_path().to_string_lossy().into_owned();
        let mut all = vec!["dlq"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-c", &config]);
        crate::run_command(
            &mut crate::sluice_command(&all, self.dir()),
            Duration::from_secs(60),
        )
    }

    /// Rewrites the config file the way editors and deploy tools do: the text goes to a
    /// temporary file beside it, renamed over the config (a running gateway's file watch
    /// sees one change).
    ///
    /// # Panics
    /// If the file cannot be written.
    pub fn replace_config(&self, config: &str) {
        let text = config
            .replace("{port}", &self.port.to_string())
            .replace("{dir}", &self.dir.path().to_string_lossy());
        let tmp = self.config_path.with_extension("toml.new");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &self.config_path))
            .unwrap_or_else(|e| panic!("replacing {}: {e}", self.config_path.display()));
    }

    /// Its resident set size from `/proc` (bytes), if it runs.
    pub fn rss_bytes(&self) -> Option<u64> {
        let pid = self.service.pid()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    }

    /// Sends `SIGHUP` (reload).
    ///
    /// # Panics
    /// If it is not running or `kill` fails.
    pub fn hangup(&self) {
        let pid = self
            .service
            .pid()
            .unwrap_or_else(|| panic!("sluice is not running"));
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap_or_else(|e| panic!("kill -HUP {pid}: {e}"));
        assert!(status.success(), "kill -HUP {pid}: {status}");
    }

    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        self.service.kill9();
    }

    /// SIGTERM and wait for the exit.
    ///
    /// # Panics
    /// If it does not exit within [`STOP_TIMEOUT`] (it is then killed).
    pub fn terminate(&mut self) -> ExitStatus {
        match self.service.terminate(STOP_TIMEOUT) {
            Some(status) => status,
            None => {
                self.service.kill9();
                panic!("sluice did not exit within {STOP_TIMEOUT:?} of SIGTERM");
            }
        }
    }

    /// Waits up to `timeout` for it to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.service.wait_exit(timeout)
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        self.service.is_running()
    }

    /// Starts it again (after [`TestSluice::kill9`] or [`TestSluice::terminate`]) with the same
    /// port, directory and config file, and waits for `/ping`.
    ///
    /// # Panics
    /// If the previous process still runs, or the new one does not come up.
    pub fn restart(&mut self) {
        self.service.start();
        self.wait_ready();
    }
}
