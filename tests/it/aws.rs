//! The AWS built-in providers through the real binary: `aws-login` (static credentials)
//! and `aws-secrets` against a real moto server that checks `SigV4` signatures (started on a
//! free loopback port, stopped when the test ends), and against loopback servers that
//! answer garbage or never answer.
//!
//! moto comes from the Python virtual environment `.ci/run` makes (`target/moto-venv`, or
//! `$ESCC_MOTO_VENV`). Without it a test is skipped with a message, except under `CI=true`,
//! where that is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::backends::{self, LocalServer, escc, open_fails, open_shown, project, text};
use crate::fake_http::{FakeServer, Received, Reply};

/// What no error may show: the values of moto's secrets (`db-pass-v1`, ...).
const NEVER: &[&str] = &["db-pass"];

fn venv() -> PathBuf {
    backends::venv("ESCC_MOTO_VENV", "moto-venv")
}

/// A moto server on a free loopback port, killed on drop (the rotation tests use it too).
pub(crate) struct Moto {
    /// Held for its drop, which stops the server.
    _server: LocalServer,
    pub(crate) url: String,
}

impl Moto {
    /// Starts moto, with signature checking after `seed_actions` unauthenticated calls
    /// (none: no checking); `None` (skipped, with a message) when moto is not installed
    /// outside CI.
    pub(crate) fn start(seed_actions: Option<u32>) -> Option<Moto> {
        let program = backends::program("ESCC_MOTO_VENV", "moto-venv", "moto_server")?;
        let port = backends::free_port();
        let mut command = Command::new(program);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        if let Some(n) = seed_actions {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string());
        }
        let server = LocalServer::spawn(command, port);
        Some(Moto {
            url: server.url.clone(),
            _server: server,
        })
    }
}

/// Seeds moto with boto3 (from moto's environment): an IAM user allowed everything (the 3
/// unauthenticated calls), then, signed with its key, two secrets, `prod/db` with two
/// versions, and SSM parameters (a `String` with two versions, a `StringList`, a
/// `SecureString`). Returns the user's access key id and secret.
fn seed(moto: &Moto) -> (String, String) {
    const SCRIPT: &str = r#"
import boto3, json, sys
ep = sys.argv[1]
iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1",
                   aws_access_key_id="seed", aws_secret_access_key="seed")
iam.create_user(UserName="escc")
key = iam.create_access_key(UserName="escc")["AccessKey"]
iam.put_user_policy(UserName="escc", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
sm = boto3.client("secretsmanager", endpoint_url=ep, region_name="us-east-1",
                  aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
sm.create_secret(Name="prod/db", SecretString="db-pass-v1")
sm.put_secret_value(SecretId="prod/db", SecretString="db-pass-v2")
sm.create_secret(Name="prod/api", SecretString=json.dumps({"token": "api-tok-42"}))
ssm = boto3.client("ssm", endpoint_url=ep, region_name="us-east-1",
                   aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
ssm.put_parameter(Name="/app/url", Value="https://v1", Type="String")
ssm.put_parameter(Name="/app/url", Value="https://v2", Type="String", Overwrite=True)
ssm.put_parameter(Name="/app/hosts", Value="a,b,c", Type="StringList")
ssm.put_parameter(Name="/app/key", Value="ssm-secure-9", Type="SecureString")
print(json.dumps([key["AccessKeyId"], key["SecretAccessKey"]]))
"#;
    let [id, secret]: [String; 2] = serde_json::from_slice(&boto3(SCRIPT, &[&moto.url])).unwrap();
    (id, secret)
}

/// Runs Python `script` with `args` in moto's environment (which has boto3), expecting
/// success; its standard output. The rotation tests use it too.
pub(crate) fn boto3(script: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(venv().join("bin/python"))
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    out.stdout
}

/// The environment `app`: static credentials, three secrets, one of them JSON.
fn app(key_id: &str, secret: &str) -> String {
    format!(
        "values:
  aws:
    login:
      fn::open::aws-login:
        static:
          accessKeyId: {key_id}
          secretAccessKey:
            fn::secret: {secret}
    secrets:
      fn::open::aws-secrets:
        region: us-east-1
        login: ${{aws.login}}
        get:
          db:
            secretId: prod/db
          previous:
            secretId: prod/db
            versionStage: AWSPREVIOUS
          api:
            secretId: prod/api
  api:
    fn::fromJSON: ${{aws.secrets.api}}
  environmentVariables:
    DB_PASSWORD: ${{aws.secrets.db}}
"
    )
}

#[test]
fn aws_secrets_opens_and_runs_against_moto() {
    let Some(moto) = Moto::start(Some(3)) else {
        return;
    };
    let (key_id, secret) = seed(&moto);
    let dir = project(&app(&key_id, &secret));
    let env = [("AWS_ENDPOINT_URL", moto.url.as_str())];

    let out = escc(dir.path(), &["open", "app", "--format", "json"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["aws"]["secrets"]["db"], "[secret]");
    assert_eq!(v["aws"]["login"]["secretAccessKey"], "[secret]");
    assert_eq!(v["aws"]["login"]["accessKeyId"], key_id.as_str());
    assert!(!text(&out.stdout).contains("db-pass"));

    let out = escc(
        dir.path(),
        &["open", "app", "--format", "json", "--show-secrets"],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // ESC's shape: each name of `get` maps to the SecretString.
    assert_eq!(
        v["aws"]["secrets"],
        serde_json::json!({
            "api": "{\"token\": \"api-tok-42\"}",
            "db": "db-pass-v2",
            "previous": "db-pass-v1",
        })
    );
    assert_eq!(v["api"]["token"], "api-tok-42");
    assert_eq!(v["aws"]["login"]["secretAccessKey"], secret.as_str());

    // The service-specific override wins over the general one.
    let out = backends::run_sh(
        dir.path(),
        &[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto.url),
        ],
        "test \"$DB_PASSWORD\" = db-pass-v2 && echo \"$DB_PASSWORD\"",
        &[],
    );
    assert_eq!(out.trim(), "[secret]");
}

#[test]
fn aws_parameter_store_opens_against_moto() {
    let Some(moto) = Moto::start(Some(3)) else {
        return;
    };
    let (key_id, secret) = seed(&moto);
    let dir = project(&format!(
        "values:
  login:
    fn::open::aws-login:
      static:
        accessKeyId: {key_id}
        secretAccessKey: {secret}
  params:
    fn::open::aws-parameter-store:
      region: us-east-1
      login: ${{login}}
      get:
        url: {{name: /app/url}}
        first: {{name: \"/app/url:1\"}}
        hosts: {{name: /app/hosts}}
        key: {{name: /app/key, decrypt: true}}
  firstHost: ${{params.hosts[0]}}
"
    ));
    let out = escc(
        dir.path(),
        &["open", "app", "--format", "json", "--show-secrets"],
        &[("AWS_ENDPOINT_URL_SSM", &moto.url)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["params"],
        serde_json::json!({
            "first": "https://v1",
            "hosts": ["a", "b", "c"],
            "key": "ssm-secure-9",
            "url": "https://v2",
        })
    );
    assert_eq!(v["firstHost"], "a");
    let out = escc(
        dir.path(),
        &["open", "app", "--format", "json"],
        &[("AWS_ENDPOINT_URL_SSM", &moto.url)],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["params"]["key"], "[secret]");
    // Every item of a StringList is secret, also taken out of the list.
    assert_eq!(v["params"]["hosts"], "[secret]");
    assert_eq!(v["firstHost"], "[secret]");

    // The project's `[endpoints]` (service `aws-ssm`) reach moto with no variable set...
    let toml = |url: &str| format!("[endpoints]\naws-ssm = \"{url}\"\n");
    std::fs::write(dir.path().join("escc.toml"), toml(&moto.url)).unwrap();
    let out = escc(dir.path(), &["open", "app", "--format", "json"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["params"]["url"], "[secret]");
    // ...the AWS SDKs' variable wins over them...
    std::fs::write(dir.path().join("escc.toml"), toml("http://127.0.0.1:9")).unwrap();
    let out = escc(
        dir.path(),
        &["open", "app", "--format", "json"],
        &[("AWS_ENDPOINT_URL_SSM", &moto.url)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // ...and a path, which SigV4 cannot sign for, is refused naming where it came from.
    std::fs::write(
        dir.path().join("escc.toml"),
        toml(&format!("{}/ssm", moto.url)),
    )
    .unwrap();
    let err = open_fails(dir.path(), &[], NEVER);
    assert!(
        err.contains("the endpoint of aws-ssm:") && err.contains("no path"),
        "{err}"
    );
}

#[test]
fn aws_errors_name_the_provider_and_input_and_hide_secrets() {
    let Some(moto) = Moto::start(Some(3)) else {
        return;
    };
    let (key_id, secret) = seed(&moto);
    let env = [("AWS_ENDPOINT_URL", moto.url.as_str())];

    // A wrong secret key: moto refuses the signature.
    let wrong = "wrong-secret-key-0123456789";
    let dir = project(&app(&key_id, wrong));
    let err = open_fails(dir.path(), &env, NEVER);
    assert!(
        err.contains("aws-secrets: get.api: GetSecretValue \"prod/api\""),
        "{err}"
    );
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(err.contains("(HTTP 403)"), "{err}");
    // At the call, with its document path.
    assert!(err.contains("[app.yaml:10:7]"), "{err}");
    assert!(err.contains("values.aws.secrets"), "{err}");
    assert!(!err.contains(wrong) && !err.contains(&secret), "{err}");

    // A secret that does not exist.
    let missing = app(&key_id, &secret).replace("secretId: prod/api", "secretId: prod/nope");
    let dir = project(&missing);
    let err = open_fails(dir.path(), &env, NEVER);
    assert!(
        err.contains(
            "aws-secrets: get.api: GetSecretValue \"prod/nope\": ResourceNotFoundException"
        ),
        "{err}"
    );
    assert!(!err.contains(&secret), "{err}");

    // A bad endpoint override is named.
    let err = open_fails(dir.path(), &[("AWS_ENDPOINT_URL", "ftp://x")], NEVER);
    assert!(
        err.contains("AWS_ENDPOINT_URL: \"ftp://x\" is not"),
        "{err}"
    );
}

#[test]
fn a_malformed_response_is_reported_without_its_text() {
    let server = FakeServer::start(|_| Reply::text(200, "{\"SecretString\": db-pass-x"));
    let dir = project(&app("AKIDTEST", "test-secret-key"));
    let err = open_fails(dir.path(), &[("AWS_ENDPOINT_URL", &server.url)], NEVER);
    assert!(err.contains("aws-secrets: get.api:"), "{err}");
    assert!(
        err.contains("is not valid JSON (expected value at line 1 column 18)"),
        "{err}"
    );
    assert!(!err.contains("test-secret-key"), "{err}");
}

#[test]
fn a_server_that_hangs_is_given_up_on() {
    let server = FakeServer::start(|_| Reply::hang());
    let dir = project(&app("AKIDTEST", "test-secret-key"));
    let start = Instant::now();
    let err = open_fails(
        dir.path(),
        &[("AWS_ENDPOINT_URL", &server.url), ("ESCC_AWS_TIMEOUT", "1")],
        NEVER,
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(err.contains("did not answer in time"), "{err}");
}

#[test]
fn aws_login_static_needs_no_network() {
    let dir = project(
        "values:
  creds:
    fn::open::aws-login:
      static:
        accessKeyId: AKIDSTATIC
        secretAccessKey: static-secret
        sessionToken: static-token
  environmentVariables:
    AWS_ACCESS_KEY_ID: ${creds.accessKeyId}
    AWS_SECRET_ACCESS_KEY: ${creds.secretAccessKey}
",
    );
    let env = [("AWS_ENDPOINT_URL", "http://127.0.0.1:9")];
    let out = escc(dir.path(), &["open", "app", "--format", "json"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["creds"],
        serde_json::json!({"accessKeyId": "AKIDSTATIC", "secretAccessKey": "[secret]", "sessionToken": "[secret]"})
    );
    let out = escc(
        dir.path(),
        &[
            "run",
            "app",
            "--",
            "sh",
            "-c",
            "echo \"$AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY\"",
        ],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "AKIDSTATIC [secret]");
}

#[test]
fn aws_login_oidc_assumes_a_role_through_sts() {
    // STS's AssumeRoleWithWebIdentity is unsigned: moto without signature checking.
    let Some(moto) = Moto::start(None) else {
        return;
    };
    let dir = project(
        "values:
  creds:
    fn::open::aws-login:
      oidc:
        roleArn: arn:aws:iam::123456789012:role/deploy
        sessionName: escc
        duration: 1h
",
    );
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "eyJ.web-identity-token-77.sig\n").unwrap();
    let token_file = token_file.to_str().unwrap();
    let env = [
        ("AWS_ENDPOINT_URL", moto.url.as_str()),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file),
    ];
    let out = escc(
        dir.path(),
        &["open", "app", "--format", "json", "--show-secrets"],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let creds = &v["creds"];
    assert!(
        creds["accessKeyId"].as_str().unwrap().starts_with("ASIA"),
        "{creds}"
    );
    assert!(
        !creds["secretAccessKey"].as_str().unwrap().is_empty(),
        "{creds}"
    );
    assert!(
        !creds["sessionToken"].as_str().unwrap().is_empty(),
        "{creds}"
    );
    let out = escc(dir.path(), &["open", "app", "--format", "json"], &env);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["creds"],
        serde_json::json!({"accessKeyId": "[secret]", "secretAccessKey": "[secret]", "sessionToken": "[secret]"})
    );

    // Without a token file, the variable to set is named.
    let err = open_fails(dir.path(), &[("AWS_ENDPOINT_URL", &moto.url)], NEVER);
    assert!(
        err.contains(
            "aws-login: oidc: no identity token: set AWS_WEB_IDENTITY_TOKEN_FILE, ESCC_OIDC_TOKEN_FILE or ESCC_OIDC_TOKEN_COMMAND"
        ),
        "{err}"
    );

    // STS refuses, quoting the token: the message keeps the error, not the token.
    let sts = FakeServer::start(|_| {
        Reply::text(
            400,
            "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>bad eyJ.web-identity-token-77.sig</Message></Error></ErrorResponse>",
        )
    });
    let err = open_fails(
        dir.path(),
        &[
            ("AWS_ENDPOINT_URL_STS", &sts.url),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file),
        ],
        NEVER,
    );
    assert!(
        err.contains("InvalidIdentityToken: bad [secret] (HTTP 400)"),
        "{err}"
    );
    assert!(!err.contains("web-identity-token-77"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Throttling: moto cannot throttle, so an in-process server stands in for Secrets Manager,
// checking what the service checks (the target, a SigV4 authorization for the region and
// service, the body), and answering as AWS throttles: HTTP 400 `ThrottlingException`.

/// Whether `r` is a `GetSecretValue` of `prod/db` signed for us-east-1 by `AKIDTEST`.
fn is_get_secret_value(r: &Received) -> bool {
    r.method == "POST"
        && r.path == "/"
        && r.header("x-amz-target") == Some("secretsmanager.GetSecretValue")
        && r.header("authorization").is_some_and(|a| {
            a.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
                && a.contains("/us-east-1/secretsmanager/aws4_request")
        })
        && r.json()["SecretId"] == "prod/db"
}

fn aws_throttling() -> Reply {
    Reply::json(
        400,
        &serde_json::json!({"__type": "ThrottlingException", "message": "Rate exceeded"}),
    )
}

/// A Secrets Manager stand-in that answers `answers` in turn, then the secret.
fn secrets_manager(answers: Vec<Reply>) -> FakeServer {
    let answers = Mutex::new(answers.into_iter());
    FakeServer::start(move |r| {
        if !is_get_secret_value(r) {
            return Reply::json(
                400,
                &serde_json::json!({"__type": "InvalidRequestException", "message": "not a signed GetSecretValue of prod/db"}),
            );
        }
        answers.lock().unwrap().next().unwrap_or_else(|| {
            Reply::json(
                200,
                &serde_json::json!({"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db", "Name": "prod/db", "SecretString": "db-pass-throttled", "VersionId": "v1"}),
            )
        })
    })
}

const ONE_SECRET: &str = "values:
  db:
    fn::open::aws-secrets:
      region: us-east-1
      login:
        accessKeyId: AKIDTEST
        secretAccessKey:
          fn::secret: test-secret-key
      get:
        password: {secretId: prod/db}
";

#[test]
fn a_throttled_request_is_retried_and_succeeds() {
    // Throttled as AWS does, then as a proxy would (429 asking to wait 0 s), then
    // unavailable: three retries, the fourth attempt succeeds.
    let mut proxy = Reply::throttled(0);
    proxy.body = "{}".to_owned();
    let server = secrets_manager(vec![aws_throttling(), proxy, Reply::text(503, "")]);
    let dir = project(ONE_SECRET);
    let out = escc(
        dir.path(),
        &["open", "app", "--format", "json", "--show-secrets"],
        &[("AWS_ENDPOINT_URL", &server.url)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["db"]["password"], "db-pass-throttled");
    let received = server.received();
    assert_eq!(received.len(), 4);
    assert!(received.iter().all(is_get_secret_value), "{received:?}");
}

#[test]
fn a_service_that_keeps_throttling_is_given_up_on_with_the_attempt_count() {
    let server = secrets_manager((0..10).map(|_| aws_throttling()).collect());
    let dir = project(ONE_SECRET);
    let start = Instant::now();
    let err = open_fails(
        dir.path(),
        &[
            ("AWS_ENDPOINT_URL", &server.url),
            ("ESCC_PROVIDER_RETRIES", "2"),
        ],
        NEVER,
    );
    assert!(
        err.contains(
            "aws-secrets: get.password: GetSecretValue \"prod/db\": ThrottlingException: Rate exceeded (HTTP 400), after 3 attempts"
        ),
        "{err}"
    );
    assert!(!err.contains("test-secret-key"), "{err}");
    assert_eq!(server.received().len(), 3);
    // Backoff: 250 ms, then 500 ms.
    assert!(
        start.elapsed() >= Duration::from_millis(750),
        "{:?}",
        start.elapsed()
    );

    // A missing secret is not throttling: one attempt.
    let server = FakeServer::start(|_| {
        Reply::json(
            400,
            &serde_json::json!({"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."}),
        )
    });
    let err = open_fails(dir.path(), &[("AWS_ENDPOINT_URL", &server.url)], NEVER);
    assert!(err.contains("ResourceNotFoundException"), "{err}");
    assert!(!err.contains("attempts"), "{err}");
    assert_eq!(server.received().len(), 1);
}

#[test]
fn aws_parameter_store_errors_against_moto() {
    let Some(moto) = Moto::start(Some(3)) else {
        return;
    };
    let (key_id, secret) = seed(&moto);
    let params = |key: &str, name: &str| {
        format!(
            "values:
  params:
    fn::open::aws-parameter-store:
      region: us-east-1
      login:
        accessKeyId: {key_id}
        secretAccessKey:
          fn::secret: {key}
      get:
        url: {{name: {name}}}
"
        )
    };
    let env = [("AWS_ENDPOINT_URL_SSM", moto.url.as_str())];
    // A missing parameter.
    let dir = project(&params(&secret, "/app/nope"));
    let err = open_fails(dir.path(), &env, NEVER);
    assert!(
        err.contains("aws-parameter-store: get.url: GetParameter \"/app/nope\": ParameterNotFound"),
        "{err}"
    );
    assert!(!err.contains(&secret), "{err}");
    // A wrong secret key: moto refuses the signature.
    let wrong = "wrong-ssm-key-0123456789";
    let dir = project(&params(wrong, "/app/url"));
    let err = open_fails(dir.path(), &env, NEVER);
    assert!(err.contains("aws-parameter-store: get.url:"), "{err}");
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(err.contains("(HTTP 403)"), "{err}");
    assert!(!err.contains(wrong), "{err}");
}

// ---------------------------------------------------------------------------------------
// OIDC token sources for aws-login (docs/providers.md, "OIDC"): GitHub Actions' token
// endpoint (an in-process stand-in that checks the request bearer and the audience) and
// ESCC_OIDC_TOKEN_COMMAND, each exchanged with moto's STS, then with a stand-in STS that
// records the token it was given.

const OIDC_APP: &str = "values:
  creds:
    fn::open::aws-login:
      oidc:
        roleArn: arn:aws:iam::123456789012:role/deploy
        sessionName: escc
";

const GITHUB_TOKEN: &str = "eyJ.github-id-token-31.sig";
const REQUEST_BEARER: &str = "actions-request-bearer-58";

/// GitHub Actions' token endpoint: `GET /token?audience=...` with the request bearer.
fn github_actions() -> FakeServer {
    FakeServer::start(|r| {
        if r.method != "GET" || r.path != "/token" {
            return Reply::json(404, &serde_json::json!({"message": "Not Found"}));
        }
        if r.header("authorization") != Some(&format!("Bearer {REQUEST_BEARER}")) {
            return Reply::json(401, &serde_json::json!({"message": "Bad credentials"}));
        }
        Reply::json(200, &serde_json::json!({"count": 1, "value": GITHUB_TOKEN}))
    })
}

/// An STS stand-in that records the web identity tokens it is given and answers with
/// temporary credentials.
fn sts(tokens: std::sync::Arc<Mutex<Vec<String>>>) -> FakeServer {
    FakeServer::start(move |r| {
        let form = r.form();
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if get("Action").as_deref() != Some("AssumeRoleWithWebIdentity")
            || get("RoleArn").as_deref() != Some("arn:aws:iam::123456789012:role/deploy")
        {
            return Reply::text(
                400,
                "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>",
            );
        }
        tokens.lock().unwrap().extend(get("WebIdentityToken"));
        Reply::text(
            200,
            "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIASTANDIN</AccessKeyId><SecretAccessKey>standin-secret</SecretAccessKey><SessionToken>standin-session</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        )
    })
}

/// Opens `OIDC_APP` with `env`; the credentials shown.
fn oidc_creds(dir: &Path, env: &[(&str, &str)]) -> serde_json::Value {
    open_shown(dir, env, &[])["creds"].clone()
}

#[test]
fn aws_login_oidc_with_a_github_actions_token() {
    let Some(moto) = Moto::start(None) else {
        return;
    };
    let github = github_actions();
    let dir = project(OIDC_APP);
    // The URL GitHub gives already has a query: escc adds the audience to it.
    let request_url = format!("{}/token?api-version=2.0", github.url);
    let actions = [
        ("ACTIONS_ID_TOKEN_REQUEST_URL", request_url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_BEARER),
    ];
    let mut env = actions.to_vec();
    env.push(("AWS_ENDPOINT_URL", &moto.url));
    let creds = oidc_creds(dir.path(), &env);
    assert!(
        creds["accessKeyId"].as_str().unwrap().starts_with("ASIA"),
        "{creds}"
    );
    let asked = github.received();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].param("audience"), Some("sts.amazonaws.com"));
    assert_eq!(asked[0].param("api-version"), Some("2.0"));

    // The token STS gets is GitHub's; a command also set is not run (GitHub comes first).
    let tokens = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sts = sts(tokens.clone());
    let marker = dir.path().join("command-ran");
    let command = format!("touch {}; echo other-token", marker.display());
    let mut env = actions.to_vec();
    env.extend([
        ("AWS_ENDPOINT_URL_STS", sts.url.as_str()),
        ("ESCC_OIDC_TOKEN_COMMAND", command.as_str()),
    ]);
    let creds = oidc_creds(dir.path(), &env);
    assert_eq!(creds["accessKeyId"], "ASIASTANDIN");
    assert_eq!(*tokens.lock().unwrap(), [GITHUB_TOKEN]);
    assert!(
        !marker.exists(),
        "the command ran though GitHub Actions came first"
    );

    // A refused token request: named, without the bearer.
    let mut env = vec![
        ("ACTIONS_ID_TOKEN_REQUEST_URL", request_url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong-bearer-77"),
    ];
    env.push(("AWS_ENDPOINT_URL", &moto.url));
    let err = open_fails(dir.path(), &env, NEVER);
    assert!(
        err.contains("aws-login: oidc: GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL): the token request was answered HTTP 401"),
        "{err}"
    );
    assert!(!err.contains("wrong-bearer-77"), "{err}");
}

#[test]
fn aws_login_oidc_with_a_token_command() {
    let Some(moto) = Moto::start(None) else {
        return;
    };
    let dir = project(OIDC_APP);
    let command = "printf '%s\\n' eyJ.command-token-64.sig";
    let creds = oidc_creds(
        dir.path(),
        &[
            ("AWS_ENDPOINT_URL", &moto.url),
            ("ESCC_OIDC_TOKEN_COMMAND", command),
        ],
    );
    assert!(
        creds["accessKeyId"].as_str().unwrap().starts_with("ASIA"),
        "{creds}"
    );
    assert!(
        !creds["sessionToken"].as_str().unwrap().is_empty(),
        "{creds}"
    );

    // The command's output, trimmed, is the token STS gets.
    let tokens = std::sync::Arc::new(Mutex::new(Vec::new()));
    let sts = sts(tokens.clone());
    oidc_creds(
        dir.path(),
        &[
            ("AWS_ENDPOINT_URL_STS", &sts.url),
            ("ESCC_OIDC_TOKEN_COMMAND", command),
        ],
    );
    assert_eq!(*tokens.lock().unwrap(), ["eyJ.command-token-64.sig"]);

    // A command that fails, or prints nothing, is named.
    let err = open_fails(
        dir.path(),
        &[
            ("AWS_ENDPOINT_URL", &moto.url),
            ("ESCC_OIDC_TOKEN_COMMAND", "exit 3"),
        ],
        NEVER,
    );
    assert!(
        err.contains("aws-login: oidc: ESCC_OIDC_TOKEN_COMMAND failed (exit status: 3)"),
        "{err}"
    );
    let err = open_fails(
        dir.path(),
        &[
            ("AWS_ENDPOINT_URL", &moto.url),
            ("ESCC_OIDC_TOKEN_COMMAND", "true"),
        ],
        NEVER,
    );
    assert!(
        err.contains("aws-login: oidc: ESCC_OIDC_TOKEN_COMMAND gave an empty identity token"),
        "{err}"
    );
}

/// Every token source is bounded: a command that hangs is stopped at the provider
/// timeout, and a command or a file that gives more than a token may be is refused
/// without being read to its end.
#[test]
fn oidc_token_sources_are_bounded() {
    let dir = project(OIDC_APP);
    let start = Instant::now();
    let err = open_fails(
        dir.path(),
        &[
            // `exec`: the command itself hangs (a child it left would keep the test's
            // standard error open).
            ("ESCC_OIDC_TOKEN_COMMAND", "exec sleep 30"),
            ("ESCC_PROVIDER_TIMEOUT", "1"),
        ],
        NEVER,
    );
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    assert!(
        err.contains("aws-login: oidc: ESCC_OIDC_TOKEN_COMMAND did not finish within 1 s"),
        "{err}"
    );
    for env in [
        ("ESCC_OIDC_TOKEN_COMMAND", "yes"),
        ("ESCC_OIDC_TOKEN_FILE", "/dev/zero"),
    ] {
        let err = open_fails(dir.path(), &[env], NEVER);
        assert!(
            err.contains(&format!(
                "aws-login: oidc: {} gave an identity token larger than 64 KiB",
                env.0
            )),
            "{err}"
        );
    }
}
