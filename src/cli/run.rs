//! `escc run NAME -- COMMAND [ARGS...]`: opens the environment, exports
//! `environmentVariables`, writes `files` to 0600 temporary files exposed as variables,
//! substitutes `${path}` references in the arguments, runs the command without a shell,
//! masks secrets in its output line by line, removes the files whatever happens, and
//! passes on the command's exit status or signal.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

use super::evaluate::{evaluate_environment, report_diagnostics, versioned_name};
use super::format::{MAX_STRING_FORM, export_text, exported_entries, string_form, warn_skipped};
use super::lookup::lookup;
use super::project::Project;
use super::{EXIT_FAILED, Failure};
use crate::eval::{Mode, Value};
use crate::secrets::Masker;

/// The arguments of `run`.
pub(crate) struct RunArgs {
    pub(crate) name: Option<String>,
    pub(crate) interactive: bool,
    pub(crate) command: Vec<String>,
}

/// How `escc run` ends.
pub(crate) enum Finish {
    /// Exit with this status.
    Code(u8),
    /// Die of this signal, as the command did.
    Signal(i32),
}

/// A line longer than this is passed on in pieces (cut where no secret can straddle the
/// cut), so a command that never prints a newline still shows its output.
const MAX_LINE: usize = 64 * 1024;

/// `escc run`.
pub(crate) fn run(project: &Project, args: &RunArgs) -> Result<Finish, Failure> {
    if args.command.is_empty() {
        return Err(Failure::new(
            "no command given: escc run NAME -- COMMAND [ARGS...]".to_owned(),
        ));
    }
    let (name, rev) = versioned_name(project, args.name.as_deref())?;
    let host = project.pin(project.decrypting_host()?, &name, rev.as_deref())?;
    let ev = evaluate_environment(project, &host, &name, &Mode::Eval, false)?;
    if report_diagnostics(project, &host, &ev) {
        super::error("the command was not run");
        return Ok(Finish::Code(EXIT_FAILED));
    }
    let root = Value::object(ev.properties.clone());
    let mut secrets = ev.secrets.clone();
    let mut command_line = Vec::with_capacity(args.command.len());
    for (i, arg) in args.command.iter().enumerate() {
        let (text, more) = interpolate(arg, &root)
            .map_err(|why| Failure::new(format!("argument {} ({arg:?}): {why}", i + 1)))?;
        secrets.extend(more);
        command_line.push(text);
    }

    let mut vars: Vec<(String, String)> = Vec::new();
    for (k, v) in exported_entries(&ev.properties, "environmentVariables") {
        match scalar_text(v)
            .and_then(|text| variable(k, text))
            .and_then(|text| {
                if text.contains('\0') {
                    Err("a string holding a NUL byte, which a process environment cannot carry")
                } else {
                    Ok(text)
                }
            }) {
            Ok(text) => vars.push((k.clone(), text)),
            Err(why) => warn_skipped("environmentVariables", k, why),
        }
    }
    let file_entries: Vec<(String, String)> = exported_entries(&ev.properties, "files")
        .into_iter()
        .filter_map(
            |(k, v)| match scalar_text(v).and_then(|text| variable(k, text)) {
                Ok(text) => Some((k.clone(), text)),
                Err(why) => {
                    warn_skipped("files", k, why);
                    None
                }
            },
        )
        .collect();

    // From here on, SIGINT, SIGTERM, SIGHUP and SIGQUIT no longer kill escc: they are
    // passed to the command (or, when a terminal sent them to the whole process group,
    // left to it), and escc cleans up after the command ends.
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        .map_err(|e| Failure::new(format!("installing signal handlers: {e}")))?;
    let mut files = Vec::new();
    for (k, content) in file_entries {
        let mut file = tempfile::Builder::new()
            .prefix("escc-")
            .tempfile()
            .map_err(|e| Failure::new(format!("creating a temporary file for files.{k}: {e}")))?;
        file.write_all(content.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| Failure::new(format!("writing the temporary file for files.{k}: {e}")))?;
        vars.push((k, file.path().display().to_string()));
        files.push(file);
    }

    let masker = Arc::new(Masker::new(secrets));
    let mask = !args.interactive && !masker.is_empty();
    let mut command = Command::new(&command_line[0]);
    command
        .args(&command_line[1..])
        .envs(vars)
        .stdin(Stdio::inherit());
    if mask {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            let (code, why) = match e.kind() {
                std::io::ErrorKind::NotFound => (127, "command not found".to_owned()),
                std::io::ErrorKind::PermissionDenied => (126, "permission denied".to_owned()),
                _ => (126, super::project::io_text(&e)),
            };
            super::error(&format!("{}: {why}", command_line[0]));
            drop(files);
            return Ok(Finish::Code(code));
        }
    };

    let (done_tx, done_rx) = mpsc::channel::<()>();
    let mut pumps = 0;
    if let Some(out) = child.stdout.take() {
        pumps += 1;
        spawn_pump(out, std::io::stdout(), masker.clone(), done_tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        pumps += 1;
        spawn_pump(err, std::io::stderr(), masker.clone(), done_tx.clone());
    }
    drop(done_tx);

    let handle = signals.handle();
    let pid = rustix::process::Pid::from_child(&child);
    let forwarder = std::thread::spawn(move || {
        let mut terminated = false;
        for sig in signals.forever() {
            // Ctrl-C and Ctrl-\ reach the command from the terminal already: passing them
            // on would deliver them twice.
            if (sig == SIGINT || sig == SIGQUIT) && terminal_signals_reach(pid) {
                continue;
            }
            terminated = true;
            if let Some(s) = rustix::process::Signal::from_named_raw(sig) {
                let _ = rustix::process::kill_process(pid, s);
            }
        }
        terminated
    });

    let status = child.wait();
    handle.close();
    let terminated = forwarder.join().unwrap_or(true);
    // The command has exited; its output is drained until the pipes close. Something it
    // started in the background may keep them open: after a signal, wait only briefly.
    for _ in 0..pumps {
        let waited = if terminated {
            done_rx.recv_timeout(Duration::from_secs(1)).is_ok()
        } else {
            done_rx.recv().is_ok()
        };
        if !waited {
            break;
        }
    }
    drop(files);
    let status = status.map_err(|e| Failure::new(format!("waiting for the command: {e}")))?;
    Ok(finish(status))
}

/// Whether a terminal's Ctrl-C and Ctrl-\ reach the command by themselves: escc is in the
/// foreground process group of its controlling terminal, and the command is still in
/// escc's group. When they do not (no terminal, as in CI; escc in the background; a
/// command that left the group), SIGINT and SIGQUIT can only have been sent to escc,
/// e.g. by `kill -INT`, and escc passes them on. (A signal sent by `kill` to escc alone
/// while it is in a terminal's foreground is not passed on: it looks like Ctrl-C.)
pub(super) fn terminal_signals_reach(child: rustix::process::Pid) -> bool {
    let Ok(tty) = std::fs::File::open("/dev/tty") else {
        return false;
    };
    let group = rustix::process::getpgrp();
    rustix::termios::tcgetpgrp(&tty).is_ok_and(|fg| fg == group)
        && rustix::process::getpgid(Some(child)).is_ok_and(|g| g == group)
}

#[cfg(unix)]
fn finish(status: std::process::ExitStatus) -> Finish {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Finish::Code(u8::try_from(code & 0xff).unwrap_or(1)),
        (None, Some(sig)) => Finish::Signal(sig),
        (None, None) => Finish::Code(1),
    }
}

#[cfg(not(unix))]
fn finish(status: std::process::ExitStatus) -> Finish {
    Finish::Code(
        status
            .code()
            .map_or(1, |c| u8::try_from(c & 0xff).unwrap_or(1)),
    )
}

/// An exported scalar's text (secrets shown: this is what the command receives).
fn scalar_text(v: &Value) -> Result<String, &'static str> {
    if v.unknown {
        return Err("unknown (it cannot be exported)");
    }
    export_text(v, false)
}

/// Checks that a variable can be passed to a process: a name without `=` or NUL, a value
/// without NUL (a file's content may hold NUL bytes: only its path is passed).
fn variable(name: &str, text: String) -> Result<String, &'static str> {
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err("named so that it cannot be an environment variable");
    }
    Ok(text)
}

/// Substitutes `${path}` references in a command-line argument (`$$` is a literal `$`).
/// Returns the text and the secret texts it received.
fn interpolate(arg: &str, root: &Value) -> Result<(String, Vec<String>), String> {
    let (template, errors) = crate::ast::template::parse_template(arg);
    if let Some(e) = errors.first() {
        return Err(e.message.to_owned());
    }
    let mut out = String::new();
    let mut secrets = Vec::new();
    for part in template.parts {
        out.push_str(&part.text);
        if let Some(access) = part.access {
            let path: Vec<_> = access.accessors.into_iter().map(|a| a.kind).collect();
            let value = lookup(root, &path)?;
            if value.unknown {
                return Err("the value is unknown".to_owned());
            }
            let text = string_form(&value, false).ok_or_else(|| {
                format!(
                    "its string form is longer than the limit of {} MiB",
                    MAX_STRING_FORM >> 20
                )
            })?;
            if value.contains_secret() {
                secrets.push(text.clone());
            }
            out.push_str(&text);
        }
    }
    Ok((out, secrets))
}

/// Copies a command's output stream, masking secrets line by line.
fn spawn_pump(
    src: impl Read + Send + 'static,
    dst: impl Write + Send + 'static,
    masker: Arc<Masker>,
    done: mpsc::Sender<()>,
) {
    std::thread::spawn(move || {
        pump(src, dst, &masker);
        let _ = done.send(());
    });
}

fn pump(mut src: impl Read, mut dst: impl Write, masker: &Masker) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 8192];
    let mut broken = false;
    let mut emit = |bytes: &[u8], broken: &mut bool| {
        if !*broken && !bytes.is_empty() {
            let text = masker.mask(bytes);
            // A closed output (e.g. piped into `head`) stops the copy, not the draining:
            // the command must not block on a full pipe.
            *broken = dst.write_all(&text).and_then(|()| dst.flush()).is_err();
        }
    };
    loop {
        let n = match src.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        buf.extend_from_slice(&chunk[..n]);
        if let Some(last) = buf.iter().rposition(|&b| b == b'\n') {
            let rest = buf.split_off(last + 1);
            emit(&buf, &mut broken);
            buf = rest;
        }
        if buf.len() > MAX_LINE {
            let cut = masker.safe_cut(&buf);
            if cut > 0 {
                let rest = buf.split_off(cut);
                emit(&buf, &mut broken);
                buf = rest;
            }
        }
    }
    emit(&buf, &mut broken);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns the given chunks, one per read.
    struct Chunks(Vec<&'static [u8]>);

    impl Read for Chunks {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let c = self.0.remove(0);
            out[..c.len()].copy_from_slice(c);
            Ok(c.len())
        }
    }

    #[test]
    fn split_secret_is_masked() {
        let masker = Masker::new(["hunter2".to_owned()]);
        // Two reads: "pass=hun" and "ter2\n".
        let mut out = Vec::new();
        pump(Chunks(vec![b"pass=hun", b"ter2\nnext"]), &mut out, &masker);
        assert_eq!(out, b"pass=[secret]\nnext");
    }

    #[test]
    fn arguments() {
        let root = Value::object([
            ("a".to_owned(), Value::string("x")),
            (
                "s".to_owned(),
                Value {
                    secret: true,
                    ..Value::string("pw")
                },
            ),
        ]);
        assert_eq!(interpolate("v=${a}", &root).unwrap().0, "v=x");
        assert_eq!(interpolate("$${a}", &root).unwrap().0, "${a}");
        assert_eq!(
            interpolate("${s}", &root).unwrap(),
            ("pw".to_owned(), vec!["pw".to_owned()])
        );
        assert!(interpolate("${nope}", &root).is_err());
        assert!(interpolate("${a", &root).is_err());
    }
}
