//! Forcing exprs: memoization, reference cycles, final overrides and the limits on
//! nesting and on the weight of values.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::arena::{ExprId, Repr, ValueId};
use super::{Evaluator, ExprKind, PathId, State};
use crate::diag::{Code, Diagnostic};
use crate::schema::Schema;

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
        self.share_weight(self.values.weight().saturating_add(more));
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
    pub(super) fn too_large(&mut self, x: ExprId) -> ValueId {
        self.over_weight(x, usize::MAX);
        let schema = self.expr(x).schema.clone();
        self.unknown(x, schema)
    }

    fn eval_memoized(&mut self, x: ExprId, accept: &Schema) -> ValueId {
        match self.expr(x).state {
            State::Done(v) => return v,
            State::Evaluating => {
                let path = self.decl_path(x);
                self.error_at(
                    x,
                    Code::ReferenceCycle,
                    format!("cyclic reference to {path}"),
                );
                return self.unknown(x, Schema::Always);
            }
            State::Declared => {}
        }
        let env = self.scope_of(x);
        if accept.is_rotate_only()
            && (!(self.rotating || self.validating) || !self.envs[env].is_root)
        {
            let def = self.synthetic(env, None, PathId::EMPTY);
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
            ExprKind::Missing | ExprKind::Access { .. } => {
                let schema = self.expr(x).schema.clone();
                self.unknown(x, schema)
            }
            ExprKind::Literal(r) => {
                let schema = self.expr(x).schema.clone();
                self.new_value(x, r, schema)
            }
            ExprKind::Array(items) => {
                let mut ids = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    ids.push(self.eval(*item, &accept.item(i)));
                }
                let schema =
                    Schema::tuple(ids.iter().map(|&i| self.val(i).schema.clone()).collect());
                self.new_value(x, Repr::List(ids), schema)
            }
            ExprKind::Object(props) => {
                let mut sorted: Vec<(Arc<str>, ExprId)> =
                    props.iter().map(|(k, e)| (k.clone(), *e)).collect();
                sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                // Evaluated in key order, in place; the map is then built from the sorted
                // entries at once (packed leaves, no search per key).
                let evaluated: Vec<(Arc<str>, ValueId)> = sorted
                    .into_iter()
                    .map(|(k, e)| {
                        let v = self.eval(e, &accept.property(&k));
                        (k, v)
                    })
                    .collect();
                let map: BTreeMap<Arc<str>, ValueId> = evaluated.into_iter().collect();
                let schema = Schema::record_sorted(
                    map.iter()
                        .map(|(k, &v)| (k.clone(), self.val(v).schema.clone()))
                        .collect(),
                );
                self.new_value(x, Repr::Map(map), schema)
            }
            ExprKind::Symbol(accs) => self.resolve(x, 0, &accs, accept),
            ExprKind::Interpolate(parts) => self.interpolate(x, &parts),
            ExprKind::Builtin(b) => self.builtin(x, &b),
        }
    }
}
