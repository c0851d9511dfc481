//! [`TestRedis`]: a real `redis-server` on a free loopback port with its own directory,
//! no RDB snapshots (`--save ""`) but an always-synced append-only file, so a stop and
//! start (an outage) keeps the data. Killed in `Drop`.

use crate::influxd::which;
use crate::ports::free_tcp_port;
use crate::process::Service;
use crate::wait::wait_until;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;
use tempfile::TempDir;

/// How long `redis-server` may take to answer `PING` after a start.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `redis-server`, killed when dropped.
#[derive(Debug)]
pub struct TestRedis {
    /// The process (declared first: killed before the directory goes).
    service: Service,
    /// Its port on 127.0.0.1.
    port: u16,
    /// Its working directory (append-only file, log).
    dir: TempDir,
}

impl TestRedis {
    /// Starts `redis-server` and waits until it answers `PING`.
    ///
    /// # Panics
    /// If it is not installed or does not come up within 10 s (with its log).
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("e2e-redis-")
            .tempdir()
            .unwrap_or_else(|e| panic!("creating a temp dir for redis: {e}"));
        let port = free_tcp_port();
        let program = which("redis-server").unwrap_or_else(|| {
            panic!("redis-server is not installed (Debian: apt-get install redis-server); tests/run.sh installs it")
        });
        let port_arg = port.to_string();
        let dir_arg = dir.path().to_string_lossy().into_owned();
        let args = [
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
            &dir_arg,
        ];
        let service = Service::new(
            &format!("redis:{port}"),
            &program,
            &args,
            dir.path(),
            &dir.path().join("redis.log"),
        );
        let mut redis = TestRedis { service, port, dir };
        redis.launch();
        redis
    }

    fn launch(&mut self) {
        self.service.start();
        let ready = wait_until(START_TIMEOUT, || {
            if let Some(status) = self.service.exited() {
                panic!(
                    "redis-server exited at start-up ({status}):\n{}",
                    self.service.log_tail(40)
                );
            }
            self.ping().then_some(())
        });
        assert!(
            ready.is_some(),
            "redis-server did not answer PING within {START_TIMEOUT:?}"
        );
    }

    /// Whether it answers `PING` now.
    pub fn ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// Stops it with SIGTERM (its data is on disk); [`TestRedis::restart`] brings it back.
    pub fn stop(&mut self) {
        if self.service.is_running() && self.service.terminate(START_TIMEOUT).is_none() {
            self.service.kill9();
        }
    }

    /// Starts it again on the same port and data and waits until it answers `PING`.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Runs `redis-cli -p <port> ARGS` and returns its stdout.
    ///
    /// # Panics
    /// If `redis-cli` cannot run or fails.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .arg("-p")
            .arg(self.port.to_string())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("redis-cli (Debian: redis-tools): {e}"));
        assert!(output.status.success(), "redis-cli {args:?}: {output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// How many times `command` (lower case, `evalsha`) has run, from `INFO commandstats`.
    pub fn calls(&self, command: &str) -> u64 {
        let stats = self.cli(&["INFO", "commandstats"]);
        let prefix = format!("cmdstat_{command}:calls=");
        stats
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// Its directory.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}
