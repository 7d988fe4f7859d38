//! The language server in a real editor: Neovim (Debian's `neovim`, 0.7 in Debian 12),
//! headless, configured by `tests/nvim/init.lua` (the setup docs/lsp.md gives for 0.7 to
//! 0.10) and driven by `tests/nvim/driver.lua`, which writes what the editor got (its
//! diagnostics, the hover windows it opened, where go-to-definition put the cursor) as JSON
//! for the assertions here. `escc` is the binary cargo built, found on `PATH` as the setup
//! expects. Without `nvim` the test is skipped with a message, except under `CI=true`
//! (`.ci/run` installs it). Neovim runs with its own config, data, state and cache
//! directories in the project, and is killed if it has not finished within 90 s.

#![cfg(feature = "lsp")]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::backends::{BIN, missing, path_with, project_with, which};

const SECRET: &str = "correct-horse-battery-staple";

const BASE: &str = "\
values:
  region: eu-west-1
  db:
    host: db.internal
    port: 5432
    password:
      fn::secret: correct-horse-battery-staple
";

// `${nope}` follows non-ASCII text: the server speaks UTF-16 columns to Neovim 0.7 (it
// offers no position encodings) and Neovim stores byte columns.
const APP: &str = "\
imports:
  - base
values:
  url: \"postgres://${db.host}:${db.port}\"
  pass: ${db.password}
  where: ${region}
  broken: \"café ${nope}\"
";

/// `nvim`: `$ESCC_NVIM`, else on `PATH`; `None` (after saying why) outside CI.
fn nvim() -> Option<PathBuf> {
    let found = std::env::var_os("ESCC_NVIM")
        .map_or_else(|| which("nvim"), |p| Some(PathBuf::from(p)))
        .filter(|p| p.is_file());
    if found.is_none() {
        missing("nvim is not installed (.ci/run installs Debian's neovim; or set ESCC_NVIM)");
    }
    found
}

/// Runs headless Neovim in `project` with `tests/nvim/init.lua` and the Lua `script` (in
/// `tests/nvim/`), with `env`, and returns the JSON the script wrote. Fails on a Lua error
/// (the script writes it), a non-zero exit, or after 90 s.
fn run_nvim(nvim: &Path, project: &Path, script: &str, env: &[(&str, &str)]) -> Json {
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nvim");
    let out = project.join("nvim-out.json");
    let log = project.join("nvim-stderr.log");
    let escc_dir = Path::new(BIN).parent().unwrap();
    let home = project.join(".nvim-home");
    let mut child = Command::new(nvim)
        .args(["--headless", "-n", "-i", "NONE", "--noplugin", "-u"])
        .arg(scripts.join("init.lua"))
        .arg("-c")
        .arg(format!("luafile {}", scripts.join(script).display()))
        .current_dir(project)
        .env("PATH", path_with(&[escc_dir]))
        .env("ESCC_NVIM_PROJECT", project)
        .env("ESCC_NVIM_OUT", &out)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(File::create(project.join("nvim-stdout.log")).unwrap())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "nvim did not finish {script} within 90 s; stderr:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let written = std::fs::read_to_string(&out).unwrap_or_default();
    let json: Json = serde_json::from_str(&written).unwrap_or(Json::Null);
    assert!(
        status.success() && json.get("error").is_none() && json.is_object(),
        "nvim {script} failed ({status}): {}\nstderr:\n{}",
        json.get("error").and_then(Json::as_str).unwrap_or(&written),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    json
}

/// The 0-based line and byte column of the first `needle` in `text`.
fn line_col(text: &str, needle: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .find_map(|(i, line)| line.find(needle).map(|c| (i, c)))
        .unwrap()
}

fn lines(json: &Json) -> Vec<&str> {
    json.as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect()
}

#[test]
fn neovim_gets_diagnostics_hover_and_definition_across_an_import() {
    let Some(nvim) = nvim() else { return };
    let dir = project_with(&[("escc.toml", ""), ("base.yaml", BASE), ("app.yaml", APP)]);
    // Canonical, as Neovim names its buffers.
    let root = dir.path().canonicalize().unwrap();
    let got = run_nvim(&nvim, &root, "driver.lua", &[]);

    // The documented setup attached one client, on the filetype Neovim detected.
    assert_eq!(got["filetype"], "yaml", "{got}");
    assert_eq!(got["clients"], 1, "{got}");

    // Diagnostics as Neovim stores them (0-based lines, byte columns): exactly the one
    // unknown property, at `nope`, after the two-byte é.
    let (line, col) = line_col(APP, "nope}");
    assert_eq!(
        got["diagnostics"],
        serde_json::json!([{
            "lnum": line, "col": col, "end_lnum": line, "end_col": col + 4,
            "severity": 1, "message": "unknown property \"nope\"",
            "code": "unknown-property", "source": "escc",
        }])
    );

    // The hover window Neovim opened on `host` of `${db.host}`: the value, its type, and
    // where the import defines it (line 4, column 11 of base.yaml).
    let hover = lines(&got["hover"]);
    assert_eq!(hover.first(), Some(&"`db.host`: `string`"), "{hover:?}");
    assert!(hover.contains(&"\"db.internal\""), "{hover:?}");
    assert!(hover.contains(&"Defined in `base` at 4:11"), "{hover:?}");

    // On a reference to a secret: `[secret]`, and the plaintext nowhere the editor shows
    // or keeps (its windows, its LSP log, its output).
    let secret = lines(&got["secret_hover"]);
    assert_eq!(
        secret.first(),
        Some(&"`db.password`: `secret string`"),
        "{secret:?}"
    );
    assert!(secret.contains(&"\"[secret]\""), "{secret:?}");
    let lsp_log = PathBuf::from(got["lsp_log"].as_str().unwrap());
    for (what, shown) in [
        ("the editor's results".to_owned(), got.to_string()),
        (
            lsp_log.display().to_string(),
            std::fs::read_to_string(&lsp_log).unwrap(),
        ),
        (
            "nvim's stderr".to_owned(),
            std::fs::read_to_string(root.join("nvim-stderr.log")).unwrap(),
        ),
        (
            "nvim's stdout".to_owned(),
            std::fs::read_to_string(root.join("nvim-stdout.log")).unwrap(),
        ),
    ] {
        assert!(!shown.contains(SECRET), "the secret shows in {what}");
    }

    // Go to definition from `${region}` lands in base.yaml on `region` (Neovim's rows are
    // 1-based, columns bytes); from `port` of `${db.port}`, on the nested `port`.
    let base = root.join("base.yaml");
    for (key, needle) in [("definition", "region:"), ("nested_definition", "port:")] {
        let (line, col) = line_col(BASE, needle);
        let at = &got[key];
        assert_eq!(at["file"], base.to_str().unwrap(), "{key}: {at}");
        assert_eq!(
            (at["row"].as_u64(), at["col"].as_u64()),
            (Some(line as u64 + 1), Some(col as u64)),
            "{key}: {at}"
        );
        assert_eq!(at["line"], BASE.lines().nth(line).unwrap(), "{key}: {at}");
    }
}

/// Median and maximum of a JSON array of milliseconds.
fn median_max(json: &Json) -> (f64, f64) {
    let mut ms: Vec<f64> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    ms.sort_by(f64::total_cmp);
    (ms[ms.len() / 2], ms[ms.len() - 1])
}

/// The latency a Neovim user sees on the 5,000-line environment of `scripts/lsp-latency.py`
/// (its own generator, so the figures compare with docs/performance.md): printed, not
/// asserted (`cargo test --test it neovim_latency -- --nocapture`; the binary is cargo's,
/// so `--release` for figures that mean something).
#[test]
fn neovim_latency_on_a_5000_line_document() {
    let Some(nvim) = nvim() else { return };
    let generate = "import importlib.util, json, sys\n\
        spec = importlib.util.spec_from_file_location('lsp_latency', sys.argv[1])\n\
        m = importlib.util.module_from_spec(spec)\n\
        spec.loader.exec_module(m)\n\
        print(json.dumps(m.generate(5000)))";
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lsp-latency.py");
    let out = Command::new("python3")
        .args(["-c", generate])
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (base, app, edit_line): (String, String, u64) =
        serde_json::from_slice(&out.stdout).unwrap();
    // Plaintext allowed: the document's ~380 `fn::secret`s would each be warned about, and
    // the edits are to toggle one error.
    let toml = "[encryption]\nallow-plaintext = true\n";
    let dir = project_with(&[
        ("escc.toml", toml),
        ("base.yaml", &base),
        ("app.yaml", &app),
    ]);
    let root = dir.path().canonicalize().unwrap();
    let got = run_nvim(
        &nvim,
        &root,
        "latency.lua",
        &[("ESCC_NVIM_EDIT_LINE", &edit_line.to_string())],
    );
    let (change, change_max) = median_max(&got["change"]);
    let (settled, settled_max) = median_max(&got["hover_settled"]);
    let (after_edit, after_edit_max) = median_max(&got["hover_after_edit"]);
    println!(
        "Neovim, {} lines: open -> diagnostics {:.1} ms; edit -> diagnostics median {change:.1} ms \
         (max {change_max:.1}); hover median {settled:.1} ms (max {settled_max:.1}); \
         edit then hover median {after_edit:.1} ms (max {after_edit_max:.1}); {} build",
        got["lines"],
        got["open"].as_f64().unwrap(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    );
}
