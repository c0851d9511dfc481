//! `[[udp]]` listeners: line-protocol datagrams for a fixed database, as InfluxDB's UDP
//! service. Datagrams that arrive while a batch is being made durable are gathered into
//! the next batch, so one fsync covers many datagrams.

use super::canonical::now_ns;
use crate::batch::Origin;
use crate::batch::{BatchBuilder, Context};
use crate::chain::Resend;
use crate::config::UdpConfig;
use crate::pipeline::{AcceptError, Pipeline};
use crate::telemetry::events::LinesDropped;
use sluice_lineproto::{Options, Precision};
use std::sync::Arc;
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

/// Largest UDP payload.
const DATAGRAM_MAX: usize = 65_536;
/// A batch is closed at this many points even if more datagrams wait.
const BATCH_POINTS: usize = 5_000;
/// ... or this many bytes.
const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// One UDP listener.
#[derive(Debug)]
pub struct UdpListener {
    socket: UdpSocket,
    context: Context,
    precision: Precision,
    options: Options,
}

impl UdpListener {
    /// Binds the configured address; datagrams are checked against `options`.
    pub async fn bind(config: &UdpConfig, options: Options) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(config.bind).await?;
        Ok(Self {
            socket,
            context: Context {
                db: config.db.clone(),
                rp: Some(config.rp.clone()).filter(|r| !r.is_empty()),
            },
            precision: Precision::from_v1(&config.precision).unwrap_or(Precision::Nanosecond),
            options,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.socket.local_addr()
    }

    /// Receives until shutdown.
    pub async fn run(self, pipeline: Arc<Pipeline>, shutdown: CancellationToken) {
        let mut datagram = vec![0u8; DATAGRAM_MAX];
        loop {
            let first = tokio::select! {
                () = shutdown.cancelled() => break,
                r = self.socket.recv_from(&mut datagram) => r,
            };
            let len = match first {
                // The sender of the first datagram stands for the gathered batch.
                Ok((len, from)) => (len, Some(from)),
                Err(e) => {
                    tracing::warn!(error = %e, "udp receive failed");
                    continue;
                }
            };
            let (len, source) = len;
            let mut gathered = Gathered::new(self.context.clone(), len);
            gathered.add(&datagram[..len], self.precision, &self.options);
            // Gather what is already queued, without waiting.
            while gathered.points < BATCH_POINTS && gathered.builder.lines_len() < BATCH_BYTES {
                match self.socket.try_recv_from(&mut datagram) {
                    Ok((len, _)) => gathered.add(&datagram[..len], self.precision, &self.options),
                    Err(_) => break,
                }
            }
            if let Some(first) = &gathered.first_error {
                LinesDropped {
                    count: gathered.dropped,
                    first_error: first,
                }
                .emit(pipeline.metrics());
            }
            let (points, received) = (gathered.points, gathered.received);
            let batch = gathered.builder.finish(points);
            // UDP senders cannot be asked to retry: a plugin that is unavailable takes
            // its on_error path instead of refusing the batch.
            let origin = Origin::client(source);
            let status = match pipeline
                .accept(batch, received, &origin, Resend::Impossible)
                .await
            {
                Ok(()) => 204,
                Err(
                    AcceptError::Full(_)
                    | AcceptError::Unavailable(_)
                    | AcceptError::BufferUnavailable(_),
                ) => 503,
                Err(AcceptError::TooLarge(_)) => 413,
                Err(AcceptError::DeadLetter(e)) => {
                    tracing::error!(error = %e, points, "udp batch lost: a plugin failed on it and the dead-letter store could not keep it");
                    500
                }
                Err(AcceptError::Buffer(e)) => {
                    tracing::error!(error = %e, points, "udp batch lost: buffer append failed");
                    500
                }
            };
            pipeline.metrics().count_request("udp", status);
        }
    }
}

/// Datagrams gathered into one batch.
struct Gathered {
    builder: BatchBuilder,
    points: usize,
    received: usize,
    dropped: usize,
    first_error: Option<String>,
}

impl Gathered {
    fn new(context: Context, first_len: usize) -> Self {
        Self {
            builder: BatchBuilder::new(context, first_len * 4),
            points: 0,
            received: 0,
            dropped: 0,
            first_error: None,
        }
    }

    fn add(&mut self, payload: &[u8], precision: Precision, options: &Options) {
        let s = sluice_lineproto::canonicalize_with(
            payload,
            precision,
            now_ns(),
            options,
            self.builder.lines_mut(),
        );
        self.points += s.points;
        self.received += payload.len();
        self.dropped += s.dropped;
        if self.first_error.is_none() {
            self.first_error = s.first_error.map(|e| e.to_string());
        }
    }
}
