//! The input and output JSON Schemas of ESC's built-in providers, as ESC's documentation
//! (`pulumi/docs`, `content/docs/esc/integrations/**`) gives them: one table, one row per
//! provider.
//!
//! Conventions, so that a check flags what ESC would refuse without failing what ESC
//! accepts:
//! - An object the documentation lists properties for is closed
//!   (`additionalProperties: false`): a misspelt `roleArn` is an error at its key. The
//!   properties it does not mark "[Optional]" are `required`.
//! - A secret provider's output maps the user's names (the keys of `get`, `read` or
//!   `access`) to values, so it is an open map; which names it has depends on the inputs,
//!   which a schema cannot say.
//! - Where the documentation contradicts itself, the schema accepts what its own examples
//!   do (each such place says why).

use serde_json::{Value as Json, json};

/// One built-in provider: its name and the JSON Schemas of its inputs and outputs.
pub(crate) struct Row {
    /// The name in `fn::open::NAME`.
    pub(crate) name: &'static str,
    /// The inputs' schema.
    pub(crate) inputs: fn() -> Json,
    /// The outputs' schema.
    pub(crate) outputs: fn() -> Json,
}

/// Every built-in provider, sorted by name.
pub(crate) const TABLE: &[Row] = &[
    Row {
        name: "1password-secrets",
        inputs: onepassword_secrets,
        outputs: strings_by_name,
    },
    Row {
        name: "aws-login",
        inputs: aws_login,
        outputs: aws_credentials,
    },
    Row {
        name: "aws-parameter-store",
        inputs: aws_parameter_store,
        outputs: parameters_by_name,
    },
    Row {
        name: "aws-secrets",
        inputs: aws_secrets,
        outputs: strings_by_name,
    },
    Row {
        name: "azure-login",
        inputs: azure_login,
        outputs: azure_credentials,
    },
    Row {
        name: "azure-secrets",
        inputs: azure_secrets,
        outputs: strings_by_name,
    },
    Row {
        name: "doppler-login",
        inputs: doppler_login,
        outputs: doppler_credentials,
    },
    Row {
        name: "doppler-secrets",
        inputs: doppler_secrets,
        outputs: strings_by_name,
    },
    Row {
        name: "gcp-login",
        inputs: gcp_login,
        outputs: gcp_credentials,
    },
    Row {
        name: "gcp-secrets",
        inputs: gcp_secrets,
        outputs: strings_by_name,
    },
    Row {
        name: "infisical-login",
        inputs: infisical_login,
        outputs: infisical_credentials,
    },
    Row {
        name: "infisical-secrets",
        inputs: infisical_secrets,
        outputs: strings_by_name,
    },
    Row {
        name: "vault-login",
        inputs: vault_login,
        outputs: vault_credentials,
    },
    Row {
        name: "vault-secrets",
        inputs: vault_secrets,
        outputs: vault_values_by_name,
    },
];

/// The row of provider `name`.
pub(crate) fn row(name: &str) -> Option<&'static Row> {
    TABLE.iter().find(|r| r.name == name)
}

/// One built-in rotator: its name and the JSON Schemas of its inputs, state and outputs.
pub(crate) struct RotatorRow {
    /// The name in `fn::rotate::NAME`.
    pub(crate) name: &'static str,
    /// The inputs' schema.
    pub(crate) inputs: fn() -> Json,
    /// The state's schema (the evaluator adds `null`, for a call without `state`).
    pub(crate) state: fn() -> Json,
    /// The outputs' schema.
    pub(crate) outputs: fn() -> Json,
}

/// Every built-in rotator, sorted by name (`content/docs/esc/integrations/rotated-secrets/`).
pub(crate) const ROTATORS: &[RotatorRow] = &[
    RotatorRow {
        name: "aws-iam",
        inputs: aws_iam,
        state: aws_iam_state,
        outputs: aws_iam_state,
    },
    RotatorRow {
        name: "mysql",
        inputs: database_rotator,
        state: user_credentials_state,
        outputs: user_credentials_state,
    },
    RotatorRow {
        name: "postgres",
        inputs: database_rotator,
        state: user_credentials_state,
        outputs: user_credentials_state,
    },
];

/// The row of rotator `name`.
pub(crate) fn rotator_row(name: &str) -> Option<&'static RotatorRow> {
    ROTATORS.iter().find(|r| r.name == name)
}

fn string() -> Json {
    json!({"type": "string"})
}

fn boolean() -> Json {
    json!({"type": "boolean"})
}

fn strings() -> Json {
    json!({"type": "array", "items": {"type": "string"}})
}

/// A closed object: `required` lists the properties that must be present, `optional` the
/// others.
fn record(required: &[(&str, Json)], optional: &[(&str, Json)]) -> Json {
    let mut properties = serde_json::Map::new();
    for (k, v) in required.iter().chain(optional) {
        properties.insert((*k).to_owned(), v.clone());
    }
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = required.iter().map(|(k, _)| json!(k)).collect();
    }
    schema
}

/// An object from the user's names to `value`.
#[allow(
    clippy::needless_pass_by_value,
    reason = "every caller builds the schema for it"
)]
fn map_of(value: Json) -> Json {
    json!({"type": "object", "additionalProperties": value})
}

// --- AWS -------------------------------------------------------------------------------

/// `aws-login`'s outputs, and the `login` input of `aws-secrets` and `aws-parameter-store`
/// (`AWSSecretsLogin`, `AWSParameterStoreLogin`, `AWSLoginStatic`: the same three properties).
fn aws_credentials() -> Json {
    record(
        &[("accessKeyId", string()), ("secretAccessKey", string())],
        &[("sessionToken", string())],
    )
}

fn aws_login() -> Json {
    let oidc = record(
        &[("roleArn", string()), ("sessionName", string())],
        &[
            ("duration", string()),
            ("policyArns", strings()),
            ("subjectAttributes", strings()),
        ],
    );
    record(&[], &[("oidc", oidc), ("static", aws_credentials())])
}

fn aws_secrets() -> Json {
    let get = record(
        &[("secretId", string())],
        &[("versionId", string()), ("versionStage", string())],
    );
    record(
        &[
            ("region", string()),
            ("login", aws_credentials()),
            ("get", map_of(get)),
        ],
        &[],
    )
}

fn aws_parameter_store() -> Json {
    let get = record(&[("name", string())], &[("decrypt", boolean())]);
    record(
        &[
            ("region", string()),
            ("login", aws_credentials()),
            ("get", map_of(get)),
        ],
        &[],
    )
}

/// A parameter's value: a string, or a list for a `StringList` parameter (the
/// documentation's example output shows `myList` as a list).
fn parameters_by_name() -> Json {
    map_of(json!({"anyOf": [string(), strings()]}))
}

// --- Rotators ---------------------------------------------------------------------------

/// `aws-iam`'s inputs: `login` is `AWSIAMLogin` (`aws-login`'s outputs).
fn aws_iam() -> Json {
    record(
        &[("login", aws_credentials()), ("userArn", string())],
        &[("region", string())],
    )
}

/// `aws-iam`'s state and outputs: `current` and `previous` access keys. The documentation
/// lists `createDate` among `AWSIAMOutputs`, but its example of an initial state gives only
/// the key and its secret, so `createDate` is optional; a state before the first rotation
/// has neither key.
fn aws_iam_state() -> Json {
    let key = record(
        &[("accessKeyId", string()), ("secretAccessKey", string())],
        &[("createDate", string())],
    );
    record(&[], &[("current", key.clone()), ("previous", key)])
}

/// `postgres`' and `mysql`'s inputs (`DatabaseConfig`, `RotateUsers`). `port` is an "int"
/// in the documentation; ESC's schemas have only `number`.
fn database_rotator() -> Json {
    let aws_lambda = record(
        &[("login", aws_credentials()), ("lambdaArn", string())],
        &[],
    );
    let connector = record(&[("awsLambda", aws_lambda)], &[]);
    let database = record(
        &[
            ("database", string()),
            ("host", string()),
            ("port", json!({"type": "number"})),
            ("managingUser", user_credential()),
        ],
        &[("connector", connector)],
    );
    let users = record(&[("username1", string()), ("username2", string())], &[]);
    record(&[("database", database), ("rotateUsers", users)], &[])
}

/// `UserCredential`: a database user and its password.
fn user_credential() -> Json {
    record(&[("username", string()), ("password", string())], &[])
}

/// `postgres`' and `mysql`'s state and outputs: the `current` and `previous` users (each
/// optional: the state fills up over the first two rotations).
fn user_credentials_state() -> Json {
    record(
        &[],
        &[
            ("current", user_credential()),
            ("previous", user_credential()),
        ],
    )
}

// --- Azure -----------------------------------------------------------------------------

/// `azure-login`'s outputs, and `azure-secrets`' `login` input (`AzureSecretsLogin`).
fn azure_credentials() -> Json {
    record(
        &[
            ("clientId", string()),
            ("tenantId", string()),
            ("subscriptionId", string()),
        ],
        &[
            ("clientSecret", string()),
            ("oidc", record(&[("token", string())], &[])),
        ],
    )
}

fn azure_login() -> Json {
    record(
        &[
            ("clientId", string()),
            ("tenantId", string()),
            ("subscriptionId", string()),
        ],
        &[
            ("clientSecret", string()),
            ("oidc", boolean()),
            ("subjectAttributes", strings()),
        ],
    )
}

fn azure_secrets() -> Json {
    let get = record(&[("name", string())], &[("version", string())]);
    record(
        &[
            ("login", azure_credentials()),
            ("vault", string()),
            ("get", map_of(get)),
        ],
        &[],
    )
}

// --- Doppler ---------------------------------------------------------------------------

/// `doppler-login`'s outputs, and `doppler-secrets`' `login` input (`DopplerSecretsLogin`).
fn doppler_credentials() -> Json {
    record(&[("accessToken", string())], &[])
}

/// `doppler-login` (the `doppler-secrets` example opens it, so it is in the table too).
fn doppler_login() -> Json {
    let oidc = record(
        &[("identityId", string())],
        &[("subjectAttributes", strings())],
    );
    record(&[("oidc", oidc)], &[])
}

fn doppler_secrets() -> Json {
    let get = record(&[("name", string())], &[]);
    record(
        &[
            ("login", doppler_credentials()),
            ("project", string()),
            ("config", string()),
            ("get", map_of(get)),
        ],
        &[],
    )
}

// --- Google Cloud ----------------------------------------------------------------------

/// `gcp-login`'s outputs. The documentation's table types `project` as a string, but its
/// example output shows the number the input gave (`"project": 111111111111`), and the
/// input is a number: it is a number here.
fn gcp_credentials() -> Json {
    record(
        &[
            ("project", json!({"type": "number"})),
            ("accessToken", string()),
            ("tokenType", string()),
        ],
        &[("expiry", string())],
    )
}

fn gcp_login() -> Json {
    let access_token = record(
        &[("accessToken", string())],
        &[("serviceAccount", string()), ("tokenLifetime", string())],
    );
    let oidc = record(
        &[
            ("workloadPoolId", string()),
            ("providerId", string()),
            ("serviceAccount", string()),
        ],
        &[
            ("region", string()),
            ("tokenLifetime", string()),
            ("subjectAttributes", strings()),
        ],
    );
    record(
        &[("project", json!({"type": "number"}))],
        &[("accessToken", access_token), ("oidc", oidc)],
    )
}

fn gcp_secrets() -> Json {
    // GCPSecretsLogin types `project` as a string, yet the documented example passes
    // `${gcp.login}`, whose project is a number: both are accepted.
    let login = record(
        &[
            ("project", json!({"anyOf": [{"type": "number"}, string()]})),
            ("accessToken", string()),
            ("tokenType", string()),
        ],
        &[("expiry", string())],
    );
    let access = record(&[("name", string())], &[("version", string())]);
    record(&[("login", login), ("access", map_of(access))], &[])
}

// --- Infisical -------------------------------------------------------------------------

/// `infisical-login`'s outputs, and `infisical-secrets`' `login` input
/// (`InfisicalSecretsLogin`).
fn infisical_credentials() -> Json {
    record(&[("accessToken", string())], &[("siteUrl", string())])
}

fn infisical_login() -> Json {
    let oidc = record(
        &[("identityId", string())],
        &[("subjectAttributes", strings())],
    );
    let static_ = record(&[("clientId", string()), ("clientSecret", string())], &[]);
    record(
        &[],
        &[("siteUrl", string()), ("oidc", oidc), ("static", static_)],
    )
}

fn infisical_secrets() -> Json {
    let get = record(
        &[
            ("projectId", string()),
            ("environment", string()),
            ("secretKey", string()),
        ],
        &[
            ("secretPath", string()),
            (
                "type",
                json!({"type": "string", "enum": ["shared", "personal"]}),
            ),
        ],
    );
    record(
        &[("login", infisical_credentials()), ("get", map_of(get))],
        &[],
    )
}

// --- HashiCorp Vault -------------------------------------------------------------------

/// `vault-login`'s outputs, and `vault-secrets`' `login` input (`VaultSecretsLogin`).
fn vault_credentials() -> Json {
    record(
        &[("address", string()), ("token", string())],
        &[("namespace", string())],
    )
}

fn vault_login() -> Json {
    let jwt = record(
        &[("role", string())],
        &[("mount", string()), ("subjectAttributes", strings())],
    );
    let token = record(
        &[("token", string())],
        &[
            ("displayName", string()),
            ("maxTtl", string()),
            ("metadata", json!({"type": "object"})),
            ("policies", strings()),
        ],
    );
    record(
        &[("address", string())],
        &[("namespace", string()), ("jwt", jwt), ("token", token)],
    )
}

fn vault_secrets() -> Json {
    let read = record(&[("path", string())], &[("field", string())]);
    record(
        &[("login", vault_credentials()), ("read", map_of(read))],
        &[],
    )
}

/// What Vault returned for each path: its raw `data` (for KV v2, `{data, metadata}`), or
/// one field of it, so any value.
fn vault_values_by_name() -> Json {
    map_of(json!(true))
}

// --- 1Password and the common outputs --------------------------------------------------

fn onepassword_secrets() -> Json {
    let login = record(&[("serviceAccountToken", string())], &[]);
    let get = record(&[("ref", string())], &[]);
    record(&[("login", login), ("get", map_of(get))], &[])
}

/// A map from the user's names to secret strings.
fn strings_by_name() -> Json {
    map_of(string())
}
