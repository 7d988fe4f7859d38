//! What each input of the built-in providers means, in a few words, from ESC's
//! documentation: the language server shows it when it completes or hovers an input, and
//! it is the `description` of the input schema (so a plugin's own descriptions are shown
//! the same way). Kept apart from the schemas (`schemas.rs`), which say what is valid.
//!
//! A path is the input's keys joined by `.`; `*` stands for a name the user chooses (an
//! entry of `get`, `read` or `access`). The empty path describes the provider. The
//! built-in rotators' inputs have their own table, in the same form.

use serde_json::Value as Json;

/// `(provider, path, description)`, by provider.
#[rustfmt::skip]
const TABLE: &[(&str, &str, &str)] = &[
    // --- AWS ---
    ("aws-login", "", "Logs in to AWS with static credentials or through OIDC (STS AssumeRoleWithWebIdentity); returns credentials for the other AWS providers."),
    ("aws-login", "oidc", "Assume a role with an identity token of the environment escc runs in (docs/providers.md, \"OIDC\")."),
    ("aws-login", "oidc.roleArn", "The ARN of the IAM role to assume."),
    ("aws-login", "oidc.sessionName", "The name of the role session (shows in CloudTrail)."),
    ("aws-login", "oidc.duration", "How long the credentials last, like `1h` or `90m` (default 2h; the role's maximum session duration must allow it)."),
    ("aws-login", "oidc.policyArns", "ARNs of managed policies that further restrict the session."),
    ("aws-login", "oidc.subjectAttributes", "Shapes Pulumi Cloud's token subject; no effect in escc, which does not issue the token."),
    ("aws-login", "static", "Credentials given as they are (no network)."),
    ("aws-login", "static.accessKeyId", "The access key ID."),
    ("aws-login", "static.secretAccessKey", "The secret access key (use fn::secret)."),
    ("aws-login", "static.sessionToken", "The session token of temporary credentials."),
    ("aws-secrets", "", "Reads secrets from AWS Secrets Manager (GetSecretValue); each name of `get` maps to the secret's string."),
    ("aws-secrets", "region", "The AWS region of the secrets, like `us-east-1`."),
    ("aws-secrets", "login", "AWS credentials, usually `${...}` of an aws-login open."),
    ("aws-secrets", "login.accessKeyId", "The access key ID."),
    ("aws-secrets", "login.secretAccessKey", "The secret access key."),
    ("aws-secrets", "login.sessionToken", "The session token of temporary credentials."),
    ("aws-secrets", "get", "The secrets to read: a name you choose for each, mapped to where it is."),
    ("aws-secrets", "get.*.secretId", "The secret's name or ARN."),
    ("aws-secrets", "get.*.versionId", "A version ID (default: the current version)."),
    ("aws-secrets", "get.*.versionStage", "A version stage label, like `AWSPREVIOUS`."),
    ("aws-parameter-store", "", "Reads parameters from AWS Systems Manager Parameter Store (GetParameter); each name of `get` maps to the value (a list for a StringList)."),
    ("aws-parameter-store", "region", "The AWS region of the parameters, like `us-east-1`."),
    ("aws-parameter-store", "login", "AWS credentials, usually `${...}` of an aws-login open."),
    ("aws-parameter-store", "login.accessKeyId", "The access key ID."),
    ("aws-parameter-store", "login.secretAccessKey", "The secret access key."),
    ("aws-parameter-store", "login.sessionToken", "The session token of temporary credentials."),
    ("aws-parameter-store", "get", "The parameters to read: a name you choose for each, mapped to where it is."),
    ("aws-parameter-store", "get.*.name", "The parameter's name, optionally with `:VERSION` or `:LABEL`."),
    ("aws-parameter-store", "get.*.decrypt", "Decrypt a SecureString (default false)."),
    // --- Azure ---
    ("azure-login", "", "Logs in to Azure with a client secret or through OIDC (federated credentials)."),
    ("azure-login", "clientId", "The application (client) ID."),
    ("azure-login", "tenantId", "The directory (tenant) ID."),
    ("azure-login", "subscriptionId", "The subscription ID."),
    ("azure-login", "clientSecret", "The client secret (use fn::secret); without it, OIDC is used."),
    ("azure-login", "oidc", "Log in with an identity token of the environment escc runs in (default false)."),
    ("azure-login", "subjectAttributes", "Shapes Pulumi Cloud's token subject; no effect in escc."),
    ("azure-secrets", "", "Reads secrets from Azure Key Vault; each name of `get` maps to the secret's value."),
    ("azure-secrets", "login", "Azure credentials, usually `${...}` of an azure-login open."),
    ("azure-secrets", "login.clientId", "The application (client) ID."),
    ("azure-secrets", "login.tenantId", "The directory (tenant) ID."),
    ("azure-secrets", "login.subscriptionId", "The subscription ID."),
    ("azure-secrets", "login.clientSecret", "The client secret."),
    ("azure-secrets", "login.oidc", "The identity token an OIDC login obtained."),
    ("azure-secrets", "login.oidc.token", "The identity token."),
    ("azure-secrets", "vault", "The Key Vault's name."),
    ("azure-secrets", "get", "The secrets to read: a name you choose for each, mapped to where it is."),
    ("azure-secrets", "get.*.name", "The secret's name in the vault."),
    ("azure-secrets", "get.*.version", "A version (default: the latest)."),
    // --- Doppler ---
    ("doppler-login", "", "Logs in to Doppler through OIDC (a service account identity)."),
    ("doppler-login", "oidc", "Log in with an identity token of the environment escc runs in."),
    ("doppler-login", "oidc.identityId", "The service account identity's ID."),
    ("doppler-login", "oidc.subjectAttributes", "Shapes Pulumi Cloud's token subject; no effect in escc."),
    ("doppler-secrets", "", "Reads secrets from Doppler; each name of `get` maps to the secret's value."),
    ("doppler-secrets", "login", "A Doppler access token, usually `${...}` of a doppler-login open."),
    ("doppler-secrets", "login.accessToken", "The Doppler access token."),
    ("doppler-secrets", "project", "The Doppler project."),
    ("doppler-secrets", "config", "The config of the project, like `dev` or `prd`."),
    ("doppler-secrets", "get", "The secrets to read: a name you choose for each, mapped to where it is."),
    ("doppler-secrets", "get.*.name", "The secret's name in the config."),
    // --- Google Cloud ---
    ("gcp-login", "", "Logs in to Google Cloud with an access token (optionally impersonating a service account) or through workload identity federation (OIDC)."),
    ("gcp-login", "project", "The project number."),
    ("gcp-login", "accessToken", "Use an access token you have."),
    ("gcp-login", "accessToken.accessToken", "The access token (use fn::secret)."),
    ("gcp-login", "accessToken.serviceAccount", "A service account to impersonate with it."),
    ("gcp-login", "accessToken.tokenLifetime", "How long the impersonated token lasts, like `1h`."),
    ("gcp-login", "oidc", "Exchange an identity token of the environment escc runs in through a workload identity pool."),
    ("gcp-login", "oidc.workloadPoolId", "The workload identity pool's ID."),
    ("gcp-login", "oidc.providerId", "The pool provider's ID."),
    ("gcp-login", "oidc.serviceAccount", "The service account to impersonate."),
    ("gcp-login", "oidc.region", "The region of a regional pool."),
    ("gcp-login", "oidc.tokenLifetime", "How long the access token lasts, like `1h`."),
    ("gcp-login", "oidc.subjectAttributes", "Shapes Pulumi Cloud's token subject; no effect in escc."),
    ("gcp-secrets", "", "Reads secrets from Google Cloud Secret Manager; each name of `access` maps to the payload."),
    ("gcp-secrets", "login", "Google Cloud credentials, usually `${...}` of a gcp-login open."),
    ("gcp-secrets", "login.project", "The project number (or ID)."),
    ("gcp-secrets", "login.accessToken", "The access token."),
    ("gcp-secrets", "login.tokenType", "The token's type, like `Bearer`."),
    ("gcp-secrets", "login.expiry", "When the token expires."),
    ("gcp-secrets", "access", "The secrets to read: a name you choose for each, mapped to where it is."),
    ("gcp-secrets", "access.*.name", "The secret's name."),
    ("gcp-secrets", "access.*.version", "A version number (default: latest)."),
    // --- Infisical ---
    ("infisical-login", "", "Logs in to Infisical with a machine identity (Universal Auth or OIDC)."),
    ("infisical-login", "siteUrl", "The Infisical server (default https://app.infisical.com)."),
    ("infisical-login", "oidc", "Log in with an identity token of the environment escc runs in."),
    ("infisical-login", "oidc.identityId", "The machine identity's ID."),
    ("infisical-login", "oidc.subjectAttributes", "Shapes Pulumi Cloud's token subject; no effect in escc."),
    ("infisical-login", "static", "Log in with a Universal Auth client ID and secret."),
    ("infisical-login", "static.clientId", "The Universal Auth client ID."),
    ("infisical-login", "static.clientSecret", "The Universal Auth client secret (use fn::secret)."),
    ("infisical-secrets", "", "Reads secrets from Infisical; each name of `get` maps to the secret's value."),
    ("infisical-secrets", "login", "Infisical credentials, usually `${...}` of an infisical-login open."),
    ("infisical-secrets", "login.siteUrl", "The Infisical server (default https://app.infisical.com)."),
    ("infisical-secrets", "login.accessToken", "The access token."),
    ("infisical-secrets", "get", "The secrets to read: a name you choose for each, mapped to where it is."),
    ("infisical-secrets", "get.*.projectId", "The project's ID."),
    ("infisical-secrets", "get.*.environment", "The environment's slug, like `dev`."),
    ("infisical-secrets", "get.*.secretKey", "The secret's key."),
    ("infisical-secrets", "get.*.secretPath", "The folder of the secret (default `/`)."),
    ("infisical-secrets", "get.*.type", "`shared` or `personal`."),
    // --- HashiCorp Vault ---
    ("vault-login", "", "Logs in to Vault (or OpenBao) with a token, making a short-lived child token, or with a JWT."),
    ("vault-login", "address", "The server's URL, like `https://vault.example.com:8200` (no path)."),
    ("vault-login", "namespace", "The Vault namespace."),
    ("vault-login", "jwt", "Log in with an identity token of the environment escc runs in (JWT auth)."),
    ("vault-login", "jwt.role", "The JWT auth role."),
    ("vault-login", "jwt.mount", "Where the JWT auth method is mounted (default `jwt`)."),
    ("vault-login", "jwt.subjectAttributes", "Shapes Pulumi Cloud's token subject; no effect in escc."),
    ("vault-login", "token", "Make a child token of a token you have."),
    ("vault-login", "token.token", "The parent token (use fn::secret)."),
    ("vault-login", "token.displayName", "The child token's display name (default `pulumi`)."),
    ("vault-login", "token.maxTtl", "The child token's maximum lifetime, like `1h`."),
    ("vault-login", "token.metadata", "Metadata to attach to the child token."),
    ("vault-login", "token.policies", "Policies of the child token (a subset of the parent's)."),
    ("vault-secrets", "", "Reads secrets from Vault (KV v1 or v2, or any read path); each name of `read` maps to what Vault returned."),
    ("vault-secrets", "login", "Vault credentials, usually `${...}` of a vault-login open."),
    ("vault-secrets", "login.address", "The server's URL (no path)."),
    ("vault-secrets", "login.namespace", "The Vault namespace."),
    ("vault-secrets", "login.token", "The Vault token."),
    ("vault-secrets", "read", "The paths to read: a name you choose for each, mapped to where it is."),
    ("vault-secrets", "read.*.path", "The path to read, like `secret/data/app` (KV v2) or `kv/app`."),
    ("vault-secrets", "read.*.field", "One field of the data, instead of all of it."),
    // --- 1Password ---
    ("1password-secrets", "", "Reads items from 1Password with a service account, through the `op` command."),
    ("1password-secrets", "login", "The service account."),
    ("1password-secrets", "login.serviceAccountToken", "The service account's token (use fn::secret)."),
    ("1password-secrets", "get", "The secrets to read: a name you choose for each, mapped to where it is."),
    ("1password-secrets", "get.*.ref", "A secret reference, like `op://vault/item/field`."),
];

/// `(rotator, path, description)` of the built-in rotators' inputs, as [`TABLE`].
#[rustfmt::skip]
const ROTATORS: &[(&str, &str, &str)] = &[
    ("aws-iam", "", "Rotates the access keys of an IAM user: deletes the state's `previous` key, creates a new `current` one, and keeps the old `current` as `previous`."),
    ("aws-iam", "login", "AWS credentials allowed to manage the user's keys, usually `${...}` of an aws-login open."),
    ("aws-iam", "login.accessKeyId", "The access key ID."),
    ("aws-iam", "login.secretAccessKey", "The secret access key."),
    ("aws-iam", "login.sessionToken", "The session token of temporary credentials."),
    ("aws-iam", "userArn", "The ARN of the IAM user whose keys rotate."),
    ("aws-iam", "region", "Chooses the AWS partition (`cn-...`, `us-gov-...`); IAM is global (default: the commercial partition)."),
    ("mysql", "", "Rotates the password of a MySQL or MariaDB user: two users take turns, so the previous credentials keep working until the next rotation."),
    ("mysql", "database", "The database and how to reach it."),
    ("mysql", "database.database", "The database to connect to."),
    ("mysql", "database.host", "The server's host name or address."),
    ("mysql", "database.port", "The server's port."),
    ("mysql", "database.managingUser", "The user that changes the passwords (it needs the right to)."),
    ("mysql", "database.managingUser.username", "The managing user's name."),
    ("mysql", "database.managingUser.password", "The managing user's password (use fn::secret)."),
    ("mysql", "database.connector", "Reach a database in a private network through a connector."),
    ("mysql", "database.connector.awsLambda", "ESC's AWS Lambda connector: escc connects to the database itself and refuses a rotation that names one."),
    ("mysql", "database.connector.awsLambda.login", "AWS credentials for invoking the Lambda."),
    ("mysql", "database.connector.awsLambda.login.accessKeyId", "The access key ID."),
    ("mysql", "database.connector.awsLambda.login.secretAccessKey", "The secret access key."),
    ("mysql", "database.connector.awsLambda.login.sessionToken", "The session token of temporary credentials."),
    ("mysql", "database.connector.awsLambda.lambdaArn", "The ARN of the connector Lambda."),
    ("mysql", "rotateUsers", "The two users whose passwords rotate in turn."),
    ("mysql", "rotateUsers.username1", "The first user (rotated first)."),
    ("mysql", "rotateUsers.username2", "The second user."),
    ("postgres", "", "Rotates the password of a PostgreSQL user: two users take turns, so the previous credentials keep working until the next rotation."),
    ("postgres", "database", "The database and how to reach it."),
    ("postgres", "database.database", "The database to connect to."),
    ("postgres", "database.host", "The server's host name or address."),
    ("postgres", "database.port", "The server's port."),
    ("postgres", "database.managingUser", "The user that changes the passwords (it needs the right to)."),
    ("postgres", "database.managingUser.username", "The managing user's name."),
    ("postgres", "database.managingUser.password", "The managing user's password (use fn::secret)."),
    ("postgres", "database.connector", "Reach a database in a private network through a connector."),
    ("postgres", "database.connector.awsLambda", "ESC's AWS Lambda connector: escc connects to the database itself and refuses a rotation that names one."),
    ("postgres", "database.connector.awsLambda.login", "AWS credentials for invoking the Lambda."),
    ("postgres", "database.connector.awsLambda.login.accessKeyId", "The access key ID."),
    ("postgres", "database.connector.awsLambda.login.secretAccessKey", "The secret access key."),
    ("postgres", "database.connector.awsLambda.login.sessionToken", "The session token of temporary credentials."),
    ("postgres", "database.connector.awsLambda.lambdaArn", "The ARN of the connector Lambda."),
    ("postgres", "rotateUsers", "The two users whose passwords rotate in turn."),
    ("postgres", "rotateUsers.username1", "The first user (rotated first)."),
    ("postgres", "rotateUsers.username2", "The second user."),
];

/// `schema` (the inputs of rotator `name`) with the descriptions of [`ROTATORS`].
pub(crate) fn describe_rotator(name: &str, schema: Json) -> Json {
    annotate(ROTATORS, name, schema)
}

/// `schema` (the inputs of provider `name`) with the descriptions of the table.
pub(crate) fn describe(name: &str, schema: Json) -> Json {
    annotate(TABLE, name, schema)
}

fn annotate(table: &[(&str, &str, &str)], name: &str, mut schema: Json) -> Json {
    for (_, path, text) in table.iter().filter(|(p, _, _)| *p == name) {
        if let Some(Json::Object(node)) = at(&mut schema, path) {
            node.insert("description".to_owned(), Json::from(*text));
        }
    }
    schema
}

/// The schema of the input at `path` (see the module's documentation).
fn at<'s>(schema: &'s mut Json, path: &str) -> Option<&'s mut Json> {
    let mut node = schema;
    for key in path.split('.').filter(|k| !k.is_empty()) {
        node = if key == "*" {
            node.get_mut("additionalProperties")?
        } else {
            node.get_mut("properties")?.get_mut(key)?
        };
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that every property below `schema` has a description.
    fn walk(name: &str, schema: &Json, path: &str) {
        if let Some(Json::Object(props)) = schema.get("properties") {
            for (k, s) in props {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                assert!(s.get("description").is_some(), "{name} {p}");
                walk(name, s, &p);
            }
        }
        if let Some(s @ Json::Object(_)) = schema.get("additionalProperties") {
            walk(name, s, &format!("{path}.*"));
        }
    }

    #[test]
    fn every_description_names_an_input_and_every_input_has_one() {
        for (name, path, _) in TABLE {
            let (inputs, _) = super::super::builtin_schema(name)
                .unwrap_or_else(|| panic!("{name} is not a built-in provider"));
            let mut raw = inputs.clone();
            assert!(
                at(&mut raw, path).is_some_and(|n| n.get("description").is_some()),
                "{name} {path:?}"
            );
        }
        // Every property of every built-in provider's inputs is described.
        for name in super::super::builtin_names() {
            let (inputs, _) = super::super::builtin_schema(name).unwrap();
            assert!(inputs.get("description").is_some(), "{name}");
            walk(name, &inputs, "");
        }
        // The same for the rotators.
        for (name, path, _) in ROTATORS {
            let (inputs, _, _) = super::super::builtin_rotator_schema(name)
                .unwrap_or_else(|| panic!("{name} is not a built-in rotator"));
            let mut raw = inputs.clone();
            assert!(
                at(&mut raw, path).is_some_and(|n| n.get("description").is_some()),
                "{name} {path:?}"
            );
        }
        for name in super::super::builtin_rotator_names() {
            let (inputs, _, _) = super::super::builtin_rotator_schema(name).unwrap();
            assert!(inputs.get("description").is_some(), "{name}");
            walk(name, &inputs, "");
        }
    }
}
