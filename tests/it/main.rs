//! The integration tests (one binary): spans, properties, limits, the command line.

mod eval;
mod fuzz_corpus;
mod invariants;
mod limits;
mod no_panic;
mod spans;
