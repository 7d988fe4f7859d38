//! What a PostgreSQL client error says, for the `postgres` rotator and `escc serve`'s
//! database: one wording, and never the password.

/// What went wrong: the server's message (`FATAL: password authentication failed for user
/// "x"`), else the client's with its causes (`error connecting to server: Connection
/// refused`). Neither holds the password: it is never sent in the clear (SCRAM or MD5), nor
/// put in messages.
pub(crate) fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
