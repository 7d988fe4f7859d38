//! The project as the command line sees it: which root (`--root`, else the nearest
//! directory holding `escc.toml` from the first path argument, then from the current
//! directory, else the current directory), `--context` overrides, how arguments name
//! environments, and paths shown relative to the current directory. Reading `escc.toml`,
//! listing environments and mapping files to names are the library's
//! ([`crate::project`]).

use std::path::{Path, PathBuf};

use super::Failure;
pub(crate) use crate::project::io_text;
use crate::project::{self, Defaults, ProjectError, is_environment_file};

/// An opened project, with the current directory paths are shown relative to.
#[derive(Debug)]
pub(crate) struct Project {
    /// The library's project.
    pub(crate) inner: project::Project,
    /// The root, canonical.
    pub(crate) root: PathBuf,
    /// The current directory, canonical.
    cwd: PathBuf,
}

impl Project {
    /// Finds and opens the project. `start` is where to begin looking for `escc.toml`
    /// (a file or a directory); the current directory is searched after it.
    pub(crate) fn open(
        root: Option<&Path>,
        start: Option<&Path>,
        overrides: &[String],
    ) -> Result<Project, Failure> {
        let cwd = std::env::current_dir()
            .and_then(std::fs::canonicalize)
            .map_err(|e| Failure::new(format!("cannot read the current directory: {e}")))?;
        let chosen = match root {
            Some(r) => r.to_path_buf(),
            None => start
                .and_then(project::Project::discover)
                .or_else(|| project::Project::discover(&cwd))
                .unwrap_or_else(|| cwd.clone()),
        };
        let mut inner = project::Project::open(&chosen).map_err(|e| match (&e, root) {
            (ProjectError::Io { reason, .. }, Some(r)) => {
                Failure::new(format!("--root {}: {reason}", r.display()))
            }
            _ => Failure::new(show_error(&cwd, &e)),
        })?;
        for o in overrides {
            inner.set_context(o).map_err(Failure::new)?;
        }
        let root = inner.root().map_or_else(|| cwd.clone(), Path::to_path_buf);
        Ok(Project { inner, root, cwd })
    }

    /// A host that decrypts age ciphertexts with the identity of the environment
    /// (`ESCC_AGE_IDENTITY`, `ESCC_AGE_IDENTITY_FILE`, the per-user file), when there is
    /// one, and lists the providers it opens: for `open` and `run`, which open providers
    /// and show or pass on plaintexts. `check` and `get` use
    /// [`project::Project::host`] and never read a key.
    pub(crate) fn decrypting_host(&self) -> Result<project::FsHost, Failure> {
        // Listing the providers being opened, for the progress line.
        let host = self.inner.host().with_progress(std::sync::Arc::default());
        match self.identities() {
            Ok(Some(ids)) => Ok(host.with_identities(std::sync::Arc::new(ids))),
            Ok(None) => Ok(host),
            Err(e) => Err(Failure::new(e)),
        }
    }

    /// The user's age identities ([`project::keys`]), with a warning for an identity file
    /// that other users can read; their messages name the recipient sets of `escc.toml`.
    pub(crate) fn identities(&self) -> Result<Option<crate::secrets::age::Identities>, String> {
        let (ids, warnings) = project::keys::identities_from_env()?;
        for w in &warnings {
            super::warn(w);
        }
        let sets = project::keys::recipient_sets(&self.inner.config().encryption);
        Ok(ids.map(|ids| ids.knowing(sets)))
    }

    /// `[defaults]` of `escc.toml`.
    pub(crate) fn defaults(&self) -> &Defaults {
        &self.inner.config().defaults
    }

    /// How to show `path` to the user: relative to the current directory when it is below
    /// it, else absolute.
    pub(crate) fn show(&self, path: &Path) -> String {
        show(&self.cwd, path)
    }

    /// A library error as the command line words it.
    pub(crate) fn failure(&self, e: &ProjectError) -> Failure {
        Failure::new(match e {
            ProjectError::OutsideRoot { path } => format!(
                "{} is outside the project root {} (use --root)",
                path.display(),
                self.show(&self.root)
            ),
            _ => e.to_string(),
        })
    }

    /// Every environment below `dir`; a directory that cannot be read fails, names that are
    /// not UTF-8 are skipped with a warning.
    fn list(&self, dir: &Path) -> Result<Vec<String>, Failure> {
        let listing = self.inner.environments_in(dir);
        for problem in listing.problems {
            match problem {
                ProjectError::NotAnEnvironment { path, reason }
                    if reason == "the file name is not UTF-8" =>
                {
                    super::warn(&format!("skipping {}: {reason}", self.show(&path)));
                }
                ProjectError::Io { path, reason } => {
                    return Err(Failure::new(format!("{}: {reason}", self.show(&path))));
                }
                other => return Err(self.failure(&other)),
            }
        }
        if listing.truncated {
            return Err(Failure::new(format!(
                "{}: more than {} entries below it; name the environments or directories to check",
                self.show(dir),
                project::MAX_LISTED_ENTRIES
            )));
        }
        Ok(listing.names)
    }

    /// Every environment of the project, sorted by name.
    pub(crate) fn all_environments(&self) -> Result<Vec<String>, Failure> {
        self.list(&self.root)
    }

    /// Resolves a `check` argument: an existing file or directory (relative to the current
    /// directory), else an environment name.
    pub(crate) fn resolve_targets(&self, arg: &str) -> Result<Vec<String>, Failure> {
        let path = Path::new(arg);
        if path.is_dir() {
            let canonical = std::fs::canonicalize(path)
                .map_err(|e| Failure::new(format!("{arg}: {}", io_text(&e))))?;
            if !canonical.starts_with(&self.root) {
                return Err(Failure::new(format!(
                    "{arg} is outside the project root {} (use --root)",
                    self.show(&self.root)
                )));
            }
            let names = self.list(&canonical)?;
            if names.is_empty() {
                super::warn(&format!("{arg}: no .yaml or .yml files"));
            }
            return Ok(names);
        }
        if std::fs::symlink_metadata(path).is_ok() {
            if !is_environment_file(path) {
                return Err(Failure::new(format!(
                    "{arg}: not an environment file (environments end in .yaml or .yml)"
                )));
            }
            return Ok(vec![self.name_of(path)?]);
        }
        if is_environment_file(path) {
            return Err(Failure::new(format!("{arg}: no such file")));
        }
        project::check_name(arg).map_err(Failure::new)?;
        Ok(vec![arg.to_owned()])
    }

    /// Resolves the NAME argument of `get`, `open`, `run` and `graph`: an environment name,
    /// or the path of an environment file.
    pub(crate) fn resolve_name(&self, arg: &str) -> Result<String, Failure> {
        let path = Path::new(arg);
        if is_environment_file(path) {
            if std::fs::symlink_metadata(path).is_err() {
                return Err(Failure::new(format!("{arg}: no such file")));
            }
            return self.name_of(path);
        }
        project::check_name(arg).map_err(Failure::new)?;
        Ok(arg.to_owned())
    }

    /// Resolves the NAME argument of `get`, `open`, `run`, `check`, `history` and `diff`:
    /// a file, or `NAME[@REV]` (`@latest` is the working tree: no revision).
    pub(crate) fn resolve_versioned(&self, arg: &str) -> Result<(String, Option<String>), Failure> {
        let path = Path::new(arg);
        if is_environment_file(path) && std::fs::symlink_metadata(path).is_ok() {
            return Ok((self.name_of(path)?, None));
        }
        let (name, rev) = project::split_version(arg).map_err(Failure::new)?;
        if rev.is_none() && !arg.contains('@') {
            return Ok((self.resolve_name(name)?, None));
        }
        Ok((name.to_owned(), rev.map(str::to_owned)))
    }

    /// `host` reading every environment at revision `rev` of `name` (none: unchanged).
    pub(crate) fn pin(
        &self,
        host: project::FsHost,
        name: &str,
        rev: Option<&str>,
    ) -> Result<project::FsHost, Failure> {
        match rev {
            None => Ok(host),
            Some(rev) => self.inner.host_at(host, name, rev).map_err(Failure::new),
        }
    }

    fn name_of(&self, path: &Path) -> Result<String, Failure> {
        self.inner.name_of(path).map_err(|e| self.failure(&e))
    }
}

fn show(cwd: &Path, path: &Path) -> String {
    match path.strip_prefix(cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

/// A project error with its file shown relative to the current directory.
fn show_error(cwd: &Path, e: &ProjectError) -> String {
    match e {
        ProjectError::Config { file, reason } => format!("{}: {reason}", show(cwd, file)),
        _ => e.to_string(),
    }
}
