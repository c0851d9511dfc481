//! Canonical batches whose lines are their points, so that counting or indexing points
//! can skip the point walk: what `chain::count_points` and the forwarder's point
//! identities (`forward::overlap`) both rely on.

/// The non-empty lines of canonical `lines`, when each is one point: the batch holds no
/// `"` (so no string value, where a line feed may sit) and no line feed escaped by a
/// backslash (which continues its point). `None` otherwise: walk the points
/// ([`sluice_lineproto::trusted_points`]).
///
/// ```
/// let lines: Vec<&[u8]> = sluice::point_lines::point_lines(b"a v=1 1\n\nb v=2 2").unwrap().collect();
/// assert_eq!(lines, [&b"a v=1 1"[..], &b"b v=2 2"[..]]);
/// assert!(sluice::point_lines::point_lines(b"a s=\"x\" 1\n").is_none());
/// assert!(sluice::point_lines::point_lines(b"a,t=x\\\ny v=1 1\n").is_none());
/// ```
pub fn point_lines(lines: &[u8]) -> Option<impl Iterator<Item = &[u8]>> {
    if memchr::memchr(b'"', lines).is_some() || memchr::memmem::find(lines, b"\\\n").is_some() {
        return None;
    }
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', lines).chain(std::iter::once(lines.len()));
    Some(ends.filter_map(move |end| {
        let line = lines.get(start..end);
        start = end + 1;
        line.filter(|l| !l.is_empty())
    }))
}
