//! Reading a schema from JSON (`Schema::from_json`), with the reference's error texts.

use std::collections::BTreeMap;

use serde_json::{Map, Value as JsonValue};

use super::{Schema, SchemaObject};

/// Deepest subschema nesting that [`Schema::from_json`] accepts (the root is level 1).
const MAX_DECODE_DEPTH: usize = 64;

pub(super) fn decode_schema(v: &JsonValue, at: &str, depth: usize) -> Result<Schema, String> {
    if depth > MAX_DECODE_DEPTH {
        return Err(format!(
            "schema nested deeper than {MAX_DECODE_DEPTH} levels"
        ));
    }
    match v {
        JsonValue::Bool(true) => Ok(Schema::Always),
        JsonValue::Bool(false) => Ok(Schema::Never),
        JsonValue::Object(map) => decode_object(map, at, depth).map(Schema::from_object),
        other => Err(mismatch(at, "a schema (boolean or object)", other)),
    }
}

fn decode_object(
    map: &Map<String, JsonValue>,
    at: &str,
    depth: usize,
) -> Result<SchemaObject, String> {
    let mut object = SchemaObject::default();
    for (key, value) in map {
        let at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
        let at = at.as_str();
        let sub = |v: &JsonValue, at: &str| decode_schema(v, at, depth + 1);
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

fn mismatch(at: &str, expected: &str, got: &JsonValue) -> String {
    let kind = match got {
        JsonValue::Null => "null",
        JsonValue::Bool(_) => "boolean",
        JsonValue::Number(_) => "number",
        JsonValue::String(_) => "string",
        JsonValue::Array(_) => "array",
        JsonValue::Object(_) => "object",
    };
    format!("{at}: expected {expected}, got {kind}")
}

fn decode_optional<T>(
    v: &JsonValue,
    decode: impl FnOnce(&JsonValue) -> Result<T, String>,
) -> Result<Option<T>, String> {
    match v {
        JsonValue::Null => Ok(None),
        v => decode(v).map(Some),
    }
}

fn decode_string(v: &JsonValue, at: &str) -> Result<String, String> {
    match v {
        JsonValue::Null => Ok(String::new()),
        JsonValue::String(s) => Ok(s.clone()),
        other => Err(mismatch(at, "a string", other)),
    }
}

fn decode_bool(v: &JsonValue, at: &str) -> Result<bool, String> {
    match v {
        JsonValue::Null => Ok(false),
        JsonValue::Bool(b) => Ok(*b),
        other => Err(mismatch(at, "a boolean", other)),
    }
}

fn decode_number(v: &JsonValue, at: &str) -> Result<Option<String>, String> {
    match v {
        JsonValue::Null => Ok(None),
        JsonValue::Number(n) => Ok(Some(n.to_string())),
        other => Err(mismatch(at, "a number", other)),
    }
}

fn decode_list<T>(
    v: &JsonValue,
    at: &str,
    decode: impl Fn(&JsonValue, &str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match v {
        JsonValue::Null => Ok(Vec::new()),
        JsonValue::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| decode(item, &format!("{at}/{i}")))
            .collect(),
        other => Err(mismatch(at, "an array", other)),
    }
}

fn decode_map<T>(
    v: &JsonValue,
    at: &str,
    decode: impl Fn(&JsonValue, &str) -> Result<T, String>,
) -> Result<BTreeMap<String, T>, String> {
    match v {
        JsonValue::Null => Ok(BTreeMap::new()),
        JsonValue::Object(entries) => entries
            .iter()
            .map(|(key, item)| {
                let at = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                Ok((key.clone(), decode(item, &at)?))
            })
            .collect(),
        other => Err(mismatch(at, "an object", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::testing::*;
    use serde_json::json;

    #[test]
    fn from_json_decoding() {
        assert_eq!(Schema::from_json(&json!(true)), Ok(Schema::Always));
        assert_eq!(Schema::from_json(&json!(false)), Ok(Schema::Never));
        // null means absent; unknown keywords are ignored.
        let s = schema(json!({"const": null, "items": null, "type": null, "x-extra": 1}));
        assert_eq!(s, Schema::from_object(SchemaObject::default()));
        let err = |v: JsonValue| Schema::from_json(&v).unwrap_err();
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
}
