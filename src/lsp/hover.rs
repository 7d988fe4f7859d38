//! Hover: on a key or a `${...}` reference, its static value (secrets shown as
//! `[secret]`), its type, and where it was defined (through imports); on an import, the
//! file it reads; on a builtin, what it does (a provider: its description); on a
//! provider's input, its type and description.

use std::fmt::Write as _;

use super::analysis::{
    Analysis, Found, Seg, locate, path_text, properties_value, redacted, value_type,
};
use super::inputs;
use crate::Span;
use crate::ast::{AccessorKind, Call, Expr, ExprKind, environment_ref};
use crate::eval::{Evaluation, Value};

/// A hover's place and Markdown text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct HoverText {
    /// What the hover is about.
    pub(crate) span: Span,
    /// Markdown.
    pub(crate) markdown: String,
}

/// The evaluation of another environment, by name (for `${environments...}` and
/// `${imports...}`).
pub(crate) type OtherEvaluation<'a> = &'a dyn Fn(&str) -> Option<Evaluation>;

/// The hover at byte `offset` of the analyzed document.
pub(crate) fn hover(a: &Analysis, offset: usize, others: OtherEvaluation<'_>) -> Option<HoverText> {
    let decl = a.decl.as_ref()?;
    match locate(decl, offset)? {
        Found::Key { path, key, value } => Some(key_hover(a, path.as_deref(), key, value)),
        Found::Access { access, index } => {
            let acc = &access.accessors[index];
            let path: Vec<AccessorKind> = access.accessors[..=index]
                .iter()
                .map(|a| a.kind.clone())
                .collect();
            Some(reference_hover(a, &path, acc.span, others))
        }
        Found::Import(import) => {
            let name = &import.environment.value;
            let mut md = format!("**import** `{name}`");
            if !import.merges() {
                let read = path_text(&[
                    AccessorKind::Name("imports".to_owned()),
                    AccessorKind::Key(name.clone()),
                ]);
                let _ = write!(md, " (not merged: read it as `${{{read}}}`)");
            }
            md.push_str("\n\n");
            // The name it was read under: a pinned document's unpinned import is read at
            // the same revision (see `FsHost::import_name`).
            match a.others.get(a.read_as(name)) {
                Some(other) if other.served.revision.is_some() => {
                    let pinned = other.served.revision.as_ref();
                    let shown = other.served.file.as_ref().map(|f| f.display().to_string());
                    let _ = writeln!(
                        md,
                        "File: `{}`, from git (commit `{}`)",
                        shown.unwrap_or_default(),
                        pinned.map_or("", |p| crate::project::git::short_hash(&p.commit))
                    );
                }
                Some(other) => {
                    if let Some(file) = &other.served.file {
                        let _ = writeln!(md, "File: `{}`", file.display());
                    } else {
                        md.push_str("An unsaved editor buffer.\n");
                    }
                }
                None => md.push_str("Not found in the workspace.\n"),
            }
            Some(HoverText {
                span: import.environment.span,
                markdown: md,
            })
        }
        Found::Builtin { name, span } => {
            let mut markdown = builtin_markdown(name);
            // The provider's own description, from its input schema.
            let described = name
                .strip_prefix("fn::open::")
                .and_then(|p| inputs::input_schema(Some(a), p))
                .and_then(|s| inputs::description(&s));
            if let Some(d) = described {
                let _ = write!(markdown, "\n\n{d}");
            }
            Some(HoverText { span, markdown })
        }
        Found::Input {
            provider,
            path,
            key,
        } => Some(HoverText {
            span: key,
            markdown: inputs::hover_text(
                inputs::input_schema(Some(a), provider).as_ref(),
                provider,
                &path,
            ),
        }),
    }
}

fn key_hover(a: &Analysis, path: Option<&[Seg]>, key: Span, value: &Expr) -> HoverText {
    let env = a.source.name();
    let typed = a.typed();
    let accessors: Option<Vec<AccessorKind>> = path.map(|p| p.iter().map(Seg::accessor).collect());
    let title = match &accessors {
        Some(accessors) => format!("values.{}", path_text(accessors)),
        None => a.source.slice(key).to_owned(),
    };
    let node = accessors
        .as_deref()
        .and_then(|p| typed?.evaluation.value_at(p));
    // A secret's schema names the keys of a secret object (`fn::fromJSON` of a secret):
    // say only what kind of secret it is, as a reference's hover does.
    let ty = match (&node, typed.and_then(|t| t.type_of(env, value.span))) {
        (Some(n), _) if n.secret => value_type(n),
        (_, Some(t)) => t,
        (Some(n), None) => value_type(n),
        (None, None) => "unknown".to_owned(),
    };
    let is_template =
        matches!(&value.kind, ExprKind::Builtin(b) if matches!(b.call, Call::Template));
    let ty = if is_template {
        "template".to_owned()
    } else {
        ty
    };
    let mut md = format!("`{title}`: {}", code_span(&ty));
    if let Some(doc) = accessors.as_deref().and_then(reserved_property_doc) {
        let _ = write!(md, "\n\n{doc}");
    }
    if is_template {
        md.push_str(
            "\n\nNot evaluated here: each `fn::eval` of it evaluates it in its own environment.",
        );
    } else if let (Some(node), Some(typed)) = (&node, typed) {
        push_value(&mut md, node);
        let trace = accessors.as_deref().and_then(|p| typed.evaluation.trace(p));
        if let Some(trace) = trace {
            let def = trace.def.as_ref().and_then(|p| typed.place_text(p));
            if let Some(def) = def
                && !def.starts_with(&format!("`{env}` "))
            {
                let _ = write!(md, "\n\nDefined in {def}");
            }
            let mut overrides = Vec::new();
            let mut base = trace.base.as_deref();
            while let Some(b) = base {
                if let Some(p) = b.def.as_ref().and_then(|p| typed.place_text(p)) {
                    overrides.push(p);
                }
                base = b.base.as_deref();
            }
            if !overrides.is_empty() {
                let _ = write!(md, "\n\nOverrides {}", overrides.join(", "));
            }
        }
    }
    HoverText {
        span: key,
        markdown: md,
    }
}

fn reference_hover(
    a: &Analysis,
    path: &[AccessorKind],
    span: Span,
    others: OtherEvaluation<'_>,
) -> HoverText {
    let title = path_text(path);
    let typed = a.typed();
    let root = match path.first() {
        Some(AccessorKind::Name(k) | AccessorKind::Key(k)) => k.as_str(),
        _ => "",
    };
    let key = |i: usize| match path.get(i) {
        Some(AccessorKind::Name(k) | AccessorKind::Key(k)) => Some(k.clone()),
        _ => None,
    };
    // Below another environment's properties (all of them for an empty path).
    let in_other = |name: &str, rest: &[AccessorKind]| {
        let ev = others(name)?;
        if rest.is_empty() {
            properties_value(&ev)
        } else {
            ev.value_at(rest)
        }
    };
    let node: Option<Value> = match root {
        "context" => typed.and_then(|t| t.evaluation.context_at(&path[1..])),
        "imports" if path.len() >= 2 => key(1).and_then(|name| in_other(&name, &path[2..])),
        "environments" if let Some(Ok(read)) = environment_ref(path) => {
            in_other(&read.name, read.rest)
        }
        _ => typed.and_then(|t| t.evaluation.value_at(path)),
    };
    let def = typed.and_then(|t| t.accessor_def(span));
    let schema_type = def
        .as_ref()
        .and_then(|p| typed?.type_of(&p.environment, p.span));
    let ty = match (&node, schema_type) {
        (Some(n), _) if n.secret => value_type(n),
        (_, Some(t)) => t,
        (Some(n), None) => value_type(n),
        (None, None) => "unknown".to_owned(),
    };
    let mut md = format!("`{title}`: {}", code_span(&ty));
    if root == "context"
        && let Some(p) = context_doc(&path[1..])
    {
        let _ = write!(md, "\n\n{}", p.doc);
        if !p.set_by_evaluator {
            md.push_str(" Set in `escc.toml` (`[context]`) or with `--context`.");
        }
    }
    if let Some(node) = &node {
        push_value(&mut md, node);
    } else {
        md.push_str("\n\nNo static value.");
    }
    if let Some(p) = def.as_ref().and_then(|p| typed?.place_text(p)) {
        let _ = write!(md, "\n\nDefined in {p}");
    }
    HoverText { span, markdown: md }
}

/// Appends a value block (redacted, at most 40 lines).
fn push_value(md: &mut String, node: &Value) {
    let shown = redacted(node);
    let text = serde_json::to_string_pretty(&shown).unwrap_or_default();
    let mut lines: Vec<&str> = text.lines().take(41).collect();
    let cut = lines.len() > 40;
    lines.truncate(40);
    md.push_str("\n\n```json\n");
    md.push_str(&lines.join("\n"));
    if cut {
        md.push_str("\n...");
    }
    md.push_str("\n```");
}

fn code_span(s: &str) -> String {
    format!("`{}`", s.replace('`', "'"))
}

/// A builtin's hover: its name, how it is called and what it does.
pub(crate) fn builtin_markdown(name: &str) -> String {
    let mut md = format!("**{name}**");
    if let Some(signature) = crate::ast::builtin_signature(name) {
        let _ = write!(md, "\n\n```yaml\n{signature}\n```");
    }
    let _ = write!(md, "\n\n{}", builtin_doc(name));
    md
}

/// The documented context property at `path` (below `context`).
fn context_doc(path: &[AccessorKind]) -> Option<&'static crate::eval::ContextProperty> {
    let names: Option<Vec<&str>> = path
        .iter()
        .map(|a| match a {
            AccessorKind::Name(k) | AccessorKind::Key(k) => Some(k.as_str()),
            AccessorKind::Index(_) => None,
        })
        .collect();
    crate::eval::context_property(&names?)
}

/// What the consumers of an environment read in its top-level properties (ESC's reserved
/// properties): the conventions of `esc run`, the Pulumi CLI and Pulumi policy packs.
const RESERVED_PROPERTIES: &[(&str, &str)] = &[
    (
        "environmentVariables",
        "Reserved property: each entry is exported as an environment variable by `escc run` and `escc open --format dotenv|shell`.",
    ),
    (
        "files",
        "Reserved property: each entry is written to a temporary file by `escc run`, and the variable of its name is set to the file's path.",
    ),
    (
        "pulumiConfig",
        "Reserved property: Pulumi stack configuration (`key` or `package:key`), read by the Pulumi CLI when a stack uses this environment.",
    ),
    (
        "policyConfig",
        "Reserved property: configuration for Pulumi policy packs, one object per policy (`policyName`, or `packName:policyName` to scope it to one pack), read by the policy packs of a policy group this environment is attached to. `escc open ENV policyConfig --format json` prints it.",
    ),
];

/// The documentation of a top-level reserved property.
fn reserved_property_doc(path: &[AccessorKind]) -> Option<&'static str> {
    let [AccessorKind::Name(k) | AccessorKind::Key(k)] = path else {
        return None;
    };
    RESERVED_PROPERTIES
        .iter()
        .find_map(|(name, doc)| (name == k).then_some(*doc))
}

/// What a builtin does (`ast`'s table), and for providers that the server never opens them.
pub(crate) fn builtin_doc(name: &str) -> String {
    let doc = crate::ast::builtin_doc(name).unwrap_or_default();
    if name == "fn::open" || name.starts_with("fn::open::") {
        format!("{doc} The language server never opens providers; the result is unknown.")
    } else {
        doc.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::super::analysis::tests::analyze_text;
    use super::*;

    fn none(_: &str) -> Option<Evaluation> {
        None
    }

    #[test]
    fn builtin_docs_say_providers_are_never_opened() {
        assert_eq!(
            builtin_doc("fn::open"),
            "Opens a provider: `fn::open: {provider: NAME, inputs: {...}}`. The language server never opens providers; the result is unknown."
        );
        assert_eq!(
            builtin_doc("fn::open::aws-login"),
            "Opens the named provider with these inputs. The language server never opens providers; the result is unknown."
        );
        assert_eq!(
            builtin_doc("fn::toJSON"),
            "Writes a value as a JSON string."
        );
        assert_eq!(builtin_doc("fn::nope"), "");
    }

    #[test]
    fn hover_on_a_key_shows_value_type_and_overrides() {
        let text =
            "imports: [base]\nvalues:\n  host: localhost\n  pass:\n    fn::secret: hunter2\n";
        let a = analyze_text(
            "app",
            text,
            &[("base", "values:\n  host: db.internal\n  port: 5432\n")],
        );
        let h = hover(&a, text.find("host").unwrap() + 1, &none).unwrap();
        assert_eq!(a.source.slice(h.span), "host");
        assert!(
            h.markdown.starts_with("`values.host`: `string`"),
            "{}",
            h.markdown
        );
        assert!(h.markdown.contains("\"localhost\""), "{}", h.markdown);
        assert!(
            h.markdown.contains("Overrides `base` at 2:9"),
            "{}",
            h.markdown
        );
        let h = hover(&a, text.find("pass").unwrap(), &none).unwrap();
        assert!(h.markdown.contains("\"[secret]\""), "{}", h.markdown);
        assert!(
            h.markdown.starts_with("`values.pass`: `secret string`"),
            "{}",
            h.markdown
        );
        assert!(!h.markdown.contains("hunter2"), "{}", h.markdown);
    }

    #[test]
    fn hover_on_a_reference_goes_through_imports() {
        let text = "imports: [base]\nvalues:\n  url: \"db://${db.port}\"\n  tok: ${secret}\n  who: ${context.pulumi.user.login}\n";
        let a = analyze_text(
            "app",
            text,
            &[(
                "base",
                "values:\n  db:\n    port: 5432\n  secret:\n    fn::secret: hunter2\n",
            )],
        );
        let h = hover(&a, text.find(".port").unwrap() + 1, &none).unwrap();
        assert_eq!(a.source.slice(h.span), ".port");
        assert!(
            h.markdown.starts_with("`db.port`: `number`"),
            "{}",
            h.markdown
        );
        assert!(h.markdown.contains("5432"));
        assert!(
            h.markdown.contains("Defined in `base` at 3:11"),
            "{}",
            h.markdown
        );
        let h = hover(&a, text.find("secret}").unwrap(), &none).unwrap();
        assert!(h.markdown.contains("[secret]"), "{}", h.markdown);
        assert!(h.markdown.contains("secret string"), "{}", h.markdown);
        assert!(!h.markdown.contains("hunter2"));
        let h = hover(&a, text.find("login").unwrap(), &none).unwrap();
        assert!(h.markdown.contains("\"alice\""), "{}", h.markdown);
    }

    #[test]
    fn hover_on_provider_inputs_and_names() {
        let text = "values:\n  c:\n    fn::open::aws-login:\n      oidc:\n        roleArn: x\n        rolArn: y\n  s:\n    fn::open::aws-secrets:\n      region: r\n      login: ${c}\n      get: {db: {secretId: x}}\n";
        let a = analyze_text("app", text, &[]);
        let h = hover(&a, text.find("roleArn").unwrap() + 2, &none).unwrap();
        assert_eq!(a.source.slice(h.span), "roleArn");
        assert_eq!(
            h.markdown,
            "`oidc.roleArn`: `string`, required input of provider `aws-login`\n\nThe ARN of the IAM role to assume."
        );
        let h = hover(&a, text.find("rolArn").unwrap(), &none).unwrap();
        assert_eq!(
            h.markdown,
            "`oidc.rolArn`: not an input of provider `aws-login`"
        );
        let h = hover(&a, text.find("secretId").unwrap(), &none).unwrap();
        assert!(
            h.markdown
                .starts_with("`get.db.secretId`: `string`, required input of provider `aws-secrets`\n\nThe secret's name or ARN."),
            "{}",
            h.markdown
        );
        // A reference in the inputs is still a reference.
        let h = hover(&a, text.find("${c}").unwrap() + 2, &none).unwrap();
        assert!(h.markdown.starts_with("`c`: "), "{}", h.markdown);
        let h = hover(&a, text.find("fn::open::aws-login").unwrap(), &none).unwrap();
        assert!(
            h.markdown
                .ends_with("\n\nLogs in to AWS with static credentials or through OIDC (STS AssumeRoleWithWebIdentity); returns credentials for the other AWS providers."),
            "{}",
            h.markdown
        );
    }

    #[test]
    fn hover_on_imports_and_builtins() {
        let text = "imports:\n  - base\nvalues:\n  a:\n    fn::toJSON: {b: 1}\n";
        let a = analyze_text("app", text, &[("base", "values: {}\n")]);
        let h = hover(&a, text.find("base").unwrap(), &none).unwrap();
        assert!(
            h.markdown.starts_with("**import** `base`"),
            "{}",
            h.markdown
        );
        let h = hover(&a, text.find("fn::toJSON").unwrap(), &none).unwrap();
        assert!(h.markdown.contains("JSON string"), "{}", h.markdown);
        assert!(hover(&a, 0, &none).is_none());
    }

    #[test]
    fn hover_on_the_new_builtins_shows_their_signature() {
        let text = "values:\n  name: foo\n  t:\n    fn::template: \"Hello ${name}!\"\n  e:\n    fn::eval: ${t}\n  c:\n    fn::conform: {schema: {type: string}, value: x}\n";
        let a = analyze_text("app", text, &[]);
        assert!(a.diags.is_empty(), "{:?}", a.diags);
        for (name, signature) in [
            ("fn::template", "fn::template: EXPRESSION"),
            ("fn::eval", "fn::eval: ${TEMPLATE}"),
            ("fn::conform", "fn::conform: {schema: SCHEMA, value: VALUE}"),
        ] {
            let h = hover(&a, text.find(name).unwrap() + 1, &none).unwrap();
            assert_eq!(a.source.slice(h.span), name);
            assert!(
                h.markdown
                    .starts_with(&format!("**{name}**\n\n```yaml\n{signature}\n```\n\n")),
                "{}",
                h.markdown
            );
        }
        // A template's key: its type, and that it is not evaluated there.
        let h = hover(&a, text.find("  t:").unwrap() + 2, &none).unwrap();
        assert!(
            h.markdown.starts_with("`values.t`: `template`"),
            "{}",
            h.markdown
        );
        assert!(h.markdown.contains("Not evaluated here"), "{}", h.markdown);
        // What `fn::eval` made of it.
        let h = hover(&a, text.find("  e:").unwrap() + 2, &none).unwrap();
        assert!(
            h.markdown.starts_with("`values.e`: `string`"),
            "{}",
            h.markdown
        );
        assert!(h.markdown.contains("\"Hello foo!\""), "{}", h.markdown);
    }

    #[test]
    fn hover_documents_context_properties_and_reserved_properties() {
        let text = "values:\n  who: ${context.pulumi.user.login}\n  org: ${context.pulumi.organization.login}\n  policyConfig:\n    my-pack:cost:\n      max: 5\n";
        let a = analyze_text("app", text, &[]);
        assert!(a.diags.is_empty(), "{:?}", a.diags);
        let h = hover(&a, text.find("login}").unwrap(), &none).unwrap();
        assert!(
            h.markdown.contains("The name of the user."),
            "{}",
            h.markdown
        );
        assert!(h.markdown.contains("\"alice\""), "{}", h.markdown);
        // Not set by the project: unknown until someone evaluates, and said so.
        let h = hover(&a, text.rfind("login}").unwrap(), &none).unwrap();
        assert!(
            h.markdown
                .contains("The name of the organization. Set in `escc.toml`"),
            "{}",
            h.markdown
        );
        assert!(h.markdown.contains("[unknown]"), "{}", h.markdown);
        let h = hover(&a, text.find("policyConfig").unwrap(), &none).unwrap();
        assert!(
            h.markdown
                .contains("Reserved property: configuration for Pulumi policy packs"),
            "{}",
            h.markdown
        );
    }
}
