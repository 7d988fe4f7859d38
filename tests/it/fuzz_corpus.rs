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

/// Runs `check` on every file of the corpus, naming the file if it panics.
fn replay(target: &str, check: fn(&str)) {
    for path in corpus(target) {
        let bytes =
            fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        // The fuzz targets see the bytes as lossy UTF-8, exactly like this.
        let text = String::from_utf8_lossy(&bytes);
        if let Err(panic) = std::panic::catch_unwind(|| check(&text)) {
            eprintln!("corpus file {} fails", path.display());
            std::panic::resume_unwind(panic);
        }
    }
}

#[test]
fn parse_yaml_corpus() {
    replay("parse_yaml", invariants::check_load);
}

#[test]
fn parse_path_corpus() {
    replay("parse_path", invariants::check_path);
}
