//! Evaluating exprs: memoization and cycles, references, interpolation and the builtins.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

use super::value::{ExprId, Repr, VALUE_WEIGHT, ValueId};
use super::{Acc, BExpr, EKind, Evaluator, Rotation, RotationStatus, State};
use super::{Value, ValueKind};
use crate::ast::AccessorKind;
use crate::diag::{Code, Diagnostic};
use crate::go;
use crate::go::json::Json;
use crate::go::strconv::quote;
use crate::path;
use crate::schema::{self, Place, Problem, Schema, Subject, View};
use crate::secrets::envelope;
use crate::suggest::nearest;

/// How an access went wrong: reported, and the rest of the reference is unknown.
struct Invalid;

/// What a value access finds at a receiver.
enum Step {
    List(usize),
    Map(Option<ValueId>),
    Scalar,
}

/// The deepest nesting of evaluations (a chain of references, each waiting on the next).
/// (Each level takes a few KiB of stack, on the heap: 20,000 stay well under 256 MiB even
/// unoptimized, and still find a cycle of 10,000 references.)
pub(super) const MAX_EVAL_DEPTH: usize = 20_000;
/// Grow the stack when less than this is left...
pub(super) const STACK_RED_ZONE: usize = 128 * 1024;
/// ...by this much at a time.
pub(super) const STACK_SEGMENT: usize = 4 * 1024 * 1024;

impl Evaluator<'_> {
    /// Evaluates `x`, memoized; `accept` only matters for rotate-only inputs.
    pub(super) fn eval(&mut self, x: ExprId, accept: &Schema) -> ValueId {
        // References nest evaluations as deep as the reference chain: grow the stack on
        // the heap instead of overflowing it, and refuse chains beyond the limit.
        if self.depth >= MAX_EVAL_DEPTH {
            if !self.depth_reported {
                self.depth_reported = true;
                let d = self.located(
                    x,
                    Diagnostic::error(
                        Code::LimitExceeded,
                        format!("references are nested deeper than the limit of {MAX_EVAL_DEPTH}"),
                    ),
                );
                self.diags.push(d);
            }
            return self.unknown(x, Schema::Always);
        }
        if self.over_weight(x, 0) {
            return self.unknown(x, Schema::Always);
        }
        self.depth += 1;
        let v = stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || {
            self.eval_memoized(x, accept)
        });
        self.depth -= 1;
        v
    }

    /// Whether the values made so far, and `more` about to be made, weigh more than
    /// `options.max_value_weight`. The first time, it is reported at `x`; after that, whatever
    /// crosses the limit is unknown without another report.
    pub(super) fn over_weight(&mut self, x: ExprId, more: usize) -> bool {
        let max = self.options.max_value_weight;
        if self.values.weight().saturating_add(more) <= max {
            return false;
        }
        if !self.weight_reported {
            self.weight_reported = true;
            let d = self.located(
                x,
                Diagnostic::error(
                    Code::LimitExceeded,
                    format!(
                        "values are larger than the limit of {} MiB per evaluation",
                        max >> 20
                    ),
                ),
            );
            self.diags.push(d);
        }
        true
    }

    /// The unknown result of `x`, whose value would have been too large (reported).
    fn too_large(&mut self, x: ExprId) -> ValueId {
        self.over_weight(x, usize::MAX);
        let schema = self.expr(x).schema.clone();
        self.unknown(x, schema)
    }

    fn eval_memoized(&mut self, x: ExprId, accept: &Schema) -> ValueId {
        match self.expr(x).state {
            State::Done(v) => return v,
            State::Evaluating => {
                let path = self.expr(x).path.clone();
                self.error_at(
                    x,
                    Code::ReferenceCycle,
                    format!("cyclic reference to {path}"),
                );
                return self.unknown(x, Schema::Always);
            }
            State::Declared => {}
        }
        let env = self.expr(x).env;
        if accept.is_rotate_only()
            && (!(self.rotating || self.validating) || !self.envs[env].is_root)
        {
            let def = self.synthetic(env, None, "");
            let v = self.unknown(def, Schema::Always);
            self.values.get_mut(v).rotate_only = true;
            return v;
        }
        self.exprs[x.0 as usize].state = State::Evaluating;
        if let Some(base) = self.expr(x).base
            && self.val(base).is_final
        {
            let d = self.located(
                x,
                Diagnostic::warning(Code::FinalOverride, "cannot override final value"),
            );
            self.diags.push(d);
            let schema = self.val(base).schema.clone();
            let e = &mut self.exprs[x.0 as usize];
            e.schema = schema;
            e.state = State::Done(base);
            return base;
        }
        let v = self.eval_kind(x, accept);
        if accept.is_rotate_only() {
            self.values.get_mut(v).rotate_only = true;
        }
        if self.expr(x).secret {
            self.values.get_mut(v).secret = true;
        }
        let base = self.expr(x).base;
        self.merge(v, base);
        let schema = self.val(v).schema.clone();
        let e = &mut self.exprs[x.0 as usize];
        e.schema = schema;
        e.state = State::Done(v);
        v
    }

    fn eval_kind(&mut self, x: ExprId, accept: &Schema) -> ValueId {
        match self.expr(x).kind.clone() {
            EKind::Missing | EKind::Access { .. } => {
                let schema = self.expr(x).schema.clone();
                self.unknown(x, schema)
            }
            EKind::Literal(r) => {
                let schema = self.expr(x).schema.clone();
                self.new_value(x, r, schema)
            }
            EKind::Array(items) => {
                let mut ids = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    ids.push(self.eval(*item, &accept.item(i)));
                }
                let schema =
                    Schema::tuple(ids.iter().map(|&i| self.val(i).schema.clone()).collect());
                self.new_value(x, Repr::List(ids), schema)
            }
            EKind::Object(props) => {
                let mut sorted: Vec<(Rc<str>, ExprId)> =
                    props.iter().map(|(k, e)| (k.clone(), *e)).collect();
                sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                let mut map = BTreeMap::new();
                for (k, e) in sorted {
                    let v = self.eval(e, &accept.property(&k));
                    map.insert(k, v);
                }
                let schema = Schema::record_sorted(
                    map.iter()
                        .map(|(k, &v)| (k.clone(), self.val(v).schema.clone()))
                        .collect(),
                );
                self.new_value(x, Repr::Map(map), schema)
            }
            EKind::Symbol(accs) => self.resolve(x, 0, &accs, accept),
            EKind::Interpolate(parts) => self.interpolate(x, &parts),
            EKind::Builtin(b) => self.builtin(x, &b),
        }
    }

    // ---------------------------------------------------------------------------------
    // References

    /// Resolves the property access `accs` written in `s`; the result is a copy whose
    /// definition is `s`.
    fn resolve(&mut self, s: ExprId, part: usize, accs: &[Acc], accept: &Schema) -> ValueId {
        let outer = std::mem::take(&mut self.trace);
        let v = self.resolve_traced(s, accs, accept);
        let mut trace = std::mem::replace(&mut self.trace, outer);
        // After an access error the remaining accessors resolve to the reference itself.
        while trace.len() < accs.len() {
            trace.push(Some(s));
        }
        self.traces.insert((s, part), trace);
        v
    }

    fn resolve_traced(&mut self, s: ExprId, accs: &[Acc], accept: &Schema) -> ValueId {
        let env = self.expr(s).env;
        let first = accs.first().and_then(|a| match &a.kind {
            AccessorKind::Name(n) | AccessorKind::Key(n) => Some(n.as_str()),
            AccessorKind::Index(_) => None,
        });
        let found = match first {
            Some("imports") => {
                let v = self.envs[env].imports;
                self.trace.push(Some(self.val(v).def));
                self.access(s, v, &accs[1..])
            }
            Some("context") => {
                let v = self.envs[env].context;
                self.trace.push(Some(self.val(v).def));
                self.access(s, v, &accs[1..])
            }
            Some("environments") => self.inline_environment(s, accs),
            _ => self.walk(s, accs, accept),
        };
        let v = match found {
            Ok(v) => v,
            Err(Invalid) => return self.unknown(s, Schema::Always),
        };
        let copy = self.values.deep_copy(v);
        self.values.get_mut(copy).def = s;
        // Copies are what references multiply: report the one that crosses the limit.
        if self.over_weight(s, 0) {
            return self.unknown(s, Schema::Always);
        }
        copy
    }

    /// Follows accessors through declarations (so a reference into an object that is
    /// still being evaluated works), then through values.
    fn walk(&mut self, s: ExprId, accs: &[Acc], accept: &Schema) -> Result<ValueId, Invalid> {
        let env = self.expr(s).env;
        let mut recv = Some(self.envs[env].root);
        let mut i = 0;
        loop {
            let Some(r) = recv else {
                let span = self.expr(s).span;
                let d = self.located(
                    s,
                    Diagnostic::error(Code::InvalidAccess, "internal error: no receiver"),
                );
                let _ = span;
                self.diags.push(d);
                return Err(Invalid);
            };
            if i == accs.len() {
                return Ok(self.eval(r, &Schema::Always));
            }
            let acc = &accs[i];
            match self.expr(r).kind.clone() {
                EKind::Array(items) => {
                    let index = self.list_index(s, acc, items.len())?;
                    recv = Some(items[index]);
                    self.trace.push(recv);
                    i += 1;
                }
                EKind::Object(props) => {
                    let key = match &acc.kind {
                        AccessorKind::Index(_) => {
                            self.error_span(
                                s,
                                acc.span,
                                Code::InvalidAccess,
                                "cannot access an object property using an integer index",
                            );
                            return Err(Invalid);
                        }
                        AccessorKind::Name(k) | AccessorKind::Key(k) => k.clone(),
                    };
                    if let Some(p) = props.get(key.as_str()) {
                        recv = Some(*p);
                        self.trace.push(recv);
                        i += 1;
                        continue;
                    }
                    if let Some(base) = self.expr(r).base
                        && self.is_object(base)
                    {
                        return self.access(s, base, &accs[i..]);
                    }
                    let suggestion = nearest(&key, props.keys().map(|k| &**k)).map(str::to_owned);
                    self.unknown_property(s, acc, &key, suggestion.as_deref());
                    return Err(Invalid);
                }
                EKind::Builtin(b)
                    if matches!(*b, BExpr::SecretPlain(_) | BExpr::SecretCipher(_)) =>
                {
                    recv = match *b {
                        BExpr::SecretPlain(arg) => Some(arg),
                        _ => None,
                    };
                }
                _ => {
                    let v = self.eval(r, accept);
                    return self.access(s, v, &accs[i..]);
                }
            }
        }
    }

    fn list_index(&mut self, s: ExprId, acc: &Acc, len: usize) -> Result<usize, Invalid> {
        match acc.kind {
            AccessorKind::Index(i) if i < 0 => {
                self.error_span(
                    s,
                    acc.span,
                    Code::InvalidAccess,
                    "array indices must not be negative",
                );
                Err(Invalid)
            }
            AccessorKind::Index(i) => match usize::try_from(i) {
                Ok(i) if i < len => Ok(i),
                _ => {
                    self.error_span(
                        s,
                        acc.span,
                        Code::InvalidAccess,
                        format!("array index {i} out-of-bounds for array of length {len}"),
                    );
                    Err(Invalid)
                }
            },
            _ => {
                self.error_span(
                    s,
                    acc.span,
                    Code::InvalidAccess,
                    "cannot access an array element using a property name",
                );
                Err(Invalid)
            }
        }
    }

    fn unknown_property(&mut self, s: ExprId, acc: &Acc, key: &str, suggestion: Option<&str>) {
        let mut message = format!("unknown property {}", quote(key));
        if let Some(c) = suggestion {
            let _ = write!(message, "; did you mean {}?", quote(c));
        }
        self.error_span(s, acc.span, Code::UnknownProperty, message);
    }

    /// Follows accessors through evaluated values.
    fn access(&mut self, s: ExprId, v: ValueId, accs: &[Acc]) -> Result<ValueId, Invalid> {
        let mut recv = v;
        let mut i = 0;
        while i < accs.len() {
            let acc = &accs[i];
            if self.val(recv).unknown
                && !matches!(self.val(recv).repr, Repr::Map(_) | Repr::List(_))
            {
                return self.unknown_access(s, recv, &accs[i..]);
            }
            // Look at the receiver without copying it: maps and lists can be large.
            let key = match &acc.kind {
                AccessorKind::Name(k) | AccessorKind::Key(k) => Some(k.as_str()),
                AccessorKind::Index(_) => None,
            };
            let step = match &self.val(recv).repr {
                Repr::List(items) => Step::List(items.len()),
                Repr::Map(m) => Step::Map(key.and_then(|k| m.get(k).copied())),
                _ => Step::Scalar,
            };
            match step {
                Step::List(len) => {
                    let index = self.list_index(s, acc, len)?;
                    if let Repr::List(items) = &self.val(recv).repr {
                        recv = items[index];
                    }
                    self.trace.push(Some(self.val(recv).def));
                    i += 1;
                }
                Step::Map(found) => {
                    let Some(key) = key else {
                        self.error_span(
                            s,
                            acc.span,
                            Code::InvalidAccess,
                            "cannot access an object property using an integer index",
                        );
                        return Err(Invalid);
                    };
                    if let Some(p) = found {
                        recv = p;
                        self.trace.push(Some(self.val(recv).def));
                        i += 1;
                        continue;
                    }
                    match self.val(recv).base {
                        Some(base) if self.is_object(base) => recv = base,
                        _ => {
                            // The keys of a secret object are part of the secret.
                            let suggestion = match &self.val(recv).repr {
                                Repr::Map(_) if self.val(recv).secret => None,
                                Repr::Map(m) => {
                                    nearest(key, m.keys().map(|k| &**k)).map(str::to_owned)
                                }
                                _ => None,
                            };
                            let key = key.to_owned();
                            self.unknown_property(s, acc, &key, suggestion.as_deref());
                            return Err(Invalid);
                        }
                    }
                }
                Step::Scalar => {
                    self.error_span(
                        s,
                        acc.span,
                        Code::InvalidAccess,
                        "receiver must be an array or an object",
                    );
                    return Err(Invalid);
                }
            }
        }
        Ok(recv)
    }

    /// An access into an unknown value: follows its schema.
    fn unknown_access(&mut self, s: ExprId, v: ValueId, accs: &[Acc]) -> Result<ValueId, Invalid> {
        let mut schema = self.val(v).schema.clone();
        for acc in accs {
            self.trace.push(Some(s));
            if schema == Schema::Always {
                continue;
            }
            match schema.type_name() {
                "array" => {
                    // Indices are bounded only by a closed tuple (`items: false`).
                    let bound = match schema.resolved() {
                        Schema::Object(o) if o.items == Some(Schema::Never) => {
                            Some(o.prefix_items.len())
                        }
                        _ => None,
                    };
                    let index = match (bound, &acc.kind) {
                        (Some(len), _) => self.list_index(s, acc, len)?,
                        (None, AccessorKind::Index(i)) if *i >= 0 => {
                            usize::try_from(*i).unwrap_or(usize::MAX)
                        }
                        (None, _) => self.list_index(s, acc, 0)?,
                    };
                    schema = schema.item(index);
                }
                "object" => match &acc.kind {
                    AccessorKind::Index(_) => {
                        self.error_span(
                            s,
                            acc.span,
                            Code::InvalidAccess,
                            "cannot access an object property using an integer index",
                        );
                        return Err(Invalid);
                    }
                    AccessorKind::Name(k) | AccessorKind::Key(k) => schema = schema.property(k),
                },
                _ => {
                    self.error_span(
                        s,
                        acc.span,
                        Code::InvalidAccess,
                        "receiver must be an array or an object",
                    );
                    return Err(Invalid);
                }
            }
        }
        let secret = self.val(v).secret;
        let out = self.unknown(s, schema);
        // What is inside a secret is secret, known or not.
        self.values.get_mut(out).secret = secret;
        Ok(out)
    }

    /// `${environments.P.E...}`: an inline import of environment `P/E`.
    fn inline_environment(&mut self, s: ExprId, accs: &[Acc]) -> Result<ValueId, Invalid> {
        if accs.len() < 3 {
            return Err(Invalid);
        }
        let mut parts = Vec::new();
        for acc in &accs[1..3] {
            match &acc.kind {
                AccessorKind::Name(k) | AccessorKind::Key(k) => parts.push(k.clone()),
                AccessorKind::Index(_) => {
                    self.error_span(
                        s,
                        acc.span,
                        Code::InvalidAccess,
                        "cannot access an object property using an integer index",
                    );
                    return Err(Invalid);
                }
            }
        }
        let name = format!("{}/{}", parts[0], parts[1]);
        let env = self.expr(s).env;
        let context = self.envs[env].context_value.clone();
        let root_name = self.envs[env].root_name.clone();
        let value = match self.import(&name, s, &context, &root_name) {
            Some(v) => v,
            None => {
                let def = self.synthetic(env, None, "");
                self.unknown(def, Schema::Always)
            }
        };
        self.current = env;
        let root_def = self.val(value).def;
        self.trace.extend([Some(s), Some(s), Some(root_def)]);
        self.access(s, value, &accs[3..])
    }

    // ---------------------------------------------------------------------------------
    // Interpolation and string forms

    fn interpolate(&mut self, x: ExprId, parts: &[(String, Option<Vec<Acc>>)]) -> ValueId {
        let mut text = String::new();
        let (mut unknown, mut secret) = (false, false);
        for (part, (literal, access)) in parts.iter().enumerate() {
            text.push_str(literal);
            if let Some(accs) = access {
                let v = self.resolve(x, part, accs, &Schema::Always);
                let room = self
                    .options
                    .max_value_weight
                    .saturating_sub(self.values.weight().saturating_add(text.len()));
                let Some((s, u, sec)) = self.string_form(v, room) else {
                    return self.too_large(x);
                };
                unknown |= u;
                secret |= sec;
                if !u {
                    text.push_str(&s);
                }
            }
        }
        if unknown {
            "[unknown]".clone_into(&mut text);
        }
        let v = self.new_value(x, Repr::String(Rc::from(text)), Schema::of_type("string"));
        let val = self.values.get_mut(v);
        val.unknown = unknown;
        val.secret = secret;
        v
    }

    /// The string form of a value (§5.6): (text, unknown, secret); `None` if the text is
    /// longer than `cap` bytes (each level of nesting quotes the one inside it again, so
    /// the text can be exponentially larger than the value).
    pub(super) fn string_form(&self, v: ValueId, cap: usize) -> Option<(String, bool, bool)> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || {
            self.string_form_inner(v, cap)
        })
    }

    fn string_form_inner(&self, v: ValueId, cap: usize) -> Option<(String, bool, bool)> {
        let val = self.val(v);
        if val.unknown {
            return Some(("[unknown]".to_owned(), true, val.secret));
        }
        let (mut unknown, mut secret) = (false, val.secret);
        let mut text = String::new();
        match &val.repr {
            Repr::Null => {}
            Repr::Bool(b) => text = b.to_string(),
            Repr::Number(n) | Repr::String(n) if n.len() <= cap => text = n.to_string(),
            Repr::Number(_) | Repr::String(_) => return None,
            Repr::List(items) => {
                for (n, &i) in items.iter().enumerate() {
                    let (s, u, sec) = self.string_form(i, cap)?;
                    unknown |= u;
                    secret |= sec;
                    if n > 0 {
                        text.push(',');
                    }
                    text.push_str(&quote(&s));
                    if text.len() > cap {
                        return None;
                    }
                }
            }
            Repr::Map(m) => {
                for (n, (k, &i)) in m.iter().enumerate() {
                    let (s, u, sec) = self.string_form(i, cap)?;
                    unknown |= u;
                    secret |= sec;
                    if n > 0 {
                        text.push(',');
                    }
                    let _ = write!(text, "{}={}", quote(k), quote(&s));
                    if text.len() > cap {
                        return None;
                    }
                }
            }
        }
        Some((text, unknown, secret))
    }

    // ---------------------------------------------------------------------------------
    // Validation

    /// Evaluates `arg` and validates it against `schema`; returns the value and whether it
    /// passed.
    fn check(&mut self, arg: ExprId, schema: &Schema) -> (ValueId, bool) {
        let v = self.eval(arg, schema);
        let ok = self.validate(v, schema);
        (v, ok)
    }

    fn validate(&mut self, v: ValueId, schema: &Schema) -> bool {
        self.validate_redacted(v, schema, false)
    }

    /// Validates; with `secret_schema`, messages (which quote the schema) are replaced by
    /// one that does not.
    fn validate_redacted(&mut self, v: ValueId, schema: &Schema, secret_schema: bool) -> bool {
        let mut problems = Vec::new();
        let ok = schema::validate(schema, &Subj { ev: self, id: v }, &mut problems);
        for Problem { at, message } in problems {
            let message = if secret_schema {
                "the value does not satisfy its schema (the schema is secret)".to_owned()
            } else {
                message
            };
            let d = self.located(at, Diagnostic::error(Code::SchemaViolation, message));
            self.diags.push(d);
        }
        ok
    }

    /// Marks `result` unknown/secret if anything inside `arg` is.
    fn combine(&mut self, result: ValueId, arg: ValueId) {
        let (u, s) = self.values.deep_flags(arg);
        let r = self.values.get_mut(result);
        r.unknown |= u;
        r.secret |= s;
    }

    /// An unknown result of builtin `x` that keeps the secret flag of its argument.
    fn unknown_result(&mut self, x: ExprId, args: &[ValueId]) -> ValueId {
        let schema = self.expr(x).schema.clone();
        let v = self.unknown(x, schema);
        for &a in args {
            let (_, s) = self.values.deep_flags(a);
            self.values.get_mut(v).secret |= s;
        }
        v
    }

    // ---------------------------------------------------------------------------------
    // Builtins

    fn builtin(&mut self, x: ExprId, b: &BExpr) -> ValueId {
        let string = Schema::of_type("string");
        match b {
            BExpr::Open { provider, inputs } => self.open(x, provider.as_deref(), *inputs),
            BExpr::Rotate {
                name,
                provider,
                inputs,
                state,
            } => self.rotate(x, name, provider.as_deref(), *inputs, *state),
            BExpr::SecretPlain(arg) => self.eval(*arg, &Schema::Always),
            BExpr::SecretCipher(text) => self.ciphertext(x, text),
            BExpr::Join(delim, values) => {
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
                let v = self.new_value(x, Repr::String(Rc::from(parts.join(&sep))), string);
                self.combine(v, d);
                self.combine(v, l);
                v
            }
            BExpr::Split(delim, s) => {
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
                        let v = self.new_value(x, Repr::String(Rc::from(p)), string.clone());
                        self.values.get_mut(v).secret = secret;
                        v
                    })
                    .collect();
                let v = self.new_value(x, Repr::List(items), Schema::array_of(string));
                self.values.get_mut(v).secret = secret;
                v
            }
            BExpr::Concat(arg) => {
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
            BExpr::ToJson(arg) => {
                let a = self.eval(*arg, &Schema::Always);
                let (u, _) = self.values.deep_flags(a);
                if u {
                    return self.unknown_result(x, &[a]);
                }
                let exported = self.export(a);
                let text = go::json::encode(&to_json(&exported));
                if self.over_weight(x, text.len()) {
                    return self.too_large(x);
                }
                let v = self.new_value(x, Repr::String(Rc::from(text)), string);
                self.combine(v, a);
                v
            }
            BExpr::FromJson(arg) => {
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
            BExpr::ToString(arg) => {
                let a = self.eval(*arg, &Schema::Always);
                let room = self
                    .options
                    .max_value_weight
                    .saturating_sub(self.values.weight());
                let Some((text, unknown, secret)) = self.string_form(a, room) else {
                    return self.too_large(x);
                };
                if unknown {
                    return self.unknown_result(x, &[a]);
                }
                let v = self.new_value(x, Repr::String(Rc::from(text)), string);
                self.values.get_mut(v).secret = secret;
                v
            }
            BExpr::ToBase64(arg) | BExpr::FromBase64(arg) => {
                let (a, ok) = self.check(*arg, &string);
                let (u, _) = self.values.deep_flags(a);
                if !ok || u {
                    return self.unknown_result(x, &[a]);
                }
                let input = self.str_of(a);
                let text = if matches!(b, BExpr::ToBase64(_)) {
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
                let v = self.new_value(x, Repr::String(Rc::from(text)), string);
                self.combine(v, a);
                v
            }
            BExpr::Final(arg) => {
                let a = self.eval(*arg, &Schema::Always);
                let inner = self.val(a).clone();
                let v = self.new_value(x, inner.repr, inner.schema);
                let val = self.values.get_mut(v);
                val.is_final = true;
                val.unknown = inner.unknown;
                val.secret = inner.secret;
                // The key set is fixed before any base is merged in (the reference's Q7).
                let _ = self.values.keys(v);
                self.combine(v, a);
                v
            }
            BExpr::Validate { schema, value } => {
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
                let _ = self.values.keys(out);
                self.combine(out, v);
                out
            }
        }
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
                    Repr::String(Rc::from(go::strings::from_bytes_lossy(&plain))),
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

    /// Compiles a provider's schema, reporting failures with `what`.
    fn provider_schema(
        &mut self,
        x: ExprId,
        json: &serde_json::Value,
        what: &str,
    ) -> Option<Schema> {
        let compiled = Schema::from_json(json).and_then(|s| s.compile());
        match compiled {
            Ok(s) => Some(s),
            Err(e) => {
                self.error_at(
                    x,
                    Code::ProviderFailed,
                    format!("internal error: {what} ({e})"),
                );
                None
            }
        }
    }

    /// Records the schema a builtin's argument was checked against (for the typed output).
    fn set_arg_schema(&mut self, x: ExprId, inputs: Schema, state: Option<Schema>) {
        let Some(extra) = &mut self.exprs[x.0 as usize].extra else {
            return;
        };
        let super::Extra::Builtin(meta) = &mut **extra else {
            return;
        };
        let mut fields = Vec::new();
        if meta.long_form {
            fields.push(("provider".to_owned(), Schema::of_type("string")));
        }
        let short_open = !meta.long_form && state.is_none();
        if short_open {
            meta.arg_schema = inputs;
            return;
        }
        fields.push(("inputs".to_owned(), inputs));
        if let Some(state) = state {
            fields.push(("state".to_owned(), state));
        }
        meta.arg_schema = Schema::record(fields);
    }

    fn open(&mut self, x: ExprId, provider: Option<&str>, inputs: ExprId) -> ValueId {
        let Some(name) = provider else {
            return self.unknown(x, Schema::Always);
        };
        let host = self.host;
        let provider = match host.provider(name) {
            Ok(p) => p,
            Err(e) => {
                self.error_at(x, Code::ProviderFailed, e);
                self.set_arg_schema(x, Schema::Always, None);
                let _ = self.check(inputs, &Schema::Always);
                let schema = self.expr(x).schema.clone();
                return self.unknown(x, schema);
            }
        };
        let (input_json, output_json) = provider.schema();
        let input_schema = self
            .provider_schema(x, &input_json, "invalid input schema")
            .unwrap_or(Schema::Always);
        self.set_arg_schema(x, input_schema.clone(), None);
        if let Some(out) = self.provider_schema(x, &output_json, "invalid schema") {
            self.exprs[x.0 as usize].schema = out;
        }
        let (iv, ok) = self.check(inputs, &input_schema);
        let (unknown, _) = self.values.deep_flags(iv);
        if !ok || unknown || self.validating {
            let schema = self.expr(x).schema.clone();
            return self.unknown(x, schema);
        }
        let exported = self.export(iv);
        let context = self.envs[self.expr(x).env].context_value.clone();
        let opened = self
            .prefetched
            .take_open(name, &exported, &context)
            .unwrap_or_else(|| provider.open(&exported, &context));
        match opened {
            Ok(out) => self.opened(x, &out),
            Err(e) => {
                self.error_at(x, Code::ProviderFailed, e);
                let schema = self.expr(x).schema.clone();
                self.unknown(x, schema)
            }
        }
    }

    /// A provider's or rotator's output, as values defined by the call.
    fn opened(&mut self, x: ExprId, out: &Value) -> ValueId {
        let v = self.unexport(out, x);
        if out.secret {
            self.values.make_secret(v);
        }
        v
    }

    fn rotate(
        &mut self,
        x: ExprId,
        name: &str,
        provider: Option<&str>,
        inputs: ExprId,
        state: ExprId,
    ) -> ValueId {
        let Some(rotator_name) = provider else {
            return self.unknown(x, Schema::Always);
        };
        let env = self.expr(x).env;
        let doc_path = self.expr(x).doc_path.clone();
        let selected = self.rotating
            && self.envs[env].is_root
            && (self.rotate_paths.is_empty()
                || self
                    .rotate_paths
                    .iter()
                    .any(|p| canonical_rotate_path(p).as_deref() == Some(doc_path.as_str())));
        let host = self.host;
        let rotator = match host.rotator(rotator_name) {
            Ok(r) => r,
            Err(e) => {
                self.error_at(x, Code::ProviderFailed, e);
                let _ = self.check(inputs, &Schema::Always);
                let _ = self.check(state, &Schema::Always);
                if selected {
                    self.rotations.push(Rotation {
                        path: doc_path,
                        status: RotationStatus::NotEvaluated,
                    });
                }
                let schema = self.expr(x).schema.clone();
                return self.unknown(x, schema);
            }
        };
        let (in_json, state_json, out_json) = rotator.schema();
        let input_schema = self
            .provider_schema(x, &in_json, "invalid input schema")
            .unwrap_or(Schema::Always);
        let state_schema = self
            .provider_schema(x, &state_json, "invalid state schema")
            .map_or(Schema::Always, |s| {
                Schema::one_of(vec![s, Schema::of_type("null")])
            });
        if let Some(out) = self.provider_schema(x, &out_json, "invalid schema") {
            self.exprs[x.0 as usize].schema = out;
        }
        self.set_arg_schema(x, input_schema.clone(), Some(state_schema.clone()));
        let (iv, inputs_ok) = self.check(inputs, &input_schema);
        let (sv, state_ok) = self.check(state, &state_schema);
        let observable_unknown = self.observable_unknown(iv);
        let (state_unknown, _) = self.values.deep_flags(sv);
        if !inputs_ok || observable_unknown || !state_ok || state_unknown || self.validating {
            if selected {
                self.rotations.push(Rotation {
                    path: doc_path,
                    status: RotationStatus::NotEvaluated,
                });
            }
            let schema = self.expr(x).schema.clone();
            return self.unknown(x, schema);
        }
        let inputs_value = self.export(iv);
        let mut state_value = match self.val(sv).repr {
            Repr::Null => None,
            _ => Some(self.export(sv)),
        };
        let context = self.envs[env].context_value.clone();
        if selected {
            match rotator.rotate(&inputs_value, state_value.as_ref(), &context) {
                Ok(mut new_state) => {
                    if new_state.secret {
                        mark_secret(&mut new_state);
                    }
                    let mut state_path = path::join_key(&doc_path, name);
                    state_path.push_str(".state");
                    self.rotations.push(Rotation {
                        path: doc_path.clone(),
                        status: RotationStatus::Succeeded {
                            doc_path: state_path,
                            state: new_state.clone(),
                        },
                    });
                    state_value = Some(new_state);
                }
                Err(e) => {
                    self.rotations.push(Rotation {
                        path: doc_path,
                        status: RotationStatus::Failed(e.clone()),
                    });
                    self.error_at(x, Code::ProviderFailed, format!("rotate: {e}"));
                    let schema = self.expr(x).schema.clone();
                    return self.unknown(x, schema);
                }
            }
        }
        match rotator.open(&inputs_value, state_value.as_ref(), &context) {
            Ok(out) => self.opened(x, &out),
            Err(e) => {
                self.error_at(x, Code::ProviderFailed, e);
                let schema = self.expr(x).schema.clone();
                self.unknown(x, schema)
            }
        }
    }

    /// Whether a rotator's inputs hold an unknown that blocks opening: any unknown while
    /// rotating, otherwise one that is not a skipped rotate-only input.
    fn observable_unknown(&self, v: ValueId) -> bool {
        let mut stack = vec![v];
        while let Some(id) = stack.pop() {
            let val = self.val(id);
            if val.unknown && (self.rotating || !val.rotate_only) {
                return true;
            }
            match &val.repr {
                Repr::List(items) => stack.extend(items.iter().copied()),
                Repr::Map(m) => stack.extend(m.values().copied()),
                _ => {}
            }
        }
        false
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

fn mark_secret(v: &mut Value) {
    v.secret = true;
    match &mut v.kind {
        ValueKind::Array(items) => items.iter_mut().for_each(mark_secret),
        ValueKind::Object(m) => m.values_mut().for_each(mark_secret),
        _ => {}
    }
}

/// `values.` plus the document-path rendering of a property path, or `None` if the path
/// does not parse.
fn canonical_rotate_path(p: &str) -> Option<String> {
    let accessors = crate::ast::parse_property_path(p).ok()?;
    let mut out = String::from("values");
    for a in accessors {
        match a {
            AccessorKind::Name(k) | AccessorKind::Key(k) => path::push_key(&mut out, &k),
            AccessorKind::Index(i) => path::push_index(&mut out, usize::try_from(i).ok()?),
        }
    }
    Some(out)
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

// -------------------------------------------------------------------------------------
// The validator's view of values

#[derive(Clone)]
struct Subj<'a, 'h> {
    ev: &'a Evaluator<'h>,
    id: ValueId,
}

impl<'a, 'h> Subject for Subj<'a, 'h> {
    type Place = Loc<'a, 'h>;

    fn view(&self) -> View<Self> {
        let val = self.ev.val(self.id);
        if val.unknown {
            return View::Unknown(val.schema.clone());
        }
        let sub = |id| Subj { ev: self.ev, id };
        match &val.repr {
            Repr::Null => View::Null,
            Repr::Bool(b) => View::Bool(*b),
            Repr::Number(n) => View::Number(n.to_string()),
            Repr::String(s) => View::String(s.to_string()),
            Repr::List(items) => View::Array(items.iter().map(|&i| sub(i)).collect()),
            Repr::Map(_) => View::Object(
                self.ev
                    .effective_entries(self.id)
                    .into_iter()
                    .map(|(k, i)| (k.to_string(), sub(i)))
                    .collect(),
            ),
        }
    }

    fn place(&self) -> Loc<'a, 'h> {
        Loc {
            ev: self.ev,
            expr: self.ev.val(self.id).def,
            path: String::new(),
        }
    }
}

/// A place for schema-vs-schema problems: the expr reached, and the path below it. Steps
/// into declared object properties and list elements while they exist.
#[derive(Clone)]
struct Loc<'a, 'h> {
    ev: &'a Evaluator<'h>,
    expr: ExprId,
    path: String,
}

impl Place for Loc<'_, '_> {
    type At = ExprId;

    fn property(&self, key: &str) -> Self {
        if self.path.is_empty()
            && let EKind::Object(props) = &self.ev.expr(self.expr).kind
            && let Some(e) = props.get(key)
        {
            return Loc {
                ev: self.ev,
                expr: *e,
                path: String::new(),
            };
        }
        Loc {
            ev: self.ev,
            expr: self.expr,
            path: path::join_key(&self.path, key),
        }
    }

    fn index(&self, index: usize) -> Self {
        if self.path.is_empty()
            && let EKind::Array(items) = &self.ev.expr(self.expr).kind
            && let Some(e) = items.get(index)
        {
            return Loc {
                ev: self.ev,
                expr: *e,
                path: String::new(),
            };
        }
        Loc {
            ev: self.ev,
            expr: self.expr,
            path: path::join_index(&self.path, index),
        }
    }

    fn problem(&self, message: &str) -> Problem<ExprId> {
        Problem {
            at: self.expr,
            message: if self.path.is_empty() {
                message.to_owned()
            } else {
                format!("{}: {message}", self.path)
            },
        }
    }
}

impl Evaluator<'_> {
    /// The entries of a map value over its base chain (first layer wins), key-sorted.
    fn effective_entries(&self, id: ValueId) -> Vec<(Rc<str>, ValueId)> {
        let mut out: BTreeMap<Rc<str>, ValueId> = BTreeMap::new();
        let mut layer = Some(id);
        while let Some(l) = layer {
            let v = self.val(l);
            let Repr::Map(m) = &v.repr else { break };
            if v.unknown && l != id {
                break;
            }
            for (k, &p) in m {
                out.entry(k.clone()).or_insert(p);
            }
            layer = v.base;
        }
        out.into_iter().collect()
    }
}
