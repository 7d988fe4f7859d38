//! The published JSON Schema of environment documents (`schema/environment.schema.json`,
//! docs/schema.md): current with `escc schema`, a valid draft-07 schema, accepting what
//! escc accepts and rejecting what it refuses, checked by a real validator:
//! `check-jsonschema` (python-jsonschema, ruamel.yaml's YAML 1.2 and ECMA-262 regexes, as
//! editors use), from the virtual environment `.ci/run` makes under
//! `target/jsonschema-venv` (`$ESCC_JSONSCHEMA_VENV`). Without it the validator's tests
//! are skipped with a message, except under `CI=true`, where it is a failure.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::backends::{self, escc, project_with, text};

const PUBLISHED: &str = "schema/environment.schema.json";
const REGENERATE: &str = "cargo run -- schema > schema/environment.schema.json";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_published_schema_is_what_escc_schema_prints() {
    let published = std::fs::read_to_string(root().join(PUBLISHED)).unwrap_or_default();
    let out = escc(&root(), &["schema"], &[]);
    assert!(out.status.success(), "{out:?}");
    // One source: the command prints the library's schema.
    let mut generated =
        serde_json::to_string_pretty(&escc::providers::environment_schema()).unwrap();
    generated.push('\n');
    assert_eq!(text(&out.stdout), generated);
    assert!(
        published == generated,
        "{PUBLISHED} is stale: regenerate it with `{REGENERATE}` and commit it"
    );
}

fn validator() -> Option<PathBuf> {
    backends::program(
        "ESCC_JSONSCHEMA_VENV",
        "jsonschema-venv",
        "check-jsonschema",
    )
}

/// The files of `files` the schema rejects, each with the validator's messages (a file
/// whose YAML it cannot parse counts, as an editor would flag it too).
fn rejected(tool: &Path, files: &[PathBuf]) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    // A few hundred paths at a time keep the command line short.
    for chunk in files.chunks(200) {
        let run = Command::new(tool)
            .args(["--output-format", "json", "--verbose", "--schemafile"])
            .arg(root().join(PUBLISHED))
            .args(chunk)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", text(&run.stdout), text(&run.stderr)));
        for kind in ["errors", "parse_errors"] {
            for e in report[kind].as_array().into_iter().flatten() {
                let file = PathBuf::from(e["filename"].as_str().unwrap());
                let entry: &mut String = out.entry(file).or_default();
                let _ = writeln!(entry, "{} {}", e["path"], e["message"]);
                // Below an `anyOf`, what each alternative said.
                for sub in e["sub_errors"].as_array().into_iter().flatten() {
                    let _ = writeln!(entry, "  {} {}", sub["path"], sub["message"]);
                }
            }
        }
        // Whatever it said, a status that contradicts it is a broken tool.
        assert_eq!(
            report["status"] == "ok",
            chunk.iter().all(|f| !out.contains_key(f)),
            "{report}"
        );
    }
    out
}

#[test]
fn the_schema_is_valid_draft_07() {
    let Some(tool) = validator() else { return };
    let out = Command::new(tool)
        .arg("--check-metaschema")
        .arg(root().join(PUBLISHED))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// The codes of the errors a schema can see (the loader's shape errors, and provider inputs
/// that fail their schema): a document with none of them must validate.
const SHAPE_CODES: &[&str] = &[
    "builtin-not-alone",
    "duplicate-key",
    "environment-not-object",
    "invalid-builtin-argument",
    "invalid-field",
    "invalid-import",
    "key-not-literal",
    "reserved-prefix",
    "schema-violation",
    "top-level-builtin",
    "unknown-field",
    "yaml-alias",
    "yaml-key-not-string",
    "yaml-syntax",
    "yaml-tag",
];

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

#[test]
fn every_fixture_escc_finds_no_shape_error_in_validates() {
    let Some(tool) = validator() else { return };
    let mut files = Vec::new();
    for dir in ["fixtures", "examples"] {
        yaml_files(&root().join(dir), &mut files);
    }
    let mut must_validate = Vec::new();
    for f in &files {
        let relative = f.strip_prefix(root()).unwrap().to_str().unwrap();
        let out = escc(&root(), &["check", "--format", "json", relative], &[]);
        let diags: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}: {out:?}", f.display()));
        let codes: BTreeSet<&str> = diags
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["file"] == relative)
            .map(|d| d["code"].as_str().unwrap())
            .collect();
        if !codes.iter().any(|c| SHAPE_CODES.contains(c)) {
            must_validate.push(f.clone());
        }
    }
    // Most of them: the provider documentation's examples, the CLI's and the parity
    // projects (the others are fixtures of errors).
    assert!(must_validate.len() >= 40, "{must_validate:?}");
    let bad = rejected(&tool, &must_validate);
    assert!(
        bad.is_empty(),
        "the schema rejects documents escc accepts: {bad:#?}"
    );
}

fn conformance() -> Option<PathBuf> {
    let dir = std::env::var_os("ESCC_CONFORMANCE")
        .map_or_else(|| root().join("../shared/conformance/esc"), PathBuf::from);
    if dir.join("eval").is_dir() {
        return Some(dir);
    }
    backends::missing(&format!("no conformance corpus at {}", dir.display()));
    None
}

#[test]
fn the_conformance_documents_the_reference_loads_validate_and_its_shape_errors_do_not() {
    let (Some(tool), Some(corpus)) = (validator(), conformance()) else {
        return;
    };
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for part in ["eval", "parse"] {
        let mut cases: Vec<_> = std::fs::read_dir(corpus.join(part))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        cases.sort();
        for case in cases {
            let env = case.join("env.yaml");
            let Ok(expected) = std::fs::read_to_string(case.join("expected.json")) else {
                continue;
            };
            let expected: serde_json::Value = serde_json::from_str(&expected).unwrap();
            let load = if part == "eval" { "loadDiags" } else { "diags" };
            let name = format!("{part}/{}", case.file_name().unwrap().to_str().unwrap());
            if expected[load].as_array().is_some_and(|d| !d.is_empty()) {
                refused.push((name, env));
            } else {
                accepted.push((name, env));
            }
        }
    }
    assert!(accepted.len() >= 30, "{accepted:?}");
    let files: Vec<PathBuf> = accepted
        .iter()
        .chain(&refused)
        .map(|(_, f)| f.clone())
        .collect();
    let bad = rejected(&tool, &files);
    // Loaded without a diagnostic by the reference: valid. The one exception is a document
    // of duplicate keys (a warning of the reference), which YAML 1.2 parsers refuse, as the
    // editors' do.
    for (name, env) in &accepted {
        if name != "eval/duplicate-keys" {
            assert!(!bad.contains_key(env), "{name} is rejected: {}", bad[env]);
        }
    }
    // The reference's load errors the schema sees: an argument of the wrong shape, an
    // import that is not a name, `fn::` keys beside others or at the top level, YAML the
    // parser refuses. (`invalid-interpolations` and `invalid-object-key` are errors inside
    // strings and keys, which a JSON Schema does not parse.)
    let seen: Vec<&str> = refused
        .iter()
        .filter(|(_, env)| bad.contains_key(env))
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        seen,
        [
            "eval/builtin-concat-errors",
            "eval/builtin-split-errors",
            "eval/invalid-import",
            "eval/invalid-join",
            "eval/invalid-open",
            "eval/invalid-plaintext",
            "eval/rotate",
            "eval/unterminated-array",
            "parse/duplicate-top-level-keys",
            "parse/invalid-invocation",
            "parse/invalid-invocation2",
            "parse/invalid-join",
            "parse/invalid-open",
            "parse/invalid-plaintext",
        ]
    );
}

/// Documents escc accepts that use what the reference's schema does not know: each is
/// checked by `escc check` (no error) and must validate.
const VALID: &[(&str, &str)] = &[
    (
        "extensions",
        r#"# yaml-language-server: $schema=../schema/environment.schema.json
Description: case-insensitive field names, as escc reads them
imports:
  - base
  - base@v1
  - base@1: {merge: false}
  - base@latest: {Merge: true, unknownOption: ignored}
values:
  template:
    fn::template:
      greeting: Hello ${name}!
  name: world
  evaluated:
    fn::eval: ${template}
  conformed:
    fn::conform:
      schema: {type: string}
      value: ${name}
  validated:
    fn::validate: {schema: {type: number}, value: 3}
  parts: {fn::concat: [[a], [b, c]]}
  split: {fn::split: [",", "a,b"]}
  joined: {fn::join: [",", "${parts}"]}
  final: {fn::final: 1}
  json: {fn::toJSON: {a: [1, true, null]}}
  parsed: {fn::fromJSON: '{"a": 1}'}
  b64: {fn::toBase64: hi}
  unb64: {fn::fromBase64: aGk=}
  str: {fn::toString: 12}
  pinned: ${imports["base@1"].region}
  "fn-like but not alone":
    fN::x: 1
    y: 2
"#,
    ),
    (
        "providers",
        r#"values:
  aws:
    login:
      fn::open::aws-login:
        oidc:
          roleArn: ${roles.reader}
          sessionName: escc
          duration: 1h
    secrets:
      fn::open::aws-secrets:
        region: us-east-1
        login: ${aws.login}
        get:
          api:
            secretId: {fn::join: ["/", [app, api]]}
    long:
      fn::open:
        provider: aws-parameter-store
        inputs:
          region: us-east-1
          login: {accessKeyId: AKIA, secretAccessKey: {fn::secret: x}}
          get: {p: {name: /app/p, decrypt: true}}
  roles:
    reader: arn:aws:iam::123456789012:role/reader
  db:
    fn::rotate::postgres:
      inputs:
        database:
          database: app
          host: localhost
          port: 5432
          managingUser: {username: admin, password: {fn::secret: pw}}
        rotateUsers: {username1: app1, username2: app2}
      state:
        current: {username: app1, password: {fn::secret: pw1}}
  keys:
    fn::rotate:
      provider: aws-iam
      inputs:
        login: ${aws.login}
        userArn: arn:aws:iam::123456789012:user/ci
"#,
    ),
];

/// Documents escc refuses (`escc check --deny-warnings` fails), each with the text the
/// validator's message must hold.
const WRONG: &[(&str, &str, &str)] = &[
    (
        "unknown-provider-input",
        "values:\n  l:\n    fn::open::aws-login:\n      oidc: {roleArn: r, sessionName: s, sesionName: t}\n",
        "sesionName",
    ),
    (
        "missing-provider-input",
        "values:\n  s:\n    fn::open::aws-secrets:\n      login: ${l}\n      get: {}\n  l: {}\n",
        "'region' is a required property",
    ),
    (
        "wrong-input-type",
        "values:\n  s:\n    fn::open::aws-parameter-store:\n      region: r\n      login: ${l}\n      get: {p: {name: n, decrypt: yes please}}\n  l: {}\n",
        "is not of type 'boolean'",
    ),
    (
        "long-form-input",
        "values:\n  s:\n    fn::open:\n      provider: vault-login\n      inputs: {adress: http://x}\n",
        "adress",
    ),
    (
        "rotator-input",
        "values:\n  k:\n    fn::rotate::aws-iam:\n      inputs: {login: \"${l}\", userArn: u, usrArn: v}\n  l: {}\n",
        "usrArn",
    ),
    (
        "imports-not-a-list",
        "imports: base\n",
        "is not of type 'array'",
    ),
    ("import-number", "imports: [3]\n", "imports[0]"),
    (
        "import-two-keys",
        "imports:\n  - {base: {}, other: {}}\n",
        "imports[0]",
    ),
    (
        "import-merge-not-boolean",
        "imports:\n  - base: {merge: 'no'}\n",
        "is not of type 'boolean'",
    ),
    ("import-dot-dot", "imports: [../base]\n", "imports[0]"),
    (
        "unknown-builtin",
        "values:\n  a: {fn::nope: 1}\n",
        "fn::nope",
    ),
    (
        "builtin-not-alone",
        "values:\n  a:\n    fn::toJSON: 1\n    b: 2\n",
        "values.a",
    ),
    (
        "top-level-builtin",
        "values:\n  fn::secret: x\n",
        "fn::secret",
    ),
    (
        "join-one-element",
        "values:\n  a: {fn::join: [x]}\n",
        "values.a",
    ),
    (
        "secret-list",
        "values:\n  a: {fn::secret: [x]}\n",
        "values.a",
    ),
    (
        "open-without-provider",
        "values:\n  a: {fn::open: {inputs: {}}}\n",
        "'provider' is a required property",
    ),
    (
        "rotation-state-not-object",
        "values:\n  a:\n    fn::rotate::pg-plugin: {inputs: {}, state: x}\n",
        "values.a",
    ),
    (
        "values-not-object",
        "values: [1]\n",
        "is not of type 'object'",
    ),
    (
        "unknown-field",
        "value:\n  a: 1\n",
        "'value' does not match",
    ),
];

/// A project with `base.yaml` committed and tagged `v1` (so pinned imports resolve), and
/// `files`.
fn git_project(files: &[(String, String)]) -> tempfile::TempDir {
    let mut all = vec![
        ("escc.toml".to_owned(), String::new()),
        (
            "base.yaml".to_owned(),
            "values:\n  region: us-east-1\n".to_owned(),
        ),
    ];
    all.extend(files.iter().cloned());
    let refs: Vec<(&str, &str)> = all.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    let dir = project_with(&refs);
    for args in [
        &["init", "-q"][..],
        &["add", "base.yaml"],
        &["commit", "-q", "-m", "base"],
        &["tag", "v1"],
    ] {
        backends::git(dir.path(), args);
    }
    dir
}

#[test]
fn documents_escc_accepts_validate_and_those_it_refuses_do_not() {
    let Some(tool) = validator() else { return };
    let files: Vec<(String, String)> = VALID
        .iter()
        .map(|(n, t)| (format!("ok/{n}.yaml"), (*t).to_owned()))
        .chain(
            WRONG
                .iter()
                .map(|(n, t, _)| (format!("wrong/{n}.yaml"), (*t).to_owned())),
        )
        .collect();
    let dir = git_project(&files);
    // escc's verdict first, so the schema is compared with what escc does.
    for (name, _) in VALID {
        let out = escc(dir.path(), &["check", &format!("ok/{name}.yaml")], &[]);
        assert!(out.status.success(), "escc refuses {name}: {out:?}");
    }
    for (name, _, _) in WRONG {
        let out = escc(
            dir.path(),
            &["check", "--deny-warnings", &format!("wrong/{name}.yaml")],
            &[],
        );
        assert_eq!(out.status.code(), Some(1), "escc accepts {name}: {out:?}");
        // Refused for what it means, not as broken YAML.
        assert!(
            !text(&out.stdout).contains("yaml-syntax"),
            "{name}: {out:?}"
        );
    }
    let paths: Vec<PathBuf> = files.iter().map(|(n, _)| dir.path().join(n)).collect();
    let bad = rejected(&tool, &paths);
    for (name, _) in VALID {
        let p = dir.path().join(format!("ok/{name}.yaml"));
        assert!(!bad.contains_key(&p), "{name} is rejected: {}", bad[&p]);
    }
    for (name, _, says) in WRONG {
        let p = dir.path().join(format!("wrong/{name}.yaml"));
        let message = bad.get(&p).unwrap_or_else(|| panic!("{name} validates"));
        assert!(message.contains(says), "{name}: {message}");
    }
}

/// `action.yml` (the composite GitHub Action) and the sample workflow, against the GitHub
/// schemas the validator bundles (`SchemaStore`'s); and a broken copy of each is refused, so
/// the check is not vacuous.
#[test]
fn the_github_action_and_the_sample_workflow_are_valid() {
    let Some(tool) = validator() else { return };
    let check = |builtin: &str, file: &Path| {
        Command::new(&tool)
            .args(["--builtin-schema", builtin])
            .arg(file)
            .output()
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    for (builtin, file, breakage) in [
        (
            "vendor.github-actions",
            "action.yml",
            ("using: composite", "using: compost"),
        ),
        (
            "vendor.github-workflows",
            "docs/examples/escc-workflow.yml",
            ("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"),
        ),
    ] {
        let path = root().join(file);
        let out = check(builtin, &path);
        assert!(
            out.status.success(),
            "{file}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let original = std::fs::read_to_string(&path).unwrap();
        assert!(original.contains(breakage.0), "{file}");
        let broken = dir.path().join(path.file_name().unwrap());
        std::fs::write(&broken, original.replace(breakage.0, breakage.1)).unwrap();
        assert!(!check(builtin, &broken).status.success(), "{file} broken");
    }
    // The action runs what exists: `check --format github` and `export --target
    // github-actions` (the latter from h-export's branch; see docs/github-action.md).
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    assert!(action.contains("args=(check --format github)"));
    assert!(action.contains("escc export \"$ENVIRONMENT\" --target github-actions"));
}
