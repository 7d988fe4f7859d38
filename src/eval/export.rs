//! The typed environment: the evaluator's exprs and values written in the reference's
//! JSON form (spec §11), for editors and API clients.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{Map, Value as Json, json};

use super::arena::{ExprId, Repr, ValueId, Values};
use super::{BuiltinCall, Env, Evaluator, ExprData, ExprKind, Extra};
use crate::ast::{Accessor, AccessorKind};
use crate::schema::Schema;
use crate::source::Span;

/// What is left of an evaluation for output.
pub(crate) struct Arena {
    pub(super) values: Values,
    pub(super) exprs: Vec<ExprData>,
    pub(super) envs: Vec<Env>,
    traces: HashMap<(ExprId, usize), Vec<Option<ExprId>>>,
    pub(super) root: ValueId,
    /// Exported values, first export wins (as in the reference, where it decides the
    /// environment name of zero ranges).
    cache: Mutex<HashMap<ValueId, Json>>,
}

impl std::fmt::Debug for Arena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arena").finish_non_exhaustive()
    }
}

impl Arena {
    pub(crate) fn new(ev: Evaluator<'_>, root: ValueId) -> Self {
        Arena {
            values: ev.values,
            exprs: ev.exprs,
            envs: ev.envs,
            traces: ev.traces,
            root,
            cache: Mutex::default(),
        }
    }

    /// The export cache. A lock rather than a `RefCell` so that an evaluation can be shared
    /// across threads; it is uncontended, and held only between two lookups.
    fn cache(&self) -> MutexGuard<'_, HashMap<ValueId, Json>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn expr(&self, e: ExprId) -> &ExprData {
        &self.exprs[e.0 as usize]
    }

    fn root_name(&self) -> &str {
        self.envs[0].source.name()
    }

    /// The typed environment.
    pub(crate) fn typed(&self) -> Json {
        self.cache().clear();
        let root_name = self.root_name().to_owned();
        let mut out = Map::new();
        let root_expr = self.envs[0].root;
        if let ExprKind::Object(props) = &self.expr(root_expr).kind {
            let exprs: Map<String, Json> = props
                .iter()
                .map(|(k, e)| (k.to_string(), self.export_expr(*e, &root_name)))
                .collect();
            if !exprs.is_empty() {
                out.insert("exprs".into(), Json::Object(sort(exprs)));
            }
        }
        let properties = self.entries(self.root, &root_name);
        if !properties.is_empty() {
            out.insert("properties".into(), Json::Object(properties));
        }
        // The reference merges the root's schema with its base's once more on output.
        let root = self.values.get(self.root);
        let schema = match root.base {
            Some(b) => Schema::merged(&self.values.get(b).schema, &root.schema),
            None => root.schema.clone(),
        };
        out.insert("schema".into(), schema.to_json());
        let ctx = self.envs[0].context;
        let mut context = Map::new();
        let ctx_props = self.entries(ctx, &root_name);
        if !ctx_props.is_empty() {
            context.insert("properties".into(), Json::Object(ctx_props));
        }
        context.insert("schema".into(), self.values.get(ctx).schema.to_json());
        out.insert("executionContext".into(), Json::Object(context));
        Json::Object(out)
    }

    // ---------------------------------------------------------------------------------
    // Ranges

    fn span_range(&self, env: usize, span: Span) -> Json {
        let source = &self.envs[env].source;
        let pos = |offset: usize| {
            let lc = source.line_col(offset);
            json!({"line": lc.line, "column": lc.column, "byte": offset})
        };
        json!({
            "environment": source.name(),
            "begin": pos(span.start()),
            "end": pos(span.end()),
        })
    }

    fn zero_range(environment: &str) -> Json {
        let zero = json!({"line": 0, "column": 0, "byte": 0});
        let mut m = Map::new();
        if !environment.is_empty() {
            m.insert("environment".into(), json!(environment));
        }
        m.insert("begin".into(), zero.clone());
        m.insert("end".into(), zero);
        Json::Object(m)
    }

    fn range(&self, e: ExprId, zero_env: &str) -> Json {
        let x = self.expr(e);
        match x.span {
            Some(span) => self.span_range(x.env, span),
            None => Self::zero_range(zero_env),
        }
    }

    // ---------------------------------------------------------------------------------
    // Values

    /// A map value's effective entries (own keys over the base chain; a cached key set
    /// decides which keys show).
    pub(super) fn effective(&self, v: ValueId) -> Vec<(String, ValueId)> {
        let mut out: BTreeMap<String, ValueId> = BTreeMap::new();
        let mut layer = Some(v);
        while let Some(l) = layer {
            let val = self.values.get(l);
            let Repr::Map(m) = &val.repr else { break };
            if val.unknown && l != v {
                break;
            }
            for (k, &p) in m {
                out.entry(k.to_string()).or_insert(p);
            }
            layer = val.base;
        }
        if let Some(keys) = &self.values.get(v).keys {
            out.retain(|k, _| keys.iter().any(|c| &**c == k));
        }
        out.into_iter().collect()
    }

    fn entries(&self, v: ValueId, zero_env: &str) -> Map<String, Json> {
        self.effective(v)
            .into_iter()
            .map(|(k, p)| (k, self.export_value(p, zero_env)))
            .collect()
    }

    fn export_value(&self, v: ValueId, zero_env: &str) -> Json {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || {
            self.export_value_inner(v, zero_env)
        })
    }

    fn export_value_inner(&self, v: ValueId, zero_env: &str) -> Json {
        if let Some(j) = self.cache().get(&v) {
            return j.clone();
        }
        let val = self.values.get(v);
        let mut out = Map::new();
        let value = match &val.repr {
            Repr::Null => None,
            Repr::Bool(b) => Some(json!(b)),
            Repr::Number(n) => Some(super::value::number_json(n)),
            Repr::String(s) => Some(json!(s.as_ref())),
            Repr::List(items) => Some(Json::Array(
                items
                    .iter()
                    .map(|&i| self.export_value(i, zero_env))
                    .collect(),
            )),
            Repr::Map(_) => Some(Json::Object(self.entries(v, zero_env))),
        };
        if let Some(value) = value
            && (!val.unknown || matches!(val.repr, Repr::String(_)))
        {
            out.insert("value".into(), value);
        }
        if val.secret {
            out.insert("secret".into(), json!(true));
        }
        if val.unknown {
            out.insert("unknown".into(), json!(true));
        }
        let mut trace = Map::new();
        trace.insert("def".into(), self.range(val.def, zero_env));
        if let Some(base) = val.base {
            trace.insert("base".into(), self.export_value(base, "<import>"));
        }
        out.insert("trace".into(), Json::Object(trace));
        let j = Json::Object(out);
        self.cache().insert(v, j.clone());
        j
    }

    /// A host value (a rotated state) with the traces its parts carry.
    pub(crate) fn plain_value(&self, v: &super::Value) -> Json {
        let mut out = Map::new();
        let value = match &v.kind {
            super::ValueKind::Null => None,
            super::ValueKind::Bool(b) => Some(json!(b)),
            super::ValueKind::Number(n) => Some(super::value::number_json(n)),
            super::ValueKind::String(s) => Some(json!(s)),
            super::ValueKind::Array(items) => Some(Json::Array(
                items.iter().map(|i| self.plain_value(i)).collect(),
            )),
            super::ValueKind::Object(m) => Some(Json::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), self.plain_value(x)))
                    .collect(),
            )),
        };
        if let Some(value) = value
            && !v.unknown
        {
            out.insert("value".into(), value);
        }
        if v.secret {
            out.insert("secret".into(), json!(true));
        }
        if v.unknown {
            out.insert("unknown".into(), json!(true));
        }
        let def = v
            .origin
            .map_or_else(|| Self::zero_range(""), |o| self.span_range(o.env, o.span));
        out.insert("trace".into(), json!({ "def": def }));
        Json::Object(out)
    }

    // ---------------------------------------------------------------------------------
    // Exprs

    fn export_expr(&self, e: ExprId, zero_env: &str) -> Json {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || {
            self.export_expr_inner(e, zero_env)
        })
    }

    fn export_expr_inner(&self, e: ExprId, zero_env: &str) -> Json {
        let x = self.expr(e);
        if let ExprKind::Access { .. } = x.kind {
            return self.export_access(e, zero_env);
        }
        let mut out = Map::new();
        out.insert("range".into(), self.range(e, zero_env));
        out.insert("schema".into(), x.schema.to_json());
        if let Some(base) = x.base {
            let def = self.values.get(base).def;
            out.insert("base".into(), self.export_expr(def, zero_env));
        }
        match &x.kind {
            ExprKind::Missing | ExprKind::Literal(Repr::Null) | ExprKind::Access { .. } => {}
            ExprKind::Literal(r) => {
                let lit = match r {
                    Repr::Bool(b) => json!(b),
                    Repr::Number(n) => super::value::number_json(n),
                    Repr::String(s) => json!(s.as_ref()),
                    _ => Json::Null,
                };
                out.insert("literal".into(), lit);
            }
            ExprKind::Interpolate(parts) => {
                let parts: Vec<Json> = parts
                    .iter()
                    .enumerate()
                    .map(|(i, (text, accs))| {
                        let mut p = Map::new();
                        if !text.is_empty() {
                            p.insert("text".into(), json!(text));
                        }
                        if let Some(accs) = accs {
                            p.insert("value".into(), self.accessors(e, i, accs, zero_env));
                        }
                        Json::Object(p)
                    })
                    .collect();
                out.insert("interpolate".into(), Json::Array(parts));
            }
            ExprKind::Symbol(accs) => {
                out.insert("symbol".into(), self.accessors(e, 0, accs, zero_env));
            }
            ExprKind::Array(items) => {
                if !items.is_empty() {
                    let list = items
                        .iter()
                        .map(|&i| self.export_expr(i, zero_env))
                        .collect();
                    out.insert("list".into(), Json::Array(list));
                }
            }
            ExprKind::Object(props) => {
                if let Some(extra) = &x.extra
                    && let Extra::Object(ranges) = &**extra
                    && !ranges.is_empty()
                {
                    let kr: Map<String, Json> = ranges
                        .iter()
                        .map(|(k, s)| (k.to_string(), self.span_range(x.env, *s)))
                        .collect();
                    out.insert("keyRanges".into(), Json::Object(kr));
                }
                if !props.is_empty() {
                    let obj: Map<String, Json> = props
                        .iter()
                        .map(|(k, p)| (k.to_string(), self.export_expr(*p, zero_env)))
                        .collect();
                    out.insert("object".into(), Json::Object(obj));
                }
            }
            ExprKind::Builtin(b) => {
                if let Some(extra) = &x.extra
                    && let Extra::Builtin(meta) = &**extra
                {
                    let arg = self.builtin_arg(x.env, b, meta, zero_env);
                    out.insert(
                        "builtin".into(),
                        json!({
                            "name": meta.name,
                            "nameRange": self.span_range(x.env, meta.name_span),
                            "argSchema": Self::arg_schema(b, meta).to_json(),
                            "arg": arg,
                        }),
                    );
                }
            }
        }
        Json::Object(out)
    }

    /// A late-bound access, flattened to its innermost receiver.
    fn export_access(&self, e: ExprId, zero_env: &str) -> Json {
        let mut chain = Vec::new();
        let mut cur = e;
        let receiver = loop {
            let x = self.expr(cur);
            let ExprKind::Access { receiver, key } = &x.kind else {
                break None;
            };
            chain.push((key.clone(), cur));
            let def = self.values.get(*receiver).def;
            if matches!(self.expr(def).kind, ExprKind::Access { .. }) {
                cur = def;
            } else {
                break Some(def);
            }
        };
        chain.reverse();
        let innermost = chain.first().map_or(e, |c| c.1);
        let accessors: Vec<Json> = chain
            .iter()
            .map(|(k, _)| json!({"key": k.as_ref(), "range": Self::zero_range(zero_env)}))
            .collect();
        json!({
            "range": self.range(innermost, zero_env),
            "schema": self.expr(innermost).schema.to_json(),
            "access": {
                "receiver": receiver.map_or_else(|| Self::zero_range(zero_env), |r| self.range(r, zero_env)),
                "accessors": accessors,
            },
        })
    }

    /// The def that accessor `i` of part `part` of reference expr `e` resolved to.
    pub(super) fn accessor_trace(&self, e: ExprId, part: usize, i: usize) -> Option<ExprId> {
        self.traces.get(&(e, part))?.get(i).copied().flatten()
    }

    fn accessors(&self, e: ExprId, part: usize, accs: &[Accessor], zero_env: &str) -> Json {
        let x = self.expr(e);
        let list = accs
            .iter()
            .enumerate()
            .map(|(i, acc)| {
                let mut a = Map::new();
                match &acc.kind {
                    AccessorKind::Index(n) => a.insert("index".into(), json!(n)),
                    AccessorKind::Name(k) | AccessorKind::Key(k) => {
                        a.insert("key".into(), json!(k))
                    }
                };
                a.insert("range".into(), self.span_range(x.env, acc.span));
                let value = self
                    .accessor_trace(e, part, i)
                    .map_or_else(|| Self::zero_range(""), |d| self.range(d, zero_env));
                a.insert("value".into(), value);
                Json::Object(a)
            })
            .collect();
        Json::Array(list)
    }

    fn arg_schema(b: &BuiltinCall, meta: &super::BuiltinMeta) -> Schema {
        let string = Schema::of_type("string");
        match b {
            BuiltinCall::Open { .. } | BuiltinCall::Rotate { .. } => meta.arg_schema.clone(),
            BuiltinCall::Join(..) => Schema::tuple(vec![string.clone(), Schema::array_of(string)]),
            BuiltinCall::Split(..) => Schema::tuple(vec![string.clone(), string]),
            BuiltinCall::Concat(_) => Schema::array_of(Schema::array_of(Schema::Always)),
            BuiltinCall::ToBase64(_) | BuiltinCall::FromBase64(_) => string,
            BuiltinCall::Validate { .. } => Schema::record([
                ("schema".to_owned(), Schema::meta()),
                ("value".to_owned(), Schema::Always),
            ]),
            _ => Schema::Always,
        }
    }

    fn builtin_arg(
        &self,
        env: usize,
        b: &BuiltinCall,
        meta: &super::BuiltinMeta,
        zero_env: &str,
    ) -> Json {
        let wrapper = |range: Json, key: &str, body: Json| {
            let mut m = Map::new();
            m.insert("range".into(), range);
            m.insert(key.into(), body);
            Json::Object(m)
        };
        let arg_range = self.span_range(env, meta.arg_span);
        let ex = |e: ExprId| self.export_expr(e, zero_env);
        let missing = || json!({"range": Self::zero_range(zero_env), "schema": true});
        match b {
            BuiltinCall::Open { inputs, .. } => {
                if meta.long_form {
                    let provider = meta.provider.map_or_else(missing, ex);
                    wrapper(
                        Self::zero_range(""),
                        "object",
                        json!({"provider": provider, "inputs": ex(*inputs)}),
                    )
                } else {
                    ex(*inputs)
                }
            }
            BuiltinCall::Rotate { inputs, state, .. } => {
                let mut obj = Map::new();
                if meta.long_form {
                    obj.insert("provider".into(), meta.provider.map_or_else(missing, ex));
                }
                obj.insert("inputs".into(), ex(*inputs));
                obj.insert("state".into(), ex(*state));
                wrapper(Self::zero_range(""), "object", Json::Object(obj))
            }
            BuiltinCall::Join(a, c) | BuiltinCall::Split(a, c) => {
                wrapper(arg_range, "list", Json::Array(vec![ex(*a), ex(*c)]))
            }
            BuiltinCall::SecretCipher(_) => {
                let c = meta.ciphertext.map_or_else(missing, ex);
                wrapper(arg_range, "object", json!({"ciphertext": c}))
            }
            BuiltinCall::Validate { schema, value } => wrapper(
                arg_range,
                "object",
                json!({"schema": ex(*schema), "value": ex(*value)}),
            ),
            BuiltinCall::Concat(a)
            | BuiltinCall::SecretPlain(a)
            | BuiltinCall::ToJson(a)
            | BuiltinCall::FromJson(a)
            | BuiltinCall::ToString(a)
            | BuiltinCall::ToBase64(a)
            | BuiltinCall::FromBase64(a)
            | BuiltinCall::Final(a)
            | BuiltinCall::Template { body: a, .. }
            | BuiltinCall::Eval { arg: a, .. } => ex(*a),
        }
    }
}

fn sort(m: Map<String, Json>) -> Map<String, Json> {
    let mut entries: Vec<(String, Json)> = m.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.into_iter().collect()
}
