//! AWS KMS key-service recipients (`recipients add awskms:ARN`) against
//! moto's KMS with signatures and IAM policies checked (`tests/peer/kms.py`;
//! docs/ARCHITECTURE.md, "Key services"). A runner HOME with only AWS
//! credentials allowed to decrypt with the team's key reads the team store;
//! a denied policy, a disabled key or an unreachable endpoint stop it with
//! exit 5; a ciphertext of another store (another encryption context) and
//! a blob naming another store are refused; `rotate --rewrap` re-encrypts;
//! the credentials reach no child, error, argv or audit trail.

use crate::key_service::{header, password};
use crate::recipients::admin_fingerprint;
use crate::support::services::{self, Kms};
use crate::support::*;
use predicates::str::contains;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

struct Team {
    _dir: tempfile::TempDir,
    bare: PathBuf,
    admin: T,
    kms: Kms,
}

/// `t` signs KMS calls as `user` of the peer, its keys in the variables
/// of `vars` (`AWS` or `AUTHCFG_KMS`), at the peer's endpoint.
fn as_user(t: &mut T, kms: &Kms, user: &str, vars: &str) {
    let (id, secret) = kms.keys(user);
    t.env("AUTHCFG_KMS_ENDPOINT", &kms.endpoint);
    t.env(&format!("{vars}_ACCESS_KEY_ID"), &id);
    t.env(&format!("{vars}_SECRET_ACCESS_KEY"), &secret);
}

/// An admin's team store (one config, shared on a bare repository) with a
/// key-service recipient `runner` sealed by the team's KMS key.
fn team() -> Team {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("team.git");
    let st = Std::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&bare)
        .status()
        .unwrap();
    assert!(st.success());
    let kms = Kms::start();
    let mut admin = T::new();
    admin.init();
    admin
        .add(
            "basic",
            "db",
            &["username=app"],
            Some(("password", "Db-Pass-0riginal")),
        )
        .success();
    admin
        .cmd()
        .args(["git", "init", "--remote"])
        .arg(&bare)
        .assert()
        .success();
    as_user(&mut admin, &kms, "admin", "AWS");
    admin
        .cmd()
        .args([
            "recipients",
            "add",
            &format!("awskms:{}", kms.key_arn),
            "--label",
            "runner",
            "--role",
            "viewer",
        ])
        .assert()
        .success();
    admin.cmd().arg("sync").assert().success();
    Team {
        _dir: dir,
        bare,
        admin,
        kms,
    }
}

impl Team {
    /// A runner HOME whose only key material is the runner's AWS keys, in
    /// a profile `ci` of its shared credentials file.
    fn runner_env(&self) -> T {
        let mut r = T::bare();
        let (id, secret) = self.kms.keys("runner");
        let aws = r.home.join(".aws");
        std::fs::create_dir_all(&aws).unwrap();
        std::fs::write(
            aws.join("credentials"),
            format!("[default]\naws_access_key_id = AKIANOTTHISONE\naws_secret_access_key = nope\n\n[ci]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
        )
        .unwrap();
        r.env("AUTHCFG_KMS_ENDPOINT", &self.kms.endpoint);
        r.env("AWS_PROFILE", "ci");
        r
    }

    fn runner(&self) -> T {
        let r = self.runner_env();
        r.cmd()
            .args(["git", "clone"])
            .arg(&self.bare)
            .args(["--trust-admin", &admin_fingerprint(&self.admin)])
            .assert()
            .success()
            .stderr(contains("your role: viewer"));
        r
    }

    /// The KMS calls of `target` made with `user`'s key.
    fn calls(&self, target: &str, user: &str) -> Vec<serde_json::Value> {
        let id = self.kms.keys(user).0;
        self.kms
            .calls()
            .into_iter()
            .filter(|c| c["target"] == target && c["caller"] == id.as_str())
            .collect()
    }

    /// The team key's id (moto's DisableKey takes the id, not the ARN).
    fn key_id(&self) -> &str {
        self.kms.key_arn.rsplit('/').next().unwrap()
    }
}

fn runner_custody(dir: &Path) -> authcfg::store::header::Custody {
    header(dir)
        .recipients
        .into_iter()
        .find(|r| r.label == "runner")
        .and_then(|r| r.custody)
        .expect("the runner has a custody")
}

/// The header of `dir` with the runner's recipient replaced, signed by the
/// admin (as a compromised admin, or a bug, could).
fn resign(team: &Team, dir: &Path, f: impl FnOnce(&mut authcfg::store::header::Recipient)) {
    let mut h = header(dir);
    f(h.recipients
        .iter_mut()
        .find(|r| r.label == "runner")
        .unwrap());
    let admin_id = authcfg::keys::identity::parse(team.admin.identity.as_deref().unwrap()).unwrap();
    h.generation += 1;
    h.sign(&authcfg::store::crypto::AdminKey::from_identity(&admin_id));
    std::fs::write(dir.join("authcfg.toml"), h.to_toml()).unwrap();
}

#[test]
fn a_runner_with_only_kms_credentials_reads_the_team_store() {
    let team = team();
    let c = runner_custody(&team.admin.store);
    assert_eq!(c.service, "awskms");
    assert_eq!(c.key, team.kms.key_arn);
    assert!(c.addr.is_none());
    let store_id = header(&team.admin.store).id;
    // The admin's Encrypt carried this store's encryption context.
    let enc = team.calls("Encrypt", "admin");
    assert_eq!(enc.len(), 1, "{enc:?}");
    assert_eq!(enc[0]["context"]["authcfg-store"], store_id.as_str());
    assert_eq!(enc[0]["key_id"], team.kms.key_arn.as_str());

    let runner = team.runner();
    assert!(!runner.home.join(".config/authcfg/key.txt").exists());
    assert_eq!(password(&runner), "Db-Pass-0riginal");
    // Each unwrap is one Decrypt by the runner's key, naming the key and
    // this store's context.
    let base = team.calls("Decrypt", "runner").len();
    assert!(base >= 1);
    for _ in 0..2 {
        password(&runner);
    }
    let dec = team.calls("Decrypt", "runner");
    assert_eq!(dec.len(), base + 2);
    for d in &dec {
        assert_eq!(d["key_id"], team.kms.key_arn.as_str());
        assert_eq!(d["context"]["authcfg-store"], store_id.as_str());
    }
    // doctor: the recipient's kind, and KMS answers these credentials.
    let out = runner.cmd().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("awskms (awskms:{}): reachable", team.kms.key_arn)),
        "{text}"
    );
    assert!(text.contains("profile 'ci'"), "{text}");
    // The runner is a viewer: it cannot write.
    runner
        .add("bearer", "x", &[], Some(("token", "t-123456")))
        .failure();
}

#[test]
fn a_denied_policy_a_disabled_key_or_no_endpoint_stop_the_runner_with_exit_5() {
    let team = team();
    let runner = team.runner();
    assert_eq!(password(&runner), "Db-Pass-0riginal");
    // The runner's policy no longer allows Decrypt.
    team.kms
        .policy("runner", &["kms:DescribeKey"], &[&team.kms.key_arn]);
    runner
        .cmd()
        .args(["export", "db", "--format", "json"])
        .assert()
        .code(5)
        .stdout("")
        .stderr(contains("refused Decrypt"))
        .stderr(contains("AccessDenied"))
        .stderr(contains("kms:Decrypt"));
    // Allowed again, on another key only: still refused.
    team.kms.policy(
        "runner",
        &["kms:Decrypt", "kms:DescribeKey"],
        &[&team.kms.other_key_arn],
    );
    runner.cmd().args(["export", "db"]).assert().code(5);
    team.kms.policy(
        "runner",
        &["kms:Decrypt", "kms:DescribeKey"],
        &[&team.kms.key_arn],
    );
    assert_eq!(password(&runner), "Db-Pass-0riginal");
    // A disabled key: refused, and doctor says why the key is missing.
    team.kms
        .aws(&["kms", "disable-key", "--key-id", team.key_id()]);
    runner
        .cmd()
        .args(["export", "db"])
        .assert()
        .code(5)
        .stdout("")
        .stderr(contains("DisabledException"))
        .stderr(contains("enable-key"));
    let out = runner.cmd().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DisabledException"), "{text}");
    team.kms
        .aws(&["kms", "enable-key", "--key-id", team.key_id()]);
    assert_eq!(password(&runner), "Db-Pass-0riginal");
    // KMS unreachable: an error and a hint, no other source tried.
    let mut down = team.runner_env();
    down.store = runner.store.clone();
    down.env(
        "AUTHCFG_KMS_ENDPOINT",
        &format!("http://127.0.0.1:{}", services::closed_port()),
    );
    down.cmd()
        .args(["export", "db"])
        .assert()
        .code(5)
        .stdout("")
        .stderr(contains("cannot be reached"))
        .stderr(contains("store stays closed"));
    // No credentials at all: what to set is named.
    let mut none = T::bare();
    none.store = runner.store.clone();
    none.env("AUTHCFG_KMS_ENDPOINT", &team.kms.endpoint);
    none.cmd()
        .args(["export", "db"])
        .assert()
        .code(5)
        .stderr(contains("AWS_ACCESS_KEY_ID"));
}

#[test]
fn another_stores_ciphertext_and_another_stores_blob_are_refused() {
    let team = team();
    let runner = team.runner();
    let store_id = header(&runner.store).id;
    // A second store of the same admin, whose runner key the same KMS key
    // seals (under that store's encryption context).
    let mut other = T::new();
    other.identity = team.admin.identity.clone();
    other.store = team.admin.dir.path().join("other-store");
    other.init();
    as_user(&mut other, &team.kms, "admin", "AWS");
    other
        .cmd()
        .args([
            "recipients",
            "add",
            &format!("awskms:{}", team.kms.key_arn),
            "--label",
            "runner",
        ])
        .assert()
        .success();
    let theirs = header(&other.store)
        .recipients
        .into_iter()
        .find(|r| r.label == "runner")
        .unwrap();
    // The header (signed by the admin) lists the other store's runner: KMS
    // refuses the ciphertext under this store's context.
    resign(&team, &runner.store, |r| *r = theirs.clone());
    runner
        .cmd()
        .args(["export", "db"])
        .assert()
        .code(5)
        .stdout("")
        .stderr(contains("InvalidCiphertextException"));
    // Made under this store's context but naming the other store (whoever
    // may Encrypt with the key could): refused after decryption.
    let other_id = header(&other.store).id;
    let evil = age::x25519::Identity::generate();
    let blob = {
        use age::secrecy::ExposeSecret;
        let mut b = b"authcfg-custody-v1\0".to_vec();
        b.extend_from_slice(other_id.as_bytes());
        b.push(0);
        b.extend_from_slice(evil.to_string().expose_secret().as_bytes());
        b
    };
    let plain = team.admin.dir.path().join("blob");
    std::fs::write(&plain, &blob).unwrap();
    let sealed = team.kms.aws(&[
        "kms",
        "encrypt",
        "--key-id",
        &team.kms.key_arn,
        "--plaintext",
        &format!("fileb://{}", plain.display()),
        "--encryption-context",
        &format!("authcfg-store={store_id}"),
        "--query",
        "CiphertextBlob",
        "--output",
        "text",
    ]);
    resign(&team, &runner.store, |r| {
        r.public_key = evil.to_public().to_string();
        r.custody = Some(authcfg::store::header::Custody {
            service: "awskms".into(),
            key: team.kms.key_arn.clone(),
            sealed: sealed.clone(),
            addr: None,
        });
    });
    runner
        .cmd()
        .args(["export", "db"])
        .assert()
        .code(5)
        .stdout("")
        .stderr(contains("another store's key"));
    // A header whose custody names another key, written by whoever can
    // write the store directory: the signature refuses it.
    let mut h = header(&runner.store);
    h.recipients
        .iter_mut()
        .find(|r| r.label == "runner")
        .unwrap()
        .custody
        .as_mut()
        .unwrap()
        .key = team.kms.other_key_arn.clone();
    std::fs::write(runner.store.join("authcfg.toml"), h.to_toml()).unwrap();
    let out = runner.cmd().args(["export", "db"]).output().unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn rewrap_re_encrypts_in_kms_and_the_store_stays_readable() {
    let team = team();
    let runner = team.runner();
    let before = runner_custody(&team.admin.store).sealed;
    team.admin
        .cmd()
        .args(["rotate", "--rewrap"])
        .assert()
        .success()
        .stderr(contains("Rewrapped 1 key-service recipient"));
    let after = runner_custody(&team.admin.store).sealed;
    assert_ne!(before, after);
    // One ReEncrypt by the admin, from and to this store's context: the
    // identity never left KMS.
    let re = team.calls("ReEncrypt", "admin");
    assert_eq!(re.len(), 1, "{re:?}");
    let id = header(&team.admin.store).id;
    assert_eq!(re[0]["context"]["authcfg-store"], id.as_str());
    assert_eq!(re[0]["source_context"]["authcfg-store"], id.as_str());
    assert!(team.calls("Decrypt", "admin").is_empty());
    team.admin.cmd().arg("sync").assert().success();
    runner.cmd().arg("sync").assert().success();
    assert_eq!(runner_custody(&runner.store).sealed, after);
    assert_eq!(password(&runner), "Db-Pass-0riginal");
    // The runner may not re-encrypt (nor sign a header): refused.
    runner.cmd().args(["rotate", "--rewrap"]).assert().code(5);
}

#[test]
fn kms_credentials_reach_no_child_error_argv_or_audit() {
    let team = team();
    let runner = team.runner();
    let (id, secret) = team.kms.keys("runner");
    // The KMS-only variables (scrubbed at start-up) instead of a profile.
    let mut env = T::bare();
    env.store = runner.store.clone();
    // A HOME of its own: the admin key it trusts comes from its settings,
    // as in CI (a custody key's pin lives in its state directory).
    env.env("AUTHCFG_TRUST_ADMIN", &admin_fingerprint(&team.admin));
    as_user(&mut env, &team.kms, "runner", "AUTHCFG_KMS");
    let out = env
        .cmd()
        .args([
            "exec",
            "db",
            "--",
            "sh",
            "-c",
            "env; tr '\\0' ' ' < /proc/$$/cmdline",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let child = String::from_utf8_lossy(&out.stdout);
    assert!(
        child.contains("Db-Pass-0riginal"),
        "the config reached the child"
    );
    assert_clean("the child's environment and argv", &out.stdout, &[&secret]);
    assert!(!child.contains("AUTHCFG_KMS_SECRET_ACCESS_KEY="));
    // Refused by KMS: the error names the credentials' source, not them.
    team.kms
        .policy("runner", &["kms:DescribeKey"], &[&team.kms.key_arn]);
    let out = env.cmd().args(["export", "db"]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AUTHCFG_KMS_ACCESS_KEY_ID"), "{err}");
    assert_clean("the error", &out.stderr, &[&secret]);
    let (_, admin_secret) = team.kms.keys("admin");
    for t in [&runner, &team.admin] {
        for (p, bytes) in t.store_files() {
            assert_clean(&p.to_string_lossy(), &bytes, &[&secret, &admin_secret, &id]);
        }
    }
}

#[test]
fn recipients_add_refuses_aliases_bad_arns_and_missing_credentials() {
    let kms = Kms::start();
    let mut t = T::new();
    t.init();
    let before = t.snapshot();
    let alias = kms.key_arn.replace(":key/", ":alias/");
    t.cmd()
        .args([
            "recipients",
            "add",
            &format!("awskms:{alias}"),
            "--label",
            "r",
        ])
        .assert()
        .code(2)
        .stderr(contains("names an alias"));
    t.cmd()
        .args([
            "recipients",
            "add",
            "awskms:arn:aws:kms:evil.example/x:111122223333:key/1",
            "--label",
            "r",
        ])
        .assert()
        .code(2)
        .stderr(contains("not an AWS KMS key ARN"));
    let spec = format!("awskms:{}", kms.key_arn);
    // No credentials anywhere (an empty HOME).
    t.env("AUTHCFG_KMS_ENDPOINT", &kms.endpoint);
    t.cmd()
        .args(["recipients", "add", &spec, "--label", "r"])
        .assert()
        .code(5)
        .stderr(contains("no AWS credentials"));
    as_user(&mut t, &kms, "admin", "AWS");
    t.cmd()
        .args([
            "recipients",
            "add",
            &spec,
            "--label",
            "r",
            "--addr",
            "https://x",
        ])
        .assert()
        .code(2)
        .stderr(contains("--addr is for an OpenBao"));
    // A plain-http endpoint that is not loopback would carry the identity
    // in the clear.
    t.env("AUTHCFG_KMS_ENDPOINT", "http://192.0.2.1:4566");
    t.cmd()
        .args(["recipients", "add", &spec, "--label", "r"])
        .assert()
        .code(2)
        .stderr(contains("cannot receive a key"));
    // The outsider may not Encrypt: refused, the store unchanged.
    as_user(&mut t, &kms, "outsider", "AWS");
    t.env("AUTHCFG_KMS_ENDPOINT", &kms.endpoint);
    t.cmd()
        .args(["recipients", "add", &spec, "--label", "r"])
        .assert()
        .code(5)
        .stderr(contains("refused Encrypt"));
    assert_eq!(t.snapshot(), before, "the store is unchanged");
}

#[test]
fn a_member_with_a_key_of_their_own_and_other_aws_credentials_opens_as_themselves() {
    let team = team();
    // Alice has her own key and AWS credentials for other work (allowed
    // nothing in KMS), as developers commonly do.
    let mut alice = T::bare();
    alice.env("USER", "alice");
    let out = alice.cmd().args(["key", "new", "--file"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let (id, secret) = team.kms.keys("outsider");
    let aws = alice.home.join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    alice.env("AUTHCFG_KMS_ENDPOINT", &team.kms.endpoint);
    team.admin
        .cmd()
        .args(["recipients", "add", &public, "--label", "alice"])
        .assert()
        .success();
    team.admin.cmd().arg("sync").assert().success();
    alice
        .cmd()
        .args(["git", "clone"])
        .arg(&team.bare)
        .args(["--trust-admin", &admin_fingerprint(&team.admin)])
        .assert()
        .success();
    assert_eq!(password(&alice), "Db-Pass-0riginal");
    // As herself (a developer, not the viewer runner): she may write, and
    // KMS was never asked with her AWS credentials.
    alice
        .add("bearer", "x", &[], Some(("token", "t-123456")))
        .success();
    assert!(team.calls("Decrypt", "outsider").is_empty());
}

#[test]
fn a_decrypt_answer_naming_another_key_is_refused() {
    let team = team();
    let runner = team.runner();
    assert_eq!(password(&runner), "Db-Pass-0riginal");
    // A lying (or misrouted) endpoint answers Decrypt as another key: the
    // plaintext is not taken, whatever it holds.
    team.kms.lie();
    runner
        .cmd()
        .args(["export", "db"])
        .assert()
        .code(5)
        .stdout("")
        .stderr(contains("answered Decrypt with key"))
        .stderr(contains(team.kms.other_key_arn.as_str()));
}
