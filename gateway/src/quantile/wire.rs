//! The sketch point: how an edge sends one series' window to a relay, and how a relay
//! writes the merged result.
//!
//! ```text
//! lat,label=checkout,node=n1,sluice_window=2s ms_count=3000i,ms_sum=…,ms_min=…,ms_max=…,ms_mean=…,ms_p50=…,ms_p90=…,ms_p99=…,ms_sketch="<base64>" 1700000000000000000
//! ```
//!
//! * The measurement and tags are the series' (tags in sorted order); the tag
//!   `sluice_window` holds the window length (`2s`, `15s`, `1m`, …) and marks the point
//!   as a window summary. The timestamp is the window's start.
//! * Per aggregated field `F`: `F_count` (integer), `F_sum`, `F_min`, `F_max`, `F_mean`,
//!   one `F_pNN` per quantile (`0.99` → `p99`, `0.999` → `p99.9`), and — on an edge, or a
//!   relay with `emit_sketches` — `F_sketch`, the DDSketch as base64 text (see
//!   [`Sketch::encode`]). The sketch alone carries everything a merge needs; the other
//!   fields make the point readable by itself when it lands in a store.
//! * A relay's `[merge]` takes a point with a `sluice_window` tag and at least one
//!   `F_sketch` string field as a sketch point; the quantiles it writes are the `pNN`
//!   suffixes it saw, unless `[merge] quantiles` names them.

use super::Sketch;
use super::window::{Window, format_len, parse_len};
use sluice_lineproto::{FieldValue, LineWriter, Point};
use std::borrow::Cow;

/// The tag that marks a sketch point and holds its window length.
pub const WINDOW_TAG: &str = "sluice_window";
/// The suffix of the field that holds a sketch.
pub const SKETCH_SUFFIX: &str = "_sketch";

/// A quantile and the name of the fields it is written as (`0.99` → `p99`).
#[derive(Debug, Clone, PartialEq)]
pub struct Quantile {
    /// The quantile, `0 < q < 1`.
    pub q: f64,
    /// `p` and the percentage without trailing zeros: `p50`, `p99.9`.
    pub name: String,
}

impl Quantile {
    /// The quantile `q` (`0 < q < 1`).
    pub fn new(q: f64) -> Self {
        let pct = format!("{:.4}", q * 100.0);
        let pct = pct.trim_end_matches('0').trim_end_matches('.');
        Self {
            q,
            name: format!("p{pct}"),
        }
    }

    /// The quantile a field-name suffix such as `p99` or `p99.9` names.
    pub fn from_name(name: &str) -> Option<Self> {
        let pct: f64 = name.strip_prefix('p')?.parse().ok()?;
        let q = pct / 100.0;
        (q > 0.0 && q < 1.0 && name[1..].bytes().all(|b| b.is_ascii_digit() || b == b'.'))
            .then(|| Self::new(q))
    }

    /// The quantiles of a config list, in order, without repeats.
    pub fn list(qs: &[f64]) -> Vec<Self> {
        let mut out: Vec<Self> = Vec::with_capacity(qs.len());
        for &q in qs {
            let quantile = Self::new(q);
            if !out.iter().any(|o| o.name == quantile.name) {
                out.push(quantile);
            }
        }
        out
    }
}

/// A series: measurement and tags as escaped line-protocol text, tags sorted by key
/// (`lat,label=checkout,node=n1`), so that points whose tags were written in another
/// order are the same series, as in InfluxDB.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SeriesKey {
    /// `measurement[,k=v…]`, escaped.
    text: Vec<u8>,
    /// Where the measurement ends in `text`.
    measurement_len: usize,
}

impl SeriesKey {
    /// The series of `point` without the tags `drop` names and without
    /// [`WINDOW_TAG`].
    pub fn of(point: &Point<'_>, drop: &[String]) -> Self {
        let measurement = point.measurement().as_raw();
        let mut tags: Vec<(&[u8], &[u8])> = point
            .tags()
            .filter(|(k, _)| {
                !k.eq_bytes(WINDOW_TAG.as_bytes()) && !drop.iter().any(|d| k.eq_bytes(d.as_bytes()))
            })
            .map(|(k, v)| (k.as_raw(), v.as_raw()))
            .collect();
        tags.sort_unstable();
        let mut text = Vec::with_capacity(point.key_raw().len());
        text.extend_from_slice(measurement);
        for (k, v) in tags {
            text.push(b',');
            text.extend_from_slice(k);
            text.push(b'=');
            text.extend_from_slice(v);
        }
        Self {
            text,
            measurement_len: measurement.len(),
        }
    }

    /// The escaped measurement.
    pub fn measurement(&self) -> &[u8] {
        &self.text[..self.measurement_len]
    }

    /// The escaped, sorted tags (`k=v,k2=v2`; empty when none).
    pub fn tags(&self) -> &[u8] {
        self.text
            .get(self.measurement_len + 1..)
            .unwrap_or_default()
    }

    /// Bytes held, for memory accounting.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether the key is empty (never, for a key of a point).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// Writes one series' window summary as a sketch point (see the [module](self)):
/// for each `(field, sketch)`, count, sum, min, max, mean, the `quantiles`, and the sketch
/// itself when `with_sketch`. Fields of empty sketches are left out; nothing is written
/// when all are empty. Returns whether a point was written.
pub fn write_summary<'a>(
    out: &mut LineWriter,
    series: &SeriesKey,
    window: Window,
    fields: impl IntoIterator<Item = (&'a str, &'a Sketch)>,
    quantiles: &[Quantile],
    with_sketch: bool,
) -> bool {
    let mut p = out.point_raw(series.measurement());
    p.tags_raw(series.tags());
    p.tag(WINDOW_TAG, &format_len(window.len));
    let mut any = false;
    let key = |base: &str, suffix: &str| format!("{base}_{suffix}");
    for (field, sketch) in fields {
        let (Some(sum), Some(min), Some(max), Some(mean)) =
            (sketch.sum(), sketch.min(), sketch.max(), sketch.mean())
        else {
            continue;
        };
        any = true;
        p.field_i64(
            &key(field, "count"),
            i64::try_from(sketch.count()).unwrap_or(i64::MAX),
        );
        p.field_f64(&key(field, "sum"), sum);
        p.field_f64(&key(field, "min"), min);
        p.field_f64(&key(field, "max"), max);
        p.field_f64(&key(field, "mean"), mean);
        for quantile in quantiles {
            if let Some(v) = sketch.quantile(quantile.q) {
                p.field_f64(&key(field, &quantile.name), v);
            }
        }
        if with_sketch {
            p.field_str(&key(field, "sketch"), &sketch.encode());
        }
    }
    if !any {
        return false;
    }
    // A summary of finite values under names taken from a canonical batch cannot be
    // refused; if it were, the point is left out rather than half written.
    p.finish(window.start).is_ok()
}

/// The sketches of a sketch point, as [`sketches_of`] finds them.
#[derive(Debug)]
pub struct SketchPoint<'a> {
    /// Length of the point's window, nanoseconds.
    pub window_len: i64,
    /// `(field, encoded sketch)` per `F_sketch` field.
    pub sketches: Vec<(String, Cow<'a, [u8]>)>,
    /// The quantiles the sender wrote (`F_pNN` fields), in order of appearance.
    pub quantiles: Vec<Quantile>,
}

/// The sketches `point` carries, or `None` when it is not a sketch point (no valid
/// [`WINDOW_TAG`], or no `F_sketch` string field).
pub fn sketches_of<'a>(point: &Point<'a>) -> Option<SketchPoint<'a>> {
    let window_len = parse_len(&point.tag(WINDOW_TAG)?.to_string_lossy())?;
    let mut sketches = Vec::new();
    for field in point.fields() {
        let key = field.key().to_string_lossy();
        if let (Some(base), Some(FieldValue::String(text))) =
            (key.strip_suffix(SKETCH_SUFFIX), field.value())
            && !base.is_empty()
        {
            sketches.push((base.to_owned(), text.unescape()));
        }
    }
    if sketches.is_empty() {
        return None;
    }
    let mut quantiles: Vec<Quantile> = Vec::new();
    for field in point.fields() {
        let key = field.key().to_string_lossy();
        let found = sketches.iter().find_map(|(base, _)| {
            key.strip_prefix(base.as_str())
                .and_then(|rest| rest.strip_prefix('_'))
                .and_then(Quantile::from_name)
        });
        if let Some(q) = found
            && !quantiles.iter().any(|o| o.name == q.name)
        {
            quantiles.push(q);
        }
    }
    Some(SketchPoint {
        window_len,
        sketches,
        quantiles,
    })
}

/// The summaries written per destination as one batch each, empty writers left out.
pub fn into_batches(
    writers: std::collections::HashMap<crate::batch::Context, LineWriter>,
) -> Vec<crate::batch::Batch> {
    writers
        .into_iter()
        .filter(|(_, w)| w.points() > 0)
        .map(|(context, w)| crate::batch::Batch::from_lines(context, w.as_bytes(), w.points()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_lineproto::points;

    #[test]
    fn quantile_names() {
        for (q, name) in [
            (0.5, "p50"),
            (0.9, "p90"),
            (0.95, "p95"),
            (0.99, "p99"),
            (0.999, "p99.9"),
        ] {
            assert_eq!(Quantile::new(q).name, name);
            assert_eq!(
                Quantile::from_name(name).map(|x| x.name),
                Some(name.to_owned())
            );
        }
        assert!(Quantile::from_name("p100").is_none());
        assert!(Quantile::from_name("pct").is_none());
        assert!(Quantile::from_name("p-5").is_none());
        assert_eq!(Quantile::list(&[0.5, 0.5, 0.99]).len(), 2);
    }

    #[test]
    fn series_keys_sort_tags_and_drop_some() {
        let batch =
            b"lat,node=n1,label=a\\ b,sluice_window=2s ms=1 1\nlat,label=a\\ b,node=n2 ms=1 1\n";
        let keys: Vec<SeriesKey> = points(batch)
            .map(|p| SeriesKey::of(&p.unwrap(), &["node".to_owned()]))
            .collect();
        assert_eq!(keys[0], keys[1]);
        assert_eq!(keys[0].measurement(), b"lat");
        assert_eq!(keys[0].tags(), b"label=a\\ b");
        let kept: Vec<SeriesKey> = points(batch)
            .map(|p| SeriesKey::of(&p.unwrap(), &[]))
            .collect();
        assert_eq!(kept[0].tags(), b"label=a\\ b,node=n1");
    }

    #[test]
    fn a_summary_reads_back_as_a_sketch_point() {
        let mut sketch = Sketch::new(0.01);
        (1..=100).for_each(|v| sketch.add(f64::from(v)));
        let series = SeriesKey::of(
            &points(b"lat,label=checkout ms=1 1\n")
                .next()
                .unwrap()
                .unwrap(),
            &[],
        );
        let mut out = LineWriter::new();
        let window = Window::containing(1_700_000_001_000_000_000, 2_000_000_000);
        let quantiles = Quantile::list(&[0.5, 0.99]);
        assert!(write_summary(
            &mut out,
            &series,
            window,
            [("ms", &sketch)],
            &quantiles,
            true
        ));
        let text = String::from_utf8(out.as_bytes().to_vec()).unwrap();
        assert!(text.starts_with("lat,label=checkout,sluice_window=2s ms_count=100i,ms_sum=5050.0,ms_min=1.0,ms_max=100.0,ms_mean=50.5,ms_p50="), "{text}");
        assert!(text.trim_end().ends_with(" 1700000000000000000"), "{text}");
        let point = points(out.as_bytes()).next().unwrap().unwrap();
        let found = sketches_of(&point).unwrap();
        assert_eq!(found.window_len, 2_000_000_000);
        assert_eq!(found.quantiles, quantiles);
        assert_eq!(found.sketches.len(), 1);
        assert_eq!(found.sketches[0].0, "ms");
        let back = Sketch::decode(&found.sketches[0].1).unwrap();
        assert_eq!(back.count(), 100);
    }

    #[test]
    fn ordinary_points_are_not_sketch_points() {
        for line in [
            &b"lat,label=a ms=1 1\n"[..],
            b"lat,sluice_window=2s ms=1 1\n",
            b"lat,sluice_window=never ms_sketch=\"AAAA\" 1\n",
            b"lat,sluice_window=2s ms_sketch=5 1\n",
        ] {
            let point = points(line).next().unwrap().unwrap();
            assert!(
                sketches_of(&point).is_none(),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
