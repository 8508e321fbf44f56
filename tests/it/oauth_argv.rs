//! No secret-bearing URL in another process's argv (docs/SECURITY.md,
//! "Another local user"): the browser is given a one-time link to authcfg's
//! own loopback listener, not the authorization URL with its `state` and
//! PKCE challenge. Another user who reads the browser's command line in
//! `/proc` (as every local user can) and uses the link first stops the
//! flow; nothing is authorized as them.

use crate::support::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A browser for the victim that reports its pid on one FIFO, waits for a
/// word on another, then runs the scripted user (tests/peer/browser.mjs).
struct HeldBrowser {
    _dir: tempfile::TempDir,
    started: PathBuf,
    go: PathBuf,
    script: PathBuf,
}

impl HeldBrowser {
    fn new() -> HeldBrowser {
        let dir = tempfile::tempdir().unwrap();
        let started = dir.path().join("started");
        let go = dir.path().join("go");
        for f in [&started, &go] {
            let c = std::ffi::CString::new(f.to_str().unwrap()).unwrap();
            // SAFETY: a valid C string.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        }
        let script = dir.path().join("browser.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho $$ > '{}'\nread go < '{}'\nexec node '{PEER_DIR}/browser.mjs' \"$@\"\n",
                started.display(),
                go.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        HeldBrowser {
            _dir: dir,
            started,
            go,
            script,
        }
    }

    /// Blocks until the browser has started; its pid.
    fn pid(&self) -> u32 {
        let mut s = String::new();
        std::fs::File::open(&self.started)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s.trim().parse().unwrap()
    }

    fn release(&self) {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&self.go)
            .unwrap()
            .write_all(b"go\n")
            .unwrap();
    }
}

fn start_flow(t: &T, peer: &Peer, name: &str) -> Child {
    t.std_cmd()
        .args(["add", "oauth2", "custom", "--name", name])
        .args(["--issuer", &peer.issuer, "--client-id", "public-native"])
        .args(["--scopes", "openid email offline_access", "--timeout", "60"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `cmd` run as `nobody` (another local user).
fn as_nobody(program: &str) -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
        program,
    ])
    .env("HOME", "/tmp");
    c
}

/// The URL the browser was started with, read from `/proc` as another user.
fn argv_url_as_another_user(pid: u32) -> String {
    let out = as_nobody("cat")
        .arg(format!("/proc/{pid}/cmdline"))
        .output()
        .unwrap();
    assert!(out.status.success(), "another user reads /proc/PID/cmdline");
    let argv: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    argv.last().unwrap().clone()
}

fn finish(mut child: Child) -> (Option<i32>, String) {
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap().code(), err)
}

fn nothing_saved(t: &T, name: &str, peer: &Peer) {
    t.cmd().args(["show", name]).assert().code(3);
    assert_eq!(
        peer.grants("authorization_code"),
        0,
        "no code was exchanged: {}",
        peer.stats()
    );
}

/// Red team 3: another user copies the authorization URL from the
/// browser's argv, obtains a code for their own account with the victim's
/// PKCE challenge and state, and delivers it to the victim's listener
/// first: the victim's config was authorized as the attacker.
#[test]
fn another_user_who_copies_the_browsers_link_authorizes_nothing() {
    let peer = Peer::start();
    let browser = HeldBrowser::new();
    let mut t = T::new();
    t.env("BROWSER", browser.script.to_str().unwrap());
    t.init();
    let child = start_flow(&t, &peer, "victim");
    let pid = browser.pid();
    let link = argv_url_as_another_user(pid);
    assert!(
        !link.contains("state=") && !link.contains("code_challenge"),
        "the browser's argv holds the authorization URL: {link}"
    );
    // The attacker follows it first, logs in as themselves and sends the
    // provider's answer back to the victim's listener.
    let attacker = as_nobody("node")
        .arg(format!("{PEER_DIR}/browser.mjs"))
        .arg(&link)
        .env("PEER_LOGIN", "attacker")
        .output()
        .unwrap();
    assert!(
        !attacker.status.success(),
        "the attacker's browser got nowhere"
    );
    browser.release();
    let (code, err) = finish(child);
    assert_eq!(code, Some(6), "{err}");
    assert!(err.contains("another user's program"), "{err}");
    nothing_saved(&t, "victim", &peer);
}

/// A copy used first by a program of the same user (or the link opened
/// twice): the second use stops the flow.
#[test]
fn a_second_use_of_the_link_stops_the_flow() {
    let peer = Peer::start();
    let browser = HeldBrowser::new();
    let mut t = T::new();
    t.env("BROWSER", browser.script.to_str().unwrap());
    t.init();
    let child = start_flow(&t, &peer, "victim");
    let link = argv_url_as_another_user(browser.pid());
    let first = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&link)
        .send()
        .unwrap();
    assert_eq!(first.status().as_u16(), 302, "the first use is sent on");
    assert!(first.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with(&peer.issuer));
    browser.release();
    let (code, err) = finish(child);
    assert_eq!(code, Some(6), "{err}");
    assert!(err.contains("opened twice"), "{err}");
    nothing_saved(&t, "victim", &peer);
}

/// `--manual`: the pasted redirect URL is shown back without its code and
/// state.
#[test]
fn a_pasted_redirect_url_is_shown_back_without_its_code() {
    let peer = Peer::start();
    let t = T::new();
    t.init();
    let mut child = t
        .std_cmd()
        .args(["add", "oauth2", "custom", "--name", "pasted"])
        .args(["--issuer", &peer.issuer, "--client-id", "public-native"])
        .arg("--manual")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no URL printed");
        if line.trim().starts_with(&peer.issuer) {
            break line.trim().to_string();
        }
    };
    let out = Command::new("node")
        .arg(format!("{PEER_DIR}/browser.mjs"))
        .arg(&url)
        .env("PEER_PRINT_REDIRECT", "1")
        .output()
        .unwrap();
    let redirected = String::from_utf8(out.stdout).unwrap();
    let parsed = url::Url::parse(redirected.trim()).unwrap();
    let code = parsed
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(redirected.as_bytes())
        .unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    assert!(
        rest.contains("Received http://127.0.0.1/callback?code=…") && !rest.contains(&code),
        "{rest}"
    );
    let state = parsed.query_pairs().find(|(k, _)| k == "state").unwrap().1;
    assert!(!rest.contains(state.as_ref()), "{rest}");
}
