//! The corpus's parts: how each kind of case is read, run and compared.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;

use escc::ast::{
    AccessorKind, ArgPart, Builtin, Call, EnvironmentDecl, Expr, ExprKind, PropertyAccess,
    SecretArg,
};
use escc::eval::{
    Evaluation, Host, HostError, Mode, Options, Provider, Rotator, evaluate, evaluate_with,
};
use escc::syntax::{Node, NodeKind};
use escc::testing::TestHost;
use escc::{Source, load};
use serde_json::{Map, Value, json};

use crate::Outcome;
use crate::compare::{
    diff_diags, diff_diags_alt, diff_json, golden_diag, golden_start, our_diag, our_diag_with_alt,
    whole_string_nodes,
};

/// `(part, case)` → reason.
pub type Deviations = BTreeMap<(&'static str, String), String>;

/// Reads `part/case: reason` lines; `#` starts a comment.
pub fn read_deviations(path: &Path) -> Result<Deviations, String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut out = Deviations::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, reason) = line
            .split_once(':')
            .ok_or_else(|| format!("line {}: expected `part/case: reason`", n + 1))?;
        let (part, case) = id
            .split_once('/')
            .ok_or_else(|| format!("line {}: expected `part/case`", n + 1))?;
        let part = crate::PARTS
            .iter()
            .find(|p| **p == part.trim())
            .ok_or_else(|| format!("line {}: unknown part {part:?}", n + 1))?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(format!("line {}: a deviation needs a reason", n + 1));
        }
        out.insert((part, case.trim().to_owned()), reason.to_owned());
    }
    Ok(out)
}

fn case_dirs(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut cases: Vec<_> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    cases.sort();
    cases
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn outcome(part: &'static str, case: &str, failure: Option<String>) -> Outcome {
    Outcome {
        part,
        case: case.to_owned(),
        failure,
    }
}

// ---------------------------------------------------------------------------------------
// parse/

/// `parse/NAME/`: the declaration and the diagnostics of the parse stage.
pub fn parse_cases(dir: &Path) -> Vec<Outcome> {
    case_dirs(dir)
        .into_iter()
        .map(|(name, path)| {
            let failure = run_parse_case(&name, &path).err();
            outcome("parse", &name, failure)
        })
        .collect()
}

fn run_parse_case(name: &str, dir: &Path) -> Result<(), String> {
    let expected = read_json(&dir.join("expected.json"))?;
    let text = fs::read_to_string(dir.join("env.yaml")).map_err(|e| e.to_string())?;
    let source = Source::new(name, text);
    let loaded = load(&source);
    let golden: Vec<_> = expected["diags"]
        .as_array()
        .map(|d| d.iter().map(golden_diag).collect())
        .unwrap_or_default();
    let ours: Vec<_> = loaded.diags.iter().map(|d| our_diag(d, &source)).collect();
    if let Some(d) = diff_diags(&golden, &ours) {
        return Err(d);
    }
    let decl = loaded
        .decl
        .as_ref()
        .map_or(Value::Null, |d| decl_json(d, &source));
    let want = normalize_decl(&expected["decl"]);
    match diff_json(&want, &decl, "decl") {
        Some(d) => Err(d),
        None => Ok(()),
    }
}

/// Reduces the golden declaration's accessor ranges to their starts.
fn normalize_decl(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = if k == "AccessorRange" {
                        golden_start(v)
                    } else {
                        normalize_decl(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalize_decl).collect()),
        other => other.clone(),
    }
}

/// The declaration in the reference's Go-struct JSON form, accessor ranges as starts.
fn decl_json(decl: &EnvironmentDecl, source: &Source) -> Value {
    let w = DeclWriter { source };
    json!({
        "Description": decl.description.as_ref().map_or(Value::Null, |d| json!({"Value": d.value})),
        "Imports": decl.imports.as_ref().map_or(Value::Null, |imports| json!({
            "Elements": imports.iter().map(|i| json!({
                "Environment": {"Value": i.environment.value},
                "Meta": i.merge.map_or(Value::Null, |(m, _)| json!({"Merge": {"Value": m}})),
            })).collect::<Vec<_>>()
        })),
        "Values": decl.values.as_ref().map_or(Value::Null, |values| json!({
            "Entries": values.iter().map(|e| json!({
                "Key": {"Value": e.key.value},
                "Value": w.expr(&e.value),
            })).collect::<Vec<_>>()
        })),
    })
}

struct DeclWriter<'a> {
    source: &'a Source,
}

impl DeclWriter<'_> {
    fn expr(&self, e: &Expr) -> Value {
        match &e.kind {
            ExprKind::Null => json!({}),
            ExprKind::Bool(b) => json!({"Value": b}),
            ExprKind::Number(n) => json!({"Value": number(n)}),
            ExprKind::String(s) => json!({"Value": s.as_ref()}),
            ExprKind::Symbol(a) => json!({"Property": self.access(a)}),
            ExprKind::Interpolate(parts) => json!({"Parts": parts.iter().map(|p| json!({
                "Text": p.text,
                "Value": p.access.as_ref().map_or(Value::Null, |a| self.access(a)),
            })).collect::<Vec<_>>()}),
            ExprKind::List(items) => {
                json!({"Elements": items.iter().map(|i| self.expr(i)).collect::<Vec<_>>()})
            }
            ExprKind::Object(entries) => json!({"Entries": entries.iter().map(|en| json!({
                "Key": en.key.as_ref().map_or(Value::Null, |k| json!({"Value": k})),
                "Value": self.expr(&en.value),
            })).collect::<Vec<_>>()}),
            ExprKind::Builtin(b) => self.builtin(b),
            // The AST may grow (`#[non_exhaustive]`): a new kind needs its reference form.
            other => panic!("an expression kind the conformance writer does not know: {other:?}"),
        }
    }

    fn access(&self, a: &PropertyAccess) -> Value {
        let accessors: Vec<Value> = a
            .accessors
            .iter()
            .map(|acc| {
                let lc = self.source.line_col(acc.span.start());
                let range = json!([lc.line, lc.column]);
                match &acc.kind {
                    AccessorKind::Name(n) => json!({"Name": n, "AccessorRange": range}),
                    AccessorKind::Key(k) => json!({"Index": k, "AccessorRange": range}),
                    AccessorKind::Index(i) => json!({"Index": i, "AccessorRange": range}),
                }
            })
            .collect();
        json!({ "Accessors": accessors })
    }

    fn part(&self, b: &Builtin, part: Option<ArgPart>) -> Value {
        part.and_then(|p| b.operand(p))
            .map_or(Value::Null, |e| self.expr(e))
    }

    fn builtin(&self, b: &Builtin) -> Value {
        let pair = |first: &str, second: &str| match b.pair() {
            Some((x, y)) => json!({first: self.expr(x), second: self.expr(y)}),
            None => json!({first: null, second: null}),
        };
        match &b.call {
            Call::Open { provider, inputs } => json!({
                "Provider": provider.as_ref().map_or(Value::Null, |p| json!({"Value": p.value})),
                "Inputs": self.part(b, *inputs),
            }),
            Call::Rotate {
                provider,
                inputs,
                state,
            } => json!({
                "Provider": provider.as_ref().map_or(Value::Null, |p| json!({"Value": p.value})),
                "Inputs": self.part(b, *inputs),
                "State": self.part(b, *state),
            }),
            Call::Join { .. } => pair("Delimiter", "Values"),
            Call::Split { .. } => pair("Delimiter", "String"),
            Call::Concat { valid } => {
                json!({"Arrays": if *valid { self.expr(&b.arg) } else { Value::Null }})
            }
            Call::Secret(s) => match s {
                SecretArg::Plaintext(p) => {
                    json!({"Plaintext": {"Value": p.value}, "Ciphertext": null})
                }
                SecretArg::Ciphertext(c) => {
                    json!({"Plaintext": null, "Ciphertext": {"Value": c.value}})
                }
                SecretArg::Invalid => json!({"Plaintext": {"Value": ""}, "Ciphertext": null}),
            },
            Call::ToJson | Call::ToString | Call::ToBase64 | Call::Final => {
                json!({"Value": self.expr(&b.arg)})
            }
            Call::FromJson | Call::FromBase64 => json!({"String": self.expr(&b.arg)}),
            Call::Validate { schema, value } => json!({
                "Schema": self.part(b, *schema),
                "Value": self.part(b, *value),
            }),
            other => panic!("a builtin the conformance writer does not know: {other:?}"),
        }
    }
}

fn number(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

// ---------------------------------------------------------------------------------------
// yaml/

/// `yaml/NAME/`: decoded values with their start positions, and decoding diagnostics.
pub fn yaml_cases(dir: &Path) -> Vec<Outcome> {
    case_dirs(dir)
        .into_iter()
        .map(|(name, path)| {
            let failure = run_yaml_case(&name, &path).err();
            outcome("yaml", &name, failure)
        })
        .collect()
}

fn run_yaml_case(name: &str, dir: &Path) -> Result<(), String> {
    let expected = read_json(&dir.join("decoded.json"))?;
    let text = fs::read_to_string(dir.join("doc.yaml")).map_err(|e| e.to_string())?;
    let source = Source::new(name, text);
    let parsed = escc::syntax::parse(&source, &escc::Limits::default());
    let golden: Vec<_> = expected["diags"]
        .as_array()
        .map(|d| d.iter().map(golden_diag).collect())
        .unwrap_or_default();
    let ours: Vec<_> = parsed.diags.iter().map(|d| our_diag(d, &source)).collect();
    if let Some(d) = diff_diags(&golden, &ours) {
        return Err(d);
    }
    let want = normalize_syntax(&expected["syntax"]);
    let got = parsed
        .root
        .as_ref()
        .map_or_else(|| json!({}), |n| syntax_json(n, &source));
    match diff_json(&want, &got, "syntax") {
        Some(d) => Err(d),
        None => Ok(()),
    }
}

fn normalize_syntax(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = if k == "range" {
                        golden_start(v)
                    } else {
                        normalize_syntax(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalize_syntax).collect()),
        other => other.clone(),
    }
}

fn syntax_json(node: &Node, source: &Source) -> Value {
    let lc = source.line_col(node.span.start());
    let range = json!([lc.line, lc.column]);
    let mut m = Map::new();
    match &node.kind {
        NodeKind::Alias => return json!({}),
        NodeKind::Null => {}
        NodeKind::Bool(b) => {
            m.insert("literal".into(), json!(b));
        }
        NodeKind::Number(n) => {
            m.insert("literal".into(), number(n));
        }
        NodeKind::String(s) => {
            m.insert("literal".into(), json!(s.as_ref()));
        }
        NodeKind::Array(items) => {
            m.insert(
                "array".into(),
                items.iter().map(|i| syntax_json(i, source)).collect(),
            );
        }
        NodeKind::Object(entries) => {
            m.insert(
                "object".into(),
                entries
                    .iter()
                    .map(|e| json!({"key": syntax_json(&e.key, source), "value": syntax_json(&e.value, source)}))
                    .collect(),
            );
        }
    }
    m.insert("range".into(), range);
    Value::Object(m)
}

// ---------------------------------------------------------------------------------------
// eval/

/// `eval/NAME/`: the load diagnostics, the values of check and eval, and the
/// diagnostics of check, eval and rotate. (The typed environment is not built yet.)
pub fn eval_cases(dir: &Path) -> Vec<Outcome> {
    let mut out = Vec::new();
    for (name, path) in case_dirs(dir) {
        if !path.join("expected.json").is_file() {
            continue; // `bench`: the performance workload, not a correctness case.
        }
        out.push(outcome("load", &name, run_load_case(&name, &path).err()));
        match EvalCase::run(&name, &path) {
            Ok(case) => {
                out.push(outcome("values", &name, case.values));
                out.push(outcome("diags", &name, case.diags));
                out.push(outcome("typed", &name, case.typed));
            }
            Err(e) => {
                out.push(outcome("values", &name, Some(e.clone())));
                out.push(outcome("diags", &name, Some(e.clone())));
                out.push(outcome("typed", &name, Some(e)));
            }
        }
    }
    out
}

fn run_load_case(name: &str, dir: &Path) -> Result<(), String> {
    let expected = read_json(&dir.join("expected.json"))?;
    let overrides = read_json(&dir.join("overrides.json")).unwrap_or(Value::Null);
    let env_name = overrides["rootEnvironment"].as_str().unwrap_or(name);
    let text = fs::read_to_string(dir.join("env.yaml")).map_err(|e| e.to_string())?;
    let source = Source::new(env_name, text);
    let loaded = load(&source);
    let golden: Vec<_> = expected["loadDiags"]
        .as_array()
        .map(|d| d.iter().map(golden_diag).collect())
        .unwrap_or_default();
    let ours: Vec<_> = loaded.diags.iter().map(|d| our_diag(d, &source)).collect();
    match diff_diags(&golden, &ours) {
        Some(d) => Err(d),
        None => Ok(()),
    }
}

/// Every `*.yaml` below `dir`, named by its relative path without the extension.
fn environments(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = fs::read_dir(dir).into_iter().flatten().flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        let file = e.file_name().to_string_lossy().into_owned();
        let p = e.path();
        if p.is_dir() {
            environments(&p, &format!("{prefix}{file}/"), out);
        } else if let Some(stem) = file.strip_suffix(".yaml")
            && let Ok(text) = fs::read_to_string(&p)
        {
            out.insert(format!("{prefix}{stem}"), text);
        }
    }
}

struct EvalCase {
    values: Option<String>,
    diags: Option<String>,
    typed: Option<String>,
}

/// Reduces every range of a typed environment to `[environment, line, column]`. Ranges of
/// ours that start inside a string the reference only knows as a whole (an accessor in a
/// quoted or multi-line string) become the zero range the reference gives them.
fn normalize_ranges(v: &Value, strings: Option<&BTreeMap<&str, Vec<escc::Span>>>) -> Value {
    match v {
        Value::Object(m) if m.contains_key("begin") && m.contains_key("end") => {
            let env = m.get("environment").and_then(Value::as_str).unwrap_or("");
            let line = &m["begin"]["line"];
            let col = &m["begin"]["column"];
            if let Some(strings) = strings
                && let Some(byte) = m["begin"]["byte"].as_u64()
                && let Ok(byte) = u32::try_from(byte)
                && strings
                    .get(env)
                    .is_some_and(|nodes| nodes.iter().any(|n| n.start < byte && byte <= n.end))
            {
                return json!([env, 0, 0]);
            }
            json!([env, line, col])
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), normalize_ranges(x, strings)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| normalize_ranges(x, strings)).collect()),
        other => other.clone(),
    }
}

/// A host whose loads and opens each take a millisecond more than `TestHost`'s: long enough
/// for the prefetcher to make them on threads.
struct SlowHost<'h>(&'h TestHost);

const SLOW: std::time::Duration = std::time::Duration::from_millis(1);

impl Host for SlowHost<'_> {
    fn load_environment(&self, name: &str) -> Result<String, HostError> {
        std::thread::sleep(SLOW);
        self.0.load_environment(name)
    }

    fn provider(&self, name: &str) -> Result<Arc<dyn Provider>, HostError> {
        let provider = self.0.provider(name)?;
        Ok(Arc::new(SlowProvider(provider)))
    }

    fn rotator(&self, name: &str) -> Result<Arc<dyn Rotator>, HostError> {
        self.0.rotator(name)
    }

    fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, HostError> {
        self.0.decrypt(ciphertext)
    }
}

struct SlowProvider(Arc<dyn Provider>);

impl Provider for SlowProvider {
    fn schema(&self) -> (Value, Value) {
        self.0.schema()
    }

    fn open(
        &self,
        inputs: &escc::eval::Value,
        context: &escc::eval::Value,
    ) -> Result<escc::eval::Value, String> {
        std::thread::sleep(SLOW);
        self.0.open(inputs, context)
    }

    fn reads_context(&self) -> bool {
        self.0.reads_context()
    }
}

impl EvalCase {
    fn run(name: &str, dir: &Path) -> Result<EvalCase, String> {
        let expected = read_json(&dir.join("expected.json"))?;
        let overrides = read_json(&dir.join("overrides.json")).unwrap_or(Value::Null);
        let env_name = overrides["rootEnvironment"].as_str().unwrap_or(name);
        let mut files = BTreeMap::new();
        environments(dir, "", &mut files);
        let text = files.get("env").cloned().unwrap_or_default();
        let sources: BTreeMap<String, Source> = files
            .iter()
            .map(|(n, t)| (n.clone(), Source::new(n.as_str(), t.as_str())))
            .collect();
        let source = Source::new(env_name, text);
        let host = TestHost::new(files, format!("testdata/eval/{name}"));
        let context = TestHost::context();
        let loaded = load(&source);
        let show_secrets = overrides["showSecrets"].as_bool().unwrap_or(false);
        let run = |mode: &Mode| {
            loaded
                .decl
                .as_ref()
                .map(|decl| evaluate(&source, decl, &host, &context, mode))
                .unwrap_or_default()
        };
        // Sequential evaluation (one host call at a time) must agree with the default,
        // concurrent one in everything it produces.
        let sequential = |mode: &Mode| {
            loaded
                .decl
                .as_ref()
                .map(|decl| {
                    let options = Options {
                        max_in_flight: 1,
                        ..Options::default()
                    };
                    evaluate_with(&source, decl, &host, &context, mode, &options)
                })
                .unwrap_or_default()
        };
        let same = |a: &Evaluation, b: &Evaluation| {
            let props = |e: &Evaluation| {
                e.properties.as_ref().map(|p| {
                    p.iter()
                        .map(|(k, v)| (k.clone(), v.to_json(false)))
                        .collect::<Vec<_>>()
                })
            };
            props(a) == props(b)
                && a.diags == b.diags
                && a.typed() == b.typed()
                && a.patches() == b.patches()
        };
        let mut modes = vec![Mode::Check { show_secrets }, Mode::Eval];
        if overrides["rotate"].as_bool().unwrap_or(false) {
            let paths = overrides["rotatePaths"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|p| p.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            modes.push(Mode::Rotate { paths });
        }
        // The same with a slow host, so that prefetching runs on threads (whether it is on
        // from the start or turned on by the first slow call depends on what this process
        // saw before: either way the results are the same).
        let slow_host = SlowHost(&host);
        let slow = |mode: &Mode| {
            loaded
                .decl
                .as_ref()
                .map(|decl| {
                    evaluate_with(
                        &source,
                        decl,
                        &slow_host,
                        &context,
                        mode,
                        &Options::default(),
                    )
                })
                .unwrap_or_default()
        };
        let concurrency = modes
            .iter()
            .find_map(|m| {
                let want = sequential(m);
                if !same(&run(m), &want) {
                    Some(format!("concurrent and sequential evaluation differ in {m:?}"))
                } else if !same(&slow(m), &want) {
                    Some(format!("concurrent evaluation with slow host calls and sequential evaluation differ in {m:?}"))
                } else {
                    None
                }
            });
        let check = run(&Mode::Check { show_secrets });
        let eval = run(&Mode::Eval);
        let strings: BTreeMap<&str, Vec<escc::Span>> = sources
            .iter()
            .map(|(n, s)| (n.as_str(), whole_string_nodes(s)))
            .chain([(source.name(), whole_string_nodes(&source))])
            .collect();
        let locate = |d: &escc::Diagnostic| {
            let src = if d.environment == source.name() {
                &source
            } else {
                sources.get(&d.environment).unwrap_or(&source)
            };
            let nodes = strings
                .get(d.environment.as_str())
                .map_or(&[][..], Vec::as_slice);
            our_diag_with_alt(d, src, nodes)
        };
        let mut values = None;
        let views = [
            ("checkJson", &check, true),
            ("evalJsonRedacted", &eval, true),
            ("evalJSONRevealed", &eval, false),
        ];
        for (key, result, redact) in views {
            let ours = result.properties.as_ref().map(|p| {
                Value::Object(
                    p.iter()
                        .map(|(k, v)| (k.clone(), v.to_json(redact)))
                        .collect(),
                )
            });
            let want = expected.get(key);
            let diff = match (want, &ours) {
                (None, None) => None,
                (Some(w), Some(o)) => diff_json(w, o, key),
                (Some(_), None) => Some(format!("{key}: missing")),
                (None, Some(o)) => Some(format!("{key}: unexpected {o}")),
            };
            if values.is_none() {
                values = diff;
            }
        }
        if values.is_none() {
            values = concurrency;
        }
        let mut diags = None;
        let mut lists = vec![
            ("checkDiags", check.diags.clone()),
            ("evalDiags", eval.diags.clone()),
        ];
        let mut typed_views = vec![("check", check.typed()), ("eval", eval.typed())];
        let mut patches = None;
        if overrides["rotate"].as_bool().unwrap_or(false) {
            let paths = overrides["rotatePaths"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|p| p.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let rotate = run(&Mode::Rotate { paths });
            typed_views.push(("rotate", rotate.typed()));
            patches = Some(rotate.patches());
            lists.push(("rotateDiags", rotate.diags));
        }
        let mut typed = None;
        for (key, ours) in typed_views {
            let want = expected.get(key).map(|w| normalize_ranges(w, None));
            let ours = ours.map(|o| normalize_ranges(&o, Some(&strings)));
            let diff = match (&want, &ours) {
                (None, None) => None,
                (Some(w), Some(o)) => diff_json(w, o, key),
                (Some(_), None) => Some(format!("{key}: missing")),
                (None, Some(_)) => Some(format!("{key}: unexpected")),
            };
            if typed.is_none() {
                typed = diff;
            }
        }
        if typed.is_none()
            && let Some(patches) = patches
        {
            let want = normalize_ranges(expected.get("rotatePatches").unwrap_or(&json!([])), None);
            let ours = normalize_ranges(&Value::Array(patches), Some(&strings));
            typed = diff_json(&want, &ours, "rotatePatches");
        }
        for (key, list) in lists {
            let golden: Vec<_> = expected[key]
                .as_array()
                .map(|d| d.iter().map(golden_diag).collect())
                .unwrap_or_default();
            let ours: Vec<_> = list.iter().map(locate).collect();
            if diags.is_none() {
                diags = diff_diags_alt(&golden, &ours).map(|d| format!("{key}: {d}"));
            }
        }
        Ok(EvalCase {
            values,
            diags,
            typed,
        })
    }
}
