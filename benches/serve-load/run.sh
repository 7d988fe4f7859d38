#!/bin/sh
# The load benchmark of `escc serve` (issue 21): opens per second and p50/p99 latency for
# 1, 16 and 64 concurrent keep-alive clients against SQLite and PostgreSQL (a server on
# loopback, started as the tests start it: Debian's PostgreSQL, which .ci/run installs),
# the server's memory, and a check that the audit log holds exactly one record per
# request. Not a timed test: it prints a table (docs/serve.md has the last one).
#
#   benches/serve-load/run.sh                  # 5 s per row, the release build serving
#   ESCC_LOAD_SECS=20 benches/serve-load/run.sh
set -eu
cd "$(dirname "$0")/../.."
cargo build --release --bin escc
# The harness (tests/it/serve_pg.rs) is the debug test binary; the server it measures is
# the release build.
ESCC_SERVE_BIN="$PWD/target/release/escc" \
    exec cargo test --test it serve_load_benchmark -- --ignored --nocapture --test-threads 1
