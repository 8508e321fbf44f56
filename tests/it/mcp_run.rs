//! The MCP `run_command` tool (`authcfg mcp --allow-run PROG`), driven by
//! the official SDKs (TypeScript over stdio, Python over stdio): an
//! allowed program gets placeholders and the exec proxy (`ops::run`, the
//! mechanism of `exec --placeholders`), reaches the nginx TLS upstream that
//! checks the real key, is refused (before any byte leaves) at an origin no
//! config allows, and its output comes back masked and bounded. A program
//! not allowed is refused; a shell under another name cannot be allowed.

use crate::mcp_server::{result, run_client, stdio_spec};
use crate::support::echo;
use crate::support::pki::{s, Pki};
use crate::support::tls_services::nginx_origins;
use crate::support::*;
use serde_json::{json, Value};

const WEB_KEY: &str = "key-Run-Web-Tls-40417";
const ECHO_KEY: &str = "key-Run-Echo-77215";

/// A directory holding `getkey VAR URL`: curl with the header
/// `X-API-Key: $VAR` (a CLI that reads its key from the environment), the
/// status code after the body.
fn tools_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("getkey");
    std::fs::write(
        &p,
        "#!/bin/sh\nexec curl -sS -w ' status=%{http_code}\\n' -H \"X-API-Key: $(printenv \"$1\")\" \"$2\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// A spec for a client that starts `authcfg mcp ARGS` with `bin` first in
/// its PATH.
fn spec_with_path(t: &T, bin: &std::path::Path, args: &[&str], calls: Value) -> Value {
    let mut spec = stdio_spec(t, args, calls);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    spec["env"]["PATH"] = path.into();
    spec
}

fn run_call(program: &str, args: &[&str], configs: &[&str]) -> Value {
    json!({"name": "run_command", "arguments": {"program": program, "args": args, "configs": configs}})
}

fn ok_json(r: &Value) -> Value {
    let (text, err) = result(r);
    assert!(!err, "tool failed: {r}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn run_command_with_the_typescript_sdk_reaches_the_allowed_origin_only() {
    let t = T::new();
    t.init();
    let pki = Pki::new("mcprun");
    let web = nginx_origins(&pki.server("web", &["127.0.0.1"]), &pki.ca, WEB_KEY);
    t.add(
        "api-key",
        "web",
        &[
            &format!("test_url={}/header", web.a),
            "key_name=X-API-Key",
            &format!("tls_ca={}", s(&pki.ca)),
        ],
        Some(("api_key", WEB_KEY)),
    )
    .success();
    let e = echo::start(ECHO_KEY, "tok-Run-Unused-1", "u", "pw-Run-Unused-2");
    t.add(
        "api-key",
        "key",
        &[&format!("test_url={}/key", e.a), "key_name=X-API-Key"],
        Some(("api_key", ECHO_KEY)),
    )
    .success();
    let bin = tools_dir();
    let calls = json!([
        {"name": "list_configs"},
        // The upstream checks the real key: the proxy put it in.
        run_call("getkey", &["WEB_API_KEY", &format!("{}/header", web.a)], &["web"]),
        // Origin B is allowed to no config: refused, nothing arrives.
        run_call("getkey", &["WEB_API_KEY", &format!("{}/landing", web.b)], &["web"]),
        // The echo server sends the real key back: masked.
        run_call("getkey", &["KEY_API_KEY", &format!("{}/key", e.a)], &["key"]),
        // Not allowed: another program, a shell, the allowed one by path
        // is fine (same file).
        run_call("ls", &["/"], &["web"]),
        run_call("/bin/sh", &["-c", "true"], &["web"]),
        run_call(&bin.path().join("getkey").display().to_string(), &["WEB_API_KEY", &format!("{}/header", web.a)], &["web"]),
        // A config that is not exposed.
        run_call("getkey", &["X", "http://127.0.0.1:9/"], &["nope"]),
        // Arguments holding a secret value trip the server: this call and
        // every later one are refused.
        run_call("getkey", &[WEB_KEY, &format!("{}/header", web.a)], &["web"]),
        {"name": "list_configs"},
    ]);
    let spec = spec_with_path(
        &t,
        bin.path(),
        &[
            "--expose",
            "web",
            "--expose",
            "key",
            "--allow-run",
            "getkey",
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
    assert!(tools.contains(&"run_command"), "{tools:?}");
    let r = v["results"].as_array().unwrap();
    let list = ok_json(&r[0]);
    let webc = list["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "web")
        .unwrap();
    assert!(
        webc["run_env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "WEB_API_KEY"),
        "{webc}"
    );
    let a = ok_json(&r[1]);
    assert_eq!(a["exit_code"], 0, "{a}");
    assert_eq!(a["stdout"], "ok status=200\n", "{a}");
    assert!(
        a["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "WEB_API_KEY"),
        "{a}"
    );
    let b = ok_json(&r[2]);
    assert!(b["stdout"].as_str().unwrap().contains("status=403"), "{b}");
    let why = b["refused_requests"][0].as_str().unwrap_or_default();
    assert!(
        why.contains(&web.b) && why.contains("not an allowed origin"),
        "{b}"
    );
    let b_log = std::fs::read_to_string(&web.b_log).unwrap_or_default();
    assert!(!b_log.contains("REQ"), "origin B got a request:\n{b_log}");
    let echoed = ok_json(&r[3]);
    let out = echoed["stdout"].as_str().unwrap();
    assert!(out.contains("key=[[REDACTED:key/api_key]]"), "{echoed}");
    assert!(out.contains("status=200"), "{echoed}");
    // The echo server did get the real key.
    assert!(
        e.a_log().contains(&format!("key=[{ECHO_KEY}]")),
        "{}",
        e.a_log()
    );
    for (i, says) in [
        (4, "not a program this server may run"),
        (5, "not a program this server may run"),
        (7, "no exposed config named 'nope'"),
    ] {
        let (text, err) = result(&r[i]);
        assert!(err && text.contains(says), "{i}: {text}");
    }
    assert_eq!(ok_json(&r[6])["stdout"], "ok status=200\n");
    let (text, err) = result(&r[8]);
    assert!(err && text.contains("holds a secret value"), "{text}");
    let (text, err) = result(&r[9]);
    assert!(err && text.contains("answers no more calls"), "{text}");
    // Nothing the agent saw holds a secret; the audit trail has the
    // refusals, the usage log names the program.
    assert_clean("transcript", raw.as_bytes(), &[WEB_KEY, ECHO_KEY]);
    assert_clean("server stderr", stderr.as_bytes(), &[WEB_KEY, ECHO_KEY]);
    let trail = std::fs::read_to_string(t.store.join("audit.jsonl")).unwrap();
    assert_clean("audit trail", trail.as_bytes(), &[WEB_KEY, ECHO_KEY]);
    assert!(
        trail.lines().any(|l| l.contains("mcp.run_command")
            && l.contains("refused")
            && l.contains("a program not allowed: ls")),
        "{trail}"
    );
    assert!(
        trail.lines().any(|l| l.contains("mcp.run_command")
            && l.contains("refused")
            && l.contains(&web.b)
            && l.contains("mcp:run:getkey")),
        "{trail}"
    );
    let show = t.stdout(&["show", "web"]);
    assert!(show.contains("mcp:run:getkey"), "{show}");
    assert!(
        show.contains("mcp.run_command via proxy to https://127"),
        "{show}"
    );
}

#[test]
fn run_command_with_the_python_sdk_is_bounded_and_has_no_stdin() {
    let t = T::new();
    t.init();
    let e = echo::start(ECHO_KEY, "tok-Run-Unused-3", "u", "pw-Run-Unused-4");
    t.add(
        "api-key",
        "key",
        &[&format!("test_url={}/key", e.a), "key_name=X-API-Key"],
        Some(("api_key", ECHO_KEY)),
    )
    .success();
    let bin = tools_dir();
    let (silent, port) = crate::support::services::silent_listener();
    let calls = json!([
        run_call(
            "getkey",
            &["KEY_API_KEY", &format!("{}/key", e.a)],
            &["key"]
        ),
        // A placeholder to a listener no config allows: refused, nothing
        // connected (plain http on loopback).
        run_call(
            "getkey",
            &["KEY_API_KEY", &format!("http://127.0.0.1:{port}/x")],
            &["key"]
        ),
        // Output beyond --max-body is counted, not kept.
        run_call("seq", &["1", "100000"], &["key"]),
        // Killed at --timeout.
        run_call("sleep", &["30"], &["key"]),
        // No stdin: cat ends at once, with nothing (the server's stdin is
        // the JSON-RPC stream).
        run_call("cat", &[], &["key"]),
        // What the program leaves behind ends with it.
        run_call("sh", &["-c", "sleep 300 & echo $!"], &["key"]),
    ]);
    let spec = spec_with_path(
        &t,
        bin.path(),
        &[
            "--expose",
            "key",
            "--allow-run",
            "getkey",
            "seq",
            "sleep",
            "cat",
            "sh",
            "--max-body",
            "1000",
            "--timeout",
            "3",
        ],
        calls,
    );
    let started = std::time::Instant::now();
    let (v, raw, _) = run_client("python3", "client.py", &spec);
    let r = v["results"].as_array().unwrap();
    let echoed = ok_json(&r[0]);
    assert!(
        echoed["stdout"]
            .as_str()
            .unwrap()
            .contains("key=[[REDACTED:key/api_key]]"),
        "{echoed}"
    );
    let refused = ok_json(&r[1]);
    assert!(
        refused["refused_requests"][0]
            .as_str()
            .unwrap_or_default()
            .contains("not an allowed origin"),
        "{refused}"
    );
    silent.set_nonblocking(true).unwrap();
    assert!(
        matches!(silent.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a connection arrived at the listener no config allows"
    );
    let big = ok_json(&r[2]);
    assert_eq!(big["stdout"].as_str().unwrap().len(), 1000, "{big}");
    assert_eq!(big["stdout_bytes_dropped"], 588_895 - 1000, "{big}");
    let slow = ok_json(&r[3]);
    assert_eq!(slow["timed_out"], true, "{slow}");
    assert_eq!(slow["signal"], 9, "{slow}");
    let cat = ok_json(&r[4]);
    assert_eq!(
        (cat["exit_code"].clone(), cat["stdout"].clone()),
        (json!(0), json!(""))
    );
    let left = ok_json(&r[5]);
    assert_eq!(left["exit_code"], 0, "{left}");
    let pid: u32 = left["stdout"].as_str().unwrap().trim().parse().unwrap();
    // Killed with its group when the call ended (a zombie until reaped by
    // init counts as gone: its state is Z).
    let gone = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true)
    };
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !gone() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        gone(),
        "the program's background process {pid} outlived the call"
    );
    // The whole session took the timeout once, not the sleeps.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_clean("transcript", raw.as_bytes(), &[ECHO_KEY]);
}

#[test]
fn a_shell_is_allowed_only_by_its_own_name() {
    let t = T::new();
    t.init();
    let bin = tempfile::tempdir().unwrap();
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    std::os::unix::fs::symlink(&sh, bin.path().join("innocent")).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = t
        .cmd()
        .env("PATH", &path)
        .args(["mcp", "--allow-run", "innocent"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--allow-run innocent: it is the shell"),
        "{err}"
    );
    let out = t
        .cmd()
        .args(["mcp", "--allow-run", "no-such-program-zz"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such program"));
    // Without --allow-run there is no such tool (the client lists it).
    let spec = stdio_spec(&t, &[], json!([run_call("sh", &[], &[])]));
    let (v, _, _) = run_client("node", "client.mjs", &spec);
    assert!(!v["tools"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "run_command"));
    let (text, err) = result(&v["results"][0]);
    assert!(
        err && text.contains("no tool named 'run_command'"),
        "{text}"
    );
}

fn with_key_config(t: &T) {
    t.add(
        "api-key",
        "key",
        &["test_url=https://api.example.com/", "key_name=X-API-Key"],
        Some(("api_key", ECHO_KEY)),
    )
    .success();
}

/// The allowed file renamed over after the server started (here by its
/// own first run): the next call is refused, and the refusal audited.
#[test]
fn an_allowed_program_replaced_after_start_is_refused() {
    let t = T::new();
    t.init();
    with_key_config(&t);
    let bin = tempfile::tempdir().unwrap();
    let dir = bin.path().display().to_string();
    use std::os::unix::fs::PermissionsExt;
    let new = bin.path().join("tool.new");
    std::fs::write(&new, "#!/bin/sh\necho run-new\n").unwrap();
    std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o755)).unwrap();
    let tool = bin.path().join("tool");
    std::fs::write(
        &tool,
        format!("#!/bin/sh\necho run-old\nmv '{dir}/tool.new' '{dir}/tool'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let calls = json!([
        run_call("tool", &[], &["key"]),
        run_call("tool", &[], &["key"])
    ]);
    let spec = spec_with_path(
        &t,
        bin.path(),
        &["--expose", "key", "--allow-run", "tool"],
        calls,
    );
    let (v, _, _) = run_client("node", "client.mjs", &spec);
    let first = ok_json(&v["results"][0]);
    assert_eq!(first["stdout"], "run-old\n", "{first}");
    assert!(!bin.path().join("tool.new").exists(), "not renamed");
    let (text, err) = result(&v["results"][1]);
    assert!(err, "the replaced program ran: {text}");
    assert!(text.contains("replaced or changed"), "{text}");
    assert!(!text.contains("run-new"), "{text}");
    let log = t.stdout(&["log", "--json"]);
    assert!(
        log.contains("was replaced or changed since the server started"),
        "{log}"
    );
}

/// The program gets a minimal environment: nothing else of the server's
/// (an unrelated key, the store's location) but what `--run-env` names.
#[test]
fn run_command_gets_a_minimal_environment() {
    let t = T::new();
    t.init();
    with_key_config(&t);
    let mut spec = stdio_spec(
        &t,
        &[
            "--expose",
            "key",
            "--allow-run",
            "printenv",
            "--run-env",
            "RUN_EXTRA_VAR",
        ],
        json!([run_call("printenv", &[], &["key"])]),
    );
    spec["env"]["OPENAI_API_KEY"] = "sk-Sentinel-Unrelated-90417".into();
    spec["env"]["RUN_EXTRA_VAR"] = "passed-on".into();
    let (v, _, _) = run_client("node", "client.mjs", &spec);
    let out = ok_json(&v["results"][0]);
    let env = out["stdout"].as_str().unwrap();
    assert!(!env.contains("sk-Sentinel-Unrelated-90417"), "{env}");
    assert!(!env.contains("AUTHCFG_HOME="), "{env}");
    assert!(env.contains("\nPATH=") || env.starts_with("PATH="), "{env}");
    assert!(env.contains("RUN_EXTRA_VAR=passed-on"), "{env}");
    assert!(env.contains("KEY_API_KEY="), "{env}");
}

/// A program that leaves a daemon behind in a session of its own (setsid,
/// out of the program's process group): it is ended with the call.
#[test]
fn a_process_that_left_the_group_is_ended_with_the_call() {
    let t = T::new();
    t.init();
    with_key_config(&t);
    let bin = tempfile::tempdir().unwrap();
    let pidfile = bin.path().join("daemon.pid");
    let p = bin.path().join("daemon");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\nsetsid sh -c 'echo $$ > \"{f}.tmp\"; mv \"{f}.tmp\" \"{f}\"; exec sleep 300' </dev/null >/dev/null 2>&1 &\nwhile [ ! -s '{f}' ]; do sleep 0.01; done\necho started\n",
            f = pidfile.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    let spec = spec_with_path(
        &t,
        bin.path(),
        &["--expose", "key", "--allow-run", "daemon"],
        json!([run_call("daemon", &[], &["key"])]),
    );
    let (v, _, _) = run_client("node", "client.mjs", &spec);
    let out = ok_json(&v["results"][0]);
    assert_eq!(out["stdout"], "started\n", "{out}");
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let gone = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true)
    };
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !gone() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let left = !gone();
    if left {
        // SAFETY: kill(2) on the daemon this test's program started.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
    }
    assert!(!left, "the setsid daemon {pid} outlived the call");
}
