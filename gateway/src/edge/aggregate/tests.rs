use super::*;
use crate::quantile::wire::sketches_of;
use sluice_lineproto::points;

const S: i64 = 1_000_000_000;
/// A window start (a multiple of 2 s).
const T0: i64 = 1_700_000_000 * S;

fn config(text: &str) -> EdgeConfig {
    crate::config::Config::parse(&format!("[edge]\n{text}"))
        .unwrap()
        .edge
        .unwrap()
}

fn batch(lines: &str) -> Batch {
    let n = lines.lines().count();
    Batch::from_lines(Context::from_bucket("lt"), lines.as_bytes(), n)
}

fn text(batches: &[Batch]) -> String {
    batches
        .iter()
        .map(|b| String::from_utf8_lossy(b.lines()).into_owned())
        .collect()
}

#[test]
fn a_window_is_written_once_its_end_plus_lateness_passed() {
    let mut agg = Aggregator::new(&config(
        "window = \"2s\"\nallowed_lateness = \"1s\"\nquantiles = [0.5]",
    ));
    let lines: String = (1..=100)
        .map(|v| {
            format!(
                "lat,node=n1,label=checkout ms={v} {}\n",
                T0 + v * 10_000_000
            )
        })
        .collect();
    let done = agg.ingest(&batch(&lines), T0 + S);
    assert_eq!((done.aggregated, done.late, done.future), (100, 0, 0));
    assert!(done.passthrough.is_none());
    assert_eq!(agg.series(), 1);
    // Not yet: end (T0 + 2 s) plus lateness (1 s) is T0 + 3 s.
    assert_eq!(agg.flush(T0 + 3 * S - 1, false).points, 0);
    let flushed = agg.flush(T0 + 3 * S, false);
    assert_eq!((flushed.windows, flushed.points), (1, 1));
    let out = text(&flushed.batches);
    assert!(
        out.starts_with("lat,label=checkout,node=n1,sluice_window=2s ms_count=100i,ms_sum=5050.0,ms_min=1.0,ms_max=100.0,ms_mean=50.5,ms_p50="),
        "{out}"
    );
    assert!(
        out.trim_end().ends_with(&format!(" {T0}")),
        "stamped with the window start: {out}"
    );
    assert_eq!(flushed.batches[0].context().db, "lt");
    assert_eq!(agg.series(), 0);
    // Once written, the window's points are late.
    let done = agg.ingest(&batch(&format!("lat ms=1 {T0}\n")), T0 + 3 * S);
    assert_eq!((done.aggregated, done.late), (0, 1));
}

#[test]
fn points_group_by_window_of_their_timestamp() {
    let mut agg = Aggregator::new(&config("window = \"2s\""));
    let lines = format!(
        "m v=1 {}\nm v=2 {}\nm v=3 {}\n",
        T0 + 1,
        T0 + 2 * S - 1,
        T0 + 2 * S
    );
    agg.ingest(&batch(&lines), T0 + S);
    let flushed = agg.flush(T0 + 100 * S, false);
    assert_eq!((flushed.windows, flushed.points), (2, 2));
    let out = text(&flushed.batches);
    assert!(
        out.contains("v_count=2i,v_sum=3.0,v_min=1.0,v_max=2.0,v_mean=1.5"),
        "{out}"
    );
    assert!(out.contains(&format!(" {}\n", T0 + 2 * S)), "{out}");
}

#[test]
fn the_summary_carries_a_sketch_a_relay_can_read() {
    let mut agg = Aggregator::new(&config("window = \"2s\"\nquantiles = [0.5, 0.9, 0.99]"));
    let lines: String = (1..=1000).map(|v| format!("lat ms={v} {T0}\n")).collect();
    agg.ingest(&batch(&lines), T0);
    let flushed = agg.flush(0, true);
    let lines = flushed.batches[0].lines().to_vec();
    let point = points(&lines).next().unwrap().unwrap();
    let sp = sketches_of(&point).unwrap();
    assert_eq!(sp.window_len, 2 * S);
    assert_eq!(
        sp.quantiles
            .iter()
            .map(|q| q.name.as_str())
            .collect::<Vec<_>>(),
        ["p50", "p90", "p99"]
    );
    let sketch = Sketch::decode(&sp.sketches[0].1).unwrap();
    assert_eq!(sketch.count(), 1000);
    let p99 = sketch.quantile(0.99).unwrap();
    assert!((p99 - 990.0).abs() / 990.0 <= 0.01, "{p99}");
}

#[test]
fn drop_tags_fields_and_points_without_numbers() {
    let mut agg = Aggregator::new(&config(
        "window = \"2s\"\ndrop_tags = [\"node\"]\nfields = [\"ms\"]\nquantiles = []",
    ));
    let lines = format!(
        "lat,node=n1,label=a ms=1,bytes=10i,ok=true {T0}\n\
         lat,label=a,node=n2 ms=3i {T0}\n\
         lat,node=n1,label=a bytes=5i {T0}\n\
         event,node=n1 text=\"test started\" {T0}\n"
    );
    let done = agg.ingest(&batch(&lines), T0);
    assert_eq!(done.aggregated, 2);
    let through = done.passthrough.unwrap();
    assert_eq!(through.points(), 2);
    assert_eq!(
        String::from_utf8_lossy(through.lines()),
        format!("lat,node=n1,label=a bytes=5i {T0}\nevent,node=n1 text=\"test started\" {T0}\n")
    );
    let out = text(&agg.flush(0, true).batches);
    assert!(out.starts_with("lat,label=a,sluice_window=2s ms_count=2i,ms_sum=4.0,ms_min=1.0,ms_max=3.0,ms_mean=2.0,ms_sketch="), "{out}");
    assert!(!out.contains("bytes"), "{out}");
}

#[test]
fn late_and_future_points_are_dropped_and_counted() {
    let mut agg = Aggregator::new(&config("window = \"2s\"\nallowed_lateness = \"500ms\""));
    let now = T0 + 10 * S;
    let lines = format!(
        "m v=1 {}\nm v=1 {}\nm v=1 {}\nm v=1 {}\nm v=1 {}\n",
        T0 + 7 * S,  // window [T0+6, T0+8) ended 2 s ago: late
        T0 + 8 * S,  // [T0+8, T0+10) ended now, within lateness
        now,         // the current window
        now + 3 * S, // next window but one, within a window of now: kept
        now + 5 * S, // more than a window ahead: future
    );
    let done = agg.ingest(&batch(&lines), now);
    assert_eq!((done.aggregated, done.late, done.future), (3, 1, 1));
}

#[test]
fn max_series_turns_new_series_away_per_window() {
    let mut agg = Aggregator::new(&config("window = \"2s\"\nmax_series = 2"));
    let lines =
        format!("m,s=a v=1 {T0}\nm,s=b v=1 {T0}\nm,s=c v=1 {T0}\nm,s=a v=2 {T0}\nm,s=d v=1 {T0}\n");
    let done = agg.ingest(&batch(&lines), T0);
    assert_eq!((done.aggregated, done.over_limit), (3, 2));
    assert!(done.limit_reached);
    // Reported once per window.
    let again = agg.ingest(&batch(&format!("m,s=e v=1 {T0}\n")), T0);
    assert_eq!(again.over_limit, 1);
    assert!(!again.limit_reached);
    // The next window has its own budget.
    let next = agg.ingest(&batch(&format!("m,s=e v=1 {}\n", T0 + 2 * S)), T0);
    assert_eq!(next.aggregated, 1);
    assert_eq!(agg.series(), 3);
}

#[test]
fn each_database_gets_its_own_batch() {
    let mut agg = Aggregator::new(&config("window = \"2s\""));
    agg.ingest(&batch(&format!("m v=1 {T0}\n")), T0);
    let other = Batch::from_lines(
        Context::from_bucket("other/rp"),
        format!("m v=2 {T0}\n").as_bytes(),
        1,
    );
    agg.ingest(&other, T0);
    let mut flushed = agg.flush(0, true).batches;
    flushed.sort_by(|a, b| a.context().db.cmp(&b.context().db));
    assert_eq!(flushed.len(), 2);
    assert_eq!(flushed[1].context(), other.context());
}

#[test]
fn summaries_of_another_edge_pass_through() {
    let mut agg = Aggregator::new(&config("window = \"2s\""));
    let line = format!("lat,sluice_window=2s ms_count=3i,ms_sketch=\"AAAA\" {T0}\n");
    let done = agg.ingest(&batch(&line), T0);
    assert_eq!(done.aggregated, 0);
    assert_eq!(
        String::from_utf8_lossy(done.passthrough.unwrap().lines()),
        line
    );
}
