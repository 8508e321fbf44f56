//! Whole-output tests of what a person reads (issue: "a change of wording
//! or layout is seen in review"): `--help` of every command, `list`,
//! `show`, `test` and `doctor` at a terminal of 80 and 120 columns and into
//! a pipe, and the error of each exit code, as insta snapshots under
//! `tests/it/snapshots/`. A changed output fails here; review the new
//! `.snap.new` and accept it with `INSTA_UPDATE=always` (or `cargo insta
//! accept`). What varies from run to run (temporary paths, keys,
//! fingerprints, latencies) is replaced by a placeholder first.

use crate::support::*;
use std::process::Stdio;

/// Placeholders for what differs between runs.
fn filters(t: &T) -> Vec<(String, &'static str)> {
    vec![
        (regex_escape(&t.dir.path().display().to_string()), "[TMP]"),
        (r"age1[0-9a-z]{58}".into(), "[AGE-PUBLIC-KEY]"),
        (r"SHA256:[A-Za-z0-9+/]{43}".into(), "[FINGERPRINT]"),
        (r"\b\d+ ms *".into(), "[N] ms "),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z".into(), "[TIME]"),
        (r"127\.0\.0\.1:\d{2,5}".into(), "127.0.0.1:[PORT]"),
        (r"authcfg \d+\.\d+\.\d+".into(), "authcfg [VERSION]"),
        // The progress bar at a terminal redraws (carriage returns) as time
        // passes: its frames are left out (lines already end in `\n`).
        (r"[^\n]*\r".into(), ""),
        (r"\x1b\[2K".into(), ""),
    ]
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

macro_rules! snap {
    ($t:expr, $name:expr, $value:expr) => {{
        let f = filters($t);
        let f: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), *b)).collect();
        insta::with_settings!({filters => f, prepend_module_to_snapshot => false, omit_expression => true}, {
            let name: String = ::std::string::ToString::to_string(&$name);
            let name: &str = &name;
            let value: String = ::std::string::ToString::to_string(&$value);
            insta::assert_snapshot!(name, value);
        });
    }};
}

/// What `args` writes to a terminal of `cols` columns (a real pty, made
/// by util-linux `script`, sized with `stty`), stdout and stderr as one
/// screen.
fn at_terminal(t: &T, cols: u16, args: &[&str]) -> String {
    let quoted: Vec<String> = args
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let inner = format!(
        "stty rows 50 cols {cols}; exec {} {}",
        env!("CARGO_BIN_EXE_authcfg"),
        quoted.join(" ")
    );
    let mut c = std::process::Command::new("script");
    t.apply(&mut c);
    let out = c
        .args(["-qec", &inner, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux)");
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

/// What `args` writes into pipes: its exit code, stdout and stderr.
fn piped(t: &T, args: &[&str]) -> String {
    let out = t.cmd().args(args).output().unwrap();
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A store with one config of each kind a listing shows differently:
/// a tested API key, one with nothing to probe, a basic one whose test
/// fails (its server refuses the connection), and a long name.
fn sample() -> T {
    let t = T::new();
    t.init();
    t.add(
        "api-key",
        "stripe",
        &["key_name=Authorization", "location=header"],
        Some(("api_key", "sk_test_1234567890abcdef")),
    )
    .success();
    t.add("none", "public/status-page", &[], None).success();
    let refused = format!("http://127.0.0.1:{}/check", services::closed_port());
    t.add(
        "basic",
        "prod/billing-database-replica-readonly",
        &["username=report", &format!("test_url={refused}")],
        Some(("password", "hunter2-hunter2")),
    )
    .success();
    t
}

#[test]
fn help_of_every_command() {
    let t = T::new();
    let mut seen = 0;
    let mut stack: Vec<(Vec<String>, clap::Command)> = vec![(vec![], authcfg::cli::command())];
    while let Some((path, cmd)) = stack.pop() {
        for sub in cmd.get_subcommands() {
            if sub.is_hide_set() || sub.get_name() == "help" {
                continue;
            }
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            stack.push((p, sub.clone()));
        }
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = t.cmd().env("COLUMNS", "100").args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let name = if path.is_empty() {
            "help".to_string()
        } else {
            format!("help-{}", path.join("-"))
        };
        snap!(&t, &name, String::from_utf8_lossy(&out.stdout));
        seen += 1;
    }
    assert!(seen > 40, "only {seen} commands");
}

#[test]
fn list_at_80_and_120_columns_and_piped() {
    let t = sample();
    snap!(&t, "list-80", at_terminal(&t, 80, &["list"]));
    snap!(&t, "list-120", at_terminal(&t, 120, &["list"]));
    snap!(&t, "list-piped", piped(&t, &["list"]));
}

#[test]
fn show_at_80_and_120_columns_and_piped() {
    let t = sample();
    snap!(&t, "show-80", at_terminal(&t, 80, &["show", "stripe"]));
    snap!(&t, "show-120", at_terminal(&t, 120, &["show", "stripe"]));
    snap!(&t, "show-piped", piped(&t, &["show", "stripe"]));
}

#[test]
fn test_at_80_and_120_columns_and_piped() {
    let t = sample();
    let names = [
        "test",
        "public/status-page",
        "prod/billing-database-replica-readonly",
    ];
    snap!(&t, "test-80", at_terminal(&t, 80, &names));
    snap!(&t, "test-120", at_terminal(&t, 120, &names));
    snap!(&t, "test-piped", piped(&t, &names));
}

#[test]
fn doctor_at_80_and_120_columns_and_piped() {
    let t = sample();
    snap!(&t, "doctor-80", at_terminal(&t, 80, &["doctor"]));
    snap!(&t, "doctor-120", at_terminal(&t, 120, &["doctor"]));
    snap!(&t, "doctor-piped", piped(&t, &["doctor"]));
    // A config whose last test failed is not "ok" in doctor's eyes.
    t.cmd()
        .args(["test", "prod/billing-database-replica-readonly"])
        .assert()
        .code(4);
    let out = t.cmd().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("WARN last tests")
            && text.contains("prod/billing-database-replica-readonly (error)"),
        "{text}"
    );
}

#[test]
fn connectors_at_80_columns() {
    let t = T::new();
    snap!(
        &t,
        "connectors-postgres-80",
        at_terminal(&t, 80, &["connectors", "postgres"])
    );
}

#[test]
fn colour_at_a_terminal_and_none_with_no_color() {
    let mut t = sample();
    t.env("TERM", "xterm-256color");
    // NO_COLOR wins (the test environment sets it): no escape at all.
    assert!(!at_terminal(&t, 120, &["list"]).contains('\u{1b}'));
    // Without it, a terminal gets colour, a pipe none.
    let mut c = std::process::Command::new("script");
    t.apply(&mut c);
    let inner = format!(
        "stty rows 50 cols 120; exec {} list",
        env!("CARGO_BIN_EXE_authcfg")
    );
    let out = c
        .env_remove("NO_COLOR")
        .args(["-qec", &inner, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    snap!(&t, "list-colour", screen);
    assert!(screen.contains("\u{1b}[33mUntested"), "{screen}");
    let piped = t.cmd().env_remove("NO_COLOR").arg("list").output().unwrap();
    assert!(!String::from_utf8_lossy(&piped.stdout).contains('\u{1b}'));
    // CLICOLOR_FORCE colours a pipe too.
    let forced = t
        .cmd()
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .arg("list")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&forced.stdout).contains('\u{1b}'));
}

/// One error of each documented exit code, as a person sees it.
#[test]
fn the_error_of_each_exit_code() {
    let t = sample();
    let mut all = String::new();
    let issuer = format!("http://127.0.0.1:{}/", services::closed_port());
    let cases: [(&str, Vec<&str>, i32); 6] = [
        ("usage", vec!["show"], 2),
        (
            "usage: unknown field",
            vec!["show", "stripe", "--field", "apikey"],
            2,
        ),
        ("not found", vec!["show", "strip"], 3),
        (
            "test failed",
            vec!["test", "prod/billing-database-replica-readonly"],
            4,
        ),
        ("no key", vec!["list"], 5),
        (
            "OAuth failed",
            vec![
                "add",
                "oauth2",
                "custom",
                "--name",
                "sso",
                "--issuer",
                &issuer,
                "--client-id",
                "c",
            ],
            6,
        ),
    ];
    for (what, args, code) in cases {
        let out = if what == "no key" {
            let mut bare = T::bare();
            bare.store = t.store.clone();
            bare.cmd().args(&args).output().unwrap()
        } else {
            t.cmd().args(&args).output().unwrap()
        };
        assert_eq!(out.status.code(), Some(code), "{what}: {args:?}");
        all.push_str(&format!(
            "== {what}: authcfg {} (exit {code})\n{}\n",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // A failure that is none of those classes: a file where the store's
    // directory should be.
    let mut odd = T::new();
    odd.store = odd.dir.path().join("a-file");
    std::fs::write(&odd.store, "not a store").unwrap();
    let out = odd.cmd().arg("list").output().unwrap();
    all.push_str(&format!(
        "== another failure: authcfg list (exit {})\n{}\n",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr)
            .replace(&odd.dir.path().display().to_string(), "[TMP2]")
    ));
    snap!(&t, "errors", all);
}
