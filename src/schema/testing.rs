//! A toy evaluator for the schema tests: declared expressions (for §8.3's stepping rule) and
//! values defined by them, with helpers to build schemas.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::{Value as JsonValue, json};

use super::{Place, Problem, Schema, SchemaObject, Subject, View, validate};

/// A declared expression, named by a label that problems report.
#[derive(Debug)]
pub(super) struct Decl {
    pub(super) label: String,
    pub(super) kind: DeclKind,
}

#[derive(Debug)]
pub(super) enum DeclKind {
    Other,
    Object(Vec<(String, Rc<Decl>)>),
    Array(Vec<Rc<Decl>>),
}

pub(super) fn decl(label: &str) -> Rc<Decl> {
    Rc::new(Decl {
        label: label.to_owned(),
        kind: DeclKind::Other,
    })
}

/// §2.1 `JoinKey`.
pub(super) fn join_key(root: &str, key: &str) -> String {
    let mut chars = key.chars();
    let simple = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    match () {
        () if key.is_empty() => root.to_owned(),
        () if simple && root.is_empty() => key.to_owned(),
        () if simple => format!("{root}.{key}"),
        () => format!("{root}[\"{}\"]", key.replace('"', "\\\"")),
    }
}

/// A §8.3 location: an expression and a path below it.
#[derive(Clone, Debug)]
pub(super) struct Spot {
    pub(super) decl: Rc<Decl>,
    pub(super) path: String,
    pub(super) prefixed: bool,
}

impl Place for Spot {
    type At = String;

    fn property(&self, key: &str) -> Self {
        if let DeclKind::Object(entries) = &self.decl.kind
            && let Some((_, decl)) = entries.iter().find(|(k, _)| k == key)
        {
            return Spot {
                decl: Rc::clone(decl),
                path: key.to_owned(),
                prefixed: false,
            };
        }
        Spot {
            decl: Rc::clone(&self.decl),
            path: join_key(&self.path, key),
            prefixed: true,
        }
    }

    fn index(&self, index: usize) -> Self {
        if let DeclKind::Array(items) = &self.decl.kind
            && let Some(decl) = items.get(index)
        {
            return Spot {
                decl: Rc::clone(decl),
                path: format!("[{index}]"),
                prefixed: false,
            };
        }
        Spot {
            decl: Rc::clone(&self.decl),
            path: format!("{}[{index}]", self.path),
            prefixed: true,
        }
    }

    fn problem(&self, message: &str) -> Problem<String> {
        let message = if self.prefixed {
            format!("{}: {message}", self.path)
        } else {
            message.to_owned()
        };
        Problem {
            at: self.decl.label.clone(),
            message,
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Toy {
    pub(super) def: Rc<Decl>,
    pub(super) kind: Rc<Kind>,
}

#[derive(Debug)]
pub(super) enum Kind {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Toy>),
    /// Own entries, and entries only the base has.
    Object(Vec<(String, Toy)>, Vec<(String, Toy)>),
    Unknown(Schema),
}

impl Subject for Toy {
    type Place = Spot;

    fn view(&self) -> View<Self> {
        match &*self.kind {
            Kind::Object(own, base) => {
                let mut all: Vec<_> = own.iter().chain(base).cloned().collect();
                all.sort_by(|a, b| a.0.cmp(&b.0));
                View::Object(all)
            }
            _ => self.const_view(),
        }
    }

    fn const_view(&self) -> View<Self> {
        match &*self.kind {
            Kind::Null => View::Null,
            Kind::Bool(b) => View::Bool(*b),
            Kind::Number(n) => View::Number(n.clone()),
            Kind::String(s) => View::String(s.clone()),
            Kind::Array(items) => View::Array(items.clone()),
            Kind::Object(own, _) => View::Object(own.clone()),
            Kind::Unknown(schema) => View::Unknown(schema.clone()),
        }
    }

    fn place(&self) -> Spot {
        Spot {
            decl: Rc::clone(&self.def),
            path: String::new(),
            prefixed: false,
        }
    }
}

pub(super) fn toy(label: &str, kind: Kind) -> Toy {
    Toy {
        def: decl(label),
        kind: Rc::new(kind),
    }
}

/// A known value; nested values are labelled by their path below `label`.
pub(super) fn known(label: &str, v: &JsonValue) -> Toy {
    let kind = match v {
        JsonValue::Null => Kind::Null,
        JsonValue::Bool(b) => Kind::Bool(*b),
        JsonValue::Number(n) => Kind::Number(n.to_string()),
        JsonValue::String(s) => Kind::String(s.clone()),
        JsonValue::Array(items) => Kind::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| known(&format!("{label}[{i}]"), item))
                .collect(),
        ),
        JsonValue::Object(map) => {
            let mut entries: Vec<_> = map
                .iter()
                .map(|(k, item)| (k.clone(), known(&join_key(label, k), item)))
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Kind::Object(entries, Vec::new())
        }
    };
    toy(label, kind)
}

pub(super) fn unknown(label: &str, schema: Schema) -> Toy {
    toy(label, Kind::Unknown(schema))
}

pub(super) fn map(label: &str, entries: Vec<(&str, Toy)>) -> Toy {
    let mut entries: Vec<_> = entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    toy(label, Kind::Object(entries, Vec::new()))
}

pub(super) fn run(schema: &Schema, value: &Toy) -> (bool, Vec<(String, String)>) {
    let mut out = Vec::new();
    let ok = validate(schema, value, &mut out);
    (ok, out.into_iter().map(|p| (p.at, p.message)).collect())
}

pub(super) fn messages(schema: &Schema, value: &Toy) -> Vec<String> {
    run(schema, value).1.into_iter().map(|(_, m)| m).collect()
}

#[allow(clippy::needless_pass_by_value)] // callers pass `json!` literals
pub(super) fn schema(v: JsonValue) -> Schema {
    Schema::from_json(&v).expect("valid schema")
}

/// The problems of a JSON value against a JSON schema.
#[allow(clippy::needless_pass_by_value)] // callers pass `json!` literals
pub(super) fn check(schema_json: JsonValue, value: JsonValue) -> Vec<String> {
    messages(&schema(schema_json), &known("v", &value))
}

pub(super) fn ty(t: &str) -> Schema {
    Schema::of_type(t)
}

pub(super) fn keywords(t: &str, edit: impl FnOnce(&mut SchemaObject)) -> Schema {
    let mut object = SchemaObject {
        ty: t.to_owned(),
        ..SchemaObject::default()
    };
    edit(&mut object);
    Schema::from_object(object)
}

pub(super) fn named(entries: Vec<(&str, Schema)>) -> Vec<(String, Schema)> {
    entries
        .into_iter()
        .map(|(k, s)| (k.to_owned(), s))
        .collect()
}

/// The `schema` provider's input (and output) schema, built as §12 describes it.
#[allow(clippy::too_many_lines)] // one line per property, as §12 lists them
#[allow(clippy::approx_constant)] // 3.14 is the golden cases' number, not π
pub(super) fn provider_schema() -> Schema {
    let constant = |t: &str, v: JsonValue| keywords(t, |o| o.constant = Some(v));
    let def_record = Schema::record(named(vec![("baz", constant("string", json!("qux")))]));
    let properties = named(vec![
        ("null", ty("null")),
        ("boolean", ty("boolean")),
        ("false", constant("boolean", json!(false))),
        ("true", constant("boolean", json!(true))),
        ("number", ty("number")),
        ("pi", constant("number", json!(3.14))),
        ("string", ty("string")),
        ("hello", constant("string", json!("hello"))),
        ("array", Schema::array_of(Schema::Always)),
        (
            "tuple",
            Schema::tuple(vec![
                constant("string", json!("hello")),
                constant("string", json!("world")),
            ]),
        ),
        ("map", Schema::object_of(Schema::Always)),
        ("record", Schema::record(named(vec![("foo", ty("string"))]))),
        (
            "anyOf",
            keywords("", |o| o.any_of = vec![ty("string"), ty("number")]),
        ),
        ("oneOf", Schema::one_of(vec![ty("string"), ty("number")])),
        ("ref", Schema::reference("#/$defs/defRecord")),
        ("const-array", constant("array", json!(["hello", 42]))),
        (
            "const-object",
            constant("object", json!({"hello": "world"})),
        ),
        (
            "enum",
            keywords("string", |o| {
                o.enumeration = vec![json!("foo"), json!("bar")];
            }),
        ),
        ("never", Schema::Never),
        ("always", Schema::Always),
        ("double", Schema::tuple(vec![ty("string"), ty("number")])),
        (
            "triple",
            Schema::tuple(vec![ty("string"), ty("number"), ty("boolean")]),
        ),
        (
            "dependentReq",
            keywords("object", |o| {
                o.properties = BTreeMap::from([
                    ("foo".to_owned(), ty("string")),
                    ("bar".to_owned(), ty("number")),
                ]);
                o.dependent_required = BTreeMap::from([("foo".to_owned(), vec!["bar".to_owned()])]);
            }),
        ),
        (
            "multiple",
            keywords("number", |o| o.multiple_of = Some("2".to_owned())),
        ),
        (
            "minimum",
            keywords("number", |o| o.minimum = Some("1".to_owned())),
        ),
        (
            "exclusiveMinimum",
            keywords("number", |o| o.exclusive_minimum = Some("1".to_owned())),
        ),
        (
            "maximum",
            keywords("number", |o| o.maximum = Some("1".to_owned())),
        ),
        (
            "exclusiveMaximum",
            keywords("number", |o| o.exclusive_maximum = Some("1".to_owned())),
        ),
        (
            "minLength",
            keywords("string", |o| o.min_length = Some("1".to_owned())),
        ),
        (
            "maxLength",
            keywords("string", |o| o.max_length = Some("1".to_owned())),
        ),
        (
            "pattern",
            keywords("string", |o| o.pattern = "^foo[0-9]+$".to_owned()),
        ),
        (
            "minItems",
            keywords("array", |o| o.min_items = Some("3".to_owned())),
        ),
        (
            "maxItems",
            keywords("array", |o| o.max_items = Some("2".to_owned())),
        ),
        (
            "minProperties",
            keywords("object", |o| o.min_properties = Some("1".to_owned())),
        ),
        (
            "maxProperties",
            keywords("object", |o| o.max_properties = Some("1".to_owned())),
        ),
    ]);
    keywords("object", |o| {
        o.defs = BTreeMap::from([("defRecord".to_owned(), def_record)]);
        o.properties = properties.into_iter().collect();
    })
}
