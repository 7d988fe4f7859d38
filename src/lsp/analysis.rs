//! One document's check: the path `escc check` takes (load, then a static evaluation
//! with imports served by the workspace), kept with everything the editor features read.
//!
//! A check has two stages. The first (load and evaluation) gives the diagnostics, which
//! are published at once. The second turns the evaluation into its typed form (values
//! with traces, every expression's range and schema), which hover, definition and
//! completion read. On large documents it costs several times the first, in time and even
//! more in memory (the typed JSON is about 30 times the size of the document), so the
//! server runs it apart (see `server`), only for a document that has stopped changing, and
//! keeps a compact index of it rather than the JSON.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use serde_json::Value as Json;

use super::convert::LineMap;
use crate::ast::{
    AccessorKind, EnvironmentDecl, Expr, ExprKind, Import, PropertyAccess, StringLit,
};
use crate::eval::Evaluation;
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
    /// Every other environment the check read, by name.
    pub(crate) others: BTreeMap<String, Other>,
    /// Every environment name the check asked for (read or not): a change to one of them
    /// changes this document's diagnostics.
    pub(crate) depends_on: BTreeSet<String>,
}

/// What hover, definition and completion read of the typed environment.
#[derive(Debug, Default)]
pub(crate) struct Typed {
    /// The typed `properties` (values with `secret`/`unknown` flags and `trace`s).
    pub(crate) properties: serde_json::Map<String, Json>,
    /// The typed properties of the execution context.
    pub(crate) context: serde_json::Map<String, Json>,
    /// For each accessor of this document (by span), the typed range of the value it
    /// reads.
    accessors: HashMap<Span, Json>,
    /// The environments of `schemas`.
    envs: Vec<String>,
    /// For each expression (by index in `envs` and span), its schema.
    schemas: HashMap<(usize, Span), Json>,
}

impl Typed {
    /// Indexes the typed environment of `root` (taking it apart, so nothing is copied).
    pub(crate) fn new(typed: Json, root: &str) -> Self {
        let Json::Object(mut top) = typed else {
            return Typed::default();
        };
        let mut out = Typed::default();
        if let Some(Json::Object(p)) = top.remove("properties") {
            out.properties = p;
        }
        if let Some(Json::Object(mut c)) = top.remove("executionContext")
            && let Some(Json::Object(p)) = c.remove("properties")
        {
            out.context = p;
        }
        let mut stack: Vec<Json> = top.remove("exprs").into_iter().collect();
        while let Some(j) = stack.pop() {
            match j {
                Json::Object(mut m) => {
                    let place = m.get("range").and_then(typed_range);
                    let accessor = m.contains_key("value")
                        && (m.contains_key("key") || m.contains_key("index"));
                    if accessor {
                        if let (Some((env, span)), Some(value)) = (place, m.remove("value"))
                            && env == root
                        {
                            out.accessors.insert(span, value);
                        }
                        continue;
                    }
                    if let (Some((env, span)), Some(schema)) = (place, m.remove("schema")) {
                        let e = match out.envs.iter().position(|x| *x == env) {
                            Some(e) => e,
                            None => {
                                out.envs.push(env);
                                out.envs.len() - 1
                            }
                        };
                        out.schemas.insert((e, span), schema);
                    }
                    stack.extend(m.into_iter().map(|(_, v)| v));
                }
                Json::Array(items) => stack.extend(items),
                _ => {}
            }
        }
        out
    }

    /// The typed range of the value that the accessor at `span` (of this document) reads.
    pub(crate) fn accessor_value(&self, span: Span) -> Option<&Json> {
        self.accessors.get(&span)
    }

    /// The type of the expression at `span` of environment `env` (from its schema).
    pub(crate) fn type_of(&self, env: &str, span: Span) -> Option<String> {
        let e = self.envs.iter().position(|x| x == env)?;
        self.schemas.get(&(e, span)).map(schema_type)
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

/// Checks environment `name`, whose text the host's overlay holds. With `second`, both
/// stages; else only the first, and the second is left for [`typed_of`] to compute and
/// the caller to set.
pub(crate) fn analyze(
    source: Source,
    project: &Project,
    host: &FsHost,
    second: bool,
) -> Arc<Analysis> {
    let checked = check(project, host, source.name());
    let name = source.name().to_owned();
    let (analysis, evaluation) = first_stage(source, host, checked);
    let analysis = Arc::new(analysis);
    if second {
        let _ = analysis
            .typed
            .set(evaluation.and_then(|ev| index(&ev, &name)));
    }
    analysis
}

/// The second stage of a check of environment `name` (which checks it again: an
/// evaluation cannot leave the thread it was made on), handed to `deliver` before the
/// evaluation is dropped (which takes a while on large documents).
pub(crate) fn typed_of(
    name: &str,
    project: &Project,
    host: &FsHost,
    deliver: impl FnOnce(Option<Typed>),
) {
    let checked = check(project, host, name);
    deliver(
        checked
            .as_ref()
            .and_then(|c| c.evaluation.as_ref())
            .and_then(|ev| index(ev, name)),
    );
    drop(checked);
}

fn index(ev: &Evaluation, name: &str) -> Option<Typed> {
    ev.typed().map(|t| Typed::new(t, name))
}

/// The first stage: the diagnostics located in this document (already sorted and masked
/// by the pipeline) and what the check read. Returns the evaluation too, for a second
/// stage on the same thread.
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
    let analysis = Analysis {
        lines: LineMap::new(source.text()),
        syntax,
        decl,
        diags,
        typed: OnceLock::new(),
        others,
        depends_on: host.requested(),
        source,
    };
    (analysis, evaluation)
}

impl Analysis {
    /// The second stage, if it is done and there is one.
    pub(crate) fn typed(&self) -> Option<&Typed> {
        self.typed.get().and_then(Option::as_ref)
    }

    /// The typed `properties` of the environment.
    pub(crate) fn properties(&self) -> Option<&serde_json::Map<String, Json>> {
        self.typed().map(|t| &t.properties)
    }

    /// The typed properties of the execution context.
    pub(crate) fn context(&self) -> Option<&serde_json::Map<String, Json>> {
        self.typed().map(|t| &t.context)
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

    /// The names of the environments this one imports, in order.
    pub(crate) fn import_names(&self) -> Vec<String> {
        self.decl
            .iter()
            .flat_map(|d| d.imports.iter().flatten())
            .map(|i| i.environment.value.clone())
            .collect()
    }
}

/// A place in a typed range: environment and byte span. Zero ranges (no place) are `None`.
pub(crate) fn typed_range(range: &Json) -> Option<(String, Span)> {
    let begin = range.get("begin")?;
    if begin.get("line")?.as_u64()? == 0 {
        return None;
    }
    let start = usize::try_from(begin.get("byte")?.as_u64()?).ok()?;
    let end = usize::try_from(range.get("end")?.get("byte")?.as_u64()?).ok()?;
    let env = range.get("environment")?.as_str()?.to_owned();
    Some((env, Span::new(start, end.max(start))))
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
                return locate_expr(&b.arg, offset, None);
            }
            None
        }
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::String(_) => None,
    }
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

/// Follows `path` through typed values (`{"value", "secret", "unknown", "trace"}`),
/// starting from the entries of an object. Stops (returns `None`) at a secret or unknown
/// value that still has steps to go, so a secret's parts are never read.
pub(crate) fn walk_typed<'a>(
    entries: &'a serde_json::Map<String, Json>,
    path: &[AccessorKind],
) -> Option<&'a Json> {
    let (first, rest) = path.split_first()?;
    let mut node = match first {
        AccessorKind::Name(k) | AccessorKind::Key(k) => entries.get(k)?,
        AccessorKind::Index(_) => return None,
    };
    for step in rest {
        if is_flag(node, "secret") || is_flag(node, "unknown") {
            return None;
        }
        let value = node.get("value")?;
        node = match (step, value) {
            (AccessorKind::Name(k) | AccessorKind::Key(k), Json::Object(m)) => m.get(k)?,
            (AccessorKind::Index(i), Json::Array(items)) => items.get(usize::try_from(*i).ok()?)?,
            (AccessorKind::Key(k), Json::Array(items)) => items.get(k.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Whether a typed value has flag `flag` (`secret`, `unknown`) set.
pub(crate) fn is_flag(node: &Json, flag: &str) -> bool {
    node.get(flag).and_then(Json::as_bool) == Some(true)
}

/// A typed value as plain JSON with every secret shown as `"[secret]"` and every unknown
/// as `"[unknown]"`.
pub(crate) fn redacted(node: &Json) -> Json {
    if is_flag(node, "secret") {
        return Json::String("[secret]".into());
    }
    if is_flag(node, "unknown") {
        return Json::String("[unknown]".into());
    }
    match node.get("value") {
        None | Some(Json::Null) => Json::Null,
        Some(Json::Array(items)) => Json::Array(items.iter().map(redacted).collect()),
        Some(Json::Object(m)) => {
            Json::Object(m.iter().map(|(k, v)| (k.clone(), redacted(v))).collect())
        }
        Some(scalar) => scalar.clone(),
    }
}

/// A short type for a typed value, from its data (never its contents).
pub(crate) fn value_type(node: &Json) -> String {
    let kind = match node.get("value") {
        _ if is_flag(node, "unknown") => "unknown",
        None | Some(Json::Null) => "null",
        Some(Json::Bool(_)) => "boolean",
        Some(Json::Number(_)) => "number",
        Some(Json::String(_)) => "string",
        Some(Json::Array(_)) => "array",
        Some(Json::Object(_)) => "object",
    };
    if is_flag(node, "secret") {
        format!("secret {kind}")
    } else {
        kind.to_owned()
    }
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
/// `${imports.name...}`), for its typed properties.
pub(crate) fn typed_properties_of(
    name: &str,
    project: &Project,
    host: &FsHost,
) -> Option<serde_json::Map<String, Json>> {
    let checked = check(project, host, name)?;
    match checked.evaluation?.typed()? {
        Json::Object(mut m) => match m.remove("properties") {
            Some(Json::Object(p)) => Some(p),
            _ => None,
        },
        _ => None,
    }
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
        analyze(Source::new(name, text), &project, &host, true)
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
        let props = a.properties().unwrap();
        let db = walk_typed(props, &[AccessorKind::Name("db".into())]).unwrap();
        let shown = redacted(db).to_string();
        assert_eq!(shown, r#"{"pass":"[secret]","user":"u"}"#);
        assert!(!shown.contains("hunter2"));
        let pass = walk_typed(
            props,
            &[
                AccessorKind::Name("db".into()),
                AccessorKind::Name("pass".into()),
            ],
        )
        .unwrap();
        assert_eq!(value_type(pass), "secret string");
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
