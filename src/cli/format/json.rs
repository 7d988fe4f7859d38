//! `json`: the plain JSON tree, indented by 2, keys sorted, numbers printed as their
//! exact text. The helpers here are shared with `detailed`.

use crate::eval::{Value, ValueKind};

/// Two spaces per level.
fn write_indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// A JSON string literal.
pub(super) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Whether a number's text is a JSON number literal, as Go's encoder decides it: `1e400`
/// is one (Go writes a `json.Number` out of float64 range as it is), `+Inf` and `NaN`
/// (YAML's `.inf` and `.nan`) are not.
pub(super) fn is_json_number(n: &str) -> bool {
    crate::go::json::is_number(n)
}

/// A number's text, if it is a JSON number; else the text as a JSON string.
pub(super) fn json_number(n: &str) -> String {
    if is_json_number(n) {
        n.to_owned()
    } else {
        json_string(n)
    }
}

/// The plain JSON tree: secrets as `"[secret]"` when redacting, unknowns as
/// `"[unknown]"`.
pub(crate) fn write_json(out: &mut String, v: &Value, redact: bool, level: usize) {
    if redact && v.secret {
        out.push_str("\"[secret]\"");
        return;
    }
    if v.unknown {
        out.push_str("\"[unknown]\"");
        return;
    }
    match &v.kind {
        ValueKind::Null => out.push_str("null"),
        ValueKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ValueKind::Number(n) => out.push_str(&json_number(n)),
        ValueKind::String(s) => out.push_str(&json_string(s)),
        ValueKind::Array(items) => write_array(out, items.iter(), level, |out, item| {
            write_json(out, item, redact, level + 1);
        }),
        ValueKind::Object(m) => write_object(out, m.iter(), level, |out, _, item| {
            write_json(out, item, redact, level + 1);
        }),
    }
}

/// A JSON array whose closing bracket is at `level`: `[]` when empty, else one item a
/// line, indented one level deeper and written by `item`.
pub(super) fn write_array<T>(
    out: &mut String,
    items: impl ExactSizeIterator<Item = T>,
    level: usize,
    mut item: impl FnMut(&mut String, T),
) {
    let len = items.len();
    if len == 0 {
        out.push_str("[]");
        return;
    }
    out.push_str("[\n");
    for (i, x) in items.enumerate() {
        write_indent(out, level + 1);
        item(out, x);
        out.push_str(if i + 1 < len { ",\n" } else { "\n" });
    }
    write_indent(out, level);
    out.push(']');
}

/// A JSON object whose closing brace is at `level`: `{}` when empty, else one
/// `"key": value` a line, indented one level deeper, the value written by `value` (which
/// gets the key too).
pub(super) fn write_object<K: AsRef<str>, T>(
    out: &mut String,
    entries: impl ExactSizeIterator<Item = (K, T)>,
    level: usize,
    mut value: impl FnMut(&mut String, &str, T),
) {
    let len = entries.len();
    if len == 0 {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (i, (k, x)) in entries.enumerate() {
        write_indent(out, level + 1);
        out.push_str(&json_string(k.as_ref()));
        out.push_str(": ");
        value(out, k.as_ref(), x);
        out.push_str(if i + 1 < len { ",\n" } else { "\n" });
    }
    write_indent(out, level);
    out.push('}');
}
