//! What the provider tests share: real servers they start themselves (moto, `OpenBao`,
//! drongo), each a program from a Python virtual environment `.ci/run` makes under
//! `target/`, run on a free loopback port and killed when the test ends (a missing program
//! skips the test with a message, except under `CI=true`, where it is a failure); a
//! project run through the real binary with none of the caller's provider settings; and
//! the reading of what escc printed (errors wrapped by the renderer, secrets that must
//! not show). Backends with no installable server are faked by `fake_http.rs`.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_escc");

/// The prefixes of the caller's environment variables that reach escc or a provider
/// (escc's settings, each backend's, GitHub Actions' token request): none of them is
/// passed on, so a developer's own credentials never change a test.
const CALLERS: [&str; 10] = [
    "ESCC_",
    "ACTIONS_ID_TOKEN_",
    "AWS_",
    "GOOGLE_",
    "VAULT_",
    "BAO_",
    "AZURE_",
    "DOPPLER_",
    "INFISICAL_",
    "OP_",
];

/// Output as text (lossy).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A project holding `app.yaml` and an empty `escc.toml`.
pub fn project(app: &str) -> tempfile::TempDir {
    project_with(&[("escc.toml", ""), ("app.yaml", app)])
}

/// A project in a temporary directory with the given files (`*.sh` and `escc-provider-*`
/// executable).
pub fn project_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        if name.contains(".sh") || name.contains("escc-provider-") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    dir
}

/// Runs escc in `dir` with `env`, and none of the caller's variables that reach escc or a
/// provider ([`CALLERS`]).
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

/// Removes from `c` the caller's variables that reach escc or a provider ([`CALLERS`]): a
/// test sets what it means to.
pub fn without_provider_env(c: &mut Command) {
    for (k, _) in std::env::vars() {
        if CALLERS.iter().any(|p| k.starts_with(p)) {
            c.env_remove(k);
        }
    }
}

/// A `PATH` of `dirs`, then the system's (and nothing of the caller's): plugins and
/// stand-in programs are found where a test put them, or not at all.
pub fn path_with(dirs: &[&Path]) -> String {
    let system = ["/usr/local/bin", "/usr/bin", "/bin"].map(Path::new);
    let all: Vec<&Path> = dirs.iter().copied().chain(system).collect();
    std::env::join_paths(all).unwrap().into_string().unwrap()
}

/// `env` built of owned strings, as [`escc`] takes it.
pub fn vars(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// A rendered error with the lines the renderer wrapped (at width 100, behind its margin)
/// joined back.
pub fn unwrapped(stderr: &[u8]) -> String {
    text(stderr).replace("\n  │ ", " ")
}

/// `text` without whitespace and the renderer's margin: a message wrapped anywhere (also
/// inside a word, after `/` or `-`) still reads as one.
fn squeeze(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '│')
        .collect()
}

/// Whether the rendered output `shown` says `needle`, however it was wrapped.
pub fn says(shown: &str, needle: &str) -> bool {
    squeeze(shown).contains(&squeeze(needle))
}

/// Asserts that the rendered output `shown` says `expected`, however it was wrapped.
#[track_caller]
pub fn assert_says(shown: &str, expected: &str) {
    assert!(says(shown, expected), "expected {expected:?} in:\n{shown}");
}

/// Panics if `output` (`what`: a stream, a file) shows any of `never`, even wrapped
/// across lines.
#[track_caller]
pub fn assert_clean(what: &str, output: &str, never: &[&str]) {
    for s in never {
        assert!(!says(output, s), "{what} shows {s:?}:\n{output}");
    }
}

/// `escc open app --format json --show-secrets`, which must succeed with none of `never`
/// on standard error; the JSON.
#[track_caller]
pub fn open_shown(dir: &Path, env: &[(&str, &str)], never: &[&str]) -> serde_json::Value {
    let out = escc(
        dir,
        &["open", "app", "--format", "json", "--show-secrets"],
        env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_clean("standard error", &text(&out.stderr), never);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `escc open app`, which must fail with none of `never` in either output; its standard
/// error, [`unwrapped`] (read it with `contains`, or with [`says`] where a message may be
/// wrapped inside a word).
#[track_caller]
pub fn open_fails(dir: &Path, env: &[(&str, &str)], never: &[&str]) -> String {
    let out = escc(dir, &["open", "app"], env);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert_clean("standard output", &text(&out.stdout), never);
    let stderr = unwrapped(&out.stderr);
    assert_clean("standard error", &stderr, never);
    stderr
}

/// `escc run app -- sh -c SCRIPT`, which must succeed with none of `never` on standard
/// error; its standard output.
#[track_caller]
pub fn run_sh(dir: &Path, env: &[(&str, &str)], script: &str, never: &[&str]) -> String {
    let out = escc(dir, &["run", "app", "--", "sh", "-c", script], env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_clean("standard error", &text(&out.stderr), never);
    text(&out.stdout)
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
    missing(&format!(
        "{name} is not installed at {} (.ci/run installs it; or set {var})",
        path.display()
    ));
    None
}

/// The program `name` on `PATH`, else in `/usr/sbin` or `/usr/bin` (system packages that
/// install servers there), if any.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// What a test needs is missing: outside CI it is skipped (saying `why`); under
/// `CI=true` it fails.
#[track_caller]
pub fn missing(why: &str) {
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
    pub fn spawn(command: Command, port: u16) -> LocalServer {
        let name = command.get_program().to_string_lossy().into_owned();
        LocalServer::try_spawn(command, port, |_| true)
            .unwrap_or_else(|| panic!("{name} exited at start"))
    }

    /// Runs `command` (its output discarded) and waits until it listens on `port` and
    /// `ready(url)` holds; `None` when it exits before (another process took a port it
    /// needs between the choice and the start, say).
    pub fn try_spawn(
        mut command: Command,
        port: u16,
        ready: impl Fn(&str) -> bool,
    ) -> Option<LocalServer> {
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
        while TcpStream::connect(("127.0.0.1", port)).is_err() || !ready(&server.url) {
            if server.child.try_wait().unwrap().is_some() {
                return None;
            }
            assert!(
                start.elapsed() < Duration::from_mins(1),
                "{name} was not ready within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request to a local server (its `http://HOST:PORT` URL), to seed or probe it: the
/// status and the body; `None` when it cannot be reached or does not answer within 30 s.
/// HTTP/1.0, so that the answer is never chunked and ends with the connection.
pub fn http(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String)> {
    let addr = url.trim_start_matches("http://");
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        let _ = write!(request, "{name}: {value}\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut conn = TcpStream::connect(addr).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    conn.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer).ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Some((status, body.to_owned()))
}

/// Runs `git args` in `root`, with no system or user configuration and a fixed author;
/// expects success.
pub fn git(root: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(root)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "A")
        .env("GIT_AUTHOR_EMAIL", "a@example.com")
        .env("GIT_COMMITTER_NAME", "A")
        .env("GIT_COMMITTER_EMAIL", "a@example.com")
        .output()
        .expect("git is needed by these tests");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}
