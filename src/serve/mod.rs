//! `escc serve`: the Pulumi ESC HTTP API over environments kept in a database, for the
//! `esc` CLI, the SDKs and the External Secrets Operator (docs/serve.md).
//!
//! - `store`: the storage (definitions with revisions, sessions, tokens, audit log), in
//!   `SQLite` or PostgreSQL through `db` (the connection; portable SQL).
//! - `auth`: tokens (only their hashes are stored), roles and scopes.
//! - `api`: the endpoints, as synchronous functions from a request to a reply.
//! - this file: the HTTP server (axum on tokio), request-size limit, graceful shutdown,
//!   and the import of a project directory.

pub mod api;
pub mod auth;
pub mod db;
pub mod store;
pub mod time;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request as HttpRequest, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

pub use api::{Reply, Request, Server, Settings};
pub use store::Store;

/// How `escc serve` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen (`127.0.0.1:8080`).
    pub listen: String,
    /// The largest request body accepted (bytes); larger ones get 413.
    pub max_body: usize,
    /// After SIGINT or SIGTERM, how long the requests in flight may take before the
    /// server exits without them.
    pub shutdown_grace: std::time::Duration,
}

/// Runs the server until SIGINT or SIGTERM, then finishes the requests in flight for at
/// most `options.shutdown_grace` (those still running then are abandoned, and a line says
/// so on stderr).
/// `ready` is called with the bound address once it listens (a port of 0 picks a free
/// one).
///
/// # Errors
/// The runtime cannot start, the address cannot be bound, or the server fails.
pub fn run(
    server: Server,
    options: &Options,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the runtime: {e}"))?;
    let state = Arc::new((server, options.max_body));
    let outcome = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&options.listen)
            .await
            .map_err(|e| format!("--listen {}: {e}", options.listen))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("--listen {}: {e}", options.listen))?;
        ready(addr);
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let (stop, mut stopping) = tokio::sync::watch::channel(false);
        let serving = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown().await;
            let _ = stop.send(true);
        });
        // Graceful shutdown waits for every open connection; a client that sends half a
        // request and stalls would keep the server running forever without this bound.
        let grace = async {
            let _ = stopping.wait_for(|s| *s).await;
            tokio::time::sleep(options.shutdown_grace).await;
        };
        tokio::select! {
            done = serving => done.map_err(|e| format!("serving: {e}")),
            () = grace => {
                log(&serde_json::json!({
                    "time": time::rfc3339(time::now()),
                    "event": "shutdown",
                    "message": format!(
                        "requests still in flight {}s after the signal were abandoned",
                        options.shutdown_grace.as_secs()
                    ),
                }));
                Ok(())
            }
        }
    });
    // A request abandoned above may still run on a blocking thread (a provider call): it
    // is not waited for.
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    // The server is dropped here, outside the runtime: the PostgreSQL client closes its
    // connection on its own runtime, which cannot run inside another.
    drop(state);
    outcome
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

async fn handle(
    State(state): State<Arc<(Server, usize)>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: HttpRequest,
) -> Response {
    let started = std::time::Instant::now();
    let (parts, body) = req.into_parts();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_owned();
    let reply = match axum::body::to_bytes(body, state.1).await {
        Err(_) => Reply::error(
            413,
            &format!("the request body is larger than {} bytes", state.1),
        ),
        Ok(body) => {
            let request = Request {
                method: method.clone(),
                path: path.clone(),
                query: parts.uri.query().unwrap_or_default().to_owned(),
                headers: parts
                    .headers
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                    .collect(),
                body: body.to_vec(),
                remote: peer.ip().to_string(),
            };
            let state = state.clone();
            // Evaluation opens providers with blocking I/O, and the database client blocks.
            tokio::task::spawn_blocking(move || state.0.handle(&request))
                .await
                .unwrap_or_else(|_| Reply::error(500, "internal error"))
        }
    };
    // One structured line per request; never a query string (it can hold a property
    // path) nor a body.
    log(&serde_json::json!({
        "time": time::rfc3339(time::now()),
        "remote": peer.ip().to_string(),
        "method": method,
        "path": redact_session(&path),
        "status": reply.status,
        "ms": started.elapsed().as_millis() as u64,
    }));
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in reply.headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            response.headers_mut().insert(HeaderName::from_static(k), v);
        }
    }
    response
}

/// The path with a session id cut to its first 8 characters.
fn redact_session(path: &str) -> String {
    match path.split_once("/open/") {
        Some((head, id)) => {
            let id = id.trim_start_matches('/');
            format!("{head}/open/{}…", id.chars().take(8).collect::<String>())
        }
        None => path.to_owned(),
    }
}

fn log(line: &serde_json::Value) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Imported {
    /// The environments whose definition changed (a new revision), by name.
    pub changed: Vec<String>,
    /// Those that were already as in the directory.
    pub unchanged: usize,
    /// Those skipped, and why.
    pub skipped: Vec<(String, String)>,
}

/// Imports the environments of the project at `dir` (and its `escc.toml`): each whose
/// text differs from its latest stored revision gets a new revision by `who`. Only
/// `project/env` names are served (ESC's two levels); others are skipped.
///
/// # Errors
/// The project cannot be opened, or the database fails.
pub fn import(store: &mut Store, dir: &Path, who: &str) -> Result<Imported, String> {
    let project = crate::project::Project::open(dir).map_err(|e| e.to_string())?;
    let config = dir.join(crate::project::CONFIG_FILE);
    let config_text = if config.is_file() {
        std::fs::read_to_string(&config)
            .map_err(|e| format!("{}: {}", config.display(), crate::project::io_text(&e)))?
    } else {
        String::new()
    };
    store.set_meta("escc.toml", &config_text)?;
    let listing = project.environments();
    if let Some(p) = listing.problems.first() {
        return Err(p.to_string());
    }
    let host = project.host();
    let mut out = Imported::default();
    for name in listing.names {
        if name.split('/').count() != 2 {
            out.skipped.push((
                name,
                "not served: the API names environments PROJECT/ENV (move it into a folder)"
                    .to_owned(),
            ));
            continue;
        }
        let text = host.read(&name).map_err(|e| format!("{name}: {e}"))?.text;
        let current = store.definition(&name, None)?;
        if current.is_some_and(|(t, _)| *t == *text) {
            out.unchanged += 1;
            continue;
        }
        store
            .write(&name, &text, who, None, time::now())
            .map_err(|e| e.map_or_else(|e| e, |n| format!("conflict at revision {n}")))?;
        out.changed.push(name);
    }
    Ok(out)
}

/// The files `escc serve export` writes: `escc.toml` (as imported) and `PROJECT/ENV.yaml`
/// with the latest definition of every environment, as (relative path, text), sorted.
/// The definitions are as stored: age ciphertexts stay ciphertexts.
///
/// # Errors
/// The database fails, or a stored name is not a valid escc name (never written by the
/// server; refused so that no path leaves the directory).
pub fn export_files(store: &mut Store) -> Result<Vec<(String, String)>, String> {
    let mut files = vec![(
        crate::project::CONFIG_FILE.to_owned(),
        store.meta("escc.toml")?.unwrap_or_default(),
    )];
    for (name, text) in store.latest_definitions()? {
        crate::project::check_name(&name).map_err(|e| format!("{name}: {e}"))?;
        files.push((format!("{name}.yaml"), text));
    }
    files.sort();
    Ok(files)
}
