//! [`RedisKv`]: the kv shared by every gateway pointing at the same Redis.
//!
//! Why the synchronous client: plugins call `kv` from inside wasmtime on a blocking
//! thread, so the call must block anyway. The redis crate's blocking connection with
//! socket timeouts gives exactly that (connect, send and receive each bounded by
//! `timeout`) without tying the host to a tokio runtime (`sluice check`, `plugin test`
//! and `dlq replay` run with different runtimes or none). Connections are pooled: one
//! per concurrently calling worker, opened lazily; a connection that failed in any way
//! is dropped, so the next call reconnects and the store recovers by itself when Redis
//! comes back.
//!
//! Data layout (every key starts with `key_prefix`, `sluice:` by default):
//! - `{prefix}kv:{key}` — a plain value or a decimal counter (`INCRBY`);
//! - `{prefix}ids:{namespace}` — hash of key → id;
//! - `{prefix}ids-next:{namespace}` — how many ids the namespace has handed out.
//!
//! Every call is one round trip: `MGET`, `MSET`, `INCRBY`, and for `assign-ids` one
//! `EVALSHA` of [`ASSIGN_IDS`] (atomic in Redis, so gateways sharing it always agree).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::{Client, Connection, RedisError, Script};

use super::{KvStore, check_key};
use crate::caps::CapabilityError;

/// Gets or assigns the id of each key of `ARGV` in the hash `KEYS[1]`, counting handed
/// out ids in `KEYS[2]`; returns the ids in order. Runs atomically in Redis.
const ASSIGN_IDS: &str = r"
local ids = {}
for i, key in ipairs(ARGV) do
  local id = redis.call('HGET', KEYS[1], key)
  if id then
    ids[i] = tonumber(id)
  else
    id = redis.call('INCR', KEYS[2]) - 1
    redis.call('HSET', KEYS[1], key, id)
    ids[i] = id
  end
end
return ids
";

/// Settings of a [`RedisKv`].
#[derive(Debug, Clone)]
pub struct RedisKvOptions {
    /// `redis://[user:password@]host:port[/db]`.
    pub url: String,
    /// Prepended to every key, so several deployments can share one Redis.
    pub key_prefix: String,
    /// Longest a connect, send or receive may take before the call fails.
    pub timeout: Duration,
}

/// The Redis kv backend; see the module documentation for the layout.
///
/// ```
/// use std::time::Duration;
/// use sluice_host::caps::kv::{RedisKv, RedisKvOptions};
/// // Opening only checks the URL; the first call connects.
/// let kv = RedisKv::open(RedisKvOptions {
///     url: "redis://127.0.0.1:6379".into(),
///     key_prefix: "sluice:".into(),
///     timeout: Duration::from_millis(500),
/// })
/// .unwrap();
/// # drop(kv);
/// assert!(RedisKv::open(RedisKvOptions {
///     url: "http://nope".into(), key_prefix: String::new(), timeout: Duration::from_secs(1),
/// }).is_err());
/// ```
pub struct RedisKv {
    client: Client,
    /// `host:port` of the server, for errors (never the password).
    endpoint: String,
    key_prefix: String,
    timeout: Duration,
    /// Idle connections; a caller takes one (or connects) and puts it back on success.
    idle: Mutex<Vec<Connection>>,
    assign_ids: Script,
}

impl RedisKv {
    /// A store on the Redis at `options.url`. Does not connect.
    ///
    /// # Errors
    /// [`CapabilityError::Config`] when the URL is not a Redis URL.
    pub fn open(options: RedisKvOptions) -> Result<Self, CapabilityError> {
        let endpoint = endpoint(&options.url);
        let client = Client::open(options.url.as_str()).map_err(|e| CapabilityError::Config {
            what: "kv",
            reason: format!("url {endpoint:?}: {e}"),
        })?;
        Ok(Self {
            client,
            endpoint,
            key_prefix: options.key_prefix,
            timeout: options.timeout,
            idle: Mutex::new(Vec::new()),
            assign_ids: Script::new(ASSIGN_IDS),
        })
    }

    /// Sends `PING`: whether Redis answers within the timeout.
    ///
    /// # Errors
    /// [`CapabilityError::Unavailable`] when it does not.
    pub fn ping(&self) -> Result<(), CapabilityError> {
        self.call(|con| redis::cmd("PING").query::<String>(con).map(drop))
    }

    /// Runs `f` on a pooled (or new) connection. A connection that failed (I/O error,
    /// timeout) is dropped rather than reused, since a late reply may still arrive on
    /// it; an error reply from Redis leaves it usable.
    fn call<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, RedisError>,
    ) -> Result<T, CapabilityError> {
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut con = match pooled {
            Some(con) => con,
            None => self.connect().map_err(|e| self.unavailable(&e))?,
        };
        let result = match f(&mut con) {
            Ok(result) => result,
            // Redis answered with an error (`INCRBY` on text, ...): the connection is fine.
            Err(e) if refused(&e) => {
                self.idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(con);
                return Err(CapabilityError::Refused {
                    backend: "redis",
                    reason: e.to_string(),
                });
            }
            Err(e) => return Err(self.unavailable(&e)),
        };
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(con);
        Ok(result)
    }

    fn connect(&self) -> Result<Connection, RedisError> {
        let con = self.client.get_connection_with_timeout(self.timeout)?;
        con.set_read_timeout(Some(self.timeout))?;
        con.set_write_timeout(Some(self.timeout))?;
        Ok(con)
    }

    fn unavailable(&self, e: &RedisError) -> CapabilityError {
        let reason = if e.is_timeout() {
            format!("no answer within {:?}", self.timeout)
        } else {
            e.to_string()
        };
        CapabilityError::Unavailable {
            backend: "redis",
            at: self.endpoint.clone(),
            reason,
        }
    }

    fn value_key(&self, key: &str) -> String {
        format!("{}kv:{key}", self.key_prefix)
    }
}

impl std::fmt::Debug for RedisKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisKv")
            .field("endpoint", &self.endpoint)
            .field("key_prefix", &self.key_prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl KvStore for RedisKv {
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CapabilityError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = keys.iter().map(|k| self.value_key(k)).collect();
        self.call(|con| redis::cmd("MGET").arg(&keys).query(con))
    }

    fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), CapabilityError> {
        for (key, _) in &entries {
            check_key(key)?;
        }
        if entries.is_empty() {
            return Ok(());
        }
        let mut mset = redis::cmd("MSET");
        for (key, value) in &entries {
            mset.arg(self.value_key(key)).arg(value);
        }
        self.call(|con| mset.query::<()>(con))
    }

    fn incr(&self, key: &str, delta: i64) -> Result<i64, CapabilityError> {
        check_key(key)?;
        let key = self.value_key(key);
        self.call(|con| redis::cmd("INCRBY").arg(&key).arg(delta).query(con))
    }

    fn assign_ids(&self, namespace: &str, keys: &[String]) -> Result<Vec<u64>, CapabilityError> {
        for key in keys {
            check_key(key)?;
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = self.assign_ids.prepare_invoke();
        invocation
            .key(format!("{}ids:{namespace}", self.key_prefix))
            .key(format!("{}ids-next:{namespace}", self.key_prefix))
            .arg(keys);
        self.call(|con| invocation.invoke(con))
    }
}

/// Whether `e` is Redis answering the call with an error (it would answer the same
/// again) rather than an outage (I/O, timeout, loading, a failover in progress).
fn refused(e: &RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    matches!(
        e.kind(),
        ErrorKind::Server(
            ServerErrorKind::ResponseError | ServerErrorKind::ExecAbort | ServerErrorKind::NoPerm
        ) | ErrorKind::Extension
    )
}

/// The `host:port[/db]` part of a Redis URL, without scheme or credentials.
fn endpoint(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    super::super::quote_key(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_never_show_credentials() {
        assert_eq!(endpoint("redis://u:p@h:1/2"), "h:1/2");
        assert_eq!(endpoint("redis://h:1"), "h:1");
        assert_eq!(endpoint("h"), "h");
    }

    #[test]
    fn an_unreachable_redis_fails_fast_as_unavailable() {
        // Port 1 on loopback: nothing listens, the connect is refused at once.
        let kv = RedisKv::open(RedisKvOptions {
            url: "redis://127.0.0.1:1".into(),
            key_prefix: "t:".into(),
            timeout: Duration::from_millis(200),
        })
        .unwrap();
        let started = std::time::Instant::now();
        let err = kv.assign_ids("n", &["a".to_owned()]).unwrap_err();
        assert!(matches!(err, CapabilityError::Unavailable { .. }), "{err}");
        assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(kv.get_many(&[]).unwrap().is_empty());
    }
}
