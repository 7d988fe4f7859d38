//! The plugin protocol, escc's side: a provider or rotator is a program that reads one JSON
//! request on its standard input and writes one JSON response on its standard output
//! (docs/providers.md describes the messages).
//!
//! What a plugin can do wrong is bounded: each call has a timeout (the process is killed
//! when it passes), its output is read up to [`MAX_RESPONSE_BYTES`], its standard error is
//! discarded (it could hold secrets), and no error escc reports quotes what the plugin
//! printed, except the `error` message of a well-formed response, from which the secret
//! texts of the inputs are masked.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::eval::{Provider, Rotator, Value, ValueKind};
use crate::schema::{self, Place, Problem, Schema, Subject, View};
use crate::secrets::Masker;

/// The protocol version escc speaks (in every request and response).
pub const PROTOCOL: u64 = 1;

/// A plugin's response is refused beyond this size (the process is killed).
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// How long a call may take when `escc.toml` sets no `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest `timeout` `escc.toml` may set, in seconds.
pub const MAX_TIMEOUT_SECONDS: f64 = 3600.0;

/// `[providers.NAME]` in `escc.toml`: the command that serves provider (or rotator) `NAME`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PluginConfig {
    /// The program and its arguments. A program with a `/` is taken from the project root
    /// when relative; one without is looked up on `PATH`.
    pub command: Vec<String>,
    /// Seconds each call may take (default 30).
    pub timeout: Option<f64>,
}

impl PluginConfig {
    /// Checks what serde cannot: a program to run, a sensible timeout.
    ///
    /// # Errors
    /// The reason, to be prefixed with the section's name.
    pub fn validate(&self) -> Result<(), String> {
        match self.command.first() {
            None => return Err("command: expected the program and its arguments".to_owned()),
            Some(p) if p.is_empty() => return Err("command: the program is empty".to_owned()),
            Some(_) => {}
        }
        if let Some(t) = self.timeout
            && !(t > 0.0 && t <= MAX_TIMEOUT_SECONDS)
        {
            return Err(format!(
                "timeout: expected seconds between 0 and {MAX_TIMEOUT_SECONDS}, got {t}"
            ));
        }
        Ok(())
    }

    fn timeout(&self) -> Duration {
        self.timeout
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64)
    }
}

/// A plugin program: how to run it, and its description once asked for.
pub(crate) struct Plugin {
    name: String,
    /// How messages name it: `plugin escc-provider-NAME` or `plugin NAME (escc.toml)`.
    shown: String,
    program: OsString,
    args: Vec<OsString>,
    dir: Option<PathBuf>,
    timeout: Duration,
    /// `--offline`: the plugin is not run to open or rotate (it may reach the network).
    offline: bool,
    described: OnceLock<Result<Described, String>>,
}

/// What `describe` returned: the schemas of what the plugin offers.
#[derive(Clone)]
struct Described {
    provider: Option<(Json, Json)>,
    rotator: Option<(Json, Json, Json)>,
}

impl Plugin {
    /// The plugin `escc.toml` configures for `name`, run in `root` when there is one.
    pub(crate) fn configured(name: &str, config: &PluginConfig, root: Option<&PathBuf>) -> Plugin {
        let mut command = config.command.iter().map(OsString::from);
        let program = command.next().unwrap_or_default();
        // A relative path is the project's own script: take it from the root, whatever
        // the current directory.
        let program = match root {
            Some(root) if program.to_string_lossy().contains('/') => {
                root.join(&program).into_os_string()
            }
            _ => program,
        };
        Plugin {
            name: name.to_owned(),
            shown: format!("plugin {name:?} (escc.toml)"),
            program,
            args: command.collect(),
            dir: root.cloned(),
            timeout: config.timeout(),
            offline: false,
            described: OnceLock::new(),
        }
    }

    /// The plugin found on `PATH` as `program` (`escc-provider-NAME`).
    pub(crate) fn on_path(name: &str, program: PathBuf, root: Option<&PathBuf>) -> Plugin {
        let file = program
            .file_name()
            .map_or_else(|| name.to_owned(), |f| f.to_string_lossy().into_owned());
        Plugin {
            name: name.to_owned(),
            shown: format!("plugin {file}"),
            program: program.into_os_string(),
            args: Vec::new(),
            dir: root.cloned(),
            timeout: DEFAULT_TIMEOUT,
            offline: false,
            described: OnceLock::new(),
        }
    }

    /// Refuses to run the plugin to open or rotate when `offline`: escc cannot know what
    /// a program reaches, so `--offline` keeps every plugin from opening. It still runs
    /// to describe itself (a check needs its schemas), with `ESCC_OFFLINE=1` set.
    #[must_use]
    pub(crate) fn offline(mut self, offline: bool) -> Plugin {
        self.offline = offline;
        self
    }

    /// The provider it offers.
    ///
    /// # Errors
    /// `describe` failed, or the plugin offers no provider.
    pub(crate) fn provider(self: &Arc<Self>) -> Result<Arc<dyn Provider>, String> {
        match self.describe()?.provider {
            Some(_) => Ok(Arc::new(PluginProvider(self.clone()))),
            None => Err(format!(
                "{}: it describes no provider (only a rotator: use fn::rotate::{})",
                self.shown, self.name
            )),
        }
    }

    /// The rotator it offers.
    ///
    /// # Errors
    /// `describe` failed, or the plugin offers no rotator.
    pub(crate) fn rotator(self: &Arc<Self>) -> Result<Arc<dyn Rotator>, String> {
        match self.describe()?.rotator {
            Some(_) => Ok(Arc::new(PluginRotator(self.clone()))),
            None => Err(format!(
                "{}: it describes no rotator (only a provider: use fn::open::{})",
                self.shown, self.name
            )),
        }
    }

    /// `describe`, asked once.
    fn describe(&self) -> Result<Described, String> {
        self.described
            .get_or_init(|| {
                let request =
                    json!({"protocol": PROTOCOL, "method": "describe", "name": self.name});
                let response = self.call(&request, &[])?;
                described_from(&response).map_err(|e| format!("{}: describe: {e}", self.shown))
            })
            .clone()
    }
}

/// The description in a `describe` response, its schemas checked.
fn described_from(response: &Json) -> Result<Described, String> {
    if let Some(message) = response.get("error") {
        return Err(error_text(message, &[]));
    }
    let schema = |section: &str, key: &str| -> Result<Json, String> {
        // A state is an object (or absent): the evaluator checks it against the schema or
        // null, exactly one of them, so "anything" would refuse a call without a state.
        let anything = if key == "state" {
            json!({"type": "object"})
        } else {
            json!(true)
        };
        let s = response
            .get(section)
            .and_then(|p| p.get(key))
            .cloned()
            .unwrap_or(anything);
        Schema::from_json(&s)
            .and_then(|s| s.compile())
            .map_err(|e| format!("{section}.{key} is not a valid schema: {e}"))?;
        Ok(s)
    };
    let provider = match response.get("provider") {
        Some(Json::Object(_)) => Some((
            schema("provider", "inputs")?,
            schema("provider", "outputs")?,
        )),
        Some(_) => return Err("provider: expected an object".to_owned()),
        None => None,
    };
    let rotator = match response.get("rotator") {
        Some(Json::Object(_)) => Some((
            schema("rotator", "inputs")?,
            schema("rotator", "state")?,
            schema("rotator", "outputs")?,
        )),
        Some(_) => return Err("rotator: expected an object".to_owned()),
        None => None,
    };
    if provider.is_none() && rotator.is_none() {
        return Err("the response has neither a provider nor a rotator".to_owned());
    }
    Ok(Described { provider, rotator })
}

impl Plugin {
    /// Sends `request`, returns the response object (protocol version checked). `secrets`
    /// are the texts to mask in an error the plugin returns.
    fn call(&self, request: &Json, secrets: &[String]) -> Result<Json, String> {
        let method = request["method"].as_str().unwrap_or("call");
        let fail = |why: String| format!("{}: {method}: {why}", self.shown);
        if self.offline && method != "describe" {
            return Err(fail(
                "escc is offline (--offline or ESCC_OFFLINE): a plugin may reach the network, so it is not run"
                    .to_owned(),
            ));
        }
        let (status, out) = self.run(request).map_err(fail)?;
        // A response that parses is used even when the exit status says failure: its
        // `error` is the better message.
        let response = serde_json::from_slice::<Json>(&out);
        match (&response, status.success()) {
            (Ok(Json::Object(m)), _) if m.contains_key("error") => {
                check_protocol(m).map_err(fail)?;
                return Err(fail(error_text(&m["error"], secrets)));
            }
            (_, false) => {
                return Err(fail(format!(
                    "{} (its standard error is not shown: it may hold secrets; run it by hand to see it, see docs/providers.md)",
                    exit_text(status)
                )));
            }
            _ => {}
        }
        match response {
            Ok(Json::Object(m)) => {
                check_protocol(&m).map_err(fail)?;
                Ok(Json::Object(m))
            }
            Ok(_) => Err(fail("the response is not a JSON object".to_owned())),
            Err(_) if out.iter().all(u8::is_ascii_whitespace) => {
                Err(fail("it printed no response".to_owned()))
            }
            // serde's message says where the JSON broke, never what it held.
            Err(e) => Err(fail(format!("the response is not valid JSON ({e})"))),
        }
    }

    /// Runs the program with `request` on its standard input; its exit status and what
    /// it printed.
    fn run(&self, request: &Json) -> Result<(ExitStatus, Vec<u8>), String> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if self.offline {
            command.env("ESCC_OFFLINE", "1");
        }
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        let child = spawn(&mut command).map_err(|e| {
            format!(
                "cannot run {}: {}",
                self.program.to_string_lossy(),
                io_text(&e)
            )
        })?;
        let input = request.to_string().into_bytes();
        collect(child, Some(input), self.timeout, MAX_RESPONSE_BYTES).map_err(|f| match f {
            RunFailure::NoOutput => "cannot read its output".to_owned(),
            RunFailure::Read(e) => format!("cannot read its output: {}", io_text(&e)),
            RunFailure::TooLarge => format!(
                "its response is larger than {} MiB",
                MAX_RESPONSE_BYTES / (1024 * 1024)
            ),
            RunFailure::TimedOut => self.timed_out(),
            RunFailure::Wait(e) => format!("cannot wait for it: {}", io_text(&e)),
        })
    }

    fn timed_out(&self) -> String {
        format!(
            "no response within {} (it was stopped; escc.toml can set [providers.{}] timeout)",
            seconds_text(self.timeout),
            self.name
        )
    }

    /// Opens for `fn::open`, or for `fn::rotate` with its state, validating the outputs
    /// against `schema`.
    fn open(
        &self,
        opening: Opening<'_>,
        inputs: &Value,
        context: &Value,
        outputs_schema: &Json,
    ) -> Result<Value, String> {
        let mut request = json!({
            "protocol": PROTOCOL,
            "method": "open",
            "name": self.name,
            "inputs": inputs.to_json(false),
            "context": context.to_json(false),
        });
        let state = match opening {
            Opening::Provider => {
                request["function"] = json!("fn::open");
                None
            }
            Opening::Rotator(state) => {
                request["function"] = json!("fn::rotate");
                request["state"] = state.map_or(Json::Null, |s| s.to_json(false));
                state
            }
        };
        let secrets = secret_texts(inputs, state);
        let response = self.call(&request, &secrets)?;
        value_of(&response, "outputs", outputs_schema)
            .map_err(|e| format!("{}: open: {e}", self.shown))
    }

    fn rotate(
        &self,
        inputs: &Value,
        state: Option<&Value>,
        context: &Value,
        state_schema: &Json,
    ) -> Result<Value, String> {
        let request = json!({
            "protocol": PROTOCOL,
            "method": "rotate",
            "name": self.name,
            "function": "fn::rotate",
            "inputs": inputs.to_json(false),
            "state": state.map_or(Json::Null, |s| s.to_json(false)),
            "context": context.to_json(false),
        });
        let secrets = secret_texts(inputs, state);
        let response = self.call(&request, &secrets)?;
        value_of(&response, "state", state_schema)
            .map_err(|e| format!("{}: rotate: {e}", self.shown))
    }
}

/// What an `open` is for.
#[derive(Clone, Copy)]
enum Opening<'v> {
    /// `fn::open`.
    Provider,
    /// `fn::rotate`, with the state the document holds (if any).
    Rotator(Option<&'v Value>),
}

/// The response's `key` as a value, its `secrets` marked, valid for `schema`.
fn value_of(response: &Json, key: &str, schema: &Json) -> Result<Value, String> {
    let Some(json) = response.get(key) else {
        return Err(format!("the response has no {key:?}"));
    };
    let mut value = from_json(json);
    match response.get("secrets") {
        // Unmarked outputs are all secret: a plugin that forgets to say leaks nothing.
        None => value.secret = true,
        Some(Json::Array(pointers)) => {
            for (i, p) in pointers.iter().enumerate() {
                let Some(p) = p.as_str() else {
                    return Err(format!("secrets[{i}]: expected a JSON Pointer string"));
                };
                if !mark(&mut value, p) {
                    return Err(format!("secrets[{i}]: {p:?} names no part of the {key}"));
                }
            }
        }
        Some(_) => return Err("secrets: expected a list of JSON Pointers".to_owned()),
    }
    let compiled = Schema::from_json(schema).and_then(|s| s.compile())?;
    let mut problems = Vec::new();
    if !schema::validate(&compiled, &Plain(&value, String::new()), &mut problems) {
        // The messages name paths and expected types, never the values.
        let first = problems
            .first()
            .map_or_else(String::new, |p| format!(": {}", p.message));
        return Err(format!(
            "the {key} do not match the schema it described{first}"
        ));
    }
    Ok(value)
}

fn check_protocol(m: &serde_json::Map<String, Json>) -> Result<(), String> {
    match m.get("protocol").and_then(Json::as_u64) {
        Some(PROTOCOL) => Ok(()),
        Some(v) => Err(format!(
            "it speaks protocol version {v}; escc speaks version {PROTOCOL}"
        )),
        None => Err(format!(
            "the response has no \"protocol\" version (escc speaks version {PROTOCOL})"
        )),
    }
}

/// The message of a response's `error` (a string, or an object with a `message`), with
/// the given secret texts masked.
fn error_text(error: &Json, secrets: &[String]) -> String {
    let text = match error {
        Json::String(s) => s.clone(),
        Json::Object(m) => m
            .get("message")
            .and_then(Json::as_str)
            .unwrap_or("it failed without a message")
            .to_owned(),
        _ => "it failed without a message".to_owned(),
    };
    let text = text.trim();
    let text = if text.is_empty() {
        "it failed without a message"
    } else {
        text
    };
    Masker::new(secrets.iter().cloned()).mask_str(text)
}

fn secret_texts(inputs: &Value, state: Option<&Value>) -> Vec<String> {
    let mut texts = inputs.secret_texts();
    if let Some(s) = state {
        texts.extend(s.secret_texts());
    }
    texts
}

fn exit_text(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("it exited with status {code}"),
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                if let Some(signal) = status.signal() {
                    return format!("it was killed by signal {signal}");
                }
            }
            "it was stopped".to_owned()
        }
    }
}

fn seconds_text(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        format!("{s}s")
    }
}

/// An I/O error's text without Rust's `(os error N)` suffix (the project's has the same
/// rule; providers sit below projects, so they keep their own).
pub(super) fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s,
    }
}

/// Starts `command` as the leader of a process group of its own (with the `providers`
/// feature, on Unix), so that [`collect`] stopping it at a timeout also stops what it
/// started: a shell's `sleep`, a CLI's helper. (As with GNU `timeout`, a Ctrl-C on the
/// terminal then reaches escc, not the program; it sees its pipes close.)
pub(super) fn spawn(command: &mut Command) -> std::io::Result<Child> {
    #[cfg(all(unix, feature = "providers"))]
    std::os::unix::process::CommandExt::process_group(command, 0);
    command.spawn()
}

/// Kills a program [`spawn`] started, and its process group, and reaps it.
fn kill(child: &mut Child) {
    // Before the reaping, while its pid (the group's id) cannot have been reused.
    #[cfg(all(unix, feature = "providers"))]
    if let Some(group) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    // It may have exited already; either way it is reaped.
    let _ = child.kill();
    let _ = child.wait();
}

/// Why [`collect`] got no result from a program (it was killed).
pub(super) enum RunFailure {
    /// Its standard output is not a pipe.
    NoOutput,
    /// Reading its output failed.
    Read(std::io::Error),
    /// It printed more than the limit.
    TooLarge,
    /// It did not finish within the timeout.
    TimedOut,
    /// Waiting for it failed.
    Wait(std::io::Error),
}

/// Writes `input` (and a newline) to a spawned program's piped standard input, reads its
/// piped standard output up to `limit` bytes, and waits for it to exit, all within
/// `timeout` of now; its exit status and output. On any failure the program is killed.
/// Input is written and output read on their own threads: a program that never reads, or
/// that hangs with a child keeping its output open, cannot block escc past the timeout.
pub(super) fn collect(
    mut child: Child,
    input: Option<Vec<u8>>,
    timeout: Duration,
    limit: usize,
) -> Result<(ExitStatus, Vec<u8>), RunFailure> {
    let deadline = Instant::now() + timeout;
    if let Some(mut stdin) = child.stdin.take() {
        let bytes = input.unwrap_or_default();
        std::thread::spawn(move || {
            // A program that exits without reading closes the pipe: not escc's error.
            let _ = stdin.write_all(&bytes);
            let _ = stdin.write_all(b"\n");
        });
    }
    let Some(stdout) = child.stdout.take() else {
        kill(&mut child);
        return Err(RunFailure::NoOutput);
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let read = stdout.take(limit as u64 + 1).read_to_end(&mut out);
        let _ = tx.send(read.map(|_| out));
    });
    let out = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => {
            kill(&mut child);
            return Err(RunFailure::Read(e));
        }
        Err(_) => {
            kill(&mut child);
            return Err(RunFailure::TimedOut);
        }
    };
    if out.len() > limit {
        kill(&mut child);
        return Err(RunFailure::TooLarge);
    }
    // Its output is closed; it has until the deadline to exit.
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok((status, out)),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(None) => {
                kill(&mut child);
                return Err(RunFailure::TimedOut);
            }
            Err(e) => {
                kill(&mut child);
                return Err(RunFailure::Wait(e));
            }
        }
    }
}

/// A JSON value as a value (numbers keep their text).
pub(super) fn from_json(j: &Json) -> Value {
    Value::new(match j {
        Json::Null => ValueKind::Null,
        Json::Bool(b) => ValueKind::Bool(*b),
        Json::Number(n) => ValueKind::Number(n.to_string()),
        Json::String(s) => ValueKind::String(s.clone()),
        Json::Array(items) => ValueKind::Array(items.iter().map(from_json).collect()),
        Json::Object(m) => {
            ValueKind::Object(m.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    })
}

/// Marks the part of `value` at JSON Pointer `pointer` (RFC 6901) secret; false when there
/// is no such part.
fn mark(value: &mut Value, pointer: &str) -> bool {
    if pointer.is_empty() {
        value.secret = true;
        return true;
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return false;
    };
    let mut node = value;
    for token in rest.split('/') {
        let token = token.replace("~1", "/").replace("~0", "~");
        let next = match &mut node.kind {
            ValueKind::Object(m) => m.get_mut(&token),
            ValueKind::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    node.secret = true;
    true
}

/// A provider served by a plugin.
struct PluginProvider(Arc<Plugin>);

impl Provider for PluginProvider {
    fn schema(&self) -> (Json, Json) {
        // Only made from a plugin whose description has a provider.
        match self.0.describe() {
            Ok(Described {
                provider: Some(schemas),
                ..
            }) => schemas,
            _ => (json!(true), json!(true)),
        }
    }

    fn open(&self, inputs: &Value, context: &Value) -> Result<Value, String> {
        let (_, outputs) = self.schema();
        self.0.open(Opening::Provider, inputs, context, &outputs)
    }
}

/// A rotator served by a plugin.
struct PluginRotator(Arc<Plugin>);

impl PluginRotator {
    fn schemas(&self) -> (Json, Json, Json) {
        match self.0.describe() {
            Ok(Described {
                rotator: Some(schemas),
                ..
            }) => schemas,
            _ => (json!(true), json!({"type": "object"}), json!(true)),
        }
    }
}

impl Rotator for PluginRotator {
    fn schema(&self) -> (Json, Json, Json) {
        self.schemas()
    }

    fn open(
        &self,
        inputs: &Value,
        state: Option<&Value>,
        context: &Value,
    ) -> Result<Value, String> {
        let (_, _, outputs) = self.schemas();
        self.0
            .open(Opening::Rotator(state), inputs, context, &outputs)
    }

    fn rotate(
        &self,
        inputs: &Value,
        state: Option<&Value>,
        context: &Value,
    ) -> Result<Value, String> {
        let (_, state_schema, _) = self.schemas();
        self.0.rotate(inputs, state, context, &state_schema)
    }
}

/// A value seen by the validator, with its path for messages.
#[derive(Clone)]
struct Plain<'a>(&'a Value, String);

#[derive(Clone)]
struct At(String);

impl Place for At {
    type At = ();
    fn property(&self, key: &str) -> Self {
        At(crate::path::join_key(&self.0, key))
    }
    fn index(&self, index: usize) -> Self {
        At(format!("{}[{index}]", self.0))
    }
    fn problem(&self, message: &str) -> Problem<()> {
        let message = if self.0.is_empty() {
            message.to_owned()
        } else {
            format!("{}: {message}", self.0)
        };
        Problem { at: (), message }
    }
}

impl Subject for Plain<'_> {
    type Place = At;

    fn view(&self) -> View<Self> {
        let path = &self.1;
        match &self.0.kind {
            ValueKind::Null => View::Null,
            ValueKind::Bool(b) => View::Bool(*b),
            ValueKind::Number(n) => View::Number(n.clone()),
            ValueKind::String(s) => View::String(s.clone()),
            ValueKind::Array(items) => View::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Plain(v, format!("{path}[{i}]")))
                    .collect(),
            ),
            ValueKind::Object(m) => View::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Plain(v, crate::path::join_key(path, k))))
                    .collect(),
            ),
        }
    }

    fn place(&self) -> At {
        At(self.1.clone())
    }
}
