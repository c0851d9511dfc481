//! A snapshot of the queue's fill level for `/health` and `/metrics`.

/// Fill level of a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Bytes retained: segment files for the disk variant (headers and framing included),
    /// record bytes for the memory variant.
    pub retained_bytes: u64,
    /// The configured cap on `retained_bytes`.
    pub max_size: u64,
    /// Segment files on disk (0 for the memory variant).
    pub segments: usize,
    /// Records retained (not yet acknowledged by every consumer, or in a segment not yet
    /// deleted).
    pub records: u64,
    /// One entry per configured consumer, in configuration order.
    pub consumers: Vec<ConsumerStats>,
    /// The Redis queue's streams, one per shard (empty for the other variants).
    pub streams: Vec<StreamStats>,
    /// The Redis queue's server state (`None` for the other variants).
    pub redis: Option<RedisStats>,
}

/// One stream (shard) of the Redis queue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamStats {
    /// The stream key.
    pub key: String,
    /// Entries in the stream (`XLEN`).
    pub length: u64,
    /// Every consumer group of the stream, this gateway's outputs or not.
    pub groups: Vec<GroupStats>,
}

/// One consumer group of a stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupStats {
    /// The group (`{group}:{output}`).
    pub name: String,
    /// Entries delivered to a consumer of the group and not acknowledged.
    pub pending: u64,
    /// Entries not yet delivered to the group (`XINFO GROUPS` `lag`); `None` when Redis
    /// cannot tell (after deletions in the stream).
    pub lag: Option<u64>,
}

/// The Redis server as the queue last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RedisStats {
    /// Whether the last look reached it.
    pub reachable: bool,
    /// Why not, when it did not.
    pub error: Option<String>,
    /// `maxmemory-policy` (must be `noeviction`); `None` when `CONFIG` is not allowed.
    pub eviction_policy: Option<String>,
    /// Consumer groups this gateway re-created after `NOGROUP` (the stream or group had
    /// vanished): each one is an alarm.
    pub groups_recreated: u64,
}

/// What one consumer still has to acknowledge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerStats {
    /// The consumer's name.
    pub name: String,
    /// Records not yet acknowledged by this consumer.
    pub pending_records: u64,
    /// Bytes not yet acknowledged by this consumer: framed records (8 bytes of framing each)
    /// for the disk variant, record bytes for the memory variant.
    pub pending_bytes: u64,
}
