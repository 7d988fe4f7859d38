//! Invariants that must hold for every input, shared by the fuzz targets
//! (`fuzz/fuzz_targets/*.rs` include this file with `#[path]`), the corpus replay
//! (`fuzz_corpus.rs`) and the property tests (`no_panic.rs`).
//!
//! Whatever the text, loading it must not panic, and every span it reports (diagnostics,
//! syntax nodes, declarations) must lie inside the text, be ordered, and start and end on
//! `char` boundaries, so that slicing the text with it can never panic. A template must mean
//! the same whichever scalar style it is written in ([`check_template`]); evaluation must
//! not depend on concurrency and must be deterministic ([`check_eval`]); and no redacted
//! output may show a secret ([`check_secret_taint`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use escc::ast::{Call, EnvironmentDecl, Expr, ExprKind, PropertyAccess, SecretArg};
use escc::eval::{Evaluation, Mode, Options, evaluate_with};
use escc::syntax::{Node, NodeKind};
use escc::testing::{TestHost, rot128};
use escc::{Diagnostic, Source, Span};

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
            // The AST may grow (`#[non_exhaustive]`): a new kind needs its invariants here.
            other => panic!("an expression kind the invariants do not check: {other:?}"),
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
// -------------------------------------------------------------------------------------
// Encodings of a plaintext, for needles and ciphertexts (shared with `secrets.rs`)

/// Suffixes that make a plaintext's escaped forms differ from it.
pub(crate) const DECORATIONS: &[&str] = &["", "<&>", "\"q\"", "\\n", " é", "'x'"];

pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    crc_reflected(0xEDB8_8320, bytes)
}

/// A reflected CRC-32 with polynomial `poly`, bit by bit (independent of escc's
/// table-driven one): `0xEDB88320` is CRC-32/IEEE, `0x82F63B78` CRC-32C.
pub(crate) fn crc_reflected(poly: u32, bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ poly
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The `fn::secret: {ciphertext: ...}` envelope of `plaintext` under the test cipher.
pub(crate) fn envelope(plaintext: &str) -> String {
    let mut raw = b"escx".to_vec();
    raw.extend(1u32.to_be_bytes());
    raw.extend(rot128(plaintext.as_bytes()));
    let crc = crc32(&raw);
    raw.extend(crc.to_be_bytes());
    base64(&raw)
}

/// Go's `encoding/json` string escaping (HTML-safe), without the quotes.
pub(crate) fn go_json_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '<' | '>' | '&' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// What must never show of `plaintext`: itself, its JSON-escaped forms, and its base64
/// encodings at the three alignments it can have inside a longer encoded string.
pub(crate) fn needles_of(plaintext: &str) -> Vec<String> {
    let json = serde_json::to_string(plaintext).unwrap();
    let mut out = vec![
        plaintext.to_owned(),
        json[1..json.len() - 1].to_owned(),
        go_json_escape(plaintext),
    ];
    let bytes = plaintext.as_bytes();
    for offset in 0..3 {
        let rest = &bytes[offset.min(bytes.len())..];
        let n = rest.len() / 3 * 3;
        if n >= 9 {
            out.push(base64(&rest[..n]));
        }
    }
    out.push(base64(bytes));
    out
}

/// A block-style document whose values are JSON (valid YAML flow) texts.
pub(crate) fn document(imports: &[&str], values: &[(String, serde_json::Value)]) -> String {
    let mut doc = String::new();
    if !imports.is_empty() {
        doc.push_str("imports:\n");
        for i in imports {
            let _ = writeln!(doc, "  - {i}");
        }
    }
    doc.push_str("values:\n");
    for (k, v) in values {
        let _ = writeln!(doc, "  {k}: {}", serde_json::to_string(v).unwrap());
    }
    doc
}

// -------------------------------------------------------------------------------------
// Templates in every scalar style

/// One way of writing a string as the value `a` of a document.
struct Written {
    style: &'static str,
    doc: String,
    /// Where the string starts in `doc` when the source holds it byte for byte: then every
    /// span, taken relative to that offset, must be the same as in any other such style.
    verbatim_at: Option<usize>,
    /// Whether the document must decode to exactly the string (an escaped double-quoted
    /// string can hold any text; the other styles cannot).
    must_decode: bool,
}

/// `s` written as a double-quoted YAML string, escaping what YAML does not allow there
/// (and, with `ascii`, everything outside ASCII); whether nothing needed escaping.
fn double_quoted(s: &str, ascii: bool) -> (String, bool) {
    let mut out = String::new();
    let mut verbatim = true;
    for c in s.chars() {
        // YAML's printable set, minus the characters that YAML 1.1 reads as line breaks
        // and the byte-order mark.
        let printable = matches!(c, ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
            && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}');
        let escape = match c {
            '"' => Some("\\\"".to_owned()),
            '\\' => Some("\\\\".to_owned()),
            '\t' => Some("\\t".to_owned()),
            '\n' => Some("\\n".to_owned()),
            '\r' => Some("\\r".to_owned()),
            _ if !printable || (ascii && !c.is_ascii()) => Some(if u32::from(c) <= 0xFFFF {
                format!("\\u{:04X}", u32::from(c))
            } else {
                format!("\\U{:08X}", u32::from(c))
            }),
            _ => None,
        };
        match escape {
            Some(e) => {
                verbatim = false;
                out.push_str(&e);
            }
            None => out.push(c),
        }
    }
    (out, verbatim)
}

/// `s` as the value of `a` in every scalar style that can hold it.
fn written_forms(s: &str) -> Vec<Written> {
    const PREFIX: &str = "values:\n  a: ";
    let one_line = !s.contains(['\n', '\r']);
    let mut out = Vec::new();
    if one_line {
        out.push(Written {
            style: "plain",
            doc: format!("{PREFIX}{s}\n"),
            verbatim_at: Some(PREFIX.len()),
            must_decode: false,
        });
    }
    out.push(Written {
        style: "single-quoted",
        doc: format!("{PREFIX}'{}'\n", s.replace('\'', "''")),
        verbatim_at: (one_line && !s.contains('\'')).then_some(PREFIX.len() + 1),
        must_decode: false,
    });
    let (escaped, verbatim) = double_quoted(s, false);
    out.push(Written {
        style: "double-quoted",
        doc: format!("{PREFIX}\"{escaped}\"\n"),
        verbatim_at: verbatim.then_some(PREFIX.len() + 1),
        must_decode: true,
    });
    let (escaped, _) = double_quoted(s, true);
    out.push(Written {
        style: "double-quoted, ASCII only",
        doc: format!("{PREFIX}\"{escaped}\"\n"),
        verbatim_at: None,
        must_decode: true,
    });
    for (style, indicator) in [("literal", '|'), ("folded", '>')] {
        let mut doc = format!("{PREFIX}{indicator}-\n");
        let body = doc.len() + 4;
        for line in s.split('\n') {
            if line.is_empty() {
                doc.push('\n');
            } else {
                let _ = writeln!(doc, "    {line}");
            }
        }
        out.push(Written {
            style,
            doc,
            verbatim_at: one_line.then_some(body),
            must_decode: false,
        });
    }
    out
}

/// The node of `values.a` in a document written by [`written_forms`].
fn value_a(root: &Node) -> Option<&Node> {
    fn entry<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
        match &node.kind {
            NodeKind::Object(entries) => entries
                .iter()
                .find(|e| e.key.as_str() == Some(key))
                .map(|e| &e.value),
            _ => None,
        }
    }
    entry(entry(root, "values")?, "a")
}

/// What a string expression means, without its spans.
fn meaning(kind: &ExprKind) -> String {
    let access = |a: &PropertyAccess| {
        a.accessors
            .iter()
            .map(|acc| format!("{:?}", acc.kind))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match kind {
        ExprKind::String(text) => format!("literal {text:?}"),
        ExprKind::Symbol(a) => format!("symbol {}", access(a)),
        ExprKind::Interpolate(parts) => {
            let mut out = "interpolate".to_owned();
            for part in parts {
                let _ = write!(out, " | {:?}", part.text);
                if let Some(a) = &part.access {
                    let _ = write!(out, " ${{{}}}", access(a));
                }
            }
            out
        }
        other => panic!("a string lowered to {other:?}"),
    }
}

/// The spans inside a string expression: each access and each of its accessors.
fn inner_spans(kind: &ExprKind) -> Vec<Span> {
    let mut out = Vec::new();
    let mut add = |a: &PropertyAccess| {
        out.push(a.span);
        out.extend(a.accessors.iter().map(|acc| acc.span));
    };
    match kind {
        ExprKind::Symbol(a) => add(a),
        ExprKind::Interpolate(parts) => {
            parts.iter().filter_map(|p| p.access.as_ref()).for_each(add);
        }
        _ => {}
    }
    out
}

/// Writes `template` as a string in every scalar style (plain, single- and double-quoted,
/// literal and folded block) and checks each document with [`check_load`]. Every style
/// that decodes to exactly `template` must give the same expression (literal text,
/// accesses) and the same diagnostics; where the source holds the template byte for byte,
/// the spans must also be the same, relative to where the template starts.
pub(crate) fn check_template(template: &str) {
    // (style, meaning and diagnostics), (style, relative spans).
    let mut first: Option<(&str, (String, Vec<String>))> = None;
    let mut first_spans: Option<(&str, Vec<(i64, i64)>)> = None;
    for w in written_forms(template) {
        check_load(&w.doc);
        let source = Source::new("fuzz", w.doc.as_str());
        let loaded = escc::load(&source);
        let decoded = loaded
            .syntax
            .root
            .as_ref()
            .and_then(value_a)
            .and_then(Node::as_str);
        if decoded != Some(template) || loaded.decl.is_none() {
            assert!(
                !w.must_decode,
                "{}: {template:?} decodes to {decoded:?} ({:?})\n{}",
                w.style, loaded.diags, w.doc
            );
            continue;
        }
        let decl = loaded.decl.as_ref().expect("checked above");
        let expr = &decl
            .values
            .iter()
            .flatten()
            .find(|e| e.key.value == "a")
            .expect("value a")
            .value;
        let diags: Vec<String> = loaded
            .diags
            .iter()
            .map(|d| format!("{:?} {:?} at {}", d.code, d.summary, d.path))
            .collect();
        let found = (meaning(&expr.kind), diags);
        match &first {
            None => first = Some((w.style, found)),
            Some((style, seen)) => assert_eq!(
                seen, &found,
                "{template:?} means something else as {style} than as {}",
                w.style
            ),
        }
        if let Some(at) = w.verbatim_at {
            // Offsets relative to the template's start (a span may start before it).
            let rel =
                |x: usize| i64::try_from(x).expect("small") - i64::try_from(at).expect("small");
            let spans: Vec<(i64, i64)> = inner_spans(&expr.kind)
                .into_iter()
                .chain(loaded.diags.iter().filter_map(|d| d.span))
                .map(|s| (rel(s.start()), rel(s.end())))
                .collect();
            match &first_spans {
                None => first_spans = Some((w.style, spans)),
                Some((style, seen)) => assert_eq!(
                    seen, &spans,
                    "{template:?} has other spans as {style} than as {}",
                    w.style
                ),
            }
        }
    }
}

// -------------------------------------------------------------------------------------
// Evaluation

/// The names of the environments of a [`check_eval`] input, root first.
pub(crate) const ENVIRONMENTS: [&str; 4] = ["root", "a", "b", "c"];

/// The line that separates the environments of a [`check_eval`] input (a YAML comment, so
/// that a section is still a document if the separator is mangled).
pub(crate) const SEPARATOR: &str = "#---";

/// Splits an input into environments: sections separated by [`SEPARATOR`] lines, named
/// after [`ENVIRONMENTS`] (further separators stay in the last section).
pub(crate) fn split_environments(input: &str) -> Vec<(&'static str, String)> {
    let mut sections = vec![String::new()];
    for line in input.split_inclusive('\n') {
        if sections.len() < ENVIRONMENTS.len() && line.trim_end_matches(['\n', '\r']) == SEPARATOR {
            sections.push(String::new());
        } else if let Some(last) = sections.last_mut() {
            last.push_str(line);
        }
    }
    ENVIRONMENTS.into_iter().zip(sections).collect()
}

/// Evaluates the root of `input` (see [`split_environments`]; every environment is
/// importable, the root too) with the test host in check (with and without secrets), eval
/// and rotate modes, each sequentially (one host call at a time) and concurrently, and the
/// concurrent one twice. No panic; every diagnostic's span lies inside its environment's
/// text, on `char` boundaries; the diagnostics are sorted; and all three runs agree on
/// everything (values, diagnostics, rotations, the typed output and the patches).
pub(crate) fn check_eval(input: &str) {
    let envs = split_environments(input);
    for (_, text) in &envs {
        check_load(text);
    }
    let source = Source::new("root", envs[0].1.as_str());
    let loaded = escc::load(&source);
    let Some(decl) = &loaded.decl else { return };
    let host = TestHost::new(
        envs.iter()
            .map(|(name, text)| ((*name).to_owned(), text.clone()))
            .collect(),
        "fuzz",
    );
    let context = TestHost::context();
    let modes = [
        Mode::Check {
            show_secrets: false,
        },
        Mode::Check { show_secrets: true },
        Mode::Eval,
        Mode::Rotate { paths: Vec::new() },
    ];
    for mode in &modes {
        let run = |max_in_flight| {
            evaluate_with(
                &source,
                decl,
                &host,
                &context,
                mode,
                &Options {
                    max_in_flight,
                    ..Options::default()
                },
            )
        };
        let sequential = run(1);
        check_evaluation(&envs, &sequential);
        let concurrent = run(4);
        assert_same(&sequential, &concurrent, || {
            format!("{mode:?}: sequential and concurrent evaluations differ")
        });
        assert_same(&concurrent, &run(4), || {
            format!("{mode:?}: two concurrent evaluations differ")
        });
    }
}

/// The diagnostics of an evaluation are sorted and lie inside their documents.
fn check_evaluation(envs: &[(&str, String)], ev: &Evaluation) {
    let mut sorted = ev.diags.clone();
    escc::diag::sort(&mut sorted);
    assert!(
        sorted == ev.diags,
        "diagnostics are not sorted: {:?}",
        ev.diags
    );
    for d in &ev.diags {
        let Some(span) = d.span else { continue };
        let Some((name, text)) = envs.iter().find(|(name, _)| *name == d.environment) else {
            panic!(
                "diagnostic {:?} {:?} has a span in unknown environment {:?}",
                d.code, d.summary, d.environment
            );
        };
        check_span(text, span, || {
            format!("diagnostic {:?} {:?} in {name}", d.code, d.summary)
        });
        let _ = d.positions(&Source::new(*name, text.as_str()));
    }
}

/// Everything observable of an evaluation, for comparisons.
fn observable(ev: &Evaluation) -> (String, Option<serde_json::Value>, Vec<serde_json::Value>) {
    let mut rotations = String::new();
    for r in &ev.rotations {
        let _ = write!(rotations, "{} {:?}; ", r.path, r.status);
        if let escc::eval::RotationStatus::Succeeded { state, .. } = &r.status {
            let _ = write!(rotations, "{}; ", state.to_json(false));
        }
    }
    (rotations, ev.typed(), ev.patches())
}

fn assert_same(a: &Evaluation, b: &Evaluation, what: impl Fn() -> String) {
    assert!(a.properties == b.properties, "{}: properties", what());
    assert!(
        a.diags == b.diags,
        "{}: diagnostics {:?} and {:?}",
        what(),
        a.diags,
        b.diags
    );
    assert!(
        observable(a) == observable(b),
        "{}: rotations or typed output",
        what()
    );
}

// -------------------------------------------------------------------------------------
// Secrets never show

/// Reads choices from fuzz bytes; zeros once they run out.
struct Choices<'a> {
    bytes: &'a [u8],
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((&b, rest)) => {
                self.bytes = rest;
                b
            }
            None => 0,
        }
    }

    fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[usize::from(self.byte()) % items.len()]
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// The schemas `fn::validate` checks a derived value against (`R` stands for the value
/// itself, for schemas made of a secret).
const SCHEMAS: &[&str] = &[
    "true",
    r#"{"type": "string", "minLength": 1}"#,
    r#"{"type": "string", "pattern": "^plain$", "maxLength": 3, "enum": ["a", "b"], "const": "c"}"#,
    r#"{"type": "number"}"#,
    r#"{"type": "object", "required": ["k"], "additionalProperties": false}"#,
    r#"{"type": "array", "items": {"type": "number"}, "maxItems": 1}"#,
    r#"{"const": "R"}"#,
    r#"{"enum": ["R", "other"]}"#,
    r#"{"type": "string", "pattern": "R"}"#,
    r#"{"properties": {"R": {"type": "number"}}, "required": ["R"]}"#,
];

/// The inputs of the `schema` provider that a derived value is passed as.
const SCHEMA_INPUTS: &[&str] = &[
    "hello",
    "enum",
    "pattern",
    "maxLength",
    "number",
    "string",
    "boolean",
    "anyOf",
    "oneOf",
    "never",
    "const-array",
    "minimum",
    "multiple",
];

/// Accesses into a derived value.
const ACCESSES: &[&str] = &[
    "[0]", "[1]", ".k", ".l[0]", ".missing", "[\"k\"]", ".k.x", "[99]",
];

/// The expression of a derived value: `form` applied to `r` (a `${...}` reference).
fn derived(form: u8, variant: u8, reference: &str) -> serde_json::Value {
    use serde_json::json;
    let r = format!("${{{reference}}}");
    let v = usize::from(variant);
    match form {
        0 => json!(format!("pre {r} post")),
        1 => json!(r),
        2 => match v % 3 {
            0 => json!({"fn::join": ["-", ["a", r, "${p0}"]]}),
            1 => json!({"fn::join": [r, ["a", "b"]]}),
            _ => json!({"fn::join": ["-", ["a", {"k": r}]]}),
        },
        3 => match v % 2 {
            0 => json!({"fn::split": ["-", r]}),
            _ => json!({"fn::split": [r, "a-b"]}),
        },
        4 => match v % 2 {
            0 => json!({"fn::concat": [["a"], [r]]}),
            _ => json!({"fn::concat": [r, ["x"]]}),
        },
        5 => match v % 2 {
            0 => json!({"fn::toJSON": {"k": r, "l": [r, 1]}}),
            _ => json!({"fn::toJSON": r}),
        },
        6 => match v % 3 {
            0 => json!({"fn::fromJSON": r}),
            1 => json!({"fn::fromJSON": {"fn::toJSON": {"k": r}}}),
            _ => json!({"fn::fromJSON": format!("{{\"k\": \"{r}\"}}")}),
        },
        7 => match v % 2 {
            0 => json!({"fn::toString": r}),
            _ => json!({"fn::toString": {"k": r, "l": [r]}}),
        },
        8 => json!({"fn::toBase64": r}),
        9 => match v % 2 {
            0 => json!({"fn::fromBase64": r}),
            _ => json!({"fn::fromBase64": format!("{r}!")}),
        },
        10 => match v % 2 {
            0 => json!({"fn::final": r}),
            _ => json!({"fn::final": {"k": r}}),
        },
        11 => {
            let schema = SCHEMAS[v % SCHEMAS.len()];
            // A schema made of the value itself, or a plain schema for the value.
            let schema: serde_json::Value = serde_json::from_str(
                &schema.replace("\"R\"", &serde_json::to_string(&r).expect("a string")),
            )
            .expect("schemas are JSON");
            json!({"fn::validate": {"schema": schema, "value": r}})
        }
        12 => json!({"fn::open::test": {"x": r, "y": "plain-y"}}),
        13 => json!({"fn::open::secret-wrapper": {"x": r}}),
        14 => {
            let input = SCHEMA_INPUTS[v % SCHEMA_INPUTS.len()];
            json!({"fn::open::schema": {input: r}})
        }
        // The provider's error is its input `why`, printed verbatim (see `secrets.rs`):
        // `why` stays plain, the secret goes into another input.
        15 => json!({"fn::open::error": {"why": "boom", "x": r}}),
        16 => json!(format!("${{{reference}{}}}", ACCESSES[v % ACCESSES.len()])),
        17 => json!({"a": [1, r, {"b": r}], "c": "plain-c"}),
        18 => json!({"fn::secret": format!("x-{r}")}),
        19 => json!({"fn::rotate::swap": {"inputs": {}, "state": {"a": r, "b": "plain-b"}}}),
        // A template evaluated in place reads the secret where it is evaluated.
        20 => match v % 3 {
            0 => json!({"fn::eval": {"fn::template": {"k": r, "s": format!("pre {r}")}}}),
            1 => json!({"fn::eval": {"fn::template": {"fn::toJSON": [r]}}}),
            _ => json!({"fn::eval": {"fn::final": {"fn::template": r}}}),
        },
        21 => {
            let schema = SCHEMAS[v % SCHEMAS.len()];
            let schema: serde_json::Value = serde_json::from_str(
                &schema.replace("\"R\"", &serde_json::to_string(&r).expect("a string")),
            )
            .expect("schemas are JSON");
            json!({"fn::conform": {"schema": schema, "value": r}})
        }
        _ => json!({"fn::rotate::echo": {"inputs": {"next": r}, "state": {"current": r}}}),
    }
}

/// The number of forms of [`derived`].
const FORMS: u8 = 23;

/// A secret built from fuzz bytes: its plaintext, its declaration and the references to it.
fn secret_from(
    choices: &mut Choices<'_>,
    core: &str,
    name: &str,
) -> (serde_json::Value, String, Vec<String>) {
    use serde_json::json;
    let plaintext = format!("s3cr3t-MARKER-{core}-{name}{}", choices.pick(DECORATIONS));
    let mut needles = needles_of(&plaintext);
    let (declaration, reference) = match choices.byte() % 5 {
        0 => (json!({"fn::secret": plaintext}), name.to_owned()),
        1 => {
            let text =
                serde_json::to_string(&json!({"k": plaintext, "l": [plaintext, 1]})).expect("JSON");
            needles.extend(needles_of(&text));
            (json!({"fn::secret": text}), name.to_owned())
        }
        2 => {
            let text = base64(plaintext.as_bytes());
            needles.extend(needles_of(&text));
            (json!({"fn::secret": text}), name.to_owned())
        }
        3 => (
            json!({"fn::secret": {"ciphertext": envelope(&plaintext)}}),
            name.to_owned(),
        ),
        _ => (
            json!({"fn::open::secret-wrapper": {"x": plaintext}}),
            format!("{name}.x"),
        ),
    };
    (declaration, reference, needles)
}

/// Builds environments from fuzz bytes: secrets (plaintext, JSON, base64, ciphertext, or
/// the output of the `secret-wrapper` provider) with a random-looking marker in the root
/// and in an imported environment, and values derived from them (and from each other, and
/// from plain values) through the builtins, providers, accesses and interpolations that
/// the bytes pick. Evaluates the root (sequentially) in eval, check (with and without
/// secrets) and rotate modes: no redacted output may show a secret's plaintext, its
/// JSON-escaped or base64 forms: not the redacted JSON or `Debug` of a value, not a
/// diagnostic's summary, detail or path, not `Debug` of the whole evaluation.
pub(crate) fn check_secret_taint(data: &[u8]) {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut choices = Choices { bytes: data };
    let core: String = (0..8)
        .map(|_| char::from(*choices.pick(ALPHABET)))
        .collect();
    let mut needles = Vec::new();
    let mut references = vec!["p0".to_owned(), "imports.other.q0".to_owned()];

    let mut other = vec![("q0".to_owned(), serde_json::json!("plain-q"))];
    for i in 0..choices.byte() % 3 {
        let name = format!("o{i}");
        let (declaration, reference, n) = secret_from(&mut choices, &core, &name);
        references.push(format!("imports.other.{reference}"));
        references.push(reference);
        other.push((name, declaration));
        needles.extend(n);
    }

    let mut root = vec![("p0".to_owned(), serde_json::json!("plain-p"))];
    for i in 0..=choices.byte() % 3 {
        let name = format!("s{i}");
        let (declaration, reference, n) = secret_from(&mut choices, &core, &name);
        references.push(reference);
        root.push((name, declaration));
        needles.extend(n);
    }
    let mut i = 0;
    while !choices.is_empty() && i < 24 {
        let form = choices.byte() % FORMS;
        let reference = choices.pick(&references).clone();
        let variant = choices.byte();
        let name = format!("d{i}");
        root.push((name.clone(), derived(form, variant, &reference)));
        references.push(name);
        i += 1;
    }
    needles.sort();
    needles.dedup();

    let root_text = document(&["other"], &root);
    let other_text = document(&[], &other);
    let shown = format!("{root_text}--- other:\n{other_text}");
    let source = Source::new("root", root_text.as_str());
    let loaded = escc::load(&source);
    let decl = loaded
        .decl
        .as_ref()
        .unwrap_or_else(|| panic!("the document does not decode: {:?}\n{shown}", loaded.diags));
    let host = TestHost::new(
        BTreeMap::from([("other".to_owned(), other_text.clone())]),
        "fuzz",
    );
    let modes = [
        Mode::Eval,
        Mode::Check {
            show_secrets: false,
        },
        Mode::Check { show_secrets: true },
        Mode::Rotate { paths: Vec::new() },
    ];
    for mode in &modes {
        // Sequentially: `check_eval` shows that concurrency changes nothing, and threads
        // that are still exiting when LeakSanitizer looks make it report their
        // thread-local destructor list as a leak.
        let ev = evaluate_with(
            &source,
            decl,
            &host,
            &TestHost::context(),
            mode,
            &Options {
                max_in_flight: 1,
                ..Options::default()
            },
        );
        assert_hidden(mode, &ev, &loaded.diags, &needles, &shown);
    }
}

/// Asserts that nothing redacted of `ev` (nor a load diagnostic) shows any of `needles`.
fn assert_hidden(
    mode: &Mode,
    ev: &Evaluation,
    load_diags: &[Diagnostic],
    needles: &[String],
    doc: &str,
) {
    let mut places: Vec<(String, String)> = Vec::new();
    for (k, v) in ev.properties.iter().flatten() {
        places.push((
            format!("redacted JSON of {k}"),
            serde_json::to_string(&v.to_json(true)).expect("JSON"),
        ));
        places.push((format!("Debug of {k}"), format!("{v:?}")));
    }
    for d in load_diags.iter().chain(&ev.diags) {
        let at = format!("diagnostic {:?} at {:?}", d.code, d.path);
        places.push((format!("summary of {at}"), d.summary.clone()));
        places.push((format!("detail of {at}"), d.detail.clone()));
        places.push((format!("path of {at}"), d.path.clone()));
    }
    places.push(("Debug of the evaluation".to_owned(), format!("{ev:?}")));
    for (what, text) in &places {
        for n in needles {
            assert!(
                !text.contains(n.as_str()),
                "{mode:?}: the {what} shows secret text {n:?}: {text}\n--- document:\n{doc}"
            );
        }
    }
}
