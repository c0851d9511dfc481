//! No acknowledged point is lost: not on a store outage, not on `kill -9` mid-load (store up
//! or down), not on a torn record at the tail of the buffer.

use sluice_e2e::buffer_files::newest_segment;
use sluice_e2e::{
    Http, LONG, Point, SluiceConfig, TestInflux, TestSluice, assert_subset, dead_url, to_lines,
    wait_until,
};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const T0: i64 = 1_700_000_000_000_000_000;

/// Batch `b` of `size` points with timestamps no other batch uses.
fn batch(measurement: &str, b: i64, size: i64) -> Vec<Point> {
    (0..size)
        .map(|i| {
            Point::new(measurement)
                .tag("batch", &(b % 16).to_string())
                .field("v", b * size + i)
                .at(T0 + b * size + i)
        })
        .collect()
}

fn relay(influx: &TestInflux) -> TestSluice {
    TestSluice::with_config(
        SluiceConfig::new()
            .output_v1("central", &influx.url())
            .toml(),
    )
    .spawn()
}

#[test]
fn store_outage_is_bridged() {
    let mut influx = TestInflux::start();
    influx.create_db("out");
    let sluice = relay(&influx);
    let first = batch("outage", 0, 500);
    assert_eq!(sluice.write("out", &to_lines(&first)).status, 204);
    influx.expect_points("out", "outage", &first);

    influx.stop();
    let mut sent = first;
    for b in 1..=10 {
        let points = batch("outage", b, 500);
        let response = sluice.write("out", &to_lines(&points));
        assert_eq!(
            response.status,
            204,
            "store down, batch {b}: {}",
            response.describe()
        );
        sent.extend(points);
    }
    influx.restart();
    influx.expect_points("out", "outage", &sent);
}

/// A thread writing batches of [`WRITER_BATCH`] points (each with its own timestamps) until it
/// is told to stop or Sluice goes away; [`Writer::finish`] returns the points that got 204 and
/// every point it attempted.
struct Writer {
    measurement: &'static str,
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
    handle: std::thread::JoinHandle<(Vec<i64>, i64)>,
}

const WRITER_BATCH: i64 = 50;
const WRITER_MAX_BATCHES: i64 = 20_000;

impl Writer {
    fn start(url: String, db: &'static str, measurement: &'static str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicUsize::new(0));
        let (stop_flag, acked_count) = (Arc::clone(&stop), Arc::clone(&acked));
        let handle = std::thread::spawn(move || {
            let http = Http::new();
            let mut acked_batches = Vec::new();
            let mut attempted = 0;
            for b in 0..WRITER_MAX_BATCHES {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                attempted = b + 1;
                let result = http
                    .request("POST", &format!("{url}/write"))
                    .db(db)
                    .body(to_lines(&batch(measurement, b, WRITER_BATCH)))
                    .try_send();
                match result {
                    Ok(response) if response.status == 204 => {
                        acked_batches.push(b);
                        acked_count.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            (acked_batches, attempted)
        });
        Writer {
            measurement,
            stop,
            acked,
            handle,
        }
    }

    fn wait_for_acks(&self, n: usize) {
        let reached = wait_until(LONG, || {
            (self.acked.load(Ordering::SeqCst) >= n).then_some(())
        });
        assert!(
            reached.is_some(),
            "the writer got only {} acknowledgements",
            self.acked.load(Ordering::SeqCst)
        );
    }

    fn finish(self) -> (Vec<Point>, Vec<Point>) {
        self.stop.store(true, Ordering::SeqCst);
        let (acked, attempted) = self.handle.join().expect("writer thread panicked");
        let acked: Vec<Point> = acked
            .into_iter()
            .flat_map(|b| batch(self.measurement, b, WRITER_BATCH))
            .collect();
        let sent: Vec<Point> = (0..attempted)
            .flat_map(|b| batch(self.measurement, b, WRITER_BATCH))
            .collect();
        (acked, sent)
    }
}

/// kill -9 while a writer is busy; with the store down the output points at a dead port and
/// the config is rewritten to the real store before the restart (as the acceptance check does).
fn kill9_mid_load(store_up: bool) {
    let influx = TestInflux::start();
    influx.create_db("k9");
    let config = |url: &str| SluiceConfig::new().output_v1("central", url).toml();
    let mut sluice = if store_up {
        TestSluice::with_config(config(&influx.url())).spawn()
    } else {
        TestSluice::with_config(config(&dead_url())).spawn()
    };
    let writer = Writer::start(sluice.url(), "k9", "k9");
    writer.wait_for_acks(40);
    sluice.kill9();
    let (acked, sent) = writer.finish();
    assert!(
        acked.len() >= 40 * 50,
        "only {} points acknowledged",
        acked.len()
    );

    if !store_up {
        sluice.set_config(&config(&influx.url()));
    }
    sluice.restart();
    let stored = influx.expect_contains("k9", "k9", &acked);
    assert_subset(&stored, &sent, "stored points vs. sent points");
}

#[test]
fn kill9_mid_load_with_store_up_loses_no_acknowledged_point() {
    kill9_mid_load(true);
}

#[test]
fn kill9_mid_load_with_store_down_loses_no_acknowledged_point() {
    kill9_mid_load(false);
}

/// Store down, ten acknowledged batches, kill -9, `damage` the newest segment, restart with
/// the store up; returns both servers and what was sent, per batch.
fn crash_and_damage(
    damage: impl FnOnce(&std::path::Path),
) -> (TestInflux, TestSluice, Vec<Vec<Point>>) {
    let mut influx = TestInflux::start();
    influx.create_db("torn");
    influx.stop();
    let mut sluice = relay(&influx);
    let batches: Vec<Vec<Point>> = (0..10).map(|b| batch("torn", b, 100)).collect();
    for (b, points) in batches.iter().enumerate() {
        let response = sluice.write("torn", &to_lines(points));
        assert_eq!(response.status, 204, "batch {b}: {}", response.describe());
    }
    sluice.kill9();
    damage(&newest_segment(&sluice.dir().join("buffer")));
    influx.restart();
    sluice.restart();
    (influx, sluice, batches)
}

fn assert_logs_truncation(sluice: &TestSluice) {
    let log = sluice.last_run_log().to_lowercase();
    assert!(
        log.contains("torn") || log.contains("truncat"),
        "the restarted sluice does not log the torn tail it cut"
    );
}

#[test]
fn garbage_after_the_last_record_is_cut_and_every_batch_delivered() {
    let (influx, sluice, batches) = crash_and_damage(|segment| {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(segment)
            .expect("opening the newest segment");
        // A frame header claiming 5 bytes with a wrong checksum, then more junk.
        file.write_all(b"\x05\x00\x00\x00\x01\x02\x03\x04hello-garbage\xff\xff")
            .expect("appending garbage");
        file.sync_all().expect("syncing the segment");
    });
    let all: Vec<Point> = batches.concat();
    influx.expect_points("torn", "torn", &all);
    assert_logs_truncation(&sluice);
}

#[test]
fn a_truncated_last_record_is_cut_and_earlier_batches_delivered() {
    let (influx, sluice, batches) = crash_and_damage(|segment| {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(segment)
            .expect("opening the newest segment");
        let len = file.metadata().expect("segment metadata").len();
        file.set_len(len - 3).expect("truncating the segment");
        file.sync_all().expect("syncing the segment");
    });
    // The last batch's record is torn: it may be lost. Every earlier one must arrive, and
    // nothing that was not sent may appear.
    let earlier: Vec<Point> = batches[..batches.len() - 1].concat();
    let stored = influx.expect_contains("torn", "torn", &earlier);
    assert_subset(&stored, &batches.concat(), "stored points vs. sent points");
    assert_logs_truncation(&sluice);
    drop(sluice);
}
