//! OAuth2 flows end to end: the real binary against a real OpenID server
//! (oidc-provider) on 127.0.0.1, with a scripted user at the "browser".

use crate::support::*;
use predicates::str::contains;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

fn oauth_env(peer: &Peer) -> T {
    let _ = peer;
    let mut t = T::new();
    t.env("BROWSER", &Peer::browser());
    t.init();
    t
}

fn revealed(t: &T, name: &str) -> serde_json::Value {
    serde_json::from_str(&t.stdout(&["show", name, "--json", "--reveal"])).unwrap()
}

#[test]
fn loopback_public_client_with_pkce_via_discovery() {
    let peer = Peer::start();
    let t = oauth_env(&peer);
    t.cmd()
        .args([
            "add",
            "oauth2",
            "custom",
            "--name",
            "idp/alice",
            "--issuer",
            &peer.issuer,
        ])
        .args([
            "--client-id",
            "public-native",
            "--scopes",
            "openid email offline_access",
            "--timeout",
            "30",
        ])
        .assert()
        .success()
        .stderr(contains("Authorized 'idp/alice' as alice@example.test"));
    let doc = revealed(&t, "idp/alice");
    let at = doc["config"]["access_token"].as_str().unwrap();
    assert_eq!(
        peer.introspect(at)["active"],
        true,
        "the stored token is valid at the server"
    );
    assert_eq!(doc["config"]["auth_method"], "none");
    assert_eq!(doc["config"]["grant"], "authorization_code");
    assert!(doc["config"]["refresh_token"].as_str().unwrap().len() > 10);
    let list: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    assert_eq!(list[0]["account"], "alice@example.test");
    assert_eq!(list[0]["kind"], "oauth2");
    // token / header / export hand out the access token.
    assert_eq!(t.stdout(&["token", "idp/alice"]).trim(), at);
    assert_eq!(
        t.stdout(&["header", "idp/alice"]).trim(),
        format!("Authorization: Bearer {at}")
    );
    let env = t.stdout(&["export", "idp/alice", "--format", "json"]);
    let env: serde_json::Value = serde_json::from_str(&env).unwrap();
    assert_eq!(env["IDP_ALICE_ACCESS_TOKEN"], at);
    assert!(
        env.get("IDP_ALICE_REFRESH_TOKEN").is_none(),
        "refresh tokens are not exported"
    );
    assert!(env.get("IDP_ALICE_CLIENT_SECRET").is_none());
    // test calls userinfo with the token.
    t.cmd()
        .args(["test", "idp/alice"])
        .assert()
        .success()
        .stdout(contains("alice@example.test"));
    assert_eq!(peer.grants("authorization_code"), 1);
}

#[test]
fn confidential_clients_basic_and_post() {
    let peer = Peer::start();
    let t = oauth_env(&peer);
    for (client, secret, method) in [
        (
            "conf-basic",
            "basic-secret-planted-7c1",
            "client_secret_basic",
        ),
        ("conf-post", "post-secret-planted-9d2", "client_secret_post"),
    ] {
        t.cmd()
            .args([
                "add",
                "oauth2",
                "custom",
                "--name",
                client,
                "--client-id",
                client,
                "--client-secret-stdin",
            ])
            .args(["--set", &format!("authorization_url={}/auth", peer.issuer)])
            .args(["--set", &format!("token_url={}/token", peer.issuer)])
            .args(["--set", &format!("userinfo_url={}/me", peer.issuer)])
            .args([
                "--set",
                &format!("auth_method={method}"),
                "--scopes",
                "openid email",
                "--timeout",
                "30",
            ])
            .env("PEER_LOGIN", "bob")
            .write_stdin(secret)
            .assert()
            .success();
        let doc = revealed(&t, client);
        assert_eq!(doc["config"]["auth_method"], method);
        assert_eq!(
            peer.introspect(doc["config"]["access_token"].as_str().unwrap())["active"],
            true
        );
        assert_eq!(doc["authcfg"]["account"], "bob@example.test");
    }
    // The wrong secret: the provider's invalid_client, exit 6, with the remedy.
    t.cmd()
        .args([
            "add",
            "oauth2",
            "custom",
            "--name",
            "bad",
            "--client-id",
            "conf-basic",
            "--client-secret-stdin",
        ])
        .args(["--issuer", &peer.issuer, "--timeout", "30"])
        .write_stdin("wrong-secret")
        .assert()
        .code(6)
        .stderr(contains("invalid_client"))
        .stderr(contains("Client ID and Client Secret"));
    t.cmd().args(["show", "bad"]).assert().code(3);
}

#[test]
fn device_flow_and_client_credentials() {
    let peer = Peer::start();
    let t = oauth_env(&peer);
    t.cmd()
        .args([
            "add",
            "oauth2",
            "custom",
            "--name",
            "tv",
            "--issuer",
            &peer.issuer,
            "--client-id",
            "public-native",
        ])
        .args([
            "--device",
            "--scopes",
            "openid email offline_access",
            "--timeout",
            "15",
        ])
        .assert()
        .success()
        .stderr(contains("enter the code"));
    let doc = revealed(&t, "tv");
    assert_eq!(doc["config"]["grant"], "device_code");
    assert_eq!(
        peer.introspect(doc["config"]["access_token"].as_str().unwrap())["active"],
        true
    );
    assert_eq!(
        peer.grants("urn:ietf:params:oauth:grant-type:device_code"),
        1
    );

    peer.add_robot(&t, "robot").success();
    let doc = revealed(&t, "robot");
    assert_eq!(doc["config"]["grant"], "client_credentials");
    assert_eq!(doc["authcfg"]["account"], "machine");
    t.cmd()
        .args(["test", "robot"])
        .assert()
        .success()
        .stdout(contains("token active"));
    // Machine tokens "refresh" by asking again.
    let before = peer.grants("client_credentials");
    t.cmd()
        .args(["refresh", "robot", "--force"])
        .assert()
        .success();
    assert_eq!(peer.grants("client_credentials"), before + 1);
}

#[test]
fn manual_paste_of_the_redirected_url() {
    let peer = Peer::start();
    let t = oauth_env(&peer);
    let mut child = t
        .std_cmd()
        .args([
            "add",
            "oauth2",
            "custom",
            "--name",
            "pasted",
            "--issuer",
            &peer.issuer,
            "--client-id",
            "public-native",
            "--manual",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let url = read_auth_url(&mut stderr, &peer.issuer).to_string();
    // The user opens it elsewhere and copies the address the browser lands on.
    let out = std::process::Command::new("node")
        .arg(format!("{PEER_DIR}/browser.mjs"))
        .arg(&url)
        .env("PEER_PRINT_REDIRECT", "1")
        .output()
        .unwrap();
    let redirected = String::from_utf8(out.stdout).unwrap();
    assert!(
        redirected.starts_with("http://127.0.0.1/callback?code="),
        "{redirected}"
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(redirected.as_bytes())
        .unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    let doc = revealed(&t, "pasted");
    assert_eq!(
        peer.introspect(doc["config"]["access_token"].as_str().unwrap())["active"],
        true
    );
}

#[test]
fn expired_token_refreshes_once_for_twenty_concurrent_processes() {
    let peer = Peer::start();
    let mut t = oauth_env(&peer);
    // A configured margin of 60 s (not the default quarter of the lifetime):
    // tokens issued now live one second, inside the window at once.
    t.env("AUTHCFG_REFRESH_SKEW", "60");
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
            "--client-id",
            "public-native",
        ])
        .args(["--scopes", "openid offline_access", "--timeout", "30"])
        .assert()
        .success();
    let before = revealed(&t, "svc");
    let old_rt = before["config"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let old_at = before["config"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    peer.set_access_ttl(3600);
    assert_eq!(peer.grants("refresh_token"), 0);

    let children: Vec<_> = (0..20)
        .map(|_| {
            t.std_cmd()
                .args(["token", "svc"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outputs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let tokens: std::collections::HashSet<String> = outputs
        .iter()
        .map(|o| {
            String::from_utf8(o.stdout.clone())
                .unwrap()
                .trim()
                .to_string()
        })
        .collect();
    assert_eq!(tokens.len(), 1, "all 20 print the same token");
    let new_at = tokens.into_iter().next().unwrap();
    assert_ne!(new_at, old_at);
    assert_eq!(
        peer.grants("refresh_token"),
        1,
        "exactly one refresh request reached the server"
    );
    assert_eq!(peer.introspect(&new_at)["active"], true);
    // The rotated refresh token was saved; the old one is spent.
    let after = revealed(&t, "svc");
    let new_rt = after["config"]["refresh_token"].as_str().unwrap();
    assert_ne!(new_rt, old_rt);
    assert_eq!(
        peer.try_refresh("public-native", &old_rt)["error"],
        "invalid_grant"
    );
    let log = t.stdout(&["log", "svc", "--json"]);
    let refreshes = serde_json::from_str::<serde_json::Value>(&log)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "refresh")
        .count();
    assert_eq!(refreshes, 1);
    t.cmd().args(["log", "--verify"]).assert().success();
}

#[test]
fn remove_revokes_and_reauth_replaces_tokens() {
    let peer = Peer::start();
    let t = oauth_env(&peer);
    t.cmd()
        .args([
            "add",
            "oauth2",
            "custom",
            "--name",
            "gone",
            "--issuer",
            &peer.issuer,
            "--client-id",
            "public-native",
        ])
        .args(["--scopes", "openid offline_access", "--timeout", "30"])
        .assert()
        .success();
    let first = revealed(&t, "gone");
    t.cmd()
        .args(["reauth", "gone", "--timeout", "30"])
        .assert()
        .success();
    let second = revealed(&t, "gone");
    assert_ne!(
        first["config"]["access_token"],
        second["config"]["access_token"]
    );
    assert_eq!(first["config"]["client_id"], second["config"]["client_id"]);
    let rt = second["config"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    t.cmd()
        .args(["remove", "gone", "--yes"])
        .assert()
        .success()
        .stderr(contains("Revoked"));
    assert_eq!(
        peer.try_refresh("public-native", &rt)["error"],
        "invalid_grant"
    );
    assert!(peer.stats()["revocations"].as_u64().unwrap() >= 1);
}

#[test]
fn access_denied_and_timeout_exit_6() {
    let peer = Peer::start();
    let t = oauth_env(&peer);
    t.cmd()
        .args([
            "add",
            "oauth2",
            "custom",
            "--name",
            "no",
            "--issuer",
            &peer.issuer,
            "--client-id",
            "public-native",
            "--timeout",
            "30",
        ])
        .env("PEER_ACTION", "deny")
        .assert()
        .code(6)
        .stderr(contains("access_denied"));
    t.cmd()
        .args([
            "add",
            "oauth2",
            "custom",
            "--name",
            "slow",
            "--issuer",
            &peer.issuer,
            "--client-id",
            "public-native",
        ])
        .args(["--no-browser", "--timeout", "1"])
        .assert()
        .code(6)
        .stderr(contains("timed out after 1 s"));
    let list: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    assert!(list.as_array().unwrap().is_empty(), "nothing saved");
}

/// Reads authcfg's stderr until the authorization URL; returns it.
fn read_auth_url(stderr: &mut impl BufRead, issuer: &str) -> url::Url {
    loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no URL printed");
        if line.trim().starts_with(issuer) {
            return url::Url::parse(line.trim()).unwrap();
        }
    }
}

#[test]
fn stray_callbacks_are_answered_and_ignored() {
    let peer = Peer::start();
    let t = oauth_env(&peer);
    let mut child = t
        .std_cmd()
        .args([
            "add",
            "oauth2",
            "custom",
            "--name",
            "robust",
            "--issuer",
            &peer.issuer,
            "--client-id",
            "public-native",
        ])
        .args(["--no-browser", "--timeout", "60"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let url = read_auth_url(&mut stderr, &peer.issuer);
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    let redirect = url::Url::parse(&q["redirect_uri"]).unwrap();
    assert_eq!(redirect.host_str(), Some("127.0.0.1"));
    let port = redirect.port().unwrap();
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["state"].len() >= 22, "state carries at least 128 bits");

    // Bound to 127.0.0.1 only (0100007F in /proc/net/tcp), not 0.0.0.0.
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let needle = format!(":{port:04X} ");
    let lines: Vec<&str> = tcp
        .lines()
        .filter(|l| l.contains(&needle) && l.contains(" 0A "))
        .collect();
    assert!(
        !lines.is_empty()
            && lines
                .iter()
                .all(|l| l.split_whitespace().nth(1).unwrap().starts_with("0100007F")),
        "{lines:?}"
    );

    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::blocking::Client::new();
    let state = &q["state"];
    let probes = [
        (format!("{base}/favicon.ico"), 404),
        (format!("{base}/callback?state=wrong&code=stolen"), 400),
        (format!("{base}/callback?state={state}"), 400),
        (format!("{base}/other?state={state}&code=x"), 404),
        (
            format!("{base}/callback?error=access_denied&state=forged"),
            400,
        ),
    ];
    for (u, status) in &probes {
        assert_eq!(
            http.get(u).send().unwrap().status().as_u16(),
            *status,
            "{u}"
        );
    }
    // A flood of 200 stray requests from 8 threads.
    std::thread::scope(|s| {
        for i in 0..8 {
            let http = &http;
            let base = &base;
            s.spawn(move || {
                for j in 0..25 {
                    let r = http.get(format!("{base}/stray/{i}/{j}")).send().unwrap();
                    assert_eq!(r.status().as_u16(), 404);
                }
            });
        }
    });
    // The real user finishes the flow.
    let ok = std::process::Command::new("node")
        .arg(format!("{PEER_DIR}/browser.mjs"))
        .arg(url.as_str())
        .status()
        .unwrap();
    assert!(ok.success());
    assert!(child.wait().unwrap().success());
    assert_eq!(peer.grants("authorization_code"), 1);
    // The listener is closed: the port refuses connections.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn google_authorization_url_is_built_without_network() {
    let t = T::new();
    t.init();
    let out = t
        .cmd()
        .args([
            "add",
            "oauth2",
            "google",
            "--no-browser",
            "--client-id",
            "1234-abc.apps.googleusercontent.com",
        ])
        .args(["--client-secret-stdin", "--timeout", "1"])
        .write_stdin("GOCSPX-planted-google-secret")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "times out waiting, exit 6");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("GOCSPX-planted-google-secret"));
    let line = stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("https://"))
        .expect("URL printed");
    let url = url::Url::parse(line).unwrap();
    assert_eq!(url.host_str(), Some("accounts.google.com"));
    assert_eq!(url.path(), "/o/oauth2/v2/auth");
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "1234-abc.apps.googleusercontent.com");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert!(
        q["redirect_uri"].starts_with("http://127.0.0.1:")
            && q["redirect_uri"].ends_with("/callback")
    );
    assert!(!q.contains_key("client_secret"));
    // `authcfg add oauth2 google` without a client id says where to get one.
    t.cmd()
        .args(["add", "oauth2", "google"])
        .assert()
        .code(2)
        .stderr(contains("--client-id"))
        .stderr(contains("console.cloud.google.com"));
    t.cmd()
        .args(["add", "oauth2", "gogle"])
        .assert()
        .code(2)
        .stderr(contains("did you mean 'google'"));
    t.cmd()
        .args(["providers"])
        .assert()
        .success()
        .stdout(contains("microsoft"));
    let providers: serde_json::Value =
        serde_json::from_str(&t.stdout(&["providers", "--json"])).unwrap();
    assert!(providers.as_array().unwrap().len() >= 20);
}

#[test]
fn tokens_and_secrets_never_leak() {
    let peer = Peer::start();
    let t = oauth_env(&peer);
    let mut all = vec![];
    let mut run = |args: &[&str], stdin: Option<&str>| {
        let mut c = t.cmd();
        c.args(args);
        if let Some(s) = stdin {
            c.write_stdin(s.to_string());
        }
        let o = c.output().unwrap();
        all.extend(o.stdout);
        all.extend(o.stderr);
    };
    run(
        &[
            "add",
            "oauth2",
            "custom",
            "--name",
            "c",
            "--issuer",
            &peer.issuer,
            "--client-id",
            "conf-basic",
            "--client-secret-stdin",
            "--timeout",
            "30",
        ],
        Some("basic-secret-planted-7c1"),
    );
    run(&["list"], None);
    run(&["show", "c"], None);
    run(&["show", "c", "--json"], None);
    run(&["test", "c"], None);
    run(&["refresh", "c", "--force"], None);
    run(&["log"], None);
    let doc = revealed(&t, "c");
    let at = doc["config"]["access_token"].as_str().unwrap().to_string();
    let rt = doc["config"]["refresh_token"].as_str().unwrap().to_string();
    let secrets = ["basic-secret-planted-7c1", at.as_str(), rt.as_str()];
    assert_clean("command output", &all, &secrets);
    assert_clean(
        "audit",
        &std::fs::read(t.store.join("audit.jsonl")).unwrap(),
        &secrets,
    );
    for (p, bytes) in t.store_files() {
        assert_clean(&p.display().to_string(), &bytes, &secrets);
    }
}
