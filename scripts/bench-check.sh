#!/usr/bin/env bash
# `escc check` of a whole generated project (1,000 environments by default) against `cat`
# of the same files (reading their bytes), measured in one run: medians of wall and CPU
# time over several runs with a hot page cache, and the ratio of the two.
#
#   scripts/bench-check.sh [N] [RUNS]      (N environments, default 1000; RUNS, default 9)
#
# ESCC_BIN=path/to/escc measures that binary instead of building one (to compare builds);
# ESCC_BENCH_DIR=DIR writes the project there and keeps it (for profiling), else it goes
# to a temporary directory removed on exit. The project is scripts/gen-check-project.py's
# (its docstring and docs/performance.md describe it).
set -euo pipefail

n=${1:-1000}
runs=${2:-9}
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${ESCC_BIN:-}" ]; then
    escc=$ESCC_BIN
else
    cargo build --release --quiet --bin escc --manifest-path "$here/Cargo.toml"
    escc="$here/target/release/escc"
fi

if [ -n "${ESCC_BENCH_DIR:-}" ]; then
    dir=$ESCC_BENCH_DIR
    rm -rf "$dir"
else
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
fi
python3 "$here/scripts/gen-check-project.py" "$dir" "$n" >/dev/null

python3 - "$escc" "$dir" "$runs" <<'PY'
import os, statistics, subprocess, sys, time

escc, root, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(
    os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".yaml")
)
size = sum(os.path.getsize(f) for f in files)
lines = sum(open(f, "rb").read().count(b"\n") for f in files)
print(f"project: {len(files)} environments, {size:,} bytes, {lines:,} lines")
model = next(
    (l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
    "?",
)
print(f"machine: {os.cpu_count()} cores, {model}")

commands = {
    "cat": ["cat", *files],
    "escc check": [escc, "check", "--root", root],
}


def run(cmd):
    """Wall seconds and CPU seconds (user + sys) of one run of cmd."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read()
    p.stderr.close()
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {err.decode(errors='replace')[:2000]}")
    return wall, usage.ru_utime + usage.ru_stime


# What check reports (it must be a clean project), then a warm-up of each (page cache).
out = subprocess.run(commands["escc check"], capture_output=True, text=True)
print("check says:", (out.stdout.strip().splitlines() or ["?"])[-1])
for cmd in commands.values():
    run(cmd)
load_before = open("/proc/loadavg").read().split()[:3]
# Alternated, so that both see the same load.
results = {k: [] for k in commands}
for _ in range(runs):
    for k, cmd in commands.items():
        results[k].append(run(cmd))
load_after = open("/proc/loadavg").read().split()[:3]

print(f"load average: {' '.join(load_before)} before, {' '.join(load_after)} after")
print(f"median of {runs} runs each, alternated:")
print("| command | wall ms | CPU ms (user + sys) |")
print("| --- | --- | --- |")
med = {}
for k, rs in results.items():
    wall = statistics.median(r[0] for r in rs) * 1000
    cpu = statistics.median(r[1] for r in rs) * 1000
    med[k] = (wall, cpu)
    print(f"| `{k}` | {wall:.1f} | {cpu:.0f} |")
print(
    f"ratio check / cat: {med['escc check'][0] / med['cat'][0]:.1f}x wall, "
    f"{med['escc check'][1] / max(med['cat'][1], 1e-3):.1f}x CPU "
    f"(CPU times are counted in clock ticks: cat's is at the resolution)"
)
PY
