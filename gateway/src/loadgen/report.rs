//! [`BenchReport`]: what a `sluice bench` run measured, as a table for people and one JSON
//! object for scripts. Latencies are kept in an HDR histogram (Gil Tene's
//! HdrHistogram, via the `hdrhistogram` crate), 3 significant digits from 1 µs to 10 min.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Per-node tallies, merged at the end.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Requests sent.
    pub sent: u64,
    /// Points in requests answered 2xx.
    pub points_ok: u64,
    /// Requests answered 2xx.
    pub requests_ok: u64,
    /// Failed requests by status (`0`: no answer: connect error, timeout).
    pub errors: BTreeMap<u16, u64>,
    /// Request latency, microseconds.
    pub latency_us: Histogram<u64>,
}

impl Tally {
    /// An empty tally; latencies from 1 µs to 10 minutes, 3 significant digits.
    ///
    /// Errors: the histogram's, which these constant bounds never meet.
    pub fn new() -> Result<Self, hdrhistogram::CreationError> {
        Ok(Self {
            sent: 0,
            points_ok: 0,
            requests_ok: 0,
            errors: BTreeMap::new(),
            latency_us: Histogram::new_with_bounds(1, 600_000_000, 3)?,
        })
    }

    /// Records one answered (or failed) request.
    pub fn record(&mut self, status: Option<u16>, points: usize, latency: Duration) {
        self.sent += 1;
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.latency_us.saturating_record(micros);
        match status {
            Some(s) if (200..300).contains(&s) => {
                self.requests_ok += 1;
                self.points_ok += points as u64;
            }
            other => *self.errors.entry(other.unwrap_or(0)).or_default() += 1,
        }
    }

    /// Adds `other` into this tally.
    pub fn merge(&mut self, other: &Tally) {
        self.sent += other.sent;
        self.points_ok += other.points_ok;
        self.requests_ok += other.requests_ok;
        for (status, n) in &other.errors {
            *self.errors.entry(*status).or_default() += n;
        }
        // Same bounds on both sides: adding cannot fail.
        let _same_bounds = self.latency_us.add(&other.latency_us);
    }
}

/// What happened.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// Everything the nodes counted.
    pub tally: Tally,
    /// Wall time of the load.
    pub elapsed: Duration,
}

impl BenchReport {
    /// Acknowledged points per second.
    pub fn points_per_second(&self) -> f64 {
        self.tally.points_ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Requests that failed, all statuses together.
    pub fn errors(&self) -> u64 {
        self.tally.errors.values().sum()
    }

    /// Latency at quantile `q`, milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        self.tally.latency_us.value_at_quantile(q) as f64 / 1e3
    }

    /// The summary table.
    pub fn table(&self) -> String {
        let t = &self.tally;
        let errors = if t.errors.is_empty() {
            "none".to_owned()
        } else {
            t.errors
                .iter()
                .map(|(s, n)| {
                    if *s == 0 {
                        format!("{n} × no answer")
                    } else {
                        format!("{n} × {s}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = String::new();
        let rows = [
            ("requests sent", t.sent.to_string()),
            ("requests acknowledged", t.requests_ok.to_string()),
            ("points acknowledged", t.points_ok.to_string()),
            ("errors", errors),
            ("elapsed", format!("{:.2} s", self.elapsed.as_secs_f64())),
            (
                "points/s acknowledged",
                format!("{:.0}", self.points_per_second()),
            ),
            (
                "ack latency p50 / p90 / p99 / max",
                format!(
                    "{:.1} / {:.1} / {:.1} / {:.1} ms",
                    self.latency_ms(0.5),
                    self.latency_ms(0.9),
                    self.latency_ms(0.99),
                    t.latency_us.max() as f64 / 1e3
                ),
            ),
        ];
        for (name, value) in rows {
            let _infallible = writeln!(out, "{name:<34} {value}");
        }
        out
    }

    /// One JSON object: `acked`, `errors`, `points_per_s`, `p50_ms`, `p90_ms`, `p99_ms`,
    /// `max_ms`, `sent`, `requests_ok`, `errors_by_status`, `elapsed_s`.
    pub fn json(&self) -> serde_json::Value {
        let t = &self.tally;
        let by_status: serde_json::Map<String, serde_json::Value> = t
            .errors
            .iter()
            .map(|(s, n)| (s.to_string(), serde_json::Value::from(*n)))
            .collect();
        serde_json::json!({
            "acked": t.points_ok,
            "errors": self.errors(),
            "errors_by_status": by_status,
            "points_per_s": self.points_per_second().round(),
            "p50_ms": self.latency_ms(0.5),
            "p90_ms": self.latency_ms(0.9),
            "p99_ms": self.latency_ms(0.99),
            "max_ms": t.latency_us.max() as f64 / 1e3,
            "sent": t.sent,
            "requests_ok": t.requests_ok,
            "elapsed_s": self.elapsed.as_secs_f64(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_merge_and_report_errors_by_status_and_latency_quantiles() {
        let mut a = Tally::new().unwrap();
        for ms in 1..=100u64 {
            a.record(Some(204), 10, Duration::from_millis(ms));
        }
        let mut b = Tally::new().unwrap();
        b.record(Some(503), 10, Duration::from_millis(5));
        b.record(None, 10, Duration::from_secs(1));
        a.merge(&b);
        let report = BenchReport {
            tally: a,
            elapsed: Duration::from_secs(2),
        };
        let json = report.json();
        assert_eq!(json["acked"], 1000);
        assert_eq!(json["errors"], 2);
        assert_eq!(json["errors_by_status"]["503"], 1);
        assert_eq!(json["points_per_s"], 500.0);
        let p50 = json["p50_ms"].as_f64().unwrap_or_default();
        assert!((49.0..=52.0).contains(&p50), "{p50}");
        assert!(report.table().contains("1 × no answer, 1 × 503"));
    }
}
