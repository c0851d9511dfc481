//! The one way request bodies are read: capped at `max_body` before and after gzip
//! decoding, so neither a huge upload nor a decompression bomb can exhaust memory.

use super::error::IngestError;
use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use bytes::BytesMut;
use http_body_util::BodyExt;
use std::io::Read;
use std::time::Duration;

/// Most bytes read and thrown away after refusing an oversized body, so the client can
/// finish sending and read the 413 instead of seeing its connection reset.
const DRAIN_MAX: usize = 256 * 1024 * 1024;
/// Longest time spent draining.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Reads the whole body, decoding `Content-Encoding: gzip`, refusing more than `max` bytes.
pub(super) async fn read_body(
    mut body: Body,
    headers: &HeaderMap,
    max: usize,
) -> Result<Bytes, IngestError> {
    let too_large = IngestError::TooLarge { limit: max };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        drain(body).await;
        return Err(too_large);
    }
    let mut raw = BytesMut::with_capacity(declared.map_or(64 * 1024, |l| l as usize));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| IngestError::BadBody(format!("cannot read body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if raw.len() + data.len() > max {
                drain(body).await;
                return Err(too_large);
            }
            raw.extend_from_slice(&data);
        }
    }
    let raw = raw.freeze();
    if is_gzip(headers) {
        gunzip_capped(&raw, max)
    } else {
        Ok(raw)
    }
}

/// Reads and discards what is left of a refused body, within bounds.
async fn drain(mut body: Body) {
    let discard = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += data.len();
                if seen > DRAIN_MAX {
                    break;
                }
            }
        }
    };
    let _timed_out = tokio::time::timeout(DRAIN_TIME, discard).await;
}

fn is_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"))
}

/// Decodes gzip (possibly several concatenated members), failing past `max` bytes.
pub(super) fn gunzip_capped(compressed: &[u8], max: usize) -> Result<Bytes, IngestError> {
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(4).min(max));
    let decoder = flate2::read::MultiGzDecoder::new(compressed);
    decoder
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| IngestError::BadBody(format!("unable to decode gzip body: {e}")))?;
    if out.len() > max {
        return Err(IngestError::TooLarge { limit: max });
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_round_trip_and_bomb() {
        let data = vec![b'a'; 10_000];
        assert_eq!(gunzip_capped(&gz(&data), 10_000).unwrap().len(), 10_000);
        assert!(matches!(
            gunzip_capped(&gz(&data), 9_999),
            Err(IngestError::TooLarge { .. })
        ));
        assert!(matches!(
            gunzip_capped(b"not gzip", 100),
            Err(IngestError::BadBody(_))
        ));
    }

    #[tokio::test]
    async fn raw_body_cap() {
        let headers = HeaderMap::new();
        let ok = read_body(Body::from("abc"), &headers, 3).await.unwrap();
        assert_eq!(&ok[..], b"abc");
        let err = read_body(Body::from("abcd"), &headers, 3)
            .await
            .unwrap_err();
        assert!(matches!(err, IngestError::TooLarge { limit: 3 }));
    }
}
