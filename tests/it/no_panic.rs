//! Property tests: no input makes loading or path parsing panic, and every span reported
//! stays inside the text on char boundaries (see `invariants.rs`). The fuzz targets in
//! `fuzz/` explore the same properties for longer, guided by coverage.

use proptest::prelude::*;

use crate::invariants;

/// Pieces of YAML and of the template language, joined at random into documents.
const PIECES: &[&str] = &[
    "values",
    "imports",
    "a",
    "b",
    "key",
    "x.y",
    "\u{e9}t\u{e9}",
    "\u{4e16}\u{754c}",
    ":",
    ": ",
    "- ",
    "-",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    "\"",
    "\\",
    "${",
    "$${",
    "$",
    "${a}",
    "${a.b[0]}",
    "${a[\"k\"]}",
    ".",
    "[0]",
    "[-1]",
    "[\"",
    "fn::",
    "fn::secret",
    "fn::join",
    "fn::open::aws",
    "fn::toJSON",
    "|",
    "|-",
    ">",
    ">+",
    "\n",
    "\r\n",
    "\t",
    " ",
    "  ",
    "    ",
    "#",
    "&x ",
    "*x",
    "!!str ",
    "!tag ",
    "? ",
    "---",
    "...",
    "~",
    "null",
    "true",
    "0x1F",
    "1e3",
    "\u{feff}",
    "%YAML 1.2",
    "@",
    "`",
];

/// Documents built from [`PIECES`] plus a little arbitrary text.
fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => proptest::sample::select(PIECES).prop_map(str::to_owned),
        1 => "[ -~]{0,4}",
        1 => any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..64).prop_map(|pieces| pieces.concat())
}

/// Pieces of a block document's values: scalars, templates, flow collections, builtins
/// and block-scalar headers, some deliberately unterminated.
const VALUE_PIECES: &[&str] = &[
    "x",
    "abc",
    "${a}",
    "${a.b[0]}",
    "${",
    "}",
    "$$",
    "\"",
    "'",
    "\"${a}\"",
    "'${a}'",
    "[",
    "]",
    "{",
    "}",
    "a: b",
    ", ",
    "|",
    "|-",
    ">",
    ">+",
    "fn::secret: ",
    "fn::join: ",
    "fn::toJSON: ",
    "fn::open::aws: ",
    "fn::concat: ",
    "fn::rotate: ",
    "!!str ",
    "&a ",
    "*a",
    "# c",
    "\\",
    "\u{e9}",
    " ",
    "\t",
];

/// Block-structured documents: indented `key: value` and `- item` lines.
fn block_document() -> impl Strategy<Value = String> {
    let key = proptest::sample::select(&["a", "b", "values", "fn::secret", "k${x}", "\u{e9}"][..]);
    let value = proptest::collection::vec(proptest::sample::select(VALUE_PIECES), 0..4)
        .prop_map(|pieces| pieces.concat());
    let line = (0usize..6, any::<bool>(), key, value).prop_map(|(indent, item, key, value)| {
        let dash = if item { "- " } else { "" };
        format!("{}{dash}{key}: {value}\n", "  ".repeat(indent))
    });
    proptest::collection::vec(line, 0..24).prop_map(|lines| format!("values:\n{}", lines.concat()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_load(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        invariants::check_load(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn yamlish_text_loads(text in yamlish()) {
        invariants::check_load(&text);
    }

    #[test]
    fn block_documents_load(text in block_document()) {
        invariants::check_load(&text);
    }

    #[test]
    fn property_paths_parse(path in "[a-z0-9_.\\[\\]\"\\\\${} \t\u{e0}\u{4f60}-]{0,24}") {
        invariants::check_path(&path);
    }
}
