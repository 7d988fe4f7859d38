//! Writing the model out as go-yaml v3's emitter writes a node tree.
//!
//! Indentation: a block collection under a mapping key is indented to the next multiple of
//! the indent step; anything inside a sequence item is indented two columns past the `-`
//! (a mapping or sequence there starts on the item's line: `- key: v`, `- - x`).

use super::scalar::{Place, choose, double_quoted, is_break, pad, single_quoted};
use super::{Doc, Entry, Item, Node, Value};
use crate::syntax::Style;

/// Writes `doc` indented by `step`; `size` is a guess of the output's length.
pub(super) fn emit(doc: &Doc, step: usize, size: usize) -> String {
    let mut e = Emitter {
        out: String::with_capacity(size),
        step,
    };
    e.comments(0, &doc.head);
    if doc.head_gap && !doc.head.is_empty() {
        e.out.push('\n');
    }
    if let Some(root) = &doc.root {
        e.root(root);
    }
    e.comments(0, &doc.foot);
    if e.out.is_empty() && doc.root.is_some() {
        // A null root that leaves nothing to write (`&a`, once its anchor is dropped): an
        // empty text would read back as an empty mapping.
        e.out.push_str("null\n");
    }
    e.out
}

/// Where a value is written.
#[derive(Clone, Copy)]
enum Ctx {
    Root,
    /// After `key:` in a block mapping indented by the number.
    MapValue(usize),
    /// After the `-` at this column.
    Item(usize),
}

struct Emitter {
    out: String,
    step: usize,
}

/// A non-empty block collection's entries.
enum Block<'a> {
    Map(&'a [Entry]),
    Seq(&'a [Item]),
}

fn block_of(n: &Node) -> Option<Block<'_>> {
    match &n.value {
        Value::Map {
            entries,
            flow: false,
        } if !entries.is_empty() => Some(Block::Map(entries)),
        Value::Seq { items, flow: false } if !items.is_empty() => Some(Block::Seq(items)),
        _ => None,
    }
}

impl Emitter {
    fn comments(&mut self, indent: usize, lines: &[String]) {
        for c in lines {
            pad(&mut self.out, indent);
            self.out.push_str(c);
            self.out.push('\n');
        }
    }

    fn line_comment(&mut self, n: &Node) {
        if let Some(c) = &n.line {
            self.out.push(' ');
            self.out.push_str(c);
        }
    }

    fn child_indent(&self, ctx: Ctx) -> usize {
        match ctx {
            Ctx::Root => 0,
            Ctx::MapValue(m) => self.step * ((m + self.step) / self.step),
            Ctx::Item(dash) => dash + 2,
        }
    }

    fn root(&mut self, n: &Node) {
        if let Some(block) = block_of(n) {
            if let Some(tag) = &n.tag {
                self.out.push_str(tag);
                self.out.push('\n');
            }
            if let Some(c) = &n.line {
                self.comments(0, std::slice::from_ref(c));
            }
            self.block(&block, 0, false);
            self.comments(0, &n.foot);
        } else if matches!(&n.value, Value::Raw(t) if t.is_empty()) && n.tag.is_none() {
            // An empty document: nothing to write but its comments.
            if let Some(c) = &n.line {
                self.comments(0, std::slice::from_ref(c));
            }
            self.comments(0, &n.foot);
        } else {
            self.scalar_or_flow(n, Ctx::Root);
        }
    }

    fn block(&mut self, block: &Block<'_>, indent: usize, inline_first: bool) {
        match block {
            Block::Map(entries) => self.map(entries, indent, inline_first),
            Block::Seq(items) => self.seq(items, indent, inline_first),
        }
    }

    /// A block mapping's entries at `indent`; with `inline_first`, the first key goes on
    /// the current line (its head comments were written before it).
    fn map(&mut self, entries: &[Entry], indent: usize, inline_first: bool) {
        for (i, e) in entries.iter().enumerate() {
            if i > 0 || !inline_first {
                self.comments(indent, &e.head);
                pad(&mut self.out, indent);
            }
            let key = inline(&e.key, Place::Key, indent);
            self.out.push_str(&key);
            self.out.push(':');
            self.value(&e.value, Ctx::MapValue(indent));
        }
    }

    fn seq(&mut self, items: &[Item], indent: usize, inline_first: bool) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 || !inline_first {
                self.comments(indent, &item.head);
                let mut heads = Vec::new();
                leading_heads(&item.node, &mut heads);
                for c in heads {
                    pad(&mut self.out, indent);
                    self.out.push_str(c);
                    self.out.push('\n');
                }
                pad(&mut self.out, indent);
            }
            self.out.push('-');
            self.value(&item.node, Ctx::Item(indent));
        }
    }

    /// Writes a value after its `key:` or `-`, through the end of its last line.
    fn value(&mut self, n: &Node, ctx: Ctx) {
        let Some(block) = block_of(n) else {
            self.scalar_or_flow(n, ctx);
            return;
        };
        let indent = match ctx {
            Ctx::Item(dash) if n.tag.is_none() => {
                // `- key: v` / `- - x`: the comments before it were written before the `-`.
                self.out.push(' ');
                self.block(&block, dash + 2, true);
                dash + 2
            }
            _ => {
                if let Some(tag) = &n.tag {
                    self.out.push(' ');
                    self.out.push_str(tag);
                }
                self.line_comment(n);
                self.out.push('\n');
                let indent = self.child_indent(ctx);
                self.block(&block, indent, false);
                indent
            }
        };
        self.comments(indent, &n.foot);
    }

    fn scalar_or_flow(&mut self, n: &Node, ctx: Ctx) {
        let space = if matches!(ctx, Ctx::Root) { "" } else { " " };
        let indent = match ctx {
            Ctx::Root => self.step,
            _ => self.child_indent(ctx),
        };
        if let Value::Str { text, style } = &n.value {
            let (tag, style) = choose(text, *style, n.tag.is_some(), Place::Block);
            if matches!(style, Style::Literal | Style::Folded) {
                self.out.push_str(space);
                if tag {
                    self.out.push_str("!!str ");
                }
                let parent = match ctx {
                    Ctx::Root => 0,
                    Ctx::MapValue(m) => m,
                    Ctx::Item(dash) => dash,
                };
                self.block_scalar(text, style == Style::Folded, indent, indent - parent, n);
                self.comments(indent, &n.foot);
                return;
            }
        }
        let text = inline(n, Place::Block, indent);
        if !text.is_empty() {
            self.out.push_str(space);
            self.out.push_str(&text);
        }
        self.line_comment(n);
        self.out.push('\n');
        self.comments(indent, &n.foot);
    }

    /// A literal or folded scalar: its header (with the line comment), then its lines at
    /// `indent`. `hint` is the indentation indicator, needed when the text starts with a
    /// space or a line break.
    fn block_scalar(&mut self, text: &str, folded: bool, indent: usize, hint: usize, n: &Node) {
        self.out.push(if folded { '>' } else { '|' });
        let mut chars = text.chars();
        if chars.next().is_some_and(|c| c == ' ' || is_break(c)) {
            self.out.push_str(&hint.to_string());
        }
        let mut rev = text.chars().rev();
        match (rev.next(), rev.next()) {
            (Some(last), _) if !is_break(last) => self.out.push('-'),
            (None, _) => self.out.push('-'),
            (Some(_), None) => self.out.push('+'),
            (Some(_), Some(before)) if is_break(before) => self.out.push('+'),
            _ => {}
        }
        self.line_comment(n);
        self.out.push('\n');
        if folded {
            self.folded(text, indent);
        } else {
            let mut at_start = true;
            for c in text.chars() {
                if is_break(c) {
                    self.out.push(c);
                    at_start = true;
                } else {
                    if at_start {
                        pad(&mut self.out, indent);
                    }
                    self.out.push(c);
                    at_start = false;
                }
            }
        }
        if !self.out.ends_with('\n') {
            self.out.push('\n');
        }
    }

    /// A folded scalar's lines. A line break after text is written as a blank line (a
    /// single break would fold into a space), unless the text's first line after its
    /// leading breaks starts with a blank: go-yaml looks there rather than at the next line,
    /// and its output is reproduced; but not when the next line starts with a blank, as a
    /// break before a more-indented line does not fold (go-yaml adds the blank line there
    /// too, and the text reads back with one break more).
    fn folded(&mut self, text: &str, indent: usize) {
        let first_blank = text
            .chars()
            .find(|&c| !is_break(c))
            .is_none_or(|c| c == ' ' || c == '\t');
        let mut breaks = true;
        let mut leading_spaces = true;
        for (i, c) in text.char_indices() {
            if is_break(c) {
                // Only the first break of a run looks ahead, so the scan stays linear.
                if !breaks
                    && !leading_spaces
                    && c == '\n'
                    && !first_blank
                    && !text[i..]
                        .chars()
                        .find(|&c| !is_break(c))
                        .is_some_and(|c| c == ' ' || c == '\t')
                {
                    self.out.push('\n');
                }
                self.out.push(c);
                breaks = true;
            } else {
                if breaks {
                    pad(&mut self.out, indent);
                    leading_spaces = c == ' ' || c == '\t';
                }
                self.out.push(c);
                breaks = false;
            }
        }
    }
}

/// The comments written before a sequence item's `-` when a block collection starts on the
/// item's line: the collection's own line comment, then its first entry's head comments
/// (and so on down a chain of `- - ...`).
fn leading_heads<'a>(n: &'a Node, out: &mut Vec<&'a String>) {
    if n.tag.is_some() {
        return;
    }
    match block_of(n) {
        Some(Block::Map(entries)) => {
            out.extend(&n.line);
            out.extend(&entries[0].head);
        }
        Some(Block::Seq(items)) => {
            out.extend(&n.line);
            out.extend(&items[0].head);
            leading_heads(&items[0].node, out);
        }
        None => {}
    }
}

/// A node written on the current line (flow collections, scalars other than block
/// scalars); `indent` is where a single-quoted string's continuation lines go.
fn inline(n: &Node, place: Place, indent: usize) -> String {
    let mut out = String::new();
    match &n.value {
        Value::Raw(text) => {
            if let Some(tag) = &n.tag {
                out.push_str(tag);
                if !text.is_empty() {
                    out.push(' ');
                }
            }
            out.push_str(text);
        }
        Value::Str { text, style } => {
            let (tag, style) = choose(text, *style, n.tag.is_some(), place);
            if tag {
                out.push_str("!!str ");
            }
            match style {
                Style::SingleQuoted => out.push_str(&single_quoted(text, indent)),
                Style::DoubleQuoted | Style::Literal | Style::Folded => {
                    out.push_str(&double_quoted(text));
                }
                Style::Plain | Style::Flow => out.push_str(text),
            }
        }
        Value::Seq { items, .. } => {
            if let Some(tag) = &n.tag {
                out.push_str(tag);
                out.push(' ');
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&inline(&item.node, Place::Flow, indent));
            }
            out.push(']');
        }
        Value::Map { entries, .. } => {
            if let Some(tag) = &n.tag {
                out.push_str(tag);
                out.push(' ');
            }
            out.push('{');
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&inline(&e.key, Place::Flow, indent));
                out.push(':');
                let value = inline(&e.value, Place::Flow, indent);
                if !value.is_empty() {
                    out.push(' ');
                    out.push_str(&value);
                }
            }
            out.push('}');
        }
    }
    out
}
