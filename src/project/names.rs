//! Environment names: `/`-separated paths below a project root, refused alike by every
//! front end.

use std::path::{Component, Path};

/// Checks an environment name: a `/`-separated path below the root, never `..`, absolute
/// or holding a NUL byte.
///
/// # Errors
/// Why the name is invalid, as the message to show.
pub fn check_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("invalid environment name {name:?}: {why}"));
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.contains('\0') {
        return bad("it contains a NUL byte");
    }
    if name.contains('@') {
        return bad(
            "@ marks a version (NAME@REV: see docs/versions.md), so it cannot be part of a name",
        );
    }
    if name.contains('\\') {
        return bad("use / to separate directories");
    }
    if name.starts_with('/') || Path::new(name).is_absolute() {
        return bad("names are paths below the project root and cannot be absolute");
    }
    for part in name.split('/') {
        match part {
            "" => return bad("it has an empty path segment"),
            "." | ".." => {
                return bad("names are paths below the project root and cannot contain . or ..");
            }
            _ => {}
        }
    }
    if Path::new(name)
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return bad("it is not a plain relative path");
    }
    Ok(())
}
