//! Concurrency without changing results: while the (sequential, deterministic) evaluation
//! runs, independent host calls are made ahead of it on a bounded set of threads, and the
//! evaluator takes their results instead of waiting for each in turn.
//!
//! - Environment loads: the import graph is discovered breadth-first from the root's
//!   `imports` and `${environments.P.E}` references; every environment found is queued,
//!   and its own imports are discovered as it arrives. Loads only read.
//! - Provider opens (eval and rotate modes): a `fn::open` whose inputs are plain
//!   literals, and valid for the provider's input schema, is opened ahead of time with
//!   the execution context its document will have. A document that holds `fn::final`
//!   could make the evaluator skip an overridden call (the reference never makes it), so
//!   opens are queued once the whole graph is loaded and only if no `fn::final` appears
//!   in it.
//!
//! No concurrency tax: the evaluator starts at once, on the calling thread, and runs a
//! queued job itself when it needs its result first. Threads are started only when a host
//! call blocks: a dispatcher thread polls the calls under way every [`STALL`], and when none
//! has ended over a whole period while jobs wait (and, on Linux, the caller is asleep in
//! its call rather than waiting for a CPU), it starts workers for them (at most
//! `max_in_flight - 1`, the caller being one).
//!
//! Prefetching is on from the start of an evaluation only while this process has seen host
//! calls outlive [`STALL`] ([`CALLS_MAY_BLOCK`]; so for the first evaluation). Otherwise it
//! is off: nothing is scanned or queued, and the evaluator only times its own calls (no
//! lock). After the first slow one it turns prefetching on ([`Prefetch::activate`]): the
//! environments it has read so far are scanned as they would have been, what they refer to
//! and it has not read yet is queued, and the dispatcher starts workers for it at once.
//! With fast loads (a file, an in-memory host), no thread is started and nothing scanned:
//! the evaluation costs about what a sequential one does; with slow ones (a network
//! backend, a provider), every queued call is under way a fraction of a millisecond after
//! the first one blocks (one call later in a process whose calls were fast until then).
//!
//! The evaluator still asks for everything in its own order; anything not queued is
//! fetched directly. Two identical opens, by a worker or the evaluator, are one call: the
//! host they go through makes it once (see `once.rs`), so the evaluator's open of a call a
//! worker is making waits for it. With a deterministic host, values, diagnostics and their
//! order are the same as without prefetching (a test compares them on the whole
//! conformance corpus).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::host::{Host, ParsedEnvironment};
use super::value::{Value, ValueKind};
use crate::ast::{Call, EnvironmentDecl, Expr, ExprKind};
use crate::schema::{self, Place, Problem, Schema, Subject, View};

/// How long the host calls under way may go without one ending, while jobs wait, before
/// workers are started for the waiting jobs. Loading and parsing an environment from a
/// file or memory takes tens of microseconds; a network call takes milliseconds.
const STALL: Duration = Duration::from_micros(250);

/// Whether the last evaluation of this process that prefetched saw a host call outlive
/// [`STALL`] (at first: not known, so yes). When it did not, the next evaluation starts with
/// prefetching off (no thread, no scan) until one of its own calls is seen slow: on a busy
/// machine, starting and joining even one idle thread per evaluation cost more than the
/// whole evaluation of fast loads. When it did, prefetching is on from the start, so that a
/// process whose calls block does not make each evaluation's first call alone.
static CALLS_MAY_BLOCK: AtomicBool = AtomicBool::new(true);

/// A loaded environment: its text (or the host's error) and its parse. The text is shared,
/// not copied, with the evaluator's [`crate::Source`].
pub(crate) struct Loaded {
    pub(crate) text: Result<Arc<str>, String>,
    pub(crate) parsed: Option<Arc<ParsedEnvironment>>,
}

/// A job's execution context (its environment's, or its importer's for a load): shared by
/// the jobs of one environment.
type Context = Arc<Value>;

enum Job {
    Load {
        name: String,
        context: Context,
    },
    Open {
        provider: String,
        inputs: Value,
        context: Context,
    },
}

struct State {
    queue: VecDeque<Job>,
    /// Loads queued or under way (by a worker or the evaluator).
    loads_pending: usize,
    /// Environments being loaded by a worker.
    loading: BTreeSet<String>,
    loaded: BTreeMap<String, Loaded>,
    /// Every environment queued so far (and the root).
    seen: BTreeSet<String>,
    /// Opens found so far, held back until the whole graph is known to have no
    /// `fn::final` (see the module docs).
    pending_opens: Vec<Job>,
    saw_final: bool,
    /// The evaluator reads no more environments than this.
    max_environments: usize,
    /// Host calls under way, and how many have ended (the dispatcher's measure of progress).
    running: usize,
    ended: u64,
    workers: usize,
    /// A call of this evaluation outlived [`STALL`] (while prefetching was on).
    saw_slow: bool,
    /// The evaluation is over: workers and the dispatcher stop.
    done: bool,
}

/// The prefetcher of one evaluation, shared by the evaluator, the dispatcher and the workers.
pub(crate) struct Prefetch<'h> {
    host: &'h dyn Host,
    open_providers: bool,
    limits: crate::Limits,
    max_workers: usize,
    state: Mutex<State>,
    /// Workers wait here for jobs.
    jobs: Condvar,
    /// The evaluator waits here for a load a worker is making.
    results: Condvar,
    /// Where the evaluating thread's scheduler state is read (Linux), see [`asleep`].
    caller: Option<Arc<str>>,
    /// Providers' compiled input schemas, by name (`None`: no such provider, or a schema that
    /// does not compile); compiled once per evaluation, not once per open.
    schemas: Schemas,
    /// The dispatcher sleeps here between its checks (woken early only by [`Self::finish`]).
    calls: Condvar,
    /// Prefetching is on: the environments read so far were scanned and a dispatcher runs
    /// (or, when nothing was found, is not needed). Only the evaluator's thread sets it.
    active: AtomicBool,
    /// A call of the evaluator's outlived [`STALL`] while prefetching was off: the evaluator
    /// turns it on (see [`Self::activation_wanted`]).
    slow: AtomicBool,
    /// The root's declaration, scanned when prefetching is turned on.
    root: &'h EnvironmentDecl,
    /// Run by the dispatcher right after it started workers (tests: the evaluation ending
    /// at that moment).
    #[cfg(test)]
    started_workers: Option<fn(&Prefetch<'_>)>,
}

impl State {
    /// Nothing queued, loaded or under way.
    fn new(max_environments: usize) -> Self {
        State {
            queue: VecDeque::new(),
            loads_pending: 0,
            loading: BTreeSet::new(),
            loaded: BTreeMap::new(),
            seen: BTreeSet::new(),
            pending_opens: Vec::new(),
            saw_final: false,
            max_environments,
            running: 0,
            ended: 0,
            workers: 0,
            saw_slow: false,
            done: false,
        }
    }
}

impl<'h> Prefetch<'h> {
    /// The prefetcher for the evaluation of `root` (named `root_name`) with `context` (the
    /// root's execution context, before the evaluator adds the environment names), with
    /// the root's imports and opens queued; `None` when there is nothing to fetch.
    ///
    /// While this process's calls were seen fast ([`CALLS_MAY_BLOCK`]), nothing is scanned:
    /// the prefetcher starts off (see the module docs).
    pub(crate) fn new(
        host: &'h dyn Host,
        root_name: &str,
        decl: &'h EnvironmentDecl,
        context: &Value,
        open_providers: bool,
        options: &super::Options,
    ) -> Option<Self> {
        let active = CALLS_MAY_BLOCK.load(Ordering::Relaxed);
        let mut state = State::new(options.max_environments);
        let schemas = Schemas::default();
        if active {
            state.seen.insert(root_name.to_owned());
            let root_context = Arc::new(env_context(context, root_name, ""));
            let found = scan(host, &schemas, root_name, decl, open_providers);
            record(&mut state, found, &root_context);
            release_opens(&mut state);
            // One job the evaluator runs itself when it gets there: no thread can help.
            if state.queue.len() + state.pending_opens.len() < 2 {
                return None;
            }
        }
        Some(Prefetch {
            host,
            open_providers,
            limits: options.limits,
            max_workers: options.max_in_flight.saturating_sub(1).min(256),
            state: Mutex::new(state),
            caller: caller_stat(),
            schemas,
            jobs: Condvar::new(),
            results: Condvar::new(),
            calls: Condvar::new(),
            active: AtomicBool::new(active),
            slow: AtomicBool::new(false),
            root: decl,
            #[cfg(test)]
            started_workers: None,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs the dispatcher on this thread (a scoped thread of `scope`) until [`Self::finish`].
    ///
    /// It polls: it wakes every [`STALL`] and starts workers when a host call was under
    /// way at its last wake and none has ended since. The evaluator never wakes it (only
    /// [`Self::finish`] does): a wake-up per host call, on a 2-core machine, cost the
    /// evaluation more than the calls themselves.
    ///
    /// `slow`: calls are known to block (one just did), so workers start at once.
    pub(crate) fn dispatch<'s>(&'s self, scope: &'s std::thread::Scope<'s, '_>, slow: bool) {
        let mut state = self.lock();
        // What the last wake saw: calls ended so far, and whether one was under way.
        let mut last = (state.ended, state.running > 0);
        let mut slow = slow;
        // Consecutive periods without progress.
        let mut stalls = 0u32;
        loop {
            if state.done {
                return;
            }
            // No call has ended over a whole period: stalled if the caller is really
            // waiting (not merely descheduled on a busy machine, where starting threads
            // only slows it down), or after a longer stall whatever the reason.
            let stalled = std::mem::take(&mut slow)
                || last.1
                    && state.running > 0
                    && state.ended == last.0
                    && (state.workers > 0 || {
                        stalls += 1;
                        stalls >= 8 || self.caller.as_deref().is_some_and(asleep)
                    });
            if !(last.1 && state.running > 0 && state.ended == last.0) {
                stalls = 0;
            }
            let spawn = if stalled {
                state
                    .queue
                    .len()
                    .min(self.max_workers.saturating_sub(state.workers))
            } else {
                0
            };
            if spawn > 0 {
                state.workers += spawn;
                drop(state);
                for _ in 0..spawn {
                    scope.spawn(|| self.work());
                }
                #[cfg(test)]
                if let Some(hook) = self.started_workers {
                    hook(self);
                }
                state = self.lock();
            }
            last = (state.ended, state.running > 0);
            // The evaluation may have ended while the lock was released to start workers:
            // its wake-up is gone, and the wait below may have no deadline.
            if state.done {
                return;
            }
            // Once every worker is started, only the end of the evaluation matters.
            state = if state.workers < self.max_workers {
                self.calls
                    .wait_timeout(state, STALL)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            } else {
                self.calls
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner)
            };
        }
    }

    /// A worker: runs queued jobs until the evaluation is over.
    fn work(&self) {
        let mut state = self.lock();
        loop {
            if state.done {
                return;
            }
            let Some(job) = state.queue.pop_front() else {
                state = self
                    .jobs
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            let loading = match &job {
                Job::Load { name, .. } => {
                    state.loading.insert(name.clone());
                    Some(name.clone())
                }
                Job::Open { .. } => None,
            };
            state.running += 1;
            drop(state);
            let started = Instant::now();
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run(job)));
            state = self.lock();
            state.saw_slow |= started.elapsed() >= STALL;
            if let Err(panic) = ran {
                // The evaluator, if it waits for this load, makes it itself; the scope
                // passes the panic on.
                if let Some(name) = loading {
                    state.loading.remove(&name);
                    state.loads_pending -= 1;
                }
                state.running -= 1;
                drop(state);
                self.results.notify_all();
                std::panic::resume_unwind(panic);
            }
        }
    }

    /// Runs `job` (counted as running by the caller) and records its result: a loaded
    /// environment is scanned for what it imports and opens.
    fn run(&self, job: Job) {
        match job {
            Job::Load { name, context } => {
                let text = self
                    .host
                    .load_environment(&name)
                    .map(Arc::from)
                    .map_err(String::from);
                // Parse (or take the host's parse) and scan outside the lock; the evaluator
                // reuses the parse.
                let parsed = text
                    .as_ref()
                    .ok()
                    .map(|text| self.host.parse(&name, text, &self.limits));
                let found = parsed.as_ref().and_then(|p| {
                    p.decl
                        .as_ref()
                        .filter(|_| !p.diags.iter().any(crate::Diagnostic::is_error))
                });
                let found = found.map(|decl| {
                    let root = context
                        .get("rootEnvironment")
                        .and_then(|r| r.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let ctx = Arc::new(env_context(&context, &name, root));
                    (
                        scan(self.host, &self.schemas, &name, decl, self.open_providers),
                        ctx,
                    )
                });
                let mut state = self.lock();
                let queued = state.queue.len();
                if let Some((found, ctx)) = found {
                    record(&mut state, found, &ctx);
                }
                state.loading.remove(&name);
                state.loaded.insert(name, Loaded { text, parsed });
                state.loads_pending -= 1;
                release_opens(&mut state);
                self.ended(&mut state, queued);
                self.results.notify_all();
            }
            Job::Open {
                provider,
                inputs,
                context,
            } => {
                // The result stays with the host (`once.rs`), where the evaluator's identical
                // open finds it.
                if let Ok(p) = self.host.provider(&provider) {
                    let _ = p.open(&inputs, &context);
                }
                let mut state = self.lock();
                let queued = state.queue.len();
                self.ended(&mut state, queued);
            }
        }
    }

    /// After a call: counts it ended, and wakes a worker for each job queued since `queued`.
    fn ended(&self, state: &mut State, queued: usize) {
        state.running -= 1;
        state.ended += 1;
        for _ in queued..state.queue.len() {
            self.jobs.notify_one();
        }
    }

    /// Environment `name` loaded and parsed: taken from what a worker loaded (waiting for
    /// it if a worker is loading it), or loaded here if it is queued. `None` when it was
    /// never queued (or prefetching is off): the caller loads it.
    pub(crate) fn load(&self, name: &str) -> Option<Loaded> {
        if !self.active.load(Ordering::Relaxed) {
            return None;
        }
        let mut state = self.lock();
        loop {
            // The text stays for a second import of a document that failed (and so was not
            // evaluated once for all); the parse is handed out once.
            if let Some(loaded) = state.loaded.get_mut(name) {
                return Some(Loaded {
                    text: loaded.text.clone(),
                    parsed: loaded.parsed.take(),
                });
            }
            if state.loading.contains(name) {
                state = self
                    .results
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            let at = state
                .queue
                .iter()
                .position(|j| matches!(j, Job::Load { name: n, .. } if n == name))?;
            let job = state.queue.remove(at)?;
            state.loading.insert(name.to_owned());
            state.running += 1;
            drop(state);
            let started = Instant::now();
            self.run(job);
            state = self.lock();
            state.saw_slow |= started.elapsed() >= STALL;
        }
    }

    /// Makes a host call on the evaluator's thread. While prefetching is on, it is counted
    /// as under way (so that the dispatcher starts workers for what is queued while it
    /// blocks); while it is off, it is only timed, without a lock.
    pub(crate) fn call<T>(&self, f: impl FnOnce() -> T) -> T {
        if !self.active.load(Ordering::Relaxed) {
            let started = Instant::now();
            let out = f();
            if started.elapsed() >= STALL {
                self.slow.store(true, Ordering::Relaxed);
            }
            return out;
        }
        self.lock().running += 1;
        let started = Instant::now();
        let out = f();
        let mut state = self.lock();
        let queued = state.queue.len();
        self.ended(&mut state, queued);
        state.saw_slow |= started.elapsed() >= STALL;
        out
    }

    /// Whether prefetching is on (from the start: a dispatcher should run with the
    /// evaluation, see [`CALLS_MAY_BLOCK`]).
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Whether the evaluator should turn prefetching on ([`Self::activate`]): it is off and
    /// a call of the evaluator's was slow.
    pub(crate) fn activation_wanted(&self) -> bool {
        self.slow.load(Ordering::Relaxed) && !self.active.load(Ordering::Relaxed)
    }

    /// The root's declaration (for [`Self::activate`]).
    pub(crate) fn root(&self) -> &'h EnvironmentDecl {
        self.root
    }

    /// Turns prefetching on, in the middle of an evaluation: `envs` are the environments
    /// the evaluator has read so far (name, declaration, execution context), the root
    /// first, scanned as if they had been loaded with prefetching on; `seen` are those it
    /// has read or is reading, never queued again. Returns whether there is anything to
    /// fetch: the evaluator then starts the dispatcher, with `slow` set.
    pub(crate) fn activate<'d>(
        &self,
        seen: impl IntoIterator<Item = &'d str>,
        envs: &[(&str, &EnvironmentDecl, &Value)],
    ) -> bool {
        let found: Vec<(Found, Context)> = envs
            .iter()
            .map(|(name, decl, context)| {
                (
                    scan(self.host, &self.schemas, name, decl, self.open_providers),
                    Arc::new((*context).clone()),
                )
            })
            .collect();
        let mut state = self.lock();
        state.saw_slow = true;
        state.seen.extend(seen.into_iter().map(str::to_owned));
        for (found, context) in found {
            record(&mut state, found, &context);
        }
        release_opens(&mut state);
        self.active.store(true, Ordering::Relaxed);
        !state.queue.is_empty()
    }

    /// Ends the prefetching: queued jobs are dropped; workers end after their call.
    pub(crate) fn finish(&self) {
        let mut state = self.lock();
        state.done = true;
        CALLS_MAY_BLOCK.store(
            state.saw_slow || self.slow.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        state.queue.clear();
        self.jobs.notify_all();
        self.calls.notify_all();
    }
}

/// Ends a prefetch when dropped, so that a panicking evaluation does not leave the
/// dispatcher and workers waiting (and the scope joining them forever).
pub(crate) struct Finish<'a, 'h>(pub(crate) &'a Prefetch<'h>);

impl Drop for Finish<'_, '_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// Queues the held-back opens once no load is queued or under way and no `fn::final` was seen.
fn release_opens(state: &mut State) {
    if state.loads_pending == 0 && !state.saw_final && !state.pending_opens.is_empty() {
        let pending = std::mem::take(&mut state.pending_opens);
        state.queue.extend(pending);
    }
}

/// The execution context environment `name` sees, from its importer's (`inherited`, whose
/// root name is `inherited_root`).
fn env_context(inherited: &Value, name: &str, inherited_root: &str) -> Value {
    let root = super::share::root_name_of(inherited_root.to_owned(), name);
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
fn scan(
    host: &dyn Host,
    schemas: &Schemas,
    name: &str,
    decl: &EnvironmentDecl,
    open_providers: bool,
) -> Found {
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
            && inputs_valid(host, schemas, &p.value, &inputs)
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

/// Queues what an environment (evaluated with `context`) refers to: loads of environments
/// not seen yet, and opens.
fn record(state: &mut State, found: Found, context: &Context) {
    state.saw_final |= found.saw_final;
    for target in found.targets {
        // The evaluator imports no more than this (and reports it): load no more.
        if state.seen.len() >= state.max_environments && !state.seen.contains(&target) {
            continue;
        }
        if state.seen.insert(target.clone()) {
            state.loads_pending += 1;
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

/// The `/proc` path of this thread's scheduler state (read once per thread); `None` where
/// there is no `/proc`.
fn caller_stat() -> Option<Arc<str>> {
    thread_local! {
        static STAT: Option<Arc<str>> = std::fs::read_to_string("/proc/thread-self/stat")
            .ok()
            .and_then(|s| {
                let tid = s.split_whitespace().next()?.parse::<u64>().ok()?;
                Some(Arc::from(format!("/proc/self/task/{tid}/stat")))
            });
    }
    STAT.with(Clone::clone)
}

/// Whether the thread whose state is at `stat` is asleep (blocked in a call), not running or
/// waiting for a CPU. The state is the field after the command name, which ends at the last `)`.
fn asleep(stat: &str) -> bool {
    std::fs::read_to_string(stat).is_ok_and(|s| {
        s.rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'R')
    })
}

/// Compiled input schemas by provider name (see [`Prefetch::schemas`]).
type Schemas = Mutex<BTreeMap<String, Option<Arc<Schema>>>>;

/// Whether the provider exists and accepts `inputs` (so the evaluator will open it).
fn inputs_valid(host: &dyn Host, schemas: &Schemas, provider: &str, inputs: &Value) -> bool {
    let cached = schemas
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(provider)
        .cloned();
    let input = match cached {
        Some(input) => input,
        None => {
            let input = input_schema(host, provider).map(Arc::new);
            schemas
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(provider.to_owned(), input.clone());
            input
        }
    };
    let Some(input) = input else {
        return false;
    };
    if !matches!(inputs.kind, ValueKind::Object(_)) && *input == Schema::Always {
        return false;
    }
    let mut problems = Vec::new();
    schema::validate(&input, &Plain(inputs), &mut problems)
}

/// The compiled input schema of `provider`; `None` when there is no such provider or one of
/// its schemas does not compile (the evaluator then opens nothing).
fn input_schema(host: &dyn Host, provider: &str) -> Option<Schema> {
    let p = host.provider(provider).ok()?;
    let (input_json, output_json) = p.schema();
    let (Ok(input), Ok(_)) = (
        Schema::from_json(&input_json).and_then(|s| s.compile()),
        Schema::from_json(&output_json).and_then(|s| s.compile()),
    ) else {
        return None;
    };
    Some(input)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestHost;
    use crate::{Source, load};

    fn host(envs: &[(&str, &str)]) -> TestHost {
        TestHost::new(
            envs.iter()
                .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
                .collect(),
            "t",
        )
    }

    fn decl(text: &str) -> EnvironmentDecl {
        load(&Source::new("root", text))
            .decl
            .expect("the document decodes")
    }

    fn options(max_in_flight: usize) -> super::super::Options {
        super::super::Options {
            max_in_flight,
            ..super::super::Options::default()
        }
    }

    fn queued(p: &Prefetch<'_>) -> Vec<String> {
        p.lock()
            .queue
            .iter()
            .map(|j| match j {
                Job::Load { name, .. } => format!("load {name}"),
                Job::Open { provider, .. } => format!("open {provider}"),
            })
            .collect()
    }

    /// Off, the prefetcher hands out nothing (the evaluator loads itself); turned on, it
    /// queues what the environments read so far refer to, less what was read, with opens
    /// held back until the loads are done.
    #[test]
    fn activate_queues_what_was_not_read_yet() {
        let host = host(&[("a", "imports: [d]\nvalues: {x: 1}\n")]);
        let root = decl("imports: [a, b, c]\nvalues:\n  o:\n    fn::open::test: {k: v}\n");
        let a = decl("imports: [d]\nvalues: {x: 1}\n");
        let ctx = TestHost::context();
        let p = Prefetch::new(&host, "root", &root, &ctx, true, &options(8))
            .expect("three imports to fetch");
        off(&p);
        assert!(p.load("b").is_none());
        assert!(!p.activation_wanted());
        p.call(|| std::thread::sleep(STALL * 2));
        assert!(p.activation_wanted());
        let found = p.activate(["root", "a"], &[("root", &root, &ctx), ("a", &a, &ctx)]);
        assert!(found);
        assert!(!p.activation_wanted());
        assert_eq!(queued(&p), ["load b", "load c", "load d"]);
        assert_eq!(p.lock().pending_opens.len(), 1);
        // The evaluator takes a queued load from the queue (and makes it here).
        let b = p.load("b").expect("b is queued");
        assert!(b.text.is_err(), "no environment b in this host");
        assert_eq!(queued(&p), ["load c", "load d"]);
        p.finish();
    }

    /// Prefetching off, nothing scanned, whatever this process saw before (which decides
    /// whether [`Prefetch::new`] starts it on).
    fn off(p: &Prefetch<'_>) {
        *p.lock() = State::new(usize::MAX);
        p.active.store(false, Ordering::Relaxed);
    }

    /// The evaluation may end while the dispatcher has released its lock to start workers;
    /// with every worker started it then waits with no deadline, for a wake-up that was
    /// already sent: it must see that the evaluation is over instead of waiting forever.
    #[test]
    fn dispatcher_ends_when_the_evaluation_ends_while_it_starts_workers() {
        let host = host(&[("a", "values: {x: 1}\n"), ("b", "values: {y: 2}\n")]);
        let root = decl("imports: [a, b]\n");
        let ctx = TestHost::context();
        // One worker at most: once it is started, the dispatcher has no deadline.
        let mut p = Prefetch::new(&host, "root", &root, &ctx, true, &options(2))
            .expect("two imports to fetch");
        off(&p);
        p.activate(["root"], &[("root", &root, &ctx)]);
        p.started_workers = Some(|p: &Prefetch<'_>| p.finish());
        let (tx, rx) = std::sync::mpsc::channel();
        let hung = std::thread::scope(|scope| {
            let p = &p;
            scope.spawn(move || {
                p.dispatch(scope, true);
                let _ = tx.send(());
            });
            // A deadline so that a hang fails the test (waking the dispatcher again lets
            // the scope end) rather than stalling the suite.
            let hung = rx.recv_timeout(Duration::from_secs(20)).is_err();
            if hung {
                p.finish();
            }
            hung
        });
        assert!(!hung, "the dispatcher missed the end of the evaluation");
    }
}
