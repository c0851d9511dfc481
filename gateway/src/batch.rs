//! A batch: what one request or one group of UDP datagrams carried, as canonical line
//! protocol, plus its routing context. A batch is built with room for the record header
//! in front of the lines, and a chain's output keeps its own buffer beside a small
//! header, so lines are never copied on their way to disk.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sluice_buffer::Record;

/// Where a write came from, beyond its routing context: what a plugin sees of it, and
/// what a dead-letter entry keeps so a replay shows the plugin the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The client's address (`ip:port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The 2.x organisation of a `/api/v2/write`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The 2.x bucket of a `/api/v2/write`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
}

impl Origin {
    /// A write from `client`, nothing else known.
    pub fn client(client: Option<std::net::SocketAddr>) -> Self {
        Self {
            client: client.map(|a| a.to_string()),
            ..Self::default()
        }
    }

    /// Nothing is known.
    pub fn is_empty(&self) -> bool {
        self.client.is_none() && self.org.is_none() && self.bucket.is_none()
    }
}

/// Where a batch is going: InfluxDB 1.x database and retention policy. A v2 bucket maps
/// onto these as InfluxDB 1.8's compatibility API does (`db/rp`, or `db` for the
/// default retention policy).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Context {
    /// Database.
    pub db: String,
    /// Retention policy; `None` is the database's default.
    pub rp: Option<String>,
}

impl Context {
    /// Context of a v2 bucket name (`db/rp` or `db`).
    pub fn from_bucket(bucket: &str) -> Self {
        match bucket.split_once('/') {
            Some((db, rp)) if !rp.is_empty() => Self {
                db: db.to_owned(),
                rp: Some(rp.to_owned()),
            },
            Some((db, _)) => Self {
                db: db.to_owned(),
                rp: None,
            },
            None => Self {
                db: bucket.to_owned(),
                rp: None,
            },
        }
    }

    /// The v2 bucket name of this context.
    pub fn bucket(&self) -> String {
        match &self.rp {
            Some(rp) => format!("{}/{}", self.db, rp),
            None => self.db.clone(),
        }
    }
}

const MAGIC: u8 = b'S';
const VERSION: u8 = 1;

/// Why a buffer record could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The record is shorter than its header says.
    #[error("batch record truncated ({0} bytes)")]
    Truncated(usize),
    /// Not a batch record of a version this build knows.
    #[error("unknown batch record format (magic {magic:#x}, version {version})")]
    Format {
        /// First byte.
        magic: u8,
        /// Second byte.
        version: u8,
    },
    /// Database or retention policy is not UTF-8.
    #[error("batch record context is not UTF-8")]
    Utf8,
}

/// Canonical line protocol with its context, laid out as the buffer record it becomes:
/// `S 1 | u16 db_len | db | u16 rp_len | rp | u32 points | lines`. The header and the
/// lines share one buffer when the batch was built with a [`BatchBuilder`] (ingest) or
/// decoded from a record; a chain's output keeps the buffer the last plugin's lines came
/// in, with the header in a small one of its own ([`Batch::with_lines`]), and the buffer
/// writes the two back to back ([`Record`]), so the lines are never copied on their way
/// to disk.
#[derive(Debug, Clone)]
pub struct Batch {
    context: Context,
    /// The record's header, followed by its lines when `tail` is empty.
    head: Bytes,
    /// Where the lines start in `head` (its length when they are in `tail`).
    lines_start: usize,
    /// The lines, when they are not in `head`.
    tail: Bytes,
    points: u32,
}

/// Builds a batch: write canonical lines into [`BatchBuilder::lines_mut`], then
/// [`BatchBuilder::finish`] with the point count.
#[derive(Debug)]
pub struct BatchBuilder {
    context: Context,
    buf: Vec<u8>,
    lines_start: usize,
}

impl BatchBuilder {
    /// Starts a batch for `context`, reserving `capacity` bytes for lines.
    pub fn new(context: Context, capacity: usize) -> Self {
        let rp = context.rp.as_deref().unwrap_or("");
        let header = 2 + 2 + context.db.len() + 2 + rp.len() + 4;
        let mut buf = Vec::with_capacity(header + capacity);
        buf.push(MAGIC);
        buf.push(VERSION);
        push_str16(&mut buf, &context.db);
        push_str16(&mut buf, rp);
        buf.extend_from_slice(&0u32.to_le_bytes());
        let lines_start = buf.len();
        Self {
            context,
            buf,
            lines_start,
        }
    }

    /// The buffer the canonical lines are appended to (it already holds the header).
    pub fn lines_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Bytes of lines written so far.
    pub fn lines_len(&self) -> usize {
        self.buf.len() - self.lines_start
    }

    /// Seals the batch with the number of points its lines hold.
    pub fn finish(mut self, points: usize) -> Batch {
        let points = u32::try_from(points).unwrap_or(u32::MAX);
        let at = self.lines_start - 4;
        self.buf[at..self.lines_start].copy_from_slice(&points.to_le_bytes());
        Batch {
            context: self.context,
            head: Bytes::from(self.buf),
            lines_start: self.lines_start,
            tail: Bytes::new(),
            points,
        }
    }
}

fn push_str16(buf: &mut Vec<u8>, s: &str) {
    // Database and retention policy names are short; longer ones are cut, never a panic.
    let bytes = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    buf.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    buf.extend_from_slice(bytes);
}

impl Batch {
    /// A batch of already-canonical `lines` holding `points` points.
    pub fn from_lines(context: Context, lines: &[u8], points: usize) -> Self {
        let mut b = BatchBuilder::new(context, lines.len());
        b.lines_mut().extend_from_slice(lines);
        b.finish(points)
    }

    /// A batch of already-canonical `lines` holding `points` points, keeping `lines`'
    /// buffer as it is (the header goes in a small buffer of its own).
    pub fn with_lines(context: Context, lines: Vec<u8>, points: usize) -> Self {
        let Batch {
            context,
            head,
            lines_start,
            points,
            ..
        } = BatchBuilder::new(context, 0).finish(points);
        Batch {
            context,
            head,
            lines_start,
            tail: Bytes::from(lines),
            points,
        }
    }

    /// Where the batch goes.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Canonical line protocol, one point per line, `\n`-terminated.
    pub fn lines(&self) -> &[u8] {
        if self.tail.is_empty() {
            &self.head[self.lines_start..]
        } else {
            &self.tail
        }
    }

    /// [`Batch::lines`] as a buffer that shares memory with the batch.
    pub fn lines_shared(&self) -> Bytes {
        if self.tail.is_empty() {
            self.head.slice(self.lines_start..)
        } else {
            self.tail.clone()
        }
    }

    /// Number of points in [`Batch::lines`].
    pub fn points(&self) -> usize {
        self.points as usize
    }

    /// The record stored in the buffer (shares memory with the batch): header and lines,
    /// in one part or two.
    pub fn record(&self) -> Record {
        Record::joined(self.head.clone(), self.tail.clone())
    }

    /// Decodes a buffer record without copying the lines.
    pub fn decode(record: Bytes) -> Result<Self, RecordError> {
        let len = record.len();
        let (Some(&magic), Some(&version)) = (record.first(), record.get(1)) else {
            return Err(RecordError::Truncated(len));
        };
        if magic != MAGIC || version != VERSION {
            return Err(RecordError::Format { magic, version });
        }
        let mut at = 2;
        let db = read_str16(&record, &mut at)?;
        let rp = read_str16(&record, &mut at)?;
        let points = record
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes)
            .ok_or(RecordError::Truncated(len))?;
        at += 4;
        Ok(Batch {
            context: Context {
                db,
                rp: if rp.is_empty() { None } else { Some(rp) },
            },
            head: record,
            lines_start: at,
            tail: Bytes::new(),
            points,
        })
    }
}

fn read_str16(record: &[u8], at: &mut usize) -> Result<String, RecordError> {
    let len = record
        .get(*at..*at + 2)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map(u16::from_le_bytes)
        .ok_or(RecordError::Truncated(record.len()))? as usize;
    *at += 2;
    let bytes = record
        .get(*at..*at + len)
        .ok_or(RecordError::Truncated(record.len()))?;
    *at += len;
    String::from_utf8(bytes.to_vec()).map_err(|_| RecordError::Utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip() {
        let ctx = Context {
            db: "flood".into(),
            rp: Some("autogen".into()),
        };
        let mut b = BatchBuilder::new(ctx.clone(), 64);
        b.lines_mut().extend_from_slice(b"m v=1 1\nm v=2 2\n");
        let batch = b.finish(2);
        let back = Batch::decode(batch.record().into_bytes()).unwrap();
        assert_eq!(back.context(), &ctx);
        assert_eq!(back.lines(), b"m v=1 1\nm v=2 2\n");
        assert_eq!(back.points(), 2);
    }

    #[test]
    fn a_chain_output_keeps_its_buffer_and_makes_the_same_record() {
        let ctx = Context {
            db: "flood".into(),
            rp: Some("autogen".into()),
        };
        let lines = b"m v=1 1\nm v=2 2\n".to_vec();
        let at = lines.as_ptr();
        let batch = Batch::with_lines(ctx.clone(), lines, 2);
        assert_eq!(batch.lines().as_ptr(), at, "the lines were not copied");
        assert_eq!(batch.lines_shared().as_ptr(), at);
        assert_eq!(batch.points(), 2);
        let built = Batch::from_lines(ctx.clone(), b"m v=1 1\nm v=2 2\n", 2);
        assert_eq!(batch.record(), built.record());
        let back = Batch::decode(batch.record().into_bytes()).unwrap();
        assert_eq!(back.context(), &ctx);
        assert_eq!(back.lines(), batch.lines());
        assert_eq!(back.lines_shared(), batch.lines_shared());
    }

    #[test]
    fn default_rp_round_trips_as_none() {
        let batch = Batch::from_lines(Context::from_bucket("db"), b"m v=1 1\n", 1);
        let back = Batch::decode(batch.record().into_bytes()).unwrap();
        assert_eq!(back.context().rp, None);
        assert_eq!(back.context().bucket(), "db");
    }

    #[test]
    fn bucket_mapping() {
        let c = Context::from_bucket("db/rp");
        assert_eq!((c.db.as_str(), c.rp.as_deref()), ("db", Some("rp")));
        assert_eq!(Context::from_bucket("db/").rp, None);
        assert_eq!(c.bucket(), "db/rp");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for junk in [
            &b""[..],
            b"S",
            b"S\x01\xff\xff",
            b"X\x01",
            b"S\x01\x02\x00db\x00\x00",
        ] {
            assert!(Batch::decode(Bytes::copy_from_slice(junk)).is_err());
        }
    }
}
