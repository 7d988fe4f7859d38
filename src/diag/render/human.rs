//! The `human` format: a miette report per diagnostic, with a source excerpt.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Sources;
use crate::{Diagnostic, Source, Span};

/// In the text given to miette, a byte of a hidden span that is dropped after rendering.
/// miette gives it no width, so columns stay right.
const DROPPED: u8 = 0x1a;
/// In the text given to miette, a byte of a hidden span shorter than `[secret]`, shown as
/// `[secret]` after rendering.
const SHORT: u8 = 0x1c;
const SHOWN: &[u8] = b"[secret]";

/// Human rendering: a miette report per diagnostic, with a source excerpt (colour when
/// `color`), each followed by a blank line. A diagnostic without a span names its file.
#[must_use]
pub fn human(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    let mut hidden: BTreeMap<&str, Source> = BTreeMap::new();
    for d in diags {
        let report = match (sources.get(&d.environment), d.span) {
            (Some(shown), Some(span)) => {
                // Hidden spans are replaced byte for byte, so spans and lines still match.
                let shown_source = hidden.entry(d.environment.as_str()).or_insert_with(|| {
                    Source::new(shown.source.name(), hide(&shown.source, &shown.hidden))
                });
                let (excerpt, at) = Excerpt::new(&shown.file, shown_source, span);
                let mut d = d.clone();
                d.span = Some(at);
                miette::Report::new(d).with_source_code(excerpt)
            }
            _ => miette::Report::new(d.clone()),
        };
        let mut s = String::new();
        if handler.render_report(&mut s, report.as_ref()).is_ok() {
            out.push_str(&show_hidden(&s));
            out.push('\n');
        }
        if d.span.is_none() {
            // Without a source excerpt, say where it is.
            let _ = writeln!(out, "  (in {})\n", sources.file(&d.environment));
        }
    }
    out
}

/// A document's text with each line of each hidden span replaced by `[secret]` and bytes
/// the renderer drops, so byte offsets and lines stay as they were. Masking the rendered
/// excerpt afterwards is not enough: the renderer expands tabs, and a literal written with
/// escapes differs from its value.
fn hide(source: &Source, spans: &[Span]) -> String {
    let mut bytes = source.text().as_bytes().to_vec();
    for span in spans {
        let literal = bytes.get_mut(span.start()..span.end()).unwrap_or_default();
        for line in literal.split_mut(|b| matches!(b, b'\n' | b'\r')) {
            if line.len() >= SHOWN.len() {
                line[..SHOWN.len()].copy_from_slice(SHOWN);
                line[SHOWN.len()..].fill(DROPPED);
            } else if let Some((first, rest)) = line.split_first_mut() {
                *first = SHORT;
                rest.fill(DROPPED);
            }
        }
    }
    // Whole UTF-8 sequences are replaced (a literal's span starts and ends on character
    // boundaries), so the text stays valid.
    String::from_utf8(bytes).unwrap_or_default()
}

/// The rendered text of [`hide`]'s output, as it must be shown.
fn show_hidden(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match u8::try_from(c) {
            Ok(DROPPED) => {}
            Ok(SHORT) => out.push_str("[secret]"),
            _ => out.push(c),
        }
    }
    out
}
/// The most of a line a human report shows, in bytes; a longer span is shown by its start.
const SHOWN_BYTES: usize = 512;

/// What miette reads for one human report: the lines around the diagnostic's span (two on
/// each side; miette shows one), with long lines cut around the span. A report then costs
/// what it shows, not the size of the file (a 10 MiB scalar on one line, thousands of
/// diagnostics in a large file). Line numbers and the span's column are the file's.
struct Excerpt {
    name: String,
    text: String,
    /// The file's line number (0-based) of the excerpt's first line.
    first_line: usize,
    /// The span's line in the excerpt, and how many bytes of it were cut on the left
    /// (less the `…` put in their place).
    span_line: usize,
    cut: usize,
}

impl Excerpt {
    /// The excerpt for `span` in `source`, and the span in the excerpt.
    fn new(file: &str, source: &Source, span: Span) -> (Excerpt, Span) {
        let text = source.text();
        let index = source.index();
        let lines = index.line_count();
        // Line k (0-based) is [start(k), end(k)), its `\n` excluded.
        let start = |k: usize| {
            u32::try_from(k + 1)
                .ok()
                .and_then(|l| index.line_start(l))
                .unwrap_or(text.len())
        };
        let end = |k: usize| {
            if k + 1 < lines {
                start(k + 1) - 1
            } else {
                text.len()
            }
        };
        let s = floor(text, span.start().min(text.len()));
        let mut e = floor(text, span.end().min(text.len())).max(s);
        // The span's line: the last line that starts at or before it.
        let (mut lo, mut hi) = (0, lines);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if start(mid) <= s {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let ls = lo;
        if e - s > SHOWN_BYTES {
            e = floor(text, e.min(end(ls)).min(s + SHOWN_BYTES)).max(s);
        }
        let mut le = ls;
        while le + 1 < lines && start(le + 1) < e {
            le += 1;
        }
        let first = ls.saturating_sub(2);
        let last = (le + 2).min(lines - 1);
        let long = (first..=last).any(|k| end(k) - start(k) > SHOWN_BYTES);
        if !long {
            // The common case: the lines as they are.
            let a = start(first);
            let b = if last + 1 < lines {
                start(last + 1)
            } else {
                text.len()
            };
            let excerpt = Excerpt {
                name: file.to_owned(),
                text: text[a..b].to_owned(),
                first_line: first,
                span_line: ls - first,
                cut: 0,
            };
            return (excerpt, Span::new(s - a, e - a));
        }
        // A long line: the span is shown on its first line only, every line cut.
        let e = e.min(end(ls));
        let mut out = String::new();
        let (mut shown, mut cut) = (Span::empty(0), 0);
        for k in first..=last {
            let (a, b) = (start(k), end(k));
            let from = if k == ls && s - a > SHOWN_BYTES / 2 {
                floor(text, s - 64)
            } else {
                a
            };
            let to = if k == ls {
                floor(text, b.min((from + SHOWN_BYTES).max(e + 32)))
            } else {
                floor(text, b.min(a + SHOWN_BYTES))
            };
            let at = out.len();
            if from > a {
                out.push('…');
            }
            let base = out.len();
            out.push_str(&text[from..to]);
            if to < b {
                out.push('…');
            }
            if k == ls {
                shown = Span::new(base + s - from, base + e - from);
                cut = (from - a).saturating_sub(base - at);
            }
            if k + 1 < lines {
                out.push('\n');
            }
        }
        let excerpt = Excerpt {
            name: file.to_owned(),
            text: out,
            first_line: first,
            span_line: ls - first,
            cut,
        };
        (excerpt, shown)
    }
}

/// `at`, or the char boundary before it.
fn floor(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text.as_str().read_span(span, before, after)?;
        let column = if inner.line() == self.span_line {
            inner.column() + self.cut
        } else {
            inner.column()
        };
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            column,
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_spans_keep_offsets_and_lines() {
        let text = "values:\n  a: {fn::secret: \"p\\u00e4\\tss\"}\n  b:\n    fn::secret: |\n      one\n      two\n  c: ok\n";
        let quoted = text.find('"').unwrap()..text.find("}\n").unwrap();
        let block = text.find("      one").unwrap()..text.find("  c:").unwrap() - 1;
        let source = Source::new("x", text);
        let hidden = hide(
            &source,
            &[
                Span::new(quoted.start, quoted.end),
                Span::new(block.start, block.end),
            ],
        );
        assert_eq!(hidden.len(), text.len());
        assert_eq!(hidden.lines().count(), text.lines().count());
        assert_eq!(
            show_hidden(&hidden),
            "values:\n  a: {fn::secret: [secret]}\n  b:\n    fn::secret: |\n[secret]\n[secret]\n  c: ok\n"
        );
    }

    #[test]
    fn an_excerpt_never_shows_a_hidden_span() {
        let text = "values:\n  a: {fn::secret: \"hunter\\t2\"}\n  b: ${nope}\n";
        let quoted = text.find('"').unwrap()..text.find("}\n").unwrap();
        let at = text.find("${nope}").unwrap();
        let mut sources = Sources::new();
        sources.insert(
            "app.yaml",
            Source::new("app", text),
            vec![Span::new(quoted.start, quoted.end)],
        );
        let d = Diagnostic::error(crate::Code::UnknownProperty, "unknown property \"nope\"").at(
            "app",
            Span::new(at, at + 7),
            "values.b",
        );
        let out = human(&[d], &sources, false);
        assert!(!out.contains("hunter"), "{out}");
        assert!(out.contains("[secret]"), "{out}");
        assert!(out.contains("app.yaml:3:"), "{out}");
    }
}
