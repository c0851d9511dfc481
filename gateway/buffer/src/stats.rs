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
