//! Evaluation: `check` (static; providers are not opened and their results are unknown),
//! `eval` (providers opened) and `rotate`.
//!
//! The model follows the reference (see `../shared/spec/esc-eval.md`). Each environment's
//! declaration is turned into a tree of *exprs* (one per AST expression, with a memoized
//! state and an optional *base*: the imported value it overrides). Evaluation is demand
//! driven: the root forces every expr, a reference forces only its target. Values live in
//! an arena ([`value::Values`]); a reference or an import merge works on a deep copy, as
//! in the reference, so later merges cannot disturb the original.
//!
//! Everything outside the process goes through [`Host`].

mod export;
pub(crate) mod gojson;
pub(crate) mod host;
mod prefetch;
mod run;
mod schema;
mod value;

use std::collections::BTreeMap;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::ast::{self, AccessorKind, ArgPart, Call, EnvironmentDecl, ExprKind, SecretArg};
use crate::diag::{Code, Diagnostic};
use crate::path;
use crate::source::{Source, Span};
use crate::syntax::Limits;
use crate::text::go_quote;

pub use host::{Host, Provider, Rotator, Value, ValueKind};
use schema::Schema;
use value::{ExprId, Repr, Val, ValueId, Values};

/// How to evaluate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Static check: providers and rotators are loaded for their schemas but never
    /// opened; ciphertexts are decrypted only with `show_secrets`.
    Check {
        /// Decrypt ciphertext secrets.
        show_secrets: bool,
    },
    /// Full evaluation: providers are opened.
    Eval,
    /// Evaluation that first rotates the selected `fn::rotate` calls of the root document
    /// (all of them when `paths` is empty). Paths are property paths below `values`.
    Rotate {
        /// The selected rotations.
        paths: Vec<String>,
    },
}

/// The result of evaluating an environment.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    /// The environment's properties (the merged result), or `None` when nothing was
    /// evaluated (a document with neither values nor imports, or a broken one).
    pub properties: Option<BTreeMap<String, Value>>,
    /// Diagnostics of this environment and of every environment it reached, sorted.
    pub diags: Vec<Diagnostic>,
    /// What rotation did (rotate mode only), in evaluation order.
    pub rotations: Vec<Rotation>,
    /// What the typed output is computed from.
    arena: Option<Rc<export::Arena>>,
}

impl Evaluation {
    /// The typed environment, in the reference's JSON form: `exprs` (every expression with
    /// its range, schema and structure), `properties` (values with their secret and unknown
    /// flags and the trace of where they were defined), `schema` and `executionContext`.
    /// `None` when nothing was evaluated.
    #[must_use]
    pub fn typed(&self) -> Option<serde_json::Value> {
        self.arena.as_ref().map(|a| a.typed())
    }

    /// The rotated states as patches in the reference's JSON form
    /// (`[{"DocPath": ..., "Replacement": Value}]`), sorted by document path.
    #[must_use]
    pub fn patches(&self) -> Vec<serde_json::Value> {
        let mut out: Vec<(String, serde_json::Value)> = self
            .rotations
            .iter()
            .filter_map(|r| match &r.status {
                RotationStatus::Succeeded { doc_path, state } => Some((
                    doc_path.clone(),
                    serde_json::json!({
                        "DocPath": doc_path,
                        "Replacement": self.arena.as_ref().map_or(serde_json::Value::Null, |a| a.plain_value(state)),
                    }),
                )),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.into_iter().map(|(_, v)| v).collect()
    }
}

/// The outcome of one selected rotation.
#[derive(Clone, Debug)]
pub struct Rotation {
    /// The document path of the mapping holding the `fn::rotate` call.
    pub path: String,
    /// What happened.
    pub status: RotationStatus,
}

/// What happened to a selected rotation.
#[derive(Clone, Debug)]
pub enum RotationStatus {
    /// The rotator returned a new state, to be written at `doc_path`.
    Succeeded {
        /// Where the new state goes, e.g. `values.db["fn::rotate::x"].state`.
        doc_path: String,
        /// The new state.
        state: Value,
    },
    /// The rotator failed.
    Failed(String),
    /// The call was not evaluated (its inputs or state were invalid or unknown).
    NotEvaluated,
}

/// How evaluation may use the host, and the limits that bound its time and memory on
/// hostile input (each reported as a `limit-exceeded` diagnostic where it is crossed; see
/// `docs/limits.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// How many host calls (environment loads, provider opens) may be in flight at once.
    /// With 1, every call is made in evaluation order, one after another.
    pub max_in_flight: usize,
    /// The limits imported documents are read with (the root is read by the caller). Its
    /// `max_nodes` also bounds the nodes of all the environments of the evaluation
    /// together.
    pub limits: Limits,
    /// The most environments one evaluation reads: the root and its imports.
    pub max_environments: usize,
    /// The deepest chain of imports (each import copies what it imports, so a chain costs
    /// time and memory that grow with the square of its depth).
    pub max_import_depth: usize,
    /// The most the values of one evaluation may weigh: 64 bytes per value plus the bytes
    /// of its string. References copy values and builtins build strings, so a few lines can
    /// double a value many times over; this is what stops them.
    pub max_value_weight: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_in_flight: 32,
            limits: Limits::default(),
            max_environments: 4096,
            max_import_depth: 256,
            max_value_weight: 16 << 20,
        }
    }
}

/// Evaluates environment `source` (its name is the environment's name) with declaration
/// `decl`, with the default [`Options`].
///
/// `context` is the execution context (`context.*` in the document; providers receive it
/// too); it must be an object and must not hold `currentEnvironment` or `rootEnvironment`,
/// which the evaluator adds.
#[must_use]
pub fn evaluate(
    source: &Source,
    decl: &EnvironmentDecl,
    host: &dyn Host,
    context: &Value,
    mode: &Mode,
) -> Evaluation {
    evaluate_with(source, decl, host, context, mode, &Options::default())
}

/// [`evaluate`] with explicit options. Independent environment loads and provider opens
/// are made concurrently (up to `options.max_in_flight` at once) before evaluation, which
/// then runs in the reference's order: values, diagnostics and their order do not depend
/// on the options.
#[must_use]
pub fn evaluate_with(
    source: &Source,
    decl: &EnvironmentDecl,
    host: &dyn Host,
    context: &Value,
    mode: &Mode,
    options: &Options,
) -> Evaluation {
    let has_content = decl.values.as_ref().is_some_and(|v| !v.is_empty())
        || decl.imports.as_ref().is_some_and(|i| !i.is_empty());
    if !has_content {
        return Evaluation::default();
    }
    let mut ev = Evaluator::new(host, mode, options);
    if options.max_in_flight > 1 {
        ev.prefetched = prefetch::prefetch(
            host,
            source.name(),
            decl,
            context,
            !matches!(mode, Mode::Check { .. }),
            options,
        );
    }
    let name = source.name().to_owned();
    let root = ev.environment(
        &Rc::new(source.clone()),
        decl,
        true,
        context.clone(),
        String::new(),
    );
    let mut properties = BTreeMap::new();
    for key in ev.values.keys(root).iter() {
        if let Some(p) = ev.property(root, key, None) {
            properties.insert(key.to_string(), ev.export(p));
        }
    }
    let mut diags = std::mem::take(&mut ev.diags);
    crate::diag::sort(&mut diags);
    let _ = name;
    Evaluation {
        properties: Some(properties),
        diags,
        rotations: std::mem::take(&mut ev.rotations),
        arena: Some(Rc::new(export::Arena::new(ev, root))),
    }
}

/// Where an expr is evaluated and how it reports.
struct Env {
    source: Rc<Source>,
    is_root: bool,
    /// The root environment's name as this environment sees it (`context.rootEnvironment`).
    root_name: String,
    context: ValueId,
    context_value: Value,
    imports: ValueId,
    direct_imports: BTreeMap<String, ValueId>,
    root: ExprId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Declared,
    Evaluating,
    Done(ValueId),
}

#[derive(Clone, Debug)]
struct Acc {
    kind: AccessorKind,
    span: Span,
}

#[derive(Clone, Debug)]
enum EKind {
    /// An absent sub-expression (a missing builtin operand), or a synthetic def.
    Missing,
    Literal(Repr),
    Interpolate(Rc<[(String, Option<Vec<Acc>>)]>),
    Symbol(Rc<[Acc]>),
    Array(Rc<[ExprId]>),
    /// Declared properties in source order (duplicates dropped), cheap to clone.
    Object(Rc<IndexMap<Rc<str>, ExprId>>),
    Builtin(Rc<BExpr>),
    /// The def of a late-bound property access on an unknown value.
    Access {
        receiver: ValueId,
        key: Rc<str>,
    },
}

#[derive(Clone, Debug)]
enum BExpr {
    Open {
        provider: Option<String>,
        inputs: ExprId,
    },
    Rotate {
        name: String,
        provider: Option<String>,
        inputs: ExprId,
        state: ExprId,
    },
    Join(ExprId, ExprId),
    Split(ExprId, ExprId),
    Concat(ExprId),
    SecretPlain(ExprId),
    SecretCipher(String),
    ToJson(ExprId),
    FromJson(ExprId),
    ToString(ExprId),
    ToBase64(ExprId),
    FromBase64(ExprId),
    Final(ExprId),
    Validate {
        schema: ExprId,
        value: ExprId,
    },
}

struct ExprData {
    env: usize,
    /// The declaration path, used in cycle messages (`a.p`).
    path: String,
    /// The document path, used in diagnostics (`values.a.p`).
    doc_path: String,
    span: Option<Span>,
    kind: EKind,
    base: Option<ValueId>,
    schema: Schema,
    state: State,
    secret: bool,
    /// What the typed output needs beyond evaluation.
    extra: Option<Box<Extra>>,
}

/// Output-only facts about an expr.
enum Extra {
    /// An object literal's key ranges (every entry with a key; the last duplicate wins).
    Object(Vec<(Rc<str>, Span)>),
    /// A builtin call.
    Builtin(BuiltinMeta),
}

struct BuiltinMeta {
    name: String,
    name_span: Span,
    arg_span: Span,
    /// `fn::open`/`fn::rotate` written with `provider:` (their argument is exported as a
    /// synthetic object).
    long_form: bool,
    /// The `provider:` string literal, never evaluated.
    provider: Option<ExprId>,
    /// The `ciphertext:` string literal of a `fn::secret`, never evaluated.
    ciphertext: Option<ExprId>,
    /// The schema of the argument, known once the provider is loaded.
    arg_schema: Schema,
}

enum Imported {
    Evaluating,
    Done(ValueId),
}

#[allow(
    clippy::struct_excessive_bools,
    reason = "the modes' independent switches"
)]
struct Evaluator<'h> {
    host: &'h dyn Host,
    validating: bool,
    rotating: bool,
    show_secrets: bool,
    rotate_paths: Vec<String>,
    values: Values,
    exprs: Vec<ExprData>,
    envs: Vec<Env>,
    table: BTreeMap<String, Imported>,
    diags: Vec<Diagnostic>,
    rotations: Vec<Rotation>,
    /// The env whose exprs are being evaluated (for references and reporting).
    current: usize,
    /// For each reference (expr, part): the def each accessor resolved to.
    traces: std::collections::HashMap<(ExprId, usize), Vec<Option<ExprId>>>,
    /// The trace of the reference being resolved.
    trace: Vec<Option<ExprId>>,
    /// Host results fetched ahead of time.
    prefetched: prefetch::Prefetched,
    /// How deeply evaluations are nested now, and whether crossing the limit was reported.
    depth: usize,
    depth_reported: bool,
    /// Key indexes of long base chains (see [`ChainIndex`]), by the chain's top layer.
    chain_indexes: std::collections::HashMap<ValueId, ChainIndex>,
    /// Whether crossing `options.max_value_weight` was reported.
    weight_reported: bool,
    /// Whether an import refused by a limit was reported.
    import_limit_reported: bool,
    /// How deeply imports are nested now.
    import_depth: usize,
    /// The limits (and concurrency) the caller chose.
    options: Options,
}

/// Where each key of a base chain's upper layers lives, so a lookup in a long chain (one
/// layer per merged import) takes one probe instead of a walk through every layer.
///
/// It covers the chain from its top down to `bottom`, through non-empty maps only: their
/// entries never change, and their bases are set once, from none. So the index stays exact:
/// a key it holds lives where it says, and for a key it lacks the lookup goes on below
/// `bottom`, whose base may have been set since.
struct ChainIndex {
    keys: std::collections::HashMap<Rc<str>, ValueId>,
    bottom: ValueId,
}

/// A walk through more layers than this builds a [`ChainIndex`].
const CHAIN_INDEX_AFTER: usize = 16;

impl<'h> Evaluator<'h> {
    fn new(host: &'h dyn Host, mode: &Mode, options: &Options) -> Self {
        let (validating, rotating, show_secrets, rotate_paths) = match mode {
            Mode::Check { show_secrets } => (true, false, *show_secrets, Vec::new()),
            Mode::Eval => (false, false, true, Vec::new()),
            Mode::Rotate { paths } => (false, true, true, paths.clone()),
        };
        Evaluator {
            host,
            validating,
            rotating,
            show_secrets,
            rotate_paths,
            values: Values::default(),
            exprs: Vec::new(),
            envs: Vec::new(),
            table: BTreeMap::new(),
            diags: Vec::new(),
            rotations: Vec::new(),
            current: 0,
            traces: std::collections::HashMap::new(),
            trace: Vec::new(),
            prefetched: prefetch::Prefetched::default(),
            depth: 0,
            depth_reported: false,
            chain_indexes: std::collections::HashMap::new(),
            weight_reported: false,
            import_limit_reported: false,
            import_depth: 0,
            options: options.clone(),
        }
    }

    // ---------------------------------------------------------------------------------
    // Reporting

    fn error_at(&mut self, e: ExprId, code: Code, message: impl Into<String>) {
        let d = self.located(e, Diagnostic::error(code, message));
        self.diags.push(d);
    }

    fn located(&self, e: ExprId, d: Diagnostic) -> Diagnostic {
        let x = &self.exprs[e.0 as usize];
        let env = &self.envs[x.env];
        match x.span {
            Some(span) => d.at(env.source.name(), span, &x.doc_path),
            None => {
                let mut d = d.in_environment(env.source.name());
                d.path.clone_from(&x.doc_path);
                d
            }
        }
    }

    fn error_span(&mut self, e: ExprId, span: Span, code: Code, message: impl Into<String>) {
        let x = &self.exprs[e.0 as usize];
        let env = &self.envs[x.env];
        let d = Diagnostic::error(code, message).at(env.source.name(), span, &x.doc_path);
        self.diags.push(d);
    }

    // ---------------------------------------------------------------------------------
    // Arena helpers

    fn add_expr(&mut self, data: ExprData) -> ExprId {
        let id = ExprId(u32::try_from(self.exprs.len()).unwrap_or(u32::MAX));
        self.exprs.push(data);
        id
    }

    fn synthetic(&mut self, env: usize, span: Option<Span>, doc_path: &str) -> ExprId {
        self.add_expr(ExprData {
            env,
            path: String::new(),
            doc_path: doc_path.to_owned(),
            span,
            kind: EKind::Missing,
            base: None,
            schema: Schema::Always,
            state: State::Declared,
            secret: false,
            extra: None,
        })
    }

    fn expr(&self, e: ExprId) -> &ExprData {
        &self.exprs[e.0 as usize]
    }

    fn val(&self, v: ValueId) -> &Val {
        self.values.get(v)
    }

    fn new_value(&mut self, def: ExprId, repr: Repr, schema: Schema) -> ValueId {
        self.values.add(Val::new(def, repr, schema))
    }

    fn unknown(&mut self, def: ExprId, schema: Schema) -> ValueId {
        self.values.add(Val::unknown(def, schema))
    }

    // ---------------------------------------------------------------------------------
    // Environments and imports

    fn environment(
        &mut self,
        source: &Rc<Source>,
        decl: &EnvironmentDecl,
        is_root: bool,
        inherited: Value,
        inherited_root: String,
    ) -> ValueId {
        let name = source.name().to_owned();
        self.table.insert(name.clone(), Imported::Evaluating);
        let env = self.envs.len();
        let root_name = if inherited_root.is_empty() || inherited_root == "<yaml>" {
            name.clone()
        } else {
            inherited_root
        };
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
        let ctx_def = self.synthetic(env, None, "");
        let context = self.unexport(&context_value, ctx_def);
        self.envs[env].context = context;

        // Imports, in order; merged ones stack into the import base.
        let mut base: Option<ValueId> = None;
        for (i, import) in decl.imports.iter().flatten().enumerate() {
            // A string import is its own node; an object import is named by its key.
            let mut blame_path = path::join_index("imports", i);
            if import.span != import.environment.span {
                path::push_key(&mut blame_path, &import.environment.value);
            }
            let blame = self.synthetic(env, Some(import.environment.span), &blame_path);
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
        let imports_def = self.synthetic(env, None, "");
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
                    .map(|(k, v)| (Rc::from(k.as_str()), *v))
                    .collect(),
            ),
            imports_schema,
        );
        self.envs[env].imports = imports;

        let root = self.declare_root(env, decl, base);
        self.envs[env].root = root;
        let value = self.eval(root, &Schema::Always);
        self.table.insert(name, Imported::Done(value));
        self.current = saved;
        value
    }

    /// Loads and evaluates import `name`, blamed on `blame` when it fails.
    fn import(
        &mut self,
        name: &str,
        blame: ExprId,
        context: &Value,
        root_name: &str,
    ) -> Option<ValueId> {
        match self.table.get(name) {
            Some(Imported::Evaluating) => {
                self.error_at(blame, Code::ImportCycle, format!("cyclic import of {name}"));
                return None;
            }
            Some(Imported::Done(v)) => return Some(*v),
            None => {}
        }
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
        let loaded = self
            .prefetched
            .load(name)
            .unwrap_or_else(|| self.host.load_environment(name));
        let text = match loaded {
            Ok(t) => t,
            Err(e) => {
                self.error_at(blame, Code::ImportFailed, e);
                return None;
            }
        };
        let source = Source::new(name, text);
        let limits = Limits {
            max_nodes: nodes_left,
            ..self.options.limits
        };
        // A parse made ahead of time with the whole limit is the same parse when the
        // document fits in what is left.
        let (decl, diags, nodes) = match self.prefetched.take_parsed(name) {
            Some(parsed) if parsed.nodes <= nodes_left => (parsed.decl, parsed.diags, parsed.nodes),
            _ => {
                let loaded = crate::ast::load_with(&source, &limits);
                (loaded.decl, loaded.diags, loaded.syntax.nodes)
            }
        };
        if nodes > nodes_left && nodes_left < limit {
            self.import_limit(blame, too_many);
        }
        let failed = diags.iter().any(Diagnostic::is_error);
        self.diags.extend(diags);
        let decl = decl.filter(|_| !failed)?;
        let rotating = std::mem::replace(&mut self.rotating, false);
        // Nested imports nest these calls: grow the stack on the heap rather than overflow.
        self.import_depth += 1;
        let source = Rc::new(source);
        let value = stacker::maybe_grow(run::STACK_RED_ZONE, run::STACK_SEGMENT, || {
            self.environment(&source, &decl, false, context.clone(), root_name.to_owned())
        });
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

    // ---------------------------------------------------------------------------------
    // Declaration

    fn declare_root(
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

    // ---------------------------------------------------------------------------------
    // Values: merge and lookup

    /// Whether `a` and `b` are the same value for merging purposes.
    fn is(&self, a: ValueId, b: ValueId) -> bool {
        if a == b {
            return true;
        }
        let (va, vb) = (self.val(a), self.val(b));
        if let (
            EKind::Access {
                receiver: ra,
                key: ka,
            },
            EKind::Access {
                receiver: rb,
                key: kb,
            },
        ) = (&self.expr(va.def).kind, &self.expr(vb.def).kind)
        {
            return va.unknown && vb.unknown && ka == kb && self.is(*ra, *rb);
        }
        false
    }

    /// Merges base `b` under `v` (mutating `v` and its base chain).
    fn merge(&mut self, v: ValueId, b: Option<ValueId>) {
        let Some(b) = b else { return };
        if self.is(v, b) {
            return;
        }
        // Walk to the bottom of v's base chain; b goes under it.
        let mut chain = vec![v];
        while let Some(next) = self.val(*chain.last().unwrap_or(&v)).base {
            if self.is(next, b) {
                return;
            }
            chain.push(next);
        }
        if let Some(&last) = chain.last() {
            self.values.get_mut(last).base = Some(b);
        }
        for &layer in chain.iter().rev() {
            let Some(layer_base) = self.val(layer).base else {
                continue;
            };
            if let Repr::Map(m) = &self.val(layer).repr {
                let own: Vec<(Rc<str>, ValueId)> = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
                for (k, p) in own {
                    let bp = self.property(layer_base, &k, None);
                    self.merge(p, bp);
                }
            }
            let merged = Schema::merged(&self.val(layer_base).schema, &self.val(layer).schema);
            self.values.get_mut(layer).schema = merged;
        }
    }

    /// JSON-merge-patch lookup of `key` in `v` (own entry, else the base chain); a late
    /// bound access on an unknown value.
    fn property(&mut self, v: ValueId, key: &str, span: Option<Span>) -> Option<ValueId> {
        if let Some(index) = self.chain_index(v) {
            let (found, bottom) = (index.keys.get(key).copied(), index.bottom);
            if found.is_some() {
                return found;
            }
            let below = self.val(bottom).base?;
            return self.property(below, key, span);
        }
        let mut layer = v;
        let mut walked = 0;
        loop {
            walked += 1;
            if walked == CHAIN_INDEX_AFTER && self.is_indexable(v) {
                self.build_chain_index(v);
                return self.property(v, key, span);
            }
            let val = self.val(layer);
            match &val.repr {
                Repr::Map(m) if !val.unknown || !m.is_empty() => {
                    if let Some(&p) = m.get(key) {
                        return Some(p);
                    }
                    layer = val.base?;
                }
                _ if val.unknown => {
                    let schema = val.schema.property(key);
                    let base_of = val.base;
                    // The access belongs to the document that asked for it.
                    let env = self.current;
                    let def = self.add_expr(ExprData {
                        env,
                        path: String::new(),
                        doc_path: String::new(),
                        span,
                        kind: EKind::Access {
                            receiver: layer,
                            key: Rc::from(key),
                        },
                        base: None,
                        schema: schema.clone(),
                        state: State::Declared,
                        secret: false,
                        extra: None,
                    });
                    let access = self.unknown(def, schema);
                    let base = base_of.and_then(|b| self.property(b, key, span));
                    self.values.get_mut(access).base = base;
                    return Some(access);
                }
                _ => return None,
            }
        }
    }

    /// Whether a lookup in layer `v` looks into its map and then goes on to its base.
    fn is_indexable(&self, v: ValueId) -> bool {
        matches!(&self.val(v).repr, Repr::Map(m) if !m.is_empty())
    }

    /// The index of the chain topped by `v`, if it has one or can take over the one of
    /// the layer below (the chain grew by one layer on top: the usual case when imports
    /// merge one after another).
    fn chain_index(&mut self, v: ValueId) -> Option<&ChainIndex> {
        if !self.chain_indexes.contains_key(&v) {
            let below = self.val(v).base?;
            if !self.is_indexable(v) || !self.chain_indexes.contains_key(&below) {
                return None;
            }
            let mut index = self.chain_indexes.remove(&below)?;
            if let Repr::Map(m) = &self.val(v).repr {
                for (k, &p) in m {
                    index.keys.insert(k.clone(), p);
                }
            }
            self.chain_indexes.insert(v, index);
        }
        self.chain_indexes.get(&v)
    }

    /// Indexes the chain topped by `v` from scratch.
    fn build_chain_index(&mut self, v: ValueId) {
        let mut keys = std::collections::HashMap::new();
        let mut bottom = v;
        let mut layer = Some(v);
        while let Some(l) = layer.filter(|&l| self.is_indexable(l)) {
            if let Repr::Map(m) = &self.val(l).repr {
                for (k, &p) in m {
                    keys.entry(k.clone()).or_insert(p);
                }
            }
            bottom = l;
            layer = self.val(l).base;
        }
        self.chain_indexes.insert(v, ChainIndex { keys, bottom });
    }

    /// Whether a value can be looked into as an object (reference fallback).
    fn is_object(&self, v: ValueId) -> bool {
        let val = self.val(v);
        matches!(val.repr, Repr::Map(_))
            || (val.unknown
                && matches!(val.schema.type_name(), "" | "object")
                && !matches!(val.schema, Schema::Never))
    }

    // ---------------------------------------------------------------------------------
    // Export

    /// The plain value (effective keys, flags kept).
    fn export(&mut self, v: ValueId) -> Value {
        stacker::maybe_grow(run::STACK_RED_ZONE, run::STACK_SEGMENT, || {
            self.export_inner(v)
        })
    }

    fn export_inner(&mut self, v: ValueId) -> Value {
        let (secret, unknown) = (self.val(v).secret, self.val(v).unknown);
        let kind = match self.val(v).repr.clone() {
            Repr::Null => ValueKind::Null,
            Repr::Bool(b) => ValueKind::Bool(b),
            Repr::Number(n) => ValueKind::Number(n.to_string()),
            Repr::String(s) => ValueKind::String(s.to_string()),
            Repr::List(items) => ValueKind::Array(items.iter().map(|&i| self.export(i)).collect()),
            Repr::Map(_) => {
                let mut m = BTreeMap::new();
                for k in self.values.keys(v).iter() {
                    if let Some(p) = self.property(v, k, None) {
                        m.insert(k.to_string(), self.export(p));
                    }
                }
                ValueKind::Object(m)
            }
        };
        let def = self.expr(self.val(v).def);
        let origin = def.span.map(|span| host::Origin { env: def.env, span });
        Value {
            kind: if unknown && !matches!(self.val(v).repr, Repr::String(_)) {
                ValueKind::Null
            } else {
                kind
            },
            secret,
            unknown,
            origin,
        }
    }

    /// Turns a plain value into arena values defined by `def`.
    fn unexport(&mut self, v: &Value, def: ExprId) -> ValueId {
        let secret = v.secret || self.expr(def).secret;
        let (repr, schema) = match &v.kind {
            ValueKind::Null => (Repr::Null, Schema::of_type("null")),
            ValueKind::Bool(b) => (
                Repr::Bool(*b),
                Schema::literal(&serde_json::Value::Bool(*b)),
            ),
            ValueKind::Number(n) => (
                Repr::Number(Rc::from(n.as_str())),
                Schema::literal(&host::number_json(n)),
            ),
            ValueKind::String(s) => (
                Repr::String(Rc::from(s.as_str())),
                Schema::literal(&serde_json::Value::String(s.clone())),
            ),
            ValueKind::Array(items) => {
                let ids: Vec<ValueId> = items.iter().map(|i| self.unexport(i, def)).collect();
                let schema =
                    Schema::tuple(ids.iter().map(|&i| self.val(i).schema.clone()).collect());
                (Repr::List(ids), schema)
            }
            ValueKind::Object(m) => {
                let ids: BTreeMap<Rc<str>, ValueId> = m
                    .iter()
                    .map(|(k, x)| (Rc::from(k.as_str()), self.unexport(x, def)))
                    .collect();
                let schema = Schema::record_sorted(
                    ids.iter()
                        .map(|(k, &i)| (k.clone(), self.val(i).schema.clone()))
                        .collect(),
                );
                (Repr::Map(ids), schema)
            }
        };
        let id = self.new_value(def, repr, schema);
        let val = self.values.get_mut(id);
        val.secret = secret;
        val.unknown = v.unknown;
        id
    }
}

fn accessors(a: &ast::PropertyAccess) -> Vec<Acc> {
    a.accessors
        .iter()
        .map(|x| Acc {
            kind: x.kind.clone(),
            span: x.span,
        })
        .collect()
}
