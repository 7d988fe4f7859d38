//! The `sarif` format: SARIF 2.1.0, for GitHub code scanning and other tools.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use super::{Sources, place};
use crate::{Code, Diagnostic, Severity};

/// SARIF 2.1.0, one run, columns in Unicode code points.
#[must_use]
pub fn sarif(diags: &[Diagnostic], sources: &Sources) -> String {
    // One rule per code that occurs, sorted by text; results point at theirs by index.
    let codes: BTreeMap<&str, Code> = diags.iter().map(|d| (d.code.as_str(), d.code)).collect();
    let index: BTreeMap<&str, usize> = codes.keys().enumerate().map(|(i, c)| (*c, i)).collect();
    let rules: Vec<serde_json::Value> = codes
        .iter()
        .map(|(c, code)| {
            json!({
                "id": c,
                "name": c,
                "shortDescription": {"text": code.description()},
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let mut location = serde_json::Map::new();
            let mut physical = serde_json::Map::new();
            physical.insert(
                "artifactLocation".into(),
                json!({"uri": uri(&sources.file(&d.environment)), "uriBaseId": "%SRCROOT%"}),
            );
            if let Some(p) = place(d, sources) {
                physical.insert(
                    "region".into(),
                    json!({
                        "startLine": p.start.0,
                        "startColumn": p.start.1,
                        "endLine": p.end.0,
                        "endColumn": p.end.1,
                    }),
                );
            }
            location.insert(
                "physicalLocation".into(),
                serde_json::Value::Object(physical),
            );
            if !d.path.is_empty() {
                location.insert(
                    "logicalLocations".into(),
                    json!([{"fullyQualifiedName": d.path, "kind": "member"}]),
                );
            }
            json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": index[d.code.as_str()],
                "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": {"text": d.summary},
                "locations": [serde_json::Value::Object(location)],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "escc",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/pulumi/esc",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

/// A relative path as a URI reference: `/`-separated, reserved bytes percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}
