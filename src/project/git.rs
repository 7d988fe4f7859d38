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

    /// Resolves a revision (checked with [`check_revision`]) to its commit. A revision of
    /// digits only is ESC's revision number of environment `name` (see [`Repo::history`]).
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
        let spec = format!("{rev}^{{commit}}");
        let out = self.git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ])?;
        if out.ok {
            return Ok(Pinned {
                rev: rev.to_owned(),
                commit: out.stdout.trim().to_owned(),
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
            "{name}@{rev}: unknown revision {rev:?} in the git repository"
        ))
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
        let paths: Vec<String> = ["yaml", "yml"]
            .iter()
            .map(|ext| format!("{}{name}.{ext}", self.prefix))
            .collect();
        let out = self.git(&["ls-tree", "-z", &pinned.commit, "--", &paths[0], &paths[1]])?;
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

    /// The revisions of environment `name`: the commits reachable from `HEAD` that changed
    /// `NAME.yaml` or `NAME.yml` (by that path: a renamed file's revisions begin with its
    /// rename), newest first, numbered from 1 for the oldest.
    ///
    /// # Errors
    /// The name is invalid or git fails.
    pub fn history(&self, name: &str) -> Result<Vec<Revision>, String> {
        check_name(name)?;
        let long = format!("{}{name}.yaml", self.prefix);
        let short = format!("{}{name}.yml", self.prefix);
        let out = self.git(&[
            "log",
            "--no-merges",
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
                })
            })
            .collect();
        let count = revisions.len();
        for (i, r) in revisions.iter_mut().enumerate() {
            r.number = count - i;
        }
        Ok(revisions)
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
