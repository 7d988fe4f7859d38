//! The Infisical built-in providers: `infisical-login` (Universal Auth with a client id
//! and secret, or OIDC Auth with an identity token) and `infisical-secrets` (secrets by
//! project, environment, path and key) over Infisical's REST API (docs/providers.md,
//! "Infisical").
//!
//! The instance is the `siteUrl` the inputs give, else the `infisical` endpoint
//! (`ESCC_ENDPOINT_INFISICAL`), else `https://app.infisical.com`.
//!
//! Secrets are read with `GET /api/v4/secrets/{key}`: Infisical documents the v3
//! `/api/v3/secrets/raw/{key}` as deprecated, and its own CLI moved to v4.

use serde_json::{Value as Json, json};

use super::net::{self, Network};
use super::shared::{
    self, echoed, entries, join, json_call, json_string, object_at, optional_string, secret_string,
    string_at,
};
use crate::eval::Value;

/// What Infisical Cloud's API answers at, when nothing says otherwise.
const DEFAULT_SITE: &str = "https://app.infisical.com";

/// Opens built-in provider `name` if this module serves it.
pub(super) fn open(name: &str, inputs: &Value, network: &Network) -> Option<Result<Value, String>> {
    let result = match name {
        "infisical-login" => login(inputs, network),
        "infisical-secrets" => secrets(inputs, network),
        _ => return None,
    };
    Some(shared::finish(name, inputs, result))
}

/// The instance's base URL: `site` (the input at `path`), else the endpoint.
fn base(network: &Network, site: Option<&str>, path: &str) -> Result<String, String> {
    match site {
        Some(site) => net::base_url(site, &join(path, "siteUrl")),
        None => network.endpoint("infisical", DEFAULT_SITE),
    }
}

/// `infisical-login`: Universal Auth (`static`) or OIDC Auth (`oidc`); the access token,
/// secret, and the `siteUrl` the inputs gave.
fn login(inputs: &Value, network: &Network) -> Result<Value, String> {
    let site = optional_string(inputs, "siteUrl", "")?;
    let base = base(network, site.as_deref(), "")?;
    let http = network.client(None)?;
    let token = match (inputs.get("static"), inputs.get("oidc")) {
        (Some(_), Some(_)) => return Err("give either static or oidc, not both".to_owned()),
        (Some(_), None) => {
            let creds = object_at(inputs, "static", "")?;
            let client_id = string_at(creds, "clientId", "static")?;
            let client_secret = string_at(creds, "clientSecret", "static")?;
            let request =
                net::Request::new("POST", format!("{base}/api/v1/auth/universal-auth/login"))
                    .header("accept", "application/json")
                    .json(&json!({ "clientId": client_id, "clientSecret": client_secret }));
            let what = format!("static: Universal Auth login of client {client_id:?}");
            access_token(&http, &request, &what)?
        }
        (None, Some(_)) => {
            let oidc = object_at(inputs, "oidc", "")?;
            let identity = string_at(oidc, "identityId", "oidc")?;
            let jwt = super::oidc::identity_token(network, &base, None)
                .map_err(|e| format!("oidc: {e}"))?;
            let request = net::Request::new("POST", format!("{base}/api/v1/auth/oidc-auth/login"))
                .header("accept", "application/json")
                .json(&json!({ "identityId": identity, "jwt": jwt }));
            let what = format!("oidc: OIDC Auth login of identity {identity:?}");
            access_token(&http, &request, &what).map_err(|e| shared::hide(&e, &[&jwt]))?
        }
        (None, None) => {
            return Err("expected static (Universal Auth) or oidc credentials".to_owned());
        }
    };
    let mut out = Vec::new();
    if let Some(site) = site {
        out.push(("siteUrl".to_owned(), echoed(site, inputs.get("siteUrl"))));
    }
    out.push(("accessToken".to_owned(), secret_string(token)));
    Ok(Value::object(out))
}

/// A login's `accessToken`.
fn access_token(
    http: &net::Client,
    request: &net::Request<'_>,
    what: &str,
) -> Result<String, String> {
    let answer = json_call(http, request, infisical_error).map_err(|e| format!("{what}: {e}"))?;
    json_string(&answer, "/accessToken")
        .map(str::to_owned)
        .ok_or_else(|| format!("{what}: the response has no `accessToken` string"))
}

/// `infisical-secrets`: `GET /api/v4/secrets/{secretKey}?projectId&environment&secretPath&type`
/// for each entry of `get` (`secretPath` defaults to `/`, `type` to `shared`); each name
/// maps to the secret's value, secret.
fn secrets(inputs: &Value, network: &Network) -> Result<Value, String> {
    let login = object_at(inputs, "login", "")?;
    let token = string_at(login, "accessToken", "login")?;
    let site = optional_string(login, "siteUrl", "login")?;
    let base = base(network, site.as_deref(), "login")?;
    let http = network.client(None)?;
    let mut out = Vec::new();
    for (name, request) in entries(inputs, "get")? {
        let path = join("get", name);
        let project = string_at(request, "projectId", &path)?;
        let environment = string_at(request, "environment", &path)?;
        let key = string_at(request, "secretKey", &path)?;
        let secret_path =
            optional_string(request, "secretPath", &path)?.unwrap_or_else(|| "/".to_owned());
        let kind = optional_string(request, "type", &path)?.unwrap_or_else(|| "shared".to_owned());
        if !matches!(kind.as_str(), "shared" | "personal") {
            return Err(format!(
                "{}: {kind:?} is not a secret type (shared or personal)",
                join(&path, "type")
            ));
        }
        let url = format!(
            "{base}/api/v4/secrets/{}?projectId={}&environment={}&secretPath={}&type={kind}",
            net::percent_encode(&key),
            net::percent_encode(&project),
            net::percent_encode(&environment),
            net::percent_encode(&secret_path),
        );
        let request = net::Request::new("GET", url)
            .header("authorization", format!("Bearer {token}"))
            .header("accept", "application/json");
        let fail = |e: &str| {
            format!(
                "{path}: secret {key:?} of project {project:?}, environment {environment:?}, path {secret_path:?}: {e}"
            )
        };
        let answer = json_call(&http, &request, infisical_error).map_err(|e| fail(&e))?;
        // An identity allowed to list but not to read values gets the secret with its
        // value replaced by a placeholder: not a value to hand on.
        if answer.pointer("/secret/secretValueHidden") == Some(&Json::Bool(true)) {
            return Err(fail(
                "Infisical hides this secret's value from the identity (secretValueHidden): give it permission to read values",
            ));
        }
        let Some(Json::String(value)) = answer.pointer("/secret/secretValue") else {
            return Err(fail("the response has no secret.secretValue string"));
        };
        out.push((name.clone(), secret_string(value.clone())));
    }
    Ok(Value::object(out))
}

/// Infisical's error: `{"statusCode", "message", "error"}` as `error: message`.
fn infisical_error(body: &Json) -> Option<String> {
    shared::kind_and_message(body, "/error", "/message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_read() {
        let err = json!({"reqId": "r", "statusCode": 404, "message": "Secret with name 'X' not found", "error": "NotFound"});
        assert_eq!(
            infisical_error(&err).unwrap(),
            "NotFound: Secret with name 'X' not found"
        );
        assert_eq!(infisical_error(&json!({"message": "m"})).unwrap(), "m");
        assert_eq!(infisical_error(&json!([1])), None);
    }

    #[test]
    fn the_site_is_checked() {
        let network = Network::new();
        assert_eq!(
            base(&network, Some("https://eu.infisical.com/"), "login").unwrap(),
            "https://eu.infisical.com"
        );
        assert!(
            base(&network, Some("eu.infisical.com"), "login")
                .unwrap_err()
                .starts_with("login.siteUrl: ")
        );
    }
}
