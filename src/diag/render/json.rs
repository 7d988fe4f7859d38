//! The `json` format: one array of diagnostics, with positions.

use serde_json::json;

use super::{Sources, place};
use crate::Diagnostic;

/// JSON: an array of diagnostics.
#[must_use]
pub fn json(diags: &[Diagnostic], sources: &Sources) -> String {
    let all: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let p = place(d, sources);
            let mut o = serde_json::Map::new();
            o.insert("file".into(), json!(sources.file(&d.environment)));
            o.insert("environment".into(), json!(d.environment));
            o.insert("severity".into(), json!(d.severity));
            o.insert("code".into(), json!(d.code));
            o.insert("summary".into(), json!(d.summary));
            if !d.detail.is_empty() {
                o.insert("detail".into(), json!(d.detail));
            }
            o.insert("path".into(), json!(d.path));
            if let Some(p) = p {
                o.insert(
                    "start".into(),
                    json!({"line": p.start.0, "column": p.start.1}),
                );
                o.insert("end".into(), json!({"line": p.end.0, "column": p.end.1}));
                if let Some((s, e)) = p.span {
                    o.insert("bytes".into(), json!({"start": s, "end": e}));
                }
            }
            serde_json::Value::Object(o)
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".to_owned());
    s.push('\n');
    s
}
