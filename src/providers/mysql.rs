//! The `mysql` rotator's server side: connected as the managing user,
//! `ALTER USER 'user'@'%' IDENTIFIED BY '...'` (MySQL and MariaDB).
//!
//! MySQL does not take placeholders in `ALTER USER` (a `?` there is a syntax error), so the
//! user and the password are written as quoted literals: a quote is doubled and, unless
//! the session's `sql_mode` has `NO_BACKSLASH_ESCAPES` (asked first), a backslash too. The
//! host part is `'%'`, as in ESC's documentation. No TLS: the connection is plain TCP, and
//! the password is sent as MySQL's `ALTER USER` takes it, in the statement.

use mysql::prelude::Queryable as _;

use super::rotators::PasswordChange;

/// Sets the password of `change.target`.
pub(super) fn set_password(change: &PasswordChange<'_>) -> Result<(), String> {
    let timeout = Some(change.timeout);
    let options = mysql::OptsBuilder::new()
        .ip_or_hostname(Some(change.host))
        .tcp_port(change.port)
        .db_name(Some(change.database))
        .user(Some(change.managing_user))
        .pass(Some(change.managing_password))
        .tcp_connect_timeout(timeout)
        .read_timeout(timeout)
        .write_timeout(timeout)
        // Else the client asks for the server's socket file and reconnects through it:
        // the host given is the one used.
        .prefer_socket(false);
    let mut conn = mysql::Conn::new(options).map_err(|e| {
        format!(
            "connecting to {}:{} (database {:?}) as {:?}: {e}",
            change.host, change.port, change.database, change.managing_user
        )
    })?;
    let fail = |e: mysql::Error| format!("changing the password of {:?}: {e}", change.target);
    let mode: Option<String> = conn
        .query_first("SELECT @@SESSION.sql_mode")
        .map_err(fail)?;
    let backslashes = !mode.unwrap_or_default().contains("NO_BACKSLASH_ESCAPES");
    conn.query_drop(alter_user(change.target, change.password, backslashes))
        .map_err(fail)?;
    drop(conn);
    Ok(())
}

/// `ALTER USER '<user>'@'%' IDENTIFIED BY '<password>'`, quoted for a session where a
/// backslash escapes (`backslashes`) or not.
fn alter_user(user: &str, password: &str, backslashes: bool) -> String {
    format!(
        "ALTER USER {}@'%' IDENTIFIED BY {}",
        literal(user, backslashes),
        literal(password, backslashes)
    )
}

/// `text` as a MySQL string literal.
fn literal(text: &str, backslashes: bool) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if backslashes => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_quoted_for_the_session() {
        assert_eq!(
            alter_user("o'neil", "p'w\\$\"x", true),
            "ALTER USER 'o''neil'@'%' IDENTIFIED BY 'p''w\\\\$\"x'"
        );
        assert_eq!(literal("a\\b'c", false), "'a\\b''c'");
    }
}
