//! Replays the fuzz corpora (`fuzz/corpus/*`) through the fuzz targets' invariants on
//! stable Rust, so every saved input (seeds and past crashes) is checked by `cargo test`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::invariants;

/// The files of `fuzz/corpus/<target>`, sorted; fails when there are none.
fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let entries =
        fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read corpus {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "corpus {} is empty: the replay would check nothing",
        dir.display()
    );
    files
}

/// Runs `check` on the bytes of every file of the corpus, naming the file if it panics.
fn replay_bytes(target: &str, check: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    for path in corpus(target) {
        let bytes =
            fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        if let Err(panic) = std::panic::catch_unwind(|| check(&bytes)) {
            eprintln!("corpus file {} fails", path.display());
            std::panic::resume_unwind(panic);
        }
    }
}

/// Runs `check` on every file of the corpus read as text.
fn replay(target: &str, check: fn(&str)) {
    // The fuzz targets see the bytes as lossy UTF-8, exactly like this.
    replay_bytes(target, |bytes| check(&String::from_utf8_lossy(bytes)));
}

#[test]
fn parse_yaml_corpus() {
    replay("parse_yaml", invariants::check_load);
}

#[test]
fn parse_path_corpus() {
    replay("parse_path", invariants::check_path);
}

#[test]
fn parse_template_corpus() {
    replay("parse_template", invariants::check_template);
}

#[test]
fn check_eval_corpus() {
    replay("check_eval", invariants::check_eval);
}

#[test]
fn secret_taint_corpus() {
    replay_bytes("secret_taint", invariants::check_secret_taint);
}

/// The framing of the `check_eval` inputs: `#---` lines separate the environments.
#[test]
fn check_eval_inputs_split_into_environments() {
    let envs =
        invariants::split_environments("values: {}\n#---\r\nimports: [a]\n#---\n#---\n#---\nx\n");
    assert_eq!(
        envs,
        [
            ("root", "values: {}\n".to_owned()),
            ("a", "imports: [a]\n".to_owned()),
            ("b", String::new()),
            ("c", "#---\nx\n".to_owned()),
        ]
    );
    assert_eq!(
        invariants::split_environments("#---"),
        [("root", String::new()), ("a", String::new())]
    );
}
