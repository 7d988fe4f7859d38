//! What keeps secrets out of output: the texts a secret can appear as, and the [`Masker`]
//! that replaces them with `[secret]`.
//!
//! Secrets come from two places. An evaluation's values flag them ([`crate::eval::Value::secret_texts`]), and
//! a document holds `fn::secret` literals ([`secret_literals`]), which must be hidden even
//! where nothing was evaluated (a document with load errors, an import), both as their
//! value and as written in the file (escapes, quotes, block scalars). Every front end feeds
//! both to one [`Masker`] and masks everything it prints; a source excerpt hides the
//! literals' spans before it is rendered (`diag::render::Sources::insert`).
//!
//! `envelope` holds the framing of `fn::secret: {ciphertext: ...}`; `age` (feature `age`)
//! the cipher of escc's secrets at rest.
//!
//! ```
//! use escc::secrets::{Masker, literal_texts};
//! use escc::Source;
//!
//! let source = Source::new("app", "values:\n  pw:\n    fn::secret: \"hunter\\u0032\"\n");
//! let masker = Masker::new(literal_texts(&source));
//! // The value, and the literal as written.
//! assert_eq!(masker.mask_str("pw=hunter2"), "pw=[secret]");
//! assert_eq!(masker.mask_str(r#"at "hunter\u0032""#), "at [secret]");
//! ```

use std::collections::BTreeSet;
use std::fmt::Write as _;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::ast::{Call, EnvironmentDecl, ExprKind, SecretArg};
use crate::{Diagnostic, Source, Span};

#[cfg(feature = "age")]
pub mod age;
pub(crate) mod envelope;

/// A `fn::secret` plaintext literal of a document.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretLiteral {
    /// Its value (escapes decoded).
    pub value: String,
    /// Where it is written: the scalar, quotes or block indicator included.
    pub span: Span,
}

impl SecretLiteral {
    /// The texts it must never be shown as: its value, and each line of it as written in
    /// `text` (the document it was read from), trimmed.
    #[must_use]
    pub fn texts(&self, text: &str) -> Vec<String> {
        let mut out: Vec<String> = text
            .get(self.span.start()..self.span.end())
            .unwrap_or_default()
            .lines()
            .map(|l| l.trim().to_owned())
            .collect();
        out.push(self.value.clone());
        out
    }
}

// The value is the secret itself.
impl std::fmt::Debug for SecretLiteral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretLiteral")
            .field("value", &"[secret]")
            .field("span", &self.span)
            .finish()
    }
}

/// Every `fn::secret` plaintext literal of a declaration, in document order.
#[must_use]
pub fn secret_literals(decl: &EnvironmentDecl) -> Vec<SecretLiteral> {
    decl.exprs()
        .filter_map(|x| match &x.kind {
            ExprKind::Builtin(b) => match &b.call {
                Call::Secret(SecretArg::Plaintext(lit)) => Some(SecretLiteral {
                    value: lit.value.clone(),
                    span: lit.span,
                }),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Every `fn::secret` plaintext literal of a document's text (read with [`crate::ast::load`]
/// when it mentions `fn::secret` at all).
#[must_use]
pub fn secret_literals_in(source: &Source) -> Vec<SecretLiteral> {
    if !source.text().contains("fn::secret") {
        return Vec::new();
    }
    crate::ast::load(source)
        .decl
        .as_ref()
        .map(secret_literals)
        .unwrap_or_default()
}

/// The texts of every `fn::secret` literal of a document, as values and as written (see
/// [`SecretLiteral::texts`]).
#[must_use]
pub fn literal_texts(source: &Source) -> Vec<String> {
    secret_literals_in(source)
        .iter()
        .flat_map(|l| l.texts(source.text()))
        .collect()
}

/// Replaces secret values with `[secret]` in text: each secret's plaintext, its
/// JSON-escaped forms (as `serde_json`, Python's `json.dumps` and Go's `encoding/json`
/// write them), its base64 forms (standard and URL-safe, padded or not), and each of its
/// lines. Secrets shorter than three bytes are not masked (masking every `a` would destroy
/// the output), as in `esc run`.
pub struct Masker {
    replace: Option<AhoCorasick>,
    overlapping: Option<AhoCorasick>,
    longest: usize,
}

/// The shortest text that is masked, in bytes.
pub const MIN_SECRET: usize = 3;

/// Every text a [`Masker`] replaces for `secret`: the secret, its [`json_forms`], its
/// base64 forms (standard and URL-safe, padded or not) and each of its lines, but none
/// shorter than [`MIN_SECRET`].
#[must_use]
pub fn forms(secret: String) -> Vec<String> {
    let mut forms = json_forms(&secret);
    let b64 = crate::go::base64::encode(secret.as_bytes());
    let url = b64.replace('+', "-").replace('/', "_");
    for b in [b64, url] {
        forms.push(b.trim_end_matches('=').to_owned());
        forms.push(b);
    }
    forms.extend(secret.lines().map(str::to_owned));
    forms.push(secret);
    forms.retain(|f| f.len() >= MIN_SECRET);
    forms
}

impl Masker {
    /// A masker for `secrets`.
    #[must_use]
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        Masker::of_forms(secrets.into_iter().flat_map(forms).collect())
    }

    /// A masker of exactly these texts (already the [`forms`] of the secrets).
    fn of_forms(patterns: BTreeSet<String>) -> Self {
        let patterns: Vec<String> = patterns.into_iter().collect();
        let longest = patterns.iter().map(String::len).max().unwrap_or(0);
        let build = |kind| {
            (!patterns.is_empty())
                .then(|| {
                    AhoCorasick::builder()
                        .match_kind(kind)
                        .build(&patterns)
                        .ok()
                })
                .flatten()
        };
        Masker {
            replace: build(MatchKind::LeftmostLongest),
            overlapping: build(MatchKind::Standard),
            longest,
        }
    }

    /// A masker for `secrets` that masks `texts` exactly as [`Masker::new`] would, built
    /// from only the forms that occur in one of them: a form that occurs nowhere can match
    /// nowhere, so leftmost-longest replacement picks the same matches. Building the
    /// automata for every form of a document's hundreds of secrets costs milliseconds on
    /// every check with a diagnostic (the language server checks on every edit); a
    /// substring test of a few short texts costs microseconds.
    #[must_use]
    pub fn for_texts(secrets: impl IntoIterator<Item = String>, texts: &[&str]) -> Self {
        // Each form is looked for in every text: past this many bytes looked through, the
        // automata of every form (built in about 1.5 ms for 3,000 forms) cost less.
        const SEARCH_BUDGET: usize = 1 << 22;
        let secrets: BTreeSet<String> = secrets.into_iter().collect();
        let all: BTreeSet<String> = secrets.into_iter().flat_map(forms).collect();
        let said: usize = texts.iter().map(|t| t.len()).sum();
        if all.len().saturating_mul(said) > SEARCH_BUDGET {
            return Masker::of_forms(all);
        }
        Masker::of_forms(
            all.into_iter()
                .filter(|form| texts.iter().any(|t| t.contains(form.as_str())))
                .collect(),
        )
    }

    /// Whether there is nothing to mask.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.replace.is_none()
    }

    /// Masks a whole text.
    #[must_use]
    pub fn mask(&self, text: &[u8]) -> Vec<u8> {
        match &self.replace {
            Some(ac) => {
                let mut out = Vec::with_capacity(text.len());
                ac.replace_all_with_bytes(text, &mut out, |_, _, dst| {
                    dst.extend_from_slice(b"[secret]");
                    true
                });
                out
            }
            None => text.to_vec(),
        }
    }

    /// Masks a string.
    #[must_use]
    pub fn mask_str(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.mask(text.as_bytes())).into_owned()
    }

    /// Masks the texts of diagnostics (summary and detail; names and paths are the
    /// document's structure, not values).
    pub fn mask_diagnostics(&self, diags: &mut [Diagnostic]) {
        if self.is_empty() {
            return;
        }
        for d in diags {
            d.summary = self.mask_str(&d.summary);
            d.detail = self.mask_str(&d.detail);
        }
    }

    /// Where a long unterminated line may be cut: as late as possible, but so that no
    /// secret could still start before the cut and end after it.
    #[must_use]
    pub fn safe_cut(&self, buf: &[u8]) -> usize {
        let mut cut = buf.len().saturating_sub(self.longest.saturating_sub(1));
        if let Some(ac) = &self.overlapping {
            // Moving the cut to the start of a crossing secret may make another one cross;
            // repeat until none does (the cut only moves left, so this ends).
            loop {
                let mut moved = false;
                for m in ac.find_overlapping_iter(buf) {
                    if m.start() < cut && m.end() > cut {
                        cut = m.start();
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        cut
    }
}

/// A text as JSON string contents (without the quotes), in the forms common encoders
/// write: escapes for `"`, `\` and control characters only (`serde_json`, JavaScript); also
/// every non-ASCII character as `\uXXXX` (Python's default); also `<`, `>`, `&`, U+2028
/// and U+2029 escaped (Go).
#[must_use]
pub fn json_forms(s: &str) -> Vec<String> {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    let plain = quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default()
        .to_owned();
    let mut ascii = String::with_capacity(plain.len());
    let mut go = String::with_capacity(plain.len());
    for c in plain.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(ascii, "\\u{u:04x}");
            }
        }
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(go, "\\u{:04x}", u32::from(c));
            }
            _ => go.push(c),
        }
    }
    vec![plain, ascii, go]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_form() {
        let m = Masker::new([
            "hunter2".to_owned(),
            "a\"b\nline two".to_owned(),
            "ab".to_owned(),
        ]);
        assert_eq!(m.mask_str("pw=hunter2!"), "pw=[secret]!");
        assert_eq!(m.mask_str("b64 aHVudGVyMg=="), "b64 [secret]");
        assert_eq!(
            m.mask_str(r#"{"k":"a\"b\nline two"}"#),
            r#"{"k":"[secret]"}"#
        );
        assert_eq!(m.mask_str("line two"), "[secret]");
        assert_eq!(m.mask_str("ab stays"), "ab stays");
        // JSON as Python (ASCII only) and Go (HTML-safe) write it; base64 URL-safe and
        // unpadded.
        let m = Masker::new(["p\u{e4}ss<\u{1F600}>?".to_owned()]);
        assert_eq!(
            m.mask_str(r"py \u00e4 p\u00e4ss<\ud83d\ude00>?"),
            r"py \u00e4 [secret]"
        );
        assert_eq!(
            m.mask_str("go p\u{e4}ss\\u003c\u{1F600}\\u003e?"),
            "go [secret]"
        );
        let b64 = crate::go::base64::encode("p\u{e4}ss<\u{1F600}>?".as_bytes());
        assert!(b64.contains('/') || b64.contains('+'), "{b64}");
        let url = b64.replace('+', "-").replace('/', "_");
        assert_eq!(m.mask_str(&format!("u={url}")), "u=[secret]");
        assert_eq!(
            m.mask_str(&format!("u={}.", url.trim_end_matches('='))),
            "u=[secret]."
        );
    }

    #[test]
    fn diagnostics_are_masked_in_summary_and_detail() {
        let mut d = Diagnostic::error(crate::Code::BuiltinFailed, "bad {hunter2");
        d.detail = "near hunter2".to_owned();
        let mut diags = [d];
        Masker::new(["{hunter2".to_owned(), "hunter2".to_owned()]).mask_diagnostics(&mut diags);
        assert_eq!(diags[0].summary, "bad [secret]");
        assert_eq!(diags[0].detail, "near [secret]");
    }

    proptest::proptest! {
        /// A masker built for the texts it masks masks them as the full one does, with
        /// overlapping secrets, secrets inside others and repeated ones (a small alphabet
        /// makes those common).
        #[test]
        fn a_masker_for_its_texts_masks_as_the_full_one(
            secrets in proptest::collection::vec(r#"[ab"\n]{1,6}"#, 0..6),
            text in r#"[ab"\n\\]{0,24}"#,
        ) {
            let full = Masker::new(secrets.clone()).mask_str(&text);
            let narrow = Masker::for_texts(secrets, &[text.as_str()]).mask_str(&text);
            proptest::prop_assert_eq!(full, narrow);
        }
    }

    /// Past its search budget, the masker for a text is the full one: the same output.
    #[test]
    fn a_masker_for_long_texts_masks_as_the_full_one() {
        let secrets: Vec<String> = (0..50).map(|i| format!("secret-{i}-value")).collect();
        let text = format!(
            "{}secret-7-value{}",
            "x".repeat(1 << 20),
            "\"secret-42-value\""
        );
        let full = Masker::new(secrets.clone()).mask_str(&text);
        assert!(
            full.ends_with("[secret]\"[secret]\""),
            "{}",
            &full[full.len() - 40..]
        );
        assert_eq!(
            Masker::for_texts(secrets, &[text.as_str()]).mask_str(&text),
            full
        );
    }

    #[test]
    fn safe_cut_never_splits_a_secret() {
        let m = Masker::new(["secret-value".to_owned()]);
        let buf = b"xxxxxxxxxxxxxxxxxxxxxxxxsecret-va";
        let cut = m.safe_cut(buf);
        assert!(cut <= buf.len() - "secret-va".len());
    }

    #[test]
    fn literals_are_found_as_values_and_as_written() {
        let text = "values:\n  a: {fn::secret: \"p\\u00e4\\tss\"}\n  b:\n    fn::secret: |\n      one\n      two\n  c: [{fn::secret: plain}]\n  d: ok\n";
        let source = Source::new("x", text);
        let mut literals = secret_literals_in(&source);
        literals.sort_by_key(|l| l.span);
        let written: Vec<&str> = literals
            .iter()
            .map(|l| &text[l.span.start()..l.span.end()])
            .collect();
        assert_eq!(
            written,
            ["\"p\\u00e4\\tss\"", "|\n      one\n      two", "plain"]
        );
        let values: Vec<&str> = literals.iter().map(|l| l.value.as_str()).collect();
        assert_eq!(values, ["p\u{e4}\tss", "one\ntwo\n", "plain"]);
        let mut texts = literal_texts(&source);
        texts.sort();
        texts.dedup();
        assert_eq!(
            texts,
            [
                "\"p\\u00e4\\tss\"",
                "one",
                "one\ntwo\n",
                "plain",
                "p\u{e4}\tss",
                "two",
                "|"
            ]
        );
        assert!(format!("{literals:?}").contains("[secret]"));
        assert!(!format!("{literals:?}").contains("plain"));
    }

    #[test]
    fn a_document_without_secret_literals_is_not_read() {
        // Broken YAML: nothing to find, and no load to pay for.
        assert!(literal_texts(&Source::new("x", "values: [")).is_empty());
    }

    #[cfg(feature = "render")]
    #[test]
    fn excerpts_hide_literals_as_written() {
        use crate::diag::render::{Sources, human};
        let text = "values:\n  a: {fn::secret: \"p\\u00e4\\tss\"}\n  b:\n    fn::secret: |\n      one-line\n      two-line\n  c: ${nope}\n";
        let source = Source::new("x", text);
        let spans = secret_literals_in(&source).iter().map(|l| l.span).collect();
        let mut sources = Sources::new();
        sources.insert("x.yaml", source, spans);
        let at = text.find("${nope}").unwrap();
        let d = crate::Diagnostic::error(crate::Code::UnknownProperty, "unknown").at(
            "x",
            Span::new(at, at + 7),
            "values.c",
        );
        let out = human(
            &[d.clone(), d.at("x", Span::new(10, 12), "values.a")],
            &sources,
            false,
        );
        for hidden in ["u00e4", "one-line", "two-line", "ss\""] {
            assert!(!out.contains(hidden), "{hidden} in {out}");
        }
        assert!(out.contains("{fn::secret: [secret]}"), "{out}");
    }
}
