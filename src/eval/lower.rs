//! Lowering a declaration into the evaluator's exprs: one expr per AST expression, each
//! with its declared schema and the base (the imported value) it overrides.

use std::sync::Arc;

use indexmap::IndexMap;

use super::arena::{ExprId, Repr, ValueId};
use super::value;
use super::{
    BuiltinCall, BuiltinMeta, Evaluator, ExprData, ExprKind, Extra, PathId, PathStep, State,
};
use crate::ast::{self, ArgPart, Call, EnvironmentDecl, SecretArg};
use crate::diag::Code;
use crate::go::strconv::quote;
use crate::schema::Schema;
use crate::source::Span;

impl Evaluator<'_> {
    pub(super) fn declare_root(
        &mut self,
        env: usize,
        decl: &EnvironmentDecl,
        base: Option<ValueId>,
    ) -> ExprId {
        // About one expr and one path per expression: reserved at once, a large document's
        // tables are not grown by doubling (which left half of them unused).
        let expressions = decl.exprs().count() + 1;
        self.exprs.reserve(expressions);
        self.paths.reserve(expressions);
        let root_path = self.path(PathId::EMPTY, PathStep::Root(env_index(env)));
        let root = self.add_expr(ExprData {
            env,
            path: root_path,
            span: None,
            kind: ExprKind::Object(Arc::default()),
            base,
            schema: Schema::object_of(Schema::Always),
            state: State::Declared,
            secret: false,
            extra: None,
            instance: None,
        });
        let mut props: IndexMap<Arc<str>, ExprId> =
            IndexMap::with_capacity(decl.values.as_ref().map_or(0, Vec::len));
        for entry in decl.values.iter().flatten() {
            let key = entry.key.value.as_str();
            if matches!(key, "imports" | "context" | "environments") {
                let key_path = self.path(root_path, PathStep::DocKey(Arc::from(key)));
                let key_expr = self.synthetic(env, Some(entry.key.span), key_path);
                self.error_at(
                    key_expr,
                    Code::ReservedKey,
                    format!("{} is a reserved key", quote(key)),
                );
                continue;
            }
            // One lookup per key (a large document's index does not stay in the cache).
            let shared_key: Arc<str> = Arc::from(key);
            let indexmap::map::Entry::Vacant(slot) = props.entry(shared_key.clone()) else {
                let key_path = self.path(root_path, PathStep::DocKey(shared_key));
                let key_expr = self.synthetic(env, Some(entry.key.span), key_path);
                self.error_at(
                    key_expr,
                    Code::DuplicateKey,
                    format!("duplicate key {}", quote(key)),
                );
                continue;
            };
            let prop_base = base.and_then(|b| self.property(b, key, Some(entry.key.span)));
            let path = self.path(root_path, PathStep::Top(shared_key));
            let e = self.declare(env, &entry.value, path, prop_base);
            slot.insert(e);
        }
        self.exprs[root.0 as usize].kind = ExprKind::Object(Arc::new(props));
        root
    }

    pub(super) fn declare(
        &mut self,
        env: usize,
        x: &ast::Expr,
        path: PathId,
        base: Option<ValueId>,
    ) -> ExprId {
        let mut extra = None;
        let (kind, schema) = match &x.kind {
            ast::ExprKind::Null => (ExprKind::Literal(Repr::Null), Schema::of_type("null")),
            ast::ExprKind::Bool(b) => (
                ExprKind::Literal(Repr::Bool(*b)),
                Schema::literal(&serde_json::Value::Bool(*b)),
            ),
            ast::ExprKind::Number(n) => (
                ExprKind::Literal(Repr::Number(Arc::from(&**n))),
                Schema::literal(&value::number_json(n)),
            ),
            ast::ExprKind::String(s) => {
                let text: Arc<str> = Arc::from(&**s);
                (
                    ExprKind::Literal(Repr::String(text.clone())),
                    Schema::literal_string(text),
                )
            }
            ast::ExprKind::Interpolate(parts) => (
                ExprKind::Interpolate(
                    parts
                        .iter()
                        .map(|p| {
                            (
                                p.text.clone(),
                                p.access.as_ref().map(|a| a.accessors.clone()),
                            )
                        })
                        .collect(),
                ),
                Schema::of_type("string"),
            ),
            ast::ExprKind::Symbol(a) => {
                (ExprKind::Symbol(a.accessors.clone().into()), Schema::Always)
            }
            ast::ExprKind::List(items) => {
                let ids: Vec<ExprId> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let index = u32::try_from(i).unwrap_or(u32::MAX);
                        let item_path = self.path(path, PathStep::Index(index));
                        self.declare(env, item, item_path, None)
                    })
                    .collect();
                (
                    ExprKind::Array(Arc::from(ids)),
                    Schema::array_of(Schema::Always),
                )
            }
            ast::ExprKind::Object(entries) => {
                let mut props: IndexMap<Arc<str>, ExprId> = IndexMap::new();
                let mut key_ranges: IndexMap<Arc<str>, Span> = IndexMap::new();
                for entry in entries {
                    let Some(key) = entry.key.as_deref() else {
                        continue;
                    };
                    let shared_key: Arc<str> = Arc::from(key);
                    key_ranges.insert(shared_key.clone(), entry.key_span);
                    if props.contains_key(key) {
                        let key_path = self.path(path, PathStep::DocKey(shared_key.clone()));
                        let key_expr = self.synthetic(env, Some(entry.key_span), key_path);
                        self.error_at(
                            key_expr,
                            Code::DuplicateKey,
                            format!("duplicate key {}", quote(key)),
                        );
                        continue;
                    }
                    let prop_base = base.and_then(|b| self.property(b, key, Some(entry.key_span)));
                    let entry_path = self.path(path, PathStep::Key(shared_key.clone()));
                    let e = self.declare(env, &entry.value, entry_path, prop_base);
                    props.insert(shared_key, e);
                }
                extra = Some(Box::new(Extra::Object(key_ranges.into_iter().collect())));
                (
                    ExprKind::Object(Arc::new(props)),
                    Schema::object_of(Schema::Always),
                )
            }
            ast::ExprKind::Builtin(b) => {
                return self.declare_builtin(env, x, b, path, base);
            }
        };
        self.add_expr(ExprData {
            env,
            path,
            span: Some(x.span),
            kind,
            base,
            schema,
            state: State::Declared,
            secret: false,
            extra,
            instance: None,
        })
    }

    fn declare_builtin(
        &mut self,
        env: usize,
        x: &ast::Expr,
        b: &ast::Builtin,
        path: PathId,
        base: Option<ValueId>,
    ) -> ExprId {
        let arg_path = self.path(path, PathStep::DocKey(Arc::from(b.name.as_str())));
        let operand = |this: &mut Self, part: Option<ArgPart>, name: &'static str| -> ExprId {
            match part.and_then(|p| b.operand(p)) {
                Some(e) => {
                    let p = match part {
                        Some(ArgPart::Entry(_)) => this.path(arg_path, PathStep::DocName(name)),
                        _ => arg_path,
                    };
                    this.declare(env, e, p, None)
                }
                None => this.synthetic(env, None, arg_path),
            }
        };
        let pair = |this: &mut Self| -> (ExprId, ExprId) {
            match b.pair() {
                Some((l, r)) => {
                    let left = this.path(arg_path, PathStep::DocIndex(0));
                    let l = this.declare(env, l, left, None);
                    let right = this.path(arg_path, PathStep::DocIndex(1));
                    (l, this.declare(env, r, right, None))
                }
                None => (
                    this.synthetic(env, None, arg_path),
                    this.synthetic(env, None, arg_path),
                ),
            }
        };
        let whole = |this: &mut Self| this.declare(env, &b.arg, arg_path, None);
        let (kind, schema) = match &b.call {
            Call::Open { provider, inputs } => (
                BuiltinCall::Open {
                    provider: provider.as_ref().map(|p| p.value.clone()),
                    inputs: operand(self, *inputs, "inputs"),
                },
                Schema::Always,
            ),
            Call::Rotate {
                provider,
                inputs,
                state,
            } => {
                let inputs = operand(self, *inputs, "inputs");
                let state = match state.and_then(|p| b.operand(p)) {
                    Some(e) => {
                        let state_path = self.path(arg_path, PathStep::DocName("state"));
                        self.declare(env, e, state_path, None)
                    }
                    None => {
                        let s = self.synthetic(env, None, arg_path);
                        self.exprs[s.0 as usize].kind = ExprKind::Literal(Repr::Null);
                        self.exprs[s.0 as usize].schema = Schema::of_type("null");
                        s
                    }
                };
                (
                    BuiltinCall::Rotate {
                        name: b.name.clone(),
                        provider: provider.as_ref().map(|p| p.value.clone()),
                        inputs,
                        state,
                    },
                    Schema::Always,
                )
            }
            Call::Join { .. } => {
                let (l, r) = pair(self);
                (BuiltinCall::Join(l, r), Schema::of_type("string"))
            }
            Call::Split { .. } => {
                let (l, r) = pair(self);
                (
                    BuiltinCall::Split(l, r),
                    Schema::array_of(Schema::of_type("string")),
                )
            }
            Call::Concat { .. } => (
                BuiltinCall::Concat(whole(self)),
                Schema::array_of(Schema::Always),
            ),
            Call::Secret(SecretArg::Plaintext(_)) => {
                let arg = whole(self);
                self.exprs[arg.0 as usize].secret = true;
                (BuiltinCall::SecretPlain(arg), Schema::of_type("string"))
            }
            Call::Secret(SecretArg::Ciphertext(c)) => (
                BuiltinCall::SecretCipher(c.value.clone()),
                Schema::of_type("string"),
            ),
            Call::Secret(SecretArg::Invalid) => {
                let arg = self.synthetic(env, None, arg_path);
                self.exprs[arg.0 as usize].kind = ExprKind::Literal(Repr::String(Arc::from("")));
                self.exprs[arg.0 as usize].schema =
                    Schema::literal(&serde_json::Value::String(String::new()));
                self.exprs[arg.0 as usize].secret = true;
                (BuiltinCall::SecretPlain(arg), Schema::of_type("string"))
            }
            Call::ToJson => (BuiltinCall::ToJson(whole(self)), Schema::of_type("string")),
            Call::FromJson => (BuiltinCall::FromJson(whole(self)), Schema::Always),
            Call::ToString => (
                BuiltinCall::ToString(whole(self)),
                Schema::of_type("string"),
            ),
            Call::ToBase64 => (
                BuiltinCall::ToBase64(whole(self)),
                Schema::of_type("string"),
            ),
            Call::FromBase64 => (
                BuiltinCall::FromBase64(whole(self)),
                Schema::of_type("string"),
            ),
            Call::Final => (BuiltinCall::Final(whole(self)), Schema::Always),
            // A template's value is unknown where it is written (its type is `false`, as the
            // reference has it): only `fn::eval` gives it one.
            Call::Template => (
                BuiltinCall::Template {
                    body: whole(self),
                    ast: Arc::new(b.arg.clone()),
                },
                Schema::Never,
            ),
            Call::Eval { valid } => (
                BuiltinCall::Eval {
                    arg: whole(self),
                    valid: *valid,
                },
                Schema::Always,
            ),
            Call::Validate { schema, value } => (
                BuiltinCall::Validate {
                    schema: operand(self, *schema, "schema"),
                    value: operand(self, *value, "value"),
                },
                Schema::Always,
            ),
        };
        let literal = |this: &mut Self, lit: &ast::StringLit| {
            let e = this.synthetic(env, Some(lit.span), arg_path);
            let data = &mut this.exprs[e.0 as usize];
            data.kind = ExprKind::Literal(Repr::String(Arc::from(lit.value.as_str())));
            data.schema = Schema::literal(&serde_json::Value::String(lit.value.clone()));
            e
        };
        let long_form = matches!(b.name.as_str(), "fn::open" | "fn::rotate");
        let provider = match &b.call {
            Call::Open {
                provider: Some(p), ..
            }
            | Call::Rotate {
                provider: Some(p), ..
            } if long_form => Some(literal(self, p)),
            _ => None,
        };
        let ciphertext = match &b.call {
            Call::Secret(SecretArg::Ciphertext(c)) => Some(literal(self, c)),
            _ => None,
        };
        let meta = BuiltinMeta {
            name: b.name.clone(),
            name_span: b.name_span,
            arg_span: b.arg.span,
            long_form,
            provider,
            ciphertext,
            arg_schema: match (b.name.as_str(), &b.call) {
                ("fn::open", _) => Schema::record([
                    ("provider".to_owned(), Schema::of_type("string")),
                    ("inputs".to_owned(), Schema::Always),
                ]),
                ("fn::rotate", _) => Schema::record([
                    ("provider".to_owned(), Schema::of_type("string")),
                    ("inputs".to_owned(), Schema::Always),
                    ("state".to_owned(), Schema::Always),
                ]),
                (_, Call::Rotate { .. }) => Schema::record([
                    ("inputs".to_owned(), Schema::Always),
                    ("state".to_owned(), Schema::Always),
                ]),
                _ => Schema::Always,
            },
        };
        self.add_expr(ExprData {
            env,
            path,
            span: Some(x.span),
            kind: ExprKind::Builtin(Arc::new(kind)),
            base,
            schema,
            state: State::Declared,
            secret: false,
            extra: Some(Box::new(Extra::Builtin(meta))),
            instance: None,
        })
    }
}

/// An environment's index as a path step holds it.
fn env_index(env: usize) -> u32 {
    u32::try_from(env).unwrap_or(u32::MAX)
}
