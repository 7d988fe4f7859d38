//! escc's cipher for secrets at rest: `fn::secret: {ciphertext: BASE64}` where BASE64 is
//! the base64 of a standard binary age file (<https://age-encryption.org/v1>), so
//! `base64 -d | age -d -i KEY` decrypts what escc writes and escc decrypts what `age`
//! wrote. Recipients are age X25519 keys (`age1...`) and SSH keys (`ssh-ed25519 ...`,
//! `ssh-rsa ...`); identities are age identity files (`AGE-SECRET-KEY-1...` lines) or
//! unencrypted OpenSSH private keys. Built on the `age` crate (the reference
//! implementation), behind the `age` feature; docs/secrets.md says why.
//!
//! Nothing here prints a key or a plaintext: errors name recipients by public key and
//! identity files by line number, and `Debug` shows public keys only.

use std::fmt;
use std::io::{Read as _, Write as _};

/// The first line of every age file, which tells escc's ciphertext from ESC's envelope.
pub const MAGIC: &[u8] = super::envelope::AGE_MAGIC;

/// Whether `bytes` are an age file (by its first line).
#[must_use]
pub fn is_age_file(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// A recipient: who a value is encrypted to.
#[derive(Clone)]
pub struct Recipient {
    /// As written in `escc.toml` (an SSH key's comment dropped).
    text: String,
    key: RecipientKey,
}

#[derive(Clone)]
enum RecipientKey {
    X25519(age::x25519::Recipient),
    Ssh(age::ssh::Recipient),
}

impl Recipient {
    /// Parses `age1...`, `ssh-ed25519 AAAA... [comment]` or `ssh-rsa AAAA... [comment]`.
    ///
    /// # Errors
    /// The text is none of those (the reason names the kind it looked like).
    pub fn parse(text: &str) -> Result<Recipient, String> {
        let text = text.trim();
        if text.starts_with("age1") {
            let key = text
                .parse::<age::x25519::Recipient>()
                .map_err(|e| format!("{text:?} is not an age recipient: {e}"))?;
            return Ok(Recipient {
                text: key.to_string(),
                key: RecipientKey::X25519(key),
            });
        }
        if text.starts_with("ssh-") {
            // The comment (a third field) is not part of the key.
            let key_text: String = text
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            let key = key_text.parse::<age::ssh::Recipient>().map_err(|e| {
                format!("{text:?} is not a usable SSH recipient: {}", ssh_error(&e))
            })?;
            return Ok(Recipient {
                text: key.to_string(),
                key: RecipientKey::Ssh(key),
            });
        }
        Err(format!(
            "{text:?} is not a recipient: expected an age public key (age1...) or an SSH public \
             key (ssh-ed25519 ... or ssh-rsa ...)"
        ))
    }

    /// The public key, canonical (`age1...`, or `ssh-ed25519 AAAA...` without comment).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn as_dyn(&self) -> &dyn age::Recipient {
        match &self.key {
            RecipientKey::X25519(k) => k,
            RecipientKey::Ssh(k) => k,
        }
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for Recipient {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

fn ssh_error(e: &age::ssh::ParseRecipientKeyError) -> String {
    use age::ssh::ParseRecipientKeyError as E;
    match e {
        E::Ignore => "not a key type age uses".to_owned(),
        E::Invalid(why) => (*why).to_owned(),
        E::RsaModulusTooLarge => "the RSA key is too large (over 4096 bits)".to_owned(),
        E::RsaModulusTooSmall => "the RSA key is too small (under 2048 bits)".to_owned(),
        E::Unsupported(kind) => format!("SSH keys of type {kind} are not supported"),
        _ => "not an SSH public key".to_owned(),
    }
}

/// The keys escc decrypts with: the identities of one identity file or key text.
pub struct Identities {
    keys: Vec<Identity>,
    /// Where they came from (`ESCC_AGE_IDENTITY`, a file's path), for messages.
    origin: String,
    /// The recipient sets messages can name by public key.
    known: RecipientSets,
}

/// Recipient sets by fingerprint ([`recipient_set`]), with their public keys and where
/// they are configured: a value escc wrote records its set's fingerprint, so a message can
/// say whom it is encrypted to although age's X25519 stanzas are anonymous.
#[derive(Clone, Debug, Default)]
pub struct RecipientSets(std::collections::BTreeMap<String, String>);

impl RecipientSets {
    /// Adds a set (the first place it is configured is the one named).
    pub fn add(&mut self, recipients: &[Recipient], at: &str) {
        let keys: Vec<&str> = recipients.iter().map(Recipient::as_str).collect();
        self.0
            .entry(recipient_set(recipients))
            .or_insert_with(|| format!("{} ({at})", keys.join(", ")));
    }

    /// Whom `file` is encrypted to, when it records a set and sets are known: its public
    /// keys, or that the set is none of the known ones.
    fn describe(&self, file: &[u8]) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let set = recorded_set(file)?;
        Some(match self.0.get(&set) {
            Some(keys) => format!("the recipients {keys}"),
            None => "a set of recipients escc.toml does not list (any more)".to_owned(),
        })
    }
}

enum Identity {
    X25519(age::x25519::Identity),
    Ssh {
        key: age::ssh::Identity,
        public: String,
    },
}

impl Identity {
    fn public(&self) -> String {
        match self {
            Identity::X25519(k) => k.to_public().to_string(),
            Identity::Ssh { public, .. } => public.clone(),
        }
    }

    fn as_dyn(&self) -> &dyn age::Identity {
        match self {
            Identity::X25519(k) => k,
            Identity::Ssh { key, .. } => key,
        }
    }
}

impl Identities {
    /// Reads identities from the text of an identity file: either age identities, one per
    /// line (`AGE-SECRET-KEY-1...`; empty lines and `#` comments skipped, as `age -i`
    /// reads them), or one unencrypted OpenSSH private key (ed25519 or RSA). `origin` names
    /// the text in messages.
    ///
    /// # Errors
    /// A line is not an identity (its number is given, never its text), the SSH key is
    /// passphrase-protected or of an unsupported type, or there is no identity at all.
    pub fn parse(text: &str, origin: &str) -> Result<Identities, String> {
        let origin = origin.to_owned();
        if text.trim_start().starts_with("-----BEGIN") {
            let key = age::ssh::Identity::from_buffer(text.as_bytes(), None)
                .map_err(|e| format!("{origin}: not a usable SSH private key: {e}"))?;
            let public = match &key {
                age::ssh::Identity::Unencrypted(_) => age::ssh::Recipient::try_from(key.clone())
                    .map(|r| r.to_string())
                    .map_err(|e| format!("{origin}: {}", ssh_error(&e)))?,
                age::ssh::Identity::Encrypted(_) => {
                    return Err(format!(
                        "{origin}: the SSH private key is protected by a passphrase, which escc \
                         cannot ask for; use an age identity (age-keygen) or an unprotected key"
                    ));
                }
                age::ssh::Identity::Unsupported(_) => {
                    return Err(format!(
                        "{origin}: this kind of SSH private key is not supported (use ed25519 or RSA)"
                    ));
                }
            };
            return Ok(Identities {
                keys: vec![Identity::Ssh { key, public }],
                origin,
                known: RecipientSets::default(),
            });
        }
        let mut keys = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = line.parse::<age::x25519::Identity>().map_err(|_| {
                format!(
                    "{origin}: line {} is not an age identity (AGE-SECRET-KEY-1...)",
                    i + 1
                )
            })?;
            keys.push(Identity::X25519(key));
        }
        if keys.is_empty() {
            return Err(format!("{origin}: no identity in it"));
        }
        Ok(Identities {
            keys,
            origin,
            known: RecipientSets::default(),
        })
    }

    /// The public keys of the identities (the recipients they decrypt for).
    #[must_use]
    pub fn public_keys(&self) -> Vec<String> {
        self.keys.iter().map(Identity::public).collect()
    }

    /// Where the identities came from.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Lets messages name the recipients of values encrypted to one of `sets`.
    #[must_use]
    pub fn knowing(mut self, sets: RecipientSets) -> Self {
        self.known = sets;
        self
    }
}

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identities")
            .field("public_keys", &self.public_keys())
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Encrypts `plaintext` to every recipient: a binary age file.
///
/// # Errors
/// There is no recipient, or the recipients cannot be mixed.
pub fn encrypt(recipients: &[Recipient], plaintext: &[u8]) -> Result<Vec<u8>, String> {
    if recipients.is_empty() {
        return Err("no recipients to encrypt to".to_owned());
    }
    let mark = SetMark(recipient_set(recipients));
    let encryptor = age::Encryptor::with_recipients(
        recipients
            .iter()
            .map(Recipient::as_dyn)
            .chain([&mark as &dyn age::Recipient]),
    )
    .map_err(|e| format!("encrypting: {e}"))?;
    let mut out = Vec::with_capacity(plaintext.len() + 200 * recipients.len());
    let io = |e: std::io::Error| format!("encrypting: {e}");
    let mut writer = encryptor.wrap_output(&mut out).map_err(io)?;
    writer.write_all(plaintext).map_err(io)?;
    writer.finish().map_err(io)?;
    Ok(out)
}

/// The type of the stanza in which escc records a file's recipient set.
const SET_TAG: &str = "escc-recipients";

/// The fingerprint of a set of recipients (order and repetition do not matter): the first
/// 16 bytes of the SHA-256 of their sorted canonical public keys, one per line, in hex.
#[must_use]
pub fn recipient_set(recipients: &[Recipient]) -> String {
    use sha2::Digest as _;
    let mut keys: Vec<&str> = recipients.iter().map(Recipient::as_str).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut hash = sha2::Sha256::new();
    for k in keys {
        hash.update(k.as_bytes());
        hash.update(b"\n");
    }
    hash.finalize()[..16]
        .iter()
        .fold(String::with_capacity(32), |mut out, b| {
            use std::fmt::Write as _;
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// The recipient set an age file records (see [`recipient_set`]): escc writes it as one
/// more stanza, `-> escc-recipients FINGERPRINT` with an empty body, because age's X25519
/// stanzas do not say whom they are for. Decrypters skip stanzas they do not know, so
/// `age -d` reads the file as before; the header's MAC covers it. `None` for a file that
/// records none (written by `age`, or before escc recorded it).
#[must_use]
pub fn recorded_set(file: &[u8]) -> Option<String> {
    header_stanzas(file).into_iter().find_map(|stanza| {
        let mut fields = stanza.split(' ');
        (fields.next() == Some(SET_TAG))
            .then(|| fields.next().map(str::to_owned))
            .flatten()
    })
}

/// A recipient that wraps nothing: it adds the stanza recording the set.
struct SetMark(String);

impl age::Recipient for SetMark {
    fn wrap_file_key(
        &self,
        _file_key: &age_core::format::FileKey,
    ) -> Result<
        (
            Vec<age_core::format::Stanza>,
            std::collections::HashSet<String>,
        ),
        age::EncryptError,
    > {
        Ok((
            vec![age_core::format::Stanza {
                tag: SET_TAG.to_owned(),
                args: vec![self.0.clone()],
                body: Vec::new(),
            }],
            std::collections::HashSet::new(),
        ))
    }
}

/// Decrypts a binary age file with `identities`.
///
/// # Errors
/// The file is not an age file, is damaged, or none of the identities is one of its
/// recipients (the message names the identities' public keys and the file's recipient
/// stanzas).
pub fn decrypt(identities: &Identities, file: &[u8]) -> Result<Vec<u8>, String> {
    let decryptor =
        age::Decryptor::new_buffered(file).map_err(|e| describe(&e, identities, file))?;
    let mut reader = decryptor
        .decrypt(identities.keys.iter().map(Identity::as_dyn))
        .map_err(|e| describe(&e, identities, file))?;
    let mut plain = Vec::new();
    reader
        .read_to_end(&mut plain)
        .map_err(|_| "the age file is damaged (its payload does not authenticate)".to_owned())?;
    Ok(plain)
}

fn describe(e: &age::DecryptError, identities: &Identities, file: &[u8]) -> String {
    match e {
        age::DecryptError::NoMatchingKeys => format!(
            "no identity of {} can decrypt it: it is encrypted to {}{}, and the identities' \
             public keys are {}",
            identities.origin,
            describe_stanzas(&stanzas(file)),
            identities
                .known
                .describe(file)
                .map_or_else(String::new, |who| format!(", {who}")),
            identities.public_keys().join(", ")
        ),
        age::DecryptError::InvalidHeader | age::DecryptError::UnknownFormat => {
            "not a valid age file (its header does not parse)".to_owned()
        }
        age::DecryptError::InvalidMac | age::DecryptError::DecryptionFailed => {
            "the age file is damaged (it does not authenticate)".to_owned()
        }
        other => format!("the age file cannot be decrypted: {other}"),
    }
}

/// The recipient stanzas of an age file's header, as `age` names them: `X25519` (which
/// does not say which key: X25519 recipients are anonymous), `ssh-ed25519 TAG`,
/// `ssh-rsa TAG` (TAG: the first 4 bytes of the SHA-256 of the SSH key, base64), or the
/// stanza's type.
#[must_use]
pub fn stanzas(file: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for stanza in header_stanzas(file) {
        let kind = stanza.split(' ').next().unwrap_or_default();
        // age writes a random "grease" stanza into every file, to keep parsers honest;
        // escc's record of the recipient set is no recipient either.
        if !kind.ends_with("-grease") && kind != SET_TAG {
            let mut fields = stanza.split(' ');
            let kind = fields.next().unwrap_or_default();
            out.push(match kind {
                "ssh-ed25519" | "ssh-rsa" => {
                    format!("{kind} {}", fields.next().unwrap_or_default())
                }
                _ => kind.to_owned(),
            });
        }
    }
    out
}

/// The first lines of the header's stanzas (after `-> `).
fn header_stanzas(file: &[u8]) -> Vec<String> {
    let header = file.strip_prefix(MAGIC).unwrap_or_default();
    let header = String::from_utf8_lossy(
        header
            .get(..header.len().min(64 * 1024))
            .unwrap_or_default(),
    )
    .into_owned();
    header
        .lines()
        .take_while(|line| !line.starts_with("---"))
        .filter_map(|line| line.strip_prefix("-> ").map(str::to_owned))
        .collect()
}

fn describe_stanzas(stanzas: &[String]) -> String {
    match stanzas.len() {
        0 => "no recipient".to_owned(),
        1 => format!("1 recipient ({})", stanzas[0]),
        n => format!("{n} recipients ({})", stanzas.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_to_several_recipients() {
        let a = age::x25519::Identity::generate();
        let b = age::x25519::Identity::generate();
        let recipients = [
            Recipient::parse(&a.to_public().to_string()).unwrap(),
            Recipient::parse(&b.to_public().to_string()).unwrap(),
        ];
        let file = encrypt(&recipients, b"hunter2").unwrap();
        assert!(is_age_file(&file));
        assert_eq!(stanzas(&file), ["X25519", "X25519"]);
        for key in [&a, &b] {
            use age::secrecy::ExposeSecret as _;
            let ids = Identities::parse(key.to_string().expose_secret(), "test").unwrap();
            assert_eq!(decrypt(&ids, &file).unwrap(), b"hunter2");
        }
    }

    #[test]
    fn the_recipient_set_is_recorded_and_order_free() {
        let keys: Vec<_> = (0..3)
            .map(|_| {
                let k = age::x25519::Identity::generate();
                Recipient::parse(&k.to_public().to_string()).unwrap()
            })
            .collect();
        let ab = [keys[0].clone(), keys[1].clone()];
        let ba = [keys[1].clone(), keys[0].clone(), keys[1].clone()];
        let ac = [keys[0].clone(), keys[2].clone()];
        assert_eq!(recipient_set(&ab), recipient_set(&ba));
        assert_ne!(recipient_set(&ab), recipient_set(&ac));
        assert_eq!(recipient_set(&ab).len(), 32);
        let file = encrypt(&ab, b"hunter2").unwrap();
        assert_eq!(recorded_set(&file), Some(recipient_set(&ab)));
        // The mark is no recipient in messages.
        assert_eq!(stanzas(&file), ["X25519", "X25519"]);
        assert_eq!(
            recorded_set(b"age-encryption.org/v1\n-> X25519 abc\nxyz\n--- mac\n"),
            None
        );
        assert_eq!(recorded_set(b"not age"), None);
    }

    #[test]
    fn a_key_that_is_not_a_recipient_is_named_by_public_key() {
        use age::secrecy::ExposeSecret as _;
        let a = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let file = encrypt(
            &[Recipient::parse(&a.to_public().to_string()).unwrap()],
            b"x",
        )
        .unwrap();
        let text = other.to_string();
        let ids =
            Identities::parse(&format!("# mine\n\n{}\n", text.expose_secret()), "KEYS").unwrap();
        let e = decrypt(&ids, &file).unwrap_err();
        assert_eq!(
            e,
            format!(
                "no identity of KEYS can decrypt it: it is encrypted to 1 recipient (X25519), and \
                 the identities' public keys are {}",
                other.to_public()
            )
        );
        assert!(!e.contains(text.expose_secret()));
    }

    #[test]
    fn a_known_recipient_set_is_named_by_public_keys() {
        use age::secrecy::ExposeSecret as _;
        let a = age::x25519::Identity::generate();
        let b = age::x25519::Identity::generate();
        let ra = Recipient::parse(&a.to_public().to_string()).unwrap();
        let mut sets = RecipientSets::default();
        sets.add(
            std::slice::from_ref(&ra),
            "encryption.folders.\"prod\".recipients",
        );
        let ids = Identities::parse(b.to_string().expose_secret(), "KEYS")
            .unwrap()
            .knowing(sets);
        let e = decrypt(&ids, &encrypt(std::slice::from_ref(&ra), b"x").unwrap()).unwrap_err();
        assert_eq!(
            e,
            format!(
                "no identity of KEYS can decrypt it: it is encrypted to 1 recipient (X25519), \
                 the recipients {} (encryption.folders.\"prod\".recipients), and the identities' \
                 public keys are {}",
                a.to_public(),
                b.to_public()
            )
        );
        let c = age::x25519::Identity::generate();
        let rc = Recipient::parse(&c.to_public().to_string()).unwrap();
        let e = decrypt(&ids, &encrypt(&[rc], b"x").unwrap()).unwrap_err();
        assert!(
            e.contains("(X25519), a set of recipients escc.toml does not list (any more), and"),
            "{e}"
        );
    }

    #[test]
    fn bad_input_is_refused_without_quoting_keys() {
        assert!(
            Recipient::parse("age1xyz")
                .unwrap_err()
                .contains("not an age recipient")
        );
        assert!(
            Recipient::parse("bob")
                .unwrap_err()
                .contains("is not a recipient")
        );
        assert!(Recipient::parse("ssh-ed25519 AAAA").is_err());
        let e = Identities::parse("AGE-SECRET-KEY-1NOTAKEY\n", "F").unwrap_err();
        assert_eq!(e, "F: line 1 is not an age identity (AGE-SECRET-KEY-1...)");
        assert!(!e.contains("NOTAKEY"));
        assert_eq!(
            Identities::parse("# nothing\n", "F").unwrap_err(),
            "F: no identity in it"
        );
        let ids = Identities::parse(
            age::secrecy::ExposeSecret::expose_secret(
                &age::x25519::Identity::generate().to_string(),
            ),
            "F",
        )
        .unwrap();
        assert!(
            decrypt(&ids, b"age-encryption.org/v1\nnonsense")
                .unwrap_err()
                .contains("not a valid age file")
        );
        assert!(encrypt(&[], b"x").is_err());
        assert!(!format!("{ids:?}").contains("AGE-SECRET-KEY"));
    }
}
