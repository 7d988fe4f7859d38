//! The file-system [`Host`]: environments are the files `<root>/<name>.yaml` (or `.yml`),
//! with an overlay of texts that win over the files (an editor's unsaved buffers).
//!
//! Each environment is read once per host, and every name asked for is remembered, so a
//! front end can tell what an evaluation read (to show excerpts, to mask secrets, to know
//! which changes affect a document).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use serde_json::json;

use super::git::{Pinned, Repo, short_hash, split_version};
use super::names::check_name;
use crate::eval::{
    Host, HostError, ParsedEnvironment, Provider, Registry, Rotator, SharedImports, Value,
};
use crate::providers::Catalog;

/// Environments are refused above this size (the parser's own limit would report them,
/// but reading a huge file first is already the harm).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// An environment's text and where it comes from.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Document {
    /// Its text.
    pub text: Arc<str>,
    /// The file it was read from (or, for an overlay, would be saved as), when known. A
    /// document read at a revision shows as `FILE@REV` (`base.yaml@v3`), which is no file.
    pub file: Option<PathBuf>,
    /// The revision it was read at (none: the working tree or an overlay).
    pub revision: Option<Pinned>,
}

impl Document {
    /// A document with the given text and file.
    #[must_use]
    pub fn new(text: impl Into<Arc<str>>, file: Option<PathBuf>) -> Self {
        Document {
            text: text.into(),
            file,
            revision: None,
        }
    }

    /// For a document read at a revision (environment `name`, versioned or not), a file an
    /// editor can open: its text written below `root` by [`super::git::write_snapshot`].
    /// `None` for a document of the working tree or an overlay.
    #[must_use]
    pub fn snapshot(&self, root: &Path, name: &str) -> Option<Result<PathBuf, String>> {
        let pinned = self.revision.as_ref()?;
        let name = name.split_once('@').map_or(name, |(n, _)| n);
        // Shown as `NAME.EXT@REV`.
        let shown = self.file.as_ref()?.file_name()?.to_str()?;
        let ext = shown
            .split_once('@')
            .map_or(shown, |(f, _)| f)
            .rsplit('.')
            .next()?;
        Some(super::git::write_snapshot(
            root,
            name,
            &pinned.commit,
            ext,
            &self.text,
        ))
    }
}

/// Environments from an overlay, else from the files below a project root.
pub struct FsHost {
    root: Option<PathBuf>,
    overlay: BTreeMap<String, Document>,
    read: Mutex<BTreeMap<String, Result<Document, HostError>>>,
    /// Each imported document's parse, made once for all the evaluations this host serves
    /// (a check of a whole project imports a shared base in every evaluation).
    parses: Mutex<BTreeMap<String, Arc<ParsedEnvironment>>>,
    /// The texts of each read document's `fn::secret` literals, found once.
    literals: Mutex<BTreeMap<String, Arc<[String]>>>,
    registry: Registry,
    /// The keys to decrypt age ciphertexts with.
    #[cfg(feature = "age")]
    identities: Option<Arc<crate::secrets::age::Identities>>,
    catalog: Option<Catalog>,
    /// The revision every environment named without `@` is read at (none: the working
    /// tree).
    pinned: Option<(Arc<Repo>, Pinned)>,
    /// The repository versioned names (`base@v3`) are read from, opened when first needed.
    repo: OnceLock<Result<Arc<Repo>, String>>,
    /// Each versioned name's revision, resolved once, with the environment whose revision
    /// it inherited (see [`Host::import_name`]).
    pins: Mutex<BTreeMap<String, Result<Inherited, String>>>,
    /// Where the providers being opened are listed, for a progress line.
    opening: Option<Arc<super::Opening>>,
    /// Imports' evaluations shared by the static checks this host serves.
    shared: Option<SharedImports>,
}

/// A versioned name's revision, and where it came from.
#[derive(Clone)]
struct Inherited {
    pinned: Pinned,
    /// For an unpinned import of a pinned environment: the importer (`base@v3`).
    from: Option<String>,
}

impl FsHost {
    /// A host over the directory `root` (canonical: symbolic links that leave it are
    /// refused), or over the overlay alone when `root` is `None`.
    #[must_use]
    pub fn new(root: Option<&Path>) -> Self {
        FsHost {
            root: root.map(Path::to_path_buf),
            overlay: BTreeMap::new(),
            read: Mutex::new(BTreeMap::new()),
            parses: Mutex::new(BTreeMap::new()),
            literals: Mutex::new(BTreeMap::new()),
            registry: Registry::default(),
            #[cfg(feature = "age")]
            identities: None,
            catalog: None,
            pinned: None,
            repo: OnceLock::new(),
            pins: Mutex::new(BTreeMap::new()),
            opening: None,
            shared: None,
        }
    }

    /// Reads every environment named without `@` at revision `pinned` of `repo` instead of
    /// the working tree: the whole import closure is read at that revision (an overlay
    /// still wins, and a pinned import reads its own revision).
    #[must_use]
    pub fn at_revision(mut self, repo: Arc<Repo>, pinned: Pinned) -> Self {
        let _ = self.repo.set(Ok(repo.clone()));
        self.pinned = Some((repo, pinned));
        self
    }

    /// The revision environments are read at, if not the working tree.
    #[must_use]
    pub fn revision(&self) -> Option<&Pinned> {
        self.pinned.as_ref().map(|(_, p)| p)
    }

    /// Decrypts age ciphertexts with `identities` (see [`super::keys`]). Without, a
    /// ciphertext cannot be decrypted (a check does not need to: it is a secret of unknown
    /// plaintext).
    #[cfg(feature = "age")]
    #[must_use]
    pub fn with_identities(mut self, identities: Arc<crate::secrets::age::Identities>) -> Self {
        self.identities = Some(identities);
        self
    }

    /// Offers the providers and rotators of `registry`. Those it lacks are stand-ins whose
    /// schemas accept anything (so a check shows their results as unknown, as the
    /// reference does) and which fail to open, naming themselves.
    #[must_use]
    pub fn with_registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// Looks for what the registry lacks in `catalog` (built-in providers and plugins)
    /// before standing in for it.
    #[must_use]
    pub fn with_catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = Some(catalog);
        self
    }

    /// Lists the providers being opened in `opening` while they run (their names only),
    /// for a front end's progress line.
    #[must_use]
    pub fn with_progress(mut self, opening: Arc<super::Opening>) -> Self {
        self.opening = Some(opening);
        self
    }

    /// Shares imports' evaluations between the static checks this host serves (see
    /// [`SharedImports`]): for a check of many environments, which imports the same ones.
    #[must_use]
    pub fn with_shared_imports(mut self) -> Self {
        self.shared = Some(SharedImports::new());
        self
    }

    /// Where the providers being opened are listed, if anywhere.
    #[must_use]
    pub fn progress(&self) -> Option<&Arc<super::Opening>> {
        self.opening.as_ref()
    }

    /// Serves `document` as environment `name` instead of its file.
    #[must_use]
    pub fn with_overlay(mut self, name: impl Into<String>, document: Document) -> Self {
        self.overlay.insert(name.into(), document);
        self
    }

    /// The root directory, if any.
    #[must_use]
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Reads environment `name`: the overlay, else its file (or returns the result of an
    /// earlier read).
    ///
    /// # Errors
    /// The name is invalid, the environment does not exist, is ambiguous, leaves the root
    /// through a symbolic link, is too large or is not UTF-8.
    pub fn read(&self, name: &str) -> Result<Document, HostError> {
        if let Some(r) = self.lock().get(name) {
            return r.clone();
        }
        let result = if let Some(d) = self.overlay.get(name) {
            Ok(d.clone())
        } else if name.contains('@') {
            self.read_versioned(name)
        } else {
            check_name(name)
                .map_err(HostError::failed)
                .and_then(|()| match &self.pinned {
                    Some((repo, pinned)) => self.read_pinned(repo, pinned, name, None),
                    None => self.read_file(name),
                })
        };
        self.lock().insert(name.to_owned(), result.clone());
        result
    }

    /// Every environment read successfully so far, by name.
    #[must_use]
    pub fn documents(&self) -> BTreeMap<String, Document> {
        self.lock()
            .iter()
            .filter_map(|(k, v)| v.as_ref().ok().map(|d| (k.clone(), d.clone())))
            .collect()
    }

    /// Every environment name asked for so far, read or not.
    #[must_use]
    pub fn requested(&self) -> BTreeSet<String> {
        self.lock().keys().cloned().collect()
    }

    /// The file of environment `name`, if exactly one of `.yaml`/`.yml` exists (an
    /// overlay's file counts even when it was never saved).
    #[must_use]
    pub fn file_of(&self, name: &str) -> Option<PathBuf> {
        let (name, None) = split_version(name).ok()? else {
            return None;
        };
        if let Some(f) = self.overlay.get(name).and_then(|d| d.file.clone()) {
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

    /// The texts of the `fn::secret` literals of environment `name` (as values and as
    /// written; see [`crate::secrets::literal_texts`]), if it has been read; each document
    /// is looked at once.
    pub(crate) fn literal_texts(&self, name: &str) -> Arc<[String]> {
        let cached = self
            .literals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned();
        if let Some(texts) = cached {
            return texts;
        }
        let Some(Ok(document)) = self.lock().get(name).cloned() else {
            return Arc::from([]);
        };
        let texts: Arc<[String]> =
            crate::secrets::literal_texts(&crate::Source::shared(name, document.text.clone()))
                .into();
        self.literals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), texts.clone());
        texts
    }

    /// Fails for a name the catalog knows nothing of (see [`Catalog::unknown`]); a host
    /// without a catalog offers stand-ins only.
    fn unknown(&self, kind: &str, name: &str) -> Result<(), HostError> {
        match self.catalog.as_ref().and_then(|c| c.unknown(kind, name)) {
            Some(message) => Err(HostError::not_found(message)),
            None => Ok(()),
        }
    }

    fn missing(&self, kind: &'static str, name: &str) -> Missing {
        let reason = match &self.catalog {
            Some(c) => c.missing_reason(kind, name),
            None => format!("this host offers no {kind}s"),
        };
        Missing {
            kind,
            name: name.to_owned(),
            reason,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Result<Document, HostError>>> {
        self.read.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads `NAME@REV`: `@latest` is the working tree; any other revision is read from
    /// git.
    fn read_versioned(&self, versioned: &str) -> Result<Document, HostError> {
        let (name, rev) = split_version(versioned).map_err(HostError::failed)?;
        if rev.is_none() {
            // The working tree, as an editor holds it.
            return match self.overlay.get(name) {
                Some(d) => Ok(d.clone()),
                None => self.read_file(name),
            };
        }
        let Inherited { pinned, from } = self.pin_of(versioned).map_err(HostError::failed)?;
        let repo = self.repo().map_err(HostError::failed)?;
        self.read_pinned(&repo, &pinned, name, from.as_deref())
    }

    /// The repository of the root, opened once.
    fn repo(&self) -> Result<Arc<Repo>, String> {
        self.repo
            .get_or_init(|| match &self.root {
                Some(root) => Repo::open(root).map(Arc::new),
                None => Err(
                    "versions (@REV) are read from git, and this document has no directory"
                        .to_owned(),
                ),
            })
            .clone()
    }

    /// The revision of `NAME@REV` (not `@latest`), resolved once.
    fn pin_of(&self, versioned: &str) -> Result<Inherited, String> {
        if let Some(known) = self.pins().get(versioned) {
            return known.clone();
        }
        let resolved = split_version(versioned).and_then(|(name, rev)| {
            let rev = rev.ok_or_else(|| format!("{versioned}: not a revision"))?;
            let pinned = self.repo()?.resolve(name, rev)?;
            Ok(Inherited { pinned, from: None })
        });
        self.pins()
            .entry(versioned.to_owned())
            .or_insert(resolved)
            .clone()
    }

    fn pins(&self) -> MutexGuard<'_, BTreeMap<String, Result<Inherited, String>>> {
        self.pins.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read_pinned(
        &self,
        repo: &Repo,
        pinned: &Pinned,
        name: &str,
        from: Option<&str>,
    ) -> Result<Document, HostError> {
        let rule = from.map_or_else(String::new, |from| {
            format!(
                " (the revision of {from}: an unpinned import of a pinned environment is read \
                 at the same revision; pin it to read another, e.g. {name}@latest)"
            )
        });
        let read = repo
            .read(name, pinned)
            .map_err(|e| HostError::failed(format!("{e}{rule}")))?;
        match read {
            Some((text, file)) => Ok(Document {
                text: Arc::from(text),
                file: Some(
                    self.root
                        .as_deref()
                        .unwrap_or(Path::new(""))
                        .join(format!("{file}@{}", pinned.rev)),
                ),
                revision: Some(pinned.clone()),
            }),
            None => Err(HostError::not_found(format!(
                "environment {name:?} not found at revision {}{rule}: there is no {name}.yaml \
                 or {name}.yml in the project root at that commit",
                pinned.rev
            ))),
        }
    }

    fn read_file(&self, name: &str) -> Result<Document, HostError> {
        let not_found = || {
            HostError::not_found(format!(
                "environment {name:?} not found: there is no {name}.yaml or {name}.yml in the project root"
            ))
        };
        self.read_existing_file(name)?.ok_or_else(not_found)
    }

    /// Reads the file of environment `name`; `None` when there is none.
    fn read_existing_file(&self, name: &str) -> Result<Option<Document>, HostError> {
        let Some(root) = &self.root else {
            return Ok(None);
        };
        let mut found = Vec::new();
        for ext in ["yaml", "yml"] {
            let file = root.join(format!("{name}.{ext}"));
            match std::fs::symlink_metadata(&file) {
                Ok(_) => found.push((file, format!("{name}.{ext}"))),
                // A path segment that is a file, not a directory.
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                    ) => {}
                Err(e) => {
                    return Err(HostError::failed(format!(
                        "cannot read {name}.{ext}: {}",
                        io_text(&e)
                    )));
                }
            }
        }
        let (file, shown) = match found.len() {
            0 => return Ok(None),
            1 => found.remove(0),
            _ => {
                return Err(HostError::failed(format!(
                    "environment {name:?} is ambiguous: both {name}.yaml and {name}.yml exist"
                )));
            }
        };
        let canonical = std::fs::canonicalize(&file).map_err(|e| {
            HostError::failed(format!(
                "cannot read {shown}: {} (a symbolic link to a missing file?)",
                io_text(&e)
            ))
        })?;
        if !canonical.starts_with(root) {
            return Err(HostError::failed(format!(
                "refusing to read {shown}: it is a symbolic link to a file outside the project root"
            )));
        }
        let cannot_read =
            |e: &std::io::Error| HostError::failed(format!("cannot read {shown}: {}", io_text(e)));
        let meta = std::fs::metadata(&canonical).map_err(|e| cannot_read(&e))?;
        if !meta.is_file() {
            return Err(HostError::failed(format!(
                "cannot read {shown}: not a regular file"
            )));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(HostError::failed(format!(
                "cannot read {shown}: it is {} bytes, and escc reads environments up to 16 MiB",
                meta.len()
            )));
        }
        let bytes = std::fs::read(&canonical).map_err(|e| cannot_read(&e))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // Everything before the byte is UTF-8, so its lines and characters count.
            let before = std::str::from_utf8(valid).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
                .chars()
                .count()
                + 1;
            HostError::failed(format!(
                "cannot read {shown}: it is not UTF-8 text (invalid byte at line {line}, column {column})"
            ))
        })?;
        Ok(Some(Document {
            text: Arc::from(text),
            file: Some(file),
            revision: None,
        }))
    }
}

impl Host for FsHost {
    fn load_environment(&self, name: &str) -> Result<String, HostError> {
        self.read(name).map(|d| d.text.to_string())
    }

    /// Kept by name, and used only for the same text and limits (an overlay or another
    /// caller's limits parse afresh).
    fn parse(&self, name: &str, text: &str, limits: &crate::Limits) -> Arc<ParsedEnvironment> {
        let kept = || self.parses.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = kept().get(name).filter(|p| p.is_of(text, limits)) {
            return p.clone();
        }
        // Parsed outside the lock: other threads' evaluations go on meanwhile (two may
        // parse the same document at once; both parses are the same).
        let fresh = Arc::new(ParsedEnvironment::new(name, text, limits));
        kept().insert(name.to_owned(), fresh.clone());
        fresh
    }

    // Each environment is read once (`read`), so its text is the same for every check.
    fn shared_imports(&self) -> Option<&SharedImports> {
        self.shared.as_ref()
    }

    /// An unpinned import of a pinned environment is read at the importer's revision: the
    /// whole import closure of `base@v3` is read at `base@v3`'s commit, and named by it
    /// (`common@<commit>`: a revision number or an environment tag of `base` would mean
    /// something else for `common`). Under a pinned `@latest` (the working tree) in a host
    /// pinned by the command line, an unpinned import is `@latest` too.
    fn import_name(&self, importer: &str, name: &str) -> String {
        if name.contains('@') {
            return name.to_owned();
        }
        let Some((_, rev)) = importer.split_once('@') else {
            return name.to_owned();
        };
        if rev == "latest" {
            return if self.pinned.is_some() {
                format!("{name}@latest")
            } else {
                name.to_owned()
            };
        }
        // An importer whose revision cannot be resolved was not read, so nothing it
        // imports is asked for; its name is kept if it ever is.
        let Ok(Inherited { pinned, .. }) = self.pin_of(importer) else {
            return name.to_owned();
        };
        let key = format!("{name}@{}", pinned.commit);
        self.pins().entry(key.clone()).or_insert_with(|| {
            Ok(Inherited {
                pinned: Pinned::new(short_hash(&pinned.commit), &pinned.commit),
                from: Some(importer.to_owned()),
            })
        });
        key
    }

    fn provider(&self, name: &str) -> Result<Arc<dyn Provider>, HostError> {
        let provider = if let Some(p) = self.registry.provider(name) {
            p
        } else if let Some(found) = self.catalog.as_ref().and_then(|c| c.provider(name)) {
            found?
        } else {
            self.unknown("provider", name)?;
            Arc::new(self.missing("provider", name))
        };
        Ok(match &self.opening {
            Some(opening) => Arc::new(super::progress::Tracked {
                name: name.to_owned(),
                provider,
                opening: opening.clone(),
            }),
            None => provider,
        })
    }

    fn rotator(&self, name: &str) -> Result<Arc<dyn Rotator>, HostError> {
        if let Some(r) = self.registry.rotator(name) {
            return Ok(r);
        }
        if let Some(found) = self.catalog.as_ref().and_then(|c| c.rotator(name)) {
            return found;
        }
        self.unknown("rotator", name)?;
        Ok(Arc::new(self.missing("rotator", name)))
    }

    fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, HostError> {
        if !ciphertext.starts_with(crate::secrets::envelope::AGE_MAGIC) {
            return Err(HostError::unavailable(
                "this is ESC's ciphertext, encrypted with a key the Pulumi service holds; escc \
                 cannot decrypt it (set the value again with `escc secret set` to encrypt it with age)",
            ));
        }
        #[cfg(feature = "age")]
        if let Some(ids) = &self.identities {
            return crate::secrets::age::decrypt(ids, ciphertext).map_err(HostError::failed);
        }
        Err(HostError::unavailable(
            "no age identity to decrypt with: set ESCC_AGE_IDENTITY_FILE (or ESCC_AGE_IDENTITY, \
             or put one in ~/.config/escc/identity.txt)",
        ))
    }
}

/// A provider or rotator escc does not have. Its schemas accept anything, so a check shows
/// its result as unknown (as the reference does); opening it fails with a message naming
/// it (the diagnostic carries the document path).
struct Missing {
    kind: &'static str,
    name: String,
    reason: String,
}

impl Missing {
    fn error(&self) -> String {
        format!(
            "{} {:?} is not available: {}",
            self.kind, self.name, self.reason
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
        // The state is an object: the evaluator checks it against this schema or null,
        // exactly one of them, so "anything" would refuse a call without a state.
        (json!(true), json!({"type": "object"}), json!(true))
    }

    fn open(&self, _: &Value, _: Option<&Value>, _: &Value) -> Result<Value, String> {
        Err(self.error())
    }

    fn rotate(&self, _: &Value, _: Option<&Value>, _: &Value) -> Result<Value, String> {
        Err(self.error())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::HostErrorKind;

    #[test]
    fn a_parse_is_kept_for_the_same_text_and_limits_only() {
        let host = FsHost::new(None);
        let limits = crate::Limits::default();
        let text = "values:\n  a: ${b}\n  b: 1\n";
        let first = host.parse("app/base", text, &limits);
        assert!(first.decl.is_some() && first.diags.is_empty());
        assert!(Arc::ptr_eq(&first, &host.parse("app/base", text, &limits)));
        // Another text (an edited overlay) or other limits are parsed afresh.
        let edited = host.parse("app/base", "values: [", &limits);
        assert!(!Arc::ptr_eq(&first, &edited));
        assert!(edited.diags.iter().any(crate::Diagnostic::is_error));
        let small = crate::Limits {
            max_nodes: 2,
            ..limits
        };
        let limited = host.parse("app/base", text, &small);
        assert!(!Arc::ptr_eq(&edited, &limited));
        assert!(limited.diags.iter().any(crate::Diagnostic::is_error));
        // Kept by name: another environment with the same text is its own parse.
        assert!(!Arc::ptr_eq(
            &host.parse("app/base", text, &limits),
            &host.parse("app/other", text, &limits)
        ));
    }

    #[test]
    fn names_are_refused_outside_the_root() {
        let host = FsHost::new(None);
        let err = host.load_environment("../secrets").unwrap_err();
        assert!(err.message().contains("cannot contain . or .."), "{err}");
        assert_eq!(err.kind(), HostErrorKind::Failed);
        let err = host.load_environment("/etc/passwd").unwrap_err();
        assert!(err.message().contains("cannot be absolute"), "{err}");
    }

    #[test]
    fn the_overlay_wins_over_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("app")).unwrap();
        std::fs::write(root.join("app/base.yaml"), "values: {a: disk}\n").unwrap();
        std::fs::write(root.join("other.yml"), "values: {b: 1}\n").unwrap();
        let host = FsHost::new(Some(&root)).with_overlay(
            "app/base",
            Document::new("values: {a: buffer}\n", Some(root.join("app/base.yaml"))),
        );
        assert_eq!(
            host.load_environment("app/base").unwrap(),
            "values: {a: buffer}\n"
        );
        assert_eq!(host.load_environment("other").unwrap(), "values: {b: 1}\n");
        let err = host.load_environment("missing").unwrap_err();
        assert_eq!(err.kind(), HostErrorKind::NotFound);
        assert_eq!(
            err.message(),
            "environment \"missing\" not found: there is no missing.yaml or missing.yml in the project root"
        );
        assert_eq!(
            host.requested().into_iter().collect::<Vec<_>>(),
            ["app/base", "missing", "other"]
        );
        assert_eq!(host.documents().len(), 2);
        assert_eq!(host.file_of("other"), Some(root.join("other.yml")));
        assert!(host.provider("aws-login").is_ok());
        assert!(host.decrypt(b"x").is_err());
    }

    #[test]
    fn invalid_utf8_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::write(root.join("bad.yaml"), b"values:\n  a: \xff\n").unwrap();
        let err = FsHost::new(Some(&root)).read("bad").unwrap_err();
        assert_eq!(
            err.message(),
            "cannot read bad.yaml: it is not UTF-8 text (invalid byte at line 2, column 6)"
        );
    }

    struct Fixed;

    impl Provider for Fixed {
        fn schema(&self) -> (serde_json::Value, serde_json::Value) {
            (json!(true), json!({"type": "string"}))
        }

        fn open(&self, _: &Value, _: &Value) -> Result<Value, String> {
            Ok(Value::string("opened"))
        }
    }

    #[test]
    fn providers_come_from_the_registry_and_stand_ins_name_themselves() {
        let host = FsHost::new(None)
            .with_registry(Registry::new().with_provider("fixed", Fixed))
            .with_overlay(
                "app",
                Document::new(
                    "values:\n  a:\n    fn::open::fixed: {}\n  b:\n    fn::open::absent: {}\n",
                    None,
                ),
            );
        let empty = Value::object([]);
        let fixed = host.provider("fixed").unwrap();
        assert_eq!(fixed.open(&empty, &empty).unwrap(), Value::string("opened"));
        let absent = host.provider("absent").unwrap();
        assert_eq!(
            absent.open(&empty, &empty).unwrap_err(),
            "provider \"absent\" is not available: this host offers no providers"
        );
        let project = crate::project::Project::detached();
        let checked = project.evaluate(&host, "app").unwrap();
        assert_eq!(checked.values_json(true)["a"], "opened");
        let codes: Vec<&str> = checked.diags.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["provider-failed"], "{:?}", checked.diags);
    }
}
