//! What the evaluator asks of the world: environments by name, providers, rotators and
//! decryption. The command line, the language server and the tests each plug in their own
//! [`Host`].
//!
//! Every method takes `&self` and the traits are `Send + Sync`, so a host can serve
//! independent imports and provider opens from several threads. Providers and rotators are
//! shared (`Arc`): a host keeps them in a [`Registry`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::share::SharedImports;
use super::value::Value;
use crate::ast::EnvironmentDecl;
use crate::diag::Diagnostic;
use crate::source::Source;
use crate::syntax::Limits;

/// An environment's text parsed with the evaluation's limits (what [`crate::ast::load_with`]
/// gives, less the syntax tree), as the evaluator imports it. A host that serves many
/// evaluations can keep these ([`Host::parse`]) so that each environment is parsed once.
pub struct ParsedEnvironment {
    pub(crate) decl: Option<EnvironmentDecl>,
    pub(crate) diags: Vec<Diagnostic>,
    /// The document's YAML nodes.
    pub(crate) nodes: usize,
    /// What was parsed, and with which limits (to tell whether a kept parse still holds).
    text: Arc<str>,
    limits: Limits,
}

impl ParsedEnvironment {
    /// Parses `text`, the text of environment `name`, with `limits`.
    #[must_use]
    pub fn new(name: &str, text: &str, limits: &Limits) -> Self {
        let loaded = crate::ast::load_with(&Source::new(name, text), limits);
        ParsedEnvironment {
            decl: loaded.decl,
            diags: loaded.diags,
            nodes: loaded.syntax.nodes,
            text: Arc::from(text),
            limits: *limits,
        }
    }

    /// Whether this is the parse of `text` with `limits`.
    #[must_use]
    pub fn is_of(&self, text: &str, limits: &Limits) -> bool {
        *self.text == *text && self.limits == *limits
    }
}

/// Why a host could not give what the evaluator asked for. Its message is reported as is,
/// at the import, call or ciphertext that asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError {
    kind: HostErrorKind,
    message: String,
}

/// What kind of failure a [`HostError`] is, for callers that must tell them apart (a
/// missing environment from one that cannot be read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostErrorKind {
    /// There is no such environment, provider or rotator.
    NotFound,
    /// It exists, but this host cannot serve it (no key to decrypt with, a provider that
    /// a front end never opens).
    Unavailable,
    /// Serving it failed (an unreadable file, an invalid name, a failed decryption).
    Failed,
}

impl HostError {
    /// An error of `kind` with the message to report.
    #[must_use]
    pub fn new(kind: HostErrorKind, message: impl Into<String>) -> Self {
        HostError {
            kind,
            message: message.into(),
        }
    }

    /// A [`HostErrorKind::NotFound`] error.
    #[must_use]
    pub fn not_found(message: impl Into<String>) -> Self {
        HostError::new(HostErrorKind::NotFound, message)
    }

    /// A [`HostErrorKind::Unavailable`] error.
    #[must_use]
    pub fn unavailable(message: impl Into<String>) -> Self {
        HostError::new(HostErrorKind::Unavailable, message)
    }

    /// A [`HostErrorKind::Failed`] error.
    #[must_use]
    pub fn failed(message: impl Into<String>) -> Self {
        HostError::new(HostErrorKind::Failed, message)
    }

    /// What kind of failure it is.
    #[must_use]
    pub fn kind(&self) -> HostErrorKind {
        self.kind
    }

    /// The message to report.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HostError {}

impl From<HostError> for String {
    fn from(e: HostError) -> String {
        e.message
    }
}

/// A provider: `fn::open::NAME`.
pub trait Provider: Send + Sync {
    /// The JSON Schemas of the inputs and of the outputs.
    fn schema(&self) -> (serde_json::Value, serde_json::Value);
    /// Opens the provider. The error text is reported as is, at the call.
    ///
    /// # Errors
    /// Whatever the provider could not do, as the message to show.
    fn open(&self, inputs: &Value, context: &Value) -> Result<Value, String>;
    /// Whether `open` reads its `context`. When it does not, two opens with the same
    /// inputs in different environments of one evaluation are the same open, made once.
    fn reads_context(&self) -> bool {
        true
    }
}

/// A rotator: `fn::rotate::NAME`.
pub trait Rotator: Send + Sync {
    /// The JSON Schemas of the inputs, the state and the outputs.
    fn schema(&self) -> (serde_json::Value, serde_json::Value, serde_json::Value);
    /// Opens with the current state (`None` when the document has none).
    ///
    /// # Errors
    /// The message to show.
    fn open(&self, inputs: &Value, state: Option<&Value>, context: &Value)
    -> Result<Value, String>;
    /// Rotates: returns the new state.
    ///
    /// # Errors
    /// The message to show.
    fn rotate(
        &self,
        inputs: &Value,
        state: Option<&Value>,
        context: &Value,
    ) -> Result<Value, String>;
}

/// Everything outside the evaluator.
pub trait Host: Sync {
    /// The text of environment `name` (`proj/env`).
    ///
    /// # Errors
    /// Why the environment cannot be read ([`HostErrorKind::NotFound`] when it does not
    /// exist).
    fn load_environment(&self, name: &str) -> Result<String, HostError>;

    /// Environment `name`'s `text` (as [`Host::load_environment`] gave it) parsed with
    /// `limits`. The default parses it each time; a host that serves many evaluations (a
    /// check of a whole project) may keep the parse and hand it to each, as long as it is
    /// [`ParsedEnvironment::is_of`] the same text and limits.
    fn parse(&self, name: &str, text: &str, limits: &Limits) -> Arc<ParsedEnvironment> {
        Arc::new(ParsedEnvironment::new(name, text, limits))
    }

    /// The name under which environment `importer` importing `name` (as written in its
    /// `imports` or `${environments...}`) is loaded and evaluated: the same environment
    /// imported twice under one name is evaluated once, so two names must mean two
    /// documents. The default is `name` itself; a host that reads versions rewrites an
    /// unpinned import of a pinned environment (`base@v3` importing `common` reads
    /// `common` at `base@v3`'s revision, so it names it by that revision).
    fn import_name(&self, importer: &str, name: &str) -> String {
        let _ = importer;
        name.to_owned()
    }

    /// Where the static checks this host serves keep their imports' evaluations for each
    /// other ([`SharedImports`]): a host that serves a check of many environments, each
    /// text the same for all of them, may keep one. The default shares nothing.
    fn shared_imports(&self) -> Option<&SharedImports> {
        None
    }

    /// The provider `name`.
    ///
    /// # Errors
    /// Why it is not available, e.g. `unknown provider "aws-login"`.
    fn provider(&self, name: &str) -> Result<Arc<dyn Provider>, HostError>;

    /// The rotator `name`.
    ///
    /// # Errors
    /// Why it is not available, e.g. `unknown rotator "x"`.
    fn rotator(&self, name: &str) -> Result<Arc<dyn Rotator>, HostError>;

    /// Decrypts the ciphertext of a `fn::secret: {ciphertext: ...}`.
    ///
    /// # Errors
    /// Why it cannot be decrypted.
    fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, HostError>;
}

/// The providers and rotators a host offers, by name.
#[derive(Clone, Default)]
pub struct Registry {
    providers: BTreeMap<String, Arc<dyn Provider>>,
    rotators: BTreeMap<String, Arc<dyn Rotator>>,
}

impl Registry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Registry::default()
    }

    /// Adds (or replaces) provider `name`.
    #[must_use]
    pub fn with_provider(mut self, name: impl Into<String>, p: impl Provider + 'static) -> Self {
        self.providers.insert(name.into(), Arc::new(p));
        self
    }

    /// Adds (or replaces) rotator `name`.
    #[must_use]
    pub fn with_rotator(mut self, name: impl Into<String>, r: impl Rotator + 'static) -> Self {
        self.rotators.insert(name.into(), Arc::new(r));
        self
    }

    /// Provider `name`, if registered.
    #[must_use]
    pub fn provider(&self, name: &str) -> Option<Arc<dyn Provider>> {
        self.providers.get(name).cloned()
    }

    /// Rotator `name`, if registered.
    #[must_use]
    pub fn rotator(&self, name: &str) -> Option<Arc<dyn Rotator>> {
        self.rotators.get(name).cloned()
    }

    /// The names of the registered providers, sorted.
    pub fn provider_names(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }

    /// The names of the registered rotators, sorted.
    pub fn rotator_names(&self) -> impl Iterator<Item = &str> {
        self.rotators.keys().map(String::as_str)
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .field("rotators", &self.rotators.keys().collect::<Vec<_>>())
            .finish()
    }
}
