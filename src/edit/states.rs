//! Writing rotated states back into a document: the part of `escc rotate` that the
//! command line and `escc serve`'s `POST .../rotate` share. The rotations' new states go
//! at their sites (`values.db["fn::rotate::postgres"].state`), their secrets sealed by the
//! caller's `seal` (age to the environment's recipients), everything else as written.

use serde_json::Value as Json;

use super::{RotateSite, set_value};
use crate::Source;
use crate::ast::AccessorKind;
use crate::eval::{Value, ValueKind, canonical_rotate_path};

/// The sites `paths` name (all when there are none), in document order. `shown` names the
/// document in errors.
///
/// # Errors
/// A path is not a property path, or names no `fn::rotate` of the document.
pub fn select_sites<'s>(
    sites: &'s [RotateSite],
    paths: &[String],
    shown: &str,
) -> Result<Vec<&'s RotateSite>, String> {
    if paths.is_empty() {
        return Ok(sites.iter().collect());
    }
    let mut wanted = Vec::new();
    for p in paths {
        let canonical = canonical_rotate_path(p).ok_or_else(|| {
            format!(
                "invalid property path {p:?} (paths are below `values`, e.g. db or \
                 creds[\"fn::toJSON\"][0])"
            )
        })?;
        if !sites.iter().any(|s| s.path == canonical) {
            let known: Vec<String> = sites
                .iter()
                .map(|s| s.path.strip_prefix("values.").unwrap_or(&s.path).to_owned())
                .collect();
            return Err(format!(
                "{shown}: there is no fn::rotate at {p}; its rotations are at: {}",
                known.join(", ")
            ));
        }
        wanted.push(canonical);
    }
    Ok(sites.iter().filter(|s| wanted.contains(&s.path)).collect())
}

/// The accessors of a site's state path.
///
/// # Errors
/// The path does not parse (a site [`super::rotate_sites`] found always does).
pub fn state_accessors(site: &RotateSite) -> Result<Vec<AccessorKind>, String> {
    crate::ast::parse_property_path(&site.state_path())
        .map_err(|e| format!("{}: {e}", site.state_path()))
}

/// `text` (the document `name`) with each rotation's new state written at its site,
/// secrets sealed with `seal`; `warn` hears of secrets that are not strings.
///
/// # Errors
/// A state holds an unknown value, sealing fails, or the writer cannot put a state where
/// it goes.
pub fn with_states(
    name: &str,
    text: &str,
    states: &[(&RotateSite, &Value)],
    seal: &dyn Fn(&str) -> Result<String, String>,
    warn: &dyn Fn(&str),
) -> Result<String, String> {
    let mut new_text = text.to_owned();
    for (site, state) in states {
        let json = sealed(state, seal, &site.path, warn)?;
        let path = state_accessors(site)?;
        new_text = set_value(&Source::new(name, new_text.as_str()), &path, &json)
            .map_err(|e| e.message)?;
    }
    Ok(new_text)
}

/// A rotated state as the writer takes it: secret strings become
/// `{"fn::secret": {"ciphertext": ...}}`, sealed with `seal`. A secret that is not a string
/// (a number, a boolean) is sealed as its text, with a warning: `fn::secret` holds strings.
///
/// # Errors
/// The state holds an unknown value, or sealing fails.
pub fn sealed(
    v: &Value,
    seal: &dyn Fn(&str) -> Result<String, String>,
    at: &str,
    warn: &dyn Fn(&str),
) -> Result<Json, String> {
    fn walk(
        v: &Value,
        inherited: bool,
        seal: &dyn Fn(&str) -> Result<String, String>,
        at: &str,
        warn: &dyn Fn(&str),
    ) -> Result<Json, String> {
        let secret = inherited || v.secret;
        if v.unknown {
            return Err(format!("{at}: the new state holds an unknown value"));
        }
        let sealed_text = |t: &str| -> Result<Json, String> {
            let ciphertext = seal(t).map_err(|e| format!("{at}: encrypting: {e}"))?;
            Ok(serde_json::json!({"fn::secret": {"ciphertext": ciphertext}}))
        };
        Ok(match &v.kind {
            ValueKind::String(s) if secret => sealed_text(s)?,
            ValueKind::Number(n) if secret => {
                warn(&format!(
                    "warning: {at}: a secret number is written as an encrypted string"
                ));
                sealed_text(n)?
            }
            ValueKind::Bool(b) if secret => {
                warn(&format!(
                    "warning: {at}: a secret boolean is written as an encrypted string"
                ));
                sealed_text(&b.to_string())?
            }
            ValueKind::Null => Json::Null,
            ValueKind::Bool(b) => Json::Bool(*b),
            ValueKind::Number(n) => Value::new(ValueKind::Number(n.clone())).to_json(false),
            ValueKind::String(s) => Json::String(s.clone()),
            ValueKind::Array(items) => Json::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| walk(x, secret, seal, &format!("{at}[{i}]"), warn))
                    .collect::<Result<_, _>>()?,
            ),
            ValueKind::Object(m) => Json::Object(
                m.iter()
                    .map(|(k, x)| {
                        walk(x, secret, seal, &crate::path::join_key(at, k), warn)
                            .map(|j| (k.clone(), j))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
    walk(v, false, seal, at, warn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_sealed_and_the_rest_kept() {
        let state = Value::object([(
            "current".to_owned(),
            Value::object([
                ("username".to_owned(), Value::string("u1")),
                (
                    "password".to_owned(),
                    Value {
                        secret: true,
                        ..Value::string("pw")
                    },
                ),
                (
                    "port".to_owned(),
                    Value::new(ValueKind::Number("5432".to_owned())),
                ),
            ]),
        )]);
        let seal = |p: &str| Ok::<_, String>(format!("C({})", p.len()));
        let json = sealed(&state, &seal, "values.x", &|_| {}).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"current": {
                "password": {"fn::secret": {"ciphertext": "C(2)"}},
                "port": 5432,
                "username": "u1",
            }})
        );
    }
}
