//! Imports evaluated once for many evaluations: a static check of a whole project evaluates
//! every environment as a root, and every root evaluated its imports again (a service four
//! imports deep from a shared base evaluated the base, its region, its account and its team
//! once per service).
//!
//! An import's evaluation, its *block* (the environment, what it imports, and everything
//! they add to the evaluator: exprs, values, environments, template instances, traces,
//! diagnostics, import-table entries), depends on the evaluation it is part of only through:
//!
//! - where the arenas stand (the ids its exprs, values, environments and instances get) and
//!   the counters the limits read (import depth, evaluation depth, template expressions);
//! - the names already in the import table (a block that looks one up finds a cycle or a
//!   value imported before);
//! - the execution context, whose `rootEnvironment` differs from root to root (the evaluator
//!   sets `currentEnvironment` itself);
//! - the weight of the values made before it (the value-weight limit), and the limits
//!   already crossed (each reported once per evaluation).
//!
//! So a block recorded in one evaluation is replayed, appended as it was, in another when
//! the arenas stand at the same place, none of its names is in the table, the context is
//! the same but for those two properties, no limit has been crossed, the block read neither
//! `context.rootEnvironment` nor the whole `context`, and every check against the weight
//! limit it made still passes with the weight shifted by the difference before it and in
//! the length of the root's name (its *peak*). A replayed block's contexts get this root's
//! name, as a fresh evaluation gives them, so the evaluator's state after it is the same.
//!
//! Only in a static check that shows no secret: nothing is opened or decrypted, so the host
//! is asked only for environments, which a replay still asks for (a host that records what
//! an evaluation read sees the same names).
//!
//! A place is recorded once (a block that exists but does not fit is not recorded again),
//! and recording stops once the store holds [`MAX_RECORDED`] expressions, values and path
//! nodes (about 100 MB): imports are then evaluated afresh, as without sharing, so a
//! project whose imports are seldom replayed cannot make a check hold every evaluation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::arena::{ExprId, Repr, Val, ValueId};
use super::host::Host;
use super::merge::ChainIndex;
use super::value::{Value, ValueKind};
use super::{Env, Evaluator, ExprData, Imported, Instance, Mode, Options, PathNode};
use crate::ast::{Accessor, AccessorKind};
use crate::diag::Diagnostic;
use crate::schema::Schema;

/// Imported environments' evaluations, kept for the other evaluations of a static check
/// (see the module docs). A host that serves a check of many environments keeps one and
/// hands it out with [`Host::shared_imports`]; the evaluator decides what it may reuse, so
/// values and diagnostics are the same as without.
pub struct SharedImports {
    blocks: Mutex<HashMap<Key, Arc<Block>>>,
    replays: AtomicUsize,
    /// Expressions, values and path nodes held by the blocks, and the most it may hold (see
    /// [`MAX_RECORDED`]).
    recorded: AtomicUsize,
    budget: usize,
}

impl Default for SharedImports {
    fn default() -> Self {
        SharedImports {
            blocks: Mutex::default(),
            replays: AtomicUsize::new(0),
            recorded: AtomicUsize::new(0),
            budget: MAX_RECORDED,
        }
    }
}

/// The most expressions, values and path nodes a store records (each about 100 bytes).
pub(crate) const MAX_RECORDED: usize = 1_000_000;

impl SharedImports {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        SharedImports::default()
    }

    /// How many imports were replayed rather than evaluated so far.
    #[must_use]
    pub fn replays(&self) -> usize {
        self.replays.load(Ordering::Relaxed)
    }

    fn blocks(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Arc<Block>>> {
        self.blocks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where the evaluator stands when it imports `name`: a block is replayed only at the place
/// it was recorded.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    name: String,
    exprs: usize,
    /// Where the exprs' path table stands (exprs name their paths by index).
    paths: usize,
    values: usize,
    envs: usize,
    instances: usize,
    import_depth: usize,
    depth: usize,
    instantiated: usize,
}

/// A reference's part and the def each of its accessors resolved to.
type TraceEntry = ((ExprId, usize), Vec<Option<ExprId>>);

/// One import's evaluation, as it was appended to the evaluator.
struct Block {
    /// The context it was evaluated with (compared without the properties set per
    /// environment), and the options.
    context: Value,
    options: Options,
    /// The weight of the values before and after it, and the most a check against the
    /// limit saw during it.
    weight_before: usize,
    weight_after: usize,
    peak: usize,
    value: ValueId,
    exprs: Vec<ExprData>,
    paths: Vec<PathNode>,
    values: Vec<Val>,
    envs: Vec<Env>,
    instances: Vec<Instance>,
    diags: Vec<Diagnostic>,
    traces: Vec<TraceEntry>,
    chain_indexes: Vec<(ValueId, ChainIndex)>,
    /// The environments it evaluated, as the import table holds them.
    table: Vec<(String, ValueId)>,
    /// Every name it looked up (evaluated, failed or found), first lookup first.
    names: Vec<String>,
    /// How many template expressions it declared.
    instantiated: usize,
    /// For each of its environments: its context, the context's `rootEnvironment` and its
    /// `name` (the values that hold the root's name).
    roots: Vec<(ValueId, ValueId, ValueId)>,
}

/// What an evaluation that shares imports keeps track of.
pub(super) struct Tracker<'h> {
    store: &'h SharedImports,
    /// Every name `import` looked up, in order (those of replayed blocks too).
    touched: Vec<String>,
    /// How many references read `context.rootEnvironment` or the whole `context`.
    root_reads: usize,
    /// The most the values weighed, or were about to, at a check against the weight limit
    /// since the block being recorded began.
    peak: usize,
}

impl<'h> Tracker<'h> {
    /// The tracker of an evaluation in `mode` with `host`: none unless the host shares
    /// imports and the mode is a static check that shows no secret.
    pub(super) fn new(host: &'h dyn Host, mode: &Mode) -> Option<Self> {
        if *mode
            != (Mode::Check {
                show_secrets: false,
            })
        {
            return None;
        }
        host.shared_imports().map(|store| Tracker {
            store,
            touched: Vec::new(),
            root_reads: 0,
            peak: 0,
        })
    }
}

/// The root's name as environment `name` sees it, imported with `inherited` (empty for the
/// root itself): an evaluation of a document without a name (`<yaml>`) makes each of its
/// imports its own root.
pub(super) fn root_name_of(inherited: String, name: &str) -> String {
    if inherited.is_empty() || inherited == "<yaml>" {
        name.to_owned()
    } else {
        inherited
    }
}

/// Where a recording began.
struct Start {
    exprs: usize,
    paths: usize,
    values: usize,
    envs: usize,
    instances: usize,
    diags: usize,
    touched: usize,
    root_reads: usize,
    weight: usize,
    instantiated: usize,
}

impl Evaluator<'_> {
    /// Notes that import `name` was looked up.
    pub(super) fn share_lookup(&mut self, name: &str) {
        if let Some(t) = &mut self.share {
            t.touched.push(name.to_owned());
        }
    }

    /// Notes a reference to `context` followed by `rest`: whether it reads the root's name.
    pub(super) fn share_context_read(&mut self, rest: &[Accessor]) {
        let Some(t) = &mut self.share else { return };
        let reads_root = match rest.first().map(|a| &a.kind) {
            None => true,
            Some(AccessorKind::Name(k) | AccessorKind::Key(k)) => k == "rootEnvironment",
            Some(AccessorKind::Index(_)) => false,
        };
        if reads_root {
            t.root_reads += 1;
        }
    }

    /// Notes what a check against the weight limit compared: the values' weight and what
    /// was about to be made.
    pub(super) fn share_weight(&mut self, demand: usize) {
        if let Some(t) = &mut self.share {
            t.peak = t.peak.max(demand);
        }
    }

    /// Imports `name`, which the table does not hold: replays its block when one fits,
    /// else evaluates it (and records the block when it can be replayed elsewhere).
    pub(super) fn import_shared(
        &mut self,
        name: &str,
        blame: ExprId,
        context: &Value,
        root_name: &str,
    ) -> Option<ValueId> {
        let store = match &self.share {
            Some(t) if self.may_share() => t.store,
            _ => return self.import_fresh(name, blame, context, root_name),
        };
        let key = self.key(name);
        let found = store.blocks().get(&key).cloned();
        if let Some(block) = found.as_ref()
            && let Some(bound) = self.fits(block, context, root_name)
        {
            store.replays.fetch_add(1, Ordering::Relaxed);
            return Some(self.replay(block, root_name, bound));
        }
        let weight = self.values.weight();
        let start = Start {
            exprs: self.exprs.len(),
            paths: self.paths.len(),
            values: self.values.len(),
            envs: self.envs.len(),
            instances: self.instances.len(),
            diags: self.diags.len(),
            touched: self.share.as_ref().map_or(0, |t| t.touched.len()),
            root_reads: self.share.as_ref().map_or(0, |t| t.root_reads),
            weight,
            instantiated: self.instantiated,
        };
        let outer_peak = self
            .share
            .as_mut()
            .map_or(0, |t| std::mem::replace(&mut t.peak, weight));
        let value = self.import_fresh(name, blame, context, root_name);
        let peak = self.share.as_mut().map_or(0, |t| {
            let peak = t.peak;
            t.peak = t.peak.max(outer_peak);
            peak
        });
        let value = value?;
        // A place already recorded (the block did not fit here) is not recorded again.
        if found.is_none()
            && store.recorded.load(Ordering::Relaxed) < store.budget
            && let Some(block) = self.recorded(name, &start, peak, value, context)
        {
            let size = block.exprs.len() + block.values.len() + block.paths.len();
            if let std::collections::hash_map::Entry::Vacant(place) = store.blocks().entry(key) {
                place.insert(Arc::new(block));
                store.recorded.fetch_add(size, Ordering::Relaxed);
            }
        }
        Some(value)
    }

    /// Whether the evaluator is in a state blocks are recorded and replayed in: no limit
    /// crossed (each is reported once), no template being declared or evaluated.
    fn may_share(&self) -> bool {
        !self.weight_reported
            && !self.import_limit_reported
            && !self.depth_reported
            && !self.template_limit_reported
            && !self.rotating
            && self.declaring.is_none()
            && self.instantiating.is_empty()
    }

    fn key(&self, name: &str) -> Key {
        Key {
            name: name.to_owned(),
            exprs: self.exprs.len(),
            paths: self.paths.len(),
            values: self.values.len(),
            envs: self.envs.len(),
            instances: self.instances.len(),
            import_depth: self.import_depth,
            depth: self.depth,
            instantiated: self.instantiated,
        }
    }

    /// Whether `block` (recorded at the same place) is what evaluating the import now would
    /// make: the same context and options, none of its names imported yet, and every check
    /// against the weight limit it made still passing. Returns the most a check of the
    /// replay can see (its weight bound).
    fn fits(&self, block: &Block, context: &Value, root_name: &str) -> Option<usize> {
        if block.options != self.options
            || !same_context(&block.context, context)
            || block.names.iter().any(|n| self.table.contains_key(n))
        {
            return None;
        }
        // Each check of the replay sees what the recording's did, shifted by the difference
        // in weight before the block and, for each context made so far, in the root's name.
        let mut shift = i128::try_from(self.values.weight()).ok()?
            - i128::try_from(block.weight_before).ok()?;
        for env in &block.envs {
            let name = env.source.name();
            let grows = i128::try_from(root_name_of(root_name.to_owned(), name).len()).ok()?
                - i128::try_from(env.root_name.len()).ok()?;
            shift += grows.max(0);
        }
        let bound = i128::try_from(block.peak).ok()? + shift.max(0);
        let bound = usize::try_from(bound).ok()?;
        (bound <= self.options.max_value_weight).then_some(bound)
    }

    /// Appends `block` as evaluating the import would have, with this root's name in its
    /// contexts.
    fn replay(&mut self, block: &Block, root_name: &str, bound: usize) -> ValueId {
        // The host is asked for the same environments (it may record what was read).
        for name in &block.names {
            let _ = self.host_call(|h| h.load_environment(name));
        }
        let renamed: Vec<String> = block
            .envs
            .iter()
            .map(|e| root_name_of(root_name.to_owned(), e.source.name()))
            .collect();
        let mut weight = block.weight_after - block.weight_before;
        for (env, new) in block.envs.iter().zip(&renamed) {
            weight = weight - env.root_name.len() + new.len();
        }
        let first_env = self.envs.len();
        self.exprs.extend(block.exprs.iter().cloned());
        self.paths.extend(block.paths.iter().cloned());
        self.values.extend_shared(&block.values, weight);
        self.envs.extend(block.envs.iter().cloned());
        self.instances.extend(block.instances.iter().cloned());
        self.diags.extend(block.diags.iter().cloned());
        self.traces.extend(block.traces.iter().cloned());
        self.chain_indexes
            .extend(block.chain_indexes.iter().cloned());
        for (name, value) in &block.table {
            self.table.insert(name.clone(), Imported::Done(*value));
        }
        self.instantiated += block.instantiated;
        if let Some(t) = &mut self.share {
            t.touched.extend(block.names.iter().cloned());
            t.peak = t.peak.max(bound);
        }
        for (i, (new, &(ctx, root, name))) in renamed.into_iter().zip(&block.roots).enumerate() {
            if new != self.envs[first_env + i].root_name {
                self.rename_root(first_env + i, (ctx, root, name), new);
            }
        }
        block.value
    }

    /// Gives environment `env`'s context the root name `new`, as `environment` makes it.
    fn rename_root(
        &mut self,
        env: usize,
        (ctx, root, name): (ValueId, ValueId, ValueId),
        new: String,
    ) {
        let text = serde_json::Value::String(new.clone());
        let val = self.values.get_mut(name);
        val.repr = Repr::String(Arc::from(new.as_str()));
        val.schema = Schema::literal(&text);
        for map in [root, ctx] {
            let schema = self.record_schema(map);
            self.values.get_mut(map).schema = schema;
        }
        let e = &mut self.envs[env];
        if let ValueKind::Object(m) = &mut e.context_value.kind {
            m.insert(
                "rootEnvironment".to_owned(),
                Value::object([("name".to_owned(), Value::string(&new))]),
            );
        }
        e.root_name = new;
    }

    /// The schema `unexport` gives map `v`: the record of its entries' schemas.
    fn record_schema(&self, v: ValueId) -> Schema {
        let Repr::Map(m) = &self.val(v).repr else {
            return self.val(v).schema.clone();
        };
        Schema::record_sorted(
            m.iter()
                .map(|(k, &i)| (k.clone(), self.val(i).schema.clone()))
                .collect(),
        )
    }

    /// The block the import made since `start`, if another evaluation may replay it: it
    /// crossed no limit, did not read the root's name, reported only about its own
    /// environments, and found none of its names in the table.
    fn recorded(
        &self,
        name: &str,
        start: &Start,
        peak: usize,
        value: ValueId,
        context: &Value,
    ) -> Option<Block> {
        let t = self.share.as_ref()?;
        if !self.may_share() || t.root_reads != start.root_reads {
            return None;
        }
        let envs = &self.envs[start.envs..];
        let own: BTreeSet<&str> = envs.iter().map(|e| e.source.name()).collect();
        let diags = &self.diags[start.diags..];
        if diags.iter().any(|d| !own.contains(d.environment.as_str())) {
            return None;
        }
        let mut names = Vec::new();
        let mut seen = BTreeSet::new();
        let mut table = Vec::new();
        for n in std::iter::once(name).chain(t.touched[start.touched..].iter().map(String::as_str))
        {
            if !seen.insert(n) {
                continue;
            }
            names.push(n.to_owned());
            match self.table.get(n) {
                // Evaluated by the block.
                Some(Imported::Done(v)) if v.0 as usize >= start.values => {
                    table.push((n.to_owned(), *v));
                }
                // In the table before the block: what it found depends on this evaluation.
                Some(_) => return None,
                // Failed to load.
                None => {}
            }
        }
        let mut roots = Vec::with_capacity(envs.len());
        for e in envs {
            let root = self.entry(e.context, "rootEnvironment")?;
            roots.push((e.context, root, self.entry(root, "name")?));
        }
        let first_expr = u32::try_from(start.exprs).ok()?;
        let first_value = u32::try_from(start.values).ok()?;
        Some(Block {
            context: context.clone(),
            options: self.options.clone(),
            weight_before: start.weight,
            weight_after: self.values.weight(),
            peak,
            value,
            exprs: self.exprs[start.exprs..].to_vec(),
            paths: self.paths[start.paths..].to_vec(),
            values: self.values.since(start.values).to_vec(),
            envs: envs.to_vec(),
            instances: self.instances[start.instances..].to_vec(),
            diags: diags.to_vec(),
            traces: self
                .traces
                .iter()
                .filter(|((e, _), _)| e.0 >= first_expr)
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            chain_indexes: self
                .chain_indexes
                .iter()
                .filter(|(v, _)| v.0 >= first_value)
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            table,
            names,
            instantiated: self.instantiated - start.instantiated,
            roots,
        })
    }

    /// The value of key `key` of map `v`, if it has one.
    fn entry(&self, v: ValueId, key: &str) -> Option<ValueId> {
        match &self.val(v).repr {
            Repr::Map(m) => m.get(key).copied(),
            _ => None,
        }
    }
}

/// Whether two execution contexts are the same but for the properties the evaluator sets
/// for each environment.
fn same_context(a: &Value, b: &Value) -> bool {
    let (ValueKind::Object(a), ValueKind::Object(b)) = (&a.kind, &b.kind) else {
        return a == b;
    };
    own(a).eq(own(b))
}

/// A context's properties but those the evaluator sets for each environment.
fn own(m: &BTreeMap<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    m.iter()
        .filter(|(k, _)| *k != "currentEnvironment" && *k != "rootEnvironment")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::Source;
    use crate::eval::{HostError, Provider, Rotator, evaluate_with};
    use crate::testing::TestHost;

    /// The test host, sharing imports or not, recording what each evaluation loaded.
    struct Shared {
        inner: TestHost,
        store: Option<SharedImports>,
        loaded: Mutex<BTreeSet<String>>,
    }

    impl super::Host for Shared {
        fn load_environment(&self, name: &str) -> Result<String, HostError> {
            self.loaded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(name.to_owned());
            self.inner.load_environment(name)
        }
        fn shared_imports(&self) -> Option<&SharedImports> {
            self.store.as_ref()
        }
        fn provider(&self, name: &str) -> Result<Arc<dyn Provider>, HostError> {
            self.inner.provider(name)
        }
        fn rotator(&self, name: &str) -> Result<Arc<dyn Rotator>, HostError> {
            self.inner.rotator(name)
        }
        fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, HostError> {
            self.inner.decrypt(ciphertext)
        }
    }

    /// Shaped like an organisation's: a base, regions, an account, teams, services (with
    /// names of different lengths), and what must not be shared or must fail.
    const PROJECT: &[(&str, &str)] = &[
        (
            "base",
            "values:\n  org: acme\n  here: ${context.currentEnvironment.name}\n  user: ${context.pulumi.user.id}\n  password:\n    fn::secret: hunter2\n  settings:\n    fn::toJSON:\n      org: ${org}\n      ports: [80, 443]\n  greeting:\n    fn::template: Hello ${name} from ${org}\n  name: base\n",
        ),
        (
            "regions/east",
            "imports: [base]\nvalues:\n  region: east\n  url: https://${region}.${org}.example\n  hello:\n    fn::eval: ${greeting}\n  bad: ${nope}\n",
        ),
        (
            "regions/west",
            "imports: [base]\nvalues:\n  region: west\n  extra: ${environments.shared.extra.x}\n  joined:\n    fn::join: [\"-\", [\"${region}\", \"${org}\"]]\n",
        ),
        ("shared/extra", "values:\n  x: [1, 2, {y: z}]\n"),
        (
            "accounts/a",
            "values:\n  account: \"1234\"\n  creds:\n    fn::open::test:\n      account: ${account}\n",
        ),
        (
            "teams/t1/common",
            "imports: [regions/east, accounts/a]\nvalues:\n  team: t1\n  name: ${team}-${region}\n",
        ),
        (
            "teams/t2/common",
            "imports: [regions/west, accounts/a]\nvalues:\n  team: t2\n  root: ${context.rootEnvironment.name}\n",
        ),
        (
            "shared/whole",
            "values:\n  ctx:\n    fn::toJSON: ${context}\n",
        ),
        ("broken", "values: [\n"),
        (
            "svc/a1",
            "imports: [teams/t1/common]\nvalues:\n  x: ${team}-${region}-${context.rootEnvironment.name}\n",
        ),
        (
            "svc/a2-a-longer-name",
            "imports: [teams/t1/common, shared/whole]\nvalues:\n  x: ${name}\n",
        ),
        (
            "svc/a3",
            "imports: [teams/t1/common, shared/whole]\nvalues:\n  x: ${name}\n",
        ),
        (
            "svc/b",
            "imports: [teams/t2/common]\nvalues:\n  y: ${root}\n",
        ),
        (
            "svc/b2-a-much-longer-name",
            "imports: [teams/t2/common, missing/env]\nvalues:\n  y: ${root}\n",
        ),
        ("svc/c", "imports: [teams/t1/common, broken]\n"),
        (
            "svc/d",
            "imports: [regions/east, teams/t1/common]\nvalues:\n  z: ${hello}\n",
        ),
        // diamond/b at the same place in both roots, diamond/a in the table in one only.
        ("diamond/a", "values:\n  a: 1\n"),
        ("diamond/a-copy", "values:\n  a: 1\n"),
        ("diamond/b", "imports: [diamond/a]\nvalues:\n  b: ${a}\n"),
        ("diamond/r2", "imports: [diamond/a-copy, diamond/b]\n"),
        ("diamond/r1", "imports: [diamond/a, diamond/b]\n"),
        // loop/b at the same place in both roots; importing loop/x, a cycle in one only.
        ("loop/y", "imports: [loop/b]\nvalues:\n  y: 1\n"),
        ("loop/x", "imports: [loop/b]\nvalues:\n  x: 1\n"),
        ("loop/b", "imports: [loop/x]\nvalues:\n  b: 1\n"),
        ("cyc/a", "imports: [cyc/b]\nvalues:\n  a: 1\n"),
        ("cyc/b", "imports: [cyc/a]\nvalues:\n  b: 2\n"),
    ];

    fn host(sharing: bool) -> Shared {
        let envs = PROJECT
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        Shared {
            inner: TestHost::new(envs, "project"),
            store: sharing.then(SharedImports::new),
            loaded: Mutex::default(),
        }
    }

    /// Everything an evaluation of `root` gives: properties (data and flags), the typed
    /// output (exprs, traces, schemas), diagnostics in order, and what it loaded.
    fn check(host: &Shared, root: &str, options: &Options) -> String {
        host.loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let text = PROJECT.iter().find(|(n, _)| *n == root).unwrap().1;
        let loaded = crate::load(&Source::new(root, text));
        if loaded.decl.is_none() {
            return format!("{:?}", loaded.diags);
        }
        let ev = evaluation(host, root, options);
        let props: Option<BTreeMap<&String, serde_json::Value>> = ev
            .properties
            .as_ref()
            .map(|p| p.iter().map(|(k, v)| (k, flagged(v))).collect());
        format!(
            "{props:?}\n{:#}\n{:#?}\n{:?}",
            ev.typed().unwrap_or_default(),
            ev.diags,
            host.loaded.lock().unwrap_or_else(PoisonError::into_inner)
        )
    }

    /// The static check of `root`.
    fn evaluation(host: &Shared, root: &str, options: &Options) -> crate::eval::Evaluation {
        let text = PROJECT.iter().find(|(n, _)| *n == root).unwrap().1;
        let source = Source::new(root, text);
        let decl = crate::load(&source).decl.unwrap();
        let mode = Mode::Check {
            show_secrets: false,
        };
        evaluate_with(&source, &decl, host, &TestHost::context(), &mode, options)
    }

    /// A value as JSON with its flags.
    fn flagged(v: &Value) -> serde_json::Value {
        let kind = match &v.kind {
            ValueKind::Array(items) => items.iter().map(flagged).collect(),
            ValueKind::Object(m) => m.iter().map(|(k, x)| (k.clone(), flagged(x))).collect(),
            _ => v.to_json(false),
        };
        serde_json::json!({"v": kind, "secret": v.secret, "unknown": v.unknown})
    }

    /// Checks `roots` in order with one host, without and with sharing: the same outputs.
    /// Returns how many imports were replayed.
    fn compare(roots: &[&str], options: &Options) -> usize {
        let (fresh, shared) = (host(false), host(true));
        for root in roots {
            let want = check(&fresh, root, options);
            let got = check(&shared, root, options);
            assert!(want == got, "{root} with {options:?}:\n{want}\n---\n{got}");
        }
        shared.store.as_ref().map_or(0, SharedImports::replays)
    }

    /// A store out of budget records nothing: nothing is replayed, and the outputs are
    /// those of evaluations without sharing.
    #[test]
    fn a_store_out_of_budget_records_nothing() {
        let (fresh, shared) = (host(false), host(true));
        let shared = Shared {
            store: Some(SharedImports {
                budget: 0,
                ..SharedImports::default()
            }),
            ..shared
        };
        let options = Options::default();
        for root in roots() {
            assert!(check(&fresh, root, &options) == check(&shared, root, &options));
        }
        let store = shared.store.as_ref().unwrap();
        assert_eq!((store.replays(), store.blocks().len()), (0, 0));
    }

    fn roots() -> Vec<&'static str> {
        PROJECT.iter().map(|(n, _)| *n).collect()
    }

    #[test]
    fn sharing_changes_no_value_diagnostic_or_order() {
        let options = Options::default();
        let mut roots = roots();
        let replays = compare(&roots, &options);
        roots.reverse();
        let replays_reversed = compare(&roots, &options);
        // Something was shared: the teams' imports, the regions', the base.
        assert!(
            replays >= 3 && replays_reversed >= 3,
            "{replays} {replays_reversed}"
        );
        // Twice the same services: the second round replays what the first recorded.
        let twice = [
            "svc/a1",
            "svc/a2-a-longer-name",
            "svc/a1",
            "svc/a2-a-longer-name",
        ];
        assert!(compare(&twice, &options) > replays_reversed.min(2));
    }

    #[test]
    fn what_reads_the_root_is_not_shared() {
        let host = host(true);
        let options = Options::default();
        let json = |root: &str| {
            serde_json::Value::Object(
                evaluation(&host, root, &options)
                    .properties
                    .unwrap()
                    .into_iter()
                    .map(|(k, v)| (k, v.to_json(false)))
                    .collect(),
            )
        };
        // teams/t2/common reads its root's name, shared/whole the whole context: each root
        // sees its own, at the same place in the same imports.
        for root in ["svc/b", "svc/b2-a-much-longer-name", "svc/b"] {
            assert_eq!(json(root)["root"], root);
        }
        for root in ["svc/a2-a-longer-name", "svc/a3", "svc/a2-a-longer-name"] {
            let ctx = json(root)["ctx"].as_str().unwrap().to_owned();
            let ctx: serde_json::Value = serde_json::from_str(&ctx).unwrap();
            assert_eq!(ctx["rootEnvironment"]["name"], root);
        }
        // What does not read it is shared, with the root's name in its context.
        assert!(host.store.as_ref().unwrap().replays() >= 4);
    }

    #[test]
    fn limits_are_crossed_where_they_would_be_without_sharing() {
        // Long names after short ones, so that a replay weighs more than its recording.
        let roots = [
            "teams/t1/common",
            "svc/a1",
            "svc/a2-a-longer-name",
            "svc/d",
            "svc/a1",
            "svc/b",
            "svc/b2-a-much-longer-name",
        ];
        let fresh = host(false);
        // Around the weights at which the first check against the limit that fails moves
        // out of the imports (a replay of a block recorded for a shorter root name must
        // fail where a fresh evaluation would), and out of the root.
        for root in ["svc/a2-a-longer-name", "svc/b2-a-much-longer-name"] {
            for in_imports in [true, false] {
                let fits = |w: usize| {
                    let options = Options {
                        max_value_weight: w,
                        ..Options::default()
                    };
                    let ev = evaluation(&fresh, root, &options);
                    !ev.diags.iter().any(|d| {
                        d.code == crate::diag::Code::LimitExceeded
                            && (!in_imports || d.environment != root)
                    })
                };
                let (mut low, mut high) = (0, 1 << 20);
                assert!(fits(high) && !fits(low));
                while high - low > 1 {
                    let mid = usize::midpoint(low, high);
                    if fits(mid) {
                        high = mid;
                    } else {
                        low = mid;
                    }
                }
                let mut near_the_limit = 0;
                for w in (high.saturating_sub(150)..high + 30).step_by(3) {
                    let options = Options {
                        max_value_weight: w,
                        ..Options::default()
                    };
                    near_the_limit += compare(&roots, &options);
                }
                // The shifted bound let some replays through near the limit (a bound that
                // refused every one would pass the comparisons without testing the shift).
                assert!(near_the_limit > 0, "{root}");
            }
        }
        let mut replays = 0;
        for n in 1..8 {
            for options in [
                Options {
                    max_environments: n,
                    ..Options::default()
                },
                Options {
                    max_import_depth: n,
                    ..Options::default()
                },
                Options {
                    limits: crate::Limits {
                        max_nodes: n * 12,
                        ..crate::Limits::default()
                    },
                    ..Options::default()
                },
            ] {
                replays += compare(&roots, &options);
            }
        }
        assert!(replays > 0);
    }
}
