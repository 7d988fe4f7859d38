//! `escc export NAME --target T`: opens an environment as `escc open` does (providers run,
//! age ciphertexts decrypted) and writes its `environmentVariables` (and `files`), or for
//! Terraform an object of it, in the syntax of one consumer. The encoders are in
//! `format/` (`targets`, `k8s`, `hcl`); this module picks the entries, checks what each
//! target can hold, and writes the result. docs/export.md documents every target.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;

use super::evaluate::{Evaluated, evaluate_environment, report_diagnostics, versioned_name};
use super::format::targets::{self, Entry};
use super::format::{export_text, exported_entries, hcl, k8s, warn_skipped, write_kept_file};
use super::lookup::lookup;
use super::project::Project;
use super::{EXIT_FAILED, Failure};
use crate::eval::{Mode, Value, ValueKind};
use crate::project::FsHost;

/// What `escc export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Target {
    /// `export KEY='value'` lines for a POSIX shell's `eval`.
    Shell,
    /// `KEY="value"` lines, Go-quoted (as `escc open --format dotenv`).
    Dotenv,
    /// `watch_file` lines for every file read, then the shell lines: for `.envrc`.
    Direnv,
    /// `set -gx KEY 'value'` lines for fish's `source`.
    Fish,
    /// `$env:KEY = 'value'` lines for PowerShell.
    Powershell,
    /// A systemd `EnvironmentFile=`: `KEY="value"` lines.
    Systemd,
    /// A `docker run --env-file` file: `KEY=value` lines, taken literally.
    Docker,
    /// `::add-mask::` for every secret, then `$GITHUB_ENV` lines (and `$GITHUB_OUTPUT`).
    GithubActions,
    /// A Kubernetes Secret manifest (values base64 in data).
    K8sSecret,
    /// A Kubernetes `ConfigMap` manifest of the values that are not secret.
    K8sConfigmap,
    /// Terraform/OpenTofu variables in HCL, from pulumiConfig or --path.
    Tfvars,
    /// Terraform/OpenTofu variables as JSON (*.tfvars.json).
    TfvarsJson,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Shell => "shell",
            Target::Dotenv => "dotenv",
            Target::Direnv => "direnv",
            Target::Fish => "fish",
            Target::Powershell => "powershell",
            Target::Systemd => "systemd",
            Target::Docker => "docker",
            Target::GithubActions => "github-actions",
            Target::K8sSecret => "k8s-secret",
            Target::K8sConfigmap => "k8s-configmap",
            Target::Tfvars => "tfvars",
            Target::TfvarsJson => "tfvars-json",
        }
    }

    /// Whether the target runs on this machine, so a `files` entry (a path of a
    /// temporary file here) means something to it.
    fn takes_files(self) -> bool {
        matches!(
            self,
            Target::Shell
                | Target::Dotenv
                | Target::Direnv
                | Target::Fish
                | Target::Powershell
                | Target::GithubActions
        )
    }

    fn is_k8s(self) -> bool {
        matches!(self, Target::K8sSecret | Target::K8sConfigmap)
    }
}

/// The arguments of `escc export`.
pub(crate) struct ExportArgs {
    pub(crate) name: Option<String>,
    pub(crate) targets: Vec<Target>,
    pub(crate) k8s_name: Option<String>,
    pub(crate) namespace: Option<String>,
    pub(crate) outputs: bool,
    pub(crate) path: Option<String>,
}

/// Checks the combination of flags before anything is opened.
fn check_usage(args: &ExportArgs) -> Result<Vec<Target>, Failure> {
    let targets: Vec<Target> = args
        .targets
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let usage = |m: &str| Err(Failure::new(m.to_owned()));
    if targets.is_empty() {
        return usage("no --target given");
    }
    if targets.len() > 1 && !targets.iter().all(|t| t.is_k8s()) {
        return usage(
            "only k8s-secret and k8s-configmap can be exported together; run escc export once per other target",
        );
    }
    let first = targets[0];
    if (args.k8s_name.is_some() || args.namespace.is_some()) && !first.is_k8s() {
        return usage("--name and --namespace are for the k8s-secret and k8s-configmap targets");
    }
    if args.outputs && first != Target::GithubActions {
        return usage("--outputs is for the github-actions target");
    }
    if args.path.is_some() && !matches!(first, Target::Tfvars | Target::TfvarsJson) {
        return usage("--path is for the tfvars and tfvars-json targets");
    }
    if let Some(n) = &args.k8s_name
        && !k8s::is_dns_subdomain(n)
    {
        return Err(Failure::new(format!(
            "--name {n:?} is not a Kubernetes object name (lower-case letters, digits, - and ., at most 253)"
        )));
    }
    if let Some(n) = &args.namespace
        && !k8s::is_dns_label(n)
    {
        return Err(Failure::new(format!(
            "--namespace {n:?} is not a Kubernetes namespace (lower-case letters, digits and -, at most 63)"
        )));
    }
    Ok(targets)
}

/// `escc export`.
pub(crate) fn export(project: &Project, args: &ExportArgs) -> Result<ExitCode, Failure> {
    let targets = check_usage(args)?;
    let target = targets[0];
    let (name, rev) = versioned_name(project, args.name.as_deref())?;
    let tf_path = match &args.path {
        Some(p) => Some((
            p.clone(),
            crate::ast::parse_property_path(p)
                .map_err(|e| Failure::new(format!("invalid property path {p:?}: {e}")))?,
        )),
        None => None,
    };
    let host = project.decrypting_host()?;
    let host = project.pin(host, &name, rev.as_deref())?;
    let ev = evaluate_environment(project, &host, &name, &Mode::Eval, false)?;
    let watched = if target == Target::Direnv {
        watched_files(project, &host)
    } else {
        Vec::new()
    };
    if report_diagnostics(project, &host, &ev) {
        // direnv evaluates the output even when escc fails: with the files watched, it
        // tries again once one of them is fixed.
        if target == Target::Direnv {
            super::print(&targets::direnv_watches(&watched))?;
        }
        return Ok(ExitCode::from(EXIT_FAILED));
    }
    let fail = |m: String| Failure::new(format!("{name}: {m} (--target {})", target.name()));
    if matches!(target, Target::Tfvars | Target::TfvarsJson) {
        let (origin, vars) = terraform_vars(&ev, tf_path.as_ref())?;
        let out = if target == Target::Tfvars {
            hcl::tfvars(&vars, &origin)
        } else {
            hcl::tfvars_json(&vars, &origin)
        }
        .map_err(fail)?;
        super::print(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (mut entries, files) = collect(&ev, target).map_err(fail)?;
    // Texts to mask in a job's log: the exported secrets and the secret contents of files.
    let mut masked: Vec<String> = entries
        .iter()
        .filter(|e| e.secret)
        .map(|e| e.text.clone())
        .collect();
    masked.extend(files.iter().filter(|e| e.secret).map(|e| e.text.clone()));
    let mut seen = BTreeSet::new();
    masked.retain(|m| seen.insert(m.clone()));
    // Every entry is checked before a file is written, so a failure leaves none behind:
    // the files' entries with a stand-in path first.
    if !files.is_empty() {
        let probe: Vec<Entry> = entries
            .iter()
            .cloned()
            .chain(files.iter().map(|e| {
                Entry {
                    text: std::env::temp_dir()
                        .join("escc-probe")
                        .display()
                        .to_string(),
                    ..e.clone()
                }
            }))
            .collect();
        encode(target, &targets, &probe, &name, args, &watched).map_err(fail)?;
    }
    let mut written = Vec::new();
    for f in files {
        let path = write_kept_file(f.text.as_bytes())?;
        written.push(path.clone());
        entries.push(Entry {
            text: path,
            secret: false,
            ..f
        });
    }
    let result = encode(target, &targets, &entries, &name, args, &watched).map_err(fail);
    let out = match result {
        Ok(out) => out,
        Err(f) => {
            for w in &written {
                let _ = std::fs::remove_file(w);
            }
            return Err(f);
        }
    };
    if !written.is_empty() {
        super::note(&format!(
            "wrote {} temporary file(s) for `files` (mode 0600); they are not removed: delete them when done, or use `escc run`",
            written.len()
        ));
    }
    if target == Target::GithubActions {
        return github_actions(&masked, &out, args.outputs);
    }
    super::print(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The entries of `environmentVariables`, and of `files` (their contents) for a target
/// that takes them; for the others `files` is skipped with a warning.
fn collect(ev: &Evaluated, target: Target) -> Result<(Vec<Entry>, Vec<Entry>), String> {
    let mut entries = Vec::new();
    let mut files = Vec::new();
    for section in ["environmentVariables", "files"] {
        for (k, v) in exported_entries(&ev.properties, section) {
            let origin = format!("{section}.{k}");
            if section == "files" && !target.takes_files() {
                warn_skipped(
                    section,
                    k,
                    &format!(
                        "not exported to {}, which does not run on this machine (a file's path would mean nothing there)",
                        target.name()
                    ),
                );
                continue;
            }
            if v.unknown {
                return Err(format!("{origin}: the value is unknown"));
            }
            let text = export_text(v, false).map_err(|why| format!("{origin} is {why}"))?;
            let e = Entry {
                origin,
                key: k.clone(),
                text,
                secret: v.secret,
            };
            if section == "files" {
                files.push(e);
            } else {
                entries.push(e);
            }
        }
    }
    Ok((entries, files))
}

/// The target's text for `entries`.
fn encode(
    target: Target,
    all: &[Target],
    entries: &[Entry],
    name: &str,
    args: &ExportArgs,
    watched: &[String],
) -> Result<String, String> {
    match target {
        Target::Shell => targets::shell(entries),
        Target::Dotenv => targets::dotenv(entries),
        Target::Direnv => targets::direnv(watched, entries),
        Target::Fish => targets::fish(entries),
        Target::Powershell => targets::powershell(entries),
        Target::Systemd => targets::systemd(entries),
        Target::Docker => targets::docker(entries),
        Target::GithubActions => targets::github_file(entries),
        Target::K8sSecret | Target::K8sConfigmap => kubernetes(all, entries, name, args),
        Target::Tfvars | Target::TfvarsJson => Ok(String::new()),
    }
}

/// The k8s manifests: with both targets, secrets go to the Secret and the rest to the
/// `ConfigMap`; a `ConfigMap` alone leaves the secrets out (with a warning naming them).
fn kubernetes(
    all: &[Target],
    entries: &[Entry],
    name: &str,
    args: &ExportArgs,
) -> Result<String, String> {
    let object_name = match &args.k8s_name {
        Some(n) => n.clone(),
        None => k8s::default_name(name).ok_or_else(|| {
            format!("{name:?} does not make a Kubernetes object name; give one with --name")
        })?,
    };
    let meta = k8s::Meta {
        name: &object_name,
        namespace: args.namespace.as_deref(),
    };
    let want_secret = all.contains(&Target::K8sSecret);
    let want_configmap = all.contains(&Target::K8sConfigmap);
    let mut out = String::new();
    if want_secret {
        let chosen: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.secret || !want_configmap)
            .collect();
        out.push_str(&k8s::secret(&meta, &chosen)?);
    }
    if want_configmap {
        let (secret, plain): (Vec<&Entry>, Vec<&Entry>) = entries.iter().partition(|e| e.secret);
        if !want_secret && !secret.is_empty() {
            let keys: Vec<&str> = secret.iter().map(|e| e.origin.as_str()).collect();
            super::warn(&format!(
                "{} secret; a ConfigMap never holds secrets, so they are left out (add --target k8s-secret for them)",
                keys.join(", ")
            ));
        }
        if want_secret {
            out.push_str("---\n");
        }
        out.push_str(&k8s::configmap(&meta, &plain)?);
    }
    Ok(out)
}

/// The object of Terraform variables: `pulumiConfig`, or the value at `--path`.
fn terraform_vars(
    ev: &Evaluated,
    path: Option<&(String, Vec<crate::ast::AccessorKind>)>,
) -> Result<(String, BTreeMap<String, Value>), Failure> {
    let (origin, value) = match path {
        Some((text, accessors)) => {
            let root = Value::object(ev.properties.clone());
            let v = lookup(&root, accessors)
                .map_err(|why| Failure::new(format!("{}: {text}: {why}", ev.name)))?;
            (text.clone(), v)
        }
        None => match ev.properties.get("pulumiConfig") {
            Some(v) => ("pulumiConfig".to_owned(), v.clone()),
            None => {
                return Err(Failure::new(format!(
                    "{}: no pulumiConfig to export (name an object with --path)",
                    ev.name
                )));
            }
        },
    };
    match value.kind {
        ValueKind::Object(m) if !value.unknown => Ok((origin, m)),
        _ => Err(Failure::new(format!(
            "{}: {origin} is {}, not an object of variables",
            ev.name,
            if value.unknown {
                "unknown"
            } else {
                super::lookup::kind_name(&value)
            }
        ))),
    }
}

/// `github-actions`: the masks on stdout (where the runner reads workflow commands),
/// then the variables appended to `$GITHUB_ENV` (and with `--outputs` to `$GITHUB_OUTPUT`),
/// or printed after the masks when the variable is not set (outside a runner).
fn github_actions(masked: &[String], lines: &str, outputs: bool) -> Result<ExitCode, Failure> {
    let mut out = String::new();
    for m in masked {
        out.push_str(&targets::github_masks(m));
    }
    super::print(&out)?;
    let mut rest = String::new();
    for (var, wanted) in [("GITHUB_ENV", true), ("GITHUB_OUTPUT", outputs)] {
        if !wanted {
            continue;
        }
        match std::env::var_os(var).filter(|v| !v.is_empty()) {
            Some(file) => append(var, &PathBuf::from(file), lines)?,
            None => rest.push_str(lines),
        }
    }
    super::print(&rest)?;
    Ok(ExitCode::SUCCESS)
}

/// Appends `text` to the file the runner named in `var` (creating it private if missing).
fn append(var: &str, file: &Path, text: &str) -> Result<(), Failure> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(file)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            Failure::new(format!(
                "writing ${var} ({}): {}",
                file.display(),
                super::project::io_text(&e)
            ))
        })
}

/// Every file the evaluation read or looked for, for direnv's `watch_file`: the
/// environments (at no revision), the would-be files of those not found, `escc.toml`
/// and the age identity file. Sorted, absolute.
fn watched_files(project: &Project, host: &FsHost) -> Vec<String> {
    let mut files: BTreeSet<PathBuf> = BTreeSet::new();
    let documents = host.documents();
    for doc in documents.values() {
        if doc.revision.is_none()
            && let Some(f) = &doc.file
        {
            files.insert(f.clone());
        }
    }
    for name in host.requested() {
        if !documents.contains_key(&name) && !name.contains('@') {
            files.insert(project.root.join(format!("{name}.yaml")));
        }
    }
    files.insert(project.root.join("escc.toml"));
    let identity = std::env::var_os(crate::project::keys::IDENTITY_FILE_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(crate::project::keys::default_identity_file);
    if std::env::var_os(crate::project::keys::IDENTITY_VAR).is_none_or(|v| v.is_empty())
        && let Some(f) = identity
    {
        files.insert(f);
    }
    files.iter().map(|f| f.display().to_string()).collect()
}
