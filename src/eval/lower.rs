//! Lowering a declaration into the evaluator's exprs: one expr per AST expression, each
//! with its declared schema and the base (the imported value) it overrides.

use std::rc::Rc;

use indexmap::IndexMap;

use super::host;
use super::schema::Schema;
use super::value::{ExprId, Repr, ValueId};
use super::{Acc, BExpr, BuiltinMeta, EKind, Evaluator, ExprData, Extra, State};
use crate::ast::{self, ArgPart, Call, EnvironmentDecl, ExprKind, SecretArg};
use crate::diag::Code;
use crate::path;
use crate::source::Span;
use crate::text::go_quote;

fn accessors(a: &ast::PropertyAccess) -> Vec<Acc> {
    a.accessors
        .iter()
        .map(|x| Acc {
            kind: x.kind.clone(),
            span: x.span,
        })
        .collect()
}

impl Evaluator<'_> {
    pub(super) fn declare_root(
        &mut self,
        env: usize,
        decl: &EnvironmentDecl,
        base: Option<ValueId>,
    ) -> ExprId {
        let root = self.add_expr(ExprData {
            env,
            path: format!("<{}>", self.envs[env].source.name()),
            doc_path: "values".to_owned(),
            span: None,
            kind: EKind::Object(Rc::default()),
            base,
            schema: Schema::object_of(Schema::Always),
            state: State::Declared,
            secret: false,
            extra: None,
        });
        let mut props: IndexMap<Rc<str>, ExprId> = IndexMap::new();
        for entry in decl.values.iter().flatten() {
            let key = entry.key.value.as_str();
            let doc_path = path::join_key("values", key);
            if matches!(key, "imports" | "context" | "environments") {
                let key_expr = self.synthetic(env, Some(entry.key.span), &doc_path);
                self.error_at(
                    key_expr,
                    Code::ReservedKey,
                    format!("{} is a reserved key", go_quote(key)),
                );
                continue;
            }
            if props.contains_key(key) {
                let key_expr = self.synthetic(env, Some(entry.key.span), &doc_path);
                self.error_at(
                    key_expr,
                    Code::DuplicateKey,
                    format!("duplicate key {}", go_quote(key)),
                );
                continue;
            }
            let prop_base = base.and_then(|b| self.property(b, key, Some(entry.key.span)));
            let e = self.declare(env, &entry.value, key.to_owned(), doc_path, prop_base);
            props.insert(Rc::from(key), e);
        }
        self.exprs[root.0 as usize].kind = EKind::Object(Rc::new(props));
        root
    }

    fn declare(
        &mut self,
        env: usize,
        x: &ast::Expr,
        path: String,
        doc_path: String,
        base: Option<ValueId>,
    ) -> ExprId {
        let mut extra = None;
        let (kind, schema) = match &x.kind {
            ExprKind::Null => (EKind::Literal(Repr::Null), Schema::of_type("null")),
            ExprKind::Bool(b) => (
                EKind::Literal(Repr::Bool(*b)),
                Schema::literal(&serde_json::Value::Bool(*b)),
            ),
            ExprKind::Number(n) => (
                EKind::Literal(Repr::Number(Rc::from(&**n))),
                Schema::literal(&host::number_json(n)),
            ),
            ExprKind::String(s) => {
                let text: Rc<str> = Rc::from(&**s);
                (
                    EKind::Literal(Repr::String(text.clone())),
                    Schema::literal_string(text),
                )
            }
            ExprKind::Interpolate(parts) => (
                EKind::Interpolate(
                    parts
                        .iter()
                        .map(|p| (p.text.clone(), p.access.as_ref().map(accessors)))
                        .collect(),
                ),
                Schema::of_type("string"),
            ),
            ExprKind::Symbol(a) => (EKind::Symbol(accessors(a).into()), Schema::Always),
            ExprKind::List(items) => {
                let ids: Vec<ExprId> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        self.declare(
                            env,
                            item,
                            path::join_index(&path, i),
                            path::join_index(&doc_path, i),
                            None,
                        )
                    })
                    .collect();
                (
                    EKind::Array(Rc::from(ids)),
                    Schema::array_of(Schema::Always),
                )
            }
            ExprKind::Object(entries) => {
                let mut props: IndexMap<Rc<str>, ExprId> = IndexMap::new();
                let mut key_ranges: IndexMap<Rc<str>, Span> = IndexMap::new();
                for entry in entries {
                    let Some(key) = entry.key.as_deref() else {
                        continue;
                    };
                    let shared_key: Rc<str> = Rc::from(key);
                    key_ranges.insert(shared_key.clone(), entry.key_span);
                    let key_doc_path = path::join_key(&doc_path, key);
                    if props.contains_key(key) {
                        let key_expr = self.synthetic(env, Some(entry.key_span), &key_doc_path);
                        self.error_at(
                            key_expr,
                            Code::DuplicateKey,
                            format!("duplicate key {}", go_quote(key)),
                        );
                        continue;
                    }
                    let prop_base = base.and_then(|b| self.property(b, key, Some(entry.key_span)));
                    let e = self.declare(
                        env,
                        &entry.value,
                        path::join_key(&path, key),
                        key_doc_path,
                        prop_base,
                    );
                    props.insert(shared_key, e);
                }
                extra = Some(Box::new(Extra::Object(key_ranges.into_iter().collect())));
                (
                    EKind::Object(Rc::new(props)),
                    Schema::object_of(Schema::Always),
                )
            }
            ExprKind::Builtin(b) => return self.declare_builtin(env, x, b, path, doc_path, base),
        };
        self.add_expr(ExprData {
            env,
            path,
            doc_path,
            span: Some(x.span),
            kind,
            base,
            schema,
            state: State::Declared,
            secret: false,
            extra,
        })
    }

    fn declare_builtin(
        &mut self,
        env: usize,
        x: &ast::Expr,
        b: &ast::Builtin,
        path: String,
        doc_path: String,
        base: Option<ValueId>,
    ) -> ExprId {
        let arg_path = path::join_key(&doc_path, &b.name);
        let operand = |this: &mut Self, part: Option<ArgPart>, name: &str| -> ExprId {
            match part.and_then(|p| b.operand(p)) {
                Some(e) => {
                    let p = match part {
                        Some(ArgPart::Entry(_)) => path::join_key(&arg_path, name),
                        _ => arg_path.clone(),
                    };
                    this.declare(env, e, String::new(), p, None)
                }
                None => this.synthetic(env, None, &arg_path),
            }
        };
        let pair = |this: &mut Self| -> (ExprId, ExprId) {
            match b.pair() {
                Some((l, r)) => (
                    this.declare(env, l, String::new(), path::join_index(&arg_path, 0), None),
                    this.declare(env, r, String::new(), path::join_index(&arg_path, 1), None),
                ),
                None => (
                    this.synthetic(env, None, &arg_path),
                    this.synthetic(env, None, &arg_path),
                ),
            }
        };
        let whole =
            |this: &mut Self| this.declare(env, &b.arg, String::new(), arg_path.clone(), None);
        let (kind, schema) = match &b.call {
            Call::Open { provider, inputs } => (
                BExpr::Open {
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
                    Some(e) => self.declare(
                        env,
                        e,
                        String::new(),
                        path::join_key(&arg_path, "state"),
                        None,
                    ),
                    None => {
                        let s = self.synthetic(env, None, &arg_path);
                        self.exprs[s.0 as usize].kind = EKind::Literal(Repr::Null);
                        self.exprs[s.0 as usize].schema = Schema::of_type("null");
                        s
                    }
                };
                (
                    BExpr::Rotate {
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
                (BExpr::Join(l, r), Schema::of_type("string"))
            }
            Call::Split { .. } => {
                let (l, r) = pair(self);
                (
                    BExpr::Split(l, r),
                    Schema::array_of(Schema::of_type("string")),
                )
            }
            Call::Concat { .. } => (BExpr::Concat(whole(self)), Schema::array_of(Schema::Always)),
            Call::Secret(SecretArg::Plaintext(_)) => {
                let arg = whole(self);
                self.exprs[arg.0 as usize].secret = true;
                (BExpr::SecretPlain(arg), Schema::of_type("string"))
            }
            Call::Secret(SecretArg::Ciphertext(c)) => (
                BExpr::SecretCipher(c.value.clone()),
                Schema::of_type("string"),
            ),
            Call::Secret(SecretArg::Invalid) => {
                let arg = self.synthetic(env, None, &arg_path);
                self.exprs[arg.0 as usize].kind = EKind::Literal(Repr::String(Rc::from("")));
                self.exprs[arg.0 as usize].schema =
                    Schema::literal(&serde_json::Value::String(String::new()));
                self.exprs[arg.0 as usize].secret = true;
                (BExpr::SecretPlain(arg), Schema::of_type("string"))
            }
            Call::ToJson => (BExpr::ToJson(whole(self)), Schema::of_type("string")),
            Call::FromJson => (BExpr::FromJson(whole(self)), Schema::Always),
            Call::ToString => (BExpr::ToString(whole(self)), Schema::of_type("string")),
            Call::ToBase64 => (BExpr::ToBase64(whole(self)), Schema::of_type("string")),
            Call::FromBase64 => (BExpr::FromBase64(whole(self)), Schema::of_type("string")),
            Call::Final => (BExpr::Final(whole(self)), Schema::Always),
            Call::Validate { schema, value } => (
                BExpr::Validate {
                    schema: operand(self, *schema, "schema"),
                    value: operand(self, *value, "value"),
                },
                Schema::Always,
            ),
        };
        let literal = |this: &mut Self, lit: &ast::StringLit| {
            let e = this.synthetic(env, Some(lit.span), &arg_path);
            let data = &mut this.exprs[e.0 as usize];
            data.kind = EKind::Literal(Repr::String(Rc::from(lit.value.as_str())));
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
            doc_path,
            span: Some(x.span),
            kind: EKind::Builtin(Rc::new(kind)),
            base,
            schema,
            state: State::Declared,
            secret: false,
            extra: Some(Box::new(Extra::Builtin(meta))),
        })
    }
}
