//! Changes to the model: path edits, JSON values as new nodes, and the secret rewrites.

use super::scalar::go_number;
use super::{Cipher, Doc, EditError, Entry, Item, Node, Value};
use crate::ast::AccessorKind;
use crate::path;
use crate::secrets::envelope;
use crate::syntax::Style;

/// A JSON value as a new node (block collections, keys in their order).
pub(super) fn from_json(v: &serde_json::Value) -> Node {
    use serde_json::Value as J;
    Node::new(match v {
        J::Null => Value::Raw("null".to_owned()),
        J::Bool(b) => Value::Raw(b.to_string()),
        J::Number(n) => Value::Raw(go_number(n)),
        J::String(s) => Value::Str {
            text: s.clone(),
            style: Style::Plain,
        },
        J::Array(items) => Value::Seq {
            items: items
                .iter()
                .map(|v| Item {
                    head: Vec::new(),
                    node: from_json(v),
                })
                .collect(),
            flow: false,
        },
        J::Object(map) => Value::Map {
            entries: map
                .iter()
                .map(|(k, v)| Entry::new(k, from_json(v)))
                .collect(),
            flow: false,
        },
    })
}

/// A new empty collection that `next` can step into.
fn container_for(next: &AccessorKind) -> Node {
    Node::new(match next {
        AccessorKind::Index(_) => Value::Seq {
            items: Vec::new(),
            flow: false,
        },
        AccessorKind::Name(_) | AccessorKind::Key(_) => Value::Map {
            entries: Vec::new(),
            flow: false,
        },
    })
}

/// Whether a node is an untagged null, which an edit may turn into a container.
fn is_null(n: &Node) -> bool {
    n.tag.is_none()
        && matches!(&n.value, Value::Raw(t) if matches!(t.as_str(), "" | "~" | "null" | "Null" | "NULL"))
}

fn push_accessor(out: &mut String, a: &AccessorKind) {
    match a {
        AccessorKind::Name(k) | AccessorKind::Key(k) => path::push_key(out, k),
        AccessorKind::Index(i) => {
            use std::fmt::Write as _;
            let _ = write!(out, "[{i}]");
        }
    }
}

fn kind_name(n: &Node) -> &'static str {
    match &n.value {
        Value::Raw(_) | Value::Str { .. } => "a scalar",
        Value::Seq { .. } => "an array",
        Value::Map { .. } => "an object",
    }
}

/// Replaces `old` by `new`, keeping the old node's comments.
fn replace(old: &mut Node, mut new: Node) {
    new.line = new.line.or_else(|| old.line.take());
    if new.foot.is_empty() {
        new.foot = std::mem::take(&mut old.foot);
    }
    *old = new;
}

/// Sets the value at `path` (see [`super::apply_edits`]).
pub(super) fn set(doc: &mut Doc, path: &[AccessorKind], value: Node) -> Result<(), EditError> {
    let Some(first) = path.first() else {
        match &mut doc.root {
            Some(root) => replace(root, value),
            None => doc.root = Some(value),
        }
        return Ok(());
    };
    let root = doc.root.get_or_insert_with(|| container_for(first));
    set_in(root, path, value, &mut String::new())
}

fn set_in(
    node: &mut Node,
    path: &[AccessorKind],
    value: Node,
    at: &mut String,
) -> Result<(), EditError> {
    let (accessor, rest) = path.split_first().expect("a non-empty path");
    if is_null(node) {
        let mut container = container_for(accessor);
        container.span = node.span;
        replace(node, container);
    }
    let here = if at.is_empty() {
        "the document".to_owned()
    } else {
        at.clone()
    };
    let span = node.span;
    let kind = kind_name(node);
    push_accessor(at, accessor);
    let slot = match (accessor, &mut node.value) {
        (AccessorKind::Name(k) | AccessorKind::Key(k), Value::Map { entries, .. }) => {
            let i = match entries.iter().position(|e| e.key.as_str() == Some(k)) {
                Some(i) => i,
                None => {
                    let child = rest
                        .first()
                        .map_or_else(|| Node::new(Value::Raw(String::new())), container_for);
                    entries.push(Entry::new(k, child));
                    entries.len() - 1
                }
            };
            &mut entries[i].value
        }
        (AccessorKind::Index(i), Value::Seq { items, .. }) => {
            let index = usize::try_from(*i)
                .ok()
                .filter(|&i| i <= items.len())
                .ok_or_else(|| {
                    EditError::new(
                        format!(
                            "{at}: index out of range (the array has {} elements)",
                            items.len()
                        ),
                        span,
                    )
                })?;
            if index == items.len() {
                let child = rest
                    .first()
                    .map_or_else(|| Node::new(Value::Raw(String::new())), container_for);
                items.push(Item {
                    head: Vec::new(),
                    node: child,
                });
            }
            &mut items[index].node
        }
        (AccessorKind::Index(_), _) => {
            return Err(EditError::new(
                format!("{at}: {here} is {kind}, not an array"),
                span,
            ));
        }
        _ => {
            return Err(EditError::new(
                format!("{at}: {here} is {kind}, not an object"),
                span,
            ));
        }
    };
    if rest.is_empty() {
        replace(slot, value);
        Ok(())
    } else {
        set_in(slot, rest, value, at)
    }
}

/// Deletes the value at `path`; a missing one is not an error.
pub(super) fn delete(doc: &mut Doc, path: &[AccessorKind]) {
    let Some((last, parents)) = path.split_last() else {
        doc.root = None;
        return;
    };
    let Some(mut node) = doc.root.as_mut() else {
        return;
    };
    for accessor in parents {
        let child = match (accessor, &mut node.value) {
            (AccessorKind::Name(k) | AccessorKind::Key(k), Value::Map { entries, .. }) => entries
                .iter_mut()
                .find(|e| e.key.as_str() == Some(k))
                .map(|e| &mut e.value),
            (AccessorKind::Index(i), Value::Seq { items, .. }) => usize::try_from(*i)
                .ok()
                .and_then(|i| items.get_mut(i))
                .map(|item| &mut item.node),
            _ => None,
        };
        match child {
            Some(c) => node = c,
            None => return,
        }
    }
    match (last, &mut node.value) {
        (AccessorKind::Name(k) | AccessorKind::Key(k), Value::Map { entries, .. }) => {
            if let Some(i) = entries.iter().position(|e| e.key.as_str() == Some(k)) {
                entries.remove(i);
            }
        }
        (AccessorKind::Index(i), Value::Seq { items, .. }) => {
            if let Some(i) = usize::try_from(*i).ok().filter(|&i| i < items.len()) {
                items.remove(i);
            }
        }
        _ => {}
    }
}

/// The single entry of a mapping whose only key is `key`.
fn only_entry<'a>(n: &'a mut Node, key: &str) -> Option<&'a mut Entry> {
    match &mut n.value {
        Value::Map { entries, .. }
            if entries.len() == 1 && entries[0].key.as_str() == Some(key) =>
        {
            entries.first_mut()
        }
        _ => None,
    }
}

/// Encrypts every `fn::secret: <string>` of the document.
pub(super) fn encrypt(doc: &mut Doc, encrypt: &Cipher<'_>) -> Result<(), EditError> {
    match &mut doc.root {
        Some(root) => encrypt_in(root, encrypt),
        None => Ok(()),
    }
}

fn encrypt_in(node: &mut Node, encrypt: &Cipher<'_>) -> Result<(), EditError> {
    if let Some(entry) = only_entry(node, "fn::secret")
        && let Some(plaintext) = entry.value.as_str()
    {
        let ciphertext =
            encrypt(plaintext.as_bytes()).map_err(|e| EditError::new(e, entry.value.span))?;
        let old = &mut entry.value;
        let mut sealed = Node::string(&envelope::seal(&ciphertext));
        sealed.line = old.line.take();
        sealed.foot = std::mem::take(&mut old.foot);
        let mut wrapper = Node::new(Value::Map {
            entries: vec![Entry::new("ciphertext", sealed)],
            flow: false,
        });
        wrapper.span = old.span;
        *old = wrapper;
        return Ok(());
    }
    for child in children(node) {
        encrypt_in(child, encrypt)?;
    }
    Ok(())
}

/// Decrypts every `fn::secret: {ciphertext: <envelope>}` below the top-level `values`.
pub(super) fn decrypt(doc: &mut Doc, decrypt: &Cipher<'_>) -> Result<(), EditError> {
    let Some(Node {
        value: Value::Map { entries, .. },
        ..
    }) = &mut doc.root
    else {
        return Ok(());
    };
    for e in entries
        .iter_mut()
        .filter(|e| e.key.as_str() == Some("values"))
    {
        decrypt_in(&mut e.value, decrypt)?;
    }
    Ok(())
}

fn decrypt_in(node: &mut Node, decrypt: &Cipher<'_>) -> Result<(), EditError> {
    if let Some(entry) = only_entry(node, "fn::secret") {
        let outer_head = &mut entry.head;
        let wrapper = &mut entry.value;
        let wrapper_line = wrapper.line.clone();
        if let Some(inner) = only_entry(wrapper, "ciphertext")
            && let Some(text) = inner.value.as_str()
        {
            let span = inner.value.span;
            let sealed = envelope::open(text)
                .map_err(|e| EditError::new(format!("invalid ciphertext: {e}"), span))?;
            let plain =
                decrypt(&sealed).map_err(|e| EditError::new(format!("decrypting: {e}"), span))?;
            let plain = String::from_utf8(plain).map_err(|_| {
                EditError::new("decrypting: the plaintext is not valid UTF-8", span)
            })?;
            let mut node = Node::string(&plain);
            node.line = inner.value.line.take().or(wrapper_line);
            node.foot = std::mem::take(&mut inner.value.foot);
            outer_head.append(&mut inner.head);
            node.span = wrapper.span;
            *wrapper = node;
            return Ok(());
        }
    }
    for child in children(node) {
        decrypt_in(child, decrypt)?;
    }
    Ok(())
}

/// A node's values and items (not its keys).
fn children(node: &mut Node) -> Vec<&mut Node> {
    match &mut node.value {
        Value::Map { entries, .. } => entries.iter_mut().map(|e| &mut e.value).collect(),
        Value::Seq { items, .. } => items.iter_mut().map(|i| &mut i.node).collect(),
        Value::Raw(_) | Value::Str { .. } => Vec::new(),
    }
}
