//! Credentials go only where they belong: nginx with two https origins (the
//! run's CA): a same-origin redirect is followed, a redirect to the other
//! origin is not and that origin's access log shows no credential (nor any
//! request); https test URLs are verified and can present a client
//! certificate; URLs changed with `edit` to plain http on a host that is not
//! loopback are refused when used (test URL, OAuth userinfo and revocation).

use crate::support::pki::{s, Pki};
use crate::support::tls_services::nginx_origins;
use crate::support::*;
use predicates::str::contains;

fn add_key(t: &T, name: &str, url: &str, extra: &[String], key: &str) -> std::process::Output {
    let mut c = t.cmd();
    c.args([
        "add",
        "custom",
        "api-key",
        "--name",
        name,
        "--secret-stdin",
        "api_key",
    ])
    .args([
        "--set",
        &format!("test_url={url}"),
        "--set",
        "key_name=X-API-Key",
    ]);
    for x in extra {
        c.args(["--set", x]);
    }
    c.write_stdin(key.to_string()).output().unwrap()
}

fn test_json(t: &T, name: &str) -> (i32, serde_json::Value) {
    let out = t.cmd().args(["test", name, "--json"]).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code().unwrap(), rows[0].clone())
}

#[test]
fn redirects_to_another_origin_get_no_credential() {
    let t = T::new();
    t.init();
    let key = "key-Origin-A-7731";
    let pki = Pki::new("web");
    let web = nginx_origins(&pki.server("web", &["127.0.0.1"]), &pki.ca, key);
    let ca = format!("tls_ca={}", s(&pki.ca));
    let ca = std::slice::from_ref(&ca);
    for (name, path) in [("direct", "/header"), ("same", "/same"), ("away", "/away")] {
        let o = add_key(&t, name, &format!("{}{path}", web.a), ca, key);
        assert!(o.status.success());
    }
    // The right CA and the right origin: verified, passed.
    let (code, row) = test_json(&t, "direct");
    assert_eq!(code, 0, "{row}");
    assert_eq!(row["server_identity"], "verified");
    // A redirect within the origin is followed.
    let (code, row) = test_json(&t, "same");
    assert_eq!(code, 0, "{row}");
    // A redirect to origin B is not.
    let (code, row) = test_json(&t, "away");
    assert_eq!(code, 4, "{row}");
    assert_eq!(
        row["result"], "redirect to another origin not followed",
        "{row}"
    );
    assert!(row["detail"].as_str().unwrap().contains(&web.b), "{row}");
    // Origin B saw nothing: no request, so certainly no key. (Its log
    // records every request with X-API-Key, Authorization and Cookie.)
    let b_log = std::fs::read_to_string(&web.b_log).unwrap_or_default();
    assert!(!b_log.contains(key), "origin B got the key:\n{b_log}");
    assert!(!b_log.contains("REQ"), "origin B got a request:\n{b_log}");
    // The log does record credentials sent there (so the check above could
    // fail): a config aimed at B itself.
    let o = add_key(&t, "b", &format!("{}/landing", web.b), ca, key);
    assert!(o.status.success());
    assert_eq!(test_json(&t, "b").0, 0);
    let b_log = std::fs::read_to_string(&web.b_log).unwrap();
    assert!(b_log.contains(&format!("key=[{key}]")), "{b_log}");

    // Without the CA, the https URL is not trusted.
    let o = add_key(&t, "noca", &format!("{}/header", web.a), &[], key);
    assert!(o.status.success());
    let (code, row) = test_json(&t, "noca");
    assert_eq!(code, 4, "{row}");
    assert_eq!(row["result"], "TLS: certificate not trusted", "{row}");
}

#[test]
fn https_test_url_with_a_client_certificate() {
    let t = T::new();
    t.init();
    let key = "key-Mtls-4410";
    let pki = Pki::new("mtls");
    let web = nginx_origins(&pki.server("web", &["127.0.0.1"]), &pki.ca, key);
    let client = pki.client("client", "authcfg");
    let url = format!("{}/mtls", web.a);
    let ca = format!("tls_ca={}", s(&pki.ca));
    let o = add_key(&t, "nocert", &url, std::slice::from_ref(&ca), key);
    assert!(o.status.success());
    let (code, row) = test_json(&t, "nocert");
    assert_eq!(code, 4, "{row}");
    assert_eq!(row["result"], "permission denied", "{row}");
    let with_cert = [
        ca,
        format!("tls_cert={}", s(&client.cert)),
        format!("tls_key={}", s(&client.key)),
    ];
    let o = add_key(&t, "mtls", &url, &with_cert, key);
    assert!(o.status.success());
    let (code, row) = test_json(&t, "mtls");
    assert_eq!(code, 0, "{row}");
    assert_eq!(row["server_identity"], "verified");
}

#[test]
fn urls_edited_to_plain_http_are_refused_when_used() {
    let t = T::new();
    t.init();
    let key = "key-Edited-9902";
    let o = add_key(
        &t,
        "api",
        "https://127.0.0.1:1/x",
        &["location=query".into()],
        key,
    );
    assert!(o.status.success());
    // Pointed at plain http off this machine with `edit`.
    t.cmd()
        .args([
            "edit",
            "api",
            "--set",
            "test_url=http://api.example.invalid/v1/me",
        ])
        .assert()
        .success();
    let out = t.cmd().args(["test", "api", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rows[0]["result"], "URL may not receive credentials",
        "{rows}"
    );
    assert!(
        rows[0]["detail"].as_str().unwrap().starts_with("not sent"),
        "{rows}"
    );
    assert_clean("test output", &out.stdout, &[key]);
    assert_clean("test errors", &out.stderr, &[key]);
}

#[test]
fn oauth_userinfo_and_revocation_urls_are_checked_when_used() {
    let peer = Peer::start();
    let mut t = T::new();
    t.env("BROWSER", &Peer::browser());
    t.init();
    t.cmd()
        .args([
            "add",
            "oauth2",
            "custom",
            "--name",
            "tv",
            "--issuer",
            &peer.issuer,
        ])
        .args([
            "--client-id",
            "public-native",
            "--device",
            "--scopes",
            "openid email offline_access",
        ])
        .args(["--timeout", "15"])
        .assert()
        .success();
    t.cmd().args(["test", "tv"]).assert().success();
    let doc: serde_json::Value =
        serde_json::from_str(&t.stdout(&["show", "tv", "--json", "--reveal"])).unwrap();
    let token = doc["config"]["access_token"].as_str().unwrap().to_string();

    // `edit` takes the URL; `test` will not send the token there.
    t.cmd()
        .args([
            "edit",
            "tv",
            "--set",
            "userinfo_url=http://idp.example.invalid/userinfo",
        ])
        .assert()
        .success();
    let out = t.cmd().args(["test", "tv"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("URL may not receive credentials"),
        "{stdout}"
    );
    assert_clean("test output", &out.stdout, &[&token]);

    // Revocation at `remove`: refused before anything is sent, and the
    // config stays.
    t.cmd()
        .args([
            "edit",
            "tv",
            "--set",
            "revocation_url=http://idp.example.invalid/revoke",
        ])
        .assert()
        .success();
    t.cmd()
        .args(["remove", "tv", "--yes"])
        .assert()
        .failure()
        .stderr(contains("must use https"));
    t.cmd().args(["show", "tv"]).assert().success();
}
