//! The 1Password built-in provider, `1password-secrets`, through the 1Password CLI: for
//! each reference, `op read --no-newline REF` with the service account token in the
//! program's environment (`OP_SERVICE_ACCOUNT_TOKEN`), never in its arguments, where
//! other users could see it (docs/providers.md, "1Password").
//!
//! 1Password's service-account protocol is closed, and only its CLI and SDKs speak it, so
//! escc runs `op` when it is on `PATH` and otherwise says it is not available.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::net::Network;
use super::plugin::{self, RunFailure};
use super::shared::{self, entries, join, object_at, secret_string, string_at};
use crate::eval::Value;

/// The most `op` may print for one value.
const MAX_VALUE_BYTES: usize = 1 << 20;
/// The most of `op`'s standard error read, for its error message.
const MAX_STDERR_BYTES: u64 = 64 << 10;

/// Opens built-in provider `name` if this module serves it.
pub(super) fn open(name: &str, inputs: &Value, network: &Network) -> Option<Result<Value, String>> {
    let result = match name {
        "1password-secrets" => secrets(inputs, network),
        _ => return None,
    };
    Some(shared::finish(name, inputs, result))
}

/// `1password-secrets`: one `op read` per entry of `get`, run concurrently; each name maps
/// to the field's value, secret.
fn secrets(inputs: &Value, network: &Network) -> Result<Value, String> {
    let login = object_at(inputs, "login", "")?;
    let token = string_at(login, "serviceAccountToken", "login")?;
    let mut reads = Vec::new();
    for (name, request) in entries(inputs, "get")? {
        let path = join("get", name);
        let reference = string_at(request, "ref", &path)?;
        if !reference.starts_with("op://") {
            return Err(format!(
                "{}: expected a secret reference op://vault/item/[section/]field",
                join(&path, "ref")
            ));
        }
        reads.push((name, path, reference));
    }
    if network.is_offline() {
        return Err(
            "escc is offline (--offline or ESCC_OFFLINE): it would run the 1Password CLI (op), which calls 1Password"
                .to_owned(),
        );
    }
    let op = find_op().ok_or(
        "not available: install the 1Password CLI (op) and put it on PATH (https://developer.1password.com/docs/cli/get-started/): escc reads 1Password through it",
    )?;
    let timeout = network.request_timeout(None)?;
    // Each `op read` signs in and calls 1Password: concurrently, the slowest sets the pace.
    let results: Vec<Result<String, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = reads
            .iter()
            .map(|(_, _, reference)| scope.spawn(|| read(&op, &token, reference, timeout)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("op read failed".to_owned()))
            })
            .collect()
    });
    let mut out = Vec::new();
    for ((name, path, reference), result) in reads.iter().zip(results) {
        let value = result.map_err(|e| {
            format!(
                "{path}: op read {reference:?}: {}",
                shared::hide(&e, &[&token])
            )
        })?;
        out.push(((*name).clone(), secret_string(value)));
    }
    Ok(Value::object(out))
}

/// `op` in the first absolute directory of `PATH` that holds it as an executable file
/// (a relative directory would make what runs depend on the current directory).
fn find_op() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join("op"))
        .find(|p| super::is_executable(p))
}

/// Runs `op read --no-newline REFERENCE`; the value it printed.
fn read(op: &Path, token: &str, reference: &str, timeout: Duration) -> Result<String, String> {
    let mut command = Command::new(op);
    command
        .args(["read", "--no-newline", reference])
        .env("OP_SERVICE_ACCOUNT_TOKEN", token)
        // A Connect server, when these are set, would win over the service account.
        .env_remove("OP_CONNECT_HOST")
        .env_remove("OP_CONNECT_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = plugin::spawn(&mut command)
        .map_err(|e| format!("cannot run {}: {}", op.display(), plugin::io_text(&e)))?;
    // Read on its own thread, so that a full stderr pipe cannot stall `op`.
    let stderr = child.stderr.take().map(|err| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = err.take(MAX_STDERR_BYTES).read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    });
    let (status, out) =
        plugin::collect(child, None, timeout, MAX_VALUE_BYTES).map_err(|f| match f {
            RunFailure::TimedOut => format!(
                "op did not finish within {} s (it was stopped; ESCC_PROVIDER_TIMEOUT sets the time)",
                timeout.as_secs()
            ),
            RunFailure::TooLarge => {
                format!("op printed more than {} MiB", MAX_VALUE_BYTES >> 20)
            }
            RunFailure::NoOutput => "cannot read op's output".to_owned(),
            RunFailure::Read(e) | RunFailure::Wait(e) => {
                format!("cannot run op: {}", plugin::io_text(&e))
            }
        })?;
    if !status.success() {
        let said = stderr
            .and_then(|h| h.join().ok())
            .map(|text| op_message(&text))
            .filter(|m| !m.is_empty());
        return Err(match said {
            Some(m) => format!("op failed: {m}"),
            None => format!("op failed ({status})"),
        });
    }
    String::from_utf8(out).map_err(|_| "op printed a value that is not UTF-8".to_owned())
}

/// The message of `op`'s standard error: its last line, without the `[ERROR] date time`
/// prefix (so that messages do not vary with the clock), clipped.
fn op_message(stderr: &str) -> String {
    let line = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let line = line.trim();
    let line = match line.strip_prefix("[ERROR] ") {
        // `YYYY/MM/DD HH:MM:SS message`
        Some(rest) => rest.splitn(3, ' ').nth(2).unwrap_or(rest),
        None => line,
    };
    shared::backend_message(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_messages_lose_their_timestamp() {
        assert_eq!(
            op_message(
                "[ERROR] 2026/01/02 03:04:05 \"Stripe\" isn't an item in the \"dev\" vault. Specify the item with its UUID, name, or domain.\n"
            ),
            "\"Stripe\" isn't an item in the \"dev\" vault. Specify the item with its UUID, name, or domain."
        );
        assert_eq!(op_message("warning\nplain failure\n\n"), "plain failure");
        assert_eq!(op_message(""), "");
    }
}
