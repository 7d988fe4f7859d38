//! The `github` format: GitHub Actions workflow commands, one per diagnostic.

use std::fmt::Write as _;

use super::{Sources, place};
use crate::{Diagnostic, Severity};

/// GitHub Actions workflow commands (`::error file=...::message`).
#[must_use]
pub fn github(diags: &[Diagnostic], sources: &Sources) -> String {
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut props = vec![format!(
            "file={}",
            gh_property(&sources.file(&d.environment))
        )];
        if let Some(p) = place(d, sources) {
            props.push(format!("line={}", p.start.0));
            props.push(format!("col={}", p.start.1));
            props.push(format!("endLine={}", p.end.0));
            props.push(format!("endColumn={}", p.end.1));
        }
        props.push(format!(
            "title={}",
            gh_property(&format!("escc {}", d.code))
        ));
        let message = if d.path.is_empty() {
            d.summary.clone()
        } else {
            format!("{}: {}", d.path, d.summary)
        };
        let _ = writeln!(out, "::{level} {}::{}", props.join(","), gh_data(&message));
    }
    out
}

fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_properties_are_escaped_as_the_runner_reads_them() {
        // The runner unescapes %25 last, so `%0A` written by a user stays text.
        assert_eq!(
            gh_data("100% a\r\nb: c, d %0A"),
            "100%25 a%0D%0Ab: c, d %250A"
        );
        assert_eq!(
            gh_property("a:b,c%\n"),
            "a%3Ab%2Cc%25%0A",
            "`:` and `,` end a property"
        );
    }

    #[test]
    fn a_message_cannot_start_another_command() {
        let d = Diagnostic::error(
            crate::Code::InvalidField,
            "x\n::error::injected\r\n::add-mask::y",
        )
        .in_environment("a,b:c\n::warning::z");
        let out = github(&[d], &Sources::default());
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(
            out.starts_with("::error file=") && !out[2..].contains("\n::"),
            "{out}"
        );
    }
}
