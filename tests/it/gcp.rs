//! The GCP built-in providers through the real binary. `gcp-secrets` runs against a real
//! drongo 0.8.0 server (Secret Manager's REST API; started on a free loopback port by each
//! test, seeded through its REST API, killed when the test ends). Google's STS and IAM
//! Credentials have no installable stand-in, and drongo does not check credentials, so
//! `gcp-login` and what a real Secret Manager checks of a request (its bearer token) run
//! against in-process fakes (`fake_http`) that check what Google checks and answer in
//! Google's documented shapes; so do throttling, a server that hangs and malformed answers.
//!
//! drongo comes from the Python virtual environment `.ci/run` makes (`target/drongo-venv`,
//! or `$ESCC_DRONGO_VENV`). Without it a test is skipped with a message, except under
//! `CI=true`, where that is a failure.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::backends::{
    self, LocalServer, assert_clean, assert_says, escc, open_fails, open_shown, project, run_sh,
    text,
};
use crate::fake_http::{FakeServer, Received, Reply};
use crate::invariants::base64;
use crate::leaks::files_in;

/// The project of ESC's examples.
const PROJECT: &str = "123456789";
/// The service account of ESC's examples.
const ACCOUNT: &str = "pulumi-esc@foo-bar-123456.iam.gserviceaccount.com";
/// What Google's STS expects as the audience for ESC's example pool and provider.
const AUDIENCE: &str = "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/pulumi-esc/providers/pulumi-esc";
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The identity token of the environment (a CI system's), the federated token STS gives
/// for it, and the service account's token: each must never show.
const ID_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.id-token-Kq7.sig";
const FEDERATED: &str = "ya29.federated-Wv3";
const SA_TOKEN: &str = "ya29.service-account-Hn5";
/// A user's token, given to `gcp-login` as is.
const USER_TOKEN: &str = "ya29.user-token-Pz8";
/// The secrets seeded in drongo.
const API_KEY_V1: &str = "api-key-v1-Rm2";
const API_KEY_V2: &str = "api-key-v2-Tc6";
const APP_SECRET: &str = "app-secret-Jd4";

/// A drongo server on a free loopback port, killed on drop.
struct Drongo {
    /// Held for its drop, which stops the server.
    _server: LocalServer,
    url: String,
}

impl Drongo {
    /// Starts drongo; `None` (skipped, with a message) when it is not installed outside CI.
    fn start() -> Option<Drongo> {
        let program = backends::program("ESCC_DRONGO_VENV", "drongo-venv", "drongo")?;
        let port = backends::free_port();
        let mut command = Command::new(program);
        command.args(["server", "--host", "127.0.0.1", "--port", &port.to_string()]);
        let server = LocalServer::spawn(command, port);
        Some(Drongo {
            url: server.url.clone(),
            _server: server,
        })
    }

    /// One request to drongo's REST API: the status and the body.
    fn call(&self, method: &str, path: &str, body: &serde_json::Value) -> (u16, String) {
        let json = [("Content-Type", "application/json")];
        backends::http(&self.url, method, path, &json, &body.to_string())
            .unwrap_or_else(|| panic!("drongo did not answer {method} {path}"))
    }

    /// Creates secret `name` in ESC's example project with `versions`, in order.
    fn secret(&self, name: &str, versions: &[&str]) {
        let base = format!("/v1/projects/{PROJECT}/secrets");
        let (status, body) = self.call(
            "POST",
            &format!("{base}?secretId={name}"),
            &json!({"replication": {"automatic": {}}}),
        );
        assert_eq!(status, 200, "{body}");
        for v in versions {
            let data = json!({"payload": {"data": base64(v.as_bytes())}});
            let (status, body) = self.call("POST", &format!("{base}/{name}:addVersion"), &data);
            assert_eq!(status, 200, "{body}");
        }
    }

    /// `api-key` with two versions, `app-secret` with one.
    fn seed(&self) {
        self.secret("api-key", &[API_KEY_V1, API_KEY_V2]);
        self.secret("app-secret", &[APP_SECRET]);
    }
}

/// Every token and secret value of these tests.
const NEEDLES: &[&str] = &[
    ID_TOKEN, FEDERATED, SA_TOKEN, USER_TOKEN, API_KEY_V1, API_KEY_V2, APP_SECRET,
];

/// Google's error body (`google.rpc.Status` in the JSON API's envelope).
fn google_error(code: u16, status: &str, message: &str) -> Reply {
    Reply::json(
        code,
        &json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

fn unauthenticated() -> Reply {
    google_error(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
    )
}

/// A fake of IAM Credentials that, like Google's, answers `generateAccessToken` for
/// `account` to a caller bearing `bearer`, checking the requested scope and lifetime.
fn iamcredentials(
    bearer: &'static str,
    account: &'static str,
    lifetime: &'static str,
) -> FakeServer {
    FakeServer::start(move |r: &Received| {
        if r.header("authorization") != Some(&format!("Bearer {bearer}")) {
            return unauthenticated();
        }
        let path = format!("/v1/projects/-/serviceAccounts/{account}:generateAccessToken");
        if r.method != "POST" || r.path != path {
            return google_error(
                404,
                "NOT_FOUND",
                &format!("Requested entity was not found: {} {}", r.method, r.path),
            );
        }
        let body = r.json();
        if r.header("content-type") != Some("application/json")
            || body["scope"] != json!([CLOUD_PLATFORM])
            || body["lifetime"] != lifetime
        {
            return google_error(
                400,
                "INVALID_ARGUMENT",
                &format!("unexpected request {body}"),
            );
        }
        Reply::json(
            200,
            &json!({"accessToken": SA_TOKEN, "expireTime": "2026-12-05T08:00:00Z"}),
        )
    })
}

/// A fake of Google's STS (`POST /v1/token`, RFC 8693 token exchange) that gives
/// [`FEDERATED`] for [`ID_TOKEN`] with ESC's example audience, as Google's does, and
/// answers OAuth's error shape otherwise.
fn sts() -> FakeServer {
    FakeServer::start(|r: &Received| {
        let form = r.form();
        let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let oauth_error = |code: &str, why: &str| {
            Reply::json(400, &json!({"error": code, "error_description": why}))
        };
        if r.method != "POST" || r.path != "/v1/token" {
            return google_error(404, "NOT_FOUND", "not found");
        }
        if !r
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
        {
            return oauth_error("invalid_request", "expected a form");
        }
        if field("grant_type") != Some("urn:ietf:params:oauth:grant-type:token-exchange") {
            return oauth_error("unsupported_grant_type", "grant_type");
        }
        if field("requested_token_type") != Some("urn:ietf:params:oauth:token-type:access_token")
            || field("scope") != Some(CLOUD_PLATFORM)
        {
            return oauth_error("invalid_request", "requested_token_type or scope");
        }
        if field("subject_token_type") != Some("urn:ietf:params:oauth:token-type:jwt") {
            return oauth_error("invalid_request", "subject_token_type");
        }
        if field("audience") != Some(AUDIENCE) {
            return oauth_error(
                "invalid_target",
                "The target service indicated by the \"audience\" parameters is invalid.",
            );
        }
        if field("subject_token") != Some(ID_TOKEN) {
            return oauth_error("invalid_grant", "The ID token could not be verified.");
        }
        Reply::json(
            200,
            &json!({
                "access_token": FEDERATED,
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "token_type": "Bearer",
                "expires_in": 3599,
            }),
        )
    })
}

/// ESC's `gcp-login` example (OIDC).
const LOGIN_EXAMPLE: &str = "values:
  gcp:
    login:
      fn::open::gcp-login:
        project: 123456789
        oidc:
          workloadPoolId: pulumi-esc
          providerId: pulumi-esc
          serviceAccount: pulumi-esc@foo-bar-123456.iam.gserviceaccount.com
";

/// ESC's `gcp-secrets` example, word for word (its login is [`LOGIN_EXAMPLE`]), with a
/// version by number added and the values exported for `escc run`.
fn docs_example() -> String {
    format!(
        "{LOGIN_EXAMPLE}    secrets:
      fn::open::gcp-secrets:
        login: ${{gcp.login}}
        access:
          api-key:
            name: api-key
          app-secret:
            name: app-secret
          api-key-first:
            name: api-key
            version: \"1\"
  environmentVariables:
    API_KEY: ${{gcp.secrets.api-key}}
    CLOUDSDK_AUTH_ACCESS_TOKEN: ${{gcp.login.accessToken}}
"
    )
}

#[test]
fn the_documented_example_logs_in_with_oidc_and_reads_from_drongo() {
    let Some(drongo) = Drongo::start() else {
        return;
    };
    drongo.seed();
    let (sts, iam) = (sts(), iamcredentials(FEDERATED, ACCOUNT, "3600s"));
    let dir = project(&docs_example());
    let token_file = dir.path().join("id-token");
    std::fs::write(&token_file, format!("{ID_TOKEN}\n")).unwrap();
    let env = [
        ("ESCC_OIDC_TOKEN_FILE", token_file.to_str().unwrap()),
        ("ESCC_ENDPOINT_GCP_STS", sts.url.as_str()),
        ("ESCC_ENDPOINT_GCP_IAMCREDENTIALS", iam.url.as_str()),
        ("ESCC_ENDPOINT_GCP_SECRETMANAGER", drongo.url.as_str()),
    ];

    let v = open_shown(dir.path(), &env, &[]);
    // ESC's documented output shape: the project as the number given, a bearer token and
    // its expiry.
    assert_eq!(
        v["gcp"]["login"],
        json!({
            "accessToken": SA_TOKEN,
            "expiry": "2026-12-05T08:00:00Z",
            "project": 123_456_789,
            "tokenType": "Bearer",
        })
    );
    assert_eq!(
        v["gcp"]["secrets"],
        json!({"api-key": API_KEY_V2, "api-key-first": API_KEY_V1, "app-secret": APP_SECRET})
    );
    // Secret Manager was asked with the service account's token (drongo does not check
    // it; the fakes of the other tests do).
    assert_eq!(sts.received().len(), 1);
    assert_eq!(iam.received().len(), 1);

    let out = escc(dir.path(), &["open", "app", "--format", "json"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["gcp"]["login"]["accessToken"], "[secret]");
    assert_eq!(v["gcp"]["login"]["tokenType"], "Bearer");
    assert_eq!(
        v["gcp"]["secrets"],
        json!({"api-key": "[secret]", "api-key-first": "[secret]", "app-secret": "[secret]"})
    );
    assert_clean("escc open", &text(&out.stdout), NEEDLES);
    assert_clean("escc open's stderr", &text(&out.stderr), NEEDLES);

    assert_eq!(
        run_sh(
            dir.path(),
            &env,
            &format!(
                "test \"$API_KEY\" = {API_KEY_V2} && test \"$CLOUDSDK_AUTH_ACCESS_TOKEN\" = {SA_TOKEN} && echo \"$API_KEY $CLOUDSDK_AUTH_ACCESS_TOKEN\""
            ),
            NEEDLES,
        )
        .trim(),
        "[secret] [secret]"
    );
}

/// `gcp-login` with a user's token, given as is, feeding `gcp-secrets`.
fn given_token_app(access: &str) -> String {
    format!(
        "values:
  gcp:
    login:
      fn::open::gcp-login:
        project: 123456789
        accessToken:
          accessToken: {USER_TOKEN}
    secrets:
      fn::open::gcp-secrets:
        login: ${{gcp.login}}
        access:
{access}"
    )
}

#[test]
fn gcp_secrets_reports_what_drongo_does_not_have() {
    let Some(drongo) = Drongo::start() else {
        return;
    };
    drongo.seed();
    let env = [("ESCC_ENDPOINT_GCP_SECRETMANAGER", drongo.url.as_str())];

    let dir = project(&given_token_app("          db:\n            name: nope\n"));
    let err = open_fails(dir.path(), &env, NEEDLES);
    assert_says(
        &err,
        "gcp-secrets: access.db: access \"nope\" version latest: NOT_FOUND: Secret [projects/123456789/secrets/nope] not found. (HTTP 404)",
    );
    // At the call, with its document path.
    assert_says(&err, "[app.yaml:9:7]");
    assert_says(&err, "values.gcp.secrets");

    let dir = project(&given_token_app(
        "          db:\n            name: api-key\n            version: \"9\"\n",
    ));
    let err = open_fails(dir.path(), &env, NEEDLES);
    assert_says(
        &err,
        "access \"api-key\" version 9: NOT_FOUND: Secret Version [projects/123456789/secrets/api-key/versions/9] not found. (HTTP 404)",
    );

    // A name that would leave its path segment never reaches the server.
    let dir = project(&given_token_app(
        "          db:\n            name: ../../other\n",
    ));
    let err = open_fails(dir.path(), &env, NEEDLES);
    assert_says(
        &err,
        "gcp-secrets: access.db.name: \"../../other\" is not a secret's id",
    );
}

#[test]
fn gcp_secrets_sends_the_bearer_token_that_google_checks() {
    // drongo ignores credentials (any or none is accepted), so a fake of Secret Manager
    // checks the header as Google's does and answers in its shape.
    let sm = FakeServer::start(|r: &Received| {
        if r.header("authorization") != Some(&format!("Bearer {USER_TOKEN}")) {
            return unauthenticated();
        }
        if r.path != "/v1/projects/123456789/secrets/api-key/versions/latest:access" {
            return google_error(404, "NOT_FOUND", "not found");
        }
        Reply::json(
            200,
            &json!({
                "name": "projects/123456789/secrets/api-key/versions/2",
                "payload": {"data": base64(API_KEY_V2.as_bytes()), "dataCrc32c": crc32c(API_KEY_V2.as_bytes()).to_string()},
            }),
        )
    });
    let env = [("ESCC_ENDPOINT_GCP_SECRETMANAGER", sm.url.as_str())];
    let access = "          key:\n            name: api-key\n";
    let dir = project(&given_token_app(access));
    let v = open_shown(dir.path(), &env, &[]);
    assert_eq!(v["gcp"]["secrets"]["key"], API_KEY_V2);
    // The pass-through login needs no network and gives no expiry.
    assert_eq!(
        v["gcp"]["login"],
        json!({"accessToken": USER_TOKEN, "project": 123_456_789, "tokenType": "Bearer"})
    );
    let got = sm.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].method, "GET");

    // A wrong token: Google's refusal, at the call, without the token.
    let dir = project(&given_token_app(access).replace(USER_TOKEN, "ya29.revoked-Lk0"));
    let err = open_fails(dir.path(), &env, NEEDLES);
    assert_says(
        &err,
        "gcp-secrets: access.key: access \"api-key\" version latest: UNAUTHENTICATED: Request had invalid authentication credentials.",
    );
    assert_says(&err, "(HTTP 401)");
    // Written without fn::secret, a token is still never shown.
    assert!(!err.contains("ya29.revoked-Lk0"), "{err}");
}

/// CRC-32C, as Secret Manager computes `dataCrc32c`.
fn crc32c(bytes: &[u8]) -> u32 {
    crate::invariants::crc_reflected(0x82F6_3B78, bytes)
}

#[test]
fn gcp_secrets_retries_throttling_and_reports_bad_answers() {
    let access = "          key:\n            name: api-key\n";
    let dir = project(&given_token_app(access));
    let secret_body = |crc: u32| json!({"payload": {"data": base64(API_KEY_V2.as_bytes()), "dataCrc32c": crc.to_string()}});
    let throttled = || {
        let mut r = google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for quota metric 'Access requests' of service 'secretmanager.googleapis.com'.",
        );
        r.headers.push(("retry-after".into(), "0".into()));
        r
    };

    // Throttled twice, then answered: the value arrives.
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let good = crc32c(API_KEY_V2.as_bytes());
    let sm = FakeServer::start(move |_: &Received| {
        if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
            throttled()
        } else {
            Reply::json(200, &secret_body(good))
        }
    });
    let v = open_shown(
        dir.path(),
        &[("ESCC_ENDPOINT_GCP_SECRETMANAGER", sm.url.as_str())],
        &[],
    );
    assert_eq!(v["gcp"]["secrets"]["key"], API_KEY_V2);
    assert_eq!(sm.received().len(), 3);

    // Throttled every time: Google's message after the allowed retries.
    let sm = FakeServer::start(move |_: &Received| throttled());
    let err = open_fails(
        dir.path(),
        &[
            ("ESCC_ENDPOINT_GCP_SECRETMANAGER", sm.url.as_str()),
            ("ESCC_PROVIDER_RETRIES", "1"),
        ],
        NEEDLES,
    );
    assert_says(
        &err,
        "access.key: access \"api-key\" version latest: RESOURCE_EXHAUSTED: Quota exceeded",
    );
    assert_says(&err, "(HTTP 429)");
    assert_eq!(sm.received().len(), 2);

    // Malformed answers: not JSON (the text is not quoted), no payload, a payload that
    // does not match its checksum.
    let cases = [
        (
            Reply::text(200, &format!("{{\"payload\": {{\"data\": {API_KEY_V2}")),
            "is not valid JSON (expected value at line 1 column 22)",
        ),
        (
            Reply::json(200, &json!({"name": "x"})),
            "has no payload.data string",
        ),
        (
            Reply::json(200, &secret_body(good ^ 1)),
            "does not match its checksum (dataCrc32c)",
        ),
        (
            Reply::json(200, &json!({"payload": {"data": API_KEY_V2}})),
            "is not base64 (illegal base64 data at input byte",
        ),
    ];
    for (reply, expected) in cases {
        let sm = FakeServer::start(move |_: &Received| reply.clone());
        let err = open_fails(
            dir.path(),
            &[("ESCC_ENDPOINT_GCP_SECRETMANAGER", sm.url.as_str())],
            NEEDLES,
        );
        assert_says(&err, "gcp-secrets: access.key:");
        assert_says(&err, expected);
    }
}

#[test]
fn a_secret_manager_that_hangs_is_given_up_on() {
    let sm = FakeServer::start(|_: &Received| Reply::hang());
    let dir = project(&given_token_app(
        "          key:\n            name: api-key\n",
    ));
    let start = Instant::now();
    let err = open_fails(
        dir.path(),
        &[
            ("ESCC_ENDPOINT_GCP_SECRETMANAGER", sm.url.as_str()),
            ("ESCC_PROVIDER_TIMEOUT", "1"),
        ],
        NEEDLES,
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert_says(
        &err,
        &format!(
            "access.key: access \"api-key\" version latest: {} did not answer in time",
            sm.url
        ),
    );
}

/// `gcp-login` impersonating ESC's example service account with a user's token.
fn impersonation_app(lifetime: &str) -> String {
    format!(
        "values:
  creds:
    fn::open::gcp-login:
      project: 123456789
      accessToken:
        accessToken:
          fn::secret: {USER_TOKEN}
        serviceAccount: {ACCOUNT}
{lifetime}  environmentVariables:
    GOOGLE_OAUTH_ACCESS_TOKEN: ${{creds.accessToken}}
"
    )
}

#[test]
fn gcp_login_impersonates_a_service_account() {
    let iam = iamcredentials(USER_TOKEN, ACCOUNT, "1800s");
    let dir = project(&impersonation_app("        tokenLifetime: 30m\n"));
    let env = [("ESCC_ENDPOINT_GCP_IAMCREDENTIALS", iam.url.as_str())];
    let v = open_shown(dir.path(), &env, &[]);
    assert_eq!(
        v["creds"],
        json!({
            "accessToken": SA_TOKEN,
            "expiry": "2026-12-05T08:00:00Z",
            "project": 123_456_789,
            "tokenType": "Bearer",
        })
    );
    assert_eq!(
        run_sh(
            dir.path(),
            &env,
            &format!(
                "test \"$GOOGLE_OAUTH_ACCESS_TOKEN\" = {SA_TOKEN} && echo \"$GOOGLE_OAUTH_ACCESS_TOKEN\""
            ),
            NEEDLES,
        )
        .trim(),
        "[secret]"
    );

    // Without tokenLifetime, Google's default hour is asked for; the fake expects 30m.
    let dir = project(&impersonation_app(""));
    let err = open_fails(dir.path(), &env, NEEDLES);
    assert_says(
        &err,
        &format!(
            "gcp-login: accessToken.serviceAccount: generateAccessToken \"{ACCOUNT}\": INVALID_ARGUMENT: unexpected request"
        ),
    );
    assert_says(&err, "\"lifetime\":\"3600s\"");

    // A token IAM Credentials refuses.
    let iam = iamcredentials("ya29.someone-else", ACCOUNT, "1800s");
    let dir = project(&impersonation_app("        tokenLifetime: 30m\n"));
    let err = open_fails(
        dir.path(),
        &[("ESCC_ENDPOINT_GCP_IAMCREDENTIALS", iam.url.as_str())],
        NEEDLES,
    );
    assert_says(
        &err,
        "generateAccessToken \"pulumi-esc@foo-bar-123456.iam.gserviceaccount.com\": UNAUTHENTICATED: Request had invalid authentication credentials.",
    );
    assert_says(&err, "[app.yaml:3:5]");

    // A lifetime that is not a duration is located.
    let dir = project(&impersonation_app("        tokenLifetime: forever\n"));
    let err = open_fails(dir.path(), &env, NEEDLES);
    assert_says(
        &err,
        "gcp-login: accessToken.tokenLifetime: \"forever\" is not a duration",
    );
}

#[test]
fn gcp_login_oidc_exchanges_a_github_actions_token_at_sts() {
    // GitHub Actions' token endpoint, asked for Google's default audience of the
    // workload identity provider.
    let github = FakeServer::start(|r: &Received| {
        let expected = format!("https:{AUDIENCE}");
        if r.header("authorization") != Some("Bearer gh-request-token")
            || r.param("audience") != Some(expected.as_str())
        {
            return Reply::json(403, &json!({"message": "bad request token or audience"}));
        }
        Reply::json(200, &json!({"value": ID_TOKEN}))
    });
    let (sts, iam) = (sts(), iamcredentials(FEDERATED, ACCOUNT, "3600s"));
    let dir = project(LOGIN_EXAMPLE);
    let request_url = format!("{}/token?api-version=2.0", github.url);
    let env = [
        ("ACTIONS_ID_TOKEN_REQUEST_URL", request_url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request-token"),
        ("ESCC_ENDPOINT_GCP_STS", sts.url.as_str()),
        ("ESCC_ENDPOINT_GCP_IAMCREDENTIALS", iam.url.as_str()),
    ];
    let v = open_shown(dir.path(), &env, &[]);
    assert_eq!(v["gcp"]["login"]["accessToken"], SA_TOKEN);
    assert_eq!(v["gcp"]["login"]["expiry"], "2026-12-05T08:00:00Z");
    assert_eq!(github.received().len(), 1);
    assert_eq!(sts.received().len(), 1);
    // What IAM Credentials got: the federated token, not the identity token.
    assert_eq!(
        iam.received()[0].header("authorization"),
        Some(format!("Bearer {FEDERATED}").as_str())
    );
}

#[test]
fn gcp_login_oidc_errors_name_the_step_and_hide_the_tokens() {
    let dir = project(LOGIN_EXAMPLE);
    let token_file = dir.path().join("id-token");
    let token_file = token_file.to_str().unwrap();
    std::fs::write(token_file, ID_TOKEN).unwrap();
    let iam = iamcredentials(FEDERATED, ACCOUNT, "3600s");

    // No identity token anywhere: the sources to set are named.
    let err = open_fails(dir.path(), &[], NEEDLES);
    assert_says(
        &err,
        "gcp-login: oidc: no identity token: set ESCC_OIDC_TOKEN_FILE or ESCC_OIDC_TOKEN_COMMAND",
    );

    // Another pool: STS refuses the audience.
    let sts_fake = sts();
    let other =
        project(&LOGIN_EXAMPLE.replace("workloadPoolId: pulumi-esc", "workloadPoolId: other-pool"));
    let env = [
        ("ESCC_OIDC_TOKEN_FILE", token_file),
        ("ESCC_ENDPOINT_GCP_STS", sts_fake.url.as_str()),
        ("ESCC_ENDPOINT_GCP_IAMCREDENTIALS", iam.url.as_str()),
    ];
    let err = open_fails(other.path(), &env, NEEDLES);
    assert_says(
        &err,
        "gcp-login: oidc: STS token: invalid_target: The target service indicated by the \"audience\" parameters is invalid. (HTTP 400)",
    );
    assert_eq!(iam.received().len(), 0);

    // STS refuses quoting the token (a careless server): the token is masked.
    let quoting = FakeServer::start(|r: &Received| {
        let token = r
            .form()
            .into_iter()
            .find(|(k, _)| k == "subject_token")
            .unwrap()
            .1;
        Reply::json(
            400,
            &json!({"error": "invalid_grant", "error_description": format!("bad token {token}")}),
        )
    });
    let err = open_fails(
        dir.path(),
        &[
            ("ESCC_OIDC_TOKEN_FILE", token_file),
            ("ESCC_ENDPOINT_GCP_STS", quoting.url.as_str()),
        ],
        NEEDLES,
    );
    assert_says(&err, "invalid_grant: bad token [secret] (HTTP 400)");

    // IAM Credentials refuses the federated token (no roles/iam.workloadIdentityUser).
    let denied = FakeServer::start(|r: &Received| {
        google_error(
            403,
            "PERMISSION_DENIED",
            &format!(
                "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist). {}",
                r.header("authorization").unwrap_or_default()
            ),
        )
    });
    let err = open_fails(
        dir.path(),
        &[
            ("ESCC_OIDC_TOKEN_FILE", token_file),
            ("ESCC_ENDPOINT_GCP_STS", sts_fake.url.as_str()),
            ("ESCC_ENDPOINT_GCP_IAMCREDENTIALS", denied.url.as_str()),
        ],
        NEEDLES,
    );
    assert_says(
        &err,
        &format!(
            "gcp-login: oidc.serviceAccount: generateAccessToken \"{ACCOUNT}\": PERMISSION_DENIED: Permission 'iam.serviceAccounts.getAccessToken' denied"
        ),
    );
    assert_says(&err, "Bearer [secret]");

    // STS answers garbage.
    let garbage = FakeServer::start(|_: &Received| Reply::json(200, &json!({"token": "x"})));
    let err = open_fails(
        dir.path(),
        &[
            ("ESCC_OIDC_TOKEN_FILE", token_file),
            ("ESCC_ENDPOINT_GCP_STS", garbage.url.as_str()),
        ],
        NEEDLES,
    );
    assert_says(
        &err,
        &format!(
            "gcp-login: oidc: STS token: the response from {} has no access_token",
            garbage.url
        ),
    );

    // Offline: nothing leaves the process.
    let err = open_fails(
        dir.path(),
        &[
            ("ESCC_OIDC_TOKEN_FILE", token_file),
            ("ESCC_ENDPOINT_GCP_STS", sts_fake.url.as_str()),
            ("ESCC_OFFLINE", "1"),
        ],
        NEEDLES,
    );
    assert_says(&err, "gcp-login: oidc: STS token: escc is offline");
    // The two exchanges above (another pool, IAM's refusal); none offline.
    assert_eq!(sts_fake.received().len(), 2);
}

#[test]
fn gcp_login_inputs_are_checked_at_open() {
    for (inputs, expected) in [
        (
            "project: 123456789\n      accessToken: {accessToken: t}\n      oidc: {workloadPoolId: p, providerId: p, serviceAccount: s}",
            "gcp-login: expected one of `accessToken` or `oidc`, not both",
        ),
        (
            "project: 123456789",
            "gcp-login: expected `accessToken` or `oidc`",
        ),
        (
            "project: 1.5\n      accessToken: {accessToken: t}",
            "gcp-login: project: 1.5 is not a project number",
        ),
        (
            "project: 123456789\n      accessToken: {accessToken: t, serviceAccount: a/b}",
            "gcp-login: accessToken.serviceAccount: \"a/b\" is not a service account's email or unique id",
        ),
    ] {
        let dir = project(&format!(
            "values:\n  creds:\n    fn::open::gcp-login:\n      {inputs}\n"
        ));
        let err = open_fails(dir.path(), &[], NEEDLES);
        assert_says(&err, expected);
    }
}

#[test]
fn gcp_tokens_and_secrets_never_leak() {
    let Some(drongo) = Drongo::start() else {
        return;
    };
    drongo.seed();
    let (sts, iam) = (sts(), iamcredentials(FEDERATED, ACCOUNT, "3600s"));
    let dir = project(&docs_example());
    let token_file = dir.path().join("id-token");
    std::fs::write(&token_file, ID_TOKEN).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let env = [
        ("ESCC_OIDC_TOKEN_FILE", token_file.to_str().unwrap()),
        ("ESCC_ENDPOINT_GCP_STS", sts.url.as_str()),
        ("ESCC_ENDPOINT_GCP_IAMCREDENTIALS", iam.url.as_str()),
        ("ESCC_ENDPOINT_GCP_SECRETMANAGER", drongo.url.as_str()),
        ("TMPDIR", tmp.path().to_str().unwrap()),
        ("RUST_LOG", "trace"),
        ("RUST_BACKTRACE", "full"),
    ];
    for format in ["json", "yaml", "string", "dotenv", "shell", "detailed"] {
        let out = escc(dir.path(), &["open", "app", "--format", format], &env);
        assert!(out.status.success(), "{format}: {}", text(&out.stderr));
        assert_clean(
            &format!("open --format {format}"),
            &text(&out.stdout),
            NEEDLES,
        );
        assert_clean(
            &format!("open --format {format} (stderr)"),
            &text(&out.stderr),
            NEEDLES,
        );
    }
    // A command that prints every value, also as JSON and base64: escc run masks them.
    let out = escc(
        dir.path(),
        &[
            "run",
            "app",
            "--",
            "sh",
            "-c",
            "echo \"$API_KEY\"; echo \"$CLOUDSDK_AUTH_ACCESS_TOKEN\" >&2",
        ],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_clean("run's stdout", &text(&out.stdout), NEEDLES);
    assert_clean("run's stderr", &text(&out.stderr), NEEDLES);
    // Nothing was written to the temporary directory that holds a token or value.
    for (path, content) in files_in(tmp.path()) {
        assert_clean(&path.display().to_string(), &content, NEEDLES);
    }
    // An error after the login (a missing secret) shows none of the tokens either.
    let missing = docs_example().replace("name: app-secret", "name: gone");
    let dir = project(&missing);
    let token_file = dir.path().join("id-token");
    std::fs::write(&token_file, ID_TOKEN).unwrap();
    let mut env = env.to_vec();
    env[0].1 = token_file.to_str().unwrap();
    let err = open_fails(dir.path(), &env, NEEDLES);
    assert_says(&err, "NOT_FOUND");
}
