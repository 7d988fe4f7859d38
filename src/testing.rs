//! The reference's test host, for conformance tests, fuzzing and benchmarks: environments
//! from memory, the providers `test`, `secret-wrapper`, `error`, `schema` and `bench`, the
//! rotators `swap` and `echo`, and the `rot128` test cipher.
//!
//! This is not a host for real use: its cipher is a toy and its providers echo their
//! inputs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::eval::{Host, HostError, Provider, Registry, Rotator, Value, ValueKind};

/// A test host over environments held in memory.
pub struct TestHost {
    environments: BTreeMap<String, String>,
    /// Shown in "no such file" messages as the directory the environments came from
    /// (the reference's tests print `testdata/eval/<case>`).
    pub directory: String,
    registry: Registry,
    /// Latency added to every environment load.
    pub load_delay: Duration,
}

impl Default for TestHost {
    fn default() -> Self {
        TestHost {
            environments: BTreeMap::new(),
            directory: String::new(),
            registry: registry(Duration::ZERO),
            load_delay: Duration::ZERO,
        }
    }
}

/// The reference's test providers and rotators; `bench` waits `open_delay`.
fn registry(open_delay: Duration) -> Registry {
    Registry::new()
        .with_provider("test", Echo { secret: false })
        .with_provider("secret-wrapper", Echo { secret: true })
        .with_provider("error", Failing)
        .with_provider("schema", SchemaProvider)
        .with_provider("bench", Bench { delay: open_delay })
        .with_rotator("swap", Swap)
        .with_rotator("echo", EchoRotator)
}

impl TestHost {
    /// A host serving `environments` (name → text).
    #[must_use]
    pub fn new(environments: BTreeMap<String, String>, directory: impl Into<String>) -> Self {
        TestHost {
            environments,
            directory: directory.into(),
            ..TestHost::default()
        }
    }

    /// Sets the latency of the `bench` provider.
    #[must_use]
    pub fn with_open_delay(mut self, delay: Duration) -> Self {
        self.registry = registry(delay);
        self
    }

    /// Sets the latency of environment loads.
    #[must_use]
    pub fn with_load_delay(mut self, delay: Duration) -> Self {
        self.load_delay = delay;
        self
    }

    /// The execution context the reference's tests use.
    #[must_use]
    pub fn context() -> Value {
        Value::object([(
            "pulumi".to_owned(),
            Value::object([(
                "user".to_owned(),
                Value::object([("id".to_owned(), Value::string("USER_123"))]),
            )]),
        )])
    }
}

/// Adds 128 to every byte: the reference's test cipher (it is its own inverse).
#[must_use]
pub fn rot128(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().map(|b| b.wrapping_add(128)).collect()
}

impl Host for TestHost {
    fn load_environment(&self, name: &str) -> Result<String, HostError> {
        if !self.load_delay.is_zero() {
            std::thread::sleep(self.load_delay);
        }
        self.environments.get(name).cloned().ok_or_else(|| {
            HostError::not_found(format!(
                "open {}/{name}.yaml: no such file or directory",
                self.directory
            ))
        })
    }

    fn provider(&self, name: &str) -> Result<Arc<dyn Provider>, HostError> {
        self.registry
            .provider(name)
            .ok_or_else(|| HostError::not_found(format!("unknown provider {name:?}")))
    }

    fn rotator(&self, name: &str) -> Result<Arc<dyn Rotator>, HostError> {
        self.registry
            .rotator(name)
            .ok_or_else(|| HostError::not_found(format!("unknown rotator {name:?}")))
    }

    fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, HostError> {
        Ok(rot128(ciphertext))
    }
}

/// `test` and `secret-wrapper`: return the inputs.
struct Echo {
    secret: bool,
}

impl Provider for Echo {
    fn schema(&self) -> (serde_json::Value, serde_json::Value) {
        (json!(true), json!(true))
    }

    fn open(&self, inputs: &Value, _: &Value) -> Result<Value, String> {
        let mut out = inputs.clone();
        out.secret |= self.secret;
        Ok(out)
    }
}

/// `error`: fails with input `why`.
struct Failing;

impl Provider for Failing {
    fn schema(&self) -> (serde_json::Value, serde_json::Value) {
        (
            json!({"properties": {"why": {"type": "string"}}, "type": "object", "required": ["why"]}),
            json!(true),
        )
    }

    fn open(&self, inputs: &Value, _: &Value) -> Result<Value, String> {
        Err(inputs
            .get("why")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }
}

/// `schema`: echoes; its schema exercises every keyword.
struct SchemaProvider;

#[allow(
    clippy::approx_constant,
    reason = "the reference's schema says 3.14, not pi"
)]
fn schema_provider_schema() -> serde_json::Value {
    let string = json!({"type": "string"});
    let number = json!({"type": "number"});
    json!({
        "$defs": {
            "defRecord": {
                "properties": {"baz": {"type": "string", "const": "qux"}},
                "type": "object",
                "required": ["baz"],
            }
        },
        "properties": {
            "null": {"type": "null"},
            "boolean": {"type": "boolean"},
            "false": {"type": "boolean", "const": false},
            "true": {"type": "boolean", "const": true},
            "number": number,
            "pi": {"type": "number", "const": 3.14},
            "string": string,
            "hello": {"type": "string", "const": "hello"},
            "array": {"type": "array", "items": true},
            "tuple": {
                "prefixItems": [{"type": "string", "const": "hello"}, {"type": "string", "const": "world"}],
                "items": false,
                "type": "array",
            },
            "map": {"type": "object", "additionalProperties": true},
            "record": {"properties": {"foo": string}, "type": "object", "required": ["foo"]},
            "anyOf": {"anyOf": [string, number]},
            "oneOf": {"oneOf": [string, number]},
            "ref": {"$ref": "#/$defs/defRecord"},
            "const-array": {"type": "array", "const": ["hello", 42]},
            "const-object": {"type": "object", "const": {"hello": "world"}},
            "enum": {"type": "string", "enum": ["foo", "bar"]},
            "never": false,
            "always": true,
            "double": {"prefixItems": [string, number], "items": false, "type": "array"},
            "triple": {
                "prefixItems": [string, number, {"type": "boolean"}],
                "items": false,
                "type": "array",
            },
            "dependentReq": {
                "properties": {"foo": string, "bar": number},
                "type": "object",
                "dependentRequired": {"foo": ["bar"]},
            },
            "multiple": {"type": "number", "multipleOf": 2},
            "minimum": {"type": "number", "minimum": 1},
            "exclusiveMinimum": {"type": "number", "exclusiveMinimum": 1},
            "maximum": {"type": "number", "maximum": 1},
            "exclusiveMaximum": {"type": "number", "exclusiveMaximum": 1},
            "minLength": {"type": "string", "minLength": 1},
            "maxLength": {"type": "string", "maxLength": 1},
            "pattern": {"type": "string", "pattern": "^foo[0-9]+$"},
            "minItems": {"type": "array", "minItems": 3},
            "maxItems": {"type": "array", "maxItems": 2},
            "minProperties": {"type": "object", "minProperties": 1},
            "maxProperties": {"type": "object", "maxProperties": 1},
        },
        "type": "object",
    })
}

impl Provider for SchemaProvider {
    fn schema(&self) -> (serde_json::Value, serde_json::Value) {
        let s = schema_provider_schema();
        (s.clone(), s)
    }

    fn open(&self, inputs: &Value, _: &Value) -> Result<Value, String> {
        Ok(inputs.clone())
    }
}

/// `bench`: waits, then returns the delay as Go prints durations (`0s`, `10ms`).
struct Bench {
    delay: Duration,
}

impl Provider for Bench {
    fn schema(&self) -> (serde_json::Value, serde_json::Value) {
        (json!(true), json!(true))
    }

    fn open(&self, _: &Value, _: &Value) -> Result<Value, String> {
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let ms = self.delay.as_millis();
        Ok(Value::string(if ms == 0 {
            "0s".to_owned()
        } else {
            format!("{ms}ms")
        }))
    }
}

/// `swap`: state `{a, b}`; rotation swaps them.
struct Swap;

impl Rotator for Swap {
    fn schema(&self) -> (serde_json::Value, serde_json::Value, serde_json::Value) {
        let state = json!({
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "type": "object",
            "required": ["a", "b"],
        });
        (json!(true), state.clone(), state)
    }

    fn open(&self, _: &Value, state: Option<&Value>, _: &Value) -> Result<Value, String> {
        Ok(state.cloned().unwrap_or_else(|| Value::object([])))
    }

    fn rotate(&self, _: &Value, state: Option<&Value>, _: &Value) -> Result<Value, String> {
        let get = |k: &str| {
            state
                .and_then(|s| s.get(k))
                .cloned()
                .unwrap_or_else(|| Value::new(ValueKind::Null))
        };
        Ok(Value::object([
            ("a".to_owned(), get("b")),
            ("b".to_owned(), get("a")),
        ]))
    }
}

/// `echo`: input `next` is rotate-only; state `{current, previous}`.
struct EchoRotator;

impl Rotator for EchoRotator {
    fn schema(&self) -> (serde_json::Value, serde_json::Value, serde_json::Value) {
        let state = json!({
            "properties": {"current": {"type": "string"}, "previous": {"type": "string"}},
            "type": "object",
            "required": ["current"],
        });
        (
            json!({
                "properties": {"next": {"type": "string"}},
                "type": "object",
                "required": ["next"],
                "rotateOnly": ["next"],
            }),
            state.clone(),
            state,
        )
    }

    fn open(&self, inputs: &Value, state: Option<&Value>, _: &Value) -> Result<Value, String> {
        if let Some(next) = inputs.get("next")
            && !next.unknown
            && state.and_then(|s| s.get("current")) != Some(next)
        {
            return Err("oh no! inputs were evaluated outside of rotation".to_owned());
        }
        Ok(state.cloned().unwrap_or_else(|| Value::object([])))
    }

    fn rotate(&self, inputs: &Value, state: Option<&Value>, _: &Value) -> Result<Value, String> {
        // An absent state rotates like an empty one.
        let empty = Value::object([]);
        let state = state.unwrap_or(&empty);
        let next = inputs
            .get("next")
            .cloned()
            .unwrap_or_else(|| Value::new(ValueKind::Null));
        if next.unknown {
            return Err("oh no! rotateOnly inputs were not evaluated during rotation".to_owned());
        }
        let previous = state
            .get("current")
            .cloned()
            .unwrap_or_else(|| Value::new(ValueKind::Null));
        Ok(Value::object([
            ("current".to_owned(), next),
            ("previous".to_owned(), previous),
        ]))
    }
}
