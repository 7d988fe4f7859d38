//! `escc run` under faults: whatever ends the command (a signal sent to escc, Ctrl-C at a
//! terminal, a crash), the temporary files are removed and escc reports the command's end
//! as the command had it (dying of the same signal, or with its exit status). SIGTERM is
//! tested in `cli.rs` (`run_removes_files_after_sigterm`), SIGKILL of the command in
//! `run_passes_on_the_exit_status`.
//!
//! escc runs in its own process group, so it is never in the foreground of a terminal the
//! tests may run in, and (but for the terminal test) dumps no core.

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_escc");

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cli/good")
}

/// The command: restores the default action of the signals escc passes on (a shell may
/// have left them ignored), reads its file and prints its path, then does `then` and
/// waits.
fn script(then: &str) -> String {
    format!(
        "import ctypes, os, signal, sys, time\n\
         for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM):\n\
         \x20   signal.signal(s, signal.SIG_DFL)\n\
         open(os.environ['CONFIG_JSON']).read()\n\
         print(os.environ['CONFIG_JSON'], flush=True)\n\
         {then}\n\
         time.sleep(30)\n"
    )
}

struct Running {
    escc: Child,
    /// The command's temporary file.
    file: PathBuf,
    tmp: tempfile::TempDir,
    /// escc's working directory (where a core dump would go).
    _work: tempfile::TempDir,
}

/// Starts `escc run app/dev -- python3 -c SCRIPT` in its own process group, without core
/// dumps, and waits for the command to print its file's path.
fn start(script: &str) -> Running {
    let tmp = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let root = project();
    let mut escc = Command::new("sh")
        .args(["-c", "ulimit -c 0; exec \"$@\"", "sh", BIN, "--root"])
        .arg(&root)
        .args(["run", "app/dev", "--", "python3", "-c", script])
        .current_dir(work.path())
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(escc.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let file = PathBuf::from(line.trim());
    assert!(file.starts_with(tmp.path()), "{line:?}");
    Running {
        escc,
        file,
        tmp,
        _work: work,
    }
}

fn kill(target: &str, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), "--", target])
        .status()
        .unwrap();
    assert!(status.success());
}

impl Running {
    fn pid(&self) -> String {
        self.escc.id().to_string()
    }

    /// Waits for escc (at most 15 s) and checks that it left nothing behind.
    fn finish(mut self) -> ExitStatus {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.escc.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(15) {
                let _ = self.escc.kill();
                panic!("escc did not end");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            !self.file.exists(),
            "{} is left behind",
            self.file.display()
        );
        let left: Vec<_> = std::fs::read_dir(self.tmp.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        status
    }
}

#[test]
fn sigint_sent_to_escc_alone_is_passed_on() {
    // As `kill -INT`, or a CI runner cancelling a job, sends it: the command would never
    // see it if escc kept it.
    let r = start(&script(""));
    assert!(r.file.exists());
    kill(&r.pid(), "INT");
    assert_eq!(r.finish().signal(), Some(2));
}

#[test]
fn sigint_sent_to_the_process_group() {
    // As a supervisor stopping a whole group sends it.
    let r = start(&script(""));
    assert!(r.file.exists());
    kill(&format!("-{}", r.pid()), "INT");
    assert_eq!(r.finish().signal(), Some(2));
}

#[test]
fn sighup_is_passed_on() {
    let r = start(&script(""));
    assert!(r.file.exists());
    kill(&r.pid(), "HUP");
    assert_eq!(r.finish().signal(), Some(1));
}

#[test]
fn sigquit_sent_to_escc_alone_is_passed_on() {
    let r = start(&script(""));
    assert!(r.file.exists());
    kill(&r.pid(), "QUIT");
    assert_eq!(r.finish().signal(), Some(3));
}

#[test]
fn a_command_that_crashes_with_sigsegv() {
    let r = start(&script("ctypes.string_at(0)"));
    assert_eq!(r.finish().signal(), Some(11));
}

#[test]
fn a_command_that_aborts() {
    let r = start(&script("os.abort()"));
    assert_eq!(r.finish().signal(), Some(6));
}

/// Runs escc (its arguments after the script's) in a new session on a pseudo-terminal,
/// types Ctrl-C once the command has printed its file's path, and prints that path and
/// escc's exit status.
const TERMINAL: &str = r#"
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
deadline = time.time() + 20
while b"escc-" not in out or not out.rstrip(b"\r").endswith(b"\n"):
    assert time.time() < deadline, out
    out += os.read(fd, 1024)
os.write(fd, b"\x03")
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
path = [w for w in out.split() if b"escc-" in w][0].decode()
print(path)
print(os.waitstatus_to_exitcode(status))
"#;

#[test]
fn ctrl_c_at_a_terminal_reaches_the_command_once() {
    // The terminal sends SIGINT to the whole foreground group, escc and the command: escc
    // must not pass it on too. The command counts the SIGINTs it gets and exits with 40 +
    // that count.
    let command = "import os, signal, sys, time\n\
        n = 0\n\
        def count(sig, frame):\n\
        \x20   global n\n\
        \x20   n += 1\n\
        signal.signal(signal.SIGINT, count)\n\
        print(os.environ['CONFIG_JSON'], flush=True)\n\
        end = time.time() + 20\n\
        while n == 0 and time.time() < end:\n\
        \x20   time.sleep(0.01)\n\
        time.sleep(0.5)\n\
        sys.exit(40 + n)\n";
    let tmp = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let root = project();
    let out = Command::new("python3")
        .args([
            "-c",
            TERMINAL,
            "/bin/sh",
            "-c",
            "ulimit -c 0; exec \"$@\"",
            "sh",
        ])
        .arg(BIN)
        .arg("--root")
        .arg(&root)
        .args(["run", "app/dev", "--", "python3", "-c", command])
        .current_dir(work.path())
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    let mut lines = stdout.lines();
    let file = PathBuf::from(lines.next().unwrap());
    assert!(file.starts_with(tmp.path()), "{stdout}");
    assert_eq!(lines.next(), Some("41"), "{stdout}");
    assert!(!file.exists(), "{file:?} is left behind");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn escc_dies_of_the_command_signal_without_a_core_dump() {
    // escc dies of the signal that killed the command; a signal like SIGSEGV would make
    // it dump core, and its memory holds the secrets. Core dumps are allowed here (where
    // the system lets them be written to the working directory, one would appear).
    let tmp = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let root = project();
    let status = Command::new("sh")
        .args([
            "-c",
            "ulimit -c unlimited 2>/dev/null; exec \"$@\"",
            "sh",
            BIN,
            "--root",
        ])
        .arg(&root)
        .args([
            "run",
            "app/dev",
            "--",
            "sh",
            "-c",
            "ulimit -c 0; kill -SEGV $$$$",
        ])
        .current_dir(work.path())
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(11), "{status:?}");
    assert!(!status.core_dumped(), "{status:?}");
    let left: Vec<_> = std::fs::read_dir(work.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}
