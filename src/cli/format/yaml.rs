//! `yaml`: the JSON tree as YAML, indented by 3.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::eval::{Value, ValueKind};

const YAML_INDENT: usize = 3;

/// The value as a YAML document, as go-yaml v3 writes it with an indent of 3.
pub(crate) fn write_yaml_document(out: &mut String, v: &Value, redact: bool) {
    match yaml_shape(v, redact) {
        Shape::Map(m) if !m.is_empty() => write_yaml_map(out, m, redact, 0),
        Shape::List(items) if !items.is_empty() => write_yaml_list(out, items, redact, 0),
        _ => {
            out.push_str(&yaml_inline(v, redact, 0));
            out.push('\n');
        }
    }
}

enum Shape<'a> {
    Scalar,
    Map(&'a BTreeMap<String, Value>),
    List(&'a [Value]),
}

fn yaml_shape(v: &Value, redact: bool) -> Shape<'_> {
    if (redact && v.secret) || v.unknown {
        return Shape::Scalar;
    }
    match &v.kind {
        ValueKind::Object(m) => Shape::Map(m),
        ValueKind::Array(items) => Shape::List(items),
        _ => Shape::Scalar,
    }
}

fn spaces(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_yaml_map(out: &mut String, m: &BTreeMap<String, Value>, redact: bool, indent: usize) {
    for (i, (k, v)) in m.iter().enumerate() {
        // The first entry of a map inside a list item continues the `- ` line.
        if i > 0 || !out.ends_with("- ") {
            spaces(out, indent);
        }
        out.push_str(&yaml_string(k, indent, true));
        out.push(':');
        write_yaml_child(out, v, redact, indent);
    }
}

fn write_yaml_list(out: &mut String, items: &[Value], redact: bool, indent: usize) {
    for v in items {
        if !out.ends_with("- ") {
            spaces(out, indent);
        }
        out.push_str("- ");
        match yaml_shape(v, redact) {
            Shape::Map(m) if !m.is_empty() => write_yaml_map(out, m, redact, indent + 2),
            Shape::List(l) if !l.is_empty() => write_yaml_list(out, l, redact, indent + 2),
            _ => {
                out.push_str(&yaml_inline(v, redact, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// The value after `key:`.
fn write_yaml_child(out: &mut String, v: &Value, redact: bool, indent: usize) {
    match yaml_shape(v, redact) {
        Shape::Map(m) if !m.is_empty() => {
            out.push('\n');
            write_yaml_map(out, m, redact, indent + YAML_INDENT);
        }
        Shape::List(l) if !l.is_empty() => {
            out.push('\n');
            write_yaml_list(out, l, redact, indent + YAML_INDENT);
        }
        _ => {
            out.push(' ');
            out.push_str(&yaml_inline(v, redact, indent + YAML_INDENT));
            out.push('\n');
        }
    }
}

/// A scalar (or empty collection) on one line; multi-line strings become literal blocks
/// whose lines are indented by `indent`.
fn yaml_inline(v: &Value, redact: bool, indent: usize) -> String {
    if redact && v.secret {
        return yaml_string("[secret]", indent, false);
    }
    if v.unknown {
        return yaml_string("[unknown]", indent, false);
    }
    match &v.kind {
        ValueKind::Null => "null".to_owned(),
        ValueKind::Bool(b) => b.to_string(),
        ValueKind::Number(n) => yaml_number(n, indent),
        ValueKind::String(s) => yaml_string(s, indent, false),
        ValueKind::Array(_) => "[]".to_owned(),
        ValueKind::Object(_) => "{}".to_owned(),
    }
}

/// A number as go-yaml v3 writes a `json.Number`: as a float64 when it is one (YAML's
/// `.inf`, `-.inf`, `.nan` for Go's `+Inf`, `-Inf`, `NaN`), else, out of float64 range
/// (`1e400`), as a string. Other numbers keep their text.
fn yaml_number(n: &str, indent: usize) -> String {
    match n {
        "+Inf" => ".inf".to_owned(),
        "-Inf" => "-.inf".to_owned(),
        "NaN" => ".nan".to_owned(),
        _ if serde_json::from_str::<serde_json::Number>(n).is_ok() => n.to_owned(),
        _ => yaml_string(n, indent, false),
    }
}

/// A string as go-yaml v3 writes it: plain when it reads back as the same string,
/// double-quoted when it would read as another type or holds control characters,
/// single-quoted when YAML syntax forbids it plain, a literal block when multi-line.
pub(super) fn yaml_string(s: &str, indent: usize, key: bool) -> String {
    let printable = s
        .chars()
        .all(|c| c == '\n' || c == '\t' || !(c.is_control() || c == '\u{feff}'));
    if !printable {
        return double_quoted(s);
    }
    if s.contains('\n') {
        if key || !literal_ok(s) {
            return double_quoted(s);
        }
        let chomp = if s.ends_with("\n\n") || s == "\n" {
            "+"
        } else if s.ends_with('\n') {
            ""
        } else {
            "-"
        };
        let mut out = format!("|{chomp}");
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                spaces(&mut out, indent);
                out.push_str(line);
            }
        }
        return out;
    }
    if reads_as_other_type(s) {
        return double_quoted(s);
    }
    if plain_ok(s) {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', "''"))
}

pub(super) fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a multi-line string can be a literal block: no leading space (it would need
/// an indentation indicator), no trailing spaces on lines, no carriage returns.
fn literal_ok(s: &str) -> bool {
    !s.starts_with(' ')
        && !s.contains('\r')
        && !s.contains(" \n")
        && !s.ends_with(' ')
        && !s.contains('\t')
}

/// Whether a plain scalar would read back as a non-string (YAML 1.1 and 1.2 forms).
fn reads_as_other_type(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y",
        "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
        ".nan", ".NaN", ".NAN",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    if t.is_empty() {
        return false;
    }
    let digits =
        |x: &str, radix: u32| !x.is_empty() && x.chars().all(|c| c == '_' || c.is_digit(radix));
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return digits(h, 16);
    }
    if let Some(o) = t.strip_prefix("0o") {
        return digits(o, 8);
    }
    if let Some(b) = t.strip_prefix("0b") {
        return digits(b, 2);
    }
    // Sexagesimal (YAML 1.1): 1:30, 190:20:30.15.
    if t.contains(':') {
        let (ints, frac) = t.split_once('.').unwrap_or((t, ""));
        return ints.split(':').all(|p| digits(p, 10))
            && frac.chars().all(|c| c.is_ascii_digit() || c == '_');
    }
    // Decimal ints and floats: 1, 1_000, 1.5, .5, 1., 1e3, 1.5E-3.
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mantissa_ok = (digits(int, 10) || (int.is_empty() && digits(frac, 10)))
        && frac.chars().all(|c| c.is_ascii_digit() || c == '_');
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Whether YAML syntax allows `s` as a plain scalar in block context.
fn plain_ok(s: &str) -> bool {
    let first = s.chars().next().unwrap_or(' ');
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') {
        let second = s.chars().nth(1);
        if second.is_none_or(|c| c == ' ' || c == '\t') {
            return false;
        }
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']) {
        return false;
    }
    !(s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.contains(":\t"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::string(x)
    }

    #[test]
    fn yaml_strings() {
        assert_eq!(yaml_string("hello", 0, false), "hello");
        assert_eq!(yaml_string("true", 0, false), "\"true\"");
        assert_eq!(yaml_string("1e3", 0, false), "\"1e3\"");
        assert_eq!(yaml_string("0x1F", 0, false), "\"0x1F\"");
        assert_eq!(yaml_string("1:30", 0, false), "\"1:30\"");
        assert_eq!(yaml_string("", 0, false), "\"\"");
        assert_eq!(yaml_string("[secret]", 0, false), "'[secret]'");
        assert_eq!(yaml_string("a: b", 0, false), "'a: b'");
        assert_eq!(yaml_string("it's", 0, false), "it's");
        assert_eq!(yaml_string("- x", 0, false), "'- x'");
        assert_eq!(yaml_string("a\nb\n", 3, false), "|\n   a\n   b");
        assert_eq!(yaml_string("a\nb", 3, false), "|-\n   a\n   b");
        assert_eq!(yaml_string("bell\u{7}", 0, false), "\"bell\\u0007\"");
        assert_eq!(
            yaml_string("postgres://u@h:5432/db", 0, false),
            "postgres://u@h:5432/db"
        );
    }

    #[test]
    fn yaml_document() {
        let v = Value::object([
            ("a".to_owned(), Value::object([("b".to_owned(), s("c"))])),
            (
                "list".to_owned(),
                Value::new(ValueKind::Array(vec![
                    s("x"),
                    Value::object([("k".to_owned(), s("v")), ("l".to_owned(), s("w"))]),
                ])),
            ),
            (
                "num".to_owned(),
                Value::new(ValueKind::Number("1e+06".to_owned())),
            ),
            ("n".to_owned(), s("yes")),
        ]);
        let mut out = String::new();
        write_yaml_document(&mut out, &v, true);
        assert_eq!(
            out,
            "a:\n   b: c\nlist:\n   - x\n   - k: v\n     l: w\n\"n\": \"yes\"\nnum: 1e+06\n"
        );
    }
}
