//! Document paths (`values.a[0]["b c"]`), written exactly as the reference writes them.
//!
//! A key that is a simple identifier joins with a dot; any other key is bracketed and
//! quoted, with `"` escaped (backslashes are not); an empty key adds nothing.

/// Appends the mapping key `key` to `path`.
pub(crate) fn push_key(path: &mut String, key: &str) {
    if key.is_empty() {
        return;
    }
    if is_simple(key) {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push_str("[\"");
        for c in key.chars() {
            if c == '"' {
                path.push('\\');
            }
            path.push(c);
        }
        path.push_str("\"]");
    }
}

/// Appends the sequence index `index` to `path`.
pub(crate) fn push_index(path: &mut String, index: usize) {
    use std::fmt::Write;
    let _ = write!(path, "[{index}]");
}

/// `path` with `key` appended.
pub(crate) fn join_key(path: &str, key: &str) -> String {
    let mut out = path.to_owned();
    push_key(&mut out, key);
    out
}

/// `path` with `index` appended.
pub(crate) fn join_index(path: &str, index: usize) -> String {
    let mut out = path.to_owned();
    push_index(&mut out, index);
    out
}

fn is_simple(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_like_the_reference() {
        assert_eq!(join_key("", "values"), "values");
        assert_eq!(join_key("values", "a_1"), "values.a_1");
        assert_eq!(join_key("values", "fn::open"), "values[\"fn::open\"]");
        assert_eq!(join_key("values", "2"), "values[\"2\"]");
        assert_eq!(join_key("values", "true"), "values.true");
        assert_eq!(join_key("values", "<<"), "values[\"<<\"]");
        assert_eq!(
            join_key("x", "quoted \"property\""),
            "x[\"quoted \\\"property\\\"\"]"
        );
        assert_eq!(join_key("x", "a\\b"), "x[\"a\\b\"]");
        assert_eq!(join_key("x", ""), "x");
        assert_eq!(join_index("imports", 0), "imports[0]");
        assert_eq!(join_key("", "2"), "[\"2\"]");
    }
}
