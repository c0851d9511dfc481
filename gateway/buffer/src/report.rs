//! What opening a disk queue found and repaired, for the gateway to log.

use std::fmt;

/// The outcome of recovery when a disk queue is opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segment files retained after recovery (the active one included).
    pub segments: usize,
    /// Valid records found in them.
    pub records: u64,
    /// Bytes of segment files retained.
    pub retained_bytes: u64,
    /// Bytes cut from the newest segment: a torn or corrupt tail left by a crash (a write that
    /// never returned Ok), or a whole segment file whose header was never completed.
    pub truncated_bytes: u64,
    /// Bytes of older segments that follow a corrupt record and are skipped (data loss: logged
    /// at ERROR).
    pub skipped_bytes: u64,
    /// Ids of older segments in which corruption was found.
    pub corrupt_segments: Vec<u64>,
    /// Consumers without a cursor file: they start at the oldest retained record.
    pub cursors_missing: Vec<String>,
    /// Consumers whose cursor file could not be read or pointed nowhere: they start at the
    /// oldest retained record (duplicates, never loss).
    pub cursors_unreadable: Vec<String>,
    /// Cursor files of consumers no longer configured; they were deleted.
    pub cursors_removed: Vec<String>,
}

impl RecoveryReport {
    /// True when nothing had to be repaired (missing cursors of new consumers aside).
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.truncated_bytes == 0
            && self.skipped_bytes == 0
            && self.corrupt_segments.is_empty()
            && self.cursors_unreadable.is_empty()
    }
}

impl fmt::Display for RecoveryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} records in {} segments ({} bytes); truncated {} bytes, skipped {} bytes",
            self.records,
            self.segments,
            self.retained_bytes,
            self.truncated_bytes,
            self.skipped_bytes
        )?;
        if !self.corrupt_segments.is_empty() {
            write!(f, "; corrupt segments {:?}", self.corrupt_segments)?;
        }
        if !self.cursors_unreadable.is_empty() {
            write!(f, "; unreadable cursors {:?}", self.cursors_unreadable)?;
        }
        if !self.cursors_removed.is_empty() {
            write!(f, "; removed cursors {:?}", self.cursors_removed)?;
        }
        Ok(())
    }
}
