//! [`Sketch`]: a mergeable quantile sketch with a relative-accuracy guarantee.
//!
//! It is DDSketch (Charles Masson, Jee E. Rim, Homin K. Lee, "DDSketch: A Fast and
//! Fully-Mergeable Quantile Sketch with Relative-Error Guarantees", VLDB 2019), from the
//! `sketches-ddsketch` crate: values are counted in logarithmic buckets of ratio
//! `γ = (1 + a) / (1 − a)`, so any quantile it answers is within relative accuracy `a` of
//! the exact value of that rank, and merging two sketches (adding bucket counts) gives
//! exactly the sketch of the union — merged percentiles are as accurate as a single
//! node's. Count, sum, min and max are kept exactly.
//!
//! The bound holds while a sketch has at most 2,048 buckets per sign; at 1% accuracy
//! that spans a ratio of about 10^17 between the smallest and the largest value, far
//! beyond any latency. Magnitudes below 10^-9 count as zero.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sketches_ddsketch::{Config, DDSketch};

/// Buckets per sign (the crate's default, which its decoder assumes).
const MAX_BINS: u32 = 2048;
/// Smallest magnitude kept apart from zero (the crate's default, which its decoder
/// assumes).
const MIN_VALUE: f64 = 1.0e-9;
/// Longest encoded sketch accepted (base64 text); a sketch with every bucket of both
/// signs used encodes to about 40 KiB.
pub const MAX_ENCODED: usize = 64 * 1024;

/// Why a sketch could not be decoded or merged.
#[derive(Debug, thiserror::Error)]
pub enum SketchError {
    /// The text is not base64 of a DDSketch, or is longer than [`MAX_ENCODED`].
    #[error("invalid sketch ({len} bytes of text): {reason}")]
    Invalid {
        /// Length of the text.
        len: usize,
        /// What was wrong.
        reason: String,
    },
    /// The sketches were made with different relative accuracies.
    #[error("cannot merge sketches of different relative accuracy")]
    Mismatch,
}

/// A DDSketch of the values of one field of one series in one window.
#[derive(Clone)]
pub struct Sketch {
    inner: DDSketch,
}

impl std::fmt::Debug for Sketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sketch")
            .field("count", &self.count())
            .field("min", &self.min())
            .field("max", &self.max())
            .finish_non_exhaustive()
    }
}

impl Sketch {
    /// An empty sketch of relative accuracy `accuracy` (e.g. `0.01` for 1%; validated by
    /// the config to be in `(0, 0.5)`).
    pub fn new(accuracy: f64) -> Self {
        Self {
            inner: DDSketch::new(Config::new(accuracy, MAX_BINS, MIN_VALUE)),
        }
    }

    /// Adds one value; NaN and infinities are ignored (line protocol cannot carry them).
    pub fn add(&mut self, value: f64) {
        if value.is_finite() {
            self.inner.add(value);
        }
    }

    /// Adds `other`'s values to this sketch.
    ///
    /// Errors: [`SketchError::Mismatch`] when the two were made with different
    /// accuracies, [`SketchError::Invalid`] when `other`'s buckets cannot be merged (this
    /// sketch is then unchanged).
    pub fn merge(&mut self, other: &Sketch) -> Result<(), SketchError> {
        // A decoded sketch whose buckets are far apart can make the crate's store index
        // out of bounds (see `decode`); keep this sketch as it was rather than panic.
        let before = self.inner.clone();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.inner.merge(&other.inner)
        })) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(SketchError::Mismatch),
            Err(_) => {
                self.inner = before;
                Err(SketchError::Invalid {
                    len: 0,
                    reason: "buckets out of range".to_owned(),
                })
            }
        }
    }

    /// Number of values added.
    pub fn count(&self) -> u64 {
        self.inner.count() as u64
    }

    /// Exact sum of the values (`None` when empty).
    pub fn sum(&self) -> Option<f64> {
        self.inner.sum()
    }

    /// Exact smallest value (`None` when empty).
    pub fn min(&self) -> Option<f64> {
        self.inner.min()
    }

    /// Exact largest value (`None` when empty).
    pub fn max(&self) -> Option<f64> {
        self.inner.max()
    }

    /// Arithmetic mean (`None` when empty).
    pub fn mean(&self) -> Option<f64> {
        let n = self.count();
        self.sum().filter(|_| n > 0).map(|s| s / n as f64)
    }

    /// The nearest-rank `q`-quantile (`0 < q < 1`), as InfluxQL's `PERCENTILE` and the
    /// usual load-test reports define it: the value of rank `ceil(q·n)` (1-based) among
    /// the `n` values, within the relative accuracy of the exact one and never outside
    /// `[min, max]`. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        let (min, max) = (self.min()?, self.max()?);
        if n <= 1 {
            return Some(min);
        }
        // The crate answers rank floor(q' · (n − 1)) (0-based); ask for the nearest-rank
        // one, half a rank up so that rounding cannot land one below it.
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n) - 1;
        if rank >= n - 1 {
            return Some(max);
        }
        let q_crate = ((rank as f64 + 0.5) / (n - 1) as f64).min(1.0);
        let v = self.inner.quantile(q_crate).ok().flatten()?;
        Some(v.clamp(min, max))
    }

    /// The sketch as text for a line-protocol string field: base64 (standard alphabet)
    /// of DataDog's DDSketch binary encoding (that of sketches-java's
    /// `DDSketchWithExactSummaryStatistics`: exact count, min, max, sum, the index
    /// mapping's γ, and the buckets).
    pub fn encode(&self) -> String {
        STANDARD.encode(self.inner.to_java_bytes())
    }

    /// Reads what [`Sketch::encode`] wrote.
    ///
    /// Errors: [`SketchError::Invalid`] for text that is too long, not base64, not a
    /// DDSketch, or empty of values.
    pub fn decode(text: &[u8]) -> Result<Self, SketchError> {
        let invalid = |reason: String| SketchError::Invalid {
            len: text.len(),
            reason,
        };
        if text.len() > MAX_ENCODED {
            return Err(invalid(format!("longer than {MAX_ENCODED} bytes")));
        }
        let bytes = STANDARD
            .decode(text)
            .map_err(|e| invalid(format!("not base64: {e}")))?;
        // The crate's decoder trusts bucket indexes; a forged sketch must be an error
        // here, never a panic in the task that serves the write.
        let decoded = std::panic::catch_unwind(|| DDSketch::from_java_bytes(&bytes))
            .map_err(|_| invalid("malformed buckets".to_owned()))?
            .map_err(|e| invalid(e.to_string()))?;
        let sketch = Self { inner: decoded };
        match (sketch.count(), sketch.min(), sketch.max()) {
            (n, Some(min), Some(max))
                if n > 0 && min.is_finite() && max.is_finite() && min <= max =>
            {
                Ok(sketch)
            }
            _ => Err(invalid("no values, or min and max missing".to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact nearest-rank quantile of sorted values.
    fn exact(sorted: &[f64], q: f64) -> f64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    /// A deterministic log-normal-ish sample (xorshift + Box-Muller).
    fn sample(n: usize, mu: f64, sigma: f64, seed: u64) -> Vec<f64> {
        let mut s = seed.max(1);
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let (u1, u2) = (next().max(1e-12), next());
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                (mu + sigma * z).exp()
            })
            .collect()
    }

    #[test]
    fn quantiles_are_within_the_relative_accuracy() {
        let values = sample(20_000, 3.5, 0.8, 42);
        let mut sketch = Sketch::new(0.01);
        values.iter().for_each(|&v| sketch.add(v));
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        for q in [0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999] {
            let (got, want) = (sketch.quantile(q).unwrap(), exact(&sorted, q));
            assert!((got - want).abs() / want <= 0.01, "q={q}: {got} vs {want}");
        }
        assert_eq!(sketch.count(), 20_000);
        assert_eq!(sketch.min(), Some(sorted[0]));
        assert_eq!(sketch.max(), Some(sorted[19_999]));
    }

    #[test]
    fn merging_sketches_gives_the_quantiles_of_the_union() {
        let parts: Vec<Vec<f64>> = (0..5)
            .map(|i| sample(3000, 2.5 + i as f64 * 0.4, 0.3 + i as f64 * 0.1, 7 + i))
            .collect();
        let mut merged = Sketch::new(0.01);
        for part in &parts {
            let mut s = Sketch::new(0.01);
            part.iter().for_each(|&v| s.add(v));
            // Through the wire, as a relay sees it.
            let s = Sketch::decode(s.encode().as_bytes()).unwrap();
            merged.merge(&s).unwrap();
        }
        let mut all: Vec<f64> = parts.concat();
        all.sort_by(f64::total_cmp);
        assert_eq!(merged.count(), all.len() as u64);
        for q in [0.5, 0.9, 0.95, 0.99] {
            let (got, want) = (merged.quantile(q).unwrap(), exact(&all, q));
            assert!((got - want).abs() / want <= 0.01, "q={q}: {got} vs {want}");
        }
        let sum: f64 = all.iter().sum();
        assert!((merged.sum().unwrap() - sum).abs() / sum < 1e-9);
    }

    #[test]
    fn encode_decode_round_trip_keeps_everything() {
        let mut s = Sketch::new(0.02);
        for v in [-3.5, 0.0, 1.0, 2.0, 250.0, 1e6] {
            s.add(v);
        }
        let back = Sketch::decode(s.encode().as_bytes()).unwrap();
        assert_eq!(back.count(), 6);
        assert_eq!((back.min(), back.max()), (Some(-3.5), Some(1e6)));
        assert_eq!(back.sum(), s.sum());
        for q in [0.2, 0.5, 0.8] {
            assert_eq!(back.quantile(q), s.quantile(q));
        }
        // A decoded sketch merges with another decoded one of the same accuracy only.
        let mut other = Sketch::new(0.01);
        other.add(1.0);
        let mut back2 = back.clone();
        assert!(matches!(
            back2.merge(&Sketch::decode(other.encode().as_bytes()).unwrap()),
            Err(SketchError::Mismatch)
        ));
        assert!(back2.merge(&back).is_ok());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let long = "A".repeat(MAX_ENCODED + 4);
        for junk in [
            "",
            "!!!",
            "AAAA",
            "////////////",
            "oP8=",
            "AgAAAAAAAAAAAA==",
            long.as_str(),
        ] {
            assert!(Sketch::decode(junk.as_bytes()).is_err(), "{junk:.20}");
        }
        // Forged bucket indexes far apart.
        let mut forged = vec![0xA0, 0x02, 0x02];
        forged.extend_from_slice(&1.02f64.to_le_bytes());
        forged.extend_from_slice(&0f64.to_le_bytes());
        forged.extend_from_slice(&[
            0x05, 0x02, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 0x02, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 0x02,
        ]);
        // (sketches-ddsketch 0.4.2 indexes out of bounds on it: caught, an error.)
        assert!(Sketch::decode(STANDARD.encode(&forged).as_bytes()).is_err());
    }

    #[test]
    fn single_values_and_ties() {
        let mut s = Sketch::new(0.01);
        s.add(42.0);
        assert_eq!(s.quantile(0.5), Some(42.0));
        assert_eq!(s.quantile(0.99), Some(42.0));
        let mut t = Sketch::new(0.01);
        (0..100).for_each(|_| t.add(7.0));
        assert!((t.quantile(0.9).unwrap() - 7.0).abs() <= 0.07);
        assert!(Sketch::new(0.01).quantile(0.5).is_none());
    }
}
