//! Rotation on our own document (`fixtures/rotate/env.yaml`): a top-level rotator, one
//! nested inside another builtin's argument, and one that fails; the patches to write
//! back and the rotated values.

use std::sync::Arc;

use escc::eval::{HostError, Mode, RotationStatus, evaluate};
use escc::testing::TestHost;
use escc::{Source, load};

fn run(mode: &Mode) -> escc::eval::Evaluation {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/rotate/env.yaml"
    ))
    .unwrap();
    let source = Source::new("env", text);
    let decl = load(&source).decl.unwrap();
    evaluate(
        &source,
        &decl,
        &TestHost::default(),
        &TestHost::context(),
        mode,
    )
}

#[test]
fn eval_opens_without_rotating() {
    let out = run(&Mode::Eval);
    assert!(out.rotations.is_empty());
    let props = out.properties.unwrap();
    assert_eq!(props["summary"].to_json(false), "first/second");
    assert_eq!(
        props["nested"].to_json(false),
        r#"[{"a":"inner-a","b":"inner-b"}]"#
    );
}

#[test]
fn rotate_swaps_nested_rotators_and_skips_a_blocked_one() {
    let out = run(&Mode::Rotate { paths: Vec::new() });
    let props = out.properties.as_ref().unwrap();
    // The swapped state is what the rotated environment opens with.
    assert_eq!(props["summary"].to_json(false), "second/first");
    assert_eq!(
        props["nested"].to_json(false),
        r#"[{"a":"inner-b","b":"inner-a"}]"#
    );
    assert!(props["blocked"].unknown);

    let mut statuses: Vec<(String, String)> = out
        .rotations
        .iter()
        .map(|r| {
            let s = match &r.status {
                RotationStatus::Succeeded { doc_path, .. } => format!("succeeded {doc_path}"),
                RotationStatus::Failed(e) => format!("failed: {e}"),
                RotationStatus::NotEvaluated => "not evaluated".to_owned(),
                other => format!("{other:?}"),
            };
            (r.path.clone(), s)
        })
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            ("values.blocked".to_owned(), "not evaluated".to_owned()),
            (
                "values.db".to_owned(),
                "succeeded values.db[\"fn::rotate::swap\"].state".to_owned()
            ),
            (
                "values.nested[\"fn::toJSON\"][0]".to_owned(),
                "succeeded values.nested[\"fn::toJSON\"][0][\"fn::rotate::swap\"].state".to_owned()
            ),
        ]
    );
    let summaries: Vec<&str> = out.diags.iter().map(|d| d.summary.as_str()).collect();
    assert_eq!(summaries, ["unknown property \"missing\""]);

    // Patches carry the new state, each part traced to where it was written.
    let patches = out.patches();
    assert_eq!(patches.len(), 2);
    assert_eq!(
        patches[0]["DocPath"],
        "values.db[\"fn::rotate::swap\"].state"
    );
    let a = &patches[0]["Replacement"]["value"]["a"];
    assert_eq!(a["value"], "second");
    // `a` now holds what was written as `b`, on line 8.
    assert_eq!(a["trace"]["def"]["begin"]["line"], 8);
}

#[test]
fn rotate_selects_paths() {
    let out = run(&Mode::Rotate {
        paths: vec!["nested[\"fn::toJSON\"][0]".to_owned()],
    });
    assert_eq!(out.rotations.len(), 1);
    let props = out.properties.unwrap();
    assert_eq!(props["summary"].to_json(false), "first/second");
}

/// A host whose rotator `broken` opens but cannot rotate.
struct Broken(TestHost);

struct BrokenRotator;

impl escc::eval::Rotator for BrokenRotator {
    fn schema(&self) -> (serde_json::Value, serde_json::Value, serde_json::Value) {
        (
            serde_json::json!(true),
            serde_json::json!(true),
            serde_json::json!(true),
        )
    }
    fn open(
        &self,
        _: &escc::eval::Value,
        _: Option<&escc::eval::Value>,
        _: &escc::eval::Value,
    ) -> Result<escc::eval::Value, String> {
        Ok(escc::eval::Value::string("opened"))
    }
    fn rotate(
        &self,
        _: &escc::eval::Value,
        _: Option<&escc::eval::Value>,
        _: &escc::eval::Value,
    ) -> Result<escc::eval::Value, String> {
        Err("no credentials to rotate with".to_owned())
    }
}

impl escc::eval::Host for Broken {
    fn load_environment(&self, name: &str) -> Result<String, HostError> {
        self.0.load_environment(name)
    }
    fn provider(&self, name: &str) -> Result<Arc<dyn escc::eval::Provider>, HostError> {
        self.0.provider(name)
    }
    fn rotator(&self, name: &str) -> Result<Arc<dyn escc::eval::Rotator>, HostError> {
        if name == "broken" {
            Ok(Arc::new(BrokenRotator))
        } else {
            self.0.rotator(name)
        }
    }
    fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, HostError> {
        self.0.decrypt(ciphertext)
    }
}

#[test]
fn a_rotator_that_fails_is_reported_and_leaves_the_state_alone() {
    let text = "values:\n  r:\n    fn::rotate::broken:\n      inputs: {}\n      state: {v: 1}\n";
    let source = Source::new("env", text);
    let decl = load(&source).decl.unwrap();
    let host = Broken(TestHost::default());
    let ctx = TestHost::context();
    let eval = evaluate(&source, &decl, &host, &ctx, &Mode::Eval);
    assert!(eval.diags.is_empty());
    assert_eq!(eval.properties.unwrap()["r"].to_json(false), "opened");

    let out = evaluate(
        &source,
        &decl,
        &host,
        &ctx,
        &Mode::Rotate { paths: Vec::new() },
    );
    let summaries: Vec<&str> = out.diags.iter().map(|d| d.summary.as_str()).collect();
    assert_eq!(summaries, ["rotate: no credentials to rotate with"]);
    assert!(matches!(
        &out.rotations[0].status,
        RotationStatus::Failed(e) if e == "no credentials to rotate with"
    ));
    assert!(out.patches().is_empty());
    assert!(out.properties.unwrap()["r"].unknown);
}

#[test]
fn a_rotator_whose_inputs_fail_is_not_evaluated() {
    // An input that fails to open makes the rotation unknown: not evaluated, not rotated.
    let text = "values:\n  r:\n    fn::rotate::echo:\n      inputs:\n        next: ${nope}\n      state:\n        current: x\n  nope: {fn::open::error: {why: unavailable}}\n";
    let source = Source::new("env", text);
    let decl = load(&source).decl.unwrap();
    let out = evaluate(
        &source,
        &decl,
        &TestHost::default(),
        &TestHost::context(),
        &Mode::Rotate { paths: Vec::new() },
    );
    let summaries: Vec<&str> = out.diags.iter().map(|d| d.summary.as_str()).collect();
    assert!(summaries.contains(&"unavailable"), "{summaries:?}");
    assert!(matches!(
        out.rotations[0].status,
        RotationStatus::NotEvaluated
    ));
}
