//! Hostile inputs (issue 8), each run through the real `escc` binary on a generated
//! project: every one must be answered (a located diagnostic, or the right values) within
//! 1 s of wall-clock time and 256 MiB of peak memory, measured for the whole process.
//!
//! The process is started by a small Python wrapper that waits for it and reads its peak
//! resident set size from `getrusage(RUSAGE_CHILDREN)` (the project forbids `unsafe`, and
//! the standard library has no `wait4`); the wrapper kills it when it runs far past the
//! bound. Run with `--nocapture` to see the figures (`hostile |` lines).

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_escc");

/// The issue's bounds.
const MAX_WALL: Duration = Duration::from_secs(1);
const MAX_PEAK_KIB: u64 = 256 * 1024;

/// `cargo test` builds escc unoptimized, which measured up to 25 times slower than a
/// release build on these inputs (saphyr's scanner on the 10 MiB scalar: 0.16 s against
/// 4.1 s), so a debug build gets this many times the time bound. The bound itself is
/// checked by `cargo test --release --test it hostile`. Memory gets no allowance.
const DEBUG_SLOWDOWN: u32 = 20;

fn time_bound() -> Duration {
    if cfg!(debug_assertions) {
        MAX_WALL * DEBUG_SLOWDOWN
    } else {
        MAX_WALL
    }
}

/// Waits for the command, then writes its exit code, wall time and peak RSS (KiB on
/// Linux) as JSON to argv[1]; kills it after argv[2] seconds. (A timer thread kills it,
/// so that the wait itself blocks rather than polls, and the time is exact.)
const MEASURE: &str = r#"
import json, resource, subprocess, sys, threading, time
report, limit = sys.argv[1], float(sys.argv[2])
killed = []
start = time.monotonic()
child = subprocess.Popen(sys.argv[3:])
timer = threading.Timer(limit, lambda: (killed.append(1), child.kill()))
timer.start()
code = child.wait()
wall = time.monotonic() - start
timer.cancel()
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(report, "w") as f:
    json.dump({"code": None if killed else code, "wall": wall, "peak": peak}, f)
"#;

/// One at a time, so the measurements do not compete with each other for the CPU.
static SERIAL: Mutex<()> = Mutex::new(());

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `escc ARGS` in `dir`, asserts the bound and prints the figures as `input`.
fn escc(input: &str, dir: &Path, args: &[&str]) -> Run {
    let _one = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("measure.json");
    let bound = time_bound();
    let watchdog = (bound * 3).as_secs_f64().to_string();
    let out = Command::new("python3")
        .arg("-c")
        .arg(MEASURE)
        .arg(&report)
        .arg(&watchdog)
        .arg(BIN)
        .args(args)
        .current_dir(dir)
        .env("TMPDIR", tmp.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs the measuring wrapper");
    assert!(out.status.success(), "the wrapper failed: {out:?}");
    let m: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let wall = Duration::from_secs_f64(m["wall"].as_f64().unwrap());
    let peak = m["peak"].as_u64().unwrap();
    println!(
        "hostile | {input:<34} | {:>7.3} s | {:>7} KiB | escc {}",
        wall.as_secs_f64(),
        peak,
        args.join(" ").chars().take(40).collect::<String>()
    );
    let code = m["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("{input}: killed after {watchdog} s"));
    assert!(
        wall <= bound,
        "{input}: {wall:?}, more than the bound of {bound:?}"
    );
    assert!(
        peak <= MAX_PEAK_KIB,
        "{input}: peak RSS {peak} KiB, more than {MAX_PEAK_KIB} KiB"
    );
    Run {
        code: i32::try_from(code).unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A project: `escc.toml` and the given files, in a temporary directory.
fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("escc.toml"), "").unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// A diagnostic of `check --format json`: file, line, column, code, summary.
type Diag = (String, u64, u64, String, String);

fn diags(run: &Run) -> Vec<Diag> {
    let all: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: not JSON: {}\n{}", run.stdout, run.stderr));
    all.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_owned(),
                d["start"]["line"].as_u64().unwrap_or(0),
                d["start"]["column"].as_u64().unwrap_or(0),
                d["code"].as_str().unwrap().to_owned(),
                d["summary"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn diag(file: &str, line: u64, column: u64, code: &str, summary: &str) -> Diag {
    (
        file.to_owned(),
        line,
        column,
        code.to_owned(),
        summary.to_owned(),
    )
}

/// `escc check NAME --format json` must fail with exactly `expected`.
fn check_fails(input: &str, dir: &Path, name: &str, expected: &[Diag]) -> Run {
    let run = escc(input, dir, &["check", name, "--format", "json"]);
    assert_eq!(diags(&run), expected, "{input}\n{}", run.stderr);
    assert_eq!(run.code, 1, "{input}: {}", run.stderr);
    run
}

/// The 1-based line and column (in characters) of byte `at` of `text`.
fn line_col(text: &str, at: usize) -> (u64, u64) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line as u64, column as u64)
}

const LIMIT: &str = "limit-exceeded";
const TOO_LARGE: &str = "values are larger than the limit of 16 MiB per evaluation";

// -------------------------------------------------------------------------------------
// YAML

#[test]
fn alias_bomb() {
    // Billion laughs: nine aliases of nine aliases... of nine strings; nothing expands.
    let mut text = String::from("values:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
        let items = vec![format!("*{prev}"); 9].join(", ");
        let _ = writeln!(text, "  {name}: &{name} [{items}]");
    }
    let dir = project(&[("e.yaml", text.as_bytes())]);
    let expected: Vec<Diag> = text
        .match_indices('*')
        .map(|(at, _)| {
            let (line, column) = line_col(&text, at);
            diag(
                "e.yaml",
                line,
                column,
                "yaml-alias",
                "alias nodes are not supported",
            )
        })
        .collect();
    assert_eq!(expected.len(), 72);
    check_fails("alias bomb", dir.path(), "e", &expected);
}

#[test]
fn nesting_100k_flow() {
    let depth = 100_000;
    let text = format!("values:\n  a: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let dir = project(&[("e.yaml", text.as_bytes())]);
    // saphyr-parser stops at its own bound, the 256th bracket (column 6 + 255).
    check_fails(
        "nesting 100k flow",
        dir.path(),
        "e",
        &[diag(
            "e.yaml",
            2,
            261,
            LIMIT,
            "flow nesting is deeper than the limit of 255",
        )],
    );
}

#[test]
fn nesting_100k_block() {
    // `- - - x`: one block sequence inside another per `- `.
    let text = format!("values:\n  a:\n    {}x\n", "- ".repeat(100_000));
    let dir = project(&[("e.yaml", text.as_bytes())]);
    // The root mapping and `values` are two levels, so the sequence opened by the k-th
    // `- ` is level k + 2: the 127th (column 5 + 2 * 126) opens the 129th.
    check_fails(
        "nesting 100k block",
        dir.path(),
        "e",
        &[diag(
            "e.yaml",
            3,
            257,
            LIMIT,
            "nesting is deeper than the limit of 128",
        )],
    );
}

#[test]
fn nesting_100k_fn_calls() {
    // fn::toJSON of fn::toJSON of ... : each call is a mapping, so nesting stops it at
    // the 127th call (level 129, as above), before saphyr's flow limit.
    let depth = 100_000;
    let text = format!(
        "values:\n  a: {}x{}\n",
        "{fn::toJSON: ".repeat(depth),
        "}".repeat(depth)
    );
    let dir = project(&[("e.yaml", text.as_bytes())]);
    check_fails(
        "nesting 100k fn:: calls",
        dir.path(),
        "e",
        &[diag(
            "e.yaml",
            2,
            6 + 126 * 13,
            LIMIT,
            "nesting is deeper than the limit of 128",
        )],
    );
}

#[test]
fn fn_call_chain_100k_through_references() {
    // a0 is fn::toString of a1, which is fn::toString of a2...: 100k calls, 500k nodes.
    let n = 100_000;
    let mut text = String::from("values:\n");
    for i in 0..n {
        let _ = write!(text, "  a{i}:\n    fn::toString: ${{a{}}}\n", i + 1);
    }
    let _ = writeln!(text, "  a{n}: x");
    let dir = project(&[("e.yaml", text.as_bytes())]);
    // Nodes: the root, `values` and its mapping, then four per entry: entry i's key is
    // node 4 + 4i, its mapping 5 + 4i, the call's key 6 + 4i and its argument 7 + 4i.
    // Node 100,001 is the mapping of entry 24,999, which starts at its `fn::toString`.
    let at = text.find("  a24999:\n").unwrap() + "  a24999:\n    ".len();
    let (line, column) = line_col(&text, at);
    check_fails(
        "fn:: chain 100k (references)",
        dir.path(),
        "e",
        &[diag(
            "e.yaml",
            line,
            column,
            LIMIT,
            "document has more YAML nodes than the limit of 100000",
        )],
    );
}

#[test]
fn access_path_100k() {
    // ${a.a.a...}: `a.a` is a number, so the third accessor fails, at once.
    let text = format!(
        "values:\n  a: {{a: 1}}\n  x: ${{{}}}\n",
        vec!["a"; 100_000].join(".")
    );
    let dir = project(&[("e.yaml", text.as_bytes())]);
    // An accessor's span starts at its dot.
    let third = text.find("${").unwrap() + 2 + 3;
    let (line, column) = line_col(&text, third);
    check_fails(
        "access path 100k",
        dir.path(),
        "e",
        &[diag(
            "e.yaml",
            line,
            column,
            "invalid-access",
            "receiver must be an array or an object",
        )],
    );
}

#[test]
fn reference_chain_60k() {
    // a[0] is ${a[1]}, a[1] is ${a[2]}...: a chain deeper than the evaluator goes.
    let n = 60_000;
    let mut text = String::from("values:\n  a:\n");
    for i in 0..n {
        let _ = writeln!(text, "    - ${{a[{}]}}", i + 1);
    }
    text.push_str("    - end\n");
    let dir = project(&[("e.yaml", text.as_bytes())]);
    // a[0] is evaluated at depth 2 (the root, then `a`'s list): the item at depth
    // 20,000 is a[19,998].
    let at = text.find("${a[19999]}").unwrap();
    let (line, column) = line_col(&text, at);
    check_fails(
        "reference chain 60k",
        dir.path(),
        "e",
        &[diag(
            "e.yaml",
            line,
            column,
            LIMIT,
            "references are nested deeper than the limit of 20000",
        )],
    );
}

#[test]
fn reference_cycle_10k() {
    let n = 10_000;
    let mut text = String::from("values:\n");
    for i in 0..n {
        let _ = writeln!(text, "  a{i}: ${{a{}}}", (i + 1) % n);
    }
    let dir = project(&[("e.yaml", text.as_bytes())]);
    // Keys are evaluated in sorted order: a0 first, and the chain of 10,000 references
    // comes back to it. The cycle is reported at the expression re-entered, a0's (as the
    // reference does, esc-eval.md 3.2).
    let (line, column) = line_col(&text, text.find("${a1}").unwrap());
    check_fails(
        "reference cycle 10k",
        dir.path(),
        "e",
        &[diag(
            "e.yaml",
            line,
            column,
            "reference-cycle",
            "cyclic reference to a0",
        )],
    );
}

// -------------------------------------------------------------------------------------
// Size

#[test]
fn scalar_10_mib() {
    let text = format!("values:\n  a: {}\n  b: ok\n", "x".repeat(10 << 20));
    let dir = project(&[("e.yaml", text.as_bytes())]);
    check_fails(
        "scalar 10 MiB (json)",
        dir.path(),
        "e",
        &[diag(
            "e.yaml",
            2,
            6,
            LIMIT,
            "scalar is larger than the limit of 4194304 bytes",
        )],
    );
    // People see the scalar's start, not 10 MiB of it.
    let run = escc("scalar 10 MiB (human)", dir.path(), &["check", "e"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("─[e.yaml:2:6]"), "{}", run.stdout);
    assert!(run.stdout.contains("scalar is larger than the limit"));
    assert!(run.stdout.len() < 4096, "{} bytes", run.stdout.len());
}

#[test]
fn document_10_mib_of_small_entries() {
    // 10 MiB of `kNNNNNNN: v`: far more nodes than a document may have.
    let mut text = String::from("values:\n");
    let mut i = 0;
    while text.len() < 10 << 20 {
        let _ = writeln!(text, "  k{i:07}: v");
        i += 1;
    }
    let dir = project(&[("e.yaml", text.as_bytes())]);
    // The root, `values` and its mapping are nodes 1 to 3; entry i's key is 4 + 2i and
    // its value 5 + 2i: node 100,001 is the value of entry 49,998.
    let at = text.find("  k0049998: v").unwrap() + 12;
    let (line, column) = line_col(&text, at);
    check_fails(
        "document 10 MiB (small entries)",
        dir.path(),
        "e",
        &[diag(
            "e.yaml",
            line,
            column,
            LIMIT,
            "document has more YAML nodes than the limit of 100000",
        )],
    );
    let run = escc("document 10 MiB (human)", dir.path(), &["check", "e"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains(&format!("─[e.yaml:{line}:{column}]")));
}

#[test]
fn diagnostic_at_the_end_of_a_long_line() {
    // A 90 KB line with an alias at its end: the report shows the end of the line, with
    // the file's column, not 90 KB.
    let text = format!("values:\n  a: [&y x, {}*y]\n", "x, ".repeat(30_000));
    let dir = project(&[("e.yaml", text.as_bytes())]);
    let column = 13 + 3 * 30_000;
    check_fails(
        "long line (json)",
        dir.path(),
        "e",
        &[diag(
            "e.yaml",
            2,
            column,
            "yaml-alias",
            "alias nodes are not supported",
        )],
    );
    let run = escc("long line (human)", dir.path(), &["check", "e"]);
    assert!(
        run.stdout.contains(&format!("─[e.yaml:2:{column}]")),
        "{}",
        run.stdout
    );
    let shown = run.stdout.lines().find(|l| l.starts_with(" 2 │ ")).unwrap();
    assert!(shown.starts_with(" 2 │ … x, x, ") && shown.ends_with(", x, *y]"));
    assert!(run.stdout.len() < 4096, "{} bytes", run.stdout.len());
}

#[test]
fn document_at_the_node_limit() {
    // The largest document that may be read: 3 + 2 * 49,998 = 99,999 nodes.
    let mut text = String::from("values:\n");
    for i in 0..49_998 {
        let _ = writeln!(text, "  k{i}: v");
    }
    let dir = project(&[("e.yaml", text.as_bytes())]);
    let run = escc("document of 99,999 nodes", dir.path(), &["get", "e"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let values: Value = serde_json::from_str(&run.stdout).unwrap();
    let values = values.as_object().unwrap();
    assert_eq!(values.len(), 49_998);
    assert!(values.values().all(|v| v == "v"));
    assert_eq!(values["k49997"], "v");
}

#[test]
fn document_10_mib_of_large_scalars() {
    // Three scalars just under the scalar limit: a valid 10 MiB document.
    let size = (10 << 20) / 3;
    let text = format!(
        "values:\n  a: {}\n  b: {}\n  c: {}\n",
        "a".repeat(size),
        "b".repeat(size),
        "c".repeat(size)
    );
    assert!(text.len() >= 10 << 20);
    let dir = project(&[("e.yaml", text.as_bytes())]);
    let run = escc("document 10 MiB (large scalars)", dir.path(), &["get", "e"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let values: Value = serde_json::from_str(&run.stdout).unwrap();
    for (k, c) in [("a", "a"), ("b", "b"), ("c", "c")] {
        assert_eq!(values[k].as_str().unwrap(), c.repeat(size), "{k}");
    }
}

// -------------------------------------------------------------------------------------
// Builtins and references that multiply

/// `a0: x` and 63 more entries, each doubling the one before: `entry(i)` is entry i's text.
fn doubling(first: &str, entry: impl Fn(usize) -> String) -> String {
    let mut text = format!("values:\n  a0: {first}\n");
    for i in 1..64 {
        text.push_str(&entry(i));
    }
    text
}

/// Where the weight limit is reported: entry `a{i}`'s value, `offset` bytes into it.
fn at_entry(text: &str, i: usize, offset: usize) -> (u64, u64) {
    let at = text.find(&format!("  a{i}:")).unwrap() + format!("  a{i}: ").len() + offset;
    line_col(text, at)
}

#[test]
fn join_doubling() {
    let text = doubling("xxxxxxxx", |i| {
        format!(
            "  a{i}:\n    fn::join: ['', ['${{a{p}}}', '${{a{p}}}']]\n",
            p = i - 1
        )
    });
    let dir = project(&[("e.yaml", text.as_bytes())]);
    // Entry i holds 8 * 2^i bytes, and the two copies joined into it as many again:
    // entry i adds 16 * 2^i bytes, so the values weigh about 32 * 2^i after it. Before
    // entry 19 they weigh 8 MiB, its copies add 4: its join (4 MiB) crosses 16 MiB and is
    // refused, reported at its `fn::join` mapping. (Keys are evaluated in sorted order,
    // a19 before a2, but each entry is evaluated once, so the order changes nothing.)
    let at = text.find("    fn::join: ['', ['${a18}'").unwrap() + 4;
    let (line, column) = line_col(&text, at);
    check_fails(
        "fn::join doubling",
        dir.path(),
        "e",
        &[diag("e.yaml", line, column, LIMIT, TOO_LARGE)],
    );
}

#[test]
fn concat_doubling() {
    let text = doubling("[x]", |i| {
        format!(
            "  a{i}:\n    fn::concat: ['${{a{p}}}', '${{a{p}}}']\n",
            p = i - 1
        )
    });
    let dir = project(&[("e.yaml", text.as_bytes())]);
    // Entry i has 2^i items of 65 bytes (a value and its `x`), made by copying entry
    // i - 1 twice: after entry i the values weigh about 65 * 2^(i+1) bytes. Before entry
    // 17 that is 8.1 MiB; its first copy brings it to 12.2 MiB, its second to 16.3 MiB,
    // crossing 16 MiB: that reference is reported.
    let at = text.find("['${a16}', '${a16}']").unwrap() + 11;
    let (line, column) = line_col(&text, at);
    check_fails(
        "fn::concat doubling",
        dir.path(),
        "e",
        &[diag("e.yaml", line, column, LIMIT, TOO_LARGE)],
    );
}

#[test]
fn split_into_characters() {
    // 3 MiB split on "" would be three million values.
    let text = format!(
        "values:\n  a: {}\n  b:\n    fn::split: ['', '${{a}}']\n",
        "x".repeat(3 << 20)
    );
    let dir = project(&[("e.yaml", text.as_bytes())]);
    let at = text.find("    fn::split").unwrap() + 4;
    let (line, column) = line_col(&text, at);
    check_fails(
        "fn::split into 3M values",
        dir.path(),
        "e",
        &[diag("e.yaml", line, column, LIMIT, TOO_LARGE)],
    );
}

#[test]
fn split_of_a_doubled_join() {
    // fn::split of fn::join blow-ups: a doubled string split back into one value per
    // character.
    let mut text = doubling("xxxxxxxx", |i| {
        format!("  a{i}: ${{a{p}}}${{a{p}}}\n", p = i - 1)
    });
    text.push_str("  s:\n    fn::split: ['', '${a16}']\n");
    let dir = project(&[("e.yaml", text.as_bytes())]);
    // a16 is 512 KiB: its half a million characters would weigh 32 MiB as values. But
    // keys are evaluated in sorted order, so a0...a63 come first, and they cross the
    // limit on their own, in a19 (see `interpolation_doubling`): `s` is not reported.
    let (line, column) = at_entry(&text, 19, 0);
    check_fails(
        "fn::split of a doubled string",
        dir.path(),
        "e",
        &[diag("e.yaml", line, column, LIMIT, TOO_LARGE)],
    );
}

#[test]
fn interpolation_doubling() {
    let text = doubling("xxxxxxxx", |i| {
        format!("  a{i}: ${{a{p}}}${{a{p}}}\n", p = i - 1)
    });
    let dir = project(&[("e.yaml", text.as_bytes())]);
    // Entry i's text is 8 * 2^i bytes, made from two copies of entry i - 1: entry i adds
    // 16 * 2^i bytes, so the values weigh about 32 * 2^i after it. Before entry 19 they
    // weigh 8 MiB, its copies add 4, and its 4 MiB of text would cross 16 MiB.
    let (line, column) = at_entry(&text, 19, 0);
    check_fails(
        "interpolation doubling",
        dir.path(),
        "e",
        &[diag("e.yaml", line, column, LIMIT, TOO_LARGE)],
    );
}

#[test]
fn reference_doubling() {
    // No builtin at all: each list holds two copies of the one before.
    let text = doubling("[x]", |i| {
        format!("  a{i}: ['${{a{p}}}', '${{a{p}}}']\n", p = i - 1)
    });
    let dir = project(&[("e.yaml", text.as_bytes())]);
    // Entry 0 weighs 129 bytes (a list and its `x`), entry i 193 * 2^i - 64 (a list of
    // two copies of entry i - 1); evaluating entry i adds its copies and its list, so
    // after entry 15 the values weigh 12.06 MiB, and the first copy of entry 16 (6.03
    // MiB) crosses 16 MiB.
    let at = text.find("['${a15}', '${a15}']").unwrap() + 1;
    let (line, column) = line_col(&text, at);
    check_fails(
        "reference doubling",
        dir.path(),
        "e",
        &[diag("e.yaml", line, column, LIMIT, TOO_LARGE)],
    );
}

#[test]
fn string_form_of_deep_lists() {
    // Each level of a list quotes the level inside it again, doubling its backslashes:
    // the string form of 63 levels around `"` would be 2^63 bytes.
    let mut text = doubling("'\"'", |i| format!("  a{i}: ['${{a{}}}']\n", i - 1));
    let dir = project(&[("plain.yaml", text.as_bytes())]);
    let run = escc(
        "string form 63 levels (get -f string)",
        dir.path(),
        &["get", "plain", "a63", "--format", "string"],
    );
    assert_eq!(run.code, 2, "{}", run.stdout.len());
    assert_eq!(
        run.stderr,
        "escc: error: plain: the value's string form is longer than the limit of 32 MiB\n"
    );
    // In the evaluator: an interpolation and fn::toString.
    text.push_str("  s: x${a63}\n");
    std::fs::write(dir.path().join("interpolated.yaml"), &text).unwrap();
    let at = text.find("x${a63}").unwrap();
    let (line, column) = line_col(&text, at);
    check_fails(
        "string form 63 levels (interpolation)",
        dir.path(),
        "interpolated",
        &[diag("interpolated.yaml", line, column, LIMIT, TOO_LARGE)],
    );
}

// -------------------------------------------------------------------------------------
// Imports

#[test]
fn imports_10k_wide() {
    let n = 10_000;
    let mut files: Vec<(String, String)> = (0..n)
        .map(|i| (format!("i{i}.yaml"), format!("values:\n  i{i}: {i}\n")))
        .collect();
    let mut root = String::from("imports:\n");
    for i in 0..n {
        let _ = writeln!(root, "  - i{i}");
    }
    root.push_str("values:\n  first: ${i0}\n");
    files.push(("e.yaml".to_owned(), root));
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_bytes()))
        .collect();
    let dir = project(&files);
    // The root and 4,095 imports make 4,096 environments: imports[4095], on line 4097, is
    // refused (once: the ones after it are not reported again).
    check_fails(
        "imports 10k wide",
        dir.path(),
        "e",
        &[diag(
            "e.yaml",
            4097,
            5,
            LIMIT,
            "cannot import i4095: an evaluation reads at most 4096 environments",
        )],
    );
}

#[test]
fn imports_10k_deep() {
    let n = 10_000;
    let files: Vec<(String, String)> = (0..n)
        .map(|i| {
            let imports = if i + 1 < n {
                format!("imports: [d{}]\n", i + 1)
            } else {
                String::new()
            };
            (
                format!("d{i}.yaml"),
                format!("{imports}values:\n  d{i}: {i}\n"),
            )
        })
        .collect();
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_bytes()))
        .collect();
    let dir = project(&files);
    check_fails(
        "imports 10k deep",
        dir.path(),
        "d0",
        // d0 imports d1 at depth 0, ... d256 would import d257 at depth 256.
        &[diag(
            "d256.yaml",
            1,
            11,
            LIMIT,
            "cannot import d257: imports are nested deeper than the limit of 256",
        )],
    );
}

/// A project in `ROOT/project` importing `import`, with `ROOT/outside.yaml` holding a
/// marker that must not be read (`ROOT` in `import` and `expected` is that directory).
fn escape_attempt(input: &str, import: &str, expected: &str) {
    let root = tempfile::tempdir().unwrap();
    let root_text = root.path().to_str().unwrap();
    let (import, expected) = (
        import.replace("ROOT", root_text),
        expected.replace("ROOT", root_text),
    );
    let marker = "c0ffee-outside-marker";
    std::fs::write(
        root.path().join("outside.yaml"),
        format!("values:\n  stolen: {marker}\n"),
    )
    .unwrap();
    let dir = root.path().join("project");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("escc.toml"), "").unwrap();
    std::os::unix::fs::symlink(root.path().join("outside.yaml"), dir.join("link.yaml")).unwrap();
    let text = format!("imports:\n  - {import}\nvalues:\n  x: 1\n");
    std::fs::write(dir.join("e.yaml"), &text).unwrap();
    let run = check_fails(
        input,
        &dir,
        "e",
        &[diag("e.yaml", 2, 5, "import-failed", &expected)],
    );
    assert!(!run.stdout.contains(marker) && !run.stderr.contains(marker));
    let run = escc(input, &dir, &["get", "e", "--show-secrets"]);
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains(marker) && !run.stderr.contains(marker));
}

#[test]
fn import_with_dotdot() {
    escape_attempt(
        "import ../outside",
        "../outside",
        "invalid environment name \"../outside\": names are paths below the project root and cannot contain . or ..",
    );
}

#[test]
fn import_absolute() {
    escape_attempt(
        "import /absolute",
        "ROOT/outside",
        "invalid environment name \"ROOT/outside\": names are paths below the project root and cannot be absolute",
    );
}

#[test]
fn import_with_nul() {
    escape_attempt(
        "import with NUL",
        r#""../outside\0""#,
        "invalid environment name \"../outside\\0\": it contains a NUL byte",
    );
}

#[test]
fn import_symlink_outside() {
    escape_attempt(
        "import symlink outside",
        "link",
        "refusing to read link.yaml: it is a symbolic link to a file outside the project root",
    );
}

// -------------------------------------------------------------------------------------
// Encodings

#[test]
fn invalid_utf8() {
    let dir = project(&[("e.yaml", b"values:\n  a: caf\xe9\n")]);
    let run = escc(
        "invalid UTF-8",
        dir.path(),
        &["check", "e", "--format", "json"],
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "escc: error: cannot read e.yaml: it is not UTF-8 text (invalid byte at line 2, column 9)\n"
    );
}

#[test]
fn byte_order_mark() {
    let dir = project(&[
        ("e.yaml", "\u{feff}values:\n  a: 1\n  b: ${a}\n".as_bytes()),
        ("bad.yaml", "\u{feff}values: {a: '${nope}'}\n".as_bytes()),
    ]);
    let run = escc("byte-order mark (get)", dir.path(), &["get", "e"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "{\n  \"a\": 1,\n  \"b\": 1\n}\n");
    // The mark is not a column.
    check_fails(
        "byte-order mark (check)",
        dir.path(),
        "bad",
        &[diag(
            "bad.yaml",
            1,
            16,
            "unknown-property",
            "unknown property \"nope\"",
        )],
    );
}

#[test]
fn crlf_line_ends() {
    let dir = project(&[
        (
            "e.yaml",
            b"values:\r\n  a: 1\r\n  b: ${a}\r\n  c: |\r\n    x\r\n",
        ),
        ("bad.yaml", b"values:\r\n  a: 1\r\n  c: ${nope}\r\n"),
    ]);
    let run = escc("CRLF (get)", dir.path(), &["get", "e"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "{\n  \"a\": 1,\n  \"b\": 1,\n  \"c\": \"x\\n\"\n}\n"
    );
    check_fails(
        "CRLF (check)",
        dir.path(),
        "bad",
        &[diag(
            "bad.yaml",
            3,
            8,
            "unknown-property",
            "unknown property \"nope\"",
        )],
    );
    let run = escc("CRLF (human)", dir.path(), &["check", "bad"]);
    assert!(run.stdout.contains("─[bad.yaml:3:8]"), "{}", run.stdout);
}
