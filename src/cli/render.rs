//! Diagnostics for people and machines (`human`, `json`, `github`, `sarif`), secret
//! masking of everything printed, and the terminal spinner.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::mpsc;
use std::time::Duration;

use aho_corasick::{AhoCorasick, MatchKind};
use serde_json::json;

use super::project::Project;
use crate::ast::{Call, Expr, ExprKind, SecretArg};
use crate::eval::{Value, ValueKind};
use crate::project::FsHost;
use crate::{Diagnostic, Severity, Source, Span};

/// The environments diagnostics point into: each one's file (as shown) and text.
pub(crate) struct Sources {
    map: BTreeMap<String, (String, Source)>,
}

impl Sources {
    /// Every environment the host has read.
    pub(crate) fn new(project: &Project, host: &FsHost) -> Self {
        let map = host
            .documents()
            .into_iter()
            .map(|(name, doc)| {
                let shown = doc
                    .file
                    .as_deref()
                    .map_or_else(|| name.clone(), |f| project.show(f));
                let source = Source::new(name.as_str(), doc.text.to_string());
                (name, (shown, source))
            })
            .collect();
        Sources { map }
    }

    fn get(&self, env: &str) -> Option<&(String, Source)> {
        self.map.get(env)
    }

    /// The file of an environment as shown, or the environment name.
    fn file(&self, env: &str) -> String {
        self.get(env)
            .map_or_else(|| env.to_owned(), |(f, _)| f.clone())
    }

    /// The plaintext of every `fn::secret` literal in the documents read, and its text as
    /// written (escapes and all: `"p\u00e4ss"` is the secret too).
    pub(crate) fn secret_literals(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (_, source) in self.map.values() {
            out.extend(source_literal_texts(source));
        }
        out
    }
}

/// The plaintext of every `fn::secret` literal of a document, and each line of it as
/// written.
pub(crate) fn literal_texts(text: &str) -> Vec<String> {
    source_literal_texts(&Source::new("", text))
}

fn source_literal_texts(source: &Source) -> Vec<String> {
    let mut out = Vec::new();
    for (value, span) in secret_literals(source) {
        if let Some(written) = source.text().get(span.start()..span.end()) {
            out.extend(written.lines().map(|l| l.trim().to_owned()));
        }
        out.push(value);
    }
    out
}

/// Every `fn::secret` plaintext literal of a document: its value and its span.
fn secret_literals(source: &Source) -> Vec<(String, crate::Span)> {
    let mut out = Vec::new();
    if !source.text().contains("fn::secret") {
        return out;
    }
    let loaded = crate::load(source);
    let mut stack: Vec<&Expr> = loaded
        .decl
        .iter()
        .flat_map(|d| d.values.iter().flatten())
        .map(|e| &e.value)
        .collect();
    while let Some(x) = stack.pop() {
        match &x.kind {
            ExprKind::List(items) => stack.extend(items),
            ExprKind::Object(entries) => stack.extend(entries.iter().map(|e| &e.value)),
            ExprKind::Builtin(b) => {
                if let Call::Secret(SecretArg::Plaintext(lit)) = &b.call {
                    out.push((lit.value.clone(), lit.span));
                }
                stack.push(&b.arg);
            }
            _ => {}
        }
    }
    out
}

/// In the text given to the renderer, a byte of a secret literal that is dropped after
/// rendering. The renderer gives it no width, so columns stay right.
const DROPPED: u8 = 0x1a;
/// In the text given to the renderer, a byte of a secret literal shorter than `[secret]`,
/// shown as `[secret]` after rendering.
const SHORT: u8 = 0x1c;
const SHOWN: &[u8] = b"[secret]";

/// A document's text with each line of each `fn::secret` literal replaced by `[secret]`
/// and bytes the renderer drops, so byte offsets and lines stay as they were. Masking the
/// rendered excerpt afterwards is not enough: the renderer expands tabs, and a literal
/// written with escapes differs from its value.
fn hide_secret_literals(source: &Source) -> String {
    let mut bytes = source.text().as_bytes().to_vec();
    for (_, span) in secret_literals(source) {
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

/// The rendered text of [`hide_secret_literals`]' output, as it must be shown.
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

/// Whether to colour output for a stream: only on a terminal, and never with `NO_COLOR`.
pub(crate) fn use_color(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Counts errors and warnings.
pub(crate) fn counts(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, diags.len() - errors)
}

/// Human rendering: a miette report per diagnostic, with a source excerpt.
pub(crate) fn human(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
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
            (Some((file, source)), Some(span)) => {
                // Secret literals are hidden byte for byte, so spans and lines still match.
                let shown_source = hidden
                    .entry(d.environment.as_str())
                    .or_insert_with(|| Source::new(source.name(), hide_secret_literals(source)));
                let (excerpt, shown) = Excerpt::new(file, shown_source, span);
                let mut d = d.clone();
                d.span = Some(shown);
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

/// One diagnostic's position, 1-based, end exclusive.
struct Place {
    start: (u32, u32),
    end: (u32, u32),
    span: Option<(u32, u32)>,
}

fn place(d: &Diagnostic, sources: &Sources) -> Option<Place> {
    let (_, source) = sources.get(&d.environment)?;
    let (s, e) = d.positions(source)?;
    Some(Place {
        start: (s.line, s.column),
        end: (e.line, e.column),
        span: d.span.map(|s| (s.start, s.end)),
    })
}

/// JSON: an array of diagnostics.
pub(crate) fn json(diags: &[Diagnostic], sources: &Sources) -> String {
    let all: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let p = place(d, sources);
            let mut o = serde_json::Map::new();
            o.insert("file".into(), json!(sources.file(&d.environment)));
            o.insert("environment".into(), json!(d.environment));
            o.insert("severity".into(), json!(d.severity));
            o.insert("code".into(), json!(d.code));
            o.insert("summary".into(), json!(d.summary));
            if !d.detail.is_empty() {
                o.insert("detail".into(), json!(d.detail));
            }
            o.insert("path".into(), json!(d.path));
            if let Some(p) = p {
                o.insert(
                    "start".into(),
                    json!({"line": p.start.0, "column": p.start.1}),
                );
                o.insert("end".into(), json!({"line": p.end.0, "column": p.end.1}));
                if let Some((s, e)) = p.span {
                    o.insert("bytes".into(), json!({"start": s, "end": e}));
                }
            }
            serde_json::Value::Object(o)
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".to_owned());
    s.push('\n');
    s
}

/// GitHub Actions workflow commands (`::error file=...::message`).
pub(crate) fn github(diags: &[Diagnostic], sources: &Sources) -> String {
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

/// SARIF 2.1.0, one run, columns in Unicode code points.
pub(crate) fn sarif(diags: &[Diagnostic], sources: &Sources) -> String {
    let codes: BTreeSet<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    let index: BTreeMap<&str, usize> = codes.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|c| {
            json!({
                "id": c,
                "name": c,
                "shortDescription": {"text": describe(c)},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let mut location = serde_json::Map::new();
            let mut physical = serde_json::Map::new();
            physical.insert(
                "artifactLocation".into(),
                json!({"uri": uri(&sources.file(&d.environment)), "uriBaseId": "%SRCROOT%"}),
            );
            if let Some(p) = place(d, sources) {
                physical.insert(
                    "region".into(),
                    json!({
                        "startLine": p.start.0,
                        "startColumn": p.start.1,
                        "endLine": p.end.0,
                        "endColumn": p.end.1,
                    }),
                );
            }
            location.insert(
                "physicalLocation".into(),
                serde_json::Value::Object(physical),
            );
            if !d.path.is_empty() {
                location.insert(
                    "logicalLocations".into(),
                    json!([{"fullyQualifiedName": d.path, "kind": "member"}]),
                );
            }
            json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": index[d.code.as_str()],
                "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": {"text": d.summary},
                "locations": [serde_json::Value::Object(location)],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "escc",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/pulumi/esc",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

/// A relative path as a URI reference: `/`-separated, reserved bytes percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A one-line description of a diagnostic code.
fn describe(code: &str) -> &'static str {
    match code {
        "yaml-syntax" => "The YAML is malformed.",
        "yaml-alias" => "YAML aliases are not supported.",
        "yaml-key-not-string" => "A mapping key is not a string.",
        "yaml-tag" => "An explicit YAML tag does not fit its value.",
        "limit-exceeded" => "The document exceeds one of escc's limits.",
        "environment-not-object" => "The document is not a mapping.",
        "invalid-field" => "A top-level field has the wrong type.",
        "invalid-import" => "An import entry has the wrong shape.",
        "duplicate-key" => "The same key appears twice.",
        "unknown-field" => "An unknown top-level field.",
        "top-level-builtin" => "A builtin is used as a top-level value key.",
        "invalid-interpolation" => "A malformed ${...} interpolation or property access.",
        "key-not-literal" => "An object key is not a literal string.",
        "builtin-not-alone" => "A builtin call shares its object with other keys.",
        "reserved-prefix" => "An unknown fn:: name.",
        "invalid-builtin-argument" => "A builtin's argument has the wrong shape.",
        "reserved-key" => "A reserved top-level value name (imports, context, environments).",
        "import-cycle" => "An environment imports itself, directly or not.",
        "import-failed" => "An imported or referenced environment cannot be loaded.",
        "reference-cycle" => "A value depends on itself.",
        "unknown-property" => "A reference to a property that does not exist.",
        "invalid-access" => "An access that does not fit its receiver.",
        "final-override" => "A value overrides an imported fn::final value.",
        "invalid-ciphertext" => "A fn::secret ciphertext cannot be decoded or decrypted.",
        "provider-failed" => "A provider or rotator cannot be loaded or fails.",
        "schema-violation" => "A value does not match the schema it must satisfy.",
        "builtin-failed" => "A builtin fails at run time.",
        _ => "An escc diagnostic.",
    }
}

// -------------------------------------------------------------------------------------
// Secret masking

/// Replaces secret values with `[secret]` in text: each secret's plaintext, its
/// JSON-escaped forms (as `serde_json`, Python's `json.dumps` and Go's `encoding/json`
/// write them), its base64 forms (standard and URL-safe, padded or not), and each of its
/// lines. Secrets shorter than three bytes are not masked (masking every `a` would destroy
/// the output), as in `esc run`.
pub(crate) struct Masker {
    replace: Option<AhoCorasick>,
    overlapping: Option<AhoCorasick>,
    longest: usize,
}

/// The shortest secret that is masked.
const MIN_SECRET: usize = 3;

impl Masker {
    /// A masker for `secrets`.
    pub(crate) fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut patterns = BTreeSet::new();
        for s in secrets {
            let mut forms = json_forms(&s);
            let b64 = base64(s.as_bytes());
            let url = b64.replace('+', "-").replace('/', "_");
            for b in [b64, url] {
                forms.push(b.trim_end_matches('=').to_owned());
                forms.push(b);
            }
            forms.extend(s.lines().map(str::to_owned));
            forms.push(s);
            for f in forms {
                if f.len() >= MIN_SECRET {
                    patterns.insert(f);
                }
            }
        }
        let patterns: Vec<String> = patterns.into_iter().collect();
        let longest = patterns.iter().map(String::len).max().unwrap_or(0);
        let build = |kind| {
            (!patterns.is_empty())
                .then(|| {
                    AhoCorasick::builder()
                        .match_kind(kind)
                        .build(&patterns)
                        .ok()
                })
                .flatten()
        };
        Masker {
            replace: build(MatchKind::LeftmostLongest),
            overlapping: build(MatchKind::Standard),
            longest,
        }
    }

    /// Whether there is nothing to mask.
    pub(crate) fn is_empty(&self) -> bool {
        self.replace.is_none()
    }

    /// Masks a whole text.
    pub(crate) fn mask(&self, text: &[u8]) -> Vec<u8> {
        match &self.replace {
            Some(ac) => {
                let mut out = Vec::with_capacity(text.len());
                ac.replace_all_with_bytes(text, &mut out, |_, _, dst| {
                    dst.extend_from_slice(b"[secret]");
                    true
                });
                out
            }
            None => text.to_vec(),
        }
    }

    /// Masks a string.
    pub(crate) fn mask_str(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.mask(text.as_bytes())).into_owned()
    }

    /// Where a long unterminated line may be cut: as late as possible, but so that no
    /// secret could still start before the cut and end after it.
    pub(crate) fn safe_cut(&self, buf: &[u8]) -> usize {
        let mut cut = buf.len().saturating_sub(self.longest.saturating_sub(1));
        if let Some(ac) = &self.overlapping {
            // Moving the cut to the start of a crossing secret may make another one cross;
            // repeat until none does (the cut only moves left, so this ends).
            loop {
                let mut moved = false;
                for m in ac.find_overlapping_iter(buf) {
                    if m.start() < cut && m.end() > cut {
                        cut = m.start();
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        cut
    }
}

/// Every secret text in a value: each secret scalar's text (strings, numbers, booleans)
/// and every scalar inside a secret array or object.
pub(crate) fn secret_texts(v: &Value, inherited: bool, out: &mut Vec<String>) {
    let secret = inherited || v.secret;
    if v.unknown {
        return;
    }
    match &v.kind {
        ValueKind::Null => {}
        ValueKind::Bool(b) => {
            if secret {
                out.push(b.to_string());
            }
        }
        ValueKind::Number(n) => {
            if secret {
                out.push(n.clone());
            }
        }
        ValueKind::String(s) => {
            if secret {
                out.push(s.clone());
            }
        }
        ValueKind::Array(items) => {
            for i in items {
                secret_texts(i, secret, out);
            }
        }
        ValueKind::Object(m) => {
            for i in m.values() {
                secret_texts(i, secret, out);
            }
        }
    }
}

/// A text as JSON string contents (without the quotes), in the forms common encoders
/// write: escapes for `"`, `\` and control characters only (`serde_json`, JavaScript); also
/// every non-ASCII character as `\uXXXX` (Python's default); also `<`, `>`, `&`, U+2028
/// and U+2029 escaped (Go).
pub(crate) fn json_forms(s: &str) -> Vec<String> {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    let plain = quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default()
        .to_owned();
    let mut ascii = String::with_capacity(plain.len());
    let mut go = String::with_capacity(plain.len());
    for c in plain.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(ascii, "\\u{u:04x}");
            }
        }
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(go, "\\u{:04x}", u32::from(c));
            }
            _ => go.push(c),
        }
    }
    vec![plain, ascii, go]
}

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

// -------------------------------------------------------------------------------------
// Spinner

/// A spinner on stderr while something slow runs; it appears only on a terminal and only
/// after a moment, and clears its line when dropped.
pub(crate) struct Spinner {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Spinner {
    /// Starts a spinner showing `message`.
    pub(crate) fn start(message: String) -> Spinner {
        let interactive =
            std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        if !interactive {
            return Spinner {
                stop: None,
                thread: None,
            };
        }
        let (tx, rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if !matches!(
                rx.recv_timeout(Duration::from_millis(300)),
                Err(mpsc::RecvTimeoutError::Timeout)
            ) {
                return;
            }
            let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let mut i = 0;
            loop {
                eprint!("\r{} {message}", frames[i % frames.len()]);
                i += 1;
                if !matches!(
                    rx.recv_timeout(Duration::from_millis(100)),
                    Err(mpsc::RecvTimeoutError::Timeout)
                ) {
                    break;
                }
            }
            eprint!("\r\x1b[2K");
        });
        Spinner {
            stop: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn masks_every_form() {
        let m = Masker::new([
            "hunter2".to_owned(),
            "a\"b\nline two".to_owned(),
            "ab".to_owned(),
        ]);
        assert_eq!(m.mask_str("pw=hunter2!"), "pw=[secret]!");
        assert_eq!(m.mask_str("b64 aHVudGVyMg=="), "b64 [secret]");
        assert_eq!(
            m.mask_str(r#"{"k":"a\"b\nline two"}"#),
            r#"{"k":"[secret]"}"#
        );
        assert_eq!(m.mask_str("line two"), "[secret]");
        assert_eq!(m.mask_str("ab stays"), "ab stays");
        // JSON as Python (ASCII only) and Go (HTML-safe) write it; base64 URL-safe and
        // unpadded.
        let m = Masker::new(["p\u{e4}ss<\u{1F600}>?".to_owned()]);
        assert_eq!(
            m.mask_str(r"py \u00e4 p\u00e4ss<\ud83d\ude00>?"),
            r"py \u00e4 [secret]"
        );
        assert_eq!(
            m.mask_str("go p\u{e4}ss\\u003c\u{1F600}\\u003e?"),
            "go [secret]"
        );
        let b64 = base64("p\u{e4}ss<\u{1F600}>?".as_bytes());
        assert!(b64.contains('/') || b64.contains('+'), "{b64}");
        let url = b64.replace('+', "-").replace('/', "_");
        assert_eq!(m.mask_str(&format!("u={url}")), "u=[secret]");
        assert_eq!(
            m.mask_str(&format!("u={}.", url.trim_end_matches('='))),
            "u=[secret]."
        );
    }

    #[test]
    fn secret_literals_are_hidden_as_written() {
        let text = "values:\n  a: {fn::secret: \"p\\u00e4\\tss\"}\n  b:\n    fn::secret: |\n      one\n      two\n  c: ok\n";
        let source = Source::new("x", text);
        let hidden = hide_secret_literals(&source);
        assert_eq!(hidden.len(), text.len());
        assert_eq!(hidden.lines().count(), text.lines().count());
        let shown = show_hidden(&hidden);
        assert_eq!(
            shown,
            "values:\n  a: {fn::secret: [secret]}\n  b:\n    fn::secret: [secret]\n[secret]\n[secret]\n  c: ok\n"
        );
    }

    #[test]
    fn safe_cut_never_splits_a_secret() {
        let m = Masker::new(["secret-value".to_owned()]);
        let buf = b"xxxxxxxxxxxxxxxxxxxxxxxxsecret-va";
        let cut = m.safe_cut(buf);
        assert!(cut <= buf.len() - "secret-va".len());
    }
}
