//! The queue the gateway holds: one type over the disk, memory and Redis variants.

use crate::disk::DiskConsumer;
use crate::memory::MemoryConsumer;
use crate::position::IdRepr;
use crate::redis::RedisConsumer;
use crate::{
    DiskOptions, DiskQueue, Entry, EntryId, Error, MemoryOptions, MemoryQueue, Record,
    RecoveryReport, RedisOptions, RedisQueue, Stats,
};

/// An at-least-once queue with one cursor per consumer. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub enum Queue {
    /// Durable: segment files with group commit; survives `kill -9` and power loss.
    Disk(DiskQueue),
    /// In memory: same semantics, lost on exit.
    Memory(MemoryQueue),
    /// Redis Streams shared by many gateways; one consumer group per output.
    Redis(RedisQueue),
}

impl Queue {
    /// Opens (creating if needed) the disk buffer in `opts.dir`, recovering from a crash if
    /// there was one: the report says what was found and repaired, for the gateway to log.
    ///
    /// Fails with `Error::Locked` if another process has the directory open. Blocking (it reads
    /// every retained segment to verify its checksums): call it at startup or from
    /// `spawn_blocking`.
    ///
    /// Dropping the last clone without `close` stops the writer thread after the group commit
    /// in progress (the drop waits for it) and persists nothing more: a crash, as far as the
    /// files are concerned.
    pub fn open_disk(opts: DiskOptions) -> Result<(Queue, RecoveryReport), Error> {
        let (queue, report) = DiskQueue::open(opts)?;
        Ok((Queue::Disk(queue), report))
    }

    /// Creates an empty in-memory queue. A consumer listed twice counts once; with no consumer
    /// at all, nothing waits for a record and appended records are dropped at once.
    pub fn memory(opts: MemoryOptions) -> Queue {
        Queue::Memory(MemoryQueue::new(opts))
    }

    /// Opens the Redis queue (connecting lazily; see [`RedisQueue::open`]).
    ///
    /// Errors: [`Error::InvalidOptions`], [`Error::InvalidConsumerName`].
    pub fn redis(opts: RedisOptions) -> Result<Queue, Error> {
        Ok(Queue::Redis(RedisQueue::open(opts)?))
    }

    /// Appends a record with no particular route (shard 0 of a sharded Redis queue); see
    /// [`append_routed`](Self::append_routed).
    pub async fn append(&self, record: impl Into<Record>) -> Result<(), Error> {
        self.append_routed(record, 0).await
    }

    /// Appends a record every consumer must meet between the records before and after it
    /// (a schema statement): on every shard of a sharded Redis queue, once elsewhere.
    ///
    /// Errors: as [`append_routed`](Self::append_routed).
    pub async fn append_everywhere(&self, record: impl Into<Record>) -> Result<(), Error> {
        match self {
            Queue::Redis(queue) => queue.append_everywhere(record.into().into_bytes()).await,
            other => other.append_routed(record, 0).await,
        }
    }

    /// Appends a record; `Ok` means it is durable (written and `fdatasync`ed) for the disk
    /// variant, and in Redis for the Redis variant, where `route` picks the shard (records
    /// with the same route keep their order). Fails at once with `Error::Full` when it would take the queue past `max_size`
    /// (nothing is dropped to make room), and with `Error::RecordTooLarge` when it never could
    /// fit.
    ///
    /// Cancelling the future after the record was handed to the writer does not withdraw it:
    /// it may still become durable and be delivered.
    /// `Error::StreamFull` and `Error::Unavailable` are the Redis variant's (503 for a
    /// client).
    pub async fn append_routed(&self, record: impl Into<Record>, route: u64) -> Result<(), Error> {
        let record = record.into();
        match self {
            Queue::Disk(queue) => queue.append(record).await,
            Queue::Memory(queue) => queue.append(record.into_bytes()),
            Queue::Redis(queue) => queue.append(record.into_bytes(), route).await,
        }
    }

    /// The consumer `name`, which must be one of the configured (or added) consumers; it resumes after
    /// the last record it acknowledged. Only one `Consumer` per name may be alive at a time
    /// (`Error::ConsumerBusy`); a new one after the old is dropped re-delivers what the old one
    /// read but did not acknowledge.
    pub fn consumer(&self, name: &str) -> Result<Consumer, Error> {
        let inner = match self {
            Queue::Disk(queue) => ConsumerInner::Disk(queue.consumer(name)?),
            Queue::Memory(queue) => ConsumerInner::Memory(queue.consumer(name)?),
            Queue::Redis(queue) => ConsumerInner::Redis(Box::new(queue.consumer(name)?)),
        };
        Ok(Consumer { inner })
    }

    /// Adds the consumer `name` (an output added by a reload): it starts at the tail, so its
    /// first record is the next one committed after this call, and only its `Consumer` is
    /// returned (it is live). For the disk variant its cursor file is written and synced
    /// before this returns, so a restart that configures `name` resumes it there.
    ///
    /// Fails with `Error::InvalidConsumerName` for a name unusable in a file name or already
    /// in use, `Error::Closed` after `close`, or an I/O error. Blocking for the disk variant
    /// (one `fsync`): call it from `spawn_blocking` or at startup.
    pub fn add_consumer(&self, name: &str) -> Result<Consumer, Error> {
        let inner = match self {
            Queue::Disk(queue) => ConsumerInner::Disk(queue.add_consumer(name)?),
            Queue::Memory(queue) => ConsumerInner::Memory(queue.add_consumer(name)?),
            Queue::Redis(queue) => ConsumerInner::Redis(Box::new(queue.add_consumer(name)?)),
        };
        Ok(Consumer { inner })
    }

    /// Removes the consumer `name` (an output removed by a reload): it no longer holds any
    /// record, so segments only it had not acknowledged are reclaimed, and its cursor file is
    /// deleted (disk). Its `Consumer` must have been dropped first (`Error::ConsumerBusy`);
    /// `Error::UnknownConsumer` if there is no such consumer. The name can be added again
    /// later (starting at the tail). Blocking for the disk variant.
    pub fn remove_consumer(&self, name: &str) -> Result<(), Error> {
        match self {
            Queue::Disk(queue) => queue.remove_consumer(name),
            Queue::Memory(queue) => queue.remove_consumer(name),
            Queue::Redis(queue) => queue.remove_consumer(name),
        }
    }

    /// Fill level: retained bytes, cap, segments, and per-consumer pending records and bytes.
    pub fn stats(&self) -> Stats {
        match self {
            Queue::Disk(queue) => queue.stats(),
            Queue::Memory(queue) => queue.stats(),
            Queue::Redis(queue) => queue.stats(),
        }
    }

    /// Refuses further appends, waits until every accepted append is durable, stops the writer
    /// thread and syncs the cursor files. Consumers can still read what is retained; once they
    /// have read everything, `next` returns `Error::Closed`. Idempotent.
    pub async fn close(&self) -> Result<(), Error> {
        match self {
            Queue::Disk(queue) => queue.close().await,
            Queue::Memory(queue) => {
                queue.close();
                Ok(())
            }
            Queue::Redis(queue) => {
                queue.close();
                Ok(())
            }
        }
    }
}

/// One consumer (one output) of a queue, with its own cursor.
pub struct Consumer {
    inner: ConsumerInner,
}

enum ConsumerInner {
    Disk(DiskConsumer),
    Memory(MemoryConsumer),
    Redis(Box<RedisConsumer>),
}

impl Consumer {
    /// Waits until at least one unacknowledged record is available, then returns up to
    /// `max_records` records totalling at most `max_bytes` (always at least one record even
    /// if it alone exceeds `max_bytes`).
    ///
    /// Successive calls continue where the previous one stopped, whether or not the records
    /// were acknowledged. Cancel-safe: a cancelled call hands out nothing and skips nothing.
    /// Returns `Error::Closed` once the queue is closed and everything has been read.
    pub async fn next(
        &mut self,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Entry>, Error> {
        let log = match &mut self.inner {
            ConsumerInner::Disk(consumer) => consumer.next(max_records, max_bytes).await?,
            ConsumerInner::Memory(consumer) => consumer.next(max_records, max_bytes).await?,
            ConsumerInner::Redis(consumer) => return consumer.next(max_records, max_bytes).await,
        };
        Ok(log.into_iter().map(Entry::from_log).collect())
    }

    /// An entry handed out more often than this is poison (see [`Entry::deliveries`]):
    /// the Redis variant's `max_deliveries`; `None` for the log variants, which hand an
    /// entry out once per process.
    pub fn max_deliveries(&self) -> Option<u32> {
        match &self.inner {
            ConsumerInner::Redis(consumer) => Some(consumer.max_deliveries()),
            _ => None,
        }
    }

    /// The entries `ids` are done for this consumer.
    ///
    /// Log variants (disk, memory): acknowledgement is cumulative, so the newest of `ids`
    /// acknowledges every record before it too; consumers acknowledge in the order they
    /// read. It persists the cursor (not `fsync`ed: a power loss may re-deliver, never
    /// lose) and deletes segments every consumer has passed; an older position than an
    /// earlier ack does nothing. Redis: `XACK` of exactly `ids`.
    pub async fn ack(&mut self, ids: &[EntryId]) -> Result<(), Error> {
        let newest = || {
            ids.iter()
                .filter_map(|id| match &id.0 {
                    IdRepr::Log(pos) => Some(*pos),
                    IdRepr::Stream { .. } => None,
                })
                .max()
        };
        match &mut self.inner {
            ConsumerInner::Disk(consumer) => match newest() {
                Some(pos) => consumer.ack(pos).await,
                None => Ok(()),
            },
            ConsumerInner::Memory(consumer) => match newest() {
                Some(pos) => consumer.ack(pos),
                None => Ok(()),
            },
            ConsumerInner::Redis(consumer) => consumer.ack(ids).await,
        }
    }
}
