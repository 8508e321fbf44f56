//! Redaction against real encoders (docs/SECURITY.md, "An agent using
//! authcfg mcp"): three echo servers hand the credential authcfg attached
//! back through their languages' own libraries (Go's encoding/json, net/url,
//! html, html/template, encoding/xml, strconv, encoding/base64, encoding/hex,
//! mime/quotedprintable; Python's json, urllib.parse, html,
//! xml.sax.saxutils, base64, quopri, binascii, repr and unicode_escape;
//! Node's JSON.stringify, encodeURIComponent, encodeURI, escape,
//! querystring, URLSearchParams, Buffer), and every section of the answer,
//! through `authcfg http` and the MCP `http_request` tool, must have the
//! secret replaced and nothing of it left. The caller cannot choose a slice
//! of the answer: Range and its kin are refused, and a partial answer is
//! not shown.

use crate::mcp_server::{run_client, stdio_spec};
use crate::support::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// An API key with everything an encoder treats specially: `&<>"'` (Go's
/// and HTML's escapes), `/` (kept by Python's quote), `+`, space, `%`, `\`,
/// `=`, non-ASCII in two, three and four bytes; long enough that
/// `base64.encodebytes` and quoted-printable wrap it.
const KEY: &str = "Zq9&<Wv>\"ä/+ €x Yk'7%Jb😀\\Rm=Tn~Kp3*Xs(8)Gh!Vd;Fc:Lw@Qz$Hy,Nu#Pe?Oa[Ib]";
/// A header value (visible ASCII and spaces only).
const TOKEN: &str = "Tk7&<Qp>\"/+ x%Lw\\=Ny~Gd'Sb Hj*Mc!Vf(Rz)";

const ENCODERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/encoders");

struct Server {
    _child: crate::support::services::Guard,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

fn spawn(mut cmd: Command, dir: Option<tempfile::TempDir>) -> Server {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (scripts/setup installs golang-go and node)"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("{cmd:?} said {line:?}"))
        .parse()
        .unwrap();
    Server {
        _child: crate::support::services::Guard(child),
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    }
}

/// The Go echo server, built from tests/encoders/echo.go.
fn go_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(format!("{ENCODERS}/echo.go"), dir.path().join("main.go")).unwrap();
    let bin = dir.path().join("echo");
    let out = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg("main.go")
        .current_dir(dir.path())
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "")
        .output()
        .unwrap_or_else(|e| panic!("go: {e} (scripts/setup installs golang-go)"));
    assert!(
        out.status.success(),
        "go build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    spawn(Command::new(&bin), Some(dir))
}

fn servers() -> Vec<(&'static str, Server)> {
    let mut py = Command::new("python3");
    py.arg(format!("{ENCODERS}/echo.py"));
    let mut node = Command::new("node");
    node.arg(format!("{ENCODERS}/echo.mjs"));
    vec![
        ("go", go_server()),
        ("py", spawn(py, None)),
        ("node", spawn(node, None)),
    ]
}

/// `NAME\t<<VALUE>>` sections (a value may span lines).
fn sections(body: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = body;
    while let Some(tab) = rest.find("\t<<") {
        let name = rest[..tab].trim().to_string();
        let after = &rest[tab + 3..];
        let end = after
            .find(">>\n")
            .unwrap_or_else(|| panic!("unterminated {name}"));
        out.insert(name, after[..end].to_string());
        rest = &after[end + 3..];
    }
    out
}

/// Sections whose value holds more than the secret's encoding (a URL, a
/// MIME word, a JSON object, `b'...'`): checked for the marker and for
/// leftovers, not for being nothing but the marker.
fn composite(name: &str) -> bool {
    [
        "url_in_json",
        "URLSearchParams",
        "JSON_of_base64",
        "json_of_encodebytes",
        "repr_bytes",
    ]
    .iter()
    .any(|c| name.ends_with(c))
}

/// Pieces of a secret's forms that may not survive anywhere: 8-character
/// windows of the value, its base64, hex and percent-encodings.
fn fragments(secret: &str) -> Vec<String> {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let pct: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let mut out = vec![];
    for form in [
        secret.to_string(),
        STANDARD.encode(secret),
        hex::encode(secret),
        pct,
    ] {
        let chars: Vec<char> = form.chars().collect();
        for w in chars.windows(8) {
            let s: String = w.iter().collect();
            if s.chars().filter(char::is_ascii_alphanumeric).count() >= 5 {
                out.push(s);
            }
        }
    }
    out
}

/// Checks one redacted answer against the direct one: every section of
/// `part` (`_key_` or `_auth_`) holds `label`, and nothing but it (pure
/// sections) or nothing of the secret (composite ones).
fn check(what: &str, direct: &BTreeMap<String, String>, body: &str, part: &str, label: &str) {
    let got = sections(body);
    let secret = if part == "_key_" { KEY } else { TOKEN };
    let mut checked = 0;
    for (name, d) in direct.iter().filter(|(n, _)| n.contains(part)) {
        let r = got
            .get(name)
            .unwrap_or_else(|| panic!("{what}: no section {name} in {body}"));
        assert!(r.contains(label), "{what}: {name}: {d} -> {r}");
        assert!(!r.contains(d.as_str()), "{what}: {name} unchanged: {r}");
        let left = r.replace(label, "");
        if !composite(name) {
            assert!(
                left.chars().all(|c| "\"'\\=\n ".contains(c)),
                "{what}: {name}: {d} -> {r}: {left:?} is left"
            );
        }
        for f in fragments(secret) {
            assert!(!left.contains(&f), "{what}: {name}: {f:?} left in {r}");
        }
        checked += 1;
    }
    assert!(checked >= 10, "{what}: only {checked} sections");
}

fn direct(url: &str) -> String {
    reqwest::blocking::Client::new()
        .get(format!("{url}/echo"))
        .query(&[("api_key", KEY)])
        .header("Authorization", TOKEN)
        .send()
        .unwrap()
        .text()
        .unwrap()
}

fn add_configs(t: &T, lang: &str, url: &str) {
    t.add(
        "api-key",
        &format!("q-{lang}"),
        &[
            &format!("test_url={url}/echo"),
            "key_name=api_key",
            "location=query",
        ],
        Some(("api_key", KEY)),
    )
    .success();
    t.add(
        "api-key",
        &format!("h-{lang}"),
        &[&format!("test_url={url}/echo"), "key_name=Authorization"],
        Some(("api_key", TOKEN)),
    )
    .success();
}

#[test]
fn real_encoders_are_redacted_through_http_and_mcp() {
    let t = T::new();
    t.init();
    let servers = servers();
    let mut calls = vec![];
    let mut directs = vec![];
    for (lang, s) in &servers {
        add_configs(&t, lang, &s.url);
        let d = sections(&direct(&s.url));
        // The servers do hand the secrets back, each form differently.
        for (name, v) in &d {
            assert!(!v.is_empty() && v != "\"\"", "{lang}: {name} is empty");
        }
        directs.push(d);
        for c in ["q", "h"] {
            calls.push(json!({"name": "http_request", "arguments": {
                "config": format!("{c}-{lang}"), "url": format!("{}/echo", s.url)}}));
        }
    }
    let all_direct: Vec<String> = directs
        .iter()
        .flat_map(|d| d.values().cloned())
        .chain([KEY.to_string(), TOKEN.to_string()])
        .collect();
    let planted: Vec<&str> = all_direct.iter().map(String::as_str).collect();

    // `authcfg http`.
    for ((lang, s), d) in servers.iter().zip(&directs) {
        for (c, part, field) in [("q", "_key_", "api_key"), ("h", "_auth_", "api_key")] {
            let name = format!("{c}-{lang}");
            let o = t
                .cmd()
                .args(["http", &name, &format!("{}/echo", s.url)])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let body = String::from_utf8(o.stdout).unwrap();
            check(
                &format!("http {name}"),
                d,
                &body,
                part,
                &format!("[REDACTED:{name}/{field}]"),
            );
            assert_clean(&format!("http {name}"), body.as_bytes(), &planted);
        }
    }

    // MCP `http_request`, every config exposed at once.
    let (v, raw, stderr) = run_client(
        "node",
        "client.mjs",
        &stdio_spec(&t, &["--expose", "*"], Value::Array(calls)),
    );
    let results = v["results"].as_array().unwrap();
    let mut i = 0;
    for ((lang, _), d) in servers.iter().zip(&directs) {
        for (c, part) in [("q", "_key_"), ("h", "_auth_")] {
            let name = format!("{c}-{lang}");
            let text = results[i]["content"][0]["text"].as_str().unwrap();
            let r: Value = serde_json::from_str(text).unwrap();
            assert_eq!(r["status"], 200, "{text}");
            check(
                &format!("mcp {name}"),
                d,
                r["body"].as_str().unwrap(),
                part,
                // The same value in three configs: the marker names the
                // first (in name order) that holds it.
                &format!("[REDACTED:{c}-go/api_key]"),
            );
            i += 1;
        }
    }
    assert_clean("MCP transcript", raw.as_bytes(), &planted);
    assert_clean("MCP stderr", stderr.as_bytes(), &planted);
    assert_clean(
        "audit trail",
        &std::fs::read(t.store.join("audit.jsonl")).unwrap(),
        &planted,
    );
}

#[test]
fn the_caller_cannot_ask_for_a_slice_of_the_answer() {
    let t = T::new();
    t.init();
    let s = go_server();
    add_configs(&t, "go", &s.url);
    let url = format!("{}/echo", s.url);
    // The server honours Range: two slices hold the key in two pieces, and
    // neither holds it whole.
    let client = reqwest::blocking::Client::new();
    let full = direct(&s.url);
    let slice = |range: &str| {
        let r = client
            .get(&url)
            .query(&[("api_key", KEY)])
            .header("Range", range)
            .send()
            .unwrap();
        assert_eq!(r.status(), 206);
        r.bytes().unwrap().to_vec()
    };
    let marker = "go_key_encoding_json_no_html_escape\t<<\"";
    let start = full.find(marker).unwrap() + marker.len();
    let mut a = slice(&format!("bytes={start}-{}", start + 9));
    let b = slice(&format!("bytes={}-{}", start + 10, start + 99));
    let holds = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(!holds(&a, KEY.as_bytes()) && !holds(&b, KEY.as_bytes()));
    // Together they are the key's JSON form, as the whole answer has it.
    a.extend_from_slice(&b);
    assert_eq!(a, &full.as_bytes()[start..start + 100]);

    // authcfg refuses every header that chooses a part or a form of the
    // answer, before sending anything.
    for h in [
        "Range: bytes=0-9",
        "range: bytes=10-99",
        "If-Range: \"echo\"",
        "Request-Range: bytes=0-9",
        "Accept-Charset: utf-16",
    ] {
        let o = t
            .cmd()
            .args(["http", "q-go", &url, "-H", h])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{h}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("may not be set"),
            "{h}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.stdout.is_empty());
    }
    // A part the server sends unasked (206, Content-Range) is not shown.
    let o = t
        .cmd()
        .args(["http", "q-go", &format!("{}/partial", s.url)])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("a part of a larger one"));
    assert!(o.stdout.is_empty());

    // The same through MCP.
    let calls = json!([
        {"name": "http_request", "arguments": {"config": "q-go", "url": url,
            "headers": {"Range": "bytes=0-9"}}},
        {"name": "http_request", "arguments": {"config": "h-go", "url": url,
            "headers": {"If-Range": "\"echo\"", "Accept": "*/*"}}},
        {"name": "http_request", "arguments": {"config": "q-go", "url": format!("{}/partial", s.url)}},
    ]);
    let (v, raw, _) = run_client(
        "node",
        "client.mjs",
        &stdio_spec(&t, &["--expose", "*-go"], calls),
    );
    let r = v["results"].as_array().unwrap();
    for (i, says) in [
        (0, "may not be set"),
        (1, "may not be set"),
        (2, "a part of a larger one"),
    ] {
        assert_eq!(r[i]["isError"], true, "{}", r[i]);
        assert!(
            r[i]["content"][0]["text"].as_str().unwrap().contains(says),
            "{}",
            r[i]
        );
    }
    let pieces: Vec<String> = fragments(KEY).into_iter().chain(fragments(TOKEN)).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    assert_clean("MCP transcript", raw.as_bytes(), &pieces);
}

/// A loopback server answering each request with `body(path)`; serves
/// `n` requests on a thread.
fn serve_bodies(n: usize, body: fn(&str) -> Vec<u8>) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().take(n) {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 8192];
            let len = s.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..len]).into_owned();
            let path = head.split(' ').nth(1).unwrap_or("/").to_string();
            let b = body(&path);
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    b.len()
                )
                .as_bytes(),
            );
            let _ = s.write_all(&b);
        }
    });
    port
}

const RT_TOKEN: &str = "Sk3yAbcdEfgh1234XyZ9";

/// The red team's forms (#8, #9, #10, #65): octal escapes, base64 split
/// by spaces, tabs and backslash-newlines or in padded chunks, hex of
/// base64 and of UTF-16.
fn red_team_form(path: &str) -> Vec<u8> {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let t = RT_TOKEN;
    let b64 = STANDARD.encode(t);
    let groups: Vec<&str> = b64
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let body = match path {
        "/oct" => t.bytes().map(|b| format!("\\{b:o}")).collect(),
        "/oct3" => t.bytes().map(|b| format!("\\{b:03o}")).collect(),
        "/b64sp" => groups.join(" "),
        "/b64tab" => groups.join("\t"),
        "/b64bs" => groups.join("\\\n"),
        "/b64gap" => format!("{} {}", &b64[..9], &b64[9..]),
        "/b64chunks" => [&t[..5], &t[5..12], &t[12..]]
            .iter()
            .map(|c| STANDARD.encode(c))
            .collect(),
        "/b64hex" => hex::encode(&b64),
        "/utf16hex" => t.encode_utf16().map(|u| format!("{u:04x}")).collect(),
        _ => String::new(),
    };
    format!("before {body} after\n").into_bytes()
}

#[test]
fn red_team_forms_are_redacted() {
    let paths = [
        "/oct",
        "/oct3",
        "/b64sp",
        "/b64tab",
        "/b64bs",
        "/b64gap",
        "/b64chunks",
        "/b64hex",
        "/utf16hex",
    ];
    let port = serve_bodies(2 * paths.len(), red_team_form);
    let t = T::new();
    t.init();
    t.add(
        "bearer",
        "echo",
        &[&format!("test_url=http://127.0.0.1:{port}/")],
        Some(("token", RT_TOKEN)),
    )
    .success();
    for p in paths {
        let sent = String::from_utf8(red_team_form(p)).unwrap();
        let out = t
            .cmd()
            .args(["http", "echo", &format!("http://127.0.0.1:{port}{p}")])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out, "before [REDACTED:echo/token] after\n",
            "{p}: {sent:?} came back as {out:?}"
        );
    }
}

/// Red team #57/#58: redaction as a guessing oracle. An agent that sends
/// candidate passwords for a server to echo would see which one comes back
/// as `[REDACTED:...]`. A request holding a secret (here as hex, among
/// other guesses) is refused without being sent, and the server answers
/// no further call; a request of misses goes through.
#[test]
fn a_guess_that_hits_ends_the_mcp_session() {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    std::thread::spawn(move || {
        for s in listener.incoming().take(10) {
            let Ok(mut s) = s else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = vec![0u8; 65536];
            let mut got = 0;
            // The head, then Content-Length bytes of body: echoed.
            let body = loop {
                let n = s.read(&mut buf[got..]).unwrap_or(0);
                got += n;
                let text = String::from_utf8_lossy(&buf[..got]).into_owned();
                if let Some(at) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if got >= at + 4 + len || n == 0 {
                        break buf[at + 4..got].to_vec();
                    }
                }
                if n == 0 {
                    break vec![];
                }
            };
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            let _ = s.write_all(&body);
        }
    });
    let t = T::new();
    t.init();
    t.add(
        "bearer",
        "bas",
        &[&format!("test_url=http://127.0.0.1:{port}/")],
        Some(("token", "PassW0rd!xyzABC")),
    )
    .success();
    let url = format!("http://127.0.0.1:{port}/echo");
    let misses = "password\n123456\nWinter2023!\n";
    let hit = format!("{misses}{}\n", hex::encode("PassW0rd!xyzABC"));
    let spec = stdio_spec(
        &t,
        &["--expose", "*"],
        json!([
            {"name": "http_request", "arguments": {"config": "bas", "url": url, "method": "POST", "body": misses}},
            {"name": "http_request", "arguments": {"config": "bas", "url": url, "method": "POST", "body": hit}},
            {"name": "http_request", "arguments": {"config": "bas", "url": url, "method": "POST", "body": misses}},
            {"name": "list_configs", "arguments": {}},
        ]),
    );
    let (v, _, _) = run_client("node", "client.mjs", &spec);
    let results = v["results"].as_array().unwrap();
    let (text, err) = crate::mcp_server::result(&results[0]);
    assert!(
        !err && text.contains("Winter2023!"),
        "misses are echoed: {text}"
    );
    let (text, err) = crate::mcp_server::result(&results[1]);
    assert!(err && text.contains("refused, not sent"), "{text}");
    for r in &results[2..] {
        let (text, err) = crate::mcp_server::result(r);
        assert!(err && text.contains("answers no more calls"), "{text}");
    }
    assert_eq!(seen.load(Ordering::SeqCst), 1, "only the misses were sent");
    let trail = std::fs::read_to_string(t.store.join("audit.jsonl")).unwrap();
    assert!(trail.contains("the agent sent a secret value"), "{trail}");
}

/// Red team #47: `--max-body 100000000000` buffered 3.8 GB of an endless
/// answer. Above the ceiling it is a usage error, before anything is sent.
#[test]
fn max_body_has_a_ceiling() {
    let t = T::new();
    t.init();
    t.add(
        "bearer",
        "web",
        &["test_url=http://127.0.0.1:9/"],
        Some(("token", "tok-ceiling-1")),
    )
    .success();
    for args in [
        &[
            "http",
            "--max-body",
            "100000000000",
            "web",
            "http://127.0.0.1:9/",
        ][..],
        &[
            "http",
            "--max-body",
            "268435457",
            "web",
            "http://127.0.0.1:9/",
        ],
        &["mcp", "--expose", "*", "--max-body", "268435457"],
    ] {
        let out = t.cmd().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("256 MiB"), "{err}");
    }
}
