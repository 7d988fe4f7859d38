//! Calls out of the process: `fn::open` (providers) and `fn::rotate` (rotators), their
//! schemas and the rotations they record.

use super::arena::{ExprId, Repr, ValueId};
use super::{Evaluator, Rotation, RotationStatus};
use super::{Value, ValueKind};
use crate::ast::AccessorKind;
use crate::diag::Code;
use crate::path;
use crate::schema::Schema;

impl Evaluator<'_> {
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

    pub(super) fn open(&mut self, x: ExprId, provider: Option<&str>, inputs: ExprId) -> ValueId {
        let Some(name) = provider else {
            return self.unknown(x, Schema::Always);
        };
        let host = self.host;
        let provider = match host.provider(name) {
            Ok(p) => p,
            Err(e) => {
                self.error_at(x, Code::ProviderFailed, e.message());
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
        let context = self.envs[self.scope_of(x)].context_value.clone();
        // An identical open a worker made (or is making) is not made again (`once.rs`).
        let opened = self.host_call(|_| provider.open(&exported, &context));
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

    pub(super) fn rotate(
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
        let env = self.scope_of(x);
        let doc_path = self.doc_path(x);
        // A rotation inside a template is not rotated: its state is written in the
        // template, which every `fn::eval` of it would rotate again.
        let selected = self.rotating
            && self.expr(x).instance.is_none()
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
                self.error_at(x, Code::ProviderFailed, e.message());
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
        let before = self.diags.len();
        let (sv, state_ok) = self.check(state, &state_schema);
        if self.expr(state).span.is_none() {
            // An absent state is a null literal with no place in the reference, so what
            // it fails has no range and no path. The path stays empty (same message); the
            // position is the rotation's, a better one than none.
            let span = self.expr(x).span;
            for d in &mut self.diags[before..] {
                if d.span.is_none() {
                    d.span = span;
                    d.path.clear();
                }
            }
        }
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

fn mark_secret(v: &mut Value) {
    v.secret = true;
    match &mut v.kind {
        ValueKind::Array(items) => items.iter_mut().for_each(mark_secret),
        ValueKind::Object(m) => m.values_mut().for_each(mark_secret),
        _ => {}
    }
}

/// `values.` plus the document-path rendering of a property path, or `None` if the path
/// does not parse: how a path of [`super::Mode::Rotate`] names the rotation at
/// [`super::Rotation::path`].
#[must_use]
pub fn canonical_rotate_path(p: &str) -> Option<String> {
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
