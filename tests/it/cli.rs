//! The command line, run as the real binary on the projects in `fixtures/cli/`: every
//! subcommand and format, failing cases included, with stdout, stderr and the exit status
//! pinned by snapshots; `run`'s exit status, masking and clean-up after SIGTERM.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_escc");

fn project(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/cli")
        .join(dir)
}

/// A command in a project, with its own temporary directory.
fn command(cwd: &Path, tmp: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(cwd)
        .args(args)
        .env("TMPDIR", tmp)
        .env_remove("NO_COLOR")
        // The `aws-login` oidc transcripts fail for want of a token, wherever they run.
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .stdin(Stdio::null());
    c
}

/// Runs escc and writes down what it did: the command, the exit status, stdout, stderr.
/// Temporary paths are replaced by `$TMPDIR/escc-XXXXXX`.
fn transcript_in(cwd: &Path, args: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let out = command(cwd, tmp.path(), args).output().unwrap();
    let shown: Vec<String> = args.iter().map(|a| quote(a)).collect();
    let mut t = String::new();
    let status = match (out.status.code(), out.status.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "?".to_owned(),
    };
    let _ = writeln!(t, "$ escc {}\n[{status}]", shown.join(" "));
    let tmp_text = tmp.path().display().to_string();
    let names = regex::Regex::new(r"escc-[A-Za-z0-9]{6}").unwrap();
    for (label, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes).replace(&tmp_text, "$TMPDIR");
        let text = names.replace_all(&text, "escc-XXXXXX");
        let _ = writeln!(t, "--- {label}");
        t.push_str(&text);
        if !text.is_empty() && !text.ends_with('\n') {
            t.push_str("\n[no newline at the end]\n");
        }
    }
    t
}

fn transcript(dir: &str, args: &[&str]) -> String {
    transcript_in(&project(dir), args)
}

fn quote(a: &str) -> String {
    if !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:".contains(c))
    {
        a.to_owned()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

/// Snapshots each case as `cli__<name>`.
fn cases(list: &[(&str, &str, &[&str])]) {
    for (name, dir, args) in list {
        insta::assert_snapshot!(*name, transcript(dir, args));
    }
}

#[test]
fn check() {
    cases(&[
        ("check_good", "good", &["check"]),
        ("check_good_json", "good", &["check", "--format", "json"]),
        ("check_good_sarif", "good", &["check", "--format", "sarif"]),
        ("check_bad_human", "bad", &["check"]),
        ("check_bad_json", "bad", &["check", "--format", "json"]),
        ("check_bad_github", "bad", &["check", "--format", "github"]),
        ("check_bad_sarif", "bad", &["check", "--format", "sarif"]),
        ("check_bad_one_name", "bad", &["check", "refs"]),
        ("check_bad_one_file", "bad", &["check", "broken.yaml"]),
        ("check_warn", "warn", &["check"]),
        ("check_warn_denied", "warn", &["check", "--deny-warnings"]),
        ("check_missing_name", "good", &["check", "app/nope"]),
        ("check_not_yaml", "good", &["check", "escc.toml"]),
        ("check_bad_name", "good", &["check", "../bad/refs"]),
        ("check_bad_format", "good", &["check", "--format", "xml"]),
    ]);
}

#[test]
fn check_from_another_directory() {
    // The root is found from the path argument: fixtures/cli/good holds escc.toml.
    let out = transcript_in(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["check", "fixtures/cli/good", "--format", "github"],
    );
    insta::assert_snapshot!("check_path_argument", out);
}

#[test]
fn examples_check_clean() {
    // The README's main command: the example project has no errors.
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/examples");
    insta::assert_snapshot!("examples_check", transcript_in(&examples, &["check"]));
    insta::assert_snapshot!(
        "examples_graph",
        transcript_in(&examples, &["graph", "app/prod", "--format", "mermaid"])
    );
}

#[test]
fn get() {
    cases(&[
        ("get_json", "good", &["get", "app/dev"]),
        (
            "get_default_environment",
            "good",
            &["get", "--format", "string"],
        ),
        ("get_yaml", "good", &["get", "app/dev", "--format", "yaml"]),
        (
            "get_string",
            "good",
            &["get", "app/dev", "--format", "string"],
        ),
        (
            "get_dotenv",
            "good",
            &["get", "app/dev", "--format", "dotenv"],
        ),
        (
            "get_shell",
            "good",
            &["get", "app/dev", "--format", "shell"],
        ),
        (
            "get_detailed",
            "good",
            &["get", "base", "--format", "detailed"],
        ),
        (
            "get_detailed_path",
            "good",
            &["get", "app/dev", "database", "--format", "detailed"],
        ),
        (
            "get_show_secrets",
            "good",
            &["get", "app/dev", "database", "--show-secrets"],
        ),
        (
            "get_path_string",
            "good",
            &["get", "app/dev", "url", "--format", "string"],
        ),
        ("get_path_index", "good", &["get", "base", "list[1]"]),
        (
            "get_path_list_string",
            "good",
            &["get", "base", "list", "-f", "string"],
        ),
        (
            "get_file_argument",
            "good",
            &["get", "app/prod.yaml", "devStage"],
        ),
        ("get_unknown_provider", "good", &["get", "app/prod"]),
        (
            "get_missing_property",
            "good",
            &["get", "app/dev", "database.nope"],
        ),
        ("get_invalid_path", "good", &["get", "app/dev", "a..b"]),
        (
            "get_dotenv_with_path",
            "good",
            &["get", "app/dev", "stage", "-f", "dotenv"],
        ),
        ("get_missing_environment", "good", &["get", "nope"]),
        ("get_errors", "bad", &["get", "refs"]),
        ("get_syntax_error", "bad", &["get", "broken"]),
        ("get_ciphertext", "bad", &["get", "cipher"]),
        ("get_no_default", "bad", &["get"]),
    ]);
}

#[test]
fn open() {
    cases(&[
        ("open_json", "good", &["open", "app/dev"]),
        (
            "open_yaml",
            "good",
            &["open", "base", "--format", "yaml", "--show-secrets"],
        ),
        (
            "open_string",
            "good",
            &["open", "app/dev", "greeting", "-f", "string"],
        ),
        (
            "open_dotenv",
            "good",
            &["open", "app/dev", "--format", "dotenv"],
        ),
        (
            "open_shell_show_secrets",
            "good",
            &["open", "app/dev", "--format", "shell", "--show-secrets"],
        ),
        (
            "open_detailed",
            "good",
            &["open", "app/dev", "stage", "--format", "detailed"],
        ),
        ("open_unknown_provider", "good", &["open", "app/prod"]),
        ("open_ciphertext", "bad", &["open", "cipher"]),
        ("open_errors", "bad", &["open", "refs", "-f", "yaml"]),
    ]);
}

#[test]
fn graph() {
    cases(&[
        ("graph_dot", "good", &["graph", "app/prod"]),
        (
            "graph_mermaid",
            "good",
            &["graph", "app/prod", "--format", "mermaid"],
        ),
        ("graph_project", "good", &["graph"]),
        (
            "graph_missing_import",
            "bad",
            &["graph", "refs", "-f", "mermaid"],
        ),
        ("graph_missing_environment", "good", &["graph", "nope"]),
    ]);
}

#[test]
fn usage() {
    cases(&[
        ("help", "good", &["--help"]),
        ("help_check", "good", &["check", "--help"]),
        ("help_get", "good", &["get", "--help"]),
        ("help_open", "good", &["open", "--help"]),
        ("help_run", "good", &["run", "--help"]),
        ("help_graph", "good", &["graph", "--help"]),
        ("help_export", "good", &["export", "--help"]),
        ("help_schema", "good", &["schema", "--help"]),
        ("no_command", "good", &[]),
        ("bad_context", "good", &["get", "--context", "novalue"]),
        (
            "context_override",
            "good",
            &["get", "base", "owner", "--context", "pulumi.user.login=bob"],
        ),
        ("bad_root", "good", &["check", "--root", "does-not-exist"]),
    ]);
}

#[test]
fn run_transcripts() {
    cases(&[
        (
            "run_env_and_files",
            "good",
            &[
                "run",
                "app/dev",
                "--",
                "sh",
                "-c",
                "echo STAGE=$STAGE PORT=$PORT DEBUG=$DEBUG EMPTY=[$EMPTY] NESTED=[$NESTED]; echo \"$DOLLAR\"; cat \"$CONFIG_JSON\"; echo; cat \"$SECRET_FILE\"; echo; echo DB_PASSWORD=$DB_PASSWORD",
            ],
        ),
        (
            "run_arguments",
            "good",
            &[
                "run",
                "app/dev",
                "--",
                "echo",
                "${stage}",
                "${database.password}",
                "$${stage}",
                "${list}",
            ],
        ),
        (
            "run_interactive",
            "good",
            &["run", "app/dev", "-i", "--", "echo", "${database.password}"],
        ),
        (
            "run_errors",
            "bad",
            &["run", "refs", "--", "echo", "not run"],
        ),
        (
            "run_unknown_provider",
            "good",
            &["run", "app/prod", "--", "echo", "not run"],
        ),
        ("run_no_command", "good", &["run", "app/dev"]),
        (
            "run_not_found",
            "good",
            &["run", "app/dev", "--", "escc-no-such-command"],
        ),
        (
            "run_bad_argument",
            "good",
            &["run", "app/dev", "--", "echo", "${nope}"],
        ),
    ]);
}

fn run_in(dir: &str, args: &[&str]) -> std::process::Output {
    let tmp = tempfile::tempdir().unwrap();
    command(&project(dir), tmp.path(), args).output().unwrap()
}

#[test]
fn run_passes_on_the_exit_status() {
    for code in [0, 1, 3, 42, 255] {
        let script = format!("exit {code}");
        let out = run_in("good", &["run", "app/dev", "--", "sh", "-c", &script]);
        assert_eq!(out.status.code(), Some(code), "{out:?}");
    }
    // A command killed by a signal: escc dies of the same signal.
    let out = run_in(
        "good",
        &["run", "app/dev", "--", "sh", "-c", "kill -KILL $$$$"],
    );
    assert_eq!(out.status.signal(), Some(9), "{out:?}");
}

#[test]
fn run_masks_a_secret_split_across_writes() {
    let script = "import sys, time\n\
        for part in ['pw=hunter2-', 'base-', 'password end\\n', 'json=\"hunter2-base-password\"\\n']:\n\
        \x20   sys.stdout.write(part); sys.stdout.flush(); time.sleep(0.05)\n\
        sys.stderr.write('err: hunter2-base-password'); sys.stderr.flush()\n";
    let out = run_in("good", &["run", "app/dev", "--", "python3", "-c", script]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pw=[secret] end\njson=\"[secret]\"\n"
    );
    // The partial last line is passed on when the command ends.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.ends_with("\nerr: [secret]"), "{stderr}");
    assert!(!stderr.contains("hunter2"));
}

#[test]
fn run_masks_base64_and_long_lines() {
    // base64 of the secret, and a 200 KB line without a newline that ends in the secret.
    let script = "import base64, sys\n\
        sys.stdout.write(base64.b64encode(b'hunter2-base-password').decode() + '\\n')\n\
        sys.stdout.write('x' * 200000 + 'hunter2-base-password')\n";
    let out = run_in("good", &["run", "app/dev", "--", "python3", "-c", script]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("[secret]\n"), "{}", &text[..40]);
    assert!(text.ends_with("x[secret]"));
    assert!(!text.contains("hunter2"));
}

#[test]
fn run_files_are_private_and_removed() {
    let out = run_in(
        "good",
        &[
            "run",
            "app/dev",
            "--",
            "sh",
            "-c",
            "stat -c %a \"$CONFIG_JSON\"; echo \"$CONFIG_JSON\"",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("600"));
    let path = lines.next().unwrap();
    assert!(!Path::new(path).exists(), "{path} is left behind");
}

#[test]
fn run_removes_files_after_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    // The command prints its file's path, then waits; escc gets SIGTERM, passes it on,
    // and removes the file.
    let script =
        "import os, sys, time\nprint(os.environ['CONFIG_JSON'], flush=True)\ntime.sleep(30)\n";
    let mut child = command(
        &project("good"),
        tmp.path(),
        &["run", "app/dev", "--", "python3", "-c", script],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let path = PathBuf::from(line.trim());
    assert!(path.starts_with(tmp.path()), "{path:?}");
    assert!(path.exists());
    let started = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(status.signal(), Some(15), "{status:?}");
    assert!(!path.exists(), "{path:?} is left behind");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// A project in a temporary directory, for the cases fixtures cannot hold (symbolic
/// links, ambiguous names, bytes that are not UTF-8).
#[test]
fn project_edges() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.yaml"),
        "values:\n  stolen: yes\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("escc.toml"), "").unwrap();
    std::fs::write(root.join("both.yaml"), "values: {a: 1}\n").unwrap();
    std::fs::write(root.join("both.yml"), "values: {a: 2}\n").unwrap();
    std::fs::write(root.join("latin1.yaml"), b"values:\n  a: caf\xe9\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.yaml"), root.join("escape.yaml"))
        .unwrap();
    std::fs::write(
        root.join("importer.yaml"),
        "imports:\n  - escape\n  - ../outside\n  - both\nvalues:\n  x: ${environments.a.b.c}\n",
    )
    .unwrap();
    let snap = |name: &str, args: &[&str]| {
        let t = transcript_in(root, args).replace(&root.display().to_string(), "$ROOT");
        insta::assert_snapshot!(name, t);
    };
    snap("edge_check_all", &["check"]);
    snap("edge_get_escape", &["get", "escape"]);
    snap("edge_get_dotdot", &["get", "../x"]);
    snap("edge_get_absolute", &["get", "/etc/passwd"]);
    snap("edge_get_version", &["get", "both@2"]);
    snap(
        "edge_bad_toml",
        &["--context", "currentEnvironment.name=x", "check"],
    );
    std::fs::write(root.join("escc.toml"), "[defaults]\nenvironmnet = \"x\"\n").unwrap();
    snap("edge_toml_typo", &["check"]);
}

/// `escc open`'s stdout for environment `name` of a project holding `files`.
fn open_stdout(files: &[(&str, &str)], name: &str, format: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (file, text) in files {
        std::fs::write(dir.path().join(file), text).unwrap();
    }
    let out = command(dir.path(), dir.path(), &["open", name, "--format", format])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An environment with neither values nor imports has no value in the evaluator (the
/// reference's `null`); `open` prints it as `esc env open` does, whose client decodes the
/// service's answer into an environment without properties: `{}`.
#[test]
fn open_an_empty_environment() {
    let files = [
        ("empty.yaml", ""),
        ("bare.yaml", "imports: []\n"),
        ("novalues.yaml", "values: {}\n"),
    ];
    for name in ["empty", "bare", "novalues"] {
        assert_eq!(open_stdout(&files, name, "json"), "{}\n", "{name}");
        assert_eq!(open_stdout(&files, name, "yaml"), "{}\n", "{name}");
        assert_eq!(open_stdout(&files, name, "string"), "\n", "{name}");
        assert_eq!(open_stdout(&files, name, "dotenv"), "", "{name}");
    }
}

/// Numbers as the reference's CLI writes them: JSON keeps a `fn::fromJSON` number beyond
/// float64's range as a number; YAML (go-yaml writing a `json.Number`) quotes it, and
/// writes YAML's `.inf`/`.nan` back as they were. JSON cannot hold `+Inf` or `NaN`: escc
/// prints them as strings (the reference's encoder fails; docs/conformance.md).
#[test]
fn open_prints_out_of_range_and_infinite_numbers() {
    let files = [(
        "n.yaml",
        "values:\n  big:\n    fn::fromJSON: '[1e400, -1e400]'\n  inf: .inf\n  ninf: -.inf\n  nan: .nan\n",
    )];
    assert_eq!(
        open_stdout(&files, "n", "json"),
        "{\n  \"big\": [\n    1e400,\n    -1e400\n  ],\n  \"inf\": \"+Inf\",\n  \"nan\": \"NaN\",\n  \"ninf\": \"-Inf\"\n}\n"
    );
    assert_eq!(
        open_stdout(&files, "n", "yaml"),
        "big:\n   - \"1e400\"\n   - \"-1e400\"\ninf: .inf\nnan: .nan\nninf: -.inf\n"
    );
}
