//! Evaluation: `check` (static; providers are not opened and their results are unknown),
//! `eval` (providers opened) and `rotate`.
//!
//! The model follows the reference (see `../shared/spec/esc-eval.md`). Each environment's
//! declaration is turned into a tree of *exprs* (one per AST expression, with a memoized
//! state and an optional *base*: the imported value it overrides). Evaluation is demand
//! driven: the root forces every expr, a reference forces only its target. Values live in
//! an arena ([`arena::Values`]); a reference or an import merge works on a deep copy, as
//! in the reference, so later merges cannot disturb the original.
//!
//! Everything outside the process goes through [`Host`].
//!
//! Files: this one holds the API, the exprs (the IR) and the evaluator's state;
//! `lower.rs` turns declarations into exprs, `imports.rs` evaluates environments and their
//! imports, `memo.rs` forces exprs, `access.rs` resolves references, `interpolate.rs`
//! builds strings, `builtins.rs`, `template.rs` and `providers.rs` run the `fn::` calls, `validate.rs`
//! checks values against schemas, `merge.rs` merges and looks up values, `arena.rs` holds
//! them, `value.rs` is the public [`Value`], `export.rs` the typed output,
//! `prefetch.rs` the host calls made ahead of time and `once.rs` makes identical opens
//! once.

mod access;
mod arena;
mod builtins;
mod context;
mod export;
pub(crate) mod host;
mod imports;
mod interpolate;
mod lower;
mod memo;
mod merge;
mod once;
mod prefetch;
mod providers;
mod query;
mod share;
mod template;
mod validate;
mod value;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::ast::{Accessor, EnvironmentDecl};
use crate::diag::{Code, Diagnostic};
use crate::path;
use crate::source::{Source, Span};
use crate::syntax::Limits;

use crate::schema::Schema;
use arena::{ExprId, Repr, Val, ValueId, Values};
pub use context::{CONTEXT_PROPERTIES, ContextProperty, context_property, with_unknown_callers};
pub use host::{Host, HostError, HostErrorKind, ParsedEnvironment, Provider, Registry, Rotator};
use merge::ChainIndex;
pub use providers::canonical_rotate_path;
pub use query::{Place, Trace};
pub use share::SharedImports;
pub use value::{Value, ValueKind};

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
    arena: Option<Arc<export::Arena>>,
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
#[non_exhaustive]
pub struct Rotation {
    /// The document path of the mapping holding the `fn::rotate` call.
    pub path: String,
    /// What happened.
    pub status: RotationStatus,
}

/// What happened to a selected rotation.
#[derive(Clone, Debug)]
#[non_exhaustive]
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
/// are made concurrently (up to `options.max_in_flight` at once) ahead of the evaluation,
/// which runs in the reference's order: values, diagnostics and their order do not depend
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
    evaluate_root(source, decl, host, context, mode, options)
}

/// [`evaluate`] of a declaration handed over: it is dropped once lowered, so that it does
/// not add to the evaluation's peak memory (a front end that keeps no declaration).
pub(crate) fn evaluate_owned(
    source: &Source,
    decl: EnvironmentDecl,
    host: &dyn Host,
    context: &Value,
    mode: &Mode,
    options: &Options,
) -> Evaluation {
    evaluate_root(source, decl, host, context, mode, options)
}

/// The root's declaration as the evaluator gets it: handed over (dropped once lowered)
/// when no prefetcher reads it, else borrowed.
enum Held<'a, D> {
    Own(D),
    Ref(&'a EnvironmentDecl),
}

impl<D: std::borrow::Borrow<EnvironmentDecl>> std::borrow::Borrow<EnvironmentDecl> for Held<'_, D> {
    fn borrow(&self) -> &EnvironmentDecl {
        match self {
            Held::Own(d) => d.borrow(),
            Held::Ref(d) => d,
        }
    }
}

fn evaluate_root<D: std::borrow::Borrow<EnvironmentDecl>>(
    source: &Source,
    decl: D,
    host: &dyn Host,
    context: &Value,
    mode: &Mode,
    options: &Options,
) -> Evaluation {
    let root: &EnvironmentDecl = decl.borrow();
    let has_content = root.values.as_ref().is_some_and(|v| !v.is_empty())
        || root.imports.as_ref().is_some_and(|i| !i.is_empty());
    if !has_content {
        return Evaluation::default();
    }
    // Identical opens, by the prefetcher or the evaluator, are made once (see `once.rs`).
    let once = once::OpenOnce::new(host);
    let host: &dyn Host = &once;
    let prefetch = if options.max_in_flight > 1 {
        prefetch::Prefetch::new(
            host,
            source.name(),
            decl.borrow(),
            context,
            !matches!(mode, Mode::Check { .. }),
            options,
        )
    } else {
        None
    };
    let run =
        |decl: Held<'_, D>, prefetch: Option<&prefetch::Prefetch<'_>>, start: Option<&dyn Fn()>| {
            let mut ev = Evaluator::new(host, mode, options);
            ev.prefetch = prefetch;
            ev.start_dispatcher = start;
            let root = ev.environment(
                &Arc::new(source.clone()),
                decl,
                true,
                context.clone(),
                String::new(),
            );
            let mut properties = SortedMap::default();
            for key in ev.values.keys(root).iter() {
                if let Some(p) = ev.property(root, key, None) {
                    properties.push(key.to_string(), ev.export(p));
                }
            }
            let properties = properties.finish();
            let mut diags = std::mem::take(&mut ev.diags);
            crate::diag::sort(&mut diags);
            Evaluation {
                properties: Some(properties),
                diags,
                rotations: std::mem::take(&mut ev.rotations),
                arena: Some(Arc::new(export::Arena::new(ev, root))),
            }
        };
    if prefetch.is_none() {
        drop(prefetch);
        return run(Held::Own(decl), None, None);
    }
    match &prefetch {
        None => run(Held::Ref(decl.borrow()), None, None),
        // The evaluation runs on this thread while the prefetcher's dispatcher watches
        // its host calls (and starts workers only if they block). Where calls were seen
        // fast, prefetching starts off, and the first slow call of the evaluator's turns it
        // on and starts the dispatcher (`Evaluator::after_call`).
        Some(p) => std::thread::scope(|scope| {
            if p.is_active() {
                scope.spawn(move || p.dispatch(scope, false));
            }
            let start = move || {
                scope.spawn(move || p.dispatch(scope, true));
            };
            let _finish = prefetch::Finish(p);
            run(Held::Ref(decl.borrow()), Some(p), Some(&start))
        }),
    }
}

/// A map built from entries in ascending key order. Inserted one by one, they leave each
/// leaf of a `BTreeMap` about half full (a full leaf splits in the middle and the left half
/// is never added to again); `append` packs them. A batch is appended when it is as large as
/// the map, so the packing moves each entry about twice in all, and a map of many
/// properties takes about two thirds of the memory.
struct SortedMap<V> {
    map: BTreeMap<String, V>,
    batch: BTreeMap<String, V>,
}

impl<V> Default for SortedMap<V> {
    fn default() -> Self {
        SortedMap {
            map: BTreeMap::new(),
            batch: BTreeMap::new(),
        }
    }
}

impl<V> SortedMap<V> {
    /// Below this many entries nothing is packed: a few leaves.
    const BATCH: usize = 1024;

    /// Adds an entry whose key is greater than every key added before.
    fn push(&mut self, key: String, value: V) {
        debug_assert!(self.batch.last_key_value().is_none_or(|(k, _)| *k < key));
        self.batch.insert(key, value);
        if self.batch.len() >= Self::BATCH.max(self.map.len()) {
            self.map.append(&mut self.batch);
        }
    }

    fn finish(mut self) -> BTreeMap<String, V> {
        self.map.append(&mut self.batch);
        self.map
    }
}

/// Where an expr is evaluated and how it reports.
#[derive(Clone)]
struct Env {
    source: Arc<Source>,
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
enum ExprKind {
    /// An absent sub-expression (a missing builtin operand), or a synthetic def.
    Missing,
    Literal(Repr),
    Interpolate(Arc<[(String, Option<Vec<Accessor>>)]>),
    Symbol(Arc<[Accessor]>),
    Array(Arc<[ExprId]>),
    /// Declared properties in source order (duplicates dropped), cheap to clone.
    Object(Arc<IndexMap<Arc<str>, ExprId>>),
    Builtin(Arc<BuiltinCall>),
    /// The def of a late-bound property access on an unknown value.
    Access {
        receiver: ValueId,
        key: Arc<str>,
    },
}

#[derive(Clone, Debug)]
enum BuiltinCall {
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
    /// `fn::template`: `body` is the argument declared where it is written (never
    /// evaluated there: the typed output and editors read it); `ast` is what each
    /// `fn::eval` of the template declares again in its own scope.
    Template {
        body: ExprId,
        ast: Arc<crate::ast::Expr>,
    },
    /// `fn::eval`; `valid` is false when the argument cannot be a template (reported when
    /// the document was loaded).
    Eval {
        arg: ExprId,
        valid: bool,
    },
}

/// One evaluation of a template by a `fn::eval`: the exprs declared for it are located in
/// the template's document but resolve their references in `scope`.
#[derive(Clone)]
struct Instance {
    /// The `fn::template` expr evaluated.
    template: ExprId,
    /// The environment whose values, imports and context the template's references read.
    scope: usize,
    /// The `fn::eval` written in `scope`'s own document that led here (the outermost one
    /// when templates evaluate templates): where diagnostics about this evaluation go.
    site: ExprId,
}

/// Where an expr is declared, in [`Evaluator::paths`]: its declaration path (used in cycle
/// messages: `a.p`) and its document path (used in diagnostics: `values.a.p`), written out
/// only when a message needs them. Two strings per expr were a sixth of the memory of an
/// evaluation of many values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PathId(u32);

impl PathId {
    /// Both paths empty.
    const EMPTY: PathId = PathId(0);
}

/// One step of [`Evaluator::paths`]: a path is its parent's (none for the steps that start
/// one) with this step applied.
#[derive(Clone)]
struct PathNode {
    parent: PathId,
    step: PathStep,
}

#[derive(Clone)]
enum PathStep {
    /// Both paths empty.
    Empty,
    /// A document's root: `<NAME>` (the environment's name) and `values`.
    Root(u32),
    /// A top-level value: the key as written, and the document path with the key.
    Top(Arc<str>),
    /// Both paths with a mapping key.
    Key(Arc<str>),
    /// Both paths with a sequence index.
    Index(u32),
    /// No declaration path; the document path with a key (builtin arguments).
    DocKey(Arc<str>),
    /// No declaration path; the document path with a sequence index.
    DocIndex(u32),
    /// No declaration path; the document path with a builtin argument's key.
    DocName(&'static str),
    /// The declaration path kept, the document path with a key (a template's body
    /// declared again for an evaluation).
    KeepDocKey(&'static str),
    /// No declaration path; this document path.
    Doc(Box<str>),
}

#[derive(Clone)]
struct ExprData {
    env: usize,
    /// Its declaration and document paths.
    path: PathId,
    span: Option<Span>,
    kind: ExprKind,
    base: Option<ValueId>,
    schema: Schema,
    state: State,
    secret: bool,
    /// What the typed output needs beyond evaluation.
    extra: Option<Box<Extra>>,
    /// The template evaluation this expr was declared for (an index into
    /// `Evaluator::instances`), or `None` for an expr of a document as written.
    instance: Option<u32>,
}

/// Output-only facts about an expr.
#[derive(Clone)]
enum Extra {
    /// An object literal's key ranges (every entry with a key; the last duplicate wins).
    Object(Vec<(Arc<str>, Span)>),
    /// A builtin call.
    Builtin(BuiltinMeta),
}

#[derive(Clone)]
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
    /// The exprs' paths (see [`PathId`]).
    paths: Vec<PathNode>,
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
    /// Host calls made ahead of time (`None`: each call is made when needed).
    prefetch: Option<&'h prefetch::Prefetch<'h>>,
    /// Starts the prefetcher's dispatcher once prefetching is turned on.
    start_dispatcher: Option<&'h dyn Fn()>,
    /// While prefetching is off: the environments imported so far (their index in `envs`
    /// and parse), scanned if a slow call turns it on (see `Prefetch::activate`).
    unscanned: std::cell::RefCell<Vec<(usize, Arc<host::ParsedEnvironment>)>>,
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
    /// Every evaluation of a template so far.
    instances: Vec<Instance>,
    /// The template evaluations under way, innermost last: (template, scope). Evaluating a
    /// template again in the same scope while it is under way never ends: it is a cycle.
    instantiating: Vec<(ExprId, usize)>,
    /// The instance whose exprs are being declared.
    declaring: Option<u32>,
    /// How many exprs template evaluations have declared, and whether crossing the limit
    /// on them was reported.
    instantiated: usize,
    template_limit_reported: bool,
    /// Imports shared with the other evaluations of a static check (see `share.rs`).
    share: Option<share::Tracker<'h>>,
}

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
            paths: vec![PathNode {
                parent: PathId::EMPTY,
                step: PathStep::Empty,
            }],
            envs: Vec::new(),
            table: BTreeMap::new(),
            diags: Vec::new(),
            rotations: Vec::new(),
            current: 0,
            traces: std::collections::HashMap::new(),
            trace: Vec::new(),
            prefetch: None,
            start_dispatcher: None,
            unscanned: std::cell::RefCell::default(),
            depth: 0,
            depth_reported: false,
            chain_indexes: std::collections::HashMap::new(),
            weight_reported: false,
            import_limit_reported: false,
            import_depth: 0,
            options: options.clone(),
            instances: Vec::new(),
            instantiating: Vec::new(),
            declaring: None,
            instantiated: 0,
            template_limit_reported: false,
            share: share::Tracker::new(host, mode),
        }
    }

    /// Makes a host call, known to the prefetcher (which starts workers for what is queued
    /// if the call blocks).
    fn host_call<T>(&self, f: impl FnOnce(&dyn Host) -> T) -> T {
        match self.prefetch {
            Some(p) => {
                let out = p.call(|| f(self.host));
                self.after_call();
                out
            }
            None => f(self.host),
        }
    }

    /// After a host call of the evaluator's (or before an import): turns prefetching on if a
    /// call was slow while it was off, with what the environments read so far refer to, and
    /// starts the dispatcher. Every environment in `unscanned` is in `envs` by then (an
    /// import's own load does not come here: see `import`).
    fn after_call(&self) {
        let (Some(p), Some(start)) = (self.prefetch, self.start_dispatcher) else {
            return;
        };
        if !p.activation_wanted() {
            return;
        }
        let unscanned = std::mem::take(&mut *self.unscanned.borrow_mut());
        let root = &self.envs[0];
        let mut envs = vec![(root.source.name(), p.root(), &root.context_value)];
        for (i, parsed) in &unscanned {
            if let Some(decl) = &parsed.decl {
                let e = &self.envs[*i];
                envs.push((e.source.name(), decl, &e.context_value));
            }
        }
        if p.activate(self.table.keys().map(String::as_str), &envs) {
            start();
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
        let doc_path = self.doc_path(e);
        let d = match x.span {
            Some(span) => d.at(env.source.name(), span, &doc_path),
            None => {
                let mut d = d.in_environment(env.source.name());
                d.path = doc_path;
                d
            }
        };
        self.relocated(x.instance, d)
    }

    fn error_span(&mut self, e: ExprId, span: Span, code: Code, message: impl Into<String>) {
        let x = &self.exprs[e.0 as usize];
        let env = &self.envs[x.env];
        let d = Diagnostic::error(code, message).at(env.source.name(), span, &self.doc_path(e));
        let d = self.relocated(x.instance, d);
        self.diags.push(d);
    }

    // ---------------------------------------------------------------------------------
    // Paths

    /// A new path: `parent`'s with `step` applied.
    fn path(&mut self, parent: PathId, step: PathStep) -> PathId {
        let id = PathId(u32::try_from(self.paths.len()).unwrap_or(u32::MAX));
        self.paths.push(PathNode { parent, step });
        id
    }

    /// The declaration path and the document path of `p`, written out.
    fn write_paths(&self, p: PathId) -> (String, String) {
        let mut chain = vec![p];
        let mut at = p;
        while !matches!(
            self.paths[at.0 as usize].step,
            PathStep::Empty | PathStep::Root(_) | PathStep::Doc(_)
        ) {
            at = self.paths[at.0 as usize].parent;
            chain.push(at);
        }
        let (mut decl, mut doc) = (String::new(), String::new());
        for id in chain.iter().rev() {
            match &self.paths[id.0 as usize].step {
                PathStep::Empty => {}
                PathStep::Root(env) => {
                    decl = format!("<{}>", self.envs[*env as usize].source.name());
                    "values".clone_into(&mut doc);
                }
                PathStep::Top(key) => {
                    decl.clear();
                    decl.push_str(key);
                    path::push_key(&mut doc, key);
                }
                PathStep::Key(key) => {
                    path::push_key(&mut decl, key);
                    path::push_key(&mut doc, key);
                }
                PathStep::Index(i) => {
                    path::push_index(&mut decl, *i as usize);
                    path::push_index(&mut doc, *i as usize);
                }
                PathStep::DocKey(key) => {
                    decl.clear();
                    path::push_key(&mut doc, key);
                }
                PathStep::DocIndex(i) => {
                    decl.clear();
                    path::push_index(&mut doc, *i as usize);
                }
                PathStep::DocName(key) => {
                    decl.clear();
                    path::push_key(&mut doc, key);
                }
                PathStep::KeepDocKey(key) => path::push_key(&mut doc, key),
                PathStep::Doc(text) => {
                    decl.clear();
                    doc.clear();
                    doc.push_str(text);
                }
            }
        }
        (decl, doc)
    }

    /// Expr `e`'s declaration path (`a.p`).
    fn decl_path(&self, e: ExprId) -> String {
        self.write_paths(self.expr(e).path).0
    }

    /// Expr `e`'s document path (`values.a.p`).
    fn doc_path(&self, e: ExprId) -> String {
        self.write_paths(self.expr(e).path).1
    }

    /// A diagnostic about an expr declared for a template evaluation goes to the
    /// `fn::eval` that evaluated the template, in the evaluating environment's own document
    /// (where the fix is, and which an editor of that document shows); its detail says where
    /// in the template it arose.
    fn relocated(&self, instance: Option<u32>, d: Diagnostic) -> Diagnostic {
        let Some(i) = instance else {
            return d;
        };
        let inst = &self.instances[i as usize];
        let template = &self.exprs[inst.template.0 as usize];
        let defined_in = self.envs[template.env].source.name();
        let mut detail = format!(
            "in the template {} of {defined_in}, evaluated here",
            self.doc_path(inst.template)
        );
        if let (Some(span), Some(env)) = (
            d.span,
            self.envs.iter().find(|e| e.source.name() == d.environment),
        ) {
            let lc = env.source.line_col(span.start());
            let _ = write!(detail, " (at {}:{}:{})", d.environment, lc.line, lc.column);
        }
        let moved = self.located(
            inst.site,
            Diagnostic {
                severity: d.severity,
                ..Diagnostic::error(d.code, d.summary)
            },
        );
        Diagnostic { detail, ..moved }
    }

    /// The environment whose values, imports and context expr `e`'s references read: its
    /// own, or for an expr declared for a template evaluation, the evaluating one.
    fn scope_of(&self, e: ExprId) -> usize {
        let x = &self.exprs[e.0 as usize];
        match x.instance {
            Some(i) => self.instances[i as usize].scope,
            None => x.env,
        }
    }

    // ---------------------------------------------------------------------------------
    // Arena helpers

    fn add_expr(&mut self, mut data: ExprData) -> ExprId {
        let id = ExprId(u32::try_from(self.exprs.len()).unwrap_or(u32::MAX));
        if data.instance.is_none() {
            data.instance = self.declaring;
        }
        self.exprs.push(data);
        id
    }

    /// An expr with no value of its own (see [`ExprKind::Missing`]) at `path` (the
    /// declaration path is not used: make it one with an empty declaration path).
    fn synthetic(&mut self, env: usize, span: Option<Span>, path: PathId) -> ExprId {
        self.add_expr(ExprData {
            env,
            path,
            span,
            kind: ExprKind::Missing,
            base: None,
            schema: Schema::Always,
            state: State::Declared,
            secret: false,
            extra: None,
            instance: None,
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
    // Export

    /// The plain value (effective keys, flags kept).
    fn export(&mut self, v: ValueId) -> Value {
        stacker::maybe_grow(memo::STACK_RED_ZONE, memo::STACK_SEGMENT, || {
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
                let mut m = SortedMap::default();
                for k in self.values.keys(v).iter() {
                    if let Some(p) = self.property(v, k, None) {
                        m.push(k.to_string(), self.export(p));
                    }
                }
                ValueKind::Object(m.finish())
            }
        };
        let def = self.expr(self.val(v).def);
        let origin = def.span.map(|span| value::Origin { env: def.env, span });
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
                Repr::Number(Arc::from(n.as_str())),
                Schema::literal(&value::number_json(n)),
            ),
            // An unknown string's text is a placeholder, not a constant.
            ValueKind::String(s) if v.unknown => (
                Repr::String(Arc::from(s.as_str())),
                Schema::of_type("string"),
            ),
            ValueKind::String(s) => (
                Repr::String(Arc::from(s.as_str())),
                Schema::literal(&serde_json::Value::String(s.clone())),
            ),
            ValueKind::Array(items) => {
                let ids: Vec<ValueId> = items.iter().map(|i| self.unexport(i, def)).collect();
                let schema =
                    Schema::tuple(ids.iter().map(|&i| self.val(i).schema.clone()).collect());
                (Repr::List(ids), schema)
            }
            ValueKind::Object(m) => {
                let ids: BTreeMap<Arc<str>, ValueId> = m
                    .iter()
                    .map(|(k, x)| (Arc::from(k.as_str()), self.unexport(x, def)))
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
