//! The command line's [`Host`]: environments are files below the project root; escc has no
//! providers, rotators or key management yet, and says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::json;

use super::project::io_text;
use crate::eval::{Host, Provider, Rotator, Value};
use crate::names::check_name;

/// Environments are refused above this size (the parser's own limit would report them,
/// but reading a huge file first is already the harm).
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One environment file that was read.
#[derive(Clone, Debug)]
pub(crate) struct Doc {
    /// The file, absolute (as found, not canonicalized).
    pub(crate) file: PathBuf,
    /// Its text.
    pub(crate) text: Arc<str>,
}

/// Environments from `<root>/<name>.yaml` (or `.yml`), read once each.
pub(crate) struct FileHost {
    root: PathBuf,
    docs: Mutex<BTreeMap<String, Result<Doc, String>>>,
    missing: Mutex<BTreeMap<String, &'static Missing>>,
}

impl FileHost {
    /// A host over the canonical directory `root`.
    pub(crate) fn new(root: &Path) -> Self {
        FileHost {
            root: root.to_path_buf(),
            docs: Mutex::new(BTreeMap::new()),
            missing: Mutex::new(BTreeMap::new()),
        }
    }

    /// Reads environment `name` (or returns the cached result).
    pub(crate) fn read(&self, name: &str) -> Result<Doc, String> {
        if let Some(r) = self.lock().get(name) {
            return r.clone();
        }
        let result = self.read_uncached(name);
        self.lock().insert(name.to_owned(), result.clone());
        result
    }

    /// Every environment read successfully so far.
    pub(crate) fn documents(&self) -> BTreeMap<String, Doc> {
        self.lock()
            .iter()
            .filter_map(|(k, v)| v.as_ref().ok().map(|d| (k.clone(), d.clone())))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Result<Doc, String>>> {
        self.docs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read_uncached(&self, name: &str) -> Result<Doc, String> {
        check_name(name)?;
        let mut found = Vec::new();
        for ext in ["yaml", "yml"] {
            let file = self.root.join(format!("{name}.{ext}"));
            match std::fs::symlink_metadata(&file) {
                Ok(_) => found.push((file, format!("{name}.{ext}"))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                // A path segment that is a file, not a directory.
                Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {}
                Err(e) => return Err(format!("cannot read {name}.{ext}: {}", io_text(&e))),
            }
        }
        let (file, shown) = match found.len() {
            0 => {
                return Err(format!(
                    "environment {name:?} not found: there is no {name}.yaml or {name}.yml in the project root"
                ));
            }
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
        if !canonical.starts_with(&self.root) {
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
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // Everything before the byte is UTF-8, so its lines and characters count.
            let before = std::str::from_utf8(valid).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
                .chars()
                .count()
                + 1;
            format!(
                "cannot read {shown}: it is not UTF-8 text (invalid byte at line {line}, column {column})"
            )
        })?;
        Ok(Doc {
            file,
            text: Arc::from(text),
        })
    }

    /// The stand-in for a provider or rotator escc does not have.
    fn missing(&self, kind: &'static str, name: &str) -> &'static Missing {
        let mut map = self.missing.lock().unwrap_or_else(PoisonError::into_inner);
        let key = format!("{kind}:{name}");
        if let Some(m) = map.get(&key) {
            return m;
        }
        // One small allocation per distinct provider name for the life of the process:
        // the `Host` trait hands out references, and the set of names is bounded by the
        // documents read.
        let m: &'static Missing = Box::leak(Box::new(Missing {
            kind,
            name: name.to_owned(),
        }));
        map.insert(key, m);
        m
    }
}

impl Host for FileHost {
    fn load_environment(&self, name: &str) -> Result<String, String> {
        self.read(name).map(|d| d.text.to_string())
    }

    fn provider(&self, name: &str) -> Result<&dyn Provider, String> {
        Ok(self.missing("provider", name))
    }

    fn rotator(&self, name: &str) -> Result<&dyn Rotator, String> {
        Ok(self.missing("rotator", name))
    }

    fn decrypt(&self, _ciphertext: &[u8]) -> Result<Vec<u8>, String> {
        Err("escc cannot decrypt ciphertext secrets yet: it has no key management".to_owned())
    }
}

/// A provider or rotator escc does not have. Its schemas accept anything, so `check` and
/// `get` show its result as unknown (as the reference does); opening it fails with a
/// message naming it (the diagnostic carries the document path).
pub(crate) struct Missing {
    kind: &'static str,
    name: String,
}

impl Missing {
    fn error(&self) -> String {
        format!(
            "{} {:?} is not available: escc has no {}s yet",
            self.kind, self.name, self.kind
        )
    }
}

impl Provider for Missing {
    fn schema(&self) -> (serde_json::Value, serde_json::Value) {
        (json!(true), json!(true))
    }

    fn open(&self, _inputs: &Value, _context: &Value) -> Result<Value, String> {
        Err(self.error())
    }
}

impl Rotator for Missing {
    fn schema(&self) -> (serde_json::Value, serde_json::Value, serde_json::Value) {
        (json!(true), json!(true), json!(true))
    }

    fn open(&self, _: &Value, _: Option<&Value>, _: &Value) -> Result<Value, String> {
        Err(self.error())
    }

    fn rotate(&self, _: &Value, _: Option<&Value>, _: &Value) -> Result<Value, String> {
        Err(self.error())
    }
}
