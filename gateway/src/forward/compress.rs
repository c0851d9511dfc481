//! Compressing a request body: the parts' lines go straight into a gzip stream (no
//! concatenated copy first). It runs in the request's own poll, not on a blocking
//! thread, so requests reach the store in buffer order (a later body compressed faster
//! elsewhere would overtake an earlier one). The deflate backend is zlib-rs (flate2's
//! `zlib-rs` feature, with zlib-rs's `std` for CPU detection): pure Rust and faster than
//! the default miniz_oxide, which was the forward path's top cost.

use crate::batch::Batch;
use bytes::Bytes;
use std::io::Write;

/// `parts`' lines back to back, gzipped at `level` (0–9; 0 stores without compressing).
///
/// Errors: only those of the encoder (writing into memory does not fail otherwise).
pub(super) fn gzip_parts(parts: &[Batch], level: u32) -> std::io::Result<Bytes> {
    let size: usize = parts.iter().map(|p| p.lines().len()).sum();
    // Level 1 makes line protocol about 4 to 8 times smaller.
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(size / 4 + 64),
        flate2::Compression::new(level.min(9)),
    );
    for part in parts {
        encoder.write_all(part.lines())?;
    }
    encoder.finish().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Context;
    use std::io::Read;

    fn gunzip(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn parts_are_gzipped_back_to_back_at_every_level() {
        let ctx = Context {
            db: "db".into(),
            rp: None,
        };
        let parts = [
            Batch::from_lines(ctx.clone(), b"m v=1 1\n", 1),
            Batch::from_lines(ctx, b"m v=2 2\nm v=3 3\n", 2),
        ];
        for level in 0..=9 {
            let body = gzip_parts(&parts, level).unwrap();
            assert_eq!(gunzip(&body), b"m v=1 1\nm v=2 2\nm v=3 3\n");
        }
        assert_eq!(gunzip(&gzip_parts(&[], 1).unwrap()), b"");
    }
}
