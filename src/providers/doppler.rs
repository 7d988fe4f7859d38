//! The Doppler built-in providers: `doppler-login` (OIDC: a service account identity
//! exchanges an identity token for a short-lived API token) and `doppler-secrets` (one
//! config's secrets by name), over Doppler's v3 REST API (docs/providers.md, "Doppler").
//!
//! The API's base URL is `DOPPLER_API_HOST` (the Doppler CLI's variable), then the
//! `doppler` endpoint (`ESCC_ENDPOINT_DOPPLER`), then
//! `https://api.doppler.com`.

use serde_json::{Value as Json, json};

use super::net::{self, Network};
use super::shared::{
    self, base_url_from_env, entries, join, json_call, json_string, object_at, secret_string,
    string_at,
};
use crate::eval::Value;

/// Opens built-in provider `name` if this module serves it.
pub(super) fn open(name: &str, inputs: &Value, network: &Network) -> Option<Result<Value, String>> {
    let result = match name {
        "doppler-login" => login(inputs, network),
        "doppler-secrets" => secrets(inputs, network),
        _ => return None,
    };
    Some(shared::finish(name, inputs, result))
}

/// The API's base URL.
fn base(network: &Network) -> Result<String, String> {
    match base_url_from_env("DOPPLER_API_HOST")? {
        Some(url) => Ok(url),
        None => network.endpoint("doppler", "https://api.doppler.com"),
    }
}

/// `doppler-login`: `POST /v3/auth/oidc {identity, token}` with an identity token for the
/// API's base URL as audience; the short-lived token, secret.
fn login(inputs: &Value, network: &Network) -> Result<Value, String> {
    let oidc = object_at(inputs, "oidc", "")?;
    let identity = string_at(oidc, "identityId", "oidc")?;
    let base = base(network)?;
    let token =
        super::oidc::identity_token(network, &base, None).map_err(|e| format!("oidc: {e}"))?;
    let request = net::Request::new("POST", format!("{base}/v3/auth/oidc"))
        .header("accept", "application/json")
        .json(&json!({ "identity": identity, "token": token }));
    let fail = |e: &str| {
        shared::hide(
            &format!("oidc: login as identity {identity:?}: {e}"),
            &[&token],
        )
    };
    let answer =
        json_call(&network.client(None)?, &request, doppler_error).map_err(|e| fail(&e))?;
    let access =
        json_string(&answer, "/token").ok_or_else(|| fail("the response has no `token` string"))?;
    Ok(Value::object([(
        "accessToken".to_owned(),
        secret_string(access.to_owned()),
    )]))
}

/// `doppler-secrets`: `GET /v3/configs/config/secret?project&config&name` for each entry
/// of `get`; each name maps to the secret's computed value (references to other secrets
/// expanded, as `doppler run` injects it), or its raw value when Doppler computes none.
fn secrets(inputs: &Value, network: &Network) -> Result<Value, String> {
    let login = object_at(inputs, "login", "")?;
    let token = string_at(login, "accessToken", "login")?;
    let project = string_at(inputs, "project", "")?;
    let config = string_at(inputs, "config", "")?;
    let base = base(network)?;
    let http = network.client(None)?;
    let mut out = Vec::new();
    for (name, request) in entries(inputs, "get")? {
        let path = join("get", name);
        let secret = string_at(request, "name", &path)?;
        let url = format!(
            "{base}/v3/configs/config/secret?project={}&config={}&name={}",
            net::percent_encode(&project),
            net::percent_encode(&config),
            net::percent_encode(&secret)
        );
        let request = net::Request::new("GET", url)
            .header("authorization", format!("Bearer {token}"))
            .header("accept", "application/json");
        let fail = |e: &str| format!("{path}: secret {secret:?} of config {project}/{config}: {e}");
        let answer = json_call(&http, &request, doppler_error).map_err(|e| fail(&e))?;
        let value = value_of(&answer)
            .ok_or_else(|| fail("the response has no value.computed or value.raw string"))?;
        out.push((name.clone(), secret_string(value.to_owned())));
    }
    Ok(Value::object(out))
}

/// The value of a secret answer, `{name, value: {raw, computed}}` as Doppler's SDKs read
/// it; also under `secret` (`{secret: {name, value}}`), the shape some of Doppler's API
/// examples show. `computed` may be an empty string; only a missing or `null` one falls
/// back to `raw`.
fn value_of(answer: &Json) -> Option<&str> {
    let value = answer
        .get("value")
        .or_else(|| answer.pointer("/secret/value"))?;
    value
        .get("computed")
        .and_then(Json::as_str)
        .or_else(|| value.get("raw").and_then(Json::as_str))
}

/// Doppler's error: `{"messages": [...], "success": false}`, the messages joined.
fn doppler_error(body: &Json) -> Option<String> {
    let messages: Vec<&str> = body
        .get("messages")?
        .as_array()?
        .iter()
        .filter_map(Json::as_str)
        .collect();
    (!messages.is_empty()).then(|| messages.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_errors_are_read() {
        let top = json!({"success": true, "name": "A", "value": {"raw": "${B}", "computed": "b"}});
        assert_eq!(value_of(&top), Some("b"));
        let nested = json!({"secret": {"name": "A", "value": {"raw": "r", "computed": null}}});
        assert_eq!(value_of(&nested), Some("r"));
        let empty = json!({"value": {"raw": "r", "computed": ""}});
        assert_eq!(value_of(&empty), Some(""));
        assert_eq!(value_of(&json!({"value": "x"})), None);
        let err = json!({"messages": ["Invalid Auth token", "try again"], "success": false});
        assert_eq!(
            doppler_error(&err).unwrap(),
            "Invalid Auth token; try again"
        );
        assert_eq!(doppler_error(&json!({"messages": []})), None);
    }
}
