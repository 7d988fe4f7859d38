//! `escc serve` on PostgreSQL (`--database postgres://...`): a real PostgreSQL started on
//! loopback by the rotators' helper (`rotators::Postgres`; `.ci/run` installs Debian's
//! PostgreSQL 15; missing, the tests are skipped outside CI and fail under `CI=true`), two
//! replicas on one database, the Python SDK's flow, the password of the connection string
//! kept out of every output; and the load benchmark (`benches/serve-load/run.sh`, ignored
//! as a test).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::backends::{BIN, text};
use crate::rotators::Postgres;
use crate::serve::{Served, escc, python, python_flow, request_on, sample_project};

/// The database user's password: a space and a slash, percent-encoded in the URL.
const PASSWORD: &str = "pg s3cret/Pw-41f7";
const PASSWORD_IN_URL: &str = "pg%20s3cret%2FPw-41f7";

/// Creates the database `escc` owned by the user `escc`; its URL (with the password).
fn database(pg: &Postgres) -> String {
    pg.superuser(&format!("CREATE USER escc WITH PASSWORD '{PASSWORD}'"));
    pg.superuser("CREATE DATABASE escc OWNER escc");
    format!(
        "postgres://escc:{PASSWORD_IN_URL}@127.0.0.1:{}/escc",
        pg.port
    )
}

/// Neither form of the password is in `text`.
fn assert_no_password(text: &str, what: &str) {
    assert!(
        !text.contains(PASSWORD) && !text.contains(PASSWORD_IN_URL) && !text.contains("s3cret"),
        "{what} shows the database password: {text}"
    );
}

fn header<'a>(head: &'a str, name: &str) -> &'a str {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then_some(v.trim())
        })
        .unwrap_or_else(|| panic!("no {name} in {head}"))
}

fn json(body: &str) -> Json {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The audit records a server printed on stdout.
fn printed_audit(dir: &std::path::Path, file: &str) -> Vec<Json> {
    std::fs::read_to_string(dir.join(file))
        .unwrap()
        .lines()
        .map(json)
        .collect()
}

#[test]
fn two_replicas_share_sessions_tokens_writes_and_one_audit_log() {
    let Some(pg) = Postgres::start() else { return };
    let url = database(&pg);
    let dir = tempfile::tempdir().unwrap();
    let project = sample_project(dir.path());
    let a = Served::start_with(dir, &project, &[], None, Some(&url));
    assert!(
        a.imported.contains("2 environment(s) changed"),
        "{}",
        a.imported
    );
    let b = a.replica("b");
    // Tokens are created once, on the database: both replicas know them.
    let opener = a.token("app", "opener", &[]);
    let editor = a.token("ed", "editor", &[]);
    let dev = "/api/esc/environments/acme/app/dev";
    // Every request that leaves an audit record, counted to compare with the log.
    let mut audited = 0;
    for port in [a.port, b.port] {
        let (s, _, body) = request_on(port, "GET", dev, Some(&opener), &[], b"");
        assert_eq!(s, 200, "{body}");
        assert_eq!(request_on(port, "GET", "/healthz", None, &[], b"").0, 200);
    }

    // A session opened on A is read on B, which evaluates it again (it never saw it).
    let open = |port: u16| -> String {
        let (s, _, body) = request_on(
            port,
            "POST",
            &format!("{dev}/open"),
            Some(&opener),
            &[],
            b"",
        );
        assert_eq!(s, 200, "{body}");
        json(&body)["id"].as_str().unwrap().to_owned()
    };
    let id = open(a.port);
    let later = open(a.port);
    audited += 2;
    let read = |port: u16, id: &str, query: &str| -> Json {
        let (s, _, body) = request_on(
            port,
            "GET",
            &format!("{dev}/open/{id}{query}"),
            Some(&opener),
            &[],
            b"",
        );
        assert_eq!(s, 200, "{body}");
        json(&body)
    };
    let on_a = read(a.port, &id, "");
    let on_b = read(b.port, &id, "");
    audited += 2;
    assert_eq!(on_a, on_b);
    let password = read(b.port, &id, "?property=db.password");
    audited += 1;
    assert_eq!(
        (password["value"].as_str(), password["secret"].as_bool()),
        (Some("hunter22"), Some(true))
    );
    // Unknown on both.
    for port in [a.port, b.port] {
        assert_eq!(
            request_on(
                port,
                "GET",
                &format!("{dev}/open/{}", "0".repeat(32)),
                Some(&opener),
                &[],
                b""
            )
            .0,
            404
        );
        audited += 1;
    }

    // Concurrent updates with the same ETag, one on each replica: exactly one wins.
    for round in 0..6 {
        let (s, head, _) = request_on(b.port, "GET", dev, Some(&editor), &[], b"");
        assert_eq!(s, 200);
        let etag = header(&head, "etag").to_owned();
        let mut revision: i64 = etag.trim_matches('"').parse().unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let writers: Vec<_> = [("A", a.port), ("B", b.port)]
            .into_iter()
            .map(|(name, port)| {
                let (barrier, etag, editor) = (barrier.clone(), etag.clone(), editor.clone());
                std::thread::spawn(move || {
                    let body = format!("values:\n  writer: {name}\n  round: {round}\n");
                    barrier.wait();
                    let (s, head, reply) = request_on(
                        port,
                        "PATCH",
                        dev,
                        Some(&editor),
                        &[("ETag", &etag)],
                        body.as_bytes(),
                    );
                    (s, head, reply, body)
                })
            })
            .collect();
        let mut results: Vec<_> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        audited += 2;
        results.sort_by_key(|r| r.0);
        assert_eq!(
            (results[0].0, results[1].0),
            (200, 409),
            "round {round}: {results:?}"
        );
        assert!(results[1].2.contains("changed"), "{}", results[1].2);
        revision += 1;
        assert_eq!(header(&results[0].1, "etag"), format!("\"{revision}\""));
        // Both replicas now serve the winner's text, at the next revision.
        for port in [a.port, b.port] {
            let (s, head, body) = request_on(port, "GET", dev, Some(&editor), &[], b"");
            assert_eq!((s, body.as_str()), (200, results[0].3.as_str()));
            assert_eq!(header(&head, "etag"), format!("\"{revision}\""));
        }
    }
    // A stale ETag on either replica: 409, nothing written.
    for port in [a.port, b.port] {
        let (s, _, body) = request_on(
            port,
            "PATCH",
            dev,
            Some(&editor),
            &[("ETag", "\"1\"")],
            b"values: {x: 1}\n",
        );
        assert_eq!(s, 409, "{body}");
        audited += 1;
    }
    // The session opened before the updates, read first on B: still the values of its
    // revision.
    assert_eq!(read(b.port, &later, ""), on_a);
    audited += 1;
    let fresh = open(b.port);
    audited += 1;
    assert!(read(a.port, &fresh, "?property=writer")["value"].is_string());
    audited += 1;

    // A token revoked once is refused by both.
    let out = escc(&["serve", "token", "revoke", "app", "--database", &url]);
    assert!(out.status.success(), "{out:?}");
    for port in [a.port, b.port] {
        assert_eq!(request_on(port, "GET", dev, Some(&opener), &[], b"").0, 401);
    }

    // One log: the records both replicas printed are exactly those in the database, each
    // once, with distinct ids.
    let log = a.audit();
    let served_records: Vec<&Json> = log.iter().filter(|r| r["remote"] != "cli").collect();
    assert_eq!(served_records.len(), audited, "{log:#?}");
    let mut printed = printed_audit(a.dir.path(), "out.log");
    let from_b = printed_audit(a.dir.path(), "b-out.log");
    assert!(!printed.is_empty() && !from_b.is_empty());
    printed.extend(from_b);
    printed.sort_by_key(|r| r["id"].as_i64());
    assert_eq!(printed.iter().collect::<Vec<_>>(), served_records);
    let mut ids: Vec<i64> = log.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), log.len());
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let updates = |outcome: &str| {
        log.iter()
            .filter(|r| {
                r["action"] == "update" && r["outcome"].as_str().unwrap().starts_with(outcome)
            })
            .count()
    };
    assert_eq!((updates("ok"), updates("409")), (6, 8));

    // The password is in no log, and no record holds a secret.
    for f in ["out.log", "err.log", "b-out.log", "b-err.log"] {
        let logged = std::fs::read_to_string(a.dir.path().join(f)).unwrap();
        assert_no_password(&logged, f);
        assert!(!logged.contains("hunter22"), "{f}: {logged}");
    }
    drop(b);
    drop(a);
}

/// Wrong passwords, unreachable servers and malformed URLs: clear errors without the
/// password; `ESCC_DATABASE` and `PGPASSWORD` instead of the command line.
#[test]
fn connection_errors_never_show_the_password() {
    let Some(pg) = Postgres::start() else { return };
    let url = database(&pg);
    let port = pg.port;
    let dead = crate::backends::free_port();
    for (bad, says) in [
        (
            format!("postgres://escc:wrong-{PASSWORD_IN_URL}@127.0.0.1:{port}/escc"),
            "password authentication failed",
        ),
        (
            format!("postgres://escc:{PASSWORD_IN_URL}@127.0.0.1:{dead}/escc"),
            "postgres://escc@127.0.0.1",
        ),
        (
            format!("postgres://escc:{PASSWORD_IN_URL}@127.0.0.1:port/escc"),
            "not a valid PostgreSQL URL",
        ),
        (
            format!("mysql://escc:{PASSWORD_IN_URL}@127.0.0.1/escc"),
            "expected a URL postgres://",
        ),
    ] {
        let out = escc(&["serve", "audit", "--database", &bad]);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{bad}: {err}");
        assert!(err.contains(says), "{bad}: {err}");
        assert_no_password(&format!("{err}{}", text(&out.stdout)), &bad);
    }
    // The server does not start either, and says why.
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(format!(
            "postgres://escc:wrong-{PASSWORD_IN_URL}@127.0.0.1:{port}/escc"
        ))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("password authentication failed"));
    assert_no_password(&text(&out.stderr), "escc serve");

    // From the environment, the password apart.
    let no_password = url.replace(&format!(":{PASSWORD_IN_URL}@"), "@");
    let out = Command::new(BIN)
        .args(["serve", "token", "create", "ci", "--role", "reader"])
        .env("ESCC_DATABASE", &no_password)
        .env("PGPASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let out = escc(&["serve", "audit", "--database", &url]);
    assert!(
        text(&out.stdout).contains("\"action\":\"token-create\""),
        "{out:?}"
    );
    // --data and --database together are refused.
    let out = escc(&[
        "serve",
        "audit",
        "--database",
        &url,
        "--data",
        "/nonexistent",
    ]);
    assert!(!out.status.success());
    assert_no_password(&text(&out.stderr), "--data with --database");
}

/// The Python SDK's flow of `serve.rs`, on PostgreSQL.
#[test]
fn the_python_sdk_flow_on_postgres() {
    let Some(python) = python() else { return };
    let Some(pg) = Postgres::start() else { return };
    let url = database(&pg);
    let dir = tempfile::tempdir().unwrap();
    let project = sample_project(dir.path());
    let served = Served::start_with(dir, &project, &[], None, Some(&url));
    python_flow(&python, &served);
    assert_no_password(&served.logs(), "the server's logs");
}

/// The TypeScript SDK's flow of `serve_clients.rs` (environment tags included), on
/// PostgreSQL.
#[test]
fn the_typescript_sdk_flow_on_postgres() {
    let Some(node_modules) = crate::serve_clients::esc_ts() else {
        return;
    };
    let Some(pg) = Postgres::start() else { return };
    let url = database(&pg);
    let dir = tempfile::tempdir().unwrap();
    let project = sample_project(dir.path());
    let served = Served::start_with(dir, &project, &[], None, Some(&url));
    crate::serve_clients::ts_flow(&node_modules, &served);
    assert_no_password(&served.logs(), "the server's logs");
}

/// Environment tags are in the shared database: made on one replica, seen and changed on
/// the other; of two concurrent creates of one tag (one per replica) exactly one wins,
/// the other gets 409 "exists"; deleting the environment on one replica removes its tags
/// for both.
#[test]
fn environment_tags_are_shared_by_two_replicas() {
    let Some(pg) = Postgres::start() else { return };
    let url = database(&pg);
    let dir = tempfile::tempdir().unwrap();
    let project = sample_project(dir.path());
    let a = Served::start_with(dir, &project, &[], None, Some(&url));
    let b = a.replica("b");
    let editor = a.token("ed", "editor", &[]);
    let tags = "/api/esc/environments/acme/app/dev/tags";
    let (s, _, body) = request_on(
        a.port,
        "POST",
        tags,
        Some(&editor),
        &[],
        br#"{"name": "team", "value": "payments"}"#,
    );
    assert_eq!(s, 200, "{body}");
    let (s, _, body) = request_on(
        b.port,
        "GET",
        &format!("{tags}/team"),
        Some(&editor),
        &[],
        b"",
    );
    assert_eq!(
        (s, json(&body)["value"].as_str()),
        (200, Some("payments")),
        "{body}"
    );
    let (s, _, body) = request_on(
        b.port,
        "PATCH",
        &format!("{tags}/team"),
        Some(&editor),
        &[],
        br#"{"currentTag": {"value": "payments"}, "newTag": {"name": "team", "value": "billing"}}"#,
    );
    assert_eq!(s, 200, "{body}");
    // A's view of the value is stale now.
    let (s, _, body) = request_on(
        a.port,
        "PATCH",
        &format!("{tags}/team"),
        Some(&editor),
        &[],
        br#"{"currentTag": {"value": "payments"}, "newTag": {"name": "team", "value": "x"}}"#,
    );
    assert_eq!(s, 409, "{body}");

    for round in 0..6 {
        let barrier = Arc::new(Barrier::new(2));
        let creates: Vec<_> = [a.port, b.port]
            .into_iter()
            .enumerate()
            .map(|(i, port)| {
                let (barrier, editor) = (barrier.clone(), editor.clone());
                std::thread::spawn(move || {
                    let body = format!(r#"{{"name": "race{round}", "value": "by {i}"}}"#);
                    barrier.wait();
                    let (s, _, reply) =
                        request_on(port, "POST", tags, Some(&editor), &[], body.as_bytes());
                    (s, reply)
                })
            })
            .collect();
        let mut results: Vec<_> = creates.into_iter().map(|c| c.join().unwrap()).collect();
        results.sort_by_key(|r| r.0);
        assert_eq!(
            (results[0].0, results[1].0),
            (200, 409),
            "round {round}: {results:?}"
        );
        assert!(
            json(&results[1].1)["message"] == format!("the tag \"race{round}\" exists"),
            "{}",
            results[1].1
        );
        // The winner's value is what both replicas read.
        let won = json(&results[0].1)["value"].as_str().unwrap().to_owned();
        for port in [a.port, b.port] {
            let (s, _, body) = request_on(
                port,
                "GET",
                &format!("{tags}/race{round}"),
                Some(&editor),
                &[],
                b"",
            );
            assert_eq!(
                (s, json(&body)["value"].as_str()),
                (200, Some(won.as_str()))
            );
        }
    }
    let (s, _, body) = request_on(a.port, "GET", tags, Some(&editor), &[], b"");
    assert_eq!(s, 200, "{body}");
    assert_eq!(json(&body)["tags"].as_object().unwrap().len(), 7, "{body}");

    // Deleted on B, recreated on A: untagged.
    let dev = "/api/esc/environments/acme/app/dev";
    assert_eq!(
        request_on(b.port, "DELETE", dev, Some(&editor), &[], b"").0,
        204
    );
    let (s, _, body) = request_on(
        a.port,
        "POST",
        "/api/esc/environments/acme",
        Some(&editor),
        &[],
        br#"{"project": "app", "name": "dev"}"#,
    );
    assert_eq!(s, 204, "{body}");
    let (s, _, body) = request_on(b.port, "GET", tags, Some(&editor), &[], b"");
    assert_eq!(s, 200, "{body}");
    assert_eq!(json(&body)["tags"], serde_json::json!({}));
    assert_no_password(&a.logs(), "the server's logs");
}

/// The esc CLI's flow of `serve_esc_cli.rs` (tags, retract, rollback), on PostgreSQL.
#[test]
fn the_esc_cli_flow_on_postgres() {
    let Some(bin) = crate::serve_esc_cli::esc_cli() else {
        return;
    };
    let Some(pg) = Postgres::start() else { return };
    let url = database(&pg);
    let dir = tempfile::tempdir().unwrap();
    let project = sample_project(dir.path());
    let served = Served::start_with(dir, &project, &[], None, Some(&url));
    crate::serve_esc_cli::esc_flow(bin, &served);
    assert_no_password(&served.logs(), "the server's logs");
}

// --- The load benchmark -------------------------------------------------------------------

/// One keep-alive HTTP/1.1 client.
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_nodelay(true).unwrap();
        s.set_read_timeout(Some(Duration::from_mins(1))).unwrap();
        Client {
            reader: BufReader::new(s),
        }
    }

    /// A POST with no body; the status.
    fn post(&mut self, path: &str, token: &str) -> u16 {
        write!(
            self.reader.get_mut(),
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: token {token}\r\nContent-Length: 0\r\n\r\n"
        )
        .unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status = line[9..12].parse().unwrap();
        let mut length = 0;
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).unwrap();
        status
    }
}

/// `VmRSS` or `VmHWM` of process `pid`, in MiB.
fn memory(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim_start_matches(':')
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap();
    kib / 1024.0
}

/// The `per_mille`th of `sorted` (nearest rank), in milliseconds.
fn percentile(sorted: &[Duration], per_mille: usize) -> f64 {
    let i = ((sorted.len() - 1) * per_mille).div_ceil(1000);
    sorted[i].as_secs_f64() * 1000.0
}

/// Opens per second and latencies for 1, 16 and 64 concurrent clients (each a keep-alive
/// connection opening `app/dev` in a loop for `ESCC_LOAD_SECS`, default 5), against
/// `SQLite` and PostgreSQL; the server's memory; and the audit log checked to hold exactly
/// one record per request. Run by `benches/serve-load/run.sh`.
#[test]
#[ignore = "a load benchmark, not a test: benches/serve-load/run.sh"]
fn serve_load_benchmark() {
    let secs: u64 = std::env::var("ESCC_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let pg = Postgres::start();
    let url = pg.as_ref().map(database);
    let mut table = vec![
        "| database | clients | opens | opens/s | p50 ms | p99 ms | non-200 | RSS MiB (peak) | audit |"
            .to_owned(),
        "|---|---:|---:|---:|---:|---:|---:|---:|---|".to_owned(),
    ];
    for (name, database) in [("SQLite", None), ("PostgreSQL", url.as_deref())] {
        if name == "PostgreSQL" && database.is_none() {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let project = sample_project(dir.path());
        // As many evaluations at once as clients: the limit (429 beyond) is not measured.
        let served = Served::start_with(dir, &project, &["--max-opens", "64"], None, database);
        for clients in [1, 16, 64] {
            let who = format!("load-{clients}");
            let token = served.token(&who, "opener", &[]);
            let port = served.port;
            let deadline = Instant::now() + Duration::from_secs(secs);
            let started = Instant::now();
            let threads: Vec<_> = (0..clients)
                .map(|_| {
                    let token = token.clone();
                    std::thread::spawn(move || {
                        let mut client = Client::connect(port);
                        let mut out = Vec::new();
                        while Instant::now() < deadline {
                            let t = Instant::now();
                            let status =
                                client.post("/api/esc/environments/acme/app/dev/open", &token);
                            out.push((t.elapsed(), status));
                        }
                        out
                    })
                })
                .collect();
            let results: Vec<(Duration, u16)> = threads
                .into_iter()
                .flat_map(|t| t.join().unwrap())
                .collect();
            let elapsed = started.elapsed().as_secs_f64();
            let mut latencies: Vec<Duration> = results.iter().map(|r| r.0).collect();
            latencies.sort();
            let failed = results.iter().filter(|r| r.1 != 200).count();
            let pid = served.pid();
            let (rss, peak) = (memory(pid, "VmRSS"), memory(pid, "VmHWM"));
            // Exactly one record per request: as many as were sent, with distinct ids.
            let records: Vec<Json> = served
                .audit()
                .into_iter()
                .filter(|r| r["who"] == who.as_str() && r["action"] == "open")
                .collect();
            let mut ids: Vec<i64> = records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
            ids.sort_unstable();
            ids.dedup();
            let audit = if records.len() == results.len() && ids.len() == records.len() {
                format!("{} records, ok", records.len())
            } else {
                format!(
                    "MISMATCH: {} records, {} distinct ids",
                    records.len(),
                    ids.len()
                )
            };
            assert!(audit.ends_with("ok"), "{name} {clients}: {audit}");
            table.push(format!(
                "| {name} | {clients} | {} | {:.0} | {:.1} | {:.1} | {failed} | {rss:.0} ({peak:.0}) | {audit} |",
                results.len(),
                f64::from(u32::try_from(results.len()).unwrap()) / elapsed,
                percentile(&latencies, 500),
                percentile(&latencies, 990),
            ));
        }
    }
    println!("\n{}", table.join("\n"));
    drop(pg);
}
