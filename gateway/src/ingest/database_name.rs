//! Database names InfluxDB 1.x can hold (`services/meta/data.go` `ValidName`): not empty,
//! not `.` or `..`, no `/` or `\`, and only characters that print. A write to any other
//! name can never be stored, so it is refused at the door as influxd refuses it.

/// Whether InfluxDB 1.x accepts `name` as a database name.
pub(super) fn is_valid(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && name.chars().all(prints)
}

/// Go's `unicode.IsPrint`, as near as the standard library tells: no control or format
/// characters, and no space other than U+0020.
fn prints(c: char) -> bool {
    !c.is_control()
        && (c == ' ' || !c.is_whitespace())
        && !matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_influxdb_refuses() {
        for good in ["metrics", "with space", "wé", "a.b", "_internal", "x-y"] {
            assert!(is_valid(good), "{good:?}");
        }
        for bad in [
            "",
            ".",
            "..",
            "w/slash",
            "w\\bs",
            "new\nline",
            "tab\t",
            "nul\0",
            "nbsp\u{a0}",
            "zw\u{200b}",
        ] {
            assert!(!is_valid(bad), "{bad:?}");
        }
    }
}
