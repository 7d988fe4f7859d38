#!/usr/bin/env bash
# Prints the performance table of docs/performance.md (release build, one process per row).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet --no-default-features --example perf

# Optional: the Go evaluator on the same reference workload, in the same run, when
# ESCC_GO_REFERENCE points to a checkout of github.com/pulumi/esc and `go` is installed
# (never required; its modules are fetched by `go` itself).
if [ -n "${ESCC_GO_REFERENCE:-}" ] && command -v go >/dev/null 2>&1; then
    echo
    echo "| Go evaluator ($ESCC_GO_REFERENCE) | eval ms |"
    echo "| --- | --- |"
    # Go's own default for the fast row (iterations for about a second: a steady state,
    # garbage collection included; on an idle machine 20 iterations gave 2.5 ms, 200 gave
    # 4.1 to 4.2 ms). The 10 ms row takes about 0.4 s per iteration, so 20 of them.
    (cd "$ESCC_GO_REFERENCE" &&
        go test -run '^$' -bench '^BenchmarkEval$' ./eval 2>&1 &&
        go test -run '^$' -bench '^BenchmarkEvalAll$' -benchtime 20x ./eval 2>&1) |
        awk '/^BenchmarkEval-/ {printf "| reference-0ms | %.2f |\n", $3 / 1e6}
             /^BenchmarkEvalAll-/ {printf "| reference-10ms | %.2f |\n", $3 / 1e6}'
fi
