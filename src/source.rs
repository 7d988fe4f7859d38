//! Source text, byte spans and line/column lookup.
//!
//! Every position in escc is a byte offset into one file's text ([`Span`]). Line and
//! column are derived only when something is shown to a person or compared with the
//! reference's golden data, through [`LineIndex`].

use std::sync::Arc;

use serde::Serialize;

/// A half-open byte range `[start, end)` into one source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    #[must_use]
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end, "span {start}..{end} is reversed");
        // Sources are limited to well under 4 GiB (see `syntax::Limits`), so offsets fit.
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// A zero-width span at `at`.
    #[must_use]
    pub fn empty(at: usize) -> Self {
        Span::new(at, at)
    }

    /// The start as a `usize` offset.
    #[must_use]
    pub fn start(self) -> usize {
        self.start as usize
    }

    /// The end as a `usize` offset.
    #[must_use]
    pub fn end(self) -> usize {
        self.end as usize
    }

    /// The number of bytes covered.
    #[must_use]
    pub fn len(self) -> usize {
        self.end() - self.start()
    }

    /// Whether the span covers no bytes.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The smallest span covering both.
    #[must_use]
    pub fn cover(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A 1-based line and column. The column counts Unicode code points, as the reference does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LineCol {
    /// 1-based line.
    pub line: u32,
    /// 1-based column in code points.
    pub column: u32,
}

/// Maps byte offsets of one text to lines and columns.
#[derive(Clone, Debug)]
pub struct LineIndex {
    /// Byte offset of the first byte of every line. Lines end at `\n` only.
    line_starts: Vec<u32>,
    /// Whether the text starts with a byte-order mark, which the reference does not count
    /// as a column.
    bom: bool,
}

impl LineIndex {
    /// Indexes `text`.
    #[must_use]
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        LineIndex {
            line_starts,
            bom: text.starts_with('\u{feff}'),
        }
    }

    /// The line and column of byte `offset` in `text` (the text this index was built from).
    #[must_use]
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = offset.min(text.len());
        let line = self
            .line_starts
            .partition_point(|&s| s as usize <= offset)
            .saturating_sub(1);
        let start = self.line_starts[line] as usize;
        let mut chars = text.get(start..offset).map_or_else(
            || lossy_char_count(text, start, offset),
            |s| s.chars().count(),
        );
        if line == 0 && self.bom && chars > 0 {
            chars -= 1;
        }
        LineCol {
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(chars + 1).unwrap_or(u32::MAX),
        }
    }

    /// The byte offset at which line `line` (1-based) starts, if it exists.
    #[must_use]
    pub fn line_start(&self, line: u32) -> Option<usize> {
        self.line_starts
            .get((line as usize).checked_sub(1)?)
            .map(|&s| s as usize)
    }

    /// The number of lines (a final `\n` opens an empty last line).
    #[must_use]
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// Counts characters between two offsets that may not sit on char boundaries.
fn lossy_char_count(text: &str, start: usize, end: usize) -> usize {
    text.as_bytes()[start..end]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
}

/// One environment's source: its name (the file name of every position in it) and text.
/// Cloning is cheap: the text and its line index are shared.
#[derive(Clone, Debug)]
pub struct Source {
    name: String,
    text: Arc<str>,
    index: Arc<LineIndex>,
}

impl Source {
    /// A source named `name` (the environment name, e.g. `app/dev`).
    #[must_use]
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source::shared(name, Arc::from(text.into()))
    }

    /// A source named `name` over `text`, shared rather than copied (a host's document
    /// text already is an `Arc<str>`).
    #[must_use]
    pub fn shared(name: impl Into<String>, text: Arc<str>) -> Self {
        let index = Arc::new(LineIndex::new(&text));
        Source {
            name: name.into(),
            text,
            index,
        }
    }

    /// The environment name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The line index.
    #[must_use]
    pub fn index(&self) -> &LineIndex {
        &self.index
    }

    /// Line and column of a byte offset.
    #[must_use]
    pub fn line_col(&self, offset: usize) -> LineCol {
        self.index.line_col(&self.text, offset)
    }

    /// The text a span covers (empty if the span is out of bounds).
    #[must_use]
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start()..span.end()).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_code_points() {
        let text = "a: b\n  世界: hello\n";
        let src = Source::new("t", text);
        let at = text.find("hello").unwrap();
        assert_eq!(src.line_col(at), LineCol { line: 2, column: 7 });
        assert_eq!(src.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(src.line_col(text.len()), LineCol { line: 3, column: 1 });
    }

    #[test]
    fn bom_is_not_a_column() {
        let text = "\u{feff}a: b\nc: d";
        let src = Source::new("t", text);
        assert_eq!(src.line_col(3), LineCol { line: 1, column: 1 });
        assert_eq!(
            src.line_col(text.find('b').unwrap()),
            LineCol { line: 1, column: 4 }
        );
    }

    #[test]
    fn crlf_lines() {
        let text = "a: b\r\nc: d\r\n";
        let src = Source::new("t", text);
        assert_eq!(
            src.line_col(text.find('c').unwrap()),
            LineCol { line: 2, column: 1 }
        );
    }
}
