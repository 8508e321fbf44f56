//! SSH host keys against a real sshd (LogLevel DEBUG1 logs every
//! authentication request it receives): first contact is refused without
//! the user's word and shows OpenSSH's fingerprint; `--trust-host-key`
//! accepts exactly that key and pins it; a changed key (same port, new host
//! key) is refused; known_hosts counts; and in every refusal sshd received
//! no authentication request at all: no password, no key signature.

use crate::support::tls_services::{fingerprint, new_host_key, Sshd};
use crate::support::*;
use crate::tls_postgres::{add, passed, refused, text};
use rexpect::session::spawn_command;

const USER: &str = "authcfghk";
const PW: &str = "ssh-Hostkey-pw1";

fn sets(port: u16) -> Vec<String> {
    vec![
        "host=127.0.0.1".into(),
        format!("port={port}"),
        format!("username={USER}"),
    ]
}

/// The server logged `n` connections closing and no authentication
/// request, so nothing secret reached it.
fn no_auth_request(sshd: &Sshd, closed: usize) {
    assert!(
        sshd.wait_for("Connection closed by", closed),
        "sshd did not see the connection end:\n{}",
        sshd.log()
    );
    let log = sshd.log();
    for needle in [
        "userauth-request",
        "Accepted",
        "Failed password",
        "Failed publickey",
    ] {
        assert!(!log.contains(needle), "sshd got '{needle}':\n{log}");
    }
}

fn trust_args(t: &T, name: &str, port: u16, trust: &str) -> std::process::Output {
    let mut c = t.cmd();
    c.args(["add", "connector", "sftp", "--name", name, "--timeout", "8"]);
    for x in sets(port) {
        c.args(["--set", &x]);
    }
    c.args(["--trust-host-key", trust, "--secret-stdin", "password"])
        .write_stdin(PW);
    c.output().unwrap()
}

#[test]
fn first_contact_pinning_and_a_changed_host_key() {
    let t = T::new();
    t.init();
    let keys = tempfile::tempdir().unwrap();
    let k1 = new_host_key(keys.path(), "k1");
    let k2 = new_host_key(keys.path(), "k2");
    let (fp1, fp2) = (fingerprint(&k1), fingerprint(&k2));
    let sshd = Sshd::start(USER, PW, &k1, 0);
    let port = sshd.port;

    // First contact, no terminal, no --trust-host-key: refused, with the
    // fingerprint OpenSSH would show; nothing reached the server.
    let o = add(&t, "sftp", "srv", &sets(port), Some(("password", PW)));
    refused(&t, &o, "srv", "SSH host key unknown");
    assert!(text(&o).contains(&fp1), "{}", text(&o));
    assert!(text(&o).contains("--trust-host-key"), "{}", text(&o));
    no_auth_request(&sshd, 1);

    // Vouching for another fingerprint is refused too.
    let o = trust_args(&t, "srv", port, &fp2);
    refused(&t, &o, "srv", "SSH host key changed");
    no_auth_request(&sshd, 2);

    // The right fingerprint: accepted, the password goes, the key is pinned.
    let o = trust_args(&t, "srv", port, &fp1);
    passed(&o, "srv");
    assert!(sshd.wait_for("Accepted password", 1), "{}", sshd.log());
    let shown: serde_json::Value =
        serde_json::from_str(&t.stdout(&["show", "srv", "--json"])).unwrap();
    assert_eq!(shown["config"]["host_key"], fp1.as_str(), "{shown}");
    // Pinned: later tests need no flag.
    t.cmd().args(["test", "srv"]).assert().success();
    drop(sshd);

    // The same host and port now presents another key.
    let sshd = Sshd::start(USER, PW, &k2, port);
    let out = t.cmd().args(["test", "srv", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("SSH host key changed"), "{all}");
    assert!(
        all.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{all}"
    );
    assert!(
        all.contains(&fp2) && all.contains(&fp1),
        "both keys named: {all}"
    );
    no_auth_request(&sshd, 1);
    // --trust-host-key does not override a pinned key (OpenSSH's rule: the
    // old key must be removed first).
    let out = t
        .cmd()
        .args(["test", "srv", "--trust-host-key", &fp2])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    no_auth_request(&sshd, 2);
    t.cmd()
        .args(["edit", "srv", "--unset", "host_key"])
        .assert()
        .success();
    t.cmd()
        .args(["test", "srv", "--trust-host-key", &fp2])
        .assert()
        .success();
    let shown: serde_json::Value =
        serde_json::from_str(&t.stdout(&["show", "srv", "--json"])).unwrap();
    assert_eq!(shown["config"]["host_key"], fp2.as_str());
}

#[test]
fn known_hosts_is_consulted() {
    let t = T::new();
    t.init();
    let keys = tempfile::tempdir().unwrap();
    let k1 = new_host_key(keys.path(), "k1");
    let k2 = new_host_key(keys.path(), "k2");
    let sshd = Sshd::start(USER, PW, &k1, 0);
    let port = sshd.port;
    let ssh_dir = t.home.join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let pubkey = std::fs::read_to_string(k1.with_extension("pub")).unwrap();
    let mut parts = pubkey.split_whitespace();
    let line = format!(
        "[127.0.0.1]:{port} {} {}\n",
        parts.next().unwrap(),
        parts.next().unwrap()
    );
    std::fs::write(ssh_dir.join("known_hosts"), format!("# ours\n{line}")).unwrap();

    // Known: no flag needed.
    let o = add(&t, "sftp", "known", &sets(port), Some(("password", PW)));
    passed(&o, "known");
    drop(sshd);

    // known_hosts names another key for this host: changed, not unknown.
    let sshd = Sshd::start(USER, PW, &k2, port);
    let o = add(&t, "sftp", "known2", &sets(port), Some(("password", PW)));
    refused(&t, &o, "known2", "SSH host key changed");
    assert!(text(&o).contains("known_hosts:1"), "{}", text(&o));
    no_auth_request(&sshd, 1);
    // A key signature is no more sent than a password.
    let o = add(
        &t,
        "sftp",
        "known3",
        &sets(port),
        Some(("private_key", &std::fs::read_to_string(&k1).unwrap())),
    );
    refused(&t, &o, "known3", "SSH host key changed");
    no_auth_request(&sshd, 2);
}

#[test]
fn first_contact_at_a_terminal_asks() {
    let t = T::new();
    t.init();
    let keys = tempfile::tempdir().unwrap();
    let k1 = new_host_key(keys.path(), "k1");
    let fp1 = fingerprint(&k1);
    let sshd = Sshd::start(USER, PW, &k1, 0);
    let mut cmd = t.std_cmd();
    cmd.args(["add", "connector", "sftp", "--name", "asked"]);
    for x in sets(sshd.port) {
        cmd.args(["--set", &x]);
    }
    let mut p = spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("password").unwrap();
    p.send_line(PW).unwrap();
    p.exp_string("private_key").unwrap();
    p.send_line("").unwrap();
    p.exp_string("passphrase").unwrap();
    p.send_line("").unwrap();
    p.exp_string(&fp1).unwrap();
    p.exp_string("Trust the host key").unwrap();
    p.send("y").unwrap();
    p.flush().unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Connection test passed"), "{rest}");
    assert!(!rest.contains(PW), "the password was echoed");
    let shown: serde_json::Value =
        serde_json::from_str(&t.stdout(&["show", "asked", "--json"])).unwrap();
    assert_eq!(shown["config"]["host_key"], fp1.as_str());
}
