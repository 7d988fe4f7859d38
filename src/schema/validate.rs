//! Validation: a value (seen through [`Subject`]) against a schema, with the reference's
//! messages (§8.2); an unknown value is checked schema against schema (§8.3).

use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde_json::Value as JsonValue;

use super::decimal::Decimal;
use super::{Keywords, Schema, SchemaObject};
use crate::go::json::encode_value;
use crate::go::strconv::quote;

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
                encode_value(&JsonValue::Array(all.to_vec()))
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
fn equals<S: Subject>(value: &S, expected: &JsonValue) -> bool {
    match (value.const_view(), expected) {
        (View::Null, JsonValue::Null) => true,
        (View::Bool(a), JsonValue::Bool(b)) => a == *b,
        (View::Number(a), JsonValue::Number(b)) => a == b.to_string(),
        (View::String(a), JsonValue::String(b)) => a == *b,
        (View::Array(items), JsonValue::Array(expected)) => {
            items.len() == expected.len() && items.iter().zip(expected).all(|(v, e)| equals(v, e))
        }
        (View::Object(entries), JsonValue::Object(expected)) => {
            entries.len() == expected.len()
                && entries
                    .iter()
                    .all(|(key, v)| expected.get(key).is_some_and(|e| equals(v, e)))
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::approx_constant)] // 3.14 is the golden cases' number, not π
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::schema::testing::*;
    use serde_json::json;

    // -----------------------------------------------------------------------------------------
    // The `schema` test provider (§12) and the schema-error golden case (§8.4).

    /// The provider's argSchema as the reference prints it (schema-error expected.json).
    const PROVIDER_SCHEMA_JSON: &str = r##"{"$defs":{"defRecord":{"properties":{"baz":{"type":"string","const":"qux"}},"type":"object","required":["baz"]}},"properties":{"always":true,"anyOf":{"anyOf":[{"type":"string"},{"type":"number"}],"type":""},"array":{"items":true,"type":"array"},"boolean":{"type":"boolean"},"const-array":{"type":"array","const":["hello",42]},"const-object":{"type":"object","const":{"hello":"world"}},"dependentReq":{"properties":{"bar":{"type":"number"},"foo":{"type":"string"}},"type":"object","dependentRequired":{"foo":["bar"]}},"double":{"prefixItems":[{"type":"string"},{"type":"number"}],"items":false,"type":"array"},"enum":{"type":"string","enum":["foo","bar"]},"exclusiveMaximum":{"type":"number","exclusiveMaximum":1},"exclusiveMinimum":{"type":"number","exclusiveMinimum":1},"false":{"type":"boolean","const":false},"hello":{"type":"string","const":"hello"},"map":{"additionalProperties":true,"type":"object"},"maxItems":{"type":"array","maxItems":2},"maxLength":{"type":"string","maxLength":1},"maxProperties":{"type":"object","maxProperties":1},"maximum":{"type":"number","maximum":1},"minItems":{"type":"array","minItems":3},"minLength":{"type":"string","minLength":1},"minProperties":{"type":"object","minProperties":1},"minimum":{"type":"number","minimum":1},"multiple":{"type":"number","multipleOf":2},"never":false,"null":{"type":"null"},"number":{"type":"number"},"oneOf":{"oneOf":[{"type":"string"},{"type":"number"}],"type":""},"pattern":{"type":"string","pattern":"^foo[0-9]+$"},"pi":{"type":"number","const":3.14},"record":{"properties":{"foo":{"type":"string"}},"type":"object","required":["foo"]},"ref":{"$ref":"#/$defs/defRecord","type":""},"string":{"type":"string"},"triple":{"prefixItems":[{"type":"string"},{"type":"number"},{"type":"boolean"}],"items":false,"type":"array"},"true":{"type":"boolean","const":true},"tuple":{"prefixItems":[{"type":"string","const":"hello"},{"type":"string","const":"world"}],"items":false,"type":"array"}},"type":"object"}"##;

    /// `source`'s inputs in schema-error/env.yaml.
    fn source_inputs() -> JsonValue {
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
            |s: JsonValue, v: &str| messages(&schema(s), &toy("v", Kind::Number(v.to_owned())));
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
        let compile = |n: JsonValue| schema(json!({"maxLength": n})).compile().map(|_| ());
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

    fn against(actual: Schema, accept: JsonValue) -> (bool, Vec<(String, String)>) {
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
    fn check_meta(v: JsonValue) -> Vec<String> {
        messages(&Schema::meta(), &known("s", &v))
    }
}
