//! The execution context's documented properties (`${context.*}`): what ESC's documentation
//! lists, with what each holds. The evaluator sets `currentEnvironment` and
//! `rootEnvironment`; the caller provides the rest (escc reads it from `[context]` in
//! `escc.toml` and `--context`).

use super::value::{Value, ValueKind};

/// One documented property of the execution context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContextProperty {
    /// Its path below `context`: `["pulumi", "user", "login"]`.
    pub path: &'static [&'static str],
    /// Its type: `object` or `string`.
    pub kind: &'static str,
    /// What it holds.
    pub doc: &'static str,
    /// Whether the evaluator sets it (for every environment it evaluates).
    pub set_by_evaluator: bool,
}

macro_rules! properties {
    ($($path:expr => ($kind:literal, $evaluator:literal, $doc:literal),)*) => {
        /// Every documented property, parents before children.
        pub const CONTEXT_PROPERTIES: &[ContextProperty] = &[
            $(ContextProperty {
                path: $path,
                kind: $kind,
                doc: $doc,
                set_by_evaluator: $evaluator,
            },)*
        ];
    };
}

properties! {
    &["currentEnvironment"] => ("object", true,
        "The environment being evaluated (this one, or the import being evaluated)."),
    &["currentEnvironment", "name"] => ("string", true,
        "The name of the environment being evaluated."),
    &["pulumi"] => ("object", false,
        "Information about the Pulumi user that requested the evaluation."),
    &["pulumi", "organization"] => ("object", false,
        "Information about the user's organization."),
    &["pulumi", "organization", "login"] => ("string", false,
        "The name of the organization."),
    &["pulumi", "user"] => ("object", false, "Information about the user."),
    &["pulumi", "user", "login"] => ("string", false, "The name of the user."),
    &["rootEnvironment"] => ("object", true,
        "The environment whose evaluation was asked for (the one opened or checked), which imports this one directly or not."),
    &["rootEnvironment", "name"] => ("string", true,
        "The name of the environment whose evaluation was asked for."),
}

/// The documented property at `path` below `context`, if there is one.
#[must_use]
pub fn context_property(path: &[&str]) -> Option<&'static ContextProperty> {
    CONTEXT_PROPERTIES.iter().find(|p| p.path == path)
}

/// `context` with every documented string property that the caller must provide and did
/// not made an unknown string: who evaluates an environment is not known until it is
/// evaluated, so a static check of a document that reads `${context.pulumi.user.login}`
/// has nothing to report. (The evaluator sets `currentEnvironment` and `rootEnvironment`
/// itself.) Anything that is not an object on the way is left as it is.
#[must_use]
pub fn with_unknown_callers(context: &Value) -> Value {
    let mut out = context.clone();
    if !matches!(out.kind, ValueKind::Object(_)) {
        return out;
    }
    for p in CONTEXT_PROPERTIES
        .iter()
        .filter(|p| !p.set_by_evaluator && p.kind == "string")
    {
        fill_unknown(&mut out, p.path);
    }
    out
}

/// Makes `path` below `node` an unknown string if it is not set, through objects only.
fn fill_unknown(node: &mut Value, path: &[&str]) {
    let ValueKind::Object(m) = &mut node.kind else {
        return;
    };
    match path {
        [] => {}
        [last] => {
            m.entry((*last).to_owned()).or_insert_with(|| {
                Value::with_flags(ValueKind::String("[unknown]".to_owned()), false, true)
            });
        }
        [first, rest @ ..] => fill_unknown(
            m.entry((*first).to_owned())
                .or_insert_with(|| Value::object([])),
            rest,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_first_and_every_leaf_is_a_string() {
        for (i, p) in CONTEXT_PROPERTIES.iter().enumerate() {
            if let Some((_, parent)) = p.path.split_last()
                && !parent.is_empty()
            {
                let at = CONTEXT_PROPERTIES.iter().position(|q| q.path == parent);
                assert!(at.is_some_and(|at| at < i), "{:?}", p.path);
            }
            assert!(p.doc.ends_with('.'), "{:?}", p.path);
            let leaf = !CONTEXT_PROPERTIES
                .iter()
                .any(|q| q.path.len() > p.path.len() && q.path.starts_with(p.path));
            assert_eq!(p.kind == "string", leaf, "{:?}", p.path);
        }
        assert!(context_property(&["pulumi", "user", "login"]).is_some());
        assert!(context_property(&["pulumi", "user", "id"]).is_none());
    }

    #[test]
    fn unset_caller_properties_become_unknown_and_set_ones_stay() {
        let given = Value::object([(
            "pulumi".to_owned(),
            Value::object([(
                "user".to_owned(),
                Value::object([("login".to_owned(), Value::string("alice"))]),
            )]),
        )]);
        let out = with_unknown_callers(&given);
        assert_eq!(
            out.to_json(false),
            serde_json::json!({"pulumi": {"user": {"login": "alice"}, "organization": {"login": "[unknown]"}}})
        );
        let org = out.get("pulumi").and_then(|p| p.get("organization"));
        assert!(org.and_then(|o| o.get("login")).is_some_and(|l| l.unknown));
        // Not an object on the way: left alone.
        let odd = Value::object([("pulumi".to_owned(), Value::string("x"))]);
        assert_eq!(
            with_unknown_callers(&odd).to_json(false),
            serde_json::json!({"pulumi": "x"})
        );
        assert_eq!(
            with_unknown_callers(&Value::object([])).to_json(false),
            serde_json::json!({"pulumi": {"user": {"login": "[unknown]"}, "organization": {"login": "[unknown]"}}})
        );
    }
}
