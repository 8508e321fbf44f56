//! Shared helpers for the integration tests: a private HOME and store per
//! test, the real binary, and real peers (D-Bus + gnome-keyring).
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_authcfg");

pub struct T {
    pub dir: TempDir,
    pub home: PathBuf,
    pub store: PathBuf,
    /// `AGE-SECRET-KEY-1…` used through AUTHCFG_IDENTITY (None: no env key).
    pub identity: Option<String>,
    pub extra_env: Vec<(String, String)>,
}

pub fn new_identity() -> (String, String) {
    use age::secrecy::ExposeSecret;
    let id = age::x25519::Identity::generate();
    (
        id.to_string().expose_secret().to_string(),
        id.to_public().to_string(),
    )
}

impl T {
    /// `log --verify` fails (exit 1) and says `why`.
    pub fn verify_fails(&self, why: &str) {
        self.cmd()
            .args(["log", "--verify"])
            .assert()
            .code(1)
            .stdout(predicates::str::contains(why));
    }

    /// A test environment whose master key comes from AUTHCFG_IDENTITY.
    pub fn new() -> T {
        let mut t = T::bare();
        t.identity = Some(new_identity().0);
        t
    }

    /// No key source at all; keyrings disabled unless the test enables one.
    pub fn bare() -> T {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let store = dir.path().join("store");
        T {
            dir,
            home,
            store,
            identity: None,
            extra_env: vec![("AUTHCFG_KEYRING".into(), "none".into())],
        }
    }

    pub fn env(&mut self, k: &str, v: &str) -> &mut Self {
        self.extra_env.retain(|(x, _)| x != k);
        self.extra_env.push((k.into(), v.into()));
        self
    }

    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// Same environment for a std Command (for spawn/pty tests).
    pub fn std_cmd(&self) -> std::process::Command {
        let mut c = std::process::Command::new(BIN);
        self.apply(&mut c);
        c
    }

    /// This test's environment on any command (git, a shell).
    pub fn apply(&self, c: &mut std::process::Command) {
        for (k, _) in std::env::vars() {
            if k.starts_with("AUTHCFG_")
                || k.starts_with("GIT_")
                || k.starts_with("AWS_")
                || k == "RUST_BACKTRACE"
                || k == "GITHUB_ENV"
                || k == "GITHUB_REPOSITORY"
                || k == "GITHUB_WORKFLOW"
                || k == "CI_PROJECT_PATH"
                || k == "CI_JOB_NAME"
                || k == "DBUS_SESSION_BUS_ADDRESS"
            {
                c.env_remove(k);
            }
        }
        c.env("HOME", &self.home)
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("AUTHCFG_HOME", &self.store)
            .env("NO_COLOR", "1");
        if let Some(id) = &self.identity {
            c.env("AUTHCFG_IDENTITY", id);
        }
        for (k, v) in &self.extra_env {
            c.env(k, v);
        }
    }

    pub fn init(&self) {
        self.cmd().arg("init").assert().success();
    }

    /// `init --identity-file DIR/master.key`: a store whose master key is
    /// a file the store remembers (the set-up of the rotation and kill
    /// tests). Returns the key file.
    pub fn init_with_key_file(&self) -> PathBuf {
        let keyfile = self.dir.path().join("master.key");
        self.cmd()
            .args(["init", "--identity-file"])
            .arg(&keyfile)
            .assert()
            .success();
        keyfile
    }

    /// `authcfg add custom TYPE --name NAME [--set ...] [--secret-stdin F < value]`.
    pub fn add(
        &self,
        ty: &str,
        name: &str,
        sets: &[&str],
        stdin: Option<(&str, &str)>,
    ) -> assert_cmd::assert::Assert {
        let mut c = self.cmd();
        c.args(["add", "custom", ty, "--name", name]);
        for s in sets {
            c.args(["--set", s]);
        }
        if let Some((field, value)) = stdin {
            c.args(["--secret-stdin", field])
                .write_stdin(value.to_string());
        }
        c.assert()
    }

    pub fn stdout(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `export NAMES... --format json` in one call (one decryption each).
    pub fn export_json(&self, names: &[String]) -> serde_json::Value {
        let out = self
            .cmd()
            .arg("export")
            .args(["--format", "json"])
            .args(names)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Every file of the store, relative path and bytes.
    pub fn store_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = vec![];
        walk(&self.store, &mut out);
        out
    }

    /// A snapshot of the whole store (paths and bytes), minus the files that
    /// change on every command (audit trail, usage log, last-used markers,
    /// lock).
    pub fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        self.store_files()
            .into_iter()
            .filter(|(p, _)| {
                let s = p.to_string_lossy();
                !s.ends_with("audit.jsonl")
                    && !s.ends_with("audit.head")
                    && !s.contains("/used/")
                    && !s.contains("/audit/")
                    && !s.contains("/usage/")
                    && !s.ends_with("usage.log")
                    && !s.ends_with(".lock")
            })
            .collect()
    }
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
        }
    }
}

/// Fails if any planted secret appears in the bytes.
pub fn assert_clean(what: &str, bytes: &[u8], secrets: &[&str]) {
    let text = String::from_utf8_lossy(bytes);
    for s in secrets {
        assert!(
            !text.contains(s),
            "secret {s:?} leaked into {what}:\n{text}"
        );
    }
}

/// A private D-Bus session bus with an unlocked gnome-keyring Secret
/// Service on it, torn down on drop.
pub struct SecretService {
    pub address: String,
    _keyring: services::Guard,
    _bus: services::Guard,
    _dir: TempDir,
}

impl SecretService {
    pub fn start() -> SecretService {
        use std::io::{BufRead, BufReader, Write};
        let dir = tempfile::tempdir().unwrap();
        let runtime = dir.path().join("run");
        std::fs::create_dir_all(&runtime).unwrap();
        std::fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let mut bus = std::process::Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!(
                "--address=unix:path={}",
                dir.path().join("bus").display()
            ))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (apt: dbus) must be installed");
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        assert!(address.starts_with("unix:"), "dbus-daemon gave no address");
        let mut keyring = std::process::Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (apt: gnome-keyring) must be installed");
        keyring
            .stdin
            .take()
            .unwrap()
            .write_all(b"test-keyring-password")
            .unwrap();
        // The first access races a second, bus-activated daemon unless the
        // name has an owner first; gdbus waits for that event.
        let ok = std::process::Command::new("gdbus")
            .args([
                "wait",
                "--address",
                &address,
                "--timeout",
                "20",
                "org.freedesktop.secrets",
            ])
            .status()
            .expect("gdbus (apt: libglib2.0-bin) must be installed");
        assert!(
            ok.success(),
            "org.freedesktop.secrets did not appear on the test bus"
        );
        SecretService {
            address,
            _keyring: services::Guard(keyring),
            _bus: services::Guard(bus),
            _dir: dir,
        }
    }
}

/// Gives this test process (and its children) a fresh kernel session
/// keyring, as `keyctl session -` does; keyutils needs one.
pub fn join_new_session_keyring() {
    let r = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    assert!(r >= 0, "keyctl join session keyring failed");
}

/// The OAuth2/OpenID server (oidc-provider) on 127.0.0.1, killed on drop.
pub struct Peer {
    pub issuer: String,
    child: services::Guard,
}

pub const PEER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peer");

impl Peer {
    /// `authcfg add oauth2 custom NAME` as the peer's client-credentials
    /// robot (`machine`, scope `api:read`): the one set-up of a machine
    /// account the tests share.
    pub fn add_robot(&self, t: &T, name: &str) -> assert_cmd::assert::Assert {
        t.cmd()
            .args(["add", "oauth2", "custom", "--name", name])
            .args(["--issuer", &self.issuer, "--client-id", "machine"])
            .args([
                "--client-secret-stdin",
                "--client-credentials",
                "--scopes",
                "api:read",
            ])
            .write_stdin("machine-secret-planted-3e4")
            .assert()
    }

    pub fn start() -> Peer {
        Peer::start_with(&[])
    }

    /// The server with variables that make it hostile (`PEER_EMAIL`,
    /// `PEER_AUTH_ERROR`, `PEER_DEVICE_FIELDS`: tests/peer/server.mjs).
    pub fn start_with(env: &[(&str, &str)]) -> Peer {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new("node")
            .arg(format!("{PEER_DIR}/server.mjs"))
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node must be installed (scripts/setup)");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line).unwrap();
        // Keep draining: node dies of EPIPE if its stdout is closed.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let json: serde_json::Value =
            serde_json::from_str(line.strip_prefix("READY ").unwrap_or_else(|| {
                panic!("peer did not start: {line:?} (run scripts/setup for npm ci)")
            }))
            .unwrap();
        Peer {
            issuer: json["issuer"].as_str().unwrap().to_string(),
            child: services::Guard(child),
        }
    }

    pub fn stats(&self) -> serde_json::Value {
        reqwest::blocking::get(format!("{}/_test/stats", self.issuer))
            .unwrap()
            .json()
            .unwrap()
    }

    pub fn grants(&self, grant: &str) -> u64 {
        self.stats()["grants"][grant].as_u64().unwrap_or(0)
    }

    pub fn set_access_ttl(&self, seconds: u64) {
        reqwest::blocking::get(format!("{}/_test/ttl?seconds={seconds}", self.issuer)).unwrap();
    }

    /// RFC 7662 introspection, authenticated as the confidential test client.
    pub fn introspect(&self, token: &str) -> serde_json::Value {
        reqwest::blocking::Client::new()
            .post(format!("{}/token/introspection", self.issuer))
            .basic_auth("conf-basic", Some("basic-secret-planted-7c1"))
            .form(&[("token", token)])
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    /// A refresh-token grant made directly, as a thief holding the token would.
    pub fn try_refresh(&self, client_id: &str, refresh_token: &str) -> serde_json::Value {
        reqwest::blocking::Client::new()
            .post(format!("{}/token", self.issuer))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", client_id),
            ])
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    pub fn browser() -> String {
        format!("node {PEER_DIR}/browser.mjs")
    }
}

/// A real tmpfs mounted for one test (a full disk, a read-only store),
/// unmounted on drop. Needs root (CI runs as root).
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. `"1m"`) at `dir`, mode 0700.
    pub fn mount(dir: &Path, size: &str) -> Tmpfs {
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "needs root to mount a tmpfs (CI runs as root)"
        );
        std::fs::create_dir_all(dir).unwrap();
        let st = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("tmpfs")
            .arg(dir)
            .status()
            .unwrap();
        assert!(st.success(), "mount -t tmpfs failed");
        Tmpfs(dir.to_path_buf())
    }

    /// Makes the file system read-only (`mount -o remount,ro`).
    pub fn read_only(&self) {
        let st = std::process::Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(st.success(), "mount -o remount,ro failed");
    }

    /// Fills the file system, then frees `slack` bytes of it.
    pub fn fill(&self, slack: u64) {
        use std::io::Write;
        let p = self.0.join("filler");
        let mut f = std::fs::File::create(&p).unwrap();
        for chunk in [65536, 4096, 512] {
            let buf = vec![0u8; chunk];
            while f.write_all(&buf).is_ok() {}
        }
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(slack)).unwrap();
    }

    /// Removes what `fill` wrote.
    pub fn free(&self) {
        let _ = std::fs::remove_file(self.0.join("filler"));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

pub mod echo;
pub mod pki;
pub mod services;
pub mod tls_services;

/// Copies a directory tree, private (0700 directories, 0600 files).
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(
        to,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700),
    )
    .unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
            std::fs::set_permissions(
                &dest,
                <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
            )
            .unwrap();
        }
    }
}
