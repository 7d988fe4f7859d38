//! `escc rotate` end to end, through the real binary: the `postgres` and `mysql` rotators
//! against a PostgreSQL and a MariaDB server each test starts on a free loopback port in a
//! temporary data directory, `aws-iam` against moto, and rotators served by plugins.
//!
//! Each rotation test rotates three times and checks, after each, that the state alternates
//! and the servers agree with it: the new credential logs in, the previous one still does,
//! and the one before it does not. Generated passwords get `'"\$x` appended (a test-build
//! hook, `ESCC_TESTING_PASSWORD_SUFFIX`), the managing user's password holds the same
//! characters, and one rotated user's name too, so SQL quoting is exercised end to end.
//! No password may show in any output but `escc open --show-secrets`, nor in the file.
//!
//! The servers: PostgreSQL's binaries from `ESCC_PG_BIN` or the newest
//! `/usr/lib/postgresql/*/bin`, MariaDB's (`mariadb-install-db`, `mariadbd`, `mariadb`)
//! from `PATH` or `/usr/sbin`; `.ci/run` installs both. When escc's tests run as root the
//! servers run as the `postgres` and `mysql` users (PostgreSQL refuses to run as root).
//! Without them a test is skipped with a message, except under `CI=true`, where that is a
//! failure.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::age::Project;
use crate::aws::{Moto, boto3};
use crate::backends::{free_port, missing, text, which};

/// Appended to every generated password by test builds of escc.
const SUFFIX: &str = "'\"\\$x";
/// The managing user's password (as the servers and escc see it).
const MANAGER_PW: &str = "m'g\"r\\$pw-manager";
/// The second rotated user: a name that needs quoting everywhere.
const USER2: &str = "us'er\"2$";
/// The rotated users' first password.
const INITIAL_PW: &str = "initial-pw-0";

/// `text` with the renderer's line wrapping undone: words joined by single spaces.
fn words(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

/// The uid and gid of system user `name`, when these tests run as root (the servers then
/// run as that user); `None` when not root.
fn service_user(name: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").arg(flag).output().ok()?;
        text(&out.stdout).trim().parse().ok()
    };
    if id("-u")? != 0 {
        return None;
    }
    let of = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, name]).output().unwrap();
        assert!(
            out.status.success(),
            "no system user {name}: {}",
            text(&out.stderr)
        );
        text(&out.stdout).trim().parse().unwrap()
    };
    Some((of("-u"), of("-g")))
}

/// A command run as `user` (when root).
fn as_user(program: &Path, user: Option<(u32, u32)>) -> Command {
    let mut c = Command::new(program);
    if let Some((uid, gid)) = user {
        c.uid(uid).gid(gid);
    }
    c.stdin(Stdio::null());
    c
}

/// A temporary directory the service user owns.
fn service_dir(user: Option<(u32, u32)>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
    }
    dir
}

/// Stops a server: SIGINT (both servers shut down fast on it), then SIGKILL after 10 s.
fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits up to 60 s for `ready`, failing if `child` exits.
fn wait_for(child: &mut Child, what: &str, ready: &dyn Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "{what} exited at start"
        );
        assert!(
            start.elapsed() < Duration::from_mins(1),
            "{what} was not ready within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A database server to rotate users on.
trait Database {
    /// The rotator's name.
    fn rotator(&self) -> &'static str;
    fn port(&self) -> u16;
    /// Creates the database `appdb`, the rotated users `user1` and [`USER2`] with
    /// [`INITIAL_PW`], and `managing_user` with [`MANAGER_PW`] and the grants ESC's
    /// documentation gives.
    fn prepare(&self);
    /// Whether `user` logs in to `appdb` with `password`.
    fn logs_in(&self, user: &str, password: &str) -> bool;
}

// --- PostgreSQL -------------------------------------------------------------------------

/// A PostgreSQL server on a free loopback port (also `serve_pg.rs`'s), stopped on drop;
/// the superuser is `postgres` with the password `superpw`.
pub(crate) struct Postgres {
    _dir: tempfile::TempDir,
    child: Child,
    pub(crate) port: u16,
}

fn pg_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ESCC_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

impl Postgres {
    pub(crate) fn start() -> Option<Postgres> {
        let Some(bin) = pg_bin().filter(|b| b.join("postgres").is_file()) else {
            missing(
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin; .ci/run installs \
                 it; or set ESCC_PG_BIN)",
            );
            return None;
        };
        if which("psql").is_none() {
            missing("psql is not installed (.ci/run installs postgresql)");
            return None;
        }
        let user = service_user("postgres");
        let dir = service_dir(user);
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, "superpw\n").unwrap();
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid)).unwrap();
        }
        let data = dir.path().join("data");
        let out = as_user(&bin.join("initdb"), user)
            .args([
                "-D",
                data.to_str().unwrap(),
                "-A",
                "scram-sha-256",
                "-U",
                "postgres",
            ])
            .args(["--no-sync", "--pwfile", pwfile.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {}", text(&out.stderr));
        let port = free_port();
        let mut child = as_user(&bin.join("postgres"), user)
            .args(["-D", data.to_str().unwrap(), "-p", &port.to_string()])
            .args(["-k", dir.path().to_str().unwrap()])
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for(&mut child, "postgres", &|| {
            psql(port, "postgres", "superpw", "postgres", "SELECT 1")
                .status
                .success()
        });
        Some(Postgres {
            _dir: dir,
            child,
            port,
        })
    }

    pub(crate) fn superuser(&self, sql: &str) {
        let out = psql(self.port, "postgres", "superpw", "postgres", sql);
        assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// `psql` as `user` with `password` (given in the environment, never on the command line).
fn psql(port: u16, user: &str, password: &str, db: &str, sql: &str) -> Output {
    Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            user,
            "-d",
            db,
        ])
        .args(["-w", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", "-c", sql])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `text` as a PostgreSQL literal (the tests' own quoting, independent of escc's).
fn pg_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn pg_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Database for Postgres {
    fn rotator(&self) -> &'static str {
        "postgres"
    }

    fn port(&self) -> u16 {
        self.port
    }

    fn prepare(&self) {
        self.superuser("CREATE DATABASE appdb");
        for user in ["user1", USER2] {
            self.superuser(&format!(
                "CREATE USER {} WITH PASSWORD {}",
                pg_ident(user),
                pg_literal(INITIAL_PW)
            ));
        }
        // ESC's documented grants.
        self.superuser(&format!(
            "CREATE USER managing_user WITH PASSWORD {}",
            pg_literal(MANAGER_PW)
        ));
        self.superuser("ALTER USER managing_user WITH CREATEROLE");
        for user in ["user1", USER2] {
            self.superuser(&format!(
                "GRANT {} TO managing_user WITH ADMIN OPTION",
                pg_ident(user)
            ));
        }
    }

    fn logs_in(&self, user: &str, password: &str) -> bool {
        let out = psql(self.port, user, password, "appdb", "SELECT current_user");
        if out.status.success() {
            assert_eq!(text(&out.stdout).trim(), user);
            return true;
        }
        assert!(
            text(&out.stderr).contains("password authentication failed"),
            "{}",
            text(&out.stderr)
        );
        false
    }
}

// --- MariaDB ----------------------------------------------------------------------------

struct Mariadb {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

impl Mariadb {
    fn start() -> Option<Mariadb> {
        let (Some(install), Some(server), Some(_)) = (
            which("mariadb-install-db"),
            which("mariadbd"),
            which("mariadb"),
        ) else {
            missing("MariaDB is not installed (.ci/run installs mariadb-server)");
            return None;
        };
        let user = service_user("mysql");
        let dir = service_dir(user);
        let data = dir.path().join("data");
        let out = as_user(&install, user)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mariadb-install-db: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let port = free_port();
        let mut child = as_user(&server, user)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", dir.path().join("s").display()))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .arg(format!("--port={port}"))
            .args(["--bind-address=127.0.0.1", "--skip-log-bin"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let socket = dir.path().join("s");
        wait_for(&mut child, "mariadbd", &|| {
            root_sql(&socket, "SELECT 1").status.success()
        });
        Some(Mariadb { dir, child, port })
    }

    fn root(&self, sql: &str) {
        let out = root_sql(&self.dir.path().join("s"), sql);
        assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
    }
}

impl Drop for Mariadb {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn root_sql(socket: &Path, sql: &str) -> Output {
    Command::new("mariadb")
        .arg("--no-defaults")
        .arg(format!("--socket={}", socket.display()))
        .args(["-uroot", "-N", "-e", sql])
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `text` as a MariaDB literal (backslashes escape by default).
fn my_literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

impl Database for Mariadb {
    fn rotator(&self) -> &'static str {
        "mysql"
    }

    fn port(&self) -> u16 {
        self.port
    }

    fn prepare(&self) {
        self.root("CREATE DATABASE appdb");
        for user in ["user1", USER2] {
            // ESC's documented user setup.
            self.root(&format!(
                "CREATE USER {}@'%' IDENTIFIED BY {}",
                my_literal(user),
                my_literal(INITIAL_PW)
            ));
            self.root(&format!(
                "GRANT SELECT, INSERT, UPDATE ON appdb.* TO {}@'%'",
                my_literal(user)
            ));
        }
        self.root(&format!(
            "CREATE USER 'managing_user'@'%' IDENTIFIED BY {}",
            my_literal(MANAGER_PW)
        ));
        self.root("GRANT ALTER ON appdb.* TO 'managing_user'@'%'");
        self.root("GRANT CREATE USER ON *.* TO 'managing_user'@'%'");
    }

    fn logs_in(&self, user: &str, password: &str) -> bool {
        let out = Command::new("mariadb")
            .arg("--no-defaults")
            .args(["-h", "127.0.0.1", "-P", &self.port.to_string(), "-u", user])
            .args([
                "--connect-timeout=10",
                "-N",
                "appdb",
                "-e",
                "SELECT CURRENT_USER()",
            ])
            .env("MYSQL_PWD", password)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if out.status.success() {
            assert_eq!(text(&out.stdout).trim(), format!("{user}@%"));
            return true;
        }
        assert!(
            text(&out.stderr).contains("Access denied"),
            "{}",
            text(&out.stderr)
        );
        false
    }
}

// --- The rotations ----------------------------------------------------------------------

/// The environment `app`: a rotator for `db` (the managing user's password in plain text
/// until `escc encrypt`), between comments that must survive.
fn database_env(db: &dyn Database, managing_password: &str) -> String {
    format!(
        "# The application's database.
values:
  # rotated weekly by a timer
  db:
    fn::rotate::{rotator}:
      inputs:
        database:
          database: appdb
          host: 127.0.0.1
          port: {port} # the test server
          managingUser:
            username: managing_user
            password:
              fn::secret: {password}
        rotateUsers:
          username1: user1
          username2: {user2}
  user: ${{db.current.username}}
# end
",
        rotator = db.rotator(),
        port = db.port(),
        password = Json::String(managing_password.to_owned()),
        user2 = Json::String(USER2.to_owned()),
    )
}

/// Runs escc in the project with `env`, the password suffix hook set.
fn escc(p: &Project, args: &[&str], env: &[(&str, &str)]) -> Output {
    p.command(args, true)
        .env("ESCC_TESTING_PASSWORD_SUFFIX", SUFFIX)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The state's `current` and `previous` as (user, password), through `escc open`.
fn state(p: &Project, env: &[(&str, &str)], at: &str) -> (Json, Json) {
    let out = escc(
        p,
        &["open", "app", at, "--format", "json", "--show-secrets"],
        env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    (v["current"].clone(), v["previous"].clone())
}

/// Fails if any output shows one of `secrets` (in any of the forms escc masks).
fn assert_hidden(out: &Output, secrets: &[String]) {
    for (label, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let shown = text(bytes);
        for s in secrets {
            for f in escc::secrets::forms(s.clone()) {
                assert!(!shown.contains(&f), "{label} shows a secret: {shown}");
            }
        }
    }
}

/// Rotates `app` once, expecting success; checks the output hides `secrets`.
fn rotate_ok(p: &Project, env: &[(&str, &str)], secrets: &[String]) -> Output {
    let out = escc(p, &["rotate", "app"], env);
    assert!(
        out.status.success(),
        "rotate: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_hidden(&out, secrets);
    out
}

/// Three rotations of a database rotator: the users alternate and the server agrees.
fn database_rotations_alternate(db: &dyn Database) {
    db.prepare();
    let p = Project::new(&[]);
    p.write("app.yaml", &database_env(db, MANAGER_PW));
    let out = escc(&p, &["encrypt", "app"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut secrets = vec![MANAGER_PW.to_owned()];
    assert!(!p.read("app.yaml").contains("pw-manager"));

    // 1: username1 first; username2 keeps its password.
    let out = rotate_ok(&p, &[], &secrets);
    assert!(
        text(&out.stderr).contains(&format!("rotated values.db ({})", db.rotator())),
        "{}",
        text(&out.stderr)
    );
    let (current, previous) = state(&p, &[], "db");
    assert_eq!(current["username"], "user1");
    assert!(previous.is_null(), "{previous}");
    let pw1 = current["password"].as_str().unwrap().to_owned();
    assert!(
        pw1.ends_with(SUFFIX) && pw1.len() >= 32 + SUFFIX.len(),
        "{pw1:?}"
    );
    secrets.push(pw1.clone());
    assert!(db.logs_in("user1", &pw1));
    assert!(!db.logs_in("user1", INITIAL_PW));
    assert!(db.logs_in(USER2, INITIAL_PW));

    // 2: username2, and user1 moves to previous, still working.
    rotate_ok(&p, &[], &secrets);
    let (current, previous) = state(&p, &[], "db");
    assert_eq!(current["username"], USER2);
    assert_eq!(
        previous,
        serde_json::json!({"username": "user1", "password": pw1})
    );
    let pw2 = current["password"].as_str().unwrap().to_owned();
    secrets.push(pw2.clone());
    assert!(db.logs_in(USER2, &pw2));
    assert!(db.logs_in("user1", &pw1));
    assert!(!db.logs_in(USER2, INITIAL_PW));

    // 3: user1 again: the new password works, the previous one still does, and the one
    // before it does not.
    rotate_ok(&p, &[], &secrets);
    let (current, previous) = state(&p, &[], "db");
    assert_eq!(current["username"], "user1");
    assert_eq!(
        previous,
        serde_json::json!({"username": USER2, "password": pw2})
    );
    let pw3 = current["password"].as_str().unwrap().to_owned();
    secrets.push(pw3.clone());
    assert!(db.logs_in("user1", &pw3));
    assert!(db.logs_in(USER2, &pw2));
    assert!(!db.logs_in("user1", &pw1));

    // The file: comments and layout kept, the state below the inputs, no plaintext.
    let file = p.read("app.yaml");
    assert!(
        file.starts_with(
            "# The application's database.\nvalues:\n  # rotated weekly by a timer\n  db:\n"
        ),
        "{file}"
    );
    assert!(file.contains("          port: "), "{file}");
    assert!(file.contains(" # the test server\n"), "{file}");
    assert!(
        file.ends_with("  user: ${db.current.username}\n# end\n"),
        "{file}"
    );
    assert!(
        file.contains("\n      state:\n        current:\n"),
        "{file}"
    );
    assert_eq!(
        file.matches("fn::secret: {ciphertext: ").count(),
        3,
        "{file}"
    );
    for s in &secrets {
        assert!(
            !file.contains(s.as_str()),
            "the file holds a password: {file}"
        );
    }
    // The environment evaluates to the current user.
    let out = escc(&p, &["get", "app", "user", "--format", "string"], &[]);
    assert_eq!(text(&out.stdout).trim(), "[unknown]");
    let out = escc(&p, &["open", "app", "user", "--format", "string"], &[]);
    assert_eq!(text(&out.stdout).trim(), "user1");
    assert_hidden(&out, &secrets);

    documented_state_example_rotates(db, &pw3);
}

fn docs_fixture(file: &str) -> String {
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/providers/docs");
    std::fs::read_to_string(docs.join(file)).unwrap()
}

/// ESC's documented example with an initial state (`fixtures/providers/docs/`), pointed at
/// this server: `current` is user1 (its password as the server has it, `user1_password`),
/// so the rotation changes user2's, and user1 moves to `previous`. The credentials
/// environment is the documentation's for direct connection (without `awsLogin`), with its
/// ESC ciphertext (which only ESC can decrypt) replaced by the managing user's password,
/// encrypted by escc.
fn documented_state_example_rotates(db: &dyn Database, user1_password: &str) {
    let p = Project::new(&[]);
    let credentials = docs_fixture("rotatorExample/managingCredentials.yaml");
    let ciphertext = "\n      fn::secret:\n        ciphertext: ZXNjeAAAAAEAAAEAFatkojHgMRjHuWIwKbPqplpSUoKCrtLUCwtU0rhJuhtOa6eUBM/kxRgB/rp9\n";
    assert!(credentials.contains(ciphertext));
    let plain = format!(
        "\n      fn::secret: {}\n",
        Json::String(MANAGER_PW.to_owned())
    );
    // "Omit `awsLogin` ... if using Direct Connect rotation", the documentation says.
    let direct = &credentials[..credentials.find("  awsLogin:").unwrap()];
    p.write(
        "rotatorExample/managingCredentials.yaml",
        &direct.replace(ciphertext, &plain),
    );
    let example = docs_fixture(&format!("{}-state.yaml", db.rotator()));
    let example = example
        .replace(
            "rotator-example-mysql.cluster-xxxxxxxxxxxx.aws-region.rds.amazonaws.com",
            "127.0.0.1",
        )
        .replace("port: 5432", &format!("port: {}", db.port()))
        .replace("port: 3306", &format!("port: {}", db.port()))
        .replace("rotator_example_db", "appdb")
        .replace(
            "username2: user2",
            &format!("username2: {}", Json::String(USER2.to_owned())),
        )
        .replace(
            "fn::secret: <password>\n          username: user1",
            &format!(
                "fn::secret: {}\n          username: user1",
                Json::String(user1_password.to_owned())
            ),
        )
        .replace(
            "username: user2",
            &format!("username: {}", Json::String(USER2.to_owned())),
        );
    p.write("app.yaml", &example);
    let out = escc(&p, &["encrypt"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = escc(&p, &["rotate", "app"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (current, previous) = state(&p, &[], "dbRotator");
    assert_eq!(current["username"], USER2);
    assert_eq!(
        previous,
        serde_json::json!({"username": "user1", "password": user1_password})
    );
    let new = current["password"].as_str().unwrap();
    assert!(db.logs_in(USER2, new));
    assert!(db.logs_in("user1", user1_password));
    assert_hidden(&out, &[MANAGER_PW.to_owned(), new.to_owned()]);
}

#[test]
fn postgres_rotations_alternate_the_users_and_logins_follow_the_state() {
    let Some(pg) = Postgres::start() else {
        return;
    };
    database_rotations_alternate(&pg);
}

#[test]
fn mysql_rotations_alternate_the_users_and_logins_follow_the_state() {
    let Some(my) = Mariadb::start() else {
        return;
    };
    database_rotations_alternate(&my);
}

#[test]
fn a_failure_mid_way_leaves_the_file_unchanged_and_says_what_changed() {
    let Some(pg) = Postgres::start() else {
        return;
    };
    pg.prepare();
    let p = Project::new(&[]);
    // `db` rotates; `broken` (after it in the document) has a wrong managing password.
    let wrong = "wrong'pw\\$-for-the-manager";
    let good = database_env(&pg, MANAGER_PW);
    let broken = database_env(&pg, wrong)
        .replace("# The application's database.\nvalues:\n", "")
        .replace("  # rotated weekly by a timer\n  db:", "  broken:")
        .replace("  user: ${db.current.username}\n# end\n", "");
    p.write("app.yaml", &good.replace("# end\n", &broken));
    let out = escc(&p, &["encrypt", "app"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let before = p.read("app.yaml");

    let out = escc(&p, &["rotate", "app"], &[]);
    let err = words(&text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(p.read("app.yaml"), before, "the file changed");
    assert!(
        err.contains(
            "1 of 2 rotations did not succeed; nothing was written (app.yaml is unchanged)"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "values.db (postgres): rotated on the server, NOT written: the password of database \
             user \"user1\" was changed"
        ),
        "{err}"
    );
    assert!(err.contains("values.broken (postgres): failed"), "{err}");
    assert!(
        err.contains("password authentication failed for user \"managing_user\""),
        "{err}"
    );
    assert_hidden(&out, &[MANAGER_PW.to_owned(), wrong.to_owned()]);
    // What the file says still works: user1's password changed, and the file has none for
    // it yet; user2 is untouched.
    assert!(!pg.logs_in("user1", INITIAL_PW));
    assert!(pg.logs_in(USER2, INITIAL_PW));

    // Only the rotation that works, by path: written.
    let out = escc(&p, &["rotate", "app", "db"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (current, _) = state(&p, &[], "db");
    assert!(pg.logs_in("user1", current["password"].as_str().unwrap()));
    assert!(
        p.read("app.yaml")
            .contains("    fn::rotate::postgres:\n      inputs:")
    );
}

// --- aws-iam ----------------------------------------------------------------------------

/// Seeds moto: `admin` (allowed everything; its key is the login) and `app` (allowed
/// `iam:GetUser`, the user whose keys rotate). Returns the admin's key id and secret.
fn seed_iam(moto: &Moto) -> (String, String) {
    const SCRIPT: &str = r#"
import boto3, json, sys
ep = sys.argv[1]
iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1",
                   aws_access_key_id="seed", aws_secret_access_key="seed")
allow = lambda action: json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
iam.create_user(UserName="admin")
key = iam.create_access_key(UserName="admin")["AccessKey"]
iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=allow("*"))
iam.create_user(UserName="app")
iam.put_user_policy(UserName="app", PolicyName="self", PolicyDocument=allow("iam:GetUser"))
print(json.dumps([key["AccessKeyId"], key["SecretAccessKey"]]))
"#;
    let [id, secret]: [String; 2] = serde_json::from_slice(&boto3(SCRIPT, &[&moto.url])).unwrap();
    (id, secret)
}

/// boto3 against moto: `app`'s access key ids (signed by the admin), and whether the key
/// `id`/`secret` is accepted (`GetUser` signed with it).
fn iam_probe(moto: &Moto, admin: &(String, String), key: Option<(&str, &str)>) -> Json {
    const SCRIPT: &str = r#"
import boto3, json, sys
ep, admin_id, admin_secret, key_id, key_secret = sys.argv[1:6]
client = lambda i, s: boto3.client("iam", endpoint_url=ep, region_name="us-east-1",
                                   aws_access_key_id=i, aws_secret_access_key=s)
keys = sorted(k["AccessKeyId"] for k in
              client(admin_id, admin_secret).list_access_keys(UserName="app")["AccessKeyMetadata"])
ok = None
if key_id:
    try:
        client(key_id, key_secret).get_user(UserName="app")
        ok = True
    except Exception:
        ok = False
print(json.dumps({"keys": keys, "accepted": ok}))
"#;
    let (id, secret) = key.unwrap_or(("", ""));
    serde_json::from_slice(&boto3(SCRIPT, &[&moto.url, &admin.0, &admin.1, id, secret])).unwrap()
}

#[test]
fn the_documented_aws_iam_example_rotates_with_oidc_credentials() {
    // The example logs in with aws-login's oidc (STS's call is unsigned): moto without
    // signature checking.
    let Some(moto) = Moto::start(None) else {
        return;
    };
    boto3(
        "import boto3,sys; boto3.client('iam', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='a', aws_secret_access_key='b').create_user(UserName='deployer')",
        &[&moto.url],
    );
    let p = Project::new(&[]);
    p.write(
        "app.yaml",
        // moto keeps users per account: the role's account is the user's.
        &docs_fixture("aws-iam.yaml")
            .replace(
                "arn:aws:iam::123456789:role",
                "arn:aws:iam::123456789012:role",
            )
            .replace("<account id>", "123456789012")
            .replace("<username>", "deployer"),
    );
    p.write("token", "eyJ.web-identity-token.sig\n");
    let token = p.root().join("token");
    let env = [
        ("AWS_ENDPOINT_URL", moto.url.as_str()),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
    ];
    for _ in 0..2 {
        rotate_ok(&p, &env, &[]);
    }
    let (current, previous) = state(&p, &env, "aws.iam");
    let keys: Json = serde_json::from_slice(&boto3(
        "import boto3,sys,json; print(json.dumps(sorted(k['AccessKeyId'] for k in boto3.client('iam', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='a', aws_secret_access_key='b').list_access_keys(UserName='deployer')['AccessKeyMetadata'])))",
        &[&moto.url],
    ))
    .unwrap();
    let mut expected = vec![
        current["accessKeyId"].as_str().unwrap(),
        previous["accessKeyId"].as_str().unwrap(),
    ];
    expected.sort_unstable();
    assert_eq!(keys, serde_json::json!(expected));
}

/// Deletes `app`'s key `old` and creates another: a key the state does not know.
const SWAP: &str = r#"
import boto3, sys
ep, admin_id, admin_secret, old = sys.argv[1:5]
iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1",
               aws_access_key_id=admin_id, aws_secret_access_key=admin_secret)
iam.delete_access_key(UserName="app", AccessKeyId=old)
print(iam.create_access_key(UserName="app")["AccessKey"]["AccessKeyId"])
"#;

#[test]
fn aws_iam_rotations_keep_two_keys_that_both_log_in() {
    let Some(moto) = Moto::start(Some(6)) else {
        return;
    };
    let admin = seed_iam(&moto);
    let p = Project::new(&[]);
    p.write(
        "app.yaml",
        &format!(
            "values:
  aws:
    login:
      fn::open::aws-login:
        static:
          accessKeyId: {}
          secretAccessKey:
            fn::secret: {}
    iam:
      fn::rotate::aws-iam:
        inputs:
          login: ${{aws.login}}
          userArn: arn:aws:iam::123456789012:user/app
",
            admin.0, admin.1
        ),
    );
    let env = [("AWS_ENDPOINT_URL_IAM", moto.url.as_str())];
    assert!(escc(&p, &["encrypt", "app"], &env).status.success());
    let mut secrets = vec![admin.1.clone()];
    let mut keys: Vec<(String, String)> = Vec::new();
    for round in 1..=3 {
        rotate_ok(&p, &env, &secrets);
        let (current, previous) = state(&p, &env, "aws.iam");
        let id = current["accessKeyId"].as_str().unwrap().to_owned();
        let secret = current["secretAccessKey"].as_str().unwrap().to_owned();
        assert!(current["createDate"].as_str().unwrap().starts_with("20"));
        secrets.push(secret.clone());
        if let Some((prev_id, prev_secret)) = keys.last() {
            assert_eq!(previous["accessKeyId"], prev_id.as_str(), "round {round}");
            assert_eq!(previous["secretAccessKey"], prev_secret.as_str());
        } else {
            assert!(previous.is_null());
        }
        keys.push((id, secret));
        // moto's keys are exactly the state's, and both are accepted.
        let mut expected: Vec<&str> = keys.iter().rev().take(2).map(|k| k.0.as_str()).collect();
        expected.sort_unstable();
        let newest = &keys[keys.len() - 1];
        let probe = iam_probe(&moto, &admin, Some((&newest.0, &newest.1)));
        assert_eq!(probe["keys"], serde_json::json!(expected), "round {round}");
        assert_eq!(probe["accepted"], true);
        if keys.len() >= 2 {
            let prev = &keys[keys.len() - 2];
            let probe = iam_probe(&moto, &admin, Some((&prev.0, &prev.1)));
            assert_eq!(probe["accepted"], true, "round {round}");
        }
        if keys.len() >= 3 {
            let gone = &keys[keys.len() - 3];
            let probe = iam_probe(&moto, &admin, Some((&gone.0, &gone.1)));
            assert_eq!(
                probe["accepted"], false,
                "round {round}: a deleted key still works"
            );
        }
    }
    let file = p.read("app.yaml");
    for s in &secrets {
        assert!(!file.contains(s.as_str()), "{file}");
    }

    // A key the state does not know (an unwritten rotation's), with the state's previous
    // key gone, blocks the next rotation before anything is deleted, and the message says
    // which key to delete.
    let previous = &keys[keys.len() - 2].0;
    let unknown = text(&boto3(SWAP, &[&moto.url, &admin.0, &admin.1, previous]))
        .trim()
        .to_owned();
    let on_server = iam_probe(&moto, &admin, None)["keys"].clone();
    let out = escc(&p, &["rotate", "app"], &env);
    let err = words(&text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(p.read("app.yaml"), file);
    assert!(
        err.contains(&format!(
            "IAM allows two per user; delete the key it does not know, {unknown} (aws iam \
             delete-access-key --user-name app --access-key-id {unknown}) and rotate again"
        )),
        "{err}"
    );
    assert_eq!(iam_probe(&moto, &admin, None)["keys"], on_server);
    assert_hidden(&out, &secrets);
}

// --- Plugins ----------------------------------------------------------------------------

/// A rotator plugin in Python: its state is a counter and a secret token; `rotate` counts
/// up (fails when the inputs say `fail`, edits `app.yaml` first when they say `edit`), and
/// every call but `describe` appends to `calls.log` in the project.
pub(crate) const COUNTER: &str = r#"#!/usr/bin/env python3
import json, sys
req = json.loads(sys.stdin.readline())
def reply(obj):
    obj["protocol"] = 1
    print(json.dumps(obj))
m = req["method"]
if m == "describe":
    state = {"type": "object", "properties": {"n": {"type": "number"}, "token": {"type": "string"}},
             "additionalProperties": False}
    reply({"rotator": {"inputs": {"type": "object", "additionalProperties": False,
                                  "properties": {"fail": {"type": "boolean"},
                                                 "edit": {"type": "boolean"}}},
                       "state": state, "outputs": state}})
    sys.exit()
with open("calls.log", "a") as log:
    log.write(m + "\n")
state = req.get("state") or {"n": 0}
if m == "open":
    reply({"outputs": state, "secrets": ["/token"] if "token" in state else []})
elif req["inputs"].get("fail"):
    reply({"error": "the counter service is down"})
else:
    if req["inputs"].get("edit"):
        # Someone saves the file while the rotation runs.
        with open("app.yaml", "a") as f:
            f.write("  saved: meanwhile\n")
    n = state["n"] + 1
    reply({"state": {"n": n, "token": "counter-token-%d" % n}, "secrets": ["/token"]})
"#;

fn plugin_project(app: &str) -> Project {
    let p = Project::new(&[]);
    p.write("bin/escc-provider-counter", COUNTER);
    std::fs::set_permissions(
        p.root().join("bin/escc-provider-counter"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    p.write("app.yaml", app);
    p
}

fn with_plugins(p: &Project) -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![p.root().join("bin")];
    dirs.extend(std::env::split_paths(&path));
    std::env::join_paths(dirs).unwrap().into_string().unwrap()
}

const COUNTERS: &str = "values:
  a:
    fn::rotate::counter:
      inputs: {}
  b: {fn::rotate::counter: {inputs: {}, state: {n: 10}}} # flow
  list:
    fn::toJSON:
      - fn::rotate::counter:
          inputs: {}
";

#[test]
fn plugin_rotators_rotate_through_escc_rotate() {
    let p = plugin_project(COUNTERS);
    let path = with_plugins(&p);
    let env = [("PATH", path.as_str())];
    let out = escc(&p, &["rotate", "app"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(
            "rotated values.a (counter), values.b (counter), values.list[\"fn::toJSON\"][0] (counter)"
        ),
        "{}",
        text(&out.stderr)
    );
    let file = p.read("app.yaml");
    assert!(
        file.starts_with(
            "values:\n  a:\n    fn::rotate::counter:\n      inputs: {}\n      state:\n        \"n\": 1\n        token: {fn::secret: {ciphertext: "
        ),
        "{file}"
    );
    assert!(
        file.contains("  b: {fn::rotate::counter: {inputs: {}, state: {\"n\": 11, token: {fn::secret: {ciphertext: "),
        "{file}"
    );
    assert!(file.contains("}}}} # flow\n"), "{file}");
    assert!(!file.contains("counter-token"), "{file}");

    // Only `b`, by path: the others keep their state.
    let out = escc(&p, &["rotate", "app", "b"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = escc(
        &p,
        &["open", "app", "--format", "json", "--show-secrets"],
        &env,
    );
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["a"],
        serde_json::json!({"n": 1, "token": "counter-token-1"})
    );
    assert_eq!(
        v["b"],
        serde_json::json!({"n": 12, "token": "counter-token-12"})
    );
    let out = escc(&p, &["open", "app", "--format", "json"], &env);
    assert!(!text(&out.stdout).contains("counter-token"));
    assert_hidden(&out, &["counter-token-1".to_owned()]);
}

#[test]
fn an_edit_saved_while_rotating_is_kept() {
    let p = plugin_project("values:\n  c:\n    fn::rotate::counter:\n      inputs: {edit: true}\n");
    let path = with_plugins(&p);
    let out = escc(&p, &["rotate", "app"], &[("PATH", path.as_str())]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = p.read("app.yaml");
    assert!(
        file.starts_with(
            "values:\n  c:\n    fn::rotate::counter:\n      inputs: {edit: true}\n      state:\n        \"n\": 1\n"
        ),
        "{file}"
    );
    assert!(file.ends_with("  saved: meanwhile\n"), "{file}");
}

#[test]
fn a_plugin_rotator_that_fails_changes_nothing() {
    let p = plugin_project(
        "values:\n  ok:\n    fn::rotate::counter:\n      inputs: {}\n  down:\n    fn::rotate::counter:\n      inputs: {fail: true}\n",
    );
    let path = with_plugins(&p);
    let env = [("PATH", path.as_str())];
    let before = p.read("app.yaml");
    let out = escc(&p, &["rotate", "app"], &env);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(p.read("app.yaml"), before);
    assert!(
        err.contains("rotate: plugin escc-provider-counter: rotate: the counter service is down"),
        "{err}"
    );
    assert!(
        err.contains("values.down (counter): failed (see above)"),
        "{err}"
    );
    assert!(
        err.contains(
            "values.ok (counter): rotated on the server, NOT written: rotator \"counter\" rotated"
        ),
        "{err}"
    );
}

#[test]
fn dry_run_changes_nothing_and_rotates_nothing() {
    let p = plugin_project(COUNTERS);
    let path = with_plugins(&p);
    let env = [("PATH", path.as_str())];
    let before = p.read("app.yaml");
    let out = escc(&p, &["rotate", "app", "--dry-run"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "would rotate values.a (counter), writing values.a[\"fn::rotate::counter\"].state
would rotate values.b (counter), writing values.b[\"fn::rotate::counter\"].state
would rotate values.list[\"fn::toJSON\"][0] (counter), writing values.list[\"fn::toJSON\"][0][\"fn::rotate::counter\"].state
"
    );
    let out = escc(&p, &["rotate", "app", "b", "--dry-run"], &env);
    assert_eq!(
        text(&out.stdout),
        "would rotate values.b (counter), writing values.b[\"fn::rotate::counter\"].state\n"
    );
    assert_eq!(p.read("app.yaml"), before);
    assert!(
        !p.root().join("calls.log").exists(),
        "a dry run called the plugin"
    );
}

#[test]
fn what_rotating_needs_is_checked_before_anything_rotates() {
    let p = plugin_project(COUNTERS);
    let path = with_plugins(&p);
    let env = [("PATH", path.as_str())];
    let before = p.read("app.yaml");
    // A path with no fn::rotate.
    let out = escc(&p, &["rotate", "app", "nope"], &env);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            "app.yaml: there is no fn::rotate at nope; its rotations are at: a, b, list[\"fn::toJSON\"][0]"
        ),
        "{}",
        text(&out.stderr)
    );
    // No recipients to encrypt the new state to.
    std::fs::write(p.root().join("escc.toml"), "").unwrap();
    let out = escc(&p, &["rotate", "app"], &env);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("app: no one to encrypt to"),
        "{}",
        text(&out.stderr)
    );
    let out = escc(&p, &["rotate", "app", "--dry-run"], &env);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no one to encrypt to"));
    // No identity: the new secrets would be unreadable to the one who rotates.
    let out = p
        .command(&["rotate", "app"], false)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(p.read("app.yaml"), before);
    assert!(
        !p.root().join("calls.log").exists(),
        "a refused rotation called the plugin"
    );
    // Nothing to rotate.
    p.write("other.yaml", "values:\n  a: 1\n");
    let out = escc(&p, &["rotate", "other"], &env);
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("nothing to rotate: other.yaml has no fn::rotate"));
}

#[test]
fn the_documented_rotator_example_is_ready_to_rotate() {
    let p = Project::new(&[]);
    let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/providers/docs");
    for f in ["postgres.yaml", "rotatorExample/managingCredentials.yaml"] {
        p.write(f, &std::fs::read_to_string(docs.join(f)).unwrap());
    }
    let out = escc(&p, &["rotate", "postgres", "--dry-run"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "would rotate values.dbRotator (postgres), writing values.dbRotator[\"fn::rotate::postgres\"].state\n"
    );
}
