//! What the built-in providers share: reading inputs (each error names the input path),
//! shaping secret outputs, calling a JSON API through [`net`], and wording errors so that
//! they quote a backend's own message (one line, clipped) and never a credential.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::net;
use crate::eval::{Value, ValueKind};
use crate::secrets::Masker;

/// The longest part of a backend's message an error quotes, in characters.
pub(super) const MAX_MESSAGE_CHARS: usize = 300;

/// `result` as provider `name` reports it: prefixed with the name, and with the secret
/// texts of the inputs masked, whatever the message says.
pub(super) fn finish(
    name: &str,
    inputs: &Value,
    result: Result<Value, String>,
) -> Result<Value, String> {
    finish_hiding(name, inputs, Vec::new(), result)
}

/// [`finish`], also masking `obtained`: the credentials the open read or obtained on the
/// way that the inputs do not mark secret (a token written in plain text, an identity
/// token, a federated token).
pub(super) fn finish_hiding(
    name: &str,
    inputs: &Value,
    obtained: Vec<String>,
    result: Result<Value, String>,
) -> Result<Value, String> {
    result.map_err(|e| {
        let mut texts = inputs.secret_texts();
        texts.extend(obtained);
        let message = Masker::new(texts).mask_str(&e);
        format!("{name}: {message}")
    })
}

/// `message` with each of `secrets` (tokens obtained on the way, which the inputs do not
/// hold) masked.
pub(super) fn hide(message: &str, secrets: &[&str]) -> String {
    Masker::new(secrets.iter().map(|s| (*s).to_owned())).mask_str(message)
}

/// `path.key`, as errors name an input.
pub(super) fn join(path: &str, key: &str) -> String {
    crate::path::join_key(path, key)
}

/// The string property `key` of object `v` (at input path `path`).
pub(super) fn string_at(v: &Value, key: &str, path: &str) -> Result<String, String> {
    match v.get(key).map(|x| &x.kind) {
        Some(ValueKind::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("{}: expected a string", join(path, key))),
        None => Err(format!("{}: missing", join(path, key))),
    }
}

/// The optional string property `key` of object `v`; `null` counts as absent.
pub(super) fn optional_string(v: &Value, key: &str, path: &str) -> Result<Option<String>, String> {
    match v.get(key).map(|x| &x.kind) {
        None | Some(ValueKind::Null) => Ok(None),
        Some(_) => string_at(v, key, path).map(Some),
    }
}

/// The optional list of strings `key` of object `v` (at input path `path`); `null` counts
/// as absent.
pub(super) fn optional_strings(
    v: &Value,
    key: &str,
    path: &str,
) -> Result<Option<Vec<String>>, String> {
    let at = || join(path, key);
    match v.get(key).map(|x| &x.kind) {
        None | Some(ValueKind::Null) => Ok(None),
        Some(ValueKind::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{}[{i}]: expected a string", at()))
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(format!("{}: expected a list of strings", at())),
    }
}

/// The optional boolean property `key` of object `v`, `default` when absent.
pub(super) fn bool_at(v: &Value, key: &str, path: &str, default: bool) -> Result<bool, String> {
    match v.get(key).map(|x| &x.kind) {
        None | Some(ValueKind::Null) => Ok(default),
        Some(ValueKind::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("{}: expected a boolean", join(path, key))),
    }
}

/// The object property `key` of object `v`.
pub(super) fn object_at<'a>(v: &'a Value, key: &str, path: &str) -> Result<&'a Value, String> {
    match v.get(key) {
        Some(
            o @ Value {
                kind: ValueKind::Object(_),
                ..
            },
        ) => Ok(o),
        Some(_) => Err(format!("{}: expected an object", join(path, key))),
        None => Err(format!("{}: missing", join(path, key))),
    }
}

/// The entries of the object `key` of the inputs (`get`, `read`, `access`): the user's
/// names, each with its request.
pub(super) fn entries<'a>(
    inputs: &'a Value,
    key: &str,
) -> Result<&'a BTreeMap<String, Value>, String> {
    match inputs.get(key).map(|g| &g.kind) {
        Some(ValueKind::Object(entries)) => Ok(entries),
        _ => Err(format!("{key}: expected an object")),
    }
}

/// A secret string value.
pub(super) fn secret_string(s: String) -> Value {
    Value {
        secret: true,
        ..Value::string(s)
    }
}

/// An output that repeats input string `s`, secret when the input was.
pub(super) fn echoed(s: String, input: Option<&Value>) -> Value {
    Value {
        secret: input.is_some_and(|v| v.secret),
        ..Value::string(s)
    }
}

/// A backend's message as an error quotes it: its first line, [`clip`]ped (a message can
/// carry trace ids and timestamps on further lines, or be a whole page).
pub(super) fn backend_message(text: &str) -> String {
    clip(text.trim().lines().next().unwrap_or("").trim())
}

/// `text` without control characters, at most [`MAX_MESSAGE_CHARS`] characters (and `…`
/// where it was cut): what an error quotes of a backend's text.
pub(super) fn clip(text: &str) -> String {
    let mut out: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_MESSAGE_CHARS)
        .collect();
    if text.chars().count() > MAX_MESSAGE_CHARS {
        out.push('…');
    }
    out
}

/// A backend's error made of a `kind` (an error code) and a `message`, as
/// `kind: message (HTTP status)`, each part [`clip`]ped; whichever part the answer has;
/// only the status when it has neither.
pub(super) fn status_error(status: u16, kind: Option<&str>, message: Option<&str>) -> String {
    match (kind.map(clip), message.map(clip)) {
        (Some(k), Some(m)) => format!("{k}: {m} (HTTP {status})"),
        (Some(one), None) | (None, Some(one)) => format!("{one} (HTTP {status})"),
        (None, None) => format!("the service answered HTTP {status}"),
    }
}

/// A Go-style duration (`2h`, `90m`, `1h30m`, `3600s`: whole numbers of hours, minutes
/// and seconds) in seconds; `None` for anything else, zero, or more than `u64` holds.
pub(super) fn parse_duration(s: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut number = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().ok()?;
        number.clear();
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    (number.is_empty() && total > 0).then_some(total)
}

/// The optional duration property `key` of object `v` (at input path `path`) in seconds,
/// `default` when absent or `null`.
pub(super) fn duration_at(v: &Value, key: &str, path: &str, default: u64) -> Result<u64, String> {
    match optional_string(v, key, path)? {
        None => Ok(default),
        Some(d) => parse_duration(&d).ok_or_else(|| {
            format!(
                "{}: {d:?} is not a duration (like \"1h\" or \"90m\")",
                join(path, key)
            )
        }),
    }
}

/// The value of environment variable `var` as a base URL, if it is set and not empty.
pub(super) fn base_url_from_env(var: &str) -> Result<Option<String>, String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => net::base_url(&v, var).map(Some),
        _ => Ok(None),
    }
}

/// Sends `request` and returns the JSON object of a 2xx answer. Another status is an error
/// quoting what `error_of` finds in the answer (the backend's own error message), or only
/// the status; a 2xx answer that is not a JSON object is an error saying where the parser
/// broke, never what it read.
pub(super) fn json_call(
    client: &net::Client,
    request: &net::Request<'_>,
    error_of: fn(&Json) -> Option<String>,
) -> Result<Json, String> {
    let response = client.send(request)?;
    let origin = request.origin();
    if !response.ok() {
        let detail = serde_json::from_str::<Json>(&response.text)
            .ok()
            .as_ref()
            .and_then(error_of)
            .map(|m| backend_message(&m))
            .filter(|m| !m.is_empty());
        return Err(match detail {
            Some(m) => format!("{m} (HTTP {})", response.status),
            None => format!("{origin} answered HTTP {}", response.status),
        });
    }
    response.json_object(origin)
}

/// The non-empty string at `pointer` (RFC 6901) of a JSON answer.
pub(super) fn json_string<'a>(answer: &'a Json, pointer: &str) -> Option<&'a str> {
    answer
        .pointer(pointer)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

/// A backend error made of a kind and a message at two JSON pointers (`SecretNotFound`,
/// `A secret with…`): `kind: message`, or whichever of them the answer has.
pub(super) fn kind_and_message(body: &Json, kind: &str, message: &str) -> Option<String> {
    match (json_string(body, kind), json_string(body, message)) {
        (Some(k), Some(m)) => Some(format!("{k}: {m}")),
        (k, m) => m.or(k).map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_messages_are_one_clipped_line() {
        assert_eq!(
            backend_message("AADSTS7000215: Invalid client secret.\r\nTrace ID: 1\r\n"),
            "AADSTS7000215: Invalid client secret."
        );
        let long = "x".repeat(400);
        assert_eq!(
            backend_message(&long).chars().count(),
            MAX_MESSAGE_CHARS + 1
        );
        assert_eq!(backend_message("a\u{7}b\tc"), "abc");
    }

    #[test]
    fn backend_errors_are_clipped_by_part() {
        assert_eq!(
            status_error(404, Some("NotFound"), Some("no\u{7} such")),
            "NotFound: no such (HTTP 404)"
        );
        assert_eq!(status_error(400, None, Some("bad")), "bad (HTTP 400)");
        assert_eq!(status_error(400, Some("Bad"), None), "Bad (HTTP 400)");
        assert_eq!(
            status_error(502, None, None),
            "the service answered HTTP 502"
        );
        let long = "x".repeat(1000);
        assert_eq!(
            status_error(500, None, Some(&long)).chars().count(),
            MAX_MESSAGE_CHARS + "… (HTTP 500)".chars().count()
        );
    }

    #[test]
    fn durations_are_gos_hours_minutes_and_seconds() {
        assert_eq!(parse_duration("2h"), Some(7200));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration(" 900s "), Some(900));
        for bad in ["2d", "h", "15", "", "0s", "1.5h", "-1h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        // Too large for u64: refused, never an overflow.
        assert_eq!(parse_duration("18446744073709551615h"), None);
        assert_eq!(parse_duration("5124095576030431h5124095576030431h"), None);
        let v = Value::object([
            ("d".to_owned(), Value::string("30m")),
            ("n".to_owned(), Value::new(ValueKind::Null)),
            ("x".to_owned(), Value::string("forever")),
        ]);
        assert_eq!(duration_at(&v, "d", "oidc", 7).unwrap(), 1800);
        assert_eq!(duration_at(&v, "n", "oidc", 7).unwrap(), 7);
        assert_eq!(duration_at(&v, "absent", "oidc", 7).unwrap(), 7);
        assert_eq!(
            duration_at(&v, "x", "oidc", 7).unwrap_err(),
            "oidc.x: \"forever\" is not a duration (like \"1h\" or \"90m\")"
        );
    }

    #[test]
    fn inputs_are_read_with_their_paths() {
        let v = Value::object([
            ("s".to_owned(), Value::string("x")),
            ("b".to_owned(), Value::new(ValueKind::Bool(true))),
            ("n".to_owned(), Value::new(ValueKind::Null)),
        ]);
        assert_eq!(string_at(&v, "s", "login").unwrap(), "x");
        assert_eq!(
            string_at(&v, "b", "login").unwrap_err(),
            "login.b: expected a string"
        );
        assert_eq!(string_at(&v, "z", "").unwrap_err(), "z: missing");
        assert_eq!(optional_string(&v, "n", "").unwrap(), None);
        assert!(bool_at(&v, "b", "", false).unwrap());
        assert!(!bool_at(&v, "z", "", false).unwrap());
        assert_eq!(
            bool_at(&v, "s", "", false).unwrap_err(),
            "s: expected a boolean"
        );
        assert_eq!(object_at(&v, "s", "").unwrap_err(), "s: expected an object");
        let list = Value::object([
            (
                "l".to_owned(),
                Value::new(ValueKind::Array(vec![
                    Value::string("a"),
                    Value::string("b"),
                ])),
            ),
            (
                "m".to_owned(),
                Value::new(ValueKind::Array(vec![
                    Value::string("a"),
                    Value::new(ValueKind::Bool(true)),
                ])),
            ),
            ("s".to_owned(), Value::string("x")),
        ]);
        assert_eq!(
            optional_strings(&list, "l", "t").unwrap(),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(optional_strings(&list, "z", "t").unwrap(), None);
        assert_eq!(
            optional_strings(&list, "m", "t").unwrap_err(),
            "t.m[1]: expected a string"
        );
        assert_eq!(
            optional_strings(&list, "s", "t").unwrap_err(),
            "t.s: expected a list of strings"
        );
    }

    #[test]
    fn finishing_names_the_provider_and_masks_the_inputs_secrets() {
        let inputs = Value::object([("t".to_owned(), secret_string("tok-123".to_owned()))]);
        let err = finish("x-secrets", &inputs, Err("bad tok-123".to_owned())).unwrap_err();
        assert_eq!(err, "x-secrets: bad [secret]");
        assert_eq!(hide("a tok-9 b", &["tok-9"]), "a [secret] b");
        let err = finish_hiding(
            "x-login",
            &inputs,
            vec!["obtained-7".to_owned()],
            Err("tok-123 obtained-7".to_owned()),
        );
        assert_eq!(err.unwrap_err(), "x-login: [secret] [secret]");
    }
}
