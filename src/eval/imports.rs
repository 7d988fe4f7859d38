//! Environments and imports: the per-environment execution context, the `imports`
//! object, merged imports stacked into a base, and the limits on how many environments
//! an evaluation reads and how deeply they nest.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::arena::{ExprId, Repr, ValueId};
use super::host::ParsedEnvironment;
use super::value::{Value, ValueKind};
use super::{Env, Evaluator, Imported, PathId, PathStep};
use crate::ast::EnvironmentDecl;
use crate::diag::{Code, Diagnostic};
use crate::path;
use crate::schema::Schema;
use crate::source::Source;
use crate::syntax::Limits;

impl Evaluator<'_> {
    /// Evaluates environment `source` declared by `decl`; a declaration handed over (the
    /// root's, by [`super::evaluate_owned`]) is dropped once lowered.
    pub(super) fn environment(
        &mut self,
        source: &Arc<Source>,
        decl: impl std::borrow::Borrow<EnvironmentDecl>,
        is_root: bool,
        inherited: Value,
        inherited_root: String,
    ) -> ValueId {
        let name = source.name().to_owned();
        self.table.insert(name.clone(), Imported::Evaluating);
        let env = self.envs.len();
        let root_name = super::share::root_name_of(inherited_root, &name);
        // The per-environment copy of the execution context.
        let mut ctx = match inherited.kind {
            ValueKind::Object(m) => m
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        Value {
                            secret: false,
                            unknown: false,
                            origin: None,
                            ..v
                        },
                    )
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        ctx.insert(
            "currentEnvironment".to_owned(),
            Value::object([("name".to_owned(), Value::string(&name))]),
        );
        ctx.insert(
            "rootEnvironment".to_owned(),
            Value::object([("name".to_owned(), Value::string(&root_name))]),
        );
        let context_value = Value::new(ValueKind::Object(ctx));
        self.envs.push(Env {
            source: source.clone(),
            is_root,
            root_name: root_name.clone(),
            context: ValueId(0),
            context_value: context_value.clone(),
            imports: ValueId(0),
            direct_imports: BTreeMap::new(),
            root: ExprId(0),
        });
        let saved = self.current;
        self.current = env;
        let ctx_def = self.synthetic(env, None, PathId::EMPTY);
        let context = self.unexport(&context_value, ctx_def);
        self.envs[env].context = context;

        // Imports, in order; merged ones stack into the import base.
        let mut base: Option<ValueId> = None;
        for (i, import) in decl.borrow().imports.iter().flatten().enumerate() {
            // A string import is its own node; an object import is named by its key.
            let mut blame_path = path::join_index("imports", i);
            if import.span != import.environment.span {
                path::push_key(&mut blame_path, &import.environment.value);
            }
            let blame_path = self.path(PathId::EMPTY, PathStep::Doc(blame_path.into()));
            let blame = self.synthetic(env, Some(import.environment.span), blame_path);
            let Some(imported) =
                self.import(&import.environment.value, blame, &context_value, &root_name)
            else {
                continue;
            };
            self.envs[env]
                .direct_imports
                .insert(import.environment.value.clone(), imported);
            if import.merges() {
                let copy = self.values.deep_copy(imported);
                self.over_weight(blame, 0);
                self.merge(copy, base);
                base = Some(copy);
            }
        }
        let imports_def = self.synthetic(env, None, PathId::EMPTY);
        let direct: Vec<(String, ValueId)> = self.envs[env]
            .direct_imports
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let imports_schema = Schema::record(
            direct
                .iter()
                .map(|(k, v)| (k.clone(), self.val(*v).schema.clone())),
        );
        let imports = self.new_value(
            imports_def,
            Repr::Map(
                direct
                    .iter()
                    .map(|(k, v)| (Arc::from(k.as_str()), *v))
                    .collect(),
            ),
            imports_schema,
        );
        self.envs[env].imports = imports;

        let root = self.declare_root(env, decl.borrow(), base);
        drop(decl);
        self.envs[env].root = root;
        let value = self.eval(root, &Schema::Always);
        self.table.insert(name, Imported::Done(value));
        self.current = saved;
        value
    }

    /// Loads and evaluates import `written` (as the importing document writes it), blamed
    /// on `blame` when it fails. The environment is named as the host says
    /// ([`crate::eval::Host::import_name`]; `written` itself, unless the host reads versions).
    pub(super) fn import(
        &mut self,
        written: &str,
        blame: ExprId,
        context: &Value,
        root_name: &str,
    ) -> Option<ValueId> {
        let importer = self.envs[self.expr(blame).env].source.name();
        let name = self.host.import_name(importer, written);
        let name = name.as_str();
        self.share_lookup(name);
        match self.table.get(name) {
            Some(Imported::Evaluating) => {
                self.error_at(blame, Code::ImportCycle, format!("cyclic import of {name}"));
                return None;
            }
            Some(Imported::Done(v)) => return Some(*v),
            None => {}
        }
        self.import_shared(name, blame, context, root_name)
    }

    /// Loads and evaluates import `name`, which the table does not hold yet.
    pub(super) fn import_fresh(
        &mut self,
        name: &str,
        blame: ExprId,
        context: &Value,
        root_name: &str,
    ) -> Option<ValueId> {
        let max_environments = self.options.max_environments;
        if self.envs.len() >= max_environments {
            self.import_limit(
                blame,
                format!(
                    "cannot import {name}: an evaluation reads at most {max_environments} environments"
                ),
            );
            return None;
        }
        let max_depth = self.options.max_import_depth;
        if self.import_depth >= max_depth {
            self.import_limit(
                blame,
                format!(
                    "cannot import {name}: imports are nested deeper than the limit of {max_depth}"
                ),
            );
            return None;
        }
        // The node limit of a document holds for all the environments of an evaluation:
        // an import gets what the others (about one expr per node) left.
        let limit = self.options.limits.max_nodes;
        let nodes_left = limit.saturating_sub(self.exprs.len());
        let too_many = format!(
            "cannot import {name}: the environments of an evaluation have at most {limit} YAML nodes in all"
        );
        if nodes_left == 0 {
            self.import_limit(blame, too_many);
            return None;
        }
        // Prefetching turned on here, not after the load below: the environment loaded is
        // not in `envs` until it is parsed and declared.
        self.after_call();
        let prefetched = self.prefetch.and_then(|p| p.load(name));
        let (loaded, parsed) = match prefetched {
            Some(l) => (l.text, l.parsed),
            None => {
                let load = || self.host.load_environment(name);
                let text = match self.prefetch {
                    Some(p) => p.call(load),
                    None => load(),
                };
                (text.map(Arc::from).map_err(String::from), None)
            }
        };
        let text = match loaded {
            Ok(t) => t,
            Err(e) => {
                self.error_at(blame, Code::ImportFailed, e);
                return None;
            }
        };
        let limits = Limits {
            max_nodes: nodes_left,
            ..self.options.limits
        };
        // A parse made with the whole limit (ahead of time, or by an earlier evaluation the
        // host served) is the same parse when the document fits in what is left.
        let parsed = parsed.unwrap_or_else(|| self.host.parse(name, &text, &self.options.limits));
        let parsed = if parsed.nodes <= nodes_left {
            parsed
        } else {
            Arc::new(ParsedEnvironment::new(name, &text, &limits))
        };
        let source = Source::shared(name, text);
        if parsed.nodes > nodes_left && nodes_left < limit {
            self.import_limit(blame, too_many);
        }
        let failed = parsed.diags.iter().any(Diagnostic::is_error);
        self.diags.extend(parsed.diags.iter().cloned());
        let decl = parsed.decl.as_ref().filter(|_| !failed)?;
        if let Some(p) = self.prefetch
            && !p.is_active()
        {
            // Declared as environment `envs.len()` first thing below.
            self.unscanned
                .borrow_mut()
                .push((self.envs.len(), parsed.clone()));
        }
        let rotating = std::mem::replace(&mut self.rotating, false);
        // Nested imports nest these calls: grow the stack on the heap rather than overflow.
        self.import_depth += 1;
        let source = Arc::new(source);
        let value = stacker::maybe_grow(
            super::memo::STACK_RED_ZONE,
            super::memo::STACK_SEGMENT,
            || self.environment(&source, decl, false, context.clone(), root_name.to_owned()),
        );
        self.import_depth -= 1;
        self.rotating = rotating;
        Some(value)
    }

    /// Reports an import refused by a limit: the first one only, as the others follow.
    fn import_limit(&mut self, blame: ExprId, message: String) {
        if !self.import_limit_reported {
            self.import_limit_reported = true;
            self.error_at(blame, Code::LimitExceeded, message);
        }
    }
}
