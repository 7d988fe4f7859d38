//! The Vault built-in providers (the API of Vault and of its fork `OpenBao`):
//! `vault-login` (an ephemeral child of a given token, or a JWT login with an identity
//! token from the environment) and `vault-secrets` (raw reads, KV v1 and v2), over the
//! shared network layer (docs/providers.md, "Vault").
//!
//! The server is the `address` input (no endpoint override is needed); `namespace` is sent
//! as `X-Vault-Namespace`.
//!
//! No error this module returns quotes a response body, except the `errors` (or, failing
//! those, `warnings`) strings of a Vault answer, clipped; the tokens of the inputs, the
//! identity token and the inputs' secret texts are masked in every message.

use serde_json::{Value as Json, json};

use super::net::{self, Network};
use super::shared::{self, join, optional_string, optional_strings, string_at};
use crate::eval::{Value, ValueKind};

/// The `display_name` of a child token when `displayName` is not given (ESC's default).
const DEFAULT_DISPLAY_NAME: &str = "pulumi";
/// The JWT auth mount when `jwt.mount` is not given (ESC's and Vault's default).
const DEFAULT_JWT_MOUNT: &str = "jwt";

/// Opens built-in provider `name` if this module serves it.
pub(super) fn open(name: &str, inputs: &Value, network: &Network) -> Option<Result<Value, String>> {
    // Tokens are credentials whether or not the document marks them secret.
    let mut hidden = Vec::new();
    let result = match name {
        "vault-login" => login(inputs, network, &mut hidden),
        "vault-secrets" => secrets(inputs, network, &mut hidden),
        _ => return None,
    };
    Some(shared::finish_hiding(name, inputs, hidden, result))
}

/// `vault-login`: `token` makes an ephemeral child of the given token
/// (`auth/token/create`); `jwt` logs in with an identity token (`auth/{mount}/login`).
/// The outputs are `{address, namespace?, token}`, the token secret.
fn login(inputs: &Value, network: &Network, hidden: &mut Vec<String>) -> Result<Value, String> {
    let server = Server::from_inputs(inputs, "", network)?;
    let token = match (inputs.get("token"), inputs.get("jwt")) {
        (Some(_), Some(_)) => {
            return Err("give either `token` or `jwt`, not both".to_owned());
        }
        (Some(t), None) => child_token(&server, t, hidden)?,
        (None, Some(j)) => jwt_login(&server, j, network, hidden)?,
        (None, None) => return Err("expected `token` or `jwt` options".to_owned()),
    };
    let mut out = vec![
        (
            "address".to_owned(),
            inputs
                .get("address")
                .cloned()
                .unwrap_or_else(|| Value::string("")),
        ),
        (
            "token".to_owned(),
            Value {
                secret: true,
                ..Value::string(token)
            },
        ),
    ];
    if let Some(ns) = inputs.get("namespace") {
        out.push(("namespace".to_owned(), ns.clone()));
    }
    Ok(Value::object(out))
}

/// `auth/token/create` with `X-Vault-Token: <parent>`: a child token (so revoking the
/// parent revokes it) with `display_name`, `explicit_max_ttl`, `meta` and `policies`.
fn child_token(server: &Server, t: &Value, hidden: &mut Vec<String>) -> Result<String, String> {
    let parent = string_at(t, "token", "token")?;
    hidden.push(parent.clone());
    let display_name = optional_string(t, "displayName", "token")?
        .unwrap_or_else(|| DEFAULT_DISPLAY_NAME.to_owned());
    let mut body = json!({ "display_name": display_name });
    if let Some(ttl) = optional_string(t, "maxTtl", "token")? {
        // Vault parses the duration ("1h", "90m", "3600") and says what is wrong with it.
        body["explicit_max_ttl"] = Json::String(ttl);
    }
    if let Some(m) = t.get("metadata") {
        let ValueKind::Object(m) = &m.kind else {
            return Err("token.metadata: expected an object".to_owned());
        };
        let mut meta = serde_json::Map::new();
        for (k, v) in m {
            // Vault's token metadata is a map of strings.
            let Some(s) = v.as_str() else {
                let at = join(&join("token", "metadata"), k);
                return Err(format!("{at}: expected a string"));
            };
            meta.insert(k.clone(), Json::String(s.to_owned()));
        }
        body["meta"] = Json::Object(meta);
    }
    if let Some(policies) = optional_strings(t, "policies", "token")? {
        body["policies"] = policies.into();
    }
    let answer = server
        .call("POST", "auth/token/create", Some(&parent), Some(&body))
        .map_err(|e| format!("token: creating a child token: {e}"))?;
    client_token(&answer, server).map_err(|e| format!("token: {e}"))
}

/// `auth/{mount}/login` with `{role, jwt}`; the identity token comes from the environment,
/// asked for the audience of the Vault address (see docs/providers.md, "Vault").
fn jwt_login(
    server: &Server,
    j: &Value,
    network: &Network,
    hidden: &mut Vec<String>,
) -> Result<String, String> {
    let role = string_at(j, "role", "jwt")?;
    let mount = match j.get("mount") {
        None => DEFAULT_JWT_MOUNT.to_owned(),
        Some(_) => string_at(j, "mount", "jwt")?,
    };
    let mount = api_path(&mount).map_err(|e| format!("jwt.mount: {e}"))?;
    let jwt = super::oidc::identity_token(network, &server.address, None)
        .map_err(|e| format!("jwt: {e}"))?;
    hidden.push(jwt.clone());
    let body = json!({ "role": role, "jwt": jwt });
    let answer = server
        .call("POST", &format!("auth/{mount}/login"), None, Some(&body))
        .map_err(|e| format!("jwt: logging in with role {role:?}: {e}"))?;
    client_token(&answer, server).map_err(|e| format!("jwt: {e}"))
}

/// The `auth.client_token` of a login or token-creation answer.
fn client_token(answer: &Json, server: &Server) -> Result<String, String> {
    match answer.pointer("/auth/client_token") {
        Some(Json::String(t)) if !t.is_empty() => Ok(t.clone()),
        _ => Err(format!(
            "the response from {} has no auth.client_token",
            server.address
        )),
    }
}

/// `vault-secrets`: for each entry of `read`, `GET /v1/{path}` with the login's token. Each
/// name maps to the answer's `data` as Vault returned it (KV v2: `{data, metadata}`), or,
/// with `field`, to one field of the secret (KV v2: of the inner `data`), secret.
fn secrets(inputs: &Value, network: &Network, hidden: &mut Vec<String>) -> Result<Value, String> {
    let login = inputs
        .get("login")
        .ok_or_else(|| "login: missing".to_owned())?;
    let server = Server::from_inputs(login, "login", network)?;
    let token = string_at(login, "token", "login")?;
    hidden.push(token.clone());
    let Some(ValueKind::Object(read)) = inputs.get("read").map(|r| &r.kind) else {
        return Err("read: expected an object".to_owned());
    };
    let mut out = Vec::new();
    for (name, request) in read {
        let at = join("read", name);
        let path = string_at(request, "path", &at)?;
        let field = match request.get("field") {
            None => None,
            Some(_) => Some(string_at(request, "field", &at)?),
        };
        let api = api_path(&path).map_err(|e| format!("{}: {e}", join(&at, "path")))?;
        let answer = server
            .call("GET", &api, Some(&token), None)
            .map_err(|e| format!("{at}: reading {path:?}: {e}"))?;
        let data = match answer.get("data") {
            Some(d) if !d.is_null() => d,
            _ => {
                return Err(format!(
                    "{at}: reading {path:?}: the response from {} has no data",
                    server.address
                ));
            }
        };
        let value = match field {
            None => data,
            Some(field) => {
                let fields = if is_kv2(data) { &data["data"] } else { data };
                fields.get(&field).ok_or_else(|| {
                    format!(
                        "{}: the secret at {path:?} has no field {field:?}",
                        join(&at, "field")
                    )
                })?
            }
        };
        let mut value = super::plugin::from_json(value);
        value.make_secret();
        out.push((name.clone(), value));
    }
    Ok(Value::object(out))
}

/// Whether a read's `data` is a KV version 2 answer: exactly `data` (an object, or null
/// for a deleted version) and `metadata` with a numeric `version`.
fn is_kv2(data: &Json) -> bool {
    let Json::Object(m) = data else {
        return false;
    };
    m.len() == 2
        && matches!(m.get("data"), Some(Json::Object(_) | Json::Null))
        && m.get("metadata")
            .and_then(|md| md.get("version"))
            .is_some_and(Json::is_number)
}

/// A Vault server: its address (without a trailing `/`), its namespace, and a client.
struct Server {
    address: String,
    namespace: Option<String>,
    http: net::Client,
}

impl Server {
    /// The server `address` and `namespace` of `v` (at input path `path`) name.
    fn from_inputs(v: &Value, path: &str, network: &Network) -> Result<Server, String> {
        let address = string_at(v, "address", path)?;
        // ESC: "Must contain a scheme and hostname, but no path".
        let address = super::aws::Endpoint::parse("vault", address.trim())
            .map_err(|e| format!("{}: {e}", join(path, "address")))?
            .base;
        let namespace = optional_string(v, "namespace", path)?.filter(|n| !n.is_empty());
        Ok(Server {
            address,
            namespace,
            http: network.client(None)?,
        })
    }

    /// `method` on `/v1/{api}` (already encoded) with `token` and a JSON `body`; the answer
    /// (`Null` for an empty one), or Vault's error.
    fn call(
        &self,
        method: &str,
        api: &str,
        token: Option<&str>,
        body: Option<&Json>,
    ) -> Result<Json, String> {
        let mut request = net::Request::new(method, format!("{}/v1/{api}", self.address))
            .header("accept", "application/json");
        if let Some(t) = token {
            request = request.header("x-vault-token", t);
        }
        if let Some(ns) = &self.namespace {
            request = request.header("x-vault-namespace", ns.clone());
        }
        if let Some(b) = body {
            request = request.json(b);
        }
        let response = self.http.send(&request)?;
        if !response.ok() {
            return Err(vault_error(response.status, &response.text));
        }
        if response.text.trim().is_empty() {
            return Ok(Json::Null);
        }
        response.json_object(&self.address)
    }
}

/// Vault's error: its `errors` strings (else its `warnings`, which is all a KV v2 path
/// without `data/` gets), clipped, then the HTTP status.
fn vault_error(status: u16, text: &str) -> String {
    let body: Option<Json> = serde_json::from_str(text).ok();
    let list = |key: &str| -> Vec<String> {
        body.as_ref()
            .and_then(|b| b.get(key))
            .and_then(Json::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Json::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut messages = list("errors");
    if messages.is_empty() {
        messages = list("warnings");
    }
    if messages.is_empty() {
        return match status {
            // Vault answers a read of nothing with an empty `errors`.
            404 => "nothing at this path (HTTP 404)".to_owned(),
            _ => format!("Vault answered HTTP {status}"),
        };
    }
    format!("{} (HTTP {status})", clip(&messages.join("; ")))
}

/// `s` on one line (Vault's multi-error texts hold newlines and tabs), [`shared::clip`]ped.
fn clip(s: &str) -> String {
    shared::clip(&s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A Vault API path (`secret/data/app`, a mount) as it goes into a URL: each segment
/// percent-encoded, no leading or trailing `/`.
fn api_path(path: &str) -> Result<String, String> {
    let trimmed = path.trim().trim_matches('/');
    if trimmed.is_empty() {
        return Err("expected a path, got an empty one".to_owned());
    }
    let mut segments = Vec::new();
    for segment in trimmed.split('/') {
        // `..` would reach another path than the one written.
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(format!("{path:?} has an empty, `.` or `..` segment"));
        }
        segments.push(net::percent_encode(segment));
    }
    Ok(segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_errors_are_short_and_on_one_line() {
        assert_eq!(
            vault_error(403, r#"{"errors":["permission denied"]}"#),
            "permission denied (HTTP 403)"
        );
        assert_eq!(
            vault_error(400, r#"{"errors":["1 error occurred:\n\t* bad role\n\n"]}"#),
            "1 error occurred: * bad role (HTTP 400)"
        );
        assert_eq!(
            vault_error(404, r#"{"errors":[]}"#),
            "nothing at this path (HTTP 404)"
        );
        assert_eq!(
            vault_error(
                404,
                r#"{"data":null,"warnings":["Invalid path for a versioned K/V secrets engine."]}"#
            ),
            "Invalid path for a versioned K/V secrets engine. (HTTP 404)"
        );
        assert_eq!(
            vault_error(502, "<html>bad gateway</html>"),
            "Vault answered HTTP 502"
        );
        let long = format!(r#"{{"errors":["{}"]}}"#, "x".repeat(1000));
        assert_eq!(
            vault_error(400, &long).chars().count(),
            shared::MAX_MESSAGE_CHARS + 1 + " (HTTP 400)".len()
        );
    }

    #[test]
    fn api_paths_are_encoded_by_segment() {
        assert_eq!(
            api_path("/secret/data/my app/").unwrap(),
            "secret/data/my%20app"
        );
        assert_eq!(api_path("kv1/a?b#c").unwrap(), "kv1/a%3Fb%23c");
        for bad in ["", "/", "secret//x", "secret/../sys/x", "./x"] {
            assert!(api_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kv2_answers_are_recognised_by_shape() {
        let kv2 = json!({"data": {"k": "v"}, "metadata": {"version": 3, "created_time": ""}});
        assert!(is_kv2(&kv2));
        assert!(is_kv2(&json!({"data": null, "metadata": {"version": 1}})));
        assert!(!is_kv2(&json!({"k": "v"})));
        assert!(!is_kv2(&json!({"data": {"k": "v"}, "metadata": "m"})));
        assert!(!is_kv2(
            &json!({"data": {}, "metadata": {"version": 1}, "x": 1})
        ));
    }
}
