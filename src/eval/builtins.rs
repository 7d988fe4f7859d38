//! The builtins other than `fn::open` and `fn::rotate`: `fn::join`, `fn::split`,
//! `fn::concat`, `fn::secret`, the JSON, string and base64 conversions, `fn::final` and
//! `fn::validate` (also named `fn::conform`); `template.rs` has `fn::template` and
//! `fn::eval`.

use std::sync::Arc;

use super::arena::{ExprId, Repr, VALUE_WEIGHT, ValueId};
use super::{BuiltinCall, Evaluator};
use super::{Value, ValueKind};
use crate::diag::Code;
use crate::go::{self, json::Json};
use crate::schema::Schema;
use crate::secrets::envelope;

impl Evaluator<'_> {
    pub(super) fn builtin(&mut self, x: ExprId, b: &BuiltinCall) -> ValueId {
        let string = Schema::of_type("string");
        match b {
            BuiltinCall::Open { provider, inputs } => self.open(x, provider.as_deref(), *inputs),
            BuiltinCall::Rotate {
                name,
                provider,
                inputs,
                state,
            } => self.rotate(x, name, provider.as_deref(), *inputs, *state),
            BuiltinCall::SecretPlain(arg) => self.eval(*arg, &Schema::Always),
            BuiltinCall::Template { .. } => self.template_value(x),
            BuiltinCall::Eval { arg, valid } => self.eval_template(x, *arg, *valid),
            BuiltinCall::SecretCipher(text) => self.ciphertext(x, text),
            BuiltinCall::Join(delim, values) => {
                let (d, ok1) = self.check(*delim, &string);
                let (l, ok2) = self.check(*values, &Schema::array_of(string.clone()));
                if !(ok1 && ok2) {
                    return self.unknown_result(x, &[d, l]);
                }
                let (ud, _) = self.values.deep_flags(d);
                let (ul, _) = self.values.deep_flags(l);
                if ud || ul {
                    return self.unknown_result(x, &[d, l]);
                }
                let sep = self.str_of(d);
                let parts: Vec<String> = match &self.val(l).repr {
                    Repr::List(items) => items.iter().map(|&i| self.str_of(i)).collect(),
                    _ => Vec::new(),
                };
                // The delimiter is repeated: a long one makes a short list large.
                let size = parts.iter().map(String::len).fold(
                    sep.len().saturating_mul(parts.len().saturating_sub(1)),
                    usize::saturating_add,
                );
                if self.over_weight(x, size) {
                    return self.too_large(x);
                }
                let v = self.new_value(x, Repr::String(Arc::from(parts.join(&sep))), string);
                self.combine(v, d);
                self.combine(v, l);
                v
            }
            BuiltinCall::Split(delim, s) => {
                let (d, ok1) = self.check(*delim, &string);
                let (t, ok2) = self.check(*s, &string);
                let (ud, _) = self.values.deep_flags(d);
                let (ut, _) = self.values.deep_flags(t);
                if !(ok1 && ok2) || ud || ut {
                    return self.unknown_result(x, &[d, t]);
                }
                let (text, sep) = (self.str_of(t), self.str_of(d));
                // One value per part: splitting on "" makes one per character.
                let count = if sep.is_empty() {
                    text.chars().count()
                } else {
                    text.matches(sep.as_str()).count() + 1
                };
                if self.over_weight(x, count.saturating_mul(VALUE_WEIGHT) + text.len()) {
                    return self.too_large(x);
                }
                let parts = go::strings::split(&text, &sep);
                let secret = self.values.deep_flags(d).1 || self.values.deep_flags(t).1;
                let items = parts
                    .into_iter()
                    .map(|p| {
                        let v = self.new_value(x, Repr::String(Arc::from(p)), string.clone());
                        self.values.get_mut(v).secret = secret;
                        v
                    })
                    .collect();
                let v = self.new_value(x, Repr::List(items), Schema::array_of(string));
                self.values.get_mut(v).secret = secret;
                v
            }
            BuiltinCall::Concat(arg) => {
                let schema = Schema::array_of(Schema::array_of(Schema::Always));
                let (a, ok) = self.check(*arg, &schema);
                let (u, _) = self.values.deep_flags(a);
                if !ok || u {
                    return self.unknown_result(x, &[a]);
                }
                let mut out = Vec::new();
                if let Repr::List(lists) = self.val(a).repr.clone() {
                    for l in lists {
                        if let Repr::List(items) = &self.val(l).repr {
                            out.extend(items.iter().copied());
                        }
                    }
                }
                let v = self.new_value(x, Repr::List(out), Schema::array_of(Schema::Always));
                self.combine(v, a);
                v
            }
            BuiltinCall::ToJson(arg) => {
                let a = self.eval(*arg, &Schema::Always);
                let (u, _) = self.values.deep_flags(a);
                if u {
                    return self.unknown_result(x, &[a]);
                }
                let exported = self.export(a);
                let text = match go::json::marshal(&to_json(&exported)) {
                    Ok(text) => text,
                    Err(e) => {
                        // Go's message quotes the number; of a secret, hide it.
                        let e = if exported.contains_secret() {
                            "json: invalid number literal [secret]".to_owned()
                        } else {
                            e
                        };
                        self.error_at(
                            x,
                            Code::BuiltinFailed,
                            format!("failed to encode JSON: {e}"),
                        );
                        return self.unknown_result(x, &[a]);
                    }
                };
                if self.over_weight(x, text.len()) {
                    return self.too_large(x);
                }
                let v = self.new_value(x, Repr::String(Arc::from(text)), string);
                self.combine(v, a);
                v
            }
            BuiltinCall::FromJson(arg) => {
                let (a, ok) = self.check(*arg, &string);
                let (u, secret) = self.values.deep_flags(a);
                if !ok || u {
                    return self.unknown_result(x, &[a]);
                }
                let input = self.str_of(a);
                // At most one value per `,`, `:` or opening bracket, and one more.
                let count = 1 + input
                    .bytes()
                    .filter(|b| matches!(b, b',' | b':' | b'[' | b'{'))
                    .count();
                if self.over_weight(x, count.saturating_mul(VALUE_WEIGHT) + input.len()) {
                    return self.too_large(x);
                }
                match go::json::decode(&input) {
                    Ok(json) => {
                        let v = self.unexport(&from_json(&json), x);
                        if secret {
                            self.values.make_secret(v);
                        }
                        v
                    }
                    Err(e) => {
                        // The reference quotes the offending character; of a secret, that
                        // would print part of it.
                        let e = if secret { hide_quoted_character(&e) } else { e };
                        self.error_at(x, Code::BuiltinFailed, format!("decoding JSON string: {e}"));
                        self.unknown_result(x, &[a])
                    }
                }
            }
            BuiltinCall::ToString(arg) => {
                let a = self.eval(*arg, &Schema::Always);
                let room = self
                    .options
                    .max_value_weight
                    .saturating_sub(self.values.weight());
                let Some((text, unknown, secret)) = self.string_form(a, room) else {
                    return self.too_large(x);
                };
                self.share_weight(self.values.weight() + text.len());
                if unknown {
                    return self.unknown_result(x, &[a]);
                }
                let v = self.new_value(x, Repr::String(Arc::from(text)), string);
                self.values.get_mut(v).secret = secret;
                v
            }
            BuiltinCall::ToBase64(arg) | BuiltinCall::FromBase64(arg) => {
                let (a, ok) = self.check(*arg, &string);
                let (u, _) = self.values.deep_flags(a);
                if !ok || u {
                    return self.unknown_result(x, &[a]);
                }
                let input = self.str_of(a);
                let text = if matches!(b, BuiltinCall::ToBase64(_)) {
                    go::base64::encode(input.as_bytes())
                } else {
                    match go::base64::decode(&input) {
                        Ok(bytes) => go::strings::from_bytes_lossy(&bytes),
                        Err(e) => {
                            self.error_at(
                                x,
                                Code::BuiltinFailed,
                                format!("decoding base64 string: {e}"),
                            );
                            return self.unknown_result(x, &[a]);
                        }
                    }
                };
                let v = self.new_value(x, Repr::String(Arc::from(text)), string);
                self.combine(v, a);
                v
            }
            BuiltinCall::Final(arg) => {
                let a = self.eval(*arg, &Schema::Always);
                let inner = self.val(a).clone();
                let v = self.new_value(x, inner.repr, inner.schema);
                let val = self.values.get_mut(v);
                val.is_final = true;
                val.unknown = inner.unknown;
                val.secret = inner.secret;
                val.template = inner.template;
                // The key set is fixed before any base is merged in (the reference's Q7).
                let _ = self.values.keys(v);
                self.combine(v, a);
                v
            }
            BuiltinCall::Validate { schema, value } => {
                let (s, ok) = self.check(*schema, &Schema::meta());
                let (u, secret_schema) = self.values.deep_flags(s);
                // Errors about a secret schema would quote it.
                let hide = |e: String| {
                    if secret_schema {
                        "(the schema is secret)".to_owned()
                    } else {
                        e
                    }
                };
                let compiled = if ok && !u {
                    let exported = self.export(s);
                    let parsed = Schema::from_json(&exported.to_json(false))
                        .map_err(|e| format!("failed to parse schema: {}", hide(e)))
                        .and_then(|p| p.compile().map_err(hide));
                    match parsed {
                        Ok(c) => Some(c),
                        Err(e) => {
                            self.error_at(
                                *schema,
                                Code::BuiltinFailed,
                                format!("invalid schema: {e}"),
                            );
                            None
                        }
                    }
                } else {
                    None
                };
                let v = self.eval(*value, &Schema::Always);
                if let Some(c) = compiled {
                    self.validate_redacted(v, &c, secret_schema);
                }
                let inner = self.val(v).clone();
                let out = self.new_value(x, inner.repr, inner.schema);
                let val = self.values.get_mut(out);
                val.unknown = inner.unknown;
                val.secret = inner.secret;
                val.template = inner.template;
                let _ = self.values.keys(out);
                self.combine(out, v);
                out
            }
        }
    }

    /// Marks `result` unknown/secret if anything inside `arg` is.
    fn combine(&mut self, result: ValueId, arg: ValueId) {
        let (u, s) = self.values.deep_flags(arg);
        let r = self.values.get_mut(result);
        r.unknown |= u;
        r.secret |= s;
    }

    /// An unknown result of builtin `x` that keeps the secret flag of its argument.
    pub(super) fn unknown_result(&mut self, x: ExprId, args: &[ValueId]) -> ValueId {
        let schema = self.expr(x).schema.clone();
        let v = self.unknown(x, schema);
        for &a in args {
            let (_, s) = self.values.deep_flags(a);
            self.values.get_mut(v).secret |= s;
        }
        v
    }

    fn str_of(&self, v: ValueId) -> String {
        match &self.val(v).repr {
            Repr::String(s) | Repr::Number(s) => s.to_string(),
            Repr::Bool(b) => b.to_string(),
            _ => String::new(),
        }
    }

    fn ciphertext(&mut self, x: ExprId, text: &str) -> ValueId {
        let string = Schema::of_type("string");
        let secret_unknown = |this: &mut Self| {
            let v = this.unknown(x, Schema::of_type("string"));
            this.values.get_mut(v).secret = true;
            v
        };
        let sealed = match envelope::open(text) {
            Ok(b) => b,
            Err(e) => {
                self.error_at(
                    x,
                    Code::InvalidCiphertext,
                    format!("invalid ciphertext: {e}"),
                );
                return secret_unknown(self);
            }
        };
        if !self.show_secrets {
            return secret_unknown(self);
        }
        match self.host.decrypt(&sealed) {
            Ok(plain) => {
                let v = self.new_value(
                    x,
                    Repr::String(Arc::from(go::strings::from_bytes_lossy(&plain))),
                    string,
                );
                self.values.get_mut(v).secret = true;
                v
            }
            Err(e) => {
                self.error_at(x, Code::InvalidCiphertext, format!("decrypting: {e}"));
                secret_unknown(self)
            }
        }
    }
}

/// Replaces the quoted character of a Go JSON syntax error (`invalid character 'x' ...`)
/// with `[secret]`.
fn hide_quoted_character(message: &str) -> String {
    let Some(start) = message.find('\'') else {
        return message.to_owned();
    };
    let mut chars = message[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '\'' => {
                let end = start + 1 + i + 1;
                return format!("{}[secret]{}", &message[..start], &message[end..]);
            }
            _ => {}
        }
    }
    message.to_owned()
}

fn to_json(v: &Value) -> Json {
    match &v.kind {
        ValueKind::Null => Json::Null,
        ValueKind::Bool(b) => Json::Bool(*b),
        ValueKind::Number(n) => Json::Number(n.clone()),
        ValueKind::String(s) => Json::String(s.clone()),
        ValueKind::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        ValueKind::Object(m) => {
            Json::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

fn from_json(j: &Json) -> Value {
    Value::new(match j {
        Json::Null => ValueKind::Null,
        Json::Bool(b) => ValueKind::Bool(*b),
        Json::Number(n) => ValueKind::Number(n.clone()),
        Json::String(s) => ValueKind::String(s.clone()),
        Json::Array(items) => ValueKind::Array(items.iter().map(from_json).collect()),
        Json::Object(m) => {
            ValueKind::Object(m.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    })
}
