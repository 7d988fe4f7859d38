//! Providers and rotators: ESC's built-in providers (their schemas, so a check validates
//! inputs and knows output types), and plugins, programs that serve a provider or rotator
//! over versioned JSON on their standard input and output (docs/providers.md).
//!
//! A [`Catalog`] finds what `fn::open::NAME` and `fn::rotate::NAME` name, first match wins:
//! 1. a plugin `escc.toml` configures (`[providers.NAME] command = [...]`);
//! 2. a built-in provider (each is checked statically; with the `providers` feature the
//!    AWS, Vault, GCP, Azure, Doppler, Infisical and 1Password ones open; opening another says
//!    it is not implemented yet, naming it), or a built-in rotator (`aws-iam` with the
//!    `providers` feature, `postgres` and `mysql` with `rotators`; see `rotators.rs`);
//! 3. a plugin on `PATH`, the executable `escc-provider-NAME`.
//!
//! A catalog asks each plugin to describe itself once, so a host made for one evaluation
//! runs `describe` at most once per plugin.

#[cfg(feature = "providers")]
mod aws;
#[cfg(feature = "providers")]
mod azure;
mod descriptions;
#[cfg(feature = "providers")]
mod doppler;
#[cfg(feature = "providers")]
mod gcp;
#[cfg(feature = "providers")]
mod iam;
#[cfg(feature = "providers")]
mod infisical;
mod json_schema;
mod lint;
#[cfg(feature = "rotators")]
mod mysql;
mod net;
#[cfg(feature = "providers")]
mod oidc;
#[cfg(feature = "providers")]
mod onepassword;
#[cfg(any(feature = "rotators", feature = "serve"))]
pub(crate) mod pg;
mod plugin;
#[cfg(feature = "rotators")]
mod postgres;
mod rotators;
mod schemas;
#[cfg(feature = "providers")]
mod shared;
#[cfg(feature = "providers")]
mod vault;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

pub use json_schema::environment_schema;
pub use lint::lint;
pub use net::{Network, check_endpoint};
pub use plugin::{DEFAULT_TIMEOUT, MAX_RESPONSE_BYTES, PROTOCOL, PluginConfig};
pub use rotators::unwritten as unwritten_rotation;

use crate::eval::{HostError, Provider, Rotator, Value};
use plugin::Plugin;

/// The prefix of a plugin program's name on `PATH`.
pub const PLUGIN_PREFIX: &str = "escc-provider-";

/// Where [`Catalog::names`] found a name: a built-in provider.
pub const BUILTIN: &str = "built-in provider";
/// Where [`Catalog::names`] found a name: `[providers.NAME]` in `escc.toml`.
pub const CONFIGURED: &str = "plugin (escc.toml)";
/// Where [`Catalog::names`] found a name: `escc-provider-NAME` on `PATH`.
pub const ON_PATH: &str = "plugin on PATH";

/// At most this many directory entries are looked at when listing the plugins on `PATH`.
const MAX_PATH_ENTRIES: usize = 100_000;

/// The names of the built-in providers, sorted.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    schemas::TABLE.iter().map(|r| r.name)
}

/// The input and output JSON Schemas of built-in provider `name`.
#[must_use]
pub fn builtin_schema(name: &str) -> Option<(serde_json::Value, serde_json::Value)> {
    schemas::row(name).map(|r| (descriptions::describe(r.name, (r.inputs)()), (r.outputs)()))
}

/// The names of the built-in rotators, sorted.
pub fn builtin_rotator_names() -> impl Iterator<Item = &'static str> {
    schemas::ROTATORS.iter().map(|r| r.name)
}

/// The input, state and output JSON Schemas of built-in rotator `name`.
#[must_use]
pub fn builtin_rotator_schema(
    name: &str,
) -> Option<(serde_json::Value, serde_json::Value, serde_json::Value)> {
    schemas::rotator_row(name).map(|r| {
        let inputs = descriptions::describe_rotator(r.name, (r.inputs)());
        (inputs, (r.state)(), (r.outputs)())
    })
}

/// Whether `name` can name a plugin: ASCII letters, digits, `-`, `_` and `.`, not starting
/// with `.` (it becomes part of a file name, so it must not hold a path).
#[must_use]
pub fn is_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A built-in provider: its schemas are ESC's; those implemented open with the
/// `providers` feature, the others say they are not implemented yet.
struct Builtin {
    row: &'static schemas::Row,
    network: Network,
}

impl Provider for Builtin {
    fn schema(&self) -> (serde_json::Value, serde_json::Value) {
        let inputs = descriptions::describe(self.row.name, (self.row.inputs)());
        (inputs, (self.row.outputs)())
    }

    /// ESC's providers read their inputs and the process's environment, never the
    /// execution context: identical opens in two environments are one.
    fn reads_context(&self) -> bool {
        false
    }

    fn open(&self, inputs: &Value, _context: &Value) -> Result<Value, String> {
        #[cfg(feature = "providers")]
        {
            let (name, network) = (self.row.name, &self.network);
            let opened = aws::open(name, inputs, network)
                .or_else(|| azure::open(name, inputs, network))
                .or_else(|| doppler::open(name, inputs, network))
                .or_else(|| gcp::open(name, inputs, network))
                .or_else(|| infisical::open(name, inputs, network))
                .or_else(|| onepassword::open(name, inputs, network))
                .or_else(|| vault::open(name, inputs, network));
            if let Some(opened) = opened {
                return opened.map(|mut value| {
                    seal(&mut value);
                    value
                });
            }
        }
        #[cfg(not(feature = "providers"))]
        let _ = (inputs, &self.network);
        Err(format!(
            "provider {:?} is not implemented yet: escc checks its inputs but cannot open it (a plugin can stand in for it: see docs/providers.md)",
            self.row.name
        ))
    }
}

/// Makes everything inside a secret part of a provider's output secret, so a value taken
/// out of a secret list or object (`${params.hosts[0]}`) is still secret, whichever
/// provider forgot to mark its items. A built-in rotator's outputs are sealed the same way.
fn seal(value: &mut Value) {
    if value.secret {
        value.make_secret();
        return;
    }
    match &mut value.kind {
        crate::eval::ValueKind::Array(items) => items.iter_mut().for_each(seal),
        crate::eval::ValueKind::Object(m) => m.values_mut().for_each(seal),
        _ => {}
    }
}

/// Whether `ESCC_ALLOW_PLUGINS` lets the plugins a project configures run (`1`, `true`,
/// `yes`, `on`; anything else does not): the front ends' way to opt in without a flag.
#[must_use]
pub fn plugins_allowed_by_env() -> bool {
    net::env_flag("ESCC_ALLOW_PLUGINS")
}

/// Where a host finds providers and rotators by name (see the module's documentation).
pub struct Catalog {
    root: Option<PathBuf>,
    configured: BTreeMap<String, PluginConfig>,
    /// Whether the plugins `escc.toml` configures may run (see [`Catalog::allowing_project_plugins`]).
    project_plugins: bool,
    search_path: Option<OsString>,
    /// How the built-in providers reach the network.
    network: Network,
    /// Plugins looked for so far, by name (`None`: there is none).
    plugins: Mutex<BTreeMap<String, Option<Arc<Plugin>>>>,
}

impl Catalog {
    /// The built-in providers, the plugins `configured` (run in `root`), and those on the
    /// `PATH` of this process.
    #[must_use]
    pub fn new(root: Option<&Path>, configured: &BTreeMap<String, PluginConfig>) -> Catalog {
        Catalog {
            root: root.map(Path::to_path_buf),
            configured: configured.clone(),
            project_plugins: false,
            search_path: std::env::var_os("PATH"),
            network: Network::new(),
            plugins: Mutex::new(BTreeMap::new()),
        }
    }

    /// Lets the plugins `escc.toml` configures run (they do not by default). A project's
    /// file is part of what is being checked: a pull request or a cloned repository must
    /// not run a command by configuring it, so the person running escc opts in
    /// (`--allow-plugins`, `ESCC_ALLOW_PLUGINS=1`). Plugins on `PATH` are the user's own
    /// and always run.
    #[must_use]
    pub fn allowing_project_plugins(mut self, allow: bool) -> Catalog {
        self.project_plugins = allow;
        self
    }

    /// Opens the built-in providers with `network`'s settings instead of the
    /// environment's alone.
    #[must_use]
    pub fn with_network(mut self, network: Network) -> Catalog {
        self.network = network;
        self
    }

    /// The plugin configuration of `name`, if there is one and it may run.
    fn configured(&self, name: &str) -> Option<&PluginConfig> {
        self.configured.get(name).filter(|_| self.project_plugins)
    }

    /// Looks for plugins on `path` (a `PATH`-style list) instead; `None` for nowhere.
    #[must_use]
    pub fn with_search_path(mut self, path: Option<OsString>) -> Catalog {
        self.search_path = path;
        self
    }

    /// Provider `name`; `None` when the catalog has none of that name.
    ///
    /// # Errors
    /// A plugin for `name` exists but cannot describe itself, or serves no provider.
    pub fn provider(&self, name: &str) -> Option<Result<Arc<dyn Provider>, HostError>> {
        if self.configured(name).is_none()
            && let Some(row) = schemas::row(name)
        {
            return Some(Ok(Arc::new(Builtin {
                row,
                network: self.network.clone(),
            })));
        }
        let plugin = self.plugin(name)?;
        Some(plugin.provider().map_err(HostError::failed))
    }

    /// Rotator `name`; `None` when the catalog has none of that name.
    ///
    /// # Errors
    /// A plugin for `name` exists but cannot describe itself, or serves no rotator.
    pub fn rotator(&self, name: &str) -> Option<Result<Arc<dyn Rotator>, HostError>> {
        if self.configured(name).is_none()
            && let Some(row) = schemas::rotator_row(name)
        {
            return Some(Ok(Arc::new(rotators::Builtin {
                row,
                network: self.network.clone(),
            })));
        }
        let plugin = self.plugin(name)?;
        Some(plugin.rotator().map_err(HostError::failed))
    }

    /// Why `name` is not available, for the stand-in that reports it.
    #[must_use]
    pub fn missing_reason(&self, kind: &str, name: &str) -> String {
        if self.configured.contains_key(name) && !self.project_plugins {
            format!(
                "escc.toml configures a plugin for it ([providers.{name}]), and escc runs the plugins a project configures only when you allow them: pass --allow-plugins or set ESCC_ALLOW_PLUGINS=1 (see SECURITY.md)"
            )
        } else {
            nowhere(kind, name)
        }
    }

    /// The error for `fn::open::NAME` or `fn::rotate::NAME` (`kind` is `provider` or
    /// `rotator`) when the catalog has nothing of that name and `escc.toml` configures
    /// nothing for it either: `None` when it does (a plugin the project configures but
    /// that may not run is a stand-in, reported when it is opened). A check reports this
    /// at the call, as ESC reports a provider it cannot load, with the fix.
    #[must_use]
    pub fn unknown(&self, kind: &str, name: &str) -> Option<String> {
        if self.configured.contains_key(name) {
            return None;
        }
        // The nearest built-in of the same kind: a misspelt rotator is not a provider.
        let near = if kind == "provider" {
            crate::suggest::nearest(name, builtin_names())
        } else {
            crate::suggest::nearest(name, builtin_rotator_names())
        };
        let near = near.map_or_else(String::new, |near| format!("did you mean {near:?}? "));
        Some(format!(
            "unknown {kind} {name:?}: {near}{}",
            nowhere(kind, name)
        ))
    }

    /// Every name `fn::open::NAME` can take here, sorted, with where it comes from
    /// ([`CONFIGURED`], [`BUILTIN`] or [`ON_PATH`], the first that has it, as
    /// [`Catalog::provider`] looks). Plugins are not run: a name on `PATH` may serve a
    /// rotator only.
    #[must_use]
    pub fn names(&self) -> Vec<(String, &'static str)> {
        let mut names: BTreeMap<String, &'static str> = BTreeMap::new();
        let mut budget = MAX_PATH_ENTRIES;
        let dirs = self.search_path.iter().flat_map(std::env::split_paths);
        for dir in dirs.filter(|d| d.is_absolute()) {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if budget == 0 {
                    break;
                }
                budget -= 1;
                let file = entry.file_name();
                let Some(name) = file.to_str().and_then(|f| f.strip_prefix(PLUGIN_PREFIX)) else {
                    continue;
                };
                if is_plugin_name(name) && is_executable(&entry.path()) {
                    names.entry(name.to_owned()).or_insert(ON_PATH);
                }
            }
        }
        for name in builtin_names() {
            names.insert(name.to_owned(), BUILTIN);
        }
        for name in self.configured.keys() {
            names.insert(name.clone(), CONFIGURED);
        }
        names.into_iter().collect()
    }

    /// The plugin for `name`, made once.
    fn plugin(&self, name: &str) -> Option<Arc<Plugin>> {
        let mut plugins = self.plugins.lock().unwrap_or_else(PoisonError::into_inner);
        plugins
            .entry(name.to_owned())
            .or_insert_with(|| {
                let root = self.root.as_ref();
                let offline = self.network.is_offline();
                if let Some(config) = self.configured(name) {
                    let plugin = Plugin::configured(name, config, root).offline(offline);
                    return Some(Arc::new(plugin));
                }
                let program = self.find_on_path(name)?;
                Some(Arc::new(
                    Plugin::on_path(name, program, root).offline(offline),
                ))
            })
            .clone()
    }

    /// `escc-provider-NAME` in the first directory of the search path that holds it as an
    /// executable file. Relative directories are skipped: which program runs must not
    /// depend on the current directory.
    fn find_on_path(&self, name: &str) -> Option<PathBuf> {
        if !is_plugin_name(name) {
            return None;
        }
        let file = format!("{PLUGIN_PREFIX}{name}");
        std::env::split_paths(self.search_path.as_ref()?)
            .filter(|dir| dir.is_absolute())
            .map(|dir| dir.join(&file))
            .find(|p| is_executable(p))
    }
}

/// Where a catalog looked for `name` and found nothing, and the fix.
fn nowhere(kind: &str, name: &str) -> String {
    if is_plugin_name(name) {
        format!(
            "escc has no built-in {kind} of that name, no {PLUGIN_PREFIX}{name} is on PATH, and escc.toml configures no [providers.{name}]; a plugin can serve it (see docs/providers.md, \"Plugins\")"
        )
    } else {
        format!(
            "escc has no built-in {kind} of that name, and the name cannot name a plugin (ASCII letters, digits, '-', '_' and '.')"
        )
    }
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog")
            .field("root", &self.root)
            .field("configured", &self.configured.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod seal_tests {
    use super::*;

    #[test]
    fn secret_parts_are_secret_all_the_way_down() {
        let mut list = Value::new(crate::eval::ValueKind::Array(vec![Value::string("a")]));
        list.secret = true;
        let mut out = Value::object([
            ("list".to_owned(), list),
            ("plain".to_owned(), Value::string("p")),
        ]);
        seal(&mut out);
        let crate::eval::ValueKind::Array(items) = &out.get("list").unwrap().kind else {
            panic!("not a list")
        };
        assert!(items[0].secret);
        assert!(!out.get("plain").unwrap().secret);
        assert!(!out.secret);
    }
}
