//! Versions from git (see docs/versions.md): an environment's revisions are the commits of
//! the git repository holding the project. Git is the `git` command, run with a fixed
//! environment (no system or user configuration, no pager, no prompt, C locale) in the
//! project root; revisions are checked before they reach its command line.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::MAX_FILE_BYTES;
use super::names::check_name;

/// The longest revision accepted.
const MAX_REVISION_BYTES: usize = 256;

/// Checks a revision as written after `@`: not empty, no option (`-...`), no whitespace,
/// control character or `:` (which would name a path: `REV:file`), at most 256 bytes.
///
/// # Errors
/// Why the revision is refused, as the message to show.
pub fn check_revision(rev: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("invalid revision {rev:?}: {why}"));
    if rev.is_empty() {
        return bad("it is empty (write NAME@REV, e.g. app/dev@v1.4 or app/dev@HEAD~2)");
    }
    if rev.starts_with('-') {
        return bad("a revision cannot start with -");
    }
    if rev.len() > MAX_REVISION_BYTES {
        return bad("it is longer than 256 bytes");
    }
    if rev.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains whitespace or a control character");
    }
    if rev.contains(':') {
        return bad("a revision cannot contain : (name the environment, not a path)");
    }
    Ok(())
}

/// Environment tags are the git tags `escc/NAME@TAG` (refs `refs/tags/escc/NAME@TAG`), so
/// they travel with `git push --tags`. `@` cannot be in a name or a tag, so the ref names
/// both; `/` separating them instead would let `app`'s tag `prod` and environment
/// `app/prod`'s tags collide (git cannot hold both `a/b` and `a/b/c`).
pub const TAG_NAMESPACE: &str = "escc/";

/// The longest environment tag accepted.
const MAX_TAG_BYTES: usize = 100;

/// Checks an environment tag name (`escc tag NAME@REV TAG`): ESC's rules (not `latest`,
/// not starting with a digit, which would read as a revision number) and a character set
/// every git accepts in a ref: a letter, then letters, digits, `.`, `_` and `-`, at most
/// 100 bytes, no `..`, not ending in `.` or `.lock`.
///
/// # Errors
/// Why the tag is refused, as the message to show.
pub fn check_tag(tag: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("invalid tag name {tag:?}: {why}"));
    let Some(first) = tag.chars().next() else {
        return bad("it is empty");
    };
    if tag == "latest" {
        return bad(
            "latest is ESC's built-in tag for the newest revision (here: the working tree)",
        );
    }
    if !first.is_ascii_alphabetic() {
        return bad("a tag starts with a letter (a number is a revision number)");
    }
    if tag.len() > MAX_TAG_BYTES {
        return bad("it is longer than 100 bytes");
    }
    if let Some(c) = tag
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return bad(&format!(
            "{c:?} is not allowed (letters, digits, '.', '_' and '-' are)"
        ));
    }
    // `.LOCK` too: on a case-insensitive file system it is git's lock file.
    if tag.contains("..") || tag.ends_with('.') || tag.to_ascii_lowercase().ends_with(".lock") {
        return bad("git refuses `..`, and a final `.` or `.lock`");
    }
    Ok(())
}

/// The git ref of environment `name`'s tag `tag`.
#[must_use]
pub fn tag_ref(name: &str, tag: &str) -> String {
    format!("refs/tags/{TAG_NAMESPACE}{name}@{tag}")
}

/// Splits `NAME@REV` into the name and the revision (`None` without `@`, and for ESC's
/// `@latest`, the working tree). Both are checked.
///
/// # Errors
/// The name or the revision is invalid.
pub fn split_version(arg: &str) -> Result<(&str, Option<&str>), String> {
    let (name, rev) = match arg.split_once('@') {
        Some((name, rev)) => (name, Some(rev)),
        None => (arg, None),
    };
    check_name(name)?;
    match rev {
        Some("latest") | None => Ok((name, None)),
        Some(rev) => {
            check_revision(rev)?;
            Ok((name, Some(rev)))
        }
    }
}

/// Where, below a project root, the language server writes an environment's definition at
/// a revision for an editor to open (go to definition into `base@v3`):
/// `.escc/revisions/<commit>/<name>.<ext>`. The directory ignores itself in git (its
/// `.gitignore` is `*`), and project listings skip it (it is hidden).
pub const SNAPSHOT_DIR: &str = ".escc/revisions";

/// Writes `text`, environment `name`'s definition (file extension `ext`) at commit
/// `commit`, below `root`'s [`SNAPSHOT_DIR`], read-only for its owner (it holds what git
/// holds, no more), and returns its path. An existing snapshot with that text is kept.
///
/// # Errors
/// The name or commit is invalid, or the file cannot be written.
pub fn write_snapshot(
    root: &Path,
    name: &str,
    commit: &str,
    ext: &str,
    text: &str,
) -> Result<PathBuf, String> {
    check_name(name)?;
    if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{commit:?} is not a full commit hash"));
    }
    if ext != "yaml" && ext != "yml" {
        return Err(format!("{ext:?} is not an environment file extension"));
    }
    let io = |what: &Path, e: &std::io::Error| format!("{}: {}", what.display(), super::io_text(e));
    let top = root.join(".escc");
    let file = root
        .join(SNAPSHOT_DIR)
        .join(commit)
        .join(format!("{name}.{ext}"));
    if std::fs::read(&file).is_ok_and(|t| t == text.as_bytes()) {
        return Ok(file);
    }
    // A repository could hold `.escc` (or a directory below it) as a symbolic link: create
    // and write nothing through one.
    if std::fs::symlink_metadata(&top).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!(
            "{}: refusing to write a snapshot through a symbolic link",
            top.display()
        ));
    }
    let dir = file.parent().unwrap_or(root);
    std::fs::create_dir_all(dir).map_err(|e| io(dir, &e))?;
    let expected = std::fs::canonicalize(root)
        .map_err(|e| io(root, &e))?
        .join(dir.strip_prefix(root).unwrap_or(dir));
    if std::fs::canonicalize(dir).map_err(|e| io(dir, &e))? != expected {
        return Err(format!(
            "{}: refusing to write a snapshot through a symbolic link",
            dir.display()
        ));
    }
    let ignore = top.join(".gitignore");
    if std::fs::symlink_metadata(&ignore).is_err() {
        // `create_new` fails on an existing path, a dangling link included.
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&ignore)
            .and_then(|mut f| {
                std::io::Write::write_all(
                    &mut f,
                    b"# escc's snapshots of revisions (the language server's)\n*\n",
                )
            });
        created.map_err(|e| io(&ignore, &e))?;
    }
    // Written aside and renamed, so a reader never sees half of it.
    let leaf = file
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or("snapshot");
    let tmp = dir.join(format!(".{leaf}.{}.tmp", std::process::id()));
    let written = std::fs::write(&tmp, text).and_then(|()| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o400))?;
        std::fs::rename(&tmp, &file)
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(&file, &e));
    }
    Ok(file)
}

/// The project root and versioned environment name (`app/dev@<commit>`) of a file that
/// [`write_snapshot`] wrote, if `file` (absolute) is one.
#[must_use]
pub fn snapshot_of(file: &Path) -> Option<(PathBuf, String)> {
    let commit_dir = file.ancestors().skip(1).find(|a| {
        a.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.len() == 40 && n.bytes().all(|b| b.is_ascii_hexdigit()))
            && a.parent().is_some_and(|p| p.ends_with(SNAPSHOT_DIR))
    })?;
    let commit = commit_dir.file_name()?.to_str()?;
    let root = commit_dir.parent()?.parent()?.parent()?;
    if !super::is_environment_file(file) {
        return None;
    }
    let name = super::name_in(commit_dir, file).ok()?;
    Some((root.to_path_buf(), format!("{name}@{commit}")))
}

/// The git repository a project root is in.
#[derive(Clone, Debug)]
pub struct Repo {
    /// The project root (git runs there).
    root: PathBuf,
    /// The root's path below the repository's top, with a trailing `/` (empty at the top).
    prefix: String,
}

/// A revision of the repository, resolved to its commit.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pinned {
    /// As written after `@`.
    pub rev: String,
    /// The commit's full hash.
    pub commit: String,
}

impl Pinned {
    /// Revision `rev` (as written), resolved to `commit`.
    #[must_use]
    pub fn new(rev: &str, commit: &str) -> Self {
        Pinned {
            rev: rev.to_owned(),
            commit: commit.to_owned(),
        }
    }
}

/// One revision of an environment: a commit that changed its file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Revision {
    /// ESC's revision number: 1 for the oldest commit that changed the file.
    pub number: usize,
    /// The commit's full hash.
    pub commit: String,
    /// The author date, strict ISO 8601.
    pub date: String,
    /// The author, `Name <email>`.
    pub author: String,
    /// The first line of the message.
    pub subject: String,
    /// For the oldest revision of a file that was renamed: its path (below the project
    /// root) before the rename.
    #[serde(rename = "renamedFrom", skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

/// An environment tag (`escc tags NAME`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Tag {
    /// The tag, as written after `@`.
    pub tag: String,
    /// ESC's revision number in effect at the commit (the environment's last change at or
    /// before it), when the commit is on `HEAD`'s first-parent line.
    pub revision: Option<usize>,
    /// The commit's full hash.
    pub commit: String,
    /// The commit's author date, strict ISO 8601.
    pub date: String,
    /// The first line of the commit's message.
    pub subject: String,
}

/// What [`Repo::set_tag`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TagChange {
    /// The tag is new.
    Created,
    /// The tag named another commit.
    Moved,
    /// The tag already named that commit.
    Unchanged,
}

/// The first 12 hex digits of a commit hash, as escc shows commits.
#[must_use]
pub fn short_hash(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

impl Repo {
    /// The repository holding `root`.
    ///
    /// # Errors
    /// `git` cannot run, or `root` is not in a git work tree (the message says why versions
    /// need one).
    pub fn open(root: &Path) -> Result<Repo, String> {
        let repo = Repo {
            root: root.to_path_buf(),
            prefix: String::new(),
        };
        let out = repo
            .git(&["rev-parse", "--show-prefix"])
            .map_err(|e| format!("versions (@REV) are read from git, and {e}"))?;
        if !out.ok {
            return Err(format!(
                "versions (@REV) are read from git, and the project root {} is not in a git work tree",
                root.display()
            ));
        }
        Ok(Repo {
            prefix: out.stdout.trim_end_matches('\n').to_owned(),
            ..repo
        })
    }

    /// Resolves a revision (checked with [`check_revision`]) to its commit, for environment
    /// `name`. In this order: digits only are ESC's revision number of `name` (see
    /// [`Repo::history`]); then `name`'s environment tag (`escc tag`); then any git
    /// revision (commit, tag, branch, `HEAD~2`). A git branch or tag with the name of an
    /// environment tag is written in full (`refs/heads/prod`, `heads/prod`).
    ///
    /// # Errors
    /// The revision is invalid, unknown (in a shallow clone, the message suggests
    /// `git fetch --unshallow`), or names something that is not a commit.
    pub fn resolve(&self, name: &str, rev: &str) -> Result<Pinned, String> {
        check_revision(rev)?;
        if rev.bytes().all(|b| b.is_ascii_digit()) {
            let history = self.history(name)?;
            let n: usize = rev.parse().unwrap_or(0);
            return match history.iter().find(|r| r.number == n) {
                Some(r) => Ok(Pinned {
                    rev: rev.to_owned(),
                    commit: r.commit.clone(),
                }),
                None => Err(format!(
                    "{name}@{rev}: there is no revision {rev}: {name} has {} revision(s) in git \
                     (see `escc history {name}`)",
                    history.len()
                )),
            };
        }
        if !rev.contains('/')
            && let Some(commit) = self.commit_of(&format!("{}^{{commit}}", tag_ref(name, rev)))?
        {
            return Ok(Pinned {
                rev: rev.to_owned(),
                commit,
            });
        }
        if let Some(commit) = self.commit_of(&format!("{rev}^{{commit}}"))? {
            return Ok(Pinned {
                rev: rev.to_owned(),
                commit,
            });
        }
        let any = self.git(&["rev-parse", "--verify", "--quiet", "--end-of-options", rev])?;
        if any.ok {
            let object = any.stdout.trim().to_owned();
            let kind = self.git(&["cat-file", "-t", &object])?;
            return Err(format!(
                "{name}@{rev}: {rev} names a {}, not a commit",
                kind.stdout.trim()
            ));
        }
        let shallow = self.git(&["rev-parse", "--is-shallow-repository"])?;
        if shallow.stdout.trim() == "true" {
            return Err(format!(
                "{name}@{rev}: unknown revision {rev:?}, and this clone is shallow: it may \
                 lack it (run `git fetch --unshallow`)"
            ));
        }
        Err(format!(
            "{name}@{rev}: unknown revision {rev:?}: {name} has no tag {rev} (see `escc tags \
             {name}`) and the git repository has no revision of that name"
        ))
    }

    /// The commit `spec` names, if it names one.
    fn commit_of(&self, spec: &str) -> Result<Option<String>, String> {
        let out = self.git(&["rev-parse", "--verify", "--quiet", "--end-of-options", spec])?;
        Ok(out.ok.then(|| out.stdout.trim().to_owned()))
    }

    /// The paths (below the repository's top) of environment `name`'s two possible files.
    fn paths(&self, name: &str) -> [String; 2] {
        [
            format!("{}{name}.yaml", self.prefix),
            format!("{}{name}.yml", self.prefix),
        ]
    }

    /// [`Repo::paths`] as pathspecs: from the top (git runs in the project root, which may
    /// be below it), literal (a name may hold `*` or `?`).
    fn pathspecs(&self, name: &str) -> [String; 2] {
        self.paths(name).map(|p| format!(":(top,literal){p}"))
    }

    /// The text of environment `name` at a commit: `Ok(None)` when neither `NAME.yaml` nor
    /// `NAME.yml` is there.
    ///
    /// # Errors
    /// Both files exist, the file is a link or a submodule, too large, not UTF-8, or git
    /// fails.
    pub fn read(&self, name: &str, pinned: &Pinned) -> Result<Option<(String, String)>, String> {
        check_name(name)?;
        let shown = |ext: &str| format!("{name}.{ext}@{}", pinned.rev);
        let paths = self.paths(name);
        let out = self.git(&[
            "ls-tree",
            "-z",
            "--full-tree",
            &pinned.commit,
            "--",
            &paths[0],
            &paths[1],
        ])?;
        if !out.ok {
            return Err(format!("{}: {}", shown("yaml"), out.stderr.trim()));
        }
        // Entries: "MODE TYPE OBJECT\tPATH\0".
        let entries: Vec<(&str, &str, &str)> = out
            .stdout
            .split('\0')
            .filter_map(|e| {
                let (meta, path) = e.split_once('\t')?;
                let mut m = meta.split(' ');
                Some((m.next()?, m.nth(1)?, path))
            })
            .filter(|(_, _, p)| paths.iter().any(|q| q == p))
            .collect();
        let (mode, object, path) = match entries.as_slice() {
            [] => return Ok(None),
            [one] => *one,
            _ => {
                return Err(format!(
                    "environment {name:?} is ambiguous at {}: both {name}.yaml and {name}.yml exist",
                    pinned.rev
                ));
            }
        };
        let ext = if *path == paths[1] { "yml" } else { "yaml" };
        if mode != "100644" && mode != "100755" {
            return Err(format!(
                "cannot read {}: it is not a regular file (a symbolic link or submodule)",
                shown(ext)
            ));
        }
        let size = self.git(&["cat-file", "-s", object])?;
        let size: u64 = size.stdout.trim().parse().unwrap_or(u64::MAX);
        if size > MAX_FILE_BYTES {
            return Err(format!(
                "cannot read {}: it is {size} bytes, and escc reads environments up to 16 MiB",
                shown(ext)
            ));
        }
        let blob = self.git_bytes(&["cat-file", "blob", object])?;
        let text = String::from_utf8(blob)
            .map_err(|_| format!("cannot read {}: it is not UTF-8 text", shown(ext)))?;
        Ok(Some((text, format!("{name}.{ext}"))))
    }

    /// The revisions of environment `name`: the commits of `HEAD`'s first-parent history
    /// (the branch's own line) whose `NAME.yaml` or `NAME.yml` differs from their first
    /// parent's, newest first, numbered from 1 for the oldest. A merge that changed the
    /// file is one revision; the commits of a merged branch are not numbered (their hashes
    /// still name them), so merging never renumbers earlier revisions. Renames are not
    /// followed: the revisions of a renamed file begin with its rename, and the oldest
    /// says which file it was renamed from ([`Revision::renamed_from`]).
    ///
    /// # Errors
    /// The name is invalid or git fails.
    pub fn history(&self, name: &str) -> Result<Vec<Revision>, String> {
        check_name(name)?;
        let [long, short] = self.pathspecs(name);
        let out = self.git(&[
            "log",
            "--first-parent",
            "--format=%H%x1f%aI%x1f%an <%ae>%x1f%s%x1e",
            "HEAD",
            "--",
            &long,
            &short,
        ])?;
        if !out.ok {
            // A repository without commits has no history.
            if self.git(&["rev-parse", "--verify", "--quiet", "HEAD"])?.ok {
                return Err(format!("git log failed: {}", out.stderr.trim()));
            }
            return Ok(Vec::new());
        }
        let mut revisions: Vec<Revision> = out
            .stdout
            .split('\x1e')
            .filter_map(|record| {
                let mut f = record.trim_start_matches('\n').split('\x1f');
                Some(Revision {
                    number: 0,
                    commit: f.next().filter(|c| !c.is_empty())?.to_owned(),
                    date: f.next()?.to_owned(),
                    author: f.next()?.to_owned(),
                    subject: f.next()?.to_owned(),
                    renamed_from: None,
                })
            })
            .collect();
        let count = revisions.len();
        for (i, r) in revisions.iter_mut().enumerate() {
            r.number = count - i;
        }
        if let Some(oldest) = revisions.last_mut() {
            let [long, short] = self.paths(name);
            oldest.renamed_from = self.renamed_from(&oldest.commit, [&long, &short])?;
        }
        Ok(revisions)
    }

    /// The path (below the project root) that commit `commit` renamed to one of `paths`,
    /// compared with its first parent with git's rename detection.
    fn renamed_from(&self, commit: &str, paths: [&str; 2]) -> Result<Option<String>, String> {
        let parent = format!("{commit}^1");
        if self.commit_of(&parent)?.is_none() {
            return Ok(None);
        }
        let out = self.git(&[
            "diff-tree",
            "-r",
            "-z",
            "-M",
            "--name-status",
            "--diff-filter=R",
            &parent,
            commit,
        ])?;
        // Records: "R<score>\0OLD\0NEW\0".
        let fields: Vec<&str> = out.stdout.split('\0').collect();
        Ok(fields
            .chunks(3)
            .find(|c| c.len() == 3 && c[0].starts_with('R') && paths.contains(&c[2]))
            .map(|c| c[1].strip_prefix(&self.prefix).unwrap_or(c[1]).to_owned()))
    }

    /// Environment `name`'s tags (`escc/NAME@TAG`), sorted by tag: the commit each names,
    /// and the revision number in effect there (none when that commit is not on `HEAD`'s
    /// first-parent line).
    ///
    /// # Errors
    /// The name is invalid or git fails.
    pub fn tags(&self, name: &str) -> Result<Vec<Tag>, String> {
        check_name(name)?;
        let prefix = tag_ref(name, "");
        let out = self.git(&[
            "for-each-ref",
            "--format=%(refname)%1f%(objectname)%1f%(*objectname)",
            &format!("refs/tags/{TAG_NAMESPACE}"),
        ])?;
        if !out.ok {
            return Err(format!("git for-each-ref failed: {}", out.stderr.trim()));
        }
        let history = self.history(name)?;
        let [long, short] = self.pathspecs(name);
        let mut tags = Vec::new();
        for line in out.stdout.lines() {
            let mut f = line.split('\x1f');
            let (Some(refname), Some(object), peeled) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let Some(tag) = refname.strip_prefix(&prefix).filter(|t| !t.contains('/')) else {
                continue;
            };
            // An annotated tag (made by hand) names its commit through the tag object.
            let object = peeled.filter(|p| !p.is_empty()).unwrap_or(object);
            let Some(commit) = self.commit_of(&format!("{object}^{{commit}}"))? else {
                continue;
            };
            let details = self.git(&["log", "-1", "--format=%aI%x1f%s", &commit])?;
            let mut d = details.stdout.trim_end_matches('\n').splitn(2, '\x1f');
            let (date, subject) = (
                d.next().unwrap_or("").to_owned(),
                d.next().unwrap_or("").to_owned(),
            );
            let changed = self.git(&[
                "log",
                "--first-parent",
                "-1",
                "--format=%H",
                &commit,
                "--",
                &long,
                &short,
            ])?;
            let revision = history
                .iter()
                .find(|r| r.commit == changed.stdout.trim())
                .map(|r| r.number);
            tags.push(Tag {
                tag: tag.to_owned(),
                revision,
                commit,
                date,
                subject,
            });
        }
        tags.sort_by(|a, b| a.tag.cmp(&b.tag));
        Ok(tags)
    }

    /// Sets environment `name`'s tag `tag` (checked with [`check_tag`]) to `pinned`. An
    /// existing tag naming another commit is moved only with `force`.
    ///
    /// # Errors
    /// The tag is invalid, exists elsewhere without `force`, the environment does not exist
    /// at that commit, or git fails.
    pub fn set_tag(
        &self,
        name: &str,
        pinned: &Pinned,
        tag: &str,
        force: bool,
    ) -> Result<TagChange, String> {
        check_name(name)?;
        check_tag(tag)?;
        if self.read(name, pinned)?.is_none() {
            return Err(format!(
                "{name}@{}: environment {name:?} does not exist at that revision (no {name}.yaml \
                 or {name}.yml there), so it cannot be tagged",
                pinned.rev
            ));
        }
        let refname = tag_ref(name, tag);
        if !self.git(&["check-ref-format", &refname])?.ok {
            return Err(format!(
                "cannot tag {name}: git does not accept {refname} as a ref name (an environment \
                 with tags needs a name git takes in a ref: no space, *, ?, [, ~, ^ or .. and \
                 no segment that starts with . or ends with .lock)"
            ));
        }
        let existing = self.commit_of(&format!("{refname}^{{commit}}"))?;
        let old = self.commit_of(&refname)?;
        match existing {
            Some(c) if c == pinned.commit => return Ok(TagChange::Unchanged),
            Some(c) if !force => {
                return Err(format!(
                    "{name}@{tag} already names commit {}: use --force to move it (a remote \
                     that has the tag keeps it until `git push --force origin {}`)",
                    short_hash(&c),
                    refname
                ));
            }
            _ => {}
        }
        // The old value makes the update fail if another process changed the ref meanwhile.
        let zero = "0".repeat(40);
        let out = self.git(&[
            "update-ref",
            "--no-deref",
            &refname,
            &pinned.commit,
            old.as_deref().unwrap_or(&zero),
        ])?;
        if !out.ok {
            return Err(format!("cannot set {name}@{tag}: {}", out.stderr.trim()));
        }
        Ok(if existing.is_some() {
            TagChange::Moved
        } else {
            TagChange::Created
        })
    }

    /// Deletes environment `name`'s tag `tag`.
    ///
    /// # Errors
    /// There is no such tag, or git fails.
    pub fn delete_tag(&self, name: &str, tag: &str) -> Result<String, String> {
        check_name(name)?;
        let refname = tag_ref(name, tag);
        let Some(old) = self.commit_of(&refname)? else {
            return Err(format!(
                "{name} has no tag {tag:?} (see `escc tags {name}`)"
            ));
        };
        let out = self.git(&["update-ref", "--no-deref", "-d", &refname, &old])?;
        if !out.ok {
            return Err(format!("cannot delete {name}@{tag}: {}", out.stderr.trim()));
        }
        Ok(old)
    }

    /// How environment `name`'s file in the working tree differs from `HEAD`, as git's
    /// status of `NAME.yaml` and `NAME.yml` (`M app/dev.yaml`: changed, staged, untracked
    /// `??` or ignored `!!`); empty when it does not.
    ///
    /// # Errors
    /// Git fails.
    pub fn uncommitted(&self, name: &str) -> Result<Vec<String>, String> {
        check_name(name)?;
        let [long, short] = self.pathspecs(name);
        let out = self.git(&[
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignored=matching",
            "--",
            &long,
            &short,
        ])?;
        if !out.ok {
            return Err(format!("git status failed: {}", out.stderr.trim()));
        }
        // Entries: "XY PATH", XY git's two status letters (` M`, `??`, `!!`); a rename or
        // copy (`R`, `C`) is followed by the old path.
        let mut entries = out.stdout.split('\0').filter(|e| !e.is_empty());
        let mut found = Vec::new();
        while let Some((code, path)) = entries.next().and_then(|e| e.split_at_checked(3)) {
            if code.starts_with(['R', 'C']) {
                entries.next();
            }
            found.push(format!("{} {path}", code.trim()));
        }
        Ok(found)
    }

    fn git(&self, args: &[&str]) -> Result<GitOutput, String> {
        let out = self.run(args)?;
        Ok(GitOutput {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    fn git_bytes(&self, args: &[&str]) -> Result<Vec<u8>, String> {
        let out = self.run(args)?;
        if !out.status.success() {
            return Err(format!(
                "git {} failed: {}",
                args.first().unwrap_or(&""),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(out.stdout)
    }

    /// Runs git in the root with a fixed environment: only `PATH` (to find it) and `HOME`
    /// are kept, no system or global configuration is read, nothing prompts or pages.
    fn run(&self, args: &[&str]) -> Result<std::process::Output, String> {
        let mut cmd = Command::new("git");
        cmd.env_clear();
        for keep in ["PATH", "HOME", "SYSTEMROOT"] {
            if let Some(v) = std::env::var_os(keep) {
                cmd.env(keep, v);
            }
        }
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .env("LC_ALL", "C")
            .args([
                "--no-pager",
                "-c",
                "core.quotepath=off",
                "-c",
                "log.showSignature=false",
                "-c",
                "i18n.logOutputEncoding=UTF-8",
            ])
            .args(args)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.output().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                "the git command is not installed (or not on PATH)".to_owned()
            }
            _ => format!("git cannot run: {}", super::io_text(&e)),
        })
    }
}

struct GitOutput {
    ok: bool,
    stdout: String,
    stderr: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_written_once_read_only_and_never_through_a_link() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let file = write_snapshot(&root, "app/dev", commit, "yaml", "values: {}\n").unwrap();
        assert_eq!(
            file,
            root.join(format!(".escc/revisions/{commit}/app/dev.yaml"))
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "values: {}\n");
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o400
        );
        assert_eq!(
            std::fs::read_to_string(root.join(".escc/.gitignore")).unwrap(),
            "# escc's snapshots of revisions (the language server's)\n*\n"
        );
        assert_eq!(
            snapshot_of(&file),
            Some((root.clone(), format!("app/dev@{commit}")))
        );
        assert_eq!(snapshot_of(&root.join("app/dev.yaml")), None);
        // Again: the same file, kept.
        assert_eq!(
            write_snapshot(&root, "app/dev", commit, "yaml", "values: {}\n").unwrap(),
            file
        );
        // Bad inputs.
        assert!(write_snapshot(&root, "../x", commit, "yaml", "").is_err());
        assert!(write_snapshot(&root, "x", "HEAD", "yaml", "").is_err());
        assert!(write_snapshot(&root, "x", commit, "txt", "").is_err());
        // A `.escc` that is a link (a repository can commit one) is not written through.
        let other = tempfile::tempdir().unwrap();
        let root2 = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(other.path(), root2.path().join(".escc")).unwrap();
        let err = write_snapshot(root2.path(), "x", commit, "yaml", "v").unwrap_err();
        assert!(
            err.contains("refusing to write a snapshot through a symbolic link"),
            "{err}"
        );
        assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 0);
    }

    #[test]
    fn revisions_are_checked_before_git_sees_them() {
        assert!(check_revision("v1.4").is_ok());
        assert!(check_revision("HEAD~2").is_ok());
        assert!(check_revision("main@{1}").is_ok());
        for bad in ["", "--output=x", "-n", "a b", "HEAD:secrets.yaml", "a\nb"] {
            assert!(check_revision(bad).is_err(), "{bad:?}");
        }
        assert_eq!(split_version("app/dev").unwrap(), ("app/dev", None));
        assert_eq!(split_version("app/dev@latest").unwrap(), ("app/dev", None));
        assert_eq!(
            split_version("app/dev@v1").unwrap(),
            ("app/dev", Some("v1"))
        );
        assert_eq!(
            split_version("app/dev@HEAD@{1}").unwrap(),
            ("app/dev", Some("HEAD@{1}"))
        );
        assert!(split_version("app/dev@-x").is_err());
        assert!(split_version("../x@v1").is_err());
        assert!(split_version("app/dev@").is_err());
    }
}
