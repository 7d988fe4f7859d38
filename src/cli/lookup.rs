//! Property paths (`escc get NAME PATH`, `${...}` in `escc run` arguments) over evaluated
//! values.

use std::fmt::Write as _;

use crate::ast::AccessorKind;
use crate::eval::{Value, ValueKind};

/// The value at a property path. An unknown value stays unknown below.
pub(crate) fn lookup(root: &Value, path: &[AccessorKind]) -> Result<Value, String> {
    let mut v = root;
    let mut at = String::new();
    for acc in path {
        if v.unknown {
            return Ok(Value::with_flags(ValueKind::Null, v.secret, true));
        }
        let what = kind_name(v);
        match (acc, &v.kind) {
            (AccessorKind::Name(k) | AccessorKind::Key(k), ValueKind::Object(m)) => {
                v = m
                    .get(k)
                    .ok_or_else(|| format!("no property {k:?}{}", in_path(&at)))?;
                crate::path::push_key(&mut at, k);
            }
            (AccessorKind::Index(i), ValueKind::Array(items)) => {
                v = usize::try_from(*i)
                    .ok()
                    .and_then(|i| items.get(i))
                    .ok_or_else(|| {
                        format!(
                            "index {i} is out of range{} (the list has {} element(s))",
                            in_path(&at),
                            items.len()
                        )
                    })?;
                let _ = write!(at, "[{i}]");
            }
            (AccessorKind::Index(i), _) => {
                return Err(format!("cannot index {what}{} with [{i}]", in_path(&at)));
            }
            (AccessorKind::Name(k) | AccessorKind::Key(k), _) => {
                return Err(format!(
                    "cannot read property {k:?} of {what}{}",
                    in_path(&at)
                ));
            }
        }
    }
    Ok(v.clone())
}

/// ` in PATH`, or nothing at the root.
fn in_path(at: &str) -> String {
    if at.is_empty() {
        String::new()
    } else {
        format!(" in {at}")
    }
}

/// A value's kind as messages name it: `a list`, `an object`.
pub(crate) fn kind_name(v: &Value) -> &'static str {
    match v.kind {
        ValueKind::Null => "null",
        ValueKind::Bool(_) => "a boolean",
        ValueKind::Number(_) => "a number",
        ValueKind::String(_) => "a string",
        ValueKind::Array(_) => "a list",
        ValueKind::Object(_) => "an object",
    }
}
