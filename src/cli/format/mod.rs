//! The value formats of `get` and `open`: `json`, `yaml`, `string`, `dotenv`, `shell`,
//! `detailed`. Each writer takes evaluated [`Value`](crate::eval::Value)s; with `redact`,
//! secrets print as `[secret]`. `escc run` reuses `string` and the exported entries.

mod detailed;
mod exports;
pub(crate) mod hcl;
mod json;
pub(crate) mod k8s;
mod string;
pub(crate) mod targets;
mod yaml;

use clap::ValueEnum;

pub(crate) use detailed::{typed_at, write_detailed};
pub(crate) use exports::{
    FileMode, export_lines, export_text, exported_entries, warn_skipped, write_kept_file,
};
pub(crate) use json::write_json;
pub(crate) use string::{MAX_STRING_FORM, string_form};
pub(crate) use yaml::write_yaml_document;

/// How `get` and `open` print values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ValueFormat {
    /// The plain JSON tree, indented by 2, keys sorted.
    Json,
    /// The same tree as YAML, indented by 3.
    Yaml,
    /// Scalars raw; lists and objects in the `fn::toString` form.
    String,
    /// `environmentVariables` then `files`, one `KEY="value"` line each.
    Dotenv,
    /// As dotenv, as `export KEY='value'` lines for `eval` in a POSIX shell.
    Shell,
    /// Every value with its `secret` and `unknown` flags.
    Detailed,
}

impl ValueFormat {
    /// The name `--format` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ValueFormat::Json => "json",
            ValueFormat::Yaml => "yaml",
            ValueFormat::String => "string",
            ValueFormat::Dotenv => "dotenv",
            ValueFormat::Shell => "shell",
            ValueFormat::Detailed => "detailed",
        }
    }
}
