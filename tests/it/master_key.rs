//! Master-key rotation: every config re-encrypted to the new key, the key
//! source switched, and a SIGKILL at 50 points of the operation always
//! recovered by the next command with every value intact.

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
    let keyfile = t.dir.path().join("master.key");
    t.cmd()
        .args(["init", "--identity-file"])
        .arg(&keyfile)
        .assert()
        .success();
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

    // 21 points inside the re-encryption, then the last file, the key
    // switch and the header (the random kill test covers more).
    let mut points: Vec<u64> = (0..21).map(|i| 1 + i * 9).collect();
    points.extend([199, 201, 202, 203]);
    for k in points {
        let status = t
            .std_cmd()
            .args(["rotate", "--master-key"])
            .env("AUTHCFG_FAULT_AFTER", k.to_string())
            .status()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        // Every point lies inside the operation (1 journal + 200 files + key
        // switch + header = 203 steps): it must really have been cut short.
        assert_eq!(
            status.signal(),
            Some(9),
            "point {k}: not killed: {status:?}"
        );
        assert!(
            t.store.join("admin-journal").exists(),
            "point {k}: no journal left to recover from"
        );
        // The next command completes the rotation.
        t.cmd().arg("list").assert().success();
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
