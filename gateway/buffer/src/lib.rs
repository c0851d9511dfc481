//! Sluice's buffer: an at-least-once queue between the plugin chain and the forwarders.
//!
//! Records are opaque bytes (the gateway stores one encoded batch per record). Every configured
//! consumer (one per output) gets every record through its own cursor; a record is deleted only
//! once every consumer acknowledged it. Appends fail fast with [`Error::Full`] at `max_size`
//! instead of dropping anything.
//!
//! # Layout
//!
//! - `queue`: the [`Queue`] the gateway holds and its [`Consumer`]s, over two variants:
//! - `disk/`: the durable variant. `group_commit` is the writer thread (one `fdatasync` for all
//!   queued appends); `segment` and `frame` are the file format; `recovery` rebuilds the state
//!   on open (torn tails truncated, corruption skipped, cursors resolved); `cursor` holds the
//!   per-consumer cursor files; `state` is the in-memory picture under one mutex; `consumer`
//!   reads with positional reads off the runtime; `gc` deletes acknowledged segments and
//!   `reclaim` gives their space back in small steps (the writer's on a thread of its own);
//!   `dir` locks and syncs the directory.
//! - `memory`: the same semantics without durability.
//! - `journal`: [`Journal`], one file of framed records for in-memory state that must
//!   survive a crash (the disk queue's framing and directory lock, no consumers).
//! - `redis/`: the Redis Streams variant, shared by many gateways (see its module doc).
//! - `record`: a record to append, in one or two parts (a header and a body from
//!   different allocations, never joined for the disk queue).
//! - `options`, `position`, `stats`, `report`, `error`: the types of the API.
//! - Tests sit beside the code; the disk queue's are in `disk/tests/` (`crash` is the
//!   crash-recovery property test; its regressions are kept in `proptest-regressions/`).
//!
//! # On disk
//!
//! `{dir}/segment-{id:020}.log`: a 32-byte header (magic `SLUICEQ\0`, version, id, CRC32), then
//! records framed as `[len: u32 LE][crc32(len ‖ payload): u32 LE][payload]`.
//! `{dir}/cursor-{consumer}.pos`: the segment and offset just past the consumer's last
//! acknowledged record, with a CRC32, replaced by write-then-rename.
//! `{dir}/segment-{id:020}.log.deleted`: a deleted segment while its space is given back
//! (removed on the next open if a crash interrupted that). `{dir}/LOCK`: held
//! exclusively while the queue is open.

mod disk;
mod error;
mod journal;
mod memory;
mod options;
mod position;
mod queue;
mod record;
mod redis;
mod report;
mod stats;

pub use disk::DiskQueue;
pub use error::Error;
pub use journal::{Journal, Replay, SyncPoint};
pub use memory::MemoryQueue;
pub use options::{DEFAULT_SEGMENT_SIZE, DiskOptions, MIN_MAX_SIZE, MemoryOptions};
pub use position::{Entry, EntryId, Position};
pub use queue::{Consumer, Queue};
pub use record::Record;
pub use redis::{RedisOptions, RedisQueue, StreamId};
pub use report::RecoveryReport;
pub use stats::{ConsumerStats, GroupStats, RedisStats, Stats, StreamStats};
