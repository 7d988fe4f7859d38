//! Small text helpers shared by the layers: Go's `%q` quoting and the reference's
//! spelling-suggestion distance.

use std::fmt::Write;

/// Quotes `s` as Go's `%q` verb does (`strconv.Quote`): double quotes, `\"` and `\\`
/// escaped, control and non-printable characters escaped, printable Unicode kept.
#[must_use]
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x1_0000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint`: letters, marks, numbers, punctuation,
/// symbols and the ASCII space. Control, format, separator (other than space), private-use
/// and unassigned characters are not printable.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    // Format characters (Cf) and private use, the common ones.
    !matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF | 0xF_0000..=0x10_FFFF | 0xFFFE | 0xFFFF)
}

/// Deletes `_` and lower-cases, as the reference does before comparing names.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|&c| c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Levenshtein distance over bytes.
fn distance(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate to `name`, if one is close enough: the first candidate with the
/// smallest distance below half the folded name's length (rounded up).
#[must_use]
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let target = fold(name);
    let mut threshold = target.len().div_ceil(2);
    let mut best = None;
    for c in candidates {
        let d = distance(target.as_bytes(), fold(c).as_bytes());
        if d < threshold {
            threshold = d;
            best = Some(c);
        }
    }
    best
}

/// Sorts `list` (stably) by distance from `name`, both folded.
pub fn sort_by_distance(name: &str, list: &mut [String]) {
    let target = fold(name);
    list.sort_by_cached_key(|c| distance(target.as_bytes(), fold(c).as_bytes()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("foo"), "\"foo\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("a\nb\t\u{0}"), "\"a\\nb\\t\\x00\"");
        assert_eq!(go_quote("世界"), "\"世界\"");
        assert_eq!(go_quote("\u{ad}"), "\"\\u00ad\"");
    }

    #[test]
    fn suggestions() {
        assert_eq!(nearest("bar", ["baz", "qux"]), Some("baz"));
        assert_eq!(nearest("bar", ["quux"]), None);
        assert_eq!(nearest("Foo_Bar", ["foobar"]), Some("foobar"));
    }

    #[test]
    fn field_list_order() {
        let mut l = vec![
            "'description'".to_owned(),
            "'imports'".to_owned(),
            "'values'".to_owned(),
        ];
        sort_by_distance("foo", &mut l);
        assert_eq!(l, ["'imports'", "'values'", "'description'"]);
        let mut l = vec![
            "'description'".to_owned(),
            "'imports'".to_owned(),
            "'values'".to_owned(),
        ];
        sort_by_distance("desc", &mut l);
        assert_eq!(l, ["'values'", "'imports'", "'description'"]);
    }
}
