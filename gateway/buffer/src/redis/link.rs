//! [`Link`]: the queue's shared connection to Redis, dialled lazily and again after a
//! failure, so the queue recovers by itself when Redis comes back.
//!
//! Why not the redis crate's `ConnectionManager`: it dials when it is created, so a
//! gateway could not start while Redis is down, and it does not retry the command that
//! failed either; a multiplexed connection that is dropped after any connection error
//! and re-dialled by the next call gives the same recovery with one code path. Every new
//! connection first (re)creates the consumer groups, before anything is appended on it.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, RedisError};
use tokio::sync::Mutex;

use super::Inner;
use crate::Error;

/// A lazily dialled, shared, multiplexed connection.
pub(crate) struct Link {
    client: Client,
    /// `host:port` for errors (never the password).
    endpoint: String,
    config: AsyncConnectionConfig,
    timeout: Duration,
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl Link {
    /// Checks the URL; does not connect. Errors: why the URL is unusable.
    pub(crate) fn open(url: &str, timeout: Duration) -> Result<Self, String> {
        let client = Client::open(url).map_err(|e| format!("url {url:?}: {e}"))?;
        let endpoint = endpoint(&client);
        Ok(Self {
            client,
            endpoint,
            config: Self::config(timeout, timeout),
            timeout,
            conn: Mutex::new(None),
        })
    }

    /// Connect and response timeouts for a connection whose replies may take `response`.
    fn config(connect: Duration, response: Duration) -> AsyncConnectionConfig {
        AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect))
            .set_response_timeout(Some(response))
    }

    /// The shared connection, dialled (and its groups ensured) if there is none.
    ///
    /// Errors: [`Error::Unavailable`] when Redis cannot be reached.
    pub(crate) async fn get(&self, inner: &Inner) -> Result<MultiplexedConnection, Error> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let mut conn = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await
            .map_err(|e| self.unavailable(&e))?;
        name_connection(&mut conn, &inner.opts.consumer)
            .await
            .map_err(|e| self.unavailable(&e))?;
        inner
            .ensure_groups(&mut conn)
            .await
            .map_err(|e| self.unavailable(&e))?;
        tracing::info!(redis = %self.endpoint, "connected to the Redis buffer");
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// A connection of its own for blocking reads that may wait `block`: not shared, so
    /// acks and appends never queue behind a blocked read.
    ///
    /// Errors: [`Error::Unavailable`].
    pub(crate) async fn dedicated(
        &self,
        block: Duration,
        consumer: &str,
    ) -> Result<MultiplexedConnection, Error> {
        let mut conn = self
            .client
            .get_multiplexed_async_connection_with_config(&Self::config(
                self.timeout,
                block + self.timeout,
            ))
            .await
            .map_err(|e| self.unavailable(&e))?;
        name_connection(&mut conn, consumer)
            .await
            .map_err(|e| self.unavailable(&e))?;
        Ok(conn)
    }

    /// Maps a failed command to the queue's error, dropping the shared connection when
    /// the failure was the connection's (the next call dials again).
    pub(crate) fn failed(&self, error: &RedisError) -> Error {
        if is_connection_error(error)
            && let Ok(mut slot) = self.conn.try_lock()
        {
            *slot = None;
        }
        self.unavailable(error)
    }

    /// [`Error::Unavailable`] naming the server.
    pub(crate) fn unavailable(&self, error: &RedisError) -> Error {
        Error::Unavailable {
            reason: format!("redis {}: {error}", self.endpoint),
        }
    }
}

/// Whether the connection itself failed (so it must be dialled again), rather than the
/// command.
pub(crate) fn is_connection_error(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_unrecoverable_error()
}

/// `host:port` of the client's server.
fn endpoint(client: &Client) -> String {
    client.get_connection_info().addr().to_string()
}

/// The client name every connection of consumer `consumer` carries (`CLIENT SETNAME`):
/// while one is connected, the consumer is alive (see `consumer::rescue`).
pub(crate) fn client_name(consumer: &str) -> String {
    let safe: String = consumer
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    format!("sluice:{safe}")
}

/// Names a new connection after its consumer; a server that refuses `CLIENT SETNAME`
/// (ACL) is tolerated: liveness then falls back to idle time.
async fn name_connection(
    conn: &mut MultiplexedConnection,
    consumer: &str,
) -> redis::RedisResult<()> {
    let named: redis::RedisResult<()> = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg(client_name(consumer))
        .query_async(conn)
        .await;
    match named {
        Err(e) if is_connection_error(&e) => Err(e),
        _ => Ok(()),
    }
}
