//! Statements a client sends to `/query` that must take effect in order with the writes
//! around them, kept in the buffer between the batches so every InfluxDB 1.x output
//! applies them in that order, and an output that is down gets them when it comes back:
//! - `CREATE DATABASE` and `CREATE RETENTION POLICY`, what Telegraf, Kapacitor and the
//!   `influx` CLI send at start, so writes after them find the database;
//! - `DROP DATABASE`, `DROP MEASUREMENT`, `DROP SERIES`, `DELETE`, `DROP RETENTION
//!   POLICY`, `DROP SHARD` and `ALTER RETENTION POLICY`, so writes acknowledged before
//!   them are not delivered after them (data back after a drop, or writes without a
//!   retention policy landing in a new default one).
//!
//! A statement's buffer record is `Q 2 | u64 ticket | u16 db_len | db | statement text`
//! (version 1 had no ticket); the ticket is the request's claim on the store's answer
//! ([`crate::statement_answers`]), 0 when nobody waits. A batch's record starts with `S`
//! (see [`crate::batch`]), so [`Record::decode`] tells them apart.

use crate::batch::{Batch, RecordError};
use bytes::Bytes;

const MAGIC: u8 = b'Q';
/// The version this build writes; [`VERSION_WITHOUT_TICKET`] records are still read.
const VERSION: u8 = 2;
const VERSION_WITHOUT_TICKET: u8 = 1;

/// What kind of ordered statement, as InfluxQL names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// `CREATE DATABASE <name> [WITH …]`.
    CreateDatabase,
    /// `CREATE RETENTION POLICY <name> ON <db> DURATION … REPLICATION … [DEFAULT]`.
    CreateRetentionPolicy,
    /// `ALTER RETENTION POLICY <name> ON <db> …`.
    AlterRetentionPolicy,
    /// `DROP DATABASE <name>`.
    DropDatabase,
    /// `DROP MEASUREMENT <name>`.
    DropMeasurement,
    /// `DROP SERIES [FROM …] [WHERE …]`.
    DropSeries,
    /// `DROP RETENTION POLICY <name> ON <db>`.
    DropRetentionPolicy,
    /// `DROP SHARD <id>`.
    DropShard,
    /// `DELETE [FROM …] [WHERE …]`.
    Delete,
}

impl StatementKind {
    /// The kind of `text`, if it is one of the statements the relay applies to its
    /// outputs in order with the writes (keywords are case-insensitive, as in InfluxQL).
    /// Only the leading keywords and that something follows them are checked: the store
    /// parses the rest, and its answer reaches the client when it comes in time.
    pub fn of(text: &str) -> Option<Self> {
        let mut words = text.split_whitespace();
        let is = |word: Option<&str>, keyword: &str| {
            word.is_some_and(|w| w.eq_ignore_ascii_case(keyword))
        };
        let first = words.next()?;
        let kind = if first.eq_ignore_ascii_case("delete") {
            Self::Delete
        } else if first.eq_ignore_ascii_case("create") {
            match words.next()? {
                w if w.eq_ignore_ascii_case("database") => Self::CreateDatabase,
                w if w.eq_ignore_ascii_case("retention") && is(words.next(), "policy") => {
                    Self::CreateRetentionPolicy
                }
                _ => return None,
            }
        } else if first.eq_ignore_ascii_case("alter") {
            match words.next()? {
                w if w.eq_ignore_ascii_case("retention") && is(words.next(), "policy") => {
                    Self::AlterRetentionPolicy
                }
                _ => return None,
            }
        } else if first.eq_ignore_ascii_case("drop") {
            match words.next()? {
                w if w.eq_ignore_ascii_case("database") => Self::DropDatabase,
                w if w.eq_ignore_ascii_case("measurement") => Self::DropMeasurement,
                w if w.eq_ignore_ascii_case("shard") => Self::DropShard,
                // `DROP SERIES` may stand alone (every series of the database).
                w if w.eq_ignore_ascii_case("series") => return Some(Self::DropSeries),
                w if w.eq_ignore_ascii_case("retention") && is(words.next(), "policy") => {
                    Self::DropRetentionPolicy
                }
                _ => return None,
            }
        } else {
            return None;
        };
        // `DELETE` alone deletes nothing (the store refuses it); the others need a name.
        words.next().map(|_| kind)
    }
}

/// One ordered statement and the database it was sent with (`/query?db=`), which a
/// statement without `ON <db>` applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The `db` parameter of the query, if any.
    pub db: Option<String>,
    /// The statement's InfluxQL text, as the client sent it (without a trailing `;`).
    pub text: String,
    /// The ticket of the request waiting for the store's answer; 0 when none waits.
    pub ticket: u64,
}

impl Statement {
    /// The buffer record of this statement.
    pub fn record(&self) -> Bytes {
        let db = self.db.as_deref().unwrap_or("");
        let db = &db.as_bytes()[..db.len().min(u16::MAX as usize)];
        let mut buf = Vec::with_capacity(12 + db.len() + self.text.len());
        buf.push(MAGIC);
        buf.push(VERSION);
        buf.extend_from_slice(&self.ticket.to_le_bytes());
        buf.extend_from_slice(&(db.len() as u16).to_le_bytes());
        buf.extend_from_slice(db);
        buf.extend_from_slice(self.text.as_bytes());
        Bytes::from(buf)
    }

    /// Decodes a statement record (either version).
    pub fn decode(record: &[u8]) -> Result<Self, RecordError> {
        let len = record.len();
        let mut at = match (record.first(), record.get(1)) {
            (Some(&MAGIC), Some(&VERSION)) => 2,
            (Some(&MAGIC), Some(&VERSION_WITHOUT_TICKET)) => 2,
            (Some(&magic), Some(&version)) => return Err(RecordError::Format { magic, version }),
            _ => return Err(RecordError::Truncated(len)),
        };
        let mut ticket = 0;
        if record.get(1) == Some(&VERSION) {
            ticket = record
                .get(2..10)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_le_bytes)
                .ok_or(RecordError::Truncated(len))?;
            at = 10;
        }
        let db_len = record
            .get(at..at + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(u16::from_le_bytes)
            .ok_or(RecordError::Truncated(len))? as usize;
        at += 2;
        let db = record
            .get(at..at + db_len)
            .ok_or(RecordError::Truncated(len))?;
        let text = record.get(at + db_len..).unwrap_or_default();
        let db = std::str::from_utf8(db).map_err(|_| RecordError::Utf8)?;
        let text = std::str::from_utf8(text).map_err(|_| RecordError::Utf8)?;
        Ok(Self {
            db: (!db.is_empty()).then(|| db.to_owned()),
            text: text.to_owned(),
            ticket,
        })
    }
}

/// What one buffer record holds.
#[derive(Debug, Clone)]
pub enum Record {
    /// Points to write.
    Batch(Batch),
    /// A statement to apply before the records after it.
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
            ("drop database x", Some(DropDatabase)),
            ("DROP MEASUREMENT \"cpu\"", Some(DropMeasurement)),
            ("DROP SERIES", Some(DropSeries)),
            ("drop series from cpu where host='a'", Some(DropSeries)),
            ("DELETE FROM cpu WHERE time < now()", Some(Delete)),
            ("DELETE", None),
            (
                "DROP RETENTION POLICY w ON metrics",
                Some(DropRetentionPolicy),
            ),
            (
                "ALTER RETENTION POLICY autogen ON metrics DEFAULT",
                Some(AlterRetentionPolicy),
            ),
            ("DROP SHARD 12", Some(DropShard)),
            ("DROP RETENTION w", None),
            ("DROP USER bob", None),
            ("DROP CONTINUOUS QUERY cq ON db", None),
            ("CREATE USER bob WITH PASSWORD 'x'", None),
            ("SELECT * FROM cpu", None),
            ("SHOW DATABASES", None),
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
            ticket: 7,
        };
        assert_eq!(Statement::decode(&s.record()).unwrap(), s);
        assert!(matches!(Record::decode(s.record()).unwrap(), Record::Statement(x) if x == s));
        let none = Statement {
            db: None,
            text: "CREATE DATABASE x".into(),
            ticket: 0,
        };
        assert_eq!(Statement::decode(&none.record()).unwrap(), none);
        // A record of version 1 (no ticket), as an older build left it in a buffer.
        let old = b"Q\x01\x02\x00dbDROP DATABASE x";
        let read = Statement::decode(old).unwrap();
        assert_eq!(
            (read.db.as_deref(), read.text.as_str(), read.ticket),
            (Some("db"), "DROP DATABASE x", 0)
        );
        let batch = Batch::from_lines(Context::from_bucket("db"), b"m v=1 1\n", 1);
        assert!(matches!(
            Record::decode(batch.record().into_bytes()).unwrap(),
            Record::Batch(_)
        ));
        for junk in [
            &b"Q"[..],
            b"Q\x01\x05\x00ab",
            b"Q\x02\x00\x00",
            b"Q\x03\x00\x00",
        ] {
            assert!(Record::decode(Bytes::copy_from_slice(junk)).is_err());
        }
    }
}
