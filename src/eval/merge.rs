//! Values: merging a base under a value, and JSON-merge-patch lookup through base
//! chains (indexed when they grow long).

use std::sync::Arc;

use super::arena::{Repr, ValueId};
use super::{Evaluator, ExprData, ExprKind, PathId, State};
use crate::schema::Schema;
use crate::source::Span;

/// Where each key of a base chain's upper layers lives, so a lookup in a long chain (one
/// layer per merged import) takes one probe instead of a walk through every layer.
///
/// It covers the chain from its top down to `bottom`, through non-empty maps only: their
/// entries never change, and their bases are set once, from none. So the index stays exact:
/// a key it holds lives where it says, and for a key it lacks the lookup goes on below
/// `bottom`, whose base may have been set since.
#[derive(Clone)]
pub(super) struct ChainIndex {
    keys: std::collections::HashMap<Arc<str>, ValueId>,
    bottom: ValueId,
}

/// A walk through more layers than this builds a [`ChainIndex`].
const CHAIN_INDEX_AFTER: usize = 16;

impl Evaluator<'_> {
    /// Whether `a` and `b` are the same value for merging purposes.
    fn is(&self, a: ValueId, b: ValueId) -> bool {
        if a == b {
            return true;
        }
        let (va, vb) = (self.val(a), self.val(b));
        if let (
            ExprKind::Access {
                receiver: ra,
                key: ka,
            },
            ExprKind::Access {
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
    pub(super) fn merge(&mut self, v: ValueId, b: Option<ValueId>) {
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
                let own: Vec<(Arc<str>, ValueId)> =
                    m.iter().map(|(k, v)| (k.clone(), *v)).collect();
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
    pub(super) fn property(
        &mut self,
        v: ValueId,
        key: &str,
        span: Option<Span>,
    ) -> Option<ValueId> {
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
                        path: PathId::EMPTY,
                        span,
                        kind: ExprKind::Access {
                            receiver: layer,
                            key: Arc::from(key),
                        },
                        base: None,
                        schema: schema.clone(),
                        state: State::Declared,
                        secret: false,
                        extra: None,
                        instance: None,
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
    pub(super) fn is_object(&self, v: ValueId) -> bool {
        let val = self.val(v);
        matches!(val.repr, Repr::Map(_))
            || (val.unknown
                && matches!(val.schema.type_name(), "" | "object")
                && !matches!(val.schema, Schema::Never))
    }
}
