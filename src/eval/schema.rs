//! The schema system: ESC's JSON-Schema subset, inference helpers and validation (spec §8, §9).
//!
//! A [`Schema`] is `true` ([`Schema::Always`]), `false` ([`Schema::Never`]) or an object of
//! keywords. Schemas are immutable and shared through `Rc`; every operation builds new nodes.
//!
//! [`Schema::compile`] prepares a schema for validation: it resolves `$ref`s against the `$defs`
//! of the schema it was invoked on, parses numeric keywords, compiles `pattern` and flags
//! `rotateOnly` properties. Compiled nodes remember that they are compiled, so compiling again
//! (even a subschema taken out of a compiled schema) keeps the original resolution.
//!
//! `$defs` may be recursive (the meta-schema is). A compiled `$ref` reaches its target through a
//! table of the root's compiled definitions. Nodes of the public tree hold that table strongly;
//! the table's own nodes hold it weakly, so no `Rc` cycle forms. Resolution only happens while
//! validating, when a strong holder is on the stack.
//!
//! [`validate`] checks a value (seen through [`Subject`]) against a schema with the exact
//! diagnostics of the reference (§8.2); unknown values are checked schema against schema (§8.3).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::rc::{Rc, Weak};

use regex::Regex;
use serde_json::{Map, Number, Value as Json};

use crate::go::json::encode_value;
use crate::go::strconv::quote;

/// Deepest subschema nesting that [`Schema::from_json`] accepts (the root is level 1).
const MAX_DECODE_DEPTH: usize = 64;

/// Deepest validation recursion (it bounds the stack). Legitimate schemas and values stay far
/// below it; `$ref` cycles that never descend into the value reach it.
const MAX_VALIDATION_DEPTH: usize = 512;

/// Most steps one validation takes. Recursive `$ref`s on both sides of a schema-vs-schema check
/// revisit the same pairs exponentially often; ordinary validations take one step per value
/// node and subschema.
const MAX_VALIDATION_STEPS: usize = 1 << 20;

/// Reported when a validation exceeds its [`Budget`] (escc's own text; the reference overflows
/// its stack or runs on).
const TOO_COMPLEX: &str = "schema validation gave up: the schema is too deeply nested or recursive";

/// A schema: `true`, `false`, or an object schema. Cloning is cheap.
#[derive(Clone, Debug)]
pub(crate) enum Schema {
    /// `true`: admits everything.
    Always,
    /// `false`: admits nothing.
    Never,
    /// An object schema.
    Object(Rc<SchemaObject>),
    /// A schema the evaluator infers for every value (a literal's, a record's, a tuple's,
    /// a merge's), built only when something reads it: most are never read outside the
    /// typed output, and building them eagerly cost a keyword object per value and a
    /// quadratic amount of merging over long import chains.
    Lazy(Rc<Lazy>),
}

impl PartialEq for Schema {
    fn eq(&self, other: &Self) -> bool {
        match (self.resolved(), other.resolved()) {
            (Schema::Always, Schema::Always) | (Schema::Never, Schema::Never) => true,
            (Schema::Object(a), Schema::Object(b)) => Rc::ptr_eq(a, b) || a == b,
            _ => false,
        }
    }
}

/// A deferred schema and, once read, what it stands for.
#[derive(Debug)]
pub(crate) struct Lazy {
    kind: LazyKind,
    built: std::cell::OnceCell<Schema>,
}

#[derive(Debug)]
enum LazyKind {
    /// [`Schema::literal`] of this value.
    Literal(Json),
    /// [`Schema::literal`] of this string (shared with the value that holds it).
    LiteralString(Rc<str>),
    /// [`Schema::record`] of these (sorted) properties.
    Record(Vec<(Rc<str>, Schema)>),
    /// [`Schema::tuple`] of these items.
    Tuple(Vec<Schema>),
    /// [`Schema::merged`] of base and top.
    Merged(Schema, Schema),
}

impl Drop for Lazy {
    /// Long merge chains (one link per import) are dropped iteratively, not recursively.
    fn drop(&mut self) {
        let LazyKind::Merged(base, _) = &mut self.kind else {
            return;
        };
        let mut next = std::mem::replace(base, Schema::Always);
        while let Schema::Lazy(rc) = next {
            let Ok(mut lazy) = Rc::try_unwrap(rc) else {
                break;
            };
            next = match &mut lazy.kind {
                LazyKind::Merged(base, _) => std::mem::replace(base, Schema::Always),
                _ => Schema::Always,
            };
        }
    }
}

impl Lazy {
    fn schema(kind: LazyKind) -> Schema {
        Schema::Lazy(Rc::new(Lazy {
            kind,
            built: std::cell::OnceCell::new(),
        }))
    }

    fn build(&self) -> Schema {
        match &self.kind {
            LazyKind::Literal(v) => Schema::literal_now(v),
            LazyKind::LiteralString(s) => Schema::literal_now(&Json::String(s.to_string())),
            LazyKind::Record(props) => Schema::record_now(
                props
                    .iter()
                    .map(|(k, s)| (k.to_string(), s.clone()))
                    .collect(),
            ),
            LazyKind::Tuple(items) => Schema::tuple_now(items.clone()),
            LazyKind::Merged(..) => self.build_merged(),
        }
    }

    /// Folds a left-leaning chain of merges bottom-up in one pass, so a chain of n imports
    /// costs the sum of its layers' sizes rather than n materialized intermediate schemas.
    fn build_merged(&self) -> Schema {
        let mut tops: Vec<&Schema> = Vec::new();
        let mut node = self;
        let bottom = loop {
            let LazyKind::Merged(base, top) = &node.kind else {
                unreachable!("build_merged is only called on a merge")
            };
            tops.push(top);
            match base {
                Schema::Lazy(inner)
                    if inner.built.get().is_none()
                        && matches!(inner.kind, LazyKind::Merged(..)) =>
                {
                    node = inner;
                }
                other => break other.resolved().clone(),
            }
        };
        // The accumulated merge: `Some` while it is a record built by merging (§4.4), so
        // further object layers extend it in place.
        let mut acc = bottom;
        let mut fresh: Option<SchemaObject> = None;
        for top in tops.into_iter().rev() {
            let top = top.resolved();
            let t = match top.object() {
                Some(t) if t.ty == "object" => t,
                _ => {
                    fresh = None;
                    acc = top.clone();
                    continue;
                }
            };
            let merged = match fresh.as_mut() {
                Some(m) => m,
                None => {
                    let b = match acc.object() {
                        Some(b) if b.ty == "object" => b,
                        _ => {
                            acc = top.clone();
                            continue;
                        }
                    };
                    fresh.insert(SchemaObject {
                        properties: b.properties.clone(),
                        additional_properties: b.additional_properties.clone(),
                        ty: "object".to_owned(),
                        ..SchemaObject::default()
                    })
                }
            };
            for (name, top_property) in &t.properties {
                let property = match merged.properties.remove(name) {
                    Some(base_property) => Schema::merged(&base_property, top_property),
                    None => top_property.clone(),
                };
                merged.properties.insert(name.clone(), property);
            }
            merged.additional_properties =
                match (&merged.additional_properties, &t.additional_properties) {
                    (None, None) => None,
                    (Some(only), None) | (None, Some(only)) => Some(only.clone()),
                    (Some(_), Some(_)) => Some(Schema::Always),
                };
        }
        match fresh {
            Some(mut merged) => {
                merged.required = merged.properties.keys().cloned().collect();
                Schema::from_object(merged)
            }
            None => acc,
        }
    }
}

/// An object schema's keywords (field names as in JSON; numeric keywords kept as their number text).
///
/// Empty strings, lists and maps mean "absent", as in the reference's encoding.
#[derive(Clone, Debug, Default, PartialEq)]
#[allow(clippy::struct_excessive_bools)] // they are JSON Schema's own boolean keywords
pub(crate) struct SchemaObject {
    /// `$defs` (sorted, as the reference's map encodes).
    pub(crate) defs: BTreeMap<String, Schema>,
    /// `$ref`.
    pub(crate) reference: String,
    /// `anyOf`.
    pub(crate) any_of: Vec<Schema>,
    /// `oneOf`.
    pub(crate) one_of: Vec<Schema>,
    /// `prefixItems`.
    pub(crate) prefix_items: Vec<Schema>,
    /// `items`.
    pub(crate) items: Option<Schema>,
    /// `additionalProperties`.
    pub(crate) additional_properties: Option<Schema>,
    /// `properties`.
    pub(crate) properties: BTreeMap<String, Schema>,
    /// `type` (`""` when unset).
    pub(crate) ty: String,
    /// `const` (JSON `null` cannot be told apart from absent, as in the reference).
    pub(crate) constant: Option<Json>,
    /// `enum`.
    pub(crate) enumeration: Vec<Json>,
    /// `multipleOf`.
    pub(crate) multiple_of: Option<String>,
    /// `maximum`.
    pub(crate) maximum: Option<String>,
    /// `exclusiveMaximum`.
    pub(crate) exclusive_maximum: Option<String>,
    /// `minimum`.
    pub(crate) minimum: Option<String>,
    /// `exclusiveMinimum`.
    pub(crate) exclusive_minimum: Option<String>,
    /// `maxLength`.
    pub(crate) max_length: Option<String>,
    /// `minLength`.
    pub(crate) min_length: Option<String>,
    /// `pattern` (Go RE2 syntax).
    pub(crate) pattern: String,
    /// `maxItems`.
    pub(crate) max_items: Option<String>,
    /// `minItems`.
    pub(crate) min_items: Option<String>,
    /// `uniqueItems` (carried, never enforced).
    pub(crate) unique_items: bool,
    /// `maxProperties`.
    pub(crate) max_properties: Option<String>,
    /// `minProperties`.
    pub(crate) min_properties: Option<String>,
    /// `required`.
    pub(crate) required: Vec<String>,
    /// `dependentRequired`.
    pub(crate) dependent_required: BTreeMap<String, Vec<String>>,
    /// `title`.
    pub(crate) title: String,
    /// `description`.
    pub(crate) description: String,
    /// `default`.
    pub(crate) default: Option<Json>,
    /// `deprecated`.
    pub(crate) deprecated: bool,
    /// `examples`.
    pub(crate) examples: Vec<Json>,
    /// `secret`.
    pub(crate) secret: bool,
    /// `rotateOnly`: names of properties that are only evaluated during rotation.
    pub(crate) rotate_only: Vec<String>,
    /// Set by compile on the schema of a property named in `rotateOnly`, and all its subschemas.
    pub(crate) rotate_only_input: bool,
    /// What compile derived from the keywords; absent until compiled.
    compiled: Compiled,
}

/// Derived state of a compiled node. It follows from the keywords, so it takes no part in
/// equality.
#[derive(Clone, Debug, Default)]
struct Compiled(Option<Rc<Keywords>>);

impl PartialEq for Compiled {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Compiled {
    /// The state of a compiled node without `$ref`, numeric keywords or pattern.
    fn plain() -> Self {
        Compiled(Some(Rc::new(Keywords::default())))
    }
}

/// Parsed keywords of a compiled node.
#[derive(Debug, Default)]
struct Keywords {
    target: Option<Target>,
    pattern: Option<Regex>,
    multiple_of: Option<Decimal>,
    maximum: Option<Decimal>,
    exclusive_maximum: Option<Decimal>,
    minimum: Option<Decimal>,
    exclusive_minimum: Option<Decimal>,
    max_length: Option<u64>,
    min_length: Option<u64>,
    max_items: Option<u64>,
    min_items: Option<u64>,
    max_properties: Option<u64>,
    min_properties: Option<u64>,
}

/// The compiled definitions of the schema compile was invoked on.
#[derive(Debug)]
struct Defs(BTreeMap<String, Schema>);

/// How a compiled node reaches its root's definitions (see the module docs).
#[derive(Clone, Debug)]
enum Link {
    Strong(Rc<Defs>),
    Weak(Weak<Defs>),
}

/// A resolved `$ref`.
#[derive(Debug)]
struct Target {
    link: Link,
    name: String,
}

impl Target {
    /// The referenced schema, with the table that keeps its own references alive.
    fn resolve(&self) -> Option<(Rc<Defs>, Schema)> {
        let defs = match &self.link {
            Link::Strong(defs) => Rc::clone(defs),
            Link::Weak(defs) => defs.upgrade()?,
        };
        let schema = defs.0.get(&self.name)?.clone();
        Some((defs, schema))
    }
}

impl Schema {
    /// `{type: t}`. The evaluator gives one to nearly every value it computes, so the six
    /// type names' schemas are shared rather than built each time.
    pub(crate) fn of_type(t: &str) -> Schema {
        const NAMES: [&str; 6] = ["string", "number", "boolean", "array", "object", "null"];
        thread_local! {
            static SHARED: [Schema; 6] = NAMES.map(Schema::of_type_now);
        }
        match NAMES.iter().position(|&n| n == t) {
            Some(i) => SHARED.with(|shared| shared[i].clone()),
            None => Schema::of_type_now(t),
        }
    }

    fn of_type_now(t: &str) -> Schema {
        Schema::from_object(SchemaObject {
            ty: t.to_owned(),
            ..SchemaObject::default()
        })
    }

    /// The schema of a literal: `null` → `{type: null}`; anything else → `{type, const}`.
    /// Built when first read.
    pub(crate) fn literal(v: &Json) -> Schema {
        Lazy::schema(LazyKind::Literal(v.clone()))
    }

    /// [`Schema::literal`] of a string.
    pub(crate) fn literal_string(s: Rc<str>) -> Schema {
        Lazy::schema(LazyKind::LiteralString(s))
    }

    fn literal_now(v: &Json) -> Schema {
        let ty = match v {
            Json::Null => return Schema::of_type("null"),
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        };
        Schema::from_object(SchemaObject {
            ty: ty.to_owned(),
            constant: Some(v.clone()),
            ..SchemaObject::default()
        })
    }

    /// Record: `properties`, `required` = the sorted names, `type: object`.
    pub(crate) fn record(props: impl IntoIterator<Item = (String, Schema)>) -> Schema {
        Schema::record_now(props.into_iter().collect())
    }

    /// [`Schema::record`] of properties sorted by name, built when first read.
    pub(crate) fn record_sorted(props: Vec<(Rc<str>, Schema)>) -> Schema {
        Lazy::schema(LazyKind::Record(props))
    }

    fn record_now(properties: BTreeMap<String, Schema>) -> Schema {
        Schema::from_object(SchemaObject {
            required: properties.keys().cloned().collect(),
            properties,
            ty: "object".to_owned(),
            ..SchemaObject::default()
        })
    }

    /// Tuple: `prefixItems`, `items: false`, `type: array`. Built when first read.
    pub(crate) fn tuple(items: Vec<Schema>) -> Schema {
        Lazy::schema(LazyKind::Tuple(items))
    }

    fn tuple_now(items: Vec<Schema>) -> Schema {
        Schema::from_object(SchemaObject {
            prefix_items: items,
            items: Some(Schema::Never),
            ty: "array".to_owned(),
            ..SchemaObject::default()
        })
    }

    /// `{type: array, items}`; shared when `items` is `true`.
    pub(crate) fn array_of(items: Schema) -> Schema {
        thread_local! {
            static ANY: Schema = Schema::array_of_now(Schema::Always);
        }
        if matches!(items, Schema::Always) {
            return ANY.with(Schema::clone);
        }
        Schema::array_of_now(items)
    }

    fn array_of_now(items: Schema) -> Schema {
        Schema::from_object(SchemaObject {
            items: Some(items),
            ty: "array".to_owned(),
            ..SchemaObject::default()
        })
    }

    /// `{type: object, additionalProperties}`; shared when `additional` is `true`.
    pub(crate) fn object_of(additional: Schema) -> Schema {
        thread_local! {
            static ANY: Schema = Schema::object_of_now(Schema::Always);
        }
        if matches!(additional, Schema::Always) {
            return ANY.with(Schema::clone);
        }
        Schema::object_of_now(additional)
    }

    fn object_of_now(additional: Schema) -> Schema {
        Schema::from_object(SchemaObject {
            additional_properties: Some(additional),
            ty: "object".to_owned(),
            ..SchemaObject::default()
        })
    }

    /// `{oneOf: alts}` (with `type: ""`).
    pub(crate) fn one_of(alts: Vec<Schema>) -> Schema {
        Schema::from_object(SchemaObject {
            one_of: alts,
            ..SchemaObject::default()
        })
    }

    /// `{$ref: reference}`.
    pub(crate) fn reference(reference: &str) -> Schema {
        Schema::from_object(SchemaObject {
            reference: reference.to_owned(),
            ..SchemaObject::default()
        })
    }

    /// Wraps keywords, as not yet compiled (keywords copied from a compiled schema and edited
    /// must be compiled again). Outside this module, build them from `SchemaObject::default()`.
    pub(crate) fn from_object(mut object: SchemaObject) -> Schema {
        object.compiled = Compiled::default();
        Schema::Object(Rc::new(object))
    }

    /// The keywords, unless this is `true` or `false`.
    pub(crate) fn object(&self) -> Option<&SchemaObject> {
        match self.resolved() {
            Schema::Object(object) => Some(object),
            _ => None,
        }
    }

    /// This schema with a deferred one built: never [`Schema::Lazy`].
    pub(crate) fn resolved(&self) -> &Schema {
        match self {
            Schema::Lazy(lazy) => lazy.built.get_or_init(|| {
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || lazy.build().resolved().clone())
            }),
            other => other,
        }
    }

    /// The JSON-Schema meta-schema that `fn::validate` checks its schema against (§9.5), compiled.
    pub(crate) fn meta() -> Schema {
        let schema = || Schema::reference("#/$defs/schema");
        let string = || Schema::of_type("string");
        let number = || Schema::of_type("number");
        let boolean = || Schema::of_type("boolean");
        let anything = || Schema::from_object(SchemaObject::default());
        let strings = || Schema::array_of(string());
        let type_names = ["string", "number", "boolean", "array", "object", "null"];
        let type_keyword = Schema::from_object(SchemaObject {
            ty: "string".to_owned(),
            enumeration: type_names.iter().map(|&t| Json::from(t)).collect(),
            ..SchemaObject::default()
        });
        let properties = [
            ("$defs", Schema::object_of(schema())),
            ("$ref", string()),
            ("anyOf", Schema::array_of(schema())),
            ("oneOf", Schema::array_of(schema())),
            ("prefixItems", Schema::array_of(schema())),
            ("items", schema()),
            ("additionalProperties", schema()),
            ("properties", Schema::object_of(schema())),
            ("type", type_keyword),
            ("const", anything()),
            ("enum", Schema::of_type("array")),
            ("multipleOf", number()),
            ("maximum", number()),
            ("exclusiveMaximum", number()),
            ("minimum", number()),
            ("exclusiveMinimum", number()),
            ("maxLength", number()),
            ("minLength", number()),
            ("pattern", string()),
            ("maxItems", number()),
            ("minItems", number()),
            ("uniqueItems", boolean()),
            ("maxProperties", number()),
            ("minProperties", number()),
            ("required", strings()),
            ("dependentRequired", Schema::object_of(strings())),
            ("title", string()),
            ("description", string()),
            ("default", anything()),
            ("deprecated", boolean()),
            ("examples", Schema::of_type("array")),
        ];
        let object = Schema::from_object(SchemaObject {
            properties: properties
                .into_iter()
                .map(|(name, schema)| (name.to_owned(), schema))
                .collect(),
            ty: "object".to_owned(),
            ..SchemaObject::default()
        });
        let definition = Schema::from_object(SchemaObject {
            any_of: vec![boolean(), object],
            ..SchemaObject::default()
        });
        let root = Schema::from_object(SchemaObject {
            defs: BTreeMap::from([("schema".to_owned(), definition)]),
            reference: "#/$defs/schema".to_owned(),
            ..SchemaObject::default()
        });
        // Compiling this constant cannot fail; fall back to the raw form rather than panic.
        root.compile().unwrap_or(root)
    }

    /// The `type` keyword; `""` for `true`, `false` and when unset.
    pub(crate) fn type_name(&self) -> &str {
        self.object().map_or("", |object| &object.ty)
    }

    /// Whether compile flagged this schema as (part of) a rotateOnly input.
    pub(crate) fn is_rotate_only(&self) -> bool {
        self.object().is_some_and(|object| object.rotate_only_input)
    }

    fn is_compiled(&self) -> bool {
        self.object()
            .is_none_or(|object| object.compiled.0.is_some())
    }

    /// The schema of property `key` of values admitted by this one (§9.3). `$ref` is not followed.
    pub(crate) fn property(&self, key: &str) -> Schema {
        let Some(object) = self.object() else {
            return Schema::Never;
        };
        let direct = if object.ty == "object" {
            object
                .properties
                .get(key)
                .or(object.additional_properties.as_ref())
                .cloned()
        } else {
            None
        };
        let alternatives = object.any_of.iter().chain(&object.one_of);
        Schema::union(alternatives.map(|alt| alt.property(key)).chain(direct))
    }

    /// The schema of element `index` of values admitted by this one (§9.3). `$ref` is not followed.
    pub(crate) fn item(&self, index: usize) -> Schema {
        let Some(object) = self.object() else {
            return Schema::Never;
        };
        let direct = if object.ty == "array" {
            object
                .prefix_items
                .get(index)
                .or(object.items.as_ref())
                .cloned()
        } else {
            None
        };
        let alternatives = object.any_of.iter().chain(&object.one_of);
        Schema::union(alternatives.map(|alt| alt.item(index)).chain(direct))
    }

    /// The entries that can admit something: none → Never, one → it, several → their `oneOf`,
    /// rotateOnly only if all of them are.
    fn union(entries: impl Iterator<Item = Schema>) -> Schema {
        let mut found: Vec<Schema> = entries.filter(|s| *s != Schema::Never).collect();
        if found.len() <= 1 {
            return found.pop().unwrap_or(Schema::Never);
        }
        let compiled = if found.iter().all(Schema::is_compiled) {
            Compiled::plain()
        } else {
            Compiled::default()
        };
        Schema::Object(Rc::new(SchemaObject {
            rotate_only_input: found.iter().all(Schema::is_rotate_only),
            one_of: found,
            compiled,
            ..SchemaObject::default()
        }))
    }

    /// The schema of a value `top` merged over a base value with schema `base` (§4.4
    /// `mergedSchema`); the caller handles an absent base.
    /// Built when first read.
    pub(crate) fn merged(base: &Schema, top: &Schema) -> Schema {
        Lazy::schema(LazyKind::Merged(base.clone(), top.clone()))
    }

    /// The JSON form (§9.1): `true`/`false`, or the keywords in the reference's order.
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "the typed environment output uses it (issue 4)")
    )]
    pub(crate) fn to_json(&self) -> Json {
        match self.resolved() {
            Schema::Always | Schema::Lazy(_) => Json::Bool(true),
            Schema::Never => Json::Bool(false),
            Schema::Object(object) => Json::Object(object.to_json()),
        }
    }

    /// Decodes the JSON form; `true`/`false` become Always/Never, unknown keywords are ignored
    /// and `null` means absent (as Go's decoder does). Errors read
    /// `<JSON pointer>: expected <what>, got <JSON kind>` (e.g. `#/properties/a/type: expected a
    /// string, got number`) or `schema nested deeper than 64 levels`.
    pub(crate) fn from_json(v: &Json) -> Result<Schema, String> {
        decode_schema(v, "#", 1)
    }

    /// Compiles this schema and all its subschemas (§9.2); already compiled nodes are kept, so
    /// compile is idempotent. Error texts are the reference's where the spec gives them.
    pub(crate) fn compile(&self) -> Result<Schema, String> {
        let Some(root) = self.object() else {
            return Ok(self.clone());
        };
        if root.compiled.0.is_some() {
            return Ok(self.clone());
        }
        // The definitions seen from inside the table link back to it weakly (module docs).
        let mut error = None;
        let table = Rc::new_cyclic(|weak: &Weak<Defs>| {
            let scope = Scope {
                names: &root.defs,
                link: Link::Weak(weak.clone()),
            };
            let mut compiled = BTreeMap::new();
            for (name, definition) in &root.defs {
                match scope.compile(definition) {
                    Ok(definition) => {
                        compiled.insert(name.clone(), definition);
                    }
                    Err(err) => {
                        error.get_or_insert(err);
                    }
                }
            }
            Defs(compiled)
        });
        if let Some(err) = error {
            return Err(err);
        }
        let scope = Scope {
            names: &root.defs,
            link: Link::Strong(table),
        };
        scope.compile(self)
    }
}

impl SchemaObject {
    fn keywords(&self) -> Option<&Keywords> {
        self.compiled.0.as_deref()
    }

    /// The schema a compiled `$ref` designates.
    fn target(&self) -> Option<(Rc<Defs>, Schema)> {
        self.keywords()?.target.as_ref()?.resolve()
    }

    #[allow(clippy::too_many_lines)] // one statement per keyword, in the reference's order
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "the typed environment output uses it (issue 4)")
    )]
    fn to_json(&self) -> Map<String, Json> {
        fn list(schemas: &[Schema]) -> Json {
            Json::Array(schemas.iter().map(Schema::to_json).collect())
        }
        fn map(schemas: &BTreeMap<String, Schema>) -> Json {
            Json::Object(
                schemas
                    .iter()
                    .map(|(name, schema)| (name.clone(), schema.to_json()))
                    .collect(),
            )
        }
        fn strings(names: &[String]) -> Json {
            Json::Array(names.iter().map(|name| Json::from(name.as_str())).collect())
        }
        fn number(text: &str) -> Json {
            // Texts come from JSON numbers; keep anything else readable rather than lose it.
            text.parse::<Number>()
                .map_or_else(|_| Json::from(text), Json::Number)
        }

        let mut out = Map::new();
        let mut put = |key: &str, value: Json| {
            out.insert(key.to_owned(), value);
        };
        if !self.defs.is_empty() {
            put("$defs", map(&self.defs));
        }
        if !self.reference.is_empty() {
            put("$ref", Json::from(self.reference.as_str()));
        }
        for (key, schemas) in [
            ("anyOf", &self.any_of),
            ("oneOf", &self.one_of),
            ("prefixItems", &self.prefix_items),
        ] {
            if !schemas.is_empty() {
                put(key, list(schemas));
            }
        }
        if let Some(items) = &self.items {
            put("items", items.to_json());
        }
        if let Some(additional) = &self.additional_properties {
            put("additionalProperties", additional.to_json());
        }
        if !self.properties.is_empty() {
            put("properties", map(&self.properties));
        }
        put("type", Json::from(self.ty.as_str()));
        if let Some(constant) = &self.constant {
            put("const", constant.clone());
        }
        if !self.enumeration.is_empty() {
            put("enum", Json::Array(self.enumeration.clone()));
        }
        let numbers = [
            ("multipleOf", &self.multiple_of),
            ("maximum", &self.maximum),
            ("exclusiveMaximum", &self.exclusive_maximum),
            ("minimum", &self.minimum),
            ("exclusiveMinimum", &self.exclusive_minimum),
            ("maxLength", &self.max_length),
            ("minLength", &self.min_length),
        ];
        for (key, text) in numbers {
            if let Some(text) = text {
                put(key, number(text));
            }
        }
        if !self.pattern.is_empty() {
            put("pattern", Json::from(self.pattern.as_str()));
        }
        for (key, text) in [("maxItems", &self.max_items), ("minItems", &self.min_items)] {
            if let Some(text) = text {
                put(key, number(text));
            }
        }
        if self.unique_items {
            put("uniqueItems", Json::Bool(true));
        }
        let counts = [
            ("maxProperties", &self.max_properties),
            ("minProperties", &self.min_properties),
        ];
        for (key, text) in counts {
            if let Some(text) = text {
                put(key, number(text));
            }
        }
        if !self.required.is_empty() {
            put("required", strings(&self.required));
        }
        if !self.dependent_required.is_empty() {
            let dependencies = self
                .dependent_required
                .iter()
                .map(|(name, deps)| (name.clone(), strings(deps)))
                .collect();
            put("dependentRequired", Json::Object(dependencies));
        }
        if !self.title.is_empty() {
            put("title", Json::from(self.title.as_str()));
        }
        if !self.description.is_empty() {
            put("description", Json::from(self.description.as_str()));
        }
        if let Some(default) = &self.default {
            put("default", default.clone());
        }
        if self.deprecated {
            put("deprecated", Json::Bool(true));
        }
        if !self.examples.is_empty() {
            put("examples", Json::Array(self.examples.clone()));
        }
        if self.secret {
            put("secret", Json::Bool(true));
        }
        if !self.rotate_only.is_empty() {
            put("rotateOnly", strings(&self.rotate_only));
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding

fn decode_schema(v: &Json, at: &str, depth: usize) -> Result<Schema, String> {
    if depth > MAX_DECODE_DEPTH {
        return Err(format!(
            "schema nested deeper than {MAX_DECODE_DEPTH} levels"
        ));
    }
    match v {
        Json::Bool(true) => Ok(Schema::Always),
        Json::Bool(false) => Ok(Schema::Never),
        Json::Object(map) => decode_object(map, at, depth).map(Schema::from_object),
        other => Err(mismatch(at, "a schema (boolean or object)", other)),
    }
}

fn decode_object(map: &Map<String, Json>, at: &str, depth: usize) -> Result<SchemaObject, String> {
    let mut object = SchemaObject::default();
    for (key, value) in map {
        let at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
        let at = at.as_str();
        let sub = |v: &Json, at: &str| decode_schema(v, at, depth + 1);
        match key.as_str() {
            "$defs" => object.defs = decode_map(value, at, sub)?,
            "$ref" => object.reference = decode_string(value, at)?,
            "anyOf" => object.any_of = decode_list(value, at, sub)?,
            "oneOf" => object.one_of = decode_list(value, at, sub)?,
            "prefixItems" => object.prefix_items = decode_list(value, at, sub)?,
            "items" => object.items = decode_optional(value, |v| sub(v, at))?,
            "additionalProperties" => {
                object.additional_properties = decode_optional(value, |v| sub(v, at))?;
            }
            "properties" => object.properties = decode_map(value, at, sub)?,
            "type" => object.ty = decode_string(value, at)?,
            "const" => object.constant = decode_optional(value, |v| Ok(v.clone()))?,
            "enum" => object.enumeration = decode_list(value, at, |v, _| Ok(v.clone()))?,
            "multipleOf" => object.multiple_of = decode_number(value, at)?,
            "maximum" => object.maximum = decode_number(value, at)?,
            "exclusiveMaximum" => object.exclusive_maximum = decode_number(value, at)?,
            "minimum" => object.minimum = decode_number(value, at)?,
            "exclusiveMinimum" => object.exclusive_minimum = decode_number(value, at)?,
            "maxLength" => object.max_length = decode_number(value, at)?,
            "minLength" => object.min_length = decode_number(value, at)?,
            "pattern" => object.pattern = decode_string(value, at)?,
            "maxItems" => object.max_items = decode_number(value, at)?,
            "minItems" => object.min_items = decode_number(value, at)?,
            "uniqueItems" => object.unique_items = decode_bool(value, at)?,
            "maxProperties" => object.max_properties = decode_number(value, at)?,
            "minProperties" => object.min_properties = decode_number(value, at)?,
            "required" => object.required = decode_list(value, at, decode_string)?,
            "dependentRequired" => {
                object.dependent_required =
                    decode_map(value, at, |v, at| decode_list(v, at, decode_string))?;
            }
            "title" => object.title = decode_string(value, at)?,
            "description" => object.description = decode_string(value, at)?,
            "default" => object.default = decode_optional(value, |v| Ok(v.clone()))?,
            "deprecated" => object.deprecated = decode_bool(value, at)?,
            "examples" => object.examples = decode_list(value, at, |v, _| Ok(v.clone()))?,
            "secret" => object.secret = decode_bool(value, at)?,
            "rotateOnly" => object.rotate_only = decode_list(value, at, decode_string)?,
            _ => {}
        }
    }
    Ok(object)
}

fn mismatch(at: &str, expected: &str, got: &Json) -> String {
    let kind = match got {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    };
    format!("{at}: expected {expected}, got {kind}")
}

fn decode_optional<T>(
    v: &Json,
    decode: impl FnOnce(&Json) -> Result<T, String>,
) -> Result<Option<T>, String> {
    match v {
        Json::Null => Ok(None),
        v => decode(v).map(Some),
    }
}

fn decode_string(v: &Json, at: &str) -> Result<String, String> {
    match v {
        Json::Null => Ok(String::new()),
        Json::String(s) => Ok(s.clone()),
        other => Err(mismatch(at, "a string", other)),
    }
}

fn decode_bool(v: &Json, at: &str) -> Result<bool, String> {
    match v {
        Json::Null => Ok(false),
        Json::Bool(b) => Ok(*b),
        other => Err(mismatch(at, "a boolean", other)),
    }
}

fn decode_number(v: &Json, at: &str) -> Result<Option<String>, String> {
    match v {
        Json::Null => Ok(None),
        Json::Number(n) => Ok(Some(n.to_string())),
        other => Err(mismatch(at, "a number", other)),
    }
}

fn decode_list<T>(
    v: &Json,
    at: &str,
    decode: impl Fn(&Json, &str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match v {
        Json::Null => Ok(Vec::new()),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| decode(item, &format!("{at}/{i}")))
            .collect(),
        other => Err(mismatch(at, "an array", other)),
    }
}

fn decode_map<T>(
    v: &Json,
    at: &str,
    decode: impl Fn(&Json, &str) -> Result<T, String>,
) -> Result<BTreeMap<String, T>, String> {
    match v {
        Json::Null => Ok(BTreeMap::new()),
        Json::Object(entries) => entries
            .iter()
            .map(|(key, item)| {
                let at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                Ok((key.clone(), decode(item, &at)?))
            })
            .collect(),
        other => Err(mismatch(at, "an object", other)),
    }
}

// ---------------------------------------------------------------------------------------------
// Compiling

/// What `$ref`s resolve against while compiling: the root's definitions.
struct Scope<'a> {
    names: &'a BTreeMap<String, Schema>,
    link: Link,
}

impl Scope<'_> {
    fn compile(&self, schema: &Schema) -> Result<Schema, String> {
        match schema.resolved() {
            Schema::Object(object) if object.compiled.0.is_none() => self.compile_object(object),
            resolved => Ok(resolved.clone()),
        }
    }

    fn compile_list(&self, schemas: &[Schema]) -> Result<Vec<Schema>, String> {
        schemas.iter().map(|s| self.compile(s)).collect()
    }

    fn compile_map(
        &self,
        schemas: &BTreeMap<String, Schema>,
    ) -> Result<BTreeMap<String, Schema>, String> {
        schemas
            .iter()
            .map(|(name, s)| Ok((name.clone(), self.compile(s)?)))
            .collect()
    }

    fn compile_object(&self, object: &SchemaObject) -> Result<Schema, String> {
        let mut out = object.clone();
        out.defs = self.compile_map(&object.defs)?;
        let target = if object.reference.is_empty() {
            None
        } else {
            Some(Target {
                link: self.link.clone(),
                name: definition_name(&object.reference, self.names)?,
            })
        };
        out.any_of = self.compile_list(&object.any_of)?;
        out.one_of = self.compile_list(&object.one_of)?;
        out.prefix_items = self.compile_list(&object.prefix_items)?;
        out.items = object.items.as_ref().map(|s| self.compile(s)).transpose()?;
        out.additional_properties = object
            .additional_properties
            .as_ref()
            .map(|s| self.compile(s))
            .transpose()?;
        out.properties = self.compile_map(&object.properties)?;
        for name in &object.rotate_only {
            if let Some(property) = out.properties.get_mut(name) {
                *property = flag_rotate_only(property);
            }
        }
        let keywords = Keywords {
            target,
            pattern: compile_pattern(&object.pattern)?,
            multiple_of: parse_decimal(object.multiple_of.as_deref())?,
            maximum: parse_decimal(object.maximum.as_deref())?,
            exclusive_maximum: parse_decimal(object.exclusive_maximum.as_deref())?,
            minimum: parse_decimal(object.minimum.as_deref())?,
            exclusive_minimum: parse_decimal(object.exclusive_minimum.as_deref())?,
            max_length: parse_unsigned(object.max_length.as_deref())?,
            min_length: parse_unsigned(object.min_length.as_deref())?,
            max_items: parse_unsigned(object.max_items.as_deref())?,
            min_items: parse_unsigned(object.min_items.as_deref())?,
            max_properties: parse_unsigned(object.max_properties.as_deref())?,
            min_properties: parse_unsigned(object.min_properties.as_deref())?,
        };
        out.compiled = Compiled(Some(Rc::new(keywords)));
        Ok(Schema::Object(Rc::new(out)))
    }
}

/// The `$defs` name a `$ref` designates: only `#/$defs/<name>`, percent-decoded, is supported.
fn definition_name(reference: &str, names: &BTreeMap<String, Schema>) -> Result<String, String> {
    const ONLY_DEFS: &str = "only fragment references of the form #/$defs/ref are supported";
    let Some(fragment) = reference.strip_prefix('#') else {
        return Err(ONLY_DEFS.to_owned());
    };
    let decoded = percent_decode(fragment).map_err(|escape| {
        // Go's url.Parse error.
        format!(
            "parse {}: invalid URL escape {}",
            quote(reference),
            quote(&escape)
        )
    })?;
    let Some(name) = decoded.strip_prefix(b"/$defs/".as_slice()) else {
        return Err(ONLY_DEFS.to_owned());
    };
    match std::str::from_utf8(name) {
        Ok(name) if names.contains_key(name) => Ok(name.to_owned()),
        _ => Err(format!("unknown subschema {reference}")),
    }
}

/// Decodes `%XX` escapes; the error is the first malformed escape.
fn percent_decode(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hex = bytes.get(i + 1..i + 3).and_then(|pair| {
            let high = char::from(pair[0]).to_digit(16)?;
            let low = char::from(pair[1]).to_digit(16)?;
            u8::try_from(high * 16 + low).ok()
        });
        match hex {
            Some(byte) => out.push(byte),
            None => {
                return Err(text
                    .get(i..(i + 3).min(text.len()))
                    .unwrap_or("%")
                    .to_owned());
            }
        }
        i += 3;
    }
    Ok(out)
}

/// A count keyword (`maxLength` etc.) as an unsigned integer, with Go's `ParseUint` error text.
fn parse_unsigned(text: Option<&str>) -> Result<Option<u64>, String> {
    let Some(text) = text else {
        return Ok(None);
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.ParseUint: parsing {}: invalid syntax",
            quote(text)
        ));
    }
    text.parse().map(Some).map_err(|_| {
        format!(
            "strconv.ParseUint: parsing {}: value out of range",
            quote(text)
        )
    })
}

fn parse_decimal(text: Option<&str>) -> Result<Option<Decimal>, String> {
    text.map(|text| Decimal::parse(text).ok_or_else(|| format!("invalid number {}", quote(text))))
        .transpose()
}

fn compile_pattern(pattern: &str) -> Result<Option<Regex>, String> {
    if pattern.is_empty() {
        return Ok(None);
    }
    Regex::new(&go_regex(pattern)).map(Some).map_err(|err| {
        // Go's shape, `error parsing regexp: <reason>: `<pattern>``, with the regex crate's reason.
        let text = err.to_string();
        let reason = text
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("error: "))
            .unwrap_or(text.as_str());
        format!("error parsing regexp: {reason}: `{pattern}`")
    })
}

/// Rewrites Go RE2 syntax into the regex crate's where they differ: Perl classes and word
/// boundaries are ASCII-only in Go, `\Q…\E` quotes, and inside a class `[`, `&` and `~` are
/// literal (the regex crate nests classes and has set operators).
fn go_regex(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    // Inside a class: how many items it has so far (a `]` right after `[` or `[^` is literal).
    let mut class: Option<usize> = None;
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '\\' => {
                let Some(e) = rest.chars().next() else {
                    out.push('\\');
                    break;
                };
                rest = &rest[e.len_utf8()..];
                match e {
                    'd' => out.push_str("[0-9]"),
                    'D' => out.push_str("[^0-9]"),
                    's' => out.push_str(r"[\t\n\f\r ]"),
                    'S' => out.push_str(r"[^\t\n\f\r ]"),
                    'w' => out.push_str("[0-9A-Za-z_]"),
                    'W' => out.push_str("[^0-9A-Za-z_]"),
                    'b' if class.is_none() => out.push_str(r"(?-u:\b)"),
                    'B' if class.is_none() => out.push_str(r"(?-u:\B)"),
                    'Q' => {
                        let (quoted, after) = rest.split_once(r"\E").unwrap_or((rest, ""));
                        out.push_str(&regex::escape(quoted));
                        rest = after;
                    }
                    e => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' if class.is_none() => {
                out.push('[');
                if let Some(after) = rest.strip_prefix('^') {
                    out.push('^');
                    rest = after;
                }
                class = Some(0);
                continue;
            }
            '[' => match rest.strip_prefix(':').and_then(|r| r.split_once(":]")) {
                Some((name, after))
                    if name.bytes().all(|b| b.is_ascii_alphabetic() || b == b'^') =>
                {
                    let _ = write!(out, "[:{name}:]");
                    rest = after;
                }
                _ => out.push_str(r"\["),
            },
            ']' if class == Some(0) => out.push_str(r"\]"),
            ']' if class.is_some() => {
                out.push(']');
                class = None;
                continue;
            }
            '&' | '~' if class.is_some() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        if let Some(items) = class.as_mut() {
            *items += 1;
        }
    }
    out
}

/// The flagged copy of a rotateOnly property's schema: it and all its subschemas carry the flag,
/// and each object also lists its own property names in `rotateOnly`.
fn flag_rotate_only(schema: &Schema) -> Schema {
    let object = match schema.resolved() {
        Schema::Never | Schema::Lazy(_) => return Schema::Never,
        // Always cannot carry the flag; `{}` admits the same values and can.
        Schema::Always => {
            return Schema::Object(Rc::new(SchemaObject {
                rotate_only_input: true,
                compiled: Compiled::plain(),
                ..SchemaObject::default()
            }));
        }
        Schema::Object(object) => object,
    };
    let flag_all = |schemas: &[Schema]| schemas.iter().map(flag_rotate_only).collect();
    let flag_map = |schemas: &BTreeMap<String, Schema>| {
        schemas
            .iter()
            .map(|(name, s)| (name.clone(), flag_rotate_only(s)))
            .collect()
    };
    let mut copy = (**object).clone();
    copy.rotate_only_input = true;
    copy.defs = flag_map(&object.defs);
    copy.any_of = flag_all(&object.any_of);
    copy.one_of = flag_all(&object.one_of);
    copy.prefix_items = flag_all(&object.prefix_items);
    copy.items = object.items.as_ref().map(flag_rotate_only);
    copy.additional_properties = object.additional_properties.as_ref().map(flag_rotate_only);
    copy.properties = flag_map(&object.properties);
    for name in object.properties.keys() {
        if !copy.rotate_only.contains(name) {
            copy.rotate_only.push(name.clone());
        }
    }
    Schema::Object(Rc::new(copy))
}

// ---------------------------------------------------------------------------------------------
// Validation

/// What the validator sees of a value.
pub(crate) enum View<S> {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number, as its decimal text.
    Number(String),
    /// A string.
    String(String),
    /// A list.
    Array(Vec<S>),
    /// A map: its effective keys (including the base chain's), byte-sorted.
    Object(Vec<(String, S)>),
    /// An unknown value, with its schema.
    Unknown(Schema),
}

/// A reported problem: where, and the message (already prefixed with `path: ` when the spec says so).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem<A> {
    /// Where.
    pub(crate) at: A,
    /// The diagnostic's summary.
    pub(crate) message: String,
}

/// A location for schema-vs-schema checks (§8.3 "Locations"): stepping into properties/indices.
pub(crate) trait Place: Clone {
    /// What a problem points at (e.g. an expression).
    type At: Clone;
    /// The location of property `key` below this one.
    fn property(&self, key: &str) -> Self;
    /// The location of element `index` below this one.
    fn index(&self, index: usize) -> Self;
    /// The problem as reported from here (adds the `path: ` prefix when this place has a path).
    fn problem(&self, message: &str) -> Problem<Self::At>;
}

/// A value under validation.
pub(crate) trait Subject: Clone {
    /// Locations for schema-vs-schema problems.
    type Place: Place;
    /// The value's representation (maps with their effective keys).
    fn view(&self) -> View<Self>;
    /// Where problems with this value are reported (its definition), with an empty path.
    fn place(&self) -> Self::Place;
    /// What `const` and `enum` compare against: like [`Subject::view`], except that maps show
    /// only their own entries (§8.2). Defaults to the view.
    fn const_view(&self) -> View<Self> {
        self.view()
    }
}

/// Where problems about a subject go.
type At<S> = <<S as Subject>::Place as Place>::At;

/// Validates `value` against `schema` (§8.2; unknown values go to §8.3 with their schema). Returns
/// whether it passed; problems are appended to `out` in the order the spec gives (anyOf/oneOf scratch
/// lists included).
pub(crate) fn validate<S: Subject>(
    schema: &Schema,
    value: &S,
    out: &mut Vec<Problem<At<S>>>,
) -> bool {
    match schema.compile() {
        Ok(schema) => {
            let mut budget = Budget {
                steps: MAX_VALIDATION_STEPS,
                exhausted: false,
            };
            let ok = check_value(&schema, value, 0, &mut budget, out);
            if budget.exhausted {
                out.push(value.place().problem(TOO_COMPLEX));
            }
            ok && !budget.exhausted
        }
        Err(err) => {
            let message = format!("internal error: invalid schema: {err}");
            out.push(value.place().problem(&message));
            false
        }
    }
}

/// Bounds the work of one validation (see [`MAX_VALIDATION_STEPS`]).
struct Budget {
    steps: usize,
    exhausted: bool,
}

impl Budget {
    /// Takes a step at `depth`; false once the budget is spent, and the walk then unwinds failing.
    fn step(&mut self, depth: usize) -> bool {
        if self.exhausted || self.steps == 0 || depth > MAX_VALIDATION_DEPTH {
            self.exhausted = true;
            return false;
        }
        self.steps -= 1;
        true
    }
}

/// Whether one of `alternatives` passes `check`; when none does, their problems (in order) and
/// `message` are reported.
fn some_alternative<A>(
    alternatives: &[Schema],
    out: &mut Vec<Problem<A>>,
    failure: Problem<A>,
    mut check: impl FnMut(&Schema, &mut Vec<Problem<A>>) -> bool,
) -> bool {
    let mut scratch = Vec::new();
    for alternative in alternatives {
        if check(alternative, &mut scratch) {
            return true;
        }
    }
    out.append(&mut scratch);
    out.push(failure);
    false
}

/// §8.2: a known value against a compiled schema.
fn check_value<S: Subject>(
    schema: &Schema,
    value: &S,
    depth: usize,
    budget: &mut Budget,
    out: &mut Vec<Problem<At<S>>>,
) -> bool {
    let object = match schema.resolved() {
        Schema::Always | Schema::Lazy(_) => return true,
        Schema::Never => return false,
        Schema::Object(object) => object,
    };
    if !budget.step(depth) {
        return false;
    }
    let place = value.place();
    let view = value.view();
    if let View::Unknown(actual) = &view {
        return check_schema(actual, schema, &place, depth + 1, budget, out);
    }
    let mut ok = true;
    if !object.reference.is_empty() {
        // `_defs` keeps the target's own references resolvable while it is in use.
        if let Some((_defs, target)) = object.target() {
            ok &= check_value(&target, value, depth + 1, budget, out);
        } else {
            out.push(place.problem(&unresolved(&object.reference)));
            ok = false;
        }
    }
    if !object.any_of.is_empty() {
        let failure = place.problem("at least one subschema must match");
        ok &= some_alternative(&object.any_of, out, failure, |alt, scratch| {
            check_value(alt, value, depth + 1, budget, scratch)
        });
    }
    if !object.one_of.is_empty() {
        ok &= check_one_of(&object.one_of, value, depth, budget, out);
    }
    if let Some(constant) = &object.constant
        && !equals(value, constant)
    {
        out.push(place.problem(&format!("expected {}", encode_value(constant))));
        ok = false;
    }
    if !object.enumeration.is_empty() && !object.enumeration.iter().any(|e| equals(value, e)) {
        let message = match object.enumeration.as_slice() {
            [only] => format!("expected {}", encode_value(only)),
            all => format!(
                "expected one of {}",
                encode_value(&Json::Array(all.to_vec()))
            ),
        };
        out.push(place.problem(&message));
        ok = false;
    }
    ok & check_type(object, value, view, depth, budget, out)
}

/// oneOf for a known value: a second match fails at once, with no other problems.
fn check_one_of<S: Subject>(
    alternatives: &[Schema],
    value: &S,
    depth: usize,
    budget: &mut Budget,
    out: &mut Vec<Problem<At<S>>>,
) -> bool {
    let mut scratch = Vec::new();
    let mut matched = false;
    for alternative in alternatives {
        if check_value(alternative, value, depth + 1, budget, &mut scratch) {
            if matched {
                out.push(value.place().problem("exactly one subschema may match"));
                return false;
            }
            matched = true;
        }
    }
    if !matched {
        out.append(&mut scratch);
        out.push(value.place().problem("exactly one subschema must match"));
    }
    matched
}

/// The type check and the type-specific keywords of §8.2.
fn check_type<S: Subject>(
    object: &SchemaObject,
    value: &S,
    view: View<S>,
    depth: usize,
    budget: &mut Budget,
    out: &mut Vec<Problem<At<S>>>,
) -> bool {
    let actual = match &view {
        View::Null => "null",
        View::Bool(_) => "boolean",
        View::Number(_) => "number",
        View::String(_) => "string",
        View::Array(_) => "array",
        View::Object(_) => "object",
        View::Unknown(_) => return true,
    };
    let place = value.place();
    if !object.ty.is_empty() && object.ty != actual {
        out.push(place.problem(&format!("expected {}, got {actual}", object.ty)));
        return false;
    }
    // Compiled schemas always have keywords; an uncompiled one has nothing to check.
    let Some(keywords) = object.keywords() else {
        return true;
    };
    // Reports a problem, if any; returns whether there was none.
    let report = |out: &mut Vec<Problem<At<S>>>, message: Option<String>| match message {
        Some(message) => {
            out.push(place.problem(&message));
            false
        }
        None => true,
    };
    let mut ok = true;
    match view {
        View::Number(text) => {
            for message in number_problems(object, keywords, &text) {
                ok &= report(out, Some(message));
            }
        }
        View::String(text) => {
            for message in string_problems(object, keywords, &text) {
                ok &= report(out, Some(message));
            }
        }
        View::Array(items) => {
            let count = items.len();
            let few = below(keywords.min_items, object.min_items.as_deref(), count);
            ok &= report(
                out,
                few.map(|n| format!("expected an array with at least {n} items")),
            );
            let many = above(keywords.max_items, object.max_items.as_deref(), count);
            ok &= report(
                out,
                many.map(|n| format!("expected an array with at most {n} items")),
            );
            for (index, item) in items.iter().enumerate() {
                if let Some(schema) = object.prefix_items.get(index).or(object.items.as_ref()) {
                    ok &= check_value(schema, item, depth + 1, budget, out);
                }
            }
        }
        View::Object(entries) => {
            let count = entries.len();
            let few = below(
                keywords.min_properties,
                object.min_properties.as_deref(),
                count,
            );
            let few = few.map(|n| format!("expected an object with at least {n} properties"));
            ok &= report(out, few);
            let many = above(
                keywords.max_properties,
                object.max_properties.as_deref(),
                count,
            );
            let many = many.map(|n| format!("expected an object with at most {n} properties"));
            ok &= report(out, many);
            for (key, entry) in &entries {
                let schema = object
                    .properties
                    .get(key)
                    .or(object.additional_properties.as_ref());
                if let Some(schema) = schema {
                    ok &= check_value(schema, entry, depth + 1, budget, out);
                }
            }
            let present: BTreeSet<&str> = entries.iter().map(|(key, _)| key.as_str()).collect();
            let mut missing: Vec<&str> = object
                .required
                .iter()
                .map(String::as_str)
                .filter(|name| !present.contains(name))
                .collect();
            for (name, dependencies) in &object.dependent_required {
                if present.contains(name.as_str()) {
                    let absent = dependencies.iter().map(String::as_str);
                    missing.extend(absent.filter(|name| !present.contains(name)));
                }
            }
            let missing = (!missing.is_empty())
                .then(|| format!("missing required properties: {}", missing.join(", ")));
            ok &= report(out, missing);
        }
        View::Null | View::Bool(_) | View::Unknown(_) => {}
    }
    ok
}

/// The text of a `min*` keyword that `count` falls short of.
fn below(limit: Option<u64>, text: Option<&str>, count: usize) -> Option<&str> {
    let count = u64::try_from(count).unwrap_or(u64::MAX);
    text.filter(|_| limit.is_some_and(|limit| count < limit))
}

/// The text of a `max*` keyword that `count` exceeds.
fn above(limit: Option<u64>, text: Option<&str>, count: usize) -> Option<&str> {
    let count = u64::try_from(count).unwrap_or(u64::MAX);
    text.filter(|_| limit.is_some_and(|limit| count > limit))
}

/// The number keywords' messages, in the reference's order; they show the keyword's text.
fn number_problems(object: &SchemaObject, keywords: &Keywords, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    // Texts that are no number at all (`NaN`) have nothing to compare.
    let Some(number) = Decimal::parse(text) else {
        return problems;
    };
    if let (Some(divisor), Some(shown)) = (&keywords.multiple_of, &object.multiple_of)
        && !number.is_multiple_of(divisor)
    {
        problems.push(format!("expected a multiple of {shown}"));
    }
    // (bound, its text, the side that violates it, whether the bound itself passes, message)
    let bounds = [
        (
            &keywords.minimum,
            &object.minimum,
            Ordering::Less,
            true,
            "greater than or equal to ",
        ),
        (
            &keywords.exclusive_minimum,
            &object.exclusive_minimum,
            Ordering::Less,
            false,
            "greater than ",
        ),
        // No space before the number: the reference's message (quirk Q9).
        (
            &keywords.maximum,
            &object.maximum,
            Ordering::Greater,
            true,
            "less than or equal to",
        ),
        (
            &keywords.exclusive_maximum,
            &object.exclusive_maximum,
            Ordering::Greater,
            false,
            "less than ",
        ),
    ];
    for (bound, shown, outside, inclusive, relation) in bounds {
        let (Some(bound), Some(shown)) = (bound, shown) else {
            continue;
        };
        let order = number.cmp(bound);
        if order == outside || (order == Ordering::Equal && !inclusive) {
            problems.push(format!("expected a number {relation}{shown}"));
        }
    }
    problems
}

/// The string keywords' messages (lengths in bytes).
fn string_problems(object: &SchemaObject, keywords: &Keywords, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let length = text.len();
    if let Some(n) = below(keywords.min_length, object.min_length.as_deref(), length) {
        problems.push(format!("expected a string of at least length {n}"));
    }
    if let Some(n) = above(keywords.max_length, object.max_length.as_deref(), length) {
        problems.push(format!("expected a string of at most length {n}"));
    }
    if let Some(pattern) = &keywords.pattern
        && !pattern.is_match(text)
    {
        let pattern = quote(&object.pattern);
        problems.push(format!("string must match the pattern {pattern}"));
    }
    problems
}

fn unresolved(reference: &str) -> String {
    format!("internal error: invalid schema: unknown subschema {reference}")
}

/// §8.3: whether what `actual` admits fits `accept`, structurally. Only compiled `$ref`s of
/// `actual` are followed; an unresolvable one admits anything.
fn check_schema<P: Place>(
    actual: &Schema,
    accept: &Schema,
    place: &P,
    depth: usize,
    budget: &mut Budget,
    out: &mut Vec<Problem<P::At>>,
) -> bool {
    let a = match accept.resolved() {
        Schema::Always | Schema::Lazy(_) => return true,
        Schema::Never => return false,
        Schema::Object(a) => a,
    };
    let x = match actual.resolved() {
        Schema::Always | Schema::Lazy(_) => return true,
        Schema::Never => return false,
        Schema::Object(x) => x,
    };
    if !budget.step(depth) {
        return false;
    }
    let depth = depth + 1;
    let mut ok = true;
    // 1. and 2.: references on either side.
    if !a.reference.is_empty() {
        if let Some((_defs, target)) = a.target() {
            ok &= check_schema(actual, &target, place, depth, budget, out);
        } else {
            out.push(place.problem(&unresolved(&a.reference)));
            ok = false;
        }
    }
    if let Some((_defs, target)) = x.target() {
        ok &= check_schema(&target, accept, place, depth, budget, out);
    }
    // 3. and 4.: some alternative of the actual schema must fit.
    for alternatives in [&x.any_of, &x.one_of] {
        if !alternatives.is_empty() {
            let failure = place.problem("at least one subschema must match");
            ok &= some_alternative(alternatives, out, failure, |alt, scratch| {
                check_schema(alt, accept, place, depth, budget, scratch)
            });
        }
    }
    // 5.
    if !x.ty.is_empty() && !a.ty.is_empty() && x.ty != a.ty {
        out.push(place.problem(&format!("expected {}, got {}", a.ty, x.ty)));
        ok = false;
    }
    // 6. and 7.: the actual schema must fit some accepted alternative (oneOf as anyOf).
    for alternatives in [&a.any_of, &a.one_of] {
        if !alternatives.is_empty() {
            let failure = place.problem("at least one subschema must match");
            ok &= some_alternative(alternatives, out, failure, |alt, scratch| {
                check_schema(actual, alt, place, depth, budget, scratch)
            });
        }
    }
    // 8. An absent subschema admits anything.
    if x.ty == "array" {
        let count = x.prefix_items.len().max(a.prefix_items.len());
        for index in 0..count {
            let pair = match (x.prefix_items.get(index), a.prefix_items.get(index)) {
                (Some(xs), Some(accepted)) => Some((xs, accepted)),
                (Some(xs), None) => a.items.as_ref().map(|accepted| (xs, accepted)),
                (None, Some(accepted)) => x.items.as_ref().map(|xs| (xs, accepted)),
                (None, None) => None,
            };
            if let Some((xs, accepted)) = pair {
                ok &= check_schema(xs, accepted, &place.index(index), depth, budget, out);
            }
        }
        if let (Some(xs), Some(accepted)) = (&x.items, &a.items)
            && *xs != Schema::Never
        {
            ok &= check_schema(xs, accepted, place, depth, budget, out);
        }
    }
    // 9.
    if x.ty == "object" {
        for (name, xs) in &x.properties {
            let accepted = a.properties.get(name).or(a.additional_properties.as_ref());
            if let Some(accepted) = accepted {
                ok &= check_schema(xs, accepted, &place.property(name), depth, budget, out);
            }
        }
        match &x.additional_properties {
            // A closed actual object: whatever the accepted one requires must be required.
            None | Some(Schema::Never) => {
                let required = |name: &String| x.required.contains(name);
                let mut missing: Vec<&String> =
                    a.required.iter().filter(|name| !required(name)).collect();
                for (name, dependencies) in &a.dependent_required {
                    if required(name) {
                        missing.extend(dependencies.iter().filter(|name| !required(name)));
                    }
                }
                for name in missing {
                    out.push(place.property(name).problem("missing required property"));
                    ok = false;
                }
            }
            Some(xs) => {
                if let Some(accepted) = &a.additional_properties {
                    ok &= check_schema(xs, accepted, place, depth, budget, out);
                }
            }
        }
    }
    ok
}

/// `const`/`enum` equality: numbers by text, maps by own entries; unknowns equal nothing.
fn equals<S: Subject>(value: &S, expected: &Json) -> bool {
    match (value.const_view(), expected) {
        (View::Null, Json::Null) => true,
        (View::Bool(a), Json::Bool(b)) => a == *b,
        (View::Number(a), Json::Number(b)) => a == b.to_string(),
        (View::String(a), Json::String(b)) => a == *b,
        (View::Array(items), Json::Array(expected)) => {
            items.len() == expected.len() && items.iter().zip(expected).all(|(v, e)| equals(v, e))
        }
        (View::Object(entries), Json::Object(expected)) => {
            entries.len() == expected.len()
                && entries
                    .iter()
                    .all(|(key, v)| expected.get(key).is_some_and(|e| equals(v, e)))
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers

/// An exact decimal parsed from a number's text (or an infinity, which Go's `%g` can produce).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Decimal {
    NegativeInfinity,
    /// `±0.d₁d₂…dₙ × 10^point`, with no leading or trailing zero digit; zero has no digits.
    Finite {
        negative: bool,
        digits: Vec<u8>,
        point: i64,
    },
    Infinity,
}

impl Decimal {
    /// Exponents beyond this are clamped; no digit string is long enough to notice.
    const EXPONENT_LIMIT: i64 = 1_000_000_000_000_000;

    fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
            return Some(if negative {
                Decimal::NegativeInfinity
            } else {
                Decimal::Infinity
            });
        }
        let (mantissa, exponent) = match rest.split_once(['e', 'E']) {
            Some((mantissa, exponent)) => (mantissa, Decimal::parse_exponent(exponent)?),
            None => (rest, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !is_digits(whole) || !is_digits(fraction) {
            return None;
        }
        let mut digits: Vec<u8> = whole
            .bytes()
            .chain(fraction.bytes())
            .map(|b| b - b'0')
            .collect();
        let leading = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..leading);
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Some(Decimal::Finite {
                negative: false,
                digits,
                point: 0,
            });
        }
        let point = i64::try_from(whole.len()).ok()? - i64::try_from(leading).ok()? + exponent;
        Some(Decimal::Finite {
            negative,
            digits,
            point,
        })
    }

    fn parse_exponent(text: &str) -> Option<i64> {
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let magnitude = digits.bytes().fold(0i64, |acc, b| {
            (acc * 10 + i64::from(b - b'0')).min(Decimal::EXPONENT_LIMIT)
        });
        Some(if negative { -magnitude } else { magnitude })
    }

    /// (sign, magnitude as (point, digits)); zero and the infinities have no magnitude.
    fn order_key(&self) -> (i8, Option<(i64, &[u8])>) {
        match self {
            Decimal::NegativeInfinity => (-2, None),
            Decimal::Finite { digits, .. } if digits.is_empty() => (0, None),
            Decimal::Finite {
                negative,
                digits,
                point,
            } => (
                if *negative { -1 } else { 1 },
                Some((*point, digits.as_slice())),
            ),
            Decimal::Infinity => (2, None),
        }
    }

    /// Whether `self / divisor` is an integer, computed exactly.
    fn is_multiple_of(&self, divisor: &Decimal) -> bool {
        let (
            Decimal::Finite {
                digits: value,
                point: value_point,
                ..
            },
            Decimal::Finite {
                digits: divisor_digits,
                point: divisor_point,
                ..
            },
        ) = (self, divisor)
        else {
            // A finite value divided by an infinity is 0; an infinite value is no integer.
            return matches!(self, Decimal::Finite { .. });
        };
        if divisor_digits.is_empty() {
            return false;
        }
        if value.is_empty() {
            return true;
        }
        // value = V·10^(value_point − |V|), divisor = D·10^(divisor_point − |D|), with V and D
        // integers without trailing zeros; the quotient is (V / D)·10^shift.
        let length = |digits: &Vec<u8>| i64::try_from(digits.len()).unwrap_or(i64::MAX);
        let shift = (value_point - length(value)) - (divisor_point - length(divisor_digits));
        if shift < 0 {
            // V would need a factor 10, but it has no trailing zero.
            return false;
        }
        let Some(d) = Decimal::small_integer(divisor_digits) else {
            return self.to_f64() / divisor.to_f64() % 1.0 == 0.0;
        };
        let mut remainder = value
            .iter()
            .fold(0u128, |r, &digit| (r * 10 + u128::from(digit)) % d);
        // D < 2^123, so more than 128 factors of ten cannot change divisibility.
        for _ in 0..shift.min(128) {
            remainder = remainder * 10 % d;
        }
        remainder == 0
    }

    /// The digits as an integer, if it has at most 37 of them (so `r·10 + 9` fits in a `u128`).
    fn small_integer(digits: &[u8]) -> Option<u128> {
        (digits.len() <= 37).then(|| digits.iter().fold(0u128, |n, &d| n * 10 + u128::from(d)))
    }

    fn to_f64(&self) -> f64 {
        match self {
            Decimal::NegativeInfinity => f64::NEG_INFINITY,
            Decimal::Infinity => f64::INFINITY,
            Decimal::Finite {
                negative,
                digits,
                point,
            } => {
                let mut text = String::from(if *negative { "-0." } else { "0." });
                text.extend(digits.iter().map(|&d| char::from(b'0' + d)));
                let _ = write!(text, "e{point}");
                text.parse().unwrap_or(f64::NAN)
            }
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let ((sign, a), (other_sign, b)) = (self.order_key(), other.order_key());
        sign.cmp(&other_sign).then_with(|| {
            let magnitude = a.cmp(&b);
            if sign < 0 {
                magnitude.reverse()
            } else {
                magnitude
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::approx_constant)] // 3.14 is the golden cases' number, not π
mod tests {
    use super::*;
    use serde_json::json;

    // -----------------------------------------------------------------------------------------
    // A toy evaluator: declared expressions (for §8.3's stepping rule) and values defined by them.

    /// A declared expression, named by a label that problems report.
    #[derive(Debug)]
    struct Decl {
        label: String,
        kind: DeclKind,
    }

    #[derive(Debug)]
    enum DeclKind {
        Other,
        Object(Vec<(String, Rc<Decl>)>),
        Array(Vec<Rc<Decl>>),
    }

    fn decl(label: &str) -> Rc<Decl> {
        Rc::new(Decl {
            label: label.to_owned(),
            kind: DeclKind::Other,
        })
    }

    /// §2.1 `JoinKey`.
    fn join_key(root: &str, key: &str) -> String {
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
    struct Spot {
        decl: Rc<Decl>,
        path: String,
        prefixed: bool,
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
    struct Toy {
        def: Rc<Decl>,
        kind: Rc<Kind>,
    }

    #[derive(Debug)]
    enum Kind {
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

    fn toy(label: &str, kind: Kind) -> Toy {
        Toy {
            def: decl(label),
            kind: Rc::new(kind),
        }
    }

    /// A known value; nested values are labelled by their path below `label`.
    fn known(label: &str, v: &Json) -> Toy {
        let kind = match v {
            Json::Null => Kind::Null,
            Json::Bool(b) => Kind::Bool(*b),
            Json::Number(n) => Kind::Number(n.to_string()),
            Json::String(s) => Kind::String(s.clone()),
            Json::Array(items) => Kind::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| known(&format!("{label}[{i}]"), item))
                    .collect(),
            ),
            Json::Object(map) => {
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

    fn unknown(label: &str, schema: Schema) -> Toy {
        toy(label, Kind::Unknown(schema))
    }

    fn map(label: &str, entries: Vec<(&str, Toy)>) -> Toy {
        let mut entries: Vec<_> = entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        toy(label, Kind::Object(entries, Vec::new()))
    }

    fn run(schema: &Schema, value: &Toy) -> (bool, Vec<(String, String)>) {
        let mut out = Vec::new();
        let ok = validate(schema, value, &mut out);
        (ok, out.into_iter().map(|p| (p.at, p.message)).collect())
    }

    fn messages(schema: &Schema, value: &Toy) -> Vec<String> {
        run(schema, value).1.into_iter().map(|(_, m)| m).collect()
    }

    #[allow(clippy::needless_pass_by_value)] // callers pass `json!` literals
    fn schema(v: Json) -> Schema {
        Schema::from_json(&v).expect("valid schema")
    }

    /// The problems of a JSON value against a JSON schema.
    #[allow(clippy::needless_pass_by_value)] // callers pass `json!` literals
    fn check(schema_json: Json, value: Json) -> Vec<String> {
        messages(&schema(schema_json), &known("v", &value))
    }

    fn ty(t: &str) -> Schema {
        Schema::of_type(t)
    }

    fn keywords(t: &str, edit: impl FnOnce(&mut SchemaObject)) -> Schema {
        let mut object = SchemaObject {
            ty: t.to_owned(),
            ..SchemaObject::default()
        };
        edit(&mut object);
        Schema::from_object(object)
    }

    fn named(entries: Vec<(&str, Schema)>) -> Vec<(String, Schema)> {
        entries
            .into_iter()
            .map(|(k, s)| (k.to_owned(), s))
            .collect()
    }

    // -----------------------------------------------------------------------------------------
    // The `schema` test provider (§12) and the schema-error golden case (§8.4).

    /// The `schema` provider's input (and output) schema, built as §12 describes it.
    #[allow(clippy::too_many_lines)] // one line per property, as §12 lists them
    fn provider_schema() -> Schema {
        let constant = |t: &str, v: Json| keywords(t, |o| o.constant = Some(v));
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
                    o.dependent_required =
                        BTreeMap::from([("foo".to_owned(), vec!["bar".to_owned()])]);
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

    /// The provider's argSchema as the reference prints it (schema-error expected.json).
    const PROVIDER_SCHEMA_JSON: &str = r##"{"$defs":{"defRecord":{"properties":{"baz":{"type":"string","const":"qux"}},"type":"object","required":["baz"]}},"properties":{"always":true,"anyOf":{"anyOf":[{"type":"string"},{"type":"number"}],"type":""},"array":{"items":true,"type":"array"},"boolean":{"type":"boolean"},"const-array":{"type":"array","const":["hello",42]},"const-object":{"type":"object","const":{"hello":"world"}},"dependentReq":{"properties":{"bar":{"type":"number"},"foo":{"type":"string"}},"type":"object","dependentRequired":{"foo":["bar"]}},"double":{"prefixItems":[{"type":"string"},{"type":"number"}],"items":false,"type":"array"},"enum":{"type":"string","enum":["foo","bar"]},"exclusiveMaximum":{"type":"number","exclusiveMaximum":1},"exclusiveMinimum":{"type":"number","exclusiveMinimum":1},"false":{"type":"boolean","const":false},"hello":{"type":"string","const":"hello"},"map":{"additionalProperties":true,"type":"object"},"maxItems":{"type":"array","maxItems":2},"maxLength":{"type":"string","maxLength":1},"maxProperties":{"type":"object","maxProperties":1},"maximum":{"type":"number","maximum":1},"minItems":{"type":"array","minItems":3},"minLength":{"type":"string","minLength":1},"minProperties":{"type":"object","minProperties":1},"minimum":{"type":"number","minimum":1},"multiple":{"type":"number","multipleOf":2},"never":false,"null":{"type":"null"},"number":{"type":"number"},"oneOf":{"oneOf":[{"type":"string"},{"type":"number"}],"type":""},"pattern":{"type":"string","pattern":"^foo[0-9]+$"},"pi":{"type":"number","const":3.14},"record":{"properties":{"foo":{"type":"string"}},"type":"object","required":["foo"]},"ref":{"$ref":"#/$defs/defRecord","type":""},"string":{"type":"string"},"triple":{"prefixItems":[{"type":"string"},{"type":"number"},{"type":"boolean"}],"items":false,"type":"array"},"true":{"type":"boolean","const":true},"tuple":{"prefixItems":[{"type":"string","const":"hello"},{"type":"string","const":"world"}],"items":false,"type":"array"}},"type":"object"}"##;

    /// `source`'s inputs in schema-error/env.yaml.
    fn source_inputs() -> Json {
        json!({
            "null": null, "boolean": true, "false": false, "true": true, "number": 42, "pi": 3.14,
            "string": "esc", "hello": "hello", "array": [2, "items", {"some": "object"}, ["array"]],
            "tuple": ["hello", "world"], "map": {"hello": "world", "blue": 42}, "record": {"foo": "bar"},
            "anyOf": "hello", "oneOf": 42, "ref": {"baz": "qux"}, "const-array": ["hello", 42],
            "const-object": {"hello": "world"}, "enum": "foo", "always": {}, "double": ["hello", 42],
            "triple": ["hello", 42, true], "dependentReq": {"foo": "bar", "bar": 42}, "multiple": 4,
            "minimum": 1, "exclusiveMinimum": 2, "maximum": 1, "exclusiveMaximum": 0,
            "minLength": "a", "maxLength": "a", "pattern": "foo42",
            "minProperties": {"foo": "bar"}, "maxProperties": {"foo": "bar"}
        })
    }

    /// `sink`'s inputs: which `source` property each one references (`minLength` is `""`).
    const SINK: [(&str, &str); 24] = [
        ("boolean", "null"),
        ("string", "array"),
        ("number", "record"),
        ("record", "always"),
        ("anyOf", "false"),
        ("oneOf", "false"),
        ("const-array", "string"),
        ("const-object", "string"),
        ("enum", "string"),
        ("double", "triple"),
        ("triple", "double"),
        ("dependentReq", "record"),
        ("multiple", "pi"),
        ("minimum", "exclusiveMaximum"),
        ("exclusiveMinimum", "minimum"),
        ("maximum", "exclusiveMinimum"),
        ("exclusiveMaximum", "maximum"),
        ("minLength", ""),
        ("maxLength", "string"),
        ("pattern", "string"),
        ("minItems", "double"),
        ("maxItems", "triple"),
        ("minProperties", "always"),
        ("maxProperties", "dependentReq"),
    ];

    /// The sink's inputs object, each entry labelled `sink.<key>`.
    fn sink(entry: impl Fn(&str, &str) -> Toy) -> Toy {
        let entries = SINK
            .iter()
            .map(|&(key, from)| {
                let label = format!("sink.{key}");
                let value = if from.is_empty() {
                    known(&label, &json!(""))
                } else {
                    entry(&label, from)
                };
                (key, value)
            })
            .collect();
        map("sink", entries)
    }

    /// Expected problems: (sink key, message), in sink-key order, each key's in generation order.
    fn in_key_order(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut expected: Vec<_> = expected
            .iter()
            .map(|(key, message)| (format!("sink.{key}"), (*message).to_owned()))
            .collect();
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        expected
    }

    #[test]
    fn provider_schema_prints_like_the_reference() {
        let schema = provider_schema();
        assert_eq!(
            serde_json::to_string(&schema.to_json()).unwrap(),
            PROVIDER_SCHEMA_JSON
        );
        // Compiling changes nothing visible.
        let compiled = schema.compile().unwrap();
        assert_eq!(
            serde_json::to_string(&compiled.to_json()).unwrap(),
            PROVIDER_SCHEMA_JSON
        );
        assert_eq!(compiled, schema);
    }

    #[test]
    fn provider_schema_decodes_from_its_json() {
        let decoded =
            Schema::from_json(&serde_json::from_str(PROVIDER_SCHEMA_JSON).unwrap()).unwrap();
        assert_eq!(decoded, provider_schema());
    }

    #[test]
    fn golden_source_inputs_are_valid() {
        let source = known("source", &source_inputs());
        assert_eq!(run(&provider_schema(), &source), (true, vec![]));
    }

    #[test]
    fn golden_eval_mode() {
        let inputs = source_inputs();
        let sink = sink(|label, from| known(label, &inputs[from]));
        let (ok, problems) = run(&provider_schema(), &sink);
        assert!(!ok);
        let expected = in_key_order(&[
            ("boolean", "expected boolean, got null"),
            ("string", "expected string, got array"),
            ("number", "expected number, got object"),
            ("record", "missing required properties: foo"),
            ("anyOf", "expected string, got boolean"),
            ("anyOf", "expected number, got boolean"),
            ("anyOf", "at least one subschema must match"),
            ("oneOf", "expected string, got boolean"),
            ("oneOf", "expected number, got boolean"),
            ("oneOf", "exactly one subschema must match"),
            ("const-array", r#"expected ["hello",42]"#),
            ("const-array", "expected array, got string"),
            ("const-object", r#"expected {"hello":"world"}"#),
            ("const-object", "expected object, got string"),
            ("enum", r#"expected one of ["foo","bar"]"#),
            ("dependentReq", "missing required properties: bar"),
            ("multiple", "expected a multiple of 2"),
            ("minimum", "expected a number greater than or equal to 1"),
            ("exclusiveMinimum", "expected a number greater than 1"),
            ("maximum", "expected a number less than or equal to1"),
            ("exclusiveMaximum", "expected a number less than 1"),
            ("minLength", "expected a string of at least length 1"),
            ("maxLength", "expected a string of at most length 1"),
            ("pattern", r#"string must match the pattern "^foo[0-9]+$""#),
            ("minItems", "expected an array with at least 3 items"),
            ("maxItems", "expected an array with at most 2 items"),
            (
                "minProperties",
                "expected an object with at least 1 properties",
            ),
            (
                "maxProperties",
                "expected an object with at most 1 properties",
            ),
        ]);
        assert_eq!(problems.len(), 28);
        assert_eq!(problems, expected);
    }

    #[test]
    fn golden_eval_mode_tuples() {
        // An element beyond `items: false` fails silently; a missing prefix item is fine.
        let schema = provider_schema();
        let inputs = source_inputs();
        let double = known("v", &inputs["triple"]);
        assert_eq!(run(&schema.property("double"), &double), (false, vec![]));
        let triple = known("v", &inputs["double"]);
        assert_eq!(run(&schema.property("triple"), &triple), (true, vec![]));
    }

    #[test]
    fn golden_check_mode() {
        // In check mode `source` is unknown, so each reference is an unknown access whose schema
        // is the property's schema.
        let output = provider_schema().compile().unwrap();
        let sink = sink(|label, from| unknown(label, output.property(from)));
        let (ok, problems) = run(&provider_schema(), &sink);
        assert!(!ok);
        let expected = in_key_order(&[
            ("boolean", "expected boolean, got null"),
            ("string", "expected string, got array"),
            ("number", "expected number, got object"),
            ("anyOf", "expected string, got boolean"),
            ("anyOf", "expected number, got boolean"),
            ("anyOf", "at least one subschema must match"),
            ("oneOf", "expected string, got boolean"),
            ("oneOf", "expected number, got boolean"),
            ("oneOf", "at least one subschema must match"),
            ("const-array", "expected array, got string"),
            ("const-object", "expected object, got string"),
            ("dependentReq", "bar: missing required property"),
            ("minLength", "expected a string of at least length 1"),
        ]);
        assert_eq!(problems, expected);
        // Both tuple mismatches fail, silently.
        for (key, from) in [("double", "triple"), ("triple", "double")] {
            let value = unknown("v", output.property(from));
            assert_eq!(run(&output.property(key), &value), (false, vec![]), "{key}");
        }
    }

    // -----------------------------------------------------------------------------------------
    // §8.2, one keyword at a time.

    /// One test per row of §8.2's message table: a schema, a failing value, the messages.
    macro_rules! message_table {
        ($($name:ident: $schema:tt, $value:tt => [$($message:expr),* $(,)?];)*) => {
            mod message_table {
                use super::*;
                $(
                    #[test]
                    fn $name() {
                        let expected: Vec<&str> = vec![$($message),*];
                        assert_eq!(check(json!($schema), json!($value)), expected);
                    }
                )*
            }
        };
    }

    message_table! {
        ref_: {"$defs": {"d": {"type": "string"}}, "$ref": "#/$defs/d"}, 1
            => ["expected string, got number"];
        any_of: {"anyOf": [{"type": "string"}, {"type": "null"}]}, 1
            => ["expected string, got number", "expected null, got number", "at least one subschema must match"];
        one_of_none: {"oneOf": [{"type": "string"}, {"type": "null"}]}, 1
            => ["expected string, got number", "expected null, got number", "exactly one subschema must match"];
        one_of_two: {"oneOf": [{"type": "string"}, {"type": "number"}, {}]}, 1
            => ["exactly one subschema may match"];
        const_: {"const": ["hello", 42]}, "esc" => [r#"expected ["hello",42]"#];
        enum_one: {"enum": [{"a": "<b>"}]}, "esc" => [r#"expected {"a":"\u003cb\u003e"}"#];
        enum_many: {"enum": ["foo", "bar"]}, "esc" => [r#"expected one of ["foo","bar"]"#];
        type_: {"type": "boolean", "minLength": 1}, "" => ["expected boolean, got string"];
        multiple_of: {"multipleOf": 2}, 3.14 => ["expected a multiple of 2"];
        minimum: {"minimum": 1}, 0 => ["expected a number greater than or equal to 1"];
        exclusive_minimum: {"exclusiveMinimum": 1}, 1 => ["expected a number greater than 1"];
        maximum: {"maximum": 1}, 2 => ["expected a number less than or equal to1"];
        exclusive_maximum: {"exclusiveMaximum": 1}, 1 => ["expected a number less than 1"];
        min_length: {"minLength": 1}, "" => ["expected a string of at least length 1"];
        max_length: {"maxLength": 1}, "esc" => ["expected a string of at most length 1"];
        pattern: {"pattern": "^foo[0-9]+$"}, "esc" => [r#"string must match the pattern "^foo[0-9]+$""#];
        min_items: {"minItems": 3}, ["hello", 42] => ["expected an array with at least 3 items"];
        max_items: {"maxItems": 2}, ["hello", 42, true] => ["expected an array with at most 2 items"];
        items: {"items": false}, [1] => [];
        min_properties: {"minProperties": 1}, {} => ["expected an object with at least 1 properties"];
        max_properties: {"maxProperties": 1}, {"a": 1, "b": 2} => ["expected an object with at most 1 properties"];
        properties: {"properties": {"a": false}}, {"a": 1} => [];
        required: {"required": ["foo", "bar"]}, {"bar": 1} => ["missing required properties: foo"];
        dependent_required: {"dependentRequired": {"foo": ["bar", "baz"]}}, {"foo": 1, "baz": 2}
            => ["missing required properties: bar"];
    }

    #[test]
    fn always_passes_and_never_fails_silently() {
        let value = known("v", &json!({"a": [1]}));
        assert_eq!(run(&Schema::Always, &value), (true, vec![]));
        assert_eq!(run(&Schema::Never, &value), (false, vec![]));
        assert_eq!(check(json!({}), json!(null)), Vec::<String>::new());
    }

    #[test]
    fn type_mismatch_stops_the_type_specific_checks() {
        let s = json!({"type": "string", "minLength": 5, "const": "x"});
        assert_eq!(
            check(s, json!(3)),
            ["expected \"x\"", "expected string, got number"]
        );
        assert_eq!(
            check(json!({"type": "integer"}), json!(3)),
            ["expected integer, got number"]
        );
        for (value, name) in [
            (json!(null), "null"),
            (json!(true), "boolean"),
            (json!(1), "number"),
            (json!("s"), "string"),
            (json!([]), "array"),
            (json!({}), "object"),
        ] {
            let expected = format!("expected never, got {name}");
            assert_eq!(check(json!({"type": "never"}), value), [expected]);
        }
    }

    #[test]
    fn multiple_of() {
        let s = || json!({"type": "number", "multipleOf": 2});
        assert_eq!(check(s(), json!(3.14)), ["expected a multiple of 2"]);
        assert!(check(s(), json!(4)).is_empty());
        assert!(check(s(), json!(-6)).is_empty());
        assert!(check(s(), json!(0)).is_empty());
        // Exact decimal arithmetic: 0.3 is a multiple of 0.1, 0.35 is not a multiple of 0.1.
        assert!(check(json!({"multipleOf": 0.1}), json!(0.3)).is_empty());
        assert_eq!(
            check(json!({"multipleOf": 0.1}), json!(0.35)),
            ["expected a multiple of 0.1"]
        );
        assert!(check(json!({"multipleOf": 0.25}), json!(12.75)).is_empty());
        assert!(check(json!({"multipleOf": 1000}), json!(1e6)).is_empty());
        assert!(!check(json!({"multipleOf": 3}), json!(1e30)).is_empty());
        assert_eq!(
            check(json!({"multipleOf": 0}), json!(1)),
            ["expected a multiple of 0"]
        );
        // Texts the evaluator produces (Go's %g) work too.
        let big = toy("v", Kind::Number("1e+06".to_owned()));
        assert!(messages(&schema(json!({"multipleOf": 64})), &big).is_empty());
    }

    #[test]
    fn minimum_and_maximum() {
        let check_n =
            |s: Json, v: &str| messages(&schema(s), &toy("v", Kind::Number(v.to_owned())));
        let ge = "expected a number greater than or equal to 1";
        assert_eq!(check_n(json!({"minimum": 1}), "0.999"), [ge]);
        assert!(check_n(json!({"minimum": 1}), "1.000").is_empty());
        assert_eq!(
            check_n(json!({"exclusiveMinimum": 1}), "1"),
            ["expected a number greater than 1"]
        );
        assert!(!check_n(json!({"exclusiveMinimum": 1}), "1e-0").is_empty());
        assert!(check_n(json!({"exclusiveMinimum": 1}), "1.0000000000000000000001").is_empty());
        assert_eq!(
            check_n(json!({"maximum": 1}), "2"),
            ["expected a number less than or equal to1"]
        );
        assert!(check_n(json!({"maximum": 1}), "1").is_empty());
        assert_eq!(
            check_n(json!({"exclusiveMaximum": 1}), "1"),
            ["expected a number less than 1"]
        );
        assert!(check_n(json!({"exclusiveMaximum": -1}), "-1.5").is_empty());
        assert!(check_n(json!({"minimum": -1}), "-Inf").len() == 1);
        // All number keywords are checked, in the reference's order.
        let all = json!({"multipleOf": 5, "minimum": 10, "exclusiveMinimum": 10, "maximum": 0, "exclusiveMaximum": 0});
        assert_eq!(
            check_n(all, "3"),
            [
                "expected a multiple of 5",
                "expected a number greater than or equal to 10",
                "expected a number greater than 10",
                "expected a number less than or equal to0",
                "expected a number less than 0",
            ]
        );
        // Not a number at all: nothing to compare.
        assert!(check_n(json!({"minimum": 1}), "NaN").is_empty());
    }

    #[test]
    fn string_lengths_count_bytes() {
        assert_eq!(
            check(json!({"minLength": 1}), json!("")),
            ["expected a string of at least length 1"]
        );
        assert_eq!(
            check(json!({"maxLength": 1}), json!("é")),
            ["expected a string of at most length 1"]
        );
        assert!(check(json!({"maxLength": 2}), json!("é")).is_empty());
        assert!(check(json!({"minLength": 2}), json!("é")).is_empty());
    }

    #[test]
    fn pattern() {
        let s = || json!({"pattern": "^foo[0-9]+$"});
        assert_eq!(
            check(s(), json!("esc")),
            [r#"string must match the pattern "^foo[0-9]+$""#]
        );
        assert!(check(s(), json!("foo42")).is_empty());
        // Unanchored search.
        assert!(check(json!({"pattern": "o[0-9]"}), json!("xxfoo1yy")).is_empty());
        // The pattern is Go-quoted.
        let quoted = check(json!({"pattern": "\"a\\d\"\t"}), json!("x"));
        assert_eq!(quoted, [r#"string must match the pattern "\"a\\d\"\t""#]);
        // Go's Perl classes are ASCII-only.
        assert_eq!(check(json!({"pattern": "^\\d$"}), json!("٣")).len(), 1);
        assert!(check(json!({"pattern": "^\\w\\s\\d$"}), json!("a 1")).is_empty());
        assert!(check(json!({"pattern": "^[^\\d]$"}), json!("x")).is_empty());
        assert_eq!(check(json!({"pattern": "\\bé"}), json!("xé")).len(), 0);
        // Go's literal class syntax and quoting.
        assert!(check(json!({"pattern": "^[a[]+$"}), json!("a[a")).is_empty());
        assert!(check(json!({"pattern": "^[]a]+$"}), json!("]a")).is_empty());
        assert!(check(json!({"pattern": "^[a&&b]+$"}), json!("&")).is_empty());
        assert!(check(json!({"pattern": "^[[:alpha:]]+$"}), json!("abc")).is_empty());
        assert!(check(json!({"pattern": "^\\Q.*\\E$"}), json!(".*")).is_empty());
        assert_eq!(
            check(json!({"pattern": "^\\Q.*\\E$"}), json!("ab")).len(),
            1
        );
    }

    #[test]
    fn array_counts_and_items() {
        assert_eq!(
            check(json!({"minItems": 3}), json!([1])),
            ["expected an array with at least 3 items"]
        );
        assert_eq!(
            check(json!({"maxItems": 1}), json!([1, 2])),
            ["expected an array with at most 1 items"]
        );
        // Count problems first, then each element (reported at the element itself).
        let s = json!({"maxItems": 1, "prefixItems": [{"type": "string"}], "items": {"type": "number"}});
        let (ok, problems) = run(&schema(s), &known("v", &json!([1, "x"])));
        assert!(!ok);
        assert_eq!(
            problems,
            [
                (
                    "v".to_owned(),
                    "expected an array with at most 1 items".to_owned()
                ),
                ("v[0]".to_owned(), "expected string, got number".to_owned()),
                ("v[1]".to_owned(), "expected number, got string".to_owned()),
            ]
        );
        // Prefix items imply no minimum; absent items admit anything.
        assert!(check(json!({"prefixItems": [{"type": "string"}]}), json!([])).is_empty());
        assert!(
            check(
                json!({"prefixItems": [{"type": "string"}]}),
                json!(["a", 1, null])
            )
            .is_empty()
        );
    }

    #[test]
    fn object_counts_and_properties() {
        let few = "expected an object with at least 2 properties";
        assert_eq!(check(json!({"minProperties": 2}), json!({"a": 1})), [few]);
        let many = "expected an object with at most 0 properties";
        assert_eq!(check(json!({"maxProperties": 0}), json!({"a": 1})), [many]);
        let s = json!({
            "properties": {"a": {"type": "string"}},
            "additionalProperties": {"type": "number"},
            "required": ["z"],
        });
        let (_, problems) = run(&schema(s), &known("v", &json!({"b": "x", "a": 1})));
        assert_eq!(
            problems,
            [
                ("v.a".to_owned(), "expected string, got number".to_owned()),
                ("v.b".to_owned(), "expected number, got string".to_owned()),
                ("v".to_owned(), "missing required properties: z".to_owned()),
            ]
        );
        // Absent additionalProperties admit anything.
        assert!(check(json!({"properties": {"a": false}}), json!({"b": 1})).is_empty());
    }

    #[test]
    fn required_then_dependent_required() {
        let s = json!({
            "required": ["z", "a", "y"],
            "dependentRequired": {"c": ["x", "a"], "q": ["w"]},
        });
        assert_eq!(
            check(s, json!({"a": 1, "c": 2})),
            ["missing required properties: z, y, x"]
        );
        let s = json!({"dependentRequired": {"foo": ["bar"]}});
        assert_eq!(
            check(s.clone(), json!({"foo": 1})),
            ["missing required properties: bar"]
        );
        assert!(check(s, json!({"bar": 1})).is_empty());
    }

    #[test]
    fn required_sees_base_keys() {
        let base = vec![("b".to_owned(), known("base.b", &json!(1)))];
        let own = vec![("a".to_owned(), known("v.a", &json!(1)))];
        let value = toy("v", Kind::Object(own, base));
        let s = schema(json!({"required": ["a", "b"], "maxProperties": 1}));
        assert_eq!(
            messages(&s, &value),
            ["expected an object with at most 1 properties"]
        );
    }

    #[test]
    fn const_compares_numbers_by_text_and_maps_by_own_entries() {
        let pi = |text: &str| toy("v", Kind::Number(text.to_owned()));
        let s = schema(json!({"const": 3.14}));
        assert!(messages(&s, &pi("3.14")).is_empty());
        assert_eq!(messages(&s, &pi("3.140")), ["expected 3.14"]);
        let s = schema(json!({"const": {"a": 1}}));
        let base = vec![("b".to_owned(), known("base.b", &json!(2)))];
        let own = vec![("a".to_owned(), known("v.a", &json!(1)))];
        assert!(messages(&s, &toy("v", Kind::Object(own, base))).is_empty());
        assert_eq!(
            check(json!({"const": {"a": 1}}), json!({"a": 1, "b": 2})),
            [r#"expected {"a":1}"#]
        );
        assert_eq!(
            check(json!({"const": [1, "x"]}), json!([1])),
            [r#"expected [1,"x"]"#]
        );
        assert!(check(json!({"const": [1, {"k": null}]}), json!([1, {"k": null}])).is_empty());
        assert_eq!(check(json!({"const": false}), json!(0)), ["expected false"]);
        // Go's json.Marshal: keys sorted, HTML characters escaped.
        let s = json!({"const": {"z": "<a&b>", "a": "\u{2028}\n\u{1}"}});
        assert_eq!(
            check(s, json!(null)),
            [r#"expected {"a":"\u2028\n\u0001","z":"\u003ca\u0026b\u003e"}"#]
        );
        // An unknown inside a known value equals nothing.
        let value = toy("v", Kind::Array(vec![unknown("v[0]", Schema::Always)]));
        assert_eq!(
            messages(&schema(json!({"const": [1]})), &value),
            ["expected [1]"]
        );
    }

    #[test]
    fn enum_messages() {
        assert_eq!(
            check(json!({"enum": ["foo"]}), json!("esc")),
            [r#"expected "foo""#]
        );
        let s = || json!({"enum": ["foo", 1, null]});
        assert_eq!(
            check(s(), json!("esc")),
            [r#"expected one of ["foo",1,null]"#]
        );
        assert!(check(s(), json!(1)).is_empty());
        assert!(check(s(), json!(null)).is_empty());
    }

    #[test]
    fn any_of() {
        let s = || json!({"anyOf": [{"type": "string"}, {"type": "number", "minimum": 5}]});
        assert!(check(s(), json!(7)).is_empty());
        assert_eq!(
            check(s(), json!(1)),
            [
                "expected string, got number",
                "expected a number greater than or equal to 5",
                "at least one subschema must match",
            ]
        );
    }

    #[test]
    fn one_of() {
        let s = json!({"oneOf": [{"type": "string"}, {"type": "number"}, {"minimum": 1}]});
        // A second match fails at once; the failed alternatives' problems are dropped.
        let twice = ["exactly one subschema may match"];
        assert_eq!(check(s.clone(), json!(2)), twice);
        assert!(check(s.clone(), json!(0)).is_empty());
        // `minimum` says nothing about strings or null, so those match it.
        assert_eq!(check(s.clone(), json!("x")), twice);
        assert!(check(s, json!(null)).is_empty());
        let s = json!({"oneOf": [{"type": "string"}, {"type": "number"}]});
        assert_eq!(
            check(s, json!(null)),
            [
                "expected string, got null",
                "expected number, got null",
                "exactly one subschema must match"
            ]
        );
    }

    #[test]
    fn keywords_are_all_evaluated_in_order() {
        let s = json!({
            "$defs": {"d": {"type": "number"}},
            "$ref": "#/$defs/d",
            "anyOf": [{"type": "array"}],
            "oneOf": [{"type": "object"}],
            "const": 1,
            "enum": [1, 2],
            "type": "boolean",
        });
        assert_eq!(
            check(s, json!("s")),
            [
                "expected number, got string",
                "expected array, got string",
                "at least one subschema must match",
                "expected object, got string",
                "exactly one subschema must match",
                "expected 1",
                "expected one of [1,2]",
                "expected boolean, got string",
            ]
        );
    }

    #[test]
    fn refs_resolve_against_the_root() {
        let s = json!({
            "$defs": {"a b": {"type": "string"}, "list": {"type": "array", "items": {"$ref": "#/$defs/list"}}},
            "properties": {
                "x": {"$ref": "#/$defs/a%20b"},
                "tree": {"$ref": "#/$defs/list"},
                "nested": {"$defs": {"inner": {"type": "null"}}, "$ref": "#/$defs/a b"},
            },
        });
        let s = schema(s);
        assert!(
            messages(
                &s,
                &known("v", &json!({"x": "s", "tree": [[], [[]]], "nested": "s"}))
            )
            .is_empty()
        );
        let (_, problems) = run(&s, &known("v", &json!({"x": 1, "tree": [[1]]})));
        assert_eq!(
            problems,
            [
                (
                    "v.tree[0][0]".to_owned(),
                    "expected array, got number".to_owned()
                ),
                ("v.x".to_owned(), "expected string, got number".to_owned()),
            ]
        );
    }

    #[test]
    fn refs_survive_their_root() {
        // A subschema taken out of a compiled schema keeps resolving after the root is gone, and
        // compiling it again keeps the original resolution.
        let record = {
            let root = provider_schema().compile().unwrap();
            root.property("ref")
        };
        let again = record.compile().unwrap();
        assert!(messages(&again, &known("v", &json!({"baz": "qux"}))).is_empty());
        assert_eq!(
            messages(&again, &known("v", &json!({"baz": "x"}))),
            [r#"expected "qux""#]
        );
        // Uncompiled, the same subschema has no definitions to resolve against.
        assert_eq!(
            provider_schema().property("ref").compile(),
            Err("unknown subschema #/$defs/defRecord".to_owned())
        );
    }

    #[test]
    fn ref_errors() {
        let compile = |r: &str| {
            schema(json!({"$defs": {"a": true}, "$ref": r}))
                .compile()
                .map(|_| ())
        };
        let only = "only fragment references of the form #/$defs/ref are supported";
        assert_eq!(compile("#/definitions/a"), Err(only.to_owned()));
        assert_eq!(compile("other.json#/$defs/a"), Err(only.to_owned()));
        assert_eq!(compile("#"), Err(only.to_owned()));
        assert_eq!(
            compile("#/$defs/b"),
            Err("unknown subschema #/$defs/b".to_owned())
        );
        assert_eq!(
            compile("#/$defs/a/b"),
            Err("unknown subschema #/$defs/a/b".to_owned())
        );
        assert_eq!(compile("#/%24defs/%61"), Ok(()));
        assert_eq!(
            compile("#/$defs/%zz"),
            Err(r##"parse "#/$defs/%zz": invalid URL escape "%zz""##.to_owned())
        );
        assert_eq!(
            compile("#/$defs/%"),
            Err(r##"parse "#/$defs/%": invalid URL escape "%""##.to_owned())
        );
        // Errors inside definitions and deep subschemas are found too.
        let bad_def = schema(json!({"$defs": {"a": {"$ref": "#/$defs/zz"}}}));
        assert_eq!(
            bad_def.compile(),
            Err("unknown subschema #/$defs/zz".to_owned())
        );
        let deep = schema(json!({"items": {"properties": {"a": {"anyOf": [{"$ref": "#/x"}]}}}}));
        assert_eq!(deep.compile(), Err(only.to_owned()));
    }

    #[test]
    fn validate_reports_compile_errors_as_internal() {
        let s = schema(json!({"$ref": "#/$defs/x"}));
        assert_eq!(
            run(&s, &known("v", &json!(1))),
            (
                false,
                vec![(
                    "v".to_owned(),
                    "internal error: invalid schema: unknown subschema #/$defs/x".to_owned()
                )]
            )
        );
    }

    #[test]
    fn count_keywords_must_be_unsigned_integers() {
        let compile = |n: Json| schema(json!({"maxLength": n})).compile().map(|_| ());
        assert_eq!(compile(json!(3)), Ok(()));
        assert_eq!(
            compile(json!(1.5)),
            Err(r#"strconv.ParseUint: parsing "1.5": invalid syntax"#.to_owned())
        );
        assert_eq!(
            compile(json!(-1)),
            Err(r#"strconv.ParseUint: parsing "-1": invalid syntax"#.to_owned())
        );
        let huge = keywords("", |o| {
            o.max_items = Some("18446744073709551616".to_owned());
        });
        let out_of_range =
            r#"strconv.ParseUint: parsing "18446744073709551616": value out of range"#;
        assert_eq!(huge.compile().map(|_| ()), Err(out_of_range.to_owned()));
        for keyword in [
            "minLength",
            "maxItems",
            "minItems",
            "maxProperties",
            "minProperties",
        ] {
            assert!(
                schema(json!({keyword: 0.5})).compile().is_err(),
                "{keyword}"
            );
        }
    }

    #[test]
    fn bad_patterns_fail_to_compile() {
        let err = schema(json!({"pattern": "[a"})).compile().unwrap_err();
        assert_eq!(err, "error parsing regexp: unclosed character class: `[a`");
        let nested = schema(json!({"properties": {"p": {"pattern": "(x"}}}));
        assert!(
            nested
                .compile()
                .unwrap_err()
                .starts_with("error parsing regexp: ")
        );
    }

    #[test]
    fn too_deep_recursion_fails_instead_of_overflowing() {
        let cycle = schema(json!({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}));
        let (ok, problems) = run(&cycle, &known("v", &json!(1)));
        assert!(!ok);
        assert_eq!(problems, [("v".to_owned(), TOO_COMPLEX.to_owned())]);
        // Schema against schema: both sides infinite.
        let endless = schema(json!({
            "$defs": {"m": {"type": "object", "additionalProperties": {"$ref": "#/$defs/m"}}},
            "$ref": "#/$defs/m",
        }));
        let endless = endless.compile().unwrap();
        let (ok, problems) = run(&endless, &unknown("v", endless.clone()));
        assert!(!ok);
        assert_eq!(problems.last().map(|p| p.1.as_str()), Some(TOO_COMPLEX));
    }

    #[test]
    fn deep_values_validate_within_the_stack() {
        // Nested arrays against a recursive schema (three levels of recursion per array), on a
        // thread with the test harness's default stack: deep enough passes, deeper gives up.
        let nested = |levels: usize| {
            let mut value = json!(1);
            for _ in 0..levels {
                value = json!([value]);
            }
            value
        };
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let s = schema(json!({
                    "$defs": {"n": {"anyOf": [{"type": "number"}, {"type": "array", "items": {"$ref": "#/$defs/n"}}]}},
                    "$ref": "#/$defs/n",
                }));
                let shallow = messages(&s, &known("v", &nested(150)));
                let deep = messages(&s, &known("v", &nested(400)));
                (shallow, deep)
            })
            .unwrap();
        let (shallow, deep) = handle.join().unwrap();
        assert_eq!(shallow, Vec::<String>::new());
        assert_eq!(deep.last().map(String::as_str), Some(TOO_COMPLEX));
    }

    // -----------------------------------------------------------------------------------------
    // §8.3: unknown values, schema against schema.

    fn against(actual: Schema, accept: Json) -> (bool, Vec<(String, String)>) {
        run(&schema(accept), &unknown("u", actual))
    }

    #[test]
    fn schema_vs_schema_always_and_never() {
        assert_eq!(
            against(Schema::Always, json!({"type": "string"})),
            (true, vec![])
        );
        assert_eq!(
            against(Schema::Never, json!({"type": "string"})),
            (false, vec![])
        );
        assert_eq!(
            run(&Schema::Never, &unknown("u", ty("string"))),
            (false, vec![])
        );
        assert_eq!(
            run(&Schema::Always, &unknown("u", Schema::Never)),
            (true, vec![])
        );
    }

    #[test]
    fn schema_vs_schema_ignores_value_constraints() {
        let actual = keywords("number", |o| o.constant = Some(json!(5)));
        let accept =
            json!({"type": "number", "const": 1, "minimum": 10, "multipleOf": 3, "enum": [2]});
        assert_eq!(against(actual, accept), (true, vec![]));
        assert_eq!(
            against(ty("string"), json!({"pattern": "x", "maxLength": 0})),
            (true, vec![])
        );
    }

    #[test]
    fn schema_vs_schema_types() {
        let u = |m: &str| ("u".to_owned(), m.to_owned());
        assert_eq!(
            against(ty("null"), json!({"type": "boolean"})),
            (false, vec![u("expected boolean, got null")])
        );
        assert_eq!(against(ty(""), json!({"type": "boolean"})), (true, vec![]));
        assert_eq!(against(ty("null"), json!({})), (true, vec![]));
    }

    #[test]
    fn schema_vs_schema_alternatives() {
        let u = |m: &str| ("u".to_owned(), m.to_owned());
        // Some alternative of the actual schema must fit.
        let actual = Schema::one_of(vec![ty("boolean"), ty("string")]);
        assert_eq!(
            against(actual.clone(), json!({"type": "string"})),
            (true, vec![])
        );
        assert_eq!(
            against(actual, json!({"type": "number"})),
            (
                false,
                vec![
                    u("expected number, got boolean"),
                    u("expected number, got string"),
                    u("at least one subschema must match"),
                    // The wrapper itself has no type, so no step-5 mismatch.
                ]
            )
        );
        // The actual schema must fit some accepted alternative; oneOf is treated like anyOf.
        let accept = json!({"oneOf": [{"type": "string"}, {}]});
        assert_eq!(against(ty("number"), accept), (true, vec![]));
        let accept = json!({"anyOf": [{"type": "string"}], "oneOf": [{"type": "null"}]});
        assert_eq!(
            against(ty("number"), accept).1,
            [
                u("expected string, got number"),
                u("at least one subschema must match"),
                u("expected null, got number"),
                u("at least one subschema must match"),
            ]
        );
    }

    #[test]
    fn schema_vs_schema_refs() {
        let root = provider_schema().compile().unwrap();
        // The accepted side's $ref.
        let actual = Schema::record(named(vec![("baz", ty("number"))]));
        let (ok, problems) = run(&root.property("ref"), &unknown("u", actual));
        assert!(!ok);
        assert_eq!(
            problems,
            [(
                "u".to_owned(),
                "baz: expected string, got number".to_owned()
            )]
        );
        // The actual side's $ref.
        let (ok, problems) = run(
            &root.property("record"),
            &unknown("u", root.property("ref")),
        );
        assert!(!ok);
        assert_eq!(
            problems,
            [("u".to_owned(), "foo: missing required property".to_owned())]
        );
        // An uncompiled actual $ref admits anything.
        let raw = Schema::reference("#/$defs/nowhere");
        assert_eq!(run(&ty("number"), &unknown("u", raw)), (true, vec![]));
    }

    #[test]
    fn schema_vs_schema_arrays() {
        let at = |path: &str, m: &str| ("u".to_owned(), format!("{path}: {m}"));
        let actual = Schema::tuple(vec![ty("string"), ty("number")]);
        // Common prefix pairwise; extra actual prefix items against `items`.
        let accept = json!({"prefixItems": [{"type": "number"}], "items": {"type": "boolean"}, "type": "array"});
        assert_eq!(
            against(actual.clone(), accept),
            (
                false,
                vec![
                    at("[0]", "expected number, got string"),
                    at("[1]", "expected boolean, got number")
                ]
            )
        );
        // Extra accepted prefix items against the actual `items` (false here: silent).
        let accept = json!({"prefixItems": [{}, {}, {"type": "string"}], "type": "array"});
        assert_eq!(against(actual, accept.clone()), (false, vec![]));
        let open = Schema::array_of(ty("null"));
        assert_eq!(
            against(open.clone(), accept),
            (false, vec![at("[2]", "expected string, got null")])
        );
        // Items against items, reported where the array is.
        let accept = json!({"type": "array", "items": {"type": "string"}});
        assert_eq!(
            against(open, accept),
            (
                false,
                vec![("u".to_owned(), "expected string, got null".to_owned())]
            )
        );
        // An array literal declares its elements: stepping in reaches them, unprefixed.
        let literal = Toy {
            def: Rc::new(Decl {
                label: "list".to_owned(),
                kind: DeclKind::Array(vec![decl("list[0]"), decl("list[1]")]),
            }),
            kind: Rc::new(Kind::Unknown(Schema::tuple(vec![ty("string"), ty("null")]))),
        };
        let accept = schema(json!({"type": "array", "items": {"type": "string"}}));
        assert_eq!(
            run(&accept, &literal).1,
            [("list[1]".to_owned(), "expected string, got null".to_owned())]
        );
    }

    #[test]
    fn schema_vs_schema_objects() {
        let at = |m: &str| ("u".to_owned(), m.to_owned());
        // The golden case: a dependency of a required property is not required.
        let actual = Schema::record(named(vec![("foo", ty("string"))]));
        let accept = json!({
            "properties": {"foo": {"type": "string"}, "bar": {"type": "number"}},
            "type": "object",
            "dependentRequired": {"foo": ["bar"]},
        });
        assert_eq!(
            against(actual.clone(), accept),
            (false, vec![at("bar: missing required property")])
        );
        // Required names, nested paths and property type checks (properties in name order).
        let actual = Schema::record(named(vec![
            ("a", Schema::record(named(vec![("b", ty("string"))]))),
            ("odd key", ty("null")),
        ]));
        let accept = json!({
            "properties": {"a": {"required": ["b", "c"], "type": "object"}},
            "additionalProperties": {"type": "string"},
            "required": ["a", "z"],
            "type": "object",
        });
        assert_eq!(
            against(actual.clone(), accept.clone()).1,
            [
                at("a.c: missing required property"),
                at(r#"["odd key"]: expected string, got null"#),
                at("z: missing required property"),
            ]
        );
        // An object literal declares its properties: stepping in reaches them, unprefixed.
        let literal = Toy {
            def: Rc::new(Decl {
                label: "obj".to_owned(),
                kind: DeclKind::Object(vec![("a".to_owned(), decl("obj.a"))]),
            }),
            kind: Rc::new(Kind::Unknown(actual)),
        };
        assert_eq!(
            run(&schema(accept), &literal).1,
            [
                (
                    "obj.a".to_owned(),
                    "a.c: missing required property".to_owned()
                ),
                (
                    "obj".to_owned(),
                    r#"["odd key"]: expected string, got null"#.to_owned()
                ),
                ("obj".to_owned(), "z: missing required property".to_owned()),
            ]
        );
        // An open actual object is checked through additionalProperties instead of required.
        let open = Schema::object_of(ty("number"));
        let accept = json!({"required": ["x"], "additionalProperties": {"type": "string"}});
        assert_eq!(
            against(open.clone(), accept),
            (false, vec![at("expected string, got number")])
        );
        assert_eq!(against(open, json!({"required": ["x"]})), (true, vec![]));
        // A closed one (additionalProperties: false) is checked like a record.
        let closed = keywords("object", |o| o.additional_properties = Some(Schema::Never));
        assert_eq!(
            against(closed, json!({"required": ["x"]})),
            (false, vec![at("x: missing required property")])
        );
    }

    #[test]
    fn unknowns_inside_known_values() {
        let value = map(
            "m",
            vec![
                ("a", unknown("m.a", ty("number"))),
                ("b", known("m.b", &json!(1))),
            ],
        );
        let s = schema(json!({"additionalProperties": {"type": "string"}}));
        assert_eq!(
            run(&s, &value).1,
            [
                ("m.a".to_owned(), "expected string, got number".to_owned()),
                ("m.b".to_owned(), "expected string, got number".to_owned()),
            ]
        );
    }

    // -----------------------------------------------------------------------------------------
    // §9: the schema values themselves.

    #[test]
    fn json_examples() {
        let print = |s: &Schema| serde_json::to_string(&s.to_json()).unwrap();
        assert_eq!(print(&Schema::record(vec![])), r#"{"type":"object"}"#);
        assert_eq!(
            print(&Schema::tuple(vec![])),
            r#"{"items":false,"type":"array"}"#
        );
        let state = Schema::record(named(vec![("a", ty("string"))]));
        assert_eq!(
            print(&Schema::one_of(vec![state, ty("null")])),
            r#"{"oneOf":[{"properties":{"a":{"type":"string"}},"type":"object","required":["a"]},{"type":"null"}],"type":""}"#
        );
        assert_eq!(print(&Schema::Always), "true");
        assert_eq!(print(&Schema::Never), "false");
        assert_eq!(
            print(&Schema::array_of(ty("string"))),
            r#"{"items":{"type":"string"},"type":"array"}"#
        );
        assert_eq!(
            print(&Schema::object_of(Schema::Always)),
            r#"{"additionalProperties":true,"type":"object"}"#
        );
    }

    #[test]
    fn literal_schemas() {
        let print = |v: Json| serde_json::to_string(&Schema::literal(&v).to_json()).unwrap();
        assert_eq!(print(json!(null)), r#"{"type":"null"}"#);
        assert_eq!(print(json!(false)), r#"{"type":"boolean","const":false}"#);
        assert_eq!(print(json!(0)), r#"{"type":"number","const":0}"#);
        assert_eq!(print(json!("")), r#"{"type":"string","const":""}"#);
    }

    /// Every keyword set, in the reference's order.
    const ALL_KEYWORDS: &str = r##"{"$defs":{"d":true},"$ref":"#/$defs/d","anyOf":[true],"oneOf":[false],"prefixItems":[{"type":"string"}],"items":false,"additionalProperties":true,"properties":{"a":true,"b":false},"type":"object","const":{"k":[1,2.5]},"enum":[1,"x",null],"multipleOf":2,"maximum":10,"exclusiveMaximum":11,"minimum":-1,"exclusiveMinimum":-2,"maxLength":5,"minLength":0,"pattern":"^a","maxItems":3,"minItems":0,"uniqueItems":true,"maxProperties":4,"minProperties":1,"required":["a"],"dependentRequired":{"a":["b"],"b":[]},"title":"T","description":"D","default":false,"deprecated":true,"examples":[{}],"secret":true,"rotateOnly":["a"]}"##;

    #[test]
    fn json_round_trip_keeps_every_keyword_in_order() {
        let decoded = Schema::from_json(&serde_json::from_str(ALL_KEYWORDS).unwrap()).unwrap();
        assert_eq!(
            serde_json::to_string(&decoded.to_json()).unwrap(),
            ALL_KEYWORDS
        );
        let again = Schema::from_json(&decoded.to_json()).unwrap();
        assert_eq!(again, decoded);
        // Zero-valued const and default are kept; empty and false keywords are dropped.
        let sparse = json!({"type": "", "const": 0, "default": "", "required": [], "uniqueItems": false, "pattern": ""});
        let printed = serde_json::to_string(&schema(sparse).to_json()).unwrap();
        assert_eq!(printed, r#"{"type":"","const":0,"default":""}"#);
    }

    #[test]
    fn from_json_decoding() {
        assert_eq!(Schema::from_json(&json!(true)), Ok(Schema::Always));
        assert_eq!(Schema::from_json(&json!(false)), Ok(Schema::Never));
        // null means absent; unknown keywords are ignored.
        let s = schema(json!({"const": null, "items": null, "type": null, "x-extra": 1}));
        assert_eq!(s, Schema::from_object(SchemaObject::default()));
        let err = |v: Json| Schema::from_json(&v).unwrap_err();
        assert_eq!(
            err(json!(1)),
            "#: expected a schema (boolean or object), got number"
        );
        assert_eq!(
            err(json!({"type": 1})),
            "#: expected a string, got number".replace('#', "#/type")
        );
        assert_eq!(
            err(json!({"properties": {"a/b": {"anyOf": [true, "x"]}}})),
            "#/properties/a~1b/anyOf/1: expected a schema (boolean or object), got string"
        );
        assert_eq!(
            err(json!({"maxLength": "1"})),
            "#/maxLength: expected a number, got string"
        );
        assert_eq!(
            err(json!({"required": [1]})),
            "#/required/0: expected a string, got number"
        );
        assert_eq!(
            err(json!({"dependentRequired": {"a": "b"}})),
            "#/dependentRequired/a: expected an array, got string"
        );
        assert_eq!(
            err(json!({"secret": "yes"})),
            "#/secret: expected a boolean, got string"
        );
        assert_eq!(
            err(json!({"properties": []})),
            "#/properties: expected an object, got array"
        );
    }

    #[test]
    fn from_json_depth_limit() {
        let nest = |levels: usize| {
            let mut v = json!(true);
            for _ in 1..levels {
                v = json!({"items": v});
            }
            v
        };
        assert!(Schema::from_json(&nest(64)).is_ok());
        assert_eq!(
            Schema::from_json(&nest(65)),
            Err("schema nested deeper than 64 levels".to_owned())
        );
    }

    #[test]
    fn property_lookup() {
        let record = Schema::record(named(vec![("a", ty("string"))]));
        assert_eq!(record.property("a"), ty("string"));
        assert_eq!(record.property("b"), Schema::Never);
        assert_eq!(Schema::object_of(ty("number")).property("x"), ty("number"));
        assert_eq!(Schema::Always.property("x"), Schema::Never);
        assert_eq!(Schema::Never.property("x"), Schema::Never);
        // Not an object type: no direct lookup.
        let untyped = keywords("", |o| {
            o.properties = BTreeMap::from([("a".to_owned(), ty("null"))]);
        });
        assert_eq!(untyped.property("a"), Schema::Never);
        // Alternatives: anyOf, then oneOf, then the direct lookup; Never entries dropped.
        let s = keywords("object", |o| {
            o.any_of = vec![
                Schema::record(named(vec![("a", ty("number"))])),
                ty("string"),
            ];
            o.one_of = vec![Schema::object_of(ty("boolean"))];
            o.properties = BTreeMap::from([("a".to_owned(), ty("null"))]);
        });
        assert_eq!(
            s.property("a"),
            Schema::one_of(vec![ty("number"), ty("boolean"), ty("null")])
        );
        assert_eq!(s.property("zz"), ty("boolean"));
        // $ref is not followed.
        let root = provider_schema().compile().unwrap();
        assert_eq!(root.property("ref").property("baz"), Schema::Never);
        assert_eq!(root.property("pi").type_name(), "number");
        assert_eq!(Schema::Always.type_name(), "");
    }

    #[test]
    fn item_lookup() {
        let tuple = Schema::tuple(vec![ty("string"), ty("number")]);
        assert_eq!(tuple.item(0), ty("string"));
        assert_eq!(tuple.item(1), ty("number"));
        assert_eq!(tuple.item(2), Schema::Never);
        assert_eq!(Schema::array_of(ty("null")).item(7), ty("null"));
        assert_eq!(Schema::Always.item(0), Schema::Never);
        assert_eq!(
            keywords("", |o| o.items = Some(ty("null"))).item(0),
            Schema::Never
        );
        let either = Schema::one_of(vec![tuple, Schema::array_of(ty("null"))]);
        assert_eq!(
            either.item(0),
            Schema::one_of(vec![ty("string"), ty("null")])
        );
        assert_eq!(either.item(5), ty("null"));
    }

    #[test]
    fn rotate_only_flags() {
        // The echo rotator's inputs.
        let inputs = keywords("object", |o| {
            o.properties = BTreeMap::from([
                ("next".to_owned(), ty("string")),
                (
                    "deep".to_owned(),
                    Schema::record(named(vec![("x", Schema::array_of(ty("string")))])),
                ),
                ("any".to_owned(), Schema::Always),
                ("plain".to_owned(), ty("string")),
            ]);
            o.rotate_only = vec![
                "next".to_owned(),
                "deep".to_owned(),
                "any".to_owned(),
                "missing".to_owned(),
            ];
        });
        assert!(!inputs.property("next").is_rotate_only());
        let compiled = inputs.compile().unwrap();
        assert!(compiled.property("next").is_rotate_only());
        assert!(!compiled.property("plain").is_rotate_only());
        assert!(!compiled.is_rotate_only());
        // Transitively, and each flagged object lists its own property names.
        let deep = compiled.property("deep");
        assert!(deep.is_rotate_only() && deep.property("x").is_rotate_only());
        assert!(deep.property("x").item(3).is_rotate_only());
        assert_eq!(deep.object().unwrap().rotate_only, ["x"]);
        // Always becomes an equivalent object that can carry the flag.
        let any = compiled.property("any");
        assert!(any.is_rotate_only());
        assert!(messages(&any, &known("v", &json!([1, {"a": null}]))).is_empty());
        // The printed form: the string schema shows nothing of its flag.
        let printed = serde_json::to_string(&compiled.property("next").to_json()).unwrap();
        assert_eq!(printed, r#"{"type":"string"}"#);
        // A union is rotateOnly only if every entry is.
        let both = Schema::one_of(vec![compiled.clone(), compiled.clone()]);
        assert!(both.property("next").is_rotate_only());
        let mixed = Schema::one_of(vec![compiled, inputs]);
        assert!(!mixed.property("next").is_rotate_only());
    }

    #[test]
    fn compile_is_idempotent() {
        let once = provider_schema().compile().unwrap();
        let twice = once.compile().unwrap();
        match (&once, &twice) {
            (Schema::Object(a), Schema::Object(b)) => assert!(Rc::ptr_eq(a, b)),
            _ => panic!("object schemas expected"),
        }
        assert_eq!(Schema::Always.compile(), Ok(Schema::Always));
        // Keywords edited after compiling are compiled afresh.
        let compiled = once.property("pattern");
        let mut edited = compiled.object().unwrap().clone();
        edited.pattern = "^e".to_owned();
        let edited = Schema::from_object(edited);
        assert!(messages(&edited, &known("v", &json!("esc"))).is_empty());
        assert_eq!(messages(&compiled, &known("v", &json!("esc"))).len(), 1);
    }

    #[test]
    fn merged_schemas() {
        let base = keywords("object", |o| {
            o.properties = BTreeMap::from([
                (
                    "a".to_owned(),
                    Schema::record(named(vec![("x", ty("string"))])),
                ),
                ("b".to_owned(), ty("number")),
            ]);
            o.additional_properties = Some(ty("null"));
        });
        let top = Schema::record(named(vec![
            ("a", Schema::record(named(vec![("y", ty("boolean"))]))),
            ("c", ty("string")),
        ]));
        let merged = Schema::merged(&base, &top);
        assert_eq!(
            serde_json::to_string(&merged.to_json()).unwrap(),
            concat!(
                r#"{"additionalProperties":{"type":"null"},"properties":{"a":{"properties":{"x":{"type":"string"},"#,
                r#""y":{"type":"boolean"}},"type":"object","required":["x","y"]},"b":{"type":"number"},"#,
                r#""c":{"type":"string"}},"type":"object","required":["a","b","c"]}"#
            )
        );
        // Both open: anything.
        let open = Schema::merged(
            &Schema::object_of(ty("null")),
            &Schema::object_of(ty("string")),
        );
        assert_eq!(
            open.object().unwrap().additional_properties,
            Some(Schema::Always)
        );
        // Only top's: top's.
        let only_top = Schema::merged(&Schema::record(vec![]), &Schema::object_of(ty("string")));
        assert_eq!(
            only_top.object().unwrap().additional_properties,
            Some(ty("string"))
        );
        // Not both objects: top wins.
        assert_eq!(Schema::merged(&ty("string"), &top), top);
        assert_eq!(Schema::merged(&base, &ty("string")), ty("string"));
        assert_eq!(Schema::merged(&Schema::Always, &top), top);
        assert_eq!(Schema::merged(&base, &Schema::Always), Schema::Always);
    }

    /// A chain of merges folds in one pass, agrees with merging step by step (each step
    /// read before the next, so it is built from a read base), and drops without
    /// recursing once per link.
    #[test]
    fn long_merge_chains() {
        let layer = |i: usize| {
            Schema::record(named(vec![
                ("common", Schema::literal(&Json::from(i))),
                (&format!("k{}", i % 7), ty("string")),
                (
                    "nested",
                    Schema::record(named(vec![(&format!("n{i}"), ty("number"))])),
                ),
            ]))
        };
        let mut lazy = layer(0);
        let mut stepwise = layer(0);
        for i in 1..40 {
            lazy = Schema::merged(&lazy, &layer(i));
            stepwise = Schema::merged(&stepwise, &layer(i));
            let _ = stepwise.to_json();
            if i == 20 {
                // A layer that is not an object replaces everything below it.
                lazy = Schema::merged(&lazy, &ty("string"));
                stepwise = Schema::merged(&stepwise, &ty("string"));
            }
        }
        let json = lazy.to_json();
        assert_eq!(json, stepwise.to_json());
        let object = lazy.object().unwrap();
        assert_eq!(object.required.len(), 9, "{json}");
        assert_eq!(
            object.properties["nested"]
                .object()
                .unwrap()
                .properties
                .len(),
            19
        );
        assert_eq!(
            object.properties["common"],
            Schema::literal(&Json::from(39))
        );

        let mut long = ty("object");
        for i in 0..100_000 {
            long = Schema::merged(
                &long,
                &Schema::record(named(vec![(&format!("p{}", i % 3), Schema::Always)])),
            );
        }
        assert_eq!(long.object().unwrap().properties.len(), 3);
        drop(long);
    }

    #[test]
    fn meta_schema() {
        let meta = Schema::meta();
        let printed = serde_json::to_string(&meta.to_json()).unwrap();
        assert!(printed.starts_with(r##"{"$defs":{"schema":{"anyOf":[{"type":"boolean"},{"properties":{"$defs":{"additionalProperties":{"$ref":"#/$defs/schema","type":""},"type":"object"},"$ref":{"type":"string"}"##));
        assert!(
            printed.ends_with(
                r##"},"type":"object"}],"type":""}},"$ref":"#/$defs/schema","type":""}"##
            )
        );
        assert!(printed.contains(r#""type":{"type":"string","enum":["string","number","boolean","array","object","null"]}"#));
        assert!(printed.contains(r#""const":{"type":""}"#));
        // A schema as a user writes it is valid (the printed form's `"type": ""` would not be).
        let user = json!({
            "$defs": {"name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 10}},
            "type": "object",
            "properties": {
                "names": {"type": "array", "items": {"$ref": "#/$defs/name"}, "minItems": 1},
                "mode": {"enum": ["a", "b"], "default": "a", "description": "how"},
                "port": {"type": "number", "minimum": 1, "exclusiveMaximum": 65536},
                "pair": {"prefixItems": [true, {"const": null}], "items": false},
                "either": {"anyOf": [{"type": "null"}, {"oneOf": [{"type": "boolean"}]}]},
            },
            "required": ["names"],
            "dependentRequired": {"port": ["mode"]},
            "additionalProperties": false,
            "x-unknown": 1,
        });
        assert_eq!(run(&meta, &known("s", &user)), (true, vec![]));
        let provider = serde_json::from_str(PROVIDER_SCHEMA_JSON).unwrap();
        assert_eq!(run(&meta, &known("s", &provider)).1.len(), 11);
        assert_eq!(run(&meta, &known("s", &json!(true))), (true, vec![]));
        // "integer" is not an accepted type.
        let (ok, problems) = run(
            &meta,
            &known("s", &json!({"properties": {"a": {"type": "integer"}}})),
        );
        assert!(!ok);
        assert_eq!(
            problems,
            [
                ("s".to_owned(), "expected boolean, got object".to_owned()),
                (
                    "s.properties.a".to_owned(),
                    "expected boolean, got object".to_owned()
                ),
                (
                    "s.properties.a.type".to_owned(),
                    r#"expected one of ["string","number","boolean","array","object","null"]"#
                        .to_owned()
                ),
                (
                    "s.properties.a".to_owned(),
                    "at least one subschema must match".to_owned()
                ),
                (
                    "s".to_owned(),
                    "at least one subschema must match".to_owned()
                ),
            ]
        );
        assert_eq!(
            check_meta(json!({"minLength": "1"})).last().unwrap(),
            "at least one subschema must match"
        );
        assert_eq!(
            check_meta(json!(3)),
            [
                "expected boolean, got number",
                "expected object, got number",
                "at least one subschema must match"
            ]
        );
    }

    #[allow(clippy::needless_pass_by_value)] // callers pass `json!` literals
    fn check_meta(v: Json) -> Vec<String> {
        messages(&Schema::meta(), &known("s", &v))
    }

    // -----------------------------------------------------------------------------------------
    // Number helpers.

    #[test]
    fn decimals() {
        let d = |s: &str| Decimal::parse(s).unwrap();
        assert_eq!(d("1e+06"), d("1000000"));
        assert_eq!(d("-0"), d("0.000"));
        assert_eq!(d("0012.50"), d("12.5"));
        assert!(d("-1") < d("-0.5"));
        assert!(d("-0.5") < d("0"));
        assert!(d("0") < d("1e-300"));
        assert!(d("99") < d("1e2"));
        assert!(d("1e999999999999999999999") > d("9e100"));
        assert!(d("-Inf") < d("-1e300") && d("+Inf") > d("1e300"));
        assert_eq!(d("Infinity"), Decimal::Infinity);
        for bad in ["", "-", "1e", "e5", ".", "1.2.3", "0x10", "NaN", "1e+-2"] {
            assert_eq!(Decimal::parse(bad), None, "{bad}");
        }
        assert!(d(".5").is_multiple_of(&d("0.25")));
        assert!(!d("1e400").is_multiple_of(&d("7e3")));
        assert!(d("7e400").is_multiple_of(&d("7e3")));
        assert!(d("6").is_multiple_of(&d("-3")));
        assert!(d("5").is_multiple_of(&d("Inf")));
        assert!(!d("Inf").is_multiple_of(&d("5")));
        // A divisor too long for exact arithmetic falls back to floats.
        let long = "1".repeat(40);
        assert!(d(&long).is_multiple_of(&d(&long)));
    }
}
