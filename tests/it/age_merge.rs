//! `escc merge-driver` run by the real `git merge` on a project in a temporary git
//! repository, with values encrypted by escc's own commands (the real `age` checks some;
//! see `age.rs` for the tools these tests need). Each clean merge that git's line merge
//! would conflict on has its control: the same merge without the driver conflicts.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::age::{BIN, OTHER, Project, SECRET, age_decrypt, ciphertext_of, forms, shown};

/// A third plaintext.
const THIRD: &str = "third-secret-value";
const FILE: &str = "app/prod.yaml";

/// A project whose `app/prod.yaml` (committed on main, with `.gitattributes` marking it
/// `merge=escc`) has been through `escc encrypt`, and a `$TMPDIR` for the merges.
struct Merge {
    p: Project,
    tmp: tempfile::TempDir,
}

impl Merge {
    fn new(doc: &str) -> Merge {
        let p = Project::new(&[]);
        p.write(
            "escc.toml",
            &format!(
                "[encryption]\nrecipients = [{:?}]\nallow-plaintext = true\n",
                p.public
            ),
        );
        p.write(FILE, doc);
        p.ok(&["encrypt"], None);
        p.write(".gitattributes", "*.yaml merge=escc\n");
        p.git(&["add", "-A"]);
        p.git(&["commit", "-qm", "base"]);
        Merge {
            p,
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    /// A branch from main changed by `change`, committed.
    fn branch(&self, name: &str, change: impl FnOnce(&Project)) {
        self.p.git(&["checkout", "-q", "-b", name, "main"]);
        change(&self.p);
        self.p.git(&["commit", "-qam", name]);
        self.p.git(&["checkout", "-q", "main"]);
    }

    /// `git merge other` on branch `into`, with the driver configured or not.
    fn merge(&self, into: &str, other: &str, driver: Option<&str>) -> Output {
        self.p.git(&["checkout", "-q", into]);
        match driver {
            Some(command) => {
                self.p.git(&["config", "merge.escc.name", "escc"]);
                self.p.git(&["config", "merge.escc.driver", command]);
            }
            None => {
                let _ = self.git(&["config", "--unset", "merge.escc.driver"]);
            }
        }
        let out = self.git(&["merge", "--no-edit", other]);
        self.assert_no_leak(&out);
        out
    }

    /// git with `$TMPDIR`, whatever its status.
    fn git(&self, args: &[&str]) -> Output {
        Command::new("git")
            .args(args)
            .current_dir(self.p.root())
            .env("TMPDIR", self.tmp.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn abort(&self) {
        assert!(self.git(&["merge", "--abort"]).status.success());
    }

    /// No plaintext on the output, in the project's files or in `$TMPDIR` (which the
    /// driver leaves empty), and no temporary file in the project.
    fn assert_no_leak(&self, out: &Output) {
        let mut texts = vec![
            (
                "stdout".to_owned(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            ),
            (
                "stderr".to_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ),
        ];
        texts.extend(self.p.files());
        for (name, text) in texts {
            assert!(!name.contains(".escc-"), "left behind: {name}");
            for f in [SECRET, OTHER, THIRD].into_iter().flat_map(forms) {
                assert!(!text.contains(&f), "{name} shows a plaintext: {text}");
            }
        }
        let left: Vec<_> = std::fs::read_dir(self.tmp.path()).unwrap().collect();
        assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    }

    fn values(&self) -> serde_json::Value {
        serde_json::from_str(&shown(&self.p, "app/prod")).unwrap()
    }

    /// The file as branch `b` has it.
    fn at(&self, b: &str) -> String {
        self.p.git(&["show", &format!("{b}:{FILE}")])
    }
}

/// The driver as docs/secrets.md sets it up.
fn driver() -> String {
    format!("{BIN} merge-driver --marker-size %L %O %A %B %P")
}

fn set(p: &Project, path: &str, value: &str) {
    p.ok(&["secret", "set", "app/prod", path], Some(value));
}

fn edit(p: &Project, from: &str, to: &str) {
    let doc = p.read(FILE);
    assert!(doc.contains(from), "{from:?} not in {doc}");
    p.write(FILE, &doc.replacen(from, to, 1));
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Flow-style secrets on consecutive lines, a block-style one, and plain values.
const DOC: &str = "# Production.\nvalues:\n  a: {fn::secret: one-one-one} # a\n  b: {fn::secret: two-two-two}\n  c:\n    fn::secret:\n      ciphertext: placeholder\n  plain: x\n  list:\n    - p\n    - {fn::secret: four-four-four}\n";

/// DOC with `c` encrypted by the `age` tool (escc writes flow style; age's block).
fn doc(p: &Project) -> String {
    let file = super::age::tool("age", &["-r", &p.public], p.root(), Some(b"three")).stdout;
    let b64 = String::from_utf8(super::age::tool("base64", &["-w0"], p.root(), Some(&file)).stdout)
        .unwrap();
    DOC.replace("placeholder", &b64)
}

fn project() -> Merge {
    let m = Merge::new(DOC);
    let doc = doc(&m.p);
    m.p.write(FILE, &doc);
    m.p.ok(&["encrypt"], None);
    m.p.git(&["commit", "-qam", "c by age"]);
    m
}

#[test]
fn secrets_changed_on_neighbouring_lines_merge_with_the_driver() {
    let m = project();
    m.branch("left", |p| set(p, "a", SECRET));
    m.branch("right", |p| set(p, "b", OTHER));
    // The control: git's line merge conflicts on neighbouring lines.
    let out = m.merge("left", "right", None);
    assert!(!out.status.success(), "{out:?}");
    assert!(m.p.read(FILE).contains("<<<<<<<"));
    m.abort();
    let out = m.merge("left", "right", Some(&driver()));
    assert!(out.status.success(), "{}", stderr(&out));
    let merged = m.p.read(FILE);
    // Each branch's ciphertext, byte for byte, and the rest as it was.
    assert_eq!(
        ciphertext_of(&merged, "a"),
        ciphertext_of(&m.at("left"), "a")
    );
    assert_eq!(
        ciphertext_of(&merged, "b"),
        ciphertext_of(&m.at("right"), "b")
    );
    let base = m.at("main");
    assert_eq!(
        merged
            .replace(&ciphertext_of(&merged, "a"), "A")
            .replace(&ciphertext_of(&merged, "b"), "B"),
        base.replace(&ciphertext_of(&base, "a"), "A")
            .replace(&ciphertext_of(&base, "b"), "B")
    );
    let json = m.values();
    assert_eq!(json["a"], SECRET);
    assert_eq!(json["b"], OTHER);
    assert_eq!(json["c"], "three");
    assert_eq!(json["list"][1], "four-four-four");
    // The real age decrypts the merged value.
    assert_eq!(
        age_decrypt(m.p.root(), &ciphertext_of(&merged, "b"), &m.p.key),
        OTHER
    );
}

#[test]
fn a_secret_change_beside_a_plain_edit_merges() {
    let m = project();
    // c is block style: its ciphertext is on the line above `plain`.
    m.branch("left", |p| {
        set(p, "c", SECRET);
        set(p, "b", THIRD);
    });
    m.branch("right", |p| {
        edit(p, "plain: x", "plain: y");
        edit(p, "# a\n", "# the a secret\n");
    });
    let out = m.merge("left", "right", None);
    assert!(!out.status.success(), "{out:?}");
    m.abort();
    let out = m.merge("left", "right", Some(&driver()));
    assert!(out.status.success(), "{}", stderr(&out));
    let merged = m.p.read(FILE);
    assert!(merged.contains("} # the a secret\n  b: {fn::secret: {ciphertext: YWdl"));
    assert!(
        merged.contains("    fn::secret:\n      ciphertext: YWdl"),
        "{merged}"
    );
    let json = m.values();
    assert_eq!(json["c"], SECRET);
    assert_eq!(json["b"], THIRD);
    assert_eq!(json["plain"], "y");
    assert_eq!(json["a"], "one-one-one");
}

#[test]
fn both_sides_changing_one_secret_conflict_with_ciphertexts_only() {
    let m = project();
    m.branch("left", |p| set(p, "a", SECRET));
    m.branch("right", |p| {
        set(p, "a", OTHER);
        set(p, "b", THIRD);
    });
    for style in ["merge", "diff3"] {
        m.p.git(&["config", "merge.conflictStyle", style]);
        let out = m.merge("left", "right", Some(&driver()));
        assert!(!out.status.success(), "{out:?}");
        assert!(
            stderr(&out).contains(
                "escc: app/prod.yaml: the secret a was changed differently on both sides"
            ),
            "{}",
            stderr(&out)
        );
        // git holds the file as conflicted.
        let unmerged = m.p.git(&["ls-files", "-u"]);
        assert_eq!(unmerged.lines().count(), 3, "{unmerged}");
        let merged = m.p.read(FILE);
        let (ours, theirs, base) = (m.at("left"), m.at("right"), m.at("main"));
        let line = |doc: &str| {
            format!(
                "  a: {{fn::secret: {{ciphertext: {}}}}} # a\n",
                ciphertext_of(doc, "a")
            )
        };
        let middle = if style == "diff3" {
            format!("||||||| base\n{}", line(&base))
        } else {
            String::new()
        };
        // Only a's line is in conflict: b's new value (the next line) is merged.
        let expected = format!(
            "values:\n<<<<<<< ours\n{}{middle}=======\n{}>>>>>>> theirs\n  b: {{fn::secret: {{ciphertext: {}}}}}\n",
            line(&ours),
            line(&theirs),
            ciphertext_of(&theirs, "b"),
        );
        assert!(merged.contains(&expected), "{expected}\nnot in\n{merged}");
        m.abort();
    }
}

#[test]
fn removed_on_one_side_or_added_on_both_is_a_conflict() {
    let m = project();
    m.branch("left", |p| {
        let doc: String = p
            .read(FILE)
            .split_inclusive('\n')
            .filter(|l| !l.starts_with("  b: "))
            .collect();
        p.write(FILE, &doc);
        set(p, "new", SECRET);
    });
    m.branch("right", |p| {
        set(p, "b", OTHER);
        set(p, "new", THIRD);
    });
    let out = m.merge("left", "right", Some(&driver()));
    assert!(!out.status.success(), "{out:?}");
    let err = stderr(&out);
    for note in [
        "the secret b was removed on one side and changed on the other",
        "the secret new was added on both sides with different values",
    ] {
        assert!(err.contains(note), "{note}: {err}");
    }
    let merged = m.p.read(FILE);
    assert_eq!(merged.matches("<<<<<<< ours").count(), 2, "{merged}");
    assert!(merged.contains(&ciphertext_of(&m.at("right"), "b")));
    m.abort();
    // Added on both sides alike is no conflict: the same ciphertext.
    m.branch("same1", |p| {
        edit(
            p,
            "  plain: x\n",
            "  plain: x\n  k: {fn::secret: {ciphertext: SAME}}\n",
        );
    });
    m.branch("same2", |p| {
        edit(
            p,
            "  plain: x\n",
            "  plain: x\n  k: {fn::secret: {ciphertext: SAME}}\n",
        );
    });
    let out = m.merge("same1", "same2", Some(&driver()));
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn where_git_alone_merges_cleanly_so_does_the_driver() {
    let m = project();
    // An item put before the list's secret moves it from list[1] to list[2]: by path, a
    // removal and a change; line by line, changes two lines apart.
    m.branch("left", |p| edit(p, "    - p\n", "    - new\n    - p\n"));
    m.branch("right", |p| set(p, "list[1]", SECRET));
    let out = m.merge("left", "right", Some(&driver()));
    assert!(out.status.success(), "{}", stderr(&out));
    let json = m.values();
    assert_eq!(json["list"][0], "new");
    assert_eq!(json["list"][2], SECRET);
}

#[test]
fn a_version_that_does_not_load_is_merged_as_git_does() {
    let m = project();
    m.branch("left", |p| set(p, "a", SECRET));
    // Not an environment any more (an unclosed flow sequence), two lines from a.
    m.branch("right", |p| edit(p, "  plain: x\n", "  plain: [x\n"));
    let expected = {
        // git's own line merge of the three versions.
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<PathBuf> = ["main", "left", "right"]
            .iter()
            .map(|b| {
                let f = dir.path().join(b);
                std::fs::write(&f, m.at(b)).unwrap();
                f
            })
            .collect();
        let out = Command::new("git")
            .args(["merge-file", "-p"])
            .args([&files[1], &files[0], &files[2]])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    let out = m.merge("left", "right", Some(&driver()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("escc: app/prod.yaml: the other version does not load as an environment (line 9, column 7); it is merged line by line, as git does"),
        "{}",
        stderr(&out)
    );
    assert_eq!(m.p.read(FILE), expected);
    // A conflict there is git's too: markers, a non-zero status.
    m.branch("right2", |p| {
        set(p, "c", OTHER);
        edit(p, "  plain: x\n", "  plain: [x\n");
    });
    m.branch("left2", |p| set(p, "c", SECRET));
    let out = m.merge("left2", "right2", Some(&driver()));
    assert!(!out.status.success());
    assert!(m.p.read(FILE).contains("<<<<<<< ours\n"));
    m.abort();
}

/// The driver run by hand on three files: its statuses.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["merge-driver"])
        .args(args)
        .current_dir(dir)
        .env("TMPDIR", dir.join("tmp"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn the_driver_exits_as_git_expects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("tmp")).unwrap();
    let write = |name: &str, a: &str, b: &str| {
        std::fs::write(
            d.join(name),
            format!("values:\n  a: {{fn::secret: {{ciphertext: {a}}}}}\n  b: {{fn::secret: {{ciphertext: {b}}}}}\n"),
        )
        .unwrap();
    };
    write("O", "A0", "B0");
    write("A", "A1", "B0");
    write("B", "A0", "B1");
    std::fs::set_permissions(d.join("A"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = run(d, &["O", "A", "B", "app/x.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(d.join("A")).unwrap(),
        "values:\n  a: {fn::secret: {ciphertext: A1}}\n  b: {fn::secret: {ciphertext: B1}}\n"
    );
    // Written in place of A, keeping its mode.
    assert_eq!(
        std::fs::metadata(d.join("A")).unwrap().permissions().mode() & 0o777,
        0o640
    );
    // A conflict: status 1, the labels and marker size given.
    write("A", "A1", "B0");
    write("B", "A2", "B0");
    let out = run(
        d,
        &[
            "--marker-size",
            "3",
            "-L",
            "mine",
            "-L",
            "old",
            "-L",
            "yours",
            "O",
            "A",
            "B",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(d.join("A")).unwrap(),
        "values:\n<<< mine\n  a: {fn::secret: {ciphertext: A1}}\n===\n  a: {fn::secret: {ciphertext: A2}}\n>>> yours\n  b: {fn::secret: {ciphertext: B0}}\n"
    );
    // A file that cannot be read: status 2, A as it was.
    write("A", "A1", "B0");
    let out = run(d, &["O", "A", "missing"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("escc: error: missing: "),
        "{}",
        stderr(&out)
    );
    assert!(std::fs::read_to_string(d.join("A")).unwrap().contains("A1"));
    // Nothing left behind.
    let mut left: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["A", "B", "O", "tmp"]);
    assert_eq!(std::fs::read_dir(d.join("tmp")).unwrap().count(), 0);
}

#[test]
fn the_masked_files_git_merges_hold_no_secret() {
    // Plaintext literals (kept on purpose) are masked like ciphertexts: the files the
    // driver gives `git merge-file` hold neither. A `git` first on the driver's PATH copies
    // them aside.
    let m = Merge::new("values:\n  a: {fn::secret: one-one-one}\n  b: {fn::secret: two-two-two}\n");
    // Encrypted on main by `Merge::new`; back to plaintext, to be kept as such.
    m.p.write(FILE, "values:\n  a: {fn::secret: one-one-one}\n  b: {fn::secret: two-two-two}\n  c: {fn::secret: {ciphertext: YWdlCCC}}\n  d:\n    fn::secret: |\n      one-line\n      two-line\n  e: 1\n");
    m.p.git(&["commit", "-qam", "plaintext"]);
    m.branch("left", |p| {
        edit(p, "one-one-one", "one-changed");
        edit(p, "two-line\n", "two-changed\n");
    });
    m.branch("right", |p| {
        edit(p, "two-two-two", "two-changed");
        edit(p, "e: 1", "e: 2");
    });
    let spy = tempfile::tempdir().unwrap();
    let seen = spy.path().join("seen");
    std::fs::create_dir(&seen).unwrap();
    let script = spy.path().join("git");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nfor f in \"$@\"; do case \"$f\" in \"$TMPDIR\"/*) cp \"$f\" {}/;; esac; done\nexec {} \"$@\"\n",
            seen.display(),
            which_git().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let command = format!("env PATH={}:\"$PATH\" {}", spy.path().display(), driver());
    let out = m.merge("left", "right", Some(&command));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        m.p.read(FILE),
        "values:\n  a: {fn::secret: one-changed}\n  b: {fn::secret: two-changed}\n  c: {fn::secret: {ciphertext: YWdlCCC}}\n  d:\n    fn::secret: |\n      one-line\n      two-changed\n  e: 2\n"
    );
    let copies: Vec<String> = std::fs::read_dir(&seen)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    // The control: the spy saw the three masked versions.
    assert_eq!(copies.len(), 3, "{copies:?}");
    for copy in copies {
        assert!(
            copy.contains("  a: {fn::secret: @escc-secret-0-0@}\n"),
            "{copy}"
        );
        for hidden in ["one-", "two-", "YWdl"] {
            assert!(!copy.contains(hidden), "{copy}");
        }
    }
}

fn which_git() -> PathBuf {
    let out = Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}
