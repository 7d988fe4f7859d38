//! The conformance harness: runs every case of the reference's golden corpus and prints
//! one line per failing case, then exactly one summary line:
//!
//! `conformance: parse P/T yaml P/T load P/T values P/T diags P/T typed P/T edit P/T crypt P/T`
//!
//! The corpus is read from `$ESCC_CONFORMANCE`, else `../shared/conformance/esc` beside the
//! repository. Comparison follows the compatibility policy (`docs/conformance.md`): values
//! identical, diagnostics as multisets of (severity, summary, detail, path, environment,
//! start line, start column), typed output after range normalization.
//!
//! Cases listed in `tests/conformance/deviations.txt` are reported and count as not
//! passing, but do not fail the run. Any other failure in a part escc implements fails the
//! run, and so does a listed case that now passes (the list must stay true).
#![allow(missing_docs)]

mod compare;
mod edit;
mod parts;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Every part, in the order of the summary line.
const PARTS: &[&str] = &[
    "parse", "yaml", "load", "values", "diags", "typed", "edit", "crypt",
];

fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ESCC_CONFORMANCE") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/esc")
}

/// One case's result in one part.
pub struct Outcome {
    pub part: &'static str,
    pub case: String,
    /// `None` when it passed; else the first difference.
    pub failure: Option<String>,
}

fn main() -> ExitCode {
    let dir = corpus_dir();
    if !dir.join("eval").is_dir() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        eprintln!(
            "conformance corpus not found at {} (set ESCC_CONFORMANCE)",
            dir.display()
        );
        if ci {
            eprintln!("error: CI=true and the conformance corpus is missing");
            return ExitCode::FAILURE;
        }
        println!("conformance: skipped (no corpus)");
        return ExitCode::SUCCESS;
    }

    let deviations = match parts::read_deviations(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/deviations.txt"
    ))) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: deviations.txt: {e}");
            return ExitCode::FAILURE;
        }
    };

    let mut outcomes = Vec::new();
    outcomes.extend(parts::parse_cases(&dir.join("parse")));
    outcomes.extend(parts::yaml_cases(&dir.join("yaml")));
    outcomes.extend(parts::eval_cases(&dir.join("eval")));
    outcomes.extend(edit::edit_cases(&dir.join("yaml-edit")));
    outcomes.extend(edit::crypt_cases(&dir.join("crypt")));

    let mut broken = 0;
    let mut summary = String::from("conformance:");
    for part in PARTS {
        let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.part == *part).collect();
        let passed = mine
            .iter()
            .filter(|o| o.failure.is_none() && !deviations.contains_key(&(o.part, o.case.clone())))
            .count();
        if mine.is_empty() {
            // A missing or renamed corpus folder must not pass as "0/0".
            println!("EMPTY {part}: the corpus has no cases for it (is a folder missing?)");
            broken += 1;
        }
        for o in &mine {
            let key = (o.part, o.case.clone());
            match (&o.failure, deviations.get(&key)) {
                (Some(diff), None) => {
                    println!("FAIL {}/{}: {}", o.part, o.case, diff);
                    broken += 1;
                }
                (Some(_), Some(reason)) => {
                    println!("DEVIATION {}/{}: {}", o.part, o.case, reason);
                }
                (None, Some(_)) => {
                    println!(
                        "STALE {}/{}: listed as a deviation but passes; remove it from deviations.txt",
                        o.part, o.case
                    );
                    broken += 1;
                }
                (None, None) => {}
            }
        }
        let _ = write!(summary, " {part} {passed}/{}", mine.len());
    }
    println!("{summary}");
    if broken > 0 {
        eprintln!("{broken} conformance failure(s)");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
