//! Forms that forgive (issue 20, item 6), driven through a real terminal
//! (rexpect), and the rule that nothing prints while the writer lock is
//! held (issue 19, item 2).

use crate::support::services::RedisUser;
use crate::support::*;
use rexpect::session::{spawn_command, PtySession};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

const TIMEOUT: Option<u64> = Some(30_000);
const DOWN: &str = "\x1b[B";

fn key(p: &mut PtySession, keys: &str) {
    p.send(keys).unwrap();
    p.flush().unwrap();
}

fn show(t: &T, name: &str) -> serde_json::Value {
    serde_json::from_str(&t.stdout(&["show", name, "--json", "--reveal"])).unwrap()
}

/// A redis connector whose password is asked at the terminal; the test
/// is then run against the real server.
fn add_redis(t: &T, name: &str, user: &str) -> PtySession {
    let mut cmd = t.std_cmd();
    cmd.args([
        "add",
        "connector",
        "redis",
        "--name",
        name,
        "--set",
        "host=127.0.0.1",
        "--set",
        "port=6379",
        "--set",
        &format!("username={user}"),
        "--set",
        "database=0",
        "--set",
        "tls=false",
    ]);
    spawn_command(cmd, TIMEOUT).unwrap()
}

/// After a failed connection test at the end of the form, the fields are
/// kept: fix the failing one and test again, save untested, or quit.
#[test]
fn a_failed_connector_test_offers_to_fix_the_field_save_or_quit() {
    let t = T::new();
    t.init();
    let user = RedisUser::create("forms-Right-pw-1");

    // Fix the password and test again: saved, tested, right password.
    let mut p = add_redis(&t, "fixed", &user.0);
    p.exp_string("Password").unwrap();
    p.send_line("forms-wrong-pw").unwrap();
    p.exp_string("Connection test failed: authentication failed")
        .unwrap();
    p.exp_string("What now?").unwrap();
    p.exp_string("Fix a field and test again").unwrap();
    key(&mut p, "\r");
    // The field the failure points at comes first, marked.
    p.exp_string("Which field?").unwrap();
    let (_, first) = p.exp_regex(r"password = [^\r\n]*").unwrap();
    assert!(first.contains("likely"), "{first}");
    key(&mut p, "\r");
    p.exp_string("Enter keeps the current value").unwrap();
    p.send_line("forms-Right-pw-1").unwrap();
    p.exp_string("Connection test passed").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Added 'fixed'"), "{rest}");
    let j = show(&t, "fixed");
    assert_eq!(j["config"]["password"], "forms-Right-pw-1");
    assert_eq!(j["config"]["username"], user.0.as_str());
    assert_eq!(j["authcfg"]["last_test"]["ok"], true, "{j}");

    // Save it untested (the effect of --no-test): saved with no test result.
    let mut p = add_redis(&t, "untested", &user.0);
    p.exp_string("Password").unwrap();
    p.send_line("forms-wrong-pw").unwrap();
    p.exp_string("What now?").unwrap();
    key(&mut p, DOWN);
    key(&mut p, "\r");
    p.exp_string("Saving it untested").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Added 'untested'"), "{rest}");
    let j = show(&t, "untested");
    assert_eq!(j["config"]["password"], "forms-wrong-pw");
    assert!(j["authcfg"]["last_test"].is_null(), "{j}");

    // Quit: nothing saved, exit 4 as before.
    let mut p = add_redis(&t, "quit", &user.0);
    p.exp_string("Password").unwrap();
    p.send_line("forms-wrong-pw").unwrap();
    p.exp_string("What now?").unwrap();
    key(&mut p, DOWN);
    key(&mut p, DOWN);
    key(&mut p, "\r");
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("nothing was saved"), "{rest}");
    t.cmd().args(["show", "quit"]).assert().code(3);

    // Without a terminal the old answer stands: exit 4, nothing saved.
    t.cmd()
        .args([
            "add",
            "connector",
            "redis",
            "--name",
            "piped",
            "--set",
            "host=127.0.0.1",
        ])
        .args(["--set", &format!("username={}", user.0)])
        .args(["--secret-stdin", "password"])
        .write_stdin("forms-wrong-pw")
        .assert()
        .code(4)
        .stderr(predicates::str::contains("nothing was saved"));
    // Nothing typed was echoed anywhere in the trail.
    assert_clean(
        "audit",
        &std::fs::read(t.store.join("audit.jsonl")).unwrap(),
        &["forms-wrong-pw", "forms-Right-pw-1"],
    );
}

/// A required field left empty is asked again, and the form says why.
#[test]
fn an_empty_required_field_is_asked_again_with_the_reason() {
    let t = T::new();
    t.init();
    let mut cmd = t.std_cmd();
    cmd.args(["add", "custom", "basic"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("Name for this config").unwrap();
    p.send_line("").unwrap();
    p.exp_string("required: cannot be empty").unwrap();
    p.send_line("b").unwrap();
    p.exp_string("username").unwrap();
    p.send_line("").unwrap();
    p.exp_string("required: cannot be empty").unwrap();
    p.send_line("alice").unwrap();
    p.exp_string("password").unwrap();
    p.send_line("").unwrap();
    p.exp_string("required: cannot be empty").unwrap();
    p.send_line("forms-basic-pw").unwrap();
    p.exp_string("test_url").unwrap();
    p.send_line("").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Added 'b'"), "{rest}");
    assert_eq!(show(&t, "b")["config"]["password"], "forms-basic-pw");
}

/// `--secret-stdin` at a terminal asks hidden instead of echoing what is
/// typed.
#[test]
fn secret_stdin_at_a_terminal_prompts_hidden() {
    let t = T::new();
    t.init();
    let mut cmd = t.std_cmd();
    cmd.args([
        "add",
        "custom",
        "bearer",
        "--name",
        "tok",
        "--secret-stdin",
        "token",
    ]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("token (hidden)").unwrap();
    p.send_line("forms-typed-token").unwrap();
    // Standard input is the terminal: the rest of the form is asked too.
    p.exp_string("header_name").unwrap();
    p.send_line("").unwrap();
    p.exp_string("prefix").unwrap();
    p.send_line("").unwrap();
    p.exp_string("test_url").unwrap();
    p.send_line("").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Added 'tok'"), "{rest}");
    assert!(!rest.contains("forms-typed-token"), "echoed: {rest}");
    assert_eq!(show(&t, "tok")["config"]["token"], "forms-typed-token");
}

/// An editor script: records the file's mode and content, then applies
/// `sed` to it.
fn editor(t: &T, sed: &str) -> String {
    let dir = t.dir.path();
    let script = dir.join("editor.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nstat -c %a \"$1\" > {d}/mode\ncp \"$1\" {d}/seen.toml\nsed -i '{sed}' \"$1\"\n",
            d = dir.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    script.display().to_string()
}

/// `edit NAME` alone at a terminal: the non-secret fields in $EDITOR (a
/// 0600 file without secrets), validated, the changes shown, a changed
/// secret asked hidden. Piped, it still says what to pass.
#[test]
fn edit_alone_opens_the_editor_on_the_non_secret_fields() {
    let t = T::new();
    t.init();
    t.add(
        "basic",
        "legacy",
        &["username=alice", "test_url=https://old.example/ping"],
        Some(("password", "forms-old-pw")),
    )
    .success();

    let mut cmd = t.std_cmd();
    cmd.env_remove("VISUAL").env(
        "EDITOR",
        editor(&t, "s/^username = .*/username = \"bob\"/; /^test_url/d"),
    );
    cmd.args(["edit", "legacy"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("Change password (a secret) too?").unwrap();
    key(&mut p, "y");
    p.exp_string("New password (hidden)").unwrap();
    p.send_line("forms-new-pw").unwrap();
    p.exp_string("Changes to 'legacy'").unwrap();
    // (rexpect reads bytes as Latin-1: the arrow between is not matched.)
    p.exp_string("username: alice ").unwrap();
    p.exp_string(" bob\r\n").unwrap();
    p.exp_string("test_url: removed").unwrap();
    p.exp_string("password: changed (secret)").unwrap();
    p.exp_string("Save these changes?").unwrap();
    key(&mut p, "y");
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Updated 'legacy'"), "{rest}");
    let dir = t.dir.path();
    assert_eq!(
        std::fs::read_to_string(dir.join("mode")).unwrap().trim(),
        "600"
    );
    let seen = std::fs::read_to_string(dir.join("seen.toml")).unwrap();
    assert!(seen.contains("username = \"alice\""), "{seen}");
    assert!(
        !seen.contains("forms-old-pw"),
        "a secret in the file: {seen}"
    );
    let j = show(&t, "legacy");
    assert_eq!(j["config"]["username"], "bob");
    assert_eq!(j["config"]["password"], "forms-new-pw");
    assert!(j["config"].get("test_url").is_none(), "{j}");
    // The temp file is gone.
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            std::fs::read_to_string(e.path()).is_ok_and(|s| s.contains("authcfg edit legacy"))
        })
        .collect();
    assert!(left.is_empty(), "temp file left behind");

    // An invalid value is refused with the reason and nothing is saved
    // when the user does not edit again.
    let mut cmd = t.std_cmd();
    cmd.env_remove("VISUAL")
        .env("EDITOR", editor(&t, "s/^username = .*/usernme = \"x\"/"));
    cmd.args(["edit", "legacy"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("unknown field 'usernme'").unwrap();
    p.exp_string("did you mean 'username'").unwrap();
    p.exp_string("Edit the file again?").unwrap();
    key(&mut p, "n");
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("nothing was changed"), "{rest}");
    assert_eq!(show(&t, "legacy")["config"]["username"], "bob");

    // Not at a terminal: what to pass.
    t.cmd()
        .args(["edit", "legacy"])
        .env("EDITOR", "false")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nothing to change"))
        .stderr(predicates::str::contains("--set FIELD=VALUE"));
}

/// Reads what is in a pipe now, without waiting.
fn drain(fd: &impl AsRawFd) -> String {
    let raw = fd.as_raw_fd();
    unsafe {
        let flags = libc::fcntl(raw, libc::F_GETFL);
        libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let mut out = vec![];
    let mut buf = [0u8; 4096];
    loop {
        let n = unsafe { libc::read(raw, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
    unsafe {
        let flags = libc::fcntl(raw, libc::F_GETFL);
        libc::fcntl(raw, libc::F_SETFL, flags & !libc::O_NONBLOCK);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn wait_for(file: &Path, child: &mut std::process::Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !file.exists() {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(Instant::now() < deadline, "the command never got going");
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

/// Nothing is printed while the writer lock is held: each write is held
/// still at each of its durable steps (`AUTHCFG_FAULT_HOLD`, lock held),
/// and whatever the command wrote to stdout or stderr so far is read
/// from the pipes then: it must be nothing. What it says comes after.
#[test]
fn nothing_prints_while_the_writer_lock_is_held() {
    let t = T::new();
    t.init();
    let echo = echo::start("forms-k", "forms-t", "u", "forms-p");
    let url = echo.a.clone();
    t.add(
        "bearer",
        "b",
        &[&format!("test_url={url}/bearer")],
        Some(("token", "forms-t")),
    )
    .success();
    t.cmd()
        .args(["edit", "b", "--secret-stdin", "token"])
        .write_stdin("forms-t2")
        .assert()
        .success();
    let held = t.dir.path().join("held");
    let import = r#"[{"type":"bearer_token","name":"imp","config":{"token":"forms-i"}}]"#;
    let cases: Vec<(&str, Vec<&str>, Option<&str>, &str)> = vec![
        // The secret on the command line: its warning used to be printed
        // inside the lock.
        (
            "edit",
            vec!["edit", "b", "--set", "token=forms-t"],
            None,
            "Updated 'b'",
        ),
        ("rollback", vec!["rollback", "b"], None, "Rolled 'b' back"),
        ("test", vec!["test", "b"], None, "b"),
        (
            "add",
            vec![
                "add",
                "custom",
                "bearer",
                "--name",
                "c",
                "--force",
                "--secret-stdin",
                "token",
            ],
            Some("forms-c"),
            "Added 'c'",
        ),
        (
            "import",
            vec!["import", "-", "--force"],
            Some(import),
            "Imported 1",
        ),
        ("remove", vec!["remove", "b", "--yes"], None, "Removed 'b'"),
    ];
    for (what, args, stdin, said) in cases {
        let mut steps = 0;
        for k in 1.. {
            // Each step of a fresh copy of the command (remove: re-add).
            if what == "remove"
                && t.cmd().args(["show", "b"]).output().unwrap().status.code() == Some(3)
            {
                t.add(
                    "bearer",
                    "b",
                    &[&format!("test_url={url}/bearer")],
                    Some(("token", "forms-t")),
                )
                .success();
            }
            let mut child = t
                .std_cmd()
                .args(&args)
                .env("AUTHCFG_FAULT_HOLD", format!("{k}:{}", held.display()))
                .stdin(if stdin.is_some() {
                    std::process::Stdio::piped()
                } else {
                    std::process::Stdio::null()
                })
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            if let Some(input) = stdin {
                let mut w = child.stdin.take().unwrap();
                std::io::Write::write_all(&mut w, input.as_bytes()).unwrap();
            }
            let mut out = child.stdout.take().unwrap();
            let mut err = child.stderr.take().unwrap();
            let reached = wait_for(&held, &mut child);
            let (o, e) = (drain(&out), drain(&err));
            if reached {
                assert_eq!(
                    (o.as_str(), e.as_str()),
                    ("", ""),
                    "{what} printed while holding the lock (step {k})"
                );
                std::fs::remove_file(&held).unwrap();
            }
            let mut rest = o + &e;
            out.read_to_string(&mut rest).unwrap();
            err.read_to_string(&mut rest).unwrap();
            let status = child.wait().unwrap();
            assert!(
                status.success() || what == "test",
                "{what} step {k}: {rest}"
            );
            assert!(rest.contains(said), "{what}: {rest}");
            if !reached {
                break;
            }
            steps += 1;
        }
        assert!(steps >= 3, "{what}: only {steps} durable steps were held");
    }
}
