//! age plugins (docs/ARCHITECTURE.md, "age plugins"): a master key sealed
//! to an `AGE-PLUGIN-TEST-1…` identity, an `age1test1…` recipient, the
//! plugin's question at the terminal, and a plugin that fails or is
//! missing. The plugin is tests/age-plugin-test, built from the
//! `age-plugin` crate (the protocol hardware plugins speak) and put on PATH.

use crate::support::*;
use predicates::str::contains;
use rexpect::session::spawn_command;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const TIMEOUT: Option<u64> = Some(60_000);

/// The directory holding `age-plugin-test`, built once per test process
/// (cargo's own lock orders concurrent builds).
fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = root.join("target/age-plugin-test");
        let status = std::process::Command::new(env!("CARGO"))
            .current_dir(root)
            .args(["build", "--quiet", "--manifest-path"])
            .arg(root.join("tests/age-plugin-test/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building tests/age-plugin-test failed");
        // The repository's .cargo/config.toml names an explicit target.
        [
            target.join("x86_64-unknown-linux-gnu/debug"),
            target.join("debug"),
        ]
        .into_iter()
        .find(|d| d.join("age-plugin-test").is_file())
        .expect("age-plugin-test was built")
    })
}

/// PATH with the plugin first.
fn path_with_plugin() -> String {
    format!(
        "{}:{}",
        plugin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A plugin identity file (mode 0600) and its recipient, as the plugin
/// prints them (as `age-plugin-yubikey --generate` does).
fn plugin_identity(t: &T) -> (PathBuf, String) {
    let out = std::process::Command::new(plugin_dir().join("age-plugin-test"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("AGE-PLUGIN-TEST-1"), "{text}");
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# recipient: "))
        .unwrap()
        .to_string();
    assert!(recipient.starts_with("age1test1"), "{recipient}");
    let file = t.dir.path().join("yubikey-identity.txt");
    std::fs::write(&file, &text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    (file, recipient)
}

/// The store's files, less the access trail (a failed unlock is an access
/// attempt it records: docs/ARCHITECTURE.md, "Audit trail").
fn contents(t: &T) -> Vec<(PathBuf, Vec<u8>)> {
    t.snapshot()
        .into_iter()
        .filter(|(p, _)| !p.ends_with("access.jsonl"))
        .collect()
}

#[test]
fn plugin_identity_seals_the_master_key() {
    let mut t = T::bare();
    t.env("PATH", &path_with_plugin());
    let (idfile, _) = plugin_identity(&t);
    let out = t
        .cmd()
        .args(["init", "--identity-file"])
        .arg(&idfile)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("identity.plugin.age"), "{stdout}");
    assert!(stdout.contains("age-plugin-test"), "{stdout}");
    // The identity file is left as it was (authcfg never writes it).
    assert!(std::fs::read_to_string(&idfile)
        .unwrap()
        .contains("AGE-PLUGIN-TEST-1"));
    assert!(t.store.join("identity.plugin.age").is_file());

    t.add("bearer", "api", &[], Some(("token", "tok-through-plugin")))
        .success();
    let v = t.export_json(&["api".to_string()]);
    assert!(v.to_string().contains("tok-through-plugin"), "{v}");
    assert!(t.stdout(&["status"]).contains("age-plugin-test"));

    // The plugin fails (its device is absent): a clear error naming it,
    // exit 5 (no key), and the store unchanged.
    let before = contents(&t);
    let mut failing = T::bare();
    failing.store = t.store.clone();
    failing.env("PATH", &path_with_plugin());
    failing.env("AGE_PLUGIN_TEST_FAIL", "1");
    failing
        .add("bearer", "new", &[], Some(("token", "never-stored")))
        .code(5)
        .stderr(contains("age-plugin-test"))
        .stderr(contains("failed"));
    assert_eq!(before, contents(&t), "a failed plugin changed the store");

    // The plugin is not installed: told which binary to install.
    let mut missing = T::bare();
    missing.store = t.store.clone();
    missing.env("PATH", "/usr/bin:/bin");
    missing
        .cmd()
        .args(["show", "api", "--reveal"])
        .assert()
        .code(5)
        .stderr(contains("age-plugin-test is not installed"))
        .stderr(contains("install age-plugin-test"));
    assert_eq!(before, contents(&t));
}

#[test]
fn plugin_recipient_opens_with_the_plugin() {
    let mut t = T::new();
    t.env("PATH", &path_with_plugin());
    t.init();
    t.add("bearer", "before", &[], Some(("token", "tok-before")))
        .success();
    let (idfile, recipient) = plugin_identity(&t);
    t.cmd()
        .args(["recipients", "add", &recipient, "--label", "hw-mate"])
        .assert()
        .success();
    assert!(t.stdout(&["recipients", "list"]).contains("hw-mate"));
    t.add("bearer", "after", &[], Some(("token", "tok-after")))
        .success();
    // The teammate opens the configs with the plugin alone (Debian's age
    // runs the same plugin binary).
    for file in ["configs/before.age", "configs/after.age"] {
        let out = std::process::Command::new("age")
            .env("PATH", path_with_plugin())
            .arg("-d")
            .arg("-i")
            .arg(&idfile)
            .arg(t.store.join(file))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Every write seals to the plugin: a failing plugin stops the write,
    // named, and nothing changes.
    let before = contents(&t);
    let mut failing = T::new();
    failing.identity = t.identity.clone();
    failing.store = t.store.clone();
    failing.env("PATH", &path_with_plugin());
    failing.env("AGE_PLUGIN_TEST_FAIL", "1");
    let out = failing
        .add("bearer", "third", &[], Some(("token", "never-stored")))
        .failure()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("age-plugin-test"), "{err}");
    assert_eq!(before, contents(&t), "a failed plugin changed the store");

    // A plugin that is not installed cannot be added.
    let mut off = T::new();
    off.identity = t.identity.clone();
    off.store = t.store.clone();
    off.env("PATH", "/usr/bin:/bin");
    off.cmd()
        .args(["recipients", "add", &recipient, "--label", "hw-two"])
        .assert()
        .code(5)
        .stderr(contains("age-plugin-test is not installed"));
    assert_eq!(before, contents(&t));
}

#[test]
fn plugin_question_reaches_the_terminal() {
    let mut t = T::bare();
    t.env("PATH", &path_with_plugin());
    let (idfile, _) = plugin_identity(&t);
    t.cmd()
        .args(["init", "--identity-file"])
        .arg(&idfile)
        .assert()
        .success();
    t.add("bearer", "api", &[], Some(("token", "tok-confirmed")))
        .success();
    t.env("AGE_PLUGIN_TEST_CONFIRM", "1");

    // At a terminal: the plugin's message and question are shown, and
    // "yes" unlocks.
    let mut cmd = t.std_cmd();
    cmd.args(["show", "api", "--reveal"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("waiting for the test key").unwrap();
    p.exp_string("Touch the test key to unlock?").unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("tok-confirmed"), "{rest}");

    // "no" at the terminal: refused, naming the plugin.
    let mut cmd = t.std_cmd();
    cmd.args(["show", "api", "--reveal"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("Touch the test key to unlock?").unwrap();
    p.send("\x1b[B").unwrap(); // down: yes -> no
    p.flush().unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("age-plugin-test"), "{rest}");
    assert!(!rest.contains("tok-confirmed"), "{rest}");

    // No terminal: the question cannot be answered, and the error says so.
    t.cmd()
        .args(["show", "api", "--reveal"])
        .assert()
        .code(5)
        .stderr(contains("age-plugin-test asked"))
        .stderr(contains("no terminal"));
}

/// A teammate who holds only a plugin identity: the admin lists a plugin
/// custody (`recipients add plugin:age1NAME1…`), an X25519 identity sealed
/// to the plugin's recipient, and the teammate opens the store with the
/// plugin alone (docs/ARCHITECTURE.md, "Key services").
#[test]
fn a_teammate_with_only_a_plugin_identity_opens_the_store() {
    let mut t = T::new();
    t.env("PATH", &path_with_plugin());
    t.init();
    t.add(
        "bearer",
        "api",
        &[],
        Some(("token", "tok-for-the-plugin-mate")),
    )
    .success();
    let (idfile, recipient) = plugin_identity(&t);
    t.cmd()
        .args(["recipients", "add", &format!("plugin:{recipient}")])
        .args(["--label", "hw-mate", "--role", "viewer"])
        .assert()
        .success();
    let listed = t.stdout(&["recipients", "list"]);
    assert!(
        listed.contains(&format!("(plugin:{recipient})")),
        "{listed}"
    );
    let fp = crate::recipients::admin_fingerprint(&t);
    let mut mate = T::bare();
    mate.store = t.store.clone();
    mate.env("PATH", &path_with_plugin());
    mate.env("AUTHCFG_IDENTITY_FILE", &idfile.to_string_lossy());
    mate.env("AUTHCFG_TRUST_ADMIN", &fp);
    assert!(mate
        .stdout(&["export", "api"])
        .contains("tok-for-the-plugin-mate"));
    let status = mate.stdout(&["status"]);
    assert!(status.contains("key service plugin:"), "{status}");
    // A viewer: reads only.
    mate.add("bearer", "x", &[], Some(("token", "t-123456")))
        .failure();
    // A team store: the teammate clones it with the plugin identity alone.
    let bare = t.dir.path().join("team.git");
    let st = std::process::Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&bare)
        .status()
        .unwrap();
    assert!(st.success());
    t.cmd()
        .args(["git", "init", "--remote"])
        .arg(&bare)
        .assert()
        .success();
    let mut cloner = T::bare();
    cloner.env("PATH", &path_with_plugin());
    cloner.env("AUTHCFG_IDENTITY_FILE", &idfile.to_string_lossy());
    cloner
        .cmd()
        .args(["git", "clone"])
        .arg(&bare)
        .args(["--trust-admin", &fp])
        .assert()
        .success()
        .stderr(contains("your role: viewer"));
    assert!(cloner
        .stdout(&["export", "api"])
        .contains("tok-for-the-plugin-mate"));
    // The store swap (docs/SECURITY.md, "Key services"): the plugin
    // recipient is public, so anyone who can write the teammate's store
    // directory seals an identity of their own to it, for a store of their
    // own with an authentic pin of it. Refused with the fingerprint set,
    // and with the pin kept outside the store from the opens above.
    let seal = |blob: &[u8]| {
        let mut age = std::process::Command::new("age");
        age.env("PATH", path_with_plugin())
            .args(["-r", &recipient])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = age.spawn().expect("age is installed");
        use std::io::Write;
        child.stdin.take().unwrap().write_all(blob).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(out.stdout)
    };
    let victim = t.dir.path().join("victim-store");
    crate::support::copy_dir(&t.store, &victim);
    mate.store = victim.clone();
    assert!(mate
        .stdout(&["export", "api"])
        .contains("tok-for-the-plugin-mate"));
    assert!(!victim.join("pins.json").exists());
    let evil_fp =
        crate::key_service::swap_in_own_store(&victim, "plugin", &recipient, &seal, false);
    assert_ne!(evil_fp, fp);
    crate::key_service::assert_swap_refused(&mate);
    let mut no_setting = T::bare();
    no_setting.home = mate.home.clone();
    no_setting.store = victim.clone();
    no_setting.extra_env = mate.extra_env.clone();
    no_setting
        .extra_env
        .retain(|(k, _)| k != "AUTHCFG_TRUST_ADMIN");
    crate::key_service::assert_swap_refused(&no_setting);
    mate.store = t.store.clone();
    // (The test plugin wraps with one fixed key for every identity, so
    // "another identity of the same plugin" cannot be shown with it.)
    // Without the plugin installed: named, exit 5, nothing else tried.
    mate.env("PATH", "/usr/bin:/bin");
    mate.cmd()
        .args(["export", "api"])
        .assert()
        .code(5)
        .stderr(contains("age-plugin-test"));
}
