//! `escc check`: load, resolve imports and check statically (providers are not opened),
//! over named environments, files, directories or the whole project.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::ValueEnum;

use super::evaluate::evaluate_environment;
use super::project::Project;
use super::render;
use super::{EXIT_FAILED, EXIT_USAGE, Failure};
use crate::diag::render::Sources;
use crate::eval::Mode;
use crate::project::FsHost;
use crate::secrets::Masker;
use crate::{Diagnostic, diag};

/// How `check` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormat {
    /// Rendered for a person, with source excerpts (colour only on a terminal).
    Human,
    /// One JSON array of diagnostics.
    Json,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// SARIF 2.1.0 (GitHub code scanning and other tools).
    Sarif,
}

type Outcome = Result<(Vec<Diagnostic>, Vec<String>), String>;

/// `escc check`.
pub(crate) fn check(
    project: &Project,
    targets: &[String],
    format: CheckFormat,
    deny_warnings: bool,
) -> Result<ExitCode, Failure> {
    let mut names = Vec::new();
    // NAME@REV targets: all at one revision, read from git.
    let mut revision: Option<String> = None;
    let versioned = targets
        .iter()
        .any(|t| t.contains('@') && std::fs::symlink_metadata(t).is_err());
    if targets.is_empty() {
        names = project.all_environments()?;
    } else if versioned {
        for t in targets {
            let (name, rev) = project.resolve_versioned(t)?;
            let rev = rev.unwrap_or_else(|| "latest".to_owned());
            if revision.as_ref().is_some_and(|r| *r != rev) {
                return Err(Failure::new(format!(
                    "{t}: check environments at one revision at a time (NAME@REV ... with the same REV)"
                )));
            }
            revision = Some(rev);
            names.push(name);
        }
    } else {
        for t in targets {
            names.extend(project.resolve_targets(t)?);
        }
    }
    names.sort();
    names.dedup();

    let host = match revision.as_deref() {
        Some(rev) if rev != "latest" => project.pin(project.inner.host(), &names[0], Some(rev))?,
        _ => project.inner.host(),
    };
    // Many environments import the same ones: their evaluations are shared.
    let host = if names.len() > 1 {
        host.with_shared_imports()
    } else {
        host
    };
    let outcomes = check_all(project, &host, &names);

    let mut diags = Vec::new();
    let mut secrets = Vec::new();
    let mut failures = 0;
    for outcome in outcomes {
        match outcome {
            Ok((d, s)) => {
                diags.extend(d);
                secrets.extend(s);
            }
            Err(message) => {
                failures += 1;
                super::error(&message);
            }
        }
    }
    diag::sort_dedup(&mut diags);
    let (errors, warnings) = diag::counts(&diags);

    // Without diagnostics nothing is shown from the documents: none is read again.
    let (sources, masker) = if diags.is_empty() {
        (Sources::new(), Masker::new(Vec::new()))
    } else {
        let (sources, literals) = render::sources(project, &host);
        secrets.extend(literals);
        (sources, Masker::new(secrets))
    };
    let mut text = match format {
        CheckFormat::Human => diag::render::human(
            &diags,
            &sources,
            render::use_color(std::io::stdout().is_terminal()),
        ),
        CheckFormat::Json => diag::render::json(&diags, &sources),
        CheckFormat::Github => diag::render::github(&diags, &sources),
        CheckFormat::Sarif => diag::render::sarif(&diags, &sources),
    };
    if matches!(format, CheckFormat::Human | CheckFormat::Github) {
        let _ = writeln!(
            text,
            "{} environment(s) checked: {errors} error(s), {warnings} warning(s)",
            names.len() - failures
        );
    }
    let text = masker.mask_str(&text);
    super::print(&text)?;
    Ok(if failures > 0 {
        ExitCode::from(EXIT_USAGE)
    } else if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Checks every environment, on as many threads as there are cores; results in the
/// order of `names`.
fn check_all(project: &Project, host: &FsHost, names: &[String]) -> Vec<Outcome> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(names.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::with_capacity(names.len()));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(name) = names.get(i) else { break };
                    let outcome = evaluate_environment(
                        project,
                        host,
                        name,
                        &Mode::Check {
                            show_secrets: false,
                        },
                        false,
                    )
                    .map(|ev| (ev.diags, ev.secrets))
                    .map_err(|f| f.message);
                    results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((i, outcome));
                }
            });
        }
    });
    let mut results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, o)| o).collect()
}
