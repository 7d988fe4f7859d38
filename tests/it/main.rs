//! The integration tests (one binary): spans, properties, limits, the command line.

mod age;
mod aws;
mod cli;
mod edit;
mod embed;
mod eval;
#[allow(dead_code, reason = "a toolkit: each provider test uses part of it")]
mod fake_http;
mod fuzz_corpus;
mod go;
mod hostile;
mod invariants;
mod language;
mod leaks;
mod limits;
mod lsp;
mod no_panic;
mod providers;
mod rotate;
mod secrets;
mod signals;
mod spans;
mod tidy;
mod versions;
