#!/usr/bin/env python3
"""Measures `escc lsp`: the time from a `didChange` on a 5,000-line environment to the
`publishDiagnostics` for that version, and the server's peak memory.

A deterministic 5,000-line environment (app.yaml, importing a generated base.yaml) is
written to a temporary workspace and opened; then N `didChange` edits are sent one at a time
(each an incremental edit of one line, alternately breaking and fixing a reference), and for
each the time until the server publishes the diagnostics of that version is taken. Then
(`--hovers`, 30 times) an edit is followed at once by a hover on a reference, and the time
until the hover answers is taken (the hover must answer for the edited text, so it needs
the check of that version). Prints the median, 95th percentile and maximum of each, and the server's peak
resident memory (VmHWM from /proc/<pid>/status, Linux only).

The workspace is a project (`escc.toml` with `[encryption] allow-plaintext = true`: the
generated secrets are plaintext on purpose, so the document opens without diagnostics).
Exits non-zero when the server misbehaves (exits, times out, publishes unexpected
diagnostics, answers a hover wrongly or with an error); the times themselves never fail it.

Usage (standard library only, a minimal JSON-RPC client over stdio):

    cargo build --release
    python3 scripts/lsp-latency.py [--bin target/release/escc] [--edits 30] [--hovers 30] [--lines 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def generate(lines: int) -> tuple[str, str, int]:
    """The base and app documents; app has exactly `lines` lines. Returns the line (0-based)
    of the reference that the edits alternately break and fix."""
    base = ["values:", "  region: eu-west-1", "  org: acme", "  db:", "    host: db.internal",
            "    port: 5432", "    password:", "      fn::secret: not-a-real-password"]
    out = ["imports:", "  - base", "values:", "  target: ${org}"]
    edit_line = len(out) - 1
    i = 0
    while True:
        block = [
            f"  service{i}:",
            f"    name: svc-{i}",
            f"    replicas: {i % 7 + 1}",
            f"    url: \"https://${{region}}.example.com/svc/{i}\"",
            f"    host: ${{db.host}}",
            "    tags: [web, \"tier-${org}\", café]",
            "    script: |",
            f"      echo ${{service{i}.name}} on port ${{db.port}}",
            "      echo done",
            "    token:",
            f"      fn::secret: token-{i}",
            "    joined:",
            f"      fn::join: [\",\", [\"${{service{i}.name}}\", \"${{region}}\"]]",
        ]
        if len(out) + len(block) > lines:
            break
        out.extend(block)
        i += 1
    while len(out) < lines:
        out.append(f"  filler{len(out)}: value {len(out)}")
    return "\n".join(base) + "\n", "\n".join(out) + "\n", edit_line


class Client:
    """A minimal LSP client over a child's stdin/stdout."""

    def __init__(self, cmd: list[str], cwd: pathlib.Path):
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.messages: queue.Queue = queue.Queue()
        self.backlog: list = []
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.messages.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = out.read(length)
            self.messages.put((time.perf_counter(), json.loads(body)))

    def send(self, msg: dict):
        msg["jsonrpc"] = "2.0"
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params):
        self.send({"method": method, "params": params})

    def request(self, method: str, params) -> dict:
        self.next_id += 1
        rid = self.next_id
        self.send({"id": rid, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == rid and "method" not in m)[1]

    def wait(self, pred, timeout: float = 60.0):
        """The first message (received so far or later) that satisfies `pred`; the others
        are kept for later waits."""
        for i, (at, msg) in enumerate(self.backlog):
            if pred(msg):
                del self.backlog[i]
                return at, msg
        deadline = time.monotonic() + timeout
        while True:
            item = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
            if item is None:
                raise ProtocolError("the server exited")
            at, msg = item
            if "method" not in msg and "error" in msg:
                raise ProtocolError(f"an error answer: {msg['error']}")
            if "method" in msg and "id" in msg:
                # A request from the server: answer it.
                self.send({"id": msg["id"], "result": None})
                continue
            if pred(msg):
                return at, msg
            self.backlog.append((at, msg))

    def diagnostics(self, uri: str, version: int):
        return self.wait(
            lambda m: m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri
            and m["params"].get("version") == version
        )


class ProtocolError(Exception):
    """The server answered wrongly (not slowly)."""


def expect(ok, what: str, got) -> None:
    if not ok:
        raise ProtocolError(f"expected {what}, got {str(got)[:500]}")


def percentile(sorted_ms: list[float], q: float) -> float:
    """The nearest-rank percentile: the smallest sample with at least q of them at or below."""
    rank = max(1, -(-len(sorted_ms) * q // 1))
    return sorted_ms[int(rank) - 1]


def summary(sorted_ms: list[float]) -> str:
    return (f"median {statistics.median(sorted_ms):.1f} ms, p95 {percentile(sorted_ms, 0.95):.1f} ms, "
            f"min {sorted_ms[0]:.1f} ms, max {sorted_ms[-1]:.1f} ms")


def peak_rss_kib(pid: int) -> int | None:
    try:
        for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.environ.get("ESCC_BIN") or str(ROOT / "target/release/escc"))
    ap.add_argument("--edits", type=int, default=30)
    ap.add_argument("--lines", type=int, default=5000)
    ap.add_argument("--hovers", type=int, default=30)
    args = ap.parse_args()
    try:
        return measure(args)
    except (ProtocolError, queue.Empty) as e:
        # queue.Empty: a wait timed out.
        print(f"lsp-latency: the server misbehaved: {e or 'no answer in time'}", file=sys.stderr)
        return 1


def measure(args) -> int:

    base, app, edit_line = generate(args.lines)
    with tempfile.TemporaryDirectory() as tmp:
        ws = pathlib.Path(tmp)
        (ws / "escc.toml").write_text("[encryption]\nallow-plaintext = true\n")
        (ws / "base.yaml").write_text(base)
        (ws / "app.yaml").write_text(app)
        uri = (ws / "app.yaml").as_uri()
        client = Client([str(pathlib.Path(args.bin).resolve()), "lsp"], ws)
        client.request("initialize", {
            "processId": os.getpid(),
            "rootUri": ws.as_uri(),
            "workspaceFolders": [{"uri": ws.as_uri(), "name": "ws"}],
            "capabilities": {
                "textDocument": {"publishDiagnostics": {"versionSupport": True}},
            },
        })
        client.notify("initialized", {})
        sent = time.perf_counter()
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": 1, "text": app}})
        at, msg = client.diagnostics(uri, 1)
        first = at - sent
        expect(msg["params"]["diagnostics"] == [], "diagnostics on the opened document",
               msg["params"]["diagnostics"][:3])

        # `  target: ${org}` <-> `  target: ${orh}`: an unknown property, then fixed.
        col = len("  target: ${or")
        times = []
        counts = []
        for i in range(args.edits):
            version = i + 2
            letter = "h" if i % 2 == 0 else "g"
            change = {"range": {"start": {"line": edit_line, "character": col},
                                "end": {"line": edit_line, "character": col + 1}},
                      "text": letter}
            sent = time.perf_counter()
            client.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [change]})
            at, msg = client.diagnostics(uri, version)
            times.append(at - sent)
            counts.append(len(msg["params"]["diagnostics"]))
        expect(counts[0] == 1 and counts[1] == 0, "diagnostics per edit (1, 0, ...)", counts)

        # Edit, then hover at once on `db.host` in the first service.
        lines = app.splitlines()
        hover_line = next(i for i, l in enumerate(lines) if l == "    host: ${db.host}")
        hover_col = lines[hover_line].index("host}")
        hovers = []
        version = args.edits + 1
        for i in range(args.hovers):
            version += 1
            letter = "h" if (args.edits + i) % 2 == 0 else "g"
            change = {"range": {"start": {"line": edit_line, "character": col},
                                "end": {"line": edit_line, "character": col + 1}},
                      "text": letter}
            sent = time.perf_counter()
            client.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [change]})
            result = client.request("textDocument/hover", {
                "textDocument": {"uri": uri},
                "position": {"line": hover_line, "character": hover_col}})
            hovers.append(time.perf_counter() - sent)
            expect("error" not in result and result.get("result")
                   and "db.internal" in result["result"]["contents"]["value"],
                   "a hover showing db.internal", result)
            client.diagnostics(uri, version)

        peak = peak_rss_kib(client.proc.pid)
        client.request("shutdown", None)
        client.notify("exit", None)
        client.proc.wait(timeout=10)

    ms = sorted(t * 1000 for t in times)
    hs = sorted(t * 1000 for t in hovers)
    print(f"document: {args.lines} lines, {len(app.encode())} bytes (importing a {len(base.splitlines())}-line base)")
    print(f"didOpen -> diagnostics: {first * 1000:.1f} ms")
    print(f"didChange -> publishDiagnostics over {len(ms)} edits: {summary(ms)}")
    print(f"didChange -> hover answered, over {len(hs)} edits: {summary(hs)}")
    if peak is not None:
        print(f"server peak RSS (VmHWM): {peak / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
