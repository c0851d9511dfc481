//! Reopening after crashes, torn tails, corruption, and cursor files that are stale, unknown or
//! unreadable.

use std::os::unix::fs::FileExt;

use super::{append_range, is_drained, open, options, segment_files, take, take_ids};
use crate::disk::segment::{self, SEGMENT_HEADER_LEN};

#[derive(Debug, Clone, Copy)]
enum Damage {
    CutMidRecord,
    AppendGarbage,
    FlipByteInLastRecord,
    TornSegmentHeader,
}

async fn torn_tail_is_truncated(damage: Damage) {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), &["out"]);
    {
        let (queue, _) = open(&opts);
        append_range(&queue, 0..10, 300).await;
    }
    let newest = segment_files(dir.path()).pop().unwrap();
    let len = std::fs::metadata(&newest).unwrap().len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&newest)
        .unwrap();
    let (expected, truncated) = match damage {
        Damage::CutMidRecord => {
            file.set_len(len - 100).unwrap();
            (9, 308 - 100)
        }
        Damage::AppendGarbage => {
            file.write_all_at(&[0xAB; 77], len).unwrap();
            (10, 77)
        }
        Damage::FlipByteInLastRecord => {
            file.write_all_at(b"!", len - 5).unwrap();
            (9, 308)
        }
        Damage::TornSegmentHeader => {
            let next = dir.path().join(segment::file_name(99));
            std::fs::write(next, &segment::encode_header(99)[..20]).unwrap();
            (10, 20)
        }
    };
    drop(file);
    let (queue, report) = open(&opts);
    assert_eq!(report.truncated_bytes, truncated, "{damage:?}: {report}");
    assert_eq!(report.records, expected as u64, "{damage:?}");
    assert!(report.corrupt_segments.is_empty());
    let mut consumer = queue.consumer("out").unwrap();
    assert_eq!(
        take_ids(&mut consumer, expected).await,
        (0..expected).collect::<Vec<_>>()
    );
    append_range(&queue, 100..103, 300).await;
    assert_eq!(
        take_ids(&mut consumer, 3).await,
        [100, 101, 102],
        "{damage:?}"
    );
    drop((consumer, queue));
    let (_, report) = open(&opts);
    assert!(report.is_clean(), "{damage:?}: second open {report}");
    assert_eq!(report.records, expected as u64 + 3);
}

#[tokio::test(start_paused = true)]
async fn torn_tail_cut_mid_record() {
    torn_tail_is_truncated(Damage::CutMidRecord).await;
}

#[tokio::test(start_paused = true)]
async fn torn_tail_garbage_appended() {
    torn_tail_is_truncated(Damage::AppendGarbage).await;
}

#[tokio::test(start_paused = true)]
async fn torn_tail_flipped_byte() {
    torn_tail_is_truncated(Damage::FlipByteInLastRecord).await;
}

#[tokio::test(start_paused = true)]
async fn torn_tail_incomplete_segment_header() {
    torn_tail_is_truncated(Damage::TornSegmentHeader).await;
}

#[tokio::test(start_paused = true)]
async fn corruption_in_an_older_segment_skips_the_rest_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), &["out"]);
    {
        let (queue, _) = open(&opts);
        append_range(&queue, 0..30, 700).await;
    }
    // Segment 0 holds records 0..5 (5 × 708 bytes after the header); damage record 2.
    let first = dir.path().join(segment::file_name(0));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&first)
        .unwrap();
    file.write_all_at(b"?", SEGMENT_HEADER_LEN + 2 * 708 + 50)
        .unwrap();
    drop(file);
    let (queue, report) = open(&opts);
    assert_eq!(report.corrupt_segments, [0]);
    assert_eq!(report.skipped_bytes, 3 * 708);
    assert_eq!(report.truncated_bytes, 0);
    let mut consumer = queue.consumer("out").unwrap();
    let mut expected: Vec<usize> = (0..2).collect();
    expected.extend(5..30);
    assert_eq!(take_ids(&mut consumer, expected.len()).await, expected);
    assert!(is_drained(&mut consumer).await);
}

#[tokio::test(start_paused = true)]
async fn unknown_cursors_are_removed_and_new_consumers_start_at_the_oldest_record() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (queue, _) = open(&options(dir.path(), &["a", "gone"]));
        let mut a = queue.consumer("a").unwrap();
        let mut gone = queue.consumer("gone").unwrap();
        append_range(&queue, 0..30, 500).await;
        let read = take(&mut gone, 1).await;
        gone.ack(std::slice::from_ref(&read[0].id)).await.unwrap();
        let read = take(&mut a, 25).await;
        a.ack(std::slice::from_ref(&read[24].id)).await.unwrap();
        assert!(queue.stats().segments > 3, "`gone` holds the segments");
    }
    {
        let (queue, report) = open(&options(dir.path(), &["a"]));
        assert_eq!(report.cursors_removed, ["gone"]);
        assert!(!dir.path().join("cursor-gone.pos").exists());
        assert!(
            queue.stats().segments <= 2,
            "segments only `gone` needed are deleted on open"
        );
        let mut a = queue.consumer("a").unwrap();
        assert_eq!(take_ids(&mut a, 5).await, (25..30).collect::<Vec<_>>());
    }
    let (queue, report) = open(&options(dir.path(), &["a", "new"]));
    assert_eq!(report.cursors_missing, ["new"]);
    let mut new = queue.consumer("new").unwrap();
    let oldest_retained = take_ids(&mut new, 1).await[0];
    assert!(
        oldest_retained > 0 && oldest_retained <= 25,
        "`new` starts at the oldest retained record, {oldest_retained}"
    );
}

#[tokio::test(start_paused = true)]
async fn unreadable_cursor_restarts_at_the_oldest_record() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), &["out"]);
    {
        let (queue, _) = open(&opts);
        let mut consumer = queue.consumer("out").unwrap();
        append_range(&queue, 0..4, 100).await;
        let read = take(&mut consumer, 4).await;
        consumer
            .ack(std::slice::from_ref(&read[2].id))
            .await
            .unwrap();
    }
    std::fs::write(dir.path().join("cursor-out.pos"), b"not a cursor").unwrap();
    let (queue, report) = open(&opts);
    assert_eq!(report.cursors_unreadable, ["out"]);
    let mut consumer = queue.consumer("out").unwrap();
    assert_eq!(take_ids(&mut consumer, 4).await, [0, 1, 2, 3]);
}
