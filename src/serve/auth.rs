//! Tokens, roles and scopes. A token is `escc_` and 40 random hexadecimal digits; the
//! database keeps only its SHA-256. Roles are ordered: each can do what the ones before
//! it can.

use sha2::{Digest as _, Sha256};

/// What a token may do, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// List, read definitions (secrets stay ciphertext), check, version history.
    Reader,
    /// And open environments, read their secrets, decrypt definitions.
    Opener,
    /// And create, update, delete, tag.
    Editor,
    /// And manage tokens.
    Admin,
}

impl Role {
    /// The role named `name`.
    ///
    /// # Errors
    /// No role has that name.
    pub fn parse(name: &str) -> Result<Role, String> {
        match name {
            "reader" => Ok(Role::Reader),
            "opener" => Ok(Role::Opener),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            _ => Err(format!(
                "unknown role {name:?} (expected reader, opener, editor or admin)"
            )),
        }
    }

    /// Its name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Opener => "opener",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

/// A new random token.
///
/// # Errors
/// The system's random source cannot be read.
pub fn new_token() -> Result<String, String> {
    Ok(format!("escc_{}", random_hex(20)?))
}

/// `n` random bytes from the system's source, in hexadecimal.
///
/// # Errors
/// `/dev/urandom` cannot be read.
pub fn random_hex(n: usize) -> Result<String, String> {
    use std::io::Read as _;
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("reading /dev/urandom: {}", crate::project::io_text(&e)))?;
    Ok(hex(&bytes))
}

/// The stored form of a token: its SHA-256 in hexadecimal.
#[must_use]
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Whether scope `pattern` covers `target` (`org/project/env`). `*` matches any run of
/// characters within one `/`-separated part; `**` as a whole part matches the rest.
#[must_use]
pub fn scope_covers(pattern: &str, target: &str) -> bool {
    let wanted: Vec<&str> = pattern.split('/').collect();
    let parts: Vec<&str> = target.split('/').collect();
    for (i, p) in wanted.iter().enumerate() {
        if *p == "**" {
            return true;
        }
        match parts.get(i) {
            Some(part) if glob(p, part) => {}
            _ => return false,
        }
    }
    // A pattern of fewer parts (`acme/*`) covers what is below it.
    wanted.len() <= parts.len()
}

/// `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| glob(tail, &rest[i..]))
        }
    }
}

/// Checks a scope pattern's shape.
///
/// # Errors
/// The pattern is empty or has an empty part.
pub fn check_scope(pattern: &str) -> Result<(), String> {
    if pattern.split('/').any(str::is_empty) || pattern.len() > 200 {
        return Err(format!(
            "invalid scope {pattern:?} (expected ORG[/PROJECT[/ENV]] with * wildcards, e.g. acme/app/*)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_roles_and_tokens() {
        assert!(scope_covers("*", "acme/app/dev"));
        assert!(scope_covers("acme", "acme/app/dev"));
        assert!(scope_covers("acme/app/*", "acme/app/dev"));
        assert!(scope_covers("acme/*/dev", "acme/app/dev"));
        assert!(scope_covers("acme/**", "acme/app/dev"));
        assert!(scope_covers("acme/app/d*v", "acme/app/dev"));
        assert!(!scope_covers("acme/app/prod", "acme/app/dev"));
        assert!(!scope_covers("acme/other/*", "acme/app/dev"));
        assert!(!scope_covers("acme/app/dev/x", "acme/app/dev"));
        assert!(!scope_covers("acme/app/*", "acme/application/dev"));
        assert!(Role::Reader < Role::Opener && Role::Editor < Role::Admin);
        assert_eq!(Role::parse("editor"), Ok(Role::Editor));
        assert!(Role::parse("root").is_err());
        let t = new_token().unwrap();
        assert!(t.starts_with("escc_") && t.len() == 45);
        assert_ne!(t, new_token().unwrap());
        assert_eq!(hash("abc").len(), 64);
        assert!(check_scope("acme//x").is_err());
    }
}
