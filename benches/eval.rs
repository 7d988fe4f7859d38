//! Evaluation, against the floor of a bare saphyr-parser event pass over the same input,
//! in one criterion group per workload: the reference's benchmark environments (26 imports,
//! 10 `fn::open`s; when the conformance data is present) with no latency, concurrent and
//! sequential, and generated environments of 1,000 and 10,000 values. `scripts/perf-table.sh`
//! prints the wider table of `docs/performance.md` (latency, 100k values, memory).
//!
//! ```sh
//! cargo bench --bench eval -- --noplot
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::Criterion;
use escc::eval::{Mode, Options, evaluate_with};
use escc::testing::TestHost;
use escc::{Limits, Source, load_with};

fn values(n: usize) -> String {
    let mut s = String::from("values:\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "  k{i}:\n    name: item-{i}\n    count: {i}\n    enabled: true\n    tags: [a, b]\n    label: \"item ${{k{}.name}}\"",
            i.saturating_sub(1)
        );
    }
    s
}

fn reference() -> Option<(String, BTreeMap<String, String>)> {
    let dir = std::env::var_os("ESCC_CONFORMANCE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/esc"),
        PathBuf::from,
    );
    let mut envs = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("eval/bench")).ok()? {
        let path = entry.ok()?.path();
        let stem = path.file_stem()?.to_string_lossy().into_owned();
        envs.insert(stem, std::fs::read_to_string(&path).ok()?);
    }
    let root = envs.remove("env")?;
    Some((root, envs))
}

/// The workloads are trusted and may be larger than the default limits allow.
fn limits() -> Limits {
    Limits {
        max_nodes: usize::MAX,
        ..Limits::default()
    }
}

fn bench_workload(
    c: &mut Criterion,
    name: &str,
    root: &str,
    envs: &BTreeMap<String, String>,
    max_in_flight: &[usize],
) {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    let all: Vec<&str> = std::iter::once(root)
        .chain(envs.values().map(String::as_str))
        .collect();
    group.bench_function("saphyr_events", |b| {
        b.iter(|| {
            for text in &all {
                for event in saphyr_parser::Parser::new_from_str(text) {
                    black_box(event.ok());
                }
            }
        });
    });
    let host = TestHost::new(envs.clone(), "bench");
    let context = TestHost::context();
    for &n in max_in_flight {
        let options = Options {
            max_in_flight: n,
            limits: limits(),
            max_value_weight: usize::MAX,
            ..Options::default()
        };
        group.bench_function(format!("load_and_eval_in_flight_{n}"), |b| {
            b.iter(|| {
                let source = Source::new("root", root);
                let decl = load_with(&source, &limits())
                    .decl
                    .expect("the workload decodes");
                black_box(evaluate_with(
                    &source,
                    &decl,
                    &host,
                    &context,
                    &Mode::Eval,
                    &options,
                ))
            });
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    if let Some((root, envs)) = reference() {
        bench_workload(c, "reference", &root, &envs, &[1, 32]);
    } else {
        eprintln!("the conformance data is absent: the reference workload is skipped");
    }
    for (name, n) in [("values_1k", 1_000), ("values_10k", 10_000)] {
        bench_workload(c, name, &values(n), &BTreeMap::new(), &[32]);
    }
}

criterion::criterion_group!(group, benches);
criterion::criterion_main!(group);
