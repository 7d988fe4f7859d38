//! The integration tests (one binary): spans, properties, limits, the command line.

mod fuzz_corpus;
mod invariants;
mod limits;
mod no_panic;
mod spans;
