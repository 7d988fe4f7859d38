//! Templates: `fn::template` (an expression that is not evaluated where it is written) and
//! `fn::eval` (which evaluates one in the scope of the environment it is written in).
//!
//! A template's value is unknown where it is written, and carries the template
//! ([`Val::template`](super::arena::Val)) through references, imports and
//! `${environments...}`. `fn::eval` declares the template's expression again as new exprs,
//! located in the template's document but reading their references in the evaluating
//! environment (an [`Instance`]), and evaluates them. Diagnostics about them go to the
//! `fn::eval` (see `Evaluator::relocated`).
//!
//! Bounds: evaluating a template while the same template is being evaluated in the same
//! scope would never end, and is reported as a cycle; nested evaluations count against the
//! evaluation depth limit like references; and all template evaluations together declare
//! at most `limits.max_nodes` exprs, so templates that evaluate templates several times
//! each cannot grow exponentially.

use super::arena::{ExprId, ValueId};
use super::{BuiltinCall, Evaluator, ExprKind, Instance, PathStep};
use crate::ast::EVAL_NOT_A_TEMPLATE;
use crate::diag::Code;
use crate::schema::Schema;

impl Evaluator<'_> {
    /// A `fn::template` where it is written: unknown, carrying the template.
    pub(super) fn template_value(&mut self, x: ExprId) -> ValueId {
        let v = self.unknown(x, Schema::Never);
        self.values.get_mut(v).template = Some(x);
        v
    }

    /// `fn::eval` expr `x` with argument `arg`.
    pub(super) fn eval_template(&mut self, x: ExprId, arg: ExprId, valid: bool) -> ValueId {
        let v = self.eval(arg, &Schema::Always);
        let Some(template) = self.val(v).template else {
            // An unknown argument may be a template once known: its result is unknown too.
            // A known one is not a template (unless the load already said so).
            if valid && !self.val(v).unknown {
                self.error_at(arg, Code::InvalidBuiltinArgument, EVAL_NOT_A_TEMPLATE);
            }
            return self.unknown_result(x, &[v]);
        };
        let scope = self.scope_of(x);
        if self.instantiating.contains(&(template, scope)) {
            let name = self.doc_path(template);
            self.error_at(
                x,
                Code::ReferenceCycle,
                format!("cyclic evaluation of template {name}"),
            );
            return self.unknown_result(x, &[v]);
        }
        let ExprKind::Builtin(call) = &self.expr(template).kind else {
            return self.unknown_result(x, &[v]);
        };
        let BuiltinCall::Template { ast, .. } = &**call else {
            return self.unknown_result(x, &[v]);
        };
        let ast = ast.clone();
        let nodes = ast.walk().count();
        let max = self.options.limits.max_nodes;
        if self.instantiated.saturating_add(nodes) > max {
            if !self.template_limit_reported {
                self.template_limit_reported = true;
                self.error_at(
                    x,
                    Code::LimitExceeded,
                    format!(
                        "cannot evaluate the template: the templates an evaluation evaluates declare at most {max} expressions in all"
                    ),
                );
            }
            return self.unknown_result(x, &[v]);
        }
        self.instantiated += nodes;
        let site = match self.expr(x).instance {
            Some(i) => self.instances[i as usize].site,
            None => x,
        };
        let id = u32::try_from(self.instances.len()).unwrap_or(u32::MAX);
        self.instances.push(Instance {
            template,
            scope,
            site,
        });
        let t = self.expr(template);
        let (env, path) = (t.env, t.path);
        let path = self.path(path, PathStep::KeepDocKey("fn::template"));
        let outer = self.declaring.replace(id);
        // What declaring reports (duplicate keys) is about the template's text, reported
        // once where it is written: not again for each evaluation.
        let reported = self.diags.len();
        let body = self.declare(env, &ast, path, None);
        self.diags.truncate(reported);
        self.declaring = outer;
        self.instantiating.push((template, scope));
        let result = self.eval(body, &Schema::Always);
        self.instantiating.pop();
        // What a secret template makes is secret.
        if self.val(v).secret {
            self.values.make_secret(result);
        }
        result
    }
}
