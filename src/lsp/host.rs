//! Where the language server's documents belong. An environment's name is its path below
//! the project root without `.yaml`/`.yml`, as for `escc check`; the root is the nearest
//! directory above a file that holds `escc.toml`, else the innermost workspace folder that
//! holds it, else its directory. Reading files and `escc.toml`, listing environments and
//! mapping files to names are the library's ([`crate::project`]); the editor's unsaved
//! buffers are the host's overlay. A snapshot of a revision (`.escc/revisions/<commit>/`,
//! written for go to definition into a pinned import) is that environment at that
//! revision (`app/dev@<commit>`).

use std::path::{Path, PathBuf};

use crate::project::{Project, is_environment_file, name_in, snapshot_of};

/// The project root of `file`: the nearest directory above it holding `escc.toml` (as for
/// `escc check`), else the innermost workspace folder holding it, else its directory.
pub(crate) fn root_of(file: &Path, folders: &[PathBuf]) -> PathBuf {
    // A revision's snapshot (go to definition into `base@v3`) belongs to the project that
    // wrote it.
    if let Some((root, _)) = snapshot_of(file) {
        return root;
    }
    let dir = file.parent().unwrap_or(file);
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if let Some(root) = Project::discover(&dir) {
        return root;
    }
    folders
        .iter()
        .filter(|f| dir.starts_with(f))
        .max_by_key(|f| f.components().count())
        .cloned()
        .unwrap_or(dir)
}

/// The environment name of `file` (directory canonical) below `root`, if it is an
/// environment file there.
pub(crate) fn name_of(root: &Path, file: &Path) -> Option<String> {
    if !is_environment_file(file) {
        return None;
    }
    match snapshot_of(file) {
        // A revision's snapshot is that environment at that revision.
        Some((r, versioned)) if r == root => Some(versioned),
        _ => name_in(root, file).ok(),
    }
}

/// Where the file of a document is once its directory is canonical (so that it compares
/// with a canonical root), keeping the file's own name.
pub(crate) fn canonical_file(file: &Path) -> PathBuf {
    match (file.parent(), file.file_name()) {
        (Some(dir), Some(name)) => {
            std::fs::canonicalize(dir).map_or_else(|_| file.to_path_buf(), |d| d.join(name))
        }
        _ => file.to_path_buf(),
    }
}

/// The project at `root` (none: a detached project, for buffers without a file). An
/// `escc.toml` that cannot be used gives a project without it, and the reason. The plugins
/// it configures run only with `ESCC_ALLOW_PLUGINS=1` in the server's environment: opening
/// a file must not run a command its repository configures.
pub(crate) fn open_project(root: Option<&Path>) -> (Project, Option<String>) {
    let (mut project, problem) = match root {
        None => (Project::detached(), None),
        Some(r) => match Project::open(r) {
            Ok(p) => (p, None),
            Err(e) => (Project::unconfigured(r), Some(e.to_string())),
        },
    };
    project.allow_plugins(crate::providers::plugins_allowed_by_env());
    (project, problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_roots() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("app")).unwrap();
        assert_eq!(
            name_of(&root, &root.join("app/base.yaml")).as_deref(),
            Some("app/base")
        );
        assert_eq!(name_of(&root, &root.join("x.txt")), None);
        assert_eq!(
            root_of(&root.join("app/base.yaml"), std::slice::from_ref(&root)),
            root
        );
    }

    #[test]
    fn an_invalid_project_file_still_gives_a_project() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(crate::project::CONFIG_FILE), "[[[").unwrap();
        let (project, problem) = open_project(Some(dir.path()));
        assert!(project.root().is_some());
        assert!(problem.is_some());
    }
}
