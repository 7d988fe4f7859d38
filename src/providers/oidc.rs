//! Identity tokens for the providers' OIDC modes, from the environment escc runs in,
//! never from a hosted service (docs/providers.md, "OIDC"). The first source that is set
//! wins:
//! 1. the provider's own token-file variable (`AWS_WEB_IDENTITY_TOKEN_FILE` for AWS,
//!    `AZURE_FEDERATED_TOKEN_FILE` for Azure, ...), the one its SDKs read;
//! 2. `ESCC_OIDC_TOKEN_FILE`: a file holding the token;
//! 3. GitHub Actions: `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`
//!    (a workflow with `permissions: id-token: write`), asked for the provider's audience;
//! 4. `ESCC_OIDC_TOKEN_COMMAND`: a command (run with `sh -c`) that prints the token.
//!
//! A token is a credential: no error here quotes one.

use std::io::Read as _;
use std::process::{Command, Stdio};

use super::net::{self, Network};
use super::plugin::{self, RunFailure};

/// The largest token accepted, from any source.
const MAX_TOKEN_BYTES: usize = 64 << 10;

/// An identity token for `audience`; `file_var` is the provider's own token-file variable.
///
/// # Errors
/// No source is set (the message lists them), or the one set fails.
pub(crate) fn identity_token(
    network: &Network,
    audience: &str,
    file_var: Option<&str>,
) -> Result<String, String> {
    for var in file_var.into_iter().chain(["ESCC_OIDC_TOKEN_FILE"]) {
        if let Some(file) = std::env::var_os(var).filter(|f| !f.is_empty()) {
            // One byte more than a token may have: enough to refuse a larger one.
            let mut text = String::new();
            std::fs::File::open(&file)
                .and_then(|f| f.take(MAX_TOKEN_BYTES as u64 + 1).read_to_string(&mut text))
                .map_err(|e| {
                    format!(
                        "cannot read {var} ({}): {}",
                        std::path::Path::new(&file).display(),
                        plugin::io_text(&e)
                    )
                })?;
            return checked(&text, var);
        }
    }
    let url = std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL").ok();
    let bearer = std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN").ok();
    if let (Some(url), Some(bearer)) = (url, bearer) {
        return github_actions(network, &url, &bearer, audience);
    }
    if let Ok(command) = std::env::var("ESCC_OIDC_TOKEN_COMMAND")
        && !command.trim().is_empty()
    {
        return run_command(network, &command);
    }
    let own = file_var.map(|v| format!("{v}, ")).unwrap_or_default();
    Err(format!(
        "no identity token: set {own}ESCC_OIDC_TOKEN_FILE or ESCC_OIDC_TOKEN_COMMAND, or run in GitHub Actions with `permissions: id-token: write` (docs/providers.md, \"OIDC\")"
    ))
}

/// The token of a source, trimmed; refused when empty or too large.
fn checked(text: &str, source: &str) -> Result<String, String> {
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("{source} gave an empty identity token"));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(too_large(source));
    }
    Ok(token.to_owned())
}

fn too_large(source: &str) -> String {
    format!(
        "{source} gave an identity token larger than {} KiB",
        MAX_TOKEN_BYTES >> 10
    )
}

/// GitHub Actions' token endpoint: `GET {url}&audience=AUD` with the request bearer;
/// the token is the answer's `value`.
fn github_actions(
    network: &Network,
    url: &str,
    bearer: &str,
    audience: &str,
) -> Result<String, String> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let request = net::Request::new(
        "GET",
        format!("{url}{sep}audience={}", net::percent_encode(audience)),
    )
    .header("authorization", format!("Bearer {bearer}"))
    .header("accept", "application/json");
    let source = "GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL)";
    let response = network
        .client(None)?
        .send(&request)
        .map_err(|e| format!("{source}: {e}"))?;
    if !response.ok() {
        return Err(format!(
            "{source}: the token request was answered HTTP {}",
            response.status
        ));
    }
    match response.json_object("the token endpoint")?.get("value") {
        Some(serde_json::Value::String(v)) => checked(v, source),
        _ => Err(format!("{source}: the answer has no `value` string")),
    }
}

/// Runs `command` with `sh -c`; its standard output is the token. Like every program a
/// provider runs, it is stopped at the provider timeout, and what it prints is bounded.
fn run_command(network: &Network, command: &str) -> Result<String, String> {
    let source = "ESCC_OIDC_TOKEN_COMMAND";
    let timeout = network.request_timeout(None)?;
    let child = plugin::spawn(
        Command::new("sh")
            .args(["-c", command])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit()),
    )
    .map_err(|e| format!("{source}: cannot run sh: {}", plugin::io_text(&e)))?;
    let (status, out) =
        plugin::collect(child, None, timeout, MAX_TOKEN_BYTES).map_err(|f| match f {
            RunFailure::TimedOut => format!(
                "{source} did not finish within {} s (it was stopped; ESCC_PROVIDER_TIMEOUT sets the time)",
                timeout.as_secs_f64()
            ),
            RunFailure::TooLarge => too_large(source),
            RunFailure::NoOutput => format!("{source}: cannot read its output"),
            RunFailure::Read(e) | RunFailure::Wait(e) => {
                format!("{source}: {}", plugin::io_text(&e))
            }
        })?;
    if !status.success() {
        return Err(format!("{source} failed ({status})"));
    }
    let text = String::from_utf8(out)
        .map_err(|_| format!("{source} printed a token that is not UTF-8"))?;
    checked(&text, source)
}
