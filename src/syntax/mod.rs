//! YAML text to a spanned syntax tree.
//!
//! saphyr-parser's events are folded into our own [`Node`] tree, iteratively (no recursion,
//! so hostile nesting cannot overflow the stack). Every node carries an exact byte [`Span`]:
//! it starts where the reference's YAML library says the node starts (at an anchor or tag,
//! a quote, a block-scalar indicator, a flow bracket, or a block collection's first entry)
//! and ends after the node's last byte (closing quotes and brackets included).
//!
//! Parsing never fails: whatever the input, the result is a tree (possibly partial) plus
//! diagnostics. A YAML error makes the document unusable for evaluation, as in the
//! reference, but the partial tree stays available to editors.

mod scalar;
pub(crate) mod source_map;

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

use crate::diag::{Code, Diagnostic};
use crate::path;
use crate::source::{Source, Span};

/// Bounds that keep hostile documents from exhausting time or memory. Each one, when
/// crossed, is reported as a [`Code::LimitExceeded`] diagnostic at the offending place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest document, in bytes.
    pub max_document_bytes: usize,
    /// Deepest nesting of sequences and mappings.
    pub max_depth: usize,
    /// Largest decoded scalar, in bytes.
    pub max_scalar_bytes: usize,
    /// Most nodes (scalars, aliases, sequences and mappings) in a document: every node
    /// costs the evaluator time and memory, so this bounds them where the size limit
    /// cannot (a few bytes make a node).
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: 16 << 20,
            max_depth: 128,
            max_scalar_bytes: 4 << 20,
            max_nodes: 100_000,
        }
    }
}

/// How a scalar or collection was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// An unquoted scalar, or a block collection.
    Plain,
    /// `'text'`
    SingleQuoted,
    /// `"text"`
    DoubleQuoted,
    /// `|` block scalar
    Literal,
    /// `>` block scalar
    Folded,
    /// `[...]` or `{...}`
    Flow,
}

/// The value of a syntax node.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// `null`, `~`, or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as its canonical decimal text (`0x1F` is `31`).
    Number(Box<str>),
    /// A string, decoded (escapes processed, folding applied). It keeps the buffer the
    /// YAML parser decoded it into, as shrinking that to a `Box<str>` cost a reallocation
    /// per scalar. A `Cow` (owned but for the empty string) rather than a `String`, so
    /// that `as_ref()` on it still has a single meaning.
    String(Cow<'static, str>),
    /// A sequence.
    Array(Vec<Node>),
    /// A mapping, entries in source order, duplicates kept.
    Object(Vec<Entry>),
    /// An alias (`*a`), which the language does not support; it has no value.
    Alias,
}

/// One node of the syntax tree.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Exact byte span.
    pub span: Span,
    /// The value.
    pub kind: NodeKind,
    /// How it was written.
    pub style: Style,
    /// The explicit tag, in short form (`!!int`, `!custom`), if any.
    pub tag: Option<Box<str>>,
}

/// A mapping entry. The key is always a node; a key that is not a string is reported.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key node.
    pub key: Node,
    /// The value node.
    pub value: Node,
}

impl Node {
    /// The string value, if this is a string node.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the scalar is plain: unquoted, not a block scalar, untagged.
    #[must_use]
    pub fn is_plain_scalar(&self) -> bool {
        self.style == Style::Plain && self.tag.is_none()
    }
}

/// The result of [`parse`].
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The first document's root, if it has one (an empty or comment-only document has none;
    /// zero bytes give an empty mapping with an empty span).
    pub root: Option<Node>,
    /// Decoding diagnostics.
    pub diags: Vec<Diagnostic>,
    /// How many nodes were read (one more than [`Limits::max_nodes`] if the document has
    /// more than that).
    pub nodes: usize,
}

impl Parsed {
    /// Whether decoding failed: the reference does not evaluate such a document.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }
}

/// Parses the first YAML document of `source` into a syntax tree.
#[must_use]
pub fn parse(source: &Source, limits: &Limits) -> Parsed {
    let text = source.text();
    if text.is_empty() {
        return Parsed {
            root: Some(Node {
                span: Span::empty(0),
                kind: NodeKind::Object(Vec::new()),
                style: Style::Plain,
                tag: None,
            }),
            diags: Vec::new(),
            nodes: 1,
        };
    }
    if text.len() > limits.max_document_bytes {
        let at = floor_char_boundary(text, limits.max_document_bytes);
        let diag = Diagnostic::error(
            Code::LimitExceeded,
            format!(
                "document is larger than the limit of {} bytes",
                limits.max_document_bytes
            ),
        )
        .at(source.name(), Span::new(at, text.len()), "");
        return Parsed {
            root: None,
            diags: vec![diag],
            nodes: 0,
        };
    }
    Builder::new(source, limits).run()
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Converts saphyr's character indices to byte offsets, walking from the last position
/// asked for (events arrive nearly in order, so the walk is short).
struct CharToByte<'a> {
    text: &'a str,
    ascii: bool,
    chars: usize,
    bytes: usize,
    /// Where the first multi-byte character at or after `bytes` starts (or the text's
    /// length): up to there, a character is a byte, so the walk is one step.
    next_wide: usize,
}

impl<'a> CharToByte<'a> {
    fn new(text: &'a str) -> Self {
        let next_wide = ascii_prefix(text.as_bytes());
        CharToByte {
            text,
            ascii: next_wide == text.len(),
            chars: 0,
            bytes: 0,
            next_wide,
        }
    }

    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        let bytes = self.text.as_bytes();
        if char_index < self.chars {
            while self.chars > char_index {
                let c = self.text[..self.bytes]
                    .chars()
                    .next_back()
                    .map_or(1, char::len_utf8);
                self.bytes -= c;
                self.chars -= 1;
            }
            // The walk may have passed multi-byte characters.
            self.next_wide = self.bytes + ascii_prefix(&bytes[self.bytes..self.next_wide]);
            return self.bytes;
        }
        loop {
            let step = (char_index - self.chars).min(self.next_wide - self.bytes);
            self.bytes += step;
            self.chars += step;
            if self.chars == char_index || self.bytes == bytes.len() {
                return self.bytes;
            }
            // At a multi-byte character: step over it and find the next one.
            let c = self.text[self.bytes..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
            self.bytes += c;
            self.chars += 1;
            self.next_wide = self.bytes + ascii_prefix(&bytes[self.bytes..]);
        }
    }
}

/// The length of the ASCII prefix of `bytes`, tested eight bytes at a time.
fn ascii_prefix(bytes: &[u8]) -> usize {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let mut n = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0x80; 8]));
        if word & HIGH_BITS != 0 {
            break;
        }
        n += 8;
    }
    n + bytes[n..]
        .iter()
        .position(|b| !b.is_ascii())
        .unwrap_or(bytes.len() - n)
}

/// An open collection while events are folded into the tree.
struct Frame {
    start: usize,
    style: Style,
    tag: Option<Box<str>>,
    /// A sequence, else a mapping.
    is_seq: bool,
    /// Where this collection's children start in [`Builder::children`].
    first: usize,
}

struct Builder<'a> {
    source: &'a Source,
    text: &'a str,
    limits: &'a Limits,
    pos: CharToByte<'a>,
    stack: Vec<Frame>,
    /// The finished children of every open collection, outermost collection first; a
    /// mapping's alternate key, value. One shared buffer, rather than a growing Vec per
    /// collection, so each closed collection gets one exact-size allocation.
    children: Vec<Node>,
    root: Option<Node>,
    diags: Vec<Diagnostic>,
    /// End of the last event, where the search for a block scalar's indicator starts.
    last_end: usize,
    /// Set once a limit was crossed: the rest of the document is not read.
    stopped: bool,
    /// Nodes seen so far.
    nodes: usize,
}

impl<'a> Builder<'a> {
    fn new(source: &'a Source, limits: &'a Limits) -> Self {
        Builder {
            source,
            text: source.text(),
            limits,
            pos: CharToByte::new(source.text()),
            stack: Vec::new(),
            children: Vec::new(),
            root: None,
            diags: Vec::new(),
            last_end: 0,
            stopped: false,
            nodes: 0,
        }
    }

    fn run(mut self) -> Parsed {
        let mut parser = Parser::new_from_str(self.text);
        let mut documents = 0;
        while let Some(next) = parser.next_event() {
            let (event, span) = match next {
                Ok(ev) => ev,
                Err(err) => {
                    self.syntax_error(&err);
                    break;
                }
            };
            let start = self.pos.byte(span.start.index());
            let end = self.pos.byte(span.end.index()).max(start);
            if matches!(
                event,
                Event::Scalar(..)
                    | Event::Alias(_)
                    | Event::SequenceStart(..)
                    | Event::MappingStart(..)
            ) {
                self.nodes += 1;
                if self.nodes > self.limits.max_nodes {
                    let path = self.child_path();
                    self.diags.push(
                        Diagnostic::error(
                            Code::LimitExceeded,
                            format!(
                                "document has more YAML nodes than the limit of {}",
                                self.limits.max_nodes
                            ),
                        )
                        .at(
                            self.source.name(),
                            Span::new(start, end),
                            &path,
                        ),
                    );
                    self.stopped = true;
                    break;
                }
            }
            match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        break;
                    }
                }
                Event::DocumentEnd | Event::StreamEnd => break,
                Event::Scalar(value, style, anchor, tag) => {
                    let tag = tag.map(|t| short_tag(&t.handle, &t.suffix));
                    let node = self.scalar(value, style, anchor != 0, tag, start, end);
                    self.push(node);
                }
                Event::Alias(_) => {
                    let node = Node {
                        span: Span::new(start, end),
                        kind: NodeKind::Alias,
                        style: Style::Plain,
                        tag: None,
                    };
                    let path = self.child_path();
                    self.diags.push(
                        Diagnostic::error(Code::YamlAlias, "alias nodes are not supported").at(
                            self.source.name(),
                            node.span,
                            &path,
                        ),
                    );
                    self.push(node);
                }
                Event::SequenceStart(_, ref tag) | Event::MappingStart(_, ref tag) => {
                    let is_seq = matches!(event, Event::SequenceStart(..));
                    if self.stack.len() >= self.limits.max_depth {
                        let path = self.child_path();
                        self.diags.push(
                            Diagnostic::error(
                                Code::LimitExceeded,
                                format!(
                                    "nesting is deeper than the limit of {}",
                                    self.limits.max_depth
                                ),
                            )
                            .at(
                                self.source.name(),
                                Span::new(start, end),
                                &path,
                            ),
                        );
                        self.stopped = true;
                        break;
                    }
                    // A flow collection's start event covers its bracket (and the spaces
                    // after it); a block collection's is empty.
                    let opening = self.text.get(start..end).unwrap_or("").trim_end();
                    let flow = opening.ends_with(['[', '{']);
                    self.stack.push(Frame {
                        start,
                        style: if flow { Style::Flow } else { Style::Plain },
                        tag: tag.as_ref().map(|t| short_tag(&t.handle, &t.suffix)),
                        is_seq,
                        first: self.children.len(),
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    if let Some(frame) = self.stack.pop() {
                        let node = self.close(frame, end);
                        self.push(node);
                    }
                }
                Event::StreamStart | Event::Nothing => {}
            }
            self.last_end = end;
        }
        // An error or a limit left collections open: close them so the partial tree is whole.
        while let Some(frame) = self.stack.pop() {
            let end = self.last_end;
            let node = self.close(frame, end);
            self.push(node);
        }
        Parsed {
            root: self.root,
            diags: self.diags,
            nodes: self.nodes,
        }
    }

    fn scalar(
        &mut self,
        value: Cow<'_, str>,
        style: ScalarStyle,
        anchored: bool,
        tag: Option<Box<str>>,
        mut start: usize,
        mut end: usize,
    ) -> Node {
        let style = match style {
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
            ScalarStyle::Literal => Style::Literal,
            ScalarStyle::Folded => Style::Folded,
            ScalarStyle::Plain => Style::Plain,
        };
        let synthesized = style == Style::Plain && value.is_empty() && tag.is_none() && !anchored;
        if synthesized {
            start = self.empty_node_position(start);
            end = start;
        } else if matches!(style, Style::Literal | Style::Folded) {
            // saphyr starts a block scalar at its content; the node starts at its header.
            start = self.block_header_start(start);
            end = trim_block_end(self.text, start, end);
        }
        let span = Span::new(start, end);
        if value.len() > self.limits.max_scalar_bytes {
            let path = self.child_path();
            self.diags.push(
                Diagnostic::error(
                    Code::LimitExceeded,
                    format!(
                        "scalar is larger than the limit of {} bytes",
                        self.limits.max_scalar_bytes
                    ),
                )
                .at(self.source.name(), span, &path),
            );
            return Node {
                span,
                kind: NodeKind::String(Cow::Borrowed("")),
                style,
                tag,
            };
        }
        let kind = match (&tag, style) {
            (Some(t), _) => match scalar::resolve_tagged(t, &value, style == Style::Plain) {
                Ok(s) => s.into(),
                Err(message) => {
                    let path = self.child_path();
                    self.diags
                        .push(Diagnostic::error(Code::YamlTag, message).at(
                            self.source.name(),
                            span,
                            &path,
                        ));
                    NodeKind::String(Cow::Owned(value.into_owned()))
                }
            },
            // saphyr hands over an owned string for most scalars: keep it, do not copy it.
            (None, Style::Plain) => scalar::resolve_plain_owned(value.into_owned()).into(),
            (None, _) => NodeKind::String(Cow::Owned(value.into_owned())),
        };
        Node {
            span,
            kind,
            style,
            tag,
        }
    }

    /// Where the reference places a node that is not written at all (`key:` with nothing
    /// after it): just after the `:` or `-` in block context, at the next token in flow
    /// context. saphyr puts it at the indicator or at the next token.
    fn empty_node_position(&self, at: usize) -> usize {
        let bytes = self.text.as_bytes();
        let in_flow = self.stack.last().is_some_and(|f| f.style == Style::Flow);
        if in_flow {
            if bytes.get(at) == Some(&b':') {
                let mut i = at + 1;
                while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                    i += 1;
                }
                return i.min(bytes.len());
            }
            return at;
        }
        if matches!(bytes.get(at), Some(b':' | b'-')) {
            return at + 1;
        }
        let mut i = at;
        while i > 0 && matches!(bytes[i - 1], b' ' | b'\t' | b'\r' | b'\n') {
            i -= 1;
        }
        if i > 0 && matches!(bytes[i - 1], b':' | b'-') {
            return i;
        }
        at
    }

    /// The start of a block scalar's properties and indicator, searching forward from the
    /// end of the previous event and skipping the `:`/`-`/`?` indicators and comments.
    fn block_header_start(&self, content: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = self.last_end.min(content);
        while i < content {
            match bytes[i] {
                b'|' | b'>' | b'&' | b'!' => return i,
                b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n') => {
                    while i < content && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
        content
    }

    /// Adds a finished node to the open collection, or makes it the root.
    fn push(&mut self, node: Node) {
        // A mapping with an even number of children is waiting for a key.
        let awaiting_key = self
            .stack
            .last()
            .is_some_and(|f| !f.is_seq && (self.children.len() - f.first).is_multiple_of(2));
        if awaiting_key && !matches!(node.kind, NodeKind::String(_)) {
            let path = self.path_with_key(&node);
            self.diags.push(
                Diagnostic::error(Code::YamlKeyNotString, "mapping keys must be strings").at(
                    self.source.name(),
                    node.span,
                    &path,
                ),
            );
        }
        if self.stack.is_empty() {
            if self.root.is_none() {
                self.root = Some(node);
            }
            return;
        }
        self.children.push(node);
    }

    /// Builds a collection node from a closed frame, taking its children off the shared
    /// buffer. `end` is the end of the closing event: a flow collection ends after its
    /// bracket, a block one after its last child.
    fn close(&mut self, frame: Frame, end: usize) -> Node {
        let mut children = self.children.drain(frame.first..);
        let (kind, last_end) = if frame.is_seq {
            let items: Vec<Node> = children.collect();
            let last = items.last().map(|n| n.span.end());
            (NodeKind::Array(items), last)
        } else {
            let mut entries = Vec::with_capacity(children.len().div_ceil(2));
            while let Some(key) = children.next() {
                // A key whose value never came (the input ended): keep it with a null value.
                let value = children.next().unwrap_or_else(|| Node {
                    span: Span::empty(key.span.end()),
                    kind: NodeKind::Null,
                    style: Style::Plain,
                    tag: None,
                });
                entries.push(Entry { key, value });
            }
            let last = entries
                .last()
                .map(|e| e.value.span.end().max(e.key.span.end()));
            (NodeKind::Object(entries), last)
        };
        let end = if frame.style == Style::Flow {
            end
        } else {
            last_end.unwrap_or(frame.start)
        };
        Node {
            span: Span::new(frame.start, end.max(frame.start)),
            kind,
            style: frame.style,
            tag: frame.tag,
        }
    }

    /// The document path of the node about to be added to the innermost open collection.
    fn child_path(&self) -> String {
        let mut out = String::new();
        // Each collection's children end where the next one's start (the innermost's at
        // the end of the buffer).
        let ends = self.stack.iter().skip(1).map(|f| f.first);
        let ends = ends.chain(std::iter::once(self.children.len()));
        for (frame, end) in self.stack.iter().zip(ends) {
            let count = end - frame.first;
            if frame.is_seq {
                path::push_index(&mut out, count);
            } else if !count.is_multiple_of(2) {
                // The last child is the key of the entry being read.
                path::push_key(&mut out, self.children[end - 1].as_str().unwrap_or(""));
            }
            // Otherwise a key is being read: it has its mapping's path.
        }
        out
    }

    /// The path an entry whose key is `key` would have.
    fn path_with_key(&self, key: &Node) -> String {
        let mut out = self.child_path();
        path::push_key(&mut out, key.as_str().unwrap_or(""));
        out
    }

    fn syntax_error(&mut self, err: &ScanError) {
        let info = err.info();
        if info.contains("recursion limit exceeded") {
            // saphyr's own bound on flow nesting (255), above escc's default depth limit.
            let at = floor_char_boundary(self.text, self.pos.byte(err.marker().index()));
            let path = self.child_path();
            self.diags.push(
                Diagnostic::error(
                    Code::LimitExceeded,
                    "flow nesting is deeper than the limit of 255",
                )
                .at(self.source.name(), Span::empty(at), &path),
            );
            return;
        }
        let (context, problem) = match info.strip_prefix("while ") {
            Some(rest) => rest.split_once(", ").map_or(("", info), |(c, p)| (c, p)),
            None => ("", info),
        };
        let problem = libyaml_problem(problem);
        // The reference prints the 0-based line of the construct being parsed, else of the
        // problem; scanner errors add one (a quirk kept for identical messages).
        let problem_line = err.marker().line().saturating_sub(1);
        let is_parser_error = context.starts_with("parsing");
        let context_line = if is_parser_error {
            self.stack
                .last()
                .map_or(0, |f| self.source.line_col(f.start).line as usize - 1)
        } else {
            0
        };
        let line = if context_line != 0 {
            context_line
        } else {
            problem_line
        };
        let summary = if line == 0 {
            format!("yaml: {problem}")
        } else {
            let shown = if is_parser_error { line } else { line + 1 };
            format!("yaml: line {shown}: {problem}")
        };
        // The reference gives no place; escc points at where the parser stopped.
        let at = floor_char_boundary(self.text, self.pos.byte(err.marker().index()));
        self.diags
            .push(Diagnostic::error(Code::YamlSyntax, summary).at(
                self.source.name(),
                Span::empty(at),
                "",
            ));
    }
}

/// The libyaml wording of a saphyr problem, so messages read as the reference's do.
fn libyaml_problem(problem: &str) -> String {
    match problem {
        "expected ',' or ']'" => "did not find expected ',' or ']'".to_owned(),
        "expected ',' or '}'" => "did not find expected ',' or '}'".to_owned(),
        "unexpected end of plain scalar" | "unexpected eof" => {
            "found unexpected end of stream".to_owned()
        }
        other => other.to_owned(),
    }
}

/// A block scalar's span ends at its last content byte, not at the next line: it drops the
/// final line breaks and blank lines, but keeps the spaces and tabs that end the last line
/// with text, which are content (a template's spans are mapped into them).
fn trim_block_end(text: &str, start: usize, end: usize) -> usize {
    let bytes = text.as_bytes();
    let mut e = end.min(bytes.len());
    loop {
        while e > start && matches!(bytes[e - 1], b'\n' | b'\r') {
            e -= 1;
        }
        let line = bytes[start..e]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(start, |i| start + i + 1);
        if line == start {
            // Only the header is left: what follows it on its line is not content.
            while e > start && matches!(bytes[e - 1], b' ' | b'\t') {
                e -= 1;
            }
            break;
        }
        if !bytes[line..e].iter().all(|&b| matches!(b, b' ' | b'\t')) {
            break;
        }
        e = line;
    }
    e
}

/// The short spelling of a tag, as the reference prints it (`!!int`, `!custom`, `!`).
fn short_tag(handle: &str, suffix: &str) -> Box<str> {
    const CORE: &str = "tag:yaml.org,2002:";
    let full = format!("{handle}{suffix}");
    match full.strip_prefix(CORE) {
        Some(rest) => format!("!!{rest}").into(),
        None => full.into(),
    }
}

impl From<scalar::Scalar> for NodeKind {
    fn from(s: scalar::Scalar) -> Self {
        match s {
            scalar::Scalar::Null => NodeKind::Null,
            scalar::Scalar::Bool(b) => NodeKind::Bool(b),
            scalar::Scalar::Number(n) => NodeKind::Number(n.into()),
            scalar::Scalar::String(s) => NodeKind::String(Cow::Owned(s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_prefix_finds_the_first_non_ascii_byte() {
        let text = "abcdefghijklmnopqrstuvwxyzé0123456789";
        for start in 0..text.len() {
            for end in start..=text.len() {
                let bytes = &text.as_bytes()[start..end];
                let naive = bytes.iter().position(|b| !b.is_ascii());
                assert_eq!(ascii_prefix(bytes), naive.unwrap_or(bytes.len()));
            }
        }
    }

    #[test]
    fn char_to_byte_walks_both_ways() {
        let text = "key: café\n  ünïcödé ${x} 世界 ascii run of some length here 😀 end";
        let byte_of = |i: usize| text.char_indices().nth(i).map_or(text.len(), |(b, _)| b);
        let count = text.chars().count();
        let mut pos = CharToByte::new(text);
        // Forward, backward, long jumps and past the end.
        let order = (0..=count).chain((0..count).rev()).chain([
            count / 2,
            3,
            count,
            1,
            count + 5,
            0,
            count - 1,
        ]);
        for i in order {
            assert_eq!(pos.byte(i), byte_of(i), "char {i}");
        }
        // Mostly forward with short steps back, as events arrive.
        let mut pos = CharToByte::new(text);
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut i = 0;
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let step = usize::try_from(state % 9).unwrap_or(0);
            i = if state.is_multiple_of(5) {
                i - step.min(i)
            } else {
                (i + step) % (count + 3)
            };
            assert_eq!(pos.byte(i), byte_of(i), "char {i}");
        }
    }
}
