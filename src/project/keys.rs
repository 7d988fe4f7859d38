//! Where escc finds the age identity it decrypts with, in this order (the first that is set
//! is used, alone):
//!
//! 1. `ESCC_AGE_IDENTITY`: the text of an identity file (one or more `AGE-SECRET-KEY-1...`
//!    lines, or an unencrypted OpenSSH private key), for CI secrets;
//! 2. `ESCC_AGE_IDENTITY_FILE`: the path of such a file;
//! 3. the per-user file `$XDG_CONFIG_HOME/escc/identity.txt` (`~/.config/escc/identity.txt`
//!    when `XDG_CONFIG_HOME` is not set), if it exists.
//!
//! None of them: there is no identity, and ciphertexts stay secrets of unknown plaintext.

use std::path::PathBuf;

use crate::secrets::age::Identities;

/// The variable holding identity text.
pub const IDENTITY_VAR: &str = "ESCC_AGE_IDENTITY";
/// The variable holding an identity file's path.
pub const IDENTITY_FILE_VAR: &str = "ESCC_AGE_IDENTITY_FILE";
/// Identity files larger than this are refused (age's own limit is 16 MiB; a key is 74
/// bytes, an SSH RSA key a few KiB).
const MAX_IDENTITY_BYTES: u64 = 1024 * 1024;

/// The recipient sets `[encryption]` configures, for messages about values a user cannot
/// decrypt (a list that does not parse is left out: `escc.toml` reports it).
#[must_use]
pub fn recipient_sets(encryption: &super::Encryption) -> crate::secrets::age::RecipientSets {
    let mut sets = crate::secrets::age::RecipientSets::default();
    for (at, list) in encryption.lists() {
        let parsed: Result<Vec<_>, _> = list
            .iter()
            .map(|r| crate::secrets::age::Recipient::parse(r))
            .collect();
        if let Ok(parsed) = parsed
            && !parsed.is_empty()
        {
            sets.add(&parsed, &at);
        }
    }
    sets
}

/// The per-user identity file, if a home or configuration directory is known.
#[must_use]
pub fn default_identity_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join("escc").join("identity.txt"))
}

/// The identities configured in the environment (see the module's documentation), and
/// warnings about where they came from: an identity file that other users can read or
/// change (as `ssh` warns of a private key that is not private).
///
/// # Errors
/// A variable is set but its identity cannot be read or does not parse (the message names
/// the variable or file, never a key).
pub fn identities_from_env() -> Result<(Option<Identities>, Vec<String>), String> {
    if let Some(text) = std::env::var_os(IDENTITY_VAR).filter(|t| !t.is_empty()) {
        let text = text
            .into_string()
            .map_err(|_| format!("{IDENTITY_VAR} is not UTF-8"))?;
        return Identities::parse(&text, IDENTITY_VAR).map(|ids| (Some(ids), Vec::new()));
    }
    if let Some(file) = std::env::var_os(IDENTITY_FILE_VAR).filter(|t| !t.is_empty()) {
        let file = PathBuf::from(file);
        let origin = format!("{IDENTITY_FILE_VAR} ({})", file.display());
        return read(&file, &origin).map(|(ids, w)| (Some(ids), w));
    }
    match default_identity_file() {
        Some(file) if file.exists() => {
            let origin = file.display().to_string();
            read(&file, &origin).map(|(ids, w)| (Some(ids), w))
        }
        _ => Ok((None, Vec::new())),
    }
}

fn read(file: &std::path::Path, origin: &str) -> Result<(Identities, Vec<String>), String> {
    let meta = std::fs::metadata(file).map_err(|e| format!("{origin}: {}", super::io_text(&e)))?;
    if meta.len() > MAX_IDENTITY_BYTES {
        return Err(format!("{origin}: too large to be an identity file"));
    }
    let text =
        std::fs::read_to_string(file).map_err(|e| format!("{origin}: {}", super::io_text(&e)))?;
    let ids = Identities::parse(&text, origin)?;
    Ok((ids, open_to_others(file, &meta).into_iter().collect()))
}

/// A warning when the identity file's mode lets its group or other users in.
fn open_to_others(file: &std::path::Path, meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        format!(
            "the identity file {} is open to other users (mode {mode:04o}): anyone who can read it \
             can decrypt your secrets; make it private with chmod 600 {}",
            file.display(),
            file.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_file_open_to_others_is_warned_about() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key.txt");
        std::fs::write(&file, "x").unwrap();
        for (mode, warned) in [
            (0o600, false),
            (0o400, false),
            (0o640, true),
            (0o604, true),
            (0o620, true),
        ] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let meta = std::fs::metadata(&file).unwrap();
            let w = open_to_others(&file, &meta);
            assert_eq!(w.is_some(), warned, "{mode:o}");
            if let Some(w) = w {
                assert!(w.contains(&format!("(mode {mode:04o})")), "{w}");
                assert!(w.ends_with(&format!("chmod 600 {}", file.display())), "{w}");
            }
        }
    }
}
