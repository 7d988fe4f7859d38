//! Fuzzes property paths: bytes → lossy UTF-8 → `escc::ast::parse_property_path`, and the
//! same path inside a `${...}` of a loaded document (see `tests/it/invariants.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../tests/it/invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    invariants::check_path(&String::from_utf8_lossy(data));
});
