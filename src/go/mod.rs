//! Go's standard library, as far as the reference's outputs depend on it: `strconv` (quoting,
//! `IsPrint`, float formatting), `encoding/json`, `encoding/base64` and `strings`.
//!
//! This is the bottom layer: it uses nothing else in the crate. Each function reproduces Go's
//! output and error texts byte for byte; `tests/go/` prints Go's own answers, and the tests
//! compare against them (`fixtures/go/`).

pub(crate) mod base64;
pub(crate) mod json;
pub(crate) mod strconv;
pub(crate) mod strings;
