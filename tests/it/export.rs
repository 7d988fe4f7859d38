//! `escc export --target T`: golden files of every target over hostile values (byte for
//! byte, `tests/golden/export/`; `ESCC_BLESS=1` rewrites them), the values read back by
//! the real shells (sh, bash, fish), by parsers written here from each consumer's
//! documentation (Docker's env-file, the Actions runner's `$GITHUB_ENV`, systemd's
//! `EnvironmentFile`, PowerShell's single quotes), the Kubernetes manifests validated
//! against the Kubernetes JSON schemas of Secret and `ConfigMap`, a real direnv re-evaluating
//! only when a file changed, every refusal as a golden file, and no secret where a target
//! does not carry it.
//!
//! The schemas come from the Python virtual environment `.ci/run` makes
//! (`target/k8s-schema-venv`, or `$ESCC_K8S_SCHEMA_VENV`); fish and direnv from Debian.
//! Without them a test is skipped with a message, except under `CI=true`, where that is a
//! failure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::backends::{self, escc, project_with, text};

/// A case of the Kubernetes test: the arguments, and each document's kind and data.
type Case<'a> = (&'a [&'a str], Vec<(&'a str, &'a BTreeMap<String, String>)>);

/// A hostile value: its key, the YAML that writes it in the document, its exported
/// bytes, and whether it is secret.
struct Hostile {
    key: &'static str,
    yaml: &'static str,
    value: &'static str,
    secret: bool,
}

const fn h(key: &'static str, yaml: &'static str, value: &'static str) -> Hostile {
    Hostile {
        key,
        yaml,
        value,
        secret: false,
    }
}

const fn s(key: &'static str, yaml: &'static str, value: &'static str) -> Hostile {
    Hostile {
        key,
        yaml,
        value,
        secret: true,
    }
}

/// Quotes, `$`, backticks, newlines, `=`, non-ASCII, empty, leading and trailing spaces,
/// carriage returns, a tab, backslashes, `#`, `%`-escapes, a would-be heredoc delimiter,
/// and two secrets (one multi-line).
const HOSTILE: &[Hostile] = &[
    h(
        "QUOTES",
        r#""it's \"quoted\" ‘curly’ ’""#,
        "it's \"quoted\" ‘curly’ ’",
    ),
    h(
        "DOLLAR",
        r#""$HOME $${X} $(id) %{y} $""#,
        "$HOME ${X} $(id) %{y} $",
    ),
    // `$${` and `%%{`, already doubled (HCL must not read them as escapes).
    h(
        "DOLLARS",
        r#"{fn::join: ["", ["$$$$", "{x} %%", "{y} $$$$"]]}"#,
        "$${x} %%{y} $$",
    ),
    h("BACKTICK", r#""`id` \\`x\\`""#, "`id` \\`x\\`"),
    h("NEWLINES", r#""one\ntwo\n""#, "one\ntwo\n"),
    h("EQUALS", r#""a=b==c""#, "a=b==c"),
    h(
        "UNICODE",
        r#""ü 日本 “y” 🎉 \uF610 \u00A0""#,
        "ü 日本 “y” 🎉 \u{f610} \u{a0}",
    ),
    h("EMPTY", r#""""#, ""),
    h("SPACES", r#""  lead and trail  ""#, "  lead and trail  "),
    h("CR", r#""a\rb""#, "a\rb"),
    h("CRLF", r#""a\r\nb""#, "a\r\nb"),
    h("TAB", r#""a\tb""#, "a\tb"),
    h("BACKSLASH", r#""a\\b\\\\c\\""#, "a\\b\\\\c\\"),
    h("HASH", r##""#not a comment""##, "#not a comment"),
    h("PERCENT", r#""100%25 %0A""#, "100%25 %0A"),
    h("HEREDOC", r#""x\nESCC_EOF\ny""#, "x\nESCC_EOF\ny"),
    h("NUMBER", "42", "42"),
    h("BOOL", "true", "true"),
    h("NIL", "null", ""),
    s(
        "SECRET",
        r#"{fn::secret: "s3cr3t 'q' \"d\" $X\n  line two\nend"}"#,
        "s3cr3t 'q' \"d\" $X\n  line two\nend",
    ),
    s("TOKEN", r#"{fn::secret: "tok\"$en'=Zq"}"#, "tok\"$en'=Zq"),
];

/// Texts that no refusal and no `ConfigMap` may show: the secrets and their lines.
const SECRET_TEXTS: &[&str] = &["s3cr3t", "line two", "tok\"$en", "en'=Zq"];

/// Whether a target can hold the value (the golden files of the others leave it out).
fn holds(target: &str, value: &str) -> bool {
    match target {
        "docker" => !value.contains('\n') && !value.ends_with('\r'),
        "systemd" => !value
            .chars()
            .any(|c| c.is_ascii_control() && c != '\t' && c != '\n'),
        _ => true,
    }
}

/// The hostile values a target holds.
fn held(target: &str) -> Vec<&'static Hostile> {
    HOSTILE.iter().filter(|x| holds(target, x.value)).collect()
}

/// A project whose `app.yaml` exports `values` (and holds them in `pulumiConfig`).
fn hostile_project(values: &[&Hostile]) -> tempfile::TempDir {
    let mut doc = String::from("values:\n  environmentVariables:\n");
    for v in values {
        let _ = writeln!(doc, "    {}: {}", v.key, v.yaml);
    }
    doc.push_str("  pulumiConfig:\n");
    for v in values {
        let _ = writeln!(doc, "    {}: {}", v.key.to_lowercase(), v.yaml);
    }
    doc.push_str(
        "    nested:\n      list: [1, 2.5, true, null, \"$${a}\"]\n      obj: {\"key with space\": {\"x\": \"y\"}, \"null\": null}\n      empty: {}\n",
    );
    project_with(&[
        ("escc.toml", "[encryption]\nallow-plaintext = true\n"),
        ("app.yaml", &doc),
    ])
}

/// Runs `escc export app` with `args`, without the Actions variables of the caller.
fn export(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all = vec!["export", "app"];
    all.extend_from_slice(args);
    let mut vars = vec![
        ("GITHUB_ENV", ""),
        ("GITHUB_OUTPUT", ""),
        ("XDG_CONFIG_HOME", ""),
        ("HOME", ""),
    ];
    vars.extend_from_slice(env);
    escc(dir, &all, &vars)
}

/// The output of a successful export.
fn exported(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let out = export(dir, args, env);
    assert!(
        out.status.success(),
        "escc export {args:?} failed: {}",
        text(&out.stderr)
    );
    out.stdout
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/export")
}

/// Compares `bytes` with the golden file `name` byte for byte (`ESCC_BLESS=1` writes it).
fn golden(name: &str, bytes: &[u8]) {
    let path = golden_dir().join(name);
    if std::env::var_os("ESCC_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        return;
    }
    let want = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (ESCC_BLESS=1 cargo test --test it export writes it)",
            path.display()
        )
    });
    assert!(
        want == bytes,
        "{} differs from the output:\n{}\n(check, then ESCC_BLESS=1 cargo test --test it export)",
        path.display(),
        text(bytes)
    );
}

/// The targets of the golden files: (file, arguments).
const GOLDEN: &[(&str, &[&str])] = &[
    ("shell.sh", &["--target", "shell"]),
    ("dotenv.env", &["--target", "dotenv"]),
    ("fish.fish", &["--target", "fish"]),
    ("powershell.ps1", &["--target", "powershell"]),
    ("systemd.env", &["--target", "systemd"]),
    ("docker.env", &["--target", "docker"]),
    (
        "github-actions.txt",
        &["--target", "github-actions", "--outputs"],
    ),
    ("k8s-secret.yaml", &["--target", "k8s-secret"]),
    ("k8s-configmap.yaml", &["--target", "k8s-configmap"]),
    (
        "k8s-both.yaml",
        &[
            "--target",
            "k8s-configmap,k8s-secret",
            "--name",
            "web.config",
            "--namespace",
            "prod-1",
        ],
    ),
    ("tfvars.tfvars", &["--target", "tfvars"]),
    ("tfvars.tfvars.json", &["--target", "tfvars-json"]),
    (
        "tfvars-path.tfvars",
        &["--target", "tfvars", "--path", "pulumiConfig.nested"],
    ),
];

/// Every target's output over the hostile values it holds is its golden file, and the
/// same at a second run.
#[test]
fn golden_files() {
    for (file, args) in GOLDEN {
        let target = args[1];
        let dir = hostile_project(&held(target));
        let first = exported(dir.path(), args, &[]);
        let again = exported(dir.path(), args, &[]);
        assert!(first == again, "{file}: two runs differ");
        golden(file, &first);
    }
    // direnv: the watched paths hold the project's directory, shown as <project>.
    let dir = hostile_project(&held("direnv"));
    let config = dir.path().join("config");
    let out = exported(
        dir.path(),
        &["--target", "direnv"],
        &[("XDG_CONFIG_HOME", config.to_str().unwrap())],
    );
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let shown = text(&out).replace(root.to_str().unwrap(), "<project>");
    golden("direnv.sh", shown.as_bytes());
}

/// The values as the test expects them, by key, for a target.
fn expected(target: &str) -> BTreeMap<String, String> {
    held(target)
        .iter()
        .map(|x| (x.key.to_owned(), x.value.to_owned()))
        .collect()
}

/// Runs `program args` with `script` as a file argument, returning stdout.
fn run_program(program: &str, args: &[&str], stdin_script: &Path) -> Option<Vec<u8>> {
    let out = Command::new(program)
        .args(args)
        .arg(stdin_script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", stdin_script.parent().unwrap())
        .output();
    match out {
        Ok(o) => {
            assert!(o.status.success(), "{program} failed: {}", text(&o.stderr));
            Some(o.stdout)
        }
        Err(e) => {
            backends::missing(&format!(
                "{program} cannot be run ({e}); apt-get install it"
            ));
            None
        }
    }
}

/// NUL-separated values, in the order of `keys`.
fn split_nul(bytes: &[u8], keys: &[&String]) -> BTreeMap<String, String> {
    let parts: Vec<&[u8]> = bytes.split(|b| *b == 0).collect();
    assert_eq!(
        parts.len(),
        keys.len() + 1,
        "one value a key: {}",
        text(bytes)
    );
    keys.iter()
        .zip(parts)
        .map(|(k, v)| ((*k).clone(), String::from_utf8(v.to_vec()).unwrap()))
        .collect()
}

/// sh (dash), bash and fish read back every value byte for byte.
#[test]
fn real_shells_read_the_values_back() {
    for (target, shells) in [
        ("shell", &["sh", "bash"][..]),
        ("direnv", &["bash"][..]),
        ("fish", &["fish"][..]),
    ] {
        let want = expected(target);
        let keys: Vec<&String> = want.keys().collect();
        let dir = hostile_project(&held(target));
        let out = exported(dir.path(), &["--target", target], &[]);
        let script_file = dir.path().join("exported");
        std::fs::write(&script_file, &out).unwrap();
        let mut script = String::new();
        if target == "direnv" {
            // direnv's own function, as a stand-in: only the variables are compared here
            // (direnv_watches_only_what_was_read runs the real direnv).
            script.push_str("watch_file() { :; }\n");
        }
        script.push_str(if target == "fish" { "source " } else { ". " });
        let _ = writeln!(script, "'{}'", script_file.display());
        script.push_str("printf '%s\\0'");
        for k in &keys {
            let _ = write!(script, " \"${k}\"");
        }
        script.push('\n');
        let driver = dir.path().join("driver");
        std::fs::write(&driver, script).unwrap();
        for shell in shells {
            let Some(stdout) = run_program(shell, &[], &driver) else {
                continue;
            };
            assert_eq!(split_nul(&stdout, &keys), want, "{shell} reading {target}");
        }
    }
}

/// `docker run --env-file` as Docker documents it ("Set environment variables": "the file
/// should use the syntax `<variable>=value` (which sets the variable to the given value)
/// or `<variable>` (which takes the value from the local environment), and `#` for
/// comments"; lines are read as they are, without quote processing), with what its
/// reader (`kvfile.Parse`) adds: leading whitespace of a line is dropped, a line break is
/// `\n` or `\r\n`, a line longer than 64 KiB fails, a name with whitespace fails.
fn parse_docker_env_file(
    text: &str,
    environment: &BTreeMap<&str, &str>,
) -> Result<Vec<(String, String)>, String> {
    let mut vars = Vec::new();
    for (n, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if raw.len() > 64 * 1024 {
            return Err(format!("line {}: token too long", n + 1));
        }
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (line, None),
        };
        if name.is_empty() {
            return Err(format!("line {}: no variable name", n + 1));
        }
        if name.chars().any(char::is_whitespace) {
            return Err(format!(
                "line {}: variable {name:?} contains whitespaces",
                n + 1
            ));
        }
        match value {
            Some(v) => vars.push((name.to_owned(), v.to_owned())),
            // `VAR` alone: from the environment, else not set.
            None => {
                if let Some(v) = environment.get(name) {
                    vars.push((name.to_owned(), (*v).to_owned()));
                }
            }
        }
    }
    Ok(vars)
}

#[test]
fn docker_env_file_round_trips() {
    let want = expected("docker");
    // The parser itself: comments, leading space, `VAR` alone, a CRLF line end.
    let env = BTreeMap::from([("FROM_ENV", "x")]);
    assert_eq!(
        parse_docker_env_file("# c\n  A= b \"c\" \r\nFROM_ENV\nUNSET\n", &env).unwrap(),
        vec![
            ("A".to_owned(), " b \"c\" ".to_owned()),
            ("FROM_ENV".to_owned(), "x".to_owned())
        ]
    );
    let dir = hostile_project(&held("docker"));
    let out = text(&exported(dir.path(), &["--target", "docker"], &[]));
    let read: BTreeMap<String, String> = parse_docker_env_file(&out, &BTreeMap::new())
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(read, want);
    // Every value that docker refuses is left out of `held`: each is an error naming it.
    for x in HOSTILE.iter().filter(|x| !holds("docker", x.value)) {
        let dir = hostile_project(&[x]);
        let out = export(dir.path(), &["--target", "docker"], &[]);
        assert!(!out.status.success(), "{}: docker took it", x.key);
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("environmentVariables.{}", x.key)),
            "{err}"
        );
    }
}

/// `$GITHUB_ENV` as the runner reads it (docs: "Setting an environment variable" and
/// "Multiline strings"; the runner's `FileCommandManager`): lines `NAME=VALUE`, or
/// `NAME<<DELIMITER`, the value's lines, a line that is exactly `DELIMITER`; a line
/// break is `\n` or `\r\n`, and the one before the delimiter is not part of the value.
fn parse_github_file(text: &str) -> Result<Vec<(String, String)>, String> {
    // Lines with their end: (content, line break).
    let mut lines: Vec<(&str, &str)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find('\n') {
            Some(i) => {
                let (line, brk) = if i > 0 && rest.as_bytes()[i - 1] == b'\r' {
                    (&rest[..i - 1], "\r\n")
                } else {
                    (&rest[..i], "\n")
                };
                lines.push((line, brk));
                rest = &rest[i + 1..];
            }
            None => {
                lines.push((rest, ""));
                rest = "";
            }
        }
    }
    let mut vars = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].0;
        i += 1;
        if line.is_empty() {
            continue;
        }
        let eq = line.find('=');
        let heredoc = line.find("<<");
        match (eq, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                vars.push((line[..e].to_owned(), line[e + 1..].to_owned()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!("invalid format {line:?}"));
                }
                let mut value = String::new();
                let mut first = true;
                loop {
                    let Some((l, brk)) = lines.get(i) else {
                        return Err(format!("matching delimiter not found {delimiter:?}"));
                    };
                    i += 1;
                    if *l == delimiter {
                        break;
                    }
                    if brk.is_empty() {
                        return Err("EOF marker missing new line".to_owned());
                    }
                    if !first {
                        value.push_str(lines[i - 2].1);
                    }
                    first = false;
                    value.push_str(l);
                }
                vars.push((name.to_owned(), value));
            }
            _ => return Err(format!("invalid format {line:?}")),
        }
    }
    Ok(vars)
}

/// The `::add-mask::` data of stdout, unescaped as the runner does.
fn masks(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("::add-mask::"))
        .map(|d| {
            d.replace("%0D", "\r")
                .replace("%0A", "\n")
                .replace("%25", "%")
        })
        .collect()
}

/// The runner's masking of one log line: every registered value replaced by `***`.
fn mask_line(line: &str, masks: &[String]) -> String {
    let mut sorted: Vec<&String> = masks.iter().collect();
    sorted.sort_by_key(|m| std::cmp::Reverse(m.len()));
    let mut out = line.to_owned();
    for m in sorted {
        out = out.replace(m.as_str(), "***");
    }
    out
}

#[test]
fn github_actions_env_and_outputs_round_trip_and_secrets_are_masked() {
    let want = expected("github-actions");
    let dir = hostile_project(&held("github-actions"));
    let env_file = dir.path().join("github_env");
    let out_file = dir.path().join("github_output");
    std::fs::write(&env_file, "EARLIER=kept\n").unwrap();
    let stdout = exported(
        dir.path(),
        &["--target", "github-actions", "--outputs"],
        &[
            ("GITHUB_ENV", env_file.to_str().unwrap()),
            ("GITHUB_OUTPUT", out_file.to_str().unwrap()),
        ],
    );
    let stdout = text(&stdout);
    // Only masks on stdout: the values went to the files.
    assert!(
        stdout.lines().all(|l| l.starts_with("::add-mask::")),
        "{stdout}"
    );
    let mut want_env = want.clone();
    want_env.insert("EARLIER".to_owned(), "kept".to_owned());
    for (file, want) in [(&env_file, &want_env), (&out_file, &want)] {
        let read: BTreeMap<String, String> =
            parse_github_file(&std::fs::read_to_string(file).unwrap())
                .unwrap()
                .into_iter()
                .collect();
        assert_eq!(&read, want, "{}", file.display());
    }
    // Every form of every secret that a step can print is masked, line by line.
    let masks = masks(&stdout);
    for x in HOSTILE.iter().filter(|x| x.secret) {
        let json = serde_json::to_string(x.value).unwrap();
        let renditions = [
            x.value.to_owned(),
            crate::invariants::base64(x.value.as_bytes()),
            json[1..json.len() - 1].to_owned(),
            json.clone(),
        ];
        for r in renditions {
            for line in r.split('\n') {
                let masked = mask_line(line, &masks);
                for secret_line in x.value.split('\n').filter(|l| !l.trim().is_empty()) {
                    assert!(
                        !masked.contains(secret_line.trim()),
                        "{}: {line:?} shows {secret_line:?} after masking: {masked:?}",
                        x.key
                    );
                }
            }
        }
    }
    // Nothing that is not secret is masked.
    for x in HOSTILE.iter().filter(|x| !x.secret) {
        assert!(!masks.iter().any(|m| m == x.value), "{} masked", x.key);
    }
}

/// systemd's `EnvironmentFile=` parser as systemd.exec(5) documents it, for the quoted
/// form escc writes: `KEY="..."`, where a backslash escapes `"`, `\`, `` ` `` and `$` (and
/// before a newline joins lines), any other character (a newline too) is taken as it is.
fn parse_systemd(text: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "quoted value for {key}");
        let mut value = String::new();
        loop {
            match chars.next().expect("closing quote") {
                '"' => break,
                '\\' => match chars.next().expect("escaped character") {
                    '\n' => {}
                    c @ ('"' | '\\' | '`' | '$') => value.push(c),
                    c => {
                        value.push('\\');
                        value.push(c);
                    }
                },
                c => value.push(c),
            }
        }
        assert_eq!(chars.next(), Some('\n'));
        vars.insert(key.trim().to_owned(), value);
    }
    vars
}

/// PowerShell's single-quoted strings (`about_Quoting_Rules`): nothing is expanded; a
/// single quote (`'` or one of U+2018..U+201B) is written twice to stand for itself.
fn parse_powershell(text: &str) -> BTreeMap<String, String> {
    let single = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}');
    let mut vars = BTreeMap::new();
    let mut rest = text;
    while let Some(line) = rest.strip_prefix("$env:") {
        let (key, after) = line.split_once(" = ").expect("assignment");
        let mut chars = after.char_indices();
        let (_, q) = chars.next().unwrap();
        assert!(single(q));
        let mut value = String::new();
        let end = loop {
            let (i, c) = chars.next().expect("closing quote");
            if single(c) {
                match after[i + c.len_utf8()..].chars().next() {
                    Some(d) if single(d) => {
                        chars.next();
                        value.push(d);
                    }
                    _ => break i + c.len_utf8(),
                }
            } else {
                value.push(c);
            }
        };
        vars.insert(key.to_owned(), value);
        rest = after[end..].strip_prefix('\n').expect("line end");
    }
    assert!(rest.is_empty(), "unparsed: {rest:?}");
    vars
}

#[test]
fn systemd_and_powershell_parsers_read_the_values_back() {
    let dir = hostile_project(&held("systemd"));
    let out = text(&exported(dir.path(), &["--target", "systemd"], &[]));
    assert_eq!(parse_systemd(&out), expected("systemd"));
    for x in HOSTILE.iter().filter(|x| !holds("systemd", x.value)) {
        let dir = hostile_project(&[x]);
        let out = export(dir.path(), &["--target", "systemd"], &[]);
        assert!(!out.status.success(), "{}: systemd took it", x.key);
    }
    let dir = hostile_project(&held("powershell"));
    let out = text(&exported(dir.path(), &["--target", "powershell"], &[]));
    assert_eq!(parse_powershell(&out), expected("powershell"));
}

/// The Python of the schema check: each document of the manifest validated against the
/// schema of its kind from kube-manifest-lint's Kubernetes JSON schemas, made strict as
/// kubectl validates (no property the schema does not name, at every level), `data`
/// decoded from base64; prints each document's data as JSON.
const VALIDATE: &str = r#"
import base64, json, sys, yaml, jsonschema
from pathlib import Path
import kube_manifest_lint.main as kml
schemas = Path(kml.__file__).parent / "schemas" / "v1.17.0"
out = []
for doc in yaml.safe_load_all(open(sys.argv[1])):
    path = schemas / {"Secret": "secret-v1.json", "ConfigMap": "configmap-v1.json"}[doc["kind"]]
    schema = kml.additional_properties(json.load(open(path)))
    schema["additionalProperties"] = False  # additional_properties makes only the levels below strict
    resolver = kml.SchemaResolver(base_uri=str(path.resolve()), referrer=schema)
    jsonschema.validate(instance=doc, schema=schema, cls=jsonschema.Draft7Validator, resolver=resolver)
    data = doc.get("data") or {}
    if doc["kind"] == "Secret":
        data = {k: base64.b64decode(v, validate=True).decode() for k, v in data.items()}
    out.append({"kind": doc["kind"], "metadata": doc["metadata"], "data": data})
print(json.dumps(out))
"#;

/// Validates the manifest file, returning each document's kind, metadata and data; `None`
/// when the schemas are not installed (outside CI).
fn validate_k8s(file: &Path) -> Option<Result<serde_json::Value, String>> {
    let python = backends::program("ESCC_K8S_SCHEMA_VENV", "k8s-schema-venv", "python")?;
    let out = Command::new(python)
        .args(["-W", "ignore", "-c", VALIDATE])
        .arg(file)
        .output()
        .unwrap();
    Some(if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(text(&out.stderr))
    })
}

#[test]
fn k8s_manifests_validate_against_the_kubernetes_schemas() {
    let dir = hostile_project(&held("k8s-secret"));
    let file = dir.path().join("manifest.yaml");
    // The check is not vacuous: a property the schema does not name, and a data value
    // that is not a string, fail.
    for bad in [
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nsurprise: 1\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  nmespace: y\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: [1]\n",
    ] {
        std::fs::write(&file, bad).unwrap();
        let Some(result) = validate_k8s(&file) else {
            return;
        };
        assert!(result.is_err(), "the schemas took {bad:?}");
    }
    let all = expected("k8s-secret");
    let plain: BTreeMap<String, String> = HOSTILE
        .iter()
        .filter(|x| !x.secret)
        .map(|x| (x.key.to_owned(), x.value.to_owned()))
        .collect();
    let secret: BTreeMap<String, String> = HOSTILE
        .iter()
        .filter(|x| x.secret)
        .map(|x| (x.key.to_owned(), x.value.to_owned()))
        .collect();
    let cases: [Case; 3] = [
        (&["--target", "k8s-secret"], vec![("Secret", &all)]),
        (&["--target", "k8s-configmap"], vec![("ConfigMap", &plain)]),
        (
            &[
                "--target",
                "k8s-secret",
                "--target",
                "k8s-configmap",
                "--namespace",
                "prod",
            ],
            vec![("Secret", &secret), ("ConfigMap", &plain)],
        ),
    ];
    // A NUL byte reaches a Secret (base64) and a ConfigMap (escaped) as it is.
    let nul = project_with(&[
        ("escc.toml", ""),
        (
            "app.yaml",
            "values:\n  environmentVariables:\n    N: \"a\\0b\"\n",
        ),
    ]);
    let nul_data = BTreeMap::from([("N".to_owned(), "a\0b".to_owned())]);
    for target in ["k8s-secret", "k8s-configmap"] {
        let out = exported(nul.path(), &["--target", target], &[]);
        std::fs::write(&file, &out).unwrap();
        let docs = validate_k8s(&file).unwrap().unwrap();
        let got: BTreeMap<String, String> =
            serde_json::from_value(docs[0]["data"].clone()).unwrap();
        assert_eq!(got, nul_data, "{target}");
    }
    for (args, want) in cases {
        let out = exported(dir.path(), args, &[]);
        std::fs::write(&file, &out).unwrap();
        let docs = validate_k8s(&file)
            .unwrap()
            .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", text(&out)));
        let docs = docs.as_array().unwrap();
        assert_eq!(docs.len(), want.len(), "{args:?}");
        for (doc, (kind, data)) in docs.iter().zip(want) {
            assert_eq!(doc["kind"], kind);
            assert_eq!(doc["metadata"]["name"], "app");
            let got: BTreeMap<String, String> =
                serde_json::from_value(doc["data"].clone()).unwrap();
            assert_eq!(&got, data, "{args:?} {kind}");
        }
    }
}

/// The refusals of every target, as a golden file: each names the key (or the flag) and
/// says why; none shows a secret.
#[test]
fn refusals() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "a list",
            "    L: [1, 2]\n",
            &["shell", "docker", "k8s-secret", "github-actions"],
        ),
        ("an object", "    O: {a: 1}\n", &["fish", "systemd"]),
        (
            "a key that is no identifier",
            "    a-b: x\n",
            &["shell", "direnv", "fish", "powershell", "systemd"],
        ),
        (
            "a key with a space",
            "    \"a b\": x\n",
            &["docker", "k8s-configmap"],
        ),
        (
            "a key with =",
            "    \"a=b\": x\n",
            &["dotenv", "github-actions", "docker"],
        ),
        ("a key with <<", "    \"a<<b\": x\n", &["github-actions"]),
        ("a key starting with #", "    \"#a\": x\n", &["docker"]),
        ("a key with /", "    \"a/b\": x\n", &["k8s-secret"]),
        (
            "a NUL byte",
            "    N: \"a\\0b\"\n",
            &[
                "shell",
                "dotenv",
                "fish",
                "powershell",
                "systemd",
                "docker",
                "github-actions",
            ],
        ),
        (
            "a secret over several lines",
            "    P: {fn::secret: \"s3cr3t\\nline two\"}\n",
            &["docker"],
        ),
        (
            "a secret ending with CR",
            "    P: {fn::secret: \"tok\\\"$en'=Zq\\r\"}\n",
            &["docker", "github-actions", "systemd"],
        ),
    ];
    let mut transcript = String::new();
    for (what, entry, targets) in cases {
        let doc = format!("values:\n  environmentVariables:\n{entry}");
        let dir = project_with(&[
            ("escc.toml", "[encryption]\nallow-plaintext = true\n"),
            ("app.yaml", &doc),
        ]);
        for target in *targets {
            let out = export(dir.path(), &["--target", target], &[]);
            assert_eq!(out.status.code(), Some(2), "{what} to {target}");
            assert!(
                out.stdout.is_empty(),
                "{what} to {target}: {}",
                text(&out.stdout)
            );
            let err = text(&out.stderr);
            let _ = write!(transcript, "# {what} -> {target}\n{err}");
        }
    }
    // Terraform's refusals, and usage errors.
    let tf = project_with(&[
        ("escc.toml", ""),
        (
            "app.yaml",
            "values:\n  pulumiConfig:\n    1x: a\n  other:\n    nan: .nan\n  scalar: s\n",
        ),
    ]);
    for args in [
        &["--target", "tfvars"][..],
        &["--target", "tfvars-json", "--path", "other"],
        &["--target", "tfvars", "--path", "scalar"],
        &["--target", "tfvars", "--path", "missing"],
        &["--target", "shell,docker"],
        &["--target", "shell", "--outputs"],
        &["--target", "docker", "--name", "x"],
        &["--target", "k8s-secret", "--name", "Bad_Name"],
        &["--target", "k8s-secret", "--namespace", "a.b"],
        &["--target", "shell", "--path", "x"],
    ] {
        let out = export(tf.path(), args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let _ = write!(transcript, "# {}\n{}", args.join(" "), text(&out.stderr));
    }
    for s in SECRET_TEXTS {
        assert!(
            !transcript.contains(s),
            "a refusal shows {s:?}:\n{transcript}"
        );
    }
    golden("refusals.txt", transcript.as_bytes());
}

/// Secrets go only where the target carries them: never to a `ConfigMap` (in any form),
/// and `files` never to a target on another machine.
#[test]
fn secrets_only_where_the_target_carries_them() {
    let dir = hostile_project(&held("k8s-configmap"));
    for args in [
        &["--target", "k8s-configmap"][..],
        &["--target", "k8s-configmap,k8s-secret"],
    ] {
        let out = export(dir.path(), args, &[]);
        assert!(out.status.success());
        let all = text(&out.stdout);
        let configmap = all.split("kind: ConfigMap").nth(1).unwrap();
        for x in HOSTILE.iter().filter(|x| x.secret) {
            for form in [
                x.value.to_owned(),
                crate::invariants::base64(x.value.as_bytes()),
            ] {
                assert!(
                    !configmap.contains(&form),
                    "{args:?}: {} in the ConfigMap",
                    x.key
                );
            }
            assert!(!configmap.contains(&format!("{}:", x.key)));
        }
        for s in SECRET_TEXTS {
            assert!(!text(&out.stderr).contains(s));
        }
    }
    // A secret `files` entry: written to a private file for the targets on this machine,
    // never to the others.
    let dir = project_with(&[
        ("escc.toml", "[encryption]\nallow-plaintext = true\n"),
        (
            "app.yaml",
            "values:\n  files:\n    KEY: {fn::secret: \"s3cr3t-file\"}\n",
        ),
    ]);
    for target in ["docker", "systemd", "k8s-secret", "k8s-configmap"] {
        let out = export(dir.path(), &["--target", target], &[]);
        assert!(out.status.success(), "{target}");
        assert!(!text(&out.stdout).contains("s3cr3t"), "{target}");
        assert!(!text(&out.stdout).contains("KEY"), "{target}");
        assert!(text(&out.stderr).contains("files.KEY"), "{target}");
    }
    let out = export(dir.path(), &["--target", "shell"], &[]);
    let shown = text(&out.stdout);
    let path = shown
        .strip_prefix("export KEY='")
        .and_then(|p| p.strip_suffix("'\n"))
        .unwrap();
    assert!(!shown.contains("s3cr3t"));
    assert_eq!(std::fs::read_to_string(path).unwrap(), "s3cr3t-file");
    assert_eq!(
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::remove_file(path).unwrap();
    // github-actions masks the secret content of a file too.
    let out = export(dir.path(), &["--target", "github-actions"], &[]);
    let stdout = text(&out.stdout);
    assert!(
        masks(&stdout).contains(&"s3cr3t-file".to_owned()),
        "{stdout}"
    );
    if let Some(p) = stdout.lines().find_map(|l| l.strip_prefix("KEY=")) {
        std::fs::remove_file(p).unwrap();
    }
}

/// Runs `direnv export json` in `dir` with `env` (and nothing else of the caller's but
/// `PATH`); the variables it sets (`None`: unset), or `None` when it printed nothing
/// (nothing to do: `.envrc` was not evaluated again).
fn direnv_export(
    dir: &Path,
    home: &Path,
    env: &BTreeMap<String, String>,
) -> Option<BTreeMap<String, Option<String>>> {
    let out = Command::new("direnv")
        .args(["export", "json"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .envs(env)
        .output()
        .unwrap();
    assert!(out.status.success(), "direnv: {}", text(&out.stderr));
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// Applies what `direnv export json` said to `env`.
fn apply(env: &mut BTreeMap<String, String>, changes: BTreeMap<String, Option<String>>) {
    for (k, v) in changes {
        match v {
            Some(v) => env.insert(k, v),
            None => env.remove(&k),
        };
    }
}

/// Moves a file's modification time 2 s ahead (direnv compares them in seconds).
fn touch_later(file: &Path, content: &str) {
    std::fs::write(file, content).unwrap();
    let t =
        std::fs::metadata(file).unwrap().modified().unwrap() + std::time::Duration::from_secs(2);
    std::fs::File::options()
        .write(true)
        .open(file)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// The real direnv, with `.envrc` holding the documented line: it loads the variables, and
/// evaluates `.envrc` again only when a file the evaluation read changed (the environment,
/// one it imports, escc.toml), not for another file of the project.
#[test]
fn direnv_watches_only_what_was_read() {
    if Command::new("direnv").arg("version").output().is_err() {
        backends::missing("direnv cannot be run; apt-get install direnv");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_escc");
    let dir = project_with(&[
        ("escc.toml", ""),
        ("base.yaml", "values:\n  greeting: hello\n"),
        (
            "app.yaml",
            "imports: [base]\nvalues:\n  environmentVariables:\n    GREETING: ${greeting}\n    ODD: \"it's $HOME\\n`x`\"\n",
        ),
        ("other.yaml", "values: {}\n"),
        (
            ".envrc",
            &format!("eval \"$('{bin}' export app --target direnv)\"\n"),
        ),
    ]);
    let home = tempfile::tempdir().unwrap();
    let allow = Command::new("direnv")
        .args(["allow", "."])
        .current_dir(dir.path())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .output()
        .unwrap();
    assert!(allow.status.success(), "{}", text(&allow.stderr));
    let mut env = BTreeMap::new();
    let first = direnv_export(dir.path(), home.path(), &env).expect("loaded");
    assert_eq!(first["GREETING"].as_deref(), Some("hello"));
    assert_eq!(first["ODD"].as_deref(), Some("it's $HOME\n`x`"));
    apply(&mut env, first);
    assert_eq!(
        direnv_export(dir.path(), home.path(), &env),
        None,
        "nothing changed"
    );
    touch_later(&dir.path().join("other.yaml"), "values: {x: 1}\n");
    assert_eq!(
        direnv_export(dir.path(), home.path(), &env),
        None,
        "other.yaml is not read by app"
    );
    for (file, content, greeting) in [
        ("base.yaml", "values:\n  greeting: bonjour\n", "bonjour"),
        ("escc.toml", "# changed\n", "bonjour"),
        (
            "app.yaml",
            "imports: [base]\nvalues:\n  environmentVariables:\n    GREETING: hi ${greeting}\n",
            "hi bonjour",
        ),
    ] {
        touch_later(&dir.path().join(file), content);
        let again = direnv_export(dir.path(), home.path(), &env)
            .unwrap_or_else(|| panic!("{file} changed: .envrc not evaluated again"));
        if let Some(Some(g)) = again.get("GREETING") {
            assert_eq!(g, greeting, "{file}");
        }
        apply(&mut env, again);
        assert_eq!(env["GREETING"], greeting, "{file}");
        assert_eq!(
            direnv_export(dir.path(), home.path(), &env),
            None,
            "after {file}"
        );
    }
    // app.yaml no longer sets ODD: it is unset again.
    assert!(!env.contains_key("ODD"));
}

/// Terraform's own HCL parser (`tests/hcl`: `github.com/hashicorp/hcl/v2`, each variable evaluated
/// with no context, as Terraform reads a `.tfvars` file) reads the `tfvars` output as the
/// very values `tfvars-json` writes: every escape, `$${`/`%%{` literal, list and object.
#[test]
fn terraform_hcl_parser_reads_tfvars_as_tfvars_json() {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hcl");
    let dir = hostile_project(&held("tfvars"));
    let file = dir.path().join("vars.tfvars");
    for path in [None, Some("pulumiConfig.nested")] {
        let mut hcl_args = vec!["--target", "tfvars"];
        let mut json_args = vec!["--target", "tfvars-json"];
        if let Some(p) = path {
            hcl_args.extend(["--path", p]);
            json_args.extend(["--path", p]);
        }
        std::fs::write(&file, exported(dir.path(), &hcl_args, &[])).unwrap();
        let out = match Command::new("go")
            .args(["run", "."])
            .arg(&file)
            .current_dir(&program)
            .env("GOFLAGS", "-mod=mod")
            .output()
        {
            Ok(o) => o,
            Err(e) => {
                backends::missing(&format!("`go` cannot be run ({e})"));
                return;
            }
        };
        assert!(out.status.success(), "HCL: {}", text(&out.stderr));
        let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let want: serde_json::Value =
            serde_json::from_slice(&exported(dir.path(), &json_args, &[])).unwrap();
        assert_eq!(read, want, "{path:?}");
    }
}
