//! Where a record sits in the queue, and a record handed to a consumer.

use std::fmt;

use bytes::Bytes;

/// The place just past one record: acknowledging it means "this record and everything before
/// it is done".
///
/// Positions order like the records they follow. They are only meaningful for the queue that
/// handed them out, and only until it is reopened: the sequence number is renumbered from the
/// oldest retained record on every open (the segment and offset are what cursor files store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Segment id (always 0 in the memory variant).
    pub(crate) segment: u64,
    /// Byte offset in the segment just past the record (the record count in the memory variant).
    pub(crate) offset: u64,
    /// Number of records before this position since the queue was opened, counted from the
    /// oldest retained record; lets `stats` count pending records without an index.
    pub(crate) seq: u64,
}

impl Position {
    /// Segment id this position lies in (0 for the memory variant).
    #[must_use]
    pub fn segment(&self) -> u64 {
        self.segment
    }

    /// Byte offset inside the segment (record count for the memory variant).
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.segment, self.offset)
    }
}

/// One record delivered to a consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Pass this to `Consumer::ack` once the record (and everything before it) is done.
    pub pos: Position,
    /// The record, exactly as appended.
    pub data: Bytes,
}
