//! The GCP built-in providers: `gcp-login` (an access token as given, a service account
//! impersonated with IAM Credentials `generateAccessToken`, or OIDC workload identity
//! federation through STS then impersonation) and `gcp-secrets` (Secret Manager
//! `versions.access`), over HTTPS with [`net`](super::net) (docs/providers.md, "GCP").
//!
//! Endpoints are Google's unless overridden ([`Network::endpoint`]) for the services
//! `gcp-secretmanager`, `gcp-iamcredentials` and `gcp-sts`
//! (`ESCC_ENDPOINT_GCP_SECRETMANAGER`, ...).
//!
//! No error this module returns quotes a response body, except the status and message of
//! a well-formed Google error (clipped), with the inputs' secret texts and every token
//! obtained masked.

use serde_json::{Value as Json, json};

use super::net::{self, Network};
use super::shared::{self, join, optional_string, secret_string, string_at};
use crate::eval::{Value, ValueKind};

/// The OAuth scope of the tokens escc asks for: all of Google Cloud, as ESC's are.
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The lifetime of an impersonated token when `tokenLifetime` is absent (Google's default).
const DEFAULT_LIFETIME_SECONDS: u64 = 3600;

/// Opens built-in provider `name` if this module serves it.
pub(super) fn open(name: &str, inputs: &Value, network: &Network) -> Option<Result<Value, String>> {
    // Tokens are credentials, even those written without `fn::secret` or obtained on the
    // way (an identity token, a federated token): whatever an error says, neither they
    // nor the inputs' secret texts show in it.
    let mut obtained = Vec::new();
    let result = match name {
        "gcp-login" => login(inputs, network, &mut obtained),
        "gcp-secrets" => secrets(inputs, network, &mut obtained),
        _ => return None,
    };
    Some(shared::finish_hiding(name, inputs, obtained, result))
}

/// `gcp-login`: `accessToken` (as given, or exchanged for a service account's) or `oidc`.
/// The output is ESC's `{project, accessToken (secret), tokenType, expiry?}`.
fn login(inputs: &Value, network: &Network, obtained: &mut Vec<String>) -> Result<Value, String> {
    let project = inputs.get("project").ok_or("project: missing")?;
    let number = project_number(project, "project")?;
    let (token, expiry) = match (inputs.get("accessToken"), inputs.get("oidc")) {
        (Some(_), Some(_)) => {
            return Err("expected one of `accessToken` or `oidc`, not both".to_owned());
        }
        (None, None) => return Err("expected `accessToken` or `oidc`".to_owned()),
        (Some(given), None) => {
            let token = string_at(given, "accessToken", "accessToken")?;
            obtained.push(token.clone());
            match optional_string(given, "serviceAccount", "accessToken")? {
                // ESC's pass-through: the token as given, with no expiry known.
                None => (token, None),
                Some(account) => {
                    let lifetime = lifetime(given, "accessToken")?;
                    let (t, e) = impersonate(network, &token, &account, lifetime)
                        .map_err(|e| format!("accessToken.serviceAccount: {e}"))?;
                    (t, Some(e))
                }
            }
        }
        (None, Some(oidc)) => {
            let (t, e) = login_oidc(oidc, &number, network, obtained)?;
            (t, Some(e))
        }
    };
    let mut out = vec![
        ("project".to_owned(), project.clone()),
        ("accessToken".to_owned(), secret_string(token)),
        ("tokenType".to_owned(), Value::string("Bearer")),
    ];
    if let Some(e) = expiry {
        out.push(("expiry".to_owned(), Value::string(e)));
    }
    Ok(Value::object(out))
}

/// `gcp-login` with `oidc`: the identity token of the environment escc runs in, exchanged
/// at STS for a federated token of the workload identity pool's provider, which then
/// impersonates `serviceAccount`. The service account's token and its expiry.
fn login_oidc(
    oidc: &Value,
    project: &str,
    network: &Network,
    obtained: &mut Vec<String>,
) -> Result<(String, String), String> {
    let pool = string_at(oidc, "workloadPoolId", "oidc")?;
    let provider = string_at(oidc, "providerId", "oidc")?;
    let account = string_at(oidc, "serviceAccount", "oidc")?;
    let lifetime = lifetime(oidc, "oidc")?;
    // The provider's resource name is STS's audience; Google's default allowed audience
    // for an OIDC provider, which the identity token must carry, is the same as a URL.
    let resource = format!(
        "//iam.googleapis.com/projects/{project}/locations/global/workloadIdentityPools/{pool}/providers/{provider}"
    );
    let identity = super::oidc::identity_token(network, &format!("https:{resource}"), None)
        .map_err(|e| format!("oidc: {e}"))?;
    obtained.push(identity.clone());
    let base = network.endpoint("gcp-sts", "https://sts.googleapis.com")?;
    let request = net::Request::new("POST", format!("{base}/v1/token")).form(&[
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("audience", &resource),
        ("scope", CLOUD_PLATFORM),
        (
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:access_token",
        ),
        ("subject_token", &identity),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
    ]);
    let answer = call(network, &request, &base).map_err(|e| format!("oidc: STS token: {e}"))?;
    let federated = match answer.get("access_token") {
        Some(Json::String(t)) if !t.is_empty() => t.clone(),
        _ => {
            return Err(format!(
                "oidc: STS token: the response from {base} has no access_token"
            ));
        }
    };
    obtained.push(federated.clone());
    impersonate(network, &federated, &account, lifetime)
        .map_err(|e| format!("oidc.serviceAccount: {e}"))
}

/// IAM Credentials `generateAccessToken`: a token of `account` (an email or unique id)
/// for the cloud-platform scope, valid `lifetime` seconds, asked with `bearer`. The token
/// and its `expireTime`.
fn impersonate(
    network: &Network,
    bearer: &str,
    account: &str,
    lifetime: u64,
) -> Result<(String, String), String> {
    if account.is_empty()
        || !account.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !account
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'@' | b'.' | b'-' | b'_'))
    {
        return Err(format!(
            "{account:?} is not a service account's email or unique id"
        ));
    }
    let base = network.endpoint(
        "gcp-iamcredentials",
        "https://iamcredentials.googleapis.com",
    )?;
    let request = net::Request::new(
        "POST",
        format!("{base}/v1/projects/-/serviceAccounts/{account}:generateAccessToken"),
    )
    .header("authorization", format!("Bearer {bearer}"))
    .json(&json!({ "scope": [CLOUD_PLATFORM], "lifetime": format!("{lifetime}s") }));
    let answer = call(network, &request, &base)
        .map_err(|e| format!("generateAccessToken {account:?}: {e}"))?;
    let field = |k: &str| match answer.get(k) {
        Some(Json::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(format!(
            "generateAccessToken {account:?}: the response from {base} has no {k}"
        )),
    };
    Ok((field("accessToken")?, field("expireTime")?))
}

/// `gcp-secrets`: Secret Manager `versions.access` for each entry of `access` (`version`
/// defaults to `latest`); the output maps each name to the payload, decoded, secret.
fn secrets(inputs: &Value, network: &Network, tokens: &mut Vec<String>) -> Result<Value, String> {
    let login = inputs.get("login").ok_or("login: missing")?;
    let project = match login.get("project") {
        Some(p) if p.as_str().is_none() => project_number(p, "login.project")?,
        Some(p) => project_id(p.as_str().unwrap_or_default())?,
        None => return Err("login.project: missing".to_owned()),
    };
    let token = string_at(login, "accessToken", "login")?;
    tokens.push(token.clone());
    let scheme = match optional_string(login, "tokenType", "login")? {
        None => "Bearer".to_owned(),
        Some(t) => token_type(&t)?,
    };
    let Some(ValueKind::Object(access)) = inputs.get("access").map(|a| &a.kind) else {
        return Err("access: expected an object".to_owned());
    };
    let base = network.endpoint("gcp-secretmanager", "https://secretmanager.googleapis.com")?;
    let mut out = Vec::new();
    for (name, request) in access {
        let path = join("access", name);
        let secret = string_at(request, "name", &path)?;
        let version =
            optional_string(request, "version", &path)?.unwrap_or_else(|| "latest".to_owned());
        check_id(&secret, &join(&path, "name"), "a secret's id")?;
        check_id(
            &version,
            &join(&path, "version"),
            "a version (a number, `latest` or an alias)",
        )?;
        let request = net::Request::new(
            "GET",
            format!("{base}/v1/projects/{project}/secrets/{secret}/versions/{version}:access"),
        )
        .header("authorization", format!("{scheme} {token}"))
        .header("accept", "application/json");
        let fail = |e: &str| format!("{path}: access {secret:?} version {version}: {e}");
        let answer = call(network, &request, &base).map_err(|e| fail(&e))?;
        let value = payload(&answer, &base).map_err(|e| fail(&e))?;
        out.push((name.clone(), secret_string(value)));
    }
    Ok(Value::object(out))
}

/// The text of a `versions.access` answer: `payload.data` decoded from base64, its
/// checksum verified when the answer has one (`payload.dataCrc32c`, a decimal int64).
fn payload(answer: &Json, base: &str) -> Result<String, String> {
    let Some(data) = answer["payload"]["data"].as_str() else {
        return Err(format!(
            "the response from {base} has no payload.data string"
        ));
    };
    // The decoder's error names only an offset, never the text.
    let bytes = crate::go::base64::decode(data)
        .map_err(|e| format!("the payload from {base} is not base64 ({e})"))?;
    let expected = match &answer["payload"]["dataCrc32c"] {
        Json::Null => None,
        // An int64, which JSON carries as a decimal string.
        Json::String(s) => Some(s.parse::<u64>().ok()),
        Json::Number(n) => Some(n.as_u64()),
        _ => Some(None),
    };
    if let Some(expected) = expected
        && expected != Some(u64::from(crate::secrets::envelope::crc32c(&bytes)))
    {
        return Err(format!(
            "the payload from {base} does not match its checksum (dataCrc32c): it was damaged on the way"
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        "the payload is binary (not UTF-8 text); escc returns secrets as text".to_owned()
    })
}

/// Sends `request`; the answer as a JSON object, or Google's error.
fn call(network: &Network, request: &net::Request<'_>, base: &str) -> Result<Json, String> {
    let response = network.client(None)?.send(request)?;
    if !response.ok() {
        return Err(google_error(response.status, &response.text));
    }
    response.json_object(base)
}

/// Google's error, as `STATUS: message (HTTP code)`: the JSON API's
/// `{"error": {"code", "message", "status"}}`, or OAuth's `{"error", "error_description"}`
/// (STS). Each part clipped, without control characters.
fn google_error(status: u16, text: &str) -> String {
    let body: Json = serde_json::from_str(text).unwrap_or(Json::Null);
    let (kind, message) = match &body["error"] {
        Json::Object(e) => (
            e.get("status").and_then(Json::as_str),
            e.get("message").and_then(Json::as_str),
        ),
        Json::String(code) => (Some(code.as_str()), body["error_description"].as_str()),
        _ => (None, None),
    };
    shared::status_error(status, kind, message)
}

/// A project number (at input path `path`): a whole number, as its text.
fn project_number(v: &Value, path: &str) -> Result<String, String> {
    match &v.kind {
        ValueKind::Number(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(n.clone())
        }
        ValueKind::Number(n) => Err(format!(
            "{path}: {n} is not a project number (a whole number)"
        )),
        _ => Err(format!("{path}: expected the project number")),
    }
}

/// `gcp-secrets`' `login.project` given as a string: a project id or number.
fn project_id(p: &str) -> Result<String, String> {
    // Project ids are lower-case letters, digits and hyphens; a domain-scoped one
    // (`example.com:proj`) also has `.` and `:`. Nothing that could leave the path.
    let ok = p.starts_with(|c: char| c.is_ascii_alphanumeric())
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':'));
    if ok {
        Ok(p.to_owned())
    } else {
        Err(format!(
            "login.project: {p:?} is not a project id or number"
        ))
    }
}

/// A secret id or version: letters, digits, `-` and `_` (Google's own rule for secret ids
/// and aliases), so it stays one segment of the URL's path.
fn check_id(s: &str, path: &str, what: &str) -> Result<(), String> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    {
        Ok(())
    } else {
        Err(format!("{path}: {s:?} is not {what}"))
    }
}

/// The scheme of `Authorization` for `tokenType`, as Go's `oauth2.Token.Type` spells it
/// (ESC's tokens are Go's): `bearer` is `Bearer`, and so on.
fn token_type(t: &str) -> Result<String, String> {
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(format!(
            "login.tokenType: {t:?} is not a token type (like \"Bearer\")"
        ));
    }
    Ok(match t.to_ascii_lowercase().as_str() {
        "bearer" => "Bearer".to_owned(),
        "mac" => "MAC".to_owned(),
        "basic" => "Basic".to_owned(),
        _ => t.to_owned(),
    })
}

/// `tokenLifetime` of `v` (at `path`) in seconds: a Go-style duration (`1h`, `30m`,
/// `3600s`), one hour when absent.
fn lifetime(v: &Value, path: &str) -> Result<u64, String> {
    shared::duration_at(v, "tokenLifetime", path, DEFAULT_LIFETIME_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_errors_are_short() {
        let body = r#"{"error": {"code": 404, "message": "Secret [projects/1/secrets/x] not found.", "status": "NOT_FOUND"}}"#;
        assert_eq!(
            google_error(404, body),
            "NOT_FOUND: Secret [projects/1/secrets/x] not found. (HTTP 404)"
        );
        let oauth = r#"{"error": "invalid_grant", "error_description": "The audience\nis wrong"}"#;
        assert_eq!(
            google_error(400, oauth),
            "invalid_grant: The audienceis wrong (HTTP 400)"
        );
        assert_eq!(google_error(502, "<html>"), "the service answered HTTP 502");
        let long = format!(r#"{{"error": {{"message": "{}"}}}}"#, "x".repeat(1000));
        assert_eq!(
            google_error(500, &long).chars().count(),
            shared::MAX_MESSAGE_CHARS + "… (HTTP 500)".chars().count()
        );
    }

    #[test]
    fn payloads_are_decoded_and_checked() {
        let base = "http://h";
        // "hello" and its CRC-32C, as Secret Manager sends them (an int64 as a string).
        let crc = crate::secrets::envelope::crc32c(b"hello");
        let ok = json!({"payload": {"data": "aGVsbG8=", "dataCrc32c": crc.to_string()}});
        assert_eq!(payload(&ok, base).unwrap(), "hello");
        let absent = json!({"payload": {"data": "aGVsbG8="}});
        assert_eq!(payload(&absent, base).unwrap(), "hello");
        let damaged = json!({"payload": {"data": "aGVsbG8=", "dataCrc32c": (crc ^ 1).to_string()}});
        assert!(payload(&damaged, base).unwrap_err().contains("checksum"));
        let garbage = json!({"payload": {"data": "aGVsbG8=", "dataCrc32c": "x"}});
        assert!(payload(&garbage, base).unwrap_err().contains("checksum"));
        let binary = json!({"payload": {"data": "/w=="}});
        assert!(payload(&binary, base).unwrap_err().contains("binary"));
        let not_b64 = json!({"payload": {"data": "hello-secret!"}});
        let e = payload(&not_b64, base).unwrap_err();
        assert!(
            e.contains("not base64") && !e.contains("hello-secret"),
            "{e}"
        );
        assert!(
            payload(&json!({}), base)
                .unwrap_err()
                .contains("payload.data")
        );
    }

    #[test]
    fn ids_stay_one_path_segment() {
        assert!(check_id("api-key_2", "p", "x").is_ok());
        for bad in ["", "..", "a/b", "a b", "a?b", "a%2F"] {
            assert!(check_id(bad, "p", "x").is_err(), "{bad}");
        }
        assert!(project_id("my-proj-1").is_ok());
        assert!(project_id("example.com:proj").is_ok());
        for bad in ["..", "a/b", "-x", ""] {
            assert!(project_id(bad).is_err(), "{bad}");
        }
        let n = |s: &str| project_number(&Value::new(ValueKind::Number(s.to_owned())), "project");
        assert_eq!(n("111111111111").unwrap(), "111111111111");
        assert!(n("1e+06").is_err() && n("-3").is_err() && n("1.5").is_err());
    }

    #[test]
    fn token_types_are_spelt_as_go_does() {
        assert_eq!(token_type("bearer").unwrap(), "Bearer");
        assert_eq!(token_type("Bearer").unwrap(), "Bearer");
        assert_eq!(token_type("DPoP").unwrap(), "DPoP");
        assert!(token_type("Bearer x").is_err());
        assert!(token_type("").is_err());
    }
}
