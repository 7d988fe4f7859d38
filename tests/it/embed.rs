//! `examples/embed.rs`, the embedding example of the README, run as a user would run it:
//! it must keep building and working as the library's API changes.

use std::path::PathBuf;
use std::process::Command;

/// The example's binary, which `cargo test` builds beside this test's.
fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let debug = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    debug.join("examples").join("embed")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(example())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the embed example runs (cargo test builds it)");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_embedding_example_evaluates_a_project() {
    let (code, stdout, stderr) = run(&["fixtures/examples", "app/dev"]);
    assert_eq!(code, 0, "{stderr}");
    let values: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(values["environmentVariables"]["STAGE"], "dev");
    assert_eq!(values["database"]["password"], "[secret]");
}

#[test]
fn the_embedding_example_reports_diagnostics_without_secrets() {
    let (code, stdout, stderr) = run(&["fixtures/parity", "secrets_in_diagnostics"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("secrets_in_diagnostics: "), "{stderr}");
    assert!(stderr.contains("[secret]"), "{stderr}");
    assert!(!stderr.contains("leaky-password-123"), "{stderr}");
}
