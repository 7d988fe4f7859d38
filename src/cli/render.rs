//! What the command line adds to the library's renderers (`diag::render`) and masker
//! (`secrets`): the documents its host read as renderer input, colour, and the terminal
//! spinner.

use std::io::IsTerminal;
use std::sync::mpsc;
use std::time::Duration;

use super::project::Project;
use crate::Source;
use crate::diag::render::Sources;
use crate::project::FsHost;
use crate::secrets;

/// Every environment the host has read, as the renderers show it (its file relative to
/// the current directory, else its name; its `fn::secret` literals hidden from excerpts),
/// and the texts of those literals, to mask.
pub(crate) fn sources(project: &Project, host: &FsHost) -> (Sources, Vec<String>) {
    let mut sources = Sources::new();
    let mut literals = Vec::new();
    for (name, doc) in host.documents() {
        let source = Source::new(name.as_str(), doc.text.to_string());
        let found = secrets::secret_literals_in(&source);
        literals.extend(found.iter().flat_map(|l| l.texts(source.text())));
        let hidden = found.iter().map(|l| l.span).collect();
        let shown = doc
            .file
            .as_deref()
            .map_or_else(|| name.clone(), |f| project.show(f));
        sources.insert(shown, source, hidden);
    }
    (sources, literals)
}

/// Whether to colour output for a stream: only on a terminal, and never with `NO_COLOR`.
pub(crate) fn use_color(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

// -------------------------------------------------------------------------------------
// Spinner

/// A spinner on stderr while something slow runs; it appears only on a terminal and only
/// after [`SPINNER_DELAY`], and clears its line when dropped.
pub(crate) struct Spinner {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How long something runs before the spinner shows: a quick open shows nothing.
const SPINNER_DELAY: Duration = Duration::from_secs(1);

impl Spinner {
    /// Starts a spinner showing what `message` says at each frame (it is asked again at
    /// every frame, so it can follow the work).
    pub(crate) fn start(message: impl Fn() -> String + Send + 'static) -> Spinner {
        let interactive =
            std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        if !interactive {
            return Spinner {
                stop: None,
                thread: None,
            };
        }
        let (tx, rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            if !matches!(
                rx.recv_timeout(SPINNER_DELAY),
                Err(mpsc::RecvTimeoutError::Timeout)
            ) {
                return;
            }
            let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let mut i = 0;
            loop {
                // Cleared first: the message can get shorter.
                eprint!("\r\x1b[2K{} {}", frames[i % frames.len()], message());
                i += 1;
                if !matches!(
                    rx.recv_timeout(Duration::from_millis(100)),
                    Err(mpsc::RecvTimeoutError::Timeout)
                ) {
                    break;
                }
            }
            eprint!("\r\x1b[2K");
        });
        Spinner {
            stop: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
