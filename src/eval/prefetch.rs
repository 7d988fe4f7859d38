//! Concurrency without changing results: before the (sequential, deterministic) evaluation
//! runs, independent host calls are made ahead of time on a bounded pool of threads, and
//! the evaluator takes their results from a cache instead of waiting for each in turn.
//!
//! - Environment loads: the import graph is discovered breadth-first from the root's
//!   `imports` and `${environments.P.E}` references; every environment found is loaded
//!   concurrently, and its own imports are discovered as it arrives. Loads only read.
//! - Provider opens (eval and rotate modes): a `fn::open` whose inputs are plain
//!   literals, and valid for the provider's input schema, is opened ahead of time with
//!   the execution context its document will have. A document that holds `fn::final`
//!   could make the evaluator skip an overridden call, so opens are not prefetched once a
//!   `fn::final` appears anywhere in the graph.
//!
//! The evaluator still asks for everything in its own order; a result is used once per
//! call (two identical opens share one call to the provider: the host they go through
//! makes it once, see `once.rs`), and anything not prefetched is fetched directly. With a deterministic host, values, diagnostics and
//! their order are the same as without prefetching (a test compares them on the whole
//! conformance corpus).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Condvar, Mutex};

use petgraph::graph::{DiGraph, NodeIndex};

use super::host::Host;
use super::value::{Value, ValueKind};
use crate::ast::{Call, EnvironmentDecl, Expr, ExprKind};
use crate::schema::{self, Place, Problem, Schema, Subject, View};
use crate::source::Source;

/// An environment parsed ahead of time (what [`crate::ast::load`] gives, less the syntax tree).
pub(crate) struct Parsed {
    pub(crate) decl: Option<EnvironmentDecl>,
    pub(crate) diags: Vec<crate::Diagnostic>,
    /// The document's YAML nodes.
    pub(crate) nodes: usize,
}

/// What was fetched ahead of time.
#[derive(Default)]
pub(crate) struct Prefetched {
    loads: BTreeMap<String, Result<String, String>>,
    parsed: BTreeMap<String, Parsed>,
    opens: HashMap<String, VecDeque<Result<Value, String>>>,
    /// The import graph: environments and which imports which (inline references included).
    pub(crate) graph: DiGraph<String, ()>,
}

impl Prefetched {
    /// The text of environment `name`, if it was loaded ahead of time.
    pub(crate) fn load(&self, name: &str) -> Option<Result<String, String>> {
        self.loads.get(name).cloned()
    }

    /// The parse of environment `name`'s prefetched text, handed out once.
    pub(crate) fn take_parsed(&mut self, name: &str) -> Option<Parsed> {
        self.parsed.remove(name)
    }

    /// A result of opening `provider` with `inputs` in `context`, if one was made ahead of
    /// time; each result is handed out once.
    pub(crate) fn take_open(
        &mut self,
        provider: &str,
        inputs: &Value,
        context: &Value,
    ) -> Option<Result<Value, String>> {
        self.opens
            .get_mut(&open_key(provider, inputs, context))?
            .pop_front()
    }
}

fn open_key(provider: &str, inputs: &Value, context: &Value) -> String {
    format!(
        "{provider}\u{0}{}\u{0}{}",
        inputs.to_json(false),
        context.to_json(false)
    )
}

enum Job {
    Load {
        name: String,
        context: Value,
    },
    Open {
        provider: String,
        inputs: Value,
        context: Value,
    },
}

struct State {
    queue: VecDeque<Job>,
    in_flight: usize,
    seen: BTreeSet<String>,
    nodes: BTreeMap<String, NodeIndex>,
    result: Prefetched,
    /// Opens found so far, held back until the whole graph is known to have no
    /// `fn::final` (see the module docs).
    pending_opens: Vec<Job>,
    saw_final: bool,
    /// The evaluator reads no more environments than this.
    max_environments: usize,
}

/// Prefetches for the evaluation of `root` (named `root_name`) with `context` (the root's
/// execution context, before the evaluator adds the environment names).
pub(crate) fn prefetch(
    host: &dyn Host,
    root_name: &str,
    decl: &EnvironmentDecl,
    context: &Value,
    open_providers: bool,
    options: &super::Options,
) -> Prefetched {
    let mut state = State {
        queue: VecDeque::new(),
        in_flight: 0,
        seen: BTreeSet::new(),
        nodes: BTreeMap::new(),
        result: Prefetched::default(),
        pending_opens: Vec::new(),
        saw_final: false,
        max_environments: options.max_environments,
    };
    state.seen.insert(root_name.to_owned());
    let root_context = env_context(context, root_name, "");
    discover(
        &mut state,
        host,
        root_name,
        decl,
        &root_context,
        open_providers,
    );
    // Nothing to fetch (no imports, no literal opens): no threads.
    let jobs = state.queue.len() + state.pending_opens.len();
    if jobs == 0 {
        return state.result;
    }
    let shared = (Mutex::new(state), Condvar::new());
    let workers = options.max_in_flight.min(jobs).clamp(1, 256);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| worker(&shared, host, open_providers, &options.limits));
        }
    });
    let state = shared
        .0
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    state.result
}

fn worker(
    shared: &(Mutex<State>, Condvar),
    host: &dyn Host,
    open_providers: bool,
    limits: &crate::Limits,
) {
    let (lock, ready) = shared;
    loop {
        let job = {
            let mut state = lock
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            loop {
                if state.queue.is_empty()
                    && state.in_flight == 0
                    && !state.saw_final
                    && !state.pending_opens.is_empty()
                {
                    // The graph is complete and holds no `fn::final`: release the opens, and
                    // wake a worker for each but the one this worker takes.
                    let pending = std::mem::take(&mut state.pending_opens);
                    state.queue.extend(pending);
                    for _ in 1..state.queue.len() {
                        ready.notify_one();
                    }
                }
                if let Some(job) = state.queue.pop_front() {
                    state.in_flight += 1;
                    break job;
                }
                if state.in_flight == 0 {
                    ready.notify_all();
                    return;
                }
                state = ready
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        };
        match job {
            Job::Load { name, context } => {
                let loaded = host.load_environment(&name).map_err(String::from);
                // Parse and scan outside the lock; the evaluator reuses the parse.
                let parsed = loaded.as_ref().ok().map(|text| {
                    let l =
                        crate::ast::load_with(&Source::new(name.as_str(), text.as_str()), limits);
                    Parsed {
                        decl: l.decl,
                        diags: l.diags,
                        nodes: l.syntax.nodes,
                    }
                });
                let found = parsed
                    .as_ref()
                    .and_then(|p| {
                        p.decl
                            .as_ref()
                            .filter(|_| !p.diags.iter().any(crate::Diagnostic::is_error))
                    })
                    .map(|decl| {
                        let root = context
                            .get("rootEnvironment")
                            .and_then(|r| r.get("name"))
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        let ctx = env_context(&context, &name, root);
                        (scan(host, &name, decl, open_providers), ctx)
                    });
                let mut state = lock
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let queued = state.queue.len();
                if let Some((found, ctx)) = found {
                    record(&mut state, &name, found, &ctx);
                }
                let added = state.queue.len() - queued;
                if let Some(parsed) = parsed {
                    state.result.parsed.insert(name.clone(), parsed);
                }
                state.result.loads.insert(name, loaded);
                state.in_flight -= 1;
                wake(&state, ready, added);
            }
            Job::Open {
                provider,
                inputs,
                context,
            } => {
                let opened = host.provider(&provider).map(|p| p.open(&inputs, &context));
                let mut state = lock
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Ok(result) = opened {
                    state
                        .result
                        .opens
                        .entry(open_key(&provider, &inputs, &context))
                        .or_default()
                        .push_back(result);
                }
                state.in_flight -= 1;
                wake(&state, ready, 0);
            }
        }
    }
}

/// After a job that queued `added` more: wakes a waiting worker for each new job (this
/// one takes a job itself), or all of them when nothing is in flight (to release the opens,
/// or to exit). Waking all after every job made each job cost a wake-up of every worker.
fn wake(state: &State, ready: &Condvar, added: usize) {
    if state.in_flight == 0 {
        ready.notify_all();
    } else {
        for _ in 1..added {
            ready.notify_one();
        }
    }
}

/// The execution context environment `name` sees, from its importer's (`inherited`, whose
/// root name is `inherited_root`).
fn env_context(inherited: &Value, name: &str, inherited_root: &str) -> Value {
    let root = if inherited_root.is_empty() || inherited_root == "<yaml>" {
        name
    } else {
        inherited_root
    };
    let mut entries: BTreeMap<String, Value> = match &inherited.kind {
        ValueKind::Object(m) => m
            .iter()
            .map(|(k, v)| (k.clone(), Value::with_flags(v.kind.clone(), false, false)))
            .collect(),
        _ => BTreeMap::new(),
    };
    entries.insert(
        "currentEnvironment".into(),
        Value::object([("name".to_owned(), Value::string(name))]),
    );
    entries.insert(
        "rootEnvironment".into(),
        Value::object([("name".to_owned(), Value::string(root))]),
    );
    Value::new(ValueKind::Object(entries))
}

/// Queues the imports, inline references and literal opens of one environment.
fn discover(
    state: &mut State,
    host: &dyn Host,
    name: &str,
    decl: &EnvironmentDecl,
    context: &Value,
    open_providers: bool,
) {
    let found = scan(host, name, decl, open_providers);
    record(state, name, found, context);
}

/// What one environment refers to.
struct Found {
    targets: Vec<String>,
    /// Literal opens whose inputs the provider accepts.
    opens: Vec<(String, Value)>,
    saw_final: bool,
}

/// Finds what `decl` (environment `name`) imports, references inline and opens, each
/// environment named as the evaluator will name it (no shared state: workers run it
/// outside the lock).
fn scan(host: &dyn Host, name: &str, decl: &EnvironmentDecl, open_providers: bool) -> Found {
    let mut targets: Vec<String> = decl
        .imports
        .iter()
        .flatten()
        .map(|i| host.import_name(name, &i.environment.value))
        .collect();
    targets.extend(
        decl.environment_refs()
            .map(|(_, r)| host.import_name(name, &r.name)),
    );
    let mut opens = Vec::new();
    let mut saw_final = false;
    // A `fn::final` anywhere may skip a call; an open inside a template is made by each
    // `fn::eval` of it, with that environment's context, not where it is written.
    saw_final |= decl
        .exprs()
        .any(|x| matches!(&x.kind, ExprKind::Builtin(b) if matches!(b.call, Call::Final)));
    for x in decl.eager_exprs() {
        let ExprKind::Builtin(b) = &x.kind else {
            continue;
        };
        if open_providers
            && let Call::Open {
                provider: Some(p),
                inputs: Some(part),
            } = &b.call
            && let Some(inputs) = b.operand(*part).and_then(literal)
            && inputs_valid(host, &p.value, &inputs)
        {
            opens.push((p.value.clone(), inputs));
        }
    }
    Found {
        targets,
        opens,
        saw_final,
    }
}

/// Adds what environment `name` (evaluated with `context`) refers to: graph edges, loads
/// of environments not seen yet, and opens.
fn record(state: &mut State, name: &str, found: Found, context: &Value) {
    let from = node(state, name);
    state.saw_final |= found.saw_final;
    // Each environment is discovered once, so deduplicating its own targets keeps the
    // graph free of parallel edges (`update_edge` would scan every edge of `from`: quadratic
    // for a wide import list).
    let mut linked = BTreeSet::new();
    for target in found.targets {
        // The evaluator imports no more than this (and reports it): load no more.
        if state.seen.len() >= state.max_environments && !state.seen.contains(&target) {
            continue;
        }
        let to = node(state, &target);
        if linked.insert(to) {
            state.result.graph.add_edge(from, to, ());
        }
        if state.seen.insert(target.clone()) {
            state.queue.push_back(Job::Load {
                name: target,
                context: context.clone(),
            });
        }
    }
    for (provider, inputs) in found.opens {
        state.pending_opens.push(Job::Open {
            provider,
            inputs,
            context: context.clone(),
        });
    }
}

fn node(state: &mut State, name: &str) -> NodeIndex {
    if let Some(&n) = state.nodes.get(name) {
        return n;
    }
    let n = state.result.graph.add_node(name.to_owned());
    state.nodes.insert(name.to_owned(), n);
    n
}

/// Whether the provider exists and accepts `inputs` (so the evaluator will open it).
fn inputs_valid(host: &dyn Host, provider: &str, inputs: &Value) -> bool {
    let Ok(p) = host.provider(provider) else {
        return false;
    };
    let (input_json, output_json) = p.schema();
    let (Ok(input), Ok(_)) = (
        Schema::from_json(&input_json).and_then(|s| s.compile()),
        Schema::from_json(&output_json).and_then(|s| s.compile()),
    ) else {
        return false;
    };
    if !matches!(inputs.kind, ValueKind::Object(_)) && input == Schema::Always {
        return false;
    }
    let mut problems = Vec::new();
    schema::validate(&input, &Plain(inputs), &mut problems)
}

/// The value of an expression made only of literals, as the evaluator would export it.
fn literal(e: &Expr) -> Option<Value> {
    Some(Value::new(match &e.kind {
        ExprKind::Null => ValueKind::Null,
        ExprKind::Bool(b) => ValueKind::Bool(*b),
        ExprKind::Number(n) => ValueKind::Number(n.to_string()),
        ExprKind::String(s) => ValueKind::String(s.to_string()),
        ExprKind::List(items) => {
            ValueKind::Array(items.iter().map(literal).collect::<Option<_>>()?)
        }
        ExprKind::Object(entries) => {
            let mut m = BTreeMap::new();
            for en in entries {
                // Entries without a literal key are dropped; the first duplicate wins.
                let Some(k) = &en.key else { continue };
                if !m.contains_key(k) {
                    m.insert(k.clone(), literal(&en.value)?);
                }
            }
            ValueKind::Object(m)
        }
        ExprKind::Interpolate(_) | ExprKind::Symbol(_) | ExprKind::Builtin(_) => return None,
    }))
}

/// A plain value seen by the validator (only whether it passes matters here).
#[derive(Clone)]
struct Plain<'a>(&'a Value);

#[derive(Clone)]
struct Nowhere;

impl Place for Nowhere {
    type At = ();
    fn property(&self, _: &str) -> Self {
        Nowhere
    }
    fn index(&self, _: usize) -> Self {
        Nowhere
    }
    fn problem(&self, message: &str) -> Problem<()> {
        Problem {
            at: (),
            message: message.to_owned(),
        }
    }
}

impl Subject for Plain<'_> {
    type Place = Nowhere;

    fn view(&self) -> View<Self> {
        match &self.0.kind {
            ValueKind::Null => View::Null,
            ValueKind::Bool(b) => View::Bool(*b),
            ValueKind::Number(n) => View::Number(n.clone()),
            ValueKind::String(s) => View::String(s.clone()),
            ValueKind::Array(items) => View::Array(items.iter().map(Plain).collect()),
            ValueKind::Object(m) => {
                View::Object(m.iter().map(|(k, v)| (k.clone(), Plain(v))).collect())
            }
        }
    }

    fn place(&self) -> Nowhere {
        Nowhere
    }
}
