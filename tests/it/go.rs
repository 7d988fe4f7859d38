//! Go's own answers: `fixtures/go/strconv.golden` must be exactly what `tests/go` prints with
//! the toolchain its `go.mod` pins (so the file cannot drift from Go), and escc's messages
//! quote names as Go's `%q` does.

use std::path::Path;
use std::process::Command;

/// Without `go` (or without the pinned toolchain) the comparison is skipped with a message,
/// except when `CI` is set, where it fails.
#[test]
fn golden_file_is_what_go_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let program = root.join("tests/go");
    let go_mod = std::fs::read_to_string(program.join("go.mod")).expect("tests/go/go.mod");
    let toolchain = go_mod
        .lines()
        .find_map(|line| line.strip_prefix("toolchain "))
        .expect("tests/go/go.mod pins a toolchain")
        .trim();
    let go = |args: &[&str]| {
        Command::new("go")
            .args(args)
            .current_dir(&program)
            .env("GOTOOLCHAIN", toolchain)
            .env("GOFLAGS", "-mod=mod")
            .output()
    };
    let available = go(&["version"]);
    if !available.as_ref().is_ok_and(|o| o.status.success()) {
        let reason = match &available {
            Err(err) => format!("`go` cannot be run ({err})"),
            Ok(out) => format!(
                "`go` cannot get {toolchain}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        };
        assert!(
            std::env::var_os("CI").is_none_or(|ci| ci.is_empty()),
            "CI is set and {reason}"
        );
        eprintln!("SKIPPED the Go golden-file check (tests/go): {reason}");
        return;
    }
    let out = go(&["run", "."]).expect("go runs");
    assert!(
        out.status.success(),
        "go run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let golden = std::fs::read(root.join("fixtures/go/strconv.golden")).expect("golden file");
    assert!(
        out.stdout == golden,
        "fixtures/go/strconv.golden differs from Go's output; regenerate it with \
         `cd tests/go && GOTOOLCHAIN={toolchain} go run . > ../../fixtures/go/strconv.golden`"
    );
}

#[test]
fn messages_quote_unassigned_and_tag_characters_as_go_does() {
    // Go's IsPrint rejects unassigned U+0378 and the tag U+E0001, so `%q` escapes them.
    let source = escc::Source::new(
        "app",
        "values:\n  \"a\u{378}\": 1\n  \"a\u{378}\": 2\n  \"b\u{e0001}\": 1\n  \"b\u{e0001}\": 2\n",
    );
    let loaded = escc::load(&source);
    let decl = loaded.decl.expect("declaration");
    let host = escc::testing::TestHost::default();
    let context = escc::testing::TestHost::context();
    let result = escc::eval::evaluate(&source, &decl, &host, &context, &escc::eval::Mode::Eval);
    let summaries: Vec<&str> = result.diags.iter().map(|d| d.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            r#"duplicate key "a\u0378""#,
            r#"duplicate key "b\U000e0001""#
        ]
    );
}
