//! Secrets at rest: `escc encrypt`, `escc rekey` and `escc secret set`. The cipher is age
//! (`crate::secrets::age`), the recipients come from `[encryption]` in escc.toml, and the
//! rewrites are byte-exact (`crate::edit::encrypt_plaintexts`, `crate::edit::set_secret`),
//! written atomically (a temporary file in the same directory, renamed over the old one).

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::Failure;
use super::project::{Project, io_text};
use crate::Source;
use crate::edit::{self, EditError};
use crate::secrets::age::{self, Identities, Recipient};
use crate::secrets::envelope;

/// The recipients of environment `name`, parsed, and where they are configured.
pub(super) fn recipients(
    project: &Project,
    name: &str,
) -> Result<(Vec<Recipient>, String), Failure> {
    let (list, at) = project.inner.config().encryption.recipients_for(name);
    if list.is_empty() {
        return Err(Failure::new(format!(
            "{name}: no one to encrypt to: add recipients = [\"age1...\"] under [encryption] in \
             escc.toml (age-keygen -y KEYFILE prints a key's public key)"
        )));
    }
    let parsed = list
        .iter()
        .map(|r| Recipient::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::new(format!("{at}: {e}")))?;
    Ok((parsed, at))
}

/// Refuses to encrypt what none of the user's identities could decrypt (unless `force`):
/// a secret encrypted only to others is lost to its author, and a typo in a recipient
/// would be found only when nobody can read the value.
pub(super) fn check_can_decrypt(
    name: &str,
    recipients: &[Recipient],
    at: &str,
    identities: Option<&Identities>,
    force: bool,
) -> Result<(), Failure> {
    if force {
        return Ok(());
    }
    let Some(ids) = identities else {
        return Err(Failure::new(format!(
            "{name}: you have no age identity, so you could not decrypt what you encrypt; set \
             ESCC_AGE_IDENTITY_FILE (or ESCC_AGE_IDENTITY, or ~/.config/escc/identity.txt), or \
             pass --force"
        )));
    };
    let mine = ids.public_keys();
    if recipients
        .iter()
        .any(|r| mine.iter().any(|m| m == r.as_str()))
    {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{name}: none of your identities ({}: {}) is one of its recipients ({at}), so you could \
         not decrypt what you encrypt; add your public key there, or pass --force",
        ids.origin(),
        mine.join(", ")
    )))
}

pub(super) fn identities(project: &Project, force: bool) -> Result<Option<Identities>, Failure> {
    match project.identities() {
        Ok(ids) => Ok(ids),
        // A broken identity does not matter when it would not be used.
        Err(_) if force => Ok(None),
        Err(e) => Err(Failure::new(e)),
    }
}

/// Encrypts `plaintext` to `recipients`: the text of `ciphertext:`.
pub(super) fn seal(recipients: &[Recipient], plaintext: &[u8]) -> Result<String, String> {
    age::encrypt(recipients, plaintext).map(|file| envelope::seal_age(&file))
}

/// `escc encrypt [NAME...]`.
pub(crate) fn encrypt(
    project: &Project,
    targets: &[String],
    force: bool,
) -> Result<ExitCode, Failure> {
    let names = environments(project, targets)?;
    let ids = identities(project, force)?;
    let host = project.inner.host();
    let mut total = 0;
    for name in &names {
        let file = existing_file(project, &host, name)?;
        let text = read(project, &file)?;
        let source = Source::new(name.as_str(), text.as_str());
        // Only environments with something to encrypt need recipients.
        let sites = edit::secret_sites(&source).map_err(|e| edit_failure(project, &file, &e))?;
        if !sites
            .iter()
            .any(|s| matches!(s.kind, edit::SiteKind::Plaintext(..)))
        {
            continue;
        }
        let (recipients, at) = recipients(project, name)?;
        check_can_decrypt(name, &recipients, &at, ids.as_ref(), force)?;
        let rewrite = edit::encrypt_plaintexts(&source, &|_| true, &|plain| {
            seal(&recipients, plain.as_bytes())
        })
        .map_err(|e| edit_failure(project, &file, &e))?;
        write_atomically(project, &file, &rewrite.text)?;
        total += rewrite.changed.len();
        super::note(&format!(
            "{}: encrypted {}",
            project.show(&file),
            rewrite.changed.join(", ")
        ));
    }
    if total == 0 {
        super::note("nothing to encrypt: every fn::secret is already a ciphertext");
    }
    Ok(ExitCode::SUCCESS)
}

/// The environments named by `targets` (all of the project's when there are none).
fn environments(project: &Project, targets: &[String]) -> Result<Vec<String>, Failure> {
    if targets.is_empty() {
        return project.all_environments();
    }
    let mut names = Vec::new();
    for t in targets {
        names.extend(project.resolve_targets(t)?);
    }
    Ok(names)
}

/// `escc rekey [NAME...]`: every rewrite is computed first, then written, so a value that
/// cannot be decrypted leaves every file as it was.
pub(crate) fn rekey(
    project: &Project,
    targets: &[String],
    force: bool,
) -> Result<ExitCode, Failure> {
    let names = environments(project, targets)?;
    let host = project.inner.host();
    let mut ids: Option<Identities> = None;
    let mut rewrites = Vec::new();
    for name in &names {
        let file = existing_file(project, &host, name)?;
        let text = read(project, &file)?;
        let source = Source::new(name.as_str(), text.as_str());
        let sites = edit::secret_sites(&source).map_err(|e| edit_failure(project, &file, &e))?;
        if !sites
            .iter()
            .any(|s| matches!(s.kind, edit::SiteKind::Ciphertext(..)))
        {
            continue;
        }
        let (recipients, at) = recipients(project, name)?;
        let target = age::recipient_set(&recipients);
        // The identity is needed only when something is to be re-encrypted.
        let needs = sites.iter().any(|s| match &s.kind {
            edit::SiteKind::Ciphertext(text, _) => envelope::open(text).is_ok_and(|f| {
                age::is_age_file(&f) && age::recorded_set(&f) != Some(target.clone())
            }),
            edit::SiteKind::Plaintext(..) => false,
        });
        if !needs {
            continue;
        }
        if ids.is_none() {
            ids = Some(project.identities().map_err(Failure::new)?.ok_or_else(|| {
                Failure::new(format!(
                    "{name}: re-encrypting needs your age identity to decrypt the values; set \
                     ESCC_AGE_IDENTITY_FILE (or ESCC_AGE_IDENTITY, or \
                     ~/.config/escc/identity.txt); nothing was written"
                ))
            })?);
        }
        let mine = ids.as_ref().expect("set above");
        check_can_decrypt(name, &recipients, &at, Some(mine), force)?;
        let rewrite = edit::recrypt_ciphertexts(&source, &|_| true, &|text| {
            let Ok(file) = envelope::open(text) else {
                // Not base64 or not a ciphertext: `check` reports it; it is not rekey's.
                return Ok(None);
            };
            if !age::is_age_file(&file) || age::recorded_set(&file).as_ref() == Some(&target) {
                return Ok(None);
            }
            let plain = age::decrypt(mine, &file)?;
            seal(&recipients, &plain).map(Some)
        })
        .map_err(|e| {
            Failure::new(format!(
                "{}: {}; nothing was written",
                project.show(&file),
                e.message
            ))
        })?;
        if !rewrite.changed.is_empty() {
            rewrites.push((file, rewrite));
        }
    }
    for (file, rewrite) in &rewrites {
        write_atomically(project, file, &rewrite.text)?;
        super::note(&format!(
            "{}: re-encrypted {}",
            project.show(file),
            rewrite.changed.join(", ")
        ));
    }
    if rewrites.is_empty() {
        super::note("nothing to re-encrypt: every ciphertext is encrypted to its recipients");
    }
    Ok(ExitCode::SUCCESS)
}

/// `escc secret set NAME PATH`.
pub(crate) fn set(
    project: &Project,
    name: &str,
    path: &str,
    force: bool,
) -> Result<ExitCode, Failure> {
    let name = project.resolve_name(name)?;
    let accessors = crate::ast::parse_property_path(path)
        .map_err(|e| Failure::new(format!("invalid property path {path:?}: {e}")))?;
    let (recipients, at) = recipients(project, &name)?;
    let ids = identities(project, force)?;
    check_can_decrypt(&name, &recipients, &at, ids.as_ref(), force)?;
    let host = project.inner.host();
    let (file, text) = match host.file_of(&name) {
        Some(file) => {
            refuse_links(project, &file)?;
            let text = read(project, &file)?;
            (file, text)
        }
        // A new environment.
        None => (project.root.join(format!("{name}.yaml")), String::new()),
    };
    let value = read_value(&format!("{name} {path}"))?;
    let ciphertext = seal(&recipients, value.as_bytes()).map_err(Failure::new)?;
    drop(value);
    let source = Source::new(name.as_str(), text.as_str());
    let new = edit::set_secret(&source, &accessors, &ciphertext)
        .map_err(|e| edit_failure(project, &file, &e))?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::new(format!("{}: {}", project.show(dir), io_text(&e))))?;
    }
    write_atomically(project, &file, &new)?;
    super::note(&format!("{}: set {path} (encrypted)", project.show(&file)));
    Ok(ExitCode::SUCCESS)
}

pub(super) fn existing_file(
    project: &Project,
    host: &crate::project::FsHost,
    name: &str,
) -> Result<PathBuf, Failure> {
    let file = host.file_of(name).ok_or_else(|| {
        Failure::new(format!(
            "environment {name:?} not found (or both {name}.yaml and {name}.yml exist)"
        ))
    })?;
    refuse_links(project, &file)?;
    Ok(file)
}

/// A symbolic link would be replaced by a file: refuse it.
pub(super) fn refuse_links(project: &Project, file: &Path) -> Result<(), Failure> {
    match std::fs::symlink_metadata(file) {
        Ok(m) if m.file_type().is_symlink() => Err(Failure::new(format!(
            "refusing to rewrite {}: it is a symbolic link",
            project.show(file)
        ))),
        _ => Ok(()),
    }
}

pub(super) fn read(project: &Project, file: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(file)
        .map_err(|e| Failure::new(format!("{}: {}", project.show(file), io_text(&e))))
}

pub(super) fn edit_failure(project: &Project, file: &Path, e: &EditError) -> Failure {
    Failure::new(format!("{}: {}", project.show(file), e.message))
}

/// Writes `text` to `file` through a temporary file in the same directory, renamed over
/// it, so an interrupted write leaves the old file or the new one, never half of one. The
/// old file's permissions are kept.
pub(super) fn write_atomically(project: &Project, file: &Path, text: &str) -> Result<(), Failure> {
    replace_file(file, &project.show(file), text.as_bytes())
}

/// [`write_atomically`] without a project: `shown` is how errors name the file.
pub(super) fn replace_file(file: &Path, shown: &str, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |e: &std::io::Error| Failure::new(format!("writing {shown}: {}", io_text(e)));
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".escc-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| fail(&e))?;
    let permissions = match std::fs::metadata(file) {
        Ok(m) => m.permissions(),
        Err(_) => {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::Permissions::from_mode(0o644)
        }
    };
    tmp.as_file_mut()
        .write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .and_then(|()| tmp.as_file().set_permissions(permissions))
        .map_err(|e| fail(&e))?;
    tmp.persist(file).map_err(|e| fail(&e.error))?;
    Ok(())
}

/// The secret's value: from standard input when it is not a terminal (one final line
/// break dropped, when it is the only one: `echo value |` and `printf value |` give the
/// same), else typed at a prompt that does not echo.
fn read_value(what: &str) -> Result<String, Failure> {
    let stdin = std::io::stdin();
    let value = if stdin.is_terminal() {
        prompt(&format!("value of {what} (not echoed): "))?
    } else {
        let mut bytes = Vec::new();
        stdin
            .lock()
            .take(crate::project::MAX_FILE_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                Failure::new(format!(
                    "reading the value from standard input: {}",
                    io_text(&e)
                ))
            })?;
        let mut text = String::from_utf8(bytes)
            .map_err(|_| Failure::new("the value on standard input is not UTF-8".to_owned()))?;
        let body = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t));
        if let Some(body) = body
            && !body.contains('\n')
        {
            text.truncate(body.len());
        }
        text
    };
    if value.is_empty() {
        return Err(Failure::new(
            "the value is empty; nothing was written (pipe it in, or type it at the prompt)"
                .to_owned(),
        ));
    }
    Ok(value)
}

/// Reads a line from the terminal without echo. Ctrl-C and Ctrl-D abort; the terminal's
/// settings are restored however it ends.
fn prompt(question: &str) -> Result<String, Failure> {
    use rustix::termios::{self, LocalModes, OptionalActions};
    let stdin = std::io::stdin();
    let saved = termios::tcgetattr(&stdin)
        .map_err(|e| Failure::new(format!("cannot read the terminal's settings: {e}")))?;
    let mut quiet = saved.clone();
    // Canonical mode and signals off too: Ctrl-C arrives as a byte and ends the prompt
    // here, with the echo restored, instead of killing escc with the echo off.
    quiet
        .local_modes
        .remove(LocalModes::ECHO | LocalModes::ICANON | LocalModes::ISIG);
    termios::tcsetattr(&stdin, OptionalActions::Now, &quiet)
        .map_err(|e| Failure::new(format!("cannot turn the terminal's echo off: {e}")))?;
    let mut err = std::io::stderr();
    let _ = write!(err, "{question}");
    let _ = err.flush();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    let outcome = loop {
        match stdin.lock().read(&mut byte) {
            Ok(0) => break Err("the value was not given (end of input)"),
            Ok(_) => match byte[0] {
                b'\r' | b'\n' => break Ok(()),
                0x03 => break Err("interrupted"),
                0x04 if line.is_empty() => break Err("the value was not given (end of input)"),
                0x7f | 0x08 => {
                    // Backspace: drop the last character (UTF-8 continuation bytes too).
                    while let Some(b) = line.pop() {
                        if b & 0xC0 != 0x80 {
                            break;
                        }
                    }
                }
                b => line.push(b),
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break Err("the terminal could not be read"),
        }
    };
    let _ = termios::tcsetattr(&stdin, OptionalActions::Now, &saved);
    let _ = writeln!(err);
    outcome.map_err(|why| Failure::new(format!("{why}; nothing was written")))?;
    String::from_utf8(line).map_err(|_| Failure::new("the value is not UTF-8".to_owned()))
}
