//! Diagnostics for people and machines: [`human`] (miette reports with source excerpts),
//! [`json`], [`github`] (workflow commands) and [`sarif`] (SARIF 2.1.0).
//!
//! A renderer reads diagnostics and the [`Sources`] they point into, and knows nothing of
//! files, hosts or projects: the caller says, for each environment, the path to show, its
//! text, and which spans of it must never be shown. Renderers do not mask secrets in
//! messages; the caller masks the rendered text (`crate::secrets::Masker`).
//!
//! ```
//! use escc::diag::render::{Sources, github};
//! use escc::{Source, load};
//!
//! let source = Source::new("app", "values:\n  greeting: hello ${name\n");
//! let diags = load(&source).diags;
//! let mut sources = Sources::new();
//! sources.insert("envs/app.yaml", source, Vec::new());
//! assert_eq!(
//!     github(&diags, &sources),
//!     "::error file=envs/app.yaml,line=2,col=25,endLine=2,endColumn=25,\
//!      title=escc invalid-interpolation::values.greeting: \
//!      missing closing brace '}' in interpolation\n",
//! );
//! ```

use std::collections::BTreeMap;

use crate::{Diagnostic, Source, Span};

mod github;
mod human;
mod json;
mod sarif;

pub use github::github;
pub use human::human;
pub use json::json;
pub use sarif::sarif;

/// The environments diagnostics point into, as the renderers show them: for each
/// environment name, the path to show, its text, and the spans never to show.
#[derive(Default)]
pub struct Sources {
    map: BTreeMap<String, Shown>,
}

struct Shown {
    file: String,
    source: Source,
    hidden: Vec<Span>,
}

impl Sources {
    /// No environments: diagnostics are shown without excerpts or positions, each under
    /// its environment's name.
    #[must_use]
    pub fn new() -> Self {
        Sources::default()
    }

    /// Adds environment `source.name()`, shown as `file` (a path relative to where the
    /// output is read). `hidden` are spans of its text that a source excerpt must never
    /// show, such as its `fn::secret` literals (`crate::secrets::secret_literals`): each
    /// of their lines is shown as `[secret]`, whatever the diagnostic's span.
    pub fn insert(&mut self, file: impl Into<String>, source: Source, hidden: Vec<Span>) {
        self.map.insert(
            source.name().to_owned(),
            Shown {
                file: file.into(),
                source,
                hidden,
            },
        );
    }

    /// The text of environment `env`, if it was added.
    #[must_use]
    pub fn source(&self, env: &str) -> Option<&Source> {
        self.map.get(env).map(|s| &s.source)
    }

    fn get(&self, env: &str) -> Option<&Shown> {
        self.map.get(env)
    }

    /// The file of an environment as shown, or the environment name.
    fn file(&self, env: &str) -> String {
        self.get(env)
            .map_or_else(|| env.to_owned(), |s| s.file.clone())
    }
}

/// One diagnostic's position, 1-based, end exclusive.
struct Place {
    start: (u32, u32),
    end: (u32, u32),
    span: Option<(u32, u32)>,
}

fn place(d: &Diagnostic, sources: &Sources) -> Option<Place> {
    let source = sources.source(&d.environment)?;
    let (s, e) = d.positions(source)?;
    Some(Place {
        start: (s.line, s.column),
        end: (e.line, e.column),
        span: d.span.map(|s| (s.start, s.end)),
    })
}
