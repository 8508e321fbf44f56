//! A token endpoint whose error text echoes the request it received (some
//! identity providers and proxies quote the form, and with it the client
//! secret and the tokens): none of it may reach the user's terminal, the
//! config's last test record or the plaintext audit trail (red team A49).

use crate::support::*;
use base64::Engine;
use predicates::prelude::*;
use predicates::str::contains;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

const CLIENT_SECRET: &str = "CS-planted/49+secret";
const ACCESS_TOKEN: &str = "AT-planted-49-access";
const REFRESH_TOKEN: &str = "RT-planted-49-refresh";

/// A token endpoint on 127.0.0.1: answers the first `ok_first` requests
/// with tokens, every later one with `invalid_grant` and an
/// `error_description` quoting the request: its body, its Authorization
/// header decoded, and the tokens it handed out. Serves a bounded number of
/// connections on a thread that ends with the test process.
fn echoing_token_endpoint(ok_first: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().take(50).enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut auth = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("authorization:") {
                    auth = line["authorization:".len()..].trim().to_string();
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let body = String::from_utf8_lossy(&body).to_string();
            let (status, answer) = if n < ok_first {
                (
                    "200 OK",
                    serde_json::json!({
                        "access_token": ACCESS_TOKEN,
                        "refresh_token": REFRESH_TOKEN,
                        "token_type": "Bearer",
                        "expires_in": 3600,
                    }),
                )
            } else {
                let decoded = auth
                    .strip_prefix("Basic ")
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .map(|b| String::from_utf8_lossy(&b).to_string())
                    .unwrap_or_default();
                let decoded_form: String = url::form_urlencoded::parse(body.as_bytes())
                    .map(|(k, v)| format!("{k}: {v}; "))
                    .collect();
                (
                    "400 Bad Request",
                    serde_json::json!({
                        "error": "invalid_grant",
                        "error_description": format!(
                            "rejected {body} ({decoded_form}) auth {auth} = {decoded}; tokens {ACCESS_TOKEN} {REFRESH_TOKEN}"
                        ),
                    }),
                )
            };
            let answer = answer.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    port
}

/// Every form the planted secrets can take in an echo.
fn planted() -> Vec<String> {
    let mut out = vec![];
    for s in [CLIENT_SECRET, ACCESS_TOKEN, REFRESH_TOKEN] {
        out.push(s.to_string());
        out.push(url::form_urlencoded::byte_serialize(s.as_bytes()).collect());
        out.push(base64::engine::general_purpose::STANDARD.encode(s));
    }
    // The distinctive middle of each, in case an echo cuts it.
    out.push("planted/49".into());
    out.push("planted%2F49".into());
    out.push("planted-49".into());
    out
}

#[test]
fn secrets_a_provider_echoes_are_redacted_everywhere() {
    let port = echoing_token_endpoint(1);
    let mut t = T::new();
    t.init();
    let mut seen = vec![];
    let mut run = |t: &T, args: &[&str], stdin: Option<&str>| -> std::process::Output {
        let mut c = t.cmd();
        c.args(args);
        if let Some(s) = stdin {
            c.write_stdin(s.to_string());
        }
        let o = c.output().unwrap();
        seen.extend_from_slice(&o.stdout);
        seen.extend_from_slice(&o.stderr);
        o
    };
    let o = run(
        &t,
        &[
            "add",
            "oauth2",
            "custom",
            "--name",
            "machine",
            "--client-id",
            "client-49",
            "--client-secret-stdin",
            "--client-credentials",
            "--set",
            &format!("token_url=http://127.0.0.1:{port}/token"),
        ],
        Some(CLIENT_SECRET),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // A forced refresh: the endpoint answers with the echo.
    let o = run(&t, &["refresh", "machine", "--force"], None);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("invalid_grant"), "{stderr}");
    assert!(
        stderr.contains("[REDACTED]"),
        "the echo is shown, redacted: {stderr}"
    );

    // The same with the secret in a Basic header, and on the hand-out path
    // (a token due for refresh), and through `test`.
    run(
        &t,
        &[
            "edit",
            "machine",
            "--set",
            "auth_method=client_secret_basic",
        ],
        None,
    );
    run(&t, &["refresh", "machine", "--force"], None);
    t.env("AUTHCFG_REFRESH_SKEW", "100000");
    let o = run(&t, &["token", "machine"], None);
    assert!(!o.status.success());
    run(&t, &["test", "machine"], None);
    t.extra_env.retain(|(k, _)| k != "AUTHCFG_REFRESH_SKEW");
    run(&t, &["show", "machine"], None);
    run(&t, &["log"], None);
    run(&t, &["log", "--json"], None);

    let secrets = planted();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_clean("command output", &seen, &secrets);
    let audit = std::fs::read(t.store.join("audit.jsonl")).unwrap();
    assert!(
        String::from_utf8_lossy(&audit).contains("invalid_grant"),
        "the failure is in the trail"
    );
    assert_clean("audit.jsonl", &audit, &secrets);
    for (p, bytes) in t.store_files() {
        assert_clean(&p.display().to_string(), &bytes, &secrets);
    }
}

/// The first authorization, in `add`, goes through the same redaction:
/// the config being added is not saved yet, and its secret is no more
/// echoed than a stored one's.
#[test]
fn an_echo_during_add_loses_its_secret_parameters() {
    let port = echoing_token_endpoint(0);
    let t = T::new();
    t.init();
    t.cmd()
        .args(["add", "oauth2", "custom", "--name", "machine"])
        .args(["--client-id", "client-49", "--client-secret-stdin"])
        .args(["--client-credentials", "--set"])
        .arg(format!("token_url=http://127.0.0.1:{port}/token"))
        .write_stdin(CLIENT_SECRET)
        .assert()
        .code(6)
        .stderr(contains("invalid_grant"))
        .stderr(contains("[REDACTED]"))
        .stderr(predicates::str::contains("planted/49").not())
        .stderr(predicates::str::contains("planted%2F49").not());
}

/// Runs `authcfg` commands and keeps everything they print.
struct Seen<'a> {
    t: &'a T,
    out: Vec<u8>,
}

impl Seen<'_> {
    fn run(&mut self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        let mut c = self.t.cmd();
        c.args(args);
        if let Some(s) = stdin {
            c.write_stdin(s.to_string());
        }
        let o = c.output().unwrap();
        self.out.extend_from_slice(&o.stdout);
        self.out.extend_from_slice(&o.stderr);
        o
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }
}

/// A NATS server on 127.0.0.1 that quotes the password of each CONNECT
/// in its `-ERR 'Authorization Violation for ...'` (red team #44).
fn nats_quoting_the_password() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(30) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.write_all(b"INFO {\"server_id\":\"x\",\"version\":\"2.10.0\",\"proto\":1,\"max_payload\":1048576,\"auth_required\":true,\"headers\":true}\r\n");
            let mut line = String::new();
            let _ = BufReader::new(stream.try_clone().unwrap()).read_line(&mut line);
            let pass = line
                .strip_prefix("CONNECT ")
                .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
                .and_then(|v| v["pass"].as_str().map(str::to_string))
                .unwrap_or_default();
            let _ = stream
                .write_all(format!("-ERR 'Authorization Violation for {pass}'\r\n").as_bytes());
        }
    });
    port
}

/// A PostgreSQL server on 127.0.0.1 that asks for the cleartext password
/// and answers `bad password <it>` (red team #44).
fn postgres_quoting_the_password() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(30) {
            let Ok(mut s) = stream else { continue };
            let _ = (|| -> std::io::Result<()> {
                let mut len = [0u8; 4];
                loop {
                    s.read_exact(&mut len)?;
                    let mut body = vec![0; u32::from_be_bytes(len) as usize - 4];
                    s.read_exact(&mut body)?;
                    let code = u32::from_be_bytes(body[..4].try_into().unwrap());
                    if code == 80877103 || code == 80877104 {
                        s.write_all(b"N")?;
                        continue;
                    }
                    break;
                }
                s.write_all(b"R\0\0\0\x08\0\0\0\x03")?;
                let mut tag = [0u8; 1];
                s.read_exact(&mut tag)?;
                s.read_exact(&mut len)?;
                let mut pw = vec![0; u32::from_be_bytes(len) as usize - 4];
                s.read_exact(&mut pw)?;
                while pw.last() == Some(&0) {
                    pw.pop();
                }
                let mut f = b"SFATAL\0VFATAL\0C28P01\0Mbad password ".to_vec();
                f.extend_from_slice(&pw);
                f.extend_from_slice(b"\0\0");
                s.write_all(b"E")?;
                s.write_all(&(f.len() as u32 + 4).to_be_bytes())?;
                s.write_all(&f)
            })();
        }
    });
    port
}

/// `add`, `test` (table and `--json`), `show` and `list` of a connector
/// whose server quotes the password back: the text is shown, the password
/// in it replaced, here and in the stored last result.
fn a_server_quoting(connector: &str, password: &str, sets: &[String]) {
    let t = T::new();
    t.init();
    let mut seen = Seen { t: &t, out: vec![] };
    let mut add = vec!["add", "connector", connector, "--name", "echo/cfg"];
    for s in sets {
        add.extend(["--set", s]);
    }
    add.extend(["--secret-stdin", "password"]);
    let o = seen.run(&add, Some(password));
    assert!(!o.status.success(), "the test at add fails");
    add.push("--no-test");
    let o = seen.run(&add, Some(password));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = seen.run(&["test", "echo/cfg"], None);
    assert_eq!(o.status.code(), Some(4), "{}", seen.text());
    seen.run(&["test", "echo/cfg", "--json"], None);
    let o = seen.run(&["show", "echo/cfg"], None);
    let shown = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        shown.contains("Tested:") && shown.contains("[REDACTED:echo/cfg/password]"),
        "the server's words are shown, redacted: {shown}"
    );
    seen.run(&["show", "echo/cfg", "--json"], None);
    seen.run(&["list"], None);
    seen.run(&["list", "--json"], None);
    assert!(
        seen.text().matches("[REDACTED:echo/cfg/password]").count() >= 4,
        "{}",
        seen.text()
    );
    assert_clean("command output", &seen.out, &[password]);
}

#[test]
fn a_nats_server_quoting_the_password_is_redacted_in_add_test_show() {
    let port = nats_quoting_the_password();
    a_server_quoting(
        "nats",
        "NatsPw_99ppLL",
        &[
            format!("servers=nats://127.0.0.1:{port}"),
            "username=bob".into(),
        ],
    );
}

#[test]
fn a_postgres_server_quoting_the_password_is_redacted_in_add_test_show() {
    let port = postgres_quoting_the_password();
    a_server_quoting(
        "postgres",
        "pgSecretPw_4455aa",
        &[
            "host=127.0.0.1".into(),
            format!("port={port}"),
            "username=bob".into(),
            "database=postgres".into(),
            "sslmode=disable".into(),
            "require_auth=password".into(),
        ],
    );
}

/// A provider whose userinfo names the account by the access token it was
/// sent (red team #74): `add`, `reauth`, `test`, `show` and `list` show
/// the account with the token replaced.
#[test]
fn a_provider_naming_the_account_by_the_token_is_redacted() {
    let peer = Peer::start_with(&[("PEER_ECHO_TOKEN", "1")]);
    let mut t = T::new();
    t.env("BROWSER", &Peer::browser());
    t.init();
    let mut seen = Seen { t: &t, out: vec![] };
    let o = seen.run(
        &[
            "add",
            "oauth2",
            "custom",
            "--name",
            "idp/echo",
            "--issuer",
            &peer.issuer,
            "--client-id",
            "public-native",
            "--scopes",
            "openid email offline_access",
            "--timeout",
            "30",
        ],
        None,
    );
    assert!(o.status.success(), "{}", seen.text());
    let token = |t: &T| -> String {
        let o = t
            .cmd()
            .args(["show", "idp/echo", "--reveal", "--json"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["config"]["access_token"].as_str().unwrap().to_string()
    };
    let first = token(&t);
    seen.run(&["test", "idp/echo"], None);
    let o = seen.run(&["reauth", "idp/echo", "--timeout", "30"], None);
    assert!(o.status.success(), "{}", seen.text());
    let second = token(&t);
    assert!(first.len() > 10 && second.len() > 10 && first != second);
    seen.run(&["test", "idp/echo", "--json"], None);
    seen.run(&["show", "idp/echo"], None);
    seen.run(&["show", "idp/echo", "--json"], None);
    seen.run(&["list"], None);
    seen.run(&["list", "--json"], None);
    let text = seen.text();
    assert!(
        text.contains("as [REDACTED:idp/echo/access_token]")
            && text.contains("token accepted for [REDACTED:idp/echo/access_token]"),
        "{text}"
    );
    assert_clean("command output", &seen.out, &[&first, &second]);
}
