"""`escc check` and `escc lsp` report the same diagnostics for the same documents.

Every document of fixtures/parity (load errors beside reference errors, secrets in
messages, imports with errors, unknown providers and rotators, non-ASCII columns) is
checked by `escc check --format json` and opened in the language server; both must give
the same codes, messages, start lines and columns, in the same order. The language server
shows a document's own diagnostics, so those of the environments it imports are compared
when each of them is opened.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess

from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import ESCC_BIN, ROOT, diagnostics, open_doc

PROJECT = ROOT / "fixtures" / "parity"


def cli_diagnostics(workspace: pathlib.Path, name: str) -> list[tuple]:
    out = subprocess.run(
        [ESCC_BIN, "check", "--format", "json", "--root", str(workspace), name],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode in (0, 1), out.stderr
    result = []
    for d in json.loads(out.stdout):
        if d["environment"] != name:
            continue
        message = d["summary"] + ("\n" + d["detail"] if d.get("detail") else "")
        start = d.get("start")
        where = (start["line"], start["column"]) if start else None
        result.append((d["code"], message, where))
    return result


def lsp_place(text: str, position: types.Position) -> tuple[int, int]:
    """A UTF-16 LSP position as the command line's 1-based line and code-point column."""
    line = text.split("\n")[position.line]
    units = line.encode("utf-16-le")[: position.character * 2]
    return (position.line + 1, len(units.decode("utf-16-le")) + 1)


async def test_check_and_the_language_server_agree(
    client: LanguageClient, workspace: pathlib.Path
):
    shutil.copytree(PROJECT, workspace, dirs_exist_ok=True)
    files = sorted(workspace.rglob("*.yaml"))
    assert len(files) >= 8, files
    compared = 0
    for path in files:
        name = path.relative_to(workspace).with_suffix("").as_posix()
        text = path.read_text()
        expected = cli_diagnostics(workspace, name)
        uri = open_doc(client, path, text)
        got = []
        for d in await diagnostics(client, uri, 1):
            empty = d.range == types.Range(
                start=types.Position(line=0, character=0),
                end=types.Position(line=0, character=0),
            )
            got.append((d.code, d.message, None if empty else lsp_place(text, d.range.start)))
        assert got == expected, name
        compared += len(expected)
        for secret in ["leaky-password-123", "correct-horse-battery-staple"]:
            assert all(secret not in message for _, message, _ in got), name
    # The documents are meant to fail in many ways; a fixture that stopped failing would
    # make this test pass without comparing anything.
    assert compared >= 15, compared
