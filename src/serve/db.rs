//! The database connection under [`super::store::Store`]: `SQLite` (one file, the default)
//! or PostgreSQL (`--database postgres://...`, for replicas), behind one small interface so
//! that every store method is written once, in portable SQL:
//!
//! - placeholders are `SQLite`'s numbered `?1`, `?2` (rewritten to `$1`, `$2` for
//!   PostgreSQL);
//! - values are integers (`BIGINT`), text and NULL ([`Value`]);
//! - [`Db::transaction`] takes a lock key: `SQLite` serializes every writer (`BEGIN
//!   IMMEDIATE`), PostgreSQL takes a transaction-scoped advisory lock on the key, so writes
//!   to one environment are serialized across replicas and others run in parallel.
//!
//! The PostgreSQL connection string's password is never part of an error or a log line:
//! errors name the database as `postgres://USER@HOST:PORT/DB` ([`redacted`]).

use std::collections::HashMap;

use crate::providers::pg::describe;

/// A value bound to a placeholder or read from a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer (`BIGINT`).
    Int(i64),
    /// Text.
    Text(String),
}

/// What can be bound to a placeholder.
pub trait Param {
    /// As a [`Value`].
    fn value(&self) -> Value;
}

impl Param for i64 {
    fn value(&self) -> Value {
        Value::Int(*self)
    }
}
impl Param for str {
    fn value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl Param for String {
    fn value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl Param for bool {
    fn value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value {
        (**self).value()
    }
}
impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value {
        self.as_ref().map_or(Value::Null, Param::value)
    }
}

/// What a column can be read as.
pub trait FromValue: Sized {
    /// From a [`Value`]; `None` when the type does not fit.
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// One row of a result.
#[derive(Debug)]
pub struct Row(Vec<Value>);

impl Row {
    /// Column `i` (from 0).
    ///
    /// # Errors
    /// There is no such column, or its value is not a `T`.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T, DbError> {
        let v = self
            .0
            .get(i)
            .ok_or_else(|| DbError::new(format!("no column {i}")))?;
        T::from_value(v).ok_or_else(|| DbError::new(format!("column {i}: unexpected value {v:?}")))
    }
}

/// Why a statement failed: the database's message (never a value bound to it, never the
/// connection string's password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError {
    /// What went wrong.
    pub message: String,
    /// A unique constraint was violated (a name or key taken).
    pub unique: bool,
}

impl DbError {
    fn new(message: String) -> DbError {
        DbError {
            message,
            unique: false,
        }
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database: {}", self.message)
    }
}

impl From<DbError> for String {
    fn from(e: DbError) -> String {
        e.to_string()
    }
}

/// The tables, for both databases: `{ID}` is the auto-numbered key (`SQLite`'s
/// `AUTOINCREMENT` never reuses a number; PostgreSQL's identity column is a sequence).
/// Every statement is idempotent, so opening an existing database is a no-op; a new table
/// is one more `CREATE TABLE IF NOT EXISTS` here (and [`SCHEMA_VERSION`] + 1 when old
/// servers must not use the database any more).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS environments (
    name TEXT PRIMARY KEY,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    revision BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS revisions (
    name TEXT NOT NULL,
    revision BIGINT NOT NULL,
    yaml TEXT NOT NULL,
    created BIGINT NOT NULL,
    creator TEXT NOT NULL,
    PRIMARY KEY (name, revision)
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    revision BIGINT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    scope TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT
);
CREATE TABLE IF NOT EXISTS audit (
    id {ID},
    time BIGINT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    remote TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS revision_tags (
    name TEXT NOT NULL,
    tag TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    editor TEXT NOT NULL,
    PRIMARY KEY (name, tag)
);
CREATE TABLE IF NOT EXISTS retractions (
    name TEXT NOT NULL,
    revision BIGINT NOT NULL,
    replacement BIGINT NOT NULL,
    time BIGINT NOT NULL,
    who TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (name, revision)
);
CREATE TABLE IF NOT EXISTS env_tags (
    name TEXT NOT NULL,
    tag TEXT NOT NULL,
    value TEXT NOT NULL,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    editor TEXT NOT NULL,
    PRIMARY KEY (name, tag)
);
";

/// The schema's version, kept in `meta` as `schema-version`. A database of a later
/// version is refused (a newer escc migrated it); an older one is migrated on open.
/// 2: `revision_tags` and `retractions` (the API's revision tags and retract).
/// 3: `env_tags` (the API's environment tags).
pub const SCHEMA_VERSION: i64 = 3;

/// An open connection.
pub enum Db {
    /// The `SQLite` file.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL server.
    Postgres(Box<Pg>),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Db::Sqlite(_) => f.write_str("Db::Sqlite"),
            Db::Postgres(pg) => write!(f, "Db::Postgres({})", pg.name),
        }
    }
}

fn lite(e: &rusqlite::Error) -> DbError {
    DbError {
        message: e.to_string(),
        unique: matches!(e, rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation),
    }
}

impl Db {
    /// Opens (creating when missing) the `SQLite` file at `path`, with the schema.
    ///
    /// # Errors
    /// The file cannot be opened or the schema applied.
    pub fn sqlite(path: &std::path::Path) -> Result<Db, DbError> {
        let conn = rusqlite::Connection::open(path).map_err(|e| lite(&e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| lite(&e))?;
        // Outside a transaction: the journal mode cannot change inside one.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
            .map_err(|e| lite(&e))?;
        let mut db = Db::Sqlite(conn);
        db.migrate("INTEGER PRIMARY KEY AUTOINCREMENT")?;
        Ok(db)
    }

    /// Connects to the PostgreSQL server of `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`;
    /// without a password in it, `PGPASSWORD` is used) and creates the tables when missing.
    ///
    /// # Errors
    /// The URL is not valid, the server cannot be reached or refuses, or the schema fails.
    /// The message names the database without its password.
    pub fn postgres(url: &str) -> Result<Db, DbError> {
        let pg = Pg::new(url)?;
        let mut db = Db::Postgres(Box::new(pg));
        if let Db::Postgres(pg) = &mut db {
            pg.client()?;
        }
        db.migrate("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")?;
        Ok(db)
    }

    /// Another connection to the same PostgreSQL database (made on first use), for a
    /// pool; `None` for `SQLite`, whose one connection serves every request (its writers
    /// are serialized anyway, and one connection never waits on its own file lock).
    #[must_use]
    pub fn sibling(&self) -> Option<Db> {
        match self {
            Db::Sqlite(_) => None,
            Db::Postgres(pg) => Some(Db::Postgres(Box::new(Pg {
                config: pg.config.clone(),
                name: pg.name.clone(),
                client: None,
                statements: HashMap::new(),
                in_transaction: false,
            }))),
        }
    }

    /// Creates the tables (serialized across replicas starting at once), records the
    /// schema's version, refuses a newer one.
    fn migrate(&mut self, id_column: &str) -> Result<(), DbError> {
        let schema = SCHEMA.replace("{ID}", id_column);
        self.transaction("escc-schema", |db| {
            db.batch(&schema)?;
            let found: Option<String> = db.query_opt(
                "SELECT value FROM meta WHERE key = 'schema-version'",
                &[],
                |r| r.get(0),
            )?;
            match found.as_deref().map(str::parse::<i64>) {
                None => {
                    db.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema-version', ?1)",
                        &[&SCHEMA_VERSION.to_string()],
                    )?;
                }
                Some(Ok(v)) if v == SCHEMA_VERSION => {}
                // An older database: the batch above added the new tables.
                Some(Ok(v)) if v < SCHEMA_VERSION => {
                    db.execute(
                        "UPDATE meta SET value = ?1 WHERE key = 'schema-version'",
                        &[&SCHEMA_VERSION.to_string()],
                    )?;
                }
                Some(v) => {
                    return Err(DbError::new(format!(
                        "the database's schema is version {}, newer than this escc's \
                         ({SCHEMA_VERSION}): upgrade escc",
                        v.map_or_else(|_| "?".to_owned(), |v| v.to_string())
                    )));
                }
            }
            Ok(())
        })
    }

    /// Runs statements with no parameters (the schema).
    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => c.execute_batch(sql).map_err(|e| lite(&e)),
            Db::Postgres(pg) => pg.batch(sql),
        }
    }

    /// Runs one statement; how many rows it changed.
    ///
    /// # Errors
    /// The database fails.
    pub fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64, DbError> {
        let values: Vec<Value> = params.iter().map(|p| Param::value(*p)).collect();
        match self {
            Db::Sqlite(c) => {
                let mut st = c.prepare_cached(sql).map_err(|e| lite(&e))?;
                st.execute(rusqlite::params_from_iter(values.iter().map(to_lite)))
                    .map(|n| n as u64)
                    .map_err(|e| lite(&e))
            }
            Db::Postgres(pg) => pg.run(sql, &values, false).map(|(_, n)| n),
        }
    }

    /// Runs a query; `f` maps each row.
    ///
    /// # Errors
    /// The database fails, or `f` does.
    pub fn query<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnMut(&Row) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        self.rows(sql, params)?.iter().map(f).collect()
    }

    /// The first row of a query, if any.
    ///
    /// # Errors
    /// The database fails, or `f` does.
    pub fn query_opt<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row) -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        self.rows(sql, params)?.first().map(f).transpose()
    }

    fn rows(&mut self, sql: &str, params: &[&dyn Param]) -> Result<Vec<Row>, DbError> {
        let values: Vec<Value> = params.iter().map(|p| Param::value(*p)).collect();
        match self {
            Db::Sqlite(c) => {
                let mut st = c.prepare_cached(sql).map_err(|e| lite(&e))?;
                let width = st.column_count();
                let mut rows = st
                    .query(rusqlite::params_from_iter(values.iter().map(to_lite)))
                    .map_err(|e| lite(&e))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next().map_err(|e| lite(&e))? {
                    let mut row = Vec::with_capacity(width);
                    for i in 0..width {
                        row.push(from_lite(r.get_ref(i).map_err(|e| lite(&e))?)?);
                    }
                    out.push(Row(row));
                }
                Ok(out)
            }
            Db::Postgres(pg) => Ok(pg.run(sql, &values, true)?.0),
        }
    }

    /// Runs `f` in one transaction that holds the write lock of `key` (an environment's
    /// name, or another resource's): committed when `f` returns `Ok`, rolled back
    /// otherwise. `SQLite` holds its one write lock (`BEGIN IMMEDIATE`); PostgreSQL a
    /// transaction-scoped advisory lock on the key's hash, so writers of one key queue,
    /// on every replica, and see each other's commits.
    ///
    /// # Errors
    /// The database fails, or `f` does (its error is returned as is).
    pub fn transaction<T, E: From<DbError>>(
        &mut self,
        key: &str,
        f: impl FnOnce(&mut Db) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Db::Sqlite(_) => self.batch("BEGIN IMMEDIATE")?,
            Db::Postgres(_) => {
                self.batch("BEGIN")?;
                if let Err(e) = self.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))",
                    &[&key],
                ) {
                    let _ = self.batch("ROLLBACK");
                    return Err(e.into());
                }
            }
        }
        if let Db::Postgres(pg) = self {
            pg.in_transaction = true;
        }
        let out = f(self);
        let end = match &out {
            Ok(_) => self.batch("COMMIT"),
            Err(_) => self.batch("ROLLBACK"),
        };
        if let Db::Postgres(pg) = self {
            pg.in_transaction = false;
        }
        let value = out?;
        end?;
        Ok(value)
    }
}

fn to_lite(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::Null => rusqlite::types::Value::Null,
        Value::Int(i) => rusqlite::types::Value::Integer(*i),
        Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
    }
}

fn from_lite(v: rusqlite::types::ValueRef<'_>) -> Result<Value, DbError> {
    use rusqlite::types::ValueRef;
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Real(_) | ValueRef::Blob(_) => {
            return Err(DbError::new(
                "a column is neither an integer nor text".to_owned(),
            ));
        }
    })
}

/// The PostgreSQL connection: reconnected when the server closed it (a restart, a
/// failover) outside a transaction; prepared statements cached by their text.
pub struct Pg {
    config: postgres::Config,
    /// `postgres://USER@HOST:PORT/DB`: no password.
    name: String,
    client: Option<postgres::Client>,
    statements: HashMap<String, postgres::Statement>,
    in_transaction: bool,
}

/// At most this many prepared statements are kept per connection (the store's SQL is a
/// fixed set; the cap only bounds memory if it ever is not).
const MAX_STATEMENTS: usize = 256;

/// `url` as `postgres://USER@HOST:PORT/DB`, without its password (for messages), or a
/// generic name when it cannot be parsed.
#[must_use]
pub fn redacted(url: &str) -> String {
    url.parse::<postgres::Config>()
        .map_or_else(|_| "the --database URL".to_owned(), |c| describe_config(&c))
}

fn describe_config(c: &postgres::Config) -> String {
    use postgres::config::Host;
    let host = match c.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        c.get_user().unwrap_or(""),
        c.get_dbname().or(c.get_user()).unwrap_or("")
    )
}

fn pg_error(e: &postgres::Error) -> DbError {
    DbError {
        message: describe(e),
        unique: e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION),
    }
}

impl Pg {
    fn new(url: &str) -> Result<Pg, DbError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(DbError::new(
                "--database: expected a URL postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
                    .to_owned(),
            ));
        }
        // The parser's message names the option that is wrong, never its value.
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            DbError::new(format!("--database: not a valid PostgreSQL URL: {e}"))
        })?;
        if config.get_password().is_none()
            && let Some(pw) = std::env::var_os("PGPASSWORD")
        {
            config.password(pw.as_encoded_bytes());
        }
        if config.get_application_name().is_none() {
            config.application_name("escc serve");
        }
        let timeout = std::time::Duration::from_secs(10);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(timeout);
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(timeout);
        }
        // A server that stops answering, or a lock never released, ends the statement
        // (a request then answers 503) instead of holding a request forever.
        if config.get_options().is_none() {
            config.options("-c statement_timeout=30000 -c lock_timeout=10000");
        }
        let name = describe_config(&config);
        Ok(Pg {
            config,
            name,
            client: None,
            statements: HashMap::new(),
            in_transaction: false,
        })
    }

    /// The connection, made again when missing or closed (never inside a transaction:
    /// a new connection would not be in it).
    fn client(&mut self) -> Result<&mut postgres::Client, DbError> {
        let closed = self.client.as_ref().is_none_or(postgres::Client::is_closed);
        if closed {
            if self.in_transaction {
                return Err(DbError::new(format!(
                    "{}: the connection was lost in a transaction",
                    self.name
                )));
            }
            self.statements.clear();
            self.client = None;
            let client = self
                .config
                .connect(postgres::NoTls)
                .map_err(|e| DbError::new(format!("{}: {}", self.name, describe(&e))))?;
            self.client = Some(client);
        }
        self.client
            .as_mut()
            .ok_or_else(|| DbError::new("no connection".to_owned()))
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.client()?.batch_execute(sql).map_err(|e| pg_error(&e))
    }

    /// Runs `sql` (with `?N` placeholders) with `values`: the rows (when `rows`) or the
    /// number of rows changed.
    fn run(&mut self, sql: &str, values: &[Value], rows: bool) -> Result<(Vec<Row>, u64), DbError> {
        let statement = match self.statements.get(sql) {
            Some(s) => s.clone(),
            None => {
                let s = self
                    .client()?
                    .prepare(&dollar_placeholders(sql))
                    .map_err(|e| pg_error(&e))?;
                if self.statements.len() >= MAX_STATEMENTS {
                    self.statements.clear();
                }
                self.statements.insert(sql.to_owned(), s.clone());
                s
            }
        };
        let bound = values
            .iter()
            .zip(statement.params())
            .enumerate()
            .map(|(i, (v, ty))| to_pg(v, ty).map_err(|e| DbError::new(format!("${}: {e}", i + 1))))
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            bound.iter().map(|b| &**b as _).collect();
        let client = self.client()?;
        let result = if rows {
            client.query(&statement, &refs).map(|rs| {
                let n = rs.len() as u64;
                (rs, n)
            })
        } else {
            client.execute(&statement, &refs).map(|n| (Vec::new(), n))
        };
        let (pg_rows, n) = result.map_err(|e| {
            // A statement prepared before a schema change, or on a connection now gone.
            self.statements.remove(sql);
            pg_error(&e)
        })?;
        let out = pg_rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| from_pg(r, i))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Row)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((out, n))
    }
}

/// `?N` placeholders as PostgreSQL's `$N` (outside quoted text).
fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quote) {
            ('\'' | '"', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('?', None) if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

type PgParam = Box<dyn postgres::types::ToSql + Sync>;

/// `v` as the parameter type PostgreSQL inferred.
fn to_pg(v: &Value, ty: &postgres::types::Type) -> Result<PgParam, String> {
    use postgres::types::Type;
    let int = |i: i64| -> Result<PgParam, String> {
        Ok(match *ty {
            Type::INT8 => Box::new(i),
            Type::INT4 => Box::new(i32::try_from(i).map_err(|e| e.to_string())?),
            Type::INT2 => Box::new(i16::try_from(i).map_err(|e| e.to_string())?),
            Type::BOOL => Box::new(i != 0),
            Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => Box::new(i.to_string()),
            _ => return Err(format!("an integer for a parameter of type {ty}")),
        })
    };
    Ok(match v {
        Value::Int(i) => int(*i)?,
        Value::Text(s) => match *ty {
            Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR | Type::UNKNOWN => {
                Box::new(s.clone())
            }
            _ => return Err(format!("text for a parameter of type {ty}")),
        },
        Value::Null => match *ty {
            Type::INT8 => Box::new(None::<i64>),
            Type::INT4 => Box::new(None::<i32>),
            Type::INT2 => Box::new(None::<i16>),
            Type::BOOL => Box::new(None::<bool>),
            _ => Box::new(None::<String>),
        },
    })
}

fn from_pg(r: &postgres::Row, i: usize) -> Result<Value, DbError> {
    use postgres::types::Type;
    let ty = r.columns()[i].type_().clone();
    let bad = |e: postgres::Error| DbError::new(format!("column {i}: {e}"));
    let int = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
    Ok(match ty {
        Type::INT8 => int(r.try_get::<_, Option<i64>>(i).map_err(bad)?),
        Type::INT4 => int(r.try_get::<_, Option<i32>>(i).map_err(bad)?.map(i64::from)),
        Type::INT2 => int(r.try_get::<_, Option<i16>>(i).map_err(bad)?.map(i64::from)),
        Type::BOOL => int(r.try_get::<_, Option<bool>>(i).map_err(bad)?.map(i64::from)),
        Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => r
            .try_get::<_, Option<String>>(i)
            .map_err(bad)?
            .map_or(Value::Null, Value::Text),
        Type::VOID => Value::Null,
        _ => return Err(DbError::new(format!("column {i}: unexpected type {ty}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_redaction() {
        assert_eq!(
            dollar_placeholders("SELECT '?1', \"?2\" FROM t WHERE a = ?1 AND b = ?12 AND c = ?"),
            "SELECT '?1', \"?2\" FROM t WHERE a = $1 AND b = $12 AND c = ?"
        );
        let url = "postgres://escc:pa%27ss-w0rd@db.example:6543/esc";
        assert_eq!(redacted(url), "postgres://escc@db.example:6543/esc");
        assert!(!redacted("postgres://u:secretpw@h:notaport/d").contains("secretpw"));
        let e = Pg::new("postgres://u:secretpw@h:notaport/d").err().unwrap();
        assert!(!e.message.contains("secretpw"), "{e:?}");
        let e = Pg::new("mysql://u:secretpw@h/d").err().unwrap();
        assert!(!e.message.contains("secretpw"), "{e:?}");
    }

    /// The tables of schema version 1 (before revision tags, retractions and
    /// environment tags), as `SQLite` had them.
    const SCHEMA_V1: &str = "
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE environments (name TEXT PRIMARY KEY, created BIGINT NOT NULL,
            modified BIGINT NOT NULL, revision BIGINT NOT NULL);
        CREATE TABLE revisions (name TEXT NOT NULL, revision BIGINT NOT NULL,
            yaml TEXT NOT NULL, created BIGINT NOT NULL, creator TEXT NOT NULL,
            PRIMARY KEY (name, revision));
        CREATE TABLE sessions (id TEXT PRIMARY KEY, name TEXT NOT NULL,
            revision BIGINT NOT NULL, expires BIGINT NOT NULL);
        CREATE TABLE tokens (hash TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL, scope TEXT NOT NULL, created BIGINT NOT NULL, expires BIGINT);
        CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time BIGINT NOT NULL,
            who TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
            remote TEXT NOT NULL, outcome TEXT NOT NULL);
        INSERT INTO environments VALUES ('app/dev', 1, 2, 2);
        INSERT INTO revisions VALUES ('app/dev', 1, 'values: {a: 1}', 1, 'al');
        INSERT INTO revisions VALUES ('app/dev', 2, 'values: {a: 2}', 2, 'bo');
        INSERT INTO tokens VALUES ('h1', 'ci', 'reader', '*', 1, NULL);
        INSERT INTO audit (time, who, action, target, remote, outcome)
            VALUES (3, 'ci', 'open', 'acme/app/dev', 'cli', 'ok');
    ";

    /// Version 2 added these (with data).
    const SCHEMA_V2: &str = "
        CREATE TABLE revision_tags (name TEXT NOT NULL, tag TEXT NOT NULL,
            revision BIGINT NOT NULL, created BIGINT NOT NULL, modified BIGINT NOT NULL,
            editor TEXT NOT NULL, PRIMARY KEY (name, tag));
        CREATE TABLE retractions (name TEXT NOT NULL, revision BIGINT NOT NULL,
            replacement BIGINT NOT NULL, time BIGINT NOT NULL, who TEXT NOT NULL,
            reason TEXT NOT NULL, PRIMARY KEY (name, revision));
        INSERT INTO revision_tags VALUES ('app/dev', 'prod', 1, 4, 4, 'al');
        INSERT INTO retractions VALUES ('app/dev', 1, 2, 5, 'bo', 'bad');
    ";

    /// A database of schema version 1 or 2, written by SQL, is migrated to
    /// [`SCHEMA_VERSION`] on open and keeps its data; a newer one is refused.
    #[test]
    fn older_databases_are_migrated_on_open_and_keep_their_data() {
        use crate::serve::store::{EnvTagRow, Store};
        for version in [1, 2] {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join(crate::serve::store::DB_FILE);
            {
                let c = rusqlite::Connection::open(&file).unwrap();
                c.execute_batch(SCHEMA_V1).unwrap();
                if version == 2 {
                    c.execute_batch(SCHEMA_V2).unwrap();
                }
                c.execute(
                    "INSERT INTO meta VALUES ('schema-version', ?1), ('escc.toml', 'x = 1')",
                    [version.to_string()],
                )
                .unwrap();
            }
            let mut s = Store::open(dir.path()).unwrap();
            assert_eq!(
                s.meta("schema-version").unwrap().as_deref(),
                Some(SCHEMA_VERSION.to_string().as_str()),
                "from version {version}"
            );
            assert_eq!(s.meta("escc.toml").unwrap().as_deref(), Some("x = 1"));
            assert_eq!(
                s.definition("app/dev", None).unwrap(),
                Some(("values: {a: 2}".to_owned(), 2))
            );
            assert_eq!(s.revisions("app/dev").unwrap().len(), 2);
            assert_eq!(s.token("h1").unwrap().unwrap().name, "ci");
            assert_eq!(s.audit_log(0).unwrap().len(), 1);
            let tags = s.revision_tags("app/dev").unwrap();
            let retracted = s.retractions("app/dev").unwrap();
            if version == 2 {
                assert_eq!((tags.len(), tags[0].revision), (1, 1));
                assert_eq!(retracted[0].reason, "bad");
            } else {
                assert!(tags.is_empty() && retracted.is_empty());
            }
            // The new table works; the next write goes on from the kept revisions.
            let row = EnvTagRow {
                tag: "team".into(),
                value: "a".into(),
                created: 6,
                modified: 6,
                editor: "ci".into(),
            };
            assert!(s.add_env_tag("app/dev", &row).unwrap());
            assert_eq!(s.write("app/dev", "values: {}", "ci", Some(2), 7), Ok(3));
            drop(s);
            // Opening it again is a no-op.
            let mut s = Store::open(dir.path()).unwrap();
            assert_eq!(s.env_tags("app/dev").unwrap(), vec![row]);
        }
        // A newer database is refused, untouched.
        let dir = tempfile::tempdir().unwrap();
        Store::open(dir.path()).unwrap();
        let file = dir.path().join(crate::serve::store::DB_FILE);
        rusqlite::Connection::open(&file)
            .unwrap()
            .execute(
                "UPDATE meta SET value = '99' WHERE key = 'schema-version'",
                [],
            )
            .unwrap();
        let e = Store::open(dir.path()).unwrap_err();
        assert!(e.contains("version 99, newer than this escc's"), "{e}");
    }
}
