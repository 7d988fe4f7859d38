//! The protocol side: open documents and the request handlers. The check queue and the
//! second stages are `scheduler`'s.
//!
//! Requests that need a check of the current text (hover, definition) wait for the
//! worker's, or run one themselves when none is coming, and leave it for the worker to
//! publish; either way its second stage runs at once, without waiting for the edits to
//! pause. Completion reads the current text and the last check that has a second stage,
//! so it never waits.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, CompletionParams, CompletionResponse,
    CompletionTextEdit, Diagnostic as LspDiagnostic, DiagnosticSeverity,
    DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidChangeWatchedFilesRegistrationOptions, DidChangeWorkspaceFoldersParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    DocumentSymbolParams, DocumentSymbolResponse, Documentation, FileSystemWatcher, GlobPattern,
    GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams,
    HoverProviderCapability, InitializeParams, InitializeResult, InitializedParams, Location,
    MarkupContent, MarkupKind, NumberOrString, OneOf, Range, Registration, SaveOptions,
    ServerCapabilities, ServerInfo, SignatureHelp, SignatureHelpOptions, SignatureHelpParams,
    SignatureInformation, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, TextEdit, Uri,
    WorkspaceFoldersServerCapabilities, WorkspaceServerCapabilities,
};
use tower_lsp_server::{Client, LanguageServer};

use super::analysis::{Analysis, second_stage};
use super::completion::{self, ItemKind};
use super::convert::{Encoding, LineMap, apply_change};
use super::definition::{Target, definition};
use super::host::{canonical_file, name_of, root_of};
use super::scheduler::{self, Job, Snapshot, keep_good};
use super::{hover, signature, symbols};
use crate::project::Document;
use crate::{Diagnostic, Severity, Source};

/// An open document.
pub(super) struct Doc {
    /// Its file (directory canonical), for `file:` documents.
    pub(super) file: Option<PathBuf>,
    /// Its project root.
    pub(super) root: Option<PathBuf>,
    /// Its environment name.
    pub(super) name: String,
    pub(super) text: String,
    pub(super) version: i32,
    /// Bumped on every change of the document or of anything its check read.
    pub(super) generation: u64,
    /// The latest check, and the generation it was made for.
    pub(super) analysis: Option<(u64, Arc<Analysis>)>,
    /// The latest check whose second stage is done (for completion).
    pub(super) good: Option<(u64, Arc<Analysis>)>,
    /// The generation the worker is checking.
    pub(super) in_flight: Option<u64>,
    /// The generation whose diagnostics were published.
    pub(super) published: Option<u64>,
    pub(super) queued: bool,
}

/// The open documents and the check queue.
#[derive(Default)]
pub(super) struct State {
    pub(super) encoding: Option<Encoding>,
    pub(super) folders: Vec<PathBuf>,
    /// Whether the client lets the server register file watchers.
    pub(super) can_watch: bool,
    pub(super) docs: BTreeMap<Uri, Doc>,
    pub(super) queue: VecDeque<Uri>,
}

impl State {
    pub(super) fn encoding(&self) -> Encoding {
        self.encoding.unwrap_or(Encoding::Utf16)
    }

    /// What a check of environments below `root` reads from the editor: the open buffers.
    pub(super) fn snapshot(&self, root: Option<&Path>) -> Snapshot {
        let mut buffers = BTreeMap::new();
        for d in self.docs.values() {
            if d.root.as_deref() != root {
                continue;
            }
            let name = match (root, &d.file) {
                (Some(r), Some(f)) => name_of(r, f),
                _ => Some(d.name.clone()),
            };
            if let Some(name) = name {
                buffers.insert(name, Document::new(d.text.as_str(), d.file.clone()));
            }
        }
        Snapshot {
            root: root.map(Path::to_path_buf),
            buffers,
        }
    }

    /// The URI to show for `file`: the open document's, else a `file:` URI.
    fn uri_of(&self, file: &Path) -> Option<Uri> {
        self.docs
            .iter()
            .find(|(_, d)| d.file.as_deref() == Some(file))
            .map(|(u, _)| u.clone())
            .or_else(|| Uri::from_file_path(file))
    }
}

/// The language server.
pub(crate) struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
    wake: Arc<Notify>,
    /// Signalled whenever a check is stored or its second stage is done.
    analyzed: Arc<Notify>,
    /// Runs an awaited second stage at once.
    hurry: scheduler::Hurry,
}

pub(super) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Backend {
    /// A server talking to `client`; starts the check worker.
    pub(crate) fn new(client: Client) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let wake = Arc::new(Notify::new());
        let analyzed = Arc::new(Notify::new());
        let hurry = scheduler::start(&client, &state, &wake, &analyzed);
        Backend {
            client,
            state,
            wake,
            analyzed,
            hurry,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// A check of the current generation of `uri` with its second stage done: the
    /// worker's (waiting for it when it is coming), else a new one (stored for the worker
    /// to publish).
    async fn fresh(&self, uri: &Uri) -> Option<(Arc<Analysis>, Snapshot)> {
        enum Next {
            Have(Arc<Analysis>),
            Wait,
            Run(Job),
        }
        for attempt in 0..4 {
            let notified = self.analyzed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (next, snapshot) = {
                let state = self.lock();
                let doc = state.docs.get(uri)?;
                let snapshot = state.snapshot(doc.root.as_deref());
                let next = match &doc.analysis {
                    Some((g, a)) if *g == doc.generation => Next::Have(a.clone()),
                    _ if attempt < 3 && (doc.queued || doc.in_flight == Some(doc.generation)) => {
                        Next::Wait
                    }
                    _ => Next::Run(state.job(uri)?),
                };
                (next, snapshot)
            };
            match next {
                Next::Have(a) => {
                    if a.typed.get().is_none() {
                        self.hurry.hurry(&a);
                        let waiting = a.clone();
                        tokio::task::spawn_blocking(move || {
                            waiting.typed.wait();
                        })
                        .await
                        .ok()?;
                    }
                    // Without a second stage (the document changed meanwhile), look again.
                    if a.typed().is_some() || attempt == 3 {
                        return Some((a, snapshot));
                    }
                }
                Next::Wait => {
                    let _ = tokio::time::timeout(Duration::from_secs(5), notified).await;
                }
                Next::Run(job) => {
                    let generation = job.generation;
                    let analysis = tokio::task::spawn_blocking(move || {
                        let (analysis, evaluation) = job.run();
                        second_stage(&analysis, evaluation);
                        analysis
                    })
                    .await
                    .ok()?;
                    {
                        let mut state = self.lock();
                        if let Some(doc) = state.docs.get_mut(uri)
                            && doc.generation == generation
                        {
                            doc.analysis = Some((generation, analysis.clone()));
                            // For the worker to publish.
                            if !doc.queued {
                                doc.queued = true;
                                state.queue.push_back(uri.clone());
                            }
                        }
                    }
                    keep_good(&self.state, uri, generation, &analysis);
                    self.wake();
                    return Some((analysis, snapshot));
                }
            }
        }
        None
    }

    fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The document's diagnostics in the protocol's form.
pub(super) fn lsp_diagnostics(a: &Analysis, enc: Encoding) -> Vec<LspDiagnostic> {
    a.diags.iter().map(|d| lsp_diagnostic(a, d, enc)).collect()
}

fn lsp_diagnostic(a: &Analysis, d: &Diagnostic, enc: Encoding) -> LspDiagnostic {
    let text = a.source.text();
    let range = d
        .span
        .map_or_else(Range::default, |s| a.lines.range(text, s, enc));
    let mut message = d.summary.clone();
    if !d.detail.is_empty() {
        message.push('\n');
        message.push_str(&d.detail);
    }
    LspDiagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_owned())),
        source: Some("escc".to_owned()),
        message,
        ..LspDiagnostic::default()
    }
}

/// The file to show for environment `env`, which the check of `a` read: its own, or for
/// one read at a revision (`base@v3`), its snapshot below the project root (written now).
fn file_to_open(a: &Analysis, root: Option<&Path>, env: &str) -> Option<PathBuf> {
    let served = &a.others.get(env)?.served;
    if let Some(root) = root
        && let Some(snapshot) = served.snapshot(root, env)
    {
        return snapshot.ok();
    }
    served.file.clone()
}

/// Where an open document lives: its file, project root and environment name.
fn place_document(uri: &Uri, folders: &[PathBuf]) -> (Option<PathBuf>, Option<PathBuf>, String) {
    let is_file = uri.scheme().as_str().eq_ignore_ascii_case("file");
    if is_file && let Some(path) = uri.to_file_path() {
        let file = canonical_file(&path);
        let root = root_of(&file, folders);
        let name = name_of(&root, &file).unwrap_or_else(|| stem(&file));
        return (Some(file), Some(root), name);
    }
    let path = uri.path().to_string();
    let last = path.rsplit('/').next().unwrap_or("");
    let name = Path::new(last)
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("untitled")
        .to_owned();
    (None, folders.first().cloned(), name)
}

fn stem(file: &Path) -> String {
    file.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("untitled")
        .to_owned()
}

fn folder_paths(params: &InitializeParams) -> Vec<PathBuf> {
    let mut uris: Vec<Uri> = params
        .workspace_folders
        .iter()
        .flatten()
        .map(|f| f.uri.clone())
        .collect();
    if uris.is_empty() {
        #[allow(deprecated)] // Older clients only send the root URI.
        uris.extend(params.root_uri.clone());
    }
    let mut paths: Vec<PathBuf> = uris
        .iter()
        .filter_map(|u| u.to_file_path().map(std::borrow::Cow::into_owned))
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
        .collect();
    if paths.is_empty() {
        #[allow(deprecated)] // Older clients only send the root path.
        if let Some(p) = &params.root_path {
            let p = PathBuf::from(p);
            paths.push(std::fs::canonicalize(&p).unwrap_or(p));
        }
    }
    paths
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let encoding = Encoding::negotiate(
            params
                .capabilities
                .general
                .as_ref()
                .and_then(|g| g.position_encodings.as_deref()),
        );
        {
            let mut state = self.lock();
            state.encoding = Some(encoding);
            state.folders = folder_paths(&params);
            state.can_watch = params
                .capabilities
                .workspace
                .as_ref()
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                == Some(true);
        }
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(encoding.kind()),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                            include_text: Some(false),
                        })),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                signature_help_provider: Some(SignatureHelpOptions {
                    trigger_characters: Some(vec![":".to_owned(), " ".to_owned()]),
                    ..SignatureHelpOptions::default()
                }),
                definition_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(
                        ["{", ".", "[", "\"", ":", "-", " "]
                            .iter()
                            .map(|s| (*s).to_owned())
                            .collect(),
                    ),
                    ..CompletionOptions::default()
                }),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "escc".to_owned(),
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        // Watch environment files and project files on disk, so importers of a file that
        // changes outside the editor are checked again (when the client can).
        if !self.lock().can_watch {
            return;
        }
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: ["**/*.yaml", "**/*.yml", "**/escc.toml"]
                .iter()
                .map(|g| FileSystemWatcher {
                    glob_pattern: GlobPattern::String((*g).to_owned()),
                    kind: None,
                })
                .collect(),
        };
        let registration = Registration {
            id: "escc-watch-environments".to_owned(),
            method: "workspace/didChangeWatchedFiles".to_owned(),
            register_options: serde_json::to_value(options).ok(),
        };
        let _ = self.client.register_capability(vec![registration]).await;
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        {
            let mut state = self.lock();
            let (file, root, name) = place_document(&doc.uri, &state.folders);
            state.docs.insert(
                doc.uri.clone(),
                Doc {
                    file,
                    root: root.clone(),
                    name: name.clone(),
                    text: doc.text,
                    version: doc.version,
                    generation: 0,
                    analysis: None,
                    good: None,
                    in_flight: None,
                    published: None,
                    queued: false,
                },
            );
            state.touch(&doc.uri);
            state.touch_importers(root.as_deref(), &name, &doc.uri);
        }
        self.wake();
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        {
            let mut state = self.lock();
            let enc = state.encoding();
            let Some(doc) = state.docs.get_mut(&uri) else {
                return;
            };
            for change in &params.content_changes {
                apply_change(&mut doc.text, change.range, &change.text, enc);
            }
            doc.version = params.text_document.version;
            let (root, name) = (doc.root.clone(), doc.name.clone());
            state.touch(&uri);
            state.touch_importers(root.as_deref(), &name, &uri);
        }
        self.wake();
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let uri = params.text_document.uri;
        {
            let mut state = self.lock();
            if let Some(text) = params.text
                && let Some(doc) = state.docs.get_mut(&uri)
            {
                doc.text = text;
            }
            let Some(doc) = state.docs.get(&uri) else {
                return;
            };
            let (root, name) = (doc.root.clone(), doc.name.clone());
            state.touch(&uri);
            state.touch_importers(root.as_deref(), &name, &uri);
        }
        self.wake();
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        {
            let mut state = self.lock();
            let Some(doc) = state.docs.remove(&uri) else {
                return;
            };
            // Importers now read the file on disk.
            state.touch_importers(doc.root.as_deref(), &doc.name, &uri);
        }
        self.wake();
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        {
            let mut state = self.lock();
            for change in &params.changes {
                let Some(path) = change.uri.to_file_path() else {
                    continue;
                };
                let file = canonical_file(&path);
                let is_config = file
                    .file_name()
                    .is_some_and(|n| n == crate::project::CONFIG_FILE);
                let uris: Vec<(Uri, Option<PathBuf>)> = state
                    .docs
                    .iter()
                    .map(|(u, d)| (u.clone(), d.root.clone()))
                    .collect();
                for (uri, root) in uris {
                    let Some(root) = root else { continue };
                    if is_config {
                        if file.parent() == Some(root.as_path()) {
                            state.touch(&uri);
                        }
                        continue;
                    }
                    let Some(name) = name_of(&root, &file) else {
                        continue;
                    };
                    // An open document's buffer wins over its file.
                    let open = state
                        .docs
                        .values()
                        .any(|d| d.file.as_deref() == Some(&*file));
                    let reads = state.docs.get(&uri).is_some_and(|d| {
                        d.analysis
                            .as_ref()
                            .is_some_and(|(_, a)| a.depends_on.contains(&name))
                    });
                    if reads && !open {
                        state.touch(&uri);
                    }
                }
            }
        }
        self.wake();
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        let mut state = self.lock();
        let path_of = |u: &Uri| {
            u.to_file_path()
                .map(|p| std::fs::canonicalize(&p).unwrap_or_else(|_| p.into_owned()))
        };
        let removed: Vec<PathBuf> = params
            .event
            .removed
            .iter()
            .filter_map(|f| path_of(&f.uri))
            .collect();
        state.folders.retain(|f| !removed.contains(f));
        for f in &params.event.added {
            if let Some(p) = path_of(&f.uri)
                && !state.folders.contains(&p)
            {
                state.folders.push(p);
            }
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let uri = params.text_document_position_params.text_document.uri;
        let pos = params.text_document_position_params.position;
        let Some((analysis, snapshot)) = self.fresh(&uri).await else {
            return Ok(None);
        };
        let enc = self.lock().encoding();
        let a = analysis.clone();
        let found = tokio::task::spawn_blocking(move || {
            let text = a.source.text();
            let offset = a.lines.offset(text, pos, enc);
            let others = |name: &str| snapshot.evaluation_of(name);
            hover::hover(&a, offset, &others)
                .map(|h| (h.markdown, a.lines.range(text, h.span, enc)))
        })
        .await
        .ok()
        .flatten();
        Ok(found.map(|(markdown, range)| Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: markdown,
            }),
            range: Some(range),
        }))
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let uri = params.text_document_position_params.text_document.uri;
        let pos = params.text_document_position_params.position;
        let Some((a, snapshot)) = self.fresh(&uri).await else {
            return Ok(None);
        };
        let enc = self.lock().encoding();
        let offset = a.lines.offset(a.source.text(), pos, enc);
        let Some((_, target)) = definition(&a, offset) else {
            return Ok(None);
        };
        let location = match target {
            Target::Place { env, span } => {
                let Some((text, lines)) = a.text_of(&env) else {
                    return Ok(None);
                };
                let range = lines.range(text, span, enc);
                let target_uri = if env == a.source.name() {
                    Some(uri.clone())
                } else {
                    let file = file_to_open(&a, snapshot.root.as_deref(), &env);
                    file.and_then(|f| self.lock().uri_of(&f))
                };
                target_uri.map(|u| Location::new(u, range))
            }
            Target::File { name } => {
                let file = file_to_open(&a, snapshot.root.as_deref(), &name).or_else(|| {
                    let project = snapshot.project();
                    snapshot.host(&project).file_of(&name)
                });
                file.and_then(|f| self.lock().uri_of(&f))
                    .map(|u| Location::new(u, Range::default()))
            }
        };
        Ok(location.map(GotoDefinitionResponse::Scalar))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let uri = params.text_document_position.text_document.uri;
        let pos = params.text_document_position.position;
        let (text, name, mut good, snapshot, enc) = {
            let state = self.lock();
            let Some(doc) = state.docs.get(&uri) else {
                return Ok(None);
            };
            (
                doc.text.clone(),
                doc.name.clone(),
                doc.good.as_ref().map(|(_, a)| a.clone()),
                state.snapshot(doc.root.as_deref()),
                state.encoding(),
            )
        };
        if good.is_none() {
            // No typed environment yet (just opened): wait for the first one, briefly.
            good = tokio::time::timeout(Duration::from_secs(3), self.fresh(&uri))
                .await
                .ok()
                .flatten()
                .map(|(a, _)| a)
                .filter(|a| a.typed().is_some());
        }
        let items = tokio::task::spawn_blocking(move || {
            let lines = LineMap::new(&text);
            let offset = lines.offset(&text, pos, enc);
            let environments = || snapshot.environments();
            let others = |n: &str| snapshot.evaluation_of(n);
            let providers = || snapshot.providers();
            let data = completion::Data {
                name: &name,
                analysis: good.as_deref(),
                environments: &environments,
                others: &others,
                providers: &providers,
            };
            completion::complete(&text, offset, &data)
                .into_iter()
                .enumerate()
                .map(|(i, item)| completion_item(&text, &lines, enc, i, item))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        Ok(Some(CompletionResponse::Array(items)))
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        let uri = params.text_document_position_params.text_document.uri;
        let pos = params.text_document_position_params.position;
        let (text, enc) = {
            let state = self.lock();
            let Some(doc) = state.docs.get(&uri) else {
                return Ok(None);
            };
            (doc.text.clone(), state.encoding())
        };
        let lines = LineMap::new(&text);
        let offset = lines.offset(&text, pos, enc);
        Ok(
            signature::signature_at(&text, offset).map(|s| SignatureHelp {
                signatures: vec![SignatureInformation {
                    label: s.label.to_owned(),
                    documentation: Some(Documentation::MarkupContent(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: s.documentation,
                    })),
                    parameters: None,
                    active_parameter: None,
                }],
                active_signature: Some(0),
                active_parameter: None,
            }),
        )
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let (text, enc) = {
            let state = self.lock();
            let Some(doc) = state.docs.get(&params.text_document.uri) else {
                return Ok(None);
            };
            (doc.text.clone(), state.encoding())
        };
        let symbols = tokio::task::spawn_blocking(move || {
            let source = Source::new("", text);
            let parsed = crate::syntax::parse(&source, &crate::Limits::default());
            let outline = symbols::outline(parsed.root.as_ref(), source.text());
            let lines = LineMap::new(source.text());
            symbols::to_lsp(&outline, source.text(), &lines, enc)
        })
        .await
        .unwrap_or_default();
        Ok(Some(DocumentSymbolResponse::Nested(symbols)))
    }
}

fn completion_item(
    text: &str,
    lines: &LineMap,
    enc: Encoding,
    index: usize,
    item: completion::Item,
) -> CompletionItem {
    let kind = match item.kind {
        ItemKind::Property => CompletionItemKind::PROPERTY,
        ItemKind::Index => CompletionItemKind::VALUE,
        ItemKind::Builtin => CompletionItemKind::FUNCTION,
        ItemKind::Environment => CompletionItemKind::MODULE,
        ItemKind::Keyword => CompletionItemKind::KEYWORD,
    };
    let range = lines.range(text, item.replace, enc);
    CompletionItem {
        label: item.label,
        kind: Some(kind),
        detail: (!item.detail.is_empty()).then_some(item.detail),
        documentation: item.documentation.map(|value| {
            Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            })
        }),
        filter_text: item.filter,
        // Keep the server's order (properties in key order, then the roots).
        sort_text: Some(format!("{index:05}")),
        text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(range, item.insert))),
        ..CompletionItem::default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::analysis::analyze;
    use super::*;
    use crate::project::{FsHost, Project};
    use tower_lsp_server::ls_types::Position;

    #[test]
    fn diagnostics_in_protocol_form() {
        let src = Source::new("app", "values:\n  é: \"${b.}\"\n  b: {}\n");
        let host = FsHost::new(None).with_overlay("app", Document::new(src.text(), None));
        let (a, _) = analyze(src, &Project::detached(), &host);
        let d = lsp_diagnostics(&a, Encoding::Utf16);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            d[0].code,
            Some(NumberOrString::String("invalid-interpolation".into()))
        );
        assert_eq!(d[0].message, "property name must not be empty");
        // `${b.}`: the dot after `b`, at UTF-16 column 9 of line 1.
        assert_eq!(d[0].range.start, Position::new(1, 9));
        let d8 = lsp_diagnostics(&a, Encoding::Utf8);
        assert_eq!(d8[0].range.start, Position::new(1, 10));
    }
}
