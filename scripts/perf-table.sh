#!/usr/bin/env bash
# Prints the performance table of docs/performance.md (release build, one process per row).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet --no-default-features --example perf
