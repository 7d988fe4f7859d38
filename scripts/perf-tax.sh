#!/usr/bin/env bash
# The concurrency tax (docs/performance.md, "Concurrency tax"): the reference workload with
# default concurrency against the same with `max_in_flight: 1`, and with 10 ms latency,
# for a "before" build of the `perf` example and this tree's, alternated in one run (the
# machine may be shared: single figures move, ratios measured side by side move less).
#
#   scripts/perf-tax.sh BEFORE_BINARY [ROUNDS]
#
# BEFORE_BINARY: a release `perf` example built from the baseline (e.g. `cp
# target/release/examples/perf /tmp/perf-before` before changing anything). Each row of
# each round is one process (`perf --row NAME`: medians of 7 evaluations); printed: every
# round, then per binary and row the median over rounds of check and eval (ms), the
# default / sequential ratio, and that ratio measured in one process (`perf --tax`). Rows a
# binary does not know print "n/a". The reference workload is read from $ESCC_CONFORMANCE
# (default: ../shared/conformance/esc beside the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:?usage: scripts/perf-tax.sh BEFORE_BINARY [ROUNDS]}
rounds=${2:-5}
nice cargo build --release --quiet --no-default-features --example perf
after=target/release/examples/perf
rows="reference-0ms reference-0ms-sequential reference-10ms reference-10ms-after-fast"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
    # A binary's rows back to back: this VM's speed changes over seconds (two groups,
    # about 0.55 and 0.85 ms on the reference rows), so a ratio of rows run further apart
    # can pair one of each.
    for which in before after; do
        for row in $rows; do
            bin=$before
            [ "$which" = after ] && bin=$after
            # `| name | MiB | saphyr | load | check | eval | ...`
            line=$(nice "$bin" --row "$row" | grep "^| $row |" || true)
            check=$(awk -F'|' '{gsub(/ /, "", $6); print $6}' <<<"$line")
            eval=$(awk -F'|' '{gsub(/ /, "", $7); print $7}' <<<"$line")
            case "$check" in '' | *[!0-9.]*) check=n/a eval=n/a ;; esac
            echo "$which $row $round $check $eval" >>"$out"
            printf '%-6s %-28s round %s  check %8s  eval %8s\n' "$which" "$row" "$round" "$check" "$eval"
        done
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| binary | row | check ms (median) | eval ms (median) |"
echo "| --- | --- | --- | --- |"
median() { { grep -v n/a || true; } | sort -g | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]; else print "n/a"}'; }
for which in before after; do
    for row in $rows; do
        c=$(awk -v w="$which" -v r="$row" '$1 == w && $2 == r {print $4}' "$out" | median)
        e=$(awk -v w="$which" -v r="$row" '$1 == w && $2 == r {print $5}' "$out" | median)
        echo "| $which | $row | $c | $e |"
    done
done
echo
echo "| binary | default / sequential, check (median of per-round ratios) | eval |"
echo "| --- | --- | --- |"
for which in before after; do
    ratio() {
        awk -v w="$which" -v col="$1" '
            $1 == w && $2 == "reference-0ms" {d[$3] = $col}
            $1 == w && $2 == "reference-0ms-sequential" {s[$3] = $col}
            END {for (r in d) if (s[r] > 0) printf "%.3f\n", d[r] / s[r]}' "$out" | median
    }
    echo "| $which | $(ratio 4) | $(ratio 5) |"
done
echo
# The same ratio with both evaluations interleaved in one process (2,000 of each): less
# noise than rows run minutes apart. Binaries without `--tax` print nothing here.
echo "| binary | mode | default ms (median) | sequential ms (median) | ratio |"
echo "| --- | --- | --- | --- | --- |"
for which in before after; do
    bin=$before
    [ "$which" = after ] && bin=$after
    for mode in eval check; do
        nice "$bin" --tax "$mode" 2>/dev/null | sed "s/^| tax-/| $which | /" | grep "^| $which" || true
    done
done
