//! Invariants that must hold for every input, shared by the fuzz targets
//! (`fuzz/fuzz_targets/*.rs` include this file with `#[path]`), the corpus replay
//! (`fuzz_corpus.rs`) and the property tests (`no_panic.rs`).
//!
//! Whatever the text, loading it must not panic, and every span it reports (diagnostics,
//! syntax nodes, declarations) must lie inside the text, be ordered, and start and end on
//! `char` boundaries, so that slicing the text with it can never panic.

use escc::ast::{Call, EnvironmentDecl, Expr, ExprKind, PropertyAccess, SecretArg};
use escc::syntax::{Node, NodeKind};
use escc::{Source, Span};

/// Loads `text` with the default limits and asserts every invariant.
pub(crate) fn check_load(text: &str) {
    let source = Source::new("fuzz", text);
    let loaded = escc::load(&source);

    for diag in &loaded.diags {
        assert!(
            !diag.summary.is_empty(),
            "diagnostic {:?} has an empty summary",
            diag.code
        );
        if let Some(span) = diag.span {
            check_span(text, span, || {
                format!("diagnostic {:?} {:?}", diag.code, diag.summary)
            });
            // Positions are derived from spans: this must not panic either.
            let _ = diag.positions(&source);
        }
    }

    if let Some(root) = &loaded.syntax.root {
        check_syntax(text, root);
    }

    // A document is lowered exactly when decoding had no errors.
    assert_eq!(
        loaded.decl.is_none(),
        loaded.syntax.has_errors(),
        "declaration present despite YAML errors, or absent without them"
    );
    if loaded.decl.is_none() {
        assert!(
            loaded.diags.iter().any(escc::Diagnostic::is_error),
            "no declaration, yet no error diagnostic"
        );
    }
    if let Some(decl) = &loaded.decl {
        check_decl(text, decl);
    }
}

/// Parses `path` as a command-line property path, and as the access of a `${...}` inside
/// a document (then loaded with [`check_load`]); neither may panic.
pub(crate) fn check_path(path: &str) {
    if let Ok(accessors) = escc::ast::parse_property_path(path) {
        // Parsing is deterministic.
        assert_eq!(
            escc::ast::parse_property_path(path),
            Ok(accessors),
            "path {path:?} parsed differently twice"
        );
    }
    if !path.contains(['\n', '\r']) {
        check_load(&format!(
            "values:\n  a: |\n    ${{{path}}}\n  b: x${{{path}}}y\n"
        ));
    }
}

/// Asserts that `span` is ordered, in bounds and on char boundaries of `text`.
fn check_span(text: &str, span: Span, what: impl Fn() -> String) {
    let (start, end) = (span.start(), span.end());
    assert!(start <= end, "{}: span {start}..{end} is reversed", what());
    assert!(
        end <= text.len(),
        "{}: span {start}..{end} ends past the text ({} bytes)",
        what(),
        text.len()
    );
    assert!(
        text.is_char_boundary(start) && text.is_char_boundary(end),
        "{}: span {start}..{end} splits a character",
        what()
    );
}

/// Walks the syntax tree (iteratively) checking every node's span.
fn check_syntax(text: &str, root: &Node) {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        check_span(text, node.span, || format!("syntax node {:?}", node.kind));
        match &node.kind {
            NodeKind::Array(items) => stack.extend(items),
            NodeKind::Object(entries) => {
                for entry in entries {
                    stack.push(&entry.key);
                    stack.push(&entry.value);
                }
            }
            NodeKind::Null
            | NodeKind::Bool(_)
            | NodeKind::Number(_)
            | NodeKind::String(_)
            | NodeKind::Alias => {}
        }
    }
}

/// Checks every span of the declaration: literals, imports, expressions, accessors.
fn check_decl(text: &str, decl: &EnvironmentDecl) {
    if let Some(description) = &decl.description {
        check_span(text, description.span, || "description".to_owned());
    }
    for import in decl.imports.iter().flatten() {
        check_span(text, import.span, || "import".to_owned());
        check_span(text, import.environment.span, || "import name".to_owned());
        if let Some((_, span)) = import.merge {
            check_span(text, span, || "import merge".to_owned());
        }
    }
    let mut stack: Vec<&Expr> = Vec::new();
    for entry in decl.values.iter().flatten() {
        check_span(text, entry.key.span, || {
            format!("value key {:?}", entry.key.value)
        });
        stack.push(&entry.value);
    }
    while let Some(expr) = stack.pop() {
        check_span(text, expr.span, || format!("expression {:?}", expr.kind));
        match &expr.kind {
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::String(_) => {}
            ExprKind::Interpolate(parts) => {
                for access in parts.iter().filter_map(|p| p.access.as_ref()) {
                    check_access(text, access);
                }
            }
            ExprKind::Symbol(access) => check_access(text, access),
            ExprKind::List(items) => stack.extend(items),
            ExprKind::Object(entries) => {
                for entry in entries {
                    check_span(text, entry.key_span, || {
                        format!("object key {:?}", entry.key)
                    });
                    stack.push(&entry.value);
                }
            }
            ExprKind::Builtin(builtin) => {
                check_span(text, builtin.name_span, || {
                    format!("builtin {:?}", builtin.name)
                });
                stack.push(&builtin.arg);
                let literal = match &builtin.call {
                    Call::Open { provider, .. } | Call::Rotate { provider, .. } => {
                        provider.as_ref()
                    }
                    Call::Secret(SecretArg::Plaintext(lit) | SecretArg::Ciphertext(lit)) => {
                        Some(lit)
                    }
                    _ => None,
                };
                if let Some(lit) = literal {
                    check_span(text, lit.span, || format!("argument of {:?}", builtin.name));
                }
            }
        }
    }
}

fn check_access(text: &str, access: &PropertyAccess) {
    check_span(text, access.span, || "property access".to_owned());
    for accessor in &access.accessors {
        check_span(text, accessor.span, || {
            format!("accessor {:?}", accessor.kind)
        });
    }
}
