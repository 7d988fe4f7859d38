//! `dotenv` and `shell`: `environmentVariables` and `files` as `KEY="value"` or
//! `export KEY='value'` lines; `escc run` exports the same entries.

use std::collections::BTreeMap;
use std::io::Write as _;

use super::ValueFormat;
use super::string::string_form;
use crate::cli::lookup::kind_name;
use crate::cli::{self, Failure};
use crate::eval::{Value, ValueKind};
use crate::go::strconv::quote;

/// Where `files` entries go.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileMode {
    /// `get`: no file is written; the variable reads `[unknown]`.
    Pretend,
    /// `open`: each file is written to a 0600 temporary file that is kept.
    Write,
}

/// An exported variable's text, or why it is not exported.
pub(crate) fn export_text(v: &Value, redact: bool) -> Result<String, &'static str> {
    if redact && v.secret {
        return Ok("[secret]".to_owned());
    }
    if v.unknown {
        return Ok("[unknown]".to_owned());
    }
    match &v.kind {
        ValueKind::Array(_) => {
            Err("a list: only strings, numbers, booleans and null are exported (use fn::toJSON)")
        }
        ValueKind::Object(_) => {
            Err("an object: only strings, numbers, booleans and null are exported (use fn::toJSON)")
        }
        _ => string_form(v, redact).ok_or("longer than the limit of the string form"),
    }
}

/// The entries of `environmentVariables` or `files`, with a warning for anything that is
/// not exported.
pub(crate) fn exported_entries<'a>(
    properties: &'a BTreeMap<String, Value>,
    key: &str,
) -> Vec<(&'a String, &'a Value)> {
    let Some(v) = properties.get(key) else {
        return Vec::new();
    };
    match &v.kind {
        ValueKind::Object(m) if !v.unknown => m.iter().collect(),
        _ => {
            let what = if v.unknown {
                "unknown".to_owned()
            } else {
                format!("{}, not an object", kind_name(v))
            };
            cli::warn(&format!("{key} is {what}: nothing is exported from it"));
            Vec::new()
        }
    }
}

/// Warns about a variable that is skipped.
pub(crate) fn warn_skipped(section: &str, key: &str, why: &str) {
    cli::warn(&format!("{section}.{key} is {why}; skipped"));
}

/// Whether a name can be a POSIX shell variable.
pub(super) fn is_shell_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// POSIX single quoting: nothing inside is expanded.
pub(super) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A `shell` line: `export KEY='value'`.
pub(super) fn shell_line(key: &str, value: &str) -> String {
    format!("export {key}={}\n", shell_quote(value))
}

/// A `dotenv` line: `KEY="value"`, Go-quoted.
pub(super) fn dotenv_line(key: &str, value: &str) -> String {
    format!("{key}={}\n", quote(value))
}

/// `dotenv` or `shell`: one line per variable of `environmentVariables` and `files`;
/// a `files` variable holds the path of a file with its value.
pub(crate) fn export_lines(
    properties: &BTreeMap<String, Value>,
    format: ValueFormat,
    redact: bool,
    files: FileMode,
) -> Result<String, Failure> {
    let mut lines: Vec<(String, String)> = Vec::new();
    for (k, v) in exported_entries(properties, "environmentVariables") {
        match export_text(v, redact) {
            Ok(text) => lines.push((k.clone(), text)),
            Err(why) => warn_skipped("environmentVariables", k, why),
        }
    }
    let mut written = 0;
    for (k, v) in exported_entries(properties, "files") {
        let path = match export_text(v, redact) {
            Err(why) => {
                warn_skipped("files", k, why);
                continue;
            }
            // `get` writes no file: the path is unknown, as in the reference.
            Ok(_) if files == FileMode::Pretend => "[unknown]".to_owned(),
            // An unknown value, or a secret not to be shown: nothing is written.
            Ok(text) if v.unknown || (redact && v.secret) => text,
            Ok(text) => {
                written += 1;
                write_kept_file(text.as_bytes())?
            }
        };
        lines.push((k.clone(), path));
    }
    let mut out = String::new();
    for (k, v) in lines {
        if k.contains(['=', '\0']) || k.is_empty() {
            cli::warn(&format!(
                "{k:?} cannot be an environment variable name; skipped"
            ));
            continue;
        }
        match format {
            ValueFormat::Shell => {
                if !is_shell_name(&k) {
                    cli::warn(&format!(
                        "{k:?} is not a valid shell variable name; skipped"
                    ));
                    continue;
                }
                out.push_str(&shell_line(&k, &v));
            }
            _ => {
                out.push_str(&dotenv_line(&k, &v));
            }
        }
    }
    if written > 0 {
        cli::note(&format!(
            "wrote {written} temporary file(s) for `files` (mode 0600); they are not removed: delete them when done, or use `escc run`"
        ));
    }
    Ok(out)
}

/// Writes `content` to a new 0600 temporary file that is kept; returns its path.
pub(crate) fn write_kept_file(content: &[u8]) -> Result<String, Failure> {
    let mut file = tempfile::Builder::new()
        .prefix("escc-")
        .tempfile()
        .map_err(|e| Failure::new(format!("creating a temporary file: {e}")))?;
    file.write_all(content)
        .and_then(|()| file.flush())
        .map_err(|e| Failure::new(format!("writing a temporary file: {e}")))?;
    let (_, path) = file
        .keep()
        .map_err(|e| Failure::new(format!("keeping a temporary file: {e}")))?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("it's $HOME"), r"'it'\''s $HOME'");
    }
}
