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
pub mod providers;
mod schema;
pub mod secrets;
// A front end like the language server: public for the `escc` binary only.
#[cfg(feature = "serve")]
#[doc(hidden)]
pub mod serve;
pub mod source;
mod suggest;
pub mod syntax;
#[cfg(feature = "testing")]
pub mod testing;

pub use diag::{Code, Diagnostic, Severity};
pub use source::{LineCol, Source, Span};
pub use syntax::Limits;

// Reading a document is the ast layer's job; the crate root keeps the short paths.
pub use ast::{Loaded, load, load_with};
