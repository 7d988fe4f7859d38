//! `escc edit NAME`: the environment's file with its secrets decrypted, in the user's
//! editor, then written back with only the changed and new secrets encrypted
//! (`crate::edit::decrypted_copy`, `crate::edit::write_back`).
//!
//! The decrypted copy is a file of mode 0600 in a private directory (mode 0700) of
//! `$TMPDIR`, named like the environment's file so editors know it for YAML. The directory
//! (with whatever the editor put beside the file: vim's swap file) is removed however the
//! edit ends: the editor exits, fails, or is ended by a signal. SIGINT, SIGTERM, SIGHUP and
//! SIGQUIT sent to escc while the editor runs are passed on to it (except Ctrl-C and Ctrl-\
//! typed at a terminal, which reach it directly and which it may ignore, as vi does); escc
//! then removes the copy and dies of the signal. The original file is replaced only at the
//! end, atomically, and only by a document that loads without errors.

use std::io::{BufRead as _, IsTerminal as _, Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

use super::Failure;
use super::project::{Project, io_text};
use super::run::{Finish, terminal_signals_reach};
use super::secrets::{
    check_can_decrypt, edit_failure, existing_file, identities, read, recipients, seal,
    write_atomically,
};
use crate::Source;
use crate::edit::{self, DecryptedCopy, EditError, WrittenBack};
use crate::secrets::Masker;
use crate::secrets::age::{self, Identities};
use crate::secrets::envelope;

/// What escc is doing, for the thread that receives signals.
#[derive(Clone, Copy)]
enum Phase {
    /// Decrypting, reading, encrypting, writing: a signal is remembered and acted on
    /// before anything is written.
    Working,
    /// The editor runs: a signal is passed on to it.
    Editor(rustix::process::Pid),
    /// Waiting for an answer at the terminal: a signal ends escc at once.
    Asking,
}

struct Shared {
    phase: Phase,
    /// The first signal that asked escc to stop.
    signal: Option<i32>,
    /// The private directory, which the signal thread removes when it ends escc itself.
    dir: PathBuf,
}

/// Everything a session needs.
struct Session<'a> {
    project: &'a Project,
    file: &'a Path,
    /// The file's text when the edit began.
    original: &'a str,
    copy: &'a DecryptedCopy,
    recipients: &'a [age::Recipient],
    editor: &'a str,
    shared: &'a Mutex<Shared>,
}

/// How a session ended, when it did not fail.
enum Outcome {
    /// What was written (`None`: nothing changed, nothing was written).
    Saved(Option<WrittenBack>),
    /// A signal asked escc to stop; nothing was written.
    Stopped(i32),
}

/// `escc edit NAME`.
pub(crate) fn edit(project: &Project, name: &str, force: bool) -> Result<Finish, Failure> {
    let name = project.resolve_name(name)?;
    let host = project.inner.host();
    let file = existing_file(project, &host, &name)?;
    let shown = project.show(&file);
    let original = read(project, &file)?;
    let source = Source::new(name.as_str(), original.as_str());
    let (recipients, at) = recipients(project, &name)?;
    let ids = identities(project, force)?;
    check_can_decrypt(&name, &recipients, &at, ids.as_ref(), force)?;
    let editor = editor()?;
    let copy = edit::decrypted_copy(&source, &|text| decrypt(ids.as_ref(), text))
        .map_err(|e| edit_failure(project, &file, &e))?;
    for (path, why) in &copy.kept {
        super::warn(&format!(
            "{shown}: {path} stays encrypted in the copy you edit: {why}"
        ));
    }

    // From here on, a signal does not end escc before the copy is removed.
    let signals = Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        .map_err(|e| Failure::new(format!("installing signal handlers: {e}")))?;
    let dir = tempfile::Builder::new()
        .prefix("escc-edit-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|e| {
            Failure::new(format!(
                "creating a private temporary directory: {}",
                io_text(&e)
            ))
        })?;
    let shared = Arc::new(Mutex::new(Shared {
        phase: Phase::Working,
        signal: None,
        dir: dir.path().to_path_buf(),
    }));
    let handle = signals.handle();
    let watcher = {
        let shared = shared.clone();
        std::thread::spawn(move || watch(signals, &shared))
    };
    let result = Session {
        project,
        file: &file,
        original: &original,
        copy: &copy,
        recipients: &recipients,
        editor: &editor,
        shared: &shared,
    }
    .run(dir.path());
    // The copy is removed first, while signals are still caught, then the watcher ends.
    drop(dir);
    handle.close();
    let _ = watcher.join();
    let signal = lock(&shared).signal;
    let unchanged = format!("nothing was written ({shown} is unchanged)");
    match (result, signal) {
        (Ok(Outcome::Saved(Some(w))), _) => {
            super::note(&format!("{shown}: {}", summary(&w)));
            Ok(Finish::Code(0))
        }
        (Ok(Outcome::Saved(None)), _) => {
            super::note(&format!("{shown}: no change; the file was not written"));
            Ok(Finish::Code(0))
        }
        (Ok(Outcome::Stopped(sig)), _) | (Err(_), Some(sig)) => {
            super::error(&format!("interrupted; {unchanged}"));
            Ok(Finish::Signal(sig))
        }
        (Err(f), None) => Err(Failure::new(format!("{}; {unchanged}", f.message))),
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Session<'_> {
    /// Writes the copy into `dir`, runs the editor until the result loads (or the user
    /// gives up), and writes the result back.
    fn run(&self, dir: &Path) -> Result<Outcome, Failure> {
        let name = self
            .file
            .file_name()
            .map_or_else(|| PathBuf::from("environment.yaml"), PathBuf::from);
        let path = dir.join(name);
        let io = |what: &str, e: &std::io::Error| Failure::new(format!("{what}: {}", io_text(e)));
        let mut tmp = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io("creating the copy to edit", &e))?;
        tmp.write_all(self.copy.text.as_bytes())
            .and_then(|()| tmp.flush())
            .map_err(|e| io("writing the copy to edit", &e))?;
        drop(tmp);
        let shown = self.project.show(self.file);
        loop {
            if let Some(sig) = self.run_editor(&path)? {
                return Ok(Outcome::Stopped(sig));
            }
            let edited = read_copy(&path)?;
            if edited == self.copy.text {
                return Ok(Outcome::Saved(None));
            }
            let edited = Source::new(shown.as_str(), edited);
            let written = edit::write_back(self.copy, &edited, &|plain| {
                seal(self.recipients, plain.as_bytes())
            });
            match written {
                Ok(w) => return self.save(w),
                Err(e) => {
                    let why = located(&edited, &e, self.copy);
                    if !self.ask_again(&why) {
                        return Err(Failure::new(why));
                    }
                }
            }
        }
    }

    /// Runs the editor on `path`; `Some(signal)` when a signal asked escc to stop.
    fn run_editor(&self, path: &Path) -> Result<Option<i32>, Failure> {
        // The editor gets the path as its last argument; EDITOR may hold arguments
        // (`code --wait`), so a shell reads it, as git does, and execs it: a signal passed
        // on reaches the editor, not a shell waiting for it.
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("exec {} \"$@\"", self.editor))
            .arg(self.editor)
            .arg(path);
        let mut shared = lock(self.shared);
        if let Some(sig) = shared.signal {
            return Ok(Some(sig));
        }
        let mut child = command.spawn().map_err(|e| {
            Failure::new(format!(
                "cannot start the editor ({}): {}",
                self.editor,
                io_text(&e)
            ))
        })?;
        shared.phase = Phase::Editor(rustix::process::Pid::from_child(&child));
        drop(shared);
        let status = child.wait();
        let mut shared = lock(self.shared);
        shared.phase = Phase::Working;
        if let Some(sig) = shared.signal {
            return Ok(Some(sig));
        }
        drop(shared);
        let status =
            status.map_err(|e| Failure::new(format!("waiting for the editor: {}", io_text(&e))))?;
        if status.success() {
            return Ok(None);
        }
        Err(Failure::new(match (status.code(), status.signal()) {
            (Some(code), _) => format!("the editor ({}) exited with status {code}", self.editor),
            (None, Some(sig)) => format!("the editor ({}) was ended by signal {sig}", self.editor),
            (None, None) => format!("the editor ({}) failed", self.editor),
        }))
    }

    /// Writes `w` over the file, unless a signal came or the file changed meanwhile.
    fn save(&self, w: WrittenBack) -> Result<Outcome, Failure> {
        let shared = lock(self.shared);
        if let Some(sig) = shared.signal {
            return Ok(Outcome::Stopped(sig));
        }
        // Someone changed the file while it was being edited: writing would lose that.
        let now = read(self.project, self.file)?;
        if now != self.original {
            return Err(Failure::new(format!(
                "{} changed on disk while you were editing it",
                self.project.show(self.file)
            )));
        }
        if w.text == now {
            return Ok(Outcome::Saved(None));
        }
        // The lock is held while writing: a signal now waits until the file is whole.
        write_atomically(self.project, self.file, &w.text)?;
        drop(shared);
        Ok(Outcome::Saved(Some(w)))
    }

    /// Says why the edited copy cannot be saved and, on a terminal, asks whether to edit
    /// it again. Elsewhere (a script, CI), the answer is no.
    fn ask_again(&self, why: &str) -> bool {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() || !std::io::stderr().is_terminal() {
            return false;
        }
        let mut shared = lock(self.shared);
        if shared.signal.is_some() {
            // Asked to stop already: the caller dies of it.
            return false;
        }
        super::error(why);
        let mut err = std::io::stderr();
        let _ = write!(err, "Edit the copy again? [Y/n] ");
        let _ = err.flush();
        shared.phase = Phase::Asking;
        drop(shared);
        let mut answer = String::new();
        let read = stdin.lock().take(1024).read_line(&mut answer);
        lock(self.shared).phase = Phase::Working;
        match read {
            Ok(0) | Err(_) => false,
            Ok(_) => matches!(
                answer.trim().to_ascii_lowercase().as_str(),
                "" | "y" | "yes"
            ),
        }
    }
}

/// The signal thread: see [`Phase`].
fn watch(mut signals: Signals, shared: &Mutex<Shared>) {
    for sig in signals.forever() {
        let mut s = lock(shared);
        match s.phase {
            Phase::Editor(pid) => {
                // Ctrl-C and Ctrl-\ at the terminal reach the editor already, and are its
                // to handle (vi ignores Ctrl-C): escc neither passes them on nor stops.
                if (sig == SIGINT || sig == SIGQUIT) && terminal_signals_reach(pid) {
                    continue;
                }
                s.signal.get_or_insert(sig);
                if let Some(signal) = rustix::process::Signal::from_named_raw(sig) {
                    let _ = rustix::process::kill_process(pid, signal);
                }
            }
            Phase::Asking => {
                // Blocked on the terminal: nothing else would end the wait.
                let _ = std::fs::remove_dir_all(&s.dir);
                super::error("interrupted; nothing was written");
                super::die_of(sig);
                std::process::exit(128 + sig);
            }
            Phase::Working => {
                s.signal.get_or_insert(sig);
            }
        }
    }
}

/// The editor, in git's order: `VISUAL` (unless the terminal is dumb), `EDITOR`, `vi`
/// (unless the terminal is dumb).
fn editor() -> Result<String, Failure> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let dumb = var("TERM").is_none_or(|t| t == "dumb");
    if !dumb && let Some(v) = var("VISUAL") {
        return Ok(v);
    }
    if let Some(e) = var("EDITOR") {
        return Ok(e);
    }
    if dumb {
        return Err(Failure::new(
            "no editor: set EDITOR (the terminal is dumb or TERM is not set, so VISUAL and vi \
             are not used)"
                .to_owned(),
        ));
    }
    Ok("vi".to_owned())
}

/// Decrypts one ciphertext for the copy: `None` for what is not an age file (ESC's
/// envelope, which only the Pulumi service can decrypt; a malformed one, which `check`
/// reports), which stays as it is.
fn decrypt(ids: Option<&Identities>, text: &str) -> Option<Result<Vec<u8>, String>> {
    let file = envelope::open(text).ok()?;
    if !age::is_age_file(&file) {
        return None;
    }
    Some(match ids {
        Some(ids) => age::decrypt(ids, &file),
        None => Err("you have no age identity to decrypt it with".to_owned()),
    })
}

/// Reads the edited copy back.
fn read_copy(path: &Path) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(crate::project::MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| {
            Failure::new(format!(
                "reading the edited copy back: {} (did the editor remove it?)",
                io_text(&e)
            ))
        })?;
    if bytes.len() as u64 > crate::project::MAX_FILE_BYTES {
        return Err(Failure::new(format!(
            "the edited copy is larger than {} MiB",
            crate::project::MAX_FILE_BYTES >> 20
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| Failure::new("the edited copy is not UTF-8 text".to_owned()))
}

/// Why the edited copy cannot be saved, located (line and column in the copy) and never
/// quoting it: the copy holds plaintexts. Load errors quote the document's text only
/// between backquotes (`` cannot decode !!str `TEXT` as a !!int ``, `` unexpected
/// character: `C' ``), which is cut out; then the message is masked with every secret of
/// the copy, as a second line of defence (a copy with syntax errors may hide its new
/// secrets from the masker).
fn located(edited: &Source, e: &EditError, copy: &DecryptedCopy) -> String {
    let masker = Masker::new(
        copy.plaintexts()
            .chain(crate::secrets::literal_texts(edited)),
    );
    let at = e.span.map_or_else(String::new, |span| {
        let lc = edited.line_col(span.start());
        format!(" at line {}, column {}", lc.line, lc.column)
    });
    // `NAME has errors; fix them first (WHY)`: the reason is what the user needs.
    let why = e
        .message
        .split_once("has errors; fix them first (")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(&e.message);
    masker.mask_str(&format!(
        "{}: the edited copy cannot be saved{at}: {}",
        edited.name(),
        unquote(why)
    ))
}

/// `text` with what is between backquotes (up to the next backquote or quote) replaced by
/// `...`.
fn unquote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        match after.find(['`', '\'']) {
            Some(close) => {
                out.push_str("...");
                rest = &after[close..];
                out.push_str(&rest[..1]);
                rest = &rest[1..];
            }
            None => {
                out.push_str("...");
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// What was written, by secret path.
fn summary(w: &WrittenBack) -> String {
    let mut parts = Vec::new();
    if !w.changed.is_empty() {
        parts.push(format!("re-encrypted {} (changed)", w.changed.join(", ")));
    }
    if !w.added.is_empty() {
        parts.push(format!("encrypted {} (new)", w.added.join(", ")));
    }
    if !w.removed.is_empty() {
        parts.push(format!("removed {}", w.removed.join(", ")));
    }
    if parts.is_empty() {
        "saved (no secret changed)".to_owned()
    } else {
        format!("saved; {}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_located_error_never_shows_a_secret_of_the_copy() {
        let doc = "values:\n  a: {fn::secret: {ciphertext: X}}\n  b: {fn::secret: swordfish}\n";
        let copy =
            edit::decrypted_copy(&Source::new("t", doc), &|_| Some(Ok(b"hunter22".to_vec())))
                .unwrap();
        // A syntax error: the new secret (marlin99) is no literal escc can find.
        let edited = Source::new(
            "app/dev.yaml",
            "values:\n  a: {fn::secret: \"hunter22\"\n  c: {fn::secret: !!int marlin99}\n",
        );
        let e = EditError {
            message: "app/dev has errors; fix them first (yaml: cannot decode !!str `marlin99` \
                      as a !!int near hunter22 and swordfish; unexpected character: `@')"
                .to_owned(),
            span: Some(crate::Span::new(10, 12)),
        };
        assert_eq!(
            located(&edited, &e, &copy),
            "app/dev.yaml: the edited copy cannot be saved at line 2, column 3: yaml: cannot \
             decode !!str `...` as a !!int near [secret] and [secret]; unexpected character: \
             `...'"
        );
        assert_eq!(unquote("a `b"), "a `...");
        assert_eq!(unquote("no quotes"), "no quotes");
    }
}
