//! What the provider tests share: real servers they start themselves (moto, drongo, ...),
//! each a program from a Python virtual environment `.ci/run` makes under `target/`, run on
//! a free loopback port and killed when the test ends (a missing program skips the test
//! with a message, except under `CI=true`, where it is a failure); and a project run
//! through the real binary with none of the caller's provider settings.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_escc");

/// A project holding `app.yaml`.
pub fn project(app: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escc.toml"), "").unwrap();
    std::fs::write(dir.path().join("app.yaml"), app).unwrap();
    dir
}

/// Runs escc in `dir` with `env`, and none of the caller's variables that reach a
/// provider (AWS's, Google's, escc's, GitHub Actions' token request).
pub fn escc(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    without_provider_env(&mut c);
    c.envs(env.iter().copied());
    c.output().unwrap()
}

/// Removes from `c` the caller's variables that reach a provider (AWS's, Google's,
/// escc's, GitHub Actions' token request): a test sets what it means to.
pub fn without_provider_env(c: &mut Command) {
    for (k, _) in std::env::vars() {
        if ["AWS_", "GOOGLE_", "ESCC_", "ACTIONS_ID_TOKEN_"]
            .iter()
            .any(|p| k.starts_with(p))
        {
            c.env_remove(k);
        }
    }
}

/// The virtual environment `$var` names, or `target/<default>`.
pub fn venv(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target")
                .join(default)
        },
        PathBuf::from,
    )
}

/// `bin/<name>` of the virtual environment of `venv(var, default)`; `None` (after saying
/// why) when it is not installed, outside CI.
pub fn program(var: &str, default: &str, name: &str) -> Option<PathBuf> {
    let path = venv(var, default).join("bin").join(name);
    if path.is_file() {
        return Some(path);
    }
    skip(&format!(
        "{name} is not installed at {} (.ci/run installs it; or set {var})",
        path.display()
    ));
    None
}

/// Says why a test is skipped (a server or tool is missing); under `CI=true` that is a
/// failure instead.
pub fn skip(why: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{why}: under CI=true this is a failure"
    );
    eprintln!("skipping: {why}");
}

/// A loopback port free at the time of the call.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process listening on `127.0.0.1:port`, killed on drop.
pub struct LocalServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl LocalServer {
    /// Runs `command` (its output discarded) and waits until it listens on `port`.
    pub fn spawn(mut command: Command, port: u16) -> LocalServer {
        let name = command.get_program().to_string_lossy().into_owned();
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = LocalServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                server.child.try_wait().unwrap().is_none(),
                "{name} exited at start"
            );
            assert!(
                start.elapsed() < Duration::from_mins(1),
                "{name} did not listen within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
