//! Writing a command's output to standard output the way Unix tools do: when the reader
//! goes away (`sluice dlq list | head`), stop quietly instead of panicking as `print!`
//! does on a closed pipe.

use std::io::Write as _;

/// Writes `text` to standard output; a closed pipe ends it without an error.
pub(crate) fn write(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
