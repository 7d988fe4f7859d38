//! `escc serve` against more real clients and its management endpoints: the TypeScript
//! SDK (`@pulumi/esc-sdk` 0.12.4, `npm ci` by `.ci/run` into `target/esc-ts`, or
//! `$ESCC_ESC_TS`), the External Secrets Operator's Pulumi provider v0.16.2 (the Go test
//! binary `.ci/run` builds from tests/clients/eso into `target/eso-harness/eso.test`, or
//! `$ESCC_ESO_HARNESS`), environment tags, rotation and `escc serve export`. A missing
//! client is skipped outside CI and a failure under `CI=true`.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::backends::{self, BIN};
use crate::serve::{DEV, Served, escc};

pub(crate) fn esc_ts() -> Option<PathBuf> {
    let node_modules = backends::venv("ESCC_ESC_TS", "esc-ts").join("node_modules");
    let node = Command::new("node").arg("--version").output();
    if node.is_err() {
        backends::missing("node is not installed (.ci/run installs nodejs)");
        return None;
    }
    if !node_modules.join("@pulumi/esc-sdk/package.json").is_file() {
        backends::missing(&format!(
            "@pulumi/esc-sdk is not installed at {} (.ci/run installs it; or set ESCC_ESC_TS)",
            node_modules.display()
        ));
        return None;
    }
    Some(node_modules)
}

fn eso_harness() -> Option<PathBuf> {
    let path = std::env::var_os("ESCC_ESO_HARNESS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/eso-harness/eso.test"),
        PathBuf::from,
    );
    if path.is_file() {
        return Some(path);
    }
    backends::missing(&format!(
        "the ESO harness is not built at {} (.ci/run builds it; or set ESCC_ESO_HARNESS)",
        path.display()
    ));
    None
}

fn client_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(rel)
}

/// Neither the token nor a secret is in the server's logs or audit log.
fn assert_clean(served: &Served, never: &[&str]) {
    let logs = served.logs();
    let audit = serde_json::to_string(&served.audit()).unwrap();
    for n in never {
        assert!(!logs.contains(n), "{n} in the server's output: {logs}");
        assert!(!audit.contains(n), "{n} in the audit log: {audit}");
    }
}

#[test]
fn the_typescript_sdk_lists_gets_opens_reads_updates_and_tags() {
    let Some(node_modules) = esc_ts() else { return };
    ts_flow(&node_modules, &Served::start(&[]));
}

/// The TypeScript SDK's flow (`tests/clients/typescript/flow.js`) against `served`, and
/// its audit records; also run on PostgreSQL (`serve_pg.rs`).
pub(crate) fn ts_flow(node_modules: &Path, served: &Served) {
    let token = served.token("app-ts", "editor", &[]);
    let out = Command::new("node")
        .arg(client_file("typescript/flow.js"))
        .env("NODE_PATH", node_modules)
        .env(
            "PULUMI_BACKEND_URL",
            format!("http://127.0.0.1:{}", served.port),
        )
        .env("PULUMI_ACCESS_TOKEN", &token)
        // No ~/.pulumi credentials are read.
        .env("HOME", served.dir.path())
        .env("ESCC_ORG", "acme")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        got["list"],
        serde_json::json!([
            ["acme", "app", "base", true, true],
            ["acme", "app", "dev", true, true]
        ])
    );
    assert_eq!(got["get"], DEV);
    assert_eq!(
        got["values"],
        serde_json::json!({
            "region": "eu-west-1",
            "db": {"host": "db.example", "password": "hunter22"},
            "list": [1, "two"],
            "environmentVariables": {"STAGE": "dev"},
        })
    );
    assert_eq!(got["password_is_secret"], true);
    assert_eq!(
        got["property"],
        serde_json::json!(["hunter22", true, "app/dev"])
    );
    assert_eq!(got["item"], "two");
    assert_eq!(got["update_diagnostics"], serde_json::Value::Null);
    assert_eq!(
        got["after_update"],
        serde_json::json!({"region": "eu-west-1", "stage": "updated"})
    );
    assert_eq!(got["old_session"], "db.example");
    assert_eq!(got["bad_yaml"]["status"], 400);
    assert_eq!(
        got["bad_yaml"]["body"]["diagnostics"][0]["range"]["environment"],
        "app/dev"
    );
    assert_eq!(got["missing"]["status"], 404);
    // Environment tags.
    assert_eq!(
        got["tags"],
        serde_json::json!({"team": ["team", "payments", "app-ts", true], "tier": ["tier", "gold", "app-ts", true]})
    );
    assert_eq!(got["tag_duplicate"]["status"], 409);
    assert_eq!(got["tag_renamed"], "billing");
    assert_eq!(got["tag_old_name"]["status"], 404);
    assert_eq!(got["tag_stale"]["status"], 409);
    assert_eq!(got["tags_after"], serde_json::json!(["owner"]));

    // Tag changes are audited by name, never with their values.
    let audit = served.audit();
    let tags: Vec<(&str, &str)> = audit
        .iter()
        .filter(|r| r["action"].as_str().unwrap().starts_with("env-tag"))
        .map(|r| (r["action"].as_str().unwrap(), r["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        tags,
        [
            ("env-tag-create", "acme/app/dev"),
            ("env-tag-create", "acme/app/dev"),
            ("env-tag-create", "acme/app/dev"),
            ("env-tag-update", "acme/app/dev tag team"),
            ("env-tag-update", "acme/app/dev tag owner"),
            ("env-tag-delete", "acme/app/dev tag tier"),
        ]
    );
    assert_clean(served, &["hunter22", &token, "payments", "billing"]);
}

#[test]
fn environment_tags_need_the_editor_role_and_go_with_their_environment() {
    let served = Served::start(&[]);
    let reader = served.token("reader", "reader", &[]);
    let editor = served.token("editor", "editor", &[]);
    let tags = "/api/esc/environments/acme/app/dev/tags";
    let body = br#"{"name":"team","value":"payments"}"#;
    let (s, b) = served.request("POST", tags, Some(&reader), body);
    assert_eq!(s, 403, "{b}");
    assert!(b.contains("role editor"), "{b}");
    let (s, b) = served.request("POST", tags, Some(&editor), body);
    assert_eq!(s, 200, "{b}");
    let (s, b) = served.request("GET", tags, Some(&reader), b"");
    assert_eq!(s, 200, "{b}");
    let j: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(j["tags"]["team"]["value"], "payments");
    assert_eq!(j["nextToken"], "");
    // Bad bodies and names: 400; an environment that does not exist: 404.
    for bad in [
        &b"{"[..],
        br#"{"name":""}"#,
        br#"{"name":"a\u0001","value":"x"}"#,
    ] {
        assert_eq!(served.request("POST", tags, Some(&editor), bad).0, 400);
    }
    let ghost = "/api/esc/environments/acme/app/ghost/tags";
    assert_eq!(served.request("POST", ghost, Some(&editor), body).0, 404);
    // Deleting the environment removes its tags: a new one of that name has none.
    let dev = "/api/esc/environments/acme/app/dev";
    assert_eq!(served.request("DELETE", dev, Some(&editor), b"").0, 204);
    let create = br#"{"project":"app","name":"dev"}"#;
    let (s, b) = served.request("POST", "/api/esc/environments/acme", Some(&editor), create);
    assert_eq!(s, 204, "{b}");
    let (_, b) = served.request("GET", tags, Some(&reader), b"");
    assert_eq!(b, r#"{"tags":{},"nextToken":""}"#);
}

#[test]
fn the_external_secrets_operator_gets_a_secret_a_map_and_pushes() {
    let Some(harness) = eso_harness() else { return };
    let served = Served::start(&[]);
    let token = served.token("eso", "editor", &[]);
    let run = |token: &str, extra: &[(&str, &str)]| {
        let mut c = Command::new(&harness);
        c.args(["-test.v", "-test.count=1"])
            .env(
                "ESCC_ESO_URL",
                format!("http://127.0.0.1:{}/api/esc", served.port),
            )
            .env("ESCC_ESO_ORG", "acme")
            .env("ESCC_ESO_PROJECT", "app")
            .env("ESCC_ESO_ENV", "dev")
            .env("ESCC_ESO_TOKEN", token)
            .env("ESCC_ESO_KEY", "db.password")
            .env("ESCC_ESO_EXPECTED", "hunter22")
            .env("HOME", served.dir.path())
            .stdin(Stdio::null());
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = run(
        &token,
        &[
            ("ESCC_ESO_MAP_KEY", "db"),
            ("ESCC_ESO_MAP_EXPECTED", "host=db.example,password=hunter22"),
            ("ESCC_ESO_PUSH_KEY", "pushed"),
            ("ESCC_ESO_PUSH_VALUE", "from-kubernetes"),
        ],
    );
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}");
    for t in ["TestGetSecret", "TestGetSecretMap", "TestPushSecret"] {
        assert!(said.contains(&format!("--- PASS: {t}")), "{said}");
    }
    // PushSecret wrote a new revision (ESO replaces the definition with the merged values).
    let (s, b) = served.request(
        "GET",
        "/api/esc/environments/acme/app/dev",
        Some(&token),
        b"",
    );
    assert_eq!(s, 200);
    assert!(b.contains("pushed: from-kubernetes"), "{b}");

    // A wrong token fails ESO's fetch with the server's 401.
    let out = run(
        "escc_wrong",
        &[("ESCC_ESO_EXPECT_ERROR", "401"), ("ESCC_ESO_PUSH_KEY", "")],
    );
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("--- PASS: TestGetSecret"), "{said}");
    assert_clean(&served, &["hunter22", &token]);
}

/// Imports `project` and serves it with the counter rotator plugin on `PATH`, the age
/// `identity`, in `dir` (the plugin writes `calls.log` in its working directory).
fn serve_with_plugin(dir: tempfile::TempDir, project: &Path, identity: &Path) -> Served {
    let data = dir.path().join("data");
    let out = escc(&[
        "serve",
        "import",
        project.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let plugin = bin.join("escc-provider-counter");
    std::fs::write(&plugin, crate::rotators::COUNTER).unwrap();
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let port = backends::free_port();
    let child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data)
        .args(["--org", "acme"])
        .current_dir(dir.path())
        .env("PATH", std::env::join_paths(dirs).unwrap())
        .env_remove("ESCC_AGE_IDENTITY")
        .env("ESCC_AGE_IDENTITY_FILE", identity)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.path().join("out.log")).unwrap())
        .stderr(std::fs::File::create(dir.path().join("err.log")).unwrap())
        .spawn()
        .unwrap();
    let mut served = Served {
        dir,
        server: child,
        port,
        imported: String::new(),
        database: None,
        extra: Vec::new(),
        identity: Some(identity.to_path_buf()),
    };
    let start = std::time::Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            served.server.try_wait().unwrap().is_none(),
            "escc serve exited at start"
        );
        assert!(start.elapsed().as_secs() < 60, "escc serve did not listen");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    served
}

#[test]
fn rotate_writes_a_new_revision_with_sealed_states_and_never_leaks() {
    let project = crate::age::Project::new(&[]);
    project.write(
        "app/rot.yaml",
        "values:\n  a:\n    fn::rotate::counter:\n      inputs: {}\n  down:\n    fn::rotate::counter:\n      inputs: {fail: true}\n",
    );
    let served = serve_with_plugin(tempfile::tempdir().unwrap(), project.root(), &project.key);
    let editor = served.token("editor", "editor", &[]);
    let opener = served.token("opener", "opener", &[]);
    let rot = "/api/esc/environments/acme/app/rot";
    // An opener may not rotate.
    assert_eq!(
        served
            .request("POST", &format!("{rot}/rotate"), Some(&opener), b"{}")
            .0,
        403
    );
    // A path with no fn::rotate, a body that is not JSON: 400, nothing rotated.
    let (s, b) = served.request(
        "POST",
        &format!("{rot}/rotate"),
        Some(&editor),
        br#"{"Paths":["nope"]}"#,
    );
    assert_eq!(s, 400, "{b}");
    assert!(b.contains("there is no fn::rotate at nope"), "{b}");
    assert_eq!(
        served
            .request("POST", &format!("{rot}/rotate"), Some(&editor), b"{")
            .0,
        400
    );

    // Everything: one fails, so nothing is written, and the answer says what rotated.
    let (s, b) = served.request("POST", &format!("{rot}/rotate"), Some(&editor), b"");
    assert_eq!(s, 500, "{b}");
    let j: serde_json::Value = serde_json::from_str(&b).unwrap();
    let event = &j["secretRotationEvent"];
    assert_eq!(event["status"], "failed", "{b}");
    assert_eq!(event["preRotationRevision"], 1);
    assert!(event.get("postRotationRevision").is_none(), "{b}");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("the counter service is down"),
        "{b}"
    );
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("values.a (counter): rotated on the server, NOT written"),
        "{b}"
    );
    let (_, history) = served.request("GET", &format!("{rot}/versions"), Some(&editor), b"");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&history)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The CLI's body, one path: a new revision with the state sealed.
    let (s, b) = served.request(
        "POST",
        &format!("{rot}/rotate"),
        Some(&editor),
        br#"{"Paths":["a"]}"#,
    );
    assert_eq!(s, 200, "{b}");
    let j: serde_json::Value = serde_json::from_str(&b).unwrap();
    let event = &j["secretRotationEvent"];
    assert_eq!(event["status"], "succeeded", "{b}");
    assert_eq!(event["postRotationRevision"], 2, "{b}");
    assert_eq!(event["rotations"][0]["environmentPath"], "values.a", "{b}");
    let (s, def) = served.request("GET", rot, Some(&editor), b"");
    assert_eq!(s, 200);
    assert!(
        def.contains("\"n\": 2") || def.contains("\"n\": 1"),
        "{def}"
    );
    assert!(
        def.contains("ciphertext") && !def.contains("counter-token"),
        "{def}"
    );
    // The server opens what it wrote.
    let (s, b) = served.request("POST", &format!("{rot}/open"), Some(&opener), b"");
    assert_eq!(s, 200, "{b}");
    let id = serde_json::from_str::<serde_json::Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, b) = served.request(
        "GET",
        &format!("{rot}/open//{id}?property=a.token"),
        Some(&opener),
        b"",
    );
    assert_eq!(s, 200, "{b}");
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    let token = v["value"].as_str().unwrap().to_owned();
    assert!(token.starts_with("counter-token-"), "{b}");
    assert_eq!(v["secret"], true);

    let audit = served.audit();
    let rotations: Vec<&str> = audit
        .iter()
        .filter(|r| r["action"] == "rotate" && r["who"] == "editor")
        .map(|r| r["outcome"].as_str().unwrap().split(' ').next().unwrap())
        .collect();
    assert_eq!(rotations, ["400", "400", "500", "ok"]);
    assert_clean(&served, &[&token, "counter-token", &editor]);
    let db = std::fs::read(served.data().join("escc.sqlite3")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains("counter-token"));
}

#[test]
fn export_writes_the_latest_definitions_back_and_round_trips_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("app")).unwrap();
    let toml = "[context]\nregion = \"eu\"\n";
    std::fs::write(project.join("escc.toml"), toml).unwrap();
    std::fs::write(
        project.join("app/base.yaml"),
        "values:\n  region: eu-west-1 # kept\n",
    )
    .unwrap();
    std::fs::write(project.join("app/dev.yaml"), DEV).unwrap();
    let served = Served::start_in(dir, &project, &[], None);
    let data = served.data();
    let out_dir = served.dir.path().join("exported");
    let export = |to: &Path| {
        let out = escc(&[
            "serve",
            "export",
            to.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let said = export(&out_dir);
    assert!(
        said.contains("exported 2 environment(s) and escc.toml"),
        "{said}"
    );
    let files = |root: &Path| {
        let mut v = Vec::new();
        for rel in ["escc.toml", "app/base.yaml", "app/dev.yaml"] {
            v.push((rel, std::fs::read(root.join(rel)).unwrap()));
        }
        v
    };
    assert_eq!(files(&out_dir), files(&project));
    // Nothing else: no temporary file is left behind.
    let mut names: Vec<String> = walk(&out_dir);
    names.sort();
    assert_eq!(names, ["app/base.yaml", "app/dev.yaml", "escc.toml"]);

    // A change through the API is exported; importing the export changes nothing.
    let editor = served.token("editor", "editor", &[]);
    let new = "values:\n  region: us-east-1\n";
    let (s, b) = served.request(
        "PATCH",
        "/api/esc/environments/acme/app/base",
        Some(&editor),
        new.as_bytes(),
    );
    assert_eq!(s, 200, "{b}");
    export(&out_dir);
    assert_eq!(
        std::fs::read_to_string(out_dir.join("app/base.yaml")).unwrap(),
        new
    );
    let out = escc(&[
        "serve",
        "import",
        out_dir.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("0 environment(s) changed, 2 unchanged"),
        "{out:?}"
    );
    let mut names: Vec<String> = walk(&out_dir);
    names.sort();
    assert_eq!(names, ["app/base.yaml", "app/dev.yaml", "escc.toml"]);
    // The export is audited; the audit holds no definition.
    let audit = served.audit();
    assert!(
        audit
            .iter()
            .any(|r| r["action"] == "export" && r["outcome"] == "ok")
    );
    assert!(!serde_json::to_string(&audit).unwrap().contains("hunter22"));
}

/// Every file under `root`, relative, with `/`.
fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(
                    p.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out
}
