//! Prints the performance table of `docs/performance.md`: for each workload, the time of a
//! bare saphyr-parser event pass (the floor), of `load` (YAML to declarations), of `check`
//! and of `eval`, each the median of several runs, and the peak memory of the process that
//! ran the row.
//!
//! Run with `scripts/perf-table.sh` (a release build). Each row runs in its own process
//! (`perf --row NAME`), so peak memory is per workload.

#![allow(
    clippy::cast_precision_loss,
    reason = "sizes shown in MiB with two decimals"
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use escc::eval::{Mode, Options, evaluate_with};
use escc::testing::TestHost;
use escc::{Limits, Source, load_with};

struct Workload {
    root: String,
    envs: BTreeMap<String, String>,
    open_delay: Duration,
    load_delay: Duration,
    sequential: bool,
    /// Each timed evaluation follows one untimed evaluation with no latency: what a process
    /// whose calls were fast until then pays when they become slow.
    after_fast: bool,
}

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

/// `n` top-level values; every fifth interpolates the one before it.
fn flat(n: usize) -> String {
    let mut s = String::from("values:\n");
    for i in 0..n {
        if i % 5 == 4 {
            let _ = writeln!(s, "  key{i}: \"v ${{key{}}}\"", i - 1);
        } else {
            let _ = writeln!(s, "  key{i}: value-{i}-abcdef");
        }
    }
    s
}

fn chain(n: usize) -> String {
    let mut s = String::from("values:\n  v0: start\n");
    for i in 1..n {
        let _ = writeln!(s, "  v{i}: ${{v{}}}", i - 1);
    }
    s
}

fn interpolations(n: usize) -> String {
    let mut s = String::from("values:\n  base: x\n");
    for i in 0..n {
        let _ = writeln!(
            s,
            "  s{i}: \"${{base}}-{i}-${{base}}-${{base}}-${{base}}-${{base}}-${{base}}-${{base}}\""
        );
    }
    s
}

fn nesting(depth: usize) -> String {
    let mut s = String::from("values:\n");
    for d in 0..depth {
        s.push_str(&"  ".repeat(d + 1));
        let _ = writeln!(s, "n{d}:");
    }
    s.push_str(&"  ".repeat(depth + 1));
    s.push_str("leaf: value\n");
    s
}

fn workload(name: &str) -> Option<Workload> {
    let single = |text: String| Workload {
        root: text,
        envs: BTreeMap::new(),
        open_delay: Duration::ZERO,
        load_delay: Duration::ZERO,
        sequential: false,
        after_fast: false,
    };
    Some(match name {
        "values-1k" => single(values(1_000)),
        "values-10k" => single(values(10_000)),
        "values-100k" => single(values(100_000)),
        // Issue 20's growth target: 4,000 and 40,000 top-level values (about 1 MB for
        // 40k, under the command line's default node limit, so `escc open` reads it too).
        "values-4k" => single(flat(4_000)),
        "values-40k" => single(flat(40_000)),
        "chain-1k" => single(chain(1_000)),
        "chain-10k" => single(chain(10_000)),
        "interpolation-1k" => single(interpolations(1_000)),
        "interpolation-10k" => single(interpolations(10_000)),
        "interpolation-100k" => single(interpolations(100_000)),
        "nesting-100" => single(nesting(100)),
        "imports-1k" | "imports-10k" => {
            let n = if name == "imports-1k" { 1_000 } else { 10_000 };
            let mut envs = BTreeMap::new();
            let mut root = String::from("imports:\n");
            for i in 0..n {
                let _ = writeln!(root, "  - e{i}");
                envs.insert(
                    format!("e{i}"),
                    format!("values:\n  v{i}: {i}\n  shared:\n    k{i}: x\n"),
                );
            }
            let _ = writeln!(root, "values:\n  total: ${{v{}}}", n - 1);
            Workload {
                root,
                envs,
                open_delay: Duration::ZERO,
                load_delay: Duration::ZERO,
                sequential: false,
                after_fast: false,
            }
        }
        _ => {
            let (delay, sequential, after_fast) = match name {
                "reference-0ms" => (0, false, false),
                "reference-0ms-sequential" => (0, true, false),
                "reference-10ms" => (10, false, false),
                "reference-10ms-after-fast" => (10, false, true),
                "reference-10ms-sequential" => (10, true, false),
                _ => return None,
            };
            let dir = std::env::var_os("ESCC_CONFORMANCE").map_or_else(
                || {
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("../shared/conformance/esc")
                },
                std::path::PathBuf::from,
            );
            let dir = dir.join("eval/bench");
            let mut envs = BTreeMap::new();
            for e in std::fs::read_dir(&dir).ok()? {
                let p = e.ok()?.path();
                let stem = p.file_stem()?.to_string_lossy().into_owned();
                envs.insert(stem, std::fs::read_to_string(&p).ok()?);
            }
            let root = envs.remove("env")?;
            Workload {
                root,
                envs,
                open_delay: Duration::from_millis(delay),
                load_delay: Duration::from_millis(delay),
                sequential,
                after_fast,
            }
        }
    })
}

/// The default limits, less the node limit.
fn workload_limits() -> Limits {
    Limits {
        max_nodes: usize::MAX,
        ..Limits::default()
    }
}

fn median(mut f: impl FnMut(), runs: usize) -> f64 {
    median_of(
        || {
            let t = Instant::now();
            f();
            t.elapsed()
        },
        runs,
    )
}

/// The median, in ms, of what `f` measures.
fn median_of(mut f: impl FnMut() -> Duration, runs: usize) -> f64 {
    let mut times: Vec<f64> = (0..runs).map(|_| f().as_secs_f64() * 1e3).collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn row(name: &str) {
    let Some(w) = workload(name) else {
        println!("| {name} | (workload not available) |");
        return;
    };
    let bytes: usize = w.root.len() + w.envs.values().map(String::len).sum::<usize>();
    let runs = if bytes > 4 << 20 { 3 } else { 7 };
    let all: Vec<&String> = std::iter::once(&w.root).chain(w.envs.values()).collect();
    let saphyr = median(
        || {
            for text in &all {
                for ev in saphyr_parser::Parser::new_from_str(text) {
                    std::hint::black_box(ev.ok());
                }
            }
        },
        runs,
    );
    let source = Source::new("root", w.root.as_str());
    let load_ms = median(
        || {
            for text in &all {
                std::hint::black_box(load_with(
                    &Source::new("x", text.as_str()),
                    &workload_limits(),
                ));
            }
        },
        runs,
    );
    let host = TestHost::new(w.envs.clone(), "bench")
        .with_open_delay(w.open_delay)
        .with_load_delay(w.load_delay);
    // The workloads are trusted and larger than the defaults allow (sized for hostile
    // input): 100k values are 1.4M YAML nodes.
    let options = Options {
        max_in_flight: if w.sequential {
            1
        } else {
            Options::default().max_in_flight
        },
        limits: workload_limits(),
        max_value_weight: usize::MAX,
        max_environments: usize::MAX,
        ..Options::default()
    };
    let fast = w.after_fast.then(|| TestHost::new(w.envs.clone(), "bench"));
    let ctx = TestHost::context();
    let mut diags = 0;
    let mut run = |mode: &Mode| {
        if let Some(fast) = &fast {
            let decl = load_with(&source, &workload_limits()).decl;
            let decl = decl.expect("the workload decodes");
            std::hint::black_box(evaluate_with(&source, &decl, fast, &ctx, mode, &options));
        }
        let t = Instant::now();
        let loaded = load_with(&source, &workload_limits());
        let decl = loaded.decl.expect("the workload decodes");
        let result = evaluate_with(&source, &decl, &host, &ctx, mode, &options);
        let took = t.elapsed();
        diags = result.diags.len();
        std::hint::black_box(result);
        took
    };
    let check = median_of(
        || {
            run(&Mode::Check {
                show_secrets: false,
            })
        },
        runs,
    );
    let eval = median_of(|| run(&Mode::Eval), runs);
    println!(
        "| {name} | {:.2} | {saphyr:.2} | {load_ms:.2} | {check:.2} | {eval:.2} | {:.1}x | {:.1} | {diags} |",
        bytes as f64 / f64::from(1 << 20),
        eval / saphyr,
        peak_rss_mib(),
    );
}

/// The concurrency tax measured in one process: evaluations of the reference workload with
/// default concurrency and with `max_in_flight: 1`, interleaved (so that both see the same
/// machine), printed as medians and their ratio.
fn tax(mode: &str) {
    let (Some(w), Some(mode)) = (
        workload("reference-0ms"),
        match mode {
            "eval" => Some(Mode::Eval),
            "check" => Some(Mode::Check {
                show_secrets: false,
            }),
            _ => None,
        },
    ) else {
        println!("| tax-{mode} | (workload not available) |");
        return;
    };
    let source = Source::new("root", w.root.as_str());
    let host = TestHost::new(w.envs, "bench");
    let ctx = TestHost::context();
    let decl = load_with(&source, &workload_limits()).decl;
    let decl = decl.expect("the workload decodes");
    let mut times = [Vec::new(), Vec::new()];
    for i in 0..4000 {
        let options = Options {
            max_in_flight: if i % 2 == 0 { 32 } else { 1 },
            ..Options::default()
        };
        let t = Instant::now();
        std::hint::black_box(evaluate_with(&source, &decl, &host, &ctx, &mode, &options));
        times[i % 2].push(t.elapsed().as_secs_f64() * 1e3);
    }
    let [default, sequential] = times.map(|mut t| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    });
    println!(
        "| tax-{} | {default:.3} | {sequential:.3} | {:.3} |",
        if matches!(mode, Mode::Eval) {
            "eval"
        } else {
            "check"
        },
        default / sequential
    );
}

const ROWS: &[&str] = &[
    "reference-0ms",
    "reference-0ms-sequential",
    "reference-10ms",
    "reference-10ms-after-fast",
    "reference-10ms-sequential",
    "values-1k",
    "values-10k",
    "values-100k",
    "chain-1k",
    "chain-10k",
    "imports-1k",
    "imports-10k",
    "interpolation-1k",
    "interpolation-10k",
    "interpolation-100k",
    "nesting-100",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, name] = args.as_slice() {
        match flag.as_str() {
            "--row" => row(name),
            // `eval` or `check`: default / sequential in one process (`scripts/perf-tax.sh`).
            "--tax" => tax(name),
            // The root document, for scripts that time the command line on the same input.
            "--dump" => match workload(name) {
                Some(w) if w.envs.is_empty() => print!("{}", w.root),
                _ => {
                    eprintln!("perf: no single-document workload {name}");
                    std::process::exit(2);
                }
            },
            _ => {
                eprintln!("perf: unknown flag {flag} (--row NAME, --dump NAME, --tax eval|check)");
                std::process::exit(2);
            }
        }
        return;
    }
    println!(
        "| workload | input MiB | saphyr ms | load ms | check ms | eval ms | eval / saphyr | peak RSS MiB | diagnostics |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let me = std::env::current_exe().expect("the example knows its path");
    for name in ROWS {
        let out = std::process::Command::new(&me)
            .args(["--row", name])
            .output()
            .expect("the row runs");
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            println!(
                "| {name} | failed: {} |",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
        }
    }
}
