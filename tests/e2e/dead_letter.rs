//! A refusal from the store (here: the database does not exist, and the output may not
//! create it) dead-letters the batch instead of blocking the queue: ingest still says 204,
//! the batch lands in the dead-letter dir, the metric counts it, and later batches keep
//! flowing.

use sluice_e2e::buffer_files::files_under;
use sluice_e2e::{
    LONG, Point, SluiceConfig, TestInflux, TestSluice, flood_points, to_lines, wait_until,
};

const T0: i64 = 1_700_000_000_000_000_000;

/// Runs Sluice with `config`, writes to a database the store lacks, and expects the batch in
/// `<sluice dir>/<dead_letter_dir>`.
fn rejected_batch_is_dead_lettered(
    config: SluiceConfig,
    dead_letter_dir: &str,
    influx: &TestInflux,
) {
    let sluice = TestSluice::with_config(config.toml()).spawn();
    let dir = sluice.dir().join(dead_letter_dir);

    let doomed = flood_points(100, T0, "doomed");
    let response = sluice.write("no_such_db", &to_lines(&doomed));
    assert_eq!(
        response.status,
        204,
        "ingest does not know the store: {}",
        response.describe()
    );

    let appeared = wait_until(LONG, || (!files_under(&dir).is_empty()).then_some(()));
    assert!(appeared.is_some(), "nothing appeared in {}", dir.display());
    let counted = wait_until(LONG, || {
        (sluice.metric("sluice_dead_lettered_batches_total")? >= 1.0).then_some(())
    });
    assert!(
        counted.is_some(),
        "sluice_dead_lettered_batches_total did not reach 1:\n{}",
        sluice.metrics()
    );
    // The dead-lettered batch keeps its lines somewhere in the entry.
    let kept = files_under(&dir)
        .iter()
        .any(|file| std::fs::read_to_string(file).is_ok_and(|text| text.contains("doomed")));
    assert!(
        kept,
        "no dead-letter file holds the batch's lines: {:?}",
        files_under(&dir)
    );

    let good: Vec<Point> = flood_points(500, T0, "after");
    let response = sluice.write("good", &to_lines(&good));
    assert_eq!(response.status, 204, "{}", response.describe());
    influx.expect_points("good", "after", &good);
}

#[test]
fn store_4xx_goes_to_the_configured_dead_letter_dir() {
    let influx = TestInflux::start();
    influx.create_db("good");
    let config = SluiceConfig::new().dead_letter_dir("{dir}/dlq").output(
        "central",
        &influx.url(),
        "create_database = false\n",
    );
    rejected_batch_is_dead_lettered(config, "dlq", &influx);
}

#[test]
fn dead_letter_dir_defaults_next_to_the_buffer() {
    let influx = TestInflux::start();
    influx.create_db("good");
    let config = SluiceConfig::new().buffer_dir("{dir}/data/buffer").output(
        "central",
        &influx.url(),
        "create_database = false\n",
    );
    rejected_batch_is_dead_lettered(config, "data/dead-letter", &influx);
}
