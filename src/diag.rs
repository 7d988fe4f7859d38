//! Diagnostics: one data type for every message escc reports.
//!
//! A [`Diagnostic`] is plain data (severity, stable [`Code`], the reference's exact summary
//! text, an environment name, a document path and an exact byte [`Span`]). Rendering to a
//! terminal, JSON or an editor happens elsewhere, from this one value. The type implements
//! [`miette::Diagnostic`] so library users can render it with miette directly.

use std::fmt;

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
    ($($(#[$doc:meta])* $variant:ident = $text:literal,)*) => {
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

            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
        }
    };
}

codes! {
    /// The YAML is malformed: `values: [a, b`.
    YamlSyntax = "yaml-syntax",
    /// An alias node: `b: *a`.
    YamlAlias = "yaml-alias",
    /// A mapping key that is not a string: `1: x`.
    YamlKeyNotString = "yaml-key-not-string",
    /// An explicit core tag that does not fit its value: `a: !!bool yes`.
    YamlTag = "yaml-tag",
    /// A document beyond one of escc's documented limits (size, nesting depth).
    LimitExceeded = "limit-exceeded",
    /// The document is not a mapping: `- a`.
    EnvironmentNotObject = "environment-not-object",
    /// A top-level field of the wrong type: `values: [a]`, `imports: x`, `description: 1`.
    InvalidField = "invalid-field",
    /// An import entry of the wrong shape: `imports: [{a: {}, b: {}}]`.
    InvalidImport = "invalid-import",
    /// The same key twice: `values: {a: 1}` twice at the root.
    DuplicateKey = "duplicate-key",
    /// An unknown top-level field: `valeus: {}`.
    UnknownField = "unknown-field",
    /// A builtin as a top-level value key: `values: {fn::secret: x}`.
    TopLevelBuiltin = "top-level-builtin",
    /// A malformed `${...}` interpolation or property access: `a: ${b.}`.
    InvalidInterpolation = "invalid-interpolation",
    /// A nested object key that is not a literal string: `a: {"${b}": 1}`.
    KeyNotLiteral = "key-not-literal",
    /// A builtin call that shares its object with other keys: `{fn::toJSON: a, b: c}`.
    BuiltinNotAlone = "builtin-not-alone",
    /// An unknown `fn::` name: `{fn::Open: {}}`.
    ReservedPrefix = "reserved-prefix",
    /// A builtin's argument of the wrong shape: `{fn::join: oops}`.
    InvalidBuiltinArgument = "invalid-builtin-argument",
    /// A top-level value named `imports`, `context` or `environments`.
    ReservedKey = "reserved-key",
    /// An environment that imports itself, directly or not.
    ImportCycle = "import-cycle",
    /// An import that cannot be loaded: `imports: [missing]`.
    ImportFailed = "import-failed",
    /// A value that depends on itself: `a: ${a}`.
    ReferenceCycle = "reference-cycle",
    /// A reference to a property that does not exist: `a: ${nope}`.
    UnknownProperty = "unknown-property",
    /// An access that does not fit its receiver: `${list.name}`, `${map[0]}`, `${list[9]}`.
    InvalidAccess = "invalid-access",
    /// A value that overrides an imported `fn::final` value (a warning).
    FinalOverride = "final-override",
    /// A `fn::secret` ciphertext that cannot be decoded or decrypted.
    InvalidCiphertext = "invalid-ciphertext",
    /// A provider or rotator that cannot be loaded or fails.
    ProviderFailed = "provider-failed",
    /// A value that does not match the schema it must satisfy.
    SchemaViolation = "schema-violation",
    /// A builtin that fails at run time: bad base64, bad JSON, an invalid schema.
    BuiltinFailed = "builtin-failed",
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

/// Sorts diagnostics into escc's one order and drops exact duplicates (an environment
/// imported by several checked environments reports its problems once).
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
    fn sort_puts_unplaced_first() {
        let placed = Diagnostic::error(Code::YamlAlias, "b").at("e", Span::new(3, 4), "");
        let unplaced = Diagnostic::error(Code::YamlSyntax, "a");
        let mut v = vec![placed.clone(), unplaced.clone()];
        sort(&mut v);
        assert_eq!(v, vec![unplaced, placed]);
    }
}
