//! A project: a directory of environment files, its `escc.toml`, and the one pipeline that
//! checks or evaluates a named environment. The command line, the language server and
//! programs that embed escc all go through it, so they read the same files the same way
//! and report the same diagnostics.
//!
//! An environment's name is its path below the root without `.yaml`/`.yml` (`app/dev` is
//! `app/dev.yaml`). The root is the directory holding `escc.toml`
//! ([`Project::discover`]), or any directory a front end chooses.
//!
//! ```
//! use escc::project::Project;
//!
//! let project = Project::open("fixtures/examples").unwrap();
//! let host = project.host();
//! let checked = project.evaluate(&host, "app/dev").unwrap();
//! assert!(checked.diags.is_empty());
//! assert_eq!(checked.values_json(true)["environmentVariables"]["STAGE"], "dev");
//! ```

mod check;
mod config;
mod fs;
pub mod git;
#[cfg(feature = "age")]
pub mod keys;
pub(crate) mod names;
mod plaintext;
mod progress;

use std::path::{Path, PathBuf};

pub use check::Checked;
pub use config::{CONFIG_FILE, Config, Defaults, Encryption, Folder, set_context};
pub use fs::{Document, FsHost, MAX_FILE_BYTES};
pub use git::{Pinned, Repo, Revision, Tag, TagChange, snapshot_of, split_version};
pub use names::check_name;
pub use progress::Opening;

use crate::eval::{HostError, Mode, Value};
use crate::providers::{Catalog, Network};
pub(crate) use fs::io_text;

/// At most this many directory entries are looked at when listing a project's
/// environments (a root that is a home directory should not hang an editor).
pub const MAX_LISTED_ENTRIES: usize = 100_000;

/// An opened project.
#[derive(Debug)]
pub struct Project {
    root: Option<PathBuf>,
    config: Config,
    context: Value,
    /// Whether the plugins `escc.toml` configures may run.
    allow_plugins: bool,
    /// Whether providers are refused the network (`--offline`).
    offline: bool,
}

/// Why a project, or a file of it, cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProjectError {
    /// `escc.toml` is invalid (`reason` says where and why).
    Config {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file or directory cannot be read.
    Io {
        /// The path, as given.
        path: PathBuf,
        /// The operating system's reason, without its error number.
        reason: String,
    },
    /// A file is not below the project root.
    OutsideRoot {
        /// The file, as given.
        path: PathBuf,
    },
    /// A path is not an environment file, or does not name a valid environment.
    NotAnEnvironment {
        /// The path, as given.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for ProjectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProjectError::Config { file, reason } => write!(f, "{}: {reason}", file.display()),
            ProjectError::Io { path, reason } => write!(f, "{}: {reason}", path.display()),
            ProjectError::OutsideRoot { path } => {
                write!(f, "{} is outside the project root", path.display())
            }
            ProjectError::NotAnEnvironment { path, reason } => {
                write!(f, "{}: {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for ProjectError {}

/// The environments found below a directory.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Listing {
    /// Their names, sorted, without duplicates.
    pub names: Vec<String>,
    /// What could not be listed, in the order met (directories that cannot be read,
    /// entries whose names are not UTF-8).
    pub problems: Vec<ProjectError>,
    /// Whether [`MAX_LISTED_ENTRIES`] stopped the listing.
    pub truncated: bool,
}

impl Project {
    /// The nearest directory at or above `start` (a file or a directory) that holds
    /// `escc.toml`, canonical.
    #[must_use]
    pub fn discover(start: &Path) -> Option<PathBuf> {
        let start = std::fs::canonicalize(start).ok()?;
        let dir = if start.is_dir() {
            start.as_path()
        } else {
            start.parent()?
        };
        dir.ancestors()
            .find(|d| d.join(CONFIG_FILE).is_file())
            .map(Path::to_path_buf)
    }

    /// Opens the project rooted at `root`, reading its `escc.toml` (the defaults when there
    /// is none).
    ///
    /// # Errors
    /// The root is not a readable directory, or `escc.toml` cannot be read or is invalid.
    pub fn open(root: impl AsRef<Path>) -> Result<Project, ProjectError> {
        let given = root.as_ref();
        let root = std::fs::canonicalize(given).map_err(|e| ProjectError::Io {
            path: given.to_path_buf(),
            reason: io_text(&e),
        })?;
        if !root.is_dir() {
            return Err(ProjectError::Io {
                path: given.to_path_buf(),
                reason: "not a directory".to_owned(),
            });
        }
        let file = root.join(CONFIG_FILE);
        let config = if file.is_file() {
            let text = std::fs::read_to_string(&file).map_err(|e| ProjectError::Config {
                file: file.clone(),
                reason: io_text(&e),
            })?;
            Config::parse(&text).map_err(|reason| ProjectError::Config {
                file: file.clone(),
                reason,
            })?
        } else {
            Config::default()
        };
        Ok(Project {
            context: config.context(),
            root: Some(root),
            allow_plugins: false,
            offline: false,
            config,
        })
    }

    /// A project with no directory: its host serves only what is put in its overlay (an
    /// editor's buffer that was never saved).
    #[must_use]
    pub fn detached() -> Project {
        Project {
            root: None,
            allow_plugins: false,
            offline: false,
            config: Config::default(),
            context: config::empty_context(),
        }
    }

    /// A project with no directory configured by `config` (the text of an `escc.toml`,
    /// already parsed): `escc serve` keeps its environments in a database and serves them
    /// through the host's overlay.
    #[must_use]
    pub fn detached_with(config: Config) -> Project {
        Project {
            root: None,
            allow_plugins: false,
            offline: false,
            context: config.context(),
            config,
        }
    }

    /// The project at `root` without reading its `escc.toml` (the defaults), for a front
    /// end that must go on when the file is invalid and reports that itself.
    #[must_use]
    pub fn unconfigured(root: impl AsRef<Path>) -> Project {
        let root = root.as_ref();
        Project {
            root: Some(std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf())),
            allow_plugins: false,
            offline: false,
            config: Config::default(),
            context: config::empty_context(),
        }
    }

    /// The root directory, canonical (none for a detached project).
    #[must_use]
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// What `escc.toml` says.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The execution context (`context.*` in documents).
    #[must_use]
    pub fn context(&self) -> &Value {
        &self.context
    }

    /// Sets a value of the execution context, as `--context KEY=VALUE` does.
    ///
    /// # Errors
    /// See [`set_context`].
    pub fn set_context(&mut self, assignment: &str) -> Result<(), String> {
        set_context(&mut self.context, assignment)
    }

    /// Lets the plugins `escc.toml` configures run (by default they do not: see
    /// [`Catalog::allowing_project_plugins`]).
    pub fn allow_plugins(&mut self, allow: bool) {
        self.allow_plugins = allow;
    }

    /// Refuses providers the network when `offline` (`--offline`; the environment's
    /// `ESCC_OFFLINE=1` does too, whatever this says): a built-in provider that would
    /// call a server fails naming it, and plugins are not run to open (they may reach the
    /// network; see docs/providers.md).
    pub fn set_offline(&mut self, offline: bool) {
        self.offline = offline;
    }

    /// How the built-in providers reach the network: the environment's settings, `[endpoints]`
    /// of `escc.toml`, and [`Project::set_offline`].
    #[must_use]
    pub fn network(&self) -> Network {
        Network::new()
            .offline(self.offline)
            .endpoints(self.config.endpoints.clone())
    }

    /// A file-system host over the root, with an empty overlay, offering the built-in
    /// providers (reaching the network as [`Project::network`] says), the plugins on
    /// `PATH`, and those of `escc.toml` when allowed (see [`crate::providers`]). Make one
    /// per evaluation: it asks each plugin to describe itself once.
    #[must_use]
    pub fn host(&self) -> FsHost {
        FsHost::new(self.root()).with_catalog(self.catalog())
    }

    /// Where this project's hosts find providers and rotators: the built-in providers
    /// (reaching the network as [`Project::network`] says), the plugins on `PATH`, and
    /// those of `escc.toml` when allowed.
    #[must_use]
    pub fn catalog(&self) -> Catalog {
        Catalog::new(self.root(), &self.config.providers)
            .allowing_project_plugins(self.allow_plugins)
            .with_network(self.network())
    }

    /// Every environment of the project.
    #[must_use]
    pub fn environments(&self) -> Listing {
        match &self.root {
            Some(root) => self.environments_in(root),
            None => Listing::default(),
        }
    }

    /// Every environment below `dir` (canonical, below the root). Hidden entries are
    /// skipped; symbolic links to directories are not followed (they could loop); links to
    /// files are listed, and the host refuses those that leave the root.
    #[must_use]
    pub fn environments_in(&self, dir: &Path) -> Listing {
        self.list(dir, MAX_LISTED_ENTRIES)
    }

    fn list(&self, dir: &Path, max_entries: usize) -> Listing {
        let mut listing = Listing::default();
        let mut budget = max_entries;
        self.walk(dir, &mut listing, &mut budget);
        listing.names.sort();
        listing.names.dedup();
        listing
    }

    fn walk(&self, dir: &Path, out: &mut Listing, budget: &mut usize) {
        let io = |path: &Path, e: &std::io::Error| ProjectError::Io {
            path: path.to_path_buf(),
            reason: io_text(e),
        };
        let entries = match std::fs::read_dir(dir).and_then(Iterator::collect::<Result<Vec<_>, _>>)
        {
            Ok(entries) => entries,
            Err(e) => {
                out.problems.push(io(dir, &e));
                return;
            }
        };
        let mut entries = entries;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            if *budget == 0 {
                out.truncated = true;
                return;
            }
            *budget -= 1;
            let path = entry.path();
            let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
                out.problems.push(ProjectError::NotAnEnvironment {
                    path,
                    reason: "the file name is not UTF-8".to_owned(),
                });
                continue;
            };
            if file_name.starts_with('.') {
                continue;
            }
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => self.walk(&path, out, budget),
                Ok(_) if is_environment_file(&path) => match self.name_of(&path) {
                    Ok(name) => out.names.push(name),
                    Err(e) => out.problems.push(e),
                },
                Ok(_) => {}
                Err(e) => out.problems.push(io(&path, &e)),
            }
        }
    }

    /// The environment name of a file below the root (relative paths are taken from the
    /// current directory). The file need not exist, its directory must.
    ///
    /// # Errors
    /// The directory cannot be read, the file is outside the root, or its path is not a
    /// valid environment name.
    pub fn name_of(&self, file: &Path) -> Result<String, ProjectError> {
        let Some(root) = &self.root else {
            return Err(ProjectError::OutsideRoot {
                path: file.to_path_buf(),
            });
        };
        let io = |e: &std::io::Error| ProjectError::Io {
            path: file.to_path_buf(),
            reason: io_text(e),
        };
        let absolute = std::path::absolute(file).map_err(|e| io(&e))?;
        // Canonicalize the directory only, so a symbolic link keeps its own name.
        let dir = absolute.parent().unwrap_or(&absolute);
        let dir = std::fs::canonicalize(dir).map_err(|e| io(&e))?;
        let canonical = match absolute.file_name() {
            Some(f) => dir.join(f),
            None => dir,
        };
        name_in(root, &canonical).map_err(|e| match e {
            NameError::OutsideRoot => ProjectError::OutsideRoot {
                path: file.to_path_buf(),
            },
            NameError::Invalid(reason) => ProjectError::NotAnEnvironment {
                path: file.to_path_buf(),
                reason,
            },
        })
    }

    /// The git repository the project is in, for versions (`NAME@REV`).
    ///
    /// # Errors
    /// The project has no root, git cannot run, or the root is not in a git work tree.
    pub fn repo(&self) -> Result<Repo, String> {
        match &self.root {
            Some(root) => Repo::open(root),
            None => Err(
                "versions (@REV) are read from git, and this project has no directory".to_owned(),
            ),
        }
    }

    /// A host reading every environment at revision `rev` (ESC's `NAME@REV`; see
    /// docs/versions.md) of environment `name`'s repository: [`Project::host`] pinned.
    ///
    /// # Errors
    /// There is no git repository, or the revision is invalid or unknown.
    pub fn host_at(&self, host: FsHost, name: &str, rev: &str) -> Result<FsHost, String> {
        let repo = self.repo()?;
        let pinned = repo.resolve(name, rev)?;
        Ok(host.at_revision(std::sync::Arc::new(repo), pinned))
    }

    /// Checks environment `name` statically (providers are not opened, ciphertexts not
    /// decrypted), with the imports `host` serves. See [`Checked`] for what it holds.
    ///
    /// # Errors
    /// The environment itself cannot be read (its imports' failures are diagnostics).
    pub fn check(&self, host: &FsHost, name: &str) -> Result<Checked, HostError> {
        self.run(
            host,
            name,
            &Mode::Check {
                show_secrets: false,
            },
        )
    }

    /// Evaluates environment `name` with its providers opened.
    ///
    /// # Errors
    /// The environment itself cannot be read.
    pub fn evaluate(&self, host: &FsHost, name: &str) -> Result<Checked, HostError> {
        self.run(host, name, &Mode::Eval)
    }

    /// Checks or evaluates environment `name` in any [`Mode`]: the one pipeline of every
    /// front end.
    ///
    /// # Errors
    /// The environment itself cannot be read.
    pub fn run(&self, host: &FsHost, name: &str, mode: &Mode) -> Result<Checked, HostError> {
        self.run_keeping(host, name, mode, true)
    }

    /// [`Project::run`] for a front end that reads the values and diagnostics only: the
    /// syntax tree is dropped before the evaluation (`loaded.syntax.root` is `None`), which
    /// lowers the peak memory of a large document by the tree's size (about a third).
    ///
    /// # Errors
    /// The environment itself cannot be read.
    pub fn run_without_syntax(
        &self,
        host: &FsHost,
        name: &str,
        mode: &Mode,
    ) -> Result<Checked, HostError> {
        self.run_keeping(host, name, mode, false)
    }

    fn run_keeping(
        &self,
        host: &FsHost,
        name: &str,
        mode: &Mode,
        keep_syntax: bool,
    ) -> Result<Checked, HostError> {
        // A static check does not know who will evaluate: what ESC documents of the caller
        // and the project does not set is unknown, not missing.
        let checking;
        let context = if matches!(mode, Mode::Check { .. }) {
            checking = crate::eval::with_unknown_callers(&self.context);
            &checking
        } else {
            &self.context
        };
        check::run(
            host,
            context,
            name,
            mode,
            !self.config.encryption.allow_plaintext,
            keep_syntax,
        )
    }
}

/// Why a path does not name an environment of a root.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameError {
    /// The path is not below the root.
    OutsideRoot,
    /// The path is below the root but is no environment's (the reason says why).
    Invalid(String),
}

/// The environment name of `file` below `root`, both absolute and with canonical
/// directories (no file-system access): its path below the root without the extension.
///
/// # Errors
/// The file is not below the root, or its path is not a valid environment name.
pub fn name_in(root: &Path, file: &Path) -> Result<String, NameError> {
    let rel = file
        .strip_prefix(root)
        .map_err(|_| NameError::OutsideRoot)?;
    let invalid = |why: &str| NameError::Invalid(why.to_owned());
    let stem = rel
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| invalid("not an environment file"))?;
    let mut parts = Vec::new();
    for c in rel.parent().into_iter().flat_map(Path::components) {
        match c {
            std::path::Component::Normal(s) => match s.to_str() {
                Some(s) => parts.push(s),
                None => return Err(invalid("the path is not UTF-8")),
            },
            _ => return Err(invalid("not an environment file")),
        }
    }
    parts.push(stem);
    let name = parts.join("/");
    check_name(&name).map_err(NameError::Invalid)?;
    Ok(name)
}

/// Whether `path` ends in `.yaml` or `.yml`.
#[must_use]
pub fn is_environment_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|x| x.to_str()),
        Some("yaml" | "yml")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let project = Project::open(dir.path()).unwrap();
        (dir, project)
    }

    #[test]
    fn the_network_has_the_projects_endpoints_and_offline() {
        let (_dir, mut p) = project(&[(
            CONFIG_FILE,
            "[endpoints]\nescc-test-service = \"http://127.0.0.1:8200/\"\n",
        )]);
        let network = p.network();
        assert_eq!(
            network
                .endpoint("escc-test-service", "https://public.example")
                .unwrap(),
            "http://127.0.0.1:8200"
        );
        assert_eq!(
            network
                .endpoint("other", "https://public.example/")
                .unwrap(),
            "https://public.example"
        );
        assert!(!network.is_offline() || std::env::var_os("ESCC_OFFLINE").is_some());
        p.set_offline(true);
        assert!(p.network().is_offline());
    }

    #[test]
    fn a_checks_secret_texts_are_the_same_whether_the_declaration_is_kept_or_not() {
        // With the declaration kept, the root's literals are read from it; without, from
        // the host (which loads the document again): the same texts either way, for a
        // document that is evaluated and for one with a load error.
        let (_dir, p) = project(&[
            (
                "app.yaml",
                "imports: [base]\nvalues:\n  pw:\n    fn::secret: \"hunt\\u0065r2\"\n  block:\n    fn::secret: |\n      line one\n      line two\n  bad: ${nowhere}\n",
            ),
            ("base.yaml", "values:\n  k:\n    fn::secret: base-secret\n"),
            (
                "broken.yaml",
                "values:\n  pw:\n    fn::secret: 'broken-secret'\n  x:\n    fn::join: 1\n",
            ),
        ]);
        for name in ["app", "broken"] {
            let mode = Mode::Check {
                show_secrets: false,
            };
            let kept = p.run(&p.host(), name, &mode).unwrap();
            let dropped = p.run_without_syntax(&p.host(), name, &mode).unwrap();
            assert!(
                !kept.diags.is_empty(),
                "{name}: literals are read for diagnostics"
            );
            let sorted = |c: &Checked| {
                let mut v = c.secrets().to_vec();
                v.sort();
                v
            };
            assert_eq!(sorted(&kept), sorted(&dropped), "{name}");
            assert!(
                sorted(&kept)
                    .iter()
                    .any(|t| t.contains("broken-secret") || t.contains("hunt")),
                "{name}: {:?}",
                kept.secrets()
            );
        }
    }

    #[test]
    fn discovery_finds_the_nearest_project_file() {
        let (dir, _) = project(&[(CONFIG_FILE, ""), ("app/dev.yaml", "")]);
        let root = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(
            Project::discover(&root.join("app/dev.yaml")),
            Some(root.clone())
        );
        assert_eq!(Project::discover(&root.join("app")), Some(root));
    }

    #[test]
    fn environments_are_listed_sorted_without_hidden_entries() {
        let (dir, p) = project(&[
            ("b.yaml", ""),
            ("app/dev.yml", ""),
            ("app/prod.yaml", ""),
            (".hidden/x.yaml", ""),
            ("notes.txt", ""),
        ]);
        let listing = p.environments();
        assert_eq!(listing.names, ["app/dev", "app/prod", "b"]);
        assert!(listing.problems.is_empty() && !listing.truncated);
        let root = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(p.environments_in(&root.join("app")).names.len(), 2);
        // The entry limit stops the walk and says so (entries are taken in name order,
        // hidden ones count: they are looked at).
        let cut = p.list(&root, 4);
        assert!(cut.truncated);
        assert_eq!(cut.names, ["app/dev", "app/prod"]);
        assert_eq!(p.name_of(&root.join("app/dev.yml")).unwrap(), "app/dev");
        assert!(matches!(
            p.name_of(Path::new("/tmp/x.yaml")),
            Err(ProjectError::OutsideRoot { .. })
        ));
    }

    #[test]
    fn an_invalid_project_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "[defaults]\nx = 1\n").unwrap();
        let err = Project::open(dir.path()).unwrap_err();
        let ProjectError::Config { file, reason } = &err else {
            panic!("{err:?}")
        };
        assert!(file.ends_with(CONFIG_FILE));
        assert!(reason.contains("unknown field `x`"), "{reason}");
    }
}
