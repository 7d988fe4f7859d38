//! The language server's [`Host`]: environments are the files below a project root, and
//! the editor's unsaved buffers win over the files on disk.
//!
//! An environment's name is its path below the root without `.yaml`/`.yml` (`app/dev` is
//! `app/dev.yaml`), as for `escc check`; names that are absolute or hold `.`/`..` segments
//! are refused. The server only checks, so providers and rotators are stand-ins whose
//! schemas accept anything (their results are unknown, as in `escc check`) and which
//! refuse to open; nothing is ever decrypted.

use crate::names::check_name;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::json;

use crate::eval::{Host, Provider, Rotator, Value, ValueKind};

/// Environments are refused above this size, as in `escc check`.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The project file, whose `[context]` is the execution context.
pub(crate) const CONFIG_FILE: &str = "escc.toml";

/// An environment the host served.
#[derive(Clone, Debug)]
pub(crate) struct Served {
    /// Its text.
    pub(crate) text: Arc<str>,
    /// The file it is (or would be saved as), when known.
    pub(crate) file: Option<PathBuf>,
}

/// Environments from open buffers, else from `<root>/<name>.yaml` (or `.yml`).
pub(crate) struct WorkspaceHost {
    root: Option<PathBuf>,
    buffers: BTreeMap<String, Served>,
    served: Mutex<BTreeMap<String, Served>>,
    requested: Mutex<BTreeSet<String>>,
}

impl WorkspaceHost {
    /// A host over the canonical directory `root` (none: only buffers), with the open
    /// buffers by environment name.
    pub(crate) fn new(root: Option<PathBuf>, buffers: BTreeMap<String, Served>) -> Self {
        WorkspaceHost {
            root,
            buffers,
            served: Mutex::default(),
            requested: Mutex::default(),
        }
    }

    /// Every environment served so far, by name.
    pub(crate) fn served(&self) -> BTreeMap<String, Served> {
        self.served
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every environment name asked for so far, served or not.
    pub(crate) fn requested(&self) -> BTreeSet<String> {
        self.requested
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The text of environment `name`: an open buffer, else the file.
    pub(crate) fn read(&self, name: &str) -> Result<Served, String> {
        self.requested
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned());
        check_name(name)?;
        let served = match self.buffers.get(name) {
            Some(b) => b.clone(),
            None => self.read_file(name)?,
        };
        self.served
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), served.clone());
        Ok(served)
    }

    /// The file of environment `name`, if exactly one of `.yaml`/`.yml` exists (an open
    /// buffer's file counts even when it was never saved).
    pub(crate) fn file_of(&self, name: &str) -> Option<PathBuf> {
        check_name(name).ok()?;
        if let Some(f) = self.buffers.get(name).and_then(|b| b.file.clone()) {
            return Some(f);
        }
        let root = self.root.as_ref()?;
        let found: Vec<PathBuf> = ["yaml", "yml"]
            .iter()
            .map(|ext| root.join(format!("{name}.{ext}")))
            .filter(|f| f.is_file())
            .collect();
        match found.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
    }

    fn read_file(&self, name: &str) -> Result<Served, String> {
        let not_found = || {
            format!(
                "environment {name:?} not found: there is no {name}.yaml or {name}.yml in the project root"
            )
        };
        let Some(root) = &self.root else {
            return Err(not_found());
        };
        let mut found = Vec::new();
        for ext in ["yaml", "yml"] {
            let file = root.join(format!("{name}.{ext}"));
            match std::fs::symlink_metadata(&file) {
                Ok(_) => found.push((file, format!("{name}.{ext}"))),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                    ) => {}
                Err(e) => return Err(format!("cannot read {name}.{ext}: {}", io_text(&e))),
            }
        }
        let (file, shown) = match found.len() {
            0 => return Err(not_found()),
            1 => found.remove(0),
            _ => {
                return Err(format!(
                    "environment {name:?} is ambiguous: both {name}.yaml and {name}.yml exist"
                ));
            }
        };
        let canonical = std::fs::canonicalize(&file).map_err(|e| {
            format!(
                "cannot read {shown}: {} (a symbolic link to a missing file?)",
                io_text(&e)
            )
        })?;
        if !canonical.starts_with(root) {
            return Err(format!(
                "refusing to read {shown}: it is a symbolic link to a file outside the project root"
            ));
        }
        let meta = std::fs::metadata(&canonical)
            .map_err(|e| format!("cannot read {shown}: {}", io_text(&e)))?;
        if !meta.is_file() {
            return Err(format!("cannot read {shown}: not a regular file"));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(format!(
                "cannot read {shown}: it is {} bytes, and escc reads environments up to 16 MiB",
                meta.len()
            ));
        }
        let bytes = std::fs::read(&canonical)
            .map_err(|e| format!("cannot read {shown}: {}", io_text(&e)))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            format!(
                "cannot read {shown}: it is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            )
        })?;
        Ok(Served {
            text: Arc::from(text),
            file: Some(file),
        })
    }
}

impl Host for WorkspaceHost {
    fn load_environment(&self, name: &str) -> Result<String, String> {
        self.read(name).map(|s| s.text.to_string())
    }

    fn provider(&self, _name: &str) -> Result<&dyn Provider, String> {
        Ok(&Unavailable)
    }

    fn rotator(&self, _name: &str) -> Result<&dyn Rotator, String> {
        Ok(&Unavailable)
    }

    fn decrypt(&self, _ciphertext: &[u8]) -> Result<Vec<u8>, String> {
        Err("the language server never decrypts secrets".to_owned())
    }
}

/// The stand-in for every provider and rotator: its schemas accept anything, so a check
/// shows its result as unknown (as `escc check` does), and it never opens.
struct Unavailable;

const NEVER_OPENS: &str = "the language server only checks: it never opens providers";

impl Provider for Unavailable {
    fn schema(&self) -> (serde_json::Value, serde_json::Value) {
        (json!(true), json!(true))
    }

    fn open(&self, _inputs: &Value, _context: &Value) -> Result<Value, String> {
        Err(NEVER_OPENS.to_owned())
    }
}

impl Rotator for Unavailable {
    fn schema(&self) -> (serde_json::Value, serde_json::Value, serde_json::Value) {
        (json!(true), json!(true), json!(true))
    }

    fn open(&self, _: &Value, _: Option<&Value>, _: &Value) -> Result<Value, String> {
        Err(NEVER_OPENS.to_owned())
    }

    fn rotate(&self, _: &Value, _: Option<&Value>, _: &Value) -> Result<Value, String> {
        Err(NEVER_OPENS.to_owned())
    }
}

/// Whether `path` ends in `.yaml` or `.yml`.
pub(crate) fn is_environment_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|x| x.to_str()),
        Some("yaml" | "yml")
    )
}

/// The environment name of `file` below `root` (both absolute), if it is one.
pub(crate) fn name_of(root: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(root).ok()?;
    if !is_environment_file(rel) {
        return None;
    }
    let mut parts = Vec::new();
    let stem = rel.with_extension("");
    for c in stem.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?.to_owned()),
            _ => return None,
        }
    }
    let name = parts.join("/");
    check_name(&name).ok()?;
    Some(name)
}

/// The project root of `file`: the nearest directory above it holding `escc.toml` (as for
/// `escc check`), else the innermost workspace folder holding it, else its directory.
pub(crate) fn root_of(file: &Path, folders: &[PathBuf]) -> PathBuf {
    let dir = file.parent().unwrap_or(file);
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    for d in dir.ancestors() {
        if d.join(CONFIG_FILE).is_file() {
            return d.to_path_buf();
        }
    }
    folders
        .iter()
        .filter(|f| dir.starts_with(f))
        .max_by_key(|f| f.components().count())
        .cloned()
        .unwrap_or(dir)
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

/// Every environment below `root`, sorted (hidden entries and directory links skipped;
/// at most 10,000 entries are looked at).
pub(crate) fn environment_names(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut budget = 10_000usize;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if budget == 0 {
                break;
            }
            budget -= 1;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if let Some(name) = name_of(root, &path) {
                out.push(name);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The execution context: `[context]` of `<root>/escc.toml`, or an empty object. An
/// unreadable or invalid file gives the empty context and the reason.
pub(crate) fn read_context(root: &Path) -> (Value, Option<String>) {
    let empty = Value::new(ValueKind::Object(BTreeMap::new()));
    let file = root.join(CONFIG_FILE);
    let Ok(text) = std::fs::read_to_string(&file) else {
        return (empty, None);
    };
    let table = match toml::from_str::<toml::Table>(&text) {
        Ok(t) => t,
        Err(e) => {
            return (
                empty,
                Some(format!("{}: {}", file.display(), e.to_string().trim_end())),
            );
        }
    };
    let mut context = BTreeMap::new();
    if let Some(toml::Value::Table(t)) = table.get("context") {
        for (k, v) in t {
            if k != "currentEnvironment" && k != "rootEnvironment" {
                context.insert(k.clone(), from_toml(v));
            }
        }
    }
    (Value::new(ValueKind::Object(context)), None)
}

/// A TOML value as an execution-context value (as `escc check` converts it).
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

/// An I/O error's text without Rust's `(os error N)` suffix.
fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_refused_outside_the_root() {
        for bad in ["", "../x", "a/../b", "/etc/passwd", "a//b", "./a", "a\\b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        let host = WorkspaceHost::new(None, BTreeMap::new());
        let err = host.load_environment("../secrets").unwrap_err();
        assert!(err.contains("cannot contain . or .."), "{err}");
        let err = host.load_environment("/etc/passwd").unwrap_err();
        assert!(err.contains("cannot be absolute"), "{err}");
    }

    #[test]
    fn buffers_win_over_disk() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("app")).unwrap();
        std::fs::write(root.join("app/base.yaml"), "values: {a: disk}\n").unwrap();
        std::fs::write(root.join("other.yml"), "values: {b: 1}\n").unwrap();
        let mut buffers = BTreeMap::new();
        buffers.insert(
            "app/base".to_owned(),
            Served {
                text: Arc::from("values: {a: buffer}\n"),
                file: Some(root.join("app/base.yaml")),
            },
        );
        let host = WorkspaceHost::new(Some(root.clone()), buffers);
        assert_eq!(
            host.load_environment("app/base").unwrap(),
            "values: {a: buffer}\n"
        );
        assert_eq!(host.load_environment("other").unwrap(), "values: {b: 1}\n");
        let err = host.load_environment("missing").unwrap_err();
        assert_eq!(
            err,
            "environment \"missing\" not found: there is no missing.yaml or missing.yml in the project root"
        );
        assert_eq!(
            host.requested().into_iter().collect::<Vec<_>>(),
            ["app/base", "missing", "other"]
        );
        assert_eq!(host.served().len(), 2);
        assert_eq!(environment_names(&root), ["app/base", "other"]);
        assert_eq!(
            name_of(&root, &root.join("app/base.yaml")).as_deref(),
            Some("app/base")
        );
        assert_eq!(name_of(&root, &root.join("x.txt")), None);
        assert_eq!(host.file_of("other"), Some(root.join("other.yml")));
        assert!(host.provider("aws-login").is_ok());
        assert!(host.decrypt(b"x").is_err());
    }

    #[test]
    fn context_comes_from_the_project_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "[context.pulumi.user]\nlogin = \"alice\"\n",
        )
        .unwrap();
        let (ctx, err) = read_context(dir.path());
        assert!(err.is_none());
        assert_eq!(
            ctx.to_json(true).to_string(),
            r#"{"pulumi":{"user":{"login":"alice"}}}"#
        );
        std::fs::write(dir.path().join(CONFIG_FILE), "[[[").unwrap();
        assert!(read_context(dir.path()).1.is_some());
    }
}
