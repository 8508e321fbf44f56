//! Recipients: a teammate's or CI key added to the store reads every config
//! with its own identity alone; removed, it reads none of the re-encrypted
//! files; SIGKILL at 25 points of add/remove always recovers.

use crate::support::*;
use predicates::str::contains;

/// The fingerprint of the store's admin key, as the admin sees it.
pub fn admin_fingerprint(t: &T) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&t.stdout(&["recipients", "list", "--json"])).unwrap();
    v["admin_key"].as_str().unwrap().to_string()
}

/// A teammate using the same store with its own key, having trusted the
/// admin key's fingerprint (as told by the admin).
fn teammate_view(t: &T, key: &str) -> T {
    let mut v = T::bare();
    v.store = t.store.clone();
    v.env("AUTHCFG_IDENTITY", key);
    v.env("AUTHCFG_TRUST_ADMIN", &admin_fingerprint(t));
    v
}

#[test]
fn teammate_reads_with_its_own_key_until_removed() {
    let t = T::new();
    t.init();
    t.add("bearer", "before", &[], Some(("token", "tok-before")))
        .success();
    let (mate_secret, mate_public) = new_identity();
    t.cmd()
        .args(["recipients", "add", &mate_public, "--label", "alice"])
        .assert()
        .success();
    assert!(t.stdout(&["recipients", "list"]).contains("alice"));
    t.add("bearer", "after", &[], Some(("token", "tok-after")))
        .success();
    // The teammate has not trusted the admin key yet: refused, told how.
    let mut mate = T::bare();
    mate.store = t.store.clone();
    mate.env("AUTHCFG_IDENTITY", &mate_secret);
    let fp = admin_fingerprint(&t);
    mate.cmd()
        .args(["show", "after"])
        .assert()
        .code(5)
        .stderr(contains(format!("authcfg trust {fp}")));
    // A wrong fingerprint is not trusted.
    mate.cmd()
        .args([
            "trust",
            "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ])
        .assert()
        .code(5);
    mate.cmd().args(["trust", &fp]).assert().success();
    // With the admin key pinned, a trust setting naming another key is
    // still checked, and refused (docs/SECURITY.md, "Members").
    mate.env(
        "AUTHCFG_TRUST_ADMIN",
        "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    mate.cmd()
        .args(["show", "after"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("not the one you trusted"));
    mate.env("AUTHCFG_TRUST_ADMIN", &fp);
    assert!(mate
        .stdout(&["show", "after", "--reveal"])
        .contains("tok-after"));
    assert!(
        mate.stdout(&["show", "before", "--reveal"])
            .contains("tok-before"),
        "existing configs re-encrypted"
    );
    // Debian's age agrees.
    let keyfile = t.dir.path().join("mate.key");
    std::fs::write(&keyfile, &mate_secret).unwrap();
    let age = |file: &str| {
        std::process::Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&keyfile)
            .arg(t.store.join(file))
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(age("configs/after.age"));

    t.cmd()
        .args(["recipients", "remove", "alice"])
        .assert()
        .success();
    t.add("bearer", "later", &[], Some(("token", "tok-later")))
        .success();
    mate.cmd()
        .args(["show", "later"])
        .assert()
        .code(5)
        .stderr(contains("not a recipient"));
    assert!(
        !age("configs/later.age"),
        "new files are not for the removed key"
    );
    assert!(
        !age("configs/before.age"),
        "re-encrypted files are not either"
    );
    t.cmd()
        .args(["recipients", "remove", "master"])
        .assert()
        .code(2);
    t.cmd()
        .args(["recipients", "add", "not-a-key", "--label", "x"])
        .assert()
        .code(2)
        .stderr(contains("age1"));
}

#[test]
fn add_and_remove_survive_25_kill_points() {
    let t = T::new();
    t.init();
    let items: Vec<String> = (0..200)
        .map(|i| {
            format!(r#"{{"type":"bearer_token","name":"r/{i:03}","config":{{"token":"v{i}"}}}}"#)
        })
        .collect();
    t.cmd()
        .args(["import", "-"])
        .write_stdin(format!("[{}]", items.join(",")))
        .assert()
        .success();
    let names: Vec<String> = (0..200).map(|i| format!("r/{i:03}")).collect();
    let (mate_secret, mate_public) = new_identity();
    let mate = teammate_view(&t, &mate_secret);
    let check = |who: &T| {
        let v = who.export_json(&names);
        for i in 0..200 {
            assert_eq!(v[format!("R_{i:03}_TOKEN")], format!("v{i}"));
        }
    };
    for (n, k) in (0..25).map(|i| 1 + i * 8).enumerate() {
        let adding = n % 2 == 0;
        let mut c = t.std_cmd();
        if adding {
            c.args(["recipients", "add", &mate_public, "--label", "mate"]);
        } else {
            c.args(["recipients", "remove", "mate"]);
        }
        let out = c
            .env("AUTHCFG_FAULT_AFTER", k.to_string())
            .output()
            .unwrap();
        let status = out.status;
        use std::os::unix::process::ExitStatusExt;
        // Every point lies inside the operation (1 journal + 200 files).
        assert_eq!(
            status.signal(),
            Some(9),
            "point {k}: not killed: {status:?}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            t.store.join("admin-journal").exists(),
            "point {k}: no journal left"
        );
        t.cmd().arg("list").assert().success();
        assert!(!t.store.join("admin-journal").exists());
        check(&t);
        if adding {
            check(&mate);
        } else {
            mate.cmd().arg("list").assert().code(5);
        }
    }
}

#[test]
fn group_configs_are_readable_only_by_their_group() {
    let t = T::new();
    t.init();
    let (admin_secret, admin_public) = new_identity();
    let (dev_secret, dev_public) = new_identity();
    let (ci_secret, ci_public) = new_identity();
    t.cmd()
        .args([
            "recipients",
            "add",
            &admin_public,
            "--label",
            "alice",
            "--group",
            "admins",
        ])
        .assert()
        .success();
    t.cmd()
        .args(["recipients", "add", &dev_public, "--label", "bob"])
        .assert()
        .success();
    t.cmd()
        .args([
            "recipients",
            "add",
            &ci_public,
            "--label",
            "ci-prod",
            "--group",
            "admins",
        ])
        .assert()
        .success();
    t.cmd()
        .args([
            "add",
            "custom",
            "basic",
            "--name",
            "prod/db",
            "--group",
            "admins",
            "--set",
            "username=root",
            "--secret-stdin",
            "password",
        ])
        .write_stdin("prod-planted-pw")
        .assert()
        .success();
    t.add("bearer", "dev/api", &[], Some(("token", "dev-token")))
        .success();
    let admin = teammate_view(&t, &admin_secret);
    let dev = teammate_view(&t, &dev_secret);
    let ci = teammate_view(&t, &ci_secret);
    assert!(admin
        .stdout(&["show", "prod/db", "--reveal"])
        .contains("prod-planted-pw"));
    assert!(
        ci.stdout(&["export", "prod/db"])
            .contains("prod-planted-pw"),
        "a CI job reads with only its own key"
    );
    dev.cmd()
        .args(["show", "prod/db"])
        .assert()
        .code(5)
        .stderr(contains("readable only by the group 'admins'"))
        .stderr(contains("recipients add"));
    assert!(dev
        .stdout(&["show", "dev/api", "--reveal"])
        .contains("dev-token"));
    assert!(
        dev.stdout(&["list"]).contains("prod/db"),
        "names stay listable"
    );
    t.cmd()
        .arg("doctor")
        .assert()
        .success()
        .stdout(contains("prod/db (group admins) not readable by bob"));
    // Re-encryption keeps the group; ungrouping opens it to everyone.
    t.cmd()
        .args(["rotate", "--master-key", "--identity-out"])
        .arg(t.dir.path().join("k"))
        .assert()
        .success();
    let mut t = t;
    t.env(
        "AUTHCFG_IDENTITY",
        std::fs::read_to_string(t.dir.path().join("k"))
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    );
    dev.cmd().args(["show", "prod/db"]).assert().code(5);
    t.cmd()
        .args(["edit", "prod/db", "--no-group"])
        .assert()
        .success();
    assert!(dev
        .stdout(&["show", "prod/db", "--reveal"])
        .contains("prod-planted-pw"));
    t.cmd()
        .args(["edit", "prod/db", "--group", "bad group"])
        .assert()
        .code(2);
}
