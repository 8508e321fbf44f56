//! `exec --mask` at a terminal: authcfg runs on a real pseudo-terminal
//! made here (rustix's pty), and puts the command on one of its own
//! (`ops::run::pty`): the command sees a terminal of the same size, follows
//! a resize, reads a password without echo, gets Ctrl-C, and its exit
//! status is authcfg's; what it prints is masked; the terminal's mode is
//! back when authcfg ends.

use crate::support::*;
use rustix::termios::{self, LocalModes, Winsize};
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "key-Pty-Masked-62018";

/// authcfg on a pty of `rows` x `cols` this test holds both sides of.
struct Term {
    master: std::fs::File,
    slave: OwnedFd,
    seen: Arc<Mutex<Vec<u8>>>,
    child: std::process::Child,
}

impl Term {
    fn start(t: &T, rows: u16, cols: u16, args: &[&str]) -> Term {
        use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
        let master =
            openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let slave = rustix::fs::open(
            name.as_c_str(),
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        termios::tcsetwinsize(&slave, size(rows, cols)).unwrap();
        let mut c = t.std_cmd();
        c.args(args)
            .stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave.try_clone().unwrap());
        // SAFETY: system calls only, between fork and exec.
        unsafe {
            c.pre_exec(|| {
                rustix::process::setsid()?;
                rustix::process::ioctl_tiocsctty(BorrowedFd::borrow_raw(0))?;
                Ok(())
            });
        }
        let child = c.spawn().unwrap();
        let master = std::fs::File::from(master);
        let seen = Arc::new(Mutex::new(vec![]));
        let (mut r, s) = (master.try_clone().unwrap(), seen.clone());
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Term {
            master,
            slave,
            seen,
            child,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Waits (bounded) until the screen shows `what`; the screen so far.
    fn wait_for(&self, what: &str) -> String {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.text();
            if s.contains(what) {
                return s;
            }
            assert!(Instant::now() < until, "no {what:?} on the screen:\n{s}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn keys(&mut self, k: &[u8]) {
        self.master.write_all(k).unwrap();
    }

    /// authcfg's exit code (bounded wait).
    fn exit(&mut self) -> i32 {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < until,
                "authcfg did not end:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn slave(&self) -> BorrowedFd<'_> {
        self.slave.as_fd()
    }
}

fn size(rows: u16, cols: u16) -> Winsize {
    Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

/// `authcfg exec --mask CONFIG -- sh -c SCRIPT` on a 24×80 terminal.
fn masked_sh(t: &T, config: &str, script: &str) -> Term {
    Term::start(
        t,
        24,
        80,
        &["exec", "--mask", config, "--", "sh", "-c", script],
    )
}

fn with_key() -> T {
    let t = T::new();
    t.init();
    t.add(
        "api-key",
        "k",
        &["test_url=https://api.example.com/", "key_name=X-Key"],
        Some(("api_key", KEY)),
    )
    .success();
    t
}

const SCRIPT: &str = r#"
test -t 0 && test -t 1 && test -t 2 && echo "tty: yes"
echo "size: $(stty size)"
echo "key: $K_API_KEY"
read -s -p "Password: " pw; echo; echo "got ${#pw} chars"
trap 'echo "resized: $(stty size)"' WINCH
echo ready
while :; do sleep 0.05; done
"#;

#[test]
fn a_masked_command_at_a_terminal_gets_a_pty_of_its_own() {
    let t = with_key();
    let mut term = Term::start(
        &t,
        31,
        101,
        &["exec", "--mask", "k", "--", "bash", "-c", SCRIPT],
    );
    let before = termios::tcgetattr(term.slave()).unwrap();
    assert!(before
        .local_modes
        .contains(LocalModes::ECHO | LocalModes::ICANON));
    let s = term.wait_for("Password: ");
    assert!(s.contains("tty: yes"), "{s}");
    assert!(s.contains("size: 31 101"), "{s}");
    assert!(s.contains("key: [REDACTED:k/api_key]"), "{s}");
    // authcfg's terminal is in raw mode while the command runs.
    let during = termios::tcgetattr(term.slave()).unwrap();
    assert!(!during.local_modes.contains(LocalModes::ECHO), "not raw");
    // The password is read without echo (the command's pty has echo off;
    // ours is raw, so it echoes nothing either).
    term.keys(b"hunter22\r");
    let s = term.wait_for("got 8 chars");
    assert!(!s.contains("hunter22"), "the password was echoed:\n{s}");
    term.wait_for("ready");
    // A resize reaches the command (SIGWINCH to authcfg, the new size on
    // the command's pty, SIGWINCH to the command).
    termios::tcsetwinsize(term.slave(), size(40, 120)).unwrap();
    term.wait_for("resized: 40 120");
    // Ctrl-C is the command's: it ends by SIGINT, authcfg exits 128 + 2.
    term.keys(b"\x03");
    assert_eq!(term.exit(), 130, "{}", term.text());
    let after = termios::tcgetattr(term.slave()).unwrap();
    assert_eq!(after.local_modes, before.local_modes, "mode not restored");
    assert_eq!(after.input_modes, before.input_modes, "mode not restored");
    assert_clean("screen", term.text().as_bytes(), &[KEY]);
}

#[test]
fn keys_echo_at_once_and_the_exit_status_is_the_commands() {
    let t = with_key();
    let mut term = Term::start(&t, 24, 80, &["exec", "--mask", "k", "--", "cat"]);
    // cat is on a terminal: the pty echoes each key (through the masker).
    let mut waits = vec![];
    for (i, k) in b"abcdefghijklmnopqrst".iter().enumerate() {
        let shown = term.text().len();
        let t0 = Instant::now();
        term.keys(&[*k]);
        let until = t0 + Duration::from_secs(10);
        while term.text().len() <= shown {
            assert!(
                Instant::now() < until,
                "key {i} not echoed: {}",
                term.text()
            );
            std::hint::spin_loop();
        }
        waits.push(t0.elapsed());
    }
    waits.sort();
    eprintln!(
        "echo through the masked pty: median {:?}, max {:?}",
        waits[waits.len() / 2],
        waits[waits.len() - 1]
    );
    term.keys(b"\r");
    term.wait_for("abcdefghijklmnopqrst\r\nabcdefghijklmnopqrst");
    // Ctrl-D: end of input, cat ends, exit status 0.
    term.keys(b"\x04");
    assert_eq!(term.exit(), 0, "{}", term.text());
    let mut term = masked_sh(&t, "k", "echo \"$K_API_KEY\"; exit 7");
    assert_eq!(term.exit(), 7);
    term.wait_for("[REDACTED:k/api_key]");
    assert_clean("screen", term.text().as_bytes(), &[KEY]);
}

/// A command that stops (SIGSTOP) is followed: authcfg gives the terminal
/// its mode back and stops itself (here, a session leader with no job
/// control above it, it is not stopped: the kernel ignores SIGTSTP for an
/// orphaned process group), then takes raw mode back and continues the
/// command, which would otherwise stay stopped for ever.
#[test]
fn a_stopped_command_is_continued_with_authcfg() {
    let t = with_key();
    let mut term = masked_sh(
        &t,
        "k",
        "echo started; kill -STOP $$; echo continued; exit 3",
    );
    term.wait_for("continued");
    assert_eq!(term.exit(), 3, "{}", term.text());
}

const PEM: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\n\
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n\
QyNTUxOQAAACDnPtyLineTwoSecretMaterial0123456789abcdefABCDEFxyzXYZ000\n\
-----END OPENSSH PRIVATE KEY-----";

/// An ssh connector's private key, several lines: the pty's line
/// discipline (ONLCR) writes each `\n` as `\r\n`, and the key is still
/// masked whole.
#[test]
fn a_multi_line_secret_is_masked_on_the_pty() {
    let t = T::new();
    t.init();
    t.cmd()
        .args(["add", "connector", "sftp", "--name", "box", "--no-test"])
        .args(["--set", "host=127.0.0.1", "--set", "username=u"])
        .args(["--secret-stdin", "private_key"])
        .write_stdin(format!("{PEM}\n"))
        .assert()
        .success();
    let mut term = masked_sh(&t, "box", "env | grep -c 'BEGIN OPENSSH' >/dev/null && for v in $(env | sed -n 's/=-----BEGIN OPENSSH.*//p'); do printenv \"$v\"; done; echo done");
    assert_eq!(term.exit(), 0, "{}", term.text());
    let s = term.wait_for("done");
    assert!(s.contains("[REDACTED:box/private_key]"), "{s}");
    for line in PEM.lines().skip(1).take(2) {
        assert!(!s.contains(line), "a key line on the screen:\n{s}");
    }
}

/// authcfg ended by a signal whose default action kills it (SIGUSR1)
/// while the command runs: the terminal's mode is back all the same.
#[test]
fn a_fatal_signal_to_authcfg_restores_the_terminal() {
    let t = with_key();
    let mut term = masked_sh(&t, "k", "echo ready; exec cat");
    let before = termios::tcgetattr(term.slave()).unwrap();
    term.wait_for("ready");
    let until = Instant::now() + Duration::from_secs(10);
    while termios::tcgetattr(term.slave())
        .unwrap()
        .local_modes
        .contains(LocalModes::ECHO)
    {
        assert!(Instant::now() < until, "never raw");
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: kill(2) on the authcfg this test started.
    unsafe {
        libc::kill(term.child.id() as libc::pid_t, libc::SIGUSR1);
    }
    assert_eq!(term.exit(), -1, "not ended by the signal");
    let after = termios::tcgetattr(term.slave()).unwrap();
    assert!(
        after
            .local_modes
            .contains(LocalModes::ECHO | LocalModes::ICANON),
        "left raw"
    );
    assert_eq!(after.local_modes, before.local_modes, "mode not restored");
}
