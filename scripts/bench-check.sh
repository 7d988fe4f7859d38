#!/usr/bin/env bash
# Wall time and peak memory of `escc check` over a generated project of 1,000 environments
# with imports, beside a bare `cat` of the same files.
#
#   scripts/bench-check.sh [N]     (N environments, default 1000)
#
# Builds escc in release mode, generates the project into a temporary directory (removed
# on exit), runs each command once to warm the page cache, then once measured with
# /usr/bin/time -v (or, without it, a Python getrusage wrapper).
set -euo pipefail

n=${1:-1000}
here=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
escc="$here/target/release/escc"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

python3 - "$dir" "$n" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
def write(name, text):
    path = os.path.join(root, name + ".yaml")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
open(os.path.join(root, "escc.toml"), "w").write(
    '[context.pulumi.user]\nlogin = "bench"\n[context.pulumi.organization]\nlogin = "acme"\n')
# 1 base, 9 regions importing it, 90 teams importing a region: 100 shared environments.
write("shared/base", """values:
  org: ${context.pulumi.organization.login}
  owner: ${context.pulumi.user.login}
  logging:
    level: info
    format: json
  database:
    port: 5432
    user: app
    password:
      fn::secret: base-password-0123456789
  tags: [managed-by-escc, bench]
""")
for r in range(9):
    write(f"shared/region-{r}", f"""imports:
  - shared/base
values:
  region: region-{r}
  endpoint: https://api.region-{r}.example.com
  database:
    host: db.region-{r}.internal
""")
for t in range(90):
    write(f"teams/team-{t:02}/common", f"""imports:
  - shared/region-{t % 9}
values:
  team: team-{t:02}
  oncall: oncall-{t:02}@example.com
  budget: {1000 + t}.50
  labels:
    fn::toJSON:
      team: ${{team}}
      region: ${{region}}
""")
# The other environments: services importing their team's common environment.
count = n - 100
for s in range(max(count, 0)):
    t = s % 90
    write(f"teams/team-{t:02}/service-{s:04}", f"""imports:
  - teams/team-{t:02}/common
values:
  service: service-{s:04}
  replicas: {1 + s % 5}
  url: https://${{service}}.${{region}}.example.com
  database:
    name: db_{s:04}
  connection: postgres://${{database.user}}@${{database.host}}:${{database.port}}/${{database.name}}
  allTags:
    fn::concat:
      - ${{tags}}
      - [service-{s:04}]
  environmentVariables:
    SERVICE: ${{service}}
    DATABASE_URL: ${{connection}}
    DATABASE_PASSWORD: ${{database.password}}
    LOG_LEVEL: ${{logging.level}}
    REPLICAS:
      fn::toString: ${{replicas}}
  files:
    SETTINGS:
      fn::toJSON:
        service: ${{service}}
        region: ${{region}}
        team: ${{team}}
""")
PY

files=$(find "$dir" -name '*.yaml' | sort)
count=$(echo "$files" | wc -l)
bytes=$(cat $files | wc -c)
echo "project: $count environments, $bytes bytes, in $dir"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"

measure() { # label, command...
    local label=$1
    shift
    if [ -x /usr/bin/time ]; then
        "$@" >/dev/null 2>&1 || true
        /usr/bin/time -v -o "$dir/time.txt" "$@" >/dev/null 2>&1 || true
        local report
        report=$(cat "$dir/time.txt")
        local wall rss user sys
        wall=$(echo "$report" | sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p')
        rss=$(echo "$report" | sed -n 's/.*Maximum resident set size (kbytes): //p')
        user=$(echo "$report" | sed -n 's/.*User time (seconds): //p')
        sys=$(echo "$report" | sed -n 's/.*System time (seconds): //p')
        printf '%-12s wall %s   cpu %ss user + %ss sys   peak RSS %s KiB\n' \
            "$label" "$wall" "$user" "$sys" "$rss"
    else
        "$@" >/dev/null 2>&1 || true # warm-up
        python3 - "$label" "$@" <<'PY'
import resource, subprocess, sys, time
label, cmd = sys.argv[1], sys.argv[2:]
start = time.monotonic()
subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{label:<12} wall {wall:.2f}s   cpu {usage.ru_utime:.2f}s user + {usage.ru_stime:.2f}s sys"
      f"   peak RSS {usage.ru_maxrss} KiB")
PY
    fi
}

{ "$escc" check --root "$dir" || true; } | tail -n 1
measure "escc check" "$escc" check --root "$dir"
# shellcheck disable=SC2086
measure "cat" cat $files
