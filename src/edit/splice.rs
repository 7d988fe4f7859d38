//! Byte-exact secret rewrites for files kept in git: only the bytes of the secrets that
//! change are replaced, everything else (indentation, blank lines, comments, quoting) stays
//! as written, so encrypting one secret changes one line of the diff and two branches that
//! change different secrets merge without conflict.
//!
//! This is not the reference's way ([`super::encrypt_secrets`] re-encodes the whole
//! document as go-yaml does, as `esc env edit` would); it is what `escc encrypt`,
//! `escc secret set` and `escc rekey` use. A ciphertext is written `{ciphertext: BASE64}`
//! (a flow mapping, on the secret's line). Every rewrite is read back before it is
//! returned: the new text must load without errors and hold the new ciphertexts where
//! they were put, else nothing is returned.

use std::fmt;
use std::fmt::Write as _;

use super::EditError;
use crate::ast::{AccessorKind, Call, ExprKind, SecretArg};
use crate::source::Span;
use crate::syntax::{Entry, Node, NodeKind, Style};
use crate::{Diagnostic, Source};

/// A `fn::secret` of a document's `values`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretSite {
    /// Where it is, as `escc get` takes paths (`db.password`, `list[0]`).
    pub path: String,
    /// What it holds.
    pub kind: SiteKind,
    /// The span of its argument as written: the plaintext scalar, or the whole
    /// `{ciphertext: ...}` mapping (flow or block).
    pub arg: Span,
}

/// What a `fn::secret` holds.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SiteKind {
    /// A plaintext string: its value and the span of its scalar.
    Plaintext(String, Span),
    /// `{ciphertext: TEXT}`: the text and the span of its scalar.
    Ciphertext(String, Span),
}

// A plaintext is the secret itself.
impl fmt::Debug for SecretSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            SiteKind::Plaintext(..) => "plaintext",
            SiteKind::Ciphertext(..) => "ciphertext",
        };
        write!(f, "SecretSite({} {kind})", self.path)
    }
}

/// A rewritten document and the paths of the secrets that changed, in document order.
#[derive(Debug)]
#[non_exhaustive]
pub struct Rewrite {
    /// The new text (the old one when nothing changed).
    pub text: String,
    /// The paths of the secrets rewritten.
    pub changed: Vec<String>,
}

/// Refuses a document with load errors: writing into a document escc cannot read could
/// lose what the user wrote.
fn loaded(source: &Source) -> Result<crate::Loaded, EditError> {
    let loaded = crate::load(source);
    if let Some(d) = loaded.diags.iter().find(|d| d.is_error()) {
        return Err(EditError::new(
            format!(
                "{} has errors; fix them first ({})",
                source.name(),
                first_line(d)
            ),
            d.span,
        ));
    }
    Ok(loaded)
}

fn first_line(d: &Diagnostic) -> String {
    d.summary.lines().next().unwrap_or_default().to_owned()
}

/// Every `fn::secret` of the document's `values`, in document order, also those inside
/// other builtins' arguments (their path goes through the builtin's name).
///
/// # Errors
/// The document has load errors.
pub fn secret_sites(source: &Source) -> Result<Vec<SecretSite>, EditError> {
    let loaded = loaded(source)?;
    let mut out = Vec::new();
    walk_builtins(&loaded, &mut |path, b| match &b.call {
        Call::Secret(SecretArg::Plaintext(lit)) => {
            out.push(SecretSite {
                path: path.to_owned(),
                kind: SiteKind::Plaintext(lit.value.clone(), exact(source.text(), lit.span)),
                arg: exact(source.text(), b.arg.span),
            });
            false
        }
        Call::Secret(SecretArg::Ciphertext(lit)) => {
            out.push(SecretSite {
                path: path.to_owned(),
                kind: SiteKind::Ciphertext(lit.value.clone(), exact(source.text(), lit.span)),
                arg: exact(source.text(), b.arg.span),
            });
            false
        }
        Call::Secret(_) => false,
        _ => true,
    });
    Ok(out)
}

/// A `fn::rotate` call of a document's `values`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RotateSite {
    /// The document path of the mapping that holds the call (`values.db`), as the
    /// evaluator names rotations.
    pub path: String,
    /// The builtin as written: `fn::rotate::postgres`, or `fn::rotate` (long form).
    pub function: String,
    /// The rotator's name, when the document names it.
    pub rotator: Option<String>,
}

impl RotateSite {
    /// Where the rotation's new state is written: `values.db["fn::rotate::postgres"].state`.
    #[must_use]
    pub fn state_path(&self) -> String {
        let mut p = crate::path::join_key(&self.path, &self.function);
        p.push_str(".state");
        p
    }
}

/// Every `fn::rotate` call of the document's `values`, in document order, also those
/// inside other builtins' arguments.
///
/// # Errors
/// The document has load errors.
pub fn rotate_sites(source: &Source) -> Result<Vec<RotateSite>, EditError> {
    let loaded = loaded(source)?;
    let mut out = Vec::new();
    walk_builtins(&loaded, &mut |path, b| {
        if let Call::Rotate { provider, .. } = &b.call {
            let mut doc_path = String::from("values");
            if path.starts_with('[') {
                doc_path.push_str(path);
            } else {
                doc_path.push('.');
                doc_path.push_str(path);
            }
            out.push(RotateSite {
                path: doc_path,
                function: b.name.clone(),
                rotator: provider.as_ref().map(|p| p.value.clone()),
            });
        }
        !matches!(b.call, Call::Secret(_))
    });
    Ok(out)
}

/// Calls `visit` with each builtin of the document's `values`, in document order, with the
/// path of the mapping holding it (`db.password`, `list[0]`); it descends into the
/// builtin's argument (the path going through the builtin's name) when `visit` says so.
fn walk_builtins(
    loaded: &crate::Loaded,
    visit: &mut dyn FnMut(&str, &crate::ast::Builtin) -> bool,
) {
    let Some(values) = loaded.decl.as_ref().and_then(|d| d.values.as_ref()) else {
        return;
    };
    let mut stack: Vec<(String, &crate::ast::Expr)> = values
        .iter()
        .rev()
        .map(|e| {
            let mut p = String::new();
            crate::path::push_key(&mut p, &e.key.value);
            (p, &e.value)
        })
        .collect();
    while let Some((path, x)) = stack.pop() {
        match &x.kind {
            ExprKind::Object(entries) => {
                for e in entries.iter().rev() {
                    if let Some(k) = &e.key {
                        let mut p = path.clone();
                        crate::path::push_key(&mut p, k);
                        stack.push((p, &e.value));
                    }
                }
            }
            ExprKind::List(items) => {
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push((format!("{path}[{i}]"), item));
                }
            }
            ExprKind::Builtin(b) if visit(&path, b) => {
                let mut p = path.clone();
                crate::path::push_key(&mut p, &b.name);
                stack.push((p, &b.arg));
            }
            _ => {}
        }
    }
}

/// The span of a node without what the parser's span may take after a quoted scalar or a
/// flow collection (a line comment): a quoted scalar ends at its closing quote, a flow
/// collection at its closing bracket.
pub(super) fn exact(text: &str, span: Span) -> Span {
    let bytes = text.as_bytes();
    let start = span.start();
    let end = match bytes.get(start) {
        Some(b'"' | b'\'' | b'{' | b'[') => closing(bytes, start),
        _ => None,
    };
    match end {
        Some(end) if end <= span.end() => Span::new(start, end),
        _ => span,
    }
}

/// The end of the quoted scalar or flow collection that starts at `start` (just past its
/// closing quote or bracket). Inside a collection, quoted scalars and comments are
/// skipped; a quote inside a plain scalar (`it's`) starts nothing.
fn closing(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    // The last byte that was not a space: a quote opens a scalar only after an indicator.
    let mut prev = b'{';
    loop {
        let b = *bytes.get(i)?;
        match b {
            b'"' | b'\'' if matches!(prev, b'{' | b'[' | b',' | b':' | b'?' | b'-') => {
                i += 1;
                loop {
                    match (*bytes.get(i)?, bytes.get(i + 1)) {
                        (b'\\', _) if b == b'"' => i += 2,
                        (b'\'', Some(b'\'')) if b == b'\'' => i += 2,
                        (q, _) if q == b => break,
                        _ => i += 1,
                    }
                }
            }
            b'#' if matches!(
                bytes.get(i.wrapping_sub(1)),
                Some(b' ' | b'\t' | b'\n' | b'\r')
            ) =>
            {
                while !matches!(bytes.get(i), Some(b'\n') | None) {
                    i += 1;
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            prev = b;
        }
        i += 1;
        if depth == 0 {
            return Some(i);
        }
    }
}

/// Replaces each span of `text` by its new text (spans must not overlap).
pub(super) fn splice(text: &str, mut replacements: Vec<(Span, String)>) -> String {
    replacements.sort_by_key(|(s, _)| s.start());
    let mut out =
        String::with_capacity(text.len() + replacements.iter().map(|r| r.1.len()).sum::<usize>());
    let mut at = 0;
    for (span, new) in replacements {
        out.push_str(&text[at..span.start()]);
        out.push_str(&new);
        // A block scalar's span takes its final line break; the flow text that replaces
        // it must end its line too.
        if text[span.start()..span.end()].ends_with('\n') && !new.ends_with('\n') {
            out.push('\n');
        }
        at = span.end();
    }
    out.push_str(&text[at..]);
    out
}

/// The flow text of a ciphertext secret's argument.
pub(super) fn ciphertext_arg(ciphertext: &str) -> String {
    format!("{{ciphertext: {ciphertext}}}")
}

/// Encrypts the plaintext secrets that `select` picks: each `fn::secret: <string>` becomes
/// `fn::secret: {ciphertext: <what encrypt returns>}` in place. Ciphertexts are left as
/// they are, so running it again changes nothing.
///
/// # Errors
/// The document has load errors, or `encrypt` fails (its message, at the secret).
pub fn encrypt_plaintexts(
    source: &Source,
    select: &dyn Fn(&SecretSite) -> bool,
    encrypt: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Rewrite, EditError> {
    let mut replacements = Vec::new();
    let mut changed = Vec::new();
    for site in secret_sites(source)? {
        if let SiteKind::Plaintext(value, span) = &site.kind
            && select(&site)
        {
            let ciphertext = encrypt(value)
                .map_err(|e| EditError::new(format!("{}: {e}", site.path), Some(*span)))?;
            replacements.push((*span, ciphertext_arg(&ciphertext)));
            changed.push(site.path);
        }
    }
    finish(source, replacements, changed)
}

/// Re-encrypts the ciphertexts that `select` picks: `recrypt` gets each ciphertext's text
/// and returns the new one, or `None` to leave it as it is.
///
/// # Errors
/// The document has load errors, or `recrypt` fails (its message, at the secret).
pub fn recrypt_ciphertexts(
    source: &Source,
    select: &dyn Fn(&SecretSite) -> bool,
    recrypt: &dyn Fn(&str) -> Result<Option<String>, String>,
) -> Result<Rewrite, EditError> {
    let mut replacements = Vec::new();
    let mut changed = Vec::new();
    for site in secret_sites(source)? {
        if let SiteKind::Ciphertext(text, span) = &site.kind
            && select(&site)
        {
            let new = recrypt(text)
                .map_err(|e| EditError::new(format!("{}: {e}", site.path), Some(*span)))?;
            if let Some(new) = new {
                replacements.push((*span, new));
                changed.push(site.path);
            }
        }
    }
    finish(source, replacements, changed)
}

/// Applies the replacements and reads the result back: it must load without errors, with
/// as many secrets as before and none of the changed ones left in plaintext.
fn finish(
    source: &Source,
    replacements: Vec<(Span, String)>,
    changed: Vec<String>,
) -> Result<Rewrite, EditError> {
    if replacements.is_empty() {
        return Ok(Rewrite {
            text: source.text().to_owned(),
            changed,
        });
    }
    let text = splice(source.text(), replacements);
    let before = secret_sites(source)?.len();
    let after = secret_sites(&Source::new(source.name(), text.as_str()))
        .map_err(|e| read_back(source, &e.message))?;
    let still_plain = after
        .iter()
        .any(|s| matches!(s.kind, SiteKind::Plaintext(..)) && changed.contains(&s.path));
    if after.len() != before || still_plain {
        return Err(read_back(source, "its secrets moved"));
    }
    Ok(Rewrite { text, changed })
}

pub(super) fn read_back(source: &Source, why: &str) -> EditError {
    EditError::new(
        format!(
            "{}: the rewritten document does not read back ({why}); nothing was written. This \
             is a bug in escc",
            source.name()
        ),
        None,
    )
}

/// The document with each secret's argument (see [`SecretSite::arg`]) replaced by what
/// `marker` returns for it: how a diff shows a document without its secrets.
///
/// # Errors
/// The document has load errors.
pub fn mask_secrets(
    source: &Source,
    marker: &dyn Fn(&SecretSite) -> String,
) -> Result<String, EditError> {
    let sites = secret_sites(source)?;
    Ok(splice(
        source.text(),
        sites.iter().map(|s| (s.arg, marker(s))).collect(),
    ))
}

/// Sets the secret at `path` (below `values`) to `{ciphertext: CIPHERTEXT}`, in place:
///
/// - a `fn::secret` there keeps its place: a ciphertext's text is replaced, a plaintext
///   becomes `{ciphertext: ...}`;
/// - any other value there is replaced by `{fn::secret: {ciphertext: ...}}`;
/// - a missing key is added at the end of its mapping (with the indentation of its
///   entries; missing mappings on the way are added too).
///
/// # Errors
/// The document has load errors, `values` or a value on the way is not a mapping (or a
/// list, for an index), an index is out of range, or the path goes through a secret.
pub fn set_secret(
    source: &Source,
    path: &[AccessorKind],
    ciphertext: &str,
) -> Result<String, EditError> {
    if path.is_empty() {
        return Err(EditError::new("the path is empty", None));
    }
    let text = source.text();
    let mut keys = vec![AccessorKind::Name("values".to_owned())];
    keys.extend(path.iter().cloned());
    let secret = format!("{{fn::secret: {}}}", ciphertext_arg(ciphertext));
    // A document with nothing in it yet (empty, comments, `null`) is not an environment
    // (a load error), but it is a place to start one.
    let parsed = crate::load(source).syntax;
    let blank = !parsed.has_errors()
        && parsed.root.as_ref().is_none_or(|root| {
            root.kind == NodeKind::Null
                || (root.kind == NodeKind::Object(Vec::new()) && root.style != Style::Flow)
        });
    let new_text = if blank {
        append_block(text, &keys, &secret)?
    } else {
        let loaded = loaded(source)?;
        let Some(root) = &loaded.syntax.root else {
            unreachable!("a document without a root is blank");
        };
        let (span, new) = place(text, root, &keys, ciphertext, &secret)?;
        splice(text, vec![(span, new)])
    };
    // Read back: the path must now hold this ciphertext.
    let shown = shown_path(path);
    let after = Source::new(source.name(), new_text.as_str());
    let sites = secret_sites(&after).map_err(|e| read_back(source, &e.message))?;
    let ok = sites.iter().any(|s| {
        s.path == shown && matches!(&s.kind, SiteKind::Ciphertext(t, _) if t == ciphertext)
    });
    if !ok {
        return Err(read_back(source, "the secret is not where it was put"));
    }
    Ok(new_text)
}

fn shown_path(path: &[AccessorKind]) -> String {
    let mut out = String::new();
    for a in path {
        match a {
            AccessorKind::Name(k) | AccessorKind::Key(k) => crate::path::push_key(&mut out, k),
            AccessorKind::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

/// The single entry of a mapping whose only key is `key`.
fn only_entry<'a>(n: &'a Node, key: &str) -> Option<&'a Node> {
    match &n.kind {
        NodeKind::Object(entries) if entries.len() == 1 && entries[0].key.as_str() == Some(key) => {
            Some(&entries[0].value)
        }
        _ => None,
    }
}

/// Where and what to write so that `keys` (from the root) hold the secret.
fn place(
    text: &str,
    root: &Node,
    keys: &[AccessorKind],
    ciphertext: &str,
    secret: &str,
) -> Result<(Span, String), EditError> {
    let mut node = root;
    let mut at = String::new();
    for (i, accessor) in keys.iter().enumerate() {
        let here = match i {
            0 => "the document".to_owned(),
            1 => "values".to_owned(),
            _ => at.clone(),
        };
        if only_entry(node, "fn::secret").is_some() && i > 0 {
            return Err(EditError::new(
                format!("{here} is a secret, not an object"),
                Some(node.span),
            ));
        }
        let next = match (accessor, &node.kind) {
            (AccessorKind::Name(k) | AccessorKind::Key(k), NodeKind::Object(entries)) => {
                match entries.iter().rev().find(|e| e.key.as_str() == Some(k)) {
                    Some(e) => &e.value,
                    None => return insert(text, node, &keys[i..], secret),
                }
            }
            (AccessorKind::Name(_) | AccessorKind::Key(_), NodeKind::Null) => {
                // `key: ~` is replaced; an empty value (`key:`) sits right after the colon.
                let pad = if node.span.is_empty() { " " } else { "" };
                return Ok((
                    node.span,
                    format!("{pad}{{{}}}", flow_nest(&keys[i..], secret)?),
                ));
            }
            (AccessorKind::Index(n), NodeKind::Array(items)) => {
                match usize::try_from(*n).ok().and_then(|n| items.get(n)) {
                    Some(item) => item,
                    None => {
                        return Err(EditError::new(
                            format!(
                                "{here}: index {n} is out of range (the list has {} elements)",
                                items.len()
                            ),
                            Some(node.span),
                        ));
                    }
                }
            }
            (AccessorKind::Index(_), _) => {
                return Err(EditError::new(
                    format!("{here} is not a list"),
                    Some(node.span),
                ));
            }
            _ => {
                return Err(EditError::new(
                    format!("{here} is not an object"),
                    Some(node.span),
                ));
            }
        };
        push(&mut at, accessor, i);
        node = next;
    }
    if let Some(arg) = only_entry(node, "fn::secret") {
        if let Some(inner) = only_entry(arg, "ciphertext")
            && inner.as_str().is_some()
        {
            return Ok((exact(text, inner.span), ciphertext.to_owned()));
        }
        if !arg.span.is_empty() {
            return Ok((exact(text, arg.span), ciphertext_arg(ciphertext)));
        }
    }
    if node.span.is_empty() {
        // An empty value (`key:` and nothing): nothing to replace, write after the colon.
        return Ok((node.span, format!(" {secret}")));
    }
    Ok((exact(text, node.span), secret.to_owned()))
}

fn push(at: &mut String, accessor: &AccessorKind, i: usize) {
    // `values` is not part of the paths users write.
    if i == 0 {
        return;
    }
    match accessor {
        AccessorKind::Name(k) | AccessorKind::Key(k) => crate::path::push_key(at, k),
        AccessorKind::Index(n) => {
            let _ = write!(at, "[{n}]");
        }
    }
}

/// A key as YAML: plain when that reads back as the same string, else double-quoted.
fn yaml_key(k: &str) -> String {
    let plain = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        && !matches!(
            k.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        k.to_owned()
    } else {
        serde_json::Value::String(k.to_owned()).to_string()
    }
}

fn key_of(a: &AccessorKind) -> Result<&str, EditError> {
    match a {
        AccessorKind::Name(k) | AccessorKind::Key(k) => Ok(k),
        AccessorKind::Index(i) => Err(EditError::new(
            format!("cannot add element {i} to a list that is not there; add the list first"),
            None,
        )),
    }
}

/// `k1: {k2: SECRET}` for the keys still missing.
fn flow_nest(keys: &[AccessorKind], secret: &str) -> Result<String, EditError> {
    let mut out = secret.to_owned();
    for (i, k) in keys.iter().enumerate().rev() {
        let k = yaml_key(key_of(k)?);
        out = if i == 0 {
            format!("{k}: {out}")
        } else {
            format!("{{{k}: {out}}}")
        };
    }
    Ok(out)
}

/// Adds the missing `keys` to mapping `node`.
fn insert(
    text: &str,
    node: &Node,
    keys: &[AccessorKind],
    secret: &str,
) -> Result<(Span, String), EditError> {
    let NodeKind::Object(entries) = &node.kind else {
        unreachable!("only mappings get keys");
    };
    if node.style == Style::Flow || entries.is_empty() {
        // `{a: 1}` → `{a: 1, k: SECRET}`; `{}` → `{k: SECRET}`.
        let close = node.span.end().saturating_sub(1);
        let sep = if entries.is_empty() { "" } else { ", " };
        return Ok((
            Span::new(close, close),
            format!("{sep}{}", flow_nest(keys, secret)?),
        ));
    }
    let first = &entries[0];
    let line_start = text[..first.key.span.start()]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let indent = text[line_start..first.key.span.start()].chars().count();
    let last = entries.last().map_or(node.span.end(), |e| {
        e.value.span.end().max(e.key.span.end())
    });
    // After the line that ends the last entry (its line comment stays with it).
    let at = if text[..last].ends_with('\n') {
        last
    } else {
        text[last..].find('\n').map_or(text.len(), |i| last + i + 1)
    };
    let mut new = String::new();
    if at == text.len() && !text.ends_with('\n') {
        new.push('\n');
    }
    new.push_str(&block_lines(keys, secret, indent)?);
    Ok((Span::new(at, at), new))
}

/// The missing keys as block lines at `indent`, two more spaces per level.
fn block_lines(keys: &[AccessorKind], secret: &str, indent: usize) -> Result<String, EditError> {
    let mut out = String::new();
    for (i, k) in keys.iter().enumerate() {
        let pad = " ".repeat(indent + 2 * i);
        let k = yaml_key(key_of(k)?);
        if i + 1 == keys.len() {
            let _ = writeln!(out, "{pad}{k}: {secret}");
        } else {
            let _ = writeln!(out, "{pad}{k}:");
        }
    }
    Ok(out)
}

/// Appends the keys to a document that has no root mapping (empty, or only comments).
fn append_block(text: &str, keys: &[AccessorKind], secret: &str) -> Result<String, EditError> {
    let mut out = text.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    // A document that is `null` or `~` has nothing worth keeping but its comments.
    let mut kept = String::new();
    for l in out.lines() {
        if !matches!(l.trim(), "~" | "null" | "---") {
            kept.push_str(l);
            kept.push('\n');
        }
    }
    Ok(kept + &block_lines(keys, secret, 0)?)
}

/// Sets the value at `path` (from the document's root, e.g.
/// `values.db["fn::rotate::postgres"].state`) to `value`, in place: only the bytes of the
/// old value change (or a new entry is added at the end of its mapping), so the rest of
/// the document keeps its layout, comments and quoting. This is how `escc rotate` writes a
/// new state.
///
/// The value is written in the style of what it replaces: in a block mapping, an object
/// is written as a block (at the indentation of the mapping it replaces, else two spaces
/// deeper than its key), and scalars, lists and empty objects in flow style on their key's
/// line; in a flow mapping, everything in flow style. An object that is exactly
/// `{"fn::secret": {"ciphertext": TEXT}}` is written `{fn::secret: {ciphertext: TEXT}}`, on
/// one line, as the other secret rewrites write it. A line comment after a replaced scalar
/// stays on its key's line.
///
/// The result is read back: it must load without errors, hold `value` at `path`, and be
/// unchanged everywhere else, else nothing is returned.
///
/// # Errors
/// The document has load errors, the path (but its last key) is not in the document, the
/// last key's parent is not a mapping, or the result does not read back.
pub fn set_value(
    source: &Source,
    path: &[AccessorKind],
    value: &serde_json::Value,
) -> Result<String, EditError> {
    let loaded = loaded(source)?;
    let text = source.text();
    let Some(root) = &loaded.syntax.root else {
        return Err(EditError::new("the document is empty", None));
    };
    let Some((last, parents)) = path.split_last() else {
        return Err(EditError::new("the path is empty", None));
    };
    let shown = shown_path(path);
    let mut node = root;
    for (i, accessor) in parents.iter().enumerate() {
        let here = || shown_path(&path[..=i]);
        node = match (accessor, &node.kind) {
            (AccessorKind::Name(k) | AccessorKind::Key(k), NodeKind::Object(entries)) => entries
                .iter()
                .rev()
                .find(|e| e.key.as_str() == Some(k))
                .map(|e| &e.value)
                .ok_or_else(|| {
                    EditError::new(format!("{} is not in the document", here()), None)
                })?,
            (AccessorKind::Index(n), NodeKind::Array(items)) => usize::try_from(*n)
                .ok()
                .and_then(|n| items.get(n))
                .ok_or_else(|| {
                    EditError::new(format!("{} is not in the document", here()), None)
                })?,
            _ => {
                return Err(EditError::new(
                    format!("{} is not in the document", here()),
                    Some(node.span),
                ));
            }
        };
    }
    let key = key_of(last)?;
    let NodeKind::Object(entries) = &node.kind else {
        return Err(EditError::new(
            format!("cannot set {shown}: its parent is not a mapping"),
            Some(node.span),
        ));
    };
    let existing = entries.iter().rev().find(|e| e.key.as_str() == Some(key));
    let (span, new) = if node.style == Style::Flow {
        let flow = flow_value(value);
        match existing {
            Some(e) if !e.value.span.is_empty() => (exact(text, e.value.span), flow),
            Some(e) => (e.value.span, format!(" {flow}")),
            None => {
                let close = node.span.end().saturating_sub(1);
                let sep = if entries.is_empty() { "" } else { ", " };
                (
                    Span::new(close, close),
                    format!("{sep}{}: {flow}", yaml_key(key)),
                )
            }
        }
    } else {
        match existing {
            Some(e) => replace_block_value(text, e, value),
            None => {
                let Some(first) = entries.first() else {
                    return Err(EditError::new(
                        format!("cannot set {shown}: its parent is an empty mapping"),
                        Some(node.span),
                    ));
                };
                let indent = column(text, first.key.span.start());
                let last_end = entries.last().map_or(node.span.end(), |e| {
                    e.value.span.end().max(e.key.span.end())
                });
                // After the line that ends the last entry (its line comment stays with it).
                let at = if text[..last_end].ends_with('\n') {
                    last_end
                } else {
                    text[last_end..]
                        .find('\n')
                        .map_or(text.len(), |i| last_end + i + 1)
                };
                let mut new = String::new();
                if at == text.len() && !text.ends_with('\n') {
                    new.push('\n');
                }
                pad_to(&mut new, indent);
                new.push_str(&yaml_key(key));
                new.push(':');
                write_after_key(&mut new, value, indent + 2);
                new.push('\n');
                (Span::new(at, at), new)
            }
        }
    };
    let new_text = splice(text, vec![(span, new)]);
    read_back_value(source, &loaded, &new_text, path, value)?;
    Ok(new_text)
}

/// The replacement of an existing entry's value in a block mapping.
fn replace_block_value(text: &str, e: &Entry, value: &serde_json::Value) -> (Span, String) {
    let v = &e.value;
    let block_object = matches!(&v.kind, NodeKind::Object(es) if !es.is_empty())
        && v.style != Style::Flow
        && v.tag.is_none()
        && text[..v.span.start()]
            .rsplit('\n')
            .next()
            .is_some_and(|before| before.trim().is_empty());
    if block_object && is_block_object(value) {
        // In place of the old block, at its indentation.
        let indent = column(text, v.span.start());
        let mut new = String::new();
        write_block(&mut new, value, indent);
        new.drain(..indent);
        new.pop();
        return (v.span, new);
    }
    // From the key's colon to the end of the old value, with the line comment after it
    // kept on the key's line.
    let colon = text[e.key.span.end()..]
        .find(':')
        .map_or(e.key.span.end(), |i| e.key.span.end() + i + 1);
    let old_end = if v.span.is_empty() {
        colon.max(v.span.end())
    } else {
        exact(text, v.span).end()
    };
    let line_rest_end = text[old_end..]
        .find('\n')
        .map_or(text.len(), |i| old_end + i);
    let rest = &text[old_end..line_rest_end];
    // A block scalar's span takes its line break: what follows is another line.
    let (end, comment) = if !text[..old_end].ends_with('\n') && rest.trim_start().starts_with('#') {
        (line_rest_end, format!(" {}", rest.trim()))
    } else {
        (old_end, String::new())
    };
    let indent = column(text, e.key.span.start()) + 2;
    let mut new = String::new();
    if is_block_object(value) {
        new.push_str(&comment);
        new.push('\n');
        write_block(&mut new, value, indent);
        new.pop();
    } else {
        new.push(' ');
        new.push_str(&flow_value(value));
        new.push_str(&comment);
    }
    (Span::new(colon, end), new)
}

/// The column (in characters) of byte `at` on its line.
fn column(text: &str, at: usize) -> usize {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..at].chars().count()
}

fn pad_to(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Whether `value` is written as a block: a non-empty object that is not a secret.
fn is_block_object(value: &serde_json::Value) -> bool {
    matches!(value, serde_json::Value::Object(m) if !m.is_empty()) && !is_secret_object(value)
}

/// `{"fn::secret": {"ciphertext": TEXT}}`.
fn is_secret_object(value: &serde_json::Value) -> bool {
    let Some(m) = value.as_object() else {
        return false;
    };
    m.len() == 1
        && m.get("fn::secret")
            .and_then(serde_json::Value::as_object)
            .is_some_and(|inner| {
                inner.len() == 1
                    && inner
                        .get("ciphertext")
                        .is_some_and(serde_json::Value::is_string)
            })
}

/// What follows `key:` for `value`: a block on the next lines at `indent`, or a flow value.
fn write_after_key(out: &mut String, value: &serde_json::Value, indent: usize) {
    if is_block_object(value) {
        out.push('\n');
        write_block(out, value, indent);
        out.pop();
    } else {
        out.push(' ');
        out.push_str(&flow_value(value));
    }
}

/// The entries of block object `value`, one line each (nested objects as blocks), each
/// line at `indent` and ending in a line break.
fn write_block(out: &mut String, value: &serde_json::Value, indent: usize) {
    let Some(m) = value.as_object() else {
        return;
    };
    for (k, v) in m {
        pad_to(out, indent);
        out.push_str(&yaml_key(k));
        out.push(':');
        write_after_key(out, v, indent + 2);
        out.push('\n');
    }
}

/// `value` in flow style, on one line.
fn flow_value(value: &serde_json::Value) -> String {
    use super::scalar::{Place, choose, double_quoted, go_number, single_quoted};
    match value {
        serde_json::Value::Null => "null".to_owned(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => go_number(n),
        serde_json::Value::String(s) => match choose(s, Style::Plain, false, Place::Flow).1 {
            Style::Plain => s.clone(),
            Style::SingleQuoted => single_quoted(s, 0),
            _ => double_quoted(s),
        },
        serde_json::Value::Array(items) => format!(
            "[{}]",
            items.iter().map(flow_value).collect::<Vec<_>>().join(", ")
        ),
        serde_json::Value::Object(m) => {
            if is_secret_object(value) {
                let text = m["fn::secret"]["ciphertext"].as_str().unwrap_or_default();
                return format!("{{fn::secret: {}}}", ciphertext_arg(text));
            }
            let entries: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", yaml_key(k), flow_value(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// Reads `new_text` back: it must load without errors, and its data must be the old
/// document's with `value` at `path`.
fn read_back_value(
    source: &Source,
    before: &crate::Loaded,
    new_text: &str,
    path: &[AccessorKind],
    value: &serde_json::Value,
) -> Result<(), EditError> {
    let after = Source::new(source.name(), new_text);
    let loaded = crate::load(&after);
    if let Some(d) = loaded.diags.iter().find(|d| d.is_error()) {
        return Err(read_back(source, &first_line(d)));
    }
    let data = |l: &crate::Loaded| l.syntax.root.as_ref().map(node_json);
    let mut expected = data(before).unwrap_or(serde_json::Value::Null);
    let mut slot = &mut expected;
    for a in path {
        slot = match (a, slot) {
            (AccessorKind::Name(k) | AccessorKind::Key(k), serde_json::Value::Object(m)) => {
                m.entry(k.clone()).or_insert(serde_json::Value::Null)
            }
            (AccessorKind::Index(i), serde_json::Value::Array(items)) => {
                match usize::try_from(*i).ok().and_then(|i| items.get_mut(i)) {
                    Some(item) => item,
                    None => return Err(read_back(source, "the path moved")),
                }
            }
            _ => return Err(read_back(source, "the path moved")),
        };
    }
    *slot = value.clone();
    if !same_data(&expected, &data(&loaded).unwrap_or(serde_json::Value::Null)) {
        return Err(read_back(
            source,
            "it does not hold the value where it was put",
        ));
    }
    Ok(())
}

/// A syntax node's data as JSON (the last of duplicate keys wins, as in the language).
fn node_json(n: &Node) -> serde_json::Value {
    match &n.kind {
        NodeKind::Null | NodeKind::Alias => serde_json::Value::Null,
        NodeKind::Bool(b) => serde_json::Value::Bool(*b),
        NodeKind::Number(t) => {
            serde_json::from_str(t).unwrap_or_else(|_| serde_json::Value::String(t.to_string()))
        }
        NodeKind::String(s) => serde_json::Value::String(s.to_string()),
        NodeKind::Array(items) => items.iter().map(node_json).collect(),
        NodeKind::Object(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|e| {
                    let key = e
                        .key
                        .as_str()
                        .map_or_else(|| node_json(&e.key).to_string(), str::to_owned);
                    (key, node_json(&e.value))
                })
                .collect(),
        ),
    }
}

/// JSON equality, numbers compared by value (`1.0` is `1`).
fn same_data(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_data(a, b))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_data(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::parse_property_path;

    #[expect(clippy::unnecessary_wraps, reason = "the shape of a cipher")]
    fn rot(s: &str) -> Result<String, String> {
        Ok(format!("C{}", s.len()))
    }

    fn enc(doc: &str) -> Rewrite {
        encrypt_plaintexts(&Source::new("t", doc), &|_| true, &rot).unwrap()
    }

    #[test]
    fn only_the_secrets_bytes_change() {
        let doc = "# top\n\nvalues:\n    db:\n        # the password\n        password:\n            fn::secret: hunter2 # old\n\n        user: admin\n    list:\n      - {fn::secret: 'a b'}\n      - fn::secret: |\n          two\n          lines\n      - x\n";
        let r = enc(doc);
        assert_eq!(r.changed, ["db.password", "list[0]", "list[1]"]);
        assert_eq!(
            r.text,
            "# top\n\nvalues:\n    db:\n        # the password\n        password:\n            fn::secret: {ciphertext: C7} # old\n\n        user: admin\n    list:\n      - {fn::secret: {ciphertext: C3}}\n      - fn::secret: {ciphertext: C10}\n      - x\n"
        );
        // Idempotent: ciphertexts are left alone.
        let again = enc(&r.text);
        assert!(again.changed.is_empty());
        assert_eq!(again.text, r.text);
    }

    #[test]
    fn quoted_scalars_keep_their_line_comments() {
        let r =
            enc("values:\n  a: {fn::secret: \"x\\\"y\"} # a\n  b:\n    fn::secret: 'it''s' # b\n");
        assert_eq!(
            r.text,
            "values:\n  a: {fn::secret: {ciphertext: C3}} # a\n  b:\n    fn::secret: {ciphertext: C4} # b\n"
        );
        assert_eq!(
            set(
                "values:\n  a:\n    fn::secret: {ciphertext: \"OLD\"} # c\n  b: 'x' # d\n",
                "b"
            )
            .unwrap(),
            "values:\n  a:\n    fn::secret: {ciphertext: \"OLD\"} # c\n  b: {fn::secret: {ciphertext: NEW}} # d\n"
        );
    }

    #[test]
    fn arguments_are_found_without_their_line_comments() {
        let doc = "values:\n  a: {fn::secret: {ciphertext: \"x}\"}} # c}\n  b:\n    fn::secret:\n      ciphertext: y # d\n  c: {fn::secret: {ciphertext: it's}} # '}\n  d: [1, {k: '}'}] # e\n";
        let source = Source::new("t", doc);
        let args: Vec<&str> = secret_sites(&source)
            .unwrap()
            .iter()
            .map(|s| &doc[s.arg.start()..s.arg.end()])
            .collect();
        assert_eq!(
            args,
            [
                "{ciphertext: \"x}\"}",
                "ciphertext: y",
                "{ciphertext: it's}"
            ]
        );
        assert_eq!(
            exact(doc, Span::new(doc.find("[1").unwrap(), doc.len())),
            Span::new(doc.find("[1").unwrap(), doc.find("] # e").unwrap() + 1)
        );
    }

    #[test]
    fn secrets_inside_builtins_are_found() {
        let r = enc("values:\n  j:\n    fn::toJSON:\n      a: {fn::secret: x}\n");
        assert_eq!(r.changed, [r#"j["fn::toJSON"].a"#]);
    }

    #[test]
    fn a_document_with_errors_is_refused() {
        let e = encrypt_plaintexts(&Source::new("t", "values: [\n"), &|_| true, &rot).unwrap_err();
        assert!(e.message.starts_with("t has errors; fix them first"), "{e}");
    }

    fn set(doc: &str, path: &str) -> Result<String, EditError> {
        set_secret(
            &Source::new("t", doc),
            &parse_property_path(path).unwrap(),
            "NEW",
        )
    }

    #[test]
    fn set_replaces_in_place() {
        assert_eq!(
            set(
                "values:\n  a:\n    fn::secret: {ciphertext: OLD} # c\n  b: 1\n",
                "a"
            )
            .unwrap(),
            "values:\n  a:\n    fn::secret: {ciphertext: NEW} # c\n  b: 1\n"
        );
        assert_eq!(
            set(
                "values:\n  a:\n    fn::secret:\n      ciphertext: OLD\n",
                "a"
            )
            .unwrap(),
            "values:\n  a:\n    fn::secret:\n      ciphertext: NEW\n"
        );
        assert_eq!(
            set("values:\n  a: {fn::secret: plain}\n", "a").unwrap(),
            "values:\n  a: {fn::secret: {ciphertext: NEW}}\n"
        );
        assert_eq!(
            set("values:\n  a: plain # c\n", "a").unwrap(),
            "values:\n  a: {fn::secret: {ciphertext: NEW}} # c\n"
        );
        assert_eq!(
            set("values:\n  l: [x, y]\n", "l[1]").unwrap(),
            "values:\n  l: [x, {fn::secret: {ciphertext: NEW}}]\n"
        );
    }

    #[test]
    fn set_adds_missing_keys() {
        assert_eq!(
            set("values:\n    a: 1 # one\n\n# end\n", "b").unwrap(),
            "values:\n    a: 1 # one\n    b: {fn::secret: {ciphertext: NEW}}\n\n# end\n"
        );
        assert_eq!(
            set("values:\n  a: 1", "db.pw").unwrap(),
            "values:\n  a: 1\n  db:\n    pw: {fn::secret: {ciphertext: NEW}}\n"
        );
        assert_eq!(
            set("values:\n  db: {host: h}\n", "db.pw").unwrap(),
            "values:\n  db: {host: h, pw: {fn::secret: {ciphertext: NEW}}}\n"
        );
        assert_eq!(
            set("values: {}\n", r#"["a b"]"#).unwrap_or_else(|e| e.message),
            "values: {\"a b\": {fn::secret: {ciphertext: NEW}}}\n"
        );
        assert_eq!(
            set("", "pw").unwrap(),
            "values:\n  pw: {fn::secret: {ciphertext: NEW}}\n"
        );
        assert_eq!(
            set("# c\n", "pw").unwrap(),
            "# c\nvalues:\n  pw: {fn::secret: {ciphertext: NEW}}\n"
        );
        assert_eq!(
            set("imports: [a]\n", "pw").unwrap(),
            "imports: [a]\nvalues:\n  pw: {fn::secret: {ciphertext: NEW}}\n"
        );
        assert_eq!(
            set("values:\n  a:\n  b: 1\n", "a.x").unwrap(),
            "values:\n  a: {x: {fn::secret: {ciphertext: NEW}}}\n  b: 1\n"
        );
        assert_eq!(
            set("values:\n  a: ~\n  b:\n", "b").unwrap(),
            "values:\n  a: ~\n  b: {fn::secret: {ciphertext: NEW}}\n"
        );
    }

    fn put(doc: &str, path: &str, value: &serde_json::Value) -> String {
        set_value(
            &Source::new("t", doc),
            &parse_property_path(path).unwrap(),
            value,
        )
        .unwrap_or_else(|e| panic!("{doc:?} {path}: {e}"))
    }

    fn state() -> serde_json::Value {
        serde_json::json!({
            "current": {"password": {"fn::secret": {"ciphertext": "C2"}}, "username": "user2"},
            "previous": {"password": {"fn::secret": {"ciphertext": "C1"}}, "username": "user1"},
        })
    }

    #[test]
    fn set_value_adds_a_missing_state_as_a_block() {
        let doc = "# top\nvalues:\n  db:\n    fn::rotate::postgres:\n      inputs: {a: 1} # in\n  other: x\n";
        assert_eq!(
            put(doc, "values.db[\"fn::rotate::postgres\"].state", &state()),
            "# top\nvalues:\n  db:\n    fn::rotate::postgres:\n      inputs: {a: 1} # in\n      state:\n        current:\n          password: {fn::secret: {ciphertext: C2}}\n          username: user2\n        previous:\n          password: {fn::secret: {ciphertext: C1}}\n          username: user1\n  other: x\n"
        );
    }

    #[test]
    fn set_value_replaces_a_block_in_place() {
        let doc = "values:\n    db:\n        fn::rotate::mysql:\n            inputs: {}\n            state:\n                # the users\n                current: {username: user1, password: {fn::secret: {ciphertext: OLD}}}\n            # after\n    x: 1\n";
        assert_eq!(
            put(doc, "values.db[\"fn::rotate::mysql\"].state", &state()),
            "values:\n    db:\n        fn::rotate::mysql:\n            inputs: {}\n            state:\n                # the users\n                current:\n                  password: {fn::secret: {ciphertext: C2}}\n                  username: user2\n                previous:\n                  password: {fn::secret: {ciphertext: C1}}\n                  username: user1\n            # after\n    x: 1\n"
        );
    }

    #[test]
    fn set_value_replaces_scalars_and_flow_values() {
        let small =
            serde_json::json!({"l": [1, "a b"], "n": 2, "s": "it's: a \"test\"", "t": "true"});
        assert_eq!(
            put(
                "values:\n  r:\n    fn::rotate::x:\n      inputs: {}\n      state: {} # keep\n",
                "values.r[\"fn::rotate::x\"].state",
                &small
            ),
            "values:\n  r:\n    fn::rotate::x:\n      inputs: {}\n      state: # keep\n        l: [1, a b]\n        \"n\": 2\n        s: 'it''s: a \"test\"'\n        t: 'true'\n"
        );
        assert_eq!(
            put(
                "values:\n  r:\n    fn::rotate::x:\n      inputs: {}\n      state:\n        a: 1\n  z: 1\n",
                "values.r[\"fn::rotate::x\"].state",
                &serde_json::json!({})
            ),
            "values:\n  r:\n    fn::rotate::x:\n      inputs: {}\n      state: {}\n  z: 1\n"
        );
        assert_eq!(
            put(
                "values:\n  r: {fn::rotate::x: {inputs: {}}}\n",
                "values.r[\"fn::rotate::x\"].state",
                &state()
            ),
            "values:\n  r: {fn::rotate::x: {inputs: {}, state: {current: {password: {fn::secret: {ciphertext: C2}}, username: user2}, previous: {password: {fn::secret: {ciphertext: C1}}, username: user1}}}}\n"
        );
        assert_eq!(
            put(
                "values:\n  r: {fn::rotate::x: {inputs: {}, state: {a: 1}}}\n",
                "values.r[\"fn::rotate::x\"].state",
                &serde_json::json!({"a": 2})
            ),
            "values:\n  r: {fn::rotate::x: {inputs: {}, state: {a: 2}}}\n"
        );
        // Nested in another builtin's list, with a block scalar before it.
        assert_eq!(
            put(
                "values:\n  j:\n    fn::toJSON:\n      - fn::rotate::x:\n          inputs:\n            t: |\n              text\n  k: 1\n",
                "values.j[\"fn::toJSON\"][0][\"fn::rotate::x\"].state",
                &serde_json::json!({"a": "b"})
            ),
            "values:\n  j:\n    fn::toJSON:\n      - fn::rotate::x:\n          inputs:\n            t: |\n              text\n          state:\n            a: b\n  k: 1\n"
        );
    }

    #[test]
    fn set_value_refuses_what_it_cannot_do() {
        let e = |doc: &str, path: &str| {
            set_value(
                &Source::new("t", doc),
                &parse_property_path(path).unwrap(),
                &serde_json::json!({}),
            )
            .unwrap_err()
            .message
        };
        assert_eq!(
            e("values:\n  a: 1\n", "values.b.state"),
            "values.b is not in the document"
        );
        assert_eq!(
            e("values:\n  a: 1\n", "values.a.state"),
            "cannot set values.a.state: its parent is not a mapping"
        );
        assert!(e("values: [\n", "values.a").starts_with("t has errors"));
    }

    #[test]
    fn rotate_sites_are_found_where_the_evaluator_names_them() {
        let doc = "values:\n  db:\n    fn::rotate::postgres: {inputs: {}}\n  j:\n    fn::toJSON:\n      - fn::rotate:\n          provider: mysql\n          inputs: {}\n";
        let sites = rotate_sites(&Source::new("t", doc)).unwrap();
        let shown: Vec<(String, String, Option<String>)> = sites
            .iter()
            .map(|s| (s.path.clone(), s.state_path(), s.rotator.clone()))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "values.db".to_owned(),
                    "values.db[\"fn::rotate::postgres\"].state".to_owned(),
                    Some("postgres".to_owned())
                ),
                (
                    "values.j[\"fn::toJSON\"][0]".to_owned(),
                    "values.j[\"fn::toJSON\"][0][\"fn::rotate\"].state".to_owned(),
                    Some("mysql".to_owned())
                ),
            ]
        );
    }

    #[test]
    fn set_refuses_what_it_cannot_do() {
        let e = |doc: &str, path: &str| set(doc, path).unwrap_err().message;
        assert_eq!(e("values:\n  a: 1\n", "a.b"), "a is not an object");
        assert_eq!(
            e("values:\n  a: {fn::secret: x}\n", "a.b"),
            "a is a secret, not an object"
        );
        assert_eq!(
            e("values:\n  l: [1]\n", "l[3]"),
            "l: index 3 is out of range (the list has 1 elements)"
        );
        assert_eq!(
            e("values: [1]\n", "a"),
            "t has errors; fix them first (values must be an object)"
        );
        assert_eq!(e("values:\n  a: 1\n", "a[0]"), "a is not a list");
    }
}
