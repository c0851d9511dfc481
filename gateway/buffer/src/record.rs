//! [`Record`]: what an append hands the queue, in one or two parts written back to back.

use bytes::Bytes;

/// One record to append: its bytes as one part, or as a head and a tail from different
/// allocations that the queue writes back to back, so a caller with a small header and a
/// large body never joins them into a new buffer first. The disk queue writes the parts
/// with one vectored write; the memory and Redis queues join a two-part record (Redis
/// copies every argument into its command anyway). Consumers always read a record back as
/// one contiguous [`Bytes`].
#[derive(Debug, Clone, Default)]
pub struct Record {
    head: Bytes,
    tail: Bytes,
}

impl Record {
    /// A record whose bytes are `head` followed by `tail`.
    pub fn joined(head: Bytes, tail: Bytes) -> Self {
        Self { head, tail }
    }

    /// Length in bytes (head and tail together).
    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// Whether the record holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.head.is_empty() && self.tail.is_empty()
    }

    /// The parts in order (the second is empty for a one-part record).
    pub fn parts(&self) -> [&[u8]; 2] {
        [&self.head, &self.tail]
    }

    /// The record as one buffer: the head itself for a one-part record, otherwise a new
    /// buffer holding both parts.
    pub fn into_bytes(self) -> Bytes {
        if self.tail.is_empty() {
            return self.head;
        }
        if self.head.is_empty() {
            return self.tail;
        }
        let mut joined = Vec::with_capacity(self.len());
        joined.extend_from_slice(&self.head);
        joined.extend_from_slice(&self.tail);
        Bytes::from(joined)
    }
}

/// Records are equal when their bytes are, however they are split into parts.
impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .head
                .iter()
                .chain(self.tail.iter())
                .eq(other.head.iter().chain(other.tail.iter()))
    }
}

impl Eq for Record {}

impl From<Bytes> for Record {
    fn from(bytes: Bytes) -> Self {
        Self {
            head: bytes,
            tail: Bytes::new(),
        }
    }
}

impl From<Vec<u8>> for Record {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes::from(bytes).into()
    }
}

impl From<&'static [u8]> for Record {
    fn from(bytes: &'static [u8]) -> Self {
        Bytes::from_static(bytes).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_join_in_order() {
        let r = Record::joined(Bytes::from_static(b"head|"), Bytes::from_static(b"tail"));
        assert_eq!(r.len(), 9);
        assert_eq!(r.parts(), [&b"head|"[..], &b"tail"[..]]);
        assert_eq!(r.into_bytes(), Bytes::from_static(b"head|tail"));
    }

    #[test]
    fn one_part_records_are_not_copied() {
        let bytes = Bytes::from(vec![7u8; 64]);
        let ptr = bytes.as_ptr();
        assert_eq!(Record::from(bytes.clone()).into_bytes().as_ptr(), ptr);
        let tail_only = Record::joined(Bytes::new(), bytes);
        assert_eq!(tail_only.into_bytes().as_ptr(), ptr);
        assert!(Record::default().is_empty());
        let whole = Record::from(Bytes::from_static(b"head|tail"));
        let split = Record::joined(Bytes::from_static(b"he"), Bytes::from_static(b"ad|tail"));
        assert_eq!(whole, split);
        assert_ne!(whole, Record::from(Bytes::from_static(b"head|tai")));
    }
}
