//! Escaping plain text for its place in a line.

/// What to do with each byte of a name.
pub(super) type Escapes = [Class; 256];

/// What a byte needs in a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// Copied as it is.
    Plain,
    /// Preceded by a backslash.
    Escape,
    /// Cannot be written (a line feed ends the line whatever escapes it).
    Forbidden,
}

/// A table escaping `special`, forbidding LF.
const fn escapes(special: &[u8]) -> Escapes {
    let mut table = [Class::Plain; 256];
    let mut i = 0;
    while i < special.len() {
        table[special[i] as usize] = Class::Escape;
        i += 1;
    }
    table[b'\n' as usize] = Class::Forbidden;
    table
}

/// Escapes of a measurement.
pub(super) static MEASUREMENT: Escapes = escapes(b", \\");
/// Escapes of tag keys, tag values and field keys.
pub(super) static NAME: Escapes = escapes(b",= \\");

/// Appends `s` escaped by `table`; `Err` (with part of `s` appended) if it holds a byte
/// that cannot be written.
#[inline]
pub(super) fn name(out: &mut Vec<u8>, s: &[u8], table: &Escapes) -> Result<(), ()> {
    if s.iter().all(|&c| table[usize::from(c)] == Class::Plain) {
        out.extend_from_slice(s);
        return Ok(());
    }
    for &c in s {
        match table[usize::from(c)] {
            Class::Plain => out.push(c),
            Class::Escape => out.extend_from_slice(&[b'\\', c]),
            Class::Forbidden => return Err(()),
        }
    }
    Ok(())
}

/// Appends the inside of a string field value: `"` and `\` escaped, the rest as it is.
#[inline]
pub(super) fn string(out: &mut Vec<u8>, s: &[u8]) {
    if !s.iter().any(|&c| c == b'"' || c == b'\\') {
        out.extend_from_slice(s);
        return;
    }
    for &c in s {
        if c == b'"' || c == b'\\' {
            out.push(b'\\');
        }
        out.push(c);
    }
}
