//! Spelling blob keys: content addresses in lowercase hex.

/// Appends the lowercase hex of `bytes`.
pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex() {
        let mut hex = String::new();
        push_hex(&mut hex, &[0, 0x9f, 0xff]);
        assert_eq!(hex, "009fff");
    }
}
