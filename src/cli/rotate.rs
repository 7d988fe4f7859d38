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
use crate::eval::{Mode, Rotation, RotationStatus, Value, ValueKind, canonical_rotate_path};
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
        .and_then(|now| with_states(&name, &now, &succeeded, &seal, &|w| say(w)))
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

/// `text` with each rotation's new state written at its site, secrets sealed.
fn with_states(
    name: &str,
    text: &str,
    states: &[(&RotateSite, &Value)],
    seal: &dyn Fn(&str) -> Result<String, String>,
    warn: &dyn Fn(&str),
) -> Result<String, String> {
    let mut new_text = text.to_owned();
    for (site, state) in states {
        let json = sealed(state, seal, &site.path, warn)?;
        let path = state_accessors(site).map_err(|f| f.message)?;
        new_text = edit::set_value(&Source::new(name, new_text.as_str()), &path, &json)
            .map_err(|e| e.message)?;
    }
    Ok(new_text)
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
    if paths.is_empty() {
        return Ok(sites.iter().collect());
    }
    let mut wanted = Vec::new();
    for p in paths {
        let canonical = canonical_rotate_path(p).ok_or_else(|| {
            Failure::new(format!(
                "invalid property path {p:?} (paths are below `values`, e.g. db or \
                 creds[\"fn::toJSON\"][0])"
            ))
        })?;
        if !sites.iter().any(|s| s.path == canonical) {
            let known: Vec<String> = sites
                .iter()
                .map(|s| s.path.strip_prefix("values.").unwrap_or(&s.path).to_owned())
                .collect();
            return Err(Failure::new(format!(
                "{shown}: there is no fn::rotate at {p}; its rotations are at: {}",
                known.join(", ")
            )));
        }
        wanted.push(canonical);
    }
    Ok(sites.iter().filter(|s| wanted.contains(&s.path)).collect())
}

/// The accessors of a site's state path.
fn state_accessors(site: &RotateSite) -> Result<Vec<crate::ast::AccessorKind>, Failure> {
    crate::ast::parse_property_path(&site.state_path())
        .map_err(|e| Failure::new(format!("{}: {e}", site.state_path())))
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

/// A rotated state as the writer takes it: secret strings become
/// `{"fn::secret": {"ciphertext": ...}}`, sealed with `seal`. A secret that is not a string
/// (a number, a boolean) is sealed as its text, with a warning: `fn::secret` holds strings.
fn sealed(
    v: &Value,
    seal: &dyn Fn(&str) -> Result<String, String>,
    at: &str,
    warn: &dyn Fn(&str),
) -> Result<Json, String> {
    fn walk(
        v: &Value,
        inherited: bool,
        seal: &dyn Fn(&str) -> Result<String, String>,
        at: &str,
        warn: &dyn Fn(&str),
    ) -> Result<Json, String> {
        let secret = inherited || v.secret;
        if v.unknown {
            return Err(format!("{at}: the new state holds an unknown value"));
        }
        let sealed_text = |t: &str| -> Result<Json, String> {
            let ciphertext = seal(t).map_err(|e| format!("{at}: encrypting: {e}"))?;
            Ok(serde_json::json!({"fn::secret": {"ciphertext": ciphertext}}))
        };
        Ok(match &v.kind {
            ValueKind::String(s) if secret => sealed_text(s)?,
            ValueKind::Number(n) if secret => {
                warn(&format!(
                    "warning: {at}: a secret number is written as an encrypted string"
                ));
                sealed_text(n)?
            }
            ValueKind::Bool(b) if secret => {
                warn(&format!(
                    "warning: {at}: a secret boolean is written as an encrypted string"
                ));
                sealed_text(&b.to_string())?
            }
            ValueKind::Null => Json::Null,
            ValueKind::Bool(b) => Json::Bool(*b),
            ValueKind::Number(n) => {
                crate::eval::Value::new(ValueKind::Number(n.clone())).to_json(false)
            }
            ValueKind::String(s) => Json::String(s.clone()),
            ValueKind::Array(items) => Json::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| walk(x, secret, seal, &format!("{at}[{i}]"), warn))
                    .collect::<Result<_, _>>()?,
            ),
            ValueKind::Object(m) => Json::Object(
                m.iter()
                    .map(|(k, x)| {
                        walk(x, secret, seal, &crate::path::join_key(at, k), warn)
                            .map(|j| (k.clone(), j))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
    walk(v, false, seal, at, warn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_sealed_and_the_rest_kept() {
        let state = Value::object([(
            "current".to_owned(),
            Value::object([
                ("username".to_owned(), Value::string("u1")),
                (
                    "password".to_owned(),
                    Value {
                        secret: true,
                        ..Value::string("pw")
                    },
                ),
                (
                    "port".to_owned(),
                    Value::new(ValueKind::Number("5432".to_owned())),
                ),
            ]),
        )]);
        let seal = |p: &str| Ok::<_, String>(format!("C({})", p.len()));
        let json = sealed(&state, &seal, "values.x", &|_| {}).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"current": {
                "password": {"fn::secret": {"ciphertext": "C(2)"}},
                "port": 5432,
                "username": "u1",
            }})
        );
    }
}
