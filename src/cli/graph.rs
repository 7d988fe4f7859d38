//! `escc graph`: the import and reference dependencies between environments, computed
//! statically from the declarations, as Graphviz DOT or Mermaid.
//!
//! Edges: `imports` (an `imports:` entry), and `references` for `${...}` references that
//! reach another environment: `${environments.P.E...}`, `${imports["x"]...}`, and plain
//! references such as `${database.password}` whose value comes from an import (the
//! environment that declares the path, searched as the merge would: the environment
//! itself, then its merged imports from last to first).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::{self, Write as _};
use std::process::ExitCode;
use std::rc::Rc;

use clap::ValueEnum;
use petgraph::dot::{Config, Dot};
use petgraph::graph::DiGraph;

use super::Failure;
use super::evaluate::environment_name;
use super::project::Project;
use crate::ast::{AccessorKind, EnvironmentDecl, ExprKind, environment_ref};
use crate::eval::Host as _;
use crate::project::FsHost;
use crate::{Source, load};

/// How `graph` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum GraphFormat {
    /// Graphviz DOT (`escc graph app/dev | dot -Tsvg > deps.svg`).
    Dot,
    /// A Mermaid flowchart (renders in GitHub markdown).
    Mermaid,
}

/// An environment in the graph.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Node {
    name: String,
    /// Why it could not be read, if it could not.
    missing: Option<String>,
    /// Named on the command line.
    root: bool,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if self.missing.is_some() {
            f.write_str(" (cannot be read)")?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Imports,
    References,
}

/// A dependency: its kind and what it is about.
#[derive(Clone, Debug)]
struct Edge {
    kind: Kind,
    labels: BTreeSet<String>,
}

impl fmt::Display for Edge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Imports => {
                f.write_str("imports")?;
                if !self.labels.is_empty() {
                    write!(f, " ({})", join(&self.labels))?;
                }
                Ok(())
            }
            Kind::References => write!(f, "{}", join(&self.labels)),
        }
    }
}

fn join(labels: &BTreeSet<String>) -> String {
    const SHOWN: usize = 4;
    let mut parts: Vec<&str> = labels.iter().take(SHOWN).map(String::as_str).collect();
    let more = labels.len().saturating_sub(SHOWN);
    let tail = format!("+{more} more");
    if more > 0 {
        parts.push(&tail);
    }
    parts.join(", ")
}

/// Loads declarations once each.
struct Decls<'h> {
    host: &'h FsHost,
    cache: BTreeMap<String, Result<Rc<EnvironmentDecl>, String>>,
}

impl Decls<'_> {
    fn get(&mut self, name: &str) -> Result<Rc<EnvironmentDecl>, String> {
        if let Some(r) = self.cache.get(name) {
            return r.clone();
        }
        let r = self.host.read(name).map_err(String::from).and_then(|doc| {
            let source = Source::new(name, doc.text.to_string());
            load(&source)
                .decl
                .map(Rc::new)
                .ok_or_else(|| "the YAML is malformed (see `escc check`)".to_owned())
        });
        self.cache.insert(name.to_owned(), r.clone());
        r
    }

    /// The environment that declares `path` as `name` sees it: `name` itself, else its
    /// merged imports from last to first.
    fn definer(
        &mut self,
        name: &str,
        path: &[AccessorKind],
        seen: &mut BTreeSet<String>,
    ) -> Option<String> {
        if !seen.insert(name.to_owned()) {
            return None;
        }
        let decl = self.get(name).ok()?;
        if declares(&decl, path) {
            return Some(name.to_owned());
        }
        for import in decl.imports.iter().flatten().rev() {
            let read_as = self.host.import_name(name, &import.environment.value);
            if import.merges()
                && let Some(d) = self.definer(&read_as, path, seen)
            {
                return Some(d);
            }
        }
        None
    }
}

/// Whether `decl`'s own values declare `path` (as far as its literal structure goes).
fn declares(decl: &EnvironmentDecl, path: &[AccessorKind]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let key = match first {
        AccessorKind::Name(k) | AccessorKind::Key(k) => k,
        AccessorKind::Index(_) => return false,
    };
    let Some(entry) = decl
        .values
        .iter()
        .flatten()
        .rev()
        .find(|e| &e.key.value == key)
    else {
        return false;
    };
    let mut x = &entry.value;
    for acc in rest {
        match (&x.kind, acc) {
            (ExprKind::Object(entries), AccessorKind::Name(k) | AccessorKind::Key(k)) => {
                match entries
                    .iter()
                    .find(|e| e.key.as_deref() == Some(k.as_str()))
                {
                    Some(e) => x = &e.value,
                    None => return false,
                }
            }
            (ExprKind::List(items), AccessorKind::Index(i)) => {
                match usize::try_from(*i).ok().and_then(|i| items.get(i)) {
                    Some(item) => x = item,
                    None => return false,
                }
            }
            // Past the literal structure (a reference, a builtin, a scalar): this is where
            // the value comes from.
            _ => return true,
        }
    }
    true
}

/// A property path as written in `${...}`.
fn path_text(path: &[AccessorKind]) -> String {
    let mut s = String::new();
    for acc in path {
        match acc {
            AccessorKind::Name(k) | AccessorKind::Key(k) => crate::path::push_key(&mut s, k),
            AccessorKind::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

fn key_of(acc: &AccessorKind) -> Option<&str> {
    match acc {
        AccessorKind::Name(k) | AccessorKind::Key(k) => Some(k),
        AccessorKind::Index(_) => None,
    }
}

/// `escc graph`.
pub(crate) fn graph(
    project: &Project,
    name: Option<&str>,
    format: GraphFormat,
) -> Result<ExitCode, Failure> {
    let roots: Vec<String> = match name {
        Some(_) => vec![environment_name(project, name)?],
        None => project.all_environments()?,
    };
    let host = project.inner.host();
    if let [only] = roots.as_slice() {
        host.read(only).map_err(|e| Failure::new(e.into()))?;
    }
    let mut decls = Decls {
        host: &host,
        cache: BTreeMap::new(),
    };
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    let mut edges: BTreeMap<(String, String, Kind), BTreeSet<String>> = BTreeMap::new();
    let mut queue: VecDeque<String> = roots.iter().cloned().collect();
    while let Some(env) = queue.pop_front() {
        if nodes.contains_key(&env) {
            continue;
        }
        let decl = decls.get(&env);
        nodes.insert(
            env.clone(),
            Node {
                name: env.clone(),
                missing: decl.as_ref().err().cloned(),
                root: name.is_some() && roots.contains(&env),
            },
        );
        let Ok(decl) = decl else { continue };
        let mut targets = Vec::new();
        for import in decl.imports.iter().flatten() {
            // Named as the evaluation reads it (a pinned environment's imports are read at
            // its revision).
            let to = host.import_name(&env, &import.environment.value);
            let labels = edges
                .entry((env.clone(), to.clone(), Kind::Imports))
                .or_default();
            if !import.merges() {
                labels.insert("merge: false".to_owned());
            }
            targets.push(to);
        }
        for access in decl.accesses() {
            let path: Vec<AccessorKind> = access.accessors.iter().map(|a| a.kind.clone()).collect();
            let text = format!("${{{}}}", path_text(&path));
            let target = match path.first().and_then(key_of) {
                Some("context") | None => None,
                Some("environments") if let Some(read) = environment_ref(&path) => {
                    read.ok().map(|r| host.import_name(&env, &r.name))
                }
                Some("imports") => path
                    .get(1)
                    .and_then(key_of)
                    .map(|written| host.import_name(&env, written)),
                Some(_) => decls
                    .definer(&env, &path, &mut BTreeSet::new())
                    .filter(|d| *d != env),
            };
            if let Some(to) = target {
                edges
                    .entry((env.clone(), to.clone(), Kind::References))
                    .or_default()
                    .insert(text);
                targets.push(to);
            }
        }
        for t in targets {
            if !nodes.contains_key(&t) {
                queue.push_back(t);
            }
        }
    }

    // Build the graph in sorted order, so the output is deterministic.
    let mut g: DiGraph<Node, Edge> = DiGraph::new();
    let mut index = BTreeMap::new();
    for (name, node) in &nodes {
        index.insert(name.clone(), g.add_node(node.clone()));
    }
    for ((from, to, kind), labels) in edges {
        let (Some(&a), Some(&b)) = (index.get(&from), index.get(&to)) else {
            continue;
        };
        g.add_edge(a, b, Edge { kind, labels });
    }
    for node in nodes.values() {
        if let Some(why) = &node.missing {
            super::warn(&format!("{}: {why}", node.name));
        }
    }

    let text = match format {
        GraphFormat::Dot => dot(&g),
        GraphFormat::Mermaid => mermaid(&g),
    };
    super::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn dot(g: &DiGraph<Node, Edge>) -> String {
    let node_attrs = |_, (_, n): (petgraph::graph::NodeIndex, &Node)| {
        let mut a = String::from("shape = box ");
        if n.root {
            a.push_str("style = bold ");
        }
        if n.missing.is_some() {
            a.push_str("style = dashed color = red ");
        }
        a
    };
    let edge_attrs = |_, e: petgraph::graph::EdgeReference<'_, Edge>| match e.weight().kind {
        Kind::Imports => String::new(),
        Kind::References => "style = dashed ".to_owned(),
    };
    let dot = Dot::with_attr_getters(
        g,
        &[Config::RankDir(petgraph::dot::RankDir::LR)],
        &edge_attrs,
        &node_attrs,
    );
    format!("{dot}")
}

fn mermaid(g: &DiGraph<Node, Edge>) -> String {
    let quote = |s: &str| s.replace('"', "#quot;");
    let mut out = String::from("flowchart LR\n");
    for i in g.node_indices() {
        let n = &g[i];
        let _ = writeln!(out, "    n{}[\"{}\"]", i.index(), quote(&n.to_string()));
    }
    for e in g.edge_indices() {
        let Some((a, b)) = g.edge_endpoints(e) else {
            continue;
        };
        let w = &g[e];
        let arrow = match w.kind {
            Kind::Imports => "-->",
            Kind::References => "-.->",
        };
        let _ = writeln!(
            out,
            "    n{} {arrow}|\"{}\"| n{}",
            a.index(),
            quote(&w.to_string()),
            b.index()
        );
    }
    for i in g.node_indices() {
        if g[i].root {
            let _ = writeln!(out, "    style n{} stroke-width:3px", i.index());
        }
        if g[i].missing.is_some() {
            let _ = writeln!(
                out,
                "    style n{} stroke:#d00,stroke-dasharray:4",
                i.index()
            );
        }
    }
    out
}
