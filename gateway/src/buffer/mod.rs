//! The buffer stage: opens the configured queue (`sluice-buffer`) with one consumer per
//! output, so every output gets every batch and a record is freed only when all have it.

use crate::config::{BufferConfig, BufferKind};
pub use sluice_buffer::{Consumer, Entry, EntryId, Error as QueueError, Position, Queue, Stats};

/// Opens the queue described by `config` for the named outputs, logging what recovery
/// found on disk. The Redis queue connects lazily and must be opened inside a tokio
/// runtime.
pub fn open(config: &BufferConfig, outputs: &[String]) -> Result<Queue, QueueError> {
    match config.kind {
        BufferKind::Memory => Ok(Queue::memory(sluice_buffer::MemoryOptions {
            max_size: config.max_size().0,
            consumers: outputs.to_vec(),
        })),
        BufferKind::Disk => {
            let dir = config.dir();
            let (queue, report) = Queue::open_disk(sluice_buffer::DiskOptions {
                dir: dir.clone(),
                max_size: config.max_size().0,
                segment_size: config.segment_size().0,
                consumers: outputs.to_vec(),
            })?;
            tracing::info!(dir = %dir.display(), recovery = ?report, "disk buffer opened");
            Ok(queue)
        }
        BufferKind::Redis => {
            let opts = config.redis_options(outputs);
            tracing::info!(stream = %opts.stream, shards = opts.shards, group = %opts.group, consumer = %opts.consumer, "Redis buffer configured (connects on first use)");
            Queue::redis(opts)
        }
    }
}
