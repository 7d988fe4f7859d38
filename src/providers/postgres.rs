//! The `postgres` rotator's server side: connected as the managing user, `ALTER ROLE
//! "user" WITH PASSWORD '...'`.
//!
//! The password is not sent: escc sends its SCRAM-SHA-256 verifier (what `psql`'s
//! `\password` sends), computed here with a random salt, so the plain password never
//! reaches the server's logs or `pg_stat_activity`. `ALTER ROLE` takes no bind
//! parameters, so the role is quoted as an identifier and the verifier as a literal
//! (`postgres-protocol`'s escaping, libpq's `PQescapeInternal`). No TLS: the connection is
//! plain TCP (or a Unix socket, for a `host` that is a directory).

use super::pg::describe;
use super::rotators::PasswordChange;

/// Sets the password of `change.target`.
pub(super) fn set_password(change: &PasswordChange<'_>) -> Result<(), String> {
    let millis = change.timeout.as_millis();
    let mut config = postgres::Config::new();
    config
        .host(change.host)
        .port(change.port)
        .dbname(change.database)
        .user(change.managing_user)
        .password(change.managing_password)
        .application_name("escc")
        .connect_timeout(change.timeout)
        .tcp_user_timeout(change.timeout)
        // A lock held on the role, or a server that stops answering, ends the statement.
        .options(&format!(
            "-c statement_timeout={millis} -c lock_timeout={millis}"
        ));
    let mut client = config.connect(postgres::NoTls).map_err(|e| {
        format!(
            "connecting to {}:{} (database {:?}) as {:?}: {}",
            change.host,
            change.port,
            change.database,
            change.managing_user,
            describe(&e)
        )
    })?;
    let verifier = postgres_protocol::password::scram_sha_256(change.password.as_bytes());
    client
        .batch_execute(&alter_role(change.target, &verifier))
        .map_err(|e| {
            format!(
                "changing the password of {:?}: {}",
                change.target,
                describe(&e)
            )
        })?;
    // The password is changed; a failure to say goodbye does not undo it.
    let _ = client.close();
    Ok(())
}

/// `ALTER ROLE <role> WITH PASSWORD <verifier>`, both quoted.
fn alter_role(role: &str, verifier: &str) -> String {
    format!(
        "ALTER ROLE {} WITH PASSWORD {}",
        postgres_protocol::escape::escape_identifier(role),
        postgres_protocol::escape::escape_literal(verifier)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_literals_are_quoted() {
        assert_eq!(
            alter_role("us\"er'$\\", "SCRAM-SHA-256$4096:c2FsdA==$a:b"),
            "ALTER ROLE \"us\"\"er'$\\\" WITH PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$a:b'"
        );
        // A literal with a backslash takes the E'' form, right whatever
        // standard_conforming_strings says.
        assert_eq!(
            postgres_protocol::escape::escape_literal("a'b\\c$"),
            " E'a''b\\\\c$'"
        );
    }

    #[test]
    fn the_verifier_hides_the_password() {
        let v = postgres_protocol::password::scram_sha_256(b"p'w\\$x");
        assert!(v.starts_with("SCRAM-SHA-256$4096:"), "{v}");
        assert!(!v.contains("p'w"), "{v}");
    }
}
