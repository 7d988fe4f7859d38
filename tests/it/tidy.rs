//! The layering of docs/architecture.md, enforced: a module of `src/` uses only the modules
//! below it in the list of layers there (its own submodules aside). The list is read from
//! the document, so the picture and the code cannot drift apart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regex::Regex;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The layers, bottom first: the backquoted names of the line of docs/architecture.md that
/// starts with `Layers, bottom to top:`.
fn layers() -> Vec<String> {
    let doc = std::fs::read_to_string(Path::new(ROOT).join("docs/architecture.md")).unwrap();
    let line = doc
        .lines()
        .find(|l| l.starts_with("Layers, bottom to top:"))
        .expect("docs/architecture.md has a line 'Layers, bottom to top: `a`, `b`, ...'");
    let names: Vec<String> = Regex::new(r"`([a-z_]+)`")
        .unwrap()
        .captures_iter(line)
        .map(|c| c[1].to_owned())
        .collect();
    assert!(names.len() > 5, "{line}");
    names
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without its tests (by the convention of this
/// codebase, a file's `#[cfg(test)]` module comes last).
fn code(text: &str) -> String {
    let tests = Regex::new(r"#\[cfg\(test\)\]\s*(pub(\(crate\))? )?mod ").unwrap();
    let end = tests.find(text).map_or(text.len(), |m| m.start());
    text[..end]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the crate root re-exports (`pub use module::{A, B}`): item name to module.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let re = Regex::new(r"pub use ([a-z_]+)::(?:\{([^}]*)\}|([A-Za-z_]+));").unwrap();
    let mut out = BTreeMap::new();
    for c in re.captures_iter(lib) {
        let items = c.get(2).or(c.get(3)).unwrap().as_str();
        for item in items.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            out.insert(item.to_owned(), c[1].to_owned());
        }
    }
    out
}

/// The top-level modules a file's code names through `crate::`.
fn uses(code: &str, roots: &BTreeMap<String, String>) -> Vec<String> {
    let single = Regex::new(r"crate::([A-Za-z_]+)").unwrap();
    let group = Regex::new(r"crate::\{([^}]*)\}").unwrap();
    let mut names: Vec<String> = single
        .captures_iter(code)
        .map(|c| c[1].to_owned())
        .collect();
    for c in group.captures_iter(code) {
        for item in c[1].split(',') {
            let first = item.trim().split("::").next().unwrap_or("").trim();
            if !first.is_empty() {
                names.push(first.to_owned());
            }
        }
    }
    names
        .into_iter()
        .map(|n| roots.get(&n).cloned().unwrap_or(n))
        .collect()
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let layers = layers();
    let rank = |m: &str| layers.iter().position(|l| l == m);
    let src = Path::new(ROOT).join("src");
    let roots = reexports(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(own) = rank(&module) else {
            problems.push(format!(
                "src/{}: module `{module}` is not in the layers of docs/architecture.md",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for used in uses(&code(&text), &roots) {
            match rank(&used) {
                Some(r) if r < own || used == module => {}
                Some(_) => problems.push(format!(
                    "src/{}: `{module}` uses `{used}`, which is not below it",
                    rel.display()
                )),
                // Items of the crate root that are not re-exports (none today) and macros.
                None => problems.push(format!(
                    "src/{}: `{module}` uses `crate::{used}`, which is not a layer",
                    rel.display()
                )),
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
