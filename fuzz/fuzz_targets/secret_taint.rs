//! Fuzzes secret redaction: the bytes choose secrets and the builtins, providers and
//! accesses that derive values from them; nothing redacted may show a secret (see
//! `check_secret_taint` in `tests/it/invariants.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../tests/it/invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    invariants::check_secret_taint(data);
});
