//! Reading Redis replies: stream ids, and the shapes `XREADGROUP`, `XAUTOCLAIM`,
//! `XPENDING` and `XINFO GROUPS` answer with (RESP2 arrays or RESP3 maps alike).

use std::fmt;

use bytes::Bytes;
use redis::Value;

/// A stream entry id, `<milliseconds>-<sequence>`
/// (<https://redis.io/docs/latest/develop/data-types/streams/#entry-ids>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// Parses `ms-seq`; `None` for anything else.
    ///
    /// ```
    /// use sluice_buffer::StreamId;
    /// assert_eq!(StreamId::parse(b"1700000000000-3"), Some(StreamId { ms: 1_700_000_000_000, seq: 3 }));
    /// assert_eq!(StreamId::parse(b"12"), None);
    /// ```
    #[must_use]
    pub fn parse(text: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(text).ok()?;
        let (ms, seq) = text.split_once('-')?;
        Some(Self {
            ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One stream entry as read: its id and the record (field `r`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEntry {
    pub(crate) id: StreamId,
    /// `None` when the entry has no `r` field (not written by Sluice).
    pub(crate) record: Option<Bytes>,
}

/// The bytes of a bulk or simple string.
pub(crate) fn bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

/// An integer reply (or a string holding one).
pub(crate) fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        other => std::str::from_utf8(bytes(other)?).ok()?.parse().ok(),
    }
}

/// The items of an array (or a set); empty for nil.
pub(crate) fn items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) | Value::Set(items) => items,
        _ => &[],
    }
}

/// Key-value pairs of a map, or of a flat `[k, v, k, v, …]` array (RESP2).
pub(crate) fn pairs(value: &Value) -> Vec<(&[u8], &Value)> {
    match value {
        Value::Map(map) => map
            .iter()
            .filter_map(|(k, v)| Some((bytes(k)?, v)))
            .collect(),
        other => items(other)
            .chunks_exact(2)
            .filter_map(|kv| Some((bytes(&kv[0])?, &kv[1])))
            .collect(),
    }
}

/// Entries of an `[[id, [field, value, …]], …]` list (`XRANGE`, `XAUTOCLAIM`'s second
/// element, one stream of `XREADGROUP`). A deleted entry still pending shows as
/// `[id, nil]`: its record is `None`.
pub(crate) fn entries(value: &Value) -> Vec<RawEntry> {
    items(value)
        .iter()
        .filter_map(|entry| {
            let [id, fields] = items(entry) else {
                return None;
            };
            let id = StreamId::parse(bytes(id)?)?;
            let record = pairs(fields)
                .into_iter()
                .find(|(k, _)| *k == b"r")
                .and_then(|(_, v)| bytes(v))
                .map(Bytes::copy_from_slice);
            Some(RawEntry { id, record })
        })
        .collect()
}

/// `XREADGROUP`'s reply: per stream key, its entries (nil → nothing).
pub(crate) fn streams(value: &Value) -> Vec<(Vec<u8>, Vec<RawEntry>)> {
    match value {
        Value::Map(map) => map
            .iter()
            .filter_map(|(k, v)| Some((bytes(k)?.to_vec(), entries(v))))
            .collect(),
        other => items(other)
            .iter()
            .filter_map(|stream| {
                let [key, list] = items(stream) else {
                    return None;
                };
                Some((bytes(key)?.to_vec(), entries(list)))
            })
            .collect(),
    }
}

/// `XAUTOCLAIM`'s reply: the next cursor, the claimed entries, the ids that were pending
/// but no longer exist in the stream.
pub(crate) fn autoclaim(value: &Value) -> Option<(StreamId, Vec<RawEntry>, Vec<StreamId>)> {
    let all = items(value);
    let cursor = StreamId::parse(bytes(all.first()?)?)?;
    let claimed = entries(all.get(1)?);
    let deleted = all
        .get(2)
        .map(|d| {
            items(d)
                .iter()
                .filter_map(|id| StreamId::parse(bytes(id)?))
                .collect()
        })
        .unwrap_or_default();
    Some((cursor, claimed, deleted))
}

/// `XPENDING key group start end count [consumer]`: `(id, deliveries)` per entry.
pub(crate) fn pending_deliveries(value: &Value) -> Vec<(StreamId, u32)> {
    items(value)
        .iter()
        .filter_map(|row| {
            let row = items(row);
            let id = StreamId::parse(bytes(row.first()?)?)?;
            let deliveries = u32::try_from(int(row.get(3)?)?).ok()?;
            Some((id, deliveries))
        })
        .collect()
}

/// `XPENDING key group` (summary): the oldest pending id, if any entry is pending.
pub(crate) fn oldest_pending(value: &Value) -> Option<StreamId> {
    let all = items(value);
    if int(all.first()?)? == 0 {
        return None;
    }
    StreamId::parse(bytes(all.get(1)?)?)
}

/// `XINFO CONSUMERS`'s reply: each consumer's name and pending entries.
pub(crate) fn consumers(value: &Value) -> Vec<(String, u64)> {
    items(value)
        .iter()
        .filter_map(|consumer| {
            let fields = pairs(consumer);
            let get = |name: &[u8]| fields.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
            Some((
                String::from_utf8_lossy(bytes(get(b"name")?)?).into_owned(),
                get(b"pending")
                    .and_then(int)
                    .and_then(|n| u64::try_from(n).ok())?,
            ))
        })
        .collect()
}

/// The client names in `CLIENT LIST`'s reply (one line per connection, `name=…` among
/// its fields).
pub(crate) fn client_names(value: &Value) -> std::collections::HashSet<String> {
    let text = match value {
        Value::VerbatimString { text, .. } => text.as_bytes(),
        other => bytes(other).unwrap_or_default(),
    };
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|line| {
            line.split(' ')
                .find_map(|field| field.strip_prefix("name="))
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
        })
        .collect()
}

/// One group of `XINFO GROUPS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupInfo {
    pub(crate) name: String,
    pub(crate) pending: u64,
    pub(crate) last_delivered: StreamId,
    /// Entries not yet delivered to the group; `None` when Redis cannot tell.
    pub(crate) lag: Option<u64>,
}

/// `XINFO GROUPS`'s reply.
pub(crate) fn groups(value: &Value) -> Vec<GroupInfo> {
    items(value)
        .iter()
        .filter_map(|group| {
            let fields = pairs(group);
            let get = |name: &[u8]| fields.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
            Some(GroupInfo {
                name: String::from_utf8_lossy(bytes(get(b"name")?)?).into_owned(),
                pending: get(b"pending")
                    .and_then(int)
                    .and_then(|n| u64::try_from(n).ok())?,
                last_delivered: StreamId::parse(bytes(get(b"last-delivered-id")?)?)?,
                lag: get(b"lag")
                    .and_then(int)
                    .and_then(|n| u64::try_from(n).ok()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn readgroup_and_autoclaim_replies_are_read_in_resp2_and_resp3_shapes() {
        let entry = |id: &str, record: &str| {
            Value::Array(vec![bulk(id), Value::Array(vec![bulk("r"), bulk(record)])])
        };
        let list = Value::Array(vec![entry("1-0", "a"), entry("1-1", "b")]);
        let resp2 = Value::Array(vec![Value::Array(vec![bulk("s"), list.clone()])]);
        let resp3 = Value::Map(vec![(bulk("s"), list.clone())]);
        for reply in [resp2, resp3] {
            let read = streams(&reply);
            assert_eq!(read.len(), 1);
            assert_eq!(read[0].0, b"s");
            assert_eq!(read[0].1[1].id, StreamId { ms: 1, seq: 1 });
            assert_eq!(read[0].1[1].record.as_deref(), Some(&b"b"[..]));
        }
        let deleted_pending = Value::Array(vec![bulk("2-0"), Value::Nil]);
        let claim = Value::Array(vec![
            bulk("0-0"),
            Value::Array(vec![entry("1-0", "a"), deleted_pending]),
            Value::Array(vec![bulk("3-0")]),
        ]);
        let (cursor, claimed, deleted) = autoclaim(&claim).unwrap();
        assert_eq!(cursor, StreamId::default());
        assert_eq!(claimed.len(), 2);
        assert_eq!(claimed[1].record, None);
        assert_eq!(deleted, [StreamId { ms: 3, seq: 0 }]);
    }

    #[test]
    fn consumers_and_client_names_are_read() {
        let consumer = Value::Array(vec![
            bulk("name"),
            bulk("host-12"),
            bulk("pending"),
            Value::Int(4),
            bulk("idle"),
            Value::Int(83),
        ]);
        assert_eq!(
            consumers(&Value::Array(vec![consumer])),
            [("host-12".to_owned(), 4)]
        );
        let list = bulk(
            "id=3 addr=127.0.0.1:5 name=sluice:host-12 age=1\nid=4 addr=127.0.0.1:6 name= age=2\n",
        );
        let names = client_names(&list);
        assert!(
            names.contains("sluice:host-12") && names.len() == 1,
            "{names:?}"
        );
    }

    #[test]
    fn xinfo_groups_and_xpending_are_read() {
        let group = Value::Array(vec![
            bulk("name"),
            bulk("g:central"),
            bulk("consumers"),
            Value::Int(2),
            bulk("pending"),
            Value::Int(3),
            bulk("last-delivered-id"),
            bulk("5-1"),
            bulk("entries-read"),
            Value::Int(9),
            bulk("lag"),
            Value::Nil,
        ]);
        let info = groups(&Value::Array(vec![group]));
        assert_eq!(info[0].name, "g:central");
        assert_eq!((info[0].pending, info[0].lag), (3, None));
        assert_eq!(info[0].last_delivered, StreamId { ms: 5, seq: 1 });
        let summary = Value::Array(vec![Value::Int(3), bulk("4-0"), bulk("5-1"), Value::Nil]);
        assert_eq!(oldest_pending(&summary), Some(StreamId { ms: 4, seq: 0 }));
        let none = Value::Array(vec![Value::Int(0), Value::Nil, Value::Nil, Value::Nil]);
        assert_eq!(oldest_pending(&none), None);
        let rows = Value::Array(vec![Value::Array(vec![
            bulk("4-0"),
            bulk("c1"),
            Value::Int(1200),
            Value::Int(7),
        ])]);
        assert_eq!(pending_deliveries(&rows), [(StreamId { ms: 4, seq: 0 }, 7)]);
    }
}
