//! Fuzzes loading a whole environment: bytes → lossy UTF-8 → `escc::load`, then the
//! span invariants of `tests/it/invariants.rs` (shared with the stable corpus replay).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../tests/it/invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    invariants::check_load(&String::from_utf8_lossy(data));
});
