//! The keeper: once a second, trims every stream below what all its groups still need
//! and takes the stats `/health` and `/metrics` show. One per queue; it stops when the
//! queue's last handle is dropped.

use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::Value;
use tokio_util::sync::CancellationToken;

use super::reply::{self, StreamId};
use super::{Inner, lock};
use crate::stats::{GroupStats, RedisStats, StreamStats};

/// How often the keeper runs.
const PERIOD: Duration = Duration::from_secs(1);

/// The keeper's last look.
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshot {
    pub(crate) streams: Vec<StreamStats>,
    pub(crate) redis: RedisStats,
}

/// Runs until `stop` is cancelled or the queue is gone.
pub(crate) async fn run(queue: Weak<Inner>, stop: CancellationToken) {
    loop {
        let Some(inner) = queue.upgrade() else {
            return;
        };
        round(&inner).await;
        drop(inner);
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(PERIOD) => {}
        }
    }
}

/// One round: stats and trimming for every shard.
async fn round(inner: &Arc<Inner>) {
    let mut conn = match inner.link.get(inner).await {
        Ok(conn) => conn,
        Err(e) => {
            let mut snapshot = lock(&inner.snapshot);
            snapshot.redis.reachable = false;
            snapshot.redis.error = Some(e.to_string());
            return;
        }
    };
    let mut streams = Vec::with_capacity(inner.keys.len());
    for key in &inner.keys {
        match look(&mut conn, key).await {
            Ok(stream) => streams.push(stream),
            Err(e) => {
                let error = inner.link.failed(&e);
                let mut snapshot = lock(&inner.snapshot);
                snapshot.redis.reachable = false;
                snapshot.redis.error = Some(error.to_string());
                return;
            }
        }
    }
    let policy = eviction_policy(&mut conn).await;
    if let Some(policy) = policy.as_deref()
        && policy != "noeviction"
        && lock(&inner.snapshot).redis.eviction_policy.as_deref() != Some(policy)
    {
        tracing::error!(
            policy,
            "Redis maxmemory-policy is not noeviction: Redis may evict the buffer's streams and lose acknowledged data; set `maxmemory-policy noeviction`"
        );
    }
    let mut snapshot = lock(&inner.snapshot);
    snapshot.streams = streams;
    snapshot.redis.reachable = true;
    snapshot.redis.error = None;
    snapshot.redis.eviction_policy = policy;
}

/// Length and groups of one stream, trimming it on the way.
async fn look(
    conn: &mut redis::aio::MultiplexedConnection,
    key: &str,
) -> redis::RedisResult<StreamStats> {
    let length: u64 = redis::cmd("XLEN").arg(key).query_async(conn).await?;
    let info: redis::RedisResult<Value> = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(key)
        .query_async(conn)
        .await;
    let groups = match info {
        Ok(value) => reply::groups(&value),
        // No such key: nothing to trim or count.
        Err(e) if e.code() == Some("ERR") && length == 0 => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut needed: Option<StreamId> = None;
    let mut stats = Vec::with_capacity(groups.len());
    for group in &groups {
        let oldest = if group.pending > 0 {
            let summary: Value = redis::cmd("XPENDING")
                .arg(key)
                .arg(&group.name)
                .query_async(conn)
                .await?;
            reply::oldest_pending(&summary)
        } else {
            None
        };
        // Everything up to the last delivered entry is acknowledged, except what is
        // pending: keep from the oldest pending one, or from the last delivered one.
        let keep_from = oldest.unwrap_or(group.last_delivered);
        needed = Some(needed.map_or(keep_from, |n| n.min(keep_from)));
        stats.push(GroupStats {
            name: group.name.clone(),
            pending: group.pending,
            lag: group.lag,
        });
    }
    // With no group at all nothing is trimmed: no one has said what it still needs.
    if let Some(min) = needed.filter(|m| *m > StreamId::default()) {
        let _trimmed: u64 = redis::cmd("XTRIM")
            .arg(key)
            .arg("MINID")
            .arg(min.to_string())
            .query_async(conn)
            .await?;
    }
    Ok(StreamStats {
        key: key.to_owned(),
        length,
        groups: stats,
    })
}

/// `CONFIG GET maxmemory-policy`, `None` when `CONFIG` is not allowed (managed Redis).
async fn eviction_policy(conn: &mut redis::aio::MultiplexedConnection) -> Option<String> {
    let value: Value = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory-policy")
        .query_async(conn)
        .await
        .ok()?;
    reply::pairs(&value)
        .into_iter()
        .find(|(k, _)| *k == b"maxmemory-policy")
        .and_then(|(_, v)| reply::bytes(v))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}
