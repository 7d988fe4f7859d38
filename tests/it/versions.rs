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

/// The commit `rev` names in the repository at `root`.
fn rev_parse(root: &Path, rev: &str) -> String {
    let out = Command::new("git")
        .current_dir(root)
        .args(["rev-parse", "--verify", rev])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn init(root: &Path) {
    git(root, &["init", "-q", "-b", "main"], "2026-02-01T00:00:00Z");
    write(root, "escc.toml", "");
}

/// lib/common and lib/base (which imports lib/common) at tags v1, v2 and v3 (c: one, two,
/// three; b: one, two, three); the working tree has c: four, uncommitted.
fn library() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    init(root);
    for (i, n) in ["one", "two", "three"].iter().enumerate() {
        write(root, "lib/common.yaml", &format!("values:\n  c: {n}\n"));
        write(
            root,
            "lib/base.yaml",
            &format!(
                "imports:\n  - lib/common\nvalues:\n  b: {n}\n  me: ${{context.currentEnvironment.name}}\n"
            ),
        );
        let date = format!("2026-02-0{}T00:00:00Z", i + 2);
        commit(root, n, &date);
        git(root, &["tag", &format!("v{}", i + 1)], &date);
    }
    write(root, "lib/common.yaml", "values:\n  c: four\n");
    dir
}

#[test]
fn pinned_imports_read_their_closure_at_their_revision() {
    let dir = library();
    let root = dir.path();
    write(
        root,
        "app.yaml",
        "imports:\n  - lib/base@v1\n  - lib/base@v2: {merge: false}\n  - lib/common\nvalues:\n  \
         two: ${imports[\"lib/base@v2\"].c}\n  inline: ${environments.lib.base@v3.c}\n  \
         quoted: ${environments.lib[\"base@v1\"].b}\n  latest: ${environments.lib.base@latest.c}\n",
    );
    let v = values(root, "app");
    // base@v1 and its unpinned import lib/common at v1; lib/common of the working tree
    // merged after it.
    assert_eq!(v["b"], "one");
    assert_eq!(v["c"], "four");
    assert_eq!(v["me"], "lib/base@v1");
    // Two more revisions of base in the same evaluation, each with its own closure.
    assert_eq!(v["two"], "two");
    assert_eq!(v["inline"], "three");
    assert_eq!(v["quoted"], "one");
    // @latest is the working tree.
    assert_eq!(v["latest"], "four");
    // A pinned import inside an environment read at a revision (NAME@REV on the command
    // line): app at HEAD imports base@v1, whose closure is v1's; its own unpinned import
    // of lib/common is HEAD's.
    commit(root, "app", "2026-02-09T00:00:00Z");
    write(root, "lib/common.yaml", "values:\n  c: five\n");
    let v = values(root, "app@HEAD");
    assert_eq!(
        (v["b"].as_str(), v["c"].as_str()),
        (Some("one"), Some("four"))
    );
    assert_eq!(v["latest"], "five");
    assert!(ok(root, &["check", "app"]).contains("0 error(s)"));
    // The closure is read from git, even where the working tree has the same names.
    let detailed = ok(root, &["get", "app", "b", "--format", "detailed"]);
    assert!(
        detailed.contains("\"environment\": \"lib/base@v1\""),
        "{detailed}"
    );
    // The graph names what the evaluation reads: base@v1's import of lib/common is
    // lib/common at v1's commit.
    let dot = ok(root, &["graph", "app"]);
    let v1 = rev_parse(root, "v1");
    assert!(dot.contains("\"lib/base@v1\""), "{dot}");
    assert!(dot.contains(&format!("\"lib/common@{v1}\"")), "{dot}");
    assert!(dot.contains("\"lib/common\""), "{dot}");
}

#[test]
fn pinned_import_errors_are_located_and_exit_1() {
    let dir = library();
    let root = dir.path();
    // An unknown revision, a revision that is not a commit, and one refused before git.
    write(
        root,
        "app.yaml",
        "imports:\n  - lib/base@nope\n  - lib/base@v1^{tree}\n  - lib/base@-x\n",
    );
    let (code, err) = fails(root, &["get", "app"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("[app.yaml:2:5]"), "{err}");
    assert_eq!(
        import_errors(root, "app"),
        [
            (
                "app".to_owned(),
                2,
                5,
                "lib/base@nope: unknown revision \"nope\": lib/base has no tag nope (see `escc \
                 tags lib/base`) and the git repository has no revision of that name"
                    .to_owned()
            ),
            (
                "app".to_owned(),
                3,
                5,
                "lib/base@v1^{tree}: v1^{tree} names a tree, not a commit".to_owned()
            ),
            (
                "app".to_owned(),
                4,
                5,
                "invalid revision \"-x\": a revision cannot start with -".to_owned()
            ),
        ]
    );
    // An environment absent at the revision.
    write(root, "app.yaml", "imports:\n  - lib/gone@v1\n");
    let (code, _) = fails(root, &["get", "app"]);
    assert_eq!(code, 1);
    assert_eq!(
        import_errors(root, "app")[0].3,
        "environment \"lib/gone\" not found at revision v1: there is no lib/gone.yaml or \
         lib/gone.yml in the project root at that commit"
    );
    // A pinned environment whose unpinned import is absent at its revision: the rule is
    // said, at the import in the pinned document.
    write(root, "lib/base.yaml", "imports:\n  - lib/gone\n");
    commit(root, "base imports gone", "2026-02-10T00:00:00Z");
    git(root, &["tag", "v4"], "2026-02-10T00:00:00Z");
    let v4 = rev_parse(root, "v4");
    write(root, "lib/gone.yaml", "values: {g: 1}\n");
    write(root, "app.yaml", "imports:\n  - lib/base@v4\n");
    let (code, err) = fails(root, &["get", "app"]);
    assert_eq!(code, 1);
    assert!(err.contains("[lib/base.yaml@v4:2:5]"), "{err}");
    assert_eq!(
        import_errors(root, "app"),
        [(
            "lib/base@v4".to_owned(),
            2,
            5,
            format!(
                "environment \"lib/gone\" not found at revision {} (the revision of lib/base@v4: \
                 an unpinned import of a pinned environment is read at the same revision; pin \
                 it to read another, e.g. lib/gone@latest): there is no lib/gone.yaml or \
                 lib/gone.yml in the project root at that commit",
                &v4[..12]
            )
        )]
    );
    // Not in a git repository: the import says why.
    let plain = tempfile::tempdir().unwrap();
    write(plain.path(), "a.yaml", "imports: [b@v1]\n");
    write(plain.path(), "b.yaml", "values: {x: 1}\n");
    let (code, _) = fails(plain.path(), &["get", "a"]);
    assert_eq!(code, 1);
    let errors = import_errors(plain.path(), "a");
    assert_eq!((errors[0].1, errors[0].2), (1, 11));
    assert!(
        errors[0]
            .3
            .starts_with("versions (@REV) are read from git, and the project root ")
            && errors[0].3.ends_with(" is not in a git work tree"),
        "{errors:?}"
    );
}

/// The errors of `escc check NAME --format json`: environment, line, column, summary.
fn import_errors(root: &Path, name: &str) -> Vec<(String, u64, u64, String)> {
    let out = escc(root, &["check", name, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let json: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    json.iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            assert_eq!(d["code"], "import-failed", "{d}");
            (
                d["environment"].as_str().unwrap().to_owned(),
                d["start"]["line"].as_u64().unwrap(),
                d["start"]["column"].as_u64().unwrap(),
                d["summary"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn environment_tags_are_git_tags_that_travel() {
    let dir = library();
    let root = dir.path();
    let v1 = rev_parse(root, "v1");
    let v2 = rev_parse(root, "v2");
    assert_eq!(ok(root, &["tag", "lib/base@v1", "stable"]), "");
    assert_eq!(rev_parse(root, "refs/tags/escc/lib/base@stable"), v1);
    assert_eq!(values(root, "lib/base@stable")["b"], "one");
    // Idempotent; moving needs --force.
    ok(root, &["tag", "lib/base@1", "stable"]);
    let (code, err) = fails(root, &["tag", "lib/base@v2", "stable"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("lib/base@stable already names commit"),
        "{err}"
    );
    assert!(err.contains("use --force to move it"), "{err}");
    ok(root, &["tag", "lib/base@v2", "stable", "--force"]);
    assert_eq!(rev_parse(root, "refs/tags/escc/lib/base@stable"), v2);
    // Environment tags are per environment, and win over a git ref of the same name.
    git(root, &["branch", "stable", "v1"], "2026-02-09T00:00:00Z");
    assert_eq!(values(root, "lib/base@stable")["b"], "two");
    assert_eq!(values(root, "lib/base@heads/stable")["b"], "one");
    assert_eq!(values(root, "lib/common@stable")["c"], "one");
    // A pinned import by tag.
    write(root, "app.yaml", "imports: [lib/base@stable]\n");
    assert_eq!(values(root, "app")["c"], "two");
    // Listing.
    ok(root, &["tag", "lib/base@v3", "next"]);
    let text = ok(root, &["tags", "lib/base"]);
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0][..3], ["next", "3", &rev_parse(root, "v3")[..12]]);
    assert_eq!(lines[1][..2], ["stable", "2"]);
    assert_eq!(lines[1][4], "two");
    let json: serde_json::Value =
        serde_json::from_str(&ok(root, &["tags", "lib/base", "-f", "json"])).unwrap();
    assert_eq!(json[1]["tag"], "stable");
    assert_eq!(json[1]["revision"], 2);
    assert_eq!(json[1]["commit"], v2.as_str());
    assert_eq!(ok(root, &["tags", "lib/common"]), "");
    // Bad tags.
    for (tag, why) in [
        ("1x", "a tag starts with a letter"),
        ("latest", "latest is ESC's built-in tag"),
        ("a/b", "'/' is not allowed"),
        ("a..b", "git refuses `..`"),
        ("x.lock", "git refuses `..`, and a final `.` or `.lock`"),
    ] {
        let (code, err) = fails(root, &["tag", "lib/base@v1", tag]);
        assert_eq!(code, 2);
        assert!(err.contains(why), "{tag}: {err}");
    }
    let (code, err) = fails(root, &["tag", "app@v1", "x"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("environment \"app\" does not exist at that revision"),
        "{err}"
    );
    // Without a revision: HEAD, only when the file has no uncommitted changes.
    let (code, err) = fails(root, &["tag", "lib/common", "x"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("uncommitted changes (M lib/common.yaml)"),
        "{err}"
    );
    ok(root, &["tag", "lib/base", "head"]);
    assert_eq!(
        rev_parse(root, "refs/tags/escc/lib/base@head"),
        rev_parse(root, "HEAD")
    );
    // Deleting.
    ok(root, &["tag", "--delete", "lib/base", "head"]);
    let (_, err) = fails(root, &["get", "lib/base@head"]);
    assert!(err.contains("unknown revision \"head\""), "{err}");
    let (code, err) = fails(root, &["tag", "--delete", "lib/base", "head"]);
    assert_eq!(code, 2);
    assert!(err.contains("lib/base has no tag \"head\""), "{err}");
    // They travel with git push --tags.
    let remote = tempfile::tempdir().unwrap();
    git(
        remote.path(),
        &["init", "-q", "--bare", "-b", "main"],
        "2026-02-09T00:00:00Z",
    );
    let url = format!("file://{}", remote.path().display());
    git(
        root,
        &["push", "-q", &url, "main", "--tags"],
        "2026-02-09T00:00:00Z",
    );
    let clone = tempfile::tempdir().unwrap();
    git(
        clone.path(),
        &["clone", "-q", &url, "c"],
        "2026-02-09T00:00:00Z",
    );
    let cloned = clone.path().join("c");
    assert_eq!(values(&cloned, "lib/base@stable")["b"], "two");
    assert_eq!(ok(&cloned, &["tags", "lib/base"]), text);
}

#[test]
fn rollback_writes_the_revision_and_keeps_uncommitted_work() {
    let dir = library();
    let root = dir.path();
    let head = rev_parse(root, "HEAD");
    let common = root.join("lib/common.yaml");
    // Uncommitted changes are not overwritten.
    let (code, err) = fails(root, &["rollback", "lib/common@v1"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("lib/common has uncommitted changes (git status: M lib/common.yaml)"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&common).unwrap(),
        "values:\n  c: four\n"
    );
    // --force discards them; the working tree changes, HEAD does not.
    let out = escc(root, &["rollback", "lib/common@v1", "--force"]);
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("wrote lib/common.yaml from lib/common@v1 (commit"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&common).unwrap(),
        "values:\n  c: one\n"
    );
    assert_eq!(rev_parse(root, "HEAD"), head);
    // Once more: nothing to write.
    let out = escc(root, &["rollback", "lib/common@v1"]);
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("already holds lib/common@v1")
    );
    // A committed file rolls back without --force, by revision number too.
    git(
        root,
        &["checkout", "-q", "--", "lib/common.yaml"],
        "2026-02-09T00:00:00Z",
    );
    ok(root, &["rollback", "lib/base@2"]);
    assert!(
        std::fs::read_to_string(root.join("lib/base.yaml"))
            .unwrap()
            .contains("b: two")
    );
    // An untracked file counts as uncommitted work.
    write(root, "new.yaml", "values: {n: 1}\n");
    commit(root, "new", "2026-02-09T00:00:00Z");
    git(
        root,
        &["rm", "-q", "--cached", "new.yaml"],
        "2026-02-09T00:00:00Z",
    );
    git(
        root,
        &["commit", "-q", "-m", "untrack new"],
        "2026-02-10T00:00:00Z",
    );
    write(root, "new.yaml", "values: {n: 3}\n");
    let (_, err) = fails(root, &["rollback", "new@HEAD~1"]);
    assert!(err.contains("(git status: ?? new.yaml)"), "{err}");
    // The other extension: the file of the revision is written, the other removed.
    ok(root, &["rollback", "new@HEAD~1", "--force"]);
    std::fs::remove_file(root.join("new.yaml")).unwrap();
    write(root, "new.yml", "values: {n: 2}\n");
    commit(root, "new as yml", "2026-02-11T00:00:00Z");
    ok(root, &["rollback", "new@HEAD~2"]);
    assert!(root.join("new.yaml").exists() && !root.join("new.yml").exists());
    assert_eq!(values(root, "new")["n"], 1);
    // A symbolic link is not replaced.
    write(root, "link.yaml", "values: {l: 1}\n");
    commit(root, "link", "2026-02-12T00:00:00Z");
    std::fs::remove_file(root.join("link.yaml")).unwrap();
    std::os::unix::fs::symlink("lib/base.yaml", root.join("link.yaml")).unwrap();
    let (code, err) = fails(root, &["rollback", "link@HEAD", "--force"]);
    assert_eq!(code, 2);
    assert!(err.contains("link.yaml is a symbolic link"), "{err}");
    assert!(
        std::fs::symlink_metadata(root.join("link.yaml"))
            .unwrap()
            .is_symlink()
    );
    // One that is a link in git is not read.
    commit(root, "link is a link", "2026-02-13T00:00:00Z");
    let (_, err) = fails(root, &["rollback", "link@HEAD"]);
    assert!(
        err.contains("cannot read link.yaml@HEAD: it is not a regular file"),
        "{err}"
    );
    // A directory gone from the working tree is made again; one that is a link out of the
    // root is refused.
    std::fs::remove_dir_all(root.join("lib")).unwrap();
    ok(root, &["rollback", "lib/common@v2", "--force"]);
    assert_eq!(
        std::fs::read_to_string(&common).unwrap(),
        "values:\n  c: two\n"
    );
    let outside = tempfile::tempdir().unwrap();
    std::fs::remove_dir_all(root.join("lib")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("lib")).unwrap();
    let (code, err) = fails(root, &["rollback", "lib/common@v2", "--force"]);
    assert_eq!(code, 2);
    assert!(err.contains("leads out of the project root"), "{err}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    // Bad inputs.
    let (code, err) = fails(root, &["rollback", "lib/base"]);
    assert_eq!(code, 2);
    assert!(err.contains("name one (lib/base@REV"), "{err}");
    let (_, err) = fails(root, &["rollback", "lib/base@nope"]);
    assert!(err.contains("unknown revision \"nope\""), "{err}");
    let (_, err) = fails(root, &["rollback", "app@v1"]);
    assert!(err.contains("there is nothing to roll back to"), "{err}");
}

#[test]
fn diff_definition_hides_every_secret() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    init(root);
    let doc = |a: &str, pw: &str, block: &str, cipher: &str| {
        format!(
            "values:\n  a: {a}\n  pw:\n    fn::secret: {pw}\n  same: {{fn::secret: \"keep\\u0031\"}}\n  \
             blk:\n    fn::secret: |\n      {block}\n      tail-line-9\n  enc:\n    fn::secret:\n      \
             ciphertext: {cipher}\n  n: [1, {{fn::toJSON: {{fn::secret: nested-pw-7}}}}]\n"
        )
    };
    write(
        root,
        "e.yaml",
        &doc("1", "hunter1", "blockpw-1", "ZXNjeAAAAAEAAAAAAAAAAA11"),
    );
    commit(root, "one", "2026-02-02T00:00:00Z");
    write(
        root,
        "e.yaml",
        &doc("2", "hunter2", "blockpw-2", "ZXNjeAAAAAEAAAAAAAAAAA22"),
    );
    let text = ok(root, &["diff", "e@HEAD", "--definition"]);
    assert_eq!(
        text,
        "--- e@HEAD\n+++ e@latest\n@@ -1,13 +1,13 @@\n values:\n-  a: 1\n+  a: 2\n   pw:\n\
         -    fn::secret: [secret]\n+    fn::secret: [secret changed]\n   same: {fn::secret: \
         [secret]}\n   blk:\n-    fn::secret: [secret]\n-      [secret]\n-      [secret]\n\
         +    fn::secret: [secret changed]\n+      [secret changed]\n+      [secret changed]\n   \
         enc:\n     fn::secret:\n-      ciphertext: [secret]\n+      ciphertext: [secret changed]\n   \
         n: [1, {fn::toJSON: {fn::secret: [secret]}}]\n"
    );
    for needle in [
        "hunter",
        "keep",
        "blockpw",
        "tail-line",
        "ZXNj",
        "nested-pw",
    ] {
        assert!(!text.contains(needle), "{needle} in {text}");
    }
    assert_eq!(
        ok(root, &["diff", "e@HEAD", "e@1", "--definition"]),
        "--- e@HEAD\n+++ e@1\nno changes\n"
    );
    // A secret under a key that is not a string (an error the evaluator drops) is hidden
    // too.
    write(
        root,
        "k.yaml",
        "values:\n  x: 1\n  o:\n    \"${x}\": {fn::secret: keyless-pw-5}\n",
    );
    commit(root, "k", "2026-02-03T00:00:00Z");
    write(
        root,
        "k.yaml",
        "values:\n  x: 2\n  o:\n    \"${x}\": {fn::secret: keyless-pw-6}\n",
    );
    let out = escc(root, &["diff", "k@HEAD", "--definition"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("-  x: 1"), "{text}");
    assert!(!text.contains("keyless"), "{text}");
    // Hidden before the diff (not only masked after): the line is the same on both sides.
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with(['-', '+']) && l.contains("fn::secret")),
        "{text}"
    );
    // A side whose YAML does not load is refused, not shown.
    write(
        root,
        "e.yaml",
        "values:\n  pw:\n    fn::secret: hunter3\n  x: [\n",
    );
    let out = escc(root, &["diff", "e@HEAD", "--definition"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("e@latest: its YAML does not load"), "{err}");
    assert!(!err.contains("hunter"), "{err}");
}

#[test]
fn history_follows_the_first_parent_line_across_merges() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    init(root);
    let doc =
        |a: &str, z: &str| format!("values:\n  a: {a}\n  m1: 1\n  m2: 2\n  m3: 3\n  z: {z}\n");
    write(root, "env.yaml", &doc("1", "1"));
    commit(root, "one", "2026-03-01T00:00:00Z");
    git(
        root,
        &["checkout", "-q", "-b", "feature"],
        "2026-03-02T00:00:00Z",
    );
    write(root, "env.yaml", &doc("1", "feature"));
    commit(root, "feature change", "2026-03-02T00:00:00Z");
    let feature = rev_parse(root, "HEAD");
    git(root, &["checkout", "-q", "main"], "2026-03-03T00:00:00Z");
    write(root, "env.yaml", &doc("2", "1"));
    commit(root, "two", "2026-03-03T00:00:00Z");
    let before: Vec<String> = ok(root, &["history", "env"])
        .lines()
        .map(str::to_owned)
        .collect();
    git(
        root,
        &["merge", "-q", "--no-edit", "feature", "-m", "merge feature"],
        "2026-03-04T00:00:00Z",
    );
    // A merge that does not change the file is no revision.
    git(
        root,
        &["checkout", "-q", "-b", "other", "HEAD~1"],
        "2026-03-05T00:00:00Z",
    );
    write(root, "other.yaml", "values: {o: 1}\n");
    commit(root, "other", "2026-03-05T00:00:00Z");
    git(root, &["checkout", "-q", "main"], "2026-03-06T00:00:00Z");
    git(
        root,
        &["merge", "-q", "--no-edit", "other", "-m", "merge other"],
        "2026-03-06T00:00:00Z",
    );
    let text = ok(root, &["history", "env"]);
    let subjects: Vec<&str> = text
        .lines()
        .map(|l| l.rsplit('\t').next().unwrap())
        .collect();
    assert_eq!(subjects, ["merge feature", "two", "one"], "{text}");
    // Merging renumbered nothing: the old revisions keep their numbers.
    assert_eq!(text.lines().skip(1).collect::<Vec<_>>(), before);
    let v = values(root, "env@3");
    assert_eq!(
        (&v["a"], &v["z"]),
        (&serde_json::json!(2), &serde_json::json!("feature"))
    );
    // The branch's own commit: by hash and by branch name.
    assert_eq!(
        values(root, &format!("env@{}", &feature[..12]))["z"],
        "feature"
    );
    assert_eq!(values(root, "env@feature")["a"], 1);
    assert_eq!(
        ok(root, &["diff", "env@2", "env@3"]),
        "--- env@2\n+++ env@3\n~ z: 1 -> \"feature\"\n"
    );
}

#[test]
fn history_stops_at_a_rename_and_says_so() {
    let dir = repo();
    let root = dir.path();
    let out = escc(root, &["history", "new"]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("new's revisions begin where old.yaml was renamed to it; the earlier ones are old's (escc history old)"),
        "{err}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&ok(root, &["history", "new", "-f", "json"])).unwrap();
    assert_eq!(json[0]["renamedFrom"], "old.yaml");
    assert_eq!(ok(root, &["history", "old"]).lines().count(), 2);
    let json: serde_json::Value =
        serde_json::from_str(&ok(root, &["history", "base", "-f", "json"])).unwrap();
    assert!(json[1].get("renamedFrom").is_none());
}

#[test]
fn versions_work_below_the_top_worktrees_and_shallow_clones() {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path();
    git(top, &["init", "-q", "-b", "main"], "2026-04-01T00:00:00Z");
    write(top, "README", "not a project\n");
    // A project below the repository's top, with a name that looks like a glob.
    let root = top.join("envs");
    write(&root, "escc.toml", "");
    write(&root, "a*.yaml", "values: {x: 1}\n");
    write(&root, "ab.yaml", "values: {x: 10}\n");
    commit(top, "one", "2026-04-01T00:00:00Z");
    write(&root, "a*.yaml", "values: {x: 2}\n");
    commit(top, "two", "2026-04-02T00:00:00Z");
    write(&root, "a*.yaml", "values: {x: 3}\n");
    assert_eq!(values(&root, "a*@1")["x"], 1);
    assert_eq!(ok(&root, &["history", "a*"]).lines().count(), 2);
    assert_eq!(ok(&root, &["history", "ab"]).lines().count(), 1);
    // git keeps no ref with a `*`: such an environment has no tags, and says why.
    let (code, err) = fails(&root, &["tag", "a*@1", "first"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("git does not accept refs/tags/escc/a*@first as a ref name"),
        "{err}"
    );
    ok(&root, &["tag", "ab@1", "first"]);
    assert_eq!(ok(&root, &["tags", "ab"]).lines().count(), 1);
    let (_, err) = fails(&root, &["rollback", "a*@1"]);
    assert!(err.contains("(git status: M envs/a*.yaml)"), "{err}");
    ok(&root, &["rollback", "a*@1", "--force"]);
    assert_eq!(values(&root, "a*")["x"], 1);
    // A linked worktree.
    let wt = tempfile::tempdir().unwrap();
    let linked = wt.path().join("wt");
    git(
        top,
        &["worktree", "add", "-q", linked.to_str().unwrap(), "HEAD~1"],
        "2026-04-03T00:00:00Z",
    );
    let wroot = linked.join("envs");
    assert_eq!(values(&wroot, "a*")["x"], 1);
    assert_eq!(values(&wroot, "a*@main")["x"], 2);
    assert_eq!(ok(&wroot, &["history", "a*"]).lines().count(), 1);
    assert_eq!(values(&wroot, "ab@first")["x"], 10);
    // A shallow clone lacks the older revisions, and says how to get them.
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", top.display());
    git(
        clone.path(),
        &["clone", "-q", "--depth", "1", &url, "c"],
        "2026-04-03T00:00:00Z",
    );
    let croot = clone.path().join("c/envs");
    assert_eq!(values(&croot, "a*@HEAD")["x"], 2);
    let (code, err) = fails(&croot, &["get", "a*@HEAD~1"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("a*@HEAD~1: unknown revision \"HEAD~1\", and this clone is shallow: it may lack it (run `git fetch --unshallow`)"),
        "{err}"
    );
    write(&croot, "p.yaml", "imports: [a*@HEAD~1]\n");
    let (code, _) = fails(&croot, &["get", "p"]);
    assert_eq!(code, 1);
    assert!(
        import_errors(&croot, "p")[0]
            .3
            .ends_with("(run `git fetch --unshallow`)"),
        "{:?}",
        import_errors(&croot, "p")
    );
}
