//! Evaluation of our own fixtures (`fixtures/eval/*.yaml`, one builtin or feature per
//! file, errors included): diagnostics and the redacted and revealed values of check and
//! eval, pinned by snapshots. Every file of the folder is importable by its stem.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use escc::eval::{Evaluation, Mode, evaluate};
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
