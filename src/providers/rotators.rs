//! ESC's built-in rotators: `aws-iam` (with the `providers` feature), `postgres` and `mysql`
//! (with the `rotators` feature). Their schemas (`schemas::ROTATORS`) are always known, so a
//! check validates their inputs and state whatever the features.
//!
//! Opening a rotator returns its state (ESC's outputs are the state); rotating returns the
//! next state. The database rotators share one state machine ([`next_user`]): two users
//! alternate, and a rotation changes the password of the user that is not `current`, which
//! becomes `current`, while the old `current` becomes `previous`. Before the first rotation
//! the state is empty and `username1` is rotated first, so the state is full after two
//! rotations (as ESC's documentation says).
//!
//! No error of this module quotes a secret: the secret texts of the inputs and state (and
//! the new password) are masked in every message.

use super::Network;
use super::schemas::RotatorRow;
use crate::eval::{Rotator, Value, ValueKind};
use crate::secrets::Masker;

/// A built-in rotator.
pub(super) struct Builtin {
    pub(super) row: &'static RotatorRow,
    pub(super) network: Network,
}

impl Rotator for Builtin {
    fn schema(&self) -> (serde_json::Value, serde_json::Value, serde_json::Value) {
        (
            super::descriptions::describe_rotator(self.row.name, (self.row.inputs)()),
            (self.row.state)(),
            (self.row.outputs)(),
        )
    }

    fn open(
        &self,
        _inputs: &Value,
        state: Option<&Value>,
        _context: &Value,
    ) -> Result<Value, String> {
        Ok(outputs(state))
    }

    fn rotate(
        &self,
        inputs: &Value,
        state: Option<&Value>,
        _context: &Value,
    ) -> Result<Value, String> {
        let name = self.row.name;
        let result = match name {
            #[cfg(feature = "providers")]
            "aws-iam" => super::iam::rotate(inputs, state, &self.network),
            #[cfg(feature = "rotators")]
            "postgres" => database(inputs, state, &self.network, super::postgres::set_password),
            #[cfg(feature = "rotators")]
            "mysql" => database(inputs, state, &self.network, super::mysql::set_password),
            _ => {
                let _ = (inputs, &self.network);
                Err(format!(
                    "this build of escc cannot rotate it (built without the `{}` feature); \
                     it checks its inputs and opens its state",
                    if name == "aws-iam" {
                        "providers"
                    } else {
                        "rotators"
                    }
                ))
            }
        };
        // Whatever an error says, the secret texts of the inputs and state never show in it.
        result.map_err(|e| {
            let mut secrets = inputs.secret_texts();
            if let Some(s) = state {
                secrets.extend(s.secret_texts());
            }
            format!("{name}: {}", Masker::new(secrets).mask_str(&e))
        })
    }
}

/// The fields of a built-in rotator's state that hold a secret: a database user's
/// `password`, an access key's `secretAccessKey`.
const SECRET_FIELDS: [&str; 2] = ["password", "secretAccessKey"];

/// The outputs of a built-in rotator: its state (an empty object before the first
/// rotation), with the secret fields of `current` and `previous` marked secret even when
/// the document wrote them in plain text.
fn outputs(state: Option<&Value>) -> Value {
    let mut out = state
        .cloned()
        .filter(|s| matches!(s.kind, ValueKind::Object(_)))
        .unwrap_or_else(|| Value::object([]));
    if let ValueKind::Object(m) = &mut out.kind {
        for slot in ["current", "previous"] {
            if let Some(Value {
                kind: ValueKind::Object(fields),
                ..
            }) = m.get_mut(slot)
            {
                for f in SECRET_FIELDS {
                    if let Some(v) = fields.get_mut(f) {
                        v.make_secret();
                    }
                }
            }
        }
    }
    // As for a built-in provider's output: what a secret part holds is secret too.
    super::seal(&mut out);
    out
}

/// What a rotation that succeeded on the server but was not written into the file left
/// behind there, and what to do about it, for rotator `name` with `new_state` (what it
/// returned). Names no secret.
#[must_use]
pub fn unwritten(name: &str, new_state: &Value) -> String {
    let current = |field: &str| {
        new_state
            .get("current")
            .and_then(|c| c.get(field))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match name {
        "postgres" | "mysql" => match current("username") {
            Some(user) => format!(
                "the password of database user {user:?} was changed and the new one is not \
                 recorded; the file's current credentials still work, and the next rotation \
                 changes {user:?}'s password again"
            ),
            None => "a database password was changed and is not recorded".to_owned(),
        },
        "aws-iam" => match current("accessKeyId") {
            Some(key) => format!(
                "access key {key} was created (and the state's previous key, if any, \
                 deleted); its secret is not recorded, and IAM allows two keys per user: delete it (aws iam \
                 delete-access-key --user-name USER --access-key-id {key}) before the next \
                 rotation"
            ),
            None => "an access key was created and is not recorded".to_owned(),
        },
        _ => format!(
            "rotator {name:?} rotated, and its new state is not recorded; see what it changes \
             before rotating again"
        ),
    }
}

/// What a database rotation does on the server: set `target`'s password to `password`,
/// connected as the managing user.
#[cfg(feature = "rotators")]
pub(super) struct PasswordChange<'a> {
    pub(super) host: &'a str,
    pub(super) port: u16,
    pub(super) database: &'a str,
    pub(super) managing_user: &'a str,
    pub(super) managing_password: &'a str,
    pub(super) target: &'a str,
    pub(super) password: &'a str,
    /// How long connecting, and each statement, may take.
    pub(super) timeout: std::time::Duration,
}

#[cfg(feature = "rotators")]
impl std::fmt::Debug for PasswordChange<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("managing_user", &self.managing_user)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// The user a database rotation changes: the one of `username1` and `username2` that is
/// not `current` (`username1` when there is no current user, or when the current user is
/// neither, after `rotateUsers` changed).
#[cfg(any(feature = "rotators", test))]
fn next_user<'a>(username1: &'a str, username2: &'a str, current: Option<&str>) -> &'a str {
    if current == Some(username1) {
        username2
    } else {
        username1
    }
}

/// A `postgres` or `mysql` rotation: reads the inputs, picks the user ([`next_user`]),
/// makes a password, has `set_password` change it on the server, and returns the new
/// state.
#[cfg(feature = "rotators")]
fn database(
    inputs: &Value,
    state: Option<&Value>,
    network: &Network,
    set_password: fn(&PasswordChange<'_>) -> Result<(), String>,
) -> Result<Value, String> {
    use super::shared::{object_at, secret_string, string_at};
    let db = object_at(inputs, "database", "")?;
    if db.get("connector").is_some() {
        return Err(
            "database.connector: escc connects to the database itself; rotating \
                    through an AWS Lambda connector is not supported (leave `connector` out \
                    when the database is reachable from where escc runs)"
                .to_owned(),
        );
    }
    let host = string_at(db, "host", "database")?;
    let database = string_at(db, "database", "database")?;
    let port = match db.get("port").map(|p| &p.kind) {
        Some(ValueKind::Number(n)) => n
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("database.port: {n} is not a port (1 to 65535)"))?,
        _ => return Err("database.port: expected a number".to_owned()),
    };
    let managing = object_at(db, "managingUser", "database")?;
    let managing_user = string_at(managing, "username", "database.managingUser")?;
    let managing_password = string_at(managing, "password", "database.managingUser")?;
    let users = object_at(inputs, "rotateUsers", "")?;
    let username1 = string_at(users, "username1", "rotateUsers")?;
    let username2 = string_at(users, "username2", "rotateUsers")?;
    if username1 == username2 {
        return Err(format!(
            "rotateUsers: username1 and username2 are both {username1:?}; the rotation \
             alternates between two different users"
        ));
    }
    for (field, user) in [("username1", &username1), ("username2", &username2)] {
        if user.is_empty() || user.contains('\0') {
            return Err(format!(
                "rotateUsers.{field}: a user name must be non-empty and hold no NUL character"
            ));
        }
    }
    let current = state.and_then(|s| s.get("current"));
    let current_user = current
        .and_then(|c| c.get("username"))
        .and_then(Value::as_str);
    let target = next_user(&username1, &username2, current_user);
    if network.is_offline() {
        return Err(format!(
            "escc is offline (--offline or ESCC_OFFLINE): it would connect to {host}:{port}"
        ));
    }
    let password = new_password()?;
    let change = PasswordChange {
        host: &host,
        port,
        database: &database,
        managing_user: &managing_user,
        managing_password: &managing_password,
        target,
        password: &password,
        timeout: network.request_timeout(Some("ESCC_DB_TIMEOUT"))?,
    };
    set_password(&change).map_err(|e| {
        let secrets = [password.clone(), managing_password.clone()];
        Masker::new(secrets).mask_str(&e)
    })?;
    // A user name the document keeps secret stays secret in the state.
    let field = if target == username1 {
        "username1"
    } else {
        "username2"
    };
    let username = Value {
        secret: users.get(field).is_some_and(|u| u.secret),
        ..Value::string(target)
    };
    let mut next = vec![(
        "current".to_owned(),
        Value::object([
            ("username".to_owned(), username),
            ("password".to_owned(), secret_string(password)),
        ]),
    )];
    if let Some(c) = current {
        next.push(("previous".to_owned(), c.clone()));
    }
    Ok(outputs(Some(&Value::object(next))))
}

/// The characters of a new password: letters, digits, and four punctuation marks that
/// need no quoting in a URL, a shell word or a connection string, so that policies asking
/// for a "special" character are met.
#[cfg(feature = "rotators")]
const PASSWORD_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";

/// The length of a new password (about 193 bits).
#[cfg(feature = "rotators")]
const PASSWORD_LENGTH: usize = 32;

/// A new random password from the operating system's generator, with at least one
/// upper-case letter, lower-case letter, digit and punctuation mark.
#[cfg(feature = "rotators")]
fn new_password() -> Result<String, String> {
    // 66 × 3 = 198: bytes at or above it are dropped, so every character is equally
    // likely.
    let limit = u8::try_from(PASSWORD_ALPHABET.len() * 3).unwrap_or(u8::MAX);
    loop {
        let mut out = String::with_capacity(PASSWORD_LENGTH);
        while out.len() < PASSWORD_LENGTH {
            let mut bytes = [0u8; 64];
            getrandom::fill(&mut bytes)
                .map_err(|e| format!("the system's random generator failed: {e}"))?;
            for b in bytes.into_iter().filter(|b| *b < limit) {
                if out.len() < PASSWORD_LENGTH {
                    out.push(char::from(
                        PASSWORD_ALPHABET[usize::from(b) % PASSWORD_ALPHABET.len()],
                    ));
                }
            }
        }
        let has = |f: fn(&char) -> bool| out.chars().any(|c| f(&c));
        if has(char::is_ascii_uppercase)
            && has(char::is_ascii_lowercase)
            && has(char::is_ascii_digit)
            && has(char::is_ascii_punctuation)
        {
            #[cfg(feature = "testing")]
            if let Ok(suffix) = std::env::var("ESCC_TESTING_PASSWORD_SUFFIX") {
                // Only in test builds: lets the tests put quotes, backslashes and `$` in
                // the passwords the servers get.
                out.push_str(&suffix);
            }
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_alternate_starting_with_username1() {
        assert_eq!(next_user("u1", "u2", None), "u1");
        assert_eq!(next_user("u1", "u2", Some("u1")), "u2");
        assert_eq!(next_user("u1", "u2", Some("u2")), "u1");
        // A state whose user is no longer configured starts over.
        assert_eq!(next_user("u1", "u2", Some("old")), "u1");
    }

    #[test]
    fn outputs_are_the_state_with_its_secrets_marked() {
        assert_eq!(outputs(None), Value::object([]));
        let state = Value::object([(
            "current".to_owned(),
            Value::object([
                ("username".to_owned(), Value::string("u1")),
                ("password".to_owned(), Value::string("pw")),
            ]),
        )]);
        let out = outputs(Some(&state));
        let current = out.get("current").unwrap();
        assert!(current.get("password").unwrap().secret);
        assert!(!current.get("username").unwrap().secret);
        // What a secret part of the state holds is secret too (`${db.previous.username}`
        // taken out of a secret `previous` must not print in plain).
        let mut previous = Value::object([("username".to_owned(), Value::string("u2"))]);
        previous.secret = true;
        let state = Value::object([("previous".to_owned(), previous)]);
        let out = outputs(Some(&state));
        assert!(
            out.get("previous")
                .and_then(|p| p.get("username"))
                .unwrap()
                .secret
        );
    }

    #[cfg(feature = "rotators")]
    #[test]
    fn passwords_are_long_random_and_mixed() {
        let a = new_password().unwrap();
        let b = new_password().unwrap();
        assert_ne!(a, b);
        for p in [&a, &b] {
            assert!(p.len() >= PASSWORD_LENGTH, "{}", p.len());
            assert!(
                p.bytes()
                    .take(PASSWORD_LENGTH)
                    .all(|c| PASSWORD_ALPHABET.contains(&c))
            );
            assert!(p.chars().any(|c| c.is_ascii_punctuation()));
        }
    }

    #[cfg(feature = "rotators")]
    fn inputs(database: Vec<(&str, Value)>) -> Value {
        let pair = |k: &str, v: &str| (k.to_owned(), Value::string(v));
        let mut db: Vec<(String, Value)> = vec![
            pair("database", "appdb"),
            pair("host", "127.0.0.1"),
            (
                "port".to_owned(),
                Value::new(ValueKind::Number("9".to_owned())),
            ),
            (
                "managingUser".to_owned(),
                Value::object([
                    pair("username", "m"),
                    (
                        "password".to_owned(),
                        Value {
                            secret: true,
                            ..Value::string("manager-secret")
                        },
                    ),
                ]),
            ),
        ];
        db.extend(database.into_iter().map(|(k, v)| (k.to_owned(), v)));
        Value::object([
            ("database".to_owned(), Value::object(db)),
            (
                "rotateUsers".to_owned(),
                Value::object([pair("username1", "u1"), pair("username2", "u2")]),
            ),
        ])
    }

    #[cfg(feature = "rotators")]
    #[test]
    fn what_cannot_rotate_is_refused_before_connecting() {
        let never = |_: &PasswordChange<'_>| -> Result<(), String> {
            panic!("it connected");
        };
        let network = Network::new();
        let connector = inputs(vec![(
            "connector",
            Value::object([("awsLambda".to_owned(), Value::object([]))]),
        )]);
        let e = database(&connector, None, &network, never).unwrap_err();
        assert!(
            e.starts_with("database.connector: escc connects to the database itself"),
            "{e}"
        );
        let mut same = inputs(vec![]);
        if let ValueKind::Object(m) = &mut same.kind {
            m.insert(
                "rotateUsers".to_owned(),
                Value::object([
                    ("username1".to_owned(), Value::string("u")),
                    ("username2".to_owned(), Value::string("u")),
                ]),
            );
        }
        let e = database(&same, None, &network, never).unwrap_err();
        assert!(e.contains("username1 and username2 are both \"u\""), "{e}");
        let e = database(&inputs(vec![]), None, &network.clone().offline(true), never).unwrap_err();
        assert_eq!(
            e,
            "escc is offline (--offline or ESCC_OFFLINE): it would connect to 127.0.0.1:9"
        );
    }

    #[cfg(feature = "rotators")]
    #[test]
    fn a_failed_change_names_no_password() {
        let fail = |c: &PasswordChange<'_>| -> Result<(), String> {
            Err(format!(
                "syntax error near '{}' for {}",
                c.password, c.managing_password
            ))
        };
        let e = database(&inputs(vec![]), None, &Network::new(), fail).unwrap_err();
        assert_eq!(e, "syntax error near '[secret]' for [secret]");
        // And the rotator masks the inputs' secrets in whatever it reports.
        let debug = format!(
            "{:?}",
            PasswordChange {
                host: "h",
                port: 1,
                database: "d",
                managing_user: "m",
                managing_password: "manager-secret",
                target: "u",
                password: "new-secret",
                timeout: std::time::Duration::from_secs(1),
            }
        );
        assert!(!debug.contains("secret"), "{debug}");
    }

    #[test]
    fn unwritten_rotations_name_what_changed_and_no_secret() {
        let state = Value::object([(
            "current".to_owned(),
            Value::object([
                ("username".to_owned(), Value::string("user2")),
                (
                    "password".to_owned(),
                    Value {
                        secret: true,
                        ..Value::string("hunter2-secret")
                    },
                ),
            ]),
        )]);
        let text = unwritten("postgres", &state);
        assert!(text.contains("\"user2\""), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        let key = Value::object([(
            "current".to_owned(),
            Value::object([("accessKeyId".to_owned(), Value::string("AKIANEW"))]),
        )]);
        assert!(unwritten("aws-iam", &key).contains("--access-key-id AKIANEW"));
    }
}
