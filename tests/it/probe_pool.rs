//! `test --all` runs probes on one runtime with at most `--jobs` at a time,
//! and `--timeout` bounds each probe as a whole: a name lookup that hangs
//! (the real resolver asking a DNS server on 127.0.0.1 that never answers,
//! in a mount namespace whose /etc/resolv.conf names it) does not hold the
//! command.

use crate::support::services::silent_listener;
use crate::support::*;
use std::time::{Duration, Instant};

fn add_redis(t: &T, name: &str, host: &str, port: u16) {
    t.cmd()
        .args(["add", "connector", "redis", "--name", name, "--no-test"])
        .args([
            "--set",
            &format!("host={host}"),
            "--set",
            &format!("port={port}"),
        ])
        .args(["--secret-stdin", "password"])
        .write_stdin("pool-pw")
        .assert()
        .success();
}

fn run_all(t: &T, extra: &[&str]) -> (Duration, Vec<serde_json::Value>) {
    let started = Instant::now();
    let out = t
        .cmd()
        .args(["test", "--all", "--json"])
        .args(extra)
        .output()
        .unwrap();
    let wall = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (wall, rows.as_array().unwrap().clone())
}

#[test]
fn jobs_bound_the_probes_running_at_once() {
    let t = T::new();
    t.init();
    let (_hold, silent) = silent_listener();
    for i in 0..6 {
        add_redis(&t, &format!("slow{i}"), "127.0.0.1", silent);
    }
    // Six probes that each wait the whole second, two at a time: three
    // rounds. Unbounded, they would take one.
    let (wall, rows) = run_all(&t, &["--timeout", "1", "--jobs", "2"]);
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r["result"] == "timeout"), "{rows:?}");
    eprintln!(
        "6 silent probes, --jobs 2, --timeout 1: wall {} ms",
        wall.as_millis()
    );
    assert!(wall >= Duration::from_millis(2900), "not bounded: {wall:?}");
    assert!(wall < Duration::from_secs(6), "too slow: {wall:?}");
    // The same six with room for all: one round.
    let (wall, _) = run_all(&t, &["--timeout", "1", "--jobs", "6"]);
    assert!(wall < Duration::from_millis(2900), "{wall:?}");
}

/// Runs authcfg with the environment of `t`, in a private mount namespace
/// whose /etc/resolv.conf points at `resolv` (needs root: CI runs as root).
fn in_dead_dns(
    t: &T,
    resolv: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    let template = t.std_cmd();
    let mut c = std::process::Command::new("unshare");
    c.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg(r#"mount --bind "$0" /etc/resolv.conf && exec "$@""#)
        .arg(resolv)
        .arg(BIN)
        .args(args);
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    use std::io::Write;
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("unshare (util-linux)");
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn a_stuck_name_lookup_does_not_hold_the_command() {
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "needs root for a mount namespace (CI runs as root)"
    );
    // A DNS server on 127.0.0.1 that takes every query and never answers.
    let dead = std::net::UdpSocket::bind("127.0.0.1:53").expect("127.0.0.1:53 is free");
    let dir = tempfile::tempdir().unwrap();
    let resolv = dir.path().join("resolv.conf");
    std::fs::write(
        &resolv,
        "nameserver 127.0.0.1\noptions timeout:30 attempts:1\n",
    )
    .unwrap();
    let t = T::new();
    t.init();
    for i in 0..4 {
        // TLS on, so that the password may go to a remote name at all.
        t.cmd()
            .args([
                "add",
                "connector",
                "redis",
                "--name",
                &format!("stuck{i}"),
                "--no-test",
            ])
            .args([
                "--set",
                &format!("host=cache{i}.stuck.invalid"),
                "--set",
                "tls=true",
            ])
            .args(["--secret-stdin", "password"])
            .write_stdin("pool-pw")
            .assert()
            .success();
    }
    let started = Instant::now();
    let out = in_dead_dns(
        &t,
        &resolv,
        &["test", "--all", "--json", "--timeout", "2"],
        None,
    );
    let wall = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!(
        "4 probes stuck in name lookups, --timeout 2: wall {} ms",
        wall.as_millis()
    );
    assert!(rows.iter().all(|r| r["result"] == "timeout"), "{rows:?}");
    assert!(
        wall < Duration::from_secs(10),
        "held by the lookups: {wall:?}"
    );
    // The lookups really went to the dead server.
    let mut buf = [0u8; 512];
    dead.set_nonblocking(true).unwrap();
    assert!(
        dead.recv_from(&mut buf).is_ok(),
        "no query reached the dead DNS server"
    );
    // `add` runs one probe: the same bound.
    let started = Instant::now();
    let out = in_dead_dns(
        &t,
        &resolv,
        &[
            "add",
            "connector",
            "redis",
            "--name",
            "one",
            "--timeout",
            "2",
            "--set",
            "host=one.stuck.invalid",
            "--set",
            "tls=true",
            "--secret-stdin",
            "password",
        ],
        Some("pool-pw"),
    );
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
