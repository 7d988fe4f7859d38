//! Providers and rotators: ESC's built-in providers (their schemas, so a check validates
//! inputs and knows output types), and plugins, programs that serve a provider or rotator
//! over versioned JSON on their standard input and output (docs/providers.md).
//!
//! A [`Catalog`] finds what `fn::open::NAME` and `fn::rotate::NAME` name, first match wins:
//! 1. a plugin `escc.toml` configures (`[providers.NAME] command = [...]`);
//! 2. a built-in provider (each is checked statically; `aws-login`, `aws-secrets` and
//!    `aws-parameter-store` open, with the `providers` feature; opening another says it is not
//!    implemented yet, naming it), or a built-in rotator (`aws-iam` with the `providers`
//!    feature, `postgres` and `mysql` with `rotators`; see `rotators.rs`);
//! 3. a plugin on `PATH`, the executable `escc-provider-NAME`.
//!
//! A catalog asks each plugin to describe itself once, so a host made for one evaluation
//! runs `describe` at most once per plugin.

#[cfg(feature = "providers")]
mod aws;
#[cfg(feature = "providers")]
mod iam;
mod lint;
#[cfg(feature = "rotators")]
mod mysql;
mod net;
#[cfg(feature = "providers")]
mod oidc;
mod plugin;
#[cfg(feature = "rotators")]
mod postgres;
mod rotators;
mod schemas;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

pub use lint::lint;
pub use net::Network;
pub use plugin::{DEFAULT_TIMEOUT, MAX_RESPONSE_BYTES, PROTOCOL, PluginConfig};
pub use rotators::unwritten as unwritten_rotation;

use crate::eval::{HostError, Provider, Rotator, Value};
use plugin::Plugin;

/// The prefix of a plugin program's name on `PATH`.
pub const PLUGIN_PREFIX: &str = "escc-provider-";

/// The names of the built-in providers, sorted.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    schemas::TABLE.iter().map(|r| r.name)
}

/// The input and output JSON Schemas of built-in provider `name`.
#[must_use]
pub fn builtin_schema(name: &str) -> Option<(serde_json::Value, serde_json::Value)> {
    schemas::row(name).map(|r| ((r.inputs)(), (r.outputs)()))
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
    schemas::rotator_row(name).map(|r| ((r.inputs)(), (r.state)(), (r.outputs)()))
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
        ((self.row.inputs)(), (self.row.outputs)())
    }

    fn open(&self, inputs: &Value, _context: &Value) -> Result<Value, String> {
        #[cfg(feature = "providers")]
        if let Some(opened) = aws::open(self.row.name, inputs, &self.network) {
            return opened;
        }
        #[cfg(not(feature = "providers"))]
        let _ = (inputs, &self.network);
        Err(format!(
            "provider {:?} is not implemented yet: escc checks its inputs but cannot open it (a plugin can stand in for it: see docs/providers.md)",
            self.row.name
        ))
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
        } else if is_plugin_name(name) {
            format!(
                "escc has no built-in {kind} of that name, no {PLUGIN_PREFIX}{name} is on PATH, and escc.toml configures no [providers.{name}] (see docs/providers.md)"
            )
        } else {
            format!("escc has no built-in {kind} of that name, and the name cannot name a plugin")
        }
    }

    /// The plugin for `name`, made once.
    fn plugin(&self, name: &str) -> Option<Arc<Plugin>> {
        let mut plugins = self.plugins.lock().unwrap_or_else(PoisonError::into_inner);
        plugins
            .entry(name.to_owned())
            .or_insert_with(|| {
                let root = self.root.as_ref();
                if let Some(config) = self.configured(name) {
                    return Some(Arc::new(Plugin::configured(name, config, root)));
                }
                let program = self.find_on_path(name)?;
                Some(Arc::new(Plugin::on_path(name, program, root)))
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
