//! Versions from git (docs/versions.md): `NAME@REV` on the command line reads the whole
//! import closure at that revision; `history` and `diff`; the bad inputs. Each test builds
//! a real git repository in a temporary directory.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_escc");

fn git(root: &Path, args: &[&str], date: &str) {
    let out = Command::new("git")
        .current_dir(root)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Alice")
        .env("GIT_AUTHOR_EMAIL", "alice@example.com")
        .env("GIT_COMMITTER_NAME", "Alice")
        .env("GIT_COMMITTER_EMAIL", "alice@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("git is needed by these tests (apt-get install git)");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

fn write(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn commit(root: &Path, subject: &str, date: &str) {
    git(root, &["add", "-A"], date);
    git(root, &["commit", "-q", "-m", subject], date);
}

fn dev(stage: &str, password: &str) -> String {
    format!(
        "imports:\n  - base\nvalues:\n  stage: {stage}\n  password:\n    fn::secret: {password}\n"
    )
}

/// Revisions of app/dev: 1 "first" (stage one, base us-east-1), 2 "second" = tag v1
/// (stage two, base us-west-2), 3 "third" (the password changes); then old.yaml is
/// renamed new.yaml; the working tree has stage three, uncommitted.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"], "2026-01-01T00:00:00Z");
    write(root, "escc.toml", "");
    write(root, "base.yaml", "values:\n  region: us-east-1\n");
    write(root, "app/dev.yaml", &dev("one", "hunter1"));
    write(root, "old.yaml", "values:\n  x: 1\n");
    commit(root, "first", "2026-01-01T00:00:00Z");
    write(root, "base.yaml", "values:\n  region: us-west-2\n");
    write(root, "app/dev.yaml", &dev("two", "hunter1"));
    commit(root, "second", "2026-01-02T00:00:00Z");
    git(root, &["tag", "v1"], "2026-01-02T00:00:00Z");
    write(root, "app/dev.yaml", &dev("two", "hunter2"));
    commit(root, "third", "2026-01-03T00:00:00+00:00");
    git(
        root,
        &["mv", "old.yaml", "new.yaml"],
        "2026-01-04T00:00:00Z",
    );
    commit(root, "rename", "2026-01-04T00:00:00Z");
    write(root, "app/dev.yaml", &dev("three", "hunter2"));
    dir
}

fn escc(root: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(root)
        .args(args)
        .env_remove("ESCC_AGE_IDENTITY")
        .env_remove("ESCC_AGE_IDENTITY_FILE")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(root: &Path, args: &[&str]) -> String {
    let out = escc(root, args);
    assert!(out.status.success(), "escc {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The exit status and standard error of a failing command.
fn fails(root: &Path, args: &[&str]) -> (i32, String) {
    let out = escc(root, args);
    assert!(!out.status.success(), "escc {args:?} succeeded: {out:?}");
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn values(root: &Path, name: &str) -> serde_json::Value {
    serde_json::from_str(&ok(root, &["get", name, "--show-secrets"])).unwrap()
}

#[test]
fn a_pinned_environment_reads_its_whole_import_closure_at_that_revision() {
    let dir = repo();
    let root = dir.path();
    let at = |name: &str| {
        let v = values(root, name);
        (
            v["stage"].as_str().unwrap().to_owned(),
            v["region"].as_str().unwrap().to_owned(),
        )
    };
    // The working tree, and ESC's @latest.
    assert_eq!(at("app/dev"), ("three".into(), "us-west-2".into()));
    assert_eq!(at("app/dev@latest"), ("three".into(), "us-west-2".into()));
    // A tag, a commit expression, ESC's revision numbers: base is read at the same commit.
    assert_eq!(at("app/dev@v1"), ("two".into(), "us-west-2".into()));
    assert_eq!(at("app/dev@HEAD~3"), ("one".into(), "us-east-1".into()));
    assert_eq!(at("app/dev@1"), ("one".into(), "us-east-1".into()));
    assert_eq!(at("app/dev@2"), ("two".into(), "us-west-2".into()));
    assert_eq!(values(root, "app/dev@3")["password"], "hunter2");
    assert_eq!(values(root, "app/dev@v1")["password"], "hunter1");
    // A renamed file: the new name exists from the rename on, the old one before it.
    assert_eq!(values(root, "new@HEAD")["x"], 1);
    assert_eq!(values(root, "old@HEAD~1")["x"], 1);
    // check and open take versions too.
    assert!(ok(root, &["check", "app/dev@v1"]).contains("1 environment(s) checked: 0 error(s)"));
    assert!(ok(root, &["open", "app/dev@v1", "stage", "-f", "string"]).starts_with("two"));
}

#[test]
fn bad_revisions_are_clear_errors() {
    let dir = repo();
    let root = dir.path();
    let (code, err) = fails(root, &["get", "app/dev@nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("app/dev@nope: unknown revision \"nope\""),
        "{err}"
    );
    let (code, err) = fails(root, &["get", "app/dev@HEAD^{tree}"]);
    assert_eq!(code, 2);
    assert!(err.contains("names a tree, not a commit"), "{err}");
    // An option is refused before git sees it.
    let (code, err) = fails(root, &["get", "app/dev@--output=x"]);
    assert_eq!(code, 2);
    assert!(err.contains("a revision cannot start with -"), "{err}");
    let (_, err) = fails(root, &["get", "app/dev@HEAD:base.yaml"]);
    assert!(err.contains("cannot contain :"), "{err}");
    // A file absent at that revision.
    let (code, err) = fails(root, &["get", "new@HEAD~1"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("environment \"new\" not found at revision HEAD~1"),
        "{err}"
    );
    // A revision number past the history.
    let (_, err) = fails(root, &["get", "app/dev@9"]);
    assert!(
        err.contains("there is no revision 9: app/dev has 3 revision(s)"),
        "{err}"
    );
    // Not in a git repository.
    let plain = tempfile::tempdir().unwrap();
    write(plain.path(), "a.yaml", "values: {x: 1}\n");
    let (code, err) = fails(plain.path(), &["get", "a@v1"]);
    assert_eq!(code, 2);
    assert!(err.contains("is not in a git work tree"), "{err}");
}

#[test]
fn history_lists_the_revisions_newest_first() {
    let dir = repo();
    let root = dir.path();
    let text = ok(root, &["history", "app/dev"]);
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0][0], "3");
    assert_eq!(lines[0][2], "2026-01-03T00:00:00+00:00");
    assert_eq!(lines[0][3], "Alice <alice@example.com>");
    assert_eq!(lines[0][4], "third");
    assert_eq!(lines[2][4], "first");
    let json: serde_json::Value =
        serde_json::from_str(&ok(root, &["history", "app/dev", "--format", "json"])).unwrap();
    assert_eq!(json[1]["number"], 2);
    assert_eq!(json[1]["subject"], "second");
    assert_eq!(json[1]["commit"].as_str().unwrap().len(), 40);
    // Deterministic.
    assert_eq!(text, ok(root, &["history", "app/dev"]));
    // base changed in two commits; the renamed file's history starts at its rename.
    assert_eq!(ok(root, &["history", "base"]).lines().count(), 2);
    assert_eq!(ok(root, &["history", "new"]).lines().count(), 1);
}

#[test]
fn diff_shows_changed_paths_and_never_a_secret() {
    let dir = repo();
    let root = dir.path();
    let text = ok(root, &["diff", "app/dev@1", "app/dev@v1"]);
    assert_eq!(
        text,
        "--- app/dev@1\n+++ app/dev@v1\n~ region: \"us-east-1\" -> \"us-west-2\"\n~ stage: \"one\" -> \"two\"\n"
    );
    let text = ok(root, &["diff", "app/dev@v1", "app/dev@3"]);
    assert_eq!(
        text,
        "--- app/dev@v1\n+++ app/dev@3\n~ password: [secret] changed\n"
    );
    assert!(!text.contains("hunter"));
    // The second side defaults to the working tree.
    let text = ok(root, &["diff", "app/dev@HEAD"]);
    assert_eq!(
        text,
        "--- app/dev@HEAD\n+++ app/dev@latest\n~ stage: \"two\" -> \"three\"\n"
    );
    // Added and removed paths, between two environments.
    let text = ok(root, &["diff", "base@HEAD", "new@HEAD"]);
    assert_eq!(
        text,
        "--- base@HEAD\n+++ new@HEAD\n- region: \"us-west-2\"\n+ x: 1\n"
    );
    assert!(ok(root, &["diff", "app/dev@2", "app/dev@v1"]).ends_with("no changes\n"));
}
