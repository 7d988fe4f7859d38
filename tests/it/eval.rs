//! Evaluation of our own fixtures (`fixtures/eval/*.yaml`, one builtin or feature per
//! file, errors included): diagnostics and the redacted and revealed values of check and
//! eval, pinned by snapshots. Every file of the folder is importable by its stem.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use escc::eval::{Evaluation, Mode, Value, ValueKind, evaluate};
use escc::testing::TestHost;
use escc::{Source, load};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/eval");

fn environments() -> BTreeMap<String, String> {
    std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

fn render(name: &str) -> String {
    let envs = environments();
    let sources: BTreeMap<String, Source> = envs
        .iter()
        .map(|(n, t)| (n.clone(), Source::new(n.as_str(), t.as_str())))
        .collect();
    let source = &sources[name];
    let host = TestHost::new(envs.clone(), "fixtures/eval");
    let loaded = load(source);
    let decl = loaded.decl.expect("fixtures decode");
    let mut out = String::new();
    for (label, mode) in [
        (
            "check",
            Mode::Check {
                show_secrets: false,
            },
        ),
        ("eval", Mode::Eval),
    ] {
        let result: Evaluation = evaluate(source, &decl, &host, &TestHost::context(), &mode);
        let _ = writeln!(out, "# {label} diagnostics");
        for d in loaded.diags.iter().chain(&result.diags) {
            let at = d.span.map_or_else(String::new, |s| {
                let src = &sources[&d.environment];
                let lc = src.line_col(s.start());
                format!("{}:{}:{}", d.environment, lc.line, lc.column)
            });
            let _ = writeln!(
                out,
                "{:?} [{}] {} (path {:?}) @ {at}",
                d.severity, d.code, d.summary, d.path
            );
        }
        let props = result.properties.unwrap_or_default();
        for redact in [true, false] {
            if label == "check" && !redact {
                continue;
            }
            let json: serde_json::Map<String, serde_json::Value> = props
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json(redact)))
                .collect();
            let _ = writeln!(
                out,
                "# {label} {}\n{}",
                if redact { "redacted" } else { "revealed" },
                serde_json::to_string_pretty(&json).unwrap()
            );
        }
    }
    out
}

#[test]
fn eval_fixtures() {
    insta::glob!("../../fixtures/eval", "*.yaml", |path| {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(render(&name));
    });
}

/// Merges `top` over `base` as imports merge: objects key by key, anything else replaces.
fn merge_json(base: &mut serde_json::Value, top: &serde_json::Value) {
    match (base, top) {
        (serde_json::Value::Object(b), serde_json::Value::Object(t)) => {
            for (k, v) in t {
                match b.get_mut(k) {
                    Some(slot) => merge_json(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, t) => *b = t.clone(),
    }
}

/// Lookups through long base chains (one layer per merged import) go through an index past
/// a few layers; this checks its answers against a plain model of merging, with layers that
/// end the index (an empty object, a string that hides everything below) in the chain.
#[test]
fn long_import_chains_merge_in_order() {
    let n = 60;
    let mut envs = BTreeMap::new();
    let mut expected = serde_json::json!({});
    let mut root = String::from("imports:\n");
    for i in 0..n {
        let shared = match i {
            30 => serde_json::json!({}),
            _ => {
                serde_json::json!({ format!("k{i}"): i, "common": i, "deep": { format!("d{i}"): i } })
            }
        };
        let hidden = match i {
            20 => serde_json::json!("hides-everything-below"),
            _ => serde_json::json!({ format!("h{i}"): i }),
        };
        let doc = serde_json::json!({
            "v": i, format!("only{i}"): i, "shared": shared, "hidden": hidden,
        });
        merge_json(&mut expected, &doc);
        envs.insert(format!("e{i}"), format!("values: {doc}\n"));
        let _ = writeln!(root, "  - e{i}");
    }
    root.push_str(
        "values:\n  v: root\n  picks: [\"${v}\", \"${only3}\", \"${shared.common}\", \"${shared.k25}\", \"${shared.deep.d44}\", \"${imports.e5.v}\", \"${shared.k3}\", \"${hidden.h25}\"]\n",
    );
    let top = serde_json::json!({
        "v": "root",
        "picks": ["root", 3, n - 1, 25, 44, 5, 3, 25],
    });
    merge_json(&mut expected, &top);

    let source = Source::new("root", root.as_str());
    let decl = load(&source).decl.expect("the root decodes");
    let host = TestHost::new(envs, "chains");
    for max_in_flight in [1, 8] {
        let options = escc::eval::Options {
            max_in_flight,
            ..escc::eval::Options::default()
        };
        let result = escc::eval::evaluate_with(
            &source,
            &decl,
            &host,
            &TestHost::context(),
            &Mode::Eval,
            &options,
        );
        assert!(result.diags.is_empty(), "{:?}", result.diags);
        let got: serde_json::Map<String, serde_json::Value> = result
            .properties
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json(false)))
            .collect();
        assert_eq!(serde_json::Value::Object(got), expected);
    }
}

/// Evaluates one document (importing the fixtures) in `mode`.
fn evaluate_text(text: &str, mode: &Mode) -> Evaluation {
    let source = Source::new("doc", text);
    let loaded = load(&source);
    assert!(loaded.diags.is_empty(), "{:?}", loaded.diags);
    let host = TestHost::new(environments(), "fixtures/eval");
    evaluate(
        &source,
        &loaded.decl.expect("the document decodes"),
        &host,
        &TestHost::context(),
        mode,
    )
}

/// A known, non-secret number with this text.
fn num(text: &str) -> Value {
    Value::new(ValueKind::Number(text.to_owned()))
}

/// Each diagnostic as `summary (path)`.
fn summaries(e: &Evaluation) -> Vec<String> {
    e.diags
        .iter()
        .map(|d| format!("{} ({})", d.summary, d.path))
        .collect()
}

/// `fn::fromJSON` keeps a number beyond float64's range as the number it is (Go's
/// `json.Number`): referenced, interpolated and re-encoded, its text is unchanged.
#[test]
fn from_json_keeps_numbers_beyond_float64_range() {
    let e = evaluate_text(
        "values:\n  a:\n    fn::fromJSON: '[1e400, -1e400, 1e-400]'\n  b: ${a[0]}\n  c:\n    fn::toJSON: ${a}\n  d: x${a[1]}\n",
        &Mode::Eval,
    );
    assert!(e.diags.is_empty(), "{:?}", e.diags);
    let p = e.properties.unwrap();
    assert_eq!(
        p["a"],
        Value::new(ValueKind::Array(vec![
            num("1e400"),
            num("-1e400"),
            num("1e-400")
        ]))
    );
    assert_eq!(p["b"], num("1e400"));
    assert_eq!(p["c"].as_str(), Some("[1e400,-1e400,1e-400]"));
    assert_eq!(p["d"].as_str(), Some("x-1e400"));
}

/// YAML's `.inf`, `-.inf` and `.nan` are the numbers `+Inf`, `-Inf` and `NaN` (Go's text
/// of the float64), as strings when interpolated; `fn::toJSON` of one fails with Go's
/// `json.Marshal` error, as in the reference, and hides the number when it is secret.
#[test]
fn yaml_infinities_and_nan() {
    let e = evaluate_text(
        "values:\n  a: .inf\n  b: -.INF\n  c: .NaN\n  d: \"${a} ${b} ${c}\"\n  e:\n    fn::toJSON: [1, \"${c}\", \"${a}\"]\n  f:\n    fn::toJSON: {x: 1e400}\n  s:\n    fn::open::secret-wrapper: {n: .inf}\n  t:\n    fn::toJSON: ${s}\n",
        &Mode::Eval,
    );
    assert_eq!(
        summaries(&e),
        [
            "failed to encode JSON: json: invalid number literal \"NaN\" (values.e)",
            "failed to encode JSON: json: invalid number literal [secret] (values.t)",
        ]
    );
    let p = e.properties.unwrap();
    assert_eq!(p["a"], num("+Inf"));
    assert_eq!(p["b"], num("-Inf"));
    assert_eq!(p["c"], num("NaN"));
    assert_eq!(p["d"].as_str(), Some("+Inf -Inf NaN"));
    assert!(p["e"].unknown);
    assert!(p["t"].unknown);
    // A YAML float out of float64's range is a string, as go-yaml resolves it (its
    // ParseFloat fails); only JSON keeps such a number.
    assert_eq!(p["f"].as_str(), Some("{\"x\":\"1e400\"}"));
}

/// A rotator whose state schema is `true` (anything, null included): the state schema the
/// evaluator checks is `oneOf: [true, {type: null}]`, which an absent state (null) fails.
struct AnyState;

impl escc::eval::Rotator for AnyState {
    fn schema(&self) -> (serde_json::Value, serde_json::Value, serde_json::Value) {
        (
            serde_json::json!(true),
            serde_json::json!(true),
            serde_json::json!(true),
        )
    }
    fn open(&self, _: &Value, _: Option<&Value>, _: &Value) -> Result<Value, String> {
        Ok(Value::object([]))
    }
    fn rotate(&self, _: &Value, _: Option<&Value>, _: &Value) -> Result<Value, String> {
        Ok(Value::object([]))
    }
}

/// [`TestHost`] with the rotator `any-state` added.
struct AnyStateHost(TestHost);

impl escc::eval::Host for AnyStateHost {
    fn load_environment(&self, name: &str) -> Result<String, escc::eval::HostError> {
        self.0.load_environment(name)
    }
    fn provider(
        &self,
        name: &str,
    ) -> Result<std::sync::Arc<dyn escc::eval::Provider>, escc::eval::HostError> {
        self.0.provider(name)
    }
    fn rotator(
        &self,
        name: &str,
    ) -> Result<std::sync::Arc<dyn escc::eval::Rotator>, escc::eval::HostError> {
        match name {
            "any-state" => Ok(std::sync::Arc::new(AnyState)),
            _ => self.0.rotator(name),
        }
    }
    fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, escc::eval::HostError> {
        self.0.decrypt(ciphertext)
    }
}

/// A rotation without a `state` key whose absent state fails the state schema. The
/// reference's absent state is a null literal with no place, so its diagnostic has no
/// range and no path. escc's has the same message and no path, and points at the
/// rotation (a better position, as docs/conformance.md explains).
#[test]
fn absent_rotation_state_is_blamed_on_the_rotation() {
    let text = "values:\n  r:\n    fn::rotate::any-state:\n      inputs: {}\n";
    let source = Source::new("doc", text);
    let loaded = load(&source);
    let host = AnyStateHost(TestHost::new(environments(), "fixtures/eval"));
    for mode in [
        Mode::Check {
            show_secrets: false,
        },
        Mode::Eval,
        Mode::Rotate { paths: vec![] },
    ] {
        let e = evaluate(
            &source,
            loaded.decl.as_ref().unwrap(),
            &host,
            &TestHost::context(),
            &mode,
        );
        let found: Vec<String> = e
            .diags
            .iter()
            .map(|d| {
                let lc = d.span.map(|s| source.line_col(s.start()));
                format!(
                    "{} (path {:?}) @ {:?}",
                    d.summary,
                    d.path,
                    lc.map(|lc| (lc.line, lc.column))
                )
            })
            .collect();
        assert_eq!(
            found,
            ["exactly one subschema may match (path \"\") @ Some((3, 5))"],
            "{mode:?}"
        );
        assert!(e.properties.unwrap()["r"].unknown, "{mode:?}");
    }
}
