//! One OAuth2 path (issue 20, item 7): the manual `oauth2` custom type is
//! authorized (at a terminal when added, else by `reauth`) and becomes an
//! OAuth2 config like any other; `add oauth2 custom` asks for what it
//! needs at a terminal; the device flow chosen for want of a display is
//! said; a failed authorization of a config that was never saved names no
//! command on it. Against the real OpenID server (tests/peer).

use crate::support::*;
use predicates::str::contains;
use rexpect::session::spawn_command;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

const TIMEOUT: Option<u64> = Some(40_000);

fn oauth_env() -> T {
    let mut t = T::new();
    t.env("BROWSER", &Peer::browser());
    t.init();
    t
}

fn endpoints(peer: &Peer) -> (String, String) {
    let d: serde_json::Value =
        reqwest::blocking::get(format!("{}/.well-known/openid-configuration", peer.issuer))
            .unwrap()
            .json()
            .unwrap();
    (
        d["authorization_endpoint"].as_str().unwrap().to_string(),
        d["token_endpoint"].as_str().unwrap().to_string(),
    )
}

fn revealed(t: &T, name: &str) -> serde_json::Value {
    serde_json::from_str(&t.stdout(&["show", name, "--json", "--reveal"])).unwrap()
}

/// The stored config is an OAuth2 config of the `custom` provider whose
/// access token the server accepts.
fn assert_authorized(t: &T, peer: &Peer, name: &str) {
    let j = revealed(t, name);
    assert_eq!(j["authcfg"]["kind"], "oauth2", "{j}");
    assert_eq!(j["type"], "custom", "{j}");
    assert!(
        j["authcfg"]["account"]
            .as_str()
            .is_some_and(|a| a.starts_with("alice")),
        "{j}"
    );
    let at = j["config"]["access_token"].as_str().unwrap();
    assert_eq!(peer.introspect(at)["active"], true);
}

#[test]
fn a_manual_oauth2_config_is_authorized_by_reauth_and_refreshes() {
    let peer = Peer::start();
    let t = oauth_env();
    let (auth, token) = endpoints(&peer);
    // Without a terminal: saved, with the command that authorizes it.
    t.cmd()
        .args(["add", "custom", "oauth2", "--name", "m"])
        .args(["--set", &format!("authorization_url={auth}")])
        .args(["--set", &format!("token_url={token}")])
        .args(["--set", "client_id=conf-basic"])
        .args(["--set", "scopes=openid email offline_access"])
        .args(["--secret-stdin", "client_secret"])
        .write_stdin("basic-secret-planted-7c1")
        .assert()
        .success()
        .stderr(contains("not authorized yet"))
        .stderr(contains("`authcfg reauth m`"));
    assert_eq!(revealed(&t, "m")["authcfg"]["kind"], "custom");
    // reauth works for it, and makes it an OAuth2 config.
    t.cmd()
        .args(["reauth", "m", "--timeout", "30"])
        .assert()
        .success()
        .stderr(contains("Re-authorized 'm' as alice"));
    assert_authorized(&t, &peer, "m");
    // It is refreshed as every OAuth2 config is.
    let before = peer.grants("refresh_token");
    t.cmd().args(["refresh", "m", "--force"]).assert().success();
    assert_eq!(peer.grants("refresh_token"), before + 1);
    t.cmd()
        .args(["test", "m"])
        .assert()
        .success()
        .stdout(contains("passed"));

    // A field an OAuth2 config does not have is refused, not dropped, and
    // the hint's command clears the way.
    t.cmd()
        .args(["add", "custom", "oauth2", "--name", "m2"])
        .args(["--set", &format!("authorization_url={auth}")])
        .args(["--set", &format!("token_url={token}")])
        .args(["--set", "client_id=conf-basic"])
        .args(["--set", "scopes=openid email offline_access"])
        .args(["--set", "test_url=https://api.example.com/me"])
        .args(["--secret-stdin", "client_secret"])
        .write_stdin("basic-secret-planted-7c1")
        .assert()
        .success();
    t.cmd()
        .args(["reauth", "m2", "--timeout", "30"])
        .assert()
        .code(2)
        .stderr(contains(
            "test_url is not a field of an authorized OAuth2 config",
        ))
        .stderr(contains("`authcfg edit m2 --unset test_url`"));
    assert_eq!(
        revealed(&t, "m2")["config"]["test_url"],
        "https://api.example.com/me"
    );
    t.cmd()
        .args(["edit", "m2", "--unset", "test_url"])
        .assert()
        .success();
    t.cmd()
        .args(["reauth", "m2", "--timeout", "30"])
        .assert()
        .success();
    assert_authorized(&t, &peer, "m2");
}

#[test]
fn add_custom_oauth2_at_a_terminal_runs_the_authorization() {
    let peer = Peer::start();
    let t = oauth_env();
    let (auth, token) = endpoints(&peer);
    let mut cmd = t.std_cmd();
    cmd.args(["add", "custom", "oauth2", "--name", "term"])
        .args(["--set", &format!("authorization_url={auth}")])
        .args(["--set", &format!("token_url={token}")])
        .args(["--set", "client_id=conf-basic"])
        .args(["--set", "scopes=openid email offline_access"])
        .args(["--set", "auth_method=client_secret_basic"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("client_secret").unwrap();
    p.send_line("basic-secret-planted-7c1").unwrap();
    p.exp_string("Authorize it now").unwrap();
    p.send("y").unwrap();
    p.flush().unwrap();
    p.exp_string("Authorized 'term' as alice").unwrap();
    p.exp_eof().unwrap();
    assert_authorized(&t, &peer, "term");
}

#[test]
fn add_oauth2_custom_asks_for_the_issuer_at_a_terminal() {
    let peer = Peer::start();
    let t = oauth_env();
    let mut cmd = t.std_cmd();
    cmd.args([
        "add",
        "oauth2",
        "custom",
        "--name",
        "asked",
        "--client-id",
        "public-native",
        "--scopes",
        "openid email offline_access",
        "--timeout",
        "30",
    ]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("Issuer URL").unwrap();
    p.send_line(&peer.issuer).unwrap();
    p.exp_string("Client secret").unwrap();
    p.send_line("").unwrap();
    p.exp_string("Authorized 'asked' as alice@example.test")
        .unwrap();
    p.exp_eof().unwrap();
    assert_authorized(&t, &peer, "asked");
}

#[test]
fn a_provider_client_id_prompt_points_at_its_console() {
    let t = T::new();
    t.init();
    let mut cmd = t.std_cmd();
    cmd.args(["add", "oauth2", "google", "--name", "g"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string(
        "Client ID (create an OAuth client at https://console.cloud.google.com/apis/credentials",
    )
    .unwrap();
    p.send_control('c').unwrap();
    p.exp_eof().unwrap();
    t.cmd().args(["show", "g"]).assert().code(3);
}

#[test]
fn with_no_display_the_device_flow_is_said() {
    let peer = Peer::start();
    let t = T::new();
    t.init();
    let mut cmd = t.std_cmd();
    cmd.env_remove("BROWSER")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .args(["add", "oauth2", "custom", "--name", "headless"])
        .args(["--issuer", &peer.issuer, "--client-id", "public-native"])
        .args(["--scopes", "openid email offline_access", "--timeout", "30"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    let mut line = String::new();
    let mut complete = None;
    while err.read_line(&mut line).unwrap() > 0 {
        said.push_str(&line);
        if let Some(u) = line.trim().strip_prefix("(or open ") {
            complete = u.strip_suffix(" directly)").map(str::to_string);
            break;
        }
        line.clear();
    }
    assert!(
        said.contains("no display: using the device flow (RFC 8628) — open http"),
        "{said}"
    );
    assert!(said.contains(" and enter "), "{said}");
    // The person opens the URL on another device.
    let ok = std::process::Command::new("node")
        .arg(format!("{PEER_DIR}/browser.mjs"))
        .arg(complete.expect("the complete verification URL"))
        .status()
        .unwrap();
    assert!(ok.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{said}{rest}");
    assert_authorized(&t, &peer, "headless");
    assert_eq!(revealed(&t, "headless")["config"]["grant"], "device_code");
}

/// A failed authorization of a config that was never saved: exit 6, the
/// typed cause's one remedy, and no command on the config that does not
/// exist.
#[test]
fn a_failed_authorization_names_no_command_on_the_unsaved_config() {
    let peer = Peer::start();
    let t = oauth_env();
    let refused = t
        .cmd()
        .args(["add", "oauth2", "custom", "--name", "bad"])
        .args(["--issuer", &peer.issuer, "--client-id", "machine"])
        .args(["--client-credentials", "--client-secret-stdin"])
        .write_stdin("not-the-machine-secret")
        .assert()
        .code(6);
    let err = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        err.contains("verify the Client ID and Client Secret"),
        "{err}"
    );
    assert!(err.contains("nothing was saved"), "{err}");
    let port = services::closed_port();
    let unreachable = t
        .cmd()
        .args(["add", "oauth2", "custom", "--name", "gone"])
        .args(["--set", &format!("token_url=http://127.0.0.1:{port}/token")])
        .args(["--client-id", "machine", "--client-credentials"])
        .args(["--client-secret-stdin"])
        .write_stdin("machine-secret-planted-3e4")
        .assert()
        .code(6);
    let err2 = String::from_utf8_lossy(&unreachable.get_output().stderr).into_owned();
    assert!(err2.contains("check network connectivity"), "{err2}");
    for e in [&err, &err2] {
        for cmd in ["authcfg show", "authcfg edit", "authcfg reauth"] {
            assert!(!e.contains(cmd), "names `{cmd}` for an unsaved config: {e}");
        }
        assert!(!e.contains("not-the-machine-secret"), "{e}");
    }
    t.cmd().args(["show", "bad"]).assert().code(3);
    t.cmd().args(["show", "gone"]).assert().code(3);
}
