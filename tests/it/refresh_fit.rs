//! Refresh that fits the token: a margin proportional to the token's
//! lifetime (the lesser of 60 s and a quarter of it), single-flight across
//! processes; and the refresh token's expiry forecast.

use crate::support::*;
use predicates::str::contains;
use std::collections::HashSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn oauth_env(peer: &Peer) -> T {
    let _ = peer;
    let mut t = T::new();
    t.env("BROWSER", &Peer::browser());
    t.init();
    t
}

/// 20 `token` calls at once; the tokens they printed.
fn twenty_at_once(t: &T) -> HashSet<String> {
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
    children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8(o.stdout).unwrap().trim().to_string()
        })
        .collect()
}

#[test]
fn three_second_tokens_are_refreshed_once_and_only_after_they_expire() {
    let peer = Peer::start();
    let t = oauth_env(&peer);
    peer.set_access_ttl(3);
    t.cmd()
        .args(["add", "oauth2", "custom", "--name", "svc"])
        .args(["--issuer", &peer.issuer, "--client-id", "public-native"])
        .args(["--scopes", "openid offline_access", "--timeout", "30"])
        .assert()
        .success();
    let issued = Instant::now();

    // Right after issue: the token is good for 3 s and refreshed only in
    // its last quarter, so nobody refreshes.
    let tokens = twenty_at_once(&t);
    let took = issued.elapsed();
    assert_eq!(tokens.len(), 1, "all 20 print the same token");
    assert_eq!(
        peer.grants("refresh_token"),
        0,
        "no refresh grant for a fresh 3-second token (the 20 calls took {took:?})"
    );
    let first = tokens.into_iter().next().unwrap();

    // Wait for the token to expire: real time must pass.
    while issued.elapsed() < Duration::from_millis(3300) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let tokens = twenty_at_once(&t);
    assert_eq!(tokens.len(), 1, "all 20 print the same new token");
    assert!(!tokens.contains(&first));
    assert_eq!(
        peer.grants("refresh_token"),
        1,
        "exactly one refresh grant for 20 callers of an expired token"
    );
    assert_eq!(
        peer.introspect(tokens.iter().next().unwrap())["active"],
        true
    );
}

#[test]
fn refresh_token_expiry_is_forecast_in_list_show_and_doctor() {
    let peer = Peer::start();
    let t = oauth_env(&peer);
    // As for a Google app in "Testing" status: refresh tokens live 7 days.
    t.cmd()
        .args(["add", "oauth2", "custom", "--name", "testing-app"])
        .args(["--issuer", &peer.issuer, "--client-id", "public-native"])
        .args(["--scopes", "openid offline_access", "--timeout", "30"])
        .args(["--set", "refresh_token_days=7"])
        .assert()
        .success();
    t.cmd()
        .args(["add", "oauth2", "custom", "--name", "forever"])
        .args(["--issuer", &peer.issuer, "--client-id", "public-native"])
        .args(["--scopes", "openid offline_access", "--timeout", "30"])
        .assert()
        .success();
    let list = t.stdout(&["list"]);
    let line = |name: &str| {
        list.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} not in {list}"))
            .to_string()
    };
    assert!(
        line("testing-app").contains("re-authorize within 7 days"),
        "{list}"
    );
    assert!(!line("forever").contains("re-authorize"), "{list}");
    let json: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    let row = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "testing-app")
        .unwrap();
    let by = time::OffsetDateTime::parse(
        row["reauthorize_by"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = by - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::days(6) && left <= time::Duration::days(7),
        "{left}"
    );
    t.cmd()
        .args(["show", "testing-app"])
        .assert()
        .success()
        .stdout(contains("Re-auth:   within 7 days"));
    t.cmd()
        .arg("doctor")
        .assert()
        .success()
        .stdout(contains("WARN refresh tokens"))
        .stdout(contains(
            "testing-app within 7 day(s) (`authcfg reauth testing-app`)",
        ));
    // A refresh that rotates the refresh token starts its 7 days again.
    t.cmd().args(["refresh", "testing-app"]).assert().success();
    let json: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    let again = json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "testing-app")
        .unwrap()["reauthorize_by"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(again.as_str() >= row["reauthorize_by"].as_str().unwrap());
}
