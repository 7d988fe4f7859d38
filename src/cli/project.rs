//! The project: its root directory, `escc.toml`, the execution context, and how
//! environment names map to files.
//!
//! An environment's name is its path below the root without `.yaml`/`.yml` (`app/dev` is
//! `app/dev.yaml`). The root is `--root`, else the nearest directory holding `escc.toml`
//! (searched upwards from the first path argument, then from the current directory), else
//! the current directory.

use crate::names::check_name;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Failure;
use crate::eval::{Value, ValueKind};

/// The project file's name.
pub(crate) const CONFIG_FILE: &str = "escc.toml";

/// An opened project.
#[derive(Debug)]
pub(crate) struct Project {
    /// The root, canonical.
    pub(crate) root: PathBuf,
    /// The current directory, canonical (paths are shown relative to it).
    cwd: PathBuf,
    /// What `escc.toml` says (defaults when there is none).
    pub(crate) config: Config,
    /// The execution context: `escc.toml`'s `[context]` with `--context` applied.
    pub(crate) context: Value,
}

/// The contents of `escc.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// The execution context (`context.*` in documents), e.g. `[context.pulumi.user]`.
    #[serde(default)]
    context: toml::Table,
    /// Defaults for command-line options.
    #[serde(default)]
    pub(crate) defaults: Defaults,
}

/// `[defaults]` in `escc.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Defaults {
    /// The environment of `get`, `open` and `run` when none is named.
    pub(crate) environment: Option<String>,
    /// `check --deny-warnings`.
    pub(crate) deny_warnings: Option<bool>,
}

impl Project {
    /// Finds and reads the project. `start` is where to begin looking for `escc.toml`
    /// (a file or a directory); the current directory is searched after it.
    pub(crate) fn open(
        root: Option<&Path>,
        start: Option<&Path>,
        overrides: &[String],
    ) -> Result<Project, Failure> {
        let cwd = std::env::current_dir()
            .and_then(std::fs::canonicalize)
            .map_err(|e| Failure::new(format!("cannot read the current directory: {e}")))?;
        let root = match root {
            Some(r) => {
                let canonical = std::fs::canonicalize(r).map_err(|e| {
                    Failure::new(format!("--root {}: {}", r.display(), io_text(&e)))
                })?;
                if !canonical.is_dir() {
                    return Err(Failure::new(format!(
                        "--root {}: not a directory",
                        r.display()
                    )));
                }
                canonical
            }
            None => discover(start, &cwd),
        };
        let config_path = root.join(CONFIG_FILE);
        let config = if config_path.is_file() {
            let text = std::fs::read_to_string(&config_path).map_err(|e| {
                Failure::new(format!("{}: {}", show(&cwd, &config_path), io_text(&e)))
            })?;
            toml::from_str::<Config>(&text).map_err(|e| {
                Failure::new(format!(
                    "{}: {}",
                    show(&cwd, &config_path),
                    e.to_string().trim_end()
                ))
            })?
        } else {
            Config::default()
        };
        let mut context = BTreeMap::new();
        for (k, v) in &config.context {
            context.insert(k.clone(), from_toml(v));
        }
        for o in overrides {
            set_context(&mut context, o)?;
        }
        for reserved in ["currentEnvironment", "rootEnvironment"] {
            if context.contains_key(reserved) {
                return Err(Failure::new(format!(
                    "the execution context must not set {reserved:?}: escc sets it for each environment"
                )));
            }
        }
        if let Some(name) = &config.defaults.environment {
            check_name(name)
                .map_err(|e| Failure::new(format!("{CONFIG_FILE}: defaults.environment: {e}")))?;
        }
        Ok(Project {
            root,
            cwd,
            config,
            context: Value::new(ValueKind::Object(context)),
        })
    }

    /// How to show `path` to the user: relative to the current directory when it is below
    /// it, else absolute.
    pub(crate) fn show(&self, path: &Path) -> String {
        show(&self.cwd, path)
    }

    /// The file an environment name would be read from, as shown to the user (for
    /// messages; the host decides which of `.yaml`/`.yml` exists).
    pub(crate) fn show_root(&self) -> String {
        self.show(&self.root)
    }

    /// Every environment below the root, sorted by name.
    pub(crate) fn all_environments(&self) -> Result<Vec<String>, Failure> {
        let mut names = Vec::new();
        self.walk(&self.root, &mut names)?;
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn walk(&self, dir: &Path, out: &mut Vec<String>) -> Result<(), Failure> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Failure::new(format!("{}: {}", self.show(dir), io_text(&e))))?;
        let mut entries: Vec<_> = entries
            .collect::<Result<_, _>>()
            .map_err(|e| Failure::new(format!("{}: {}", self.show(dir), io_text(&e))))?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                super::warn(&format!(
                    "skipping {}: the file name is not UTF-8",
                    self.show(&entry.path())
                ));
                continue;
            };
            if file_name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| Failure::new(format!("{}: {}", self.show(&path), io_text(&e))))?;
            // Symbolic links to directories are not followed (they could loop); links to
            // files are listed, and the host refuses those that leave the root.
            if kind.is_dir() {
                self.walk(&path, out)?;
            } else if has_yaml_extension(&path) {
                out.push(self.name_of(&path)?);
            }
        }
        Ok(())
    }

    /// The environment name of a file below the root.
    pub(crate) fn name_of(&self, file: &Path) -> Result<String, Failure> {
        let absolute = if file.is_absolute() {
            file.to_path_buf()
        } else {
            self.cwd.join(file)
        };
        // Canonicalize the directory only, so a symbolic link keeps its own name.
        let dir = absolute.parent().unwrap_or(&absolute);
        let dir = std::fs::canonicalize(dir)
            .map_err(|e| Failure::new(format!("{}: {}", file.display(), io_text(&e))))?;
        let Ok(rel) = dir.strip_prefix(&self.root) else {
            return Err(Failure::new(format!(
                "{} is outside the project root {} (use --root)",
                file.display(),
                self.show_root()
            )));
        };
        let stem = absolute
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| Failure::new(format!("{}: not an environment file", file.display())))?;
        let mut parts = Vec::new();
        for c in rel.components() {
            match c.as_os_str().to_str() {
                Some(s) => parts.push(s.to_owned()),
                None => {
                    return Err(Failure::new(format!(
                        "{}: the path is not UTF-8",
                        file.display()
                    )));
                }
            }
        }
        parts.push(stem.to_owned());
        let name = parts.join("/");
        check_name(&name).map_err(|e| Failure::new(format!("{}: {e}", file.display())))?;
        Ok(name)
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
                    self.show_root()
                )));
            }
            let mut names = Vec::new();
            self.walk(&canonical, &mut names)?;
            if names.is_empty() {
                super::warn(&format!("{arg}: no .yaml or .yml files"));
            }
            return Ok(names);
        }
        if std::fs::symlink_metadata(path).is_ok() {
            if !has_yaml_extension(path) {
                return Err(Failure::new(format!(
                    "{arg}: not an environment file (environments end in .yaml or .yml)"
                )));
            }
            return Ok(vec![self.name_of(path)?]);
        }
        if has_yaml_extension(path) {
            return Err(Failure::new(format!("{arg}: no such file")));
        }
        check_name(arg).map_err(|e| Failure::new(e.clone()))?;
        Ok(vec![arg.to_owned()])
    }

    /// Resolves the NAME argument of `get`, `open`, `run` and `graph`: an environment name,
    /// or the path of an environment file.
    pub(crate) fn resolve_name(&self, arg: &str) -> Result<String, Failure> {
        let path = Path::new(arg);
        if has_yaml_extension(path) {
            if std::fs::symlink_metadata(path).is_err() {
                return Err(Failure::new(format!("{arg}: no such file")));
            }
            return self.name_of(path);
        }
        check_name(arg).map_err(Failure::new)?;
        Ok(arg.to_owned())
    }
}

/// The nearest directory holding `escc.toml`, from `start` then from `cwd`; else `cwd`.
fn discover(start: Option<&Path>, cwd: &Path) -> PathBuf {
    let mut origins = Vec::new();
    if let Some(s) = start
        && let Ok(c) = std::fs::canonicalize(s)
    {
        origins.push(if c.is_dir() {
            c
        } else {
            c.parent().map(Path::to_path_buf).unwrap_or(c)
        });
    }
    origins.push(cwd.to_path_buf());
    for origin in origins {
        for dir in origin.ancestors() {
            if dir.join(CONFIG_FILE).is_file() {
                return dir.to_path_buf();
            }
        }
    }
    cwd.to_path_buf()
}

fn has_yaml_extension(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|x| x.to_str()),
        Some("yaml" | "yml")
    )
}

fn show(cwd: &Path, path: &Path) -> String {
    match path.strip_prefix(cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

/// An I/O error's text without Rust's `(os error N)` suffix.
pub(crate) fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s,
    }
}

/// A TOML value as an execution-context value. Integers and floats keep TOML's text form
/// (floats as Rust prints them); dates become strings.
fn from_toml(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::string(s.clone()),
        toml::Value::Integer(i) => Value::new(ValueKind::Number(i.to_string())),
        toml::Value::Float(f) => Value::new(ValueKind::Number(f.to_string())),
        toml::Value::Boolean(b) => Value::new(ValueKind::Bool(*b)),
        toml::Value::Datetime(d) => Value::string(d.to_string()),
        toml::Value::Array(items) => {
            Value::new(ValueKind::Array(items.iter().map(from_toml).collect()))
        }
        toml::Value::Table(t) => Value::object(t.iter().map(|(k, v)| (k.clone(), from_toml(v)))),
    }
}

/// Applies `--context key.path=value` (a string value; a leading `context.` is optional).
fn set_context(context: &mut BTreeMap<String, Value>, assignment: &str) -> Result<(), Failure> {
    let Some((key, value)) = assignment.split_once('=') else {
        return Err(Failure::new(format!(
            "--context {assignment:?}: expected KEY=VALUE, e.g. pulumi.user.login=alice"
        )));
    };
    let key = key.strip_prefix("context.").unwrap_or(key);
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(Failure::new(format!(
            "--context {assignment:?}: the key must be a dotted path such as pulumi.user.login"
        )));
    }
    let (last, parents) = parts.split_last().unwrap_or((&"", &[]));
    let mut map = context;
    for p in parents {
        let entry = map
            .entry((*p).to_owned())
            .or_insert_with(|| Value::object([]));
        if !matches!(entry.kind, ValueKind::Object(_)) {
            *entry = Value::object([]);
        }
        let ValueKind::Object(m) = &mut entry.kind else {
            unreachable!("just made an object")
        };
        map = m;
    }
    map.insert((*last).to_owned(), Value::string(value));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("app/dev").is_ok());
        assert!(check_name("base").is_ok());
        for bad in [
            "",
            "../x",
            "a/../b",
            "/etc/passwd",
            "a//b",
            "./a",
            "a\0b",
            "a@1",
            "a\\b",
            "a/",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn context_overrides() {
        let mut ctx = BTreeMap::new();
        set_context(&mut ctx, "pulumi.user.login=alice").unwrap();
        set_context(&mut ctx, "context.pulumi.organization.login=acme").unwrap();
        let v = Value::new(ValueKind::Object(ctx));
        assert_eq!(
            v.to_json(false).to_string(),
            r#"{"pulumi":{"organization":{"login":"acme"},"user":{"login":"alice"}}}"#
        );
        assert!(set_context(&mut BTreeMap::new(), "novalue").is_err());
        assert!(set_context(&mut BTreeMap::new(), "a..b=c").is_err());
    }
}
