//! Every limit of `escc::Limits`, and the evaluator's limit on nested evaluations, is reported
//! as a located diagnostic, never a crash.

use escc::{Code, Limits, Source, load_with};

type Found = (Code, String, Option<(usize, usize)>);

fn codes(text: &str, limits: &Limits) -> Vec<Found> {
    let source = Source::new("t", text.to_owned());
    load_with(&source, limits)
        .diags
        .into_iter()
        .map(|d| (d.code, d.summary, d.span.map(|s| (s.start(), s.end()))))
        .collect()
}

#[test]
fn deep_nesting_is_reported_where_it_crosses_the_limit() {
    let limits = Limits::default();
    let depth = limits.max_depth + 10;
    let text = format!("values:\n  a: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let diags = codes(&text, &limits);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].0, Code::LimitExceeded);
    assert_eq!(diags[0].1, "nesting is deeper than the limit of 128");
    // The root mapping and `values` take two levels, so the 255th bracket crosses it.
    let (start, _) = diags[0].2.unwrap();
    assert_eq!(start, text.find('[').unwrap() + limits.max_depth - 2);
}

#[test]
fn deep_block_nesting_is_reported() {
    let limits = Limits {
        max_depth: 10,
        ..Limits::default()
    };
    let mut text = String::from("values:\n");
    for i in 0..20 {
        text.push_str(&" ".repeat(2 * (i + 1)));
        text.push_str("k:\n");
    }
    let diags = codes(&text, &limits);
    assert_eq!(diags[0].0, Code::LimitExceeded);
    assert!(diags[0].2.is_some());
}

#[test]
fn large_documents_are_refused_up_front() {
    let limits = Limits {
        max_document_bytes: 100,
        ..Limits::default()
    };
    let text = format!("values:\n  a: {}\n", "x".repeat(200));
    let diags = codes(&text, &limits);
    assert_eq!(
        diags,
        vec![(
            Code::LimitExceeded,
            "document is larger than the limit of 100 bytes".to_owned(),
            Some((100, text.len()))
        )]
    );
}

#[test]
fn large_scalars_are_reported_at_the_scalar() {
    let limits = Limits {
        max_scalar_bytes: 10,
        ..Limits::default()
    };
    let text = "values:\n  a: short\n  b: this one is far too long\n";
    let diags = codes(text, &limits);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].0, Code::LimitExceeded);
    assert_eq!(diags[0].1, "scalar is larger than the limit of 10 bytes");
    let b = text.find("this").unwrap();
    assert_eq!(diags[0].2, Some((b, text.len() - 1)));
}

#[test]
fn aliases_are_refused_so_they_cannot_expand() {
    let text = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n";
    let diags = codes(text, &Limits::default());
    assert_eq!(diags.len(), 4);
    assert!(diags.iter().all(|d| d.0 == Code::YamlAlias));
}

#[test]
fn reference_chains_deeper_than_the_evaluation_limit_are_reported() {
    // `a0: ${a1}`, `a1: ${a2}`, ...: each reference waits on the next. Past 20,000 nested
    // evaluations the chain is cut with one diagnostic (and the evaluator's stack grows on
    // the heap up to there, so nothing overflows).
    use escc::eval::{Mode, evaluate};
    use escc::testing::TestHost;
    use std::fmt::Write as _;
    let chain = |n: usize| {
        let mut text = String::from("values:\n");
        for i in 0..n {
            let _ = writeln!(text, "  a{i}: ${{a{}}}", i + 1);
        }
        let _ = writeln!(text, "  a{n}: end");
        text
    };
    let run = |text: &str| {
        let source = Source::new("t", text.to_owned());
        let decl = escc::load(&source).decl.unwrap();
        let ev = evaluate(
            &source,
            &decl,
            &TestHost::default(),
            &TestHost::context(),
            &Mode::Eval,
        );
        let props = ev.properties.unwrap();
        (ev.diags, props["a0"].clone())
    };
    let (diags, a0) = run(&chain(1_000));
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(a0.to_json(false), "end");
    let (diags, a0) = run(&chain(30_000));
    let limits: Vec<_> = diags
        .iter()
        .filter(|d| d.code == Code::LimitExceeded)
        .map(|d| d.summary.as_str())
        .collect();
    assert_eq!(
        limits,
        ["references are nested deeper than the limit of 20000"],
        "{diags:?}"
    );
    assert!(a0.unknown);
}
