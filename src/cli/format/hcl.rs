//! The `tfvars` and `tfvars-json` targets of `escc export`: a variable definitions file
//! for Terraform and `OpenTofu` from an object (`pulumiConfig`, or `--path`), one variable
//! per key. `tfvars` is HCL: strings double-quoted with HCL's escapes, `${` and `%{`
//! doubled so no template runs; lists and objects as HCL's tuples and objects.
//! `tfvars-json` is the same as JSON (`*.tfvars.json`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::json::{is_json_number, write_json};
use crate::eval::{Value, ValueKind};

/// Whether `s` is an HCL identifier, as a Terraform variable's name must be: a letter or
/// `_`, then letters, digits, `_` and `-` (ASCII only).
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c == '-' || c.is_ascii_alphanumeric())
}

/// Fails for a variable name Terraform does not accept, and for unknown values.
fn check(vars: &BTreeMap<String, Value>, origin: &str) -> Result<(), String> {
    for (k, v) in vars {
        if !is_identifier(k) {
            return Err(format!(
                "{origin}.{k}: {k:?} is not a Terraform variable name (a letter or _, then letters, digits, _ and -)"
            ));
        }
        check_known(v, &format!("{origin}.{k}"))?;
    }
    Ok(())
}

fn check_known(v: &Value, at: &str) -> Result<(), String> {
    if v.unknown {
        return Err(format!("{at}: the value is unknown"));
    }
    match &v.kind {
        ValueKind::Number(n) if !is_json_number(n) => Err(format!(
            "{at}: the number {n} has no form in Terraform (only finite numbers)"
        )),
        ValueKind::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| check_known(x, &format!("{at}[{i}]"))),
        ValueKind::Object(m) => m
            .iter()
            .try_for_each(|(k, x)| check_known(x, &format!("{at}[{k:?}]"))),
        _ => Ok(()),
    }
}

/// An HCL quoted string: `\\`, `\"`, `\n`, `\r`, `\t`, other control characters as
/// `\uNNNN`; `${` and `%{` as `$${` and `%%{`, their literal forms.
fn hcl_string(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// An HCL value; nested lists and objects one item a line, indented by 2.
fn write_hcl(out: &mut String, v: &Value, level: usize) {
    match &v.kind {
        ValueKind::Null => out.push_str("null"),
        ValueKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ValueKind::Number(n) => out.push_str(n),
        ValueKind::String(s) => out.push_str(&hcl_string(s)),
        ValueKind::Array(items) if items.is_empty() => out.push_str("[]"),
        ValueKind::Array(items) => {
            out.push_str("[\n");
            for x in items {
                indent(out, level + 1);
                write_hcl(out, x, level + 1);
                out.push_str(",\n");
            }
            indent(out, level);
            out.push(']');
        }
        ValueKind::Object(m) if m.is_empty() => out.push_str("{}"),
        ValueKind::Object(m) => {
            // Keys quoted: a bare key would be read as an expression (`null`, `true`).
            out.push_str("{\n");
            for (k, x) in m {
                indent(out, level + 1);
                out.push_str(&hcl_string(k));
                out.push_str(" = ");
                write_hcl(out, x, level + 1);
                out.push('\n');
            }
            indent(out, level);
            out.push('}');
        }
    }
}

/// `tfvars`: `name = value` a variable.
pub(crate) fn tfvars(vars: &BTreeMap<String, Value>, origin: &str) -> Result<String, String> {
    check(vars, origin)?;
    let mut out = String::new();
    for (k, v) in vars {
        out.push_str(k);
        out.push_str(" = ");
        write_hcl(&mut out, v, 0);
        out.push('\n');
    }
    Ok(out)
}

/// `tfvars-json`: `{"name": value, ...}`.
pub(crate) fn tfvars_json(vars: &BTreeMap<String, Value>, origin: &str) -> Result<String, String> {
    check(vars, origin)?;
    let mut out = String::new();
    write_json(&mut out, &Value::object(vars.clone()), false, 0);
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings() {
        assert_eq!(
            hcl_string("a${b}%{c}$d\"\\\n\u{1}"),
            r#""a$${b}%%{c}$d\"\\\n\u0001""#
        );
        assert!(is_identifier("db-host_1"));
        assert!(!is_identifier("1a"));
    }
}
