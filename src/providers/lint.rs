//! What a check says about provider inputs and outputs beyond the reference's rules.
//!
//! The reference validates a value against a closed object schema
//! (`additionalProperties: false`) by failing silently on an extra key, and an access into
//! an unknown value never reports an unknown property (docs/evaluation.md; the conformance
//! corpus pins both). With ESC's real provider schemas that silence would hide the
//! commonest mistakes: a misspelt input (`rolArn`) makes the call unknown with no message,
//! and a misspelt output (`${aws.login.secretAccesKey}`) checks clean. This pass, run over
//! the root document after its evaluation, names them:
//! - every literal key of a provider's inputs (or a rotator's inputs and state) that its
//!   schema does not allow;
//! - every accessor, in a `${...}` of the same document that reaches a `fn::open` call
//!   (or `fn::rotate`) through literal objects and lists (and `${...}` aliases), that its
//!   output schema does not allow.
//!
//! It reads the schemas the host's providers give, so it applies to built-in providers and
//! plugins alike, and to nothing else: the reference's own test providers have no closed
//! objects.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;

use crate::ast::{AccessorKind, Builtin, Call, EnvironmentDecl, Expr, ExprKind, PropertyAccess};
use crate::diag::{Code, Diagnostic};
use crate::eval::Host;
use crate::go::strconv::quote;
use crate::path::join_key;
use crate::source::Span;

/// How many `${...}` aliases an access is followed through (they could loop).
const MAX_ALIASES: usize = 16;

/// The diagnostics of this pass for environment `name`, in document order.
#[must_use]
pub fn lint(name: &str, decl: &EnvironmentDecl, host: &dyn Host) -> Vec<Diagnostic> {
    let mut lint = Lint {
        name,
        host,
        outputs: BTreeMap::new(),
        top: HashMap::new(),
        diags: Vec::new(),
    };
    // Pass 1: every expression with its document path; inputs are checked at each open and
    // rotation.
    for (x, path) in decl.exprs_with_paths() {
        if let ExprKind::Builtin(b) = &x.kind {
            let arg_path = join_key(&path, &b.name);
            lint.open(b, &arg_path);
            lint.rotate(b, &arg_path);
        }
    }
    // Pass 2: accesses into what the opens return; with no open's output schema there is
    // nothing an access could be checked against.
    if lint.outputs.is_empty() {
        return lint.diags;
    }
    // Each access starts at a top-level value: one index instead of a scan per access
    // (quadratic on large documents). The last entry of a key wins, as in the evaluator.
    for e in decl.values.iter().flatten() {
        lint.top.insert(e.key.value.as_str(), &e.value);
    }
    // A second walk rather than a path kept for each access of the first: only documents
    // with an output schema come here.
    for (x, path) in decl.exprs_with_paths() {
        for a in x.own_accesses() {
            lint.access(a, &path);
        }
    }
    lint.diags
}

struct Lint<'a> {
    name: &'a str,
    host: &'a dyn Host,
    /// The output schema of each `fn::open` call, by the call's span.
    outputs: BTreeMap<(usize, usize), Json>,
    /// The top-level values by key (the last of a duplicated key).
    top: HashMap<&'a str, &'a Expr>,
    diags: Vec<Diagnostic>,
}

impl Lint<'_> {
    /// Checks the literal keys of an open's inputs, and remembers its output schema.
    fn open(&mut self, b: &Builtin, arg_path: &str) {
        let Call::Open {
            provider: Some(provider),
            inputs,
        } = &b.call
        else {
            return;
        };
        let Ok(p) = self.host.provider(&provider.value) else {
            return;
        };
        let (input_schema, output_schema) = p.schema();
        if let Some(x) = inputs.and_then(|part| b.operand(part)) {
            let path = match inputs {
                Some(crate::ast::ArgPart::Entry(_)) => join_key(arg_path, "inputs"),
                _ => arg_path.to_owned(),
            };
            self.inputs(&provider.value, x, &input_schema, &path);
        }
        self.outputs.insert(key(b.arg.span), output_schema);
    }

    /// Checks the literal keys of a rotation's inputs and state, and remembers its output
    /// schema.
    fn rotate(&mut self, b: &Builtin, arg_path: &str) {
        let Call::Rotate {
            provider: Some(rotator),
            inputs,
            state,
        } = &b.call
        else {
            return;
        };
        let Ok(r) = self.host.rotator(&rotator.value) else {
            return;
        };
        let (input_schema, state_schema, output_schema) = r.schema();
        let name = &rotator.value;
        for (part, schema, field, what) in [
            (
                inputs,
                &input_schema,
                "inputs",
                format!("rotator {name} takes no input"),
            ),
            (
                state,
                &state_schema,
                "state",
                format!("the state of rotator {name} has no property"),
            ),
        ] {
            if let Some(x) = part.and_then(|part| b.operand(part)) {
                self.walk(&what, x, schema, &join_key(arg_path, field));
            }
        }
        self.outputs.insert(key(b.arg.span), output_schema);
    }

    /// Walks literal objects of the inputs along the schema.
    fn inputs(&mut self, provider: &str, x: &Expr, schema: &Json, path: &str) {
        self.walk(
            &format!("provider {provider} takes no input"),
            x,
            schema,
            path,
        );
    }

    /// Walks literal objects along the schema, reporting each key it does not allow as
    /// `<what> "key"`.
    fn walk(&mut self, what: &str, x: &Expr, schema: &Json, path: &str) {
        let mut stack = vec![(x, schema, path.to_owned())];
        while let Some((x, schema, path)) = stack.pop() {
            let ExprKind::Object(entries) = &x.kind else {
                continue;
            };
            for e in entries.iter().rev() {
                let Some(k) = &e.key else { continue };
                match property(schema, k) {
                    Lookup::Schema(s) => stack.push((&e.value, s, join_key(&path, k))),
                    Lookup::Unknown(names) => {
                        let mut message = format!("{what} {}", quote(k));
                        suggest(&mut message, k, &names);
                        self.report(message, e.key_span, &join_key(&path, k));
                    }
                    Lookup::Open => {}
                }
            }
        }
    }

    /// Follows `a` through literal values of this document to an open, then checks the
    /// remaining accessors against its output schema.
    fn access(&mut self, a: &PropertyAccess, path: &str) {
        let mut accessors: Vec<&crate::ast::Accessor> = a.accessors.iter().collect();
        let mut aliases = 0;
        'restart: loop {
            let Some((first, rest)) = accessors.split_first() else {
                return;
            };
            let AccessorKind::Name(root) = &first.kind else {
                return;
            };
            let Some(mut x) = self.top.get(root.as_str()).copied() else {
                return;
            };
            for (i, acc) in rest.iter().enumerate() {
                if let ExprKind::Builtin(b) = &x.kind {
                    if let Some(schema) = self.outputs.get(&key(b.arg.span)).cloned() {
                        self.outputs_access(&schema, &rest[i..], path);
                    }
                    return;
                }
                x = match (&x.kind, &acc.kind) {
                    (ExprKind::Object(entries), AccessorKind::Name(k) | AccessorKind::Key(k)) => {
                        match entries.iter().rev().find(|e| e.key.as_deref() == Some(k)) {
                            Some(e) => &e.value,
                            None => return,
                        }
                    }
                    (ExprKind::List(items), AccessorKind::Index(n)) => {
                        match usize::try_from(*n).ok().and_then(|n| items.get(n)) {
                            Some(item) => item,
                            None => return,
                        }
                    }
                    (ExprKind::Symbol(alias), _) if aliases < MAX_ALIASES => {
                        aliases += 1;
                        let mut followed: Vec<&crate::ast::Accessor> =
                            alias.accessors.iter().collect();
                        followed.extend(&rest[i..]);
                        accessors = followed;
                        continue 'restart;
                    }
                    _ => return,
                };
            }
            // Every accessor led to a literal: nothing of an output is left to check.
            return;
        }
    }

    fn outputs_access(&mut self, schema: &Json, accessors: &[&crate::ast::Accessor], path: &str) {
        let mut schema = schema;
        for acc in accessors {
            match &acc.kind {
                AccessorKind::Name(k) | AccessorKind::Key(k) => match property(schema, k) {
                    Lookup::Schema(s) => schema = s,
                    Lookup::Unknown(names) => {
                        let mut message = format!("unknown property {}", quote(k));
                        suggest(&mut message, k, &names);
                        self.report(message, acc.span, path);
                        return;
                    }
                    Lookup::Open => return,
                },
                AccessorKind::Index(_) => match schema.get("items") {
                    Some(items) if schema.get("type") == Some(&Json::from("array")) => {
                        schema = items;
                    }
                    _ => return,
                },
            }
        }
    }

    fn report(&mut self, message: String, span: Span, path: &str) {
        self.diags
            .push(Diagnostic::error(Code::UnknownProperty, message).at(self.name, span, path));
    }
}

fn key(span: Span) -> (usize, usize) {
    (span.start(), span.end())
}

/// What an object schema says of property `k`.
enum Lookup<'s> {
    /// Its schema.
    Schema(&'s Json),
    /// It is not allowed; these are.
    Unknown(Vec<&'s str>),
    /// The schema does not say (not a plain object schema).
    Open,
}

fn property<'s>(schema: &'s Json, k: &str) -> Lookup<'s> {
    if schema.get("type") != Some(&Json::from("object")) {
        return Lookup::Open;
    }
    if let Some(s) = schema.get("properties").and_then(|p| p.get(k)) {
        return Lookup::Schema(s);
    }
    match schema.get("additionalProperties") {
        Some(Json::Bool(false)) => Lookup::Unknown(
            schema
                .get("properties")
                .and_then(Json::as_object)
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default(),
        ),
        Some(s @ Json::Object(_)) => Lookup::Schema(s),
        _ => Lookup::Open,
    }
}

fn suggest(message: &mut String, k: &str, names: &[&str]) {
    if let Some(c) = crate::suggest::nearest(k, names.iter().copied()) {
        message.push_str("; did you mean ");
        message.push_str(&quote(c));
        message.push('?');
    }
}
