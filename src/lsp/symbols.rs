//! Document symbols: an outline of `imports` and `values`, from the syntax tree (so a
//! document with errors still has one). Details name types and builtins, never values.

use tower_lsp_server::ls_types::{DocumentSymbol, SymbolKind};

use super::convert::{Encoding, LineMap};
use crate::Span;
use crate::syntax::{Entry, Node, NodeKind};

/// One outline entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Symbol {
    /// The key (or `[i]` for a list element).
    pub(crate) name: String,
    /// A type or builtin name.
    pub(crate) detail: String,
    /// What it is.
    pub(crate) kind: SymbolKind,
    /// Key and value.
    pub(crate) span: Span,
    /// The key.
    pub(crate) selection: Span,
    /// Nested entries.
    pub(crate) children: Vec<Symbol>,
}

/// Nesting below this depth is left out of the outline.
const MAX_DEPTH: usize = 32;

/// The outline of a document's syntax tree.
pub(crate) fn outline(root: Option<&Node>, text: &str) -> Vec<Symbol> {
    let Some(Node {
        kind: NodeKind::Object(entries),
        ..
    }) = root
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for Entry { key, value } in entries {
        match key.as_str().map(str::to_lowercase).as_deref() {
            Some("imports") => {
                let children = match &value.kind {
                    NodeKind::Array(items) => items
                        .iter()
                        .filter_map(|item| {
                            let (name, span) = match &item.kind {
                                NodeKind::String(s) => (s.to_string(), item.span),
                                NodeKind::Object(e) if !e.is_empty() => {
                                    (key_name(&e[0].key, text), e[0].key.span)
                                }
                                _ => return None,
                            };
                            Some(Symbol {
                                name,
                                detail: "import".into(),
                                kind: SymbolKind::MODULE,
                                span: item.span,
                                selection: span,
                                children: Vec::new(),
                            })
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                out.push(Symbol {
                    name: key_name(key, text),
                    detail: String::new(),
                    kind: SymbolKind::NAMESPACE,
                    span: key.span.cover(value.span),
                    selection: key.span,
                    children,
                });
            }
            Some("values") => {
                if let NodeKind::Object(values) = &value.kind {
                    out.extend(values.iter().map(|e| entry(e, text, 0)));
                }
            }
            _ => {}
        }
    }
    out
}

fn key_name(key: &Node, text: &str) -> String {
    key.as_str().map_or_else(
        || {
            text.get(key.span.start()..key.span.end())
                .unwrap_or("")
                .to_owned()
        },
        str::to_owned,
    )
}

fn entry(e: &Entry, text: &str, depth: usize) -> Symbol {
    let (kind, detail, children) = describe(&e.value, text, depth);
    Symbol {
        name: key_name(&e.key, text),
        detail,
        kind,
        span: e.key.span.cover(e.value.span),
        selection: e.key.span,
        children,
    }
}

fn describe(value: &Node, text: &str, depth: usize) -> (SymbolKind, String, Vec<Symbol>) {
    match &value.kind {
        NodeKind::Object(entries) => {
            if let [only] = entries.as_slice()
                && let Some(name) = only.key.as_str()
                && name.starts_with("fn::")
            {
                return (SymbolKind::FUNCTION, name.to_owned(), Vec::new());
            }
            let children = if depth < MAX_DEPTH {
                entries.iter().map(|e| entry(e, text, depth + 1)).collect()
            } else {
                Vec::new()
            };
            (SymbolKind::OBJECT, "object".into(), children)
        }
        NodeKind::Array(items) => {
            let children = if depth < MAX_DEPTH {
                items
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| matches!(i.kind, NodeKind::Object(_) | NodeKind::Array(_)))
                    .map(|(n, i)| {
                        let (kind, detail, children) = describe(i, text, depth + 1);
                        Symbol {
                            name: format!("[{n}]"),
                            detail,
                            kind,
                            span: i.span,
                            selection: i.span,
                            children,
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            (SymbolKind::ARRAY, "array".into(), children)
        }
        NodeKind::String(s) if s.contains("${") => {
            (SymbolKind::STRING, "template".into(), Vec::new())
        }
        NodeKind::String(_) => (SymbolKind::STRING, "string".into(), Vec::new()),
        NodeKind::Number(_) => (SymbolKind::NUMBER, "number".into(), Vec::new()),
        NodeKind::Bool(_) => (SymbolKind::BOOLEAN, "boolean".into(), Vec::new()),
        NodeKind::Null | NodeKind::Alias => (SymbolKind::NULL, "null".into(), Vec::new()),
    }
}

/// The protocol's form of an outline.
pub(crate) fn to_lsp(
    symbols: &[Symbol],
    text: &str,
    lines: &LineMap,
    enc: Encoding,
) -> Vec<DocumentSymbol> {
    symbols
        .iter()
        .map(|s| {
            let range = lines.range(text, s.span, enc);
            let mut selection = lines.range(text, s.selection, enc);
            // The selection must lie within the range.
            if selection.start < range.start || selection.end > range.end {
                selection = range;
            }
            #[allow(deprecated)] // `deprecated` is a required field of the protocol type.
            DocumentSymbol {
                name: if s.name.is_empty() {
                    "\"\"".to_owned()
                } else {
                    s.name.clone()
                },
                detail: (!s.detail.is_empty()).then(|| s.detail.clone()),
                kind: s.kind,
                tags: None,
                deprecated: None,
                range,
                selection_range: selection,
                children: (!s.children.is_empty()).then(|| to_lsp(&s.children, text, lines, enc)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, Source};

    #[test]
    fn outline_of_values() {
        let text = "imports:\n  - base\n  - other: {merge: false}\nvalues:\n  a:\n    b: 1\n    c: [x, {d: 2}]\n  s:\n    fn::secret: hunter2\n  t: ${a.b}\n";
        let src = Source::new("app", text);
        let parsed = crate::syntax::parse(&src, &Limits::default());
        let syms = outline(parsed.root.as_ref(), text);
        let names: Vec<&str> = syms.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["imports", "a", "s", "t"]);
        let imports: Vec<&str> = syms[0].children.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(imports, ["base", "other"]);
        let a = &syms[1];
        assert_eq!(a.kind, SymbolKind::OBJECT);
        assert_eq!(src.slice(a.selection), "a");
        assert_eq!(a.children[1].name, "c");
        assert_eq!(a.children[1].children[0].name, "[1]");
        assert_eq!(syms[2].detail, "fn::secret");
        assert_eq!(syms[3].detail, "template");
        let lsp = to_lsp(&syms, text, &LineMap::new(text), Encoding::Utf16);
        assert_eq!(lsp.len(), 4);
        assert!(!format!("{lsp:?}").contains("hunter2"));
        // A broken document still has an outline of what was read.
        let broken = "values:\n  a: 1\n  b: [\n";
        let src = Source::new("app", broken);
        let parsed = crate::syntax::parse(&src, &Limits::default());
        let _ = outline(parsed.root.as_ref(), broken);
    }
}
