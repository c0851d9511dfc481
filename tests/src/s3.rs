//! [`TestS3`]: a real S3-compatible server, PyPI's `moto[server]` (`python3 -m
//! moto.server`), on a free loopback port, spoken to over plain HTTP. moto keeps its
//! objects in memory, so an outage is simulated by pausing the process (`SIGSTOP`): calls
//! hang as on a dead host, and `SIGCONT` brings it back with every object. Killed in
//! `Drop`.
//!
//! moto takes unsigned requests to create and list buckets, so the harness does those
//! with a plain HTTP client (path-style URLs: `http://127.0.0.1:<port>/<bucket>/<key>`);
//! objects are read back with boto3 (installed with moto), an independent S3 client.

use crate::influxd::which;
use crate::ports::free_tcp_port;
use crate::process::Service;
use crate::wait::wait_until;
use std::process::Command;
use std::time::Duration;
use tempfile::TempDir;

/// How long moto may take to answer after a start (it imports a lot of Python).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running moto S3 server, killed when dropped.
#[derive(Debug)]
pub struct TestS3 {
    /// The process (declared first: killed before the directory goes).
    service: Service,
    /// Its port on 127.0.0.1.
    port: u16,
    /// Harness HTTP client.
    http: reqwest::blocking::Client,
    /// Its working directory (log).
    _dir: TempDir,
}

impl TestS3 {
    /// Starts moto and waits until it answers.
    ///
    /// # Panics
    /// If `python3` or moto is missing (`tests/run.sh` installs it) or it does not answer
    /// within 30 s (with its log).
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("e2e-s3-")
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temp dir for moto: {e}"));
        let python = which("python3").unwrap_or_else(|| panic!("python3 is not installed"));
        let has_moto = Command::new(&python)
            .args(["-c", "import moto.server"])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            has_moto,
            "moto is not installed (pip install 'moto[server]'); tests/run.sh installs it"
        );
        let port = free_tcp_port();
        let port_arg = port.to_string();
        let args = ["-m", "moto.server", "-H", "127.0.0.1", "-p", &port_arg];
        let mut service = Service::new(
            &format!("moto:{port}"),
            &python,
            &args,
            dir.path(),
            &dir.path().join("moto.log"),
        );
        service.start();
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|e| panic!("http client: {e}"));
        let s3 = TestS3 {
            service,
            port,
            http,
            _dir: dir,
        };
        let ready = wait_until(START_TIMEOUT, || {
            s3.http
                .get(s3.url())
                .send()
                .ok()
                .filter(|r| r.status().is_success())
                .map(|_| ())
        });
        assert!(
            ready.is_some(),
            "moto did not answer within {START_TIMEOUT:?}:\n{}",
            s3.service.log_tail(40)
        );
        s3
    }

    /// `http://127.0.0.1:<port>`, the endpoint for `[blob]`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates `bucket`.
    ///
    /// # Panics
    /// If moto refuses.
    pub fn create_bucket(&self, bucket: &str) {
        let response = self
            .http
            .put(format!("{}/{bucket}", self.url()))
            .body("")
            .send()
            .unwrap_or_else(|e| panic!("creating bucket {bucket}: {e}"));
        assert!(
            response.status().is_success(),
            "creating bucket {bucket}: {}",
            response.status()
        );
    }

    /// The keys in `bucket` (up to 1,000), or why not.
    pub fn try_keys(&self, bucket: &str) -> Result<Vec<String>, String> {
        let response = self
            .http
            .get(format!("{}/{bucket}?list-type=2", self.url()))
            .send()
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.text().map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status}: {body}"));
        }
        Ok(body
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
            .collect())
    }

    /// The object at `url` (an object URL as the blob store returns it, path-style on
    /// this server), or why not.
    pub fn try_get_url(&self, url: &str) -> Result<Vec<u8>, String> {
        let path = url
            .strip_prefix(&format!("{}/", self.url()))
            .ok_or_else(|| format!("{url} is not on {}", self.url()))?;
        let (bucket, key) = path
            .split_once('/')
            .ok_or_else(|| format!("{url} names no key"))?;
        self.try_get(bucket, key)
    }

    /// The object `key` of `bucket` as an AWS SDK reads it (boto3, signed: moto refuses
    /// anonymous reads of private objects), or why not.
    pub fn try_get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
        let script = "import sys, boto3\n\
            s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
                              aws_access_key_id='e2e', aws_secret_access_key='e2e-secret')\n\
            sys.stdout.buffer.write(s3.get_object(Bucket=sys.argv[2], Key=sys.argv[3])['Body'].read())\n";
        let output = Command::new("python3")
            .args(["-c", script, &self.url(), bucket, key])
            .output()
            .map_err(|e| format!("python3: {e}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        Ok(output.stdout)
    }

    /// Freezes the server (`SIGSTOP`): connections are accepted by the kernel, nothing
    /// answers — a hung host. [`TestS3::resume`] thaws it.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Thaws a paused server (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self
            .service
            .pid()
            .unwrap_or_else(|| panic!("moto is not running"));
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap_or_else(|e| panic!("kill {signal} {pid}: {e}"));
        assert!(status.success(), "kill {signal} {pid}: {status}");
    }
}
