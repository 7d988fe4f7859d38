//! Validation against schemas, and the validator's view of arena values.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::arena::{ExprId, Repr, ValueId};
use super::{Evaluator, ExprKind};
use crate::diag::{Code, Diagnostic};
use crate::path;
use crate::schema::{self, Place, Problem, Schema, Subject, View};

impl Evaluator<'_> {
    /// Evaluates `arg` and validates it against `schema`; returns the value and whether it
    /// passed.
    pub(super) fn check(&mut self, arg: ExprId, schema: &Schema) -> (ValueId, bool) {
        let v = self.eval(arg, schema);
        let ok = self.validate(v, schema);
        (v, ok)
    }

    fn validate(&mut self, v: ValueId, schema: &Schema) -> bool {
        self.validate_redacted(v, schema, false)
    }

    /// Validates; with `secret_schema`, messages (which quote the schema) are replaced by
    /// one that does not.
    pub(super) fn validate_redacted(
        &mut self,
        v: ValueId,
        schema: &Schema,
        secret_schema: bool,
    ) -> bool {
        let mut problems = Vec::new();
        let ok = schema::validate(schema, &ValueSubject { ev: self, id: v }, &mut problems);
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
}

#[derive(Clone)]
struct ValueSubject<'a, 'h> {
    ev: &'a Evaluator<'h>,
    id: ValueId,
}

impl<'a, 'h> Subject for ValueSubject<'a, 'h> {
    type Place = ExprPlace<'a, 'h>;

    fn view(&self) -> View<Self> {
        let val = self.ev.val(self.id);
        if val.unknown {
            return View::Unknown(val.schema.clone());
        }
        let sub = |id| ValueSubject { ev: self.ev, id };
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

    fn place(&self) -> ExprPlace<'a, 'h> {
        ExprPlace {
            ev: self.ev,
            expr: self.ev.val(self.id).def,
            path: String::new(),
        }
    }
}

/// A place for schema-vs-schema problems: the expr reached, and the path below it. Steps
/// into declared object properties and list elements while they exist.
#[derive(Clone)]
struct ExprPlace<'a, 'h> {
    ev: &'a Evaluator<'h>,
    expr: ExprId,
    path: String,
}

impl Place for ExprPlace<'_, '_> {
    type At = ExprId;

    fn property(&self, key: &str) -> Self {
        if self.path.is_empty()
            && let ExprKind::Object(props) = &self.ev.expr(self.expr).kind
            && let Some(e) = props.get(key)
        {
            return ExprPlace {
                ev: self.ev,
                expr: *e,
                path: String::new(),
            };
        }
        ExprPlace {
            ev: self.ev,
            expr: self.expr,
            path: path::join_key(&self.path, key),
        }
    }

    fn index(&self, index: usize) -> Self {
        if self.path.is_empty()
            && let ExprKind::Array(items) = &self.ev.expr(self.expr).kind
            && let Some(e) = items.get(index)
        {
            return ExprPlace {
                ev: self.ev,
                expr: *e,
                path: String::new(),
            };
        }
        ExprPlace {
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
    fn effective_entries(&self, id: ValueId) -> Vec<(Arc<str>, ValueId)> {
        let mut out: BTreeMap<Arc<str>, ValueId> = BTreeMap::new();
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
