//! Provider inputs in the editor: which keys `fn::open::NAME` takes at a place of its
//! inputs (for completion, from the text being typed), and what a key is (for hover, from
//! the syntax tree), both read from the provider's input schema and its `description`s.
//! The schemas are the ones the document's check used (a plugin's described schema), else
//! the built-in provider's: completion never runs a plugin.

use std::fmt::Write as _;

use serde_json::Value as Json;

use super::analysis::{Analysis, schema_type};

/// The input schema of provider `name`: the one the check met, else the built-in one.
pub(crate) fn input_schema(analysis: Option<&Analysis>, name: &str) -> Option<Json> {
    analysis
        .and_then(|a| a.providers.get(name).cloned())
        .or_else(|| crate::providers::builtin_schema(name).map(|(inputs, _)| inputs))
}

/// What a schema says of one key.
pub(crate) enum Step<'s> {
    /// A property the schema lists.
    Listed(&'s Json),
    /// A name the user chooses (an entry of an open map such as `get`).
    Chosen(&'s Json),
    /// Not allowed.
    Unknown,
    /// The schema does not say.
    Open,
}

/// What `schema` (an object schema) says of key `k`.
pub(crate) fn step<'s>(schema: &'s Json, k: &str) -> Step<'s> {
    if let Some(s) = schema.get("properties").and_then(|p| p.get(k)) {
        return Step::Listed(s);
    }
    match schema.get("additionalProperties") {
        Some(s @ Json::Object(_)) => Step::Chosen(s),
        Some(Json::Bool(false)) => Step::Unknown,
        _ => Step::Open,
    }
}

/// The schema at `path` below `schema`, if every key leads somewhere.
pub(crate) fn schema_at<'s>(schema: &'s Json, path: &[String]) -> Option<&'s Json> {
    let mut node = schema;
    for k in path {
        node = match step(node, k) {
            Step::Listed(s) | Step::Chosen(s) => s,
            Step::Unknown | Step::Open => return None,
        };
    }
    Some(node)
}

/// One key an input object takes.
pub(crate) struct Key {
    pub(crate) name: String,
    /// Its type, and whether it is required.
    pub(crate) detail: String,
    /// Its description, if the schema has one.
    pub(crate) description: Option<String>,
}

/// The keys `schema` lists, in its order, but those in `present`.
pub(crate) fn keys(schema: &Json, present: &[String]) -> Vec<Key> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Json::as_array)
        .map(|r| r.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    let Some(Json::Object(props)) = schema.get("properties") else {
        return Vec::new();
    };
    props
        .iter()
        .filter(|(k, _)| !present.contains(k))
        .map(|(k, s)| {
            let need = if required.contains(&k.as_str()) {
                "required"
            } else {
                "optional"
            };
            Key {
                name: k.clone(),
                detail: format!("{} ({need})", schema_type(s)),
                description: description(s),
            }
        })
        .collect()
}

/// A schema's `description`.
pub(crate) fn description(schema: &Json) -> Option<String> {
    schema
        .get("description")
        .and_then(Json::as_str)
        .map(str::to_owned)
}

/// The hover of key `path.last()` of provider `provider`'s inputs (`path` from the inputs'
/// root).
pub(crate) fn hover_text(schema: Option<&Json>, provider: &str, path: &[String]) -> String {
    let shown = path.join(".");
    let Some((key, parents)) = path.split_last() else {
        return String::new();
    };
    let parent = schema.and_then(|s| schema_at(s, parents));
    let mut md = String::new();
    match parent.map(|p| (p, step(p, key))) {
        Some((p, Step::Listed(s))) => {
            let required = p
                .get("required")
                .and_then(Json::as_array)
                .is_some_and(|r| r.iter().any(|k| k.as_str() == Some(key)));
            let need = if required { "required" } else { "optional" };
            let _ = write!(
                md,
                "`{shown}`: `{}`, {need} input of provider `{provider}`",
                schema_type(s)
            );
            if let Some(d) = description(s) {
                let _ = write!(md, "\n\n{d}");
            }
        }
        Some((p, Step::Chosen(s))) => {
            let _ = write!(
                md,
                "`{shown}`: `{}`, a name you choose (input of provider `{provider}`)",
                schema_type(s)
            );
            if let Some(d) = description(p) {
                let _ = write!(md, "\n\n{d}");
            }
        }
        Some((_, Step::Unknown)) => {
            let _ = write!(md, "`{shown}`: not an input of provider `{provider}`");
        }
        Some((_, Step::Open)) | None => {
            let _ = write!(md, "`{shown}`: input of provider `{provider}`");
        }
    }
    md
}

/// Where a key is being typed in the block inputs of a `fn::open::NAME` (YAML block style,
/// the key alone on its line): the provider, the path of the object being filled, and the
/// keys already there.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) provider: String,
    pub(crate) path: Vec<String>,
    pub(crate) present: Vec<String>,
}

/// The place of a key typed at the end of `prefix` (the line up to the cursor, which
/// starts at `line_start` of `text`), if it is in a provider's block inputs.
pub(crate) fn place(text: &str, prefix: &str, line_start: usize) -> Option<Place> {
    let partial = prefix
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
        .count();
    let indent = &prefix[..prefix.len() - partial];
    if indent.is_empty() || !indent.bytes().all(|b| b == b' ') {
        return None;
    }
    let indent = indent.len();
    let mut path = Vec::new();
    let mut want = indent;
    let mut present = Vec::new();
    let mut provider = None;
    for line in text[..line_start].lines().rev() {
        let (ind, trimmed) = indentation(line)?;
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.starts_with('-') {
            return None;
        }
        if ind >= want {
            if ind == indent && path.is_empty() {
                present.extend(key_of(trimmed).map(|(k, _)| k));
            }
            continue;
        }
        // A parent: a key that opens a block mapping.
        let (key, rest) = key_of(trimmed)?;
        if !rest.trim().is_empty() && !rest.trim_start().starts_with('#') {
            return None;
        }
        if let Some(name) = key.strip_prefix("fn::open::") {
            provider = Some(name.to_owned());
            break;
        }
        if key.starts_with("fn::") || ind == 0 {
            return None;
        }
        path.push(key);
        want = ind;
    }
    // The keys after the cursor's line, in the same mapping.
    let after = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i + 1);
    for line in text[after..].lines() {
        let Some((ind, trimmed)) = indentation(line) else {
            break;
        };
        if trimmed.is_empty() || trimmed.starts_with('#') || ind > indent {
            continue;
        }
        if ind < indent {
            break;
        }
        present.extend(key_of(trimmed).map(|(k, _)| k));
    }
    path.reverse();
    Some(Place {
        provider: provider?,
        path,
        present,
    })
}

/// A line's indentation (spaces) and the rest; `None` for a tab in the indentation (not
/// YAML).
fn indentation(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start_matches(' ');
    if trimmed.starts_with('\t') {
        return None;
    }
    Some((line.len() - trimmed.len(), trimmed.trim_end()))
}

/// The key of a `key: rest` line (quotes removed) and what follows its colon.
fn key_of(line: &str) -> Option<(String, &str)> {
    let (key, rest) = if let Some(q) = line.strip_prefix('"') {
        let end = q.find('"')?;
        (&q[..end], q[end + 1..].strip_prefix(':')?)
    } else if let Some(q) = line.strip_prefix('\'') {
        let end = q.find('\'')?;
        (&q[..end], q[end + 1..].strip_prefix(':')?)
    } else {
        let colon = line
            .find(": ")
            .or_else(|| line.strip_suffix(':').map(str::len))?;
        (&line[..colon], &line[colon + 1..])
    };
    Some((key.to_owned(), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<Place> {
        let offset = text.find('|').unwrap();
        let text = text.replacen('|', "", 1);
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        place(&text, &text[line_start..offset], line_start)
    }

    #[test]
    fn places_in_block_inputs() {
        let p = at("values:\n  creds:\n    fn::open::aws-login:\n      oidc:\n        roleArn: x\n        ses|\n        duration: 1h\n  other: 1\n").unwrap();
        assert_eq!(p.provider, "aws-login");
        assert_eq!(p.path, ["oidc"]);
        assert_eq!(p.present, ["roleArn", "duration"]);
        let p = at("values:\n  creds:\n    fn::open::aws-login:\n      |\n").unwrap();
        assert_eq!(p.path, Vec::<String>::new());
        let p = at("values:\n  s:\n    fn::open::aws-secrets:\n      get:\n        \"db\":\n          sec|\n").unwrap();
        assert_eq!(p.path, ["get", "db"]);
        // Not in an open, not a key, in a list, after a value.
        assert_eq!(at("values:\n  a:\n    |\n"), None);
        assert_eq!(at("values:\n  a:\n    fn::open::x:\n      k: v|\n"), None);
        assert_eq!(at("values:\n  a:\n    fn::open::x:\n      - |\n"), None);
        assert_eq!(at("values:\n  a:\n    fn::open::x: {}\n    |\n"), None);
        assert_eq!(at("values:\n  a:\n    fn::toJSON:\n      |\n"), None);
    }

    #[test]
    fn keys_and_hovers_come_from_the_schema() {
        let (schema, _) = crate::providers::builtin_schema("aws-login").unwrap();
        let oidc = schema_at(&schema, &["oidc".to_owned()]).unwrap();
        let ks = keys(oidc, &["roleArn".to_owned()]);
        let names: Vec<&str> = ks.iter().map(|k| k.name.as_str()).collect();
        // The schema's order: required first.
        assert_eq!(
            names,
            ["sessionName", "duration", "policyArns", "subjectAttributes"]
        );
        assert_eq!(ks[0].detail, "string (required)");
        assert_eq!(ks[2].detail, "array of string (optional)");
        assert!(ks[1].description.as_deref().unwrap().contains("2h"));
        let h = hover_text(
            Some(&schema),
            "aws-login",
            &["oidc".to_owned(), "roleArn".to_owned()],
        );
        assert_eq!(
            h,
            "`oidc.roleArn`: `string`, required input of provider `aws-login`\n\nThe ARN of the IAM role to assume."
        );
        let h = hover_text(Some(&schema), "aws-login", &["rolArn".to_owned()]);
        assert_eq!(h, "`rolArn`: not an input of provider `aws-login`");
        let (schema, _) = crate::providers::builtin_schema("aws-secrets").unwrap();
        let h = hover_text(
            Some(&schema),
            "aws-secrets",
            &["get".to_owned(), "db".to_owned()],
        );
        assert!(
            h.starts_with("`get.db`: `{ secretId: string, versionId: string, versionStage: string }`, a name you choose"),
            "{h}"
        );
    }
}
