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

/// One record of the log variants (disk, memory) as their consumers read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogEntry {
    /// Just past the record: acknowledging it acknowledges everything before it too.
    pub(crate) pos: Position,
    /// The record, exactly as appended.
    pub(crate) data: Bytes,
}

/// Opaque id of one delivered entry: pass it to [`Consumer::ack`](crate::Consumer::ack).
///
/// For the disk and memory queues it is a [`Position`] in their log (acknowledging it
/// acknowledges every earlier record too, so consumers of those must acknowledge in order);
/// for the Redis queue it is a stream entry id on one shard, acknowledged alone (`XACK`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId(pub(crate) IdRepr);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum IdRepr {
    Log(Position),
    Stream {
        shard: usize,
        id: crate::redis::StreamId,
    },
}

impl EntryId {
    /// The log position, for the disk and memory queues.
    #[must_use]
    pub fn position(&self) -> Option<Position> {
        match &self.0 {
            IdRepr::Log(pos) => Some(*pos),
            IdRepr::Stream { .. } => None,
        }
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            IdRepr::Log(pos) => write!(f, "{pos}"),
            IdRepr::Stream { shard, id } => write!(f, "{shard}/{id}"),
        }
    }
}

/// One record delivered to a consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Pass this to [`Consumer::ack`](crate::Consumer::ack) once the record is done.
    pub id: EntryId,
    /// The record, exactly as appended.
    pub data: Bytes,
    /// How many times the record was handed out, this time included: 1 for the log
    /// queues; for the Redis queue, Redis' delivery count (an entry claimed from a dead
    /// consumer has been handed out before).
    pub deliveries: u32,
}

impl Entry {
    pub(crate) fn from_log(entry: LogEntry) -> Self {
        Self {
            id: EntryId(IdRepr::Log(entry.pos)),
            data: entry.data,
            deliveries: 1,
        }
    }
}
