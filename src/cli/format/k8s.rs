//! The `k8s-secret` and `k8s-configmap` targets of `escc export`: a `v1` `Secret` (values
//! base64 in `data`, byte for byte) and a `v1` `ConfigMap` (values as strings in `data`), as
//! YAML manifests for `kubectl apply -f`. Keys follow Kubernetes' rule for data keys;
//! values are always double-quoted, so no value reads back as another type.

use std::fmt::Write as _;

use super::targets::Entry;
use super::yaml::{double_quoted, yaml_string};
use crate::go::base64;

/// Kubernetes' limit on the data of one Secret or `ConfigMap` (`MaxSecretSize`, 1 MiB).
pub(crate) const MAX_DATA: usize = 1 << 20;

/// The name and namespace of the manifests.
pub(crate) struct Meta<'a> {
    pub(crate) name: &'a str,
    pub(crate) namespace: Option<&'a str>,
}

/// Whether `s` is a DNS-1123 label: at most 63 of `a-z`, `0-9` and `-`, starting and ending
/// with a letter or digit (a namespace's rule).
pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Whether `s` is a DNS-1123 subdomain: at most 253 characters of labels joined by dots (a
/// Secret's and a `ConfigMap`'s name rule).
pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// The default name of an environment's manifests: its name in lower case, `/` and `_`
/// as `-` (`app/dev` is `app-dev`); `None` if that is no valid name.
pub(crate) fn default_name(environment: &str) -> Option<String> {
    let name: String = environment
        .chars()
        .map(|c| match c {
            '/' | '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    is_dns_subdomain(&name).then_some(name)
}

/// Fails unless the entry's key can be a data key: `-`, `_`, `.` and ASCII letters and
/// digits, at most 253, not `.` or `..`.
fn check_key(e: &Entry, kind: &str) -> Result<(), String> {
    let ok = !e.key.is_empty()
        && e.key.len() <= 253
        && e.key != "."
        && e.key != ".."
        && e.key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{}: {:?} cannot be a key of a {kind} (Kubernetes allows letters, digits, -, _ and ., at most 253)",
            e.origin, e.key
        ))
    }
}

/// A manifest of `kind` with `data` entries (key, YAML scalar).
fn manifest(kind: &str, meta: &Meta, extra: &str, data: &[(String, String)]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {}\n",
        double_quoted(meta.name)
    );
    if let Some(ns) = meta.namespace {
        let _ = writeln!(out, "  namespace: {}", double_quoted(ns));
    }
    out.push_str("  labels:\n    app.kubernetes.io/managed-by: escc\n");
    out.push_str(extra);
    if data.is_empty() {
        out.push_str("data: {}\n");
    } else {
        out.push_str("data:\n");
        for (k, v) in data {
            let _ = writeln!(out, "  {}: {v}", yaml_string(k, 2, true));
        }
    }
    out
}

/// Fails when the data is over Kubernetes' limit.
fn check_size(entries: &[&Entry], kind: &str) -> Result<(), String> {
    let size: usize = entries.iter().map(|e| e.key.len() + e.text.len()).sum();
    if size > MAX_DATA {
        return Err(format!(
            "the {kind}'s data is {size} bytes, over Kubernetes' limit of {MAX_DATA} (1 MiB)"
        ));
    }
    Ok(())
}

/// A `Secret` (`type: Opaque`) holding `entries`, each value base64 in `data`: any bytes,
/// NUL included.
pub(crate) fn secret(meta: &Meta, entries: &[&Entry]) -> Result<String, String> {
    for e in entries {
        check_key(e, "Secret")?;
    }
    check_size(entries, "Secret")?;
    let data: Vec<(String, String)> = entries
        .iter()
        .map(|e| {
            (
                e.key.clone(),
                double_quoted(&base64::encode(e.text.as_bytes())),
            )
        })
        .collect();
    Ok(manifest("Secret", meta, "type: Opaque\n", &data))
}

/// A `ConfigMap` holding `entries` as strings in `data` (control characters escaped in
/// YAML's double quotes). It never holds a secret: the caller leaves them out.
pub(crate) fn configmap(meta: &Meta, entries: &[&Entry]) -> Result<String, String> {
    for e in entries {
        debug_assert!(!e.secret, "a ConfigMap never holds a secret");
        check_key(e, "ConfigMap")?;
    }
    check_size(entries, "ConfigMap")?;
    let data: Vec<(String, String)> = entries
        .iter()
        .map(|e| (e.key.clone(), double_quoted(&e.text)))
        .collect();
    Ok(manifest("ConfigMap", meta, "", &data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(default_name("App/dev_1").as_deref(), Some("app-dev-1"));
        assert_eq!(default_name("app/x-"), None);
        assert!(is_dns_subdomain("a.b-c"));
        assert!(!is_dns_subdomain("a..b"));
        assert!(!is_dns_label("a.b"));
    }
}
