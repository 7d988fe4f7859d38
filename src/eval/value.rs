//! The public value type: what crosses the host boundary (provider inputs and outputs,
//! rotator state, the execution context) and what an evaluation exports. The evaluator's
//! own values live in its arena (`arena.rs`).

use std::collections::BTreeMap;

/// A plain value crossing the host boundary: provider inputs and outputs, rotator state,
/// the execution context, and evaluated results.
#[derive(Clone)]
pub struct Value {
    /// The data.
    pub kind: ValueKind,
    /// Whether the value is secret. Secrets print as `[secret]` in `Debug`.
    pub secret: bool,
    /// Whether the value is not known (statically, or because something failed).
    pub unknown: bool,
    /// Where the evaluator's value came from, when it has a place in a document; kept
    /// through a rotator so a rotated state can say where each part was written.
    pub(crate) origin: Option<Origin>,
}

/// A place in one of an evaluation's documents.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin {
    pub(crate) env: usize,
    pub(crate) span: crate::source::Span,
}

/// Values are equal when their data and flags are; where they came from does not count.
impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.secret == other.secret && self.unknown == other.unknown
    }
}

impl Eq for Value {}

/// Hashes what equality compares: the data and the flags.
impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
        self.secret.hash(state);
        self.unknown.hash(state);
    }
}

/// The data of a [`Value`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// `null` (also the representation of an unknown value).
    Null,
    /// A boolean.
    Bool(bool),
    /// A number, as decimal text (`42`, `3.14`, `1e+06`).
    Number(String),
    /// A string.
    String(String),
    /// A list.
    Array(Vec<Value>),
    /// An object, keys sorted.
    Object(BTreeMap<String, Value>),
}

impl Value {
    /// A known, non-secret value.
    #[must_use]
    pub fn new(kind: ValueKind) -> Self {
        Value {
            kind,
            secret: false,
            unknown: false,
            origin: None,
        }
    }

    /// A value with the given flags.
    #[must_use]
    pub fn with_flags(kind: ValueKind, secret: bool, unknown: bool) -> Self {
        Value {
            secret,
            unknown,
            ..Value::new(kind)
        }
    }

    /// A string value.
    #[must_use]
    pub fn string(s: impl Into<String>) -> Self {
        Value::new(ValueKind::String(s.into()))
    }

    /// An object value.
    #[must_use]
    pub fn object(entries: impl IntoIterator<Item = (String, Value)>) -> Self {
        Value::new(ValueKind::Object(entries.into_iter().collect()))
    }

    /// The value as plain JSON, secrets shown as `"[secret]"` and unknowns as `"[unknown]"`
    /// when `redact` is set (secret is checked first, as in the reference).
    #[must_use]
    pub fn to_json(&self, redact: bool) -> serde_json::Value {
        if redact && self.secret {
            return serde_json::Value::String("[secret]".into());
        }
        if self.unknown {
            return serde_json::Value::String("[unknown]".into());
        }
        match &self.kind {
            ValueKind::Null => serde_json::Value::Null,
            ValueKind::Bool(b) => serde_json::Value::Bool(*b),
            ValueKind::Number(n) => number_json(n),
            ValueKind::String(s) => serde_json::Value::String(s.clone()),
            ValueKind::Array(items) => items.iter().map(|v| v.to_json(redact)).collect(),
            ValueKind::Object(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.to_json(redact)))
                    .collect(),
            ),
        }
    }

    /// The object entry `key`, if this is an object holding it.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        match &self.kind {
            ValueKind::Object(m) => m.get(key),
            _ => None,
        }
    }

    /// The string, if this is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ValueKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// Marks the value and everything inside it secret: a part taken out of it later
    /// (`${x.data.password}`) stays secret, as the evaluator copies each part's own flag.
    pub fn make_secret(&mut self) {
        self.secret = true;
        match &mut self.kind {
            ValueKind::Array(items) => items.iter_mut().for_each(Value::make_secret),
            ValueKind::Object(m) => m.values_mut().for_each(Value::make_secret),
            _ => {}
        }
    }

    /// Whether this value or anything inside it is secret.
    #[must_use]
    pub fn contains_secret(&self) -> bool {
        self.secret
            || match &self.kind {
                ValueKind::Array(items) => items.iter().any(Value::contains_secret),
                ValueKind::Object(m) => m.values().any(Value::contains_secret),
                _ => false,
            }
    }

    /// Every secret text in this value, for masking: each secret scalar's text (strings,
    /// numbers, booleans) and every scalar inside a secret array or object.
    #[must_use]
    pub fn secret_texts(&self) -> Vec<String> {
        fn walk(v: &Value, inherited: bool, out: &mut Vec<String>) {
            let secret = inherited || v.secret;
            if v.unknown {
                return;
            }
            match &v.kind {
                ValueKind::Bool(b) if secret => out.push(b.to_string()),
                ValueKind::Number(n) | ValueKind::String(n) if secret => out.push(n.clone()),
                ValueKind::Null
                | ValueKind::Bool(_)
                | ValueKind::Number(_)
                | ValueKind::String(_) => {}
                ValueKind::Array(items) => items.iter().for_each(|i| walk(i, secret, out)),
                ValueKind::Object(m) => m.values().for_each(|i| walk(i, secret, out)),
            }
        }
        let mut out = Vec::new();
        walk(self, false, &mut out);
        out
    }
}

/// Turns number text into a JSON number (text that is not a JSON number stays a string).
pub(crate) fn number_json(text: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Number>(text).map_or_else(
        |_| serde_json::Value::String(text.to_owned()),
        serde_json::Value::Number,
    )
}

/// Secrets never print: `Debug` shows `[secret]` in their place.
impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.secret {
            return f.write_str("[secret]");
        }
        if self.unknown {
            return f.write_str("[unknown]");
        }
        match &self.kind {
            ValueKind::Null => f.write_str("null"),
            ValueKind::Bool(b) => write!(f, "{b}"),
            ValueKind::Number(n) => f.write_str(n),
            ValueKind::String(s) => write!(f, "{s:?}"),
            ValueKind::Array(items) => f.debug_list().entries(items).finish(),
            ValueKind::Object(m) => f.debug_map().entries(m).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_texts_are_every_scalar_under_a_secret() {
        let secret = |v: Value| Value { secret: true, ..v };
        let v = Value::object([
            ("plain".to_owned(), Value::string("shown")),
            ("s".to_owned(), secret(Value::string("hidden"))),
            (
                "o".to_owned(),
                secret(Value::object([(
                    "n".to_owned(),
                    Value::new(ValueKind::Array(vec![
                        Value::new(ValueKind::Number("42".to_owned())),
                        Value::new(ValueKind::Bool(true)),
                        Value::new(ValueKind::Null),
                    ])),
                )])),
            ),
        ]);
        let mut out = v.secret_texts();
        out.sort();
        assert_eq!(out, ["42", "hidden", "true"]);
    }
}
