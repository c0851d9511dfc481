//! Appending one entry: the `XLEN` check and `XADD … NOMKSTREAM` in one script (atomic in
//! Redis, one round trip), then `WAIT` when replicas are required.

use std::sync::LazyLock;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use redis::{Script, Value};

use super::Inner;
use super::reply::{StreamId, bytes};
use crate::Error;

/// `KEYS[1]` stream, `ARGV[1]` max entries, `ARGV[2]` the record. Answers the new id, nil
/// when the stream does not exist (its groups are gone with it), or `FULL <len>`.
const APPEND: &str = r"
local len = redis.call('XLEN', KEYS[1])
if len >= tonumber(ARGV[1]) then
  return redis.error_reply('FULL ' .. len)
end
return redis.call('XADD', KEYS[1], 'NOMKSTREAM', '*', 'r', ARGV[2])
";

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(APPEND));

impl Inner {
    /// Appends `record` to shard `shard`; see [`RedisQueue::append`](super::RedisQueue::append).
    pub(super) async fn append(&self, shard: usize, record: Bytes) -> Result<(), Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let key = &self.keys[shard];
        let mut conn = self.link.get(self).await?;
        let mut recreated = false;
        loop {
            let added: redis::RedisResult<Value> = SCRIPT
                .key(key)
                .arg(self.opts.max_len)
                .arg(record.as_ref())
                .invoke_async(&mut conn)
                .await;
            match added {
                Ok(Value::Nil) if !recreated => {
                    // The stream vanished (a Redis restart without persistence, DEL,
                    // eviction): its groups went with it. Re-create them at 0 before
                    // appending, so every group gets what comes next.
                    tracing::error!(stream = %key, "the stream is gone (Redis lost it: restart without persistence, DEL or eviction); consumer groups re-created at 0, entries it held are lost");
                    self.ensure_groups(&mut conn)
                        .await
                        .map_err(|e| self.link.failed(&e))?;
                    recreated = true;
                }
                Ok(value) if bytes(&value).and_then(StreamId::parse).is_some() => break,
                Ok(other) => {
                    return Err(Error::Unavailable {
                        reason: format!("redis: unexpected XADD reply {other:?} for {key}"),
                    });
                }
                Err(e) if e.code() == Some("FULL") => {
                    return Err(Error::StreamFull {
                        stream: key.clone(),
                        max_len: self.opts.max_len,
                    });
                }
                Err(e) => return Err(self.link.failed(&e)),
            }
        }
        if self.opts.wait_replicas > 0 {
            // Half the command timeout: WAIT must answer (with its count) before the
            // connection's own response timeout gives up on it.
            let timeout_ms = u64::try_from(self.opts.timeout.as_millis() / 2)
                .unwrap_or(u64::MAX)
                .max(1);
            let acked: i64 = redis::cmd("WAIT")
                .arg(self.opts.wait_replicas)
                .arg(timeout_ms)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.link.failed(&e))?;
            // WAIT returns on timeout with however many replicas it got: check the count.
            if acked < i64::from(self.opts.wait_replicas) {
                return Err(Error::Unavailable {
                    reason: format!(
                        "redis: {acked} of {} replicas acknowledged the entry within {timeout_ms} ms (it may still be delivered)",
                        self.opts.wait_replicas
                    ),
                });
            }
        }
        Ok(())
    }
}
