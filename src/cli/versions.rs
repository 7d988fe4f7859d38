//! `escc history` and `escc diff`: an environment's revisions in git, and what changed in
//! its evaluated values between two of them (docs/versions.md).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use clap::ValueEnum;

use super::evaluate::{evaluate_environment, report_diagnostics};
use super::project::Project;
use super::{EXIT_FAILED, Failure};
use crate::eval::{Mode, Value, ValueKind};

/// How `history` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum HistoryFormat {
    /// One revision a line: number, commit, date, author, subject.
    Human,
    /// A JSON array of {number, commit, date, author, subject}, newest first.
    Json,
}

/// `escc history NAME`.
pub(crate) fn history(
    project: &Project,
    name: &str,
    format: HistoryFormat,
) -> Result<ExitCode, Failure> {
    let (name, rev) = project.resolve_versioned(name)?;
    if rev.is_some() {
        return Err(Failure::new(format!(
            "history lists every revision: name the environment without @ (escc history {name})"
        )));
    }
    let repo = project.inner.repo().map_err(Failure::new)?;
    let revisions = repo.history(&name).map_err(Failure::new)?;
    let mut out = String::new();
    match format {
        HistoryFormat::Json => {
            out = serde_json::to_string_pretty(&revisions)
                .map_err(|e| Failure::new(e.to_string()))?;
            out.push('\n');
        }
        HistoryFormat::Human => {
            if revisions.is_empty() {
                super::note(&format!(
                    "{name} has no revisions in git (is it committed?)"
                ));
            }
            for r in &revisions {
                let short = r.commit.get(..12).unwrap_or(&r.commit);
                let _ = writeln!(
                    out,
                    "{}\t{short}\t{}\t{}\t{}",
                    r.number, r.date, r.author, r.subject
                );
            }
        }
    }
    super::print(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// One leaf of an evaluated environment: its JSON text (redacted), and, for a secret, the
/// value to compare (never shown).
#[derive(PartialEq)]
struct Leaf {
    shown: String,
    secret: Option<Value>,
}

/// `escc diff NAME@A [NAME@B]`.
pub(crate) fn diff(project: &Project, a: &str, b: Option<&str>) -> Result<ExitCode, Failure> {
    let (name_a, rev_a) = project.resolve_versioned(a)?;
    let (name_b, rev_b) = match b {
        Some(b) => project.resolve_versioned(b)?,
        None => (name_a.clone(), None),
    };
    let show = |n: &str, r: &Option<String>| format!("{n}@{}", r.as_deref().unwrap_or("latest"));
    let (label_a, label_b) = (show(&name_a, &rev_a), show(&name_b, &rev_b));
    let mut sides = Vec::new();
    for (name, rev) in [(&name_a, &rev_a), (&name_b, &rev_b)] {
        let host = project.pin(project.inner.host(), name, rev.as_deref())?;
        let mode = Mode::Check {
            show_secrets: false,
        };
        let ev = evaluate_environment(project, &host, name, &mode, false)?;
        if report_diagnostics(project, &host, &ev) {
            return Ok(ExitCode::from(EXIT_FAILED));
        }
        let mut leaves = BTreeMap::new();
        for (k, v) in &ev.properties {
            flatten(&crate::path::join_key("", k), v, &mut leaves);
        }
        sides.push(leaves);
    }
    let (before, after) = (&sides[0], &sides[1]);
    let mut out = format!("--- {label_a}\n+++ {label_b}\n");
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut changes = 0;
    for k in keys {
        match (before.get(k), after.get(k)) {
            (Some(x), None) => {
                let _ = writeln!(out, "- {k}: {}", x.shown);
            }
            (None, Some(y)) => {
                let _ = writeln!(out, "+ {k}: {}", y.shown);
            }
            (Some(x), Some(y)) if x == y => continue,
            (Some(x), Some(y)) if x.secret.is_some() || y.secret.is_some() => {
                let _ = writeln!(out, "~ {k}: [secret] changed");
            }
            (Some(x), Some(y)) => {
                let _ = writeln!(out, "~ {k}: {} -> {}", x.shown, y.shown);
            }
            (None, None) => continue,
        }
        changes += 1;
    }
    if changes == 0 {
        out.push_str("no changes\n");
    }
    super::print(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The leaves of `v` by document path: scalars, empty containers, and whole secrets (a
/// secret container is one leaf: its parts are not shown).
fn flatten(path: &str, v: &Value, out: &mut BTreeMap<String, Leaf>) {
    if v.secret {
        out.insert(
            path.to_owned(),
            Leaf {
                shown: "[secret]".to_owned(),
                secret: Some(v.clone()),
            },
        );
        return;
    }
    match &v.kind {
        ValueKind::Object(m) if !m.is_empty() && !v.unknown => {
            for (k, item) in m {
                flatten(&crate::path::join_key(path, k), item, out);
            }
        }
        ValueKind::Array(items) if !items.is_empty() && !v.unknown => {
            for (i, item) in items.iter().enumerate() {
                let mut p = path.to_owned();
                crate::path::push_index(&mut p, i);
                flatten(&p, item, out);
            }
        }
        _ => {
            let mut shown = String::new();
            super::format::write_json(&mut shown, v, true, 0);
            out.insert(
                path.to_owned(),
                Leaf {
                    shown,
                    secret: None,
                },
            );
        }
    }
}
