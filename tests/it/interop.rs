//! The files are plain age: Debian's `age` opens them. Permissions are
//! enforced as ssh does.

use crate::support::*;
use predicates::str::contains;
use std::os::unix::fs::PermissionsExt;

#[test]
fn age_cli_decrypts_a_config() {
    let t = T::new();
    t.init();
    t.add(
        "basic",
        "prod/legacy",
        &["username=alice"],
        Some(("password", "p@ss 'w0rd' planted")),
    )
    .success();
    let key = t.dir.path().join("key.txt");
    std::fs::write(&key, t.identity.as_ref().unwrap()).unwrap();
    let out = std::process::Command::new("age")
        .args(["-d", "-i"])
        .arg(&key)
        .arg(t.store.join("configs/prod/legacy.age"))
        .output()
        .expect("age (apt: age) must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: toml::Value = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(doc["name"].as_str(), Some("prod/legacy"));
    assert_eq!(
        doc["fields"]["password"].as_str(),
        Some("p@ss 'w0rd' planted")
    );
    assert_eq!(doc["fields"]["username"].as_str(), Some("alice"));
    // Header is readable TOML with the recipient.
    let header: toml::Value =
        toml::from_str(&std::fs::read_to_string(t.store.join("authcfg.toml")).unwrap()).unwrap();
    assert_eq!(header["format"].as_integer(), Some(2));
    assert!(header["recipients"][0]["public_key"]
        .as_str()
        .unwrap()
        .starts_with("age1"));
}

#[test]
fn modes_and_refusal_of_loose_permissions() {
    let t = T::new();
    t.init();
    t.add("bearer", "x", &[], Some(("token", "t"))).success();
    for (p, _) in t.store_files() {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
    assert_eq!(
        std::fs::metadata(&t.store).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::metadata(t.store.join("configs"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );

    std::fs::set_permissions(&t.store, std::fs::Permissions::from_mode(0o755)).unwrap();
    t.cmd()
        .args(["list"])
        .assert()
        .code(1)
        .stderr(contains("accessible by other users"))
        .stderr(contains("chmod 700"));
    std::fs::set_permissions(&t.store, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(
        t.store.join("authcfg.toml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    t.cmd()
        .args(["show", "x"])
        .assert()
        .code(1)
        .stderr(contains("chmod 600"));
}
