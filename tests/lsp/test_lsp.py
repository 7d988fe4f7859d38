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
    # A document with load errors reports those alone, as `escc check` does: it is not
    # evaluated, so `${nope}` is not reported yet.
    assert summary(diags) == summary([
        types.Diagnostic(
            range=rng(dot, 1),
            message="property name must not be empty",
            severity=types.DiagnosticSeverity.Error,
            code="invalid-interpolation",
        ),
    ])
    assert all(d.source == "escc" for d in diags)

    # Fix the load error with an incremental edit (a UTF-16 range): now the evaluation's
    # diagnostic appears, at its exact place in the block string.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(range=rng(dot, 1), text=".host"),
            ],
        )
    )
    diags = await diagnostics(client, uri, 2)
    assert summary(diags) == summary([
        types.Diagnostic(
            range=rng(nope, 4),
            message='unknown property "nope"',
            severity=types.DiagnosticSeverity.Error,
            code="unknown-property",
        ),
    ])

    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[
                types.TextDocumentContentChangePartial(range=rng(nope, 4), text="region"),
            ],
        )
    )
    assert await diagnostics(client, uri, 3) == []


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


async def test_templates_hover_completion_and_diagnostics_at_the_eval(
    client: LanguageClient, workspace: pathlib.Path
):
    (workspace / "lib").mkdir()
    (workspace / "lib" / "defn.yaml").write_text(
        "values:\n  hello:\n    fn::template: Hello ${name}!\n"
    )
    text = "values:\n  nom: foo\n  example:\n    fn::eval: ${environments.lib.defn.hello}\n"
    uri = open_doc(client, workspace / "app.yaml", text)
    # The template reads `name`, which this environment lacks: reported here, at the
    # `fn::eval`, with where in the template.
    diags = await diagnostics(client, uri, 1)
    assert summary(diags) == summary([
        types.Diagnostic(
            range=types.Range(
                start=position_of(text, "fn::eval"),
                end=types.Position(line=3, character=len(text.splitlines()[3])),
            ),
            message='unknown property "name"\nin the template values.hello of lib/defn, '
            "evaluated here (at lib/defn:3:27)",
            severity=types.DiagnosticSeverity.Error,
            code="unknown-property",
        ),
    ])

    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "fn::eval", 3),
        )
    )
    assert hover.contents.value.startswith(
        "**fn::eval**\n\n```yaml\nfn::eval: ${TEMPLATE}\n```"
    ), hover.contents.value

    # Fix it: the result is known statically.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=rng(position_of(text, "nom"), 3), text="name"
                )
            ],
        )
    )
    text2 = text.replace("nom", "name")
    assert await diagnostics(client, uri, 2) == []
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text2, "example"),
        )
    )
    assert hover.contents.value.startswith("`values.example`: `string`"), hover.contents.value
    assert '"Hello foo!"' in hover.contents.value

    # Completion of builtin names: each with its signature and what it does.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(
                text=text2 + "  t:\n    fn::te\n"
            )],
        )
    )
    text3 = text2 + "  t:\n    fn::te\n"
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text3, "fn::te", 6),
        )
    )
    items = result.items if isinstance(result, types.CompletionList) else result
    template = next(i for i in items if i.label == "fn::template")
    assert template.detail == "fn::template: EXPRESSION"
    assert template.documentation.value.startswith("A template:"), template.documentation
    assert {"fn::eval", "fn::conform"} <= {i.label for i in items}


async def test_signature_help_inside_a_builtin_argument(
    client: LanguageClient, workspace: pathlib.Path
):
    text = "values:\n  a:\n    fn::conform:\n      schema: {type: string}\n      value: \n  b: x\n"
    uri = open_doc(client, workspace / "app.yaml", text)
    await diagnostics(client, uri, 1)
    help = await client.text_document_signature_help_async(
        types.SignatureHelpParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "value: ", 7),
        )
    )
    assert help is not None
    assert [s.label for s in help.signatures] == [
        "fn::conform: {schema: SCHEMA, value: VALUE}"
    ]
    assert "fn::validate" in help.signatures[0].documentation.value
    # Outside any builtin: nothing.
    help = await client.text_document_signature_help_async(
        types.SignatureHelpParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "b: x", 3),
        )
    )
    assert help is None


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


async def test_requests_right_after_an_edit_answer_for_the_edited_text(
    client: LanguageClient, workspace: pathlib.Path
):
    # Hover and definition sent at once after edits (not waiting for their diagnostics)
    # answer for the text as edited, never from a check of an older version.
    text = "imports:\n  - base\nvalues:\n  r: ${region}\n  n: first\n"
    uri = open_doc(client, workspace / "app.yaml", text)
    await diagnostics(client, uri, 1)

    async def hover(text: str, needle: str, delta: int) -> str:
        h = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=position_of(text, needle, delta),
            )
        )
        assert h is not None, (text, needle)
        return h.contents.value

    assert '"eu-west-1"' in await hover(text, "region", 2)
    version = 1

    def edit(old: str, new: str) -> str:
        nonlocal version, text
        version += 1
        start = position_of(text, old)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=rng(start, len(old)), text=new)],
            )
        )
        text = text.replace(old, new, 1)
        return text

    # The reference now reads another value: its hover shows that one.
    edit("${region}", "${db.host}")
    value = await hover(text, "db.host", 4)
    assert '"db.internal"' in value and "eu-west-1" not in value, value
    result = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, "db.host", 4),
        )
    )
    assert isinstance(result, types.Location) and result.uri.endswith("/base.yaml"), result
    assert result.range.start.line == 3, result

    # A burst of edits of one value, then at once a hover on its key: the last text's.
    for word in ["second", "third", "fourth", "fifth"]:
        edit(text[text.index("n: ") + 3 : -1], word)
    value = await hover(text, "n:", 0)
    assert '"fifth"' in value and "fourth" not in value, value
    assert await diagnostics(client, uri, version) == []


async def test_document_symbols(client: LanguageClient, workspace: pathlib.Path):
    text = "imports:\n  - base\nvalues:\n  a:\n    b: 1\n  s:\n    fn::secret: hunter2\n"
    uri = open_doc(client, workspace / "app.yaml", text)
    result = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert [s.name for s in result] == ["imports", "a", "s"]
    assert [c.name for c in result[1].children] == ["b"]
    assert result[2].detail == "fn::secret"


# ---------------------------------------------------------------------------------------
# Secrets never leak: one test per way the server could show one (hovers, completion,
# the outline, diagnostics, its logs). Each fails if a secret's plaintext, its base64 or
# JSON-escaped forms, or its text as written appears. The secret holds a quote, a
# backslash, a control character, a non-ASCII letter and `<&>`, so each form differs.

PLAIN = 's3cr"t\\p\u00e4ss\x01<w&rd>~??'
PLAIN_WRITTEN = r's3cr\"t\\p\u00e4ss\x01<w&rd>~??'
DECODED = "decoded-Wq7\u00e9!"
DEEP = "deep-value-9Kq"
OWN = "own-secret-Vb3x"

SECRETS = f"""\
values:
  pw:
    fn::secret: "{PLAIN_WRITTEN}"
  decoded:
    fn::fromBase64:
      fn::secret: ZGVjb2RlZC1XcTfDqSE=
  parsed:
    fn::fromJSON:
      fn::secret: '{{"k": "{DEEP}"}}'
"""

# Imports proj/sec; every way to reach its secrets, and values derived from them.
LEAKY = f"""\
imports:
  - proj/sec
values:
  own:
    fn::secret: {OWN}
  ref: ${{pw}}
  b64:
    fn::toBase64: ${{pw}}
  json:
    fn::toJSON: {{a: "${{pw}}", n: [1]}}
  joined:
    fn::join: ["-", ["${{pw}}", "${{decoded}}", "${{own}}"]]
  deep: ${{parsed.k}}
  whole: ${{parsed}}
  viaimports: ${{imports["proj/sec"].pw}}
  viaenvs: ${{environments.proj.sec.parsed.k}}
  str:
    fn::toString: ${{parsed}}
  list: ["${{pw}}", visible]
  creds:
    fn::open::aws-login:
      static:
        accessKeyId: ${{pw}}
        secretAccessKey: ${{own}}
"""

# Errors whose subject is a secret.
LEAKY_BAD = """\
imports:
  - proj/sec
values:
  a:
    fn::fromJSON: ${pw}
  b:
    fn::fromBase64: ${pw}
  c: ${pw.foo}
  d:
    fn::validate:
      schema: {type: number}
      value: ${pw}
  e:
    fn::validate:
      schema: {enum: [x, y]}
      value: ${pw}
  f: ${parsed.nope}
  g:
    fn::validate:
      schema: {const: other}
      value: ${decoded}
"""


def _json_forms(s: str) -> list[str]:
    import json

    minimal = json.dumps(s, ensure_ascii=False)[1:-1]
    ascii_ = json.dumps(s)[1:-1]
    go = minimal.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return [minimal, ascii_, go]


def needles() -> list[str]:
    import base64

    out = [PLAIN_WRITTEN]
    for s in [PLAIN, DECODED, DEEP, OWN]:
        out.append(s)
        out.extend(_json_forms(s))
        b64 = base64.b64encode(s.encode()).decode()
        out.append(b64.rstrip("="))
        out.append(b64.replace("+", "-").replace("/", "_").rstrip("="))
    return sorted(set(out))


def assert_clean(what: str, text: str | None):
    for n in needles():
        assert n not in (text or ""), f"{what} shows secret text {n!r}:\n{text}"


def test_leak_needles_differ():
    forms = [PLAIN, PLAIN_WRITTEN, *_json_forms(PLAIN)]
    assert len(set(forms)) == len(forms)


async def open_leaky(client: LanguageClient, workspace: pathlib.Path, text: str = LEAKY):
    (workspace / "proj").mkdir(exist_ok=True)
    (workspace / "proj" / "sec.yaml").write_text(SECRETS)
    uri = open_doc(client, workspace / "leaky.yaml", text)
    return uri, await diagnostics(client, uri, 1)


async def hover_text(client: LanguageClient, uri: str, text: str, needle: str, delta: int = 0):
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(text, needle, delta),
        )
    )
    return None if hover is None else hover.contents.value


async def test_leak_hover_on_a_secret_key(client: LanguageClient, workspace: pathlib.Path):
    uri, diags = await open_leaky(client, workspace)
    # The one message is escc's warning about the plaintext `fn::secret` of `own`, and it
    # shows no secret text either.
    assert [d.code for d in diags] == ["plaintext-secret"], diags
    assert_clean("the plaintext-secret warning", diags[0].message)
    assert_clean("data of the plaintext-secret warning", str(diags[0].data))
    for needle, delta in [("own:", 0), ("fn::secret", 2), (OWN, 3), ("list:", 0)]:
        value = await hover_text(client, uri, LEAKY, needle, delta)
        assert_clean(f"hover on {needle}", value)
    value = await hover_text(client, uri, LEAKY, "own:")
    assert "[secret]" in value and "secret string" in value, value


async def test_leak_hover_on_references_to_secrets(
    client: LanguageClient, workspace: pathlib.Path
):
    uri, _ = await open_leaky(client, workspace)
    # Each accessor of each reference; where it reads a secret (or an object holding
    # some), the hover says so, which shows the reference was resolved.
    for needle, delta, resolved in [
        ("${pw}", 2, True),
        ("${own}", 2, True),
        ("${parsed.k}", 3, True),
        ("${parsed.k}", 9, False),
        ("${parsed}", 3, True),
        ('imports["proj/sec"].pw', 1, False),
        ('imports["proj/sec"].pw', 12, True),
        ('imports["proj/sec"].pw', 21, True),
        ("environments.proj.sec.parsed.k", 1, False),
        ("environments.proj.sec.parsed.k", 19, True),
        ("environments.proj.sec.parsed.k", 30, False),
    ]:
        value = await hover_text(client, uri, LEAKY, needle, delta)
        assert_clean(f"hover on {needle}+{delta}", value)
        if resolved:
            assert '"[secret]"' in value, (needle, delta, value)


async def test_leak_hover_on_derived_values(client: LanguageClient, workspace: pathlib.Path):
    uri, _ = await open_leaky(client, workspace)
    for key in ["ref", "b64", "json", "joined", "deep", "whole", "viaimports", "viaenvs", "str"]:
        value = await hover_text(client, uri, LEAKY, f"  {key}:", 2)
        assert value is not None and "[secret]" in value, (key, value)
        assert_clean(f"hover on {key}", value)
    # The type of a secret object parsed from a secret names no key of it.
    value = await hover_text(client, uri, LEAKY, "  whole:", 2)
    assert value.startswith("`values.whole`: `secret object`"), value
    for builtin in ["fn::toBase64", "fn::toJSON", "fn::join", "fn::toString"]:
        assert_clean(f"hover on {builtin}", await hover_text(client, uri, LEAKY, builtin, 3))


async def test_leak_hover_in_the_imported_document(
    client: LanguageClient, workspace: pathlib.Path
):
    # The environment holding the secrets, opened too: hover on its keys and literals.
    await open_leaky(client, workspace)
    uri = open_doc(client, workspace / "proj" / "sec.yaml", SECRETS)
    await diagnostics(client, uri, 1)
    for needle, delta in [("pw:", 0), ("decoded:", 0), ("parsed:", 0), ("fn::fromJSON", 3),
                          ("ZGVj", 2), ('"k"', 1)]:
        assert_clean(f"hover on {needle}", await hover_text(client, uri, SECRETS, needle, delta))


async def test_leak_hover_anywhere(client: LanguageClient, workspace: pathlib.Path):
    # Every character of both documents.
    uri, _ = await open_leaky(client, workspace)
    sec = open_doc(client, workspace / "proj" / "sec.yaml", SECRETS)
    await diagnostics(client, sec, 1)
    count = 0
    for doc_uri, text in [(uri, LEAKY), (sec, SECRETS)]:
        for line_no, line in enumerate(text.split("\n")):
            for col in range(len(line.encode("utf-16-le")) // 2 + 1):
                hover = await client.text_document_hover_async(
                    types.HoverParams(
                        text_document=types.TextDocumentIdentifier(uri=doc_uri),
                        position=types.Position(line=line_no, character=col),
                    )
                )
                if hover is not None:
                    count += 1
                    assert_clean(f"hover at {doc_uri}:{line_no}:{col}", hover.contents.value)
    assert count > 300, count


async def test_leak_completion(client: LanguageClient, workspace: pathlib.Path):
    # Completion after `${`, into a secret object, through imports and environments.
    text = LEAKY + "  probe: ${\n"
    uri, _ = await open_leaky(client, workspace, text)
    probes = ["${", "${parsed.", '${imports["proj/sec"].', "${environments.proj.sec.",
              "${environments.proj.sec.parsed.", "${pw.", "${own."]
    items_seen = 0
    version = 1
    for probe in probes:
        version += 1
        new_text = LEAKY + f"  probe: {probe}\n"
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=new_text)],
            )
        )
        await diagnostics(client, uri, version)
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=position_of(new_text, f"probe: {probe}", len(f"probe: {probe}")),
            )
        )
        items = result.items if isinstance(result, types.CompletionList) else (result or [])
        items_seen += len(items)
        for item in items:
            doc = item.documentation
            doc = doc.value if isinstance(doc, types.MarkupContent) else doc
            edit = item.text_edit.new_text if item.text_edit else None
            for what, value in [("label", item.label), ("detail", item.detail),
                                ("documentation", doc), ("insert text", item.insert_text),
                                ("edit", edit), ("filter text", item.filter_text),
                                ("label details", str(item.label_details))]:
                assert_clean(f"completion {what} after {probe}", value)
    assert items_seen >= 10, items_seen


async def test_leak_document_symbols(client: LanguageClient, workspace: pathlib.Path):
    uri, _ = await open_leaky(client, workspace)
    sec = open_doc(client, workspace / "proj" / "sec.yaml", SECRETS)
    for doc_uri in [uri, sec]:
        result = await client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=doc_uri))
        )
        stack = list(result)
        assert stack
        while stack:
            s = stack.pop()
            assert_clean("a symbol's name", s.name)
            assert_clean("a symbol's detail", s.detail)
            stack.extend(s.children or [])


async def test_leak_signature_help(client: LanguageClient, workspace: pathlib.Path):
    # Signature help at every line end and builtin argument of the leaky documents: only
    # the builtins' own texts, never a value.
    text = LEAKY + LEAKY_BAD.split("values:\n", 1)[1]
    uri, _ = await open_leaky(client, workspace, text)
    shown = 0
    for line_no, line in enumerate(text.split("\n")):
        for character in {len(line), line.find(":") + 2}:
            help = await client.text_document_signature_help_async(
                types.SignatureHelpParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=line_no, character=max(0, character)),
                )
            )
            for sig in (help.signatures if help else []):
                shown += 1
                assert_clean("a signature", sig.label)
                assert_clean("a signature's documentation", sig.documentation.value)
    assert shown >= 5, shown


async def test_leak_diagnostics(client: LanguageClient, workspace: pathlib.Path):
    uri, diags = await open_leaky(client, workspace, LEAKY_BAD)
    codes = {d.code for d in diags}
    assert {"builtin-failed", "invalid-access", "schema-violation",
            "unknown-property"} <= codes, codes
    for d in diags:
        assert_clean(f"diagnostic {d.code}", d.message)
        for info in d.related_information or []:
            assert_clean(f"related information of {d.code}", info.message)
        assert_clean(f"data of {d.code}", str(d.data))


async def test_leak_logs_at_the_most_verbose_trace(
    client_verbose: LanguageClient, workspace: pathlib.Path, capfd
):
    # Everything the server can say besides answers: window/logMessage, showMessage,
    # $/logTrace (tracing set to verbose) and its standard error, while it serves every
    # feature over the secrets.
    client = client_verbose
    caps = client.init_result.capabilities
    # Features that could show values and have no leak test: none is offered.
    for feature in ["inlay_hint_provider", "semantic_tokens_provider", "code_lens_provider",
                    "document_highlight_provider",
                    "code_action_provider", "diagnostic_provider"]:
        assert getattr(caps, feature) is None, feature
    uri, _ = await open_leaky(client, workspace, LEAKY + LEAKY_BAD.split("values:\n", 1)[1])
    for needle in ["own:", "${pw}", "b64:", "deep:"]:
        await hover_text(client, uri, LEAKY, needle, 2)
    await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(LEAKY, "${parsed.k}", 9),
        )
    )
    await asyncio.sleep(0.3)
    for m in client.log_messages:
        assert_clean("window/logMessage", m.message)
    for m in client.messages:
        assert_clean("window/showMessage", m.message)
    for t in client.traces:
        assert_clean("$/logTrace", f"{t.message} {t.verbose}")
    captured = capfd.readouterr()
    assert_clean("the server's standard error", captured.err)


# ---------------------------------------------------------------------------------------
# Provider inputs: completed and hovered from the provider's schema.

PROVIDER = """\
values:
  aws:
    fn::open::aws-login:
      oidc:
        roleArn: arn:aws:iam::123456789012:role/deploy
        se
"""


async def test_provider_inputs_are_completed_and_hovered(
    client: LanguageClient, workspace: pathlib.Path
):
    uri = open_doc(client, workspace / "app.yaml", PROVIDER)
    await diagnostics(client, uri, 1)

    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position_of(PROVIDER, "        se", 10),
        )
    )
    items = result.items if isinstance(result, types.CompletionList) else result
    labels = [i.label for i in items]
    assert labels == ["sessionName", "duration", "policyArns", "subjectAttributes"], labels
    assert items[0].detail == "string (required)"
    assert "role session" in items[0].documentation.value
    assert items[0].text_edit.new_text == "sessionName"

    # Hover reads the syntax tree: on a document that parses.
    valid = PROVIDER.replace("        se\n", "        sessionName: deploy\n")
    uri_valid = open_doc(client, workspace / "valid.yaml", valid)
    await diagnostics(client, uri_valid, 1)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri_valid),
            position=position_of(valid, "roleArn", 2),
        )
    )
    assert hover.contents.value == (
        "`oidc.roleArn`: `string`, required input of provider `aws-login`\n\n"
        "The ARN of the IAM role to assume."
    )

    # After `fn::open::`, the provider names.
    text = "values:\n  x:\n    fn::open::\n"
    uri2 = open_doc(client, workspace / "names.yaml", text)
    await diagnostics(client, uri2, 1)
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri2),
            position=position_of(text, "fn::open::", 10),
        )
    )
    items = result.items if isinstance(result, types.CompletionList) else result
    labels = [i.label for i in items]
    assert "fn::open::aws-login" in labels and "fn::open::vault-secrets" in labels, labels
    assert all(label.startswith("fn::open::") for label in labels), labels
