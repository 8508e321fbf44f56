//! `test --all` runs probes on one runtime with at most `--jobs` at a time,
//! and `--timeout` bounds each probe as a whole: a name lookup that hangs
//! (getaddrinfo held by a preloaded shim, as a dead resolver would) does not
//! hold the command.

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

const SHIM: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>
/* A resolver that never answers for *.stuck.invalid. */
int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res) {
    static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    if (!real) real = dlsym(RTLD_NEXT, "getaddrinfo");
    if (node && strstr(node, ".stuck.invalid")) sleep(120);
    return real(node, service, hints, res);
}
"#;

#[test]
fn a_stuck_name_lookup_does_not_hold_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("stuck.c");
    let lib = dir.path().join("stuck.so");
    std::fs::write(&src, SHIM).unwrap();
    let ok = std::process::Command::new("gcc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .arg("-ldl")
        .status()
        .expect("gcc");
    assert!(ok.success());
    let mut t = T::new();
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
    t.env("LD_PRELOAD", &lib.display().to_string());
    let (wall, rows) = run_all(&t, &["--timeout", "2"]);
    eprintln!(
        "4 probes stuck in getaddrinfo, --timeout 2: wall {} ms",
        wall.as_millis()
    );
    assert!(rows.iter().all(|r| r["result"] == "timeout"), "{rows:?}");
    assert!(
        wall < Duration::from_secs(10),
        "held by the lookups: {wall:?}"
    );
    // `add` runs one probe: the same bound.
    let started = Instant::now();
    let out = t
        .cmd()
        .args([
            "add",
            "connector",
            "redis",
            "--name",
            "one",
            "--timeout",
            "2",
        ])
        .args(["--set", "host=one.stuck.invalid", "--set", "tls=true"])
        .args(["--secret-stdin", "password"])
        .write_stdin("pool-pw")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
