//! The integration tests (one binary): spans, properties, limits, the command line.

mod age;
mod age_edit;
mod age_merge;
mod aws;
mod backends;
mod cli;
mod edit;
mod embed;
mod eval;
#[allow(dead_code, reason = "a toolkit: each provider test uses part of it")]
mod fake_http;
mod fuzz_corpus;
mod gcp;
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
mod rotators;
mod runtime;
mod saas;
mod secrets;
mod serve;
mod serve_esc_cli;
mod signals;
mod spans;
mod tidy;
mod vault;
mod versions;
