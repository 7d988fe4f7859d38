"""End-to-end tests of `escc lsp`: the real binary, driven by pytest-lsp's client."""

from __future__ import annotations

import asyncio
import pathlib
import time

from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import diagnostics, open_doc, position_of

# `${db.}` sits in a double-quoted string after non-ASCII text (é is one UTF-16 unit and
# two bytes, 😀 two units and four bytes); `${nope}` in a literal block string.
BROKEN = """\
imports:
  - base
values:
  greeting: "héllo 😀 ${db.}"
  block: |
    url ${db.host} and ${nope}
  region2: ${region}
"""


def rng(start: types.Position, length: int) -> types.Range:
    return types.Range(
        start=start,
        end=types.Position(line=start.line, character=start.character + length),
    )


def summary(diags: list[types.Diagnostic]) -> list[tuple]:
    return [
        (d.code, d.message, d.severity, d.range.start.line, d.range.start.character,
         d.range.end.line, d.range.end.character)
        for d in diags
    ]


async def test_diagnostics_with_exact_ranges_and_a_fix_that_clears_them(
    client: LanguageClient, workspace: pathlib.Path
):
    uri = open_doc(client, workspace / "app.yaml", BROKEN)
    diags = await diagnostics(client, uri, 1)
    dot = position_of(BROKEN, "${db.}", 4)
    nope = position_of(BROKEN, "nope")
    assert summary(diags) == summary([
        types.Diagnostic(
            range=rng(dot, 1),
            message="property name must not be empty",
            severity=types.DiagnosticSeverity.Error,
            code="invalid-interpolation",
        ),
        # The empty name is then looked up, as `escc check` reports it too.
        types.Diagnostic(
            range=rng(dot, 1),
            message='unknown property ""',
            severity=types.DiagnosticSeverity.Error,
            code="unknown-property",
        ),
        types.Diagnostic(
            range=rng(nope, 4),
            message='unknown property "nope"',
            severity=types.DiagnosticSeverity.Error,
            code="unknown-property",
        ),
    ])
    assert all(d.source == "escc" for d in diags)

    # Fix both with incremental edits (UTF-16 ranges), last one first.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=rng(nope, 4), text="region"
                ),
                types.TextDocumentContentChangePartial(
                    range=rng(dot, 1), text=".host"
                ),
            ],
        )
    )
    assert await diagnostics(client, uri, 2) == []


async def test_hover_shows_value_type_and_definition_and_hides_secrets(
    client: LanguageClient, workspace: pathlib.Path
):
    text = "imports:\n  - base\nvalues:\n  r: ${region}\n  p: \"${db.password}\"\n"
    uri = open_doc(client, workspace / "app.yaml", text)
    await diagnostics(client, uri, 1)

    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "region", 2),
        )
    )
    assert hover is not None
    value = hover.contents.value
    assert value.startswith("`region`: `string`"), value
    assert '"eu-west-1"' in value
    assert "Defined in `base` at 2:11" in value
    assert hover.range == rng(position_of(text, "region"), 6)

    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "password", 1),
        )
    )
    value = hover.contents.value
    assert "[secret]" in value, value
    assert "correct-horse" not in value

    # On a key: the value and its type.
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "r:"),
        )
    )
    assert hover.contents.value.startswith("`values.r`: `string`")


async def test_definition_across_an_import(client: LanguageClient, workspace: pathlib.Path):
    text = "imports:\n  - base\nvalues:\n  port: ${db.port}\n"
    uri = open_doc(client, workspace / "app.yaml", text)
    await diagnostics(client, uri, 1)

    result = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, ".port", 2),
        )
    )
    assert isinstance(result, types.Location), result
    assert result.uri == (workspace / "base.yaml").as_uri()
    base = (workspace / "base.yaml").read_text()
    assert result.range == rng(position_of(base, "port"), 4)

    # From an import to its file.
    result = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "base", 1),
        )
    )
    assert result.uri == (workspace / "base.yaml").as_uri()


async def test_completion_after_dollar_brace(client: LanguageClient, workspace: pathlib.Path):
    text = "imports:\n  - base\nvalues:\n  a: 1\n  b: ${\n"
    uri = open_doc(client, workspace / "app.yaml", text)
    await diagnostics(client, uri, 1)

    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "${", 2),
            context=types.CompletionContext(
                trigger_kind=types.CompletionTriggerKind.TriggerCharacter,
                trigger_character="{",
            ),
        )
    )
    items = result.items if isinstance(result, types.CompletionList) else result
    labels = [i.label for i in items]
    assert labels[:4] == ["a", "b", "db", "region"], labels
    assert "context" in labels

    # After a dot, the keys of the object (through the import).
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=rng(position_of(text, "${", 2), 0), text="db."
                )
            ],
        )
    )
    text2 = text.replace("${", "${db.")
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text2, "${db.", 5),
        )
    )
    items = result.items if isinstance(result, types.CompletionList) else result
    assert [i.label for i in items] == ["host", "password", "port"]
    assert all("correct-horse" not in (i.detail or "") for i in items)


# ---------------------------------------------------------------------------------------
# Beyond the list above: UTF-8 positions, importers refreshed, the outline.


async def test_utf8_positions_when_offered(client8: LanguageClient, workspace: pathlib.Path):
    assert client8.init_result.capabilities.position_encoding == types.PositionEncodingKind.Utf8
    uri = open_doc(client8, workspace / "app.yaml", BROKEN)
    diags = await diagnostics(client8, uri, 1)
    dot = position_of(BROKEN, "${db.}", 4, utf8=True)
    assert diags[0].range == rng(dot, 1)


async def test_importers_are_refreshed_from_unsaved_buffers(
    client: LanguageClient, workspace: pathlib.Path
):
    text = "imports:\n  - base\nvalues:\n  r: ${region}\n"
    app = open_doc(client, workspace / "app.yaml", text)
    assert await diagnostics(client, app, 1) == []
    before = len(client.published)

    # Edit base in the editor (not saved): `region` goes away; app is checked again.
    base_text = (workspace / "base.yaml").read_text()
    base = open_doc(client, workspace / "base.yaml", base_text.replace("region", "zone"))
    await diagnostics(client, base, 1)
    deadline = time.monotonic() + 20
    while True:
        later = [p for p in client.published[before:] if p.uri == app]
        if later and later[-1].diagnostics:
            break
        assert time.monotonic() < deadline, "app was not checked again"
        await asyncio.sleep(0.01)
    assert [d.code for d in later[-1].diagnostics] == ["unknown-property"]


async def test_document_symbols(client: LanguageClient, workspace: pathlib.Path):
    text = "imports:\n  - base\nvalues:\n  a:\n    b: 1\n  s:\n    fn::secret: hunter2\n"
    uri = open_doc(client, workspace / "app.yaml", text)
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert [s.name for s in result] == ["imports", "a", "s"]
    assert [c.name for c in result[1].children] == ["b"]
    assert result[2].detail == "fn::secret"
