//! The `edit` and `crypt` parts: comment- and layout-preserving YAML rewriting.
//!
//! - `yaml-edit/NAME/`: `doc.yaml`, `edits.yaml` (`edits:` a list of single-key mappings
//!   `path: value`, where a `null` value deletes) and `expected.yaml`, compared byte for byte.
//! - `crypt/X.plaintext.yaml` ⇄ `X.ciphertext.yaml` with the rot128 test cipher: a pair
//!   passes when encryption and decryption both give the other file byte for byte.

use std::fs;
use std::path::Path;

use escc::Source;
use escc::ast::{AccessorKind, parse_property_path};
use escc::edit::{apply_edits, decrypt_secrets, encrypt_secrets};
use escc::syntax::{Limits, Node, NodeKind, parse};
use escc::testing::rot128;
use serde_json::{Map, Value};

use crate::Outcome;

fn outcome(part: &'static str, case: &str, result: Result<(), String>) -> Outcome {
    Outcome {
        part,
        case: case.to_owned(),
        failure: result.err(),
    }
}

/// Runs every `yaml-edit` case.
pub fn edit_cases(dir: &Path) -> Vec<Outcome> {
    let mut cases: Vec<_> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    cases.sort();
    cases
        .iter()
        .map(|(name, path)| outcome("edit", name, run_edit_case(path)))
        .collect()
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn run_edit_case(dir: &Path) -> Result<(), String> {
    let doc = read(&dir.join("doc.yaml"))?;
    let edits = read_edits(&read(&dir.join("edits.yaml"))?)?;
    let expected = read(&dir.join("expected.yaml"))?;
    let got = apply_edits(&doc, &edits).map_err(|e| format!("error: {e}"))?;
    same("expected.yaml", &expected, &got)
}

/// Edits as `apply_edits` takes them.
type Edits = Vec<(Vec<AccessorKind>, Option<Value>)>;

/// `edits:` as a list of (path, value); `null` deletes.
fn read_edits(text: &str) -> Result<Edits, String> {
    let source = Source::new("edits", text);
    let parsed = parse(&source, &Limits::default());
    if let Some(d) = parsed.diags.first() {
        return Err(format!("edits.yaml: {}", d.summary));
    }
    let root = parsed.root.map(|r| to_json(&r, &source));
    let Some(Value::Array(list)) = root.as_ref().and_then(|r| r.get("edits")) else {
        return Err("edits.yaml: expected `edits:` with a list".to_owned());
    };
    let mut out = Vec::new();
    for edit in list {
        let Some(map) = edit.as_object() else {
            return Err("edits.yaml: an edit is not a mapping".to_owned());
        };
        for (path, value) in map {
            let path = parse_property_path(path).map_err(|e| format!("edits.yaml: {path}: {e}"))?;
            out.push((path, (!value.is_null()).then(|| value.clone())));
        }
    }
    Ok(out)
}

fn to_json(node: &Node, source: &Source) -> Value {
    match &node.kind {
        NodeKind::Null | NodeKind::Alias => Value::Null,
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Number(n) => serde_json::from_str(n)
            .unwrap_or_else(|_| Value::String(source.slice(node.span).to_owned())),
        NodeKind::String(s) => Value::String(s.to_string()),
        NodeKind::Array(items) => Value::Array(items.iter().map(|n| to_json(n, source)).collect()),
        NodeKind::Object(entries) => {
            let mut map = Map::new();
            for e in entries {
                map.insert(
                    e.key.as_str().unwrap_or_default().to_owned(),
                    to_json(&e.value, source),
                );
            }
            Value::Object(map)
        }
    }
}

/// Runs every `crypt` pair.
pub fn crypt_cases(dir: &Path) -> Vec<Outcome> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_suffix(".plaintext.yaml")
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
        .iter()
        .map(|name| outcome("crypt", name, run_crypt_case(dir, name)))
        .collect()
}

fn run_crypt_case(dir: &Path, name: &str) -> Result<(), String> {
    let plaintext = read(&dir.join(format!("{name}.plaintext.yaml")))?;
    let ciphertext = read(&dir.join(format!("{name}.ciphertext.yaml")))?;
    let cipher = |bytes: &[u8]| Ok(rot128(bytes));
    let encrypted = encrypt_secrets(&plaintext, &cipher).map_err(|e| format!("encrypt: {e}"))?;
    same("encrypt: ciphertext.yaml", &ciphertext, &encrypted)?;
    let decrypted = decrypt_secrets(&ciphertext, &cipher).map_err(|e| format!("decrypt: {e}"))?;
    same("decrypt: plaintext.yaml", &plaintext, &decrypted)
}

/// Byte equality, else the first differing line.
fn same(what: &str, expected: &str, got: &str) -> Result<(), String> {
    if expected == got {
        return Ok(());
    }
    let at = expected
        .bytes()
        .zip(got.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(got.len()));
    let line = |text: &str| {
        let start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
        let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        format!("{:?}", &text[start..end])
    };
    Err(format!(
        "{what} differs at byte {at}: expected line {}, got {}",
        line(expected),
        line(got)
    ))
}
