//! One config, one credential, whatever the path (docs/ARCHITECTURE.md,
//! "Credential model"): `http`, `header`, `token`, the HTTP probe of
//! `test`, the MCP `http_request` tool and git through `git-credential`
//! each send a config's credential to a recording server (nginx,
//! support/echo), and the requests it logged carry exactly the expected
//! credential, for every custom type (api-key in a header, a query
//! parameter, a cookie and without `location`; bearer; basic; the custom
//! oauth2 type with its token type) and an OAuth2 provider config. An
//! empty secret is refused by every path, with the same message, and
//! nothing is sent.

use crate::support::echo::{self, Echo};
use crate::support::*;
use base64::Engine;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};

const KEY: &str = "key-Model-Ab12Cd34";
const TOKEN: &str = "tok-Model-Ef56Gh78";
const USER: &str = "modeluser";
const PASS: &str = "pw-Model-Ij90Kl12";
const AT: &str = "at-Model-Mn34Op56";
const PAT: &str = "pat-Model-Qr78St90";

/// A token endpoint answering every request with `PAT`, token type DPoP.
fn token_endpoint() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let answer =
                json!({"access_token": PAT, "token_type": "DPoP", "expires_in": 3600}).to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    port
}

/// The requests origin A logged since `from`, once there are `n` (nginx
/// writes its log line after the answer: wait for it, bounded).
fn logged_since(e: &Echo, from: usize, n: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got: Vec<String> = e
            .a_log()
            .lines()
            .filter_map(|l| l.strip_prefix("REQ "))
            .skip(from)
            .map(String::from)
            .collect();
        if got.len() >= n || std::time::Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn count(e: &Echo) -> usize {
    e.a_requests()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// One `tools/call http_request` over a raw stdio MCP connection.
fn mcp_http(t: &T, config: &str, url: &str) -> Value {
    let mut child = t
        .std_cmd()
        .args(["mcp", "--expose", config])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for m in [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "model", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "http_request", "arguments": {"config": config, "url": url}}}),
    ] {
        writeln!(stdin, "{m}").unwrap();
    }
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let answer = loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "MCP stdout ended");
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["id"] == 2 {
            break v;
        }
    };
    drop(stdin);
    let _ = child.wait();
    answer["result"].clone()
}

/// git with the test's environment (its HOME holds the helper `git setup`
/// wrote), never prompting.
fn git(t: &T, args: &[&str]) -> Output {
    let mut c = Command::new("git");
    t.apply(&mut c);
    c.current_dir(&t.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn basic(user: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    )
}

/// What a config must put on a request, whatever the path.
struct Case {
    name: &'static str,
    path: &'static str,
    /// The credential part of origin A's log line for a GET of `path`.
    expected: String,
    /// How a script uses `authcfg token` for this shape: (header, value
    /// prefix) or a query parameter; None: `token` refuses (exit 2).
    token: Option<TokenUse>,
    /// `header` refuses (exit 2) with this text.
    header_refused: Option<&'static str>,
    /// git's user name and the secret git sends as its password; None:
    /// `git setup` refuses (exit 2).
    git: Option<(&'static str, &'static str)>,
}

enum TokenUse {
    Header(&'static str, &'static str),
    Query(&'static str),
}

/// Origin A's log line (nginx logs an absent header as `-`).
fn line(uri: &str, key: &str, auth: &str, cookie: &str) -> String {
    let or_dash = |v: &str| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.to_string()
        }
    };
    format!(
        "GET {uri} key=[{}] auth=[{}] cookie=[{}]",
        or_dash(key),
        or_dash(auth),
        or_dash(cookie)
    )
}

#[test]
fn every_path_sends_the_same_credential() {
    let t = T::new();
    t.init();
    let e = echo::start(KEY, TOKEN, USER, PASS);
    let a = e.a.clone();
    let echo_url = format!("test_url={a}/echo");
    t.add(
        "api-key",
        "key-header",
        &[&echo_url, "key_name=X-API-Key", "location=header"],
        Some(("api_key", KEY)),
    )
    .success();
    t.add(
        "api-key",
        "key-absent",
        &[&echo_url, "key_name=X-API-Key", "location=header"],
        Some(("api_key", KEY)),
    )
    .success();
    t.cmd()
        .args(["edit", "key-absent", "--unset", "location"])
        .assert()
        .success();
    t.add(
        "api-key",
        "key-query",
        &[&echo_url, "key_name=api_key", "location=query"],
        Some(("api_key", KEY)),
    )
    .success();
    t.add(
        "api-key",
        "key-cookie",
        &[&echo_url, "key_name=session", "location=cookie"],
        Some(("api_key", KEY)),
    )
    .success();
    t.add("bearer", "bearer", &[&echo_url], Some(("token", TOKEN)))
        .success();
    t.add(
        "basic",
        "basic",
        &[&echo_url, &format!("username={USER}")],
        Some(("password", PASS)),
    )
    .success();
    let oauth_custom = |name: &str| {
        t.add(
            "oauth2",
            name,
            &[
                &echo_url,
                "authorization_url=https://idp.example.com/authorize",
                "token_url=https://idp.example.com/token",
                "client_id=model-client",
                "token_type=DPoP",
            ],
            Some(("client_secret", "cs-Model-Uv12")),
        )
        .success();
    };
    oauth_custom("oauth-custom");
    t.cmd()
        .args(["edit", "oauth-custom", "--secret-stdin", "access_token"])
        .write_stdin(AT)
        .assert()
        .success();
    // An OAuth2 provider config (client credentials from a local token
    // endpoint that says token type DPoP); `test` calls its userinfo URL.
    let port = token_endpoint();
    t.cmd()
        .args(["add", "oauth2", "custom", "--name", "provider"])
        .args(["--client-id", "model-robot", "--client-secret-stdin"])
        .arg("--client-credentials")
        .args(["--set", &format!("token_url=http://127.0.0.1:{port}/token")])
        .args(["--set", &format!("userinfo_url={a}/json")])
        .args(["--set", &format!("allowed_origins={a}")])
        .write_stdin("cs-Model-Wx34")
        .assert()
        .success();

    let cases = [
        Case {
            name: "key-header",
            path: "/echo",
            expected: line("/echo", KEY, "", ""),
            token: Some(TokenUse::Header("X-API-Key", "")),
            header_refused: None,
            git: None,
        },
        // No location: a header, as the form's default (was refused by
        // `header` and sent as a header by `http`).
        Case {
            name: "key-absent",
            path: "/echo",
            expected: line("/echo", KEY, "", ""),
            token: Some(TokenUse::Header("X-API-Key", "")),
            header_refused: None,
            git: None,
        },
        Case {
            name: "key-query",
            path: "/echo",
            expected: line(&format!("/echo?api_key={KEY}"), "", "", ""),
            token: Some(TokenUse::Query("api_key")),
            header_refused: Some("query parameter 'api_key'"),
            git: None,
        },
        Case {
            name: "key-cookie",
            path: "/echo",
            expected: line("/echo", "", "", &format!("session={KEY}")),
            token: Some(TokenUse::Header("Cookie", "session=")),
            header_refused: None,
            git: None,
        },
        Case {
            name: "bearer",
            path: "/echo",
            expected: line("/echo", "", &format!("Bearer {TOKEN}"), ""),
            token: Some(TokenUse::Header("Authorization", "Bearer ")),
            header_refused: None,
            git: Some(("x-access-token", TOKEN)),
        },
        Case {
            name: "basic",
            path: "/echo",
            expected: line("/echo", "", &basic(USER, PASS), ""),
            token: None,
            header_refused: None,
            git: Some((USER, PASS)),
        },
        // The custom oauth2 type honours token_type as providers do (was
        // always Bearer in `header` and `test`).
        Case {
            name: "oauth-custom",
            path: "/echo",
            expected: line("/echo", "", &format!("DPoP {AT}"), ""),
            token: Some(TokenUse::Header("Authorization", "DPoP ")),
            header_refused: None,
            git: Some(("x-access-token", AT)),
        },
        // The token type as the provider's token response gave it (the
        // oauth2 crate lowercases it).
        Case {
            name: "provider",
            path: "/json",
            expected: line("/json", "", &format!("dpop {PAT}"), ""),
            token: Some(TokenUse::Header("Authorization", "dpop ")),
            header_refused: None,
            git: Some(("oauth2", PAT)),
        },
    ];

    let client = reqwest::blocking::Client::new();
    for c in &cases {
        let url = format!("{a}{}", c.path);
        let mut seen: Vec<(&str, String)> = vec![];
        let mut one = |what: &'static str, send: &mut dyn FnMut()| {
            let before = count(&e);
            send();
            let got = logged_since(&e, before, 1);
            assert_eq!(got.len(), 1, "{}: {what} sent {got:?}", c.name);
            seen.push((what, got[0].clone()));
        };
        // authcfg http
        one("http", &mut || {
            let o = t.cmd().args(["http", c.name, &url]).output().unwrap();
            assert!(o.status.success(), "{}: http: {}", c.name, text(&o));
        });
        // authcfg test (the HTTP probe; OAuth2 providers: userinfo)
        one("test", &mut || {
            t.cmd().args(["test", c.name]).output().unwrap();
        });
        // MCP http_request
        one("mcp", &mut || {
            let r = mcp_http(&t, c.name, &url);
            assert_ne!(r["isError"], true, "{}: mcp: {r}", c.name);
        });
        // authcfg header, sent as curl -H would
        match c.header_refused {
            None => one("header", &mut || {
                let h = t.stdout(&["header", c.name]);
                let (k, v) = h.trim_end_matches('\n').split_once(": ").unwrap();
                client.get(&url).header(k, v).send().unwrap();
            }),
            Some(says) => {
                let before = count(&e);
                let o = t.cmd().args(["header", c.name]).output().unwrap();
                assert_eq!(o.status.code(), Some(2), "{}: header", c.name);
                assert!(text(&o).contains(says), "{}: {}", c.name, text(&o));
                assert_eq!(count(&e), before);
            }
        }
        // authcfg token, used as documented for the shape
        match &c.token {
            Some(TokenUse::Header(h, prefix)) => one("token", &mut || {
                let tok = t.stdout(&["token", c.name]);
                client
                    .get(&url)
                    .header(*h, format!("{prefix}{}", tok.trim_end_matches('\n')))
                    .send()
                    .unwrap();
            }),
            Some(TokenUse::Query(p)) => one("token", &mut || {
                let tok = t.stdout(&["token", c.name]);
                client
                    .get(&url)
                    .query(&[(*p, tok.trim_end_matches('\n'))])
                    .send()
                    .unwrap();
            }),
            None => {
                let o = t.cmd().args(["token", c.name]).output().unwrap();
                assert_eq!(o.status.code(), Some(2), "{}: token", c.name);
                assert!(text(&o).contains("has no token"), "{}", text(&o));
            }
        }
        for (what, got) in &seen {
            assert_eq!(got, &c.expected, "{}: {what}", c.name);
        }
        // git: the helper answers a git that asks (401), and git sends
        // Basic with the same secret as its password.
        let setup = t.cmd().args(["git", "setup", c.name, &a]).output().unwrap();
        match c.git {
            None => {
                assert_eq!(setup.status.code(), Some(2), "{}: git setup", c.name);
                assert!(text(&setup).contains("only OAuth2, bearer and basic"));
            }
            Some((user, secret)) => {
                assert!(setup.status.success(), "{}: {}", c.name, text(&setup));
                let before = count(&e);
                git(&t, &["ls-remote", &format!("{a}/git/r.git")]);
                let got = logged_since(&e, before, 2);
                assert_eq!(got.len(), 2, "{}: git sent {got:?}", c.name);
                let want = line("/git/r.git/info/refs?service=git-upload-pack", "", "", "");
                assert_eq!(got[0], want, "{}: git's first request", c.name);
                assert_eq!(
                    got[1],
                    line(
                        "/git/r.git/info/refs?service=git-upload-pack",
                        "",
                        &basic(user, secret),
                        ""
                    ),
                    "{}: git",
                    c.name
                );
            }
        }
    }
}

#[test]
fn an_empty_secret_is_refused_by_every_path() {
    let t = T::new();
    t.init();
    let e = echo::start(KEY, TOKEN, USER, PASS);
    let a = e.a.clone();
    // A custom oauth2 config whose access token was never set.
    t.add(
        "oauth2",
        "empty",
        &[
            &format!("test_url={a}/echo"),
            "authorization_url=https://idp.example.com/authorize",
            "token_url=https://idp.example.com/token",
            "client_id=model-client",
        ],
        Some(("client_secret", "cs-Model-Yz56")),
    )
    .success();
    const SAYS: &str = "'empty' has no access_token yet";
    let url = format!("{a}/echo");
    for args in [
        vec!["http", "empty", url.as_str()],
        vec!["header", "empty"],
        vec!["token", "empty"],
        vec!["git", "setup", "empty", a.as_str()],
    ] {
        let o = t.cmd().args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(SAYS), "{args:?}: {}", text(&o));
        assert!(
            text(&o).contains("authcfg edit empty --secret-stdin access_token"),
            "{args:?}: {}",
            text(&o)
        );
    }
    // `test` reports a failed test (exit 4) with the same words.
    let o = t.cmd().args(["test", "empty"]).output().unwrap();
    assert_eq!(o.status.code(), Some(4), "test: {}", text(&o));
    assert!(text(&o).contains(SAYS), "test: {}", text(&o));
    // MCP: an error result with the same words.
    let r = mcp_http(&t, "empty", &url);
    assert_eq!(r["isError"], true, "{r}");
    assert!(r.to_string().contains(SAYS), "{r}");
    // git's helper answers nothing and says why.
    let host = a.trim_start_matches("http://");
    let mut c = t.std_cmd();
    c.args(["git-credential", "--config", "empty", "--url", &a, "get"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("protocol=http\nhost={host}\n\n").as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.stdout.is_empty(), "{}", text(&o));
    assert!(text(&o).contains(SAYS), "git-credential: {}", text(&o));
    // Nothing reached the server: the only request it logged is a fence
    // sent now (nginx logs in order, so anything earlier is before it).
    reqwest::blocking::get(format!("{a}/missing")).unwrap();
    let got = logged_since(&e, 0, 1);
    assert_eq!(got, [line("/missing", "", "", "")], "{}", e.a_log());
}

#[test]
fn an_unreachable_userinfo_endpoint_is_classified_by_the_error_type() {
    let t = T::new();
    t.init();
    let port = token_endpoint();
    let closed = crate::support::services::closed_port();
    t.cmd()
        .args(["add", "oauth2", "custom", "--name", "provider"])
        .args(["--client-id", "model-robot", "--client-secret-stdin"])
        .arg("--client-credentials")
        .args(["--set", &format!("token_url=http://127.0.0.1:{port}/token")])
        .args([
            "--set",
            &format!("userinfo_url=http://127.0.0.1:{closed}/me"),
        ])
        .write_stdin("cs-Model-Wx34")
        .assert()
        .success();
    let o = t
        .cmd()
        .args(["test", "provider", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows[0]["result"], "connection refused", "{rows}");
}

/// Red team 2, #25 and #26: a secret of only blanks is as empty as none,
/// and a key may not go in a header that routes or frames the request
/// (Host, Cookie, Content-Length, a pseudo-header): both refused when the
/// credential is built, so by every path; nothing is printed or sent.
#[test]
fn a_blank_secret_and_a_reserved_key_header_are_refused() {
    let t = T::new();
    t.init();
    t.add("bearer", "bt", &[], Some(("token", TOKEN))).success();
    t.cmd()
        .args(["edit", "bt", "--set", "token= "])
        .assert()
        .success();
    let out = t.cmd().args(["header", "bt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has no token"),
        "{out:?}"
    );
    t.add(
        "api-key",
        "akh",
        &["key_name=X-Key", "location=header"],
        Some(("api_key", KEY)),
    )
    .success();
    assert!(t.stdout(&["header", "akh"]).contains(KEY));
    for name in [
        "Host",
        "cookie",
        "Content-Length",
        "Transfer-Encoding",
        ":authority",
    ] {
        let set = t
            .cmd()
            .args(["edit", "akh", "--set"])
            .arg(format!("key_name={name}"))
            .output()
            .unwrap();
        if !set.status.success() {
            continue; // refused even earlier
        }
        let out = t.cmd().args(["header", "akh"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: {out:?}");
        assert_clean(name, &out.stdout, &[KEY]);
        assert_clean(name, &out.stderr, &[KEY]);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("routes or frames"),
            "{name}: {out:?}"
        );
    }
}
