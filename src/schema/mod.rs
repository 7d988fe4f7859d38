//! The schema system: ESC's JSON-Schema subset, inference helpers and validation (spec §8, §9).
//!
//! A [`Schema`] is `true` ([`Schema::Always`]), `false` ([`Schema::Never`]) or an object of
//! keywords. Schemas are immutable and shared through `Arc` (an evaluation holds them and may
//! move to another thread); every operation builds new nodes.
//!
//! [`Schema::compile`] prepares a schema for validation: it resolves `$ref`s against the `$defs`
//! of the schema it was invoked on, parses numeric keywords, compiles `pattern` and flags
//! `rotateOnly` properties. Compiled nodes remember that they are compiled, so compiling again
//! (even a subschema taken out of a compiled schema) keeps the original resolution.
//!
//! `$defs` may be recursive (the meta-schema is). A compiled `$ref` reaches its target through a
//! table of the root's compiled definitions. Nodes of the public tree hold that table strongly;
//! the table's own nodes hold it weakly, so no `Arc` cycle forms. Resolution only happens while
//! validating, when a strong holder is on the stack.
//!
//! [`validate()`] checks a value (seen through [`Subject`]) against a schema with the exact
//! diagnostics of the reference (§8.2); unknown values are checked schema against schema (§8.3).

mod compile;
mod decimal;
mod decode;
#[cfg(test)]
mod testing;
mod validate;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, Weak};

use regex::Regex;
use serde_json::{Map, Number, Value as JsonValue};

use compile::Scope;
use decimal::Decimal;
use decode::decode_schema;

pub(crate) use validate::{Place, Problem, Subject, View, validate};

/// A schema: `true`, `false`, or an object schema. Cloning is cheap.
#[derive(Clone, Debug)]
pub(crate) enum Schema {
    /// `true`: admits everything.
    Always,
    /// `false`: admits nothing.
    Never,
    /// An object schema.
    Object(Arc<SchemaObject>),
    /// A schema the evaluator infers for every value (a literal's, a record's, a tuple's,
    /// a merge's), built only when something reads it: most are never read outside the
    /// typed output, and building them eagerly cost a keyword object per value and a
    /// quadratic amount of merging over long import chains.
    Lazy(Arc<Lazy>),
}

impl PartialEq for Schema {
    fn eq(&self, other: &Self) -> bool {
        match (self.resolved(), other.resolved()) {
            (Schema::Always, Schema::Always) | (Schema::Never, Schema::Never) => true,
            (Schema::Object(a), Schema::Object(b)) => Arc::ptr_eq(a, b) || a == b,
            _ => false,
        }
    }
}

/// A deferred schema and, once read, what it stands for.
#[derive(Debug)]
pub(crate) struct Lazy {
    kind: LazyKind,
    built: OnceLock<Schema>,
}

#[derive(Debug)]
enum LazyKind {
    /// [`Schema::literal`] of this value. Boxed: a JSON value is larger than the other
    /// kinds, and one lazy schema per literal of a document is kept.
    Literal(Box<JsonValue>),
    /// [`Schema::literal`] of this string (shared with the value that holds it).
    LiteralString(Arc<str>),
    /// [`Schema::record`] of these (sorted) properties.
    Record(Vec<(Arc<str>, Schema)>),
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
            let Ok(mut lazy) = Arc::try_unwrap(rc) else {
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
        Schema::Lazy(Arc::new(Lazy {
            kind,
            built: OnceLock::new(),
        }))
    }

    fn build(&self) -> Schema {
        match &self.kind {
            LazyKind::Literal(v) => Schema::literal_now(v),
            LazyKind::LiteralString(s) => Schema::literal_now(&JsonValue::String(s.to_string())),
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
    pub(crate) constant: Option<JsonValue>,
    /// `enum`.
    pub(crate) enumeration: Vec<JsonValue>,
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
    pub(crate) default: Option<JsonValue>,
    /// `deprecated`.
    pub(crate) deprecated: bool,
    /// `examples`.
    pub(crate) examples: Vec<JsonValue>,
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
struct Compiled(Option<Arc<Keywords>>);

impl PartialEq for Compiled {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Compiled {
    /// The state of a compiled node without `$ref`, numeric keywords or pattern.
    fn plain() -> Self {
        Compiled(Some(Arc::new(Keywords::default())))
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
    Strong(Arc<Defs>),
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
    fn resolve(&self) -> Option<(Arc<Defs>, Schema)> {
        let defs = match &self.link {
            Link::Strong(defs) => Arc::clone(defs),
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
    pub(crate) fn literal(v: &JsonValue) -> Schema {
        Lazy::schema(LazyKind::Literal(Box::new(v.clone())))
    }

    /// [`Schema::literal`] of a string.
    pub(crate) fn literal_string(s: Arc<str>) -> Schema {
        Lazy::schema(LazyKind::LiteralString(s))
    }

    fn literal_now(v: &JsonValue) -> Schema {
        let ty = match v {
            JsonValue::Null => return Schema::of_type("null"),
            JsonValue::Bool(_) => "boolean",
            JsonValue::Number(_) => "number",
            JsonValue::String(_) => "string",
            JsonValue::Array(_) => "array",
            JsonValue::Object(_) => "object",
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
    pub(crate) fn record_sorted(props: Vec<(Arc<str>, Schema)>) -> Schema {
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
        Schema::Object(Arc::new(object))
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
            enumeration: type_names.iter().map(|&t| JsonValue::from(t)).collect(),
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
        Schema::Object(Arc::new(SchemaObject {
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
    pub(crate) fn to_json(&self) -> JsonValue {
        match self.resolved() {
            Schema::Always | Schema::Lazy(_) => JsonValue::Bool(true),
            Schema::Never => JsonValue::Bool(false),
            Schema::Object(object) => JsonValue::Object(object.to_json()),
        }
    }

    /// Decodes the JSON form; `true`/`false` become Always/Never, unknown keywords are ignored
    /// and `null` means absent (as Go's decoder does). Errors read
    /// `<JSON pointer>: expected <what>, got <JSON kind>` (e.g. `#/properties/a/type: expected a
    /// string, got number`) or `schema nested deeper than 64 levels`.
    pub(crate) fn from_json(v: &JsonValue) -> Result<Schema, String> {
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
        let table = Arc::new_cyclic(|weak: &Weak<Defs>| {
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
    fn target(&self) -> Option<(Arc<Defs>, Schema)> {
        self.keywords()?.target.as_ref()?.resolve()
    }

    #[allow(clippy::too_many_lines)] // one statement per keyword, in the reference's order
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "the typed environment output uses it (issue 4)")
    )]
    fn to_json(&self) -> Map<String, JsonValue> {
        fn list(schemas: &[Schema]) -> JsonValue {
            JsonValue::Array(schemas.iter().map(Schema::to_json).collect())
        }
        fn map(schemas: &BTreeMap<String, Schema>) -> JsonValue {
            JsonValue::Object(
                schemas
                    .iter()
                    .map(|(name, schema)| (name.clone(), schema.to_json()))
                    .collect(),
            )
        }
        fn strings(names: &[String]) -> JsonValue {
            JsonValue::Array(
                names
                    .iter()
                    .map(|name| JsonValue::from(name.as_str()))
                    .collect(),
            )
        }
        fn number(text: &str) -> JsonValue {
            // Texts come from JSON numbers; keep anything else readable rather than lose it.
            text.parse::<Number>()
                .map_or_else(|_| JsonValue::from(text), JsonValue::Number)
        }

        let mut out = Map::new();
        let mut put = |key: &str, value: JsonValue| {
            out.insert(key.to_owned(), value);
        };
        if !self.defs.is_empty() {
            put("$defs", map(&self.defs));
        }
        if !self.reference.is_empty() {
            put("$ref", JsonValue::from(self.reference.as_str()));
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
        put("type", JsonValue::from(self.ty.as_str()));
        if let Some(constant) = &self.constant {
            put("const", constant.clone());
        }
        if !self.enumeration.is_empty() {
            put("enum", JsonValue::Array(self.enumeration.clone()));
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
            put("pattern", JsonValue::from(self.pattern.as_str()));
        }
        for (key, text) in [("maxItems", &self.max_items), ("minItems", &self.min_items)] {
            if let Some(text) = text {
                put(key, number(text));
            }
        }
        if self.unique_items {
            put("uniqueItems", JsonValue::Bool(true));
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
            put("dependentRequired", JsonValue::Object(dependencies));
        }
        if !self.title.is_empty() {
            put("title", JsonValue::from(self.title.as_str()));
        }
        if !self.description.is_empty() {
            put("description", JsonValue::from(self.description.as_str()));
        }
        if let Some(default) = &self.default {
            put("default", default.clone());
        }
        if self.deprecated {
            put("deprecated", JsonValue::Bool(true));
        }
        if !self.examples.is_empty() {
            put("examples", JsonValue::Array(self.examples.clone()));
        }
        if self.secret {
            put("secret", JsonValue::Bool(true));
        }
        if !self.rotate_only.is_empty() {
            put("rotateOnly", strings(&self.rotate_only));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::testing::*;
    use serde_json::json;

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
        let print = |v: JsonValue| serde_json::to_string(&Schema::literal(&v).to_json()).unwrap();
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
                ("common", Schema::literal(&JsonValue::from(i))),
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
            Schema::literal(&JsonValue::from(39))
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
}
