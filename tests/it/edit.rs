//! Comment- and layout-preserving YAML writing (`escc::edit`) on our own fixtures
//! (`fixtures/edit/`): re-encoding, path edits, secret encryption and decryption, CRLF and
//! non-ASCII text, errors; and, for generated values, that what is written reads back as
//! the same data and is written again unchanged.

use escc::ast::{AccessorKind, parse_property_path};
use escc::edit::{EditError, apply_edits, decrypt_secrets, encrypt_secrets};
use escc::syntax::{Limits, Node, NodeKind, parse};
use escc::testing::rot128;
use escc::{Source, Span};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/edit");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).unwrap()
}

fn edits(list: &[(&str, Option<Value>)]) -> Vec<(Vec<AccessorKind>, Option<Value>)> {
    list.iter()
        .map(|(p, v)| (parse_property_path(p).unwrap(), v.clone()))
        .collect()
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "the signature the secret rewrites take"
)]
fn cipher(bytes: &[u8]) -> Result<Vec<u8>, String> {
    Ok(rot128(bytes))
}

fn encrypt(text: &str) -> String {
    encrypt_secrets(text, &cipher).unwrap()
}

fn decrypt(text: &str) -> String {
    decrypt_secrets(text, &cipher).unwrap()
}

/// The document's data as JSON (what a reader of the YAML sees).
fn data(text: &str) -> Value {
    let parsed = parse(&Source::new("t", text), &Limits::default());
    assert!(parsed.diags.is_empty(), "{text}\n{:?}", parsed.diags);
    parsed.root.as_ref().map_or(Value::Null, to_json)
}

fn to_json(n: &Node) -> Value {
    match &n.kind {
        NodeKind::Null | NodeKind::Alias => Value::Null,
        NodeKind::Bool(b) => Value::Bool(*b),
        // `NaN` and `+Inf` are not JSON.
        NodeKind::Number(x) => serde_json::from_str(x).unwrap_or_else(|_| json!(format!("{x}"))),
        NodeKind::String(s) => Value::String(s.to_string()),
        NodeKind::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeKind::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|e| (e.key.as_str().unwrap().to_owned(), to_json(&e.value)))
                .collect::<Map<_, _>>(),
        ),
    }
}

#[test]
fn reencoding_keeps_comments_and_styles() {
    let doc = fixture("comments.yaml");
    let out = apply_edits(&doc, &[]).unwrap();
    insta::assert_snapshot!(out);
    // Same data, and a second pass changes nothing.
    assert_eq!(data(&out), data(&doc));
    assert_eq!(apply_edits(&out, &[]).unwrap(), out);
}

#[test]
fn rotation_state_is_written_back_in_place() {
    let doc = fixture("comments.yaml");
    let out = apply_edits(
        &doc,
        &edits(&[(
            r#"values.db.creds["fn::rotate::swap"].state"#,
            Some(json!({"a": "new-a", "b": "new-b"})),
        )]),
    )
    .unwrap();
    insta::assert_snapshot!(out);
    let state = &data(&out)["values"]["db"]["creds"]["fn::rotate::swap"]["state"];
    assert_eq!(state, &json!({"a": "new-a", "b": "new-b"}));
}

#[test]
fn edits_add_replace_append_and_remove() {
    let doc = "values:\n  keep: 1 # kept\n  list:\n    - a\n  gone: x\n  empty:\n";
    let out = apply_edits(
        doc,
        &edits(&[
            ("values.keep", Some(json!("true"))),
            ("values.list[1]", Some(json!({"b": [1, 2.5, null, false]}))),
            ("values.list[0]", None),
            ("values.gone", None),
            ("values.missing.deeper", None),
            ("values.empty.made[0]", Some(json!("from null"))),
            (r#"values["needs quotes: yes"]"#, Some(json!(""))),
            ("values.multi", Some(json!("line one\nline two\n"))),
        ]),
    )
    .unwrap();
    insta::assert_snapshot!(out, @r#"
    values:
        keep: 'true' # kept
        list:
            - b:
                - 1
                - 2.5
                - null
                - false
        empty:
            made:
                - from null
        'needs quotes: yes': ""
        multi: |
            line one
            line two
    "#);
}

/// Cases the `parse_yaml` fuzz corpus found: what is written reads back as the same data.
#[test]
fn folded_more_indented_lines_and_anchored_null_roots_read_back_the_same() {
    for doc in [
        "a: >\n  kept\n    more\n",
        "a: >+\n\n  k:\n\n\n  kept\n\n      more ${a}\n",
        "a: >-\n  one\n  two\n\n    more\n  three\n",
        "&a",
        "--- &a\n",
    ] {
        let out = apply_edits(doc, &[]).unwrap();
        assert_eq!(data(&out), data(doc), "{doc:?} was written as {out:?}");
        assert_eq!(apply_edits(&out, &[]).unwrap(), out, "{doc:?}");
    }
}

#[test]
fn edits_create_the_document() {
    let out = apply_edits("", &edits(&[("a[0].b", Some(json!(1)))])).unwrap();
    assert_eq!(out, "a:\n    - b: 1\n");
    let out = apply_edits(
        "# only a comment\n",
        &edits(&[("a", Some(json!({}))), ("a", None)]),
    )
    .unwrap();
    assert_eq!(out, "# only a comment\n{}\n");
}

#[test]
fn edit_errors() {
    let err =
        |doc: &str, path: &str| apply_edits(doc, &edits(&[(path, Some(json!(1)))])).unwrap_err();
    assert_eq!(
        err("a: text\n", "a.b"),
        EditError {
            message: "a.b: a is a scalar, not an object".to_owned(),
            span: Some(Span::new(3, 7)),
        }
    );
    assert_eq!(
        err("a: [x]\n", "a[2]").message,
        "a[2]: index out of range (the array has 1 elements)"
    );
    assert_eq!(
        err("a: {}\n", "a[0]").message,
        "a[0]: a is an object, not an array"
    );
    let alias = err("a: &x 1\nb: *x\n", "a");
    assert_eq!(alias.message, "alias nodes are not supported");
    assert_eq!(alias.span, Some(Span::new(11, 13)));
    assert!(err("a: [\n", "a").message.starts_with("yaml: "));
    let second = err("a: 1\n# next\n--- # two\nb: 2\n", "a");
    assert_eq!(
        second.message,
        "only the first YAML document is read: a file of several cannot be rewritten"
    );
    assert_eq!(second.span, Some(Span::new(12, 15)));
    // An empty document after the first is no loss.
    assert_eq!(
        apply_edits("---\na: 1\n...\n---\n# end\n", &[]).unwrap(),
        "a: 1\n# end\n"
    );
}

#[test]
fn a_secret_is_written_as_fn_secret_then_encrypted() {
    let doc = "values:\n  # rotated\n  password: old\n";
    let written = apply_edits(
        doc,
        &edits(&[("values.password", Some(json!({"fn::secret": "hunter2"})))]),
    )
    .unwrap();
    assert_eq!(
        written,
        "values:\n    # rotated\n    password:\n        fn::secret: hunter2\n"
    );
    let encrypted = encrypt(&written);
    assert_eq!(
        encrypted,
        "values:\n  # rotated\n  password:\n    fn::secret:\n      ciphertext: ZXNjeAAAAAHo9e705fKyKo30VQ==\n"
    );
    assert_eq!(
        decrypt(&encrypted),
        "values:\n  # rotated\n  password:\n    fn::secret: hunter2\n"
    );
}

#[test]
fn secrets_round_trip_with_comments() {
    let doc = fixture("secrets.yaml");
    let encrypted = encrypt(&doc);
    insta::assert_snapshot!(encrypted);
    assert_eq!(decrypt(&encrypted), doc);
    // Nothing left to encrypt or decrypt: both only re-encode.
    assert_eq!(encrypt(&encrypted), encrypted);
    assert_eq!(decrypt(&doc), doc);
}

#[test]
fn secrets_outside_values_are_encrypted_but_not_decrypted() {
    let doc = "other:\n  fn::secret: outside\nvalues:\n  inside:\n    fn::secret: inside\n";
    let encrypted = encrypt(doc);
    let decrypted = decrypt(&encrypted);
    assert!(decrypted.starts_with("other:\n  fn::secret:\n    ciphertext: "));
    assert!(decrypted.ends_with("values:\n  inside:\n    fn::secret: inside\n"));
}

#[test]
fn decryption_errors() {
    let doc = "values:\n  a:\n    fn::secret:\n      ciphertext: aGk\n";
    let err = decrypt_secrets(doc, &cipher).unwrap_err();
    assert_eq!(
        err.message,
        "invalid ciphertext: illegal base64 data at input byte 0"
    );
    assert_eq!(err.span, Some(Span::new(47, 50)));
    let failing = |_: &[u8]| Err("no key".to_owned());
    let err = decrypt_secrets(&encrypt(&fixture("secrets.yaml")), &failing).unwrap_err();
    assert_eq!(err.message, "decrypting: no key");
    let err = encrypt_secrets(&fixture("secrets.yaml"), &failing).unwrap_err();
    assert_eq!(err.message, "no key");
}

#[test]
fn non_ascii_text() {
    let doc = fixture("unicode.yaml");
    let encrypted = encrypt(&doc);
    insta::assert_snapshot!(encrypted);
    let decrypted = decrypt(&encrypted);
    assert_eq!(data(&decrypted), data(&doc));
    assert_eq!(decrypt(&decrypted), decrypted);
}

#[test]
fn crlf_documents_keep_crlf() {
    let doc = fixture("secrets.yaml").replace('\n', "\r\n");
    let encrypted = encrypt(&doc);
    assert!(!encrypted.replace("\r\n", "").contains('\n'));
    assert_eq!(
        encrypted,
        encrypt(&fixture("secrets.yaml")).replace('\n', "\r\n")
    );
    assert_eq!(decrypt(&encrypted), doc);
    let edited = apply_edits(&doc, &edits(&[("values.plain", Some(json!("new")))])).unwrap();
    assert!(edited.contains("    plain: new\r\n"));
}

/// Strings that exercise quoting: indicators, blanks at the ends, breaks, tabs, quotes,
/// characters outside the Basic Multilingual Plane, words that read as other types.
fn tricky_string() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a",
        "b c",
        " ",
        "  ",
        "\n",
        "\t",
        "\r",
        "#",
        " #",
        ":",
        ": ",
        "-",
        "- ",
        "?",
        "'",
        "\"",
        "\\",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&",
        "*",
        "!",
        "|",
        ">",
        "%",
        "@",
        "`",
        "---",
        "é",
        "😀",
        "\u{85}",
        "\u{2028}",
        "\u{feff}",
        "\u{7f}",
        "true",
        "null",
        "42",
        "1.5",
        "0x1F",
        "~",
        "${a.b}",
        "2001-12-14",
    ]);
    prop::collection::vec(pieces, 0..6).prop_map(|v| v.concat())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        tricky_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((tricky_string(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn written_values_read_back(value in json_value()) {
        let out = apply_edits("", &[(vec![AccessorKind::Name("v".to_owned())], Some(value.clone()))])
            .unwrap();
        prop_assert_eq!(data(&out), json!({"v": value}), "{}", out);
        prop_assert_eq!(apply_edits(&out, &[]).unwrap(), out.clone());
        // Inside a flow collection too.
        let flow = apply_edits("v: [x]\n", &[(vec![
            AccessorKind::Name("v".to_owned()), AccessorKind::Index(0)], Some(value.clone()))])
            .unwrap();
        prop_assert_eq!(&data(&flow)["v"][0], &value, "{}", flow);
    }
}

/// Every document of the repository that decodes (fixtures, the YAML fuzz corpus) is
/// rewritten without loss: same data, and a second rewrite changes nothing.
#[test]
fn every_known_document_rewrites_faithfully() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut dirs = vec![root.join("fixtures"), root.join("fuzz/corpus/parse_yaml")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if dir.ends_with("parse_yaml")
                || path.extension().is_some_and(|x| x == "yaml" || x == "yml")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut checked = 0;
    for path in files {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let parsed = parse(&Source::new("t", text.as_str()), &Limits::default());
        if parsed.has_errors() {
            continue;
        }
        let out = match apply_edits(&text, &[]) {
            Ok(out) => out,
            // The documented refusals.
            Err(e)
                if e.message == "alias nodes are not supported"
                    || e.message.starts_with("only the first YAML document") =>
            {
                continue;
            }
            Err(e) => panic!("{}: {e}", path.display()),
        };
        let before = parsed.root.as_ref().map_or(Value::Null, to_json);
        if before.is_null() {
            // An empty document (or only comments) is written as its comments; an empty
            // root with a tag keeps it (`!`), one with only an anchor (`&a`) is `null`.
            assert!(
                out.lines()
                    .all(|l| l.starts_with('#') || l.starts_with('!') || l == "null"),
                "{}:\n{out}",
                path.display()
            );
            assert!(data(&out).is_null(), "{}:\n{out}", path.display());
        } else {
            assert_eq!(data(&out), before, "{}:\n{out}", path.display());
        }
        assert_eq!(apply_edits(&out, &[]).unwrap(), out, "{}", path.display());
        checked += 1;
    }
    assert!(checked > 20, "only {checked} documents checked");
}

/// A single-line string (so that every line of a written document is a whole entry).
fn one_line_string() -> impl Strategy<Value = String> {
    tricky_string().prop_map(|s| s.replace(['\n', '\r', '\u{85}'], ""))
}

fn one_line_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..500).prop_map(|n| json!(n)),
        one_line_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((one_line_string(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn comments_are_never_lost(
        value in one_line_value(),
        places in prop::collection::vec((0usize..64, 0usize..8, any::<bool>()), 0..8),
    ) {
        let written = apply_edits("", &[(vec![AccessorKind::Name("v".to_owned())], Some(value))])
            .unwrap();
        // Number the comments: `#c0`, `#c1`, ... on their own lines (at any indentation)
        // or after a line.
        let mut lines: Vec<String> = written.lines().map(str::to_owned).collect();
        let mut ids = Vec::new();
        for (n, (at, indent, trailing)) in places.into_iter().enumerate() {
            let id = format!("#c{n}");
            let at = at % (lines.len() + 1);
            if trailing && at < lines.len() && !lines[at].contains("#c") {
                lines[at] = format!("{} {id}", lines[at]);
            } else {
                lines.insert(at, format!("{}{id}", " ".repeat(indent)));
            }
            ids.push(id);
        }
        let doc = lines.join("\n") + "\n";
        let out = apply_edits(&doc, &[]).unwrap();
        for id in &ids {
            prop_assert_eq!(out.matches(&format!("{id}\n")).count(), 1, "{} in\n{}\n→\n{}", id, doc, out);
        }
        prop_assert_eq!(data(&out), data(&doc), "{}\n→\n{}", doc, out);
        prop_assert_eq!(apply_edits(&out, &[]).unwrap(), out.clone(), "{}", doc);
    }
}
