//! The queue's behaviour while it runs: round trips, limits, fan-out, rollover, space, locks,
//! consumer handles, cancellation.

use std::time::Duration;

use bytes::Bytes;

use super::{
    append_range, file_names, id, is_drained, open, options, record, segment_files, take, take_ids,
};
use crate::disk::segment;
use crate::{Error, Queue};

#[tokio::test(start_paused = true)]
async fn append_next_ack_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, report) = open(&options(dir.path(), &["out"]));
    assert!(report.is_clean());
    assert_eq!(report.cursors_missing, ["out"]);
    let mut consumer = queue.consumer("out").unwrap();
    append_range(&queue, 0..3, 100).await;
    let entries = take(&mut consumer, 3).await;
    assert_eq!(entries.iter().map(id).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(entries[1].data, record(1, 100));
    assert!(entries[0].id < entries[1].id && entries[1].id < entries[2].id);
    assert_eq!(queue.stats().consumers[0].pending_records, 3);
    consumer
        .ack(std::slice::from_ref(&entries[2].id))
        .await
        .unwrap();
    let stats = queue.stats();
    assert_eq!(stats.consumers[0].pending_records, 0);
    assert_eq!(stats.consumers[0].pending_bytes, 0);
    assert!(is_drained(&mut consumer).await);
    queue.close().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn next_respects_limits_but_always_returns_one() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, _) = open(&options(dir.path(), &["out"]));
    let mut consumer = queue.consumer("out").unwrap();
    append_range(&queue, 0..5, 100).await;
    queue.append(record(5, 3000)).await.unwrap();
    queue.append(record(6, 10)).await.unwrap();
    assert_eq!(consumer.next(2, usize::MAX).await.unwrap().len(), 2);
    let batch = consumer.next(10, 250).await.unwrap();
    assert_eq!(batch.iter().map(id).collect::<Vec<_>>(), [2, 3]);
    let batch = consumer.next(10, 100).await.unwrap();
    assert_eq!(batch.iter().map(id).collect::<Vec<_>>(), [4]);
    let batch = consumer.next(10, 100).await.unwrap();
    assert_eq!(
        batch.iter().map(id).collect::<Vec<_>>(),
        [5],
        "oversized record alone"
    );
    assert_eq!(batch[0].data.len(), 3000);
    let batch = consumer.next(0, 0).await.unwrap();
    assert_eq!(
        batch.iter().map(id).collect::<Vec<_>>(),
        [6],
        "zero limits still give one"
    );
}

#[tokio::test(start_paused = true)]
async fn records_larger_than_the_read_window_are_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), &["out"]);
    opts.max_size = 64 << 20;
    opts.segment_size = 8 << 20;
    let (queue, _) = open(&opts);
    let mut consumer = queue.consumer("out").unwrap();
    queue.append(record(0, 10)).await.unwrap();
    queue.append(record(1, 3 << 20)).await.unwrap();
    queue.append(record(2, 10)).await.unwrap();
    let first = consumer.next(10, 1000).await.unwrap();
    assert_eq!(first.iter().map(id).collect::<Vec<_>>(), [0]);
    let big = consumer.next(10, 1000).await.unwrap();
    assert_eq!(big.len(), 1);
    assert_eq!(big[0].data, record(1, 3 << 20));
    assert_eq!(take_ids(&mut consumer, 1).await, [2]);
}

#[tokio::test(start_paused = true)]
async fn fan_out_deletes_a_segment_only_after_every_consumer_passed_it() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, _) = open(&options(dir.path(), &["a", "b"]));
    let mut a = queue.consumer("a").unwrap();
    let mut b = queue.consumer("b").unwrap();
    append_range(&queue, 0..40, 500).await;
    let segments_before = queue.stats().segments;
    assert!(segments_before >= 4, "{segments_before} segments");
    assert_eq!(segment_files(dir.path()).len(), segments_before);

    let from_a = take(&mut a, 40).await;
    let from_b = take(&mut b, 40).await;
    assert_eq!(from_a, from_b, "both consumers see every record");
    a.ack(std::slice::from_ref(&from_a[39].id)).await.unwrap();
    assert_eq!(queue.stats().segments, segments_before, "b has not acked");
    assert_eq!(segment_files(dir.path()).len(), segments_before);

    b.ack(std::slice::from_ref(&from_b[19].id)).await.unwrap();
    let middle = queue.stats().segments;
    assert!(middle < segments_before && middle > 1, "{middle} segments");
    b.ack(std::slice::from_ref(&from_b[39].id)).await.unwrap();
    let stats = queue.stats();
    assert_eq!(stats.segments, 1, "only the active segment is left");
    assert_eq!(segment_files(dir.path()).len(), 1);
    assert!(stats.retained_bytes < 4096);
    assert_eq!(stats.records, 0);
}

#[tokio::test(start_paused = true)]
async fn a_deleted_segment_is_gone_after_close_and_a_leftover_is_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), &["out"]);
    {
        let (queue, _) = open(&opts);
        let mut consumer = queue.consumer("out").unwrap();
        append_range(&queue, 0..30, 700).await;
        let all = take(&mut consumer, 30).await;
        consumer
            .ack(std::slice::from_ref(&all[29].id))
            .await
            .unwrap();
        queue.close().await.unwrap();
    }
    let names = || file_names(dir.path(), |n| n.starts_with("segment-"));
    assert_eq!(names().len(), 1, "only the active segment: {:?}", names());
    // A crash between renaming a segment aside and removing it leaves the file behind.
    let leftover = dir.path().join(segment::deleted_file_name(0));
    std::fs::write(&leftover, vec![0u8; 5000]).unwrap();
    let (queue, _) = open(&opts);
    assert!(!leftover.exists());
    assert_eq!(names().len(), 1, "{:?}", names());
    let mut consumer = queue.consumer("out").unwrap();
    assert!(is_drained(&mut consumer).await);
}

#[tokio::test(start_paused = true)]
async fn segments_the_writer_deletes_count_until_removed_and_are_gone_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, _) = open(&options(dir.path(), &["out"]));
    let mut consumer = queue.consumer("out").unwrap();
    // Acknowledged as soon as written, so each segment is passed before the writer seals
    // it, and the writer deletes it when it rolls over (on the reclaim thread).
    for i in 0..30 {
        queue.append(record(i, 700)).await.unwrap();
        let read = take(&mut consumer, 1).await;
        consumer
            .ack(std::slice::from_ref(&read[0].id))
            .await
            .unwrap();
    }
    let stats = queue.stats();
    assert!(stats.segments <= 2, "{} segments", stats.segments);
    queue.close().await.unwrap();
    let left = file_names(dir.path(), |n| n.ends_with(".deleted"));
    assert!(left.is_empty(), "{left:?}");
    assert!(queue.stats().retained_bytes < 2 * 4096);
}

#[tokio::test(start_paused = true)]
async fn rollover_keeps_order_and_names_segments() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, _) = open(&options(dir.path(), &["out"]));
    let mut consumer = queue.consumer("out").unwrap();
    append_range(&queue, 0..30, 700).await;
    let files = segment_files(dir.path());
    assert!(files.len() > 3);
    for (i, file) in files.iter().enumerate() {
        assert_eq!(
            file.file_name().unwrap().to_str().unwrap(),
            segment::file_name(i as u64)
        );
        assert!(std::fs::metadata(file).unwrap().len() <= 4096);
    }
    assert_eq!(
        take_ids(&mut consumer, 30).await,
        (0..30).collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn reopen_after_crash_replays_what_each_consumer_did_not_ack() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), &["a", "b"]);
    {
        let (queue, _) = open(&opts);
        let mut a = queue.consumer("a").unwrap();
        let mut b = queue.consumer("b").unwrap();
        append_range(&queue, 0..20, 300).await;
        let read = take(&mut a, 12).await;
        a.ack(std::slice::from_ref(&read[9].id)).await.unwrap();
        take(&mut b, 5).await;
        // No close: dropping everything is a crash as far as the files are concerned.
    }
    let (queue, report) = open(&opts);
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.records, 20);
    let mut a = queue.consumer("a").unwrap();
    let mut b = queue.consumer("b").unwrap();
    assert_eq!(take_ids(&mut a, 10).await, (10..20).collect::<Vec<_>>());
    assert_eq!(take_ids(&mut b, 20).await, (0..20).collect::<Vec<_>>());
    append_range(&queue, 20..22, 300).await;
    assert_eq!(take_ids(&mut a, 2).await, [20, 21]);
    assert!(is_drained(&mut a).await);
}

#[tokio::test(start_paused = true)]
async fn clean_close_then_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), &["out"]);
    let (queue, _) = open(&opts);
    let mut consumer = queue.consumer("out").unwrap();
    append_range(&queue, 0..5, 100).await;
    let read = take(&mut consumer, 5).await;
    consumer
        .ack(std::slice::from_ref(&read[2].id))
        .await
        .unwrap();
    queue.close().await.unwrap();
    queue.close().await.unwrap();
    assert!(matches!(
        queue.append(record(9, 10)).await,
        Err(Error::Closed)
    ));
    assert!(matches!(consumer.next(1, 1).await, Err(Error::Closed)));
    drop((consumer, queue));

    let (queue, report) = open(&opts);
    assert!(report.is_clean());
    let mut consumer = queue.consumer("out").unwrap();
    assert_eq!(take_ids(&mut consumer, 2).await, [3, 4]);
}

#[tokio::test(start_paused = true)]
async fn full_until_consumers_catch_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), &["a", "b"]);
    opts.max_size = 8192;
    let (queue, _) = open(&opts);
    let mut a = queue.consumer("a").unwrap();
    let mut b = queue.consumer("b").unwrap();
    let mut accepted = 0;
    let full = loop {
        match queue.append(record(accepted, 500)).await {
            Ok(()) => accepted += 1,
            Err(error) => break error,
        }
    };
    assert!(matches!(full, Error::Full { max_size: 8192, .. }), "{full}");
    assert!(full.to_string().contains("full"), "{full}");
    assert!(queue.stats().retained_bytes <= 8192);
    assert!(accepted >= 10, "only {accepted} records fit");

    let read = take(&mut a, accepted).await;
    a.ack(std::slice::from_ref(&read[accepted - 1].id))
        .await
        .unwrap();
    assert!(
        matches!(queue.append(record(0, 500)).await, Err(Error::Full { .. })),
        "b still holds the space"
    );
    let read = take(&mut b, accepted).await;
    b.ack(std::slice::from_ref(&read[accepted - 1].id))
        .await
        .unwrap();
    for i in 0..accepted {
        queue.append(record(1000 + i, 500)).await.unwrap();
    }
    assert_eq!(take_ids(&mut a, accepted).await[0], 1000);

    let too_large = queue.append(Bytes::from(vec![0; 8000])).await.unwrap_err();
    assert!(
        matches!(too_large, Error::RecordTooLarge { len: 8000, .. }),
        "{too_large}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_largest_record_fits_once_everything_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), &["out"]);
    opts.max_size = 8192;
    let (queue, _) = open(&opts);
    let mut consumer = queue.consumer("out").unwrap();
    let largest = match queue.append(Bytes::from(vec![1; 8192])).await {
        Err(Error::RecordTooLarge { max, .. }) => usize::try_from(max).unwrap(),
        other => panic!("{other:?}"),
    };
    for round in 0..5 {
        queue.append(record(round, 700)).await.unwrap();
        queue.append(record(round, largest)).await.unwrap();
        let read = take(&mut consumer, 2).await;
        consumer
            .ack(std::slice::from_ref(&read[1].id))
            .await
            .unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn lock_prevents_a_second_open() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), &["out"]);
    let (queue, _) = open(&opts);
    let second = Queue::open_disk(opts.clone()).err().unwrap();
    assert!(matches!(second, Error::Locked { .. }), "{second}");
    queue.close().await.unwrap();
    drop(queue);
    open(&opts);
}

#[tokio::test(start_paused = true)]
async fn consumer_names_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, _) = open(&options(dir.path(), &["out"]));
    assert!(matches!(
        queue.consumer("other"),
        Err(Error::UnknownConsumer { .. })
    ));
    let first = queue.consumer("out").unwrap();
    assert!(matches!(
        queue.consumer("out"),
        Err(Error::ConsumerBusy { .. })
    ));
    drop(first);
    queue.consumer("out").unwrap();
    let bad = Queue::open_disk(options(dir.path(), &["../escape"]))
        .err()
        .unwrap();
    assert!(matches!(bad, Error::InvalidConsumerName { .. }), "{bad}");
}

#[tokio::test(start_paused = true)]
async fn a_new_consumer_handle_redelivers_what_was_not_acked() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, _) = open(&options(dir.path(), &["out"]));
    append_range(&queue, 0..4, 100).await;
    let mut consumer = queue.consumer("out").unwrap();
    let read = take(&mut consumer, 4).await;
    consumer
        .ack(std::slice::from_ref(&read[0].id))
        .await
        .unwrap();
    consumer
        .ack(std::slice::from_ref(&read[0].id))
        .await
        .unwrap();
    drop(consumer);
    let mut consumer = queue.consumer("out").unwrap();
    assert_eq!(take_ids(&mut consumer, 3).await, [1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn cancelled_next_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, _) = open(&options(dir.path(), &["out"]));
    let mut consumer = queue.consumer("out").unwrap();
    // Cancelled while waiting for a record.
    assert!(is_drained(&mut consumer).await);
    append_range(&queue, 0..50, 200).await;
    // Cancelled at every stage of the read: polled once (the blocking read usually still in
    // flight) and dropped. A call that did finish within its one poll counts as delivered.
    let mut seen = Vec::new();
    while seen.len() < 50 {
        if let Ok(batch) = tokio::time::timeout(Duration::ZERO, consumer.next(3, usize::MAX)).await
        {
            seen.extend(batch.unwrap().iter().map(id));
        }
        if seen.len() < 50 {
            seen.extend(consumer.next(2, usize::MAX).await.unwrap().iter().map(id));
        }
    }
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_share_group_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, _) = open(&options(dir.path(), &["out"]));
    let mut consumer = queue.consumer("out").unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.append(record(i, 400)).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let mut ids = take_ids(&mut consumer, 64).await;
    ids.sort_unstable();
    assert_eq!(ids, (0..64).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn waiting_consumer_is_woken_by_an_append() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, _) = open(&options(dir.path(), &["out"]));
    let mut consumer = queue.consumer("out").unwrap();
    let reader = tokio::spawn(async move { consumer.next(10, usize::MAX).await });
    tokio::task::yield_now().await;
    queue.append(record(7, 10)).await.unwrap();
    let entries = reader.await.unwrap().unwrap();
    assert_eq!(entries.iter().map(id).collect::<Vec<_>>(), [7]);
}

#[tokio::test(start_paused = true)]
async fn ack_past_the_head_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let (queue, _) = open(&options(dir.path(), &["out"]));
    let (elsewhere, _) = open(&options(other.path(), &["out"]));
    append_range(&elsewhere, 0..3, 100).await;
    let foreign = take(&mut elsewhere.consumer("out").unwrap(), 3).await;
    let mut consumer = queue.consumer("out").unwrap();
    let error = consumer
        .ack(std::slice::from_ref(&foreign[2].id))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::AckBeyondHead { .. }), "{error}");
}

#[test]
fn options_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), &["out"]);
    opts.max_size = 100;
    assert!(matches!(
        Queue::open_disk(opts.clone()),
        Err(Error::InvalidOptions { .. })
    ));
    opts.max_size = 1 << 20;
    opts.segment_size = 10;
    assert!(matches!(
        Queue::open_disk(opts.clone()),
        Err(Error::InvalidOptions { .. })
    ));
    opts.segment_size = 4096;
    opts.consumers.clear();
    assert!(matches!(
        Queue::open_disk(opts),
        Err(Error::InvalidOptions { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_two_part_record_reads_back_whole_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), &["out"]);
    let whole = record(7, 300);
    let (head, tail) = (whole.slice(..20), Bytes::copy_from_slice(&whole[20..]));
    {
        let (queue, _) = open(&opts);
        let mut consumer = queue.consumer("out").unwrap();
        queue
            .append(crate::Record::joined(head, tail))
            .await
            .unwrap();
        queue.append(record(8, 40)).await.unwrap();
        let entries = take(&mut consumer, 2).await;
        assert_eq!(entries[0].data, whole);
        queue.close().await.unwrap();
    }
    // The frame's checksum covers both parts: recovery keeps the record.
    let (queue, report) = open(&opts);
    assert!(report.is_clean(), "{report}");
    let mut consumer = queue.consumer("out").unwrap();
    let entries = take(&mut consumer, 2).await;
    assert_eq!(entries[0].data, whole);
    assert_eq!(entries[1].data, record(8, 40));
    queue.close().await.unwrap();
}
