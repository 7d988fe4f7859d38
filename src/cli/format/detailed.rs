//! `detailed`: every value with its `secret` and `unknown` flags and, from the typed
//! environment, its trace.

use super::json::{json_number, json_string, write_array, write_object};
use crate::ast::AccessorKind;
use crate::eval::{Value, ValueKind};
use crate::go::strconv::format_float_g;

/// The typed value at a property path (`value` of each level).
pub(crate) fn typed_at<'a>(
    root: &'a serde_json::Value,
    path: &[AccessorKind],
) -> Option<&'a serde_json::Value> {
    let mut t = root;
    for acc in path {
        let v = t.get("value")?;
        t = match acc {
            AccessorKind::Name(k) | AccessorKind::Key(k) => v.get(k)?,
            AccessorKind::Index(i) => v.get(usize::try_from(*i).ok()?)?,
        };
    }
    Some(t)
}

/// `detailed`: `{"value": ..., "secret": true, "unknown": true, "trace": ...}` at every
/// level. Values come from `v` (numbers as their exact text); traces from the typed
/// environment `typed`.
pub(crate) fn write_detailed(
    out: &mut String,
    v: &Value,
    typed: Option<&serde_json::Value>,
    redact: bool,
    level: usize,
) {
    let child = |key: &dyn Fn(&serde_json::Value) -> Option<&serde_json::Value>| {
        typed.and_then(|t| t.get("value")).and_then(key)
    };
    let mut fields: Vec<(&str, String)> = Vec::new();
    let mut value = String::new();
    if redact && v.secret {
        value.push_str("\"[secret]\"");
    } else {
        match &v.kind {
            ValueKind::Null => {}
            ValueKind::Bool(b) => value.push_str(if *b { "true" } else { "false" }),
            ValueKind::Number(n) => value.push_str(&json_number(n)),
            ValueKind::String(s) => value.push_str(&json_string(s)),
            ValueKind::Array(items) => {
                write_array(
                    &mut value,
                    items.iter().enumerate(),
                    level + 1,
                    |out, (i, item)| {
                        write_detailed(out, item, child(&|a| a.get(i)), redact, level + 2);
                    },
                );
            }
            ValueKind::Object(m) => {
                write_object(&mut value, m.iter(), level + 1, |out, k, item| {
                    write_detailed(out, item, child(&|o| o.get(k)), redact, level + 2);
                });
            }
        }
    }
    if !value.is_empty() {
        fields.push(("value", value));
    }
    if v.secret {
        fields.push(("secret", "true".to_owned()));
    }
    if v.unknown {
        fields.push(("unknown", "true".to_owned()));
    }
    if let Some(trace) = typed.and_then(|t| t.get("trace")) {
        let mut t = String::new();
        write_typed_json(&mut t, trace, redact, level + 1);
        fields.push(("trace", t));
    }
    write_object(out, fields.into_iter(), level, |out, _, f| out.push_str(&f));
}

/// JSON from the typed environment (traces and the imported values they hold), with
/// secret values redacted and floats printed as Go prints them.
fn write_typed_json(out: &mut String, j: &serde_json::Value, redact: bool, level: usize) {
    match j {
        serde_json::Value::Null => out.push_str("null"),
        serde_json::Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (_, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) => out.push_str(&format_float_g(f)),
            _ => out.push_str(&n.to_string()),
        },
        serde_json::Value::String(s) => out.push_str(&json_string(s)),
        serde_json::Value::Array(items) => write_array(out, items.iter(), level, |out, item| {
            write_typed_json(out, item, redact, level + 1);
        }),
        serde_json::Value::Object(m) => {
            let hide = redact && m.get("secret") == Some(&serde_json::Value::Bool(true));
            write_object(out, m.iter(), level, |out, k, item| {
                if hide && k == "value" {
                    out.push_str("\"[secret]\"");
                } else {
                    write_typed_json(out, item, redact, level + 1);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::json::write_json;
    use super::*;

    /// Nested and empty lists and objects, a secret and an unknown, with traces that hold
    /// floats, lists and a secret value.
    fn sample() -> (Value, serde_json::Value) {
        let s = Value::string;
        let v = Value::object([
            (
                "list".to_owned(),
                Value::new(ValueKind::Array(vec![
                    s("a"),
                    Value::new(ValueKind::Array(vec![])),
                    Value::object([("k".to_owned(), Value::new(ValueKind::Bool(true)))]),
                ])),
            ),
            ("empty".to_owned(), Value::object([])),
            (
                "pw".to_owned(),
                Value::with_flags(ValueKind::String("hunter2".to_owned()), true, false),
            ),
            (
                "later".to_owned(),
                Value::with_flags(ValueKind::Null, false, true),
            ),
            (
                "n".to_owned(),
                Value::new(ValueKind::Number("1.5".to_owned())),
            ),
        ]);
        let typed = serde_json::json!({"value": {
            "list": {"value": [
                {"value": "a", "trace": {"def": {"at": [1, 2.5, []]}}},
                {"value": []},
                {"value": {"k": {"value": true, "trace": {}}}},
            ]},
            "pw": {"value": "hunter2", "secret": true,
                   "trace": {"base": {"value": "hunter2", "secret": true}}},
            "n": {"value": 1.5, "trace": {"def": {"f": 0.000_001}}},
        }});
        (v, typed)
    }

    #[test]
    fn json_layout() {
        let (v, _) = sample();
        let mut out = String::new();
        write_json(&mut out, &v, true, 0);
        out.push('\n');
        write_json(&mut out, &v, false, 1);
        assert_eq!(
            out,
            r#"{
  "empty": {},
  "later": "[unknown]",
  "list": [
    "a",
    [],
    {
      "k": true
    }
  ],
  "n": 1.5,
  "pw": "[secret]"
}
{
    "empty": {},
    "later": "[unknown]",
    "list": [
      "a",
      [],
      {
        "k": true
      }
    ],
    "n": 1.5,
    "pw": "hunter2"
  }"#
        );
    }

    #[test]
    fn detailed_layout() {
        let (v, typed) = sample();
        let mut out = String::new();
        write_detailed(&mut out, &v, Some(&typed), true, 0);
        assert_eq!(
            out,
            r#"{
  "value": {
    "empty": {
      "value": {}
    },
    "later": {
      "unknown": true
    },
    "list": {
      "value": [
        {
          "value": "a",
          "trace": {
            "def": {
              "at": [
                1,
                2.5,
                []
              ]
            }
          }
        },
        {
          "value": []
        },
        {
          "value": {
            "k": {
              "value": true,
              "trace": {}
            }
          }
        }
      ]
    },
    "n": {
      "value": 1.5,
      "trace": {
        "def": {
          "f": 1e-06
        }
      }
    },
    "pw": {
      "value": "[secret]",
      "secret": true,
      "trace": {
        "base": {
          "value": "[secret]",
          "secret": true
        }
      }
    }
  }
}"#
        );
        // Unredacted, the secret shows, in the value and in the trace.
        let mut shown = String::new();
        write_detailed(&mut shown, &v, Some(&typed), false, 0);
        assert_eq!(shown, out.replace("\"[secret]\"", "\"hunter2\""));
    }
}
