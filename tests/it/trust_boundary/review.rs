use super::*;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;

/// Kills `args` right after it wrote its admin journal, keeps a copy of
/// the journal, and lets the next command complete the change.
fn journal_of(t: &T, args: &[&str]) -> Vec<u8> {
    let st = t
        .cmd()
        .args(args)
        .env("AUTHCFG_FAULT_AFTER", "1")
        .output()
        .unwrap()
        .status;
    assert_eq!(st.signal(), Some(9), "{args:?} killed after its journal");
    let copy = std::fs::read(t.store.join("admin-journal")).unwrap();
    t.cmd().arg("list").assert().success();
    copy
}

fn plant(t: &T, file: &str, bytes: &[u8]) {
    let p = t.store.join(file);
    std::fs::write(&p, bytes).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn a_replayed_admin_journal_does_not_undo_a_removal() {
    let t = owner_with_configs();
    let bob = attacker();
    let bob_pub = bob.to_public().to_string();
    let old = journal_of(&t, &["recipients", "add", &bob_pub, "--label", "bob"]);
    t.cmd()
        .args(["recipients", "remove", "bob"])
        .assert()
        .success();
    t.add(
        "bearer",
        "after-removal",
        &[],
        Some(("token", "tok-after-removal")),
    )
    .success();
    plant(&t, "admin-journal", &old);
    t.cmd()
        .arg("list")
        .assert()
        .success()
        .stderr(contains("finishing").not());
    assert!(!t.stdout(&["recipients", "list"]).contains("bob"));
    assert!(
        !t.store.join("admin-journal").exists(),
        "the stale copy is removed"
    );
    for f in config_files(&t) {
        assert!(!opens(&f, &bob, t.dir.path()), "{}", f.display());
    }
    let log = t.stdout(&["log"]);
    assert!(log.contains("replayed copy"), "{log}");
}

#[test]
fn a_leaked_retired_master_key_cannot_take_the_store_back() {
    let t = T::bare();
    let keyfile = t.init_with_key_file();
    t.add("bearer", "api", &[], Some(("token", "tok-api-31")))
        .success();
    let retired =
        authcfg::keys::identity::parse(&std::fs::read_to_string(&keyfile).unwrap()).unwrap();
    t.cmd().args(["rotate", "--master-key"]).assert().success();
    let current = std::fs::read_to_string(&keyfile).unwrap();
    // The attacker holds the retired key: a "finishing" journal signed
    // by it, whose target is the current header, handing over their key.
    let evil = attacker();
    let h = header(&t);
    let mut j = AdminJournal {
        txn: "0011223344556677".into(),
        op: AdminOp::MasterKey,
        started: "2026-01-01T00:00:00Z".into(),
        detail: "master key".into(),
        base: String::new(),
        target: h.clone(),
        new_identity: Some(b64().encode(encrypt_to(
            &h.master().unwrap().public_key,
            evil.to_string().expose_secret().as_bytes(),
        ))),
        old_identity: None,
        saved: vec![],
        admin: String::new(),
        signature: String::new(),
    };
    j.sign(&AdminKey::from_identity(&retired));
    plant(&t, "admin-journal", &j.to_bytes());
    let _ = t.cmd().arg("list").output().unwrap();
    assert_eq!(
        std::fs::read_to_string(&keyfile).unwrap(),
        current,
        "the key file keeps the real key"
    );
    for f in config_files(&t) {
        assert!(!opens(&f, &evil, t.dir.path()));
    }
    // A non-finishing journal signed by the retired key: refused.
    let mut target = h.clone();
    target.generation += 1;
    target.recipients[0].public_key = evil.to_public().to_string();
    target.sign(&AdminKey::from_identity(&evil));
    j.target = target;
    j.base = h.signature.clone();
    j.sign(&AdminKey::from_identity(&retired));
    plant(&t, "admin-journal", &j.to_bytes());
    t.add("bearer", "x", &[], Some(("token", "x")))
        .code(1)
        .stderr(contains("admin-journal"));
    assert_eq!(std::fs::read_to_string(&keyfile).unwrap(), current);
}

#[test]
fn a_member_journal_cannot_name_paths() {
    let t = owner_with_configs();
    // A member holds the journal key; model it with the library.
    let victim = t.dir.path().join("victim");
    std::fs::create_dir_all(victim.join("sub")).unwrap();
    std::fs::write(victim.join("sub/file"), "precious").unwrap();
    let keys = {
        let h = header(&t);
        let id = authcfg::keys::identity::parse(t.identity.as_deref().unwrap()).unwrap();
        authcfg::store::storekeys::StoreKeys::unseal(&h, &[&id]).unwrap()
    };
    let id = header(&t).id;
    for (txn, names) in [
        (victim.to_str().unwrap().to_string(), vec!["a".to_string()]),
        (
            "0011223344556677".to_string(),
            vec!["../../escape".to_string()],
        ),
        ("0011223344556677".to_string(), vec!["x/..".to_string()]),
    ] {
        let j = authcfg::store::journal::TxnJournal {
            txn,
            op: authcfg::store::journal::TxnOp::Import,
            names,
            digests: vec![],
            audit: vec![],
            committed: false,
        };
        plant(&t, "journal", &j.seal(&keys.journal_key(), &id));
        let o = t
            .add("bearer", "n", &[], Some(("token", "x")))
            .get_output()
            .clone();
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(String::from_utf8_lossy(&o.stderr).contains("journal"));
        t.cmd().arg("list").assert().success();
        std::fs::remove_file(t.store.join("journal")).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(victim.join("sub/file")).unwrap(),
        "precious"
    );
    assert!(!t.dir.path().join("escape.age").exists());
}

#[test]
fn planted_links_and_fifos_neither_hang_nor_reach_outside() {
    let t = owner_with_configs();
    // tmp/ as a link to a directory of the user's: nothing there is touched.
    let outside = t.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join(".tmp-keep"), "keep").unwrap();
    std::fs::remove_dir_all(t.store.join("tmp")).unwrap();
    std::os::unix::fs::symlink(&outside, t.store.join("tmp")).unwrap();
    t.add("bearer", "n", &[], Some(("token", "x")))
        .code(1)
        .stderr(contains("symbolic link"));
    assert_eq!(
        std::fs::read_to_string(outside.join(".tmp-keep")).unwrap(),
        "keep"
    );
    std::fs::remove_file(t.store.join("tmp")).unwrap();
    // A FIFO in place of store files: refused at once, no hang.
    for f in ["configs/legacy.age", "index/head", "audit.head", "journal"] {
        let p = t.store.join(f);
        let saved = std::fs::read(&p).ok();
        let _ = std::fs::remove_file(&p);
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let mut cmd = t.std_cmd();
        cmd.args(["export", "legacy"]);
        if f == "journal" || f == "index/head" {
            cmd.args([] as [&str; 0]);
        }
        let mut child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(status.is_some(), "a FIFO at {f} hangs export");
        let l = t
            .std_cmd()
            .arg("list")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        let _ = l;
        std::fs::remove_file(&p).unwrap();
        if let Some(b) = saved {
            std::fs::write(&p, b).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    t.cmd().arg("list").assert().success();
}

fn member(t: &T, secret: &str) -> T {
    let mut m = T::bare();
    m.store = t.store.clone();
    m.env("AUTHCFG_IDENTITY", secret);
    m.env(
        "AUTHCFG_TRUST_ADMIN",
        &crate::recipients::admin_fingerprint(t),
    );
    m
}

#[test]
fn a_member_cannot_take_over_a_group_config() {
    let t = owner_with_configs();
    let (bob_secret, bob_public) = new_identity();
    t.cmd()
        .args(["recipients", "add", &bob_public, "--label", "bob"])
        .assert()
        .success();
    t.cmd()
        .args([
            "add",
            "custom",
            "bearer",
            "--name",
            "prod/db",
            "--group",
            "admins",
            "--secret-stdin",
            "token",
        ])
        .write_stdin("group-secret-1")
        .assert()
        .success();
    let bob = member(&t, &bob_secret);
    let before = std::fs::read(t.store.join("configs/prod/db.age")).unwrap();
    bob.add("bearer", "prod/db", &[], None).code(2);
    bob.cmd()
        .args([
            "add",
            "custom",
            "bearer",
            "--name",
            "prod/db",
            "--force",
            "--secret-stdin",
            "token",
        ])
        .write_stdin("bob-planted")
        .assert()
        .code(5)
        .stderr(contains("belongs to a group"));
    bob.cmd()
        .args(["remove", "--yes", "prod/db"])
        .assert()
        .code(5);
    assert_eq!(
        before,
        std::fs::read(t.store.join("configs/prod/db.age")).unwrap()
    );
    // The owner's next edit keeps the group.
    t.cmd()
        .args(["edit", "prod/db", "--secret-stdin", "token"])
        .write_stdin("group-secret-2")
        .assert()
        .success();
    bob.cmd().args(["show", "prod/db"]).assert().code(5);
}

#[test]
fn removing_the_last_member_of_a_group_keeps_the_group() {
    let t = owner_with_configs();
    let (_, ops_public) = new_identity();
    t.cmd()
        .args([
            "recipients",
            "add",
            &ops_public,
            "--label",
            "ops",
            "--group",
            "ops",
        ])
        .assert()
        .success();
    t.cmd()
        .args([
            "add",
            "custom",
            "bearer",
            "--name",
            "ops/a",
            "--group",
            "ops",
            "--secret-stdin",
            "token",
        ])
        .write_stdin("ops-secret")
        .assert()
        .success();
    t.cmd()
        .args(["recipients", "remove", "ops"])
        .assert()
        .success();
    assert!(t.stdout(&["export", "ops/a"]).contains("ops-secret"));
    t.add("bearer", "later", &[], Some(("token", "x")))
        .success();
    assert!(!t.store.join("admin-journal").exists());
}

#[test]
fn a_planted_config_does_not_block_a_revocation_half_way() {
    let t = owner_with_configs();
    let (_, bob_public) = new_identity();
    t.cmd()
        .args(["recipients", "add", &bob_public, "--label", "bob"])
        .assert()
        .success();
    plant(
        &t,
        "configs/zz.age",
        &encrypt_to(&master_public(&t), b"format = 1\n"),
    );
    t.cmd()
        .args(["recipients", "remove", "bob"])
        .assert()
        .code(1)
        .stderr(contains("zz"))
        .stderr(contains("nothing was changed"));
    assert!(
        !t.store.join("admin-journal").exists(),
        "no half-done change left"
    );
    t.cmd().args(["remove", "--yes", "zz"]).assert().success();
    t.cmd()
        .args(["recipients", "remove", "bob"])
        .assert()
        .success();
}

#[test]
fn a_child_cannot_read_the_key_from_its_parents_environment() {
    let mut t = T::new();
    t.env("AUTHCFG_PASSPHRASE", "passphrase-planted-57");
    t.init();
    t.add("bearer", "a", &[], Some(("token", "x"))).success();
    // `exec` replaces authcfg, so the child's /proc environ is its own;
    // the browser case (authcfg stays its parent) is the_browser_gets_no_key.
    let o = t
        .cmd()
        .args([
            "exec",
            "a",
            "--",
            "sh",
            "-c",
            "tr '\\0' '\\n' < /proc/$$/environ",
        ])
        .output()
        .unwrap();
    assert_clean(
        "the child's /proc environ",
        &o.stdout,
        &[t.identity.as_deref().unwrap(), "passphrase-planted-57"],
    );
}

#[test]
fn a_secret_is_not_handed_out_when_its_use_cannot_be_recorded() {
    let t = owner_with_configs();
    let trail = t.store.join("audit.jsonl");
    std::fs::remove_file(&trail).unwrap();
    std::fs::create_dir(&trail).unwrap();
    let o = t.cmd().args(["token", "prod/api"]).output().unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert_clean("token output", &o.stdout, &["tok-planted-prod-77"]);
    let o = t
        .cmd()
        .args(["exec", "prod/api", "--", "env"])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert_clean("exec output", &o.stdout, &["tok-planted-prod-77"]);
}
