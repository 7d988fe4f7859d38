//! The Azure built-in providers: `azure-login` (a client secret, or OIDC: a federated
//! identity token as the client assertion) and `azure-secrets` (Key Vault secrets), over
//! Microsoft Entra ID's OAuth 2.0 client-credentials flow (docs/providers.md, "Azure").
//!
//! `azure-login`'s outputs are ESC's: the ids, and the credential it logged in with
//! (`clientSecret`, or `oidc.token`, the federated token that `ARM_OIDC_TOKEN` takes).
//! They hold no access token (ESC's shape has none), so `azure-login` exchanges the
//! credential once to check it, where a wrong one is best reported, and `azure-secrets`
//! exchanges it again for a Key Vault token.
//!
//! Endpoints: the authority is `AZURE_AUTHORITY_HOST` (the Azure SDKs' variable), then
//! the `azure-login` endpoint (`ESCC_ENDPOINT_AZURE_LOGIN`), then
//! `https://login.microsoftonline.com`. A vault's URL is the `azure-keyvault` endpoint,
//! `https://{vault}.vault.azure.net` by default, where `{vault}` stands for the vault's
//! name (an override without it is used for every vault).

use serde_json::Value as Json;

use super::net::{self, Network};
use super::shared::{
    self, base_url_from_env, bool_at, echoed, entries, join, json_call, json_string, object_at,
    optional_string, secret_string, string_at,
};
use crate::eval::Value;

/// The audience of a federated identity token for Entra ID (Azure's documented value).
const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Key Vault's REST API version.
const API_VERSION: &str = "7.4";
/// The URL of a vault, `{vault}` standing for its name.
const DEFAULT_VAULT_URL: &str = "https://{vault}.vault.azure.net";
/// The scope of a Key Vault token in Azure's public cloud.
const DEFAULT_SCOPE: &str = "https://vault.azure.net/.default";

/// Opens built-in provider `name` if this module serves it.
pub(super) fn open(name: &str, inputs: &Value, network: &Network) -> Option<Result<Value, String>> {
    let result = match name {
        "azure-login" => login(inputs, network),
        "azure-secrets" => secrets(inputs, network),
        _ => return None,
    };
    Some(shared::finish(name, inputs, result))
}

/// What a client proves itself with.
enum Credential {
    /// A client secret.
    Secret(String),
    /// A federated identity token (a JWT), sent as a client assertion.
    Assertion(String),
}

impl Credential {
    fn text(&self) -> &str {
        match self {
            Credential::Secret(s) | Credential::Assertion(s) => s,
        }
    }
}

/// `azure-login`: checks the credential with a token request; ESC's outputs.
fn login(inputs: &Value, network: &Network) -> Result<Value, String> {
    let client_id = string_at(inputs, "clientId", "")?;
    let tenant_id = string_at(inputs, "tenantId", "")?;
    let subscription_id = string_at(inputs, "subscriptionId", "")?;
    let oidc = bool_at(inputs, "oidc", "", false)?;
    let credential = match (oidc, optional_string(inputs, "clientSecret", "")?) {
        (true, Some(_)) => {
            return Err("give either clientSecret or oidc: true, not both".to_owned());
        }
        (true, None) => Credential::Assertion(
            super::oidc::identity_token(
                network,
                FEDERATED_AUDIENCE,
                Some("AZURE_FEDERATED_TOKEN_FILE"),
            )
            .map_err(|e| format!("oidc: {e}"))?,
        ),
        (false, Some(secret)) => Credential::Secret(secret),
        (false, None) => {
            return Err(
                "expected clientSecret, or oidc: true (a federated identity token; see docs/providers.md, \"Azure\")"
                    .to_owned(),
            );
        }
    };
    let http = network.client(None)?;
    let (_, scope) = vault_url_template(network)?;
    access_token(&http, network, &tenant_id, &client_id, &credential, &scope)
        .map_err(|e| shared::hide(&e, &[credential.text()]))?;
    let mut out = vec![
        (
            "clientId".to_owned(),
            echoed(client_id, inputs.get("clientId")),
        ),
        (
            "tenantId".to_owned(),
            echoed(tenant_id, inputs.get("tenantId")),
        ),
        (
            "subscriptionId".to_owned(),
            echoed(subscription_id, inputs.get("subscriptionId")),
        ),
    ];
    out.push(match credential {
        Credential::Secret(s) => ("clientSecret".to_owned(), secret_string(s)),
        Credential::Assertion(t) => (
            "oidc".to_owned(),
            Value::object([("token".to_owned(), secret_string(t))]),
        ),
    });
    Ok(Value::object(out))
}

/// `azure-secrets`: a Key Vault token from the login, then `GET /secrets/{name}[/{version}]`
/// for each entry of `get`; each name maps to the secret's value, secret.
fn secrets(inputs: &Value, network: &Network) -> Result<Value, String> {
    let login = object_at(inputs, "login", "")?;
    let client_id = string_at(login, "clientId", "login")?;
    let tenant_id = string_at(login, "tenantId", "login")?;
    let credential = if let Some(secret) = optional_string(login, "clientSecret", "login")? {
        Credential::Secret(secret)
    } else if let Some(oidc) = login.get("oidc") {
        Credential::Assertion(string_at(oidc, "token", "login.oidc")?)
    } else {
        return Err(
            "login: expected clientSecret or oidc.token (the outputs of azure-login)".to_owned(),
        );
    };
    let vault = string_at(inputs, "vault", "")?;
    if vault.is_empty()
        || !vault
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(format!(
            "vault: {vault:?} is not a Key Vault name (letters, digits and -)"
        ));
    }
    let (template, scope) = vault_url_template(network)?;
    let vault_url = template.replace("{vault}", &vault);
    let http = network.client(None)?;
    let token = access_token(&http, network, &tenant_id, &client_id, &credential, &scope)
        .map_err(|e| format!("login: {}", shared::hide(&e, &[credential.text()])))?;
    let mut out = Vec::new();
    for (name, request) in entries(inputs, "get")? {
        let path = join("get", name);
        let secret = string_at(request, "name", &path)?;
        let version = optional_string(request, "version", &path)?;
        let mut url = format!("{vault_url}/secrets/{}", net::percent_encode(&secret));
        if let Some(v) = &version {
            url = format!("{url}/{}", net::percent_encode(v));
        }
        let request = net::Request::new("GET", format!("{url}?api-version={API_VERSION}"))
            .header("authorization", format!("Bearer {token}"))
            .header("accept", "application/json");
        let fail = |e: &str| {
            let e = shared::hide(e, &[&token, credential.text()]);
            format!("{path}: secret {secret:?} of vault {vault:?}: {e}")
        };
        let answer = json_call(&http, &request, keyvault_error).map_err(|e| fail(&e))?;
        let Some(Json::String(value)) = answer.get("value") else {
            return Err(fail("the response has no `value` string"));
        };
        out.push((name.clone(), secret_string(value.clone())));
    }
    Ok(Value::object(out))
}

/// The authority: `AZURE_AUTHORITY_HOST`, then the `azure-login` endpoint.
fn authority(network: &Network) -> Result<String, String> {
    match base_url_from_env("AZURE_AUTHORITY_HOST")? {
        Some(url) => Ok(url),
        None => network.endpoint("azure-login", "https://login.microsoftonline.com"),
    }
}

/// The vault URL template (`{vault}` for the name) and the scope of a token for it: a
/// template `https://{vault}.SUFFIX` asks for `https://SUFFIX/.default` (so a sovereign
/// cloud's vault suffix brings its scope), any other Azure's public one.
fn vault_url_template(network: &Network) -> Result<(String, String), String> {
    let template = network.endpoint("azure-keyvault", DEFAULT_VAULT_URL)?;
    let scope = template
        .strip_prefix("https://{vault}.")
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .filter(|host| !host.is_empty())
        .map_or_else(
            || DEFAULT_SCOPE.to_owned(),
            |host| format!("https://{host}/.default"),
        );
    Ok((template, scope))
}

/// Entra ID's client-credentials token request: `POST {authority}/{tenant}/oauth2/v2.0/token`;
/// the access token.
fn access_token(
    http: &net::Client,
    network: &Network,
    tenant_id: &str,
    client_id: &str,
    credential: &Credential,
    scope: &str,
) -> Result<String, String> {
    // A tenant is a GUID or a domain name; anything else could change the URL's path.
    if tenant_id.is_empty()
        || !tenant_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
    {
        return Err(format!(
            "tenantId: {tenant_id:?} is not a tenant id or domain name"
        ));
    }
    let url = format!("{}/{tenant_id}/oauth2/v2.0/token", authority(network)?);
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("scope", scope),
    ];
    match credential {
        Credential::Secret(s) => form.push(("client_secret", s)),
        Credential::Assertion(jwt) => {
            form.push((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
            form.push(("client_assertion", jwt));
        }
    }
    let request = net::Request::new("POST", url)
        .header("accept", "application/json")
        .form(&form);
    let what = format!("token request for client {client_id:?} in tenant {tenant_id:?}");
    let answer = json_call(http, &request, entra_error).map_err(|e| format!("{what}: {e}"))?;
    json_string(&answer, "/access_token")
        .map(str::to_owned)
        .ok_or_else(|| format!("{what}: the response has no `access_token` string"))
}

/// Entra ID's OAuth error: `error: error_description` (quoted by its first line, the
/// `AADSTS…` code and message; trace ids and a timestamp follow).
fn entra_error(body: &Json) -> Option<String> {
    shared::kind_and_message(body, "/error", "/error_description")
}

/// Key Vault's error: `{"error": {"code", "message"}}` as `code: message`.
fn keyvault_error(body: &Json) -> Option<String> {
    shared::kind_and_message(body, "/error/code", "/error/message")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_are_read_from_both_services() {
        let aad = json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nTimestamp: 2"});
        assert_eq!(
            shared::backend_message(&entra_error(&aad).unwrap()),
            "invalid_client: AADSTS7000215: Invalid client secret provided."
        );
        let kv = json!({"error": {"code": "SecretNotFound", "message": "A secret with (name/id) x was not found in this key vault."}});
        assert_eq!(
            keyvault_error(&kv).unwrap(),
            "SecretNotFound: A secret with (name/id) x was not found in this key vault."
        );
        assert_eq!(keyvault_error(&json!({"x": 1})), None);
    }

    #[test]
    fn the_scope_follows_the_vault_suffix() {
        let scope = |url: &str| {
            let network =
                Network::new().endpoints([("azure-keyvault".to_owned(), url.to_owned())].into());
            vault_url_template(&network).unwrap().1
        };
        assert_eq!(
            scope("https://{vault}.vault.azure.cn"),
            "https://vault.azure.cn/.default"
        );
        assert_eq!(scope("http://127.0.0.1:9/{vault}"), DEFAULT_SCOPE);
        let (template, default) = vault_url_template(&Network::new()).unwrap();
        assert_eq!(
            (template.as_str(), default.as_str()),
            (DEFAULT_VAULT_URL, DEFAULT_SCOPE)
        );
    }
}
