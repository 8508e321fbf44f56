//! `authcfg mcp` driven by independent clients: the official TypeScript SDK
//! (`tests/mcp-client/client.mjs`, over stdio and streamable HTTP) and the
//! Python `mcp` package (`client.py`, over stdio). Against nginx echoing
//! the credential headers, PostgreSQL, MariaDB and the OpenID peer: calls
//! succeed, echoed secrets come back `[REDACTED:...]`, refused calls send
//! nothing, read-only SQL cannot write, an expired OAuth token is refreshed
//! once; the HTTP transport refuses a foreign Host or Origin (403) and a
//! missing or wrong bearer (401). Every transcript, every log and the
//! audit trail are searched for the planted secrets.

use crate::support::echo::{self, Echo};
use crate::support::services::{mariadb, psql, unique, MariaUser, PgRole};
use crate::support::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const KEY: &str = "key-Mcp-Qr12St34";
const TOKEN: &str = "tok-Mcp-Uv56Wx78";
const USER: &str = "mcpuser";
const PASS: &str = "pw-Mcp-Yz90Ab12";
const HIDDEN: &str = "hidden-Mcp-Cd34Ef56";
const PG_PASS: &str = "pg-Mcp-Gh78Ij90";
const MY_PASS: &str = "my-Mcp-Kl12Mn34";

const CLIENT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp-client");

/// The environment `t.cmd()` would run with, as a JSON object for a client
/// that starts `authcfg mcp` itself.
pub(crate) fn env_of(t: &T) -> Value {
    let cmd = t.std_cmd();
    let mut env: serde_json::Map<String, Value> = std::env::vars()
        .filter(|(k, _)| !k.starts_with("AUTHCFG_") && k != "DBUS_SESSION_BUS_ADDRESS")
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    for (k, v) in cmd.get_envs() {
        let k = k.to_string_lossy().into_owned();
        match v {
            Some(v) => {
                env.insert(k, Value::String(v.to_string_lossy().into_owned()));
            }
            None => {
                env.remove(&k);
            }
        }
    }
    Value::Object(env)
}

/// Runs a client script with `spec` on stdin; its transcript and stderr.
pub(crate) fn run_client(program: &str, script: &str, spec: &Value) -> (Value, String, String) {
    let mut child = Command::new(program)
        .arg(format!("{CLIENT_DIR}/{script}"))
        .current_dir(CLIENT_DIR)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e} (scripts/setup installs the MCP clients)"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(spec.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    let v: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{script}: not JSON ({e}):\n{stdout}\n{stderr}"));
    (v, stdout, stderr)
}

pub(crate) fn stdio_spec(t: &T, args: &[&str], calls: Value) -> Value {
    let mut a = vec!["mcp".to_string()];
    a.extend(args.iter().map(|s| s.to_string()));
    json!({
        "transport": "stdio",
        "command": BIN,
        "args": a,
        "env": env_of(t),
        "calls": calls,
    })
}

/// The text of a tool result, and whether it is an error.
pub(crate) fn result(r: &Value) -> (String, bool) {
    let text = r["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (text, r["isError"].as_bool().unwrap_or(false))
}

fn ok_json(r: &Value) -> Value {
    let (text, err) = result(r);
    assert!(!err, "tool failed: {r}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn refused(r: &Value, says: &str) {
    let (text, err) = result(r);
    assert!(err, "expected a refusal: {r}");
    assert!(text.contains(says), "expected {says:?} in {text}");
}

fn trail(t: &T) -> String {
    std::fs::read_to_string(t.store.join("audit.jsonl")).unwrap()
}

fn http_call(config: &str, url: String) -> Value {
    json!({"name": "http_request", "arguments": {"config": config, "url": url}})
}

struct Pg {
    role: PgRole,
    table: String,
}
impl Drop for Pg {
    fn drop(&mut self) {
        psql(&format!("DROP TABLE IF EXISTS {}", self.table));
    }
}

/// A PostgreSQL role that may read and write a two-row table.
fn pg_table() -> Pg {
    let role = PgRole::create(PG_PASS);
    let table = unique("mcp_t");
    psql(&format!(
        "CREATE TABLE {table} (id int primary key, note text); INSERT INTO {table} VALUES (1, 'one'), (2, 'two'); GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {}",
        role.0
    ));
    Pg { role, table }
}

fn pg_count(table: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-qAtc",
        ])
        .arg(format!("SELECT count(*) FROM {table}"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn add_pg(t: &T, name: &str, pg: &Pg, extra: &[&str]) {
    let mut c = t.cmd();
    c.args(["add", "connector", "postgres", "--name", name])
        .args(["--set", "host=127.0.0.1", "--set", "port=5432"])
        .args(["--set", "database=postgres", "--set", "sslmode=prefer"])
        .args(["--set", &format!("username={}", pg.role.0)]);
    for x in extra {
        c.args(["--set", x]);
    }
    c.args(["--secret-stdin", "password"])
        .write_stdin(PG_PASS)
        .assert()
        .success();
}

fn setup() -> (T, Echo) {
    let t = T::new();
    t.init();
    let e = echo::start(KEY, TOKEN, USER, PASS);
    echo::add_configs(&t, &e, KEY, TOKEN, USER, PASS);
    t.add(
        "api-key",
        "hidden",
        &[&format!("test_url={}/key", e.a)],
        Some(("api_key", HIDDEN)),
    )
    .success();
    (t, e)
}

const SECRETS: [&str; 7] = [
    KEY,
    TOKEN,
    PASS,
    HIDDEN,
    PG_PASS,
    MY_PASS,
    "Basic bWNwdXNlcj",
];

fn all_clean(t: &T, what: &str, texts: &[&str]) {
    for x in texts {
        assert_clean(what, x.as_bytes(), &SECRETS);
    }
    assert_clean("audit trail", trail(t).as_bytes(), &SECRETS);
}

#[test]
fn typescript_sdk_over_stdio() {
    let (t, e) = setup();
    let pg = pg_table();
    add_pg(&t, "db", &pg, &[]);
    let table = &pg.table;
    let a = &e.a;
    let calls = json!([
        {"name": "list_configs"},
        http_call("key", format!("{a}/key")),
        http_call("bearer", format!("{a}/bearer")),
        http_call("basic", format!("{a}/basic")),
        http_call("query", format!("{a}/query")),
        http_call("key", format!("{a}/json")),
        // Refused: another origin, a credential header of the caller's, a
        // config that is not exposed, a tool that is not offered.
        http_call("key", format!("{}/landing", e.b)),
        {"name": "http_request", "arguments": {"config": "key", "url": format!("{a}/key"),
            "headers": {"Authorization": "Bearer mine"}}},
        http_call("hidden", format!("{a}/key")),
        {"name": "reveal_secret", "arguments": {"config": "key", "field": "api_key"}},
        // SQL: reads work; writes are refused in read-only mode.
        {"name": "sql_query", "arguments": {"config": "db", "sql": format!("SELECT id, note FROM {table} ORDER BY id")}},
        {"name": "sql_query", "arguments": {"config": "db", "sql": format!("INSERT INTO {table} VALUES (3, 'three')")}},
        {"name": "sql_query", "arguments": {"config": "db", "sql": format!("COMMIT; INSERT INTO {table} VALUES (4, 'four')")}},
        {"name": "sql_query", "arguments": {"config": "db", "sql": format!("WITH x AS (DELETE FROM {table} RETURNING 1) SELECT count(*) FROM x")}},
        {"name": "test_config", "arguments": {"config": "key"}},
        {"name": "test_config", "arguments": {"config": "db"}},
    ]);
    let spec = stdio_spec(
        &t,
        &[
            "--expose", "key", "--expose", "bearer", "--expose", "basic", "--expose", "query",
            "--expose", "d?",
        ],
        calls,
    );
    let (v, raw, stderr) = run_client("node", "client.mjs", &spec);
    let tools: Vec<&str> = v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        ["list_configs", "http_request", "sql_query", "test_config"]
    );
    assert_eq!(v["server"]["name"], "authcfg");
    let r = v["results"].as_array().unwrap();

    let list = ok_json(&r[0]);
    let names: Vec<&str> = list["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["basic", "bearer", "db", "key", "query"], "{list}");
    let key = list["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "key")
        .unwrap();
    assert_eq!(key["allowed_origins"], json!([a]));
    assert_eq!(key["type"], "api_key");
    let db = list["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "db")
        .unwrap();
    assert_eq!(db["engine"], "postgres");
    assert_eq!(db["read_only"], true);

    for (i, name, field) in [
        (1, "key", "api_key"),
        (2, "bearer", "token"),
        (3, "basic", "password"),
        (4, "query", "api_key"),
    ] {
        let resp = ok_json(&r[i]);
        assert_eq!(resp["status"], 200, "{name}: {resp}");
        let body = resp["body"].as_str().unwrap();
        // `key` and `query` hold the same key: either label may stand in.
        assert!(
            body.contains(&format!("[REDACTED:{name}/{field}]"))
                || (name == "query" && body.contains("[REDACTED:key/api_key]")),
            "{name}: {body}"
        );
    }
    let json_body = ok_json(&r[5]);
    let inner: Value = serde_json::from_str(json_body["body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["key"], "[REDACTED:key/api_key]");

    refused(&r[6], "is not an allowed origin of 'key'");
    refused(&r[7], "may not be set by the caller");
    refused(&r[8], "no exposed config named 'hidden'");
    refused(&r[9], "no tool named 'reveal_secret'");

    let rows = ok_json(&r[10]);
    assert_eq!(rows["columns"], json!(["id", "note"]));
    assert_eq!(rows["rows"], json!([["1", "one"], ["2", "two"]]));
    assert_eq!(rows["read_only"], true);
    refused(&r[11], "read-only transaction");
    refused(&r[12], "multiple commands");
    // Recognized by SQLSTATE 42601 without a position, not by the text.
    refused(&r[12], "one statement per call in read-only mode");
    refused(&r[13], "read-only transaction");
    assert_eq!(pg_count(table), "2", "the table was written to");

    let test_key = ok_json(&r[14]);
    assert_eq!(test_key["ok"], true, "{test_key}");
    let test_db = ok_json(&r[15]);
    assert_eq!(test_db["ok"], true, "{test_db}");

    // Nothing reached origin B; every transcript, log and the trail are clean.
    let b = e.b_log();
    assert!(!b.contains("REQ"), "origin B got a request:\n{b}");
    all_clean(
        &t,
        "TypeScript transcript",
        &[&raw, &stderr, &v["stderr"].to_string()],
    );
    // Every call is audited as the client.
    let trail = trail(&t);
    let by_client = |action: &str| {
        trail
            .lines()
            .filter(|l| {
                l.contains("\"actor\":\"mcp:ts-sdk-test\"")
                    && l.contains(&format!("\"action\":\"{action}\""))
            })
            .count()
    };
    assert_eq!(by_client("mcp.list_configs"), 1, "{trail}");
    assert_eq!(by_client("mcp.http_request"), 8, "{trail}");
    assert_eq!(by_client("mcp.sql_query"), 4, "{trail}");
    assert_eq!(by_client("mcp.test_config"), 2, "{trail}");
    // A call of a tool that is not offered is recorded too.
    assert_eq!(by_client("mcp.unknown_tool"), 1, "{trail}");
    // The usage log names the agent as the config's consumer.
    let shown: Value = serde_json::from_str(&t.stdout(&["show", "key", "--json"])).unwrap();
    let consumers = shown["authcfg"]["consumers"].as_array().unwrap();
    assert!(
        consumers
            .iter()
            .any(|c| c["name"] == "mcp:ts-sdk-test" && c["connection"] == true),
        "{shown}"
    );
}

#[test]
fn python_sdk_over_stdio_with_mariadb() {
    let (t, e) = setup();
    let user = MariaUser::create(MY_PASS);
    let table = unique("mcp_m");
    mariadb(&format!(
        "CREATE TABLE test.{table} (id int primary key, note text); INSERT INTO test.{table} VALUES (1, 'one');"
    ));
    for host in ["127.0.0.1", "localhost", "%"] {
        mariadb(&format!(
            "GRANT INSERT, UPDATE, DELETE, CREATE, DROP ON test.* TO '{}'@'{host}'",
            user.0
        ));
    }
    t.cmd()
        .args(["add", "connector", "mariadb", "--name", "my"])
        .args(["--set", "host=127.0.0.1", "--set", "port=3306"])
        .args(["--set", "database=test", "--set", "sslmode=disable"])
        .args(["--set", &format!("username={}", user.0)])
        .args(["--secret-stdin", "password"])
        .write_stdin(MY_PASS)
        .assert()
        .success();
    let a = &e.a;
    let calls = json!([
        {"name": "list_configs"},
        http_call("key", format!("{a}/key")),
        http_call("key", format!("{}/landing", e.b)),
        {"name": "sql_query", "arguments": {"config": "my", "sql": format!("SELECT id, note FROM {table}")}},
        {"name": "sql_query", "arguments": {"config": "my", "sql": format!("INSERT INTO {table} VALUES (2, 'two')")}},
        {"name": "sql_query", "arguments": {"config": "my", "sql": format!("CREATE TABLE {table}_x (id int)")}},
        {"name": "sql_query", "arguments": {"config": "my", "sql": format!("COMMIT; INSERT INTO {table} VALUES (3, 'x')")}},
    ]);
    let mut spec = stdio_spec(&t, &["--expose", "key", "--expose", "my"], calls);
    spec["clientName"] = "py-sdk-test".into();
    let (v, raw, stderr) = run_client("python3", "client.py", &spec);
    let r = v["results"].as_array().unwrap();
    assert_eq!(
        v["tools"],
        json!(["list_configs", "http_request", "sql_query", "test_config"])
    );
    let list = ok_json(&r[0]);
    assert_eq!(list["configs"].as_array().unwrap().len(), 2, "{list}");
    let resp = ok_json(&r[1]);
    assert!(
        resp["body"]
            .as_str()
            .unwrap()
            .contains("[REDACTED:key/api_key]"),
        "{resp}"
    );
    refused(&r[2], "is not an allowed origin");
    let rows = ok_json(&r[3]);
    assert_eq!(rows["columns"], json!(["id", "note"]));
    assert_eq!(rows["rows"], json!([["1", "one"]]));
    refused(&r[4], "READ ONLY");
    let (text, err) = result(&r[5]);
    assert!(err, "CREATE TABLE went through: {text}");
    let (text, err) = result(&r[6]);
    assert!(err, "a second statement went through: {text}");
    let out = Command::new("mariadb")
        .args(["-uroot", "-N", "-e"])
        .arg(format!(
            "SELECT count(*) FROM test.{table}; SHOW TABLES FROM test LIKE '{table}_x'"
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1",
        "the table was written to"
    );
    mariadb(&format!(
        "DROP TABLE IF EXISTS test.{table}; DROP TABLE IF EXISTS test.{table}_x"
    ));
    assert!(!e.b_log().contains("REQ"));
    all_clean(&t, "Python transcript", &[&raw, &stderr]);
    assert!(trail(&t).contains("\"actor\":\"mcp:py-sdk-test\""));
}

/// `authcfg mcp --http 127.0.0.1:0`: the port and token file it names.
struct HttpServer {
    _child: crate::support::services::Guard,
    url: String,
    port: u16,
    token_file: std::path::PathBuf,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

fn start_http(t: &T, args: &[&str]) -> HttpServer {
    let token_file = t.dir.path().join("state/mcp.token");
    let mut child = t
        .std_cmd()
        .args(["mcp", "--http", "127.0.0.1:0", "--token-file"])
        .arg(&token_file)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "mcp exited:\n{seen}");
        seen.push_str(&line);
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(seen));
    let sink = stderr.clone();
    std::thread::spawn(move || {
        for line in err.lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let port = url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/mcp")
        .parse()
        .unwrap();
    HttpServer {
        _child: crate::support::services::Guard(child),
        url,
        port,
        token_file,
        stderr,
    }
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw-http", "version": "1"}}})
}

fn post(s: &HttpServer, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
    let mut r = reqwest::blocking::Client::new()
        .post(&s.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(initialize().to_string()).send().unwrap()
}

#[test]
fn typescript_sdk_over_streamable_http_with_bearer_host_and_origin_checks() {
    let (t, e) = setup();
    let s = start_http(&t, &["--expose", "key", "--expose", "bearer"]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&s.token_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "token file mode {mode:o}");
    let token = std::fs::read_to_string(&s.token_file)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(token.len(), 64);

    let spec = json!({
        "transport": "http", "url": s.url, "token": token,
        "calls": [
            {"name": "list_configs"},
            http_call("key", format!("{}/key", e.a)),
            http_call("bearer", format!("{}/bearer", e.a)),
            http_call("bearer", format!("{}/landing", e.b)),
        ],
    });
    let (v, raw, stderr) = run_client("node", "client.mjs", &spec);
    let r = v["results"].as_array().unwrap();
    assert_eq!(ok_json(&r[0])["configs"].as_array().unwrap().len(), 2);
    assert!(ok_json(&r[1])["body"]
        .as_str()
        .unwrap()
        .contains("[REDACTED:key/api_key]"));
    assert!(ok_json(&r[2])["body"]
        .as_str()
        .unwrap()
        .contains("[REDACTED:bearer/token]"));
    refused(&r[3], "is not an allowed origin");

    // The transport's own checks, with a plain HTTP client.
    let bearer = format!("Bearer {token}");
    let own = format!("http://127.0.0.1:{}", s.port);
    assert_eq!(post(&s, &[]).status(), 401);
    assert_eq!(post(&s, &[("authorization", "Bearer wrong")]).status(), 401);
    assert_eq!(
        post(&s, &[("authorization", &format!("Basic {token}"))]).status(),
        401
    );
    let resp = post(
        &s,
        &[
            ("authorization", &bearer),
            ("origin", "http://evil.example"),
        ],
    );
    assert_eq!(resp.status(), 403);
    assert_eq!(
        post(&s, &[("authorization", &bearer), ("origin", "null")]).status(),
        403
    );
    assert_eq!(
        post(
            &s,
            &[
                ("authorization", &bearer),
                ("host", &format!("evil.example:{}", s.port))
            ]
        )
        .status(),
        403
    );
    assert_eq!(
        post(&s, &[("authorization", &bearer), ("host", "127.0.0.1:1")]).status(),
        403
    );
    // A foreign Origin without a bearer is still 403 (the browser case).
    assert_eq!(
        post(&s, &[("origin", "https://evil.example")]).status(),
        403
    );
    let ok = post(&s, &[("authorization", &bearer), ("origin", &own)]);
    assert_eq!(ok.status(), 200, "{:?}", ok.text());
    let ok = post(&s, &[("authorization", &bearer)]);
    assert_eq!(ok.status(), 200);

    let log = s.stderr.lock().unwrap().clone();
    all_clean(&t, "HTTP transcript", &[&raw, &stderr, &log]);
    // Stopped, it removes its token file.
    let token_file = s.token_file.clone();
    drop(s);
    assert!(!token_file.exists(), "the token file outlived the server");
    assert!(!e.b_log().contains("REQ"));
    assert!(trail(&t).contains("\"actor\":\"mcp:ts-sdk-test\""));
}

#[test]
fn http_listens_on_loopback_only() {
    let t = T::new();
    t.init();
    let o = t
        .cmd()
        .args(["mcp", "--http", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a loopback address"));
}

#[test]
fn expired_oauth_token_is_refreshed_once_and_never_shown() {
    let peer = Peer::start();
    let mut t = T::new();
    t.env("BROWSER", &Peer::browser());
    t.env("AUTHCFG_REFRESH_SKEW", "60");
    t.init();
    let e = echo::start(KEY, TOKEN, USER, PASS);
    peer.set_access_ttl(1);
    t.cmd()
        .args([
            "add",
            "oauth2",
            "custom",
            "--name",
            "svc",
            "--issuer",
            &peer.issuer,
        ])
        .args([
            "--client-id",
            "public-native",
            "--scopes",
            "openid offline_access",
            "--timeout",
            "30",
        ])
        .assert()
        .success();
    t.cmd()
        .args(["edit", "svc", "--set", &format!("allowed_origins={}", e.a)])
        .assert()
        .success();
    let before: Value =
        serde_json::from_str(&t.stdout(&["show", "svc", "--json", "--reveal"])).unwrap();
    let old_at = before["config"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let old_rt = before["config"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    peer.set_access_ttl(3600);
    assert_eq!(peer.grants("refresh_token"), 0);

    let calls = json!([
        http_call("svc", format!("{}/echo", e.a)),
        http_call("svc", format!("{}/echo", e.a)),
        http_call("svc", format!("{}/echo", e.a)),
        // The token endpoint's origin is not an API origin of this config.
        http_call("svc", format!("{}/me", peer.issuer)),
    ]);
    let spec = stdio_spec(&t, &["--expose", "svc"], calls);
    let (v, raw, stderr) = run_client("node", "client.mjs", &spec);
    let r = v["results"].as_array().unwrap();
    for x in &r[..3] {
        let body = ok_json(x)["body"].as_str().unwrap().to_string();
        assert!(
            body.contains("auth=[Bearer [REDACTED:svc/access_token]]"),
            "{body}"
        );
    }
    refused(&r[3], "is not an allowed origin");
    assert_eq!(peer.grants("refresh_token"), 1, "exactly one refresh grant");
    let after: Value =
        serde_json::from_str(&t.stdout(&["show", "svc", "--json", "--reveal"])).unwrap();
    let new_at = after["config"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_at, old_at);
    // The server got the new token; no output has either token.
    assert!(e.a_log().contains(&format!("auth=[Bearer {new_at}]")));
    let tokens = [old_at.as_str(), new_at.as_str(), old_rt.as_str()];
    for x in [&raw, &stderr] {
        assert_clean("OAuth transcript", x.as_bytes(), &tokens);
    }
    assert_clean("audit trail", trail(&t).as_bytes(), &tokens);
}

#[test]
fn nothing_is_exposed_by_default_and_reveal_needs_the_flag() {
    let (t, e) = setup();
    let (v, _, _) = run_client(
        "node",
        "client.mjs",
        &stdio_spec(
            &t,
            &[],
            json!([{"name": "list_configs"}, http_call("key", format!("{}/key", e.a))]),
        ),
    );
    let r = v["results"].as_array().unwrap();
    let list = ok_json(&r[0]);
    assert_eq!(list["configs"], json!([]));
    assert!(list["note"].as_str().unwrap().contains("--expose"));
    refused(&r[1], "no exposed config named 'key'");
    assert_eq!(e.a_requests(), 0);

    // With --allow-reveal the tool exists, and says what it hands out.
    let (v, raw, _) = run_client(
        "node",
        "client.mjs",
        &stdio_spec(
            &t,
            &["--expose", "key", "--allow-reveal"],
            json!([{"name": "reveal_secret", "arguments": {"config": "key", "field": "api_key"}}]),
        ),
    );
    assert!(v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x == "reveal_secret"));
    assert_eq!(ok_json(&v["results"][0])["value"], KEY);
    assert!(raw.contains(KEY));
    assert!(trail(&t).contains("\"action\":\"mcp.reveal_secret\""));
}

fn lower_escapes(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let esc = &rest[i..(i + 3).min(rest.len())];
        out.push_str(&esc.to_lowercase());
        rest = &rest[(i + 3).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// Every form in which `value` might come back.
fn encodings(value: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    let pct: String = value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    vec![
        value.to_string(),
        hex::encode_upper(value),
        STANDARD.encode(value),
        URL_SAFE.encode(value),
        URL_SAFE_NO_PAD.encode(value),
        STANDARD.encode(format!("prefix:{value}:suffix")),
        pct.clone(),
        lower_escapes(&pct),
        pct.replace("%20", "+"),
        hex::encode(value),
        serde_json::to_string(value).unwrap(),
    ]
}

#[test]
fn an_echo_in_any_encoding_is_redacted() {
    let t = T::new();
    t.init();
    let mut child = Command::new("python3")
        .arg(format!("{CLIENT_DIR}/encoding_echo.py"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().strip_prefix("READY ").unwrap().parse().unwrap();
    let _server = crate::support::services::Guard(child);
    let url = format!("http://127.0.0.1:{port}/echo");
    let key = "Kq/8+zZ=%?&~!'()*;:@,$ x";
    let token = "t0k/En+with=pad~ding";
    t.add(
        "api-key",
        "enc",
        &[&format!("test_url={url}"), "key_name=X-API-Key"],
        Some(("api_key", key)),
    )
    .success();
    t.add(
        "bearer",
        "encb",
        &[&format!("test_url={url}")],
        Some(("token", token)),
    )
    .success();
    let mut planted: Vec<String> = encodings(key);
    planted.extend(encodings(token));
    planted.extend(encodings(&format!("Bearer {token}")));
    // Not even the first characters of the token are left around the marker.
    planted.push("QmVhcmVyIHQw".to_string());
    let planted: Vec<&str> = planted.iter().map(String::as_str).collect();

    // The server does send them back: without redaction the test would fail.
    let direct = reqwest::blocking::Client::new()
        .get(&url)
        .header("X-API-Key", key)
        .send()
        .unwrap()
        .text()
        .unwrap();
    for p in encodings(key) {
        assert!(
            direct.contains(&p) || direct.contains(&p.replace('/', "\\/")),
            "the echo lacks {p}: {direct}"
        );
    }

    let (v, raw, stderr) = run_client(
        "node",
        "client.mjs",
        &stdio_spec(
            &t,
            &["--expose", "enc*"],
            json!([
                http_call("enc", url.clone()),
                http_call("encb", url.clone())
            ]),
        ),
    );
    for r in v["results"].as_array().unwrap() {
        assert_eq!(ok_json(r)["status"], 200);
    }
    let first = ok_json(&v["results"][0]);
    assert_eq!(first["headers"]["x-echo-key"], "[REDACTED:enc/api_key]");
    assert_eq!(
        first["headers"]["x-echo-slash"],
        "\"[REDACTED:enc/api_key]\""
    );
    assert_eq!(first["headers"]["x-echo-u"], "\"[REDACTED:enc/api_key]\"");
    let body: Value =
        serde_json::from_str(ok_json(&v["results"][0])["body"].as_str().unwrap()).unwrap();
    for (form, text) in body["X-API-Key"].as_object().unwrap() {
        assert!(
            text.as_str().unwrap().contains("[REDACTED:enc/api_key]"),
            "{form}: {text}"
        );
    }
    assert_clean("MCP transcript", raw.as_bytes(), &planted);
    assert_clean("MCP stderr", stderr.as_bytes(), &planted);

    // `authcfg http` prints the same redacted answer.
    let o = t
        .cmd()
        .args(["http", "encb", &url, "--include"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("[REDACTED:encb/token]"));
    assert_clean("http output", &o.stdout, &planted);
    // A compressed answer cannot be scanned: it is not shown, and a caller
    // cannot ask for one.
    let gz = format!("http://127.0.0.1:{port}/gzip");
    let o = t.cmd().args(["http", "encb", &gz]).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("compressed"));
    assert_clean("http output (gzip)", &o.stdout, &planted);
    t.cmd()
        .args(["http", "encb", &url, "-H", "Accept-Encoding: gzip"])
        .assert()
        .failure();
    assert_clean("audit trail", trail(&t).as_bytes(), &planted);
}

#[test]
fn sql_writes_only_where_the_config_allows_them() {
    let t = T::new();
    t.init();
    let pg = pg_table();
    add_pg(&t, "ro", &pg, &[]);
    add_pg(&t, "rw", &pg, &["allow_writes=true"]);
    let table = &pg.table;
    let rev: String = PG_PASS.chars().rev().collect();
    let insert = |c: &str, id: u32| {
        json!({"name": "sql_query", "arguments": {"config": c,
            "sql": format!("INSERT INTO {table} VALUES ({id}, 'x')")}})
    };
    let calls = json!([
        {"name": "list_configs"},
        insert("ro", 10),
        insert("rw", 11),
        {"name": "sql_query", "arguments": {"config": "rw", "sql": format!("SELECT count(*) AS n FROM {table}")}},
        {"name": "sql_query", "arguments": {"config": "ro", "sql": "SELECT current_setting('transaction_read_only') AS ro"}},
        // A row holding a secret of an exposed config comes back redacted
        // (the SQL turns it back from a form the request check does not
        // decode: docs/SECURITY.md, "Guessing, what is left").
        {"name": "sql_query", "arguments": {"config": "ro", "sql": format!("SELECT 'x' || reverse('{rev}') AS pw, encode(convert_to(reverse('{rev}'), 'UTF8'), 'base64') AS b64")}},
        // The secret itself in the SQL: refused, unsent; then nothing more.
        {"name": "sql_query", "arguments": {"config": "ro", "sql": format!("SELECT '{PG_PASS}' AS pw")}},
        {"name": "list_configs"},
    ]);
    let (v, raw, stderr) = run_client(
        "node",
        "client.mjs",
        &stdio_spec(&t, &["--expose", "r?"], calls),
    );
    let r = v["results"].as_array().unwrap();
    let list = ok_json(&r[0]);
    let flags: Vec<(String, bool)> = list["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["read_only"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(flags, [("ro".into(), true), ("rw".into(), false)]);
    refused(&r[1], "read-only transaction");
    let ins = ok_json(&r[2]);
    assert_eq!(ins["row_count"], 1, "{ins}");
    assert_eq!(ins["read_only"], false);
    assert_eq!(ok_json(&r[3])["rows"], json!([["3"]]));
    assert_eq!(ok_json(&r[4])["rows"], json!([["on"]]));
    assert_eq!(pg_count(table), "3");
    let row = &ok_json(&r[5])["rows"][0];
    assert!(
        row[0].as_str().unwrap().starts_with("x[REDACTED:r"),
        "{row}"
    );
    assert!(row[1].as_str().unwrap().starts_with("[REDACTED:r"), "{row}");
    refused(&r[6], "refused, not sent");
    refused(&r[7], "answers no more calls");
    all_clean(&t, "SQL transcript", &[&raw, &stderr]);
}

#[test]
fn stdout_carries_only_json_rpc() {
    let (t, e) = setup();
    let mut child = t
        .std_cmd()
        .args(["mcp", "--expose", "key", "--expose", "nothing-matches-*"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let msgs = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw-stdio", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "http_request", "arguments": {"config": "key", "url": format!("{}/key", e.a)}}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {
            "name": "test_config", "arguments": {"config": "key"}}}),
    ];
    let mut stdin = child.stdin.take().unwrap();
    for m in &msgs {
        writeln!(stdin, "{m}").unwrap();
    }
    // Answers come before stdin closes (the server ends at end of input).
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = vec![];
    while lines.len() < 4 {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "stdout ended early: {lines:?}"
        );
        lines.push(line);
    }
    drop(stdin);
    let rest = {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).unwrap();
        s
    };
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    for line in lines
        .iter()
        .chain(rest.lines().map(String::from).collect::<Vec<_>>().iter())
    {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["jsonrpc"], "2.0", "{line}");
    }
    // Calls may be answered in any order: find the one with id 3.
    let answer: Value = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["id"] == 3)
        .unwrap();
    assert!(answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("[REDACTED:key/api_key]"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("authcfg mcp: 1 config(s) exposed: key"),
        "{err}"
    );
    assert!(
        err.contains("--expose nothing-matches-* matches no config"),
        "{err}"
    );
    assert!(
        err.contains("authcfg mcp: mcp:raw-stdio http_request ok"),
        "{err}"
    );
    let all: String = lines.concat() + &rest;
    all_clean(&t, "raw stdio", &[&all, &err]);
}

#[test]
fn concurrent_calls_are_each_answered_and_audited() {
    let (t, e) = setup();
    let mut child = t
        .std_cmd()
        .args(["mcp", "--expose", "key", "--expose", "bearer"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "burst", "version": "1"}}})
    )
    .unwrap();
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
    )
    .unwrap();
    const N: u64 = 30;
    // All at once, before reading any answer.
    for i in 1..=N {
        let (config, path) = if i % 2 == 0 {
            ("key", "/key")
        } else {
            ("bearer", "/bearer")
        };
        writeln!(
            stdin,
            "{}",
            json!({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {
                "name": "http_request", "arguments": {"config": config, "url": format!("{}{path}", e.a),
                "headers": [format!("X-Custom: call-{i}")]}}})
        )
        .unwrap();
    }
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = std::collections::BTreeSet::new();
    let mut all = String::new();
    while seen.len() < N as usize + 1 {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "stdout ended: {seen:?}"
        );
        all.push_str(&line);
        let v: Value = serde_json::from_str(&line).unwrap();
        let id = v["id"].as_u64().unwrap();
        if id > 0 {
            let resp = ok_json(&v["result"]);
            assert_eq!(resp["status"], 200, "{resp}");
            // Each answer is its own call's (X-Custom echoed back).
            assert!(
                resp["body"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("custom=[call-{id}]")),
                "{resp}"
            );
        }
        seen.insert(id);
    }
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert_eq!(e.a_requests(), N as usize);
    let trail = trail(&t);
    let audited = trail
        .lines()
        .filter(|l| {
            l.contains("\"actor\":\"mcp:burst\"") && l.contains("\"action\":\"mcp.http_request\"")
        })
        .count();
    assert_eq!(audited, N as usize, "{trail}");
    t.cmd().args(["log", "--verify"]).assert().success();
    all_clean(&t, "burst", &[&all, &String::from_utf8_lossy(&o.stderr)]);
}

#[test]
fn a_superuser_config_is_refused_in_read_only_mode() {
    let t = T::new();
    t.init();
    let pg = pg_table();
    // The same role made superuser: a read-only transaction would still let
    // it run COPY ... TO PROGRAM.
    psql(&format!("ALTER ROLE {} SUPERUSER", pg.role.0));
    add_pg(&t, "su", &pg, &[]);
    let marker = t.home.join("program-ran");
    let calls = json!([
        {"name": "sql_query", "arguments": {"config": "su", "sql": "SELECT 1 AS one"}},
        {"name": "sql_query", "arguments": {"config": "su",
            "sql": format!("COPY (SELECT 1) TO PROGRAM 'touch {}'", marker.display())}},
    ]);
    let (v, _raw, _stderr) = run_client(
        "node",
        "client.mjs",
        &stdio_spec(&t, &["--expose", "su"], calls),
    );
    refused(&v["results"][0], "superuser");
    refused(&v["results"][1], "superuser");
    assert!(!marker.exists());
}

/// One value from the database as its administrator sees it.
fn admin_value(program: &str, sql: &str) -> String {
    let out = match program {
        "psql" => Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qAtc",
                sql,
            ])
            .output(),
        _ => Command::new("mariadb")
            .args(["-uroot", "-N", "-e", sql])
            .output(),
    }
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_statement_past_the_timeout_is_cancelled_on_the_server() {
    let t = T::new();
    t.init();
    let pg = pg_table();
    add_pg(&t, "pg", &pg, &[]);
    let user = MariaUser::create(MY_PASS);
    t.cmd()
        .args(["add", "connector", "mariadb", "--name", "my"])
        .args(["--set", "host=127.0.0.1", "--set", "port=3306"])
        .args(["--set", "database=test", "--set", "sslmode=disable"])
        .args(["--set", &format!("username={}", user.0)])
        .args(["--secret-stdin", "password"])
        .write_stdin(MY_PASS)
        .assert()
        .success();
    let pg_mark = unique("cancel_pg");
    let my_mark = unique("cancel_my");
    let calls = json!([
        {"name": "sql_query", "arguments": {"config": "pg",
            "sql": format!("SELECT pg_sleep(30), '{pg_mark}' AS mark")}},
        {"name": "sql_query", "arguments": {"config": "my",
            "sql": format!("SELECT SLEEP(30), '{my_mark}' AS mark")}},
    ]);
    let started = std::time::Instant::now();
    let (v, raw, stderr) = run_client(
        "node",
        "client.mjs",
        &stdio_spec(&t, &["--expose", "*", "--timeout", "2"], calls),
    );
    refused(
        &v["results"][0],
        "the statement was cancelled on the server",
    );
    refused(
        &v["results"][1],
        "the statement was cancelled on the server",
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(25));
    // The statements ended before the calls were answered: neither runs
    // on the server now (without the cancellation both would for 30 s).
    let pg_running = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%{pg_mark}%' AND pid <> pg_backend_pid()"
    );
    let my_running = format!(
        "SELECT COUNT(*) FROM information_schema.processlist WHERE INFO LIKE '%{my_mark}%' AND ID <> CONNECTION_ID()"
    );
    assert_eq!(admin_value("psql", &pg_running), "0");
    assert_eq!(admin_value("mariadb", &my_running), "0");
    // And their sessions are closed (the server notices within moments).
    let pg_backend = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%{pg_mark}%' AND pid <> pg_backend_pid()"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while admin_value("psql", &pg_backend) != "0" {
        assert!(
            std::time::Instant::now() < deadline,
            "the PostgreSQL backend is still there"
        );
    }
    all_clean(&t, "SQL cancel", &[&raw, &stderr]);
}

/// A config with nothing to probe is "not testable" for an agent as for
/// `authcfg test`: the same answer class and the same audit outcome
/// (`Outcome::audit_outcome`), not a failure.
#[test]
fn a_config_with_nothing_to_probe_is_not_testable_for_an_agent_too() {
    let t = T::new();
    t.init();
    t.add("api-key", "nt", &[], Some(("api_key", "k-nt-1234567890")))
        .success();
    let calls = json!([{"name": "test_config", "arguments": {"config": "nt"}}]);
    let spec = stdio_spec(&t, &["--expose", "nt"], calls);
    let (v, _, _) = run_client("node", "client.mjs", &spec);
    let r = ok_json(&v["results"][0]);
    assert_eq!(r["ok"], json!(false), "{r}");
    assert_eq!(r["result"], json!("not testable"), "{r}");
    t.cmd().args(["test", "nt"]).assert().success();
    let outcomes: Vec<String> = trail(&t)
        .lines()
        .filter(|l| l.contains("\"config\":\"nt\"") && l.contains("test"))
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["outcome"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(outcomes, ["not testable", "not testable"], "{}", trail(&t));
}
