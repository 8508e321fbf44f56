//! The store's trust boundary, attacked as someone who can write the store
//! directory but holds no key, as a hostile child process, and as a member
//! who is not the admin (docs/SECURITY.md). Each test is an attack that
//! worked against format 1 (fae365b) and must fail now.

use crate::support::*;
use age::secrecy::ExposeSecret;
use authcfg::store::crypto::{b64, AdminKey};
use authcfg::store::header::{Header, Parsed, Recipient};
use authcfg::store::journal::{AdminJournal, AdminOp};
use base64::Engine;
use predicates::prelude::*;
use predicates::str::contains;
use std::path::Path;
use std::str::FromStr;

/// An attacker's own age identity.
fn attacker() -> age::x25519::Identity {
    age::x25519::Identity::generate()
}

fn encrypt_to(pubkey: &str, plain: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let r: age::x25519::Recipient = pubkey.parse().unwrap();
    let enc = age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient)).unwrap();
    let mut out = vec![];
    let mut w = enc.wrap_output(&mut out).unwrap();
    w.write_all(plain).unwrap();
    w.finish().unwrap();
    out
}

fn header(t: &T) -> Header {
    match Header::parse(&std::fs::read_to_string(t.store.join("authcfg.toml")).unwrap()).unwrap() {
        Parsed::Current(h) => h,
        Parsed::Legacy(_) => panic!("format 1"),
    }
}

fn master_public(t: &T) -> String {
    header(t).master().unwrap().public_key.clone()
}

/// Whether Debian's `age -d` opens the file with this identity.
fn opens(file: &Path, id: &age::x25519::Identity, dir: &Path) -> bool {
    let key = dir.join(format!("k-{}", &id.to_public().to_string()[5..15]));
    std::fs::write(&key, id.to_string().expose_secret()).unwrap();
    std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg(file)
        .output()
        .unwrap()
        .status
        .success()
}

fn config_files(t: &T) -> Vec<std::path::PathBuf> {
    t.store_files()
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| {
            p.starts_with(t.store.join("configs")) && p.extension().is_some_and(|e| e == "age")
        })
        .collect()
}

fn owner_with_configs() -> T {
    let t = T::new();
    t.init();
    t.add(
        "bearer",
        "prod/api",
        &[],
        Some(("token", "tok-planted-prod-77")),
    )
    .success();
    t.add(
        "basic",
        "legacy",
        &["username=bob"],
        Some(("password", "pw-planted-legacy-88")),
    )
    .success();
    t
}

#[test]
fn a_planted_format1_rotation_journal_is_ignored() {
    let t = owner_with_configs();
    let evil = attacker();
    // The format-1 attack: the attacker's key sealed to the owner's public
    // key, and a three-line journal.
    std::fs::write(
        t.store.join("identity.next.age"),
        encrypt_to(
            &master_public(&t),
            evil.to_string().expose_secret().as_bytes(),
        ),
    )
    .unwrap();
    std::fs::write(
        t.store.join("rotation.toml"),
        format!(
            "old_public = \"{}\"\nnew_public = \"{}\"\nstarted = \"2026-01-01T00:00:00Z\"\n",
            master_public(&t),
            evil.to_public()
        ),
    )
    .unwrap();
    let before = t.snapshot();
    t.cmd()
        .arg("list")
        .assert()
        .success()
        .stderr(contains("finishing").not());
    t.add("bearer", "after", &[], Some(("token", "tok-after-99")))
        .success();
    for f in config_files(&t) {
        assert!(
            !opens(&f, &evil, t.dir.path()),
            "{} opens with the planted key",
            f.display()
        );
    }
    assert!(before.iter().any(|(p, _)| p.ends_with("rotation.toml")));
    // doctor names the stray files.
    t.cmd()
        .arg("doctor")
        .assert()
        .stdout(contains("rotation.toml"));
}

/// An admin journal of format 2, forged by someone without the master key:
/// a "rotation" to the attacker's key, signed by the attacker's own admin key.
#[test]
fn a_forged_admin_journal_is_refused_and_nothing_is_reencrypted() {
    let t = owner_with_configs();
    let evil = attacker();
    let evil_admin = AdminKey::from_identity(&evil);
    let mut target = header(&t);
    for r in target.recipients.iter_mut() {
        r.public_key = evil.to_public().to_string();
    }
    target.generation += 1;
    target.sign(&evil_admin);
    let mut j = AdminJournal {
        txn: "0011223344556677".into(),
        op: AdminOp::MasterKey,
        started: "2026-01-01T00:00:00Z".into(),
        detail: "master key".into(),
        base: header(&t).signature,
        target,
        new_identity: Some(b64().encode(encrypt_to(
            &master_public(&t),
            evil.to_string().expose_secret().as_bytes(),
        ))),
        old_identity: None,
        saved: vec![],
        admin: String::new(),
        signature: String::new(),
    };
    j.sign(&evil_admin);
    let jpath = t.store.join("admin-journal");
    std::fs::write(&jpath, j.to_bytes()).unwrap();
    std::fs::set_permissions(&jpath, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let before = t.snapshot();
    // Reads go on (with a warning); the configs are the owner's.
    let out = t.stdout(&["export", "prod/api"]);
    assert!(out.contains("tok-planted-prod-77"));
    // Writes are refused, naming the file and what to do.
    t.add("bearer", "new", &[], Some(("token", "x")))
        .code(1)
        .stderr(contains("admin-journal"))
        .stderr(contains("restore"));
    assert_eq!(before, t.snapshot(), "nothing was re-encrypted or written");
    for f in config_files(&t) {
        assert!(!opens(&f, &evil, t.dir.path()));
    }
    // Removing it (as the hint says) restores writes.
    std::fs::remove_file(&jpath).unwrap();
    t.add("bearer", "new", &[], Some(("token", "x"))).success();
}

#[test]
fn a_recipient_appended_to_the_header_receives_nothing() {
    let t = owner_with_configs();
    let evil = attacker();
    let path = t.store.join("authcfg.toml");
    let original = std::fs::read(&path).unwrap();
    let mut text = String::from_utf8(original.clone()).unwrap();
    text.push_str(&format!(
        "\n[[recipients]]\nlabel = \"master\"\npublic_key = \"{}\"\ngroups = [\"admins\"]\n",
        evil.to_public()
    ));
    std::fs::write(&path, text).unwrap();
    // Every command refuses a header whose signature does not verify.
    t.add("bearer", "later", &[], Some(("token", "tok-later-55")))
        .code(1)
        .stderr(contains("authcfg.toml"))
        .stderr(contains("signature"));
    t.cmd().arg("list").assert().code(1);
    for f in config_files(&t) {
        assert!(!opens(&f, &evil, t.dir.path()));
    }
    assert!(!t.store.join("configs/later.age").exists());
    // A header re-signed by the attacker's own admin key is refused too.
    let mut h = header_from(&original);
    h.recipients.push(Recipient {
        label: "ci".into(),
        public_key: evil.to_public().to_string(),
        groups: vec![],
        role: Default::default(),
        custody: None,
    });
    h.sign(&AdminKey::from_identity(&evil));
    std::fs::write(&path, h.to_toml()).unwrap();
    t.add("bearer", "later", &[], Some(("token", "tok-later-55")))
        .code(1)
        .stderr(contains("authcfg.toml"));
    std::fs::write(&path, &original).unwrap();
    t.add("bearer", "later", &[], Some(("token", "tok-later-55")))
        .success();
    assert!(!opens(
        &t.store.join("configs/later.age"),
        &evil,
        t.dir.path()
    ));
}

fn header_from(bytes: &[u8]) -> Header {
    match Header::parse(std::str::from_utf8(bytes).unwrap()).unwrap() {
        Parsed::Current(h) => h,
        Parsed::Legacy(_) => panic!("format 1"),
    }
}

#[test]
fn a_planted_format1_recipients_journal_is_ignored() {
    let t = owner_with_configs();
    let evil = attacker();
    let mut h = header(&t);
    h.recipients.push(Recipient {
        label: "evil".into(),
        public_key: evil.to_public().to_string(),
        groups: vec!["admins".into()],
        role: Default::default(),
        custody: None,
    });
    std::fs::write(
        t.store.join("recipients.toml"),
        toml::to_string(&h).unwrap(),
    )
    .unwrap();
    t.cmd().args(["show", "legacy"]).assert().success();
    t.add("bearer", "after", &[], Some(("token", "t")))
        .success();
    for f in config_files(&t) {
        assert!(!opens(&f, &evil, t.dir.path()));
    }
}

/// A CI key outside `admins` cannot change recipients, and leaves nothing
/// for the owner's next command to complete.
#[test]
fn a_member_cannot_change_recipients() {
    let t = owner_with_configs();
    let (ci_secret, ci_public) = new_identity();
    t.cmd()
        .args(["recipients", "add", &ci_public, "--label", "ci"])
        .assert()
        .success();
    let fp = crate::recipients::admin_fingerprint(&t);
    let mut ci = T::bare();
    ci.store = t.store.clone();
    ci.env("AUTHCFG_IDENTITY", &ci_secret);
    ci.env("AUTHCFG_TRUST_ADMIN", &fp);
    let evil = attacker();
    let before = t.snapshot();
    ci.cmd()
        .args([
            "recipients",
            "add",
            &evil.to_public().to_string(),
            "--label",
            "x",
            "--group",
            "admins",
        ])
        .assert()
        .code(5)
        .stderr(contains("only the store's admin"));
    ci.cmd()
        .args(["recipients", "remove", "master"])
        .assert()
        .code(5);
    ci.cmd().args(["rotate", "--master-key"]).assert().code(5);
    let after: Vec<_> = t
        .snapshot()
        .into_iter()
        .filter(|(p, _)| !p.ends_with("pins.json"))
        .collect();
    assert_eq!(before, after, "no journal or header change left behind");
    t.cmd()
        .arg("list")
        .assert()
        .success()
        .stderr(contains("finishing").not());
    // A member's own writes are fine (a developer adds configs).
    ci.add("bearer", "from-ci", &[], Some(("token", "ci-tok")))
        .success();
    assert!(t.stdout(&["export", "from-ci"]).contains("ci-tok"));
}

#[test]
fn a_config_copied_over_another_name_or_forged_is_refused() {
    let t = owner_with_configs();
    let store = &t.store;
    // Copy one config's file over another's name.
    std::fs::copy(
        store.join("configs/legacy.age"),
        store.join("configs/prod/api.age"),
    )
    .unwrap();
    t.cmd()
        .args(["export", "prod/api"])
        .assert()
        .code(1)
        .stderr(contains("failed authentication"))
        .stdout(contains("pw-planted").not());
    // A config forged by encrypting to the owner's public key: an `env`
    // config that would run code in every `exec` child.
    let forged = "format = 1\nname = \"legacy\"\nkind = \"custom\"\ntype = \"env_vars\"\n\
        created = \"2026-01-01T00:00:00Z\"\nupdated = \"2026-01-01T00:00:00Z\"\n\
        rotated = \"2026-01-01T00:00:00Z\"\nallow_startup_vars = true\n\
        [fields]\nLD_PRELOAD = \"/tmp/evil.so\"\n";
    for body in [
        forged.to_string(),
        format!("#mac:{}\n{forged}", "0".repeat(64)),
    ] {
        std::fs::write(
            store.join("configs/legacy.age"),
            encrypt_to(&master_public(&t), body.as_bytes()),
        )
        .unwrap();
        t.cmd()
            .args(["exec", "legacy", "--", "true"])
            .assert()
            .code(1)
            .stderr(contains("legacy.age"));
    }
    // The others stay readable; the damaged ones can be removed.
    t.cmd()
        .args(["remove", "legacy", "prod/api", "--yes"])
        .assert()
        .success();
}

#[test]
fn children_get_no_keys() {
    let mut t = T::new();
    t.env("AUTHCFG_PASSPHRASE", "passphrase-planted-31");
    t.init();
    t.add("bearer", "a", &[], Some(("token", "tok-a-planted")))
        .success();
    t.add("bearer", "b", &[], Some(("token", "tok-b-planted")))
        .success();
    let id = t.identity.clone().unwrap();
    let out = t.stdout(&["exec", "a", "--", "env"]);
    assert!(out.contains("A_TOKEN=tok-a-planted"));
    assert_clean(
        "exec child environment",
        out.as_bytes(),
        &[
            &id,
            "passphrase-planted-31",
            "AUTHCFG_IDENTITY",
            "AUTHCFG_PASSPHRASE",
        ],
    );
    // The child cannot use authcfg to read another config.
    let o = t
        .cmd()
        .args(["exec", "a", "--", "sh", "-c"])
        .arg(format!("unset AUTHCFG_EXEC; {BIN} token b"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_clean("child's attempt", &o.stdout, &["tok-b-planted"]);
    // Nor with an identity file.
    let keyfile = t.dir.path().join("id.key");
    std::fs::write(&keyfile, &id).unwrap();
    std::fs::set_permissions(
        &keyfile,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let mut f = T::bare();
    f.store = t.store.clone();
    f.env("AUTHCFG_IDENTITY_FILE", keyfile.to_str().unwrap());
    let out = f.stdout(&["exec", "a", "--", "env"]);
    assert!(!out.contains("AUTHCFG_IDENTITY_FILE"), "{out}");
}

#[test]
fn env_configs_refuse_startup_variables_unless_allowed() {
    let t = T::new();
    t.init();
    for var in [
        "LD_PRELOAD",
        "BASH_ENV",
        "PROMPT_COMMAND",
        "PATH",
        "DYLD_INSERT_LIBRARIES",
        "PYTHONSTARTUP",
        "NODE_OPTIONS",
        "AUTHCFG_HOME",
    ] {
        t.cmd()
            .args(["add", "custom", "env", "--name", "e", "--set"])
            .arg(format!("{var}=/tmp/x"))
            .assert()
            .code(2)
            .stderr(contains(var))
            .stderr(contains("--allow-startup-vars"));
    }
    t.cmd()
        .args(["import", "-"])
        .write_stdin(r#"[{"type":"env_vars","name":"imp","config":{"BASH_ENV":"/tmp/x"}}]"#)
        .assert()
        .code(2);
    t.cmd()
        .args([
            "add",
            "custom",
            "env",
            "--name",
            "ok",
            "--set",
            "APP_MODE=1",
        ])
        .assert()
        .success();
    t.cmd()
        .args(["edit", "ok", "--set", "LD_PRELOAD=/tmp/x"])
        .assert()
        .code(2);
    t.cmd()
        .args([
            "add",
            "custom",
            "env",
            "--name",
            "tool",
            "--allow-startup-vars",
            "--set",
            "PATH=/opt/tool/bin:/usr/bin:/bin",
        ])
        .assert()
        .success();
    let out = t.stdout(&["exec", "tool", "--", "sh", "-c", "echo $PATH"]);
    assert_eq!(out.trim(), "/opt/tool/bin:/usr/bin:/bin");
    assert!(t.stdout(&["show", "tool"]).contains("allow-startup-vars"));
}

/// The red team's list of variables that run programs or load code and
/// were accepted (A19), and `--prefix` turning an innocent name into one.
/// Red team 2, #14: the hook shells' own PATH and prompt variables, remote
/// shells, CA bundles and module lists, set by a project file.
#[test]
fn a_project_file_cannot_set_the_shells_own_startup_variables() {
    let t = T::new();
    t.init();
    let repo = t.dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for var in [
        "fish_user_paths",
        "PROMPT",
        "RPROMPT",
        "PROMPT_COMMAND",
        "LESS",
        "SVN_SSH",
        "RSYNC_RSH",
        "CVS_RSH",
        "BORG_PASSCOMMAND",
        "AWS_CA_BUNDLE",
        "KRB5_CONFIG",
        "GTK_MODULES",
        "GIO_EXTRA_MODULES",
        "VK_ICD_FILENAMES",
        "NIX_CONFIG",
        "TF_CLI_CONFIG_FILE",
        "ANSIBLE_CONFIG",
        "COREPACK_NPM_REGISTRY",
        "DBUS_SESSION_BUS_ADDRESS",
    ] {
        std::fs::write(
            repo.join(".authcfg.toml"),
            format!("[env]\n{var} = \"/tmp/x\"\n"),
        )
        .unwrap();
        let out = t
            .cmd()
            .current_dir(&repo)
            .args(["project", "check"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var} accepted: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains(&format!("{var} changes how programs start")),
            "{var}: {text}"
        );
    }
    // An ordinary application setting is still fine.
    std::fs::write(
        repo.join(".authcfg.toml"),
        "[env]\nAPP_CONFIG = \"dev.yaml\"\n",
    )
    .unwrap();
    t.cmd()
        .current_dir(&repo)
        .args(["project", "check"])
        .assert()
        .success();
}

#[test]
fn startup_variables_by_pattern_any_case_and_after_the_prefix() {
    let t = T::new();
    t.init();
    for var in [
        "BROWSER",
        "GIT_EXTERNAL_DIFF",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
        "SUDO_ASKPASS",
        "GIT_PAGER",
        "GIT_EDITOR",
        "GIT_SEQUENCE_EDITOR",
        "GIT_TEMPLATE_DIR",
        "GIT_DIR",
        "GIT_PROXY_COMMAND",
        "PS1",
        "PS0",
        "LESSOPEN",
        "LESSCLOSE",
        "MANPAGER",
        "OPENSSL_CONF",
        "OPENSSL_ENGINES",
        "XDG_CONFIG_HOME",
        "KUBECONFIG",
        "AWS_CONFIG_FILE",
        "DOCKER_CONFIG",
        "PYTHONWARNINGS",
        "PYTHONBREAKPOINT",
        "CLASSPATH",
        "GEM_PATH",
        "TERMINFO",
        "CURL_HOME",
        "WGETRC",
        "SSL_CERT_FILE",
        "HTTPS_PROXY",
        "https_proxy",
        "ld_preload",
    ] {
        t.cmd()
            .args(["add", "custom", "env", "--name", "e", "--set"])
            .arg(format!("{var}=/tmp/x"))
            .assert()
            .code(2)
            .stderr(contains(var))
            .stderr(contains("--allow-startup-vars"));
    }
    t.cmd()
        .args(["import", "-"])
        .write_stdin(r#"[{"type":"env_vars","name":"imp","config":{"git_ssh_command":"/tmp/x"}}]"#)
        .assert()
        .code(2);
    assert!(!t.stdout(&["list"]).contains("imp"));

    // PRELOAD is an ordinary name; LD_ in front of it is not.
    t.cmd()
        .args(["add", "custom", "env", "--name", "e"])
        .args(["--set", "PRELOAD=/tmp/evil.so"])
        .assert()
        .success();
    for prefix in ["LD_", "e:LD_", "ld_"] {
        t.cmd()
            .args([
                "exec", "e", "--prefix", prefix, "--", "sh", "-c", "echo ran",
            ])
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains(format!(
                "{}PRELOAD",
                prefix.trim_start_matches("e:")
            )))
            .stderr(contains("--allow-startup-vars"));
        t.cmd()
            .args(["export", "e", "--prefix", prefix, "--format", "json"])
            .assert()
            .code(2)
            .stdout("");
    }
    // Whatever the config's type: a bearer token named `preload`.
    t.add("bearer", "preload", &[], Some(("token", "tok")))
        .success();
    t.cmd()
        .args(["export", "preload", "--prefix", "LD_"])
        .assert()
        .code(2)
        .stderr(contains("would export LD_PRELOAD_"));
    // An ordinary prefix is fine, and so is what the owner allowed.
    let out = t.stdout(&[
        "exec",
        "e",
        "--prefix",
        "MY_",
        "--",
        "sh",
        "-c",
        "echo $MY_PRELOAD",
    ]);
    assert_eq!(out.trim(), "/tmp/evil.so");
    t.cmd()
        .args(["edit", "e", "--allow-startup-vars"])
        .assert()
        .success();
    let out = t.stdout(&["export", "e", "--prefix", "LD_", "--format", "json"]);
    assert!(out.contains("LD_PRELOAD"), "{out}");
}

#[test]
fn the_browser_gets_no_key() {
    let peer = Peer::start();
    let mut t = T::new();
    t.env("AUTHCFG_PASSPHRASE", "passphrase-planted-41");
    let dump = t.dir.path().join("browser-env");
    let wrapper = t.dir.path().join("browser.sh");
    std::fs::write(
        &wrapper,
        format!(
            "env > '{}'\nexec {} \"$@\"\n",
            dump.display(),
            Peer::browser()
        ),
    )
    .unwrap();
    t.env("BROWSER", &format!("sh {}", wrapper.display()));
    t.init();
    t.cmd()
        .args([
            "add",
            "oauth2",
            "custom",
            "--name",
            "idp",
            "--issuer",
            &peer.issuer,
        ])
        .args([
            "--client-id",
            "public-native",
            "--scopes",
            "openid",
            "--timeout",
            "30",
        ])
        .assert()
        .success();
    let env = std::fs::read_to_string(&dump).unwrap();
    assert!(env.contains("PATH="), "the browser ran: {env}");
    let id = t.identity.clone().unwrap();
    assert_clean(
        "the browser's environment",
        env.as_bytes(),
        &[
            &id,
            "passphrase-planted-41",
            "AUTHCFG_IDENTITY",
            "AUTHCFG_PASSPHRASE",
        ],
    );
}

/// Red-team findings (second review): replays, a leaked retired key,
/// hostile member journals, planted directories and FIFOs.
mod review;

/// Rollbacks: authentic but older files put back, another store's files
/// swapped in, a format-1 header over a format-2 store. The local anchor
/// (outside the store) remembers what this key saw.
mod rollback {
    use super::*;

    #[test]
    fn an_older_signed_header_does_not_bring_a_removed_member_back() {
        let t = owner_with_configs();
        let (bob_secret, bob_public) = new_identity();
        t.cmd()
            .args(["recipients", "add", &bob_public, "--label", "bob"])
            .assert()
            .success();
        let with_bob = std::fs::read(t.store.join("authcfg.toml")).unwrap();
        t.cmd()
            .args(["recipients", "remove", "bob"])
            .assert()
            .success();
        std::fs::write(t.store.join("authcfg.toml"), &with_bob).unwrap();
        t.add(
            "bearer",
            "after",
            &[],
            Some(("token", "tok-after-rollback")),
        )
        .code(1)
        .stderr(contains("older copy"));
        t.cmd().args(["recipients", "list"]).assert().code(1);
        let bob = age::x25519::Identity::from_str(&bob_secret).unwrap();
        for f in config_files(&t) {
            assert!(!opens(&f, &bob, t.dir.path()));
        }
    }

    #[test]
    fn another_stores_files_are_not_taken_for_this_one() {
        let a = owner_with_configs();
        let mut b = T::new();
        b.identity = a.identity.clone();
        b.init();
        t_swap(&a, &b);
        a.cmd()
            .arg("list")
            .assert()
            .code(1)
            .stderr(contains("another store"));
    }

    fn t_swap(a: &T, b: &T) {
        std::fs::copy(b.store.join("authcfg.toml"), a.store.join("authcfg.toml")).unwrap();
    }

    #[test]
    fn a_cut_or_wiped_trail_is_caught_even_with_its_head_and_index_put_back() {
        let t = owner_with_configs();
        let trail = t.store.join("audit.jsonl");
        let saved: Vec<(std::path::PathBuf, Vec<u8>)> = t
            .store_files()
            .into_iter()
            .filter(|(p, _)| {
                p.ends_with("audit.jsonl")
                    || p.ends_with("audit.head")
                    || p.starts_with(t.store.join("index"))
            })
            .collect();
        t.cmd().args(["token", "prod/api"]).assert().success();
        t.cmd()
            .args(["show", "legacy", "--reveal"])
            .assert()
            .success();
        // Put back the older trail, head and index: every file authentic.
        for (p, b) in &saved {
            std::fs::write(p, b).unwrap();
        }
        t.cmd()
            .args(["log", "--verify"])
            .assert()
            .code(1)
            .stdout(contains("not there any more"));
        // Wipe it all.
        std::fs::remove_file(&trail).unwrap();
        std::fs::remove_file(t.store.join("audit.head")).unwrap();
        std::fs::remove_dir_all(t.store.join("index")).unwrap();
        t.cmd()
            .args(["log", "--verify"])
            .assert()
            .code(1)
            .stdout(contains("not there any more"));
    }

    #[test]
    fn a_format1_header_over_a_format2_store_is_not_upgraded() {
        let t = owner_with_configs();
        let evil = attacker();
        let legacy = format!(
            "format = 1\nid = \"{}\"\ncreated = \"2026-01-01T00:00:00Z\"\nkey_home = \"external\"\n\n[[recipients]]\nlabel = \"master\"\npublic_key = \"{}\"\n\n[[recipients]]\nlabel = \"backup\"\npublic_key = \"{}\"\n",
            header(&t).id,
            master_public(&t),
            evil.to_public()
        );
        std::fs::write(t.store.join("authcfg.toml"), legacy).unwrap();
        t.cmd()
            .arg("list")
            .assert()
            .code(1)
            .stderr(contains("downgrade"));
        for f in config_files(&t) {
            assert!(!opens(&f, &evil, t.dir.path()));
        }
    }
}
