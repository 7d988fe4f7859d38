//! `escc history`, `diff`, `tag`, `tags` and `rollback`: an environment's revisions in git,
//! what changed between two of them (evaluated values, or the definition), its tags, and
//! putting an old definition back (docs/versions.md).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;

use super::evaluate::{evaluate_environment, report_diagnostics};
use super::project::Project;
use super::{EXIT_FAILED, Failure};
use crate::ast::{Call, ExprKind, SecretArg};
use crate::eval::{Mode, Value, ValueKind};
use crate::project::git::{self, Pinned, Repo, TagChange, short_hash};
use crate::secrets::Masker;
use crate::{Source, Span};

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
    let (name, repo) = unversioned(project, name, "history lists every revision", "history")?;
    let revisions = repo.history(&name).map_err(Failure::new)?;
    let mut out = String::new();
    match format {
        HistoryFormat::Json => out = json_lines(&revisions)?,
        HistoryFormat::Human => {
            if revisions.is_empty() {
                super::note(&format!(
                    "{name} has no revisions in git (is it committed?)"
                ));
            }
            for r in &revisions {
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    r.number,
                    short_hash(&r.commit),
                    r.date,
                    r.author,
                    r.subject
                );
            }
            if let Some(old) = revisions.last().and_then(|r| r.renamed_from.as_deref()) {
                let before = Path::new(old).with_extension("");
                super::note(&format!(
                    "{name}'s revisions begin where {old} was renamed to it; the earlier ones are \
                     {}'s (escc history {})",
                    before.display(),
                    before.display()
                ));
            }
        }
    }
    super::print(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The environment `arg` names, which must have no `@REV` (`what` says why, for `escc
/// COMMAND NAME`), and its repository.
fn unversioned(
    project: &Project,
    arg: &str,
    what: &str,
    command: &str,
) -> Result<(String, Repo), Failure> {
    let (name, rev) = project.resolve_versioned(arg)?;
    if rev.is_some() {
        return Err(Failure::new(format!(
            "{what}: name the environment without @ (escc {command} {name})"
        )));
    }
    let repo = project.inner.repo().map_err(Failure::new)?;
    Ok((name, repo))
}

/// `items` as a pretty JSON array and a line break.
fn json_lines<T: serde::Serialize>(items: &[T]) -> Result<String, Failure> {
    let mut out = serde_json::to_string_pretty(items).map_err(|e| Failure::new(e.to_string()))?;
    out.push('\n');
    Ok(out)
}

/// One leaf of an evaluated environment: its JSON text (redacted), and, for a secret, the
/// value to compare (never shown).
#[derive(PartialEq)]
struct Leaf {
    shown: String,
    secret: Option<Value>,
}

/// `escc diff NAME@A [NAME@B] [--definition]`.
pub(crate) fn diff(
    project: &Project,
    a: &str,
    b: Option<&str>,
    definition: bool,
) -> Result<ExitCode, Failure> {
    let (name_a, rev_a) = project.resolve_versioned(a)?;
    let (name_b, rev_b) = match b {
        Some(b) => project.resolve_versioned(b)?,
        None => (name_a.clone(), None),
    };
    let show = |n: &str, r: &Option<String>| format!("{n}@{}", r.as_deref().unwrap_or("latest"));
    let (label_a, label_b) = (show(&name_a, &rev_a), show(&name_b, &rev_b));
    if definition {
        let mut texts = Vec::new();
        for (name, rev, label) in [(&name_a, &rev_a, &label_a), (&name_b, &rev_b, &label_b)] {
            let host = project.pin(project.inner.host(), name, rev.as_deref())?;
            let doc = host
                .read(name)
                .map_err(|e| Failure::new(format!("{label}: {}", e.message())))?;
            texts.push((
                label.as_str(),
                Source::new(name.as_str(), doc.text.as_ref()),
            ));
        }
        super::print(&definition_diff(&texts[0], &texts[1])?)?;
        return Ok(ExitCode::SUCCESS);
    }
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

/// The placeholder of a secret in a definition diff.
const SECRET: &str = "[secret]";
/// The placeholder of a secret whose written value differs from the other side's at the
/// same document path (on the newer side only, so the two lines differ).
const SECRET_CHANGED: &str = "[secret changed]";

/// A unified diff (3 lines of context) of two definitions, every `fn::secret` argument
/// (plaintext or ciphertext, however written) replaced by [`SECRET`] first; a secret whose
/// argument is written differently at the same document path is [`SECRET_CHANGED`] on the
/// newer side. The plaintexts are masked in the whole text too.
fn definition_diff(a: &(&str, Source), b: &(&str, Source)) -> Result<String, Failure> {
    let secrets_a = secret_args(&a.1, a.0)?;
    let secrets_b = secret_args(&b.1, b.0)?;
    let old = redact(&a.1, &secrets_a, |_| SECRET);
    let new = redact(&b.1, &secrets_b, |(path, written)| {
        match secrets_a
            .iter()
            .find(|(p, _, _)| !path.is_empty() && p == path)
        {
            Some((_, _, before)) if before != written => SECRET_CHANGED,
            _ => SECRET,
        }
    });
    let diff = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        // A pathological pair (thousands of lines, nothing in common) is shown less
        // minimal rather than hang.
        .timeout(std::time::Duration::from_secs(5))
        .diff_lines(&old, &new);
    let out = if old == new {
        format!("--- {}\n+++ {}\nno changes\n", a.0, b.0)
    } else {
        diff.unified_diff()
            .context_radius(3)
            .header(a.0, b.0)
            .to_string()
    };
    let literals = crate::secrets::literal_texts(&a.1)
        .into_iter()
        .chain(crate::secrets::literal_texts(&b.1));
    Ok(Masker::new(literals).mask_str(&out))
}

/// Every `fn::secret` argument of a document: its document path, its span, and its text
/// as written. A document whose YAML does not load has no declaration to find them in, so
/// it is refused rather than shown.
fn secret_args(source: &Source, label: &str) -> Result<Vec<(String, Span, String)>, Failure> {
    let loaded = crate::load(source);
    let Some(decl) = loaded.decl.as_ref() else {
        return Err(Failure::new(format!(
            "{label}: its YAML does not load, so its secrets cannot be told from the rest: \
             compare it with git (it may show secrets)"
        )));
    };
    let text = source.text();
    // Paths tell a changed secret; every call is hidden, also one the paths leave out (in
    // an entry whose key is not a string, which the evaluator drops: no path, so never
    // "changed").
    let paths: BTreeMap<usize, String> = decl
        .secret_calls()
        .into_iter()
        .map(|(path, b)| (b.arg.span.start(), path))
        .collect();
    Ok(decl
        .exprs()
        .filter_map(|x| match &x.kind {
            ExprKind::Builtin(b) if matches!(b.call, Call::Secret(_)) => Some(b),
            _ => None,
        })
        .map(|b| {
            // A ciphertext's literal (so `ciphertext:` stays); else the whole argument,
            // whatever it is.
            let span = match &b.call {
                Call::Secret(SecretArg::Ciphertext(lit)) => lit.span,
                _ => b.arg.span,
            };
            let written = text.get(span.start()..span.end()).unwrap_or_default();
            let path = paths.get(&b.arg.span.start()).cloned().unwrap_or_default();
            (path, span, written.to_owned())
        })
        .collect())
}

/// The text with each secret's span replaced by `placeholder((path, written))`, line by
/// line: each line of a span that holds several (a block scalar) keeps its indentation and
/// becomes the placeholder, so the diff's line numbers are the file's.
fn redact<'a>(
    source: &Source,
    secrets: &'a [(String, Span, String)],
    placeholder: impl Fn((&'a String, &'a String)) -> &'static str,
) -> String {
    let text = source.text();
    let mut spans: Vec<&(String, Span, String)> = secrets.iter().collect();
    spans.sort_by_key(|(_, s, _)| s.start());
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (path, span, written) in spans {
        if span.start() < at {
            continue;
        }
        out.push_str(&text[at..span.start()]);
        let shown = placeholder((path, written));
        for (i, line) in written.split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
                if line.trim().is_empty() {
                    continue;
                }
                out.push_str(&line[..line.len() - line.trim_start().len()]);
            }
            out.push_str(shown);
        }
        at = span.end();
    }
    out.push_str(&text[at..]);
    out
}

/// `escc tag NAME@REV TAG [--force]`: sets environment tag TAG (the git tag
/// `escc/NAME@TAG`) to REV's commit.
pub(crate) fn tag(
    project: &Project,
    spec: &str,
    tag: &str,
    force: bool,
) -> Result<ExitCode, Failure> {
    git::check_tag(tag).map_err(Failure::new)?;
    let (name, rev) = project.resolve_versioned(spec)?;
    let repo = project.inner.repo().map_err(Failure::new)?;
    let pinned = commit_of(&repo, &name, rev.as_deref())?;
    let change = repo
        .set_tag(&name, &pinned, tag, force)
        .map_err(Failure::new)?;
    let what = match change {
        TagChange::Created => "created",
        TagChange::Moved => "moved",
        _ => "unchanged",
    };
    super::note(&format!(
        "{name}@{tag} {what}: commit {} (git tag {}{name}@{tag}; share it with `git push --tags`)",
        short_hash(&pinned.commit),
        git::TAG_NAMESPACE
    ));
    Ok(ExitCode::SUCCESS)
}

/// `escc tag --delete NAME TAG`.
pub(crate) fn untag(project: &Project, name: &str, tag: &str) -> Result<ExitCode, Failure> {
    let (name, repo) = unversioned(
        project,
        name,
        "tag --delete takes the tag's name apart",
        &format!(
            "tag --delete {} {tag}",
            name.split('@').next().unwrap_or(name)
        ),
    )?;
    let old = repo.delete_tag(&name, tag).map_err(Failure::new)?;
    super::note(&format!(
        "{name}@{tag} deleted (it named commit {}; a remote keeps it until `git push --delete \
         origin {}{name}@{tag}`)",
        short_hash(&old),
        git::TAG_NAMESPACE
    ));
    Ok(ExitCode::SUCCESS)
}

/// The commit to tag: REV's, or `HEAD`'s when the environment is named without a revision
/// (or `@latest`) and its file has no uncommitted changes (the working tree is no commit).
fn commit_of(repo: &Repo, name: &str, rev: Option<&str>) -> Result<Pinned, Failure> {
    if let Some(rev) = rev {
        return repo.resolve(name, rev).map_err(Failure::new);
    }
    let dirty = repo.uncommitted(name).map_err(Failure::new)?;
    if !dirty.is_empty() {
        return Err(Failure::new(format!(
            "{name}@latest is the working tree, and {name}'s file has uncommitted changes \
             ({}): commit them, or name a revision ({name}@HEAD)",
            dirty.join(", ")
        )));
    }
    repo.resolve(name, "HEAD").map_err(Failure::new)
}

/// `escc tags NAME`.
pub(crate) fn tags(
    project: &Project,
    name: &str,
    format: HistoryFormat,
) -> Result<ExitCode, Failure> {
    let (name, repo) = unversioned(project, name, "tags lists every tag", "tags")?;
    let tags = repo.tags(&name).map_err(Failure::new)?;
    let mut out = String::new();
    match format {
        HistoryFormat::Json => out = json_lines(&tags)?,
        HistoryFormat::Human => {
            if tags.is_empty() {
                super::note(&format!(
                    "{name} has no tags (escc tag {name}@REV TAG makes one)"
                ));
            }
            for t in &tags {
                let revision = t.revision.map_or_else(|| "-".to_owned(), |n| n.to_string());
                let _ = writeln!(
                    out,
                    "{}\t{revision}\t{}\t{}\t{}",
                    t.tag,
                    short_hash(&t.commit),
                    t.date,
                    t.subject
                );
            }
        }
    }
    super::print(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// `escc rollback NAME@REV [--force]`: writes REV's definition to the environment's file in
/// the working tree (atomically), refusing to overwrite uncommitted changes without
/// `--force`. Nothing is committed.
pub(crate) fn rollback(project: &Project, spec: &str, force: bool) -> Result<ExitCode, Failure> {
    let (name, rev) = project.resolve_versioned(spec)?;
    let Some(rev) = rev else {
        return Err(Failure::new(format!(
            "rollback writes an earlier revision: name one ({name}@REV, e.g. {name}@HEAD~1 or \
             {name}@3; see escc history {name})"
        )));
    };
    let repo = project.inner.repo().map_err(Failure::new)?;
    let pinned = repo.resolve(&name, &rev).map_err(Failure::new)?;
    let Some((text, file)) = repo.read(&name, &pinned).map_err(Failure::new)? else {
        return Err(Failure::new(format!(
            "{name}@{rev}: environment {name:?} does not exist at that revision (no {name}.yaml \
             or {name}.yml there): there is nothing to roll back to"
        )));
    };
    let target = project.root.join(&file);
    // The file of the other extension, if the working tree has it: rolled back, the
    // environment has one file.
    let other = ["yaml", "yml"]
        .iter()
        .map(|ext| project.root.join(format!("{name}.{ext}")))
        .find(|f| *f != target && std::fs::symlink_metadata(f).is_ok());
    for f in std::iter::once(&target).chain(other.as_ref()) {
        if std::fs::symlink_metadata(f).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Failure::new(format!(
                "{} is a symbolic link: escc does not replace it (roll back the file it names)",
                project.show(f)
            )));
        }
    }
    if std::fs::read(&target).is_ok_and(|now| now == text.as_bytes()) && other.is_none() {
        super::note(&format!(
            "{} already holds {name}@{rev}: nothing written",
            project.show(&target)
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let dirty = repo.uncommitted(&name).map_err(Failure::new)?;
    if !dirty.is_empty() && !force {
        return Err(Failure::new(format!(
            "{name} has uncommitted changes (git status: {}): rollback would overwrite them; \
             commit or stash them first, or use --force to discard them",
            dirty.join(", ")
        )));
    }
    // The directory may be gone from the working tree; it must stay below the root (a
    // directory that is a link out of it is refused, as the file host refuses reading
    // through one).
    let dir = target.parent().unwrap_or(&project.root);
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::new(format!(
            "{}: {}",
            project.show(dir),
            crate::project::io_text(&e)
        ))
    })?;
    if !std::fs::canonicalize(dir).is_ok_and(|d| d.starts_with(&project.root)) {
        return Err(Failure::new(format!(
            "{} leads out of the project root through a symbolic link: escc does not write there",
            project.show(dir)
        )));
    }
    super::secrets::write_atomically(project, &target, &text)?;
    if let Some(other) = &other {
        std::fs::remove_file(other).map_err(|e| {
            Failure::new(format!(
                "wrote {}, but cannot remove {}: {} (remove it: an environment has one file)",
                project.show(&target),
                project.show(other),
                crate::project::io_text(&e)
            ))
        })?;
    }
    super::note(&format!(
        "wrote {} from {name}@{rev} (commit {}); review it (git diff), then commit it",
        project.show(&target),
        short_hash(&pinned.commit)
    ));
    Ok(ExitCode::SUCCESS)
}
