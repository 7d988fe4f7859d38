//! escc: the Pulumi ESC environment language, offline.
//!
//! The pipeline is `source` (text, byte [`Span`]s, line index) → [`syntax`] (YAML to a
//! spanned tree; never fails) → [`ast`] (imports, values, `${...}` templates, `fn::`
//! calls) → evaluation. Every message is a [`Diagnostic`] with a stable [`Code`].
//!
//! ```
//! use escc::eval::{evaluate, Mode};
//! use escc::testing::TestHost;
//! use escc::{load, Source};
//!
//! let source = Source::new(
//!     "app",
//!     "values:\n  name: world\n  greeting: hello ${name}\n  token:\n    fn::secret: s3cr3t\n",
//! );
//! let loaded = load(&source);
//! assert!(loaded.diags.is_empty());
//!
//! // Everything outside the evaluator (other environments, providers, decryption) comes
//! // from a host; the test host serves environments from memory.
//! let host = TestHost::default();
//! let decl = loaded.decl.unwrap();
//! let result = evaluate(&source, &decl, &host, &TestHost::context(), &Mode::Eval);
//! let values = result.properties.unwrap();
//! assert_eq!(values["greeting"].to_json(true), "hello world");
//! assert_eq!(values["token"].to_json(true), "[secret]");
//!
//! // Diagnostics carry a stable code and an exact span.
//! let broken = Source::new("app", "values:\n  greeting: hello ${name\n");
//! let diag = &load(&broken).diags[0];
//! assert_eq!(diag.code.as_str(), "invalid-interpolation");
//! assert_eq!(diag.summary, "missing closing brace '}' in interpolation");
//! assert_eq!(broken.line_col(diag.span.unwrap().start()).column, 25);
//! ```

pub mod ast;
// The front ends are public for the `escc` binary only: not part of the library's API.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
pub mod diag;
pub mod edit;
pub mod eval;
mod go;
#[cfg(feature = "lsp")]
#[doc(hidden)]
pub mod lsp;
mod path;
pub mod project;
mod schema;
pub mod secrets;
pub mod source;
mod suggest;
pub mod syntax;
#[cfg(feature = "testing")]
pub mod testing;

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
