//! The `escc` command line. All file-system access of the command line lives here.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::{Diagnostic, Severity, Source, load};

/// escc: check and evaluate Pulumi ESC environments kept as files, offline.
#[derive(Debug, Parser)]
#[command(name = "escc", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check environment files for errors without opening any provider.
    ///
    /// Each PATH is an environment file or a directory, searched for `.yaml` and `.yml`
    /// files. With no PATH, the current directory is checked. Exit status: 0 when there
    /// are no errors, 1 when there are errors (or warnings with --deny-warnings), 2 when a
    /// file cannot be read or the arguments are wrong.
    Check {
        /// Files or directories to check.
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Treat warnings as errors for the exit status.
        #[arg(long)]
        deny_warnings: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Rendered for a person, with source excerpts.
    Human,
    /// One JSON array of diagnostics.
    Json,
}

/// Runs the command line.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
        } => check(&paths, format, deny_warnings),
    }
}

fn check(paths: &[PathBuf], format: Format, deny_warnings: bool) -> ExitCode {
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for p in &paths {
        if let Err(e) = collect(p, &mut files) {
            eprintln!("error: {}: {e}", p.display());
            return ExitCode::from(2);
        }
    }
    files.sort();
    files.dedup();
    let mut results = Vec::new();
    for file in &files {
        #[allow(clippy::disallowed_methods)]
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {}: {e}", file.display());
                return ExitCode::from(2);
            }
        };
        let name = environment_name(file);
        let source = Source::new(name, text);
        let loaded = load(&source);
        results.push((file.clone(), source, loaded.diags));
    }
    let errors = results
        .iter()
        .flat_map(|r| &r.2)
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = results.iter().map(|r| r.2.len()).sum::<usize>() - errors;
    let mut out = std::io::stdout().lock();
    let written = match format {
        Format::Human => write_human(&mut out, &results, errors, warnings),
        Format::Json => write_json(&mut out, &results),
    };
    if written.is_err() {
        return ExitCode::from(2);
    }
    if errors > 0 || (deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The environment name of a file: its path without the `.yaml`/`.yml` extension.
fn environment_name(file: &Path) -> String {
    let s = file.with_extension("").to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_owned()
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        #[allow(clippy::disallowed_methods)]
        let mut entries: Vec<_> = std::fs::read_dir(path)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let p = e.path();
            let hidden = e.file_name().to_string_lossy().starts_with('.');
            if hidden {
                continue;
            }
            if p.is_dir() {
                collect(&p, out)?;
            } else if matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
                out.push(p);
            }
        }
        Ok(())
    } else if path.exists() {
        out.push(path.to_path_buf());
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file or directory",
        ))
    }
}

type Results = [(PathBuf, Source, Vec<Diagnostic>)];

fn write_human(
    out: &mut impl Write,
    results: &Results,
    errors: usize,
    warnings: usize,
) -> std::io::Result<()> {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme);
    for (file, source, diags) in results {
        for d in diags {
            let named =
                miette::NamedSource::new(file.display().to_string(), source.text().to_owned());
            let report = miette::Report::new(d.clone()).with_source_code(named);
            let mut s = String::new();
            if handler.render_report(&mut s, report.as_ref()).is_ok() {
                writeln!(out, "{s}")?;
            }
        }
    }
    writeln!(
        out,
        "{} file(s) checked: {errors} error(s), {warnings} warning(s)",
        results.len()
    )
}

fn write_json(out: &mut impl Write, results: &Results) -> std::io::Result<()> {
    let all: Vec<serde_json::Value> = results
        .iter()
        .flat_map(|(file, source, diags)| {
            diags.iter().map(move |d| {
                let pos = d.positions(source);
                serde_json::json!({
                    "file": file.display().to_string(),
                    "environment": d.environment,
                    "severity": d.severity,
                    "code": d.code,
                    "summary": d.summary,
                    "path": d.path,
                    "span": d.span,
                    "start": pos.map(|p| p.0),
                    "end": pos.map(|p| p.1),
                })
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &all)?;
    writeln!(out)
}
