//! The Redis Streams queue: many gateways share one stream (or `shards` of them), every
//! output is a consumer group, and each gateway is one consumer in each group, so the
//! gateways of a region split the forwarding work and take over what a dead one held.
//!
//! - Append: one entry per record (`XADD … NOMKSTREAM`, field `r`), through a Lua script
//!   that first refuses with `FULL` when the stream holds `max_len` entries or more (never
//!   `MAXLEN`: trimming on append deletes entries a slow group has not read). `Ok` means
//!   Redis answered with the new id (and, with `wait_replicas`, that `WAIT` counted that
//!   many replicas). A reply that never came is [`Error::Unavailable`]: the entry may
//!   exist, so a client that resends may get its batch delivered twice; identical points
//!   collapse in InfluxDB (same series and timestamp: the last write wins with the same
//!   values).
//! - Groups: `{group}:{output}`, created at id `0` with `MKSTREAM` whenever a connection is
//!   made, before any append on it, so a stream that vanished (a restart without
//!   persistence, `DEL`, eviction) gets its groups back before new entries arrive; a read
//!   that meets `NOGROUP` re-creates its group the same way and counts it
//!   ([`Stats::streams`]). An output added by a reload starts at `$` (the tail).
//! - Consume ([`consumer`]): first the consumer's own pending entries (what it held when it
//!   last stopped), then new ones (`XREADGROUP … >`, on a connection of its own with its
//!   own timeout, as blocking reads need), and every `claim_idle / 2` the entries other
//!   consumers have left idle for `claim_idle` (`XAUTOCLAIM`, page by page). Entries handed
//!   out and not yet acknowledged are kept fresh (`XCLAIM … JUSTID` every `claim_idle / 3`)
//!   so a slow but live gateway is not robbed. `ack` is `XACK` of exactly those ids.
//! - Trim ([`keeper`]): once a second, each stream is trimmed (`XTRIM MINID`) below the
//!   oldest entry some group still needs: its oldest pending entry, or past its last
//!   delivered one. Redis 7.0 has no `XTRIM … ACKED`; this is the same rule.
//!
//! Durability is Redis': with `appendonly yes` and `appendfsync always` an acknowledged
//! entry survives a Redis crash; with `everysec` up to a second of entries can be lost on
//! a power cut; without AOF, whatever came after the last RDB snapshot. `maxmemory-policy`
//! must be `noeviction` (checked, and shown in `/health`): an evicted stream loses data.

mod append;
mod consumer;
mod keeper;
mod link;
mod reply;

pub(crate) use consumer::RedisConsumer;
pub use reply::StreamId;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use crate::stats::{ConsumerStats, Stats};
use crate::{Error, options::validate_new_consumer};
use link::Link;

/// Settings of a [`RedisQueue`].
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// The stream key (with `shards > 1`, the keys are `{stream}:0` … `{stream}:{n-1}`).
    pub stream: String,
    /// Prefix of the consumer groups: output `o` reads as group `{group}:{o}`.
    pub group: String,
    /// This gateway's consumer name in every group; unique per process (host and pid).
    pub consumer: String,
    /// Most entries one stream may hold; an append beyond it is refused ([`Error::StreamFull`]).
    pub max_len: u64,
    /// Streams the records are spread over, by the key each append gives.
    pub shards: usize,
    /// Replicas that must have the entry (`WAIT`, for at most half of `timeout`) before an
    /// append succeeds; 0: none.
    pub wait_replicas: u32,
    /// Longest one Redis command may take (connect included); blocking reads get this
    /// on top of their block time.
    pub timeout: Duration,
    /// How long an entry may sit unacknowledged with a consumer before another claims it.
    pub claim_idle: Duration,
    /// An entry handed out more often than this is reported poisoned
    /// ([`Entry::deliveries`](crate::Entry::deliveries)); the gateway dead-letters it.
    pub max_deliveries: u32,
    /// The consumers (outputs) this gateway runs.
    pub consumers: Vec<String>,
}

/// The Redis Streams queue (see the module documentation). Cheap to clone.
#[derive(Clone)]
pub struct RedisQueue {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("keys", &self.inner.keys)
            .finish_non_exhaustive()
    }
}

/// What the queue's handles share.
pub(crate) struct Inner {
    opts: RedisOptions,
    /// Stream key per shard.
    keys: Vec<String>,
    /// The shared connection: appends, acks, claims, groups, the keeper.
    link: Link,
    /// Consumers in configuration order, and whether each one's `RedisConsumer` is alive.
    consumers: Mutex<Vec<(String, bool)>>,
    /// The keeper's last look at the streams, for `stats`.
    snapshot: Mutex<keeper::Snapshot>,
    closed: AtomicBool,
    /// Consumer groups re-created after `NOGROUP` since the start.
    groups_recreated: AtomicU64,
    /// Stops the keeper when the last handle goes.
    stop: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl RedisQueue {
    /// Checks the options and the URL and starts the keeper (trimming and stats); connects
    /// lazily, so a gateway starts while Redis is down and answers `503` until it is back.
    /// Must be called inside a tokio runtime.
    ///
    /// Errors: [`Error::InvalidOptions`] for a bad URL, no shards, a zero `max_len`, an
    /// empty stream, group or consumer name; [`Error::InvalidConsumerName`] for a consumer
    /// listed twice.
    pub fn open(opts: RedisOptions) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidOptions { reason };
        if opts.shards == 0 || opts.shards > 1024 {
            return Err(invalid(format!(
                "shards = {} (must be 1 to 1024)",
                opts.shards
            )));
        }
        if opts.max_len == 0 {
            return Err(invalid("max_len = 0".to_owned()));
        }
        for (what, value) in [
            ("stream", &opts.stream),
            ("group", &opts.group),
            ("consumer", &opts.consumer),
        ] {
            if value.is_empty() {
                return Err(invalid(format!("{what} is empty")));
            }
        }
        let mut consumers: Vec<(String, bool)> = Vec::new();
        for name in &opts.consumers {
            validate_new_consumer(name, false, consumers.iter().any(|(n, _)| n == name))?;
            consumers.push((name.clone(), false));
        }
        let link = Link::open(&opts.url, opts.timeout).map_err(invalid)?;
        let keys = if opts.shards == 1 {
            vec![opts.stream.clone()]
        } else {
            (0..opts.shards)
                .map(|i| format!("{}:{i}", opts.stream))
                .collect()
        };
        let inner = Arc::new(Inner {
            opts,
            keys,
            link,
            consumers: Mutex::new(consumers),
            snapshot: Mutex::new(keeper::Snapshot::default()),
            closed: AtomicBool::new(false),
            groups_recreated: AtomicU64::new(0),
            stop: CancellationToken::new(),
        });
        tokio::spawn(keeper::run(Arc::downgrade(&inner), inner.stop.clone()));
        Ok(Self { inner })
    }

    /// Appends `record` to the shard `route` picks (`route % shards`). See the module
    /// documentation for what `Ok` means.
    ///
    /// Errors: [`Error::StreamFull`] at `max_len` (503 for the client),
    /// [`Error::Unavailable`] when Redis cannot be reached or did not answer in time (503:
    /// the entry may exist), [`Error::Closed`] after `close`.
    pub async fn append(&self, record: Bytes, route: u64) -> Result<(), Error> {
        let shard = usize::try_from(route % self.inner.keys.len() as u64).unwrap_or(0);
        self.inner.append(shard, record).await
    }

    /// Appends `record` to every shard (a statement every forwarder must meet between
    /// the records before and after it, whatever shard they are on).
    ///
    /// Errors: as [`append`](Self::append); on an error some shards may have it.
    pub async fn append_everywhere(&self, record: Bytes) -> Result<(), Error> {
        for shard in 0..self.inner.keys.len() {
            self.inner.append(shard, record.clone()).await?;
        }
        Ok(())
    }

    /// The consumer `name` (a configured output); only one may be alive at a time.
    ///
    /// Errors: [`Error::UnknownConsumer`], [`Error::ConsumerBusy`].
    pub(crate) fn consumer(&self, name: &str) -> Result<RedisConsumer, Error> {
        let mut consumers = lock(&self.inner.consumers);
        let Some(slot) = consumers.iter_mut().find(|(n, _)| n == name) else {
            return Err(Error::UnknownConsumer {
                name: crate::error::truncated(name),
                configured: crate::error::truncated(
                    &consumers
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            });
        };
        if slot.1 {
            return Err(Error::ConsumerBusy {
                name: crate::error::truncated(name),
            });
        }
        slot.1 = true;
        Ok(RedisConsumer::new(Arc::clone(&self.inner), name))
    }

    /// Adds the consumer `name` (an output added by a reload): its group is created at the
    /// stream's tail (`$`) on every shard if it does not exist yet (another gateway may
    /// have it already; then it resumes where that group is). Blocking: call it from
    /// `spawn_blocking`.
    ///
    /// Errors: [`Error::InvalidConsumerName`], [`Error::Closed`], [`Error::Unavailable`].
    pub(crate) fn add_consumer(&self, name: &str) -> Result<RedisConsumer, Error> {
        {
            let consumers = lock(&self.inner.consumers);
            validate_new_consumer(
                name,
                self.inner.closed.load(Ordering::Acquire),
                consumers.iter().any(|(n, _)| n == name),
            )?;
        }
        let inner = Arc::clone(&self.inner);
        let group = inner.group_of(name);
        tokio::runtime::Handle::current()
            .block_on(async move { inner.create_group(&group, "$").await })?;
        lock(&self.inner.consumers).push((name.to_owned(), false));
        self.consumer(name)
    }

    /// Removes the consumer `name` from this gateway. Its group stays in Redis, with what
    /// it has not acknowledged, since other gateways may still run that output: destroy it
    /// (`XGROUP DESTROY`) once no gateway does, or it holds trimming back.
    ///
    /// Errors: [`Error::UnknownConsumer`], [`Error::ConsumerBusy`] while its consumer lives.
    pub(crate) fn remove_consumer(&self, name: &str) -> Result<(), Error> {
        let mut consumers = lock(&self.inner.consumers);
        match consumers.iter().position(|(n, _)| n == name) {
            None => Err(Error::UnknownConsumer {
                name: crate::error::truncated(name),
                configured: String::new(),
            }),
            Some(i) if consumers[i].1 => Err(Error::ConsumerBusy {
                name: crate::error::truncated(name),
            }),
            Some(i) => {
                consumers.remove(i);
                Ok(())
            }
        }
    }

    /// The keeper's last look (at most a second old): entries per stream, and per group
    /// pending entries and lag; per configured consumer, pending plus lag over all shards.
    pub fn stats(&self) -> Stats {
        let mut snapshot = lock(&self.inner.snapshot).clone();
        snapshot.redis.groups_recreated = self.inner.groups_recreated.load(Ordering::Relaxed);
        let consumers = lock(&self.inner.consumers)
            .iter()
            .map(|(name, _)| {
                let group = self.inner.group_of(name);
                let pending = snapshot
                    .streams
                    .iter()
                    .flat_map(|s| &s.groups)
                    .filter(|g| g.name == group)
                    .map(|g| g.pending + g.lag.unwrap_or(0))
                    .sum();
                ConsumerStats {
                    name: name.clone(),
                    pending_records: pending,
                    pending_bytes: 0,
                }
            })
            .collect();
        Stats {
            retained_bytes: 0,
            max_size: 0,
            segments: 0,
            records: snapshot.streams.iter().map(|s| s.length).sum(),
            consumers,
            streams: snapshot.streams,
            redis: Some(snapshot.redis),
        }
    }

    /// Refuses further appends; consumers stop handing out entries.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
    }
}

impl Inner {
    /// The consumer group of output `name`.
    fn group_of(&self, name: &str) -> String {
        format!("{}:{name}", self.opts.group)
    }

    /// `XGROUP CREATE … MKSTREAM` of `group` at `start` on every shard; an existing
    /// group is left as it is.
    async fn create_group(&self, group: &str, start: &str) -> Result<(), Error> {
        let mut conn = self.link.get(self).await?;
        for key in &self.keys {
            let created: redis::RedisResult<redis::Value> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(key)
                .arg(group)
                .arg(start)
                .arg("MKSTREAM")
                .query_async(&mut conn)
                .await;
            match created {
                Ok(_) => {
                    tracing::info!(stream = %key, group, start, "consumer group created");
                }
                Err(e) if e.code() == Some("BUSYGROUP") => {}
                Err(e) => return Err(self.link.failed(&e)),
            }
        }
        Ok(())
    }

    /// Creates the group of every configured consumer at `0` (called on each new
    /// connection, before anything else is sent on it).
    async fn ensure_groups(
        &self,
        conn: &mut redis::aio::MultiplexedConnection,
    ) -> Result<(), redis::RedisError> {
        let groups: Vec<String> = lock(&self.consumers)
            .iter()
            .map(|(name, _)| self.group_of(name))
            .collect();
        for key in &self.keys {
            for group in &groups {
                let created: redis::RedisResult<redis::Value> = redis::cmd("XGROUP")
                    .arg("CREATE")
                    .arg(key)
                    .arg(group)
                    .arg("0")
                    .arg("MKSTREAM")
                    .query_async(conn)
                    .await;
                match created {
                    Ok(_) => {
                        tracing::info!(stream = %key, group = %group, "consumer group created at 0")
                    }
                    Err(e) if e.code() == Some("BUSYGROUP") => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
