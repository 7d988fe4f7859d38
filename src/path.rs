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

/// A path kept as a chain of borrowed steps, so walking a document costs no allocation per
/// node; [`PathRef::render`] writes it out (as [`join_key`] and [`join_index`] would) only
/// when a diagnostic needs it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PathRef<'a> {
    /// The empty path.
    Root,
    /// The parent path with a mapping key appended.
    Key(&'a PathRef<'a>, &'a str),
    /// The parent path with a sequence index appended.
    Index(&'a PathRef<'a>, usize),
}

impl<'a> PathRef<'a> {
    /// This path with `key` appended.
    pub(crate) fn key(&'a self, key: &'a str) -> PathRef<'a> {
        PathRef::Key(self, key)
    }

    /// This path with `index` appended.
    pub(crate) fn index(&'a self, index: usize) -> PathRef<'a> {
        PathRef::Index(self, index)
    }

    /// The path as text.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match *self {
            PathRef::Root => {}
            PathRef::Key(parent, key) => {
                parent.write(out);
                push_key(out, key);
            }
            PathRef::Index(parent, index) => {
                parent.write(out);
                push_index(out, index);
            }
        }
    }
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

    #[test]
    fn borrowed_paths_render_like_joined_ones() {
        let keys = ["values", "a_1", "fn::open", "", "2", "q\"k", "é", "a b"];
        let root = PathRef::Root;
        assert_eq!(root.render(), "");
        for first in keys {
            let one = root.key(first);
            let joined = join_key("", first);
            assert_eq!(one.render(), joined);
            for (i, second) in keys.into_iter().enumerate() {
                let two = one.key(second);
                assert_eq!(two.render(), join_key(&joined, second));
                let three = two.index(i);
                assert_eq!(three.render(), join_index(&join_key(&joined, second), i));
                assert_eq!(three.key(first).render(), {
                    let mut p = join_index(&join_key(&joined, second), i);
                    push_key(&mut p, first);
                    p
                });
            }
        }
        assert_eq!(root.index(3).key("x").render(), "[3].x");
    }
}
