//! Go to definition: from a `${...}` reference to the key it reads (in this document or an
//! imported one), from an import to its file, and from a key that overrides an imported
//! value to the value it overrides.

use super::analysis::{Analysis, Found, Seg, locate};
use crate::Span;
use crate::ast::AccessorKind;
use crate::syntax::{Entry, Node, NodeKind};

/// Where a definition is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A place in environment `env` (this one or one the check read).
    Place {
        /// The environment.
        env: String,
        /// The key that defines the value (or the value, when it has no key).
        span: Span,
    },
    /// The start of environment `name`'s file.
    File {
        /// The environment.
        name: String,
    },
}

/// The definition of what is at byte `offset`, with the span it was asked from.
pub(crate) fn definition(a: &Analysis, offset: usize) -> Option<(Span, Target)> {
    let decl = a.decl.as_ref()?;
    match locate(decl, offset)? {
        Found::Access { access, index } => {
            let acc = &access.accessors[index];
            let def = a.typed()?.accessor_def(acc.span)?;
            Some((acc.span, place(a, def.environment, def.span)?))
        }
        Found::Import(import) => Some((
            import.environment.span,
            Target::File {
                name: a.read_as(&import.environment.value).to_owned(),
            },
        )),
        Found::Key {
            path: Some(path),
            key,
            ..
        } => {
            // A key that overrides an imported value: the value it overrides.
            let accessors: Vec<AccessorKind> = path.iter().map(Seg::accessor).collect();
            let trace = a.typed()?.evaluation.trace(&accessors)?;
            let def = trace.base?.def?;
            Some((key, place(a, def.environment, def.span)?))
        }
        Found::Key { path: None, .. } | Found::Builtin { .. } | Found::Input { .. } => None,
    }
}

/// A place in `env`, moved from a value to the key that holds it.
fn place(a: &Analysis, env: String, span: Span) -> Option<Target> {
    let (text, _) = a.text_of(&env)?;
    let key = if env == a.source.name() {
        a.syntax.as_ref().and_then(|root| key_of(root, span))
    } else {
        let source = crate::Source::new(env.clone(), text);
        crate::syntax::parse(&source, &crate::Limits::default())
            .root
            .and_then(|root| key_of(&root, span))
    };
    Some(Target::Place {
        env,
        span: key.unwrap_or(span),
    })
}

/// The key whose value is the node at `target` (looking through builtin calls such as
/// `fn::secret`), if there is one.
pub(crate) fn key_of(root: &Node, target: Span) -> Option<Span> {
    let within = |s: Span| s.start <= target.start && target.end <= s.end;
    // The entries on the way down (`None` for a list element), each with its mapping.
    let mut chain: Vec<Option<(&Entry, &Node)>> = Vec::new();
    let mut node = root;
    while node.span != target {
        match &node.kind {
            NodeKind::Object(entries) => {
                let e = entries.iter().find(|e| within(e.value.span))?;
                chain.push(Some((e, node)));
                node = &e.value;
            }
            NodeKind::Array(items) => {
                chain.push(None);
                node = items.iter().find(|i| within(i.span))?;
            }
            _ => return None,
        }
    }
    let mut current = target;
    for step in chain.iter().rev() {
        let (entry, mapping) = (*step)?;
        if entry.value.span != current {
            return None;
        }
        if entry.key.as_str().is_some_and(|k| k.starts_with("fn::")) {
            current = mapping.span;
            continue;
        }
        return Some(entry.key.span);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::analysis::tests::analyze_text;
    use super::*;

    #[test]
    fn reference_to_a_key_in_an_import() {
        let base = "values:\n  db:\n    port: 5432\n  pass:\n    fn::secret: x\n";
        let text = "imports: [base]\nvalues:\n  a: ${db.port}\n  b: \"${pass}\"\n  c: ${a}\n";
        let a = analyze_text("app", text, &[("base", base)]);
        let (from, to) = definition(&a, text.find(".port").unwrap() + 1).unwrap();
        assert_eq!(a.source.slice(from), ".port");
        let port = base.find("port").unwrap();
        assert_eq!(
            to,
            Target::Place {
                env: "base".into(),
                span: Span::new(port, port + 4)
            }
        );
        let (_, to) = definition(&a, text.find("pass").unwrap()).unwrap();
        let pass = base.find("pass").unwrap();
        assert_eq!(
            to,
            Target::Place {
                env: "base".into(),
                span: Span::new(pass, pass + 4)
            }
        );
        // Within the document.
        let (_, to) = definition(&a, text.rfind("${a}").unwrap() + 2).unwrap();
        let a_key = text.find("a:").unwrap();
        assert_eq!(
            to,
            Target::Place {
                env: "app".into(),
                span: Span::new(a_key, a_key + 1)
            }
        );
    }

    #[test]
    fn import_to_file_and_override_to_base() {
        let base = "values:\n  host: db\n";
        let text =
            "imports:\n  - base\nvalues:\n  host: localhost\n  list: [1, 2]\n  x: ${list[1]}\n";
        let a = analyze_text("app", text, &[("base", base)]);
        let (_, to) = definition(&a, text.find("base").unwrap()).unwrap();
        assert_eq!(
            to,
            Target::File {
                name: "base".into()
            }
        );
        let (_, to) = definition(&a, text.find("host").unwrap()).unwrap();
        let h = base.find("host").unwrap();
        assert_eq!(
            to,
            Target::Place {
                env: "base".into(),
                span: Span::new(h, h + 4)
            }
        );
        // A list element has no key: the element itself.
        let (_, to) = definition(&a, text.find("[1]}").unwrap() + 1).unwrap();
        let two = text.find("2]").unwrap();
        assert_eq!(
            to,
            Target::Place {
                env: "app".into(),
                span: Span::new(two, two + 1)
            }
        );
    }
}
