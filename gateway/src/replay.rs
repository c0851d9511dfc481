//! Replaying dead-lettered batches (`sluice dlq replay`): each chosen entry goes back
//! into the buffer — through the current plugin chain when a plugin had failed on it,
//! straight in when a store had rejected it (its lines are already the chain's output) —
//! and is removed from the store only once the buffer holds it durably.

use crate::buffer::{Queue, QueueError};
use crate::chain::{Chain, ChainOutcome, Resend};
use crate::dead_letter::{DeadLetterError, DeadLetters, EntryMeta};

/// Why a replay stopped before trying every entry.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The store could not be read or an entry could not be removed.
    #[error(transparent)]
    Store(#[from] DeadLetterError),
    /// The buffer refused the batch (full, or a disk error); the entry is kept.
    #[error("buffer: {0}")]
    Buffer(#[from] QueueError),
}

/// Which entries to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every entry, oldest first.
    All,
    /// These ids, in this order.
    Ids(Vec<String>),
}

/// What happened to one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryResult {
    /// In the buffer (`points` after the chain) and removed from the store.
    Replayed {
        /// Points appended.
        points: usize,
    },
    /// The chain failed on it again; it stays in the store.
    Failed {
        /// The plugin and its error.
        error: String,
    },
}

/// Replays the selected entries in order, stopping at the first buffer or store error
/// (the entries not yet replayed stay in the store). Calls `report` after each entry.
pub async fn replay(
    store: &DeadLetters,
    selection: &Selection,
    chain: &Chain,
    queue: &Queue,
    mut report: impl FnMut(&EntryMeta, &EntryResult),
) -> Result<(), ReplayError> {
    let ids: Vec<String> = match selection {
        Selection::All => store.list()?.into_iter().map(|m| m.id).collect(),
        Selection::Ids(ids) => ids.clone(),
    };
    for id in ids {
        let (meta, batch) = store.get(&id)?;
        let batch = if meta.stage == "plugin" {
            // The plugins see the write's origin again; with no client to retry, an
            // unavailable dependency is a failure.
            match chain.run(batch, &meta.origin, Resend::Impossible).await {
                ChainOutcome::Forward(batch) => batch,
                ChainOutcome::DeadLetter { failure, .. }
                | ChainOutcome::Dropped { failure, .. }
                | ChainOutcome::Unavailable(failure) => {
                    report(
                        &meta,
                        &EntryResult::Failed {
                            error: failure.error,
                        },
                    );
                    continue;
                }
            }
        } else {
            batch
        };
        if batch.points() > 0 {
            queue.append(batch.record()).await?;
        }
        store.remove(&id)?;
        report(
            &meta,
            &EntryResult::Replayed {
                points: batch.points(),
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Batch, Context};
    use crate::dead_letter::NewEntry;

    #[tokio::test]
    async fn replays_into_the_buffer_and_removes_only_what_was_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let store = DeadLetters::open(dir.path()).unwrap();
        let batch = Batch::from_lines(Context::from_bucket("db"), b"m v=1 1\nm v=2 2\n", 2);
        let mut ids = Vec::new();
        for stage in ["plugin", "output"] {
            ids.push(
                store
                    .put(&NewEntry {
                        stage,
                        source: "x",
                        plugin_sha256: None,
                        status: None,
                        batch: &batch,
                        error: "boom",
                        origin: crate::batch::Origin::default(),
                    })
                    .unwrap(),
            );
        }
        let queue = Queue::memory(sluice_buffer::MemoryOptions {
            max_size: 1 << 20,
            consumers: vec!["out".to_owned()],
        });
        let mut seen = Vec::new();
        replay(
            &store,
            &Selection::Ids(vec![ids[1].clone()]),
            &Chain::empty(),
            &queue,
            |meta, result| seen.push((meta.id.clone(), result.clone())),
        )
        .await
        .unwrap();
        assert_eq!(
            seen,
            [(ids[1].clone(), EntryResult::Replayed { points: 2 })]
        );
        assert_eq!(store.list().unwrap().len(), 1);
        replay(&store, &Selection::All, &Chain::empty(), &queue, |_, _| {})
            .await
            .unwrap();
        assert!(store.list().unwrap().is_empty());
        assert_eq!(queue.stats().records, 2);
        let missing = replay(
            &store,
            &Selection::Ids(vec!["nope".into()]),
            &Chain::empty(),
            &queue,
            |_, _| {},
        )
        .await;
        assert!(matches!(
            missing,
            Err(ReplayError::Store(DeadLetterError::NotFound(_)))
        ));
    }
}
