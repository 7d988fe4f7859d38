//! The one check/evaluate pipeline: read the root environment, load it, evaluate it unless
//! its own document has load errors, then sort, de-duplicate and mask the diagnostics.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use super::fs::FsHost;
use crate::ast::EnvironmentDecl;
use crate::eval::{
    Evaluation, Host, HostError, Mode, Options, ParsedEnvironment, Provider, Rotator,
    SharedImports, Value, evaluate_owned, evaluate_with,
};
use crate::secrets::Masker;
use crate::syntax::Limits;
use crate::{Diagnostic, Loaded, Source, load};

/// An environment checked or evaluated by [`Project::run`](super::Project::run).
#[non_exhaustive]
pub struct Checked {
    /// The environment's name and text.
    pub source: Source,
    /// Its syntax tree and declaration (neither from
    /// [`Project::run_without_syntax`](super::Project::run_without_syntax)), and its load
    /// diagnostics.
    pub loaded: Loaded,
    /// The evaluation, when the YAML is sound. A document with load errors is evaluated
    /// only statically ([`Mode::Check`]), for editor features, and its evaluation's
    /// diagnostics are not reported.
    pub evaluation: Option<Evaluation>,
    /// Every diagnostic: the document's load diagnostics, then, when it has no load errors,
    /// those of the evaluation (including those of the environments it imports, which say
    /// so in their `environment`), in escc's one order, without duplicates, and with every
    /// secret text the check met replaced by `[secret]`. A document with load errors
    /// reports those alone, as an import with errors is reported only as failed.
    pub diags: Vec<Diagnostic>,
    /// Every secret text the check met (see [`Checked::secrets`]).
    secrets: Vec<String>,
}

impl Checked {
    /// The environment's name.
    #[must_use]
    pub fn name(&self) -> &str {
        self.source.name()
    }

    /// The evaluated properties (none when the document was not evaluated or has neither
    /// values nor imports).
    #[must_use]
    pub fn properties(&self) -> Option<&BTreeMap<String, Value>> {
        self.evaluation.as_ref()?.properties.as_ref()
    }

    /// The properties as plain JSON (an empty object when there are none); secrets show as
    /// `"[secret]"` when `redact` is set, unknowns as `"[unknown]"`.
    #[must_use]
    pub fn values_json(&self, redact: bool) -> serde_json::Value {
        serde_json::Value::Object(
            self.properties()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.to_json(redact)))
                .collect(),
        )
    }

    /// Whether any diagnostic is an error.
    #[must_use]
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }

    /// Every secret text the check met, for masking what a front end prints: the secret
    /// scalars of the evaluated properties and, when there are diagnostics, the
    /// `fn::secret` literals of every document the check reached (their values, and each
    /// line as written in the file).
    #[must_use]
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }
}

pub(super) fn run(
    host: &FsHost,
    context: &Value,
    name: &str,
    mode: &Mode,
    warn_plaintext: bool,
    keep_syntax: bool,
) -> Result<Checked, HostError> {
    let document = host.read(name)?;
    let source = Source::shared(name, document.text);
    let mut loaded = load(&source);
    if !keep_syntax {
        // Nothing below reads the tree: freed now, it does not add to the evaluation's peak.
        loaded.syntax.root = None;
    }
    let mut diags = loaded.diags.clone();
    let load_errors = loaded.diags.iter().any(Diagnostic::is_error);
    let reached = Reached {
        host,
        names: Mutex::new(BTreeSet::from([name.to_owned()])),
    };
    // A static check has no side effects, so a document with load errors is still
    // evaluated for what editors read of it (completion while `${` is being typed); what
    // opens providers or rotates is not.
    let evaluated = !load_errors || matches!(mode, Mode::Check { .. });
    // What the reference leaves silent about provider inputs and outputs, and escc's own
    // warning about plaintext secrets committed as written: read from the declaration
    // alone, reported after the evaluation's diagnostics.
    let lint = |decl: &EnvironmentDecl| {
        let mut out = crate::providers::lint(name, decl, &reached);
        if warn_plaintext {
            out.extend(super::plaintext::lint(
                name,
                decl,
                host.revision().is_some(),
            ));
        }
        out
    };
    let (evaluation, linted) =
        if keep_syntax {
            let evaluation =
                loaded.decl.as_ref().filter(|_| evaluated).map(|decl| {
                    evaluate_with(&source, decl, &reached, context, mode, &options(host))
                });
            let linted = loaded.decl.as_ref().filter(|_| !load_errors).map(lint);
            (evaluation, linted)
        } else {
            // The declaration is linted first and handed to the evaluator, which drops it once
            // lowered: it does not add to the evaluation's peak memory.
            let linted = loaded.decl.as_ref().filter(|_| !load_errors).map(lint);
            let evaluation =
                loaded.decl.take().filter(|_| evaluated).map(|decl| {
                    evaluate_owned(&source, decl, &reached, context, mode, &options(host))
                });
            (evaluation, linted)
        };
    if let Some(ev) = evaluation.as_ref().filter(|_| !load_errors) {
        diags.extend(ev.diags.iter().cloned());
        diags.extend(linted.into_iter().flatten());
    }
    crate::diag::sort_dedup(&mut diags);
    let mut texts = Vec::new();
    for v in evaluation
        .as_ref()
        .and_then(|e| e.properties.as_ref())
        .into_iter()
        .flat_map(BTreeMap::values)
    {
        texts.extend(v.secret_texts());
    }
    if !diags.is_empty() {
        // Literals are looked for only when there is something to mask (a check that
        // reports nothing prints no text of any document), and only in the documents this
        // check reached: a host shared by many checks has read many more.
        let names = reached
            .names
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        // The root's literals from its declaration when it is still here (the language
        // server's checks): reading them from the host would load the document again,
        // a seventh of the time of a check with a diagnostic on a large document.
        let root_literals: Option<Vec<String>> = loaded.decl.as_ref().map(|decl| {
            crate::secrets::secret_literals(decl)
                .iter()
                .flat_map(|l| l.texts(source.text()))
                .collect()
        });
        for reached_name in &names {
            match root_literals.as_ref().filter(|_| reached_name == name) {
                Some(root) => texts.extend(root.iter().cloned()),
                None => texts.extend(host.literal_texts(reached_name).iter().cloned()),
            }
        }
        let said: Vec<&str> = diags
            .iter()
            .flat_map(|d| [d.summary.as_str(), d.detail.as_str()])
            .collect();
        let masker = Masker::for_texts(texts.iter().cloned(), &said);
        masker.mask_diagnostics(&mut diags);
    }
    Ok(Checked {
        source,
        loaded,
        evaluation,
        diags,
        secrets: texts,
    })
}

/// The options of an evaluation `host` serves. A host that shares imports serves a check of
/// many environments, one thread per core, from files: loading ahead on more threads would
/// only take the cores from the other checks.
fn options(host: &FsHost) -> Options {
    Options {
        max_in_flight: if host.shared_imports().is_some() {
            1
        } else {
            Options::default().max_in_flight
        },
        ..Options::default()
    }
}

/// The host of one check: it remembers which environments the evaluation loaded.
struct Reached<'a> {
    host: &'a FsHost,
    names: Mutex<BTreeSet<String>>,
}

impl Host for Reached<'_> {
    fn load_environment(&self, name: &str) -> Result<String, HostError> {
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned());
        self.host.load_environment(name)
    }

    fn parse(&self, name: &str, text: &str, limits: &Limits) -> Arc<ParsedEnvironment> {
        self.host.parse(name, text, limits)
    }

    fn import_name(&self, importer: &str, name: &str) -> String {
        self.host.import_name(importer, name)
    }

    fn shared_imports(&self) -> Option<&SharedImports> {
        self.host.shared_imports()
    }

    fn provider(&self, name: &str) -> Result<Arc<dyn Provider>, HostError> {
        self.host.provider(name)
    }

    fn rotator(&self, name: &str) -> Result<Arc<dyn Rotator>, HostError> {
        self.host.rotator(name)
    }

    fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, HostError> {
        self.host.decrypt(ciphertext)
    }
}
