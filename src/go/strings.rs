//! Go's `strings.Split`, and how Go reads a string's bytes as runes.

/// Go's `strings.Split`: an empty separator splits into characters (`""` gives no elements); a
/// non-empty separator splits at non-overlapping matches from the left (`""` gives `[""]`).
pub(crate) fn split(s: &str, sep: &str) -> Vec<String> {
    if sep.is_empty() {
        s.chars().map(String::from).collect()
    } else {
        s.split(sep).map(str::to_owned).collect()
    }
}

/// Converts bytes to a string the way Go's encoders and `for range` read them: each byte that does
/// not start a valid UTF-8 sequence becomes one U+FFFD (Rust's `from_utf8_lossy` instead replaces
/// a whole truncated sequence with a single U+FFFD).
pub(crate) fn from_bytes_lossy(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                out.push_str(valid);
                return out;
            }
            Err(err) => {
                let (valid, after) = rest.split_at(err.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                out.push(char::REPLACEMENT_CHARACTER);
                rest = after.get(1..).unwrap_or_default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_follows_go_strings_split() {
        let s = |parts: &[&str]| parts.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
        assert_eq!(split("a,b,c", ","), s(&["a", "b", "c"]));
        assert_eq!(split("", ","), s(&[""]));
        assert_eq!(split("abc", "x"), s(&["abc"]));
        assert_eq!(split(",a,", ","), s(&["", "a", ""]));
        assert_eq!(split("a::b", "::"), s(&["a", "b"]));
        assert_eq!(split("aaa", "aa"), s(&["", "a"]));
        assert_eq!(split("", ""), s(&[]));
        assert_eq!(split("héllo😀", ""), s(&["h", "é", "l", "l", "o", "😀"]));
    }

    #[test]
    fn from_bytes_lossy_replaces_each_invalid_byte() {
        assert_eq!(from_bytes_lossy(b"plain"), "plain");
        assert_eq!(from_bytes_lossy(b"a\xffb"), "a\u{fffd}b");
        // A truncated sequence is one U+FFFD per byte, unlike `String::from_utf8_lossy`.
        assert_eq!(
            from_bytes_lossy(b"\xf0\x9f\x98a"),
            "\u{fffd}\u{fffd}\u{fffd}a"
        );
        assert_eq!(
            from_bytes_lossy(b"\xed\xa0\x80"),
            "\u{fffd}\u{fffd}\u{fffd}"
        );
        assert_eq!(from_bytes_lossy("é😀".as_bytes()), "é😀");
    }
}
