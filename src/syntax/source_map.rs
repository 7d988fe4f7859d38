//! Where each byte of a decoded string scalar came from in the source.
//!
//! The reference can only place a `${...}` inside a single-line plain scalar; escaped,
//! quoted, folded and block strings get the whole node. escc maps every decoded character
//! back to the source bytes that produced it, so sub-spans are exact in every style. The
//! map is built on demand (only strings that contain an interpolation or an error need
//! it) by aligning the decoded text with the scalar's source, style by style.

use super::{Node, Style};
use crate::source::Span;

/// For a decoded string, the source span of each decoded byte offset.
#[derive(Clone, Debug)]
pub(crate) enum SourceMap<'a> {
    /// The decoded text is the source text `body`, which starts at offset `base`: most
    /// strings with an interpolation are written so, and need no tables.
    Verbatim { base: usize, body: &'a str },
    /// A table per decoded byte.
    Aligned {
        /// `starts[i]`: source offset where the character at decoded offset `i` starts;
        /// one extra entry at `decoded.len()` for the position just past the content.
        starts: Vec<u32>,
        /// `ends[i]`: source offset just after the character at decoded offset `i`.
        ends: Vec<u32>,
    },
}

impl<'a> SourceMap<'a> {
    /// Builds the map of `node` (a string scalar) whose decoded value is `decoded`, or
    /// `None` when the source cannot be aligned (then callers use the whole node's span).
    pub(crate) fn new(text: &'a str, node: &Node, decoded: &str) -> Option<SourceMap<'a>> {
        let raw = match node.style {
            // A block scalar's content can run past its span: a trailing line of spaces
            // deeper than the indentation is content, but the span ends at the last line
            // with text. The decoded text says how far the aligner reads.
            Style::Literal | Style::Folded => text.get(node.span.start()..)?,
            _ => text.get(node.span.start()..node.span.end())?,
        };
        let base = node.span.start();
        let (body_start, body) = body(raw, node.style)?;
        if is_verbatim(body, decoded, node.style) {
            return Some(SourceMap::Verbatim {
                base: base + body_start,
                body,
            });
        }
        let mut aligner = Aligner {
            src: body.as_bytes(),
            base: base + body_start,
            p: 0,
            style: node.style,
            indent: block_indent(body, node.style),
            at_line_start: matches!(node.style, Style::Literal | Style::Folded),
        };
        let mut starts = vec![0; decoded.len() + 1];
        let mut ends = vec![0; decoded.len() + 1];
        let bytes = decoded.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // Most of the text is a run of ASCII bytes that the source holds as they are:
            // map such a run one to one, and leave only what surrounds it to the aligner.
            let run = aligner.verbatim_run(&bytes[i..]);
            for (k, (start, end)) in starts[i..i + run]
                .iter_mut()
                .zip(&mut ends[i..i + run])
                .enumerate()
            {
                let at = aligner.base + aligner.p + k;
                *start = to_u32(at);
                *end = to_u32(at + 1);
            }
            i += run;
            aligner.p += run;
            let Some(c) = decoded[i..].chars().next() else {
                break;
            };
            let (s, e) = aligner.next(c)?;
            let len = c.len_utf8();
            starts[i..i + len].fill(to_u32(s));
            ends[i..i + len].fill(to_u32(e));
            i += len;
        }
        starts[decoded.len()] = to_u32(aligner.base + aligner.p);
        Some(SourceMap::Aligned { starts, ends })
    }

    /// The source span of the decoded byte range `[from, to)`. An offset inside a
    /// character widens to the whole character.
    pub(crate) fn span(&self, from: usize, to: usize) -> Span {
        match self {
            SourceMap::Verbatim { base, body } => {
                // What the tables of an aligned copy would give.
                let from = from.min(body.len());
                let to = to.min(body.len()).max(from);
                let start = base + body.floor_char_boundary(from);
                if to == from {
                    return Span::empty(start);
                }
                Span::new(start, base + body.ceil_char_boundary(to))
            }
            SourceMap::Aligned { starts, ends } => {
                let last = starts.len() - 1;
                let from = from.min(last);
                let to = to.min(last).max(from);
                let start = starts[from] as usize;
                if to == from {
                    return Span::empty(start);
                }
                let end = ends[to - 1] as usize;
                Span::new(start, end.max(start))
            }
        }
    }
}

/// Whether the aligner would map every decoded byte to the same byte of `body`: the texts
/// are equal, and `body` holds none of the bytes that make it skip or pair source bytes
/// (a line break, a double-quoted string's `\`, a single-quoted string's `'`). Block
/// scalars always strip indentation, so they are left to the aligner.
fn is_verbatim(body: &str, decoded: &str, style: Style) -> bool {
    let special = match style {
        Style::Plain | Style::Flow => b'\n',
        Style::DoubleQuoted => b'\\',
        Style::SingleQuoted => b'\'',
        Style::Literal | Style::Folded => return false,
    };
    body == decoded && !body.bytes().any(|b| b == b'\n' || b == special)
}

fn to_u32(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// The part of a scalar's source that holds its content, and where it starts: inside the
/// quotes, after a block header's line, after any anchor and tag.
fn body(raw: &str, style: Style) -> Option<(usize, &str)> {
    let skip = skip_properties(raw);
    let rest = &raw[skip..];
    match style {
        Style::Plain | Style::Flow => Some((skip, rest)),
        Style::SingleQuoted | Style::DoubleQuoted => {
            let inner = rest.get(1..rest.len().checked_sub(1)?)?;
            Some((skip + 1, inner))
        }
        Style::Literal | Style::Folded => {
            let nl = rest.find('\n')?;
            Some((skip + nl + 1, &rest[nl + 1..]))
        }
    }
}

/// Length of the leading `&anchor` / `!tag` properties and the spaces after them.
fn skip_properties(raw: &str) -> usize {
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b'&' | b'!') {
        while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
    }
    i
}

/// The content indentation of a block scalar: the leading spaces of its first non-empty
/// line.
fn block_indent(body: &str, style: Style) -> usize {
    if !matches!(style, Style::Literal | Style::Folded) {
        return 0;
    }
    body.lines()
        .find(|l| !l.trim().is_empty())
        .map_or(0, |l| l.len() - l.trim_start_matches(' ').len())
}

struct Aligner<'a> {
    src: &'a [u8],
    base: usize,
    p: usize,
    style: Style,
    indent: usize,
    at_line_start: bool,
}

impl Aligner<'_> {
    /// The length of the longest prefix of `decoded` that [`Aligner::next`] would map
    /// byte for byte to the source at `p`: ASCII bytes equal to the source's, none of
    /// which is a line break or the style's escape or quote, not at a line start.
    fn verbatim_run(&self, decoded: &[u8]) -> usize {
        if self.at_line_start {
            return 0;
        }
        let special = match self.style {
            Style::DoubleQuoted => b'\\',
            Style::SingleQuoted => b'\'',
            _ => b'\n',
        };
        decoded
            .iter()
            .zip(&self.src[self.p..])
            .take_while(|&(&d, &s)| d == s && d.is_ascii() && d != b'\n' && d != special)
            .count()
    }

    /// Finds the source bytes that produced the decoded character `c`.
    fn next(&mut self, c: char) -> Option<(usize, usize)> {
        loop {
            if self.at_line_start {
                let mut n = 0;
                while n < self.indent && self.src.get(self.p) == Some(&b' ') {
                    self.p += 1;
                    n += 1;
                }
                self.at_line_start = false;
            }
            let here = self.base + self.p;
            let Some(&s) = self.src.get(self.p) else {
                // A block scalar's kept final line breaks lie past its span.
                return (c == '\n').then_some((here, here));
            };
            if self.style == Style::DoubleQuoted && s == b'\\' {
                let (decoded, len) = unescape(&self.src[self.p..])?;
                match decoded {
                    // An escaped line break joins lines: skip it and the next indentation.
                    None => {
                        self.p += len;
                        self.skip_spaces();
                        continue;
                    }
                    Some(d) if d == c => {
                        self.p += len;
                        return Some((here, here + len));
                    }
                    Some(_) => return None,
                }
            }
            if self.style == Style::SingleQuoted && s == b'\'' && c == '\'' {
                if self.src.get(self.p + 1) == Some(&b'\'') {
                    self.p += 2;
                    return Some((here, here + 2));
                }
                return None;
            }
            // Most characters are ASCII and copied as they are: skip the UTF-8 comparison.
            let len = utf8_len(s);
            if (s.is_ascii() && u32::from(s) == u32::from(c))
                || self.src.get(self.p..self.p + len) == Some(c.encode_utf8(&mut [0; 4]).as_bytes())
            {
                self.p += len;
                if c == '\n' {
                    self.line_break_done();
                }
                return Some((here, here + len));
            }
            if matches!(c, ' ' | '\n') && matches!(s, b'\n' | b'\r') {
                // A folded line break.
                let end = self.consume_break();
                return Some((here, end));
            }
            if matches!(s, b' ' | b'\t' | b'\n' | b'\r') {
                // Whitespace the decoder dropped (trailing spaces, indentation, breaks).
                if matches!(s, b'\n' | b'\r') {
                    self.consume_break();
                } else {
                    self.p += 1;
                }
                continue;
            }
            return None;
        }
    }

    fn consume_break(&mut self) -> usize {
        if self.src.get(self.p) == Some(&b'\r') {
            self.p += 1;
        }
        if self.src.get(self.p) == Some(&b'\n') {
            self.p += 1;
        }
        let end = self.base + self.p;
        self.line_break_done();
        end
    }

    fn line_break_done(&mut self) {
        if matches!(self.style, Style::Literal | Style::Folded) {
            self.at_line_start = true;
        } else {
            self.skip_spaces();
        }
    }

    fn skip_spaces(&mut self) {
        while matches!(self.src.get(self.p), Some(b' ' | b'\t')) {
            self.p += 1;
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// Decodes one double-quoted escape at the start of `s` (which begins with `\`): the
/// character (or `None` for an escaped line break) and the escape's source length.
fn unescape(s: &[u8]) -> Option<(Option<char>, usize)> {
    let e = *s.get(1)?;
    let simple = |c: char| Some((Some(c), 2));
    match e {
        b'0' => simple('\0'),
        b'a' => simple('\u{7}'),
        b'b' => simple('\u{8}'),
        b't' | b'\t' => simple('\t'),
        b'n' => simple('\n'),
        b'v' => simple('\u{b}'),
        b'f' => simple('\u{c}'),
        b'r' => simple('\r'),
        b'e' => simple('\u{1b}'),
        b' ' => simple(' '),
        b'"' => simple('"'),
        b'/' => simple('/'),
        b'\\' => simple('\\'),
        b'N' => simple('\u{85}'),
        b'_' => simple('\u{a0}'),
        b'L' => simple('\u{2028}'),
        b'P' => simple('\u{2029}'),
        b'x' | b'u' | b'U' => {
            let n = match e {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let hex = std::str::from_utf8(s.get(2..2 + n)?).ok()?;
            let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
            Some((Some(c), 2 + n))
        }
        b'\n' => Some((None, 2)),
        b'\r' => Some((None, if s.get(2) == Some(&b'\n') { 3 } else { 2 })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;
    use crate::syntax::{Limits, NodeKind, parse};

    /// Parses `doc` (a one-entry mapping) and returns the text that the decoded range
    /// `[from, to)` of the value maps to in the source.
    fn mapped(doc: &str, needle: &str) -> String {
        let src = Source::new("t", doc);
        let parsed = parse(&src, &Limits::default());
        let root = parsed.root.unwrap();
        let NodeKind::Object(entries) = &root.kind else {
            panic!("not an object")
        };
        let value = &entries[0].value;
        let decoded = value.as_str().unwrap();
        let from = decoded.find(needle).unwrap();
        let map = SourceMap::new(doc, value, decoded).expect("aligned");
        let span = map.span(from, from + needle.len());
        src.slice(span).to_owned()
    }

    #[test]
    fn plain_and_quoted() {
        assert_eq!(mapped("a: x ${b.c} y\n", "${b.c}"), "${b.c}");
        assert_eq!(mapped("a: 'it''s ${b}'\n", "${b}"), "${b}");
        assert_eq!(mapped("a: 'it''s ${b}'\n", "'s"), "''s");
        assert_eq!(mapped("a: \"\\t${b}\"\n", "${b}"), "${b}");
        assert_eq!(mapped("a: \"\\u00e9${b}\"\n", "é${b}"), "\\u00e9${b}");
    }

    #[test]
    fn multi_line_styles() {
        assert_eq!(mapped("a: |\n  one\n  two ${x.y}\n", "${x.y}"), "${x.y}");
        assert_eq!(mapped("a: >\n  one\n  two ${x}\n", "${x}"), "${x}");
        assert_eq!(mapped("a: one\n  two ${x}\n", "${x}"), "${x}");
        assert_eq!(mapped("a: \"one\n  two \\\n  ${x}\"\n", "${x}"), "${x}");
        assert_eq!(mapped("a: &q !!str |-\n    k ${x}\n", "${x}"), "${x}");
        // Spaces and tabs that end a block scalar's last line are content.
        assert_eq!(mapped("a: |-\n  \t${x}\t\n", "${x}\t"), "${x}\t");
        // So are the spaces of a last line deeper than the indentation.
        assert_eq!(mapped("a: |-\n  ${x\n   \nb: 1\n", "${x\n "), "${x\n   ");
    }

    #[test]
    fn non_ascii_and_crlf() {
        assert_eq!(mapped("a: \"世界 ${x}\"\r\n", "${x}"), "${x}");
        assert_eq!(mapped("a: |\r\n  é\r\n  ${x}\r\n", "${x}"), "${x}");
    }
}
