//! The server's storage: one `SQLite` file (`escc.sqlite3` under `--data DIR`) holding every
//! revision of each environment's definition, the project's `escc.toml`, open sessions
//! (the SHA-256 of their id, their environment, revision and expiry: never their values),
//! tokens (only the SHA-256 of each) and the audit log.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

/// The database file's name under `--data DIR`.
pub const DB_FILE: &str = "escc.sqlite3";

/// The schema; every statement is idempotent, so opening an existing file is a no-op.
const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS environments (
    name TEXT PRIMARY KEY,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    revision INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS revisions (
    name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    yaml TEXT NOT NULL,
    created INTEGER NOT NULL,
    creator TEXT NOT NULL,
    PRIMARY KEY (name, revision)
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    remote TEXT NOT NULL,
    outcome TEXT NOT NULL
);
";

/// Revision tags and retractions (the API's `versions/tags` and `versions/N/retract`),
/// in tables of their own so that older databases gain them on open. Plain SQL with
/// positional parameters, as in every other statement here.
const TAGS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS revision_tags (
    name TEXT NOT NULL,
    tag TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    editor TEXT NOT NULL,
    PRIMARY KEY (name, tag)
);
CREATE TABLE IF NOT EXISTS retractions (
    name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    replacement INTEGER NOT NULL,
    time INTEGER NOT NULL,
    who TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (name, revision)
);
";

/// An open database.
pub struct Store {
    conn: Connection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// An environment as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvRow {
    /// Its escc name (`project/env`).
    pub name: String,
    /// When it was created and last modified (Unix seconds).
    pub created: i64,
    /// When it was last modified (Unix seconds).
    pub modified: i64,
    /// Its latest revision.
    pub revision: i64,
}

/// A stored token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    /// Its name (who, in the audit log).
    pub name: String,
    /// Its role.
    pub role: String,
    /// The `org/project/env` pattern it may reach.
    pub scope: String,
    /// When it stops working (Unix seconds), if ever.
    pub expires: Option<i64>,
}

/// A stored session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// The environment it opened.
    pub name: String,
    /// At which revision.
    pub revision: i64,
    /// When it ends (Unix seconds).
    pub expires: i64,
}

/// One audit record (never a value).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditRow {
    /// Its sequence number.
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub time: String,
    /// The token's name (`-` when the request had none that is valid).
    pub who: String,
    /// What was asked: `open`, `read`, `update`, `create`, `delete`, `token-create`, ...
    pub action: String,
    /// On what (`org/project/env`, a session, a token's name).
    pub target: String,
    /// From where (the peer's address, or `cli` for the command line).
    pub remote: String,
    /// `ok`, or the status and reason it failed.
    pub outcome: String,
}

/// Why the store failed.
pub type StoreError = String;

fn sql(e: &rusqlite::Error) -> StoreError {
    format!("database: {e}")
}

/// The database file under `data`.
#[must_use]
pub fn db_path(data: &Path) -> PathBuf {
    data.join(DB_FILE)
}

impl Store {
    /// Opens (creating when missing) the database under directory `data` (created too,
    /// readable by its owner only).
    ///
    /// # Errors
    /// The directory or the file cannot be created or opened.
    pub fn open(data: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data)
            .map_err(|e| format!("{}: {}", data.display(), crate::project::io_text(&e)))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700));
        }
        let conn = Connection::open(db_path(data)).map_err(|e| sql(&e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| sql(&e))?;
        conn.execute_batch(SCHEMA).map_err(|e| sql(&e))?;
        conn.execute_batch(TAGS_SCHEMA).map_err(|e| sql(&e))?;
        Ok(Store { conn })
    }

    /// A value of the `meta` table (`escc.toml`).
    ///
    /// # Errors
    /// The database fails.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| sql(&e))
    }

    /// Sets a value of the `meta` table.
    ///
    /// # Errors
    /// The database fails.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(drop)
            .map_err(|e| sql(&e))
    }

    /// Every environment, by name.
    ///
    /// # Errors
    /// The database fails.
    pub fn list(&self) -> Result<Vec<EnvRow>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT name, created, modified, revision FROM environments ORDER BY name")
            .map_err(|e| sql(&e))?;
        st.query_map([], |r| {
            Ok(EnvRow {
                name: r.get(0)?,
                created: r.get(1)?,
                modified: r.get(2)?,
                revision: r.get(3)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| sql(&e))
    }

    /// One environment.
    ///
    /// # Errors
    /// The database fails.
    pub fn env(&self, name: &str) -> Result<Option<EnvRow>, StoreError> {
        self.conn
            .query_row(
                "SELECT name, created, modified, revision FROM environments WHERE name = ?1",
                [name],
                |r| {
                    Ok(EnvRow {
                        name: r.get(0)?,
                        created: r.get(1)?,
                        modified: r.get(2)?,
                        revision: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(|e| sql(&e))
    }

    /// The definition of `name` at `revision` (the latest when `None`), with its revision.
    ///
    /// # Errors
    /// The database fails.
    pub fn definition(
        &self,
        name: &str,
        revision: Option<i64>,
    ) -> Result<Option<(String, i64)>, StoreError> {
        let rev = match revision {
            Some(r) => r,
            None => match self.env(name)? {
                Some(e) => e.revision,
                None => return Ok(None),
            },
        };
        self.conn
            .query_row(
                "SELECT yaml FROM revisions WHERE name = ?1 AND revision = ?2",
                params![name, rev],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|y| y.map(|y| (y, rev)))
            .map_err(|e| sql(&e))
    }

    /// The latest definition of every environment, for the evaluation host.
    ///
    /// # Errors
    /// The database fails.
    pub fn latest_definitions(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT e.name, r.yaml FROM environments e JOIN revisions r
                 ON r.name = e.name AND r.revision = e.revision ORDER BY e.name",
            )
            .map_err(|e| sql(&e))?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(Iterator::collect)
            .map_err(|e| sql(&e))
    }

    /// The revisions of `name`, newest first: (number, created, creator).
    ///
    /// # Errors
    /// The database fails.
    pub fn revisions(&self, name: &str) -> Result<Vec<(i64, i64, String)>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT revision, created, creator FROM revisions WHERE name = ?1
                 ORDER BY revision DESC",
            )
            .map_err(|e| sql(&e))?;
        st.query_map([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(Iterator::collect)
            .map_err(|e| sql(&e))
    }

    /// Writes a new revision of `name` (creating the environment), unless `expected` is
    /// given and is not its latest revision. Returns the new revision, or `Err(Ok(latest))`
    /// on a conflict. One transaction: concurrent writers are serialized by `SQLite`.
    ///
    /// # Errors
    /// The database fails (`Err(Err(_))`), or the revision is stale (`Err(Ok(latest))`).
    pub fn write(
        &mut self,
        name: &str,
        yaml: &str,
        creator: &str,
        expected: Option<i64>,
        now: i64,
    ) -> Result<i64, Result<i64, StoreError>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| Err(sql(&e)))?;
        let current: Option<i64> = tx
            .query_row(
                "SELECT revision FROM environments WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| Err(sql(&e)))?;
        // `Some(0)` expects no environment (create).
        if let Some(want) = expected
            && current.unwrap_or(0) != want
        {
            return Err(Ok(current.unwrap_or(0)));
        }
        // Revision numbers go on after a delete: never reused.
        let last: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(revision), 0) FROM revisions WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .map_err(|e| Err(sql(&e)))?;
        let rev = last + 1;
        tx.execute(
            "INSERT INTO revisions (name, revision, yaml, created, creator) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, rev, yaml, now, creator],
        )
        .map_err(|e| Err(sql(&e)))?;
        tx.execute(
            "INSERT INTO environments (name, created, modified, revision) VALUES (?1, ?2, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET modified = excluded.modified, revision = excluded.revision",
            params![name, now, rev],
        )
        .map_err(|e| Err(sql(&e)))?;
        tx.commit().map_err(|e| Err(sql(&e)))?;
        Ok(rev)
    }

    /// Removes `name` from the listing (its revisions are kept, for the audit trail).
    /// Returns whether it existed.
    ///
    /// # Errors
    /// The database fails.
    pub fn delete(&self, name: &str) -> Result<bool, StoreError> {
        self.conn
            .execute("DELETE FROM environments WHERE name = ?1", [name])
            .map(|n| n > 0)
            .map_err(|e| sql(&e))
    }

    /// Records a session.
    ///
    /// # Errors
    /// The database fails.
    pub fn add_session(&self, id: &str, s: &SessionRow) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO sessions (id, name, revision, expires) VALUES (?1, ?2, ?3, ?4)",
                params![id, s.name, s.revision, s.expires],
            )
            .map(drop)
            .map_err(|e| sql(&e))
    }

    /// A session that has not expired at `now` (expired ones are removed on the way).
    ///
    /// # Errors
    /// The database fails.
    pub fn session(&self, id: &str, now: i64) -> Result<Option<SessionRow>, StoreError> {
        self.conn
            .execute("DELETE FROM sessions WHERE expires <= ?1", [now])
            .map_err(|e| sql(&e))?;
        self.conn
            .query_row(
                "SELECT name, revision, expires FROM sessions WHERE id = ?1",
                [id],
                |r| {
                    Ok(SessionRow {
                        name: r.get(0)?,
                        revision: r.get(1)?,
                        expires: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| sql(&e))
    }

    /// Stores a token by its hash. Fails when the name is taken.
    ///
    /// # Errors
    /// The database fails, or a token has that name.
    pub fn add_token(&self, hash: &str, t: &TokenRow, now: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO tokens (hash, name, role, scope, created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![hash, t.name, t.role, t.scope, now, t.expires],
            )
            .map(drop)
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    format!("a token named {:?} exists (revoke it first)", t.name)
                }
                e => sql(&e),
            })
    }

    /// Removes the token named `name`; whether there was one.
    ///
    /// # Errors
    /// The database fails.
    pub fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        self.conn
            .execute("DELETE FROM tokens WHERE name = ?1", [name])
            .map(|n| n > 0)
            .map_err(|e| sql(&e))
    }

    /// The token whose hash is `hash`.
    ///
    /// # Errors
    /// The database fails.
    pub fn token(&self, hash: &str) -> Result<Option<TokenRow>, StoreError> {
        self.conn
            .query_row(
                "SELECT name, role, scope, expires FROM tokens WHERE hash = ?1",
                [hash],
                |r| {
                    Ok(TokenRow {
                        name: r.get(0)?,
                        role: r.get(1)?,
                        scope: r.get(2)?,
                        expires: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(|e| sql(&e))
    }

    /// Appends an audit record; returns it as stored.
    ///
    /// # Errors
    /// The database fails.
    pub fn audit(
        &self,
        now: i64,
        who: &str,
        action: &str,
        target: &str,
        remote: &str,
        outcome: &str,
    ) -> Result<AuditRow, StoreError> {
        self.conn
            .execute(
                "INSERT INTO audit (time, who, action, target, remote, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![now, who, action, target, remote, outcome],
            )
            .map_err(|e| sql(&e))?;
        Ok(AuditRow {
            id: self.conn.last_insert_rowid(),
            time: super::time::rfc3339(now),
            who: who.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            remote: remote.to_owned(),
            outcome: outcome.to_owned(),
        })
    }

    /// The audit records after sequence number `after`, oldest first.
    ///
    /// # Errors
    /// The database fails.
    pub fn audit_log(&self, after: i64) -> Result<Vec<AuditRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, time, who, action, target, remote, outcome FROM audit WHERE id > ?1 ORDER BY id",
            )
            .map_err(|e| sql(&e))?;
        st.query_map([after], |r| {
            Ok(AuditRow {
                id: r.get(0)?,
                time: super::time::rfc3339(r.get(1)?),
                who: r.get(2)?,
                action: r.get(3)?,
                target: r.get(4)?,
                remote: r.get(5)?,
                outcome: r.get(6)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| sql(&e))
    }
}

/// A revision tag (the implicit `latest` is not stored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagRow {
    /// Its name.
    pub tag: String,
    /// The revision it names.
    pub revision: i64,
    /// When it was created (Unix seconds).
    pub created: i64,
    /// When it last moved (Unix seconds).
    pub modified: i64,
    /// Who created or last moved it.
    pub editor: String,
}

/// A retracted revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetractionRow {
    /// The retracted revision.
    pub revision: i64,
    /// The revision its tags moved to.
    pub replacement: i64,
    /// When (Unix seconds).
    pub time: i64,
    /// Who retracted it.
    pub who: String,
    /// Why (may be empty).
    pub reason: String,
}

/// Revision tags and retractions.
impl Store {
    /// The stored tags of `name`, by tag name.
    ///
    /// # Errors
    /// The database fails.
    pub fn revision_tags(&self, name: &str) -> Result<Vec<TagRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT tag, revision, created, modified, editor FROM revision_tags
                 WHERE name = ?1 ORDER BY tag",
            )
            .map_err(|e| sql(&e))?;
        st.query_map([name], tag_row)
            .and_then(Iterator::collect)
            .map_err(|e| sql(&e))
    }

    /// One stored tag of `name`.
    ///
    /// # Errors
    /// The database fails.
    pub fn revision_tag(&self, name: &str, tag: &str) -> Result<Option<TagRow>, StoreError> {
        self.conn
            .query_row(
                "SELECT tag, revision, created, modified, editor FROM revision_tags
                 WHERE name = ?1 AND tag = ?2",
                [name, tag],
                tag_row,
            )
            .optional()
            .map_err(|e| sql(&e))
    }

    /// Creates tag `tag` of `name` at `revision`; `false` when it exists.
    ///
    /// # Errors
    /// The database fails.
    pub fn create_revision_tag(
        &self,
        name: &str,
        tag: &str,
        revision: i64,
        editor: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        // `ON CONFLICT DO NOTHING` (SQLite and PostgreSQL alike): an existing tag is not
        // an error of the database.
        self.conn
            .execute(
                "INSERT INTO revision_tags (name, tag, revision, created, modified, editor)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (name, tag) DO NOTHING",
                params![name, tag, revision, now, editor],
            )
            .map(|n| n > 0)
            .map_err(|e| sql(&e))
    }

    /// Moves tag `tag` of `name` to `revision`; `false` when there is no such tag.
    ///
    /// # Errors
    /// The database fails.
    pub fn move_revision_tag(
        &self,
        name: &str,
        tag: &str,
        revision: i64,
        editor: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.conn
            .execute(
                "UPDATE revision_tags SET revision = ?3, modified = ?4, editor = ?5
                 WHERE name = ?1 AND tag = ?2",
                params![name, tag, revision, now, editor],
            )
            .map(|n| n > 0)
            .map_err(|e| sql(&e))
    }

    /// Deletes tag `tag` of `name` (every tag when `tag` is `None`, as when the
    /// environment is deleted); whether one was.
    ///
    /// # Errors
    /// The database fails.
    pub fn delete_revision_tags(&self, name: &str, tag: Option<&str>) -> Result<bool, StoreError> {
        let n = match tag {
            Some(t) => self.conn.execute(
                "DELETE FROM revision_tags WHERE name = ?1 AND tag = ?2",
                [name, t],
            ),
            None => self
                .conn
                .execute("DELETE FROM revision_tags WHERE name = ?1", [name]),
        };
        n.map(|n| n > 0).map_err(|e| sql(&e))
    }

    /// The retractions of `name`, by revision.
    ///
    /// # Errors
    /// The database fails.
    pub fn retractions(&self, name: &str) -> Result<Vec<RetractionRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT revision, replacement, time, who, reason FROM retractions
                 WHERE name = ?1 ORDER BY revision",
            )
            .map_err(|e| sql(&e))?;
        st.query_map([name], |r| {
            Ok(RetractionRow {
                revision: r.get(0)?,
                replacement: r.get(1)?,
                time: r.get(2)?,
                who: r.get(3)?,
                reason: r.get(4)?,
            })
        })
        .and_then(Iterator::collect)
        .map_err(|e| sql(&e))
    }

    /// Retracts `r.revision` of `name` and moves the tags that named it to
    /// `r.replacement`, in one transaction; `false` when it was already retracted.
    ///
    /// # Errors
    /// The database fails.
    pub fn retract(&mut self, name: &str, r: &RetractionRow) -> Result<bool, StoreError> {
        let tx = self.conn.transaction().map_err(|e| sql(&e))?;
        let added = tx
            .execute(
                "INSERT INTO retractions (name, revision, replacement, time, who, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name, revision) DO NOTHING",
                params![name, r.revision, r.replacement, r.time, r.who, r.reason],
            )
            .map_err(|e| sql(&e))?;
        if added == 0 {
            return Ok(false);
        }
        tx.execute(
            "UPDATE revision_tags SET revision = ?3, modified = ?4, editor = ?5
             WHERE name = ?1 AND revision = ?2",
            params![name, r.revision, r.replacement, r.time, r.who],
        )
        .map_err(|e| sql(&e))?;
        tx.commit().map_err(|e| sql(&e))?;
        Ok(true)
    }
}

fn tag_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TagRow> {
    Ok(TagRow {
        tag: r.get(0)?,
        revision: r.get(1)?,
        created: r.get(2)?,
        modified: r.get(3)?,
        editor: r.get(4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_conflicts_sessions_and_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        assert_eq!(
            s.write("app/dev", "values: {a: 1}\n", "alice", None, 10),
            Ok(1)
        );
        assert_eq!(
            s.write("app/dev", "values: {a: 2}\n", "bob", Some(1), 11),
            Ok(2)
        );
        // A stale revision is a conflict naming the latest.
        assert_eq!(s.write("app/dev", "x", "bob", Some(1), 12), Err(Ok(2)));
        assert_eq!(
            s.definition("app/dev", Some(1)).unwrap(),
            Some(("values: {a: 1}\n".to_owned(), 1))
        );
        assert_eq!(s.definition("app/dev", None).unwrap().unwrap().1, 2);
        assert_eq!(
            s.revisions("app/dev").unwrap()[0],
            (2, 11, "bob".to_owned())
        );
        assert!(s.delete("app/dev").unwrap());
        assert_eq!(s.definition("app/dev", None).unwrap(), None);
        // Numbers are not reused after a delete.
        assert_eq!(s.write("app/dev", "y", "bob", None, 13), Ok(3));

        let row = SessionRow {
            name: "app/dev".into(),
            revision: 3,
            expires: 100,
        };
        s.add_session("abc", &row).unwrap();
        assert_eq!(s.session("abc", 99).unwrap(), Some(row));
        assert_eq!(s.session("abc", 100).unwrap(), None);

        let t = TokenRow {
            name: "ci".into(),
            role: "reader".into(),
            scope: "*".into(),
            expires: None,
        };
        s.add_token("h1", &t, 1).unwrap();
        assert!(s.add_token("h2", &t, 1).unwrap_err().contains("exists"));
        assert_eq!(s.token("h1").unwrap(), Some(t));
        assert!(s.revoke_token("ci").unwrap());
        assert_eq!(s.token("h1").unwrap(), None);

        let a = s
            .audit(0, "ci", "open", "o/p/e", "127.0.0.1", "ok")
            .unwrap();
        assert_eq!(a.time, "1970-01-01T00:00:00Z");
        assert_eq!(s.audit_log(0).unwrap(), vec![a]);
        assert!(s.audit_log(1).unwrap().is_empty());
    }

    #[test]
    fn revision_tags_and_retractions() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        for i in 1..=3 {
            s.write("app/dev", &format!("values: {{a: {i}}}\n"), "al", None, i)
                .unwrap();
        }
        assert!(
            s.create_revision_tag("app/dev", "prod", 1, "al", 5)
                .unwrap()
        );
        assert!(
            !s.create_revision_tag("app/dev", "prod", 2, "bo", 6)
                .unwrap()
        );
        assert!(
            s.create_revision_tag("app/dev", "beta", 2, "al", 5)
                .unwrap()
        );
        assert!(s.move_revision_tag("app/dev", "prod", 2, "bo", 7).unwrap());
        assert!(!s.move_revision_tag("app/dev", "ghost", 2, "bo", 7).unwrap());
        let prod = s.revision_tag("app/dev", "prod").unwrap().unwrap();
        assert_eq!((prod.revision, prod.created, prod.modified), (2, 5, 7));
        assert_eq!(prod.editor, "bo");
        // Retracting 2 moves both tags to the replacement, once.
        let r = RetractionRow {
            revision: 2,
            replacement: 1,
            time: 8,
            who: "cy".into(),
            reason: "bad".into(),
        };
        assert!(s.retract("app/dev", &r).unwrap());
        assert!(!s.retract("app/dev", &r).unwrap());
        let tags = s.revision_tags("app/dev").unwrap();
        assert_eq!(
            tags.iter()
                .map(|t| (t.tag.as_str(), t.revision))
                .collect::<Vec<_>>(),
            [("beta", 1), ("prod", 1)]
        );
        assert_eq!(s.retractions("app/dev").unwrap(), vec![r]);
        assert!(s.delete_revision_tags("app/dev", Some("beta")).unwrap());
        assert!(s.delete_revision_tags("app/dev", None).unwrap());
        assert!(s.revision_tags("app/dev").unwrap().is_empty());
        // Another environment's tags are its own.
        assert!(s.revision_tag("app/other", "prod").unwrap().is_none());
    }
}
