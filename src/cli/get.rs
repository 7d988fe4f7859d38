//! `escc get` (static: providers are not opened, their results are `[unknown]`) and
//! `escc open` (providers opened), and the value formats they print: `json`, `yaml`,
//! `string`, `dotenv`, `shell`, `detailed`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;

use clap::ValueEnum;

use super::project::Project;
use super::render::{self, Spinner};
use super::{EXIT_FAILED, Failure};
use crate::ast::AccessorKind;
use crate::eval::{Evaluation, Mode, Value, ValueKind};
use crate::go::strconv::{format_float_g, quote};
use crate::project::FsHost;
use crate::secrets::Masker;
use crate::{Diagnostic, diag};

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
    fn name(self) -> &'static str {
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

/// The arguments of `get` and `open`.
pub(crate) struct GetArgs {
    pub(crate) name: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) format: ValueFormat,
    pub(crate) show_secrets: bool,
    /// `open` (providers opened) rather than `get`.
    pub(crate) open: bool,
}

/// An evaluated environment, ready to print.
pub(crate) struct Evaluated {
    /// The environment's name.
    pub(crate) name: String,
    /// Its properties (empty when it has none).
    pub(crate) properties: BTreeMap<String, Value>,
    /// Load and evaluation diagnostics, sorted.
    pub(crate) diags: Vec<Diagnostic>,
    /// Every secret text involved (for masking diagnostics and output).
    pub(crate) secrets: Vec<String>,
    /// The typed environment (values with their traces), when asked for.
    pub(crate) typed: Option<serde_json::Value>,
}

/// Checks or evaluates environment `name` through the project's pipeline, with a spinner
/// while providers are opened. `Err` only when the environment itself cannot be read.
pub(crate) fn evaluate_environment(
    project: &Project,
    host: &FsHost,
    name: &str,
    mode: &Mode,
    want_typed: bool,
) -> Result<Evaluated, Failure> {
    let spinner = (*mode == Mode::Eval).then(|| Spinner::start(format!("opening {name}")));
    let checked = project
        .inner
        .run(host, name, mode)
        .map_err(|e| Failure::new(e.into()));
    drop(spinner);
    let mut checked = checked?;
    let typed = if want_typed {
        checked.evaluation.as_ref().and_then(Evaluation::typed)
    } else {
        None
    };
    let properties = checked
        .evaluation
        .as_mut()
        .and_then(|e| e.properties.take())
        .unwrap_or_default();
    Ok(Evaluated {
        name: name.to_owned(),
        properties,
        secrets: checked.secrets().to_vec(),
        diags: std::mem::take(&mut checked.diags),
        typed,
    })
}

/// Prints an environment's diagnostics on stderr, secrets masked. Returns whether there
/// were errors.
pub(crate) fn report_diagnostics(project: &Project, host: &FsHost, ev: &Evaluated) -> bool {
    if ev.diags.is_empty() {
        return false;
    }
    let (sources, literals) = render::sources(project, host);
    let mut secrets = ev.secrets.clone();
    secrets.extend(literals);
    let masker = Masker::new(secrets);
    let text = diag::render::human(
        &ev.diags,
        &sources,
        render::use_color(std::io::stderr().is_terminal()),
    );
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(masker.mask_str(&text).as_bytes());
    let (errors, warnings) = diag::counts(&ev.diags);
    if errors > 0 {
        let _ = writeln!(
            err,
            "escc: {} has {errors} error(s) and {warnings} warning(s)",
            ev.name
        );
    }
    errors > 0
}

/// The environment named on the command line, or the project's default.
pub(crate) fn environment_name(project: &Project, name: Option<&str>) -> Result<String, Failure> {
    match name {
        Some(n) => project.resolve_name(n),
        None => project.defaults().environment.clone().ok_or_else(|| {
            Failure::new(
                "no environment given: name one (e.g. app/dev), or set defaults.environment in escc.toml"
                    .to_owned(),
            )
        }),
    }
}

/// `escc get` and `escc open`.
pub(crate) fn get(project: &Project, args: &GetArgs) -> Result<ExitCode, Failure> {
    let name = environment_name(project, args.name.as_deref())?;
    let path = match &args.path {
        Some(p) => Some(
            crate::ast::parse_property_path(p)
                .map_err(|e| Failure::new(format!("invalid property path {p:?}: {e}")))?,
        ),
        None => None,
    };
    if path.is_some() && matches!(args.format, ValueFormat::Dotenv | ValueFormat::Shell) {
        return Err(Failure::new(format!(
            "output format '{}' may not be used with a property path",
            args.format.name()
        )));
    }
    let host = project.inner.host();
    let mode = if args.open {
        Mode::Eval
    } else {
        Mode::Check {
            show_secrets: false,
        }
    };
    let detailed = args.format == ValueFormat::Detailed;
    let ev = evaluate_environment(project, &host, &name, &mode, detailed)?;
    if report_diagnostics(project, &host, &ev) {
        return Ok(ExitCode::from(EXIT_FAILED));
    }
    let redact = !args.show_secrets;
    let root = Value::object(ev.properties.clone());
    let value = match (&path, &args.path) {
        (Some(accessors), Some(text)) => lookup(&root, accessors)
            .map_err(|why| Failure::new(format!("{name}: {text}: {why}")))?,
        _ => root,
    };
    let mut out = String::new();
    match args.format {
        ValueFormat::Json => {
            write_json(&mut out, &value, redact, 0);
            out.push('\n');
        }
        ValueFormat::Yaml => write_yaml_document(&mut out, &value, redact),
        ValueFormat::String => {
            let text = string_form(&value, redact).ok_or_else(|| {
                Failure::new(format!(
                    "{name}: the value's string form is longer than the limit of {} MiB",
                    MAX_STRING_FORM >> 20
                ))
            })?;
            out.push_str(&text);
            out.push('\n');
        }
        ValueFormat::Detailed => {
            // The root is a value holding the properties, without a trace, as the
            // reference prints it.
            let root_typed = ev
                .typed
                .as_ref()
                .and_then(|t| t.get("properties"))
                .map(|p| serde_json::json!({ "value": p }));
            match &path {
                Some(accessors) => {
                    let typed = root_typed.as_ref().and_then(|t| typed_at(t, accessors));
                    write_detailed(&mut out, &value, typed, redact, 0);
                }
                None => write_detailed(&mut out, &value, root_typed.as_ref(), redact, 0),
            }
            out.push('\n');
        }
        ValueFormat::Dotenv | ValueFormat::Shell => {
            let files = if args.open {
                FileMode::Write
            } else {
                FileMode::Pretend
            };
            out = exports(&ev.properties, args.format, redact, files)?;
        }
    }
    super::print(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The value at a property path. An unknown value stays unknown below.
pub(crate) fn lookup(root: &Value, path: &[AccessorKind]) -> Result<Value, String> {
    let mut v = root;
    let mut at = String::new();
    for acc in path {
        if v.unknown {
            return Ok(Value::with_flags(ValueKind::Null, v.secret, true));
        }
        let what = kind_name(v);
        match (acc, &v.kind) {
            (AccessorKind::Name(k) | AccessorKind::Key(k), ValueKind::Object(m)) => {
                v = m
                    .get(k)
                    .ok_or_else(|| format!("no property {k:?}{}", where_(&at)))?;
                crate::path::push_key(&mut at, k);
            }
            (AccessorKind::Index(i), ValueKind::Array(items)) => {
                v = usize::try_from(*i)
                    .ok()
                    .and_then(|i| items.get(i))
                    .ok_or_else(|| {
                        format!(
                            "index {i} is out of range{} (the list has {} element(s))",
                            where_(&at),
                            items.len()
                        )
                    })?;
                let _ = write!(at, "[{i}]");
            }
            (AccessorKind::Index(i), _) => {
                return Err(format!("cannot index {what}{} with [{i}]", where_(&at)));
            }
            (AccessorKind::Name(k) | AccessorKind::Key(k), _) => {
                return Err(format!(
                    "cannot read property {k:?} of {what}{}",
                    where_(&at)
                ));
            }
        }
    }
    Ok(v.clone())
}

fn where_(at: &str) -> String {
    if at.is_empty() {
        String::new()
    } else {
        format!(" in {at}")
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v.kind {
        ValueKind::Null => "null",
        ValueKind::Bool(_) => "a boolean",
        ValueKind::Number(_) => "a number",
        ValueKind::String(_) => "a string",
        ValueKind::Array(_) => "a list",
        ValueKind::Object(_) => "an object",
    }
}

// -------------------------------------------------------------------------------------
// JSON (numbers printed as their exact text)

fn write_indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// A JSON string literal.
pub(crate) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A number's text, if it is a JSON number; else the text as a JSON string.
fn json_number(n: &str) -> String {
    if serde_json::from_str::<serde_json::Number>(n).is_ok() {
        n.to_owned()
    } else {
        json_string(n)
    }
}

/// The plain JSON tree: secrets as `"[secret]"` when redacting, unknowns as
/// `"[unknown]"`.
pub(crate) fn write_json(out: &mut String, v: &Value, redact: bool, level: usize) {
    if redact && v.secret {
        out.push_str("\"[secret]\"");
        return;
    }
    if v.unknown {
        out.push_str("\"[unknown]\"");
        return;
    }
    match &v.kind {
        ValueKind::Null => out.push_str("null"),
        ValueKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ValueKind::Number(n) => out.push_str(&json_number(n)),
        ValueKind::String(s) => out.push_str(&json_string(s)),
        ValueKind::Array(items) if items.is_empty() => out.push_str("[]"),
        ValueKind::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                write_indent(out, level + 1);
                write_json(out, item, redact, level + 1);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            write_indent(out, level);
            out.push(']');
        }
        ValueKind::Object(m) if m.is_empty() => out.push_str("{}"),
        ValueKind::Object(m) => {
            out.push_str("{\n");
            for (i, (k, item)) in m.iter().enumerate() {
                write_indent(out, level + 1);
                out.push_str(&json_string(k));
                out.push_str(": ");
                write_json(out, item, redact, level + 1);
                out.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
            }
            write_indent(out, level);
            out.push('}');
        }
    }
}

/// The typed value at a property path (`value` of each level).
fn typed_at<'a>(
    root: &'a serde_json::Value,
    path: &[AccessorKind],
) -> Option<&'a serde_json::Value> {
    let mut t = root;
    for acc in path {
        let v = t.get("value")?;
        t = match acc {
            AccessorKind::Name(k) | AccessorKind::Key(k) => v.get(k)?,
            AccessorKind::Index(i) => v.get(usize::try_from(*i).ok()?)?,
        };
    }
    Some(t)
}

/// `detailed`: `{"value": ..., "secret": true, "unknown": true, "trace": ...}` at every
/// level. Values come from `v` (numbers as their exact text); traces from the typed
/// environment `typed`.
fn write_detailed(
    out: &mut String,
    v: &Value,
    typed: Option<&serde_json::Value>,
    redact: bool,
    level: usize,
) {
    let child = |key: &dyn Fn(&serde_json::Value) -> Option<&serde_json::Value>| {
        typed.and_then(|t| t.get("value")).and_then(key)
    };
    let mut fields: Vec<(&str, String)> = Vec::new();
    let mut value = String::new();
    if redact && v.secret {
        value.push_str("\"[secret]\"");
    } else {
        match &v.kind {
            ValueKind::Null => {}
            ValueKind::Bool(b) => value.push_str(if *b { "true" } else { "false" }),
            ValueKind::Number(n) => value.push_str(&json_number(n)),
            ValueKind::String(s) => value.push_str(&json_string(s)),
            ValueKind::Array(items) if items.is_empty() => value.push_str("[]"),
            ValueKind::Array(items) => {
                value.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    write_indent(&mut value, level + 2);
                    write_detailed(&mut value, item, child(&|a| a.get(i)), redact, level + 2);
                    value.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                write_indent(&mut value, level + 1);
                value.push(']');
            }
            ValueKind::Object(m) if m.is_empty() => value.push_str("{}"),
            ValueKind::Object(m) => {
                value.push_str("{\n");
                for (i, (k, item)) in m.iter().enumerate() {
                    write_indent(&mut value, level + 2);
                    value.push_str(&json_string(k));
                    value.push_str(": ");
                    write_detailed(&mut value, item, child(&|o| o.get(k)), redact, level + 2);
                    value.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
                }
                write_indent(&mut value, level + 1);
                value.push('}');
            }
        }
    }
    if !value.is_empty() {
        fields.push(("value", value));
    }
    if v.secret {
        fields.push(("secret", "true".to_owned()));
    }
    if v.unknown {
        fields.push(("unknown", "true".to_owned()));
    }
    if let Some(trace) = typed.and_then(|t| t.get("trace")) {
        let mut t = String::new();
        write_typed_json(&mut t, trace, redact, level + 1);
        fields.push(("trace", t));
    }
    if fields.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (i, (k, f)) in fields.iter().enumerate() {
        write_indent(out, level + 1);
        let _ = write!(out, "\"{k}\": {f}");
        out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
    }
    write_indent(out, level);
    out.push('}');
}

/// JSON from the typed environment (traces and the imported values they hold), with
/// secret values redacted and floats printed as Go prints them.
fn write_typed_json(out: &mut String, j: &serde_json::Value, redact: bool, level: usize) {
    match j {
        serde_json::Value::Null => out.push_str("null"),
        serde_json::Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (_, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) => out.push_str(&format_float_g(f)),
            _ => out.push_str(&n.to_string()),
        },
        serde_json::Value::String(s) => out.push_str(&json_string(s)),
        serde_json::Value::Array(items) if items.is_empty() => out.push_str("[]"),
        serde_json::Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                write_indent(out, level + 1);
                write_typed_json(out, item, redact, level + 1);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            write_indent(out, level);
            out.push(']');
        }
        serde_json::Value::Object(m) if m.is_empty() => out.push_str("{}"),
        serde_json::Value::Object(m) => {
            let hide = redact && m.get("secret") == Some(&serde_json::Value::Bool(true));
            out.push_str("{\n");
            for (i, (k, item)) in m.iter().enumerate() {
                write_indent(out, level + 1);
                out.push_str(&json_string(k));
                out.push_str(": ");
                if hide && k == "value" {
                    out.push_str("\"[secret]\"");
                } else {
                    write_typed_json(out, item, redact, level + 1);
                }
                out.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
            }
            write_indent(out, level);
            out.push('}');
        }
    }
}

// -------------------------------------------------------------------------------------
// string

/// The longest string form escc builds: each level of nesting quotes the one inside it
/// again, so the form of a deep list can be exponentially longer than the list.
pub(crate) const MAX_STRING_FORM: usize = 32 << 20;

/// The `fn::toString` form: scalars raw, lists as Go-quoted items joined by `,`, objects
/// as `"key"="value"` pairs; secrets `[secret]` when redacting, unknowns `[unknown]`.
/// `None` if it is longer than [`MAX_STRING_FORM`].
pub(crate) fn string_form(v: &Value, redact: bool) -> Option<String> {
    if redact && v.secret {
        return Some("[secret]".to_owned());
    }
    if v.unknown {
        return Some("[unknown]".to_owned());
    }
    let mut out = String::new();
    match &v.kind {
        ValueKind::Null => {}
        ValueKind::Bool(b) => out = b.to_string(),
        ValueKind::Number(n) => out.clone_from(n),
        ValueKind::String(s) => out.clone_from(s),
        ValueKind::Array(items) => {
            for (n, i) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&quote(&string_form(i, redact)?));
                if out.len() > MAX_STRING_FORM {
                    return None;
                }
            }
        }
        ValueKind::Object(m) => {
            for (n, (k, i)) in m.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                let s = string_form(i, redact)?;
                let _ = write!(out, "{}={}", quote(k), quote(&s));
                if out.len() > MAX_STRING_FORM {
                    return None;
                }
            }
        }
    }
    (out.len() <= MAX_STRING_FORM).then_some(out)
}

// -------------------------------------------------------------------------------------
// YAML

const YAML_INDENT: usize = 3;

fn write_yaml_document(out: &mut String, v: &Value, redact: bool) {
    match yaml_shape(v, redact) {
        Shape::Map(m) if !m.is_empty() => write_yaml_map(out, m, redact, 0),
        Shape::List(items) if !items.is_empty() => write_yaml_list(out, items, redact, 0),
        _ => {
            out.push_str(&yaml_inline(v, redact, 0));
            out.push('\n');
        }
    }
}

enum Shape<'a> {
    Scalar,
    Map(&'a BTreeMap<String, Value>),
    List(&'a [Value]),
}

fn yaml_shape(v: &Value, redact: bool) -> Shape<'_> {
    if (redact && v.secret) || v.unknown {
        return Shape::Scalar;
    }
    match &v.kind {
        ValueKind::Object(m) => Shape::Map(m),
        ValueKind::Array(items) => Shape::List(items),
        _ => Shape::Scalar,
    }
}

fn spaces(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_yaml_map(out: &mut String, m: &BTreeMap<String, Value>, redact: bool, indent: usize) {
    for (i, (k, v)) in m.iter().enumerate() {
        // The first entry of a map inside a list item continues the `- ` line.
        if i > 0 || !out.ends_with("- ") {
            spaces(out, indent);
        }
        out.push_str(&yaml_string(k, indent, true));
        out.push(':');
        write_yaml_child(out, v, redact, indent);
    }
}

fn write_yaml_list(out: &mut String, items: &[Value], redact: bool, indent: usize) {
    for v in items {
        if !out.ends_with("- ") {
            spaces(out, indent);
        }
        out.push_str("- ");
        match yaml_shape(v, redact) {
            Shape::Map(m) if !m.is_empty() => write_yaml_map(out, m, redact, indent + 2),
            Shape::List(l) if !l.is_empty() => write_yaml_list(out, l, redact, indent + 2),
            _ => {
                out.push_str(&yaml_inline(v, redact, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// The value after `key:`.
fn write_yaml_child(out: &mut String, v: &Value, redact: bool, indent: usize) {
    match yaml_shape(v, redact) {
        Shape::Map(m) if !m.is_empty() => {
            out.push('\n');
            write_yaml_map(out, m, redact, indent + YAML_INDENT);
        }
        Shape::List(l) if !l.is_empty() => {
            out.push('\n');
            write_yaml_list(out, l, redact, indent + YAML_INDENT);
        }
        _ => {
            out.push(' ');
            out.push_str(&yaml_inline(v, redact, indent + YAML_INDENT));
            out.push('\n');
        }
    }
}

/// A scalar (or empty collection) on one line; multi-line strings become literal blocks
/// whose lines are indented by `indent`.
fn yaml_inline(v: &Value, redact: bool, indent: usize) -> String {
    if redact && v.secret {
        return yaml_string("[secret]", indent, false);
    }
    if v.unknown {
        return yaml_string("[unknown]", indent, false);
    }
    match &v.kind {
        ValueKind::Null => "null".to_owned(),
        ValueKind::Bool(b) => b.to_string(),
        ValueKind::Number(n) => {
            if serde_json::from_str::<serde_json::Number>(n).is_ok() {
                n.clone()
            } else {
                yaml_string(n, indent, false)
            }
        }
        ValueKind::String(s) => yaml_string(s, indent, false),
        ValueKind::Array(_) => "[]".to_owned(),
        ValueKind::Object(_) => "{}".to_owned(),
    }
}

/// A string as go-yaml v3 writes it: plain when it reads back as the same string,
/// double-quoted when it would read as another type or holds control characters,
/// single-quoted when YAML syntax forbids it plain, a literal block when multi-line.
fn yaml_string(s: &str, indent: usize, key: bool) -> String {
    let printable = s
        .chars()
        .all(|c| c == '\n' || c == '\t' || !(c.is_control() || c == '\u{feff}'));
    if !printable {
        return double_quoted(s);
    }
    if s.contains('\n') {
        if key || !literal_ok(s) {
            return double_quoted(s);
        }
        let chomp = if s.ends_with("\n\n") || s == "\n" {
            "+"
        } else if s.ends_with('\n') {
            ""
        } else {
            "-"
        };
        let mut out = format!("|{chomp}");
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                spaces(&mut out, indent);
                out.push_str(line);
            }
        }
        return out;
    }
    if reads_as_other_type(s) {
        return double_quoted(s);
    }
    if plain_ok(s) {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', "''"))
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a multi-line string can be a literal block: no leading space (it would need
/// an indentation indicator), no trailing spaces on lines, no carriage returns.
fn literal_ok(s: &str) -> bool {
    !s.starts_with(' ')
        && !s.contains('\r')
        && !s.contains(" \n")
        && !s.ends_with(' ')
        && !s.contains('\t')
}

/// Whether a plain scalar would read back as a non-string (YAML 1.1 and 1.2 forms).
fn reads_as_other_type(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y",
        "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
        ".nan", ".NaN", ".NAN",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    if t.is_empty() {
        return false;
    }
    let digits =
        |x: &str, radix: u32| !x.is_empty() && x.chars().all(|c| c == '_' || c.is_digit(radix));
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return digits(h, 16);
    }
    if let Some(o) = t.strip_prefix("0o") {
        return digits(o, 8);
    }
    if let Some(b) = t.strip_prefix("0b") {
        return digits(b, 2);
    }
    // Sexagesimal (YAML 1.1): 1:30, 190:20:30.15.
    if t.contains(':') {
        let (ints, frac) = t.split_once('.').unwrap_or((t, ""));
        return ints.split(':').all(|p| digits(p, 10))
            && frac.chars().all(|c| c.is_ascii_digit() || c == '_');
    }
    // Decimal ints and floats: 1, 1_000, 1.5, .5, 1., 1e3, 1.5E-3.
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mantissa_ok = (digits(int, 10) || (int.is_empty() && digits(frac, 10)))
        && frac.chars().all(|c| c.is_ascii_digit() || c == '_');
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Whether YAML syntax allows `s` as a plain scalar in block context.
fn plain_ok(s: &str) -> bool {
    let first = s.chars().next().unwrap_or(' ');
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') {
        let second = s.chars().nth(1);
        if second.is_none_or(|c| c == ' ' || c == '\t') {
            return false;
        }
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']) {
        return false;
    }
    !(s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.contains(":\t"))
}

// -------------------------------------------------------------------------------------
// dotenv and shell

/// Where `files` entries go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FileMode {
    /// `get`: no file is written; the variable reads `[unknown]`.
    Pretend,
    /// `open`: each file is written to a 0600 temporary file that is kept.
    Write,
}

/// An exported variable's text, or why it is not exported.
pub(crate) fn export_text(v: &Value, redact: bool) -> Result<String, &'static str> {
    if redact && v.secret {
        return Ok("[secret]".to_owned());
    }
    if v.unknown {
        return Ok("[unknown]".to_owned());
    }
    match &v.kind {
        ValueKind::Array(_) => {
            Err("a list: only strings, numbers, booleans and null are exported (use fn::toJSON)")
        }
        ValueKind::Object(_) => {
            Err("an object: only strings, numbers, booleans and null are exported (use fn::toJSON)")
        }
        _ => string_form(v, redact).ok_or("longer than the limit of the string form"),
    }
}

/// The entries of `environmentVariables` or `files`, with a warning for anything that is
/// not exported.
pub(crate) fn exported_entries<'a>(
    properties: &'a BTreeMap<String, Value>,
    key: &str,
) -> Vec<(&'a String, &'a Value)> {
    let Some(v) = properties.get(key) else {
        return Vec::new();
    };
    match &v.kind {
        ValueKind::Object(m) if !v.unknown => m.iter().collect(),
        _ => {
            let what = if v.unknown {
                "unknown".to_owned()
            } else {
                format!("{}, not an object", kind_name(v))
            };
            super::warn(&format!("{key} is {what}: nothing is exported from it"));
            Vec::new()
        }
    }
}

/// Warns about a variable that is skipped.
pub(crate) fn warn_skipped(section: &str, key: &str, why: &str) {
    super::warn(&format!("{section}.{key} is {why}; skipped"));
}

/// Whether a name can be a POSIX shell variable.
pub(crate) fn is_shell_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// POSIX single quoting: nothing inside is expanded.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn exports(
    properties: &BTreeMap<String, Value>,
    format: ValueFormat,
    redact: bool,
    files: FileMode,
) -> Result<String, Failure> {
    let mut lines: Vec<(String, String)> = Vec::new();
    for (k, v) in exported_entries(properties, "environmentVariables") {
        match export_text(v, redact) {
            Ok(text) => lines.push((k.clone(), text)),
            Err(why) => warn_skipped("environmentVariables", k, why),
        }
    }
    let mut written = 0;
    for (k, v) in exported_entries(properties, "files") {
        let path = match export_text(v, redact) {
            Err(why) => {
                warn_skipped("files", k, why);
                continue;
            }
            // `get` writes no file: the path is unknown, as in the reference.
            Ok(_) if files == FileMode::Pretend => "[unknown]".to_owned(),
            // An unknown value, or a secret not to be shown: nothing is written.
            Ok(text) if v.unknown || (redact && v.secret) => text,
            Ok(text) => {
                written += 1;
                write_kept_file(text.as_bytes())?
            }
        };
        lines.push((k.clone(), path));
    }
    let mut out = String::new();
    for (k, v) in lines {
        if k.contains(['=', '\0']) || k.is_empty() {
            super::warn(&format!(
                "{k:?} cannot be an environment variable name; skipped"
            ));
            continue;
        }
        match format {
            ValueFormat::Shell => {
                if !is_shell_name(&k) {
                    super::warn(&format!(
                        "{k:?} is not a valid shell variable name; skipped"
                    ));
                    continue;
                }
                let _ = writeln!(out, "export {k}={}", shell_quote(&v));
            }
            _ => {
                let _ = writeln!(out, "{k}={}", quote(&v));
            }
        }
    }
    if written > 0 {
        super::note(&format!(
            "wrote {written} temporary file(s) for `files` (mode 0600); they are not removed: delete them when done, or use `escc run`"
        ));
    }
    Ok(out)
}

fn write_kept_file(content: &[u8]) -> Result<String, Failure> {
    let mut file = tempfile::Builder::new()
        .prefix("escc-")
        .tempfile()
        .map_err(|e| Failure::new(format!("creating a temporary file: {e}")))?;
    file.write_all(content)
        .and_then(|()| file.flush())
        .map_err(|e| Failure::new(format!("writing a temporary file: {e}")))?;
    let (_, path) = file
        .keep()
        .map_err(|e| Failure::new(format!("keeping a temporary file: {e}")))?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::string(x)
    }

    #[test]
    fn yaml_strings() {
        assert_eq!(yaml_string("hello", 0, false), "hello");
        assert_eq!(yaml_string("true", 0, false), "\"true\"");
        assert_eq!(yaml_string("1e3", 0, false), "\"1e3\"");
        assert_eq!(yaml_string("0x1F", 0, false), "\"0x1F\"");
        assert_eq!(yaml_string("1:30", 0, false), "\"1:30\"");
        assert_eq!(yaml_string("", 0, false), "\"\"");
        assert_eq!(yaml_string("[secret]", 0, false), "'[secret]'");
        assert_eq!(yaml_string("a: b", 0, false), "'a: b'");
        assert_eq!(yaml_string("it's", 0, false), "it's");
        assert_eq!(yaml_string("- x", 0, false), "'- x'");
        assert_eq!(yaml_string("a\nb\n", 3, false), "|\n   a\n   b");
        assert_eq!(yaml_string("a\nb", 3, false), "|-\n   a\n   b");
        assert_eq!(yaml_string("bell\u{7}", 0, false), "\"bell\\u0007\"");
        assert_eq!(
            yaml_string("postgres://u@h:5432/db", 0, false),
            "postgres://u@h:5432/db"
        );
    }

    #[test]
    fn yaml_document() {
        let v = Value::object([
            ("a".to_owned(), Value::object([("b".to_owned(), s("c"))])),
            (
                "list".to_owned(),
                Value::new(ValueKind::Array(vec![
                    s("x"),
                    Value::object([("k".to_owned(), s("v")), ("l".to_owned(), s("w"))]),
                ])),
            ),
            (
                "num".to_owned(),
                Value::new(ValueKind::Number("1e+06".to_owned())),
            ),
            ("n".to_owned(), s("yes")),
        ]);
        let mut out = String::new();
        write_yaml_document(&mut out, &v, true);
        assert_eq!(
            out,
            "a:\n   b: c\nlist:\n   - x\n   - k: v\n     l: w\n\"n\": \"yes\"\nnum: 1e+06\n"
        );
    }

    #[test]
    fn string_forms() {
        let v = Value::object([
            ("a".to_owned(), Value::new(ValueKind::Null)),
            (
                "d".to_owned(),
                Value::new(ValueKind::Array(vec![s("hello")])),
            ),
        ]);
        assert_eq!(string_form(&v, true).unwrap(), r#""a"="","d"="\"hello\"""#);
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("it's $HOME"), r"'it'\''s $HOME'");
    }
}
