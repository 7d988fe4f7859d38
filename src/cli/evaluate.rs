//! The command line's use of the project's pipeline, shared by `check`, `get`, `open` and
//! `run`: which environment, its evaluation (with a spinner while providers are opened),
//! and its diagnostics on stderr.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write as _};

use super::Failure;
use super::project::Project;
use super::render::{self, Spinner};
use crate::eval::{Evaluation, Mode, Rotation, Value};
use crate::project::FsHost;
use crate::secrets::Masker;
use crate::{Diagnostic, diag};

/// An evaluated environment, ready to print.
pub(crate) struct Evaluated {
    /// The environment's name.
    pub(crate) name: String,
    /// Its properties (empty when it has none).
    pub(crate) properties: BTreeMap<String, Value>,
    /// Load and evaluation diagnostics, sorted.
    pub(crate) diags: Vec<Diagnostic>,
    /// Every secret text involved (for masking diagnostics and output).
    pub(crate) secrets: Vec<String>,
    /// The typed environment (values with their traces), when asked for.
    pub(crate) typed: Option<serde_json::Value>,
    /// What rotation did (rotate mode only).
    pub(crate) rotations: Vec<Rotation>,
}

/// Checks or evaluates environment `name` through the project's pipeline, with a spinner
/// naming the providers being opened (when `host` lists them: [`FsHost::with_progress`])
/// if they take more than a second. `Err` only when the environment itself cannot be read.
pub(crate) fn evaluate_environment(
    project: &Project,
    host: &FsHost,
    name: &str,
    mode: &Mode,
    want_typed: bool,
) -> Result<Evaluated, Failure> {
    let evaluating = match mode {
        Mode::Check { .. } => None,
        Mode::Eval => Some(format!("opening {name}")),
        Mode::Rotate { .. } => Some(format!("rotating {name}")),
    };
    let spinner = evaluating.map(|evaluating| {
        let opening = host.progress().cloned();
        // The providers still opening, by name (never their inputs), else the environment.
        Spinner::start(move || {
            opening
                .as_ref()
                .and_then(|o| o.summary(3))
                .unwrap_or_else(|| evaluating.clone())
        })
    });
    let checked = project
        .inner
        .run_without_syntax(host, name, mode)
        .map_err(|e| Failure::new(e.into()));
    drop(spinner);
    let mut checked = checked?;
    let typed = if want_typed {
        checked.evaluation.as_ref().and_then(Evaluation::typed)
    } else {
        None
    };
    let properties = checked
        .evaluation
        .as_mut()
        .and_then(|e| e.properties.take())
        .unwrap_or_default();
    let rotations = checked
        .evaluation
        .as_mut()
        .map(|e| std::mem::take(&mut e.rotations))
        .unwrap_or_default();
    Ok(Evaluated {
        name: name.to_owned(),
        rotations,
        properties,
        secrets: checked.secrets().to_vec(),
        diags: std::mem::take(&mut checked.diags),
        typed,
    })
}

/// Prints an environment's diagnostics on stderr, secrets masked. Returns whether there
/// were errors.
pub(crate) fn report_diagnostics(project: &Project, host: &FsHost, ev: &Evaluated) -> bool {
    if ev.diags.is_empty() {
        return false;
    }
    let (sources, literals) = render::sources(project, host);
    let mut secrets = ev.secrets.clone();
    secrets.extend(literals);
    let masker = Masker::new(secrets);
    let text = diag::render::human(
        &ev.diags,
        &sources,
        render::use_color(std::io::stderr().is_terminal()),
    );
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(masker.mask_str(&text).as_bytes());
    let (errors, warnings) = diag::counts(&ev.diags);
    if errors > 0 {
        let _ = writeln!(
            err,
            "escc: {} has {errors} error(s) and {warnings} warning(s)",
            ev.name
        );
    }
    errors > 0
}

/// The environment named on the command line (`NAME[@REV]`), or the project's default,
/// with its revision.
pub(crate) fn versioned_name(
    project: &Project,
    name: Option<&str>,
) -> Result<(String, Option<String>), Failure> {
    match name {
        Some(n) => project.resolve_versioned(n),
        None => environment_name(project, None).map(|n| (n, None)),
    }
}

/// The environment named on the command line, or the project's default.
pub(crate) fn environment_name(project: &Project, name: Option<&str>) -> Result<String, Failure> {
    match name {
        Some(n) => project.resolve_name(n),
        None => project.defaults().environment.clone().ok_or_else(|| {
            Failure::new(
                "no environment given: name one (e.g. app/dev), or set defaults.environment in escc.toml"
                    .to_owned(),
            )
        }),
    }
}
