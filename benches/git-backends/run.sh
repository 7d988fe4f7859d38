#!/usr/bin/env bash
# Measures how escc could read git (docs/versions.md, "Reading git"): the `git` command
# (escc's reader) against the gix and git2 crates. For each backend: the crates it adds,
# a clean release build's time and the binary's size; the time to list 1,000 revisions of
# an environment and read its text at each; and what it does in a shallow clone, a linked
# worktree and a submodule. Prints a markdown table. Needs git, cargo and the crates.
#
#   benches/git-backends/run.sh [BACKEND...]     (default: cli gix git2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
backends=("${@:-cli}")
[ $# -eq 0 ] && backends=(cli gix git2)
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
g() { git -c init.defaultBranch=main -c protocol.file.allow=always "$@"; }

# A repository of 1,000 commits, each changing env.yaml (and, every tenth, other.yaml),
# written with fast-import (a second or so).
repo=$work/repo
g init -q "$repo"
{
  for i in $(seq 1 1000); do
    body=$(printf 'values:\n  revision: %d\n  region: eu-west-%d\n  list: [a, b, c]\n' "$i" $((i % 3)))
    echo "commit refs/heads/main"
    echo "mark :$i"
    echo "committer Bench <bench@example.com> $((1700000000 + i)) +0000"
    msg="r$i"
    echo "data ${#msg}"; echo "$msg"
    [ "$i" -gt 1 ] && echo "from :$((i - 1))"
    echo "M 100644 inline env.yaml"
    echo "data ${#body}"; echo "$body"
    if [ $((i % 10)) -eq 0 ]; then
      other="x: $((i % 7))"
      echo "M 100644 inline other.yaml"; echo "data ${#other}"; echo "$other"
    fi
  done
} | git -C "$repo" fast-import --quiet
g -C "$repo" checkout -q main
# A shallow clone, a linked worktree, and a superproject holding the repository as a
# submodule.
g clone -q --depth 1 "file://$repo" "$work/shallow"
g -C "$repo" worktree add -q "$work/linked" main~500
super=$work/super
g init -q "$super"
g -C "$super" submodule add -q "file://$repo" sub
g -C "$super" commit -q -m submodule

row() { printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$@"; }
echo
row backend "crates added" "clean build (s)" "binary (KiB)" "1,000 revisions: list + read (ms)" "shallow clone" "linked worktree" submodule
row --- --- --- --- --- --- --- ---
for b in "${backends[@]}"; do
  target=$top/target/git-backends/$b
  rm -rf "$target"
  crates=$(cd "$here" && cargo tree -q --features "$b" -e normal,build --prefix none \
    | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | grep -v '^git-backends ' | wc -l)
  start=$(date +%s.%N)
  (cd "$here" && CARGO_TARGET_DIR=$target cargo build -q --release --features "$b")
  build=$(echo "$(date +%s.%N) - $start" | bc)
  bin=$target/release/git-backends
  size=$(( $(stat -c %s "$bin") / 1024 ))
  best=""
  for _ in 1 2 3; do
    line=$("$bin" "$repo" env)
    ms=$(( $(echo "$line" | sed 's/.*history_ms=\([0-9]*\).*/\1/') + $(echo "$line" | sed 's/.*read_ms=\([0-9]*\).*/\1/') ))
    revs=$(echo "$line" | sed 's/revisions=\([0-9]*\).*/\1/')
    [ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
  done
  [ "$revs" = 1000 ] || { echo "$b found $revs revisions, not 1000" >&2; exit 1; }
  shallow=$("$bin" "$work/shallow" env || true)
  linked=$("$bin" "$work/linked" env || true)
  sub=$("$bin" "$super/sub" env || true)
  short() { echo "$1" | sed 's/ bytes=[0-9]*//; s/ history_ms=.*//; s/revisions=/revisions: /' | cut -c1-60; }
  if [ "$b" = cli ]; then
    # escc's own build: the git command adds no crate; escc (the library) is timed.
    crates="0 (escc: $crates)"
  fi
  row "$b" "$crates" "$(printf %.0f "$build")" "$size" "$best" "$(short "$shallow")" "$(short "$linked")" "$(short "$sub")"
done
