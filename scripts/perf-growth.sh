#!/usr/bin/env bash
# Issue 20's growth target in one run: time and peak memory of `escc open` and `escc check`
# (release build) on 4,000 and 40,000 top-level values, and the library's load+eval
# (`examples/perf.rs` rows values-4k and values-40k), with the 40k/4k ratios.
# The documents are `perf --dump values-4k|values-40k` (every fifth value interpolates the
# one before it; 40k values are 1.14 MiB). Usage: scripts/perf-growth.sh [RUNS] (default 7).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
cargo build --release --quiet --bin escc --example perf
escc=$PWD/target/release/escc
perf=$PWD/target/release/examples/perf
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
touch "$dir/escc.toml"
for n in 4k 40k; do "$perf" --dump "values-$n" >"$dir/v$n.yaml"; done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| command | values | input MiB | median s | peak RSS MiB (median) |"
echo "| --- | --- | --- | --- | --- |"
declare -A t m
for cmd in open check; do
    for n in 4k 40k; do
        rows=()
        for _ in $(seq "$runs"); do
            start=$(date +%s%N)
            (cd "$dir" && /usr/bin/time -f "%M" -o "$dir/rss" "$escc" "$cmd" "v$n" >/dev/null 2>&1)
            end=$(date +%s%N)
            rows+=("$(((end - start) / 1000)) $(cat "$dir/rss")")
        done
        # Medians of the wall time (µs) and of the peak RSS (KiB), each sorted on its own.
        t[$cmd$n]=$(printf '%s\n' "${rows[@]}" | cut -d' ' -f1 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
        m[$cmd$n]=$(printf '%s\n' "${rows[@]}" | cut -d' ' -f2 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
        size=$(stat -c %s "$dir/v$n.yaml")
        awk -v c="$cmd" -v n="$n" -v s="$size" -v t="${t[$cmd$n]}" -v m="${m[$cmd$n]}" \
            'BEGIN {printf "| escc %s | %s | %.2f | %.3f | %.1f |\n", c, n, s/1048576, t/1e6, m/1024}'
    done
done
echo
echo "| command | time 40k/4k | memory 40k/4k | 40k peak / (20x input + 20 MiB) |"
echo "| --- | --- | --- | --- |"
size=$(stat -c %s "$dir/v40k.yaml")
for cmd in open check; do
    awk -v c="$cmd" -v t4="${t[${cmd}4k]}" -v t40="${t[${cmd}40k]}" -v m4="${m[${cmd}4k]}" \
        -v m40="${m[${cmd}40k]}" -v s="$size" \
        'BEGIN {printf "| escc %s | %.1fx | %.1fx | %.2f |\n", c, t40/t4, m40/m4, (m40*1024)/(20*s+20*1048576)}'
done
echo
echo "| workload | input MiB | saphyr ms | load ms | check ms | eval ms | eval / saphyr | peak RSS MiB | diagnostics |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
r4=$("$perf" --row values-4k)
r40=$("$perf" --row values-40k)
printf '%s\n%s\n' "$r4" "$r40"
# Columns (split on "|"): 3 input MiB, 6 check ms, 7 eval ms, 9 peak RSS MiB.
echo
printf '%s\n%s\n' "$r4" "$r40" | awk -F'|' '
    NR == 1 {c4 = $6; e4 = $7; m4 = $9}
    NR == 2 {printf "library: check 40k/4k %.1fx, eval 40k/4k %.1fx, peak RSS 40k/4k %.1fx, 40k peak / (20x input + 20 MiB) %.2f\n", $6 / c4, $7 / e4, $9 / m4, $9 / (20 * $3 + 20)}'
