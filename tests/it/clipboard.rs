//! `show --copy FIELD`: the value on a real X11 clipboard (Xvfb, read back
//! with xclip), never on a command line, cleared after `--clear-after`;
//! without a display a clear error.

use crate::support::*;
use predicates::prelude::*;
use predicates::str::contains;
use std::io::BufRead;
use std::process::{Command, Stdio};

const KEY: &str = "sk_test_Clipboard7Value42xyz";

/// An X server of its own: `-displayfd` says its number once it accepts
/// connections.
fn xvfb() -> (services::Guard, String) {
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-nolisten",
            "tcp",
            "-screen",
            "0",
            "320x200x24",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb (scripts/setup installs it)");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let n: u32 = line.trim().parse().expect("a display number");
    (services::Guard(child), format!(":{n}"))
}

/// What the clipboard holds (xclip), or None when it holds nothing.
fn clipboard(display: &str) -> Option<String> {
    let out = Command::new("xclip")
        .args(["-selection", "clipboard", "-o"])
        .env("DISPLAY", display)
        .stderr(Stdio::null())
        .output()
        .expect("xclip (scripts/setup installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

#[test]
fn a_copied_secret_is_on_the_clipboard_then_cleared() {
    let (_x, display) = xvfb();
    let t = T::new();
    t.init();
    t.add("api-key", "stripe", &[], Some(("api_key", KEY)))
        .success();
    t.cmd()
        .args(["show", "stripe", "--copy", "api_key", "--clear-after", "2"])
        .env("DISPLAY", &display)
        .env_remove("WAYLAND_DISPLAY")
        .assert()
        .success()
        .stderr(contains(
            "Copied stripe's api_key to the clipboard; cleared in 2 s",
        ))
        .stderr(contains(KEY).not());
    assert_eq!(clipboard(&display).as_deref(), Some(KEY));
    // The holder got the value through a pipe: no command line shows it.
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            assert!(
                !String::from_utf8_lossy(&cmdline).contains(KEY),
                "a command line holds the secret"
            );
        }
    }
    // Cleared once the time is up (bounded: 15 s).
    let until = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while clipboard(&display).as_deref() == Some(KEY) {
        assert!(std::time::Instant::now() < until, "still on the clipboard");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The copy is in the audit trail, the value is not.
    let log = t.stdout(&["log"]);
    assert!(log.contains("copy") && !log.contains(KEY), "{log}");
    // An unknown field is named, with the config's fields.
    t.cmd()
        .args(["show", "stripe", "--copy", "apikey"])
        .env("DISPLAY", &display)
        .assert()
        .code(2)
        .stderr(contains("did you mean 'api_key'"));
}

#[test]
fn without_a_display_the_copy_says_why() {
    let t = T::new();
    t.init();
    t.add("api-key", "stripe", &[], Some(("api_key", KEY)))
        .success();
    t.cmd()
        .args(["show", "stripe", "--copy", "api_key"])
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .assert()
        .failure()
        .stderr(contains("cannot copy to the clipboard"))
        .stderr(contains("graphical session"))
        .stderr(contains(KEY).not());
}
