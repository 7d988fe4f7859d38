//! Completion, from the text before the cursor (which is often broken while typing) and
//! the last good check of the document: property paths after `${`, `.` and `[`; `fn::`
//! builtin names, and provider names after `fn::open::`; the keys of a provider's inputs
//! (`inputs.rs`); environment names in `imports`; top-level keys.

use super::analysis::{Analysis, is_plain_name, value_type};
use super::hover::OtherEvaluation;
use crate::Span;
use crate::ast::{AccessorKind, BUILTINS, environment_ref, parse_property_path};
use crate::eval::{Evaluation, Value, ValueKind};

/// What an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ItemKind {
    /// A property or key.
    Property,
    /// A list index.
    Index,
    /// A `fn::` builtin.
    Builtin,
    /// An environment name.
    Environment,
    /// A top-level key.
    Keyword,
}

/// One completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    /// What the list shows.
    pub(crate) label: String,
    /// What replaces `replace`.
    pub(crate) insert: String,
    /// The text replaced (it ends at the cursor).
    pub(crate) replace: Span,
    /// The text the client filters on, when it is not the label.
    pub(crate) filter: Option<String>,
    /// What it is.
    pub(crate) kind: ItemKind,
    /// A short description (a type, or a builtin's signature; never a value).
    pub(crate) detail: String,
    /// Documentation (Markdown): what a builtin does, or a provider's or an input's
    /// description.
    pub(crate) documentation: Option<String>,
}

/// What completion reads besides the text.
pub(crate) struct Data<'a> {
    /// This environment's name.
    pub(crate) name: &'a str,
    /// The last check of the document that had a typed environment.
    pub(crate) analysis: Option<&'a Analysis>,
    /// The environments of the project.
    pub(crate) environments: &'a dyn Fn() -> Vec<String>,
    /// Another environment's evaluation.
    pub(crate) others: OtherEvaluation<'a>,
    /// The providers the project can open, with where each comes from.
    pub(crate) providers: &'a dyn Fn() -> Vec<(String, String)>,
}

/// The completions at byte `offset` of `text`.
pub(crate) fn complete(text: &str, offset: usize, data: &Data<'_>) -> Vec<Item> {
    let offset = super::convert::floor_boundary(text, offset);
    let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let prefix = &text[line_start..offset];
    if let Some(items) = access(prefix, line_start, data) {
        return items;
    }
    if let Some(items) = imports(text, prefix, line_start, offset, data) {
        return items;
    }
    if let Some(items) = provider_inputs(text, prefix, line_start, offset, data) {
        return items;
    }
    if let Some(items) = builtins(prefix, offset, data) {
        return items;
    }
    top_level(text, prefix, line_start, offset).unwrap_or_default()
}

// -------------------------------------------------------------------------------------
// `${...}`

/// How the access being typed ends.
#[derive(Debug, PartialEq, Eq)]
enum Tail<'a> {
    /// `${par`: a root name.
    Root { partial: &'a str },
    /// `${a.b.par` (`dot` is the byte of the `.` in the access text): a name after a dot,
    /// or `${a["b"]par`: a name right after a subscript (no dot).
    Name {
        receiver: &'a str,
        dot: Option<usize>,
        partial: &'a str,
    },
    /// `${a.b[par`: inside a subscript (`open` is the byte of the `[`).
    Subscript {
        receiver: &'a str,
        open: usize,
        inner: &'a str,
    },
}

/// Splits the access text typed so far (after `${`, up to the cursor).
fn tail(p: &str) -> Tail<'_> {
    let bytes = p.as_bytes();
    let mut open: Option<usize> = None;
    let mut in_quote = false;
    let mut boundary: Option<(usize, bool)> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if open.is_some() {
            if in_quote {
                if b == b'\\' {
                    i += 1;
                } else if b == b'"' {
                    in_quote = false;
                }
            } else if b == b'"' {
                in_quote = true;
            } else if b == b']' {
                open = None;
                boundary = Some((i + 1, false));
            }
        } else if b == b'.' {
            boundary = Some((i, true));
        } else if b == b'[' {
            open = Some(i);
        }
        i += 1;
    }
    if let Some(open) = open {
        return Tail::Subscript {
            receiver: &p[..open],
            open,
            inner: &p[open + 1..],
        };
    }
    match boundary {
        None => Tail::Root { partial: p },
        Some((i, true)) => Tail::Name {
            receiver: &p[..i],
            dot: Some(i),
            partial: &p[i + 1..],
        },
        Some((i, false)) => Tail::Name {
            receiver: &p[..i],
            dot: None,
            partial: &p[i..],
        },
    }
}

/// The start of the access text of an unclosed `${` on this line before the cursor.
fn open_interpolation(prefix: &str) -> Option<usize> {
    let at = prefix.rfind("${")?;
    // `$${` is an escaped `$`: the `$` run before `{` must be odd.
    let dollars = prefix[..=at]
        .bytes()
        .rev()
        .take_while(|&b| b == b'$')
        .count();
    if dollars % 2 == 0 {
        return None;
    }
    let rest = &prefix[at + 2..];
    if rest.contains('}') || rest.bytes().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    Some(at + 2)
}

/// The children of the value at a path.
enum Children {
    Keys(Vec<(String, String)>),
    Indices(usize),
}

fn children_of(value: &Value) -> Option<Children> {
    if value.secret || value.unknown {
        return None;
    }
    match &value.kind {
        ValueKind::Object(m) => Some(keys_of(m)),
        ValueKind::Array(items) => Some(Children::Indices(items.len())),
        _ => None,
    }
}

fn keys_of(entries: &std::collections::BTreeMap<String, Value>) -> Children {
    Children::Keys(
        entries
            .iter()
            .map(|(k, v)| (k.clone(), value_type(v)))
            .collect(),
    )
}

/// What can follow `path` below an evaluation's properties (all of them for an empty path).
fn children_in(ev: &Evaluation, path: &[AccessorKind]) -> Option<Children> {
    if path.is_empty() {
        return ev.properties.as_ref().map(keys_of);
    }
    children_of(&ev.value_at(path)?)
}

fn name_of(a: &AccessorKind) -> Option<&str> {
    match a {
        AccessorKind::Name(k) | AccessorKind::Key(k) => Some(k),
        AccessorKind::Index(_) => None,
    }
}

/// What can follow `path` in a reference.
fn children(path: &[AccessorKind], data: &Data<'_>) -> Option<Children> {
    let a = data.analysis;
    let Some((first, rest)) = path.split_first() else {
        let mut keys: Vec<(String, String)> = match a.and_then(Analysis::properties).map(keys_of) {
            Some(Children::Keys(keys)) => keys,
            _ => Vec::new(),
        };
        keys.push(("context".into(), "execution context".into()));
        if a.is_some_and(|a| !a.import_names().is_empty()) {
            keys.push(("imports".into(), "imported environments".into()));
        }
        keys.push(("environments".into(), "other environments".into()));
        return Some(Children::Keys(keys));
    };
    match name_of(first)? {
        "context" => children_of(&a?.typed()?.evaluation.context_at(rest)?),
        "imports" => match rest.split_first() {
            None => Some(Children::Keys(
                a?.import_names()
                    .into_iter()
                    .map(|n| (n, "environment".to_owned()))
                    .collect(),
            )),
            Some((name, rest)) => children_in(&(data.others)(name_of(name)?)?, rest),
        },
        "environments" => {
            let names = (data.environments)();
            match rest {
                [] => {
                    let mut projects: Vec<String> = names
                        .iter()
                        .filter_map(|n| n.split_once('/').map(|(p, _)| p.to_owned()))
                        .collect();
                    projects.dedup();
                    Some(Children::Keys(
                        projects
                            .into_iter()
                            .map(|p| (p, "project".to_owned()))
                            .collect(),
                    ))
                }
                [project] => {
                    let project = name_of(project)?;
                    Some(Children::Keys(
                        names
                            .iter()
                            .filter_map(|n| {
                                let (p, e) = n.split_once('/')?;
                                (p == project && !e.contains('/'))
                                    .then(|| (e.to_owned(), "environment".to_owned()))
                            })
                            .collect(),
                    ))
                }
                [_, _, ..] => {
                    let read = environment_ref(path)?.ok()?;
                    children_in(&(data.others)(&read.name)?, read.rest)
                }
            }
        }
        _ => children_in(&a?.typed()?.evaluation, path),
    }
}

fn access(prefix: &str, line_start: usize, data: &Data<'_>) -> Option<Vec<Item>> {
    let start = open_interpolation(prefix)?;
    let p = &prefix[start..];
    let base = line_start + start;
    let end = line_start + prefix.len();
    let items = match tail(p) {
        Tail::Root { partial }
        | Tail::Name {
            dot: Some(0),
            partial,
            ..
        } => {
            let replace = Span::new(end - partial.len(), end);
            let from_dollar = Span::new(base, end);
            match children(&[], data)? {
                Children::Keys(keys) => keys
                    .into_iter()
                    .map(|(k, detail)| {
                        if is_plain_name(&k) {
                            item(k.clone(), k, replace, None, ItemKind::Property, detail)
                        } else {
                            let insert = subscript(&k);
                            let filter = Some(k.clone());
                            item(k, insert, from_dollar, filter, ItemKind::Property, detail)
                        }
                    })
                    .collect(),
                Children::Indices(_) => Vec::new(),
            }
        }
        Tail::Name {
            receiver,
            dot,
            partial,
        } => {
            let path = parse_property_path(receiver).ok()?;
            let replace = Span::new(end - partial.len(), end);
            let from_dot = Span::new(dot.map_or(replace.start(), |d| base + d), end);
            let typed = &p[dot.unwrap_or(p.len() - partial.len())..];
            match children(&path, data)? {
                Children::Keys(keys) => keys
                    .into_iter()
                    .map(|(k, detail)| {
                        if is_plain_name(&k) {
                            item(k.clone(), k, replace, None, ItemKind::Property, detail)
                        } else {
                            let filter =
                                Some(format!("{}{k}", &typed[..typed.len() - partial.len()]));
                            let insert = subscript(&k);
                            item(k, insert, from_dot, filter, ItemKind::Property, detail)
                        }
                    })
                    .collect(),
                Children::Indices(n) => (0..n.min(1000))
                    .map(|i| {
                        let label = format!("[{i}]");
                        let filter = Some(format!("{}{i}", &typed[..typed.len() - partial.len()]));
                        item(
                            label.clone(),
                            label,
                            from_dot,
                            filter,
                            ItemKind::Index,
                            String::new(),
                        )
                    })
                    .collect(),
            }
        }
        Tail::Subscript {
            receiver,
            open,
            inner,
        } => {
            let path = parse_property_path(receiver).ok()?;
            let replace = Span::new(base + open + 1, end);
            let _ = inner;
            match children(&path, data)? {
                Children::Keys(keys) => keys
                    .into_iter()
                    .map(|(k, detail)| {
                        let insert = format!("\"{}\"]", k.replace('"', "\\\""));
                        let filter = Some(format!("\"{k}"));
                        item(k, insert, replace, filter, ItemKind::Property, detail)
                    })
                    .collect(),
                Children::Indices(n) => (0..n.min(1000))
                    .map(|i| {
                        let label = i.to_string();
                        item(
                            label.clone(),
                            format!("{i}]"),
                            replace,
                            None,
                            ItemKind::Index,
                            String::new(),
                        )
                    })
                    .collect(),
            }
        }
    };
    Some(items)
}

fn subscript(key: &str) -> String {
    format!("[\"{}\"]", key.replace('"', "\\\""))
}

fn item(
    label: String,
    insert: String,
    replace: Span,
    filter: Option<String>,
    kind: ItemKind,
    detail: String,
) -> Item {
    Item {
        label,
        insert,
        replace,
        filter,
        kind,
        detail,
        documentation: None,
    }
}

// -------------------------------------------------------------------------------------
// Provider inputs

fn provider_inputs(
    text: &str,
    prefix: &str,
    line_start: usize,
    offset: usize,
    data: &Data<'_>,
) -> Option<Vec<Item>> {
    let place = super::inputs::place(text, prefix, line_start)?;
    let schema = super::inputs::input_schema(data.analysis, &place.provider)?;
    let at = super::inputs::schema_at(&schema, &place.path)?;
    let partial = prefix.len()
        - prefix
            .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            .len();
    let replace = Span::new(offset - partial, offset);
    Some(
        super::inputs::keys(at, &place.present)
            .into_iter()
            .map(|k| Item {
                documentation: k.description,
                ..item(
                    k.name.clone(),
                    k.name,
                    replace,
                    None,
                    ItemKind::Property,
                    k.detail,
                )
            })
            .collect(),
    )
}

// -------------------------------------------------------------------------------------
// Imports

/// Whether the line starting at `line_start` is inside the top-level `imports:` block.
fn in_imports_block(text: &str, line_start: usize) -> bool {
    for line in text[..line_start].lines().rev() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indented = line.len() != trimmed.len();
        if indented || trimmed.starts_with('-') {
            continue;
        }
        return trimmed.starts_with("imports:");
    }
    false
}

fn imports(
    text: &str,
    prefix: &str,
    line_start: usize,
    offset: usize,
    data: &Data<'_>,
) -> Option<Vec<Item>> {
    let partial = if let Some(rest) = prefix.strip_prefix("imports:") {
        // `imports: [a, b`
        let rest = rest.trim_start().strip_prefix('[')?;
        if rest.contains(']') {
            return None;
        }
        rest.rsplit(',').next().unwrap_or("").trim_start()
    } else {
        let trimmed = prefix.trim_start();
        let item = trimmed.strip_prefix('-')?;
        if !item.is_empty() && !item.starts_with([' ', '\t']) {
            return None;
        }
        if !in_imports_block(text, line_start) {
            return None;
        }
        item.trim_start()
    };
    let partial = partial.trim_start_matches(['"', '\'']);
    if partial.contains([' ', ':', '{', '}', '[', ']', ',']) {
        return None;
    }
    let replace = Span::new(offset - partial.len(), offset);
    let taken = data
        .analysis
        .map(Analysis::import_names)
        .unwrap_or_default();
    Some(
        (data.environments)()
            .into_iter()
            .filter(|n| n != data.name && !taken.contains(n))
            .map(|n| {
                item(
                    n.clone(),
                    n,
                    replace,
                    None,
                    ItemKind::Environment,
                    "environment".to_owned(),
                )
            })
            .collect(),
    )
}

// -------------------------------------------------------------------------------------
// Builtins and top-level keys

/// `fn::open::NAME` for each provider the project can open, `fn::rotate::NAME` for each
/// plugin (rotators are plugins).
fn providers(word: &str, replace: Span, data: &Data<'_>) -> Vec<Item> {
    let (prefix, rotators) = if word.starts_with("fn::rotate::") {
        ("fn::rotate::", true)
    } else {
        ("fn::open::", false)
    };
    (data.providers)()
        .into_iter()
        .filter(|(_, from)| !rotators || from != crate::providers::BUILTIN)
        .map(|(name, from)| {
            let documentation = if rotators {
                None
            } else {
                super::inputs::input_schema(data.analysis, &name)
                    .and_then(|s| super::inputs::description(&s))
            };
            let label = format!("{prefix}{name}");
            Item {
                documentation,
                ..item(label.clone(), label, replace, None, ItemKind::Builtin, from)
            }
        })
        .collect()
}

fn builtins(prefix: &str, offset: usize, data: &Data<'_>) -> Option<Vec<Item>> {
    let word_len = prefix
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'))
        .count();
    let word_start = prefix.len() - word_len;
    let word = &prefix[word_start..];
    if word.is_empty() || !("fn::".starts_with(word) || word.starts_with("fn::")) {
        return None;
    }
    let before = prefix[..word_start].trim_end();
    if before.is_empty() && word_start == 0 {
        // Builtins are not allowed at the top level.
        return None;
    }
    if !(before.is_empty() || before.ends_with(['-', '{', ','])) {
        return None;
    }
    let replace = Span::new(offset - word.len(), offset);
    if word.starts_with("fn::open::") || word.starts_with("fn::rotate::") {
        return Some(providers(word, replace, data));
    }
    let mut names: Vec<&str> = BUILTINS.to_vec();
    names.extend(["fn::open::", "fn::rotate::"]);
    Some(
        names
            .into_iter()
            .map(|n| {
                let detail = crate::ast::builtin_signature(n)
                    .unwrap_or("builtin")
                    .to_owned();
                Item {
                    documentation: Some(super::hover::builtin_doc(n)),
                    ..item(
                        n.to_owned(),
                        n.to_owned(),
                        replace,
                        None,
                        ItemKind::Builtin,
                        detail,
                    )
                }
            })
            .collect(),
    )
}

fn top_level(text: &str, prefix: &str, line_start: usize, offset: usize) -> Option<Vec<Item>> {
    if !prefix.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let line_end = text[line_start..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| line_start + i);
    let present: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '-']))
        .filter_map(|l| l.split(':').next())
        .collect();
    let this_line = &text[line_start..line_end];
    let replace = Span::new(offset - prefix.len(), offset);
    Some(
        ["description", "imports", "values"]
            .into_iter()
            .filter(|k| !present.contains(k) || this_line.split(':').next() == Some(*k))
            .map(|k| {
                item(
                    k.to_owned(),
                    k.to_owned(),
                    replace,
                    None,
                    ItemKind::Keyword,
                    "top-level key".to_owned(),
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::analysis::tests::analyze_text;
    use super::*;

    fn envs() -> Vec<String> {
        vec![
            "app".into(),
            "base".into(),
            "proj/dev".into(),
            "proj/prod".into(),
        ]
    }

    fn providers() -> Vec<(String, String)> {
        vec![
            ("aws-login".to_owned(), "built-in provider".to_owned()),
            ("mine".to_owned(), "plugin on PATH".to_owned()),
        ]
    }

    fn others(name: &str) -> Option<Evaluation> {
        (name == "proj/dev").then(|| {
            let a = analyze_text("proj/dev", "values:\n  stage: dev\n", &[]);
            a.typed().unwrap().evaluation.clone()
        })
    }

    /// The labels offered where `|` is in `text`, and the text after applying the first.
    fn at(text: &str, analysis: Option<&Analysis>) -> (Vec<String>, String) {
        let offset = text.find('|').unwrap();
        let text = text.replacen('|', "", 1);
        let data = Data {
            name: "app",
            analysis,
            environments: &envs,
            others: &others,
            providers: &providers,
        };
        let items = complete(&text, offset, &data);
        let labels = items.iter().map(|i| i.label.clone()).collect();
        let applied = items.first().map_or(String::new(), |i| {
            let mut t = text.clone();
            t.replace_range(i.replace.start()..i.replace.end(), &i.insert);
            t
        });
        (labels, applied)
    }

    #[test]
    fn tails() {
        assert_eq!(tail("ab"), Tail::Root { partial: "ab" });
        assert_eq!(
            tail("a.b.c"),
            Tail::Name {
                receiver: "a.b",
                dot: Some(3),
                partial: "c"
            }
        );
        assert_eq!(
            tail("a[\"x.y\"]"),
            Tail::Name {
                receiver: "a[\"x.y\"]",
                dot: None,
                partial: ""
            }
        );
        assert_eq!(
            tail("a.b[\"x"),
            Tail::Subscript {
                receiver: "a.b",
                open: 3,
                inner: "\"x"
            }
        );
        assert_eq!(open_interpolation("a: ${b"), Some(5));
        assert_eq!(open_interpolation("a: $${b"), None);
        assert_eq!(open_interpolation("a: $$${b"), Some(7));
        assert_eq!(open_interpolation("a: ${b} c"), None);
        assert_eq!(open_interpolation("a: ${b c"), None);
    }

    #[test]
    fn property_paths() {
        let doc = "imports: [base]\nvalues:\n  db:\n    host: h\n    \"odd key\": 1\n  list: [a, b]\n  s:\n    fn::secret: x\n  r: x\n";
        let a = analyze_text("app", doc, &[("base", "values:\n  region: eu\n")]);
        let (labels, applied) = at("values:\n  x: ${|", Some(&*a));
        assert_eq!(
            labels,
            [
                "db",
                "list",
                "r",
                "region",
                "s",
                "context",
                "imports",
                "environments"
            ]
        );
        assert_eq!(applied, "values:\n  x: ${db");
        let (labels, applied) = at("values:\n  x: \"${db.h|}\"", Some(&*a));
        assert_eq!(labels, ["host", "odd key"]);
        assert_eq!(applied, "values:\n  x: \"${db.host}\"");
        let (_, applied) = at("values:\n  x: ${db.|", Some(&*a));
        assert_eq!(applied, "values:\n  x: ${db.host");
        let (labels, applied) = at("values:\n  x: ${db[|", Some(&*a));
        assert_eq!(labels, ["host", "odd key"]);
        assert_eq!(applied, "values:\n  x: ${db[\"host\"]");
        let (labels, applied) = at("values:\n  x: ${list.|", Some(&*a));
        assert_eq!(labels, ["[0]", "[1]"]);
        assert_eq!(applied, "values:\n  x: ${list[0]");
        // Nothing inside a secret.
        let (labels, _) = at("values:\n  x: ${s.|", Some(&*a));
        assert!(labels.is_empty());
        let (labels, _) = at("values:\n  x: ${context.pulumi.user.|", Some(&*a));
        assert_eq!(labels, ["login"]);
        let (labels, _) = at("values:\n  x: ${environments.|", Some(&*a));
        assert_eq!(labels, ["proj"]);
        let (labels, _) = at("values:\n  x: ${environments.proj.|", Some(&*a));
        assert_eq!(labels, ["dev", "prod"]);
        let (labels, _) = at("values:\n  x: ${environments.proj.dev.|", Some(&*a));
        assert_eq!(labels, ["stage"]);
        let (labels, _) = at("values:\n  x: ${imports.|", Some(&*a));
        assert_eq!(labels, ["base"]);
        // Closed interpolations and escapes offer nothing.
        let (labels, _) = at("values:\n  x: ${db} |", Some(&*a));
        assert!(labels.is_empty());
    }

    /// The items offered where `|` is in `text` (analyzed without it, as a buffer would
    /// be before the key is typed).
    fn items_at(text: &str) -> Vec<Item> {
        let offset = text.find('|').unwrap();
        let text = text.replacen('|', "", 1);
        let a = analyze_text("app", &text, &[]);
        let data = Data {
            name: "app",
            analysis: Some(&a),
            environments: &envs,
            others: &others,
            providers: &providers,
        };
        complete(&text, offset, &data)
    }

    #[test]
    fn provider_names_and_inputs() {
        let labels = |items: Vec<Item>| items.into_iter().map(|i| i.label).collect::<Vec<_>>();
        let items = items_at("values:\n  a:\n    fn::open::|\n");
        assert_eq!(items[0].label, "fn::open::aws-login");
        assert_eq!(items[0].detail, "built-in provider");
        assert!(
            items[0]
                .documentation
                .as_deref()
                .unwrap()
                .starts_with("Logs in to AWS"),
            "{:?}",
            items[0].documentation
        );
        assert_eq!(labels(items), ["fn::open::aws-login", "fn::open::mine"]);
        // Rotators are plugins.
        assert_eq!(
            labels(items_at("values:\n  a:\n    fn::rotate::m|\n")),
            ["fn::rotate::mine"]
        );
        // The keys of the object being filled, but those already there.
        let items = items_at(
            "values:\n  c:\n    fn::open::aws-login:\n      oidc:\n        roleArn: x\n        s|\n",
        );
        assert_eq!(
            labels(items.clone()),
            ["sessionName", "duration", "policyArns", "subjectAttributes"]
        );
        assert_eq!(items[0].detail, "string (required)");
        assert_eq!(
            items[0].documentation.as_deref(),
            Some("The name of the role session (shows in CloudTrail).")
        );
        assert_eq!(items[0].replace.end() - items[0].replace.start(), 1);
        assert_eq!(
            labels(items_at(
                "values:\n  c:\n    fn::open::aws-login:\n      |\n"
            )),
            ["oidc", "static"]
        );
        // Below a name the user chooses, the entry's keys.
        assert_eq!(
            labels(items_at(
                "values:\n  s:\n    fn::open::aws-secrets:\n      get:\n        db:\n          |\n"
            )),
            ["secretId", "versionId", "versionStage"]
        );
        // A provider without a schema offers nothing (and other completions go on).
        assert!(items_at("values:\n  c:\n    fn::open::nope:\n      |\n").is_empty());
    }

    #[test]
    fn builtins_imports_and_top_level_keys() {
        let (labels, applied) = at("values:\n  a:\n    fn::se|", None);
        assert!(labels.contains(&"fn::secret".to_owned()));
        assert_eq!(labels.len(), BUILTINS.len() + 2);
        assert!(applied.starts_with("values:\n  a:\n    fn::concat"));
        let (labels, _) = at("values:\n  a: {fn|", None);
        assert!(labels.contains(&"fn::toJSON".to_owned()));
        let (labels, _) = at("values:\n  a: f|", None);
        assert!(labels.is_empty());
        let (labels, applied) = at("imports:\n  - base\n  - pr|\nvalues: {}\n", None);
        assert_eq!(labels, ["base", "proj/dev", "proj/prod"]);
        assert_eq!(applied, "imports:\n  - base\n  - base\nvalues: {}\n");
        let (labels, _) = at("imports: [base, |", None);
        assert_eq!(labels.len(), 3);
        let (labels, _) = at("values:\n  - |", None);
        assert!(labels.is_empty());
        let (labels, applied) = at("values: {}\nim|", None);
        assert_eq!(labels, ["description", "imports"]);
        assert_eq!(applied, "values: {}\ndescription");
    }

    #[test]
    fn builtins_come_with_their_signature_and_documentation() {
        let text = "values:\n  a:\n    fn::te|";
        let offset = text.find('|').unwrap();
        let text = text.replacen('|', "", 1);
        let providers = Vec::new;
        let data = Data {
            name: "app",
            analysis: None,
            environments: &envs,
            others: &others,
            providers: &providers,
        };
        let items = complete(&text, offset, &data);
        for (name, signature, doc) in [
            ("fn::template", "fn::template: EXPRESSION", "A template:"),
            ("fn::eval", "fn::eval: ${TEMPLATE}", "Evaluates a template"),
            (
                "fn::conform",
                "fn::conform: {schema: SCHEMA, value: VALUE}",
                "fn::validate",
            ),
            (
                "fn::open::",
                "fn::open::PROVIDER: INPUTS",
                "Opens the named provider",
            ),
        ] {
            let item = items.iter().find(|i| i.label == name).expect(name);
            assert_eq!(item.detail, signature);
            assert!(
                item.documentation
                    .as_deref()
                    .is_some_and(|d| d.contains(doc)),
                "{name}: {:?}",
                item.documentation
            );
        }
    }

    #[test]
    fn documented_context_properties_complete_before_they_are_set() {
        let doc = "values:\n  a: 1\n";
        let a = analyze_text("app", doc, &[]);
        let (labels, _) = at("values:\n  x: ${context.pulumi.|", Some(&*a));
        assert_eq!(labels, ["organization", "user"]);
        let (labels, _) = at("values:\n  x: ${context.pulumi.organization.|", Some(&*a));
        assert_eq!(labels, ["login"]);
    }
}
