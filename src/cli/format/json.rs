//! `json`: the plain JSON tree, indented by 2, keys sorted, numbers printed as their
//! exact text. The helpers here are shared with `detailed`.

use crate::eval::{Value, ValueKind};

/// Two spaces per level.
pub(super) fn write_indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// A JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// Whether a number's text is valid JSON (a Go number such as `Inf` or `0x10` is not).
pub(super) fn is_json_number(n: &str) -> bool {
    serde_json::from_str::<serde_json::Number>(n).is_ok()
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
        ValueKind::Array(items) if items.is_empty() => out.push_str("[]"),
        ValueKind::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                write_indent(out, level + 1);
                write_json(out, item, redact, level + 1);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            write_indent(out, level);
            out.push(']');
        }
        ValueKind::Object(m) if m.is_empty() => out.push_str("{}"),
        ValueKind::Object(m) => {
            out.push_str("{\n");
            for (i, (k, item)) in m.iter().enumerate() {
                write_indent(out, level + 1);
                out.push_str(&json_string(k));
                out.push_str(": ");
                write_json(out, item, redact, level + 1);
                out.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
            }
            write_indent(out, level);
            out.push('}');
        }
    }
}
