"""Fixtures for driving the real `escc lsp` binary with pytest-lsp.

The binary is the one cargo built: `ESCC_BIN` (set by tests/it/lsp.rs), else
`target/debug/escc`. Each test gets a fresh server and a fresh workspace folder.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import time

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

ROOT = pathlib.Path(__file__).resolve().parents[2]
ESCC_BIN = os.environ.get("ESCC_BIN") or str(ROOT / "target" / "debug" / "escc")

BASE = """\
values:
  region: eu-west-1
  db:
    host: db.internal
    port: 5432
    password:
      fn::secret: correct-horse-battery-staple
"""


def _record(client: LanguageClient, params: types.PublishDiagnosticsParams):
    client.diagnostics[params.uri] = params.diagnostics
    client.published.append(params)


def _record_trace(client: LanguageClient, params: types.LogTraceParams):
    client.traces.append(params)


def make_client() -> LanguageClient:
    """pytest-lsp's client, also keeping every publishDiagnostics with its version."""
    client = LanguageClient(converter_factory=default_converter)
    client.published = []
    client.traces = []
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _record
    features[types.LOG_TRACE] = _record_trace
    register_lsp_features(client, features)
    return client


CONFIG = ClientServerConfig(server_command=[ESCC_BIN, "lsp"], client_factory=make_client)


@pytest.fixture
def workspace(tmp_path: pathlib.Path) -> pathlib.Path:
    """A project: base.yaml, imported by the documents the tests open."""
    (tmp_path / "base.yaml").write_text(BASE)
    return tmp_path


def capabilities(encodings: list[types.PositionEncodingKind] | None = None):
    return types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=encodings),
        text_document=types.TextDocumentClientCapabilities(
            hover=types.HoverClientCapabilities(
                content_format=[types.MarkupKind.Markdown]
            ),
            completion=types.CompletionClientCapabilities(
                completion_item=types.ClientCompletionItemOptions(
                    documentation_format=[types.MarkupKind.Markdown]
                )
            ),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                version_support=True
            ),
        ),
    )


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient, workspace: pathlib.Path):
    """A server initialized on `workspace`, UTF-16 positions."""
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(),
            workspace_folders=[
                types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")
            ],
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def client_verbose(lsp_client: LanguageClient, workspace: pathlib.Path):
    """A server initialized on `workspace` with tracing at its most verbose."""
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(),
            workspace_folders=[
                types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")
            ],
            trace=types.TraceValue.Verbose,
        )
    )
    lsp_client.init_result = result
    lsp_client.protocol.notify(
        types.SET_TRACE, types.SetTraceParams(value=types.TraceValue.Verbose)
    )
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def client8(lsp_client: LanguageClient, workspace: pathlib.Path):
    """A server initialized on `workspace` by a client that offers UTF-8 positions."""
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities(
                [types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16]
            ),
            workspace_folders=[
                types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")
            ],
        )
    )
    lsp_client.init_result = result
    yield
    await lsp_client.shutdown_session()


async def diagnostics(
    client: LanguageClient, uri: str, version: int, timeout: float = 20.0
) -> list[types.Diagnostic]:
    """The diagnostics published for `uri` at `version` (waits for them)."""
    deadline = time.monotonic() + timeout
    while True:
        for p in reversed(client.published):
            if p.uri == uri and p.version == version:
                return list(p.diagnostics)
        if time.monotonic() > deadline:
            seen = [(p.uri, p.version) for p in client.published]
            raise AssertionError(f"no diagnostics for {uri} v{version}; got {seen}")
        await asyncio.sleep(0.01)


def open_doc(client: LanguageClient, path: pathlib.Path, text: str, version: int = 1) -> str:
    """Opens `path` with `text` (not necessarily saved) and returns its URI."""
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="yaml", version=version, text=text
            )
        )
    )
    return uri


def position_of(text: str, needle: str, delta: int = 0, utf8: bool = False) -> types.Position:
    """The LSP position of the first `needle` in `text` (plus `delta` characters)."""
    at = text.index(needle) + delta
    line = text.count("\n", 0, at)
    col_text = text[text.rfind("\n", 0, at) + 1 : at]
    if utf8:
        col = len(col_text.encode("utf-8"))
    else:
        col = len(col_text.encode("utf-16-le")) // 2
    return types.Position(line=line, character=col)
