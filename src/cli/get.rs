//! `escc get` (static: providers are not opened, their results are `[unknown]`) and
//! `escc open` (providers opened), printed in one of the value formats of `format/`.

use std::process::ExitCode;

use super::evaluate::{evaluate_environment, report_diagnostics, versioned_name};
use super::format::{
    FileMode, MAX_STRING_FORM, ValueFormat, export_lines, string_form, typed_at, write_detailed,
    write_json, write_yaml_document,
};
use super::lookup::lookup;
use super::project::Project;
use super::{EXIT_FAILED, Failure};
use crate::eval::{Mode, Value};

/// The arguments of `get` and `open`.
pub(crate) struct GetArgs {
    pub(crate) name: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) format: ValueFormat,
    pub(crate) show_secrets: bool,
    /// `open` (providers opened) rather than `get`.
    pub(crate) open: bool,
}

/// `escc get` and `escc open`.
pub(crate) fn get(project: &Project, args: &GetArgs) -> Result<ExitCode, Failure> {
    let (name, rev) = versioned_name(project, args.name.as_deref())?;
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
    let host = if args.open {
        project.decrypting_host()?
    } else {
        project.inner.host()
    };
    let host = project.pin(host, &name, rev.as_deref())?;
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
