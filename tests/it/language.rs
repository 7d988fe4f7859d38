//! Today's ESC language beyond v0.25.0 (`docs/language.md`): `fn::template` and `fn::eval`,
//! `fn::conform`, `policyConfig` and the documented `context` properties. Each example of
//! ESC's documentation pages evaluates to the documented result here; misuse gets located
//! diagnostics; cycles, depth and fan-out are bounded; secrets stay secret.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use escc::eval::{Evaluation, Mode, Options, Value, ValueKind, evaluate_with};
use escc::testing::TestHost;
use escc::{Source, load};
use serde_json::{Value as Json, json};

/// One diagnostic, as the tests compare it: code, summary, detail, environment, path, and
/// the place as `line:column` with the exact text of its span.
#[derive(Debug, PartialEq, Eq)]
struct Diag {
    code: String,
    summary: String,
    detail: String,
    environment: String,
    path: String,
    at: String,
}

struct Run {
    revealed: Json,
    redacted: Json,
    diags: Vec<Diag>,
    evaluation: Evaluation,
}

fn diag(d: &escc::Diagnostic, envs: &BTreeMap<String, String>) -> Diag {
    let at = d.span.map_or_else(String::new, |s| {
        let source = Source::new(d.environment.as_str(), envs[&d.environment].as_str());
        let lc = source.line_col(s.start());
        format!("{}:{} {}", lc.line, lc.column, source.slice(s))
    });
    Diag {
        code: d.code.to_string(),
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        environment: d.environment.clone(),
        path: d.path.clone(),
        at,
    }
}

/// Evaluates `root` among `docs` (name, text) in `mode` with `context`, once with every
/// host call in order and once with prefetching, and checks that both agree. A root with
/// load errors reports those alone, as `escc check` does.
fn run_with(docs: &[(&str, &str)], root: &str, mode: &Mode, context: &Value) -> Run {
    let envs: BTreeMap<String, String> = docs
        .iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect();
    let host = TestHost::new(envs.clone(), "docs");
    let source = Source::new(root, envs[root].as_str());
    let loaded = load(&source);
    if loaded.diags.iter().any(escc::Diagnostic::is_error) {
        return Run {
            revealed: Json::Null,
            redacted: Json::Null,
            diags: loaded.diags.iter().map(|d| diag(d, &envs)).collect(),
            evaluation: Evaluation::default(),
        };
    }
    let decl = loaded.decl.expect("the root decodes");
    let mut runs = [1, 8].map(|max_in_flight| {
        let options = Options {
            max_in_flight,
            ..Options::default()
        };
        let evaluation = evaluate_with(&source, &decl, &host, context, mode, &options);
        let props = evaluation.properties.clone().unwrap_or_default();
        let json = |redact: bool| {
            Json::Object(
                props
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json(redact)))
                    .collect(),
            )
        };
        let diags: Vec<Diag> = loaded
            .diags
            .iter()
            .chain(&evaluation.diags)
            .map(|d| diag(d, &envs))
            .collect();
        Run {
            revealed: json(false),
            redacted: json(true),
            diags,
            evaluation,
        }
    });
    let [sequential, prefetched] = &mut runs;
    assert_eq!(sequential.revealed, prefetched.revealed);
    assert_eq!(sequential.diags, prefetched.diags);
    assert_eq!(sequential.evaluation.typed(), prefetched.evaluation.typed());
    let [sequential, _] = runs;
    sequential
}

fn check(docs: &[(&str, &str)], root: &str) -> Run {
    run_with(
        docs,
        root,
        &Mode::Check {
            show_secrets: false,
        },
        &Value::object([]),
    )
}

fn eval(docs: &[(&str, &str)], root: &str) -> Run {
    run_with(docs, root, &Mode::Eval, &Value::object([]))
}

/// Both modes give `expected` (revealed) without a diagnostic.
fn evaluates_to(docs: &[(&str, &str)], root: &str, expected: &Json) {
    for run in [check(docs, root), eval(docs, root)] {
        assert_eq!(run.diags, [], "{root}");
        assert_eq!(&run.revealed, expected, "{root}");
    }
}

fn error(code: &str, summary: &str, environment: &str, path: &str, at: &str) -> Diag {
    Diag {
        code: code.to_owned(),
        summary: summary.to_owned(),
        detail: String::new(),
        environment: environment.to_owned(),
        path: path.to_owned(),
        at: at.to_owned(),
    }
}

// -----------------------------------------------------------------------------------------
// fn::template and fn::eval: the documentation's examples

const DEFN: &str = "values:\n  hello:\n    fn::template: Hello ${name}!\n";
const A: &str =
    "values:\n  name: \"foo\"\n  example:\n    fn::eval: ${environments.example.defn.hello}\n";
const B: &str =
    "values:\n  name: \"bar\"\n  example:\n    fn::eval: ${environments.example.defn.hello}\n";

#[test]
fn fn_template_page_defining_a_reusable_template() {
    let docs = [("example/defn", DEFN), ("example/a", A)];
    evaluates_to(
        &docs,
        "example/a",
        &json!({"example": "Hello foo!", "name": "foo"}),
    );
    // Where it is written, a template is not evaluated: `${name}` is not resolved there
    // (no diagnostic), and its value is unknown.
    for run in [check(&docs, "example/defn"), eval(&docs, "example/defn")] {
        assert_eq!(run.diags, []);
        assert_eq!(run.revealed, json!({"hello": "[unknown]"}));
    }
}

#[test]
fn fn_template_page_standardized_configuration() {
    let docs = [
        (
            "org/templates",
            "values:\n  resource-name:\n    fn::template: ${project}-${environment}-${region}\n",
        ),
        (
            "org/prod-us",
            "values:\n  project: \"myapp\"\n  environment: \"prod\"\n  region: \"us-east-1\"\n  name:\n    fn::eval: ${environments.org.templates.resource-name}\n",
        ),
    ];
    evaluates_to(
        &docs,
        "org/prod-us",
        &json!({
            "project": "myapp",
            "environment": "prod",
            "region": "us-east-1",
            "name": "myapp-prod-us-east-1"
        }),
    );
}

#[test]
fn fn_eval_page_one_template_two_environments() {
    let docs = [
        ("example/defn", DEFN),
        ("example/a", A),
        ("example/b", B),
        (
            "parent",
            "values:\n  a: ${environments.example.a}\n  b: ${environments.example.b}\n",
        ),
    ];
    let expected = json!({
        "a": {"example": "Hello foo!", "name": "foo"},
        "b": {"example": "Hello bar!", "name": "bar"}
    });
    evaluates_to(&docs, "parent", &expected);
    // As in the reference's golden data (late-binding): known in a static check, typed a
    // string, and defined where the template is written.
    let run = check(&docs, "parent");
    let typed = run.evaluation.typed().unwrap();
    let example = &typed["properties"]["a"]["value"]["example"];
    assert_eq!(example["value"], "Hello foo!");
    assert_eq!(example["trace"]["def"]["environment"], "example/defn");
    assert_eq!(example["trace"]["def"]["begin"]["line"], 3);
    assert_eq!(example["trace"]["def"]["begin"]["column"], 19);
    assert_eq!(
        typed["schema"]["properties"]["a"]["properties"]["example"],
        json!({"type": "string"})
    );
}

// -----------------------------------------------------------------------------------------
// fn::template and fn::eval: scope, imports, secrets

#[test]
fn a_template_reads_the_evaluating_environment_through_its_imports_and_context() {
    let docs = [
        (
            "lib/defn",
            "values:\n  url:\n    fn::template: \"https://${host}:${imports.ports.https}/${context.currentEnvironment.name}\"\n  parts:\n    fn::template: {host: \"${host}\", list: [\"${host}\", 1]}\n",
        ),
        ("ports", "values:\n  https: 8443\n"),
        ("hosts", "values:\n  host: from-an-import\n"),
        // `host` comes from a merged import; the template is read through a merged
        // import too, and through `imports.`.
        (
            "app",
            "imports:\n  - hosts\n  - ports\n  - lib/defn\nvalues:\n  u:\n    fn::eval: ${url}\n  p:\n    fn::eval: ${imports.lib/defn.parts}\n  inline:\n    fn::eval:\n      fn::template: \"${host}!\"\n",
        ),
    ];
    let run = eval(&docs, "app");
    assert_eq!(run.diags, []);
    assert_eq!(run.revealed["u"], "https://from-an-import:8443/app");
    assert_eq!(
        run.revealed["p"],
        json!({"host": "from-an-import", "list": ["from-an-import", 1]})
    );
    assert_eq!(run.revealed["inline"], "from-an-import!");
    // The imported templates themselves stay unknown.
    assert_eq!(run.revealed["url"], "[unknown]");
}

#[test]
fn templates_evaluated_in_an_import_read_that_import() {
    // `mid` evaluates the template in its own scope; the root only reads the result.
    let docs = [
        ("defn", "values:\n  t:\n    fn::template: \"${who}\"\n"),
        (
            "mid",
            "values:\n  who: mid\n  r:\n    fn::eval: ${environments.x.defn.t}\n",
        ),
        ("x/defn", "values:\n  t:\n    fn::template: \"${who}-x\"\n"),
        (
            "root",
            "imports: [mid]\nvalues:\n  who: root\n  mine:\n    fn::eval: ${environments.x.defn.t}\n",
        ),
    ];
    evaluates_to(
        &docs,
        "root",
        &json!({"who": "root", "r": "mid-x", "mine": "root-x"}),
    );
}

#[test]
fn templates_keep_secrets_secret() {
    let docs = [
        (
            "x/defn",
            "values:\n  token:\n    fn::template: \"Bearer ${password}\"\n  literal:\n    fn::template:\n      fn::secret: hunter2-in-a-template\n  json:\n    fn::template:\n      fn::fromJSON: ${password}\n",
        ),
        (
            "app",
            "values:\n  password:\n    fn::secret: correct-horse\n  header:\n    fn::eval: ${environments.x.defn.token}\n  lit:\n    fn::eval: ${environments.x.defn.literal}\n  parsed:\n    fn::eval: ${environments.x.defn.json}\n",
        ),
    ];
    for run in [check(&docs, "app"), eval(&docs, "app")] {
        assert_eq!(run.redacted["header"], "[secret]");
        assert_eq!(run.redacted["lit"], "[secret]");
        assert_eq!(run.revealed["lit"], "hunter2-in-a-template");
        let text = format!("{:?} {}", run.diags, run.redacted);
        assert!(!text.contains("correct-horse"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
    let run = eval(&docs, "app");
    assert_eq!(run.revealed["header"], "Bearer correct-horse");
    // The JSON error quotes no character of the secret it read.
    assert_eq!(run.diags.len(), 1, "{:?}", run.diags);
    assert_eq!(run.diags[0].code, "builtin-failed");
    assert!(run.diags[0].summary.contains("[secret]"), "{:?}", run.diags);
    assert!(!run.diags[0].summary.contains("'c'"), "{:?}", run.diags);
}

// -----------------------------------------------------------------------------------------
// fn::template and fn::eval: misuse, located

#[test]
fn eval_of_something_that_cannot_be_a_template_is_a_load_error_at_the_argument() {
    let doc = "values:\n  a:\n    fn::eval: hello\n  b:\n    fn::eval: [1]\n  c:\n    fn::eval: \"x${y}\"\n  d:\n    fn::eval:\n      fn::toJSON: 1\n";
    let run = check(&[("app", doc)], "app");
    let message = "the argument to fn::eval must be a template: a reference to a value defined with fn::template";
    let at = |path: &str, at: &str| error("invalid-builtin-argument", message, "app", path, at);
    assert_eq!(
        run.diags,
        [
            at("values.a[\"fn::eval\"]", "3:15 hello"),
            at("values.b[\"fn::eval\"]", "5:15 [1]"),
            at("values.c[\"fn::eval\"]", "7:15 \"x${y}\""),
            at("values.d[\"fn::eval\"]", "10:7 fn::toJSON: 1"),
        ]
    );
}

#[test]
fn eval_of_a_value_that_is_not_a_template_is_an_error_at_the_argument() {
    let doc = "values:\n  name: x\n  a:\n    fn::eval: ${name}\n  b:\n    fn::eval: ${nope}\n  c:\n    fn::eval:\n      fn::final: ${name}\n";
    let run = eval(&[("app", doc)], "app");
    let message = "the argument to fn::eval must be a template: a reference to a value defined with fn::template";
    assert_eq!(
        run.diags,
        [
            error(
                "invalid-builtin-argument",
                message,
                "app",
                "values.a[\"fn::eval\"]",
                "4:15 ${name}"
            ),
            // An unknown property is reported once, where it is read; the result is unknown.
            error(
                "unknown-property",
                "unknown property \"nope\"",
                "app",
                "values.b[\"fn::eval\"]",
                "6:17 nope"
            ),
            error(
                "invalid-builtin-argument",
                message,
                "app",
                "values.c[\"fn::eval\"]",
                "9:7 fn::final: ${name}"
            ),
        ]
    );
    assert_eq!(run.revealed["b"], "[unknown]");
}

#[test]
fn a_problem_inside_a_template_is_reported_at_the_eval_that_evaluates_it() {
    let docs = [
        ("example/defn", DEFN),
        (
            "app",
            "values:\n  nom: foo\n  example:\n    fn::eval: ${environments.example.defn.hello}\n",
        ),
    ];
    for run in [check(&docs, "app"), eval(&docs, "app")] {
        assert_eq!(
            run.diags,
            [Diag {
                detail: "in the template values.hello of example/defn, evaluated here (at example/defn:3:27)".to_owned(),
                ..error(
                    "unknown-property",
                    "unknown property \"name\"",
                    "app",
                    "values.example",
                    "4:5 fn::eval: ${environments.example.defn.hello}"
                )
            }]
        );
        assert_eq!(run.revealed["example"], "[unknown]");
    }
    // The template's own document checks clean: nothing in it is wrong.
    assert_eq!(check(&docs, "example/defn").diags, []);
}

#[test]
fn an_error_in_a_template_text_is_reported_once_where_it_is_written() {
    let docs = [
        (
            "lib/defn",
            "values:\n  t:\n    fn::template: {a: 1, a: 2}\n",
        ),
        (
            "app",
            "values:\n  x:\n    fn::eval: ${environments.lib.defn.t}\n  y:\n    fn::eval: ${environments.lib.defn.t}\n",
        ),
    ];
    let run = eval(&docs, "app");
    assert_eq!(
        run.diags,
        [error(
            "duplicate-key",
            "duplicate key \"a\"",
            "lib/defn",
            "values.t[\"fn::template\"].a",
            "3:26 a"
        )]
    );
    assert_eq!(run.revealed["x"], json!({"a": 1}));
}

#[test]
fn templates_that_evaluate_themselves_are_cycles_not_overflows() {
    let doc = "values:\n  self:\n    fn::template:\n      fn::eval: ${self}\n  loop:\n    fn::eval: ${self}\n  ping:\n    fn::template: {fn::eval: \"${pong}\"}\n  pong:\n    fn::template: {fn::eval: \"${ping}\"}\n  game:\n    fn::eval: ${ping}\n  back:\n    fn::eval: ${here}\n  here:\n    fn::template: \"${back}\"\n";
    let run = eval(&[("app", doc)], "app");
    let cycle = |summary: &str, path: &str, at: &str, detail: &str| Diag {
        detail: detail.to_owned(),
        ..error("reference-cycle", summary, "app", path, at)
    };
    assert_eq!(
        run.diags,
        [
            cycle(
                "cyclic evaluation of template values.self",
                "values.loop",
                "6:5 fn::eval: ${self}",
                "in the template values.self of app, evaluated here (at app:4:7)"
            ),
            cycle(
                "cyclic evaluation of template values.ping",
                "values.game",
                "12:5 fn::eval: ${ping}",
                "in the template values.pong of app, evaluated here (at app:10:19)"
            ),
            // A template that reads the value its evaluation defines: an ordinary cycle.
            cycle(
                "cyclic reference to back",
                "values.back",
                "14:5 fn::eval: ${here}",
                ""
            ),
        ]
    );
    for key in ["loop", "game", "back"] {
        assert_eq!(run.revealed[key], "[unknown]", "{key}");
    }
}

#[test]
fn deep_template_chains_are_bounded_and_do_not_overflow() {
    // t0 is a string; each ti evaluates t(i-1): 3,000 nested evaluations.
    let n = 3_000;
    let mut doc = String::from("values:\n  t0:\n    fn::template: \"${leaf}\"\n  leaf: deep\n");
    for i in 1..=n {
        let _ = write!(
            doc,
            "  t{i}:\n    fn::template:\n      fn::eval: ${{t{}}}\n",
            i - 1
        );
    }
    let _ = write!(doc, "  out:\n    fn::eval: ${{t{n}}}\n");
    let run = eval(&[("app", doc.as_str())], "app");
    assert_eq!(run.diags, []);
    assert_eq!(run.revealed["out"], "deep");
}

#[test]
fn templates_that_fan_out_exponentially_hit_a_limit_quickly() {
    // Each level evaluates the one below four times: 4^40 evaluations unbounded.
    let mut doc = String::from("values:\n  l0:\n    fn::template: x\n");
    for i in 1..=40 {
        let e = format!("{{fn::eval: \"${{l{}}}\"}}", i - 1);
        let _ = write!(doc, "  l{i}:\n    fn::template: [{e}, {e}, {e}, {e}]\n");
    }
    doc.push_str("  out:\n    fn::eval: ${l40}\n");
    let source = Source::new("app", doc.as_str());
    let decl = load(&source).decl.expect("the document decodes");
    let started = Instant::now();
    let run = escc::eval::evaluate(
        &source,
        &decl,
        &TestHost::default(),
        &Value::object([]),
        &Mode::Eval,
    );
    // Unoptimized, it takes about half a second.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let limits: Vec<_> = run
        .diags
        .iter()
        .filter(|d| d.code == escc::diag::Code::LimitExceeded)
        .collect();
    assert_eq!(run.diags.len(), 1, "{:?}", run.diags);
    assert_eq!(
        limits[0].summary,
        "cannot evaluate the template: the templates an evaluation evaluates declare at most 100000 expressions in all"
    );
    assert_eq!(limits[0].path, "values.out");
    assert_eq!(limits[0].environment, "app");
}

#[test]
fn an_open_inside_a_template_opens_where_it_is_evaluated() {
    let docs = [
        (
            "defn",
            "values:\n  t:\n    fn::template:\n      fn::open::test: {who: \"${who}\", literal: 1}\n  lit:\n    fn::template:\n      fn::open::test: {literal: 1}\n",
        ),
        (
            "app",
            "imports: [defn]\nvalues:\n  who: app\n  o:\n    fn::eval: ${t}\n  l:\n    fn::eval: ${lit}\n",
        ),
    ];
    // Statically, a provider's result is unknown; evaluated, the echo provider returns
    // its inputs.
    let run = check(&docs, "app");
    assert_eq!(run.diags, []);
    assert_eq!(run.revealed["o"], "[unknown]");
    let run = eval(&docs, "app");
    assert_eq!(run.diags, []);
    assert_eq!(run.revealed["o"], json!({"who": "app", "literal": 1}));
    assert_eq!(run.revealed["l"], json!({"literal": 1}));
}

// -----------------------------------------------------------------------------------------
// fn::conform (and fn::validate): the documentation's examples, both names

/// The examples of the `fn::conform` page (the `fn::validate` page is the same with the other
/// name), as (document, documented result).
fn conform_examples(name: &str) -> Vec<(String, Json)> {
    let examples = [
        (
            "values:\n  valid-string:\n    NAME:\n      schema: { type: string }\n      value: \"hello\"\n",
            json!({"valid-string": "hello"}),
        ),
        (
            "values:\n  validated-number:\n    NAME:\n      schema: { type: number, minimum: 0 }\n      value: 42\n",
            json!({"validated-number": 42}),
        ),
        (
            "values:\n  user:\n    NAME:\n      schema:\n        type: object\n        properties:\n          name: { type: string }\n          email: { type: string }\n        required: [name, email]\n      value:\n        name: \"Alice\"\n        email: \"alice@example.com\"\n",
            json!({"user": {"name": "Alice", "email": "alice@example.com"}}),
        ),
        (
            "values:\n  my-schema:\n    type: string\n    minLength: 1\n  validated:\n    NAME:\n      schema: ${my-schema}\n      value: \"hello\"\n",
            json!({"my-schema": {"type": "string", "minLength": 1}, "validated": "hello"}),
        ),
        (
            "values:\n  tags:\n    NAME:\n      schema:\n        type: array\n        items: { type: string }\n      value: [\"production\", \"us-east-1\"]\n",
            json!({"tags": ["production", "us-east-1"]}),
        ),
        (
            "values:\n  user:\n    NAME:\n      schema: ${environments.myproj.schemas.user-schema}\n      value:\n        name: \"Alice\"\n        email: \"alice@example.com\"\n",
            json!({"user": {"name": "Alice", "email": "alice@example.com"}}),
        ),
    ];
    examples
        .into_iter()
        .map(|(doc, result)| (doc.replace("NAME", name), result))
        .collect()
}

const SCHEMAS: &str = "values:\n  user-schema:\n    type: object\n    properties:\n      name: { type: string }\n      email: { type: string }\n    required: [name, email]\n";

#[test]
fn fn_conform_and_fn_validate_pages() {
    for name in ["fn::conform", "fn::validate"] {
        for (doc, result) in conform_examples(name) {
            evaluates_to(
                &[("app", doc.as_str()), ("myproj/schemas", SCHEMAS)],
                "app",
                &result,
            );
        }
        // The documented failures, located at the value.
        let doc = format!(
            "values:\n  type-error:\n    {name}:\n      schema: {{ type: string }}\n      value: 42\n  missing-required:\n    {name}:\n      schema:\n        type: object\n        properties:\n          name: {{ type: string }}\n        required: [name]\n      value:\n        other: \"value\"\n"
        );
        let run = check(&[("app", doc.as_str())], "app");
        assert_eq!(
            run.diags,
            [
                error(
                    "schema-violation",
                    "expected string, got number",
                    "app",
                    &format!("values[\"type-error\"][\"{name}\"].value"),
                    "5:14 42"
                ),
                error(
                    "schema-violation",
                    "missing required properties: name",
                    "app",
                    &format!("values[\"missing-required\"][\"{name}\"].value"),
                    "14:9 other: \"value\""
                ),
            ]
        );
        // The value is still returned.
        assert_eq!(run.revealed["type-error"], 42);
    }
}

/// The reference's own tests of `fn::conform` (pulumi/esc, eval/testdata/eval/
/// builtin-conform and builtin-conform-error): the same messages at the same places.
#[test]
fn fn_conform_as_the_reference_tests_it() {
    let doc = "values:\n  # Valid cases - should pass with no errors\n  valid-string:\n    fn::conform:\n      schema: { type: string }\n      value: \"hello\"\n\n  valid-number:\n    fn::conform:\n      schema: { type: number, minimum: 0 }\n      value: 42\n\n  # Type violation - should emit error, still return 42\n  type-error:\n    fn::conform:\n      schema: { type: string }\n      value: 42\n\n  # Object with required fields\n  missing-required:\n    fn::conform:\n      schema:\n        type: object\n        properties:\n          name: { type: string }\n        required: [name]\n      value:\n        other: \"value\"\n\n  # String constraints\n  min-length-fail:\n    fn::conform:\n      schema: { type: string, minLength: 5 }\n      value: \"hi\"\n\n  # Number constraints\n  number-range-fail:\n    fn::conform:\n      schema: { type: number, minimum: 10 }\n      value: 5\n\n  # Array validation\n  array-items-fail:\n    fn::conform:\n      schema:\n        type: array\n        items: { type: string }\n      value: [\"hello\", 42]\n\n  # Schema from reference (dynamic schema)\n  my-schema:\n    type: string\n    minLength: 1\n  dynamic-schema:\n    fn::conform:\n      schema: ${my-schema}\n      value: \"\"\n\n  # Nested object validation\n  nested-fail:\n    fn::conform:\n      schema:\n        type: object\n        properties:\n          user:\n            type: object\n            properties:\n              age: { type: number }\n      value:\n        user:\n          age: \"not a number\"\n";
    let run = check(&[("builtin-conform", doc)], "builtin-conform");
    let got: Vec<(String, String, String)> = run
        .diags
        .iter()
        .map(|d| {
            (
                d.summary.clone(),
                d.path.clone(),
                d.at.split(' ').next().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        (
            "expected string, got number",
            "values[\"type-error\"][\"fn::conform\"].value",
            "17:14",
        ),
        (
            "missing required properties: name",
            "values[\"missing-required\"][\"fn::conform\"].value",
            "28:9",
        ),
        (
            "expected a string of at least length 5",
            "values[\"min-length-fail\"][\"fn::conform\"].value",
            "34:14",
        ),
        (
            "expected a number greater than or equal to 10",
            "values[\"number-range-fail\"][\"fn::conform\"].value",
            "40:14",
        ),
        (
            "expected string, got number",
            "values[\"array-items-fail\"][\"fn::conform\"].value[1]",
            "48:24",
        ),
        (
            "expected a string of at least length 1",
            "values[\"dynamic-schema\"][\"fn::conform\"].value",
            "57:14",
        ),
        (
            "expected number, got string",
            "values[\"nested-fail\"][\"fn::conform\"].value.user.age",
            "71:16",
        ),
    ]
    .map(|(s, p, a)| (s.to_owned(), p.to_owned(), a.to_owned()));
    assert_eq!(got, want);

    let doc = "values:\n  # Missing schema\n  missing-schema:\n    fn::conform:\n      value: \"test\"\n\n  # Missing value\n  missing-value:\n    fn::conform:\n      schema: { type: string }\n\n  # Not an object\n  not-object:\n    fn::conform: \"invalid\"\n";
    let run = check(&[("builtin-conform-error", doc)], "builtin-conform-error");
    let e = |summary: &str, path: &str, at: &str| {
        error(
            "invalid-builtin-argument",
            summary,
            "builtin-conform-error",
            path,
            at,
        )
    };
    assert_eq!(
        run.diags,
        [
            e(
                "missing required property 'schema'",
                "values[\"missing-schema\"][\"fn::conform\"]",
                "5:7 value: \"test\""
            ),
            e(
                "missing required property 'value'",
                "values[\"missing-value\"][\"fn::conform\"]",
                "10:7 schema: { type: string }"
            ),
            e(
                "the argument to fn::conform must be an object containing 'schema' and 'value'",
                "values[\"not-object\"][\"fn::conform\"]",
                "14:18 \"invalid\""
            ),
        ]
    );
}

// -----------------------------------------------------------------------------------------
// policyConfig and context

#[test]
fn policy_config_page() {
    let doc = "values:\n  compliance:\n    apiToken:\n      fn::secret: xxxxxxxxxxxxxxxx\n\n  policyConfig:\n    cost-compliance:\n      maxMonthlyCost: 5000\n      apiEndpoint: https://compliance.example.com\n      apiToken: ${compliance.apiToken}\n";
    for run in [check(&[("app", doc)], "app"), eval(&[("app", doc)], "app")] {
        assert_eq!(run.diags, []);
        assert_eq!(
            run.redacted["policyConfig"],
            json!({"cost-compliance": {
                "maxMonthlyCost": 5000,
                "apiEndpoint": "https://compliance.example.com",
                "apiToken": "[secret]"
            }})
        );
    }
    let doc = "values:\n  policyConfig:\n    my-compliance-pack:cost-compliance:\n      maxMonthlyCost: 5000\n";
    evaluates_to(
        &[("app", doc)],
        "app",
        &json!({"policyConfig": {"my-compliance-pack:cost-compliance": {"maxMonthlyCost": 5000}}}),
    );
}

fn login_context() -> Value {
    let login = |name: &str| Value::object([("login".to_owned(), Value::string(name))]);
    Value::object([(
        "pulumi".to_owned(),
        Value::object([
            ("user".to_owned(), login("user")),
            ("organization".to_owned(), login("org")),
        ]),
    )])
}

const GREETING: &str = "values:\n  greeting: Hello, ${context.pulumi.organization.login}/${context.pulumi.user.login}!\n";

#[test]
fn context_page() {
    for mode in [
        Mode::Check {
            show_secrets: false,
        },
        Mode::Eval,
    ] {
        let run = run_with(&[("app", GREETING)], "app", &mode, &login_context());
        assert_eq!(run.diags, []);
        assert_eq!(run.revealed, json!({"greeting": "Hello, org/user!"}));
    }
}

#[test]
fn unset_documented_context_is_unknown_when_checking_and_explained_when_evaluating() {
    let unset = Value::object([]);
    let checking = escc::eval::with_unknown_callers(&unset);
    let run = run_with(
        &[("app", GREETING)],
        "app",
        &Mode::Check {
            show_secrets: false,
        },
        &checking,
    );
    assert_eq!(run.diags, []);
    assert_eq!(run.revealed, json!({"greeting": "[unknown]"}));
    let run = run_with(&[("app", GREETING)], "app", &Mode::Eval, &unset);
    let explained = |login: &str, what: &str, at: &str| Diag {
        detail: format!(
            "context.pulumi.{login}.login is documented by ESC (the name of the {what}) but this evaluation's execution context does not set it: escc reads the context from [context] in escc.toml and from --context pulumi.{login}.login=VALUE"
        ),
        ..error(
            "unknown-property",
            "unknown property \"pulumi\"",
            "app",
            "values.greeting",
            at,
        )
    };
    assert_eq!(
        run.diags,
        [
            explained("organization", "organization", "2:29 .pulumi"),
            explained("user", "user", "2:66 .pulumi"),
        ]
    );
    // An undocumented path keeps the reference's message alone.
    let run = run_with(
        &[("app", "values:\n  x: ${context.nope}\n")],
        "app",
        &Mode::Eval,
        &unset,
    );
    assert_eq!(
        run.diags,
        [error(
            "unknown-property",
            "unknown property \"nope\"",
            "app",
            "values.x",
            "2:15 .nope"
        )]
    );
    // What the evaluator sets is always there.
    let run = eval(
        &[(
            "app",
            "values:\n  x: ${context.currentEnvironment.name}/${context.rootEnvironment.name}\n",
        )],
        "app",
    );
    assert_eq!(run.revealed["x"], "app/app");
    assert!(matches!(
        checking
            .get("pulumi")
            .and_then(|p| p.get("user"))
            .and_then(|u| u.get("login"))
            .map(|l| (&l.kind, l.unknown)),
        Some((ValueKind::String(_), true))
    ));
}
