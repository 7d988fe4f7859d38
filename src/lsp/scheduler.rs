//! The check queue and the second stages.
//!
//! Every change bumps the document's *generation* and queues it, with every open document
//! whose last check read it (its importers). One worker task takes the queue in order and
//! checks each document on a blocking thread, always on the latest text, so a burst of
//! edits costs one check; results for a generation that is already outdated are not
//! published. The worker publishes as soon as the first stage of a check is done (see
//! `analysis`) and hands its evaluation to one thread that runs the second stages, one at
//! a time, once the edits have paused (`SECOND_STAGE_DELAY`), or at once when a request
//! (hover, definition) waits for one: it keeps the evaluation of a document that has not
//! changed since, for hover, definition and completion, and drops the others there, off
//! the path from an edit to its diagnostics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{MessageType, Uri};

use super::analysis::{Analysis, analyze, evaluation_of, second_stage};
use super::host::open_project;
use super::server::{State, lock, lsp_diagnostics};
use crate::Source;
use crate::eval::Evaluation;
use crate::project::{Document, FsHost, Project};

/// How long the second stage waits for more edits: while someone types, only the check of
/// the last edit gets one. A request waiting for it does not wait for the pause.
const SECOND_STAGE_DELAY: Duration = Duration::from_millis(100);

/// What the second-stage thread is sent.
enum ToSecond {
    /// A check's second stage to run.
    Stage(Second),
    /// A request now waits for a second stage (see [`Analysis::want`]).
    Hurry,
}

/// Tells the second-stage thread that a request waits.
pub(super) struct Hurry(Mutex<std::sync::mpsc::Sender<ToSecond>>);

impl Hurry {
    /// Runs the second stage of `analysis` without waiting for the edits to pause: at once
    /// when it is queued, as soon as it is queued otherwise (the worker stores a check
    /// before it queues its second stage).
    pub(super) fn hurry(&self, analysis: &Analysis) {
        analysis.want();
        let tx = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = tx.send(ToSecond::Hurry);
    }
}

/// Starts the check worker (a task) and the second-stage thread.
pub(super) fn start(
    client: &Client,
    state: &Arc<Mutex<State>>,
    wake: &Arc<Notify>,
    analyzed: &Arc<Notify>,
) -> Hurry {
    let (second, rx) = std::sync::mpsc::channel();
    let hurry = Hurry(Mutex::new(second.clone()));
    let (st, an) = (state.clone(), analyzed.clone());
    // If the thread cannot start, second stages never run: no hover, but diagnostics.
    let _ = std::thread::Builder::new()
        .name("escc-lsp-typed".into())
        .spawn(move || second_stages(&rx, &st, &an));
    tokio::spawn(worker(Worker {
        client: client.clone(),
        state: state.clone(),
        wake: wake.clone(),
        analyzed: analyzed.clone(),
        second,
    }));
    hurry
}

impl State {
    /// Queues `uri` for a check of its next generation.
    pub(super) fn touch(&mut self, uri: &Uri) {
        if let Some(doc) = self.docs.get_mut(uri) {
            doc.generation += 1;
            if !doc.queued {
                doc.queued = true;
                self.queue.push_back(uri.clone());
            }
        }
    }

    /// Queues every open document whose last check read environment `name` of `root`
    /// (and those whose check is still to come or under way: what they read is not known
    /// yet).
    pub(super) fn touch_importers(&mut self, root: Option<&Path>, name: &str, except: &Uri) {
        let uris: Vec<Uri> = self
            .docs
            .iter()
            .filter(|(u, d)| {
                *u != except
                    && d.root.as_deref() == root
                    && (d.in_flight.is_some()
                        || d.analysis
                            .as_ref()
                            .is_none_or(|(_, a)| a.depends_on.contains(name)))
            })
            .map(|(u, _)| u.clone())
            .collect();
        for u in &uris {
            self.touch(u);
        }
    }

    /// The check job of an open document.
    pub(super) fn job(&self, uri: &Uri) -> Option<Job> {
        let doc = self.docs.get(uri)?;
        Some(Job {
            generation: doc.generation,
            name: doc.name.clone(),
            text: doc.text.clone(),
            snapshot: self.snapshot(doc.root.as_deref()),
        })
    }
}

/// The editor's view of a project, for a check on another thread.
#[derive(Clone)]
pub(super) struct Snapshot {
    pub(super) root: Option<PathBuf>,
    pub(super) buffers: BTreeMap<String, Document>,
}

impl Snapshot {
    /// The project (its `escc.toml` read now, so a change to it counts at the next check).
    pub(super) fn project(&self) -> Project {
        open_project(self.root.as_deref()).0
    }

    /// A host over the project with the open buffers as its overlay.
    pub(super) fn host(&self, project: &Project) -> FsHost {
        self.buffers
            .iter()
            .fold(project.host(), |host, (name, doc)| {
                host.with_overlay(name.clone(), doc.clone())
            })
    }

    /// Another environment's evaluation.
    pub(super) fn evaluation_of(&self, name: &str) -> Option<Evaluation> {
        let project = self.project();
        evaluation_of(name, &project, &self.host(&project))
    }

    /// The providers the project can open, with where each comes from.
    pub(super) fn providers(&self) -> Vec<(String, String)> {
        self.project()
            .catalog()
            .names()
            .into_iter()
            .map(|(name, from)| (name, from.to_owned()))
            .collect()
    }

    pub(super) fn environments(&self) -> Vec<String> {
        let mut names = self.project().environments().names;
        // An open snapshot of a revision (`base@<commit>`) is no name to import.
        names.extend(self.buffers.keys().filter(|n| !n.contains('@')).cloned());
        names.sort();
        names.dedup();
        names
    }
}

/// A check of one generation of an open document.
pub(super) struct Job {
    pub(super) generation: u64,
    name: String,
    text: String,
    snapshot: Snapshot,
}

impl Job {
    /// The first stage of a check, and the evaluation for its second.
    pub(super) fn run(self) -> (Arc<Analysis>, Option<Evaluation>) {
        let project = self.snapshot.project();
        let mut host = self.snapshot.host(&project);
        if !self.snapshot.buffers.contains_key(&self.name) {
            // A document whose file has no environment name of its root.
            host = host.with_overlay(self.name.clone(), Document::new(self.text.as_str(), None));
        }
        analyze(Source::new(self.name, self.text), &project, &host)
    }
}

/// A second stage to run.
struct Second {
    uri: Uri,
    generation: u64,
    /// The first stage, whose `typed` this sets.
    analysis: Arc<Analysis>,
    /// The first stage's evaluation.
    evaluation: Evaluation,
}

/// Runs the second stages, one at a time, each after a pause in the requests (or at once
/// when a request waits for one), and only for documents still at the generation asked
/// for; every request's `typed` is set. The evaluations of outdated checks are dropped
/// here (which takes a while on large documents), after their waiters are told.
fn second_stages(
    rx: &std::sync::mpsc::Receiver<ToSecond>,
    state: &Mutex<State>,
    analyzed: &Notify,
) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut pending: BTreeMap<Uri, Second> = BTreeMap::new();
    loop {
        let received = if pending.is_empty() {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(SECOND_STAGE_DELAY)
        };
        let paused = match received {
            Ok(ToSecond::Stage(next)) => {
                if let Some(old) = pending.insert(next.uri.clone(), next) {
                    let _ = old.analysis.typed.set(None);
                    // Now (its waiters are told), not with the batch: while someone
                    // types, outdated evaluations would pile up until the pause.
                    drop(old);
                }
                false
            }
            Ok(ToSecond::Hurry) => false,
            // The server is going away: run what is pending first.
            Err(RecvTimeoutError::Disconnected) if pending.is_empty() => return,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => true,
        };
        if !paused && !pending.values().any(|s| s.analysis.wanted()) {
            continue;
        }
        let mut outdated = Vec::new();
        for (uri, job) in std::mem::take(&mut pending) {
            let current = is_current(state, &uri, job.generation);
            let kept = if current {
                Some(job.evaluation)
            } else {
                outdated.push(job.evaluation);
                None
            };
            second_stage(&job.analysis, kept);
            keep_good(state, &uri, job.generation, &job.analysis);
        }
        analyzed.notify_waiters();
        // After the waiters are told.
        drop(outdated);
    }
}

/// Whether `uri` is open and still at `generation`.
fn is_current(state: &Mutex<State>, uri: &Uri, generation: u64) -> bool {
    lock(state)
        .docs
        .get(uri)
        .is_some_and(|d| d.generation == generation)
}

/// Keeps a check whose second stage is done as the document's latest such check.
pub(super) fn keep_good(
    state: &Mutex<State>,
    uri: &Uri,
    generation: u64,
    analysis: &Arc<Analysis>,
) {
    if analysis.typed().is_none() {
        return;
    }
    let mut st = lock(state);
    let mut replaced = None;
    if let Some(doc) = st.docs.get_mut(uri)
        && doc.good.as_ref().is_none_or(|(g, _)| *g <= generation)
    {
        replaced = doc.good.replace((generation, analysis.clone()));
    }
    // The check replaced may hold the last reference to an evaluation: drop it unlocked.
    drop(st);
    drop(replaced);
}

/// What the worker works with.
struct Worker {
    client: Client,
    state: Arc<Mutex<State>>,
    wake: Arc<Notify>,
    analyzed: Arc<Notify>,
    second: std::sync::mpsc::Sender<ToSecond>,
}

/// What the worker does next.
enum Work {
    Check(Uri, Job),
    Publish(Uri),
}

/// Checks queued documents, one at a time, and publishes their diagnostics.
async fn worker(w: Worker) {
    let Worker {
        client,
        state,
        wake,
        analyzed,
        second,
    } = w;
    loop {
        let work = {
            let mut st = lock(&state);
            let mut work = None;
            while let Some(uri) = st.queue.pop_front() {
                let Some(doc) = st.docs.get_mut(&uri) else {
                    continue;
                };
                doc.queued = false;
                if doc
                    .analysis
                    .as_ref()
                    .is_some_and(|(g, _)| *g == doc.generation)
                {
                    if doc.published != Some(doc.generation) {
                        work = Some(Work::Publish(uri));
                        break;
                    }
                    continue;
                }
                if let Some(job) = st.job(&uri) {
                    if let Some(doc) = st.docs.get_mut(&uri) {
                        doc.in_flight = Some(job.generation);
                    }
                    work = Some(Work::Check(uri, job));
                    break;
                }
            }
            work
        };
        let Some(work) = work else {
            wake.notified().await;
            continue;
        };
        let uri = match work {
            Work::Publish(uri) => uri,
            Work::Check(uri, job) => {
                let generation = job.generation;
                let received = tokio::task::spawn_blocking(move || job.run()).await;
                {
                    let mut st = lock(&state);
                    if let Some(doc) = st.docs.get_mut(&uri) {
                        if doc.in_flight == Some(generation) {
                            doc.in_flight = None;
                        }
                        if let Ok((a, _)) = &received
                            && doc.generation == generation
                        {
                            doc.analysis = Some((generation, a.clone()));
                        }
                    }
                }
                let Ok((analysis, evaluation)) = received else {
                    analyzed.notify_waiters();
                    client
                        .log_message(MessageType::ERROR, "escc: a check failed unexpectedly")
                        .await;
                    continue;
                };
                match evaluation {
                    // Nothing was evaluated (broken YAML, load errors): no second stage.
                    None => second_stage(&analysis, None),
                    Some(evaluation) => {
                        let stage = ToSecond::Stage(Second {
                            uri: uri.clone(),
                            generation,
                            analysis: analysis.clone(),
                            evaluation,
                        });
                        if let Err(std::sync::mpsc::SendError(ToSecond::Stage(s))) =
                            second.send(stage)
                        {
                            second_stage(&s.analysis, None);
                        }
                    }
                }
                analyzed.notify_waiters();
                uri
            }
        };
        let publish = {
            let mut st = lock(&state);
            let enc = st.encoding();
            st.docs.get_mut(&uri).and_then(|doc| {
                let (g, a) = doc.analysis.clone()?;
                if g != doc.generation || doc.published == Some(g) {
                    return None;
                }
                doc.published = Some(g);
                Some((lsp_diagnostics(&a, enc), doc.version))
            })
        };
        if let Some((diags, version)) = publish {
            client.publish_diagnostics(uri, diags, Some(version)).await;
        }
    }
}
