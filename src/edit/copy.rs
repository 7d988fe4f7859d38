//! The decrypted copy that `escc edit` opens, and how the edited copy is written back.
//!
//! In the copy, each ciphertext that can be decrypted is shown as the plaintext it holds: a
//! double-quoted scalar where its `{ciphertext: ...}` was. After the edit, a secret whose
//! plaintext did not change gets its original bytes back (its ciphertext is not
//! re-encrypted), a changed or new one is encrypted, a plaintext secret of the original
//! left as it was stays as it was, and everything else is the edited text as the user left
//! it. So a document edited without touching a secret is written back byte-identical, and
//! changing one secret changes one line. Secrets are matched by path: a secret moved to
//! another key is a new one.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;

use super::EditError;
use super::splice::{SiteKind, ciphertext_arg, read_back, secret_sites, splice};
use crate::Source;
use crate::source::Span;

/// A document with its ciphertexts decrypted, for editing; see the module documentation.
/// It holds plaintexts: its `Debug` shows paths only.
pub struct DecryptedCopy {
    /// The text to edit.
    pub text: String,
    /// The secrets shown decrypted, by path.
    shown: BTreeMap<String, Shown>,
    /// The document's plaintext secrets, by path: kept as written while unchanged.
    plain: BTreeMap<String, String>,
    /// The ciphertexts left encrypted in the copy, by path, and why.
    pub kept: Vec<(String, String)>,
}

/// A secret shown decrypted, and how it was written.
struct Shown {
    plaintext: String,
    /// Its argument as written (`{ciphertext: ...}`, or a block mapping).
    arg: String,
    /// Where the ciphertext scalar is in `arg`.
    scalar: std::ops::Range<usize>,
    /// For an argument written as a block mapping (on a line of its own): its column in
    /// bytes. A block mapping fits only where it was.
    block_column: Option<usize>,
}

impl Shown {
    /// The argument to write back where the plaintext is now (`at` in `text`): as it was
    /// written, with `ciphertext` in place of the old one when there is a new one. When the
    /// plaintext has moved where a block mapping cannot be (onto the key's line), the
    /// ciphertext is written `{ciphertext: ...}`.
    fn framed(&self, text: &str, at: Span, ciphertext: Option<&str>) -> String {
        let fits = self.block_column.is_none_or(|column| {
            let line = text[..at.start()].rfind('\n').map_or(0, |i| i + 1);
            let before = &text[line..at.start()];
            before.len() == column && before.trim().is_empty()
        });
        let scalar = &self.arg[self.scalar.clone()];
        if !fits {
            return ciphertext_arg(ciphertext.unwrap_or(scalar));
        }
        match ciphertext {
            None => self.arg.clone(),
            Some(c) => format!(
                "{}{c}{}",
                &self.arg[..self.scalar.start],
                &self.arg[self.scalar.end..]
            ),
        }
    }
}

impl DecryptedCopy {
    /// The plaintexts the copy shows (decrypted or as written), to mask in messages.
    pub fn plaintexts(&self) -> impl Iterator<Item = String> + '_ {
        self.shown
            .values()
            .map(|s| s.plaintext.clone())
            .chain(self.plain.values().cloned())
    }
}

impl fmt::Debug for DecryptedCopy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedCopy")
            .field("shown", &self.shown.keys().collect::<Vec<_>>())
            .field("plain", &self.plain.keys().collect::<Vec<_>>())
            .field("kept", &self.kept)
            .finish_non_exhaustive()
    }
}

/// A plaintext as a YAML double-quoted scalar: JSON's escapes, and `\uXXXX` for the
/// characters YAML does not allow unescaped in a document (DEL, C1 controls, U+FEFF,
/// U+FFFE, U+FFFF) or that some readers take for line breaks (U+2028, U+2029).
fn quote(s: &str) -> String {
    let json = serde_json::Value::String(s.to_owned()).to_string();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        ) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// How [`decrypted_copy`] decrypts: a ciphertext's text in; its plaintext, an error, or
/// `None` (not one to decrypt) out.
pub type Decrypt<'a> = dyn Fn(&str) -> Option<Result<Vec<u8>, String>> + 'a;

/// The copy of `source` to edit. `decrypt` gets each ciphertext's text and returns its
/// plaintext, `None` to leave it encrypted without a word (not one of ours: ESC's
/// envelope, a malformed one that `check` reports), or an error to leave it encrypted and
/// say why (in [`DecryptedCopy::kept`]). A plaintext that is not UTF-8 stays encrypted too.
///
/// # Errors
/// The document has load errors.
pub fn decrypted_copy(source: &Source, decrypt: &Decrypt<'_>) -> Result<DecryptedCopy, EditError> {
    let text = source.text();
    let mut replacements = Vec::new();
    let mut shown = BTreeMap::new();
    let mut plain = BTreeMap::new();
    let mut kept = Vec::new();
    for site in secret_sites(source)? {
        match &site.kind {
            SiteKind::Plaintext(value, _) => {
                plain.insert(site.path, value.clone());
            }
            SiteKind::Ciphertext(ciphertext, scalar) => match decrypt(ciphertext) {
                None => {}
                Some(Err(why)) => kept.push((site.path, why)),
                Some(Ok(bytes)) => {
                    let Ok(plaintext) = String::from_utf8(bytes) else {
                        kept.push((site.path, "its plaintext is not UTF-8 text".to_owned()));
                        continue;
                    };
                    let arg = &text[site.arg.start()..site.arg.end()];
                    let (Some(start), Some(end)) = (
                        scalar.start().checked_sub(site.arg.start()),
                        scalar.end().checked_sub(site.arg.start()),
                    ) else {
                        return Err(read_back(source, "a ciphertext is outside its secret"));
                    };
                    let line = text[..site.arg.start()].rfind('\n').map_or(0, |i| i + 1);
                    let before = &text[line..site.arg.start()];
                    let block_column =
                        (!arg.starts_with('{') && before.trim().is_empty()).then_some(before.len());
                    replacements.push((site.arg, quote(&plaintext)));
                    shown.insert(
                        site.path,
                        Shown {
                            plaintext,
                            arg: arg.to_owned(),
                            scalar: start..end.min(arg.len()),
                            block_column,
                        },
                    );
                }
            },
        }
    }
    let copy = splice(text, replacements);
    // Read back: each secret shown is a plaintext holding exactly its value.
    let sites = secret_sites(&Source::new(source.name(), copy.as_str()))
        .map_err(|e| read_back(source, &e.message))?;
    for (path, s) in &shown {
        let back = sites.iter().any(|x| {
            &x.path == path && matches!(&x.kind, SiteKind::Plaintext(v, _) if *v == s.plaintext)
        });
        if !back {
            return Err(read_back(source, "a decrypted secret does not read back"));
        }
    }
    Ok(DecryptedCopy {
        text: copy,
        shown,
        plain,
        kept,
    })
}

/// What an edit did, by secret path (document order).
#[derive(Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WrittenBack {
    /// The document to write.
    pub text: String,
    /// The secrets that were not there and are now encrypted.
    pub added: Vec<String>,
    /// The secrets whose plaintext changed, now encrypted again.
    pub changed: Vec<String>,
    /// The secrets that were there and are not any more.
    pub removed: Vec<String>,
}

/// The document to write after `edited` (the copy as the user saved it): see the module
/// documentation. `encrypt` gets each new or changed plaintext and returns its
/// ciphertext's text.
///
/// # Errors
/// The edited document has load errors (the first, at its span in `edited`), or `encrypt`
/// fails (its message, at the secret).
pub fn write_back(
    copy: &DecryptedCopy,
    edited: &Source,
    encrypt: &dyn Fn(&str) -> Result<String, String>,
) -> Result<WrittenBack, EditError> {
    let text = edited.text();
    let sites = secret_sites(edited)?;
    let mut replacements = Vec::new();
    let mut out = WrittenBack::default();
    let mut encrypted = Vec::new();
    for site in &sites {
        let SiteKind::Plaintext(value, _) = &site.kind else {
            continue;
        };
        let shown = copy.shown.get(&site.path);
        if let Some(s) = shown
            && s.plaintext == *value
        {
            replacements.push((site.arg, s.framed(text, site.arg, None)));
            encrypted.push(&site.path);
            continue;
        }
        if copy.plain.get(&site.path) == Some(value) {
            continue;
        }
        let ciphertext = encrypt(value)
            .map_err(|e| EditError::new(format!("{}: {e}", site.path), Some(site.arg)))?;
        let new = match shown {
            Some(s) => s.framed(text, site.arg, Some(&ciphertext)),
            None => ciphertext_arg(&ciphertext),
        };
        replacements.push((site.arg, new));
        encrypted.push(&site.path);
        if shown.is_some() || copy.plain.contains_key(&site.path) {
            out.changed.push(site.path.clone());
        } else {
            out.added.push(site.path.clone());
        }
    }
    out.removed = copy
        .shown
        .keys()
        .chain(copy.plain.keys())
        .filter(|p| !sites.iter().any(|s| &s.path == *p))
        .cloned()
        .collect();
    out.removed.sort();
    out.text = splice(text, replacements);
    // Read back: as many secrets, and each one written is a ciphertext.
    let after = secret_sites(&Source::new(edited.name(), out.text.as_str()))
        .map_err(|e| read_back(edited, &e.message))?;
    let moved = after.len() != sites.len()
        || encrypted.iter().any(|p| {
            !after
                .iter()
                .any(|s| &&s.path == p && matches!(s.kind, SiteKind::Ciphertext(..)))
        });
    if moved {
        return Err(read_back(edited, "its secrets moved"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy cipher: `C:` and the plaintext reversed, so a test can tell values apart.
    fn dec(c: &str) -> Option<Result<Vec<u8>, String>> {
        if c == "BROKEN" {
            return Some(Err("cannot decrypt".to_owned()));
        }
        if c == "BINARY" {
            return Some(Ok(vec![0xff, 0xfe]));
        }
        c.strip_prefix("C:")
            .map(|p| Ok(p.chars().rev().collect::<String>().into_bytes()))
    }

    #[expect(clippy::unnecessary_wraps, reason = "the shape of a cipher")]
    fn enc(p: &str) -> Result<String, String> {
        Ok(format!("C:{}", p.chars().rev().collect::<String>()))
    }

    fn copy_of(doc: &str) -> DecryptedCopy {
        decrypted_copy(&Source::new("t", doc), &dec).unwrap()
    }

    fn back(copy: &DecryptedCopy, edited: &str) -> WrittenBack {
        write_back(copy, &Source::new("t", edited), &enc).unwrap()
    }

    const DOC: &str = "# top\nvalues:\n  a: {fn::secret: {ciphertext: C:eno}} # one\n  b:\n    fn::secret:\n      ciphertext: \"C:owt\"\n  c: {fn::secret: swordfish}\n  d: {fn::secret: {ciphertext: ZXNjeA==}}\n  e: x\n";

    #[test]
    fn the_copy_shows_plaintexts_where_ciphertexts_were() {
        let copy = copy_of(DOC);
        assert_eq!(
            copy.text,
            "# top\nvalues:\n  a: {fn::secret: \"one\"} # one\n  b:\n    fn::secret:\n      \"two\"\n  c: {fn::secret: swordfish}\n  d: {fn::secret: {ciphertext: ZXNjeA==}}\n  e: x\n"
        );
        assert!(copy.kept.is_empty());
        let debug = format!("{copy:?}");
        assert!(!debug.contains("one") && !debug.contains("two") && !debug.contains("swordfish"));
    }

    #[test]
    fn an_unchanged_copy_writes_back_the_same_bytes() {
        let copy = copy_of(DOC);
        let w = back(&copy, &copy.text);
        assert_eq!(w.text, DOC);
        assert!(w.added.is_empty() && w.changed.is_empty() && w.removed.is_empty());
    }

    #[test]
    fn only_changed_and_new_secrets_are_encrypted() {
        let copy = copy_of(DOC);
        let edited = copy
            .text
            .replace("\"two\"", "\"zwei\"")
            .replace("e: x\n", "e: y\n  f: {fn::secret: new}\n");
        let w = back(&copy, &edited);
        assert_eq!(
            w.text,
            "# top\nvalues:\n  a: {fn::secret: {ciphertext: C:eno}} # one\n  b:\n    fn::secret:\n      ciphertext: C:iewz\n  c: {fn::secret: swordfish}\n  d: {fn::secret: {ciphertext: ZXNjeA==}}\n  e: y\n  f: {fn::secret: {ciphertext: C:wen}}\n"
        );
        assert_eq!(w.changed, ["b"]);
        assert_eq!(w.added, ["f"]);
        // A changed plaintext secret is encrypted; a removed one is reported.
        let w = back(
            &copy,
            &copy
                .text
                .replace("swordfish}", "swordfisher}")
                .replace("  a: {fn::secret: \"one\"} # one\n", ""),
        );
        assert_eq!(w.changed, ["c"]);
        assert_eq!(w.removed, ["a"]);
        assert!(
            w.text
                .contains("c: {fn::secret: {ciphertext: C:rehsifdrows}}")
        );
    }

    #[test]
    fn a_block_mapping_moved_onto_its_key_line_becomes_a_flow_mapping() {
        let copy = copy_of(DOC);
        let edited = copy
            .text
            .replace("fn::secret:\n      \"two\"", "fn::secret: \"two\"");
        let w = back(&copy, &edited);
        assert!(
            w.text
                .contains("  b:\n    fn::secret: {ciphertext: \"C:owt\"}\n"),
            "{}",
            w.text
        );
        assert!(w.changed.is_empty());
        let edited = copy
            .text
            .replace("fn::secret:\n      \"two\"", "fn::secret: \"2\"");
        assert!(
            back(&copy, &edited)
                .text
                .contains("fn::secret: {ciphertext: C:2}\n")
        );
    }

    #[test]
    fn undecryptable_ciphertexts_stay_as_they_are() {
        let doc = "values:\n  a: {fn::secret: {ciphertext: BROKEN}}\n  b: {fn::secret: {ciphertext: BINARY}}\n";
        let copy = copy_of(doc);
        assert_eq!(copy.text, doc);
        assert_eq!(
            copy.kept,
            [
                ("a".to_owned(), "cannot decrypt".to_owned()),
                ("b".to_owned(), "its plaintext is not UTF-8 text".to_owned())
            ]
        );
        assert_eq!(back(&copy, &copy.text).text, doc);
    }

    #[test]
    fn awkward_plaintexts_are_quoted_and_read_back() {
        for p in [
            "a\"b\\c",
            "line\nnext\n",
            "tab\there",
            "\u{85}nel\u{2028}",
            "  spaces  ",
            "#no",
            "ü€😀",
            "",
        ] {
            let doc = format!(
                "values:\n  a: {{fn::secret: {{ciphertext: {}}}}}\n",
                quote(&enc(p).unwrap())
            );
            let copy = copy_of(&doc);
            let w = back(&copy, &copy.text);
            assert_eq!(w.text, doc, "{p:?}");
        }
    }

    #[test]
    fn an_edited_copy_with_errors_is_refused() {
        let copy = copy_of(DOC);
        let e = write_back(&copy, &Source::new("t", "values: [\n"), &enc).unwrap_err();
        assert!(e.message.starts_with("t has errors; fix them first"), "{e}");
        assert!(e.span.is_some());
    }
}
