//! `escc serve` against real clients: the Python SDK (`pulumi-esc-sdk` 0.14.0, from the
//! virtual environment `.ci/run` makes at `target/escpy`, or `$ESCC_ESCPY_VENV`; missing,
//! it is skipped outside CI and a failure under `CI=true`), and raw HTTP for what no
//! client sends (bad input, wrong tokens, scopes, sizes).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::backends::{self, BIN};

const BASE: &str = "values:\n  region: eu-west-1\n";
pub(crate) const DEV: &str = "imports:
  - app/base
values:
  db:
    host: db.example
    password:
      fn::secret: hunter22
  list: [1, \"two\"]
  environmentVariables:
    STAGE: dev
";

/// A data directory with `app/base` and `app/dev` imported, tokens, and a server on a free
/// port (killed on drop). The database is `SQLite` under `data/`, or PostgreSQL
/// (`serve_pg.rs`).
pub(crate) struct Served {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) server: std::process::Child,
    pub(crate) port: u16,
    /// What `escc serve import` said.
    pub(crate) imported: String,
    /// The PostgreSQL URL, when not `SQLite`.
    pub(crate) database: Option<String>,
    /// What the server was started with, for replicas.
    pub(crate) extra: Vec<String>,
    pub(crate) identity: Option<PathBuf>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Another server on a [`Served`]'s database (killed on drop).
pub(crate) struct Replica {
    pub(crate) server: std::process::Child,
    pub(crate) port: u16,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

pub(crate) fn escc(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("ESCC_AGE_IDENTITY")
        .env_remove("ESCC_AGE_IDENTITY_FILE")
        .env_remove("ESCC_DATABASE")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The project `Served::start` imports: `app/base`, `app/dev` and `top` (skipped).
pub(crate) fn sample_project(dir: &Path) -> PathBuf {
    let project = dir.join("project");
    std::fs::create_dir_all(project.join("app")).unwrap();
    std::fs::write(project.join("escc.toml"), "").unwrap();
    std::fs::write(project.join("app/base.yaml"), BASE).unwrap();
    std::fs::write(project.join("app/dev.yaml"), DEV).unwrap();
    std::fs::write(project.join("top.yaml"), "values: {}\n").unwrap();
    project
}

/// Starts `escc serve` on a free port with `store` (`--data DIR` or `--database URL`),
/// its stdout and stderr in `{prefix}out.log` and `{prefix}err.log` under `dir`.
fn spawn_server(
    dir: &Path,
    store: &[String],
    extra: &[String],
    identity: Option<&Path>,
    prefix: &str,
) -> (std::process::Child, u16) {
    let port = backends::free_port();
    // The load benchmark serves with a release build (benches/serve-load/run.sh).
    let bin = std::env::var("ESCC_SERVE_BIN").unwrap_or_else(|_| BIN.to_owned());
    let mut command = Command::new(bin);
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(store)
        .args(["--org", "acme"])
        .args(extra)
        .env_remove("ESCC_AGE_IDENTITY")
        .env_remove("ESCC_AGE_IDENTITY_FILE")
        .env_remove("ESCC_DATABASE")
        .env("XDG_CONFIG_HOME", dir.join("no-config"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join(format!("{prefix}out.log"))).unwrap())
        .stderr(std::fs::File::create(dir.join(format!("{prefix}err.log"))).unwrap());
    if let Some(key) = identity {
        command.env("ESCC_AGE_IDENTITY_FILE", key);
    }
    let mut server = command.spawn().unwrap();
    let start = std::time::Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            server.try_wait().unwrap().is_none(),
            "escc serve exited at start"
        );
        assert!(start.elapsed().as_secs() < 60, "escc serve did not listen");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (server, port)
}

/// One HTTP/1.1 request to the server on `port`, with `headers`: the status, the response
/// head and its body.
pub(crate) fn request_on(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = token.map_or_else(String::new, |t| format!("Authorization: token {t}\r\n"));
    for (k, v) in headers {
        head = format!("{head}{k}: {v}\r\n");
    }
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{head}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    // A body larger than the limit may be refused before it is all sent.
    let _ = s.write_all(body);
    let mut response = Vec::new();
    let _ = s.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text[9..12].parse().unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_owned(), body.to_owned())
}

impl Served {
    pub(crate) fn start(extra: &[&str]) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let project = sample_project(dir.path());
        let served = Served::start_in(dir, &project, extra, None);
        let said = &served.imported;
        assert!(said.contains("skipped top: not served"), "{said}");
        assert!(said.contains("2 environment(s) changed"), "{said}");
        served
    }

    /// Imports `project` and serves it, with `identity` (an age key file) to decrypt.
    /// The server's stdout and stderr go to `out.log` and `err.log` in `dir`.
    pub(crate) fn start_in(
        dir: tempfile::TempDir,
        project: &Path,
        extra: &[&str],
        identity: Option<&Path>,
    ) -> Served {
        Served::start_with(dir, project, extra, identity, None)
    }

    /// As [`Served::start_in`], on the PostgreSQL database `database` when given.
    pub(crate) fn start_with(
        dir: tempfile::TempDir,
        project: &Path,
        extra: &[&str],
        identity: Option<&Path>,
        database: Option<&str>,
    ) -> Served {
        let store = match database {
            Some(url) => vec!["--database".to_owned(), url.to_owned()],
            None => vec![
                "--data".to_owned(),
                dir.path().join("data").to_str().unwrap().to_owned(),
            ],
        };
        let mut args = vec!["serve", "import", project.to_str().unwrap()];
        args.extend(store.iter().map(String::as_str));
        let out = escc(&args);
        assert!(out.status.success(), "{out:?}");
        let imported = String::from_utf8_lossy(&out.stderr).into_owned();
        let extra: Vec<String> = extra.iter().map(|&e| e.to_owned()).collect();
        let (server, port) = spawn_server(dir.path(), &store, &extra, identity, "");
        Served {
            dir,
            server,
            port,
            imported,
            database: database.map(str::to_owned),
            extra,
            identity: identity.map(Path::to_path_buf),
        }
    }

    /// Another server on the same database, its logs in `{name}-out.log` and
    /// `{name}-err.log`.
    pub(crate) fn replica(&self, name: &str) -> Replica {
        let (server, port) = spawn_server(
            self.dir.path(),
            &self.store_args(),
            &self.extra,
            self.identity.as_deref(),
            &format!("{name}-"),
        );
        Replica { server, port }
    }

    /// `--data DIR` or `--database URL`.
    pub(crate) fn store_args(&self) -> Vec<String> {
        match &self.database {
            Some(url) => vec!["--database".to_owned(), url.clone()],
            None => vec![
                "--data".to_owned(),
                self.data().to_str().unwrap().to_owned(),
            ],
        }
    }

    /// What the server printed: stdout (audit records) and stderr (request logs).
    pub(crate) fn logs(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.path().join(f)).unwrap();
        format!("{}{}", read("out.log"), read("err.log"))
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.server.id()
    }

    pub(crate) fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Creates a token; its value is the last line of output.
    pub(crate) fn token(&self, name: &str, role: &str, more: &[&str]) -> String {
        let store = self.store_args();
        let mut args = vec!["serve", "token", "create", name, "--role", role];
        args.extend(store.iter().map(String::as_str));
        args.extend(more);
        let out = escc(&args);
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let token = stdout.lines().last().unwrap().to_owned();
        assert!(token.starts_with("escc_"), "{stdout}");
        token
    }

    pub(crate) fn audit(&self) -> Vec<serde_json::Value> {
        let store = self.store_args();
        let mut args = vec!["serve", "audit"];
        args.extend(store.iter().map(String::as_str));
        let out = escc(&args);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// One HTTP/1.1 request; the status and body.
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> (u16, String) {
        let (status, _, body) = request_on(self.port, method, path, token, &[], body);
        (status, body)
    }
}

pub(crate) fn python() -> Option<PathBuf> {
    backends::program("ESCC_ESCPY_VENV", "escpy", "python")
}

fn flow_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/python/flow.py")
}

#[test]
fn the_python_sdk_lists_gets_opens_reads_and_updates() {
    let Some(python) = python() else { return };
    python_flow(&python, &Served::start(&[]));
}

/// The Python SDK's flow (`tests/clients/python/flow.py`) against `served`, and the audit
/// records it leaves.
pub(crate) fn python_flow(python: &Path, served: &Served) {
    let token = served.token("app-ci", "editor", &[]);
    let out = Command::new(python)
        .arg(flow_script())
        .env(
            "PULUMI_BACKEND_URL",
            format!("http://127.0.0.1:{}", served.port),
        )
        .env("PULUMI_ACCESS_TOKEN", &token)
        .env("ESCC_ORG", "acme")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        got["list"],
        serde_json::json!([
            ["acme", "app", "base", true, true],
            ["acme", "app", "dev", true, true]
        ])
    );
    assert_eq!(got["get"], DEV);
    assert_eq!(
        got["values"],
        serde_json::json!({
            "region": "eu-west-1",
            "db": {"host": "db.example", "password": "hunter22"},
            "list": [1, "two"],
            "environmentVariables": {"STAGE": "dev"},
        })
    );
    assert_eq!(got["password_is_secret"], true);
    assert_eq!(
        got["property"],
        serde_json::json!(["hunter22", true, "app/dev"])
    );
    assert_eq!(got["item"], "two");
    assert_eq!(got["update_diagnostics"], serde_json::Value::Null);
    assert_eq!(
        got["after_update"],
        serde_json::json!({"region": "eu-west-1", "stage": "updated"})
    );
    assert_eq!(got["old_session"], "db.example");
    assert_eq!(got["bad_yaml"]["status"], 400);
    let diags = &got["bad_yaml"]["body"]["diagnostics"];
    assert!(diags[0]["summary"].is_string(), "{got}");
    assert_eq!(diags[0]["range"]["environment"], "app/dev");
    assert_eq!(got["missing"]["status"], 404);

    // One audit record per open, read and update, naming the token, never a value.
    let audit = served.audit();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .filter(|r| r["who"] == "app-ci")
        // The outcome's status: `ok`, or `400` of `400 the definition has errors`.
        .map(|r| {
            let outcome = r["outcome"].as_str().unwrap();
            (
                r["action"].as_str().unwrap(),
                outcome.split(' ').next().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("open", "ok"),
            ("read", "ok"),
            ("open", "ok"),
            ("read", "ok"),
            ("read", "ok"),
            ("update", "ok"),
            ("open", "ok"),
            ("read", "ok"),
            ("read", "ok"),
            ("update", "400"),
        ]
    );
    let text = serde_json::to_string(&audit).unwrap();
    assert!(!text.contains("hunter22"), "{text}");
    assert!(
        audit
            .iter()
            .all(|r| r["remote"] == "127.0.0.1" || r["remote"] == "cli")
    );
}

#[test]
fn bad_input_wrong_tokens_scopes_and_sizes_get_clear_errors() {
    let served = Served::start(&["--max-body", "4096"]);
    let admin = served.token("admin", "admin", &[]);
    let reader = served.token("reader", "reader", &[]);
    let other = served.token("other", "opener", &["--scope", "acme/other/*"]);
    let expired = served.token("old", "admin", &["--expires", "1s"]);
    let dev = "/api/esc/environments/acme/app/dev";
    let message = |body: &str| -> String {
        let j: serde_json::Value = serde_json::from_str(body).unwrap();
        j["message"].as_str().unwrap().to_owned()
    };

    assert_eq!(
        served.request("GET", "/healthz", None, b""),
        (200, "{\"status\":\"ok\"}".into())
    );
    // No token, a malformed header, an unknown token: 401, saying what is missing.
    let (s, b) = served.request("GET", dev, None, b"");
    assert_eq!(
        (s, message(&b).contains("Authorization: token")),
        (401, true)
    );
    let (s, b) = served.request("GET", dev, Some("escc_nope"), b"");
    assert_eq!(s, 401);
    assert!(message(&b).contains("not valid"), "{b}");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (s, b2) = served.request("GET", dev, Some(&expired), b"");
    // An expired token reads exactly as an unknown one.
    assert_eq!((s, b2), (401, b));

    // A reader cannot open; a token of another scope gets the same 403 whether or not the
    // environment exists.
    let (s, b) = served.request("POST", &format!("{dev}/open"), Some(&reader), b"");
    assert_eq!(s, 403);
    assert!(message(&b).contains("role opener"), "{b}");
    let (s1, b1) = served.request("POST", &format!("{dev}/open"), Some(&other), b"");
    let (s2, b2) = served.request(
        "POST",
        "/api/esc/environments/acme/app/ghost/open",
        Some(&other),
        b"",
    );
    assert_eq!((s1, s2), (403, 403));
    assert_eq!(
        message(&b1),
        "the token's scope does not cover acme/app/dev"
    );
    assert_eq!(
        message(&b2),
        "the token's scope does not cover acme/app/ghost"
    );
    // The other scope's listing shows nothing of app/.
    let (_, b) = served.request("GET", "/api/esc/environments/acme", Some(&other), b"");
    assert_eq!(b, "{\"environments\":[]}");

    // Unknown routes, path traversal, invalid names.
    assert_eq!(served.request("GET", "/nope", Some(&admin), b"").0, 404);
    assert_eq!(
        served.request("GET", "/api/esc/nope", Some(&admin), b"").0,
        404
    );
    for bad in [
        "/api/esc/environments/acme/app/%2e%2e",
        "/api/esc/environments/acme/app/..%2f..%2fetc",
        "/api/esc/environments/acme/app/a%00b",
        "/api/esc/environments/acme/app/%ff",
    ] {
        let (s, b) = served.request("GET", bad, Some(&admin), b"");
        assert_eq!(s, 400, "{bad}: {b}");
    }
    // Malformed YAML: 400 with located diagnostics; nothing written.
    let (s, b) = served.request("PATCH", dev, Some(&admin), b"values: {a: [1, 2\n");
    assert_eq!(s, 400, "{b}");
    let j: serde_json::Value = serde_json::from_str(&b).unwrap();
    // At the end of the input, where the list is still open.
    assert_eq!(j["diagnostics"][0]["range"]["begin"]["line"], 2, "{b}");
    assert!(
        j["diagnostics"][0]["summary"]
            .as_str()
            .unwrap()
            .contains("expected ','"),
        "{b}"
    );
    let (s, b) = served.request("GET", dev, Some(&admin), b"");
    assert_eq!((s, b.as_str()), (200, DEV));
    // An oversized body: 413, nothing written.
    let big = format!("values:\n  a: \"{}\"\n", "x".repeat(5000));
    let (s, b) = served.request("PATCH", dev, Some(&admin), big.as_bytes());
    assert_eq!(s, 413, "{b}");
    // A stale ETag: 409.
    let mut s = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    let body = "values: {a: 1}\n";
    write!(
        s,
        "PATCH {dev} HTTP/1.1\r\nHost: x\r\nAuthorization: token {admin}\r\nETag: \"7\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    assert!(r.starts_with("HTTP/1.1 409"), "{r}");

    // A session of another environment is unknown; so is a made-up one.
    let (s, b) = served.request("POST", &format!("{dev}/open"), Some(&admin), b"");
    assert_eq!(s, 200, "{b}");
    let id = serde_json::from_str::<serde_json::Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(b, format!("{{\"id\":\"{id}\"}}"));
    let base = "/api/esc/environments/acme/app/base";
    assert_eq!(
        served
            .request("GET", &format!("{base}/open/{id}"), Some(&admin), b"")
            .0,
        404
    );
    assert_eq!(
        served
            .request("GET", &format!("{dev}/open/0000"), Some(&admin), b"")
            .0,
        404
    );
    let (s, b) = served.request(
        "GET",
        &format!("{dev}/open//{id}?property=db.nope"),
        Some(&admin),
        b"",
    );
    assert_eq!(s, 404, "{b}");
    let (s, _) = served.request(
        "GET",
        &format!("{dev}/open//{id}?property=db.%5B"),
        Some(&admin),
        b"",
    );
    assert_eq!(s, 400);
    // A session lifetime that is not a duration, or too long.
    assert_eq!(
        served
            .request(
                "POST",
                &format!("{dev}/open?duration=soon"),
                Some(&admin),
                b""
            )
            .0,
        400
    );
    assert_eq!(
        served
            .request(
                "POST",
                &format!("{dev}/open?duration=1000h"),
                Some(&admin),
                b""
            )
            .0,
        400
    );
    assert_eq!(
        served
            .request(
                "POST",
                &format!("{dev}/open?duration=2h0m0s"),
                Some(&admin),
                b""
            )
            .0,
        200
    );

    // A session ends after its lifetime.
    let (s, b) = served.request(
        "POST",
        &format!("{dev}/open?duration=1s"),
        Some(&admin),
        b"",
    );
    assert_eq!(s, 200, "{b}");
    let short = serde_json::from_str::<serde_json::Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = format!("{dev}/open/{short}");
    assert_eq!(served.request("GET", &read, Some(&admin), b"").0, 200);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (s, b) = served.request("GET", &read, Some(&admin), b"");
    assert_eq!(s, 404, "{b}");
    assert!(b.contains("unknown or has expired"), "{b}");

    // The audit log has the refusals too, and no secret.
    let audit = served.audit();
    assert!(audit.iter().any(|r| r["who"] == "reader"
        && r["action"] == "open"
        && r["outcome"].as_str().unwrap().starts_with("403")));
    assert!(!serde_json::to_string(&audit).unwrap().contains("hunter22"));
}

/// SIGTERM stops the server after the requests in flight, with status 0.
#[test]
fn sigterm_stops_the_server_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let port = backends::free_port();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed().as_secs() < 60, "did not listen");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    rustix_kill(child.id());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{status:?} {err}");
    assert!(err.contains("escc: stopped"), "{err}");
}

/// A client that sends half a request body and stalls does not keep the server running
/// after SIGTERM: the requests in flight get `--shutdown-grace` (here 1s), then the server
/// exits, saying so.
#[test]
fn a_hung_client_does_not_keep_the_server_from_exiting_after_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = backends::free_port();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path())
        .args(["--shutdown-grace", "1s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed().as_secs() < 60, "did not listen");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // 5 of the 100 bytes announced: the handler waits for the rest.
    let mut hung = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        hung,
        "POST /api/esc/environments/acme HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhello"
    )
    .unwrap();
    hung.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    rustix_kill(child.id());
    // Without the bound the server never exits: give up (and fail) after a minute.
    let waited = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if waited.elapsed().as_secs() > 60 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("escc serve still runs a minute after SIGTERM with a hung client");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{status:?} {err}");
    assert!(
        err.contains("requests still in flight 1s after the signal were abandoned"),
        "{err}"
    );
    assert!(err.contains("escc: stopped"), "{err}");
    drop(hung);
}

fn rustix_kill(pid: u32) {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Age ciphertexts are decrypted with the server's identity for open and `decrypt`; the
/// plain definition, the logs and the audit log never show the plaintext.
#[test]
fn age_secrets_open_with_the_servers_identity_and_never_leak() {
    let project = crate::age::Project::new(&[]);
    project.write(
        "app/prod.yaml",
        "values:\n  db:\n    password:\n      fn::secret: s3cr3t-value\n",
    );
    let out = project.escc(&["encrypt"], None, true);
    assert!(out.status.success(), "{out:?}");
    assert!(!project.read("app/prod.yaml").contains("s3cr3t-value"));
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start_in(dir, project.root(), &[], Some(&project.key));
    let opener = served.token("opener", "opener", &[]);
    let reader = served.token("reader", "reader", &[]);
    let prod = "/api/esc/environments/acme/app/prod";

    let (s, b) = served.request("POST", &format!("{prod}/open"), Some(&opener), b"");
    assert_eq!(s, 200, "{b}");
    let id = serde_json::from_str::<serde_json::Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, b) = served.request(
        "GET",
        &format!("{prod}/open//{id}?property=db.password"),
        Some(&opener),
        b"",
    );
    assert_eq!(s, 200, "{b}");
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(
        (v["value"].as_str(), v["secret"].as_bool()),
        (Some("s3cr3t-value"), Some(true))
    );
    // The definition keeps its ciphertext; `decrypt` shows the plaintext, to openers only.
    let (s, b) = served.request("GET", prod, Some(&reader), b"");
    assert_eq!(s, 200);
    assert!(
        b.contains("ciphertext") && !b.contains("s3cr3t-value"),
        "{b}"
    );
    assert_eq!(
        served
            .request("GET", &format!("{prod}/decrypt"), Some(&reader), b"")
            .0,
        403
    );
    let (s, b) = served.request("GET", &format!("{prod}/decrypt"), Some(&opener), b"");
    assert_eq!(s, 200, "{b}");
    assert!(b.contains("s3cr3t-value"), "{b}");

    let logs = served.logs();
    assert!(logs.contains("\"action\":\"read\""), "{logs}");
    assert!(
        !logs.contains("s3cr3t-value") && !logs.contains(&id),
        "{logs}"
    );
    let audit = serde_json::to_string(&served.audit()).unwrap();
    assert!(
        !audit.contains("s3cr3t-value") && !audit.contains(&id),
        "{audit}"
    );
    let db = std::fs::read(served.data().join("escc.sqlite3")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains("s3cr3t-value"));
    for token in [&opener, &reader, &id] {
        assert!(!String::from_utf8_lossy(&db).contains(token.as_str()));
    }
}
