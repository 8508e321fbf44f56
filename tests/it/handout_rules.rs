//! Issue 18, item 5 (and the custom `oauth2` part of 6): which fields may
//! leave authcfg is one rule (`ops::handout::may_leave`) that `export`,
//! `exec`, project files and `inject` all ask, for a provider's OAuth2
//! config and the custom `oauth2` type alike; every file read for the user
//! goes through one bounded, regular-file-only reader (`input::read`).

use crate::support::*;
use predicates::str::contains;
use std::time::Duration;

const RT: &str = "rt-manual-planted-Refresh-61";
const CS: &str = "cs-manual-planted-Secret-62";
const AT: &str = "at-manual-planted-Access-63";

/// A custom `oauth2` config holding all three tokens.
fn manual(t: &T) {
    let seed = serde_json::json!({
        "type": "oauth2",
        "name": "manual",
        "config": {
            "authorization_url": "https://auth.example.test/authorize",
            "token_url": "https://auth.example.test/token",
            "client_id": "cid-manual",
            "client_secret": CS,
            "access_token": AT,
            "refresh_token": RT,
        }
    });
    t.cmd()
        .args(["import", "-"])
        .write_stdin(seed.to_string())
        .assert()
        .success();
}

/// Red team 2, #1: the seed format handed out the grant.
#[test]
fn seed_export_leaves_out_the_refresh_token_and_client_secret() {
    let t = T::new();
    t.init();
    manual(&t);
    let out = t
        .cmd()
        .args(["export", "manual", "--format", "seed"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_clean("export --format seed", &out.stdout, &[RT, CS]);
    assert_clean("export --format seed's stderr", &out.stderr, &[RT, CS]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["config"]["access_token"], AT, "{v}");
    assert_eq!(v["config"]["client_id"], "cid-manual", "{v}");
    assert!(v["config"].get("refresh_token").is_none(), "{v}");
    assert!(v["config"].get("client_secret").is_none(), "{v}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("left out") && err.contains("refresh_token") && err.contains("client_secret"),
        "{err}"
    );
}

#[test]
fn custom_oauth2_refresh_token_and_client_secret_never_leave() {
    let t = T::new();
    t.init();
    manual(&t);
    // export and exec: the access token, never the other two.
    let out = t
        .cmd()
        .args(["export", "manual", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["MANUAL_ACCESS_TOKEN"], AT, "{v}");
    assert_clean("export", &out.stdout, &[RT, CS]);
    let out = t
        .cmd()
        .args(["exec", "manual", "--", "env"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(AT));
    assert_clean("exec's child environment", &out.stdout, &[RT, CS]);
    // inject: refused, nothing written.
    for field in ["refresh_token", "client_secret"] {
        let dir = tempfile::tempdir().unwrap();
        let tmpl = dir.path().join("t.tmpl");
        std::fs::write(&tmpl, format!("x={{{{ authcfg://manual/{field} }}}}\n")).unwrap();
        let out_file = dir.path().join("out");
        let out = t
            .cmd()
            .arg("inject")
            .arg("-i")
            .arg(&tmpl)
            .arg("-o")
            .arg(&out_file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{field}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("never leaves authcfg"));
        assert!(!out_file.exists());
        assert_clean("inject", &out.stdout, &[RT, CS]);
    }
    let dir = tempfile::tempdir().unwrap();
    let tmpl = dir.path().join("ok.tmpl");
    std::fs::write(&tmpl, "x={{ authcfg://manual/access_token }}").unwrap();
    t.cmd()
        .arg("inject")
        .arg("-i")
        .arg(&tmpl)
        .assert()
        .success()
        .stdout(format!("x={AT}"));
    // a project file's reference: refused by the same rule.
    let repo = t.dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join(".authcfg.toml"),
        "[env]\nRT = \"authcfg://manual/refresh_token\"\n",
    )
    .unwrap();
    t.cmd()
        .current_dir(&repo)
        .args(["project", "allow"])
        .assert()
        .success();
    let out = t
        .cmd()
        .current_dir(&repo)
        .args(["export", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("never leaves authcfg"));
    assert_clean("project export", &out.stdout, &[RT, CS]);
}

#[test]
fn provider_oauth2_refresh_token_never_leaves_through_inject() {
    let peer = Peer::start();
    let mut t = T::new();
    t.env("BROWSER", &Peer::browser());
    t.init();
    t.cmd()
        .args(["add", "oauth2", "custom", "--name", "forge"])
        .args(["--issuer", &peer.issuer, "--client-id", "public-native"])
        .args(["--scopes", "openid offline_access", "--timeout", "30"])
        .assert()
        .success();
    let doc: serde_json::Value =
        serde_json::from_str(&t.stdout(&["show", "forge", "--json", "--reveal"])).unwrap();
    let rt = doc["config"]["refresh_token"].as_str().unwrap().to_string();
    assert!(rt.len() > 10);
    let dir = tempfile::tempdir().unwrap();
    let tmpl = dir.path().join("t.tmpl");
    std::fs::write(&tmpl, "rt={{ authcfg://forge/refresh_token }}\n").unwrap();
    let out = t.cmd().arg("inject").arg("-i").arg(&tmpl).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("never leaves authcfg"));
    assert_clean("inject", &out.stdout, &[&rt]);
    std::fs::write(&tmpl, "at={{ authcfg://forge/access_token }}\n").unwrap();
    t.cmd()
        .arg("inject")
        .arg("-i")
        .arg(&tmpl)
        .assert()
        .success()
        .stdout(contains("at="));
}

#[test]
fn inject_refuses_devices_and_fifos_at_once_and_bounds_standard_input() {
    let t = T::new();
    t.init();
    let dir = tempfile::tempdir().unwrap();
    t.cmd()
        .args(["inject", "-i", "/dev/zero"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(contains("not a regular file"));
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    t.cmd()
        .arg("inject")
        .arg("-i")
        .arg(&fifo)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(contains("not a regular file"));
    t.cmd()
        .arg("inject")
        .arg("-i")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("a directory"));
    // Standard input is read up to the bound, not until memory runs out.
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let out = t
        .std_cmd()
        .args(["inject", "-i", "-"])
        .stdin(zero)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than"));
    // The same reader for imports and request bodies.
    t.cmd()
        .args(["import", "/dev/zero"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(contains("not a regular file"));
    t.cmd()
        .args([
            "http",
            "nothing",
            "https://x.example/",
            "--data",
            "@/dev/zero",
        ])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(contains("not a regular file"));
}
