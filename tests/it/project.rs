//! Project files (.authcfg.toml): `exec` and `export` with no names,
//! environments, `project check`, secrets refused, the shell hook in real
//! bash, zsh and fish, and the direnv line.

use crate::support::*;
use predicates::str::contains;
use std::path::{Path, PathBuf};

const FILE: &str = r#"
[env]
STRIPE_KEY = "authcfg://dev/stripe/api_key"
LOG_LEVEL = "debug"
DEV_DB_USERNAME = "override"
[env.production]
STRIPE_KEY = "authcfg://prod/stripe/api_key"
[configs]
default = ["dev/db"]
[overrides]
default = ["DEV_DB_USERNAME"]
"#;

/// A store with configs, and a repository whose file is `FILE`.
fn setup() -> (T, PathBuf) {
    let t = T::new();
    t.init();
    t.add(
        "api-key",
        "dev/stripe",
        &["tls_ca=/etc/ssl/certs/ca-certificates.crt"],
        Some(("api_key", "sk-dev-planted-41")),
    )
    .success();
    t.add(
        "api-key",
        "prod/stripe",
        &[],
        Some(("api_key", "sk-prod-planted-42")),
    )
    .success();
    t.add(
        "basic",
        "dev/db",
        &["username=app"],
        Some(("password", "db-pw-planted-43")),
    )
    .success();
    let repo = t.dir.path().join("repo");
    std::fs::create_dir_all(repo.join("deep/er")).unwrap();
    std::fs::write(repo.join(".authcfg.toml"), FILE).unwrap();
    (t, repo)
}

fn json_in(t: &T, dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = t.cmd().current_dir(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn exec_and_export_use_the_project_file_found_from_here_up() {
    let (t, repo) = setup();
    let deep = repo.join("deep/er");
    t.cmd()
        .current_dir(&deep)
        .args(["project", "allow"])
        .assert()
        .success();
    let env = json_in(&t, &deep, &["export", "--format", "json"]);
    assert_eq!(env["STRIPE_KEY"], "sk-dev-planted-41");
    assert_eq!(env["LOG_LEVEL"], "debug");
    assert_eq!(env["DEV_DB_PASSWORD"], "db-pw-planted-43");
    assert_eq!(
        env["DEV_DB_USERNAME"], "override",
        "[env] wins over [configs]"
    );
    // Environments do not inherit: production has only its own.
    let prod = json_in(
        &t,
        &deep,
        &["export", "--format", "json", "--env", "production"],
    );
    assert_eq!(
        prod,
        serde_json::json!({"STRIPE_KEY": "sk-prod-planted-42"})
    );
    let prod_env = t
        .cmd()
        .current_dir(&deep)
        .env("AUTHCFG_ENV", "production")
        .args(["export", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&prod_env.stdout).unwrap(),
        prod
    );
    t.cmd()
        .current_dir(&deep)
        .args([
            "exec",
            "--",
            "sh",
            "-c",
            "printf '%s|%s' \"$STRIPE_KEY\" \"$DEV_DB_PASSWORD\"",
        ])
        .assert()
        .success()
        .stdout("sk-dev-planted-41|db-pw-planted-43");
    t.cmd()
        .current_dir(&deep)
        .args(["exec", "--env", "staging", "--", "true"])
        .assert()
        .code(2)
        .stderr(contains("no environment 'staging'"))
        .stderr(contains("default, production"));
    // Named configs ignore the project file; --env then makes no sense.
    let named = json_in(&t, &deep, &["export", "dev/stripe", "--format", "json"]);
    assert_eq!(named["DEV_STRIPE_API_KEY"], "sk-dev-planted-41");
    t.cmd()
        .current_dir(&deep)
        .args(["export", "dev/stripe", "--env", "production"])
        .assert()
        .code(2);
    // Outside any project: a clear usage error.
    let outside = t.dir.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    t.cmd()
        .current_dir(&outside)
        .args(["exec", "--", "true"])
        .assert()
        .code(2)
        .stderr(contains("no config names given, and no .authcfg.toml"));
    // The direnv line (.envrc): eval of `export` in the project.
    let direnv = || {
        let mut c = std::process::Command::new("bash");
        t.apply(&mut c);
        c.current_dir(&deep)
            .env("PATH", path_with_bin())
            .args([
                "-c",
                "eval \"$(authcfg export --format env)\"; printf %s \"${STRIPE_KEY-unset}\"",
            ])
            .output()
            .unwrap()
    };
    assert_eq!(
        String::from_utf8_lossy(&direnv().stdout),
        "sk-dev-planted-41"
    );
    // A pull that changes only the project file: direnv's own approval of
    // .envrc still holds, authcfg's does not, and nothing is loaded.
    std::fs::write(
        repo.join(".authcfg.toml"),
        FILE.replace("dev/stripe/api_key", "prod/stripe/api_key"),
    )
    .unwrap();
    let out = direnv();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "unset");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("changed since you allowed it"), "{err}");
    assert!(err.contains("authcfg project allow "), "{err}");
}

/// PATH with the directory of the binary under test first.
fn path_with_bin() -> String {
    let dir = Path::new(BIN).parent().unwrap().display().to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

#[test]
fn project_check_tells_what_does_not_resolve_without_values() {
    let (t, repo) = setup();
    std::fs::write(
        repo.join(".authcfg.toml"),
        r#"
[env]
OK_KEY = "authcfg://dev/stripe/api_key"
MISSING = "authcfg://nope/api_key"
NO_FIELD = "authcfg://dev/stripe/secret"
HIDDEN = "authcfg://dev/stripe/tls_ca"
[configs]
default = ["dev/db", "ghost/db"]
"#,
    )
    .unwrap();
    let out = t
        .cmd()
        .current_dir(&repo)
        .args(["project", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "ok   default  OK_KEY    authcfg://dev/stripe/api_key: resolves",
        "FAIL default  MISSING   authcfg://nope/api_key: there is no config named 'nope'",
        "FAIL default  NO_FIELD  authcfg://dev/stripe/secret: 'dev/stripe' has no field 'secret'",
        "is never handed out to programs",
        "FAIL default  *         ghost/db: there is no config named 'ghost/db'",
        "ok   default  *         dev/db: 2 variable(s)",
    ] {
        assert!(text.contains(want), "{want:?} not in\n{text}");
    }
    assert_clean(
        "project check",
        &out.stdout,
        &["sk-dev-planted-41", "db-pw-planted-43"],
    );
    let json = json_in_status(&t, &repo, &["project", "check", "--json"]);
    assert_eq!(json["ok"], false);
    assert_eq!(json["references"].as_array().unwrap().len(), 6);
    // check records no use.
    assert!(!t.store.join("usage.log").exists());
}

fn json_in_status(t: &T, dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = t.cmd().current_dir(dir).args(args).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_project_file_cannot_hold_secrets_or_reach_outside_the_store() {
    let (t, repo) = setup();
    for (body, why) in [
        (
            "[env]\nSTRIPE_KEY = \"sk_live_51H8abcdefghijklmnopqrstuvwx\"\n",
            "looks like a Stripe live secret key",
        ),
        (
            "[env]\nGH = \"ghp_16C7e42F292c6912E7710c838347Ae178B4a\"\n",
            "GitHub personal access token",
        ),
        (
            "[env]\nAWS_ACCESS_KEY_ID = \"AKIAIOSFODNN7EXAMPLE\"\n",
            "AWS access key id",
        ),
        (
            "[env]\nKEY = \"-----BEGIN RSA PRIVATE KEY-----\"\n",
            "private key",
        ),
        (
            "[env]\nDATABASE_URL = \"postgres://app:hunter2@db/app\"\n",
            "URL with a password",
        ),
        (
            "[env]\nTOKEN = \"Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZkdISUo\"\n",
            "random-looking",
        ),
        (
            "[env]\nLD_PRELOAD = \"/tmp/evil.so\"\n",
            "changes how programs start",
        ),
        (
            "[env]\nPATH = \"authcfg://dev/stripe/api_key\"\n",
            "changes how programs start",
        ),
        ("[env]\nX = \"authcfg://../../../etc/passwd/x\"\n", ".."),
        ("[configs]\ndefault = [\"/etc/passwd\"]\n", ""),
        ("[secrets]\nX = \"y\"\n", "unknown key"),
    ] {
        std::fs::write(repo.join(".authcfg.toml"), body).unwrap();
        let out = t
            .cmd()
            .current_dir(&repo)
            .args(["export", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{body}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{body}: {err}");
        assert!(err.contains(".authcfg.toml"), "{err}");
        assert!(out.stdout.is_empty());
    }
    // A FIFO in place of the file does not hang.
    std::fs::remove_file(repo.join(".authcfg.toml")).unwrap();
    let fifo = std::ffi::CString::new(repo.join(".authcfg.toml").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    t.cmd()
        .current_dir(&repo)
        .args(["export"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(contains("not a regular file"));
}

/// Runs a script in a real shell with the test's environment; returns stdout.
fn shell(t: &T, sh: &str, script: &str, home: &Path) -> (String, String) {
    let mut c = std::process::Command::new(sh);
    t.apply(&mut c);
    let out = c
        .env("PATH", path_with_bin())
        .env("XDG_STATE_HOME", home.join("state"))
        .args(["-c", script])
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_hook_loads_on_cd_and_restores_on_the_way_out() {
    let (t, repo) = setup();
    let deep = repo.join("deep/er").display().to_string();
    let out_dir = t.dir.path().display().to_string();
    let root = repo.display().to_string();
    let state = t.dir.path().to_path_buf();
    let bash_zsh = |sh: &str| {
        format!(
            r#"eval "$(authcfg hook {sh})"
export STRIPE_KEY=mine
cd {deep}; _authcfg_hook
echo "before: $STRIPE_KEY ${{LOG_LEVEL-unset}}"
(cd {root} && authcfg project allow)
_authcfg_hook
echo "in: $STRIPE_KEY $LOG_LEVEL $DEV_DB_PASSWORD"
_authcfg_hook
echo "again: $STRIPE_KEY"
cd {out_dir}; _authcfg_hook
echo "out: $STRIPE_KEY ${{LOG_LEVEL-unset}} ${{DEV_DB_PASSWORD-unset}} ${{AUTHCFG_PROJECT_STATE-unset}}"
printf '\n' >> {root}/.authcfg.toml
cd {deep}; _authcfg_hook
echo "changed: $STRIPE_KEY"
(cd {root} && authcfg project deny)
"#
        )
    };
    for sh in ["bash", "zsh"] {
        let (out, err) = shell(&t, sh, &bash_zsh(sh), &state);
        assert_eq!(
            out,
            "before: mine unset\nin: sk-dev-planted-41 debug db-pw-planted-43\nagain: sk-dev-planted-41\nout: mine unset unset unset\nchanged: mine\n",
            "{sh}: {err}"
        );
        assert!(err.contains("authcfg project allow"), "{sh}: {err}");
        assert!(err.contains("loaded 4 variable(s)"), "{sh}: {err}");
        assert!(err.contains("unloaded 4 variable(s)"), "{sh}: {err}");
        assert!(err.contains("changed since you allowed it"), "{sh}: {err}");
        // Put the file back for the next shell.
        std::fs::write(repo.join(".authcfg.toml"), FILE).unwrap();
    }
    let fish = format!(
        r#"authcfg hook fish | source
set -gx STRIPE_KEY mine
cd {root}; authcfg project allow 2>/dev/null
cd {deep}
echo "in: $STRIPE_KEY $LOG_LEVEL $DEV_DB_PASSWORD"
cd {out_dir}
echo "out: $STRIPE_KEY" (set -q LOG_LEVEL; and echo set; or echo unset)
"#
    );
    let (out, err) = shell(&t, "fish", &fish, &state);
    assert_eq!(
        out, "in: sk-dev-planted-41 debug db-pw-planted-43\nout: mine unset\n",
        "fish: {err}"
    );
    // The hook's uses are recorded for the project.
    let list: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    let dev_db = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "dev/db")
        .unwrap();
    assert_eq!(dev_db["connections"], 1, "{dev_db}");
}
