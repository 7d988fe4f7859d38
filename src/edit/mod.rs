//! Layout- and comment-preserving YAML writing: path edits (rotation results written back
//! into a document) and the encryption or decryption of every `fn::secret` of a document.
//!
//! A document is read into a small model that keeps what the reference's YAML library
//! (go-yaml v3) keeps when it re-encodes a document: every node's style (plain, quoted,
//! block scalar, flow collection), explicit tags, and comments: *head* comments (the lines
//! before a mapping entry or sequence item), *line* comments (after a value on its line)
//! and *foot* comments (after a block collection's last entry). saphyr-parser reports no
//! comments, so they are recovered from the text between the syntax tree's exact node
//! spans. The model is then changed and written out whole, as go-yaml's emitter writes it:
//!
//! - indentation is normalised: [`apply_edits`] indents by 4 (go-yaml's default), the
//!   secret rewrites by 2; sequences inside mappings are indented, a mapping inside a
//!   sequence item starts on the item's line;
//! - blank lines are dropped, except after a comment block that opens the document and is
//!   separated from the first entry by a blank line;
//! - flow collections are written on one line (`[1, 2, 3]`, `{a: b}`), and a collection
//!   added inside a flow collection is written in flow style too; empty collections are
//!   `[]` and `{}`;
//! - a string keeps its quoting, but one written plain that would read back as a number or
//!   boolean is single-quoted, one that would read back as null or a timestamp is
//!   double-quoted, and a plain string that carried a custom tag (`!tag hello`) is written
//!   `!!str hello`; collection tags are kept; anchors are dropped;
//! - strings that cannot be written in their style fall back as go-yaml's emitter falls
//!   back (plain → single-quoted → double-quoted with escapes, `\U00010000` for characters
//!   outside the Basic Multilingual Plane; block scalars → double-quoted).
//!
//! Documents with an alias (`*a`), or with more than one YAML document, are refused rather
//! than written with a loss.
//!
//! Deliberate differences from the reference: a document whose first line ends with CRLF
//! is written with CRLF line ends (the reference always writes LF); strings holding U+2028
//! or U+2029 are double-quoted with `\L`/`\P` (go-yaml takes them for line breaks, YAML 1.2
//! readers do not); in a flow collection, a string with a ` - ` or a final ` -` is quoted
//! (saphyr rejects it plain); in a folded scalar, no blank line is added before a
//! more-indented line (go-yaml adds one, which reads back as one more line break); a
//! null root with nothing else to write (`&a`, its anchor dropped) is written `null` (an
//! empty text reads back as an empty mapping). Everything written reads back as the same
//! data.
//!
//! ```
//! use escc::ast::parse_property_path;
//! use escc::edit::apply_edits;
//! use serde_json::json;
//!
//! let doc = "values:\n  # the password\n  password: old # rotated\n";
//! let edits = [(parse_property_path("values.password").unwrap(), Some(json!("new")))];
//! assert_eq!(
//!     apply_edits(doc, &edits).unwrap(),
//!     "values:\n    # the password\n    password: new # rotated\n"
//! );
//! ```

mod copy;
mod emit;
mod ops;
mod read;
mod scalar;
mod splice;
mod states;

pub use copy::{Decrypt, DecryptedCopy, WrittenBack, decrypted_copy, write_back};
pub use splice::{
    Rewrite, RotateSite, SecretSite, SiteKind, encrypt_plaintexts, mask_secrets,
    recrypt_ciphertexts, rotate_sites, secret_sites, set_secret, set_value,
};
pub use states::{sealed, select_sites, state_accessors, with_states};

use std::fmt;

use crate::ast::AccessorKind;
use crate::source::Span;
use crate::syntax::Style;

/// Indentation of [`apply_edits`]'s output (go-yaml's default encoder).
const EDIT_INDENT: usize = 4;
/// Indentation of the secret rewrites' output.
const CRYPT_INDENT: usize = 2;

/// A cipher for the secret rewrites: the bytes to encrypt or decrypt in, the result or an
/// error message out.
pub type Cipher<'a> = dyn Fn(&[u8]) -> Result<Vec<u8>, String> + 'a;

/// Why a document could not be rewritten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditError {
    /// What went wrong.
    pub message: String,
    /// Where in the source, when one place is to blame.
    pub span: Option<Span>,
}

impl EditError {
    fn new(message: impl Into<String>, span: Option<Span>) -> Self {
        EditError {
            message: message.into(),
            span,
        }
    }
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EditError {}

/// Applies `edits` in order and returns the rewritten document.
///
/// Each edit is a property path (as [`crate::ast::parse_property_path`] parses it, e.g.
/// `values.creds["fn::rotate"].state`) and the value to put there, or `None` to delete it:
///
/// - setting an existing key or element replaces its value (the old value's line comment
///   stays); setting a missing key appends it to its mapping; setting index `len` of a
///   sequence appends to it; missing containers on the way are created (a sequence when
///   the next accessor is an index, else a mapping), and so is the document's root, and a
///   `null` on the way is replaced by a new container;
/// - deleting removes the key or element (with its head comments); deleting what is not
///   there does nothing.
///
/// Values are written as new YAML nodes: block collections, strings plain unless they need
/// quotes, numbers as Go prints them.
///
/// # Errors
/// The document does not decode (the first YAML error, or an alias), or a path goes
/// through a value of the wrong kind or past the end of a sequence.
pub fn apply_edits(
    source: &str,
    edits: &[(Vec<AccessorKind>, Option<serde_json::Value>)],
) -> Result<String, EditError> {
    let mut doc = read::read(source)?;
    for (path, value) in edits {
        match value {
            Some(v) => ops::set(&mut doc, path, ops::from_json(v))?,
            None => ops::delete(&mut doc, path),
        }
    }
    Ok(finish(
        source,
        emit::emit(&doc, EDIT_INDENT, source.len() + source.len() / 8),
    ))
}

/// Encrypts every plaintext secret of the document: each single-key mapping
/// `fn::secret: <string>`, anywhere in the document, becomes
/// `fn::secret: {ciphertext: <envelope>}`, where the envelope is the base64 framing of
/// what `encrypt` returns for the string's bytes. The plaintext's comments move to the
/// ciphertext. Anything else (`fn::secret` beside other keys, or of a non-string) is left
/// alone.
///
/// # Errors
/// The document does not decode, or `encrypt` fails (its message is returned).
pub fn encrypt_secrets(source: &str, encrypt: &Cipher<'_>) -> Result<String, EditError> {
    let mut doc = read::read(source)?;
    ops::encrypt(&mut doc, encrypt)?;
    Ok(finish(
        source,
        emit::emit(&doc, CRYPT_INDENT, source.len() + source.len() / 8),
    ))
}

/// Decrypts every ciphertext secret below the top-level `values` key: each
/// `fn::secret: {ciphertext: <envelope>}` becomes `fn::secret: <plaintext>`, the reverse
/// of [`encrypt_secrets`]. Secrets elsewhere, and malformed ones, are left alone.
///
/// # Errors
/// The document does not decode; an envelope is invalid (`invalid ciphertext: ...`);
/// `decrypt` fails (`decrypting: ...`); a plaintext is not UTF-8.
pub fn decrypt_secrets(source: &str, decrypt: &Cipher<'_>) -> Result<String, EditError> {
    let mut doc = read::read(source)?;
    ops::decrypt(&mut doc, decrypt)?;
    Ok(finish(
        source,
        emit::emit(&doc, CRYPT_INDENT, source.len() + source.len() / 8),
    ))
}

/// Restores CRLF line ends when the source used them.
fn finish(source: &str, out: String) -> String {
    let crlf = source
        .find('\n')
        .is_some_and(|i| source[..i].ends_with('\r'));
    if crlf { out.replace('\n', "\r\n") } else { out }
}

/// A document: its root and the comments that belong to no node.
#[derive(Clone, Debug, Default)]
struct Doc {
    /// Comment lines that open the document, written before a blank line.
    head: Vec<String>,
    /// Whether a blank line follows `head`.
    head_gap: bool,
    root: Option<Node>,
    /// Comment lines after everything, when the root is not a block collection.
    foot: Vec<String>,
}

/// A node and its comments.
#[derive(Clone, Debug)]
struct Node {
    value: Value,
    /// The explicit tag, short form (`!!int`, `!custom`).
    tag: Option<String>,
    /// The comment after the node on its line (for a block collection: after its key).
    line: Option<String>,
    /// Comment lines after a block collection's last entry.
    foot: Vec<String>,
    /// Where the node was in the source (none for new nodes).
    span: Option<Span>,
}

#[derive(Clone, Debug)]
enum Value {
    /// A scalar that is not a string (null, boolean, number), written exactly as in the
    /// source (or as new), without its tag.
    Raw(String),
    /// A string, decoded, with the style it was written in (`Plain` for new strings).
    Str {
        text: String,
        style: Style,
    },
    Seq {
        items: Vec<Item>,
        flow: bool,
    },
    Map {
        entries: Vec<Entry>,
        flow: bool,
    },
}

#[derive(Clone, Debug)]
struct Item {
    /// Comment lines before the item.
    head: Vec<String>,
    node: Node,
}

#[derive(Clone, Debug)]
struct Entry {
    /// Comment lines before the entry.
    head: Vec<String>,
    key: Node,
    value: Node,
}

impl Node {
    fn new(value: Value) -> Self {
        Node {
            value,
            tag: None,
            line: None,
            foot: Vec::new(),
            span: None,
        }
    }

    fn string(text: &str) -> Self {
        Node::new(Value::Str {
            text: text.to_owned(),
            style: Style::Plain,
        })
    }

    fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str { text, .. } => Some(text),
            _ => None,
        }
    }
}

impl Entry {
    fn new(key: &str, value: Node) -> Self {
        Entry {
            head: Vec::new(),
            key: Node::string(key),
            value,
        }
    }
}
