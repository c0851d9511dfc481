//! Schema statements a client sends to `/query` before it writes — `CREATE DATABASE` and
//! `CREATE RETENTION POLICY`, what Telegraf, Kapacitor and the `influx` CLI send at start —
//! kept in the buffer between the batches so every InfluxDB 1.x output applies them in
//! order with the writes, and an output that is down gets them when it comes back.
//!
//! A statement's buffer record is `Q 1 | u16 db_len | db | statement text`; a batch's
//! starts with `S` (see [`crate::batch`]), so [`Record::decode`] tells them apart.

use crate::batch::{Batch, RecordError};
use bytes::Bytes;

const MAGIC: u8 = b'Q';
const VERSION: u8 = 1;

/// What kind of schema statement, as InfluxQL names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// `CREATE DATABASE <name> [WITH …]`.
    CreateDatabase,
    /// `CREATE RETENTION POLICY <name> ON <db> DURATION … REPLICATION … [DEFAULT]`.
    CreateRetentionPolicy,
}

impl StatementKind {
    /// The kind of `text`, if it is one of the schema statements the relay applies to its
    /// outputs (keywords are case-insensitive, as in InfluxQL). Only the leading keywords
    /// and the presence of a name are checked: the store parses the rest and its error,
    /// if any, is logged by the forwarder.
    pub fn of(text: &str) -> Option<Self> {
        let mut words = text.split_whitespace();
        let create = words.next()?;
        if !create.eq_ignore_ascii_case("create") {
            return None;
        }
        let kind = match words.next()? {
            w if w.eq_ignore_ascii_case("database") => Self::CreateDatabase,
            w if w.eq_ignore_ascii_case("retention") => {
                if !words.next()?.eq_ignore_ascii_case("policy") {
                    return None;
                }
                Self::CreateRetentionPolicy
            }
            _ => return None,
        };
        // A name must follow.
        words.next().map(|_| kind)
    }
}

/// One schema statement and the database it was sent with (`/query?db=`), which a
/// statement without `ON <db>` applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The `db` parameter of the query, if any.
    pub db: Option<String>,
    /// The statement's InfluxQL text, as the client sent it (without a trailing `;`).
    pub text: String,
}

impl Statement {
    /// The buffer record of this statement.
    pub fn record(&self) -> Bytes {
        let db = self.db.as_deref().unwrap_or("");
        let db = &db.as_bytes()[..db.len().min(u16::MAX as usize)];
        let mut buf = Vec::with_capacity(4 + db.len() + self.text.len());
        buf.push(MAGIC);
        buf.push(VERSION);
        buf.extend_from_slice(&(db.len() as u16).to_le_bytes());
        buf.extend_from_slice(db);
        buf.extend_from_slice(self.text.as_bytes());
        Bytes::from(buf)
    }

    /// Decodes a statement record.
    pub fn decode(record: &[u8]) -> Result<Self, RecordError> {
        let len = record.len();
        match (record.first(), record.get(1)) {
            (Some(&MAGIC), Some(&VERSION)) => {}
            (Some(&magic), Some(&version)) => return Err(RecordError::Format { magic, version }),
            _ => return Err(RecordError::Truncated(len)),
        }
        let db_len = record
            .get(2..4)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(u16::from_le_bytes)
            .ok_or(RecordError::Truncated(len))? as usize;
        let db = record
            .get(4..4 + db_len)
            .ok_or(RecordError::Truncated(len))?;
        let text = record.get(4 + db_len..).unwrap_or_default();
        let db = std::str::from_utf8(db).map_err(|_| RecordError::Utf8)?;
        let text = std::str::from_utf8(text).map_err(|_| RecordError::Utf8)?;
        Ok(Self {
            db: (!db.is_empty()).then(|| db.to_owned()),
            text: text.to_owned(),
        })
    }
}

/// What one buffer record holds.
#[derive(Debug, Clone)]
pub enum Record {
    /// Points to write.
    Batch(Batch),
    /// A schema statement to apply before the records after it.
    Statement(Statement),
}

impl Record {
    /// Decodes a buffer record of either kind.
    pub fn decode(record: Bytes) -> Result<Self, RecordError> {
        if record.first() == Some(&MAGIC) {
            Statement::decode(&record).map(Record::Statement)
        } else {
            Batch::decode(record).map(Record::Batch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Context;

    #[test]
    fn kinds() {
        use StatementKind::*;
        for (text, kind) in [
            ("CREATE DATABASE \"apm\"", Some(CreateDatabase)),
            ("create database apm with duration 7d", Some(CreateDatabase)),
            (
                "CREATE RETENTION POLICY \"weekly\" ON \"metrics\" DURATION 7d REPLICATION 1",
                Some(CreateRetentionPolicy),
            ),
            ("CREATE DATABASE", None),
            ("CREATE RETENTION weekly", None),
            ("DROP DATABASE x", None),
            ("SELECT * FROM cpu", None),
            ("", None),
        ] {
            assert_eq!(StatementKind::of(text), kind, "{text}");
        }
    }

    #[test]
    fn record_round_trip_and_dispatch() {
        let s = Statement {
            db: Some("metrics".into()),
            text: "CREATE RETENTION POLICY w ON metrics DURATION 7d REPLICATION 1".into(),
        };
        assert_eq!(Statement::decode(&s.record()).unwrap(), s);
        assert!(matches!(Record::decode(s.record()).unwrap(), Record::Statement(x) if x == s));
        let none = Statement {
            db: None,
            text: "CREATE DATABASE x".into(),
        };
        assert_eq!(Statement::decode(&none.record()).unwrap(), none);
        let batch = Batch::from_lines(Context::from_bucket("db"), b"m v=1 1\n", 1);
        assert!(matches!(
            Record::decode(batch.record().into_bytes()).unwrap(),
            Record::Batch(_)
        ));
        for junk in [&b"Q"[..], b"Q\x01\x05\x00ab", b"Q\x02\x00\x00"] {
            assert!(Record::decode(Bytes::copy_from_slice(junk)).is_err());
        }
    }
}
