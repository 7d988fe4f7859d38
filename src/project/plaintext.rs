//! escc's own warning about `fn::secret` literals kept in plaintext (`plaintext-secret`):
//! a secret written as `fn::secret: hunter2` goes to git as written. The reference has no
//! such warning (ESC encrypts on save), so this pass runs in the project pipeline only,
//! after the evaluation, like `crate::providers::lint`; the conformance harness never sees
//! it. `allow-plaintext = true` under `[encryption]` in escc.toml turns it off for projects
//! that keep plaintext on purpose (examples, tests).

use crate::ast::{Call, EnvironmentDecl, ExprKind, SecretArg};
use crate::diag::{Code, Diagnostic};
use crate::path::join_key;

/// A warning for each plaintext `fn::secret` literal of environment `name`'s `values`
/// (also inside other builtins' arguments), in document order. The message names no
/// value: it says where the secret is and how to encrypt it.
#[must_use]
pub(crate) fn lint(name: &str, decl: &EnvironmentDecl) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (x, path) in decl.exprs_with_paths() {
        if let ExprKind::Builtin(b) = &x.kind
            && let Call::Secret(SecretArg::Plaintext(lit)) = &b.call
        {
            out.push(
                Diagnostic::warning(Code::PlaintextSecret, message(name)).at(
                    name,
                    lit.span,
                    &join_key(&path, &b.name),
                ),
            );
        }
    }
    out
}

fn message(name: &str) -> String {
    format!(
        "this fn::secret is stored in plaintext; run `escc encrypt {name}` to encrypt it \
         (allow-plaintext = true under [encryption] in escc.toml keeps plaintext on purpose)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Source;

    fn warnings(doc: &str) -> Vec<Diagnostic> {
        let source = Source::new("app/dev", doc);
        let loaded = crate::load(&source);
        lint("app/dev", loaded.decl.as_ref().unwrap())
    }

    #[test]
    fn every_plaintext_literal_is_named_by_path_without_its_value() {
        let doc = "values:\n  a:\n    fn::secret: hunter2\n  b:\n    - fn::secret: {ciphertext: ZXNjeA==}\n    - x: {fn::secret: swordfish}\n  c:\n    fn::toJSON: {k: {fn::secret: tiger}}\n";
        let w = warnings(doc);
        let paths: Vec<_> = w.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths.len(), 3, "{paths:?}");
        assert!(paths[0].starts_with("values.a"), "{paths:?}");
        assert!(paths[1].starts_with("values.b[1].x"), "{paths:?}");
        assert!(paths[2].starts_with("values.c"), "{paths:?}");
        for d in &w {
            assert_eq!(d.code, Code::PlaintextSecret);
            assert!(!d.is_error());
            assert!(d.summary.contains("escc encrypt app/dev"), "{}", d.summary);
            for secret in ["hunter2", "swordfish", "tiger"] {
                assert!(!d.summary.contains(secret));
            }
        }
        let spans: Vec<_> = w
            .iter()
            .map(|d| &doc[d.span.unwrap().start()..d.span.unwrap().end()])
            .collect();
        assert_eq!(spans, ["hunter2", "swordfish", "tiger"]);
    }

    #[test]
    fn ciphertexts_and_documents_without_secrets_are_quiet() {
        assert!(
            warnings("values:\n  a: 1\n  b: {fn::secret: {ciphertext: ZXNjeA==}}\n").is_empty()
        );
        assert!(warnings("imports: []\n").is_empty());
    }
}
