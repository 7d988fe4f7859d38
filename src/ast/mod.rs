//! The environment document: imports, values and description, with every value parsed
//! into an expression (literals, `${...}` templates, property accesses, lists, objects and
//! `fn::` builtin calls).
//!
//! Lowering never fails. Each shape error is reported with the reference's wording and
//! the partial declaration is kept, because the reference evaluates documents whose
//! declarations have errors.

mod load;
pub(crate) mod template;
mod visit;

use crate::diag::{Code, Diagnostic};
use crate::go::strconv::quote;
use crate::path::PathRef;
use crate::source::{Source, Span};
use crate::suggest::sort_by_distance;
use crate::syntax::source_map::SourceMap;
use crate::syntax::{Entry, Node, NodeKind, Style};

pub use load::{Loaded, load, load_with};
pub use template::AccessorKind;
pub use visit::{EnvironmentRef, NotAnEnvironment, PathWalk, Walk, environment_ref};

/// A parsed environment definition.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct EnvironmentDecl {
    /// `description:`, when it is a string literal.
    pub description: Option<StringLit>,
    /// `imports:`, when it is a list; elements that are not imports are left out.
    pub imports: Option<Vec<Import>>,
    /// `values:`, when it is an object; entries in source order, duplicates kept.
    pub values: Option<Vec<ValueEntry>>,
}

/// A string with its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StringLit {
    /// The text.
    pub value: String,
    /// Where it is written.
    pub span: Span,
}

/// One element of `imports`.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// The imported environment's name, raw (never interpolated).
    pub environment: StringLit,
    /// `merge:`, when given as a boolean.
    pub merge: Option<(bool, Span)>,
    /// The whole element.
    pub span: Span,
}

impl Import {
    /// Whether the import is merged into the environment (the default).
    #[must_use]
    pub fn merges(&self) -> bool {
        self.merge.is_none_or(|(m, _)| m)
    }
}

/// A top-level `values` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueEntry {
    /// The key, raw (top-level keys are not interpolated).
    pub key: StringLit,
    /// The value.
    pub value: Expr,
}

/// An expression with its exact span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// The span of the node it was parsed from.
    pub span: Span,
    /// What it is.
    pub kind: ExprKind,
    /// How its node was written (needed to mimic the reference's ranges).
    pub style: Style,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ExprKind {
    /// `null` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as canonical decimal text.
    Number(Box<str>),
    /// A string without interpolations (`$$` already unescaped).
    String(Box<str>),
    /// A string with interpolations.
    Interpolate(Vec<Part>),
    /// A string that is exactly one `${...}`: the value keeps its type.
    Symbol(PropertyAccess),
    /// A list.
    List(Vec<Expr>),
    /// An object (not a builtin call).
    Object(Vec<ObjectEntry>),
    /// A `fn::` call.
    Builtin(Box<Builtin>),
}

/// Literal text followed by an optional interpolation.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// The literal text (escapes applied).
    pub text: String,
    /// The interpolated access that follows the text.
    pub access: Option<PropertyAccess>,
}

/// A property access such as `a.b[0]["c"]`.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyAccess {
    /// The `${...}` it was written as.
    pub span: Span,
    /// The steps, root first.
    pub accessors: Vec<Accessor>,
}

/// One step of a property access.
#[derive(Clone, Debug, PartialEq)]
pub struct Accessor {
    /// Name, key or index.
    pub kind: AccessorKind,
    /// Exact span in the source.
    pub span: Span,
}

/// A nested object entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectEntry {
    /// The key, unescaped; `None` when the key was not a literal string (reported).
    pub key: Option<String>,
    /// The key's span.
    pub key_span: Span,
    /// The value.
    pub value: Expr,
}

/// A builtin call: `{fn::NAME: ARG}`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Builtin {
    /// The key as written (`fn::open::aws-login`).
    pub name: String,
    /// The key's span.
    pub name_span: Span,
    /// The parsed argument.
    pub arg: Expr,
    /// Which builtin, with the argument's parts located.
    pub call: Call,
}

/// The builtins, with what their argument's shape check found. Fields name entries of
/// the argument object by index, so the argument is stored once.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Call {
    /// `fn::open` (`short` = the provider of `fn::open::P`).
    Open {
        /// The provider name.
        provider: Option<StringLit>,
        /// Index of `inputs` in the argument object; for the short form the argument.
        inputs: Option<ArgPart>,
    },
    /// `fn::rotate`.
    Rotate {
        /// The rotator name.
        provider: Option<StringLit>,
        /// `inputs`.
        inputs: Option<ArgPart>,
        /// `state`, when present and an object.
        state: Option<ArgPart>,
    },
    /// `fn::join: [delimiter, values]`; `valid` when the argument is a two-element list.
    Join {
        /// Whether the shape check passed.
        valid: bool,
    },
    /// `fn::split: [delimiter, string]`.
    Split {
        /// Whether the shape check passed.
        valid: bool,
    },
    /// `fn::concat: [arrays...]`.
    Concat {
        /// Whether the argument is a list.
        valid: bool,
    },
    /// `fn::secret`.
    Secret(SecretArg),
    /// `fn::toJSON`.
    ToJson,
    /// `fn::fromJSON`.
    FromJson,
    /// `fn::toString`.
    ToString,
    /// `fn::toBase64`.
    ToBase64,
    /// `fn::fromBase64`.
    FromBase64,
    /// `fn::final`.
    Final,
    /// `fn::validate: {schema, value}`, and `fn::conform` (the same builtin under the name
    /// today's documentation gives it).
    Validate {
        /// `schema`.
        schema: Option<ArgPart>,
        /// `value`.
        value: Option<ArgPart>,
    },
    /// `fn::template: EXPRESSION`: an expression evaluated later, by `fn::eval`, in the scope
    /// of the environment that evaluates it (the argument is not evaluated where written).
    Template,
    /// `fn::eval: TEMPLATE`: evaluates a template in the scope of this environment.
    Eval {
        /// Whether the argument can be a template (a reference, or a builtin whose result
        /// can be one); otherwise the shape error was reported.
        valid: bool,
    },
}

/// Where a builtin's operand is: the whole argument, or an entry of the argument object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgPart {
    /// The argument itself.
    Whole,
    /// Entry `i` of the argument object.
    Entry(usize),
}

/// What `fn::secret` holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretArg {
    /// A plaintext string literal.
    Plaintext(StringLit),
    /// `{ciphertext: "..."}`.
    Ciphertext(StringLit),
    /// Neither (reported); evaluates as an empty plaintext.
    Invalid,
}

impl Builtin {
    /// The operand named by `part`.
    #[must_use]
    pub fn operand(&self, part: ArgPart) -> Option<&Expr> {
        match part {
            ArgPart::Whole => Some(&self.arg),
            ArgPart::Entry(i) => match &self.arg.kind {
                ExprKind::Object(entries) => entries.get(i).map(|e| &e.value),
                _ => None,
            },
        }
    }

    /// The two elements of a valid `fn::join`/`fn::split` argument.
    #[must_use]
    pub fn pair(&self) -> Option<(&Expr, &Expr)> {
        match &self.arg.kind {
            ExprKind::List(items) if items.len() == 2 => Some((&items[0], &items[1])),
            _ => None,
        }
    }
}

macro_rules! builtins {
    ($($name:literal => ($signature:literal, $doc:literal),)*) => {
        /// The builtin names recognised exactly (case-sensitive); the open and rotate short
        /// forms are prefixes ([`BUILTIN_SHORT_FORMS`]).
        pub const BUILTINS: &[&str] = &[$($name,)*];

        /// What a builtin does, in one or two sentences: `fn::join`, `fn::open::aws-login`.
        /// `None` for a name that is not a builtin.
        #[must_use]
        pub fn builtin_doc(name: &str) -> Option<&'static str> {
            match name {
                $($name => Some($doc),)*
                _ => BUILTIN_SHORT_FORMS
                    .iter()
                    .find(|(prefix, _, _)| name.starts_with(prefix))
                    .map(|(_, _, doc)| *doc),
            }
        }

        /// How a builtin is called, as YAML (`fn::join: [DELIMITER, [STRING, ...]]`).
        /// `None` for a name that is not a builtin.
        #[must_use]
        pub fn builtin_signature(name: &str) -> Option<&'static str> {
            match name {
                $($name => Some($signature),)*
                _ => BUILTIN_SHORT_FORMS
                    .iter()
                    .find(|(prefix, _, _)| name.starts_with(prefix))
                    .map(|(_, signature, _)| *signature),
            }
        }
    };
}

// The one table of builtins: their names, how each is called and what each does.
builtins! {
    "fn::concat" => ("fn::concat: [[A, ...], [B, ...]]",
        "Concatenates arrays: `fn::concat: [[a], [b, c]]` is `[a, b, c]`."),
    "fn::conform" => ("fn::conform: {schema: SCHEMA, value: VALUE}",
        "Checks a value against a JSON Schema and returns it: the name today's ESC documentation gives `fn::validate`, with the same checks and messages."),
    "fn::eval" => ("fn::eval: ${TEMPLATE}",
        "Evaluates a template (a value defined with `fn::template`, usually read from another environment as `${environments.PROJECT.ENV.NAME}`) in the scope of this environment: its references read this environment's values, imports and context."),
    "fn::final" => ("fn::final: VALUE",
        "Marks a value as final: environments that import this one cannot override it."),
    "fn::fromBase64" => ("fn::fromBase64: STRING", "Decodes a base64 string."),
    "fn::fromJSON" => ("fn::fromJSON: STRING", "Parses a JSON string into a value."),
    "fn::join" => ("fn::join: [DELIMITER, [STRING, ...]]",
        "Joins strings with a delimiter: `fn::join: [\",\", [a, b]]` is `a,b`."),
    "fn::open" => ("fn::open: {provider: NAME, inputs: {...}}",
        "Opens a provider: `fn::open: {provider: NAME, inputs: {...}}`."),
    "fn::rotate" => ("fn::rotate: {provider: NAME, inputs: {...}, state: {...}}",
        "A rotated secret: `fn::rotate: {provider: NAME, inputs: {...}, state: {...}}`."),
    "fn::secret" => ("fn::secret: STRING",
        "A secret: the value is never shown (`[secret]`), and values built from it are secret too."),
    "fn::split" => ("fn::split: [DELIMITER, STRING]",
        "Splits a string: `fn::split: [\",\", \"a,b\"]` is `[a, b]`."),
    "fn::template" => ("fn::template: EXPRESSION",
        "A template: an expression whose `${...}` references are not resolved where it is written, but by each `fn::eval` that evaluates it, in that environment's scope. Where it is written, its value is unknown."),
    "fn::toBase64" => ("fn::toBase64: STRING", "Encodes a string as base64."),
    "fn::toJSON" => ("fn::toJSON: VALUE", "Writes a value as a JSON string."),
    "fn::toString" => ("fn::toString: VALUE", "Writes a value as a string."),
    "fn::validate" => ("fn::validate: {schema: SCHEMA, value: VALUE}",
        "Checks a value against a JSON Schema and returns it: `fn::validate: {schema: {...}, value: ...}`."),
}

/// The short forms `fn::open::PROVIDER` and `fn::rotate::ROTATOR`: each prefix, how a
/// builtin named with it is called, and what it does.
pub const BUILTIN_SHORT_FORMS: &[(&str, &str, &str)] = &[
    (
        "fn::open::",
        "fn::open::PROVIDER: INPUTS",
        "Opens the named provider with these inputs.",
    ),
    (
        "fn::rotate::",
        "fn::rotate::ROTATOR: {inputs: {...}, state: {...}}",
        "A secret rotated by the named rotator.",
    ),
];

/// Whether `name` is a builtin: one of [`BUILTINS`], or a short form.
#[must_use]
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
        || BUILTIN_SHORT_FORMS
            .iter()
            .any(|(p, _, _)| name.starts_with(p))
}

/// Parses a property path as written on the command line (`a.b[0]["c"]`), with the
/// grammar of `${...}` (see `grammar/template.ebnf`). Returns the first error's message.
///
/// # Errors
/// The reference's message for a malformed path, e.g. `property name must not be empty`.
pub fn parse_property_path(path: &str) -> Result<Vec<AccessorKind>, String> {
    let (accessors, errors) = template::parse_access_path(path);
    match errors.first() {
        Some(e) => Err(e.message.to_owned()),
        None => Ok(accessors.into_iter().map(|a| a.kind).collect()),
    }
}

/// Parses a decoded YAML root into an environment declaration.
#[must_use]
pub fn lower(source: &Source, root: Option<&Node>) -> (EnvironmentDecl, Vec<Diagnostic>) {
    let mut lowerer = Lowerer {
        source,
        diags: Vec::new(),
    };
    let decl = lowerer.environment(root);
    (decl, lowerer.diags)
}

struct Lowerer<'a> {
    source: &'a Source,
    diags: Vec<Diagnostic>,
}

impl Lowerer<'_> {
    /// Reports an error. Paths are rendered only here, as few nodes have a diagnostic.
    fn error(&mut self, code: Code, summary: impl Into<String>, span: Span, path: &PathRef<'_>) {
        let path = path.render();
        self.diags
            .push(Diagnostic::error(code, summary).at(self.source.name(), span, &path));
    }

    fn warning(&mut self, code: Code, summary: impl Into<String>, span: Span, path: &PathRef<'_>) {
        let path = path.render();
        self.diags
            .push(Diagnostic::warning(code, summary).at(self.source.name(), span, &path));
    }

    fn environment(&mut self, root: Option<&Node>) -> EnvironmentDecl {
        let mut decl = EnvironmentDecl::default();
        let root = root.filter(|r| r.kind != NodeKind::Null);
        let Some(root) = root else {
            self.diags.push(
                Diagnostic::error(Code::EnvironmentNotObject, "environment must be an object")
                    .in_environment(self.source.name()),
            );
            return decl;
        };
        let NodeKind::Object(entries) = &root.kind else {
            self.error(
                Code::EnvironmentNotObject,
                "environment must be an object",
                root.span,
                &PathRef::Root,
            );
            return decl;
        };
        let mut seen: Vec<&str> = Vec::new();
        for Entry { key, value } in entries {
            let name = key.as_str().unwrap_or("");
            let key_path = PathRef::Root.key(name);
            if seen.contains(&name) {
                self.warning(
                    Code::DuplicateKey,
                    format!("duplicate key {}", quote(name)),
                    key.span,
                    &key_path,
                );
            } else {
                seen.push(name);
            }
            match name.to_lowercase().as_str() {
                "description" => decl.description = self.description(value, &key_path),
                "imports" => decl.imports = self.imports(value, &key_path),
                "values" => decl.values = self.values(value, &key_path),
                _ => {
                    let mut fields: Vec<String> = ["description", "imports", "values"]
                        .iter()
                        .map(|f| format!("'{f}'"))
                        .collect();
                    sort_by_distance(name, &mut fields);
                    self.warning(
                        Code::UnknownField,
                        format!(
                            "Field '{name}' does not exist on Object 'environment'. Existing fields are: {}",
                            fields.join(", ")
                        ),
                        key.span,
                        &key_path,
                    );
                }
            }
        }
        decl
    }

    fn description(&mut self, node: &Node, path: &PathRef<'_>) -> Option<StringLit> {
        let expr = self.expr(node, path);
        if let ExprKind::String(s) = expr.kind {
            return Some(StringLit {
                value: s.into(),
                span: expr.span,
            });
        }
        self.error(
            Code::InvalidField,
            "description must be a string",
            node.span,
            path,
        );
        None
    }

    fn imports(&mut self, node: &Node, path: &PathRef<'_>) -> Option<Vec<Import>> {
        let NodeKind::Array(items) = &node.kind else {
            self.error(
                Code::InvalidField,
                "imports must be a list",
                node.span,
                path,
            );
            return None;
        };
        let mut imports = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_path = path.index(i);
            match &item.kind {
                NodeKind::String(name) => imports.push(Import {
                    environment: StringLit {
                        value: name.to_string(),
                        span: item.span,
                    },
                    merge: None,
                    span: item.span,
                }),
                NodeKind::Object(entries) => {
                    if let Some(import) = self.import_object(item, entries, &item_path) {
                        imports.push(import);
                    }
                }
                _ => self.error(
                    Code::InvalidImport,
                    "import must be a string or an object",
                    item.span,
                    &item_path,
                ),
            }
        }
        Some(imports)
    }

    fn import_object(
        &mut self,
        item: &Node,
        entries: &[Entry],
        path: &PathRef<'_>,
    ) -> Option<Import> {
        let [Entry { key, value: meta }] = entries else {
            self.error(
                Code::InvalidImport,
                "import must have a single key",
                item.span,
                path,
            );
            return None;
        };
        let name = key.as_str().unwrap_or("");
        let meta_path = path.key(name);
        let mut import = Import {
            environment: StringLit {
                value: name.to_owned(),
                span: key.span,
            },
            merge: None,
            span: item.span,
        };
        let NodeKind::Object(fields) = &meta.kind else {
            self.error(
                Code::InvalidImport,
                "import must be an object",
                meta.span,
                &meta_path,
            );
            return Some(import);
        };
        let mut seen: Vec<&str> = Vec::new();
        for Entry { key, value } in fields {
            let field = key.as_str().unwrap_or("");
            let field_path = meta_path.key(field);
            if seen.contains(&field) {
                self.warning(
                    Code::DuplicateKey,
                    format!("duplicate key {}", quote(field)),
                    key.span,
                    &field_path,
                );
            } else {
                seen.push(field);
            }
            // Unknown meta fields are ignored, as in the reference.
            if field.eq_ignore_ascii_case("merge") {
                let expr = self.expr(value, &field_path);
                import.merge = if let ExprKind::Bool(b) = expr.kind {
                    Some((b, expr.span))
                } else {
                    self.error(
                        Code::InvalidImport,
                        "merge must be a boolean value",
                        value.span,
                        &field_path,
                    );
                    None
                };
            }
        }
        Some(import)
    }

    fn values(&mut self, node: &Node, path: &PathRef<'_>) -> Option<Vec<ValueEntry>> {
        let NodeKind::Object(entries) = &node.kind else {
            self.error(
                Code::InvalidField,
                "values must be an object",
                node.span,
                path,
            );
            return None;
        };
        let mut values = Vec::with_capacity(entries.len());
        for Entry { key, value } in entries {
            let name = key.as_str().unwrap_or("");
            let entry_path = path.key(name);
            if name.starts_with("fn::") {
                self.error(
                    Code::TopLevelBuiltin,
                    format!(
                        "builtin function call {} not allowed at the top level",
                        quote(name)
                    ),
                    key.span,
                    &entry_path,
                );
            }
            let value = self.expr(value, &entry_path);
            values.push(ValueEntry {
                key: StringLit {
                    value: name.to_owned(),
                    span: key.span,
                },
                value,
            });
        }
        Some(values)
    }

    fn expr(&mut self, node: &Node, path: &PathRef<'_>) -> Expr {
        let kind = match &node.kind {
            NodeKind::Null | NodeKind::Alias => ExprKind::Null,
            NodeKind::Bool(b) => ExprKind::Bool(*b),
            NodeKind::Number(n) => ExprKind::Number(n.clone()),
            NodeKind::String(s) => self.string(node, s, path),
            NodeKind::Array(items) => ExprKind::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.expr(item, &path.index(i)))
                    .collect(),
            ),
            NodeKind::Object(entries) => self.object(node, entries, path),
        };
        Expr {
            span: node.span,
            kind,
            style: node.style,
        }
    }

    /// Parses a string in expression position: a literal, one access, or a template.
    fn string(&mut self, node: &Node, value: &str, path: &PathRef<'_>) -> ExprKind {
        if !value.contains('$') {
            return ExprKind::String(value.into());
        }
        let (tpl, errors) = template::parse_template(value);
        let needs_map = !errors.is_empty() || tpl.parts.iter().any(|p| p.access.is_some());
        let locate = if needs_map {
            let map = SourceMap::new(self.source.text(), node, value);
            Locator {
                map,
                whole: node.span,
            }
        } else {
            Locator {
                map: None,
                whole: node.span,
            }
        };
        for e in &errors {
            self.error(
                Code::InvalidInterpolation,
                e.message,
                locate.span(&e.range),
                path,
            );
        }
        let access = |a: template::Access| PropertyAccess {
            span: locate.span(&a.range),
            accessors: a
                .accessors
                .into_iter()
                .map(|acc| Accessor {
                    span: locate.span(&acc.range),
                    kind: acc.kind,
                })
                .collect(),
        };
        match template::classify(tpl) {
            template::Classified::Literal(s) => ExprKind::String(s.into()),
            template::Classified::Symbol(a) => ExprKind::Symbol(access(a)),
            template::Classified::Interpolate(t) => ExprKind::Interpolate(
                t.parts
                    .into_iter()
                    .map(|p| Part {
                        text: p.text,
                        access: p.access.map(access),
                    })
                    .collect(),
            ),
        }
    }

    fn object(&mut self, node: &Node, entries: &[Entry], path: &PathRef<'_>) -> ExprKind {
        if let [Entry { key, value }] = entries {
            let name = key.as_str().unwrap_or("");
            if let Some(call) = self.builtin(name, key, value, path) {
                return ExprKind::Builtin(Box::new(call));
            }
            if name.to_lowercase().starts_with("fn::") {
                self.error(
                    Code::ReservedPrefix,
                    "'fn::' is a reserved prefix",
                    key.span,
                    path,
                );
            }
        } else {
            for Entry { key, .. } in entries {
                let name = key.as_str().unwrap_or("");
                if name.starts_with("fn::") {
                    self.error(
                        Code::BuiltinNotAlone,
                        format!(
                            "illegal call to builtin function: {} must be the only key within its containing object",
                            quote(name)
                        ),
                        node.span,
                        path,
                    );
                }
            }
        }
        let mut out = Vec::with_capacity(entries.len());
        for Entry { key, value } in entries {
            let raw = key.as_str().unwrap_or("");
            let key_path = path.key(raw);
            let key_expr = self.expr(key, &key_path);
            let key_text = if let ExprKind::String(s) = key_expr.kind {
                Some(s.into())
            } else {
                self.error(
                    Code::KeyNotLiteral,
                    "object keys must be strings",
                    key.span,
                    &key_path,
                );
                None
            };
            let value = self.expr(value, &key_path);
            out.push(ObjectEntry {
                key: key_text,
                key_span: key.span,
                value,
            });
        }
        ExprKind::Object(out)
    }

    /// Recognises `{name: value}` as a builtin call and checks its argument's shape.
    fn builtin(
        &mut self,
        name: &str,
        key: &Node,
        value: &Node,
        path: &PathRef<'_>,
    ) -> Option<Builtin> {
        let arg_path = path.key(name);
        if !is_builtin(name) {
            return None;
        }
        let call = name;
        let arg = self.expr(value, &arg_path);
        let shape_error = |this: &mut Self, message: &str| {
            this.error(Code::InvalidBuiltinArgument, message, value.span, &arg_path);
        };
        let call = match call {
            "fn::open" | "fn::rotate" => {
                let rotate = call == "fn::rotate";
                if let ExprKind::Object(entries) = &arg.kind {
                    let provider = self.provider_name(entries, &arg, &arg_path);
                    let inputs = self.required_entry(
                        entries,
                        "inputs",
                        "missing provider inputs ('inputs')",
                        arg.span,
                        &arg_path,
                    );
                    if rotate {
                        let state = self.rotation_state(entries, &arg_path);
                        Call::Rotate {
                            provider,
                            inputs,
                            state,
                        }
                    } else {
                        Call::Open { provider, inputs }
                    }
                } else {
                    shape_error(
                        self,
                        if rotate {
                            "the argument to fn::rotate must be an object containing 'provider', 'inputs' and 'state'"
                        } else {
                            "the argument to fn::open must be an object containing 'provider' and 'inputs'"
                        },
                    );
                    if rotate {
                        Call::Rotate {
                            provider: None,
                            inputs: None,
                            state: None,
                        }
                    } else {
                        Call::Open {
                            provider: None,
                            inputs: None,
                        }
                    }
                }
            }
            "fn::join" | "fn::split" => {
                let valid = matches!(&arg.kind, ExprKind::List(items) if items.len() == 2);
                if !valid {
                    shape_error(
                        self,
                        &format!("the argument to {call} must be a two-valued list"),
                    );
                }
                if call == "fn::join" {
                    Call::Join { valid }
                } else {
                    Call::Split { valid }
                }
            }
            "fn::concat" => {
                let valid = matches!(arg.kind, ExprKind::List(_));
                if !valid {
                    shape_error(
                        self,
                        "the argument to fn::concat must be an array of arrays",
                    );
                }
                Call::Concat { valid }
            }
            "fn::secret" => Call::Secret(self.secret_arg(&arg, value, &arg_path)),
            "fn::validate" | "fn::conform" => {
                if let ExprKind::Object(entries) = &arg.kind {
                    let schema = self.required_entry(
                        entries,
                        "schema",
                        "missing required property 'schema'",
                        arg.span,
                        &arg_path,
                    );
                    let value = self.required_entry(
                        entries,
                        "value",
                        "missing required property 'value'",
                        arg.span,
                        &arg_path,
                    );
                    Call::Validate { schema, value }
                } else {
                    shape_error(
                        self,
                        &format!(
                            "the argument to {call} must be an object containing 'schema' and 'value'"
                        ),
                    );
                    Call::Validate {
                        schema: None,
                        value: None,
                    }
                }
            }
            "fn::template" => Call::Template,
            "fn::eval" => {
                let valid = can_be_template(&arg);
                if !valid {
                    shape_error(self, EVAL_NOT_A_TEMPLATE);
                }
                Call::Eval { valid }
            }
            "fn::toJSON" => Call::ToJson,
            "fn::fromJSON" => Call::FromJson,
            "fn::toString" => Call::ToString,
            "fn::toBase64" => Call::ToBase64,
            "fn::fromBase64" => Call::FromBase64,
            "fn::final" => Call::Final,
            _ => {
                if let Some(provider) = name.strip_prefix("fn::open::") {
                    Call::Open {
                        provider: Some(StringLit {
                            value: provider.to_owned(),
                            span: key.span,
                        }),
                        inputs: Some(ArgPart::Whole),
                    }
                } else {
                    let rotator = name.strip_prefix("fn::rotate::").unwrap_or_default();
                    let (inputs, state) = if let ExprKind::Object(entries) = &arg.kind {
                        let inputs = self.required_entry(
                            entries,
                            "inputs",
                            "missing provider inputs ('inputs')",
                            arg.span,
                            &arg_path,
                        );
                        (inputs, self.rotation_state(entries, &arg_path))
                    } else {
                        shape_error(
                            self,
                            "the argument to fn::rotate must be an object containing 'inputs' and 'state'",
                        );
                        (None, None)
                    };
                    Call::Rotate {
                        provider: Some(StringLit {
                            value: rotator.to_owned(),
                            span: key.span,
                        }),
                        inputs,
                        state,
                    }
                }
            }
        };
        Some(Builtin {
            name: name.to_owned(),
            name_span: key.span,
            arg,
            call,
        })
    }

    /// The last entry named `name` in an argument object, or a diagnostic on the object.
    fn required_entry(
        &mut self,
        entries: &[ObjectEntry],
        name: &str,
        missing: &str,
        arg_span: Span,
        arg_path: &PathRef<'_>,
    ) -> Option<ArgPart> {
        let found = last_entry(entries, name);
        if found.is_none() {
            self.error(Code::InvalidBuiltinArgument, missing, arg_span, arg_path);
        }
        found.map(ArgPart::Entry)
    }

    fn provider_name(
        &mut self,
        entries: &[ObjectEntry],
        arg: &Expr,
        arg_path: &PathRef<'_>,
    ) -> Option<StringLit> {
        let Some(i) = last_entry(entries, "provider") else {
            self.error(
                Code::InvalidBuiltinArgument,
                "missing provider name ('provider')",
                arg.span,
                arg_path,
            );
            return None;
        };
        let value = &entries[i].value;
        if let ExprKind::String(s) = &value.kind {
            return Some(StringLit {
                value: s.to_string(),
                span: value.span,
            });
        }
        self.error(
            Code::InvalidBuiltinArgument,
            "provider name must be a string literal",
            value.span,
            &arg_path.key("provider"),
        );
        None
    }

    fn rotation_state(
        &mut self,
        entries: &[ObjectEntry],
        arg_path: &PathRef<'_>,
    ) -> Option<ArgPart> {
        let i = last_entry(entries, "state")?;
        let state = &entries[i].value;
        if matches!(state.kind, ExprKind::Object(_)) {
            return Some(ArgPart::Entry(i));
        }
        self.error(
            Code::InvalidBuiltinArgument,
            "rotation state must be an object literal",
            state.span,
            &arg_path.key("state"),
        );
        None
    }

    fn secret_arg(&mut self, arg: &Expr, value: &Node, arg_path: &PathRef<'_>) -> SecretArg {
        match &arg.kind {
            ExprKind::String(s) => {
                return SecretArg::Plaintext(StringLit {
                    value: s.to_string(),
                    span: arg.span,
                });
            }
            ExprKind::Object(entries) => {
                if let [entry] = entries.as_slice()
                    && entry.key.as_deref() == Some("ciphertext")
                    && let ExprKind::String(c) = &entry.value.kind
                {
                    return SecretArg::Ciphertext(StringLit {
                        value: c.to_string(),
                        span: entry.value.span,
                    });
                }
            }
            _ => {}
        }
        self.error(
            Code::InvalidBuiltinArgument,
            "secret values must be string literals",
            value.span,
            arg_path,
        );
        SecretArg::Invalid
    }
}

/// The message for a `fn::eval` whose argument is not a template (at load time, when the
/// argument cannot be one; at evaluation, when its value is not one).
pub(crate) const EVAL_NOT_A_TEMPLATE: &str =
    "the argument to fn::eval must be a template: a reference to a value defined with fn::template";

/// Whether an expression can evaluate to a template: a reference, a `fn::template`, or a
/// builtin that passes a value through (`fn::eval`, `fn::final`, `fn::validate`).
fn can_be_template(arg: &Expr) -> bool {
    match &arg.kind {
        ExprKind::Symbol(_) => true,
        ExprKind::Builtin(b) => matches!(
            b.call,
            Call::Template | Call::Eval { .. } | Call::Final | Call::Validate { .. }
        ),
        _ => false,
    }
}

fn last_entry(entries: &[ObjectEntry], name: &str) -> Option<usize> {
    entries.iter().rposition(|e| e.key.as_deref() == Some(name))
}

/// Turns byte ranges within a decoded string into source spans.
struct Locator<'a> {
    map: Option<SourceMap<'a>>,
    whole: Span,
}

impl Locator<'_> {
    fn span(&self, range: &std::ops::Range<usize>) -> Span {
        self.map
            .as_ref()
            .map_or(self.whole, |m| m.span(range.start, range.end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_has_a_doc_and_is_recognised() {
        for name in BUILTINS {
            assert!(is_builtin(name), "{name}");
            assert!(
                builtin_doc(name).is_some_and(|d| d.ends_with('.')),
                "{name}"
            );
        }
        assert_eq!(
            builtin_doc("fn::rotate::pg"),
            Some("A secret rotated by the named rotator.")
        );
        assert!(is_builtin("fn::open::aws-login"));
        for name in ["fn::Open", "fn::nope", "fn::open:", "open"] {
            assert!(!is_builtin(name) && builtin_doc(name).is_none(), "{name}");
        }
    }
}
