//! `${...}` templates and property-access paths (spec §3.3–§3.6).
//!
//! The scan is deliberately byte-oriented, like the reference implementation: whitespace is any
//! byte `b` for which Go's `unicode.IsSpace(rune(b))` holds, so the UTF-8 continuation bytes 0x85
//! and 0xA0 stop an access in the middle of a character (`à` = C3 A0). Names, keys and literal
//! text are therefore collected as bytes and only turned into `String`s at the end, lossily: a
//! character split that way shows up as U+FFFD.
//!
//! Parsing never fails. Diagnostics are collected in scan order; ranges are byte offsets into the
//! decoded string value (they may fall inside a character for the reason above).
//!
//! The lexical pieces are `nom` parsers; the driver that strings them together is a plain loop,
//! because it has to keep going after errors and record diagnostics with exact ranges.

#[cfg(test)]
use std::fmt::Write as _;
use std::ops::Range;

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, take, take_till, take_till1},
    combinator::{map, opt, value},
    multi::fold_many0,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    pub(crate) parts: Vec<Part>,
}

/// Literal text (escapes already applied) followed by an optional interpolation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) text: String,
    pub(crate) access: Option<Access>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Access {
    /// From the `$` of `${` to after the closing `}` (or to where the access stopped).
    pub(crate) range: Range<usize>,
    pub(crate) accessors: Vec<Accessor>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Accessor {
    pub(crate) kind: AccessorKind,
    pub(crate) range: Range<usize>,
}

/// `pub` (not `pub(crate)`) because `ast` re-exports it with `pub use`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessorKind {
    /// `name` or `.name`
    Name(String),
    /// `["key"]`, or `[text]` whose text is not a valid integer
    Key(String),
    /// `[3]`
    Index(i64),
}

/// One parse diagnostic; `message` is the exact reference text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub(crate) message: &'static str,
    pub(crate) range: Range<usize>,
}

/// What a string in expression position denotes (spec §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Classified {
    Literal(String),
    Symbol(Access),
    Interpolate(Template),
}

pub(crate) const MISSING_BRACE: &str = "missing closing brace '}' in interpolation";
pub(crate) const EMPTY_NAME: &str = "property name must not be empty";
pub(crate) const MISSING_BRACKET: &str = "subscript is missing closing bracket ']'";
pub(crate) const MISSING_QUOTE: &str = "key subscript is missing closing quote '\"'";
pub(crate) const EMPTY_KEY: &str = "key subscript must not be empty";
pub(crate) const BAD_INDEX: &str = "numeric subscript must be a positive base-10 integer";
pub(crate) const NUMERIC_ROOT: &str =
    "the first accessor must be a property name or key subscript, not a numeric subscript";
/// Only for bare paths (`parse_access_path`): our own wording, the spec has no such case.
pub(crate) const PATH_STOPPED: &str = "unexpected character in property path";

/// Parses a whole template. Never fails: returns the parts and the diagnostics in scan order.
pub(crate) fn parse_template(s: &str) -> (Template, Vec<TemplateError>) {
    let mut scanner = Scanner::new(s.as_bytes());
    let mut parts = Vec::new();
    let mut text = Vec::new();
    let mut rest = scanner.src;
    while !rest.is_empty() {
        let here = scanner.at(rest);
        let Ok((after, piece)) = piece(rest) else {
            // Unreachable (`piece` accepts any non-empty input); keep the bytes rather than panic.
            text.extend_from_slice(rest);
            break;
        };
        rest = after;
        match piece {
            Piece::Text(bytes) => text.extend_from_slice(bytes),
            Piece::Dollar => text.push(b'$'),
            Piece::Open => {
                let (after, access) = scanner.interpolation(here, rest);
                rest = after;
                parts.push(Part {
                    text: lossy(&std::mem::take(&mut text)),
                    access: Some(access),
                });
            }
        }
    }
    // Only non-empty trailing text makes a part, so `${a}` is exactly one part (a Symbol).
    if !text.is_empty() {
        parts.push(Part {
            text: lossy(&text),
            access: None,
        });
    }
    (Template { parts }, scanner.errors)
}

/// Parses a bare property path such as `a.b[0]["k"]` with the grammar used inside `${`, except
/// that it ends at the end of input. An empty input yields no accessors (and no diagnostic); a
/// `}` or whitespace byte ends the path early with a `PATH_STOPPED` error covering the rest.
pub(crate) fn parse_access_path(s: &str) -> (Vec<Accessor>, Vec<TemplateError>) {
    let mut scanner = Scanner::new(s.as_bytes());
    let stopped = scanner.steps(scanner.src, Mode::Path);
    (stopped.accessors, scanner.errors)
}

/// Decides between literal, symbol and interpolation (spec §3.2).
pub(crate) fn classify(t: Template) -> Classified {
    match <[Part; 1]>::try_from(t.parts) {
        Ok([Part { text, access: None }]) => Classified::Literal(text),
        // The whole string is `${…}`: it keeps the referenced value's type, even after errors.
        Ok(
            [
                Part {
                    text,
                    access: Some(access),
                },
            ],
        ) if text.is_empty() => Classified::Symbol(access),
        Ok([part]) => Classified::Interpolate(Template { parts: vec![part] }),
        Err(parts) if parts.is_empty() => Classified::Literal(String::new()),
        Err(parts) => Classified::Interpolate(Template { parts }),
    }
}

#[cfg(test)]
/// A compact, unambiguous rendering used by the examples in `grammar/template.ebnf`:
///
/// * parts separated by one space; a part is its text as a quoted string (omitted when empty and
///   followed by an access), then its access as `${acc acc …}@start..end`;
/// * accessors: `."name"`, `["key"]` or `[index]`, each followed by `@start..end`;
/// * a template without parts renders as `-`;
/// * if there are diagnostics: ` !` then `code@start..end` for each, in order (see `error_code`).
///
/// Quoted strings escape `"`, `\`, control characters, U+0085 and U+00A0 (see `quote`).
pub(crate) fn render_debug(t: &Template, errs: &[TemplateError]) -> String {
    let mut items = Vec::new();
    for part in &t.parts {
        if !part.text.is_empty() || part.access.is_none() {
            items.push(quote(&part.text));
        }
        if let Some(access) = &part.access {
            let accessors: Vec<String> = access.accessors.iter().map(render_accessor).collect();
            items.push(format!(
                "${{{}}}{}",
                accessors.join(" "),
                render_range(&access.range)
            ));
        }
    }
    if items.is_empty() {
        items.push("-".to_owned());
    }
    if !errs.is_empty() {
        items.push("!".to_owned());
        items.extend(
            errs.iter()
                .map(|e| format!("{}{}", error_code(e.message), render_range(&e.range))),
        );
    }
    items.join(" ")
}

#[cfg(test)]
fn render_accessor(accessor: &Accessor) -> String {
    let kind = match &accessor.kind {
        AccessorKind::Name(name) => format!(".{}", quote(name)),
        AccessorKind::Key(key) => format!("[{}]", quote(key)),
        AccessorKind::Index(index) => format!("[{index}]"),
    };
    kind + &render_range(&accessor.range)
}

#[cfg(test)]
fn render_range(range: &Range<usize>) -> String {
    format!("@{}..{}", range.start, range.end)
}

#[cfg(test)]
/// Short names for the diagnostics in renderings; an unknown message is shown quoted.
fn error_code(message: &str) -> String {
    let code = match message {
        MISSING_BRACE => "brace",
        EMPTY_NAME => "empty-name",
        MISSING_BRACKET => "bracket",
        MISSING_QUOTE => "quote",
        EMPTY_KEY => "empty-key",
        BAD_INDEX => "bad-index",
        NUMERIC_ROOT => "numeric-root",
        PATH_STOPPED => "path-stopped",
        other => return quote(other),
    };
    code.to_owned()
}

#[cfg(test)]
/// Quotes `s` with `\"`, `\\`, `\n`, `\r`, `\t` and `\u{hex}` escapes. U+0085 and U+00A0 are
/// escaped too because they are the characters the byte-oriented scan treats specially.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{a0}' => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------------
// Lexical pieces (nom). They work on bytes and never report errors of their own.

type In<'a> = &'a [u8];
type Lexed<'a, O> = IResult<In<'a>, O, ()>;

/// Go's `unicode.IsSpace(rune(b))` for a single byte.
fn is_ws(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | b' ' | 0x85 | 0xA0)
}

fn ends_name(b: u8) -> bool {
    matches!(b, b'.' | b'[' | b'}') || is_ws(b)
}

fn ends_index(b: u8) -> bool {
    b == b']' || ends_name(b)
}

#[derive(Clone)]
enum Piece<'a> {
    /// Bytes copied verbatim (a run without `$`, or a lone `$`).
    Text(In<'a>),
    /// `$$`, which takes precedence over `${`.
    Dollar,
    /// `${`
    Open,
}

fn piece(i: In<'_>) -> Lexed<'_, Piece<'_>> {
    alt((
        value(Piece::Dollar, tag("$$")),
        value(Piece::Open, tag("${")),
        map(alt((take_till1(|b| b == b'$'), take(1usize))), Piece::Text),
    ))
    .parse(i)
}

/// The body of a quoted key up to (not including) the closing quote or end of input. Only `\"`
/// is an escape; any other backslash is kept, so a key can never end with a backslash.
fn key_body(i: In<'_>) -> Lexed<'_, Vec<u8>> {
    fold_many0(
        alt((
            value(&b"\""[..], tag("\\\"")),
            take_till1(|b| b == b'"' || b == b'\\'),
            tag("\\"),
        )),
        Vec::new,
        |mut key, chunk: In<'_>| {
            key.extend_from_slice(chunk);
            key
        },
    )
    .parse(i)
}

/// Runs a lexer that accepts every input (possibly consuming nothing). The fallback is never
/// taken; it only keeps the scanner free of panics.
fn lex<'a, O: Default>(
    mut lexer: impl Parser<In<'a>, Output = O, Error = ()>,
    i: In<'a>,
) -> (In<'a>, O) {
    lexer.parse(i).unwrap_or((i, O::default()))
}

/// Go's `strconv.ParseInt(text, 10, 64)`: optional sign, ASCII digits, must fit in `i64`.
/// Rust's `i64::from_str` accepts exactly that language.
fn parse_index(text: &[u8]) -> Option<i64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------------------------------
// The access driver.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Inside `${`: ends at `}` (consumed), or with an error at whitespace or end of input.
    Interpolation,
    /// A bare path: ends at end of input.
    Path,
}

/// Where the step loop ended.
struct Stopped<'a> {
    rest: In<'a>,
    /// Offset of the byte that ended the access (the `}`, whitespace or end of input).
    at: usize,
    accessors: Vec<Accessor>,
}

struct Scanner<'a> {
    src: In<'a>,
    errors: Vec<TemplateError>,
}

impl<'a> Scanner<'a> {
    fn new(src: In<'a>) -> Self {
        Scanner {
            src,
            errors: Vec::new(),
        }
    }

    /// Offset of `rest`, which is always a suffix of `src`.
    fn at(&self, rest: In<'a>) -> usize {
        self.src.len().saturating_sub(rest.len())
    }

    fn error(&mut self, message: &'static str, range: Range<usize>) {
        self.errors.push(TemplateError { message, range });
    }

    /// Parses the access after a `${` whose `$` is at `dollar`.
    fn interpolation(&mut self, dollar: usize, body: In<'a>) -> (In<'a>, Access) {
        let Stopped {
            rest,
            at,
            mut accessors,
        } = self.steps(body, Mode::Interpolation);
        let end = self.at(rest);
        if accessors.is_empty() {
            // `${}`, `${` and `${ x}` still denote a (bad) root reference; evaluation reports it.
            accessors.push(Accessor {
                kind: AccessorKind::Name(String::new()),
                range: at..end,
            });
        }
        let access = Access {
            range: dollar..end,
            accessors,
        };
        (rest, access)
    }

    fn steps(&mut self, mut i: In<'a>, mode: Mode) -> Stopped<'a> {
        let mut accessors = Vec::new();
        let at = loop {
            let here = self.at(i);
            let (rest, accessor) = match i.split_first() {
                None => {
                    if mode == Mode::Interpolation {
                        self.error(MISSING_BRACE, here..here);
                    }
                    break here;
                }
                Some((&b'}', rest)) if mode == Mode::Interpolation => {
                    i = rest;
                    break here;
                }
                Some((&b, _)) if b == b'}' || is_ws(b) => {
                    match mode {
                        // Whitespace is not consumed: it and what follows become literal text.
                        Mode::Interpolation => self.error(MISSING_BRACE, here..here),
                        Mode::Path => self.error(PATH_STOPPED, here..self.src.len()),
                    }
                    break here;
                }
                Some((&b'.', rest)) => self.dotted_name(here, rest),
                Some((&b'[', rest)) => self.subscript(here, rest, accessors.is_empty()),
                // A bare name may follow any step, so `a["b"]c` is `a`, `["b"]`, `c`.
                Some(_) => self.bare_name(i),
            };
            i = rest;
            accessors.push(accessor);
        };
        Stopped {
            rest: i,
            at,
            accessors,
        }
    }

    /// `.name`; the range includes the dot. An empty name is an error but still an accessor.
    fn dotted_name(&mut self, dot: usize, after_dot: In<'a>) -> (In<'a>, Accessor) {
        let (rest, name) = lex(take_till(ends_name), after_dot);
        if name.is_empty() {
            self.error(EMPTY_NAME, dot..dot + 1);
        }
        let accessor = Accessor {
            kind: AccessorKind::Name(lossy(name)),
            range: dot..self.at(rest),
        };
        (rest, accessor)
    }

    /// A name without a leading dot; the caller has checked its first byte is a name byte.
    fn bare_name(&self, i: In<'a>) -> (In<'a>, Accessor) {
        let start = self.at(i);
        let (rest, name) = lex(take_till(ends_name), i);
        let accessor = Accessor {
            kind: AccessorKind::Name(lossy(name)),
            range: start..self.at(rest),
        };
        (rest, accessor)
    }

    /// `[…]` whose `[` is at `open`; `first` tells whether this is the access's first step.
    fn subscript(&mut self, open: usize, body: In<'a>, first: bool) -> (In<'a>, Accessor) {
        let (i, kind) = match body.split_first() {
            Some((&b'"', key)) => self.quoted_key(open + 1, key),
            _ => self.index(open, body, first),
        };
        // The content's diagnostics come first, then the bracket's (spec §3.6 scan order).
        let (rest, close) = lex(opt(tag("]")), i);
        if close.is_none() {
            self.error(MISSING_BRACKET, open..self.at(rest));
        }
        let accessor = Accessor {
            kind,
            range: open..self.at(rest),
        };
        (rest, accessor)
    }

    /// `"key"` (after the opening quote at `quote`).
    fn quoted_key(&mut self, quote: usize, body: In<'a>) -> (In<'a>, AccessorKind) {
        let (i, key) = lex(key_body, body);
        let (rest, closing) = lex(opt(tag("\"")), i);
        let end = self.at(rest);
        if closing.is_none() {
            self.error(MISSING_QUOTE, quote..end);
        } else if key.is_empty() {
            self.error(EMPTY_KEY, quote..end);
        }
        (rest, AccessorKind::Key(lossy(&key)))
    }

    /// Unquoted subscript text: an integer index, or else a string key holding the raw text.
    fn index(&mut self, open: usize, body: In<'a>, first: bool) -> (In<'a>, AccessorKind) {
        let begin = self.at(body);
        let (rest, text) = lex(take_till(ends_index), body);
        let end = self.at(rest);
        let kind = if let Some(index) = parse_index(text) {
            if first {
                self.error(NUMERIC_ROOT, open..end);
            }
            AccessorKind::Index(index)
        } else {
            self.error(BAD_INDEX, begin..end);
            AccessorKind::Key(lossy(text))
        };
        (rest, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str, range: Range<usize>) -> Accessor {
        Accessor {
            kind: AccessorKind::Name(s.to_owned()),
            range,
        }
    }

    fn key(s: &str, range: Range<usize>) -> Accessor {
        Accessor {
            kind: AccessorKind::Key(s.to_owned()),
            range,
        }
    }

    fn index(i: i64, range: Range<usize>) -> Accessor {
        Accessor {
            kind: AccessorKind::Index(i),
            range,
        }
    }

    fn err(message: &'static str, range: Range<usize>) -> TemplateError {
        TemplateError { message, range }
    }

    fn part(text: &str, access: Option<(Range<usize>, Vec<Accessor>)>) -> Part {
        Part {
            text: text.to_owned(),
            access: access.map(|(range, accessors)| Access { range, accessors }),
        }
    }

    fn check(input: &str, parts: Vec<Part>, errors: Vec<TemplateError>) {
        assert_eq!(
            parse_template(input),
            (Template { parts }, errors),
            "{input:?}"
        );
    }

    /// The accessors of a string that is a single `${…}`, with its diagnostics.
    fn symbol(input: &str) -> (Vec<Accessor>, Vec<TemplateError>) {
        let (t, errs) = parse_template(input);
        match classify(t) {
            Classified::Symbol(access) => {
                assert_eq!(access.range.start, 0);
                (access.accessors, errs)
            }
            other => panic!("{input:?} is not a symbol: {other:?}"),
        }
    }

    // --- §3.6 worked examples (value offset 0 = column 7 of the spec's line) ---

    #[test]
    fn open_only() {
        check(
            "${",
            vec![part("", Some((0..2, vec![name("", 2..2)])))],
            vec![err(MISSING_BRACE, 2..2)],
        );
    }

    #[test]
    fn empty_braces() {
        check(
            "${}",
            vec![part("", Some((0..3, vec![name("", 2..3)])))],
            vec![],
        );
    }

    #[test]
    fn trailing_dot() {
        check(
            "${foo.",
            vec![part(
                "",
                Some((0..6, vec![name("foo", 2..5), name("", 5..6)])),
            )],
            vec![err(EMPTY_NAME, 5..6), err(MISSING_BRACE, 6..6)],
        );
    }

    #[test]
    fn unterminated() {
        check(
            "unterminated ${interpolation",
            vec![part(
                "unterminated ",
                Some((13..28, vec![name("interpolation", 15..28)])),
            )],
            vec![err(MISSING_BRACE, 28..28)],
        );
    }

    #[test]
    fn missing_property_name() {
        check(
            "missing ${property.} name",
            vec![
                part(
                    "missing ",
                    Some((8..20, vec![name("property", 10..18), name("", 18..19)])),
                ),
                part(" name", None),
            ],
            vec![err(EMPTY_NAME, 18..19)],
        );
    }

    #[test]
    fn missing_subscript() {
        // Scan order: the numeric error precedes the bracket error.
        check(
            "missing ${property[} subscript",
            vec![
                part(
                    "missing ",
                    Some((8..20, vec![name("property", 10..18), key("", 18..19)])),
                ),
                part(" subscript", None),
            ],
            vec![err(BAD_INDEX, 19..19), err(MISSING_BRACKET, 18..19)],
        );
    }

    #[test]
    fn missing_closing_quote() {
        // The spec's table lists bracket, quote, brace (sorted by column); the scan emits the
        // quote error first, as it is found before the bracket is looked for.
        check(
            "missing ${closing[\"quote",
            vec![part(
                "missing ",
                Some((8..24, vec![name("closing", 10..17), key("quote", 17..24)])),
            )],
            vec![
                err(MISSING_QUOTE, 18..24),
                err(MISSING_BRACKET, 17..24),
                err(MISSING_BRACE, 24..24),
            ],
        );
    }

    #[test]
    fn non_numeric_subscript_becomes_key() {
        check(
            "invalid ${integer[subscript]}",
            vec![part(
                "invalid ",
                Some((
                    8..29,
                    vec![name("integer", 10..17), key("subscript", 17..28)],
                )),
            )],
            vec![err(BAD_INDEX, 18..27)],
        );
    }

    #[test]
    fn quote_swallows_bracket_and_brace() {
        check(
            "${open[\"foo]}",
            vec![part(
                "",
                Some((0..13, vec![name("open", 2..6), key("foo]}", 6..13)])),
            )],
            vec![
                err(MISSING_QUOTE, 7..13),
                err(MISSING_BRACKET, 6..13),
                err(MISSING_BRACE, 13..13),
            ],
        );
    }

    #[test]
    fn numeric_root() {
        check(
            "${[2]}",
            vec![part("", Some((0..6, vec![index(2, 2..5)])))],
            vec![err(NUMERIC_ROOT, 2..4)],
        );
    }

    #[test]
    fn empty_name_between_steps() {
        check(
            "${2.[\"bad\"]}",
            vec![part(
                "",
                Some((
                    0..12,
                    vec![name("2", 2..3), name("", 3..4), key("bad", 4..11)],
                )),
            )],
            vec![err(EMPTY_NAME, 3..4)],
        );
    }

    // --- §3.2 classification ---

    #[test]
    fn classify_examples() {
        let class = |s: &str| classify(parse_template(s).0);
        let a = || Some((0..4, vec![name("a", 2..3)]));
        assert_eq!(
            class("${a}${b}"),
            Classified::Interpolate(Template {
                parts: vec![part("", a()), part("", Some((4..8, vec![name("b", 6..7)])))]
            })
        );
        assert_eq!(
            class("${a}}"),
            Classified::Interpolate(Template {
                parts: vec![part("", a()), part("}", None)]
            })
        );
        assert_eq!(
            class("${a} "),
            Classified::Interpolate(Template {
                parts: vec![part("", a()), part(" ", None)]
            })
        );
        assert_eq!(class("$${foo}"), Classified::Literal("${foo}".to_owned()));
        assert_eq!(class("a$$b$"), Classified::Literal("a$b$".to_owned()));
        assert_eq!(class(""), Classified::Literal(String::new()));
        assert_eq!(class("plain"), Classified::Literal("plain".to_owned()));
        assert_eq!(
            class("x${a}"),
            Classified::Interpolate(Template {
                parts: vec![part("x", Some((1..5, vec![name("a", 3..4)])))]
            })
        );
        // A lone `${…}` is a symbol even with syntax errors.
        assert!(matches!(class("${"), Classified::Symbol(_)));
        assert!(matches!(class("${a.}"), Classified::Symbol(_)));
    }

    #[test]
    fn dollar_escapes() {
        check("$$$", vec![part("$$", None)], vec![]);
        check("$", vec![part("$", None)], vec![]);
        check("a$b", vec![part("a$b", None)], vec![]);
        check("$${", vec![part("${", None)], vec![]);
        check(
            "$$${a}",
            vec![part("$", Some((2..6, vec![name("a", 4..5)])))],
            vec![],
        );
        // No backslash escape in templates.
        check(
            "\\${a}",
            vec![part("\\", Some((1..5, vec![name("a", 3..4)])))],
            vec![],
        );
    }

    // --- §3.4 quirks ---

    #[test]
    fn bare_name_after_subscript() {
        assert_eq!(
            symbol("${a[\"b\"]c}"),
            (
                vec![name("a", 2..3), key("b", 3..8), name("c", 8..9)],
                vec![]
            )
        );
        assert_eq!(
            symbol("${a[0]b}"),
            (
                vec![name("a", 2..3), index(0, 3..6), name("b", 6..7)],
                vec![]
            )
        );
    }

    #[test]
    fn leading_dot_at_root() {
        assert_eq!(symbol("${.x}"), (vec![name("x", 2..4)], vec![]));
        assert_eq!(
            symbol("${.}"),
            (vec![name("", 2..3)], vec![err(EMPTY_NAME, 2..3)])
        );
    }

    #[test]
    fn double_dot() {
        assert_eq!(
            symbol("${a..b}"),
            (
                vec![name("a", 2..3), name("", 3..4), name("b", 4..6)],
                vec![err(EMPTY_NAME, 3..4)]
            )
        );
    }

    #[test]
    fn leading_space() {
        check(
            "${ a}",
            vec![
                part("", Some((0..2, vec![name("", 2..2)]))),
                part(" a}", None),
            ],
            vec![err(MISSING_BRACE, 2..2)],
        );
    }

    #[test]
    fn space_after_name() {
        check(
            "${a b}",
            vec![
                part("", Some((0..3, vec![name("a", 2..3)]))),
                part(" b}", None),
            ],
            vec![err(MISSING_BRACE, 3..3)],
        );
        // Every Go whitespace byte stops the access: tab, newline, CR, VT, FF.
        for ws in ["\t", "\n", "\r", "\u{b}", "\u{c}"] {
            let input = format!("${{a{ws}}}");
            check(
                &input,
                vec![
                    part("", Some((0..3, vec![name("a", 2..3)]))),
                    part(&format!("{ws}}}"), None),
                ],
                vec![err(MISSING_BRACE, 3..3)],
            );
        }
    }

    #[test]
    fn integer_subscripts() {
        for (text, value) in [
            ("0", 0),
            ("-1", -1),
            ("+1", 1),
            ("01", 1),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ] {
            let input = format!("${{a[{text}]}}");
            let end = 4 + text.len();
            assert_eq!(
                symbol(&input),
                (vec![name("a", 2..3), index(value, 3..end + 1)], vec![]),
                "{input}"
            );
        }
    }

    #[test]
    fn non_integer_subscripts_become_keys() {
        for text in [
            "0x1",
            "1_0",
            "abc",
            "99999999999999999999",
            "9223372036854775808",
            "+",
            "-",
            "+-1",
            "1e3",
            "a\"b",
        ] {
            let input = format!("${{a[{text}]}}");
            let end = 4 + text.len();
            assert_eq!(
                symbol(&input),
                (
                    vec![name("a", 2..3), key(text, 3..end + 1)],
                    vec![err(BAD_INDEX, 4..end)]
                ),
                "{input}"
            );
        }
    }

    #[test]
    fn empty_subscript() {
        assert_eq!(
            symbol("${a[]}"),
            (
                vec![name("a", 2..3), key("", 3..5)],
                vec![err(BAD_INDEX, 4..4)]
            )
        );
    }

    #[test]
    fn index_text_stops_at_dot_and_bracket() {
        // `[1.x]`: the index ends at `.`, the bracket is missing, then `.x]` (`]` is a name byte).
        assert_eq!(
            symbol("${a[1.x]}"),
            (
                vec![name("a", 2..3), index(1, 3..5), name("x]", 5..8)],
                vec![err(MISSING_BRACKET, 3..5)]
            )
        );
        assert_eq!(
            symbol("${a[1[2]}"),
            (
                vec![name("a", 2..3), index(1, 3..5), index(2, 5..8)],
                vec![err(MISSING_BRACKET, 3..5)]
            )
        );
    }

    #[test]
    fn numeric_root_without_bracket() {
        assert_eq!(
            symbol("${[2}"),
            (
                vec![index(2, 2..4)],
                vec![err(NUMERIC_ROOT, 2..4), err(MISSING_BRACKET, 2..4)]
            )
        );
        // Only the first step is checked.
        assert_eq!(
            symbol("${a[2][3]}"),
            (
                vec![name("a", 2..3), index(2, 3..6), index(3, 6..9)],
                vec![]
            )
        );
        // A non-numeric root subscript is a key, which is allowed at the root.
        assert_eq!(
            symbol("${[x]}"),
            (vec![key("x", 2..5)], vec![err(BAD_INDEX, 3..4)])
        );
    }

    #[test]
    fn quoted_keys() {
        assert_eq!(symbol("${[\"34\"]}"), (vec![key("34", 2..8)], vec![]));
        assert_eq!(
            symbol(r#"${a["x\y"]}"#),
            (vec![name("a", 2..3), key("x\\y", 3..10)], vec![])
        );
        assert_eq!(
            symbol(r#"${a["x\"y"]}"#),
            (vec![name("a", 2..3), key("x\"y", 3..11)], vec![])
        );
        assert_eq!(
            symbol(r#"${a["a.b[c] }"]}"#),
            (vec![name("a", 2..3), key("a.b[c] }", 3..15)], vec![])
        );
        // `\\"` is a kept backslash then an escaped quote, so the key never closes.
        assert_eq!(
            symbol(r#"${a["x\\"]}"#),
            (
                vec![name("a", 2..3), key("x\\\"]}", 3..11)],
                vec![
                    err(MISSING_QUOTE, 4..11),
                    err(MISSING_BRACKET, 3..11),
                    err(MISSING_BRACE, 11..11)
                ]
            )
        );
    }

    #[test]
    fn empty_quoted_key() {
        assert_eq!(
            symbol(r#"${a[""]}"#),
            (
                vec![name("a", 2..3), key("", 3..7)],
                vec![err(EMPTY_KEY, 4..6)]
            )
        );
        // Unclosed: only the missing-quote error (see the report's guesses).
        assert_eq!(
            symbol(r#"${a[""#),
            (
                vec![name("a", 2..3), key("", 3..5)],
                vec![
                    err(MISSING_QUOTE, 4..5),
                    err(MISSING_BRACKET, 3..5),
                    err(MISSING_BRACE, 5..5)
                ]
            )
        );
    }

    #[test]
    fn quoted_key_without_bracket() {
        assert_eq!(
            symbol(r#"${a["b"c]}"#),
            (
                vec![name("a", 2..3), key("b", 3..7), name("c]", 7..9)],
                vec![err(MISSING_BRACKET, 3..7)]
            )
        );
    }

    #[test]
    fn odd_name_bytes() {
        for n in ["a-b", "a]b", "$x", "a\"b", "a{b", "é", "日本"] {
            let input = format!("${{{n}}}");
            assert_eq!(
                symbol(&input),
                (vec![name(n, 2..2 + n.len())], vec![]),
                "{input}"
            );
        }
    }

    #[test]
    fn non_ascii_whitespace_bytes_split_characters() {
        // `à` = C3 A0: the A0 byte stops the name after C3.
        check(
            "${à}",
            vec![
                part("", Some((0..3, vec![name("\u{fffd}", 2..3)]))),
                part("\u{fffd}}", None),
            ],
            vec![err(MISSING_BRACE, 3..3)],
        );
        // `你` = E4 BD A0.
        check(
            "${你}",
            vec![
                part("", Some((0..4, vec![name("\u{fffd}", 2..4)]))),
                part("\u{fffd}}", None),
            ],
            vec![err(MISSING_BRACE, 4..4)],
        );
        // U+0085 = C2 85 and U+00A0 = C2 A0.
        for c in ['\u{85}', '\u{a0}'] {
            check(
                &format!("${{a{c}}}"),
                vec![
                    part("", Some((0..4, vec![name("a\u{fffd}", 2..4)]))),
                    part("\u{fffd}}", None),
                ],
                vec![err(MISSING_BRACE, 4..4)],
            );
        }
        // Inside a quoted key the bytes are harmless.
        assert_eq!(symbol("${[\"à\"]}"), (vec![key("à", 2..8)], vec![]));
    }

    #[test]
    fn access_paths() {
        assert_eq!(
            parse_access_path(r#"a.b[0]["k"]"#),
            (
                vec![
                    name("a", 0..1),
                    name("b", 1..3),
                    index(0, 3..6),
                    key("k", 6..11)
                ],
                vec![]
            )
        );
        assert_eq!(parse_access_path(""), (vec![], vec![]));
        assert_eq!(
            parse_access_path("[0]"),
            (vec![index(0, 0..3)], vec![err(NUMERIC_ROOT, 0..2)])
        );
        assert_eq!(
            parse_access_path("a["),
            (
                vec![name("a", 0..1), key("", 1..2)],
                vec![err(BAD_INDEX, 2..2), err(MISSING_BRACKET, 1..2)]
            )
        );
        assert_eq!(
            parse_access_path("a b"),
            (vec![name("a", 0..1)], vec![err(PATH_STOPPED, 1..3)])
        );
        assert_eq!(
            parse_access_path("a}"),
            (vec![name("a", 0..1)], vec![err(PATH_STOPPED, 1..2)])
        );
    }

    // --- robustness ---

    fn assert_in_bounds(range: &Range<usize>, len: usize, what: &str) {
        assert!(
            range.start <= range.end && range.end <= len,
            "{what}: {range:?} vs {len}"
        );
    }

    #[test]
    fn generated_inputs_do_not_panic() {
        const ALPHABET: [&str; 14] = [
            "$", "{", "}", "[", "]", ".", "\"", "\\", "a", "0", "-", " ", "à", "$",
        ];
        // xorshift64*: deterministic and dependency-free.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        let pick = |n: u64, len: usize| usize::try_from(n % len as u64).unwrap_or(0);
        for _ in 0..5000 {
            let len = pick(next(), 24);
            let input: String = (0..len)
                .map(|_| ALPHABET[pick(next(), ALPHABET.len())])
                .collect();
            let n = input.len();
            let (t, errs) = parse_template(&input);
            for e in &errs {
                assert_in_bounds(&e.range, n, &input);
            }
            let mut last_end = 0;
            for p in &t.parts {
                if let Some(a) = &p.access {
                    assert_in_bounds(&a.range, n, &input);
                    assert!(a.range.start >= last_end, "{input:?}");
                    assert!(!a.accessors.is_empty(), "{input:?}");
                    last_end = a.range.end;
                    for acc in &a.accessors {
                        assert_in_bounds(&acc.range, n, &input);
                        assert!(acc.range.start >= a.range.start + 2, "{input:?}");
                        assert!(acc.range.end <= a.range.end, "{input:?}");
                    }
                }
            }
            // Rendering and classification must cope with anything the parser produces.
            let _ = render_debug(&t, &errs);
            let _ = classify(t);
            let (accessors, errs) = parse_access_path(&input);
            for e in &errs {
                assert_in_bounds(&e.range, n, &input);
            }
            for acc in &accessors {
                assert_in_bounds(&acc.range, n, &input);
            }
        }
    }

    // --- the examples in grammar/template.ebnf ---

    /// Inverse of `quote` for the example inputs.
    fn unquote(s: &str) -> String {
        let inner = s
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or_else(|| panic!("not a quoted string: {s}"));
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    let hex = hex
                        .strip_prefix('{')
                        .unwrap_or_else(|| panic!("bad escape in {s}"));
                    let code = u32::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("{s}: {e}"));
                    out.push(char::from_u32(code).unwrap_or_else(|| panic!("bad char in {s}")));
                }
                other => panic!("bad escape {other:?} in {s}"),
            }
        }
        out
    }

    #[test]
    fn quote_round_trips() {
        for s in ["", "a\"b\\c", "\t\n\r\u{0}\u{85}\u{a0}à你", "${x}"] {
            assert_eq!(unquote(&quote(s)), s);
        }
    }

    #[test]
    fn grammar_examples() {
        const GRAMMAR: &str = include_str!("../../grammar/template.ebnf");
        let mut count = 0;
        for line in GRAMMAR.lines() {
            let Some(example) = line.strip_prefix("(* example: ") else {
                continue;
            };
            let example = example
                .strip_suffix(" *)")
                .unwrap_or_else(|| panic!("unterminated example: {line}"));
            // The input is a quoted string, so the first `" => ` after it ends it.
            let split = example
                .find("\" => ")
                .unwrap_or_else(|| panic!("no ` => ` in example: {line}"));
            let input = unquote(&example[..=split]);
            let expected = &example[split + 5..];
            let (t, errs) = parse_template(&input);
            assert_eq!(render_debug(&t, &errs), expected, "example {input:?}");
            count += 1;
        }
        assert!(count >= 15, "only {count} examples");
    }
}
