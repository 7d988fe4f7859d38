//! The AWS built-in providers: `aws-login` (static credentials, or OIDC through STS
//! `AssumeRoleWithWebIdentity`), `aws-secrets` (Secrets
//! Manager `GetSecretValue`) and `aws-parameter-store` (SSM `GetParameter`), over HTTPS with
//! `SigV4` signing (docs/providers.md).
//!
//! Endpoints are AWS's (`https://secretsmanager.REGION.amazonaws.com`) unless the standard
//! overrides of the AWS SDKs say otherwise: `AWS_ENDPOINT_URL_<SERVICE>` (for example
//! `AWS_ENDPOINT_URL_SECRETS_MANAGER`), then `AWS_ENDPOINT_URL`, then escc's own
//! (`ESCC_ENDPOINT_AWS_SSM`, `[endpoints] aws-ssm`, ...). `ESCC_AWS_TIMEOUT` bounds
//! each request (seconds, default 30).
//!
//! No error this module returns quotes a response body, except the error type and message
//! of a well-formed AWS error, with the secret texts of the inputs masked; nothing it
//! returns or prints in `Debug` holds a credential.

use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use super::net::{self, Network};
use super::shared::{
    self, bool_at, entries, join, optional_string, optional_strings, secret_string, string_at,
};
use crate::eval::{Value, ValueKind};

/// How long `aws-login`'s OIDC credentials last when `duration` is not given (ESC's 2h).
const DEFAULT_SESSION_SECONDS: u64 = 7200;

/// Opens built-in provider `name` if this module serves it.
pub(super) fn open(name: &str, inputs: &Value, network: &Network) -> Option<Result<Value, String>> {
    let result = match name {
        "aws-login" => login(inputs, network),
        "aws-secrets" => secrets(inputs, network),
        "aws-parameter-store" => parameters(inputs, network),
        _ => return None,
    };
    // Whatever an error says, the inputs' secret texts never show in it.
    Some(shared::finish(name, inputs, result))
}

/// AWS credentials. `Debug` shows only the access key id.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[secret]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[secret]"),
            )
            .finish()
    }
}

impl Credentials {
    /// The credentials at `path` of the inputs (`login`, `static`): an object with
    /// `accessKeyId`, `secretAccessKey` and an optional `sessionToken`.
    pub(crate) fn from_inputs(v: Option<&Value>, path: &str) -> Result<Credentials, String> {
        let v = v.ok_or_else(|| format!("{path}: missing"))?;
        let access_key_id = string_at(v, "accessKeyId", path)?;
        let secret_access_key = string_at(v, "secretAccessKey", path)?;
        let session_token = optional_string(v, "sessionToken", path)?;
        Ok(Credentials {
            access_key_id,
            secret_access_key,
            session_token,
        })
    }
}

/// `aws-login`: ESC's `static` shape (`oidc` is not implemented yet).
fn login(inputs: &Value, network: &Network) -> Result<Value, String> {
    if let Some(s) = inputs.get("static") {
        let creds = Credentials::from_inputs(Some(s), "static")?;
        let key_secret = s.get("accessKeyId").is_some_and(|k| k.secret);
        let mut out = vec![
            (
                "accessKeyId".to_owned(),
                Value {
                    secret: key_secret,
                    ..Value::string(creds.access_key_id)
                },
            ),
            (
                "secretAccessKey".to_owned(),
                secret_string(creds.secret_access_key),
            ),
        ];
        if let Some(t) = creds.session_token {
            out.push(("sessionToken".to_owned(), secret_string(t)));
        }
        return Ok(Value::object(out));
    }
    if let Some(oidc) = inputs.get("oidc") {
        return login_oidc(oidc, network);
    }
    Err("expected `static` (or `oidc`) credentials".to_owned())
}

/// `aws-login` with `oidc`: STS `AssumeRoleWithWebIdentity` with the token in the file
/// `AWS_WEB_IDENTITY_TOKEN_FILE` names (escc issues no token itself); the temporary
/// credentials, all secret.
fn login_oidc(oidc: &Value, network: &Network) -> Result<Value, String> {
    let role_arn = string_at(oidc, "roleArn", "oidc")?;
    let session_name = string_at(oidc, "sessionName", "oidc")?;
    let duration = shared::duration_at(oidc, "duration", "oidc", DEFAULT_SESSION_SECONDS)?;
    let token = super::oidc::identity_token(
        network,
        "sts.amazonaws.com",
        Some("AWS_WEB_IDENTITY_TOKEN_FILE"),
    )
    .map_err(|e| format!("oidc: {e}"))?;
    let token = token.as_str();
    let mut form = vec![
        ("Action".to_owned(), "AssumeRoleWithWebIdentity".to_owned()),
        ("Version".to_owned(), "2011-06-15".to_owned()),
        ("RoleArn".to_owned(), role_arn.clone()),
        ("RoleSessionName".to_owned(), session_name),
        ("WebIdentityToken".to_owned(), token.to_owned()),
        ("DurationSeconds".to_owned(), duration.to_string()),
    ];
    let arns = optional_strings(oidc, "policyArns", "oidc")?.unwrap_or_default();
    for (i, arn) in arns.into_iter().enumerate() {
        form.push((format!("PolicyArns.member.{}.arn", i + 1), arn));
    }
    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|r| !r.is_empty()))
        .unwrap_or_else(|| "us-east-1".to_owned());
    let endpoint = Endpoint::resolve("sts", "STS", &region, network)?;
    let creds = Client::new(network)?
        .assume_role_with_web_identity(&endpoint, &form)
        .map_err(|e| {
            // The token is a credential: never in a message.
            let e = shared::hide(&e, &[token]);
            format!("oidc: AssumeRoleWithWebIdentity {role_arn:?}: {e}")
        })?;
    Ok(Value::object([
        ("accessKeyId".to_owned(), secret_string(creds.access_key_id)),
        (
            "secretAccessKey".to_owned(),
            secret_string(creds.secret_access_key),
        ),
        (
            "sessionToken".to_owned(),
            secret_string(creds.session_token.unwrap_or_default()),
        ),
    ]))
}

/// `aws-secrets`: `GetSecretValue` for each entry of `get`; the output maps each name to
/// the secret's `SecretString`, secret.
fn secrets(inputs: &Value, network: &Network) -> Result<Value, String> {
    let region = string_at(inputs, "region", "")?;
    let creds = Credentials::from_inputs(inputs.get("login"), "login")?;
    let endpoint = Endpoint::resolve("secretsmanager", "SECRETS_MANAGER", &region, network)?;
    let client = Client::new(network)?;
    let mut out = Vec::new();
    for (name, request) in entries(inputs, "get")? {
        let path = join("get", name);
        let secret_id = string_at(request, "secretId", &path)?;
        let mut body = json!({ "SecretId": secret_id });
        for (input, field) in [("versionId", "VersionId"), ("versionStage", "VersionStage")] {
            if request.get(input).is_some() {
                body[field] = Json::String(string_at(request, input, &path)?);
            }
        }
        let response = client
            .call(
                &endpoint,
                &region,
                &creds,
                "secretsmanager.GetSecretValue",
                &body,
            )
            .map_err(|e| format!("{path}: GetSecretValue {secret_id:?}: {e}"))?;
        let value = match response.get("SecretString") {
            Some(Json::String(s)) => s.clone(),
            Some(_) => {
                return Err(format!(
                    "{path}: GetSecretValue {secret_id:?}: the response's SecretString is not a string"
                ));
            }
            None if response.get("SecretBinary").is_some() => {
                return Err(format!(
                    "{path}: secret {secret_id:?} is binary (SecretBinary); escc reads only SecretString, as ESC does"
                ));
            }
            None => {
                return Err(format!(
                    "{path}: GetSecretValue {secret_id:?}: the response has no SecretString"
                ));
            }
        };
        out.push((name.clone(), secret_string(value)));
    }
    Ok(Value::object(out))
}

/// `aws-parameter-store`: SSM `GetParameter` for each entry of `get` (`name` may carry a
/// `:version` or `:label` selector, which SSM reads itself; `decrypt` defaults to false, as
/// in AWS's API). The output maps each name to the value, secret; a `StringList` becomes a
/// list of strings.
fn parameters(inputs: &Value, network: &Network) -> Result<Value, String> {
    let region = string_at(inputs, "region", "")?;
    let creds = Credentials::from_inputs(inputs.get("login"), "login")?;
    let endpoint = Endpoint::resolve("ssm", "SSM", &region, network)?;
    let client = Client::new(network)?;
    let mut out = Vec::new();
    for (name, request) in entries(inputs, "get")? {
        let path = join("get", name);
        let parameter = string_at(request, "name", &path)?;
        let decrypt = bool_at(request, "decrypt", &path, false)?;
        let body = json!({ "Name": parameter, "WithDecryption": decrypt });
        let fail = |e: &str| format!("{path}: GetParameter {parameter:?}: {e}");
        let response = client
            .call(&endpoint, &region, &creds, "AmazonSSM.GetParameter", &body)
            .map_err(|e| fail(&e))?;
        let p = &response["Parameter"];
        let Some(text) = p["Value"].as_str() else {
            return Err(fail("the response has no Parameter.Value string"));
        };
        let mut value = if p["Type"].as_str() == Some("StringList") {
            Value::new(ValueKind::Array(
                text.split(',').map(Value::string).collect(),
            ))
        } else {
            Value::string(text)
        };
        // A list's items are secret too: `${params.hosts[0]}` must not print in plain.
        value.make_secret();
        out.push((name.clone(), value));
    }
    Ok(Value::object(out))
}

/// Where a service's requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `scheme://authority`, without a trailing `/`.
    pub(crate) base: String,
    /// The `Host` header (the authority).
    pub(crate) host: String,
    /// The `SigV4` service name.
    pub(crate) service: &'static str,
}

impl Endpoint {
    /// The endpoint of `service` (its SDK environment suffix `env`, e.g. `SECRETS_MANAGER`)
    /// in `region`, honouring the overrides (see [`Endpoint::overridden`]).
    pub(crate) fn resolve(
        service: &'static str,
        env: &str,
        region: &str,
        network: &Network,
    ) -> Result<Endpoint, String> {
        if let Some(e) = Endpoint::overridden(service, env, network)? {
            return Ok(e);
        }
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(format!("region: {region:?} is not an AWS region"));
        }
        Endpoint::parse(
            service,
            &format!("https://{service}.{region}.amazonaws.com"),
        )
    }

    /// The endpoint of a global `service` (IAM): the overrides as for [`Endpoint::resolve`],
    /// else `default`.
    pub(crate) fn resolve_with_default(
        service: &'static str,
        env: &str,
        default: &str,
        network: &Network,
    ) -> Result<Endpoint, String> {
        match Endpoint::overridden(service, env, network)? {
            Some(e) => Ok(e),
            None => Endpoint::parse(service, default),
        }
    }

    /// The AWS SDKs' `AWS_ENDPOINT_URL_<env>`, then `AWS_ENDPOINT_URL`, then escc's
    /// `ESCC_ENDPOINT_AWS_<SERVICE>` and the project's `[endpoints]` `aws-<service>`
    /// (`aws-sts`, `aws-secretsmanager`, `aws-ssm`, `aws-iam`), when one is set. The URL
    /// must have no path: `SigV4` signs the host.
    fn overridden(
        service: &'static str,
        env: &str,
        network: &Network,
    ) -> Result<Option<Endpoint>, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let specific = format!("AWS_ENDPOINT_URL_{env}");
        if let Some(url) = var(&specific) {
            return Endpoint::parse(service, url.trim())
                .map(Some)
                .map_err(|e| format!("{specific}: {e}"));
        }
        if let Some(url) = var("AWS_ENDPOINT_URL") {
            return Endpoint::parse(service, url.trim())
                .map(Some)
                .map_err(|e| format!("AWS_ENDPOINT_URL: {e}"));
        }
        let name = format!("aws-{service}");
        match network.endpoint_override(&name)? {
            Some(url) => Endpoint::parse(service, &url)
                .map(Some)
                .map_err(|e| format!("the endpoint of {name}: {e}")),
            None => Ok(None),
        }
    }

    /// `url`: `http://` or `https://`, a host, an optional port, no path but `/`.
    pub(crate) fn parse(service: &'static str, url: &str) -> Result<Endpoint, String> {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| format!("{url:?} is not an http:// or https:// URL"))?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
            return Err(format!(
                "{url:?}: expected scheme://host[:port], with no path, query or user"
            ));
        }
        Ok(Endpoint {
            base: url[..url.len() - rest.len() + authority.len()].to_owned(),
            host: authority.to_owned(),
            service,
        })
    }
}

/// A sync HTTP client for AWS's JSON protocol.
pub(crate) struct Client {
    http: net::Client,
}

impl Client {
    /// A client with the network's settings; `ESCC_AWS_TIMEOUT` bounds each request.
    pub(crate) fn new(network: &Network) -> Result<Client, String> {
        Ok(Client {
            http: network.client(Some("ESCC_AWS_TIMEOUT"))?,
        })
    }

    /// Calls `target` (`X-Amz-Target`) with `body`, signed with `creds` for `region`;
    /// the response object, or AWS's error (`type: message (HTTP status)`).
    pub(crate) fn call(
        &self,
        endpoint: &Endpoint,
        region: &str,
        creds: &Credentials,
        target: &str,
        body: &Json,
    ) -> Result<Json, String> {
        let body = body.to_string();
        let headers = vec![
            ("content-type", "application/x-amz-json-1.1".to_owned()),
            ("x-amz-target", target.to_owned()),
        ];
        let (status, text, retried) =
            self.signed_post(endpoint, region, creds, headers, body.as_bytes())?;
        let parsed: Result<Json, _> = serde_json::from_str(&text);
        if !(200..300).contains(&status) {
            let error = match parsed {
                Ok(json) => aws_error(status, Some(&json)),
                // Some errors (a refused signature) come in AWS's XML shape.
                Err(_) => aws_error(status, xml_error(&text).as_ref()),
            };
            return Err(format!("{error}{retried}"));
        }
        match parsed {
            Ok(v @ Json::Object(_)) => Ok(v),
            Ok(_) => Err(format!(
                "the response from {} is not a JSON object",
                endpoint.base
            )),
            // The parser's message says only where it broke, never what it read.
            Err(e) => Err(format!(
                "the response from {} is not valid JSON ({e})",
                endpoint.base
            )),
        }
    }
}

impl Client {
    /// POSTs `body` to the endpoint's `/` with `headers` (lowercase, without `host`),
    /// signed with `SigV4` for `region`; what [`Client::send`] returns.
    fn signed_post(
        &self,
        endpoint: &Endpoint,
        region: &str,
        creds: &Credentials,
        mut headers: Vec<(&'static str, String)>,
        body: &[u8],
    ) -> Result<(u16, String, String), String> {
        headers.push(("host", endpoint.host.clone()));
        let authorization = sign(
            &mut headers,
            &Signing {
                method: "POST",
                path: "/",
                query: "",
                body,
                region,
                service: endpoint.service,
                time: SystemTime::now(),
            },
            creds,
        );
        headers.push(("authorization", authorization));
        self.send(endpoint, &headers, body)
    }

    /// POSTs `body` to the endpoint's `/` with `headers` (lowercase; `host` is ureq's);
    /// the status, the response text, and `, after N attempts` if it was retried.
    fn send(
        &self,
        endpoint: &Endpoint,
        headers: &[(&'static str, String)],
        body: &[u8],
    ) -> Result<(u16, String, String), String> {
        let mut request =
            net::Request::new("POST", format!("{}/", endpoint.base)).retry_when(throttled);
        for (name, value) in headers {
            if *name != "host" {
                request = request.header(name, value.clone());
            }
        }
        request.body = body.to_vec();
        let response = self.http.send(&request)?;
        let retried = response.after_attempts();
        Ok((response.status, response.text, retried))
    }

    /// Calls an action of a Query-protocol service (IAM): `form` (`Action`, `Version` and
    /// the parameters) sent by POST to `/`, signed with `creds` for `region`; the XML
    /// answer, or AWS's error with its code.
    pub(crate) fn query(
        &self,
        endpoint: &Endpoint,
        region: &str,
        creds: &Credentials,
        form: &[(&str, &str)],
    ) -> Result<String, QueryError> {
        let body = net::Request::new("POST", "").form(form);
        let (status, text, retried) = self
            .signed_post(endpoint, region, creds, body.headers, &body.body)
            .map_err(|message| QueryError {
                code: None,
                message,
            })?;
        if !(200..300).contains(&status) {
            let error = xml_error(&text);
            return Err(QueryError {
                code: error
                    .as_ref()
                    .and_then(|e| e["__type"].as_str())
                    .map(str::to_owned),
                message: format!("{}{retried}", aws_error(status, error.as_ref())),
            });
        }
        Ok(text)
    }

    /// STS `AssumeRoleWithWebIdentity` (unsigned, Query protocol, XML answer).
    fn assume_role_with_web_identity(
        &self,
        endpoint: &Endpoint,
        form: &[(String, String)],
    ) -> Result<Credentials, String> {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", net::percent_encode(k), net::percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let headers = [(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        )];
        let (status, text, retried) = self.send(endpoint, &headers, body.as_bytes())?;
        if !(200..300).contains(&status) {
            return Err(format!(
                "{}{retried}",
                aws_error(status, xml_error(&text).as_ref())
            ));
        }
        let field = |tag: &str| {
            xml_field(&text, tag).ok_or_else(|| {
                format!(
                    "the response from {} has no {tag} (not an AssumeRoleWithWebIdentity answer)",
                    endpoint.base
                )
            })
        };
        Ok(Credentials {
            access_key_id: field("AccessKeyId")?,
            secret_access_key: field("SecretAccessKey")?,
            session_token: Some(field("SessionToken")?),
        })
    }
}

/// A failed Query-protocol call: AWS's error code, when the answer had one, and the
/// message to show (`Code: message (HTTP status)`, or why there was no answer).
#[derive(Debug)]
pub(crate) struct QueryError {
    pub(crate) code: Option<String>,
    pub(crate) message: String,
}

/// AWS's JSON error (`__type`, `message`/`Message`), as `Type: message (HTTP status)`.
fn aws_error(status: u16, body: Option<&Json>) -> String {
    let field = |k: &str| body.and_then(|b| b.get(k)).and_then(Json::as_str);
    let kind = field("__type").map(|t| t.rsplit('#').next().unwrap_or(t));
    let message = field("message").or_else(|| field("Message"));
    shared::status_error(status, kind, message)
}

/// The error codes with which AWS services throttle (HTTP 400, most of them), as the AWS
/// SDKs' standard retry mode lists them.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Whether `response` is AWS throttling the caller (retried, see [`net::Request::retry_when`]):
/// a 400 whose error code (JSON `__type` or XML `Code`) is a throttling one.
fn throttled(response: &net::Response) -> bool {
    if response.status != 400 {
        return false;
    }
    let json = serde_json::from_str::<Json>(&response.text)
        .ok()
        .or_else(|| xml_error(&response.text));
    let code = json
        .as_ref()
        .and_then(|j| j.get("__type"))
        .and_then(Json::as_str)
        .map(|t| t.rsplit('#').next().unwrap_or(t));
    code.is_some_and(|c| THROTTLING_CODES.contains(&c))
}

/// The text of the first `<tag>…</tag>` of an XML document, entities decoded.
pub(crate) fn xml_field(text: &str, tag: &str) -> Option<String> {
    xml_fields(text, tag).into_iter().next()
}

/// The texts of every `<tag>…</tag>` of an XML document, in order, entities decoded. AWS's
/// answers have no attributes on these elements and no nesting of a tag in itself.
pub(crate) fn xml_fields(text: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(len) = after.find(&close) else {
            break;
        };
        out.push(
            after[..len]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &after[len + close.len()..];
    }
    out
}

/// AWS's XML error (`<Error><Code>…</Code><Message>…</Message></Error>`) as the JSON
/// shape [`aws_error`] reads.
fn xml_error(text: &str) -> Option<Json> {
    let field = |tag: &str| xml_field(text, tag);
    let code = field("Code")?;
    let mut error = json!({ "__type": code });
    if let Some(m) = field("Message") {
        error["message"] = Json::String(m);
    }
    Some(error)
}

/// What a `SigV4` signature covers, besides the headers.
pub(crate) struct Signing<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    /// The canonical query string (already sorted and encoded).
    pub(crate) query: &'a str,
    pub(crate) body: &'a [u8],
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
    pub(crate) time: SystemTime,
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Signs a request with AWS Signature Version 4: adds `x-amz-date` (and
/// `x-amz-security-token`) to `headers` (lowercase names, `host` among them) and returns
/// the `Authorization` header's value.
pub(crate) fn sign(
    headers: &mut Vec<(&'static str, String)>,
    s: &Signing<'_>,
    creds: &Credentials,
) -> String {
    let (date, stamp) = amz_date(s.time);
    headers.push(("x-amz-date", stamp.clone()));
    if let Some(token) = &creds.session_token {
        headers.push(("x-amz-security-token", token.clone()));
    }
    headers.sort_by(|a, b| a.0.cmp(b.0));
    let canonical_headers = headers.iter().fold(String::new(), |mut s, (k, v)| {
        let _ = writeln!(s, "{k}:{}", v.trim());
        s
    });
    let signed: Vec<&str> = headers.iter().map(|(k, _)| *k).collect();
    let signed = signed.join(";");
    let canonical = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed}\n{}",
        s.method,
        s.path,
        s.query,
        hex(&Sha256::digest(s.body))
    );
    let scope = format!("{date}/{}/{}/aws4_request", s.region, s.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [s.region, s.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex(&hmac(&key, to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
        creds.access_key_id
    )
}

/// `(YYYYMMDD, YYYYMMDDTHHMMSSZ)` in UTC.
fn amz_date(t: SystemTime) -> (String, String) {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400).cast_signed();
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let date = format!("{year:04}{month:02}{day:02}");
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    (date, stamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn creds() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
            session_token: None,
        }
    }

    /// AWS's documented example (IAM `ListUsers`, "Create a canonical request for
    /// Signature Version 4" of the IAM user guide).
    #[test]
    fn sigv4_matches_the_documented_example() {
        let mut headers = vec![
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
            ),
            ("host", "iam.amazonaws.com".to_owned()),
        ];
        let seconds = 1_440_938_160; // 2015-08-30T12:36:00Z
        let time = UNIX_EPOCH + Duration::from_secs(seconds);
        let auth = sign(
            &mut headers,
            &Signing {
                method: "GET",
                path: "/",
                query: "Action=ListUsers&Version=2010-05-08",
                body: b"",
                region: "us-east-1",
                service: "iam",
                time,
            },
            &creds(),
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn dates_are_utc() {
        let t = |s| amz_date(UNIX_EPOCH + Duration::from_secs(s)).1;
        assert_eq!(t(0), "19700101T000000Z");
        assert_eq!(t(951_782_400), "20000229T000000Z");
        assert_eq!(t(1_764_892_799), "20251204T235959Z");
    }

    #[test]
    fn credentials_debug_hides_secrets() {
        let c = Credentials {
            session_token: Some("tok-secret".to_owned()),
            ..creds()
        };
        let d = format!("{c:?}");
        assert!(d.contains("AKIDEXAMPLE"), "{d}");
        assert!(
            !d.contains("EXAMPLEKEY") && !d.contains("tok-secret"),
            "{d}"
        );
    }

    #[test]
    fn endpoints_are_checked() {
        let e = Endpoint::parse("ssm", "http://127.0.0.1:5000/").unwrap();
        assert_eq!(e.base, "http://127.0.0.1:5000");
        assert_eq!(e.host, "127.0.0.1:5000");
        assert!(Endpoint::parse("ssm", "ftp://x").is_err());
        assert!(Endpoint::parse("ssm", "http://x/path").is_err());
        assert!(Endpoint::parse("ssm", "http://user@x").is_err());
    }

    #[test]
    fn aws_errors_are_short() {
        let body = json!({"__type": "com.amazonaws#ResourceNotFoundException", "message": "no such secret"});
        assert_eq!(
            aws_error(400, Some(&body)),
            "ResourceNotFoundException: no such secret (HTTP 400)"
        );
        assert_eq!(aws_error(500, None), "the service answered HTTP 500");
        let xml = "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>The token &amp; so on.</Message></Error></Errors></ErrorResponse>";
        assert_eq!(
            aws_error(403, xml_error(xml).as_ref()),
            "InvalidClientTokenId: The token & so on. (HTTP 403)"
        );
        assert_eq!(xml_error("<html>nope</html>"), None);
    }

    #[test]
    fn throttling_answers_are_recognised() {
        let answer = |status, text: &str| net::Response {
            status,
            text: text.to_owned(),
            attempts: 1,
        };
        assert!(throttled(&answer(
            400,
            r#"{"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"}"#
        )));
        assert!(throttled(&answer(
            400,
            "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>"
        )));
        assert!(!throttled(&answer(
            400,
            r#"{"__type":"ResourceNotFoundException"}"#
        )));
        assert!(!throttled(&answer(
            403,
            r#"{"__type":"ThrottlingException"}"#
        )));
        assert!(!throttled(&answer(400, "not json")));
    }

    #[test]
    fn forms_are_percent_encoded() {
        assert_eq!(
            net::percent_encode("arn:aws:iam::1:role/a b"),
            "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b"
        );
    }
}
