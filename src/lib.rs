//! escc: the Pulumi ESC environment language, offline.
//!
//! The pipeline is `source` (text, byte [`Span`]s, line index) → [`syntax`] (YAML to a
//! spanned tree; never fails) → [`ast`] (imports, values, `${...}` templates, `fn::`
//! calls) → evaluation. Every message is a [`Diagnostic`] with a stable [`Code`].
//!
//! ```
//! use escc::{load, Source};
//!
//! let source = Source::new("app", "values:\n  greeting: hello ${name\n");
//! let loaded = load(&source);
//! let diag = &loaded.diags[0];
//! assert_eq!(diag.summary, "missing closing brace '}' in interpolation");
//! assert_eq!(diag.code.as_str(), "invalid-interpolation");
//! // The span is exact: it points at the end of the string.
//! assert_eq!(source.line_col(diag.span.unwrap().start()).column, 29);
//! ```

pub mod ast;
#[cfg(feature = "cli")]
pub mod cli;
pub mod diag;
mod path;
pub mod source;
pub mod syntax;
mod text;

pub use diag::{Code, Diagnostic, Severity};
pub use source::{LineCol, Source, Span};
pub use syntax::Limits;

/// An environment read from its text: the syntax tree, the declaration (absent when the
/// YAML itself is broken, as in the reference) and every load diagnostic, sorted.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The syntax tree (possibly partial).
    pub syntax: syntax::Parsed,
    /// The declaration, unless decoding failed.
    pub decl: Option<ast::EnvironmentDecl>,
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
        let (decl, more) = ast::lower(source, parsed.root.as_ref());
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
