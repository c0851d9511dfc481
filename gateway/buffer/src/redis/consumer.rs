//! [`RedisConsumer`]: one output's reader of the Redis queue, one consumer in the output's
//! group. It hands out, in this order of preference: its own pending entries (what it held
//! when the process last stopped), entries other consumers left idle for `claim_idle`
//! (`XAUTOCLAIM`, every `claim_idle / 2`), then new ones (`XREADGROUP … >`, blocking for
//! up to 250 ms on a connection of its own). Every 100 ms it also takes over, at once,
//! the entries of consumers that are gone (see `rescue`).
//!
//! Cancel-safe: the read in progress lives in the consumer, not in the `next` future, so
//! a cancelled `next` loses nothing: the next call picks the same read up (entries Redis
//! already moved to this consumer's pending list are handed out then).

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::Value;
use redis::aio::MultiplexedConnection;

use super::link::is_connection_error;
use super::reply::{self, RawEntry, StreamId};
use super::{Inner, lock};
use crate::position::IdRepr;
use crate::{Entry, EntryId, Error};

/// How long one `XREADGROUP` blocks waiting for new entries (short: between reads the
/// consumer looks for entries of gateways that died).
const BLOCK: Duration = Duration::from_millis(250);
/// How often a reader looks for consumers that are gone (no connection) but hold entries.
const RESCUE_PERIOD: Duration = Duration::from_millis(100);
/// An entry is taken over from a gone consumer only once it has been idle this long (its
/// consumer is gone, so at once; two gateways rescuing together at worst both deliver it).
const RESCUE_MIN_IDLE: Duration = Duration::ZERO;
/// First guess of an entry's size, for how many to read at once.
const FIRST_ENTRY_GUESS: usize = 64 * 1024;

type Read = Pin<Box<dyn Future<Output = (Reader, Result<Vec<Entry>, Error>)> + Send>>;

/// Entries handed out and not yet acknowledged, as `(shard, id)`.
type Held = Arc<Mutex<BTreeSet<(usize, StreamId)>>>;

/// One output's consumer of the Redis queue.
pub(crate) struct RedisConsumer {
    inner: Arc<Inner>,
    name: String,
    group: String,
    /// `None` while a read is in progress (it owns the reader).
    reader: Option<Reader>,
    read: Option<Read>,
    held: Held,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl Drop for RedisConsumer {
    fn drop(&mut self) {
        self.heartbeat.abort();
        if let Some(slot) = lock(&self.inner.consumers)
            .iter_mut()
            .find(|(n, _)| *n == self.name)
        {
            slot.1 = false;
        }
    }
}

/// What a read needs, owned, so it can outlive a cancelled `next`.
struct Reader {
    inner: Arc<Inner>,
    group: String,
    /// The blocking reads' own connection.
    conn: Option<MultiplexedConnection>,
    /// Per shard, while this consumer's own pending entries are being re-read: the id
    /// after which to go on.
    draining: Vec<Option<StreamId>>,
    /// Per shard, where the current `XAUTOCLAIM` pass is.
    claim_cursor: Vec<StreamId>,
    next_claim: Instant,
    next_rescue: Instant,
    /// `CLIENT LIST` is not allowed: gone consumers are found by idle time only.
    no_client_list: bool,
    /// Running average of an entry's size, bytes.
    entry_bytes: usize,
}

impl RedisConsumer {
    pub(super) fn new(inner: Arc<Inner>, name: &str) -> Self {
        let group = inner.group_of(name);
        let shards = inner.keys.len();
        let held: Held = Arc::default();
        let heartbeat = tokio::spawn(heartbeat(
            Arc::clone(&inner),
            group.clone(),
            Arc::clone(&held),
        ));
        let reader = Reader {
            inner: Arc::clone(&inner),
            group: group.clone(),
            conn: None,
            draining: vec![Some(StreamId::default()); shards],
            claim_cursor: vec![StreamId::default(); shards],
            next_claim: Instant::now(),
            next_rescue: Instant::now(),
            no_client_list: false,
            entry_bytes: FIRST_ENTRY_GUESS,
        };
        Self {
            inner,
            name: name.to_owned(),
            group,
            reader: Some(reader),
            read: None,
            held,
            heartbeat,
        }
    }

    /// The poison threshold: an entry handed out more often than this should be
    /// dead-lettered.
    pub(crate) fn max_deliveries(&self) -> u32 {
        self.inner.opts.max_deliveries
    }

    /// See `Consumer::next`; `max_bytes` is met on average (entries are read by count).
    pub(crate) async fn next(
        &mut self,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Entry>, Error> {
        loop {
            let read = match &mut self.read {
                Some(read) => read,
                None => {
                    let Some(reader) = self.reader.take() else {
                        return Err(Error::Closed);
                    };
                    self.read
                        .insert(Box::pin(reader.read(max_records.max(1), max_bytes)))
                }
            };
            let (reader, result) = read.await;
            self.read = None;
            self.reader = Some(reader);
            let entries = result?;
            if entries.is_empty() {
                continue;
            }
            let mut held = lock(&self.held);
            for entry in &entries {
                if let IdRepr::Stream { shard, id } = &entry.id.0 {
                    held.insert((*shard, *id));
                }
            }
            return Ok(entries);
        }
    }

    /// `XACK`s `ids` in this consumer's group.
    ///
    /// Errors: [`Error::Unavailable`]; the entries stay pending and are handed out again
    /// (here or to another gateway) once idle for `claim_idle`.
    pub(crate) async fn ack(&mut self, ids: &[EntryId]) -> Result<(), Error> {
        let mut by_shard: Vec<Vec<StreamId>> = vec![Vec::new(); self.inner.keys.len()];
        {
            let mut held = lock(&self.held);
            for id in ids {
                if let IdRepr::Stream { shard, id } = &id.0
                    && let Some(list) = by_shard.get_mut(*shard)
                {
                    held.remove(&(*shard, *id));
                    list.push(*id);
                }
            }
        }
        let mut conn = self.inner.link.get(&self.inner).await?;
        for (shard, list) in by_shard.iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            xack(&mut conn, &self.inner.keys[shard], &self.group, list)
                .await
                .map_err(|e| self.inner.link.failed(&e))?;
        }
        Ok(())
    }
}

impl Reader {
    async fn read(
        mut self,
        max_records: usize,
        max_bytes: usize,
    ) -> (Self, Result<Vec<Entry>, Error>) {
        let result = self.read_once(max_records, max_bytes).await;
        (self, result)
    }

    /// One attempt; an empty `Ok` when nothing came within the block time.
    async fn read_once(
        &mut self,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Entry>, Error> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let count = (max_bytes / self.entry_bytes.max(1)).clamp(1, max_records);
        if self.draining.iter().any(Option::is_some) {
            let entries = self.own_pending(count).await?;
            if !entries.is_empty() {
                return Ok(self.finish(entries));
            }
        }
        if Instant::now() >= self.next_rescue {
            self.next_rescue = Instant::now() + RESCUE_PERIOD;
            let entries = self.rescue(count).await?;
            if !entries.is_empty() {
                return Ok(self.finish(entries));
            }
        }
        if Instant::now() >= self.next_claim {
            let entries = self.claim(count).await?;
            if !entries.is_empty() {
                return Ok(self.finish(entries));
            }
        }
        let entries = self.new_entries(count).await?;
        Ok(self.finish(entries))
    }

    /// Updates the size estimate.
    fn finish(&mut self, entries: Vec<Entry>) -> Vec<Entry> {
        if let Some(total) = entries.iter().map(|e| e.data.len()).reduce(|a, b| a + b) {
            let average = total / entries.len();
            self.entry_bytes = (self.entry_bytes * 3 + average) / 4;
        }
        entries
    }

    /// This consumer's pending entries (`XREADGROUP … <id>`), shard by shard until each
    /// answers none.
    async fn own_pending(&mut self, count: usize) -> Result<Vec<Entry>, Error> {
        let inner = Arc::clone(&self.inner);
        let mut conn = inner.link.get(&inner).await?;
        let mut out = Vec::new();
        for shard in 0..inner.keys.len() {
            let Some(after) = self.draining[shard] else {
                continue;
            };
            let key = &inner.keys[shard];
            let mut cmd = read_group(&self.group, &inner.opts.consumer, count);
            cmd.arg("STREAMS").arg(key).arg(after.to_string());
            let Some(reply) = self.in_group(&mut conn, key, &cmd).await? else {
                self.draining[shard] = None;
                continue;
            };
            let raw: Vec<RawEntry> = reply::streams(&reply)
                .into_iter()
                .flat_map(|(_, entries)| entries)
                .collect();
            let Some(last) = raw.last().map(|e| e.id) else {
                self.draining[shard] = None;
                continue;
            };
            self.draining[shard] = Some(last);
            out.extend(self.with_deliveries(&mut conn, shard, raw).await?);
            if out.len() >= count {
                break;
            }
        }
        Ok(out)
    }

    /// Entries held by consumers of the group that are gone (no connection carries their
    /// client name: the process died), taken over at once rather than after `claim_idle`.
    async fn rescue(&mut self, count: usize) -> Result<Vec<Entry>, Error> {
        if self.no_client_list {
            return Ok(Vec::new());
        }
        let inner = Arc::clone(&self.inner);
        let mut conn = inner.link.get(&inner).await?;
        let me = &inner.opts.consumer;
        let mut connected: Option<std::collections::HashSet<String>> = None;
        let mut out = Vec::new();
        for shard in 0..inner.keys.len() {
            let key = &inner.keys[shard];
            let info: redis::RedisResult<Value> = redis::cmd("XINFO")
                .arg("CONSUMERS")
                .arg(key)
                .arg(&self.group)
                .query_async(&mut conn)
                .await;
            let info = match info {
                Ok(info) => info,
                Err(e) if is_connection_error(&e) => return Err(inner.link.failed(&e)),
                // NOGROUP and the like: the reads re-create the group.
                Err(_) => continue,
            };
            let holders: Vec<String> = reply::consumers(&info)
                .into_iter()
                .filter(|(name, pending)| *pending > 0 && name != me)
                .map(|(name, _)| name)
                .collect();
            if holders.is_empty() {
                continue;
            }
            if connected.is_none() {
                let list: redis::RedisResult<Value> = redis::cmd("CLIENT")
                    .arg("LIST")
                    .query_async(&mut conn)
                    .await;
                match list {
                    Ok(list) => connected = Some(reply::client_names(&list)),
                    Err(e) if is_connection_error(&e) => return Err(inner.link.failed(&e)),
                    Err(e) => {
                        tracing::warn!(error = %e, "CLIENT LIST is not allowed: entries of a dead gateway are taken over after claim_idle only");
                        self.no_client_list = true;
                        return Ok(out);
                    }
                }
            }
            let Some(names) = &connected else {
                return Ok(out);
            };
            for holder in holders {
                if names.contains(&super::link::client_name(&holder)) {
                    continue;
                }
                let rows: Value = redis::cmd("XPENDING")
                    .arg(key)
                    .arg(&self.group)
                    .arg("-")
                    .arg("+")
                    .arg(count)
                    .arg(&holder)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| inner.link.failed(&e))?;
                let ids: Vec<String> = reply::pending_deliveries(&rows)
                    .into_iter()
                    .map(|(id, _)| id.to_string())
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                let claimed: Value = redis::cmd("XCLAIM")
                    .arg(key)
                    .arg(&self.group)
                    .arg(me)
                    .arg(u64::try_from(RESCUE_MIN_IDLE.as_millis()).unwrap_or(0))
                    .arg(&ids)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| inner.link.failed(&e))?;
                let raw = reply::entries(&claimed);
                if raw.is_empty() {
                    continue;
                }
                tracing::warn!(stream = %key, group = %self.group, consumer = %holder, entries = raw.len(), "took over the entries of a consumer that is no longer connected (its gateway stopped)");
                out.extend(self.with_deliveries(&mut conn, shard, raw).await?);
                if out.len() >= count {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// Entries idle for `claim_idle` with any consumer of the group, now this one's.
    async fn claim(&mut self, count: usize) -> Result<Vec<Entry>, Error> {
        let inner = Arc::clone(&self.inner);
        let mut conn = inner.link.get(&inner).await?;
        let idle_ms = u64::try_from(inner.opts.claim_idle.as_millis()).unwrap_or(u64::MAX);
        let mut out = Vec::new();
        for shard in 0..inner.keys.len() {
            let key = &inner.keys[shard];
            let mut cmd = redis::cmd("XAUTOCLAIM");
            cmd.arg(key)
                .arg(&self.group)
                .arg(&inner.opts.consumer)
                .arg(idle_ms)
                .arg(self.claim_cursor[shard].to_string())
                .arg("COUNT")
                .arg(count);
            let Some(reply) = self.in_group(&mut conn, key, &cmd).await? else {
                continue;
            };
            let Some((cursor, claimed, deleted)) = reply::autoclaim(&reply) else {
                continue;
            };
            self.claim_cursor[shard] = cursor;
            if !deleted.is_empty() {
                tracing::error!(stream = %key, group = %self.group, entries = deleted.len(), "pending entries were deleted from the stream before being acknowledged (XDEL or XTRIM outside Sluice): they are lost");
            }
            if !claimed.is_empty() {
                tracing::warn!(stream = %key, group = %self.group, entries = claimed.len(), "claimed entries another consumer left idle (a gateway stopped or is stuck)");
                out.extend(self.with_deliveries(&mut conn, shard, claimed).await?);
            }
        }
        if self.claim_cursor.iter().all(|c| *c == StreamId::default()) {
            self.next_claim = Instant::now() + inner.opts.claim_idle / 2;
        }
        Ok(out)
    }

    /// New entries (`XREADGROUP … >`), blocking up to [`BLOCK`].
    async fn new_entries(&mut self, count: usize) -> Result<Vec<Entry>, Error> {
        let inner = Arc::clone(&self.inner);
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self
                .conn
                .insert(inner.link.dedicated(BLOCK, &inner.opts.consumer).await?),
        };
        let mut cmd = read_group(&self.group, &inner.opts.consumer, count);
        cmd.arg("BLOCK")
            .arg(u64::try_from(BLOCK.as_millis()).unwrap_or(250))
            .arg("STREAMS")
            .arg(&inner.keys);
        for _ in &inner.keys {
            cmd.arg(">");
        }
        let reply: redis::RedisResult<Value> = cmd.query_async(conn).await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(e) if e.code() == Some("NOGROUP") => {
                for key in &inner.keys {
                    self.recreate_group(key).await?;
                }
                return Ok(Vec::new());
            }
            Err(e) => {
                if is_connection_error(&e) {
                    self.conn = None;
                }
                return Err(inner.link.unavailable(&e));
            }
        };
        let mut out = Vec::new();
        for (key, raw) in reply::streams(&reply) {
            let Some(shard) = inner.keys.iter().position(|k| k.as_bytes() == key) else {
                continue;
            };
            out.extend(raw.into_iter().filter_map(|e| to_entry(shard, e, 1)));
        }
        Ok(out)
    }

    /// `raw` of shard `shard` with their delivery counts (`XPENDING` over their range);
    /// entries deleted from the stream are acknowledged and left out.
    async fn with_deliveries(
        &self,
        conn: &mut MultiplexedConnection,
        shard: usize,
        raw: Vec<RawEntry>,
    ) -> Result<Vec<Entry>, Error> {
        let (Some(first), Some(last)) = (raw.first().map(|e| e.id), raw.last().map(|e| e.id))
        else {
            return Ok(Vec::new());
        };
        let key = &self.inner.keys[shard];
        let rows: Value = redis::cmd("XPENDING")
            .arg(key)
            .arg(&self.group)
            .arg(first.to_string())
            .arg(last.to_string())
            .arg(raw.len().max(1) * 4 + 100)
            .arg(&self.inner.opts.consumer)
            .query_async(conn)
            .await
            .map_err(|e| self.inner.link.failed(&e))?;
        let deliveries = reply::pending_deliveries(&rows);
        let gone: Vec<StreamId> = raw
            .iter()
            .filter(|e| e.record.is_none())
            .map(|e| e.id)
            .collect();
        if !gone.is_empty() {
            tracing::error!(stream = %key, group = %self.group, entries = gone.len(), "pending entries no longer in the stream (deleted outside Sluice): acknowledged, they are lost");
            xack(conn, key, &self.group, &gone)
                .await
                .map_err(|e| self.inner.link.failed(&e))?;
        }
        Ok(raw
            .into_iter()
            .filter_map(|e| {
                let count = deliveries
                    .iter()
                    .find(|(id, _)| *id == e.id)
                    .map_or(1, |(_, n)| *n);
                to_entry(shard, e, count)
            })
            .collect())
    }

    /// Runs `cmd`, a command on this consumer's group on `key`; `Ok(None)` when the group
    /// was missing (`NOGROUP`: it is re-created at `0`).
    async fn in_group(
        &self,
        conn: &mut MultiplexedConnection,
        key: &str,
        cmd: &redis::Cmd,
    ) -> Result<Option<Value>, Error> {
        match cmd.query_async(conn).await {
            Ok(reply) => Ok(Some(reply)),
            Err(e) if e.code() == Some("NOGROUP") => {
                self.recreate_group(key).await?;
                Ok(None)
            }
            Err(e) => Err(self.inner.link.failed(&e)),
        }
    }

    /// Re-creates this consumer's group on `key` at `0` after `NOGROUP` (the stream or the
    /// group vanished), and counts it.
    async fn recreate_group(&self, key: &str) -> Result<(), Error> {
        tracing::error!(stream = %key, group = %self.group, "NOGROUP: the consumer group is gone (stream deleted or Redis restarted without persistence); re-creating it at 0");
        self.inner.groups_recreated.fetch_add(1, Ordering::Relaxed);
        self.inner.create_group(&self.group, "0").await
    }
}

/// An [`Entry`] of shard `shard`, `None` for an entry without a record (deleted).
fn to_entry(shard: usize, raw: RawEntry, deliveries: u32) -> Option<Entry> {
    Some(Entry {
        id: EntryId(IdRepr::Stream { shard, id: raw.id }),
        data: raw.record?,
        deliveries,
    })
}

/// `XACK key group ids…`.
async fn xack(
    conn: &mut MultiplexedConnection,
    key: &str,
    group: &str,
    ids: &[StreamId],
) -> redis::RedisResult<()> {
    let mut cmd = redis::cmd("XACK");
    cmd.arg(key).arg(group);
    for id in ids {
        cmd.arg(id.to_string());
    }
    let _acked: i64 = cmd.query_async(conn).await?;
    Ok(())
}

/// Every `claim_idle / 3`, resets the idle time of the entries this consumer holds
/// (`XCLAIM … 0 ids JUSTID`, which does not count as a delivery), so no other consumer
/// claims what a live but slow gateway is still delivering.
async fn heartbeat(inner: Arc<Inner>, group: String, held: Held) {
    let period = (inner.opts.claim_idle / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(period).await;
        let snapshot: Vec<(usize, StreamId)> = lock(&held).iter().copied().collect();
        if snapshot.is_empty() {
            continue;
        }
        let Ok(mut conn) = inner.link.get(&inner).await else {
            continue;
        };
        for (shard, key) in inner.keys.iter().enumerate() {
            let ids: Vec<String> = snapshot
                .iter()
                .filter(|(s, _)| *s == shard)
                .map(|(_, id)| id.to_string())
                .collect();
            for chunk in ids.chunks(1000) {
                let touched: redis::RedisResult<Value> = redis::cmd("XCLAIM")
                    .arg(key)
                    .arg(&group)
                    .arg(&inner.opts.consumer)
                    .arg(0)
                    .arg(chunk)
                    .arg("JUSTID")
                    .query_async(&mut conn)
                    .await;
                if let Err(e) = touched {
                    tracing::debug!(stream = %key, error = %e, "cannot refresh held entries");
                    break;
                }
            }
        }
    }
}

/// `XREADGROUP GROUP <group> <consumer> COUNT <count>`: the start both reads share (the
/// caller adds `BLOCK` and `STREAMS`).
fn read_group(group: &str, consumer: &str, count: usize) -> redis::Cmd {
    let mut cmd = redis::cmd("XREADGROUP");
    cmd.arg("GROUP")
        .arg(group)
        .arg(consumer)
        .arg("COUNT")
        .arg(count);
    cmd
}
