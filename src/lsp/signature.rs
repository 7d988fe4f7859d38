//! Signature help: while the argument of a `fn::` builtin is being written, how the builtin
//! is called and what it does. Found from the text alone (it is usually broken while being
//! typed): the builtin is `fn::NAME:` before the cursor on its line, or, for an argument
//! written as a block below it, on the nearest line above that is less indented.

use crate::ast::{builtin_doc, builtin_signature, is_builtin};

/// A builtin's signature and documentation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Signature {
    /// How it is called (`fn::join: [DELIMITER, [STRING, ...]]`).
    pub(crate) label: &'static str,
    /// What it does (Markdown).
    pub(crate) documentation: String,
}

/// The signature of the builtin whose argument is at byte `offset` of `text`.
pub(crate) fn signature_at(text: &str, offset: usize) -> Option<Signature> {
    let offset = super::convert::floor_boundary(text, offset);
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let prefix = &text[line_start..offset];
    let name = last_call(prefix).or_else(|| {
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let line = &text[line_start..line_end];
        // A blank line is as indented as the cursor.
        let indent = if line.trim().is_empty() {
            prefix.len()
        } else {
            indentation(line)
        };
        enclosing_call(&text[..line_start], indent)
    })?;
    Some(Signature {
        label: builtin_signature(name)?,
        documentation: super::hover::builtin_doc(name),
    })
    .filter(|_| builtin_doc(name).is_some())
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The last `fn::NAME:` in `text` (one line) that names a builtin.
fn last_call(text: &str) -> Option<&str> {
    let mut found = None;
    let mut rest = text;
    let mut at = 0;
    while let Some(i) = rest.find("fn::") {
        let start = at + i;
        let name_len = text[start..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-' | b'.'))
            .count();
        // The name ends before the `:` that separates it from its argument.
        let word = &text[start..start + name_len];
        if let Some(name) = word.strip_suffix(':')
            && is_builtin(name)
        {
            found = Some(name);
        }
        at = start + 4;
        rest = &text[at..];
    }
    found
}

/// The builtin of the nearest line of `above` less indented than `indent`, if that line is
/// `fn::NAME:` (optionally a list item, `- fn::NAME:`).
fn enclosing_call(above: &str, indent: usize) -> Option<&str> {
    for line in above.lines().rev() {
        let trimmed = line.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') || indentation(line) >= indent {
            continue;
        }
        let key = trimmed.trim_start_matches("- ").trim_end();
        let name = key.strip_suffix(':')?;
        return is_builtin(name).then_some(name);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<&'static str> {
        let offset = text.find('|').unwrap();
        signature_at(&text.replacen('|', "", 1), offset).map(|s| s.label)
    }

    #[test]
    fn the_builtin_on_the_line_or_the_block_above() {
        assert_eq!(
            at("values:\n  a:\n    fn::eval: ${|"),
            Some("fn::eval: ${TEMPLATE}")
        );
        assert_eq!(
            at("values:\n  a: {fn::join: [\",\", |"),
            Some("fn::join: [DELIMITER, [STRING, ...]]")
        );
        // The innermost call before the cursor.
        assert_eq!(
            at("values:\n  a: {fn::toJSON: {fn::split: [\",\", |"),
            Some("fn::split: [DELIMITER, STRING]")
        );
        assert_eq!(
            at("values:\n  a:\n    fn::conform:\n      schema: {type: string}\n      value: |\n"),
            Some("fn::conform: {schema: SCHEMA, value: VALUE}")
        );
        assert_eq!(
            at("values:\n  a:\n    fn::template:\n\n      |"),
            Some("fn::template: EXPRESSION")
        );
        assert_eq!(
            at("values:\n  a:\n    - fn::open::aws-login:\n        |"),
            Some("fn::open::PROVIDER: INPUTS")
        );
        // Not inside a builtin's argument.
        assert_eq!(at("values:\n  a:\n    b: |"), None);
        assert_eq!(at("values:\n  a:\n    fn::nope: |"), None);
        assert_eq!(at("values:\n  a:\n    b:\n      c: |"), None);
        assert_eq!(at("|"), None);
    }

    #[test]
    fn the_documentation_is_the_hover_text() {
        let s = signature_at("a: {fn::eval: x}", 14).unwrap();
        assert!(s.documentation.starts_with("Evaluates a template"), "{s:?}");
    }
}
