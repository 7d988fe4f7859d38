//! `escc.toml`: the project file. One reader for every front end, so the command line and
//! the language server accept and refuse the same files.
//!
//! ```toml
//! [context.pulumi.user]
//! login = "alice"
//!
//! [defaults]
//! environment = "app/dev"
//! deny-warnings = true
//!
//! # Who can decrypt the `fn::secret` values escc encrypts (docs/secrets.md).
//! [encryption]
//! recipients = ["age1...", "ssh-ed25519 AAAA... alice@laptop"]
//!
//! # allow-plaintext = true       # no plaintext-secret warnings (examples, tests)
//!
//! # Environments below prod/ are encrypted to these instead.
//! [encryption.folders.prod]
//! recipients = ["age1..."]
//!
//! [providers.vault-login]          # a plugin serves fn::open::vault-login
//! command = ["python3", "plugins/vault_login.py"]
//! timeout = 10                     # seconds per call (default 30)
//!
//! # Base URLs of the services the built-in providers call, by service name, instead of
//! # the public ones (ESCC_ENDPOINT_<SERVICE> in the environment wins; docs/providers.md).
//! [endpoints]
//! vault = "http://127.0.0.1:8200"
//! ```
//!
//! Unknown keys are errors (a typo should not be silently ignored); `[context]` may hold
//! anything but `currentEnvironment` and `rootEnvironment`, which the evaluator sets.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::names::check_name;
use crate::eval::{Value, ValueKind};
use crate::providers::{PluginConfig, is_plugin_name};

/// The project file's name.
pub const CONFIG_FILE: &str = "escc.toml";

/// The context keys the evaluator sets for each environment.
const RESERVED_CONTEXT_KEYS: [&str; 2] = ["currentEnvironment", "rootEnvironment"];

/// What `escc.toml` says (the defaults when there is no file).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// The execution context (`context.*` in documents), e.g. `[context.pulumi.user]`.
    #[serde(default)]
    context: toml::Table,
    /// Defaults for command-line options.
    #[serde(default)]
    pub defaults: Defaults,
    /// Plugins by provider (or rotator) name: `[providers.NAME] command = [...]`.
    #[serde(default)]
    pub providers: BTreeMap<String, PluginConfig>,
    /// Who secrets are encrypted to.
    #[serde(default)]
    pub encryption: Encryption,
    /// Base URLs by service name (`[endpoints] vault = "http://..."`), for the built-in
    /// providers (see [`crate::providers::Network::endpoint`]).
    #[serde(default)]
    pub endpoints: BTreeMap<String, String>,
}

/// `[encryption]` in `escc.toml`: the recipients of the project's secrets, optionally
/// different for folders of environments.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Encryption {
    /// Public keys (`age1...`, `ssh-ed25519 ...`, `ssh-rsa ...`) every secret is encrypted
    /// to, unless a folder says otherwise.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Per folder (`prod`, `app/prod`): the recipients of the environments below it,
    /// instead of the project's. The longest folder that holds an environment wins.
    #[serde(default)]
    pub folders: BTreeMap<String, Folder>,
    /// `allow-plaintext = true`: plaintext `fn::secret` literals are kept on purpose
    /// (examples, tests), so checks do not warn about them (`plaintext-secret`).
    #[serde(default, rename = "allow-plaintext")]
    pub allow_plaintext: bool,
}

/// `[encryption.folders.NAME]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Folder {
    /// The recipients of the environments below the folder.
    pub recipients: Vec<String>,
}

impl Encryption {
    /// The recipients of environment `name`, and where they are configured
    /// (`encryption.recipients` or `encryption.folders."prod".recipients`).
    #[must_use]
    pub fn recipients_for(&self, name: &str) -> (&[String], String) {
        let folder = self
            .folders
            .iter()
            .filter(|(dir, _)| {
                name.strip_prefix(dir.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|(dir, _)| dir.len());
        match folder {
            Some((dir, f)) => (
                &f.recipients,
                format!("encryption.folders.{dir:?}.recipients"),
            ),
            None => (&self.recipients, "encryption.recipients".to_owned()),
        }
    }

    /// Every list of recipients, with where it is configured: the project's, then each
    /// folder's.
    pub fn lists(&self) -> impl Iterator<Item = (String, &[String])> {
        std::iter::once((
            "encryption.recipients".to_owned(),
            self.recipients.as_slice(),
        ))
        .chain(self.folders.iter().map(|(dir, f)| {
            (
                format!("encryption.folders.{dir:?}.recipients"),
                f.recipients.as_slice(),
            )
        }))
    }

    fn check(&self) -> Result<(), String> {
        let lists = self.lists();
        for dir in self.folders.keys() {
            check_name(dir).map_err(|e| format!("encryption.folders.{dir:?}: {e}"))?;
        }
        for (at, list) in lists {
            if list.is_empty() && at != "encryption.recipients" {
                return Err(format!(
                    "{at} is empty: a folder needs at least one recipient"
                ));
            }
            for (i, r) in list.iter().enumerate() {
                check_recipient(r).map_err(|e| format!("{at}[{i}]: {e}"))?;
            }
        }
        Ok(())
    }
}

/// Whether a recipient parses: with the cipher when it is built in, else by its form.
#[cfg(feature = "age")]
fn check_recipient(r: &str) -> Result<(), String> {
    crate::secrets::age::Recipient::parse(r).map(|_| ())
}

#[cfg(not(feature = "age"))]
fn check_recipient(r: &str) -> Result<(), String> {
    let r = r.trim();
    if r.starts_with("age1") || r.starts_with("ssh-ed25519 ") || r.starts_with("ssh-rsa ") {
        Ok(())
    } else {
        Err(format!(
            "{r:?} is not a recipient: expected an age public key (age1...) or an SSH public \
             key (ssh-ed25519 ... or ssh-rsa ...)"
        ))
    }
}

/// `[defaults]` in `escc.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[non_exhaustive]
pub struct Defaults {
    /// The environment of `get`, `open` and `run` when none is named.
    pub environment: Option<String>,
    /// `check --deny-warnings`.
    pub deny_warnings: Option<bool>,
}

impl Config {
    /// Reads the text of an `escc.toml`. The error is the reason, without the file name.
    ///
    /// # Errors
    /// The TOML is invalid, has an unknown key, sets a reserved context key, or names an
    /// invalid default environment.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config =
            toml::from_str::<Config>(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        for reserved in RESERVED_CONTEXT_KEYS {
            if config.context.contains_key(reserved) {
                return Err(reserved_context_key(reserved));
            }
        }
        if let Some(name) = &config.defaults.environment {
            check_name(name).map_err(|e| format!("defaults.environment: {e}"))?;
        }
        config.encryption.check()?;
        for (name, plugin) in &config.providers {
            if !is_plugin_name(name) {
                return Err(format!(
                    "providers.{name:?}: a provider name is ASCII letters, digits, '-', '_' and '.'"
                ));
            }
            plugin
                .validate()
                .map_err(|e| format!("providers.{name}.{e}"))?;
        }
        for (service, url) in &config.endpoints {
            crate::providers::check_endpoint(service, url)
                .map_err(|e| format!("endpoints.{service}: {e}"))?;
        }
        Ok(config)
    }

    /// The execution context `[context]` describes.
    #[must_use]
    pub fn context(&self) -> Value {
        Value::object(self.context.iter().map(|(k, v)| (k.clone(), from_toml(v))))
    }
}

fn reserved_context_key(key: &str) -> String {
    format!("the execution context must not set {key:?}: escc sets it for each environment")
}

/// Applies `key.path=value` to a context object (a string value; a leading `context.` is
/// optional), as `--context` does.
///
/// # Errors
/// The assignment is not `KEY=VALUE`, the key is not a dotted path, or it sets a reserved
/// key.
pub fn set_context(context: &mut Value, assignment: &str) -> Result<(), String> {
    let Some((key, value)) = assignment.split_once('=') else {
        return Err(format!(
            "--context {assignment:?}: expected KEY=VALUE, e.g. pulumi.user.login=alice"
        ));
    };
    let key = key.strip_prefix("context.").unwrap_or(key);
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "--context {assignment:?}: the key must be a dotted path such as pulumi.user.login"
        ));
    }
    if RESERVED_CONTEXT_KEYS.contains(&parts[0]) {
        return Err(reserved_context_key(parts[0]));
    }
    if !matches!(context.kind, ValueKind::Object(_)) {
        *context = Value::object([]);
    }
    let (last, parents) = parts.split_last().unwrap_or((&"", &[]));
    let mut node = context;
    for p in parents {
        let ValueKind::Object(map) = &mut node.kind else {
            unreachable!("every node on the path is made an object")
        };
        let entry = map
            .entry((*p).to_owned())
            .or_insert_with(|| Value::object([]));
        if !matches!(entry.kind, ValueKind::Object(_)) {
            *entry = Value::object([]);
        }
        node = entry;
    }
    let ValueKind::Object(map) = &mut node.kind else {
        unreachable!("every node on the path is made an object")
    };
    map.insert((*last).to_owned(), Value::string(value));
    Ok(())
}

/// A TOML value as an execution-context value. Integers and floats keep TOML's text form
/// (floats as Rust prints them); dates become strings.
fn from_toml(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::string(s.clone()),
        toml::Value::Integer(i) => Value::new(ValueKind::Number(i.to_string())),
        toml::Value::Float(f) => Value::new(ValueKind::Number(f.to_string())),
        toml::Value::Boolean(b) => Value::new(ValueKind::Bool(*b)),
        toml::Value::Datetime(d) => Value::string(d.to_string()),
        toml::Value::Array(items) => {
            Value::new(ValueKind::Array(items.iter().map(from_toml).collect()))
        }
        toml::Value::Table(t) => Value::object(t.iter().map(|(k, v)| (k.clone(), from_toml(v)))),
    }
}

/// An empty context object.
pub(crate) fn empty_context() -> Value {
    Value::new(ValueKind::Object(BTreeMap::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_and_defaults() {
        let c = Config::parse(
            "[context.pulumi.user]\nlogin = \"alice\"\nn = 2\n[defaults]\nenvironment = \"app/dev\"\ndeny-warnings = true\n",
        )
        .unwrap();
        assert_eq!(
            c.context().to_json(false).to_string(),
            r#"{"pulumi":{"user":{"login":"alice","n":2}}}"#
        );
        assert_eq!(c.defaults.environment.as_deref(), Some("app/dev"));
        assert_eq!(c.defaults.deny_warnings, Some(true));
    }

    #[test]
    fn typos_and_reserved_keys_are_refused() {
        let e = Config::parse("[defaults]\nenviroment = \"x\"\n").unwrap_err();
        assert!(e.contains("unknown field `enviroment`"), "{e}");
        let e = Config::parse("[contxt]\n").unwrap_err();
        assert!(e.contains("unknown field `contxt`"), "{e}");
        let e = Config::parse("[context]\ncurrentEnvironment = \"x\"\n").unwrap_err();
        assert_eq!(
            e,
            "the execution context must not set \"currentEnvironment\": escc sets it for each environment"
        );
        let e = Config::parse("[defaults]\nenvironment = \"../x\"\n").unwrap_err();
        assert!(
            e.starts_with("defaults.environment: invalid environment name"),
            "{e}"
        );
        assert!(Config::parse("[[[").is_err());
    }

    #[test]
    fn encryption_recipients_per_folder() {
        let dev = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
        let ops = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";
        let c = Config::parse(&format!(
            "[encryption]\nrecipients = [\"{dev}\", \"{ops}\"]\n[encryption.folders.prod]\nrecipients = [\"{ops}\"]\n[encryption.folders.\"prod/eu\"]\nrecipients = [\"{dev}\"]\n"
        ))
        .unwrap();
        let e = &c.encryption;
        assert_eq!(e.recipients_for("app/dev").0.len(), 2);
        assert_eq!(e.recipients_for("prodx/a").1, "encryption.recipients");
        assert_eq!(e.recipients_for("prod/a").0, [ops]);
        assert_eq!(e.recipients_for("prod/eu/a").0, [dev]);
        assert_eq!(
            e.recipients_for("prod/eu/a").1,
            "encryption.folders.\"prod/eu\".recipients"
        );
        assert!(
            Config::default()
                .encryption
                .recipients_for("a")
                .0
                .is_empty()
        );
    }

    #[test]
    fn allow_plaintext_is_off_by_default_and_parsed_strictly() {
        assert!(!Config::default().encryption.allow_plaintext);
        let c = Config::parse("[encryption]\nallow-plaintext = true\n").unwrap();
        assert!(c.encryption.allow_plaintext);
        let e = Config::parse("[encryption]\nallow-plaintxt = true\n").unwrap_err();
        assert!(e.contains("unknown field `allow-plaintxt`"), "{e}");
        let e = Config::parse("[encryption]\nallow-plaintext = \"yes\"\n").unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
    }

    #[test]
    fn bad_encryption_settings_are_refused() {
        let e = Config::parse("[encryption]\nrecipients = [\"bob\"]\n").unwrap_err();
        assert!(
            e.starts_with("encryption.recipients[0]: \"bob\" is not a recipient"),
            "{e}"
        );
        let e = Config::parse("[encryption]\nrecipent = []\n").unwrap_err();
        assert!(e.contains("unknown field `recipent`"), "{e}");
        let e = Config::parse("[encryption.folders.prod]\nrecipients = []\n").unwrap_err();
        assert_eq!(
            e,
            "encryption.folders.\"prod\".recipients is empty: a folder needs at least one recipient"
        );
        let e =
            Config::parse("[encryption.folders.\"../x\"]\nrecipients = [\"age1x\"]\n").unwrap_err();
        assert!(e.starts_with("encryption.folders.\"../x\": invalid"), "{e}");
    }

    #[test]
    fn plugins_are_parsed_strictly() {
        let c = Config::parse(
            "[providers.environ]\ncommand = [\"python3\", \"p.py\"]\ntimeout = 1.5\n",
        )
        .unwrap();
        assert_eq!(c.providers["environ"].command, ["python3", "p.py"]);
        assert_eq!(c.providers["environ"].timeout, Some(1.5));
        let e = Config::parse("[providers.x]\ncommand = [\"a\"]\ntimout = 1\n").unwrap_err();
        assert!(e.contains("unknown field `timout`"), "{e}");
        let e = Config::parse("[providers.x]\ncommand = []\n").unwrap_err();
        assert_eq!(
            e,
            "providers.x.command: expected the program and its arguments"
        );
        let e = Config::parse("[providers.x]\ncommand = [\"a\"]\ntimeout = 0\n").unwrap_err();
        assert_eq!(
            e,
            "providers.x.timeout: expected seconds between 0 and 3600, got 0"
        );
        let e = Config::parse("[providers.\"../x\"]\ncommand = [\"a\"]\n").unwrap_err();
        assert!(
            e.starts_with("providers.\"../x\": a provider name is"),
            "{e}"
        );
        assert!(Config::parse("[providers.x]\n").is_err());
    }

    #[test]
    fn endpoints_are_checked() {
        let c = Config::parse(
            "[endpoints]\nvault = \"http://127.0.0.1:8200/\"\ngcp-secretmanager = \"https://h/p\"\n",
        )
        .unwrap();
        assert_eq!(c.endpoints["vault"], "http://127.0.0.1:8200/");
        assert_eq!(c.endpoints.len(), 2);
        let e = Config::parse("[endpoints]\nvault = \"ftp://h\"\n").unwrap_err();
        assert_eq!(
            e,
            "endpoints.vault: \"ftp://h\" is not an http:// or https:// URL"
        );
        let e = Config::parse("[endpoints]\n\"Vault Server\" = \"http://h\"\n").unwrap_err();
        assert!(
            e.starts_with("endpoints.Vault Server: a service name is"),
            "{e}"
        );
        let e = Config::parse("[endpoints]\nvault = 1\n").unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
        let e = Config::parse("[endpoint]\nvault = \"http://h\"\n").unwrap_err();
        assert!(e.contains("unknown field `endpoint`"), "{e}");
    }

    #[test]
    fn context_overrides() {
        let mut ctx = empty_context();
        set_context(&mut ctx, "pulumi.user.login=alice").unwrap();
        set_context(&mut ctx, "context.pulumi.organization.login=acme").unwrap();
        assert_eq!(
            ctx.to_json(false).to_string(),
            r#"{"pulumi":{"organization":{"login":"acme"},"user":{"login":"alice"}}}"#
        );
        assert!(set_context(&mut empty_context(), "novalue").is_err());
        assert!(set_context(&mut empty_context(), "a..b=c").is_err());
        assert!(set_context(&mut empty_context(), "rootEnvironment.name=x").is_err());
    }
}
