//! Reading a document into the model: the syntax tree, plus the comments recovered from
//! the text between node spans.
//!
//! Comments are found by scanning the source outside every scalar's span (so a `#` inside
//! a string or a block scalar is never one), then attached:
//!
//! - a comment after other text on its line is the *line* comment of the scalar or flow
//!   collection that ends last before it on that line; after a key whose value starts on a
//!   later line, it is the value's (written after the key);
//! - a comment alone on its line is the *head* comment of the next block entry or item,
//!   unless it is indented deeper than that entry and follows a sibling: then it is the
//!   *foot* comment of the deepest block collection, along the sibling's last entries,
//!   whose entries are not indented deeper than the comment;
//! - comments before the root that a blank line separates from it open the document;
//!   comments inside a flow collection move before the block entry holding it.

use std::collections::HashMap;
use std::collections::hash_map::Entry::Vacant;

use super::{Doc, EditError, Entry, Item, Node, Value};
use crate::source::{Source, Span};
use crate::syntax::{self, Limits, NodeKind, Style};

/// Reads `text` into the model.
pub(super) fn read(text: &str) -> Result<Doc, EditError> {
    let source = Source::new("", text);
    let parsed = syntax::parse(&source, &Limits::default());
    if let Some(d) = parsed.diags.iter().find(|d| d.is_error()) {
        return Err(EditError::new(d.summary.clone(), d.span));
    }
    let lines = line_starts(text);
    // Zero bytes decode as an empty mapping; to the writer they are an empty document.
    let root = parsed.root.filter(|_| !text.is_empty());
    let Some(root) = root else {
        // A document of comments only.
        let mut doc = Doc::default();
        for c in scan_comments(text, &[], &lines) {
            doc.head.push(c.text);
        }
        return Ok(doc);
    };
    if let Some(at) = later_document(text, root.span.end()) {
        return Err(EditError::new(
            "only the first YAML document is read: a file of several cannot be rewritten",
            Some(Span::new(at, at + 3)),
        ));
    }
    let mut flat = Flat {
        text,
        lines: &lines,
        infos: Vec::new(),
        slots: Vec::new(),
    };
    flat.visit(&root, Role::Root, false, None);
    let scalars: Vec<(usize, usize)> = flat
        .infos
        .iter()
        .filter(|i| matches!(i.shape, Shape::Scalar | Shape::BlockScalar) && !i.span.is_empty())
        .map(|i| (i.span.start(), i.span.end()))
        .collect();
    let comments = scan_comments(text, &scalars, &lines);
    let mut found = flat.assign(comments);
    let mut build = Build {
        text,
        infos: &flat.infos,
        found: &mut found,
        next: 0,
    };
    let root = build.node(&root)?;
    Ok(Doc {
        head: std::mem::take(&mut found.doc_head),
        head_gap: found.doc_head_gap,
        root: Some(root),
        foot: std::mem::take(&mut found.doc_foot),
    })
}

/// The start of a `---` after `from` that opens a document with content.
fn later_document(text: &str, from: usize) -> Option<usize> {
    let mut at = text[from..].find('\n').map(|i| from + i + 1)?;
    let mut marker = None;
    for line in text[at..].split_inclusive('\n') {
        let body = line.trim_end();
        let opens = body
            .strip_prefix("---")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']));
        if opens {
            marker = Some(at);
            let rest = body[3..].trim_start();
            if !rest.is_empty() && !rest.starts_with('#') {
                return marker;
            }
        } else if marker.is_some() {
            let content = body.trim_start();
            if !content.is_empty() && !content.starts_with('#') && content != "..." {
                return marker;
            }
        }
        at += line.len();
    }
    None
}

/// The byte offset where each line starts.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

fn line_start_of(lines: &[usize], at: usize) -> usize {
    match lines.binary_search(&at) {
        Ok(i) => lines[i],
        Err(i) => lines[i - 1],
    }
}

/// One comment of the source.
struct Comment {
    start: usize,
    /// Byte column of the `#`.
    col: usize,
    /// Whether other text comes before it on its line.
    trailing: bool,
    /// From `#` to the end of the line, trailing blanks removed.
    text: String,
}

/// Finds every comment outside the given (sorted, disjoint) scalar spans.
fn scan_comments(text: &str, scalars: &[(usize, usize)], lines: &[usize]) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut next = 0;
    let mut i = 0;
    while i < bytes.len() {
        while next < scalars.len() && scalars[next].1 <= i {
            next += 1;
        }
        if next < scalars.len() && scalars[next].0 <= i {
            i = scalars[next].1;
            continue;
        }
        if bytes[i] == b'#' && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r')) {
            let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            let line = line_start_of(lines, i);
            out.push(Comment {
                start: i,
                col: i - line,
                trailing: !text[line..i].trim().is_empty(),
                text: text[i..end].trim_end().to_owned(),
            });
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Root,
    Key,
    Value,
    Item,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Scalar,
    BlockScalar,
    Block,
    Flow,
}

/// What the comment attachment needs to know of one node (indexed in preorder).
struct Info {
    span: Span,
    role: Role,
    shape: Shape,
    /// Inside a flow collection.
    in_flow: bool,
    /// Block collections: the column of their entries.
    col: usize,
    /// Collections: their keys (mappings) or items (sequences).
    children: Vec<usize>,
    /// Keys: their value.
    value: Option<usize>,
    /// Keys and items of block collections: their entry slot.
    slot: Option<usize>,
    /// The nearest block entry holding the node (its own, for keys and items).
    owner: Option<usize>,
}

/// A block mapping entry or sequence item: where head comments attach.
struct Slot {
    /// The key's start, or the item's `-`.
    pos: usize,
    col: usize,
    /// The previous entry of the same collection.
    prev: Option<usize>,
    /// The key or item.
    node: usize,
}

struct Flat<'a> {
    text: &'a str,
    lines: &'a [usize],
    infos: Vec<Info>,
    slots: Vec<Slot>,
}

/// The comments, by where they go.
#[derive(Default)]
struct Found {
    heads: HashMap<usize, Vec<String>>,
    foots: HashMap<usize, Vec<String>>,
    lines: HashMap<usize, String>,
    doc_head: Vec<String>,
    doc_head_gap: bool,
    doc_foot: Vec<String>,
}

impl Flat<'_> {
    fn col(&self, at: usize) -> usize {
        at - line_start_of(self.lines, at)
    }

    fn visit(
        &mut self,
        n: &syntax::Node,
        role: Role,
        in_flow: bool,
        owner: Option<usize>,
    ) -> usize {
        let id = self.infos.len();
        let shape = match (&n.kind, n.style) {
            (NodeKind::Array(_) | NodeKind::Object(_), Style::Flow) => Shape::Flow,
            (NodeKind::Array(_) | NodeKind::Object(_), _) => Shape::Block,
            (_, Style::Literal | Style::Folded) => Shape::BlockScalar,
            _ => Shape::Scalar,
        };
        let span = match n.style {
            Style::SingleQuoted | Style::DoubleQuoted => self.quoted_span(n.span),
            _ => n.span,
        };
        self.infos.push(Info {
            span,
            role,
            shape,
            in_flow,
            col: 0,
            children: Vec::new(),
            value: None,
            slot: None,
            owner,
        });
        let block = shape == Shape::Block;
        let inner_flow = in_flow || shape == Shape::Flow;
        match &n.kind {
            NodeKind::Object(entries) => {
                let mut prev = None;
                for e in entries {
                    let slot = block.then(|| self.slot(e.key.span.start(), prev));
                    let key = self.visit(&e.key, Role::Key, inner_flow, slot.or(owner));
                    let value = self.visit(&e.value, Role::Value, inner_flow, slot.or(owner));
                    self.infos[key].value = Some(value);
                    self.infos[key].slot = slot;
                    self.infos[id].children.push(key);
                    if let Some(s) = slot {
                        self.slots[s].node = key;
                    }
                    prev = slot;
                }
            }
            NodeKind::Array(items) => {
                let mut prev = None;
                let mut after = n.span.start();
                for item in items {
                    let slot = block.then(|| {
                        let dash = self.dash(after, item.span.start());
                        self.slot(dash, prev)
                    });
                    let child = self.visit(item, Role::Item, inner_flow, slot.or(owner));
                    self.infos[child].slot = slot;
                    self.infos[id].children.push(child);
                    if let Some(s) = slot {
                        self.slots[s].node = child;
                    }
                    prev = slot;
                    after = item.span.end();
                }
            }
            _ => {}
        }
        if shape == Shape::Flow {
            let span = self.infos[id].span;
            let after = self.infos[id].children.last().map_or(span.start(), |&c| {
                let c = &self.infos[c];
                c.value.map_or(c.span.end(), |v| self.infos[v].span.end())
            });
            self.infos[id].span = Span::new(span.start(), self.closing_bracket(after, span.end()));
        }
        if block && let Some(&first) = self.infos[id].children.first() {
            let s = self.infos[first].slot.unwrap_or_default();
            self.infos[id].col = self.slots.get(s).map_or(0, |s| s.col);
        }
        id
    }

    /// A quoted scalar's span, ending just past its closing quote. (The syntax tree's span
    /// may run on through a comment after it.)
    fn quoted_span(&self, span: Span) -> Span {
        let bytes = self.text.as_bytes();
        let mut i = span.start();
        while i < span.end() && matches!(bytes[i], b'&' | b'!') {
            while i < span.end() && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
                i += 1;
            }
            while i < span.end() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
                i += 1;
            }
        }
        let Some(&quote) = bytes.get(i).filter(|&&b| b == b'\'' || b == b'"') else {
            return span;
        };
        i += 1;
        while i < span.end() {
            match bytes[i] {
                b'\\' if quote == b'"' => i += 2,
                b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
                b if b == quote => return Span::new(span.start(), i + 1),
                _ => i += 1,
            }
        }
        span
    }

    /// The end of a flow collection whose last child ends at `after`: just past its
    /// closing bracket. (The syntax tree's span may run on through a comment after it.)
    fn closing_bracket(&self, after: usize, end: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = after;
        while i < end {
            match bytes[i] {
                b']' | b'}' => return i + 1,
                b'#' => {
                    while i < end && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
        end
    }

    fn slot(&mut self, pos: usize, prev: Option<usize>) -> usize {
        let col = self.col(pos);
        self.slots.push(Slot {
            pos,
            col,
            prev,
            node: 0,
        });
        self.slots.len() - 1
    }

    /// The `-` of a block sequence item starting at `item`: just before it, else the first
    /// one after `after` outside comments.
    fn dash(&self, after: usize, item: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = item;
        while i > 0 && matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r') {
            i -= 1;
        }
        if i > 0 && bytes[i - 1] == b'-' {
            return i - 1;
        }
        if bytes.get(item) == Some(&b'-') {
            return item;
        }
        let mut j = after;
        while j < item {
            match bytes[j] {
                b'-' => return j,
                b'#' => {
                    while j < item && bytes[j] != b'\n' {
                        j += 1;
                    }
                }
                _ => j += 1,
            }
        }
        item
    }

    /// Attaches every comment (in source order).
    fn assign(&self, comments: Vec<Comment>) -> Found {
        let mut found = Found::default();
        for (id, info) in self.infos.iter().enumerate() {
            if info.shape == Shape::BlockScalar
                && let Some(c) = self.block_header_comment(info.span)
            {
                found.lines.insert(id, c);
            }
        }
        // Line-comment candidates: scalars and flow collections, by end.
        let mut ends: Vec<(usize, usize)> = self
            .infos
            .iter()
            .enumerate()
            .filter(|(_, i)| i.shape != Shape::Block)
            .map(|(id, i)| (i.span.end(), id))
            .collect();
        ends.sort_unstable();
        // Outermost flow collections, by start.
        let flows: Vec<(Span, usize)> = self
            .infos
            .iter()
            .enumerate()
            .filter(|(_, i)| i.shape == Shape::Flow && !i.in_flow)
            .map(|(id, i)| (i.span, id))
            .collect();
        let root_start = self.infos[0].span.start();

        for c in comments {
            if c.trailing && self.attach_trailing(&c, &ends, &mut found) {
                continue;
            }
            self.attach_full_line(c, root_start, &flows, &mut found);
        }
        found
    }

    /// A block scalar's header comment (`key: | # comment`).
    fn block_header_comment(&self, span: Span) -> Option<String> {
        let text = &self.text[span.start()..span.end()];
        let header = text.split('\n').next().unwrap_or("");
        let at = header
            .char_indices()
            .find(|&(i, ch)| ch == '#' && i > 0 && header[..i].ends_with([' ', '\t']))?
            .0;
        Some(header[at..].trim_end().to_owned())
    }

    fn attach_trailing(&self, c: &Comment, ends: &[(usize, usize)], found: &mut Found) -> bool {
        let line = c.start - c.col;
        let k = ends.partition_point(|&(end, _)| end <= c.start);
        let Some(&(end, id)) = k.checked_sub(1).map(|k| &ends[k]) else {
            return false;
        };
        let info = &self.infos[id];
        if end < line || info.span.start() > c.start || (end == line && info.span.is_empty()) {
            return false;
        }
        if info.in_flow {
            // Inside a flow collection that goes on past the comment.
            self.hoist(id, c.text.clone(), found);
            return true;
        }
        let target = match (info.role, info.value) {
            (Role::Key, Some(value)) => value,
            _ => id,
        };
        if let Vacant(line) = found.lines.entry(target) {
            line.insert(c.text.clone());
        } else {
            self.hoist(id, c.text.clone(), found);
        }
        true
    }

    /// Puts a comment before the block entry holding node `id`.
    fn hoist(&self, id: usize, text: String, found: &mut Found) {
        match self.infos[id].owner {
            Some(slot) => found.heads.entry(slot).or_default().push(text),
            None => found.doc_head.push(text),
        }
    }

    fn attach_full_line(
        &self,
        c: Comment,
        root_start: usize,
        flows: &[(Span, usize)],
        found: &mut Found,
    ) {
        let next = self.slots.partition_point(|s| s.pos <= c.start);
        let next_slot = (next < self.slots.len()).then_some(next);
        if c.start < root_start {
            if self.blank_line_between(c.start, root_start) {
                found.doc_head.push(c.text);
                found.doc_head_gap = true;
            } else if next_slot.is_some() && self.infos[0].shape == Shape::Block {
                found.heads.entry(next).or_default().push(c.text);
            } else {
                found.doc_head.push(c.text);
            }
            return;
        }
        let k = flows.partition_point(|(span, _)| span.start() < c.start);
        if let Some(&(span, id)) = k.checked_sub(1).map(|k| &flows[k])
            && c.start < span.end()
        {
            self.hoist(id, c.text, found);
            return;
        }
        match next_slot {
            Some(e) => {
                let slot = &self.slots[e];
                let target = match slot.prev {
                    Some(prev) if c.col > slot.col => self.foot_holder(prev, c.col),
                    _ => None,
                };
                match target {
                    Some(coll) => found.foots.entry(coll).or_default().push(c.text),
                    None => found.heads.entry(e).or_default().push(c.text),
                }
            }
            None => match self.deepest_block(0, c.col) {
                Some(coll) => found.foots.entry(coll).or_default().push(c.text),
                None => found.doc_foot.push(c.text),
            },
        }
    }

    /// The collection whose foot a comment indented by `col` after entry `slot` ends.
    fn foot_holder(&self, slot: usize, col: usize) -> Option<usize> {
        let node = self.slots[slot].node;
        let start = self.infos[node].value.unwrap_or(node);
        self.deepest_block(start, col)
    }

    /// Along the chain of last entries from `id`, the deepest block collection whose
    /// entries are indented at most `col`.
    fn deepest_block(&self, mut id: usize, col: usize) -> Option<usize> {
        let mut best = None;
        loop {
            let info = &self.infos[id];
            let Some(&last) = info.children.last() else {
                break;
            };
            if info.shape != Shape::Block {
                break;
            }
            if info.col <= col {
                best = Some(id);
            }
            id = self.infos[last].value.unwrap_or(last);
        }
        best
    }

    fn blank_line_between(&self, from: usize, to: usize) -> bool {
        let gap = &self.text[from..to];
        let mut lines = gap.split('\n');
        lines.next(); // the comment's own line
        let mut rest: Vec<&str> = lines.collect();
        rest.pop(); // the root's line
        rest.iter().any(|l| l.trim().is_empty())
    }
}

/// The second pass: builds the model in the same preorder as [`Flat::visit`].
struct Build<'a> {
    text: &'a str,
    infos: &'a [Info],
    found: &'a mut Found,
    next: usize,
}

impl Build<'_> {
    fn node(&mut self, n: &syntax::Node) -> Result<Node, EditError> {
        let id = self.next;
        self.next += 1;
        let value = match &n.kind {
            NodeKind::Alias => {
                return Err(EditError::new(
                    "alias nodes are not supported",
                    Some(n.span),
                ));
            }
            NodeKind::String(s) => Value::Str {
                text: s.to_string(),
                style: n.style,
            },
            NodeKind::Null | NodeKind::Bool(_) | NodeKind::Number(_) => {
                Value::Raw(raw_text(self.text, self.infos[id].span, &n.kind))
            }
            NodeKind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let head = self.head(self.next);
                    out.push(Item {
                        head,
                        node: self.node(item)?,
                    });
                }
                Value::Seq {
                    items: out,
                    flow: n.style == Style::Flow,
                }
            }
            NodeKind::Object(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for e in entries {
                    let head = self.head(self.next);
                    let key = self.node(&e.key)?;
                    let value = self.node(&e.value)?;
                    out.push(Entry { head, key, value });
                }
                Value::Map {
                    entries: out,
                    flow: n.style == Style::Flow,
                }
            }
        };
        Ok(Node {
            value,
            tag: n.tag.as_deref().map(str::to_owned),
            line: self.found.lines.remove(&id),
            foot: self.found.foots.remove(&id).unwrap_or_default(),
            span: Some(self.infos[id].span),
        })
    }

    /// The head comments of the entry whose key or item has preorder id `id`.
    fn head(&mut self, id: usize) -> Vec<String> {
        self.infos
            .get(id)
            .and_then(|i| i.slot)
            .and_then(|s| self.found.heads.remove(&s))
            .unwrap_or_default()
    }
}

/// A non-string scalar's text as written, without its anchor and tag.
fn raw_text(text: &str, span: Span, kind: &NodeKind) -> String {
    let mut s = &text[span.start()..span.end()];
    while s.starts_with(['&', '!']) {
        let end = s.find([' ', '\t', '\n', '\r']).unwrap_or(s.len());
        s = s[end..].trim_start();
    }
    if s.contains('\n') {
        // A block scalar or a multi-line quoted scalar typed by a tag: its canonical form.
        return match kind {
            NodeKind::Bool(b) => b.to_string(),
            NodeKind::Number(x) => x.to_string(),
            _ => "null".to_owned(),
        };
    }
    s.to_owned()
}
