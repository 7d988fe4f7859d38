"""The language server on pinned imports (`imports: [base@v1]`): their values in hover,
go to definition into a snapshot of the revision, and that snapshot as a document."""

from __future__ import annotations

import os
import pathlib
import stat
import subprocess

from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import diagnostics, open_doc, position_of

BASE_V1 = """\
imports:
  - common
values:
  region: eu-west-1
  token:
    fn::secret: v1-token-never-shown
"""

COMMON_V1 = "values:\n  zone: a\n"


def git(root: pathlib.Path, *args: str) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_AUTHOR_NAME": "Alice",
        "GIT_AUTHOR_EMAIL": "alice@example.com",
        "GIT_COMMITTER_NAME": "Alice",
        "GIT_COMMITTER_EMAIL": "alice@example.com",
    }
    out = subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout


def history(root: pathlib.Path) -> str:
    """base and common at tag v1, then changed and committed; returns v1's commit."""
    git(root, "init", "-q", "-b", "main")
    (root / "escc.toml").write_text("")
    (root / "base.yaml").write_text(BASE_V1)
    (root / "common.yaml").write_text(COMMON_V1)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v1")
    git(root, "tag", "v1")
    v1 = git(root, "rev-parse", "HEAD").strip()
    (root / "base.yaml").write_text(BASE_V1.replace("eu-west-1", "us-east-1"))
    (root / "common.yaml").write_text("values:\n  zone: b\n")
    git(root, "commit", "-q", "-am", "v2")
    return v1


async def hover_at(client: LanguageClient, uri: str, pos: types.Position) -> str:
    h = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos)
    )
    assert h is not None
    return h.contents.value


async def definition_at(client: LanguageClient, uri: str, pos: types.Position):
    result = await client.text_document_definition_async(
        types.DefinitionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos)
    )
    assert isinstance(result, types.Location), result
    return result


async def test_pinned_imports_in_hover_and_definition(
    client: LanguageClient, workspace: pathlib.Path
):
    v1 = history(workspace)
    text = "imports:\n  - base@v1\nvalues:\n  r: ${region}\n  z: ${zone}\n  t: ${token}\n"
    uri = open_doc(client, workspace / "app.yaml", text)
    # base@v1 and its own import, common, at v1: nothing is missing.
    assert await diagnostics(client, uri, 1) == []

    value = await hover_at(client, uri, position_of(text, "region", 2))
    assert '"eu-west-1"' in value, value
    assert "Defined in `base@v1`" in value, value
    value = await hover_at(client, uri, position_of(text, "zone", 1))
    assert '"a"' in value, value
    value = await hover_at(client, uri, position_of(text, "token", 1))
    assert "[secret]" in value and "v1-token" not in value, value
    value = await hover_at(client, uri, position_of(text, "base@v1", 1))
    assert f"from git (commit `{v1[:12]}`)" in value, value

    # Go to definition opens the revision's snapshot, at the key.
    snapshots = workspace / ".escc" / "revisions" / v1
    loc = await definition_at(client, uri, position_of(text, "region", 1))
    assert loc.uri == (snapshots / "base.yaml").as_uri()
    assert loc.range.start == position_of(BASE_V1, "region")
    assert (snapshots / "base.yaml").read_text() == BASE_V1
    mode = stat.S_IMODE((snapshots / "base.yaml").stat().st_mode)
    assert mode == 0o400, oct(mode)
    # Into the pinned document's own import, read at the same revision.
    loc = await definition_at(client, uri, position_of(text, "zone", 1))
    assert loc.uri == (snapshots / "common.yaml").as_uri()
    assert (snapshots / "common.yaml").read_text() == COMMON_V1
    # From the import to the snapshot's start.
    loc = await definition_at(client, uri, position_of(text, "base@v1", 1))
    assert loc.uri == (snapshots / "base.yaml").as_uri()
    # The snapshots ignore themselves in git (app.yaml is an unsaved buffer).
    assert (workspace / ".escc" / ".gitignore").exists()
    assert git(workspace, "status", "--porcelain", "--untracked-files=all") == ""

    # A snapshot opened in the editor is base at that revision: its import of common is
    # read at v1, so there is nothing to report, and it leads on to common's snapshot.
    base_uri = open_doc(client, snapshots / "base.yaml", BASE_V1)
    diags = await diagnostics(client, base_uri, 1)
    # Only the plaintext secret, which that revision keeps as it is.
    assert [(d.code, d.range.start) for d in diags] == [
        ("plaintext-secret", position_of(BASE_V1, "v1-token"))
    ], diags
    assert "stored in plaintext in this revision, which git keeps" in diags[0].message
    assert "v1-token" not in diags[0].message
    value = await hover_at(client, base_uri, position_of(BASE_V1, "common", 1))
    assert f"from git (commit `{v1[:12]}`)" in value, value
    loc = await definition_at(client, base_uri, position_of(BASE_V1, "common", 1))
    assert loc.uri == (snapshots / "common.yaml").as_uri()


async def test_a_bad_pinned_import_is_located(client: LanguageClient, workspace: pathlib.Path):
    history(workspace)
    text = "imports:\n  - base@nope\n"
    uri = open_doc(client, workspace / "app.yaml", text)
    diags = await diagnostics(client, uri, 1)
    assert [(d.code, d.range.start) for d in diags] == [
        ("import-failed", position_of(text, "base@nope"))
    ]
    assert diags[0].message.startswith('base@nope: unknown revision "nope"'), diags[0].message
