//! Typed queries on an evaluation, for editors: the value at a document path, where it was
//! defined (and what it overrides), and the schema of an expression. They read the same
//! arena as the typed output ([`Evaluation::typed`]), so they agree with it, without
//! building or walking its JSON.

use std::collections::BTreeMap;

use super::arena::{ExprId, Repr, ValueId};
use super::export::Arena;
use super::value::{Value, ValueKind};
use super::{Evaluation, ExprKind};
use crate::ast::AccessorKind;
use crate::source::{Source, Span};

/// A place in one of an evaluation's documents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The environment's name.
    pub environment: String,
    /// Where in its text.
    pub span: Span,
}

/// Where a value comes from: the expression that defined it, and the trace of the imported
/// value it overrides, if any (the typed output's `trace`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The defining expression; `None` for a value with no place in a document (the
    /// execution context, an `imports` object).
    pub def: Option<Place>,
    /// The trace of the overridden value.
    pub base: Option<Box<Trace>>,
}

impl Evaluation {
    /// The value at `path` below `values` (`[Name("a"), Index(0)]` for `a[0]`), as the typed
    /// output shows it: effective keys over merged imports, flags kept. A path does not go
    /// on through a secret or unknown value (nor does the typed output show what is inside
    /// one); a key that is a decimal number indexes a list. `None` when nothing is there or
    /// nothing was evaluated.
    #[must_use]
    pub fn value_at(&self, path: &[AccessorKind]) -> Option<Value> {
        let arena = self.arena.as_ref()?;
        Some(arena.plain(arena.find(path)?))
    }

    /// The definition trace of the value at `path` (see [`Evaluation::value_at`]).
    #[must_use]
    pub fn trace(&self, path: &[AccessorKind]) -> Option<Trace> {
        let arena = self.arena.as_ref()?;
        Some(arena.trace_of(arena.find(path)?))
    }

    /// The execution context's value at `path` (`[Name("pulumi"), Name("user")]` for
    /// `${context.pulumi.user}`), walked as [`Evaluation::value_at`] walks `values`; an empty
    /// path is the whole context.
    #[must_use]
    pub fn context_at(&self, path: &[AccessorKind]) -> Option<Value> {
        let arena = self.arena.as_ref()?;
        let context = arena.envs.first()?.context;
        Some(arena.plain(arena.walk(context, path)?))
    }

    /// Where the value read by the accessor written at `span` of environment `environment`
    /// (one step of a `${...}` reference) was defined: the typed output's `value` range of
    /// that accessor. `None` when no accessor was read there, or when what it read has no
    /// place in a document (the execution context).
    #[must_use]
    pub fn accessor_def(&self, environment: &str, span: Span) -> Option<Place> {
        let arena = self.arena.as_ref()?;
        let env = arena.env_index(environment)?;
        arena.exprs.iter().enumerate().find_map(|(e, x)| {
            if x.env != env {
                return None;
            }
            // A reference's parts: one for `${a}` alone, one per piece of a string.
            let (part, i) = match &x.kind {
                ExprKind::Symbol(accs) => (0, accs.iter().position(|a| a.span == span)?),
                ExprKind::Interpolate(parts) => {
                    parts.iter().enumerate().find_map(|(p, (_, a))| {
                        Some((p, a.as_ref()?.iter().position(|a| a.span == span)?))
                    })?
                }
                _ => return None,
            };
            let def = arena.accessor_trace(ExprId(u32::try_from(e).ok()?), part, i)?;
            arena.place(def)
        })
    }

    /// Environment `environment` as this evaluation read it (the root or one it reached),
    /// for the line and column of a [`Place`].
    #[must_use]
    pub fn source(&self, environment: &str) -> Option<&Source> {
        let arena = self.arena.as_ref()?;
        Some(&arena.envs[arena.env_index(environment)?].source)
    }

    /// The schema, as JSON Schema, of the expression written at `span` in environment
    /// `environment` (the typed output's `schema` of that expression): after evaluation, the
    /// schema of its value. `None` when no expression was read there.
    #[must_use]
    pub fn schema_at(&self, environment: &str, span: Span) -> Option<serde_json::Value> {
        let arena = self.arena.as_ref()?;
        let env = arena.env_index(environment)?;
        arena
            .exprs
            .iter()
            .find(|x| {
                x.env == env
                    && x.span == Some(span)
                    // Synthetic exprs (blame, late-bound accesses) are not in the typed output.
                    && !matches!(x.kind, ExprKind::Missing | ExprKind::Access { .. })
            })
            .map(|x| x.schema.to_json())
    }
}

impl Arena {
    /// The value at `path` below the root, walked as the typed output's values nest.
    fn find(&self, path: &[AccessorKind]) -> Option<ValueId> {
        if path.is_empty() {
            return None;
        }
        self.walk(self.root, path)
    }

    /// The value at `path` below map value `from` (`from` itself for an empty path).
    fn walk(&self, from: ValueId, path: &[AccessorKind]) -> Option<ValueId> {
        let Some((first, rest)) = path.split_first() else {
            return Some(from);
        };
        let mut v = match first {
            AccessorKind::Name(k) | AccessorKind::Key(k) => self.entry(from, k)?,
            AccessorKind::Index(_) => return None,
        };
        for step in rest {
            let val = self.values.get(v);
            if val.secret || val.unknown {
                return None;
            }
            v = match (step, &val.repr) {
                (AccessorKind::Name(k) | AccessorKind::Key(k), Repr::Map(_)) => self.entry(v, k)?,
                (AccessorKind::Index(i), Repr::List(items)) => {
                    *items.get(usize::try_from(*i).ok()?)?
                }
                (AccessorKind::Key(k), Repr::List(items)) => {
                    *items.get(k.parse::<usize>().ok()?)?
                }
                _ => return None,
            };
        }
        Some(v)
    }

    /// The effective entry `key` of map value `v`.
    fn entry(&self, v: ValueId, key: &str) -> Option<ValueId> {
        self.effective(v)
            .into_iter()
            .find_map(|(k, p)| (k == key).then_some(p))
    }

    /// Value `v` as a plain value with its flags (what the typed output shows of it).
    fn plain(&self, v: ValueId) -> Value {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || {
            let val = self.values.get(v);
            let kind = match &val.repr {
                _ if val.unknown && !matches!(val.repr, Repr::String(_)) => ValueKind::Null,
                Repr::Null => ValueKind::Null,
                Repr::Bool(b) => ValueKind::Bool(*b),
                Repr::Number(n) => ValueKind::Number(n.to_string()),
                Repr::String(s) => ValueKind::String(s.to_string()),
                Repr::List(items) => {
                    ValueKind::Array(items.iter().map(|&i| self.plain(i)).collect())
                }
                Repr::Map(_) => ValueKind::Object(
                    self.effective(v)
                        .into_iter()
                        .map(|(k, p)| (k, self.plain(p)))
                        .collect::<BTreeMap<_, _>>(),
                ),
            };
            let mut out = Value::with_flags(kind, val.secret, val.unknown);
            out.origin = self.origin(val.def);
            out
        })
    }

    fn origin(&self, def: ExprId) -> Option<super::value::Origin> {
        let x = &self.exprs[def.0 as usize];
        x.span.map(|span| super::value::Origin { env: x.env, span })
    }

    /// The index of environment `name` in the evaluation.
    fn env_index(&self, name: &str) -> Option<usize> {
        self.envs.iter().position(|e| e.source.name() == name)
    }

    /// The place of expression `def`, if it has one.
    fn place(&self, def: ExprId) -> Option<Place> {
        self.origin(def).map(|o| Place {
            environment: self.envs[o.env].source.name().to_owned(),
            span: o.span,
        })
    }

    fn trace_of(&self, v: ValueId) -> Trace {
        // Base chains are as long as the imports merged: walk them without recursion.
        let mut chain = Vec::new();
        let mut cur = Some(v);
        while let Some(c) = cur {
            let val = self.values.get(c);
            chain.push(self.place(val.def));
            cur = val.base;
        }
        let mut trace: Option<Box<Trace>> = None;
        for def in chain.into_iter().rev() {
            trace = Some(Box::new(Trace { def, base: trace }));
        }
        trace.map_or(
            Trace {
                def: None,
                base: None,
            },
            |t| *t,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{Mode, evaluate};
    use crate::testing::TestHost;

    fn name(k: &str) -> AccessorKind {
        AccessorKind::Name(k.into())
    }

    const BASE: &str = "values:\n  a: {x: 1, y: 2}\n";

    fn base_host() -> TestHost {
        TestHost::new([("proj/base".to_owned(), BASE.to_owned())].into(), "test")
    }

    fn run(text: &str, host: &TestHost) -> (Source, Evaluation) {
        let source = Source::new("app", text);
        let decl = crate::load(&source).decl.expect("a declaration");
        let ev = evaluate(&source, &decl, host, &TestHost::context(), &Mode::Eval);
        (source, ev)
    }

    #[test]
    fn value_at_agrees_with_the_properties() {
        let (_, ev) = run(
            "values:\n  a:\n    b: [1, x]\n    c: ${a.b[1]}\n  s:\n    fn::secret: hush\n",
            &TestHost::default(),
        );
        let props = ev.properties.as_ref().unwrap();
        assert_eq!(ev.value_at(&[name("a")]).as_ref(), props.get("a"));
        assert_eq!(
            ev.value_at(&[name("a"), name("b"), AccessorKind::Index(1)]),
            Some(Value::string("x"))
        );
        assert_eq!(
            ev.value_at(&[name("a"), name("b"), AccessorKind::Key("0".into())]),
            Some(Value::new(ValueKind::Number("1".into())))
        );
        assert_eq!(
            ev.value_at(&[name("a"), name("c")]),
            Some(Value::string("x"))
        );
        let s = ev.value_at(&[name("s")]).unwrap();
        assert!(s.secret);
        assert_eq!(ev.value_at(&[name("nope")]), None);
        assert_eq!(ev.value_at(&[AccessorKind::Index(0)]), None);
        assert_eq!(ev.value_at(&[]), None);
    }

    #[test]
    fn value_at_matches_the_typed_output() {
        let host = base_host();
        let (_, ev) = run("imports: [proj/base]\nvalues:\n  a: {y: 3}\n", &host);
        let a = ev.value_at(&[name("a")]).unwrap();
        assert_eq!(a.to_json(false), serde_json::json!({"x": 1, "y": 3}));
        let typed = ev.typed().unwrap();
        assert_eq!(typed["properties"]["a"]["value"]["x"]["value"], 1);
        assert_eq!(typed["properties"]["a"]["value"]["y"]["value"], 3);
    }

    #[test]
    fn trace_names_the_definition_and_what_it_overrides() {
        let host = base_host();
        let (source, ev) = run("imports: [proj/base]\nvalues:\n  a: {y: 3}\n", &host);
        let trace = ev.trace(&[name("a"), name("y")]).unwrap();
        let def = trace.def.unwrap();
        assert_eq!(def.environment, "app");
        assert_eq!(source.slice(def.span), "3");
        let base = trace.base.unwrap();
        let base_def = base.def.unwrap();
        assert_eq!(base_def.environment, "proj/base");
        assert_eq!(&BASE[base_def.span.start()..base_def.span.end()], "2");
        assert!(base.base.is_none());
        // Only imported: defined in the import, overriding nothing.
        let x = ev.trace(&[name("a"), name("x")]).unwrap();
        assert_eq!(x.def.unwrap().environment, "proj/base");
        assert!(x.base.is_none());
    }

    #[test]
    fn schema_at_is_the_typed_schema_of_the_expression() {
        let (source, ev) = run(
            "values:\n  a: hello\n  b: ${a}\n  n: 42\n",
            &TestHost::default(),
        );
        let span_of = |text: &str| {
            let start = source.text().find(text).unwrap();
            Span::new(start, start + text.len())
        };
        let typed = ev.typed().unwrap();
        for (key, text) in [("a", "hello"), ("b", "${a}"), ("n", "42")] {
            let schema = ev.schema_at("app", span_of(text));
            assert_eq!(
                schema.as_ref(),
                Some(&typed["exprs"][key]["schema"]),
                "{key}"
            );
        }
        assert_eq!(ev.schema_at("other", span_of("42")), None);
        assert_eq!(ev.schema_at("app", Span::new(0, 1)), None);
    }

    #[test]
    fn context_at_walks_the_execution_context() {
        let (_, ev) = run("values:\n  a: 1\n", &TestHost::default());
        let typed = ev.typed().unwrap();
        let whole = ev.context_at(&[]).unwrap();
        let props = &typed["executionContext"]["properties"];
        let keys: Vec<&String> = props.as_object().unwrap().keys().collect();
        let ValueKind::Object(m) = &whole.kind else {
            panic!("{whole:?}")
        };
        assert_eq!(m.keys().collect::<Vec<_>>(), keys);
        let id = ev
            .context_at(&[name("pulumi"), name("user"), name("id")])
            .unwrap();
        assert_eq!(
            id.to_json(false),
            props["pulumi"]["value"]["user"]["value"]["id"]["value"]
        );
        assert_eq!(ev.context_at(&[name("nope")]), None);
    }

    #[test]
    fn accessor_def_is_the_typed_value_range_of_the_accessor() {
        let host = base_host();
        let text = "imports: [proj/base]\nvalues:\n  b: ${a.x}\n  c: \"${b} ${context.pulumi}\"\n";
        let (source, ev) = run(text, &host);
        let at = |t: &str| {
            let start = source.text().find(t).unwrap();
            Span::new(start, start + t.len())
        };
        // `.x` reads `x: 1` of the base, `a` the object that holds it.
        let x = ev.accessor_def("app", at(".x")).unwrap();
        assert_eq!(x.environment, "proj/base");
        assert_eq!(&BASE[x.span.start()..x.span.end()], "1");
        let a = ev.accessor_def("app", Span::new(at("a.x").start(), at("a.x").start() + 1));
        assert_eq!(a.unwrap().environment, "proj/base");
        let b = ev.accessor_def(
            "app",
            Span::new(at("${b}").start() + 2, at("${b}").start() + 3),
        );
        assert_eq!(source.slice(b.unwrap().span), "${a.x}");
        // The execution context has no place; nor does anything where no accessor is.
        let ctx = at("context");
        assert_eq!(ev.accessor_def("app", ctx), None);
        assert_eq!(ev.accessor_def("app", at("imports")), None);
        assert_eq!(ev.accessor_def("proj/base", at(".x")), None);
        // As the typed output has it.
        let typed = ev.typed().unwrap();
        let range = &typed["exprs"]["b"]["symbol"][1]["value"];
        assert_eq!(range["environment"], "proj/base");
        assert_eq!(range["begin"]["byte"], x.span.start());
        let base = ev.source("proj/base").unwrap();
        assert_eq!(base.line_col(x.span.start()).line, range["begin"]["line"]);
        assert!(ev.source("nope").is_none());
    }

    /// The language server evaluates on one thread and answers queries on others.
    #[test]
    fn an_evaluation_is_send_and_sync() {
        fn assert_send<T: Send>() {}
        fn assert_sync<T: Sync>() {}
        assert_send::<Evaluation>();
        assert_sync::<Evaluation>();
        let (_, ev) = run("values:\n  a: 1\n", &TestHost::default());
        let moved = std::thread::spawn(move || ev).join().unwrap();
        assert_eq!(
            moved.value_at(&[name("a")]),
            Some(Value::new(ValueKind::Number("1".into())))
        );
    }

    #[test]
    fn queries_on_an_empty_evaluation_find_nothing() {
        let ev = Evaluation::default();
        assert_eq!(ev.value_at(&[name("a")]), None);
        assert_eq!(ev.trace(&[name("a")]), None);
        assert_eq!(ev.schema_at("app", Span::new(0, 1)), None);
    }
}
