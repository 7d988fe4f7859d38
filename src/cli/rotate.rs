//! `escc rotate NAME [PATH...]`: runs the `fn::rotate` calls of an environment (all, or
//! those at the given paths) and writes each new state back into the file, its secrets
//! encrypted with age to the environment's recipients, everything else as written
//! (`crate::edit::set_value`).
//!
//! All or nothing: the file is written once, atomically, and only when every selected
//! rotation succeeded. When one fails, nothing is written, and escc says which rotations
//! did change credentials on their servers and what that leaves behind there
//! (`crate::providers::unwritten_rotation`). Everything that can be checked before a
//! credential changes is checked first: the recipients, the user's identity, and that the
//! writer can put a state at each path.
//!
//! Scheduling is the user's (cron, a systemd timer, a CI schedule): see docs/rotation.md.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde_json::Value as Json;

use super::evaluate::{evaluate_environment, report_diagnostics};
use super::project::Project;
use super::secrets;
use super::{EXIT_FAILED, Failure};
use crate::Source;
use crate::edit::{self, RotateSite};
use crate::eval::{Mode, Rotation, RotationStatus, Value};
use crate::secrets::Masker;

/// The arguments of `escc rotate`.
pub(crate) struct RotateArgs {
    pub(crate) name: String,
    pub(crate) paths: Vec<String>,
    pub(crate) dry_run: bool,
    pub(crate) force: bool,
}

/// `escc rotate`.
pub(crate) fn rotate(project: &Project, args: &RotateArgs) -> Result<ExitCode, Failure> {
    let name = project.resolve_name(&args.name)?;
    let host = project.inner.host();
    let file = secrets::existing_file(project, &host, &name)?;
    let text = secrets::read(project, &file)?;
    let source = Source::new(name.as_str(), text.as_str());
    let sites =
        edit::rotate_sites(&source).map_err(|e| secrets::edit_failure(project, &file, &e))?;
    if sites.is_empty() {
        super::note(&format!(
            "nothing to rotate: {} has no fn::rotate",
            project.show(&file)
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let selected = select(&sites, &args.paths, &project.show(&file))?;
    if args.dry_run {
        return dry_run(project, &name, &selected);
    }

    // Before any credential changes: who to encrypt to, and that the states can be put
    // where they go.
    let (recipients, at) = secrets::recipients(project, &name)?;
    let ids = secrets::identities(project, args.force)?;
    secrets::check_can_decrypt(&name, &recipients, &at, ids.as_ref(), args.force)?;
    for site in &selected {
        let path = state_accessors(site)?;
        edit::set_value(&source, &path, &Json::Object(serde_json::Map::new()))
            .map_err(|e| secrets::edit_failure(project, &file, &e))?;
    }

    let host = project.decrypting_host()?;
    let mode = Mode::Rotate {
        paths: args.paths.clone(),
    };
    let ev = evaluate_environment(project, &host, &name, &mode, false)?;
    let has_errors = report_diagnostics(project, &host, &ev);
    let mut secret_texts = ev.secrets.clone();
    for read in host.documents().keys() {
        secret_texts.extend(host.literal_texts(read).iter().cloned());
    }
    let masker = Masker::new(secret_texts);
    let say = |text: &str| super::note(&masker.mask_str(text));

    let outcomes: Vec<(&RotateSite, Option<&Rotation>)> = selected
        .iter()
        .map(|site| {
            let rotation = ev.rotations.iter().find(|r| r.path == site.path);
            (*site, rotation)
        })
        .collect();
    let succeeded: Vec<(&RotateSite, &Value)> = outcomes
        .iter()
        .filter_map(|(site, r)| match r.map(|r| &r.status) {
            Some(RotationStatus::Succeeded { state, .. }) => Some((*site, state)),
            _ => None,
        })
        .collect();
    let shown = project.show(&file);
    if succeeded.len() < outcomes.len() {
        say(&format!(
            "{shown}: {} of {} rotations did not succeed; nothing was written ({shown} is unchanged)",
            outcomes.len() - succeeded.len(),
            outcomes.len()
        ));
        for (site, r) in &outcomes {
            let what = match r.map(|r| &r.status) {
                Some(RotationStatus::Succeeded { state, .. }) => format!(
                    "rotated on the server, NOT written: {}",
                    crate::providers::unwritten_rotation(rotator(site), state)
                ),
                Some(RotationStatus::Failed(_)) => "failed (see above)".to_owned(),
                _ => {
                    "not rotated: its inputs or state could not be evaluated (see above)".to_owned()
                }
            };
            say(&format!("  {} ({}): {what}", site.path, rotator(site)));
        }
        return Ok(ExitCode::from(EXIT_FAILED));
    }

    // Every rotation succeeded: the new states, their secrets encrypted, into the file.
    let seal = |plain: &str| secrets::seal(&recipients, plain.as_bytes());
    // Rotating takes a while: the states go into the file as it is now, so that an edit
    // saved meanwhile is kept (the writer changes only the states' bytes).
    let written = secrets::read(project, &file)
        .map_err(|f| f.message)
        .and_then(|now| edit::with_states(&name, &now, &succeeded, &seal, &|w| say(w)))
        .and_then(|new| secrets::write_atomically(project, &file, &new).map_err(|f| f.message));
    if let Err(why) = written {
        say(&format!(
            "{shown}: every rotation succeeded, but the file could not be written: {why}; it \
             is unchanged"
        ));
        for (site, state) in &succeeded {
            say(&format!(
                "  {} ({}): rotated on the server, NOT written: {}",
                site.path,
                rotator(site),
                crate::providers::unwritten_rotation(rotator(site), state)
            ));
        }
        return Ok(ExitCode::from(EXIT_FAILED));
    }
    let list: Vec<String> = succeeded
        .iter()
        .map(|(site, _)| format!("{} ({})", site.path, rotator(site)))
        .collect();
    say(&format!(
        "{shown}: rotated {}; new states written, secrets encrypted",
        list.join(", ")
    ));
    Ok(if has_errors {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The rotator a site names, as shown.
fn rotator(site: &RotateSite) -> &str {
    site.rotator.as_deref().unwrap_or("?")
}

/// The sites `paths` name (all when there are none), in document order.
fn select<'s>(
    sites: &'s [RotateSite],
    paths: &[String],
    shown: &str,
) -> Result<Vec<&'s RotateSite>, Failure> {
    edit::select_sites(sites, paths, shown).map_err(Failure::new)
}

/// The accessors of a site's state path.
fn state_accessors(site: &RotateSite) -> Result<Vec<crate::ast::AccessorKind>, Failure> {
    edit::state_accessors(site).map_err(Failure::new)
}

/// `escc rotate --dry-run`: what would rotate, after a static check of the environment
/// and of what rotating needs (recipients to encrypt to). Nothing is opened or changed.
fn dry_run(project: &Project, name: &str, selected: &[&RotateSite]) -> Result<ExitCode, Failure> {
    let host = project.inner.host();
    let mode = Mode::Check {
        show_secrets: false,
    };
    let ev = evaluate_environment(project, &host, name, &mode, false)?;
    let mut failed = report_diagnostics(project, &host, &ev);
    if let Err(f) = secrets::recipients(project, name) {
        super::error(&f.message);
        failed = true;
    }
    let mut out = String::new();
    for site in selected {
        let _ = writeln!(
            out,
            "would rotate {} ({}), writing {}",
            site.path,
            rotator(site),
            site.state_path()
        );
    }
    super::print(&out)?;
    Ok(if failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}
