//! Diagnostics: one data type for every message escc reports.
//!
//! A [`Diagnostic`] is plain data (severity, stable [`Code`], the reference's exact summary
//! text, an environment name, a document path and an exact byte [`Span`]). Every rendering
//! is made from this one value: `render` (feature `render`) writes the command line's
//! formats, the language server converts it for the editor. The type implements
//! [`miette::Diagnostic`] so library users can render it with miette directly.

use std::fmt;

#[cfg(feature = "render")]
pub mod render;

use serde::Serialize;

use crate::source::{LineCol, Source, Span};

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The document is wrong; `check` fails.
    Error,
    /// Suspicious but accepted.
    Warning,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal, $description:literal,)*) => {
        /// The stable identifier of a kind of diagnostic. Codes are kebab-case, public and
        /// never reused; each variant's doc shows a document that triggers it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// The code's kebab-case text, e.g. `yaml-syntax`.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }

            /// A one-line description of the kind (SARIF's rule description).
            #[must_use]
            pub fn description(self) -> &'static str {
                match self {
                    $(Code::$variant => $description,)*
                }
            }

            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
        }
    };
}

codes! {
    /// The YAML is malformed: `values: [a, b`.
    YamlSyntax = "yaml-syntax",
        "The YAML is malformed.",
    /// An alias node: `b: *a`.
    YamlAlias = "yaml-alias",
        "YAML aliases are not supported.",
    /// A mapping key that is not a string: `1: x`.
    YamlKeyNotString = "yaml-key-not-string",
        "A mapping key is not a string.",
    /// An explicit core tag that does not fit its value: `a: !!bool yes`.
    YamlTag = "yaml-tag",
        "An explicit YAML tag does not fit its value.",
    /// A document beyond one of escc's documented limits (size, nesting depth).
    LimitExceeded = "limit-exceeded",
        "The document exceeds one of escc's limits.",
    /// The document is not a mapping: `- a`.
    EnvironmentNotObject = "environment-not-object",
        "The document is not a mapping.",
    /// A top-level field of the wrong type: `values: [a]`, `imports: x`, `description: 1`.
    InvalidField = "invalid-field",
        "A top-level field has the wrong type.",
    /// An import entry of the wrong shape: `imports: [{a: {}, b: {}}]`.
    InvalidImport = "invalid-import",
        "An import entry has the wrong shape.",
    /// The same key twice: `values: {a: 1}` twice at the root.
    DuplicateKey = "duplicate-key",
        "The same key appears twice.",
    /// An unknown top-level field: `valeus: {}`.
    UnknownField = "unknown-field",
        "An unknown top-level field.",
    /// A builtin as a top-level value key: `values: {fn::secret: x}`.
    TopLevelBuiltin = "top-level-builtin",
        "A builtin is used as a top-level value key.",
    /// A malformed `${...}` interpolation or property access: `a: ${b.}`.
    InvalidInterpolation = "invalid-interpolation",
        "A malformed ${...} interpolation or property access.",
    /// A nested object key that is not a literal string: `a: {"${b}": 1}`.
    KeyNotLiteral = "key-not-literal",
        "An object key is not a literal string.",
    /// A builtin call that shares its object with other keys: `{fn::toJSON: a, b: c}`.
    BuiltinNotAlone = "builtin-not-alone",
        "A builtin call shares its object with other keys.",
    /// An unknown `fn::` name: `{fn::Open: {}}`.
    ReservedPrefix = "reserved-prefix",
        "An unknown fn:: name.",
    /// A builtin's argument of the wrong shape: `{fn::join: oops}`.
    InvalidBuiltinArgument = "invalid-builtin-argument",
        "A builtin's argument has the wrong shape.",
    /// A top-level value named `imports`, `context` or `environments`.
    ReservedKey = "reserved-key",
        "A reserved top-level value name (imports, context, environments).",
    /// An environment that imports itself, directly or not.
    ImportCycle = "import-cycle",
        "An environment imports itself, directly or not.",
    /// An import that cannot be loaded: `imports: [missing]`.
    ImportFailed = "import-failed",
        "An imported or referenced environment cannot be loaded.",
    /// A value that depends on itself: `a: ${a}`.
    ReferenceCycle = "reference-cycle",
        "A value depends on itself.",
    /// A reference to a property that does not exist: `a: ${nope}`.
    UnknownProperty = "unknown-property",
        "A reference to a property that does not exist.",
    /// An access that does not fit its receiver: `${list.name}`, `${map[0]}`, `${list[9]}`.
    InvalidAccess = "invalid-access",
        "An access that does not fit its receiver.",
    /// A value that overrides an imported `fn::final` value (a warning).
    FinalOverride = "final-override",
        "A value overrides an imported fn::final value.",
    /// A `fn::secret` ciphertext that cannot be decoded or decrypted.
    InvalidCiphertext = "invalid-ciphertext",
        "A fn::secret ciphertext cannot be decoded or decrypted.",
    /// A provider or rotator that cannot be loaded or fails.
    ProviderFailed = "provider-failed",
        "A provider or rotator cannot be loaded or fails.",
    /// A value that does not match the schema it must satisfy.
    SchemaViolation = "schema-violation",
        "A value does not match the schema it must satisfy.",
    /// A builtin that fails at run time: bad base64, bad JSON, an invalid schema.
    BuiltinFailed = "builtin-failed",
        "A builtin fails at run time.",
    /// A `fn::secret` literal kept in plaintext (a warning; escc's own, the reference has
    /// none): `escc encrypt` turns it into a ciphertext.
    PlaintextSecret = "plaintext-secret",
        "A fn::secret literal is stored in plaintext.",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One message about one place in one environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The stable kind.
    pub code: Code,
    /// The whole message, worded as the reference words it.
    pub summary: String,
    /// More explanation; empty for every message the reference has.
    pub detail: String,
    /// The environment the span points into.
    pub environment: String,
    /// The document path of the node the message is about (`values.a[0]`), or empty.
    pub path: String,
    /// The exact byte span, when the message has a place.
    pub span: Option<Span>,
}

impl Diagnostic {
    /// An error.
    #[must_use]
    pub fn error(code: Code, summary: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            summary: summary.into(),
            detail: String::new(),
            environment: String::new(),
            path: String::new(),
            span: None,
        }
    }

    /// A warning.
    #[must_use]
    pub fn warning(code: Code, summary: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, summary)
        }
    }

    /// Places the diagnostic at `span` of environment `environment`, on node `path`.
    #[must_use]
    pub fn at(mut self, environment: &str, span: Span, path: &str) -> Self {
        environment.clone_into(&mut self.environment);
        self.span = Some(span);
        path.clone_into(&mut self.path);
        self
    }

    /// Names the environment without giving a span.
    #[must_use]
    pub fn in_environment(mut self, environment: &str) -> Self {
        environment.clone_into(&mut self.environment);
        self
    }

    /// Whether this is an error.
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The start and end line/column, given the source the span points into.
    #[must_use]
    pub fn positions(&self, source: &Source) -> Option<(LineCol, LineCol)> {
        self.span
            .map(|s| (source.line_col(s.start()), source.line_col(s.end())))
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.detail.is_empty()).then(|| Box::new(&self.detail) as Box<dyn fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span?;
        let label = (!self.path.is_empty()).then(|| self.path.clone());
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            label,
            span.start(),
            span.len(),
        ))))
    }
}

/// Sorts diagnostics into the one order escc prints them in: by environment, position,
/// severity, code and text. Subject-less diagnostics come first, as in the reference.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (
            a.span.is_some(),
            &a.environment,
            a.span,
            a.severity,
            a.code,
            &a.summary,
            &a.path,
        )
            .cmp(&(
                b.span.is_some(),
                &b.environment,
                b.span,
                b.severity,
                b.code,
                &b.summary,
                &b.path,
            ))
    });
}

/// Sorts diagnostics into escc's one order (see [`sort`]) and drops exact duplicates: an
/// environment imported by several checked environments reports its problems once.
pub fn sort_dedup(diags: &mut Vec<Diagnostic>) {
    sort(diags);
    let mut seen = std::collections::BTreeSet::new();
    diags.retain(|d| {
        seen.insert((
            d.environment.clone(),
            d.span.map(|s| (s.start, s.end)),
            d.severity,
            d.code.as_str(),
            d.summary.clone(),
            d.detail.clone(),
            d.path.clone(),
        ))
    });
}

/// The numbers of errors and of warnings.
#[must_use]
pub fn counts(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    (errors, diags.len() - errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_kebab_case_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(
                s.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{s} is not kebab-case"
            );
            assert!(seen.insert(s), "{s} is used twice");
        }
    }

    #[test]
    fn every_code_has_a_one_sentence_description() {
        for code in Code::ALL {
            let d = code.description();
            assert!(
                d.ends_with('.') && !d.contains('\n') && d.len() < 100,
                "{code}: {d:?}"
            );
        }
    }

    #[test]
    fn sort_dedup_drops_exact_duplicates_only() {
        let a = Diagnostic::error(Code::UnknownProperty, "x").at("e", Span::new(3, 4), "a");
        let b = Diagnostic::warning(Code::FinalOverride, "x").at("e", Span::new(3, 4), "a");
        let mut v = vec![a.clone(), b.clone(), a.clone()];
        sort_dedup(&mut v);
        assert_eq!(v, vec![a, b]);
        assert_eq!(counts(&v), (1, 1));
    }

    #[test]
    fn sort_puts_unplaced_first() {
        let placed = Diagnostic::error(Code::YamlAlias, "b").at("e", Span::new(3, 4), "");
        let unplaced = Diagnostic::error(Code::YamlSyntax, "a");
        let mut v = vec![placed.clone(), unplaced.clone()];
        sort(&mut v);
        assert_eq!(v, vec![unplaced, placed]);
    }
}
