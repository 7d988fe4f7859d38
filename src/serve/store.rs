//! The server's storage: every revision of each environment's definition, the project's
//! `escc.toml`, open sessions (the SHA-256 of their id, their environment, revision and
//! expiry: never their values), tokens (only the SHA-256 of each) and the audit log. In one
//! `SQLite` file (`escc.sqlite3` under `--data DIR`) or a PostgreSQL database
//! (`--database postgres://...`, shared by replicas).
//!
//! Each method is written once, in the portable SQL of [`super::db`] (`?N` placeholders,
//! integers and text; writes in [`Db::transaction`] keyed by what they change), and so
//! works on both databases.

use std::path::{Path, PathBuf};

use super::db::{Db, DbError, Row};

/// The database file's name under `--data DIR`.
pub const DB_FILE: &str = "escc.sqlite3";

/// An open database.
pub struct Store {
    db: Db,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// Connections to the database for concurrent requests: at most `max`, made when all are
/// busy (PostgreSQL; `SQLite` has one), waited for beyond that. Taking one never fails:
/// the first is made at start, and a PostgreSQL connection reconnects by itself.
pub struct Pool {
    inner: std::sync::Mutex<PoolInner>,
    freed: std::sync::Condvar,
    max: usize,
}

struct PoolInner {
    /// What new connections are made from (a connection not yet made: the
    /// configuration only); `None` for `SQLite`.
    template: Option<Db>,
    idle: Vec<Store>,
    made: usize,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool starting with `first`, growing to `max` connections when the database
    /// allows more than one.
    #[must_use]
    pub fn new(first: Store, max: usize) -> Pool {
        let template = first.db.sibling();
        let max = if template.is_some() { max.max(1) } else { 1 };
        Pool {
            inner: std::sync::Mutex::new(PoolInner {
                template,
                idle: vec![first],
                made: 1,
            }),
            freed: std::sync::Condvar::new(),
            max,
        }
    }

    /// An idle connection, a new one, or the next one freed.
    pub fn get(&self) -> PoolGuard<'_> {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if let Some(store) = inner.idle.pop() {
                return PoolGuard {
                    pool: self,
                    store: Some(store),
                };
            }
            // A new connection is made on first use, by the caller: the lock is not held
            // while connecting.
            if inner.made < self.max
                && let Some(db) = inner.template.as_ref().and_then(Db::sibling)
            {
                inner.made += 1;
                return PoolGuard {
                    pool: self,
                    store: Some(Store { db }),
                };
            }
            inner = self
                .freed
                .wait(inner)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

/// A connection taken from a [`Pool`], given back on drop.
pub struct PoolGuard<'a> {
    pool: &'a Pool,
    store: Option<Store>,
}

impl std::ops::Deref for PoolGuard<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store
            .as_ref()
            .unwrap_or_else(|| unreachable!("a guard holds its store until dropped"))
    }
}

impl std::ops::DerefMut for PoolGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.store
            .as_mut()
            .unwrap_or_else(|| unreachable!("a guard holds its store until dropped"))
    }
}

impl Drop for PoolGuard<'_> {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            let mut inner = self
                .pool
                .inner
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            inner.idle.push(store);
            drop(inner);
            self.pool.freed.notify_one();
        }
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

fn env_row(r: &Row) -> Result<EnvRow, DbError> {
    Ok(EnvRow {
        name: r.get(0)?,
        created: r.get(1)?,
        modified: r.get(2)?,
        revision: r.get(3)?,
    })
}

/// The database file under `data`.
#[must_use]
pub fn db_path(data: &Path) -> PathBuf {
    data.join(DB_FILE)
}

impl Store {
    /// Opens (creating when missing) the `SQLite` database under directory `data`
    /// (created too, readable by its owner only).
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
        Ok(Store {
            db: Db::sqlite(&db_path(data))?,
        })
    }

    /// Connects to the PostgreSQL database of `url` (creating the tables when missing).
    ///
    /// # Errors
    /// The URL is not valid, or the server cannot be reached or refuses; the message
    /// never holds the URL's password.
    pub fn connect(url: &str) -> Result<Store, StoreError> {
        Ok(Store {
            db: Db::postgres(url)?,
        })
    }

    /// A value of the `meta` table (`escc.toml`).
    ///
    /// # Errors
    /// The database fails.
    pub fn meta(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .db
            .query_opt("SELECT value FROM meta WHERE key = ?1", &[&key], |r| {
                r.get(0)
            })?)
    }

    /// Sets a value of the `meta` table.
    ///
    /// # Errors
    /// The database fails.
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    /// Every environment, by name.
    ///
    /// # Errors
    /// The database fails.
    pub fn list(&mut self) -> Result<Vec<EnvRow>, StoreError> {
        Ok(self.db.query(
            "SELECT name, created, modified, revision FROM environments ORDER BY name",
            &[],
            env_row,
        )?)
    }

    /// One environment.
    ///
    /// # Errors
    /// The database fails.
    pub fn env(&mut self, name: &str) -> Result<Option<EnvRow>, StoreError> {
        Ok(self.db.query_opt(
            "SELECT name, created, modified, revision FROM environments WHERE name = ?1",
            &[&name],
            env_row,
        )?)
    }

    /// The definition of `name` at `revision` (the latest when `None`), with its revision.
    ///
    /// # Errors
    /// The database fails.
    pub fn definition(
        &mut self,
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
        let yaml: Option<String> = self.db.query_opt(
            "SELECT yaml FROM revisions WHERE name = ?1 AND revision = ?2",
            &[&name, &rev],
            |r| r.get(0),
        )?;
        Ok(yaml.map(|y| (y, rev)))
    }

    /// The latest definition of every environment, for the evaluation host.
    ///
    /// # Errors
    /// The database fails.
    pub fn latest_definitions(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self.db.query(
            "SELECT e.name, r.yaml FROM environments e JOIN revisions r
             ON r.name = e.name AND r.revision = e.revision ORDER BY e.name",
            &[],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// The revisions of `name`, newest first: (number, created, creator).
    ///
    /// # Errors
    /// The database fails.
    pub fn revisions(&mut self, name: &str) -> Result<Vec<(i64, i64, String)>, StoreError> {
        Ok(self.db.query(
            "SELECT revision, created, creator FROM revisions WHERE name = ?1
             ORDER BY revision DESC",
            &[&name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    }

    /// Writes a new revision of `name` (creating the environment), unless `expected` is
    /// given and is not its latest revision. Returns the new revision, or `Err(Ok(latest))`
    /// on a conflict. One transaction holding `name`'s write lock: concurrent writers of
    /// one environment, on any replica, queue, and all but the first with a given
    /// `expected` revision get the conflict.
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
        /// Why a write did not happen.
        enum Why {
            Stale(i64),
            Db(DbError),
        }
        impl From<DbError> for Why {
            fn from(e: DbError) -> Why {
                Why::Db(e)
            }
        }
        let done = self.db.transaction(name, |db| {
            let current: Option<i64> = db.query_opt(
                "SELECT revision FROM environments WHERE name = ?1",
                &[&name],
                |r| r.get(0),
            )?;
            // `Some(0)` expects no environment (create).
            if let Some(want) = expected
                && current.unwrap_or(0) != want
            {
                return Err(Why::Stale(current.unwrap_or(0)));
            }
            // Revision numbers go on after a delete: never reused.
            let last: i64 = db
                .query_opt(
                    "SELECT COALESCE(MAX(revision), 0) FROM revisions WHERE name = ?1",
                    &[&name],
                    |r| r.get(0),
                )?
                .unwrap_or(0);
            let rev = last + 1;
            db.execute(
                "INSERT INTO revisions (name, revision, yaml, created, creator)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                &[&name, &rev, &yaml, &now, &creator],
            )?;
            db.execute(
                "INSERT INTO environments (name, created, modified, revision) VALUES (?1, ?2, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET modified = excluded.modified, revision = excluded.revision",
                &[&name, &now, &rev],
            )?;
            Ok(rev)
        });
        done.map_err(|why| match why {
            Why::Stale(n) => Ok(n),
            Why::Db(e) => Err(e.into()),
        })
    }

    /// Removes `name` from the listing (its revisions are kept, for the audit trail) with
    /// its revision and environment tags (a new environment of that name starts
    /// untagged), in one transaction. Returns whether it existed.
    ///
    /// # Errors
    /// The database fails.
    pub fn delete(&mut self, name: &str) -> Result<bool, StoreError> {
        let n = self.db.transaction(name, |db| {
            db.execute("DELETE FROM revision_tags WHERE name = ?1", &[&name])?;
            db.execute("DELETE FROM env_tags WHERE name = ?1", &[&name])?;
            db.execute("DELETE FROM environments WHERE name = ?1", &[&name])
        })?;
        Ok(n > 0)
    }

    /// Records a session.
    ///
    /// # Errors
    /// The database fails.
    pub fn add_session(&mut self, id: &str, s: &SessionRow) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO sessions (id, name, revision, expires) VALUES (?1, ?2, ?3, ?4)",
            &[&id, &s.name, &s.revision, &s.expires],
        )?;
        Ok(())
    }

    /// A session that has not expired at `now` (expired ones are removed on the way).
    ///
    /// # Errors
    /// The database fails.
    pub fn session(&mut self, id: &str, now: i64) -> Result<Option<SessionRow>, StoreError> {
        self.db
            .execute("DELETE FROM sessions WHERE expires <= ?1", &[&now])?;
        Ok(self.db.query_opt(
            "SELECT name, revision, expires FROM sessions WHERE id = ?1",
            &[&id],
            |r| {
                Ok(SessionRow {
                    name: r.get(0)?,
                    revision: r.get(1)?,
                    expires: r.get(2)?,
                })
            },
        )?)
    }

    /// Stores a token by its hash. Fails when the name is taken.
    ///
    /// # Errors
    /// The database fails, or a token has that name.
    pub fn add_token(&mut self, hash: &str, t: &TokenRow, now: i64) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO tokens (hash, name, role, scope, created, expires)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &[&hash, &t.name, &t.role, &t.scope, &now, &t.expires],
            )
            .map_err(|e| {
                if e.unique {
                    format!("a token named {:?} exists (revoke it first)", t.name)
                } else {
                    e.into()
                }
            })?;
        Ok(())
    }

    /// Removes the token named `name`; whether there was one.
    ///
    /// # Errors
    /// The database fails.
    pub fn revoke_token(&mut self, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .db
            .execute("DELETE FROM tokens WHERE name = ?1", &[&name])?
            > 0)
    }

    /// The token whose hash is `hash`.
    ///
    /// # Errors
    /// The database fails.
    pub fn token(&mut self, hash: &str) -> Result<Option<TokenRow>, StoreError> {
        Ok(self.db.query_opt(
            "SELECT name, role, scope, expires FROM tokens WHERE hash = ?1",
            &[&hash],
            |r| {
                Ok(TokenRow {
                    name: r.get(0)?,
                    role: r.get(1)?,
                    scope: r.get(2)?,
                    expires: r.get(3)?,
                })
            },
        )?)
    }

    /// Appends an audit record; returns it as stored.
    ///
    /// # Errors
    /// The database fails.
    pub fn audit(
        &mut self,
        now: i64,
        who: &str,
        action: &str,
        target: &str,
        remote: &str,
        outcome: &str,
    ) -> Result<AuditRow, StoreError> {
        let id: Option<i64> = self.db.query_opt(
            "INSERT INTO audit (time, who, action, target, remote, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            &[&now, &who, &action, &target, &remote, &outcome],
            |r| r.get(0),
        )?;
        Ok(AuditRow {
            id: id.ok_or("database: the audit record got no id")?,
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
    pub fn audit_log(&mut self, after: i64) -> Result<Vec<AuditRow>, StoreError> {
        Ok(self.db.query(
            "SELECT id, time, who, action, target, remote, outcome FROM audit
             WHERE id > ?1 ORDER BY id",
            &[&after],
            |r| {
                Ok(AuditRow {
                    id: r.get(0)?,
                    time: super::time::rfc3339(r.get(1)?),
                    who: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    remote: r.get(5)?,
                    outcome: r.get(6)?,
                })
            },
        )?)
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
    pub fn revision_tags(&mut self, name: &str) -> Result<Vec<TagRow>, StoreError> {
        Ok(self.db.query(
            "SELECT tag, revision, created, modified, editor FROM revision_tags
             WHERE name = ?1 ORDER BY tag",
            &[&name],
            tag_row,
        )?)
    }

    /// One stored tag of `name`.
    ///
    /// # Errors
    /// The database fails.
    pub fn revision_tag(&mut self, name: &str, tag: &str) -> Result<Option<TagRow>, StoreError> {
        Ok(self.db.query_opt(
            "SELECT tag, revision, created, modified, editor FROM revision_tags
             WHERE name = ?1 AND tag = ?2",
            &[&name, &tag],
            tag_row,
        )?)
    }

    /// Creates tag `tag` of `name` at `revision`; `false` when it exists.
    ///
    /// # Errors
    /// The database fails.
    pub fn create_revision_tag(
        &mut self,
        name: &str,
        tag: &str,
        revision: i64,
        editor: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        // `ON CONFLICT DO NOTHING` (SQLite and PostgreSQL alike): an existing tag is not
        // an error of the database.
        let n = self.db.transaction(name, |db| {
            db.execute(
                "INSERT INTO revision_tags (name, tag, revision, created, modified, editor)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (name, tag) DO NOTHING",
                &[&name, &tag, &revision, &now, &editor],
            )
        })?;
        Ok(n > 0)
    }

    /// Moves tag `tag` of `name` to `revision`; `false` when there is no such tag.
    ///
    /// # Errors
    /// The database fails.
    pub fn move_revision_tag(
        &mut self,
        name: &str,
        tag: &str,
        revision: i64,
        editor: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = self.db.transaction(name, |db| {
            db.execute(
                "UPDATE revision_tags SET revision = ?3, modified = ?4, editor = ?5
                 WHERE name = ?1 AND tag = ?2",
                &[&name, &tag, &revision, &now, &editor],
            )
        })?;
        Ok(n > 0)
    }

    /// Deletes tag `tag` of `name` (every tag when `tag` is `None`, as when the
    /// environment is deleted); whether one was.
    ///
    /// # Errors
    /// The database fails.
    pub fn delete_revision_tags(
        &mut self,
        name: &str,
        tag: Option<&str>,
    ) -> Result<bool, StoreError> {
        let n = self.db.transaction(name, |db| match tag {
            Some(t) => db.execute(
                "DELETE FROM revision_tags WHERE name = ?1 AND tag = ?2",
                &[&name, &t],
            ),
            None => db.execute("DELETE FROM revision_tags WHERE name = ?1", &[&name]),
        })?;
        Ok(n > 0)
    }

    /// The retractions of `name`, by revision.
    ///
    /// # Errors
    /// The database fails.
    pub fn retractions(&mut self, name: &str) -> Result<Vec<RetractionRow>, StoreError> {
        Ok(self.db.query(
            "SELECT revision, replacement, time, who, reason FROM retractions
             WHERE name = ?1 ORDER BY revision",
            &[&name],
            |r| {
                Ok(RetractionRow {
                    revision: r.get(0)?,
                    replacement: r.get(1)?,
                    time: r.get(2)?,
                    who: r.get(3)?,
                    reason: r.get(4)?,
                })
            },
        )?)
    }

    /// Retracts `r.revision` of `name` and moves the tags that named it to
    /// `r.replacement`, in one transaction; `false` when it was already retracted.
    ///
    /// # Errors
    /// The database fails.
    pub fn retract(&mut self, name: &str, r: &RetractionRow) -> Result<bool, StoreError> {
        let added = self.db.transaction(name, |db| {
            let added = db.execute(
                "INSERT INTO retractions (name, revision, replacement, time, who, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name, revision) DO NOTHING",
                &[
                    &name,
                    &r.revision,
                    &r.replacement,
                    &r.time,
                    &r.who,
                    &r.reason,
                ],
            )?;
            if added > 0 {
                db.execute(
                    "UPDATE revision_tags SET revision = ?3, modified = ?4, editor = ?5
                     WHERE name = ?1 AND revision = ?2",
                    &[&name, &r.revision, &r.replacement, &r.time, &r.who],
                )?;
            }
            Ok::<_, DbError>(added)
        })?;
        Ok(added > 0)
    }
}

/// An environment tag (ESC's `E/tags`: a name and a value on the environment, not on a
/// revision).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvTagRow {
    /// The tag's name.
    pub tag: String,
    /// Its value.
    pub value: String,
    /// When it was created (Unix seconds).
    pub created: i64,
    /// When it was last changed (Unix seconds).
    pub modified: i64,
    /// Who last changed it (a token's name).
    pub editor: String,
}

/// Why an environment tag could not be changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagRefused {
    /// There is no such tag.
    Missing,
    /// Its value is not the one the caller last saw.
    Stale,
    /// The new name is another tag's.
    Exists,
    /// The database failed.
    Db(StoreError),
}

impl From<DbError> for TagRefused {
    fn from(e: DbError) -> TagRefused {
        TagRefused::Db(e.into())
    }
}

/// Environment tags. Writes hold the environment's write lock ([`Db::transaction`]), so
/// that on PostgreSQL replicas they queue with the environment's other writes.
impl Store {
    /// The tags of environment `name`, by tag name.
    ///
    /// # Errors
    /// The database fails.
    pub fn env_tags(&mut self, name: &str) -> Result<Vec<EnvTagRow>, StoreError> {
        Ok(self.db.query(
            "SELECT tag, value, created, modified, editor FROM env_tags WHERE name = ?1
             ORDER BY tag",
            &[&name],
            env_tag_row,
        )?)
    }

    /// One tag of environment `name`.
    ///
    /// # Errors
    /// The database fails.
    pub fn env_tag(&mut self, name: &str, tag: &str) -> Result<Option<EnvTagRow>, StoreError> {
        Ok(self.db.query_opt(
            "SELECT tag, value, created, modified, editor FROM env_tags
             WHERE name = ?1 AND tag = ?2",
            &[&name, &tag],
            env_tag_row,
        )?)
    }

    /// Adds a tag; `false` when the environment already has one of that name (of two
    /// concurrent creates, on any replica, exactly one gets `true`).
    ///
    /// # Errors
    /// The database fails.
    pub fn add_env_tag(&mut self, name: &str, row: &EnvTagRow) -> Result<bool, StoreError> {
        let n = self.db.transaction(name, |db| {
            db.execute(
                "INSERT INTO env_tags (name, tag, value, created, modified, editor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name, tag) DO NOTHING",
                &[
                    &name,
                    &row.tag,
                    &row.value,
                    &row.created,
                    &row.modified,
                    &row.editor,
                ],
            )
        })?;
        Ok(n > 0)
    }

    /// Renames tag `tag` to `new.tag` and sets its value, if its value is still
    /// `expected` (ESC's `currentTag`); keeps its creation time. One transaction.
    ///
    /// # Errors
    /// See [`TagRefused`].
    pub fn update_env_tag(
        &mut self,
        name: &str,
        tag: &str,
        expected: &str,
        new: &EnvTagRow,
    ) -> Result<EnvTagRow, TagRefused> {
        self.db.transaction(name, |db| {
            let current: Option<(String, i64)> = db.query_opt(
                "SELECT value, created FROM env_tags WHERE name = ?1 AND tag = ?2",
                &[&name, &tag],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let Some((value, created)) = current else {
                return Err(TagRefused::Missing);
            };
            if value != expected {
                return Err(TagRefused::Stale);
            }
            if new.tag != tag {
                let taken: Option<i64> = db.query_opt(
                    "SELECT created FROM env_tags WHERE name = ?1 AND tag = ?2",
                    &[&name, &new.tag],
                    |r| r.get(0),
                )?;
                if taken.is_some() {
                    return Err(TagRefused::Exists);
                }
            }
            let row = EnvTagRow {
                created,
                ..new.clone()
            };
            db.execute(
                "UPDATE env_tags SET tag = ?3, value = ?4, modified = ?5, editor = ?6
                 WHERE name = ?1 AND tag = ?2",
                &[
                    &name,
                    &tag,
                    &row.tag,
                    &row.value,
                    &row.modified,
                    &row.editor,
                ],
            )?;
            Ok(row)
        })
    }

    /// Removes a tag; whether there was one.
    ///
    /// # Errors
    /// The database fails.
    pub fn delete_env_tag(&mut self, name: &str, tag: &str) -> Result<bool, StoreError> {
        let n = self.db.transaction(name, |db| {
            db.execute(
                "DELETE FROM env_tags WHERE name = ?1 AND tag = ?2",
                &[&name, &tag],
            )
        })?;
        Ok(n > 0)
    }
}

fn env_tag_row(r: &Row) -> Result<EnvTagRow, DbError> {
    Ok(EnvTagRow {
        tag: r.get(0)?,
        value: r.get(1)?,
        created: r.get(2)?,
        modified: r.get(3)?,
        editor: r.get(4)?,
    })
}

fn tag_row(r: &Row) -> Result<TagRow, DbError> {
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

    #[test]
    fn environment_tags() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let row = |tag: &str, value: &str, t: i64| EnvTagRow {
            tag: tag.into(),
            value: value.into(),
            created: t,
            modified: t,
            editor: "ci".into(),
        };
        assert!(s.add_env_tag("app/dev", &row("team", "a", 1)).unwrap());
        assert!(!s.add_env_tag("app/dev", &row("team", "b", 2)).unwrap());
        assert!(s.add_env_tag("app/dev", &row("tier", "gold", 2)).unwrap());
        assert!(s.add_env_tag("app/prod", &row("team", "c", 2)).unwrap());
        assert_eq!(
            s.update_env_tag("app/dev", "team", "stale", &row("owner", "x", 3)),
            Err(TagRefused::Stale)
        );
        assert_eq!(
            s.update_env_tag("app/dev", "team", "a", &row("tier", "x", 3)),
            Err(TagRefused::Exists)
        );
        assert_eq!(
            s.update_env_tag("app/dev", "nope", "a", &row("x", "x", 3)),
            Err(TagRefused::Missing)
        );
        // Renamed, with its creation time kept.
        assert_eq!(
            s.update_env_tag("app/dev", "team", "a", &row("owner", "b", 3)),
            Ok(EnvTagRow {
                created: 1,
                ..row("owner", "b", 3)
            })
        );
        let names: Vec<String> = s
            .env_tags("app/dev")
            .unwrap()
            .into_iter()
            .map(|t| t.tag)
            .collect();
        assert_eq!(names, ["owner", "tier"]);
        assert!(s.delete_env_tag("app/dev", "tier").unwrap());
        assert!(!s.delete_env_tag("app/dev", "tier").unwrap());
        // Deleting the environment deletes its tags (revision tags too), not another's.
        s.write("app/dev", "values: {}\n", "ci", None, 4).unwrap();
        assert!(
            s.create_revision_tag("app/dev", "prod", 1, "ci", 4)
                .unwrap()
        );
        assert!(s.delete("app/dev").unwrap());
        assert!(s.env_tags("app/dev").unwrap().is_empty());
        assert!(s.revision_tags("app/dev").unwrap().is_empty());
        assert_eq!(s.env_tag("app/prod", "team").unwrap().unwrap().value, "c");
    }
}
