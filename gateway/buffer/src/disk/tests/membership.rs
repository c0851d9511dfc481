//! Consumers added and removed while the queue is open (outputs changed by a hot reload).

use super::{append_range, is_drained, open, options, segment_files, take, take_ids};
use crate::disk::cursor;
use crate::{Error, Queue};

#[tokio::test(start_paused = true)]
async fn added_consumer_starts_at_the_tail_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, _) = open(&options(dir.path(), &["a"]));
    let mut a = queue.consumer("a").unwrap();
    append_range(&queue, 0..3, 100).await;
    let mut b = queue.add_consumer("b").unwrap();
    assert!(
        dir.path().join(cursor::file_name("b")).exists(),
        "cursor written at once"
    );
    assert!(matches!(
        queue.add_consumer("b"),
        Err(Error::InvalidConsumerName { .. })
    ));
    assert!(matches!(
        queue.add_consumer("../x"),
        Err(Error::InvalidConsumerName { .. })
    ));
    assert!(is_drained(&mut b).await, "nothing before the add");
    append_range(&queue, 3..5, 100).await;
    assert_eq!(take_ids(&mut a, 5).await, [0, 1, 2, 3, 4]);
    let from_b = take(&mut b, 1).await;
    assert_eq!(super::id(&from_b[0]), 3);
    b.ack(std::slice::from_ref(&from_b[0].id)).await.unwrap();
    drop((a, b));
    queue.close().await.unwrap();
    drop(queue);

    let (queue, report) = open(&options(dir.path(), &["a", "b"]));
    assert!(report.cursors_removed.is_empty());
    assert!(report.cursors_unreadable.is_empty());
    assert!(report.cursors_missing.is_empty(), "{report:?}");
    let mut b = queue.consumer("b").unwrap();
    assert_eq!(take_ids(&mut b, 1).await, [4], "b resumes after its ack");
    assert!(is_drained(&mut b).await);
}

#[tokio::test(start_paused = true)]
async fn removed_consumer_releases_segments_and_its_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let (queue, _) = open(&options(dir.path(), &["a", "b"]));
    let mut a = queue.consumer("a").unwrap();
    let b = queue.consumer("b").unwrap();
    append_range(&queue, 0..100, 200).await;
    let entries = take(&mut a, 100).await;
    a.ack(std::slice::from_ref(&entries[99].id)).await.unwrap();
    let held = segment_files(dir.path()).len();
    assert!(held > 2, "b holds the segments it has not acknowledged");
    assert!(matches!(
        queue.remove_consumer("b"),
        Err(Error::ConsumerBusy { .. })
    ));
    drop(b);
    queue.remove_consumer("b").unwrap();
    assert!(segment_files(dir.path()).len() < held, "released at once");
    assert!(!dir.path().join(cursor::file_name("b")).exists());
    assert_eq!(queue.stats().consumers.len(), 1);
    assert!(matches!(
        queue.consumer("b"),
        Err(Error::UnknownConsumer { .. })
    ));
    assert!(matches!(
        queue.remove_consumer("b"),
        Err(Error::UnknownConsumer { .. })
    ));
    // The name can come back: at the tail, not where it was.
    let mut b = queue.add_consumer("b").unwrap();
    append_range(&queue, 100..101, 200).await;
    assert_eq!(take_ids(&mut b, 1).await, [100]);
    assert_eq!(take_ids(&mut a, 1).await, [100]);
    drop((a, b));
    queue.close().await.unwrap();
    drop(queue);
    let _: (Queue, _) = open(&options(dir.path(), &["a", "b"]));
}
