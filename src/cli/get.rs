//! `escc get` (static: providers are not opened, their results are `[unknown]`) and
//! `escc open` (providers opened), printed in one of the value formats of `format/`; and
//! the evaluation adapter `check` and `run` share with them.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;

use super::format::{
    FileMode, MAX_STRING_FORM, ValueFormat, export_lines, string_form, typed_at, write_detailed,
    write_json, write_yaml_document,
};
use super::lookup::lookup;
use super::project::Project;
use super::render::{self, Spinner};
use super::{EXIT_FAILED, Failure};
use crate::eval::{Evaluation, Mode, Value};
use crate::project::FsHost;
use crate::secrets::Masker;
use crate::{Diagnostic, diag};

/// The arguments of `get` and `open`.
pub(crate) struct GetArgs {
    pub(crate) name: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) format: ValueFormat,
    pub(crate) show_secrets: bool,
    /// `open` (providers opened) rather than `get`.
    pub(crate) open: bool,
}

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
}

/// Checks or evaluates environment `name` through the project's pipeline, with a spinner
/// while providers are opened. `Err` only when the environment itself cannot be read.
pub(crate) fn evaluate_environment(
    project: &Project,
    host: &FsHost,
    name: &str,
    mode: &Mode,
    want_typed: bool,
) -> Result<Evaluated, Failure> {
    let spinner = (*mode == Mode::Eval).then(|| Spinner::start(format!("opening {name}")));
    let checked = project
        .inner
        .run(host, name, mode)
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
    Ok(Evaluated {
        name: name.to_owned(),
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

/// `escc get` and `escc open`.
pub(crate) fn get(project: &Project, args: &GetArgs) -> Result<ExitCode, Failure> {
    let name = environment_name(project, args.name.as_deref())?;
    let path = match &args.path {
        Some(p) => Some(
            crate::ast::parse_property_path(p)
                .map_err(|e| Failure::new(format!("invalid property path {p:?}: {e}")))?,
        ),
        None => None,
    };
    if path.is_some() && matches!(args.format, ValueFormat::Dotenv | ValueFormat::Shell) {
        return Err(Failure::new(format!(
            "output format '{}' may not be used with a property path",
            args.format.name()
        )));
    }
    let host = project.inner.host();
    let mode = if args.open {
        Mode::Eval
    } else {
        Mode::Check {
            show_secrets: false,
        }
    };
    let detailed = args.format == ValueFormat::Detailed;
    let ev = evaluate_environment(project, &host, &name, &mode, detailed)?;
    if report_diagnostics(project, &host, &ev) {
        return Ok(ExitCode::from(EXIT_FAILED));
    }
    let redact = !args.show_secrets;
    let root = Value::object(ev.properties.clone());
    let value = match (&path, &args.path) {
        (Some(accessors), Some(text)) => lookup(&root, accessors)
            .map_err(|why| Failure::new(format!("{name}: {text}: {why}")))?,
        _ => root,
    };
    let mut out = String::new();
    match args.format {
        ValueFormat::Json => {
            write_json(&mut out, &value, redact, 0);
            out.push('\n');
        }
        ValueFormat::Yaml => write_yaml_document(&mut out, &value, redact),
        ValueFormat::String => {
            let text = string_form(&value, redact).ok_or_else(|| {
                Failure::new(format!(
                    "{name}: the value's string form is longer than the limit of {} MiB",
                    MAX_STRING_FORM >> 20
                ))
            })?;
            out.push_str(&text);
            out.push('\n');
        }
        ValueFormat::Detailed => {
            // The root is a value holding the properties, without a trace, as the
            // reference prints it.
            let root_typed = ev
                .typed
                .as_ref()
                .and_then(|t| t.get("properties"))
                .map(|p| serde_json::json!({ "value": p }));
            match &path {
                Some(accessors) => {
                    let typed = root_typed.as_ref().and_then(|t| typed_at(t, accessors));
                    write_detailed(&mut out, &value, typed, redact, 0);
                }
                None => write_detailed(&mut out, &value, root_typed.as_ref(), redact, 0),
            }
            out.push('\n');
        }
        ValueFormat::Dotenv | ValueFormat::Shell => {
            let files = if args.open {
                FileMode::Write
            } else {
                FileMode::Pretend
            };
            out = export_lines(&ev.properties, args.format, redact, files)?;
        }
    }
    super::print(&out)?;
    Ok(ExitCode::SUCCESS)
}
