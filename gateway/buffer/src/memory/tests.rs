//! Unit tests of the in-memory queue: the disk queue's semantics minus durability.

use std::time::Duration;

use bytes::Bytes;

use crate::{Consumer, Entry, Error, MemoryOptions, Queue};

fn queue(max_size: u64, consumers: &[&str]) -> Queue {
    Queue::memory(MemoryOptions {
        max_size,
        consumers: consumers.iter().map(|c| (*c).to_owned()).collect(),
    })
}

fn record(i: u8, len: usize) -> Bytes {
    Bytes::from(vec![i; len])
}

fn ids(entries: &[Entry]) -> Vec<u8> {
    entries.iter().map(|e| e.data[0]).collect()
}

/// True when `next` would wait (time is paused: the timeout fires only once nothing else can
/// run).
async fn is_drained(consumer: &mut Consumer) -> bool {
    tokio::time::timeout(Duration::from_secs(3600), consumer.next(1, usize::MAX))
        .await
        .is_err()
}

#[tokio::test(start_paused = true)]
async fn round_trip_and_limits() {
    let queue = queue(1 << 20, &["out"]);
    let mut consumer = queue.consumer("out").unwrap();
    for i in 0..4 {
        queue.append(record(i, 100)).await.unwrap();
    }
    queue.append(record(4, 5000)).await.unwrap();
    assert_eq!(ids(&consumer.next(2, usize::MAX).await.unwrap()), [0, 1]);
    assert_eq!(ids(&consumer.next(10, 150).await.unwrap()), [2]);
    assert_eq!(ids(&consumer.next(10, 150).await.unwrap()), [3]);
    let big = consumer.next(10, 150).await.unwrap();
    assert_eq!(ids(&big), [4], "an oversized record comes alone");
    assert!(is_drained(&mut consumer).await);
    assert_eq!(queue.stats().consumers[0].pending_records, 5);
    assert_eq!(queue.stats().consumers[0].pending_bytes, 5400);
    consumer
        .ack(std::slice::from_ref(&big[0].id))
        .await
        .unwrap();
    let stats = queue.stats();
    assert_eq!((stats.records, stats.retained_bytes), (0, 0));
    assert_eq!(stats.consumers[0].pending_bytes, 0);
}

#[tokio::test(start_paused = true)]
async fn fan_out_keeps_records_until_every_consumer_acked() {
    let queue = queue(1 << 20, &["a", "b"]);
    let mut a = queue.consumer("a").unwrap();
    let mut b = queue.consumer("b").unwrap();
    for i in 0..3 {
        queue.append(record(i, 10)).await.unwrap();
    }
    let from_a = a.next(10, usize::MAX).await.unwrap();
    let from_b = b.next(10, usize::MAX).await.unwrap();
    assert_eq!(from_a, from_b);
    a.ack(std::slice::from_ref(&from_a[2].id)).await.unwrap();
    assert_eq!(queue.stats().records, 3);
    b.ack(std::slice::from_ref(&from_b[0].id)).await.unwrap();
    assert_eq!(queue.stats().records, 2);
    b.ack(std::slice::from_ref(&from_b[2].id)).await.unwrap();
    assert_eq!(queue.stats().records, 0);
}

#[tokio::test(start_paused = true)]
async fn full_until_acked() {
    let queue = queue(1000, &["out"]);
    let mut consumer = queue.consumer("out").unwrap();
    for i in 0..4 {
        queue.append(record(i, 250)).await.unwrap();
    }
    assert!(matches!(
        queue.append(record(9, 1)).await,
        Err(Error::Full { .. })
    ));
    assert!(matches!(
        queue.append(record(9, 1001)).await,
        Err(Error::RecordTooLarge { .. })
    ));
    let read = consumer.next(2, usize::MAX).await.unwrap();
    consumer
        .ack(std::slice::from_ref(&read[1].id))
        .await
        .unwrap();
    queue.append(record(4, 500)).await.unwrap();
    assert_eq!(
        ids(&consumer.next(10, usize::MAX).await.unwrap()),
        [2, 3, 4]
    );
}

#[tokio::test(start_paused = true)]
async fn consumers_resume_after_their_ack_and_are_exclusive() {
    let queue = queue(1 << 20, &["out", "out"]);
    assert_eq!(
        queue.stats().consumers.len(),
        1,
        "a duplicate name is one consumer"
    );
    assert!(matches!(
        queue.consumer("nope"),
        Err(Error::UnknownConsumer { .. })
    ));
    let mut consumer = queue.consumer("out").unwrap();
    assert!(matches!(
        queue.consumer("out"),
        Err(Error::ConsumerBusy { .. })
    ));
    for i in 0..3 {
        queue.append(record(i, 10)).await.unwrap();
    }
    let read = consumer.next(10, usize::MAX).await.unwrap();
    consumer
        .ack(std::slice::from_ref(&read[0].id))
        .await
        .unwrap();
    drop(consumer);
    let mut consumer = queue.consumer("out").unwrap();
    assert_eq!(ids(&consumer.next(10, usize::MAX).await.unwrap()), [1, 2]);
    let error = consumer
        .ack(&[crate::EntryId(crate::position::IdRepr::Log(
            crate::Position {
                segment: 0,
                offset: 99,
                seq: 99,
            },
        ))])
        .await;
    assert!(matches!(error, Err(Error::AckBeyondHead { .. })));
}

#[tokio::test(start_paused = true)]
async fn cancelled_wait_loses_nothing_and_appends_wake_waiters() {
    let queue = queue(1 << 20, &["out"]);
    let mut consumer = queue.consumer("out").unwrap();
    assert!(is_drained(&mut consumer).await);
    let waiter = tokio::spawn(async move {
        let entries = consumer.next(10, usize::MAX).await.unwrap();
        (consumer, entries)
    });
    tokio::task::yield_now().await;
    queue.append(record(1, 10)).await.unwrap();
    let (mut consumer, entries) = waiter.await.unwrap();
    assert_eq!(ids(&entries), [1]);
    assert!(is_drained(&mut consumer).await);
}

#[tokio::test(start_paused = true)]
async fn close_refuses_appends_and_ends_consumers_after_the_rest() {
    let queue = queue(1 << 20, &["out"]);
    let mut consumer = queue.consumer("out").unwrap();
    queue.append(record(1, 10)).await.unwrap();
    queue.close().await.unwrap();
    assert!(matches!(
        queue.append(record(2, 10)).await,
        Err(Error::Closed)
    ));
    assert_eq!(ids(&consumer.next(10, usize::MAX).await.unwrap()), [1]);
    assert!(matches!(
        consumer.next(10, usize::MAX).await,
        Err(Error::Closed)
    ));
}

#[tokio::test(start_paused = true)]
async fn without_consumers_nothing_is_kept() {
    let queue = queue(100, &[]);
    for i in 0..10 {
        queue.append(record(i, 60)).await.unwrap();
    }
    assert_eq!(queue.stats().retained_bytes, 0);
}

#[tokio::test(start_paused = true)]
async fn added_consumer_starts_at_the_tail_and_removed_one_releases_records() {
    let queue = queue(1 << 20, &["a"]);
    let mut a = queue.consumer("a").unwrap();
    queue.append(record(0, 10)).await.unwrap();
    let mut b = queue.add_consumer("b").unwrap();
    assert!(matches!(
        queue.add_consumer("b"),
        Err(Error::InvalidConsumerName { .. })
    ));
    queue.append(record(1, 10)).await.unwrap();
    assert_eq!(ids(&b.next(10, usize::MAX).await.unwrap()), [1]);
    let from_a = a.next(10, usize::MAX).await.unwrap();
    assert_eq!(ids(&from_a), [0, 1]);
    a.ack(std::slice::from_ref(&from_a[1].id)).await.unwrap();
    assert_eq!(queue.stats().records, 1, "b still holds record 1");
    assert!(matches!(
        queue.remove_consumer("b"),
        Err(Error::ConsumerBusy { .. })
    ));
    drop(b);
    queue.remove_consumer("b").unwrap();
    assert_eq!(queue.stats().records, 0, "removing b released record 1");
    assert_eq!(queue.stats().consumers.len(), 1);
    assert!(matches!(
        queue.consumer("b"),
        Err(Error::UnknownConsumer { .. })
    ));
    assert!(matches!(
        queue.remove_consumer("b"),
        Err(Error::UnknownConsumer { .. })
    ));
    let mut b = queue.add_consumer("b").unwrap();
    queue.append(record(2, 10)).await.unwrap();
    assert_eq!(ids(&b.next(10, usize::MAX).await.unwrap()), [2]);
}
