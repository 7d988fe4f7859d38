//! Fuzzes evaluation: bytes → lossy UTF-8 → up to four environments (sections separated by
//! `#---` lines: the root, then `a`, `b`, `c`), the root evaluated with the test host in
//! every mode, sequentially and concurrently (see `tests/it/invariants.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../tests/it/invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    invariants::check_eval(&String::from_utf8_lossy(data));
});
