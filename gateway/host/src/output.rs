//! Checking a plugin's output before it goes on down the chain: it must be canonical
//! line protocol, exactly what the gateway's parser produces (one point per line, single
//! spaces, a nanosecond timestamp, a final line feed), because the next plugin and the
//! buffer take it as is. The check is the line-protocol view's own walk, so it copies
//! nothing.

use sluice_lineproto::points;

/// Why `output` is not canonical line protocol: the first bad line, and how many there
/// are.
pub(crate) fn check_canonical(output: &[u8]) -> Result<(), String> {
    let mut bad = points(output).filter_map(Result::err);
    if let Some(first) = bad.next() {
        let more = bad.count();
        return Err(if more == 0 {
            first.to_string()
        } else {
            format!("{first} (and {more} more bad lines)")
        });
    }
    if !output.is_empty() && !output.ends_with(b"\n") {
        return Err("the last line does not end with a line feed".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_output_passes() {
        check_canonical(b"").unwrap();
        check_canonical(b"m,t=a v=1,s=\"x\ny\" 1\nm v=2i -5\n").unwrap();
    }

    #[test]
    fn the_first_bad_line_is_quoted_and_the_rest_counted() {
        let e = check_canonical(b"m v=1 1\nnot line protocol\nm v=1\nm  v=1 1\n").unwrap_err();
        assert!(
            e.starts_with("batch line 2: unable to read 'not line protocol'"),
            "{e}"
        );
        assert!(e.ends_with("(and 2 more bad lines)"), "{e}");
        let e = check_canonical(b"m v=1 1").unwrap_err();
        assert_eq!(e, "the last line does not end with a line feed");
    }
}
