//! `escc serve` against the real `esc` CLI (v0.25.0, built by `.ci/run` from the wrapper
//! module `tests/clients/esc` into `target/esc-cli/esc`, or `$ESCC_ESC_CLI`; missing, it is
//! skipped outside CI and a failure under `CI=true`): login, list, init, set (plain and
//! secret), get (whole, a path with its definition and where it is defined, with and
//! without `--show-secrets`), open, run, version history, tags, retract, rollback, rm;
//! wrong tokens and weak roles; secrets in no output that should not show them, nor in the
//! server's logs and audit log.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::backends;
use crate::serve::Served;

pub(crate) fn esc_cli() -> Option<PathBuf> {
    let path = backends::venv("ESCC_ESC_CLI", "esc-cli/esc");
    if path.is_file() {
        return Some(path);
    }
    backends::missing(&format!(
        "the esc CLI is not built at {} (.ci/run builds it from tests/clients/esc; or set \
         ESCC_ESC_CLI)",
        path.display()
    ));
    None
}

/// The CLI with its own home (it writes `~/.pulumi/credentials.json`), talking to
/// `served`, under a 120 s limit so that a prompt can never hang the test.
struct Esc {
    bin: PathBuf,
    home: tempfile::TempDir,
    url: String,
}

impl Esc {
    fn new(bin: PathBuf, served: &Served) -> Esc {
        Esc {
            bin,
            home: tempfile::tempdir().unwrap(),
            url: format!("http://127.0.0.1:{}", served.port),
        }
    }

    fn run(&self, args: &[&str], token: Option<&str>) -> Output {
        let home = self.home.path();
        let mut c = Command::new("timeout");
        c.arg("120")
            .arg(&self.bin)
            .args(args)
            .env("HOME", home)
            .env("PULUMI_HOME", home.join(".pulumi"))
            .env("PULUMI_SKIP_UPDATE_CHECK", "true")
            .env("PULUMI_SKIP_CONFIRMATIONS", "true")
            .env_remove("PULUMI_ACCESS_TOKEN")
            .env_remove("PULUMI_BACKEND_URL")
            .env_remove("PULUMI_API")
            .stdin(Stdio::null());
        if let Some(t) = token {
            c.env("PULUMI_ACCESS_TOKEN", t);
        }
        c.output().unwrap()
    }

    fn login(&self, token: &str) -> Output {
        self.run(&["login", &self.url], Some(token))
    }

    /// Runs `args`, which must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, None);
        assert!(
            out.status.success(),
            "esc {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `args`, which must fail; its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args, None);
        assert!(!out.status.success(), "esc {args:?} succeeded: {out:?}");
        String::from_utf8(out.stderr).unwrap()
    }
}

#[test]
fn the_esc_cli_gets_sets_opens_runs_tags_retracts_and_rolls_back() {
    let Some(bin) = esc_cli() else { return };
    esc_flow(bin, &Served::start(&[]));
}

/// The esc CLI's flow against `served` (`SQLite` here, PostgreSQL in `serve_pg.rs`).
pub(crate) fn esc_flow(bin: PathBuf, served: &Served) {
    let token = served.token("cli", "editor", &[]);
    let esc = Esc::new(bin, served);
    let out = esc.login(&token);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("as cli"),
        "{out:?}"
    );

    assert_eq!(esc.ok(&["env", "ls"]), "acme/app/base\nacme/app/dev\n");

    // The whole environment: the value with secrets hidden, then the definition.
    let got = esc.ok(&["env", "get", "acme/app/dev"]);
    assert!(got.contains("\"password\": \"[secret]\""), "{got}");
    assert!(got.contains("\"region\": \"eu-west-1\""), "{got}");
    assert!(
        got.contains("# Definition\n```yaml\nimports:\n  - app/base\n"),
        "{got}"
    );
    // One path: its value, its definition and where it is defined (yaml/check's exprs
    // and their ranges; `<yaml>` shows as the environment's name).
    let got = esc.ok(&["env", "get", "acme/app/dev", "db.host"]);
    assert_eq!(
        got,
        "# Value\n```json\n\"db.example\"\n```\n# Definition\n```yaml\ndb.example\n\n```\n\n\
         # Defined at\n- dev:5:11\n\n"
    );
    // An imported value is defined in its environment.
    let got = esc.ok(&["env", "get", "acme/app/dev", "region"]);
    assert!(got.contains("- app/base:2:11"), "{got}");
    let got = esc.ok(&["env", "get", "acme/app/dev", "db.password"]);
    assert!(
        got.contains("\"[secret]\"") && got.contains("- dev:7:7"),
        "{got}"
    );
    let got = esc.ok(&[
        "env",
        "get",
        "acme/app/dev",
        "db.password",
        "--show-secrets",
    ]);
    assert!(got.contains("\"hunter22\""), "{got}");

    // A new environment, set plain and secret values, open it, run a command with it.
    esc.ok(&["env", "init", "acme/app/new"]);
    esc.ok(&["env", "set", "acme/app/new", "greeting", "hello"]);
    esc.ok(&[
        "env",
        "set",
        "acme/app/new",
        "token",
        "tok-value",
        "--secret",
    ]);
    esc.ok(&[
        "env",
        "set",
        "acme/app/new",
        "environmentVariables.GREETING",
        "${greeting}",
    ]);
    let def = esc.ok(&["env", "get", "acme/app/new", "--definition"]);
    assert!(def.contains("fn::secret: tok-value"), "{def}");
    let opened: serde_json::Value =
        serde_json::from_str(&esc.ok(&["env", "open", "acme/app/new"])).unwrap();
    assert_eq!(opened["greeting"], "hello");
    assert_eq!(opened["token"], "tok-value");
    assert_eq!(
        esc.ok(&["env", "open", "acme/app/new", "greeting"]),
        "\"hello\"\n"
    );
    assert_eq!(
        esc.ok(&["env", "run", "acme/app/new", "--", "printenv", "GREETING"]),
        "hello\n"
    );

    // Revisions: 1 (init), 2 (greeting), 3 (token), 4 (GREETING); tag, retract, roll back.
    let history = esc.ok(&["env", "version", "history", "acme/app/new"]);
    assert!(
        history.starts_with("revision 4 (tag: latest)\n"),
        "{history}"
    );
    assert!(history.contains("Author: cli <cli>"), "{history}");
    esc.ok(&["env", "version", "tag", "acme/app/new@prod", "@3"]);
    // Moving a tag (PATCH) and making one at the latest revision.
    esc.ok(&["env", "version", "tag", "acme/app/new@prod", "@2"]);
    esc.ok(&["env", "version", "tag", "acme/app/new@beta"]);
    let tags = esc.ok(&[
        "env",
        "version",
        "tag",
        "ls",
        "acme/app/new",
        "--output",
        "json",
    ]);
    let tags: serde_json::Value = serde_json::from_str(&tags).unwrap();
    let names: Vec<(&str, i64)> = tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["revision"].as_i64().unwrap()))
        .collect();
    assert_eq!(names, [("beta", 4), ("latest", 4), ("prod", 2)]);
    let at_prod = esc.ok(&["env", "get", "acme/app/new@prod", "--definition"]);
    assert_eq!(at_prod, "values:\n  greeting: hello\n");
    // The latest revision cannot be retracted; an earlier one can, and is then unreadable.
    let err = esc.fails(&["env", "version", "retract", "acme/app/new@4"]);
    assert!(err.contains("latest revision cannot be retracted"), "{err}");
    esc.ok(&[
        "env",
        "version",
        "retract",
        "acme/app/new@2",
        "--reason",
        "typo",
    ]);
    let err = esc.fails(&["env", "get", "acme/app/new@2"]);
    assert!(
        err.contains("[410]") && err.contains("retracted (typo)"),
        "{err}"
    );
    // Its tag moved to the replacement, the revision before it.
    let history = esc.ok(&["env", "version", "history", "acme/app/new"]);
    assert!(history.contains("revision 2 (retracted)"), "{history}");
    assert!(history.contains("replaced with revision 1"), "{history}");
    assert!(history.contains("revision 1 (tag: prod)"), "{history}");
    let err = esc.fails(&["env", "version", "tag", "acme/app/new@prod", "@2"]);
    assert!(err.contains("retracted"), "{err}");
    // Rollback: the definition of revision 3 becomes revision 5.
    esc.ok(&["env", "version", "rollback", "acme/app/new@3"]);
    let def = esc.ok(&["env", "get", "acme/app/new", "--definition"]);
    assert_eq!(
        def,
        esc.ok(&["env", "get", "acme/app/new@3", "--definition"])
    );
    assert!(!def.contains("GREETING"), "{def}");
    esc.ok(&["env", "version", "tag", "rm", "acme/app/new@beta"]);
    let tags = esc.ok(&["env", "version", "tag", "ls", "acme/app/new"]);
    assert!(!tags.contains("beta") && tags.contains("prod"), "{tags}");

    esc.ok(&["env", "rm", "acme/app/new", "--yes"]);
    assert_eq!(esc.ok(&["env", "ls"]), "acme/app/base\nacme/app/dev\n");

    // Every tag change and the retraction are audited, naming the token.
    let audit = served.audit();
    let actions: Vec<&str> = audit
        .iter()
        .filter(|r| r["who"] == "cli")
        .map(|r| r["action"].as_str().unwrap())
        .filter(|a| a.starts_with("tag") || *a == "retract")
        .collect();
    assert_eq!(
        actions,
        [
            "tag-update",
            "tag-create",
            "tag-update",
            "tag-update",
            "tag-create",
            "retract",
            "retract",
            "tag-update",
            "tag-delete"
        ]
    );
}

#[test]
fn the_esc_cli_fails_clearly_on_a_wrong_token_and_a_weak_role() {
    let Some(bin) = esc_cli() else { return };
    let served = Served::start(&[]);
    let esc = Esc::new(bin.clone(), &served);
    let out = esc.login("escc_0000000000000000000000000000000000000000");
    assert!(!out.status.success(), "{out:?}");
    // The CLI words a 401 itself.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Unauthorized: No credentials provided or are invalid"),
        "{err}"
    );

    let reader = served.token("ro", "reader", &[]);
    assert!(esc.login(&reader).status.success());
    // A reader lists and gets (secrets hidden), but cannot show secrets, open or set.
    assert!(esc.ok(&["env", "ls"]).contains("acme/app/dev"));
    let got = esc.ok(&["env", "get", "acme/app/dev", "db.password"]);
    assert!(got.contains("[secret]"), "{got}");
    let err = esc.fails(&["env", "get", "acme/app/dev", "--show-secrets"]);
    assert!(
        err.contains("[403]") && err.contains("role opener"),
        "{err}"
    );
    let err = esc.fails(&["env", "open", "acme/app/dev"]);
    assert!(err.contains("role opener"), "{err}");
    let err = esc.fails(&["env", "set", "acme/app/dev", "x", "1"]);
    assert!(
        err.contains("[403]") && err.contains("role editor"),
        "{err}"
    );
    let err = esc.fails(&["env", "version", "tag", "acme/app/dev@prod"]);
    assert!(err.contains("role editor"), "{err}");

    // A token scoped to another project sees nothing of app/, and its check of a
    // definition cannot import app/base.
    let other = served.token("other", "editor", &["--scope", "acme/other/*"]);
    let esc = Esc::new(bin, &served);
    assert!(esc.login(&other).status.success());
    assert_eq!(esc.ok(&["env", "ls"]), "");
    let err = esc.fails(&["env", "get", "acme/app/dev"]);
    assert!(err.contains("does not cover acme/app/dev"), "{err}");
}

/// With `[encryption] recipients`, `esc env set --secret` stores a ciphertext (the server
/// encrypts, as ESC does), which `esc env get` never shows as plaintext unless
/// `--show-secrets`; the server's logs and audit log never show it.
#[test]
fn esc_cli_secrets_are_encrypted_on_write_and_never_leak() {
    let Some(bin) = esc_cli() else { return };
    let project = crate::age::Project::new(&[]);
    project.write("app/prod.yaml", "values:\n  region: eu\n");
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start_in(dir, project.root(), &[], Some(&project.key));
    let token = served.token("cli", "editor", &[]);
    let esc = Esc::new(bin, &served);
    assert!(esc.login(&token).status.success());
    let secret = "s3cr3t-cli-value";
    esc.ok(&[
        "env",
        "set",
        "acme/app/prod",
        "db.password",
        secret,
        "--secret",
    ]);

    let def = esc.ok(&["env", "get", "acme/app/prod", "--definition"]);
    assert!(
        def.contains("ciphertext:") && !def.contains(secret),
        "{def}"
    );
    for args in [
        &["env", "get", "acme/app/prod"][..],
        &["env", "get", "acme/app/prod", "db.password"],
        &["env", "get", "acme/app/prod", "--value", "json"],
        &["env", "version", "history", "acme/app/prod"],
    ] {
        let out = esc.run(args, None);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{args:?}: {text}");
        assert!(!text.contains(secret), "{args:?}: {text}");
    }
    let shown = esc.ok(&[
        "env",
        "get",
        "acme/app/prod",
        "db.password",
        "--show-secrets",
    ]);
    assert!(shown.contains(secret), "{shown}");
    let opened = esc.ok(&["env", "open", "acme/app/prod", "db.password"]);
    assert_eq!(opened, format!("\"{secret}\"\n"));

    let logs = served.logs();
    assert!(logs.contains("yaml/check"), "{logs}");
    assert!(!logs.contains(secret), "{logs}");
    let audit = serde_json::to_string(&served.audit()).unwrap();
    assert!(audit.contains("show-secrets"), "{audit}");
    assert!(!audit.contains(secret), "{audit}");
    let db = std::fs::read(served.data().join("escc.sqlite3")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains(secret));
    assert!(
        !Path::new(&served.data()).join("escc.sqlite3-wal").exists() || {
            let wal = std::fs::read(served.data().join("escc.sqlite3-wal")).unwrap();
            !String::from_utf8_lossy(&wal).contains(secret)
        }
    );
}
