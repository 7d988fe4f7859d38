//! Secrets never leak: one test per way a value can leave escc, each failing if a secret's
//! plaintext, its base64 or JSON-escaped forms, or its text as written in the document
//! appears. The secret holds a quote, a backslash, a control character, a non-ASCII letter
//! and `<&>`, so each of those forms differs from the others.
//!
//! Guarded elsewhere, not repeated here:
//! - `secrets.rs`: a property test over every builtin and form, in the library: every value
//!   computed from a secret is secret, and no redacted JSON, `Debug` or diagnostic shows it;
//!   one test per builtin error message that could quote a secret.
//! - `cli.rs`: `run_masks_a_secret_split_across_writes`, `run_masks_base64_and_long_lines`,
//!   `run_files_are_private_and_removed`, and the `run_arguments` transcript (a secret
//!   substituted into an argument is masked in the output).
//! - `src/secrets/mod.rs` (unit tests): every form the masker knows.
//! - `tests/lsp/test_lsp.py` (`test_leak_*`): hovers, completion, symbols, diagnostics and
//!   the logs of the language server.
//! - `signals.rs`: temporary files removed whatever ends `escc run`.
//! - `export.rs`: `escc export` (refusals never show a secret, none reaches a `ConfigMap`,
//!   secret `files` never go to a target on another machine, every secret form masked in
//!   GitHub Actions).
//! - `runtime.rs`: the progress line `open` shows on a terminal (provider names only);
//!   `aws.rs`: provider errors, retries and OIDC token sources (no credential, no token).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use escc::eval::{Mode, RotationStatus, Value, evaluate};
use escc::testing::TestHost;
use escc::{Source, load};

use crate::backends::git;
use crate::invariants::base64;

const BIN: &str = env!("CARGO_BIN_EXE_escc");

/// The secret: a quote, a backslash, U+00E4, U+0001 and `<&>` (escaped differently by
/// every JSON encoder), 22 bytes (its base64 is padded and holds a `/`).
const PLAIN: &str = "s3cr\"t\\p\u{e4}ss\u{1}<w&rd>~??";
/// `PLAIN` as the document writes it (a YAML double-quoted scalar's contents).
const PLAIN_WRITTEN: &str = r#"s3cr\"t\\p\u00e4ss\x01<w&rd>~??"#;
/// A secret that is never written in a document: the base64 of it is.
const DECODED: &str = "decoded-Wq7\u{e9}!";
/// A secret inside a secret JSON object.
const DEEP: &str = "deep-value-9Kq";
/// A secret written with a raw tab (which the excerpt renderer expands to spaces).
const TABBED: &str = "tab\there-Zx8";

/// JSON string contents as `serde_json` writes them, as Python's `json.dumps` does (every
/// non-ASCII character escaped) and as Go's `encoding/json` does (`<>&` escaped).
fn json_forms(s: &str) -> [String; 3] {
    let quoted = serde_json::to_string(s).unwrap();
    let minimal = quoted[1..quoted.len() - 1].to_owned();
    let mut ascii = String::new();
    let mut go = String::new();
    for c in minimal.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            for u in c.encode_utf16(&mut [0; 2]) {
                let _ = write!(ascii, "\\u{u:04x}");
            }
        }
        match c {
            '<' | '>' | '&' => {
                let _ = write!(go, "\\u{:04x}", u32::from(c));
            }
            _ => go.push(c),
        }
    }
    [minimal, ascii, go]
}

/// Every form of every secret that must never be shown.
fn needles() -> Vec<String> {
    let mut out = Vec::new();
    for s in [PLAIN, DECODED, DEEP, TABBED] {
        out.push(s.to_owned());
        out.extend(json_forms(s));
        let b64 = base64(s.as_bytes());
        let url = b64.replace('+', "-").replace('/', "_");
        out.push(b64.trim_end_matches('=').to_owned());
        out.push(url.trim_end_matches('=').to_owned());
    }
    // As written in the document, and what survives of the tabbed one once its tab is
    // expanded.
    out.push(PLAIN_WRITTEN.to_owned());
    out.push("here-Zx8".to_owned());
    out.sort();
    out.dedup();
    out
}

#[test]
fn the_needles_differ_from_each_other() {
    // The fixture's point: each form of PLAIN is its own text, so a test that looks for
    // all of them finds a leak of any one.
    let [minimal, ascii, go] = json_forms(PLAIN);
    let b64 = base64(PLAIN.as_bytes());
    let forms = [PLAIN, &minimal, &ascii, &go, &b64, PLAIN_WRITTEN];
    for (i, a) in forms.iter().enumerate() {
        for b in &forms[i + 1..] {
            assert_ne!(a, b);
        }
    }
    assert!(b64.ends_with("==") && b64.contains('/'), "{b64}");
    // A leak of a derived value is a leak of one of these forms.
    assert!(needles().iter().all(|n| n.len() >= 8), "{:?}", needles());
}

/// Panics if `text` shows any needle.
#[track_caller]
fn assert_clean(what: &str, text: &str) {
    for n in needles() {
        assert!(
            !text.contains(&n),
            "{what} shows secret text {n:?}:\n{text}"
        );
    }
}

// -------------------------------------------------------------------------------------
// The project

const BASE: &str = r#"values:
  pw:
    fn::secret: "s3cr\"t\\p\u00e4ss\x01<w&rd>~??"
  decoded:
    fn::fromBase64:
      fn::secret: ZGVjb2RlZC1XcTfDqSE=
  parsed:
    fn::fromJSON:
      fn::secret: '{"k": "deep-value-9Kq"}'
  tabbed: {fn::secret: tab	here-Zx8}
"#;

const APP: &str = r#"imports:
  - base
values:
  plain: visible-value
  ref: ${pw}
  b64:
    fn::toBase64: ${pw}
  json:
    fn::toJSON: {a: "${pw}", n: [1]}
  joined:
    fn::join: ["-", ["${pw}", "${decoded}", "${tabbed}"]]
  deep: ${parsed.k}
  list: ["${pw}", visible]
  environmentVariables:
    PW: ${pw}
    DECODED: ${decoded}
    PLAIN: ${plain}
  files:
    PW_FILE: ${pw}
    JSON_FILE: ${json}
    PLAIN_FILE: ${plain}
"#;

/// Errors whose subject is a secret, and a source line that holds a secret literal
/// written with escapes (`h`) or a raw tab (`t`).
const BAD: &str = r#"imports:
  - base
values:
  a:
    fn::fromJSON: ${pw}
  b:
    fn::fromBase64: ${pw}
  c: ${pw.foo}
  d:
    fn::validate:
      schema: {type: number}
      value: ${pw}
  e:
    fn::validate:
      schema: {enum: [x, y]}
      value: ${pw}
  f: ${parsed.nope}
  g:
    fn::validate:
      schema: {const: other}
      value: ${decoded}
  h: {x: {fn::secret: "s3cr\"t\\p\u00e4ss\x01<w&rd>~??"}, y: "${h.x.z}"}
  t: {x: {fn::secret: tab	here-Zx8}, y: "${t.x.z}"}
  n: ${tabbed[0]}
"#;

/// The codes `BAD` must produce (so the tests below look at real diagnostics).
const BAD_CODES: &[&str] = &[
    "builtin-failed",
    "invalid-access",
    "schema-violation",
    "unknown-property",
];

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("escc.toml"),
            "[defaults]\nenvironment = \"app\"\n",
        )
        .unwrap();
        std::fs::write(root.join("base.yaml"), BASE).unwrap();
        std::fs::write(root.join("app.yaml"), APP).unwrap();
        std::fs::write(root.join("bad.yaml"), BAD).unwrap();
        Project { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Runs escc in the project with its own `TMPDIR`, returned with the output.
    fn escc(&self, args: &[&str]) -> (Output, tempfile::TempDir) {
        self.escc_with(args, &[])
    }

    fn escc_with(&self, args: &[&str], env: &[(&str, &str)]) -> (Output, tempfile::TempDir) {
        let tmp = tempfile::tempdir().unwrap();
        let out = Command::new(BIN)
            .current_dir(self.root())
            .args(args)
            .env("TMPDIR", tmp.path())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (out, tmp)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file below `dir`, with its content.
pub(crate) fn files_in(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_in(&path));
        } else {
            let content = text(&std::fs::read(&path).unwrap());
            out.push((path, content));
        }
    }
    out
}

const FORMATS: &[&str] = &["json", "yaml", "string", "dotenv", "shell", "detailed"];

// -------------------------------------------------------------------------------------
// Redacted output

#[test]
fn control_the_secrets_are_real_and_show_with_show_secrets() {
    // Without this, the tests below could pass on a fixture that holds no secret.
    let p = Project::new();
    for (path, secret) in [("ref", PLAIN), ("decoded", DECODED), ("deep", DEEP)] {
        let (out, _) = p.escc(&["get", "app", path, "-f", "string", "--show-secrets"]);
        assert_eq!(text(&out.stdout), format!("{secret}\n"), "{out:?}");
        let (out, _) = p.escc(&["get", "app", path, "-f", "string"]);
        assert_eq!(text(&out.stdout), "[secret]\n", "{out:?}");
    }
    let (out, _) = p.escc(&["get", "app", "tabbed", "-f", "string", "--show-secrets"]);
    assert_eq!(text(&out.stdout), format!("{TABBED}\n"));
}

#[test]
fn redacted_output_of_get_and_open_in_every_format() {
    let p = Project::new();
    let mut runs = 0;
    for command in ["get", "open"] {
        for format in FORMATS {
            let mut paths = vec![None];
            if !matches!(*format, "dotenv" | "shell") {
                paths.extend(
                    [
                        "ref", "b64", "json", "joined", "deep", "list", "list[0]", "parsed.k",
                    ]
                    .map(Some),
                );
            }
            for path in paths {
                let mut args = vec![command, "app"];
                args.extend(path);
                args.extend(["--format", format]);
                let (out, tmp) = p.escc(&args);
                let what = format!("escc {}", args.join(" "));
                assert!(out.status.success(), "{what}: {out:?}");
                assert!(text(&out.stdout).contains("[secret]"), "{what}: {out:?}");
                assert_clean(&format!("stdout of {what}"), &text(&out.stdout));
                assert_clean(&format!("stderr of {what}"), &text(&out.stderr));
                // `open` as dotenv or shell writes `files` to temporary files, and keeps
                // them: none holds a secret.
                for (file, content) in files_in(tmp.path()) {
                    assert_clean(&format!("{} written by {what}", file.display()), &content);
                }
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 2 * (4 * 9 + 2));
}

/// The environments of the project, evaluated by the library.
fn library_evaluation(mode: &Mode) -> escc::eval::Evaluation {
    let envs: BTreeMap<String, String> = [("base", BASE), ("bad", BAD)]
        .into_iter()
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .collect();
    let host = TestHost::new(envs, "testdata");
    let source = Source::new("app", APP);
    let decl = load(&source).decl.unwrap();
    evaluate(&source, &decl, &host, &TestHost::context(), mode)
}

const MODES: [Mode; 2] = [
    Mode::Eval,
    Mode::Check {
        show_secrets: false,
    },
];

#[test]
fn redacted_output_of_the_library() {
    for mode in &MODES {
        let ev = library_evaluation(mode);
        let props = ev.properties.as_ref().unwrap();
        // A control: the values are there, unredacted.
        assert_eq!(props["ref"].to_json(false), PLAIN);
        let all = Value::object(props.clone());
        assert_clean(
            &format!("{mode:?}: to_json(true)"),
            &serde_json::to_string(&all.to_json(true)).unwrap(),
        );
        assert_clean(
            &format!("{mode:?}: to_json(true), pretty"),
            &serde_json::to_string_pretty(&all.to_json(true)).unwrap(),
        );
    }
}

// -------------------------------------------------------------------------------------
// Diagnostics

#[test]
fn diagnostics_of_check_in_every_format() {
    let p = Project::new();
    for format in ["human", "json", "github", "sarif"] {
        let (out, _) = p.escc(&["check", "bad", "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}: {out:?}");
        let all = text(&out.stdout) + &text(&out.stderr);
        for code in BAD_CODES {
            assert!(all.contains(code), "{format}: no {code}:\n{all}");
        }
        assert_clean(&format!("escc check --format {format}"), &all);
    }
}

/// `--format github` (what the GitHub Action runs): every line is one workflow command
/// (no message breaks out into another, such as an `::add-mask::` of its own), each error
/// is an annotation, and none shows a secret.
#[test]
fn github_annotations_are_single_commands_and_show_no_secret() {
    let p = Project::new();
    let (out, _) = p.escc(&["check", "bad", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = text(&out.stdout);
    // Besides the annotations, only the summary line.
    let (annotations, rest): (Vec<&str>, Vec<&str>) = stdout
        .lines()
        .filter(|l| !l.is_empty())
        .partition(|l| l.starts_with("::"));
    assert!(
        rest.len() == 1 && rest[0].contains("environment(s) checked"),
        "{stdout}"
    );
    assert!(annotations.len() >= BAD_CODES.len(), "{stdout}");
    for line in &annotations {
        assert!(
            line.starts_with("::error file=") || line.starts_with("::warning file="),
            "{line}"
        );
    }
    assert_clean("escc check --format github", &(stdout + &text(&out.stderr)));
}

#[test]
fn diagnostics_of_get_open_and_run() {
    let p = Project::new();
    for args in [
        &["get", "bad"][..],
        &["open", "bad", "-f", "dotenv"],
        &["run", "bad", "--", "echo", "not run"],
    ] {
        let (out, _) = p.escc(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("schema-violation"), "{args:?}: {stderr}");
        assert_clean(&format!("escc {}", args.join(" ")), &stderr);
        assert_eq!(text(&out.stdout), "", "{args:?}");
    }
}

#[test]
fn diagnostics_excerpts_hide_secret_literals_as_written() {
    // The excerpt of `h` and `t` shows a line holding a secret literal: written with
    // escapes (neither the value nor its JSON form), or with a tab the renderer expands.
    let p = Project::new();
    let (out, _) = p.escc(&["check", "bad"]);
    let stderr = text(&out.stdout) + &text(&out.stderr);
    let h = stderr
        .lines()
        .find(|l| l.contains("  h: {x:"))
        .unwrap_or_else(|| panic!("no excerpt of h:\n{stderr}"));
    assert!(
        h.ends_with(r#"h: {x: {fn::secret: [secret]}, y: "${h.x.z}"}"#),
        "{h}"
    );
    let t = stderr
        .lines()
        .find(|l| l.contains("  t: {x:"))
        .unwrap_or_else(|| panic!("no excerpt of t:\n{stderr}"));
    assert!(
        t.ends_with(r#"t: {x: {fn::secret: [secret]}, y: "${t.x.z}"}"#),
        "{t}"
    );
    assert_clean("the excerpts of escc check", &stderr);
}

#[test]
fn diagnostics_of_the_library_display_and_debug() {
    // The property test in secrets.rs checks summaries and details; here, what a program
    // using the library prints of them.
    let envs: BTreeMap<String, String> = [("base".to_owned(), BASE.to_owned())].into();
    let host = TestHost::new(envs, "testdata");
    let source = Source::new("bad", BAD);
    let loaded = load(&source);
    let decl = loaded.decl.as_ref().unwrap();
    for mode in &MODES {
        let ev = evaluate(&source, decl, &host, &TestHost::context(), mode);
        assert!(ev.diags.len() >= 8, "{mode:?}: {:?}", ev.diags);
        for d in &ev.diags {
            assert_clean("Display of a diagnostic", &d.to_string());
            assert_clean("Debug of a diagnostic", &format!("{d:?}"));
            assert_clean("Debug of a diagnostic, pretty", &format!("{d:#?}"));
        }
    }
}

// -------------------------------------------------------------------------------------
// Debug and Display of values

#[test]
fn debug_of_values_and_evaluations() {
    // `Value` has no `Display`, and `ValueKind` no `Debug`: `Debug` of a value (or of what
    // holds values: an evaluation, its properties, its rotations) is the only way to
    // format one, and so the only way a value reaches a panic message or a log line.
    for mode in &MODES {
        let ev = library_evaluation(mode);
        for (k, v) in ev.properties.as_ref().unwrap() {
            assert_clean(&format!("Debug of {k}"), &format!("{v:?}"));
            assert_clean(&format!("Debug of {k}, pretty"), &format!("{v:#?}"));
        }
        assert!(format!("{ev:?}").contains("[secret]"));
        assert_clean(
            &format!("{mode:?}: Debug of the evaluation"),
            &format!("{ev:?}"),
        );
        assert_clean(
            &format!("{mode:?}: Debug of the evaluation, pretty"),
            &format!("{ev:#?}"),
        );
    }
}

#[test]
fn debug_of_provider_outputs_and_rotations() {
    // A provider's secret output, and a rotation whose new state holds a secret.
    let doc = format!(
        "values:\n  out:\n    fn::open::secret-wrapper: {{x: \"{PLAIN_WRITTEN}\"}}\n  db:\n    fn::rotate::swap:\n      inputs: {{}}\n      state:\n        a:\n          fn::secret: \"{PLAIN_WRITTEN}\"\n        b: visible\n"
    );
    let source = Source::new("rot", doc.as_str());
    let decl = load(&source).decl.unwrap();
    let host = TestHost::default();
    for mode in [Mode::Eval, Mode::Rotate { paths: Vec::new() }] {
        let ev = evaluate(&source, &decl, &host, &TestHost::context(), &mode);
        assert!(ev.diags.is_empty(), "{:?}", ev.diags);
        let props = ev.properties.as_ref().unwrap();
        assert_eq!(
            props["out"].to_json(false),
            serde_json::json!({ "x": PLAIN })
        );
        if let Mode::Rotate { .. } = mode {
            let [rotation] = ev.rotations.as_slice() else {
                panic!("{:?}", ev.rotations)
            };
            let RotationStatus::Succeeded { state, .. } = &rotation.status else {
                panic!("{rotation:?}")
            };
            assert_eq!(state.get("b").unwrap().to_json(false), PLAIN);
            assert_clean("Debug of a rotation", &format!("{rotation:#?}"));
        }
        assert_clean(&format!("{mode:?}: Debug"), &format!("{ev:?}"));
        assert_clean(&format!("{mode:?}: Debug, pretty"), &format!("{ev:#?}"));
    }
}

// -------------------------------------------------------------------------------------
// Panics

/// Set by `panics_show_no_message` for the copy of itself it runs.
#[cfg(feature = "cli")]
const PANIC_CHILD: &str = "ESCC_LEAKS_PANIC_CHILD";

// The hook is the command line's (`escc::cli`).
#[cfg(feature = "cli")]
#[test]
fn panics_show_no_message() {
    if std::env::var_os(PANIC_CHILD).is_some() {
        // The copy: install the hook `escc` installs first thing, and panic as a bug
        // would, with a message that holds a secret (as a failed slice of a secret string
        // does), formatted from a value that lost its secret flag.
        escc::cli::install_panic_hook();
        let lost = Value::string(PLAIN);
        panic!("byte index 3 is not a char boundary of {lost:?}, {PLAIN}");
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "leaks::panics_show_no_message",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PANIC_CHILD, "1")
        .env("RUST_BACKTRACE", "full")
        .output()
        .unwrap();
    let all = text(&out.stdout) + &text(&out.stderr);
    // The copy did panic, and the hook spoke.
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("escc: internal error at tests/it/leaks.rs:"),
        "{all}"
    );
    assert_clean("a panic", &all);
}

// -------------------------------------------------------------------------------------
// Logs

#[test]
fn logs_of_every_command_at_the_most_verbose_setting() {
    // escc has no logger and no verbosity flag: its standard error (diagnostics,
    // warnings, notes) is its log. The variables a logger would read are set anyway, so a
    // logger added later is tested at its most verbose.
    let p = Project::new();
    let verbose = [
        ("RUST_LOG", "trace"),
        ("ESCC_LOG", "trace"),
        ("RUST_BACKTRACE", "full"),
    ];
    for args in [
        &["check"][..],
        &["check", "--format", "json"],
        &["get", "app"],
        &["open", "app", "-f", "shell"],
        &["run", "app", "--", "true"],
        &["graph"],
        &["graph", "app", "-f", "mermaid"],
    ] {
        let (out, _) = p.escc_with(args, &verbose);
        let what = format!("escc {}", args.join(" "));
        assert_clean(&format!("stderr of {what}"), &text(&out.stderr));
        assert_clean(&format!("stdout of {what}"), &text(&out.stdout));
    }
}

// -------------------------------------------------------------------------------------
// `escc run`: what the command prints

#[test]
fn run_output_masks_json_escaped_and_base64_forms_on_both_streams() {
    // The command prints each form of each secret on stdout and on stderr, some split
    // across writes (in the middle of a UTF-8 sequence and of an escape); the JSON file's
    // content (a JSON text holding the secret, as Go escapes it) too.
    let script = r#"
import base64, json, os, sys, time
secrets = [os.environ["PW"], os.environ["DECODED"]]
lines = []
for s in secrets:
    b = s.encode()
    lines += [s, json.dumps(s), json.dumps(s, ensure_ascii=False), json.dumps({"k": s}),
              base64.b64encode(b).decode(), base64.urlsafe_b64encode(b).decode(),
              base64.b64encode(b).decode().rstrip("=")]
lines.append(open(os.environ["JSON_FILE"]).read())
lines.append(open(os.environ["PW_FILE"]).read())
for stream in (sys.stdout.buffer, sys.stderr.buffer):
    for line in lines:
        data = ("=" + line + "\n").encode()
        for part in (data[:9], data[9:]):
            stream.write(part)
            stream.flush()
            time.sleep(0.002)
print("PLAIN=" + os.environ["PLAIN"])
"#;
    let p = Project::new();
    let (out, _) = p.escc(&["run", "app", "--", "python3", "-c", script]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let shown = text(bytes);
        assert_clean(&format!("the command's {stream}"), &shown);
        // Every line was printed, masked.
        let masked = shown.lines().filter(|l| l.contains("[secret]")).count();
        assert_eq!(masked, 16, "{stream}:\n{shown}");
    }
    assert!(text(&out.stdout).ends_with("PLAIN=visible-value\n"));
}

#[test]
fn run_output_keeps_variable_names_and_masks_their_values() {
    // `env` prints the command's environment: the names stay, the secret values do not.
    let p = Project::new();
    let (out, _) = p.escc(&["run", "app", "--", "env"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    for expected in ["PW=[secret]", "DECODED=[secret]", "PLAIN=visible-value"] {
        assert!(lines.contains(&expected), "no {expected}:\n{stdout}");
    }
    for var in ["PW_FILE=", "JSON_FILE=", "PLAIN_FILE="] {
        assert!(
            lines.iter().any(|l| l.starts_with(var)),
            "no {var}:\n{stdout}"
        );
    }
    assert_clean("env run by escc", &stdout);
    assert_clean("stderr of escc run", &text(&out.stderr));
}

// -------------------------------------------------------------------------------------
// Versions (docs/versions.md)

#[test]
fn version_commands_and_pinned_imports() {
    let p = Project::new();
    let root = p.root();
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "secrets"]);
    // The working tree changes a secret to another one, which must not show either.
    let other = "0ther-secret-Qz7w";
    let base = std::fs::read_to_string(root.join("base.yaml")).unwrap();
    let changed = base.replace(r#""s3cr\"t\\p\u00e4ss\x01<w&rd>~??""#, other);
    assert_ne!(changed, base);
    std::fs::write(root.join("base.yaml"), &changed).unwrap();
    std::fs::write(
        root.join("pin.yaml"),
        "imports:\n  - base@HEAD\nvalues:\n  r: ${pw}\n  i: ${environments.x.y@HEAD.z}\n  \
         k: ${imports[\"base@HEAD\"].parsed.nope}\n",
    )
    .unwrap();
    let runs: &[&[&str]] = &[
        &["diff", "base@HEAD", "--definition"],
        &["diff", "base@HEAD"],
        &["diff", "app@HEAD"],
        &["diff", "app@HEAD", "--definition"],
        &["diff", "bad@HEAD", "--definition"],
        &["history", "base"],
        &["history", "base", "-f", "json"],
        &["get", "app@HEAD"],
        &["get", "bad@HEAD"],
        &["check", "bad@HEAD", "--format", "json"],
        &["get", "pin"],
        &["check", "pin", "--format", "json"],
        &["check", "pin"],
        &["tag", "base@HEAD", "t1"],
        &["tags", "base"],
        &["tags", "base", "-f", "json"],
        &["rollback", "base@HEAD"],
        &["rollback", "base@HEAD", "--force"],
    ];
    let mut saw_change = false;
    for args in runs {
        let (out, tmp) = p.escc(args);
        let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_clean(&format!("escc {args:?}"), &shown);
        assert!(
            !shown.contains(other),
            "escc {args:?} shows {other}:\n{shown}"
        );
        saw_change |= shown.contains("[secret changed]");
        assert!(files_in(tmp.path()).is_empty(), "escc {args:?} left files");
    }
    assert!(saw_change, "the definition diff reported no changed secret");
}
