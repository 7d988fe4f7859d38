//! One document's check: the path `escc check` takes (load, then a static evaluation
//! with imports served by the workspace), kept with everything the editor features read.
//!
//! A check has two stages. The first (load and evaluation) gives the diagnostics, which
//! are published at once. The second keeps the first's evaluation for hover, definition
//! and completion, which read it through the evaluation's typed queries
//! (`Evaluation::value_at`, `trace`, `schema_at`, `accessor_def`, ...), never through its
//! typed JSON (about 30 times the size of the document). The server runs it apart (see
//! `scheduler`), only for a document that has stopped changing, so the evaluations of
//! outdated texts are dropped there rather than kept.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use serde_json::Value as Json;

use super::convert::LineMap;
use crate::ast::{
    AccessorKind, EnvironmentDecl, Expr, ExprKind, Import, PropertyAccess, StringLit,
};
use crate::eval::{Evaluation, Place, Value, ValueKind};
use crate::project::{Checked, Document, FsHost, Project};
use crate::syntax::Node;
use crate::{Diagnostic, Source, Span};

/// A document's diagnostics and typed environment, for one text.
#[derive(Debug)]
pub(crate) struct Analysis {
    /// The text and environment name checked.
    pub(crate) source: Source,
    /// Its lines.
    pub(crate) lines: LineMap,
    /// The syntax tree (possibly partial).
    pub(crate) syntax: Option<Node>,
    /// The declaration, unless the YAML is broken.
    pub(crate) decl: Option<EnvironmentDecl>,
    /// The diagnostics located in this document, sorted.
    pub(crate) diags: Vec<Diagnostic>,
    /// The second stage: set once, to `None` when the document was not evaluated or had
    /// changed before the stage ran.
    pub(crate) typed: OnceLock<Option<Typed>>,
    /// Whether a request waits for the second stage (which then runs without waiting for
    /// the edits to pause).
    wanted: AtomicBool,
    /// Every other environment the check read, by name.
    pub(crate) others: BTreeMap<String, Other>,
    /// Every environment name the check asked for (read or not): a change to one of them
    /// changes this document's diagnostics.
    pub(crate) depends_on: BTreeSet<String>,
    /// The name each import of this document was read under, when it is not the name as
    /// written (an unpinned import of a document read at a revision is read at that
    /// revision: `common` is `common@<commit>`).
    read_as: BTreeMap<String, String>,
    /// The input schemas of the providers the document opens, as the check's host gave
    /// them (a plugin's as it described itself), by name.
    pub(crate) providers: BTreeMap<String, Json>,
}

/// What hover, definition and completion read: the check's evaluation.
#[derive(Debug)]
pub(crate) struct Typed {
    /// The environment checked.
    name: String,
    /// Its evaluation.
    pub(crate) evaluation: Evaluation,
}

impl Typed {
    /// The typed environment of environment `name`.
    pub(crate) fn new(evaluation: Evaluation, name: &str) -> Self {
        Typed {
            name: name.to_owned(),
            evaluation,
        }
    }

    /// Where the value read by the accessor at `span` (of this document) was defined.
    pub(crate) fn accessor_def(&self, span: Span) -> Option<Place> {
        self.evaluation.accessor_def(&self.name, span)
    }

    /// The type of the expression at `span` of environment `env` (from its schema).
    pub(crate) fn type_of(&self, env: &str, span: Span) -> Option<String> {
        self.evaluation
            .schema_at(env, span)
            .map(|schema| schema_type(&schema))
    }

    /// `` `env` at line:column `` for a place of this evaluation (as the reference counts
    /// lines and columns).
    pub(crate) fn place_text(&self, place: &Place) -> Option<String> {
        let source = self.evaluation.source(&place.environment)?;
        let lc = source.line_col(place.span.start());
        Some(format!(
            "`{}` at {}:{}",
            place.environment, lc.line, lc.column
        ))
    }
}

/// Another environment read during a check.
#[derive(Debug)]
pub(crate) struct Other {
    /// What was read.
    pub(crate) served: Document,
    /// Its lines.
    pub(crate) lines: LineMap,
}

/// Checks environment `name` through the project's pipeline (the one `escc check` uses).
/// `None` when the environment cannot be read at all.
fn check(project: &Project, host: &FsHost, name: &str) -> Option<Checked> {
    project.check(host, name).ok()
}

/// The first stage of a check of environment `name`, whose text the host's overlay holds,
/// and the evaluation for its second ([`second_stage`]).
pub(crate) fn analyze(
    source: Source,
    project: &Project,
    host: &FsHost,
) -> (Arc<Analysis>, Option<Evaluation>) {
    let checked = check(project, host, source.name());
    let (analysis, evaluation) = first_stage(source, host, checked);
    (Arc::new(analysis), evaluation)
}

/// The second stage: keeps `evaluation` (the first stage's) for the features to query, or
/// records that there is none.
pub(crate) fn second_stage(analysis: &Analysis, evaluation: Option<Evaluation>) {
    let typed = evaluation.map(|ev| Typed::new(ev, analysis.source.name()));
    let _ = analysis.typed.set(typed);
}

/// The first stage: the diagnostics located in this document (already sorted and masked
/// by the pipeline) and what the check read. Returns the evaluation too, for the second
/// stage (an evaluation is `Send`, so that can run on another thread).
fn first_stage(
    source: Source,
    host: &FsHost,
    checked: Option<Checked>,
) -> (Analysis, Option<Evaluation>) {
    let others: BTreeMap<String, Other> = host
        .documents()
        .into_iter()
        .filter(|(name, _)| name != source.name())
        .map(|(name, served)| {
            let lines = LineMap::new(&served.text);
            (name, Other { served, lines })
        })
        .collect();
    let (syntax, decl, diags, evaluation) = match checked {
        Some(c) => {
            let diags = c
                .diags
                .into_iter()
                .filter(|d| d.environment == source.name() || d.environment.is_empty())
                .collect();
            (c.loaded.syntax.root, c.loaded.decl, diags, c.evaluation)
        }
        None => {
            let loaded = crate::load(&source);
            (loaded.syntax.root, loaded.decl, loaded.diags, None)
        }
    };
    let read_as = decl
        .iter()
        .flat_map(|d| d.imports.iter().flatten())
        .map(|i| &i.environment.value)
        .filter_map(|written| {
            let read = crate::eval::Host::import_name(host, source.name(), written);
            (read != *written).then(|| (written.clone(), read))
        })
        .collect();
    let providers = decl.as_ref().map(|d| opened(d, host)).unwrap_or_default();
    let analysis = Analysis {
        providers,
        read_as,
        lines: LineMap::new(source.text()),
        syntax,
        decl,
        diags,
        typed: OnceLock::new(),
        wanted: AtomicBool::new(false),
        others,
        depends_on: host.requested(),
        source,
    };
    (analysis, evaluation)
}

/// The input schemas of the providers `decl` opens (object schemas only: a stand-in's
/// `true` says nothing). The host asked each plugin during the check already.
fn opened(decl: &EnvironmentDecl, host: &FsHost) -> BTreeMap<String, Json> {
    use crate::eval::Host as _;
    let mut out = BTreeMap::new();
    for x in decl.exprs() {
        if let ExprKind::Builtin(b) = &x.kind
            && let crate::ast::Call::Open {
                provider: Some(p), ..
            } = &b.call
            && !out.contains_key(&p.value)
            && let Ok(provider) = host.provider(&p.value)
            && let (inputs @ Json::Object(_), _) = provider.schema()
        {
            out.insert(p.value.clone(), inputs);
        }
    }
    out
}

impl Analysis {
    /// Marks the second stage as awaited by a request.
    pub(crate) fn want(&self) {
        self.wanted.store(true, Ordering::SeqCst);
    }

    /// Whether a request awaits the second stage.
    pub(crate) fn wanted(&self) -> bool {
        self.wanted.load(Ordering::SeqCst)
    }

    /// The second stage, if it is done and there is one.
    pub(crate) fn typed(&self) -> Option<&Typed> {
        self.typed.get().and_then(Option::as_ref)
    }

    /// The evaluated properties of the environment.
    pub(crate) fn properties(&self) -> Option<&BTreeMap<String, Value>> {
        self.typed()?.evaluation.properties.as_ref()
    }

    /// The text and lines of environment `name` (this one or one the check read).
    pub(crate) fn text_of(&self, name: &str) -> Option<(&str, &LineMap)> {
        if name == self.source.name() {
            return Some((self.source.text(), &self.lines));
        }
        self.others
            .get(name)
            .map(|o| (o.served.text.as_ref(), &o.lines))
    }

    /// The name import `written` of this document was read under.
    pub(crate) fn read_as<'a>(&'a self, written: &'a str) -> &'a str {
        self.read_as.get(written).map_or(written, String::as_str)
    }

    /// The names of the environments this one imports, in order.
    pub(crate) fn import_names(&self) -> Vec<String> {
        self.decl
            .iter()
            .flat_map(|d| d.imports.iter().flatten())
            .map(|i| i.environment.value.clone())
            .collect()
    }
}

/// One step of a document path below `values`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    /// An object key.
    Key(String),
    /// A list index.
    Index(usize),
}

impl Seg {
    /// The accessor that reads this step.
    pub(crate) fn accessor(&self) -> AccessorKind {
        match self {
            Seg::Key(k) => AccessorKind::Key(k.clone()),
            Seg::Index(i) => AccessorKind::Index(i64::try_from(*i).unwrap_or(i64::MAX)),
        }
    }
}

/// Writes a property path as it would be written in `${...}`.
pub(crate) fn path_text(path: &[AccessorKind]) -> String {
    let mut out = String::new();
    for (i, a) in path.iter().enumerate() {
        match a {
            AccessorKind::Name(k) | AccessorKind::Key(k) if is_plain_name(k) => {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(k);
            }
            AccessorKind::Name(k) | AccessorKind::Key(k) => {
                out.push_str("[\"");
                out.push_str(&k.replace('"', "\\\""));
                out.push_str("\"]");
            }
            AccessorKind::Index(n) => {
                out.push('[');
                out.push_str(&n.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// Whether `name` can be written after a `.` in a property path.
pub(crate) fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.bytes().any(|b| {
            matches!(b, b'.' | b'[' | b']' | b'}' | b'"' | b'$' | b'{') || b.is_ascii_whitespace()
        })
        && !name.contains(['\u{85}', '\u{a0}'])
}

/// What is at a place in the document.
#[derive(Debug)]
pub(crate) enum Found<'a> {
    /// An object key. `path` is its property path when it is one (not inside a builtin's
    /// argument).
    Key {
        /// The property path below `values`, when the key names a property.
        path: Option<Vec<Seg>>,
        /// The key.
        key: Span,
        /// Its value.
        value: &'a Expr,
    },
    /// Accessor `index` of a `${...}`.
    Access {
        /// The access.
        access: &'a PropertyAccess,
        /// Which accessor.
        index: usize,
    },
    /// An element of `imports`.
    Import(&'a Import),
    /// A key of the inputs of `fn::open::NAME` (short form).
    Input {
        /// The provider.
        provider: &'a str,
        /// The keys from the inputs' root to this one.
        path: Vec<String>,
        /// The key.
        key: Span,
    },
    /// A builtin's name.
    Builtin {
        /// The name as written.
        name: &'a str,
        /// Where.
        span: Span,
    },
}

fn contains(span: Span, offset: usize) -> bool {
    span.start() <= offset && offset <= span.end()
}

/// What is at byte `offset` of the declaration.
pub(crate) fn locate(decl: &EnvironmentDecl, offset: usize) -> Option<Found<'_>> {
    for import in decl.imports.iter().flatten() {
        if contains(import.environment.span, offset) {
            return Some(Found::Import(import));
        }
    }
    for entry in decl.values.iter().flatten() {
        let StringLit { value: key, span } = &entry.key;
        let path = vec![Seg::Key(key.clone())];
        if contains(*span, offset) {
            return Some(Found::Key {
                path: Some(path),
                key: *span,
                value: &entry.value,
            });
        }
        if contains(entry.value.span, offset)
            && let Some(found) = locate_expr(&entry.value, offset, Some(&path))
        {
            return Some(found);
        }
    }
    None
}

fn locate_expr<'a>(x: &'a Expr, offset: usize, path: Option<&[Seg]>) -> Option<Found<'a>> {
    let child = |seg: Seg| {
        path.map(|p| {
            let mut p = p.to_vec();
            p.push(seg);
            p
        })
    };
    match &x.kind {
        ExprKind::Symbol(access) => locate_access(access, offset),
        ExprKind::Interpolate(parts) => parts
            .iter()
            .filter_map(|p| p.access.as_ref())
            .find_map(|a| locate_access(a, offset)),
        ExprKind::List(items) => items.iter().enumerate().find_map(|(i, item)| {
            if !contains(item.span, offset) {
                return None;
            }
            locate_expr(item, offset, child(Seg::Index(i)).as_deref())
        }),
        ExprKind::Object(entries) => entries.iter().find_map(|e| {
            let path = e.key.as_ref().and_then(|k| child(Seg::Key(k.clone())));
            if contains(e.key_span, offset) {
                return Some(Found::Key {
                    path,
                    key: e.key_span,
                    value: &e.value,
                });
            }
            if contains(e.value.span, offset) {
                return locate_expr(&e.value, offset, path.as_deref());
            }
            None
        }),
        ExprKind::Builtin(b) => {
            if contains(b.name_span, offset) {
                return Some(Found::Builtin {
                    name: &b.name,
                    span: b.name_span,
                });
            }
            if contains(b.arg.span, offset) {
                if let crate::ast::Call::Open {
                    provider: Some(p),
                    inputs: Some(crate::ast::ArgPart::Whole),
                } = &b.call
                    && let Some(found) = locate_input(&b.arg, offset, &p.value, &mut Vec::new())
                {
                    return Some(found);
                }
                return locate_expr(&b.arg, offset, None);
            }
            None
        }
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::String(_) => None,
    }
}

/// A key at `offset` in the literal objects of a provider's inputs (`path` leads to `x`).
fn locate_input<'a>(
    x: &'a Expr,
    offset: usize,
    provider: &'a str,
    path: &mut Vec<String>,
) -> Option<Found<'a>> {
    let ExprKind::Object(entries) = &x.kind else {
        return None;
    };
    for e in entries {
        let Some(k) = &e.key else { continue };
        if contains(e.key_span, offset) {
            let mut path = path.clone();
            path.push(k.clone());
            return Some(Found::Input {
                provider,
                path,
                key: e.key_span,
            });
        }
        if contains(e.value.span, offset) {
            path.push(k.clone());
            return locate_input(&e.value, offset, provider, path);
        }
    }
    None
}

fn locate_access(access: &PropertyAccess, offset: usize) -> Option<Found<'_>> {
    if !contains(access.span, offset) || access.accessors.is_empty() {
        return None;
    }
    // The accessor under the cursor; on `${` the first, on `}` the last.
    let index = access
        .accessors
        .iter()
        .rposition(|a| a.span.start() <= offset && !a.span.is_empty())
        .unwrap_or(0);
    Some(Found::Access { access, index })
}

/// A value as plain JSON with every secret shown as `"[secret]"` and every unknown as
/// `"[unknown]"`.
pub(crate) fn redacted(value: &Value) -> Json {
    value.to_json(true)
}

/// A short type for a value, from its data (never its contents).
pub(crate) fn value_type(value: &Value) -> String {
    let kind = match &value.kind {
        _ if value.unknown => "unknown",
        ValueKind::Null => "null",
        ValueKind::Bool(_) => "boolean",
        ValueKind::Number(_) => "number",
        ValueKind::String(_) => "string",
        ValueKind::Array(_) => "array",
        ValueKind::Object(_) => "object",
    };
    if value.secret {
        format!("secret {kind}")
    } else {
        kind.to_owned()
    }
}

/// The whole of an evaluation's properties as one object value.
pub(crate) fn properties_value(ev: &Evaluation) -> Option<Value> {
    ev.properties
        .clone()
        .map(|p| Value::new(ValueKind::Object(p)))
}

/// A short type for a JSON Schema, naming types and keys but never a `const` or `enum`
/// value (a secret's schema holds the secret as its `const`).
pub(crate) fn schema_type(schema: &Json) -> String {
    schema_type_depth(schema, 0)
}

fn schema_type_depth(schema: &Json, depth: usize) -> String {
    let obj = match schema {
        Json::Bool(false) => return "never".to_owned(),
        Json::Object(m) => m,
        _ => return "any".to_owned(),
    };
    for key in ["anyOf", "oneOf"] {
        if let Some(Json::Array(alts)) = obj.get(key) {
            let mut parts: Vec<String> = alts
                .iter()
                .map(|a| schema_type_depth(a, depth + 1))
                .collect();
            parts.dedup();
            return parts.join(" | ");
        }
    }
    let types: Vec<&str> = match obj.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => match obj.get("const") {
            Some(c) => vec![json_kind(c)],
            None => Vec::new(),
        },
    };
    if types.is_empty() {
        return "any".to_owned();
    }
    types
        .iter()
        .map(|t| match *t {
            "object" if depth < 1 => match obj.get("properties") {
                Some(Json::Object(props)) if !props.is_empty() => {
                    let fields: Vec<String> = props
                        .iter()
                        .take(8)
                        .map(|(k, s)| format!("{k}: {}", schema_type_depth(s, depth + 1)))
                        .collect();
                    let more = if props.len() > 8 { ", ..." } else { "" };
                    format!("{{ {}{more} }}", fields.join(", "))
                }
                _ => "object".to_owned(),
            },
            "array" => match obj.get("items") {
                Some(items @ Json::Object(_)) if depth < 2 => {
                    format!("array of {}", schema_type_depth(items, depth + 1))
                }
                _ => "array".to_owned(),
            },
            other => other.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// Evaluates environment `name` on its own (for `${environments.a.b...}` and
/// `${imports.name...}`).
pub(crate) fn evaluation_of(name: &str, project: &Project, host: &FsHost) -> Option<Evaluation> {
    check(project, host, name)?.evaluation
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Analyzes `text` as environment `name` with other environments from memory.
    pub(crate) fn analyze_text(name: &str, text: &str, others: &[(&str, &str)]) -> Arc<Analysis> {
        let mut host = FsHost::new(None).with_overlay(name, Document::new(text, None));
        for (n, t) in others {
            host = host.with_overlay(*n, Document::new(*t, None));
        }
        let mut project = Project::detached();
        project.set_context("pulumi.user.login=alice").unwrap();
        let (analysis, evaluation) = analyze(Source::new(name, text), &project, &host);
        second_stage(&analysis, evaluation);
        analysis
    }

    #[test]
    fn secrets_never_appear_in_messages() {
        // The JSON parse error quotes the (secret) text it could not parse.
        let a = analyze_text(
            "app",
            "values:\n  s:\n    fn::secret: \"{hunter2\"\n  j:\n    fn::fromJSON: ${s}\n",
            &[],
        );
        assert!(!a.diags.is_empty());
        for d in &a.diags {
            assert!(!d.summary.contains("hunter2"), "{}", d.summary);
        }
        assert!(
            a.diags.iter().any(|d| d.summary.contains("[secret]")),
            "{:?}",
            a.diags
        );
    }

    #[test]
    fn diagnostics_of_this_document_only() {
        let a = analyze_text(
            "app",
            "imports: [base, nope]\nvalues:\n  c: ${base_value}\n",
            &[("base", "values:\n  base_value: 1\n  broken: ${x\n")],
        );
        let codes: Vec<&str> = a.diags.iter().map(|d| d.code.as_str()).collect();
        // `base` has a load error, so it is not evaluated: `base_value` is unknown.
        assert_eq!(
            codes,
            ["import-failed", "unknown-property"],
            "{:#?}",
            a.diags
        );
        assert!(a.diags[0].summary.contains("nope"), "{:#?}", a.diags);
        assert!(a.diags.iter().all(|d| d.environment == "app"));
        assert!(a.depends_on.contains("base") && a.depends_on.contains("nope"));
        assert!(a.text_of("base").is_some());
    }

    #[test]
    fn a_document_with_load_errors_is_not_evaluated() {
        // As `escc check`: the load error alone, not the unknown reference after it.
        let a = analyze_text("app", "values:\n  a: ${b.}\n  c: ${nope}\n", &[]);
        let codes: Vec<&str> = a.diags.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["invalid-interpolation"]);
    }

    #[test]
    fn locate_finds_keys_accesses_imports_and_builtins() {
        let text = "imports:\n  - base\nvalues:\n  a:\n    b: \"x ${c.d[0]} y\"\n  e:\n    fn::secret: s\n";
        let a = analyze_text("app", text, &[("base", "values: {}\n")]);
        let decl = a.decl.as_ref().unwrap();
        let at = |s: &str| text.find(s).unwrap();
        match locate(decl, at("base")) {
            Some(Found::Import(i)) => assert_eq!(i.environment.value, "base"),
            other => panic!("{other:?}"),
        }
        match locate(decl, at("b:")) {
            Some(Found::Key { path, .. }) => {
                assert_eq!(path, Some(vec![Seg::Key("a".into()), Seg::Key("b".into())]));
            }
            other => panic!("{other:?}"),
        }
        match locate(decl, at("d[0]")) {
            Some(Found::Access { access, index }) => {
                assert_eq!(index, 1);
                assert_eq!(access.accessors.len(), 3);
            }
            other => panic!("{other:?}"),
        }
        match locate(decl, at("[0]") + 1) {
            Some(Found::Access { index, .. }) => assert_eq!(index, 2),
            other => panic!("{other:?}"),
        }
        match locate(decl, at("fn::secret") + 3) {
            Some(Found::Builtin { name, .. }) => assert_eq!(name, "fn::secret"),
            other => panic!("{other:?}"),
        }
        assert!(locate(decl, at("y\"")).is_none());
    }

    #[test]
    fn redaction_and_types() {
        let a = analyze_text(
            "app",
            "values:\n  db:\n    user: u\n    pass:\n      fn::secret: hunter2\n  n: 3\n",
            &[],
        );
        let ev = &a.typed().unwrap().evaluation;
        let db = ev.value_at(&[AccessorKind::Name("db".into())]).unwrap();
        let shown = redacted(&db).to_string();
        assert_eq!(shown, r#"{"pass":"[secret]","user":"u"}"#);
        assert!(!shown.contains("hunter2"));
        let pass = ev
            .value_at(&[
                AccessorKind::Name("db".into()),
                AccessorKind::Name("pass".into()),
            ])
            .unwrap();
        assert_eq!(value_type(&pass), "secret string");
        let db_span = a.decl.as_ref().unwrap().values.as_ref().unwrap()[0]
            .value
            .span;
        let t = a.typed().unwrap().type_of("app", db_span).unwrap();
        assert_eq!(t, "{ pass: string, user: string }");
        assert!(a.typed().unwrap().type_of("nope", db_span).is_none());
        // A secret's schema holds it as its `const`: types never show it.
        let schema = serde_json::json!({"type": "string", "const": "hunter2"});
        assert_eq!(schema_type(&schema), "string");
        let schema = serde_json::json!({"anyOf": [{"const": "hunter2"}, {"type": "null"}]});
        assert_eq!(schema_type(&schema), "string | null");
        assert_eq!(
            path_text(&[
                AccessorKind::Name("a".into()),
                AccessorKind::Key("b c".into()),
                AccessorKind::Index(2)
            ]),
            "a[\"b c\"][2]"
        );
    }
}
