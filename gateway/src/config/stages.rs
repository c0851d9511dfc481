//! `[edge]` and `[merge]`: the optional stage between the plugin chain and the buffer
//! (DESIGN §1, §3). `[edge]` aggregates points into windowed sketches on a load
//! generator; `[merge]` merges those sketches on a relay into cross-node percentiles.

use super::ConfigError;
use super::env;
use serde::Deserialize;
use std::time::Duration;

/// `[edge]`: aggregate each window of points per series into count, sum, min, max, mean,
/// the configured percentiles and a mergeable sketch, instead of forwarding the raw points.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EdgeConfig {
    /// Length of a window; windows start at multiples of it since the Unix epoch (by
    /// point timestamp), so every node's windows line up.
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// Quantiles (0 < q < 1) written as `<field>_pNN` fields, e.g. `0.99` → `ms_p99`.
    pub quantiles: Vec<f64>,
    /// Fields to aggregate; empty means every numeric (float or integer) field.
    #[serde(deserialize_with = "env::expand_list")]
    pub fields: Vec<String>,
    /// Tags removed before grouping points into series (e.g. `["node"]`).
    #[serde(deserialize_with = "env::expand_list")]
    pub drop_tags: Vec<String>,
    /// Relative accuracy of the sketches (0 < a < 1): every quantile is within this
    /// fraction of the exact value.
    pub accuracy: f64,
    /// How long after its end (by the wall clock) a window stays open for points that
    /// arrive late; a point for a window closed longer ago is dropped and counted.
    #[serde(with = "humantime_serde")]
    pub allowed_lateness: Duration,
    /// Most series in one window; further series' points are dropped and counted in
    /// `sluice_edge_points_dropped_total{reason="max_series"}`.
    pub max_series: usize,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15),
            quantiles: vec![0.5, 0.9, 0.95, 0.99],
            fields: Vec::new(),
            drop_tags: Vec::new(),
            accuracy: 0.01,
            allowed_lateness: Duration::from_secs(2),
            max_series: 1000,
        }
    }
}

/// `[merge]`: on a relay, merge the sketch points edges send, per window and per series
/// without `drop_tags`, and write cross-node count, sum, min, max, mean and percentiles
/// when the window closes. Other points pass through untouched.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MergeConfig {
    /// Tags removed before grouping, so that every node's sketch of a series merges
    /// into one (`["node"]` by default; an edge that already dropped them is unaffected).
    #[serde(deserialize_with = "env::expand_list")]
    pub drop_tags: Vec<String>,
    /// Quantiles to write; empty means the ones the edges wrote (their `_pNN` fields).
    pub quantiles: Vec<f64>,
    /// How long after a window's end (or after its first sketch arrived, when that is
    /// later) the relay waits for more nodes' sketches before writing the merged point.
    #[serde(with = "humantime_serde")]
    pub lateness: Duration,
    /// How long a written window's merged sketches are kept after it closed: a sketch
    /// that arrives meanwhile is merged in and the point written again (same timestamp,
    /// so the store overwrites it); one that arrives later is dropped and counted.
    #[serde(with = "humantime_serde")]
    pub keep: Duration,
    /// Most series held at once, a series counted once per window it is held for:
    /// written windows are then forgotten before `keep` is over, and sketches that would
    /// open a window beyond it are dropped and counted. Each holds one sketch per field,
    /// a few KiB at 1% accuracy.
    pub max_series: usize,
    /// Also write the merged sketch (`<field>_sketch`) so another relay can merge again.
    pub emit_sketches: bool,
    /// Longer windows (`"1m"`, `"1h"`) every sketch is also merged into, written as
    /// points of their own (`sluice_window=1m`); best a multiple of the edges' window.
    #[serde(deserialize_with = "env::expand_list")]
    pub rollups: Vec<String>,
    /// Directory of the merge journal, the windows on disk so that a restart or a crash
    /// loses none (default `merge` beside the buffer dir).
    #[serde(deserialize_with = "env::expand_opt_path")]
    pub dir: Option<std::path::PathBuf>,
}

impl Default for MergeConfig {
    fn default() -> Self {
        Self {
            drop_tags: vec!["node".to_owned()],
            quantiles: Vec::new(),
            lateness: Duration::from_secs(5),
            keep: Duration::from_secs(60),
            max_series: 100_000,
            emit_sketches: false,
            rollups: Vec::new(),
            dir: None,
        }
    }
}

/// Quantiles are strictly between 0 and 1, finite, and named distinctly.
fn validate_quantiles(section: &str, quantiles: &[f64]) -> Result<(), ConfigError> {
    for &q in quantiles {
        if !(q > 0.0 && q < 1.0) {
            return Err(ConfigError::Invalid(format!(
                "{section}: quantile {q} must be between 0 and 1 (exclusive)"
            )));
        }
    }
    Ok(())
}

impl EdgeConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.window < Duration::from_millis(1) {
            return Err(ConfigError::Invalid(
                "edge: window must be at least 1ms".to_owned(),
            ));
        }
        if self.window > Duration::from_secs(24 * 3600) {
            return Err(ConfigError::Invalid(
                "edge: window must be at most 24h".to_owned(),
            ));
        }
        validate_quantiles("edge", &self.quantiles)?;
        if !(self.accuracy > 0.0 && self.accuracy < 0.5) {
            return Err(ConfigError::Invalid(format!(
                "edge: accuracy {} must be more than 0 and less than 0.5 (0.01 is 1%)",
                self.accuracy
            )));
        }
        if self.max_series == 0 {
            return Err(ConfigError::Invalid(
                "edge: max_series must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }
}

impl MergeConfig {
    /// The lengths of `rollups` (those that parse; [`Config::parse`](super::Config::parse)
    /// refuses a config with one that does not).
    pub fn rollup_lengths(&self) -> Vec<Duration> {
        self.rollups
            .iter()
            .filter_map(|r| humantime::parse_duration(r).ok())
            .collect()
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        validate_quantiles("merge", &self.quantiles)?;
        let mut seen = Vec::new();
        for rollup in &self.rollups {
            match humantime::parse_duration(rollup) {
                Ok(d) if d >= Duration::from_millis(1) => {
                    // Each sketch is merged into every roll-up: a length twice over would
                    // count it twice.
                    if seen.contains(&d) {
                        return Err(ConfigError::Invalid(format!(
                            "merge: rollup {rollup:?} is listed twice (as a length)"
                        )));
                    }
                    seen.push(d);
                }
                _ => {
                    return Err(ConfigError::Invalid(format!(
                        "merge: rollup {rollup:?} must be a duration of at least 1ms, e.g. \"1m\""
                    )));
                }
            }
        }
        if self.max_series == 0 {
            return Err(ConfigError::Invalid(
                "merge: max_series must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{BufferKind, Config};

    #[test]
    fn edge_mode_buffers_in_memory_unless_told() {
        let edge = Config::parse("[edge]\n").unwrap();
        assert_eq!(edge.buffer.kind, BufferKind::Memory);
        let e = edge.edge.unwrap();
        assert_eq!(e.window, std::time::Duration::from_secs(15));
        assert_eq!(e.quantiles, [0.5, 0.9, 0.95, 0.99]);
        assert_eq!(e.accuracy, 0.01);
        let disk = Config::parse("[edge]\n[buffer]\nkind = \"disk\"\n").unwrap();
        assert_eq!(disk.buffer.kind, BufferKind::Disk);
        assert_eq!(Config::parse("").unwrap().buffer.kind, BufferKind::Disk);
        let relay = Config::parse("[merge]\n").unwrap();
        assert_eq!(relay.merge.unwrap().drop_tags, ["node"]);
    }

    #[test]
    fn bad_edge_and_merge_keys_are_refused_with_the_key() {
        for (text, needle) in [
            ("[edge]\nwindw = \"2s\"\n", "windw"),
            ("[edge]\nquantiles = [1.5]\n", "quantile 1.5"),
            ("[edge]\naccuracy = 0\n", "accuracy"),
            ("[edge]\nwindow = \"0s\"\n", "window"),
            ("[edge]\nmax_series = 0\n", "max_series"),
            ("[merge]\nlatenes = \"1s\"\n", "latenes"),
            ("[merge]\nquantiles = [0]\n", "quantile 0"),
        ] {
            let err = Config::parse(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
