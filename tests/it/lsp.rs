//! The language server end to end: `tests/lsp` (pytest-lsp driving the real `escc lsp`
//! binary that cargo built). Without pytest-lsp the test is skipped with a message, except
//! in CI (`CI=true`), where it fails.

#![cfg(feature = "lsp")]

use std::process::Command;

fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn language_server_end_to_end() {
    let root = env!("CARGO_MANIFEST_DIR");
    if !python_has("pytest_lsp") {
        let install = "python3 -m pip install -r tests/lsp/requirements.txt";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "pytest-lsp is not installed, and CI=true: {install}"
        );
        eprintln!(
            "SKIPPED the LSP end-to-end tests (tests/lsp): pytest-lsp is not installed ({install})"
        );
        return;
    }
    let out = Command::new("python3")
        .args(["-m", "pytest", "tests/lsp", "-q", "-p", "no:cacheprovider"])
        .env("ESCC_BIN", env!("CARGO_BIN_EXE_escc"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(root)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "pytest tests/lsp failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    println!("{}", stdout.trim_end().lines().last().unwrap_or(""));
}
