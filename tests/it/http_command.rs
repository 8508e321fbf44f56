//! `authcfg http NAME URL`: the credential attached by authcfg for each
//! auth type, never printed (the echo server hands it back, the output
//! shows `[REDACTED:...]`), `--fail`, `--include`, `--json`, bodies; a URL
//! outside the config's allowed origins, caller headers that carry a
//! credential and redirects to another origin are refused before the
//! credential goes anywhere (nginx's logs show no request).

use crate::support::echo::{self, Echo};
use crate::support::services::S3;
use crate::support::*;
use std::process::Output;

const KEY: &str = "key-Http-Ab12Cd34";
const TOKEN: &str = "tok-Http-Ef56Gh78";
const USER: &str = "httpuser";
const PASS: &str = "pw-Http-Ij90Kl12";

fn setup() -> (T, Echo) {
    let t = T::new();
    t.init();
    let e = echo::start(KEY, TOKEN, USER, PASS);
    echo::add_configs(&t, &e, KEY, TOKEN, USER, PASS);
    (t, e)
}

fn http(t: &T, args: &[&str]) -> Output {
    t.cmd().arg("http").args(args).output().unwrap()
}

fn all_clean(t: &T, outs: &[&Output]) {
    let secrets = [KEY, TOKEN, PASS];
    for o in outs {
        assert_clean("http stdout", &o.stdout, &secrets);
        assert_clean("http stderr", &o.stderr, &secrets);
    }
    let trail = std::fs::read(t.store.join("audit.jsonl")).unwrap();
    assert_clean("audit trail", &trail, &secrets);
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn each_auth_type_is_attached_and_the_echo_comes_back_redacted() {
    let (t, e) = setup();
    let mut outs = vec![];
    for (name, path, field) in [
        ("key", "/key", "api_key"),
        ("query", "/query", "api_key"),
        ("cookie", "/cookie", "api_key"),
        ("bearer", "/bearer", "token"),
        ("basic", "/basic", "password"),
    ] {
        let o = http(&t, &[name, &format!("{}{path}", e.a), "--fail"]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let body = text(&o);
        assert!(body.starts_with("method=GET"), "{name}: {body}");
        assert!(
            body.contains(&format!("[REDACTED:{name}/{field}]")),
            "{name}: {body}"
        );
        outs.push(o);
    }
    // The server did get the real credential each time (its log has it).
    let log = e.a_log();
    assert!(log.contains(&format!("key=[{KEY}]")), "{log}");
    assert!(log.contains(&format!("auth=[Bearer {TOKEN}]")), "{log}");
    assert!(log.contains(&format!("cookie=[session={KEY}]")), "{log}");
    assert_eq!(e.a_requests(), 5, "{log}");
    // Every use is in the audit trail, once.
    let trail = std::fs::read_to_string(t.store.join("audit.jsonl")).unwrap();
    let uses = trail
        .lines()
        .filter(|l| l.contains("\"action\":\"http\"") && l.contains("\"outcome\":\"ok\""))
        .count();
    assert_eq!(uses, 5, "{trail}");
    let refs: Vec<&Output> = outs.iter().collect();
    all_clean(&t, &refs);
}

#[test]
fn include_json_fail_and_bodies() {
    let (t, e) = setup();
    // --include: status line and headers first.
    let o = http(&t, &["key", &format!("{}/key", e.a), "--include"]);
    assert!(o.status.success());
    let out = text(&o);
    assert!(out.starts_with("HTTP 200 OK\r\n"), "{out}");
    assert!(out.contains("content-type: text/plain\r\n"), "{out}");
    // --json: status, headers, body; a JSON body echoing the key.
    let o = http(&t, &["key", &format!("{}/json", e.a), "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], 200);
    assert_eq!(v["headers"]["content-type"], "application/json");
    let inner: serde_json::Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert_eq!(inner["key"], "[REDACTED:key/api_key]");
    // --fail: a 404 exits 4 with the status; without it the body prints.
    let o = http(&t, &["key", &format!("{}/missing", e.a), "--fail"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stderr).contains("HTTP 404 Not Found"));
    assert!(o.stdout.is_empty());
    let o = http(&t, &["key", &format!("{}/missing", e.a)]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o), "nothing here\n");
    // A wrong key is the server's 401, not ours.
    let o = http(&t, &["bearer", &format!("{}/key", e.a), "--fail"]);
    assert_eq!(o.status.code(), Some(4));
    // A body cut at the limit never shows part of a secret.
    let o = http(&t, &["key", &format!("{}/key", e.a), "--max-body", "30"]);
    assert!(o.status.success());
    assert_eq!(text(&o), "method=GET uri=/key key=[", "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("was cut"));
    let o = http(
        &t,
        &["key", &format!("{}/key", e.a), "--max-body", "26", "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["truncated"], true);
    assert_eq!(v["body"], "method=GET uri=/key key=[");
    // Bodies: -d (POST by default), -d @FILE, --data-stdin, -X, -H.
    let f = t.dir.path().join("body.json");
    std::fs::write(&f, "{\"a\":1}").unwrap();
    let o = http(
        &t,
        &[
            "key",
            &format!("{}/key", e.a),
            "-d",
            &format!("@{}", f.display()),
            "-H",
            "Content-Type: application/json",
            "-H",
            "X-Custom: yes",
        ],
    );
    let out = text(&o);
    assert!(out.contains("method=POST"), "{out}");
    assert!(out.contains("ctype=[application/json] len=[7]"), "{out}");
    assert!(out.contains("custom=[yes]"), "{out}");
    let o = t
        .cmd()
        .args([
            "http",
            "key",
            &format!("{}/key", e.a),
            "-X",
            "PUT",
            "--data-stdin",
        ])
        .write_stdin("abc")
        .output()
        .unwrap();
    let out = text(&o);
    assert!(
        out.contains("method=PUT") && out.contains("len=[3]"),
        "{out}"
    );
    all_clean(&t, &[&o]);
}

#[test]
fn refused_before_anything_is_sent() {
    let (t, e) = setup();
    let before = e.a_requests();
    let refused = |args: &[&str], code: i32, says: &str| {
        let o = http(&t, args);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        all_clean(&t, &[&o]);
    };
    // Another origin (B), another port, another scheme: not allowed.
    refused(
        &["key", &format!("{}/landing", e.b)],
        1,
        "is not an allowed origin of 'key'",
    );
    refused(
        &["key", "https://127.0.0.1:1/key"],
        1,
        "is not an allowed origin",
    );
    // Plain http off this machine: the network policy, whatever the list.
    t.cmd()
        .args([
            "edit",
            "key",
            "--set",
            &format!("allowed_origins={} http://api.example.invalid", e.a),
        ])
        .assert()
        .success();
    refused(
        &["key", "http://api.example.invalid/v1"],
        1,
        "travels in the clear",
    );
    // Caller headers that carry or replace a credential.
    for h in [
        "Authorization: Bearer mine",
        "authorization: x",
        "X-API-Key: other",
        "Cookie: a=b",
        "Host: evil.example",
        "Proxy-Authorization: Basic eA==",
    ] {
        refused(
            &["key", &format!("{}/key", e.a), "-H", h],
            2,
            "may not be set by the caller",
        );
    }
    refused(
        &[
            "bearer",
            &format!("{}/bearer", e.a),
            "-H",
            "AUTHORIZATION: x",
        ],
        2,
        "may not be set by the caller",
    );
    refused(
        &["query", &format!("{}/query?api_key=mine", e.a)],
        2,
        "already has the query parameter api_key",
    );
    refused(
        &["key", &format!("http://u:p@{}/key", &e.a[7..])],
        2,
        "user name or password",
    );
    // Nothing reached either origin.
    assert_eq!(e.a_requests(), before, "{}", e.a_log());
    let b = e.b_log();
    assert!(!b.contains("REQ"), "origin B got a request:\n{b}");
    // The refusals are in the audit trail, with the origin only.
    let trail = std::fs::read_to_string(t.store.join("audit.jsonl")).unwrap();
    assert!(
        trail.contains(&format!(
            "\"outcome\":\"refused\",\"detail\":\"GET {}\"",
            e.b
        )),
        "{trail}"
    );
    // With B allowed, the same request goes through (so B's log would have
    // shown the one above).
    t.cmd()
        .args([
            "edit",
            "key",
            "--set",
            &format!("allowed_origins={},{}", e.a, e.b),
        ])
        .assert()
        .success();
    let o = http(&t, &["key", &format!("{}/landing", e.b), "--fail"]);
    assert!(o.status.success(), "{o:?}");
    assert!(e.b_log().contains(&format!("key=[{KEY}]")));
}

#[test]
fn redirects_stay_within_the_origin() {
    let (t, e) = setup();
    // Within the origin: followed, with the credential.
    let o = http(&t, &["key", &format!("{}/same", e.a), "--fail"]);
    assert!(o.status.success(), "{o:?}");
    assert!(text(&o).contains("uri=/echo"));
    // To origin B: not followed.
    let o = http(&t, &["key", &format!("{}/away", e.a)]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("redirected to another origin"), "{err}");
    assert!(err.contains(&e.b), "{err}");
    let b = e.b_log();
    assert!(!b.contains("REQ"), "origin B got a request:\n{b}");
    all_clean(&t, &[&o]);
}

#[test]
fn s3_requests_are_signed_with_sigv4() {
    let t = T::new();
    t.init();
    let s3 = S3::start();
    t.cmd()
        .args(["add", "connector", "s3", "--name", "bucket"])
        .args(["--set", &format!("access_key_id={}", s3.access_key_id)])
        .args(["--set", &format!("bucket={}", s3.bucket)])
        .args(["--set", &format!("endpoint={}", s3.endpoint)])
        .args([
            "--set",
            "path_style=true",
            "--secret-stdin",
            "secret_access_key",
        ])
        .write_stdin(s3.secret_access_key.clone())
        .assert()
        .success();
    let object = format!("{}/{}/hello.txt", s3.endpoint, s3.bucket);
    let o = http(
        &t,
        &["bucket", &object, "-X", "PUT", "-d", "hello s3", "--fail"],
    );
    assert!(o.status.success(), "{o:?}");
    let o = http(&t, &["bucket", &object, "--fail"]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(text(&o), "hello s3");
    let o = http(
        &t,
        &[
            "bucket",
            &format!("{}/{}?list-type=2", s3.endpoint, s3.bucket),
            "--fail",
        ],
    );
    assert!(text(&o).contains("<Key>hello.txt</Key>"), "{o:?}");
    // SigV4's own headers are authcfg's to set.
    let o = http(
        &t,
        &["bucket", &object, "-H", "X-Amz-Date: 20200101T000000Z"],
    );
    assert_eq!(o.status.code(), Some(2));
    // Other x-amz-* headers are signed with the request.
    let meta = format!("{}/{}/meta.txt", s3.endpoint, s3.bucket);
    let o = http(
        &t,
        &[
            "bucket",
            &meta,
            "-X",
            "PUT",
            "-d",
            "m",
            "-H",
            "x-amz-meta-owner: tests",
            "--fail",
        ],
    );
    assert!(o.status.success(), "{o:?}");
    let o = http(&t, &["bucket", &meta, "-X", "HEAD", "--include", "--fail"]);
    assert!(text(&o).contains("x-amz-meta-owner: tests"), "{o:?}");
    assert_clean("s3 output", &o.stdout, &[&s3.secret_access_key]);
    assert_clean("s3 errors", &o.stderr, &[&s3.secret_access_key]);
}

#[test]
fn https_is_verified_and_cross_origin_redirects_are_not_followed() {
    use crate::support::pki::{s, Pki};
    use crate::support::tls_services::nginx_origins;
    let t = T::new();
    t.init();
    let pki = Pki::new("http-cmd");
    let web = nginx_origins(&pki.server("web", &["127.0.0.1"]), &pki.ca, KEY);
    let ca = format!("tls_ca={}", s(&pki.ca));
    t.add(
        "api-key",
        "tls",
        &[
            &format!("test_url={}/header", web.a),
            "key_name=X-API-Key",
            &ca,
        ],
        Some(("api_key", KEY)),
    )
    .success();
    let o = http(&t, &["tls", &format!("{}/header", web.a), "--fail"]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(text(&o), "ok");
    let o = http(&t, &["tls", &format!("{}/same", web.a), "--fail"]);
    assert!(o.status.success(), "{o:?}");
    let o = http(&t, &["tls", &format!("{}/away", web.a)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("redirected to another origin"));
    let b = std::fs::read_to_string(&web.b_log).unwrap_or_default();
    assert!(!b.contains("REQ"), "origin B got a request:\n{b}");
    // Without the CA the server is not trusted: nothing is sent.
    t.add(
        "api-key",
        "untrusted",
        &[&format!("test_url={}/header", web.a), "key_name=X-API-Key"],
        Some(("api_key", KEY)),
    )
    .success();
    let o = http(&t, &["untrusted", &format!("{}/header", web.a)]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not signed by a trusted CA"),
        "{o:?}"
    );
    all_clean(&t, &[&o]);
}
