//! Reading an environment from its text: the syntax stage and lowering, together.
//!
//! It lives in `ast` (not at the crate root) so the evaluator, which loads imported
//! environments itself, reads documents through a layer to its left.

use crate::diag::{self, Diagnostic};
use crate::source::Source;
use crate::syntax::{self, Limits};

/// An environment read from its text: the syntax tree, the declaration (absent when the
/// YAML itself is broken, as in the reference) and every load diagnostic, sorted.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Loaded {
    /// The syntax tree (possibly partial).
    pub syntax: syntax::Parsed,
    /// The declaration, unless decoding failed.
    pub decl: Option<super::EnvironmentDecl>,
    /// Decoding and declaration diagnostics.
    pub diags: Vec<Diagnostic>,
}

/// Reads an environment with the default [`Limits`].
#[must_use]
pub fn load(source: &Source) -> Loaded {
    load_with(source, &Limits::default())
}

/// Reads an environment with explicit limits.
#[must_use]
pub fn load_with(source: &Source, limits: &Limits) -> Loaded {
    let parsed = syntax::parse(source, limits);
    let mut diags = parsed.diags.clone();
    let decl = if parsed.has_errors() {
        None
    } else {
        let (decl, more) = super::lower(source, parsed.root.as_ref());
        diags.extend(more);
        Some(decl)
    };
    diag::sort(&mut diags);
    Loaded {
        syntax: parsed,
        decl,
        diags,
    }
}
