//! The ESC HTTP API, as plain functions from a [`Request`] to a [`Reply`]: routing,
//! authorization, the endpoints and the audit records. It is synchronous (providers open
//! on blocking threads); `mod.rs` runs it on tokio's blocking pool behind axum.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Value as Json, json};

use super::auth::{self, Role};
use super::store::{Pool, PoolGuard, RetractionRow, SessionRow, Store, TagRow, TokenRow};
use super::time::{now, parse_duration, rfc3339};
use crate::Diagnostic;
use crate::eval::Mode;
use crate::project::{Config, Document, Project};
use crate::source::Source;

mod manage;

/// A request, as the handler sees it.
#[derive(Debug, Default)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, percent-encoded as received.
    pub path: String,
    /// The query string, without `?`.
    pub query: String,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The peer's address.
    pub remote: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn query(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k, true)? == name).then(|| percent_decode(v, true))?
        })
    }
}

/// A response.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// Headers (Content-Type included).
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    fn json(status: u16, body: &Json) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    /// ESC's error body, `{"code": N, "message": "..."}`.
    #[must_use]
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, &json!({"code": status, "message": message}))
    }

    fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn yaml(text: String, revision: i64) -> Reply {
        Reply {
            status: 200,
            headers: vec![
                ("content-type", "application/x-yaml".to_owned()),
                ("etag", etag(revision)),
                ("pulumi-esc-revision", revision.to_string()),
            ],
            body: text.into_bytes(),
        }
    }
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The one organization served.
    pub org: String,
    /// Session lifetime when the request names none (seconds).
    pub default_session: i64,
    /// The longest session a request may ask for (seconds).
    pub max_session: i64,
    /// How many opens may run at once; more get 429.
    pub max_opens: usize,
    /// How many database connections at most (PostgreSQL; `SQLite` uses one).
    pub connections: usize,
}

/// An opened session's result, kept in memory for its lifetime.
struct Opened {
    typed: Arc<Json>,
    expires: i64,
}

/// At most this many opened results are kept in memory; a session whose result was
/// dropped is evaluated again, at its revision, when read.
const MAX_CACHED_SESSIONS: usize = 256;

/// The state every request shares.
pub struct Server {
    store: Pool,
    config_text: String,
    settings: Settings,
    #[allow(clippy::struct_field_names)]
    identities: Option<Arc<crate::secrets::age::Identities>>,
    opened: Mutex<HashMap<String, Opened>>,
    opening: AtomicUsize,
    /// Where audit records are written as JSON lines besides the database (stdout).
    audit_out: Box<dyn Fn(&str) + Send + Sync>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// What `lock` takes: a mutex, or the pool of database connections (`lock(&self.store)`
/// is a connection, given back when dropped).
trait Lock {
    type Guard<'a>
    where
        Self: 'a;
    fn take(&self) -> Self::Guard<'_>;
}

impl<T> Lock for Mutex<T> {
    type Guard<'a>
        = MutexGuard<'a, T>
    where
        T: 'a;
    fn take(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Lock for Pool {
    type Guard<'a> = PoolGuard<'a>;
    fn take(&self) -> PoolGuard<'_> {
        self.get()
    }
}

fn lock<L: Lock>(m: &L) -> L::Guard<'_> {
    m.take()
}

fn etag(revision: i64) -> String {
    format!("\"{revision}\"")
}

/// Who is asking, once authenticated.
struct Caller {
    token: TokenRow,
    role: Role,
}

/// An environment's path in the API.
struct EnvPath {
    org: String,
    project: String,
    env: String,
}

impl EnvPath {
    fn full(&self) -> String {
        format!("{}/{}/{}", self.org, self.project, self.env)
    }

    /// escc's name for it in the store.
    fn name(&self) -> String {
        format!("{}/{}", self.project, self.env)
    }
}

impl Server {
    /// A server over `store`. `identities` decrypt age ciphertexts.
    ///
    /// # Errors
    /// The stored `escc.toml` is invalid.
    pub fn new(
        mut store: Store,
        settings: Settings,
        identities: Option<crate::secrets::age::Identities>,
        audit_out: Box<dyn Fn(&str) + Send + Sync>,
    ) -> Result<Server, String> {
        let config_text = store.meta("escc.toml")?.unwrap_or_default();
        Config::parse(&config_text).map_err(|e| format!("the imported escc.toml: {e}"))?;
        let identities = identities.map(|ids| {
            let config = Config::parse(&config_text).unwrap_or_default();
            Arc::new(ids.knowing(crate::project::keys::recipient_sets(&config.encryption)))
        });
        Ok(Server {
            store: Pool::new(store, settings.connections),
            config_text,
            settings,
            identities,
            opened: Mutex::new(HashMap::new()),
            opening: AtomicUsize::new(0),
            audit_out,
        })
    }

    fn project(&self) -> Project {
        // Checked in `new`.
        Project::detached_with(Config::parse(&self.config_text).unwrap_or_default())
    }

    /// Answers one request.
    #[must_use]
    pub fn handle(&self, req: &Request) -> Reply {
        let Some(segments) = segments(&req.path) else {
            return Reply::error(400, "the path is not valid percent-encoded UTF-8");
        };
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        if s == ["healthz"] && req.method == "GET" {
            return match lock(&self.store).meta("escc.toml") {
                Ok(_) => Reply::json(200, &json!({"status": "ok"})),
                Err(_) => Reply::error(503, "the database cannot be read"),
            };
        }
        if s.first() != Some(&"api") {
            return Reply::error(404, "no such route");
        }
        let caller = match self.authenticate(req) {
            Ok(c) => c,
            Err(r) => return r,
        };
        match (req.method.as_str(), &s[1..]) {
            ("GET", ["user"]) => Reply::json(
                200,
                &json!({
                    "githubLogin": caller.token.name,
                    "name": caller.token.name,
                    "email": "",
                    "avatarUrl": "",
                    "organizations": [{"githubLogin": self.settings.org, "name": self.settings.org}],
                }),
            ),
            ("GET", ["user", "organizations", "default"]) => {
                Reply::json(200, &json!({"gitHubLogin": self.settings.org}))
            }
            (_, ["esc", "environments", rest @ ..]) => self.environments(req, &caller, rest),
            _ => Reply::error(404, "no such route"),
        }
    }

    fn authenticate(&self, req: &Request) -> Result<Caller, Reply> {
        let Some(header) = req.header("authorization") else {
            return Err(Reply::error(
                401,
                "this request needs a token: send the header Authorization: token <TOKEN>",
            ));
        };
        let Some(token) = header
            .strip_prefix("token ")
            .or_else(|| header.strip_prefix("Bearer "))
        else {
            return Err(Reply::error(
                401,
                "the Authorization header must be: token <TOKEN>",
            ));
        };
        let invalid = || Reply::error(401, "the token is not valid (unknown, revoked or expired)");
        let row = lock(&self.store)
            .token(&auth::hash(token.trim()))
            .map_err(|_| Reply::error(503, "the database cannot be read"))?
            .ok_or_else(invalid)?;
        if row.expires.is_some_and(|e| e <= now()) {
            return Err(invalid());
        }
        let role = Role::parse(&row.role).map_err(|_| invalid())?;
        Ok(Caller { token: row, role })
    }

    /// Refuses what the caller's role or scope does not allow, before anything is looked
    /// up: the answer never depends on whether the environment exists.
    fn authorize(caller: &Caller, need: Role, target: &str) -> Result<(), Reply> {
        Self::need_role(caller, need)?;
        if !auth::scope_covers(&caller.token.scope, target) {
            return Err(Reply::error(
                403,
                &format!("the token's scope does not cover {target}"),
            ));
        }
        Ok(())
    }

    fn need_role(caller: &Caller, need: Role) -> Result<(), Reply> {
        if caller.role < need {
            return Err(Reply::error(
                403,
                &format!(
                    "this needs the role {} or above; the token has the role {}",
                    need.name(),
                    caller.role.name()
                ),
            ));
        }
        Ok(())
    }

    fn audit(&self, caller: &Caller, action: &str, target: &str, req: &Request, reply: &Reply) {
        let outcome = if reply.status < 400 {
            "ok".to_owned()
        } else {
            let message = serde_json::from_slice::<Json>(&reply.body)
                .ok()
                .and_then(|j| j["message"].as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{} {message}", reply.status)
        };
        let row = lock(&self.store).audit(
            now(),
            &caller.token.name,
            action,
            target,
            &req.remote,
            &outcome,
        );
        if let Ok(row) = row
            && let Ok(line) = serde_json::to_string(&row)
        {
            (self.audit_out)(&line);
        }
    }

    fn environments(&self, req: &Request, caller: &Caller, rest: &[&str]) -> Reply {
        let m = req.method.as_str();
        match rest {
            [] if m == "GET" => self.list(caller, None),
            [org] if m == "GET" => self.list(caller, Some(org)),
            [org] if m == "POST" => self.create(req, caller, org),
            [org, "yaml", "check"] if m == "POST" => self.check(req, caller, org),
            [org, p, e, tail @ ..] => {
                let path = match env_path(org, p, e) {
                    Ok(p) => p,
                    Err(r) => return r,
                };
                self.environment(req, caller, &path, tail)
            }
            _ => Reply::error(404, "no such route"),
        }
    }

    fn list(&self, caller: &Caller, org: Option<&str>) -> Reply {
        // Every role may list (reader is the least); the scope filters what is listed.
        if org.is_some_and(|o| o != self.settings.org) {
            return Reply::json(200, &json!({"environments": []}));
        }
        let Ok(rows) = lock(&self.store).list() else {
            return Reply::error(503, "the database cannot be read");
        };
        let envs: Vec<Json> = rows
            .iter()
            .filter_map(|r| {
                let (project, name) = r.name.split_once('/')?;
                let full = format!("{}/{}", self.settings.org, r.name);
                auth::scope_covers(&caller.token.scope, &full).then(|| {
                    json!({
                        "organization": self.settings.org,
                        "project": project,
                        "name": name,
                        "created": rfc3339(r.created),
                        "modified": rfc3339(r.modified),
                    })
                })
            })
            .collect();
        Reply::json(200, &json!({ "environments": envs }))
    }

    fn create(&self, req: &Request, caller: &Caller, org: &str) -> Reply {
        let body: Json = match serde_json::from_slice(&req.body) {
            Ok(b) => b,
            Err(e) => return Reply::error(400, &format!("the body is not JSON: {e}")),
        };
        let (Some(p), Some(e)) = (body["project"].as_str(), body["name"].as_str()) else {
            return Reply::error(400, "the body must be {\"project\": ..., \"name\": ...}");
        };
        let path = match env_path(org, p, e) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let reply = self.create_inner(caller, &path);
        self.audit(caller, "create", &path.full(), req, &reply);
        reply
    }

    fn create_inner(&self, caller: &Caller, path: &EnvPath) -> Reply {
        if let Err(r) = Self::authorize(caller, Role::Editor, &path.full()) {
            return r;
        }
        if path.org != self.settings.org {
            return Reply::error(404, &format!("organization {} not found", path.org));
        }
        let mut store = lock(&self.store);
        match store.env(&path.name()) {
            Ok(Some(_)) => return Reply::error(409, "the environment exists"),
            Ok(None) => {}
            Err(_) => return Reply::error(503, "the database cannot be read"),
        }
        match store.write(&path.name(), "", &caller.token.name, Some(0), now()) {
            Ok(_) => Reply::empty(204),
            Err(Ok(_)) => Reply::error(409, "the environment exists"),
            Err(Err(_)) => Reply::error(503, "the database cannot be written"),
        }
    }

    fn environment(&self, req: &Request, caller: &Caller, path: &EnvPath, tail: &[&str]) -> Reply {
        if let Some(reply) = self.revision_routes(req, caller, path, tail) {
            return reply;
        }
        // Environment tags and rotation: manage.rs.
        if matches!(tail, ["tags", ..] | ["rotate"]) {
            return self.manage(req, caller, path, tail);
        }
        let m = req.method.as_str();
        let (action, need) = match (m, tail) {
            ("GET", [] | ["versions", _]) => ("get", Role::Reader),
            ("GET", ["versions"]) => ("history", Role::Reader),
            ("GET", ["decrypt"] | ["versions", _, "decrypt"]) => ("decrypt", Role::Opener),
            ("PATCH", []) => ("update", Role::Editor),
            ("DELETE", []) => ("delete", Role::Editor),
            ("POST", ["open"] | ["versions", _, "open"]) => ("open", Role::Opener),
            ("GET", ["open", _]) => ("read", Role::Opener),
            _ => return Reply::error(404, "no such route"),
        };
        let full = path.full();
        let audited = matches!(action, "decrypt" | "update" | "delete" | "open" | "read");
        let reply = match Self::authorize(caller, need, &full) {
            Err(r) => r,
            Ok(()) if path.org != self.settings.org => {
                Reply::error(404, &format!("environment {full} not found"))
            }
            Ok(()) => match (action, tail) {
                ("get" | "decrypt", [] | [_] | ["versions", ..]) => {
                    let rev = match tail {
                        ["versions", v, ..] => match self.revision_of(path, v) {
                            Ok(r) => Some(r),
                            Err(r) => return r,
                        },
                        _ => None,
                    };
                    self.get(path, rev, action == "decrypt")
                }
                ("history", _) => self.history(req, path),
                ("update", _) => self.update(req, caller, path),
                ("delete", _) => match lock(&self.store).delete(&path.name()) {
                    Ok(true) => Reply::empty(204),
                    Ok(false) => Reply::error(404, &format!("environment {full} not found")),
                    Err(_) => Reply::error(503, "the database cannot be written"),
                },
                ("open", _) => {
                    let rev = match tail {
                        ["versions", v, ..] => match self.revision_of(path, v) {
                            Ok(r) => Some(r),
                            Err(r) => return r,
                        },
                        _ => None,
                    };
                    self.open(req, path, rev)
                }
                ("read", ["open", id]) => self.read(req, path, id),
                _ => Reply::error(404, "no such route"),
            },
        };
        if audited {
            let target = match (action, tail) {
                ("read", ["open", id]) => match req.query("property") {
                    Some(p) => format!("{full} session {} property {p}", short(id)),
                    None => format!("{full} session {}", short(id)),
                },
                _ => full,
            };
            self.audit(caller, action, &target, req, &reply);
        }
        reply
    }

    /// A revision named in a path to read or open: a number, `latest` or a tag; a retracted
    /// revision can no longer be read or opened (410, naming its replacement).
    fn revision_of(&self, path: &EnvPath, v: &str) -> Result<i64, Reply> {
        let rev = self.resolve_version(path, v)?;
        let retracted = lock(&self.store)
            .retractions(&path.name())
            .map_err(|_| Reply::error(503, "the database cannot be read"))?;
        match retracted.iter().find(|r| r.revision == rev) {
            Some(r) => Err(Reply::error(
                410,
                &format!(
                    "revision {rev} of {} was retracted{}; its replacement is revision {}",
                    path.full(),
                    if r.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", r.reason)
                    },
                    r.replacement
                ),
            )),
            None => Ok(rev),
        }
    }

    /// A revision named in a path: a number, `latest` or a tag.
    fn resolve_version(&self, path: &EnvPath, v: &str) -> Result<i64, Reply> {
        if !v.starts_with(|c: char| c.is_ascii_digit()) && v != "latest" {
            return match lock(&self.store).revision_tag(&path.name(), v) {
                Ok(Some(t)) => Ok(t.revision),
                Ok(None) => Err(Reply::error(404, &format!("tag {v:?} not found"))),
                Err(_) => Err(Reply::error(503, "the database cannot be read")),
            };
        }
        if v == "latest" {
            return match lock(&self.store).env(&path.name()) {
                Ok(Some(e)) => Ok(e.revision),
                Ok(None) => Err(not_found(path)),
                Err(_) => Err(Reply::error(503, "the database cannot be read")),
            };
        }
        v.parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| Reply::error(404, &format!("revision {v:?} not found")))
    }

    fn get(&self, path: &EnvPath, rev: Option<i64>, decrypt: bool) -> Reply {
        let found = lock(&self.store).definition(&path.name(), rev);
        let (text, rev) = match found {
            Ok(Some(d)) => d,
            Ok(None) => return not_found(path),
            Err(_) => return Reply::error(503, "the database cannot be read"),
        };
        if !decrypt {
            return Reply::yaml(text, rev);
        }
        let ids = self.identities.as_ref();
        let source = Source::new(path.name(), text.as_str());
        // As `escc edit` shows it: each age ciphertext in place as its plaintext. A
        // definition without ciphertexts needs no identity.
        let copy = crate::edit::decrypted_copy(&source, &|c| {
            let file = crate::secrets::envelope::open(c).ok()?;
            crate::secrets::age::is_age_file(&file)
                .then(|| ids.map(|ids| crate::secrets::age::decrypt(ids, &file)))?
        });
        match copy {
            Ok(copy) if copy.kept.is_empty() => Reply::yaml(copy.text, rev),
            Ok(_) if ids.is_none() => Reply::error(
                400,
                "the server has no age identity to decrypt with (see docs/serve.md)",
            ),
            Ok(copy) => Reply::error(
                400,
                &format!(
                    "cannot decrypt the secret at {}: {}",
                    copy.kept[0].0, copy.kept[0].1
                ),
            ),
            Err(_) => Reply::error(400, "the definition has errors; it cannot be decrypted"),
        }
    }

    fn history(&self, req: &Request, path: &EnvPath) -> Reply {
        let before = req.query("before").and_then(|b| b.parse::<i64>().ok());
        let count = req
            .query("count")
            .and_then(|c| c.parse::<usize>().ok())
            .unwrap_or(100)
            .min(500);
        let (revs, tags, retracted) = {
            let mut store = lock(&self.store);
            match (
                store.revisions(&path.name()),
                Self::tags_of(&mut store, path),
                store.retractions(&path.name()),
            ) {
                (Ok(r), _, _) if r.is_empty() => return not_found(path),
                (Ok(r), Ok(t), Ok(x)) => (r, t, x),
                _ => return Reply::error(503, "the database cannot be read"),
            }
        };
        let out: Vec<Json> = revs
            .iter()
            .filter(|(n, ..)| before.is_none_or(|b| b <= 0 || *n < b))
            .take(count)
            .map(|(n, created, creator)| {
                let names: Vec<&str> = tags
                    .iter()
                    .filter(|t| t.revision == *n)
                    .map(|t| t.tag.as_str())
                    .collect();
                let mut r = json!({"number": n, "created": rfc3339(*created), "creatorLogin": creator,
                       "creatorName": creator, "tags": names});
                if let Some(x) = retracted.iter().find(|x| x.revision == *n) {
                    r["retracted"] = json!({"replacement": x.replacement, "at": rfc3339(x.time),
                        "byLogin": x.who, "byName": x.who, "reason": x.reason});
                }
                r
            })
            .collect();
        Reply::json(200, &Json::Array(out))
    }

    fn update(&self, req: &Request, caller: &Caller, path: &EnvPath) -> Reply {
        let Ok(text) = std::str::from_utf8(&req.body) else {
            return Reply::error(400, "the definition is not UTF-8");
        };
        let expected = match req.header("etag").or_else(|| req.header("if-match")) {
            Some(tag) => match tag
                .trim_start_matches("W/")
                .trim_matches('"')
                .parse::<i64>()
            {
                Ok(n) => Some(n),
                Err(_) => return Reply::error(409, "the ETag is not one this server gave"),
            },
            None => None,
        };
        let exists = match lock(&self.store).env(&path.name()) {
            Ok(e) => e.is_some(),
            Err(_) => return Reply::error(503, "the database cannot be read"),
        };
        if !exists {
            return not_found(path);
        }
        let sealed = match self.seal_plaintexts(path, text) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let text = sealed.as_str();
        // Checked statically against the other environments as they are now: a definition
        // with errors is refused, with its diagnostics.
        let checked = match self.run(
            path,
            Some(text),
            &Mode::Check {
                show_secrets: false,
            },
        ) {
            Ok(c) => c,
            Err(r) => return r,
        };
        if checked.0.has_errors() {
            return Self::diagnostics_reply(&checked, "the definition has errors");
        }
        let written =
            lock(&self.store).write(&path.name(), text, &caller.token.name, expected, now());
        match written {
            Ok(rev) => {
                // Warnings (escc's lint of plaintext secrets) are not sent: the `esc` CLI
                // takes any diagnostic in the answer as a failed rollback.
                let mut reply = Reply::json(200, &json!({}));
                reply.headers.push(("pulumi-esc-revision", rev.to_string()));
                reply.headers.push(("etag", etag(rev)));
                reply
            }
            Err(Ok(latest)) => Reply::error(
                409,
                &format!("the environment changed: its latest revision is {latest}"),
            ),
            Err(Err(_)) => Reply::error(503, "the database cannot be written"),
        }
    }

    /// Checks or evaluates `path` (with `text` in place of its stored definition when
    /// given) through the project seam, with every stored environment as an import.
    fn run(
        &self,
        path: &EnvPath,
        text: Option<&str>,
        mode: &Mode,
    ) -> Result<(crate::project::Checked, HashMap<String, String>), Reply> {
        self.run_named(&path.name(), text, mode, &|_| true)
            .map_err(|r| r.unwrap_or_else(|| not_found(path)))
    }

    /// As [`Server::run`], for the environment `name`, over the stored environments that
    /// `keep` accepts; `Err(None)` when `name` is not there.
    fn run_named(
        &self,
        name: &str,
        text: Option<&str>,
        mode: &Mode,
        keep: &dyn Fn(&str) -> bool,
    ) -> Result<(crate::project::Checked, HashMap<String, String>), Option<Reply>> {
        let defs = lock(&self.store)
            .latest_definitions()
            .map_err(|_| Reply::error(503, "the database cannot be read"))?;
        let mut texts: HashMap<String, String> =
            defs.into_iter().filter(|(n, _)| keep(n)).collect();
        if let Some(t) = text {
            texts.insert(name.to_owned(), t.to_owned());
        }
        if !texts.contains_key(name) {
            return Err(None);
        }
        let project = self.project();
        let mut host = project.host();
        for (name, t) in &texts {
            host = host.with_overlay(name.clone(), Document::new(t.as_str(), None));
        }
        if let Some(ids) = &self.identities {
            host = host.with_identities(ids.clone());
        }
        let checked = project
            .run_without_syntax(&host, name, mode)
            .map_err(|e| Reply::error(400, &e.to_string()))?;
        Ok((checked, texts))
    }

    fn diagnostics_body(checked: &(crate::project::Checked, HashMap<String, String>)) -> Json {
        let (checked, texts) = checked;
        if checked.diags.is_empty() {
            return json!({});
        }
        json!({"diagnostics": checked.diags.iter().map(|d| Self::diagnostic(d, texts)).collect::<Vec<_>>()})
    }

    fn diagnostics_reply(
        checked: &(crate::project::Checked, HashMap<String, String>),
        message: &str,
    ) -> Reply {
        let mut body = Self::diagnostics_body(checked);
        body["code"] = json!(400);
        body["message"] = json!(message);
        Reply::json(400, &body)
    }

    /// A diagnostic in ESC's form: `{"range"?, "summary", "detail"?, "severity"?}`, the
    /// range in the environment's escc name (`project/env`).
    fn diagnostic(d: &Diagnostic, texts: &HashMap<String, String>) -> Json {
        let mut out = serde_json::Map::new();
        if let (Some(span), Some(text)) = (d.span, texts.get(&d.environment)) {
            let source = Source::new(d.environment.as_str(), text.as_str());
            let pos = |o: usize| {
                let lc = source.line_col(o);
                json!({"line": lc.line, "column": lc.column, "byte": o})
            };
            out.insert(
                "range".into(),
                json!({"environment": d.environment, "begin": pos(span.start()), "end": pos(span.end())}),
            );
        }
        out.insert("summary".into(), json!(d.summary));
        if !d.detail.is_empty() {
            out.insert("detail".into(), json!(d.detail));
        }
        if !d.is_error() {
            out.insert("severity".into(), json!("warning"));
        }
        Json::Object(out)
    }

    fn open(&self, req: &Request, path: &EnvPath, rev: Option<i64>) -> Reply {
        let lifetime = match req.query("duration") {
            Some(d) => match parse_duration(&d) {
                Ok(s) if s <= self.settings.max_session => s,
                Ok(_) => {
                    return Reply::error(
                        400,
                        &format!(
                            "the duration is longer than this server allows ({}s)",
                            self.settings.max_session
                        ),
                    );
                }
                Err(e) => return Reply::error(400, &e),
            },
            None => self.settings.default_session,
        };
        let latest = match lock(&self.store).env(&path.name()) {
            Ok(Some(e)) => e.revision,
            Ok(None) => return not_found(path),
            Err(_) => return Reply::error(503, "the database cannot be read"),
        };
        let revision = rev.unwrap_or(latest);
        let typed = match self.evaluate_at(path, revision) {
            Ok(t) => t,
            Err(r) => return r,
        };
        let Ok(id) = auth::random_hex(16) else {
            return Reply::error(500, "no random source");
        };
        let expires = now() + lifetime;
        let row = SessionRow {
            name: path.name(),
            revision,
            expires,
        };
        if lock(&self.store)
            .add_session(&auth::hash(&id), &row)
            .is_err()
        {
            return Reply::error(503, "the database cannot be written");
        }
        self.remember(&id, typed, expires);
        // Only the id: ESO fails on any other key (server-api.md, section 1).
        Reply::json(200, &json!({ "id": id }))
    }

    /// Evaluates `path` at `revision` (its imports at their latest), opening providers.
    fn evaluate_at(&self, path: &EnvPath, revision: i64) -> Result<Arc<Json>, Reply> {
        let text = match lock(&self.store).definition(&path.name(), Some(revision)) {
            Ok(Some((t, _))) => t,
            Ok(None) => return Err(Reply::error(404, &format!("revision {revision} not found"))),
            Err(_) => return Err(Reply::error(503, "the database cannot be read")),
        };
        let running = self.opening.fetch_add(1, Ordering::SeqCst);
        let _guard = Decrement(&self.opening);
        if running >= self.settings.max_opens {
            return Err(Reply::error(
                429,
                "too many environments are being opened at once; retry later",
            ));
        }
        let checked = self.run(path, Some(&text), &Mode::Eval)?;
        if checked.0.has_errors() {
            return Err(Self::diagnostics_reply(
                &checked,
                "the environment has errors",
            ));
        }
        let mut typed = checked
            .0
            .evaluation
            .as_ref()
            .and_then(crate::eval::Evaluation::typed)
            .unwrap_or_else(|| json!({}));
        Self::normalize_environment(&mut typed);
        Ok(Arc::new(typed))
    }

    fn remember(&self, id: &str, typed: Arc<Json>, expires: i64) {
        let mut opened = lock(&self.opened);
        let t = now();
        opened.retain(|_, o| o.expires > t);
        if opened.len() >= MAX_CACHED_SESSIONS
            && let Some(first) = opened
                .iter()
                .min_by_key(|(_, o)| o.expires)
                .map(|(k, _)| k.clone())
        {
            opened.remove(&first);
        }
        opened.insert(id.to_owned(), Opened { typed, expires });
    }

    fn read(&self, req: &Request, path: &EnvPath, id: &str) -> Reply {
        let t = now();
        let Ok(session) = lock(&self.store).session(&auth::hash(id), t) else {
            return Reply::error(503, "the database cannot be read");
        };
        // A session of another environment is as unknown as one that never was.
        let Some(session) = session.filter(|s| s.name == path.name()) else {
            return Reply::error(404, "the session is unknown or has expired");
        };
        let cached = lock(&self.opened)
            .get(id)
            .filter(|o| o.expires > t)
            .map(|o| o.typed.clone());
        let typed = match cached {
            Some(t) => t,
            None => match self.evaluate_at(path, session.revision) {
                Ok(typed) => {
                    self.remember(id, typed.clone(), session.expires);
                    typed
                }
                Err(r) => return r,
            },
        };
        match req.query("property") {
            None => Reply::json(200, &typed),
            Some(p) => {
                let accessors = match crate::ast::parse_property_path(&p) {
                    Ok(a) => a,
                    Err(e) => {
                        return Reply::error(400, &format!("invalid property path {p:?}: {e}"));
                    }
                };
                match property_at(&typed, &accessors) {
                    Some(v) => Reply::json(200, v),
                    None => Reply::error(404, &format!("no property {p}")),
                }
            }
        }
    }

    /// Makes the typed environment what the SDKs' strict models accept: every Value of
    /// the properties has `value` (null when there is none) and every range anywhere an
    /// `environment` (server-api.md, section 1).
    fn normalize_environment(typed: &mut Json) {
        if let Some(Json::Object(props)) = typed.get_mut("properties") {
            props.values_mut().for_each(normalize_value);
        }
        if let Some(Json::Object(props)) = typed
            .get_mut("executionContext")
            .and_then(|c| c.get_mut("properties"))
        {
            props.values_mut().for_each(normalize_value);
        }
        normalize_ranges(typed);
    }
}

/// The name a definition sent to `yaml/check` is evaluated under: one part, so that no
/// stored environment (always `project/env`) has it. Its ranges name it `<yaml>`, as
/// ESC's do (the `esc` CLI shows the environment's own name for that).
const CHECKED: &str = "yaml";

/// `yaml/check`, revision tags and retraction (server-api.md #10, #14-#18).
impl Server {
    /// `POST .../{org}/yaml/check[?showSecrets=true]`: evaluates the definition in the body
    /// statically (providers are not opened), importing the stored environments that the
    /// token's scope covers, and answers the typed environment (`exprs`, `properties`,
    /// `schema`, `executionContext`), or 400 with diagnostics. `esc env get` evaluates
    /// through it. With `showSecrets` (openers) ciphertexts are decrypted, and it is
    /// audited; without it, secret values are sent as `null`.
    fn check(&self, req: &Request, caller: &Caller, org: &str) -> Reply {
        let show = req.query("showSecrets").is_some_and(|v| v == "true");
        let reply = self.check_inner(req, caller, org, show);
        if show {
            self.audit(caller, "check", &format!("{org} show-secrets"), req, &reply);
        }
        reply
    }

    fn check_inner(&self, req: &Request, caller: &Caller, org: &str, show: bool) -> Reply {
        if let Err(r) = Self::need_role(caller, if show { Role::Opener } else { Role::Reader }) {
            return r;
        }
        let org_scope = caller.token.scope.split('/').next().unwrap_or_default();
        if !auth::scope_covers(org_scope, org) {
            return Reply::error(403, &format!("the token's scope does not cover {org}"));
        }
        if org != self.settings.org {
            return Reply::error(404, &format!("organization {org} not found"));
        }
        let Ok(text) = std::str::from_utf8(&req.body) else {
            return Reply::error(400, "the definition is not UTF-8");
        };
        let scope = caller.token.scope.clone();
        let keep = |name: &str| auth::scope_covers(&scope, &format!("{org}/{name}"));
        let mode = Mode::Check { show_secrets: show };
        let checked = match self.run_named(CHECKED, Some(text), &mode, &keep) {
            Ok(c) => c,
            Err(r) => return r.unwrap_or_else(|| Reply::error(500, "internal error")),
        };
        let (status, mut body) = if checked.0.has_errors() {
            let mut body = Self::diagnostics_body(&checked);
            body["code"] = json!(400);
            body["message"] = json!("the definition has errors");
            (400, body)
        } else {
            let mut typed = checked
                .0
                .evaluation
                .as_ref()
                .and_then(crate::eval::Evaluation::typed)
                .unwrap_or_else(|| json!({}));
            Self::normalize_environment(&mut typed);
            if !show && let Some(props) = typed.get_mut("properties") {
                hide_secrets(props);
            }
            (200, typed)
        };
        rename_checked(&mut body);
        Reply::json(status, &body)
    }

    /// As ESC does, the plaintext `fn::secret`s of a definition written through the API
    /// (`esc env set --secret` sends one) are encrypted before they are stored, to the
    /// recipients `escc.toml` names for the environment; with none, it is stored as
    /// written. A definition that does not load is returned as it is, for the check to
    /// report.
    fn seal_plaintexts(&self, path: &EnvPath, text: &str) -> Result<String, Reply> {
        let config = Config::parse(&self.config_text).unwrap_or_default();
        let (list, at) = config.encryption.recipients_for(&path.name());
        if list.is_empty() {
            return Ok(text.to_owned());
        }
        let recipients = list
            .iter()
            .map(|r| crate::secrets::age::Recipient::parse(r))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Reply::error(500, &format!("the imported escc.toml, {at}: {e}")))?;
        let source = Source::new(path.name(), text);
        let failed = std::cell::Cell::new(false);
        let sealed = crate::edit::encrypt_plaintexts(&source, &|_| true, &|plain| {
            let sealed = crate::secrets::age::encrypt(&recipients, plain.as_bytes())
                .map(|file| crate::secrets::envelope::seal_age(&file));
            failed.set(failed.get() || sealed.is_err());
            sealed
        });
        match sealed {
            Ok(r) => Ok(r.text),
            // Never store a plaintext that should have been encrypted.
            Err(_) if failed.get() => Err(Reply::error(500, "encrypting a secret failed")),
            Err(_) => Ok(text.to_owned()),
        }
    }

    /// The tags of `path`: the stored ones and the implicit `latest`, by name.
    fn tags_of(store: &mut Store, path: &EnvPath) -> Result<Vec<TagRow>, String> {
        let mut tags = store.revision_tags(&path.name())?;
        if let Some(env) = store.env(&path.name())? {
            let editor = store
                .revisions(&path.name())?
                .into_iter()
                .find(|r| r.0 == env.revision)
                .map(|r| r.2)
                .unwrap_or_default();
            tags.push(TagRow {
                tag: "latest".to_owned(),
                revision: env.revision,
                created: env.created,
                modified: env.modified,
                editor,
            });
            tags.sort_by(|a, b| a.tag.cmp(&b.tag));
        }
        Ok(tags)
    }

    /// `versions/tags[/NAME]` and `versions/V/retract`; `None` for every other route.
    /// Reading tags needs a reader, changing them or retracting an editor; changes are
    /// audited.
    fn revision_routes(
        &self,
        req: &Request,
        caller: &Caller,
        path: &EnvPath,
        tail: &[&str],
    ) -> Option<Reply> {
        let (action, need) = match (req.method.as_str(), tail) {
            ("GET", ["versions", "tags"] | ["versions", "tags", _]) => ("tags", Role::Reader),
            ("POST", ["versions", "tags"]) => ("tag-create", Role::Editor),
            ("PATCH", ["versions", "tags", _]) => ("tag-update", Role::Editor),
            ("DELETE", ["versions", "tags", _]) => ("tag-delete", Role::Editor),
            ("POST", ["versions", _, "retract"]) => ("retract", Role::Editor),
            _ => return None,
        };
        let full = path.full();
        let body: Json = if req.body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            match serde_json::from_slice(&req.body) {
                Ok(b) => b,
                Err(e) => return Some(Reply::error(400, &format!("the body is not JSON: {e}"))),
            }
        };
        let name = match tail {
            ["versions", "tags", name] => (*name).to_owned(),
            ["versions", v, "retract"] => (*v).to_owned(),
            _ => body["name"].as_str().unwrap_or_default().to_owned(),
        };
        let reply = match Self::authorize(caller, need, &full) {
            Err(r) => r,
            Ok(()) if path.org != self.settings.org => not_found(path),
            Ok(()) => match action {
                "tags" if tail.len() == 2 => self.list_tags(req, path),
                "tags" => self.get_tag(path, &name),
                "retract" => self.retract(caller, path, &name, &body),
                _ => self.change_tag(caller, path, action, &name, &body),
            },
        };
        if action != "tags" {
            self.audit(caller, action, &format!("{full}@{name}"), req, &reply);
        }
        Some(reply)
    }

    fn list_tags(&self, req: &Request, path: &EnvPath) -> Reply {
        let after = req.query("after").unwrap_or_default();
        let count = req
            .query("count")
            .and_then(|c| c.parse::<usize>().ok())
            .unwrap_or(500)
            .clamp(1, 500);
        let tags = {
            let mut store = lock(&self.store);
            match store.env(&path.name()) {
                Ok(Some(_)) => {}
                Ok(None) => return not_found(path),
                Err(_) => return Reply::error(503, "the database cannot be read"),
            }
            match Self::tags_of(&mut store, path) {
                Ok(t) => t,
                Err(_) => return Reply::error(503, "the database cannot be read"),
            }
        };
        let rest: Vec<&TagRow> = tags.iter().filter(|t| t.tag > after).collect();
        let page: Vec<Json> = rest.iter().take(count).map(|t| tag_json(t)).collect();
        let next = if rest.len() > count {
            rest[count - 1].tag.clone()
        } else {
            String::new()
        };
        Reply::json(200, &json!({"tags": page, "nextToken": next}))
    }

    fn get_tag(&self, path: &EnvPath, name: &str) -> Reply {
        let mut store = lock(&self.store);
        match store.env(&path.name()) {
            Ok(Some(_)) => {}
            Ok(None) => return not_found(path),
            Err(_) => return Reply::error(503, "the database cannot be read"),
        }
        match Self::tags_of(&mut store, path) {
            Ok(tags) => match tags.iter().find(|t| t.tag == name) {
                Some(t) => Reply::json(200, &tag_json(t)),
                None => Reply::error(404, &format!("tag {name:?} not found")),
            },
            Err(_) => Reply::error(503, "the database cannot be read"),
        }
    }

    /// A revision that a tag may name or that may replace a retracted one: stored, and
    /// not retracted.
    fn live_revision(&self, path: &EnvPath, rev: i64) -> Result<(), Reply> {
        let mut store = lock(&self.store);
        let read = |_| Reply::error(503, "the database cannot be read");
        if store
            .definition(&path.name(), Some(rev))
            .map_err(read)?
            .is_none()
        {
            return Err(Reply::error(400, &format!("there is no revision {rev}")));
        }
        if store
            .retractions(&path.name())
            .map_err(read)?
            .iter()
            .any(|r| r.revision == rev)
        {
            return Err(Reply::error(400, &format!("revision {rev} was retracted")));
        }
        Ok(())
    }

    fn change_tag(
        &self,
        caller: &Caller,
        path: &EnvPath,
        action: &str,
        name: &str,
        body: &Json,
    ) -> Reply {
        if let Err(r) = check_tag_name(name) {
            return r;
        }
        let latest = match lock(&self.store).env(&path.name()) {
            Ok(Some(e)) => e.revision,
            Ok(None) => return not_found(path),
            Err(_) => return Reply::error(503, "the database cannot be read"),
        };
        let revision = match &body["revision"] {
            Json::Null => latest,
            r => match r.as_i64() {
                Some(r) => r,
                None => return Reply::error(400, "\"revision\" must be a number"),
            },
        };
        if action != "tag-delete"
            && let Err(r) = self.live_revision(path, revision)
        {
            return r;
        }
        let mut store = lock(&self.store);
        let (who, t) = (caller.token.name.as_str(), now());
        let done = match action {
            "tag-create" => store.create_revision_tag(&path.name(), name, revision, who, t),
            "tag-update" => store.move_revision_tag(&path.name(), name, revision, who, t),
            _ => store.delete_revision_tags(&path.name(), Some(name)),
        };
        match (done, action) {
            (Ok(true), "tag-update") => match store.revision_tag(&path.name(), name) {
                Ok(Some(t)) => Reply::json(200, &tag_json(&t)),
                _ => Reply::error(503, "the database cannot be read"),
            },
            (Ok(true), _) => Reply::empty(204),
            (Ok(false), "tag-create") => Reply::error(409, &format!("tag {name:?} exists")),
            (Ok(false), _) => Reply::error(404, &format!("tag {name:?} not found")),
            (Err(_), _) => Reply::error(503, "the database cannot be written"),
        }
    }

    /// Retracts a revision (not the latest): it can no longer be read or opened, and its
    /// tags move to the replacement (by default the newest earlier one not retracted).
    fn retract(&self, caller: &Caller, path: &EnvPath, version: &str, body: &Json) -> Reply {
        let rev = match self.resolve_version(path, version) {
            Ok(r) => r,
            Err(r) => return r,
        };
        let (latest, revisions, retracted) = {
            let mut store = lock(&self.store);
            match (
                store.env(&path.name()),
                store.revisions(&path.name()),
                store.retractions(&path.name()),
            ) {
                (Ok(None), ..) => return not_found(path),
                (Ok(Some(e)), Ok(r), Ok(x)) => (e.revision, r, x),
                _ => return Reply::error(503, "the database cannot be read"),
            }
        };
        if !revisions.iter().any(|r| r.0 == rev) {
            return Reply::error(404, &format!("revision {rev} not found"));
        }
        if rev == latest {
            return Reply::error(
                400,
                "the latest revision cannot be retracted: update the environment first",
            );
        }
        if retracted.iter().any(|r| r.revision == rev) {
            return Reply::error(409, &format!("revision {rev} is already retracted"));
        }
        let replacement = match &body["replacement"] {
            Json::Null => match revisions
                .iter()
                .map(|r| r.0)
                .filter(|n| *n < rev && !retracted.iter().any(|x| x.revision == *n))
                .max()
            {
                Some(n) => n,
                None => {
                    return Reply::error(
                        400,
                        &format!("no revision before {rev} can replace it: name a replacement"),
                    );
                }
            },
            r => match r.as_i64() {
                Some(n) if n != rev => n,
                _ => return Reply::error(400, "\"replacement\" must be another revision's number"),
            },
        };
        if let Err(r) = self.live_revision(path, replacement) {
            return r;
        }
        let row = RetractionRow {
            revision: rev,
            replacement,
            time: now(),
            who: caller.token.name.clone(),
            reason: body["reason"].as_str().unwrap_or_default().to_owned(),
        };
        match lock(&self.store).retract(&path.name(), &row) {
            Ok(true) => Reply::empty(204),
            Ok(false) => Reply::error(409, &format!("revision {rev} is already retracted")),
            Err(_) => Reply::error(503, "the database cannot be written"),
        }
    }
}

fn tag_json(t: &TagRow) -> Json {
    json!({"name": t.tag, "revision": t.revision, "created": rfc3339(t.created),
           "modified": rfc3339(t.modified), "editorLogin": t.editor, "editorName": t.editor})
}

/// Tag names: letters, digits, `-`, `_`, `.`, not starting with a digit (a version that
/// does is a revision number); `latest` is the newest revision and cannot be changed.
fn check_tag_name(name: &str) -> Result<(), Reply> {
    if name == "latest" {
        return Err(Reply::error(
            400,
            "the tag latest always names the newest revision; it cannot be changed",
        ));
    }
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Reply::error(
            400,
            &format!(
                "invalid tag name {name:?}: letters, digits, '-', '_' and '.', not starting with a digit"
            ),
        ))
    }
}

/// Sets the value of every secret Value to `null` (a check without `showSecrets`).
fn hide_secrets(j: &mut Json) {
    match j {
        Json::Object(m) => {
            if m.get("secret") == Some(&Json::Bool(true)) && m.contains_key("trace") {
                m.insert("value".into(), Json::Null);
            }
            m.values_mut().for_each(hide_secrets);
        }
        Json::Array(items) => items.iter_mut().for_each(hide_secrets),
        _ => {}
    }
}

/// Ranges in the checked definition name it `<yaml>`.
fn rename_checked(j: &mut Json) {
    match j {
        Json::Object(m) => {
            if m.get("environment").and_then(Json::as_str) == Some(CHECKED) {
                m.insert("environment".into(), json!("<yaml>"));
            }
            m.values_mut().for_each(rename_checked);
        }
        Json::Array(items) => items.iter_mut().for_each(rename_checked),
        _ => {}
    }
}

fn normalize_value(v: &mut Json) {
    let Json::Object(m) = v else { return };
    m.entry("value").or_insert(Json::Null);
    match m.get_mut("value") {
        Some(Json::Object(children)) => children.values_mut().for_each(normalize_value),
        Some(Json::Array(items)) => items.iter_mut().for_each(normalize_value),
        _ => {}
    }
    if let Some(base) = m.get_mut("trace").and_then(|t| t.get_mut("base")) {
        normalize_value(base);
    }
}

/// Every range (an object with `begin` and `end`) gets an `environment`, `""` when the
/// evaluator had none (ESO broke on its absence: external-secrets#6682).
fn normalize_ranges(j: &mut Json) {
    match j {
        Json::Object(m) => {
            if m.contains_key("begin") && m.contains_key("end") {
                m.entry("environment").or_insert(json!(""));
            }
            m.values_mut().for_each(normalize_ranges);
        }
        Json::Array(items) => items.iter_mut().for_each(normalize_ranges),
        _ => {}
    }
}

struct Decrement<'a>(&'a AtomicUsize);

impl Drop for Decrement<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The first 8 characters of a session id, for the audit log (the whole id, with a token,
/// reads the session).
fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

fn not_found(path: &EnvPath) -> Reply {
    Reply::error(404, &format!("environment {} not found", path.full()))
}

/// The Value at `path` below the typed environment's properties.
fn property_at<'a>(typed: &'a Json, path: &[crate::ast::AccessorKind]) -> Option<&'a Json> {
    use crate::ast::AccessorKind;
    let (first, rest) = path.split_first()?;
    let mut v = match first {
        AccessorKind::Name(k) | AccessorKind::Key(k) => typed.get("properties")?.get(k)?,
        AccessorKind::Index(_) => return None,
    };
    for acc in rest {
        let inner = v.get("value")?;
        v = match acc {
            AccessorKind::Name(k) | AccessorKind::Key(k) => inner.as_object()?.get(k)?,
            AccessorKind::Index(i) => inner.as_array()?.get(usize::try_from(*i).ok()?)?,
        };
    }
    Some(v)
}

/// Validates the three parts of an environment's path: names ESC allows (letters, digits,
/// `-`, `_`, `.`; not `.` or `..`), which are also valid escc names.
fn env_path(org: &str, project: &str, env: &str) -> Result<EnvPath, Reply> {
    for part in [org, project, env] {
        let ok = !part.is_empty()
            && part.len() <= 100
            && part != "."
            && part != ".."
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(Reply::error(
                400,
                &format!("invalid name {part:?}: names are letters, digits, '-', '_' and '.'"),
            ));
        }
    }
    let path = EnvPath {
        org: org.to_owned(),
        project: project.to_owned(),
        env: env.to_owned(),
    };
    crate::project::check_name(&path.name()).map_err(|e| Reply::error(400, &e))?;
    Ok(path)
}

/// The path's segments, percent-decoded, empty ones dropped (the SDKs read a property at
/// `open//{id}`).
fn segments(path: &str) -> Option<Vec<String>> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect()
}

/// Decodes `%XX` (and `+` as a space in a query); `None` for invalid escapes or UTF-8.
fn percent_decode(s: &str, query: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if query => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_names() {
        assert_eq!(
            segments("/api/esc/environments/o/p/e/open//abc").unwrap(),
            ["api", "esc", "environments", "o", "p", "e", "open", "abc"]
        );
        assert_eq!(segments("/a%2Fb").unwrap(), ["a/b"]);
        assert!(segments("/a%zz").is_none());
        assert_eq!(percent_decode("a.b%5B0%5D", true).unwrap(), "a.b[0]");
        assert!(env_path("acme", "..", "x").is_err());
        assert!(env_path("acme", "a/b", "x").is_err());
        assert!(env_path("acme", "app", "dev").is_ok());
    }
}
