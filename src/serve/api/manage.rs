//! The endpoints that manage an environment rather than read it: environment tags
//! (server-api.md #20: `E/tags[/{name}]`) and rotation (#19: `POST E/rotate`). A child of
//! `api` so that it shares the server's state and helpers; routed from
//! `Server::environment` by the first segment after the environment.

use serde_json::{Value as Json, json};

use super::{Caller, EnvPath, Reply, Request, Server, lock, not_found};
use crate::Source;
use crate::eval::{Mode, RotationStatus};
use crate::serve::auth::{self, Role};
use crate::serve::store::{EnvTagRow, TagRefused};
use crate::serve::time::{now, rfc3339};

/// The longest tag name and value accepted (bytes).
const MAX_TAG_NAME: usize = 256;
const MAX_TAG_VALUE: usize = 4096;

impl Server {
    /// `E/tags...` and `E/rotate`: authorized, then audited when they change something.
    pub(super) fn manage(
        &self,
        req: &Request,
        caller: &Caller,
        path: &EnvPath,
        tail: &[&str],
    ) -> Reply {
        let m = req.method.as_str();
        let (action, need) = match (m, tail) {
            ("GET", ["tags"] | ["tags", _]) => ("env-tag-get", Role::Reader),
            ("POST", ["tags"]) => ("env-tag-create", Role::Editor),
            ("PATCH", ["tags", _]) => ("env-tag-update", Role::Editor),
            ("DELETE", ["tags", _]) => ("env-tag-delete", Role::Editor),
            ("POST", ["rotate"]) => ("rotate", Role::Editor),
            _ => return Reply::error(404, "no such route"),
        };
        let full = path.full();
        let reply = match Self::authorize(caller, need, &full) {
            Err(r) => r,
            Ok(()) if path.org != self.settings.org => not_found(path),
            Ok(()) => match self.exists(path) {
                Err(_) => Reply::error(503, "the database cannot be read"),
                Ok(None) => not_found(path),
                Ok(Some(_)) => match (m, tail) {
                    ("GET", ["tags"]) => self.list_env_tags(path),
                    ("GET", ["tags", t]) => self.get_env_tag(path, t),
                    ("POST", ["tags"]) => self.create_env_tag(req, caller, path),
                    ("PATCH", ["tags", t]) => self.update_env_tag(req, caller, path, t),
                    ("DELETE", ["tags", t]) => {
                        match lock(&self.store).delete_env_tag(&path.name(), t) {
                            Ok(true) => Reply::empty(204),
                            Ok(false) => Reply::error(404, &format!("no tag named {t:?}")),
                            Err(_) => Reply::error(503, "the database cannot be written"),
                        }
                    }
                    _ => self.rotate(req, caller, path),
                },
            },
        };
        if action != "env-tag-get" {
            // The tag's name, never its value.
            let target = match tail {
                ["tags", t] => format!("{full} tag {t}"),
                _ => full,
            };
            self.audit(caller, action, &target, req, &reply);
        }
        reply
    }

    /// The environment's row, the store's lock released (the arms take it again).
    fn exists(&self, path: &EnvPath) -> Result<Option<crate::serve::store::EnvRow>, String> {
        // Edition 2024: the guard of a tail expression is dropped here.
        lock(&self.store).env(&path.name())
    }

    fn list_env_tags(&self, path: &EnvPath) -> Reply {
        match lock(&self.store).env_tags(&path.name()) {
            Ok(rows) => {
                let tags: serde_json::Map<String, Json> =
                    rows.iter().map(|r| (r.tag.clone(), tag_json(r))).collect();
                // Everything in one page: `nextToken` is required (as "") by the SDKs.
                Reply::json(200, &json!({"tags": tags, "nextToken": ""}))
            }
            Err(_) => Reply::error(503, "the database cannot be read"),
        }
    }

    fn get_env_tag(&self, path: &EnvPath, tag: &str) -> Reply {
        match lock(&self.store).env_tag(&path.name(), tag) {
            Ok(Some(r)) => Reply::json(200, &tag_json(&r)),
            Ok(None) => Reply::error(404, &format!("no tag named {tag:?}")),
            Err(_) => Reply::error(503, "the database cannot be read"),
        }
    }

    fn create_env_tag(&self, req: &Request, caller: &Caller, path: &EnvPath) -> Reply {
        let body = match json_body(req) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let (Some(name), Some(value)) = (body["name"].as_str(), body["value"].as_str()) else {
            return Reply::error(400, "the body must be {\"name\": ..., \"value\": ...}");
        };
        if let Err(r) = check_tag(name, value) {
            return r;
        }
        let t = now();
        let row = EnvTagRow {
            tag: name.to_owned(),
            value: value.to_owned(),
            created: t,
            modified: t,
            editor: caller.token.name.clone(),
        };
        match lock(&self.store).add_env_tag(&path.name(), &row) {
            Ok(true) => Reply::json(200, &tag_json(&row)),
            Ok(false) => Reply::error(409, &format!("the tag {name:?} exists")),
            Err(_) => Reply::error(503, "the database cannot be written"),
        }
    }

    fn update_env_tag(&self, req: &Request, caller: &Caller, path: &EnvPath, tag: &str) -> Reply {
        let body = match json_body(req) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let (Some(expected), Some(value)) = (
            body["currentTag"]["value"].as_str(),
            body["newTag"]["value"].as_str(),
        ) else {
            return Reply::error(
                400,
                "the body must be {\"currentTag\": {\"value\": ...}, \"newTag\": {\"name\": ..., \"value\": ...}}",
            );
        };
        // No new name keeps the tag's name.
        let name = body["newTag"]["name"]
            .as_str()
            .filter(|n| !n.is_empty())
            .unwrap_or(tag);
        if let Err(r) = check_tag(name, value) {
            return r;
        }
        let t = now();
        let new = EnvTagRow {
            tag: name.to_owned(),
            value: value.to_owned(),
            created: t,
            modified: t,
            editor: caller.token.name.clone(),
        };
        let updated = lock(&self.store).update_env_tag(&path.name(), tag, expected, &new);
        match updated {
            Ok(row) => Reply::json(200, &tag_json(&row)),
            Err(TagRefused::Missing) => Reply::error(404, &format!("no tag named {tag:?}")),
            Err(TagRefused::Stale) => Reply::error(
                409,
                &format!("the tag {tag:?} changed: its value is not currentTag.value"),
            ),
            Err(TagRefused::Exists) => Reply::error(409, &format!("the tag {name:?} exists")),
            Err(TagRefused::Db(_)) => Reply::error(503, "the database cannot be written"),
        }
    }

    /// `POST E/rotate` with `{"Paths": [...]}` (the CLI's capital P; `paths` too; none or
    /// an empty body: every rotation): runs the environment's `fn::rotate` calls as
    /// `escc rotate` does and, when every selected one succeeded, writes a new revision
    /// with the new states, their secrets encrypted to the environment's recipients. When
    /// one fails nothing is written, and the answer says which rotations did change
    /// credentials on their servers.
    fn rotate(&self, req: &Request, caller: &Caller, path: &EnvPath) -> Reply {
        let paths = match rotate_paths(&req.body) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let name = path.name();
        let (text, pre) = match lock(&self.store).definition(&name, None) {
            Ok(Some(d)) => d,
            Ok(None) => return not_found(path),
            Err(_) => return Reply::error(503, "the database cannot be read"),
        };
        let source = Source::new(name.as_str(), text.as_str());
        let sites = match crate::edit::rotate_sites(&source) {
            Ok(s) => s,
            Err(e) => return Reply::error(400, &format!("{name}: {}", e.message)),
        };
        let selected = match crate::edit::select_sites(&sites, &paths, &name) {
            Ok(s) => s,
            Err(e) => return Reply::error(400, &e),
        };
        // Before any credential changes: who to encrypt to, that the server could open
        // what it writes, and that each state can be put where it goes.
        let config = crate::project::Config::parse(&self.config_text).unwrap_or_default();
        let (listed, at) = config.encryption.recipients_for(&name);
        let recipients = match listed
            .iter()
            .map(|r| crate::secrets::age::Recipient::parse(r))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(r) if !r.is_empty() => r,
            Ok(_) => {
                return Reply::error(
                    400,
                    &format!(
                        "{name}: no one to encrypt the new states to: the imported escc.toml \
                         needs recipients under [encryption]"
                    ),
                );
            }
            Err(e) => return Reply::error(400, &format!("{at}: {e}")),
        };
        let mine = self
            .identities
            .as_ref()
            .map(|ids| ids.public_keys())
            .unwrap_or_default();
        if !recipients
            .iter()
            .any(|r| mine.iter().any(|m| m == r.as_str()))
        {
            return Reply::error(
                400,
                &format!(
                    "{name}: the server's age identity is not one of its recipients ({at}), so \
                     it could not open the rotated states; add its public key there"
                ),
            );
        }
        for site in &selected {
            let ok = crate::edit::state_accessors(site).and_then(|p| {
                crate::edit::set_value(&source, &p, &Json::Object(serde_json::Map::new()))
                    .map_err(|e| e.message)
            });
            if let Err(e) = ok {
                return Reply::error(400, &format!("{name}: {e}"));
            }
        }

        let checked = match self.run(path, Some(&text), &Mode::Rotate { paths }) {
            Ok(c) => c,
            Err(r) => return r,
        };
        let rotations = checked
            .0
            .evaluation
            .as_ref()
            .map(|e| e.rotations.as_slice())
            .unwrap_or_default();
        let masker = crate::secrets::Masker::new(checked.0.secrets().to_vec());
        let mut report = Vec::new();
        let mut succeeded = Vec::new();
        let mut failure = None;
        for site in &selected {
            let rotator = site.rotator.as_deref().unwrap_or("?");
            let status = rotations.iter().find(|r| r.path == site.path);
            let (ok, error) = match status.map(|r| &r.status) {
                Some(RotationStatus::Succeeded { state, .. }) => {
                    succeeded.push((*site, state));
                    (true, None)
                }
                Some(RotationStatus::Failed(e)) => (false, Some(masker.mask_str(e))),
                _ => (
                    false,
                    Some("not rotated: its inputs or state could not be evaluated".to_owned()),
                ),
            };
            if let Some(e) = &error {
                failure.get_or_insert_with(|| format!("{} ({rotator}): {e}", site.path));
            }
            report.push((site.path.clone(), ok, error));
        }
        let mut post = None;
        let mut error = failure.map(|f| {
            let unwritten: Vec<String> = succeeded
                .iter()
                .map(|(site, state)| {
                    let rotator = site.rotator.as_deref().unwrap_or("?");
                    format!(
                        "{} ({rotator}): rotated on the server, NOT written: {}",
                        site.path,
                        crate::providers::unwritten_rotation(rotator, state)
                    )
                })
                .collect();
            let mut e = format!("nothing was written: {f}");
            for u in unwritten {
                e.push_str("; ");
                e.push_str(&u);
            }
            e
        });
        if error.is_none() && !succeeded.is_empty() {
            match self.write_states(&name, &succeeded, &recipients, &caller.token.name) {
                Ok(rev) => post = Some(rev),
                Err(e) => error = Some(e),
            }
        }
        let ok = error.is_none();
        let t = rfc3339(now());
        let Ok(id) = auth::random_hex(8) else {
            return Reply::error(500, "no random source");
        };
        let mut event = json!({
            "id": id,
            "environmentId": path.full(),
            "created": t,
            "preRotationRevision": pre,
            "userID": caller.token.name,
            "completed": t,
            "status": if ok { "succeeded" } else { "failed" },
            "rotations": report.iter().map(|(p, ok, e)| {
                let mut r = json!({"id": p, "environmentPath": p,
                                   "status": if *ok && error.is_none() { "succeeded" } else { "failed" }});
                if let Some(e) = e {
                    r["errorMessage"] = json!(e);
                }
                r
            }).collect::<Vec<_>>(),
        });
        if let Some(rev) = post {
            event["postRotationRevision"] = json!(rev);
        }
        if let Some(e) = &error {
            event["errorMessage"] = json!(e);
        }
        let mut reply = Reply::json(
            if ok { 200 } else { 500 },
            &json!({ "secretRotationEvent": event }),
        );
        if !ok {
            // The audit record's outcome reads `message`.
            reply = Reply::json(
                500,
                &json!({"code": 500, "message": error, "secretRotationEvent": event}),
            );
        }
        if let Some(rev) = post {
            reply.headers.push(("pulumi-esc-revision", rev.to_string()));
        }
        reply
    }

    /// Writes the rotated states into the latest definition (an edit saved while the
    /// rotations ran is kept: the writer changes only the states' bytes) as a new
    /// revision. A write that races another retries on the newer text: losing a rotated
    /// state would leave a credential no one knows.
    fn write_states(
        &self,
        name: &str,
        states: &[(&crate::edit::RotateSite, &crate::eval::Value)],
        recipients: &[crate::secrets::age::Recipient],
        who: &str,
    ) -> Result<i64, String> {
        let seal = |plain: &str| {
            crate::secrets::age::encrypt(recipients, plain.as_bytes())
                .map(|file| crate::secrets::envelope::seal_age(&file))
        };
        let unwritten = |why: &str| {
            let list: Vec<String> = states
                .iter()
                .map(|(site, state)| {
                    let rotator = site.rotator.as_deref().unwrap_or("?");
                    format!(
                        "{} ({rotator}): rotated on the server, NOT written: {}",
                        site.path,
                        crate::providers::unwritten_rotation(rotator, state)
                    )
                })
                .collect();
            format!(
                "every rotation succeeded, but the new states could not be written: {why}; {}",
                list.join("; ")
            )
        };
        for _ in 0..5 {
            let (latest, rev) = match lock(&self.store).definition(name, None) {
                Ok(Some(d)) => d,
                Ok(None) => return Err(unwritten("the environment was deleted")),
                Err(e) => return Err(unwritten(&e)),
            };
            let new = crate::edit::with_states(name, &latest, states, &seal, &|_| {})
                .map_err(|e| unwritten(&e))?;
            match lock(&self.store).write(name, &new, who, Some(rev), now()) {
                Ok(n) => return Ok(n),
                Err(Ok(_)) => {}
                Err(Err(e)) => return Err(unwritten(&e)),
            }
        }
        Err(unwritten("the environment kept changing"))
    }
}

/// The rotation paths of a rotate request's body.
fn rotate_paths(body: &[u8]) -> Result<Vec<String>, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let j: Json = serde_json::from_slice(body)
        .map_err(|e| Reply::error(400, &format!("the body is not JSON: {e}")))?;
    let list = match j.get("Paths").or_else(|| j.get("paths")) {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(Json::Array(items)) => items,
        Some(_) => return Err(Reply::error(400, "Paths must be a list of property paths")),
    };
    list.iter()
        .map(|p| {
            p.as_str()
                .map(str::to_owned)
                .ok_or_else(|| Reply::error(400, "Paths must be a list of property paths"))
        })
        .collect()
}

fn json_body(req: &Request) -> Result<Json, Reply> {
    serde_json::from_slice(&req.body)
        .map_err(|e| Reply::error(400, &format!("the body is not JSON: {e}")))
}

fn check_tag(name: &str, value: &str) -> Result<(), Reply> {
    if name.is_empty() || name.len() > MAX_TAG_NAME || name.chars().any(char::is_control) {
        return Err(Reply::error(
            400,
            &format!("invalid tag name: 1 to {MAX_TAG_NAME} bytes, no control characters"),
        ));
    }
    if value.len() > MAX_TAG_VALUE {
        return Err(Reply::error(
            400,
            &format!("the tag's value is longer than {MAX_TAG_VALUE} bytes"),
        ));
    }
    Ok(())
}

/// ESC's `EnvironmentTag`.
fn tag_json(r: &EnvTagRow) -> Json {
    json!({
        "name": r.tag,
        "value": r.value,
        "created": rfc3339(r.created),
        "modified": rfc3339(r.modified),
        "editorLogin": r.editor,
        "editorName": r.editor,
    })
}
