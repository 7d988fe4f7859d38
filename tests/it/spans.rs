//! Exact spans, pinned by snapshots: every syntax node, declaration part, expression,
//! accessor and diagnostic of the documents in `fixtures/spans/`, each shown with its
//! line:column range and the source text it covers.

use std::fmt::Write as _;

use escc::ast::{Expr, ExprKind, PropertyAccess};
use escc::syntax::{Node, NodeKind};
use escc::{Source, Span, load};

fn at(source: &Source, span: Span) -> String {
    let (s, e) = (source.line_col(span.start()), source.line_col(span.end()));
    format!(
        "{}:{}-{}:{} {:?}",
        s.line,
        s.column,
        e.line,
        e.column,
        source.slice(span)
    )
}

fn node(out: &mut String, source: &Source, n: &Node, depth: usize) {
    let pad = "  ".repeat(depth);
    let what = match &n.kind {
        NodeKind::Null => "null".to_owned(),
        NodeKind::Bool(b) => format!("bool {b}"),
        NodeKind::Number(x) => format!("number {x}"),
        NodeKind::String(s) => format!("string {s:?}"),
        NodeKind::Array(_) => "array".to_owned(),
        NodeKind::Object(_) => "object".to_owned(),
        NodeKind::Alias => "alias".to_owned(),
    };
    let _ = writeln!(out, "{pad}{what} @ {}", at(source, n.span));
    match &n.kind {
        NodeKind::Array(items) => {
            for i in items {
                node(out, source, i, depth + 1);
            }
        }
        NodeKind::Object(entries) => {
            for e in entries {
                let _ = writeln!(out, "{pad}  key @ {}", at(source, e.key.span));
                node(out, source, &e.value, depth + 2);
            }
        }
        _ => {}
    }
}

fn access(out: &mut String, source: &Source, a: &PropertyAccess, pad: &str) {
    let _ = writeln!(out, "{pad}access @ {}", at(source, a.span));
    for acc in &a.accessors {
        let _ = writeln!(out, "{pad}  {:?} @ {}", acc.kind, at(source, acc.span));
    }
}

fn expr(out: &mut String, source: &Source, e: &Expr, depth: usize) {
    let pad = "  ".repeat(depth);
    let kind = match &e.kind {
        ExprKind::Null => "null",
        ExprKind::Bool(_) => "bool",
        ExprKind::Number(_) => "number",
        ExprKind::String(_) => "string",
        ExprKind::Interpolate(_) => "interpolate",
        ExprKind::Symbol(_) => "symbol",
        ExprKind::List(_) => "list",
        ExprKind::Object(_) => "object",
        ExprKind::Builtin(_) => "builtin",
        other => panic!("an expression kind these snapshots do not show: {other:?}"),
    };
    let _ = writeln!(out, "{pad}{kind} @ {}", at(source, e.span));
    match &e.kind {
        ExprKind::Symbol(a) => access(out, source, a, &format!("{pad}  ")),
        ExprKind::Interpolate(parts) => {
            for p in parts {
                let _ = writeln!(out, "{pad}  text {:?}", p.text);
                if let Some(a) = &p.access {
                    access(out, source, a, &format!("{pad}  "));
                }
            }
        }
        ExprKind::List(items) => {
            for i in items {
                expr(out, source, i, depth + 1);
            }
        }
        ExprKind::Object(entries) => {
            for en in entries {
                let _ = writeln!(out, "{pad}  key {:?} @ {}", en.key, at(source, en.key_span));
                expr(out, source, &en.value, depth + 2);
            }
        }
        ExprKind::Builtin(b) => {
            let _ = writeln!(
                out,
                "{pad}  name {} @ {} call {:?}",
                b.name,
                at(source, b.name_span),
                b.call
            );
            expr(out, source, &b.arg, depth + 2);
        }
        _ => {}
    }
}

fn render(name: &str, text: String) -> String {
    let source = Source::new(name, text);
    let loaded = load(&source);
    let mut out = String::from("# diagnostics\n");
    for d in &loaded.diags {
        let place = d.span.map_or_else(|| "-".to_owned(), |s| at(&source, s));
        let _ = writeln!(
            out,
            "{:?} [{}] {} (path {:?}) @ {place}",
            d.severity, d.code, d.summary, d.path
        );
    }
    out.push_str("# syntax\n");
    if let Some(root) = &loaded.syntax.root {
        node(&mut out, &source, root, 0);
    }
    out.push_str("# declaration\n");
    if let Some(decl) = &loaded.decl {
        if let Some(d) = &decl.description {
            let _ = writeln!(out, "description @ {}", at(&source, d.span));
        }
        for i in decl.imports.iter().flatten() {
            let _ = writeln!(
                out,
                "import {} @ {}",
                i.environment.value,
                at(&source, i.span)
            );
        }
        for v in decl.values.iter().flatten() {
            let _ = writeln!(out, "value {:?} @ {}", v.key.value, at(&source, v.key.span));
            expr(&mut out, &source, &v.value, 1);
        }
    }
    out
}

#[test]
fn spans() {
    insta::glob!("../../fixtures/spans", "*.yaml", |path| {
        let text = std::fs::read_to_string(path).expect("fixture is readable");
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(render(&name, text));
    });
}

/// Span invariants over the same fixtures: inside the text, on char boundaries, and
/// children inside their parents.
#[test]
fn spans_nest() {
    fn check(n: &Node, text: &str, parent: Span) {
        let s = n.span;
        assert!(
            s.start <= s.end && s.end() <= text.len(),
            "{s:?} out of bounds"
        );
        assert!(text.is_char_boundary(s.start()) && text.is_char_boundary(s.end()));
        assert!(
            parent.start <= s.start && s.end <= parent.end,
            "{s:?} outside its parent {parent:?}"
        );
        match &n.kind {
            NodeKind::Array(items) => items.iter().for_each(|i| check(i, text, s)),
            NodeKind::Object(entries) => entries.iter().for_each(|e| {
                check(&e.key, text, s);
                check(&e.value, text, s);
            }),
            _ => {}
        }
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/spans");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let source = Source::new("t", text.clone());
        let loaded = load(&source);
        let root = loaded.syntax.root.expect("fixtures have a root");
        check(&root, &text, Span::new(0, text.len()));
        seen += 1;
    }
    assert!(seen >= 5, "the span fixtures are missing");
}
