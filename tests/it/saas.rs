//! The Azure, Doppler, Infisical and 1Password built-in providers through the real binary.
//!
//! None of these backends has a server that can be installed here, so the HTTP ones run
//! against the in-process fake (`fake_http.rs`), with handlers that check what each
//! service checks (the credential, the path, Key Vault's `api-version`, the query
//! parameters and form fields) and answer in its documented shapes, errors included.
//! 1Password runs against a stand-in `op` script put on `PATH`, which checks that the
//! service account token is in its environment and not in its arguments, and answers as
//! `op read` does.
//!
//! Each provider: ESC's documentation example through `escc open` and `escc run`, a wrong
//! credential, a missing secret, a throttled answer (retried; and retries exhausted), a
//! service that hangs, a malformed answer, and no credential or value in any output.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use crate::backends::{
    assert_clean, escc, open_fails, open_shown, path_with, project, run_sh, says, text, vars,
};
use crate::fake_http::{FakeServer, Received, Reply};

const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/providers/docs");

/// ESC's documentation example for `provider`, with `extra` appended.
fn docs_example(provider: &str, extra: &str) -> String {
    let doc = std::fs::read_to_string(format!("{DOCS}/{provider}.yaml")).unwrap();
    format!("{doc}{extra}")
}

/// `escc open app` as JSON, secrets redacted: no secret in any output.
#[track_caller]
fn redacted(dir: &Path, env: &[(&str, &str)], never: &[&str]) -> Json {
    let out = escc(dir, &["open", "app", "--format", "json"], env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_clean("standard output", &text(&out.stdout), never);
    assert_clean("standard error", &text(&out.stderr), never);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `list` as owned pairs, to extend an environment made of owned strings.
fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A form field of a request.
fn field(r: &Received, name: &str) -> Option<String> {
    r.form()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

// --- What every HTTP provider is put through ------------------------------------------

/// One provider's fake service and the document that reads through it.
#[derive(Clone, Copy)]
struct Case {
    /// The document, environment `app`.
    app: fn() -> String,
    /// The environment that points the providers at the fake (its URL) and gives them
    /// their identity token (a file written in the project `dir`).
    env: fn(url: &str, dir: &Path) -> Vec<(String, String)>,
    /// The service, as documented.
    serve: fn(&Received) -> Reply,
    /// Whether a request reads a secret (what the failure tests disturb).
    is_read: fn(&Received) -> bool,
    /// Where one value is in the opened document (a JSON pointer), and the value.
    value: (&'static str, &'static str),
    /// What an error at the read starts with: provider and input path.
    at: &'static str,
    /// Texts no output may show: credentials, tokens, values.
    secrets: &'static [&'static str],
}

impl Case {
    fn start(
        self,
        disturb: impl Fn(&Received) -> Option<Reply> + Send + Sync + 'static,
    ) -> FakeServer {
        FakeServer::start(move |r| {
            if (self.is_read)(r)
                && let Some(reply) = disturb(r)
            {
                return reply;
            }
            (self.serve)(r)
        })
    }

    fn reads(self, server: &FakeServer) -> usize {
        server
            .received()
            .iter()
            .filter(|r| (self.is_read)(r))
            .count()
    }

    /// A throttled read (429, `Retry-After: 0`) is retried and succeeds.
    fn throttled_once(self) {
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        let server = self.start(move |_| {
            (seen.fetch_add(1, Ordering::SeqCst) == 0).then(|| Reply::throttled(0))
        });
        let dir = project(&(self.app)());
        let env = (self.env)(&server.url, dir.path());
        let v = open_shown(dir.path(), &vars(&env), self.secrets);
        assert_eq!(v.pointer(self.value.0), Some(&json!(self.value.1)), "{v}");
        let reads = self.reads(&server);
        assert!(count.load(Ordering::SeqCst) >= 2 && reads >= 2, "{reads}");
    }

    /// A service that keeps throttling: 1 + `ESCC_PROVIDER_RETRIES` attempts, then the
    /// status is reported.
    fn throttled_always(self) {
        let server = self.start(|_| Some(Reply::throttled(0)));
        let dir = project(&(self.app)());
        let mut env = (self.env)(&server.url, dir.path());
        env.extend(pairs(&[("ESCC_PROVIDER_RETRIES", "2")]));
        let err = open_fails(dir.path(), &vars(&env), self.secrets);
        assert!(says(&err, self.at), "{err}");
        assert!(says(&err, "HTTP 429"), "{err}");
        // The first read fails the open: three attempts at it.
        assert_eq!(self.reads(&server), 3);
    }

    /// A service that never answers is given up on after `ESCC_PROVIDER_TIMEOUT`.
    fn hung(self) {
        let server = self.start(|_| Some(Reply::hang()));
        let dir = project(&(self.app)());
        let mut env = (self.env)(&server.url, dir.path());
        env.extend(pairs(&[("ESCC_PROVIDER_TIMEOUT", "1")]));
        let start = Instant::now();
        let err = open_fails(dir.path(), &vars(&env), self.secrets);
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{:?}",
            start.elapsed()
        );
        assert!(says(&err, self.at), "{err}");
        assert!(says(&err, "did not answer in time"), "{err}");
    }

    /// A 200 answer that is not JSON is reported by where it broke, without its text.
    fn malformed(self) {
        let value = self.value.1;
        let server = self.start(move |_| Some(Reply::text(200, &format!("{{\"value\": {value}"))));
        let dir = project(&(self.app)());
        let env = (self.env)(&server.url, dir.path());
        let err = open_fails(dir.path(), &vars(&env), self.secrets);
        assert!(says(&err, self.at), "{err}");
        assert!(
            says(
                &err,
                "is not valid JSON (expected value at line 1 column 11)"
            ),
            "{err}"
        );
    }
}

// --- Azure ------------------------------------------------------------------------------

const AZ_TENANT: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const AZ_CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const AZ_SECRET: &str = "azure-client-secret-4711";
const AZ_JWT: &str = "eyJhbGciOiJSUzI1NiJ9.azure-federated-77.sig";
const AZ_ACCESS: &str = "azure-vault-access-token-123";
const AZ_SECRETS: &[&str] = &[
    AZ_SECRET,
    AZ_JWT,
    AZ_ACCESS,
    "my-api-key",
    "my-app-secret",
    "my-old-app-secret",
];

/// Entra ID's token endpoint and Key Vault, as Microsoft documents them.
fn azure(r: &Received) -> Reply {
    if r.method == "POST" && r.path.ends_with("/oauth2/v2.0/token") {
        return azure_token(r);
    }
    if r.method == "GET"
        && let Some(rest) = r.path.strip_prefix("/example-vault-name/secrets/")
    {
        return azure_secret(r, rest);
    }
    Reply::json(
        404,
        &json!({"error": {"code": "NotFound", "message": "no such route"}}),
    )
}

fn entra_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({
            "error": error,
            "error_description": format!("{description}\r\nTrace ID: 5f1c0000\r\nCorrelation ID: 9a2b0000\r\nTimestamp: 2026-01-01 00:00:00Z"),
            "error_codes": [7_000_215],
        }),
    )
}

fn azure_token(r: &Received) -> Reply {
    let tenant = r
        .path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    if tenant != AZ_TENANT {
        return entra_error(
            400,
            "invalid_request",
            &format!("AADSTS90002: Tenant '{tenant}' not found."),
        );
    }
    let form_type = r.header("content-type").unwrap_or("");
    if !form_type.starts_with("application/x-www-form-urlencoded")
        || field(r, "grant_type").as_deref() != Some("client_credentials")
    {
        return entra_error(
            400,
            "invalid_request",
            "AADSTS900144: The request body must contain grant_type.",
        );
    }
    if field(r, "scope").as_deref() != Some("https://vault.azure.net/.default") {
        return entra_error(
            400,
            "invalid_scope",
            "AADSTS70011: The provided value for scope is not valid.",
        );
    }
    if field(r, "client_id").as_deref() != Some(AZ_CLIENT) {
        return entra_error(
            400,
            "unauthorized_client",
            "AADSTS700016: Application not found in the directory.",
        );
    }
    let proof = (
        field(r, "client_secret"),
        field(r, "client_assertion_type"),
        field(r, "client_assertion"),
    );
    let ok = match proof {
        (Some(s), None, None) => s == AZ_SECRET,
        (None, Some(t), Some(a)) => {
            t == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" && a == AZ_JWT
        }
        _ => false,
    };
    if !ok {
        return entra_error(
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        );
    }
    Reply::json(
        200,
        &json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": AZ_ACCESS}),
    )
}

fn keyvault_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

fn azure_secret(r: &Received, rest: &str) -> Reply {
    if r.param("api-version") != Some("7.4") {
        return keyvault_error(
            400,
            "BadParameter",
            "The specified version is not recognized.",
        );
    }
    if r.header("authorization") != Some(format!("Bearer {AZ_ACCESS}").as_str()) {
        return keyvault_error(
            401,
            "Unauthorized",
            "AKV10000: Request is missing a Bearer or PoP token.",
        );
    }
    let (name, version) = match rest.split_once('/') {
        Some((n, v)) => (n, Some(v)),
        None => (rest, None),
    };
    let value = match (name, version) {
        ("api-key", None) => "my-api-key",
        ("app-secret", None) => "my-app-secret",
        ("app-secret", Some("0f1e2d")) => "my-old-app-secret",
        _ => {
            return keyvault_error(
                404,
                "SecretNotFound",
                &format!("A secret with (name/id) {name} was not found in this key vault."),
            );
        }
    };
    Reply::json(
        200,
        &json!({
            "value": value,
            "id": format!("https://example-vault-name.vault.azure.net/secrets/{name}/0f1e2d"),
            "attributes": {"enabled": true, "created": 1_700_000_000, "updated": 1_700_000_000, "recoveryLevel": "Recoverable+Purgeable"},
        }),
    )
}

fn azure_env(url: &str, dir: &Path) -> Vec<(String, String)> {
    let token = dir.join("azure-token");
    std::fs::write(&token, format!("{AZ_JWT}\n")).unwrap();
    vec![
        ("AZURE_AUTHORITY_HOST".into(), url.into()),
        (
            "ESCC_ENDPOINT_AZURE_KEYVAULT".into(),
            format!("{url}/{{vault}}"),
        ),
        (
            "AZURE_FEDERATED_TOKEN_FILE".into(),
            token.to_str().unwrap().into(),
        ),
    ]
}

const AZURE: Case = Case {
    app: || docs_example("azure-secrets", ""),
    env: azure_env,
    serve: azure,
    is_read: |r| r.method == "GET",
    value: ("/azure/secrets/api-key", "my-api-key"),
    at: "azure-secrets: get[\"api-key\"]: secret \"api-key\" of vault \"example-vault-name\":",
    secrets: AZ_SECRETS,
};

#[test]
fn azure_docs_example_opens_and_runs_with_oidc() {
    let server = FakeServer::start(azure);
    let app = docs_example(
        "azure-secrets",
        "  environmentVariables:\n    API_KEY: ${azure.secrets[\"api-key\"]}\n    ARM_OIDC_TOKEN: ${azure.login.oidc.token}\n    ARM_CLIENT_ID: ${azure.login.clientId}\n",
    );
    let dir = project(&app);
    let env = azure_env(&server.url, dir.path());

    let v = open_shown(dir.path(), &vars(&env), AZ_SECRETS);
    // ESC's shapes: the login repeats the ids and carries the federated token.
    assert_eq!(
        v["azure"],
        json!({
            "login": {
                "clientId": AZ_CLIENT,
                "tenantId": AZ_TENANT,
                "subscriptionId": "/subscriptions/00000000-0000-0000-0000-000000000000",
                "oidc": {"token": AZ_JWT},
            },
            "secrets": {"api-key": "my-api-key", "app-secret": "my-app-secret"},
        })
    );
    let v = redacted(dir.path(), &vars(&env), AZ_SECRETS);
    assert_eq!(v["azure"]["login"]["oidc"]["token"], "[secret]");
    assert_eq!(v["azure"]["login"]["clientId"], AZ_CLIENT);
    assert_eq!(v["azure"]["secrets"]["app-secret"], "[secret]");

    let out = run_sh(
        dir.path(),
        &vars(&env),
        "test \"$API_KEY\" = my-api-key && test \"$ARM_OIDC_TOKEN\" = \"$(cat azure-token)\" && echo \"$API_KEY $ARM_OIDC_TOKEN $ARM_CLIENT_ID\"",
        AZ_SECRETS,
    );
    assert_eq!(out.trim(), format!("[secret] [secret] {AZ_CLIENT}"));

    // What reached the fake: the federated token as the client assertion, never the
    // secret form, and Key Vault reads with the API version.
    let got = server.received();
    let tokens: Vec<_> = got.iter().filter(|r| r.method == "POST").collect();
    assert!(!tokens.is_empty());
    for t in &tokens {
        assert_eq!(t.path, format!("/{AZ_TENANT}/oauth2/v2.0/token"));
        assert_eq!(field(t, "client_assertion").as_deref(), Some(AZ_JWT));
        assert_eq!(field(t, "client_secret"), None);
    }
    assert!(
        got.iter()
            .any(|r| r.path == "/example-vault-name/secrets/app-secret"
                && r.param("api-version") == Some("7.4"))
    );
}

#[test]
fn azure_client_secret_versions_and_errors() {
    let server = FakeServer::start(azure);
    let app = |secret: &str, get: &str| {
        format!(
            "values:
  login:
    fn::open::azure-login:
      clientId: {AZ_CLIENT}
      tenantId: {AZ_TENANT}
      subscriptionId: sub-1
      clientSecret:
        fn::secret: {secret}
  secrets:
    fn::open::azure-secrets:
      login: ${{login}}
      vault: example-vault-name
      get:
{get}"
        )
    };
    let get = "        old: {name: app-secret, version: 0f1e2d}\n        new: {name: app-secret}\n";
    let dir = project(&app(AZ_SECRET, get));
    // The default vault URL template, with the host suffix moved to the fake.
    let env = pairs(&[
        ("AZURE_AUTHORITY_HOST", &format!("{}/", server.url)),
        (
            "ESCC_ENDPOINT_AZURE_KEYVAULT",
            &format!("{}/{{vault}}", server.url),
        ),
    ]);
    let v = open_shown(dir.path(), &vars(&env), AZ_SECRETS);
    assert_eq!(
        v["secrets"],
        json!({"new": "my-app-secret", "old": "my-old-app-secret"})
    );
    assert_eq!(v["login"]["clientSecret"], AZ_SECRET);
    let v = redacted(dir.path(), &vars(&env), AZ_SECRETS);
    assert_eq!(v["login"]["clientSecret"], "[secret]");

    // A wrong client secret fails at the login, with Entra ID's message (first line).
    let wrong = "wrong-client-secret-000";
    let dir = project(&app(wrong, get));
    let err = open_fails(
        dir.path(),
        &vars(&env),
        &[wrong, AZ_SECRET, AZ_ACCESS, "Trace ID"],
    );
    assert!(
        says(
            &err,
            &format!(
                "azure-login: token request for client \"{AZ_CLIENT}\" in tenant \"{AZ_TENANT}\": invalid_client: AADSTS7000215: Invalid client secret provided. (HTTP 401)"
            )
        ),
        "{err}"
    );
    assert!(says(&err, "[app.yaml:3:5]"), "{err}");

    // A secret the vault does not hold.
    let dir = project(&app(AZ_SECRET, "        gone: {name: nope}\n"));
    let err = open_fails(dir.path(), &vars(&env), AZ_SECRETS);
    assert!(
        says(
            &err,
            "azure-secrets: get.gone: secret \"nope\" of vault \"example-vault-name\": SecretNotFound: A secret with (name/id) nope was not found in this key vault. (HTTP 404)"
        ),
        "{err}"
    );

    // Neither credential: said at the login, before any request.
    let dir = project(&format!(
        "values:\n  login:\n    fn::open::azure-login: {{clientId: {AZ_CLIENT}, tenantId: {AZ_TENANT}, subscriptionId: s}}\n"
    ));
    let err = open_fails(dir.path(), &vars(&env), AZ_SECRETS);
    assert!(
        says(&err, "azure-login: expected clientSecret, or oidc: true"),
        "{err}"
    );

    // OIDC without a token source names the variables to set.
    let dir = project(&docs_example("azure-login", ""));
    let err = open_fails(dir.path(), &vars(&env), AZ_SECRETS);
    assert!(
        says(
            &err,
            "azure-login: oidc: no identity token: set AZURE_FEDERATED_TOKEN_FILE, ESCC_OIDC_TOKEN_FILE or ESCC_OIDC_TOKEN_COMMAND"
        ),
        "{err}"
    );
}

#[test]
fn azure_a_refused_federated_token_is_not_shown() {
    // Entra ID refuses the assertion and quotes it back: the message keeps the error.
    let server = FakeServer::start(|r| {
        let assertion = field(r, "client_assertion").unwrap_or_default();
        entra_error(
            400,
            "invalid_client",
            &format!(
                "AADSTS700024: Client assertion {assertion} is not within its valid time range."
            ),
        )
    });
    let dir = project(&docs_example("azure-login", ""));
    let err = open_fails(
        dir.path(),
        &vars(&azure_env(&server.url, dir.path())),
        AZ_SECRETS,
    );
    assert!(
        says(
            &err,
            "invalid_client: AADSTS700024: Client assertion [secret] is not within"
        ),
        "{err}"
    );
}

#[test]
fn azure_throttled_once_is_retried() {
    AZURE.throttled_once();
}

#[test]
fn azure_throttled_always_is_reported() {
    AZURE.throttled_always();
}

#[test]
fn azure_hung_is_given_up_on() {
    AZURE.hung();
}

#[test]
fn azure_malformed_is_reported() {
    AZURE.malformed();
}

// --- Doppler ----------------------------------------------------------------------------

const DP_IDENTITY: &str = "00000000-0000-0000-0000-000000000000";
const DP_JWT: &str = "eyJhbGciOiJSUzI1NiJ9.doppler-identity-88.sig";
const DP_ACCESS: &str = "dp.said.doppler-access-456";
const DP_SECRETS: &[&str] = &[DP_JWT, DP_ACCESS, "my-api-key", "my-app-secret"];

fn doppler_error(status: u16, message: &str) -> Reply {
    Reply::json(status, &json!({"messages": [message], "success": false}))
}

/// Doppler's v3 API: the OIDC exchange and one config's secrets, as documented.
fn doppler(r: &Received) -> Reply {
    match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/v3/auth/oidc") => {
            let body = r.json();
            if !r
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json"))
            {
                return doppler_error(400, "Request body must be JSON");
            }
            if body["identity"] != DP_IDENTITY || body["token"] != DP_JWT {
                return doppler_error(401, "Unable to authenticate with the provided OIDC token");
            }
            Reply::json(
                200,
                &json!({"success": true, "token": DP_ACCESS, "expires_at": "2026-01-01T01:00:00.000Z"}),
            )
        }
        ("GET", "/v3/configs/config/secret") => {
            if r.header("authorization") != Some(format!("Bearer {DP_ACCESS}").as_str()) {
                return doppler_error(401, "Invalid Auth token");
            }
            if r.param("project") != Some("example-project") {
                return doppler_error(404, "Could not find requested project");
            }
            if r.param("config") != Some("dev") {
                return doppler_error(404, "Could not find requested config");
            }
            let name = r.param("name").unwrap_or("");
            let (raw, computed) = match name {
                "API_KEY" => ("my-api-key", "my-api-key"),
                // A reference: the computed value expands it.
                "APP_SECRET" => ("${OTHER}", "my-app-secret"),
                _ => return doppler_error(404, "Could not find requested secret"),
            };
            Reply::json(
                200,
                &json!({"success": true, "name": name, "value": {"raw": raw, "computed": computed, "note": ""}}),
            )
        }
        _ => doppler_error(404, "Not found"),
    }
}

fn doppler_env(url: &str, dir: &Path) -> Vec<(String, String)> {
    let token = dir.join("oidc-token");
    std::fs::write(&token, DP_JWT).unwrap();
    pairs(&[
        ("DOPPLER_API_HOST", url),
        ("ESCC_OIDC_TOKEN_FILE", token.to_str().unwrap()),
    ])
}

const DOPPLER: Case = Case {
    app: || docs_example("doppler-secrets", ""),
    env: doppler_env,
    serve: doppler,
    is_read: |r| r.method == "GET",
    value: ("/doppler/secrets/api-key", "my-api-key"),
    at: "doppler-secrets: get[\"api-key\"]: secret \"API_KEY\" of config example-project/dev:",
    secrets: DP_SECRETS,
};

#[test]
fn doppler_docs_example_opens_and_runs() {
    let server = FakeServer::start(doppler);
    let app = docs_example(
        "doppler-secrets",
        "  environmentVariables:\n    DOPPLER_TOKEN: ${doppler.login.accessToken}\n    APP_SECRET: ${doppler.secrets[\"app-secret\"]}\n",
    );
    let dir = project(&app);
    let env = doppler_env(&server.url, dir.path());
    let v = open_shown(dir.path(), &vars(&env), &[DP_JWT]);
    assert_eq!(
        v["doppler"],
        json!({
            "login": {"accessToken": DP_ACCESS},
            "secrets": {"api-key": "my-api-key", "app-secret": "my-app-secret"},
        })
    );
    let v = redacted(dir.path(), &vars(&env), DP_SECRETS);
    assert_eq!(v["doppler"]["login"]["accessToken"], "[secret]");
    let out = run_sh(
        dir.path(),
        &vars(&env),
        &format!(
            "test \"$APP_SECRET\" = my-app-secret && test \"$DOPPLER_TOKEN\" = {DP_ACCESS} && echo \"$APP_SECRET\""
        ),
        DP_SECRETS,
    );
    assert_eq!(out.trim(), "[secret]");
    let got = server.received();
    assert!(got.iter().any(|r| r.param("name") == Some("APP_SECRET")));
}

#[test]
fn doppler_takes_its_token_from_github_actions_for_its_api() {
    // GitHub Actions' token endpoint: the audience escc asks for is Doppler's base URL.
    let server = FakeServer::start(|r| {
        if r.path == "/gha" {
            let url = r
                .header("host")
                .map(|h| format!("http://{h}"))
                .unwrap_or_default();
            if r.header("authorization") != Some("Bearer gha-request-token")
                || r.param("audience") != Some(url.as_str())
            {
                return Reply::json(403, &json!({"message": "wrong audience"}));
            }
            return Reply::json(200, &json!({"value": DP_JWT}));
        }
        doppler(r)
    });
    let dir = project(&docs_example("doppler-login", ""));
    let env = pairs(&[
        ("ESCC_ENDPOINT_DOPPLER", &server.url),
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &format!("{}/gha?api-version=2.0", server.url),
        ),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gha-request-token"),
    ]);
    let v = open_shown(dir.path(), &vars(&env), &[DP_JWT, "gha-request-token"]);
    assert_eq!(v["doppler"]["login"]["accessToken"], DP_ACCESS);
}

#[test]
fn doppler_wrong_token_and_missing_secret() {
    let server = FakeServer::start(doppler);
    let app = |token: &str, name: &str| {
        format!(
            "values:
  secrets:
    fn::open::doppler-secrets:
      login:
        accessToken:
          fn::secret: {token}
      project: example-project
      config: dev
      get:
        key: {{name: {name}}}
"
        )
    };
    let env = pairs(&[("DOPPLER_API_HOST", &server.url)]);
    let wrong = "dp.st.wrong-token-999";
    let dir = project(&app(wrong, "API_KEY"));
    let err = open_fails(dir.path(), &vars(&env), &[wrong, "my-api-key"]);
    assert!(
        says(
            &err,
            "doppler-secrets: get.key: secret \"API_KEY\" of config example-project/dev: Invalid Auth token (HTTP 401)"
        ),
        "{err}"
    );
    let dir = project(&app(DP_ACCESS, "NOPE"));
    let err = open_fails(dir.path(), &vars(&env), DP_SECRETS);
    assert!(
        says(
            &err,
            "secret \"NOPE\" of config example-project/dev: Could not find requested secret (HTTP 404)"
        ),
        "{err}"
    );

    // An identity token Doppler refuses fails the login; the token is not shown.
    let dir = project(&docs_example("doppler-login", ""));
    let token = dir.path().join("other-token");
    std::fs::write(&token, "eyJ.someone-elses-token.sig").unwrap();
    let env = pairs(&[
        ("DOPPLER_API_HOST", &server.url),
        ("ESCC_OIDC_TOKEN_FILE", token.to_str().unwrap()),
    ]);
    let err = open_fails(dir.path(), &vars(&env), &["someone-elses-token", DP_ACCESS]);
    assert!(
        says(
            &err,
            &format!(
                "doppler-login: oidc: login as identity \"{DP_IDENTITY}\": Unable to authenticate with the provided OIDC token (HTTP 401)"
            )
        ),
        "{err}"
    );

    // A bad base URL override is named.
    let err = open_fails(dir.path(), &[("DOPPLER_API_HOST", "api.doppler.com")], &[]);
    assert!(
        says(
            &err,
            "DOPPLER_API_HOST: \"api.doppler.com\" is not an http:// or https:// URL"
        ),
        "{err}"
    );
}

#[test]
fn doppler_throttled_once_is_retried() {
    DOPPLER.throttled_once();
}

#[test]
fn doppler_throttled_always_is_reported() {
    DOPPLER.throttled_always();
}

#[test]
fn doppler_hung_is_given_up_on() {
    DOPPLER.hung();
}

#[test]
fn doppler_malformed_is_reported() {
    DOPPLER.malformed();
}

// --- Infisical --------------------------------------------------------------------------

const IN_PROJECT: &str = "xxxxxxx-bbbb-cccc-dddd-eeeeeeeeeeee";
const IN_IDENTITY: &str = "aaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const IN_CLIENT: &str = "ua-client-id-1";
const IN_CLIENT_SECRET: &str = "ua-client-secret-2468";
const IN_JWT: &str = "eyJhbGciOiJSUzI1NiJ9.infisical-identity-99.sig";
const IN_ACCESS: &str = "infisical-access-token-789";
const IN_SECRETS: &[&str] = &[
    IN_CLIENT_SECRET,
    IN_JWT,
    IN_ACCESS,
    "my-api-key",
    "my-app-secret",
    "db-pass-1",
];

fn infisical_error(status: u16, error: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"reqId": "req-1", "statusCode": status, "message": message, "error": error}),
    )
}

/// Infisical's API: Universal Auth and OIDC Auth logins, v4 secret reads.
fn infisical(r: &Received) -> Reply {
    let login = |ok: bool| {
        if ok {
            Reply::json(
                200,
                &json!({"accessToken": IN_ACCESS, "expiresIn": 7200, "accessTokenMaxTTL": 7200, "tokenType": "Bearer"}),
            )
        } else {
            infisical_error(401, "UnauthorizedError", "Invalid credentials")
        }
    };
    let body = r.json();
    match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/api/v1/auth/universal-auth/login") => {
            login(body["clientId"] == IN_CLIENT && body["clientSecret"] == IN_CLIENT_SECRET)
        }
        ("POST", "/api/v1/auth/oidc-auth/login") => {
            login(body["identityId"] == IN_IDENTITY && body["jwt"] == IN_JWT)
        }
        ("GET", path) if path.starts_with("/api/v4/secrets/") => {
            if r.header("authorization") != Some(format!("Bearer {IN_ACCESS}").as_str()) {
                return infisical_error(401, "UnauthorizedError", "Token missing or invalid");
            }
            if r.param("projectId") != Some(IN_PROJECT) {
                return infisical_error(404, "NotFound", "Project not found");
            }
            let key = &path["/api/v4/secrets/".len()..];
            let at = (
                r.param("environment").unwrap_or(""),
                r.param("secretPath").unwrap_or("/"),
                key,
            );
            let (value, hidden) = match (at, r.param("type").unwrap_or("shared")) {
                (("prod", "/", "api-key"), "shared") => ("my-api-key", false),
                (("dev", "/", "app-secret"), "shared") => ("my-app-secret", false),
                (("dev", "/db", "password"), "personal") => ("db-pass-1", false),
                (("dev", "/", "hidden"), "shared") => ("<hidden-by-infisical>", true),
                _ => {
                    return infisical_error(
                        404,
                        "NotFound",
                        &format!("Secret with name '{key}' not found"),
                    );
                }
            };
            Reply::json(
                200,
                &json!({"secret": {
                    "id": "s-1", "workspace": IN_PROJECT, "environment": at.0, "version": 1,
                    "type": r.param("type").unwrap_or("shared"), "secretKey": key, "secretValue": value,
                    "secretComment": "", "secretPath": at.1, "secretValueHidden": hidden, "tags": [],
                }}),
            )
        }
        _ => infisical_error(404, "NotFound", "Route not found"),
    }
}

fn infisical_env(url: &str, dir: &Path) -> Vec<(String, String)> {
    let token = dir.join("oidc-token");
    std::fs::write(&token, IN_JWT).unwrap();
    pairs(&[
        ("ESCC_ENDPOINT_INFISICAL", url),
        ("ESCC_OIDC_TOKEN_FILE", token.to_str().unwrap()),
    ])
}

const INFISICAL: Case = Case {
    app: || docs_example("infisical-secrets", ""),
    env: infisical_env,
    serve: infisical,
    is_read: |r| r.method == "GET",
    value: ("/infisical/secrets/api-key", "my-api-key"),
    at: "infisical-secrets: get[\"api-key\"]: secret \"api-key\" of project \"xxxxxxx-bbbb-cccc-dddd-eeeeeeeeeeee\", environment \"prod\", path \"/\":",
    secrets: IN_SECRETS,
};

#[test]
fn infisical_docs_example_opens_and_runs_with_oidc() {
    let server = FakeServer::start(infisical);
    let app = docs_example(
        "infisical-secrets",
        "  environmentVariables:\n    INFISICAL_TOKEN: ${infisical.login.accessToken}\n    API_KEY: ${infisical.secrets[\"api-key\"]}\n",
    );
    let dir = project(&app);
    let env = infisical_env(&server.url, dir.path());
    let v = open_shown(dir.path(), &vars(&env), &[IN_JWT]);
    assert_eq!(
        v["infisical"],
        json!({
            "login": {"accessToken": IN_ACCESS},
            "secrets": {"api-key": "my-api-key", "app-secret": "my-app-secret"},
        })
    );
    let v = redacted(dir.path(), &vars(&env), IN_SECRETS);
    assert_eq!(v["infisical"]["secrets"]["api-key"], "[secret]");
    let out = run_sh(
        dir.path(),
        &vars(&env),
        &format!(
            "test \"$INFISICAL_TOKEN\" = {IN_ACCESS} && test \"$API_KEY\" = my-api-key && echo \"$API_KEY\""
        ),
        IN_SECRETS,
    );
    assert_eq!(out.trim(), "[secret]");
    // Reads carry the documented defaults: the root path, shared secrets.
    let read = server
        .received()
        .into_iter()
        .find(|r| r.path == "/api/v4/secrets/app-secret")
        .unwrap();
    assert_eq!(
        (
            read.param("secretPath"),
            read.param("type"),
            read.param("environment")
        ),
        (Some("/"), Some("shared"), Some("dev"))
    );
}

#[test]
fn infisical_universal_auth_with_a_site_url_and_errors() {
    let server = FakeServer::start(infisical);
    let app = |secret: &str, get: &str| {
        format!(
            "values:
  login:
    fn::open::infisical-login:
      siteUrl: {url}/
      static:
        clientId: {IN_CLIENT}
        clientSecret:
          fn::secret: {secret}
  secrets:
    fn::open::infisical-secrets:
      login: ${{login}}
      get:
{get}",
            url = server.url
        )
    };
    let get = format!(
        "        db: {{projectId: {IN_PROJECT}, environment: dev, secretKey: password, secretPath: /db, type: personal}}\n"
    );
    // No endpoint override: the siteUrl input alone points at the fake.
    let dir = project(&app(IN_CLIENT_SECRET, &get));
    let v = open_shown(dir.path(), &[], &[IN_CLIENT_SECRET]);
    assert_eq!(
        v["login"],
        json!({"siteUrl": format!("{}/", server.url), "accessToken": IN_ACCESS})
    );
    assert_eq!(v["secrets"], json!({"db": "db-pass-1"}));
    redacted(dir.path(), &[], IN_SECRETS);

    let wrong = "wrong-ua-secret-111";
    let dir = project(&app(wrong, &get));
    let err = open_fails(dir.path(), &[], &[wrong, IN_CLIENT_SECRET, IN_ACCESS]);
    assert!(
        says(
            &err,
            &format!(
                "infisical-login: static: Universal Auth login of client \"{IN_CLIENT}\": UnauthorizedError: Invalid credentials (HTTP 401)"
            )
        ),
        "{err}"
    );

    let missing =
        format!("        gone: {{projectId: {IN_PROJECT}, environment: dev, secretKey: nope}}\n");
    let dir = project(&app(IN_CLIENT_SECRET, &missing));
    let err = open_fails(dir.path(), &[], IN_SECRETS);
    assert!(
        says(
            &err,
            "infisical-secrets: get.gone: secret \"nope\" of project \"xxxxxxx-bbbb-cccc-dddd-eeeeeeeeeeee\", environment \"dev\", path \"/\": NotFound: Secret with name 'nope' not found (HTTP 404)"
        ),
        "{err}"
    );

    // A value Infisical hides from the identity is not handed on as if it were one.
    let hidden =
        format!("        h: {{projectId: {IN_PROJECT}, environment: dev, secretKey: hidden}}\n");
    let dir = project(&app(IN_CLIENT_SECRET, &hidden));
    let err = open_fails(dir.path(), &[], IN_SECRETS);
    assert!(
        says(
            &err,
            "Infisical hides this secret's value from the identity (secretValueHidden)"
        ),
        "{err}"
    );

    // Both credentials: said before any request.
    let dir = project(&format!(
        "values:\n  login:\n    fn::open::infisical-login:\n      oidc: {{identityId: {IN_IDENTITY}}}\n      static: {{clientId: a, clientSecret: b}}\n"
    ));
    let err = open_fails(dir.path(), &[], &[]);
    assert!(
        says(
            &err,
            "infisical-login: give either static or oidc, not both"
        ),
        "{err}"
    );
}

#[test]
fn infisical_throttled_once_is_retried() {
    INFISICAL.throttled_once();
}

#[test]
fn infisical_throttled_always_is_reported() {
    INFISICAL.throttled_always();
}

#[test]
fn infisical_hung_is_given_up_on() {
    INFISICAL.hung();
}

#[test]
fn infisical_malformed_is_reported() {
    INFISICAL.malformed();
}

// --- 1Password --------------------------------------------------------------------------

const OP_TOKEN: &str = "ops_123ABC";
const SSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";

/// A stand-in for the 1Password CLI: it refuses a token in its arguments, a Connect
/// server in its environment, and any call but `op read --no-newline REF`; it needs the
/// documentation's service account token in `OP_SERVICE_ACCOUNT_TOKEN`, and answers the
/// documentation's references (a multi-line SSH key among them) as `op read` prints them.
const FAKE_OP: &str = r#"#!/bin/sh
fail() { echo "[ERROR] 2026/01/02 03:04:05 $*" >&2; exit 1; }
case "$*" in *ops_*) fail "a token in the arguments";; esac
[ -z "$OP_CONNECT_HOST$OP_CONNECT_TOKEN" ] || fail "a Connect server is configured"
[ "$1" = read ] && [ "$2" = --no-newline ] && [ $# -eq 3 ] || fail "unexpected arguments: $*"
[ "$OP_SERVICE_ACCOUNT_TOKEN" = ops_123ABC ] || fail "failed to authenticate with service account token $OP_SERVICE_ACCOUNT_TOKEN: (401) Unauthorized"
case "$3" in
  "op://Management/PagerDuty/Admin/email") printf %s "admin@example.com" ;;
  "op://dev/Stripe/publishable-key") printf %s "pk_test_51stripe" ;;
  "op://development/GitHub/Security/one-time password?attribute=otp") printf %s "123456" ;;
  "op://Private/ssh keys/ssh key/private key?ssh-format=openssh") printf '%s\n%s\n%s' "-----BEGIN OPENSSH PRIVATE KEY-----" "b3BlbnNzaC1rZXktdjEAAAAA" "-----END OPENSSH PRIVATE KEY-----" ;;
  "op://development/aws/Access Keys/access_key_id") printf %s "AKIAOPEXAMPLE" ;;
  "op://prod/yj3jfj2vzsbiwqabprflnl27lm/password") printf %s "gale-pass-7" ;;
  "op://hang/"*) exec sleep 30 ;;
  "op://binary/"*) printf '\377\376' ;;
  *) fail "could not read secret '$3': \"nope\" isn't an item in the vault" ;;
esac
"#;

/// A directory holding the stand-in `op`, for `PATH`.
fn fake_op() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let op = dir.path().join("op");
    std::fs::write(&op, FAKE_OP).unwrap();
    std::fs::set_permissions(&op, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// `PATH` with the stand-in first, and what `sh` needs after it.
fn op_path(bin: &Path) -> Vec<(String, String)> {
    pairs(&[("PATH", &path_with(&[bin]))])
}

const OP_VALUES: &[&str] = &[
    OP_TOKEN,
    "admin@example.com",
    "pk_test_51stripe",
    "AKIAOPEXAMPLE",
    "gale-pass-7",
    "b3BlbnNzaC1rZXktdjEAAAAA",
];

#[test]
fn onepassword_docs_example_opens_and_runs_through_op() {
    let bin = fake_op();
    let app = docs_example(
        "1password-secrets",
        "  environmentVariables:\n    AWS_ACCESS_KEY_ID: ${1password.secrets.nokk_whitespace_example}\n",
    );
    let dir = project(&app);
    let mut env = op_path(bin.path());
    // A Connect server in the caller's environment does not take over.
    env.extend(pairs(&[
        ("OP_CONNECT_HOST", "http://connect.invalid"),
        ("OP_CONNECT_TOKEN", "connect-tok"),
    ]));
    let v = open_shown(dir.path(), &vars(&env), &[OP_TOKEN]);
    assert_eq!(
        v["1password"]["secrets"],
        json!({
            "anna_sans_section_example": "pk_test_51stripe",
            "email_section_example": "admin@example.com",
            "gale_unique_id_example": "gale-pass-7",
            "nokk_whitespace_example": "AKIAOPEXAMPLE",
            "olaf_attr_example": "123456",
            "sven_ssh_example": SSH_KEY,
        })
    );
    let v = redacted(dir.path(), &vars(&env), OP_VALUES);
    assert_eq!(v["1password"]["secrets"]["sven_ssh_example"], "[secret]");
    let out = run_sh(
        dir.path(),
        &vars(&env),
        "test \"$AWS_ACCESS_KEY_ID\" = AKIAOPEXAMPLE && echo \"$AWS_ACCESS_KEY_ID\"",
        OP_VALUES,
    );
    assert_eq!(out.trim(), "[secret]");
}

/// A document reading `refs` with `token`.
fn op_app(token: &str, refs: &[(&str, &str)]) -> String {
    let get: String = refs
        .iter()
        .map(|(name, r)| format!("        {name}: {{ref: \"{r}\"}}"))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "values:\n  s:\n    fn::open::1password-secrets:\n      login:\n        serviceAccountToken:\n          fn::secret: {token}\n      get:\n{get}\n"
    )
}

#[test]
fn onepassword_errors_name_the_reference_and_hide_the_token() {
    let bin = fake_op();
    let env = op_path(bin.path());
    let email = ("email", "op://Management/PagerDuty/Admin/email");

    // A wrong token: op's message, which quotes it, has it masked.
    let wrong = "ops_wrongtoken999";
    let dir = project(&op_app(wrong, &[email]));
    let err = open_fails(
        dir.path(),
        &vars(&env),
        &[wrong, OP_TOKEN, "admin@example.com", "2026/01/02"],
    );
    assert!(
        says(
            &err,
            "1password-secrets: get.email: op read \"op://Management/PagerDuty/Admin/email\": op failed: failed to authenticate with service account token [secret]: (401) Unauthorized"
        ),
        "{err}"
    );

    // An item that does not exist.
    let dir = project(&op_app(OP_TOKEN, &[("x", "op://dev/nope/password")]));
    let err = open_fails(dir.path(), &vars(&env), &[OP_TOKEN]);
    assert!(
        says(
            &err,
            "get.x: op read \"op://dev/nope/password\": op failed: could not read secret 'op://dev/nope/password': \"nope\" isn't an item in the vault"
        ),
        "{err}"
    );

    // Not a reference: said before op runs.
    let dir = project(&op_app(OP_TOKEN, &[("x", "Management/PagerDuty")]));
    let err = open_fails(dir.path(), &vars(&env), &[OP_TOKEN]);
    assert!(
        says(
            &err,
            "get.x.ref: expected a secret reference op://vault/item/[section/]field"
        ),
        "{err}"
    );

    // A value that is not text.
    let dir = project(&op_app(OP_TOKEN, &[("x", "op://binary/item/field")]));
    let err = open_fails(dir.path(), &vars(&env), &[OP_TOKEN]);
    assert!(says(&err, "op printed a value that is not UTF-8"), "{err}");

    // An op that hangs is stopped at the provider timeout.
    let dir = project(&op_app(OP_TOKEN, &[email, ("x", "op://hang/item/field")]));
    let mut slow = env.clone();
    slow.extend(pairs(&[("ESCC_PROVIDER_TIMEOUT", "1")]));
    let start = Instant::now();
    let err = open_fails(dir.path(), &vars(&slow), &[OP_TOKEN]);
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    assert!(
        says(
            &err,
            "get.x: op read \"op://hang/item/field\": op did not finish within 1 s"
        ),
        "{err}"
    );

    // Offline: op is not run.
    let dir = project(&op_app(OP_TOKEN, &[email]));
    let mut offline = env.clone();
    offline.extend(pairs(&[("ESCC_OFFLINE", "1")]));
    let err = open_fails(dir.path(), &vars(&offline), &[OP_TOKEN]);
    assert!(says(&err, "1password-secrets: escc is offline"), "{err}");
}

#[test]
fn onepassword_without_op_is_not_available() {
    let empty = tempfile::tempdir().unwrap();
    let dir = project(&docs_example("1password-secrets", ""));
    let env = pairs(&[("PATH", empty.path().to_str().unwrap())]);
    let err = open_fails(dir.path(), &vars(&env), &[OP_TOKEN]);
    assert!(
        says(
            &err,
            "1password-secrets: not available: install the 1Password CLI (op) and put it on PATH"
        ),
        "{err}"
    );
}
