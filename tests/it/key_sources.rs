//! init with each master-key source, and the chain when one is missing:
//! environment, identity file, real Secret Service (gnome-keyring on a
//! private D-Bus), real kernel keyutils, passphrase file.

use crate::support::*;
use predicates::str::contains;

fn add_and_read(t: &T) {
    t.add("bearer", "svc", &[], Some(("token", "tok-planted-KEYSRC")))
        .success();
    let out = t.stdout(&["show", "svc", "--reveal"]);
    assert!(out.contains("tok-planted-KEYSRC"));
}

#[test]
fn env_identity_is_the_ci_path() {
    let t = T::new();
    t.cmd()
        .arg("init")
        .assert()
        .success()
        .stdout(contains("AUTHCFG_IDENTITY"));
    let header = std::fs::read_to_string(t.store.join("authcfg.toml")).unwrap();
    assert!(header.contains("key_home = \"external\""), "{header}");
    assert!(!t.store.join("identity.age").exists());
    add_and_read(&t);
    // Without the variable nothing else can open it: exit 5, sources listed.
    let mut bare = T::bare();
    bare.store = t.store.clone();
    bare.cmd()
        .args(["show", "svc"])
        .assert()
        .code(5)
        .stderr(contains("AUTHCFG_IDENTITY"))
        .stderr(contains("OS keyring"))
        .stderr(contains("hint:"));
    // A different key is named as not being a recipient.
    let mut other = T::new();
    other.store = t.store.clone();
    other
        .cmd()
        .args(["show", "svc"])
        .assert()
        .code(5)
        .stderr(contains("not a recipient"));
    other.env("AUTHCFG_IDENTITY", "not-a-key");
    other
        .cmd()
        .args(["list"])
        .assert()
        .code(5)
        .stderr(contains("does not hold an age identity"));
}

#[test]
fn identity_file_from_env_and_from_init() {
    let mut t = T::bare();
    let (secret, _) = new_identity();
    let file = t.dir.path().join("key.txt");
    std::fs::write(&file, format!("# test key\n{secret}\n")).unwrap();
    t.env("AUTHCFG_IDENTITY_FILE", file.to_str().unwrap());
    // A key file others can read is refused, as ssh refuses such keys.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    t.cmd()
        .arg("init")
        .assert()
        .code(5)
        .stderr(contains("mode 644"))
        .stderr(contains("chmod 600"));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    t.init();
    add_and_read(&t);

    // init --identity-file writes a 0600 key file the store remembers.
    let t2 = T::bare();
    let keyfile = t2.dir.path().join("my.key");
    t2.cmd()
        .args(["init", "--identity-file"])
        .arg(&keyfile)
        .assert()
        .success();
    assert_eq!(
        std::fs::metadata(&keyfile).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(std::fs::read_to_string(&keyfile)
        .unwrap()
        .contains("AGE-SECRET-KEY-1"));
    add_and_read(&t2);
    std::fs::remove_file(&keyfile).unwrap();
    t2.cmd()
        .args(["list"])
        .assert()
        .code(5)
        .stderr(contains("missing"));
}

#[test]
fn passphrase_file() {
    let mut t = T::bare();
    t.env("AUTHCFG_PASSPHRASE", "correct horse battery staple");
    t.cmd().args(["init", "--passphrase"]).assert().success();
    let sealed = std::fs::read(t.store.join("identity.age")).unwrap();
    assert!(
        sealed.starts_with(b"age-encryption.org/v1\n-> scrypt"),
        "an age scrypt file"
    );
    assert!(!String::from_utf8_lossy(&sealed).contains("AGE-SECRET-KEY"));
    add_and_read(&t);
    t.env("AUTHCFG_PASSPHRASE", "wrong");
    t.cmd()
        .args(["list"])
        .assert()
        .code(5)
        .stderr(contains("wrong passphrase"));
    t.extra_env.retain(|(k, _)| k != "AUTHCFG_PASSPHRASE");
    t.cmd()
        .args(["list"])
        .assert()
        .code(5)
        .stderr(contains("AUTHCFG_PASSPHRASE is not set"));
}

#[test]
fn no_keyring_and_no_flags_refuses_plaintext() {
    let t = T::bare();
    t.cmd()
        .arg("init")
        .assert()
        .code(5)
        .stderr(contains("no place to keep a new master key"))
        .stderr(contains("--passphrase"));
    assert!(!t.store.join("authcfg.toml").exists(), "nothing created");
}

#[test]
fn secret_service_keyring() {
    let ss = SecretService::start();
    let mut t = T::bare();
    t.env("AUTHCFG_KEYRING", "secret-service");
    t.env("DBUS_SESSION_BUS_ADDRESS", &ss.address);
    t.cmd()
        .arg("init")
        .assert()
        .success()
        .stdout(contains("OS keyring (secret-service)"));
    let header = std::fs::read_to_string(t.store.join("authcfg.toml")).unwrap();
    assert!(header.contains("keyring_backend = \"secret-service\""));
    // The key really is in the Secret Service, under service authcfg.
    let id = header
        .lines()
        .find(|l| l.starts_with("id = "))
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap()
        .to_string();
    let out = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service", "authcfg", "username", &id])
        .env("DBUS_SESSION_BUS_ADDRESS", &ss.address)
        .output()
        .expect("secret-tool (apt: libsecret-tools)");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&id),
        "entry not found: {out:?}"
    );
    add_and_read(&t);
    t.cmd()
        .arg("doctor")
        .assert()
        .success()
        .stdout(contains("OS keyring (secret-service)"));
    // Keyring unreachable (no bus): falls through and says what was tried.
    t.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    t.cmd()
        .args(["list"])
        .assert()
        .code(5)
        .stderr(contains("OS keyring (secret-service)"));
}

#[test]
fn keyutils_keyring_with_sealed_backup() {
    join_new_session_keyring();
    let mut t = T::bare();
    t.env("AUTHCFG_KEYRING", "keyutils");
    // keyutils is emptied by a reboot: init insists on a durable sealed copy.
    t.cmd()
        .arg("init")
        .assert()
        .code(2)
        .stderr(contains("reboot"));
    assert!(!t.store.join("authcfg.toml").exists());
    t.env("AUTHCFG_PASSPHRASE", "pass-for-keyutils");
    t.cmd()
        .arg("init")
        .assert()
        .success()
        .stdout(contains("keyutils"));
    assert!(t.store.join("identity.age").exists());
    // Reads come from the kernel keyring: no passphrase needed.
    t.extra_env.retain(|(k, _)| k != "AUTHCFG_PASSPHRASE");
    add_and_read(&t);
    t.cmd()
        .arg("doctor")
        .assert()
        .success()
        .stdout(contains("OS keyring (keyutils)"));
    // Simulate the reboot: invalidate the kernel key (it is linked into the
    // session and the persistent keyring); the passphrase file takes over
    // and re-caches the key.
    let header = std::fs::read_to_string(t.store.join("authcfg.toml")).unwrap();
    let id = header
        .lines()
        .find(|l| l.starts_with("id = "))
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap()
        .to_string();
    let found = std::process::Command::new("keyctl")
        .args(["search", "@s", "user", &format!("keyring:{id}@authcfg")])
        .output()
        .expect("keyctl (apt: keyutils)");
    assert!(
        found.status.success(),
        "the key is in the session keyring: {found:?}"
    );
    let serial = String::from_utf8(found.stdout).unwrap();
    assert!(std::process::Command::new("keyctl")
        .args(["invalidate", serial.trim()])
        .status()
        .unwrap()
        .success());
    t.cmd()
        .args(["list"])
        .assert()
        .code(5)
        .stderr(contains("no entry"));
    t.env("AUTHCFG_PASSPHRASE", "pass-for-keyutils");
    t.cmd().args(["list"]).assert().success();
    t.extra_env.retain(|(k, _)| k != "AUTHCFG_PASSPHRASE");
    t.cmd().args(["show", "svc"]).assert().success();
}

/// `AUTHCFG_KEY_CACHE`: the key from Secret Service cached in the session
/// keyring with a timeout; commands work without the daemon while it lasts,
/// `lock` drops it, it is off unless asked for, and an `exec` child does
/// not possess the keyring that holds it.
#[test]
fn key_cache_in_the_session_keyring() {
    join_new_session_keyring();
    let ss = SecretService::start();
    let mut t = T::bare();
    t.env("AUTHCFG_KEYRING", "secret-service");
    t.env("DBUS_SESSION_BUS_ADDRESS", &ss.address);
    t.init();
    t.add("bearer", "a", &[], Some(("token", "tok-cache-planted")))
        .success();
    let header = std::fs::read_to_string(t.store.join("authcfg.toml")).unwrap();
    let id = header
        .lines()
        .find(|l| l.starts_with("id = "))
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap()
        .to_string();
    let cached = |t: &T| {
        std::process::Command::new("keyctl")
            .args(["search", "@s", "user", &format!("authcfg:cache:{id}")])
            .env_remove("AUTHCFG_IDENTITY")
            .output()
            .unwrap()
            .status
            .success()
            && t.store.exists()
    };
    assert!(t.stdout(&["export", "a"]).contains("tok-cache-planted"));
    assert!(!cached(&t), "nothing is cached unless asked for");
    t.env("AUTHCFG_KEY_CACHE", "600");
    assert!(t.stdout(&["export", "a"]).contains("tok-cache-planted"));
    assert!(cached(&t), "cached after an unlock from Secret Service");
    // The child of exec has a session keyring of its own.
    let o = t
        .cmd()
        .args(["exec", "a", "--", "keyctl", "search", "@s", "user"])
        .arg(format!("authcfg:cache:{id}"))
        .output()
        .unwrap();
    assert!(!o.status.success(), "the exec child found the cached key");
    // Secret Service gone: the cache still opens the store.
    drop(ss);
    assert!(t.stdout(&["export", "a"]).contains("tok-cache-planted"));
    t.cmd()
        .arg("lock")
        .assert()
        .success()
        .stderr(contains("Dropped"));
    assert!(!cached(&t));
    t.cmd().args(["export", "a"]).assert().code(5);
}
