//! Secrets at rest with age, through the real binaries: `escc encrypt` and `escc secret set`
//! on a project in a temporary git repository, interop with the `age` command both ways
//! (X25519, SSH ed25519 and RSA keys), a merge of two branches that each changed a different
//! secret, and what must never show a plaintext. `age`, `age-keygen`, `ssh-keygen` and `git`
//! are required: outside CI a missing tool fails these tests too (`.ci/run` installs them).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_escc");
/// A plaintext that differs in each of its forms (quote, backslash, non-ASCII).
pub(crate) const SECRET: &str = "s3cr\"et\\ü-hunter";
pub(crate) const OTHER: &str = "second-secret-value";

pub(crate) fn tool(name: &str, args: &[&str], cwd: &Path, stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(name)
        .args(args)
        .current_dir(cwd)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{name} is needed by these tests (apt-get install age openssh-client git): {e}")
        });
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A project in a git repository with an age key; `escc.toml` names `recipients`. The
/// rotation tests (`rotators.rs`) use it too.
pub(crate) struct Project {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) key: PathBuf,
    pub(crate) public: String,
}

impl Project {
    pub(crate) fn new(extra_recipients: &[&str]) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        tool("age-keygen", &["-o", "key.txt"], root, None);
        let key = root.join("key.txt");
        let public = String::from_utf8(tool("age-keygen", &["-y", "key.txt"], root, None).stdout)
            .unwrap()
            .trim()
            .to_owned();
        let mut recipients = vec![format!("{public:?}")];
        recipients.extend(extra_recipients.iter().map(|r| format!("{r:?}")));
        std::fs::write(
            root.join("escc.toml"),
            format!("[encryption]\nrecipients = [{}]\n", recipients.join(", ")),
        )
        .unwrap();
        std::fs::write(root.join(".gitignore"), "key.txt\n").unwrap();
        for args in [
            &["init", "-q", "-b", "main"][..],
            &["config", "user.email", "t@example.com"],
            &["config", "user.name", "t"],
        ] {
            tool("git", args, root, None);
        }
        Project { dir, key, public }
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn write(&self, file: &str, text: &str) {
        let path = self.root().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub(crate) fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.root().join(file)).unwrap()
    }

    /// The escc command in the project, with its identity (unless `identity` is false)
    /// and no other: no per-user identity file, no editor but what a test sets, none of
    /// the caller's settings that reach a provider.
    pub(crate) fn command(&self, args: &[&str], identity: bool) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.root())
            .args(args)
            .env_remove("VISUAL")
            .env_remove("EDITOR")
            .env("XDG_CONFIG_HOME", self.root().join("no-config"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        crate::backends::without_provider_env(&mut c);
        if identity {
            c.env("ESCC_AGE_IDENTITY_FILE", &self.key);
        }
        c
    }

    /// Runs escc with the project's identity (unless `identity` is false).
    pub(crate) fn escc(&self, args: &[&str], stdin: Option<&str>, identity: bool) -> Output {
        let mut c = self.command(args, identity);
        c.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = c.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    }

    pub(crate) fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.escc(args, stdin, true);
        assert!(
            out.status.success(),
            "escc {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_plaintext(&out);
        String::from_utf8(out.stdout).unwrap()
    }

    pub(crate) fn git(&self, args: &[&str]) -> String {
        String::from_utf8(tool("git", args, self.root(), None).stdout).unwrap()
    }

    /// Every file of the project but the key: what a commit could hold.
    pub(crate) fn files(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut stack = vec![self.root().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.file_name().is_some_and(|n| n == ".git") || p == self.key {
                    continue;
                }
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let name = p.strip_prefix(self.root()).unwrap().display().to_string();
                    out.push((
                        name,
                        String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
                    ));
                }
            }
        }
        out.sort();
        out
    }
}

/// `c` run through `program ARGS...` (a shell setting limits, a pseudo-terminal): the
/// command line `program ARGS... C-PROGRAM C-ARGS...`, with `c`'s directory and
/// environment (variables it removes too), output piped, no input.
pub(crate) fn wrapped(c: &Command, program: &str, args: &[&str]) -> Command {
    let mut w = Command::new(program);
    w.args(args).arg(c.get_program()).args(c.get_args());
    if let Some(dir) = c.get_current_dir() {
        w.current_dir(dir);
    }
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => w.env(k, v),
            None => w.env_remove(k),
        };
    }
    w.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    w
}

/// `escc open NAME --show-secrets`: the control that shows the plaintexts.
pub(crate) fn shown(p: &Project, name: &str) -> String {
    let out = p.escc(&["open", name, "--show-secrets"], None, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) fn forms(secret: &str) -> Vec<String> {
    escc::secrets::forms(secret.to_owned())
}

pub(crate) fn assert_no_plaintext(out: &Output) {
    for (label, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        for secret in [SECRET, OTHER] {
            for f in forms(secret) {
                assert!(!text.contains(&f), "{label} shows a secret: {text}");
            }
        }
    }
}

/// The `ciphertext:` text on the line of `key` in `doc`.
pub(crate) fn ciphertext_of(doc: &str, key: &str) -> String {
    let line = doc
        .lines()
        .find(|l| {
            l.trim_start().starts_with(&format!("{key}:")) || l.contains(&format!("{key}: {{"))
        })
        .unwrap_or_else(|| panic!("no {key} in {doc}"));
    let start = line.find("ciphertext: ").unwrap() + "ciphertext: ".len();
    line[start..].split('}').next().unwrap().trim().to_owned()
}

pub(crate) fn age_decrypt(root: &Path, ciphertext: &str, key: &Path) -> String {
    let file = tool("base64", &["-d"], root, Some(ciphertext.as_bytes())).stdout;
    let key = key.to_str().unwrap();
    String::from_utf8(tool("age", &["-d", "-i", key], root, Some(&file)).stdout).unwrap()
}

#[test]
fn age_decrypts_what_escc_encrypts_and_layout_is_kept() {
    let p = Project::new(&[]);
    let doc = format!(
        "# The database.\nvalues:\n    db:\n        # rotated monthly\n        password:\n            fn::secret: {} # old\n\n        user: admin\n",
        serde_json::to_string(SECRET).unwrap()
    );
    p.write("app/dev.yaml", &doc);
    p.ok(&["encrypt"], None);
    let written = p.read("app/dev.yaml");
    // One line changed, everything else as written.
    let changed: Vec<_> = doc
        .lines()
        .zip(written.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "{written}");
    assert_eq!(doc.lines().count(), written.lines().count());
    assert!(written.contains("# old\n\n        user: admin\n"));
    assert_eq!(
        age_decrypt(p.root(), &ciphertext_of(&written, "fn::secret"), &p.key),
        SECRET
    );
    // Idempotent.
    p.ok(&["encrypt"], None);
    assert_eq!(p.read("app/dev.yaml"), written);
    // `secret set`, value on stdin (the final line break of a one-line value dropped).
    p.ok(
        &["secret", "set", "app/dev", "db.token"],
        Some(&format!("{OTHER}\n")),
    );
    let written = p.read("app/dev.yaml");
    assert!(
        written.contains("        user: admin\n        token: {fn::secret: {ciphertext: YWdl"),
        "{written}"
    );
    assert_eq!(
        age_decrypt(p.root(), &ciphertext_of(&written, "token"), &p.key),
        OTHER
    );
    // open decrypts with the identity.
    let json: serde_json::Value = serde_json::from_str(&shown(&p, "app/dev")).unwrap();
    assert_eq!(json["db"]["password"], SECRET);
    assert_eq!(json["db"]["token"], OTHER);
    // No plaintext on disk, no temporary file left.
    for (name, text) in p.files() {
        assert!(!name.contains(".escc-"), "left behind: {name}");
        for f in forms(SECRET).into_iter().chain(forms(OTHER)) {
            assert!(!text.contains(&f), "{name} holds a plaintext");
        }
    }
}

#[test]
fn escc_decrypts_what_age_encrypted() {
    let p = Project::new(&[]);
    let file = tool("age", &["-r", &p.public], p.root(), Some(SECRET.as_bytes())).stdout;
    let armored = tool("base64", &["-w0"], p.root(), Some(&file)).stdout;
    let b64 = String::from_utf8(armored).unwrap();
    p.write(
        "app/dev.yaml",
        &format!("values:\n  pw:\n    fn::secret:\n      ciphertext: {b64}\n  env:\n    environmentVariables:\n      PW: ${{pw}}\n"),
    );
    let json: serde_json::Value = serde_json::from_str(&shown(&p, "app/dev")).unwrap();
    assert_eq!(json["pw"], SECRET);
    // Redacted by default.
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&p.ok(&["open", "app/dev"], None)).unwrap()["pw"],
        "[secret]"
    );
    // check and get need no identity: the ciphertext is a secret of unknown plaintext.
    for args in [&["check"][..], &["get", "app/dev"]] {
        let out = p.escc(args, None, false);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // open without an identity fails, saying why, and shows no plaintext.
    let out = p.escc(&["open", "app/dev", "--show-secrets"], None, false);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no age identity to decrypt with"));
    assert_no_plaintext(&out);
}

/// SSH keys made by `ssh-keygen KEYGEN...` as recipient and identity, both ways: escc
/// encrypts to the public key and `age -d -i KEY` decrypts; `age -R KEY.pub` encrypts and
/// escc decrypts with the private key, given as text (`ESCC_AGE_IDENTITY`) and as a file.
fn ssh_keys_both_ways(keygen: &[&str]) {
    let p = Project::new(&[]);
    let args = [&["-q", "-N", "", "-C", "ci", "-f", "id"], keygen].concat();
    tool("ssh-keygen", &args, p.root(), None);
    let public = p.read("id.pub").trim().to_owned();
    p.write(
        "escc.toml",
        &format!("[encryption]\nrecipients = [{public:?}]\n"),
    );
    p.write(
        "app/dev.yaml",
        &format!("values:\n  pw: {{fn::secret: {OTHER}}}\n"),
    );
    let id = p.root().join("id");
    let mut c = p.escc(&["encrypt"], None, false);
    // Without an identity that is a recipient, refused; with the SSH key, done.
    assert_eq!(c.status.code(), Some(2), "{keygen:?}");
    c = p
        .command(&["encrypt"], false)
        .env("ESCC_AGE_IDENTITY_FILE", &id)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    assert_no_plaintext(&c);
    let written = p.read("app/dev.yaml");
    let stanza = if keygen.contains(&"rsa") {
        "ssh-rsa"
    } else {
        "ssh-ed25519"
    };
    let file = tool(
        "base64",
        &["-d"],
        p.root(),
        Some(ciphertext_of(&written, "pw").as_bytes()),
    )
    .stdout;
    assert!(
        String::from_utf8_lossy(&file).contains(&format!("\n-> {stanza} ")),
        "{keygen:?}"
    );
    assert_eq!(
        age_decrypt(p.root(), &ciphertext_of(&written, "pw"), &id),
        OTHER
    );
    // escc decrypts with the SSH key what age encrypted to it.
    let file = tool("age", &["-R", "id.pub"], p.root(), Some(SECRET.as_bytes())).stdout;
    let b64 = String::from_utf8(tool("base64", &["-w0"], p.root(), Some(&file)).stdout).unwrap();
    p.write(
        "app/dev.yaml",
        &format!("values:\n  pw: {{fn::secret: {{ciphertext: {b64}}}}}\n"),
    );
    let open = [
        "open",
        "app/dev",
        "pw",
        "--format",
        "string",
        "--show-secrets",
    ];
    for (var, value) in [
        ("ESCC_AGE_IDENTITY", p.read("id")),
        ("ESCC_AGE_IDENTITY_FILE", id.display().to_string()),
    ] {
        c = p
            .command(&open, false)
            .env(var, &value)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
        assert_eq!(String::from_utf8_lossy(&c.stdout).trim_end(), SECRET);
    }
    // The other key type's identity is not a recipient: the error names the stanza.
    let out = p.escc(&open, None, true);
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr).replace('│', " ");
    let e = e.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        e.contains(&format!("it is encrypted to 1 recipient ({stanza} ")),
        "{e}"
    );
}

#[test]
fn ssh_ed25519_keys_both_ways() {
    ssh_keys_both_ways(&["-t", "ed25519"]);
}

#[test]
fn ssh_rsa_keys_both_ways() {
    ssh_keys_both_ways(&["-t", "rsa", "-b", "3072"]);
    // The older PEM (PKCS#1) private key format too.
    ssh_keys_both_ways(&["-t", "rsa", "-b", "2048", "-m", "PEM"]);
}

#[test]
fn two_branches_that_each_set_a_different_secret_merge_without_conflict() {
    let p = Project::new(&[]);
    p.write(
        "app/prod.yaml",
        // Git's merge takes changes to adjacent lines for one change: the secrets are apart.
        "values:\n  a: {fn::secret: one-one-one}\n  plain: x\n  b: {fn::secret: two-two-two}\n",
    );
    p.ok(&["encrypt"], None);
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "encrypted"]);
    p.git(&["checkout", "-qb", "left"]);
    p.ok(&["secret", "set", "app/prod", "a"], Some(SECRET));
    p.git(&["commit", "-qam", "a"]);
    // Only a's line changed.
    let diff = p.git(&["diff", "main", "--numstat"]);
    assert_eq!(diff.trim(), "1\t1\tapp/prod.yaml");
    p.git(&["checkout", "-q", "main"]);
    p.git(&["checkout", "-qb", "right"]);
    p.ok(&["secret", "set", "app/prod", "b"], Some(OTHER));
    p.git(&["commit", "-qam", "b"]);
    p.git(&["checkout", "-q", "left"]);
    p.git(&["merge", "-q", "--no-edit", "right"]);
    let json: serde_json::Value = serde_json::from_str(&shown(&p, "app/prod")).unwrap();
    assert_eq!(json["a"], SECRET);
    assert_eq!(json["b"], OTHER);
    assert_eq!(json["plain"], "x");
}

#[test]
fn refusals_are_clear_and_change_nothing() {
    let other = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";
    let p = Project::new(&[]);
    let doc = format!("values:\n  pw: {{fn::secret: {OTHER}}}\n");
    p.write("app/dev.yaml", &doc);
    let err = |args: &[&str], stdin: Option<&str>, identity: bool| {
        let out = p.escc(args, stdin, identity);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_no_plaintext(&out);
        assert_eq!(p.read("app/dev.yaml"), doc);
        String::from_utf8(out.stderr).unwrap()
    };
    // No identity: you could not decrypt what you encrypt.
    assert!(err(&["encrypt"], None, false).contains("you have no age identity"));
    // Not a recipient.
    p.write(
        "escc.toml",
        &format!("[encryption]\nrecipients = [{other:?}]\n"),
    );
    let e = err(&["encrypt"], None, true);
    assert!(
        e.contains(&format!(
            "none of your identities ({}",
            "ESCC_AGE_IDENTITY_FILE"
        )),
        "{e}"
    );
    assert!(e.contains(&p.public), "{e}");
    // The same for `secret set` (the value is read only after the check).
    let e = err(&["secret", "set", "app/dev", "pw"], Some(SECRET), true);
    assert!(e.contains("none of your identities"), "{e}");
    assert!(
        err(&["secret", "set", "app/dev", "pw"], Some(SECRET), false)
            .contains("you have no age identity")
    );
    // No recipients.
    p.write("escc.toml", "");
    assert!(err(&["encrypt"], None, true).contains("no one to encrypt to"));
    // A recipient that does not parse, located.
    p.write("escc.toml", "[encryption]\nrecipients = [\"age1nope\"]\n");
    assert!(
        err(&["encrypt"], None, true)
            .contains("encryption.recipients[0]: \"age1nope\" is not an age recipient")
    );
    p.write(
        "escc.toml",
        &format!("[encryption]\nrecipients = [{:?}]\n", p.public),
    );
    // The value is never taken from the command line; an empty one is refused.
    assert!(
        err(&["secret", "set", "app/dev", "pw"], Some(""), true).contains("the value is empty")
    );
    // A broken identity.
    let out = Command::new(BIN)
        .current_dir(p.root())
        .args(["open", "app/dev"])
        .env_remove("ESCC_AGE_IDENTITY_FILE")
        .env("ESCC_AGE_IDENTITY", format!("AGE-SECRET-KEY-1{OTHER}"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("ESCC_AGE_IDENTITY: line 1 is not an age identity")
    );
    assert_no_plaintext(&out);
    // A value encrypted to someone else: the error names the identity's public key.
    p.write(
        "escc.toml",
        &format!("[encryption]\nrecipients = [{other:?}]\n"),
    );
    p.ok(&["secret", "set", "app/dev", "pw", "--force"], Some(SECRET));
    let out = p.escc(&["open", "app/dev"], None, true);
    assert_eq!(out.status.code(), Some(1));
    // The human report wraps lines: compare words.
    let e = String::from_utf8_lossy(&out.stderr).replace('│', " ");
    let e = e.split_whitespace().collect::<Vec<_>>().join(" ");
    // By public key: escc recorded the set, which escc.toml names.
    assert!(
        e.contains(&format!(
            "it is encrypted to 1 recipient (X25519), the recipients {other} (encryption.recipients), and the identities' public keys are {}",
            p.public
        )),
        "{e}"
    );
    assert_no_plaintext(&out);
}

#[test]
fn a_plaintext_secret_is_a_warning_that_ci_can_deny_and_encrypt_clears() {
    let p = Project::new(&[]);
    p.write(
        "app/dev.yaml",
        &format!(
            "values:\n  db:\n    password:\n      fn::secret: {}\n",
            serde_json::to_string(SECRET).unwrap()
        ),
    );
    // Every format names the code and the fix, and no format shows the plaintext.
    for format in ["human", "json", "github", "sarif"] {
        let out = p.escc(&["check", "--format", format], None, false);
        assert!(out.status.success(), "a warning alone does not fail");
        let denied = p.escc(
            &["check", "--deny-warnings", "--format", format],
            None,
            false,
        );
        assert_eq!(denied.status.code(), Some(1), "{format}");
        for o in [&out, &denied] {
            assert_no_plaintext(o);
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(all.contains("plaintext-secret"), "{format}: {all}");
            assert!(all.contains("escc encrypt app/dev"), "{format}: {all}");
        }
    }
    // `get` and `open` report it too, without the plaintext.
    for args in [&["get", "app/dev"][..], &["open", "app/dev"]] {
        let out = p.escc(args, None, true);
        assert!(out.status.success(), "{args:?}");
        assert_no_plaintext(&out);
        assert!(String::from_utf8_lossy(&out.stderr).contains("plaintext-secret"));
    }
    // Encrypted, the check is clean.
    p.ok(&["encrypt"], None);
    p.ok(&["check", "--deny-warnings"], None);
    // A project that keeps plaintext on purpose turns the warning off.
    p.write(
        "app/dev.yaml",
        &format!(
            "values:\n  pw: {{fn::secret: {}}}\n",
            serde_json::to_string(OTHER).unwrap()
        ),
    );
    assert_eq!(
        p.escc(&["check", "--deny-warnings"], None, false)
            .status
            .code(),
        Some(1)
    );
    let toml = p.read("escc.toml");
    p.write("escc.toml", &format!("{toml}allow-plaintext = true\n"));
    p.ok(&["check", "--deny-warnings"], None);
    // Strictly parsed: a misspelt key is an error, not a silent default.
    p.write("escc.toml", &format!("{toml}allow-plaintxt = true\n"));
    let out = p.escc(&["check"], None, false);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `allow-plaintxt`"));
}

/// Runs `age -d` without asserting success: whether `key` decrypts `ciphertext`.
pub(crate) fn age_can_decrypt(root: &Path, ciphertext: &str, key: &Path) -> bool {
    let file = tool("base64", &["-d"], root, Some(ciphertext.as_bytes())).stdout;
    let mut child = Command::new("age")
        .args(["-d", "-i", key.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&file).unwrap();
    child.wait_with_output().unwrap().status.success()
}

#[test]
fn rekey_reencrypts_only_the_values_whose_recipients_changed() {
    let p = Project::new(&[]);
    tool("age-keygen", &["-o", "bob.txt"], p.root(), None);
    let bob_key = p.root().join("bob.txt");
    let bob = String::from_utf8(tool("age-keygen", &["-y", "bob.txt"], p.root(), None).stdout)
        .unwrap()
        .trim()
        .to_owned();
    let toml = |top: &[&str]| {
        let list = |keys: &[&str]| {
            keys.iter()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "[encryption]\nrecipients = [{}]\n[encryption.folders.prod]\nrecipients = [{}]\n",
            list(top),
            list(&[&p.public])
        )
    };
    p.write("escc.toml", &toml(&[&p.public]));
    p.write(
        "app/dev.yaml",
        &format!("# dev\nvalues:\n  a: {{fn::secret: {OTHER}}} # a\n  plain: 1\n"),
    );
    p.write(
        "prod/db.yaml",
        &format!("values:\n  b: {{fn::secret: {OTHER}}}\n"),
    );
    p.ok(&["encrypt"], None);
    p.ok(&["secret", "set", "app/dev", "c"], Some(SECRET));
    // Everything is encrypted to its recipients: nothing changes.
    let before = p.files();
    let out = p.escc(&["rekey"], None, true);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to re-encrypt"));
    assert_eq!(p.files(), before);

    // Bob joins the project (not prod): app/dev's values change, prod/db's do not.
    p.write("escc.toml", &toml(&[&p.public, &bob]));
    let dev = p.read("app/dev.yaml");
    assert!(!age_can_decrypt(
        p.root(),
        &ciphertext_of(&dev, "a"),
        &bob_key
    ));
    let prod = p.read("prod/db.yaml");
    let out = p.escc(&["rekey"], None, true);
    assert!(out.status.success());
    assert_no_plaintext(&out);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("app/dev.yaml: re-encrypted a, c"), "{said}");
    let rekeyed = p.read("app/dev.yaml");
    assert_eq!(p.read("prod/db.yaml"), prod);
    // Only the ciphertexts' bytes changed; comments and layout stay.
    let changed = dev
        .lines()
        .zip(rekeyed.lines())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(changed, 2, "{rekeyed}");
    assert!(rekeyed.starts_with("# dev\nvalues:\n  a: {fn::secret: {ciphertext: "));
    assert!(rekeyed.contains("}} # a\n  plain: 1\n"));
    // Both can decrypt, with the real age.
    for key in [&p.key, &bob_key] {
        assert_eq!(
            age_decrypt(p.root(), &ciphertext_of(&rekeyed, "a"), key),
            OTHER
        );
        assert_eq!(
            age_decrypt(p.root(), &ciphertext_of(&rekeyed, "c"), key),
            SECRET
        );
    }
    // Idempotent.
    p.ok(&["rekey"], None);
    assert_eq!(p.read("app/dev.yaml"), rekeyed);

    // A value the `age` tool wrote records no recipient set: it is re-encrypted once.
    let file = tool("age", &["-r", &p.public], p.root(), Some(SECRET.as_bytes())).stdout;
    let b64 = String::from_utf8(tool("base64", &["-w0"], p.root(), Some(&file)).stdout).unwrap();
    p.write(
        "prod/db.yaml",
        &format!("values:\n  b:\n    fn::secret:\n      ciphertext: {b64}\n"),
    );
    let out = p.escc(&["rekey", "prod/db"], None, true);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("prod/db.yaml: re-encrypted b"));
    let once = p.read("prod/db.yaml");
    p.ok(&["rekey", "prod/db"], None);
    assert_eq!(p.read("prod/db.yaml"), once);
    assert_eq!(
        age_decrypt(p.root(), &ciphertext_of(&once, "ciphertext"), &p.key),
        SECRET
    );

    // Alice leaves: re-encrypting to Bob alone is refused (she could not decrypt the
    // result), and nothing changes; --force does it, and her key no longer decrypts.
    p.write("escc.toml", &toml(&[&bob]));
    let before = p.files();
    let out = p.escc(&["rekey", "app/dev"], None, true);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("none of your identities"));
    assert_eq!(p.files(), before);
    // Without an identity: said, nothing written.
    let out = p.escc(&["rekey", "app/dev"], None, false);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs your age identity"));
    assert_eq!(p.files(), before);
    p.ok(&["rekey", "app/dev", "--force"], None);
    let left = p.read("app/dev.yaml");
    assert!(!age_can_decrypt(
        p.root(),
        &ciphertext_of(&left, "a"),
        &p.key
    ));
    assert_eq!(
        age_decrypt(p.root(), &ciphertext_of(&left, "a"), &bob_key),
        OTHER
    );
    for (name, text) in p.files() {
        assert!(!name.contains(".escc-"), "left behind: {name}");
        for f in forms(SECRET).into_iter().chain(forms(OTHER)) {
            assert!(!text.contains(&f), "{name} holds a plaintext");
        }
    }
}

#[test]
fn rekey_writes_nothing_when_one_value_cannot_be_decrypted() {
    let p = Project::new(&[]);
    let stranger = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";
    p.write(
        "a.yaml",
        &format!("values:\n  x: {{fn::secret: {OTHER}}}\n"),
    );
    p.ok(&["encrypt"], None);
    // b.yaml holds a value only the stranger can read (no record: written by `age`).
    let file = tool("age", &["-r", stranger], p.root(), Some(SECRET.as_bytes())).stdout;
    let b64 = String::from_utf8(tool("base64", &["-w0"], p.root(), Some(&file)).stdout).unwrap();
    p.write(
        "b.yaml",
        &format!("values:\n  y: {{fn::secret: {{ciphertext: {b64}}}}}\n"),
    );
    // A new recipient: a.yaml would change, b.yaml cannot be re-encrypted.
    p.write(
        "escc.toml",
        &format!(
            "[encryption]\nrecipients = [{:?}, {stranger:?}]\n",
            p.public
        ),
    );
    let before = p.files();
    let out = p.escc(&["rekey"], None, true);
    assert_eq!(out.status.code(), Some(2));
    assert_no_plaintext(&out);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("b.yaml: y: no identity of"), "{e}");
    assert!(e.contains("nothing was written"), "{e}");
    assert_eq!(p.files(), before);
}

#[test]
fn bad_ciphertexts_are_located_errors() {
    let p = Project::new(&[]);
    // A real age file with its last payload byte flipped.
    let mut damaged = tool("age", &["-r", &p.public], p.root(), Some(SECRET.as_bytes())).stdout;
    *damaged.last_mut().unwrap() ^= 1;
    let damaged =
        String::from_utf8(tool("base64", &["-w0"], p.root(), Some(&damaged)).stdout).unwrap();
    p.write(
        "app/dev.yaml",
        &format!(
            "values:\n  a: {{fn::secret: {{ciphertext: \"not base64!\"}}}}\n  b: {{fn::secret: {{ciphertext: aGVsbG8gd29ybGQgdGhpcyBpcyBub3QgYWdl}}}}\n  c: {{fn::secret: {{ciphertext: YWdlLWVuY3J5cHRpb24ub3JnL3YxCmdhcmJhZ2UK}}}}\n  d: {{fn::secret: {{ciphertext: {damaged}}}}}\n"
        ),
    );
    // check (no identity): not base64, not a ciphertext at all; each at its line and path.
    let out = p.escc(&["check", "--format", "json"], None, false);
    assert_eq!(out.status.code(), Some(1));
    let diags: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<_> = diags
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_owned(),
                d["start"]["line"].as_u64().unwrap(),
                d["summary"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "values.a".to_owned(),
                2,
                "invalid ciphertext: illegal base64 data at input byte 3".to_owned()
            ),
            (
                "values.b".to_owned(),
                3,
                "invalid ciphertext: invalid header".to_owned()
            ),
        ]
    );
    // open: an age header that does not parse, a payload that does not authenticate.
    let out = p.escc(&["open", "app/dev"], None, true);
    assert_eq!(out.status.code(), Some(1));
    assert_no_plaintext(&out);
    let e = String::from_utf8_lossy(&out.stderr).replace('│', " ");
    let e = e.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "× decrypting: not a valid age file (its header does not parse) ╭─[app/dev.yaml:4:6]",
        "╰── values.c",
        "× decrypting: the age file is damaged (its payload does not authenticate) ╭─[app/dev.yaml:5:6]",
        "╰── values.d",
    ] {
        assert!(e.contains(expected), "{expected:?} not in {e}");
    }
}

#[test]
fn an_identity_file_open_to_other_users_is_warned_about() {
    use std::os::unix::fs::PermissionsExt as _;
    let p = Project::new(&[]);
    p.write(
        "app/dev.yaml",
        &format!("values:\n  pw: {{fn::secret: {OTHER}}}\n"),
    );
    p.ok(&["encrypt"], None);
    let key_text = p.read("key.txt");
    let secret_key = key_text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .to_owned();
    let warning = "is open to other users";
    for (mode, warned) in [(0o600, false), (0o644, true), (0o640, true), (0o400, false)] {
        std::fs::set_permissions(&p.key, std::fs::Permissions::from_mode(mode)).unwrap();
        let out = p.escc(&["open", "app/dev"], None, true);
        assert!(out.status.success());
        let e = String::from_utf8_lossy(&out.stderr);
        assert_eq!(e.contains(warning), warned, "{mode:o}: {e}");
        if warned {
            assert!(
                e.contains(&format!(
                    "escc: warning: the identity file {} is open to other users (mode {mode:04o})",
                    p.key.display()
                )),
                "{e}"
            );
            assert!(e.contains(&format!("chmod 600 {}", p.key.display())), "{e}");
        }
        assert!(!e.contains(&secret_key));
        assert_no_plaintext(&out);
    }
    // The per-user default file is checked too; key text in a variable has no mode.
    let config = p.root().join("no-config/escc");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("identity.txt"), &key_text).unwrap();
    std::fs::set_permissions(
        config.join("identity.txt"),
        std::fs::Permissions::from_mode(0o664),
    )
    .unwrap();
    let out = p.escc(&["encrypt"], None, false);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("(mode 0664)"));
    let out = p
        .command(&["open", "app/dev"], false)
        .env("ESCC_AGE_IDENTITY", &key_text)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains(warning));
}

#[test]
fn an_interrupted_write_leaves_the_file_whole() {
    use std::os::unix::process::ExitStatusExt as _;
    let p = Project::new(&[]);
    let doc: String = std::iter::once("values:\n".to_owned())
        .chain((0..10).map(|i| format!("  k{i}: {{fn::secret: {OTHER}-{i}}}\n")))
        .collect();
    p.write("app/dev.yaml", &doc);
    // escc may write 1 KiB to a file: writing the new document (10 age files, ~4 KiB)
    // ends it with SIGXFSZ mid-write.
    let out = wrapped(
        &p.command(&["encrypt"], true),
        "sh",
        &["-c", "ulimit -c 0; ulimit -f 2; exec \"$@\"", "sh"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.signal(), Some(25), "{out:?}");
    // The file is as it was; what the write left is a partial temporary file, which holds
    // ciphertexts only.
    assert_eq!(p.read("app/dev.yaml"), doc);
    let mut partial = 0;
    for (name, text) in p.files() {
        if name.contains(".escc-") {
            partial += 1;
            assert!(text.contains("ciphertext: YWdl"), "{name}: {text}");
        } else if name != "app/dev.yaml" {
            for f in forms(OTHER) {
                assert!(!text.contains(&f), "{name} holds a plaintext");
            }
        }
    }
    assert_eq!(partial, 1);
    // Run again, it is done.
    p.ok(&["encrypt"], None);
    let json: serde_json::Value = serde_json::from_str(&shown(&p, "app/dev")).unwrap();
    assert_eq!(json["k9"], format!("{OTHER}-9"));
}
