//! The defects a reliability probe found in format 1 (kills, races, hostile
//! input, loose file modes), each as a test that failed on fae365b.

use crate::support::*;
use predicates::prelude::*;
use predicates::str::contains;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;

fn records(t: &T) -> Vec<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(&t.stdout(&["log", "--json"]))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn the_audit_trail_is_keyed_and_its_tail_is_anchored() {
    let t = T::new();
    t.init();
    for i in 0..4 {
        t.add("bearer", &format!("c{i}"), &[], Some(("token", "x")))
            .success();
    }
    let trail = t.store.join("audit.jsonl");
    let head = t.store.join("audit.head");
    let head_after_4 = std::fs::read(&head).unwrap();
    t.add("bearer", "c4", &[], Some(("token", "x"))).success();
    t.cmd().args(["log", "--verify"]).assert().success();
    let head_now = std::fs::read(&head).unwrap();
    let original = std::fs::read_to_string(&trail).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let write = |ls: &[String]| {
        std::fs::write(
            &trail,
            ls.iter().map(|l| format!("{l}\n")).collect::<String>(),
        )
        .unwrap()
    };
    let owned: Vec<String> = lines.iter().map(|s| s.to_string()).collect();

    // Delete a record and relink the chain around it (what recomputing an
    // unkeyed chain did): the MACs give it away.
    let mut v: Vec<serde_json::Value> = owned
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let removed = v.remove(2);
    v[2]["prev"] = removed["prev"].clone();
    for (i, r) in v.iter_mut().enumerate() {
        r["seq"] = serde_json::json!(i + 1);
    }
    write(&v.iter().map(|r| r.to_string()).collect::<Vec<_>>());
    t.verify_fails("MAC does not match");

    // Edit one field.
    write(
        &owned
            .iter()
            .map(|l| l.replace("\"c1\"", "\"cX\""))
            .collect::<Vec<_>>(),
    );
    t.verify_fails("MAC does not match");

    // Reorder two records.
    let mut re = owned.clone();
    re.swap(2, 3);
    write(&re);
    t.verify_fails("does not follow");

    // Cut the tail: audit.head knows the last record.
    write(&owned[..owned.len() - 1]);
    t.verify_fails("cut off");
    // Cut it and put back an older audit.head: the index head still knows
    // the last write's record.
    std::fs::write(&head, &head_after_4).unwrap();
    t.verify_fails("not there");
    // Cut it and delete the head.
    std::fs::remove_file(&head).unwrap();
    t.verify_fails("audit.head is missing");
    write(&owned);
    std::fs::write(&head, &head_now).unwrap();
    std::fs::set_permissions(&head, std::fs::Permissions::from_mode(0o600)).unwrap();
    t.cmd().args(["log", "--verify"]).assert().success();
}

#[test]
fn store_files_with_loose_modes_or_symlinks_are_refused() {
    let t = T::new();
    t.init();
    t.add("bearer", "a", &[], Some(("token", "tok-a-77")))
        .success();
    // A journal (the intent of a write) readable by others.
    let j = t.store.join("journal");
    std::fs::write(&j, "#mac:00\n{}").unwrap();
    std::fs::set_permissions(&j, std::fs::Permissions::from_mode(0o644)).unwrap();
    t.add("bearer", "b", &[], Some(("token", "x")))
        .code(1)
        .stderr(contains("mode 644"))
        .stderr(contains("chmod 600"));
    std::fs::remove_file(&j).unwrap();
    // A symlinked audit trail: nothing is appended outside the store.
    let outside = t.dir.path().join("outside.log");
    std::fs::write(&outside, "untouched\n").unwrap();
    let trail = t.store.join("audit.jsonl");
    std::fs::remove_file(&trail).unwrap();
    std::os::unix::fs::symlink(&outside, &trail).unwrap();
    t.add("bearer", "c", &[], Some(("token", "x")))
        .code(1)
        .stderr(contains("symbolic link"));
    let _ = t.cmd().args(["export", "a"]).output().unwrap();
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "untouched\n");
    std::fs::remove_file(&trail).unwrap();
    // A symlinked config (pointing at a file the attacker controls).
    let cfg = t.store.join("configs/a.age");
    let copy = t.dir.path().join("a.age");
    std::fs::copy(&cfg, &copy).unwrap();
    std::fs::remove_file(&cfg).unwrap();
    std::os::unix::fs::symlink(&copy, &cfg).unwrap();
    t.cmd()
        .args(["export", "a"])
        .assert()
        .code(1)
        .stderr(contains("symbolic link"))
        .stdout(contains("tok-a-77").not());
    // A store directory group-readable.
    std::fs::set_permissions(&t.store, std::fs::Permissions::from_mode(0o750)).unwrap();
    t.cmd()
        .arg("list")
        .assert()
        .code(1)
        .stderr(contains("chmod 700"));
}

#[test]
fn values_are_never_echoed_and_new_files_are_private() {
    let t = T::new();
    t.init();
    let o = t
        .cmd()
        .args([
            "add",
            "custom",
            "basic",
            "--name",
            "x",
            "--set",
            "Sup3r-Secret-Pasted",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_clean("error", &o.stderr, &["Sup3r-Secret-Pasted"]);
    t.add("bearer", "gh", &[], Some(("token", "tok-gh-planted")))
        .success();
    let ghenv = t.dir.path().join("github_env");
    t.cmd()
        .args(["export", "gh", "--format", "github"])
        .env("GITHUB_ENV", &ghenv)
        .assert()
        .success();
    assert_eq!(
        std::fs::metadata(&ghenv).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn names_that_look_like_other_names_are_refused() {
    let t = T::new();
    t.init();
    for bad in [
        "pay\u{200B}pal",
        "evil\u{202E}gpj.exe",
        "-rf",
        "x.age/y",
        "\u{FEFF}bom",
    ] {
        t.add("bearer", bad, &[], Some(("token", "x"))).code(2);
    }
    t.add("bearer", "caf\u{e9}", &[], Some(("token", "nfc")))
        .success();
    // The NFD spelling is the same name.
    t.add("bearer", "cafe\u{301}", &[], Some(("token", "nfd")))
        .code(2)
        .stderr(contains("already exists"));
    assert!(t.stdout(&["export", "cafe\u{301}"]).contains("nfc"));
}

#[test]
fn import_racing_add_never_overwrites() {
    let t = T::new();
    t.init();
    for trial in 0..25 {
        let name = format!("race{trial}");
        let file = t.dir.path().join(format!("imp{trial}.json"));
        std::fs::write(
            &file,
            format!(
                r#"[{{"type":"bearer_token","name":"{name}","config":{{"token":"from-import"}}}}]"#
            ),
        )
        .unwrap();
        let mut add = t.std_cmd();
        add.args([
            "add",
            "custom",
            "bearer",
            "--name",
            &name,
            "--secret-stdin",
            "token",
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
        let mut a = add.spawn().unwrap();
        let mut i = t
            .std_cmd()
            .arg("import")
            .arg(&file)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        a.stdin.take().unwrap().write_all(b"from-add").unwrap();
        let (sa, si) = (a.wait().unwrap(), i.wait().unwrap());
        assert!(
            sa.success() != si.success(),
            "trial {trial}: exactly one may create '{name}' ({sa:?}, {si:?})"
        );
        let v = t.export_json(std::slice::from_ref(&name));
        let want = if sa.success() {
            "from-add"
        } else {
            "from-import"
        };
        assert_eq!(v[format!("RACE{trial}_TOKEN")], want, "trial {trial}");
    }
}

fn import_file(t: &T, n: usize, prefix: &str) -> std::path::PathBuf {
    let items: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"type":"bearer_token","name":"{prefix}/{i:02}","config":{{"token":"t{i}"}}}}"#
            )
        })
        .collect();
    let f = t.dir.path().join(format!("{prefix}.json"));
    std::fs::write(&f, format!("[{}]", items.join(","))).unwrap();
    f
}

#[test]
fn import_is_all_or_nothing_under_kill() {
    let t = T::new();
    t.init();
    // Fault points of a 50-config import: staged files flushed (1), the
    // commit (2), the first moves (3), the audit records (4).
    for (k, committed) in [(1u64, false), (2, true), (3, true), (4, true)] {
        let prefix = format!("k{k}");
        let f = import_file(&t, 50, &prefix);
        let st = t
            .std_cmd()
            .arg("import")
            .arg(&f)
            .env("AUTHCFG_FAULT_AFTER", k.to_string())
            .status()
            .unwrap();
        assert_eq!(st.signal(), Some(9), "point {k} killed");
        let list: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
        let n = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["name"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{prefix}/"))
            })
            .count();
        assert_eq!(n, if committed { 50 } else { 0 }, "point {k}");
        let audited = records(&t)
            .iter()
            .filter(|r| {
                r["action"] == "import"
                    && r["config"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with(&format!("{prefix}/"))
            })
            .count();
        assert_eq!(
            audited, n,
            "point {k}: one record per imported config, or none"
        );
        if !committed {
            t.cmd().arg("import").arg(&f).assert().success();
        }
        assert!(!t.store.join("journal").exists());
        assert!(!t
            .store
            .join("staging")
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(false));
    }
    // A bad entry after a good one stores nothing.
    t.cmd()
        .args(["import", "-"])
        .write_stdin(r#"[{"type":"bearer_token","name":"ok1","config":{"token":"x"}},{"type":"bearer_token","name":"a.age/x","config":{"token":"y"}}]"#)
        .assert()
        .code(2);
    t.cmd().args(["show", "ok1"]).assert().code(3);
    assert!(!t.store.join("journal").exists());
    t.cmd().args(["log", "--verify"]).assert().success();
}

#[test]
fn a_kill_right_after_the_save_keeps_its_audit_record() {
    let t = T::new();
    t.init();
    // Points of `add`: journal (1), the config file (2), the audit record (3), the index (4).
    for k in 1..=4u64 {
        let name = format!("k{k}");
        let st = t
            .cmd()
            .args([
                "add",
                "custom",
                "bearer",
                "--name",
                &name,
                "--secret-stdin",
                "token",
            ])
            .env("AUTHCFG_FAULT_AFTER", k.to_string())
            .write_stdin("tok")
            .output()
            .unwrap()
            .status;
        assert_eq!(st.signal(), Some(9));
        // The next writer (here `list`, which completes interrupted writes)
        // finishes or drops the change.
        t.cmd().arg("list").assert().success();
        assert!(!t.store.join("journal").exists());
        let saved = t
            .cmd()
            .args(["show", &name])
            .output()
            .unwrap()
            .status
            .success();
        assert_eq!(saved, k >= 2, "point {k}");
        let audited = records(&t)
            .iter()
            .any(|r| r["action"] == "add" && r["config"] == name.as_str());
        assert_eq!(
            audited, saved,
            "point {k}: a saved change has its record, an unsaved one none"
        );
        let leftovers: Vec<_> = t
            .store_files()
            .into_iter()
            .filter(|(p, _)| p.to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
    t.cmd().args(["log", "--verify"]).assert().success();
}

#[test]
fn damaged_files_and_a_missing_index_are_survived() {
    let t = T::new();
    t.init();
    t.add("bearer", "good", &[], Some(("token", "x"))).success();
    t.add("bearer", "bad", &[], Some(("token", "y"))).success();
    // One changed character in the age header, and no index at all.
    let bad = t.store.join("configs/bad.age");
    let mut bytes = std::fs::read(&bad).unwrap();
    bytes[30] ^= 0x01;
    std::fs::write(&bad, bytes).unwrap();
    std::fs::remove_dir_all(t.store.join("index")).unwrap();
    t.cmd()
        .arg("list")
        .assert()
        .success()
        .stdout(contains("good"));
    t.add("bearer", "new", &[], Some(("token", "z"))).success();
    t.cmd()
        .args(["edit", "good", "--set", "prefix=Token "])
        .assert()
        .success();
    t.cmd()
        .arg("doctor")
        .assert()
        .code(1)
        .stdout(contains("bad.age"));
    t.cmd().args(["remove", "bad", "--yes"]).assert().success();
    t.cmd().arg("doctor").assert().success();
}

#[test]
fn a_stale_index_shard_is_rebuilt_from_the_configs() {
    let t = T::new();
    t.init();
    t.add("bearer", "keep", &[], Some(("token", "x"))).success();
    let shards = |t: &T| -> Vec<(std::path::PathBuf, Vec<u8>)> {
        t.store_files()
            .into_iter()
            .filter(|(p, _)| p.parent() == Some(&t.store.join("index")) && !p.ends_with("head"))
            .collect()
    };
    t.add("bearer", "gone", &[], Some(("token", "y"))).success();
    let old = shards(&t);
    t.cmd().args(["remove", "gone", "--yes"]).assert().success();
    // Put the old shards back: the removed config must not come back.
    for (p, b) in &old {
        std::fs::write(p, b).unwrap();
    }
    let list = t.stdout(&["list", "--json"]);
    assert!(list.contains("keep") && !list.contains("gone"), "{list}");
}

#[test]
fn inject_refuses_an_unterminated_reference() {
    let t = T::new();
    t.init();
    t.add("bearer", "a", &[], Some(("token", "x"))).success();
    let out = t.dir.path().join("out.txt");
    t.cmd()
        .args(["inject", "-i", "-", "-o"])
        .arg(&out)
        .write_stdin("ok {{ authcfg://a/token }}\nbroken {{ authcfg://a/token\n")
        .assert()
        .code(2)
        .stderr(contains("line 2"));
    assert!(!out.exists());
}

#[test]
fn init_refuses_a_directory_in_use() {
    let t = T::new();
    std::fs::create_dir_all(&t.store).unwrap();
    std::fs::write(t.store.join("notes.txt"), "mine").unwrap();
    std::fs::set_permissions(&t.store, std::fs::Permissions::from_mode(0o755)).unwrap();
    t.cmd()
        .arg("init")
        .assert()
        .code(2)
        .stderr(contains("not empty"));
    assert_eq!(
        std::fs::metadata(&t.store).unwrap().permissions().mode() & 0o777,
        0o755
    );
}

#[test]
fn a_format1_store_is_upgraded_in_place() {
    let t = T::bare();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v1");
    copy_dir(&src, &t.store);
    let key = |f: &str| {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(f),
        )
        .unwrap()
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY"))
        .unwrap()
        .to_string()
    };
    let mut alice = T::bare();
    alice.store = t.store.clone();
    alice.env("AUTHCFG_IDENTITY", &key("store-v1-alice.key"));
    // A member cannot upgrade: only the master key signs the new header.
    alice
        .cmd()
        .arg("list")
        .assert()
        .code(5)
        .stderr(contains("upgraded by its admin"));
    let mut owner = T::bare();
    owner.store = t.store.clone();
    owner.env("AUTHCFG_IDENTITY", &key("store-v1-master.key"));
    owner
        .cmd()
        .arg("list")
        .assert()
        .success()
        .stderr(contains("upgrading the store to format 2"))
        .stderr(contains("alice"));
    let v = owner.export_json(&["stripe".into(), "legacy".into(), "prod/db".into()]);
    assert_eq!(v["STRIPE_API_KEY"], "sk_live_fixture_4242");
    assert_eq!(v["LEGACY_PASSWORD"], "fixture-pw-legacy");
    assert_eq!(v["PGPASSWORD"], "fixture-pg-pass");
    owner.cmd().args(["log", "--verify"]).assert().success();
    assert!(t.store.join("audit.v1.jsonl").exists());
    assert!(!t.store.join("index.age").exists());
    // alice, in group admins, reads the group config after trusting the admin key.
    let fp: serde_json::Value =
        serde_json::from_str(&owner.stdout(&["recipients", "list", "--json"])).unwrap();
    alice.env("AUTHCFG_TRUST_ADMIN", fp["admin_key"].as_str().unwrap());
    assert!(alice
        .stdout(&["export", "prod/db"])
        .contains("fixture-pg-pass"));
}
