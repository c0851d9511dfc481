//! A plugin's stdout and stderr: captured in memory during a call, then taken and sent
//! to the log (and, for stderr, into a trap's error). Writes never fail — past the cap
//! they are counted and dropped — because Rust's `eprintln!` panics when stderr fails,
//! and that would turn a chatty plugin into a trapping one.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Bytes kept per call and stream.
const CAPACITY: usize = 64 * 1024;

/// One captured stream. Clones share the buffer (the WASI context holds one, the
/// instance another to take from).
#[derive(Debug, Clone, Default)]
pub(crate) struct CapturedOutput {
    buffer: Arc<Mutex<Captured>>,
}

#[derive(Debug, Default)]
struct Captured {
    bytes: Vec<u8>,
    dropped: usize,
}

impl CapturedOutput {
    /// What was written since the last take, lossily UTF-8, with a note when bytes
    /// were dropped.
    pub(crate) fn take(&self) -> String {
        let mut captured = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut text = String::from_utf8_lossy(&captured.bytes).into_owned();
        if captured.dropped > 0 {
            text.push_str(&format!("\n… ({} more bytes dropped)", captured.dropped));
        }
        *captured = Captured::default();
        text
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        // Only WASIp3 asks for this, and the host links WASIp2 alone.
        Box::new(tokio::io::sink())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        let mut captured = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        let room = CAPACITY.saturating_sub(captured.bytes.len());
        let kept = bytes.len().min(room);
        captured.bytes.extend_from_slice(&bytes[..kept]);
        captured.dropped += bytes.len() - kept;
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_past_the_cap_are_counted_not_failed() {
        let out = CapturedOutput::default();
        let mut stream = out.p2_stream();
        stream.write(Bytes::from(vec![b'a'; CAPACITY - 1])).unwrap();
        stream.write(Bytes::from_static(b"bcd")).unwrap();
        let text = out.take();
        assert!(
            text.ends_with("ab\n… (2 more bytes dropped)"),
            "{}",
            &text[text.len() - 40..]
        );
        assert_eq!(out.take(), "");
    }
}
