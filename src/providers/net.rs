//! What every built-in provider does on the network, in one place: a sync HTTP(S) client
//! with a timeout per request, bounded retries with backoff on throttling and server
//! errors, a cap on response size, `--offline`, and the endpoint overrides that let tests
//! and air-gapped users point a provider at their own server (docs/providers.md).
//!
//! Settings, all optional:
//! - `ESCC_PROVIDER_TIMEOUT`: seconds each request may take, connection included (default
//!   30; `ESCC_AWS_TIMEOUT` is read for the AWS providers first, for compatibility).
//! - `ESCC_PROVIDER_RETRIES`: how many times a throttled (429), unavailable (5xx) or
//!   unreachable request is retried (default 3, at most 10), after 250 ms, 500 ms, 1 s...
//!   or what the server's `Retry-After` says (at most 10 s).
//! - `ESCC_OFFLINE=1` (the command line's `--offline`): no request leaves the process.
//! - `ESCC_ENDPOINT_<SERVICE>` (`ESCC_ENDPOINT_GCP_SECRETMANAGER`, ...): the base URL of a
//!   service instead of its public one. Each provider documents its service names; the
//!   AWS ones read the AWS SDKs' own `AWS_ENDPOINT_URL[_<SERVICE>]`.
//!
//! No error this module returns quotes a response body: a provider decides what of an
//! answer is safe to show.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The default time a request may take, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default number of retries of a throttled or failed request.
pub const DEFAULT_RETRIES: u32 = 3;
/// The largest number of retries a setting may ask for.
const MAX_RETRIES: u32 = 10;
/// The longest wait between two attempts, whatever `Retry-After` says.
#[cfg(feature = "providers")]
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The first wait between two attempts; each next one doubles.
#[cfg(feature = "providers")]
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The largest response read.
#[cfg(feature = "providers")]
pub const MAX_RESPONSE_BYTES: u64 = 4 << 20;

/// How the built-in providers reach the network. One per catalog (so per evaluation).
#[derive(Clone)]
pub struct Network {
    timeout: Option<Duration>,
    retries: Option<u32>,
    offline: bool,
    /// Base URLs by service name, from the project (`[endpoints]`); the environment's
    /// `ESCC_ENDPOINT_<SERVICE>` wins over these.
    endpoints: BTreeMap<String, String>,
}

impl Default for Network {
    fn default() -> Network {
        Network::new()
    }
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Network")
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("offline", &self.offline)
            .field("endpoints", &self.endpoints)
            .finish()
    }
}

impl Network {
    /// The settings of the process's environment (see the module's documentation).
    #[must_use]
    pub fn new() -> Network {
        Network {
            timeout: None,
            retries: None,
            offline: env_flag("ESCC_OFFLINE"),
            endpoints: BTreeMap::new(),
        }
    }

    /// Refuses every request (`--offline`) when `offline`; the environment's
    /// `ESCC_OFFLINE=1` refuses them whatever this says.
    #[must_use]
    pub fn offline(mut self, offline: bool) -> Network {
        self.offline |= offline;
        self
    }

    /// Whether requests are refused.
    #[must_use]
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Bounds each request by `timeout` instead of the environment's setting.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Network {
        self.timeout = Some(timeout);
        self
    }

    /// Retries a throttled or failed request at most `retries` times.
    #[must_use]
    pub fn retries(mut self, retries: u32) -> Network {
        self.retries = Some(retries.min(MAX_RETRIES));
        self
    }

    /// Base URLs by service name (`escc.toml`'s `[endpoints]`).
    #[must_use]
    pub fn endpoints(mut self, endpoints: BTreeMap<String, String>) -> Network {
        self.endpoints = endpoints;
        self
    }

    /// The base URL of `service` (`gcp-secretmanager`): `ESCC_ENDPOINT_<SERVICE>` (upper
    /// case, `-` as `_`), then the project's `[endpoints]`, then `default`. Without a
    /// trailing `/`.
    ///
    /// # Errors
    /// The override is not an `http://` or `https://` URL.
    pub fn endpoint(&self, service: &str, default: &str) -> Result<String, String> {
        Ok(self
            .endpoint_override(service)?
            .unwrap_or_else(|| default.trim_end_matches('/').to_owned()))
    }

    /// The base URL `ESCC_ENDPOINT_<SERVICE>` or the project's `[endpoints]` give
    /// `service`, if either does; as for [`Network::endpoint`].
    ///
    /// # Errors
    /// The override is not an `http://` or `https://` URL.
    pub fn endpoint_override(&self, service: &str) -> Result<Option<String>, String> {
        let var = format!(
            "ESCC_ENDPOINT_{}",
            service.to_ascii_uppercase().replace(['-', '.'], "_")
        );
        let (url, from) = match std::env::var(&var).ok().filter(|v| !v.trim().is_empty()) {
            Some(url) => (url, var),
            None => match self.endpoints.get(service) {
                Some(url) => (url.clone(), format!("endpoints.{service}")),
                None => return Ok(None),
            },
        };
        base_url(&url, &from).map(Some)
    }

    /// The time each request may take: the setting, then `env` (a provider's own variable,
    /// read first), then `ESCC_PROVIDER_TIMEOUT`, then [`DEFAULT_TIMEOUT`].
    ///
    /// # Errors
    /// A variable that is not a number of seconds in (0, 3600].
    pub fn request_timeout(&self, env: Option<&str>) -> Result<Duration, String> {
        if let Some(t) = self.timeout {
            return Ok(t);
        }
        for var in env.into_iter().chain(["ESCC_PROVIDER_TIMEOUT"]) {
            if let Ok(s) = std::env::var(var) {
                return match s.trim().parse::<f64>() {
                    Ok(secs) if secs > 0.0 && secs <= 3600.0 => Ok(Duration::from_secs_f64(secs)),
                    _ => Err(format!(
                        "{var}={s:?}: expected a number of seconds, more than 0 and at most 3600"
                    )),
                };
            }
        }
        Ok(DEFAULT_TIMEOUT)
    }

    /// How many times a request is retried.
    ///
    /// # Errors
    /// `ESCC_PROVIDER_RETRIES` is not a whole number.
    pub fn request_retries(&self) -> Result<u32, String> {
        if let Some(r) = self.retries {
            return Ok(r);
        }
        match std::env::var("ESCC_PROVIDER_RETRIES") {
            Err(_) => Ok(DEFAULT_RETRIES),
            Ok(s) => match s.trim().parse::<u32>() {
                Ok(n) if n <= MAX_RETRIES => Ok(n),
                _ => Err(format!(
                    "ESCC_PROVIDER_RETRIES={s:?}: expected a whole number from 0 to {MAX_RETRIES}"
                )),
            },
        }
    }

    #[cfg(feature = "providers")]
    /// A client for one provider's requests; `timeout_env` is the provider's own timeout
    /// variable, if it has one.
    ///
    /// # Errors
    /// A setting does not parse.
    pub fn client(&self, timeout_env: Option<&str>) -> Result<Client, String> {
        let timeout = self.request_timeout(timeout_env)?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("escc/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            agent,
            retries: self.request_retries()?,
            offline: self.offline,
        })
    }
}

/// Whether environment variable `name` is set to `1`, `true`, `yes` or `on`.
pub(crate) fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

/// An `[endpoints]` entry of `escc.toml`: a service name (lower-case ASCII letters,
/// digits, `-` and `.`, as the providers name their services) and a base URL.
///
/// # Errors
/// What is wrong with either.
pub fn check_endpoint(service: &str, url: &str) -> Result<(), String> {
    if service.is_empty()
        || !service
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'))
    {
        return Err(
            "a service name is lower-case ASCII letters, digits, '-' and '.' (docs/providers.md lists them)"
                .to_owned(),
        );
    }
    check_base_url(url.trim())
}

/// `url` as a base URL (`scheme://host[:port][/path]`, no trailing `/`); `from` names
/// where it came from for the error.
pub(crate) fn base_url(url: &str, from: &str) -> Result<String, String> {
    let url = url.trim();
    check_base_url(url).map_err(|e| format!("{from}: {e}"))?;
    Ok(url.trim_end_matches('/').to_owned())
}

/// `url`: `http://` or `https://`, a host, an optional port and path, no query, fragment
/// or user.
pub(crate) fn check_base_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("{url:?} is not an http:// or https:// URL"))?;
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty() || rest.contains(['?', '#', '@', ' ']) {
        return Err(format!(
            "{url:?}: expected scheme://host[:port][/path], with no query, fragment or user"
        ));
    }
    Ok(())
}

#[cfg(feature = "providers")]
/// A request to send.
pub struct Request<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The whole URL.
    pub url: String,
    /// Headers, names in lower case.
    pub headers: Vec<(&'static str, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// A provider's own sign of throttling, besides 429 and 5xx: an answer it returns
    /// true for is retried too (AWS answers `400 ThrottlingException`).
    pub retry_when: Option<fn(&Response) -> bool>,
}

#[cfg(feature = "providers")]
impl<'a> Request<'a> {
    /// A request of `method` to `url`, with no headers or body.
    #[must_use]
    pub fn new(method: &'a str, url: impl Into<String>) -> Request<'a> {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            retry_when: None,
        }
    }

    /// Retries an answer `throttled` says is a throttling one, as 429 and 5xx are.
    #[must_use]
    pub fn retry_when(mut self, throttled: fn(&Response) -> bool) -> Request<'a> {
        self.retry_when = Some(throttled);
        self
    }

    /// Adds header `name`.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Request<'a> {
        self.headers.push((name, value.into()));
        self
    }

    /// A JSON body, with its content type.
    #[must_use]
    pub fn json(self, body: &serde_json::Value) -> Request<'a> {
        let mut r = self.header("content-type", "application/json");
        r.body = body.to_string().into_bytes();
        r
    }

    /// A form body (`application/x-www-form-urlencoded`), with its content type.
    #[must_use]
    pub fn form(self, fields: &[(&str, &str)]) -> Request<'a> {
        let mut r = self.header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        );
        r.body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes();
        r
    }

    /// The scheme and authority of the URL, the only part of it errors show (a path or
    /// query may name a secret).
    pub(crate) fn origin(&self) -> &str {
        let after_scheme = self.url.find("://").map_or(0, |i| i + 3);
        let end = self.url[after_scheme..]
            .find(['/', '?'])
            .map_or(self.url.len(), |i| after_scheme + i);
        &self.url[..end]
    }
}

#[cfg(feature = "providers")]
/// A response: its status and text.
#[derive(Debug)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body, as text (lossy UTF-8).
    pub text: String,
    /// How many times the request was sent: more than 1 when it was throttled or failed
    /// and retried (see [`Response::after_attempts`]).
    pub attempts: u32,
}

#[cfg(feature = "providers")]
impl Response {
    /// Whether the status is 2xx.
    #[must_use]
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `, after N attempts` when the request was retried, for a provider to append to the
    /// error of a response that failed all the same (the service kept throttling or
    /// failing); empty otherwise.
    #[must_use]
    pub fn after_attempts(&self) -> String {
        if self.attempts > 1 {
            format!(", after {} attempts", self.attempts)
        } else {
            String::new()
        }
    }

    /// The body as a JSON object; the error says only where the parser broke, never what
    /// it read.
    ///
    /// # Errors
    /// The body is not a JSON object.
    pub fn json_object(&self, from: &str) -> Result<serde_json::Value, String> {
        match serde_json::from_str(&self.text) {
            Ok(v @ serde_json::Value::Object(_)) => Ok(v),
            Ok(_) => Err(format!("the response from {from} is not a JSON object")),
            Err(e) => Err(format!("the response from {from} is not valid JSON ({e})")),
        }
    }
}

#[cfg(feature = "providers")]
/// A sync HTTP client (see [`Network::client`]).
pub struct Client {
    agent: ureq::Agent,
    retries: u32,
    offline: bool,
}

#[cfg(feature = "providers")]
impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("retries", &self.retries)
            .field("offline", &self.offline)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "providers")]
impl Client {
    /// Sends `request`, retrying a throttled (429, or what [`Request::retry_when`] says),
    /// unavailable (500, 502, 503, 504) or unreachable one with backoff; the last
    /// response, whatever its status. A timeout is
    /// not retried: a server that hangs once is likely to hang again, and the user waits
    /// for each attempt.
    ///
    /// # Errors
    /// Offline; the server could not be reached or did not answer in time; the answer is
    /// larger than [`MAX_RESPONSE_BYTES`].
    pub fn send(&self, request: &Request<'_>) -> Result<Response, String> {
        let origin = request.origin();
        if self.offline {
            return Err(format!(
                "escc is offline (--offline or ESCC_OFFLINE): it would call {origin}"
            ));
        }
        let mut attempt = 0;
        loop {
            let outcome = self.send_once(request, origin);
            let retry_after = match &outcome {
                Ok((response, retry_after))
                    if matches!(response.status, 429 | 500 | 502..=504)
                        || request
                            .retry_when
                            .is_some_and(|throttled| throttled(response)) =>
                {
                    Some(*retry_after)
                }
                Err(Failure::Unreachable(_)) => Some(None),
                _ => None,
            };
            match retry_after {
                Some(after) if attempt < self.retries => {
                    let backoff = FIRST_BACKOFF.saturating_mul(1 << attempt.min(8));
                    std::thread::sleep(after.unwrap_or(backoff).min(MAX_BACKOFF));
                    attempt += 1;
                }
                _ => {
                    let attempts = attempt + 1;
                    return outcome
                        .map(|(response, _)| Response {
                            attempts,
                            ..response
                        })
                        .map_err(|failure| {
                            if attempt > 0 {
                                format!("{failure} (after {} attempts)", attempt + 1)
                            } else {
                                failure.to_string()
                            }
                        });
                }
            }
        }
    }

    fn send_once(
        &self,
        request: &Request<'_>,
        origin: &str,
    ) -> Result<(Response, Option<Duration>), Failure> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method)
            .uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value.as_str());
        }
        let http = builder
            .body(request.body.clone())
            .map_err(|e| Failure::Other(format!("request to {origin} is malformed: {e}")))?;
        let mut response = self
            .agent
            .run(http)
            .map_err(|e| Failure::describe(&e, origin))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => Failure::Other(format!(
                    "the response from {origin} is larger than {} MiB",
                    MAX_RESPONSE_BYTES >> 20
                )),
                e => Failure::describe(&e, origin),
            })?;
        Ok((
            Response {
                status,
                text: String::from_utf8_lossy(&bytes).into_owned(),
                attempts: 1,
            },
            retry_after,
        ))
    }
}

#[cfg(feature = "providers")]
/// Why a request got no response.
enum Failure {
    /// Not connected (refused, reset, DNS): worth another attempt.
    Unreachable(String),
    /// Anything else, a timeout included.
    Other(String),
}

#[cfg(feature = "providers")]
impl Failure {
    /// A transport failure, without anything the server sent.
    fn describe(e: &ureq::Error, origin: &str) -> Failure {
        match e {
            ureq::Error::Timeout(_) => Failure::Other(format!("{origin} did not answer in time")),
            ureq::Error::Io(io) => Failure::Unreachable(format!(
                "cannot reach {origin}: {}",
                super::plugin::io_text(io)
            )),
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
                Failure::Unreachable(format!("cannot reach {origin}: {e}"))
            }
            e => Failure::Other(format!("request to {origin} failed: {e}")),
        }
    }
}

#[cfg(feature = "providers")]
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Unreachable(s) | Failure::Other(s) => f.write_str(s),
        }
    }
}

#[cfg(feature = "providers")]
/// Percent-encoding of everything but RFC 3986's unreserved characters (form fields, path
/// segments, query values).
#[must_use]
pub fn percent_encode(s: &str) -> String {
    use std::fmt::Write as _;
    s.bytes().fold(String::new(), |mut out, b| {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "providers")]
    #[test]
    fn origins_hide_paths_and_queries() {
        let r = Request::new("GET", "https://h.example:8200/v1/secret/data/x?token=t");
        assert_eq!(r.origin(), "https://h.example:8200");
        assert_eq!(Request::new("GET", "http://h").origin(), "http://h");
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(check_base_url("http://127.0.0.1:9090").is_ok());
        assert!(check_base_url("https://h/prefix/").is_ok());
        for bad in ["ftp://h", "http://", "http://u@h", "http://h/?q", "h:80"] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }

    #[cfg(feature = "providers")]
    #[test]
    fn offline_refuses_before_any_request() {
        let client = Network::new().offline(true).client(None).unwrap();
        let err = client
            .send(&Request::new("GET", "http://127.0.0.1:9/v1/secret?x=1"))
            .unwrap_err();
        assert_eq!(
            err,
            "escc is offline (--offline or ESCC_OFFLINE): it would call http://127.0.0.1:9"
        );
    }

    #[cfg(feature = "providers")]
    #[test]
    fn percent_encoding_keeps_unreserved() {
        assert_eq!(percent_encode("a-b_c.d~e f/g=h"), "a-b_c.d~e%20f%2Fg%3Dh");
    }
}
