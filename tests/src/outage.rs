//! Driving a backend outage under load: [`write_through_outage`] keeps a writer going
//! while a backend (Redis, S3) goes down and comes back, and checks every answer was a
//! `204` or a `503` with `Retry-After`; [`assert_all_stored`] then proves no acknowledged
//! point was lost.

use crate::influxd::TestInflux;
use crate::lines::{Point, to_lines};
use crate::sluice::TestSluice;
use crate::wait::{LONG, wait_until};
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long each phase (accepting, refusing, accepting again) may take.
const PHASE: Duration = Duration::from_secs(20);

/// Writes `batch(k)` (k = 0, 1, …) to `db` every 20 ms while `set_down(true)` takes the
/// backend down once `warm` points are acknowledged and `set_down(false)` brings it back
/// after 3 writes were refused, until `warm` more are acknowledged. Returns the
/// acknowledged points.
///
/// # Panics
/// If a phase does not finish within 20 s, an answer is neither `204` nor `503`, or a
/// `503` has no numeric `Retry-After`.
pub fn write_through_outage(
    sluice: &TestSluice,
    db: &str,
    batch: impl Fn(i64) -> Vec<Point> + Sync,
    warm: usize,
    mut set_down: impl FnMut(bool),
) -> Vec<Point> {
    let stop = AtomicBool::new(false);
    let acked: Mutex<Vec<Point>> = Mutex::new(Vec::new());
    let refused = Mutex::new(0usize);
    let count = |m: &Mutex<Vec<Point>>| m.lock().map_or(0, |v| v.len());
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                let points = batch(k);
                k += 1;
                let response = sluice.write(db, &to_lines(&points));
                match response.status {
                    204 => acked
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend(points),
                    503 => {
                        let retry_after = response.header("retry-after").unwrap_or_default();
                        assert!(
                            retry_after.trim().parse::<u64>().is_ok(),
                            "503 without Retry-After: {}",
                            response.describe()
                        );
                        *refused.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                    }
                    _ => panic!("unexpected answer: {}", response.describe()),
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let phase = |what: &str, done: &dyn Fn() -> bool| {
            if wait_until(PHASE, || done().then_some(())).is_none() {
                stop.store(true, Ordering::Relaxed);
                panic!("{what} within {PHASE:?}");
            }
        };
        phase("points accepted", &|| count(&acked) >= warm);
        set_down(true);
        phase("3 writes refused", &|| {
            *refused.lock().unwrap_or_else(|e| e.into_inner()) >= 3
        });
        let acked_at_return = count(&acked);
        set_down(false);
        phase("writes accepted again", &|| {
            count(&acked) >= acked_at_return + warm
        });
        stop.store(true, Ordering::Relaxed);
    });
    acked.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Waits until `measurement` in `db` holds a point at the time of each of `acked` and
/// returns what is stored.
///
/// # Panics
/// Naming how many acknowledged points are missing (with `log`) when time runs out.
pub fn assert_all_stored(
    influx: &TestInflux,
    db: &str,
    measurement: &str,
    acked: &[Point],
    log: &str,
) -> Vec<Point> {
    let stored = wait_until(LONG, || {
        let points = influx.try_points(db, measurement).ok()?;
        (points.len() >= acked.len()).then_some(points)
    })
    .unwrap_or_default();
    let stored_times: BTreeSet<i64> = stored.iter().map(|p| p.time).collect();
    let lost: Vec<&Point> = acked
        .iter()
        .filter(|p| !stored_times.contains(&p.time))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged points lost, e.g. {:?}\n{log}",
        lost.len(),
        acked.len(),
        lost.first()
    );
    stored
}
