//! Checking a plugin's output before it goes on down the chain: it must be canonical
//! line protocol, exactly what the gateway's parser produces (one point per line, single
//! spaces, a nanosecond timestamp, a final line feed), because the next plugin and the
//! buffer take it as is. The check is the line-protocol view's own walk, so it copies
//! nothing.

use sluice_lineproto::points;

/// Checks that `output` is canonical line protocol and counts its points (a point may
/// span lines: a string value may hold a raw line feed).
///
/// Errors: why it is not — the first bad line, and how many more there are, or a last
/// line without its line feed.
///
/// ```
/// assert_eq!(sluice_host::check_output(b"m v=1 1\nm s=\"a\nb\" 2\n"), Ok(2));
/// assert!(sluice_host::check_output(b"m v=1").is_err());
/// ```
pub fn check_output(output: &[u8]) -> Result<usize, String> {
    let mut count = 0;
    let mut walk = points(output);
    for point in walk.by_ref() {
        match point {
            Ok(_) => count += 1,
            Err(first) => {
                let more = walk.filter(Result::is_err).count();
                return Err(if more == 0 {
                    first.to_string()
                } else {
                    format!("{first} (and {more} more bad lines)")
                });
            }
        }
    }
    if !output.is_empty() && !output.ends_with(b"\n") {
        return Err("the last line does not end with a line feed".into());
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_output_passes() {
        assert_eq!(check_output(b""), Ok(0));
        assert_eq!(check_output(b"m,t=a v=1,s=\"x\ny\" 1\nm v=2i -5\n"), Ok(2));
    }

    #[test]
    fn the_first_bad_line_is_quoted_and_the_rest_counted() {
        let e = check_output(b"m v=1 1\nnot line protocol\nm v=1\nm  v=1 1\n").unwrap_err();
        assert!(
            e.starts_with("batch line 2: unable to read 'not line protocol'"),
            "{e}"
        );
        assert!(e.ends_with("(and 2 more bad lines)"), "{e}");
        let e = check_output(b"m v=1 1").unwrap_err();
        assert_eq!(e, "the last line does not end with a line feed");
    }
}
