use super::*;
use crate::config::EdgeConfig;
use crate::edge::Aggregator;
use sluice_lineproto::points;

const S: i64 = 1_000_000_000;
const T0: i64 = 1_700_000_000 * S;

fn merger(text: &str) -> Merger {
    Merger::new(
        &crate::config::Config::parse(&format!("[merge]\n{text}"))
            .unwrap()
            .merge
            .unwrap(),
    )
}

fn edge() -> Aggregator {
    Aggregator::new(&EdgeConfig {
        window: std::time::Duration::from_secs(2),
        quantiles: vec![0.5, 0.9, 0.99],
        ..EdgeConfig::default()
    })
}

fn batch(lines: &str) -> Batch {
    let n = lines.lines().count();
    Batch::from_lines(Context::from_bucket("lt"), lines.as_bytes(), n)
}

/// What one edge sends for `values` of node `node` in the window at T0.
fn edge_output(node: &str, values: &[f64]) -> Batch {
    let mut agg = edge();
    let lines: String = values
        .iter()
        .map(|v| format!("lat,node={node},label=checkout ms={v} {T0}\n"))
        .collect();
    agg.ingest(&batch(&lines), T0);
    let mut flushed = agg.flush(0, true).batches;
    assert_eq!(flushed.len(), 1);
    flushed.remove(0)
}

/// The fields of the single point of `batches`.
fn fields(batches: &[Batch]) -> HashMap<String, f64> {
    assert_eq!(batches.len(), 1);
    let lines = batches[0].lines();
    let mut all = points(lines);
    let point = all.next().unwrap().unwrap();
    assert!(all.next().is_none(), "{}", String::from_utf8_lossy(lines));
    point
        .fields()
        .filter_map(|f| {
            let v = match f.value()? {
                sluice_lineproto::FieldValue::Float(v) => v,
                sluice_lineproto::FieldValue::Integer(v) => v as f64,
                _ => return None,
            };
            Some((f.key().to_string_lossy().into_owned(), v))
        })
        .collect()
}

fn exact(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((q * values.len() as f64).ceil() as usize).max(1) - 1]
}

#[test]
fn nodes_merge_into_true_percentiles() {
    let nodes: Vec<Vec<f64>> = (0..3)
        .map(|i| (1..=1000).map(|v| f64::from(v) * (i + 1) as f64).collect())
        .collect();
    let mut m = merger("");
    for (i, values) in nodes.iter().enumerate() {
        let done = m.ingest(&edge_output(&format!("n{i}"), values), T0);
        assert_eq!((done.merged, done.invalid), (1, 0));
        assert!(done.passthrough.is_none());
    }
    assert_eq!(m.series(), 1, "the node tag is dropped before grouping");
    // Closes 5 s (lateness) after the window's end.
    assert_eq!(m.flush(T0 + 7 * S - 1, false).points, 0);
    let flushed = m.flush(T0 + 7 * S, false);
    let line = String::from_utf8_lossy(flushed.batches[0].lines()).into_owned();
    assert!(
        line.starts_with("lat,label=checkout,sluice_window=2s ms_count=3000i,"),
        "{line}"
    );
    assert!(!line.contains("ms_sketch"), "{line}");
    let f = fields(&flushed.batches);
    let mut all: Vec<f64> = nodes.concat();
    for (q, name) in [(0.5, "ms_p50"), (0.9, "ms_p90"), (0.99, "ms_p99")] {
        let want = exact(&mut all, q);
        assert!(
            (f[name] - want).abs() / want <= 0.01,
            "{name}: {} vs {want}",
            f[name]
        );
    }
    assert!(
        !f.contains_key("ms_p95"),
        "the quantiles the edges asked for"
    );
    assert_eq!(f["ms_min"], 1.0);
    assert_eq!(f["ms_max"], 3000.0);
    assert_eq!(f["ms_sum"], all.iter().sum::<f64>());
}

#[test]
fn other_points_pass_through_untouched() {
    let mut m = merger("");
    let plain = batch(&format!("cpu,host=a usage=1 {T0}\n"));
    let done = m.ingest(&plain, T0);
    assert_eq!(done.passthrough.unwrap().record(), plain.record());
    // Mixed: the plain points go on, the sketch point is held.
    let sketch = edge_output("n0", &[1.0, 2.0]);
    let mixed = format!(
        "cpu,host=a usage=1 {T0}\n{}cpu,sluice_window=2s usage=2 {T0}\n",
        String::from_utf8_lossy(sketch.lines())
    );
    let done = m.ingest(&batch(&mixed), T0);
    assert_eq!(done.merged, 1);
    assert_eq!(
        String::from_utf8_lossy(done.passthrough.unwrap().lines()),
        format!("cpu,host=a usage=1 {T0}\ncpu,sluice_window=2s usage=2 {T0}\n")
    );
}

#[test]
fn a_late_sketch_corrects_the_written_window_then_is_refused_once_forgotten() {
    let mut m = merger("lateness = \"1s\"\nkeep = \"10s\"");
    m.ingest(&edge_output("n0", &[1.0, 2.0]), T0);
    let first = m.flush(T0 + 3 * S, false);
    assert_eq!(fields(&first.batches)["ms_count"], 2.0);
    // Arrives after the window was written: merged, and the whole point written again.
    let done = m.ingest(&edge_output("n1", &[3.0]), T0 + 4 * S);
    assert_eq!((done.merged, done.corrections), (1, 1));
    let again = m.flush(T0 + 4 * S, false);
    let f = fields(&again.batches);
    assert_eq!((f["ms_count"], f["ms_max"]), (3.0, 3.0));
    // Nothing more to write until it is forgotten.
    assert_eq!(m.flush(T0 + 5 * S, false).points, 0);
    m.flush(T0 + 15 * S, false);
    assert_eq!(m.series(), 0);
    let done = m.ingest(&edge_output("n2", &[4.0]), T0 + 16 * S);
    assert_eq!((done.merged, done.late), (0, 1));
}

#[test]
fn an_old_window_seen_first_after_a_restart_still_merges() {
    let mut m = merger("lateness = \"1s\"");
    // The window ended an hour ago; this relay never saw it.
    let now = T0 + 3600 * S;
    m.ingest(&edge_output("n0", &[1.0]), now);
    m.ingest(&edge_output("n1", &[2.0]), now + S / 2);
    assert_eq!(
        m.flush(now + S - 1, false).points,
        0,
        "waits lateness from its first sketch"
    );
    let f = fields(&m.flush(now + S, false).batches);
    assert_eq!(f["ms_count"], 2.0);
}

#[test]
fn merged_sketches_merge_again_upstream() {
    let mut regional = merger("emit_sketches = true\nquantiles = [0.5]");
    regional.ingest(&edge_output("n0", &[1.0, 2.0, 3.0]), T0);
    let out = regional.flush(0, true);
    let line = String::from_utf8_lossy(out.batches[0].lines()).into_owned();
    assert!(line.contains("ms_sketch=\""), "{line}");
    assert!(line.contains("ms_p50="), "{line}");
    let mut central = merger("");
    central.ingest(&out.batches[0], T0);
    central.ingest(&edge_output("n9", &[4.0]), T0);
    let f = fields(&central.flush(0, true).batches);
    assert_eq!((f["ms_count"], f["ms_max"]), (4.0, 4.0));
    assert!(f.contains_key("ms_p50"));
}

#[test]
fn bad_sketches_and_max_series_are_counted() {
    let mut m = merger("max_series = 1");
    let bad = batch(&format!("lat,sluice_window=2s ms_sketch=\"%%%\" {T0}\n"));
    let done = m.ingest(&bad, T0);
    assert_eq!((done.merged, done.invalid), (0, 1));
    assert_eq!(m.series(), 0, "nothing held for it");
    // One series fills max_series; another is refused.
    assert_eq!(m.ingest(&edge_output("n0", &[1.0]), T0).merged, 1);
    let other = edge_output("n0", &[1.0]);
    let other =
        batch(&String::from_utf8_lossy(other.lines()).replace("label=checkout", "label=other"));
    let done = m.ingest(&other, T0);
    assert_eq!(done.over_limit, 1);
}

#[test]
fn without_quantiles_anywhere_the_defaults_are_written() {
    let mut agg = Aggregator::new(&EdgeConfig {
        window: std::time::Duration::from_secs(2),
        quantiles: vec![],
        ..EdgeConfig::default()
    });
    agg.ingest(&batch(&format!("lat ms=1 {T0}\n")), T0);
    let mut m = merger("");
    m.ingest(&agg.flush(0, true).batches[0], T0);
    let f = fields(&m.flush(0, true).batches);
    for name in ["ms_p50", "ms_p90", "ms_p95", "ms_p99"] {
        assert!(f.contains_key(name), "{name}");
    }
}

#[test]
fn rollups_merge_every_window_into_the_longer_one() {
    let mut m = merger("rollups = [\"10s\"]\nlateness = \"1s\"");
    // Two 2 s windows of the same 10 s roll-up.
    m.ingest(&edge_output("n0", &[1.0, 2.0]), T0);
    let mut later = edge();
    later.ingest(
        &batch(&format!("lat,node=n1,label=checkout ms=7 {}\n", T0 + 2 * S)),
        T0,
    );
    m.ingest(&later.flush(0, true).batches[0], T0);
    assert_eq!(m.series(), 3, "two windows and their roll-up");
    // The 2 s windows close first; the roll-up when the 10 s window ends.
    let short = m.flush(T0 + 5 * S, false);
    assert_eq!(short.points, 2);
    let long = m.flush(T0 + 11 * S, false);
    let line = String::from_utf8_lossy(long.batches[0].lines()).into_owned();
    assert!(
        line.starts_with("lat,label=checkout,sluice_window=10s ms_count=3i,"),
        "{line}"
    );
    assert!(line.trim_end().ends_with(&format!(" {T0}")), "{line}");
}

#[test]
fn unknown_rollups_are_refused_by_the_config() {
    let err = crate::config::Config::parse("[merge]\nrollups = [\"soon\"]").unwrap_err();
    assert!(err.to_string().contains("rollup \"soon\""), "{err}");
    let err =
        crate::config::Config::parse("[merge]\nrollups = [\"10s\", \"10000ms\"]").unwrap_err();
    assert!(err.to_string().contains("listed twice"), "{err}");
}

#[test]
fn written_windows_make_room_for_open_ones() {
    let mut m = merger("max_series = 2\nlateness = \"1s\"\nkeep = \"1h\"");
    let window_at = |start: i64| {
        let mut agg = edge();
        agg.ingest(&batch(&format!("lat,label=checkout ms=1 {start}\n")), start);
        agg.flush(0, true).batches.remove(0)
    };
    for k in 0..2 {
        assert_eq!(m.ingest(&window_at(T0 + k * 2 * S), T0).merged, 1);
    }
    // Both open: a third window is refused.
    assert_eq!(m.ingest(&window_at(T0 + 4 * S), T0).over_limit, 1);
    // Written (kept for an hour), they give way: the oldest is forgotten at once.
    assert_eq!(m.flush(T0 + 5 * S, false).points, 2);
    assert_eq!(m.ingest(&window_at(T0 + 4 * S), T0 + 5 * S).merged, 1);
    m.flush(T0 + 5 * S, false);
    assert_eq!(m.series(), 2);
    // A sketch for the forgotten window is late now.
    assert_eq!(m.ingest(&window_at(T0), T0 + 5 * S).late, 1);
}

/// A new merger that takes back `m`'s snapshot at `now`.
fn restarted(m: &Merger, config: &str, now: i64) -> Merger {
    let snapshot = m.snapshot();
    let mut back = merger(config);
    for (len, through) in snapshot.forgotten_through {
        back.restore_forgotten(len, through);
    }
    for batch in &snapshot.open {
        back.restore(batch, now, false);
    }
    for batch in &snapshot.written {
        back.restore(batch, now, true);
    }
    back
}

#[test]
fn after_a_restart_a_late_sketch_still_corrects_the_whole_window() {
    let config = "lateness = \"1s\"\nkeep = \"60s\"\nrollups = [\"10s\"]";
    let mut m = merger(config);
    m.ingest(&edge_output("n0", &[1.0, 2.0]), T0);
    m.ingest(&edge_output("n1", &[3.0]), T0);
    let written = m.flush(T0 + 3 * S, false);
    assert_eq!(
        written.points, 1,
        "the 2 s window; the roll-up is still open"
    );
    let mut back = restarted(&m, config, T0 + 4 * S);
    assert_eq!(back.series(), 2);
    assert_eq!(
        back.flush(T0 + 5 * S, false).points,
        0,
        "the written window is not written again"
    );
    // A node that was late: merged into the whole window, not written alone.
    let done = back.ingest(&edge_output("n2", &[10.0]), T0 + 6 * S);
    assert_eq!((done.merged, done.corrections), (1, 1));
    let f = fields(&back.flush(T0 + 6 * S, false).batches);
    assert_eq!((f["ms_count"], f["ms_max"]), (4.0, 10.0));
    // The roll-up holds every sketch once, the late one included.
    let rollup = back.flush(T0 + 12 * S, false);
    let line = String::from_utf8_lossy(rollup.batches[0].lines()).into_owned();
    assert!(line.contains("sluice_window=10s ms_count=4i,"), "{line}");
}

#[test]
fn after_a_restart_forgotten_windows_stay_late_and_open_ones_wait_for_lateness() {
    let config = "lateness = \"1s\"\nkeep = \"2s\"";
    let mut m = merger(config);
    m.ingest(&edge_output("n0", &[1.0]), T0);
    m.flush(T0 + 3 * S, false);
    m.flush(T0 + 6 * S, false);
    assert_eq!(m.series(), 0, "forgotten");
    // A later window, not written yet.
    let mut later = edge();
    later.ingest(
        &batch(&format!(
            "lat,node=n0,label=checkout ms=5 {}\n",
            T0 + 10 * S
        )),
        T0 + 10 * S,
    );
    m.ingest(&later.flush(0, true).batches[0], T0 + 10 * S);
    let mut back = restarted(&m, config, T0 + 100 * S);
    let done = back.ingest(&edge_output("n1", &[2.0]), T0 + 100 * S);
    assert_eq!(done.late, 1, "its window was forgotten before the restart");
    assert_eq!(back.flush(T0 + 100 * S, false).points, 0);
    let f = fields(&back.flush(T0 + 101 * S, false).batches);
    assert_eq!(f["ms_count"], 1.0);
}

#[test]
fn a_window_still_held_takes_sketches_past_a_forgotten_one_of_another_series() {
    let mut m = merger("lateness = \"1s\"\nkeep = \"2s\"");
    m.ingest(&edge_output("n0", &[1.0]), T0);
    m.flush(T0 + 3 * S, false);
    // Another series' window at T0 opens late, just before the first one is forgotten.
    let other = edge_output("n0", &[5.0]);
    let other =
        batch(&String::from_utf8_lossy(other.lines()).replace("label=checkout", "label=other"));
    m.ingest(&other, T0 + 4 * S);
    m.flush(T0 + 5 * S + 1, false);
    assert_eq!(
        m.series(),
        1,
        "the first window is forgotten, the other held"
    );
    let more = edge_output("n1", &[6.0]);
    let more =
        batch(&String::from_utf8_lossy(more.lines()).replace("label=checkout", "label=other"));
    let done = m.ingest(&more, T0 + 5 * S + 2);
    assert_eq!((done.merged, done.late), (1, 0));
}
