//! `escc edit` and `escc diff-driver` on a project in a temporary git repository, with a
//! scripted `$EDITOR` (a shell script that edits the decrypted copy with sed) and the real
//! `age` and `git` (see `age.rs` for the tools these tests need).

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::age::{
    OTHER, Project, SECRET, age_can_decrypt, age_decrypt, assert_no_plaintext, ciphertext_of,
    forms, shown, tool, wrapped,
};

/// The value the scripted editors write (sed-friendly).
const NEW: &str = "brand-new-value";
/// A recipient nobody here holds the key of.
const STRANGER: &str = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";

/// A project holding `app/prod.yaml` (committed) with two age ciphertexts: `db.password`
/// (SECRET, flow style, written by `escc encrypt`) and `api.token` (OTHER, block style,
/// written by the `age` tool); and a directory for editor scripts, their notes and
/// `$TMPDIR`.
struct Edit {
    p: Project,
    aux: tempfile::TempDir,
}

impl Edit {
    fn new() -> Edit {
        let p = Project::new(&[]);
        let file = tool("age", &["-r", &p.public], p.root(), Some(OTHER.as_bytes())).stdout;
        let b64 =
            String::from_utf8(tool("base64", &["-w0"], p.root(), Some(&file)).stdout).unwrap();
        p.write(
            "app/prod.yaml",
            &format!(
                "# Production.\nvalues:\n  db:\n    # rotated monthly\n    password: {{fn::secret: {}}} # db\n    user: admin\n  api:\n    token:\n      fn::secret:\n        ciphertext: {b64}\n  plain: 1\n",
                serde_json::to_string(SECRET).unwrap()
            ),
        );
        p.ok(&["encrypt"], None);
        p.git(&["add", "-A"]);
        p.git(&["commit", "-qm", "prod"]);
        let aux = tempfile::tempdir().unwrap();
        std::fs::create_dir(aux.path().join("tmp")).unwrap();
        Edit { p, aux }
    }

    fn tmp(&self) -> PathBuf {
        self.aux.path().join("tmp")
    }

    /// An editor script: `$1` is the copy, `$AUX` the directory for notes.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.aux.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\nset -e\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// `escc edit ARGS...` with `editor` as $EDITOR, not on a terminal.
    fn command(&self, editor: &Path, args: &[&str], identity: bool) -> Command {
        let mut c = self.p.command(&[&["edit"], args].concat(), identity);
        c.env("EDITOR", editor)
            .env("TMPDIR", self.tmp())
            .env("AUX", self.aux.path())
            .env_remove("TERM")
            .stdin(Stdio::null());
        c
    }

    fn edit(&self, editor: &Path, args: &[&str]) -> Output {
        let out = self.command(editor, args, true).output().unwrap();
        assert_no_leak(&out);
        out
    }

    fn note(&self, name: &str) -> String {
        std::fs::read_to_string(self.aux.path().join(name))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    /// Nothing left in $TMPDIR, no temporary file in the project, no plaintext in its
    /// files.
    fn assert_clean(&self) {
        let left: Vec<_> = std::fs::read_dir(self.tmp()).unwrap().collect();
        assert!(left.is_empty(), "left in TMPDIR: {left:?}");
        for (name, text) in self.p.files() {
            assert!(!name.contains(".escc-"), "left behind: {name}");
            for f in forms(SECRET)
                .into_iter()
                .chain(forms(OTHER))
                .chain(forms(NEW))
            {
                assert!(!text.contains(&f), "{name} holds a plaintext");
            }
        }
    }
}

/// No plaintext (SECRET, OTHER, NEW, in any form) on stdout or stderr.
fn assert_no_leak(out: &Output) {
    assert_no_plaintext(out);
    for (label, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        for f in forms(NEW) {
            assert!(!text.contains(&f), "{label} shows a secret: {text}");
        }
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Records what the editor got: the copy's path, its mode and its directory's, and
/// whether it shows OTHER's plaintext (the control that the copy is decrypted).
const RECORD: &str = "echo \"$1\" > \"$AUX/path\"\n\
    stat -c %a \"$1\" > \"$AUX/mode\"\n\
    stat -c %a \"$(dirname \"$1\")\" > \"$AUX/dirmode\"\n\
    grep -c -F '\"second-secret-value\"' \"$1\" > \"$AUX/seen\" || true";

#[test]
fn changing_one_secret_changes_one_line() {
    let e = Edit::new();
    let before = e.p.read("app/prod.yaml");
    let editor = e.script(
        "ed.sh",
        &format!("{RECORD}\nsed -i 's/\"second-secret-value\"/\"{NEW}\"/' \"$1\""),
    );
    let out = e.edit(&editor, &["app/prod"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("app/prod.yaml: saved; re-encrypted api.token (changed)"),
        "{}",
        stderr(&out)
    );
    // The editor saw the plaintext, in a private file of a private directory.
    assert_eq!(e.note("seen"), "1");
    assert_eq!(e.note("mode"), "600");
    assert_eq!(e.note("dirmode"), "700");
    let copy = PathBuf::from(e.note("path"));
    assert!(copy.starts_with(e.tmp()), "{copy:?}");
    assert!(!copy.exists());
    e.assert_clean();
    // One line of the diff; the other ciphertext is byte-identical.
    assert_eq!(
        e.p.git(&["diff", "--numstat"]).trim(),
        "1\t1\tapp/prod.yaml"
    );
    let after = e.p.read("app/prod.yaml");
    assert_eq!(
        ciphertext_of(&after, "password"),
        ciphertext_of(&before, "password")
    );
    // Written back in the block style it had, decrypted by the real age.
    let token = after
        .lines()
        .find_map(|l| l.strip_prefix("        ciphertext: "))
        .unwrap();
    assert_eq!(age_decrypt(e.p.root(), token, &e.p.key), NEW);
    let json: serde_json::Value = serde_json::from_str(&shown(&e.p, "app/prod")).unwrap();
    assert_eq!(json["db"]["password"], SECRET);
    assert_eq!(json["api"]["token"], NEW);
}

#[test]
fn new_secrets_are_encrypted_and_other_edits_kept() {
    let e = Edit::new();
    let editor = e.script(
        "ed.sh",
        &format!(
            "sed -i 's/^  plain: 1$/  plain: 2 # two\\n  added: {{fn::secret: {NEW}}}/' \"$1\""
        ),
    );
    let out = e.edit(&editor, &["app/prod.yaml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("saved; encrypted added (new)"),
        "{}",
        stderr(&out)
    );
    e.assert_clean();
    assert_eq!(
        e.p.git(&["diff", "--numstat"]).trim(),
        "2\t1\tapp/prod.yaml"
    );
    let after = e.p.read("app/prod.yaml");
    assert!(after.contains("\n  plain: 2 # two\n  added: {fn::secret: {ciphertext: YWdl"));
    assert_eq!(
        age_decrypt(e.p.root(), &ciphertext_of(&after, "added"), &e.p.key),
        NEW
    );
}

#[test]
fn an_edit_that_changes_nothing_writes_nothing() {
    let e = Edit::new();
    let path = e.p.root().join("app/prod.yaml");
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    // The editor saves the file as it is (rewriting it, as editors do).
    let editor = e.script("ed.sh", "cp \"$1\" \"$1.bak\"; mv \"$1.bak\" \"$1\"");
    let out = e.edit(&editor, &["app/prod"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("no change; the file was not written"));
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    assert_eq!(e.p.git(&["status", "--porcelain"]), "");
    e.assert_clean();
}

#[test]
fn a_copy_that_no_longer_loads_is_refused_and_the_original_kept() {
    let e = Edit::new();
    let before = e.p.files();
    for (sed, at, why) in [
        // An unterminated quote on the line of a plaintext: the message must not quote it.
        (
            "s/\"second-secret-value\"/\"second-secret-value/",
            "line 10",
            "",
        ),
        (
            "s/\"second-secret-value\"/[1]/",
            "at line 10, column 9: secret values must be string literals",
            "secret values must be string literals",
        ),
    ] {
        let editor = e.script("ed.sh", &format!("sed -i '{sed}' \"$1\""));
        let out = e.edit(&editor, &["app/prod"]);
        assert_eq!(out.status.code(), Some(2));
        let said = stderr(&out);
        assert!(
            said.contains("app/prod.yaml: the edited copy cannot be saved at "),
            "{said}"
        );
        assert!(said.contains(at) && said.contains(why), "{said}");
        assert!(
            said.contains("nothing was written (app/prod.yaml is unchanged)"),
            "{said}"
        );
        assert_eq!(e.p.files(), before);
        e.assert_clean();
    }
}

#[test]
fn an_editor_that_fails_writes_nothing() {
    let e = Edit::new();
    let before = e.p.files();
    let editor = e.script(
        "ed.sh",
        &format!("sed -i 's/\"second-secret-value\"/\"{NEW}\"/' \"$1\"\nexit 3"),
    );
    let out = e.edit(&editor, &["app/prod"]);
    assert_eq!(out.status.code(), Some(2));
    let said = stderr(&out);
    assert!(said.contains("exited with status 3"), "{said}");
    assert!(said.contains("nothing was written"), "{said}");
    assert_eq!(e.p.files(), before);
    e.assert_clean();
    // An editor that cannot be started.
    let out = e.edit(Path::new("/nonexistent/editor"), &["app/prod"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(e.p.files(), before);
    e.assert_clean();
    // A document that does not load is refused before any editor runs: escc could not
    // tell where its secrets are.
    let broken = format!("{}  bad: [\n", e.p.read("app/prod.yaml"));
    e.p.write("app/prod.yaml", &broken);
    let editor = e.script("ed.sh", "touch \"$AUX/ran\"");
    let out = e.edit(&editor, &["app/prod"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("app/prod.yaml: app/prod has errors; fix them first"),
        "{}",
        stderr(&out)
    );
    assert!(!e.aux.path().join("ran").exists());
    assert_eq!(e.p.read("app/prod.yaml"), broken);
    e.assert_clean();
}

#[test]
fn a_signal_removes_the_copy_and_writes_nothing() {
    let e = Edit::new();
    let before = e.p.files();
    for (signal, number) in [("TERM", 15), ("HUP", 1), ("INT", 2), ("QUIT", 3)] {
        let _ = std::fs::remove_file(e.aux.path().join("path"));
        let editor = e.script(
            "ed.sh",
            &format!("sed -i 's/\"second-secret-value\"/\"{NEW}\"/' \"$1\"\necho \"$1\" > \"$AUX/path\"\nexec sleep 30"),
        );
        // In its own process group, as `kill` or a CI runner would reach it, without
        // core dumps (SIGQUIT dumps core by default).
        let mut sh = wrapped(
            &e.command(&editor, &["app/prod"], true),
            "sh",
            &["-c", "ulimit -c 0; exec \"$@\"", "sh"],
        );
        sh.process_group(0);
        let child = sh.spawn().unwrap();
        let started = Instant::now();
        let copy = loop {
            let p = e.note("path");
            if !p.is_empty() {
                break PathBuf::from(p);
            }
            assert!(started.elapsed() < Duration::from_secs(20), "no editor");
            std::thread::sleep(Duration::from_millis(20));
        };
        // The control: the decrypted copy is there while the editor runs.
        assert!(std::fs::read_to_string(&copy).unwrap().contains(NEW));
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.signal(), Some(number), "{signal}: {out:?}");
        assert!(!out.status.core_dumped());
        assert_no_leak(&out);
        assert!(
            stderr(&out).contains("interrupted; nothing was written"),
            "{}",
            stderr(&out)
        );
        assert!(!copy.exists(), "{signal}: {copy:?} left behind");
        assert_eq!(e.p.files(), before, "{signal}");
        e.assert_clean();
    }
}

/// Runs `escc edit app/prod` on a pseudo-terminal, answers the re-edit question with
/// `answer`, and prints escc's exit status after all it printed.
const TERMINAL: &str = r#"
import os, pty, sys, time
answer = sys.argv[1].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
out = b""
deadline = time.time() + 30
while b"[Y/n] " not in out:
    assert time.time() < deadline, out
    chunk = os.read(fd, 1024)
    assert chunk, out
    out += chunk
if answer == b"TERM":
    os.kill(pid, 15)
else:
    os.write(fd, answer + b"\n")
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
print()
print(os.waitstatus_to_exitcode(status))
"#;

#[test]
fn on_a_terminal_a_copy_that_does_not_load_can_be_edited_again() {
    for (answer, code) in [("y", "0"), ("n", "2"), ("TERM", "-15")] {
        let e = Edit::new();
        let before = e.p.read("app/prod.yaml");
        // The first run breaks the document; the second mends it.
        let editor = e.script(
            "ed.sh",
            &format!(
                "echo \"$1\" > \"$AUX/path\"\nif [ -e \"$AUX/once\" ]; then\n  sed -i 's/\"{NEW}$/\"{NEW}\"/' \"$1\"\nelse\n  touch \"$AUX/once\"\n  sed -i 's/\"second-secret-value\"/\"{NEW}/' \"$1\"\nfi"
            ),
        );
        let out = wrapped(
            &e.command(&editor, &["app/prod"], true),
            "python3",
            &["-c", TERMINAL, answer],
        )
        .output()
        .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_no_leak(&out);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("the edited copy cannot be saved at line 10"),
            "{said}"
        );
        assert_eq!(said.lines().last(), Some(code), "{said}");
        if code == "0" {
            assert!(said.contains("re-encrypted api.token (changed)"), "{said}");
            let json: serde_json::Value = serde_json::from_str(&shown(&e.p, "app/prod")).unwrap();
            assert_eq!(json["api"]["token"], NEW);
        } else {
            assert!(said.contains("nothing was written"), "{said}");
            assert_eq!(e.p.read("app/prod.yaml"), before);
        }
        e.assert_clean();
        let copy = PathBuf::from(e.note("path"));
        assert!(copy.starts_with(e.tmp()) && !copy.exists(), "{copy:?}");
    }
}

#[test]
fn editing_what_you_could_not_decrypt_is_refused_unless_forced() {
    let e = Edit::new();
    let before = e.p.files();
    let editor = e.script(
        "ed.sh",
        &format!("sed -i 's/^  plain: 1$/  plain: 1\\n  added: {{fn::secret: {NEW}}}/' \"$1\""),
    );
    // No identity.
    let out = e.command(&editor, &["app/prod"], false).output().unwrap();
    assert_no_leak(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("you have no age identity"),
        "{}",
        stderr(&out)
    );
    assert_eq!(e.p.files(), before);
    // Recipients you are not among.
    e.p.write(
        "escc.toml",
        &format!("[encryption]\nrecipients = [{STRANGER:?}]\n"),
    );
    let before = e.p.files();
    let out = e.edit(&editor, &["app/prod"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("none of your identities"),
        "{}",
        stderr(&out)
    );
    assert_eq!(e.p.files(), before);
    e.assert_clean();
    // Forced, without an identity: the ciphertexts stay encrypted in the copy (said), the
    // new secret is encrypted to the stranger alone, the rest is byte-identical.
    let out = e
        .command(&editor, &["app/prod", "--force"], false)
        .output()
        .unwrap();
    assert_no_leak(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("db.password stays encrypted in the copy you edit"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        e.p.git(&["diff", "--numstat", "app/prod.yaml"]).trim(),
        "1\t0\tapp/prod.yaml"
    );
    let after = e.p.read("app/prod.yaml");
    assert!(!age_can_decrypt(
        e.p.root(),
        &ciphertext_of(&after, "added"),
        &e.p.key
    ));
    e.assert_clean();
}

#[test]
fn edits_on_two_branches_merge_without_conflict() {
    let e = Edit::new();
    let p = &e.p;
    p.git(&["checkout", "-qb", "left"]);
    let editor = e.script(
        "ed.sh",
        &format!("sed -i 's/\"second-secret-value\"/\"{NEW}\"/' \"$1\""),
    );
    assert!(e.edit(&editor, &["app/prod"]).status.success());
    p.git(&["commit", "-qam", "token"]);
    p.git(&["checkout", "-q", "main"]);
    p.git(&["checkout", "-qb", "right"]);
    p.ok(&["secret", "set", "app/prod", "db.password"], Some(OTHER));
    p.git(&["commit", "-qam", "password"]);
    p.git(&["checkout", "-q", "left"]);
    p.git(&["merge", "-q", "--no-edit", "right"]);
    let json: serde_json::Value = serde_json::from_str(&shown(p, "app/prod")).unwrap();
    assert_eq!(json["db"]["password"], OTHER);
    assert_eq!(json["api"]["token"], NEW);
    assert_eq!(json["db"]["user"], "admin");
}

/// Sets up the diff driver in the project's repository, as docs/secrets.md says.
fn use_the_diff_driver(p: &Project) {
    p.write(".gitattributes", "*.yaml diff=escc\n");
    p.git(&[
        "config",
        "diff.escc.command",
        &format!("{} diff-driver", super::age::BIN),
    ]);
    p.git(&["add", ".gitattributes"]);
    p.git(&["commit", "-qm", "diff driver"]);
}

fn assert_masked(text: &str) {
    for f in forms(SECRET)
        .into_iter()
        .chain(forms(OTHER))
        .chain(forms(NEW))
    {
        assert!(!text.contains(&f), "a plaintext is shown: {text}");
    }
    // Every age file's base64 starts so: no ciphertext either.
    assert!(!text.contains("YWdl"), "a ciphertext is shown: {text}");
}

#[test]
fn the_diff_driver_names_changed_secrets_and_shows_no_value() {
    let e = Edit::new();
    let p = &e.p;
    p.write(
        "escc.toml",
        &format!(
            "[encryption]\nrecipients = [{:?}]\nallow-plaintext = true\n",
            p.public
        ),
    );
    p.write(
        "app/dev.yaml",
        &format!("values:\n  pw: {{fn::secret: {OTHER}}}\n  host: a\n"),
    );
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "dev"]);
    use_the_diff_driver(p);
    p.ok(&["secret", "set", "app/prod", "db.password"], Some(NEW));
    p.write(
        "app/prod.yaml",
        &p.read("app/prod.yaml").replace("plain: 1", "plain: 2"),
    );
    p.write(
        "app/dev.yaml",
        &format!("values:\n  pw: {{fn::secret: {NEW}}}\n  host: a\n"),
    );
    let diff = p.git(&["diff"]);
    assert_masked(&diff);
    for line in [
        "diff --escc a/app/dev.yaml b/app/dev.yaml\n~ pw: [secret] changed\n",
        "-  pw: {fn::secret: [plaintext secret]}\n+  pw: {fn::secret: [plaintext secret, changed]}\n",
        "diff --escc a/app/prod.yaml b/app/prod.yaml\n~ db.password: [secret] changed\n",
        "-    password: {fn::secret: [secret]} # db\n",
        "+    password: {fn::secret: [secret, changed]} # db\n",
        "-  plain: 1\n+  plain: 2\n",
        // An unchanged secret is context, masked.
        "       fn::secret:\n         [secret]\n",
    ] {
        assert!(diff.contains(line), "{line:?} not in:\n{diff}");
    }
    // The control: without the driver, git shows the values.
    let raw = p.git(&["diff", "--no-ext-diff"]);
    assert!(raw.contains("YWdl") && raw.contains(OTHER), "{raw}");
    // git log -p and git show use it with --ext-diff.
    p.git(&["commit", "-qam", "changes"]);
    for args in [
        &["log", "-p", "--ext-diff", "-1"][..],
        &["show", "--ext-diff"],
    ] {
        let out = p.git(args);
        assert_masked(&out);
        assert!(out.contains("~ db.password: [secret] changed"), "{out}");
    }
    // A new file, a deleted one, a renamed one (git passes two more arguments).
    p.write(
        "app/new.yaml",
        &format!("values:\n  k: {{fn::secret: {SECRET}}}\n"),
    );
    p.git(&["rm", "-q", "app/dev.yaml"]);
    p.git(&["mv", "app/prod.yaml", "app/live.yaml"]);
    p.git(&["add", "-A"]);
    let out = p.git(&["diff", "--cached", "-M"]);
    assert_masked(&out);
    for line in [
        "diff --escc a/app/new.yaml b/app/new.yaml\n+ k: [secret] added\n--- /dev/null\n+++ b/app/new.yaml\n",
        "diff --escc a/app/dev.yaml b/app/dev.yaml\n- pw: [secret] removed\n--- a/app/dev.yaml\n+++ /dev/null\n",
        "diff --escc a/app/prod.yaml b/app/live.yaml\nsimilarity index 100%\nrename from app/prod.yaml\nrename to app/live.yaml\n",
    ] {
        assert!(out.contains(line), "{line:?} not in:\n{out}");
    }
    // A side that does not load as an environment is not shown.
    p.git(&["commit", "-qm", "moves"]);
    p.write(
        "app/new.yaml",
        &format!("values:\n  k: {{fn::secret: {SECRET}\n"),
    );
    let out = p.git(&["diff"]);
    assert_masked(&out);
    assert!(
        out.contains(
            "the new side does not load as an environment (line 3, column 1); it is not shown"
        ),
        "{out}"
    );
}

#[test]
fn the_diff_driver_without_git_arguments_says_how_to_use_it() {
    let out = Command::new(super::age::BIN)
        .args(["diff-driver", "a", "b"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is run by git"));
    let mut child = Command::new(super::age::BIN)
        .args(["diff-driver", "app/x.yaml"])
        .stdout(Stdio::piped())
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "* Unmerged path app/x.yaml\n"
    );
}

#[test]
fn a_file_changed_during_the_edit_is_not_overwritten() {
    let e = Edit::new();
    let file = e.p.root().join("app/prod.yaml");
    let editor = e.script(
        "ed.sh",
        &format!(
            "sed -i 's/\"second-secret-value\"/\"{NEW}\"/' \"$1\"\necho '# theirs' >> '{}'",
            file.display()
        ),
    );
    let out = e.edit(&editor, &["app/prod"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "app/prod.yaml changed on disk while you were editing it; nothing was written"
        ),
        "{}",
        stderr(&out)
    );
    assert!(e.p.read("app/prod.yaml").ends_with("# theirs\n"));
    let json: serde_json::Value = serde_json::from_str(&shown(&e.p, "app/prod")).unwrap();
    assert_eq!(json["api"]["token"], OTHER);
    e.assert_clean();
}
