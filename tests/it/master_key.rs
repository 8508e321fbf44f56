//! Master-key rotation: every config re-encrypted to the new key, the key
//! source switched; a SIGKILL at any step leaves the old key working or the
//! new key saved, reads go on with either key, and the next write completes
//! the run with every value intact. A key from the environment is never
//! handed out on stdout: it goes to a new file before the store switches.

use crate::support::*;
use predicates::str::contains;

fn store_of(t: &T, n: usize) -> Vec<String> {
    let items: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"type":"bearer_token","name":"c/{i:03}","config":{{"token":"tok-{i:03}-'\"$x"}}}}"#))
        .collect();
    t.cmd()
        .args(["import", "-"])
        .write_stdin(format!("[{}]", items.join(",")))
        .assert()
        .success();
    (0..n).map(|i| format!("c/{i:03}")).collect()
}

fn check_all(t: &T, names: &[String]) {
    let vars = t.export_json(names);
    for (i, _) in names.iter().enumerate() {
        assert_eq!(vars[format!("C_{i:03}_TOKEN")], format!("tok-{i:03}-'\"$x"));
    }
}

#[test]
fn rotation_with_an_identity_file_and_25_crash_points() {
    let t = T::bare();
    let keyfile = t.init_with_key_file();
    let names = store_of(&t, 200);
    let old_key = std::fs::read_to_string(&keyfile).unwrap();

    t.cmd()
        .args(["rotate", "--master-key"])
        .assert()
        .success()
        .stderr(contains("200 configs re-encrypted"));
    let new_key = std::fs::read_to_string(&keyfile).unwrap();
    assert_ne!(old_key, new_key);
    check_all(&t, &names);
    // Debian's age opens any config with the new key, not with the old one.
    let old_file = t.dir.path().join("old.key");
    std::fs::write(&old_file, &old_key).unwrap();
    let cfg = t.store.join("configs/c/123.age");
    let ok = std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&keyfile)
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(ok.status.success() && String::from_utf8_lossy(&ok.stdout).contains("tok-123"));
    let no = std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&old_file)
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!no.status.success());
    assert!(
        t.store.join("identity.old.age").exists(),
        "old key retained until --finish"
    );
    t.cmd()
        .args(["rotate", "--master-key", "--finish"])
        .assert()
        .success();
    assert!(!t.store.join("identity.old.age").exists());

    // The journal, the key switch, 20 points inside the re-encryption,
    // then the last file, the old key kept and the header (the random kill
    // test covers more).
    let mut points: Vec<u64> = (0..21).map(|i| 1 + i * 9).collect();
    points.extend([2, 202, 203, 204]);
    for k in points {
        let status = t
            .std_cmd()
            .args(["rotate", "--master-key"])
            .env("AUTHCFG_FAULT_AFTER", k.to_string())
            .status()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        // Every point lies inside the operation (journal, key switch, 200
        // files, old key kept, header = 204 steps): it must really have
        // been cut short.
        assert_eq!(
            status.signal(),
            Some(9),
            "point {k}: not killed: {status:?}"
        );
        assert!(
            t.store.join("admin-journal").exists(),
            "point {k}: no journal left to recover from"
        );
        // Reads go on meanwhile, without completing it (or waiting).
        t.cmd().arg("list").assert().success();
        check_all(&t, &names);
        assert!(
            t.store.join("admin-journal").exists(),
            "point {k}: a read completed the rotation"
        );
        // The next write completes it.
        t.add("bearer", &format!("w/{k}"), &[], Some(("token", "w")))
            .success();
        assert!(
            !t.store.join("admin-journal").exists(),
            "point {k}: journal left"
        );
        check_all(&t, &names);
    }
    t.cmd().args(["log", "--verify"]).assert().success();
    t.cmd().arg("doctor").assert().success();
}

#[test]
fn rotation_with_a_ci_key_hands_out_the_new_one() {
    let t = T::new();
    t.init();
    let names = store_of(&t, 5);
    let out = t.dir.path().join("new.key");
    t.cmd()
        .args(["rotate", "--master-key", "--identity-out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(contains("AUTHCFG_IDENTITY"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The old CI key no longer opens the store; the new one does.
    t.cmd()
        .arg("list")
        .assert()
        .code(5)
        .stderr(contains("not a recipient"));
    let mut t2 = T::bare();
    t2.store = t.store.clone();
    t2.env("AUTHCFG_IDENTITY_FILE", out.to_str().unwrap());
    check_all(&t2, &names);
}

/// How the rotation's standard output is wired: the new key never goes
/// there, so a full, closed or abandoned stdout changes nothing.
#[derive(Clone, Copy, Debug)]
enum Stdout {
    DevFull,
    Closed,
    ClosedPipe,
}

const STDOUTS: [Stdout; 3] = [Stdout::DevFull, Stdout::Closed, Stdout::ClosedPipe];

/// Runs `authcfg ARGS` in `t`'s environment (plus `env`) with stdout wired
/// as `how`; returns the exit status.
fn run_with_stdout(
    t: &T,
    args: &[&str],
    env: &[(&str, &str)],
    how: Stdout,
) -> std::process::Output {
    use std::process::Stdio;
    let mut c = match how {
        // `>&-`: the shell closes fd 1 and execs authcfg.
        Stdout::Closed => {
            let mut c = std::process::Command::new("sh");
            c.arg("-c").arg(r#"exec "$0" "$@" >&-"#).arg(BIN);
            c
        }
        _ => std::process::Command::new(BIN),
    };
    t.apply(&mut c);
    c.args(args).stdin(Stdio::null()).stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    match how {
        Stdout::DevFull => {
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap();
            c.stdout(Stdio::from(full));
        }
        Stdout::Closed => {}
        Stdout::ClosedPipe => {
            c.stdout(Stdio::piped());
        }
    }
    let mut child = c.spawn().unwrap();
    // The reader goes away before authcfg writes anything.
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

fn key_of(file: &std::path::Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let key = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap_or_else(|| panic!("{} holds no key: {text:?}", file.display()));
    key.to_string()
}

/// `t` with another AUTHCFG_IDENTITY.
fn with_key(t: &T, key: &str) -> T {
    let mut o = T::bare();
    o.store = t.store.clone();
    o.home = t.home.clone();
    o.identity = Some(key.to_string());
    o.extra_env = t.extra_env.clone();
    o
}

/// Every read a CI job does: list, show, export of every config.
fn reads_succeed(t: &T, names: &[String], what: &str) {
    for args in [vec!["list"], vec!["show", names[0].as_str()]] {
        let o = t.cmd().args(&args).output().unwrap();
        assert!(
            o.status.success(),
            "{what}: {args:?}: {:?}: {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
    }
    check_all(t, names);
}

#[test]
fn a_ci_key_rotation_without_a_place_for_the_new_key_is_refused() {
    let t = T::new();
    t.init();
    let names = store_of(&t, 3);
    let before = t.snapshot();
    for how in STDOUTS {
        let o = run_with_stdout(&t, &["rotate", "--master-key"], &[], how);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{how:?}: {err}");
        assert!(
            err.contains("--identity-out FILE") && err.contains("nothing was changed"),
            "{how:?}: {err}"
        );
        assert_eq!(t.snapshot(), before, "{how:?}: the store changed");
    }
    // An existing file is never replaced (it may hold a key in use).
    let taken = t.dir.path().join("taken.key");
    std::fs::write(&taken, "keep me").unwrap();
    t.cmd()
        .args(["rotate", "--master-key", "--identity-out"])
        .arg(&taken)
        .assert()
        .code(2)
        .stderr(contains("already exists"));
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "keep me");
    assert_eq!(t.snapshot(), before);
    reads_succeed(&t, &names, "old key");
    // With a place for it, a full, closed or abandoned stdout is no matter.
    let mut t = t;
    for how in STDOUTS {
        let out = t.dir.path().join(format!("{how:?}.key"));
        let o = run_with_stdout(
            &t,
            &[
                "rotate",
                "--master-key",
                "--identity-out",
                out.to_str().unwrap(),
            ],
            &[],
            how,
        );
        assert!(
            o.status.success(),
            "{how:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let old = t.identity.clone().unwrap();
        t.identity = Some(key_of(&out));
        reads_succeed(&t, &names, &format!("{how:?}: new key"));
        with_key(&t, &old).cmd().arg("list").assert().code(5);
    }
}

/// Which reads of `reads_succeed` fail (empty: all succeed).
fn failing_reads(t: &T, names: &[String]) -> Vec<String> {
    let mut bad = vec![];
    let export: Vec<&str> = names.iter().map(String::as_str).collect();
    for args in [
        vec!["list"],
        vec!["show", names[0].as_str()],
        [vec!["export", "--format", "json"], export].concat(),
    ] {
        let o = t.cmd().args(&args).output().unwrap();
        if !o.status.success() {
            bad.push(format!(
                "{} exit {:?}: {}",
                args[0],
                o.status.code(),
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .next()
                    .unwrap_or("")
            ));
        }
    }
    bad
}

/// SIGKILL after every step of a rotation whose key comes from
/// AUTHCFG_IDENTITY, with stdout full, closed or abandoned: at every point
/// either the old key still opens the store or the new key is in the file
/// given; reads succeed with the old key and (once it is saved) with the
/// new one; the next write, with either key, completes the rotation.
/// Problems are counted over every point, then reported together.
#[test]
fn a_ci_key_rotation_killed_at_every_step_keeps_a_key_that_opens_the_store() {
    use std::os::unix::process::ExitStatusExt;
    let configs = 4;
    // --identity-out, journal, key source, each config, old key kept, header.
    let steps = 1 + 1 + 1 + configs as u64 + 1 + 1;
    let mut problems: Vec<String> = vec![];
    let (mut killed_n, mut lost, mut blocked) = (0, 0, 0);
    for k in 1..=steps + 1 {
        let t = T::new();
        t.init();
        let names = store_of(&t, configs);
        let old = t.identity.clone().unwrap();
        let out = t.dir.path().join("new.key");
        let how = STDOUTS[k as usize % 3];
        let o = run_with_stdout(
            &t,
            &[
                "rotate",
                "--master-key",
                "--identity-out",
                out.to_str().unwrap(),
            ],
            &[("AUTHCFG_FAULT_AFTER", &k.to_string())],
            how,
        );
        let killed = o.status.signal() == Some(9);
        if killed {
            killed_n += 1;
        }
        if killed != (k <= steps) {
            problems.push(format!(
                "point {k} ({how:?}): {:?}: {}",
                o.status,
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        let journal = t.store.join("admin-journal").exists();
        let new = out.exists().then(|| key_of(&out));
        // Does any key the user has still open the store?
        let old_reads = failing_reads(&t, &names);
        let new_reads = new
            .as_deref()
            .map(|n| failing_reads(&with_key(&t, n), &names));
        let some_key_works =
            old_reads.is_empty() || new_reads.as_ref().is_some_and(|r| r.is_empty());
        if !some_key_works {
            lost += 1;
            problems.push(format!(
                "point {k}: no key the user has opens the store: {old_reads:?}"
            ));
            continue;
        }
        if killed {
            // The key the job has keeps working, and so does the new one
            // once the store depends on it (it must be saved by then).
            if !old_reads.is_empty() {
                blocked += 1;
                problems.push(format!("point {k}: reads with the old key: {old_reads:?}"));
            }
            if journal {
                match &new_reads {
                    Some(r) if r.is_empty() => {}
                    Some(r) => problems.push(format!("point {k}: reads with the new key: {r:?}")),
                    None => {
                        problems.push(format!("point {k}: rotation under way, new key nowhere"))
                    }
                }
            }
            if t.store.join("admin-journal").exists() != journal {
                problems.push(format!("point {k}: a read changed the rotation's state"));
            }
        }
        if journal {
            let Some(new) = new.as_deref() else { continue };
            // The next write, with either key, completes the rotation.
            let writer = if k % 2 == 0 {
                with_key(&t, &old)
            } else {
                with_key(&t, new)
            };
            let a = writer.add("bearer", "after", &[], Some(("token", "a")));
            let w = a.get_output();
            if !w.status.success() || t.store.join("admin-journal").exists() {
                problems.push(format!(
                    "point {k}: the next write did not complete the rotation: {}",
                    String::from_utf8_lossy(&w.stderr)
                ));
            }
        }
        match &new {
            Some(new) if journal || !killed => {
                let r = failing_reads(&with_key(&t, new), &names);
                if !r.is_empty() {
                    problems.push(format!("point {k}: after, new key: {r:?}"));
                }
                if with_key(&t, &old)
                    .cmd()
                    .arg("list")
                    .output()
                    .unwrap()
                    .status
                    .code()
                    != Some(5)
                {
                    problems.push(format!(
                        "point {k}: after, the old key still opens the store"
                    ));
                }
            }
            _ => {
                let r = failing_reads(&t, &names);
                if !r.is_empty() {
                    problems.push(format!("point {k}: after, old key: {r:?}"));
                }
            }
        }
    }
    eprintln!(
        "CI-key rotation: {} points, {killed_n} killed: no key the user has opens the store at {lost}, reads with the old key refused at {blocked}, {} problems",
        steps + 1,
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A rotation held still half way (lock held, half the configs under the
/// new key): reads with the old key and with the new one answer at once,
/// without waiting for the lock (a one-second lock timeout would fail
/// them), and leave the rotation to its process.
#[test]
fn reads_do_not_wait_for_a_running_rotation() {
    let mut t = T::new();
    t.init();
    let names = store_of(&t, 6);
    let old = t.identity.clone().unwrap();
    let out = t.dir.path().join("new.key");
    let held = t.dir.path().join("held");
    // Steps: --identity-out 1, journal 2, key source 3, configs 4..9.
    let mut rotation = t
        .std_cmd()
        .args(["rotate", "--master-key", "--identity-out"])
        .arg(&out)
        .env("AUTHCFG_FAULT_HOLD", format!("6:{}", held.display()))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !held.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the rotation never got going"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    t.env("AUTHCFG_LOCK_TIMEOUT", "1");
    let new = key_of(&out);
    reads_succeed(&t, &names, "old key, rotation running");
    reads_succeed(&with_key(&t, &new), &names, "new key, rotation running");
    std::fs::remove_file(&held).unwrap();
    assert!(rotation.wait().unwrap().success());
    assert!(!t.store.join("admin-journal").exists());
    reads_succeed(&with_key(&t, &new), &names, "new key, after");
    with_key(&t, &old).cmd().arg("list").assert().code(5);
}

/// A passphrase-sealed key (`identity.age`): re-sealed and read back right
/// after the journal, before any config depends on the new key. Killed
/// after the journal (the file still holds the old key) or after the
/// re-seal (it holds the new one): the passphrase opens the store and every
/// read works; the next write completes the rotation. (Each command pays
/// for scrypt: two points.)
#[test]
fn a_passphrase_sealed_key_rotation_killed_after_each_key_step() {
    use std::os::unix::process::ExitStatusExt;
    let mut t = T::bare();
    t.env("AUTHCFG_PASSPHRASE", "correct horse battery staple");
    t.cmd().args(["init", "--passphrase"]).assert().success();
    let names = store_of(&t, 3);
    // Steps: journal 1, identity.age 2, configs 3..5, old key 6, header 7.
    for k in [1, 2] {
        let sealed = std::fs::read(t.store.join("identity.age")).unwrap();
        let st = t
            .std_cmd()
            .args(["rotate", "--master-key"])
            .env("AUTHCFG_FAULT_AFTER", k.to_string())
            .status()
            .unwrap();
        assert_eq!(st.signal(), Some(9), "point {k}");
        let resealed = std::fs::read(t.store.join("identity.age")).unwrap() != sealed;
        assert_eq!(resealed, k >= 2, "point {k}: identity.age");
        reads_succeed(&t, &names, &format!("point {k}"));
        assert!(t.store.join("admin-journal").exists(), "point {k}");
        t.add("bearer", &format!("w/{k}"), &[], Some(("token", "w")))
            .success();
        assert!(!t.store.join("admin-journal").exists(), "point {k}");
        reads_succeed(&t, &names, &format!("point {k}: after"));
    }
}
