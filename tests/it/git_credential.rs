//! The git credential helper against real git: clones and pushes over HTTP
//! from `git http-backend` behind nginx + fcgiwrap, which accepts only an
//! access token the OpenID peer issued and that has not expired.

use crate::support::services::GitHttp;
use crate::support::*;
use predicates::str::contains;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn oauth_env(peer: &Peer) -> T {
    let _ = peer;
    let mut t = T::new();
    t.env("BROWSER", &Peer::browser());
    t.init();
    t
}

fn add_oauth(t: &T, peer: &Peer, name: &str) {
    t.cmd()
        .args(["add", "oauth2", "custom", "--name", name])
        .args(["--issuer", &peer.issuer, "--client-id", "public-native"])
        .args(["--scopes", "openid offline_access", "--timeout", "30"])
        .assert()
        .success();
}

/// git with the test's environment: its HOME (and so ~/.gitconfig), no
/// system config, and never a prompt (a missing credential fails).
fn git(t: &T, dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new("git");
    t.apply(&mut c);
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .args([
            "-c",
            "user.name=dev",
            "-c",
            "user.email=dev@example.test",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The helper as git runs it, with a request on stdin.
fn helper(t: &T, url: &str, action: &str, request: &str) -> Output {
    let mut c = t.std_cmd();
    c.args(["git-credential", "--config", "forge", "--url", url, action])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn revealed(t: &T, name: &str) -> serde_json::Value {
    serde_json::from_str(&t.stdout(&["show", name, "--json", "--reveal"])).unwrap()
}

fn http_status(repo: &str, user: &str, password: &str) -> u16 {
    reqwest::blocking::Client::new()
        .get(format!("{repo}/info/refs?service=git-upload-pack"))
        .basic_auth(user, Some(password))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn clone_and_push_with_five_second_tokens() {
    let peer = Peer::start();
    let t = oauth_env(&peer);
    peer.set_access_ttl(5);
    add_oauth(&t, &peer, "forge");
    let issued = Instant::now();
    let server = GitHttp::start(&peer.issuer);
    let remote = server.repo("app", "hello from the server\n");
    let work = t.dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();

    // Without the helper: no credential, no prompt, refused.
    let o = git(&t, &work, &["clone", "-q", &remote, "anon"]);
    assert!(
        !o.status.success(),
        "the server must refuse anonymous clones"
    );

    t.cmd()
        .args(["git", "setup", "forge", &server.url])
        .assert()
        .success()
        .stderr(contains(&server.url));
    let gitconfig = std::fs::read_to_string(t.home.join(".gitconfig")).unwrap();
    assert!(
        gitconfig.contains(&format!("[credential \"{}\"]", server.url)),
        "{gitconfig}"
    );

    let started = Instant::now();
    let o = git(&t, &work, &["clone", "-q", &remote, "one"]);
    ok(&o, "clone with the helper");
    let clone_ms = started.elapsed().as_millis();
    assert_eq!(
        std::fs::read_to_string(work.join("one/README")).unwrap(),
        "hello from the server\n"
    );
    let one = work.join("one");
    std::fs::write(one.join("CHANGE"), "pushed\n").unwrap();
    ok(&git(&t, &one, &["add", "CHANGE"]), "add");
    ok(&git(&t, &one, &["commit", "-q", "-m", "change"]), "commit");
    let started = Instant::now();
    ok(&git(&t, &one, &["push", "-q", "origin", "main"]), "push");
    let push_ms = started.elapsed().as_millis();
    let old_token = revealed(&t, "forge")["config"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(http_status(&remote, "oauth2", &old_token), 200);
    assert_eq!(
        http_status(&remote, "oauth2", "not-a-token"),
        401,
        "nginx checks the token"
    );

    // Wait for the 5-second token to expire (real time must pass).
    let deadline = Duration::from_secs(7);
    while issued.elapsed() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        http_status(&remote, "oauth2", &old_token),
        401,
        "the expired token is refused"
    );
    let refreshes = peer.grants("refresh_token");
    let started = Instant::now();
    let o = git(&t, &work, &["clone", "-q", &remote, "two"]);
    ok(&o, "clone after the token expired");
    let clone2_ms = started.elapsed().as_millis();
    assert_eq!(
        std::fs::read_to_string(work.join("two/CHANGE")).unwrap(),
        "pushed\n",
        "the push reached the server"
    );
    assert!(
        peer.grants("refresh_token") > refreshes,
        "the helper refreshed the token"
    );
    eprintln!("git over HTTP: clone {clone_ms} ms, push {push_ms} ms, clone after expiry (with refresh) {clone2_ms} ms");
    let stats = peer.stats();
    assert!(stats["gitAuth"]["ok"].as_u64().unwrap() > 0);
    assert!(stats["gitAuth"]["denied"].as_u64().unwrap() > 0);

    // The hand-outs were recorded, with git and the URL as the consumer.
    let list: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    assert_eq!(list[0]["connections"], 1);
    assert!(list[0]["consumers"][0]
        .as_str()
        .unwrap()
        .contains(&format!("git {}", server.url)));
    t.cmd().args(["log", "--verify"]).assert().success();
}

#[test]
fn the_helper_answers_only_its_url_and_never_opens_a_browser() {
    let peer = Peer::start();
    let mut t = oauth_env(&peer);
    add_oauth(&t, &peer, "forge");
    let url = "http://127.0.0.1:9";
    let token = revealed(&t, "forge")["config"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    let o = helper(&t, url, "get", "protocol=http\nhost=127.0.0.1:9\n\n");
    assert!(o.status.success());
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains(&format!("password={token}\n")), "{out}");
    assert!(out.contains("username=oauth2\n"));
    assert!(out.contains("password_expiry_utc="));

    for other in [
        "protocol=https\nhost=127.0.0.1:9\n",
        "protocol=http\nhost=127.0.0.1:10\n",
        "protocol=http\nhost=127.0.0.1\n",
        "protocol=http\nhost=127.0.0.1:9.evil.example\n",
        "protocol=http\nhost=127.0.0.1:9\nusername=someone-else\n",
    ] {
        let o = helper(&t, url, "get", other);
        assert!(o.status.success());
        assert!(o.stdout.is_empty(), "answered {other:?}");
    }
    // CR in a value (CVE-2024-52006) and NUL: refused, nothing answered.
    for bad in [
        "protocol=http\nhost=127.0.0.1:9\r\n",
        "protocol=http\r\nhost=127.0.0.1:9\n",
        "protocol=http\nhost=127.0.0.1:9\npath=a\0b\n",
    ] {
        let o = helper(&t, url, "get", bad);
        assert!(o.stdout.is_empty(), "answered {bad:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("refused"));
    }
    // A path-bound helper needs git's useHttpPath (a path in the request).
    let bound = "http://127.0.0.1:9/team/app.git";
    assert!(
        helper(&t, bound, "get", "protocol=http\nhost=127.0.0.1:9\n")
            .stdout
            .is_empty()
    );
    assert!(!helper(
        &t,
        bound,
        "get",
        "protocol=http\nhost=127.0.0.1:9\npath=team/app.git\n"
    )
    .stdout
    .is_empty());

    // store keeps nothing; erase of another password changes nothing; erase
    // of the current token drops it, and the next get refreshes.
    let before = t.snapshot();
    let o = helper(
        &t,
        url,
        "store",
        &format!("protocol=http\nhost=127.0.0.1:9\nusername=x\npassword={token}\n"),
    );
    assert!(o.status.success() && o.stdout.is_empty());
    let o = helper(
        &t,
        url,
        "erase",
        "protocol=http\nhost=127.0.0.1:9\npassword=other\n",
    );
    assert!(o.status.success());
    assert_eq!(t.snapshot(), before);
    let o = helper(
        &t,
        url,
        "erase",
        &format!("protocol=http\nhost=127.0.0.1:9\npassword={token}\n"),
    );
    assert!(o.status.success());
    let doc = revealed(&t, "forge");
    assert_eq!(doc["config"]["access_token"], "");
    assert!(doc["config"]["refresh_token"].as_str().unwrap().len() > 10);
    let refreshes = peer.grants("refresh_token");
    let o = helper(&t, url, "get", "protocol=http\nhost=127.0.0.1:9\n");
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("password=") && !out.contains(&token), "{out}");
    assert_eq!(peer.grants("refresh_token"), refreshes + 1);

    // A refresh token that no longer works: no browser, the reauth command
    // on stderr, nothing on stdout.
    let marker = t.dir.path().join("browser-was-opened");
    let script = t.dir.path().join("browser.sh");
    std::fs::write(&script, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    t.env("BROWSER", script.to_str().unwrap());
    t.cmd()
        .args(["edit", "forge", "--secret-stdin", "refresh_token"])
        .write_stdin("spent-refresh-token")
        .assert()
        .success();
    let token_now = revealed(&t, "forge")["config"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    helper(
        &t,
        url,
        "erase",
        &format!("protocol=http\nhost=127.0.0.1:9\npassword={token_now}\n"),
    );
    let o = helper(&t, url, "get", "protocol=http\nhost=127.0.0.1:9\n");
    assert!(o.status.success());
    assert!(o.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("authcfg reauth forge"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!marker.exists(), "a browser was opened");
}

#[test]
fn basic_and_bearer_configs_and_unsafe_values() {
    let t = T::new();
    t.init();
    t.add(
        "basic",
        "forge",
        &["username=deploy"],
        Some(("password", "basic-pw-planted-1")),
    )
    .success();
    let url = "https://git.example.com";
    let o = helper(&t, url, "get", "protocol=https\nhost=git.example.com\n");
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "username=deploy\npassword=basic-pw-planted-1\n"
    );
    // erase never touches a basic config.
    let before = t.snapshot();
    helper(
        &t,
        url,
        "erase",
        "protocol=https\nhost=git.example.com\npassword=basic-pw-planted-1\n",
    );
    assert_eq!(t.snapshot(), before);
    // A value with a line break would inject fields into git's protocol:
    // the field refuses it (and the helper would refuse to send it).
    t.cmd()
        .args(["edit", "forge", "--secret-stdin", "password"])
        .write_stdin("pw\nhost=evil.example.com")
        .assert()
        .code(2)
        .stderr(contains("line break"));
    // http to a remote host is refused at setup.
    t.cmd()
        .args(["git", "setup", "forge", "http://git.example.com"])
        .assert()
        .code(2);
    t.cmd().args(["git", "setup", "forge"]).assert().code(2);
    // An api-key config cannot answer git.
    t.add("api-key", "key", &[], Some(("api_key", "k-planted-9")))
        .success();
    t.cmd()
        .args(["git", "setup", "key", "git.example.com"])
        .assert()
        .code(2)
        .stderr(contains("only OAuth2, bearer and basic"));
}

/// Red team 2, #24: a config limited to some origins (`allowed_origins`,
/// as `http` obeys) answers git only there, and `git setup` refuses
/// another host.
#[test]
fn allowed_origins_bind_git_too() {
    let t = T::new();
    t.init();
    t.add(
        "bearer",
        "forge",
        &["allowed_origins=https://git.example.com"],
        Some(("token", "bt-planted-origin-7")),
    )
    .success();
    let o = helper(
        &t,
        "https://evil.example.com",
        "get",
        "protocol=https\nhost=evil.example.com\n",
    );
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not an allowed origin of 'forge'"), "{err}");
    assert!(!err.contains("bt-planted-origin-7"));
    let o = helper(
        &t,
        "https://git.example.com",
        "get",
        "protocol=https\nhost=git.example.com\n",
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("password=bt-planted-origin-7"),
        "{o:?}"
    );
    let out = t
        .cmd()
        .args(["git", "setup", "forge", "evil.example.com"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an allowed origin"));
}
