//! The evaluator's values: an arena of nodes that carry their definition, the imported
//! value they override (their base), a schema and the secret/unknown/final flags.
//!
//! The reference's semantics lean on identity and mutation (merging a base into a value,
//! copying a value graph while preserving sharing), so values live in one arena per
//! evaluation and are named by [`ValueId`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::schema::Schema;

/// A value in the arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ValueId(pub(crate) u32);

/// An expression in the arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ExprId(pub(crate) u32);

/// A value's data. Maps hold only the value's own entries; the effective keys include the
/// base chain.
#[derive(Clone, Debug)]
pub(crate) enum Repr {
    Null,
    Bool(bool),
    Number(Arc<str>),
    String(Arc<str>),
    List(Vec<ValueId>),
    Map(BTreeMap<Arc<str>, ValueId>),
}

#[derive(Clone, Debug)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "the reference's value flags, independent of each other"
)]
pub(crate) struct Val {
    pub(crate) def: ExprId,
    pub(crate) base: Option<ValueId>,
    pub(crate) schema: Schema,
    pub(crate) unknown: bool,
    pub(crate) secret: bool,
    pub(crate) is_final: bool,
    pub(crate) rotate_only: bool,
    pub(crate) repr: Repr,
    /// The effective keys, computed once (the reference caches them; see quirk Q7).
    pub(crate) keys: Option<Arc<[Arc<str>]>>,
    /// The `fn::template` this value is (it is unknown where it is written): what
    /// `fn::eval` evaluates. Copies keep it.
    pub(crate) template: Option<ExprId>,
}

impl Val {
    pub(crate) fn new(def: ExprId, repr: Repr, schema: Schema) -> Self {
        Val {
            def,
            base: None,
            schema,
            unknown: false,
            secret: false,
            is_final: false,
            rotate_only: false,
            repr,
            keys: None,
            template: None,
        }
    }

    pub(crate) fn unknown(def: ExprId, schema: Schema) -> Self {
        Val {
            unknown: true,
            ..Val::new(def, Repr::Null, schema)
        }
    }
}

/// The value arena.
#[derive(Default)]
pub(crate) struct Values {
    vals: Vec<Val>,
    /// What the values would take written out: [`VALUE_WEIGHT`] per value plus the bytes
    /// of its string. Copies share their strings, but writing them out does not, so a copy
    /// weighs what the original does. The evaluator limits it.
    weight: usize,
}

/// The weight of a value besides its string (about what one takes in memory).
pub(crate) const VALUE_WEIGHT: usize = 64;

fn string_bytes(r: &Repr) -> usize {
    match r {
        Repr::String(s) | Repr::Number(s) => s.len(),
        _ => 0,
    }
}

impl Values {
    pub(crate) fn add(&mut self, v: Val) -> ValueId {
        let id = ValueId(u32::try_from(self.vals.len()).unwrap_or(u32::MAX));
        self.weight = self
            .weight
            .saturating_add(VALUE_WEIGHT + string_bytes(&v.repr));
        self.vals.push(v);
        id
    }

    /// The weight of every value made so far.
    pub(crate) fn weight(&self) -> usize {
        self.weight
    }

    /// How many values there are.
    pub(crate) fn len(&self) -> usize {
        self.vals.len()
    }

    /// The values made from index `from` on.
    pub(crate) fn since(&self, from: usize) -> &[Val] {
        &self.vals[from..]
    }

    /// Appends values another evaluation made (an import it shares, see `share.rs`), which
    /// weigh `weight` here.
    pub(crate) fn extend_shared(&mut self, vals: &[Val], weight: usize) {
        self.vals.extend_from_slice(vals);
        self.weight = self.weight.saturating_add(weight);
    }

    pub(crate) fn get(&self, id: ValueId) -> &Val {
        &self.vals[id.0 as usize]
    }

    pub(crate) fn get_mut(&mut self, id: ValueId) -> &mut Val {
        &mut self.vals[id.0 as usize]
    }

    pub(crate) fn is_map(&self, id: ValueId) -> bool {
        matches!(self.get(id).repr, Repr::Map(_))
    }

    /// The effective keys of a map value: its own keys and those of its base chain, sorted.
    /// A non-map or unknown layer hides everything below it.
    pub(crate) fn keys(&mut self, id: ValueId) -> Arc<[Arc<str>]> {
        if let Some(k) = &self.get(id).keys {
            return k.clone();
        }
        let keys: Arc<[Arc<str>]> = match &self.get(id).repr {
            // One layer: its own keys, already sorted.
            Repr::Map(m) if self.get(id).base.is_none() => m.keys().cloned().collect(),
            _ => {
                let mut all: std::collections::BTreeSet<Arc<str>> =
                    std::collections::BTreeSet::new();
                let mut layer = Some(id);
                while let Some(l) = layer {
                    let v = self.get(l);
                    let Repr::Map(m) = &v.repr else { break };
                    if v.unknown && l != id {
                        break;
                    }
                    all.extend(m.keys().cloned());
                    layer = v.base;
                }
                all.into_iter().collect()
            }
        };
        if self.is_map(id) {
            self.get_mut(id).keys = Some(keys.clone());
        }
        keys
    }

    /// Whether anything reachable from the value (children, not bases) is unknown / secret.
    pub(crate) fn deep_flags(&self, id: ValueId) -> (bool, bool) {
        let mut unknown = false;
        let mut secret = false;
        let mut stack = vec![id];
        while let Some(v) = stack.pop() {
            let val = self.get(v);
            unknown |= val.unknown;
            secret |= val.secret;
            match &val.repr {
                Repr::List(items) => stack.extend(items.iter().copied()),
                Repr::Map(m) => stack.extend(m.values().copied()),
                _ => {}
            }
        }
        (unknown, secret)
    }

    /// Marks the value and everything inside it secret.
    pub(crate) fn make_secret(&mut self, id: ValueId) {
        let mut stack = vec![id];
        while let Some(v) = stack.pop() {
            let val = self.get_mut(v);
            val.secret = true;
            match &val.repr {
                Repr::List(items) => stack.extend(items.iter().copied()),
                Repr::Map(m) => stack.extend(m.values().copied()),
                _ => {}
            }
        }
    }

    /// Copies the value graph reachable through children and bases, preserving sharing.
    /// Copies keep def, schema and the unknown, secret and final flags, not rotateOnly or
    /// cached keys.
    pub(crate) fn deep_copy(&mut self, id: ValueId) -> ValueId {
        // Most references name a scalar: copy it without the sharing memo.
        let v = self.get(id);
        if v.base.is_none() && !matches!(v.repr, Repr::List(_) | Repr::Map(_)) {
            let copy = Val {
                rotate_only: false,
                keys: None,
                ..v.clone()
            };
            return self.add(copy);
        }
        let mut memo = HashMap::new();
        self.copy_with(id, &mut memo)
    }

    fn copy_with(&mut self, id: ValueId, memo: &mut HashMap<ValueId, ValueId>) -> ValueId {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.copy_inner(id, memo))
    }

    fn copy_inner(&mut self, id: ValueId, memo: &mut HashMap<ValueId, ValueId>) -> ValueId {
        if let Some(&c) = memo.get(&id) {
            return c;
        }
        let mut v = self.get(id).clone();
        v.rotate_only = false;
        v.keys = None;
        let copy = self.add(Val {
            repr: Repr::Null,
            base: None,
            ..v.clone()
        });
        memo.insert(id, copy);
        let repr = match &v.repr {
            Repr::List(items) => {
                Repr::List(items.iter().map(|&i| self.copy_with(i, memo)).collect())
            }
            Repr::Map(m) => Repr::Map(
                m.iter()
                    .map(|(k, &i)| (k.clone(), self.copy_with(i, memo)))
                    .collect(),
            ),
            other => other.clone(),
        };
        self.weight = self.weight.saturating_add(string_bytes(&repr));
        let base = v.base.map(|b| self.copy_with(b, memo));
        let c = self.get_mut(copy);
        c.repr = repr;
        c.base = base;
        copy
    }
}
