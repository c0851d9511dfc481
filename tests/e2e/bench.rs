//! `sluice bench` and `sluice bench sink`: the load generator's JSON summary agrees with
//! what the sink counted (v1 and v2, gzip or not, paced with `--spread` or not), and a
//! non-loopback target is refused.

use sluice_e2e::process::Service;
use sluice_e2e::{Http, free_tcp_port, run_command, sluice_bin, sluice_command, wait_until};
use std::time::Duration;

/// A `sluice bench sink` on a free port, stopped when dropped.
struct Sink {
    _service: Service,
    url: String,
    _dir: tempfile::TempDir,
}

impl Sink {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let port = free_tcp_port();
        let listen = format!("127.0.0.1:{port}");
        let mut service = Service::new(
            "sink",
            &sluice_bin(),
            &["bench", "sink", "--listen", &listen, "--duration", "120"],
            dir.path(),
            &dir.path().join("sink.log"),
        );
        service.start();
        let url = format!("http://{listen}");
        let http = Http::new();
        let up = wait_until(Duration::from_secs(10), || {
            http.request("GET", &format!("{url}/ping"))
                .try_send()
                .ok()
                .filter(|r| r.status == 204)
        });
        assert!(up.is_some(), "the sink did not answer /ping");
        Self {
            _service: service,
            url,
            _dir: dir,
        }
    }

    fn stats(&self) -> serde_json::Value {
        Http::new().get(&format!("{}/stats", self.url)).json()
    }
}

/// Runs `sluice bench ARGS --json` and returns its last stdout line as JSON.
fn bench(args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.push("--json");
    let output = run_command(
        &mut sluice_command(&all, dir.path()),
        Duration::from_secs(60),
    );
    assert_eq!(output.code, Some(0), "{}", output.describe());
    let last = output.stdout.lines().last().unwrap_or_default();
    assert!(
        output.stdout.contains("ack latency p50 / p90 / p99 / max"),
        "no summary table: {}",
        output.describe()
    );
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {}", output.describe()))
}

#[test]
fn bench_and_sink_agree_on_every_point_in_every_mode() {
    let sink = Sink::start();
    let mut expected = 0;
    for extra in [
        &["--api", "v1"][..],
        &["--api", "v2", "--gzip"][..],
        &[
            "--rate",
            "20000",
            "--spread",
            "--labels",
            "50",
            "--trace-bytes",
            "2000",
        ][..],
    ] {
        let mut args = vec![
            "--url",
            &sink.url,
            "--nodes",
            "4",
            "--duration",
            "2",
            "--batch",
            "500",
        ];
        args.extend_from_slice(extra);
        let report = bench(&args);
        assert_eq!(report["errors"], 0, "{extra:?}: {report}");
        let acked = report["acked"].as_u64().unwrap_or_default();
        assert!(acked > 0, "{extra:?}: {report}");
        for key in ["points_per_s", "p50_ms", "p99_ms"] {
            assert!(report[key].is_number(), "{key}: {report}");
        }
        expected += acked;
        assert_eq!(sink.stats()["points"], expected, "{extra:?}: {report}");
    }
    assert!(sink.stats()["requests"].as_u64() > Some(0));
    assert!(sink.stats()["bytes"].as_u64() > Some(0));
}

#[test]
fn bench_refuses_a_target_that_is_not_loopback() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let output = run_command(
        &mut sluice_command(
            &["bench", "--url", "http://192.0.2.1:8086", "--duration", "1"],
            dir.path(),
        ),
        Duration::from_secs(30),
    );
    assert_eq!(output.code, Some(1), "{}", output.describe());
    assert!(
        output.stderr.contains("not a loopback address"),
        "{}",
        output.describe()
    );
}
