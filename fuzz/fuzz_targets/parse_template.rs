//! Fuzzes `${...}` templates: bytes → lossy UTF-8 → the same string written in every YAML
//! scalar style, each loaded with `escc::load`; every style must give the same expression,
//! diagnostics and (where the text is held verbatim) spans (see `tests/it/invariants.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../tests/it/invariants.rs"]
mod invariants;

fuzz_target!(|data: &[u8]| {
    invariants::check_template(&String::from_utf8_lossy(data));
});
