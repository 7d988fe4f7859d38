//! Providers: the built-in providers' schemas against the examples of ESC's documentation
//! (`fixtures/providers/docs`), the located diagnostics a check gives for wrong inputs and
//! outputs, and plugins (the Python example of `examples/plugins`, and plugins that fail in
//! every way the protocol bounds) run through the real binary.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use escc::project::Project;

use crate::backends::{escc, path_with, project_with, text};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_documented_examples_check_clean() {
    let project = Project::open(root().join("fixtures/providers/docs")).unwrap();
    let names = project.environments().names;
    assert_eq!(names.len(), 24, "{names:?}");
    for name in names {
        let checked = project.check(&project.host(), &name).unwrap();
        assert!(checked.diags.is_empty(), "{name}: {:#?}", checked.diags);
    }
}

/// The typed view's schema of a top-level property path.
fn typed(project: &Project, name: &str, path: &[&str]) -> serde_json::Value {
    let checked = project.check(&project.host(), name).unwrap();
    let typed = checked.evaluation.unwrap().typed().unwrap();
    let mut s = &typed["schema"];
    for p in path {
        s = &s["properties"][*p];
    }
    s.clone()
}

#[test]
fn output_types_are_known() {
    let project = Project::open(root().join("fixtures/providers/docs")).unwrap();
    let key = typed(
        &project,
        "aws-login",
        &["environmentVariables", "AWS_ACCESS_KEY_ID"],
    );
    assert_eq!(key["type"], "string", "{key}");
    let project_number = typed(
        &project,
        "gcp-login-outputs",
        &["pulumiConfig", "gcp:project"],
    );
    assert_eq!(project_number["type"], "number", "{project_number}");
    let list = typed(&project, "aws-parameter-store", &["aws", "params"]);
    assert_eq!(list["type"], "object", "{list}");
}

/// `(code, line:column, message)` of each diagnostic of `escc check --format json`.
fn check_json(dir: &Path, name: &str) -> Vec<(String, String, String)> {
    let out = escc(dir, &["check", "--format", "json", name], &[]);
    let diags: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    diags
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                format!("{}:{}", d["start"]["line"], d["start"]["column"]),
                d["summary"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn wrong_inputs_and_outputs_are_located() {
    let dir = project_with(&[
        ("escc.toml", ""),
        (
            "app.yaml",
            "values:
  aws:
    login:
      fn::open::aws-login:
        oidc:
          rolArn: arn:aws:iam::012345678912:role/x
          sessionName: esc
    secrets:
      fn::open::aws-secrets:
        login: ${aws.login}
        get:
          api-key: {secretId: api-key, versonId: v1}
  creds: ${aws.login}
  environmentVariables:
    AWS_ACCESS_KEY_ID: ${aws.login.accessKeyId}
    AWS_SECRET_ACCESS_KEY: ${creds.secretAccesKey}
",
        ),
    ]);
    let diags = check_json(dir.path(), "app");
    let expected = [
        (
            "unknown-property",
            "6:11",
            "provider aws-login takes no input \"rolArn\"; did you mean \"roleArn\"?",
        ),
        (
            "schema-violation",
            "6:11",
            "missing required properties: roleArn",
        ),
        (
            "schema-violation",
            "10:9",
            "missing required properties: region",
        ),
        (
            "unknown-property",
            "12:40",
            "provider aws-secrets takes no input \"versonId\"; did you mean \"versionId\"?",
        ),
        (
            "unknown-property",
            "16:35",
            "unknown property \"secretAccesKey\"; did you mean \"secretAccessKey\"?",
        ),
    ];
    let got: Vec<(&str, &str, &str)> = diags
        .iter()
        .map(|(c, p, m)| (c.as_str(), p.as_str(), m.as_str()))
        .collect();
    assert_eq!(got, expected);
}

const ENVIRON_APP: &str = "values:
  env:
    fn::open::environ:
      get:
        user: {name: ESCC_TEST_USER, secret: false}
        token: {name: ESCC_TEST_TOKEN}
  greeting: hello ${env.user}
  environmentVariables:
    TOKEN: ${env.token}
";

#[test]
fn the_python_example_opens_checks_and_runs() {
    let plugins = root().join("examples/plugins");
    let dir = project_with(&[("escc.toml", ""), ("app.yaml", ENVIRON_APP)]);
    let path = path_with(&[&plugins]);
    let env = [
        ("PATH", path.as_str()),
        ("ESCC_TEST_USER", "ann"),
        ("ESCC_TEST_TOKEN", "tok-7f3a9c"),
    ];
    let run = |args: &[&str]| escc(dir.path(), args, &env);
    let out = run(&["open", "app", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let values: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(values["greeting"], "hello ann");
    // The plugin marked the token secret.
    assert_eq!(values["env"]["token"], "[secret]");
    assert_eq!(values["environmentVariables"]["TOKEN"], "[secret]");
    let out = run(&["open", "app", "--format", "json", "--show-secrets"]);
    let values: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(values["env"]["token"], "tok-7f3a9c");

    let out = run(&["check", "app"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // `run` gives the command the value and masks it in what the command prints.
    let out = run(&[
        "run",
        "app",
        "--",
        "sh",
        "-c",
        "test \"$TOKEN\" = tok-7f3a9c && echo \"$TOKEN\"",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "[secret]");

    // The plugin's own schema checks its inputs, with the same located diagnostics.
    std::fs::write(
        dir.path().join("typo.yaml"),
        "values:\n  env:\n    fn::open::environ:\n      get:\n        user: {nme: X}\n",
    )
    .unwrap();
    let out = run(&["check", "typo", "--format", "json"]);
    let diags: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let summaries: Vec<&str> = diags
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        [
            "missing required properties: name",
            "provider environ takes no input \"nme\"; did you mean \"name\"?"
        ]
    );
}

/// Opens `fn::open::NAME` in a project whose plugin `NAME` is `script` (configured in
/// escc.toml with a 2 s timeout); the one diagnostic's message and how long it took.
fn open_failing(name: &str, script: &str) -> (String, Duration) {
    // The plaintext secret is the one a failing plugin must not show: no plaintext-secret
    // warning beside the one diagnostic.
    let toml = format!(
        "[providers.{name}]\ncommand = [\"./{name}.sh\"]\ntimeout = 2\n[encryption]\nallow-plaintext = true\n"
    );
    let app = format!(
        "values:\n  x:\n    fn::open::{name}:\n      password:\n        fn::secret: hunter2-secret\n"
    );
    let dir = project_with(&[
        ("escc.toml", &toml),
        ("app.yaml", &app),
        (&format!("{name}.sh"), script),
    ]);
    let mut project = Project::open(dir.path()).unwrap();
    project.allow_plugins(true);
    let start = Instant::now();
    let checked = project.evaluate(&project.host(), "app").unwrap();
    let took = start.elapsed();
    let [d] = checked.diags.as_slice() else {
        panic!("{:#?}", checked.diags)
    };
    assert_eq!(d.code.as_str(), "provider-failed");
    assert_eq!(d.path, "values.x");
    assert!(!d.summary.contains("hunter2-secret"), "{}", d.summary);
    (d.summary.clone(), took)
}

/// A plugin that describes `outputs` and then runs `open` (shell, with the request on
/// standard input).
fn scripted(outputs: &str, open: &str) -> String {
    format!(
        r#"#!/bin/sh
req=$(cat)
case "$req" in
  *'"method":"describe"'*)
    echo '{{"protocol":1,"provider":{{"inputs":true,"outputs":{outputs}}}}}' ;;
  *) {open} ;;
esac
"#
    )
}

#[test]
fn a_plugin_that_exits_non_zero_is_reported_without_its_stderr() {
    let (message, _) = open_failing(
        "dies",
        &scripted("true", "echo \"leaked: $req\" >&2; exit 3"),
    );
    assert!(
        message.contains("plugin \"dies\" (escc.toml): open: it exited with status 3"),
        "{message}"
    );
}

#[test]
fn a_plugin_that_hangs_is_stopped_at_its_timeout() {
    // `sleep` is a child of the shell and keeps the output pipe open after the shell is
    // killed: escc must not wait for it.
    let (message, took) = open_failing("hangs", &scripted("true", "sleep 30"));
    assert!(message.contains("open: no response within 2s"), "{message}");
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn a_plugin_that_hangs_is_stopped_with_what_it_started() {
    // The plugin starts a background process that would outlive it; at the timeout the
    // plugin's whole process group is killed, not only the plugin.
    let pids = tempfile::tempdir().unwrap();
    let pid_file = pids.path().join("sleeper.pid");
    let open = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
    let (message, _) = open_failing("forks", &scripted("true", &open));
    assert!(message.contains("open: no response within 2s"), "{message}");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let stat = Path::new("/proc").join(pid.trim()).join("stat");
    let deadline = Instant::now() + Duration::from_secs(5);
    // Gone, or a zombie waiting for whoever adopted it.
    while std::fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z ")) {
        assert!(
            Instant::now() < deadline,
            "the plugin's child {pid} still runs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_plugin_that_prints_garbage_is_reported() {
    let (message, _) = open_failing("garbage", &scripted("true", "echo 'not json {'"));
    assert!(
        message
            .contains("open: the response is not valid JSON (expected ident at line 1 column 2)"),
        "{message}"
    );
    let (message, _) = open_failing("silent", &scripted("true", "exit 0"));
    assert!(
        message.contains("open: it printed no response"),
        "{message}"
    );
    let (message, _) = open_failing(
        "future",
        &scripted("true", "echo '{\"protocol\":2,\"outputs\":{}}'"),
    );
    assert!(
        message.contains("open: it speaks protocol version 2; escc speaks version 1"),
        "{message}"
    );
}

#[test]
fn a_plugin_that_prints_too_much_is_stopped() {
    let (message, took) = open_failing("floods", &scripted("true", "exec yes"));
    assert!(
        message.contains("open: its response is larger than 4 MiB"),
        "{message}"
    );
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn outputs_that_violate_the_described_schema_are_refused() {
    let (message, _) = open_failing(
        "liar",
        &scripted(
            r#"{"type":"object","properties":{"port":{"type":"number"}}}"#,
            r#"echo '{"protocol":1,"outputs":{"port":"eighty"},"secrets":[]}'"#,
        ),
    );
    assert!(
        message.contains(
            "open: the outputs do not match the schema it described: port: expected number, got string"
        ),
        "{message}"
    );
}

#[test]
fn a_plugin_error_is_shown_with_the_inputs_secrets_masked() {
    let (message, _) = open_failing(
        "echoes",
        &scripted(
            "true",
            r#"echo '{"protocol":1,"error":"login refused for password hunter2-secret"}'"#,
        ),
    );
    assert!(
        message.contains("open: login refused for password [secret]"),
        "{message}"
    );
}

#[test]
fn a_missing_plugin_is_named() {
    let dir = project_with(&[
        (
            "escc.toml",
            "[providers.gone]\ncommand = [\"./not-there.sh\"]\n",
        ),
        ("a.yaml", "values:\n  x:\n    fn::open::nothere: {}\n"),
        ("b.yaml", "values:\n  x:\n    fn::open::gone: {}\n"),
    ]);
    let mut project = Project::open(dir.path()).unwrap();
    project.allow_plugins(true);
    let checked = project.evaluate(&project.host(), "a").unwrap();
    assert_eq!(
        checked.diags[0].summary,
        "unknown provider \"nothere\": escc has no built-in provider of that name, no escc-provider-nothere is on PATH, and escc.toml configures no [providers.nothere]; a plugin can serve it (see docs/providers.md, \"Plugins\")"
    );
    // A configured plugin that cannot run fails already in a check (its schemas are needed).
    let out = escc(
        dir.path(),
        &["check", "b", "--format", "json", "--allow-plugins"],
        &[],
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("plugin \\\"gone\\\" (escc.toml): describe: cannot run "),
        "{stdout}"
    );
    assert!(
        stdout.contains("not-there.sh: no such file or directory"),
        "{stdout}"
    );
}

#[test]
fn a_rotator_plugin_rotates() {
    let rotator = r#"#!/usr/bin/env python3
import json, sys
req = json.load(sys.stdin)
out = {"protocol": 1}
schema = {"type": "object", "properties": {"n": {"type": "number"}}}
if req["method"] == "describe":
    out["rotator"] = {"inputs": True, "state": schema, "outputs": schema}
elif req["method"] == "rotate":
    n = (req["state"] or {"n": 0})["n"]
    out["state"] = {"n": n + 1}
    out["secrets"] = []
else:
    out["outputs"] = req["state"] or {"n": 0}
    out["secrets"] = []
json.dump(out, sys.stdout)
"#;
    let dir = project_with(&[
        ("escc.toml", ""),
        ("bin/escc-provider-counter", rotator),
        (
            "app.yaml",
            "values:\n  c:\n    fn::rotate::counter:\n      inputs: {}\n      state: {n: 1}\n",
        ),
    ]);
    let bin = dir.path().join("bin");
    let path = path_with(&[&bin]);
    let out = escc(
        dir.path(),
        &["open", "app", "--format", "json"],
        &[("PATH", &path)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let values: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(values["c"]["n"], 1);
    // escc has no rotate command yet: rotate through the library, with the plugin found
    // on an explicit search path.
    let mut project = Project::open(dir.path()).unwrap();
    project.allow_plugins(true);
    let host = escc::project::FsHost::new(project.root()).with_catalog(
        escc::providers::Catalog::new(project.root(), &project.config().providers)
            .with_search_path(Some(bin.into_os_string())),
    );
    let rotated = project
        .run(&host, "app", &escc::eval::Mode::Rotate { paths: vec![] })
        .unwrap();
    assert!(rotated.diags.is_empty(), "{:#?}", rotated.diags);
    let patches = rotated.evaluation.as_ref().unwrap().patches();
    assert_eq!(patches.len(), 1);
    assert_eq!(
        patches[0]["DocPath"],
        "values.c[\"fn::rotate::counter\"].state"
    );
    assert_eq!(patches[0]["Replacement"]["value"]["n"]["value"], 2);
    assert_eq!(rotated.values_json(false)["c"]["n"], 2);
}

#[test]
fn a_plugin_a_project_configures_runs_only_when_allowed() {
    // The plugin leaves a mark when it runs: a repository must not run a command by
    // configuring it, in a check or in an open, unless the person running escc allows it.
    let dir = project_with(&[
        (
            "escc.toml",
            "[providers.marker]\ncommand = [\"./marker.sh\"]\n",
        ),
        ("app.yaml", "values:\n  x:\n    fn::open::marker: {}\n"),
        (
            "marker.sh",
            "#!/bin/sh\ntouch ran\necho '{\"protocol\":1,\"error\":\"ran\"}'\n",
        ),
    ]);
    let ran = dir.path().join("ran");

    let out = escc(dir.path(), &["check", "app", "--format", "json"], &[]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert_eq!(text(&out.stdout).trim(), "[]");
    let out = escc(dir.path(), &["open", "app"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--allow-plugins"),
        "{}",
        text(&out.stderr)
    );
    let project = Project::open(dir.path()).unwrap();
    let checked = project.evaluate(&project.host(), "app").unwrap();
    assert_eq!(
        checked.diags[0].summary,
        "provider \"marker\" is not available: escc.toml configures a plugin for it ([providers.marker]), and escc runs the plugins a project configures only when you allow them: pass --allow-plugins or set ESCC_ALLOW_PLUGINS=1 (see SECURITY.md)"
    );
    assert!(!ran.exists(), "the plugin ran without being allowed");

    let out = escc(dir.path(), &["open", "app", "--allow-plugins"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("ran"), "{}", text(&out.stderr));
    assert!(ran.exists(), "--allow-plugins did not let the plugin run");
    std::fs::remove_file(&ran).unwrap();
    let out = escc(
        dir.path(),
        &["check", "app"],
        &[("ESCC_ALLOW_PLUGINS", "1")],
    );
    assert!(
        ran.exists(),
        "ESCC_ALLOW_PLUGINS=1 did not let the plugin run: {out:?}"
    );
}
