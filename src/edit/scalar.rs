//! How a string is written: which styles its characters allow (the analysis a libyaml-style
//! emitter makes), which style is chosen, and the quoted forms.

use std::fmt::Write as _;
use std::sync::LazyLock;

use regex::Regex;

use crate::go::strconv::format_float_g;
use crate::source::Source;
use crate::syntax::{self, Limits, NodeKind, Style};

/// Which styles a string's characters allow.
#[allow(
    clippy::struct_excessive_bools,
    reason = "one flag per style, as the emitter's analysis has"
)]
struct Allowed {
    flow_plain: bool,
    block_plain: bool,
    single: bool,
    block: bool,
    multiline: bool,
}

/// Characters written as they are inside quotes and block scalars: `\n`, printable ASCII,
/// and the Basic Multilingual Plane above U+00A0 except surrogates, U+FEFF, U+FFFE/F. This is
/// the YAML emitter's notion of printable (go-yaml's `is_printable`), not Go's `IsPrint`.
fn is_yaml_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        && c != '\u{feff}'
}

pub(super) fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank_or_end(c: Option<char>) -> bool {
    c.is_none_or(|c| matches!(c, ' ' | '\t' | '\0') || is_break(c))
}

fn analyze(text: &str) -> Allowed {
    if text.is_empty() {
        return Allowed {
            flow_plain: false,
            block_plain: true,
            single: true,
            block: false,
            multiline: false,
        };
    }

    let (mut flow_ind, mut block_ind) = (false, false);
    if text.starts_with("---") || text.starts_with("...") {
        flow_ind = true;
        block_ind = true;
    }
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let (mut line_breaks, mut special) = (false, false);
    let mut preceded_by_blank = true;
    let mut chars = text.chars().peekable();
    let mut i = 0;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let followed_by_blank = is_blank_or_end(next);
        let last = next.is_none();
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                '?' | ':' => {
                    flow_ind = true;
                    block_ind |= followed_by_blank;
                }
                '-' if followed_by_blank => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_ind = true,
                ':' => {
                    flow_ind = true;
                    block_ind |= followed_by_blank;
                }
                '#' if preceded_by_blank => {
                    flow_ind = true;
                    block_ind = true;
                }
                // saphyr reads ` -` before a flow indicator (`[a -]`) as a misplaced
                // sequence entry; go-yaml would write it plain.
                '-' if preceded_by_blank && followed_by_blank => flow_ind = true,
                _ => {}
            }
        }
        // U+2028 and U+2029 are line breaks to go-yaml but not to YAML 1.2 readers (ours):
        // only escaped (`\L`, `\P`) do they read back the same everywhere.
        if !is_yaml_printable(c) || matches!(c, '\u{2028}' | '\u{2029}') {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            previous_break = true;
            previous_space = false;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_blank = is_blank_or_end(Some(c));
        i += 1;
    }
    let mut a = Allowed {
        flow_plain: true,
        block_plain: true,
        single: true,
        block: true,
        multiline: line_breaks,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
    }
    if space_break || special {
        a.flow_plain = false;
        a.block_plain = false;
        a.single = false;
        a.block = false;
    }
    if line_breaks {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if flow_ind {
        a.flow_plain = false;
    }
    if block_ind {
        a.block_plain = false;
    }
    a
}

/// What a plain scalar's text would read back as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reads {
    Str,
    /// A boolean or a number.
    Scalar,
    /// Null, or a timestamp (which the reference's YAML library types when it writes).
    Other,
}

fn reads_as(text: &str) -> Reads {
    static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$",
        )
        .expect("valid regex")
    });
    let Some(first) = text.chars().next() else {
        return Reads::Other;
    };
    // Only a digit, a sign, a dot or `~` can start a number, a timestamp or `~`; words
    // are typed by the list of them.
    if !matches!(first, '0'..='9' | '+' | '-' | '.' | '~') {
        return match text {
            "null" | "Null" | "NULL" => Reads::Other,
            "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => Reads::Scalar,
            _ => Reads::Str,
        };
    }
    if TIMESTAMP.is_match(text) {
        return Reads::Other;
    }
    // Typed exactly as the syntax layer types a plain scalar.
    let parsed = syntax::parse(&Source::new("", text), &Limits::default());
    match parsed.root {
        Some(n) if n.style == Style::Plain && n.tag.is_none() => match n.kind {
            NodeKind::Null => Reads::Other,
            NodeKind::Bool(_) | NodeKind::Number(_) => Reads::Scalar,
            _ => Reads::Str,
        },
        _ => Reads::Str,
    }
}

/// Where a scalar is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// A block value or item.
    Block,
    /// A block mapping key.
    Key,
    /// Inside a flow collection (keys too).
    Flow,
}

/// The presentation of a string: whether `!!str` is written, and the style.
pub(super) fn choose(text: &str, requested: Style, tagged: bool, place: Place) -> (bool, Style) {
    let allowed = analyze(text);
    let mut style = requested;
    let mut tag = false;
    if matches!(requested, Style::Plain | Style::Flow) {
        style = Style::Plain;
        let could_be_plain = allowed.block_plain || allowed.flow_plain || text.is_empty();
        let reads = if could_be_plain {
            reads_as(text)
        } else {
            Reads::Str
        };
        if reads == Reads::Scalar {
            style = Style::SingleQuoted;
        } else if tagged {
            tag = true;
        } else if text.contains('\n') {
            style = Style::Literal;
        } else if reads == Reads::Other {
            style = Style::DoubleQuoted;
        }
    } else if tagged {
        tag = true;
    }
    let flow = place == Place::Flow;
    let simple_key = place == Place::Key;
    if style == Style::Plain {
        if (flow && !allowed.flow_plain) || (!flow && !allowed.block_plain) {
            style = Style::SingleQuoted;
        }
        if text.is_empty() && (flow || simple_key) {
            style = Style::SingleQuoted;
        }
    }
    if style == Style::SingleQuoted && (!allowed.single || (simple_key && allowed.multiline)) {
        style = Style::DoubleQuoted;
    }
    if matches!(style, Style::Literal | Style::Folded) && (!allowed.block || flow || simple_key) {
        style = Style::DoubleQuoted;
    }
    (tag, style)
}

/// `text` double-quoted, escaped as go-yaml escapes.
pub(super) fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if is_yaml_printable(c) && !is_break(c) && c != '"' && c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = match c {
            '\0' => "\\0",
            '\u{7}' => "\\a",
            '\u{8}' => "\\b",
            '\t' => "\\t",
            '\n' => "\\n",
            '\u{b}' => "\\v",
            '\u{c}' => "\\f",
            '\r' => "\\r",
            '\u{1b}' => "\\e",
            '"' => "\\\"",
            '\\' => "\\\\",
            '\u{85}' => "\\N",
            '\u{a0}' => "\\_",
            '\u{2028}' => "\\L",
            '\u{2029}' => "\\P",
            _ => {
                let v = u32::from(c);
                let _ = if v <= 0xff {
                    write!(out, "\\x{v:02X}")
                } else if v <= 0xffff {
                    write!(out, "\\u{v:04X}")
                } else {
                    write!(out, "\\U{v:08X}")
                };
                continue;
            }
        };
        out.push_str(escaped);
    }
    out.push('"');
    out
}

/// `text` single-quoted; a line break is written as a blank line, and the lines after one
/// are indented by `indent`.
pub(super) fn single_quoted(text: &str, indent: usize) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    let mut breaks = false;
    for c in text.chars() {
        if is_break(c) {
            if !breaks && c == '\n' {
                out.push('\n');
            }
            out.push(c);
            breaks = true;
        } else {
            if breaks {
                pad(&mut out, indent);
            }
            if c == '\'' {
                out.push_str("''");
            } else {
                out.push(c);
            }
            breaks = false;
        }
    }
    if breaks {
        pad(&mut out, indent);
    }
    out.push('\'');
    out
}

pub(super) fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A JSON number as Go's YAML encoder prints it: integers as they are, floats in Go's
/// shortest `%g` form (`strconv.FormatFloat(v, 'g', -1, 64)`: `1e+06`, `1e-05`, `3`).
pub(super) fn go_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    n.as_f64().map_or_else(|| n.to_string(), format_float_g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_follow_the_reference() {
        let plain = |s: &str| choose(s, Style::Plain, false, Place::Block);
        assert_eq!(plain("hello, world"), (false, Style::Plain));
        assert_eq!(plain("42"), (false, Style::SingleQuoted));
        assert_eq!(plain("true"), (false, Style::SingleQuoted));
        assert_eq!(plain("null"), (false, Style::DoubleQuoted));
        assert_eq!(plain(""), (false, Style::DoubleQuoted));
        assert_eq!(plain("2001-12-14"), (false, Style::DoubleQuoted));
        assert_eq!(plain("\"array[]\""), (false, Style::SingleQuoted));
        assert_eq!(plain("a: b"), (false, Style::SingleQuoted));
        assert_eq!(plain("a:b"), (false, Style::Plain));
        assert_eq!(plain("a\tb"), (false, Style::DoubleQuoted));
        assert_eq!(plain("two\nlines"), (false, Style::Literal));
        assert_eq!(plain("${a.b[0]}"), (false, Style::Plain));
        assert_eq!(
            choose("a:b", Style::Plain, false, Place::Flow),
            (false, Style::SingleQuoted)
        );
        assert_eq!(
            choose("null", Style::Plain, true, Place::Block),
            (true, Style::Plain)
        );
        assert_eq!(
            choose("two\nlines", Style::Plain, false, Place::Key),
            (false, Style::DoubleQuoted)
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(double_quoted("\u{10000}"), "\"\\U00010000\"");
        assert_eq!(
            double_quoted("a\"\\\n\t\u{1}é"),
            "\"a\\\"\\\\\\n\\t\\x01é\""
        );
        assert_eq!(single_quoted("it's", 2), "'it''s'");
        assert_eq!(single_quoted("a\nb", 2), "'a\n\n  b'");
    }

    #[test]
    fn numbers_print_as_go_prints_them() {
        let n = |v: serde_json::Value| match v {
            serde_json::Value::Number(n) => go_number(&n),
            _ => unreachable!(),
        };
        assert_eq!(n(serde_json::json!(1)), "1");
        assert_eq!(n(serde_json::json!(-7)), "-7");
        assert_eq!(n(serde_json::json!(3.0)), "3");
        assert_eq!(n(serde_json::json!(1.5)), "1.5");
        assert_eq!(n(serde_json::json!(1e21)), "1e+21");
        assert_eq!(n(serde_json::json!(123_456.0)), "123456");
        assert_eq!(n(serde_json::json!(1e6)), "1e+06");
        assert_eq!(n(serde_json::json!(0.000_01)), "1e-05");
        assert_eq!(n(serde_json::json!(0.001)), "0.001");
    }
}
