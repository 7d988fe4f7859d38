use std::collections::BTreeMap;
use std::fmt::Write as _;
use escc::eval::{Mode, Options, evaluate_with};
use escc::testing::TestHost;
use escc::{Source, load};
fn values(n: usize) -> String {
    let mut s = String::from("values:\n");
    for i in 0..n {
        let _ = writeln!(s, "  k{i}:\n    name: item-{i}\n    count: {i}\n    enabled: true\n    tags: [a, b]\n    label: \"item ${{k{}.name}}\"", i.saturating_sub(1));
    }
    s
}
fn imports(n: usize) -> (String, BTreeMap<String,String>) {
    let mut envs = BTreeMap::new();
    let mut root = String::from("imports:\n");
    for i in 0..n {
        let _ = writeln!(root, "  - e{i}");
        envs.insert(format!("e{i}"), format!("values:\n  v{i}: {i}\n  shared:\n    k{i}: x\n"));
    }
    root.push_str(&format!("values:\n  total: ${{v{}}}\n", n-1));
    (root, envs)
}
fn interp(n: usize) -> String {
    let mut s = String::from("values:\n  base: x\n");
    for i in 0..n {
        let _ = writeln!(s, "  s{i}: \"${{base}}-{i}-${{base}}-${{base}}-${{base}}-${{base}}-${{base}}-${{base}}-${{base}}\"");
    }
    s
}
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args[2].parse().unwrap();
    let (root, envs) = if args[1] == "ref" {
        let mut envs = BTreeMap::new();
        for e in std::fs::read_dir("../shared/conformance/esc/eval/bench").unwrap() {
            let p = e.unwrap().path();
            envs.insert(p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap());
        }
        let root = envs.remove("env").unwrap();
        (root, envs)
    } else { match args[1].as_str() { "values" => (values(n), BTreeMap::new()), "interp" => (interp(n), BTreeMap::new()), _ => imports(n) } };
    let source = Source::new("root", root.as_str());
    let host = TestHost::new(envs, "bench").with_open_delay(std::time::Duration::from_millis(std::env::var("DELAY").map_or(0, |v| v.parse().unwrap()))).with_load_delay(std::time::Duration::from_millis(std::env::var("DELAY").map_or(0, |v| v.parse().unwrap())));
    let seq = std::env::var("SEQ").is_ok();
    let ctx = TestHost::context();
    let loaded = load(&source);
    let decl = loaded.decl.unwrap();
    for _ in 0..5 {
    let t = std::time::Instant::now();
    let r = evaluate_with(&source, &decl, &host, &ctx, &Mode::Eval, &Options { max_in_flight: std::env::var("MIF").map_or(32, |v| v.parse().unwrap()) });
    eprintln!("eval {:?} diags {}", t.elapsed(), r.diags.len());
    }
}
