//! Byte [`Span`]s to LSP positions and back.
//!
//! LSP positions are a zero-based line and a column counted in the negotiated encoding's
//! code units: UTF-16 by default, UTF-8 (bytes) when the client offers it. Lines end at
//! `\n`, `\r\n` or a lone `\r`, as the protocol (and YAML) says. A column past the end of
//! its line means the end of the line; a line past the end of the text means the end of
//! the text; a column inside a character (between the two halves of a UTF-16 surrogate
//! pair) means the start of that character.

use tower_lsp_server::ls_types::{Position, PositionEncodingKind, Range};

use crate::source::Span;

/// How columns are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// UTF-8 code units (bytes).
    Utf8,
    /// UTF-16 code units (the protocol's default).
    Utf16,
}

impl Encoding {
    /// The encoding to use given what the client offers (in its order of preference): UTF-8
    /// when offered, else UTF-16.
    pub(crate) fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Self {
        if offered.is_some_and(|o| o.contains(&PositionEncodingKind::UTF8)) {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        }
    }

    /// The protocol's name for it.
    pub(crate) fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }
    }

    fn width(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        }
    }
}

/// The line starts of one text.
#[derive(Clone, Debug)]
pub(crate) struct LineMap {
    /// Byte offset of the first byte of every line.
    starts: Vec<usize>,
}

impl LineMap {
    /// Indexes `text`.
    pub(crate) fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    starts.push(i + 2);
                    i += 1;
                }
                b'\n' | b'\r' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineMap { starts }
    }

    /// The number of lines (a final line break opens an empty last line).
    #[cfg(test)]
    pub(crate) fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The byte range of line `line` (zero-based) without its line break.
    pub(crate) fn line_span(&self, text: &str, line: usize) -> Option<(usize, usize)> {
        let start = *self.starts.get(line)?;
        let mut end = self.starts.get(line + 1).copied().unwrap_or(text.len());
        let bytes = text.as_bytes();
        if end > start && bytes.get(end - 1) == Some(&b'\n') {
            end -= 1;
        }
        if end > start && bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        Some((start, end))
    }

    /// The zero-based line holding byte `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// The position of byte `offset` (clamped to the text, and moved back to the start of
    /// the character it falls into).
    pub(crate) fn position(&self, text: &str, offset: usize, enc: Encoding) -> Position {
        let offset = floor_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.starts[line];
        // An offset between the `\r` and `\n` of a line break is on the line it ends.
        let column = text.get(start..offset).map_or(0, |s| match enc {
            Encoding::Utf8 => s.len(),
            Encoding::Utf16 => s.chars().map(char::len_utf16).sum(),
        });
        Position::new(
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    /// The byte offset of `pos`.
    pub(crate) fn offset(&self, text: &str, pos: Position, enc: Encoding) -> usize {
        let Some((start, end)) = self.line_span(text, pos.line as usize) else {
            return text.len();
        };
        let want = pos.character as usize;
        let mut units = 0;
        for (i, c) in text[start..end].char_indices() {
            let w = enc.width(c);
            if units + w > want {
                return start + i;
            }
            units += w;
        }
        end
    }

    /// The range of `span`.
    pub(crate) fn range(&self, text: &str, span: Span, enc: Encoding) -> Range {
        Range::new(
            self.position(text, span.start(), enc),
            self.position(text, span.end().max(span.start()), enc),
        )
    }

    /// The span of `range` (a reversed range is taken as written the other way round).
    pub(crate) fn span(&self, text: &str, range: Range, enc: Encoding) -> Span {
        let a = self.offset(text, range.start, enc);
        let b = self.offset(text, range.end, enc);
        Span::new(a.min(b), a.max(b))
    }
}

/// The largest character boundary at or before `at`.
pub(crate) fn floor_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Applies one `didChange` content change (a replacement of `range`, or of the whole text
/// when there is no range).
pub(crate) fn apply_change(text: &mut String, range: Option<Range>, new: &str, enc: Encoding) {
    match range {
        None => new.clone_into(text),
        Some(range) => {
            let lines = LineMap::new(text);
            let span = lines.span(text, range, enc);
            text.replace_range(span.start()..span.end(), new);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position::new(line, character)
    }

    #[test]
    fn ascii_round_trip() {
        let text = "values:\n  a: 1\n";
        let m = LineMap::new(text);
        assert_eq!(m.line_count(), 3);
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            for offset in 0..=text.len() {
                let p = m.position(text, offset, enc);
                assert_eq!(m.offset(text, p, enc), offset, "{enc:?} {offset}");
            }
        }
        assert_eq!(m.position(text, 10, Encoding::Utf16), pos(1, 2));
    }

    #[test]
    fn utf16_counts_code_units() {
        // é is 2 bytes / 1 unit; 世 is 3 bytes / 1 unit; 😀 is 4 bytes / 2 units.
        let text = "a: é世😀x\n";
        let m = LineMap::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(m.position(text, x, Encoding::Utf16), pos(0, 7));
        assert_eq!(m.position(text, x, Encoding::Utf8), pos(0, 12));
        assert_eq!(m.offset(text, pos(0, 7), Encoding::Utf16), x);
        assert_eq!(m.offset(text, pos(0, 12), Encoding::Utf8), x);
        let emoji = text.find('😀').unwrap();
        assert_eq!(m.position(text, emoji, Encoding::Utf16), pos(0, 5));
        // Between the two halves of the surrogate pair: the start of the emoji.
        assert_eq!(m.offset(text, pos(0, 6), Encoding::Utf16), emoji);
        // Inside a multi-byte character in UTF-8: its start.
        assert_eq!(m.offset(text, pos(0, 10), Encoding::Utf8), emoji);
        // A byte offset inside a character maps to the character's start.
        assert_eq!(m.position(text, emoji + 1, Encoding::Utf16), pos(0, 5));
    }

    #[test]
    fn astral_round_trip() {
        let text = "𝔘: \"${𝔞.b}\"\r\n  - 😀😀 ${x}\n";
        let m = LineMap::new(text);
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            for (offset, c) in text.char_indices() {
                if c == '\n' && text[..offset].ends_with('\r') {
                    // Between `\r` and `\n`: not a position.
                    continue;
                }
                let p = m.position(text, offset, enc);
                assert_eq!(m.offset(text, p, enc), offset, "{enc:?} {offset}");
            }
        }
        let x = text.rfind('x').unwrap();
        assert_eq!(m.position(text, x, Encoding::Utf16), pos(1, 11));
    }

    #[test]
    fn crlf_and_lone_cr() {
        let text = "a: 1\r\nb: 2\rc: 3\n";
        let m = LineMap::new(text);
        assert_eq!(m.line_count(), 4);
        let b = text.find('b').unwrap();
        let c = text.find('c').unwrap();
        assert_eq!(m.position(text, b, Encoding::Utf16), pos(1, 0));
        assert_eq!(m.position(text, c, Encoding::Utf16), pos(2, 0));
        // The end of line 0 is before its `\r\n`.
        assert_eq!(m.offset(text, pos(0, 99), Encoding::Utf16), 4);
        assert_eq!(m.line_span(text, 0), Some((0, 4)));
        assert_eq!(m.line_span(text, 1), Some((6, 10)));
        // Past the last line: the end of the text.
        assert_eq!(m.offset(text, pos(9, 0), Encoding::Utf16), text.len());
        assert_eq!(m.position(text, text.len(), Encoding::Utf16), pos(3, 0));
    }

    #[test]
    fn spans_and_ranges() {
        let text = "values:\n  s: \"é ${a.b}\"\n";
        let m = LineMap::new(text);
        let start = text.find("${").unwrap();
        let span = Span::new(start, start + 6);
        let r = m.range(text, span, Encoding::Utf16);
        assert_eq!(r, Range::new(pos(1, 8), pos(1, 14)));
        assert_eq!(m.span(text, r, Encoding::Utf16), span);
        let r8 = m.range(text, span, Encoding::Utf8);
        assert_eq!(r8, Range::new(pos(1, 9), pos(1, 15)));
        // Reversed ranges are normalised.
        assert_eq!(
            m.span(text, Range::new(r.end, r.start), Encoding::Utf16),
            span
        );
    }

    #[test]
    fn incremental_changes() {
        let mut text = "values:\n  é: 😀x\n".to_owned();
        // Replace the `x` (after 😀: UTF-16 column 7) with `yz`.
        apply_change(
            &mut text,
            Some(Range::new(pos(1, 7), pos(1, 8))),
            "yz",
            Encoding::Utf16,
        );
        assert_eq!(text, "values:\n  é: 😀yz\n");
        apply_change(
            &mut text,
            Some(Range::new(pos(2, 0), pos(2, 0))),
            "description: d\n",
            Encoding::Utf16,
        );
        assert_eq!(text, "values:\n  é: 😀yz\ndescription: d\n");
        apply_change(&mut text, None, "new", Encoding::Utf16);
        assert_eq!(text, "new");
    }

    #[test]
    fn negotiation() {
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
        assert_eq!(
            Encoding::negotiate(Some(&[PositionEncodingKind::UTF16])),
            Encoding::Utf16
        );
        assert_eq!(
            Encoding::negotiate(Some(&[
                PositionEncodingKind::UTF16,
                PositionEncodingKind::UTF8
            ])),
            Encoding::Utf8
        );
    }
}
