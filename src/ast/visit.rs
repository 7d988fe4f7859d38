//! One walk over expressions, and one reading of `${environments.P.E...}`.
//!
//! Every consumer that looks through a declaration (prefetching, the import graph, the
//! language server) walks it with [`Expr::walk`], so they agree on what is inside an
//! expression: list items, object entry values and a builtin's argument. The walk keeps
//! its own stack, so a deeply nested document cannot overflow the thread's stack.

use super::template::AccessorKind;
use super::{Accessor, Builtin, Call, EnvironmentDecl, Expr, ExprKind, PropertyAccess, ValueEntry};
use crate::path::{join_index, join_key};
use crate::source::Span;

/// What a walk knows of where an expression is: nothing (`()`), or its document path
/// (`String`).
trait Place: Sized {
    /// The place of item `i` of a list here.
    fn index(&self, i: usize) -> Self;
    /// The place of the entry `key` of an object here (or of a builtin's argument, by the
    /// builtin's name); `None` to leave out an entry without a key.
    fn key(&self, key: Option<&str>) -> Option<Self>;
}

impl Place for () {
    fn index(&self, _: usize) {}

    fn key(&self, _: Option<&str>) -> Option<()> {
        Some(())
    }
}

impl Place for String {
    fn index(&self, i: usize) -> String {
        join_index(self, i)
    }

    fn key(&self, key: Option<&str>) -> Option<String> {
        key.map(|k| join_key(self, k))
    }
}

/// The one traversal behind [`Walk`] and [`PathWalk`]: pre-order, with its own stack.
#[derive(Clone, Debug)]
struct Walker<'a, P> {
    stack: Vec<(&'a Expr, P)>,
    /// Whether to leave out what is inside `fn::template` (evaluated elsewhere, later).
    eager: bool,
}

impl<'a, P: Place> Walker<'a, P> {
    fn step(&mut self) -> Option<(&'a Expr, P)> {
        let (x, place) = self.stack.pop()?;
        // Pushed in reverse so that the first child is popped first.
        match &x.kind {
            ExprKind::List(items) => self.stack.extend(
                items
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(i, item)| (item, place.index(i))),
            ),
            ExprKind::Object(entries) => self.stack.extend(
                entries
                    .iter()
                    .rev()
                    .filter_map(|e| Some((&e.value, place.key(e.key.as_deref())?))),
            ),
            ExprKind::Builtin(b) if self.eager && matches!(b.call, Call::Template) => {}
            ExprKind::Builtin(b) => self.stack.extend(
                place
                    .key(Some(&b.name))
                    .map(|arg_place| (&b.arg, arg_place)),
            ),
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Number(_)
            | ExprKind::String(_)
            | ExprKind::Interpolate(_)
            | ExprKind::Symbol(_) => {}
        }
        Some((x, place))
    }
}

/// Every expression inside an expression, itself first, in document order (pre-order:
/// an expression comes before what it contains, and siblings keep their order).
#[derive(Clone, Debug)]
pub struct Walk<'a>(Walker<'a, ()>);

impl<'a> Iterator for Walk<'a> {
    type Item = &'a Expr;

    fn next(&mut self) -> Option<&'a Expr> {
        self.0.step().map(|(x, ())| x)
    }
}

/// Every expression of an environment's `values` with its document path (`values.a[0]`,
/// a builtin's argument at `values.b["fn::secret"]`), in document order, as [`Walk`]
/// goes; object entries without a key (kept for error recovery) are left out.
#[derive(Clone, Debug)]
pub struct PathWalk<'a> {
    /// The top-level entries not walked yet: taken one at a time, so that a document of
    /// many values does not hold a path for each of them at once.
    entries: std::slice::Iter<'a, ValueEntry>,
    walker: Walker<'a, String>,
}

impl<'a> Iterator for PathWalk<'a> {
    type Item = (&'a Expr, String);

    fn next(&mut self) -> Option<(&'a Expr, String)> {
        loop {
            if let Some(next) = self.walker.step() {
                return Some(next);
            }
            let entry = self.entries.next()?;
            self.walker
                .stack
                .push((&entry.value, join_key("values", &entry.key.value)));
        }
    }
}

impl Expr {
    /// This expression and every expression inside it (list items, object entry values, a
    /// builtin's argument), in document order.
    #[must_use]
    pub fn walk(&self) -> Walk<'_> {
        Walk(Walker {
            stack: vec![(self, ())],
            eager: false,
        })
    }

    /// [`Expr::walk`] without what is inside a `fn::template`'s argument: the expressions
    /// evaluated where they are written.
    #[must_use]
    pub fn walk_eager(&self) -> Walk<'_> {
        Walk(Walker {
            stack: vec![(self, ())],
            eager: true,
        })
    }

    /// The property accesses written in this expression itself (the one of a `${...}`
    /// string, or each `${...}` of an interpolated string), not in those inside it.
    pub fn own_accesses(&self) -> impl Iterator<Item = &PropertyAccess> {
        let (symbol, parts) = match &self.kind {
            ExprKind::Symbol(a) => (Some(a), &[][..]),
            ExprKind::Interpolate(parts) => (None, parts.as_slice()),
            _ => (None, &[][..]),
        };
        symbol
            .into_iter()
            .chain(parts.iter().filter_map(|p| p.access.as_ref()))
    }
}

impl EnvironmentDecl {
    /// Every expression of `values` (each entry's value and everything inside it), in
    /// document order.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.values
            .iter()
            .flatten()
            .flat_map(|entry| entry.value.walk())
    }

    /// Every expression of `values` evaluated where it is written: [`EnvironmentDecl::exprs`]
    /// less what is inside `fn::template` arguments (each `fn::eval` of a template
    /// evaluates those in its own environment).
    pub fn eager_exprs(&self) -> impl Iterator<Item = &Expr> {
        self.values
            .iter()
            .flatten()
            .flat_map(|entry| entry.value.walk_eager())
    }

    /// Every expression of `values` with its document path (`values.db.port`, a builtin's
    /// argument named by the builtin as a key: `values.c["fn::toJSON"]`), in document order
    /// (pre-order, as [`Expr::walk`]).
    #[must_use]
    pub fn exprs_with_paths(&self) -> PathWalk<'_> {
        PathWalk {
            entries: self.values.as_deref().unwrap_or_default().iter(),
            walker: Walker {
                stack: Vec::new(),
                eager: false,
            },
        }
    }

    /// Every `fn::secret` call of `values` with its document path, in document order; a
    /// call inside another's argument (an error) is part of that one.
    #[must_use]
    pub fn secret_calls(&self) -> Vec<(String, &Builtin)> {
        let mut out: Vec<(String, &Builtin)> = Vec::new();
        for (x, path) in self.exprs_with_paths() {
            if let ExprKind::Builtin(b) = &x.kind
                && matches!(b.call, Call::Secret(_))
                && !out.last().is_some_and(|(_, o)| {
                    o.arg.span.start() <= x.span.start() && x.span.end() <= o.arg.span.end()
                })
            {
                out.push((path, b));
            }
        }
        out
    }

    /// Every property access written in `values`, in document order.
    pub fn accesses(&self) -> impl Iterator<Item = &PropertyAccess> {
        self.exprs().flat_map(Expr::own_accesses)
    }

    /// Every `${environments.P.E...}` reference in `values`, in document order: the access
    /// as written (its span is the whole `${...}`) and the environment it reads. Accesses
    /// that start with `environments` but do not name an environment are left out (the
    /// evaluator reports those).
    pub fn environment_refs(&self) -> impl Iterator<Item = (&PropertyAccess, EnvironmentRef<'_>)> {
        self.accesses()
            .filter_map(|a| Some((a, environment_ref(&a.accessors)?.ok()?)))
    }
}

/// A `${environments.P.E...}` reference: an inline import of environment `P/E`, and what
/// is read inside it. `A` is [`Accessor`] for accesses written in a document (with spans)
/// or [`AccessorKind`] for bare paths.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvironmentRef<'a, A = Accessor> {
    /// The environment read: `P/E`.
    pub name: String,
    /// The accessors `environments`, `P` and `E`.
    pub head: &'a [A],
    /// The accessors after `E`: the path read inside the environment.
    pub rest: &'a [A],
}

impl EnvironmentRef<'_> {
    /// From the start of `environments` to the end of `E`.
    #[must_use]
    pub fn name_span(&self) -> Span {
        let (first, last) = (&self.head[0], &self.head[2]);
        Span::new(first.span.start(), last.span.end())
    }
}

/// Why accessors that start with `environments` name no environment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NotAnEnvironment<'a, A = Accessor> {
    /// Fewer than three accessors: `${environments}` or `${environments.P}`.
    Incomplete,
    /// `P` or `E` is an index (the first such accessor).
    Index(&'a A),
}

/// Reads accessors as `environments.P.E...`: `None` when they do not start with the name
/// or key `environments`; otherwise the environment they name (`P` and `E` may each be a
/// name or a key) or why they name none.
///
/// # Errors
/// [`NotAnEnvironment`] when the accessors start with `environments` but name no
/// environment.
pub fn environment_ref<A: AsRef<AccessorKind>>(
    accessors: &[A],
) -> Option<Result<EnvironmentRef<'_, A>, NotAnEnvironment<'_, A>>> {
    if key(accessors.first()?) != Some("environments") {
        return None;
    }
    if accessors.len() < 3 {
        return Some(Err(NotAnEnvironment::Incomplete));
    }
    let (head, rest) = accessors.split_at(3);
    let name = match (key(&head[1]), key(&head[2])) {
        (Some(p), Some(e)) => format!("{p}/{e}"),
        (None, _) => return Some(Err(NotAnEnvironment::Index(&head[1]))),
        (_, None) => return Some(Err(NotAnEnvironment::Index(&head[2]))),
    };
    Some(Ok(EnvironmentRef { name, head, rest }))
}

/// The name or key of an accessor; `None` for an index.
fn key<A: AsRef<AccessorKind>>(a: &A) -> Option<&str> {
    match a.as_ref() {
        AccessorKind::Name(k) | AccessorKind::Key(k) => Some(k),
        AccessorKind::Index(_) => None,
    }
}

impl AsRef<AccessorKind> for Accessor {
    fn as_ref(&self) -> &AccessorKind {
        &self.kind
    }
}

impl AsRef<AccessorKind> for AccessorKind {
    fn as_ref(&self) -> &AccessorKind {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Source;

    fn decl(text: &str) -> (Source, EnvironmentDecl) {
        let source = Source::new("test", text);
        let loaded = crate::load(&source);
        assert!(loaded.diags.is_empty(), "{:?}", loaded.diags);
        let decl = loaded.decl.expect("a declaration");
        (source, decl)
    }

    #[test]
    fn walk_visits_every_expression_in_document_order() {
        let (source, decl) =
            decl("values:\n  a: [x, {k: y, l: [z]}]\n  b:\n    fn::join: [',', [p, q]]\n  c: r\n");
        let strings: Vec<&str> = decl
            .exprs()
            .filter(|x| matches!(x.kind, ExprKind::String(_)))
            .map(|x| source.slice(x.span))
            .collect();
        assert_eq!(strings, ["x", "y", "z", "','", "p", "q", "r"]);
        // The list, the object, the inner list; the builtin, its argument list, the inner
        // list; and the scalars.
        assert_eq!(decl.exprs().count(), 6 + 7);
    }

    #[test]
    fn walk_with_paths_names_each_expression_as_a_document_path() {
        let (source, decl) =
            decl("values:\n  a: [x, {k: y, \"a b\": [z]}]\n  b:\n    fn::join: [',', [p]]\n");
        let all: Vec<(&str, String)> = decl
            .exprs_with_paths()
            .map(|(x, path)| (source.slice(x.span), path))
            .collect();
        let paths: Vec<&str> = all.iter().map(|(_, p)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "values.a",
                "values.a[0]",
                "values.a[1]",
                "values.a[1].k",
                "values.a[1][\"a b\"]",
                "values.a[1][\"a b\"][0]",
                "values.b",
                "values.b[\"fn::join\"]",
                "values.b[\"fn::join\"][0]",
                "values.b[\"fn::join\"][1]",
                "values.b[\"fn::join\"][1][0]",
            ]
        );
        assert_eq!(all[1].0, "x");
        assert_eq!(all[10].0, "p");
        // The same expressions as the walk without paths.
        assert_eq!(decl.exprs_with_paths().count(), decl.exprs().count());
    }

    #[test]
    fn walk_of_a_scalar_is_the_scalar() {
        let (_, decl) = decl("values:\n  a: 1\n");
        let x = &decl.values.as_ref().unwrap()[0].value;
        let all: Vec<&Expr> = x.walk().collect();
        assert_eq!(all.len(), 1);
        assert!(std::ptr::eq(all[0], x));
    }

    #[test]
    fn walk_reaches_the_bottom_of_deep_nesting() {
        // As deep as flow collections may nest.
        let depth = 250;
        let text = format!(
            "values:\n  a: {}x{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let source = Source::new("deep", text);
        let limits = crate::Limits {
            max_depth: depth + 10,
            ..crate::Limits::default()
        };
        let loaded = crate::load_with(&source, &limits);
        assert!(loaded.diags.is_empty(), "{:?}", loaded.diags);
        let decl = loaded.decl.expect("a declaration");
        assert_eq!(decl.exprs().count(), depth + 1);
    }

    #[test]
    fn accesses_are_found_in_symbols_interpolations_and_builtins() {
        let (source, decl) =
            decl("values:\n  a: ${b}\n  c: x ${d} y ${e.f}\n  g:\n    fn::toJSON: [\"${h}\"]\n");
        let found: Vec<&str> = decl.accesses().map(|a| source.slice(a.span)).collect();
        assert_eq!(found, ["${b}", "${d}", "${e.f}", "${h}"]);
    }

    #[test]
    fn environment_refs_name_the_environment_and_what_is_read() {
        let (source, decl) = decl(
            "values:\n  a: ${environments.proj.dev.db[0]}\n  b: x ${environments[\"p\"].e}\n  c: ${environments.p}\n  d: ${environments.p[1]}\n  e: ${other.p.e}\n",
        );
        let refs: Vec<_> = decl.environment_refs().collect();
        assert_eq!(refs.len(), 2);
        let (access, r) = &refs[0];
        assert_eq!(source.slice(access.span), "${environments.proj.dev.db[0]}");
        assert_eq!(r.name, "proj/dev");
        assert_eq!(source.slice(r.name_span()), "environments.proj.dev");
        let rest: Vec<&AccessorKind> = r.rest.iter().map(|a| &a.kind).collect();
        assert_eq!(
            rest,
            [&AccessorKind::Name("db".into()), &AccessorKind::Index(0)]
        );
        assert_eq!(refs[1].1.name, "p/e");
        assert!(refs[1].1.rest.is_empty());
    }

    #[test]
    fn environment_ref_says_why_accessors_name_no_environment() {
        let name = |s: &str| AccessorKind::Name(s.into());
        assert_eq!(
            environment_ref(&[name("imports"), name("p"), name("e")]),
            None
        );
        assert_eq!(environment_ref::<AccessorKind>(&[]), None);
        assert_eq!(
            environment_ref(&[name("environments"), name("p")]),
            Some(Err(NotAnEnvironment::Incomplete))
        );
        let path = [name("environments"), name("p"), AccessorKind::Index(2)];
        assert_eq!(
            environment_ref(&path),
            Some(Err(NotAnEnvironment::Index(&path[2])))
        );
        let path = [
            AccessorKind::Key("environments".into()),
            AccessorKind::Index(1),
            AccessorKind::Index(2),
        ];
        assert_eq!(
            environment_ref(&path),
            Some(Err(NotAnEnvironment::Index(&path[1])))
        );
        let path = [name("environments"), name("p"), name("e"), name("x")];
        let r = environment_ref(&path).unwrap().unwrap();
        assert_eq!(r.name, "p/e");
        assert_eq!(r.head, &path[..3]);
        assert_eq!(r.rest, &path[3..]);
    }
}
