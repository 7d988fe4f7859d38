//! `escc diff-driver`: git's external diff driver for environment files, which shows which
//! secrets changed and never a secret's value (plaintext or ciphertext).
//!
//! git runs it as `escc diff-driver PATH OLD-FILE OLD-HEX OLD-MODE NEW-FILE NEW-HEX
//! NEW-MODE` (two more, NEW-PATH and git's rename message, for a rename; only PATH for an
//! unmerged path), with `/dev/null` for a side that does not exist. It prints a header, one
//! line per secret path that was added, removed or changed (compared by path: a plaintext
//! by its value, a ciphertext by its text, so a re-encrypted value counts as changed), then
//! a unified line diff of the two documents with every secret's argument replaced by a
//! marker: `[secret]`, and `[secret, changed]` on the new side of a changed one (the
//! lines differ, so the diff shows them). A side that does not load as an environment but
//! mentions `fn::secret` is not shown at all (escc cannot tell where its secrets are); a
//! document that never mentions `fn::secret` holds no secret and is shown as it is. See
//! docs/secrets.md for the `.gitattributes` and `git config` lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::process::ExitCode;
use std::time::Duration;

use super::Failure;
use super::project::io_text;
use crate::Source;
use crate::edit::{self, SecretSite, SiteKind};

/// A side of the diff.
enum Side {
    /// `/dev/null`: the file does not exist on this side.
    Absent,
    /// Not UTF-8.
    Binary,
    Text(String),
}

/// What a secret holds, to compare two versions.
#[derive(PartialEq, Eq)]
pub(super) enum Held {
    Plaintext(String),
    Ciphertext(String),
}

impl Held {
    pub(super) fn of(kind: &SiteKind) -> Held {
        match kind {
            SiteKind::Plaintext(v, _) => Held::Plaintext(v.clone()),
            SiteKind::Ciphertext(c, _) => Held::Ciphertext(c.clone()),
        }
    }
}

/// `escc diff-driver ARGS...`.
pub(crate) fn diff_driver(args: &[String]) -> Result<ExitCode, Failure> {
    let out = match args {
        [path] => format!("* Unmerged path {path}\n"),
        [path, old, _, old_mode, new, _, new_mode, rest @ ..] if rest.len() <= 2 => {
            let new_path = rest.first().unwrap_or(path);
            let mut out = format!("diff --escc a/{path} b/{new_path}\n");
            if let Some(message) = rest.get(1) {
                out.push_str(message);
                if !message.is_empty() && !message.ends_with('\n') {
                    out.push('\n');
                }
            }
            if old_mode != new_mode && old_mode != "." && new_mode != "." {
                let _ = writeln!(out, "old mode {old_mode}\nnew mode {new_mode}");
            }
            out.push_str(&render(path, new_path, &side(old)?, &side(new)?));
            out
        }
        _ => {
            return Err(Failure::new(
                "escc diff-driver is run by git (diff.escc.command); see docs/secrets.md"
                    .to_owned(),
            ));
        }
    };
    super::print(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn side(file: &str) -> Result<Side, Failure> {
    if file == "/dev/null" {
        return Ok(Side::Absent);
    }
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| {
            f.take(crate::project::MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| Failure::new(format!("{file}: {}", io_text(&e))))?;
    if bytes.len() as u64 > crate::project::MAX_FILE_BYTES {
        return Err(Failure::new(format!(
            "{file}: larger than {} MiB",
            crate::project::MAX_FILE_BYTES >> 20
        )));
    }
    Ok(String::from_utf8(bytes).map_or(Side::Binary, Side::Text))
}

/// The secret sites of a text, or why they cannot be found (`Err`: where it does not
/// load). A text that never mentions `fn::secret` has none.
pub(super) fn sites_of(text: &str) -> Result<Vec<SecretSite>, String> {
    if !text.contains("fn::secret") {
        return Ok(Vec::new());
    }
    let source = Source::new("", text);
    edit::secret_sites(&source).map_err(|e| {
        e.span.map_or_else(
            || "does not load as an environment".to_owned(),
            |span| {
                let lc = source.line_col(span.start());
                format!(
                    "does not load as an environment (line {}, column {})",
                    lc.line, lc.column
                )
            },
        )
    })
}

/// The secrets of a text by path, or why they cannot be found.
fn secrets_of(text: &str) -> Result<BTreeMap<String, Held>, String> {
    Ok(sites_of(text)?
        .into_iter()
        .map(|s| {
            let held = Held::of(&s.kind);
            (s.path, held)
        })
        .collect())
}

/// The text with its secrets masked; `other` is the other side's secrets, and `new` says
/// whether this is the new side (where changed secrets are marked).
fn masked(text: &str, other: &BTreeMap<String, Held>, new: bool) -> String {
    if !text.contains("fn::secret") {
        return text.to_owned();
    }
    let source = Source::new("", text);
    let marker = |site: &SecretSite| {
        let held = Held::of(&site.kind);
        let kind = match held {
            Held::Plaintext(_) => "plaintext secret",
            Held::Ciphertext(_) => "secret",
        };
        match other.get(&site.path) {
            Some(o) if new && *o != held => format!("[{kind}, changed]"),
            _ => format!("[{kind}]"),
        }
    };
    // secrets_of has read the text already: it loads.
    edit::mask_secrets(&source, &marker).unwrap_or_default()
}

fn render(path: &str, new_path: &str, old: &Side, new: &Side) -> String {
    let (old, new) = match (old, new) {
        (Side::Binary, _) | (_, Side::Binary) => {
            return format!("Binary files a/{path} and b/{new_path} differ\n");
        }
        (Side::Text(o), Side::Text(n)) => (Some(o.as_str()), Some(n.as_str())),
        (Side::Text(o), Side::Absent) => (Some(o.as_str()), None),
        (Side::Absent, Side::Text(n)) => (None, Some(n.as_str())),
        (Side::Absent, Side::Absent) => (None, None),
    };
    let read = |t: Option<&str>| t.map_or_else(|| Ok(BTreeMap::new()), secrets_of);
    let (before, after) = (read(old), read(new));
    let mut out = String::new();
    let (before, after) = match (before, after) {
        (Ok(b), Ok(a)) => (b, a),
        (b, a) => {
            for (label, r) in [("old", b), ("new", a)] {
                if let Err(why) = r {
                    let _ = writeln!(
                        out,
                        "the {label} side {why}; it is not shown, as escc cannot tell where its \
                         secrets are"
                    );
                }
            }
            return out;
        }
    };
    for (k, held) in &after {
        match before.get(k) {
            None => {
                let _ = writeln!(out, "+ {k}: [secret] added");
            }
            Some(was) if was != held => {
                let how = match (was, held) {
                    (Held::Plaintext(_), Held::Ciphertext(_)) => "encrypted",
                    (Held::Ciphertext(_), Held::Plaintext(_)) => "changed, now in plaintext",
                    _ => "changed",
                };
                let _ = writeln!(out, "~ {k}: [secret] {how}");
            }
            Some(_) => {}
        }
    }
    for k in before.keys().filter(|k| !after.contains_key(*k)) {
        let _ = writeln!(out, "- {k}: [secret] removed");
    }
    let old_text = old.map(|t| masked(t, &after, false)).unwrap_or_default();
    let new_text = new.map(|t| masked(t, &before, true)).unwrap_or_default();
    let a = old.map_or_else(|| "/dev/null".to_owned(), |_| format!("a/{path}"));
    let b = new.map_or_else(|| "/dev/null".to_owned(), |_| format!("b/{new_path}"));
    // A bounded diff: past the timeout similar gives a coarser (still correct) one.
    let diff = similar::TextDiff::configure()
        .timeout(Duration::from_secs(5))
        .diff_lines(&old_text, &new_text);
    let _ = write!(
        out,
        "{}",
        diff.unified_diff().context_radius(3).header(&a, &b)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Side {
        Side::Text(s.to_owned())
    }

    #[test]
    fn secrets_are_masked_and_changes_named() {
        let old = "values:\n  a: {fn::secret: {ciphertext: AAAA}}\n  b: {fn::secret: hunter2}\n  c: {fn::secret: {ciphertext: CCCC}}\n  host: x\n";
        let new = "values:\n  a: {fn::secret: {ciphertext: AAAA}}\n  b: {fn::secret: {ciphertext: BBBB}}\n  d: {fn::secret: swordfish}\n  host: y\n";
        let out = render("e.yaml", "e.yaml", &text(old), &text(new));
        assert_eq!(
            out,
            "~ b: [secret] encrypted\n+ d: [secret] added\n- c: [secret] removed\n\
             --- a/e.yaml\n+++ b/e.yaml\n@@ -1,5 +1,5 @@\n values:\n   a: {fn::secret: [secret]}\n\
             -  b: {fn::secret: [plaintext secret]}\n-  c: {fn::secret: [secret]}\n-  host: x\n\
             +  b: {fn::secret: [secret, changed]}\n+  d: {fn::secret: [plaintext secret]}\n+  host: y\n"
        );
        for hidden in ["AAAA", "BBBB", "CCCC", "hunter2", "swordfish"] {
            assert!(!out.contains(hidden), "{hidden}: {out}");
        }
    }

    #[test]
    fn sides_that_cannot_be_read_are_not_shown() {
        let old = "values:\n  a: {fn::secret: hunter2}\n";
        let out = render(
            "e.yaml",
            "e.yaml",
            &text(old),
            &text("values: [\n  {fn::secret: hunter2\n"),
        );
        assert_eq!(
            out,
            "the new side does not load as an environment (line 3, column 1); it is not shown, as \
             escc cannot tell where its secrets are\n"
        );
        assert_eq!(
            render("e.yaml", "e.yaml", &Side::Binary, &text(old)),
            "Binary files a/e.yaml and b/e.yaml differ\n"
        );
        // No fn::secret at all: shown as it is, even when it is no environment.
        let out = render(
            "ci.yaml",
            "ci.yaml",
            &text("on: [push]\n"),
            &text("on: [pull_request]\n"),
        );
        assert!(out.contains("-on: [push]\n+on: [pull_request]\n"), "{out}");
    }

    #[test]
    fn added_and_deleted_files() {
        let doc = "values:\n  a: {fn::secret: hunter2}\n";
        let out = render("e.yaml", "e.yaml", &Side::Absent, &text(doc));
        assert!(
            out.starts_with("+ a: [secret] added\n--- /dev/null\n+++ b/e.yaml\n"),
            "{out}"
        );
        assert!(!out.contains("hunter2"));
        let out = render("e.yaml", "e.yaml", &text(doc), &Side::Absent);
        assert!(
            out.starts_with("- a: [secret] removed\n--- a/e.yaml\n+++ /dev/null\n"),
            "{out}"
        );
        assert!(!out.contains("hunter2"));
    }
}
