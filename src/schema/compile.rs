//! Compiling a schema for validation: `$ref` resolution, numeric keywords, Go-syntax `pattern`s
//! and `rotateOnly` flags.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use regex::Regex;

use super::decimal::Decimal;
use super::{Compiled, Keywords, Link, Schema, SchemaObject, Target};
use crate::go::strconv::quote;

/// What `$ref`s resolve against while compiling: the root's definitions.
pub(super) struct Scope<'a> {
    pub(super) names: &'a BTreeMap<String, Schema>,
    pub(super) link: Link,
}

impl Scope<'_> {
    pub(super) fn compile(&self, schema: &Schema) -> Result<Schema, String> {
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
        out.compiled = Compiled(Some(Arc::new(keywords)));
        Ok(Schema::Object(Arc::new(out)))
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
            return Schema::Object(Arc::new(SchemaObject {
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
    Schema::Object(Arc::new(copy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::testing::*;
    use serde_json::json;

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
            (Schema::Object(a), Schema::Object(b)) => assert!(Arc::ptr_eq(a, b)),
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
}
