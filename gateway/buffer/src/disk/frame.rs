//! Record framing: `[len: u32 LE][crc32: u32 LE][payload; len]`.
//!
//! The checksum covers the length bytes and the payload, so a torn length, a torn payload and a
//! zero-filled tail (what some file systems leave after power loss) are all detected.

/// Bytes of framing in front of every record.
pub(crate) const FRAME_HEADER_LEN: u64 = 8;

/// Largest payload the length field can describe.
pub(crate) const MAX_PAYLOAD_LEN: u64 = u32::MAX as u64;

/// The framing bytes for `payload`, which must not be longer than [`MAX_PAYLOAD_LEN`].
#[cfg(test)]
pub(crate) fn header(payload: &[u8]) -> [u8; 8] {
    header_of_parts(&[payload])
}

/// The framing bytes for a payload made of `parts` written back to back, which together
/// must not be longer than [`MAX_PAYLOAD_LEN`].
pub(crate) fn header_of_parts(parts: &[&[u8]]) -> [u8; 8] {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let len = u32::try_from(total).unwrap_or(u32::MAX).to_le_bytes();
    let crc = checksum(len, parts).to_le_bytes();
    [
        len[0], len[1], len[2], len[3], crc[0], crc[1], crc[2], crc[3],
    ]
}

fn checksum(len: [u8; 4], parts: &[&[u8]]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&len);
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize()
}

/// What the bytes at the start of a buffer hold.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// A valid record: its payload is `buf[8..frame_len]`.
    Record {
        /// Framing plus payload.
        frame_len: u64,
    },
    /// Not enough bytes to decide; `frame_len` is known once the length field is there.
    Incomplete {
        /// Framing plus payload, if the length field was complete.
        frame_len: Option<u64>,
    },
    /// The checksum does not match.
    Corrupt {
        /// Framing plus payload, as the (possibly damaged) length field claims.
        frame_len: u64,
    },
}

/// Decodes the frame at the start of `buf`.
pub(crate) fn decode(buf: &[u8]) -> Decoded {
    let Some((len, rest)) = buf.split_first_chunk::<4>() else {
        return Decoded::Incomplete { frame_len: None };
    };
    let Some((crc, rest)) = rest.split_first_chunk::<4>() else {
        return Decoded::Incomplete { frame_len: None };
    };
    let payload_len = u64::from(u32::from_le_bytes(*len));
    let frame_len = FRAME_HEADER_LEN + payload_len;
    let Some(payload) = usize::try_from(payload_len)
        .ok()
        .and_then(|n| rest.get(..n))
    else {
        return Decoded::Incomplete {
            frame_len: Some(frame_len),
        };
    };
    if checksum(*len, &[payload]) == u32::from_le_bytes(*crc) {
        Decoded::Record { frame_len }
    } else {
        Decoded::Corrupt { frame_len }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut out = header(payload).to_vec();
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn round_trip() {
        let buf = frame(b"cpu,host=a usage=1 1");
        assert_eq!(
            decode(&buf),
            Decoded::Record {
                frame_len: buf.len() as u64
            }
        );
        assert_eq!(
            decode(&frame(b"")),
            Decoded::Record { frame_len: 8 },
            "empty records are valid"
        );
    }

    #[test]
    fn torn_and_corrupt_frames_are_detected() {
        let buf = frame(b"hello world");
        assert_eq!(decode(&buf[..5]), Decoded::Incomplete { frame_len: None });
        assert_eq!(
            decode(&buf[..12]),
            Decoded::Incomplete {
                frame_len: Some(19)
            }
        );
        for i in 0..buf.len() {
            let mut bad = buf.clone();
            bad[i] ^= 0x40;
            assert!(
                !matches!(decode(&bad), Decoded::Record { .. }),
                "flip at {i} undetected"
            );
        }
        assert!(!matches!(decode(&[0; 64]), Decoded::Record { .. }), "zeros");
    }
}
