//! Normalization and comparison of golden JSON with escc's output.

use escc::{Diagnostic, Severity, Source};
use serde_json::{Value, json};

/// A diagnostic reduced to what the policy compares.
pub type DiagKey = (u64, String, String, String, Option<(String, u64, u64)>);

/// Normalizes a golden diagnostic (Go's JSON form).
pub fn golden_diag(d: &Value) -> DiagKey {
    let subject = d.get("Subject").filter(|s| !s.is_null()).map(|s| {
        (
            s["Filename"].as_str().unwrap_or("").to_owned(),
            s["Start"]["Line"].as_u64().unwrap_or(0),
            s["Start"]["Column"].as_u64().unwrap_or(0),
        )
    });
    (
        d["Severity"].as_u64().unwrap_or(0),
        d["Summary"].as_str().unwrap_or("").to_owned(),
        d["Detail"].as_str().unwrap_or("").to_owned(),
        d["Path"].as_str().unwrap_or("").to_owned(),
        subject,
    )
}

/// Normalizes one of our diagnostics, locating it in `source`.
pub fn our_diag(d: &Diagnostic, source: &Source) -> DiagKey {
    let severity = match d.severity {
        Severity::Error => 1,
        Severity::Warning => 2,
    };
    let subject = d.span.map(|s| {
        let lc = source.line_col(s.start());
        (
            d.environment.clone(),
            u64::from(lc.line),
            u64::from(lc.column),
        )
    });
    (
        severity,
        d.summary.clone(),
        d.detail.clone(),
        d.path.clone(),
        subject,
    )
}

/// The spans of string scalars inside which the reference cannot place a `${...}`: every
/// string that is not a single-line plain scalar. The reference reports problems inside
/// them at the string's start; escc at the exact place.
pub fn whole_string_nodes(source: &Source) -> Vec<escc::Span> {
    use escc::syntax::{NodeKind, Style};
    let parsed = escc::syntax::parse(source, &escc::Limits::default());
    let mut out = Vec::new();
    let mut stack: Vec<&escc::syntax::Node> = parsed.root.iter().collect();
    while let Some(n) = stack.pop() {
        match &n.kind {
            NodeKind::String(_) => {
                let text = source.slice(n.span);
                if !n.is_plain_scalar() || n.style != Style::Plain || text.contains('\n') {
                    out.push(n.span);
                }
            }
            NodeKind::Array(items) => stack.extend(items),
            NodeKind::Object(entries) => {
                for e in entries {
                    stack.push(&e.key);
                    stack.push(&e.value);
                }
            }
            _ => {}
        }
    }
    out
}

/// Our diagnostic, and the same placed where the reference places it when ours lies
/// inside a string the reference only knows as a whole.
pub fn our_diag_with_alt(
    d: &Diagnostic,
    source: &Source,
    strings: &[escc::Span],
) -> (DiagKey, Option<DiagKey>) {
    let key = our_diag(d, source);
    let alt = d.span.and_then(|s| {
        let node = strings
            .iter()
            .filter(|n| n.start < s.start && s.start <= n.end)
            .min_by_key(|n| n.len())?;
        let lc = source.line_col(node.start());
        let mut alt = key.clone();
        alt.4 = Some((
            d.environment.clone(),
            u64::from(lc.line),
            u64::from(lc.column),
        ));
        Some(alt)
    });
    (key, alt)
}

/// Like [`diff_diags`], where each of ours may match the golden list at its exact place
/// or at its string's start (see [`our_diag_with_alt`]).
pub fn diff_diags_alt(golden: &[DiagKey], ours: &[(DiagKey, Option<DiagKey>)]) -> Option<String> {
    let mut pool = golden.to_vec();
    let chosen: Vec<DiagKey> = ours
        .iter()
        .map(|(key, alt)| {
            let pick = match alt {
                Some(a) if !pool.contains(key) && pool.contains(a) => a.clone(),
                _ => key.clone(),
            };
            if let Some(i) = pool.iter().position(|g| *g == pick) {
                pool.remove(i);
            }
            pick
        })
        .collect();
    diff_diags(golden, &chosen)
}

/// Compares diagnostic lists as multisets. Where the reference gives no position (YAML
/// syntax errors, a missing root), a position of ours is a better one, not a difference.
pub fn diff_diags(golden: &[DiagKey], ours: &[DiagKey]) -> Option<String> {
    let mut golden = golden.to_vec();
    let mut ours: Vec<DiagKey> = ours.to_vec();
    for o in &mut ours {
        if o.4.is_some()
            && golden
                .iter()
                .any(|g| g.4.is_none() && (g.0, &g.1, &g.2, &g.3) == (o.0, &o.1, &o.2, &o.3))
        {
            o.4 = None;
        }
    }
    golden.sort();
    ours.sort();
    if golden == ours {
        return None;
    }
    for g in &golden {
        if !ours.contains(g) {
            return Some(format!("missing diagnostic {}", show(g)));
        }
    }
    for o in &ours {
        if !golden.contains(o) {
            return Some(format!("unexpected diagnostic {}", show(o)));
        }
    }
    Some(format!(
        "diagnostic counts differ: expected {}, got {}",
        golden.len(),
        ours.len()
    ))
}

fn show(d: &DiagKey) -> String {
    let at =
        d.4.as_ref()
            .map_or_else(|| "-".to_owned(), |(f, l, c)| format!("{f}:{l}:{c}"));
    let sev = if d.0 == 1 { "error" } else { "warning" };
    format!("{sev} at {at} path {:?}: {:?}", d.3, d.1)
}

/// The first difference between two JSON values, as a JSON-pointer-like path.
pub fn diff_json(expected: &Value, actual: &Value, at: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{at}/{k}");
                match a.get(k) {
                    Some(av) => {
                        if let Some(d) = diff_json(ev, av, &p) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{p}: missing (expected {})", brief(ev))),
                }
            }
            a.keys()
                .find(|k| !e.contains_key(*k))
                .map(|k| format!("{at}/{k}: unexpected {}", brief(&a[k])))
        }
        (Value::Array(e), Value::Array(a)) => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                if let Some(d) = diff_json(ev, av, &format!("{at}/{i}")) {
                    return Some(d);
                }
            }
            (e.len() != a.len())
                .then(|| format!("{at}: expected {} elements, got {}", e.len(), a.len()))
        }
        (Value::Number(e), Value::Number(a)) => {
            let same = e == a
                || e.as_f64()
                    .zip(a.as_f64())
                    .is_some_and(|(x, y)| x.total_cmp(&y).is_eq());
            (!same).then(|| format!("{at}: expected {e}, got {a}"))
        }
        _ => (expected != actual)
            .then(|| format!("{at}: expected {}, got {}", brief(expected), brief(actual))),
    }
}

fn brief(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!("{}...", &s[..s.floor_char_boundary(77)])
    } else {
        s
    }
}

/// A golden range reduced to its start (line, column).
pub fn golden_start(range: &Value) -> Value {
    if range.is_null() {
        return Value::Null;
    }
    let start = range.get("Start").or_else(|| range.get("begin"));
    match start {
        Some(s) => json!([
            s.get("Line").or(s.get("line")),
            s.get("Column").or(s.get("column"))
        ]),
        None => Value::Null,
    }
}
