//! Secrets never leak. A property test builds environments that mix plain values and
//! secrets (plaintext, JSON, base64 and ciphertext secrets, in the root and in an imported
//! environment) and derives values from them through every builtin and form; in both
//! `eval` and `check` every value computed from a secret must be secret, and neither the
//! redacted JSON, nor `Debug`, nor any diagnostic may show a secret's plaintext (or its
//! base64 or JSON-escaped forms). Then one test per builtin that can fail on a secret
//! input pins what its message says.
//!
//! Some tests are ignored: they fail on a leak the library has to fix (see their reasons).

use std::collections::BTreeMap;

use escc::eval::{Mode, Value, ValueKind, evaluate};
use escc::testing::TestHost;
use escc::{Diagnostic, Source, load};
use proptest::prelude::*;
use serde_json::{Value as Json, json};

use crate::invariants::{DECORATIONS, base64, document, envelope, needles_of};

// -------------------------------------------------------------------------------------
// Running environments

/// What one evaluation produced.
struct Outcome {
    /// The mode's label, for messages.
    mode: &'static str,
    /// Load diagnostics of the root, then every evaluation diagnostic.
    diags: Vec<Diagnostic>,
    props: BTreeMap<String, Value>,
    /// `Debug` of the whole evaluation (properties, diagnostics, rotations).
    debug: String,
}

impl Outcome {
    fn is_check(&self) -> bool {
        self.mode == "check"
    }

    fn prop(&self, key: &str) -> &Value {
        self.props
            .get(key)
            .unwrap_or_else(|| panic!("{}: no property {key:?}", self.mode))
    }

    /// The summaries of the diagnostics whose path starts with `values.<key>` (or
    /// `values["<key>"]`).
    fn summaries_at(&self, key: &str) -> Vec<&str> {
        let prefixes = [
            format!("values.{key}"),
            format!("values[{}]", serde_json::to_string(key).unwrap()),
        ];
        self.diags
            .iter()
            .filter(|d| {
                prefixes.iter().any(|p| {
                    d.path == *p
                        || d.path.starts_with(&format!("{p}."))
                        || d.path.starts_with(&format!("{p}["))
                })
            })
            .map(|d| d.summary.as_str())
            .collect()
    }

    fn has_summary(&self, summary: &str) -> bool {
        self.diags.iter().any(|d| d.summary == summary)
    }
}

/// Evaluates `root` (environment `root`) with the other environments importable, in
/// `eval` and in `check` without showing secrets.
fn evaluate_both(root: &str, others: &[(&str, &str)]) -> [Outcome; 2] {
    let envs: BTreeMap<String, String> = others
        .iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect();
    let host = TestHost::new(envs, "testdata");
    let source = Source::new("root", root);
    let loaded = load(&source);
    let decl = loaded
        .decl
        .as_ref()
        .unwrap_or_else(|| panic!("the document does not decode: {:?}\n{root}", loaded.diags));
    let run = |mode: &'static str, m: &Mode| {
        let result = evaluate(&source, decl, &host, &TestHost::context(), m);
        let debug = format!("{result:?}");
        let mut diags = loaded.diags.clone();
        diags.extend(result.diags);
        Outcome {
            mode,
            diags,
            props: result.properties.unwrap_or_default(),
            debug,
        }
    };
    [
        run("eval", &Mode::Eval),
        run(
            "check",
            &Mode::Check {
                show_secrets: false,
            },
        ),
    ]
}

/// Asserts that nothing observable in `out` shows any of `needles`: the redacted JSON and
/// `Debug` of every property, every diagnostic's summary, detail and path, and `Debug` of
/// the whole evaluation.
fn assert_hidden(out: &Outcome, needles: &[String], doc: &str) {
    let mut places: Vec<(String, String)> = Vec::new();
    for (k, v) in &out.props {
        places.push((
            format!("redacted JSON of {k}"),
            serde_json::to_string(&v.to_json(true)).unwrap(),
        ));
        places.push((format!("Debug of {k}"), format!("{v:?}")));
    }
    for d in &out.diags {
        let at = format!("diagnostic {:?} at {:?}", d.code, d.path);
        places.push((format!("summary of {at}"), d.summary.clone()));
        places.push((format!("detail of {at}"), d.detail.clone()));
        places.push((format!("path of {at}"), d.path.clone()));
    }
    places.push(("Debug of the evaluation".to_owned(), out.debug.clone()));
    for (what, text) in &places {
        for n in needles {
            assert!(
                !text.contains(n.as_str()),
                "{}: the {what} shows secret text {n:?}: {text}\n--- document:\n{doc}",
                out.mode
            );
        }
    }
}

fn contains_unknown(v: &Value) -> bool {
    v.unknown
        || match &v.kind {
            ValueKind::Array(items) => items.iter().any(contains_unknown),
            ValueKind::Object(m) => m.values().any(contains_unknown),
            _ => false,
        }
}

// -------------------------------------------------------------------------------------
// The property test

#[derive(Clone, Debug)]
struct SecretSpec {
    /// 0 plaintext, 1 JSON text, 2 base64 text, 3 ciphertext.
    kind: u8,
    /// Random, distinctive: it cannot occur by chance.
    core: String,
    decoration: &'static str,
}

impl SecretSpec {
    /// The secret's underlying plaintext (for a JSON or base64 secret, what it encodes).
    fn plaintext(&self) -> String {
        format!("S3CR3T-{}{}", self.core, self.decoration)
    }

    /// The text inside `fn::secret`.
    fn literal_text(&self) -> String {
        let p = self.plaintext();
        match self.kind {
            1 => serde_json::to_string(&json!({"k": p, "l": [p, 1]})).unwrap(),
            2 => base64(p.as_bytes()),
            _ => p,
        }
    }

    fn declaration(&self) -> Json {
        match self.kind {
            3 => json!({"fn::secret": {"ciphertext": envelope(&self.plaintext())}}),
            _ => json!({"fn::secret": self.literal_text()}),
        }
    }

    fn needles(&self) -> Vec<String> {
        let mut n = needles_of(&self.plaintext());
        n.extend(needles_of(&self.literal_text()));
        n.push(self.core.clone());
        n
    }

    fn source(&self, expr: String) -> Src {
        Src {
            expr,
            marker: self.kind != 2,
            json: self.kind == 1,
            cipher: self.kind == 3,
            opaque: false,
        }
    }
}

/// A string-valued reference to something computed from a secret.
#[derive(Clone, Debug)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent facts about a generated reference"
)]
struct Src {
    /// The reference, without `${}`.
    expr: String,
    /// Whether the string holds `S3CR3T-<core>` verbatim (so splitting at `-` gives at
    /// least two pieces).
    marker: bool,
    /// Whether the string is a JSON text.
    json: bool,
    /// Whether it is computed from a ciphertext: in check mode, that is a secret unknown.
    cipher: bool,
    /// Whether it may be unknown rather than secret in check mode (an unknown carries no
    /// data): providers are not opened there, and their unknown results are not secret;
    /// an access into an unknown (a ciphertext's split, say) is a fresh unknown, not
    /// secret either (see `accesses_into_a_secret_unknown_stay_secret`).
    opaque: bool,
}

/// What a top-level property must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Computed from a secret: contains a secret.
    Secret,
    /// Computed from a secret, but in check mode possibly unknown instead.
    SecretUnlessCheck,
    /// Computed from a secret through something that failed or is never opened in
    /// check: secret or unknown in both modes.
    SecretOrUnknown,
    /// Computed from plain values only: contains no secret.
    Plain,
}

#[derive(Clone, Debug)]
struct Spec {
    root: Vec<SecretSpec>,
    other: Vec<SecretSpec>,
    /// (form, source (modulo the number of sources so far), variant).
    derived: Vec<(u8, usize, bool)>,
    /// (form, text).
    plain: Vec<(u8, String)>,
    override_nest: bool,
}

/// The number of derived forms (see [`derive`]).
const FORMS: u8 = 21;

fn secret_spec() -> impl Strategy<Value = SecretSpec> {
    (0u8..4, "[A-Za-z0-9]{10}", prop::sample::select(DECORATIONS)).prop_map(
        |(kind, core, decoration)| SecretSpec {
            kind,
            core,
            decoration,
        },
    )
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec(secret_spec(), 1..4),
        prop::collection::vec(secret_spec(), 1..3),
        prop::collection::vec((0..FORMS, any::<usize>(), any::<bool>()), 1..14),
        prop::collection::vec((0u8..6, "[a-z]{3,8}"), 0..4),
        any::<bool>(),
    )
        .prop_map(|(root, other, derived, plain, override_nest)| Spec {
            root,
            other,
            derived,
            plain,
            override_nest,
        })
}

/// A derived value: the property's expression, what it must be, whether it is expected
/// to fail, and the string-valued references it adds.
struct Derived {
    value: Json,
    expect: Expect,
    fails: bool,
    adds: Vec<Src>,
}

/// Derives property `name` from `src` with `form`.
fn derive(name: &str, form: u8, src: &Src, variant: bool) -> Derived {
    let r = format!("${{{}}}", src.expr);
    let same = |suffix: &str, marker: bool| Src {
        expr: format!("{name}{suffix}"),
        marker,
        json: false,
        cipher: src.cipher,
        opaque: src.opaque,
    };
    // An access into the result, which is unknown in check mode when `src` is.
    let into = |suffix: &str, marker: bool| Src {
        opaque: src.opaque || src.cipher,
        ..same(suffix, marker)
    };
    let string = |marker: bool| vec![same("", marker)];
    let expect = if src.opaque {
        Expect::SecretUnlessCheck
    } else {
        Expect::Secret
    };
    let (value, adds, expect, fails) = match form {
        0 => (
            json!(format!("pre {r} post")),
            string(src.marker),
            expect,
            false,
        ),
        1 => (
            json!(r),
            vec![Src {
                expr: name.to_owned(),
                ..src.clone()
            }],
            expect,
            false,
        ),
        2 => (
            json!({"fn::join": ["-", ["a", r]]}),
            string(src.marker),
            expect,
            false,
        ),
        3 => (
            json!({"fn::join": [r, ["a", "b"]]}),
            string(src.marker),
            expect,
            false,
        ),
        4 => {
            let adds = if src.marker {
                vec![into("[1]", false)]
            } else {
                Vec::new()
            };
            (json!({"fn::split": ["-", r]}), adds, expect, false)
        }
        5 => (
            json!({"fn::concat": [["a"], [r]]}),
            vec![Src {
                json: src.json,
                ..into("[1]", src.marker)
            }],
            expect,
            false,
        ),
        6 => (
            json!({"fn::toJSON": {"k": r, "l": [r, 1]}}),
            vec![Src {
                json: true,
                ..same("", src.marker)
            }],
            expect,
            false,
        ),
        7 => {
            if src.json && variant {
                let value = json!({"fn::fromJSON": r});
                let adds = vec![into(".k", true), into(".l[0]", true)];
                (value, adds, expect, false)
            } else {
                let value = json!({"fn::fromJSON": {"fn::toJSON": {"k": r}}});
                let adds = vec![Src {
                    json: src.json,
                    ..into(".k", src.marker)
                }];
                (value, adds, expect, false)
            }
        }
        8 => {
            let value = if variant {
                json!({"fn::toString": {"k": r, "l": [r]}})
            } else {
                json!({"fn::toString": r})
            };
            (value, string(src.marker), expect, false)
        }
        9 => (json!({"fn::toBase64": r}), string(false), expect, false),
        10 => (
            json!({"fn::fromBase64": {"fn::toBase64": r}}),
            vec![Src {
                expr: name.to_owned(),
                ..src.clone()
            }],
            expect,
            false,
        ),
        11 => {
            if variant {
                let adds = vec![Src {
                    expr: format!("{name}.k"),
                    ..src.clone()
                }];
                (json!({"fn::final": {"k": r}}), adds, expect, false)
            } else {
                let adds = vec![Src {
                    expr: name.to_owned(),
                    ..src.clone()
                }];
                (json!({"fn::final": r}), adds, expect, false)
            }
        }
        12 => {
            let schema = if variant {
                json!({"type": "string", "minLength": 1})
            } else {
                json!(true)
            };
            let adds = vec![Src {
                expr: name.to_owned(),
                ..src.clone()
            }];
            (
                json!({"fn::validate": {"schema": schema, "value": r}}),
                adds,
                expect,
                false,
            )
        }
        13 => {
            let adds = vec![
                Src {
                    expr: format!("{name}.a[1]"),
                    ..src.clone()
                },
                Src {
                    expr: format!("{name}.a[2].b"),
                    ..src.clone()
                },
            ];
            (
                json!({"a": [1, r, {"b": r}], "c": "plain-c"}),
                adds,
                expect,
                false,
            )
        }
        14 => {
            let adds = vec![Src {
                expr: format!("{name}.x"),
                opaque: true,
                ..src.clone()
            }];
            (
                json!({"fn::open::test": {"x": r, "y": "plain-y"}}),
                adds,
                Expect::SecretUnlessCheck,
                false,
            )
        }
        15 => {
            // The wrapper makes its whole output secret, plain inputs included.
            let adds = vec![Src {
                opaque: true,
                cipher: false,
                ..same(".w", false)
            }];
            (
                json!({"fn::open::secret-wrapper": {"x": r, "w": "plain-w"}}),
                adds,
                Expect::SecretUnlessCheck,
                false,
            )
        }
        // The rest fail, with messages that must not show the secret.
        16 => (
            json!({"fn::fromBase64": format!("{r}!")}),
            Vec::new(),
            expect,
            true,
        ),
        17 => (
            json!({"fn::validate": {
                "schema": {"type": "string", "pattern": "^plain$", "maxLength": 3,
                           "enum": ["a", "b"], "const": "c"},
                "value": r,
            }}),
            Vec::new(),
            expect,
            true,
        ),
        18 => {
            let value = if variant {
                json!({"fn::join": ["-", ["a", {"k": r}]]})
            } else {
                json!({"fn::split": [[r], "a-b"]})
            };
            (value, Vec::new(), expect, true)
        }
        19 => (
            json!({"fn::open::schema": {
                "hello": r, "enum": r, "pattern": r, "maxLength": r, "number": r,
                "const-object": {"k": r}, "tuple": [r], "record": {"bar": r},
            }}),
            Vec::new(),
            Expect::SecretOrUnknown,
            true,
        ),
        _ => {
            let value = if variant {
                json!(format!("${{{}[0]}}", src.expr))
            } else {
                json!(format!("${{{}.missing}}", src.expr))
            };
            (value, Vec::new(), Expect::SecretOrUnknown, true)
        }
    };
    Derived {
        value,
        expect,
        fails,
        adds,
    }
}

fn plain_value(form: u8, text: &str) -> Json {
    let t = format!("plain-{text}");
    match form {
        0 => json!(t),
        1 => json!({"fn::toBase64": t}),
        2 => json!({"fn::join": ["-", [t, "q"]]}),
        3 => json!({"fn::open::test": {"x": t}}),
        4 => json!({"fn::toJSON": {"a": [1, t]}}),
        _ => json!(format!("{t} ${{oplain}} ${{imports.other.oplain}}")),
    }
}

/// The documents of a spec, the expectation for every property and the needles.
struct Built {
    root: String,
    other: String,
    expect: BTreeMap<String, Expect>,
    needles: Vec<String>,
    /// The derived properties whose form fails (every diagnostic must be about one).
    failing: Vec<String>,
}

fn build(spec: &Spec) -> Built {
    let mut expect = BTreeMap::new();
    let mut needles = Vec::new();
    let mut sources: Vec<Src> = Vec::new();
    // A ciphertext is not decrypted in check, but its unknown value stays secret, and so
    // does everything computed from it.
    let secret = |_: &SecretSpec| Expect::Secret;

    // The imported environment: secrets, a wrapped value, a nested object, a plain value.
    let mut other = Vec::new();
    for (i, s) in spec.other.iter().enumerate() {
        let name = format!("o{i}");
        other.push((name.clone(), s.declaration()));
        expect.insert(name.clone(), secret(s));
        needles.extend(s.needles());
        sources.push(s.source(name.clone()));
        sources.push(s.source(format!("imports.other.{name}")));
    }
    let first = &spec.other[0];
    other.push((
        "owrap".to_owned(),
        json!({"fn::open::secret-wrapper": {"x": format!("WRAP-{}", first.core)}}),
    ));
    expect.insert("owrap".to_owned(), Expect::SecretUnlessCheck);
    sources.push(Src {
        expr: "owrap.x".to_owned(),
        marker: false,
        json: false,
        cipher: false,
        opaque: true,
    });
    other.push(("onest".to_owned(), json!({"s": "${o0}", "p": "plain-p"})));
    expect.insert("onest".to_owned(), secret(first));
    sources.push(first.source("onest.s".to_owned()));
    sources.push(first.source("imports.other.onest.s".to_owned()));
    other.push(("oplain".to_owned(), json!("plain-other")));
    expect.insert("oplain".to_owned(), Expect::Plain);

    // The root: its own secrets, the derived values, plain values.
    let mut root = Vec::new();
    for (i, s) in spec.root.iter().enumerate() {
        let name = format!("s{i}");
        root.push((name.clone(), s.declaration()));
        expect.insert(name.clone(), secret(s));
        needles.extend(s.needles());
        sources.push(s.source(name));
    }
    if spec.override_nest {
        // Overrides the imported object: the merged value keeps the imported secret.
        root.push(("onest".to_owned(), json!({"q": "plain-q"})));
    }
    let mut failing = Vec::new();
    for (i, (form, index, variant)) in spec.derived.iter().enumerate() {
        let name = format!("d{i}");
        let src = sources[index % sources.len()].clone();
        let d = derive(&name, *form, &src, *variant);
        root.push((name.clone(), d.value));
        expect.insert(name.clone(), d.expect);
        if d.fails {
            failing.push(name);
        }
        sources.extend(d.adds);
    }
    for (i, (form, text)) in spec.plain.iter().enumerate() {
        let name = format!("p{i}");
        root.push((name.clone(), plain_value(*form, text)));
        expect.insert(name, Expect::Plain);
    }
    needles.sort();
    needles.dedup();
    Built {
        root: document(&["other"], &root),
        other: document(&[], &other),
        expect,
        needles,
        failing,
    }
}

fn check_spec(spec: &Spec) {
    let built = build(spec);
    let doc = format!("{}--- other:\n{}", built.root, built.other);
    for out in evaluate_both(&built.root, &[("other", &built.other)]) {
        let mode = out.mode;
        for d in &out.diags {
            let about = |name: &String| {
                d.path == format!("values.{name}")
                    || d.path.starts_with(&format!("values.{name}["))
                    || d.path.starts_with(&format!("values.{name}."))
            };
            assert!(
                d.environment == "root" && built.failing.iter().any(about),
                "{mode}: unexpected diagnostic {:?} at {}:{:?}\n{doc}",
                d.summary,
                d.environment,
                d.path,
            );
        }
        assert_eq!(
            out.props.keys().collect::<Vec<_>>(),
            built.expect.keys().collect::<Vec<_>>(),
            "{mode}: the properties\n{doc}"
        );
        for (key, expect) in &built.expect {
            let v = out.prop(key);
            let secret = v.contains_secret();
            let ok = match expect {
                Expect::Secret => secret,
                Expect::SecretUnlessCheck => secret || (out.is_check() && contains_unknown(v)),
                Expect::SecretOrUnknown => secret || contains_unknown(v),
                Expect::Plain => !secret,
            };
            assert!(
                ok,
                "{mode}: {key} should be {expect:?}, is {v:?} (secret {}, unknown {})\n{doc}",
                v.secret, v.unknown
            );
        }
        assert_hidden(&out, &built.needles, &doc);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn values_computed_from_secrets_stay_secret_and_hidden(spec in spec()) {
        check_spec(&spec);
    }
}

/// One environment with every form, so a failure here is easy to read.
#[test]
fn every_form_at_once() {
    let specs = |kind: u8, core: &str| SecretSpec {
        kind,
        core: core.to_owned(),
        decoration: "<&>",
    };
    let root = (0..4).map(|k| specs(k, &format!("RootCore{k}x"))).collect();
    let other = (0..4).map(|k| specs(k, &format!("OtherCore{k}"))).collect();
    let mut derived = Vec::new();
    // The first sources, in order: o0..o3 (bare and through `imports`), owrap.x, onest.s
    // (bare and through `imports`), s0..s3.
    for source in 0..15 {
        for form in 0..FORMS {
            derived.push((form, source, source % 2 == 0));
        }
    }
    // Then derived values of derived values.
    for form in 0..FORMS {
        for variant in [false, true] {
            derived.push((form, 15 + derived.len() / 3, variant));
        }
    }
    check_spec(&Spec {
        root,
        other,
        derived,
        plain: (0..6).map(|f| (f, format!("t{f}"))).collect(),
        override_nest: true,
    });
}

// -------------------------------------------------------------------------------------
// Builtins failing on secret inputs

const SECRET: &str = "S3CR3T-Hq7Zx2Lm9P";

fn secret_needles() -> Vec<String> {
    let mut n = needles_of(SECRET);
    n.push("Hq7Zx2Lm9P".to_owned());
    n
}

/// Whether `text` quotes (Go `'c'` style) any character of `plaintext`.
fn quotes_a_char_of(text: &str, plaintext: &str) -> Option<char> {
    plaintext
        .chars()
        .filter(|c| !c.is_whitespace())
        .find(|c| text.contains(&format!("'{c}'")))
}

/// `fn::fromJSON` of a secret that is not JSON: Go's decoder names the offending byte
/// (`invalid character 'S' looking for beginning of value`), which is a byte of the
/// secret.
#[test]
fn from_json_error_quotes_no_byte_of_the_secret() {
    let doc = document(
        &[],
        &[
            ("s".to_owned(), json!({"fn::secret": SECRET})),
            (
                "t".to_owned(),
                json!({"fn::secret": format!("{{\"k\": {SECRET}}}")}),
            ),
            (
                "u".to_owned(),
                json!({"fn::secret": format!("[1, 2 {SECRET}]")}),
            ),
            ("a".to_owned(), json!({"fn::fromJSON": "${s}"})),
            ("b".to_owned(), json!({"fn::fromJSON": "${t}"})),
            ("c".to_owned(), json!({"fn::fromJSON": "${u}"})),
        ],
    );
    for out in evaluate_both(&doc, &[]) {
        for key in ["a", "b", "c"] {
            let summaries = out.summaries_at(key);
            assert_eq!(summaries.len(), 1, "{}: {key}: {summaries:?}", out.mode);
            assert!(summaries[0].starts_with("decoding JSON string: "));
            assert_eq!(
                quotes_a_char_of(summaries[0], SECRET),
                None,
                "{}: {key}: {:?}",
                out.mode,
                summaries[0]
            );
            let v = out.prop(key);
            assert!(v.secret && v.unknown, "{}: {key}: {v:?}", out.mode);
        }
        assert_hidden(&out, &secret_needles(), &doc);
    }
}

/// The decode errors that name no byte of the input show nothing of the secret.
#[test]
fn from_json_errors_without_a_quoted_byte_show_nothing() {
    let doc = document(
        &[],
        &[
            (
                "s".to_owned(),
                json!({"fn::secret": format!("{{\"k\": \"{SECRET}")}),
            ),
            ("t".to_owned(), json!({"fn::secret": ""})),
            ("a".to_owned(), json!({"fn::fromJSON": "${s}"})),
            ("b".to_owned(), json!({"fn::fromJSON": "${t}"})),
        ],
    );
    for out in evaluate_both(&doc, &[]) {
        for (key, expected) in [
            ("a", "decoding JSON string: unexpected EOF"),
            ("b", "decoding JSON string: EOF"),
        ] {
            assert_eq!(out.summaries_at(key), [expected], "{}", out.mode);
            let v = out.prop(key);
            assert!(v.secret && v.unknown, "{}: {key}: {v:?}", out.mode);
        }
        assert_hidden(&out, &secret_needles(), &doc);
    }
}

#[test]
fn from_base64_error_shows_only_a_position() {
    let doc = document(
        &[],
        &[
            ("s".to_owned(), json!({"fn::secret": SECRET})),
            ("a".to_owned(), json!({"fn::fromBase64": "${s}"})),
            ("b".to_owned(), json!({"fn::fromBase64": "QUJD${s}"})),
        ],
    );
    for out in evaluate_both(&doc, &[]) {
        assert_eq!(
            out.summaries_at("a"),
            ["decoding base64 string: illegal base64 data at input byte 6"],
            "{}",
            out.mode
        );
        assert_eq!(
            out.summaries_at("b"),
            ["decoding base64 string: illegal base64 data at input byte 10"],
            "{}",
            out.mode
        );
        for key in ["a", "b"] {
            let v = out.prop(key);
            assert!(v.secret && v.unknown, "{}: {key}: {v:?}", out.mode);
        }
        assert_hidden(&out, &secret_needles(), &doc);
    }
}

/// `fn::join`, `fn::split` and `fn::concat` with secret arguments of the wrong type say
/// only which type they got.
#[test]
fn join_split_concat_type_errors_name_only_types() {
    let doc = document(
        &[],
        &[
            ("s".to_owned(), json!({"fn::secret": SECRET})),
            (
                "j".to_owned(),
                json!({"fn::secret": format!("{{\"k\": \"{SECRET}\"}}")}),
            ),
            ("obj".to_owned(), json!({"fn::fromJSON": "${j}"})),
            ("n".to_owned(), json!({"fn::secret": "31415926535"})),
            ("num".to_owned(), json!({"fn::fromJSON": "${n}"})),
            (
                "join-elem".to_owned(),
                json!({"fn::join": ["-", ["a", "${obj}"]]}),
            ),
            (
                "join-delim".to_owned(),
                json!({"fn::join": ["${num}", ["a"]]}),
            ),
            ("join-values".to_owned(), json!({"fn::join": ["-", "${s}"]})),
            (
                "split-string".to_owned(),
                json!({"fn::split": ["-", "${obj}"]}),
            ),
            (
                "split-delim".to_owned(),
                json!({"fn::split": ["${num}", "a"]}),
            ),
            ("concat".to_owned(), json!({"fn::concat": [["a"], "${s}"]})),
        ],
    );
    let mut needles = secret_needles();
    needles.push("31415926535".to_owned());
    for out in evaluate_both(&doc, &[]) {
        let all: Vec<&str> = out.diags.iter().map(|d| d.summary.as_str()).collect();
        for expected in [
            "expected string, got object",
            "expected string, got number",
            "expected array, got string",
        ] {
            assert!(out.has_summary(expected), "{}: {all:?}", out.mode);
        }
        assert!(
            all.iter().all(|s| s.starts_with("expected ")),
            "{}: {all:?}",
            out.mode
        );
        for key in [
            "join-elem",
            "join-delim",
            "join-values",
            "split-string",
            "split-delim",
            "concat",
        ] {
            let v = out.prop(key);
            assert!(v.secret && v.unknown, "{}: {key}: {v:?}", out.mode);
        }
        assert_hidden(&out, &needles, &doc);
    }
}

/// `fn::validate` of a secret value: the messages quote the schema, never the value, and
/// the value passes through, still secret.
#[test]
fn validate_of_a_secret_value_quotes_only_the_schema() {
    let cases = [
        ("pattern", json!({"type": "string", "pattern": "^foo$"})),
        ("const", json!({"const": "foo"})),
        ("enum", json!({"enum": ["foo", "bar"]})),
        ("enum1", json!({"enum": ["foo"]})),
        ("type", json!({"type": "number"})),
        ("max-length", json!({"type": "string", "maxLength": 3})),
        ("min-length", json!({"type": "string", "minLength": 99})),
        ("object", json!({"type": "object", "required": ["k", "z"]})),
    ];
    let mut values = vec![
        ("s".to_owned(), json!({"fn::secret": SECRET})),
        (
            "j".to_owned(),
            json!({"fn::secret": format!("{{\"k\": \"{SECRET}\"}}")}),
        ),
        ("obj".to_owned(), json!({"fn::fromJSON": "${j}"})),
    ];
    for (name, schema) in &cases {
        let value = if *name == "object" { "${obj}" } else { "${s}" };
        values.push((
            (*name).to_owned(),
            json!({"fn::validate": {"schema": schema, "value": value}}),
        ));
    }
    let doc = document(&[], &values);
    for out in evaluate_both(&doc, &[]) {
        for expected in [
            "string must match the pattern \"^foo$\"",
            "expected \"foo\"",
            "expected one of [\"foo\",\"bar\"]",
            "expected number, got string",
            "expected a string of at most length 3",
            "expected a string of at least length 99",
            "missing required properties: z",
        ] {
            assert!(
                out.has_summary(expected),
                "{}: no {expected:?} in {:?}",
                out.mode,
                out.diags.iter().map(|d| &d.summary).collect::<Vec<_>>()
            );
        }
        for (name, _) in &cases {
            let v = out.prop(name);
            assert!(v.secret && !v.unknown, "{}: {name}: {v:?}", out.mode);
        }
        assert_hidden(&out, &secret_needles(), &doc);
    }
}

/// `fn::validate` whose *schema* holds a secret (`const: ${token}` to check a value
/// against a secret): the messages print the schema, so they print the secret.
#[test]
fn validate_against_a_secret_schema_shows_nothing() {
    let doc = document(
        &[],
        &[
            ("s".to_owned(), json!({"fn::secret": SECRET})),
            (
                "bad".to_owned(),
                json!({"fn::secret": format!("({SECRET}")}),
            ),
            (
                "const".to_owned(),
                json!({"fn::validate": {"schema": {"const": "${s}"}, "value": "x"}}),
            ),
            (
                "enum".to_owned(),
                json!({"fn::validate": {"schema": {"enum": ["${s}", "y"]}, "value": "x"}}),
            ),
            (
                "pattern".to_owned(),
                json!({"fn::validate": {"schema": {"pattern": "${s}"}, "value": "x"}}),
            ),
            (
                "regexp".to_owned(),
                json!({"fn::validate": {"schema": {"pattern": "${bad}"}, "value": "x"}}),
            ),
        ],
    );
    for out in evaluate_both(&doc, &[]) {
        for key in ["const", "enum", "pattern"] {
            assert_eq!(out.summaries_at(key).len(), 1, "{}: {key}", out.mode);
        }
        assert_eq!(out.summaries_at("regexp").len(), 1, "{}", out.mode);
        assert_hidden(&out, &secret_needles(), &doc);
    }
}

/// A provider's input schema violated by secret inputs: the messages quote the schema.
#[test]
fn provider_schema_errors_on_secret_inputs_quote_only_the_schema() {
    let doc = document(
        &[],
        &[
            ("s".to_owned(), json!({"fn::secret": SECRET})),
            (
                "j".to_owned(),
                json!({"fn::secret": format!("{{\"k\": \"{SECRET}\"}}")}),
            ),
            ("obj".to_owned(), json!({"fn::fromJSON": "${j}"})),
            (
                "opened".to_owned(),
                json!({"fn::open::schema": {
                    "const-object": "${obj}",
                    "enum": "${s}",
                    "pattern": "${s}",
                    "hello": "${s}",
                    "maxLength": "${s}",
                    "number": "${s}",
                    "record": "${obj}",
                    "tuple": ["${s}"],
                    "ref": {"baz": "${s}"},
                }}),
            ),
        ],
    );
    for out in evaluate_both(&doc, &[]) {
        for expected in [
            "expected {\"hello\":\"world\"}",
            "expected one of [\"foo\",\"bar\"]",
            "string must match the pattern \"^foo[0-9]+$\"",
            "expected \"hello\"",
            "expected a string of at most length 1",
            "expected number, got string",
            "missing required properties: foo",
            "expected \"qux\"",
        ] {
            assert!(
                out.has_summary(expected),
                "{}: no {expected:?} in {:?}",
                out.mode,
                out.diags.iter().map(|d| &d.summary).collect::<Vec<_>>()
            );
        }
        let v = out.prop("opened");
        assert!(v.unknown, "{}: {v:?}", out.mode);
        assert_hidden(&out, &secret_needles(), &doc);
    }
}

/// `fn::open::error` fails with its input `why` as the message. The reference prints a
/// provider's error verbatim, so when the provider chooses to echo a secret input the
/// diagnostic shows it: that is the provider's responsibility, not the evaluator's (it
/// cannot know which part of an error text came from which input). This documents the
/// behaviour: the message is the secret, verbatim, in eval; the value shows nothing;
/// check never opens the provider, so it says nothing.
#[test]
fn provider_errors_are_printed_verbatim_even_when_they_echo_a_secret() {
    let doc = document(
        &[],
        &[
            ("s".to_owned(), json!({"fn::secret": SECRET})),
            (
                "failed".to_owned(),
                json!({"fn::open::error": {"why": "${s}"}}),
            ),
        ],
    );
    let [eval, check] = evaluate_both(&doc, &[]);
    assert_eq!(eval.summaries_at("failed"), [SECRET]);
    assert!(check.diags.is_empty(), "{:?}", check.diags);
    for out in [eval, check] {
        let v = out.prop("failed");
        assert!(v.unknown, "{}: {v:?}", out.mode);
        for key in ["s", "failed"] {
            let v = out.prop(key);
            let json = serde_json::to_string(&v.to_json(true)).unwrap();
            for n in secret_needles() {
                assert!(!json.contains(&n), "{}: {key}: {json}", out.mode);
                assert!(!format!("{v:?}").contains(&n), "{}: {key}: {v:?}", out.mode);
            }
        }
    }
}

/// In check mode a ciphertext is not decrypted: it is a secret unknown, and so is what is
/// computed from it. But an access into such an unknown (`${parts[1]}` of its split,
/// `${obj.k}` of its `fn::fromJSON`) is a fresh unknown that is not secret, so the property
/// shows `[unknown]` in check and `[secret]` in eval. Nothing leaks (an unknown holds no
/// data), but the flag is wrong; the reference's unknown access does the same.
#[test]
fn accesses_into_a_secret_unknown_stay_secret() {
    let doc = document(
        &[],
        &[
            (
                "c".to_owned(),
                json!({"fn::secret": {"ciphertext": envelope(SECRET)}}),
            ),
            (
                "cj".to_owned(),
                json!({"fn::secret": {"ciphertext": envelope(&format!("{{\"k\": \"{SECRET}\"}}"))}}),
            ),
            ("parts".to_owned(), json!({"fn::split": ["-", "${c}"]})),
            ("obj".to_owned(), json!({"fn::fromJSON": "${cj}"})),
            ("first".to_owned(), json!("${parts[1]}")),
            ("k".to_owned(), json!("${obj.k}")),
            ("interp".to_owned(), json!("x ${obj.k}")),
        ],
    );
    for out in evaluate_both(&doc, &[]) {
        assert!(out.diags.is_empty(), "{}: {:?}", out.mode, out.diags);
        for key in ["c", "cj", "parts", "obj", "first", "k", "interp"] {
            let v = out.prop(key);
            assert!(v.secret, "{}: {key} is not secret: {v:?}", out.mode);
            assert_eq!(v.unknown, out.is_check(), "{}: {key}: {v:?}", out.mode);
        }
        assert_hidden(&out, &secret_needles(), &doc);
    }
}

/// Accessing a secret string as a list or an object says only that it is neither.
#[test]
fn accesses_into_a_secret_string_show_nothing() {
    let doc = document(
        &[],
        &[
            ("s".to_owned(), json!({"fn::secret": SECRET})),
            ("r".to_owned(), json!("${s}")),
            ("index".to_owned(), json!("${s[0]}")),
            ("name".to_owned(), json!("${s.missing}")),
            ("key".to_owned(), json!("${s[\"S3CR3T\"]}")),
            ("via-ref".to_owned(), json!("${r[0]}")),
            ("interp".to_owned(), json!("x ${s[1]} y")),
        ],
    );
    for out in evaluate_both(&doc, &[]) {
        for key in ["index", "name", "key", "via-ref", "interp"] {
            assert_eq!(
                out.summaries_at(key),
                ["receiver must be an array or an object"],
                "{}: {key}",
                out.mode
            );
            assert!(out.prop(key).unknown, "{}: {key}", out.mode);
        }
        assert_hidden(&out, &secret_needles(), &doc);
    }
}

/// Accessing a missing property of a secret object: the message names the missing key but
/// suggests no present key (the keys are part of the secret) and never shows a value; out-of-range indexes of a
/// secret list show only the length.
#[test]
fn missing_properties_of_a_secret_object_show_no_value() {
    let json_text = format!("{{\"user\": \"{SECRET}\", \"list\": [\"{SECRET}\"]}}");
    let doc = document(
        &[],
        &[
            ("j".to_owned(), json!({"fn::secret": json_text})),
            ("obj".to_owned(), json!({"fn::fromJSON": "${j}"})),
            ("near".to_owned(), json!("${obj.usr}")),
            ("far".to_owned(), json!("${obj.zzzzzzzz}")),
            ("deep".to_owned(), json!("${obj.user.x}")),
            ("index".to_owned(), json!("${obj.list[3]}")),
            ("in-string".to_owned(), json!("x ${obj.lst} y")),
            (
                "wrapped".to_owned(),
                json!({"fn::open::secret-wrapper": {"user": "${obj.user}"}}),
            ),
            ("wrapped-near".to_owned(), json!("${wrapped.usr}")),
        ],
    );
    for out in evaluate_both(&doc, &[]) {
        let at = |k: &str| out.summaries_at(k);
        assert_eq!(at("near"), ["unknown property \"usr\""], "{}", out.mode);
        assert_eq!(at("far"), ["unknown property \"zzzzzzzz\""], "{}", out.mode);
        assert_eq!(
            at("deep"),
            ["receiver must be an array or an object"],
            "{}",
            out.mode
        );
        assert_eq!(
            at("index"),
            ["array index 3 out-of-bounds for array of length 1"],
            "{}",
            out.mode
        );
        assert_eq!(
            at("in-string"),
            ["unknown property \"lst\""],
            "{}",
            out.mode
        );
        if out.is_check() {
            // The provider is not opened: the access is into an unknown.
            assert!(at("wrapped-near").is_empty(), "{:?}", at("wrapped-near"));
        } else {
            assert_eq!(at("wrapped-near"), ["unknown property \"usr\""]);
        }
        assert_hidden(&out, &secret_needles(), &doc);
    }
}

/// A secret object's keys are part of its plaintext (`{"alice": ..., "bob": ...}` of a
/// secret JSON text; the whole object redacts to `[secret]`), but the did-you-mean of a
/// missing property names the nearest key.
#[test]
fn missing_properties_of_a_secret_object_suggest_no_key() {
    let key = "Kq81ZxWvUs";
    let doc = document(
        &[],
        &[
            (
                "j".to_owned(),
                json!({"fn::secret": format!("{{\"{key}\": 1}}")}),
            ),
            ("obj".to_owned(), json!({"fn::fromJSON": "${j}"})),
            ("near".to_owned(), json!("${obj.Kq81ZxWvU}")),
            (
                "wrapped".to_owned(),
                json!({"fn::open::secret-wrapper": {"Kq81ZxWvUs": 1}}),
            ),
            ("wrapped-near".to_owned(), json!("${wrapped.Kq81ZxWvU}")),
        ],
    );
    for out in evaluate_both(&doc, &[]) {
        assert_eq!(out.summaries_at("near").len(), 1, "{}", out.mode);
        assert_eq!(out.prop("obj").to_json(true), json!("[secret]"));
        assert_hidden(&out, &[format!("\"{key}\"")], &doc);
    }
}
