//! `string`: the `fn::toString` form, also used for exported variables.

use std::fmt::Write as _;

use crate::eval::{Value, ValueKind};
use crate::go::strconv::quote;

/// The longest string form escc builds: each level of nesting quotes the one inside it
/// again, so the form of a deep list can be exponentially longer than the list.
pub(crate) const MAX_STRING_FORM: usize = 32 << 20;

/// The `fn::toString` form: scalars raw, lists as Go-quoted items joined by `,`, objects
/// as `"key"="value"` pairs; secrets `[secret]` when redacting, unknowns `[unknown]`.
/// `None` if it is longer than [`MAX_STRING_FORM`].
pub(crate) fn string_form(v: &Value, redact: bool) -> Option<String> {
    if redact && v.secret {
        return Some("[secret]".to_owned());
    }
    if v.unknown {
        return Some("[unknown]".to_owned());
    }
    let mut out = String::new();
    match &v.kind {
        ValueKind::Null => {}
        ValueKind::Bool(b) => out = b.to_string(),
        ValueKind::Number(n) => out.clone_from(n),
        ValueKind::String(s) => out.clone_from(s),
        ValueKind::Array(items) => {
            for (n, i) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&quote(&string_form(i, redact)?));
                if out.len() > MAX_STRING_FORM {
                    return None;
                }
            }
        }
        ValueKind::Object(m) => {
            for (n, (k, i)) in m.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                let s = string_form(i, redact)?;
                let _ = write!(out, "{}={}", quote(k), quote(&s));
                if out.len() > MAX_STRING_FORM {
                    return None;
                }
            }
        }
    }
    (out.len() <= MAX_STRING_FORM).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::string(x)
    }

    #[test]
    fn string_forms() {
        let v = Value::object([
            ("a".to_owned(), Value::new(ValueKind::Null)),
            (
                "d".to_owned(),
                Value::new(ValueKind::Array(vec![s("hello")])),
            ),
        ]);
        assert_eq!(string_form(&v, true).unwrap(), r#""a"="","d"="\"hello\"""#);
    }
}
