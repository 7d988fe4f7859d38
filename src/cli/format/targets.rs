//! The targets of `escc export` that set environment variables: `shell`, `dotenv`,
//! `direnv`, `fish`, `powershell`, `systemd`, `docker` and `github-actions`. Each takes
//! the exported entries (key, text, whether secret) and either writes them in its syntax or
//! fails naming the first key it cannot hold; docs/export.md gives each one's rules.
//! Errors name keys and say why, never a value.

use std::fmt::Write as _;

use super::exports::{dotenv_line, is_shell_name, shell_line, shell_quote};
use crate::go::base64;

/// One exported variable.
#[derive(Clone)]
pub(crate) struct Entry {
    /// Where it comes from: `environmentVariables.KEY` or `files.KEY`.
    pub(crate) origin: String,
    /// The variable's name.
    pub(crate) key: String,
    /// Its text (a `files` entry: the path of the file holding its value).
    pub(crate) text: String,
    /// Whether it is secret (for `files`: whether the file's content is).
    pub(crate) secret: bool,
}

/// Fails when a value holds a NUL byte: no environment variable can hold one (the
/// environment is a list of C strings).
fn no_nul(e: &Entry) -> Result<(), String> {
    if e.text.contains('\0') {
        return Err(format!(
            "{}: the value holds a NUL byte, which an environment variable cannot hold",
            e.origin
        ));
    }
    Ok(())
}

/// Fails unless the key is a portable variable name, `[A-Za-z_][A-Za-z0-9_]*`.
fn identifier_key(e: &Entry, target: &str) -> Result<(), String> {
    if is_shell_name(&e.key) {
        Ok(())
    } else {
        Err(format!(
            "{}: {:?} is not a variable name {target} accepts (letters, digits and _, not first a digit)",
            e.origin, e.key
        ))
    }
}

/// `shell` (and the variables of `direnv`): `export KEY='value'`, POSIX single quotes.
pub(crate) fn shell(entries: &[Entry]) -> Result<String, String> {
    let mut out = String::new();
    for e in entries {
        identifier_key(e, "a POSIX shell")?;
        no_nul(e)?;
        out.push_str(&shell_line(&e.key, &e.text));
    }
    Ok(out)
}

/// `dotenv`: `KEY="value"`, the value Go-quoted, as `escc open --format dotenv` writes it.
pub(crate) fn dotenv(entries: &[Entry]) -> Result<String, String> {
    let mut out = String::new();
    for e in entries {
        if e.key.is_empty() || e.key.contains(['=', '\0', '\n', '\r']) {
            return Err(format!(
                "{}: {:?} cannot be an environment variable name (dotenv)",
                e.origin, e.key
            ));
        }
        no_nul(e)?;
        out.push_str(&dotenv_line(&e.key, &e.text));
    }
    Ok(out)
}

/// `direnv`: a `watch_file` line for every file the evaluation read (so direnv evaluates
/// `.envrc` again only when one of them changes), then the `shell` lines.
pub(crate) fn direnv(watched: &[String], entries: &[Entry]) -> Result<String, String> {
    let mut out = direnv_watches(watched);
    out.push_str(&shell(entries)?);
    Ok(out)
}

/// The `watch_file` lines of `direnv`, one a file.
pub(crate) fn direnv_watches(watched: &[String]) -> String {
    let mut out = String::new();
    for f in watched {
        let _ = writeln!(out, "watch_file {}", shell_quote(f));
    }
    out
}

/// fish's single quotes: only `\\` and `\'` are escapes inside them, and a newline is
/// taken as it is.
fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

/// `fish`: `set -gx KEY 'value'`.
pub(crate) fn fish(entries: &[Entry]) -> Result<String, String> {
    let mut out = String::new();
    for e in entries {
        identifier_key(e, "fish")?;
        no_nul(e)?;
        let _ = writeln!(out, "set -gx {} {}", e.key, fish_quote(&e.text));
    }
    Ok(out)
}

/// PowerShell's single quotes: nothing is expanded; a quote is doubled. PowerShell takes
/// the typographic single quotes U+2018..U+201B for `'` too, so they are doubled as well.
fn powershell_quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `powershell`: `$env:KEY = 'value'`.
pub(crate) fn powershell(entries: &[Entry]) -> Result<String, String> {
    let mut out = String::new();
    for e in entries {
        identifier_key(e, "PowerShell's $env:")?;
        no_nul(e)?;
        let _ = writeln!(out, "$env:{} = {}", e.key, powershell_quote(&e.text));
    }
    Ok(out)
}

/// `systemd`: an `EnvironmentFile=` file, `KEY="value"`. In systemd's double quotes a
/// backslash escapes `"`, `\`, `` ` `` and `$` and a newline is taken as it is; systemd
/// drops (with a log line) a value holding control characters other than tab and newline.
pub(crate) fn systemd(entries: &[Entry]) -> Result<String, String> {
    let mut out = String::new();
    for e in entries {
        identifier_key(e, "systemd")?;
        no_nul(e)?;
        if let Some(c) = e
            .text
            .chars()
            .find(|&c| c.is_ascii_control() && c != '\t' && c != '\n')
        {
            return Err(format!(
                "{}: the value holds the control character U+{:04X}, which systemd refuses in an environment value (only tab and newline are kept)",
                e.origin, c as u32
            ));
        }
        out.push_str(&e.key);
        out.push_str("=\"");
        for c in e.text.chars() {
            if matches!(c, '"' | '\\' | '`' | '$') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push_str("\"\n");
    }
    Ok(out)
}

/// The longest line `docker run --env-file` reads: Go's `bufio.Scanner` default token
/// size, which Docker's env-file reader keeps.
pub(crate) const DOCKER_MAX_LINE: usize = 64 * 1024;

/// `docker`: the file `docker run --env-file` reads: `KEY=value` lines taken literally (no
/// quotes, no escapes), so a value cannot span lines, and Docker's line reader drops a
/// carriage return at the end of a line.
pub(crate) fn docker(entries: &[Entry]) -> Result<String, String> {
    let mut out = String::new();
    for e in entries {
        if e.key.is_empty()
            || e.key.starts_with('#')
            || e.key.contains('=')
            || e.key.contains('\0')
            || e.key.chars().any(char::is_whitespace)
        {
            return Err(format!(
                "{}: {:?} cannot be a variable of a Docker env-file (no whitespace or =, not empty, not starting with #)",
                e.origin, e.key
            ));
        }
        no_nul(e)?;
        if e.text.contains('\n') {
            return Err(format!(
                "{}: the value spans several lines, which a Docker env-file cannot hold (docker run --env-file reads one line per variable, without quotes); use another target, or fn::toBase64 for this value",
                e.origin
            ));
        }
        if e.text.ends_with('\r') {
            return Err(format!(
                "{}: the value ends with a carriage return, which docker run --env-file drops",
                e.origin
            ));
        }
        let line = format!("{}={}\n", e.key, e.text);
        if line.len() > DOCKER_MAX_LINE {
            return Err(format!(
                "{}: the line is {} bytes, longer than the {} that docker run --env-file reads",
                e.origin,
                line.len(),
                DOCKER_MAX_LINE
            ));
        }
        out.push_str(&line);
    }
    Ok(out)
}

/// The data of a workflow command (`::add-mask::DATA`), escaped as the runner unescapes
/// it: `%`, carriage return and newline.
fn command_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Every form in which a secret can show in a job's log, for `::add-mask::`: the value,
/// each of its lines (the runner masks line by line, so a multi-line value as a whole
/// never matches), its base64 and its JSON-escaped text (`toJSON`, `echo "$X" | jq`).
/// Blank forms are left out: the runner refuses to mask them.
pub(crate) fn secret_forms(value: &str) -> Vec<String> {
    let mut forms: Vec<String> = Vec::new();
    let mut add = |f: String| {
        if !f.trim().is_empty() && !forms.contains(&f) {
            forms.push(f);
        }
    };
    add(value.to_owned());
    if value.contains(['\n', '\r']) {
        for line in value.split('\n') {
            add(line.strip_suffix('\r').unwrap_or(line).to_owned());
        }
    }
    add(base64::encode(value.as_bytes()));
    let json = serde_json::to_string(value).unwrap_or_default();
    if let Some(body) = json.strip_prefix('"').and_then(|j| j.strip_suffix('"')) {
        add(body.to_owned());
    }
    forms
}

/// `::add-mask::` lines for the forms of a secret.
pub(crate) fn github_masks(secret: &str) -> String {
    let mut out = String::new();
    for f in secret_forms(secret) {
        let _ = writeln!(out, "::add-mask::{}", command_data(&f));
    }
    out
}

/// The heredoc delimiter of a multi-line value: `ESCC_EOF`, with a number added until
/// the value does not contain it anywhere, so no line of the value can end the heredoc
/// early (and a value cannot inject variables). Chosen so, not at random, the output is
/// the same at every run.
fn heredoc_delimiter(value: &str) -> String {
    let mut d = "ESCC_EOF".to_owned();
    let mut n = 0u64;
    while value.contains(&d) {
        n += 1;
        d = format!("ESCC_EOF_{n}");
    }
    d
}

/// The lines of a `$GITHUB_ENV` or `$GITHUB_OUTPUT` file: `KEY=value`, or, for a value
/// with a line break, `KEY<<DELIMITER`, the value, `DELIMITER`.
pub(crate) fn github_file(entries: &[Entry]) -> Result<String, String> {
    let mut out = String::new();
    for e in entries {
        if e.key.is_empty() || e.key.contains(['=', '\0', '\n', '\r']) || e.key.contains("<<") {
            return Err(format!(
                "{}: {:?} cannot be a name in $GITHUB_ENV (not empty; no =, << or line break)",
                e.origin, e.key
            ));
        }
        no_nul(e)?;
        if e.text.ends_with('\r') {
            return Err(format!(
                "{}: the value ends with a carriage return, which the runner drops from $GITHUB_ENV",
                e.origin
            ));
        }
        if e.text.contains(['\n', '\r']) {
            let d = heredoc_delimiter(&e.text);
            let _ = write!(out, "{}<<{d}\n{}\n{d}\n", e.key, e.text);
        } else {
            let _ = writeln!(out, "{}={}", e.key, e.text);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, text: &str, secret: bool) -> Entry {
        Entry {
            origin: format!("environmentVariables.{key}"),
            key: key.to_owned(),
            text: text.to_owned(),
            secret,
        }
    }

    #[test]
    fn delimiters_avoid_the_value() {
        assert_eq!(heredoc_delimiter("a\nb"), "ESCC_EOF");
        assert_eq!(heredoc_delimiter("x\nESCC_EOF\n"), "ESCC_EOF_1");
        assert_eq!(heredoc_delimiter("ESCC_EOF ESCC_EOF_1"), "ESCC_EOF_2");
    }

    #[test]
    fn forms_of_a_secret() {
        assert_eq!(
            secret_forms("a\"b\n c\r\n"),
            vec![
                "a\"b\n c\r\n",
                "a\"b",
                " c",
                "YSJiCiBjDQo=",
                r#"a\"b\n c\r\n"#
            ]
        );
        assert_eq!(secret_forms("pw"), vec!["pw", "cHc="]);
        assert_eq!(secret_forms(" "), vec!["IA=="]);
        assert_eq!(command_data("5%\r\n"), "5%25%0D%0A");
    }

    #[test]
    fn quotes() {
        assert_eq!(fish_quote(r"a'b\c"), r"'a\'b\\c'");
        assert_eq!(powershell_quote("it's ‘q’"), "'it''s ‘‘q’’'");
        let e = entry("K", "a\nb", true);
        assert!(
            docker(std::slice::from_ref(&e))
                .unwrap_err()
                .contains("environmentVariables.K")
        );
        assert_eq!(
            systemd(&[entry("K", "$a\"\\`\n", false)]).unwrap(),
            "K=\"\\$a\\\"\\\\\\`\n\"\n"
        );
    }
}
