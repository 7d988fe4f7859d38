//! What every provider gets from escc's runtime, whichever provider it is: identical opens
//! made once per evaluation, `--offline`, the progress line on a terminal, unknown
//! providers named by a check. (Timeouts, retries and endpoint overrides are tested with
//! each provider: `aws.rs`.)

use std::path::Path;
use std::process::{Command, Stdio};

use escc::eval::{Mode, Options, evaluate_with};
use escc::project::Project;

use crate::backends::{BIN, escc, path_with, project_with, text, unwrapped};
use crate::fake_http::{FakeServer, Reply};

/// A plugin that logs the inputs of each open to `opens.log` (in the project root, where
/// plugins run), takes 300 ms, and returns `{ok: true}`.
const COUNTING: &str = r#"#!/bin/sh
req=$(cat)
case "$req" in
  *'"method":"describe"'*)
    echo '{"protocol":1,"provider":{"inputs":true,"outputs":true}}' ;;
  *)
    echo "$req" | grep -o '"inputs":{[^}]*}' >> opens.log
    sleep 0.3
    echo '{"protocol":1,"outputs":{"ok":true},"secrets":[]}' ;;
esac
"#;

/// Two identical literal opens (the prefetcher makes them concurrently), two identical
/// opens whose inputs are references (the evaluator makes them in turn) with the same
/// inputs as the literals, one other open, and the same inputs made secret.
const OPENS: &str = "values:
  same: s
  a:
    fn::open::counted: {k: s}
  b:
    fn::open::counted: {k: s}
  c:
    fn::open::counted: {k: \"${same}\"}
  d:
    fn::open::counted: {k: \"${same}\"}
  other:
    fn::open::counted: {k: o}
  hidden:
    fn::open::counted:
      k:
        fn::secret: s
";

/// The lines of `opens.log`, sorted, and removes it.
fn opens(dir: &Path) -> Vec<String> {
    let log = dir.join("opens.log");
    let mut lines: Vec<String> = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    let _ = std::fs::remove_file(log);
    lines
}

#[test]
fn identical_opens_run_once_concurrently_and_in_turn() {
    let dir = project_with(&[
        (
            "escc.toml",
            "[providers.counted]\ncommand = [\"./counted.sh\"]\n[encryption]\nallow-plaintext = true\n",
        ),
        ("counted.sh", COUNTING),
        ("app.yaml", OPENS),
    ]);
    let mut project = Project::open(dir.path()).unwrap();
    project.allow_plugins(true);
    let app = std::fs::read_to_string(dir.path().join("app.yaml")).unwrap();
    let source = escc::Source::new("app", app.as_str());
    let loaded = escc::load(&source);
    let decl = loaded.decl.unwrap();
    // In turn (nothing ahead of time), then with the prefetcher's threads.
    for max_in_flight in [1, 32] {
        let options = Options {
            max_in_flight,
            ..Options::default()
        };
        let host = project.host();
        let ev = evaluate_with(
            &source,
            &decl,
            &host,
            project.context(),
            &Mode::Eval,
            &options,
        );
        assert!(ev.diags.is_empty(), "{:#?}", ev.diags);
        let properties = ev.properties.unwrap();
        for k in ["a", "b", "c", "d", "other", "hidden"] {
            assert_eq!(
                properties[k].to_json(false),
                serde_json::json!({"ok": true}),
                "{k}"
            );
        }
        // `s` once, `o` once, and the secret `s` once: a secret input is another open.
        assert_eq!(
            opens(dir.path()),
            [
                r#""inputs":{"k":"o"}"#,
                r#""inputs":{"k":"s"}"#,
                r#""inputs":{"k":"s"}"#
            ],
            "max_in_flight {max_in_flight}"
        );
    }
    // The command line: the same.
    let out = escc(
        dir.path(),
        &["open", "app", "--allow-plugins", "--format", "json"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(opens(dir.path()).len(), 3);
}

/// Static credentials (no network) feeding Secrets Manager (network).
const AWS_APP: &str = "values:
  login:
    fn::open::aws-login:
      static:
        accessKeyId: AKIDOFFLINE
        secretAccessKey: offline-secret-key
  db:
    fn::open::aws-secrets:
      region: us-east-1
      login: ${login}
      get:
        password: {secretId: prod/db}
";

#[test]
fn offline_refuses_the_network_before_any_request() {
    let server = FakeServer::start(|_| Reply::json(200, &serde_json::json!({"SecretString": "x"})));
    let dir = project_with(&[("escc.toml", ""), ("app.yaml", AWS_APP)]);
    let endpoint = [("AWS_ENDPOINT_URL", server.url.as_str())];
    for (args, env) in [
        (vec!["open", "app", "--offline"], endpoint.to_vec()),
        (
            vec!["open", "app"],
            vec![endpoint[0], ("ESCC_OFFLINE", "1")],
        ),
        (
            vec!["run", "app", "--offline", "--", "true"],
            endpoint.to_vec(),
        ),
    ] {
        let out = escc(dir.path(), &args, &env);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = unwrapped(&out.stderr);
        assert!(
            err.contains(&format!(
                "aws-secrets: get.password: GetSecretValue \"prod/db\": escc is offline (--offline or ESCC_OFFLINE): it would call {}",
                server.url
            )),
            "{args:?}: {err}"
        );
        assert!(!err.contains("offline-secret-key"), "{err}");
    }
    assert!(server.received().is_empty(), "{:?}", server.received());
    // Credentials given as inputs need no network: they open offline.
    let static_only = AWS_APP.split("  db:").next().unwrap();
    std::fs::write(dir.path().join("login.yaml"), static_only).unwrap();
    let out = escc(
        dir.path(),
        &["open", "login", "--offline", "--format", "json"],
        &endpoint,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["login"]["accessKeyId"], "AKIDOFFLINE");
    // Without --offline, the request is made.
    let out = escc(dir.path(), &["open", "app"], &endpoint);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(server.received().len(), 1);
}

#[test]
fn offline_does_not_run_plugins_to_open() {
    let dir = project_with(&[
        ("escc.toml", ""),
        ("bin/escc-provider-counted", COUNTING),
        ("app.yaml", "values:\n  x:\n    fn::open::counted: {k: v}\n"),
    ]);
    let bin = dir.path().join("bin");
    let path = path_with(&[&bin]);
    let out = escc(
        dir.path(),
        &["open", "app", "--offline"],
        &[("PATH", &path)],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = unwrapped(&out.stderr);
    assert!(
        err.contains(
            "plugin escc-provider-counted: open: escc is offline (--offline or ESCC_OFFLINE): a plugin may reach the network, so it is not run"
        ),
        "{err}"
    );
    assert!(opens(dir.path()).is_empty());
    // A check still asks it to describe itself: its schemas are needed, and describing
    // opens nothing.
    let out = escc(
        dir.path(),
        &["check", "app", "--offline"],
        &[("PATH", &path)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = escc(dir.path(), &["open", "app"], &[("PATH", &path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(opens(dir.path()).len(), 1);
}

/// Runs the program and arguments after it on a pseudo-terminal (stdout and stderr both)
/// and writes everything it printed to standard output.
const ON_A_TERMINAL: &str = r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
"#;

/// A plugin that takes 1.8 s to open.
const SLOW: &str = r#"#!/bin/sh
req=$(cat)
case "$req" in
  *'"method":"describe"'*)
    echo '{"protocol":1,"provider":{"inputs":true,"outputs":true}}' ;;
  *)
    sleep 1.8
    echo '{"protocol":1,"outputs":{"token":"tok-progress-77"},"secrets":["/token"]}' ;;
esac
"#;

#[test]
fn a_slow_open_shows_a_progress_line_on_a_terminal_only() {
    let dir = project_with(&[
        ("escc.toml", "[encryption]\nallow-plaintext = true\n"),
        ("bin/escc-provider-slowpoke", SLOW),
        (
            "app.yaml",
            "values:\n  a:\n    fn::open::slowpoke: {password: {fn::secret: hunter2-progress}}\n",
        ),
    ]);
    let bin = dir.path().join("bin");
    let path = path_with(&[&bin]);
    let out = Command::new("python3")
        .args(["-c", ON_A_TERMINAL, BIN, "open", "app", "--format", "json"])
        .current_dir(dir.path())
        .env("PATH", &path)
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let shown = text(&out.stdout);
    // The line names the provider, and is cleared before the output.
    let line = "opening 1 provider: slowpoke";
    let last = shown.rfind(line).unwrap_or_else(|| panic!("{shown:?}"));
    let cleared = shown[last..]
        .find("\r\x1b[2K")
        .expect("the line is cleared")
        + last;
    let json = shown.find('{').unwrap();
    assert!(cleared < json, "{shown:?}");
    assert!(
        shown[json..].contains("\"token\": \"[secret]\""),
        "{shown:?}"
    );
    // No secret, not even the inputs'.
    for secret in ["hunter2-progress", "tok-progress-77"] {
        assert!(!shown.contains(secret), "{shown:?}");
    }

    // Not on a terminal: nothing on stderr.
    let out = escc(dir.path(), &["open", "app"], &[("PATH", &path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn check_names_an_unknown_provider_at_its_call() {
    let dir = project_with(&[
        ("escc.toml", "[providers.mine]\ncommand = [\"./mine.sh\"]\n"),
        (
            "app.yaml",
            "values:\n  a:\n    fn::open::nope: {x: 1}\n  b:\n    fn::open::aws-logn: {}\n  c:\n    fn::rotate::gone:\n      inputs: {}\n  mine:\n    fn::open::mine: {}\n",
        ),
    ]);
    let out = escc(dir.path(), &["check", "app", "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let diags: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(String, String, String, String, String)> = diags
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["severity"].as_str().unwrap().to_owned(),
                d["code"].as_str().unwrap().to_owned(),
                format!("{}:{}", d["start"]["line"], d["start"]["column"]),
                d["path"].as_str().unwrap().to_owned(),
                d["summary"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let fix = |kind: &str, name: &str| {
        format!(
            "escc has no built-in {kind} of that name, no escc-provider-{name} is on PATH, and escc.toml configures no [providers.{name}]; a plugin can serve it (see docs/providers.md, \"Plugins\")"
        )
    };
    // `mine` is configured (not allowed to run here): not unknown; its open is not made
    // in a check.
    assert_eq!(
        got,
        [
            (
                "error".to_owned(),
                "provider-failed".to_owned(),
                "3:5".to_owned(),
                "values.a".to_owned(),
                format!("unknown provider \"nope\": {}", fix("provider", "nope")),
            ),
            (
                "error".to_owned(),
                "provider-failed".to_owned(),
                "5:5".to_owned(),
                "values.b".to_owned(),
                format!(
                    "unknown provider \"aws-logn\": did you mean \"aws-login\"? {}",
                    fix("provider", "aws-logn")
                ),
            ),
            (
                "error".to_owned(),
                "provider-failed".to_owned(),
                "7:5".to_owned(),
                "values.c".to_owned(),
                format!("unknown rotator \"gone\": {}", fix("rotator", "gone")),
            ),
        ]
    );
}
