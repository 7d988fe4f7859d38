//! The AWS built-in providers through the real binary: `aws-login` (static credentials)
//! and `aws-secrets` against a real moto server that checks `SigV4` signatures (started on a
//! free loopback port, stopped when the test ends), and against loopback servers that
//! answer garbage or never answer.
//!
//! moto comes from the Python virtual environment `.ci/run` makes (`target/moto-venv`, or
//! `$ESCC_MOTO_VENV`). Without it a test is skipped with a message, except under `CI=true`,
//! where that is a failure.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_escc");

pub(crate) fn venv() -> PathBuf {
    std::env::var_os("ESCC_MOTO_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/moto-venv"),
        PathBuf::from,
    )
}

/// A moto server on a free loopback port, killed on drop (the rotation tests use it too).
pub(crate) struct Moto {
    child: Child,
    pub(crate) url: String,
}

impl Moto {
    /// Starts moto, with signature checking after `seed_actions` unauthenticated calls
    /// (none: no checking); `None` (skipped, with a message) when moto is not installed
    /// outside CI.
    pub(crate) fn start(seed_actions: Option<u32>) -> Option<Moto> {
        let server = venv().join("bin/moto_server");
        if !server.is_file() {
            let why = format!(
                "moto is not installed at {} (.ci/run installs it; or set ESCC_MOTO_VENV)",
                server.display()
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{why}: under CI=true this is a failure"
            );
            eprintln!("skipping: {why}");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new(&server);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        if let Some(n) = seed_actions {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", n.to_string());
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                moto.child.try_wait().unwrap().is_none(),
                "moto_server exited at start"
            );
            assert!(
                start.elapsed() < Duration::from_mins(1),
                "moto_server did not listen within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
    let out = Command::new(venv().join("bin/python"))
        .args(["-c", SCRIPT, &moto.url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let [id, secret]: [String; 2] = serde_json::from_slice(&out.stdout).unwrap();
    (id, secret)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
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

fn project(app: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escc.toml"), "").unwrap();
    std::fs::write(dir.path().join("app.yaml"), app).unwrap();
    dir
}

/// Runs escc in `dir` with `env` (and no AWS variables of the caller's).
fn escc(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("ESCC_") || k.starts_with("ACTIONS_ID_TOKEN_") {
            c.env_remove(k);
        }
    }
    c.envs(env.iter().copied());
    c.output().unwrap()
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
    let out = escc(
        dir.path(),
        &[
            "run",
            "app",
            "--",
            "sh",
            "-c",
            "test \"$DB_PASSWORD\" = db-pass-v2 && echo \"$DB_PASSWORD\"",
        ],
        &[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto.url),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "[secret]");
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
    let out = escc(
        dir.path(),
        &["open", "app", "--format", "json"],
        &[("AWS_ENDPOINT_URL_SSM", &moto.url)],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["params"]["key"], "[secret]");
}

/// Opens `app` expecting failure; its standard error.
fn open_fails(dir: &Path, env: &[(&str, &str)]) -> String {
    let out = escc(dir, &["open", "app"], env);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    // The renderer wraps long messages: join the lines back.
    let stderr = text(&out.stderr).replace("\n  │ ", " ");
    assert!(!stderr.contains("db-pass"), "{stderr}");
    stderr
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
    let err = open_fails(dir.path(), &env);
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
    let err = open_fails(dir.path(), &env);
    assert!(
        err.contains(
            "aws-secrets: get.api: GetSecretValue \"prod/nope\": ResourceNotFoundException"
        ),
        "{err}"
    );
    assert!(!err.contains(&secret), "{err}");

    // A bad endpoint override is named.
    let err = open_fails(dir.path(), &[("AWS_ENDPOINT_URL", "ftp://x")]);
    assert!(
        err.contains("AWS_ENDPOINT_URL: \"ftp://x\" is not"),
        "{err}"
    );
}

/// A loopback server that answers each connection with `response` after reading the
/// request (or, with `None`, never answers); its URL.
fn fake(response: Option<&'static str>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().take(4) {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let mut buf = [0; 4096];
                let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
                let _ = conn.read(&mut buf);
                match response {
                    Some(r) => {
                        let _ = conn.write_all(r.as_bytes());
                    }
                    None => std::thread::sleep(Duration::from_secs(20)),
                }
            });
        }
    });
    url
}

#[test]
fn a_malformed_response_is_reported_without_its_text() {
    let url = fake(Some(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 26\r\nConnection: close\r\n\r\n{\"SecretString\": db-pass-x",
    ));
    let dir = project(&app("AKIDTEST", "test-secret-key"));
    let err = open_fails(dir.path(), &[("AWS_ENDPOINT_URL", &url)]);
    assert!(err.contains("aws-secrets: get.api:"), "{err}");
    assert!(
        err.contains("is not valid JSON (expected value at line 1 column 18)"),
        "{err}"
    );
    assert!(!err.contains("test-secret-key"), "{err}");
}

#[test]
fn a_server_that_hangs_is_given_up_on() {
    let url = fake(None);
    let dir = project(&app("AKIDTEST", "test-secret-key"));
    let start = Instant::now();
    let err = open_fails(
        dir.path(),
        &[("AWS_ENDPOINT_URL", &url), ("ESCC_AWS_TIMEOUT", "1")],
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
    let err = open_fails(dir.path(), &[("AWS_ENDPOINT_URL", &moto.url)]);
    assert!(
        err.contains(
            "aws-login: oidc: no identity token: set AWS_WEB_IDENTITY_TOKEN_FILE, ESCC_OIDC_TOKEN_FILE or ESCC_OIDC_TOKEN_COMMAND"
        ),
        "{err}"
    );

    // STS refuses, quoting the token: the message keeps the error, not the token.
    let url = fake(Some(
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 131\r\nConnection: close\r\n\r\n<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>bad eyJ.web-identity-token-77.sig</Message></Error></ErrorResponse>",
    ));
    let err = open_fails(
        dir.path(),
        &[
            ("AWS_ENDPOINT_URL_STS", &url),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file),
        ],
    );
    assert!(
        err.contains("InvalidIdentityToken: bad [secret] (HTTP 400)"),
        "{err}"
    );
    assert!(!err.contains("web-identity-token-77"), "{err}");
}
