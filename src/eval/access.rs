//! References: `${...}` property accesses through declarations, values, unknowns,
//! `imports`, `context` and `environments`.

use std::fmt::Write as _;

use super::arena::{ExprId, Repr, ValueId};
use super::{BuiltinCall, Evaluator, ExprKind, PathId};
use crate::ast::{Accessor, AccessorKind, EnvironmentRef, NotAnEnvironment, environment_ref};
use crate::diag::{Code, Diagnostic};
use crate::go::strconv::quote;
use crate::schema::Schema;
use crate::suggest::nearest;

/// How an access went wrong: reported, and the rest of the reference is unknown.
struct Invalid;

/// What a value access finds at a receiver.
enum Step {
    List(usize),
    Map(Option<ValueId>),
    Scalar,
}

impl Evaluator<'_> {
    /// Resolves the property access `accs` written in `s`; the result is a copy whose
    /// definition is `s`.
    pub(super) fn resolve(
        &mut self,
        s: ExprId,
        part: usize,
        accs: &[Accessor],
        accept: &Schema,
    ) -> ValueId {
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

    fn resolve_traced(&mut self, s: ExprId, accs: &[Accessor], accept: &Schema) -> ValueId {
        let env = self.scope_of(s);
        let first = accs.first().and_then(|a| match &a.kind {
            AccessorKind::Name(n) | AccessorKind::Key(n) => Some(n.as_str()),
            AccessorKind::Index(_) => None,
        });
        let found = match first {
            Some("environments") if let Some(read) = environment_ref(accs) => {
                self.inline_environment(s, read)
            }
            Some("imports") => {
                let v = self.envs[env].imports;
                self.trace.push(Some(self.val(v).def));
                self.access(s, v, &accs[1..])
            }
            Some("context") => {
                self.share_context_read(&accs[1..]);
                let v = self.envs[env].context;
                self.trace.push(Some(self.val(v).def));
                let reported = self.diags.len();
                let found = self.access(s, v, &accs[1..]);
                if found.is_err() {
                    self.explain_unset_context(&accs[1..], reported);
                }
                found
            }
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
    fn walk(&mut self, s: ExprId, accs: &[Accessor], accept: &Schema) -> Result<ValueId, Invalid> {
        let env = self.scope_of(s);
        let mut recv = Some(self.envs[env].root);
        let mut i = 0;
        loop {
            let Some(r) = recv else {
                let d = self.located(
                    s,
                    Diagnostic::error(Code::InvalidAccess, "internal error: no receiver"),
                );
                self.diags.push(d);
                return Err(Invalid);
            };
            if i == accs.len() {
                return Ok(self.eval(r, &Schema::Always));
            }
            let acc = &accs[i];
            match self.expr(r).kind.clone() {
                ExprKind::Array(items) => {
                    let index = self.list_index(s, acc, items.len())?;
                    recv = Some(items[index]);
                    self.trace.push(recv);
                    i += 1;
                }
                ExprKind::Object(props) => {
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
                ExprKind::Builtin(b)
                    if matches!(
                        *b,
                        BuiltinCall::SecretPlain(_) | BuiltinCall::SecretCipher(_)
                    ) =>
                {
                    recv = match *b {
                        BuiltinCall::SecretPlain(arg) => Some(arg),
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

    fn list_index(&mut self, s: ExprId, acc: &Accessor, len: usize) -> Result<usize, Invalid> {
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

    fn unknown_property(&mut self, s: ExprId, acc: &Accessor, key: &str, suggestion: Option<&str>) {
        let mut message = format!("unknown property {}", quote(key));
        if let Some(c) = suggestion {
            let _ = write!(message, "; did you mean {}?", quote(c));
        }
        self.error_span(s, acc.span, Code::UnknownProperty, message);
    }

    /// After an unknown property below `context`: when ESC documents the path read, says
    /// that the caller did not set it, and how escc sets it.
    fn explain_unset_context(&mut self, accs: &[Accessor], reported: usize) {
        let names: Option<Vec<&str>> = accs
            .iter()
            .map(|a| match &a.kind {
                AccessorKind::Name(n) | AccessorKind::Key(n) => Some(n.as_str()),
                AccessorKind::Index(_) => None,
            })
            .collect();
        let Some(documented) = names.as_deref().and_then(super::context_property) else {
            return;
        };
        if documented.set_by_evaluator {
            return;
        }
        let path = documented.path.join(".");
        if let Some(d) = self.diags[reported..]
            .iter_mut()
            .find(|d| d.code == Code::UnknownProperty)
        {
            d.detail = format!(
                "context.{path} is documented by ESC ({}) but this evaluation's execution context does not set it: escc reads the context from [context] in escc.toml and from --context {path}=VALUE",
                documented.doc.trim_end_matches('.').to_lowercase()
            );
        }
    }

    /// Follows accessors through evaluated values.
    fn access(&mut self, s: ExprId, v: ValueId, accs: &[Accessor]) -> Result<ValueId, Invalid> {
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
    fn unknown_access(
        &mut self,
        s: ExprId,
        v: ValueId,
        accs: &[Accessor],
    ) -> Result<ValueId, Invalid> {
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
    fn inline_environment(
        &mut self,
        s: ExprId,
        read: Result<EnvironmentRef<'_>, NotAnEnvironment<'_>>,
    ) -> Result<ValueId, Invalid> {
        let read = match read {
            Ok(read) => read,
            Err(NotAnEnvironment::Incomplete) => return Err(Invalid),
            Err(NotAnEnvironment::Index(acc)) => {
                self.error_span(
                    s,
                    acc.span,
                    Code::InvalidAccess,
                    "cannot access an object property using an integer index",
                );
                return Err(Invalid);
            }
        };
        let name = read.name;
        let env = self.scope_of(s);
        let context = self.envs[env].context_value.clone();
        let root_name = self.envs[env].root_name.clone();
        let value = match self.import(&name, s, &context, &root_name) {
            Some(v) => v,
            None => {
                let def = self.synthetic(env, None, PathId::EMPTY);
                self.unknown(def, Schema::Always)
            }
        };
        self.current = env;
        let root_def = self.val(value).def;
        self.trace.extend([Some(s), Some(s), Some(root_def)]);
        self.access(s, value, read.rest)
    }
}
